"""Bad input of every kind: one line on stderr naming the problem, exit 2, nothing written or lost.

Each test checks the message, the exit code and the rows (or bytes) left behind; what is attacked:
times out of range, absurd clock offsets and link lengths, bad directions and statuses, broken
camera files, index paths that are folders, empty files, other programs' databases or read-only,
odd things met by ingest (pipes, devices, broken links, unreadable folders), a file-size limit
reached mid-ingest (then resumed without duplicates), and a demo folder that is a file. The case
tests run on each backend; those of the SQLite file itself (read-only, size limit, its path as an
output) are marked ``sqlite_file``.
"""

from __future__ import annotations

import hashlib
import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import rows, run, run_json
from clipfactory import CAMERAS_CSV, write_clip
from typer.testing import Result

CLIP_NAME = "CAM01_20240125_101500.mp4"


@pytest.fixture
def case(case: str, tmp_path: Path) -> str:
    """A case with cameras, on each backend ($CAMFIND_DB); tests of the SQLite file itself are
    marked ``sqlite_file``."""
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    assert run("cameras", "import", tmp_path / "cameras.csv").exit_code == 0
    return case


def refused(result: Result, *fragments: str) -> str:
    """Exit 2, no traceback, one 'camfind: error:' line containing every fragment; returns it."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("camfind: error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- times, offsets, lengths, directions, statuses ----------------------------------------------
@pytest.mark.parametrize("when", ["0001-01-01 00:00", "0001-01-01"])
@pytest.mark.parametrize(
    "command",
    [
        ("cameras", "set-clock", "CAM01", "--dvr-time", "{T}", "--actual-time", "2024-01-25 10:00"),
        ("search", "--from", "{T}"),
        ("coverage", "--from", "{T}"),
        ("export", "timeline", "--to", "{T}"),
        ("ingest", "{CLIP}", "--start", "{T}", "--no-analyze"),
    ],
)
def test_time_before_year_one_utc_is_refused(case: str, tmp_path: Path, command: tuple[str, ...], when: str) -> None:
    clip = write_clip(tmp_path / "CAM01" / CLIP_NAME)
    args = [a.replace("{T}", when).replace("{CLIP}", str(clip)) for a in command]
    refused(run(*args), repr(when), "out of range")
    assert rows(case, "SELECT COUNT(*) FROM clips") == [(0,)]
    assert rows(case, "SELECT COUNT(*) FROM clock_observations") == [(0,)]


def test_clock_offset_of_millennia_is_refused(case: str) -> None:
    result = run("cameras", "set-clock", "CAM01", "--dvr-time", "0001-01-01T00:00Z", "--actual-time", "2024-01-25")
    refused(result, "years apart")
    assert rows(case, "SELECT COUNT(*) FROM clock_observations") == [(0,)]
    assert rows(case, "SELECT clock_offset_s FROM cameras WHERE id = 'CAM01'") == [(0.0,)]


@pytest.mark.parametrize("meters", ["inf", "1e400", "nan", "1_00"])
def test_infinite_link_length_is_refused(case: str, meters: str) -> None:
    before = rows(case, "SELECT a, b, meters FROM camera_links ORDER BY a")
    refused(run("cameras", "link", "CAM01", "CAM03", "--meters", meters), "finite")
    assert rows(case, "SELECT a, b, meters FROM camera_links ORDER BY a") == before


@pytest.mark.parametrize("direction", ["nan", "inf", "-inf", "1e400", "9_0", "\uff19\uff10"])
def test_direction_that_is_no_bearing_is_refused(case: str, direction: str) -> None:
    refused(run("search", "--direction", direction), "expected a direction", repr(direction))


def test_unknown_clip_status_is_refused(case: str) -> None:
    refused(run("clips", "--status", "analysed-ish"), "unknown clip status", "registered, analyzed, failed")


# -- camera files --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("huge.csv", "id,lat,lon,name\nCAM09,10.7,106.7," + "x" * 200_000 + "\n", "row 2: not readable as CSV"),
        ("deep.geojson", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("header.csv", "id,lat,lon\n", "no cameras in the file"),
        ("excel.csv", "id;lat;lon\nCAM09;10,7;106,7\n", "row 2: column lat: expected a number, got '10,7'"),
        ("obj.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
                        '{"type": "Point", "coordinates": [106.7, 10.7]}, "properties": {"id": {"a": 1}}}]}',
         "feature 1: column id: expected a text or a number"),
    ],
)
def test_broken_camera_files_write_nothing(case: str, tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    before = rows(case, "SELECT * FROM cameras ORDER BY id")
    refused(run("cameras", "import", path), str(path), message)
    assert rows(case, "SELECT * FROM cameras ORDER BY id") == before


def test_semicolon_separated_camera_file_is_read(case: str, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("id;lat;lon;owner_type\nCAM09;10.7;106.7;business\n")
    assert run("cameras", "import", path).exit_code == 0
    assert rows(case, "SELECT lat, lon, owner_type FROM cameras WHERE id = 'CAM09'") == [(10.7, 106.7, "business")]


def test_camera_file_that_is_a_folder_or_a_device(case: str, tmp_path: Path) -> None:
    refused(run("cameras", "import", tmp_path), "is a folder, not a cameras file")
    refused(run("cameras", "import", os.devnull), "not a regular file")


# -- the index file ------------------------------------------------------------------------------
def test_index_path_that_is_a_folder(tmp_path: Path) -> None:
    refused(run("--db", tmp_path, "clips"), f"{tmp_path} is a folder", "camfind.db")


def test_index_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    refused(run("--db", blocker / "case.db", "cameras", "import", tmp_path / "cameras.csv"), "is a file, not a folder")
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("made", ["touched", "cut short"])
def test_empty_index_file_is_not_an_index_for_reading(index_path: Path, tmp_path: Path, made: str) -> None:
    if made == "touched":
        index_path.write_bytes(b"")
    else:  # a full disk or Ctrl-C during the first migration leaves only the bookkeeping table
        db = sqlite3.connect(index_path)
        db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_ts REAL)")
        db.commit()
        db.close()
    digest = sha256(index_path)
    refused(run("clips"), "holds no camfind index")
    assert sha256(index_path) == digest, "a read command must not turn the file into an index"
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    assert run("cameras", "import", tmp_path / "cameras.csv").exit_code == 0, "import may create it there"


def test_another_programs_database_is_left_untouched(index_path: Path, tmp_path: Path) -> None:
    db = sqlite3.connect(index_path)
    db.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    db.execute("INSERT INTO invoices VALUES (1, 9.5)")
    db.commit()
    db.close()
    digest = sha256(index_path)
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    for args in (("clips",), ("cameras", "import", tmp_path / "cameras.csv")):
        refused(run(*args), "SQLite database of another program", "invoices", "left untouched")
    assert sha256(index_path) == digest
    assert not Path(f"{index_path}-wal").exists()


def test_newer_schema_names_the_index(case: str) -> None:
    from camfind.index import Index

    index = Index.open(case)
    with index.transaction():
        index.db.execute("INSERT INTO schema_migrations VALUES (999, 'from_the_future', 0)")
    shown = index.shown
    index.close()
    refused(run("clips"), shown, "newer than this camfind")


@pytest.mark.sqlite_file
def test_read_only_index_is_refused_before_any_work(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import camfind.index.storage as storage

    real_access = os.access
    # As root a chmod does not stop writes; the OS answer for the index file is simulated.
    monkeypatch.setattr(storage.os, "access", lambda p, mode: False if Path(p) == Path(case) else real_access(p, mode))
    clip = write_clip(tmp_path / "CAM01" / CLIP_NAME)
    refused(run("ingest", clip, "--no-analyze"), f"cannot write the index {case}", "no permission", "copy it")
    monkeypatch.undo()
    assert rows(case, "SELECT COUNT(*) FROM clips") == [(0,)]
    assert [c for (c,) in rows(case, "SELECT command FROM audit")] == ["cameras import"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files; the simulated test above covers it")
@pytest.mark.sqlite_file
def test_read_only_index_file(case: str) -> None:
    Path(case).chmod(0o444)
    try:
        refused(run("clips"), "no permission to write the file")
    finally:
        Path(case).chmod(0o644)


# -- what ingest meets ---------------------------------------------------------------------------
def test_ingest_names_odd_files_and_keeps_going(case: str, tmp_path: Path) -> None:
    root = tmp_path / "export" / "CAM01"
    write_clip(root / CLIP_NAME)
    os.mkfifo(root / "CAM01_fifo.mp4")
    (root / "CAM01_gone.mp4").symlink_to(tmp_path / "nowhere.mp4")
    (root / "loop").symlink_to(root)
    result = run("ingest", root.parent, os.devnull, "--no-analyze", "--json")
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    summary = run_json("ingest", root.parent, "--no-analyze")
    assert summary["known"] == 1 and summary["ingested"] == 0
    skipped = {Path(s["path"]).name: s["reason"] for s in summary["skipped"]}
    assert skipped == {"CAM01_fifo.mp4": "not a regular file", "CAM01_gone.mp4": "broken link",
                       "loop": "link to a folder, not followed"}
    assert f"{os.devnull}: not a regular file" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_unreadable_folder_is_a_failure_not_silence(case: str, tmp_path: Path) -> None:
    locked = tmp_path / "export" / "CAM01"
    write_clip(locked / CLIP_NAME)
    locked.chmod(0)
    try:
        summary = run_json("ingest", locked.parent, "--no-analyze")
    finally:
        locked.chmod(0o755)
    assert summary["failed"] == [{"path": str(locked), "reason": "cannot read folder (Permission denied)"}]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".h264"])
def test_ingest_and_verify_leave_sources_untouched(case: str, tmp_path: Path, suffix: str) -> None:
    """Content, mode, mtime and (where the OS lets camfind say so) the access time stay as they were."""
    clip = write_clip(tmp_path / "CAM01" / f"CAM01_20240125_101500{suffix}")
    clip.chmod(0o444)
    digest, stat = sha256(clip), clip.stat()
    os.utime(clip, ns=(stat.st_mtime_ns - 10**12, stat.st_mtime_ns))  # atime before mtime: relatime would bump it
    before = clip.stat()
    assert run("ingest", clip, "--no-analyze").exit_code == 0
    assert run("verify").exit_code == 0
    after = clip.stat()
    for field in ("st_mode", "st_size", "st_mtime_ns", "st_ctime_ns", "st_ino"):
        assert getattr(after, field) == getattr(before, field), field
    if os.geteuid() == 0 or before.st_uid == os.geteuid():  # O_NOATIME is allowed to the owner
        assert after.st_atime_ns == before.st_atime_ns, "reading evidence updated its access time"
    assert sha256(clip) == digest


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_clip_growing_while_read_is_not_registered(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """A DVR export still being copied: the hash would be of half a file; the clip must fail, not register."""
    import camfind.ingest.probe as probe

    clip = write_clip(tmp_path / "CAM01" / f"CAM01_20240125_101500{suffix}")
    stage = "_probe_indexed" if suffix == ".mp4" else "_probe_source"
    real = getattr(probe, stage)

    def still_copying(*args: object) -> object:
        with clip.open("ab") as f:  # the copy goes on while camfind reads (simulated: the race made certain)
            f.write(b"\0" * 4096)
        return real(*args)

    monkeypatch.setattr(probe, stage, still_copying)
    result = run("ingest", clip, "--no-analyze")
    assert result.exit_code == 1 and "changed while it was read" in result.stderr, result.stderr
    assert rows(case, "SELECT COUNT(*) FROM clips") == [(0,)]


def _limited(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


@pytest.mark.sqlite_file
def test_file_size_limit_mid_ingest_then_resume_without_duplicates(case: str, tmp_path: Path) -> None:
    folder = tmp_path / "bulk" / "CAM01"
    n = 40
    for i in range(n):
        write_clip(folder / f"ch01_202401251{i // 60:01d}{i % 60:02d}00.mp4", seed=i, frames=5)
    env = {**os.environ, "CAMFIND_DB": str(case)}
    limit = Path(case).stat().st_size + 24_000  # the WAL file reaches it after a few clips
    proc = subprocess.run([sys.executable, "-m", "camfind", "ingest", str(folder), "--no-analyze"], env=env,
                          capture_output=True, preexec_fn=lambda: _limited(limit), timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert err.count("\n") == 1 and "file-size limit (ulimit -f)" in err and str(case) in err, err
    kept = rows(case, "SELECT COUNT(*) FROM clips")[0][0]
    assert kept < n
    summary = run_json("ingest", folder, "--no-analyze")
    assert (summary["known"], summary["ingested"], summary["failed"]) == (kept, n - kept, [])
    assert rows(case, "SELECT COUNT(*), COUNT(DISTINCT sha256) FROM clips") == [(n, n)]
    assert rows(case, "PRAGMA integrity_check") == [("ok",)]
    assert run("audit", "--check").exit_code == 0


def test_unknown_time_zone_creates_no_index(index_path: Path, tmp_path: Path) -> None:
    (tmp_path / "cameras.csv").write_text(CAMERAS_CSV)
    refused(run("cameras", "import", tmp_path / "cameras.csv", "--tz", "Mars/Olympus"), "Mars/Olympus")
    assert not index_path.exists(), "a half-made index without its time zone was left behind"


def test_verify_names_a_folder_in_place_of_a_clip(case: str, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "CAM01" / CLIP_NAME)
    assert run("ingest", clip, "--no-analyze").exit_code == 0
    clip.unlink()
    clip.mkdir()
    report = run_json("verify")
    assert report["missing"] == [str(clip)] and report["problems"][0]["detail"] == "a folder is in its place"


# -- outputs never overwrite evidence -----------------------------------------------------------
@pytest.fixture
def registered(case: str, tmp_path: Path) -> Path:
    clip = write_clip(tmp_path / "CAM01" / CLIP_NAME)
    assert run("ingest", clip, "--no-analyze").exit_code == 0
    return clip


@pytest.mark.parametrize(
    ("args", "target", "what"),
    [
        (("export", "timeline", "--out"), "{CLIP}", "is registered clip 1"),
        (("export", "timeline", "--out"), "{HARDLINK}", "is registered clip 1"),
        (("export", "timeline", "--out"), "{SYMLINK}", "is registered clip 1"),
        (("export", "timeline", "--out"), "{DB}", "is the index"),
        (("export", "timeline", "--out"), "{DB}-wal", "a file SQLite keeps beside it"),
        (("export", "timeline", "--package"), "{DB}", "is the index"),
        (("trace", "--track", "1", "--html"), "{CLIP}", "is registered clip 1"),
        (("trace", "--track", "1", "--geojson"), "{DB}", "is the index"),
        (("plates", "batch", "{WATCH}", "--out"), "{CLIP}", "is registered clip 1"),
        (("plates", "batch", "{WATCH}", "--out"), "{WATCH}", "the watchlist this command reads"),
    ],
)
@pytest.mark.sqlite_file
def test_output_options_never_overwrite_evidence(
    case: str, registered: Path, tmp_path: Path, args: tuple[str, ...], target: str, what: str
) -> None:
    (tmp_path / "hard.csv").hardlink_to(registered)
    (tmp_path / "sym.csv").symlink_to(registered)
    watch = tmp_path / "watch.csv"
    watch.write_text("plate\n51F12345\n")
    names = {"{CLIP}": registered, "{HARDLINK}": tmp_path / "hard.csv", "{SYMLINK}": tmp_path / "sym.csv",
             "{DB}": Path(case), "{WATCH}": watch}

    def fill(text: str) -> str:
        for key, value in names.items():
            text = text.replace(key, str(value))
        return text

    db = Path(case)
    before = {p: sha256(p) for p in (registered, db, watch)}
    refused(run(*(fill(a) for a in args), fill(target)), "camfind never overwrites evidence", what)
    assert {p: sha256(p) for p in before if p != db} == {p: h for p, h in before.items() if p != db}
    assert rows(case, "SELECT COUNT(*) FROM clips") == [(1,)]
    (outcome,) = rows(case, "SELECT json_extract(counts_json, '$.outcome') FROM audit ORDER BY id DESC LIMIT 1")
    assert outcome[0].startswith("error: EvidenceError"), "the refused attempt is audited"


# -- demo -----------------------------------------------------------------------------------------
def test_demo_workdir_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("keep me")
    refused(run("demo", "--workdir", target), "is a file")
    assert target.read_text() == "keep me"


@pytest.mark.sqlite_file
def test_demo_force_never_removes_a_real_case(registered: Path, case: str, tmp_path: Path) -> None:
    """A case folder (camfind.db beside clips/) is not an earlier demo: --force must not delete it."""
    real = tmp_path / "case-12"
    clip = write_clip(real / "clips" / "CAM01" / CLIP_NAME)
    Path(case).rename(real / "camfind.db")
    refused(run("demo", "--workdir", real, "--force"), "that camfind demo did not create", "never removes it")
    assert clip.is_file() and (real / "camfind.db").is_file()
    (real / "camfind.db").unlink()
    refused(run("demo", "--workdir", real, "--force"), "no sign of an earlier demo")
    assert clip.is_file()
