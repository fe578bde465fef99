"""The web practice pages: what a seed draws, the HTML that shows it, and its verdicts.

Each kind mirrors a Qt task (and its Tk twin): the same draw (`deskmimic.tasks.draws`) from
the same stream, ``random.Random("<Qt kind>:<seed>")``, in the same order (window size,
position, background, then the draw), so a seed asks for the same thing in every toolkit.
Text widths come from the browser itself (canvas ``measureText`` in the page's font).

The page only reports: a small script logs what the person did (a button clicked, a box
ticked, a form submitted, an entry picked, with the step count at that moment) and counts
steps with the reducer's thresholds (`deskmimic.core.rules.StepRules`), ahead of the
page's own handlers. The verdict is drawn here, in Python, from that log with the rules
every toolkit shares (`deskmimic.tasks.verdicts`); the page is then told to show it.
"""

from __future__ import annotations

import html
import json
import random
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, ClassVar

from deskmimic.core.rules import StepRules
from deskmimic.tasks import draws
from deskmimic.tasks.draws import HEIGHT_RANGES, PLACEHOLDER, WIDTH_RANGE
from deskmimic.tasks.looks import Look, fit_window
from deskmimic.tasks.tk_host import (
    BACKGROUNDS,
    BANNER,
    DARK_BACKGROUND,
    PALETTES,
    SCREEN,
    TOP_MARGIN,
    TkTask,
    px,
)
from deskmimic.tasks.verdicts import (
    SequenceRules,
    TickRules,
    click_verdict,
    form_targets,
    join_words,
    pick_verdict,
    submit_verdict,
)
from deskmimic.tasks.vocab import Vocab, is_heldout_seed
from deskmimic.tasks.web_script import RUNTIME_JS

BANNER_HEIGHT = TkTask.banner_height  # the least banner height, as Qt's and Tk's
BORDER = "#9aa3ad"

def css_font(look: Look, bold: bool = False, extra_pt: float = 0.0) -> str:
    """A CSS font shorthand for the look: its family at point size x 96/72 CSS pixels."""
    family = (look.family or "DejaVu Sans").replace("'", "")
    return f"{'bold ' if bold else ''}{px(look.point_size + extra_pt)}px '{family}'"


def esc(text: str) -> str:
    return html.escape(text, quote=True)


class WebPage:
    """One task page: the draw, its HTML and the Python side of its verdict.

    Draws from the stream of the Qt task it mirrors, in the Qt tasks' order. ``measure``
    is how wide the browser draws a text in the page's font (CSS pixels).
    """

    name: ClassVar[str] = ""
    mirrors: ClassVar[str] = ""

    def __init__(self, seed: int, look: Look, measure: Callable[[str], int]) -> None:
        self.seed, self.look, self.measure = seed, look, measure
        self.rng = random.Random(f"{self.mirrors}:{seed}")
        self.vocab = Vocab(self.rng, heldout=is_heldout_seed(seed))
        self.result: dict[str, Any] | None = None
        self.commands: list[str] = []  # scripts the page is to run (marks, the verdict)
        self.dom: dict[str, Any] = {"values": {}, "checked": [], "open": False, "focus": None}
        self.event: dict[str, Any] = {}
        self.t_shown = 0.0  # the page's clock (ms) when the window was shown
        w = self.rng.randint(*WIDTH_RANGE)
        h = self.rng.randint(*HEIGHT_RANGES[self.mirrors])
        x = self.rng.randint(8, SCREEN[0] - w - 8)
        y = self.rng.randint(TOP_MARGIN, SCREEN[1] - h - 8)
        background = self.rng.choice(BACKGROUNDS)
        # The draws are made for a screen of 1:1 pixels: at a larger scale the window is
        # fitted to the screen in CSS pixels, as the Qt windows are (`looks.fit_window`).
        self.w, self.h, self.x, self.y = fit_window(look, (w, h, x, y), SCREEN, TOP_MARGIN)
        self.colors = PALETTES[look.palette]
        self.background = DARK_BACKGROUND if look.palette == "dark" else background
        self.body_h = self.h - BANNER_HEIGHT
        self.instruction = ""
        self.parts: list[str] = []
        self.build()

    # ---- to implement ------------------------------------------------------------------
    def build(self) -> None:
        """Draw the content, append its HTML to ``parts`` and set ``instruction``."""
        raise NotImplementedError

    def apply(self, event: dict[str, Any]) -> None:
        """One logged action of the person (``event["ev"]``) against the rules."""

    def next_targets(self) -> list[str]:
        return []

    def extra_state(self) -> dict[str, Any]:
        return {}

    # ---- for the kinds -----------------------------------------------------------------
    def area(self, margin: int = 16) -> draws.Box:
        return margin, margin, self.w - 2 * margin, self.body_h - 2 * margin

    @staticmethod
    def pos(box: draws.Box) -> str:
        x, y, w, h = box
        return f"left:{x}px;top:{y}px;width:{w}px;height:{h}px;"

    def button(self, label: str, box: draws.Box, style: str = "") -> None:
        self.parts.append(f'<button data-name="button:{esc(label)}" style="{self.pos(box)}'
                          f'{style}" onclick="__dm.emit({{ev: \'click\', label: '
                          f'{esc(json.dumps(label))}}})">{esc(label)}</button>')

    def submit_button(self, box: draws.Box) -> None:
        self.parts.append(f'<button data-name="button:Submit" style="{self.pos(box)}" '
                          "onclick=\"__dm.emit({ev: 'submit'})\">Submit</button>")

    def succeed(self, reason: str) -> None:
        self.finish(True, reason)

    def fail(self, reason: str) -> None:
        self.finish(False, reason)

    def finish(self, success: bool, reason: str) -> None:
        """The verdict, counted up to the action that decided it."""
        if self.result is not None:
            return
        t = float(self.event.get("t", self.dom.get("t", self.t_shown)))
        steps = int(self.event.get("steps", self.dom.get("steps", 0)))
        self.result = {"task": self.name, "seed": self.seed, "success": bool(success),
                       "reward": 1.0 if success else 0.0, "reason": reason, "steps": steps,
                       "duration_s": round(max(0.0, t - self.t_shown) / 1000, 3)}
        mark = "\u2714 Done" if success else "\u2718 Failed"
        self.commands.append(f"__dm.finish({json.dumps(success)}, {json.dumps(f'{mark}: {reason}')})")

    # ---- the page ----------------------------------------------------------------------
    def html(self) -> str:
        look, c = self.look, self.colors
        banner = BANNER[look.palette]
        moods = "".join(f"#banner.{m} {{ color: {fg}; background: {bg}; }}\n"
                        for m, (fg, bg) in banner.items())
        rules = json.dumps(asdict(StepRules()))
        return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>deskmimic task: {self.name} (seed {self.seed})</title>
<style>
* {{ font: {css_font(look)}; box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; overflow: hidden; background: {self.background};
  color: {c['fg']}; cursor: default; user-select: none; }}
#banner {{ font: {css_font(look, bold=True, extra_pt=1)}; padding: 8px 12px;
  min-height: {BANNER_HEIGHT}px; width: {self.w}px; white-space: normal; }}
{moods}
#body {{ position: relative; width: {self.w}px; height: {self.body_h}px; }}
#body > * {{ position: absolute; margin: 0; }}
button {{ color: {c['fg']}; background: {c['button']}; border: 1px solid {BORDER};
  border-radius: 3px; padding: 0 4px; white-space: nowrap; }}
button:hover:not(:disabled) {{ background: {c['active']}; }}
button:disabled {{ color: {c['disabled']}; }}
input[data-field] {{ color: {c['field_fg']}; background: {c['field']};
  border: 1px solid {BORDER}; padding: 0 4px; outline-offset: -2px; }}
.cell {{ display: flex; align-items: center; }}
.check {{ display: inline-flex; align-items: center; gap: 4px; padding: 2px; white-space: nowrap; }}
.check input {{ margin: 0; accent-color: {c['fg']}; }}
.caption {{ display: flex; align-items: center; white-space: nowrap; }}
ul {{ list-style: none; padding: 0; border: 1px solid {BORDER}; background: {c['field']};
  color: {c['field_fg']}; overflow: hidden; }}
li {{ padding: 0 6px; display: flex; align-items: center; white-space: nowrap; }}
li:hover:not(.off) {{ background: {c['active']}; }}
li.picked {{ background: {c['fg']}; color: {c['field']}; }}
select, ::picker(select) {{ appearance: base-select; }}
select {{ color: {c['field_fg']}; background: {c['field']}; border: 1px solid {BORDER};
  border-radius: 3px; padding: 0 6px; display: inline-flex; align-items: center; }}
::picker(select) {{ background: {c['field']}; color: {c['field_fg']};
  border: 1px solid {BORDER}; padding: 0; }}
option {{ padding: 1px 6px; line-height: 1.2; color: {c['field_fg']}; }}
option:hover {{ background: {c['active']}; }}
.off {{ pointer-events: none; }}
</style></head>
<body><div id="banner" class="idle" data-name="instruction">{esc(self.instruction)}</div>
<div id="body">{''.join(self.parts)}</div>
<script>{RUNTIME_JS % {'rules': rules}}</script></body></html>"""


KINDS: dict[str, type[WebPage]] = {}


def kind(cls: type[WebPage]) -> type[WebPage]:
    if cls.mirrors not in HEIGHT_RANGES:
        raise ValueError(f"web page class {cls.__name__}: mirrors {cls.mirrors!r} is not a "
                         f"kind of deskmimic.tasks.draws ({', '.join(HEIGHT_RANGES)})")
    KINDS[cls.name] = cls
    return cls


@kind
class WebClickButton(WebPage):
    name = "web_click_button"
    mirrors = "click_button"

    def build(self) -> None:
        d = draws.click_button(self.rng, self.vocab, self.area(), self.measure)
        self.labels, self.target = d.labels, d.target
        for label, box in zip(self.labels, d.boxes, strict=True):
            self.button(label, box)
        self.instruction = f"Click {self.target}"

    def apply(self, event: dict[str, Any]) -> None:
        if event["ev"] == "click":
            ok, reason = click_verdict(event["label"], self.target)
            self.finish(ok, reason)

    def next_targets(self) -> list[str]:
        return [f"button:{self.target}"]

    def extra_state(self) -> dict[str, Any]:
        return {"target": self.target, "labels": list(self.labels)}


@kind
class WebTypeField(WebPage):
    name = "web_type_field"
    mirrors = "type_field"

    def build(self) -> None:
        d = draws.type_field(self.rng, self.vocab, self.area(), self.measure)
        self.labels, self.target, self.text = d.labels, d.target, d.text
        for label, caption, field in zip(self.labels, d.captions, d.fields, strict=True):
            self.parts.append(f'<div class="caption" style="{self.pos(caption)}">'
                              f"{esc(label)}:</div>")
            self.parts.append(
                f'<input data-field="{esc(label)}" data-name="field:{esc(label)}" '
                f'style="{self.pos(field)}" autocomplete="off" spellcheck="false" '
                "onkeydown=\"if (event.key === 'Enter') { event.preventDefault(); "
                "__dm.emit({ev: 'submit'}); }\">")
        self.submit_button(d.submit)
        self.instruction = f"Type '{self.text}' into {self.target}"

    def apply(self, event: dict[str, Any]) -> None:
        if event["ev"] == "submit":
            self.finish(*submit_verdict(event["values"], self.target, self.text))

    def next_targets(self) -> list[str]:
        values = {lab: self.dom["values"].get(lab, "") for lab in self.labels}
        return form_targets(values, self.target, self.text)

    def extra_state(self) -> dict[str, Any]:
        values = {lab: self.dom["values"].get(lab, "") for lab in self.labels}
        return {"target": self.target, "text": self.text, "focus": self.dom["focus"],
                "values": values}


@kind
class WebClickSequence(SequenceRules, WebPage):
    name = "web_click_sequence"
    mirrors = "click_sequence"

    def build(self) -> None:
        d = draws.click_sequence(self.rng, self.vocab, self.area(), self.measure)
        self.labels, self.sequence = d.labels, d.sequence
        self.progress = 0
        for label, box, color in zip(self.labels, d.boxes, d.colors, strict=True):
            # The dark text of a coloured button on any palette, as the Qt and Tk ones.
            self.button(label, box, f"background:{color};color:#1d2939;")
        self.instruction = "Click " + ", then ".join(self.sequence)

    def mark_clicked(self, label: str) -> None:
        self.commands.append(f"__dm.mark({json.dumps('button:' + label)}, "
                             f"{json.dumps(chr(0x2714) + ' ' + label)})")

    def apply(self, event: dict[str, Any]) -> None:
        if event["ev"] == "click":
            self.clicked(event["label"])


@kind
class WebCheckboxes(TickRules, WebPage):
    name = "web_checkboxes"
    mirrors = "checkboxes"

    def build(self) -> None:
        d = draws.checkboxes(self.rng, self.vocab, self.area())
        self.labels, self.targets = d.labels, d.targets
        for label, cell in zip(self.labels, d.cells, strict=True):
            lab = esc(label)
            # The label is the clickable area, at its own size, centred in its row.
            self.parts.append(
                f'<div class="cell" style="{self.pos(cell)}"><label class="check" '
                f'data-name="checkbox:{lab}"><input type="checkbox" data-label="{lab}" '
                f"onchange=\"__dm.emit({{ev: 'toggle', label: this.dataset.label, "
                f'on: this.checked}})">{lab}</label></div>')
        self.submit_button(d.submit)
        self.instruction = f"Tick {join_words(self.targets)}, then press Submit"

    def checked(self) -> list[str]:
        ticked = self.event.get("checked", self.dom["checked"])
        return [lab for lab in self.labels if lab in ticked]

    def apply(self, event: dict[str, Any]) -> None:
        if event["ev"] == "toggle":
            self.toggled(event["label"], bool(event["on"]))
        elif event["ev"] == "submit":
            self.submitted()


@kind
class WebPickList(WebPage):
    name = "web_pick_list"
    mirrors = "pick_list"

    def build(self) -> None:
        d = draws.pick_list(self.rng, self.vocab, self.area(), lambda row_h, n: n * row_h + 2)
        self.mode, self.entries, self.target = d.mode, d.entries, d.target
        x, y, w, h = d.box
        self.parts.append(f'<div class="caption" style="left:{x}px;top:{y - 4}px;'
                          f'transform:translateY(-100%)">{esc(d.caption)}</div>')
        if self.mode == "list":
            rows = "".join(
                f'<li data-name="entry:{esc(e)}" style="height:{d.row_h}px" '
                f"onclick=\"if (!this.classList.contains('off')) {{ this.classList.add('picked'); "
                f"__dm.emit({{ev: 'pick', entry: {esc(json.dumps(e))}}}); }}\">{esc(e)}</li>"
                for e in self.entries)
            self.parts.append(f'<ul data-name="list" style="{self.pos(d.box)}">{rows}</ul>')
            self.instruction = f"Select {self.target} in the list"
        else:
            options = "".join(f'<option data-name="entry:{esc(e)}" value="{esc(e)}">{esc(e)}'
                              "</option>" for e in [PLACEHOLDER, *self.entries])
            self.parts.append(
                f'<select data-name="combo" style="{self.pos(d.box)}" '
                "onchange=\"if (this.selectedIndex > 0) __dm.emit({ev: 'pick', "
                f'entry: this.value}})">{options}</select>')
            self.instruction = f"Choose {self.target} from the drop-down"

    def apply(self, event: dict[str, Any]) -> None:
        if event["ev"] == "pick":
            self.finish(*pick_verdict(event["entry"], self.target))

    def next_targets(self) -> list[str]:
        if self.mode == "combo" and not self.dom["open"]:
            return ["combo"]
        return [f"entry:{self.target}"]

    def extra_state(self) -> dict[str, Any]:
        return {"mode": self.mode, "target": self.target, "entries": list(self.entries),
                "popup_open": self.mode == "combo" and bool(self.dom["open"])}


__all__ = ["KINDS", "WebPage", "css_font"]
