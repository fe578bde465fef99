"""Fixtures for the practice-task tests: shown task windows and a real XTEST injector."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from deskmimic.tasks import TaskWindow, make_task, show_task


@pytest.fixture
def shown(qtbot) -> Callable[[str, int], TaskWindow]:
    """``shown(name, seed)``: the task window, on screen and settled; closed after the test."""

    def make(name: str, seed: int) -> TaskWindow:
        task = make_task(name, seed)
        qtbot.addWidget(task)
        show_task(task)
        return task

    return make




@pytest.fixture
def in_worker(qtbot) -> Callable[[Callable[[], None]], None]:
    """``in_worker(fn)``: run ``fn`` (injection) on a worker thread while the Qt event loop
    keeps running, as it does when an expert or the replay agent drives a live desktop."""

    def run(fn: Callable[[], None], timeout_ms: int = 15_000) -> None:
        errors: list[BaseException] = []

        def target() -> None:
            try:
                fn()
            except BaseException as exc:  # re-raised on the test thread
                errors.append(exc)

        worker = threading.Thread(target=target, daemon=True)
        worker.start()
        qtbot.waitUntil(lambda: not worker.is_alive(), timeout=timeout_ms)
        if errors:
            raise errors[0]

    return run
