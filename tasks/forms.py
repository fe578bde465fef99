"""Form tasks: tick exactly the named checkboxes; type a text into the named field."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPushButton

from deskmimic.tasks.base import TaskWindow, register
from deskmimic.tasks.verdicts import form_targets, join_words, submit_verdict


def _submit_button(task: TaskWindow, top: int, label: str = "Submit") -> QPushButton:
    """A Submit button under ``top`` (body px), left, centred or right as the seed says."""
    area = task.area()
    w, h = task.rng.randint(96, 130), task.rng.randint(32, 40)
    y = task.rng.randint(min(top, area.bottom() - h), max(top, area.bottom() - h))
    x = task.rng.choice([area.left(), area.left() + (area.width() - w) // 2, area.right() - w])
    button = QPushButton(label, task.body)
    button.setGeometry(x, y, w, h)
    button.setDefault(True)
    return button


@register
class CheckboxesTask(TaskWindow):
    """Tick exactly the 1-3 named checkboxes (of 4-8) and press Submit."""

    name = "checkboxes"
    max_steps = 10
    description = "tick exactly the named checkboxes and press Submit"
    height_range = (340, 480)

    def build(self) -> None:
        n = self.rng.randint(4, 8)
        k = self.rng.randint(1, 3)
        self.labels = self.vocab.sample("labels", n)
        self.targets = sorted(self.labels[:k], key=self.labels.index)
        self.rng.shuffle(self.labels)
        self.targets = [lab for lab in self.labels if lab in self.targets]  # on-screen order
        area = self.area()
        cols = 2 if (n > 5 or self.rng.random() < 0.3) and area.width() >= 360 else 1
        rows = -(-n // cols)
        row_h = min(self.rng.randint(30, 38), (area.height() - 60) // rows)
        col_w = min(220, area.width() // cols)
        block_h = rows * row_h
        x0 = area.left() + self.rng.randint(0, max(0, area.width() - cols * col_w))
        y0 = area.top() + self.rng.randint(0, max(0, area.height() - block_h - 60))
        self.checks: dict[str, QCheckBox] = {}
        for i, label in enumerate(self.labels):
            r, c = divmod(i, cols)
            box = QCheckBox(label, self.body)
            box.adjustSize()  # the widget box is then exactly the clickable area
            box.move(x0 + c * col_w, y0 + r * row_h + (row_h - box.height()) // 2)
            box.toggled.connect(lambda on, lab=label: self._toggled(lab, on))
            self.checks[label] = box
        self.submit = _submit_button(self, y0 + block_h + 16)
        self.submit.clicked.connect(self._submitted)
        self.instruction = f"Tick {join_words(self.targets)}, then press Submit"

    def _toggled(self, label: str, on: bool) -> None:
        if on and label not in self.targets:
            self.fail(f"ticked {label}, which was not asked for")

    def _checked(self) -> list[str]:
        return [lab for lab, box in self.checks.items() if box.isChecked()]

    def _submitted(self) -> None:
        checked = self._checked()
        missing = [t for t in self.targets if t not in checked]
        if missing:
            self.fail(f"submitted without {join_words(missing)} ticked")
        else:
            self.succeed(f"submitted {join_words(checked)}")

    def boxes(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"checkbox:{lab}": box for lab, box in self.checks.items()}
        out["button:Submit"] = self.submit
        return out

    def next_targets(self) -> list[str]:
        todo = [f"checkbox:{t}" for t in self.targets if not self.checks[t].isChecked()]
        return todo or ["button:Submit"]

    def extra_state(self) -> dict[str, Any]:
        return {"targets": list(self.targets), "checked": self._checked()}


@register
class TypeFieldTask(TaskWindow):
    """Type a phrase into the named one of 2-3 labelled fields, then Submit (or Enter)."""

    name = "type_field"
    max_steps = 6
    description = "type a given text into the named field and press Submit or Enter"
    height_range = (300, 420)

    def build(self) -> None:
        m = self.rng.randint(2, 3)
        self.labels = self.vocab.sample("fields", m)
        self.target = self.rng.choice(self.labels)
        self.text = self.vocab.phrase(self.rng.choice([1, 2, 2, 2, 3]))
        area = self.area()
        metrics = QFontMetrics(self.body.font())
        label_w = max(metrics.horizontalAdvance(lab + ":") for lab in self.labels) + 12
        edit_w = self.rng.randint(min(170, area.width() - label_w - 20),
                                  min(300, area.width() - label_w))
        row_h = self.rng.randint(44, 56)
        edit_h = self.rng.randint(28, 34)
        x0 = area.left() + self.rng.randint(0, max(0, area.width() - label_w - edit_w))
        y0 = area.top() + self.rng.randint(0, max(0, area.height() - m * row_h - 60))
        self.edits: dict[str, QLineEdit] = {}
        for i, label in enumerate(self.labels):
            y = y0 + i * row_h
            text = QLabel(label + ":", self.body)
            text.setGeometry(QRect(x0, y, label_w, edit_h))
            edit = QLineEdit(self.body)
            edit.setGeometry(QRect(x0 + label_w, y, edit_w, edit_h))
            edit.returnPressed.connect(self._submitted)
            text.setBuddy(edit)
            self.edits[label] = edit
        self.submit = _submit_button(self, y0 + m * row_h + 8)
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
