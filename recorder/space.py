"""Disk space held back so that a recording which fills the disk can still finish.

A recording writes until the disk is full, and then needs a little more: the frame in
flight, the video trailer, the last events, meta.json. So it starts by allocating a
reserve file in the episode folder; the first write that fails for lack of space frees
it, is retried, and asks the recording to stop. Every file then closes whole and the
episode ends ``complete`` (stop reason ``disk_full``) instead of half-written.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from deskmimic.core.errors import DeskmimicError

logger = logging.getLogger(__name__)

RESERVE_NAME = ".space-reserve"
# Covers the worst frame in flight (a segment's first, full keyframe of a busy screen is
# a few hundred KB lossless), the Matroska trailer, a second of events and meta.json.
RESERVE_BYTES = 4 << 20
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class NoSpaceError(DeskmimicError):
    """Not enough free space to start, or to finish, a recording."""


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS


def not_enough_space(folder: Path, exc: OSError | None = None) -> NoSpaceError:
    try:
        st = os.statvfs(folder if folder.exists() else folder.parent)
        free = f"{st.f_bavail * st.f_frsize / 1e6:.1f} MB free"
    except OSError:
        free = "free space unknown"
    why = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    return NoSpaceError(f"{folder}: not enough free space to record{why}: a recording needs "
                        f"at least {RESERVE_BYTES / 1e6:.0f} MB free ({free}); free some space "
                        "or choose another --out / --episodes-dir")


def recover_hint(folder: Path) -> str:
    return f"free some space, then run `deskmimic episodes recover {folder}`"


def disk_full_message(folder: Path, at_s: float, frames: int, closed: bool) -> str:
    """The one line a recording stopped by a full disk ends with."""
    kept = (f"the episode is complete up to there ({frames} frames)" if closed
            else recover_hint(folder))
    return f"{folder}: the disk is full: the recording stopped at {at_s:.1f} s; {kept}"


class SpaceReserve:
    """The reserve file of one episode; ``release()`` frees it once, from any thread."""

    def __init__(self, folder: Path, on_full: Callable[[], None] | None = None,
                 size: int = RESERVE_BYTES):
        self.path = folder / RESERVE_NAME
        self._on_full = on_full
        self._lock = threading.Lock()
        self.full = False  # a write ran out of space (and the reserve was freed for it)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._held = True
        try:
            # Allocated, not just sized: a sparse file would free nothing.
            os.posix_fallocate(fd, 0, size)
        except OSError as exc:
            self.path.unlink(missing_ok=True)
            self._held = False
            if is_disk_full(exc):
                raise not_enough_space(folder, exc) from exc
            # A file system that cannot allocate ahead still records; only a full disk
            # then ends the recording on an error instead of cleanly.
            logger.warning("%s: cannot reserve space (%s)", folder, exc)
        finally:
            os.close(fd)

    def release(self, full: bool = False) -> bool:
        """Free the reserve; ``full``: because a write ran out of space (the recording is
        asked to stop). False if it was already freed: the space is really gone."""
        with self._lock:
            was_held, self._held = self._held, False
            if full and not self.full:
                self.full = True
                # Told once, by whoever stops the recording (`Recorder.stop`'s message).
                logger.info("the disk is full: stopping the recording")
                if self._on_full is not None:
                    self._on_full()
            if was_held:
                self.path.unlink(missing_ok=True)
        return was_held


def write_all(write: Callable[[memoryview], int | None], data: bytes,
              reserve: SpaceReserve | None) -> None:
    """Write every byte of ``data`` with ``write`` (which may write only a part); the first
    time the disk is full, free ``reserve`` and go on; a second time raises."""
    view = memoryview(data)
    while view:
        try:
            n = write(view)
        except OSError as exc:
            if reserve is None or not is_disk_full(exc) or not reserve.release(full=True):
                raise
            continue
        view = view[len(view) if n is None else n:]


class ReservedFile(io.FileIO):
    """An unbuffered file whose writes are whole (PyAV's muxer drops the rest of a short
    write) and fall back on a `SpaceReserve` when the disk is full."""

    def __init__(self, fd: int, reserve: SpaceReserve | None):
        super().__init__(fd, "wb")
        self._reserve = reserve

    def write(self, data) -> int:
        write_all(super().write, data, self._reserve)
        return len(data)
