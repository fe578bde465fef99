"""A Tk window drawing one reading_bench scene (run as a child: python _reading_tk_app.py SCENE.json).

The window is placed at +0+0 (no window manager: no decorations). Once it is drawn, one
JSON line goes to stdout: each text's element box in screen pixels; the window stays up
until stdin closes, while the bench captures the screen.
"""

from __future__ import annotations

import json
import sys
import tkinter as tk


def build(root: tk.Tk, scene: dict) -> list[tuple[str, str, tk.Widget, int | None]]:
    """The scene's widgets, placed; (kind, text, widget, list index) per text."""
    fg, bg, bfg, bbg, ffg, field = scene["colours"]
    # Negative size: pixels, not points (Tk's point scaling would change the size).
    font = (scene["font"], -scene["px"], "bold" if scene["bold"] else "normal")
    root.configure(background=bg)
    out = []
    for item in scene["items"]:
        kind, texts = item["kind"], item["texts"]
        x, y, w, h = item["box"]
        if kind == "label":
            wdg = tk.Label(root, text=texts[0], font=font, fg=fg, bg=bg, anchor="w")
        elif kind in ("button", "menu"):
            # A menu bar of Menubuttons: a real Tk menubar is drawn by a hidden clone
            # whose entries have no geometry to read back.
            cls = tk.Button if kind == "button" else tk.Menubutton
            wdg = cls(root, text=texts[0], font=font, fg=bfg, bg=bbg, activebackground=bbg,
                      highlightthickness=0)
        elif kind == "check":
            wdg = tk.Checkbutton(root, text=texts[0], font=font, fg=fg, bg=bg,
                                 activebackground=bg, selectcolor=field, highlightthickness=0)
        elif kind == "entry":
            wdg = tk.Entry(root, font=font, fg=ffg, bg=field, insertwidth=0,
                           highlightthickness=1)
            wdg.insert(0, texts[0])
        else:  # list
            wdg = tk.Listbox(root, font=font, fg=ffg, bg=field, highlightthickness=1,
                             activestyle="none", exportselection=False)
            for t in texts:
                wdg.insert("end", t)
        wdg.place(x=x, y=y, width=w, height=h)
        if kind == "list":
            out.extend((kind, t, wdg, i) for i, t in enumerate(texts))
        else:
            out.append((kind, texts[0], wdg, None))
    return out


def boxes(placed: list[tuple[str, str, tk.Widget, int | None]]) -> list[dict]:
    out = []
    for kind, text, wdg, index in placed:
        x, y = wdg.winfo_rootx(), wdg.winfo_rooty()
        if index is None:
            box = [x, y, x + wdg.winfo_width(), y + wdg.winfo_height()]
        else:
            bx, by, bw, bh = wdg.bbox(index)
            box = [x + bx, y + by, x + bx + bw, y + by + bh]
        out.append({"kind": kind, "text": text, "box": box})
    return out


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        scene = json.load(f)
    root = tk.Tk()
    w, h = scene["size"]
    root.geometry(f"{w}x{h}+0+0")
    placed = build(root, scene)

    def ready() -> None:
        root.update()
        print(json.dumps(boxes(placed)), flush=True)
        root.tk.createfilehandler(sys.stdin, tk.READABLE, lambda *_: root.destroy())

    root.after(300, ready)
    root.mainloop()


if __name__ == "__main__":
    main()
