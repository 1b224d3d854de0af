"""Numbers as people type them into camera files and options, read strictly.

Python's ``float()`` is lenient in ways that hide mistakes: ``1_0.5`` is 10.5, full-width and
other scripts' digits are digits, ``nan`` and ``inf`` are numbers. Coordinates, headings, offsets
and distances must be plain decimals, or refused.

>>> parse_decimal(" -10.5e1 ")
-105.0
>>> parse_decimal("1_0.5")
Traceback (most recent call last):
    ...
ValueError: expected a finite decimal number such as 12.5, got '1_0.5'
"""

from __future__ import annotations

import math
import re

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_decimal(text: str) -> float:
    """A finite plain decimal (ASCII digits, optional sign, point and exponent); ValueError otherwise."""
    word = text.strip()
    if not _DECIMAL.fullmatch(word):
        raise ValueError(f"expected a finite decimal number such as 12.5, got {text!r}")
    value = float(word)
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {text!r}")
    return value
