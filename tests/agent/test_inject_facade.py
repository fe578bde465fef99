"""Injector facade bookkeeping on the recording fake backend (no display needed).

What reaches real windows is tested in test_inject.py with XTEST; these tests pin
down the order of presses and releases the facade sends.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time

import pytest

from deskmimic.agent.inject import Injector, open_injector
from deskmimic.agent.inject_fake import FakeBackend
from deskmimic.agent.keysyms import SPECIAL_KEYSYMS, human_path, key_to_keysym, parse_chord
from deskmimic.core.errors import ConfigError, InputError

SHIFT, CTRL = 0xFFE1, 0xFFE3


@pytest.fixture
def fake() -> Injector:
    return Injector(FakeBackend(), rng=random.Random(0))


def test_backend_env_var_selects_fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKMIMIC_BACKEND", "fake")
    with open_injector() as inj:
        assert isinstance(inj.backend, FakeBackend)
    with pytest.raises(ConfigError, match="DESKMIMIC_BACKEND"):
        open_injector("nope")


def test_special_key_table_matches_xlib_keysyms() -> None:
    import Xlib.XK

    symbols = {"alt_gr": "Mode_switch", "enter": "Return", "esc": "Escape", "cmd": "Super_L",
               "delete": "Delete", "page_up": "Prior", "page_down": "Next", "space": "space",
               "print_screen": "Print", "f12": "F12", "f20": "F20", "ctrl_r": "Control_R"}
    for name, symbol in symbols.items():
        assert SPECIAL_KEYSYMS[name] == Xlib.XK.string_to_keysym(symbol), name
    assert key_to_keysym("KP_Enter") == Xlib.XK.string_to_keysym("KP_Enter")
    assert key_to_keysym("<ctrl>") == CTRL and key_to_keysym("Control") == CTRL
    assert key_to_keysym("A") == ord("A") and key_to_keysym("\n") == 0xFF0D
    assert key_to_keysym("€") == 0x010020AC
    with pytest.raises(InputError, match="unknown key name 'ctlr'"):
        key_to_keysym("ctlr")


def test_parse_chord() -> None:
    assert parse_chord("ctrl+shift+t") == ["ctrl", "shift", "t"]
    assert parse_chord("<ctrl>+<alt>+<shift>+s") == ["<ctrl>", "<alt>", "<shift>", "s"]
    assert parse_chord("ctrl++") == ["ctrl", "+"]
    with pytest.raises(InputError, match="malformed hotkey"):
        parse_chord("ctrl+")


def test_type_text_presses_shift_only_for_shifted_chars(fake: Injector) -> None:
    fake.type_text("aA!", interval=0)
    assert fake.backend.key_events() == [
        (ord("a"), True), (ord("a"), False),
        (SHIFT, True), (ord("a"), True), (ord("a"), False), (SHIFT, False),
        (SHIFT, True), (ord("1"), True), (ord("1"), False), (SHIFT, False),
    ]
    assert fake.held() == {"keys": [], "buttons": []}


def test_caps_lock_inverts_shift_for_letters_only(fake: Injector) -> None:
    fake.backend.caps_lock = True
    fake.type_text("aB1", interval=0)
    assert fake.backend.key_events() == [
        (SHIFT, True), (ord("a"), True), (ord("a"), False), (SHIFT, False),
        (ord("b"), True), (ord("b"), False),
        (ord("1"), True), (ord("1"), False),
    ]


def test_hotkey_modifiers_first_released_in_reverse(fake: Injector) -> None:
    fake.hotkey("t+ctrl+shift")
    assert fake.backend.key_events() == [
        (CTRL, True), (SHIFT, True), (ord("t"), True),
        (ord("t"), False), (SHIFT, False), (CTRL, False),
    ]
    fake.backend.calls.clear()
    fake.hotkey("ctrl", "shift", "T")  # a recorded chord: shift is already held for 'T'
    assert [e for e in fake.backend.key_events() if e[0] == SHIFT] == [(SHIFT, True), (SHIFT, False)]


def test_bad_hotkey_presses_nothing(fake: Injector) -> None:
    with pytest.raises(InputError, match="ctlr"):
        fake.hotkey("shift+ctlr+a")
    assert fake.backend.key_events() == []


def test_unmapped_char_uses_spare_keycode(fake: Injector) -> None:
    fake.type_text("é", interval=0)
    assert ("remap", 240, 0xE9) in fake.backend.calls
    assert fake.backend.key_events() == [(0xE9, True), (0xE9, False)]


def test_exit_releases_everything_and_keeps_the_error() -> None:
    backend = FakeBackend()
    with pytest.raises(RuntimeError, match="boom"), Injector(backend) as inj:
        inj.key_down("ctrl")
        inj.key_down("A")
        inj.button_down("left")
        assert inj.held() == {"keys": ["ctrl", "A"], "buttons": ["left"]}
        raise RuntimeError("boom")
    assert backend.keys_down == set() and backend.buttons_down == set()
    assert backend.closed and inj.closed
    # released in reverse press order: 'a' and its shift, then ctrl
    releases = [sym for sym, down in backend.key_events() if not down]
    assert releases == [ord("a"), SHIFT, CTRL]


def test_closed_injector_refuses_input_and_close_is_idempotent(fake: Injector) -> None:
    fake.close()
    fake.close()
    with pytest.raises(InputError, match="closed"):
        fake.click(10, 10)
    with pytest.raises(InputError, match="closed"):
        fake.type_text("x")


def test_close_from_another_thread_stops_typing(fake: Injector) -> None:
    errors: list[BaseException] = []

    def typing() -> None:
        try:
            fake.type_text("x" * 200, interval=0.005)
        except InputError as exc:
            errors.append(exc)

    worker = threading.Thread(target=typing)
    worker.start()
    deadline = time.monotonic() + 5
    while not any(down for _, down in fake.backend.key_events()):  # typing has begun
        assert time.monotonic() < deadline, "typing never started"
        time.sleep(0.001)
    fake.close()  # what an abort hotkey does
    worker.join(5)
    assert not worker.is_alive() and len(errors) == 1 and "closed" in str(errors[0])
    assert fake.backend.keys_down == set()
    typed = sum(1 for sym, down in fake.backend.key_events() if down)
    assert 0 < typed < 200


def test_bad_arguments_name_the_problem(fake: Injector) -> None:
    with pytest.raises(ConfigError, match="button 'wheel'"):
        fake.button_down("wheel")
    with pytest.raises(ConfigError, match="both x and y"):
        fake.click(10)
    with pytest.raises(ConfigError, match="pointer x"):
        fake.move(float("nan"), 3)
    with pytest.raises(ConfigError, match="count"):
        fake.click(count=0)


def test_scroll_signs(fake: Injector) -> None:
    fake.scroll(dy=2, dx=-1, x=5, y=6, interval=0)
    calls = [c for c in fake.backend.calls if c[0] in ("scroll", "move")]
    assert calls == [("move", 5, 6), ("scroll", "up"), ("scroll", "up"), ("scroll", "left")]


def test_human_path_eases_and_ends_exactly() -> None:
    path = human_path((0, 0), (600, 300), 0.3, random.Random(1))
    assert 5 <= len(path) <= 30 and path[-1] == (600, 300)
    steps = [abs(b[0] - a[0]) + abs(b[1] - a[1]) for a, b in zip([(0, 0), *path], path, strict=False)]
    middle = steps[len(steps) // 2]
    assert steps[0] < middle and steps[-1] < middle  # slow-fast-slow
    # a slight bow, never far from the straight line
    assert all(abs(x * 300 - y * 600) / 670 <= 41 for x, y in path)
    assert human_path((5, 5), (9, 9), 0) == [(9, 9)]


def test_drag_sequence(fake: Injector) -> None:
    fake.drag(10, 20, 200, 220, duration=0.1, hold=0)
    calls = [c for c in fake.backend.calls if c[0] != "sync"]
    assert calls[0] == ("move", 10, 20) and calls[1] == ("button", "left", True)
    assert calls[-2] == ("move", 200, 220) and calls[-1] == ("button", "left", False)
    assert len(calls) > 4  # intermediate moves while the button is down


def test_modules_import_without_display() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    code = (
        "import deskmimic.agent.inject, deskmimic.agent.inject_xtest, "
        "deskmimic.agent.input_state, deskmimic.agent.inject_fake\n"
        "from deskmimic.agent.inject import open_injector\n"
        "from deskmimic.core.errors import DisplayError\n"
        "try:\n    open_injector('xtest')\nexcept DisplayError as e:\n    print('DisplayError:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "DisplayError: no X display: DISPLAY is not set" in out.stdout
