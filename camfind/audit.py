"""The audit log: read it, and check its hash chain, its anchor and its append-only guard.

Each entry stores the hash of the previous one and its own hash over its fields
(:func:`camfind.index.writer.audit_hash`); :func:`check` recomputes both for every entry. That
proves only that the chain is consistent with itself: whoever can write the file could remove
the last entries, rewrite every hash, or put back an older copy of the index. So every command
that writes prints the chain's head (the last entry's hash) on stderr, every evidence package
records it, and ``check(index, expect=HASH)`` fails unless the chain still holds that entry. The
check also fails when the triggers that refuse updates and deletes of the log are gone or changed.

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> first = idx.writer.append_audit("officer", "clips", {"argv": ["clips"]}, {"rows": 0})
>>> check(idx).ok, check(idx, expect=first).ok, check(idx, expect="f" * 64).ok
(True, True, False)
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from camfind.errors import InputError
from camfind.index.queries import AuditEntry, audit_guard_triggers, audit_head, list_audit
from camfind.index.writer import GENESIS_HASH, audit_hash

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

#: The triggers that make the log append-only, as the schema creates them (whitespace aside).
GUARD_TRIGGERS = {
    "audit_no_update": "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
                       "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "audit_no_delete": "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
                       "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
}
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class AuditCheck:
    """Result of checking the chain: ``first_broken`` is the id of the first bad entry (None when
    what fails is the guard or the expected head)."""

    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str = ""
    last_hash: str = GENESIS_HASH
    expected_found: bool | None = None


def entries(index: Index, limit: int | None = None) -> list[AuditEntry]:
    """Audit entries, oldest first (the last ``limit`` if given)."""
    return list_audit(index, limit)


def head(index: Index) -> tuple[int, str] | None:
    """The last entry's id and hash (the chain's head), or None for an empty log."""
    return audit_head(index)


def parse_expected(text: str, what: str = "an audit head") -> str:
    """A hash given by the user with ``--expect`` (64 hex digits, any case).

    Raises:
        InputError: it is not 64 hexadecimal digits.
    """
    value = text.strip().lower()
    if not _HASH.fullmatch(value):
        raise InputError(f"--expect: expected the 64 hexadecimal digits of {what}, got {text!r}")
    return value


def check(index: Index, expect: str | None = None) -> AuditCheck:
    """Recompute the hash chain over every entry and report the first one that does not fit; then
    check the append-only triggers, and that the chain holds the entry ``expect`` (a head printed
    earlier: entries after it are fine, the log has grown)."""
    rows = list_audit(index)
    prev = GENESIS_HASH
    hashes = set()
    for entry in rows:
        if entry.prev_hash != prev:
            return _broken(len(rows), entry, "its previous-hash does not match the entry before it "
                                              "(an entry before it was edited, removed or inserted)")
        expected = audit_hash(entry.prev_hash, entry.ts, entry.user, entry.command, entry.args_json,
                              entry.counts_json)
        if expected != entry.hash:
            return _broken(len(rows), entry, "its contents do not match its hash (the entry was edited)")
        prev = entry.hash
        hashes.add(entry.hash)
    guard = guard_problem(index)
    if guard is not None:
        return AuditCheck(False, len(rows), None, guard, prev)
    if expect is not None and expect not in hashes:
        return AuditCheck(False, len(rows), None, f"the expected entry {expect} is not in the chain: entries were "
                          "removed, the chain was rewritten, or an older copy of the index was put back", prev, False)
    return AuditCheck(True, len(rows), last_hash=prev, expected_found=None if expect is None else True)


#: On PostgreSQL: the guard triggers and the function they run (which must refuse).
PG_GUARD_TRIGGERS = ("audit_no_delete", "audit_no_truncate", "audit_no_update")
PG_GUARD_BODY = "RAISE EXCEPTION 'audit is append-only'"


def guard_problem(index: Index) -> str | None:
    """What is wrong with the triggers that keep the log append-only, or None."""
    if index.dialect == "postgresql":
        return _pg_guard_problem(index)
    found = {name: sql for name, (_, sql) in audit_guard_triggers(index).items()}
    for name, sql in GUARD_TRIGGERS.items():
        if name not in found:
            return f"the append-only trigger {name} is missing: the log could have been edited without a trace"
        if found[name] != sql:
            return f"the append-only trigger {name} was changed: {found[name]}"
    extra = sorted(set(found) - set(GUARD_TRIGGERS))
    if extra:
        return f"unexpected trigger(s) on the audit log: {', '.join(extra)}"
    return None


def _pg_guard_problem(index: Index) -> str | None:
    found = audit_guard_triggers(index)
    for name in PG_GUARD_TRIGGERS:
        if name not in found:
            return f"the append-only trigger {name} is missing: the log could have been edited without a trace"
        enabled, body = found[name]
        if not enabled:
            return f"the append-only trigger {name} is disabled: the log could have been edited without a trace"
        if PG_GUARD_BODY not in body:
            return f"the append-only trigger {name} was changed: it no longer refuses ({' '.join(body.split())})"
    extra = sorted(set(found) - set(PG_GUARD_TRIGGERS))
    if extra:
        return f"unexpected trigger(s) on the audit log: {', '.join(extra)}"
    return None


def _broken(n: int, entry: AuditEntry, reason: str) -> AuditCheck:
    logger.info("audit entry %d broken: %s", entry.id, reason)  # the report names it
    return AuditCheck(False, n, entry.id, f"entry {entry.id} ({entry.command}): {reason}")
