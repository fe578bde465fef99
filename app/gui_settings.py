"""The Settings page: episodes folder, stop hotkey, default frame rate (saved to
``config_dir()/gui.json``)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui_common import Banner, describe_error, emit, heading, muted, run_task
from deskmimic.app.gui_state import GuiSettings
from deskmimic.core.config import DEFAULT_STOP_HOTKEY
from deskmimic.core.errors import DeskmimicError


class SettingsPanel(QWidget):
    """Edits a copy of the settings; ``saved(GuiSettings)`` once written."""

    saved = Signal(object)

    def __init__(self, settings: GuiSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 20, 24, 20)
        lay.setSpacing(12)
        lay.addWidget(heading("Settings", 18))
        lay.addWidget(muted(f"Saved in {GuiSettings.path()}"))
        box = QGroupBox("Recording")
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        folder_row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        self.hotkey_edit = QLineEdit()
        self.hotkey_edit.setPlaceholderText(DEFAULT_STOP_HOTKEY)
        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setRange(1, 120)
        self.fps_spin.setDecimals(0)
        self.fps_spin.setSuffix(" fps")
        self.fps_spin.setMaximumWidth(120)
        form.addRow("Episodes folder", folder_row)
        form.addRow("", muted("New recordings go here; the Episodes page lists it. Created private (0700)."))
        form.addRow("Stop hotkey", self.hotkey_edit)
        form.addRow("", muted("pynput syntax, e.g. <ctrl>+<alt>+<shift>+s. Its key presses are never "
                              "recorded; the recording gets a stop marker instead."))
        form.addRow("Default frame rate", self.fps_spin)
        lay.addWidget(box)
        row = QHBoxLayout()
        self.save_button = QPushButton("Save settings")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        revert = QPushButton("Revert")
        revert.clicked.connect(lambda: self.show_settings(self.settings))
        row.addStretch(1)
        row.addWidget(revert)
        row.addWidget(self.save_button)
        lay.addLayout(row)
        self.banner = Banner()
        lay.addWidget(self.banner)
        lay.addStretch(1)
        self.show_settings(settings)

    def show_settings(self, s: GuiSettings) -> None:
        self.folder_edit.setText(s.episodes_dir)
        self.hotkey_edit.setText(s.stop_hotkey)
        self.fps_spin.setValue(float(s.fps))

    def edited(self) -> GuiSettings:
        return replace(self.settings, episodes_dir=self.folder_edit.text().strip(),
                       stop_hotkey=self.hotkey_edit.text().strip() or DEFAULT_STOP_HOTKEY,
                       fps=float(self.fps_spin.value()))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Episodes folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def save(self) -> None:
        new = self.edited()
        try:
            new.validate()
        except DeskmimicError as exc:
            self.banner.show_message(describe_error(exc))
            return
        self.save_button.setEnabled(False)
        run_task(new.save, on_done=lambda p, s=new: self._saved(s, p), on_error=self._failed, name="settings")

    def _saved(self, s: GuiSettings, path) -> None:
        self.save_button.setEnabled(True)
        self.settings = s
        self.banner.show_message(f"Saved to {path}.", "ok")
        emit(self.saved, s)

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.banner.show_message(f"Could not save the settings: {describe_error(exc)}")
