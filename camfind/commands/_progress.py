"""A progress bar on stderr (hidden when stderr is not a terminal), as a plain callback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from camfind.commands._common import err

Update = Callable[[int, int, str], None]


@contextmanager
def progress_bar(label: str, *, in_bytes: bool = False) -> Iterator[Update]:
    """Yields ``update(done, total, current_name)`` driving a bar on stderr."""
    columns = (
        [DownloadColumn(), TransferSpeedColumn()] if in_bytes else [MofNCompleteColumn()]
    )
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), *columns, TimeRemainingColumn(),
        TextColumn("{task.fields[name]}"), console=err, transient=True, disable=not err.is_terminal,
    )
    task = bar.add_task(label, total=None, name="")

    def update(done: int, total: int, name: str) -> None:
        bar.update(task, completed=done, total=total or None, name=Path(name).name[-40:])

    with bar:
        yield update
