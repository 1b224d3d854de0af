"""Where SQLite's and PostgreSQL's dialects differ, said once, for the readers and the writer.

Statements are written once, with ``?`` placeholders, in the SQL both servers speak (``RETURNING``,
``ON CONFLICT``, ``IS DISTINCT FROM``); the few constructs that differ are built here:

>>> in_list("sqlite", "t.id", [3, 1])
('t.id IN (SELECT value FROM json_each(?))', '[3, 1]')
>>> in_list("postgresql", "t.id", [3, 1])
('t.id = ANY(?)', [3, 1])
>>> glob_match("postgresql", "norm", "51F*4?")
('norm LIKE ?', '51F%4_')
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]


class Database(Protocol):
    """An index connection: :class:`sqlite3.Connection` or
    :class:`camfind.index.postgres.PgConnection` (``?`` placeholders on both)."""

    @property
    def in_transaction(self) -> bool: ...
    @property
    def total_changes(self) -> int: ...
    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...
    def executemany(self, sql: str, parameters: Any, /) -> Any: ...
    def close(self) -> None: ...


def in_list(dialect: Dialect, column: str, values: Iterable[Any]) -> tuple[str, Any]:
    """``column`` is one of ``values``: the condition (one placeholder) and its parameter."""
    items = list(values)
    if dialect == "postgresql":
        return f"{column} = ANY(?)", items
    return f"{column} IN (SELECT value FROM json_each(?))", json.dumps(items)


def glob_match(dialect: Dialect, column: str, pattern: str) -> tuple[str, str]:
    """``column`` matches a plate wildcard (``*`` any run, ``?`` one character; plate texts hold
    only letters and digits, so LIKE's own ``%``/``_`` cannot occur in them)."""
    if dialect == "postgresql":
        return f"{column} LIKE ?", pattern.replace("*", "%").replace("?", "_")
    return f"{column} GLOB ?", pattern


def named_rows(cursor: Any) -> Iterator[dict[str, Any]]:
    """A cursor's rows keyed by column name (either backend)."""
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))
