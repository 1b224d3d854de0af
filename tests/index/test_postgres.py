"""The shared case index on PostgreSQL: many users at once, bad servers, copies between backends.

These need a server (``CAMFIND_TEST_PG``; ``.ci/run`` starts one) and skip, naming it, without.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from backends import pg_case, require_pg, with_schema
from cli_run import run, run_json

from camfind.audit import check
from camfind.errors import IndexMissingError, SchemaError
from camfind.index import Index
from camfind.index.copy import copy_index
from camfind.index.postgres import redact
from camfind.index.queries import list_clips
from camfind.search.query import SearchQuery, search
from camfind.types import (
    AnalysisResult,
    AnalysisRun,
    Camera,
    Clip,
    Face,
    FaceSighting,
    PlateRead,
    PlateText,
    Snapshot,
    Track,
)

psycopg = pytest.importorskip("psycopg", reason="the postgresql extra is not installed")
T0 = datetime(2024, 1, 25, 3, 15, tzinfo=UTC)


@pytest.fixture
def pg() -> Iterator[str]:
    with pg_case() as url:
        yield url


def _clip(n: int, camera: str = "CAM01") -> Clip:
    return Clip(camera_id=camera, path=f"/evidence/{n}.mp4", sha256=f"{n:064x}", size_bytes=1000,
                start=T0 + timedelta(minutes=n), start_raw=T0 + timedelta(minutes=n), time_source="filename",
                clock_offset_s=0.0, duration_s=60.0, fps=10.0, frames=600, width=160, height=120,
                codec="h264", container="mov")


# -- many users at once ---------------------------------------------------------------------------
SHARED, OWN = 10, 10


def _writer(url: str, w: int, start: mp.synchronize.Event) -> None:
    start.wait()
    with Index.open(url) as index:
        for i in range(SHARED):  # every writer meets the same ten files: each is registered once
            index.writer.add_clip(_clip(i))
            index.writer.add_clip(_clip(1000 * (w + 1) + i))  # and ten of its own
        index.writer.append_audit(f"writer{w}", "test", {"w": w}, {})


def _reader(url: str, stop: mp.synchronize.Event, out: mp.Queue[int]) -> None:
    seen = 0
    with Index.open(url) as index:
        while not stop.is_set():
            n = len(list_clips(index))
            assert n >= seen, "a committed clip vanished"
            seen = n
            list(search(index, SearchQuery(cameras=("CAM01",))))
    out.put(seen)


def test_four_writers_and_eight_readers_lose_nothing_and_keep_one_audit_chain(pg: str) -> None:
    with Index.open(pg, create=True) as index:
        index.writer.upsert_cameras([Camera("CAM01", 10.77, 106.70)])
    ctx = mp.get_context("spawn")
    start, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    writers = [ctx.Process(target=_writer, args=(pg, w, start)) for w in range(4)]
    readers = [ctx.Process(target=_reader, args=(pg, stop, out)) for _ in range(8)]
    for p in [*readers, *writers]:
        p.start()
    start.set()
    for p in writers:
        p.join(120)
    stop.set()
    for p in readers:
        p.join(60)
    assert [p.exitcode for p in writers] == [0] * 4
    assert [p.exitcode for p in readers] == [0] * 8
    assert all(out.get(timeout=5) <= SHARED + 4 * OWN for _ in readers)
    with Index.open(pg) as index:
        clips = list_clips(index)
        assert len(clips) == SHARED + 4 * OWN
        assert len({c.sha256 for c in clips}) == len(clips), "no clip registered twice"
        audit = check(index)
        assert audit.ok, audit.reason
        registered = index.db.execute("SELECT COUNT(*) FROM audit WHERE command = 'register clip'").fetchone()[0]
        assert registered == len(clips), "every registration has its audit entry"
        assert index.db.execute("SELECT COUNT(*) FROM audit WHERE command = 'test'").fetchone()[0] == 4


# -- bad servers and bad databases ----------------------------------------------------------------
def test_an_unreachable_server_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    require_pg()
    monkeypatch.setenv("CAMFIND_DB", "postgresql://camfind:secret@127.0.0.1:1/case")
    result = run("cameras", "list")
    assert result.exit_code != 0
    line = result.stderr.strip()
    assert "cannot connect to the index postgresql://camfind:***@127.0.0.1:1/case" in line
    assert "secret" not in result.stderr and "Traceback" not in result.stderr and "\n" not in line


def test_a_wrong_password_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    url = require_pg()
    parts = url.split("@", 1)
    wrong = parts[0].rsplit(":", 1)[0] + ":not-the-password@" + parts[1]
    monkeypatch.setenv("CAMFIND_DB", wrong)
    result = run("cameras", "list")
    assert result.exit_code != 0
    assert "refused the login" in result.stderr and "not-the-password" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_database_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    url = require_pg()
    missing = url.rsplit("/", 1)[0] + "/no_such_case_db"
    with pytest.raises(IndexMissingError, match="no database at"):
        Index.open(missing)


def test_a_database_of_another_program_is_left_untouched(pg: str) -> None:
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)")
    with pytest.raises(SchemaError, match="database of another program .*orders"):
        Index.open(pg, create=True)
    with psycopg.connect(pg, autocommit=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
    assert names == ["orders"]


def test_an_empty_database_is_not_an_index_unless_created(pg: str) -> None:
    with pytest.raises(IndexMissingError, match="holds no camfind index"):
        Index.open(pg)


def test_a_newer_index_is_refused(pg: str) -> None:
    Index.open(pg, create=True).close()
    with psycopg.connect(pg, autocommit=True) as con:
        con.execute("INSERT INTO schema_migrations VALUES (99, '099_future', 0)")
    with pytest.raises(SchemaError, match="newer than this camfind"):
        Index.open(pg)


def test_the_server_gone_mid_ingest_stops_in_one_line_and_resumes(pg: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The server drops the ingest's connection (a restart) after its second clip: one line, the
    two clips kept, and the same ingest run again registers the rest, none twice."""
    from clipfactory import CAMERAS_CSV, write_clip

    from camfind.index.writer import Writer

    monkeypatch.setenv("CAMFIND_DB", pg)
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    assert run("cameras", "import", tmp_path / "cameras.csv").exit_code == 0
    export = tmp_path / "export"
    for n in range(4):
        write_clip(export / "CAM01" / f"ch01_2024012510{n}000.mp4", seed=n)
    real = Writer.add_clip
    calls = {"n": 0}

    def add_then_drop(self: Writer, clip: Clip) -> tuple[int, bool]:
        calls["n"] += 1
        if calls["n"] == 3:  # the server restarts: every connection of this case is cut
            with psycopg.connect(pg, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid != pg_backend_pid() "
                              "AND application_name = current_setting('application_name')")
        return real(self, clip)

    monkeypatch.setattr(Writer, "add_clip", add_then_drop)
    first = run("ingest", export, "--no-analyze")
    assert first.exit_code != 0
    assert "lost the connection to the index" in first.stderr and "again to resume" in first.stderr
    assert "Traceback" not in first.stderr
    monkeypatch.setattr(Writer, "add_clip", real)
    with Index.open(pg) as index:
        assert len(list_clips(index)) == 2
    again = run_json("ingest", export, "--no-analyze")
    assert (again["ingested"], again["known"]) == (2, 2)
    with Index.open(pg) as index:
        clips = list_clips(index)
        assert len(clips) == 4 and len({c.sha256 for c in clips}) == 4
        assert check(index).ok


def test_a_disabled_audit_guard_fails_the_check(pg: str) -> None:
    with Index.open(pg, create=True) as index:
        index.writer.append_audit("alice", "clips", {}, {})
        assert check(index).ok
        index.db.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_update")
        result = check(index)
        assert not result.ok and "audit_no_update is disabled" in result.reason


def test_urls_in_messages_hide_the_password() -> None:
    assert redact("postgresql://u:pw@h:5433/db?sslmode=require") == "postgresql://u:***@h:5433/db?sslmode=require"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert with_schema("postgresql://h/db", "s1").endswith("?options=-csearch_path%3Ds1,public&application_name=s1")


# -- a case between backends ----------------------------------------------------------------------
def test_a_laptop_case_goes_to_the_shared_index_and_back(street: tuple[Index, object], tmp_path: Path) -> None:
    """SQLite -> PostgreSQL -> SQLite through `camfind index copy`: every table's rows and hashes,
    the same search answers, an audit chain that verifies, and both logs record the copy."""
    source, _ = street
    if source.dialect != "sqlite":
        pytest.skip("the round trip starts from the SQLite street case")
    laptop = tmp_path / "laptop.db"
    backup = sqlite3.connect(laptop)
    source.db.backup(backup)  # type: ignore[attr-defined]
    backup.close()
    with pg_case() as url:
        out = run_json("index", "copy", laptop, url)
        assert out["verified"] and out["rows"]["clips"] == 5 and out["rows"]["tracks"] == 10
        back = tmp_path / "back.db"
        again = run_json("index", "copy", url, back)
        for table in ("cameras", "clips", "tracks", "plate_reads", "face_sightings", "snapshots"):
            assert again["digests"][table] == out["digests"][table], table
        with Index.open(laptop) as a, Index.open(url) as b, Index.open(back) as c:
            answers = [[(s.camera_id, s.track_id, s.plate, s.time) for s in search(i, SearchQuery(plate="51F*"))]
                       for i in (a, b, c)]
            assert answers[0] and answers[0] == answers[1] == answers[2]
            assert all(check(i).ok for i in (a, b, c))
            commands = [r[0] for r in c.db.execute("SELECT command FROM audit ORDER BY id DESC LIMIT 3")]
            assert commands[0] == "index copy"
        refused = run("index", "copy", laptop, url)
        assert refused.exit_code != 0 and "already holds a case" in refused.stderr


def test_a_new_case_on_the_server_gets_next_ids_after_a_copy(street: tuple[Index, object]) -> None:
    source, _ = street
    if source.dialect != "sqlite":
        pytest.skip("copies the SQLite street case")
    with pg_case() as url:
        copy_index(source, url)
        with Index.open(url) as index:
            top = max(c.id for c in list_clips(index) if c.id is not None)
            new_id, added = index.writer.add_clip(_clip(77, camera=list_clips(index)[0].camera_id))
            assert added and new_id == top + 1


AWKWARD = "Chợ Bến Thành\tcổng 2\nlối \\N vào \\\\ \"quoted\" 'q' ; |,"


def _awkward_case(where: Path) -> Index:
    """A case whose rows hold what a COPY stream must escape or keep exact: tabs, newlines and
    backslashes (``\\N`` among them) in text, non-ASCII, a non-UTF-8 file name, NULLs, floats that
    need every digit, binary encodings with every byte value."""
    index = Index.open(str(where), create=True)
    w = index.writer
    w.upsert_cameras([Camera("CAM\t01", 10.123456789012345, 106.70000000000001, name=AWKWARD, owner_name="Ông Tư\\",
                             address="12/3 đường\r\nLê Lợi", heading_deg=None, clock_offset_s=1e-300),
                      Camera("CAM02", -0.0, 1 / 3, name="", neighbors=("CAM\t01",))])
    clip = _clip(1, camera="CAM\t01")
    odd_path = os.fsdecode(b"/evidence/\xff\xfe cam\t\\1\n.mp4")
    clip_id, _ = w.add_clip(Clip(**{**clip.__dict__, "path": Path(odd_path), "codec": AWKWARD}))
    run = w.begin_run(AnalysisRun(clip_id, T0, {"model": AWKWARD}, {"x": 0.1 + 0.2}, "bench"))
    t0 = T0 + timedelta(seconds=1.000001)
    snap = Snapshot(clip_id, 10, t0, "/case/snap\\\t1.jpg", "ab" * 32)
    plate = PlateText("51F-123.45", 0.1 + 0.7, "one-row", True)
    track = Track(clip_id, "CAM\t01", 1, "car", t0, t0 + timedelta(seconds=2), 10, 30, 20, 2 / 3,
                  direction_deg=359.99999999999994, color=AWKWARD, plate=plate, best_frame=20, snapshot=snap)
    every_byte = np.frombuffer(bytes(range(256)) * 2, dtype=np.float32).copy()
    faces = [FaceSighting(clip_id, "CAM\t01", t0, 10, Face((1.0, 2.5, 40.0, 41.0), every_byte), 1, snap),
             FaceSighting(clip_id, "CAM\t01", t0, 11, Face((1.0, 2.0, 3.0, 4.0), None, 0.25), 1, None)]
    reads = [PlateRead(clip_id, "CAM\t01", t0, 10, plate, 1, snap), PlateRead(clip_id, "CAM\t01", t0, 12, plate)]
    w.write_analysis(run, clip_id, AnalysisResult([track], (), reads, faces, [snap]))
    w.append_audit("ông\tuser", "note", {"text": AWKWARD, "bytes": odd_path}, {"n": 1.5})
    return index


def test_copy_streams_keep_every_value_exact_through_the_server_and_back(tmp_path: Path) -> None:
    """SQLite -> PostgreSQL (COPY) -> SQLite: every table's digest identical at each step, and the
    values that a text stream could mangle read back exactly; the plate vocabulary was built by the
    server's triggers from the streamed rows."""
    source = _awkward_case(tmp_path / "laptop.db")
    tables = ("cameras", "clips", "analysis_runs", "snapshots", "tracks", "plate_reads", "face_sightings", "audit")
    before = {t: _rows(source, t) for t in tables}
    with pg_case() as url:
        there = copy_index(source, url)
        with Index.open(url) as server:
            back = copy_index(server, str(tmp_path / "back.db"))
        assert there.verified and back.verified and there.rows["face_sightings"] == 2
        moved = set(there.rows) - {"audit"}  # the server's log gained its "index copy" entry in between
        assert {t: back.digests[t] for t in moved} == {t: there.digests[t] for t in moved}
        assert back.rows["audit"] == there.rows["audit"] + 1
        with Index.open(url) as server:
            vocab = server.db.execute("SELECT norm, uses FROM plate_vocab").fetchall()
            assert vocab == [("51F12345", 3)]  # the track's plate and its two reads
            assert vocab == [tuple(r) for r in source.db.execute("SELECT norm, uses FROM plate_vocab")]
            _reanalyse(server, PlateText("30A-999.99", 0.9))  # the vocabulary's triggers are on again
            assert server.db.execute("SELECT norm, uses FROM plate_vocab").fetchall() == [("30A99999", 2)]
    with Index.open(str(tmp_path / "back.db")) as copy:
        for table in tables:
            assert _rows(copy, table)[:len(before[table])] == before[table], table
        cam = copy.db.execute("SELECT name, lat, clock_offset_s, heading_deg FROM cameras WHERE id = ?",
                              ("CAM\t01",)).fetchone()
        assert cam == (AWKWARD, 10.123456789012345, 1e-300, None)
        path_bytes, = copy.db.execute("SELECT path_bytes FROM clips").fetchone()
        assert bytes(path_bytes) == b"/evidence/\xff\xfe cam\t\\1\n.mp4"
        encodings = [e for (e,) in copy.db.execute("SELECT encoding FROM face_sightings ORDER BY id")]
        assert encodings == [bytes(range(256)) * 2, None]
    source.close()


def _reanalyse(index: Index, plate: PlateText) -> None:
    """A new analysis of the case's clip: one track and one read of ``plate`` replace the old rows."""
    clip = list_clips(index)[0]
    assert clip.id is not None
    run = index.writer.begin_run(AnalysisRun(clip.id, T0, {}, {}, "again"))
    track = Track(clip.id, clip.camera_id, 1, "car", T0, T0, 0, 1, 2, 0.5, plate=plate)
    read = PlateRead(clip.id, clip.camera_id, T0, 0, plate, 1)
    index.writer.write_analysis(run, clip.id, AnalysisResult([track], (), [read], [], []))


def _rows(index: Index, table: str) -> list[tuple[object, ...]]:
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in index.db.execute(f"SELECT * FROM {table} ORDER BY id")]


def test_a_row_the_server_refuses_stops_the_copy_in_one_line_with_nothing_written(tmp_path: Path) -> None:
    source = _awkward_case(tmp_path / "laptop.db")
    source.db.execute("UPDATE snapshots SET frame = 10.5")  # SQLite keeps a fraction in an INTEGER column
    with pg_case() as url:
        with pytest.raises(SchemaError, match="refuses a row of snapshots"):
            copy_index(source, url)
        with Index.open(url) as server:
            assert [server.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                    for t in ("cameras", "clips", "snapshots", "audit")] == [0, 0, 0, 0]
    source.close()
