"""The shared case index on PostgreSQL (psycopg 3), beside the SQLite default.

``--db postgresql://user@host/case`` (or ``$CAMFIND_DB``) opens a case kept on a PostgreSQL
server: several analysts search it while ingests and analyses write from other machines.
:class:`PgConnection` gives the rest of :mod:`camfind.index` the calling convention of SQLite's
connection (``?`` placeholders, ``execute`` returning a cursor, ``in_transaction``,
``total_changes``), so readers and the one writer run the same statements on both backends;
where the dialects differ, :mod:`camfind.index.sql` says it once. Driver errors become
camfind's one-line :class:`~camfind.errors.StorageError` or :class:`~camfind.errors.SchemaError`
here, with the password never shown.

Writers take a transaction-scoped advisory lock (:data:`WRITE_LOCK`): one writer at a time per
case, as SQLite's ``BEGIN IMMEDIATE`` gives, so two machines never register one clip twice and
the audit chain stays one chain; readers never wait (MVCC).

>>> redact("postgresql://ana:secret@db.ward7/case")
'postgresql://ana:***@db.ward7/case'
>>> to_pg("SELECT '?' , ? FROM t WHERE x LIKE '10%' AND y = ?")
"SELECT '?' , %s FROM t WHERE x LIKE '10%%' AND y = %s"
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from camfind.errors import IndexMissingError, InputError, SchemaError, StorageError

logger = logging.getLogger(__name__)

#: URL schemes that name a PostgreSQL index.
SCHEMES = ("postgresql://", "postgres://")
#: The advisory lock every write transaction holds (per database schema, see :func:`begin_write`).
WRITE_LOCK = "camfind-writer"
#: Seconds to wait for a server to answer a connection.
CONNECT_TIMEOUT_S = 10
#: Connections kept open per case URL in one process.
POOL_MAX = 4
#: Names the server-side cursors of :meth:`PgConnection.stream`.
_STREAMS = itertools.count(1)


def is_url(where: str) -> bool:
    """True when ``where`` names a PostgreSQL index rather than an SQLite file."""
    return where.startswith(SCHEMES)


def redact(url: str) -> str:
    """The URL with its password hidden (for messages and the audit log)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://(unparseable URL)"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@lru_cache(maxsize=2048)
def to_pg(sql: str) -> str:
    """An SQLite-style statement (``?`` placeholders) in psycopg's form (``%s``; ``%`` doubled),
    leaving quoted literals and identifiers as they are."""
    out: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise InputError("a PostgreSQL index needs the postgresql extra: pip install 'camfind[postgresql]'") from None
    return psycopg


class PgConnection:
    """One pooled psycopg connection (autocommit; transactions are explicit), driven with SQLite's
    conventions. Use :func:`connect`."""

    dialect = "postgresql"

    def __init__(self, conn: Any, url: str, pool: Any) -> None:
        self._conn = conn
        self._pool = pool
        self.url = url
        self.shown = redact(url)
        self._changes = 0

    # -- the sqlite3.Connection surface used by camfind -------------------------------------------
    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        with self._translated():
            cur = self._conn.execute(to_pg(sql), tuple(parameters) if parameters else None)
            self._count(cur)
            return cur

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]], /) -> Any:
        rows = [tuple(p) for p in seq]
        with self._translated():
            cur = self._conn.cursor()
            if rows:
                cur.executemany(to_pg(sql), rows)
                self._changes += max(cur.rowcount, 0)
            return cur

    def insert_returning_ids(self, sql: str, rows: Sequence[Sequence[Any]]) -> list[int]:
        """Insert many rows with one ``... RETURNING id`` statement, pipelined; the ids in order."""
        if not rows:
            return []
        with self._translated():
            cur = self._conn.cursor()
            cur.executemany(to_pg(sql), [tuple(r) for r in rows], returning=True)
            ids = []
            while True:
                ids.append(int(cur.fetchone()[0]))
                if not cur.nextset():
                    break
            self._changes += len(ids)
            return ids

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Load ``rows`` into ``table`` with the COPY protocol (row triggers fire, as for INSERT);
        the number of rows. Inside the caller's transaction, if one is open.

        Raises:
            SchemaError: a row the table refuses (a value of the wrong type, a broken reference).
            StorageError: the server is gone, full or refuses the write.
        """
        psycopg = _driver()
        names = ", ".join(f'"{c}"' for c in columns)
        n = 0
        try:
            with self._translated():
                cur = self._conn.cursor()
                with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        n += 1
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            raise SchemaError(f"{self.shown} refuses a row of {table} ({_first_line(exc)})") from None
        self._changes += n
        return n

    @contextmanager
    def triggers_off(self, table: str, triggers: Sequence[str]) -> Iterator[bool]:
        """Inside the caller's transaction, ``table``'s ``triggers`` off (for a bulk load whose
        effect the caller applies set-wise) and on again before it commits; if anything fails, the
        transaction's rollback restores them. Yields False, leaving them on, where this role may not
        alter the table (it does not own it). Other sessions wait for the commit to use the table.
        """
        if not triggers:
            yield False
            return
        psycopg = _driver()
        names = ", ".join(triggers)
        with self._translated():
            self._conn.execute("SAVEPOINT camfind_triggers")
            try:
                for trigger in triggers:
                    self._conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            except psycopg.errors.InsufficientPrivilege:
                self._conn.execute("ROLLBACK TO SAVEPOINT camfind_triggers")
                logger.info("cannot turn off %s on %s (not its owner): they fire row by row", names, table)
                yield False
                return
            self._conn.execute("RELEASE SAVEPOINT camfind_triggers")
        yield True
        with self._translated():
            for trigger in triggers:
                self._conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")

    def stream(self, sql: str, parameters: Sequence[Any] = (), size: int = 5000) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, fetched ``size`` at a time through a server-side cursor, so a
        table of millions of rows never sits whole in this process. Outside a transaction the
        rows come from one read-only snapshot (a transaction of its own, ended when done)."""
        own = not self.in_transaction
        with self._translated():
            if own:
                self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                cur = self._conn.cursor(name=f"camfind_stream_{next(_STREAMS)}")
                cur.itersize = size
                cur.execute(to_pg(sql), tuple(parameters) if parameters else None)
                yield from cur
                cur.close()
            finally:
                if own and self._conn is not None and not self._conn.closed:
                    self._conn.execute("ROLLBACK")

    def executescript(self, script: str) -> None:
        """Run several statements (no parameters), as one round trip."""
        with self._translated():
            self._conn.execute(script)

    @property
    def in_transaction(self) -> bool:
        psycopg = _driver()
        return bool(self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)

    @property
    def total_changes(self) -> int:
        """Rows inserted, updated or deleted through this connection (as SQLite counts them)."""
        return self._changes

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self._pool is not None and not conn.closed:
                self._pool.putconn(conn)
            else:
                conn.close()
        except Exception as exc:  # a connection the server already dropped
            logger.debug("closing a PostgreSQL connection: %s", exc)

    # -- internals ----------------------------------------------------------------------------------
    def _count(self, cur: Any) -> None:
        status = (cur.statusmessage or "").split(" ", 1)[0]
        if status in ("INSERT", "UPDATE", "DELETE") and cur.rowcount > 0:
            self._changes += cur.rowcount

    def _translated(self) -> Any:
        return translated(self.shown)


class translated:  # noqa: N801  (used as a context manager, like contextlib's)
    """Turn psycopg's operational errors (server gone, refused, full, locked) into one-line
    :class:`StorageError` naming the case; programming errors pass through as bugs."""

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> Literal[False]:
        if exc is None:
            return False
        problem = storage_problem(exc, self.shown)
        if problem is not None:
            raise problem from None
        return False


def storage_problem(exc: BaseException, shown: str) -> StorageError | None:
    """The one line for a PostgreSQL failure that is the server's or the network's, else None."""
    try:
        import psycopg
        from psycopg import errors as pgerr
    except ImportError:
        return None
    if not isinstance(exc, psycopg.Error):
        return None
    detail = _first_line(exc)
    if isinstance(exc, pgerr.LockNotAvailable | pgerr.QueryCanceled):
        return StorageError(f"the index {shown} is locked by another camfind command writing to it: "
                            "wait for it to finish and run the command again")
    if isinstance(exc, pgerr.DiskFull | pgerr.InsufficientResources | pgerr.OutOfMemory):
        return StorageError(f"cannot write the index {shown}: the server is out of space or memory ({detail}); "
                            "what was already committed is kept")
    if isinstance(exc, pgerr.InsufficientPrivilege | pgerr.ReadOnlySqlTransaction):
        return StorageError(f"cannot write the index {shown}: {detail}; ask the case's administrator for write "
                            "access (camfind records every command in the audit log)")
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return StorageError(f"lost the connection to the index {shown} ({detail}): what was already committed "
                            "is kept; run the command again to resume")
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].strip() if text else type(exc).__name__


# -- connecting -------------------------------------------------------------------------------------
_POOLS: dict[str, Any] = {}
_POOLS_LOCK = threading.Lock()


def connect(url: str) -> PgConnection:
    """A connection to the case at ``url``, from this process's pool for it.

    Raises:
        StorageError: the server cannot be reached, or refuses the user or password.
        IndexMissingError: the server has no such database.
    """
    psycopg = _driver()
    shown = redact(url)
    try:  # the first connection tells why it fails, in the server's words
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise _connect_error(exc, shown) from None
    except ValueError as exc:  # a URL psycopg cannot parse
        raise InputError(f"{shown} is not a PostgreSQL URL camfind can use: {exc}") from None
    pool = _pool(url)
    if pool is None:
        return PgConnection(conn, url, None)
    conn.close()
    try:
        pooled = pool.getconn(timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:  # the pool could not open one in time
        raise StorageError(f"cannot connect to the index {shown}: {_first_line(exc)}") from None
    return PgConnection(pooled, url, pool)


def _pool(url: str) -> Any:
    try:
        from psycopg_pool import ConnectionPool
    except ImportError:
        return None
    with _POOLS_LOCK:
        pool = _POOLS.get(url)
        if pool is None:
            pool = ConnectionPool(url, min_size=1, max_size=POOL_MAX, open=True,
                                  kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                                  check=ConnectionPool.check_connection)
            _POOLS[url] = pool
        return pool


def close_pools() -> None:
    """Close every pooled connection of this process (tests; a long-lived worker shutting down)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close()


def _connect_error(exc: BaseException, shown: str) -> Exception:
    text = _first_line(exc)
    low = str(exc).lower()
    if "does not exist" in low and "database" in low:
        return IndexMissingError(f"no database at {shown} ({text}): create it on the server "
                                 "(createdb), then run 'camfind cameras import FILE' with --db pointing at it")
    if "password" in low or "authentication" in low:
        return StorageError(f"the server refused the login to {shown}: wrong user or password ({text})")
    return StorageError(f"cannot connect to the index {shown}: {text}; is the server running and reachable "
                        "from this machine?")


# -- schema -----------------------------------------------------------------------------------------
def tables(db: PgConnection) -> list[str]:
    """The tables of the connection's current schema."""
    rows = db.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                      "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
    return [str(r[0]) for r in rows]


def refuse_foreign(db: PgConnection, create: bool) -> None:
    """Refuse a database of another program before anything is written to it, and an empty one
    unless ``create`` (as for SQLite files)."""
    found = tables(db)
    if not found and not create:
        raise IndexMissingError(f"{db.shown} holds no camfind index: run 'camfind cameras import FILE' "
                                "with this --db to create one there")
    if found and "schema_migrations" not in found:
        shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
        raise SchemaError(f"{db.shown} is a database of another program (tables: {shown}), not a camfind index; "
                          "it was left untouched")


def migrate(db: PgConnection, migrations: Sequence[tuple[str, str]], version_max: int) -> int:
    """Apply pending PostgreSQL migrations in order, each in its own transaction, holding a
    session lock so that two processes opening a new case never migrate it twice."""
    from datetime import UTC, datetime

    db.execute("SELECT pg_advisory_lock(hashtext(current_schema() || ':camfind-migrate'))")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                   "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts DOUBLE PRECISION NOT NULL)")
        version = int(db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0])
        if version > version_max:
            raise SchemaError(f"index schema version {version} is newer than this camfind ({version_max}): "
                              "upgrade camfind")
        for number, (name, script) in enumerate(migrations[version:], start=version + 1):
            db.execute("BEGIN")
            try:
                db.executescript(script)
                db.execute("INSERT INTO schema_migrations (version, name, applied_ts) VALUES (?, ?, ?)",
                           (number, name, datetime.now(UTC).timestamp()))
                db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(number),))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
    finally:
        if not db.in_transaction:
            db.execute("SELECT pg_advisory_unlock(hashtext(current_schema() || ':camfind-migrate'))")
    return version_max


def begin_write(db: PgConnection, wait_s: float) -> None:
    """``BEGIN`` and take the case's write lock, waiting up to ``wait_s`` for another writer."""
    db.execute("BEGIN")
    db.execute(f"SET LOCAL lock_timeout = '{int(max(wait_s, 0.001) * 1000)}ms'")
    db.execute(f"SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':{WRITE_LOCK}'))")
