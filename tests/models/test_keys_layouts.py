"""Typed text read back exactly from a real recording, on any layout and for characters
the injector typed through a remapped spare keycode or with AltGr.

The real recorder (pynput over XRecord) records while the XTEST injector types into a
real Qt field; the step reduction must give one type step with exactly that text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit

from deskmimic.agent.inject import Injector
from deskmimic.core.config import RecordConfig
from deskmimic.core.geometry import Rect
from deskmimic.models.data.keys import produced_char
from deskmimic.models.data.steps import reduce_events, steps_for_episode
from deskmimic.recorder.episode import Episode
from deskmimic.recorder.record import Recorder
from tests.agent.test_inject import center, run_injection, show
from tests.fixtures.keyboard_layout import keyboard_mapping, set_layout, toggle_group
from tests.fixtures.recording import wait_listening, wait_recorded

# Only characters are checked here: on a loaded machine the listener thread may hand
# over keys late enough to pass the real pause that splits typing.
_NO_PAUSES = {"idle_gap_ms": 60_000.0}


def _typed_steps(events: list[dict]) -> list[str]:
    return [s.text for s in reduce_events(events, **_NO_PAUSES) if s.kind == "type"]


def _record_typing(qtbot, tmp_path: Path, inj: Injector, text: str, caps: bool = False) -> Path:
    """Record while the injector types ``text`` into a real field (with Caps Lock on
    around it when ``caps``); the episode's path."""
    line = show(qtbot, QLineEdit())
    p = line.mapToGlobal(line.rect().topLeft())
    region = Rect(p.x(), p.y(), line.width(), line.height())
    rec = Recorder(RecordConfig(out=tmp_path / "ep", region=region, fps=10)).start()
    try:
        wait_listening(qtbot, rec, *center(line))
        locks = ["caps_lock"] if caps else []

        # The click first, and recorded: the pointer and the keyboard are heard by two
        # listener threads, and on a loaded machine a button_up stamped after the first
        # typed key made the reduction read that key as part of the click (docs/steps.md).
        run_injection(qtbot, lambda: inj.click(*center(line)))
        wait_recorded(qtbot, rec, lambda evs: any(e["type"] == "button_up" for e in evs),
                      "the click's release")

        def type_it() -> None:
            for key in locks:
                inj.press(key)
            assert inj.backend.caps_lock_on() == caps
            inj.type_text(text)
            for key in locks:
                inj.press(key)

        run_injection(qtbot, type_it)
        qtbot.waitUntil(lambda: line.text() == text, timeout=5000)
        inj.close()  # gives the keycodes back while the recorder still runs
        wait_recorded(qtbot, rec, lambda evs: sum(
            e["type"] == "key_up" and not e["key"].startswith(("shift", "alt_gr"))
            for e in evs) >= len(text) + 2 * len(locks), f"{len(text)} key releases")
    finally:
        summary = rec.stop()
    return summary.path


def _check_read_back(path: Path, text: str) -> None:
    events = Episode.open(path).read_events()
    assert _typed_steps(events) == [text], [
        (e["type"][4:], e["key"], e.get("keycode")) for e in events if e["type"].startswith("key")]
    steps = steps_for_episode(Episode.open(path), **_NO_PAUSES)
    assert [s.text for s in steps if s.kind == "type"] == [text]


@pytest.mark.parametrize("text", ["Grüße, señor — 中文 €", "yz@ {ä|Ö} ß µ Ω"])
def test_recorded_typing_reads_back_exactly(qtbot, tmp_path: Path, inj: Injector,
                                            layout: str, text: str) -> None:
    _check_read_back(_record_typing(qtbot, tmp_path, inj, text), text)


def test_recorded_typing_with_caps_lock_on(qtbot, tmp_path: Path, inj: Injector,
                                           layout: str) -> None:
    text = "aA äÄ ωΩ ß 中"
    _check_read_back(_record_typing(qtbot, tmp_path, inj, text, caps=True), text)


def test_recorded_typing_in_the_second_layout_group(qtbot, tmp_path: Path, inj: Injector,
                                                    qapp) -> None:
    before = keyboard_mapping()
    set_layout("us,de", "grp:alt_shift_toggle")
    try:
        assert toggle_group() == 1  # de: y and z swapped, AltGr for @
        text = "yz@ äöü ß € 中"
        _check_read_back(_record_typing(qtbot, tmp_path, inj, text), text)
    finally:
        set_layout("us")
        assert keyboard_mapping() == before


@pytest.mark.parametrize(("event", "char"), [
    ({"key": "vk16797229", "code": 0x0100_4E2D, "char": None}, "中"),  # a remapped keycode
    ({"key": "€", "code": 0x20AC, "char": "€"}, "€"),
    ({"key": "vk8364", "code": 0x20AC, "char": None}, "€"),  # EuroSign without pynput's char
    ({"key": "vk65027", "code": 0xFE03, "char": None}, None),  # ISO_Level3_Shift
    ({"key": "vk65106", "code": 0xFE52, "char": None}, None),  # dead_circumflex
    ({"key": "ü", "code": 0xFC, "char": "ü"}, "ü"),
    ({"key": "Μ", "code": 0xB5, "char": "Μ"}, "µ"),  # pynput's upper case of shift+* on fr
    ({"key": "A", "code": 0x61, "char": "A"}, "A"),  # shift on a key with 'a' alone
    ({"key": "\u2022", "code": None, "char": "\u2022", "secret": True}, "\u2022"),
])
def test_produced_char_from_the_keysym(event: dict, char: str | None) -> None:
    assert produced_char(event, caps_lock=False) == char


def test_caps_lock_upper_cases_non_ascii_letters() -> None:
    assert produced_char({"key": "ü", "code": 0xFC, "char": "ü"}, caps_lock=True) == "Ü"
    assert produced_char({"key": "vk", "code": 0x0100_03C9, "char": None}, caps_lock=True) == "Ω"
