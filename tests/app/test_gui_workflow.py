"""Workflow graphs: an episode's steps as Mermaid text, in the viewer's dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from deskmimic.app.gui.common import Task
from deskmimic.app.gui.pages.episodes import EpisodesPanel
from deskmimic.app.gui.widgets.workflow import steps_to_mermaid

steps_mod = pytest.importorskip("deskmimic.models.data.steps")
Step = steps_mod.Step


def test_order_edges_focus_dependencies_and_target_names():
    steps = [Step(0, "click", 0, 1, x=50, y=20), Step(1, "type", 2, 3, text='say "hi"'),
             Step(2, "click", 4, 5, x=300, y=300), Step(3, "scroll", 6, 7, x=300, y=300, dy=-3),
             Step(4, "hotkey", 8, 9, keys=("ctrl", "s")), Step(5, "done", 10, 10)]
    boxes = {"field:Name": [10, 10, 100, 24], "panel": [0, 0, 400, 400]}
    text = steps_to_mermaid(steps, "form", "Fill it", boxes)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD" and lines[1] == "  %% form — “Fill it”"
    assert "  s1[\"1. click 'Name' (50, 20)\"]" in lines, "the smallest box names the target"
    assert "  s2[\"2. type 'say #quot;hi#quot;'\"]" in lines, "quotes are escaped"
    assert "  s3[\"3. click 'panel' (300, 300)\"]" in lines
    assert '  s6(["6. done"])' in lines
    assert "  s1 -->|focus| s2" in lines, "typing goes where the click before it put the focus"
    assert "  s3 --> s4" in lines and "  s4 --> s5" in lines
    assert "  s3 -.->|focus| s5" in lines, "the hotkey depends on the click two steps back"
    assert sum("-->" in ln for ln in lines) == len(steps) - 1


def test_viewer_shows_the_workflow_graph_of_an_episode(qtbot, episodes_dir: Path, tmp_path):
    panel = EpisodesPanel(episodes_dir)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    panel.refresh()
    qtbot.waitUntil(lambda: len(panel.rows) == 1, timeout=5000)
    assert panel.select_path(next(iter(episodes_dir.iterdir())))
    viewer = panel.viewer
    qtbot.waitUntil(lambda: viewer.graph_button.isEnabled(), timeout=10_000)
    qtbot.mouseClick(viewer.graph_button, Qt.MouseButton.LeftButton)
    dlg = viewer.workflow_dialog
    assert dlg.isVisible()
    text = dlg.text()
    assert text.startswith("flowchart TD\n  %% press_go — “Press Go”")
    assert text.count("-->") == len(viewer.steps) - 1 and "click" in text
    out = tmp_path / "graph.md"
    dlg.save(out)
    assert out.read_text().startswith("```mermaid\nflowchart TD")
    dlg.close()
    panel.shutdown()
    Task.wait_all()
