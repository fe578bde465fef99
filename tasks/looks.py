"""How a practice task is drawn: Qt style, font, size, screen scale and palette.

Until issue 21 every task window was drawn in one look (Fusion, the default sans at
10.5 pt, light palette, scale 1), so every learning figure measured that look alone. A
`Look` is chosen per task and seed by a *looks mode*:

- ``default``: that single look, unchanged (every existing figure, test and checkpoint
  keeps its meaning);
- ``varied``: the training looks;
- ``heldout``: looks that ``varied`` never draws (their font families and point sizes
  are held back, and only they use the dark palette).

A look draws from its own ``random.Random`` stream, so a seed's layout is the same in
every mode. The split is in `TRAIN`/`HELDOUT` below and in docs/tasks.md.

Scale is the screen's device-pixel ratio (``QT_SCALE_FACTOR``): Qt reads that once when
the application starts, and every seed may want another one, so `set_scale` changes
Qt's global factor in the running application (through ``QHighDpiScaling``, a private
but exported Qt symbol) before the task window exists.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import random
from dataclasses import asdict, dataclass
from typing import Any

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontInfo, QFontMetrics, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from deskmimic.core.errors import TaskError

logger = logging.getLogger(__name__)

LOOK_MODES = ("default", "varied", "heldout")
TOOLKIT = "qt"


@dataclass(frozen=True)
class LookSet:
    """The choices one looks mode draws from."""

    styles: tuple[str, ...]
    families: tuple[str, ...]
    sizes: tuple[float, ...]
    scales: tuple[float, ...]
    palettes: tuple[str, ...]


# Families and sizes are disjoint between the two sets, and the dark palette is only
# held out: a held-out look differs from every training look in its font at least.
TRAIN = LookSet(styles=("Fusion", "Windows"),
                families=("DejaVu Sans", "Liberation Sans", "Noto Sans", "Liberation Serif"),
                sizes=(8.0, 9.0, 10.0, 10.5, 11.0, 12.0, 13.0),
                scales=(1.0, 1.25, 1.5, 2.0), palettes=("light",))
HELDOUT = LookSet(styles=("Fusion", "Windows"),
                  families=("Nimbus Sans", "URW Gothic", "Nimbus Roman"),
                  sizes=(9.5, 11.5, 14.0, 16.0),
                  scales=(1.0, 1.25, 1.5, 2.0), palettes=("light", "dark"))

# At scale 2 a window has half the room of 1280x800 in Qt's own pixels; a 16 pt font
# there is 43 screen pixels tall and crowds the controls out of it. Sizes are kept to
# point size x scale <= this (scale 2: 11 pt; 1.5: 14 pt; 1.25 and 1: all).
MAX_SCALED_POINTS = 22.0

DARK_BANNER = {
    "idle": "background:#22303f; color:#e6edf5; border-bottom:1px solid #3a4b5e;",
    "success": "background:#1d3b26; color:#c9f0d2; border-bottom:1px solid #2f6b40;",
    "failure": "background:#4a1f1c; color:#f8d3cf; border-bottom:1px solid #7a3a34;",
}


@dataclass(frozen=True)
class Look:
    """One way of drawing a task window.

    Attributes:
        style: Qt widget style (``QStyleFactory.keys()``: Fusion, Windows).
        family: font family; ``None`` keeps the application's default font.
        point_size: the task window's font size (the instruction banner is 1 pt larger).
        scale: screen pixels per Qt pixel (1, 1.25, 1.5, 2).
        palette: ``light`` or ``dark``.
        mode: the looks mode that chose it (recorded, not drawn).
    """

    style: str = "Fusion"
    family: str | None = None
    point_size: float = 10.5
    scale: float = 1.0
    palette: str = "light"
    mode: str = "default"

    @property
    def is_default(self) -> bool:
        return (self.style, self.family, self.point_size, self.scale, self.palette) == \
            ("Fusion", None, 10.5, 1.0, "light")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def surface(self, color: str) -> str:
        """A background colour of the light design, as this look's palette draws it."""
        if self.palette != "dark":
            return color
        c = QColor(color)
        # Light surfaces become dark ones of the same hue; their order of lightness flips.
        return QColor.fromHslF(max(0.0, c.hslHueF()), c.hslSaturationF() * 0.5,
                               0.12 + (1.0 - c.lightnessF()) * 0.6).name()

    def banner_css(self, mood: str, light: dict[str, str]) -> str:
        return DARK_BANNER[mood] if self.palette == "dark" else light[mood]


DEFAULT_LOOK = Look()


def check_mode(mode: str) -> str:
    """``mode`` if it is a looks mode.

    Raises:
        TaskError: not one of `LOOK_MODES`.
    """
    if mode not in LOOK_MODES:
        raise TaskError(f"looks mode {mode!r}: expected one of {', '.join(LOOK_MODES)}")
    return mode


def look_for(task: str, seed: int, mode: str = "default") -> Look:
    """The look of task ``task`` at ``seed`` in looks mode ``mode`` (deterministic)."""
    if check_mode(mode) == "default":
        return DEFAULT_LOOK
    choices = TRAIN if mode == "varied" else HELDOUT
    # A stream of its own: the layout's stream (task name and seed) never sees these draws.
    rng = random.Random(f"look:{mode}:{task}:{seed}")
    style = rng.choice(choices.styles)
    family = rng.choice(choices.families)
    scale = rng.choice(choices.scales)
    sizes = [s for s in choices.sizes if s * scale <= MAX_SCALED_POINTS] or [min(choices.sizes)]
    size = rng.choice(sizes)
    palette = rng.choice(choices.palettes)
    return Look(style=style, family=family, point_size=size, scale=scale, palette=palette,
                mode=mode)


def dark_palette() -> QPalette:
    """A dark palette for any style (the colours of common dark desktop themes)."""
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2f33", QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#1e2124", QPalette.ColorRole.AlternateBase: "#2b2f33",
        QPalette.ColorRole.ToolTipBase: "#3c4043", QPalette.ColorRole.ToolTipText: "#e8eaed",
        QPalette.ColorRole.Text: "#e8eaed", QPalette.ColorRole.Button: "#3a3f44",
        QPalette.ColorRole.ButtonText: "#e8eaed", QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Highlight: "#3d7bd9", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#8ab4f8", QPalette.ColorRole.PlaceholderText: "#9aa0a6",
        QPalette.ColorRole.Light: "#50565c", QPalette.ColorRole.Midlight: "#44494f",
        QPalette.ColorRole.Mid: "#33373b", QPalette.ColorRole.Dark: "#191b1d",
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#80868b"))
    return p


class _Applied:
    """What the application looked like before the first look changed it, and the scale now."""

    original: tuple[QFont, QPalette] | None = None
    changed = False
    scale: float | None = None
    base_scale = 1.0  # what the process started with (QT_SCALE_FACTOR), kept by `default`


def current_scale() -> float:
    """Screen pixels per Qt pixel that the next window gets."""
    if _Applied.scale is None:
        try:
            _Applied.scale = _Applied.base_scale = float(os.environ.get("QT_SCALE_FACTOR") or 1.0)
        except ValueError:
            _Applied.scale = 1.0
    return _Applied.scale


def _global_factor_setter() -> Any:
    try:
        lib = ctypes.CDLL("libQt6Gui.so.6", mode=os.RTLD_NOLOAD | os.RTLD_GLOBAL)
        fn = lib["_ZN15QHighDpiScaling15setGlobalFactorEd"]
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_double]
    fn.restype = None
    return fn


def set_scale(factor: float) -> None:
    """Make Qt draw at ``factor`` screen pixels per Qt pixel from the next window on.

    Raises:
        TaskError: the running Qt offers no way to change it (start the process with
            ``QT_SCALE_FACTOR`` set instead).
    """
    if abs(current_scale() - factor) < 1e-9:
        return
    if QApplication.instance() is None:
        os.environ["QT_SCALE_FACTOR"] = f"{factor:g}"  # read when the application starts
        _Applied.scale = factor
        return
    fn = _global_factor_setter()
    if fn is None:
        raise TaskError(f"scale {factor:g}: this Qt cannot change its scale while running; "
                        f"start with QT_SCALE_FACTOR={factor:g} and the default looks")
    visible = [w for w in QGuiApplication.allWindows() if w.isVisible()]
    if visible:
        # Qt rescales them too, with a warning; the task windows are gone by now.
        logger.debug("changing the scale with %d windows shown", len(visible))
    fn(float(factor))
    _Applied.scale = factor


def apply_look(look: Look) -> None:
    """Set the application's style, font, palette and scale for the next task window.

    Application-wide, not per window: a task's menus, drop-downs and dialogs are windows
    of their own, which inherit neither font nor palette from the task window. The
    default look leaves an application no look has changed alone.
    """
    app = QApplication.instance()
    if app is None:
        raise TaskError("apply_look needs the QApplication (deskmimic.tasks.runner.ensure_app)")
    if _Applied.original is None:
        _Applied.original = (QFont(app.font()), QPalette(app.palette()))
    current_scale()
    set_scale(look.scale if not look.is_default else _Applied.base_scale)
    if app.style().name().lower() != look.style.lower():
        app.setStyle(look.style)
    if look.is_default:
        if _Applied.changed:
            font, palette = _Applied.original
            app.setFont(font)
            app.setPalette(palette)
            _Applied.changed = False
        return
    font = QFont(look.family) if look.family else QFont(_Applied.original[0])
    font.setPointSizeF(look.point_size)
    app.setFont(font)
    app.setPalette(dark_palette() if look.palette == "dark" else _Applied.original[1])
    _Applied.changed = True
    got = QFontInfo(font).family()
    if look.family and got.split(" [")[0] != look.family:  # Qt may add " [foundry]"
        logger.warning("font %r is not installed: Qt draws %r instead", look.family, got)


def fit_window(look: Look, geometry: tuple[int, int, int, int], screen: tuple[int, int],
               top: int) -> tuple[int, int, int, int]:
    """A window's (width, height, x, y) drawn for a ``screen`` of 1:1 pixels, fitted to the
    same screen at the look's scale: no larger than it, and placed proportionally, so the
    seed's layout draws stay the same."""
    w, h, x, y = geometry
    if look.scale == 1.0:
        return w, h, x, y
    sw, sh = screen
    lw, lh = int(sw / look.scale), int(sh / look.scale)
    ltop = math.ceil(top / look.scale)
    w2, h2 = min(w, lw - 16), min(h, lh - ltop - 8)
    x2 = 8 + round((x - 8) * max(0, lw - w2 - 16) / max(1, sw - w - 16))
    y2 = ltop + round((y - top) * max(0, lh - h2 - ltop - 8) / max(1, sh - h - top - 8))
    return w2, h2, x2, y2


def grow_banner(task: Any, screen: tuple[int, int], top: int) -> None:
    """Make the instruction banner tall enough for its text in this look's font.

    The banner heights were chosen for the default look; a 16 pt instruction wraps to
    more lines, and a cut instruction cannot be read. The window grows (and moves up
    when it must) so the controls keep the room `build` laid them out in.
    """
    look: Look = task.look
    if look.is_default:
        return
    banner = task.banner
    metrics = QFontMetrics(banner.font())
    # 12 px padding each side, 8 top and bottom (`TaskWindow._set_banner`), a pixel of border.
    text = metrics.boundingRect(QRect(0, 0, task.width() - 26, 100_000),
                                int(Qt.TextFlag.TextWordWrap), task.instruction)
    extra = text.height() + 18 - banner.height()
    if extra <= 0:
        return
    banner.setFixedHeight(banner.height() + extra)
    lh = int(screen[1] / look.scale)
    height = min(task.height() + extra, lh - math.ceil(top / look.scale) - 8)
    task.setFixedSize(task.width(), height)
    task.move(task.x(), max(math.ceil(top / look.scale), min(task.y(), lh - height - 8)))


def window_font(look: Look, font: QFont, delta: float = 0.0) -> QFont:
    """``font`` at the look's family and size (+ ``delta`` pt)."""
    if look.family:
        font.setFamily(look.family)
    font.setPointSizeF(look.point_size + delta)
    return font


__all__ = ["DEFAULT_LOOK", "HELDOUT", "LOOK_MODES", "TOOLKIT", "TRAIN", "Look", "LookSet",
           "apply_look", "check_mode", "current_scale", "fit_window", "grow_banner", "look_for",
           "set_scale", "window_font"]
