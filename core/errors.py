"""The error tree every part of deskmimic raises from.

Messages name the file, field or argument at fault and say what to do next;
the CLI prints them without a traceback and exits non-zero.
"""

from __future__ import annotations


class DeskmimicError(Exception):
    """Base of every error deskmimic raises on purpose."""

    exit_code = 2


class ConfigError(DeskmimicError, ValueError):
    """A setting or argument is invalid; the message names it."""


class DisplayError(DeskmimicError):
    """No usable display: DISPLAY unset, a Wayland session, or X refused us."""


class CaptureError(DeskmimicError):
    """The screen could not be captured."""


class InputError(DeskmimicError):
    """Input could not be listened to or injected."""


class EpisodeError(DeskmimicError):
    """Base for problems with an episode folder."""


class EpisodeFormatError(EpisodeError):
    """An episode on disk is missing, corrupt or of an unknown format version."""


class EpisodeExistsError(EpisodeError, FileExistsError):
    """Refusing to overwrite an existing episode folder."""


class CheckpointError(DeskmimicError):
    """A checkpoint is missing, corrupt or does not match the config."""


class FormatVersionError(DeskmimicError):
    """A file's ``format_version`` is newer than this deskmimic reads, or older than it
    still supports (`deskmimic.core.formats`). Caught alone by whoever wants to tell
    "upgrade deskmimic" apart from "the file is corrupt"; the subclasses below keep each
    artifact's own error type, so existing ``except EpisodeFormatError`` still catch them."""


class EpisodeVersionError(EpisodeFormatError, FormatVersionError):
    """An episode's meta.json has a format_version this deskmimic does not read."""


class CheckpointVersionError(CheckpointError, FormatVersionError):
    """A checkpoint's config.json has a format_version this deskmimic does not read."""


class RunVersionError(ConfigError, FormatVersionError):
    """A training run's config.json has a format_version this deskmimic does not read."""


class TaskError(DeskmimicError):
    """A practice task could not be started or reported no result."""


def describe_error(exc: BaseException) -> str:
    """A one-line message for people: ours already say what to do; others get their type.

    Shared by the GUI's banners and its Qt-free training child process, which reports a
    failure as text over a pipe.
    """
    if isinstance(exc, DeskmimicError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return f"Unexpected error ({type(exc).__name__}): {exc}. Details are in the log."
