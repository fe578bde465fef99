"""Recording a window by title follows the app's own windows: a dialog and a pop-up menu
that open outside the window's rectangle are in the recorded frames (real Qt windows on
Xvfb, with and without a window manager, the real recorder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QDialog, QMenu, QPushButton, QWidget

from deskmimic.core.config import RecordConfig
from deskmimic.core.geometry import Rect
from deskmimic.recorder.app_windows import FOLLOW_MARGIN, follow_region, place_on_screen
from deskmimic.recorder.episode import Episode
from deskmimic.recorder.record import Recorder
from deskmimic.recorder.windows_x11 import list_windows
from tests.fixtures.screen import wait_on_screen, widget_rect

SCREEN = Rect(0, 0, 1280, 800)
GREEN, RED, BLUE, MAGENTA, YELLOW = "#2e7d32", "#c62828", "#1565c0", "#ff00ff", "#ffeb3b"


class FollowApp(QWidget):
    """A small main window whose button opens a dialog reaching outside it (its OK button
    lies left of the main window), and which can pop a menu up below its bottom edge."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.setWindowTitle(title)
        self.setFixedSize(320, 200)
        self.setStyleSheet(f"FollowApp {{ background: {GREEN}; }}")
        self.open_button = QPushButton("Open", self)
        self.open_button.setGeometry(200, 140, 100, 40)
        self.open_button.setStyleSheet(f"background: {YELLOW}; border: none;")
        self.open_button.clicked.connect(self.open_dialog)
        self.dialog: QDialog | None = None
        self.menu: QMenu | None = None
        self.ok_clicks = 0

    def open_dialog(self) -> QDialog:
        d = QDialog(self)  # transient for this window, as an app's file chooser is
        d.setWindowTitle("Choose a file")
        d.setFixedSize(440, 280)
        d.setStyleSheet(f"QDialog {{ background: {RED}; }}")
        ok = QPushButton("OK", d)
        ok.setGeometry(4, 120, 50, 36)
        ok.setStyleSheet(f"background: {MAGENTA}; border: none;")
        ok.clicked.connect(self._ok)
        top_left = self.mapToGlobal(QPoint(0, 0))
        d.move(top_left.x() - 60, top_left.y() - 40)
        d.show()
        self.dialog = d
        return d

    def _ok(self) -> None:
        self.ok_clicks += 1

    def popup_menu(self, at: QPoint) -> QMenu:
        m = QMenu(self)
        m.setStyleSheet(f"QMenu {{ background: {BLUE}; }}")
        for name in ("Cut", "Copy", "Paste", "Convert"):
            m.addAction(name)
        m.popup(at)
        self.menu = m
        return m


def show_app(qtbot, title: str, pos: tuple[int, int] = (420, 300)) -> FollowApp:
    w = FollowApp(title)
    qtbot.addWidget(w)
    w.move(*pos)
    w.show()
    qtbot.waitExposed(w)
    wait_on_screen(qtbot, w)
    qtbot.waitUntil(lambda: any(x.title == title for x in list_windows()), timeout=5000)
    return w


def colour_share(frame: np.ndarray, rect: Rect, hex_colour: str) -> float:
    """Share of ``rect`` (frame pixels) whose colour is ``hex_colour``, within 24 levels."""
    want = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    crop = frame[rect.top:rect.bottom, rect.left:rect.right, :3].astype(np.int16)
    return float((np.abs(crop - want).max(axis=2) <= 24).mean()) if crop.size else 0.0


def local(rect: Rect, region: Rect) -> Rect:
    return Rect(rect.left - region.left, rect.top - region.top, rect.width, rect.height)


# ---- the region's geometry ------------------------------------------------------------------
def test_follow_region_grows_the_window_and_stays_on_the_screen() -> None:
    win = Rect(420, 300, 320, 200)
    m = FOLLOW_MARGIN
    assert follow_region(win, SCREEN, margin=m) == Rect(420 - m, 300 - m, 320 + 2 * m, 200 + 2 * m)
    assert follow_region(Rect(0, 0, 320, 200), SCREEN, margin=100) == Rect(0, 0, 420, 300)
    # a window already open (a palette) is covered too
    assert follow_region(win, SCREEN, [Rect(1000, 100, 100, 100)], margin=10) == Rect(410, 90, 700, 420)
    assert place_on_screen(Rect(1000, 600, 400, 300), SCREEN) == Rect(880, 500, 400, 300)
    assert place_on_screen(Rect(-50, 10, 400, 300), SCREEN) == Rect(0, 10, 400, 300)


# ---- recording ------------------------------------------------------------------------------
@pytest.mark.parametrize("with_wm", [False, True], ids=["bare-xvfb", "openbox"])
def test_record_window_captures_its_dialog_and_menu(qtbot, tmp_path: Path, request, with_wm: bool):
    if with_wm:
        request.getfixturevalue("window_manager")
    title = f"deskmimic follow app {int(with_wm)}"
    w = show_app(qtbot, title)
    main = widget_rect(w)
    rec = Recorder(RecordConfig(out=tmp_path / "ep", window=title, follow=FOLLOW_MARGIN, fps=15,
                                listen_input=False)).start()
    region = rec.region
    assert region == follow_region(main, SCREEN, margin=FOLLOW_MARGIN).even()
    d = w.open_dialog()
    wait_on_screen(qtbot, d)
    dialog = widget_rect(d)
    assert dialog.left < main.left and dialog.right > main.right  # it does reach outside
    qtbot.wait(400)  # a duration: frames of the dialog, and the watcher's look at it
    d.close()
    m = w.popup_menu(QPoint(main.left + 20, main.bottom + 12))  # below the window's edge
    qtbot.waitUntil(lambda: m.isVisible(), timeout=3000)
    wait_on_screen(qtbot, m)
    menu = widget_rect(m)
    assert menu.top > main.bottom
    qtbot.wait(400)
    far = QMenu(w)  # a pop-up beyond the margin: not captured, and meta says so
    far.addAction("Far away")
    m.close()
    far.popup(QPoint(SCREEN.right - 120, SCREEN.bottom - 60))
    qtbot.waitUntil(lambda: far.isVisible(), timeout=3000)
    qtbot.wait(400)
    far.close()
    ep = Episode.open(rec.stop().path)

    assert ep.region == region and ep.meta["geometry"]["source"] == "window"
    info = ep.meta["geometry"]["window"]
    assert Rect.from_dict(info["rect"]) == main and info["follow_margin"] == FOLLOW_MARGIN
    frames = [ep.frame(i) for i in range(ep.frame_count)]
    assert {f.shape for f in frames} == {(region.height, region.width, 3)}
    # The part of the dialog left of the main window, and the menu below it, were recorded.
    left_strip = local(Rect(dialog.left, dialog.top + 40, main.left - dialog.left, 60), region)
    assert max(colour_share(f, left_strip, RED) for f in frames) > 0.9
    assert max(colour_share(f, local(menu, region), BLUE) for f in frames) > 0.5
    seen = info["app_windows"]
    kinds = {(e["kind"], e["captured"]) for e in seen}
    assert ("window", 1.0) in kinds and ("popup", 1.0) in kinds
    assert any(e["kind"] == "popup" and e["captured"] < 0.5 for e in seen), seen


TK_APP = """
import sys, tkinter as tk
root = tk.Tk(); root.title(sys.argv[1]); root.geometry("300x200+500+300")
dialog = tk.Toplevel(root); dialog.title("Replace"); dialog.geometry("360x160+470+340")
dialog.transient(root)
menu = tk.Menu(root, tearoff=0)
for name in ("Undo", "Cut", "Copy", "Paste"):
    menu.add_command(label=name)
root.after(300, lambda: (menu.post(520, 520), print("ready", flush=True)))
root.after(20000, root.destroy)
root.mainloop()
"""


def test_the_app_windows_of_another_toolkit_are_found_and_no_others(qtbot, tmp_path: Path) -> None:
    import subprocess
    import sys

    from deskmimic.recorder.app_windows import app_windows
    from deskmimic.recorder.windows_x11 import find_window

    other = show_app(qtbot, "deskmimic follow bystander", pos=(40, 40))  # another app
    proc = subprocess.Popen([sys.executable, "-c", TK_APP, "deskmimic tk follow"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        main = find_window("deskmimic tk follow")
        qtbot.waitUntil(lambda: len(app_windows(main.window_id)) >= 2, timeout=3000)
        found = app_windows(main.window_id)
        kinds = sorted(w.kind for w in found)
        assert kinds == ["popup", "window"], found
        assert all(w.attached for w in found)  # the dialog is transient for the main window
        assert next(w for w in found if w.kind == "window").transient
        popup = next(w for w in found if w.kind == "popup")
        assert (popup.rect.left, popup.rect.top) == (520, 520)
        bystander = find_window("deskmimic follow bystander").window_id
        assert all(w.window_id != bystander for w in found)
        assert all(w.window_id != main.window_id for w in found)
    finally:
        proc.kill()
        proc.wait(5)
        other.close()


GTK_APP = """
import sys, gi
gi.require_version("Gtk", "3.0"); gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk
win = Gtk.Window(title=sys.argv[1]); win.set_size_request(320, 200); win.move(480, 300)
win.add(Gtk.Label(label="editor")); win.show_all()
def later():
    d = Gtk.FileChooserDialog(title="Open File", transient_for=win, action=Gtk.FileChooserAction.OPEN)
    d.show_all()
    menu = Gtk.Menu()
    for name in ("Undo", "Cut", "Copy", "Paste"):
        menu.append(Gtk.MenuItem(label=name))
    menu.show_all()
    menu.popup_at_rect(win.get_window(), Gdk.Rectangle(20, 20, 1, 1), Gdk.Gravity.NORTH_WEST,
                       Gdk.Gravity.NORTH_WEST, None)
    GLib.timeout_add(300, lambda: print("ready", flush=True) and False)
GLib.timeout_add(200, later)
GLib.timeout_add(20000, Gtk.main_quit)
Gtk.main()
"""


def test_a_gtk_apps_file_chooser_and_menu_are_its_windows(qtbot) -> None:
    import subprocess
    import sys

    from deskmimic.recorder.app_windows import app_windows
    from deskmimic.recorder.windows_x11 import find_window

    proc = subprocess.Popen([sys.executable, "-c", GTK_APP, "deskmimic gtk follow"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        main = find_window("deskmimic gtk follow")
        found = app_windows(main.window_id)
        chooser = [w for w in found if w.kind == "window"]
        assert len(chooser) == 1 and chooser[0].transient, found
        # GTK's chooser is larger than its window: what the margin is for
        assert chooser[0].rect.width > main.rect.width + 200
        assert any(w.kind == "popup" for w in found), found
    finally:
        proc.kill()
        proc.wait(5)
