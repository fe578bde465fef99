"""Form tasks: tick exactly the named checkboxes; type a text into the named field."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPushButton

from deskmimic.tasks import draws
from deskmimic.tasks.base import TaskWindow, register
from deskmimic.tasks.click import body_box, measure
from deskmimic.tasks.verdicts import TickRules, form_targets, join_words, submit_verdict


def _submit_button(task: TaskWindow, box: draws.Box) -> QPushButton:
    button = QPushButton("Submit", task.body)
    button.setGeometry(QRect(*box))
    button.setDefault(True)
    return button


@register
class CheckboxesTask(TickRules, TaskWindow):
    """Tick exactly the 1-3 named checkboxes (of 4-8) and press Submit."""

    name = "checkboxes"
    max_steps = 10
    description = "tick exactly the named checkboxes and press Submit"
    height_range = draws.HEIGHT_RANGES["checkboxes"]

    def build(self) -> None:
        d = draws.checkboxes(self.rng, self.vocab, body_box(self))
        self.labels, self.targets = d.labels, d.targets
        self.checks: dict[str, QCheckBox] = {}
        for label, (x, y, _, row_h) in zip(self.labels, d.cells, strict=True):
            box = QCheckBox(label, self.body)
            box.adjustSize()  # the widget box is then exactly the clickable area
            box.move(x, y + (row_h - box.height()) // 2)
            box.toggled.connect(lambda on, lab=label: self.toggled(lab, on))
            self.checks[label] = box
        self.submit = _submit_button(self, d.submit)
        self.submit.clicked.connect(self.submitted)
        self.instruction = f"Tick {join_words(self.targets)}, then press Submit"

    def checked(self) -> list[str]:
        return [lab for lab, box in self.checks.items() if box.isChecked()]

    def boxes(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"checkbox:{lab}": box for lab, box in self.checks.items()}
        out["button:Submit"] = self.submit
        return out


@register
class TypeFieldTask(TaskWindow):
    """Type a phrase into the named one of 2-3 labelled fields, then Submit (or Enter)."""

    name = "type_field"
    max_steps = 6
    description = "type a given text into the named field and press Submit or Enter"
    height_range = draws.HEIGHT_RANGES["type_field"]

    def build(self) -> None:
        d = draws.type_field(self.rng, self.vocab, body_box(self), measure(self))
        self.labels, self.target, self.text = d.labels, d.target, d.text
        self.edits: dict[str, QLineEdit] = {}
        for label, caption, field in zip(self.labels, d.captions, d.fields, strict=True):
            text = QLabel(label + ":", self.body)
            text.setGeometry(QRect(*caption))
            edit = QLineEdit(self.body)
            edit.setGeometry(QRect(*field))
            edit.returnPressed.connect(self._submitted)
            text.setBuddy(edit)
            self.edits[label] = edit
        self.submit = _submit_button(self, d.submit)
        self.submit.clicked.connect(self._submitted)
        self.instruction = f"Type '{self.text}' into {self.target}"

    def _values(self) -> dict[str, str]:
        return {lab: e.text() for lab, e in self.edits.items()}

    def _submitted(self) -> None:
        ok, reason = submit_verdict(self._values(), self.target, self.text)
        (self.succeed if ok else self.fail)(reason)

    def boxes(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"field:{lab}": e for lab, e in self.edits.items()}
        out["button:Submit"] = self.submit
        return out

    def next_targets(self) -> list[str]:
        return form_targets(self._values(), self.target, self.text)

    def extra_state(self) -> dict[str, Any]:
        focus = next((lab for lab, e in self.edits.items() if e.hasFocus()), None)
        return {"target": self.target, "text": self.text, "focus": focus,
                "values": self._values()}
