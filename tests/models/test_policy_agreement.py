"""`BCPolicy` lowers the confidence of a click that lands on an element other than the one
the instruction names, seen by the reader in the decision's own frame
(`perception.agreement`), and leaves an agreeing click alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deskmimic.models.actions import CLICK_KINDS
from deskmimic.models.policy import DISAGREE_FACTOR, load_policy
from deskmimic.models.training.calibration import DEFAULT_GATE
from deskmimic.recorder.capture import open_capture
from tests.fixtures.screen import wait_on_screen, widget_rect

# The window: columns of labels, at about the trained aspect ratio.
WIDTH, HEIGHT, COLUMNS, ROWS, ROW_STEP = 480, 288, 3, 11, 26


def _labels_window(qtbot, text_at) -> np.ndarray:
    """A real Qt window of ``COLUMNS`` x ``ROWS`` labels, ``text_at(column, row)`` each,
    as the agent captures it (RGB)."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QLabel, QWidget

    win = QWidget()
    win.setStyleSheet("background:#ffffff; color:#1a1a1a;")
    win.setFixedSize(WIDTH, HEIGHT)
    font = QFont("DejaVu Sans")
    font.setPixelSize(16)
    for c in range(COLUMNS):
        for r in range(ROWS):
            label = QLabel(text_at(c, r), win)
            label.setFont(font)
            label.adjustSize()
            label.move(16 + c * 160, 6 + r * ROW_STEP)
    qtbot.addWidget(win)
    win.show()
    wait_on_screen(qtbot, win)
    with open_capture(draw_cursor=False) as cap:
        return np.ascontiguousarray(cap.grab(widget_rect(win))[:, :, 2::-1])


class Steer:
    """Steers the tiny trained policy's network to a chosen kind and point: two training
    steps leave it saying ``done`` about as often as clicking, and it clicks where the
    match maps light up, while these tests need a click on a chosen label. The kind's
    logit and the heatmap cell under the point are raised; reading, decoding and the
    check stay the policy's own."""

    def __init__(self, policy) -> None:
        self.kind, self.at, self.size = "click", (0.0, 0.0), (1, 1)
        self.kinds = policy.spec.space.kinds
        policy.net.register_forward_hook(self)

    def __call__(self, _module, _inputs, out):
        kind, heat = out["kind"].clone(), out["heat"].clone()
        kind[:, self.kinds.index(self.kind)] += 50.0
        h, w = heat.shape[-2:]
        heat[:, 0, int(self.at[1] / self.size[0] * h), int(self.at[0] / self.size[1] * w)] += 50.0
        out["kind"], out["heat"] = kind, heat
        return out


def _act(policy, steer: Steer, rgb: np.ndarray, instruction: str, kind: str,
         at: tuple[float, float] = (0.0, 0.0)):
    steer.kind, steer.at, steer.size = kind, at, rgb.shape[:2]
    action = policy.act({"image": rgb, "instruction": instruction})
    assert action.kind == kind, action
    if kind in CLICK_KINDS:
        assert abs(action.x - at[0]) < 20 and abs(action.y - at[1]) < 20, (action, at)
    return action


def _decide_twice(run: Path, rgb: np.ndarray, instruction: str, at: tuple[float, float]):
    """The same click at ``at`` without the check and with it."""
    policy = load_policy(run)
    assert policy.spec.net.word_select  # the check reads the word maps' lines
    steer = Steer(policy)
    policy.check_agreement = False
    plain = _act(policy, steer, rgb, instruction, "click", at)
    assert policy.last_agreement is None
    policy.reset()
    policy.check_agreement = True
    judged = _act(policy, steer, rgb, instruction, "click", at)
    assert (judged.x, judged.y) == (plain.x, plain.y)
    return plain, judged, policy.last_agreement


def _label_centre(column: int, row: int) -> tuple[float, float]:
    return 16 + column * 160 + 24, 6 + row * ROW_STEP + 9


@pytest.mark.timeout(300)
def test_a_click_on_another_label_than_the_named_one_falls_under_the_gate(trained_run, qtbot):
    # "Save" ends each column; every other label is "Cancel". The click: a Cancel.
    rgb = _labels_window(qtbot, lambda c, r: "Save" if r == ROWS - 1 else "Cancel")
    plain, judged, verdict = _decide_twice(trained_run, rgb, "Click Save", _label_centre(1, 4))
    assert verdict.verdict == "disagree", (plain, verdict)
    assert verdict.element == "Cancel" and verdict.named == "Save"
    assert judged.confidence == pytest.approx(plain.confidence * DISAGREE_FACTOR)
    assert plain.confidence >= DEFAULT_GATE > judged.confidence


@pytest.mark.timeout(300)
def test_a_click_on_the_named_label_keeps_its_confidence(trained_run, qtbot):
    rgb = _labels_window(qtbot, lambda c, r: "Save" if r == ROWS - 1 else "Cancel")
    plain, judged, verdict = _decide_twice(trained_run, rgb, "Click Save",
                                           _label_centre(1, ROWS - 1))
    assert verdict.verdict == "agree", (plain, verdict)
    assert judged.confidence == plain.confidence


@pytest.mark.timeout(300)
def test_done_before_the_last_named_element_was_clicked_falls_under_the_gate(trained_run,
                                                                          qtbot):
    rgb = _labels_window(qtbot, lambda c, r: "Save" if r == ROWS - 1 else "Cancel")
    instruction = "Click Cancel, then Save"
    policy = load_policy(trained_run)
    steer = Steer(policy)
    _act(policy, steer, rgb, instruction, "click", _label_centre(0, 2))
    early = _act(policy, steer, rgb, instruction, "done")
    assert policy.last_agreement.verdict == "disagree", policy.last_agreement
    policy.reset()
    _act(policy, steer, rgb, instruction, "click", _label_centre(0, 2))
    _act(policy, steer, rgb, instruction, "click", _label_centre(0, ROWS - 1))
    done = _act(policy, steer, rgb, instruction, "done")
    assert policy.last_agreement.verdict == "undecided", policy.last_agreement
    assert early.confidence == pytest.approx(done.confidence * DISAGREE_FACTOR)
    assert early.confidence < DEFAULT_GATE
