"""Where deskmimic keeps its data, and how episode ids look.

Everything lives under ``$DESKMIMIC_HOME`` (default ``~/.local/share/deskmimic``);
settings live under ``$XDG_CONFIG_HOME/deskmimic``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
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
    """Create ``path`` (and parents) readable by the user only: recordings are private.

    Every folder this creates is 0700 whatever the umask (``mkdir(parents=True)`` would
    make the parents with the umask's mode), ``path`` itself is made 0700 even if it
    existed, and so is ``$DESKMIMIC_HOME`` when ``path`` lies inside it.
    """
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another process
            pass
        os.chmod(p, 0o700)
    os.chmod(path, 0o700)
    home = data_home()
    if home in path.parents and home.is_dir():
        os.chmod(home, 0o700)
    return path


def write_private_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically as a user-only (0600) file: created 0600
    (no moment readable by others), synced, then renamed over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:  # mkstemp makes it 0600
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
