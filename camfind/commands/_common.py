"""What every command shares: opening the index with an audit entry, and rendering rows.

Data goes to stdout (table, ``--json``, ``--csv``); progress and messages go to stderr.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import sqlite3
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from typer.main import get_current_context  # type: ignore[attr-defined]

from camfind.csvsafe import SafeDictWriter
from camfind.errors import EvidenceError, InputError, StorageError
from camfind.index import Index, default_db_path
from camfind.index.storage import damaged_index, index_problem, is_damage_error, is_storage_error
from camfind.index.writer import audit_user
from camfind.numbers import parse_decimal
from camfind.timeutil import show_local

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")]
CsvOpt = Annotated[bool, typer.Option(
    "--csv", help="Print CSV to stdout (a text cell beginning with = + - @, a tab, a CR or ' gets a leading ' "
    "so spreadsheets never run it; --json keeps it as is).")]
#: The largest ``--limit`` accepted: more rows than any case holds, small enough for SQLite and slicing.
MAX_LIMIT = 1_000_000_000


def limit_option(help_text: str) -> Any:
    """A ``--limit N`` option bounded to 1..MAX_LIMIT (a larger number is refused as a usage error)."""
    return typer.Option("--limit", min=1, max=MAX_LIMIT, help=f"{help_text} (1 to {MAX_LIMIT:,}).")


#: Options (CLI.md) naming a file or folder a command writes: never evidence, the index or an input.
OUTPUT_OPTIONS = frozenset({"--out", "--html", "--geojson", "--package"})
#: How long the audit entry of a failed or interrupted command waits for a locked index.
FAILED_AUDIT_WAIT_S = 3.0

logger = logging.getLogger(__name__)
# Piped or redirected tables keep whole values on one line (rich would fold them at 80 columns).
out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True)


def db_path() -> str:
    return default_db_path()


def decimal_option(name: str, help_text: str, *, lo: float | None = None, hi: float | None = None) -> Any:
    """A ``--name NUMBER`` option read strictly (:func:`camfind.numbers.parse_decimal`): ``1_0.5``,
    ``nan``, ``inf`` and out-of-range values are one InputError line naming the option."""

    def parse(value: Any) -> float | None:
        if value is None or isinstance(value, float | int):
            return value
        try:
            number = parse_decimal(str(value))
        except ValueError as exc:
            raise InputError(f"{name}: {exc}") from None
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise InputError(f"{name} expects a number {_bounds(lo, hi)}, got {value!r}")
        return number

    shown = help_text if lo is None and hi is None else f"{help_text.rstrip('.')}; {_bounds(lo, hi)}."
    return typer.Option(name, parser=parse, metavar="NUMBER", help=shown)


def _bounds(lo: float | None, hi: float | None) -> str:
    if hi is None:
        return f"at least {lo:g}"
    return f"at most {hi:g}" if lo is None else f"from {lo:g} to {hi:g}"


@contextmanager
def index_session(
    command: str, *, create: bool = False, tz: str | None = None, path: str | None = None, writes: bool = False
) -> Iterator[tuple[Index, dict[str, Any]]]:
    """Open the index for one command and log it in the audit trail when the command ends.

    Yields the index and a ``counts`` dict the command fills (rows found, clips ingested...);
    the audit entry records the OS user, the command, its arguments, the counts and the outcome.
    ``tz`` is the case time zone recorded when ``create`` makes a new index; ``path`` overrides
    the index location (default ``--db`` / ``$CAMFIND_DB`` / ``./camfind.db``).

    A command that succeeded and changed the index, wrote an output option (``--out``...) or says
    it ``writes`` prints the audit chain's new head on stderr: the anchor outside the index that
    ``camfind audit --check --expect HASH`` checks later.
    """
    index = Index.open(path or db_path(), create=create, tz=tz)
    counts: dict[str, Any] = {}
    try:
        _guard_outputs(index)
        yield index, counts
    except BaseException as exc:
        counts["outcome"] = f"error: {type(exc).__name__}: {exc}"[:500]
        index.lock_wait_s = FAILED_AUDIT_WAIT_S  # an interrupted or failed command does not wait long
        index.rollback_open_transaction()
        try:  # no head on stderr here: a failure stays one line; the next command's head covers it
            recorded = _audit(index, command, counts, failing=True)
        finally:
            index.close()
        note = "" if recorded else " (this run could not be recorded in the audit log)"
        if is_damage_error(exc):
            raise damaged_index(index.path, exc) from None
        if is_storage_error(exc):
            raise StorageError(f"{index_problem(index.path, exc)}{note}") from None
        if note and isinstance(exc, StorageError):
            raise StorageError(f"{exc}{note}") from None
        raise
    counts["outcome"] = "ok"
    wrote = writes or index.db.total_changes > 0 or _output_given()
    try:
        _audit(index, command, counts, failing=False)
        if wrote:
            _show_head(index)
    finally:
        index.close()


def _output_given() -> bool:
    """Whether the running command was given an output option (``--out``, ``--html``...)."""
    ctx = get_current_context(silent=True)
    if ctx is None:
        return False
    return any(ctx.params.get(param.name or "") is not None for param in ctx.command.params
               if any(o in OUTPUT_OPTIONS for o in getattr(param, "opts", ())))


def _show_head(index: Index) -> None:
    """The audit chain's head on stderr: note it to prove later that nothing was removed or rewritten."""
    from camfind.audit import head

    found = head(index)
    if found is not None:
        typer.echo(f"camfind: audit head {found[1]} (entry {found[0]}); check it later with "
                   "camfind audit --check --expect HASH", err=True)


def _guard_outputs(index: Index) -> None:
    """Refuse an output option (``--out``, ``--html``, ``--geojson``, ``--package``) that names evidence.

    Checked here, once for every command that opens the index, from the running command's parsed
    options: writing a timeline over a registered clip, a snapshot or the index itself (or over a
    file the same command reads, such as the watchlist) would destroy what it reports on.
    """
    from camfind.custody import evidence_at

    ctx = get_current_context(silent=True)
    if ctx is None:
        return
    inputs = {name: value for name, value in ctx.params.items() if isinstance(value, Path) and value.is_file()}
    for param in ctx.command.params:
        option = next((o for o in getattr(param, "opts", ()) if o in OUTPUT_OPTIONS), None)
        target = ctx.params.get(param.name or "")
        if option is None or not isinstance(target, Path):
            continue
        what = evidence_at(index, target)
        if what is None:
            what = next((f"the {name.replace('_', ' ')} this command reads" for name, value in inputs.items()
                         if name != param.name and target.exists() and os.path.samefile(value, target)), None)
        if what is not None:
            raise EvidenceError(f"{option} {target} is {what}: camfind never overwrites evidence or the index; "
                                "choose another file")


def _audit(index: Index, command: str, counts: dict[str, Any], *, failing: bool) -> bool:
    """Append the command's audit entry. Returns False if a failing command could not be recorded.

    When the command itself failed, a storage failure here (the same full disk) must not hide
    the command's own error; when it succeeded, an unrecorded run is an error of its own.
    """
    try:
        index.writer.append_audit(audit_user(), command, {"argv": sys.argv[1:]}, counts)
    except sqlite3.DatabaseError as exc:
        if failing and is_damage_error(exc):  # the command's own error already says so
            logger.debug("audit entry of a failed %s not written: %s", command, exc)
            return False
        if is_damage_error(exc):
            raise damaged_index(index.path, exc) from None
        if not is_storage_error(exc):
            raise
        if failing:
            logger.debug("audit entry of a failed %s not written: %s", command, exc)
            return False
        problem = index_problem(index.path, exc)
        raise StorageError(f"{problem}; the command ran but could not be recorded in the audit log") from None
    return True


def show_span(start: datetime, end: datetime, tz: str, sep: str = " - ") -> str:
    """A time span for tables: the end's date is left out only when it is the start's date.

    >>> from datetime import UTC, datetime
    >>> show_span(datetime(2024, 1, 25, 3, tzinfo=UTC), datetime(2024, 1, 25, 4, tzinfo=UTC), "Asia/Ho_Chi_Minh")
    '2024-01-25 10:00:00 - 11:00:00'
    >>> show_span(datetime(2024, 1, 25, 16, tzinfo=UTC), datetime(2024, 1, 25, 18, tzinfo=UTC), "Asia/Ho_Chi_Minh")
    '2024-01-25 23:00:00 - 2024-01-26 01:00:00'
    """
    a, b = show_local(start, tz), show_local(end, tz)
    return f"{a}{sep}{b[11:] if a[:10] == b[:10] else b}"


def jsonable(value: Any) -> Any:
    """Dataclasses, datetimes, paths and numpy values as plain JSON values (NaN and infinities as null)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN/Infinity are not JSON: scripts reading --json would choke on them
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


@contextmanager
def to_stdout() -> Iterator[None]:
    """Name standard output when writing to it fails (``> /dev/full``, a full disk behind a redirect).

    A closed pipe (``| head``) is left to Click, which exits quietly.
    """
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise StorageError(f"cannot write to standard output: {exc.strerror or exc}") from None


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (with ``\\u`` escapes where a file name is not valid UTF-8:
    a JSON reader gets back the string whose ``os.fsencode`` is the name's bytes)."""
    text = json.dumps(jsonable(data), ensure_ascii=False, indent=2)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(jsonable(data), ensure_ascii=True, indent=2)
    with to_stdout():
        sys.stdout.write(text + "\n")


def emit_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Print rows as CSV on stdout (nested values as JSON; cells neutralised, see :mod:`camfind.csvsafe`)."""
    cols = list(columns or (rows[0].keys() if rows else []))
    with to_stdout():
        writer = SafeDictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(jsonable(row.get(k))) for k in cols})


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a file name that is not UTF-8: escaped, as --json gives it
            text = json.dumps(value, ensure_ascii=True)
        return text
    return "" if value is None else value


def emit_table(title: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Print rows as a table on stdout."""
    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(_fmt(row.get(col)) for col in columns))
    with to_stdout():
        out.print(table)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def emit_rows(
    title: str,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Render rows as JSON, CSV or a table, whichever was asked for."""
    if as_json:
        emit_json(list(rows))
    elif as_csv:
        emit_csv(rows, list(rows[0].keys()) if rows else list(columns))
    else:
        emit_table(title, rows, columns)
