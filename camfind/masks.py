"""Overlay masks declared per camera: the cameras file's ``mask`` column.

>>> parse_mask("0 0 0.4 0.1; 0.7,0.9,1,1", 1000, 500)
((0.0, 0.0, 400.0, 50.0), (700.0, 450.0, 1000.0, 500.0))
"""

from __future__ import annotations

import re

from camfind.errors import InputError
from camfind.types import Box

MASK_COLUMN = "mask"
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def parse_mask(text: str, width: int, height: int) -> tuple[Box, ...]:
    """Boxes of a ``mask`` value (fractions of the frame) in pixels of a ``width`` x ``height`` frame.

    Raises:
        InputError: not four numbers in [0, 1] per box, or a box with no area.
    """
    boxes: list[Box] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        values = [v for v in re.split(r"[\s,]+", part) if v]
        if len(values) != 4 or not all(_NUMBER.match(v) for v in values):
            raise InputError(f"mask {part!r}: expected four fractions of the frame 'x1 y1 x2 y2', e.g. '0 0 0.4 0.1'")
        x1, y1, x2, y2 = (float(v) for v in values)
        if not (0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1):
            raise InputError(f"mask {part!r}: expected 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1")
        boxes.append((x1 * width, y1 * height, x2 * width, y2 * height))
    return tuple(boxes)
