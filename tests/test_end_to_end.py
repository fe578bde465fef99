"""End to end on the pytest-xvfb display: expert demonstrations through the real
recorder -> training -> the trained policy drives real task windows on held-out seeds
(labels never seen in training), against random actions on the same seeds.

The task is `drag_item` ("Drag Plum onto Basket"): measured with the learning bench,
held-out success grows 35 % -> 65 % -> 85 % with 10 / 20 / 50 demonstrations, against 0 %
for random actions and for literal macro replay. (`click_button` is not used: from
this few demonstrations the policy learns to click *a* button in ~95 % of unseen
layouts but picks the named one only at chance; see docs/replay.md.)
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from deskmimic.agent.evaluate import EvalConfig

# The module's first test also records, trains and evaluates (its fixture): ~3-4 min on
# 2 free cores, past the suite's 300 s hang guard when the machine is slow or shared
# (it was, at 318 s, in a run beside a training job). A hang still ends here.
pytestmark = pytest.mark.timeout(900)

TASK = "drag_item"
DEMOS = 16
HELDOUT = tuple(range(1_000_100, 1_000_112))
MAX_STEPS = 3  # one drag and 'done' take two decisions; one spare, for both agents


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory) -> dict:
    # Passive OpenMP waiting keeps training fast on a busy machine (docs/learning.md); it
    # only takes effect if torch is not loaded yet in this test process.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from deskmimic.models.policy import load_policy
    from deskmimic.tasks.evaluate import run_evaluation
    from deskmimic.tasks.learn import QuickTrain, record_task_demos, train_task_policy

    root = tmp_path_factory.mktemp("e2e")
    t0 = time.monotonic()
    demos = record_task_demos(TASK, range(DEMOS), root / "episodes", speed=2.0)
    t_rec = time.monotonic() - t0
    events = list(train_task_policy(root / "episodes", root / "runs", "e2e",
                                    QuickTrain(steps=300, epochs=2, batch_size=16)))
    t_train = time.monotonic() - t0 - t_rec
    run_dir = Path(events[-1]["run_dir"])
    load_policy(run_dir, which="last")  # loads without the training code's state
    common = dict(task=TASK, seeds=HELDOUT, max_steps=MAX_STEPS, keep="failures")
    policy = run_evaluation(EvalConfig(agent="policy", policy=run_dir, out=root / "eval-policy",
                                       **common))
    random_ = run_evaluation(EvalConfig(agent="random", out=root / "eval-random", **common))
    return {"demos": demos, "events": events, "policy": policy, "random": random_,
            "seconds": {"record": t_rec, "train": t_train,
                        "eval": time.monotonic() - t0 - t_rec - t_train}}


def test_demonstrations_are_real_successful_recordings(learned: dict):
    demos = learned["demos"]
    assert len(demos) == DEMOS and all(d.success for d in demos)
    assert all(d.frames > 5 and d.events > 2 for d in demos)


def test_training_fits_the_demonstrations(learned: dict):
    epochs = [e for e in learned["events"] if e["event"] == "epoch"]
    assert epochs and epochs[-1]["loss"] < epochs[0]["loss"]
    metrics = epochs[-1]["metrics"]  # on the training samples (no validation split)
    assert metrics["kind_acc"] >= 0.9 and metrics["click_in_target"] >= 0.8, metrics


def test_policy_succeeds_on_held_out_layouts_clearly_above_random(learned: dict):
    pol, rnd = learned["policy"], learned["random"]
    assert pol["heldout"] and pol["episodes"] == rnd["episodes"] == len(HELDOUT)
    summary = (f"policy {pol['successes']}/{pol['episodes']} {pol['outcomes']}; random "
               f"{rnd['successes']}/{rnd['episodes']} {rnd['outcomes']}; {learned['seconds']}")
    # Measured 8/12 against 0/12 (and 13/20 vs 0/20 in the bench); the bounds leave room
    # for an unlucky draw without letting a policy that learnt nothing pass.
    assert pol["success_rate"] >= 0.25, summary
    assert pol["success_rate"] >= rnd["success_rate"] + 0.25, summary
    # Its failures are mostly wrong choices, not fumbles: it drags an item onto a zone.
    dragged = sum(r["reason"].startswith(("dropped ", "dragged ")) for r in pol["results"])
    assert dragged >= 0.8 * pol["episodes"], summary
    assert pol["stop_reasons"].get("max_steps", 0) <= 2, pol["stop_reasons"]


def test_failures_are_kept_for_review(learned: dict):
    pol = learned["policy"]
    kept = pol["failures_kept"]
    assert len(kept) == pol["episodes"] - pol["successes"]
    assert all((Path(p) / "replay.jsonl").is_file() for p in kept)
