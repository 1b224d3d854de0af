"""The case index: one SQLite file (WAL, foreign keys on, versioned schema), or a shared case on a
PostgreSQL server (``postgresql://user@host/case``, :mod:`camfind.index.postgres`).

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> idx.tz
'Asia/Ho_Chi_Minh'

Reads go through :mod:`camfind.index.queries`; every write goes through :class:`Writer`
(:mod:`camfind.index.writer`), in transactions.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from camfind.errors import IndexMissingError, InputError, SchemaError, StorageError
from camfind.index import postgres
from camfind.index.pg_schema import PG_SCRIPTS
from camfind.index.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from camfind.index.sql import Database, Dialect
from camfind.index.storage import (
    damaged_index,
    index_problem,
    is_damage_error,
    is_storage_error,
    os_problem,
    readonly_reason,
)
from camfind.timeutil import DEFAULT_TZ, zone

DEFAULT_DB = "camfind.db"
#: SQLite waits this long for a lock inside one call (Python cannot take Ctrl-C meanwhile).
BUSY_STEP_S = 0.5
#: How long a write waits in all for another process's transaction to end.
LOCK_WAIT_S = 60.0
logger = logging.getLogger(__name__)


def default_db_path() -> str:
    """``$CAMFIND_DB`` if set, else ``./camfind.db``."""
    return os.environ.get("CAMFIND_DB") or DEFAULT_DB


class Index:
    """An open case index. Use :meth:`open`; close it (or use it as a context manager)."""

    def __init__(self, db: Database, path: str, dialect: Dialect = "sqlite") -> None:
        self.db = db
        self.path = path
        #: ``sqlite`` or ``postgresql``: where statements differ (:mod:`camfind.index.sql`).
        self.dialect: Dialect = dialect
        self._tz: str | None = None
        #: How long a write waits for another process's transaction (see :meth:`transaction`).
        self.lock_wait_s = LOCK_WAIT_S

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = False, tz: str | None = None) -> Index:
        """Open (and migrate) the index at ``path``.

        Args:
            path: the SQLite file, or ``":memory:"``.
            create: make a new index if none exists; otherwise a missing file is an error.
            tz: the case time zone to record in a new index (default Asia/Ho_Chi_Minh).

        Raises:
            IndexMissingError: no index at ``path`` (or an empty file) and ``create`` is false.
            InputError: ``path`` is a folder or not a regular file.
            SchemaError: the file is not a camfind index (another program's SQLite database is
                refused before anything is written to it), is damaged, or is newer than this camfind.
            StorageError: the index cannot be written (read-only, disk full, locked).
        """
        where = str(path)
        if tz is not None:
            zone(tz)  # an unknown zone is refused before any file is created
        if postgres.is_url(where):
            return cls._open_postgres(where, create=create, tz=tz)
        if where != ":memory:":
            _check_location(Path(where), create)
        try:
            db = sqlite3.connect(where, isolation_level=None, timeout=BUSY_STEP_S, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _open_error(where, exc) from None
        try:
            _refuse_foreign(db, where, create)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA busy_timeout={int(BUSY_STEP_S * 1000)}")
            migrate(db)
            index = cls(db, where)
            index._first_meta(tz)
        except BaseException as exc:
            db.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise _open_error(where, exc) from None
            if isinstance(exc, SchemaError):
                raise SchemaError(f"{where}: {exc}") from None
            raise
        return index

    @classmethod
    def _open_postgres(cls, url: str, *, create: bool, tz: str | None) -> Index:
        db = postgres.connect(url)
        try:
            postgres.refuse_foreign(db, create)
            postgres.migrate(db, [(name, PG_SCRIPTS[name]) for name, _ in MIGRATIONS], SCHEMA_VERSION)
            index = cls(db, url, "postgresql")
            index._first_meta(tz)
        except BaseException as exc:
            db.close()
            if isinstance(exc, SchemaError) and db.shown not in str(exc):
                raise SchemaError(f"{db.shown}: {exc}") from None
            raise
        return index

    def _first_meta(self, tz: str | None) -> None:
        if self.meta("timezone") is None:
            with self.transaction():
                self.writer.set_meta("timezone", tz or DEFAULT_TZ)
                self.writer.set_meta("schema_version", str(SCHEMA_VERSION))

    @property
    def shown(self) -> str:
        """The index as named in messages: its file, or its URL without the password."""
        return postgres.redact(self.path) if self.dialect == "postgresql" else self.path

    @property
    def is_file(self) -> bool:
        """True for an SQLite index on disk (files kept beside it: snapshots, caches, backups)."""
        return self.dialect == "sqlite" and self.path != ":memory:"

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
    def transaction(self) -> Iterator[Database]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception (Ctrl-C included).

        While another process holds the write lock, waits up to :attr:`lock_wait_s` in steps of
        :data:`BUSY_STEP_S` (so Ctrl-C is honoured within a step), saying once that it waits.
        """
        try:
            self._begin()
            yield self.db
        except BaseException:  # Ctrl-C may land just after BEGIN succeeded, before the body runs
            self.rollback_open_transaction()
            raise
        try:
            self.db.execute("COMMIT")
        except BaseException:  # e.g. disk full at commit: leave no transaction open behind
            self.rollback_open_transaction()
            raise

    def _begin(self) -> None:
        if isinstance(self.db, postgres.PgConnection):
            postgres.begin_write(self.db, self.lock_wait_s)
            return
        started = time.monotonic()
        warned = False
        while True:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                waited = time.monotonic() - started
                if "locked" not in str(exc) or waited > self.lock_wait_s:
                    raise
                if not warned and waited >= 2 * BUSY_STEP_S:
                    logger.warning("the index %s is locked by another camfind command; waiting up to %.0f s "
                                   "(Ctrl-C to stop)", self.path, self.lock_wait_s)
                    warned = True

    def rollback_open_transaction(self) -> None:
        """Roll back a transaction left open by an interruption (a no-op when none is open)."""
        if self.db.in_transaction:
            try:
                self.db.execute("ROLLBACK")
            except (sqlite3.Error, StorageError) as exc:  # already rolled back (full disk, I/O error, server gone)
                logger.debug("rollback after a failed transaction: %s", exc)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def first_command(path: Path) -> str | None:
    """The first audit entry's command of the SQLite index file at ``path`` other than clip
    registrations (a clip's own entries may come before the run that made the case), read without
    opening the file as an index: read-only, nothing migrated or written. None when the file is
    no readable camfind index or its log holds no such entry.

    >>> import tempfile
    >>> first_command(Path(tempfile.mkdtemp()) / "none.db") is None
    True
    """
    if not path.is_file():
        return None
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)  # '#', '?' in names escaped
        try:
            row = con.execute(
                "SELECT command FROM audit WHERE command != 'register clip' ORDER BY id LIMIT 1").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


def _check_location(path: Path, create: bool) -> None:
    """Refuse, with a message naming it, a path that cannot be (or become) an index file."""
    if path.is_dir():
        raise InputError(f"{path} is a folder, not an index file: pass --db {path / DEFAULT_DB}")
    if not path.exists():
        if not create:
            raise IndexMissingError(
                f"no index at {path}: run 'camfind cameras import FILE' first (it creates the index), or pass --db"
            )
        blocker = next((d for d in path.parents if d.exists() and not d.is_dir()), None)
        if blocker is not None:
            raise InputError(f"cannot create the index {path}: {blocker} is a file, not a folder")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise (os_problem(exc) or StorageError(f"cannot create the folder of the index {path}: {exc}")) from None
    elif not path.is_file():
        raise InputError(f"{path} is not a regular file, so it cannot be an index")
    reason = readonly_reason(path)
    if reason is not None:
        raise StorageError(f"cannot write the index {path}: {reason}")


def _refuse_foreign(db: sqlite3.Connection, where: str, create: bool) -> None:
    """Refuse an SQLite file of another program before anything is written to it, and an empty
    one (a file made by hand, or an index whose creation was cut short) unless ``create``."""
    tables = [str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    unmigrated = tables == ["schema_migrations"] and db.execute("SELECT 1 FROM schema_migrations").fetchone() is None
    if (not tables or unmigrated) and not create:
        raise IndexMissingError(
            f"{where} holds no camfind index (an empty file, or its creation was cut short): "
            "run 'camfind cameras import FILE' to create one there"
        )
    if tables and "schema_migrations" not in tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise SchemaError(
            f"{where} is an SQLite database of another program (tables: {shown}), not a camfind index; "
            "it was left untouched"
        )


def _open_error(where: str, exc: sqlite3.Error) -> Exception:
    if is_storage_error(exc):
        return index_problem(where, exc, doing="open")
    if "file is not a database" in str(exc):
        return SchemaError(f"{where} is not a camfind index: SQLite cannot read it as a database ({exc}); "
                           "if it was one, it is damaged: restore it from a backup copy")
    if is_damage_error(exc):
        return damaged_index(where, exc)
    return SchemaError(f"{where} is not a camfind index ({exc})")


from camfind.index.writer import Writer  # noqa: E402  (Writer needs Index defined)

__all__ = ["DEFAULT_DB", "Index", "Writer", "default_db_path", "first_command"]
