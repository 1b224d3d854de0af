"""`verify --package` does not trust the manifest it reads: SHA256SUMS is checked against it, and
its own hash against the index's audit entry of the export (or `--expect HASH` away from the index)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_run import run

#: These tests copy or damage the index file itself.
pytestmark = pytest.mark.sqlite_file



@pytest.fixture
def package(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    copy = tmp_path / "case.db"
    shutil.copyfile(db, copy)
    monkeypatch.setenv("CAMFIND_DB", str(copy))
    pkg = tmp_path / "pkg"
    result = run("export", "timeline", "--plate", "51F-123.45", "--package", pkg, "--margin", "0")
    assert result.exit_code == 0, result.stderr
    found = re.search(r"manifest SHA-256 ([0-9a-f]{64})", result.stderr)
    assert found
    return pkg, found.group(1)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rewrite_consistently(pkg: Path, edit_files: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    """Edit the manifest's file list, then rewrite SHA256SUMS to match: only the anchor can tell."""
    manifest = json.loads((pkg / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = edit_files(manifest["files"])
    (pkg / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    sums = [f"{f['sha256']}  {f['path']}" for f in manifest["files"]]
    sums.append(f"{_sha(pkg / 'manifest.json')}  manifest.json")
    (pkg / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")


def test_an_untouched_package_is_vouched_for_by_the_index(package: tuple[Path, str]) -> None:
    pkg, _ = package
    result = run("verify", "--package", pkg, "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["clean"] and report["manifest"]["vouched_by"] == "index" and report["sha256sums"] == []
    assert "vouched for by the index's audit entry" in run("verify", "--package", pkg).stdout


def test_a_csv_edited_with_its_manifest_entry_fails(package: tuple[Path, str]) -> None:
    pkg, _ = package
    timeline = pkg / "timeline.csv"
    timeline.write_text(timeline.read_text(encoding="utf-8").replace("51F-123.45", "51F-999.99"), encoding="utf-8")

    def fix(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**f, "sha256": _sha(timeline), "bytes": timeline.stat().st_size} if f["path"] == "timeline.csv"
                else f for f in files]

    _rewrite_consistently(pkg, fix)
    result = run("verify", "--package", pkg)
    assert result.exit_code == 1 and "MANIFEST:" in result.stdout and "it was changed since export" in result.stdout


def test_a_snapshot_removed_with_its_entry_fails(package: tuple[Path, str]) -> None:
    pkg, _ = package
    snapshot = next((pkg / "snapshots").iterdir())
    snapshot.unlink()
    rel = snapshot.relative_to(pkg).as_posix()
    _rewrite_consistently(pkg, lambda files: [f for f in files if f["path"] != rel])
    result = run("verify", "--package", pkg, "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["changed"] == report["missing"] == [] and report["sha256sums"] == []
    assert not report["clean"] and "changed since export" in report["manifest"]["problem"]


def test_sha256sums_edited_alone_fails(package: tuple[Path, str]) -> None:
    pkg, _ = package
    sums = pkg / "SHA256SUMS"
    lines = sums.read_text(encoding="utf-8").splitlines()
    lines[0] = "0" * 64 + lines[0][64:]
    sums.write_text("\n".join(lines[:-2] + lines[-1:]) + "\n", encoding="utf-8")
    result = run("verify", "--package", pkg, "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["manifest"]["vouched_by"] == "index"
    assert len(report["sha256sums"]) == 2 and all("SHA256SUMS" in p or "manifest" in p for p in report["sha256sums"])


def test_away_from_its_index_the_expected_hash_vouches(package: tuple[Path, str], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pkg, digest = package
    moved = tmp_path / "elsewhere" / "pkg"
    shutil.copytree(pkg, moved)
    monkeypatch.setenv("CAMFIND_DB", str(tmp_path / "no-index-here.db"))
    alone = run("verify", "--package", moved)
    assert alone.exit_code == 1 and "nothing vouches for the manifest" in alone.stdout
    assert run("verify", "--package", moved, "--expect", digest.upper()).exit_code == 0
    wrong = run("verify", "--package", moved, "--expect", "ab" * 32)
    assert wrong.exit_code == 1 and "not to the expected" in wrong.stdout
    assert run("verify", "--package", moved, "--expect", "nope").exit_code == 2
