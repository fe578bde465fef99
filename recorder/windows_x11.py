"""Finding on-screen windows by title on X11 (python-xlib, imported lazily)."""

from __future__ import annotations

from dataclasses import dataclass

from deskmimic.core.errors import CaptureError
from deskmimic.core.geometry import Rect
from deskmimic.recorder.environment import require_x_display


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
