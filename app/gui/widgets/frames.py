"""Decoding frames off the UI thread, and drawing a frame with its input overlay.

`FrameLoader` owns the open `Episode` on its own QThread (decoders are not
thread-safe). Requests coalesce: while scrubbing, only the newest requested frame
is decoded, so the UI never queues up stale work. `FrameView` paints the frame
letter-boxed with the cursor trail and the recent clicks, scrolls and keys.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QThread, Signal, Slot
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from deskmimic.app.gui.common import emit
from deskmimic.app.gui.state import EventTimeline
from deskmimic.core.errors import describe_error

logger = logging.getLogger(__name__)


def to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB -> a QImage that owns its pixels (safe on any thread)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


@dataclass
class OpenedEpisode:
    """What the viewer needs once an episode is open (built on the loader thread)."""

    path: Path
    meta: dict
    frame_times: np.ndarray
    timeline: EventTimeline
    size: tuple[int, int]


class FrameLoader(QObject):
    """Opens episodes and decodes frames on a private thread; newest request wins.

    Every ``open`` starts a new generation; results carry it so the viewer drops
    answers that belong to an episode it no longer shows.
    """

    opened = Signal(int, object)
    frame_ready = Signal(int, int, QImage)
    failed = Signal(int, str)
    _wake = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._gen = 0
        self._open_req: tuple[int, Path | None] | None = None
        self._frame_req: tuple[int, int] | None = None
        self._ep = None
        self._ep_gen = -1
        self._thread = QThread()
        self._thread.setObjectName("deskmimic-frames")
        self.moveToThread(self._thread)
        self._wake.connect(self._work)
        self._thread.start()

    # ---- called on the UI thread ----------------------------------------------------
    def open(self, path: Path | None) -> int:
        with self._lock:
            self._gen += 1
            self._open_req = (self._gen, path)
            self._frame_req = None
            gen = self._gen
        emit(self._wake)
        return gen

    def request(self, index: int) -> None:
        with self._lock:
            self._frame_req = (self._gen, int(index))
        emit(self._wake)

    def shutdown(self) -> None:
        self.open(None)
        self._thread.quit()
        self._thread.wait(5000)

    # ---- on the loader thread -------------------------------------------------------
    @Slot()
    def _work(self) -> None:
        with self._lock:
            open_req, self._open_req = self._open_req, None
        if open_req is not None:
            self._open(*open_req)
        with self._lock:
            req, self._frame_req = self._frame_req, None
        if req is not None and self._ep is not None and req[0] == self._ep_gen:
            gen, index = req
            try:
                img = to_qimage(self._ep.frame(min(max(index, 0), self._ep.frame_count - 1)))
            except Exception as exc:  # a broken segment must not take the viewer down
                emit(self.failed, gen, f"Frame {index} cannot be shown: {describe_error(exc)}")
                return
            emit(self.frame_ready, gen, index, img)

    def _open(self, gen: int, path: Path | None) -> None:
        from deskmimic.recorder.episode import Episode

        if self._ep is not None:
            self._ep.close()
            self._ep = None
        self._ep_gen = -1
        if path is None:
            return
        try:
            ep = Episode.open(path)
            if ep.frame_count == 0:
                ep.close()
                raise ValueError(f"{path}: the episode has no frames (frames.csv is empty)")
            timeline = EventTimeline(ep.read_events())
            data = OpenedEpisode(path=Path(path), meta=ep.meta, frame_times=ep.frame_times,
                                 timeline=timeline, size=ep.size)
        except Exception as exc:
            emit(self.failed, gen, f"This episode cannot be opened: {describe_error(exc)}")
            return
        self._ep, self._ep_gen = ep, gen
        emit(self.opened, gen, data)


BUTTON_COLORS = {"left": QColor("#ef4444"), "right": QColor("#3b82f6"), "middle": QColor("#22c55e")}


class FrameView(QWidget):
    """A frame scaled to fit, with the last ~0.5 s of pointer motion and recent input."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)
        self.image: QImage | None = None
        self.trail = np.zeros((0, 2), np.int64)
        self.recent: list[tuple[float, dict]] = []
        self.placeholder = "Select an episode to view it"

    def set_frame(self, image: QImage | None, trail: np.ndarray | None = None,
                  recent: list | None = None) -> None:
        self.image = image
        self.trail = trail if trail is not None else np.zeros((0, 2), np.int64)
        self.recent = recent or []
        self.update()

    def image_rect(self) -> QRectF:
        if self.image is None:
            return QRectF()
        w, h = self.image.width(), self.image.height()
        s = min(self.width() / w, self.height() / h)
        return QRectF((self.width() - w * s) / 2, (self.height() - h * s) / 2, w * s, h * s)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#111827"))
        if self.image is None:
            p.setPen(QColor("#9ca3af"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        r = self.image_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.drawImage(r, self.image)
        s = r.width() / self.image.width()

        def pt(x: float, y: float) -> QPointF:
            return QPointF(r.left() + (x + 0.5) * s, r.top() + (y + 0.5) * s)

        n = len(self.trail)
        for i in range(1, n):  # older segments fade out
            alpha = int(40 + 200 * i / n)
            p.setPen(QPen(QColor(250, 204, 21, alpha), 2.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawLine(pt(*self.trail[i - 1]), pt(*self.trail[i]))
        keys: list[str] = []
        for age, ev in self.recent:
            alpha = max(int(255 * (1.0 - age)), 40)
            kind = ev["type"]
            if kind in ("button_down", "button_up"):
                c = QColor(BUTTON_COLORS.get(ev.get("button"), QColor("#a855f7")))
                c.setAlpha(alpha)
                radius = 7 + 14 * age if kind == "button_down" else 5
                p.setPen(QPen(c, 3 if kind == "button_down" else 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(pt(ev["x"], ev["y"]), radius, radius)
            elif kind == "scroll":
                self._scroll_arrow(p, pt(ev["x"], ev["y"]), int(ev.get("dy", 0)), alpha)
            elif kind == "key_down":
                keys.append(str(ev.get("char") or ev.get("key") or "?"))
            elif kind == "marker":
                keys.append(f"⚑ {ev.get('name', '')}")
        if keys:
            self._chips(p, r, keys[-8:])

    def _scroll_arrow(self, p: QPainter, at: QPointF, dy: int, alpha: int) -> None:
        c = QColor(34, 197, 94, alpha)
        p.setPen(QPen(c, 3))
        d = -18 if dy > 0 else 18
        p.drawLine(at, at + QPointF(0, d))
        head = QPainterPath(at + QPointF(0, d * 1.4))
        head.lineTo(at + QPointF(-6, d))
        head.lineTo(at + QPointF(6, d))
        head.closeSubpath()
        p.fillPath(head, c)

    def _chips(self, p: QPainter, r: QRectF, labels: list[str]) -> None:
        f = QFont(self.font())
        f.setBold(True)
        p.setFont(f)
        fm = p.fontMetrics()
        x, y = r.left() + 10, r.bottom() - 10
        for text in labels:
            w = fm.horizontalAdvance(text) + 14
            box = QRectF(x, y - fm.height() - 6, w, fm.height() + 6)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(17, 24, 39, 210))
            p.drawRoundedRect(box, 4, 4)
            p.setPen(QColor("white"))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
            x += w + 4
