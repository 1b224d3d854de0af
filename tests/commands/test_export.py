"""`camfind export timeline`: CSV file and stdout, --track, --package (verified by `camfind verify
--package`), never overwritten, the audit entry naming the manifest."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from cli_run import rows, run, run_json

from camfind.export.timeline import TIMELINE_COLUMNS
from camfind.index.postgres import redact


def test_timeline_to_file_and_stdout(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    result = run("export", "timeline", "--plate", "51F*", "--class", "car", "--out", out)
    assert result.exit_code == 0, result.stderr
    table = list(csv.DictReader(out.open(encoding="utf-8")))
    assert tuple(table[0]) == TIMELINE_COLUMNS
    assert [r["camera_id"] for r in table] == ["A", "B", "C", "D"] and "wrote 4 rows" in result.stderr
    assert table[2]["plate"] == "51F-1Z3.45" and table[0]["owner_type"] == "public"
    streamed = run("export", "timeline", "--camera", "B")
    assert streamed.exit_code == 0, streamed.stderr
    b = list(csv.DictReader(io.StringIO(streamed.stdout)))
    assert {r["camera_id"] for r in b} == {"B"} and len(b) == 3
    assert [r["time_local"] for r in b] == sorted(r["time_local"] for r in b)


def test_track_export_and_bad_combination(db: Path, tmp_path: Path) -> None:
    track = run_json("search", "--plate", "51F12345", "--camera", "B")[0]["track_id"]
    result = run("export", "timeline", "--track", str(track), "--out", tmp_path / "t.csv")
    assert result.exit_code == 0, result.stderr
    assert [r["camera_id"] for r in csv.DictReader((tmp_path / "t.csv").open())] == ["A", "B", "D", "D"]
    bad = run("export", "timeline", "--track", str(track), "--plate", "51F*")
    assert bad.exit_code == 2 and "--track takes only" in bad.stderr


def test_package_verify_and_never_overwrite(db: Path, tmp_path: Path) -> None:
    pkg = tmp_path / "case-12"
    result = run("export", "timeline", "--plate", "51F-123.45", "--package", pkg, "--margin", "1")
    assert result.exit_code == 0, result.stderr
    assert "4 sightings, 3 snapshots, 4 extracts" in result.stderr
    manifest = json.loads((pkg / "manifest.json").read_text())
    assert manifest["request"]["plate"] == "51F-123.45" and manifest["rows"] == 4
    assert len(list((pkg / "extracts").iterdir())) == 4
    assert manifest["index"] == (redact(str(db)) if str(db).startswith("postgresql://") else str(Path(db).resolve()))
    assert all(":camfind@" not in p.read_text(errors="ignore") for p in pkg.rglob("*") if p.suffix in (".json", ".txt"))
    entry = rows(db, "SELECT command, counts_json FROM audit ORDER BY id DESC LIMIT 1")[0]
    counts = json.loads(entry[1])
    assert entry[0] == "export timeline" and counts["package"] == str(pkg) and len(counts["manifest_sha256"]) == 64

    checked = run("verify", "--package", pkg)
    assert checked.exit_code == 0, checked.stderr + checked.stdout
    snapshot = next((pkg / "snapshots").iterdir())
    data = bytearray(snapshot.read_bytes())
    data[-3] ^= 0xFF
    snapshot.write_bytes(bytes(data))
    tampered = run("verify", "--package", pkg, "--json")
    report = json.loads(tampered.stdout)
    assert tampered.exit_code == 1 and report["changed"] == [snapshot.relative_to(pkg).as_posix()]
    assert report["checked"] == report["ok"] + 1 and report["missing"] == []

    again = run("export", "timeline", "--plate", "51F-123.45", "--package", pkg)
    assert again.exit_code == 2 and "never overwritten" in again.stderr
    assert json.loads((pkg / "manifest.json").read_text()) == manifest
