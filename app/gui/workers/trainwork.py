"""Training off the UI thread: a QThread that runs ``models.train.train(cfg)`` in a child
process (`gui_trainproc`) and re-emits its progress events, plus the Qt-free arithmetic
of progress and time left.

Stopping means the child no longer iterates (its generator is closed, so the run keeps
the checkpoints already written); a child that does not end in time is terminated.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
import time

from PySide6.QtCore import QThread, Signal

from deskmimic.app.gui.common import emit

logger = logging.getLogger(__name__)


class TrainWorker(QThread):
    """Runs one training. ``event(dict)`` per progress event (see models.train), then
    ``ended(dict)``: ``{"event": "done" | "stopped" | "failed", "run_dir", ...}`` exactly once
    (``failed`` carries ``error``, a message for people)."""

    event = Signal(object)
    ended = Signal(object)

    _live: set[TrainWorker] = set()

    def __init__(self, cfg) -> None:
        super().__init__()
        self.cfg = cfg
        # spawn, never fork: the GUI process has Qt and other threads running.
        self._ctx = mp.get_context("spawn")
        # The multiprocessing Event is made in run(): its first one starts multiprocessing's
        # resource tracker (a process spawn), which must not happen on the UI thread.
        self._stop_flag = threading.Event()
        self._stop = None
        self.proc = None
        self.setObjectName("deskmimic-train")
        TrainWorker._live.add(self)
        self.finished.connect(self._forget)

    def request_stop(self) -> None:
        """Stop after the current step (or once loading the episodes is over)."""
        self._stop_flag.set()
        if self._stop is not None:
            self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_flag.is_set()

    def run(self) -> None:
        from deskmimic.app.gui.workers.trainproc import train_child

        run_dir = str(self.cfg.run_dir)
        end: dict | None = None
        recv, send = self._ctx.Pipe(duplex=False)
        self._stop = self._ctx.Event()
        if self._stop_flag.is_set():  # asked before the thread got here
            self._stop.set()
        try:
            self.proc = self._ctx.Process(target=train_child, args=(self.cfg, send, self._stop),
                                          name="deskmimic-train", daemon=True)
            self.proc.start()
            send.close()  # the child holds the only writer: its exit means EOF here
            while True:
                ev = recv.recv()  # blocks without the GIL
                if ev.get("end"):
                    end = ev
                    break
                emit(self.event, ev)
        except EOFError:
            code = self.proc.exitcode if self.proc is not None else None
            end = {"event": "failed", "error": "the training process ended unexpectedly"
                   + (f" (exit code {code})" if code is not None else "")}
        except Exception as exc:
            logger.error("training failed to start", exc_info=exc)
            end = {"event": "failed", "error": f"could not start training: {exc}"}
        finally:
            recv.close()
            if self.proc is not None:
                self.proc.join(10)
                if self.proc.is_alive():
                    logger.warning("training process did not exit: terminating it")
                    self.proc.terminate()
                    self.proc.join(5)
        emit(self.ended, {**end, "run_dir": run_dir})

    def _forget(self) -> None:
        TrainWorker._live.discard(self)
        self.deleteLater()

    def kill(self) -> None:
        """End the child now (the window is closing and it did not stop in time)."""
        proc = self.proc
        if proc is not None and proc.is_alive():
            proc.terminate()

    @classmethod
    def stop_all(cls, timeout_ms: int = 10_000) -> None:
        """Ask every training to stop; terminate those that do not within ``timeout_ms``."""
        for w in list(cls._live):
            w.request_stop()
            if not w.wait(timeout_ms):
                logger.warning("training did not stop in %d ms: terminating it", timeout_ms)
                w.kill()
                w.wait(10_000)


class TrainProgress:
    """Where a training is (epoch, step) and how long it has left, from its events.

    The rate is measured from the first optimizer step, so loading and caching the
    episodes (done once) does not distort the estimate; evaluation time is in it.
    """

    def __init__(self, epochs: int | None) -> None:
        self.epochs = epochs or 0  # 0 until the start event says (a run planned by steps)
        self.total_steps = 0
        self.step = self.epoch = 0
        self.samples_per_epoch = 0
        self._t0: float | None = None
        self._step0 = 0
        self.phase = "loading"

    def update(self, ev: dict, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        kind = ev.get("event")
        if kind == "start":
            spe = int(ev.get("steps_per_epoch") or 0)
            self.samples_per_epoch = int(ev.get("train_samples") or 0)
            self.step = int(ev.get("step") or 0)
            self.epoch = int(ev.get("epoch") or 0)
            self.epochs = int(ev.get("epochs") or self.epochs)
            # The trainer's own total: a run planned by steps may end inside its last epoch.
            self.total_steps = int(ev.get("total_steps") or 0) or (
                self.step + spe * max(self.epochs - self.epoch, 0))
            self._t0, self._step0 = now, self.step
            self.phase = "training"
        elif kind in ("step", "epoch"):
            self.step = int(ev.get("step", self.step))
            if kind == "epoch":
                self.epoch = int(ev.get("epoch", self.epoch))
        elif kind == "done":
            self.phase = "done"
            self.step = int(ev.get("step", self.step))
            self.total_steps = max(self.step, 1)

    def seconds_left(self, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
        done = self.step - self._step0
        if self._t0 is None or done < 1 or self.phase != "training":
            return None
        rate = done / max(now - self._t0, 1e-6)
        return max(self.total_steps - self.step, 0) / rate

    def fraction(self) -> float:
        return min(self.step / self.total_steps, 1.0) if self.total_steps else 0.0
