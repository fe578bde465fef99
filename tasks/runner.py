"""Hosting a task: the Qt application, showing a window, waiting for its result.

The Qt event loop must keep running while an expert injects input, so experts run
in a worker thread and read task state through `GuiCaller`, which runs a function on
the GUI thread and hands back its result.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

from deskmimic.core.errors import DisplayError, TaskError
from deskmimic.tasks.base import TaskWindow, all_tasks
from deskmimic.tasks.looks import apply_look, look_for

logger = logging.getLogger(__name__)

T = TypeVar("T")


def ensure_app() -> QApplication:
    """The running `QApplication`, created (Fusion style, xcb) when there is none.

    Raises:
        DisplayError: no X display to show windows on.
    """
    app = QApplication.instance()
    if app is not None:
        return app  # type: ignore[return-value]
    if not os.environ.get("DISPLAY"):
        raise DisplayError("DISPLAY is not set: practice tasks need an X display "
                           "(start one with `Xvfb :57 -screen 0 1280x800x24 &` and export DISPLAY=:57)")
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    app = QApplication(["deskmimic-tasks"])
    app.setStyle("Fusion")
    return app


def make_task(name: str, seed: int, looks: str = "default") -> TaskWindow:
    """Construct (not show) task ``name`` with layout seed ``seed``, drawn in the look
    that looks mode ``looks`` gives this seed (`deskmimic.tasks.looks`).

    Sets the application's style, font, palette and scale for it: show one task at a time.

    Raises:
        TaskError: unknown task name, looks mode or bad seed.
    """
    import deskmimic.tasks  # noqa: F401 - registers the task families

    tasks = all_tasks()
    if name not in tasks:
        raise TaskError(f"unknown task {name!r}: choose one of {', '.join(sorted(tasks))} "
                        "(see `deskmimic tasks list`)")
    cls = tasks[name]
    if cls.toolkit != "qt":
        # Another toolkit's window, in a process of its own (`deskmimic.tasks.tk_tasks`):
        # it draws its own look and leaves the application's alone.
        ensure_app()
        return cls.create(seed, looks)  # type: ignore[attr-defined]
    look = look_for(name, seed, looks)
    ensure_app()
    apply_look(look)
    return cls(seed, look)


class GuiCaller(QObject):
    """Runs functions on the thread that created it (the GUI thread) for other threads."""

    _request = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._gui_thread = threading.get_ident()
        # Emitted from a worker thread, the signal reaches the slot through the GUI
        # thread's event queue (Qt picks a queued connection across threads).
        self._request.connect(self._run)

    @Slot(object)
    def _run(self, item: tuple[Callable[[], Any], Future]) -> None:
        fn, future = item
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to the caller, raised in its thread
            future.set_exception(exc)

    def call(self, fn: Callable[[], T], timeout: float = 5.0) -> T:
        """Run ``fn()`` on the GUI thread and return its result (or raise its error).

        Raises:
            TaskError: the GUI thread did not run it within ``timeout`` seconds.
        """
        if threading.get_ident() == self._gui_thread:
            return fn()
        future: Future = Future()
        self._request.emit((fn, future))
        try:
            return future.result(timeout)
        except TimeoutError as exc:
            future.cancel()
            raise TaskError(f"the GUI thread did not answer within {timeout} s "
                            "(is the Qt event loop running?)") from exc


def spin(seconds: float) -> None:
    """Run the Qt event loop for ``seconds`` (GUI thread)."""
    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def spin_until(predicate: Callable[[], bool], timeout: float, poll: float = 0.02) -> bool:
    """Run the Qt event loop until ``predicate()`` is true or ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(max(1, int(poll * 1000)))

    def check() -> None:
        if predicate() or time.monotonic() >= deadline:
            loop.quit()

    timer.timeout.connect(check)
    timer.start()
    if not predicate():
        loop.exec()
    timer.stop()
    return bool(predicate())


def show_task(task: TaskWindow, settle: float = 0.25, timeout: float = 5.0) -> TaskWindow:
    """Show ``task``, raise it, and wait until it is on screen and settled.

    Raises:
        TaskError: the window did not appear within ``timeout`` seconds.
    """
    if task.toolkit != "qt":
        task.show()
        # A child process starts Python and Tk first: allow it more than a Qt window.
        if not spin_until(lambda: task.is_shown() or not task.alive(), max(timeout, 20.0)) \
                or not task.is_shown():
            task.close()
            raise TaskError(f"task {task.name}: the {task.toolkit} window did not appear "
                            f"within {max(timeout, 20.0):g} s")
        spin(settle)
        return task
    task.show()
    task.raise_()
    task.activateWindow()
    ok = spin_until(lambda: task.windowHandle() is not None and task.windowHandle().isExposed(),
                    timeout)
    if not ok:
        raise TaskError(f"task {task.name}: window did not appear within {timeout} s "
                        "(is a display running?)")
    spin(settle)  # let a window manager place and decorate it
    return task


def close_task(task: TaskWindow) -> None:
    """Close the window (a running task ends as 'window closed') and free it."""
    task.close()
    task.deleteLater()
    spin(0.05)


def run_task(
    name: str,
    seed: int,
    expert: bool = False,
    timeout: float = 60.0,
    *,
    injector: Any = None,
    speed: float = 1.0,
    on_ready: Callable[[TaskWindow], None] | None = None,
    on_finish: Callable[[TaskWindow, dict], None] | None = None,
    linger: float = 0.3,
    looks: str = "default",
) -> dict[str, Any]:
    """Show task ``name`` (seed ``seed``), optionally let its expert solve it, return the result.

    Args:
        name: task name (see `deskmimic.tasks.all_tasks`).
        seed: layout seed; seeds >= 1,000,000 use the held-out vocabulary.
        expert: run the scripted expert (real X input through the injector).
        timeout: seconds before the task ends as a failure ('timeout').
        injector: an open `deskmimic.agent.inject.Injector` to use; by default the
            expert opens (and closes) its own.
        speed: expert speed factor (2.0 = twice as fast as the default human pace).
        on_ready: called on the GUI thread once the window is shown and settled,
            before the expert starts (start a recorder on ``task.region()`` here).
        on_finish: called with the task and its result after it ended, before the
            window closes (``linger`` seconds later; stop a recorder here).
        linger: seconds the finished window stays up (the result banner shows).
        looks: looks mode (``default``, ``varied``, ``heldout``: `deskmimic.tasks.looks`).

    Returns:
        The task's result dict (task, seed, success, reward, reason, steps,
        duration_s), ``look`` (the `Look` it was drawn in, as a dict); with ``expert``, ``targets`` (what each pointer action aimed at,
        `Act.targets`), and ``expert_error`` when the expert crashed.
    """
    ensure_app()
    task = make_task(name, seed, looks)
    runner = None
    try:
        show_task(task)
        if on_ready is not None:
            on_ready(task)
        if expert:
            from deskmimic.tasks.experts import start_expert

            runner = start_expert(task, injector=injector, speed=speed)
        deadline = time.monotonic() + timeout

        def finished_or_stuck() -> bool:
            # A live expert waits for the task to react to its last input, so a dead
            # one with the task still running has given up.
            return task.is_done() or (runner is not None and not runner.is_alive())

        spin_until(finished_or_stuck, max(0.0, deadline - time.monotonic()))
        if not task.is_done():
            if runner is not None and runner.error is not None:
                task.abort(f"expert error: {runner.error}")
            elif runner is not None and not runner.is_alive():
                task.abort("expert finished but the task did not end")
            else:
                task.abort(f"timeout after {timeout:g} s")
        spin(linger)
        result = task.result() or {}
        result["look"] = task.look.to_dict()
        if runner is not None:
            runner.stop()
            # Keep the event loop running: the expert may be waiting on a GUI call.
            spin_until(lambda: not runner.is_alive(), 5.0)
            if runner.error is not None:
                result["expert_error"] = str(runner.error)
            result["targets"] = runner.targets
        if on_finish is not None:
            on_finish(task, result)
        return result
    finally:
        if runner is not None:
            runner.stop()
        close_task(task)
