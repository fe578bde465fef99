"""The run folder's logs: config.json, metrics.jsonl and TensorBoard scalars (tensorboardX).

`read_scalars` reads the event files back independently of the writer: it checks every
record's framing and CRCs and parses the ``Event`` protocol buffers, as TensorBoard does.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from types import SimpleNamespace

import pytest
from tensorboardX import event_file_writer
from tensorboardX.proto.event_pb2 import Event
from tensorboardX.record_writer import masked_crc32c

from deskmimic.models.runs import TENSORBOARD_DIR
from deskmimic.models.training.config import TrainConfig
from deskmimic.models.training.run_log import RunLog


def read_events(path: Path) -> list[Event]:
    """Every ``Event`` of one TFRecord event file; fails on a broken length or CRC."""
    data, out, i = path.read_bytes(), [], 0
    while i < len(data):
        (n,) = struct.unpack_from("<Q", data, i)
        assert struct.unpack_from("<I", data, i + 8)[0] == masked_crc32c(data[i : i + 8])
        payload = data[i + 12 : i + 12 + n]
        assert len(payload) == n, f"{path}: truncated record at byte {i}"
        assert struct.unpack_from("<I", data, i + 12 + n)[0] == masked_crc32c(payload)
        out.append(Event.FromString(payload))
        i += 12 + n + 4
    return out


def read_scalars(path: Path) -> list[tuple[str, int, float]]:
    """``(tag, step, value)`` of every scalar in an event file, in the order written.

    The file must start with the version record TensorBoard requires.
    """
    first, *rest = read_events(path)
    assert first.file_version == "brain.Event:2"
    return [(v.tag, e.step, v.simple_value) for e in rest for v in e.summary.value]


def _cfg(tmp_path: Path, **kw) -> TrainConfig:
    return TrainConfig(name="log", runs_dir=tmp_path / "runs", **kw)


def test_run_log_writes_config_metrics_and_tensorboard_scalars(tmp_path: Path):
    cfg = _cfg(tmp_path, epochs=7)
    log = RunLog(cfg)
    log.epoch(epoch=1, step=12, lr=0.002, train_loss=3.5, seconds=1.25,
              metrics={"click_in_target": 0.75, "loss": 2.0})
    log.epoch(epoch=2, step=24, lr=0.001, train_loss=1.5, seconds=1.0,
              metrics={"click_in_target": 1.0, "loss": 0.5})
    log.close()
    run = cfg.run_dir
    assert json.loads((run / "config.json").read_text())["epochs"] == 7
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [(x["epoch"], x["step"], x["lr"]) for x in lines] == [(1, 12, 0.002), (2, 24, 0.001)]
    assert lines[0]["train"] == {"loss": 3.5, "seconds": 1.25}
    assert lines[1]["val"] == {"click_in_target": 1.0, "loss": 0.5}
    (events,) = (run / TENSORBOARD_DIR).iterdir()
    assert events.name.startswith("events.out.tfevents.")
    assert read_scalars(events) == [
        ("train/loss", 12, 3.5),
        ("train/lr", 12, pytest.approx(0.002)),  # stored as float32
        ("val/click_in_target", 12, 0.75),
        ("val/loss", 12, 2.0),
        ("train/loss", 24, 1.5),
        ("train/lr", 24, pytest.approx(0.001)),
        ("val/click_in_target", 24, 1.0),
        ("val/loss", 24, 0.5),
    ]


def test_resume_in_the_same_second_keeps_the_earlier_scalars(tmp_path: Path, monkeypatch):
    # Event files are named by the second they open in: freeze the clock so the resumed
    # writer gets the same name as the first one.
    monkeypatch.setattr(event_file_writer, "time", SimpleNamespace(time=lambda: 1_700_000_000.0))
    cfg = _cfg(tmp_path)
    first = RunLog(cfg)
    first.epoch(epoch=1, step=5, lr=0.1, train_loss=2.0, seconds=1.0, metrics={})
    first.close()
    resumed = RunLog(cfg.replace(resume=True), start_step=5)
    resumed.epoch(epoch=2, step=10, lr=0.1, train_loss=1.0, seconds=1.0, metrics={})
    resumed.close()
    files = sorted((cfg.run_dir / TENSORBOARD_DIR).iterdir())
    assert [f.name.endswith(".resumed-at-5") for f in files] == [False, True]
    assert [s[:2] for f in files for s in read_scalars(f)] == [
        ("train/loss", 5), ("train/lr", 5), ("train/loss", 10), ("train/lr", 10),
    ]
