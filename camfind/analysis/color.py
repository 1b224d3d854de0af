"""The dominant colour of an object, as a word a witness would use.

Pixels of the object's body are put in bins in CIE Lab, after the camera's colour cast is taken
out:

* body only: the band of a car box below the glass (which mirrors the sky) and above the road;
  the middle band of a motorcycle box, below a rider's jacket and above the wheels (the bike's
  panels, where a person looks to name its colour); a person's torso;
* white balance (:class:`Balance`): the cast is the median tint of the near-neutral pixels (road,
  tyres, trim, white and grey paint; strongly coloured paint is not near-neutral and does not
  count) of the object with its surroundings (:func:`box_votes`), else of the body crop alone
  (:func:`color_votes`); it is taken out of every pixel, so a white car under a blue-tinted
  camera stays white and a red car stays red;
* saturation: how far grey things scatter around the cast (``Balance.spread``) sets how much
  tint white paint may show, so a camera that over-saturates does not turn white cars silver;
* bins: dark pixels are ``black``; clearly tinted ones (Lab chroma) are named by hue; the rest
  are light (white, or tinted light paint: silver) or mid grey (``silver/grey``).

The decision (:func:`decide`) lets a clear paint colour win on part of the body (a motorbike's
panels among chrome and tyres); otherwise light paint covering a good part of the body makes the
object white or silver/grey, and black wins over grey when dark pixels dominate.

Example:
    >>> import numpy as np
    >>> patch = np.zeros((40, 40, 3), np.uint8); patch[:] = (0, 0, 200)  # BGR red
    >>> dominant_color(patch)
    'red'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from camfind.types import Box

#: Every colour name camfind stores, in search order.
COLOR_NAMES: tuple[str, ...] = (
    "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
    "white", "black", "silver/grey",
)
_ALIASES = {
    "grey": "silver/grey", "gray": "silver/grey", "silver": "silver/grey", "silver/gray": "silver/grey",
    "violet": "purple", "tan": "brown", "beige": "brown", "cyan": "blue", "navy": "blue",
}
# OpenCV hue is 0..179. Upper bounds of each hue band.
_HUE_BANDS: tuple[tuple[int, str], ...] = (
    (7, "red"), (19, "orange"), (34, "yellow"), (85, "green"), (128, "blue"),
    (150, "purple"), (170, "pink"), (180, "red"),
)
# Pixel bins, CIE Lab units (L 0..100, chroma = distance from grey in a/b).
_DARK_L = 35.0  # below: black (tyres, shadow, black paint; black paint that mirrors the sky is ~30)
_CHROMA = 25.0  # at or above (after the cast is out): a colour
_LIGHT_L = 68.0  # at or above, untinted: light paint (white or silver)
_WHITE_L = 72.0  # ... and at or above this, with almost no tint: white
_WHITE_TINT = 4.0  # the most tint white paint has on a clean camera ...
_WHITE_SPREAD = 1.5  # ... or this many times the scatter of grey things (processed, noisy cameras)
_MAX_WHITE_TINT = 10.0
# White balance: near-neutral pixels give the cast; casts larger than this are not believed.
_NEUTRAL_CHROMA = 15.0
_MAX_CAST = 14.0
_MIN_NEUTRAL = 0.1  # share of the reference's pixels that must be near-neutral
# Decision.
_CHROMA_SHARE = 0.30  # share of body pixels that must be coloured for a hue to win
_PAINT_SHARE = 0.15  # ... or this share, when one hue holds _ONE_HUE of the coloured pixels
_ONE_HUE = 0.6
_LIGHT_SHARE = 0.35  # share of achromatic pixels that must be light for white or silver
_WHITE_SHARE = 0.55  # share of light pixels that must be white for white
_SILVER = "_light_tinted"  # internal vote: light paint with a tint (silver), not a colour name


def normalize_color(name: str) -> str:
    """A colour word as stored (``gray``/``silver`` -> ``silver/grey``); ValueError if unknown."""
    word = name.strip().lower()
    word = _ALIASES.get(word, word)
    if word not in COLOR_NAMES:
        raise ValueError(f"expected a colour among {', '.join(COLOR_NAMES)}, got {name!r}")
    return word


def body_region(box: Box, cls: str) -> Box:
    """The part of a box whose colour names the object.

    People: the torso. Motorcycles and bicycles: the lower part, the bike's body and panels
    (a rider's clothes are above it, the road below). Cars, buses, trucks: the band below the
    windows (glass mirrors the sky) and above the road.
    """
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    if cls == "person" and h < 1.6 * w:  # head and shoulders only (close-up, cut by the frame)
        return (x1 + 0.2 * w, y1 + 0.7 * h, x2 - 0.2 * w, y2)
    if cls == "person":
        return (x1 + 0.25 * w, y1 + 0.2 * h, x2 - 0.25 * w, y1 + 0.55 * h)
    if cls in ("motorcycle", "bicycle"):
        return (x1 + 0.2 * w, y1 + 0.4 * h, x2 - 0.2 * w, y1 + 0.75 * h)
    return (x1 + 0.12 * w, y1 + 0.4 * h, x2 - 0.12 * w, y2 - 0.12 * h)


def _hue_name(hue: np.ndarray) -> np.ndarray:
    names = np.empty(hue.shape, dtype=object)
    lo = 0
    for hi, name in _HUE_BANDS:
        names[(hue >= lo) & (hue < hi)] = name
        lo = hi
    return names


def _small(image_bgr: np.ndarray, max_side: int) -> np.ndarray:
    h, w = image_bgr.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        return cv2.resize(image_bgr, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    return image_bgr


def _lab(image_bgr: np.ndarray) -> np.ndarray:
    """Pixels as float CIE Lab rows (L 0..100, a and b centred on 0)."""
    lab = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    lab[:, 0] *= 100.0 / 255.0
    lab[:, 1:] -= 128.0
    return lab


@dataclass(frozen=True)
class Balance:
    """A camera's colour cast (Lab ``a``, ``b``) and how far grey things scatter around it.

    ``spread`` is the median tint of near-neutral pixels once the cast is out: small for a clean
    camera, larger for a processed or noisy one that tints grey paint in every direction.
    """

    a: float = 0.0
    b: float = 0.0
    spread: float = 0.0


def estimate_balance(image_bgr: np.ndarray, max_side: int = 96) -> Balance:
    """The colour cast of an image from its near-neutral pixels.

    Road, tyres, windows, white and grey paint should be grey: the median tint of the pixels
    that are nearly grey (and neither black nor blown out) is what the camera added. No cast
    when too few pixels are near-neutral; a cast is capped at ``_MAX_CAST``.
    """
    if image_bgr.size == 0:
        return Balance()
    lab = _lab(_small(image_bgr, max_side))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    near = (chroma < _NEUTRAL_CHROMA) & (lab[:, 0] > _DARK_L) & (lab[:, 0] < 97.0)
    if near.sum() < max(4, _MIN_NEUTRAL * len(lab)):
        return Balance()
    a, b = float(np.median(lab[near, 1])), float(np.median(lab[near, 2]))
    size = float(np.hypot(a, b))
    if size > _MAX_CAST:
        a, b = a * _MAX_CAST / size, b * _MAX_CAST / size
    spread = float(np.median(np.hypot(lab[near, 1] - a, lab[near, 2] - b)))
    return Balance(a, b, spread)


def color_votes(image_bgr: np.ndarray, max_side: int = 64, *, balance: Balance | None = None) -> Counter[str]:
    """Pixel counts per colour name over a body crop (downscaled to ``max_side`` for speed).

    ``balance``: the camera's colour cast (:func:`estimate_balance`, of a larger view of the
    scene when the caller has one); by default it is estimated from the crop itself.
    """
    if image_bgr.size == 0:
        return Counter()
    image_bgr = _small(image_bgr, max_side)
    if balance is None:
        balance = estimate_balance(image_bgr)
    lab = _lab(image_bgr)
    lab[:, 1] -= balance.a
    lab[:, 2] -= balance.b
    light_l, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    chroma_v = np.hypot(a, b)
    dark = light_l < _DARK_L
    chroma = ~dark & (chroma_v >= _CHROMA)
    grey = ~dark & ~chroma
    light = grey & (light_l >= _LIGHT_L)
    white_tint = float(np.clip(_WHITE_SPREAD * balance.spread, _WHITE_TINT, _MAX_WHITE_TINT))
    white = light & (light_l >= _WHITE_L) & (chroma_v < white_tint)
    votes: Counter[str] = Counter()
    votes["black"] = int(dark.sum())
    votes["white"] = int(white.sum())
    votes[_SILVER] = int((light & ~white).sum())
    votes["silver/grey"] = int((grey & ~light).sum())
    if chroma.any():
        names, val = _hue_names(lab[chroma])
        names[(names == "orange") & (val < 150)] = "brown"  # dark orange/yellow is brown
        votes.update(Counter(names.tolist()))
    return votes


def _hue_names(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hue names and HSV value of cast-corrected Lab pixels."""
    raw = np.empty((len(lab), 1, 3), np.float32)
    raw[:, 0, 0] = lab[:, 0] * 255.0 / 100.0
    raw[:, 0, 1:] = lab[:, 1:] + 128.0
    bgr = cv2.cvtColor(np.clip(raw, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.int32)
    return _hue_name(hsv[:, 0]), hsv[:, 2]


def box_votes(image_bgr: np.ndarray, box: Box, cls: str) -> Counter[str]:
    """Votes over the body of ``box``, white-balanced on all of ``image_bgr``.

    ``image_bgr`` is the object with its surroundings (a track sample: the box and a margin, or a
    whole frame): road and background say what cast the camera adds, which the object's own
    pixels cannot when it fills its box (a pale teal car, a cream scooter).
    """
    region = crop(image_bgr, body_region(box, cls))
    if region.size == 0:
        return Counter()
    return color_votes(region, balance=estimate_balance(image_bgr))


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
        # A clear paint colour wins even on a small part (a motorbike's panels among chrome and
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
        votes = box_votes(image, box, cls)
        n = sum(votes.values())
        if n:  # each sample weighs the same whatever its size
            total.update({k: v / n for k, v in votes.items()})
    return decide(total)
