"""Workflow task: menu -> dialog -> two fields -> an option -> OK (at least 7 steps)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMenuBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from deskmimic.tasks.base import TaskWindow, register
from deskmimic.tasks.layout import global_rect
from deskmimic.tasks.lists import PLACEHOLDER, combo_boxes


class RecordDialog(QDialog):
    """The dialog the menu action opens: two fields, an option group, OK and Cancel."""

    def __init__(self, task: WorkflowTask) -> None:
        super().__init__(task)
        rng = task.rng
        self.setWindowTitle(task.action_name)
        self.setModal(False)  # the task judges every click itself
        self.setObjectName("dialog")
        # A border of its own: without a window manager a dialog has no frame.
        self.setStyleSheet(f"QDialog#dialog {{ background:{task.look.surface('#ffffff')};"
                           " border:1px solid #8a96a3; }")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 14, 18, 14)
        heading = QLabel(f"<b>{task.action_name}</b>", self)
        outer.addWidget(heading)
        form = QFormLayout()
        form.setVerticalSpacing(rng.randint(8, 14))
        self.edits: dict[str, QLineEdit] = {}
        for label in task.field_labels:
            edit = QLineEdit(self)
            edit.setMinimumHeight(rng.randint(26, 32))
            form.addRow(label + ":", edit)
            self.edits[label] = edit
        self.radios: dict[str, QRadioButton] = {}
        self.combo: QComboBox | None = None
        if task.option_widget == "radio":
            row = QWidget(self)
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            group = QButtonGroup(self)
            for value in task.option_values:
                radio = QRadioButton(value, row)
                group.addButton(radio)
                lay.addWidget(radio)
                self.radios[value] = radio
            lay.addStretch(1)
            form.addRow(task.option_group + ":", row)
        else:
            self.combo = QComboBox(self)
            self.combo.addItem(PLACEHOLDER)
            self.combo.addItems(task.option_values)
            form.addRow(task.option_group + ":", self.combo)
        outer.addLayout(form)
        outer.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.ok = QPushButton("OK", self)
        self.cancel = QPushButton("Cancel", self)
        self.ok.setAutoDefault(False)
        self.cancel.setAutoDefault(False)
        pair = [self.ok, self.cancel] if rng.random() < 0.5 else [self.cancel, self.ok]
        for b in pair:
            b.setMinimumWidth(84)
            buttons.addWidget(b)
        outer.addLayout(buttons)
        self.ok.clicked.connect(task.confirmed)
        self.cancel.clicked.connect(lambda: task.fail("cancelled the dialog"))
        self.rejected.connect(lambda: task.fail("closed the dialog"))
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # no field starts with the cursor
        self.setFocus()

    def option(self) -> str | None:
        if self.combo is not None:
            return self.combo.currentText() if self.combo.currentIndex() > 0 else None
        return next((v for v, r in self.radios.items() if r.isChecked()), None)


@register
class WorkflowTask(TaskWindow):
    """Open a menu, pick an action, fill two fields, choose an option, press OK."""

    name = "workflow"
    max_steps = 20
    description = "multi-step: menu -> dialog -> fill two fields -> choose an option -> OK"
    width_range = (520, 640)
    height_range = (420, 540)
    banner_height = 78

    def build(self) -> None:
        n_menus = self.rng.randint(3, 5)
        titles = self.vocab.sample("menu_titles", n_menus)
        self.menubar = QMenuBar(self)
        self.menubar.setNativeMenuBar(False)
        self.layout().setMenuBar(self.menubar)
        self.body_size.setHeight(self.body_size.height() - self.menubar.sizeHint().height())
        self.menus: dict[str, QMenu] = {}
        self.actions_by_menu: dict[str, list[str]] = {}
        used: set[str] = set()
        for title in titles:
            menu = self.menubar.addMenu(title)
            names: list[str] = []
            k = self.rng.randint(3, 6)
            while len(names) < k:
                verb = self.rng.choice(self.vocab.pool("menu_verbs"))
                noun = self.rng.choice(self.vocab.pool("menu_nouns"))
                name = f"{verb} {noun}"
                if name not in used:
                    used.add(name)
                    names.append(name)
            for name in names:
                action = QAction(name + "\u2026", menu)
                action.triggered.connect(lambda _=False, t=title, a=name: self._triggered(t, a))
                menu.addAction(action)
            self.menus[title] = menu
            self.actions_by_menu[title] = names
        self.menu_title = self.rng.choice(titles)
        self.action_name = self.rng.choice(self.actions_by_menu[self.menu_title])
        self.field_labels = self.vocab.sample("fields", 2)
        self.values = {lab: self.vocab.phrase(self.rng.choice([1, 2])) for lab in self.field_labels}
        self.option_group, self.option_target, self.option_values = \
            self.vocab.options(self.rng.randint(3, 4))
        self.option_widget = self.rng.choice(["radio", "combo"])
        self.dialog: RecordDialog | None = None
        self._decor()
        a, b = self.field_labels
        self.instruction = (
            f"Open {self.menu_title} \u203a {self.action_name}, set {a} to '{self.values[a]}' "
            f"and {b} to '{self.values[b]}', choose {self.option_group} {self.option_target}, "
            "then press OK"
        )

    def _decor(self) -> None:
        """A quiet main area, so the window looks like an application."""
        area = self.area()
        hint = QLabel(f"No {self.rng.choice(['records', 'entries', 'items'])} yet.", self.body)
        hint.setStyleSheet("color:#7b8794;")
        hint.adjustSize()
        hint.move(area.left() + self.rng.randint(0, area.width() // 3),
                  area.top() + self.rng.randint(0, area.height() // 2))

    # ---- reactions -----------------------------------------------------------------------
    def _triggered(self, title: str, action: str) -> None:
        if (title, action) != (self.menu_title, self.action_name):
            self.fail(f"chose {title} \u203a {action} instead of "
                      f"{self.menu_title} \u203a {self.action_name}")
            return
        if self.dialog is not None:
            return
        self.dialog = RecordDialog(self)
        # Never narrower than its contents: fixed at 330-420 px, a row of four radio
        # buttons ("Titanium", "Copper", "Diamond", "Bronze") was squeezed to "Titaniu",
        # "Diamo", and the option to choose could not be read.
        w = max(self.rng.randint(330, min(420, self.width() - 40)),
                self.dialog.minimumSizeHint().width())
        self.dialog.setFixedWidth(w)
        self.dialog.adjustSize()
        # Centre the dialog over the window so it stays inside the recorded region.
        # In Qt pixels (`region` is in screen pixels, twice as many at scale 2), and
        # on the screen: at scale 2 the dialog can be taller than the window.
        dpr = self.devicePixelRatioF()
        g = self.region()
        gl, gt, gw, gh = (round(v / dpr) for v in (g.left, g.top, g.width, g.height))
        screen = self.screen().geometry()
        x = gl + (gw - w) // 2 + self.rng.randint(-20, 20)
        y = gt + max(30, (gh - self.dialog.height()) // 2)
        self.dialog.move(max(0, min(x, screen.right() + 1 - w)),
                         max(0, min(y, screen.bottom() + 1 - self.dialog.height())))
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def confirmed(self) -> None:
        assert self.dialog is not None
        got = {lab: e.text() for lab, e in self.dialog.edits.items()}
        wrong = [lab for lab in self.field_labels if got[lab] != self.values[lab]]
        option = self.dialog.option()
        if wrong:
            lab = wrong[0]
            self.fail(f"pressed OK with {lab} = {got[lab]!r}, expected {self.values[lab]!r}")
        elif option != self.option_target:
            self.fail(f"pressed OK with {self.option_group} {option or 'unset'}, "
                      f"expected {self.option_target}")
        else:
            self.succeed(f"{self.action_name} confirmed with the right values")

    def on_finished(self) -> None:
        for menu in self.menus.values():
            menu.hide()
        if self.dialog is not None:
            self.dialog.blockSignals(True)
            if self.dialog.combo is not None:
                self.dialog.combo.hidePopup()
            self.dialog.hide()

    # ---- state ---------------------------------------------------------------------------
    def _dialog_open(self) -> bool:
        return self.dialog is not None and self.dialog.isVisible()

    def boxes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for title, menu in self.menus.items():
            out[f"menu:{title}"] = global_rect(self.menubar,
                                                self.menubar.actionGeometry(menu.menuAction()))
            if menu.isVisible():
                for action in menu.actions():
                    out[f"menuitem:{action.text().rstrip(chr(0x2026))}"] = \
                        global_rect(menu, menu.actionGeometry(action))
        if self._dialog_open():
            d = self.dialog
            out["dialog"] = d
            out.update({f"field:{lab}": e for lab, e in d.edits.items()})
            out.update({f"option:{v}": r for v, r in d.radios.items()})
            if d.combo is not None:
                out["combo"] = d.combo
                out.update(combo_boxes(d.combo, "option:"))
            out["button:OK"], out["button:Cancel"] = d.ok, d.cancel
        return out

    def next_targets(self) -> list[str]:
        if not self._dialog_open():
            if self.menus[self.menu_title].isVisible():
                return [f"menuitem:{self.action_name}"]
            return [f"menu:{self.menu_title}"]
        d = self.dialog
        for lab in self.field_labels:
            if d.edits[lab].text() != self.values[lab]:
                return [f"field:{lab}"]
        if d.option() != self.option_target:
            if d.combo is not None and not d.combo.view().isVisible():
                return ["combo"]
            return [f"option:{self.option_target}"]
        return ["button:OK"]

    def extra_state(self) -> dict[str, Any]:
        d = self.dialog if self._dialog_open() else None
        focus = None
        if d is not None:
            focus = next((lab for lab, e in d.edits.items() if e.hasFocus()), None)
        return {
            "menu": self.menu_title, "action": self.action_name,
            "menu_open": [t for t, m in self.menus.items() if m.isVisible()],
            "values": dict(self.values), "fields": list(self.field_labels),
            "option_group": self.option_group, "option": self.option_target,
            "option_widget": self.option_widget,
            "dialog_open": d is not None,
            "entered": {lab: e.text() for lab, e in d.edits.items()} if d else {},
            "chosen": d.option() if d else None,
            "focus": focus,
            "popup_open": bool(d and d.combo is not None and d.combo.view().isVisible()),
        }

