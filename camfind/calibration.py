"""Ground-plane calibration: from image pixels to metres on the ground, for true bearings and speeds.

An investigator marks four or more points visible in the camera's picture whose map position is
known (``--point X,Y=LAT,LON``). A homography maps pixels to a local east/north plane in metres
whose origin is the centroid of the marked points; :class:`GroundModel` applies it.

>>> pts = [((0, 0), (10.7700, 106.7000)), ((100, 0), (10.7700, 106.7010)),
...        ((100, 100), (10.7690, 106.7010)), ((0, 100), (10.7690, 106.7000))]
>>> model = fit_ground_model("CAM01", pts)
>>> round(model.bearing_deg((50, 80), (50, 20)))   # up the picture is north here
0
>>> round(model.distance_m((0, 50), (100, 50)))
109
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from camfind.errors import InputError
from camfind.geo import EARTH_RADIUS_M
from camfind.types import Calibration

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

PointPair = tuple[tuple[float, float], tuple[float, float]]
_NUM = r"[-+]?\d+(?:\.\d+)?"
_POINT = re.compile(rf"^\s*({_NUM})\s*,\s*({_NUM})\s*=\s*({_NUM})\s*,\s*({_NUM})\s*$")


def parse_point(text: str) -> PointPair:
    """``"X,Y=LAT,LON"`` as ``((x, y), (lat, lon))``; InputError when malformed.

    >>> parse_point("640,360=10.7701,106.7003")
    ((640.0, 360.0), (10.7701, 106.7003))
    """
    m = _POINT.match(text)
    if m is None:
        raise InputError(f"malformed --point {text!r}: expected X,Y=LAT,LON (pixels = degrees)")
    x, y, lat, lon = (float(g) for g in m.groups())
    if x < 0 or y < 0:
        raise InputError(f"--point {text!r}: pixel coordinates must not be negative")
    if not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise InputError(f"--point {text!r}: expected lat in [-90,90] and lon in [-180,180]")
    return (x, y), (lat, lon)


def _to_plane(lat: float, lon: float, lat0: float, lon0: float) -> tuple[float, float]:
    """(east, north) metres of (lat, lon) from (lat0, lon0): equirectangular, fine over a street."""
    k = math.pi / 180.0 * EARTH_RADIUS_M
    return (lon - lon0) * k * math.cos(math.radians(lat0)), (lat - lat0) * k


def _from_plane(east: float, north: float, lat0: float, lon0: float) -> tuple[float, float]:
    k = math.pi / 180.0 * EARTH_RADIUS_M
    return lat0 + north / k, lon0 + east / (k * math.cos(math.radians(lat0)))


@dataclass(frozen=True)
class GroundModel:
    """Pixels of one camera to metres on the ground (east, north) around ``origin`` (lat, lon)."""

    camera_id: str
    homography: np.ndarray
    origin: tuple[float, float]
    reprojection_error_m: float
    sign: float = 1.0

    def to_world(self, x: float, y: float) -> tuple[float, float]:
        """Ground position (east_m, north_m) of pixel (x, y).

        Raises:
            ValueError: the pixel lies on or above the horizon of the calibrated ground plane.
        """
        h = self.homography
        w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
        if w * self.sign <= 1e-12:
            raise ValueError(f"pixel ({x:g}, {y:g}) is above the ground plane's horizon")
        east = (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w
        north = (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w
        return float(east), float(north)

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        """Map position (lat, lon) of pixel (x, y)."""
        east, north = self.to_world(x, y)
        return _from_plane(east, north, *self.origin)

    def distance_m(self, p1: tuple[float, float], p2: tuple[float, float]) -> float:
        """Ground distance in metres between two pixels."""
        e1, n1 = self.to_world(*p1)
        e2, n2 = self.to_world(*p2)
        return math.hypot(e2 - e1, n2 - n1)

    def bearing_deg(self, p1: tuple[float, float], p2: tuple[float, float]) -> float:
        """Compass bearing of a movement from pixel ``p1`` to pixel ``p2`` (0 = north, 90 = east)."""
        e1, n1 = self.to_world(*p1)
        e2, n2 = self.to_world(*p2)
        return math.degrees(math.atan2(e2 - e1, n2 - n1)) % 360.0

    def speed_kmh(self, p1: tuple[float, float], p2: tuple[float, float], seconds: float) -> float:
        """Ground speed of a movement from ``p1`` to ``p2`` taking ``seconds``."""
        if seconds <= 0:
            raise ValueError(f"expected a positive duration, got {seconds}")
        return self.distance_m(p1, p2) / seconds * 3.6


def fit_ground_model(camera_id: str, points: Sequence[PointPair]) -> GroundModel:
    """Fit the pixel -> ground homography to matched points (least squares over all of them).

    Raises:
        InputError: fewer than 4 points, repeated points, or points that fix no plane
            (three or more on one line).
    """
    if len(points) < 4:
        raise InputError(f"calibration needs 4 or more --point X,Y=LAT,LON, got {len(points)}")
    img = np.array([p[0] for p in points], dtype=np.float64)
    geo = np.array([p[1] for p in points], dtype=np.float64)
    if len({tuple(p) for p in img.tolist()}) < len(points) or len({tuple(g) for g in geo.tolist()}) < len(points):
        raise InputError("calibration points must be distinct (a pixel or a map position is repeated)")
    origin = (float(geo[:, 0].mean()), float(geo[:, 1].mean()))
    world = np.array([_to_plane(lat, lon, *origin) for lat, lon in geo], dtype=np.float64)
    hom, _ = cv2.findHomography(img, world, 0)
    if hom is None or not np.all(np.isfinite(hom)) or abs(np.linalg.det(hom)) < 1e-15:
        raise InputError("calibration points fix no ground plane: are three of them on one line?")
    ws = hom[2, 0] * img[:, 0] + hom[2, 1] * img[:, 1] + hom[2, 2]
    if not (np.all(ws > 0) or np.all(ws < 0)):
        raise InputError("calibration points are inconsistent: check each pixel matches its map position")
    model = GroundModel(camera_id, hom, origin, 0.0, sign=1.0 if ws[0] > 0 else -1.0)
    errors = [math.dist(model.to_world(*p), tuple(w)) for p, w in zip(img.tolist(), world, strict=True)]
    rms = math.sqrt(sum(e * e for e in errors) / len(errors))
    return GroundModel(camera_id, hom, origin, rms, model.sign)


def calibrate(index: Index, camera_id: str, points: Sequence[PointPair]) -> GroundModel:
    """Fit and store a camera's ground-plane calibration (replacing any earlier one)."""
    from camfind.index.queries import get_camera

    get_camera(index, camera_id)
    model = fit_ground_model(camera_id, points)
    cal = Calibration(
        camera_id=camera_id,
        image_points=tuple(p[0] for p in points),
        world_points=tuple(p[1] for p in points),
    )
    index.writer.set_calibration(cal, model.homography.tolist(), model.reprojection_error_m)
    logger.info("calibrated %s from %d points, rms %.2f m", camera_id, len(points), model.reprojection_error_m)
    return model


def load_ground_model(index: Index, camera_id: str) -> GroundModel | None:
    """The camera's ground model, or None if it was never calibrated.

    The stored homography is used as it was fitted; the origin is the centroid of the stored
    map points (as when fitting), so the model does not move if the camera's own position is
    later corrected in the registry.
    """
    from camfind.index.queries import get_calibration

    stored = get_calibration(index, camera_id)
    if stored is None:
        return None
    geo = np.array(stored.calibration.world_points, dtype=np.float64)
    origin = (float(geo[:, 0].mean()), float(geo[:, 1].mean()))
    hom = np.array(stored.homography, dtype=np.float64)
    img = np.array(stored.calibration.image_points, dtype=np.float64)
    w0 = hom[2, 0] * img[0, 0] + hom[2, 1] * img[0, 1] + hom[2, 2]
    return GroundModel(camera_id, hom, origin, float(stored.reprojection_error_m or 0.0), 1.0 if w0 > 0 else -1.0)
