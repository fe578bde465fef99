"""The base of the GTK 3 task windows (drawn in the `deskmimic.tasks.gtk_host` child process).

A `GtkTask` mirrors a Qt task as the Tk ones do (`deskmimic.tasks.tk_host.TkTask`): it
draws from the Qt task's stream, ``random.Random(f"{mirrors}:{seed}")``, in the Qt order
(window size, position, background, then `build`, whose content comes from
`deskmimic.tasks.draws`), with the same vocabulary split, verdicts and state fields, so
a seed shows the same labels and target in every toolkit and the Qt experts solve it.
Widgets keep GTK's own look (Adwaita, or Adwaita:dark for the dark palette) in the
look's font; only the window background and the instruction banner are the Qt tasks'.

Boxes are in screen pixels: GTK works in its own pixels, ``GDK_SCALE`` screen pixels
each, and the boxes are multiplied out (`box`).
"""

from __future__ import annotations

import math
import random
import time
from typing import Any, ClassVar

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
gi.require_version("Pango", "1.0")
gi.require_version("PangoCairo", "1.0")
from gi.repository import Gdk, Gtk, Pango, PangoCairo  # noqa: E402

from deskmimic.tasks.draws import HEIGHT_RANGES, WIDTH_RANGE, Box  # noqa: E402
from deskmimic.tasks.tk_host import (  # noqa: E402 - the colours and counter every child shares
    BACKGROUNDS,
    BANNER,
    DARK_BACKGROUND,
    POLL_MS,
    SCREEN,
    TOP_MARGIN,
    StepCounter,
    px,
)
from deskmimic.tasks.vocab import Vocab, is_heldout_seed  # noqa: E402

__all__ = ["KINDS", "POLL_MS", "GtkTask", "box", "kind", "style"]

KINDS: dict[str, type[GtkTask]] = {}
"""GTK task classes by task name, filled by `kind`."""

DEFAULT_FAMILY = "DejaVu Sans"
# Adwaita's buttons, entries and drop-downs are taller than the drawn boxes (a 34 px
# least height): without these the widgets outgrow their boxes and cover each other.
COMPACT_CSS = """
button, combobox button { min-height: 0; min-width: 0; padding: 2px 8px; }
entry { min-height: 0; padding-top: 0; padding-bottom: 0; }
"""


def kind(cls: type[GtkTask]) -> type[GtkTask]:
    """Class decorator adding a GTK task class to `KINDS` under ``cls.name``."""
    if cls.mirrors not in HEIGHT_RANGES:
        raise ValueError(f"GTK task class {cls.__name__}: mirrors {cls.mirrors!r} is not a "
                         f"kind of deskmimic.tasks.draws ({', '.join(HEIGHT_RANGES)})")
    KINDS[cls.name] = cls
    return cls


def style(widget: Gtk.Widget, css: str) -> None:
    """Give ``widget`` (and only it) the CSS rules ``css``."""
    provider = Gtk.CssProvider()
    provider.load_from_data(css.encode())
    widget.get_style_context().add_provider(provider, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION + 1)


def box(widget: Gtk.Widget) -> list[int] | None:
    """``widget``'s screen [left, top, width, height] in screen pixels; ``None`` while it
    is not on screen."""
    if not widget.get_mapped():
        return None
    top = widget.get_toplevel()
    gdk_window = top.get_window()
    if gdk_window is None:
        return None
    _, ox, oy = gdk_window.get_origin()
    s = widget.get_scale_factor()
    if widget is top:  # the window itself: its X window, decorations excluded
        x, y, w, h = 0, 0, gdk_window.get_width(), gdk_window.get_height()
    else:
        moved = widget.translate_coordinates(top, 0, 0)
        if moved is None:
            return None
        a = widget.get_allocation()
        x, y, w, h = moved[-2], moved[-1], a.width, a.height
    return [(ox + x) * s, (oy + y) * s, w * s, h * s]


def fit_window(scale: int, w: int, h: int, x: int, y: int) -> tuple[int, int, int, int]:
    """The drawn (width, height, x, y) fitted to the screen at ``scale`` GTK pixels, placed
    proportionally: `deskmimic.tasks.looks.fit_window`'s rule, which lives in a Qt module."""
    if scale == 1:
        return w, h, x, y
    sw, sh = SCREEN
    lw, lh = sw // scale, sh // scale
    ltop = math.ceil(TOP_MARGIN / scale)
    w2, h2 = min(w, lw - 16), min(h, lh - ltop - 8)
    x2 = 8 + round((x - 8) * max(0, lw - w2 - 16) / max(1, sw - w - 16))
    y2 = ltop + round((y - TOP_MARGIN) * max(0, lh - h2 - ltop - 8) / max(1, sh - h - TOP_MARGIN - 8))
    return w2, h2, x2, y2


class GtkTask:
    """Base of the GTK tasks: the window, its banner, its verdict and its reports."""

    name: ClassVar[str] = ""
    mirrors: ClassVar[str] = ""  # the Qt task (and its draw) this one mirrors
    banner_height: ClassVar[int] = 46

    def __init__(self, seed: int, look: dict[str, Any]) -> None:
        self.seed, self.look = seed, look
        self.rng = random.Random(f"{self.mirrors}:{seed}")
        self.vocab = Vocab(self.rng, heldout=is_heldout_seed(seed))
        self.instruction = ""
        self.result: dict[str, Any] | None = None
        self.t_shown: float | None = None
        self.counter = StepCounter()
        self.scale = max(1, int(round(float(look.get("scale") or 1.0))))
        family = look.get("family") or DEFAULT_FAMILY
        self.font_px = px(look["point_size"])
        self.font = Pango.FontDescription.from_string(family)
        self.font.set_absolute_size(self.font_px * Pango.SCALE)
        self._font_actual: str | None = None
        w = self.rng.randint(*WIDTH_RANGE)
        h = self.rng.randint(*HEIGHT_RANGES[self.mirrors])
        x = self.rng.randint(8, SCREEN[0] - w - 8)
        y = self.rng.randint(TOP_MARGIN, SCREEN[1] - h - 8)
        background = self.rng.choice(BACKGROUNDS)
        self.background = DARK_BACKGROUND if look["palette"] == "dark" else background
        w, h, x, y = fit_window(self.scale, w, h, x, y)
        self._screen_css(family)
        self.window = Gtk.Window(title=f"deskmimic task: {self.name} (seed {seed})")
        self.window.set_resizable(False)
        self.window.set_name("task")
        layout = Gtk.Fixed()
        self.window.add(layout)
        self.banner = Gtk.Label(xalign=0, yalign=0)
        self.banner.set_name("banner")
        self.banner.set_line_wrap(True)
        self.banner.set_line_wrap_mode(Pango.WrapMode.WORD_CHAR)
        self.banner.set_max_width_chars(1)  # wrap at the width it is given, not its text's
        self.body = Gtk.Fixed()
        self.body_size = (w, h - self.banner_height)
        layout.put(self.banner, 0, 0)
        layout.put(self.body, 0, self.banner_height)
        self.build()
        if not self.instruction:
            raise ValueError(f"task {self.name}: build() must set an instruction")
        self._set_banner(self.instruction, "idle")
        # A big font wraps the instruction onto more lines: the banner grows to hold it
        # and the window with it, so the controls keep their room (as looks.grow_banner).
        banner_h = max(self.banner_height, self.banner.get_preferred_height_for_width(w)[1])
        h2 = min(h + banner_h - self.banner_height, SCREEN[1] // self.scale
                 - math.ceil(TOP_MARGIN / self.scale) - 8)
        y = max(math.ceil(TOP_MARGIN / self.scale), min(y, SCREEN[1] // self.scale - h2 - 8))
        self.banner.set_size_request(w, banner_h)
        layout.move(self.body, 0, banner_h)
        self.body.set_size_request(w, h2 - banner_h)
        self.window.set_size_request(w, h2)
        self.window.move(x, y)

    def _screen_css(self, family: str) -> None:
        css = (f'* {{ font-family: "{family}"; font-size: {self.font_px}px; }}\n'
               f"#task {{ background-color: {self.background}; }}\n"
               f"#banner {{ font-weight: bold; font-size: {px(self.look['point_size'] + 1)}px;"
               " padding: 8px 12px; }\n" + COMPACT_CSS)
        for mood, (fg, bg) in BANNER[self.look["palette"]].items():
            css += f"#banner.{mood} {{ color: {fg}; background-color: {bg}; }}\n"
        provider = Gtk.CssProvider()
        provider.load_from_data(css.encode())
        Gtk.StyleContext.add_provider_for_screen(Gdk.Screen.get_default(), provider,
                                                 Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)

    # ---- to implement ------------------------------------------------------------------
    def build(self) -> None:
        """Create the controls in ``self.body`` (`place`) and set ``self.instruction``."""
        raise NotImplementedError

    def boxes(self) -> dict[str, Gtk.Widget | list[int]]:
        """Named elements: widgets (boxed while mapped) or screen [left, top, width, height]."""
        return {}

    def next_targets(self) -> list[str]:
        return []

    def extra_state(self) -> dict[str, Any]:
        return {}

    # ---- for subclasses ----------------------------------------------------------------
    def on_finished(self) -> None:
        """Hook: close the popups the task opened."""

    def took_map(self) -> None:
        """The window is on screen: it holds the keyboard, and no field has the focus yet
        (as the Qt and Tk tasks' windows: typing needs a click into the right field)."""
        self.window.set_focus(None)
        gdk_window = self.window.get_window()
        if gdk_window is not None:
            gdk_window.focus(Gdk.CURRENT_TIME)

    def area(self, margin: int = 16) -> Box:
        """The body's inner rectangle (left, top, width, height) for absolute placement."""
        w, h = self.body_size
        return margin, margin, w - 2 * margin, h - 2 * margin

    def measure(self, text: str) -> int:
        """How wide the task's font draws ``text`` (`deskmimic.tasks.draws.Measure`)."""
        layout = Pango.Layout(PangoCairo.font_map_get_default().create_context())
        layout.set_font_description(self.font)
        layout.set_text(text, -1)
        return layout.get_pixel_size()[0]

    def font_actual(self) -> str:
        """The family Pango draws the task's font in (another one when it is missing)."""
        if self._font_actual is None:
            fonts = PangoCairo.font_map_get_default()
            font = fonts.load_font(fonts.create_context(), self.font)
            self._font_actual = font.describe().get_family() if font is not None else ""
        return self._font_actual

    def place(self, widget: Gtk.Widget, at: Box) -> None:
        """Put ``widget`` at a drawn body box (at least as large as GTK lets it be)."""
        x, y, w, h = at
        widget.set_size_request(w, h)
        self.body.put(widget, x, y)

    def button(self, label: str, command: Any) -> Gtk.Button:
        b = Gtk.Button(label=label)
        b.connect("clicked", lambda _b: command())
        return b

    def succeed(self, reason: str) -> None:
        self.finish(True, reason)

    def fail(self, reason: str) -> None:
        self.finish(False, reason)

    def finish(self, success: bool, reason: str) -> None:
        if self.result is not None:
            return
        duration = time.monotonic() - self.t_shown if self.t_shown is not None else 0.0
        self.result = {"task": self.name, "seed": self.seed, "success": bool(success),
                       "reward": 1.0 if success else 0.0, "reason": reason,
                       "steps": self.counter.count, "duration_s": round(duration, 3)}
        self.on_finished()
        for child in self.body.get_children():
            child.set_sensitive(False)
        mark = "\u2714 Done" if success else "\u2718 Failed"
        self._set_banner(f"{mark}: {reason}", "success" if success else "failure")

    # ---- state -------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        boxes = {"instruction": box(self.banner)}
        for name, item in self.boxes().items():
            boxes[name] = item if isinstance(item, list) else box(item)
        return {"name": self.name, "seed": self.seed, "instruction": self.instruction,
                "shown": self.t_shown is not None, "done": self.result is not None,
                "result": dict(self.result) if self.result else None,
                "region": box(self.window),
                "boxes": {k: v for k, v in boxes.items() if v is not None},
                "next": [] if self.result else self.next_targets(),
                "font_actual": self.font_actual(), "scale": self.scale, **self.extra_state()}

    def _set_banner(self, text: str, mood: str) -> None:
        self.banner.set_text(text)
        context = self.banner.get_style_context()
        for other in BANNER[self.look["palette"]]:
            context.remove_class(other)
        context.add_class(mood)
