"""The practice desktop: seeded Qt task windows, their scripted experts, and a host.

```python
from deskmimic.tasks import TASKS, make_task, run_task
result = run_task("click_button", seed=3, expert=True)   # {'success': True, ...}
task = make_task("type_field", seed=7)                    # a TaskWindow, not shown yet
task.instruction, task.region(), task.element_boxes(), task.state()
```
See docs/tasks.md.
"""

from deskmimic.tasks import click, drag, forms  # noqa: F401 - registers the tasks of each family
from deskmimic.tasks.base import TASKS, TaskWindow
from deskmimic.tasks.runner import make_task, run_task, show_task

__all__ = ["TASKS", "TaskWindow", "make_task", "run_task", "show_task"]
