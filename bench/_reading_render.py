"""Drawing reading_bench scenes (bench/_reading_scenes.py) in real toolkits, and capturing them.

Each renderer returns ``(rgb, truth)``: the frame as (H, W, 3) uint8 RGB in physical
pixels, and per placed text ``{"kind", "text", "box"}`` with ``box`` (x0, y0, x1, y1) in
frame pixels, read back from the toolkit (the element's rectangle: a label, button, list
row, menu title; not the ink).

- Qt: PySide6 widgets in this process, painted with `QWidget.render` (2x: onto an image
  with device pixel ratio 2, as a high-DPI screen grab paints);
- Tk and GTK: child processes (_reading_tk_app.py with this interpreter, _reading_gtk_app.py
  with the system python3 and GDK_SCALE for 2x) on the bench's Xvfb, captured with the
  project's capture backend (mss) once two grabs agree;
- web: Chromium headless writes the screenshot; a second run dumps the DOM with the
  elements' rectangles, written into it by the page's own script.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"


class RenderUnavailable(RuntimeError):
    """The toolkit is not installed here (the bench reports it and goes on)."""


# --- Qt ---------------------------------------------------------------------------------

def _qt_style(scene: dict) -> str:
    fg, bg, bfg, bbg, ffg, field = scene["colours"]
    weight = "bold" if scene["bold"] else "normal"
    return (f"* {{ font-family: '{scene['font']}'; font-size: {scene['px']}px; "
            f"font-weight: {weight}; }}"
            f"QWidget#win, QLabel, QCheckBox {{ background: {bg}; color: {fg}; }}"
            f"QPushButton {{ background: {bbg}; color: {bfg}; border: 1px solid #808080; "
            f"border-radius: 3px; }}"
            f"QLineEdit, QListWidget {{ background: {field}; color: {ffg}; "
            f"border: 1px solid #808080; }}"
            f"QMenuBar, QMenuBar::item {{ background: {bbg}; color: {bfg}; }}")


def _qt_window(scene: dict):
    from PySide6.QtWidgets import (
        QCheckBox,
        QLabel,
        QLineEdit,
        QListWidget,
        QMenuBar,
        QPushButton,
        QWidget,
    )

    win = QWidget()
    win.setObjectName("win")
    win.setFixedSize(*scene["size"])
    win.setStyleSheet(_qt_style(scene))
    placed = []  # (kind, text, widget, list item or menu action)
    menubar = None
    for item in scene["items"]:
        kind, texts = item["kind"], item["texts"]
        x, y, w, h = item["box"]
        if kind == "menu":
            if menubar is None:
                menubar = QMenuBar(win)
                menubar.setGeometry(0, 0, scene["size"][0], h)
            placed.append((kind, texts[0], menubar, menubar.addMenu(texts[0]).menuAction()))
            continue
        if kind == "list":
            wdg = QListWidget(win)
            for t in texts:
                wdg.addItem(t)
            placed.extend((kind, t, wdg, wdg.item(i)) for i, t in enumerate(texts))
        else:
            cls = {"label": QLabel, "button": QPushButton, "check": QCheckBox,
                   "entry": QLineEdit}[kind]
            wdg = cls(texts[0], win)
            if kind == "entry":
                wdg.setCursorPosition(0)
            placed.append((kind, texts[0], wdg, None))
        wdg.setGeometry(x, y, w, h)
    return win, placed


def render_qt(scene: dict) -> tuple[np.ndarray, list[dict]]:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication, QListWidget

    app = QApplication.instance() or QApplication([])
    win, placed = _qt_window(scene)
    win.move(0, 0)
    win.show()
    app.processEvents()
    s = scene["scale"]
    if s == 1:
        img = win.grab().toImage()
    else:
        img = QImage(win.width() * s, win.height() * s, QImage.Format.Format_RGB32)
        img.setDevicePixelRatio(s)
        painter = QPainter(img)
        win.render(painter, QPoint(0, 0))
        painter.end()
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    raw = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(h, -1)
    rgb = raw[:, : w * 3].reshape(h, w, 3).copy()
    truth = []
    for kind, text, wdg, sub in placed:
        if isinstance(wdg, QListWidget):
            r = wdg.visualItemRect(sub)
            tl = wdg.viewport().mapTo(win, r.topLeft())
        elif sub is not None:  # a menu bar title
            r = wdg.actionGeometry(sub)
            tl = wdg.mapTo(win, r.topLeft())
        else:
            r = wdg.rect()
            tl = wdg.mapTo(win, r.topLeft())
        box = [tl.x() * s, tl.y() * s, (tl.x() + r.width()) * s, (tl.y() + r.height()) * s]
        truth.append({"kind": kind, "text": text, "box": box})
    win.close()
    win.deleteLater()
    app.processEvents()
    return rgb, truth


# --- Tk and GTK: child processes on the X display --------------------------------------

def _grab_stable(width: int, height: int, timeout: float = 4.0) -> np.ndarray:
    """The screen's top-left ``width`` x ``height`` once two grabs 0.15 s apart agree."""
    from deskmimic.core.geometry import Rect
    from deskmimic.recorder.capture import open_capture

    last = None
    deadline = time.monotonic() + timeout
    with open_capture(draw_cursor=False) as cap:
        while True:
            time.sleep(0.15)
            bgra = cap.grab(Rect(0, 0, width, height))
            if last is not None and np.array_equal(bgra, last) or time.monotonic() > deadline:
                return np.ascontiguousarray(bgra[:, :, 2::-1])
            last = bgra


def render_x_child(scene: dict) -> tuple[np.ndarray, list[dict]]:
    """Tk or GTK (``scene["toolkit"]``) in a child process, captured from the screen."""
    if scene["toolkit"] == "tk":
        cmd = [sys.executable, str(HERE / "_reading_tk_app.py")]
    else:
        if not Path(SYSTEM_PYTHON).exists():
            raise RenderUnavailable("no system python3 for GTK")
        cmd = [SYSTEM_PYTHON, str(HERE / "_reading_gtk_app.py")]
    env = dict(os.environ, GDK_SCALE=str(scene["scale"]), NO_AT_BRIDGE="1")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(scene, f)
    proc = subprocess.Popen([*cmd, f.name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read()[-500:]
            raise RenderUnavailable(f"{scene['toolkit']} window did not come up: {err}")
        truth = json.loads(line)
        w, h = scene["size"]
        rgb = _grab_stable(w * scene["scale"], h * scene["scale"])
    finally:
        proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        os.unlink(f.name)
    return rgb, truth


# --- web: Chromium ----------------------------------------------------------------------

def _page(scene: dict) -> str:
    fg, bg, bfg, bbg, ffg, field = scene["colours"]
    weight = "bold" if scene["bold"] else "normal"
    parts = []
    for item in scene["items"]:
        kind, texts = item["kind"], [html.escape(t) for t in item["texts"]]
        x, y, w, h = item["box"]
        pos = f"position:absolute;left:{x}px;top:{y}px;width:{w}px;height:{h}px;"
        if kind == "label":
            parts.append(f'<span class=t style="{pos}line-height:{h}px">{texts[0]}</span>')
        elif kind == "button":
            parts.append(f'<button class=t style="{pos}">{texts[0]}</button>')
        elif kind == "menu":
            parts.append(f'<span class="t m" style="{pos}line-height:{h}px">{texts[0]}</span>')
        elif kind == "check":
            parts.append(f'<label class=t style="{pos}display:flex;align-items:center">'
                         f'<input type=checkbox>{texts[0]}</label>')
        elif kind == "entry":
            parts.append(f'<input class=t style="{pos}box-sizing:border-box" value="{texts[0]}">')
        else:
            rows = "".join(f"<li class=t>{t}</li>" for t in texts)
            parts.append(f'<ul style="{pos}">{rows}</ul>')
    script = ("document.body.setAttribute('data-boxes', JSON.stringify([...document."
              "querySelectorAll('.t')].map(e => {const r = e.getBoundingClientRect(); "
              "return [e.tagName, e.textContent || e.value, r.left, r.top, r.right, r.bottom];})));")
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
* {{ font-family: '{scene['font']}'; font-size: {scene['px']}px; font-weight: {weight}; }}
body {{ margin: 0; background: {bg}; color: {fg}; }}
button, .m {{ background: {bbg}; color: {bfg}; border: 1px solid #808080; padding: 0;
  white-space: nowrap; text-align: center; }}
input:not([type]) {{ background: {field}; color: {ffg}; border: 1px solid #808080; padding: 0 4px; }}
ul {{ margin: 0; padding: 4px; list-style: none; background: {field}; color: {ffg};
  border: 1px solid #808080; box-sizing: border-box; }}
label {{ white-space: nowrap; }}
</style></head><body>{''.join(parts)}<script>{script}</script></body></html>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    raise RenderUnavailable("chromium is not installed (apt-get install chromium)")


def render_web(scene: dict) -> tuple[np.ndarray, list[dict]]:
    exe = _chromium()
    w, h = scene["size"]
    s = scene["scale"]
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(_page(scene), encoding="utf-8")
        common = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                  f"--window-size={w},{h}", f"--force-device-scale-factor={s}",
                  f"--user-data-dir={tmp}/profile"]
        shot = Path(tmp) / "shot.png"
        subprocess.run([*common, f"--screenshot={shot}", page.as_uri()], capture_output=True,
                       timeout=60, check=True)
        dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        rgb = np.asarray(Image.open(shot).convert("RGB"))
    found = re.search(r'data-boxes="([^"]*)"', dom)
    if found is None:
        raise RenderUnavailable("chromium's DOM dump has no boxes")
    kinds = [k for it in scene["items"] for k in [it["kind"]] * len(it["texts"])]
    rects = json.loads(html.unescape(found.group(1)))
    truth = [{"kind": kind, "text": text.strip(), "box": [round(v * s) for v in (x0, y0, x1, y1)]}
             for kind, (_, text, x0, y0, x1, y1) in zip(kinds, rects, strict=True)]
    return rgb, truth


RENDERERS = {"qt": render_qt, "tk": render_x_child, "gtk": render_x_child, "web": render_web}
