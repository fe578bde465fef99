"""Drawing what the agent would do onto a screenshot (dry run, step mode, review)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from deskmimic.agent.policy_protocol import POINTER_KINDS, AgentAction
from deskmimic.core.errors import CaptureError
from deskmimic.core.paths import make_private_dir, write_private_bytes

_MARK = (255, 0, 255)  # magenta: rare on desktops, so the mark stands out (RGB)
_TEXT_BG = (0, 0, 0)
_TEXT_FG = (255, 255, 255)


def annotate(image: np.ndarray, action: AgentAction, label: str = "") -> np.ndarray:
    """A copy of ``image`` (H, W, 3 RGB) with ``action`` drawn on it.

    Pointer actions get a cross-hair circle at (x, y) (an arrow to (x2, y2) for a
    drag); keyboard actions and ``done`` get only the caption. The caption (``label``
    plus the action's description and confidence) is drawn at the top.
    """
    out = np.ascontiguousarray(image.copy())
    if action.kind in POINTER_KINDS and action.x is not None and action.y is not None:
        p = (int(action.x), int(action.y))
        cv2.circle(out, p, 14, _MARK, 2, cv2.LINE_AA)
        cv2.line(out, (p[0] - 20, p[1]), (p[0] + 20, p[1]), _MARK, 1, cv2.LINE_AA)
        cv2.line(out, (p[0], p[1] - 20), (p[0], p[1] + 20), _MARK, 1, cv2.LINE_AA)
        if action.kind == "drag" and action.x2 is not None and action.y2 is not None:
            cv2.arrowedLine(out, p, (int(action.x2), int(action.y2)), _MARK, 2, cv2.LINE_AA,
                            tipLength=0.05)
        if action.kind == "scroll":
            tip = (p[0] + 24 * int(np.sign(action.dx)), p[1] - 24 * int(np.sign(action.dy)))
            if tip != p:
                cv2.arrowedLine(out, p, tip, _MARK, 2, cv2.LINE_AA, tipLength=0.4)
    caption = f"{label}  {action.describe()}".strip()
    _caption(out, caption)
    return out


def _caption(img: np.ndarray, text: str) -> None:
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1
    # Hershey fonts draw ASCII only; show anything else as '?' rather than garbage.
    text = text.encode("ascii", "replace").decode("ascii")
    (w, h), base = cv2.getTextSize(text, font, scale, thick)
    cv2.rectangle(img, (0, 0), (min(img.shape[1] - 1, w + 8), h + base + 8), _TEXT_BG, -1)
    cv2.putText(img, text, (4, h + 4), font, scale, _TEXT_FG, thick, cv2.LINE_AA)


def write_png(path: Path, image: np.ndarray) -> Path:
    """Write an RGB image as PNG, user-only readable (screenshots are private)."""
    make_private_dir(path.parent)
    ok, png = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise CaptureError(f"{path}: could not encode the PNG")
    try:
        return write_private_bytes(path, png.tobytes())
    except OSError as exc:
        raise CaptureError(f"{path}: could not write the PNG ({exc.strerror})") from exc
