"""TensorBoard scalar logs without the tensorboard package.

`torch.utils.tensorboard` needs the ``tensorboard`` package (large, not a deskmimic
dependency). Scalars are all training logs, and their file format is small: a TFRecord
file (length, masked CRC-32C, payload, masked CRC-32C) of ``Event`` protocol buffers,
hand-encoded here. ``tensorboard --logdir runs/`` reads the files.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

FILE_VERSION = b"brain.Event:2"


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1  # Castagnoli, reflected
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= 0xFFFFFFFFFFFFFFFF  # int64 as protobuf encodes negatives
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_bytes(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode_event(wall_time: float, step: int, *, file_version: bytes | None = None,
                 scalars: dict[str, float] | None = None) -> bytes:
    """One ``tensorflow.Event``: wall_time (1), step (2), file_version (3) or summary (5)."""
    msg = b"\x09" + struct.pack("<d", wall_time) + b"\x10" + _varint(int(step))
    if file_version is not None:
        msg += _field_bytes(3, file_version)
    if scalars:
        values = b"".join(
            # Summary.Value: tag (1, string), simple_value (2, float)
            _field_bytes(1, _field_bytes(1, tag.encode()) + b"\x15" + struct.pack("<f", v))
            for tag, v in scalars.items()
        )
        msg += _field_bytes(5, values)
    return msg


def frame_record(data: bytes) -> bytes:
    """A TFRecord: uint64 length, masked CRC of the length, data, masked CRC of the data."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc(length)) + data + struct.pack(
        "<I", masked_crc(data))


class ScalarWriter:
    """Appends scalar events to ``log_dir/events.out.tfevents.<time>.<host>``."""

    def __init__(self, log_dir: Path) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        now = time.time()
        self.path = log_dir / f"events.out.tfevents.{int(now)}.{socket.gethostname()}"
        self._f = open(self.path, "ab")  # noqa: SIM115 (kept open for the run)
        self._f.write(frame_record(encode_event(now, 0, file_version=FILE_VERSION)))
        self._f.flush()

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        self._f.write(frame_record(encode_event(time.time(), step, scalars={tag: value})))

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()
