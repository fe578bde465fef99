"""Scripted experts, one per task: they read the task's state and act through the injector.

```python
from deskmimic.tasks.experts import start_expert
runner = start_expert(task)          # worker thread; keep the Qt event loop running
```
"""

from __future__ import annotations

from deskmimic.core.geometry import Rect
from deskmimic.tasks.expert_base import (
    EXPERTS,
    POPUP_OPEN_S,
    Act,
    ExpertRunner,
    expert,
    start_expert,
)
from deskmimic.tasks.gtk_tasks import EXPERT_OF as GTK_EXPERT_OF
from deskmimic.tasks.tk_tasks import EXPERT_OF
from deskmimic.tasks.web_tasks import EXPERT_OF as WEB_EXPERT_OF

__all__ = ["EXPERTS", "Act", "ExpertRunner", "start_expert"]


@expert("click_button")
def click_button(act: Act) -> None:
    s = act.state()
    act.click(f"button:{s['target']}", s)


@expert("click_sequence")
def click_sequence(act: Act) -> None:
    s = act.state()
    for i, label in enumerate(s["sequence"]):
        act.click(f"button:{label}", s)
        if i + 1 < len(s["sequence"]):
            s = act.wait(lambda st, n=i + 1: st["progress"] >= n or st["done"],
                         what=f"{label} to register")


@expert("checkboxes")
def checkboxes(act: Act) -> None:
    s = act.state()
    for label in s["targets"]:
        if label not in s["checked"]:
            act.click(f"checkbox:{label}", s)
            s = act.wait(lambda st, lab=label: lab in st["checked"] or st["done"],
                         what=f"{label} to be ticked")
    act.click("button:Submit", s)


@expert("type_field")
def type_field(act: Act) -> None:
    s = act.state()
    act.click(f"field:{s['target']}", s)
    s = act.wait(lambda st: st["focus"] == st["target"], what="the field to take the focus")
    act.type_text(s["text"])
    s = act.wait(lambda st: st["values"][st["target"]] == st["text"], what="the text to arrive")
    if act.rng.random() < 0.5:
        act.press("enter")
    else:
        act.click("button:Submit", s)


@expert("drag_item")
def drag_item(act: Act) -> None:
    s = act.state()
    act.drag(act.box(f"item:{s['item']}", s), act.box(f"target:{s['target']}", s))


def pick_from_combo(act: Act, combo: str, entry: str, s: dict) -> None:
    """Open the drop-down ``combo`` (an element name) and click ``entry`` in it."""
    act.click(combo, s)
    s = act.wait(lambda st: entry in st["boxes"] or st["done"], what="the drop-down to open")
    act.pause(floor=POPUP_OPEN_S)
    act.click(entry, s)


@expert("pick_list")
def pick_list(act: Act) -> None:
    s = act.state()
    if s["mode"] == "combo":
        pick_from_combo(act, "combo", f"entry:{s['target']}", s)
    else:
        act.click(f"entry:{s['target']}", s)


@expert("scroll_find")
def scroll_find(act: Act) -> None:
    s = act.state()
    while s["target"] not in s["visible"]:
        # Two wheel clicks (6 rows) per burst, as a person reading down a list would: never
        # more than the rows in view (6-12), so nothing passes unseen, and never "just
        # enough" to bring the target in, which only the task knows. With 2-5 clicks
        # (capped by the rows in view) the policy could not tell from 20 demonstrations how
        # many a list allowed: it scrolled 3 clicks on 6-row lists and passed the target
        # (2 of 50 held-out lists); an expert that scrolled exactly as far as needed taught
        # it bursts of 4-5 clicks, past the target when it was a few rows below.
        below = s["target_index"] > s["last_visible"]
        shown = s["last_visible"] - s["first_visible"] + 1
        clicks = min(2, max(1, shown // 3))
        first = s["first_visible"]
        act.scroll(rows_side(act.box("list", s)), -clicks if below else clicks)
        s = act.wait(lambda st, f=first: st["first_visible"] != f or st["done"],
                     what="the list to scroll")
        # Look at the list; a gap over the reducer's 0.3 s makes the next burst a new step.
        act.pause(0.35, 0.6, floor=0.4)
        s = act.state()
    act.click(f"entry:{s['target']}", s)


def rows_side(box: Rect) -> Rect:
    """The right part of a list's viewport, where the pointer rests while scrolling.

    The names are written from the left edge. With the pointer over one, the drawn-in
    cursor hid the target's surname as it scrolled into view (held-out seed 1,000,014:
    "Usha Zhang" under the pointer, the pair's match 0, and the policy scrolled on to the
    end of the list); a person reading keeps the pointer off the text."""
    cut = box.width * 3 // 5
    return Rect(box.left + cut, box.top, box.width - cut, box.height)


@expert("workflow")
def workflow(act: Act) -> None:
    s = act.state()
    act.click(f"menu:{s['menu']}", s)
    s = act.wait(lambda st: f"menuitem:{st['action']}" in st["boxes"] or st["done"],
                 what="the menu to open")
    act.pause(floor=POPUP_OPEN_S)
    act.drop_below(f"menu:{s['menu']}", s)
    act.click(f"menuitem:{s['action']}", s)
    s = act.wait(lambda st: st["dialog_open"] or st["done"], what="the dialog to open")
    if not s["done"]:
        s = act.wait_still(f"field:{s['fields'][0]}")
    for label in s["fields"]:
        act.click(f"field:{label}", s)
        s = act.wait(lambda st, lab=label: st["focus"] == lab or st["done"],
                     what=f"{label} to take the focus")
        act.type_text(s["values"][label])
        s = act.wait(lambda st, lab=label: st["entered"].get(lab) == st["values"][lab]
                     or st["done"], what=f"the text of {label} to arrive")
    option = f"option:{s['option']}"
    if s["option_widget"] == "combo":
        pick_from_combo(act, "combo", option, s)
    else:
        act.click(option, s)
    s = act.wait(lambda st: st["chosen"] == st["option"] or st["done"],
                 what="the option to be chosen")
    act.click("button:OK", s)


# The Tk tasks report the same state fields as their Qt counterparts (tasks/tk_tasks.py).
# So do the web pages (tasks/web_tasks.py).
# And the GTK windows (tasks/gtk_tasks.py).
for _tk_name, _qt_name in {**EXPERT_OF, **WEB_EXPERT_OF, **GTK_EXPERT_OF}.items():
    EXPERTS[_tk_name] = EXPERTS[_qt_name]
