"""The words people use for what they saw, mapped to the classes the analysis gives.

Investigators in Vietnam say ``xe máy`` (or "bike", "moto", "scooter") for a motorbike, ``xe đạp``
for a bicycle, ``ô tô`` or ``xe hơi`` for a car. Words are matched without case or diacritics
(``xe may`` is ``xe máy``), and English plurals are accepted.

>>> resolve_class("Xe máy").classes
('motorcycle',)
>>> resolve_class("bike").note
"'bike' means motorcycle or bicycle: searching both (--class motorcycle or --class bicycle for one)"
>>> resolve_class("car").note
''
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from camfind.errors import InputError
from camfind.types import CLASSES, VEHICLE_CLASSES

_VEHICLES = tuple(sorted(VEHICLE_CLASSES))
_TWO_WHEELS = ("motorcycle", "bicycle")

#: Alias (as typed, with its diacritics) -> classes searched. Keys are matched folded.
CLASS_WORDS: Mapping[str, tuple[str, ...]] = {
    "xe máy": ("motorcycle",), "motorbike": ("motorcycle",), "scooter": ("motorcycle",),
    "moto": ("motorcycle",), "motor": ("motorcycle",), "xe mô tô": ("motorcycle",),
    "xe gắn máy": ("motorcycle",), "xe tay ga": ("motorcycle",), "xe số": ("motorcycle",),
    # "bike" is a motorbike in Vietnamese English and a bicycle elsewhere: a search must miss neither
    "bike": _TWO_WHEELS, "two-wheeler": _TWO_WHEELS, "xe hai bánh": _TWO_WHEELS,
    "xe đạp": ("bicycle",), "cycle": ("bicycle",), "pushbike": ("bicycle",),
    "ô tô": ("car",), "oto": ("car",), "xe hơi": ("car",), "xe con": ("car",), "auto": ("car",),
    "automobile": ("car",), "taxi": ("car",),
    "xe tải": ("truck",), "lorry": ("truck",), "xe buýt": ("bus",), "xe bus": ("bus",), "xe khách": ("bus",),
    "coach": ("bus",), "người": ("person",), "người đi bộ": ("person",), "pedestrian": ("person",),
    "people": ("person",), "vehicle": _VEHICLES, "xe": _VEHICLES, "phương tiện": _VEHICLES,
}  # fmt: skip


@dataclass(frozen=True)
class ClassChoice:
    """What ``--class WORD`` searches: the classes, and a note saying so when WORD was an alias."""

    word: str
    classes: tuple[str, ...]
    note: str = ""


def fold(word: str) -> str:
    """Lower case without diacritics, spaces collapsed (``Xe  Máy`` -> ``xe may``, ``đạp`` -> ``dap``)."""
    decomposed = unicodedata.normalize("NFD", word.strip().lower().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.replace("_", " ").replace("-", " ").split())


_FOLDED: dict[str, tuple[str, ...]] = {fold(k): v for k, v in CLASS_WORDS.items()}


def resolve_class(word: str) -> ClassChoice:
    """The classes a word means (a class name, or an alias of :data:`CLASS_WORDS`).

    Raises:
        InputError: a word that names no class.
    """
    key = fold(word)
    for candidate in (key, key[:-2] if key.endswith("es") else key, key[:-1] if key.endswith("s") else key):
        if candidate in CLASSES:
            return ClassChoice(word, (candidate,))
        if candidate in _FOLDED:
            return ClassChoice(word, _FOLDED[candidate], _note(word.strip(), _FOLDED[candidate]))
    raise InputError(f"unknown class {word!r}: expected one of {', '.join(c for c in CLASSES if c != 'unknown')}, "
                     "vehicle, or a word such as xe máy, motorbike, bike, xe đạp, ô tô, xe tải, xe buýt, người")


def _note(word: str, classes: tuple[str, ...]) -> str:
    if len(classes) == 1:
        return f"{word!r} means {classes[0]}"
    if len(classes) == 2:
        return (f"{word!r} means {classes[0]} or {classes[1]}: searching both "
                f"(--class {classes[0]} or --class {classes[1]} for one)")
    return f"{word!r} means any vehicle: searching {', '.join(classes)}"


def aliases_help() -> str:
    """The aliases as one line for ``--help``: ``xe máy, motorbike... -> motorcycle; ...``."""
    by_target: dict[str, list[str]] = {}
    for alias, classes in CLASS_WORDS.items():
        by_target.setdefault(" + ".join(classes) if len(classes) < 3 else "any vehicle", []).append(alias)
    return "; ".join(f"{', '.join(words)} = {target}" for target, words in by_target.items())
