"""Scripted experts, one per task: they read the task's state and act through the injector.

```python
from deskmimic.tasks.experts import start_expert
runner = start_expert(task)          # worker thread; keep the Qt event loop running
```
"""

from __future__ import annotations

from deskmimic.tasks.expert_base import EXPERTS, Act, ExpertRunner, expert, start_expert

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
