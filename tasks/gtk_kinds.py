"""The GTK 3 task kinds (drawn in the `deskmimic.tasks.gtk_host` child process).

Each mirrors its Qt counterpart (`deskmimic.tasks.click`, `forms`, `lists`) as the Tk
kinds do (`deskmimic.tasks.tk_windows`, `tk_lists`): the same draw from the same stream,
the same verdicts (`deskmimic.tasks.verdicts`) and state fields, measured in the GTK font.
The drop-down is a ``GtkComboBoxText``: its list is a ``GtkMenu`` that GTK makes in a
popup window of its own, found here by the widget it is attached to.
"""

from __future__ import annotations

from typing import Any

from gi.repository import Gtk

from deskmimic.tasks import draws
from deskmimic.tasks.draws import PLACEHOLDER
from deskmimic.tasks.gtk_windows import GtkTask, box, kind, style
from deskmimic.tasks.tk_windows import SEQUENCE_DONE, SEQUENCE_FG
from deskmimic.tasks.verdicts import (
    SequenceRules,
    TickRules,
    click_verdict,
    form_targets,
    join_words,
    pick_verdict,
    submit_verdict,
)

__all__ = ["GtkCheckboxes", "GtkClickButton", "GtkClickSequence", "GtkPickList",
           "GtkTypeField"]


@kind
class GtkClickButton(GtkTask):
    """Click the named button among 3-8 distractor buttons."""

    name = "gtk_click_button"
    mirrors = "click_button"

    def build(self) -> None:
        d = draws.click_button(self.rng, self.vocab, self.area(), self.measure)
        self.labels, self.target = d.labels, d.target
        self.buttons: dict[str, Gtk.Button] = {}
        for label, at in zip(self.labels, d.boxes, strict=True):
            button = self.button(label, lambda lab=label: self._clicked(lab))
            self.place(button, at)
            self.buttons[label] = button
        self.instruction = f"Click {self.target}"

    def _clicked(self, label: str) -> None:
        ok, reason = click_verdict(label, self.target)
        (self.succeed if ok else self.fail)(reason)

    def boxes(self) -> dict[str, Gtk.Widget | list[int]]:
        return {f"button:{label}": b for label, b in self.buttons.items()}

    def next_targets(self) -> list[str]:
        return [f"button:{self.target}"]

    def extra_state(self) -> dict[str, Any]:
        return {"target": self.target, "labels": list(self.labels)}


@kind
class GtkTypeField(GtkTask):
    """Type a phrase into the named one of 2-3 labelled fields, then Submit (or Enter)."""

    name = "gtk_type_field"
    mirrors = "type_field"

    def build(self) -> None:
        d = draws.type_field(self.rng, self.vocab, self.area(), self.measure)
        self.labels, self.target, self.text = d.labels, d.target, d.text
        self.edits: dict[str, Gtk.Entry] = {}
        for label, caption, field in zip(self.labels, d.captions, d.fields, strict=True):
            self.place(Gtk.Label(label=label + ":", xalign=0), caption)
            edit = Gtk.Entry()
            edit.connect("activate", lambda _e: self._submitted())
            self.place(edit, field)
            self.edits[label] = edit
        self.submit = self.button("Submit", self._submitted)
        self.place(self.submit, d.submit)
        self.instruction = f"Type '{self.text}' into {self.target}"

    def _values(self) -> dict[str, str]:
        return {lab: e.get_text() for lab, e in self.edits.items()}

    def _submitted(self) -> None:
        ok, reason = submit_verdict(self._values(), self.target, self.text)
        (self.succeed if ok else self.fail)(reason)

    def boxes(self) -> dict[str, Gtk.Widget | list[int]]:
        out: dict[str, Gtk.Widget | list[int]] = {f"field:{lab}": e
                                                  for lab, e in self.edits.items()}
        out["button:Submit"] = self.submit
        return out

    def next_targets(self) -> list[str]:
        return form_targets(self._values(), self.target, self.text)

    def extra_state(self) -> dict[str, Any]:
        focused = self.window.get_focus()
        focus = next((lab for lab, e in self.edits.items() if e is focused), None)
        return {"target": self.target, "text": self.text, "focus": focus,
                "values": self._values()}


@kind
class GtkClickSequence(SequenceRules, GtkTask):
    """Click 2-4 named buttons in the given order; each clicked one shows a tick."""

    name = "gtk_click_sequence"
    mirrors = "click_sequence"

    def build(self) -> None:
        d = draws.click_sequence(self.rng, self.vocab, self.area(), self.measure)
        self.labels, self.sequence = d.labels, d.sequence
        self.progress = 0
        self.buttons: dict[str, Gtk.Button] = {}
        for label, at, color in zip(self.labels, d.boxes, d.colors, strict=True):
            button = self.button(label, lambda lab=label: self.clicked(lab))
            style(button, f"button {{ background-image: none; background-color: {color};"
                          f" color: {SEQUENCE_FG}; }}\n"
                          f"button:disabled {{ color: {SEQUENCE_DONE}; }}\n"
                          f"button:disabled label {{ color: {SEQUENCE_DONE}; }}")
            self.place(button, at)
            self.buttons[label] = button
        self.instruction = "Click " + ", then ".join(self.sequence)

    def mark_clicked(self, label: str) -> None:
        # done: a second click on it does nothing
        button = self.buttons[label]
        button.set_label(f"\u2714 {label}")
        button.set_sensitive(False)

    def boxes(self) -> dict[str, Gtk.Widget | list[int]]:
        return {f"button:{label}": b for label, b in self.buttons.items()}


@kind
class GtkCheckboxes(TickRules, GtkTask):
    """Tick exactly the 1-3 named checkboxes (of 4-8) and press Submit."""

    name = "gtk_checkboxes"
    mirrors = "checkboxes"

    def build(self) -> None:
        d = draws.checkboxes(self.rng, self.vocab, self.area())
        self.labels, self.targets = d.labels, d.targets
        self.checks: dict[str, Gtk.CheckButton] = {}
        for label, (x, y, _, row_h) in zip(self.labels, d.cells, strict=True):
            check = Gtk.CheckButton(label=label)
            check.connect("toggled", lambda c, lab=label: self.toggled(lab, c.get_active()))
            # At its own size: the widget box is then exactly the clickable area.
            height = check.get_preferred_height()[1]
            self.body.put(check, x, y + (row_h - height) // 2)
            self.checks[label] = check
        self.submit = self.button("Submit", self.submitted)
        self.place(self.submit, d.submit)
        self.instruction = f"Tick {join_words(self.targets)}, then press Submit"

    def checked(self) -> list[str]:
        return [lab for lab, c in self.checks.items() if c.get_active()]

    def boxes(self) -> dict[str, Gtk.Widget | list[int]]:
        out: dict[str, Gtk.Widget | list[int]] = {f"checkbox:{lab}": c
                                                  for lab, c in self.checks.items()}
        out["button:Submit"] = self.submit
        return out


@kind
class GtkPickList(GtkTask):
    """Pick the named entry from a short list (``GtkListBox``) or a drop-down."""

    name = "gtk_pick_list"
    mirrors = "pick_list"

    def build(self) -> None:
        self.listbox: Gtk.ListBox | None = None
        self.rows: dict[str, Gtk.ListBoxRow] = {}
        self.combo: Gtk.ComboBoxText | None = None
        d = draws.pick_list(self.rng, self.vocab, self.area(), self._make_list)
        self.mode, self.entries, self.target = d.mode, d.entries, d.target
        caption = Gtk.Label(label=d.caption, xalign=0)
        x, y, w, h = d.box
        self.body.put(caption, x, y - caption.get_preferred_height()[1] - 4)
        if self.listbox is not None:
            self._fill()
            self.place(self.listbox, d.box)
            self.listbox.connect("row-selected", self._selected)
            self.instruction = f"Select {self.target} in the list"
        else:
            self.combo = Gtk.ComboBoxText()
            for entry in (PLACEHOLDER, *self.entries):
                self.combo.append_text(entry)
            self.combo.set_active(0)
            self.combo.set_focus_on_click(False)
            self.combo.connect("changed", self._activated)
            self.place(self.combo, d.box)
            self.instruction = f"Choose {self.target} from the drop-down"

    def _make_list(self, row_h: int, n: int) -> int:
        """The list, its rows ``row_h`` px tall: its height (a pixel of frame each side)."""
        self.listbox = Gtk.ListBox()
        self.listbox.set_selection_mode(Gtk.SelectionMode.SINGLE)
        self.listbox.set_can_focus(False)
        style(self.listbox, "list { border: 1px solid alpha(currentColor, 0.4); }")
        # The draw asks for the height before it returns the entries: `_fill` adds them.
        self._row_h = row_h
        return n * row_h + 2

    def _fill(self) -> None:
        assert self.listbox is not None
        for entry in self.entries:
            row = Gtk.ListBoxRow()
            row.set_can_focus(False)
            row.add(Gtk.Label(label=entry, xalign=0, margin_start=6))
            row.set_size_request(-1, self._row_h)
            self.listbox.add(row)
            self.rows[entry] = row

    def took_map(self) -> None:
        super().took_map()
        if self.listbox is not None:
            # GtkListBox selects its first row as it is first shown: a person sees none.
            self.listbox.unselect_all()

    def _selected(self, _listbox: Gtk.ListBox, row: Gtk.ListBoxRow | None) -> None:
        if row is None or self.result is not None or self.t_shown is None:
            return
        entry = next(e for e, r in self.rows.items() if r is row)
        self._picked(entry)

    def _activated(self, combo: Gtk.ComboBoxText) -> None:
        if combo.get_active() > 0 and self.result is None:
            self._picked(combo.get_active_text())

    def _picked(self, entry: str) -> None:
        ok, reason = pick_verdict(entry, self.target)
        (self.succeed if ok else self.fail)(reason)

    def on_finished(self) -> None:
        if self.combo is not None:
            self.combo.popdown()

    def _menu(self) -> Gtk.Menu | None:
        """The drop-down's menu while it is on screen."""
        for window in Gtk.Window.list_toplevels():
            menu = window.get_child() if window.get_mapped() else None
            if isinstance(menu, Gtk.Menu) and menu.get_attach_widget() is self.combo:
                return menu
        return None

    def _popup_rows(self) -> dict[str, list[int]]:
        menu = self._menu()
        if menu is None:
            return {}
        out = {}
        for text, item in zip((PLACEHOLDER, *self.entries), menu.get_children(), strict=False):
            at = box(item)
            # A row scrolled out of the menu's window is not clickable.
            if at is not None and _within(at, box(menu.get_toplevel())):
                out[f"entry:{text}"] = at
        return out

    def boxes(self) -> dict[str, Gtk.Widget | list[int]]:
        if self.listbox is not None:
            return {"list": self.listbox, **{f"entry:{e}": r for e, r in self.rows.items()}}
        assert self.combo is not None
        return {"combo": self.combo, **self._popup_rows()}

    def next_targets(self) -> list[str]:
        if self.combo is not None and not self._popup_rows():
            return ["combo"]
        return [f"entry:{self.target}"]

    def extra_state(self) -> dict[str, Any]:
        popup = self.combo is not None and bool(self._popup_rows())
        return {"mode": self.mode, "target": self.target, "entries": list(self.entries),
                "popup_open": popup}


def _within(inner: list[int], outer: list[int] | None) -> bool:
    if outer is None:
        return False
    return (inner[0] >= outer[0] and inner[1] >= outer[1]
            and inner[0] + inner[2] <= outer[0] + outer[2]
            and inner[1] + inner[3] <= outer[1] + outer[3])
