"""The one writer: upserts, links, clock offsets, idempotent clips, the audit chain."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from backends import DRIVER_ERRORS

from camfind.errors import InputError, NotFoundError
from camfind.index import Index
from camfind.index.queries import (
    clip_copies,
    clip_timings,
    clips_covering,
    get_clip,
    list_cameras,
    list_clips,
    list_links,
)
from camfind.index.writer import GENESIS_HASH, AnalysisResult, audit_hash
from camfind.types import AnalysisRun, Calibration, Camera, Clip, ClipCopy, Track

T0 = datetime(2024, 1, 25, 3, 15, tzinfo=UTC)


def clip(n: int = 1, camera: str = "CAM01", start: datetime = T0, offset: float = 0.0) -> Clip:
    return Clip(camera_id=camera, path=f"/evidence/{n}.mp4", sha256=f"{n:064x}", size_bytes=1000,
                start=start - timedelta(seconds=offset), start_raw=start, time_source="filename",
                clock_offset_s=offset, duration_s=60.0, fps=10.0, frames=600, width=160, height=120,
                codec="h264", container="mov")


@pytest.fixture
def cams(index: Index) -> Index:
    index.writer.upsert_cameras([
        Camera("CAM01", 10.770, 106.700, neighbors=("CAM02", "CAM09")),
        Camera("CAM02", 10.771, 106.700),
    ])
    return index


def test_upsert_counts_and_updates(cams: Index) -> None:
    added, updated = cams.writer.upsert_cameras([Camera("CAM02", 10.5, 106.5, name="moved"), Camera("CAM03", 1, 2)])
    assert (added, updated) == (1, 1)
    by_id = {c.id: c for c in list_cameras(cams)}
    assert by_id["CAM02"].name == "moved" and by_id["CAM02"].lat == 10.5
    assert set(by_id) == {"CAM01", "CAM02", "CAM03"}


def test_neighbours_link_only_known_cameras(cams: Index) -> None:
    links = list_links(cams)
    assert [(x.a, x.b, x.source) for x in links] == [("CAM01", "CAM02", "neighbors")]


def test_link_unknown_camera_writes_nothing(cams: Index) -> None:
    with pytest.raises(NotFoundError, match="CAM77"):
        cams.writer.link("CAM01", "CAM77", 50)
    assert len(list_links(cams)) == 1
    cams.writer.link("CAM02", "CAM01", 120.0)
    (only,) = list_links(cams)
    assert (only.a, only.b, only.meters, only.source) == ("CAM01", "CAM02", 120.0, "declared")


def test_add_clip_is_idempotent_by_hash(cams: Index) -> None:
    first = cams.writer.add_clip(clip(1))
    again = cams.writer.add_clip(clip(1))
    copy = cams.writer.add_clip(replace(clip(1), path="/copy/1.mp4"))
    assert first == (1, True) and again == (1, False) and copy == (1, False)
    assert len(list_clips(cams)) == 1
    assert get_clip(cams, 1).path == clip(1).path, "a known clip keeps its registered path"


def test_add_copy_is_idempotent_by_path(cams: Index) -> None:
    cams.writer.add_clip(clip(1))
    assert cams.writer.add_copy(ClipCopy(1, "/copy/1.mp4", "CAM01")) is True
    assert cams.writer.add_copy(ClipCopy(1, "/copy/1.mp4", "CAM01")) is False
    assert [c.path for c in clip_copies(cams)[1]] == ["/copy/1.mp4"]


def test_clip_for_unknown_camera_is_rolled_back(cams: Index) -> None:
    with pytest.raises(NotFoundError, match="unknown camera 'NOPE'"):
        cams.writer.add_clip(clip(2, camera="NOPE"))
    assert list_clips(cams) == []
    assert not cams.db.in_transaction


def test_record_clock_recorrects_clips(cams: Index) -> None:
    cid, _ = cams.writer.add_clip(clip(1))
    offset = cams.writer.record_clock("CAM01", T0 + timedelta(seconds=90), T0)
    assert offset == 90.0
    c = get_clip(cams, cid)
    assert c.start_raw == T0 and c.start == T0 - timedelta(seconds=90) and c.clock_offset_s == 90.0
    assert c.end == c.start + timedelta(seconds=60)
    assert clips_covering(cams, "CAM01", T0 - timedelta(seconds=89), T0 - timedelta(seconds=88))


def test_reimport_with_new_offset_recorrects_clips(cams: Index) -> None:
    cid, _ = cams.writer.add_clip(clip(1))
    cams.writer.upsert_cameras([Camera("CAM01", 10.770, 106.700, clock_offset_s=-30.0)])
    c = get_clip(cams, cid)
    assert c.start == T0 + timedelta(seconds=30) and c.start_raw == T0


def test_calibration_needs_a_known_camera(cams: Index) -> None:
    cal = Calibration("NOPE", ((0, 0), (1, 0), (1, 1), (0, 1)), ((10, 106), (10, 106.1), (10.1, 106.1), (10.1, 106)))
    with pytest.raises(NotFoundError):
        cams.writer.set_calibration(cal, [[1, 0, 0], [0, 1, 0], [0, 0, 1]], 0.0)


def test_audit_entries_are_chained(index: Index) -> None:
    h1 = index.writer.append_audit("alice", "clips", {"argv": ["clips"]}, {"rows": 0})
    h2 = index.writer.append_audit("bob", "verify", {"argv": ["verify"]}, {"ok": 1})
    rows = index.db.execute(
        "SELECT ts, \"user\", command, args_json, counts_json, prev_hash, hash FROM audit ORDER BY id").fetchall()
    assert [r[5] for r in rows] == [GENESIS_HASH, h1]
    assert [r[6] for r in rows] == [h1, h2]
    assert audit_hash(*[rows[1][5], *rows[1][:5]]) == h2


def test_audit_is_append_only(index: Index) -> None:
    index.writer.append_audit("alice", "clips", {}, {})
    with pytest.raises(DRIVER_ERRORS, match="append-only"):
        index.db.execute("UPDATE audit SET \"user\" = 'mallory'")
    with pytest.raises(DRIVER_ERRORS, match="append-only"):
        index.db.execute("DELETE FROM audit")


def test_osd_reading_applied_moves_the_clip_and_its_sightings_and_keeps_the_filed_start(cams: Index) -> None:
    cid, _ = cams.writer.add_clip(clip(1, offset=30.0))
    run_id = cams.writer.begin_run(AnalysisRun(clip_id=cid, started_at=T0, settings={}, models={},
                                               camfind_version="test"))
    seen = T0 + timedelta(seconds=5)
    cams.writer.write_analysis(run_id, cid, AnalysisResult(tracks=[Track(cid, "CAM01", 1, "motorcycle", seen, seen,
                                                                         50, 50, 1, 0.9)]))
    with pytest.raises(InputError, match="no on-screen clock reading is recorded"):
        cams.writer.apply_osd_start(cid)
    osd = T0 + timedelta(seconds=67.4)
    with cams.transaction():
        cams.writer.set_clip_osd(cid, 67.4, start=osd, text="25/01/2024 10:16:07", precision_s=0.04)
    assert get_clip(cams, cid).start_raw == T0, "reading alone changes nothing"
    assert cams.writer.apply_osd_start(cid) == (T0.timestamp(), osd.timestamp())
    c = get_clip(cams, cid)
    assert (c.start_raw, c.time_source, c.start) == (osd, "osd", osd - timedelta(seconds=30))
    timing = clip_timings(cams)[cid]
    assert (timing.filed_start_raw, timing.filed_time_source, timing.osd_text) == (T0, "filename",
                                                                                  "25/01/2024 10:16:07")
    assert timing.osd_drift_s == 0.0 and timing.osd_start == osd, "no drift left once applied"
    first = cams.db.execute("SELECT first_ts FROM tracks WHERE clip_id = ?", (cid,)).fetchone()[0]
    assert first == pytest.approx(seen.timestamp() + 67.4)
    cams.writer.apply_osd_start(cid, revert=True)
    c = get_clip(cams, cid)
    assert (c.start_raw, c.time_source, c.start) == (T0, "filename", T0 - timedelta(seconds=30))
    assert clip_timings(cams)[cid].filed_start_raw is None
    assert clip_timings(cams)[cid].osd_drift_s == pytest.approx(67.4)


def test_every_writer_method_leaves_no_transaction_open(cams: Index) -> None:
    """Each public write is one unit of work: committed when it returns, nothing left open."""
    steps = []
    cid, _ = cams.writer.add_clip(clip(1))
    steps.append(cams.db.in_transaction)
    run_id = cams.writer.begin_run(AnalysisRun(clip_id=cid, started_at=T0, settings={}, models={},
                                               camfind_version="test"))
    steps.append(cams.db.in_transaction)
    cams.writer.write_analysis(run_id, cid, AnalysisResult(tracks=()))
    steps.append(cams.db.in_transaction)
    cams.writer.set_clip_osd(cid, 1.5)
    cams.writer.set_clip_status(cid, "analyzed")
    cams.writer.set_meta("note", "x")
    steps.append(cams.db.in_transaction)
    cams.writer.fail_run(cams.writer.begin_run(AnalysisRun(clip_id=cid, started_at=T0, settings={}, models={},
                                                           camfind_version="test")), "stopped")
    steps.append(cams.db.in_transaction)
    assert steps == [False] * 5
    with Index.open(cams.path) as other:  # committed: another connection sees every write
        statuses = [r[0] for r in other.db.execute("SELECT status FROM analysis_runs ORDER BY id")]
        assert statuses == ["done", "failed"]
        assert other.db.execute("SELECT osd_drift_s FROM clips WHERE id = ?", (cid,)).fetchone()[0] == 1.5
