"""`camfind audit`: the append-only log of what was run on this index, and its integrity check."""

from __future__ import annotations

from typing import Annotated

import typer

from camfind.commands._common import CsvOpt, JsonOpt, emit_json, emit_rows, index_session, limit_option
from camfind.timeutil import iso_local, show_local

app = typer.Typer()


@app.command("audit")
def audit(
    check: Annotated[bool, typer.Option("--check", help="Verify the hash chain; exit 1 if an entry was edited.")]
    = False,
    expect: Annotated[
        str | None,
        typer.Option("--expect", help="With --check: an audit head printed earlier (64 hex digits); exit 1 unless "
                     "the chain still holds that entry (nothing removed or rewritten, no older index put back)."),
    ] = None,
    limit: Annotated[int | None, limit_option("Only the last N entries")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Show the audit log: time, OS user, command, arguments and counts of every command run on the index.

    Each entry carries the hash of the one before it; --check recomputes the chain, names the
    first entry that was edited, inserted or removed, and checks the triggers that keep the log
    append-only. Every command that writes prints the chain's head on stderr ("audit head HASH"):
    keep it, and --check --expect HASH later proves the index still holds that entry.

    Example: camfind audit --check --expect HASH (HASH: the audit head a command printed)
    """
    from camfind.audit import check as check_chain
    from camfind.audit import entries, parse_expected

    if expect is not None and not check:
        raise typer.BadParameter("--expect goes with --check", param_hint="--expect")
    wanted = None if expect is None else parse_expected(expect)
    with index_session("audit") as (index, counts):
        tz = index.tz
        if check:
            result = check_chain(index, expect=wanted)
            counts.update(entries=result.entries, ok=result.ok)
        else:
            found = entries(index, limit)
            counts["rows"] = len(found)
    if check:
        if as_json:
            emit_json({"ok": result.ok, "entries": result.entries, "first_broken": result.first_broken,
                       "reason": result.reason, "head": result.last_hash, "expected_found": result.expected_found})
        elif result.ok:
            held = "; it holds the expected entry" if wanted else ""
            typer.echo(f"audit chain intact: {result.entries} entries, append-only triggers in place{held}; "
                       f"head {result.last_hash}")
        else:
            typer.echo(f"audit chain BROKEN at {result.reason}")
        if not result.ok:
            raise typer.Exit(1)
        return
    rows = [
        {"id": e.id, "time": iso_local(e.time, tz), "user": e.user, "command": e.command,
         "args": e.args.get("argv", e.args), "counts": e.counts, "prev_hash": e.prev_hash, "hash": e.hash}
        for e in found
    ]
    if not (as_json or as_csv):
        rows = [{**r, "time": show_local(e.time, tz), "args": " ".join(_shown(str(a)) for a in r["args"]),
                 "counts": _shown(", ".join(f"{k}={v}" for k, v in e.counts.items() if k != "clip_ids")),
                 "hash": e.hash[:12]} for r, e in zip(rows, found, strict=True)]
    emit_rows("Audit log", rows, ("id", "time", "user", "command", "args", "counts", "hash"), as_json=as_json,
              as_csv=as_csv)


def _shown(text: str) -> str:
    """An argument as a terminal can show it: bytes of a name that is not UTF-8 as ``\\xNN``."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
