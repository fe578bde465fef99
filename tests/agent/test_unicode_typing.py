"""Any Unicode text typed through XTEST into a real Qt field, whatever the keyboard layout.

Characters the layout has are typed on their keys (shift and AltGr levels included);
the rest through a spare keycode remapped for the time of typing. The keyboard mapping
must be the user's again afterwards, also when the process dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QLineEdit

from deskmimic.agent.inject import Injector
from deskmimic.agent.inject_xtest import LEVEL3_FLAG, XTestBackend
from tests.agent.test_inject import center, run_injection, show
from tests.conftest import ROOT
from tests.fixtures.keyboard_layout import keyboard_mapping, probe_key, set_layout, toggle_group

TEXTS = [
    "Grüße, señor — 中文 €",
    "yz@ YZ {[]}\\|~ äöü ÄÖÜ ß µ",
    "Ωμέγα ñ ¿¡ «»  😀",
]


def _type_into_field(qtbot, inj: Injector, text: str) -> QLineEdit:
    line = show(qtbot, QLineEdit())
    run_injection(qtbot, lambda: (inj.click(*center(line)), inj.type_text(text, interval=0)))
    try:
        qtbot.waitUntil(lambda: line.text() == text, timeout=5000)
    except qtbot.TimeoutError as exc:
        raise AssertionError(f"typed {text!r}, the field shows {line.text()!r}") from exc
    return line


@pytest.mark.parametrize("text", TEXTS)
def test_text_comes_out_exactly_and_the_keymap_is_given_back(qtbot, inj: Injector,
                                                             layout: str, text: str) -> None:
    mapping = keyboard_mapping()
    assert probe_key(mapping) == {"us": "z", "de": "y", "fr": "w"}[layout]
    _type_into_field(qtbot, inj, text)
    assert inj.held() == {"keys": [], "buttons": []}
    inj.close()
    assert keyboard_mapping() == mapping


def test_altgr_characters_use_the_layouts_own_keys_on_de(qtbot, inj: Injector, layout: str) -> None:
    backend = inj.backend
    assert isinstance(backend, XTestBackend)
    code, shift = backend.keycode_for(ord("@"))
    if layout == "de":  # '@' is AltGr+q there, 'z' and 'y' swapped
        assert (code & LEVEL3_FLAG, code & 0xFF, shift) == (LEVEL3_FLAG, 24, False)
        assert backend.keycode_for(ord("y")) == (52, False)
    elif layout == "fr":  # AltGr+à (the 0 key)
        assert (code & LEVEL3_FLAG, code & 0xFF, shift) == (LEVEL3_FLAG, 19, False)
    else:
        assert (code, shift) == (11, True)
    _type_into_field(qtbot, inj, "yz@ €")
    if layout == "de":
        assert backend._borrowed == {}  # all four on the layout's keys, nothing remapped


def test_many_distinct_characters_recycle_spare_keycodes(qtbot, inj: Injector) -> None:
    # More distinct missing characters than the layout has spare keycodes.
    text = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 30))
    spare = sum(1 for row in keyboard_mapping() if not any(row))
    assert spare < 30
    mapping = keyboard_mapping()
    _type_into_field(qtbot, inj, text)
    inj.close()
    assert keyboard_mapping() == mapping


_DIE = """
import os, signal, sys
from deskmimic.agent.inject import open_injector
inj = open_injector(release_on_signals=True)
inj.type_text("中ñ", interval=0)
print("typed", flush=True)
os.kill(os.getpid(), getattr(signal, sys.argv[1]))
"""


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGTERM"])
def test_keymap_given_back_when_the_process_dies(qtbot, sig: str) -> None:
    mapping = keyboard_mapping()
    proc = subprocess.run([sys.executable, "-c", _DIE, sig], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ))
    assert proc.returncode == -getattr(signal, sig), proc.stderr
    assert "typed" in proc.stdout
    if sig == "SIGTERM":  # the signal handler gives the keycodes back itself
        assert keyboard_mapping() == mapping
    else:  # nothing runs on SIGKILL: the next injector on the display does it
        assert keyboard_mapping() != mapping
        XTestBackend().close()
        assert keyboard_mapping() == mapping


@pytest.fixture
def second_group(qapp) -> Iterator[None]:
    """Layouts 'us,de' with the second one (de) active."""
    before = keyboard_mapping()
    set_layout("us,de", "grp:alt_shift_toggle")
    try:
        assert toggle_group() == 1
        yield
    finally:
        set_layout("us")
        assert keyboard_mapping() == before


def test_text_comes_out_exactly_in_the_second_layout_group(qtbot, inj: Injector,
                                                           second_group: None) -> None:
    mapping = keyboard_mapping()
    text = "yz@ äöü ß € 中"  # y and z swapped in the active (de) group
    _type_into_field(qtbot, inj, text)
    inj.close()
    assert keyboard_mapping() == mapping


@pytest.mark.parametrize("text", ["aA äÄ éÉ ñÑ ωΩ ß 中"])
def test_caps_lock_does_not_change_what_is_typed(qtbot, inj: Injector, layout: str,
                                                 text: str) -> None:
    inj.press("caps_lock")
    try:
        assert inj.backend.caps_lock_on()
        _type_into_field(qtbot, inj, text)
    finally:
        inj.press("caps_lock")
    assert not inj.backend.caps_lock_on()
