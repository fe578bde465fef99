"""Files the package ships beside its code: today the GUI's style sheet (``style.qss``).

Qt-free, so any layer may ask for a file. Read through importlib.resources, which finds
them in a wheel install, an editable install and a source checkout alike; the folder is
the top-level ``assets/`` mapped to ``deskmimic.assets`` in pyproject.toml, whose
package-data must list every file type kept here (a wheel leaves the others out).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(name: str) -> Path:
    """The file ``name`` of this folder, e.g. ``path("style.qss")``.

    Raises FileNotFoundError when the package has no such file (for instance a wheel
    built without it), naming the file.
    """
    res = files(__name__) / name
    if not res.is_file():
        raise FileNotFoundError(f"deskmimic.assets has no file {name!r}")
    # Installed from a wheel or a checkout, the package is a folder on disk; zip imports
    # (where a Traversable is no Path) are not a way deskmimic is installed.
    return Path(str(res))


def read_text(name: str) -> str:
    """The text of the file ``name`` (UTF-8)."""
    return path(name).read_text(encoding="utf-8")
