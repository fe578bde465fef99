"""Finding on-screen windows by title on X11 (python-xlib, imported lazily)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from deskmimic.core.errors import CaptureError
from deskmimic.core.geometry import Rect
from deskmimic.recorder.app_windows import AppWindowWatch
from deskmimic.recorder.environment import require_x_display

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowInfo:
    window_id: int
    title: str
    rect: Rect


def _title(win, display) -> str:
    try:
        net_name = win.get_full_property(display.intern_atom("_NET_WM_NAME"),
                                         display.intern_atom("UTF8_STRING"))
        if net_name and net_name.value:
            v = net_name.value
            return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
        name = win.get_wm_name()
        if isinstance(name, bytes):
            return name.decode("latin-1")
        return name or ""
    except Exception:  # windows can vanish while we look at them
        return ""


def list_windows() -> list[WindowInfo]:
    """Viewable windows that have a title, with their rectangle in screen pixels."""
    require_x_display()
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display()
    try:
        root = d.screen().root
        out: list[WindowInfo] = []
        stack = list(root.query_tree().children)
        while stack:
            win = stack.pop()
            try:
                attrs = win.get_attributes()
                if attrs.map_state != X.IsViewable:
                    continue
                title = _title(win, d)
                geo = win.get_geometry()
                if title and geo.width > 1 and geo.height > 1:
                    pos = win.translate_coords(root, 0, 0)
                    out.append(WindowInfo(win.id, title, Rect(-pos.x, -pos.y, geo.width, geo.height)))
                else:
                    stack.extend(win.query_tree().children)
            except Exception:
                continue
        return out
    finally:
        d.close()


def find_window(title: str) -> WindowInfo:
    """The viewable window whose title contains ``title`` (exact match preferred)."""
    wins = list_windows()
    exact = [w for w in wins if w.title == title]
    partial = [w for w in wins if title.lower() in w.title.lower()]
    hits = exact or partial
    if not hits:
        names = ", ".join(sorted({repr(w.title) for w in wins})[:10]) or "none"
        raise CaptureError(f"--window {title!r}: no visible window has that title (visible: {names})")
    return max(hits, key=lambda w: w.rect.width * w.rect.height)


def watch_window(window_id: int, stop: threading.Event, on_gone: Callable[[], None],
                 period_s: float = 0.25, apps: AppWindowWatch | None = None) -> None:
    """Until ``stop`` is set, look at the window every ``period_s``; once it is destroyed or
    no longer shown (closed, minimized), call ``on_gone`` and return. Recording a window
    that is gone would only capture whatever lies where it was. With ``apps``, the app's
    other windows (dialogs, menus) are noted as they appear."""
    from Xlib import X
    from Xlib import display as xdisplay
    from Xlib import error as xerror

    d = xdisplay.Display()
    try:  # its own connection, closed here: a recording must leave none open
        win = d.create_resource_object("window", window_id)
        while not stop.wait(period_s):
            try:
                shown = win.get_attributes().map_state == X.IsViewable
            except xerror.XError:  # BadWindow: destroyed
                shown = False
            if not shown:
                on_gone()
                return
            if apps is not None:
                try:
                    apps.poll(d)
                except Exception:  # noting them is a courtesy: it never ends a recording
                    logger.debug("looking at the app's windows failed", exc_info=True)
    finally:
        d.close()


def wait_for_window_manager(timeout: float = 10.0) -> bool:
    """Wait until a window manager manages new windows (ICCCM/EWMH), instead of sleeping.

    Announcing itself (``_NET_SUPPORTING_WM_CHECK``) is not enough: openbox sets that before
    it handles map requests, and a window shown in between was never mapped. So a probe
    window is mapped, and the manager is ready once it has put ``WM_STATE`` on it.
    Returns False when that did not happen within ``timeout`` seconds.
    """
    require_x_display()
    from Xlib import display as xdisplay

    d = xdisplay.Display()
    try:
        root = d.screen().root
        deadline = time.monotonic() + timeout
        check = d.intern_atom("_NET_SUPPORTING_WM_CHECK")
        if not _poll(deadline, lambda: _has_live_window(d, root.get_full_property(check, 0))):
            return False
        return _probe_managed(d, root, deadline)
    finally:
        d.close()


def _probe_managed(d, root, deadline: float) -> bool:
    from Xlib import X

    probe = root.create_window(0, 0, 10, 10, 0, X.CopyFromParent)
    state = d.intern_atom("WM_STATE")
    try:
        while time.monotonic() < deadline:
            # A map request the manager dropped while starting up is never answered:
            # ask again until it manages the probe.
            probe.unmap()
            probe.map()
            d.flush()
            if _poll(min(deadline, time.monotonic() + 0.25),
                     lambda: probe.get_full_property(state, X.AnyPropertyType) is not None):
                return True
        return False
    finally:
        probe.destroy()
        d.sync()


def _poll(deadline: float, done) -> bool:
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.02)
    return False


def _has_live_window(d, prop) -> bool:
    """A window manager that exited can leave its check property behind: its window is gone."""
    if prop is None or not len(prop.value):
        return False
    try:
        d.create_resource_object("window", int(prop.value[0])).get_attributes()
        return True
    except Exception:  # BadWindow: destroyed with the client that made it
        return False
