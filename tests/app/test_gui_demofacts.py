"""The Episodes list tells demos apart: seed and instruction columns, recorded seconds
(pauses taken off), and duplicates flagged (same task and seed; same instruction and
near-identical actions), on real recorded episodes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from deskmimic.app.gui.common import PATH_ROLE, Task
from deskmimic.app.gui.pages.episodes import EpisodesPanel
from deskmimic.app.gui.widgets.demofacts import (
    NEAR_FRACTION,
    action_signature,
    near_same,
    read_facts,
    recorded_seconds,
    scan_listing,
)
from deskmimic.app.gui.widgets.episodelist import (
    DUPLICATE_MARK,
    INSTRUCTION,
    LENGTH,
    RECORDED,
    SEED,
    TASK,
)
from deskmimic.recorder.episode_format import read_meta, write_json_atomic
from tests.app.conftest import SAMPLE_ID


def _copy(src: Path, dst: Path, **meta_changes) -> Path:
    shutil.copytree(src, dst)
    meta = read_meta(dst)
    meta.update(id=dst.name, **meta_changes)
    write_json_atomic(dst / "meta.json", meta)
    return dst


def _move_clicks(folder: Path, dx: int) -> None:
    lines = (folder / "events.jsonl").read_text().splitlines()
    out = []
    for line in lines:
        ev = json.loads(line)
        if ev["type"] in ("button_down", "button_up"):
            ev["x"] += dx
        out.append(json.dumps(ev))
    (folder / "events.jsonl").write_text("\n".join(out) + "\n")


def test_action_signatures_and_nearness():
    events = [{"type": "move", "x": 1, "y": 1},
              {"type": "button_down", "x": 100, "y": 50, "button": "left"},
              {"type": "scroll", "x": 10, "y": 10, "dx": 0, "dy": -1},
              {"type": "scroll", "x": 11, "y": 10, "dx": 0, "dy": -1},
              {"type": "scroll", "x": 11, "y": 10, "dx": 0, "dy": 1},
              {"type": "key_down", "key": "a"}]
    sig = action_signature(events, (200, 100))
    assert sig == (("click", "left", 0.5, 0.5), ("scroll", "down", 0.05, 0.1),
                   ("scroll", "up", 0.055, 0.1), ("key", "a", 0.0, 0.0))
    near = action_signature([{**e, "x": e["x"] + 4} if "x" in e else e for e in events], (200, 100))
    far = action_signature([{**e, "x": e["x"] + 20} if "x" in e else e for e in events], (200, 100))
    assert 4 / 200 <= NEAR_FRACTION < 20 / 200
    assert near_same(sig, near) and not near_same(sig, far)
    assert not near_same(sig, sig[:-1]) and not near_same((), ()) and not near_same(None, sig)
    assert recorded_seconds({"counters": {"duration_s": 3.0},
                             "paused": [{"start_ns": 10**9, "end_ns": 15 * 10**8}]}) == 2.5


@pytest.fixture
def folder(demos_dir: Path, recorded_sample: Path) -> Path:
    """Three click_button demos (seeds 0-2), the press_go sample and four copies: the same
    task and seed again; the sample again (identical actions), with its click moved a
    little (still a duplicate) and moved far (not), and paused for half a second."""
    demos = sorted(p for p in demos_dir.iterdir())
    _copy(demos[0], demos_dir / "20270101T000000000Z-dup1")
    shutil.copytree(recorded_sample, demos_dir / SAMPLE_ID)
    _copy(recorded_sample, demos_dir / "20270101T000000000Z-same")
    near = _copy(recorded_sample, demos_dir / "20270101T000000000Z-near")
    _move_clicks(near, 3)
    far = _copy(recorded_sample, demos_dir / "20270101T000000000Z-far1", instruction="press  GO ",
                paused=[{"start_ns": 0, "end_ns": 500_000_000}])
    _move_clicks(far, 120)
    return demos_dir


def test_scan_flags_duplicates_and_reads_seeds(folder: Path):
    listing = scan_listing(folder)
    demos = sorted(r.path.name for r in listing.rows if r.task != "press_go")
    seeds = {r.path.name: listing.facts[str(r.path)].seed for r in listing.rows}
    assert sorted(seeds[d] for d in demos) == [0, 0, 1, 2]
    assert seeds[SAMPLE_ID] is None
    dup = {Path(p).name: why for p, why in listing.duplicates.items()}
    first = min(d for d in demos if seeds[d] == 0 and d != "20270101T000000000Z-dup1")
    assert dup["20270101T000000000Z-dup1"] == f"same task and seed (0) as {first}"
    assert dup[first].startswith("same task and seed (0) as ")
    for name in (SAMPLE_ID, "20270101T000000000Z-same", "20270101T000000000Z-near"):
        assert dup[name].startswith("same instruction and near-identical actions as "), name
    assert "20270101T000000000Z-far1" not in dup, "same instruction, a click far away"
    assert not any(d in dup for d in demos if seeds[d] in (1, 2))
    f = read_facts(folder / "20270101T000000000Z-far1", (240, 180))
    sample = listing.facts[str(folder / SAMPLE_ID)]
    assert f.recorded_s == pytest.approx(sample.recorded_s - 0.5)


def test_the_list_shows_seed_instruction_seconds_and_the_flags(qtbot, folder: Path):
    panel = EpisodesPanel(folder)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    qtbot.waitExposed(panel)
    panel.refresh()
    qtbot.waitUntil(lambda: len(panel.rows) == 8, timeout=10_000)
    try:
        cells = {}
        for row in range(panel.proxy.rowCount()):
            name = Path(panel.proxy.index(row, 0).data(PATH_ROLE)).name
            cells[name] = [panel.proxy.index(row, c).data() for c in range(panel.proxy.columnCount())]
        assert cells[SAMPLE_ID][INSTRUCTION] == "Press Go" and cells[SAMPLE_ID][SEED] == ""
        assert cells[SAMPLE_ID][TASK] == DUPLICATE_MARK + "press_go"
        assert cells["20270101T000000000Z-far1"][TASK] == "press_go", "not flagged"
        meta = read_meta(folder / SAMPLE_ID)
        assert cells[SAMPLE_ID][LENGTH] == f"{meta['counters']['duration_s']:.1f} s"
        seeds = sorted(c[SEED] for c in cells.values() if c[SEED])
        assert seeds == ["0", "0", "1", "2"]
        assert "5 possible duplicates" in panel.count_label.text()
        panel.search.setText("duplicate")
        assert panel.proxy.rowCount() == 5 and "5 of 8 episodes" in panel.count_label.text()
        panel.search.setText("seed 1")
        assert panel.proxy.rowCount() == 1
        panel.search.clear()
        assert panel.select_path(folder / "20270101T000000000Z-same")
        qtbot.waitUntil(lambda: "possible duplicate: same instruction" in panel.subtitle.text(),
                        timeout=5000)
        tip = panel.proxy.index(0, TASK).data(Qt.ItemDataRole.ToolTipRole) or ""
        assert any("Possible duplicate" in (panel.proxy.index(r, TASK).data(
            Qt.ItemDataRole.ToolTipRole) or "") for r in range(panel.proxy.rowCount())), tip
        header = panel.table.horizontalHeader()
        assert header.sortIndicatorSection() == RECORDED, "newest first by default"
        assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        # sorting by seed puts the practice demos in seed order
        panel.table.sortByColumn(SEED, Qt.SortOrder.AscendingOrder)
        shown = [panel.proxy.index(r, SEED).data() for r in range(panel.proxy.rowCount())]
        assert [s for s in shown if s] == ["0", "0", "1", "2"]
    finally:
        panel.shutdown()
        Task.wait_all()
