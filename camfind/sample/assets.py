"""Source imagery for the sample network: cut-outs of photos shipped inside our dependencies.

Every picture comes from a file installed with a package camfind depends on; nothing is
downloaded. Licences are listed in ``samples/README.md``:

- the motorcycle: ``skimage/data/motorcycle_left.png`` (Middlebury 2014 stereo data set, shipped
  by scikit-image), cut out with the ground-truth disparity map shipped beside it
  (``motorcycle_disp.npz``): the motorcycle stands out from the floor plane and the shelves;
- person 1: ``skimage/data/astronaut.png`` (Eileen Collins, NASA, public domain), head and
  shoulders cut out along a hand-traced outline;
- person 2: ``matplotlib/mpl-data/sample_data/grace_hopper.jpg`` (Grace Hopper, US Navy photo,
  public domain), likewise;
- the plate font: matplotlib's ``DejaVuSans-Bold.ttf`` (Bitstream Vera / DejaVu licence).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np

from camfind.errors import CamfindError

logger = logging.getLogger(__name__)

Point = tuple[int, int]

# Hand-traced outlines (source pixel coordinates, clockwise from the top of the head).
_ASTRONAUT_OUTLINE: tuple[Point, ...] = (
    (155, 80), (157, 53), (172, 32), (200, 18), (233, 13), (267, 20), (290, 40), (301, 67),
    (301, 100), (293, 123), (277, 137), (266, 152), (264, 168), (276, 180), (290, 190),
    (297, 202), (301, 222), (304, 240), (313, 252), (326, 270), (338, 300), (352, 335),
    (395, 343), (440, 350), (475, 375),
    (500, 410), (510, 453), (512, 512), (20, 512), (23, 413), (30, 347), (40, 287), (67, 250),
    (100, 227), (117, 207), (120, 187), (133, 163), (157, 152), (180, 137), (163, 117),
)
_HOPPER_OUTLINE: tuple[Point, ...] = (
    (160, 90), (175, 55), (215, 35), (265, 25), (320, 35), (350, 55), (372, 95), (372, 130),
    (365, 165), (360, 230), (350, 290), (335, 320), (330, 332), (385, 350), (455, 385),
    (500, 420), (512, 470), (512, 600), (20, 600), (25, 470), (40, 410), (100, 370),
    (160, 345), (190, 330), (175, 290), (160, 240), (155, 170), (150, 130),
)


@dataclass(frozen=True)
class Sprite:
    """A cut-out: BGR pixels, an alpha matte in [0, 1] and named anchor boxes (x1, y1, x2, y2)."""

    image: np.ndarray
    alpha: np.ndarray
    anchors: dict[str, tuple[int, int, int, int]]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.image.shape[1], self.image.shape[0]

    def scaled(self, factor: float) -> Sprite:
        """The sprite resized by ``factor`` (area interpolation when shrinking)."""
        w, h = self.size
        new = (max(1, round(w * factor)), max(1, round(h * factor)))
        interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
        anchors = {k: tuple(round(v * factor) for v in box) for k, box in self.anchors.items()}
        return Sprite(
            cv2.resize(self.image, new, interpolation=interp),
            cv2.resize(self.alpha, new, interpolation=cv2.INTER_LINEAR),
            anchors,  # type: ignore[arg-type]
        )

    def mirrored(self) -> Sprite:
        """The sprite flipped left-right (anchor boxes follow)."""
        w = self.size[0]
        anchors = {k: (w - x2, y1, w - x1, y2) for k, (x1, y1, x2, y2) in self.anchors.items()}
        return Sprite(self.image[:, ::-1].copy(), self.alpha[:, ::-1].copy(), anchors)


def package_file(package: str, relative: str) -> Path:
    """Path of a data file installed inside ``package``; CamfindError when it is missing."""
    try:
        path = Path(str(files(package).joinpath(relative)))
    except ModuleNotFoundError as exc:
        raise CamfindError(f"sample imagery needs the package {package!r}: {exc}") from None
    if not path.is_file():
        raise CamfindError(f"sample imagery file missing from the installed {package}: {path}")
    return path


def _read_bgr(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise CamfindError(f"cannot decode sample image {path}")
    return image


def _crop_to_alpha(image: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, Point]:
    ys, xs = np.nonzero(alpha > 0.05)
    x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    return image[y1:y2, x1:x2].copy(), alpha[y1:y2, x1:x2].copy(), (int(x1), int(y1))


def _feather(mask: np.ndarray, px: float) -> np.ndarray:
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), px)
    return np.clip(soft, 0.0, 1.0)


@lru_cache(maxsize=1)
def motorcycle() -> Sprite:
    """The red motorcycle facing right, cut out with its stereo disparity map.

    Anchor ``plate``: where a rear plate is mounted (left end, under the tail light).
    """
    image = _read_bgr(package_file("skimage", "data/motorcycle_left.png"))
    with np.load(package_file("skimage", "data/motorcycle_disp.npz")) as npz:
        disp = npz[npz.files[0]].astype(np.float64)
    h, w = disp.shape
    finite = np.isfinite(disp)
    ys, xs = np.mgrid[0:h, 0:w]
    floor_sel = finite & (((ys > 310) & ((xs < 100) | (xs > 700))) | (ys > 470))
    design = np.c_[ys[floor_sel], xs[floor_sel], np.ones(int(floor_sel.sum()))]
    coef, *_ = np.linalg.lstsq(design, disp[floor_sel], rcond=None)
    floor = coef[0] * ys + coef[1] * xs + coef[2]
    mask = (finite & (disp > floor + 3) & (disp > 34)).astype(np.uint8)
    mask |= _tyres(image)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    if count < 2:
        raise CamfindError("could not cut the sample motorcycle out of its photo")
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = cv2.morphologyEx((labels == biggest).astype(np.uint8), cv2.MORPH_CLOSE,
                            np.ones((5, 5), np.uint8))
    img, alpha, (ox, oy) = _crop_to_alpha(image, _feather(mask, 1))
    plate_box = (92 - ox, 212 - oy, 192 - ox, 286 - oy)
    return Sprite(img, alpha, {"plate": plate_box})


# Wheels of the source photo: centre and semi-axes (x, y, ax, ay). Where a tyre touches the
# floor its disparity equals the floor's, so the lower tyre rims are added from their dark rubber.
_WHEELS: tuple[tuple[int, int, int, int], ...] = ((200, 318, 81, 83), (602, 373, 86, 80))


def _tyres(image: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    out = np.zeros(gray.shape, np.uint8)
    for cx, cy, ax, ay in _WHEELS:
        ring = np.zeros_like(out)
        cv2.ellipse(ring, (cx, cy), (ax, ay), 0, 40, 130, 1, -1)
        cv2.ellipse(ring, (cx, cy), (int(ax * 0.8), int(ay * 0.8)), 0, 0, 180, 0, -1)
        out |= ring & (gray < 65).astype(np.uint8)
    return cv2.morphologyEx(out, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))


def _outline_sprite(image: np.ndarray, outline: tuple[Point, ...]) -> tuple[np.ndarray, np.ndarray]:
    filled = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(filled, [np.array(outline, np.int32)], 1)
    return image, _feather(cv2.erode(filled, np.ones((5, 5), np.uint8)), 1.5)


@lru_cache(maxsize=1)
def astronaut() -> Sprite:
    """Eileen Collins (NASA portrait), head and shoulders; anchor ``face``."""
    img, alpha = _outline_sprite(_read_bgr(package_file("skimage", "data/astronaut.png")),
                                 _ASTRONAUT_OUTLINE)
    img, alpha, (ox, oy) = _crop_to_alpha(img, alpha)
    return Sprite(img, alpha, {"face": (170 - ox, 60 - oy, 280 - ox, 170 - oy)})


@lru_cache(maxsize=1)
def hopper() -> Sprite:
    """Grace Hopper (US Navy portrait), head and shoulders; anchor ``face``."""
    src = _read_bgr(package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"))
    img, alpha = _outline_sprite(src, _HOPPER_OUTLINE)
    img, alpha, (ox, oy) = _crop_to_alpha(img, alpha)
    return Sprite(img, alpha, {"face": (165 - ox, 130 - oy, 365 - ox, 330 - oy)})


def source_photo(name: str) -> np.ndarray:
    """The whole source photo of a person sprite (``astronaut`` or ``hopper``), BGR."""
    if name == "astronaut":
        return _read_bgr(package_file("skimage", "data/astronaut.png"))
    if name == "hopper":
        return _read_bgr(package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"))
    raise ValueError(f"expected 'astronaut' or 'hopper', got {name!r}")


def bold_font() -> Path:
    """matplotlib's DejaVu Sans Bold, used to letter the plates and shop signs."""
    return package_file("matplotlib", "mpl-data/fonts/ttf/DejaVuSans-Bold.ttf")
