"""Scenes for bench/reading_bench.py: which words, in which font, size, colours and layout.

A scene is plain JSON (the Tk and GTK windows are drawn by child processes, the web page
by Chromium), laid out here once so every toolkit places the same kind of element at the
same logical position: ``items`` are ``{"kind", "texts", "box"}`` with ``box`` (x, y, w,
h) in logical pixels; a list or a menu bar holds several texts. Widths are measured with
PIL in the scene's font, so each element fits its text in every toolkit.
"""

from __future__ import annotations

import random
import subprocess
from functools import lru_cache

from PIL import ImageFont

# Words drawn on the frames: 2-3 letter labels (one misread letter is another word),
# ordinary UI words, long ones, numbers, non-ASCII, two-word labels.
SHORT = ("OK Go Tab Add Run New Cut Fit Max Min Zip Key Map Log Up Yes No Pin Mix Box "
         "Ask Fax Sum Top Web").split()
MEDIUM = ("Save Copy Paste Cancel Apply Close Print Export Import Delete Rename Refresh "
          "Upload Submit Search Filter Sort Help Edit View Tools Window Share Undo Redo Zoom "
          "Color Layer Merge Split Reload Format Insert Table Chart Audio Video Profile "
          "Account Logout Billing Invoice Weather Garden Harbor Marble Pepper Violet Walnut "
          "Quartz Jigsaw Oxygen Bishop Falcon").split()
LONG = ("Settings Preferences Notifications Synchronize Bookmarks Downloads Extensions "
        "Calculator Dashboard Properties Templates Statistics Calendar Messages Contacts "
        "Documents Background Wallpaper Subscription Permissions Thumbnails").split()
NUMBERS = ["42", "128", "2024", "3.14", "1,024", "75%", "8080", "0.5", "19.99"]
NON_ASCII = ["Café", "Größe", "naïve", "Über", "Résumé", "Straße", "Señor", "Zoë",
             "Ångström", "Fiancé", "Crème", "Øresund", "Déjà vu"]
PAIRS = ["Save As", "Sign In", "Print Preview", "Empty Trash", "New Folder"]
VOCAB = SHORT + MEDIUM + LONG + NUMBERS + NON_ASCII + PAIRS
# Words never drawn: their matches are false positives. Short ones test matches inside
# longer words ("Ax" in "Max").
DISTRACTORS = ("Banana Orbit Tulip Glacier Piano Rocket Lantern Meadow Saddle Velvet Anchor "
               "Cobalt Dragon Ember Fossil Goblet Hazel Igloo Jasper Kettle Lemon Mango Nectar "
               "Olive Puzzle Quiver Raven Saffron Thimble Umbra Vortex Wizard Yonder Zephyr "
               "Ax Ox Hi Yo Pi Elf Owl Ivy Jam Kit Rug Zen").split()

# Fonts the practice tasks do not use (they draw Qt's default, DejaVu Sans, ~14 px),
# DejaVu kept as the reference.
FONTS = ["DejaVu Sans", "DejaVu Serif", "Liberation Sans", "Liberation Serif", "Nimbus Sans",
         "Nimbus Roman", "URW Gothic", "Noto Sans", "Noto Serif", "URW Bookman"]
SIZES = [9, 10, 11, 12, 13, 14, 16, 18, 20, 24, 28, 32, 40]
# (text, background, button text, button background, field text, field background)
SCHEMES = {
    "dark_on_light": ("#202020", "#f5f5f5", "#202020", "#e1e1e1", "#202020", "#ffffff"),
    "light_on_dark": ("#e8e8e8", "#202428", "#f0f0f0", "#3a3f44", "#e0e0e0", "#2c3035"),
    "grey_buttons": ("#303030", "#ffffff", "#1a1a1a", "#a9a9a9", "#303030", "#f0f0f0"),
    "coloured": ("#ffffff", "#1e5aa8", "#402000", "#f0c040", "#003366", "#fdf6e3"),
    "pastel": ("#5a2d82", "#fde9d9", "#ffffff", "#2e8b57", "#8b0000", "#fffaf5"),
}
# Logical window sizes (physical = logical x scale).
SMALL, MEDIUM_SIZE, FULL = (400, 300), (800, 600), (1280, 800)
MAX_ITEMS = 28  # per frame: recognition time grows with the number of lines


@lru_cache(maxsize=64)
def font_file(family: str, bold: bool) -> str:
    """The font file fontconfig picks for ``family`` (what Qt, Tk, GTK and Chromium use)."""
    pattern = f"{family}:{'bold' if bold else 'regular'}"
    return subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True,
                          text=True, check=True).stdout.strip()


def text_width(text: str, family: str, px: int, bold: bool) -> int:
    """``text``'s advance width in pixels at ``px`` (PIL, the same font file)."""
    font = ImageFont.truetype(font_file(family, bold), px)
    return round(font.getlength(text))


def _layout(rng: random.Random, words: list[str], family: str, px: int, bold: bool,
            size: tuple[int, int], menu: bool) -> list[dict]:
    """Elements placed left to right, row by row, until the window is full."""
    w_win, h_win = size
    pad, gap = max(6, round(px * 0.6)), max(10, round(px * 0.8))
    row_h = round(px * 1.9) + 8
    strip = row_h + gap  # the bottom strip stays empty: the incremental change goes there
    items: list[dict] = []
    words = list(words)
    y = gap
    if menu and len(words) >= 4:
        x = 0
        texts = []
        while words and len(texts) < 4:
            tw = text_width(words[-1], family, px, bold) + 2 * pad
            if x + tw > w_win:
                break
            texts.append(words.pop())
            items.append({"kind": "menu", "texts": [texts[-1]], "box": [x, 0, tw, row_h]})
            x += tw
        y = row_h + gap
    kinds = ["label", "button", "check", "entry", "label", "button", "list"]
    while words and len(items) < MAX_ITEMS:
        x, tallest = gap, 0
        placed = False
        while words and len(items) < MAX_ITEMS:
            kind = rng.choice(kinds)
            n = min(len(words), 3) if kind == "list" else 1
            texts = words[-n:]
            tw = max(text_width(t, family, px, bold) for t in texts) + 2 * pad
            if kind == "check":
                tw += px + pad  # the box in front of the text
            if kind in ("entry", "list"):
                tw += pad  # a field is wider than its text
            th = (round(px * 1.7) * n + 8) if kind == "list" else row_h
            if x + tw > w_win - gap or y + th > h_win - strip:
                break
            del words[-n:]
            items.append({"kind": kind, "texts": texts, "box": [x, y, tw, th]})
            x += tw + gap
            tallest = max(tallest, th)
            placed = True
        if not placed:
            break
        y += tallest + gap
    return items


def make_scene(toolkit: str, index: int, rng: random.Random, size: tuple[int, int],
               scale: int) -> dict:
    """Scene ``index`` of ``toolkit``: font, size, weight and scheme cycle with the index
    (shifted per toolkit, so each toolkit meets every font and size)."""
    shift = {"qt": 0, "tk": 3, "gtk": 5, "web": 7}[toolkit]
    family = FONTS[(index + shift) % len(FONTS)]
    px = SIZES[(index * 5 + shift) % len(SIZES)]
    bold = (index + shift) % 3 == 1
    scheme = list(SCHEMES)[(index + shift) % len(SCHEMES)]
    # Bigger text on bigger windows: 40 px in a 400x300 window holds three words.
    if px > 24 and size == SMALL:
        px = 20
    pool = rng.sample(VOCAB, len(VOCAB))
    seen: set[str] = set()
    words = []
    for w in pool:
        # No word twice on a frame, alone or in a pair ("Save" and "Save As"): a word's
        # matches have one true place.
        keys = {"".join(c for c in part.casefold() if c.isalnum()) for part in w.split()}
        if not keys & seen:
            seen |= keys
            words.append(w)
    items = _layout(rng, words, family, px, bold, size, menu=index % 2 == 0)
    return {"toolkit": toolkit, "index": index, "font": family, "px": px, "bold": bold,
            "scheme": scheme, "colours": SCHEMES[scheme], "scale": scale, "size": list(size),
            "items": items, "font_file": font_file(family, bold)}


def plan(quick: bool, seed: int = 0) -> list[dict]:
    """The scenes of one run: per toolkit a cycle of window sizes and scales (Tk draws at
    1x only: it has no device scale)."""
    rng = random.Random(seed)
    n = 3 if quick else 10
    # (logical size, scale) per index: physical 400x300, 800x600 and 1280x800 frames.
    cycle = [(SMALL, 1), (SMALL, 2), (MEDIUM_SIZE, 1), ((640, 400), 2), (FULL, 1), (SMALL, 2),
             (SMALL, 1), (SMALL, 2), (MEDIUM_SIZE, 1), (SMALL, 1)]
    scenes = []
    for toolkit in ("qt", "tk", "gtk", "web"):
        for i in range(n):
            size, scale = cycle[i]
            if toolkit == "tk" and scale == 2:
                size, scale = (size[0] * 2, size[1] * 2), 1
            scenes.append(make_scene(toolkit, i, rng, size, scale))
    return scenes
