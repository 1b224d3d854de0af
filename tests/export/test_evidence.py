"""Evidence export: timeline CSV columns and streaming, lossless extracts, packages and their
verification (hashes, a flipped byte, never overwritten)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import av
import pytest
from searchscene import Scene

from camfind.errors import EvidenceError
from camfind.export.extract import extract_segment
from camfind.export.package import export_package, verify_package
from camfind.export.timeline import TIMELINE_COLUMNS, export_timeline, write_timeline
from camfind.index import Index
from camfind.search.query import SearchQuery, iter_sightings, search


def test_timeline_columns_and_values(street: tuple[Index, Scene], tmp_path: Path) -> None:
    idx, _ = street
    n = export_timeline(idx, iter_sightings(idx, SearchQuery(plate="51F12345")), tmp_path / "t.csv")
    rows = list(csv.DictReader((tmp_path / "t.csv").open(encoding="utf-8")))
    assert n == len(rows) == 4
    assert tuple(rows[0].keys()) == TIMELINE_COLUMNS
    first = rows[0]
    assert first["time_local"] == "2024-03-01T10:00:01+07:00" and first["time_utc"] == "2024-03-01T03:00:01+00:00"
    assert first["camera_id"] == "A" and first["camera_name"] == "Le Loi west" and first["owner_type"] == "public"
    assert float(first["lat"]) == 10.77 and first["time_source"] == "cli" and float(first["clock_offset_s"]) == 0
    assert first["clip_sha256"] == hashlib.sha256(Path(first["clip_path"]).read_bytes()).hexdigest()
    assert float(first["offset_s"]) == 1.0 and first["frame"] == "20" and float(first["frame_offset_s"]) == 2.0
    assert first["class"] == "car" and first["color"] == "red" and first["plate"] == "51F-123.45"
    assert first["direction"] == "E" and float(first["direction_deg"]) == 90.0
    assert first["snapshot_sha256"] == hashlib.sha256(Path(first["snapshot_path"]).read_bytes()).hexdigest()
    assert [r["camera_id"] for r in rows] == ["A", "B", "D", "D"]
    assert rows[-1]["track_id"] == ""  # the plate read with no track


def test_timeline_streams_rows_as_they_come(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    consumed: list[int] = []

    def counting():
        for i, s in enumerate(iter_sightings(idx, SearchQuery())):
            consumed.append(i)
            yield s

    class Probe(io.StringIO):
        def write(self, text: str) -> int:
            lines.append(len(consumed))
            return super().write(text)

    lines: list[int] = []
    write_timeline(idx, counting(), Probe())
    assert lines[1:] == list(range(1, len(lines)))  # each row written before the next is read


def test_extract_is_a_lossless_stream_copy_from_a_keyframe(street: tuple[Index, Scene], tmp_path: Path) -> None:
    idx, _ = street
    src = search(idx, SearchQuery(cameras=("G",)))  # G has no tracks: use its clip directly
    assert src == []
    clip = idx.db.execute("SELECT path FROM clips WHERE camera_id = 'G'").fetchone()[0]
    ex = extract_segment(clip, tmp_path / "e.mp4", 12.35, 15.0)
    assert ex.start_s <= 12.35 and ex.end_s >= 14.9

    def packets(path: str | Path) -> list[tuple[bool, str]]:
        with av.open(str(path)) as c:
            return [(p.is_keyframe, hashlib.md5(bytes(p)).hexdigest()) for p in c.demux(c.streams.video[0])
                    if p.dts is not None]

    got, whole = packets(ex.path), packets(clip)
    assert got[0][0] is True  # starts at a keyframe
    start = int(round(ex.start_s * 10))
    assert got == whole[start:start + len(got)]  # byte-identical packets, no re-encoding
    with av.open(str(ex.path)) as c:
        assert sum(1 for _ in c.decode(video=0)) == len(got)  # and it decodes on its own


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".avi"])
def test_extract_leaves_the_source_untouched(tmp_path: Path, suffix: str) -> None:
    """The source is opened read-only with O_NOATIME (PyAV opening it by path bumped its access time)."""
    import os

    from clipfactory import write_clip

    clip = write_clip(tmp_path / f"cam{suffix}", frames=20)
    clip.chmod(0o444)
    stat = clip.stat()
    os.utime(clip, ns=(stat.st_mtime_ns - 10**12, stat.st_mtime_ns))  # atime before mtime: relatime would bump it
    before = clip.stat()
    ex = extract_segment(clip, tmp_path / f"e{suffix}", 0.5, 1.5)
    assert ex.start_s <= 0.5 and ex.end_s >= 1.3, (ex.start_s, ex.end_s)  # Matroska (no DTS) gave "no video"
    with av.open(str(ex.path)) as c:
        assert sum(1 for _ in c.decode(video=0)) == ex.packets >= 10
    after = clip.stat()
    assert (after.st_mode, after.st_size, after.st_mtime_ns) == (before.st_mode, before.st_size, before.st_mtime_ns)
    if os.geteuid() == 0 or before.st_uid == os.geteuid():  # O_NOATIME is allowed to the owner
        assert after.st_atime_ns == before.st_atime_ns, "extracting from evidence updated its access time"


def _keyframe_every_second(path: Path, frames: int = 60, fps: int = 10) -> Path:
    """A clip with a keyframe every 10 frames (1 s) and B-frames."""
    import numpy as np

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.gop_size = fps
        stream.options = {"sc_threshold": "0", "bf": "2"}
        for i in range(frames):
            img = np.full((48, 64, 3), 40, np.uint8)
            img[:, i % 48:i % 48 + 16] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".ts"])
def test_extract_starts_at_the_keyframe_at_or_before_the_start(tmp_path: Path, suffix: str) -> None:
    """MPEG-TS seeks land past that keyframe: the extract started at 3.0 s (or 4.0 s) for 2.5 s."""
    clip = _keyframe_every_second(tmp_path / f"cam{suffix}")
    for (start, end), first in [((2.5, 3.5), 2.0), ((3.0, 3.5), 3.0), ((0.0, 0.5), 0.0), ((5.5, 5.9), 5.0)]:
        ex = extract_segment(clip, tmp_path / f"e{suffix}", start, end)
        assert ex.start_s == pytest.approx(first) and ex.end_s >= end - 0.05, (start, end, ex)
        with av.open(str(ex.path)) as c:
            assert sum(1 for _ in c.decode(video=0)) == ex.packets  # it plays on its own


def test_package_manifest_verify_tamper_and_no_overwrite(street: tuple[Index, Scene], tmp_path: Path) -> None:
    idx, _ = street
    idx.writer.append_audit("tester", "ingest", {"argv": ["ingest", "clips/"]}, {"clips": 7})
    idx.writer.append_audit("tester", "analyze", {"argv": ["analyze"]}, {"tracks": 11})
    dest = tmp_path / "pkg"
    res = export_package(idx, iter_sightings(idx, SearchQuery(plate="51F12345")), dest, margin_s=1.0,
                         request={"command": "export timeline", "plate": "51F12345"})
    assert res.rows == 4 and res.problems == ()
    assert res.snapshots == 3 and res.extracts == 4
    names = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert {"timeline.csv", "manifest.json", "README.txt", "audit.jsonl", "SHA256SUMS"} <= set(names)
    manifest = json.loads((dest / "manifest.json").read_text())
    for f in manifest["files"]:
        assert hashlib.sha256((dest / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert {f["kind"] for f in manifest["files"]} == {"timeline", "snapshot", "extract", "audit", "readme"}
    assert manifest["request"]["plate"] == "51F12345"
    audit = [json.loads(line) for line in (dest / "audit.jsonl").read_text().splitlines()]
    assert [a["command"] for a in audit][-2:] == ["ingest", "analyze"]
    assert audit[-1]["prev_hash"] == audit[-2]["hash"] and audit[0]["prev_hash"] == "0" * 64
    assert "stream copy" in (dest / "README.txt").read_text()
    rows = list(csv.DictReader((dest / "timeline.csv").open()))
    assert all(r["package_extract"].startswith("extracts/") for r in rows)
    assert (dest / rows[0]["package_snapshot"]).read_bytes() == Path(rows[0]["snapshot_path"]).read_bytes()

    report = verify_package(dest, expect=res.manifest_sha256)
    assert report.clean and report.ok == report.checked == len(manifest["files"])
    # flip one byte of one extract: detected
    victim = dest / rows[1]["package_extract"]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    (dest / rows[0]["package_snapshot"]).unlink()
    (dest / "extracts" / "planted.txt").write_text("x")
    bad = verify_package(dest, expect=res.manifest_sha256)
    assert bad.changed == (rows[1]["package_extract"],)
    assert bad.missing == (rows[0]["package_snapshot"],)
    assert bad.unlisted == ("extracts/planted.txt",) and not bad.clean
    assert f"CHANGED: {rows[1]['package_extract']}" in bad.problems and len(bad.problems) == 3

    # never overwritten, and a refused export leaves the old package as it was
    before = sorted((p.as_posix(), p.stat().st_size) for p in dest.rglob("*"))
    with pytest.raises(EvidenceError, match="never overwritten"):
        export_package(idx, iter_sightings(idx, SearchQuery(plate="51F12345")), dest)
    assert sorted((p.as_posix(), p.stat().st_size) for p in dest.rglob("*")) == before
    assert not list(tmp_path.glob(".pkg.partial-*"))


def test_package_reports_a_changed_clip_and_builds_into_an_empty_folder(tmp_path: Path) -> None:
    from searchscene import build_street

    idx = Index.open(tmp_path / "c.db", create=True)
    build_street(idx, tmp_path)
    clip_b = idx.db.execute("SELECT path FROM clips WHERE camera_id = 'B'").fetchone()[0]
    with open(clip_b, "ab") as f:
        f.write(b"tampered")
    (tmp_path / "empty").mkdir()
    res = export_package(idx, iter_sightings(idx, SearchQuery(plate="51F12345")), tmp_path / "empty")
    assert res.extracts == 3 and any("clip changed since ingest" in p and clip_b in p for p in res.problems)
    assert verify_package(tmp_path / "empty", expect=res.manifest_sha256).clean
    assert "nothing vouches" in verify_package(tmp_path / "empty").anchor_problem
    assert "clip changed since ingest" in (tmp_path / "empty" / "README.txt").read_text()
    with pytest.raises(EvidenceError, match="no evidence package"):
        verify_package(tmp_path / "nowhere")
    idx.close()


def test_timeline_shows_dvr_time_and_clock_uncertainty(street: tuple[Index, Scene], tmp_path: Path) -> None:
    idx, _ = street
    export_timeline(idx, iter_sightings(idx, SearchQuery(plate="51F12345")), tmp_path / "t.csv")
    first = next(csv.DictReader((tmp_path / "t.csv").open(encoding="utf-8")))
    assert first["time_dvr_local"] == first["time_local"]  # camera A's clock has no offset
    assert "clock_uncertainty_s" in first and first["plate_frame"] == "20"
