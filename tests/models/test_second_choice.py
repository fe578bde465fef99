"""The policy's next choice when the reader vetoes its first: a menu of entries sharing
words, the heatmap split between an unnamed entry and the named one (lines built by hand;
the policy-level test uses a real window, the real reader and the trained test policy)."""

from __future__ import annotations

import math

import pytest
import torch

from deskmimic.models.policy import DISAGREE_FACTOR, load_policy
from deskmimic.models.second_choice import MIN_MASS, element_regions, second_click
from tests.models.test_find import line
from tests.models.test_policy_agreement import ROWS, _label_centre, _labels_window

H, W = 20, 25  # heatmap cells
SIZE = (400, 320)  # captured area (width, height): 16 px a cell
MENU = ["Add Member", "Import Event", "Import Order", "Edit Order"]
INSTRUCTION = "Open Settings › Import Event, then press OK"


def menu_lines():
    return [line(t, x0=40, y0=40 + 32 * i, cw=9, h=18) for i, t in enumerate(MENU)]


def heat_at(*peaks: tuple[int, float]) -> torch.Tensor:
    """(H, W) logits: a peak of the given logit on the row of menu entry ``i``."""
    heat = torch.full((H, W), -10.0)
    for i, logit in peaks:
        heat[(40 + 32 * i + 9) // 16, (40 + 40) // 16] = logit
    return heat


OFFSET = torch.full((2, H, W), 0.5)


def test_regions_come_by_mass_and_do_not_overlap():
    probs = torch.softmax(heat_at((0, 8.0), (1, 7.0), (3, 5.0)).reshape(-1), 0).view(H, W)
    regions = element_regions(probs, 5)
    masses = [r.mass for r in regions]
    assert masses == sorted(masses, reverse=True) and masses[0] > 0.6
    assert not (regions[0].cells & regions[1].cells).any()
    assert sum(masses) == pytest.approx(1.0, abs=0.01)


def test_the_named_entry_the_heatmap_also_points_at_is_taken():
    # Most mass on "Add Member", a fifth on "Import Event".
    heat = heat_at((0, 8.0), (1, 8.0 - math.log(4)))
    alt = second_click(heat, OFFSET, SIZE, 0.9, menu_lines(), INSTRUCTION, [])
    assert alt is not None and alt.verdict.verdict == "agree"
    assert alt.verdict.element == "Import Event"
    assert 40 <= alt.x < 40 + 9 * 12 and 72 <= alt.y < 90
    # The veto taken as certain: what was left of the mass is nearly all the named one's.
    assert alt.confidence == pytest.approx(0.9, abs=0.05)
    # Through the checkpoint's calibration.
    halved = second_click(heat, OFFSET, SIZE, 0.9, menu_lines(), INSTRUCTION, [],
                          lambda raw: raw / 2)
    assert halved.confidence == pytest.approx(alt.confidence / 2)


def test_no_choice_when_the_rest_is_tail_or_unnamed():
    lines = menu_lines()
    # The named entry's region holds less than MIN_MASS.
    tail = heat_at((0, 8.0), (1, 8.0 + math.log(MIN_MASS / 2)))
    assert second_click(tail, OFFSET, SIZE, 0.9, lines, INSTRUCTION, []) is None
    # The next region is another unnamed entry.
    other = heat_at((0, 8.0), (2, 8.0 - math.log(3)))
    assert second_click(other, OFFSET, SIZE, 0.9, lines, INSTRUCTION, []) is None


@pytest.mark.timeout(300)
def test_the_policy_clicks_its_next_choice_when_the_reader_vetoes_the_first(trained_run,
                                                                           qtbot):
    rgb = _labels_window(qtbot, lambda c, r: "Save" if r == ROWS - 1 else "Cancel")
    policy = load_policy(trained_run)
    save, cancel = _label_centre(1, ROWS - 1), _label_centre(1, 4)
    kinds = policy.spec.space.kinds
    logits = [(cancel, 0.0), (save, -math.log(4))]

    def steer(_module, _inputs, out):  # a click: most mass on a Cancel, a fifth on Save
        kind, heat = out["kind"].clone(), torch.full_like(out["heat"], -50.0)
        kind[:, kinds.index("click")] += 50.0
        h, w = heat.shape[-2:]
        for (x, y), logit in logits:
            heat[:, 0, int(y / rgb.shape[0] * h), int(x / rgb.shape[1] * w)] = logit
        out["kind"], out["heat"] = kind, heat
        return out

    policy.net.register_forward_hook(steer)
    action = policy.act({"image": rgb, "instruction": "Click Save"})
    assert policy.last_agreement.verdict == "agree" and policy.last_agreement.element == "Save"
    assert abs(action.x - save[0]) < 20 and abs(action.y - save[1]) < 20, action
    assert action.confidence > DISAGREE_FACTOR
    # With the Save region under MIN_MASS there is no next choice: the veto stands.
    logits[1] = (save, math.log(MIN_MASS / 2))
    policy.reset()
    vetoed = policy.act({"image": rgb, "instruction": "Click Save"})
    assert policy.last_agreement.verdict == "disagree", (vetoed, policy.last_agreement)
    assert abs(vetoed.x - cancel[0]) < 20 and abs(vetoed.y - cancel[1]) < 20, vetoed
