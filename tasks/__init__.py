"""The practice desktop: seeded task windows in Qt, Tk, GTK 3 and web pages (Chromium), their
scripted experts, and a host.

```python
from deskmimic.tasks import TASKS, make_task, run_task
result = run_task("click_button", seed=3, expert=True)   # {'success': True, ...}
task = make_task("type_field", seed=7)                    # a TaskWindow, not shown yet
task.instruction, task.region(), task.element_boxes(), task.state()
```
See docs/tasks.md.
"""

# Importing a family registers its tasks: Qt windows, then Tk and GTK 3 windows (in child
# processes) and web pages (Chromium).
from deskmimic.tasks import (  # noqa: F401
    click,
    drag,
    forms,
    gtk_tasks,
    lists,
    tk_tasks,
    web_tasks,
    workflow,
)
from deskmimic.tasks.base import OTHER_TASKS, TASKS, TaskWindow, all_tasks
from deskmimic.tasks.runner import make_task, run_task, show_task

ORDER = ("click_button", "click_sequence", "checkboxes", "type_field", "drag_item", "pick_list",
         "scroll_find", "workflow")
for _name in sorted(TASKS, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
    TASKS[_name] = TASKS.pop(_name)  # list them simplest first

__all__ = ["OTHER_TASKS", "TASKS", "TaskWindow", "all_tasks", "make_task", "run_task", "show_task"]
