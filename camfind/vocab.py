"""camfind's shared vocabulary: the words and values every stage must agree on, in one place.

The plate normal form (what the index stores and what a search looks up), the colour names the
analysis stores and search accepts, the backend names the commands offer and the libraries load,
and the face-match threshold. Standard library only, so the CLI's help, search and the index can
use it without loading OpenCV, dlib or torch.

Example:
    >>> normalize_plate("５１ｆ-123.45") == normalize_plate("51F12345")
    True
    >>> normalize_color("Gray")
    'silver/grey'
"""

from __future__ import annotations

import unicodedata

#: Distance (dlib's 128-d encodings) at or under which two faces are taken for the same person.
#: Measured on the real face photos (every pair; see benchmarks/recognition.py): worst
#: same-person pair 0.52-0.53, best different-person pair 0.66-0.68 (YuNet or HOG boxes); the
#: threshold sits in that gap.
FACE_MATCH_THRESHOLD = 0.6

#: Object detectors for video analysis: ``ssd`` (OpenCV DNN, offline default), ``yolo`` (your weights).
DETECTORS: tuple[str, ...] = ("ssd", "yolo")
#: OCR backends for plates: ``rapidocr`` (default, most accurate) and ``easyocr`` (needs torch).
OCR_BACKENDS: tuple[str, ...] = ("rapidocr", "easyocr")
#: Plate finders (where plates are in a photo or frame): ``text`` (PP-OCRv4 text detection,
#: default) and ``yolo`` (fastanpr's plate detector, an optional extra).
PLATE_FINDERS: tuple[str, ...] = ("text", "yolo")
DEFAULT_PLATE_FINDER = "text"
#: Face detectors: ``yunet`` (OpenCV, default), dlib's ``hog`` (fast) and ``cnn`` (slow on CPU).
FACE_DETECTORS: tuple[str, ...] = ("yunet", "hog", "cnn")
DEFAULT_FACE_DETECTOR = "yunet"

#: Every colour name camfind stores, in search order.
COLOR_NAMES: tuple[str, ...] = (
    "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
    "white", "black", "silver/grey",
)
#: Other words for a stored colour.
COLOR_ALIASES: dict[str, str] = {
    "grey": "silver/grey", "gray": "silver/grey", "silver": "silver/grey", "silver/gray": "silver/grey",
    "violet": "purple", "tan": "brown", "beige": "brown", "cyan": "blue", "navy": "blue",
}

# Đ/đ (and the look-alike Icelandic Ð/ð) have no Unicode decomposition: read as D.
_D = str.maketrans({"Đ": "D", "đ": "D", "Ð": "D", "ð": "D"})


def normalize_plate(text: str, keep: str = "") -> str:
    """The normal form of a plate: letters A-Z and digits only, upper case.

    Stored reads and searched patterns both pass through here, so they agree: compatibility
    forms are folded (full-width ``５１Ｆ`` is ``51F``), accents dropped (``Ă`` is ``A``, ``Đ`` is
    ``D``), case ignored and separators, spaces and anything else removed.

    Args:
        text: A plate as read or typed.
        keep: Other characters to keep (a pattern keeps its wildcards, ``"*?"``).

    >>> normalize_plate(" 51f-123.45 ")
    '51F12345'
    >>> normalize_plate("đ59-x1 １２３.４５")
    'D59X112345'
    >>> normalize_plate("51F-1?3*", keep="*?")
    '51F1?3*'
    """
    folded = unicodedata.normalize("NFKD", text.translate(_D)).upper()
    return "".join(ch for ch in folded if "A" <= ch <= "Z" or "0" <= ch <= "9" or ch in keep)


def normalize_color(name: str) -> str:
    """A colour word as stored (``gray``/``silver`` -> ``silver/grey``); ValueError if unknown.

    >>> normalize_color(" Silver ")
    'silver/grey'
    """
    word = name.strip().lower()
    word = COLOR_ALIASES.get(word, word)
    if word not in COLOR_NAMES:
        raise ValueError(f"expected a colour among {', '.join(COLOR_NAMES)}, got {name!r}")
    return word


#: A direction searched for matches headings within this many degrees of it.
DIRECTION_TOLERANCE_DEG = 45.0
#: The clock uncertainty (s) of a camera marked trusted when none was recorded for it.
TRUSTED_UNCERTAINTY_S = 0.5
