"""The track book's views: a standing box whose content changes keeps a crop of what it came to
hold, and the plate search reads each view (the box of a parked motorbike that a camera pan or
cut hands to the next bike)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from camfind.analysis.enrich import Enricher, is_ridden, plate_order
from camfind.analysis.frames import Frame
from camfind.analysis.snapshots import SnapshotStore
from camfind.analysis.trackbook import EXTRA_VIEWS, Fragment, TrackBook, similarity, thumbnail
from camfind.types import Clip, Detection, PlateText

W, H = 640, 360
BOX = (200.0, 60.0, 440.0, 330.0)


def _pattern(seed: int) -> np.ndarray:
    """A frame whose pixels inside BOX show one scene (blocky texture, as objects are)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 255, size=(9, 16, 3), dtype=np.uint8)
    return np.kron(blocks, np.ones((40, 40, 1), np.uint8))[:H, :W].copy()


def _feed(book: TrackBook, frames: list[tuple[np.ndarray, float]], box: tuple[float, float, float, float] = BOX,
          start: int = 0) -> None:
    for i, (image, score) in enumerate(frames, start=start):
        book.add(Frame(i, i / 4, image), [Detection(i, i / 4, box, "motorcycle", score, track_no=1)])


def test_thumbnails_tell_the_same_view_from_another() -> None:
    a, b = _pattern(1), _pattern(2)
    crop = (slice(60, 330), slice(200, 440))
    grey = [np.ascontiguousarray(img[crop].mean(axis=2).astype(np.uint8)) for img in (a, b)]
    ta, tb = thumbnail(grey[0]), thumbnail(grey[1])
    brighter = thumbnail(np.clip(grey[0].astype(np.int32) + 30, 0, 255).astype(np.uint8))
    assert similarity(ta, brighter) > 0.95  # the same thing in other light
    assert similarity(ta, tb) < 0.5
    assert thumbnail(np.full((50, 50), 90, np.uint8)) is None and similarity(None, ta) == 1.0


def test_a_standing_box_whose_content_changes_keeps_a_crop_of_each_view() -> None:
    book = TrackBook(width=W, height=H, k=4)
    first, second = _pattern(1), _pattern(2)
    # 20 sharp, confident frames of one bike, then the camera cuts: the box stays, a dimmer,
    # less confident view of another bike follows (it would lose every slot on quality alone).
    _feed(book, [(first, 0.9)] * 20 + [(second // 2, 0.3)] * 4)
    (frag,) = book.close_all()
    views = [s.view for s in sorted(frag.samples, key=lambda s: s.offset_s)]
    assert len(set(views)) == 2 and views[-1] != views[0], views
    assert len(frag.samples) <= 4 + EXTRA_VIEWS
    order = plate_order(frag.samples)
    assert {order[0].view, order[1].view} == {0, 1}  # each view is searched first


def test_one_view_while_the_content_stays() -> None:
    book = TrackBook(width=W, height=H, k=4)
    image = _pattern(3)
    _feed(book, [(image, 0.5 + (i % 5) / 10) for i in range(40)])
    (frag,) = book.close_all()
    assert len(frag.samples) == 4 and {s.view for s in frag.samples} == {0}
    offsets = sorted(s.offset_s for s in frag.samples)
    assert all(b - a >= 0.5 for a, b in zip(offsets, offsets[1:], strict=False))  # spread in time


def test_new_views_are_bounded() -> None:
    book = TrackBook(width=W, height=H, k=4)
    _feed(book, [(_pattern(seed), 0.8) for seed in range(60)])  # every frame another scene
    (frag,) = book.close_all()
    assert len(frag.samples) == 4 + EXTRA_VIEWS


class _ViewPlates:
    """A plate reader that reads, from a crop, the plate of the scene the crop shows (told by
    the crop's mean colour, which differs between the two test scenes)."""

    def __init__(self, scenes: dict[str, np.ndarray]) -> None:
        self.scenes = {name: img[60:330, 200:440].reshape(-1, 3).mean(axis=0) for name, img in scenes.items()}
        self.calls = 0

    def read(self, image_bgr: np.ndarray, *, crop_kind: str = "auto") -> list[PlateText]:
        self.calls += 1
        h, w = image_bgr.shape[:2]
        inner = image_bgr[int(0.13 * h):int(0.87 * h), int(0.13 * w):int(0.87 * w)].reshape(-1, 3).mean(axis=0)
        name = min(self.scenes, key=lambda n: float(np.abs(self.scenes[n] - inner).sum()))
        return [PlateText(name, 0.95, "two-row", True, (10.0, 10.0, 60.0, 50.0), name)]


def _clip() -> Clip:
    t = datetime(2024, 1, 25, 3, 0, tzinfo=UTC)
    return Clip("CAM", "/x.mp4", "0" * 64, 1, t, t, "manifest", 0.0, 10.0, 4.0, 40, W, H, "h264", "mp4", id=1)


def test_the_plate_of_a_later_view_is_read(tmp_path: Path) -> None:
    first, second = _pattern(1), _pattern(2) // 2
    book = TrackBook(width=W, height=H, k=4)
    _feed(book, [(first, 0.9)] * 20 + [(second, 0.3)] * 4)
    (frag,) = book.close_all()
    reader = _ViewPlates({"59K134074": first, "81AA04892": second})
    enrich = Enricher(_clip(), SnapshotStore(tmp_path, "0" * 64, 1), plates=reader, faces=None)
    found = enrich(frag, "motorcycle")
    assert {r.plate.text for r in found.plate_reads} == {"59K134074", "81AA04892"}
    assert reader.calls <= 3


class _NoPlates:
    def __init__(self) -> None:
        self.calls = 0

    def read(self, image_bgr: np.ndarray, *, crop_kind: str = "auto") -> list[PlateText]:
        self.calls += 1
        return []


def test_the_same_picture_is_not_searched_twice_in_vain(tmp_path: Path) -> None:
    book = TrackBook(width=W, height=H, k=4)
    still, moved = _pattern(5), np.roll(_pattern(5), 80, axis=1)
    _feed(book, [(still, 0.8)] * 12)  # a parked vehicle under a still camera: one picture
    (frag,) = book.close_all()
    assert len(frag.samples) >= 2  # crops a few frames apart, of one picture
    reader = _NoPlates()
    Enricher(_clip(), SnapshotStore(tmp_path, "0" * 64, 1), plates=reader, faces=None)(frag, "car")
    assert reader.calls == 1
    book = TrackBook(width=W, height=H, k=4)
    _feed(book, [(still, 0.8)] * 6 + [(moved, 0.8)] * 6, box=BOX)
    (frag,) = book.close_all()
    reader = _NoPlates()
    Enricher(_clip(), SnapshotStore(tmp_path, "0" * 64, 1), plates=reader, faces=None)(frag, "car")
    assert reader.calls >= 2  # another picture is searched


def _fragment(boxes: list[tuple[float, tuple[float, float, float, float]]], riders: int = 0) -> Fragment:
    frag = Fragment(1)
    for t, box in boxes:
        frag.detections.append(Detection(int(t * 10), t, box, "motorcycle", 0.8, track_no=1, riders=riders))
    return frag


def test_a_bike_standing_with_no_rider_is_parked() -> None:
    still = (100.0, 100.0, 160.0, 220.0)
    assert not is_ridden(_fragment([(0.0, still), (1.0, (101.0, 100.0, 161.0, 221.0)), (3.0, still)]))
    # moving: ridden, whether or not the rider was boxed apart
    moving = [(0.0, still), (1.0, (100.0, 200.0, 160.0, 320.0)), (2.0, (100.0, 300.0, 160.0, 420.0))]
    assert is_ridden(_fragment(moving))
    # seen too briefly to tell: taken as ridden (a colour under a rider is not read from the panels)
    assert is_ridden(_fragment([(0.0, still), (0.5, still)]))
    assert is_ridden(_fragment([(0.0, still)]))


def test_a_standing_bike_with_a_rider_on_it_is_ridden() -> None:
    """A rider's box joined to the bike's (riders.merge_riders) marks the crops kept of it."""
    book = TrackBook(width=W, height=H, k=4)
    for i in range(8):
        book.add(Frame(i, i / 2, _pattern(1)), [Detection(i, i / 2, BOX, "motorcycle", 0.8, track_no=1, riders=1)])
    (frag,) = book.close_all()
    assert frag.samples and all(s.ridden for s in frag.samples)
    assert is_ridden(frag)
