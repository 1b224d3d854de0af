"""Read a camera registry from CSV or GeoJSON (columns in CLI.md).

Only ``id``, ``lat`` and ``lon`` are required. Unknown columns are kept in ``Camera.extra``;
a missing required column or a bad value is an :class:`~camfind.errors.InputError` naming the
file, the row (as a spreadsheet shows it: the header is row 1) and the column.

>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "cams.csv"
>>> _ = p.write_text("id,lat,lon,neighbors,street\\nCAM01,10.77,106.70,CAM02,Le Loi\\n")
>>> cams = read_cameras(p)
>>> cams[0].id, cams[0].neighbors, dict(cams[0].extra)
('CAM01', ('CAM02',), {'street': 'Le Loi'})
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camfind.errors import InputError
from camfind.masks import MASK_COLUMN, parse_mask
from camfind.numbers import parse_decimal
from camfind.types import OWNER_TYPES, Camera

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = (
    "id", "name", "lat", "lon", "owner_type", "owner_name", "owner_contact", "address",
    "heading_deg", "fov_deg", "clock_offset_s", "neighbors",
)
REQUIRED: tuple[str, ...] = ("id", "lat", "lon")


def read_cameras(path: str | Path) -> list[Camera]:
    """Cameras from a ``.csv`` or ``.geojson``/``.json`` file.

    Raises:
        InputError: unreadable file, unknown format, missing required column, bad value,
            or the same id twice.
    """
    return [cam for cam, _ in _parse(path)]


def _parse(path: str | Path) -> list[tuple[Camera, bool]]:
    """Cameras of a file, each with whether its row gave a clock offset."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not a cameras file (.csv or .geojson)")
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if not p.is_file():
        raise InputError(f"{p}: not a regular file (expected a .csv or .geojson cameras file)")
    suffix = p.suffix.lower()
    if suffix in (".geojson", ".json"):
        cams = _build(_geojson_rows(p))
    elif suffix in (".csv", ".txt", ".tsv"):
        cams = _build(_csv_rows(p))
    else:
        raise InputError(f"{p}: expected a .csv or .geojson cameras file, got {suffix or 'no suffix'}")
    if not cams:
        raise InputError(f"{p}: no cameras in the file (only a header?)")
    return cams


def _read_text(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror})") from None


def _csv_rows(p: Path) -> list[tuple[str, Mapping[str, Any]]]:
    text = _read_text(p)
    first = text.splitlines()[0] if text.strip() else ""
    # Excel in many locales saves "CSV" with semicolons (decimal commas then fail as numbers, by row).
    delimiter = next((d for d in "\t;" if d in first and "," not in first), ",")
    # strict: a quote left open would otherwise swallow the rest of the file into one value
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1  # the line the record being read starts on (a quoted value may span lines)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if not header:
            raise InputError(f"{p}: empty cameras file (expected a header with id,lat,lon)")
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise InputError(f"{p}: missing required column(s) {', '.join(missing)} in the header")
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise InputError(f"{p}: column(s) {', '.join(dupes)} appear more than once in the header")
        rows: list[tuple[str, Mapping[str, Any]]] = []
        start = reader.line_num + 1
        for values in reader:
            where, start = f"{p} row {start}", reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                raise InputError(f"{where}: {len(values)} values but the header has {len(header)} columns")
            rows.append((where, dict(zip(header, values, strict=False))))
    except csv.Error as exc:  # an open quote, a field over the csv module's limit...
        raise InputError(_csv_problem(p, start, reader.line_num, exc)) from None
    return rows


def _csv_problem(p: Path, start: int, end: int, exc: csv.Error) -> str:
    if "unexpected end of data" in str(exc):
        return (f"{p} row {start}: a quote opened in this row is never closed, so every line to the end of "
                f"the file (line {end}) would be read into one value: close or remove the quote")
    return f"{p} row {start}: not readable as CSV ({exc})"


def _geojson_rows(p: Path) -> list[tuple[str, Mapping[str, Any]]]:
    try:
        doc = json.loads(_read_text(p))
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(f"{p}: JSON nested too deeply to be a GeoJSON cameras file") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise InputError(f"{p}: expected a GeoJSON FeatureCollection with a 'features' list")
    rows: list[tuple[str, Mapping[str, Any]]] = []
    for n, feat in enumerate(features, start=1):
        rows.append(_feature_row(feat, f"{p} feature {n}"))
    return rows


def _feature_row(feat: Any, where: str) -> tuple[str, Mapping[str, Any]]:
    """One GeoJSON Feature as a row of named values; every member's JSON type is checked."""
    if not isinstance(feat, dict):
        raise InputError(f"{where}: expected a GeoJSON Feature object, got {_json_kind(feat)}")
    raw = feat.get("properties")
    if raw is not None and not isinstance(raw, dict):
        raise InputError(f"{where}: properties: expected an object of named values, got {_json_kind(raw)}")
    props = {str(k).strip().lower(): v for k, v in (raw or {}).items()}
    if "id" not in props and feat.get("id") is not None:
        props["id"] = feat["id"]
    geom = feat.get("geometry")
    if not isinstance(geom, dict) or geom.get("type") != "Point":
        got = _json_kind(geom) if not isinstance(geom, dict) else f"type {json.dumps(geom.get('type'))[:40]}"
        raise InputError(f"{where}: column geometry: expected a Point [lon, lat], got {got}")
    coords = geom.get("coordinates")
    if not isinstance(coords, list) or not 2 <= len(coords) <= 3 or not all(_is_number(c) for c in coords):
        raise InputError(f"{where}: column geometry: expected Point coordinates [lon, lat] as numbers, "
                         f"got {json.dumps(coords)[:60]}")
    props.setdefault("lon", coords[0])
    props.setdefault("lat", coords[1])
    neighbors = props.get("neighbors")
    if isinstance(neighbors, list):
        if not all(isinstance(x, str | int) and not isinstance(x, bool) for x in neighbors):
            raise InputError(f"{where}: column neighbors: expected a list of camera ids, "
                             f"got {json.dumps(neighbors)[:60]}")
        props["neighbors"] = ";".join(str(x) for x in neighbors)
    return where, props


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_kind(value: Any) -> str:
    """How JSON would name a value's type, for messages (``null``, ``a string``, ``a list``...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    kinds = {str: "a string", list: "a list", dict: "an object", int: "a number", float: "a number"}
    return next((name for t, name in kinds.items() if isinstance(value, t)), type(value).__name__)


def _build(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> list[tuple[Camera, bool]]:
    cams: list[tuple[Camera, bool]] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        cam = camera_from_mapping(row, where)
        if cam.id in seen:
            raise InputError(f"{where}: column id: camera {cam.id!r} already given at {seen[cam.id]}")
        seen[cam.id] = where
        cams.append((cam, str(row.get("clock_offset_s") or "").strip() != ""))
    return cams


def camera_from_mapping(row: Mapping[str, Any], where: str = "row") -> Camera:
    """A Camera from one row of named values (strings or numbers); InputError names ``where``."""

    def text(col: str) -> str:
        value = row.get(col)
        if isinstance(value, dict | list):
            raise InputError(f"{where}: column {col}: expected a text or a number, got {json.dumps(value)[:60]}")
        found = "" if value is None else str(value).strip()
        hidden = _hidden_character(found, line_breaks=col not in ("id", "neighbors"))
        if hidden is not None:
            raise InputError(f"{where}: column {col}: {found[:40]!r} holds the invisible character {hidden} "
                             "(a damaged or pasted value): retype it")
        return found

    def number(col: str, lo: float, hi: float, required: bool = False) -> float | None:
        raw = text(col)
        if not raw:
            if required:
                raise InputError(f"{where}: column {col}: a value is required")
            return None
        try:
            value = parse_decimal(raw)
        except ValueError:
            raise InputError(f"{where}: column {col}: expected a number, got {raw!r}") from None
        if not lo <= value <= hi:
            raise InputError(f"{where}: column {col}: expected a number in [{lo:g}, {hi:g}], got {raw}")
        return value

    cam_id = text("id")
    if not cam_id:
        raise InputError(f"{where}: column id: a camera id is required")
    if any(ch in cam_id for ch in ";,/\\") or cam_id != cam_id.strip():
        raise InputError(f"{where}: column id: {cam_id!r} must not contain ; , / or \\")
    owner_type = text("owner_type").lower() or "resident"
    if owner_type not in OWNER_TYPES:
        raise InputError(
            f"{where}: column owner_type: expected one of {', '.join(OWNER_TYPES)}, got {owner_type!r}"
        )
    neighbors = tuple(dict.fromkeys(n.strip() for n in text("neighbors").split(";") if n.strip()))
    heading = number("heading_deg", -360.0, 360.0)
    extra = {str(k): str(v) for k, v in row.items() if k not in COLUMNS and v not in (None, "")}
    if MASK_COLUMN in extra:
        try:
            parse_mask(extra[MASK_COLUMN], 1, 1)
        except InputError as exc:
            raise InputError(f"{where}: column {MASK_COLUMN}: {exc}") from None
    return Camera(
        id=cam_id,
        lat=float(number("lat", -90.0, 90.0, required=True) or 0.0),
        lon=float(number("lon", -180.0, 180.0, required=True) or 0.0),
        name=text("name"),
        owner_type=owner_type,
        owner_name=text("owner_name"),
        owner_contact=text("owner_contact"),
        address=text("address"),
        heading_deg=None if heading is None else heading % 360.0,
        fov_deg=number("fov_deg", 0.0, 360.0),
        clock_offset_s=number("clock_offset_s", -10 * 365 * 86400.0, 10 * 365 * 86400.0) or 0.0,
        neighbors=tuple(n for n in neighbors if n != cam_id),
        extra=extra,
    )


def _hidden_character(text: str, *, line_breaks: bool) -> str | None:
    """The first control or format character in ``text`` (as ``U+XXXX``), or None.

    NUL, escape codes, zero-width and direction-override characters make two ids that look the
    same differ (or one id print as another). Values other than ids may span lines.
    """
    allowed = "\t\n\r" if line_breaks else ""
    for ch in text:
        if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            return f"U+{ord(ch):04X}"
    return None


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """What ``camfind cameras import`` did."""

    added: int
    updated: int
    cameras: tuple[str, ...]
    links: int


def import_cameras(index: Index, path: str | Path) -> ImportResult:
    """Load or update cameras from a file into the index (one transaction).

    A camera already in the registry keeps its recorded clock offset when the file gives none
    (so re-importing a registry never undoes ``cameras set-clock``).
    """
    from camfind.index.queries import find_camera, list_links

    merged = []
    for cam, has_offset in _parse(path):
        known = find_camera(index, cam.id)
        if known is not None and not has_offset:
            cam = dataclasses.replace(cam, clock_offset_s=known.clock_offset_s)
        merged.append(cam)
    added, updated = index.writer.upsert_cameras(merged)
    logger.info("imported %d cameras from %s (%d new)", len(merged), path, added)
    return ImportResult(added, updated, tuple(c.id for c in merged), len(list_links(index)))

