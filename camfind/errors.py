"""Named errors. The library raises these; the CLI edge turns each into one line on stderr."""

from __future__ import annotations


class CamfindError(Exception):
    """Base of every error camfind reports to a user (exit code 2 unless stated)."""

    exit_code = 2


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a stopped container), raised by the CLI's signal handler:
    unwound like Ctrl-C, so cleanup runs (exit code 143). Catch it before KeyboardInterrupt to
    tell the two apart."""


class InputError(CamfindError):
    """Bad user input: a malformed time, an unreadable file, a bad column value."""


class NoUsableFaceError(InputError):
    """A face probe holds no face that can be matched. ``reason`` says why: ``none`` (no face
    found), ``small`` (too few pixels) or ``blurred``."""

    def __init__(self, message: str, reason: str = "none") -> None:
        super().__init__(message)
        self.reason = reason


class NotFoundError(CamfindError):
    """Something named does not exist: an unknown camera, clip, track or file."""


class IndexMissingError(CamfindError):
    """The index file does not exist (and the command does not create one)."""


class SchemaError(CamfindError):
    """The index was written by a newer camfind, or is not a camfind index."""


class ClipError(CamfindError):
    """A clip cannot be registered: corrupt, truncated, empty or unsupported."""


class StartTimeError(ClipError):
    """No start time could be established for a clip (asks for --start)."""


class ModelError(CamfindError):
    """A model file is missing or its hash does not match the recorded one."""


class EvidenceError(CamfindError):
    """An evidence package would be overwritten, or does not verify."""


class StorageError(CamfindError):
    """The disk refused: full, read-only, not permitted, failing, or the index is locked."""


class DamagedIndexError(StorageError):
    """The index file is damaged (SQLite finds it malformed): restore it from a backup."""
