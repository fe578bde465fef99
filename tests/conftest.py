"""Shared fixtures. pytest-xvfb starts one Xvfb (1280x800x24, see pyproject) per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskmimic.agent.inject import Injector, open_injector
from deskmimic.agent.input_state import query_held, release_stuck_input
from deskmimic.recorder.windows_x11 import wait_for_window_manager
from tests.fixtures.keyboard_layout import keyboard_mapping, set_layout

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tmp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated DESKMIMIC_HOME / XDG config so tests never touch the user's data."""
    home = tmp_path / "home"
    monkeypatch.setenv("DESKMIMIC_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    return home


@pytest.fixture
def window_manager() -> Iterator[subprocess.Popen]:
    """Run openbox on the test display, so window tests also hold under a real WM."""
    exe = shutil.which("openbox")
    if exe is None:
        pytest.fail("openbox is not installed: run scripts/setup.sh")
    proc = subprocess.Popen([exe, "--sm-disable"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for_window_manager(), "openbox did not start managing windows"
    yield proc
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


def run_cli(*args: str, env: dict | None = None, timeout: float = 120, input: str | None = None):
    """Run ``deskmimic ARGS`` in a fresh interpreter; returns the CompletedProcess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "deskmimic.app.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=full_env, input=input,
    )


@pytest.fixture
def inj() -> Iterator[Injector]:
    """A real XTEST injector; the test must leave nothing held in the X server."""
    release_stuck_input()
    try:
        with open_injector("xtest", seed=0) as injector:
            yield injector
    finally:
        _restore_pointer_root_focus()
    assert query_held() == ([], []), "the test left input held in the X server"


def _restore_pointer_root_focus() -> None:
    # Clicking a window makes Qt take the X focus; give focus-follows-pointer back so
    # later tests on this display start from a bare Xvfb's state.
    from Xlib import X

    from deskmimic.agent.inject_xtest import open_display

    d = open_display()
    d.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
    d.sync()
    d.close()


@pytest.fixture(params=["us", "de", "fr"])
def layout(request: pytest.FixtureRequest, qapp) -> Iterator[str]:
    """The test display's layout for one test; us again afterwards, mapping unchanged."""
    before = keyboard_mapping()
    set_layout(request.param)
    try:
        yield request.param
    finally:
        set_layout("us")
        assert keyboard_mapping() == before
