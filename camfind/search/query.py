"""Search the index for sightings: any combination of time, cameras, class, colour, direction,
plate pattern and face probe.

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> search(idx, SearchQuery(plate="51F*", cls="car"))
[]

A sighting is a track (one object followed through one clip). Plate reads and faces that belong
to no track are returned too, as sightings with ``track_id`` 0 and class ``unknown``, unless a
class, colour or direction is asked for. Results stream from one SQL cursor in time order
(:func:`iter_sightings`), so exports do not hold the index in memory.
"""

from __future__ import annotations

import heapq
import logging
import sys
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Literal

import numpy as np

from camfind.errors import InputError, NotFoundError
from camfind.geo import haversine_m, parse_direction
from camfind.index import sightings
from camfind.index.queries import camera_ids, list_cameras
from camfind.search.classwords import resolve_class
from camfind.search.faces import rank_faces
from camfind.search.plates import PlatePattern, matching_plates, parse_plate_pattern
from camfind.timeutil import to_ts
from camfind.types import Sighting
from camfind.vocab import COLOR_NAMES, DIRECTION_TOLERANCE_DEG, FACE_MATCH_THRESHOLD, normalize_color

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

Order = Literal["time", "distance"]


@dataclass(frozen=True)
class SearchQuery:
    """What to look for; every field is optional and they combine with AND.

    Attributes:
        time_from, time_to: aware datetimes; a sighting overlapping the window matches.
        cameras: camera ids. ``near`` (lat, lon) with ``radius_m`` adds the cameras within it.
        cls: an object class (``car``, ``motorcycle``...) or a word people use for one (``xe máy``,
            ``bike``, ``ô tô``, ``vehicle``...: :data:`~camfind.search.classwords.CLASS_WORDS`).
        color: a colour name the analysis gives (red, white, silver/grey...; ``grey``, ``gray`` and
            ``silver`` mean ``silver/grey``); InputError for any other word.
        direction: a compass word or degrees; matched within +-45 degrees.
        plate: a plate pattern (exact, ``*``/``?`` wildcards, ``~N`` fuzzy).
        faces: 128-d encodings of the probe's faces; ``face_threshold`` is the match distance.
        limit: at most this many results. ``order``: ``time`` or ``distance`` (face probes).
        raw_plates: let ``plate`` match reads that fail the Vietnamese plate rules too (by
            default only valid plates match: an overlay's text or a half-read plate does not).
    """

    time_from: datetime | None = None
    time_to: datetime | None = None
    cameras: tuple[str, ...] = ()
    near: tuple[float, float] | None = None
    radius_m: float = 250.0
    cls: str | None = None
    color: str | None = None
    direction: str | float | None = None
    plate: str | None = None
    faces: tuple[np.ndarray, ...] = field(default=(), compare=False)
    face_threshold: float = FACE_MATCH_THRESHOLD
    limit: int | None = None
    order: Order = "time"
    raw_plates: bool = False

    def __post_init__(self) -> None:
        for name in ("time_from", "time_to"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InputError(f"{name} must carry a time zone, got {value!r}")
        if self.time_from and self.time_to and self.time_from > self.time_to:
            raise InputError(f"--from {self.time_from.isoformat()} is after --to {self.time_to.isoformat()}")
        if self.radius_m <= 0:
            raise InputError(f"radius must be above 0 m, got {self.radius_m}")
        if self.near is not None and not (-90 <= self.near[0] <= 90 and -180 <= self.near[1] <= 180):
            raise InputError(f"--near expects LAT,LON, got {self.near[0]},{self.near[1]}")
        if self.limit is not None and not 1 <= self.limit <= sys.maxsize:
            raise InputError(f"limit must be between 1 and {sys.maxsize}, got {self.limit}")
        if self.face_threshold <= 0:
            raise InputError(f"face threshold must be above 0, got {self.face_threshold}")
        if self.order not in ("time", "distance"):
            raise InputError(f"order must be 'time' or 'distance', got {self.order!r}")
        self.classes  # noqa: B018  (validates)
        self.direction_deg  # noqa: B018
        self.color_name  # noqa: B018
        self.plate_pattern  # noqa: B018

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes asked for (aliases expanded), empty for any."""
        return () if self.cls is None else resolve_class(self.cls).classes

    @property
    def direction_deg(self) -> float | None:
        if self.direction is None:
            return None
        try:
            return parse_direction(str(self.direction))
        except ValueError as exc:
            raise InputError(str(exc)) from None

    @property
    def color_name(self) -> str | None:
        """The colour asked for, as the analysis stores it (``grey`` -> ``silver/grey``), or None."""
        if self.color is None:
            return None
        try:
            return normalize_color(self.color)
        except ValueError:
            raise InputError(f"unknown colour {self.color!r}: expected one of {', '.join(COLOR_NAMES)} "
                             "(grey, gray and silver mean silver/grey)") from None

    @property
    def plate_pattern(self) -> PlatePattern | None:
        return None if self.plate is None else parse_plate_pattern(self.plate)

    @property
    def track_filters(self) -> bool:
        """True when a filter only a track can satisfy (class, colour, direction) is set."""
        return bool(self.cls or self.color_name or self.direction is not None)


@dataclass(frozen=True)
class _Plan:
    """A query resolved against the index: camera ids, matched plate texts, the only tracks to
    return (with their face distance when a face probe chose them), faces with no track."""

    cameras: tuple[str, ...] | None
    plates: dict[str, float] | None
    tracks: dict[int, float | None] | None
    face_orphans: dict[int, float] | None
    empty: bool = False


def search(index: Index, query: SearchQuery) -> list[Sighting]:
    """Sightings matching ``query``, ordered by time (or by face distance), at most ``limit``."""
    if query.order == "distance" and query.faces:
        found = sorted(iter_sightings(index, query), key=lambda s: (s.face_distance or 0.0, s.time))
        return found[: query.limit] if query.limit else found
    return list(islice(iter_sightings(index, query), query.limit))


def iter_sightings(index: Index, query: SearchQuery) -> Iterator[Sighting]:
    """Stream the sightings matching ``query`` in time order (``limit`` is not applied)."""
    return _iter(index, query, _plan(index, query))


def plate_sightings(
    index: Index, plates: Collection[str], time_from: datetime | None = None, time_to: datetime | None = None
) -> Iterator[Sighting]:
    """Stream, in time order, the sightings whose track or plate reads carry any of these
    normalised plate texts (what a watchlist matched in the vocabulary)."""
    query = SearchQuery(time_from=time_from, time_to=time_to)
    plan = _Plan(None, dict.fromkeys(plates, 0.0), None, None, empty=not plates)
    return _iter(index, query, plan)


def plates_of_tracks(index: Index, track_ids: Collection[int]) -> dict[int, set[str]]:
    """The normalised plate texts each track carries (its own and its reads')."""
    return sightings.plates_of_tracks(index, list(track_ids))


def _iter(index: Index, query: SearchQuery, plan: _Plan) -> Iterator[Sighting]:
    if plan.empty:
        return iter(())
    selected = _filter(query, plan)
    streams: list[Iterator[Sighting]] = [sightings.track_sightings(index, selected, plan.tracks)]
    if not query.track_filters:
        if plan.plates is not None and not query.faces:
            streams.append(sightings.plate_read_sightings(index, selected))
        if plan.face_orphans and plan.plates is None:
            streams.append(sightings.face_only_sightings(index, plan.face_orphans))
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=lambda s: (s.time, s.camera_id, s.track_id))


def _filter(q: SearchQuery, plan: _Plan) -> sightings.SightingFilter:
    """The query and its plan as what the index selects."""
    return sightings.SightingFilter(
        time_from=None if q.time_from is None else to_ts(q.time_from),
        time_to=None if q.time_to is None else to_ts(q.time_to),
        cameras=plan.cameras, classes=tuple(q.classes), color=q.color_name, direction_deg=q.direction_deg,
        direction_tolerance_deg=DIRECTION_TOLERANCE_DEG,
        plates=None if plan.plates is None else tuple(plan.plates), raw_plates=q.raw_plates,
        tracks=None if plan.tracks is None else tuple(plan.tracks),
    )


def _plan(index: Index, q: SearchQuery) -> _Plan:
    cams = _resolve_cameras(index, q)
    plates = None
    pattern = q.plate_pattern
    if pattern is not None:
        plates = matching_plates(index, pattern)
    tracks: dict[int, float | None] | None = None
    face_orphans = None
    if q.faces:
        face_tracks, face_orphans = _face_candidates(index, q, cams)
        tracks = dict(face_tracks)
    empty = (cams is not None and not cams) or (plates is not None and not plates)
    empty = empty or (tracks is not None and not tracks and not face_orphans)
    return _Plan(cams, plates, tracks, face_orphans, empty)


def _resolve_cameras(index: Index, q: SearchQuery) -> tuple[str, ...] | None:
    if not q.cameras and q.near is None:
        return None
    wanted = set(q.cameras)
    unknown = wanted - camera_ids(index)
    if unknown:
        raise NotFoundError(f"unknown camera {', '.join(sorted(unknown))}: see 'camfind cameras list'")
    if q.near is not None:
        lat, lon = q.near
        wanted |= {c.id for c in list_cameras(index) if haversine_m(lat, lon, c.lat, c.lon) <= q.radius_m}
    return tuple(sorted(wanted))


def _face_candidates(
    index: Index, q: SearchQuery, cams: tuple[str, ...] | None
) -> tuple[dict[int, float], dict[int, float]]:
    """Face sightings within the threshold, grouped: track id -> best distance, and faces with no
    track (face id -> distance)."""
    cand = None
    if q.time_from or q.time_to or cams is not None:
        cand = sightings.face_ids_within(index, _filter(q, _Plan(cams, None, None, None)))
    matches = rank_faces(index, q.faces, threshold=q.face_threshold, candidate_ids=cand)
    if not matches:
        return {}, {}
    dist = {m.face_id: m.distance for m in matches}
    tracks: dict[int, float] = {}
    orphans: dict[int, float] = {}
    for face_id, track_id in sightings.face_tracks(index, list(dist)):
        if track_id is None:
            orphans[face_id] = dist[face_id]
        else:
            tracks[track_id] = min(tracks.get(track_id, np.inf), dist[face_id])
    return tracks, orphans


def sightings_of_tracks(index: Index, track_ids: Sequence[int]) -> list[Sighting]:
    """The sightings of the given track ids, in time order (NotFoundError for an unknown id)."""
    wanted: dict[int, float | None] = {int(t): None for t in track_ids}
    found = list(sightings.track_sightings(index, sightings.SightingFilter(tracks=tuple(wanted)), wanted))
    missing = set(wanted) - {s.track_id for s in found}
    if missing:
        raise NotFoundError(f"no track with id {', '.join(map(str, sorted(missing)))}")
    return found
