"""The distinct-plate vocabulary (``plate_vocab``, kept by triggers) as each backend serves it.

The rules of plate matching (patterns, look-alikes, the pigeonhole pieces of a fuzzy pattern, the
weighted distance) live in :mod:`camfind.search.plates` and are the same on both backends; this
module only turns them into candidates the database selects: SQLite through its ``GLOB`` range
scans and FTS5 trigram table, PostgreSQL through ``LIKE`` and regular expressions answered by its
``pg_trgm`` index. Only candidates reach Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from camfind.index.sql import glob_match, in_list

if TYPE_CHECKING:
    from camfind.index import Index


@dataclass(frozen=True)
class Piece:
    """One pigeonhole piece of a fuzzy pattern: its length, its spelling as character classes
    (``[5S][1ITL]F``), and every spelling with look-alikes (None when there are too many)."""

    length: int
    classes: str
    variants: tuple[str, ...] | None


def _norms(rows: Iterable[Sequence[object]]) -> list[str]:
    return [str(r[0]) for r in rows]


def has(index: Index, norm: str) -> bool:
    """True when some read or track carries the plate text ``norm``."""
    return index.db.execute("SELECT 1 FROM plate_vocab WHERE norm = ?", (norm,)).fetchone() is not None


def existing(index: Index, norms: Iterable[str]) -> set[str]:
    """Of ``norms``, the plate texts the index holds (one lookup for a whole watchlist)."""
    wanted = sorted(set(norms))
    if not wanted:
        return set()
    cond, param = in_list(index.dialect, "norm", wanted)
    return set(_norms(index.db.execute(f"SELECT norm FROM plate_vocab WHERE {cond}", (param,))))


def wildcard(index: Index, glob: str, literal_prefix: str, runs: Sequence[str]) -> list[str]:
    """Plate texts matching ``glob`` (``*`` any run, ``?`` one character). ``runs``: its literal
    runs of 3 or more, which SQLite's trigram table looks up when there is no literal prefix."""
    cond, param = glob_match(index.dialect, "norm", glob)
    if literal_prefix or not runs or index.dialect == "postgresql":
        return _norms(index.db.execute(f"SELECT norm FROM plate_vocab WHERE {cond}", (param,)))
    return _norms(index.db.execute(
        f"SELECT norm FROM plate_vocab WHERE {cond} AND id IN "
        "(SELECT rowid FROM plate_vocab_fts WHERE plate_vocab_fts MATCH ?)",
        (param, " AND ".join(f'"{r}"' for r in runs)),
    ))


def by_length(index: Index, lo: int, hi: int) -> list[str]:
    """Every plate text of ``lo`` to ``hi`` characters."""
    return _norms(index.db.execute("SELECT norm FROM plate_vocab WHERE length(norm) BETWEEN ? AND ?", (lo, hi)))


def containing_any(index: Index, lo: int, hi: int, pieces: Sequence[Piece]) -> list[str]:
    """Plate texts of ``lo`` to ``hi`` characters holding at least one of ``pieces`` (in any of
    its look-alike spellings)."""
    if index.dialect == "postgresql":
        regex = "|".join(p.classes for p in pieces)
        sql = "SELECT norm FROM plate_vocab WHERE length(norm) BETWEEN ? AND ? AND norm ~ ?"
        return _norms(index.db.execute(sql, (lo, hi, regex)))
    if all(p.length >= 3 and p.variants is not None for p in pieces):
        match = " OR ".join(f'"{v}"' for p in pieces for v in p.variants or ())
        sql = ("SELECT norm FROM plate_vocab WHERE length(norm) BETWEEN ? AND ? AND id IN "
               "(SELECT rowid FROM plate_vocab_fts WHERE plate_vocab_fts MATCH ?)")
        return _norms(index.db.execute(sql, (lo, hi, match)))
    globs = ["*" + p.classes + "*" for p in pieces]
    sql = "SELECT norm FROM plate_vocab WHERE length(norm) BETWEEN ? AND ? AND ("
    sql += " OR ".join(["norm GLOB ?"] * len(globs)) + ")"
    return _norms(index.db.execute(sql, (lo, hi, *globs)))
