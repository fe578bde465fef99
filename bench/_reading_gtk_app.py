"""A GTK 3 window drawing one reading_bench scene (run by the system python3, which has gi:
/usr/bin/python3 _reading_gtk_app.py SCENE.json; GDK_SCALE=2 for a 2x scene).

Protocol as in _reading_tk_app.py: one JSON line of element boxes (screen pixels) once
drawn, then the window stays up until stdin closes. No deskmimic imports: the system
python3 does not see the project's environment.
"""

from __future__ import annotations

import json
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402


def css(scene: dict) -> bytes:
    fg, bg, bfg, bbg, ffg, field = scene["colours"]
    weight = "bold" if scene["bold"] else "normal"
    return f"""
    * {{ font-family: "{scene['font']}"; font-size: {scene['px']}px; font-weight: {weight}; }}
    window, fixed, checkbutton, label {{ background-color: {bg}; color: {fg}; }}
    button {{ background-image: none; background-color: {bbg}; color: {bfg}; }}
    button label {{ background-color: {bbg}; color: {bfg}; }}
    entry {{ background-image: none; background-color: {field}; color: {ffg}; }}
    list, row, row label {{ background-color: {field}; color: {ffg}; }}
    menubar, menubar label {{ background-image: none; background-color: {bbg}; color: {bfg}; }}
    """.encode()


def build(fixed: Gtk.Fixed, scene: dict) -> tuple[list, list]:
    """(kind, text, widget) per text, and (box, widget) per placed widget."""
    placed, widgets = [], []
    menubar = None
    for item in scene["items"]:
        kind, texts = item["kind"], item["texts"]
        x, y, w, h = item["box"]
        if kind == "menu":
            if menubar is None:
                menubar = Gtk.MenuBar()
                fixed.put(menubar, 0, 0)
            entry = Gtk.MenuItem(label=texts[0])
            entry.set_submenu(Gtk.Menu())
            menubar.append(entry)
            placed.append((kind, texts[0], entry))
            continue
        if kind == "label":
            wdg = Gtk.Label(label=texts[0], xalign=0.0)
        elif kind == "button":
            wdg = Gtk.Button(label=texts[0])
        elif kind == "check":
            wdg = Gtk.CheckButton(label=texts[0])
        elif kind == "entry":
            wdg = Gtk.Entry(text=texts[0], width_chars=max(1, len(texts[0])))
            wdg.set_can_focus(False)  # no blinking cursor between captures
        else:
            wdg = Gtk.ListBox()
            for t in texts:
                row_label = Gtk.Label(label=t, xalign=0.0)
                wdg.add(row_label)
                placed.append((kind, t, row_label))
        wdg.set_size_request(w, h)
        fixed.put(wdg, x, y)
        widgets.append(((x, y, w, h), wdg))
        if kind != "list":
            placed.append((kind, texts[0], wdg))
    return placed, widgets


def reflow(fixed: Gtk.Fixed, widgets: list) -> None:
    """Row by row as laid out, but each widget at least its natural size: GTK's themes
    make buttons and fields larger than asked, and they would overlap."""
    dy, row_y, x, tallest, planned = 0, None, 0, 0, 0
    for (bx, by, bw, bh), wdg in widgets:
        nat = wdg.get_preferred_size()[1]
        if by != row_y:
            if row_y is not None:
                dy += max(0, tallest - planned)
            row_y, x, tallest, planned = by, bx, 0, 0
        fixed.move(wdg, x, by + dy)
        x += max(bw, nat.width) + 10
        tallest, planned = max(tallest, nat.height, bh), max(planned, bh)


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        scene = json.load(f)
    provider = Gtk.CssProvider()
    provider.load_from_data(css(scene))
    win = Gtk.Window(title="reading bench")
    Gtk.StyleContext.add_provider_for_screen(win.get_screen(), provider,
                                             Gtk.STYLE_PROVIDER_PRIORITY_USER)
    w, h = scene["size"]
    win.set_default_size(w, h)
    win.set_resizable(False)
    win.move(0, 0)
    fixed = Gtk.Fixed()
    win.add(fixed)
    placed, widgets = build(fixed, scene)
    win.show_all()
    reflow(fixed, widgets)
    scale = scene["scale"]

    def ready() -> bool:
        ox, oy = win.get_window().get_origin()[1:]
        out = []
        for kind, text, wdg in placed:
            x, y = wdg.translate_coordinates(win, 0, 0)
            a = wdg.get_allocation()
            box = [(ox + x) * scale, (oy + y) * scale, (ox + x + a.width) * scale,
                   (oy + y + a.height) * scale]
            out.append({"kind": kind, "text": text, "box": box})
        print(json.dumps(out), flush=True)
        GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, lambda *_: Gtk.main_quit())
        return False

    GLib.timeout_add(400, ready)
    Gtk.main()


if __name__ == "__main__":
    main()
