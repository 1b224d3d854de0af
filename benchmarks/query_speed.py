"""Query speed on a large generated index: plates (exact, wildcard, fuzzy), faces, trace, search.

Fills an index through camfind's Writer with generated analysis rows: 1M sightings (tracks), 1M
plate reads and 200k faces over 1,000 cameras (a linked grid) and 30 days (one 24 h clip per camera
per day; the clip files themselves are not written). 100k vehicles carry the plates (10% of reads
get an OCR look-alike error), 20k people the faces (128-d, same-person distance ~0.35). A planted
car drives a 10-camera route. Then it times (median of repeated runs, after one warm-up):

    exact plate, wildcard plate (literal prefix; a leading ``*`` is reported too), fuzzy ``~1``,
    face top-10 (cached matrix; the cold first query and a fresh-process load are reported too),
    a 10-hop trace (network, hops, gaps, frontier with footage coverage), a one-day search on one
    camera; index bytes per sighting; and the peak Python memory of a streaming timeline export
    of 10%, 50% and 100% of up to 300k rows (it must not grow with the rows).

With ``--backend postgresql`` the same case (filled into SQLite first, then moved with
``camfind index copy``'s library call) is measured on a PostgreSQL server: ``--pg-url`` (default
``$CAMFIND_TEST_PG``) names a database; the case lives in a schema of its own (``bench_<scale>``,
reused when filled). Both backends also time 8 searching processes while a writer adds analyses.

Usage:
    python benchmarks/query_speed.py              # full scale (fill takes several minutes)
    python benchmarks/query_speed.py --scale 0.1  # quick
    python benchmarks/query_speed.py --backend postgresql --pg-url postgresql://camfind:camfind@localhost/camfind_test
    python benchmarks/query_speed.py --json       # figures as one JSON object on the last line
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from camfind.export.timeline import write_timeline
from camfind.index import Index
from camfind.index.writer import AnalysisResult
from camfind.search import faces as face_search
from camfind.search.query import SearchQuery, iter_sightings, search
from camfind.search.trace import TraceTarget, trace
from camfind.types import AnalysisRun, Camera, Clip, Face, FaceSighting, PlateRead, PlateText, Snapshot, Track

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 30
GRID_W = 40
LETTERS = "ABCDEFGHKLMNPSTUVXYZ"
LOOKALIKE = {"0": "OD", "1": "IT", "2": "Z", "5": "S", "6": "G", "8": "B", "B": "8", "D": "0", "S": "5"}
CLASSES = ("car",) * 40 + ("motorcycle",) * 45 + ("person",) * 10 + ("bus", "truck", "bicycle") * 2
COLORS = ("white", "black", "silver/grey", "red", "blue")
ROUTE_PLATE = "99A-999.99"


def plate_text(rng: random.Random) -> str:
    n = f"{rng.randrange(100000):05d}"
    return f"{rng.randrange(11, 99)}{rng.choice(LETTERS)}-{n[:3]}.{n[3:]}"


def misread(text: str, rng: random.Random) -> str:
    chars = list(text)
    spots = [i for i, c in enumerate(chars) if c in LOOKALIKE]
    if spots:
        i = rng.choice(spots)
        chars[i] = rng.choice(LOOKALIKE[chars[i]])
    return "".join(chars)


class Generator:
    """Generated cameras, clips and analysis rows at a given scale."""

    def __init__(self, scale: float, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.n_cams = max(20, int(1000 * min(1.0, scale * 4)))  # keep a real network at small scales
        self.n_tracks = int(1_000_000 * scale)
        self.n_faces = int(200_000 * scale)
        self.plates = [plate_text(self.rng) for _ in range(max(1000, int(100_000 * scale)))]
        self.people = self.np.normal(size=(max(200, int(20_000 * scale)), 128)).astype(np.float32)
        self.people /= np.linalg.norm(self.people, axis=1, keepdims=True) / 0.6  # |centroid| 0.6, like dlib
        self.reads_per_plated = 1_000_000 * scale / (self.n_tracks * 0.9 * 0.85)

    def cameras(self) -> list[Camera]:
        cams = []
        for i in range(self.n_cams):
            r, c = divmod(i, GRID_W)
            nbrs = [f"C{j:04d}" for j in (i + 1 if c + 1 < GRID_W else -1, i + GRID_W) if 0 <= j < self.n_cams]
            kind = self.rng.choice(("public", "resident", "resident", "business"))
            cams.append(Camera(f"C{i:04d}", 10.75 + r * 0.0015, 106.65 + c * 0.0015, name=f"cam {i}",
                               owner_type=kind, owner_name=f"owner {i}", owner_contact=f"09{i:08d}",
                               neighbors=tuple(nbrs)))
        return cams

    def clip(self, cam: str, day: int) -> Clip:
        start = T0 + timedelta(days=day)
        sha = hashlib.sha256(f"{cam}/{day}".encode()).hexdigest()
        return Clip(camera_id=cam, path=f"/evidence/{cam}/day{day:02d}.mp4", sha256=sha, size_bytes=10**9,
                    start=start, start_raw=start, time_source="container", clock_offset_s=0.0,
                    duration_s=86400.0, fps=10.0, frames=864000, width=1280, height=720, codec="h264",
                    container="mp4")

    def analysis(
        self, clip: Clip, n_tracks: int, faces_left: list[int], extra: list[tuple[float, str]]
    ) -> AnalysisResult:
        rng = self.rng
        tracks, reads, faces, snaps = [], [], [], []
        specs = [(rng.uniform(0, 86390), rng.choice(CLASSES), None) for _ in range(n_tracks)]
        specs += [(offset, "car", plate) for offset, plate in extra]
        for no, (offset, cls, forced) in enumerate(specs, start=1):
            t0 = clip.start + timedelta(seconds=offset)
            frame = int(offset * 10)
            snap = Snapshot(clip.id or 0, frame, t0, f"/case/snapshots/{clip.sha256[:12]}/{frame}_track_{no}.jpg",
                            hashlib.sha256(f"{clip.id}/{no}".encode()).hexdigest())
            snaps.append(snap)
            plate = None
            if forced or (cls not in ("person", "bicycle") and rng.random() < 0.85):
                text = forced or rng.choice(self.plates)
                plate = PlateText(text, round(rng.uniform(0.6, 0.99), 2), "one-row", True)
                for _ in range(max(1, int(self.reads_per_plated + rng.random()))):
                    seen = text if forced or rng.random() > 0.1 else misread(text, rng)
                    reads.append(PlateRead(clip.id or 0, clip.camera_id, t0, frame, PlateText(seen, plate.confidence),
                                           track_id=no, snapshot=snap))
            if cls == "person" and faces_left[0] > 0:
                who = self.people[rng.randrange(len(self.people))]
                for _ in range(min(2, faces_left[0])):
                    enc = who + self.np.normal(scale=0.03, size=128).astype(np.float32)
                    faces.append(FaceSighting(clip.id or 0, clip.camera_id, t0, frame,
                                              Face((1.0, 1.0, 40.0, 40.0), enc), track_id=no, snapshot=snap))
                    faces_left[0] -= 1
            tracks.append(Track(clip.id or 0, clip.camera_id, no, cls, t0, t0 + timedelta(seconds=rng.uniform(2, 10)),
                                frame, frame + 50, 20, round(rng.uniform(0.4, 0.95), 2),
                                direction_deg=rng.uniform(0, 360), color=rng.choice(COLORS), plate=plate,
                                best_frame=frame + 25, snapshot=snap))
        return AnalysisResult(tracks, (), reads, faces, snaps)

    def fill(self, index: Index, log: Callable[[str], None]) -> None:
        w = index.writer
        if index.dialect == "sqlite":  # a generated file: no crash safety needed, a big page cache while filling
            index.db.execute("PRAGMA synchronous=OFF")
            index.db.execute("PRAGMA cache_size=-2000000")
        w.upsert_cameras(self.cameras())
        route = {f"C{i:04d}": (15 * 86400 + 3600 * 9 + 20 * i, ROUTE_PLATE) for i in range(10)}  # day 15, 09:00
        clips = [(f"C{i:04d}", d) for d in range(DAYS) for i in range(self.n_cams)]
        per_clip, rest = divmod(self.n_tracks - len(route), len(clips))
        faces_left = [self.n_faces]
        started = time.perf_counter()
        for k, (cam, day) in enumerate(clips):
            clip_id, _ = w.add_clip(self.clip(cam, day))
            clip = self.clip(cam, day)
            clip = Clip(**{**clip.__dict__, "id": clip_id})
            extra = [(route[cam][0] - day * 86400, route[cam][1])] if cam in route and day == 15 else []
            run = w.begin_run(AnalysisRun(clip_id, datetime.now(UTC), {"bench": True}, {}, "bench"))
            w.write_analysis(run, clip_id, self.analysis(clip, per_clip + (1 if k < rest else 0), faces_left, extra))
            if k % 2000 == 0:
                log(f"  filled {k}/{len(clips)} clips ({time.perf_counter() - started:.0f} s)")
        if index.dialect == "sqlite":
            index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            index.db.execute("PRAGMA cache_size=-2000")  # the default again: the queries are timed as opened


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time in ms over ``repeats`` runs after one warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def once(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def export_peak(index: Index, rows: int) -> float:
    """Peak Python memory (MiB) while streaming ``rows`` timeline rows to a null sink."""
    sink = io.StringIO()
    sink.write = lambda text: len(text)  # type: ignore[method-assign]
    tracemalloc.start()
    write_timeline(index, islice(iter_sightings(index, SearchQuery()), rows), sink)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def measure(index: Index, gen: Generator, repeats: int, log: Callable[[str], None]) -> dict[str, float]:
    known = gen.plates[123]
    norm = known.replace("-", "").replace(".", "")
    fuzzy = misread(norm, random.Random(3)) + "~1"
    figures: dict[str, float] = {}
    figures["exact_ms"], r = timed(lambda: search(index, SearchQuery(plate=known)), repeats)
    log(f"exact {known}: {len(r)} sightings")  # type: ignore[arg-type]
    figures["wildcard_ms"], r = timed(lambda: search(index, SearchQuery(plate=norm[:4] + "*")), repeats)
    log(f"wildcard {norm[:4]}*: {len(r)} sightings")  # type: ignore[arg-type]
    figures["wildcard_leading_ms"], r = timed(lambda: search(index, SearchQuery(plate="*" + norm[-5:])), repeats)
    log(f"wildcard *{norm[-5:]}: {len(r)} sightings")  # type: ignore[arg-type]
    figures["fuzzy_ms"], r = timed(lambda: search(index, SearchQuery(plate=fuzzy)), repeats)
    log(f"fuzzy {fuzzy}: {len(r)} sightings")  # type: ignore[arg-type]
    probe = gen.people[5]
    face_search._MEMO.clear()
    side = face_search.side_file(index.path)
    if side is not None:
        side.unlink(missing_ok=True)
    figures["face_cold_build_ms"] = once(lambda: face_search.rank_faces(index, [probe], top=10))
    face_search._MEMO.clear()
    figures["face_fresh_process_ms"] = once(lambda: face_search.rank_faces(index, [probe], top=10))
    top10 = SearchQuery(faces=(probe,), order="distance", limit=10)
    figures["face_ms"], r = timed(lambda: search(index, top10), repeats)
    log(f"face top-10: {len(r)} sightings, nearest {r[0].face_distance:.3f}")  # type: ignore[index]
    figures["trace_ms"], route = timed(lambda: trace(index, TraceTarget(plate=ROUTE_PLATE)), repeats)
    log(f"trace {ROUTE_PLATE}: {len(route.hops)} hops, {len(route.next_cameras)} next cameras")  # type: ignore[attr-defined]
    cam = f"C{min(42, gen.n_cams - 1):04d}"
    day = SearchQuery(cameras=(cam,), time_from=T0 + timedelta(days=10), time_to=T0 + timedelta(days=11))
    figures["search_ms"], r = timed(lambda: search(index, day), repeats)
    log(f"one-day search on one camera: {len(r)} sightings")  # type: ignore[arg-type]
    return figures


def _searcher(where: str, plates: list[str], ready: Any, stop: Any, out: Any) -> None:
    """One analyst: exact and wildcard plate searches in a loop until ``stop``; latencies (ms) out."""
    times: list[float] = []
    with Index.open(where) as index:
        search(index, SearchQuery(plate=plates[0]))
        ready.put(1)
        k = 0
        while not stop.is_set():
            plate = plates[k % len(plates)]
            pattern = plate if k % 2 == 0 else plate.replace("-", "").replace(".", "")[:4] + "*"
            t = time.perf_counter()
            search(index, SearchQuery(plate=pattern, limit=200))
            times.append((time.perf_counter() - t) * 1000)
            k += 1
    out.put(times)


def concurrent(where: str, gen: Generator, seconds: float, log: Callable[[str], None]) -> dict[str, float]:
    """8 searching processes for ``seconds`` while this process writes analyses of new clips."""
    ctx = mp.get_context("spawn")
    ready, stop, out = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_searcher, args=(where, gen.plates[i * 50:(i + 1) * 50], ready, stop, out))
             for i in range(8)]
    for p in procs:
        p.start()
    for _ in procs:  # every searcher has imported camfind and opened the index
        ready.get(timeout=300)
    writes = 0
    started = time.perf_counter()
    with Index.open(where) as index:
        w = index.writer
        while time.perf_counter() - started < seconds:
            clip = gen.clip(f"C{writes % gen.n_cams:04d}", DAYS + 1 + writes // gen.n_cams)
            clip_id, _ = w.add_clip(clip)
            clip = Clip(**{**clip.__dict__, "id": clip_id})
            run = w.begin_run(AnalysisRun(clip_id, datetime.now(UTC), {"bench": True}, {}, "bench"))
            w.write_analysis(run, clip_id, gen.analysis(clip, 30, [0], []))
            writes += 1
    elapsed = time.perf_counter() - started
    stop.set()
    latencies = sorted(t for _ in procs for t in out.get(timeout=120))
    for p in procs:
        p.join(60)
    log(f"8 searchers + 1 writer: {len(latencies)} searches, {writes} clip analyses written in {elapsed:.0f} s")
    return {"concurrent_search_p50_ms": statistics.median(latencies),
            "concurrent_search_p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
            "concurrent_searches_per_s": len(latencies) / elapsed,
            "concurrent_writes_per_s": writes / elapsed}


def _filled(where: str, scale: float, gen: Generator, log: Callable[[str], None]) -> Index:
    index = Index.open(where, create=True)
    if index.meta("bench_scale") != str(scale):
        log(f"filling {index.shown}: {gen.n_tracks} sightings, {gen.n_faces} faces, {gen.n_cams} cameras, {DAYS} days")
        t = time.perf_counter()
        gen.fill(index, log)
        index.writer.set_meta("bench_scale", str(scale))
        log(f"filled in {time.perf_counter() - t:.0f} s")
    return index


def _on_postgres(sqlite_index: Index, url: str, scale: float, log: Callable[[str], None]) -> tuple[Index, float | None]:
    """The case in its PostgreSQL schema, copied there first where it is not yet; the seconds the
    copy took (``index copy``'s library call, then ANALYZE), None when it was there already."""
    import psycopg

    from camfind.index.copy import copy_index

    schema = "bench_" + str(scale).replace(".", "_")
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    sep = "&" if "?" in url else "?"
    where = f"{url}{sep}options=-csearch_path%3D{schema},public"
    index = Index.open(where, create=True)
    if index.meta("bench_scale") == str(scale):
        return index, None
    index.close()
    log(f"copying the case into PostgreSQL schema {schema}")
    t = time.perf_counter()
    step = [0]

    def progress(done: int, total: int, table: str) -> None:
        if done >= step[0]:
            log(f"  copied {done}/{total} rows, now {table} ({time.perf_counter() - t:.0f} s)")
            step[0] = done + max(1, total // 20)

    copy_index(sqlite_index, where, progress=progress)
    index = Index.open(where)
    with index.transaction():
        index.writer.set_meta("bench_scale", str(scale))
    index.db.execute("ANALYZE")
    seconds = time.perf_counter() - t
    log(f"copied in {seconds:.0f} s")
    return index, seconds


def _size(index: Index, db: Path) -> int:
    if index.dialect == "postgresql":
        row = index.db.execute("SELECT SUM(pg_total_relation_size(quote_ident(table_name))) FROM "
                               "information_schema.tables WHERE table_schema = current_schema()").fetchone()
        return int(row[0] or 0)
    index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(db) + (os.path.getsize(f"{db}-wal") if os.path.exists(f"{db}-wal") else 0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M sightings (default); 0.1 for a quick run")
    ap.add_argument("--db", type=Path, help="Index file to fill (reused if it holds this scale already)")
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("CAMFIND_TEST_PG"), help="PostgreSQL database for the case")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--concurrent-s", type=float, default=20.0, help="seconds of 8 searchers + 1 writer (0: skip)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object on the last line")
    args = ap.parse_args(argv)
    log = (lambda m: print(m, file=sys.stderr)) if args.json else print
    logging.basicConfig(level=logging.WARNING)
    db = args.db or Path(tempfile.mkdtemp(prefix="camfind-bench-")) / "bench.db"
    gen = Generator(args.scale)
    index = _filled(str(db), args.scale, gen, log)
    copy_s = None
    if args.backend == "postgresql":
        if not args.pg_url:
            ap.error("--backend postgresql needs --pg-url (or $CAMFIND_TEST_PG)")
        index, copy_s = _on_postgres(index, args.pg_url, args.scale, log)
    counts = {k: index.db.execute(f"SELECT COUNT(*) FROM {k}").fetchone()[0]
              for k in ("tracks", "plate_reads", "face_sightings", "plate_vocab", "clips", "cameras")}
    log(f"index ({index.dialect}): {counts}")
    figures = measure(index, gen, args.repeats, log)
    if copy_s is not None:
        figures["copy_s"] = copy_s
    figures["bytes_per_sighting"] = round(_size(index, db) / max(1, counts["tracks"]), 1)
    n = min(300_000, counts["tracks"])
    for share in (10, 50, 100):  # streaming: the peak must not grow with the rows exported
        figures[f"export_peak_mib_{share}pct"] = round(export_peak(index, n * share // 100), 2)
    figures["export_rows_100pct"] = n
    where = index.path
    index.close()
    if args.concurrent_s > 0:
        figures.update(concurrent(where, gen, args.concurrent_s, log))
    figures = {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}
    figures["scale"] = args.scale
    figures["backend"] = args.backend
    figures.update({f"n_{k}": v for k, v in counts.items()})
    aims = {"exact_ms": 5, "wildcard_ms": 50, "fuzzy_ms": 100, "face_ms": 200, "trace_ms": 500}
    for key, value in figures.items():
        aim = f"  (aim < {aims[key]})" if key in aims else ""
        log(f"{key:>28}: {value}{aim}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
