"""Faces kept without an encoding (too small or blurred to encode): stored with a NULL
encoding, never ranked by face search or trace; migration 002 relaxes the column of an index
written before it, keeping ids, the AUTOINCREMENT counter, indexes and the deletion trigger."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from searchscene import T0, Scene, TrackSpec, street_cameras, unit

from camfind.index import Index
from camfind.index.schema import SCHEMA_VERSION, _m001_initial
from camfind.index.writer import AnalysisResult
from camfind.search import faces as faces_mod
from camfind.search.query import SearchQuery, search
from camfind.search.trace import track_encodings
from camfind.types import AnalysisRun, Face, FaceSighting

FACE_INDEXES = {"face_sightings_camera_time", "face_sightings_time", "face_sightings_track",
                "face_sightings_snapshot", "face_sightings_clip"}


def _scene(path: Path) -> tuple[Index, Scene]:
    index = Index.open(path, create=True)
    scene = Scene(index, path.parent)
    scene.cameras(street_cameras())
    clip = scene.clip("A", T0)
    scene.track(clip, TrackSpec(1, 3, cls="person", face=unit(5)))
    scene.track(clip, TrackSpec(4, 6, cls="person", face=unit(6)))
    scene.commit()
    return index, scene


def _add_unencoded(index: Index, scene: Scene) -> int:
    """An orphan face too small to encode, on a clip of camera B; returns its id."""
    clip = scene.clip("B", T0 + timedelta(minutes=5))
    run = index.writer.begin_run(AnalysisRun(clip, T0, {"test": True}, {}, "test"))
    small = FaceSighting(clip, "B", T0 + timedelta(minutes=5, seconds=1), 10,
                         Face((5.0, 5.0, 25.0, 31.0), None, 0.7, "small"))
    index.writer.write_analysis(run, clip, AnalysisResult((), (), (), [small], ()))
    return int(index.db.execute("SELECT MAX(id) FROM face_sightings").fetchone()[0])


def test_unencoded_face_is_stored_and_never_ranked(tmp_path: Path) -> None:
    index, scene = _scene(tmp_path / "case.db")
    small_id = _add_unencoded(index, scene)
    row = index.db.execute("SELECT camera_id, x1, x2, quality, encoding FROM face_sightings WHERE id = ?",
                           (small_id,)).fetchone()
    assert row == ("B", 5.0, 25.0, 0.7, None)
    faces_mod._MEMO.clear()
    assert small_id not in faces_mod.face_matrix(index).ids.tolist()
    every = np.array([r[0] for r in index.db.execute("SELECT id FROM face_sightings")], dtype=np.int64)
    near = faces_mod.rank_faces(index, [unit(5)], threshold=2.0, candidate_ids=every)
    assert len(near) == 2 and small_id not in [m.face_id for m in near]
    assert [s.camera_id for s in search(index, SearchQuery(faces=(unit(5),)))] == ["A"]
    # a track whose faces include one without an encoding: trace uses the encoded ones
    track = index.db.execute("SELECT track_id FROM face_sightings WHERE id = 1").fetchone()[0]
    index.db.execute("UPDATE face_sightings SET track_id = ? WHERE id = ?", (track, small_id))
    assert [e.shape for e in track_encodings(index, track)] == [(128,)]
    index.close()


def _as_version_1(src: Path, dst: Path) -> None:
    """An index as camfind wrote it before migration 002: schema 001, the rows of ``src``."""
    db = sqlite3.connect(dst, isolation_level=None)
    db.executescript(
        "BEGIN;" + _m001_initial() + "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL, applied_ts REAL NOT NULL); INSERT INTO schema_migrations VALUES (1, '001_initial', 1);"
        " COMMIT;"
    )
    db.execute("ATTACH ? AS src", (str(src),))
    for table in ("meta", "cameras", "clips", "analysis_runs", "snapshots", "tracks", "detections", "face_sightings"):
        cols = ", ".join(r[1] for r in db.execute(f"PRAGMA main.table_info({table})"))  # schema 001's columns
        db.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM src.{table}")
    db.execute("UPDATE main.sqlite_sequence SET seq = 40 WHERE name = 'face_sightings'")  # id 40 was deleted
    db.execute("DETACH src")
    db.close()


def test_migration_002_keeps_rows_ids_counter_indexes_and_trigger(tmp_path: Path) -> None:
    index, _ = _scene(tmp_path / "new.db")
    index.close()
    old = tmp_path / "old.db"
    _as_version_1(tmp_path / "new.db", old)
    raw = sqlite3.connect(old, isolation_level=None)
    before = raw.execute("SELECT * FROM face_sightings ORDER BY id").fetchall()
    with pytest.raises(sqlite3.IntegrityError):  # the old column refuses a NULL encoding
        raw.execute("UPDATE face_sightings SET encoding = NULL")
    raw.close()
    with Index.open(old) as idx:
        assert idx.db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == SCHEMA_VERSION
        assert idx.db.execute("SELECT * FROM face_sightings ORDER BY id").fetchall() == before
        assert idx.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'face_sightings'").fetchone() == (40,)
        names = {r[0] for r in idx.db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'face_sightings'")}
        assert FACE_INDEXES | {"face_sightings", "face_sightings_deleted"} <= names
        assert not any("face_sightings_new" in r[0] for r in idx.db.execute("SELECT name FROM sqlite_master"))
        deletions = int(idx.meta("face_deletions") or 0)
        idx.db.execute("UPDATE face_sightings SET encoding = NULL WHERE id = 2")  # allowed now
        with pytest.raises(sqlite3.IntegrityError):
            idx.db.execute("UPDATE face_sightings SET encoding = zeroblob(100) WHERE id = 1")
        idx.db.execute("DELETE FROM face_sightings WHERE id = 2")
        assert int(idx.meta("face_deletions") or 0) == deletions + 1
        cur = idx.db.execute("INSERT INTO face_sightings (clip_id, camera_id, ts, frame, x1, y1, x2, y2, quality)"
                             " SELECT clip_id, camera_id, ts, frame, 0, 0, 9, 9, 0.5 FROM face_sightings LIMIT 1")
        assert cur.lastrowid == 41  # ids are never reused
