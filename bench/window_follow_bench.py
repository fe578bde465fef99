"""Windows that come and go: which capture region serves a recorded window best.

A Qt app under openbox (main window of three sizes, at three places) opens what real apps
open: a file chooser and a message box (transient dialogs, centred on it by Qt), a menu bar
menu with a submenu, a combo box list, a context menu near its corner. For each capture
strategy — the window alone, the window grown by a margin, the monitor — it reports how
much of each opened window the region captures (from the real X geometry, found by
`recorder/app_windows.py`), and what the region costs: pixels, grab time, the screen
reader's time on a frame (the agent reads every decision's frame), the share of the frame
the window itself fills (what is left of it at the network's fixed input size).

Run: xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python bench/window_follow_bench.py
(starts openbox itself). Prints one JSON object.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from deskmimic.core.geometry import Rect
from deskmimic.recorder.app_windows import app_windows, follow_region
from deskmimic.recorder.capture import open_capture
from deskmimic.recorder.windows_x11 import find_window, wait_for_window_manager

MARGINS = (0, 120, 240, 360)
SIZES = {"small": (360, 240), "medium": (640, 440), "large": (960, 620)}
PLACES = {"centre": (0.5, 0.5), "top_left": (0.03, 0.06), "bottom_right": (0.97, 0.94)}


def pump(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


class Editor(QMainWindow):
    def __init__(self, title: str, size: tuple[int, int]) -> None:
        super().__init__()
        self.setWindowTitle(title)
        self.setFixedSize(*size)
        edit = self.menuBar().addMenu("Edit")
        for name in ("Undo", "Redo", "Cut", "Copy", "Paste", "Delete", "Select All", "Find",
                     "Find Next", "Replace", "Go to Line", "Preferences"):
            edit.addAction(name)
        self.convert = edit.addMenu("Convert")
        for name in ("To Uppercase", "To Lowercase", "To Title Case", "Tabs to Spaces"):
            self.convert.addAction(name)
        self.edit = edit
        body = QWidget(self)
        self.setCentralWidget(body)
        self.combo = QComboBox(body)
        self.combo.addItems([f"Encoding {i}" for i in range(15)])
        self.combo.setGeometry(20, size[1] - 90, 200, 28)


def openers(w: Editor) -> dict:
    def file_chooser():
        d = QFileDialog(w, "Open File")
        d.setOption(QFileDialog.Option.DontUseNativeDialog)
        d.show()
        return d

    def message_box():
        m = QMessageBox(QMessageBox.Icon.Question, "Save changes?",
                        "Save the changes to the document before closing?",
                        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                        | QMessageBox.StandardButton.Cancel, w)
        m.show()
        return m

    def menu_and_submenu():
        geo = w.menuBar().actionGeometry(w.edit.menuAction())
        w.edit.popup(w.menuBar().mapToGlobal(geo.bottomLeft()))
        QApplication.processEvents()
        ag = w.edit.actionGeometry(w.convert.menuAction())
        w.convert.popup(w.edit.mapToGlobal(ag.topRight()))
        return w.edit

    def combo_list():
        w.combo.showPopup()
        return w.combo

    def context_menu():
        m = QMenu(w)
        for name in ("Cut", "Copy", "Paste", "Select All", "Insert Date", "Properties"):
            m.addAction(name)
        m.popup(w.mapToGlobal(QPoint(w.width() - 30, w.height() - 30)))
        return m

    return {"file_chooser": file_chooser, "message_box": message_box,
            "menu_and_submenu": menu_and_submenu, "combo_list": combo_list,
            "context_menu": context_menu}


def close(what) -> None:
    if isinstance(what, QComboBox):
        what.hidePopup()
    elif isinstance(what, QMenu):
        for m in (what, *what.findChildren(QMenu)):
            m.close()
    else:
        what.close()


def coverage(rects: list[Rect], region: Rect) -> float:
    """Share of the opened windows' area inside ``region``."""
    total = sum(r.width * r.height for r in rects)
    inside = sum((lambda i: 0 if i is None else i.width * i.height)(r.intersect(region)) for r in rects)
    return inside / total if total else 1.0


def reachable(rects: list[Rect], region: Rect) -> bool:
    """Every opened window's centre lies in ``region``: the agent may click it (actions
    outside the region are refused)."""
    return all(region.contains(r.left + r.width / 2, r.top + r.height / 2) for r in rects)


def regions(main: Rect, screen: Rect) -> dict[str, Rect]:
    out = {f"margin_{m}": follow_region(main, screen, margin=m).even() for m in MARGINS}
    out["monitor"] = screen
    return out


def opened_windows(app: QApplication, w: Editor, main_id: int) -> dict[str, list[Rect]]:
    """For each opener: the rectangles of the app windows it showed, as X reports them."""
    out = {}
    before = {a.window_id for a in app_windows(main_id)}
    for name, opener in openers(w).items():
        what = opener()
        pump(app, 0.6)
        out[name] = [a.rect for a in app_windows(main_id) if a.window_id not in before]
        close(what)
        pump(app, 0.4)
    return out


def gtk_case(title: str, size: tuple[int, int], pos: tuple[int, int]) -> tuple[Rect, dict]:
    """The GTK editor (bench/_follow_gtk_app.py, system python3 with gi): its rectangle and,
    per opener, the rectangles of the app windows it showed."""
    app = Path(__file__).with_name("_follow_gtk_app.py")
    proc = subprocess.Popen(["/usr/bin/python3", str(app), title, *map(str, (*size, *pos))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # the window manager places it
        info = find_window(title)
        before = {a.window_id for a in app_windows(info.window_id)}
        out = {}
        for name in ("file_chooser", "message_box", "menu_and_submenu", "context_menu"):
            proc.stdin.write(name + "\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "shown"
            out[name] = [a.rect for a in app_windows(info.window_id) if a.window_id not in before]
            proc.stdin.write("close\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "closed"
            time.sleep(0.3)
        return info.rect, out
    finally:
        proc.stdin.close()
        proc.wait(10)


def case(toolkit: str, size: str, place: str, main: Rect, opened: dict, screen: Rect) -> dict:
    by_region = regions(main, screen)
    return {"toolkit": toolkit, "size": size, "place": place, "main": str(main),
            "opened": {k: [str(r) for r in v] for k, v in opened.items()},
            "coverage": {s: {k: round(coverage(v, r), 3) for k, v in opened.items()}
                         for s, r in by_region.items()},
            "reachable": {s: sum(reachable(v, r) for v in opened.values())
                          for s, r in by_region.items()}}


def summarize(cases: list[dict]) -> dict:
    summary = {}
    for s in cases[0]["coverage"]:
        vals = [v for c in cases for v in c["coverage"][s].values()]
        summary[s] = {"full": sum(v >= 0.99 for v in vals), "of": len(vals),
                      "mean_area": round(sum(vals) / len(vals), 3),
                      "centre_reachable": sum(c["reachable"][s] for c in cases)}
    return summary


def costs(screen: Rect, main: Rect, region_by_name: dict[str, Rect]) -> dict:
    from deskmimic.models.perception.reader import read_frame

    out = {}
    with open_capture(draw_cursor=True) as cap:
        for name, region in region_by_name.items():
            grabs = []
            for _ in range(10):
                t = time.perf_counter()
                frame = cap.grab(region)
                grabs.append(time.perf_counter() - t)
            read_frame(frame[..., :3].copy())  # warm: model load
            reads = []
            for _ in range(2):
                t = time.perf_counter()
                read_frame(frame[..., :3].copy())
                reads.append(time.perf_counter() - t)
            out[name] = {"pixels": region.width * region.height, "size": f"{region.width}x{region.height}",
                         "grab_ms": round(1000 * statistics.median(grabs), 1),
                         "read_ms": round(1000 * min(reads)),
                         "window_share": round(main.width * main.height / (region.width * region.height), 3)}
    return out


def main() -> int:
    wm = subprocess.Popen([shutil.which("openbox") or "openbox", "--sm-disable"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for_window_manager(), "openbox did not start"
        app = QApplication(sys.argv[:1])
        with open_capture() as cap:
            screen = cap.monitors()[0]
        cases, missed = [], 0
        for size_name, size in SIZES.items():
            for place, (fx, fy) in PLACES.items():
                title = f"bench editor {size_name} {place}"
                pos = (int(fx * (screen.width - size[0])), int(fy * (screen.height - size[1])))
                w = Editor(title, size)
                w.move(*pos)
                w.show()
                pump(app, 0.8)
                info = find_window(title)
                opened = opened_windows(app, w, info.window_id)
                missed += sum(not rects for rects in opened.values())
                cases.append(case("qt", size_name, place, info.rect, opened, screen))
                if size_name == "medium" and place == "centre":
                    medium = costs(screen, info.rect, regions(info.rect, screen))
                w.close()
                pump(app, 0.3)
                main_rect, opened = gtk_case(f"bench gtk editor {size_name} {place}", size, pos)
                missed += sum(not rects for rects in opened.values())
                cases.append(case("gtk", size_name, place, main_rect, opened, screen))
        summary = {tk: summarize([c for c in cases if c["toolkit"] == tk]) for tk in ("qt", "gtk")}
        print(json.dumps({"bench": "window_follow", "screen": str(screen), "summary": summary,
                          "costs_medium_centre": medium, "openers_not_found": missed,
                          "cases": cases}))
        return 0
    finally:
        wm.terminate()
        wm.wait(5)


if __name__ == "__main__":
    sys.exit(main())
