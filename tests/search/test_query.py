"""`search()` over a real index: each filter alone, combined, ordering and limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from searchscene import FACE_P, LAT, LON, T0, Scene, TrackSpec, near, sha256_file, street_cameras, unit

from camfind.errors import InputError, NotFoundError
from camfind.index import Index
from camfind.search import faces as faces_mod
from camfind.search.query import SearchQuery, iter_sightings, search, sightings_of_tracks


def cams(found: list) -> list[str]:
    return [s.camera_id for s in found]


def test_exact_plate_in_time_order_with_clip_and_snapshot(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    found = search(idx, SearchQuery(plate="51f 123-45"))
    assert cams(found) == ["A", "B", "D", "D"]
    assert [s.track_id == 0 for s in found] == [False, False, False, True]  # the last: a read with no track
    assert [s.time for s in found] == sorted(s.time for s in found)
    first = found[0]
    assert first.plate == "51F-123.45" and first.cls == "car" and first.color == "red"
    assert first.direction == "E" and first.direction_deg == 90.0
    assert first.time == T0 + timedelta(seconds=1) and first.end_time == T0 + timedelta(seconds=3)
    assert first.clip_sha256 == sha256_file(__import__("pathlib").Path(first.clip_path))
    assert first.snapshot and first.snapshot_sha256 == sha256_file(__import__("pathlib").Path(first.snapshot))


def test_wildcards_and_fuzzy(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    assert cams(search(idx, SearchQuery(plate="51F*"))) == ["A", "B", "C", "D", "D"]
    assert cams(search(idx, SearchQuery(plate="*99"))) == ["C"]
    assert cams(search(idx, SearchQuery(plate="59G?66005"))) == ["B"]
    fuzzy = search(idx, SearchQuery(plate="51F12345~0.5"))
    assert cams(fuzzy) == ["A", "B", "C", "D", "D"]  # 51F1Z345 is one OCR confusion away
    assert cams(search(idx, SearchQuery(plate="51F12395~0.5"))) == []


@pytest.mark.parametrize(
    ("direction", "expected"),
    [("E", {90.0, 100.0, 80.0}), ("90", {90.0, 100.0, 80.0}), ("135", {90.0, 100.0, 180.0}),
     ("N", {350.0}), ("10", {350.0}), ("S", {180.0}), ("W", set())],
)
def test_direction_within_45_degrees(street: tuple[Index, Scene], direction: str, expected: set) -> None:
    idx, _ = street
    assert {s.direction_deg for s in search(idx, SearchQuery(direction=direction))} == expected


def test_class_colour_camera_near_time_limit(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    assert [s.cls for s in search(idx, SearchQuery(cls="motorbike"))] == ["motorcycle"]
    assert {s.cls for s in search(idx, SearchQuery(cls="vehicle"))} == {"car", "motorcycle"}
    assert [s.plate for s in search(idx, SearchQuery(color="grey"))] == ["29B-999.99"]
    assert [s.plate for s in search(idx, SearchQuery(color="Silver/Grey"))] == ["29B-999.99"]
    assert [s.plate for s in search(idx, SearchQuery(color=" GRAY "))] == ["29B-999.99"]
    assert set(cams(search(idx, SearchQuery(cameras=("B",))))) == {"B"}
    assert set(cams(search(idx, SearchQuery(near=(LAT, LON + 0.0031), radius_m=60)))) == {"B"}
    assert set(cams(search(idx, SearchQuery(near=(LAT, LON + 0.0045), radius_m=200)))) == {"B", "C"}
    assert search(idx, SearchQuery(near=(LAT + 1, LON), radius_m=50)) == []
    window = SearchQuery(time_from=T0 + timedelta(seconds=31), time_to=T0 + timedelta(seconds=33.5))
    assert [(s.camera_id, s.cls) for s in search(idx, window)] == [("B", "car")]
    # a sighting overlapping the window start counts
    straddle = SearchQuery(time_from=T0 + timedelta(seconds=2), time_to=T0 + timedelta(seconds=2.5))
    assert [s.camera_id for s in search(idx, straddle)] == ["A"]
    assert len(search(idx, SearchQuery(limit=3))) == 3
    combo = SearchQuery(cls="car", color="red", direction="E", plate="51F*", cameras=("A", "C"))
    assert cams(search(idx, combo)) == ["A", "C"]


def test_face_probe_ranked_by_distance_with_threshold(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    ranked = search(idx, SearchQuery(faces=(FACE_P,), order="distance"))
    assert cams(ranked) == ["A", "C", "D"]  # 0.0, 0.3, 0.5; 0.7 is beyond the 0.6 default
    assert [round(s.face_distance or 0, 3) for s in ranked] == [0.0, 0.3, 0.5]
    assert cams(search(idx, SearchQuery(faces=(FACE_P,), face_threshold=0.35, order="distance"))) == ["A", "C"]
    assert cams(search(idx, SearchQuery(faces=(FACE_P,), face_threshold=0.8))) == ["A", "B", "C", "D"]  # by time
    two = (unit(99), near(FACE_P, 0.3, 2))  # a probe with two faces: nearest face counts
    assert cams(search(idx, SearchQuery(faces=two, order="distance")))[:2] == ["C", "A"]
    assert search(idx, SearchQuery(faces=(FACE_P,), cameras=("B",))) == []


def test_errors_are_named(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    with pytest.raises(NotFoundError, match="unknown camera ZZ"):
        search(idx, SearchQuery(cameras=("ZZ",)))
    for bad, why in [({"cls": "tank"}, "unknown class"), ({"direction": "up"}, "direction"),
                     ({"plate": "~1"}, "no letters"), ({"limit": 0}, "limit"),
                     ({"limit": 2**63}, "limit must be between 1 and"),
                     ({"time_from": T0 + timedelta(1), "time_to": T0}, "after"),
                     # an unknown colour matched nothing and looked like "no such car"
                     ({"color": "blurple"}, r"unknown colour 'blurple': expected one of red, .*silver/grey"),
                     ({"color": ""}, "unknown colour ''")]:
        with pytest.raises(InputError, match=why):
            SearchQuery(**bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="128-d"):
        search(idx, SearchQuery(faces=(np.zeros(5),)))


def test_track_lookup(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    tid = search(idx, SearchQuery(cls="motorcycle"))[0].track_id
    assert [s.plate for s in sightings_of_tracks(idx, [tid])] == ["59G1-660.05"]
    with pytest.raises(NotFoundError, match="no track with id 99999"):
        sightings_of_tracks(idx, [99999])


def test_vocabulary_follows_reanalysis_and_face_cache_stays_right(tmp_path) -> None:
    idx = Index.open(tmp_path / "c.db", create=True)
    s = Scene(idx, tmp_path)
    from searchscene import street_cameras

    s.cameras(street_cameras())
    clip = s.clip("A", T0)
    s.track(clip, TrackSpec(1, 2, plate="51F-111.11", face=unit(5)))
    s.commit()
    assert cams(search(idx, SearchQuery(faces=(unit(5),)))) == ["A"]
    assert (tmp_path / "c.db.faces.cache").exists()
    faces_mod._MEMO.clear()  # a new process: the side file is mapped, not rebuilt
    assert isinstance(faces_mod.face_matrix(idx).enc, np.memmap) and faces_mod.face_matrix(idx).enc.flags.aligned
    assert cams(search(idx, SearchQuery(faces=(unit(5),)))) == ["A"]
    # re-analysis of the clip: new plate, new face (same row count, same ids would be reused
    # without AUTOINCREMENT); the vocabulary and the face cache must follow
    s.clips[clip].tracks.clear()
    s.track(clip, TrackSpec(1, 2, plate="51F-222.22", face=unit(6)))
    s.commit()
    vocab = [r[0] for r in idx.db.execute("SELECT norm FROM plate_vocab")]
    assert vocab == ["51F22222"]
    assert search(idx, SearchQuery(faces=(unit(5),))) == []
    assert cams(search(idx, SearchQuery(faces=(unit(6),)))) == ["A"]
    # a new clip only appends to the cache
    clip2 = s.clip("B", T0 + timedelta(minutes=5))
    s.track(clip2, TrackSpec(1, 2, face=near(unit(6), 0.2, 9)))
    s.commit()
    assert cams(search(idx, SearchQuery(faces=(unit(6),), order="distance"))) == ["A", "B"]
    faces_mod._MEMO.clear()
    assert len(faces_mod.face_matrix(idx).ids) == 2
    # deleting the clip (cascade) empties its plates from the vocabulary too
    idx.db.execute("DELETE FROM clips WHERE id = ?", (clip,))
    assert [r[0] for r in idx.db.execute("SELECT norm FROM plate_vocab")] == []
    assert cams(search(idx, SearchQuery(faces=(unit(6),)))) == ["B"]
    idx.close()


def test_streaming_iterator_is_lazy(street: tuple[Index, Scene]) -> None:
    idx, _ = street
    it = iter_sightings(idx, SearchQuery())
    first = next(it)
    assert first.camera_id == "D" or first.camera_id == "A"
    assert sum(1 for _ in it) == len(search(idx, SearchQuery())) - 1


@pytest.fixture(scope="module")
def two_plates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """One track voted 51F-123.45 that also holds a read of another valid plate and an overlay's text."""
    root = tmp_path_factory.mktemp("two_plates")
    index = Index.open(root / "case.db", create=True)
    scene = Scene(index, root)
    scene.cameras(street_cameras())
    clip = scene.clip("A", datetime(2024, 3, 1, 3, 0, tzinfo=UTC))
    scene.track(clip, TrackSpec(1.0, 3.0, plate="51F-123.45", plate_conf=0.9,
                                reads=[("30A-999.99", 0.7), ("HOTLINE0815", 0.95)]))
    scene.commit()
    yield index
    index.close()


def test_a_plate_match_shows_the_plate_it_matched(two_plates: Index) -> None:
    [hit] = search(two_plates, SearchQuery(plate="30A99999"))
    assert hit.plate == "30A-999.99" and hit.plate_confidence == pytest.approx(0.7)
    assert hit.plate_time is not None and hit.plate_frame is not None and hit.plate_snapshot
    [own] = search(two_plates, SearchQuery(plate="51F12345"))
    assert own.plate == "51F-123.45" and own.plate_confidence == pytest.approx(0.9)
    [plain] = search(two_plates, SearchQuery())
    assert plain.plate == "51F-123.45"  # without a plate filter: the track's voted plate


def test_invalid_plate_text_matches_only_when_asked(two_plates: Index) -> None:
    assert search(two_plates, SearchQuery(plate="HOTLINE0815")) == []
    assert search(two_plates, SearchQuery(plate="HOTLINE*")) == []
    [raw] = search(two_plates, SearchQuery(plate="HOTLINE0815", raw_plates=True))
    assert raw.plate == "HOTLINE0815"
