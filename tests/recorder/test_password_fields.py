"""Typing into a password field is masked on its own: a real Qt window talking AT-SPI on
a private session D-Bus, the real recorder, real X input (xdotool). And where there is
no accessibility bus the recorder still records, and says so."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from deskmimic.core.config import RecordConfig
from deskmimic.core.geometry import Rect
from deskmimic.recorder.check import check_episode
from deskmimic.recorder.privacy import MASK, PASSWORD_SOURCE, CaptureGate, privacy_from_events
from deskmimic.recorder.record import Recorder
from deskmimic.recorder.secret_fields import a11y_bus_address
from tests.conftest import run_cli
from tests.fixtures.recording import wait_listening, wait_recorded

A11Y_SERVICE = Path("/usr/share/dbus-1/services/org.a11y.Bus.service")
needs_atspi = pytest.mark.skipif(
    shutil.which("dbus-daemon") is None or not A11Y_SERVICE.exists(),
    reason="dbus-daemon or at-spi2-core is not installed (scripts/setup.sh installs both)")

# A window with a plain and a password QLineEdit that prints where they are, and writes
# what each holds to a file whenever it changes: proof of where the keys went.
QT_WINDOW = r"""
import json, sys
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget
app = QApplication(sys.argv)
w = QWidget(); w.setWindowTitle("deskmimic password test"); lay = QVBoxLayout(w)
plain, secret = QLineEdit(), QLineEdit()
secret.setEchoMode(QLineEdit.EchoMode.Password)
lay.addWidget(plain); lay.addWidget(secret)
def dump(*_):
    with open(sys.argv[1], "w") as f:
        json.dump({"plain": plain.text(), "password": secret.text()}, f)
plain.textChanged.connect(dump); secret.textChanged.connect(dump)
w.setGeometry(200, 150, 320, 110); w.show()
def ready():
    c = lambda e: e.mapToGlobal(e.rect().center())
    g = w.geometry()
    print(json.dumps({"plain": [c(plain).x(), c(plain).y()], "password": [c(secret).x(), c(secret).y()],
                      "window": [g.x(), g.y(), g.width(), g.height()]}), flush=True)
from PySide6.QtCore import QTimer
QTimer.singleShot(300, ready)
app.exec()
"""


@pytest.fixture
def session_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private session D-Bus; org.a11y.Bus (at-spi-bus-launcher) starts on demand."""
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = proc.stdout.readline().strip()
    assert address.startswith("unix:"), "dbus-daemon printed no address"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    monkeypatch.delenv("AT_SPI_BUS_ADDRESS", raising=False)
    yield address
    proc.terminate()  # at-spi-bus-launcher and its bus end with the session bus
    proc.wait(10)


def _xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=30)


def _keys(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] in ("key_down", "key_up")]


TK_WINDOW = r"""
import json, tkinter as tk
r = tk.Tk(); r.title("no accessibility"); r.geometry("260x60+620+160")
e = tk.Entry(r); e.pack(fill="x", pady=15)
def ready():
    print(json.dumps([e.winfo_rootx() + e.winfo_width() // 2, e.winfo_rooty() + e.winfo_height() // 2]), flush=True)
r.after(300, ready); r.mainloop()
"""


@contextmanager
def _apps(tmp_path: Path, tk: bool = False) -> Iterator[dict]:
    """The Qt window (AT-SPI on), and a Tk one (Tk speaks no AT-SPI) if asked."""
    a11y_bus_address()  # start the accessibility bus first, as a desktop session does
    env = dict(os.environ, QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1", QT_QPA_PLATFORM="xcb")
    procs = [subprocess.Popen([sys.executable, "-c", QT_WINDOW, str(tmp_path / "texts.json")],
                              env=env, stdout=subprocess.PIPE, text=True)]
    try:
        where = json.loads(procs[0].stdout.readline())
        if tk:
            procs.append(subprocess.Popen([sys.executable, "-c", TK_WINDOW], stdout=subprocess.PIPE, text=True))
            where["tk"] = json.loads(procs[1].stdout.readline())
        yield where
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        _xdotool("mousemove", "0", "0")


def _record(qtbot, tmp_path: Path, where: dict, steps: list[tuple[str, str]],
            pause: str = "0.1", at_once: bool = True) -> list[dict]:
    """Record while clicking each field and typing into it: into the password field at
    once (``at_once``), elsewhere ``pause`` seconds later (masking may end up to
    `CLICK_MARGIN_NS` after the click that leaves the field). The events written."""
    rec = Recorder(RecordConfig(out=tmp_path / "ep", region=Rect(0, 0, 1000, 400), fps=10)).start()
    try:
        assert rec._masking.wait_ready(10) and rec._masking.watching, rec._masking.meta()
        wait_listening(qtbot, rec, 5, 5)
        n = 0
        for field, text in steps:
            if field == "tab":
                _xdotool("key", "Tab", "type", "--delay", "20", text)
            else:
                x, y = where[field]
                # The first key reaches the recorder before the application said where
                # the focus went.
                wait = "0" if field == "password" and at_once else pause
                _xdotool("sleep", "0.1", "mousemove", str(x), str(y), "mousedown", "1", "mouseup", "1",
                         "sleep", wait, "type", "--delay", "20", text)
            n += len(text) + (field == "tab")
            wait_recorded(qtbot, rec, lambda evs, n=n: sum(e["type"] == "key_up" for e in evs) >= n,
                          f"{n} key releases")
    finally:
        summary = rec.stop()
    assert summary.status == "complete"
    return [json.loads(line) for line in (tmp_path / "ep" / "events.jsonl").read_text().splitlines()]


def _typed(events: list[dict]) -> str:
    return "".join(e["char"] or "" for e in events if e["type"] == "key_down")


@needs_atspi
def test_typing_into_a_password_field_is_masked_from_its_first_key(qtbot, session_bus, tmp_path):
    with _apps(tmp_path) as where:
        events = _record(qtbot, tmp_path, where, [("plain", "alice"), ("password", "hunter2"),
                                                  ("plain", "ok"), ("tab", "zz")])
    # The keys went where the test says (Tab selects the field's text: "zz" replaced it).
    assert json.loads((tmp_path / "texts.json").read_text()) == {"plain": "aliceok", "password": "zz"}
    keys = _keys(events)
    assert _typed(events) == "alice" + MASK * 7 + "ok" + MASK * 2  # Tab types no character
    masked = [e for e in keys if e.get("secret")]
    assert len(masked) == 18 and all(e["key"] == MASK and e["keycode"] is None for e in masked)
    assert not any(c in e["key"] + e["char"] for e in masked for c in "hunter2z")
    # The markers say it was automatic, and frame the masked keys exactly.
    marks = [i for i, e in enumerate(events) if e.get("source") == PASSWORD_SOURCE]
    assert [events[i]["name"] for i in marks] == ["secret_on", "secret_off", "secret_on"]
    for on, off in ((marks[0], marks[1]), (marks[2], len(events))):
        inside = [e for e in _keys(events[on:off]) if e["key"] != "tab"]
        assert inside and all(e.get("secret") for e in inside)
    # Tab moved the focus: pressed in the plain field, it stays in the clear, press and release.
    assert [(e["type"], e.get("secret")) for e in keys if e["key"] == "tab"] == [
        ("key_down", None), ("key_up", None)]
    assert not any(e.get("secret") for e in _keys(events[:marks[0]] + events[marks[1]:marks[2]]))
    times = [e["t"] for e in events]
    assert times == sorted(times), "held input was written out of order"

    out = tmp_path / "ep"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["masked_keys"] == 9
    fields = meta["password_fields"]
    assert fields["watched"] is True and fields["password_answers"] >= 2
    # Each answer came well inside the hold, so no input went out before it.
    assert fields["answer_ms_max"] is not None and fields["answer_ms_max"] < 250
    print("\npassword-field timing:", json.dumps(fields))
    assert privacy_from_events(events, events[-1]["t"]) == ({"paused": [], "masked_keys": 9}, ["secret"])
    assert check_episode(out) == []
    res = run_cli("episodes", "steps", str(out), "--json")
    assert res.returncode == 0, res.stderr
    typed = [s.get("text") for s in json.loads(res.stdout) if s["kind"] == "type"]
    # Typed text of the right length, the masked part bullets only. (A key pressed just
    # after a click can bear an earlier time than the click, the listener's threads
    # stamping apart: then the password's first bullet is a step before the click.)
    assert "".join(typed) == "alice" + MASK * 7 + "ok" + MASK * 2
    assert all(set(text) == {MASK} or MASK not in text for text in typed)


@needs_atspi
def test_leaving_for_a_window_without_accessibility_ends_the_masking(qtbot, session_bus, window_manager,
                                                                     tmp_path):
    with _apps(tmp_path, tk=True) as where:
        # The window manager gives the focus to the clicked window a moment after the
        # click; keys typed before that go to the window that had it.
        events = _record(qtbot, tmp_path, where, [("password", "pw"), ("tk", "tk"), ("password", "qq")],
                         pause="0.3", at_once=False)
    assert json.loads((tmp_path / "texts.json").read_text())["password"] == "pwqq"
    assert _typed(events) == MASK * 2 + "tk" + MASK * 2
    names = [e["name"] for e in events if e.get("source") == PASSWORD_SOURCE]
    assert names == ["secret_on", "secret_off", "secret_on"]


def _record_briefly(qtbot, out: Path) -> tuple[float, Recorder]:
    begin = time.monotonic()
    rec = Recorder(RecordConfig(out=out, region=Rect(0, 0, 320, 200), fps=10)).start()
    took = time.monotonic() - begin
    wait_listening(qtbot, rec, 40, 40)
    _xdotool("type", "--delay", "20", "abc")
    wait_recorded(qtbot, rec, lambda evs: sum(e["type"] == "key_up" for e in evs) >= 3, "three keys")
    rec.stop()
    return took, rec


def test_without_an_accessibility_bus_recording_works_and_says_so(qtbot, tmp_path, monkeypatch, caplog):
    # A session bus that accepts the connection and never answers: the worst case, since
    # nothing fails fast. The recording must start as quickly as ever.
    silent = socket.socket(socket.AF_UNIX)
    silent.bind(str(tmp_path / "bus"))
    silent.listen(4)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'bus'}")
    monkeypatch.delenv("AT_SPI_BUS_ADDRESS", raising=False)
    from deskmimic.recorder import secret_hold

    monkeypatch.setattr(secret_hold, "_WARNED", set())  # said once a process: earlier tests may have
    try:
        with caplog.at_level(logging.WARNING, logger="deskmimic.recorder.secret_fields"):
            took, rec = _record_briefly(qtbot, tmp_path / "silent")
            # Nothing answers: the note comes when the connection attempt gives up.
            monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'none'}")
            took_none, rec_none = _record_briefly(qtbot, tmp_path / "none")
    finally:
        silent.close()
    assert took < 1.5 and took_none < 1.5, (took, took_none)
    for out in (tmp_path / "silent", tmp_path / "none"):
        meta = json.loads((out / "meta.json").read_text())
        assert meta["status"] == "complete" and meta["masked_keys"] == 0
        assert meta["password_fields"]["watched"] is False and meta["password_fields"]["reason"]
        events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
        assert "".join(e["char"] for e in events if e["type"] == "key_down") == "abc"
    assert "session D-Bus" in json.loads((tmp_path / "none" / "meta.json").read_text())[
        "password_fields"]["reason"] or "accessibility bus" in caplog.text
    assert "password fields are not detected here" in caplog.text
    assert "<ctrl>+<alt>+<shift>+h" in caplog.text


def _key(kind: str, key: str, t: int, keycode: int) -> dict:
    return {"t": t, "type": kind, "key": key, "code": None, "keycode": keycode,
            "char": key if len(key) == 1 else None}


def test_the_gate_masks_while_either_source_is_on_and_recover_reads_both():
    gate = CaptureGate()
    on = gate.set_auto(True, 1)
    assert on == {"t": 1, "type": "marker", "name": "secret_on", "source": PASSWORD_SOURCE}
    assert gate.set_auto(True, 2) is None and gate.masking and not gate.secret
    hot = gate.toggle_secret(3)                    # the hotkey on top of the field
    off = gate.set_auto(False, 4)                  # leaving the field: the hotkey still masks
    out = [gate.admit(_key("key_down", "a", 5, 38)), gate.admit(_key("key_down", "tab", 6, 23))]
    assert [e["key"] for e in out] == [MASK, MASK] and gate.masking
    gate.toggle_secret(7)
    gate.set_auto(True, 8)                         # the field alone: Tab, Enter, Esc stay clear
    out = [gate.admit(_key(k, n, 9 + i, c)) for i, (k, n, c) in enumerate(
        [("key_down", "b", 56), ("key_up", "b", 56), ("key_down", "enter", 36), ("key_up", "enter", 36)])]
    assert [e["key"] for e in out] == [MASK, MASK, "enter", "enter"]
    events = [on, hot, off, *out]
    assert privacy_from_events(events, 20) == ({"paused": [], "masked_keys": 1}, ["secret"])
    # An old episode's markers have no source: the hotkey's.
    old = [{"t": 1, "type": "marker", "name": "secret_on"}, {"t": 2, "type": "marker", "name": "secret_off"}]
    assert privacy_from_events(old, 3)[1] == []
