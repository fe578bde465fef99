"""A GTK 3 editor window for window_follow_bench: /usr/bin/python3 _follow_gtk_app.py TITLE W H X Y.

Reads commands on stdin, one a line: an opener's name (file_chooser, message_box,
menu_and_submenu, context_menu) shows it and answers "shown"; "close" closes it and
answers "closed". Ends when stdin closes. No deskmimic imports (the system python3).
"""

from __future__ import annotations

import sys
import threading

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

title, w, h, x, y = sys.argv[1], *(int(v) for v in sys.argv[2:6])
win = Gtk.Window(title=title)
win.set_size_request(w, h)
win.set_resizable(False)
win.move(x, y)
box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
bar = Gtk.MenuBar()
edit_item = Gtk.MenuItem(label="Edit")
edit = Gtk.Menu()
for name in ("Undo", "Redo", "Cut", "Copy", "Paste", "Delete", "Select All", "Find",
             "Find Next", "Replace", "Go to Line", "Preferences"):
    edit.append(Gtk.MenuItem(label=name))
convert_item = Gtk.MenuItem(label="Convert")
convert = Gtk.Menu()
for name in ("To Uppercase", "To Lowercase", "To Title Case", "Tabs to Spaces"):
    convert.append(Gtk.MenuItem(label=name))
convert_item.set_submenu(convert)
edit.append(convert_item)
edit_item.set_submenu(edit)
bar.append(edit_item)
box.pack_start(bar, False, False, 0)
box.pack_start(Gtk.TextView(), True, True, 0)
win.add(box)
win.show_all()
shown: list = []


def anchor(menu: Gtk.Menu, widget_x: int, widget_y: int) -> None:
    menu.show_all()
    menu.popup_at_rect(win.get_window(), Gdk.Rectangle(widget_x, widget_y, 1, 1),
                       Gdk.Gravity.NORTH_WEST, Gdk.Gravity.NORTH_WEST, None)


def open_(name: str) -> None:
    if name == "file_chooser":
        d = Gtk.FileChooserDialog(title="Open File", transient_for=win,
                                  action=Gtk.FileChooserAction.OPEN)
        d.add_button("Cancel", Gtk.ResponseType.CANCEL)
        d.add_button("Open", Gtk.ResponseType.OK)
        d.show_all()
        shown.append(d)
    elif name == "message_box":
        d = Gtk.MessageDialog(transient_for=win, message_type=Gtk.MessageType.QUESTION,
                              buttons=Gtk.ButtonsType.YES_NO,
                              text="Save the changes to the document before closing?")
        d.show_all()
        shown.append(d)
    elif name == "menu_and_submenu":
        alloc = edit_item.get_allocation()
        anchor(edit, alloc.x, alloc.y + alloc.height)
        sub_y = alloc.y + alloc.height + 12 * 26  # the Convert row, opened beside the menu
        anchor(convert, alloc.x + 120, sub_y)
        shown.extend([edit, convert])
    elif name == "context_menu":
        m = Gtk.Menu()
        for label in ("Cut", "Copy", "Paste", "Select All", "Insert Date", "Properties"):
            m.append(Gtk.MenuItem(label=label))
        anchor(m, w - 30, h - 30)
        shown.append(m)


def close() -> None:
    while shown:
        what = shown.pop()
        if isinstance(what, Gtk.Menu):
            what.popdown()
        else:
            what.destroy()


def command(line: str) -> bool:
    line = line.strip()
    if line == "close":
        close()
        print("closed", flush=True)
    else:
        open_(line)
        GLib.timeout_add(500, lambda: print("shown", flush=True) and False)
    return False


def read() -> None:
    for line in sys.stdin:
        GLib.idle_add(command, line)
    GLib.idle_add(Gtk.main_quit)


GLib.timeout_add(500, lambda: print("ready", flush=True) and False)
threading.Thread(target=read, daemon=True).start()
Gtk.main()
