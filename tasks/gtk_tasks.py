"""GTK 3 practice tasks, seen from the Qt host: a stand-in for `TaskWindow` per GTK window.

Each GTK task window lives in a child process (`deskmimic.tasks.gtk_host`, windows in
`gtk_windows` and `gtk_kinds`) that reports its state as JSON lines; `GtkTaskProxy` is
the `ChildTaskProxy` that starts it and answers the `TaskWindow` calls of the runner, the
experts, the recorder's labels and evaluation. Nothing here imports GTK: the host only
needs the child to be startable (`gtk_available`).
"""

from __future__ import annotations

import functools
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from deskmimic.core.errors import TaskError
from deskmimic.tasks.child_proxy import ChildTaskProxy, register_child
from deskmimic.tasks.looks import HELDOUT, MAX_SCALED_POINTS, TRAIN, Look, check_mode

TOOLKIT = "gtk"
HOST = Path(__file__).resolve().with_name("gtk_host.py")
# GDK_SCALE is a whole number: GTK 3 draws at 1x or 2x, nothing between.
GTK_SCALES = (1.0, 2.0)
DEFAULT_GTK_LOOK = Look(style="Adwaita", family="DejaVu Sans", point_size=10.5, scale=1.0,
                        palette="light", mode="default")


def gtk_look_for(task: str, seed: int, mode: str = "default") -> Look:
    """The look of GTK task ``task`` at ``seed``: font family and size and the palette come
    from the Qt split (`looks.TRAIN`/`looks.HELDOUT`: families and sizes disjoint, dark
    only held out); the theme is Adwaita, its dark variant for the dark palette; the
    scale is 1 or 2 (sizes capped as the Qt looks' at `looks.MAX_SCALED_POINTS`)."""
    if check_mode(mode) == "default":
        return DEFAULT_GTK_LOOK
    choices = TRAIN if mode == "varied" else HELDOUT
    rng = random.Random(f"look:{mode}:{task}:{seed}")  # never the layout's stream
    scale = rng.choice(GTK_SCALES)
    family = rng.choice(choices.families)
    sizes = [s for s in choices.sizes if s * scale <= MAX_SCALED_POINTS] or [min(choices.sizes)]
    size = rng.choice(sizes)
    palette = rng.choice(choices.palettes)
    return Look(style="Adwaita:dark" if palette == "dark" else "Adwaita", family=family,
                point_size=size, scale=scale, palette=palette, mode=mode)


@functools.cache
def gtk_available() -> str | None:
    """``None`` when this Python can show GTK 3 windows, else why not (the child's error)."""
    probe = "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk"
    try:
        res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot start {sys.executable}: {exc}"
    if res.returncode == 0:
        return None
    last = (res.stderr.strip().splitlines() or ["no error output"])[-1]
    return (f"PyGObject with GTK 3 is not importable in {sys.executable} ({last}); install "
            "libgirepository1.0-dev libcairo2-dev gir1.2-gtk-3.0 pkg-config with apt, then "
            "pip install 'PyGObject<3.51' pycairo")


class GtkTaskProxy(ChildTaskProxy):
    """One GTK task window in a child process, with `TaskWindow`'s interface."""

    toolkit = TOOLKIT
    default_look = DEFAULT_GTK_LOOK

    @classmethod
    def look_for(cls, seed: int, looks: str) -> Look:
        return gtk_look_for(cls.name, seed, looks)

    def show(self) -> None:
        """Start the child; a Python without GTK 3 is a clear error, not a window that
        never appears."""
        why = gtk_available()
        if why is not None:
            raise TaskError(f"task {self.name}: {why}")
        super().show()

    def child_command(self, spec: dict[str, Any]) -> list[str]:
        # By path, not ``-m``: ``-m`` would import deskmimic.tasks, and with it Qt (gtk_host).
        return [sys.executable, str(HOST), json.dumps(spec)]


# In the Qt tasks' order (simplest first), as `tasks list` shows them.
@register_child
class GtkClickButtonTask(GtkTaskProxy):
    name = "gtk_click_button"
    max_steps = 3
    description = "GTK: click the named button among distractors ('Click Save')"


@register_child
class GtkClickSequenceTask(GtkTaskProxy):
    name = "gtk_click_sequence"
    max_steps = 8
    description = "GTK: click buttons in a given order ('Click Red, then Blue, then Green')"


@register_child
class GtkCheckboxesTask(GtkTaskProxy):
    name = "gtk_checkboxes"
    max_steps = 10
    description = "GTK: tick exactly the named checkboxes and press Submit"


@register_child
class GtkTypeFieldTask(GtkTaskProxy):
    name = "gtk_type_field"
    max_steps = 6
    description = "GTK: type a given text into the named field and press Submit or Enter"


@register_child
class GtkPickListTask(GtkTaskProxy):
    name = "gtk_pick_list"
    max_steps = 6
    description = "GTK: pick an entry from a list or a drop-down"


# Same state fields as their Qt counterparts: the Qt experts solve them as they are.
EXPERT_OF = {"gtk_click_button": "click_button", "gtk_click_sequence": "click_sequence",
             "gtk_checkboxes": "checkboxes", "gtk_type_field": "type_field",
             "gtk_pick_list": "pick_list"}

__all__ = ["DEFAULT_GTK_LOOK", "EXPERT_OF", "GTK_SCALES", "TOOLKIT", "GtkTaskProxy",
           "gtk_available", "gtk_look_for"]
