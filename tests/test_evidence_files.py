"""SHA-256 in one read: the digest equals a plain hash whatever order a demuxer reads in."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from camfind.evidence import HashingReader, open_readonly, sha256_file


@pytest.fixture
def blob(tmp_path: Path) -> Path:
    path = tmp_path / "blob.bin"
    path.write_bytes(os.urandom(3_000_001))
    return path


def test_sha256_file_matches_hashlib(blob: Path) -> None:
    assert sha256_file(blob) == (hashlib.sha256(blob.read_bytes()).hexdigest(), 3_000_001)


@pytest.mark.parametrize(
    "reads",
    [
        [(0, 100), (2_999_000, 1001), (100, 50_000), (0, 10)],  # index at the end, then rewind
        [(0, 10), (10, 10), (5, 30)],  # overlapping re-read
        [(1_000_000, 5000)],  # starts mid-file: nothing hashed until finish()
        [],
    ],
)
def test_out_of_order_reads_hash_once_in_order(blob: Path, reads: list[tuple[int, int]]) -> None:
    with open_readonly(blob) as raw:
        reader = HashingReader(raw)
        for pos, n in reads:
            reader.seek(pos)
            assert reader.read(n) == blob.read_bytes()[pos:pos + n]
        assert reader.finish() == hashlib.sha256(blob.read_bytes()).hexdigest()


def test_progress_counts_every_byte_once(blob: Path) -> None:
    seen: list[int] = []
    with open_readonly(blob) as raw:
        reader = HashingReader(raw, on_bytes=seen.append)
        reader.read(500)
        reader.seek(0)
        reader.read(1000)
        reader.finish()
    assert sum(seen) == 3_000_001


def test_reading_leaves_the_file_untouched(blob: Path) -> None:
    blob.chmod(0o444)
    before = blob.stat()
    sha256_file(blob)
    after = blob.stat()
    assert (after.st_mtime_ns, after.st_size, after.st_mode) == (before.st_mtime_ns, before.st_size, before.st_mode)
    reader = HashingReader(open_readonly(blob))
    assert not hasattr(reader, "write") and not hasattr(reader, "close")
