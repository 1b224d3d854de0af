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
