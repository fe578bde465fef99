"""What a platform must provide to inject input, and the backends by name.

`deskmimic.agent.inject.Injector` is the facade on top: key names, shift handling,
chords, pointer paths and the bookkeeping of everything held. A backend only moves the
pointer, presses buttons and keys by keycode, and turns the wheel. Backends: ``xtest``
(`deskmimic.agent.inject_xtest`, X11) and ``fake`` (`deskmimic.agent.inject_fake`, tests).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable

from deskmimic.core.errors import ConfigError

BUTTONS = ("left", "middle", "right", "x1", "x2")


class InjectBackend(abc.ABC):
    """What a platform must provide to inject input; the `Injector` does the rest.

    Keycodes are the backend's own key numbers, obtained from `keycode_for` (the X
    backend marks a key typed with AltGr by a flag above the 8-bit X keycode).
    Every method may raise `InputError`. Implementations need not be thread-safe:
    the facade serializes calls.
    """

    name = "abstract"

    @abc.abstractmethod
    def move_to(self, x: int, y: int) -> None:
        """Warp the pointer to screen pixel (x, y)."""

    @abc.abstractmethod
    def button(self, name: str, down: bool) -> None:
        """Press or release a mouse button ('left', 'middle', 'right', 'x1', 'x2')."""

    @abc.abstractmethod
    def scroll_click(self, direction: str) -> None:
        """One wheel click: 'up', 'down', 'left' or 'right'."""

    @abc.abstractmethod
    def keycode_for(self, keysym: int) -> tuple[int, bool]:
        """Keycode producing ``keysym`` and whether shift must be held for it.

        May remap a spare keycode when no key produces the keysym; raises `InputError`
        when that is impossible.
        """

    @abc.abstractmethod
    def key(self, keycode: int, down: bool) -> None:
        """Press or release a key by keycode."""

    @abc.abstractmethod
    def pointer_position(self) -> tuple[int, int]:
        """Current pointer position in screen pixels."""

    @abc.abstractmethod
    def sync(self) -> None:
        """Block until the window system has processed everything sent so far."""

    def caps_lock_on(self) -> bool:
        """Whether Caps Lock is active (typed letters then need inverted shift)."""
        return False

    def emergency_release(self, keycodes: Iterable[int], buttons: Iterable[str]) -> None:
        """Release keys and buttons from a signal handler, where this connection may be
        in the middle of a request; backends override this to use a fresh connection."""
        for code in keycodes:
            self.key(code, False)
        for name in buttons:
            self.button(name, False)
        self.sync()

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Free the connection and undo keyboard remaps; idempotent."""


def open_backend(name: str, display: str | None = None) -> InjectBackend:
    """The backend called ``name`` ('xtest' on ``display``, or 'fake')."""
    factories: dict[str, Callable[[], InjectBackend]] = {
        "xtest": lambda: _xtest(display), "fake": _fake,
    }
    if name not in factories:
        raise ConfigError(
            f"unknown input backend {name!r} (DESKMIMIC_BACKEND / backend=): use 'xtest' or 'fake'"
        )
    return factories[name]()


def _xtest(display: str | None) -> InjectBackend:
    from deskmimic.agent.inject_xtest import XTestBackend

    return XTestBackend(display)


def _fake() -> InjectBackend:
    from deskmimic.agent.inject_fake import FakeBackend

    return FakeBackend()


def check_button(button: str) -> None:
    """Raise `ConfigError` unless ``button`` is one of `BUTTONS`."""
    if button not in BUTTONS:
        raise ConfigError(f"unknown mouse button {button!r}: use one of {', '.join(BUTTONS)}")


__all__ = ["BUTTONS", "InjectBackend", "open_backend", "check_button"]
