"""The Replay page's form: the target box (a practice task by name and seed, or the live
desktop with a window title and an instruction) and the options box (step limit,
confidence threshold, recording the replay, opening it afterwards)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QWidget,
)

LIVE_PLACEHOLDER = "what to do, e.g. Click Save"
TASK_PLACEHOLDER = "from the task (filled in when it starts)"


class TargetBox(QGroupBox):
    """Practice task (name, seed) or live desktop (window title); the instruction for both."""

    def __init__(self, task_names: list[str], parent: QWidget | None = None):
        super().__init__("Target", parent)
        tg = QGridLayout(self)
        self.target_group = QButtonGroup(self)
        self.rb_task = QRadioButton("Practice task")
        self.rb_desktop = QRadioButton("Live desktop")
        self.target_group.addButton(self.rb_task, 0)
        self.target_group.addButton(self.rb_desktop, 1)
        self.task_combo = QComboBox()
        self.task_combo.addItems(sorted(task_names))
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_000_000_000)
        self.seed_spin.setValue(1_000_000)
        self.seed_spin.setPrefix("seed ")
        self.seed_spin.setToolTip("Seeds from 1,000,000 use words never seen in training")
        self.window_edit = QLineEdit()
        self.window_edit.setPlaceholderText("window title (empty: the whole screen)")
        self.instruction_edit = QLineEdit()
        self.instruction_edit.setPlaceholderText(LIVE_PLACEHOLDER)
        tg.addWidget(self.rb_task, 0, 0)
        tg.addWidget(self.task_combo, 0, 1)
        tg.addWidget(self.seed_spin, 0, 2)
        tg.addWidget(self.rb_desktop, 1, 0)
        tg.addWidget(self.window_edit, 1, 1, 1, 2)
        tg.addWidget(QLabel("Instruction"), 2, 0)
        tg.addWidget(self.instruction_edit, 2, 1, 1, 2)
        tg.setColumnStretch(1, 1)
        self._from_task = ""  # the instruction text a practice task put there
        self.rb_task.setChecked(True)
        self.rb_task.toggled.connect(self._target_changed)
        self.window_edit.textEdited.connect(lambda _t: self.rb_desktop.setChecked(True))

    def prefer_task(self, tasks: tuple[str, ...]) -> None:
        """Show one of ``tasks`` (a run's tasks) unless one of them is chosen already."""
        names = [self.task_combo.itemText(i) for i in range(self.task_combo.count())]
        known = [t for t in tasks if t in names]
        if known and self.task_combo.currentText() not in known:
            self.task_combo.setCurrentText(known[0])

    def set_task_instruction(self, text: str) -> None:
        """The practice task's own instruction: cleared again when the target becomes the
        live desktop (it described a window that is not there)."""
        self.instruction_edit.setText(text)
        self._from_task = text

    def _target_changed(self, _on: bool = False) -> None:
        # A practice task brings its own instruction; the live desktop needs one typed.
        self.instruction_edit.setPlaceholderText(
            TASK_PLACEHOLDER if self.rb_task.isChecked() else LIVE_PLACEHOLDER)
        if not self.rb_task.isChecked() and self._from_task \
                and self.instruction_edit.text() == self._from_task:
            self.instruction_edit.clear()
        self._from_task = ""


class OptionsBox(QGroupBox):
    """Max steps, min confidence, and whether the replay is recorded and opened."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Options", parent)
        og = QGridLayout(self)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 500)
        self.steps_spin.setValue(15)
        self.conf_spin = QDoubleSpinBox()
        self.conf_spin.setRange(0.0, 1.0)
        self.conf_spin.setSingleStep(0.05)
        self.conf_spin.setValue(0.3)
        self.record_check = QCheckBox("Record the replay as an episode")
        self.record_check.setChecked(True)
        self.open_check = QCheckBox("Open it in the viewer afterwards")
        self.open_check.setChecked(True)
        og.addWidget(QLabel("Max steps"), 0, 0)
        og.addWidget(self.steps_spin, 0, 1)
        og.addWidget(QLabel("Min confidence"), 0, 2)
        og.addWidget(self.conf_spin, 0, 3)
        og.addWidget(self.record_check, 1, 0, 1, 4)
        og.addWidget(self.open_check, 2, 0, 1, 4)
        og.setColumnStretch(4, 1)
