"""Plate patterns: parsing, exact/wildcard/fuzzy semantics, and index-backed matching."""

from __future__ import annotations

import pytest

from camfind.errors import InputError
from camfind.index import Index
from camfind.search.plates import (
    CONFUSION_COST,
    match_many,
    matching_plates,
    ocr_distance,
    parse_plate_pattern,
)
from camfind.vocab import normalize_plate


@pytest.mark.parametrize(
    ("pattern", "plate", "hit"),
    [
        ("51F-123.45", "51F12345", True),
        ("51f 123 45", "51F12345", True),
        ("51F-123.45", "51F12346", False),
        ("51F-123.45", "51F1234", False),
        ("51F*", "51F12345", True),
        ("51F*", "51G12345", False),
        ("*345", "51F12345", True),
        ("*345", "51F12346", False),
        ("51?12345", "51F12345", True),
        ("51?12345", "51FF12345", False),
        ("5*2*5", "51F12345", True),
        ("51F12345~1", "51F12345", True),
        ("51F12345~1", "51F12395", True),  # one ordinary substitution
        ("51F12345~1", "51F1234", True),  # one deletion
        ("51F12345~1", "51F123456", True),  # one insertion
        ("51F12345~1", "5IF1Z345", True),  # two OCR confusions at 0.5 each
        ("51F12345~1", "51F19395", False),  # two ordinary substitutions
        ("51F12345~1", "SIF1Z345", False),  # three confusions = 1.5
        ("51F12345~0.5", "51F1Z345", True),
        ("51F12345~0.5", "51F19345", False),
        ("30A-888.08~1", "30AB88O8", True),  # 8/B and 0/O
        ("59G-1660.5~1", "596166O5", True),
        ("51F12345~2", "51F19395", True),
        ("５１Ｆ－１２３.４５", "51F12345", True),  # full-width, as some Vietnamese keyboards type it
        ("５１Ｆ１２３４５～１", "51F1Z345", True),
        ("51F 123/45", "51F12345", True),
        ("51F~1", "51G", True),
    ],
)
def test_pattern_semantics(pattern: str, plate: str, hit: bool) -> None:
    assert (parse_plate_pattern(pattern).match(plate) is not None) is hit


@pytest.mark.parametrize(
    ("a", "b"),
    [("0", "O"), ("O", "D"), ("0", "D"), ("8", "B"), ("5", "S"), ("2", "Z"), ("1", "I"), ("1", "T"),
     ("I", "T"), ("6", "G"), ("4", "A"), ("0", "Q"), ("1", "L")],
)
def test_confusions_cost_less_than_other_edits(a: str, b: str) -> None:
    assert ocr_distance(f"51F{a}2345", f"51F{b}2345") == CONFUSION_COST
    assert ocr_distance(f"51F{a}2345", "51FX2345") == 1.0
    assert CONFUSION_COST < 1.0


@pytest.mark.parametrize(
    ("text", "why"),
    [("", "no letters"), ("--", "no letters"), ("***", "no letters"), ("51F*~1", "wildcards or ~N"),
     ("51F12345~0", "above 0"), ("51F12345~9", "at most"),
     # a "~" that is not a ~N suffix was read as another search (~x exact X, 51F~-1 exact 51F1...)
     ("~x", "no letters or digits before the ~"), ("51F~-1", "'~-1' is not a fuzzy suffix"),
     ("51F~", "'~' is not a fuzzy suffix"), ("51F~1e0", "'~1e0' is not a fuzzy suffix"),
     ("51F~1~2", "'~1~2' is not a fuzzy suffix"), ("51F~one", "expected PLATE~N"),
     ("ЖД", "no letters or digits")],  # Cyrillic: no A-Z (Đ is D: tests/test_vocab.py)
)
def test_bad_patterns_are_named(text: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        parse_plate_pattern(text)


def test_patterns_and_plates_normalise_alike() -> None:
    assert normalize_plate("５１Ｆ－１２３.４５") == "51F12345" == parse_plate_pattern("５１ｆ 123.45").norm
    assert parse_plate_pattern("５１Ｆ").kind == "exact" and parse_plate_pattern("51F*").kind == "wildcard"


def _fill(idx: Index, norms: list[str]) -> None:
    """Vocabulary rows as the plate_reads triggers keep them (the triggers are tested below)."""
    idx.db.executemany("INSERT INTO plate_vocab (norm, uses) VALUES (?, 1)", [(n,) for n in norms])


def test_index_matching_uses_the_vocabulary(case: str) -> None:
    idx = Index.open(case, create=True)
    _fill(idx, ["51F12345", "51F1Z345", "51F99999", "30A88808", "29B12345", "51G12345"])
    assert matching_plates(idx, parse_plate_pattern("51F-123.45")) == {"51F12345": 0.0}
    assert matching_plates(idx, parse_plate_pattern("99X00000")) == {}
    assert set(matching_plates(idx, parse_plate_pattern("51F*"))) == {"51F12345", "51F1Z345", "51F99999"}
    assert set(matching_plates(idx, parse_plate_pattern("*12345"))) == {"51F12345", "29B12345", "51G12345"}
    fuzzy = matching_plates(idx, parse_plate_pattern("51F12345~1"))
    assert fuzzy == {"51F12345": 0.0, "51F1Z345": 0.5, "51G12345": 1.0}
    many = match_many(idx, [parse_plate_pattern(p) for p in ("51F12345", "*808", "29B12845~1", "77")])
    assert many == [{"51F12345": 0.0}, {"30A88808": 0.0}, {"29B12345": 1.0}, {}]


def test_prefix_wildcard_is_an_index_range_scan(tmp_path) -> None:
    idx = Index.open(tmp_path / "v.db", create=True)
    plan = " ".join(r[3] for r in idx.db.execute(
        "EXPLAIN QUERY PLAN SELECT norm FROM plate_vocab WHERE norm GLOB ?", ("51F*",)))
    assert "SEARCH" in plan and "norm>? AND norm<?" in plan


@pytest.mark.parametrize("n", ["0.5", "1", "1.5", "2", "3"])
def test_index_backed_fuzzy_equals_brute_force(case: str, n: str) -> None:
    import random

    rng = random.Random(int(float(n) * 10))
    alphabet = "0123456789ABDFGILOQSTZ"
    base = ["51F12345", "30A88808", "59G166005", "29B99999"]
    vocab = set(base)
    for _ in range(800):  # base plates with 1-3 random edits, and random plates
        s = list(rng.choice(base))
        for _ in range(rng.randint(1, 3)):
            op, i = rng.random(), rng.randrange(len(s))
            if op < 0.5:
                s[i] = rng.choice(alphabet)
            elif op < 0.75:
                s.insert(i, rng.choice(alphabet))
            elif len(s) > 4:
                del s[i]
        vocab.add("".join(s))
        vocab.add("".join(rng.choice(alphabet) for _ in range(rng.randint(6, 10))))
    idx = Index.open(case, create=True)
    _fill(idx, sorted(vocab))
    for plate in base:
        pattern = parse_plate_pattern(f"{plate}~{n}")
        brute = {v: d for v in vocab if (d := pattern.match(v)) is not None}
        assert matching_plates(idx, pattern) == brute
        assert len(brute) > 1


def test_index_backed_wildcards_equal_brute_force(case: str) -> None:
    import random

    rng = random.Random(5)
    vocab = {"".join(rng.choice("0123456789ABFGSZ") for _ in range(rng.randint(6, 9))) for _ in range(3000)}
    vocab |= {"51F12345", "30A12345", "51F99345"}
    idx = Index.open(case, create=True)
    _fill(idx, sorted(vocab))
    for text in ("*12345", "*345", "*F1*", "5?F*45", "*99*4?", "51F*", "???12*", "*A1234*"):
        pattern = parse_plate_pattern(text)
        assert set(matching_plates(idx, pattern)) == {v for v in vocab if pattern.match(v) is not None}, text
