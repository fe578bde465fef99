"""The window works from 900x600 up: no page is squeezed below the size its parts need
(rows collapsing, the episode list over the viewer); a page too tall scrolls, and none
needs a horizontal scroll bar."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QScrollArea

from deskmimic.app.gui.common import Task
from deskmimic.app.gui.main import PAGES, MainWindow
from deskmimic.app.gui.state import GuiSettings


@pytest.fixture
def window(qtbot, demos_dir: Path, tmp_home: Path) -> MainWindow:
    win = MainWindow(GuiSettings(episodes_dir=str(demos_dir)), runs_dir=tmp_home / "data" / "runs")
    qtbot.addWidget(win)
    win.move(0, 0)
    win.show()
    qtbot.waitExposed(win)
    yield win
    for page in (win.record, win.train, win.replay, win.episodes):
        page.shutdown()
    Task.wait_all()


@pytest.mark.parametrize("size", [(900, 600), (1280, 800)])
def test_every_page_gets_the_room_it_needs(qtbot, window, size):
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    window.show_page("Episodes")
    qtbot.waitUntil(lambda: len(window.episodes.rows) == 3, timeout=5000)
    assert window.episodes.select_path(next(iter(window.episodes.rows)))
    qtbot.waitUntil(lambda: window.episodes.viewer.data is not None, timeout=10_000)
    window.train.banner.show_message("A message long enough to wrap onto a second line at the "
                                     "smallest size of the window, as errors often are.")
    for name in PAGES:
        window.show_page(name)
        qtbot.wait(50)  # a duration: one layout pass
        page = window.current_page()
        area = window.stack.currentWidget()
        assert isinstance(area, QScrollArea) and area.widget() is page
        need = page.minimumSizeHint()
        assert page.width() >= need.width() and page.height() >= need.height(), \
            f"{name}: {page.width()}x{page.height()} < {need.width()}x{need.height()}"
        assert not area.horizontalScrollBar().isVisible(), \
            f"{name} scrolls sideways at {size}: needs {need.width()}, has {area.viewport().width()}"
    # the list and the viewer side by side, not on top of each other
    lst, viewer = window.episodes.episode_list, window.episodes.viewer
    window.show_page("Episodes")
    qtbot.wait(50)
    assert lst.mapTo(window, lst.rect().topRight()).x() < viewer.mapTo(window, viewer.rect().topLeft()).x()
