"""A track whose reads settle on two plates becomes one part per plate."""

from __future__ import annotations

from camfind.analysis.plategroups import _read, group_reads, plate_parts, same_plate


def test_same_plate_folds_lookalikes_and_one_edit() -> None:
    assert same_plate("59K134074", "59K134O74")  # O for 0
    assert same_plate("59K134074", "59K13407")  # one character missed
    assert not same_plate("59K134074", "59GA18593")


def test_groups_strongest_first() -> None:
    reads = [_read(1, "59GA18593", 0.9), _read(2, "59K134074", 0.8), _read(3, "59K134O74", 0.7)]
    groups = group_reads(reads)
    assert [len(g) for g in groups] == [2, 1] and groups[0][0].plate.norm == "59K134074"


def test_cut_where_the_plate_changes() -> None:
    reads = [_read(10, "59K134074"), _read(14, "59K134074"), _read(30, "59GA18593"), _read(36, "59GA18593")]
    parts = plate_parts(reads, 0, 40)
    assert [(p.first_frame, p.last_frame, p.plate) for p in parts] == [
        (0, 22, "59K134074"), (23, 40, "59GA18593")]
    assert [len(p.reads) for p in parts] == [2, 2]


def test_interleaved_plates_are_two_parts_over_the_span() -> None:
    reads = [_read(10, "59K134074"), _read(12, "59GA18593"), _read(14, "59K134074"), _read(16, "59GA18593")]
    parts = plate_parts(reads, 5, 20)
    assert {(p.first_frame, p.last_frame) for p in parts} == {(5, 20)}
    assert sorted(p.plate or "" for p in parts) == ["59GA18593", "59K134074"]


def test_a_lone_unsure_read_does_not_cut() -> None:
    reads = [_read(10, "59K134074"), _read(14, "59K134074"), _read(30, "59GA18593", 0.4)]
    [part] = plate_parts(reads, 0, 40)
    assert part.plate == "59K134074" and len(part.reads) == 3


def test_no_valid_read_is_one_part_without_plate() -> None:
    [part] = plate_parts([], 3, 9)
    assert (part.first_frame, part.last_frame, part.plate) == (3, 9, None)


def test_sweep_whole_frame_first_then_only_untracked_motion() -> None:
    from camfind.analysis.plategroups import PlateSweep
    from camfind.types import Detection

    sweep = PlateSweep()
    bike = Detection(0, 0.0, (100.0, 100.0, 200.0, 300.0), "motorcycle", 0.8, 1)
    assert sweep.regions(0.25, [], [], 640, 360) is None  # warming up
    assert sweep.regions(0.5, [], [bike], 640, 360) == [(0.0, 0.0, 640.0, 360.0)]
    assert sweep.regions(1.0, [(400.0, 50.0, 500.0, 150.0)], [], 640, 360) is None  # too soon
    assert sweep.regions(2.5, [(110.0, 120.0, 190.0, 280.0)], [bike], 640, 360) is None  # the bike's own
    free = (400.0, 50.0, 500.0, 150.0)
    assert sweep.regions(2.5, [(110.0, 120.0, 190.0, 280.0), free], [bike], 640, 360) == [free]


def test_plate_only_sightings_by_plate_and_time() -> None:
    from datetime import timedelta

    from camfind.analysis.plategroups import plate_only_tracks
    from camfind.recognition.vnplate import parse
    from camfind.types import Clip, PlateRead

    t0 = _read(0, "X").time
    clip = Clip("CAM", "/x.mp4", "ab" * 32, 1, t0, t0, "cli", 0.0, 60.0, 10.0, 600, 640, 360, "h264", "mp4", id=1)

    def read(frame: int, text: str, layout: str) -> PlateRead:
        plate = parse(text, confidence=0.9, layout=layout, box=(10.0, 10.0, 50.0, 40.0))
        return PlateRead(1, "CAM", t0 + timedelta(seconds=frame / 10), frame, plate)

    loose = [read(10, "59X1\n23456", "two-row"), read(30, "59X1\n23456", "two-row"),  # one bike
             read(400, "59X1\n23456", "two-row"),  # the same plate 37 s later: another sighting
             read(50, "51F59881", "one-row"), read(60, "HOTLINE", "unknown")]  # a car; overlay text
    tracks = plate_only_tracks(clip, loose)
    assert sorted((t.cls, t.plate.text if t.plate else "", len(run)) for t, run in tracks) == [
        ("car", "51F-598.81", 1), ("motorcycle", "59-X1 234.56", 1), ("motorcycle", "59-X1 234.56", 2)]


def test_a_plate_read_apart_from_its_track_joins_the_track() -> None:
    """A plate-only sighting goes to the track that reads the same plate within a few seconds
    (the nearest), not to one that reads another plate or the same plate long after."""
    from datetime import timedelta

    from camfind.analysis.pipeline import _carrier_of
    from camfind.recognition.vnplate import parse
    from camfind.types import Track

    t0 = _read(0, "X").time
    plate = parse("59X1\n23456", confidence=0.9, layout="two-row")
    other = parse("51F59881", confidence=0.9, layout="one-row")

    def track(start_s: float, end_s: float, p: object) -> Track:
        return Track(1, "CAM", 1, "motorcycle", t0 + timedelta(seconds=start_s), t0 + timedelta(seconds=end_s),
                     int(start_s * 10), int(end_s * 10), 5, 0.9, plate=p)  # type: ignore[arg-type]

    tracks = [track(10, 20, other), track(40, 60, plate), track(22, 30, plate)]
    assert _carrier_of(tracks, track(19, 19.5, plate)) == 2  # 2.5 s before the third, 20 s before the second
    assert _carrier_of(tracks, track(61, 62, plate)) == 1
    assert _carrier_of(tracks, track(100, 101, plate)) is None  # long after: another sighting
    assert _carrier_of(tracks, track(15, 16, parse("29B14979", confidence=0.9, layout="one-row"))) is None


def test_a_plate_two_overlapping_tracks_read_stays_with_the_tighter_box() -> None:
    """A walk past parked bikes: one track follows a bike, another a box spanning it and its
    neighbour; both read the bike's plate on the same frame. The read stays with the bike's own
    (smaller) box; a read whose plate lies outside the smaller box stays with the larger one,
    and reads on other frames or at other places are left alone."""
    from dataclasses import replace

    from camfind.analysis.enrich import Findings
    from camfind.analysis.pipeline import _Stream, one_holder
    from camfind.types import Detection, PlateRead

    def det(frame: int, box: tuple[float, float, float, float]) -> Detection:
        return Detection(frame, frame / 30, box, "motorcycle", 0.8)

    def read(frame: int, box: tuple[float, float, float, float]) -> PlateRead:
        r = _read(frame, "59-GA 185.93")
        return replace(r, plate=replace(r.plate, box=box))

    plate, elsewhere = (140.0, 170.0, 170.0, 190.0), (300.0, 250.0, 330.0, 270.0)
    small, large = (100.0, 100.0, 200.0, 200.0), (50.0, 50.0, 400.0, 300.0)
    stream = _Stream(
        detections={1: [det(10, small), det(20, small)], 2: [det(10, large), det(20, large), det(30, large)]},
        findings={1: [Findings(1, plate_reads=[read(10, plate), read(20, elsewhere)])],
                  2: [Findings(2, plate_reads=[read(10, plate), read(20, elsewhere), read(30, plate)])]},
        votes={}, appearance={}, width=640, height=360)
    one_holder(stream)
    kept = {no: [(r.frame, r.plate.box) for f in founds for r in f.plate_reads]
            for no, founds in stream.findings.items()}
    assert kept == {1: [(10, plate)], 2: [(20, elsewhere), (30, plate)]}
