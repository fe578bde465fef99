"""Click tasks: one named button among distractors, or several buttons in order."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QPushButton

from deskmimic.tasks import draws
from deskmimic.tasks.base import TaskWindow, register
from deskmimic.tasks.draws import PASTELS
from deskmimic.tasks.verdicts import SequenceRules, click_verdict

__all__ = ["PASTELS", "ClickButtonTask", "ClickSequenceTask"]  # PASTELS: drag's tiles too


def body_box(task: TaskWindow) -> draws.Box:
    """The body's inner area as a toolkit-free box, for `deskmimic.tasks.draws`."""
    area = task.area()
    return area.left(), area.top(), area.width(), area.height()


def measure(task: TaskWindow) -> draws.Measure:
    """How wide the task's font draws a text, for `deskmimic.tasks.draws`."""
    return QFontMetrics(task.body.font()).horizontalAdvance


@register
class ClickButtonTask(TaskWindow):
    """Click the named button among 3-8 distractor buttons."""

    name = "click_button"
    max_steps = 3
    description = "click the named button among distractors ('Click Save')"
    height_range = draws.HEIGHT_RANGES["click_button"]

    def build(self) -> None:
        d = draws.click_button(self.rng, self.vocab, body_box(self), measure(self))
        self.labels, self.target = d.labels, d.target
        self.buttons: dict[str, QPushButton] = {}
        for label, box in zip(self.labels, d.boxes, strict=True):
            button = QPushButton(label, self.body)
            button.setGeometry(QRect(*box))
            button.clicked.connect(lambda _=False, lab=label: self._clicked(lab))
            self.buttons[label] = button
        self.instruction = f"Click {self.target}"

    def _clicked(self, label: str) -> None:
        ok, reason = click_verdict(label, self.target)
        (self.succeed if ok else self.fail)(reason)

    def boxes(self) -> dict[str, Any]:
        return {f"button:{label}": b for label, b in self.buttons.items()}

    def next_targets(self) -> list[str]:
        return [f"button:{self.target}"]

    def extra_state(self) -> dict[str, Any]:
        return {"target": self.target, "labels": list(self.labels)}


@register
class ClickSequenceTask(SequenceRules, TaskWindow):
    """Click 2-4 named buttons in the given order; each clicked one shows a tick."""

    name = "click_sequence"
    max_steps = 8
    description = "click buttons in a given order ('Click Red, then Blue, then Green')"
    height_range = draws.HEIGHT_RANGES["click_sequence"]

    def build(self) -> None:
        d = draws.click_sequence(self.rng, self.vocab, body_box(self), measure(self))
        self.labels, self.sequence = d.labels, d.sequence
        self.progress = 0
        self.buttons: dict[str, QPushButton] = {}
        for label, box, color in zip(self.labels, d.boxes, d.colors, strict=True):
            button = QPushButton(label, self.body)
            button.setGeometry(QRect(*box))
            button.setStyleSheet(
                f"QPushButton {{ background-color:{color}; color:#1d2939;"
                " border:1px solid #8a96a3; border-radius:6px; padding:2px 8px; }"
                "QPushButton:hover { border-color:#4a5866; }"
                "QPushButton:pressed { background-color:#d5dbe3; }"
                "QPushButton:disabled { color:#1f6b35; border:2px solid #4f9d5d; }"
            )
            button.clicked.connect(lambda _=False, lab=label: self.clicked(lab))
            self.buttons[label] = button
        self.instruction = "Click " + ", then ".join(self.sequence)

    def mark_clicked(self, label: str) -> None:
        button = self.buttons[label]
        button.setText(f"\u2714 {label}")
        button.setEnabled(False)  # done: a second click on it does nothing

    def boxes(self) -> dict[str, Any]:
        return {f"button:{label}": b for label, b in self.buttons.items()}
