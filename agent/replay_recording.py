"""The replay's own recording: an ordinary episode, with the privacy hotkeys of
`deskmimic record` (pause, secret typing), so the person watching may take over and type
a password without it reaching the disk.

Two pauses meet in a recorded replay and stay distinct (docs/replay.md, "Pauses"): the
*takeover* pause of `deskmimic.agent.guards` (the person moved or typed; the agent keeps
its hands off; recording goes on) and the *recording* pause of the pause hotkey (nothing
is captured). The agent also holds still while the recording is paused: an action taken
then could not be reviewed, and a dry run would write the screen the person hid into
the episode's annotated screenshots.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from deskmimic.agent.abort import pynput_hotkey
from deskmimic.core.config import RecordConfig
from deskmimic.recorder.hotkey import check_distinct

if TYPE_CHECKING:
    from deskmimic.agent.guards import Guards
    from deskmimic.agent.runner import ReplayConfig
    from deskmimic.core.geometry import Rect
    from deskmimic.recorder.record import Recorder

logger = logging.getLogger(__name__)

_POLL_S = 0.02  # how soon the agent goes on after the recording resumes


def check_replay_hotkeys(abort_hotkey: str, pause_hotkey: str | None,
                         secret_hotkey: str | None) -> None:
    """Refuse a recorded replay whose abort chord is a privacy chord: the abort hotkey
    also stops the recording, and one chord cannot both stop and pause it.

    Raises:
        ConfigError: names ``--abort-hotkey`` and the chord it clashes with.
    """
    # The abort hotkey comes last so that the error names it, the one the replay sets.
    check_distinct({"--pause-hotkey": pause_hotkey, "--secret-hotkey": secret_hotkey,
                    "--abort-hotkey": pynput_hotkey(abort_hotkey)})


def open_replay_recorder(cfg: ReplayConfig, region: Rect, policy_name: str) -> Recorder:
    """Start recording ``region`` (screen pixels) for the replay ``cfg``; returns the
    running `Recorder` (its ``path`` is the episode folder)."""
    from deskmimic.recorder.record import Recorder

    rec = Recorder(RecordConfig(
        out=cfg.out, episodes_dir=cfg.episodes_dir, fps=cfg.fps, region=region,
        task=cfg.task, instruction=cfg.instruction, listen_input=True,
        stop_hotkey=pynput_hotkey(cfg.guards.abort_hotkey),
        pause_hotkey=cfg.pause_hotkey, secret_hotkey=cfg.secret_hotkey,
        extra_meta={"replay": {"dry_run": cfg.dry_run, "policy": policy_name}}))
    rec.start()
    return rec


def wait_while_recording_paused(recorder: Recorder | None, guards: Guards, deadline: float,
                                on_event: Callable[[dict], None] | None = None) -> bool:
    """Block while the replay's recording is paused (the pause hotkey), until it resumes,
    an abort or ``deadline`` (time.monotonic()). True if it had to wait.

    ``on_event`` hears ``{"event": "recording_paused", "reason": "pause_hotkey",
    "hotkey": ...}`` when the wait begins and ``{"event": "recording_resumed", ...,
    "waited_s": ...}`` when the recording resumes (not on an abort or the deadline), as
    the runner's ``pause``/``resume`` events report a takeover: without them the screen
    would show a resumed agent that does nothing.
    """
    if recorder is None or not recorder.paused:
        return False
    hotkey = recorder.cfg.pause_hotkey
    notify = on_event or (lambda _e: None)
    logger.warning("the replay's recording is paused: the agent waits until it resumes "
                   "(press the pause hotkey again)")
    t0 = time.monotonic()
    _notify(notify, {"event": "recording_paused", "reason": "pause_hotkey", "hotkey": hotkey})
    while recorder.paused and not guards.aborted and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    if not recorder.paused:
        logger.warning("the replay's recording resumed")
        _notify(notify, {"event": "recording_resumed", "reason": "pause_hotkey",
                         "hotkey": hotkey, "waited_s": round(time.monotonic() - t0, 3)})
    return True


def _notify(on_event: Callable[[dict], None], event: dict) -> None:
    # A failing display must not leave the agent stuck in, or out of, the wait.
    try:
        on_event(event)
    except Exception:
        logger.exception("progress callback failed on %s", event["event"])


__all__ = ["check_replay_hotkeys", "open_replay_recorder", "wait_while_recording_paused"]
