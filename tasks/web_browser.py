"""One Chromium window for the web practice tasks, driven read-only over DevTools.

The pages are ours (`deskmimic.tasks.web_pages`), served from 127.0.0.1 on a random port.
Chromium shows them in an app window (no tab strip, no address bar) at a known place,
at a device scale of 1, 1.5 or 2 (``--force-device-scale-factor``; a scale is fixed
for the life of a browser, so another scale starts another one). It is reused across
seeds: a start costs more than a page. The DevTools protocol travels over a pipe
(``--remote-debugging-pipe``: fds 3 and 4, messages ending in NUL), so no port is open
and no websocket client is needed. It is used to load pages, place the window and read
the DOM, never to send input: input is real X input from the injector.
"""

from __future__ import annotations

import atexit
import ctypes
import http.server
import itertools
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from deskmimic.core.errors import TaskError

logger = logging.getLogger(__name__)

HOST_TITLE = "deskmimic web tasks"
CALL_TIMEOUT_S = 10.0
START_TIMEOUT_S = 30.0
_LAUNCHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium-launcher")
_FLAGS = ("--no-first-run", "--no-default-browser-check", "--test-type", "--disable-infobars",
          "--disable-gpu", "--disable-extensions", "--disable-sync", "--disable-translate",
          "--disable-features=Translate,MediaRouter,OptimizationHints",
          "--password-store=basic", "--hide-scrollbars", "--disable-background-networking",
          "--disable-component-update", "--disable-default-apps", "--mute-audio")


def chromium_path() -> str | None:
    """The Chromium executable, or ``None`` when none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


class PageServer:
    """Serves registered pages (path -> HTML) from 127.0.0.1 on a random port, in a thread."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, name="web-pages", daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Browser:
    """A Chromium process with one app window and a DevTools session on its page.

    Thread-safe: calls are serialized by a lock (the task's poller and the host's thread
    both talk to it).
    """

    def __init__(self, scale: float) -> None:
        exe = chromium_path()
        if exe is None:
            raise TaskError("web tasks need Chromium: apt-get install chromium")
        if not os.environ.get("DISPLAY"):
            raise TaskError("web tasks need an X display (DISPLAY is not set)")
        self.scale = float(scale)
        self.server = PageServer()
        # Named apart from every other browser's window, to find its X window by name.
        self.host_title = f"{HOST_TITLE} {os.getpid()}.{next(_SERIAL)}"
        self.server.pages["/host"] = (f"<title>{self.host_title}</title>"
                                      "<body style='margin:0'></body>")
        self._profile = tempfile.mkdtemp(prefix="deskmimic-chromium-")
        self._lock = threading.Lock()
        self._id = 0
        self._buf = b""
        t0 = time.monotonic()
        to_chrome, from_chrome = os.pipe(), os.pipe()
        r3, w4 = to_chrome[0], from_chrome[1]

        def wire() -> None:  # in the child: its fds 3 (commands) and 4 (replies)
            # Ends with the host, even a killed one (PR_SET_PDEATHSIG: SIGTERM).
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)
            os.dup2(r3, 50)
            os.dup2(w4, 51)
            os.dup2(50, 3)
            os.dup2(51, 4)

        args = [exe, "--remote-debugging-pipe", *_FLAGS, f"--user-data-dir={self._profile}",
                f"--force-device-scale-factor={self.scale:g}", "--window-position=-2000,0",
                "--window-size=400,300", f"--app={self.server.url('/host')}"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with it
        # Started from a thread that lives as long as the process: the parent-death signal
        # follows the thread that forked, and a task's thread ends with the task.
        self.proc = _LAUNCHER.submit(
            subprocess.Popen, args, preexec_fn=wire, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).result()
        os.close(r3)
        os.close(w4)
        self._out = os.fdopen(to_chrome[1], "wb", buffering=0)
        self._in = os.fdopen(from_chrome[0], "rb", buffering=0)
        try:
            self._attach()
            self.xid = self._find_xid()
        except BaseException:
            self.close()
            raise
        self.start_s = time.monotonic() - t0
        STARTS.append(round(self.start_s, 3))
        logger.info("chromium (scale %g) started in %.2f s", self.scale, self.start_s)

    def _attach(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            infos = self.call("Target.getTargets")["targetInfos"]
            pages = [t for t in infos if t["type"] == "page" and t["url"].endswith("/host")]
            if pages:
                break
            if time.monotonic() > deadline:
                raise TaskError(f"chromium showed no page within {START_TIMEOUT_S:g} s")
            time.sleep(0.05)
        target = pages[0]["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        self.window_id = self.call("Browser.getWindowForTarget", {"targetId": target})["windowId"]
        while self.evaluate("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TaskError("chromium did not load its first page")
            time.sleep(0.05)

    def _find_xid(self) -> int:
        """The X window of the app window (Chromium names it after its page, in UTF-8)."""
        from Xlib import display as xdisplay

        dpy = xdisplay.Display()
        try:
            atom = dpy.intern_atom("_NET_WM_NAME")
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                todo = [dpy.screen().root]
                while todo:
                    win = todo.pop()
                    try:
                        if win.get_full_text_property(atom) == self.host_title:
                            return int(win.id)
                        todo.extend(win.query_tree().children)
                    except Exception:  # a window that went away meanwhile
                        continue
                time.sleep(0.05)
        finally:
            dpy.close()
        raise TaskError(f"chromium's window {self.host_title!r} did not appear on the X display")

    # ---- the protocol ------------------------------------------------------------------
    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        """Send one DevTools command and return its result.

        Raises:
            TaskError: Chromium is gone, answered with an error, or did not answer in time.
        """
        with self._lock:
            if self.proc.poll() is not None:
                raise TaskError(f"chromium exited (code {self.proc.returncode})")
            self._id += 1
            msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
            if session:
                msg["sessionId"] = session
            try:
                self._out.write(json.dumps(msg).encode() + b"\0")
                reply = self._reply(self._id)
            except OSError as exc:
                raise TaskError(f"chromium's DevTools pipe broke: {exc}") from exc
        if "error" in reply:
            raise TaskError(f"chromium: {method} failed: {reply['error'].get('message')}")
        return reply.get("result", {})

    def _reply(self, wanted: int) -> dict[str, Any]:
        deadline = time.monotonic() + CALL_TIMEOUT_S
        while True:
            while b"\0" not in self._buf:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._in], [], [], left)[0]:
                    raise TaskError(f"chromium did not answer within {CALL_TIMEOUT_S:g} s")
                chunk = self._in.read(1 << 16)
                if not chunk:
                    raise TaskError("chromium closed its DevTools pipe")
                self._buf += chunk
            raw, self._buf = self._buf.split(b"\0", 1)
            msg = json.loads(raw)
            if msg.get("id") == wanted:  # events (no id) are not subscribed to: skipped
                return msg

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression on the page (promises awaited)."""
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, self.session)
        if "exceptionDetails" in res:
            text = res["exceptionDetails"].get("exception", {}).get("description") \
                or res["exceptionDetails"].get("text")
            raise TaskError(f"web page script failed: {text}")
        return res["result"].get("value")

    # ---- the window --------------------------------------------------------------------
    def load(self, path: str, html: str, timeout: float = 15.0) -> None:
        """Serve ``html`` at ``path`` and show it; returns once the page has loaded."""
        self.server.pages[path] = html
        self.call("Page.navigate", {"url": self.server.url(path)}, self.session)
        deadline = time.monotonic() + timeout
        while not self.evaluate("document.readyState === 'complete' && "
                                f"location.pathname === {json.dumps(path)}"):
            if time.monotonic() > deadline:
                raise TaskError(f"chromium did not load {path} within {timeout:g} s")
            time.sleep(0.03)

    def place(self, left: int, top: int, width: int, height: int) -> None:
        """Move and size the window (device-independent pixels) and raise it."""
        self.call("Browser.setWindowBounds", {"windowId": self.window_id, "bounds": {
            "left": left, "top": top, "width": width, "height": height, "windowState": "normal"}})
        self.call("Page.bringToFront", None, self.session)

    def hide(self) -> None:
        """Park the window off the screen between tasks (it stays loaded)."""
        try:
            self.load("/host", self.server.pages["/host"])
            self.call("Browser.setWindowBounds", {"windowId": self.window_id, "bounds": {
                "left": -3000, "top": 0, "width": 400, "height": 300}})
        except TaskError as exc:
            logger.debug("could not park the browser window: %s", exc)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def memory_kb(self) -> dict[str, int]:
        """Memory of Chromium and all its child processes, in KiB: ``rss`` (their resident
        sets added up, which counts shared pages once per process) and ``pss`` (each
        shared page split among its sharers: what the browser really costs)."""
        total = {"rss": 0, "pss": 0}
        todo = [self.proc.pid]
        while todo:
            pid = todo.pop()
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        key = line.split(":")[0].lower()
                        if key in total:
                            total[key] += int(line.split()[1])
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    todo.extend(int(p) for p in f.read().split())
            except (OSError, ValueError):
                continue
        return total

    def close(self) -> None:
        """End Chromium and the page server (idempotent)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for f in (self._out, self._in):
            try:
                f.close()
            except OSError:
                pass
        self.server.close()
        shutil.rmtree(self._profile, ignore_errors=True)


_SERIAL = itertools.count(1)
STARTS: list[float] = []
"""Seconds each Chromium start of this process took, to its first page (`browser_stats`)."""

_shared: dict[float, Browser] = {}
_shared_lock = threading.Lock()


def shared_browser(scale: float) -> Browser:
    """The browser of this process at ``scale``, started on first use and kept: a scale is
    fixed for a browser's life, and the looks draw a scale per seed, so one browser per
    scale (at most `SCALES`' three) saves a start on most seeds. Those not in use wait
    with their window parked off the screen."""
    with _shared_lock:
        browser = _shared.get(float(scale))
        if browser is not None and not browser.alive():
            browser.close()
            browser = None
        if browser is None:
            browser = _shared[float(scale)] = Browser(scale)
        return browser


def close_shared() -> None:
    """Close the shared browsers, if any (also at exit)."""
    with _shared_lock:
        while _shared:
            _shared.popitem()[1].close()


def browser_stats() -> dict[str, Any]:
    """Chromium's starts in this process (count, seconds each) and the memory of the shared
    browsers with all their processes now (``rss_mb``, ``pss_mb``: `Browser.memory_kb`),
    per scale."""
    with _shared_lock:
        mem = {f"{s:g}": b.memory_kb() for s, b in _shared.items() if b.alive()}
    return {"starts": len(STARTS), "start_s": list(STARTS),
            "memory_mb": {s: {f"{k}_mb": round(v / 1024, 1) for k, v in m.items()}
                          for s, m in mem.items()}}


atexit.register(close_shared)

__all__ = ["Browser", "PageServer", "browser_stats", "chromium_path", "close_shared",
           "shared_browser"]
