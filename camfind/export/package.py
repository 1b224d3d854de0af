"""Evidence packages: build one (timeline, snapshots, lossless extracts, audit, README, manifest)
and verify one later.

Layout of a package folder::

    timeline.csv        one row per sighting (export.TIMELINE_COLUMNS + the package's own files)
    snapshots/          the sightings' snapshot images, copied byte for byte
    extracts/           per sighting, a stream copy of its clip segment with a margin
    audit.jsonl         the index's audit log (hash-chained) up to the export
    README.txt          how the package was produced and how to check it
    manifest.json       SHA-256 and size of every file above, and what each extract came from
    SHA256SUMS          the same hashes (and the manifest's) for ``sha256sum -c``

A package is built in a hidden folder beside its destination and renamed into place at the end:
an existing package is never overwritten, and a failed export leaves nothing behind.

>>> import tempfile, pathlib
>>> verify_package(pathlib.Path(tempfile.mkdtemp()) / "none")
Traceback (most recent call last):
...
camfind.errors.EvidenceError: no evidence package at ...
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camfind import __version__
from camfind.csvsafe import SafeDictWriter
from camfind.errors import EvidenceError
from camfind.evidence import sha256_file
from camfind.export.extract import extract_segment, extract_suffix
from camfind.export.timeline import TIMELINE_COLUMNS, TimelineContext
from camfind.types import Sighting

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

FORMAT = "camfind-evidence-package/1"
PACKAGE_COLUMNS = (*TIMELINE_COLUMNS, "package_snapshot", "package_plate_snapshot", "package_extract",
                   "extract_start_s", "extract_end_s")
_NOT_LISTED = {"manifest.json", "SHA256SUMS"}


@dataclass(frozen=True)
class PackageResult:
    """What :func:`export_package` wrote."""

    path: Path
    rows: int
    files: int
    snapshots: int
    extracts: int
    problems: tuple[str, ...]
    manifest_sha256: str


@dataclass(frozen=True)
class PackageReport:
    """Result of :func:`verify_package`: files checked, matching, changed, missing, unlisted;
    where SHA256SUMS disagrees with the manifest; and what vouches for the manifest itself
    (``anchor``: ``index`` for the index's audit entry of the export, ``expect`` for the hash the
    user gave, empty when nothing does, ``anchor_problem`` saying why)."""

    checked: int
    ok: int
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    unlisted: tuple[str, ...] = ()
    manifest_sha256: str = ""
    sums: tuple[str, ...] = ()
    anchor: str = ""
    anchor_entry: int | None = None
    anchor_problem: str = ""

    @property
    def clean(self) -> bool:
        """True when every listed file is present and unchanged, nothing was added, SHA256SUMS
        agrees with the manifest, and the manifest's own hash is vouched for."""
        return not (self.changed or self.missing or self.unlisted or self.sums or self.anchor_problem)

    @property
    def problems(self) -> tuple[str, ...]:
        """One line per thing that does not verify."""
        return tuple([f"CHANGED: {p}" for p in self.changed] + [f"MISSING: {p}" for p in self.missing]
                     + [f"UNLISTED: {p}" for p in self.unlisted] + [f"SHA256SUMS: {p}" for p in self.sums]
                     + ([f"MANIFEST: {self.anchor_problem}"] if self.anchor_problem else []))


def export_package(
    index: Index,
    sightings: Iterable[Sighting],
    dest: str | Path,
    *,
    margin_s: float = 5.0,
    request: Mapping[str, Any] | None = None,
) -> PackageResult:
    """Build an evidence package at ``dest`` (which must not exist, or be an empty folder).

    Args:
        index: the case index.
        sightings: the sightings to include, in the order wanted (streamed).
        dest: the package folder to create.
        margin_s: seconds of footage kept before and after each sighting in its extract.
        request: what was asked (command, filters), recorded in the manifest and README.

    Raises:
        EvidenceError: ``dest`` exists and is not an empty folder.
    """
    target = Path(dest)
    _refuse_existing(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        builder = _Builder(index, tmp, margin_s)
        rows = builder.write_timeline(sightings)
        builder.write_audit()
        builder.write_readme(request or {}, rows)
        digest = builder.write_manifest(request or {}, rows)
        _refuse_existing(target)
        if target.exists():
            target.rmdir()  # an empty folder the user made for it
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    kinds = [f["kind"] for f in builder.files]
    return PackageResult(target, rows, len(builder.files) + 2, kinds.count("snapshot"), kinds.count("extract"),
                         tuple(builder.problems), digest)


def _refuse_existing(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise EvidenceError(f"{target} already exists: an evidence package is never overwritten; choose a new folder")


class _Builder:
    """Writes the files of one package into a staging folder and records each in the manifest."""

    def __init__(self, index: Index, root: Path, margin_s: float) -> None:
        self.index, self.root, self.margin_s = index, root, margin_s
        self.ctx = TimelineContext(index)
        self.files: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self._clip_ok: dict[int, bool] = {}
        self._snaps: dict[str, str] = {}
        self._extracts: dict[tuple[int, float, float], tuple[str, float | str, float | str]] = {}
        self.audit_head: dict[str, Any] | None = None
        for sub in ("snapshots", "extracts"):
            (root / sub).mkdir(parents=True)

    def _record(self, rel: str, kind: str, **extra: Any) -> None:
        sha, size = sha256_file(self.root / rel)
        self.files.append({"path": rel, "kind": kind, "sha256": sha, "bytes": size, **extra})

    def write_timeline(self, sightings: Iterable[Sighting]) -> int:
        n = 0
        with (self.root / "timeline.csv").open("w", encoding="utf-8", newline="") as f:
            writer = SafeDictWriter(f, fieldnames=list(PACKAGE_COLUMNS), lineterminator="\n")
            writer.writeheader()
            for s in sightings:
                row = self.ctx.row(s)
                row["package_snapshot"] = self._snapshot(s.snapshot, s.snapshot_sha256, s)
                row["package_plate_snapshot"] = self._snapshot(s.plate_snapshot, s.plate_snapshot_sha256, s,
                                                               frame=s.plate_frame)
                rel, a, b = self._extract(s)
                row.update(package_extract=rel, extract_start_s=a, extract_end_s=b)
                writer.writerow(row)
                n += 1
        self._record("timeline.csv", "timeline", rows=n)
        return n

    def _snapshot(self, path: str | None, expected_sha: str | None, s: Sighting, frame: int | None = None) -> str:
        """Copy one snapshot of a sighting (its vehicle's, or its plate read's) into the package."""
        if not path:
            return ""
        if path in self._snaps:
            return self._snaps[path]
        src = Path(path)
        rel = ""
        if not src.is_file():
            self.problems.append(f"snapshot missing: {src}")
        else:
            rel = f"snapshots/{(expected_sha or 'nohash')[:16]}_{src.name}"
            shutil.copyfile(src, self.root / rel)
            sha, _ = sha256_file(self.root / rel)
            if expected_sha and sha != expected_sha:
                self.problems.append(f"snapshot changed since analysis, not included: {src}")
                (self.root / rel).unlink()
                rel = ""
            else:
                self._record(rel, "snapshot", source=str(src), clip_sha256=s.clip_sha256,
                             frame=s.frame if frame is None else frame)
        self._snaps[path] = rel
        return rel

    def _clip_verified(self, s: Sighting) -> bool:
        if s.clip_id not in self._clip_ok:
            try:
                sha, _ = sha256_file(s.clip_path)
                ok = sha == s.clip_sha256
                if not ok:
                    self.problems.append(f"clip changed since ingest, no extract: {s.clip_path}")
            except OSError:
                ok = False
                self.problems.append(f"clip missing, no extract: {s.clip_path}")
            self._clip_ok[s.clip_id] = ok
        return self._clip_ok[s.clip_id]

    def _extract(self, s: Sighting) -> tuple[str, float | str, float | str]:
        if not self._clip_verified(s):
            return "", "", ""
        clip = self.ctx.clip(s.clip_id)
        start = max(0.0, s.time.timestamp() - clip.start_ts - self.margin_s)
        end = min(clip.duration_s, s.end_time.timestamp() - clip.start_ts + self.margin_s)
        key = (s.clip_id, round(start, 3), round(end, 3))
        if key not in self._extracts:
            name = f"{len(self._extracts) + 1:04d}_{s.camera_id}_{s.clip_sha256[:12]}_{start:.1f}-{end:.1f}s"
            rel = f"extracts/{_safe(name)}{extract_suffix(s.clip_path)}"
            try:  # a segment's times are from where it begins in its file
                ex = extract_segment(s.clip_path, self.root / rel, clip.seg_start_s + start, clip.seg_start_s + end)
            except EvidenceError as exc:
                self.problems.append(str(exc))
                self._extracts[key] = ("", "", "")
                return self._extracts[key]
            self._record(rel, "extract", source=s.clip_path, source_sha256=s.clip_sha256,
                         start_s=round(ex.start_s, 3), end_s=round(ex.end_s, 3), packets=ex.packets,
                         method="stream copy (PyAV), no re-encoding, from the keyframe at or before start")
            self._extracts[key] = (rel, round(ex.start_s, 3), round(ex.end_s, 3))
        return self._extracts[key]

    def write_audit(self) -> None:
        from camfind.index.queries import list_audit

        with (self.root / "audit.jsonl").open("w", encoding="utf-8") as f:
            for e in list_audit(self.index):
                self.audit_head = {"id": e.id, "hash": e.hash}
                f.write(json.dumps({
                    "id": e.id, "time": e.time.isoformat(), "ts": e.ts, "user": e.user, "command": e.command,
                    "args_json": e.args_json, "counts_json": e.counts_json, "prev_hash": e.prev_hash, "hash": e.hash,
                }, ensure_ascii=False) + "\n")
        self._record("audit.jsonl", "audit")

    def write_readme(self, request: Mapping[str, Any], rows: int) -> None:
        text = _readme(self.index, request, rows, self.margin_s, self.problems, self.audit_head)
        (self.root / "README.txt").write_text(text, encoding="utf-8")
        self._record("README.txt", "readme")

    def write_manifest(self, request: Mapping[str, Any], rows: int) -> str:
        manifest = {
            "format": FORMAT, "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "camfind_version": __version__, "index": _index_named(self.index),
            "case_timezone": self.index.tz, "request": dict(request), "rows": rows,
            "margin_s": self.margin_s, "problems": self.problems, "audit_head": self.audit_head,
            "files": self.files,
        }
        (self.root / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n",
                                                 encoding="utf-8")
        digest, _ = sha256_file(self.root / "manifest.json")
        sums = [f"{f['sha256']}  {f['path']}" for f in self.files] + [f"{digest}  manifest.json"]
        (self.root / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
        return digest


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)


def _readme(index: Index, request: Mapping[str, Any], rows: int, margin_s: float, problems: list[str],
            audit_head: Mapping[str, Any] | None) -> str:
    head = ("(the log was empty)" if audit_head is None
            else f"entry {audit_head['id']}, {audit_head['hash']}")
    asked = "\n".join(f"  {k}: {v}" for k, v in request.items()) or "  (not recorded)"
    issues = "\n".join(f"  - {p}" for p in problems) or "  none"
    return f"""camfind evidence package
========================

Produced by camfind {__version__} on {datetime.now(UTC).isoformat(timespec="seconds")} (UTC)
from the index {_index_named(index)} (case time zone {index.tz}).

What was asked:
{asked}

Contents:
  timeline.csv   {rows} sightings in time order: local and UTC time, where the time came from
                 (time_source) and the DVR clock offset applied, camera, owner, clip path and
                 SHA-256, offset into the clip, frame, class, colour, plate, direction,
                 confidence, snapshot path and SHA-256, and this package's copies.
  snapshots/     the snapshot images, copied byte for byte (their SHA-256 as at analysis).
  extracts/      for each sighting, its clip segment with {margin_s:g} s before and after, copied
                 packet for packet (stream copy, no re-encoding) from the keyframe at or before
                 the segment start. Each source clip was re-hashed before copying and matched
                 its SHA-256 recorded at ingest.
  audit.jsonl    the index's append-only audit log up to this export (ingest and analysis of
                 these clips among it), whole, so its hash chain verifies from the first entry:
                 each entry carries the hash of the previous one. Its head at export:
                 {head}
                 (camfind audit --check --expect HASH on the index proves it still holds it).
  manifest.json  SHA-256 and size of every file, and the source and segment of each extract.
  SHA256SUMS     the same hashes plus the manifest's, for `sha256sum -c SHA256SUMS`.

Timeline columns: time_local/time_utc = first seen (true time: the DVR clock offset in
clock_offset_s has been applied; time_source says where the clip's start time came from),
end_time_* = last seen; offset_s = seconds from the clip's start to first seen; frame = the
frame of the snapshot and frame_offset_s its offset into the clip; confidence = detection
confidence, plate_confidence = OCR confidence, face_distance = distance from the face probe;
track_id is empty for a plate read or face that belongs to no track; plate_time_local,
plate_frame and plate_snapshot_path name the plate read behind the plate shown;
time_dvr_local = first seen as the DVR's clock showed it, clock_uncertainty_s = how sure the
camera's clock offset is (empty: unknown). A text cell that begins
with = + - @, a tab, a carriage return or ' is written with one more ' in front, so that
spreadsheets show it as text and never run it as a formula: drop that one leading ' to read the
text as it was recorded.

Problems met while exporting:
{issues}

To check this package later: camfind verify --package <this folder> with its index, whose
audit log recorded the manifest's SHA-256 at export; away from the index:
camfind verify --package <this folder> --expect <the manifest SHA-256 printed at export>.
(cd <this folder> && sha256sum -c SHA256SUMS checks the files against SHA256SUMS only: whoever
can edit a file can edit SHA256SUMS and the manifest too, so keep the manifest's SHA-256 apart.)
"""


def verify_package(path: str | Path, *, index: Index | None = None, expect: str | None = None) -> PackageReport:
    """Re-hash every file a package's manifest lists, check SHA256SUMS against the manifest, and
    check the manifest's own SHA-256: against ``expect`` (the hash printed at export, for a
    package checked away from its index), else against the audit entry of the export in
    ``index``. A package nothing vouches for is not clean: whoever edits a file could edit its
    manifest entry too.

    Returns the files that match, changed, are missing, files present but not listed, and the
    SHA256SUMS and manifest findings.

    Raises:
        EvidenceError: no package (or an unreadable manifest) at ``path``.
    """
    root = Path(path)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise EvidenceError(f"no evidence package at {root} (manifest.json not found)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = [(str(f["path"]), str(f["sha256"])) for f in manifest["files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EvidenceError(f"unreadable manifest {manifest_path}: {exc}") from None
    ok, changed, missing = 0, [], []
    for rel, expected in files:
        full = (root / rel).resolve()
        if root.resolve() not in full.parents or not full.is_file():
            missing.append(rel)
            continue
        if sha256_file(full)[0] == expected:
            ok += 1
        else:
            changed.append(rel)
    listed = {rel for rel, _ in files} | _NOT_LISTED
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    digest, _ = sha256_file(manifest_path)
    sums = _sums_problems(root / "SHA256SUMS", files, digest)
    anchor, entry, problem = _anchor(digest, root, index, expect)
    return PackageReport(len(files), ok, tuple(changed), tuple(missing), tuple(sorted(present - listed)), digest,
                         tuple(sums), anchor, entry, problem)


def _sums_problems(path: Path, files: list[tuple[str, str]], manifest_sha256: str) -> list[str]:
    """Where SHA256SUMS says otherwise than the manifest (and the manifest's actual hash)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [f"unreadable or missing ({exc.__class__.__name__}): it must list every file of the manifest"]
    listed: dict[str, str] = {}
    problems = []
    for n, line in enumerate(lines, start=1):
        sha, sep, rel = line.partition("  ")
        if not sep or len(sha) != 64 or rel in listed:
            problems.append(f"line {n} is not 'SHA-256  file' once per file: {line[:80]!r}")
            continue
        listed[rel] = sha
    expected = dict(files) | {"manifest.json": manifest_sha256}
    for rel, sha in expected.items():
        if rel not in listed:
            problems.append(f"{rel} is in the manifest but not in SHA256SUMS")
        elif listed[rel] != sha:
            other = "the manifest itself hashes to" if rel == "manifest.json" else "the manifest says"
            problems.append(f"{rel}: SHA256SUMS says {listed[rel]}, {other} {sha}")
    problems += [f"{rel} is in SHA256SUMS but not in the manifest" for rel in listed if rel not in expected]
    return problems


def _anchor(digest: str, root: Path, index: Index | None, expect: str | None) -> tuple[str, int | None, str]:
    """What vouches for the manifest's hash: (``expect`` | ``index`` | "", audit entry, problem)."""
    if expect is not None:
        if digest == expect.strip().lower():
            return "expect", None, ""
        return "", None, (f"the manifest hashes to {digest}, not to the expected {expect.strip().lower()}: the "
                          "manifest was changed since export (or this is another package)")
    if index is None:
        return "", None, ("nothing vouches for the manifest itself: give --expect HASH (the manifest SHA-256 printed "
                          "at export) or check the package with its index (--db)")
    from camfind.audit import check
    from camfind.index.queries import list_audit

    recorded = [(e.id, e.counts) for e in list_audit(index) if e.command == "export timeline"]
    entry = next((eid for eid, counts in recorded if counts.get("manifest_sha256") == digest), None)
    if entry is None:
        same = [(eid, counts) for eid, counts in recorded if counts.get("package") in (str(root), str(root.resolve()))]
        if same:
            eid, counts = same[-1]
            return "", None, (f"the index's audit entry {eid} recorded manifest SHA-256 "
                              f"{counts.get('manifest_sha256')} for {root}; the manifest now hashes to {digest}: "
                              "it was changed since export")
        return "", None, (f"no export in the index {index.shown} recorded this manifest (SHA-256 {digest}): it was "
                          "changed since export, or the package comes from another index (check it with --expect HASH)")
    chain = check(index)
    if not chain.ok:
        return "", entry, (f"the index's audit chain, which records this export (entry {entry}), is broken: "
                           f"{chain.reason}")
    return "index", entry, ""


def _index_named(index: Index) -> str:
    """The index as a package names it: the file's absolute path, or the case's URL without its password."""
    return os.path.abspath(index.path) if index.is_file else index.shown
