"""Screenshots of every area of the deskmimic window, with real sample data.

Runs on its own Xvfb (1280x800, like the tests) unless ``--current-display``; records a
few expert demonstrations of practice tasks through the real recorder, trains a small
run, then opens the app and saves PNGs of the Record page, the recording indicator, the
Episodes list with the viewer on a step, the Train page mid-run with its plots, the
Replay page after a dry run, the workflow graph dialog, and Settings, into docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--current-display]

Everything it writes besides the PNGs lives in a temporary folder (DESKMIMIC_HOME).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMOS = (("click_button", (0, 1, 2, 3, 4, 5)), ("type_field", (0, 1)), ("checkboxes", (0, 1)))


def _say(msg: str) -> None:
    print(f"screenshots: {msg}", file=sys.stderr, flush=True)


def _spin_until(pred, timeout: float, what: str) -> None:
    from deskmimic.tasks.runner import spin_until

    if not spin_until(pred, timeout):
        raise SystemExit(f"screenshots: timed out waiting for {what}")


def _save(widget_or_pixmap, path: Path) -> Path:
    from PySide6.QtGui import QPixmap

    pm = widget_or_pixmap if isinstance(widget_or_pixmap, QPixmap) else widget_or_pixmap.grab()
    if not pm.save(str(path), "PNG"):
        raise SystemExit(f"screenshots: could not write {path}")
    _say(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
         f"({pm.width()}x{pm.height()}, {path.stat().st_size // 1024} KB)")
    return path


def _backdrop():
    """A plain desktop behind the windows (bare Xvfb is black)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QWidget

    w = QWidget(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnBottomHint)
    w.setObjectName("backdrop")
    w.setStyleSheet("QWidget#backdrop { background: qlineargradient(x1:0, y1:0, x2:1, y2:1, "
                    "stop:0 #334155, stop:1 #1e293b); }")
    w.setGeometry(QApplication.primaryScreen().geometry())
    w.show()
    return w


def record_samples(episodes: Path) -> list:
    from deskmimic.tasks.demos import record_demos

    demos = []
    for name, seeds in DEMOS:
        demos += record_demos(name, seeds, episodes, fps=15, speed=1.5)
        _say(f"recorded {len(seeds)} demonstrations of {name}")
    return demos


def train_sample_run(episodes: list[Path], runs: Path) -> Path:
    from deskmimic.models.training.config import TrainConfig
    from deskmimic.models.training.train import run_training

    cfg = TrainConfig(episodes=tuple(episodes), name="click-button", runs_dir=runs, epochs=80,
                      batch_size=4, lr=3e-3, input_height=96, input_width=160,
                      allow_mixed_sizes=True, warmup_steps=5, num_threads=2)
    t = time.monotonic()
    run_training(cfg)
    _say(f"trained {cfg.name} in {time.monotonic() - t:.0f} s")
    return cfg.run_dir


def take(out: Path) -> None:
    """Record and train the sample data, open the window, and shoot every area into ``out``."""
    from deskmimic.app.gui.common import apply_style
    from deskmimic.app.gui.main import MainWindow
    from deskmimic.app.gui.state import GuiSettings
    from deskmimic.core.paths import data_home, default_runs_dir
    from deskmimic.tasks.runner import ensure_app, spin

    app = ensure_app()
    apply_style(app)
    backdrop = _backdrop()
    demos = record_samples(data_home() / "episodes")
    train_sample_run([d.path for d in demos if d.task == "click_button"], default_runs_dir())

    win = MainWindow(GuiSettings(episodes_dir="~/.local/share/deskmimic/episodes", fps=15))
    win.move(40, 20)
    win.resize(1200, 760)
    win.show()
    spin(0.8)
    shoot_record(win, out)
    shoot_indicator(win, out)
    shoot_episodes(win, demos, out)
    shoot_train(win, demos, out)
    shoot_replay(win, out)
    win.show_page("Settings")
    spin(0.3)
    _save(win, out / "settings.png")
    win.close()
    backdrop.close()
    spin(0.3)


def _fill_record_form(rec) -> None:
    rec.task_edit.setText("save_invoice")
    rec.instruction_edit.setText("Save the invoice as PDF")


def shoot_record(win, out: Path) -> None:
    """The Record page, idle and ready to go."""
    from deskmimic.tasks.runner import spin

    _fill_record_form(win.record)
    win.show_page("Record")
    spin(0.4)
    _save(win, out / "record.png")


def shoot_indicator(win, out: Path) -> None:
    """The recording indicator beside a practice task being recorded."""
    from PySide6.QtWidgets import QApplication

    from deskmimic.tasks.runner import make_task, spin

    rec = win.record
    task = make_task("click_button", 7)
    task.move(640, 150)
    task.show()
    spin(0.6)
    r = task.region()
    rec.rb_region.setChecked(True)
    rec.region_edit.setText(f"{r.width}x{r.height}+{r.left}+{r.top}")
    rec.task_edit.setText("click_button")
    rec.instruction_edit.setText(task.instruction)
    rec.start()
    _spin_until(lambda: rec.session.phase == "recording", 20, "the recording to start")
    spin(2.2)
    ind = rec.indicator.frameGeometry()
    screen = QApplication.primaryScreen()
    sg = screen.geometry()
    left, top = max(min(r.left, ind.left()) - 60, 0), max(min(r.top, ind.top()) - 12, 0)
    right = min(max(r.right, ind.right()) + 12, sg.right() + 1)
    bottom = min(max(r.bottom, ind.bottom()) + 40, sg.bottom() + 1)
    _save(screen.grabWindow(0, left, top, right - left, bottom - top), out / "recording-indicator.png")
    rec.stop()
    _spin_until(lambda: rec.session.phase == "idle", 20, "the recording to be saved")
    task.close()
    spin(0.5)
    _fill_record_form(rec)
    rec.banner.hide()


def shoot_episodes(win, demos: list, out: Path) -> None:
    """The Episodes list with the viewer on a step (and its overlay), then the workflow graph."""
    import numpy as np

    from deskmimic.tasks.runner import spin

    target = next(d.path for d in demos if d.task == "type_field")
    win.show_episode(target)
    viewer = win.episodes.viewer
    _spin_until(lambda: viewer.data is not None and viewer.steps_list.count() > 0, 30, "the viewer")
    steps = [viewer.steps_list.item(i) for i in range(viewer.steps_list.count())]
    click = next((it for it in steps if "click" in it.text()), steps[0])
    viewer.steps_list.setCurrentItem(click)
    # the frame just after the first button press: trail, click ring and event label drawn
    t_down = next(e["t"] for e in viewer.data.timeline.actions if e["type"] == "button_down")
    viewer.seek(int(np.searchsorted(viewer.data.frame_times, t_down, side="right")))
    spin(1.0)
    _save(win, out / "episodes.png")
    viewer.show_workflow()
    dlg = viewer.workflow_dialog
    dlg.resize(640, 420)
    spin(0.5)
    _save(dlg, out / "workflow-graph.png")
    dlg.close()


def shoot_train(win, demos: list, out: Path) -> None:
    """The Train page mid-run, its plots filling in; the run is stopped afterwards."""
    from deskmimic.app.gui.pages.train import INPUT_SIZES
    from deskmimic.tasks.runner import spin

    train = win.train
    win.show_page("Train")
    _spin_until(lambda: len(train.picker.rows) >= len(demos), 10, "the episode list")
    train.picker.filter_edit.setText("")
    train.name_edit.setText("all-tasks")
    train.epochs_spin.setValue(20)
    train.batch_spin.setValue(8)
    train.size_combo.setCurrentIndex(INPUT_SIZES.index((96, 160)))
    train.mixed_check.setChecked(True)
    train.start()
    _spin_until(lambda: len(train.val_chart.series["score"].points) >= 8, 300, "training epochs")
    spin(0.3)
    _save(win, out / "train.png")
    train.stop()
    _spin_until(lambda: not train.running, 60, "training to stop")


def shoot_replay(win, out: Path) -> None:
    """The Replay page after a dry run of the trained policy on a held-out practice task."""
    from deskmimic.tasks.runner import spin

    rp = win.replay
    win.show_page("Replay")
    rp.refresh(select="click-button")
    _spin_until(lambda: rp.run_combo.currentText().startswith("click-button")
                and rp.ckpt_combo.count() > 0, 10, "the runs list")
    rp.task_combo.setCurrentText("click_button")
    rp.seed_spin.setValue(3)
    rp.steps_spin.setValue(4)
    rp.conf_spin.setValue(0.0)
    rp.open_check.setChecked(False)
    rp.start(dry_run=True)
    _spin_until(lambda: rp.running, 20, "the dry run to start")
    _spin_until(lambda: not rp.running, 120, "the dry run to end")
    spin(1.2)
    _save(win, out / "replay.png")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--current-display", action="store_true",
                    help="use $DISPLAY instead of a private Xvfb (windows will flash up)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from deskmimic.recorder.virtual_display import virtual_display

    with tempfile.TemporaryDirectory(prefix="deskmimic-shots-") as tmp:
        # A fresh home: the app's default folders, shown as ~/..., and nothing of the user's.
        os.environ["HOME"] = str(Path(tmp) / "home")
        for k in ("DESKMIMIC_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            os.environ.pop(k, None)
        with virtual_display(1280, 800, force=not args.current_display):
            take(args.out.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
