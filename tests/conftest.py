"""Shared fixtures. pytest-xvfb starts one Xvfb (1280x800x24, see pyproject) per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    time.sleep(0.5)
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
