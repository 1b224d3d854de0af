"""One home per vocabulary: the plate normal form stored and searched agree, colours and backend
names come from camfind.vocab, and searching by colour loads no image library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from searchscene import T0, Scene

from camfind.index import Index
from camfind.recognition import vnplate
from camfind.search.plates import parse_plate_pattern
from camfind.search.query import SearchQuery, search
from camfind.types import Camera, PlateText
from camfind.vocab import COLOR_NAMES, normalize_color, normalize_plate

# (as an OCR backend or a DVR overlay wrote it, as an investigator types it, the normal form)
SPELLINGS = [
    ("51F-123.45", "51f12345", "51F12345"),
    ("51F-123.45", "５１Ｆ－１２３.４５", "51F12345"),  # full-width (an IME's default)
    ("59-X1 123.45", "59x1.123-45", "59X112345"),
    ("59-X1\n123.45", " 59 X1 12345 ", "59X112345"),  # two-row plate read as two lines
    ("30Đ-123.45", "30d12345", "30D12345"),  # Đ typed on a Vietnamese keyboard is D
    ("30đ 123.45", "30Đ-123.45", "30D12345"),
    ("51Ă-123.45", "51A12345", "51A12345"),  # an accent slipped in by the keyboard is dropped
]


@pytest.mark.parametrize(("stored", "typed", "norm"), SPELLINGS)
def test_stored_and_searched_forms_agree(stored: str, typed: str, norm: str) -> None:
    assert PlateText(stored, 0.9).norm == norm
    assert vnplate.normalize(stored) == norm
    assert parse_plate_pattern(typed).norm == norm
    assert normalize_plate(typed) == norm


def test_a_stored_read_is_found_by_every_spelling(index: Index, tmp_path: Path) -> None:
    scene = Scene(index, tmp_path)
    scene.cameras([Camera("CAM01", 10.77, 106.70)])
    clip = scene.clip("CAM01", T0, seconds=4.0)
    stored = sorted({s for s, _, _ in SPELLINGS})
    for n, text in enumerate(stored):
        scene.orphan_read(clip, 0.2 + 0.4 * n, text)
    scene.commit()
    for stored_text, typed, norm in SPELLINGS:
        found = search(index, SearchQuery(plate=typed, raw_plates=True))
        assert found, (stored_text, typed)
        assert {normalize_plate(s.plate or "") for s in found} == {norm}, typed


def test_colour_words() -> None:
    assert [normalize_color(c) for c in COLOR_NAMES] == list(COLOR_NAMES)
    assert normalize_color(" Gray ") == "silver/grey"
    with pytest.raises(ValueError, match="expected a colour among red"):
        normalize_color("mauve")


def test_the_analysis_names_only_vocabulary_colours() -> None:
    from camfind.analysis import color

    produced = {name for _, name in color._HUE_BANDS} | {"black", "white", "silver/grey", "brown"}
    assert produced <= set(COLOR_NAMES)


def test_colour_search_loads_no_image_library() -> None:
    code = (
        "import sys\n"
        "from camfind.search.query import SearchQuery\n"
        "assert SearchQuery(color='gray').color_name == 'silver/grey'\n"
        "print(sorted(m for m in ('cv2', 'camfind.analysis', 'torch', 'dlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_backend_names_are_the_commands_choices() -> None:
    from camfind.analysis.settings import AnalysisSettings
    from camfind.vocab import DETECTORS, OCR_BACKENDS

    assert AnalysisSettings(detector=DETECTORS[0]).detector == "ssd"
    for ocr in OCR_BACKENDS:
        assert AnalysisSettings(ocr=ocr).ocr == ocr
    with pytest.raises(ValueError, match="'ssd' or 'yolo'"):
        AnalysisSettings(detector="mobilenet")
    with pytest.raises(ValueError, match="'rapidocr' or 'easyocr'"):
        AnalysisSettings(ocr="tesseract")
