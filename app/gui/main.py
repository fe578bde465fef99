"""The deskmimic main window: a sidebar of pages (Record, Episodes, Train, Replay,
Settings) and ``main()`` for `deskmimic gui`."""

from __future__ import annotations

import gc
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from deskmimic import __version__
from deskmimic.app.gui.common import Banner, Task, apply_style, short_path
from deskmimic.app.gui.pages.episodes import EpisodesPanel
from deskmimic.app.gui.pages.record import RecordPanel
from deskmimic.app.gui.pages.replay import ReplayPanel
from deskmimic.app.gui.pages.settings import SettingsPanel
from deskmimic.app.gui.pages.train import TrainPanel
from deskmimic.app.gui.state import GuiSettings
from deskmimic.core.errors import describe_error
from deskmimic.core.paths import default_runs_dir

logger = logging.getLogger(__name__)

WINDOW_TITLE = "deskmimic"
PAGES = ("Record", "Episodes", "Train", "Replay", "Settings")


class MainWindow(QMainWindow):
    """All pages; ``settings`` may carry a session-only episodes folder (--episodes-dir)."""

    def __init__(self, settings: GuiSettings | None = None, runs_dir: Path | None = None):
        super().__init__()
        self.settings = settings or GuiSettings.load()
        self.runs_dir = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        self.setWindowTitle(WINDOW_TITLE)
        self.resize(1200, 760)
        self.setMinimumSize(900, 600)

        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(150)
        self.sidebar.addItems(list(PAGES))
        self.sidebar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        brand = QLabel(f"<div style='font-size:19px;font-weight:600'>deskmimic</div>"
                       f"<div style='color:#9ca3af;font-size:11px'>version {__version__}</div>")
        brand.setStyleSheet("background: #1f2937; color: white; padding: 18px 20px 10px 24px;")
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.setSpacing(0)
        sl.addWidget(brand)
        sl.addWidget(self.sidebar, 1)
        side.setStyleSheet("background: #1f2937;")
        side.setFixedWidth(150)

        self.record = RecordPanel(self.settings)
        episodes_dir = Path(self.settings.episodes_dir).expanduser()
        self.episodes = EpisodesPanel(episodes_dir)
        self.train = TrainPanel(episodes_dir, self.runs_dir)
        self.replay = ReplayPanel(self.runs_dir, episodes_dir)
        self.replay.set_abort_hotkey(self.settings.abort_hotkey)
        self.settings_page = SettingsPanel(self.settings)
        self.stack = QStackedWidget()
        self._pages = (self.record, self.episodes, self.train, self.replay, self.settings_page)
        for w in self._pages:
            # A page smaller than it can be laid out scrolls instead of overlapping its
            # own parts (the window works from 900x600 up).
            area = QScrollArea()
            area.setWidgetResizable(True)
            area.setFrameShape(QFrame.Shape.NoFrame)
            area.setWidget(w)
            self.stack.addWidget(area)
        self.banner = Banner()  # unexpected errors from anywhere end up here
        content = QWidget()
        cl = QVBoxLayout(content)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.banner)
        cl.addWidget(self.stack, 1)
        central = QWidget()
        lay = QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(side)
        lay.addWidget(content, 1)
        self.setCentralWidget(central)

        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.sidebar.setCurrentRow(0)
        self.record.saved.connect(self._recording_saved)
        self.record.open_requested.connect(self.show_episode)
        self.settings_page.saved.connect(self._settings_saved)
        self.episodes.changed.connect(self.train.picker.refresh)
        self.train.run_finished.connect(lambda _p: self.replay.refresh())
        self.train.replay_requested.connect(self.show_replay)
        self.replay.open_requested.connect(self.show_episode)
        self.replay.episode_saved.connect(self._recording_saved)
        self.statusBar().showMessage(f"Episodes folder: {short_path(self.settings.episodes_dir)}")
        self._closing = False
        self.episodes.refresh()
        self.train.refresh()
        self.replay.refresh()

    def current_page(self) -> QWidget:
        """The page shown (the stack holds each inside its scroll area)."""
        return self._pages[self.stack.currentIndex()]

    def show_page(self, name: str) -> None:
        self.sidebar.setCurrentRow(PAGES.index(name))

    def show_episode(self, path: Path) -> None:
        self.show_page("Episodes")
        self.episodes.refresh(select=Path(path))

    def show_replay(self, run) -> None:
        self.show_page("Replay")
        self.replay.select_run(run)

    def show_error(self, text: str) -> None:
        self.banner.show_message(text)

    def _recording_saved(self, path: Path) -> None:
        self.train.picker.refresh()
        self.episodes.refresh(select=None if self.current_page() is not self.episodes else path)
        self.statusBar().showMessage(f"Saved {short_path(path)}", 10_000)

    def _settings_saved(self, s: GuiSettings) -> None:
        folder_changed = s.episodes_dir != self.settings.episodes_dir
        self.settings = s
        self.record.apply_settings(s)
        self.replay.set_abort_hotkey(s.abort_hotkey)
        if folder_changed:
            folder = Path(s.episodes_dir).expanduser()
            self.episodes.set_folder(folder)
            self.train.set_episodes_folder(folder)
            self.replay.episodes_dir = folder
        self.statusBar().showMessage(f"Episodes folder: {short_path(s.episodes_dir)}")

    def closeEvent(self, event: QCloseEvent) -> None:
        # A running recording is finalized first (on its worker); the window closes after.
        if self.record.session.active:
            event.ignore()
            if not self._closing:
                self._closing = True
                self.show()
                self.banner.show_message("Saving the recording before closing…", "info")
                self.record.stop()
            QTimer.singleShot(200, self.close)
            return
        self.record.shutdown()
        self.episodes.shutdown()
        self.train.shutdown()
        self.replay.shutdown()
        Task.wait_all(5000)
        event.accept()


def _install_excepthook(window: MainWindow) -> None:
    """A bug in a slot shows a message in the window instead of vanishing into stderr."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        logger.error("unexpected error", exc_info=(exc_type, exc, tb))
        try:
            window.show_error(describe_error(exc))
        except Exception:
            previous(exc_type, exc, tb)

    sys.excepthook = hook


def main(episodes_dir: Path | None = None, argv: list[str] | None = None) -> int:
    """Run the GUI until its window closes; returns the exit code."""
    from deskmimic.recorder.environment import require_x_display

    require_x_display()
    # Before torch loads (a replay loads a policy in this process): passive OpenMP waiting.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("deskmimic")
    apply_style(app)
    settings = GuiSettings.load()
    if episodes_dir is not None:  # for this session only; Settings saves it for good
        settings = replace(settings, episodes_dir=str(Path(episodes_dir).expanduser()))
    win = MainWindow(settings)
    _install_excepthook(win)
    win.show()
    # What is alive now (Qt wrappers, numpy, the pages) lives as long as the window.
    # Frozen, it is left out of the collector's full passes, which run on whichever
    # thread happens to allocate while holding the GIL, so they stall the UI too: one
    # pass over a bare start-up's ~200k objects took 53 ms here.
    gc.collect()
    gc.freeze()
    return int(app.exec())
