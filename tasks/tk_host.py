"""The child process that shows one Tk practice task (Tk and Qt cannot share a main loop).

    python -m deskmimic.tasks.tk_host '{"task": "tk_click_button", "seed": 3, "look": {...}}'

The window reports over stdout, one JSON object a line: ``{"event": "state", "state":
{...}}`` whenever its state changed (polled every `POLL_MS`), the same fields as
`TaskWindow.state` with boxes as screen ``[left, top, width, height]``; the last one has
``done`` and ``result``. It reads commands from stdin, one JSON object a line:
``{"cmd": "abort", "reason": ...}`` ends the task as a failure, ``{"cmd": "close"}`` (or
stdin closing: the host is gone) closes the window and exits.
"""

from __future__ import annotations

import json
import queue
import random
import sys
import threading
import time
import tkinter as tk
import tkinter.font as tkfont
from typing import Any, ClassVar

from deskmimic.core.rules import StepRules
from deskmimic.tasks.draws import HEIGHT_RANGES, WIDTH_RANGE, Box
from deskmimic.tasks.vocab import Vocab, is_heldout_seed

SCREEN = (1280, 800)
TOP_MARGIN = 36  # as the Qt tasks: room for a window manager's title bar
POLL_MS = 25
BACKGROUNDS = ("#ffffff", "#fbfbf8", "#f7f9fc", "#fafaf5", "#f6f8f6")  # tasks.base's

# Foreground, background pairs of the banner per mood (the Qt tasks' BANNER_STYLE and
# looks.DARK_BANNER), and the widget colours of each palette.
BANNER = {
    "light": {"idle": ("#1d2939", "#eef3fb"), "success": ("#14532d", "#e3f4e6"),
              "failure": ("#7a1f1a", "#fbe7e6")},
    "dark": {"idle": ("#e6edf5", "#22303f"), "success": ("#c9f0d2", "#1d3b26"),
             "failure": ("#f8d3cf", "#4a1f1c")},
}
PALETTES = {
    "light": {"fg": "#1d2939", "button": "#e4e7eb", "active": "#d2d7de", "field": "#ffffff",
              "field_fg": "#111111", "disabled": "#8a8f96"},
    "dark": {"fg": "#e8eaed", "button": "#3a3f44", "active": "#4a5056", "field": "#1e2124",
             "field_fg": "#e8eaed", "disabled": "#80868b"},
}
DARK_BACKGROUND = "#24282c"

COUNT_TAG = "deskmimic-count"
_RULES = StepRules()
_MODIFIERS = {"Shift_L", "Shift_R", "Control_L", "Control_R", "Alt_L", "Alt_R", "Meta_L",
              "Meta_R", "Super_L", "Super_R", "Caps_Lock", "ISO_Level3_Shift"}
_CTRL_ALT_MASK = 0x4 | 0x8  # Control, Mod1 (Alt)

KINDS: dict[str, type[TkTask]] = {}
"""Tk task classes by task name, filled by `kind`."""


def kind(cls: type[TkTask]) -> type[TkTask]:
    """Class decorator adding a Tk task class to `KINDS` under ``cls.name``."""
    if cls.mirrors not in HEIGHT_RANGES:
        raise ValueError(f"Tk task class {cls.__name__}: mirrors {cls.mirrors!r} is not a "
                         f"kind of deskmimic.tasks.draws ({', '.join(HEIGHT_RANGES)})")
    KINDS[cls.name] = cls
    return cls


def px(points: float) -> int:
    """Points to pixels at 96 dpi, as Qt draws them (Tk's own point scaling follows the
    X screen's reported size, which differs between displays)."""
    return round(points * 96 / 72)


class StepCounter:
    """The Qt tasks' step counter (`deskmimic.tasks.base.StepCounter`) on Tk events."""

    def __init__(self) -> None:
        self.count = 0
        self._last_kind = ""
        self._last_time = 0.0
        self._last_press = (-1e9, 0, 0)

    def press(self, event: tk.Event) -> None:
        now = time.monotonic()
        if event.num in (4, 5):  # X wheel clicks arrive as buttons 4 and 5
            if self._last_kind != "scroll" or now - self._last_time > _RULES.scroll_gap_ms / 1000:
                self._add("scroll", now)
            self._last_kind, self._last_time = "scroll", now
            return
        t, x, y = self._last_press
        double = (now - t <= _RULES.double_click_ms / 1000
                  and abs(event.x_root - x) <= _RULES.double_click_px
                  and abs(event.y_root - y) <= _RULES.double_click_px)
        self._last_press = (now, event.x_root, event.y_root)
        if not double:
            self._add("pointer", now)

    def key(self, event: tk.Event) -> None:
        if event.keysym in _MODIFIERS:
            return
        now = time.monotonic()
        char = event.char
        if char and char.isprintable() and not int(event.state) & _CTRL_ALT_MASK:
            if self._last_kind != "type" or now - self._last_time > _RULES.idle_gap_ms / 1000:
                self._add("type", now)
            self._last_time = now
        else:
            self._add("key", now)

    def _add(self, what: str, now: float) -> None:
        self.count += 1
        self._last_kind, self._last_time = what, now


class TkTask:
    """Base of the Tk tasks: the window, its banner, its verdict and its reports.

    Draws from the stream of the Qt task it mirrors, ``random.Random(f"{mirrors}:{seed}")``,
    in the Qt tasks' order (window size, position, background, then `build`, which takes
    its content from `deskmimic.tasks.draws`), with the same vocabulary split: a seed
    shows the same labels, target and text as the Qt window of that seed.
    """

    name: ClassVar[str] = ""
    mirrors: ClassVar[str] = ""  # the Qt task (and its draw) this one mirrors
    banner_height: ClassVar[int] = 46

    def __init__(self, root: tk.Tk, seed: int, look: dict[str, Any]) -> None:
        self.root, self.seed, self.look = root, seed, look
        self.rng = random.Random(f"{self.mirrors}:{seed}")
        self.vocab = Vocab(self.rng, heldout=is_heldout_seed(seed))
        self.instruction = ""
        self.result: dict[str, Any] | None = None
        self.t_shown: float | None = None
        self.counter = StepCounter()
        self.colors = PALETTES[look["palette"]]
        family = look.get("family") or "DejaVu Sans"
        self.font = tkfont.Font(root, family=family, size=-px(look["point_size"]))
        self.banner_font = tkfont.Font(root, family=family, size=-px(look["point_size"] + 1),
                                       weight="bold")
        w = self.rng.randint(*WIDTH_RANGE)
        h = self.rng.randint(*HEIGHT_RANGES[self.mirrors])
        x = self.rng.randint(8, SCREEN[0] - w - 8)
        y = self.rng.randint(TOP_MARGIN, SCREEN[1] - h - 8)
        background = self.rng.choice(BACKGROUNDS)
        self.background = DARK_BACKGROUND if look["palette"] == "dark" else background
        root.title(f"deskmimic task: {self.name} (seed {seed})")
        root.configure(background=self.background)
        root.resizable(False, False)
        self.banner = tk.Label(root, font=self.banner_font, anchor="nw", justify="left",
                               padx=12, pady=8, wraplength=w - 26, borderwidth=0)
        self.body = tk.Frame(root, background=self.background, borderwidth=0,
                             highlightthickness=0, takefocus=0)
        self.body_size = (w, h - self.banner_height)
        self.build()
        if not self.instruction:
            raise ValueError(f"task {self.name}: build() must set an instruction")
        self._set_banner(self.instruction, "idle")
        # A big font wraps the instruction onto more lines: the banner grows to hold it
        # and the window with it, so the controls keep their room (as looks.grow_banner).
        banner_h = max(self.banner_height, self.banner.winfo_reqheight())
        h2 = min(h + banner_h - self.banner_height, SCREEN[1] - TOP_MARGIN - 8)
        y = max(TOP_MARGIN, min(y, SCREEN[1] - h2 - 8))
        self.banner.place(x=0, y=0, width=w, height=banner_h)
        self.body.place(x=0, y=banner_h, width=w, height=h2 - banner_h)
        root.geometry(f"{w}x{h2}+{x}+{y}")
        # Counted ahead of the widgets' own bindings (as the Qt tasks' event filter is):
        # an Enter that submits ends the task in the Entry's binding, before "all" sees it.
        root.bind_class(COUNT_TAG, "<ButtonPress>", self._count_press, add="+")
        root.bind_class(COUNT_TAG, "<KeyPress>", self._count_key, add="+")
        # Every widget under the window: also those Tk itself made (a drop-down's list,
        # which tkinter does not know), as the Qt tasks count their popups too.
        tcl, todo = root.tk, ["."]
        while todo:
            path = todo.pop()
            tcl.call("bindtags", path, (COUNT_TAG, *tcl.splitlist(tcl.call("bindtags", path))))
            todo.extend(tcl.splitlist(tcl.call("winfo", "children", path)))

    # ---- to implement ------------------------------------------------------------------
    def build(self) -> None:
        """Create the controls in ``self.body`` (placed) and set ``self.instruction``."""
        raise NotImplementedError

    def boxes(self) -> dict[str, tk.Misc | list[int]]:
        """Named elements: widgets (boxed while mapped) or screen [left, top, width, height]."""
        return {}

    def next_targets(self) -> list[str]:
        return []

    def extra_state(self) -> dict[str, Any]:
        return {}

    # ---- for subclasses ----------------------------------------------------------------
    def on_finished(self) -> None:
        """Hook: close the popups the task opened."""

    def area(self, margin: int = 16) -> Box:
        """The body's inner rectangle (left, top, width, height) for absolute placement."""
        w, h = self.body_size
        return margin, margin, w - 2 * margin, h - 2 * margin

    def measure(self, text: str) -> int:
        """How wide the task's font draws ``text`` (`deskmimic.tasks.draws.Measure`)."""
        return self.font.measure(text)

    def button(self, label: str, command: Any) -> tk.Button:
        c = self.colors
        return tk.Button(self.body, text=label, font=self.font, command=command,
                         foreground=c["fg"], background=c["button"],
                         activeforeground=c["fg"], activebackground=c["active"],
                         disabledforeground=c["disabled"], highlightbackground=self.background)

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
        for child in self.body.winfo_children():
            try:
                child.configure(state="disabled")
            except tk.TclError:
                pass  # a label or frame has no state
        mark = "\u2714 Done" if success else "\u2718 Failed"
        self._set_banner(f"{mark}: {reason}", "success" if success else "failure")
        self.on_finished()

    # ---- state -------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        boxes = {"instruction": _box(self.banner)}
        for name, item in self.boxes().items():
            box = item if isinstance(item, list) else _box(item)
            if box is not None:
                boxes[name] = box
        return {"name": self.name, "seed": self.seed, "instruction": self.instruction,
                "shown": self.t_shown is not None, "done": self.result is not None,
                "result": dict(self.result) if self.result else None,
                "region": _box(self.root), "boxes": boxes,
                "next": [] if self.result else self.next_targets(),
                "font_actual": self.font.actual("family"), **self.extra_state()}

    def _set_banner(self, text: str, mood: str) -> None:
        fg, bg = BANNER[self.look["palette"]][mood]
        self.banner.configure(text=text, foreground=fg, background=bg)

    def _count_press(self, event: tk.Event) -> None:
        if self.result is None:
            self.counter.press(event)

    def _count_key(self, event: tk.Event) -> None:
        if self.result is None:
            self.counter.key(event)


def _box(widget: tk.Misc) -> list[int] | None:
    if not widget.winfo_ismapped():
        return None
    return [widget.winfo_rootx(), widget.winfo_rooty(), widget.winfo_width(), widget.winfo_height()]


def _read_commands(commands: queue.Queue) -> None:
    # Tk may only be touched from its own thread: stdin is read here, acted on in `poll`.
    for line in sys.stdin:
        try:
            commands.put(json.loads(line))
        except ValueError:
            continue
    commands.put({"cmd": "close"})


def serve(spec: dict[str, Any]) -> int:
    """Show the task ``spec`` names until the host closes it; report over stdout."""
    # Run as ``-m``, this module is ``__main__``: the kinds register in the imported one.
    from deskmimic.tasks import tk_lists, tk_windows  # noqa: F401 - the kinds register

    root = tk.Tk(className="deskmimic-task")
    task = tk_windows.KINDS[spec["task"]](root, int(spec["seed"]), spec["look"])
    commands: queue.Queue = queue.Queue()
    threading.Thread(target=_read_commands, args=(commands,), daemon=True).start()
    last = [""]

    def on_map(event: tk.Event) -> None:
        if task.t_shown is None and event.widget is root:
            task.t_shown = time.monotonic()
            # The window itself holds the focus at first, as the Qt tasks' windows do:
            # typing needs a click into the right field first.
            root.focus_force()

    def poll() -> None:
        while not commands.empty():
            cmd = commands.get()
            if cmd.get("cmd") == "abort":
                task.fail(str(cmd.get("reason", "aborted")))
            elif cmd.get("cmd") == "close":
                task.fail("window closed")
                _emit(task, last)
                root.destroy()
                return
        _emit(task, last)
        root.after(POLL_MS, poll)

    root.bind("<Map>", on_map, add="+")
    root.protocol("WM_DELETE_WINDOW", lambda: commands.put({"cmd": "close"}))
    root.after(POLL_MS, poll)
    root.mainloop()
    return 0


def _emit(task: TkTask, last: list[str]) -> None:
    if task.t_shown is None or not task.root.winfo_ismapped():
        return
    line = json.dumps({"event": "state", "state": task.state()})
    if line != last[0]:
        last[0] = line
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return serve(json.loads(args[0]))


if __name__ == "__main__":
    sys.exit(main())
