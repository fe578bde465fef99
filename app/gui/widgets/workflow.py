"""An episode's steps as a workflow graph in Mermaid text, and the dialog that shows it.

Nodes are the reduced steps; solid edges their order. A keyboard step (type, hotkey)
depends on the click that put the focus where the keys go: when that click is the
step just before, the order edge is labelled ``focus``; when other steps come between,
a dotted ``focus`` edge is added. Click targets are named from the element boxes the
practice tasks store in meta.json (``extra.boxes``) when the point falls in one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

POINTER = ("click", "double_click", "right_click", "drag", "scroll")
KEYBOARD = ("type", "hotkey")


def _target(x: int | None, y: int | None, boxes: dict) -> str:
    if x is None or y is None:
        return ""
    hits = [(w * h, name) for name, (left, top, w, h) in boxes.items()
            if name != "instruction" and left <= x < left + w and top <= y < top + h]
    if not hits:
        return ""
    name = min(hits)[1]  # the smallest box: the button rather than the panel around it
    return name.split(":", 1)[-1]


def _label(step, boxes: dict) -> str:
    kind = step.kind.replace("_", " ")
    if step.kind == "type" and step.text:
        what = f"type '{step.text if len(step.text) <= 24 else step.text[:23] + '…'}'"
    elif step.kind == "hotkey" and step.keys:
        what = "press " + "+".join(step.keys)
    elif step.kind == "drag" and step.x is not None:
        a, b = _target(step.x, step.y, boxes), _target(step.x2, step.y2, boxes)
        what = f"drag {a or f'({step.x}, {step.y})'} → {b or f'({step.x2}, {step.y2})'}"
    elif step.kind == "scroll":
        what = f"scroll {step.dy:+d}" if step.dy else f"scroll dx {step.dx:+d}"
    elif step.x is not None:
        name = _target(step.x, step.y, boxes)
        what = f"{kind} {name!r} ({step.x}, {step.y})" if name else f"{kind} ({step.x}, {step.y})"
    else:
        what = kind
    text = f"{step.index + 1}. {what}"
    # Mermaid labels are quoted: quotes inside become entity codes.
    return text.replace('"', "#quot;")


def steps_to_mermaid(steps: Sequence, task: str = "", instruction: str = "",
                     boxes: dict | None = None) -> str:
    """Mermaid ``flowchart`` text of ``steps`` (objects with the fields of
    ``deskmimic.models.data.steps.Step``), top to bottom."""
    boxes = boxes or {}
    lines = ["flowchart TD"]
    if task or instruction:
        head = " — ".join(x for x in (task, instruction and f"“{instruction}”") if x)
        lines.append(f"  %% {head}")
    for st in steps:
        shape = ('(["', '"])') if st.kind == "done" else ('["', '"]')
        lines.append(f"  s{st.index + 1}{shape[0]}{_label(st, boxes)}{shape[1]}")
    focus_at = None  # index of the last click, where keys typed next will go
    for prev, st in zip(steps, steps[1:], strict=False):
        if prev.kind in ("click", "double_click"):
            focus_at = prev.index
        focus = st.kind in KEYBOARD and focus_at is not None
        if focus and focus_at == prev.index:
            lines.append(f"  s{prev.index + 1} -->|focus| s{st.index + 1}")
            continue
        lines.append(f"  s{prev.index + 1} --> s{st.index + 1}")
        if focus:
            lines.append(f"  s{focus_at + 1} -.->|focus| s{st.index + 1}")
    return "\n".join(lines) + "\n"


class WorkflowDialog(QDialog):
    """Shows the Mermaid text with Copy and Save buttons (non-modal)."""

    def __init__(self, text: str, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Workflow graph — {name}")
        self.resize(620, 460)
        self.name = name
        lay = QVBoxLayout(self)
        note = QLabel("The episode's steps as a Mermaid flowchart: paste it into any Mermaid "
                      "viewer (GitHub and GitLab render it in Markdown inside ```mermaid fences).")
        note.setWordWrap(True)
        lay.addWidget(note)
        self.edit = QPlainTextEdit(text)
        self.edit.setReadOnly(True)
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        lay.addWidget(self.edit, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.save_button = QPushButton("Save as…")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(self._save_as)
        lay.addWidget(buttons)

    def text(self) -> str:
        return self.edit.toPlainText()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def _save_as(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the workflow graph",
                                              f"{self.name}.mmd", "Mermaid (*.mmd *.md)")
        if path:
            self.save(Path(path))

    def save(self, path: Path) -> None:
        text = self.text()
        if path.suffix == ".md":
            text = f"```mermaid\n{text}```\n"
        path.write_text(text, encoding="utf-8")
