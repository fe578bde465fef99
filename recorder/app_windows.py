"""The other windows of the app a recorded window belongs to, and the region that covers them.

Recording or replaying a window by title captures a fixed rectangle, while the app opens
windows of its own outside it: dialogs and file choosers (top-level windows, usually
``WM_TRANSIENT_FOR`` the main window and centred on it, often larger than it) and menus or
combo pop-ups (override-redirect windows hanging below the window's edge). Frames keep one
size per episode, so the captured region is chosen when the recording starts: the window's
rectangle grown by `FOLLOW_MARGIN` on every side, plus the dialogs and pop-ups it already shows,
clipped to the screen (docs/replay.md, "Windows that come and go"). A window of the app
that appears later partly outside that region is reported (`AppWindowWatch`).

A window belongs to the app when it was made by the same X client connection (the XID's
client bits), carries the same ``_NET_WM_PID``, or is transient for one of the app's
windows. Uses python-xlib, imported lazily.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from deskmimic.core.geometry import Rect

logger = logging.getLogger(__name__)

# Pixels added on every side of a followed window with `--follow` and no number: dialogs
# centred on a small main window and menus or pop-ups hanging below it land within it
# (measured: docs/replay.md). Not the default: a grown region draws the window itself
# smaller in the policy's input (a third as wide around a small window), so following is
# asked for where an app opens things outside its window.
FOLLOW_MARGIN = 240


@dataclass(frozen=True)
class AppWindow:
    window_id: int
    rect: Rect  # screen pixels, with the window manager's frame when it has one
    kind: str  # "popup" (override-redirect: menus, combo lists, tooltips) or "window"
    transient: bool = False  # WM_TRANSIENT_FOR one of the app's windows (a dialog)

    @property
    def attached(self) -> bool:
        """A pop-up or dialog of the window, not another main window of the same app (a
        second document): only these grow the region at the start."""
        return self.kind == "popup" or self.transient

    def to_meta(self, region: Rect) -> dict:
        """As meta.json keeps it, with the share of it that ``region`` captures."""
        inside = self.rect.intersect(region)
        shown = 0.0 if inside is None else inside.width * inside.height / (self.rect.width * self.rect.height)
        return {"id": self.window_id, "rect": self.rect.to_dict(), "kind": self.kind,
                "transient": self.transient, "captured": round(shown, 3)}


def follow_region(window: Rect, screen: Rect, others: list[Rect] | tuple = (),
                  margin: int = 0) -> Rect:
    """The captured region for a followed window: ``window`` and ``others`` (its dialogs
    and pop-ups already shown), grown by ``margin`` on every side, clipped to ``screen``."""
    left, top = window.left, window.top
    right, bottom = window.right, window.bottom
    for r in others:
        left, top = min(left, r.left), min(top, r.top)
        right, bottom = max(right, r.right), max(bottom, r.bottom)
    grown = Rect(left - margin, top - margin, right - left + 2 * margin, bottom - top + 2 * margin)
    clipped = grown.intersect(screen)
    return clipped if clipped is not None else window


def place_on_screen(region: Rect, screen: Rect) -> Rect:
    """``region`` moved (never resized) the least distance that puts it inside ``screen``:
    a followed window moved near the edge keeps its frame size."""
    left = min(max(region.left, screen.left), max(screen.left, screen.right - region.width))
    top = min(max(region.top, screen.top), max(screen.top, screen.bottom - region.height))
    return Rect(left, top, region.width, region.height)


def app_windows(main_id: int) -> list[AppWindow]:
    """The viewable windows of the app that made window ``main_id``, itself excluded."""
    from Xlib import display as xdisplay

    d = xdisplay.Display()
    try:
        return _app_windows(d, main_id)
    finally:
        d.close()


def _app_windows(d, main_id: int, skip: set[int] | None = None) -> list[AppWindow]:
    """As `app_windows`, on the open display ``d``. Top-level windows in ``skip`` are not
    looked at; those looked at while shown are added to it (whose they are never changes),
    so that polling costs a few X round trips per new window, not per window."""
    from Xlib import X

    root = d.screen().root
    mask = d.display.info.resource_id_mask
    main = d.create_resource_object("window", main_id)
    atoms = {n: d.intern_atom(n) for n in ("_NET_WM_PID", "WM_STATE", "WM_TRANSIENT_FOR")}
    main_pid = _pid(main, atoms)
    family = {main_id}  # the app's managed windows: dialogs may be transient for a dialog
    rg = root.get_geometry()
    screen = Rect(0, 0, rg.width, rg.height)
    found: list[tuple[int, int, Rect, str, int | None, int | None]] = []
    for top in root.query_tree().children:
        if skip is not None and top.id in skip:
            continue
        try:
            attrs = top.get_attributes()
            if attrs.map_state != X.IsViewable:
                continue
            geo = top.get_geometry()
            if geo.width <= 1 or geo.height <= 1:
                continue
            rect = Rect(geo.x, geo.y, geo.width, geo.height)
            if rect.intersect(screen) is None:  # toolkits park helper windows off screen
                continue
            client = top if attrs.override_redirect else _client(top, atoms["WM_STATE"])
            kind = "popup" if attrs.override_redirect else "window"
            transient = client.get_full_property(atoms["WM_TRANSIENT_FOR"], X.AnyPropertyType)
            owner = int(transient.value[0]) if transient is not None and len(transient.value) else None
            found.append((top.id, client.id, rect, kind, _pid(client, atoms), owner))
        except Exception:  # windows can vanish while we look at them
            continue
    out: dict[int, AppWindow] = {}
    for _ in range(3):  # transient chains: a dialog of a dialog of the main window
        for top_id, client_id, rect, kind, pid, owner in found:
            if client_id == main_id or top_id in out:
                continue
            same_client = (client_id & ~mask) == (main_id & ~mask)
            if same_client or (pid is not None and pid == main_pid) or owner in family:
                out[top_id] = AppWindow(client_id, rect, kind, owner in family)
                family.add(client_id)
    if skip is not None:
        skip.update(f[0] for f in found)
    return list(out.values())


def _client(top, wm_state: int):
    """The application's window in a top-level (itself, or inside a manager's frame)."""
    from Xlib import X

    stack = [top]
    while stack:
        win = stack.pop()
        if win.get_full_property(wm_state, X.AnyPropertyType) is not None:
            return win
        stack.extend(win.query_tree().children)
    return top  # no window manager: the top-level window is the app's own


def _pid(win, atoms: dict) -> int | None:
    from Xlib import X

    try:
        prop = win.get_full_property(atoms["_NET_WM_PID"], X.AnyPropertyType)
    except Exception:
        return None
    return int(prop.value[0]) if prop is not None and len(prop.value) else None


class AppWindowWatch:
    """Keeps track of the app's windows while a followed window is recorded: each one seen
    is appended to ``log`` (kept in meta.json) with the share of it the region captured."""

    def __init__(self, main_id: int, region: Rect, log: list[dict]) -> None:
        self.main_id = main_id
        self.region = region
        self.log = log
        self._seen: set[int] = {e["id"] for e in log}
        self._looked: set[int] = set()  # top-level windows already judged

    def poll(self, d) -> list[dict]:
        """Look once (``d``: an open Xlib display); returns the windows new since last time."""
        new = []
        for w in _app_windows(d, self.main_id, self._looked):
            if w.window_id in self._seen:
                continue
            self._seen.add(w.window_id)
            entry = w.to_meta(self.region)
            shown = entry["captured"]
            self.log.append(entry)
            new.append(entry)
            if shown < 1.0:
                logger.warning("the app opened a %s at %s, %d%% of it outside the captured "
                               "region %s: record with a larger --follow margin or the monitor "
                               "(--monitor) to capture all of it",
                               w.kind, w.rect, round(100 * (1 - shown)), self.region)
        return new
