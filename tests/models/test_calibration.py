"""Calibrated confidence: the element's probability mass, the Platt scaling fitted on
validation decisions and stored in the checkpoint, and the figures that judge it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from deskmimic.models.actions import Action
from deskmimic.models.net.decode import Calibration, decode_points
from deskmimic.models.policy import load_policy
from deskmimic.models.runs import CHECKPOINTS_DIR, CONFIG_FILE, LAST
from deskmimic.models.training.calibration import (
    calibration_report,
    expected_calibration_error,
    fit_platt,
    gate_report,
    is_right,
)
from deskmimic.models.training.checkpoint import PolicySpec, load_checkpoint, save_checkpoint


def _heat(blobs: list[tuple[int, int, int, int, float]], h: int = 20, w: int = 32) -> torch.Tensor:
    """Logits: a flat floor and rectangles (row0, col0, rows, cols, logit) above it."""
    heat = torch.full((1, h, w), -6.0)
    for r, c, nr, nc, v in blobs:
        heat[0, r : r + nr, c : c + nc] = v
    return heat


def test_a_wide_target_keeps_its_mass_and_two_rivals_split_it():
    offset = torch.zeros(1, 2, 20, 32)
    # a text field: the probability spread along a band 2 cells tall and 20 long
    _, field = decode_points(_heat([(8, 4, 2, 20, 4.0)]), offset)
    assert float(field[0]) > 0.9  # a 3x3 window around the peak held ~0.2 of it
    # two similar buttons, far apart, about as likely each
    _, rivals = decode_points(_heat([(3, 3, 2, 3, 4.0), (14, 24, 2, 3, 3.9)]), offset)
    assert 0.4 < float(rivals[0]) < 0.65
    # one small button
    _, single = decode_points(_heat([(3, 3, 2, 3, 4.0)]), offset)
    assert float(single[0]) > 0.9


def test_platt_scaling_makes_overconfidence_honest():
    rng = np.random.default_rng(0)
    raw = rng.uniform(0.85, 0.99, 600)
    right = rng.random(600) < 0.6  # right only 60 % of the time whatever the confidence
    assert expected_calibration_error(raw, right) > 0.25
    cal = fit_platt(raw, right)
    fitted = np.array([cal(c) for c in raw])
    assert expected_calibration_error(fitted, right) < 0.05
    assert cal.samples == 600 and cal.wrong == int((~right).sum())


def test_platt_scaling_of_honest_confidences_stays_near_the_identity():
    rng = np.random.default_rng(1)
    raw = rng.uniform(0.02, 0.98, 2000)
    right = rng.random(2000) < raw
    cal = fit_platt(raw, right)
    assert cal.a == pytest.approx(1.0, abs=0.15) and cal.b == pytest.approx(0.0, abs=0.15)


def test_a_few_all_right_decisions_do_not_promise_certainty():
    cal = fit_platt(np.full(12, 0.7), np.ones(12, bool))
    assert 0.7 < cal(0.7) < 0.97


def test_gate_and_ece_figures():
    conf = np.array([0.95, 0.9, 0.2, 0.8, 0.1, 0.4])
    right = np.array([True, True, True, True, False, False])
    rep = gate_report(conf, right, 0.3)
    assert (rep["right_stopped"], rep["wrong_let_through"]) == (1, 1)
    assert rep["right_stopped_rate"] == 0.25 and rep["wrong_stopped_rate"] == 0.5
    assert calibration_report(conf, right, 0.3)["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert expected_calibration_error(np.array([0.75, 0.75]), np.array([True, False])) == 0.25


def test_right_means_the_demonstrated_step():
    size = (200, 100)
    box = np.array([0.1, 0.1, 0.3, 0.3])  # x 20-60, y 10-30
    demo = Action("click", x=30, y=20)
    assert is_right(Action("click", x=55, y=25), demo, box, size)
    assert not is_right(Action("click", x=70, y=25), demo, box, size)
    assert not is_right(Action("double_click", x=30, y=20), demo, box, size)
    no_box = np.array([-1.0, -1.0, -1.0, -1.0])
    assert is_right(Action("click", x=38, y=20), demo, no_box, size)
    assert not is_right(Action("click", x=45, y=20), demo, no_box, size)
    assert is_right(Action("type", text="abc"), Action("type", text="abc"), no_box, size)
    assert not is_right(Action("type", text="ab"), Action("type", text="abc"), no_box, size)


def test_the_stored_scaling_is_what_the_policy_reports(trained_run: Path, tmp_path: Path):
    ckpt = (trained_run / CHECKPOINTS_DIR / LAST).resolve()
    data = json.loads((ckpt / CONFIG_FILE).read_text())
    # trained with a validation episode: the scaling was fitted on it
    assert data["calibration"]["method"] == "platt" and data["calibration"]["samples"] > 0
    spec, net, _ = load_checkpoint(ckpt)
    # a scaling that says "right 37 % of the time, whatever the network says"
    flat = Calibration(a=0.0, b=float(np.log(0.37 / 0.63)))
    spec2 = PolicySpec(spec.net, spec.space, spec.tokenizer, spec.screen, spec.info, flat)
    out = save_checkpoint(tmp_path / "run", 7, net, spec2)
    assert json.loads((out / CONFIG_FILE).read_text())["calibration"]["b"] == flat.b
    policy = load_policy(out)
    rng = np.random.default_rng(0)
    confs = []
    for _ in range(4):
        frame = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
        confs.append(policy.act({"image": frame, "instruction": "Click Save"}).confidence)
    # 0 is the "nothing to type" stop, which no scaling may lift
    assert any(c == pytest.approx(0.37, abs=1e-6) for c in confs), confs
    assert all(c == pytest.approx(0.37, abs=1e-6) or c == 0.0 for c in confs), confs


def test_a_damaged_scaling_is_refused(trained_run: Path, tmp_path: Path):
    import shutil

    from deskmimic.core.errors import CheckpointError

    ckpt = tmp_path / "ckpt"
    shutil.copytree((trained_run / CHECKPOINTS_DIR / LAST).resolve(), ckpt)
    data = json.loads((ckpt / CONFIG_FILE).read_text())
    data["calibration"] = {"method": "platt", "a": "x", "b": 0}
    (ckpt / CONFIG_FILE).write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match="config.json.*invalid checkpoint config"):
        load_policy(ckpt)
