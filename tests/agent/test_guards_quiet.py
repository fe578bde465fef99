"""Ending the abort-hotkey listener prints nothing: pynput may free its RECORD context just
before the guards disable it from their own connection, and the BadContext that answers
is the expected end of that race (python-xlib would print it to stderr mid-run)."""

from __future__ import annotations

from deskmimic.agent.guards import Guards
from deskmimic.agent.inject_xtest import open_display


class _ContextGoneListener:
    """A key listener caught between freeing its context and its thread ending."""

    def __init__(self, context: int):
        self._context = context

    def stop(self) -> None:
        pass

    def is_alive(self) -> bool:
        return True

    def join(self, timeout: float | None = None) -> None:
        pass


def test_stopping_the_key_listener_after_its_context_is_freed_is_silent(capfd) -> None:
    from Xlib.ext import record

    d = open_display()
    try:
        ctx = d.record_create_context(0, [record.AllClients], [{
            "core_requests": (0, 0), "core_replies": (0, 0), "ext_requests": (0, 0, 0, 0),
            "ext_replies": (0, 0, 0, 0), "delivered_events": (0, 0), "device_events": (0, 0),
            "errors": (0, 0), "client_started": False, "client_died": False}])
        d.record_free_context(ctx)
        d.sync()
    finally:
        d.close()
    guards = Guards()
    guards._keyboard = _ContextGoneListener(ctx)
    guards._stop_keyboard()
    out, err = capfd.readouterr()
    assert "X protocol error" not in err + out, err
    assert "XError" not in err + out, err
