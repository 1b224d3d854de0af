"""Move a case between backends: a laptop's SQLite file into the shared PostgreSQL index, and back.

:func:`copy_index` copies every row of every table (ids kept, so snapshots, reads and the audit
chain keep pointing where they did) into a new, empty index, in one transaction of the
destination: all of it or nothing. Into PostgreSQL each table goes as one stream of the COPY
protocol (row triggers fire, as for inserts), except that the plate vocabulary counts a table's
plates in one statement after its stream, not by trigger row by row; SQLite's triggers rebuild it
as rows are inserted. Before committing, each table's row count and a SHA-256 over its rows (in
id order, values in one canonical form) are compared with the source's, the clips' content hashes
too, and the copied audit chain is verified; then both indexes record the copy in their audit logs.

>>> import pathlib, tempfile
>>> from camfind.index import Index
>>> from camfind.types import Camera
>>> src = Index.open(":memory:", create=True)
>>> _ = src.writer.upsert_cameras([Camera("CAM01", 10.77, 106.70)])
>>> result = copy_index(src, str(pathlib.Path(tempfile.mkdtemp()) / "copy.db"))
>>> result.rows["cameras"], result.verified
(1, True)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from camfind.errors import InputError, SchemaError
from camfind.index.pg_schema import VOCAB_TRIGGERS, vocab_count_sql
from camfind.index.postgres import PgConnection

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

#: Every table of a case, parents before children; ``plate_vocab`` is rebuilt by triggers.
TABLES: tuple[str, ...] = (
    "meta", "cameras", "camera_links", "clock_observations", "calibrations", "clock_estimates",
    "clips", "clip_copies", "analysis_runs", "snapshots", "tracks", "detections", "plate_reads",
    "face_sightings", "audit",
)
#: How each table's rows are ordered for copying and hashing.
ORDER: dict[str, str] = {"meta": "key", "camera_links": "a, b", "detections": "track_id, frame",
                         "calibrations": "camera_id", "cameras": "id"}
#: Meta keys that belong to the destination, not to the case (its own schema version).
OWN_META = frozenset({"schema_version"})
#: Rows per batch while copying.
BATCH = 5000

#: ``progress(rows copied, rows in all, table)``.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class CopyResult:
    """What :func:`copy_index` copied: rows per table, the SHA-256 of each table's rows (the same on
    both sides), the audit chain's head, and whether every check passed."""

    source: str
    dest: str
    rows: dict[str, int]
    digests: dict[str, str]
    audit_head: str
    verified: bool


def copy_index(source: Index, dest: str, *, progress: Progress | None = None) -> CopyResult:
    """Copy the case ``source`` into a new, empty index at ``dest`` (a file or a PostgreSQL URL).

    Raises:
        InputError: ``dest`` is the source itself, or already holds a case (cameras, clips or audit
            entries): a copy never merges into another case.
        SchemaError: the copy does not match the source (counts, hashes or audit chain); nothing
            was committed to ``dest``.
        StorageError: either side cannot be read or written.
    """
    from camfind.audit import check
    from camfind.index import Index

    if dest == source.path:
        raise InputError(f"{source.shown} cannot be copied onto itself: choose another destination")
    target = Index.open(dest, create=True, tz=source.tz)
    try:
        _require_empty(target)
        rows: dict[str, int] = {}
        digests: dict[str, str] = {}
        total = sum(int(source.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES)
        tick = _Ticker(progress, total)
        with target.transaction():
            for table in TABLES:
                rows[table], digests[table] = _copy_table(source, target, table, tick)
            _reset_ids(target)
            for table in TABLES:
                n, digest = _digest(target, table)
                if (n, digest) != (rows[table], digests[table]):
                    raise SchemaError(f"copy of {table} does not match {source.shown}: {n} rows "
                                      f"(source {rows[table]}), hash {digest[:12]} (source {digests[table][:12]}); "
                                      f"nothing was written to {target.shown}")
            audit = check(target)
            if not audit.ok:
                raise SchemaError(f"the audit chain copied to {target.shown} does not verify ({audit.reason}); "
                                  "nothing was written")
        counts = {"rows": sum(rows.values()), "clips": rows["clips"], "audit_head": audit.last_hash}
        target.writer.append_audit(_user(), "index copy", {"from": source.shown, "to": target.shown}, counts)
        source.writer.append_audit(_user(), "index copy (source)", {"from": source.shown, "to": target.shown}, counts)
        logger.info("copied %s to %s: %d rows", source.shown, target.shown, counts["rows"])
        return CopyResult(source.shown, target.shown, rows, digests, audit.last_hash, True)
    finally:
        target.close()


def _user() -> str:
    from camfind.index.writer import audit_user

    return audit_user()


def _require_empty(target: Index) -> None:
    for table in ("cameras", "clips", "audit"):
        if target.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
            raise InputError(f"{target.shown} already holds a case ({table} has rows): a copy goes into a new, "
                             "empty index, never merged into another case")


def _columns(index: Index, table: str) -> list[str]:
    cur = index.db.execute(f"SELECT * FROM {table} WHERE 1 = 0")
    return sorted(str(d[0]) for d in cur.description)


def _select(index: Index, table: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """The table's rows in copying order, streamed (a PostgreSQL table is never fetched whole)."""
    names = ", ".join(f'"{c}"' for c in columns)
    where = " WHERE key NOT IN ('schema_version')" if table == "meta" else ""
    sql = f"SELECT {names} FROM {table}{where} ORDER BY {ORDER.get(table, 'id')}"
    if isinstance(index.db, PgConnection):
        yield from index.db.stream(sql, size=BATCH)
    else:
        yield from index.db.execute(sql)


class _Ticker:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, table: str, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total, table)


def _copy_table(source: Index, target: Index, table: str, tick: _Ticker) -> tuple[int, str]:
    columns = _columns(source, table)
    missing = set(columns) - set(_columns(target, table))
    if missing:
        raise SchemaError(f"{target.shown} has no column(s) {', '.join(sorted(missing))} in {table}: "
                          "both indexes must be made by the same camfind")
    digest = hashlib.sha256()
    rows = _hashed(_select(source, table, columns), digest, lambda k: tick(table, k))
    if isinstance(target.db, PgConnection) and table != "meta":
        return _copy_stream(target.db, table, columns, rows), digest.hexdigest()
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    if table == "meta":  # the destination wrote its own time zone (the source's) on creation
        sql += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    n = 0
    for batch in _batches(rows):
        target.db.executemany(sql, batch)
        n += len(batch)
    return n, digest.hexdigest()


def _copy_stream(db: PgConnection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """Into PostgreSQL: one COPY stream for the table. Its plates join the vocabulary in one
    statement afterwards rather than by a trigger per row (the trigger is on again before commit)."""
    column_trigger = VOCAB_TRIGGERS.get(table)
    with db.triggers_off(table, [column_trigger[1]] if column_trigger else []) as off:
        n = db.copy_rows(table, columns, rows)
        if off:
            db.execute(vocab_count_sql(table))
    return n


def _hashed(rows: Iterable[tuple[Any, ...]], digest: Any, tick: Callable[[int], None]) -> Iterator[tuple[Any, ...]]:
    """``rows`` ready to store, each added to ``digest`` on the way; ``tick(n)`` every :data:`BATCH`."""
    n = 0
    for row in rows:
        digest.update(_canonical(row))
        yield tuple(_storable(v) for v in row)
        n += 1
        if n == BATCH:
            tick(n)
            n = 0
    if n:
        tick(n)


def _digest(index: Index, table: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    n = 0
    for row in _select(index, table, _columns(index, table)):
        digest.update(_canonical(row))
        n += 1
    return n, digest.hexdigest()


def _batches(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _storable(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def _canonical(row: Sequence[Any]) -> bytes:
    """One row in a form both backends give alike (floats by repr, bytes in hex)."""
    parts = []
    for v in row:
        if v is None:
            parts.append("N")
        elif isinstance(v, bytes | memoryview):
            parts.append("B" + bytes(v).hex())
        elif isinstance(v, float):
            parts.append("F" + repr(v))
        elif isinstance(v, bool | int):
            parts.append("I" + str(int(v)))
        else:
            parts.append("S" + str(v))
    return ("\x1f".join(parts) + "\x1e").encode("utf-8", "surrogatepass")


def _reset_ids(target: Index) -> None:
    """Let the destination's next ids follow the copied ones (PostgreSQL's identity sequences;
    SQLite follows the largest id by itself)."""
    if target.dialect != "postgresql":
        return
    for table in TABLES:
        if table in ORDER:
            continue
        target.db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")
