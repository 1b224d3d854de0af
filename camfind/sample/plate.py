"""Vietnamese licence plates drawn for the sample network (white plate, black lettering).

A motorbike plate has two rows (``59-X3`` over ``472.18``); a car plate one row (``51F-123.45``).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from camfind.sample.assets import bold_font

#: Drawing resolution: pixels per centimetre of plate before resizing to the frame.
_PX_PER_CM = 20


def plate_rows(plate: str) -> tuple[str, ...]:
    """Split a plate into the rows as printed: ``59-X3 472.18`` -> (``59-X3``, ``472.18``).

    >>> plate_rows("59-X3 472.18"), plate_rows("51F-123.45")
    (('59-X3', '472.18'), ('51F-123.45',))
    """
    rows = tuple(part for part in plate.split() if part)
    if not 1 <= len(rows) <= 2:
        raise ValueError(f"expected a plate of one or two rows, got {plate!r}")
    return rows


def _fit_row(text: str, width: int, height: int) -> Image.Image:
    """One row of lettering, squeezed horizontally to ``width`` like the narrow plate font."""
    font = ImageFont.truetype(str(bold_font()), int(height * 1.05))
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    tile = Image.new("L", (right - left + 4, bottom - top + 4), 255)
    ImageDraw.Draw(tile).text((2 - left, 2 - top), text, font=font, fill=0)
    return tile.resize((width, height), Image.Resampling.LANCZOS)


def render_plate(plate: str) -> np.ndarray:
    """The plate as a BGR image at 20 px/cm (motorbike 19x14 cm, car 52x11 cm)."""
    rows = plate_rows(plate)
    w_cm, h_cm = (19.0, 14.0) if len(rows) == 2 else (52.0, 11.0)
    w, h = int(w_cm * _PX_PER_CM), int(h_cm * _PX_PER_CM)
    board = Image.new("L", (w, h), 250)
    draw = ImageDraw.Draw(board)
    border = max(4, h // 40)
    draw.rounded_rectangle((border, border, w - border, h - border), radius=h // 12,
                           outline=10, width=border)
    pad_x, pad_y = w // 14, h // 11
    row_h = (h - 2 * pad_y - (len(rows) - 1) * pad_y) // len(rows)
    for i, text in enumerate(rows):
        tile = _fit_row(text, w - 2 * pad_x, row_h)
        board.paste(tile, (pad_x, pad_y + i * (row_h + pad_y)))
    gray = np.asarray(board)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def mount_plate(image: np.ndarray, box: tuple[int, int, int, int], plate: str) -> np.ndarray:
    """A copy of ``image`` with the plate resized into ``box`` (x1, y1, x2, y2), slightly shaded."""
    x1, y1, x2, y2 = box
    tile = cv2.resize(render_plate(plate), (x2 - x1, y2 - y1), interpolation=cv2.INTER_AREA)
    shade = np.linspace(1.0, 0.88, y2 - y1, dtype=np.float32)[:, None, None]
    out = image.copy()
    out[y1:y2, x1:x2] = np.clip(tile.astype(np.float32) * shade, 0, 255).astype(np.uint8)
    return out
