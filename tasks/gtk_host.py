"""The child process that shows one GTK 3 practice task (GTK and Qt cannot share a main loop).

    python tasks/gtk_host.py '{"task": "gtk_click_button", "seed": 3, "look": {...}}'

The protocol is the Tk child's (`deskmimic.tasks.tk_host`): one JSON line ``{"event":
"state", "state": {...}}`` on stdout whenever the state changed (polled every
`POLL_MS`), boxes as screen ``[left, top, width, height]``; commands on stdin
(``{"cmd": "abort", "reason": ...}``, ``{"cmd": "close"}``, or stdin closing).

It is started by its file path, not with ``-m``: ``-m deskmimic.tasks.gtk_host`` would
run ``deskmimic/tasks/__init__.py`` first, which registers the Qt tasks and so loads Qt
into a process that must not have it. `bare_package` makes ``deskmimic.tasks`` a package
without running that file, so the toolkit-free modules (draws, vocab, verdicts,
core.rules) load alone. Only the standard library is imported at the top of this module:
GTK reads ``GDK_SCALE`` and the theme once, when it is first imported (`gtk_env`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

GTK_FOREIGN_ENV = ("GTK_THEME", "GTK2_RC_FILES", "GTK_RC_FILES", "GDK_DPI_SCALE")


def bare_package() -> None:
    """Make ``deskmimic.tasks`` importable without running its ``__init__`` (Qt)."""
    if "deskmimic.tasks" in sys.modules:
        return
    import deskmimic

    spec = importlib.util.find_spec("deskmimic.tasks")
    if spec is None or spec.submodule_search_locations is None:
        raise RuntimeError("deskmimic.tasks is not installed (pip install -e .)")
    package = importlib.util.module_from_spec(spec)
    sys.modules["deskmimic.tasks"] = package
    deskmimic.tasks = package  # type: ignore[attr-defined]


def gtk_env(look: dict[str, Any]) -> None:
    """The environment GTK reads when it starts: the look's integer scale and theme, X11,
    and none of the user's own theme settings (a look is the task's, not the desktop's)."""
    for name in GTK_FOREIGN_ENV:
        os.environ.pop(name, None)
    scale = int(round(float(look.get("scale") or 1.0)))
    os.environ["GDK_SCALE"] = str(max(1, scale))
    os.environ["GDK_BACKEND"] = "x11"
    os.environ["GTK_THEME"] = "Adwaita:dark" if look.get("palette") == "dark" else "Adwaita"
    os.environ["NO_AT_BRIDGE"] = "1"  # no accessibility bus on a bare display


def _read_commands(commands: queue.Queue) -> None:
    # GTK may only be touched from its own thread: stdin is read here, acted on in `poll`.
    for line in sys.stdin:
        try:
            commands.put(json.loads(line))
        except ValueError:
            continue
    commands.put({"cmd": "close"})


def _counted(task: Any, event: Any) -> None:
    """Feed one GDK event to the task's step counter (the Tk child's `StepCounter`, which
    reads Tk's event fields: they are filled from GDK's here)."""
    from gi.repository import Gdk

    kind = event.get_event_type()
    if kind == Gdk.EventType.BUTTON_PRESS:
        _, x, y = event.get_root_coords()
        task.counter.press(SimpleNamespace(num=event.get_button()[1], x_root=x, y_root=y))
    elif kind == Gdk.EventType.SCROLL:
        task.counter.press(SimpleNamespace(num=4, x_root=0, y_root=0))
    elif kind == Gdk.EventType.KEY_PRESS:
        keyval = event.get_keyval()[1]
        code = Gdk.keyval_to_unicode(keyval)
        task.counter.key(SimpleNamespace(keysym=Gdk.keyval_name(keyval) or "",
                                         char=chr(code) if code else "",
                                         state=int(event.get_state()[1])))


def serve(spec: dict[str, Any]) -> int:
    """Show the task ``spec`` names until the host closes it; report over stdout."""
    import gi

    gi.require_version("Gtk", "3.0")
    gi.require_version("Gdk", "3.0")
    from gi.repository import Gdk, GLib, Gtk

    from deskmimic.tasks import gtk_kinds  # noqa: F401 - the kinds register
    from deskmimic.tasks.gtk_windows import KINDS, POLL_MS

    task = KINDS[spec["task"]](int(spec["seed"]), spec["look"])
    commands: queue.Queue = queue.Queue()
    threading.Thread(target=_read_commands, args=(commands,), daemon=True).start()
    last = [""]

    def on_event(event: Any, _data: Any = None) -> None:
        # Every event of the process, before GTK dispatches it: the popups' too, as the
        # Qt tasks count theirs, and a press a widget keeps for itself.
        if task.result is None:
            _counted(task, event)
        Gtk.main_do_event(event)

    def on_map(*_args: Any) -> bool:
        if task.t_shown is None:
            task.t_shown = time.monotonic()
            task.took_map()
        return False

    def poll() -> bool:
        while not commands.empty():
            cmd = commands.get()
            if cmd.get("cmd") == "abort":
                task.fail(str(cmd.get("reason", "aborted")))
            elif cmd.get("cmd") == "close":
                task.fail("window closed")
                _emit(task, last)
                Gtk.main_quit()
                return False
        _emit(task, last)
        return True

    Gdk.event_handler_set(on_event, None)
    task.window.connect("map-event", on_map)
    task.window.connect("delete-event", lambda *_a: commands.put({"cmd": "close"}) or True)
    task.window.show_all()
    GLib.timeout_add(POLL_MS, poll)
    Gtk.main()
    return 0


def _emit(task: Any, last: list[str]) -> None:
    if task.t_shown is None or not task.window.get_mapped():
        return
    line = json.dumps({"event": "state", "state": task.state()})
    if line != last[0]:
        last[0] = line
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    # Run by path, Python put this folder first on sys.path: its modules are not top-level.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: gtk_host.py '{\"task\": NAME, \"seed\": N, \"look\": {...}}'",
              file=sys.stderr)
        return 2
    spec = json.loads(args[0])
    gtk_env(spec["look"])
    bare_package()
    return serve(spec)


if __name__ == "__main__":
    sys.exit(main())
