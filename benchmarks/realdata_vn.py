"""camfind's product path on the real Vietnamese footage of $CAMFIND_REALDATA/vn, scored by labels.json.

What a user does, as subprocesses of the CLI: in a case folder, ``cameras import`` (one camera per
clip, ``VN_<item>``, heading 0 so that image up = N, right = E, down = S, left = W), one folder per
camera holding a link to its clip and a ``manifest.csv`` with the start time, ONE ``camfind ingest``
of the whole folder with analysis on and default settings (timed: speed = video seconds / wall
seconds, model load included), then ``search --json`` (all sightings), ``search --plate P --json``
per legible plate, and ``plates read --json`` on the still frames.

Scored per item and in total (rules in benchmarks/vn_scoring.py):

* plates: legible label plates surfaced / misread / missed, false plates (sightings whose plate
  matches no label); the class and colour of the sighting(s) carrying each surfaced plate; per
  ``search --plate``: hits, and hits that show another plate than the one asked for.
* counts: sightings per class on the clip's camera against the objects the labels list one by
  one (``count`` groups and ``background`` objects apart). Sightings carry no box, so a label zone
  ("object bottom edge below y~280") cannot be applied: the counts are whole-frame, and labels that
  list only a zone undercount what the camera sees; read them as "same order or not".
* direction: labelled moving objects matched one-to-one to a sighting of their class, overlapping
  in time, within 45 degrees.
* stills: legible plates read by ``plates read``, misreads, false reads.
* colour on labelled image boxes: every labelled vehicle with a box and a scorable colour in the
  stills (groups with ``count`` left out), cut from the EXIF-oriented image as a track sample (the
  box and the track book's margin) and named by ``camfind.analysis.color`` (``box_votes``: body
  region, white balance on the sample around the box, pixel votes; ``decide``), against the
  label; also with votes on the body crop alone (``color_votes``, white-balanced on itself).

Prints tables, then one JSON object as the LAST line of stdout.

Usage: CAMFIND_REALDATA=DIR python benchmarks/realdata_vn.py [--realdata DIR] [--json-only]
       [--keep DIR] [--skip-clips] [--skip-images] [--use-script]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# This checkout's camfind (not an installed one) for the in-process colour section, and the helpers.
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO)]
import vn_scoring as sc  # noqa: E402

CASE_START = datetime(2024, 5, 1, 8, 0, 0)  # local time of the case; one clip every 10 minutes
CAMERA_PREFIX = "VN_"


def camera_id(item: dict[str, Any]) -> str:
    return f"{CAMERA_PREFIX}{item['id']}"


def load_labels(realdata: Path) -> list[dict[str, Any]]:
    with open(realdata / "vn" / "labels.json", encoding="utf-8") as fh:
        return list(json.load(fh)["items"])


class Cli:
    """Runs camfind commands on one case index, as a user would."""

    def __init__(self, db: Path, use_script: bool) -> None:
        base = [shutil.which("camfind") or "camfind"] if use_script else [sys.executable, "-m", "camfind"]
        self.base = [*base, "--db", str(db)]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*self.base, *args], cwd=REPO, capture_output=True, text=True, check=False)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"camfind {' '.join(args[:3])}... failed ({proc.returncode}): {proc.stderr[-2000:]}")
        return proc

    def json(self, *args: str) -> Any:
        proc = self.run(*args, "--json")
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise SystemExit(f"camfind {' '.join(args)} --json gave no JSON: {proc.stderr[-2000:]}") from None


# ---------------------------------------------------------------- case set-up and runs

def set_up_case(case: Path, realdata: Path, clips: list[dict[str, Any]]) -> tuple[Path, dict[str, datetime]]:
    """Cameras CSV and a folder per camera (clip link + manifest.csv); returns (clips root, starts)."""
    with open(case / "cams.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "lat", "lon", "owner_type", "heading_deg"])
        for i, item in enumerate(clips):
            w.writerow([camera_id(item), Path(item["file"]).stem, f"{21.02 + 0.001 * i:.4f}", "105.85",
                        "public", "0"])
    root = case / "footage"
    starts: dict[str, datetime] = {}
    for i, item in enumerate(clips):
        folder = root / camera_id(item)
        folder.mkdir(parents=True)
        src = realdata / "vn" / item["file"]
        (folder / src.name).symlink_to(src)
        start = CASE_START + timedelta(minutes=10 * i)
        starts[camera_id(item)] = start
        (folder / "manifest.csv").write_text(f"file,start\n{src.name},{start:%Y-%m-%d %H:%M:%S}\n",
                                             encoding="utf-8")
    return root, starts


def run_clips(cli: Cli, case: Path, realdata: Path, clips: list[dict[str, Any]]) -> dict[str, Any]:
    root, _ = set_up_case(case, realdata, clips)
    cli.run("cameras", "import", str(case / "cams.csv"))
    t0 = time.perf_counter()
    proc = cli.run("ingest", str(root), "--json")
    wall = time.perf_counter() - t0
    summary = json.loads(proc.stdout) if proc.stdout.strip() else {}
    registered = cli.json("clips")
    video_s = sum(float(c["frames"]) / float(c["fps"]) for c in registered if c.get("fps"))
    sightings = cli.json("search")
    per_plate: dict[str, list[dict[str, Any]]] = {}
    for item in clips:
        for obj in item.get("objects", []):
            plate = sc.legible_plate(obj.get("plate"))
            if plate:
                per_plate[plate] = cli.json("search", "--plate", plate)
    return {"wall_s": wall, "video_s": video_s, "ingest": summary, "clips": registered,
            "sightings": sightings, "per_plate": per_plate, "ingest_stderr_tail": proc.stderr[-1500:],
            "pictures_far": pictures_far_from_reads(case / "case.db")}


#: A plate sighting's vehicle picture further than this from every read of its plate may show
#: another vehicle (a box that slid onto the next parked bike).
PICTURE_NEAR_READ_S = 1.0


def pictures_far_from_reads(db: Path) -> dict[str, list[str]]:
    """Per camera, the plate sightings whose vehicle picture (a ``track`` snapshot) lies more than
    :data:`PICTURE_NEAR_READ_S` from every read of their plate (read from the index, read-only)."""
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT t.camera_id, t.plate_text, s.frame, c.fps,"
            " (SELECT MIN(ABS(r.frame - s.frame)) FROM plate_reads r WHERE r.track_id = t.id AND r.norm = t.plate_norm)"
            " FROM tracks t JOIN snapshots s ON s.id = t.snapshot_id JOIN clips c ON c.id = t.clip_id"
            " WHERE t.plate_norm IS NOT NULL AND s.kind = 'track'").fetchall()
    finally:
        con.close()
    out: dict[str, list[str]] = {}
    for cam, plate, _frame, fps, gap in rows:
        if gap is None or gap > PICTURE_NEAR_READ_S * float(fps or 25.0):
            out.setdefault(str(cam), []).append(str(plate))
    return out


# ---------------------------------------------------------------- scoring of clips

def _offset(iso: str, start: datetime) -> float:
    return (datetime.fromisoformat(iso) - start).total_seconds()


def score_clip(item: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    cam = camera_id(item)
    clip = next((c for c in run["clips"] if c["camera_id"] == cam), None)
    mine = [s for s in run["sightings"] if s["camera_id"] == cam]
    objects = item.get("objects", [])
    plates = sc.score_plates([o.get("plate") for o in objects], [s.get("plate") for s in mine])
    out: dict[str, Any] = {"id": item["id"], "kind": "clip", "camera_id": cam, "sightings": len(mine),
                           "plates": plates.as_dict(), "carriers": [], "search_plate": []}
    for obj in objects:
        plate = sc.legible_plate(obj.get("plate"))
        if not plate:
            continue
        carriers = [s for s in mine if sc.norm_plate(s.get("plate")) == plate]
        if carriers:
            out["carriers"].append({
                "plate": plate, "label_class": obj["class"], "label_colour": obj.get("colour"),
                "classes": sorted({s["class"] for s in carriers}),
                "colours": sorted({str(s.get("color")) for s in carriers}),
                "class_ok": any(s["class"] == obj["class"] for s in carriers),
                "colour_ok": sc.colour_ok(obj.get("colour"), _best(carriers).get("color")),
            })
        hits = [h for h in run["per_plate"].get(plate, []) if h["camera_id"] == cam]
        out["search_plate"].append({
            "plate": plate, "hits": len(hits),
            "showing_other_plate": sorted({h.get("plate") or "(none)" for h in hits
                                           if sc.norm_plate(h.get("plate")) != plate}),
        })
    out["pictures_far_from_reads"] = sorted(run.get("pictures_far", {}).get(cam, []))
    if clip is not None:
        start = datetime.fromisoformat(clip["start"])
        out["counts"] = count_score(objects, mine)
        out["direction"] = direction_score(objects, mine, start)
    return out


def _best(carriers: list[dict[str, Any]]) -> dict[str, Any]:
    return max(carriers, key=lambda s: float(s.get("plate_confidence") or s.get("confidence") or 0.0))


def count_score(objects: list[dict[str, Any]], sightings: list[dict[str, Any]]) -> dict[str, Any]:
    """Per class: objects listed one by one, objects in groups/background, sightings (whole frame)."""
    single: Counter[str] = Counter()
    grouped: Counter[str] = Counter()
    for o in objects:
        if "count" in o or o.get("background"):
            grouped[o["class"]] += int(o.get("count", 1))
        else:
            single[o["class"]] += 1
    seen = Counter(s["class"] for s in sightings)
    classes = sorted(set(single) | set(grouped) | set(seen))
    return {c: {"labelled": single[c], "groups": grouped[c], "sightings": seen[c]} for c in classes}


def direction_score(objects: list[dict[str, Any]], sightings: list[dict[str, Any]], start: datetime) -> dict[str, Any]:
    labels = []
    for o in objects:
        bearing = sc.label_bearing(o.get("direction"))
        if bearing is None or "count" in o or o.get("background") or "t" not in o:
            continue
        labels.append(sc.Window(o["class"], float(o["t"][0]), float(o["t"][1]), bearing))
    seen = [sc.Window(s["class"], _offset(s["time"], start), _offset(s["end_time"], start), s.get("direction_deg"))
            for s in sightings]
    return {"moving_labelled": len(labels), "matched": sc.match_count(labels, seen)}


# ---------------------------------------------------------------- stills

def run_images(cli: Cli, realdata: Path, images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    paths = [str(realdata / "vn" / item["file"]) for item in images]
    return list(cli.json("plates", "read", *paths))


def score_image(item: dict[str, Any], reads: list[dict[str, Any]]) -> dict[str, Any]:
    name = Path(item["file"]).name
    got = next((r for r in reads if Path(r["image"]).name == name), {"plates": []})
    texts = [p.get("text") for p in got.get("plates", [])]
    plates = sc.score_plates([o.get("plate") for o in item.get("objects", [])], texts)
    return {"id": item["id"], "kind": "image", "reads": len(texts), "plates": plates.as_dict()}


def colour_on_boxes(realdata: Path, images: list[dict[str, Any]]) -> dict[str, Any]:
    """Colour of every labelled vehicle box in the stills, as the pipeline computes it."""
    from vn_colour import box_colours

    rows = box_colours(realdata, images, "sample")
    body = box_colours(realdata, images, "body")
    right, body_right = sum(1 for r in rows if r["ok"]), sum(1 for r in body if r["ok"])
    return {"right": right, "total": len(rows), "rate": round(right / len(rows), 3) if rows else None,
            "body_crop_right": body_right, "rows": rows}


# ---------------------------------------------------------------- report

def totals(items: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    mine = [i for i in items if i["kind"] == kind]
    t: dict[str, Any] = {
        "legible": sum(i["plates"]["legible"] for i in mine),
        "surfaced": sum(i["plates"]["surfaced"] for i in mine),
        "misread": sum(len(i["plates"]["misread"]) for i in mine),
        "false": sum(len(i["plates"]["false"]) for i in mine),
    }
    t["missed"] = t["legible"] - t["surfaced"]
    t["surfaced_rate"] = round(t["surfaced"] / t["legible"], 3) if t["legible"] else None
    if kind == "clip":
        carriers = [c for i in mine for c in i["carriers"]]
        moto = [c for c in carriers if c["label_class"] == "motorcycle"]
        colour = [c for c in carriers if c["colour_ok"] is not None]
        t["carrier_class_ok"] = f"{sum(c['class_ok'] for c in carriers)}/{len(carriers)}"
        t["motorcycle_plates_on_motorcycle"] = f"{sum(c['class_ok'] for c in moto)}/{len(moto)}"
        t["carrier_colour_ok"] = f"{sum(bool(c['colour_ok']) for c in colour)}/{len(colour)}"
        t["search_plate_showing_other"] = sum(bool(p["showing_other_plate"]) for i in mine for p in i["search_plate"])
        t["plate_pictures_far_from_reads"] = sum(len(i.get("pictures_far_from_reads", [])) for i in mine)
        dirs = [i["direction"] for i in mine if "direction" in i]
        t["direction_matched"] = f"{sum(d['matched'] for d in dirs)}/{sum(d['moving_labelled'] for d in dirs)}"
    return t


def print_tables(result: dict[str, Any]) -> None:
    items = result["items"]
    clips = [i for i in items if i["kind"] == "clip"]
    if clips:
        print("clips (search)                  legible surfaced misread missed false  direction")
        for i in clips:
            p, d = i["plates"], i.get("direction", {"matched": 0, "moving_labelled": 0})
            print(f"  {i['id']:<6} sightings {i['sightings']:>4}      {p['legible']:>4} {p['surfaced']:>8} "
                  f"{len(p['misread']):>7} {len(p['missed']):>6} {len(p['false']):>5}  "
                  f"{d['matched']:>3}/{d['moving_labelled']}")
            for m in p["missed"]:
                print(f"      missed   {m}")
            for lab, read in p["misread"]:
                print(f"      misread  {lab} read as {read}")
            if p["false"]:
                print(f"      false    {', '.join(p['false'])}")
            for c in i["carriers"]:
                print(f"      carrier  {c['plate']}: label {c['label_class']}/{c['label_colour']} -> "
                      f"class {','.join(c['classes'])} colour {','.join(c['colours'])}")
            for s in i["search_plate"]:
                if s["showing_other_plate"]:
                    print(f"      search --plate {s['plate']} shows {', '.join(s['showing_other_plate'])}")
            if i.get("pictures_far_from_reads"):
                print(f"      pictured far from their reads: {', '.join(i['pictures_far_from_reads'])}")
            for cls, n in i.get("counts", {}).items():
                print(f"      count {cls:<10} labelled {n['labelled']:>3} (+{n['groups']} in groups)  "
                      f"sightings {n['sightings']:>3}")
        print(f"  total: {json.dumps(result['totals']['clips'])}")
        if result.get("speed_x") is not None:
            print(f"  speed: {result['video_s']:.1f} s of video in {result['wall_s']:.1f} s wall = "
                  f"{result['speed_x']:.2f}x real time (one ingest, model load included)")
    stills = [i for i in items if i["kind"] == "image"]
    if stills:
        print("stills (plates read)            legible read    misread missed false")
        for i in stills:
            p = i["plates"]
            print(f"  {i['id']:<6} reads {i['reads']:>3}            {p['legible']:>4} {p['surfaced']:>5} "
                  f"{len(p['misread']):>10} {len(p['missed']):>6} {len(p['false']):>5}")
            for m in p["missed"]:
                print(f"      missed   {m}")
            for lab, read in p["misread"]:
                print(f"      misread  {lab} read as {read}")
            if p["false"]:
                print(f"      false    {', '.join(p['false'])}")
        print(f"  total: {json.dumps(result['totals']['images'])}")
    colour = result.get("colour_on_image_boxes")
    if colour:
        print(f"colour on labelled image boxes: {colour['right']}/{colour['total']} right (box_votes on the "
              f"track sample); {colour['body_crop_right']}/{colour['total']} (color_votes on the body crop alone)")
        for r in colour["rows"]:
            if not r["ok"]:
                print(f"      {r['object']:<10} {r['class']:<10} label {r['label']!r:<40} got {r['got']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--realdata", type=Path, default=None, help="real data folder (default $CAMFIND_REALDATA)")
    ap.add_argument("--json-only", action="store_true", help="print only the JSON summary")
    ap.add_argument("--keep", type=Path, default=None, help="build the case in DIR and keep it")
    ap.add_argument("--skip-clips", action="store_true")
    ap.add_argument("--skip-images", action="store_true")
    ap.add_argument("--use-script", action="store_true", help="run the installed camfind script")
    args = ap.parse_args(argv)
    realdata = args.realdata or (Path(os.environ["CAMFIND_REALDATA"]) if os.environ.get("CAMFIND_REALDATA") else None)
    if realdata is None or not (realdata / "vn" / "labels.json").is_file():
        print("realdata_vn: set CAMFIND_REALDATA (or --realdata) to the real data folder holding vn/labels.json",
              file=sys.stderr)
        return 2
    labels = load_labels(realdata)
    clips = [i for i in labels if i["kind"] == "clip"]
    images = [i for i in labels if i["kind"] == "image"]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        case = args.keep.resolve()
    else:
        case = Path(tempfile.mkdtemp(prefix="camfind-vn-"))
    cli = Cli(case / "case.db", args.use_script)
    result: dict[str, Any] = {"benchmark": "realdata_vn", "python": platform.python_version(),
                              "cpus": os.cpu_count(), "items": []}
    try:
        if not args.skip_clips:
            run = run_clips(cli, case, realdata, clips)
            result.update(wall_s=round(run["wall_s"], 2), video_s=round(run["video_s"], 2),
                          speed_x=round(run["video_s"] / run["wall_s"], 3) if run["wall_s"] else None,
                          sightings=len(run["sightings"]))
            result["items"] += [score_clip(item, run) for item in clips]
        if not args.skip_images:
            reads = run_images(cli, realdata, images)
            result["items"] += [score_image(item, reads) for item in images]
            result["colour_on_image_boxes"] = colour_on_boxes(realdata, images)
        result["totals"] = {"clips": totals(result["items"], "clip"), "images": totals(result["items"], "image")}
    finally:
        if not args.keep:
            shutil.rmtree(case, ignore_errors=True)
    if not args.json_only:
        print_tables(result)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
