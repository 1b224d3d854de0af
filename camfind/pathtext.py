"""File names that are not valid UTF-8 (legacy code-page DVR exports), kept exact and shown safely.

Python gives such a name as a ``str`` with lone surrogates (``os.fsdecode``'s surrogateescape):
it opens the file, but cannot be written to SQLite, JSON or a terminal as it is. Where a path is
shown or stored as text it is :func:`shown` (the bytes that are not UTF-8 as ``\\xNN``); the index
keeps the exact bytes beside it (:func:`exact_bytes`) and :func:`restored` gives the path back.

>>> odd = os.fsdecode(b"/exports/cam\\xe1p.mp4")
>>> shown(odd)
'/exports/cam\\\\xe1p.mp4'
>>> restored(shown(odd), exact_bytes(odd)) == odd
True
>>> exact_bytes("/exports/cam.mp4") is None
True
"""

from __future__ import annotations

import os


def shown(path: str | os.PathLike[str]) -> str:
    """The path as valid text: bytes that are not UTF-8 written as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def exact_bytes(path: str | os.PathLike[str]) -> bytes | None:
    """The path's bytes when its text form (:func:`shown`) is not the path itself, else None."""
    raw = os.fsencode(path)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    return None


def restored(text: str, raw: bytes | None) -> str:
    """The openable path from what the index stores: the exact bytes where kept, else the text."""
    return text if raw is None else os.fsdecode(bytes(raw))
