"""Keyboard and mouse listening with pynput (XRecord on X11), on the episode clock.

pynput is imported lazily: it loads an X backend at import time and fails
without DISPLAY, and recorder must stay importable on a headless machine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from deskmimic.core.errors import InputError
from deskmimic.core.geometry import Rect
from deskmimic.core.keys import ISO_LEVEL3_SHIFT, one_group, row_keysym
from deskmimic.recorder.clock import EpisodeClock
from deskmimic.recorder.environment import require_x_display
from deskmimic.recorder.hotkey import Chord, HotkeyFilter, parse_hotkey

logger = logging.getLogger(__name__)

_BUTTON_NAMES = {"left": "left", "right": "right", "middle": "middle", "button8": "x1", "button9": "x2"}


def key_fields(key) -> dict:
    """pynput Key/KeyCode -> the episode format's key, code and char fields."""
    from pynput.keyboard import Key, KeyCode

    if isinstance(key, Key):
        vk = getattr(key.value, "vk", None)
        # space is a named key in pynput but it does produce a character
        return {"key": key.name, "code": vk, "char": " " if key.name == "space" else None}
    if isinstance(key, KeyCode):
        if key.vk == ISO_LEVEL3_SHIFT:  # AltGr on XKB layouts: a modifier, as Mode_switch is
            return {"key": "alt_gr", "code": key.vk, "char": None}
        char = key.char
        if char is not None and not char.isprintable():
            char = None
        name = key.char if key.char else (f"vk{key.vk}" if key.vk is not None else "unknown")
        return {"key": name, "code": key.vk, "char": char}
    return {"key": str(key), "code": None, "char": None}


def _xkb_levels(listener_class):
    """A pynput keyboard listener class that reads keys as the X server types them now.

    pynput translates a keycode with the keyboard mapping it read at start, so a key the
    mapping gave a character later (the injector's remapped spare keycode, a layout
    switch) came out as nothing; it reads AltGr as the core protocol's group 2 (columns
    2-3), where XKB puts level 3 in column 4: '@' (AltGr+q on de) was 'q'; and it ignores
    the layout group: 'z' typed in the de group of 'us,de' was 'y'.
    """

    class XkbLevels(listener_class):
        _group = 0

        def _event_to_key(self, display, event):
            self._group = (event.state >> 13) & 3  # the XKB layout group the key was typed in
            try:
                row = tuple(display.get_keyboard_mapping(event.detail, 1)[0])
                # A row emptied since (a remapped key given back) keeps its last meaning:
                # that is what the key typed when it was pressed.
                if any(row) and row != tuple(display._keymap_codes[event.detail]):
                    display._update_keymap(event.detail, 1)
            except Exception as exc:  # noqa: BLE001 - a stale row beats no key at all
                logger.debug("could not re-read keycode %s: %s", event.detail, exc)
            return super()._event_to_key(display, event)

        def _keycode_to_keysym(self, display, keycode, index):
            row = tuple(display._keymap_codes[keycode])
            single = one_group(display._keymap_codes)
            for level in dict.fromkeys((index, index - 2 if index >= 2 else index, 0)):
                keysym = row_keysym(row, self._group, level, single)
                if keysym:
                    return keysym
            return super()._keycode_to_keysym(display, keycode, index)

    return XkbLevels


def _quiet(listener_class):
    """A listener class whose thread, once stopped, dies silently if X goes away.

    A stopped keyboard listener lingers until the next key event (see `stop`); when
    the X server closes first (end of a session, a test display) that is expected.
    """

    class Quiet(listener_class):
        def run(self):
            try:
                super().run()
            except Exception:
                if self.running:
                    raise
                logger.debug("stopped listener ended with its X connection")

    return Quiet


def _stop_quietly(listener) -> None:
    # pynput's stop disables the recording on the listener's own connection, which
    # `InputListener._end_recording` has usually closed by then: nothing is left to stop.
    try:
        listener.stop()
    except Exception as exc:  # noqa: BLE001
        logger.debug("listener already stopped: %s", exc)


class InputListener:
    """Listens to all pointer and key input; hands episode-format dicts to ``sink``.

    Args:
        clock: the episode clock.
        region: captured area; coordinates are made relative to it.
        sink: receives events in order (called from listener threads, serialized).
        stop_hotkey: pynput hotkey string; when pressed, a marker is emitted and
            ``on_stop`` is called instead of recording the keys.
        more_hotkeys: further chords (pause, secret), kept out of the recording alike.
    """

    def __init__(self, clock: EpisodeClock, region: Rect, sink: Callable[[dict], None],
                 stop_hotkey: str | None = None, on_stop: Callable[[], None] | None = None,
                 more_hotkeys: Iterable[Chord] = ()):
        self._clock = clock
        self._region = region
        self._sink = sink
        self._lock = threading.Lock()
        self._last_xy: tuple[int, int] | None = None
        self._on_stop = on_stop or (lambda: None)
        chords = list(more_hotkeys)
        if stop_hotkey:
            chords.insert(0, Chord(parse_hotkey(stop_hotkey),
                                   lambda t: {"t": t, "type": "marker", "name": "stop_hotkey"},
                                   self._on_stop))
        self._filter = None
        if chords:
            first = chords[0]
            self._filter = HotkeyFilter(first.keys, self._sink, first.on_fire, first.marker,
                                        chords[1:])
        self._mouse = None
        self._keyboard = None
        self._xdisplay = None
        self._keycodes: dict[int, int | None] = {}

    def _local(self, x: float, y: float) -> tuple[int, int]:
        return int(round(x - self._region.left)), int(round(y - self._region.top))

    def _put(self, event: dict) -> None:
        with self._lock:
            if self._filter is not None:
                self._filter.feed(event)
            else:
                self._sink(event)

    # pynput >= 1.8 may pass an extra `injected` argument; accept and ignore it,
    # since on X11 it cannot tell XTEST input from physical input anyway.
    def _on_move(self, x, y, *_):
        t = self._clock.now()
        lx, ly = self._local(x, y)
        self._last_xy = (lx, ly)
        self._put({"t": t, "type": "move", "x": lx, "y": ly})

    def _on_click(self, x, y, button, pressed, *_):
        t = self._clock.now()
        lx, ly = self._local(x, y)
        self._last_xy = (lx, ly)
        name = _BUTTON_NAMES.get(getattr(button, "name", ""), "unknown")
        self._put({"t": t, "type": "button_down" if pressed else "button_up",
                   "x": lx, "y": ly, "button": name})

    def _on_scroll(self, x, y, dx, dy, *_):
        t = self._clock.now()
        lx, ly = self._local(x, y)
        self._last_xy = (lx, ly)
        self._put({"t": t, "type": "scroll", "x": lx, "y": ly, "dx": int(dx), "dy": int(dy)})

    def _keycode(self, keysym: int | None) -> int | None:
        # The physical key: a shifted character's down and up report different
        # keysyms ('H' then 'h') but the same X keycode, so readers pair them by it.
        if keysym is None or self._xdisplay is None:
            return None
        if keysym not in self._keycodes:
            try:
                self._keycodes[keysym] = self._xdisplay.keysym_to_keycode(keysym) or None
            except Exception:
                self._keycodes[keysym] = None
        return self._keycodes[keysym]

    def _key_event(self, kind: str, key) -> None:
        t = self._clock.now()
        ev = {"t": t, "type": kind, **key_fields(key)}
        ev["keycode"] = self._keycode(ev["code"])
        if self._last_xy is not None:
            ev["x"], ev["y"] = self._last_xy
        self._put(ev)

    def _on_press(self, key, *_):
        self._key_event("key_down", key)

    def _on_release(self, key, *_):
        self._key_event("key_up", key)

    def start(self) -> None:
        require_x_display()
        try:
            from pynput import keyboard, mouse
        except Exception as exc:  # pynput raises ImportError subclasses with X details
            raise InputError(f"cannot load pynput's X11 backend: {exc}") from exc
        from Xlib import display as xdisplay

        self._xdisplay = xdisplay.Display()
        self._mouse = _quiet(mouse.Listener)(on_move=self._on_move, on_click=self._on_click,
                                             on_scroll=self._on_scroll)
        self._keyboard = _quiet(_xkb_levels(keyboard.Listener))(on_press=self._on_press,
                                                                 on_release=self._on_release)
        self._mouse.start()
        self._keyboard.start()
        for listener in (self._mouse, self._keyboard):
            listener.wait()
            if not listener.running:
                raise InputError("the input listener stopped at start: is the X RECORD extension enabled?")

    def _nudge_pointer(self) -> None:
        try:
            from Xlib import X
            from Xlib.ext import xtest

            d = self._xdisplay
            if d is None:
                return
            xtest.fake_input(d, X.MotionNotify, detail=True, x=1, y=0)
            xtest.fake_input(d, X.MotionNotify, detail=True, x=-1, y=0)
            d.sync()
        except Exception as exc:
            logger.debug("could not nudge the pointer to wake the listener: %s", exc)

    def _end_recording(self, listeners: list) -> None:
        """Disable each listener's XRecord context from our own connection.

        pynput disables it on the connection the listener thread is blocked on, and the
        server reads nothing more from a connection while its context records: the
        thread slept until the next key or motion event, holding two X connections.
        After a few hundred recordings in one process (a benchmark) the server refused
        new clients ("Maximum number of clients reached"). Disabled from another
        connection, the server ends the recording at once and the thread closes both."""
        d = self._xdisplay
        if d is None:
            return
        for listener in listeners:
            ctx = getattr(listener, "_context", None)  # pynput's xorg backend
            if ctx is None:
                continue
            try:
                d.record_disable_context(ctx)
                d.sync()
            except Exception as exc:  # noqa: BLE001 - pynput's own stop still runs
                logger.debug("could not end the listener's recording: %s", exc)

    def stop(self) -> None:
        """Stop listening. pynput's stop() can block until the next X event arrives,
        so it runs in a helper thread that we wait for only briefly."""
        listeners = [x for x in (self._mouse, self._keyboard) if x is not None]
        self._mouse = self._keyboard = None
        self._end_recording(listeners)
        stoppers = []
        for listener in listeners:
            stopper = threading.Thread(target=_stop_quietly, args=(listener,), daemon=True)
            stopper.start()
            stoppers.append(stopper)
        for stopper in stoppers:
            stopper.join(timeout=0.3)
        if any(s.is_alive() for s in stoppers) or any(x.is_alive() for x in listeners):
            # XRecord only returns when input arrives: nudge the pointer by one pixel
            # and back so the listener threads wake up and end instead of leaking.
            self._nudge_pointer()
        # The keyboard listener's XRecord context wakes only on a key event. We do
        # not fake one (it would reach the user's focused app); its thread is a
        # daemon that ends at the next key press, and it no longer records.
        for listener in listeners:
            listener.join(timeout=0.2)
        # pynput marks a listener ready before it enables its context: stopped right after
        # starting, our disable came first and did nothing, and the thread then blocked in
        # the enable, holding two X connections. Disable again until it has ended.
        for _ in range(20):
            alive = [x for x in listeners if x.is_alive()]
            if not alive:
                break
            self._end_recording(alive)
            for listener in alive:
                listener.join(timeout=0.05)
        with self._lock:
            if self._filter is not None:
                self._filter.close()
            if self._xdisplay is not None:
                self._xdisplay.close()
                self._xdisplay = None
