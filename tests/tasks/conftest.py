"""Fixtures for the practice-task tests: shown task windows and a real XTEST injector."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from deskmimic.agent.inject import Injector, open_injector
from deskmimic.agent.input_state import query_held, release_stuck_input
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
def inj() -> Iterator[Injector]:
    """A real XTEST injector; the test must leave nothing held in the X server."""
    release_stuck_input()
    try:
        with open_injector("xtest", seed=0) as injector:
            yield injector
    finally:
        _restore_pointer_root_focus()
    assert query_held() == ([], []), "the test left input held in the X server"


def _restore_pointer_root_focus() -> None:
    # Clicking a window makes Qt take the X focus; give focus-follows-pointer back so
    # later tests on this display start from a bare Xvfb's state.
    from Xlib import X

    from deskmimic.agent.inject_xtest import open_display

    d = open_display()
    d.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
    d.sync()
    d.close()


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
