"""Watchlist batch search: file parsing (headers, positions, errors) and hits in one pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from searchscene import Scene

from camfind.errors import InputError
from camfind.index import Index
from camfind.search.batch import batch_search, hits_frame, read_watchlist, summary


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "watch.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_hits_for_all_entries_in_one_pass(street: tuple[Index, Scene], tmp_path: Path) -> None:
    idx, _ = street
    wl = read_watchlist(_write(tmp_path, "label,plate,note\nred car,51F-123.45,case 12\nbikes,59G1*,\n"
                                         "ocr,29B99989~1,\nnobody,77A-000.00,\n# comment,,\n"))
    assert [w.row for w in wl] == [2, 3, 4, 5]
    hits = batch_search(idx, wl)
    got = [(h.watch.label, h.sighting.camera_id, h.plate, h.distance) for h in hits]
    assert got == [
        ("red car", "A", "51F-123.45", 0.0), ("red car", "B", "51F-123.45", 0.0),
        ("bikes", "B", "59G1-660.05", 0.0), ("ocr", "C", "29B-999.99", 1.0),
        ("red car", "D", "51F-123.45", 0.0), ("red car", "D", "51F 123.45", 0.0),
    ]
    df = hits_frame(hits, idx.tz)
    assert list(df.columns[:6]) == ["watch", "label", "note", "plate", "distance", "camera_id"]
    # time is the matching plate read's (frame 20 of the track seen from 10:00:01)
    assert df.iloc[0]["note"] == "case 12" and df.iloc[0]["time"] == "2024-03-01T10:00:02+07:00"
    assert df.iloc[0]["first_seen"] == "2024-03-01T10:00:01+07:00"
    assert summary(wl, hits) == "4 watchlist entries, 3 with hits, 6 hits at 4 camera(s)"


def test_headerless_and_bad_watchlists(tmp_path: Path) -> None:
    wl = read_watchlist(_write(tmp_path, "51F-123.45,stolen\n30A*\n"))
    assert [(w.pattern.norm, w.label, w.row) for w in wl] == [("51F12345", "stolen", 1), ("30A*", "", 2)]
    with pytest.raises(InputError, match=r"watch.csv row 3: .*wildcards or ~N"):
        read_watchlist(_write(tmp_path, "plate\n51F12345\n51F*~1\n"))
    with pytest.raises(InputError, match="no plate patterns"):
        read_watchlist(_write(tmp_path, "plate,label\n,,\n"))
    with pytest.raises(InputError, match="cannot read watchlist"):
        read_watchlist(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Plate,Label\n51F-123.45,red car\n", [("51F12345", "red car", 2)]),
     ("note,PATTERN\nseen twice,30A*\n", [("30A*", "", 2)]),
     ("# list of 2024-03-01\n\nlabel,plate pattern,owner\nvan,29B~1 ,ignored\n", [("29B", "van", 4)]),
     ("# no header\n51F-123.45,red car,case 12\n", [("51F12345", "red car", 2)]),
     ("５１Ｆ－１２３.４５\n", [("51F12345", "", 1)])],
)
def test_header_or_not(tmp_path: Path, text: str, expected: list[tuple[str, str, int]]) -> None:
    assert [(w.pattern.norm, w.label, w.row) for w in read_watchlist(_write(tmp_path, text))] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [  # "label" was read as the plate pattern LABEL (exit 0); plate,plate was silently accepted
        ("label\nx\n", r"watch.csv row 1: expected one plate column, found none \(columns: label\)"),
        ("label,note\nred car,case 12\n", "found none"),
        ("plate,plate\n51F12345,30A*\n", "watch.csv row 1: column plate appears more than once"),
        ("Label,plate,LABEL\nx,51F12345,y\n", "column label appears more than once"),
        ("plate,pattern\n51F12345,30A*\n", "expected one plate column, found plate, pattern"),
        ("bien so,ghi chu\n51F12345,xe do\n", r"row 1: 'bien so' is neither a column name nor a plate pattern"),
        ("\n# only comments\n", "is empty"),
    ],
)
def test_header_mistakes_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        read_watchlist(_write(tmp_path, text))
    assert "watch.csv" in str(caught.value)
