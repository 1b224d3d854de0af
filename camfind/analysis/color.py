"""The dominant colour of an object, as a word a witness would use.

Pixels of the object's body (the middle of a vehicle box, the torso of a person) are put in HSV
bins: dark pixels are ``black``, bright unsaturated ones ``white``, the rest of the unsaturated
ones ``silver/grey``; saturated pixels are named by hue. Windows, tyres and shadows are dark and
unsaturated, so a clearly coloured body wins when enough of its pixels are saturated; otherwise
the most common achromatic bin is the colour. The names are :data:`camfind.vocab.COLOR_NAMES`.

Example:
    >>> import numpy as np
    >>> patch = np.zeros((40, 40, 3), np.uint8); patch[:] = (0, 0, 200)  # BGR red
    >>> dominant_color(patch)
    'red'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import cv2
import numpy as np

from camfind.types import Box

# OpenCV hue is 0..179. Upper bounds of each hue band.
_HUE_BANDS: tuple[tuple[int, str], ...] = (
    (7, "red"), (19, "orange"), (34, "yellow"), (85, "green"), (128, "blue"),
    (150, "purple"), (170, "pink"), (180, "red"),
)
_CHROMA_SHARE = 0.30  # share of body pixels that must be saturated for a hue to win
_PAINT_SHARE = 0.15  # ... or this share, when one hue holds _ONE_HUE of the saturated pixels
_ONE_HUE = 0.6
_LIGHT_SHARE = 0.35  # share of achromatic pixels that must be light for white or silver
_WHITE_SHARE = 0.6  # share of light pixels that must be untinted for white
_SILVER = "_light_tinted"  # internal vote: light paint with a tint (silver), not a colour name


def body_region(box: Box, cls: str) -> Box:
    """The part of a box whose colour names the object (torso for people, body for vehicles)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    if cls == "person" and h < 1.6 * w:  # head and shoulders only (close-up, cut by the frame)
        return (x1 + 0.2 * w, y1 + 0.7 * h, x2 - 0.2 * w, y2)
    if cls == "person":
        return (x1 + 0.25 * w, y1 + 0.2 * h, x2 - 0.25 * w, y1 + 0.55 * h)
    if cls in ("motorcycle", "bicycle"):  # the rider's clothes or the bike's body, not the road
        return (x1 + 0.2 * w, y1 + 0.15 * h, x2 - 0.2 * w, y1 + 0.7 * h)
    return (x1 + 0.15 * w, y1 + 0.15 * h, x2 - 0.15 * w, y2 - 0.15 * h)


def _hue_name(hue: np.ndarray) -> np.ndarray:
    names = np.empty(hue.shape, dtype=object)
    lo = 0
    for hi, name in _HUE_BANDS:
        names[(hue >= lo) & (hue < hi)] = name
        lo = hi
    return names


def color_votes(image_bgr: np.ndarray, max_side: int = 64) -> Counter[str]:
    """Pixel counts per colour name over a body crop (downscaled to ``max_side`` for speed)."""
    if image_bgr.size == 0:
        return Counter()
    h, w = image_bgr.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        image_bgr = cv2.resize(image_bgr, (max(1, int(w * scale)), max(1, int(h * scale))),
                               interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.int32)
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    lab = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    tint = np.hypot(lab[:, 1] - 128.0, lab[:, 2] - 128.0)  # Lab chroma: ~0 for white paint
    votes: Counter[str] = Counter()
    dark = val < 60
    chroma = ~dark & (sat >= 70) & (sat * val >= 70 * 110)
    grey = ~dark & ~chroma
    light = grey & (val >= 175) & (sat < 45)
    white = light & (tint < 4.0)  # tinted light paint is silver
    votes["black"] = int(dark.sum())
    votes["white"] = int(white.sum())
    votes[_SILVER] = int((light & ~white).sum())
    votes["silver/grey"] = int((grey & ~light).sum())
    names = _hue_name(hue[chroma])
    # Dark orange/yellow is brown.
    brownish = (names == "orange") & (val[chroma] < 150)
    names[brownish] = "brown"
    votes.update(Counter(names.tolist()))
    return votes


def decide(votes: Counter[str]) -> str | None:
    """The colour name a set of pixel votes points to, or None for no pixels."""
    total = sum(votes.values())
    if total == 0:
        return None
    achromatic = ("black", "white", "silver/grey", _SILVER)
    chroma = Counter({k: v for k, v in votes.items() if k not in achromatic})
    if chroma:
        hue, n = chroma.most_common(1)[0]
        share = sum(chroma.values()) / total
        # A clear paint colour wins even on a small part (a motorbike's tank among chrome and
        # tyres) when one hue holds most coloured pixels; mixed hues need more of the body.
        if share >= _CHROMA_SHARE or (share >= _PAINT_SHARE and n >= _ONE_HUE * sum(chroma.values())):
            return hue
    grey_total = sum(votes.get(k, 0) for k in achromatic)
    light = votes.get("white", 0) + votes.get(_SILVER, 0)
    # Windows, tyres and shadows are never white: a third of light paint makes a light object.
    if light >= _LIGHT_SHARE * grey_total:
        return "white" if votes.get("white", 0) >= _WHITE_SHARE * light else "silver/grey"
    return "black" if votes.get("black", 0) >= votes.get("silver/grey", 0) + light else "silver/grey"


def dominant_color(image_bgr: np.ndarray) -> str | None:
    """The dominant colour name of a body crop (see :func:`body_region`)."""
    return decide(color_votes(image_bgr))


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    """Pixels of ``image`` inside ``box`` (clipped to the image; may be empty)."""
    h, w = image.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(w, int(round(box[2]))), min(h, int(round(box[3])))
    return image[y1:y2, x1:x2]


def track_color(samples: Iterable[tuple[np.ndarray, Box, str]]) -> str | None:
    """Colour of a track from several (image, box, class) samples: pixel votes summed."""
    total: Counter[str] = Counter()
    for image, box, cls in samples:
        votes = color_votes(crop(image, body_region(box, cls)))
        n = sum(votes.values())
        if n:  # each sample weighs the same whatever its size
            total.update({k: v / n for k, v in votes.items()})
    return decide(total)
