"""Atomic output files: whole or not at all, the previous file kept, no temporary file left behind,
and the first error reported even when cleaning up fails too."""

from __future__ import annotations

import errno
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from camfind.errors import InputError
from camfind.export.timeline import export_timeline
from camfind.index import Index
from camfind.outputs import atomic_output, write_atomic
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


# -- targets that are not regular files: never renamed over, written directly and checked -------
def _read_fifo(fifo: Path, got: list[bytes]) -> threading.Thread:
    def reader() -> None:
        with fifo.open("rb") as f:
            got.append(f.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    return thread


def test_a_named_pipe_is_written_through_and_stays_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    thread = _read_fifo(fifo, got)
    write_atomic(fifo, "plate\n51F12345\n")
    thread.join(10)
    assert got == [b"plate\n51F12345\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_link_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "real.csv").write_text("old\n")
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "real.csv")
    write_atomic(link, "new\n")
    assert link.is_symlink() and (tmp_path / "real.csv").read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "real.csv"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("via_link", [False, True])
def test_a_full_device_is_an_error_and_stays_a_device(tmp_path: Path, via_link: bool) -> None:
    target = Path("/dev/full")
    if via_link:
        target = tmp_path / "out.csv"
        target.symlink_to("/dev/full")
    with pytest.raises(OSError) as caught:
        write_atomic(target, "x" * 100_000)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert not via_link or target.is_symlink()


def test_dev_null_takes_the_output_and_stays_a_device() -> None:
    write_atomic("/dev/null", "plate\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(InputError, match="is a socket"):
            write_atomic(path, "x")
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()
