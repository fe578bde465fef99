"""Click tasks: one named button among distractors, or several buttons in order."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QPushButton, QWidget

from deskmimic.tasks.base import TaskWindow, register
from deskmimic.tasks.layout import place_rects
from deskmimic.tasks.verdicts import click_verdict

PASTELS = ("#fde2e4", "#e2ece9", "#dfe7fd", "#fff1c1", "#e8dff5", "#d8f3dc", "#fce1c8",
           "#d7eef7", "#f1e3d3", "#e9f5db", "#f8d7e8", "#e0e0f8")


def _button_sizes(parent: QWidget, labels: list[str], rng: Any) -> list[tuple[int, int]]:
    metrics = QFontMetrics(parent.font())
    sizes = []
    for label in labels:
        text_w = metrics.horizontalAdvance(f"\u2714 {label}") + 28
        sizes.append((max(text_w, rng.randint(84, 150)), rng.randint(30, 42)))
    return sizes


@register
class ClickButtonTask(TaskWindow):
    """Click the named button among 3-8 distractor buttons."""

    name = "click_button"
    max_steps = 3
    description = "click the named button among distractors ('Click Save')"

    def build(self) -> None:
        n = self.rng.randint(3, 8)
        self.labels = self.vocab.sample("labels", n)
        self.target = self.labels[0]
        self.rng.shuffle(self.labels)
        sizes = _button_sizes(self.body, self.labels, self.rng)
        rects = place_rects(self.rng, self.area(), sizes)
        self.buttons: dict[str, QPushButton] = {}
        for label, rect in zip(self.labels, rects, strict=True):
            button = QPushButton(label, self.body)
            button.setGeometry(rect)
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
class ClickSequenceTask(TaskWindow):
    """Click 2-4 named buttons in the given order; each clicked one shows a tick."""

    name = "click_sequence"
    max_steps = 8
    description = "click buttons in a given order ('Click Red, then Blue, then Green')"
    height_range = (320, 460)

    def build(self) -> None:
        n = self.rng.randint(4, 7)
        k = self.rng.randint(2, min(4, n - 1))
        self.labels = self.vocab.sample("labels", n)
        self.sequence = self.labels[:k]
        self.rng.shuffle(self.labels)
        self.progress = 0
        colors = self.rng.sample(PASTELS, n)
        sizes = _button_sizes(self.body, self.labels, self.rng)
        rects = place_rects(self.rng, self.area(), sizes)
        self.buttons: dict[str, QPushButton] = {}
        for label, rect, color in zip(self.labels, rects, colors, strict=True):
            button = QPushButton(label, self.body)
            button.setGeometry(rect)
            button.setStyleSheet(
                f"QPushButton {{ background-color:{color}; color:#1d2939;"
                " border:1px solid #8a96a3; border-radius:6px; padding:2px 8px; }"
                "QPushButton:hover { border-color:#4a5866; }"
                "QPushButton:pressed { background-color:#d5dbe3; }"
                "QPushButton:disabled { color:#1f6b35; border:2px solid #4f9d5d; }"
            )
            button.clicked.connect(lambda _=False, lab=label: self._clicked(lab))
            self.buttons[label] = button
        self.instruction = "Click " + ", then ".join(self.sequence)

    def _clicked(self, label: str) -> None:
        expected = self.sequence[self.progress]
        if label != expected:
            self.fail(f"clicked {label} when {expected} was next")
            return
        button = self.buttons[label]
        button.setText(f"\u2714 {label}")
        button.setEnabled(False)  # done: a second click on it does nothing
        self.progress += 1
        if self.progress == len(self.sequence):
            self.succeed("clicked " + ", ".join(self.sequence) + " in order")

    def boxes(self) -> dict[str, Any]:
        return {f"button:{label}": b for label, b in self.buttons.items()}

    def next_targets(self) -> list[str]:
        if self.progress >= len(self.sequence):
            return []
        return [f"button:{self.sequence[self.progress]}"]

    def extra_state(self) -> dict[str, Any]:
        return {"sequence": list(self.sequence), "progress": self.progress}
