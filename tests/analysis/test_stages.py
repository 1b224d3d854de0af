"""The C heap's free memory is handed back to the system, at most every TRIM_EVERY_S."""

from __future__ import annotations

import ctypes.util
import platform

import numpy as np
import pytest

from camfind.analysis import stages


@pytest.fixture
def trim_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stages, "_last_trim", 0.0)
    monkeypatch.setattr(stages, "TRIM_EVERY_S", 2.0)


def _glibc() -> bool:
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc" and bool(ctypes.util.find_library("c"))


@pytest.mark.skipif(not _glibc(), reason="malloc_trim is glibc's: this C library is not glibc")
def test_memory_is_given_back_at_most_once_every_trim_period(trim_clock: None) -> None:
    assert stages.give_back_free_memory(now=100.0)
    assert not stages.give_back_free_memory(now=101.0)
    assert not stages.give_back_free_memory(now=101.9)
    assert stages.give_back_free_memory(now=102.1)


def test_no_memory_is_given_back_when_the_period_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stages, "_last_trim", 0.0)
    monkeypatch.setattr(stages, "TRIM_EVERY_S", None)
    assert not stages.give_back_free_memory(now=1000.0)


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@pytest.mark.skipif(not _glibc(), reason="malloc_trim is glibc's: this C library is not glibc")
def test_freed_buffers_held_in_the_heap_leave_resident_memory(trim_clock: None) -> None:
    # 3000 buffers of 64 kB (under glibc's mmap threshold: they come from the heap), written so
    # their pages are resident; freeing all but every 20th leaves holes the heap cannot give
    # back by trimming its top.
    held = [np.ones(64 * 1024, np.uint8) for _ in range(3000)]
    kept = held[::20]
    del held
    before = _resident_mb()
    assert stages.give_back_free_memory(now=1000.0)
    after = _resident_mb()
    assert before - after > 100, (before, after)
    assert all(int(k[0]) == 1 for k in kept)
