"""Web practice tasks, seen from the Qt host: a stand-in for `TaskWindow` per web page.

Each task is one of our own pages (`deskmimic.tasks.web_pages`) shown in a Chromium app
window (`deskmimic.tasks.web_browser`), one browser reused across seeds. A poller thread
reads the page's DOM read-only over DevTools every `POLL_S`: element boxes (CSS pixels,
turned into screen pixels with the window's place on the X screen and the device scale),
what is typed, ticked, focused, open, and the log of what the person did, which the
page's Python side judges with the rules every toolkit shares. `WebTaskProxy` answers
the `TaskWindow` calls the runner, the experts, the recorder's labels and evaluation make
(``state``, ``region``, ``element_boxes``, ``result``, ``abort``, ``finished``), as
`deskmimic.tasks.tk_tasks.TkTaskProxy` does for Tk. Input is real X input only.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Signal

from deskmimic.core.errors import TaskError
from deskmimic.core.geometry import Rect
from deskmimic.tasks.base import OTHER_TASKS, TASKS
from deskmimic.tasks.looks import HELDOUT, MAX_SCALED_POINTS, TRAIN, Look, check_mode
from deskmimic.tasks.tk_host import SCREEN, TOP_MARGIN

logger = logging.getLogger(__name__)

TOOLKIT = "web"
SCALES = (1.0, 1.5, 2.0)
"""Device scales the varied and held-out looks draw (``--force-device-scale-factor``)."""
DEFAULT_WEB_LOOK = Look(style="chromium", family="DejaVu Sans", point_size=10.5, scale=1.0,
                        palette="light", mode="default")
POLL_S = 0.025
JOIN_S = 3.0
SIZE_SLACK = 4  # CSS pixels


def web_look_for(task: str, seed: int, mode: str = "default") -> Look:
    """The look of web task ``task`` at ``seed``: font family, size and palette from the Qt
    split (`looks.TRAIN`/`looks.HELDOUT`: families and sizes disjoint, dark only held
    out), a device scale from `SCALES`, capped as Qt's (point size x scale)."""
    if check_mode(mode) == "default":
        return DEFAULT_WEB_LOOK
    choices = TRAIN if mode == "varied" else HELDOUT
    rng = random.Random(f"look:{mode}:{task}:{seed}")  # never the layout's stream
    family = rng.choice(choices.families)
    scale = rng.choice(SCALES)
    sizes = [s for s in choices.sizes if s * scale <= MAX_SCALED_POINTS] or [min(choices.sizes)]
    return Look(style="chromium", family=family, point_size=rng.choice(sizes), scale=scale,
                palette=rng.choice(choices.palettes), mode=mode)


class WebTaskProxy(QObject):
    """One web task page in the shared Chromium window, with `TaskWindow`'s interface.

    Thread-safe: the poller thread writes the state under a lock; experts read it from
    their worker thread.

    Signals:
        finished(dict): emitted once with the result when the page's verdict is in.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    max_steps: ClassVar[int] = 10
    toolkit: ClassVar[str] = TOOLKIT

    finished = Signal(dict)

    def __init__(self, seed: int, look: Look | None = None) -> None:
        super().__init__()
        if not isinstance(seed, int) or seed < 0:
            raise TaskError(f"task {self.name}: seed must be an integer >= 0, got {seed!r}")
        self.seed = seed
        self.look = look or DEFAULT_WEB_LOOK
        self.instruction = ""
        self.page: Any = None
        self.browser: Any = None
        self.error: BaseException | None = None
        self._state: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._emitted = False
        self._seen = 0  # entries of the page's log judged so far
        self._local_result: dict[str, Any] | None = None

    @classmethod
    def create(cls, seed: int, looks: str = "default") -> WebTaskProxy:
        """The task at ``seed`` in the look looks mode ``looks`` gives it (not shown yet)."""
        return cls(seed, web_look_for(cls.name, seed, looks))

    # ---- showing and polling -------------------------------------------------------------
    def show(self) -> None:
        """Load the page in the browser (started on first use) and start polling, in a
        thread; `is_shown` turns true once the page is placed and drawn."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"web-{self.name}-{self.seed}",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from Xlib import display as xdisplay

        dpy = None
        try:
            self._open()
            dpy = xdisplay.Display()
            win = dpy.create_resource_object("window", self.browser.xid)
            root = dpy.screen().root
            shown = False
            while not self._stop.is_set():
                origin = root.translate_coords(win, 0, 0)
                self._poll((origin.x, origin.y), shown)
                if not shown:
                    shown = True
                    self.page.t_shown = float(self.browser.evaluate("performance.now()"))
                time.sleep(POLL_S)
        except BaseException as exc:  # reported through `alive` and the log
            if not self._stop.is_set():
                logger.warning("web task %s seed %d: %s", self.name, self.seed, exc)
                self.error = exc
        finally:
            if dpy is not None:
                dpy.close()

    def _open(self) -> None:
        from deskmimic.tasks.web_browser import shared_browser
        from deskmimic.tasks.web_pages import KINDS, css_font
        from deskmimic.tasks.web_script import MEASURE_JS

        self.browser = browser = shared_browser(self.look.scale)
        font = json.dumps(css_font(self.look))
        page = KINDS[self.name](self.seed, self.look,
                                lambda text: int(browser.evaluate(MEASURE_JS % (font,
                                                                                json.dumps(text)))))
        self.page, self.instruction = page, page.instruction
        path = f"/task/{self.name}/{self.seed}/{time.monotonic_ns()}"
        browser.load(path, page.html())
        # A big font wraps the instruction onto more lines: the window grows by what the
        # banner needs (and moves up when it must), so the controls keep their room.
        banner_h = int(browser.evaluate("document.getElementById('banner').offsetHeight"))
        screen_w, screen_h = (round(v / self.look.scale) for v in SCREEN)
        top = math.ceil(TOP_MARGIN / self.look.scale)
        h = min(page.body_h + banner_h, screen_h - 8)
        y = max(min(page.y, screen_h - h - 8), min(top, screen_h - h))
        x = max(0, min(page.x, screen_w - page.w))
        browser.place(x, y, page.w, h)
        # At a fractional scale the window is a whole number of screen pixels, placed on
        # whole pixels: Chromium rounds its size a few CSS pixels either way (the page is
        # laid out at a fixed size from the top left, so that only shows background).
        deadline = time.monotonic() + 5.0
        while True:
            got = browser.evaluate("[innerWidth, innerHeight]")
            if abs(got[0] - page.w) <= SIZE_SLACK and abs(got[1] - h) <= SIZE_SLACK:
                break
            if time.monotonic() > deadline:
                raise TaskError(f"task {self.name}: chromium did not take the size "
                                f"{page.w}x{h} (has {got[0]}x{got[1]})")
            time.sleep(0.03)
        # Drawn at that size before anyone looks: two frames.
        browser.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def _poll(self, origin: tuple[int, int], shown: bool) -> None:
        page, browser = self.page, self.browser
        snap = browser.evaluate(f"__dm.snapshot({self._seen})")
        emit = None
        with self._lock:
            self._seen += len(snap["log"])
            page.dom = snap
            for event in snap["log"]:
                if page.result is None:
                    page.event = event
                    page.apply(event)
            page.event = {}
            commands, page.commands = page.commands, []
            self._state = self._compose(snap, origin, shown)
            if page.result is not None and not self._emitted:
                self._emitted = True
                emit = dict(page.result)
        for script in commands:
            browser.evaluate(script)
        if emit is not None:
            self.finished.emit(emit)

    def _compose(self, snap: dict[str, Any], origin: tuple[int, int], shown: bool) -> dict:
        page, dpr = self.page, float(snap["dpr"])
        ox, oy = origin[0], origin[1] + round((snap["oh"] - snap["ih"]) * dpr)

        def screen(box: list[float]) -> list[int]:
            x0, y0 = round(box[0] * dpr), round(box[1] * dpr)
            x1, y1 = round((box[0] + box[2]) * dpr), round((box[1] + box[3]) * dpr)
            return [ox + x0, oy + y0, x1 - x0, y1 - y0]

        done = page.result is not None
        return {"name": self.name, "seed": self.seed, "instruction": page.instruction,
                "shown": shown, "done": done, "result": dict(page.result) if done else None,
                "region": [ox, oy, round(snap["iw"] * dpr), round(snap["ih"] * dpr)],
                "boxes": {k: screen(v) for k, v in snap["boxes"].items()},
                "next": [] if done else page.next_targets(), "device_scale": dpr,
                **page.extra_state()}

    def is_shown(self) -> bool:
        with self._lock:
            return self._state is not None and bool(self._state.get("shown"))

    def alive(self) -> bool:
        return self.error is None and (self.browser is None or self.browser.alive())

    def close(self) -> None:
        """End a running task as 'window closed', stop polling and park the window."""
        if self._thread is None:
            return
        if self.page is not None and self.error is None and not self.is_done():
            self.abort("window closed")
        self._stop.set()
        self._thread.join(JOIN_S)
        if self.browser is not None and self.browser.alive():
            self.browser.hide()

    # ---- TaskWindow's interface ----------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The latest state, boxes and region as `Rect`s in screen pixels."""
        with self._lock:
            raw = dict(self._state or {})
        if not raw:
            raise TaskError(f"task {self.name}: the web page has not reported yet")
        raw["boxes"] = {k: _rect(v) for k, v in raw["boxes"].items()}
        raw["region"] = _rect(raw["region"])
        return raw

    def region(self) -> Rect:
        return self.state()["region"]

    def element_boxes(self) -> dict[str, Rect]:
        return self.state()["boxes"]

    def next_targets(self) -> list[str]:
        return list(self.state()["next"])

    def result(self) -> dict[str, Any] | None:
        with self._lock:
            result = self.page.result if self.page is not None else self._local_result
        return dict(result) if result else None

    def is_done(self) -> bool:
        return self.result() is not None

    def abort(self, reason: str) -> None:
        """End the task as a failure from outside."""
        emit, commands, result = None, [], None
        with self._lock:
            page = self.page
            if page is None:
                # The page never came up (Chromium missing or failing): the host still
                # owes a verdict.
                if self._local_result is None:
                    self._local_result = result = {
                        "task": self.name, "seed": self.seed, "success": False, "reward": 0.0,
                        "reason": reason, "steps": 0, "duration_s": 0.0}
            elif page.result is None:
                page.event = {}
                page.fail(reason)
                commands, page.commands = page.commands, []
                result = page.result
                if self._state is not None:
                    self._state = {**self._state, "done": True, "result": dict(result),
                                   "next": []}
            if result is not None and not self._emitted:
                self._emitted = True
                emit = dict(result)
        if commands and self.browser is not None and self.browser.alive():
            for script in commands:
                try:
                    self.browser.evaluate(script)
                except TaskError as exc:
                    logger.debug("web task %s: could not show the verdict: %s", self.name, exc)
        if emit is not None:
            self.finished.emit(emit)


def _rect(box: list[int]) -> Rect:
    return Rect(int(box[0]), int(box[1]), max(1, int(box[2])), max(1, int(box[3])))


def register_web(cls: type[WebTaskProxy]) -> type[WebTaskProxy]:
    """Add a web task to `deskmimic.tasks.base.OTHER_TASKS` under ``cls.name``."""
    if not cls.name or cls.name in TASKS or cls.name in OTHER_TASKS:
        raise TaskError(f"task class {cls.__name__}: name {cls.name!r} is empty or taken")
    OTHER_TASKS[cls.name] = cls
    return cls


@register_web
class WebClickButtonTask(WebTaskProxy):
    name = "web_click_button"
    max_steps = 3
    description = "Web page: click the named button among distractors ('Click Save')"


@register_web
class WebClickSequenceTask(WebTaskProxy):
    name = "web_click_sequence"
    max_steps = 8
    description = "Web page: click buttons in a given order ('Click Red, then Blue, then Green')"


@register_web
class WebCheckboxesTask(WebTaskProxy):
    name = "web_checkboxes"
    max_steps = 10
    description = "Web page: tick exactly the named checkboxes and press Submit"


@register_web
class WebTypeFieldTask(WebTaskProxy):
    name = "web_type_field"
    max_steps = 6
    description = "Web page: type a given text into the named field and press Submit or Enter"


@register_web
class WebPickListTask(WebTaskProxy):
    name = "web_pick_list"
    max_steps = 6
    description = "Web page: pick an entry from a list or a drop-down (<select>)"


# Same state fields as their Qt counterparts: the Qt experts solve them as they are.
EXPERT_OF = {"web_click_button": "click_button", "web_click_sequence": "click_sequence",
             "web_checkboxes": "checkboxes", "web_type_field": "type_field",
             "web_pick_list": "pick_list"}

__all__ = ["DEFAULT_WEB_LOOK", "EXPERT_OF", "SCALES", "TOOLKIT", "WebTaskProxy", "web_look_for"]
