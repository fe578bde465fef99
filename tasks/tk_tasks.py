"""Tk practice tasks, seen from the Qt host: a stand-in for `TaskWindow` per Tk window.

Tk and Qt cannot share a main loop, so each Tk task window lives in a child process
(`deskmimic.tasks.tk_host`) that reports its state as JSON lines; `TkTaskProxy` is the
`ChildTaskProxy` (`deskmimic.tasks.child_proxy`) that starts it and answers the
`TaskWindow` calls of the runner, the experts, the recorder's labels and evaluation.
"""

from __future__ import annotations

import random

from deskmimic.tasks.child_proxy import ChildTaskProxy, register_child
from deskmimic.tasks.looks import HELDOUT, TRAIN, Look, check_mode

TOOLKIT = "tk"
DEFAULT_TK_LOOK = Look(style="tk", family="DejaVu Sans", point_size=10.5, scale=1.0,
                       palette="light", mode="default")


def tk_look_for(task: str, seed: int, mode: str = "default") -> Look:
    """The look of Tk task ``task`` at ``seed``: font family and size and the palette come
    from the Qt split (`looks.TRAIN`/`looks.HELDOUT`: families and sizes disjoint, dark
    only held out). Tk has one widget style here and no scale of its own (scale 1)."""
    if check_mode(mode) == "default":
        return DEFAULT_TK_LOOK
    choices = TRAIN if mode == "varied" else HELDOUT
    rng = random.Random(f"look:{mode}:{task}:{seed}")  # never the layout's stream
    return Look(style="tk", family=rng.choice(choices.families),
                point_size=rng.choice(choices.sizes), scale=1.0,
                palette=rng.choice(choices.palettes), mode=mode)


class TkTaskProxy(ChildTaskProxy):
    """One Tk task window in a child process (`deskmimic.tasks.tk_host`), with
    `TaskWindow`'s interface (see `ChildTaskProxy`)."""

    toolkit = TOOLKIT
    host_module = "deskmimic.tasks.tk_host"
    default_look = DEFAULT_TK_LOOK

    @classmethod
    def look_for(cls, seed: int, looks: str) -> Look:
        return tk_look_for(cls.name, seed, looks)


def register_tk(cls: type[TkTaskProxy]) -> type[TkTaskProxy]:
    """Add a Tk task to `deskmimic.tasks.base.OTHER_TASKS` under ``cls.name``."""
    register_child(cls)
    return cls


# In the Qt tasks' order (simplest first), as `tasks list` shows them.
@register_tk
class TkClickButtonTask(TkTaskProxy):
    name = "tk_click_button"
    max_steps = 3
    description = "Tk: click the named button among distractors ('Click Save')"


@register_tk
class TkClickSequenceTask(TkTaskProxy):
    name = "tk_click_sequence"
    max_steps = 8
    description = "Tk: click buttons in a given order ('Click Red, then Blue, then Green')"


@register_tk
class TkCheckboxesTask(TkTaskProxy):
    name = "tk_checkboxes"
    max_steps = 10
    description = "Tk: tick exactly the named checkboxes and press Submit"


@register_tk
class TkTypeFieldTask(TkTaskProxy):
    name = "tk_type_field"
    max_steps = 6
    description = "Tk: type a given text into the named field and press Submit or Enter"


@register_tk
class TkPickListTask(TkTaskProxy):
    name = "tk_pick_list"
    max_steps = 6
    description = "Tk: pick an entry from a list or a drop-down"


# Same state fields as their Qt counterparts: the Qt experts solve them as they are.
EXPERT_OF = {"tk_click_button": "click_button", "tk_click_sequence": "click_sequence",
             "tk_checkboxes": "checkboxes", "tk_type_field": "type_field",
             "tk_pick_list": "pick_list"}

__all__ = ["DEFAULT_TK_LOOK", "EXPERT_OF", "TOOLKIT", "TkTaskProxy", "register_tk",
           "tk_look_for"]
