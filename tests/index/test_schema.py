"""The schema: WAL, foreign keys, versioned migrations, typed indexed columns, the case time zone."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from camfind.errors import IndexMissingError, InputError, SchemaError
from camfind.index import Index
from camfind.index.schema import MIGRATIONS, SCHEMA_VERSION


@pytest.fixture
def index(index_path: Path) -> Iterator[Index]:
    """An SQLite index file: these tests are about SQLite's files (PostgreSQL's: test_postgres.py)."""
    idx = Index.open(index_path, create=True)
    yield idx
    idx.close()


def test_new_index_is_wal_with_foreign_keys_and_version(index: Index, index_path: Path) -> None:
    assert index.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert index.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    rows = index.db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [r[1] for r in rows] == [name for name, _ in MIGRATIONS]
    assert index.meta("schema_version") == str(SCHEMA_VERSION)
    assert index.tz == "Asia/Ho_Chi_Minh"


def test_reopen_does_not_migrate_again(index_path: Path) -> None:
    Index.open(index_path, create=True).close()
    with Index.open(index_path) as idx:
        assert idx.db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == SCHEMA_VERSION


@pytest.mark.parametrize(
    "table",
    ["cameras", "camera_links", "clock_observations", "calibrations", "clips", "analysis_runs", "tracks",
     "detections", "plate_reads", "face_sightings", "snapshots", "audit"],
)
def test_tables_exist(index: Index, table: str) -> None:
    assert index.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone()


def test_searchable_columns_are_indexed(index: Index) -> None:
    indexed = {
        (r[0], col[2])
        for r in index.db.execute("SELECT tbl_name, name FROM sqlite_master WHERE type='index'")
        for col in index.db.execute(f"PRAGMA index_info('{r[1]}')")
        if col[0] == 0  # leading column
    }
    for table, column in [("clips", "camera_id"), ("clips", "start_ts"), ("plate_reads", "norm"),
                          ("tracks", "camera_id"), ("face_sightings", "camera_id"), ("clips", "sha256")]:
        assert (table, column) in indexed, (table, column)


def test_custom_time_zone_is_recorded(tmp_path: Path) -> None:
    with Index.open(tmp_path / "x.db", create=True, tz="Asia/Bangkok") as idx:
        assert idx.tz == "Asia/Bangkok"
    with Index.open(tmp_path / "x.db") as idx:
        assert idx.tz == "Asia/Bangkok"


def test_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Mars/Olympus"):
        Index.open(tmp_path / "x.db", create=True, tz="Mars/Olympus")


def test_missing_index_is_an_error_not_a_new_file(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="no index"):
        Index.open(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


def test_newer_schema_is_refused(index_path: Path) -> None:
    Index.open(index_path, create=True).close()
    db = sqlite3.connect(index_path)
    db.execute("INSERT INTO schema_migrations VALUES (?, 'from_the_future', 0)", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(SchemaError, match="newer"):
        Index.open(index_path)


def test_not_an_index(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SchemaError, match="not a camfind index"):
        Index.open(bogus)


def test_custody_migration_keeps_an_existing_index_and_lets_one_file_hold_several_clips(index_path: Path) -> None:
    from camfind.index import schema

    db = sqlite3.connect(index_path, isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts REAL)")
    db.executescript("BEGIN;" + schema._m001_initial() + "INSERT INTO schema_migrations VALUES (1, '001_initial', 0);"
                     "INSERT INTO meta VALUES ('timezone', 'Asia/Ho_Chi_Minh');"
                     "INSERT INTO cameras (id, lat, lon, created_ts, updated_ts) VALUES ('CAM01', 10.7, 106.7, 0, 0);"
                     "INSERT INTO clips (id, sha256, size_bytes, path, camera_id, start_ts, end_ts, start_raw_ts,"
                     " time_source, duration_s, fps, frames, width, height, codec, container, ingested_ts)"
                     f" VALUES (7, '{'a' * 64}', 10, '/e/a.mp4', 'CAM01', 0, 60, 0, 'cli', 60, 10, 600, 1, 1,"
                     " 'h264', 'mov', 0);"
                     "INSERT INTO analysis_runs (id, clip_id, started_ts, camfind_version, models_json, settings_json)"
                     " VALUES (3, 7, 0, 'x', '{}', '{}');"
                     "INSERT INTO tracks (clip_id, run_id, camera_id, track_no, cls, first_ts, last_ts, first_frame,"
                     " last_frame, n_frames, confidence) VALUES (7, 3, 'CAM01', 1, 'car', 1, 2, 10, 20, 11, 0.9);"
                     "COMMIT;")
    db.close()
    with Index.open(index_path) as idx:
        assert idx.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert idx.db.execute("SELECT id, sha256, segment, seg_start_s, seg_end_s FROM clips").fetchall() == [
            (7, "a" * 64, "", 0.0, None)]
        assert idx.db.execute("SELECT clip_id FROM tracks").fetchall() == [(7,)], "analysis rows kept"
        assert idx.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = {r[0] for r in idx.db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'clips'")}
        assert {"clips_camera_time", "clips_time", "clips_path", "clips_content"} <= names
        insert = ("INSERT INTO clips (sha256, size_bytes, path, camera_id, start_ts, end_ts, start_raw_ts,"
                  " time_source, duration_s, fps, frames, width, height, codec, container, ingested_ts, segment)"
                  " VALUES (?, 10, '/e/a.mp4', 'CAM01', 0, 60, 0, 'cli', 60, 10, 600, 1, 1, 'h264', 'mov', 0, ?)")
        idx.db.execute(insert, ("a" * 64, "0.000-30.000"))
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            idx.db.execute(insert, ("a" * 64, ""))
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            idx.db.execute("DELETE FROM cameras")


def test_an_upgraded_index_records_its_new_version(index_path: Path) -> None:
    from camfind.index import schema

    db = sqlite3.connect(index_path, isolation_level=None)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts REAL)")
    db.executescript("BEGIN;" + schema._m001_initial() + "INSERT INTO schema_migrations VALUES (1, '001_initial', 0);"
                     "INSERT INTO meta VALUES ('timezone', 'Asia/Ho_Chi_Minh'), ('schema_version', '1');COMMIT;")
    db.close()
    with Index.open(index_path) as idx:
        assert idx.meta("schema_version") == str(SCHEMA_VERSION) != "1"


@pytest.mark.parametrize("folder", ["case 12", "case #12", "case?12", "vụ án 12"])
def test_first_command_reads_any_folder_name_read_only(tmp_path: Path, folder: str) -> None:
    from camfind.index import first_command

    path = tmp_path / folder / "camfind.db"
    path.parent.mkdir()
    with Index.open(path, create=True) as index:
        index.writer.append_audit("u", "register clip", {}, {})
        index.writer.append_audit("u", "demo", {}, {})
    before = path.read_bytes()
    assert first_command(path) == "demo"
    assert path.read_bytes() == before
    assert first_command(tmp_path / folder / "none.db") is None
