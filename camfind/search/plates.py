"""Plate patterns: exact, wildcard and fuzzy (OCR-confusion-aware) matching, backed by the index.

A pattern is what a user types after ``--plate``:

- exact: ``51F-123.45`` (separators and case ignored: it matches the normalised ``51F12345``);
- wildcards: ``51F*`` (``*`` any run, ``?`` one character);
- fuzzy: ``51F12345~1``: within 1 edit, where an OCR confusion costs :data:`CONFUSION_COST`
  instead of 1. The look-alike groups are the recognition library's
  (:data:`camfind.recognition.vnplate.CONFUSABLE`: 0/O/D/Q, 8/B, 5/S, 2/Z, 1/I/T/L, 6/G, 4/A).

>>> p = parse_plate_pattern("51f-123.45~1")
>>> p.kind, p.norm, p.max_edits
('fuzzy', '51F12345', 1.0)
>>> p.match("51F1Z345"), p.match("51F19345"), p.match("51F1934")
(0.5, 1.0, None)
>>> parse_plate_pattern("51F*4?").match("51F12345")
0.0

Matching against the index never scans every read: exact patterns look the normalised text up in
the indexed ``norm`` columns; wildcards and fuzzy patterns run over ``plate_vocab`` (one row per
distinct plate text, kept by triggers), wildcards as ``GLOB`` (SQLite) or ``LIKE`` (PostgreSQL) on
its unique key (a range scan when the pattern starts with a literal prefix) or its trigram index,
fuzzy ones through pigeonhole pieces evaluated by the database (:func:`fuzzy_candidates`), a
rapidfuzz Levenshtein prefilter on confusion-folded text, then the weighted distance on the few
survivors.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from camfind.errors import InputError
from camfind.index import platevocab
from camfind.recognition.vnplate import CONFUSABLE
from camfind.vocab import normalize_plate

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

#: Characters OCR confuses on plates; a substitution inside one group is cheap.
CONFUSION_GROUPS: tuple[str, ...] = tuple(sorted(set(CONFUSABLE.values())))
#: Cost of substituting one character of a group for another (other edits cost 1).
CONFUSION_COST = 0.5
#: The largest fuzzy distance accepted (beyond it a pattern matches most of any index).
MAX_FUZZY = 3.0

_GROUP_OF: dict[str, int] = {ch: i for i, group in enumerate(CONFUSION_GROUPS) for ch in group}
_FOLD = str.maketrans({ch: group[0] for group in CONFUSION_GROUPS for ch in group})
#: What may follow the ``~`` of a fuzzy pattern: the number of edits (``1``, ``0.5``, ``2``).
_FUZZY_SUFFIX = re.compile(r"\s*(\d{1,3}(?:\.\d{1,3})?)\s*")
#: The forms a plate pattern takes, for error messages.
PATTERN_FORMS = "a plate (51F-123.45), a wildcard pattern (51F*, 51F-1??.45) or PLATE~N (51F12345~1)"

PatternKind = Literal["exact", "wildcard", "fuzzy"]


def fold_confusions(norm: str) -> str:
    """Map every confusable character to its group's first one (``O``, ``D`` -> ``0``...).

    >>> fold_confusions("5IB-DZ")
    '518-02'
    """
    return norm.translate(_FOLD)


def substitution_cost(a: str, b: str) -> float:
    """0 for the same character, :data:`CONFUSION_COST` for an OCR confusion, else 1."""
    if a == b:
        return 0.0
    ga, gb = _GROUP_OF.get(a), _GROUP_OF.get(b)
    return CONFUSION_COST if ga is not None and ga == gb else 1.0


def ocr_distance(a: str, b: str) -> float:
    """Weighted edit distance between two normalised plates (insert/delete 1, substitution 1 or
    :data:`CONFUSION_COST` for an OCR confusion).

    >>> ocr_distance("51F12345", "51F12345"), ocr_distance("51F12345", "5IF1Z345")
    (0.0, 1.0)
    >>> ocr_distance("51F12345", "51F12395")
    1.0
    """
    prev = [float(j) for j in range(len(b) + 1)]
    for i, ca in enumerate(a, start=1):
        cur = [float(i)] + [0.0] * len(b)
        for j, cb in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1.0, cur[j - 1] + 1.0, prev[j - 1] + substitution_cost(ca, cb))
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class PlatePattern:
    """A parsed plate pattern. Build it with :func:`parse_plate_pattern`."""

    text: str
    norm: str
    kind: PatternKind
    max_edits: float = 0.0

    @property
    def glob(self) -> str:
        """The SQLite GLOB form (the normalised text has only letters, digits, ``*`` and ``?``)."""
        return self.norm

    @property
    def literal_prefix(self) -> str:
        """The characters before the first wildcard."""
        return re.split(r"[*?]", self.norm, maxsplit=1)[0]

    def match(self, plate_norm: str) -> float | None:
        """The distance of a normalised plate from this pattern (0 for exact/wildcard hits), or None."""
        if self.kind == "exact":
            return 0.0 if plate_norm == self.norm else None
        if self.kind == "wildcard":
            return 0.0 if _wild_regex(self.norm).fullmatch(plate_norm) else None
        if abs(len(plate_norm) - len(self.norm)) > self.max_edits:
            return None
        dist = ocr_distance(self.norm, plate_norm)
        return dist if dist <= self.max_edits + 1e-9 else None

    def __str__(self) -> str:
        return self.text


def parse_plate_pattern(text: str) -> PlatePattern:
    """Parse what a user typed: exact, ``*``/``?`` wildcards, or a ``~N`` fuzzy suffix.

    The text is NFKC-normalised first (full-width ``５１Ｆ～１`` is ``51F~1``), then put in the plate
    normal form (:func:`camfind.vocab.normalize_plate`) keeping ``*`` and ``?``.

    >>> parse_plate_pattern("５１ｆ－１２３.４５").norm
    '51F12345'

    Raises:
        InputError: nothing left to search for, a ``~`` that is not a ``~N`` suffix
            (``51F~``, ``51F~-1``, ``51F~1~2``), wildcards mixed with ``~N``, or ``N`` out of range.
    """
    raw = text.strip()
    body, tilde, suffix = unicodedata.normalize("NFKC", raw).partition("~")
    norm = normalize_plate(body, keep="*?")
    if not norm.strip("*"):
        where = " before the ~" if tilde else ""
        raise InputError(f"plate pattern {text!r} has no letters or digits{where}: expected {PATTERN_FORMS}")
    if not tilde:
        return PlatePattern(raw, norm, "wildcard" if _has_wild(norm) else "exact")
    n = _FUZZY_SUFFIX.fullmatch(suffix)
    if n is None:
        raise InputError(f"plate pattern {text!r}: '~{suffix}' is not a fuzzy suffix: expected PLATE~N, "
                         f"N the edits allowed, above 0 and at most {MAX_FUZZY:g} (51F12345~1)")
    if _has_wild(norm):
        raise InputError(f"plate pattern {text!r}: use wildcards or ~N, not both")
    edits = float(n.group(1))
    if not 0 < edits <= MAX_FUZZY:
        raise InputError(f"plate pattern {text!r}: ~N must be above 0 and at most {MAX_FUZZY:g}")
    return PlatePattern(raw, norm, "fuzzy", edits)


def _has_wild(norm: str) -> bool:
    return "*" in norm or "?" in norm


# -- index-backed matching --------------------------------------------------------------------
#: Look-alike variants of one fuzzy piece beyond which the trigram lookup gives way to a scan.
MAX_VARIANTS = 256


def matching_plates(index: Index, pattern: PlatePattern) -> dict[str, float]:
    """Every distinct plate text in the index matching ``pattern``, with its distance.

    Exact patterns are looked up directly. Wildcards with a literal prefix are a range scan on
    ``plate_vocab.norm``; others use its trigram index for their literal runs of 3 or more
    (:mod:`camfind.index.platevocab` serves both backends). Fuzzy patterns get their candidates
    from :func:`fuzzy_candidates`.
    """
    if pattern.kind == "exact":
        return {pattern.norm: 0.0} if platevocab.has(index, pattern.norm) else {}
    if pattern.kind == "wildcard":
        runs = [r for r in re.split(r"[*?]", pattern.norm) if len(r) >= 3]
        return {v: 0.0 for v in platevocab.wildcard(index, pattern.glob, pattern.literal_prefix, runs)}
    return fuzzy_matches([pattern], fuzzy_candidates(index, pattern))[0]


def match_many(index: Index, patterns: Sequence[PlatePattern]) -> list[dict[str, float]]:
    """Match many patterns (a watchlist): exact ones in one lookup, the others each through the
    indexes. Returns, per pattern, the matching plate texts and their distances."""
    known = platevocab.existing(index, (p.norm for p in patterns if p.kind == "exact"))
    return [
        ({p.norm: 0.0} if p.norm in known else {}) if p.kind == "exact" else matching_plates(index, p)
        for p in patterns
    ]


def fuzzy_candidates(index: Index, pattern: PlatePattern) -> list[str]:
    """Plate texts that may be within ``max_edits`` of a fuzzy pattern, selected inside the database.

    Pigeonhole: cut the confusion-folded pattern into ``N + 1`` pieces; ``N`` edits can spoil at
    most ``N`` of them, so a match contains one piece intact, up to look-alikes. Each piece goes
    to the database spelt in all its look-alike variants (``51F1`` -> ``51F1, S1F1, 5IF1...``) and
    as character classes (``[5S][1ITL]F1``); SQLite looks the variants up in its trigram index
    (or, for a piece shorter than 3 characters or with too many variants, scans with one GLOB per
    piece, still in C), PostgreSQL answers the classes as one regular expression from ``pg_trgm``.
    """
    n = int(pattern.max_edits)
    lo, hi = len(pattern.norm) - n, len(pattern.norm) + n
    pieces = _pieces(fold_confusions(pattern.norm), n + 1)
    if min(len(piece) for piece in pieces) < 2:
        return platevocab.by_length(index, lo, hi)
    spelt = []
    for piece in pieces:
        variants = _variants(piece)
        spelt.append(platevocab.Piece(len(piece), "".join(_char_class(ch) for ch in piece),
                                      tuple(variants) if len(variants) <= MAX_VARIANTS else None))
    return platevocab.containing_any(index, lo, hi, spelt)


def _variants(folded: str) -> list[str]:
    """Every spelling of a folded piece with look-alikes (``51`` -> ``51, 5I, 5T, 5L, S1...``)."""
    out = [""]
    for ch in folded:
        group = CONFUSION_GROUPS[_GROUP_OF[ch]] if ch in _GROUP_OF else ch
        out = [o + g for o in out for g in group]
        if len(out) > MAX_VARIANTS:
            break
    return out


def fuzzy_matches(patterns: Sequence[PlatePattern], vocab: Sequence[str]) -> list[dict[str, float]]:
    """Fuzzy patterns against a list of plate texts: a folded-Levenshtein prefilter (rapidfuzz,
    a lower bound of the weighted distance), then the exact weighted distance on survivors."""
    folded = [fold_confusions(v) for v in vocab]
    results: list[dict[str, float]] = []
    for p in patterns:
        hits = process.extract(
            fold_confusions(p.norm), folded, scorer=Levenshtein.distance,
            score_cutoff=int(p.max_edits), limit=None,
        )
        found: dict[str, float] = {}
        for _choice, _score, pos in hits:
            dist = p.match(vocab[pos])
            if dist is not None:
                found[vocab[pos]] = dist
        results.append(found)
    return results


def _pieces(text: str, k: int) -> list[str]:
    """``text`` cut into ``k`` contiguous pieces of near-equal length."""
    bounds = [round(i * len(text) / k) for i in range(k + 1)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _char_class(folded: str) -> str:
    group = CONFUSION_GROUPS[_GROUP_OF[folded]] if folded in _GROUP_OF else ""
    return f"[{group}]" if group else folded


@lru_cache(maxsize=1024)
def _wild_regex(norm: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in norm))
