"""The Tk list task kinds (drawn in the `deskmimic.tasks.tk_host` child process).

`tk_pick_list` mirrors `deskmimic.tasks.lists.PickListTask`: the same draw
(`deskmimic.tasks.draws.pick_list`), verdicts and state fields, so the Qt expert solves it
unchanged. Its list is a Tk ``listbox``; its drop-down a ``ttk::combobox``, whose list
Tk makes itself in a popdown window of its own (``<combobox>.popdown.f.l``), read here
through Tcl.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from deskmimic.tasks import draws
from deskmimic.tasks.draws import PLACEHOLDER
from deskmimic.tasks.tk_host import KINDS, TkTask, kind
from deskmimic.tasks.verdicts import pick_verdict

__all__ = ["KINDS", "TkPickList", "listbox_rows"]

COMBO_STYLE = "Task.TCombobox"


def listbox_rows(tcl: Any, path: str) -> list[list[int] | None]:
    """Screen [left, top, width, height] of every row of Tk listbox ``path`` (the whole
    row, as a click selects it, not only its text); ``None`` for a row out of view, none
    while the list is not on screen.

    A row is the font's line space, a pixel and the selection border above and below
    (Tk's ``lineHeight``); its text's ``bbox`` starts a selection border below its top.
    """
    if not int(tcl.call("winfo", "viewable", path)):
        return []
    rx, ry = int(tcl.call("winfo", "rootx", path)), int(tcl.call("winfo", "rooty", path))
    width, height = int(tcl.call("winfo", "width", path)), int(tcl.call("winfo", "height", path))
    inset = int(tcl.call(path, "cget", "-borderwidth")) \
        + int(tcl.call(path, "cget", "-highlightthickness"))
    sbw = int(tcl.call(path, "cget", "-selectborderwidth"))
    font = tcl.call(path, "cget", "-font")
    pitch = int(tcl.call("font", "metrics", font, "-linespace")) + 1 + 2 * sbw
    rows: list[list[int] | None] = []
    for i in range(int(tcl.call(path, "size"))):
        bbox = tcl.splitlist(tcl.call(path, "bbox", i))
        if not bbox:
            rows.append(None)
            continue
        top = int(bbox[1]) - sbw
        h = min(pitch, height - inset - top)
        rows.append([rx + inset, ry + top, width - 2 * inset, h] if h > 0 else None)
    return rows


@kind
class TkPickList(TkTask):
    """Pick the named entry from a short list, or from a drop-down (combo box)."""

    name = "tk_pick_list"
    mirrors = "pick_list"

    def build(self) -> None:
        self.listbox: tk.Listbox | None = None
        self.combo: ttk.Combobox | None = None
        d = draws.pick_list(self.rng, self.vocab, self.area(), self._make_list)
        self.mode, self.entries, self.target = d.mode, d.entries, d.target
        c = self.colors
        caption = tk.Label(self.body, text=d.caption, font=self.font, foreground=c["fg"],
                           background=self.background, borderwidth=0, padx=0, pady=0)
        x, y, w, h = d.box
        caption.place(x=x, y=y - caption.winfo_reqheight() - 4)
        if self.listbox is not None:
            for entry in self.entries:
                self.listbox.insert("end", entry)
            self.listbox.place(x=x, y=y, width=w, height=h)
            self.listbox.bind("<<ListboxSelect>>", self._selected)
            self.instruction = f"Select {self.target} in the list"
        else:
            self.combo = self._make_combo()
            self.combo.place(x=x, y=y, width=w, height=h)
            self.instruction = f"Choose {self.target} from the drop-down"

    def _make_list(self, row_h: int, n: int) -> int:
        """The (empty) list, its rows about ``row_h`` px tall: its height."""
        c = self.colors
        # A row is the line space, a pixel and the selection border twice: the border
        # makes up what the font leaves of the drawn row height.
        sbw = max(0, (row_h - self.font.metrics("linespace") - 1) // 2)
        self.listbox = tk.Listbox(
            self.body, height=n, font=self.font, selectborderwidth=sbw, activestyle="none",
            exportselection=False, takefocus=0, borderwidth=1, relief="solid",
            highlightthickness=0, foreground=c["field_fg"], background=c["field"],
            disabledforeground=c["field_fg"], selectforeground=c["field"],
            selectbackground=c["fg"])
        return self.listbox.winfo_reqheight()

    def _make_combo(self) -> ttk.Combobox:
        c = self.colors
        # The popdown's list takes its look from the option database, not the combobox.
        for option, value in (("font", self.font), ("background", c["field"]),
                              ("foreground", c["field_fg"]), ("selectBackground", c["fg"]),
                              ("selectForeground", c["field"])):
            self.root.option_add(f"*TCombobox*Listbox.{option}", value)
        style = ttk.Style(self.root)
        style.configure(COMBO_STYLE, foreground=c["field_fg"], fieldbackground=c["field"],
                        background=c["button"], arrowcolor=c["fg"])
        style.map(COMBO_STYLE, fieldbackground=[("readonly", c["field"])],
                  foreground=[("readonly", c["field_fg"])],
                  selectbackground=[("readonly", c["field"])],
                  selectforeground=[("readonly", c["field_fg"])])
        combo = ttk.Combobox(self.body, values=[PLACEHOLDER, *self.entries], state="readonly",
                             font=self.font, height=len(self.entries) + 1, style=COMBO_STYLE,
                             takefocus=0)
        combo.set(PLACEHOLDER)
        combo.bind("<<ComboboxSelected>>", self._activated)
        # Made now, not on the first click: the window counts the input of the widgets
        # it has when it is built.
        self.popdown = str(self.root.tk.call("ttk::combobox::PopdownWindow", combo))
        return combo

    def _selected(self, _event: Any = None) -> None:
        assert self.listbox is not None
        chosen = self.listbox.curselection()
        if chosen and self.result is None:
            self._picked(self.listbox.get(chosen[0]))

    def _activated(self, _event: Any = None) -> None:
        assert self.combo is not None
        index = self.combo.current()
        if index > 0 and self.result is None:
            self._picked(self.combo.get())

    def _picked(self, entry: str) -> None:
        ok, reason = pick_verdict(entry, self.target)
        (self.succeed if ok else self.fail)(reason)

    def on_finished(self) -> None:
        if self.combo is not None and int(self.root.tk.call("winfo", "ismapped", self.popdown)):
            self.root.tk.call("ttk::combobox::Unpost", self.combo)

    def _popup_rows(self) -> dict[str, list[int]]:
        # Open once its list shows rows: the popdown maps a moment before its list does.
        rows = listbox_rows(self.root.tk, self.popdown + ".f.l")
        return _entries([PLACEHOLDER, *self.entries], rows)

    def _popup_open(self) -> bool:
        return bool(self._popup_rows())

    def boxes(self) -> dict[str, tk.Misc | list[int]]:
        if self.listbox is not None:
            rows = listbox_rows(self.root.tk, str(self.listbox))
            return {"list": self.listbox, **_entries(self.entries, rows)}
        assert self.combo is not None
        return {"combo": self.combo, **self._popup_rows()}

    def next_targets(self) -> list[str]:
        if self.combo is not None and not self._popup_open():
            return ["combo"]
        return [f"entry:{self.target}"]

    def extra_state(self) -> dict[str, Any]:
        popup = self.combo is not None and self._popup_open()
        return {"mode": self.mode, "target": self.target, "entries": list(self.entries),
                "popup_open": popup}


def _entries(texts: list[str], rows: list[list[int] | None]) -> dict[str, list[int]]:
    return {f"entry:{t}": row for t, row in zip(texts, rows, strict=False) if row is not None}
