"""Frame preprocessing shared by training and inference (they must match exactly)."""

from __future__ import annotations

import cv2
import numpy as np

from deskmimic.core.errors import ConfigError
from deskmimic.models.perception.match_maps import match_channel, word_maps
from deskmimic.models.perception.match_stream import WordMatchStream

RESIZE_METHOD = "area"  # stored in checkpoints; INTER_AREA keeps thin UI lines visible
RULES_VERSION = 1  # bump whenever input_image's output changes (resize, channels): dataset caches are keyed on it


def resize_frame(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a captured frame (H, W, 3) uint8 RGB to the network's input size.

    The aspect ratio is not preserved: points are normalized to the captured area, so a
    uniform stretch maps back exactly.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ConfigError(
            f"observation image: expected an (H, W, 3) uint8 RGB array, got {rgb.shape} {rgb.dtype}"
        )
    if rgb.shape[0] == height and rgb.shape[1] == width:
        return np.ascontiguousarray(rgb)
    interp = cv2.INTER_AREA if rgb.shape[0] >= height else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(rgb), (width, height), interpolation=interp)


def input_image(
    rgb: np.ndarray,
    height: int,
    width: int,
    instruction: str | None,
    words: bool = False,
    stream: WordMatchStream | None = None,
) -> np.ndarray:
    """A captured frame as the network sees it: resized, plus the instruction match channel
    (`deskmimic.models.perception.match_maps`) when ``instruction`` is given; None: RGB only.

    ``words``: one match channel per content word (`perception.match_maps.word_maps`, ``MAX_WORDS``
    of them) instead of their maximum; from ``stream`` (the same maps, updated where the
    frame changed) when given.
    """
    image = resize_frame(rgb, height, width)
    if instruction is None:
        return image
    if words:
        maps = (
            stream.word_maps(rgb, height, width)
            if stream is not None
            else word_maps(rgb, instruction, height, width)
        )
        return np.dstack([image, maps])
    return np.dstack([image, match_channel(rgb, instruction, height, width)])
