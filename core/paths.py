"""Where deskmimic keeps its data, and how episode ids look.

Everything lives under ``$DESKMIMIC_HOME`` (default ``~/.local/share/deskmimic``);
settings live under ``$XDG_CONFIG_HOME/deskmimic``.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path


def data_home() -> Path:
    env = os.environ.get("DESKMIMIC_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "deskmimic"


def default_episodes_dir() -> Path:
    return data_home() / "episodes"


def default_runs_dir() -> Path:
    return data_home() / "runs"


def config_dir() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "deskmimic"


def new_episode_id(now: datetime | None = None) -> str:
    """A sortable id: UTC time to the millisecond plus a short random suffix."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z-" + secrets.token_hex(2)


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the user only: recordings are private."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path
