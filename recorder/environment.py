"""One predicate per capability: can we see the screen and listen to input here?

Every call site asks these instead of trying an import and guessing.
"""

from __future__ import annotations

import os

from deskmimic.core.errors import DisplayError


def is_wayland() -> bool:
    return os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland" or (
        bool(os.environ.get("WAYLAND_DISPLAY")) and not os.environ.get("DISPLAY")
    )


def require_x_display() -> str:
    """Return DISPLAY, or raise DisplayError saying what does not work and what to do."""
    if is_wayland():
        raise DisplayError(
            "this is a Wayland session: deskmimic records and injects input through X11 "
            "(mss, XRecord, XTEST), which Wayland does not allow for other programs. "
            "Log in with an X11 (Xorg) session, or run inside Xvfb."
        )
    display = os.environ.get("DISPLAY")
    if not display:
        raise DisplayError(
            "no X display: DISPLAY is not set. Run inside an X11 session, or start a "
            "virtual one (Xvfb :99 -screen 0 1280x800x24 & export DISPLAY=:99)."
        )
    return display
