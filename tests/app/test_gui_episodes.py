"""The Episodes page on real episodes: list, viewer, scrubbing, playback, edits,
delete with confirmation, trimmed copy, and a corrupt episode."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from deskmimic.app.gui.common import Task
from deskmimic.app.gui.pages.episodes import EpisodesPanel
from deskmimic.app.gui.widgets.episodelist import INSTRUCTION, RESULT, SEED
from deskmimic.recorder.check import check_episode
from deskmimic.recorder.episode import Episode
from deskmimic.recorder.episode_format import read_meta
from tests.app.conftest import SAMPLE_ID


@pytest.fixture
def panel(qtbot, episodes_dir: Path) -> EpisodesPanel:
    p = EpisodesPanel(episodes_dir)
    qtbot.addWidget(p)
    p.resize(1100, 700)
    p.show()
    qtbot.waitExposed(p)
    p.refresh()
    qtbot.waitUntil(lambda: len(p.rows) >= 1, timeout=5000)
    yield p
    p.shutdown()
    Task.wait_all()


def _open(qtbot, panel: EpisodesPanel, name: str = SAMPLE_ID) -> None:
    assert panel.select_path(panel.episodes_dir / name)
    qtbot.waitUntil(lambda: panel.viewer.data is not None and panel.viewer.shown_index == 0, timeout=5000)


def _shown_rgb(panel: EpisodesPanel) -> np.ndarray:
    img = panel.viewer.view.image
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def test_list_shows_the_episode_and_search_filters(qtbot, panel):
    row = panel.rows[str(panel.episodes_dir / SAMPLE_ID)]
    assert row.task == "press_go" and row.status == "complete"
    assert panel.proxy.rowCount() == 1
    assert panel.proxy.index(0, 0).data() == "press_go"
    assert panel.proxy.index(0, RESULT).data() == "", "complete, no outcome marked yet"
    assert panel.proxy.index(0, INSTRUCTION).data() == "Press Go"
    assert panel.proxy.index(0, SEED).data() == "", "not a practice task: no seed"
    qtbot.keyClicks(panel.search, "press go")  # instruction text matches too
    assert panel.proxy.rowCount() == 1
    assert panel.count_label.text() == "1 episode"
    panel.search.setText("nothing like this")
    assert panel.proxy.rowCount() == 0
    assert panel.count_label.text() == "0 of 1 episode shown", "the count follows the search"


def test_viewer_seeks_to_a_frame_and_shows_it(qtbot, panel, watchdog):
    _open(qtbot, panel)
    viewer = panel.viewer
    n = viewer.playback.count
    target = n // 2
    viewer.slider.setValue(target)
    qtbot.waitUntil(lambda: viewer.shown_index == target, timeout=5000)
    with Episode.open(panel.episodes_dir / SAMPLE_ID) as ep:
        want = ep.frame(target)
    assert np.array_equal(_shown_rgb(panel), want)
    assert f"frame {target + 1}/{n}" in viewer.time_label.text()
    # scrubbing back and forth never blocks the UI thread
    watchdog.start()
    for _ in range(3):
        for i in list(range(n)) + list(range(n - 1, -1, -1)):
            viewer.slider.setValue(i)
            qtbot.wait(8)  # scrubbing pace, as a dragged slider moves
    qtbot.waitUntil(lambda: viewer.shown_index == 0, timeout=5000)
    gap = watchdog.stop()
    print("while scrubbing:", watchdog.report())
    assert gap < 100, f"the UI thread blocked while scrubbing: {watchdog.report()}"


def test_play_at_4x_reaches_the_end_and_overlay_follows(qtbot, panel):
    _open(qtbot, panel)
    viewer = panel.viewer
    viewer.speed_combo.setCurrentIndex(viewer.speed_combo.findData(4.0))
    qtbot.mouseClick(viewer.play_button, Qt.MouseButton.LeftButton)
    assert viewer.playback.playing
    qtbot.waitUntil(lambda: not viewer.playback.playing, timeout=5000)  # ~1.3 s of video at 4x
    last = viewer.playback.count - 1
    assert viewer.playback.index == last
    qtbot.waitUntil(lambda: viewer.shown_index == last, timeout=5000)
    assert viewer.slider.value() == last
    # at the click, the overlay holds the button press and a trail of moves
    events = viewer.data.timeline.actions
    t_click = next(e["t"] for e in events if e["type"] == "button_down")
    i = int(np.searchsorted(viewer.data.frame_times, t_click, side="right"))
    viewer.seek(min(i, last))
    qtbot.waitUntil(lambda: viewer.shown_index == min(i, last), timeout=5000)
    assert any(e["type"] == "button_down" for _, e in viewer.view.recent)


def test_steps_list_jumps_to_the_step(qtbot, panel):
    pytest.importorskip("deskmimic.models.data.steps")
    _open(qtbot, panel)
    viewer = panel.viewer
    qtbot.waitUntil(lambda: viewer.steps_list.count() > 0, timeout=10000)
    texts = [viewer.steps_list.item(i).text() for i in range(viewer.steps_list.count())]
    assert any(t.split("\n")[0].endswith("click") for t in texts), texts
    item = viewer.steps_list.item(0)
    target = item.data(Qt.ItemDataRole.UserRole)
    viewer.seek(viewer.playback.count - 1)
    rect = viewer.steps_list.visualItemRect(item)
    qtbot.mouseClick(viewer.steps_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: viewer.shown_index == target, timeout=5000)


def test_label_and_outcome_edits_are_saved(qtbot, panel):
    _open(qtbot, panel)
    panel.label_edit.setText("press the button")
    qtbot.mouseClick(panel.label_save, Qt.MouseButton.LeftButton)
    path = panel.episodes_dir / SAMPLE_ID
    qtbot.waitUntil(lambda: read_meta(path)["task"] == "press the button", timeout=5000)
    panel.outcome_combo.setCurrentIndex(1)
    panel.outcome_combo.activated.emit(1)
    qtbot.waitUntil(lambda: read_meta(path)["extra"].get("success") is True, timeout=5000)
    qtbot.waitUntil(lambda: panel.proxy.index(0, RESULT).data() == "✔ success", timeout=5000)
    assert panel.proxy.index(0, 0).data() == "press the button"
    assert panel.viewer.data is not None, "the open episode stays open after an edit"


def test_instruction_edit_is_saved_to_meta(qtbot, panel):
    _open(qtbot, panel)
    path = panel.episodes_dir / SAMPLE_ID
    assert panel.instruction_edit.text() == "Press Go", "the recorded instruction is shown"
    panel.instruction_edit.clear()
    qtbot.keyClicks(panel.instruction_edit, "  Press the Go button ")
    qtbot.keyClick(panel.instruction_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: read_meta(path)["instruction"] == "Press the Go button", timeout=5000)
    qtbot.waitUntil(lambda: "“Press the Go button”" in panel.subtitle.text(), timeout=5000)
    assert read_meta(path)["task"] == "press_go", "the label is left alone"
    panel.instruction_edit.setText("Click Go")
    qtbot.mouseClick(panel.instruction_save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: read_meta(path)["instruction"] == "Click Go", timeout=5000)
    qtbot.waitUntil(lambda: panel.instruction_edit.text() == "Click Go"
                    and "Click Go" in panel.proxy.index(0, 0).data(Qt.ItemDataRole.ToolTipRole),
                    timeout=5000)
    panel.search.setText("click go")  # the search sees the new instruction
    assert panel.proxy.rowCount() == 1
    assert panel.viewer.data is not None, "the open episode stays open after an edit"


def test_delete_asks_first_and_removes_the_folder_only_when_confirmed(qtbot, panel):
    _open(qtbot, panel)
    path = panel.episodes_dir / SAMPLE_ID
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    box = panel.confirm_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert str(path) in box.informativeText()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.confirm_box is None, timeout=2000)
    qtbot.wait(200)  # a deletion that must not happen has no signal to wait for
    assert path.is_dir()
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    box = panel.confirm_box
    qtbot.mouseClick(panel.delete_yes, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not path.exists(), timeout=5000)
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 0, timeout=5000)
    assert panel.viewer.data is None and "Deleted" in panel.banner.text()
    # nothing of the deleted episode is left on show, and nothing offers to act on it
    viewer = panel.viewer
    assert viewer.view.image is None and viewer.steps_list.count() == 0
    assert viewer.time_label.text() == "0:00.0 / 0:00.0" and viewer.slider.value() == 0
    assert not viewer.slider.isEnabled() and not viewer.play_button.isEnabled()
    assert not panel.outcome_combo.isEnabled() and not panel.delete_button.isEnabled()
    assert panel.title.text() == "No episode selected"


def test_trim_from_the_viewer_writes_a_valid_copy(qtbot, panel):
    _open(qtbot, panel)
    viewer = panel.viewer
    n = viewer.playback.count
    viewer.seek(2)
    qtbot.mouseClick(viewer.mark_in, Qt.MouseButton.LeftButton)
    assert not viewer.trim_button.isEnabled()
    viewer.seek(n - 3)
    qtbot.mouseClick(viewer.mark_out, Qt.MouseButton.LeftButton)
    assert viewer.trim_button.isEnabled()
    qtbot.mouseClick(viewer.trim_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.rows) == 2 and panel.banner.kind == "ok", timeout=20000)
    new = next(Path(p) for p in panel.rows if Path(p).name != SAMPLE_ID)
    assert check_episode(new) == []
    assert read_meta(new)["counters"]["frames"] == n - 4
    qtbot.waitUntil(lambda: panel.current is not None and panel.current.path == new, timeout=5000)


def test_corrupt_episode_shows_a_message_and_the_app_stays_responsive(qtbot, panel, watchdog):
    good = panel.episodes_dir / SAMPLE_ID
    bad = panel.episodes_dir / "20250101T000000000Z-dead"

    shutil.copytree(good, bad)
    (bad / "meta.json").write_text("\x00garbage{{ not json")
    watchdog.start()
    panel.refresh()
    qtbot.waitUntil(lambda: len(panel.rows) == 2, timeout=5000)
    assert panel.rows[str(bad)].status == "unreadable"
    assert "1 unreadable" in panel.count_label.text()
    assert panel.select_path(bad)
    qtbot.waitUntil(lambda: panel.viewer.banner.isVisible(), timeout=5000)
    assert "not valid JSON" in panel.viewer.banner.text()
    assert not panel.label_save.isEnabled() and not panel.instruction_edit.isEnabled()
    # the good episode still opens
    _open(qtbot, panel, SAMPLE_ID)
    assert not panel.viewer.banner.isVisible()
    # an episode that breaks after it was listed: meta fine, video gone
    shutil.rmtree(bad)
    shutil.copytree(good, bad)
    meta = json.loads((bad / "meta.json").read_text())
    (bad / "frames.csv").write_text("index,t_ns,segment,pts\n0,1,0,zz\n")
    (bad / "meta.json").write_text(json.dumps(meta))
    panel.refresh()
    qtbot.waitUntil(lambda: panel.rows.get(str(bad)) is not None
                    and panel.rows[str(bad)].status == "complete", timeout=5000)
    assert panel.select_path(bad)
    qtbot.waitUntil(lambda: panel.viewer.banner.isVisible(), timeout=5000)
    assert "frames.csv" in panel.viewer.banner.text() and "malformed" in panel.viewer.banner.text()
    assert panel.viewer.view.placeholder == "Nothing to show", "not 'Loading…' beside the error"
    # opened fine, but the video is gone: the frame cannot be drawn, and the viewer says so
    shutil.rmtree(bad)
    shutil.copytree(good, bad)
    for segment in (bad / "video").iterdir():
        segment.write_bytes(b"\0" * 64)
    assert panel.select_path(good) and panel.select_path(bad)
    qtbot.waitUntil(lambda: panel.viewer.banner.isVisible()
                    and "cannot be shown" in panel.viewer.banner.text(), timeout=10_000)
    assert panel.viewer.view.placeholder == "Nothing to show", "not 'Loading…' beside the error"
    gap = watchdog.stop()
    assert gap < 100, f"the UI thread blocked: {watchdog.report()}"
    # and the app still does things
    _open(qtbot, panel, SAMPLE_ID)
    panel.search.setText("press")
    assert panel.proxy.rowCount() >= 1


def test_times_and_sizes_past_32_bits_cross_the_gui_signals(qtbot, panel):
    """A trim past 2.147 s carried nanoseconds through Signal(int, int): OverflowError."""
    from deskmimic.app.gui.common import Task

    got: list[tuple] = []
    panel.viewer.trim_requested.disconnect()
    panel.viewer.trim_requested.connect(lambda a, b: got.append((a, b)))
    panel.viewer.trim_requested.emit(6_000_000_000, 7_600_000_000)
    task = Task(lambda: None)
    task.progress.connect(lambda d, t: got.append((d, t)))
    task.report(5 * 2**31, 6 * 2**31)
    qtbot.waitUntil(lambda: len(got) == 2, timeout=2000)
    assert got == [(6_000_000_000, 7_600_000_000), (5 * 2**31, 6 * 2**31)]


def test_refresh_tells_the_other_pages_when_the_folder_changed(qtbot, panel):
    seen: list[int] = []
    panel.changed.connect(lambda: seen.append(1))
    panel.refresh()
    qtbot.waitUntil(lambda: panel.refresh_button.isEnabled(), timeout=5000)
    assert seen == [], "nothing changed: nothing to tell"
    shutil.copytree(panel.episodes_dir / SAMPLE_ID, panel.episodes_dir / "20250101T000000000Z-copy")
    qtbot.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.rows) == 2, timeout=5000)
    assert seen == [1]
