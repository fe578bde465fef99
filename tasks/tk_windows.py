"""The Tk task kinds (drawn in the `deskmimic.tasks.tk_host` child process).

Each mirrors its Qt counterpart (`deskmimic.tasks.click`, `deskmimic.tasks.forms`): the
same draws from the seed's stream in the same order, the same vocabulary, the same
verdicts and state fields, so the Qt experts solve them unchanged. Sizes are measured
in the Tk font, so a seed's geometry is the Tk window's own.
"""

from __future__ import annotations

import random
import tkinter as tk
from typing import Any

from deskmimic.tasks.tk_host import KINDS, TkTask, kind
from deskmimic.tasks.verdicts import click_verdict, form_targets, submit_verdict

__all__ = ["KINDS", "TkClickButton", "TkTypeField", "place_boxes"]

Box = tuple[int, int, int, int]  # left, top, width, height


def place_boxes(rng: random.Random, area: Box, sizes: list[tuple[int, int]], gap: int = 12,
                tries: int = 400) -> list[Box]:
    """Random non-overlapping boxes of ``sizes`` inside ``area`` (`layout.place_rects`
    without Qt); rows left to right when random placement does not fit."""
    left, top, width, height = area
    placed: list[Box] = []
    for w, h in sizes:
        for _ in range(tries):
            x = rng.randint(left, max(left, left + width - w))
            y = rng.randint(top, max(top, top + height - h))
            if all(not _near((x, y, w, h), p, gap) for p in placed):
                placed.append((x, y, w, h))
                break
        else:
            return _rows(area, sizes, gap)
    return placed


def _near(a: Box, b: Box, gap: int) -> bool:
    return (a[0] - gap < b[0] + b[2] and b[0] < a[0] + a[2] + gap
            and a[1] - gap < b[1] + b[3] and b[1] < a[1] + a[3] + gap)


def _rows(area: Box, sizes: list[tuple[int, int]], gap: int) -> list[Box]:
    left, top, width, height = area
    out: list[Box] = []
    for scale in (1.0, 0.85, 0.7, 0.6, 0.5):
        out, x, y, row_h = [], left, top, 0
        for w, h in sizes:
            w, h = min(w, width), max(28, round(h * scale))
            if x > left and x + w > left + width:
                x, y, row_h = left, y + row_h + gap, 0
            out.append((x, y, w, h))
            x, row_h = x + w + gap, max(row_h, h)
        if y + row_h <= top + height:
            break
    return out


@kind
class TkClickButton(TkTask):
    """Click the named button among 3-8 distractor buttons."""

    name = "tk_click_button"

    def build(self) -> None:
        n = self.rng.randint(3, 8)
        self.labels = self.vocab.sample("labels", n)
        self.target = self.labels[0]
        self.rng.shuffle(self.labels)
        sizes = [(max(self.font.measure(f"\u2714 {label}") + 28, self.rng.randint(84, 150)),
                  self.rng.randint(30, 42)) for label in self.labels]
        boxes = place_boxes(self.rng, self.area(), sizes)
        self.buttons: dict[str, tk.Button] = {}
        for label, (x, y, w, h) in zip(self.labels, boxes, strict=True):
            button = self.button(label, lambda lab=label: self._clicked(lab))
            button.place(x=x, y=y, width=w, height=h)
            self.buttons[label] = button
        self.instruction = f"Click {self.target}"

    def _clicked(self, label: str) -> None:
        ok, reason = click_verdict(label, self.target)
        (self.succeed if ok else self.fail)(reason)

    def boxes(self) -> dict[str, tk.Widget]:
        return {f"button:{label}": b for label, b in self.buttons.items()}

    def next_targets(self) -> list[str]:
        return [f"button:{self.target}"]

    def extra_state(self) -> dict[str, Any]:
        return {"target": self.target, "labels": list(self.labels)}


@kind
class TkTypeField(TkTask):
    """Type a phrase into the named one of 2-3 labelled fields, then Submit (or Enter)."""

    name = "tk_type_field"
    height_range = (300, 420)

    def build(self) -> None:
        m = self.rng.randint(2, 3)
        self.labels = self.vocab.sample("fields", m)
        self.target = self.rng.choice(self.labels)
        self.text = self.vocab.phrase(self.rng.choice([1, 2, 2, 2, 3]))
        left, top, width, height = self.area()
        label_w = max(self.font.measure(lab + ":") for lab in self.labels) + 12
        edit_w = self.rng.randint(min(170, width - label_w - 20), min(300, width - label_w))
        row_h = self.rng.randint(44, 56)
        edit_h = self.rng.randint(28, 34)
        x0 = left + self.rng.randint(0, max(0, width - label_w - edit_w))
        y0 = top + self.rng.randint(0, max(0, height - m * row_h - 60))
        c = self.colors
        self.edits: dict[str, tk.Entry] = {}
        for i, label in enumerate(self.labels):
            y = y0 + i * row_h
            text = tk.Label(self.body, text=label + ":", font=self.font, anchor="w",
                            foreground=c["fg"], background=self.background)
            text.place(x=x0, y=y, width=label_w, height=edit_h)
            edit = tk.Entry(self.body, font=self.font, foreground=c["field_fg"],
                            background=c["field"], insertbackground=c["field_fg"],
                            disabledbackground=c["field"], highlightbackground=self.background)
            edit.place(x=x0 + label_w, y=y, width=edit_w, height=edit_h)
            edit.bind("<Return>", lambda _e: self._submitted())
            self.edits[label] = edit
        self._submit_button(y0 + m * row_h + 8)
        self.instruction = f"Type '{self.text}' into {self.target}"

    def _submit_button(self, top: int) -> None:
        # forms._submit_button's draws: left, centred or right under the fields.
        left, area_top, width, height = self.area()
        bottom = area_top + height - 1
        w, h = self.rng.randint(96, 130), self.rng.randint(32, 40)
        y = self.rng.randint(min(top, bottom - h), max(top, bottom - h))
        x = self.rng.choice([left, left + (width - w) // 2, left + width - 1 - w])
        self.submit = self.button("Submit", self._submitted)
        self.submit.place(x=x, y=y, width=w, height=h)

    def _values(self) -> dict[str, str]:
        return {lab: e.get() for lab, e in self.edits.items()}

    def _submitted(self) -> None:
        ok, reason = submit_verdict(self._values(), self.target, self.text)
        (self.succeed if ok else self.fail)(reason)

    def boxes(self) -> dict[str, tk.Widget]:
        out: dict[str, tk.Widget] = {f"field:{lab}": e for lab, e in self.edits.items()}
        out["button:Submit"] = self.submit
        return out

    def next_targets(self) -> list[str]:
        return form_targets(self._values(), self.target, self.text)

    def extra_state(self) -> dict[str, Any]:
        focused = self.root.focus_get()
        focus = next((lab for lab, e in self.edits.items() if e is focused), None)
        return {"target": self.target, "text": self.text, "focus": focus,
                "values": self._values()}
