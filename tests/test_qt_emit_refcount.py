"""The installed PySide6 must not leak or lose references on signal emits.

PySide6 6.12.0 returns True/False from ``SignalInstance.emit`` without a new reference:
every emit from Python lowers ``sys.getrefcount(True)`` by one, and a long run (the
experts benchmark, an evaluation, a GUI session) aborts with "Fatal Python error:
bool_dealloc". pyproject.toml excludes that release; this test catches the next one.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Sender(QObject):
    ping = Signal()
    value = Signal(object)


def test_emit_keeps_true_and_false_referenced(qapp) -> None:
    sender = _Sender()
    sender.value.connect(lambda _v: None)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(500):
        sender.ping.emit()
        sender.value.emit(True)
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert abs(after[0] - before[0]) < 50 and abs(after[1] - before[1]) < 50, (before, after)
