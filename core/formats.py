"""Versioned file formats: the one policy for episodes, training runs and checkpoints.

Every artifact deskmimic writes for later carries an integer ``format_version``
(docs/formats.md). This module holds, for each artifact, the version written today and
the oldest version readers still accept, and the one check every reader calls:

- ``oldest <= version <= current``: read. Readers upgrade an older version in memory
  (one ``v -> v + 1`` step at a time, beside the reader) and never write it back on
  their own.
- ``version > current``: refused, naming the file and saying to upgrade deskmimic; the
  file is left untouched (a newer deskmimic wrote it, and only it knows the new fields).
- ``version < oldest``: refused, naming the file and the way forward: ``deskmimic
  episodes upgrade`` for episodes (it keeps the conversions readers dropped), training
  again for runs and checkpoints (their weights cannot be converted).

Bump ``current`` when a writer's output changes in a way an older reader would misread
(a new step kind, outcome or label field a reader must understand); adding a field every
reader already ignores or defaults does not need a bump. Raise ``oldest`` only with a
release note. Caches (the dataset cache) are not formats: they are keyed on the rules
that produced them and rebuilt, never refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskmimic.core.errors import (
    CheckpointVersionError,
    EpisodeVersionError,
    FormatVersionError,
    RunVersionError,
)

FIELD = "format_version"


@dataclass(frozen=True)
class Format:
    """One versioned artifact.

    Attributes:
        name: what the messages call it (``"episode"``).
        current: the version writers write today.
        oldest: the oldest version readers accept (older ones are refused).
        missing: the version a file without the field is (None: a missing field is an
            error). 0.1.0 wrote run configs without one: they are version 1.
        too_old: what to do with a file older than ``oldest`` (ends the refusal).
        error: the exception raised, a `FormatVersionError` of the artifact's family.
    """

    name: str
    current: int
    oldest: int
    missing: int | None
    too_old: str
    error: type[FormatVersionError]

    def __post_init__(self) -> None:
        if not 1 <= self.oldest <= self.current:
            raise ValueError(f"{self.name}: need 1 <= oldest <= current")


# Episode folders (meta.json; docs/episode-format.md). Version 1: deskmimic 0.1.0.
EPISODE = Format(
    name="episode",
    current=1,
    oldest=1,
    missing=None,
    too_old="run `deskmimic episodes upgrade` on it",
    error=EpisodeVersionError,
)
# Training run folders (runs/<name>/config.json with metrics.jsonl beside it). 0.1.0
# wrote no format_version there: a config without one is version 1.
RUN = Format(
    name="training run",
    current=1,
    oldest=1,
    missing=1,
    too_old="train it again with this deskmimic",
    error=RunVersionError,
)
# Checkpoint folders (runs/<name>/checkpoints/<step>/config.json + model.safetensors).
CHECKPOINT = Format(
    name="checkpoint",
    current=1,
    oldest=1,
    missing=None,
    too_old="train the policy again with this deskmimic",
    error=CheckpointVersionError,
)
FORMATS = (EPISODE, RUN, CHECKPOINT)


def check_version(
    fmt: Format,
    data: dict[str, Any],
    source: Path | str,
    *,
    oldest: int | None = None,
    too_old: str | None = None,
) -> int:
    """The ``format_version`` of ``data`` (read from ``source``) if this deskmimic reads it.

    Args:
        fmt: the artifact's format.
        data: the parsed JSON object holding the field.
        source: the file, named in every message.
        oldest: accept versions down to this one instead of ``fmt.oldest`` (the upgrade
            command, which keeps conversions the readers dropped).
        too_old: what to do below that floor, instead of ``fmt.too_old``.

    Raises:
        FormatVersionError: (``fmt.error``) the field is missing or not an integer, or the
            version is newer than ``fmt.current`` or older than the oldest accepted.
    """
    version = data.get(FIELD, fmt.missing)
    # bool is an int subclass; "format_version": true is as wrong as a string.
    if not isinstance(version, int) or isinstance(version, bool):
        raise fmt.error(
            f"{source}: field '{FIELD}' is missing or not an integer: "
            f"not a deskmimic {fmt.name} file, or a damaged one"
        )
    if version < 1:
        raise fmt.error(f"{source}: {FIELD} {version} is invalid (versions start at 1)")
    if version > fmt.current:
        raise fmt.error(
            f"{source}: {FIELD} {version} is newer than this deskmimic understands "
            f"({fmt.name} format {fmt.current}); upgrade deskmimic to read it"
        )
    floor = fmt.oldest if oldest is None else oldest
    if version < floor:
        lowest = f"{floor}" if floor == fmt.current else f"{floor} to {fmt.current}"
        raise fmt.error(
            f"{source}: {fmt.name} {FIELD} {version} is older than this deskmimic reads "
            f"({lowest}): {too_old or fmt.too_old}"
        )
    return version
