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
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from deskmimic.app.gui.common import (
    Banner,
    emit,
    heading,
    muted,
    run_task,
    short_path,
)
from deskmimic.app.gui.state import GuiSettings
from deskmimic.app.gui.widgets.hotkeyedit import HotkeyEdit
from deskmimic.core.config import DEFAULT_STOP_HOTKEY
from deskmimic.core.errors import DeskmimicError, describe_error

LABEL_W = 150  # one label column width for every group, so their fields line up


def _form(box: QGroupBox) -> QFormLayout:
    form = QFormLayout(box)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(8)
    return form


def _label(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setFixedWidth(LABEL_W)
    lab.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return lab


def _hint(text: str) -> QLabel:
    # One line, no word wrap (a wrapping label in a form row reserves odd extra height), and
    # no minimum width: on a narrow window it is cut rather than widening the page.
    lab = muted(text, wrap=False)
    lab.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    lab.setToolTip(text)
    return lab


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
        lay.addWidget(muted(f"Saved in {short_path(GuiSettings.path())}"))
        box = QGroupBox("Recording")
        form = _form(box)
        folder_row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        self.hotkey_edit = HotkeyEdit(DEFAULT_STOP_HOTKEY)
        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setRange(1, 120)
        self.fps_spin.setDecimals(0)
        self.fps_spin.setSuffix(" fps")
        self.fps_spin.setMaximumWidth(120)
        form.addRow(_label("Episodes folder"), folder_row)
        form.addRow(_label(""), _hint("New recordings go here; the Episodes and Train pages list it. "
                                      "Created private (0700)."))
        form.addRow(_label("Stop hotkey"), self.hotkey_edit)
        form.addRow(_label(""), _hint("Ends a recording. Never recorded as input: the episode gets "
                                      "a stop marker instead."))
        form.addRow(_label("Default frame rate"), self.fps_spin)
        lay.addWidget(box)
        rbox = QGroupBox("Replay")
        rform = _form(rbox)
        self.abort_edit = HotkeyEdit(GuiSettings.abort_hotkey)
        rform.addRow(_label("Abort hotkey"), self.abort_edit)
        rform.addRow(_label(""), _hint("Stops the agent at once, wherever the focus is; so does "
                                       "pushing the pointer into the top-left screen corner."))
        rform.addRow(_label("Hotkeys"), _hint("Click a hotkey field and press the keys: a modifier "
                                             "and a key, so ordinary typing never triggers it"))
        lay.addWidget(rbox)
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
        self.abort_edit.setText(s.abort_hotkey)

    def edited(self) -> GuiSettings:
        return replace(self.settings, episodes_dir=self.folder_edit.text().strip(),
                       stop_hotkey=self.hotkey_edit.text().strip() or DEFAULT_STOP_HOTKEY,
                       fps=float(self.fps_spin.value()),
                       abort_hotkey=self.abort_edit.text().strip() or GuiSettings.abort_hotkey)

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
        self.banner.show_message(f"Saved to {short_path(path)}.", "ok")
        emit(self.saved, s)

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.banner.show_message(f"Could not save the settings: {describe_error(exc)}")
