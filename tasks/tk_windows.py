"""The Tk task kinds (drawn in the `deskmimic.tasks.tk_host` child process).

Each mirrors its Qt counterpart (`deskmimic.tasks.click`, `deskmimic.tasks.forms`;
`deskmimic.tasks.tk_lists` for the lists): the same draw (`deskmimic.tasks.draws`) from the
same stream, the same verdicts (`deskmimic.tasks.verdicts`) and state fields, so the Qt
experts solve them unchanged. Sizes are measured in the Tk font, so a seed's geometry
is the Tk window's own.
"""

from __future__ import annotations

import tkinter as tk
from typing import Any

from deskmimic.tasks import draws
from deskmimic.tasks.tk_host import KINDS, TkTask, kind
from deskmimic.tasks.verdicts import (
    SequenceRules,
    TickRules,
    click_verdict,
    form_targets,
    join_words,
    submit_verdict,
)

__all__ = ["KINDS", "TkCheckboxes", "TkClickButton", "TkClickSequence", "TkTypeField"]

SEQUENCE_FG = "#1d2939"  # the dark text of a coloured button, on any palette (as Qt's)
SEQUENCE_DONE = "#1f6b35"  # a clicked one's tick and label


def place(widget: tk.Widget, box: draws.Box) -> None:
    """Place ``widget`` at a drawn body box."""
    x, y, w, h = box
    widget.place(x=x, y=y, width=w, height=h)


@kind
class TkClickButton(TkTask):
    """Click the named button among 3-8 distractor buttons."""

    name = "tk_click_button"
    mirrors = "click_button"

    def build(self) -> None:
        d = draws.click_button(self.rng, self.vocab, self.area(), self.measure)
        self.labels, self.target = d.labels, d.target
        self.buttons: dict[str, tk.Button] = {}
        for label, box in zip(self.labels, d.boxes, strict=True):
            button = self.button(label, lambda lab=label: self._clicked(lab))
            place(button, box)
            self.buttons[label] = button
        self.instruction = f"Click {self.target}"

    def _clicked(self, label: str) -> None:
        ok, reason = click_verdict(label, self.target)
        (self.succeed if ok else self.fail)(reason)

    def boxes(self) -> dict[str, tk.Misc | list[int]]:
        return {f"button:{label}": b for label, b in self.buttons.items()}

    def next_targets(self) -> list[str]:
        return [f"button:{self.target}"]

    def extra_state(self) -> dict[str, Any]:
        return {"target": self.target, "labels": list(self.labels)}


@kind
class TkTypeField(TkTask):
    """Type a phrase into the named one of 2-3 labelled fields, then Submit (or Enter)."""

    name = "tk_type_field"
    mirrors = "type_field"

    def build(self) -> None:
        d = draws.type_field(self.rng, self.vocab, self.area(), self.measure)
        self.labels, self.target, self.text = d.labels, d.target, d.text
        c = self.colors
        self.edits: dict[str, tk.Entry] = {}
        for label, caption, field in zip(self.labels, d.captions, d.fields, strict=True):
            text = tk.Label(self.body, text=label + ":", font=self.font, anchor="w",
                            foreground=c["fg"], background=self.background)
            place(text, caption)
            edit = tk.Entry(self.body, font=self.font, foreground=c["field_fg"],
                            background=c["field"], insertbackground=c["field_fg"],
                            disabledbackground=c["field"], highlightbackground=self.background)
            place(edit, field)
            edit.bind("<Return>", lambda _e: self._submitted())
            self.edits[label] = edit
        self.submit = self.button("Submit", self._submitted)
        place(self.submit, d.submit)
        self.instruction = f"Type '{self.text}' into {self.target}"

    def _values(self) -> dict[str, str]:
        return {lab: e.get() for lab, e in self.edits.items()}

    def _submitted(self) -> None:
        ok, reason = submit_verdict(self._values(), self.target, self.text)
        (self.succeed if ok else self.fail)(reason)

    def boxes(self) -> dict[str, tk.Misc | list[int]]:
        out: dict[str, tk.Misc | list[int]] = {f"field:{lab}": e for lab, e in self.edits.items()}
        out["button:Submit"] = self.submit
        return out

    def next_targets(self) -> list[str]:
        return form_targets(self._values(), self.target, self.text)

    def extra_state(self) -> dict[str, Any]:
        focused = self.root.focus_get()
        focus = next((lab for lab, e in self.edits.items() if e is focused), None)
        return {"target": self.target, "text": self.text, "focus": focus,
                "values": self._values()}


@kind
class TkClickSequence(SequenceRules, TkTask):
    """Click 2-4 named buttons in the given order; each clicked one shows a tick."""

    name = "tk_click_sequence"
    mirrors = "click_sequence"

    def build(self) -> None:
        d = draws.click_sequence(self.rng, self.vocab, self.area(), self.measure)
        self.labels, self.sequence = d.labels, d.sequence
        self.progress = 0
        self.buttons: dict[str, tk.Button] = {}
        for label, box, color in zip(self.labels, d.boxes, d.colors, strict=True):
            button = tk.Button(self.body, text=label, font=self.font,
                               command=lambda lab=label: self.clicked(lab),
                               foreground=SEQUENCE_FG, background=color,
                               activeforeground=SEQUENCE_FG, activebackground=color,
                               disabledforeground=SEQUENCE_DONE,
                               highlightbackground=self.background)
            place(button, box)
            self.buttons[label] = button
        self.instruction = "Click " + ", then ".join(self.sequence)

    def mark_clicked(self, label: str) -> None:
        # done: a second click on it does nothing
        self.buttons[label].configure(text=f"\u2714 {label}", state="disabled")

    def boxes(self) -> dict[str, tk.Misc | list[int]]:
        return {f"button:{label}": b for label, b in self.buttons.items()}


@kind
class TkCheckboxes(TickRules, TkTask):
    """Tick exactly the 1-3 named checkboxes (of 4-8) and press Submit."""

    name = "tk_checkboxes"
    mirrors = "checkboxes"

    def build(self) -> None:
        d = draws.checkboxes(self.rng, self.vocab, self.area())
        self.labels, self.targets = d.labels, d.targets
        c = self.colors
        self.ticked: dict[str, tk.BooleanVar] = {}
        self.checks: dict[str, tk.Checkbutton] = {}
        for label, (x, y, _, row_h) in zip(self.labels, d.cells, strict=True):
            var = tk.BooleanVar(self.root, value=False)
            box = tk.Checkbutton(self.body, text=label, variable=var, font=self.font,
                                 command=lambda lab=label, v=var: self.toggled(lab, v.get()),
                                 foreground=c["fg"], background=self.background,
                                 activeforeground=c["fg"], activebackground=self.background,
                                 disabledforeground=c["disabled"], selectcolor=c["field"],
                                 highlightthickness=0, borderwidth=0, padx=2, pady=2)
            # At its own size: the widget box is then exactly the clickable area.
            box.place(x=x, y=y + (row_h - box.winfo_reqheight()) // 2)
            self.ticked[label], self.checks[label] = var, box
        self.submit = self.button("Submit", self.submitted)
        place(self.submit, d.submit)
        self.instruction = f"Tick {join_words(self.targets)}, then press Submit"

    def checked(self) -> list[str]:
        return [lab for lab, var in self.ticked.items() if var.get()]

    def boxes(self) -> dict[str, tk.Misc | list[int]]:
        out: dict[str, tk.Misc | list[int]] = {f"checkbox:{lab}": b
                                               for lab, b in self.checks.items()}
        out["button:Submit"] = self.submit
        return out
