"""The training child process of the GUI (Qt-free: the child never imports Qt).

Why a process and not only a thread: measured on the 2-core test machine, importing
torch and building the first network hold the GIL for 150-330 ms at a time, which
freezes a UI thread in the same process. In a child, the UI's interpreter is untouched;
a QThread in the GUI just waits on the pipe (`gui_trainwork.TrainWorker`).
"""

from __future__ import annotations

import logging
import os

from deskmimic.core.errors import describe_error


def train_child(cfg, conn, stop) -> None:
    """Entry point of the child: iterate ``train(cfg)``, send every event over ``conn``,
    stop iterating once ``stop`` (a multiprocessing Event) is set, then send the end."""
    logging.basicConfig(level=os.environ.get("DESKMIMIC_LOG", "WARNING"),
                        format="deskmimic train: %(levelname)s %(name)s: %(message)s")
    # Spinning OpenMP workers made training several-fold slower on a busy 2-core machine
    # (see app/cli/train.py); it must be set before torch loads, which it is not yet here.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    last: dict = {}
    gen = None
    try:
        from deskmimic.models.training.train import train

        gen = train(cfg)
        for ev in gen:
            last = ev
            conn.send(ev)
            if stop.is_set():
                break
        end = {"end": True, "event": "done" if last.get("event") == "done" else "stopped",
               "step": last.get("step", 0)}
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the window
        logging.getLogger(__name__).debug("training failed", exc_info=exc)
        end = {"end": True, "event": "failed", "error": describe_error(exc)}
    finally:
        if gen is not None:
            try:
                gen.close()
            except Exception:
                logging.getLogger(__name__).exception("closing the training generator")
    try:
        conn.send(end)
    finally:
        conn.close()
