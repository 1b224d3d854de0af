"""A search as a user writes it (times, ``LAT,LON`` and numbers as text, a probe image) turned
into a :class:`~camfind.search.query.SearchQuery`: what the ``search`` and ``export`` commands share.

>>> q = build_query(tz="Asia/Ho_Chi_Minh", time_from="2024-01-25 10:00", near="10.7769,106.7009", plate="51F*")
>>> q.time_from.isoformat(), q.near, q.order
('2024-01-25T03:00:00+00:00', (10.7769, 106.7009), 'time')
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from camfind.errors import InputError
from camfind.numbers import parse_decimal
from camfind.search.query import Order, SearchQuery
from camfind.timeutil import parse_time
from camfind.vocab import FACE_MATCH_THRESHOLD


def build_query(
    *,
    tz: str,
    time_from: str | None = None,
    time_to: str | None = None,
    cameras: Sequence[str] | None = None,
    near: str | None = None,
    radius_m: float = 250.0,
    cls: str | None = None,
    color: str | None = None,
    direction: str | None = None,
    plate: str | None = None,
    face: Path | None = None,
    face_threshold: float | None = None,
    limit: int | None = None,
    order: str | None = None,
    raw_plates: bool = False,
) -> SearchQuery:
    """A search from text: times local to ``tz`` (or ISO 8601 with an offset), ``near`` as
    ``LAT,LON``, ``face`` a probe image whose every face is searched for.

    ``face_threshold`` defaults to :data:`~camfind.vocab.FACE_MATCH_THRESHOLD`; ``order`` to
    ``distance`` with a face probe, else ``time``.

    Raises:
        InputError: a time, point or probe image that cannot be read, or a query out of bounds.
    """
    faces: tuple[Any, ...] = ()
    if face is not None:
        from camfind.search.probe import encode_probe  # dlib: only when a probe is given

        faces = encode_probe(face)
    return SearchQuery(
        time_from=None if time_from is None else parse_time(time_from, tz),
        time_to=None if time_to is None else parse_time(time_to, tz),
        cameras=tuple(cameras or ()), near=None if near is None else parse_point(near), radius_m=radius_m,
        cls=cls, color=color, direction=direction, plate=plate, faces=faces,
        face_threshold=FACE_MATCH_THRESHOLD if face_threshold is None else face_threshold, limit=limit,
        order=cast(Order, order or ("distance" if faces else "time")), raw_plates=raw_plates,
    )


def parse_point(text: str) -> tuple[float, float]:
    """``LAT,LON`` as two floats (InputError otherwise).

    >>> parse_point("10.7769, 106.7009")
    (10.7769, 106.7009)
    """
    try:
        lat, lon = (parse_decimal(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--near expects LAT,LON (e.g. 10.7769,106.7009), got {text!r}") from None
    return lat, lon
