"""CSV cells that spreadsheets would run as formulas are neutralised, numbers are not, and the
original text is recoverable."""

from __future__ import annotations

import csv
import io

import pytest

from camfind.csvsafe import SafeDictWriter, neutral_cell, original_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'already quoted", "''already quoted"),
        ("-12.5", "-12.5"),
        ("+84", "+84"),
        ("-1e3", "-1e3"),
        ("Cam -1 = north", "Cam -1 = north"),
        ("", ""),
        (-12.5, -12.5),
        (None, None),
    ],
)
def test_neutral_cell(value: object, written: object) -> None:
    assert neutral_cell(value) == written
    if isinstance(value, str):
        assert original_cell(str(written)) == value


def test_the_writer_neutralises_every_text_cell() -> None:
    buf = io.StringIO()
    writer = SafeDictWriter(buf, fieldnames=["name", "lat"], lineterminator="\n")
    writer.writeheader()
    writer.writerows([{"name": "=1+2", "lat": -12.5}, {"name": "ok", "lat": "-12.5"}])
    assert list(csv.reader(io.StringIO(buf.getvalue()))) == [["name", "lat"], ["'=1+2", "-12.5"], ["ok", "-12.5"]]
