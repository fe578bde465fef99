"""The Train page on real expert demonstrations: a run started from the window writes
checkpoints while the plots receive points; stop; bad input shows a message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from deskmimic.app.gui.common import PATH_ROLE, Task
from deskmimic.app.gui.pages.train import INPUT_SIZES, TrainPanel
from deskmimic.app.gui.workers.trainwork import TrainProgress
from deskmimic.models.runs import read_metrics


@pytest.fixture
def panel(qtbot, demos_dir: Path, tmp_home: Path) -> TrainPanel:
    p = TrainPanel(demos_dir, tmp_home / "data" / "runs")
    qtbot.addWidget(p)
    p.resize(1100, 760)
    p.show()
    qtbot.waitExposed(p)
    p.refresh()
    qtbot.waitUntil(lambda: len(p.picker.rows) == 3, timeout=5000)
    yield p
    p.shutdown()
    Task.wait_all()


def _tiny(panel: TrainPanel, epochs: int = 2) -> None:
    panel.epochs_spin.setValue(epochs)
    panel.batch_spin.setValue(8)
    panel.size_combo.setCurrentIndex(INPUT_SIZES.index((64, 96)))
    panel.mixed_check.setChecked(True)  # each task seed has its own window size


def test_training_from_the_window_writes_a_checkpoint_and_plots_it(qtbot, panel, watchdog):
    assert len(panel.picker.checked_paths()) == 3, "demonstrations are ticked by default"
    assert "3 of 3 episodes chosen" in panel.picker.count_label.text()
    _tiny(panel, epochs=3)
    name = panel.name_edit.text()
    assert name == "run-1"
    watchdog.start()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.running and not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    gap = watchdog.stop()
    print("while training:", watchdog.report())
    assert panel.banner.kind == "ok", panel.banner.text()
    run = panel.runs_dir / name
    ckpts = run / "checkpoints"
    assert (ckpts / "last" / "model.safetensors").is_file()
    assert (ckpts / "best" / "config.json").is_file()
    # the plots got every step and epoch the trainer reported
    records = read_metrics(run)
    assert len(records) == 3
    train_pts = panel.loss_chart.series["train"].points
    assert len(train_pts) == records[-1]["step"] >= 3
    assert [x for x, _ in panel.loss_chart.series["validation"].points] == [r["step"] for r in records]
    assert len(panel.val_chart.series["score"].points) == 3
    panel.plots.set_x_mode("wall")  # seconds since the training started, in step order
    walls = panel.loss_chart.curve(name, "train")[0]
    assert len(walls) == len(train_pts) and walls == sorted(walls) and walls[0] >= 0
    panel.plots.set_x_mode("step")
    assert panel.bar.value() == panel.bar.maximum()
    # the runs table lists it with its metrics, selected
    qtbot.waitUntil(lambda: panel.runs.current() is not None and panel.runs.current().name == name,
                    timeout=5000)
    info = panel.runs.current()
    assert info.epochs_done == 3 and info.best and info.has_checkpoint
    assert panel.runs.replay_button.isEnabled()
    assert panel.name_edit.text() == "run-2", "the next run gets a free name"
    assert gap < 100, f"the UI thread blocked while training: {watchdog.report()}"


def test_stop_ends_the_run_and_keeps_its_checkpoints(qtbot, panel):
    _tiny(panel, epochs=500)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.val_chart.series["score"].points) >= 1, timeout=60_000)
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)
    assert panel.banner.kind == "info" and "Stopped" in panel.banner.text()
    run = panel.runs_dir / "run-1"
    assert (run / "checkpoints" / "last").exists()
    assert len(read_metrics(run)) < 500
    assert panel.start_button.isEnabled()
    # the plots mark the run as stopped at its last point, and keep its per-step curve
    qtbot.waitUntil(lambda: panel.loss_chart.stopped_marks() != [], timeout=5000)
    (text, x, _y), = [m for m in panel.loss_chart.stopped_marks() if m[1] == max(
        panel.loss_chart.curve("run-1", "train")[0])]
    assert text.startswith("stopped at step")
    assert "train (stopped)" in panel.loss_chart.legend_labels()


def test_bad_choices_show_a_message_and_the_page_stays_usable(qtbot, panel, watchdog):
    watchdog.start()
    _tiny(panel)
    qtbot.mouseClick(panel.picker.none_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert "Pick at least one episode" in panel.banner.text() and not panel.running
    qtbot.mouseClick(panel.picker.all_button, Qt.MouseButton.LeftButton)
    (panel.runs_dir / "taken").mkdir(parents=True)
    panel.name_edit.setText("taken")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert "already exists" in panel.banner.text() and not panel.running
    panel.name_edit.setText("bad name!")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert "--name" in panel.banner.text() or "letters" in panel.banner.text()
    # mixed window sizes without the box ticked: said up front, before any loading
    panel.name_edit.setText("mixed")
    panel.mixed_check.setChecked(False)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert not panel.running and panel.banner.kind == "error"
    assert "differ in size" in panel.banner.text() and "allow different sizes" in panel.banner.text()
    assert len(panel.picker.checked_sizes()) > 1
    # a corrupt episode: listed but cannot be ticked
    eps = sorted(p for p in panel.picker.folder.iterdir())
    (eps[0] / "meta.json").write_text("{ not json")
    # an episode that reads fine in the list but whose frames are broken: training says so
    (eps[1] / "frames.csv").write_text("index,t_ns,segment,pts\n0,1,0,zz\n")
    panel.picker.refresh()
    qtbot.waitUntil(lambda: len(panel.picker._states()) == 2, timeout=5000)
    assert Path(eps[0]) not in panel.picker.checked_paths()
    panel.mixed_check.setChecked(True)
    panel.name_edit.setText("broken")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    assert panel.banner.kind == "error" and "frames.csv" in panel.banner.text(), panel.banner.text()
    assert panel.start_button.isEnabled() and panel.picker.isEnabled()
    gap = watchdog.stop()
    assert gap < 100, f"the UI thread blocked: {watchdog.report()}"


def test_selecting_a_finished_run_shows_its_curves(qtbot, panel, tiny_run):
    shutil.copytree(tiny_run, panel.runs_dir / tiny_run.name)
    panel.runs.refresh(select=tiny_run.name)
    qtbot.waitUntil(lambda: panel.runs.current() is not None, timeout=5000)
    n = len(read_metrics(tiny_run))
    qtbot.waitUntil(lambda: len(getattr(panel.val_chart.series.get("score"), "points", ())) == n,
                    timeout=5000)
    assert n >= 1 and len(panel.loss_chart.series["train"].points) == n
    cfg = json.loads((tiny_run / "config.json").read_text())
    item = panel.runs.tree.topLevelItem(0)
    assert item.text(0) == tiny_run.name and item.text(2) == f"{n}/{cfg['epochs']}"
    assert panel.loss_chart.stopped_marks() == [], "a run that ran all its epochs is not stopped"


def test_selecting_two_runs_overlays_them_and_marks_the_stopped_one(qtbot, panel, tiny_run):
    shutil.copytree(tiny_run, panel.runs_dir / "tiny")
    cut = panel.runs_dir / "cut"
    shutil.copytree(tiny_run, cut)
    records = read_metrics(tiny_run)
    (cut / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:3]))
    cfg = json.loads((cut / "config.json").read_text())
    panel.runs.refresh(select="tiny")
    qtbot.waitUntil(lambda: panel.loss_chart.runs == ["tiny"], timeout=5000)
    panel.runs.choose(["tiny", "cut"])
    qtbot.waitUntil(lambda: len(panel.loss_chart.runs) == 2, timeout=5000)
    qtbot.waitUntil(lambda: not (panel.loss_chart.pending() or panel.val_chart.pending()),
                    timeout=5000)
    assert sorted(panel.loss_chart.runs) == ["cut", "tiny"]
    assert len(panel.loss_chart.curve("cut", "train")[0]) == 3
    assert len(panel.val_chart.curve("tiny", "score")[0]) == len(records)
    assert panel.loss_chart.pen_of("tiny", "train")[0] != panel.loss_chart.pen_of("cut", "train")[0]
    want = f"stopped at epoch 3 of {cfg['epochs']}"
    assert {m[0] for m in panel.loss_chart.stopped_marks()} == {want}
    assert "cut (stopped)" in panel.loss_chart.legend_labels()
    # a refresh keeps the comparison; choosing one run again shows it alone
    panel.runs.refresh()
    qtbot.waitUntil(panel.runs.refresh_button.isEnabled, timeout=5000)
    assert sorted(r.name for r in panel.runs.chosen_runs()) == ["cut", "tiny"]
    panel.runs.choose(["tiny"])
    qtbot.waitUntil(lambda: panel.loss_chart.runs == ["tiny"], timeout=5000)


def test_progress_and_time_left():
    p = TrainProgress(epochs=4)
    assert p.seconds_left(0.0) is None and p.phase == "loading"
    p.update({"event": "start", "steps_per_epoch": 10, "step": 0, "epoch": 0}, now=100.0)
    assert p.total_steps == 40
    p.update({"event": "step", "step": 10, "epoch": 0}, now=110.0)
    assert p.seconds_left(110.0) == pytest.approx(30.0)
    assert p.fraction() == pytest.approx(0.25)
    p.update({"event": "done", "step": 40}, now=140.0)
    assert p.fraction() == 1.0 and p.seconds_left(140.0) is None


def test_episodes_added_outside_the_app_appear_after_refresh(qtbot, panel):
    src = sorted(panel.picker.folder.iterdir())[0]
    shutil.copytree(src, panel.picker.folder / "20250101T000000000Z-copy")
    broken = panel.picker.folder / "20250101T000000001Z-broken"
    broken.mkdir()
    (broken / "meta.json").write_text("{ not json")
    qtbot.mouseClick(panel.picker.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.picker.rows) == 5, timeout=5000)
    assert len(panel.picker.checked_paths()) == 4, "the new demonstration is ticked, the broken one cannot be"
    item = next(panel.picker.tree.topLevelItem(i) for i in range(5)
                if panel.picker.tree.topLevelItem(i).data(0, PATH_ROLE) == str(broken))
    assert item.foreground(0).color().name() == "#b91c1c", "an unusable episode is shown in red"
