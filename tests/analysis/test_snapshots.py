"""Snapshot files: traceable names, hashes that match the bytes, staged until the run is kept."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from camfind.analysis.snapshots import (
    SnapshotStore,
    check_snapshot_root,
    default_snapshot_dir,
    discard_owned,
    sha256_file,
    sweep_staging,
)
from camfind.errors import InputError

SHA = "0123456789ab" + "f" * 52
WHEN = datetime(2024, 1, 25, 3, 15, tzinfo=UTC)


def _img(value: int) -> np.ndarray:
    img = np.full((40, 60, 3), value, np.uint8)
    img[10:20, 10:30] = 255 - value
    return img


def test_names_hashes_and_place(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, SHA, clip_id=7)
    snap = store.save(_img(40), frame=125, kind="track", track_no=3, time=WHEN, box=(1, 2, 30, 40))
    assert snap.path == str(tmp_path / "0123456789ab" / "125_track_3.jpg")
    assert (snap.clip_id, snap.frame, snap.time, snap.kind) == (7, 125, WHEN, "track")
    assert not Path(snap.path).exists()  # staged until the run is written
    assert store.place() == [Path(snap.path)]
    assert Path(snap.path).is_file()
    assert sha256_file(snap.path) == snap.sha256
    assert not any(p.name.startswith(".staging") for p in tmp_path.iterdir())


def test_a_rerun_never_takes_a_name_the_previous_run_holds_with_other_bytes(tmp_path: Path) -> None:
    first = SnapshotStore(tmp_path, SHA, clip_id=7)
    old = first.save(_img(40), frame=5, kind="face", track_no=1, time=WHEN)
    first.place()
    again = SnapshotStore(tmp_path, SHA, clip_id=7)
    new = again.save(_img(200), frame=5, kind="face", track_no=1, time=WHEN)  # same frame/kind/track
    assert Path(new.path).name == f"5_face_1.{new.sha256[:16]}.jpg"
    assert again.place() == [Path(new.path)]
    assert sha256_file(old.path) == old.sha256 and sha256_file(new.path) == new.sha256


def test_an_identical_file_already_in_place_is_kept_not_counted_as_created(tmp_path: Path) -> None:
    first = SnapshotStore(tmp_path, SHA, clip_id=7)
    old = first.save(_img(40), frame=5, kind="track", track_no=1, time=WHEN)
    first.place()
    again = SnapshotStore(tmp_path, SHA, clip_id=7)
    same = again.save(_img(40), frame=5, kind="track", track_no=1, time=WHEN)
    assert same.path == old.path
    assert again.place() == []  # removing what this run created never touches the earlier file
    assert sha256_file(old.path) == old.sha256


def test_a_file_that_takes_a_chosen_name_meanwhile_is_never_replaced(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, SHA, clip_id=7)
    ok = store.save(_img(10), frame=1, kind="track", track_no=1, time=WHEN)
    bad = store.save(_img(40), frame=5, kind="track", track_no=2, time=WHEN)
    Path(bad.path).parent.mkdir(parents=True)
    Path(bad.path).write_bytes(b"another analysis of the clip")  # after the name was chosen
    with pytest.raises(InputError, match="other bytes"):
        store.place()
    assert not Path(ok.path).exists()  # undone
    assert Path(bad.path).read_bytes() == b"another analysis of the clip"
    assert not any(p.name.startswith(".staging") for p in tmp_path.iterdir())


def test_place_into_a_refusing_folder_is_one_named_error(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, SHA, clip_id=7)
    store.save(_img(10), frame=1, kind="track", track_no=1, time=WHEN)
    (tmp_path / "0123456789ab").write_text("a file where the clip folder goes")
    with pytest.raises(InputError, match="0123456789ab: a file is in the way"):
        store.place()
    assert not any(p.name.startswith(".staging") for p in tmp_path.iterdir())


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


def test_snapshot_root_must_be_a_writable_folder(tmp_path: Path) -> None:
    check_snapshot_root(tmp_path / "new" / "snaps", "1-abc")
    assert (tmp_path / "new" / "snaps").is_dir() and not any((tmp_path / "new" / "snaps").iterdir())
    (tmp_path / "cams.csv").write_text("id\n")
    with pytest.raises(InputError, match=r"cams\.csv: the snapshot folder \(--snapshots\) is a file"):
        check_snapshot_root(tmp_path / "cams.csv", "1-abc")
    with pytest.raises(InputError, match="cannot create"):
        check_snapshot_root(tmp_path / "cams.csv" / "under", "1-abc")


def test_staging_sweep_removes_only_abandoned_folders(tmp_path: Path) -> None:
    hour_ago = time.time() - 2 * 3600

    def folder(name: str, old: bool) -> Path:
        path = tmp_path / name
        path.mkdir()
        (path / "1.jpg").write_bytes(b"x")
        if old:
            os.utime(path, (hour_ago, hour_ago))
        return path

    dead = folder(".staging-999999999-ab12cd-0123456789ab-00000000", old=True)  # no such pid
    legacy = folder(".staging-0123456789ab-1a2b3c4d", old=True)  # an older camfind's name
    fresh = folder(".staging-0123456789ab-5e6f7a8b", old=False)  # maybe a run in progress
    live = folder(f".staging-{os.getpid()}-ab12cd-0123456789ab-11111111", old=True)  # a long live run
    kept_clip = folder("0123456789ab", old=True)
    assert sweep_staging(tmp_path) == sorted([dead, legacy])
    assert all(p.exists() for p in (fresh, live, kept_clip))
    assert discard_owned(tmp_path, f"{os.getpid()}-ab12cd") == [live] and not live.exists()


def test_threads_saving_the_same_name_at_once_each_get_their_own(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Two enrichment threads may save a plate of the same frame and track at the same moment:
    each snapshot gets a name of its own and its file keeps its bytes (names are taken one at a
    time; without that both threads found the same name free)."""
    import threading

    from camfind.analysis import snapshots as snapshots_mod

    real = snapshots_mod._holds_or_free

    def slow_check(final: str, sha: str) -> bool:
        time.sleep(0.02)  # another thread runs meanwhile
        return real(final, sha)

    monkeypatch.setattr(snapshots_mod, "_holds_or_free", slow_check)
    store = SnapshotStore(tmp_path, SHA, clip_id=7)
    snaps = []

    def save(value: int) -> None:
        snaps.append(store.save(_img(value), frame=125, kind="plate", track_no=3, time=WHEN))

    threads = [threading.Thread(target=save, args=(v,)) for v in (10, 60, 110, 160)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({s.path for s in snaps}) == 4 and len(store.staged) == 4
    placed = store.place()
    assert sorted(map(str, placed)) == sorted(s.path for s in snaps)
    assert all(sha256_file(s.path) == s.sha256 for s in snaps)
    assert len({s.sha256 for s in snaps}) == 4


def test_worker_folders_of_killed_processes_are_swept_once_per_process(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker killed outright leaves its private folder in the temporary folder; the next
    worker on the machine removes it (process gone, untouched for an hour), never a live one's."""
    import tempfile
    import threading

    from camfind.analysis import work
    from camfind.analysis.snapshots import WORKER_PREFIX

    old = time.time() - 2 * 3600

    def folder(name: str, aged: bool) -> Path:
        path = tmp_path / name
        path.mkdir()
        (path / ".staging-1-ab-cd").mkdir()
        if aged:
            os.utime(path, (old, old))
        return path

    dead = folder(f"{WORKER_PREFIX}999999999-x1y2z3", aged=True)
    legacy = folder(f"{WORKER_PREFIX}04mp8squ", aged=True)  # named before folders carried the pid
    live = folder(f"{WORKER_PREFIX}{os.getpid()}-a1b2c3", aged=True)
    fresh = folder(f"{WORKER_PREFIX}999999999-q1w2e3", aged=False)
    other = folder("camfind-bench-abc", aged=True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(work, "_SWEPT", threading.Event())
    work._sweep_worker_folders()
    assert not dead.exists() and not legacy.exists()
    assert all(p.exists() for p in (live, fresh, other))
    again = folder(f"{WORKER_PREFIX}999999998-r1t2y3", aged=True)
    work._sweep_worker_folders()  # once per process: later jobs do not glob the folder again
    assert again.exists()
