"""Atomic output files: whole or not at all, the previous file kept, no temporary file left behind,
and the first error reported even when cleaning up fails too."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from camfind.errors import InputError
from camfind.index import Index
from camfind.search.export import export_timeline
from camfind.search.files import atomic_output, write_atomic
from camfind.types import Sighting


def _full_disk() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as write() raises it: no file name


def test_write_atomic_replaces_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "hits.csv"
    write_atomic(target, "old\n")
    write_atomic(target, "new\n")
    write_atomic(tmp_path / "cache.bin", b"\x00\x01")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert (tmp_path / "cache.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cache.bin", "deep", "hits.csv"]


@pytest.mark.parametrize("error", [_full_disk(), KeyboardInterrupt()])
def test_failure_while_writing_keeps_the_previous_file(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "hits.csv"
    target.write_text("previous hits\n", encoding="utf-8")
    with pytest.raises(type(error)) as caught, atomic_output(target) as f:
        f.write("half of the new")
        raise error
    assert target.read_text(encoding="utf-8") == "previous hits\n"
    assert [p.name for p in tmp_path.iterdir()] == ["hits.csv"]
    if isinstance(error, OSError):
        assert isinstance(caught.value, OSError) and caught.value.filename == str(target)


def test_a_folder_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(InputError, match=r"out is a folder"):
        write_atomic(tmp_path / "out", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and not list((tmp_path / "out").iterdir())


def test_cleanup_failing_does_not_hide_the_first_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a read-only file system the temporary file's unlink fails too: the write error is reported."""

    def read_only(self: Path, missing_ok: bool = False) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))

    def rows() -> Iterator[Sighting]:
        raise _full_disk()
        yield  # a generator

    idx = Index.open(tmp_path / "case.db", create=True)
    try:
        monkeypatch.setattr(Path, "unlink", read_only)
        with pytest.raises(OSError) as caught:
            export_timeline(idx, rows(), tmp_path / "timeline.csv")
    finally:
        idx.close()
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "timeline.csv")
