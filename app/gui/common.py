"""Qt pieces shared by the GUI pages: worker threads, a bridge from the Qt-free
models' emitters to queued Qt signals, a message banner, formatting, and the look (the
style sheet itself is ``assets/style.qss``)."""

from __future__ import annotations

import ctypes
import logging
import re
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyleFactory,
    QToolButton,
    QWidget,
)

from deskmimic.core.errors import DeskmimicError

logger = logging.getLogger(__name__)

# Also written out in assets/style.qss (style sheets have no variables).
ACCENT = "#2563eb"
MUTED = "#6b7280"

# The command-line options that messages from the layers below name, as the window labels
# the same setting: a person in the GUI never typed "--window".
GUI_LABELS = (("--max-steps", "Max steps"), ("--min-confidence", "Min confidence"),
              ("--max-duration", "the time limit"), ("--window", "Window"), ("--region", "Region"),
              ("--monitor", "Screen"), ("--policy", "Policy"), ("--abort-hotkey", "Abort hotkey"),
              ("--stop-hotkey", "Stop hotkey"), ("--pause-hotkey", "Pause hotkey"),
              ("--secret-hotkey", "Secret hotkey"), ("--name", "Run name"), ("--fps", "Frame rate"))


def gui_words(message: str) -> str:
    """``message`` with command-line options said as the window labels them."""
    for flag, label in GUI_LABELS:
        message = re.sub(rf"{re.escape(flag)}(?![\w-])", label, message)
    return message


def hotkey_text(hotkey: str) -> str:
    """'<ctrl>+<alt>+<shift>+q' -> 'Ctrl+Alt+Shift+Q' (pynput's syntax, as people write it)."""
    parts = [p.strip().strip("<>") for p in hotkey.split("+")]
    return "+".join(p.upper() if len(p) == 1 else p.capitalize() for p in parts)


# Where list rows keep their episode's path (the Episodes list and the Train picker).
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


# ---- emitting signals from Python ----------------------------------------------------------
def _emit_drops_a_bool_reference() -> bool:
    """True where ``SignalInstance.emit`` returns True/False without a new reference.

    PySide6 6.12 does (measured: every ``emit`` from Python lowers ``sys.getrefcount(True)``
    by one). On Python 3.11, where True is not immortal, a long GUI session then
    deallocates True and aborts ("Fatal Python error: bool_dealloc"). Probe once.
    """

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(lost, 0)):  # give back what the probe itself took
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= 6


_EMIT_DROPS_BOOL = _emit_drops_a_bool_reference()


def emit(signal, *args: object) -> None:
    """``signal.emit(*args)``, compensating PySide6's missing reference (see above).

    Every Python-side emit in ``app/`` goes through here.
    """
    result = signal.emit(*args)
    if _EMIT_DROPS_BOOL and (result is True or result is False):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))


# ---- long work off the UI thread -------------------------------------------------------
class Task(QThread):
    """Runs ``fn(*args)`` on its own thread; ``done(result)`` or ``failed(exc)`` arrive
    on the UI thread (queued). ``report`` may be called from ``fn`` to emit progress.

    Tasks keep themselves alive until finished (a QThread destroyed while running
    aborts the process), so callers may drop their reference.
    """

    done = Signal(object)
    failed = Signal(object)
    progress = Signal(object, object)  # byte counts and times exceed 32 bits

    _live: set[Task] = set()

    def __init__(self, fn: Callable, *args: object, name: str = "task"):
        super().__init__()
        self._fn, self._args = fn, args
        self.setObjectName(f"deskmimic-{name}")
        Task._live.add(self)
        self.finished.connect(self._forget)

    def report(self, done: int, total: int) -> None:
        emit(self.progress, int(done), int(total))

    def run(self) -> None:
        try:
            result = self._fn(*self._args)
        except BaseException as exc:  # shown to the user; never lost, never kills the app
            if not isinstance(exc, DeskmimicError):
                logger.error("%s failed", self.objectName(), exc_info=exc)
            emit(self.failed, exc)
            return
        emit(self.done, result)

    def _forget(self) -> None:
        Task._live.discard(self)
        self.deleteLater()

    @classmethod
    def wait_all(cls, timeout_ms: int = 10_000) -> None:
        """Wait for running tasks (on exit); long ones are left to finish as daemons would."""
        for t in list(cls._live):
            t.wait(timeout_ms)


def run_task(fn: Callable, *args: object, on_done: Callable | None = None,
             on_error: Callable | None = None, on_progress: Callable | None = None,
             name: str = "task") -> Task:
    """Start ``fn(*args)`` on a worker thread and connect the callbacks (UI thread)."""
    t = Task(fn, *args, name=name)
    if on_done is not None:
        t.done.connect(on_done)
    if on_error is not None:
        t.failed.connect(on_error)
    if on_progress is not None:
        t.progress.connect(on_progress)
    t.start()
    return t


class EmitterBridge(QObject):
    """Re-emits a Qt-free ``Emitter`` as a Qt signal, so subscribers run on the UI
    thread even when the model changes on a worker thread."""

    changed = Signal()

    def __init__(self, emitter, parent: QObject | None = None):
        super().__init__(parent)
        emitter.connect(self._relay)

    def _relay(self, *_: object) -> None:
        emit(self.changed)


# ---- a readable message in the window ----------------------------------------------------
class Banner(QFrame):
    """A dismissable message line: error (red), info (blue) or ok (green)."""

    COLORS = {"error": ("#fef2f2", "#b91c1c", "#fecaca"), "info": ("#eff6ff", "#1d4ed8", "#bfdbfe"),
              "ok": ("#f0fdf4", "#15803d", "#bbf7d0")}

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 8, 6, 8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(self.label)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        bg, fg, border = self.COLORS[kind]
        self.kind = kind
        self.setStyleSheet(f"QFrame#banner {{ background: {bg}; border: 1px solid {border}; "
                           f"border-radius: 6px; }} QFrame#banner QLabel {{ color: {fg}; }}")
        self.label.setText(gui_words(text))
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


def heading(text: str, size: int = 16) -> QLabel:
    """A bold title; ``size`` in pixels (set by style sheet, which beats QFont)."""
    lab = QLabel(text)
    lab.setStyleSheet(f"font-size: {size}px; font-weight: 600; color: #111827;")
    return lab


class ClipLabel(QLabel):
    """A label that never widens its layout: text that does not fit (a long path) is cut
    off, and the whole of it is in the tooltip."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setToolTip(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setText(text)
        self.setToolTip(text)


def muted(text: str = "", wrap: bool = True, clip: bool = False) -> QLabel:
    """A grey label; ``clip`` for one that may hold a path (see `ClipLabel`)."""
    lab = ClipLabel(text) if clip else QLabel(text)
    lab.setWordWrap(wrap and not clip)
    lab.setStyleSheet(f"color: {MUTED};")
    return lab


# ---- formatting ----------------------------------------------------------------------------
def format_duration(seconds: float) -> str:
    seconds = max(float(seconds), 0.0)
    m, s = divmod(seconds, 60)
    if m >= 60:
        h, m = divmod(int(m), 60)
        return f"{h}:{m:02d}:{int(s):02d}"
    return f"{int(m)}:{s:04.1f}"


def short_path(path: object) -> str:
    """``/home/ana/.local/share/x`` -> ``~/.local/share/x`` for labels (shorter, and the
    same on every account)."""
    from pathlib import Path

    p, home = str(path), str(Path.home())
    if home not in ("", "/") and (p == home or p.startswith(home + "/")):
        return "~" + p[len(home):]
    return p


def plural(n: int, word: str) -> str:
    """``plural(1, "event")`` -> '1 event'; ``plural(3, "event")`` -> '3 events'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def format_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def format_created(iso: str, short: bool = False) -> str:
    """'2026-11-25T10:56:32.123+00:00' -> local '2026-11-25 11:56' ('Nov 25 11:56' if short
    and this year)."""
    from datetime import datetime

    try:
        when = datetime.fromisoformat(iso).astimezone()
    except (TypeError, ValueError):
        return iso or "?"
    if short and when.year == datetime.now().year:
        return when.strftime("%b %d %H:%M")
    return when.strftime("%Y-%m-%d %H:%M")


# ---- look and feel -----------------------------------------------------------------------
def style_sheet() -> str:
    """The window's style sheet, ``assets/style.qss`` (shipped as package data)."""
    from deskmimic import assets  # only a starting app reads it

    return assets.read_text("style.qss")


def apply_style(app: QApplication) -> None:
    """Fusion with a light palette: the same look on every desktop and on Xvfb."""
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Window, QColor("#f5f6f8"))
    pal.setColor(QPalette.ColorRole.Base, QColor("white"))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#f9fafb"))
    pal.setColor(QPalette.ColorRole.Text, QColor("#111827"))
    pal.setColor(QPalette.ColorRole.WindowText, QColor("#111827"))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor("#111827"))
    pal.setColor(QPalette.ColorRole.Button, QColor("white"))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("white"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor("#111827"))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor("white"))
    app.setPalette(pal)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(10)
    app.setFont(font)
    app.setStyleSheet(style_sheet())
