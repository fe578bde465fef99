"""A hotkey field: click it and press the keys (Qt's QKeySequenceEdit, one chord), shown
as people write it (Ctrl+Alt+Shift+S) and stored in pynput's syntax
(``<ctrl>+<alt>+<shift>+s``), the form `recorder.hotkey.parse_hotkey` and the settings
file use. `to_pynput` and `from_pynput` are the one place that converts between them."""

from __future__ import annotations

from PySide6.QtCore import QKeyCombination, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QKeySequenceEdit, QLineEdit, QToolButton, QWidget

_MODS = ((Qt.KeyboardModifier.ControlModifier, "ctrl"), (Qt.KeyboardModifier.AltModifier, "alt"),
         (Qt.KeyboardModifier.ShiftModifier, "shift"), (Qt.KeyboardModifier.MetaModifier, "cmd"))
# pynput's names of the keys Qt names otherwise (Qt's name lower-cased is pynput's for the
# rest: f1, home, end, insert, delete, up, down, left, right, tab, space, backspace).
_NAMED = {Qt.Key.Key_Escape: "esc", Qt.Key.Key_Return: "enter", Qt.Key.Key_Enter: "enter",
          Qt.Key.Key_PageUp: "page_up", Qt.Key.Key_PageDown: "page_down",
          Qt.Key.Key_Print: "print_screen", Qt.Key.Key_Pause: "pause",
          Qt.Key.Key_CapsLock: "caps_lock", Qt.Key.Key_NumLock: "num_lock",
          Qt.Key.Key_ScrollLock: "scroll_lock", Qt.Key.Key_Menu: "menu",
          Qt.Key.Key_Delete: "delete", Qt.Key.Key_Insert: "insert"}
_MOD_NAMES = {name: mod for mod, name in _MODS} | {"control": Qt.KeyboardModifier.ControlModifier,
                                                  "super": Qt.KeyboardModifier.MetaModifier,
                                                  "meta": Qt.KeyboardModifier.MetaModifier}


def to_pynput(combo: QKeyCombination) -> str:
    """One pressed chord -> pynput's syntax ('' for a chord of modifiers only)."""
    key = combo.key()
    if key in (Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Shift, Qt.Key.Key_Meta,
               Qt.Key.Key_unknown):
        return ""
    mods = combo.keyboardModifiers()
    parts = [f"<{name}>" for mod, name in _MODS if mods & mod]
    if key in _NAMED:
        parts.append(f"<{_NAMED[key]}>")
    else:
        name = QKeySequence(key).toString(QKeySequence.SequenceFormat.PortableText).lower()
        parts.append(name if len(name) == 1 else f"<{name}>")
    return "+".join(parts)


def from_pynput(text: str) -> QKeySequence:
    """pynput's syntax -> the chord to show (empty when it names no key Qt knows, or
    something other than modifiers and one key)."""
    mods = Qt.KeyboardModifier.NoModifier
    key_name = ""
    for part in (p.strip() for p in text.split("+")):
        name = part[1:-1] if part.startswith("<") and part.endswith(">") and len(part) > 2 else part
        if name.lower() in _MOD_NAMES:
            mods |= _MOD_NAMES[name.lower()]
        elif key_name or not name:
            return QKeySequence()
        else:
            key_name = name
    by_pynput = {v: k for k, v in _NAMED.items() if k != Qt.Key.Key_Enter}
    if key_name in by_pynput:
        key = by_pynput[key_name]
    else:
        seq = QKeySequence.fromString(key_name.upper() if len(key_name) == 1 else key_name.title(),
                                      QKeySequence.SequenceFormat.PortableText)
        if seq.isEmpty():
            return QKeySequence()
        key = seq[0].key()
    return QKeySequence(QKeyCombination(mods, key))


class HotkeyEdit(QWidget):
    """Press the keys to set the hotkey. ``text()``/``setText()`` speak pynput's syntax;
    text that is not a chord of modifiers and one key is kept as typed, so validation
    can name it. ``changed(str)`` follows each new chord."""

    changed = Signal(str)

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._raw = ""
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.edit = QKeySequenceEdit()
        self.edit.setMaximumSequenceLength(1)
        self.edit.setToolTip("Click here and press the keys: one or more modifiers (Ctrl, Alt, "
                             "Shift, Super) and a key")
        self.edit.keySequenceChanged.connect(self._pressed)
        self.clear_button = QToolButton()
        self.clear_button.setText("✕")
        self.clear_button.setToolTip("Clear (the default is used)")
        self.clear_button.clicked.connect(lambda: self.setText(""))
        lay.addWidget(self.edit, 1)
        lay.addWidget(self.clear_button)
        self.placeholder = placeholder
        self._show_placeholder()

    def _show_placeholder(self) -> None:
        seq = from_pynput(self.placeholder)
        line = self.edit.findChild(QLineEdit)  # the field's own line edit
        if line is not None:
            line.setPlaceholderText(f"press the keys (default {seq.toString()})"
                                    if not seq.isEmpty() else "press the keys")

    def _pressed(self, seq: QKeySequence) -> None:
        self._raw = to_pynput(seq[0]) if not seq.isEmpty() else ""
        self.changed.emit(self._raw)

    def text(self) -> str:
        """The hotkey in pynput's syntax ('' when empty)."""
        return self._raw

    def setText(self, text: str) -> None:  # noqa: N802 - QLineEdit's name, as the pages use it
        seq = from_pynput(text) if text else QKeySequence()
        self.edit.blockSignals(True)
        try:
            self.edit.setKeySequence(seq)
        finally:
            self.edit.blockSignals(False)
        # A chord Qt can show is stored as converted back; anything else as given.
        self._raw = to_pynput(seq[0]) if not seq.isEmpty() else text.strip()

    def shown(self) -> str:
        """What the field shows (Qt's native text of the chord)."""
        return self.edit.keySequence().toString(QKeySequence.SequenceFormat.NativeText)
