"""The dominant colour of an object, as a word a witness would use.

Pixels of the object's body are put in bins in CIE Lab, after the camera's colour cast is taken
out:

* body only: the band of a car box below the glass (which mirrors the sky) and above the road;
  the panels of a motorcycle, below a rider's jacket and above the wheels (where a person looks
  to name its colour; seen from behind or in front, the middle strip of that band: a rider's legs
  and a passenger's clothes hang down either side of the bike); a parked motorcycle's upper body
  (no one on it: the bike fills its box, its cowl and side panels lie above the wheel); a person's
  torso;
* not the plate: the plate finder's boxes (``exclude``) and what looks like a plate in the box
  (:func:`plate_boxes`: a bright rectangle of plate proportions with writing on it; looked for on
  what carries a plate, not on people, whose shirts carry prints) are left out, so the white
  plate of a black bike seen from behind does not make it white;
* white balance (:class:`Balance`): the cast is the median tint of the near-neutral pixels (road,
  tyres, trim, white and grey paint; strongly coloured paint is not near-neutral and does not
  count) of the object with its surroundings (:func:`box_votes`), else of the body crop alone
  (:func:`color_votes`); it is taken out of every pixel, so a white car under a blue-tinted
  camera stays white and a red car stays red;
* white stays white: paint the camera shows bright and untinted is white even where the scene's
  greys are tinted (warm asphalt, an over-saturating camera) and the correction would tint it,
  and paint it blows out is white though a faint tint is left (at the sensor's limit the tint is
  compression noise, not paint);
* bins: dark pixels are ``black``; clearly tinted ones (Lab chroma) are named by hue, except
  faint blue, which is the sky mirrored in glossy paint and chrome; the rest are light (white,
  or tinted light paint: silver) or mid grey (``silver/grey``);
* black paint: in a band that leaves out the glass (cars, buses, trucks, two-wheelers), more
  than half of the achromatic pixels near black is black paint, its grey and light streaks
  reflections (no white or grey body is that dark over its band);
* a two-wheeler's paint: a hue that shows in the band (a tenth of it at least: the panels reach
  down the sides of the tail) and covers a good part of the upper body (a parked bike's rear
  cowl and side panels) names the bike though black plastic, chrome, the wheel and the plate
  fill the band; a colour above with no trace below (a rider's jacket) does not count.

The decision (:func:`decide`) lets a clear paint colour win on part of the body (a motorbike's
panels among chrome and tyres); otherwise light paint covering a good part of the body makes the
object white or silver/grey, and black wins over grey when dark pixels dominate. Votes of several
samples of a track add up (each sample weighing the same), so a colour is the track's, not one
frame's. The names are :data:`camfind.vocab.COLOR_NAMES`.

Example:
    >>> import numpy as np
    >>> patch = np.zeros((40, 40, 3), np.uint8); patch[:] = (0, 0, 200)  # BGR red
    >>> dominant_color(patch)
    'red'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from camfind.types import Box
from camfind.vocab import COLOR_NAMES

_HUES = frozenset(COLOR_NAMES[:8])  # the chromatic names
_PLATED = frozenset({"car", "bus", "truck", "motorcycle", "unknown"})  # what carries a plate (not a shirt's print)
_BANDED = frozenset({"car", "bus", "truck", "motorcycle", "bicycle"})  # body regions without glass
# OpenCV hue is 0..179. Upper bounds of each hue band.
_HUE_BANDS: tuple[tuple[int, str], ...] = (
    (7, "red"), (19, "orange"), (34, "yellow"), (85, "green"), (128, "blue"),
    (150, "purple"), (170, "pink"), (180, "red"),
)
# Pixel bins, CIE Lab units (L 0..100, chroma = distance from grey in a/b).
_DARK_L = 35.0  # below: black (tyres, shadow, black paint; black paint that mirrors the sky is ~30) ...
_DARK_CHROMA = 30.0  # ... unless tinted at least this much (dark red paint in shade) ...
_BLACK_L = 20.0  # ... and below this black whatever the tint (tyres, deep shadow: tint is noise)
_CHROMA = 25.0  # at or above (after the cast is out): a colour ...
_SKY_CHROMA = 32.0  # ... but blue only from here (fainter blue is the sky's reflection)
_LIGHT_L = 68.0  # at or above, untinted: light paint (white or silver)
_WHITE_L = 72.0  # ... and at or above this, with almost no tint: white
_WHITE_TINT = 5.0  # the most tint white paint shows ...
_BLOWN_L = 95.0  # ... except where the camera blows it out: at its limit the tint left is noise
_BLOWN_TINT = 12.0  # (compression smears the neighbours' colour into it), white up to this much
# White balance: near-neutral pixels give the cast; channel gains beyond _MAX_GAIN are not believed.
_NEUTRAL_CHROMA = 15.0
_MAX_GAIN = 1.35
_CLIPPED = 250
_BRIGHT_GREYS = 0.75  # the quantile of lightness above which near-neutral pixels give the cast
_MIN_CAST = 3.0  # a median tint of grey things below this is their own (warm asphalt), not a cast
_NEUTRAL_L = (25.0, 97.0)  # neither dark (noisy, tinted by the sensor) nor blown out (clipped to white)
_MIN_NEUTRAL = 0.1  # share of the reference's pixels that must be near-neutral
# Decision.
_CHROMA_SHARE = 0.30  # share of body pixels that must be coloured for a hue to win
_PAINT_SHARE = 0.15  # ... or this share, when one hue holds _ONE_HUE of the coloured pixels
_ONE_HUE = 0.6
_BLACK_SHARE = 0.5  # share of achromatic pixels near black that makes a black object whatever the rest
_LIGHT_SHARE = 0.25  # share of achromatic pixels that must be light for white or silver
_WHITE_SHARE = 0.55  # share of light pixels that must be white for white
# Plates (:func:`plate_like`): bright, near-neutral or yellow; dark writing this much darker.
_PLATE_L = 60.0
_PLATE_CHROMA = 20.0
_INK_CONTRAST = 25.0
_PLATE_INK = 0.12  # share of a plate's box that is writing
_PLATE_MIN_AREA = 0.01  # share of the crop ...
_PLATE_MAX_AREA = 0.6
_PLATE_MIN_PX = 6  # analysed pixels
_PLATE_FILL = 0.7  # share of its bounding box a plate's outline fills
_STRIP = 0.35  # margin either side of a two-wheeler's body strip seen from behind or in front (share of the width)
_PANEL_TRACE = 0.1  # share of the band a paint colour must hold to be looked for in the panels ...
_PANEL_SHARE = 0.25  # ... where it must cover this share
_SILVER = "_light_tinted"  # internal vote: light paint with a tint (silver), not a colour name
_ACHROMATIC = ("black", "white", "silver/grey", _SILVER)


def body_region(box: Box, cls: str) -> Box:
    """The part of a box whose colour names the object.

    People: the torso. Motorcycles and bicycles: the bike's panels, below a rider's clothes and
    above the wheels (the lower middle of a box seen from behind or in front, the middle of a
    side view). Cars, buses, trucks: the band below the windows (glass mirrors the sky) and above
    the road. Objects of no known class (motion): the middle of the box.
    """
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    if cls == "person" and h < 1.6 * w:  # head and shoulders only (close-up, cut by the frame)
        return (x1 + 0.2 * w, y1 + 0.7 * h, x2 - 0.2 * w, y2)
    if cls == "person":
        return (x1 + 0.25 * w, y1 + 0.2 * h, x2 - 0.25 * w, y1 + 0.55 * h)
    if cls in ("motorcycle", "bicycle") and h >= 1.5 * w:
        # seen from behind or in front: a rider sits above, their legs (a passenger's clothes)
        # either side of the bike: its body is the middle strip
        return (x1 + _STRIP * w, y1 + 0.5 * h, x2 - _STRIP * w, y1 + 0.75 * h)
    if cls in ("motorcycle", "bicycle"):  # side view: tank and panels between the seat and the wheels
        return (x1 + 0.2 * w, y1 + 0.25 * h, x2 - 0.2 * w, y1 + 0.65 * h)
    if cls == "unknown":  # a moving blob of no known class (a car from straight above): its middle
        return (x1 + 0.15 * w, y1 + 0.15 * h, x2 - 0.15 * w, y2 - 0.15 * h)
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
    """A camera's colour cast, as the BGR channel gains that undo it.

    ``gains`` is None when the picture had too few near-neutral pixels to tell, ``(1, 1, 1)``
    when its greys are grey.
    """

    gains: tuple[float, float, float] | None = None

    def apply(self, pixels_bgr: np.ndarray) -> np.ndarray:
        """Pixels (any shape ending in 3 channels) with the cast taken out, as uint8."""
        if self.gains is None or self.gains == (1.0, 1.0, 1.0):
            return pixels_bgr.astype(np.uint8, copy=False)
        out = pixels_bgr.astype(np.float32) * np.asarray(self.gains, np.float32)
        return np.clip(out, 0, 255).astype(np.uint8)


def estimate_balance(image_bgr: np.ndarray, max_side: int = 96) -> Balance:
    """The colour cast of an image from its near-neutral pixels (see :func:`balance_of`)."""
    if image_bgr.size == 0:
        return Balance()
    return balance_of(_small(image_bgr, max_side).reshape(-1, 3))


def balance_of(pixels_bgr: np.ndarray) -> Balance:
    """The colour cast of BGR pixel rows (uint8, shape (N, 3)) from the near-neutral ones.

    Road, tyres, windows, white and grey paint should be grey: the per-channel median of the
    pixels that are nearly grey (and neither black nor blown out) says what the camera added,
    and gains that make it grey undo it (von Kries). No cast when too few pixels are
    near-neutral; each gain is kept within ``1 / _MAX_GAIN .. _MAX_GAIN``.
    """
    if len(pixels_bgr) == 0:
        return Balance()
    lab = _lab(pixels_bgr.reshape(-1, 1, 3))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    clipped = pixels_bgr.reshape(-1, 3).max(axis=1) >= _CLIPPED  # a channel at the sensor's limit lies
    near = (chroma < _NEUTRAL_CHROMA) & (lab[:, 0] > _NEUTRAL_L[0]) & (lab[:, 0] < _NEUTRAL_L[1]) & ~clipped
    if near.sum() < max(4, _MIN_NEUTRAL * len(lab)):
        return Balance()
    # The brightest of them (white paint, highlights, sky) show the light best; darker greys
    # carry their own tint (warm asphalt, sunlit kerbs) and sensor noise.
    near &= lab[:, 0] >= np.quantile(lab[near, 0], _BRIGHT_GREYS)
    grey = pixels_bgr.reshape(-1, 3)[near].astype(np.float32)
    if float(np.hypot(np.median(lab[near, 1]), np.median(lab[near, 2]))) < _MIN_CAST:
        return Balance((1.0, 1.0, 1.0))  # grey things are grey: no cast
    median = np.maximum(np.median(grey, axis=0), 1.0)
    gains = np.clip(float(median.mean()) / median, 1.0 / _MAX_GAIN, _MAX_GAIN)
    return Balance((float(gains[0]), float(gains[1]), float(gains[2])))


def color_votes(image_bgr: np.ndarray, max_side: int = 64, *, balance: Balance | None = None,
                exclude: Sequence[Box] = (), plates: Sequence[Box] | None = None) -> Counter[str]:
    """Pixel counts per colour name over a body crop (downscaled to ``max_side`` for speed).

    ``balance``: the camera's colour cast (:func:`estimate_balance`, of a larger view of the
    scene when the caller has one, see :func:`box_votes`); by default it is estimated from the
    crop itself. ``exclude``: boxes in the crop's pixels that are not paint (the plate finder's
    plates); ``plates``: the plate-like areas of the crop (:func:`plate_boxes`, found in the crop
    when not given), left out as well.
    """
    if image_bgr.size == 0:
        return Counter()
    full_w = image_bgr.shape[1]
    if plates is None:
        plates = plate_boxes(image_bgr)
    image_bgr = _small(image_bgr, max_side)
    keep = np.ones(image_bgr.shape[:2], bool)
    k = image_bgr.shape[1] / full_w
    for x1, y1, x2, y2 in [*exclude, *plates]:
        keep[max(0, int(y1 * k)):max(0, int(np.ceil(y2 * k))), max(0, int(x1 * k)):max(0, int(np.ceil(x2 * k)))] = False
    if not keep.any():
        return Counter()
    if balance is None:
        balance = estimate_balance(image_bgr)
    names = pixel_names(image_bgr, balance)
    return Counter(names[keep].tolist())


def pixel_names(image_bgr: np.ndarray, balance: Balance) -> np.ndarray:
    """The bin of every pixel (an (H, W) array of colour names and ``_SILVER``), cast taken out."""
    h, w = image_bgr.shape[:2]
    fixed = balance.apply(image_bgr)
    lab = _lab(fixed)
    light_l, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    chroma_v = np.hypot(a, b)
    # Paint the camera shows untinted is white whatever the estimate of the cast says.
    raw = lab if balance.gains is None or balance.gains == (1.0, 1.0, 1.0) else _lab(image_bgr)
    tint = np.minimum(chroma_v, np.hypot(raw[:, 1], raw[:, 2]))
    # Dark pixels are black unless strongly tinted (a red tank in shade is red); very dark is black.
    dark = (light_l < _BLACK_L) | ((light_l < _DARK_L) & (chroma_v < _DARK_CHROMA))
    hsv = cv2.cvtColor(fixed, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.int32)
    hues = _hue_name(hsv[:, 0])
    hues[(hues == "orange") & (hsv[:, 2] < 150)] = "brown"  # dark orange/yellow is brown
    # Faint blue is the sky mirrored in glossy paint and chrome, not blue paint.
    sky = (hues == "blue") & (chroma_v < _SKY_CHROMA)
    chroma = ~dark & (chroma_v >= _CHROMA) & ~sky
    grey = ~dark & ~chroma
    light = grey & (light_l >= _LIGHT_L)
    white = light & (light_l >= _WHITE_L) & ((tint < _WHITE_TINT) | ((light_l >= _BLOWN_L) & (tint < _BLOWN_TINT)))
    names = np.full(h * w, "silver/grey", dtype=object)
    names[dark] = "black"
    names[light] = _SILVER
    names[white] = "white"
    names[chroma] = hues[chroma]
    return names.reshape(h, w)


def plate_boxes(image_bgr: np.ndarray, max_side: int = 240) -> list[Box]:
    """Boxes (in ``image_bgr``'s pixels) of the areas of a vehicle crop that look like a number
    plate rather than paint.

    A plate is a bright rectangle (white, or the yellow of commercial plates) with dark writing
    on it: the bright pixels, their text holes closed, form a compact blob of plate proportions
    (width 0.8 to 6 heights: two-row motorbike plates to one-row car plates; at least
    ``_PLATE_MIN_PX`` analysed pixels high, else no writing can be told) that lies on the object
    rather than across it, whose bounding box is mostly bright with a fair share of dark strokes
    (``_PLATE_INK``). White paint has no writing on it; a white plate on a black bike would
    otherwise make the bike white.
    """
    if image_bgr.size == 0:
        return []
    small = _small(image_bgr, max_side)
    h, w = small.shape[:2]
    k = image_bgr.shape[1] / w
    if h < 2 * _PLATE_MIN_PX or w < 2 * _PLATE_MIN_PX:
        return []
    lab = _lab(small).reshape(h, w, 3)
    light_l, chroma = lab[:, :, 0], np.hypot(lab[:, :, 1], lab[:, :, 2])
    yellow = (lab[:, :, 2] > 25) & (np.abs(lab[:, :, 1]) < 20)
    bright = (light_l >= _PLATE_L) & ((chroma < _PLATE_CHROMA) | yellow)
    if not bright.any():
        return []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bright.astype(np.uint8), connectivity=8)
    xs, ys, ws, hs = (stats[:, j].astype(np.int64) for j in range(4))
    rect = ws * hs
    candidates = np.flatnonzero(
        (rect >= _PLATE_MIN_AREA * h * w) & (rect <= _PLATE_MAX_AREA * h * w) & (np.minimum(ws, hs) >= _PLATE_MIN_PX)
        & (ws >= hs) & (ws <= 6 * hs)
        # a plate lies on the object; a bright area running across it is paint
        & ~((xs == 0) & (xs + ws == w)) & ~((ys == 0) & (ys + hs == h)))
    out: list[Box] = []
    for i in candidates[candidates > 0]:
        x, y, bw, bh = int(xs[i]), int(ys[i]), int(ws[i]), int(hs[i])
        inside = slice(y, y + bh), slice(x, x + bw)
        blob = (labels[inside] == i).astype(np.uint8)
        contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        filled = np.zeros_like(blob)
        cv2.drawContours(filled, [cv2.convexHull(np.vstack(contours))], -1, 1, thickness=-1)
        paper = float(np.median(light_l[inside][blob > 0]))
        writing = (filled > 0) & (light_l[inside] < paper - _INK_CONTRAST)  # strokes darker than the plate
        full = int(filled.sum())
        if full >= _PLATE_FILL * bw * bh and writing.sum() >= _PLATE_INK * full:
            out.append((x * k, y * k, (x + bw) * k, (y + bh) * k))
    return out


def box_votes(image_bgr: np.ndarray, box: Box, cls: str, max_side: int = 96, *,
              exclude: Sequence[Box] = (), ridden: bool = True) -> Counter[str]:
    """Votes over the body of ``box``, white-balanced on what lies around it in ``image_bgr``.

    ``image_bgr`` is the object with its surroundings (a track sample: the box and a margin, or a
    whole frame): road and background say what cast the camera adds, which the object's own
    pixels cannot when it fills its box (a pale teal car, a cream scooter). With nothing
    near-neutral around the box, the whole image is the reference. Plates are looked for in the
    whole box (:func:`plate_boxes`: a close-up plate fills the body band, but lies inside the box)
    and left out with the boxes of ``exclude`` (``image_bgr``'s pixels: the plate finder's plates).
    ``ridden``: whether someone may sit on a two-wheeler (the default); a parked one (False) is
    named by its panels (:func:`panel_region`), where a rider's clothes would otherwise be.
    """
    parked = cls in ("motorcycle", "bicycle") and not ridden
    region = panel_region(box) if parked else body_region(box, cls)
    if crop(image_bgr, region).size == 0:
        return Counter()
    bx, by = max(0, int(box[0])), max(0, int(box[1]))
    found = [(x1 + bx, y1 + by, x2 + bx, y2 + by)
             for x1, y1, x2, y2 in (plate_boxes(crop(image_bgr, box)) if cls in _PLATED else [])]
    small = _small(image_bgr, max_side)
    k = small.shape[1] / image_bgr.shape[1]
    h, w = small.shape[:2]
    outside = np.ones((h, w), bool)
    outside[max(0, int(box[1] * k)):max(0, int(np.ceil(box[3] * k))),
            max(0, int(box[0] * k)):max(0, int(np.ceil(box[2] * k)))] = False
    pixels = small.reshape(-1, 3)
    balance = balance_of(pixels[outside.reshape(-1)])
    if balance.gains is None:  # nothing near-neutral around the box
        balance = balance_of(pixels)
    votes = _region_votes(image_bgr, region, balance, [*exclude, *found])
    achromatic = sum(votes.get(k, 0) for k in _ACHROMATIC)
    if cls in _BANDED and votes.get("black", 0) > _BLACK_SHARE * achromatic:
        # Black paint mirrors the sky and the street (grey and light streaks over much of it), but
        # no light or grey body is near black over more than half of a band that leaves out the
        # glass: the greys are reflections on black paint.
        votes = Counter({k: v for k, v in votes.items() if k not in _ACHROMATIC}) + Counter({"black": achromatic})
    if parked:
        return votes
    if cls in ("motorcycle", "bicycle"):
        panels = _region_votes(image_bgr, panel_region(box), balance, [*exclude, *found])
        painted = {hue: n for hue, n in panels.items() if hue in _HUES and n >= _PANEL_SHARE * sum(panels.values())}
        # The band holds black plastic, chrome, the wheel and the plate; paint that shows there
        # (the panels reach down the sides of the tail: the band's whole width) and covers a
        # good part of the panels above names the bike.
        wide = band_region(box, cls)
        band = votes if not painted or wide == region else _region_votes(image_bgr, wide, balance, [*exclude, *found])
        seen = sum(band.values())
        for hue, n in painted.items():
            if band.get(hue, 0) >= _PANEL_TRACE * seen:
                votes[hue] += n
    return votes


def band_region(box: Box, cls: str) -> Box:
    """A two-wheeler's band below a rider's clothes and above the wheels, over the box's width
    bar a fifth either side (:func:`body_region` keeps its middle strip in a view from behind or
    in front)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    if h >= 1.5 * w:
        return (x1 + 0.2 * w, y1 + 0.5 * h, x2 - 0.2 * w, y1 + 0.75 * h)
    return body_region(box, cls)


def _region_votes(image_bgr: np.ndarray, region: Box, balance: Balance, exclude: Sequence[Box]) -> Counter[str]:
    """Votes over ``region`` of ``image_bgr`` leaving out the boxes of ``exclude`` (both in its pixels)."""
    rx, ry = max(0, int(region[0])), max(0, int(region[1]))
    local = [(x1 - rx, y1 - ry, x2 - rx, y2 - ry) for x1, y1, x2, y2 in exclude]
    return color_votes(crop(image_bgr, region), balance=balance, exclude=local, plates=[])


def panel_region(box: Box) -> Box:
    """The upper body of a two-wheeler's box: a parked bike's rear cowl and side panels (a
    rider's clothes where one sits on it)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return (x1 + 0.2 * w, y1 + 0.15 * h, x2 - 0.2 * w, y1 + 0.55 * h)


def decide(votes: Counter[str]) -> str | None:
    """The colour name a set of pixel votes points to, or None for no pixels."""
    total = sum(votes.values())
    if total == 0:
        return None
    chroma = Counter({k: v for k, v in votes.items() if k not in _ACHROMATIC})
    if chroma:
        hue, n = chroma.most_common(1)[0]
        share = sum(chroma.values()) / total
        # A clear paint colour wins even on a small part (a motorbike's panels among chrome and
        # tyres) when one hue holds most coloured pixels; mixed hues need more of the body.
        if share >= _CHROMA_SHARE or (share >= _PAINT_SHARE and n >= _ONE_HUE * sum(chroma.values())):
            return hue
    grey_total = sum(votes.get(k, 0) for k in _ACHROMATIC)
    light = votes.get("white", 0) + votes.get(_SILVER, 0)
    # Windows, tyres and shadows are never white: a quarter of light paint makes a light object.
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
