"""The case index: one SQLite file (WAL, foreign keys on, versioned schema).

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> idx.tz
'Asia/Ho_Chi_Minh'

Reads go through :mod:`camfind.index.queries`; every write goes through :class:`Writer`
(:mod:`camfind.index.writer`), in transactions.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from camfind.errors import IndexMissingError, SchemaError
from camfind.index.schema import SCHEMA_VERSION, migrate
from camfind.timeutil import DEFAULT_TZ, zone

DEFAULT_DB = "camfind.db"


def default_db_path() -> str:
    """``$CAMFIND_DB`` if set, else ``./camfind.db``."""
    return os.environ.get("CAMFIND_DB") or DEFAULT_DB


class Index:
    """An open case index. Use :meth:`open`; close it (or use it as a context manager)."""

    def __init__(self, db: sqlite3.Connection, path: str) -> None:
        self.db = db
        self.path = path
        self._tz: str | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = False, tz: str | None = None) -> Index:
        """Open (and migrate) the index at ``path``.

        Args:
            path: the SQLite file, or ``":memory:"``.
            create: make a new index if none exists; otherwise a missing file is an error.
            tz: the case time zone to record in a new index (default Asia/Ho_Chi_Minh).

        Raises:
            IndexMissingError: no index at ``path`` and ``create`` is false.
            SchemaError: the file is not a camfind index or is newer than this camfind.
        """
        where = str(path)
        if where != ":memory:" and not Path(where).exists() and not create:
            raise IndexMissingError(
                f"no index at {where}: run 'camfind cameras import FILE' first (it creates the index), "
                "or pass --db"
            )
        if where != ":memory:":
            Path(where).parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(where, isolation_level=None, timeout=30.0, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            migrate(db)
        except sqlite3.DatabaseError as exc:
            raise SchemaError(f"{where} is not a camfind index ({exc})") from None
        index = cls(db, where)
        if index.meta("timezone") is None:
            name = tz or DEFAULT_TZ
            zone(name)  # refuse an unknown zone before recording it
            index.writer.set_meta("timezone", name)
            index.writer.set_meta("schema_version", str(SCHEMA_VERSION))
        return index

    @property
    def tz(self) -> str:
        """The case time zone (an IANA name)."""
        if self._tz is None:
            self._tz = self.meta("timezone") or DEFAULT_TZ
        return self._tz

    @property
    def writer(self) -> Writer:
        """The one writer of this index."""
        return Writer(self)

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception (Ctrl-C included)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


from camfind.index.writer import Writer  # noqa: E402  (Writer needs Index defined)

__all__ = ["DEFAULT_DB", "Index", "Writer", "default_db_path"]
