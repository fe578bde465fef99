"""Password fields mask typing on their own: `FocusWatcher` tells from the AT-SPI
accessibility bus whether the keyboard focus is in one, and
`deskmimic.recorder.secret_hold.PasswordMasking` turns the capture gate's automatic
secret on and off with it (docs/episode-format.md, "Pause and secret text").

The watcher speaks D-Bus with jeepney (pure Python): find the accessibility bus, ask the
registry for focus events, and on each focus change ask the focused object's role. It
runs on its own thread: no bus, no at-spi or an application that does not answer never
delays or breaks a recording, it only leaves password fields to the secret hotkey.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

logger = logging.getLogger(__name__)

# AtspiRole value of a password entry (at-spi2-core, atspi/atspi-constants.h). Qt 6
# reports it for a QLineEdit whose echo mode hides the text; GTK and Chromium for theirs.
ROLE_PASSWORD_TEXT = 40
# Registry event names. Toolkits send only what some listener registered for. Focus
# moves are "object:state-changed:focused" (Qt 6 also sends the legacy "focus:" once it
# is registered; others only that). A window's deactivation says that the keyboard left
# for an application the bus may not see (Tk, xterm); Qt 6 sends it only to listeners
# of "window:activate".
REGISTER_EVENTS = ("object:state-changed:focused", "focus:", "window:activate", "window:deactivate")
CALL_TIMEOUT_S = 1.0   # a hung application must not stall the watcher for long
CONNECT_TIMEOUT_S = 3.0  # the first GetAddress starts at-spi-bus-launcher (D-Bus activation)
POLL_S = 0.1           # how soon the watcher thread notices stop()
# A click can move the focus twice (the window is activated with its old focus widget,
# then the clicked one takes it), and leaving a field announces the loss just before the
# gain: an answer counts once no other one follows within this time.
SETTLE_S = 0.04

OnFocus = Callable[[bool], None]


# ---- the accessibility bus -----------------------------------------------------------
def _session_bus_address() -> str:
    addr = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if addr:
        return addr
    path = f"/run/user/{os.getuid()}/bus"  # systemd's session bus without the variable
    if os.path.exists(path):
        return f"unix:path={path}"
    raise OSError("no session D-Bus (DBUS_SESSION_BUS_ADDRESS is not set)")


def _x_root_bus_address() -> str:
    """The address at-spi-bus-launcher leaves on the X root window, or ''."""
    try:
        from Xlib import X, display

        d = display.Display()
        try:
            atom = d.intern_atom("AT_SPI_BUS", only_if_exists=True)
            prop = d.screen().root.get_property(atom, X.AnyPropertyType, 0, 4096) if atom else None
        finally:
            d.close()
    except Exception as exc:  # noqa: BLE001 - no X is just no address
        logger.debug("no AT_SPI_BUS on the X root window: %s", exc)
        return ""
    value = getattr(prop, "value", b"") or b""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def a11y_bus_address() -> str:
    """The accessibility bus address; OSError saying why there is none."""
    if os.environ.get("AT_SPI_BUS_ADDRESS"):
        return os.environ["AT_SPI_BUS_ADDRESS"]
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection
    from jeepney.wrappers import unwrap_msg

    why, session_bus = "", ""
    try:
        session_bus = _session_bus_address()
        with open_dbus_connection(session_bus) as session:
            bus = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus")
            reply = session.send_and_get_reply(new_method_call(bus, "GetAddress"),
                                               timeout=CONNECT_TIMEOUT_S)
            address = str(unwrap_msg(reply)[0])
            if address:
                return address
    except Exception as exc:  # noqa: BLE001 - each failure is one reason in the message
        why = f"{type(exc).__name__}: {exc}".strip()
        if session_bus:
            why = f"session D-Bus {session_bus.split(',')[0]}: {why}"
    address = _x_root_bus_address()
    if address:
        return address
    raise OSError(f"no accessibility bus ({why or 'org.a11y.Bus gave no address'}; "
                  "is at-spi2-core installed and a session D-Bus running?)")


class FocusWatcher:
    """Follows the keyboard focus on the AT-SPI bus, on its own thread.

    ``on_focus(is_password)`` is called from that thread each time the focus moves to an
    accessible object (with whether it is a password field), and with False when the
    focused object loses the focus to nothing the bus announces. ``status`` is
    ``starting``, ``watching``, ``unavailable`` (``reason`` says why) or ``stopped``.
    """

    def __init__(self, on_focus: OnFocus):
        self._on_focus = on_focus
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.status = "starting"
        self.reason = ""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="deskmimic-a11y", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the watcher watches or gave up; True once either happened."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=POLL_S * 3)  # a daemon: one still connecting ends alone

    def _run(self) -> None:
        try:
            conn = self._connect()
        except Exception as exc:  # noqa: BLE001 - never the recording's problem
            self.reason = str(exc) or type(exc).__name__
            self.status = "unavailable"
            self._ready.set()
            return
        self.status = "watching"
        self._ready.set()
        try:
            self._loop(conn)
        except Exception as exc:  # noqa: BLE001
            if not self._stop.is_set():
                self.reason = f"the accessibility bus went away ({exc})"
                self.status = "unavailable"
                logger.warning("password fields are no longer detected: %s", self.reason)
                self._on_focus(False)
        finally:
            conn.close()
            if self.status == "watching":
                self.status = "stopped"

    def _connect(self):
        from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
        from jeepney.io.blocking import Proxy, open_dbus_connection
        from jeepney.wrappers import unwrap_msg

        conn = open_dbus_connection(a11y_bus_address(), auth_timeout=CONNECT_TIMEOUT_S)
        try:
            bus = Proxy(message_bus, conn, timeout=CONNECT_TIMEOUT_S)
            focus = MatchRule(type="signal", interface="org.a11y.atspi.Event.Object", member="StateChanged")
            focus.add_arg_condition(0, "focused")
            bus.AddMatch(focus)
            bus.AddMatch(MatchRule(type="signal", interface="org.a11y.atspi.Event.Focus"))
            bus.AddMatch(MatchRule(type="signal", interface="org.a11y.atspi.Event.Window", member="Deactivate"))
            registry = DBusAddress("/org/a11y/atspi/registry", bus_name="org.a11y.atspi.Registry",
                                   interface="org.a11y.atspi.Registry")
            for name in REGISTER_EVENTS:
                unwrap_msg(conn.send_and_get_reply(new_method_call(registry, "RegisterEvent", "s", (name,)),
                                                   timeout=CONNECT_TIMEOUT_S))
        except BaseException:
            conn.close()
            raise
        return conn

    def _loop(self, conn) -> None:
        from jeepney import MatchRule

        signals: deque = deque()
        focused: tuple[str, str] | None = None
        lost_at: float | None = None  # when a loss of ``focused`` counts, unless a gain came
        with conn.filter(MatchRule(type="signal"), queue=signals):
            while not self._stop.is_set():
                if not signals:
                    wait = POLL_S if lost_at is None else max(0.0, min(POLL_S, lost_at - time.monotonic()))
                    try:
                        conn.recv_messages(timeout=wait)
                    except TimeoutError:
                        pass
                while signals:
                    got = self._focus_change(signals.popleft(), focused)
                    if got == focused and lost_at is None:
                        continue  # the same move announced twice (both event kinds)
                    if got == "lost":
                        lost_at = time.monotonic() + SETTLE_S
                    elif got is not None:
                        focused, lost_at = got, None
                        self._on_focus(self._role(conn, got) == ROLE_PASSWORD_TEXT)
                if lost_at is not None and time.monotonic() >= lost_at:
                    focused = lost_at = None
                    self._on_focus(False)

    @staticmethod
    def _focus_change(msg, focused: tuple[str, str] | None):
        """The object that gained the focus, ``"lost"`` if ``focused`` lost it, or None."""
        from jeepney import HeaderFields

        fields = msg.header.fields
        iface, member = fields.get(HeaderFields.interface), fields.get(HeaderFields.member)
        target = (fields.get(HeaderFields.sender, ""), fields.get(HeaderFields.path, ""))
        body = msg.body
        if iface == "org.a11y.atspi.Event.Object" and member == "StateChanged" and body[:1] == ("focused",):
            if body[1]:
                return target
            return "lost" if target == focused else None
        if iface == "org.a11y.atspi.Event.Focus":
            return target
        if iface == "org.a11y.atspi.Event.Window" and member == "Deactivate":
            return "lost" if focused is not None and target[0] == focused[0] else None
        return None

    @staticmethod
    def _role(conn, target: tuple[str, str]) -> int | None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        obj = DBusAddress(target[1], bus_name=target[0], interface="org.a11y.atspi.Accessible")
        try:
            return int(unwrap_msg(conn.send_and_get_reply(new_method_call(obj, "GetRole"),
                                                          timeout=CALL_TIMEOUT_S))[0])
        except Exception as exc:  # noqa: BLE001 - gone or hung: not known as a password field
            logger.debug("no role for the focused object %s: %s", target, exc)
            return None
