"""The audit log: read it, and check its hash chain (an edited or removed entry breaks it).

Each entry stores the hash of the previous one and its own hash over its fields
(:func:`camfind.index.writer.audit_hash`); :func:`check` recomputes both for every entry.

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> _ = idx.writer.append_audit("officer", "clips", {"argv": ["clips"]}, {"rows": 0})
>>> check(idx).ok
True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from camfind.index.queries import AuditEntry, list_audit
from camfind.index.writer import GENESIS_HASH, audit_hash

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditCheck:
    """Result of checking the chain: ``first_broken`` is the id of the first bad entry."""

    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str = ""
    last_hash: str = GENESIS_HASH


def entries(index: Index, limit: int | None = None) -> list[AuditEntry]:
    """Audit entries, oldest first (the last ``limit`` if given)."""
    return list_audit(index, limit)


def check(index: Index) -> AuditCheck:
    """Recompute the hash chain over every entry; report the first one that does not fit."""
    rows = list_audit(index)
    prev = GENESIS_HASH
    for entry in rows:
        if entry.prev_hash != prev:
            return _broken(len(rows), entry, "its previous-hash does not match the entry before it "
                                              "(an entry before it was edited, removed or inserted)")
        expected = audit_hash(entry.prev_hash, entry.ts, entry.user, entry.command, entry.args_json,
                              entry.counts_json)
        if expected != entry.hash:
            return _broken(len(rows), entry, "its contents do not match its hash (the entry was edited)")
        prev = entry.hash
    return AuditCheck(True, len(rows), last_hash=prev)


def _broken(n: int, entry: AuditEntry, reason: str) -> AuditCheck:
    logger.info("audit entry %d broken: %s", entry.id, reason)  # the report names it
    return AuditCheck(False, n, entry.id, f"entry {entry.id} ({entry.command}): {reason}")
