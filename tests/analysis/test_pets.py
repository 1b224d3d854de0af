"""PETS 2009 S2L1 view 1 against its MOT15 ground truth: detection + tracking + linking accuracy,
measured on what ``camfind ingest`` produces (registered, analysed, read back from the index).

Analysis rate 3.5 fps: every 2nd frame of the true 7 fps (the avi header says 10), the nearest
even sampling to the pipeline's default of 4 fps. Scored on the analysed frames only, people
flagged "do not consider" in the ground truth are don't-care. Raw SSD + ByteTrack on every frame
scores recall 0.75, MOTA 0.44, IDF1 0.33 with 153 ids for 19 people (shared/MODELS.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from analysed import Analysed, analyse_file  # tests/analysis/analysed.py
from mot import MotScore, evaluate, load_pets_gt  # tests/analysis/mot.py (pytest puts this folder on sys.path)

log = logging.getLogger(__name__)

PETS_VIDEO = "video/pets09_s2l1_view001_480x360.avi"
PETS_GT = "video/pets09_s2l1_mot15_gt.txt"
TRUE_FPS = 7.0
RATE_FPS = 3.5


ANALYSED = tuple(range(0, 795, 2))


@pytest.fixture(scope="module")
def pets(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Analysed:
    return analyse_file(realdata / PETS_VIDEO, tmp_path_factory.mktemp("pets"), rate_fps=RATE_FPS, true_fps=TRUE_FPS)


@pytest.fixture(scope="module")
def score(pets: Analysed, realdata: Path) -> MotScore:
    gt = load_pets_gt(realdata / PETS_GT)
    result = evaluate(gt, pets.by_frame(("person",), ANALYSED), ANALYSED)
    log.warning("PETS at %.1f fps: %s; analysis %.1f s", RATE_FPS, result, pets.seconds)
    print(f"\nPETS at {RATE_FPS} fps: {result}; analysis {pets.seconds:.1f} s")
    return result


def test_analysed_every_second_frame_at_true_fps(pets: Analysed) -> None:
    frames = {d.frame for dets in pets.tracks.values() for d in dets}
    assert frames <= set(ANALYSED) and len(frames) > 0.5 * len(ANALYSED)
    first = min(pets.tracks.values(), key=lambda dets: dets[0].frame)[0]
    assert first.offset_s == pytest.approx(first.frame / TRUE_FPS)


def test_person_recall_at_iou_half(score: MotScore) -> None:
    assert score.recall >= 0.75, score
    assert score.precision >= 0.8, score


def test_mota_and_idf1(score: MotScore) -> None:
    assert score.mota >= 0.5, score
    assert score.idf1 >= 0.5, score


def test_fragments_are_linked(score: MotScore) -> None:
    # 19 people; the raw tracker gives 153 ids (online ByteTrack alone here: ~60). Several extra
    # ids are real people the ground truth does not annotate (the far footpath at the top left),
    # so the bar is under 2.5 ids per annotated person, a third of the raw count.
    assert score.hyp_ids <= 47, score


def test_every_track_has_one_class_and_ordered_frames(pets: Analysed) -> None:
    for no, dets in pets.tracks.items():
        assert {d.cls for d in dets} == {dets[0].cls}
        assert all(d.track_no == no for d in dets)
        frames = [d.frame for d in dets]
        assert frames == sorted(frames) and len(frames) == len(set(frames))
