"""Snapshot files: traceable names, hashes that match the bytes, staged until the run is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from camfind.analysis.snapshots import SnapshotStore, default_snapshot_dir, sha256_file

SHA = "0123456789ab" + "f" * 52
WHEN = datetime(2024, 1, 25, 3, 15, tzinfo=UTC)


def _img(value: int) -> np.ndarray:
    img = np.full((40, 60, 3), value, np.uint8)
    img[10:20, 10:30] = 255 - value
    return img


def test_names_hashes_and_commit(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, SHA, clip_id=7)
    snap = store.save(_img(40), frame=125, kind="track", track_no=3, time=WHEN, box=(1, 2, 30, 40))
    assert snap.path == str(tmp_path / "0123456789ab" / "125_track_3.jpg")
    assert (snap.clip_id, snap.frame, snap.time, snap.kind) == (7, 125, WHEN, "track")
    assert not Path(snap.path).exists()  # staged until the run is written
    store.commit()
    assert Path(snap.path).is_file()
    assert sha256_file(snap.path) == snap.sha256
    assert not any(p.name.startswith(".staging") for p in tmp_path.iterdir())


def test_failed_rerun_keeps_the_previous_files(tmp_path: Path) -> None:
    first = SnapshotStore(tmp_path, SHA, clip_id=7)
    old = first.save(_img(40), frame=5, kind="face", track_no=1, time=WHEN)
    first.commit()
    again = SnapshotStore(tmp_path, SHA, clip_id=7)
    again.save(_img(200), frame=5, kind="face", track_no=1, time=WHEN)
    again.discard()  # the re-analysis failed
    assert sha256_file(old.path) == old.sha256


def test_rerun_replaces_stale_files(tmp_path: Path) -> None:
    first = SnapshotStore(tmp_path, SHA, clip_id=7)
    stale = first.save(_img(40), frame=5, kind="track", track_no=1, time=WHEN)
    first.commit()
    second = SnapshotStore(tmp_path, SHA, clip_id=7)
    new = second.save(_img(90), frame=9, kind="plate", track_no=2, time=WHEN)
    second.commit()
    assert not Path(stale.path).exists()
    assert sha256_file(new.path) == new.sha256


def test_bad_kind_and_empty_image(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, SHA, clip_id=1)
    with pytest.raises(ValueError, match="snapshot kind"):
        store.save(_img(1), frame=1, kind="poster", track_no=1, time=WHEN)
    with pytest.raises(ValueError, match="non-empty"):
        store.save(np.zeros((0, 0, 3), np.uint8), frame=1, kind="track", track_no=1, time=WHEN)


def test_default_folder_is_beside_the_index(tmp_path: Path) -> None:
    assert default_snapshot_dir(str(tmp_path / "case.db"), None) == tmp_path.resolve() / "snapshots"
    assert default_snapshot_dir(str(tmp_path / "case.db"), str(tmp_path / "x")) == (tmp_path / "x").resolve()


def test_provisional_names_never_collide_with_final_ones(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, SHA, clip_id=7)
    a = store.save(_img(10), frame=36, kind="track", track_no=1, time=WHEN, provisional=True)
    b = store.save(_img(20), frame=36, kind="track", track_no=5, time=WHEN, provisional=True)
    b = store.retag(b, 1)  # fragment 5 becomes track 1 ...
    a = store.retag(a, 2)  # ... and fragment 1 becomes track 2
    store.commit()
    assert Path(b.path).name == "36_track_1.jpg" and Path(a.path).name == "36_track_2.jpg"
    assert sha256_file(b.path) == b.sha256 and sha256_file(a.path) == a.sha256
