"""The sample's subjects: how each looks on camera, and the probe photos of the people.

The probe photo of a person is NOT a frame of the clips: it is rendered from the whole source
portrait (its own studio background, a tighter crop around the head, turned a few degrees,
different scale, colour balance and gamma, JPEG), while the clips show the cut-out head and
shoulders on a street at another scale, with the camera's lighting, noise and H.264.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from camfind.sample import assets
from camfind.sample.assets import Sprite
from camfind.sample.plate import mount_plate
from camfind.sample.render import Look


@dataclass(frozen=True)
class Cast:
    """One subject of the story."""

    id: str
    kind: str
    description: str
    color: str | None = None
    plate: str | None = None
    probe_source: str | None = None


CAST: tuple[Cast, ...] = (
    Cast("V1", "vehicle", "red motorbike", color="red", plate="59-X3 472.18"),
    Cast("P1", "person", "woman in an orange flight suit carrying a helmet",
         probe_source="astronaut"),
    Cast("V2", "vehicle", "blue motorbike", color="blue", plate="59-P2 681.07"),
    Cast("P2", "person", "older woman in a dark uniform and cap", probe_source="hopper"),
)


def _with_shadow(sprite: Sprite, strength: float = 0.5) -> Sprite:
    """Lay a soft ground shadow under a vehicle (the cut-out grows downwards a little)."""
    w, h = sprite.size
    pad = max(8, h // 12)
    shadow = np.zeros((h + pad, w), np.float32)
    cv2.ellipse(shadow, (w // 2, h - pad // 4), (int(w * 0.45), pad // 2), 0, 0, 360, 1.0, -1)
    shadow = cv2.GaussianBlur(shadow, (0, 0), pad / 3) * strength
    bike_a = np.zeros_like(shadow)
    bike_a[:h] = sprite.alpha
    bike = np.zeros((h + pad, w, 3), np.float32)
    bike[:h] = sprite.image
    alpha = bike_a + shadow * (1.0 - bike_a)
    image = bike * (bike_a / np.maximum(alpha, 1e-6))[..., None]
    return Sprite(image.astype(np.uint8), alpha, sprite.anchors)


def _recolour(sprite: Sprite, hue: int) -> Sprite:
    """Repaint the saturated red bodywork with another OpenCV hue (0-179)."""
    hsv = cv2.cvtColor(sprite.image, cv2.COLOR_BGR2HSV)
    h, s = hsv[..., 0], hsv[..., 1]
    red = ((h < 10) | (h > 170)) & (s > 90)
    hsv[..., 0] = np.where(red, hue, h).astype(np.uint8)
    return Sprite(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR), sprite.alpha, sprite.anchors)


def _plated(bare: Sprite, plate: str) -> Sprite:
    box = bare.anchors["plate"]
    alpha = bare.alpha.copy()
    x1, y1, x2, y2 = box
    alpha[y1:y2, x1:x2] = 1.0
    return Sprite(mount_plate(bare.image, box, plate), alpha, bare.anchors)


def _vehicle_look(cast: Cast, scale: float, speed: float, bottom: str) -> Look:
    bare = assets.motorcycle()
    if cast.color == "blue":
        bare = _recolour(bare, 112)
    bare = bare.scaled(scale)
    plate = cast.plate or ""
    return Look(_with_shadow(_plated(bare, plate)), _with_shadow(_plated(bare.mirrored(), plate)),
                speed, bottom)


def looks() -> dict[str, Look]:
    """Each subject's appearance, keyed by subject id."""
    p1 = assets.astronaut()
    p2 = assets.hopper().scaled(0.55)
    return {
        "V1": _vehicle_look(CAST[0], 0.95, 560.0, "near"),
        "V2": _vehicle_look(CAST[2], 0.82, 520.0, "far"),
        "P1": Look(p1, p1, 330.0, "walk", bob_px=5.0),
        "P2": Look(p2, p2, 280.0, "walk", bob_px=4.0),
    }


# Probe framing per source photo: crop box in the photo, rotation (deg), output width,
# BGR gains and gamma.
_PROBES: dict[str, tuple[tuple[int, int, int, int], float, int, tuple[float, float, float], float]] = {
    "astronaut": ((120, 0, 340, 250), 7.0, 420, (0.92, 1.0, 1.08), 0.85),
    "hopper": ((110, 10, 420, 400), -6.0, 360, (1.06, 1.0, 0.94), 1.15),
}


def render_probe(source: str) -> np.ndarray:
    """A probe photo of a person, made from the whole source portrait (see module doc)."""
    box, angle, width, gains, gamma = _PROBES[source]
    photo = assets.source_photo(source)
    x1, y1, x2, y2 = box
    h, w = photo.shape[:2]
    turn = cv2.getRotationMatrix2D(((x1 + x2) / 2, (y1 + y2) / 2), angle, 1.0)
    turned = cv2.warpAffine(photo, turn, (w, h), borderMode=cv2.BORDER_REFLECT)
    crop = turned[y1:y2, x1:x2]
    size = (width, round(width * (y2 - y1) / (x2 - x1)))
    crop = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255.0
    graded = np.power(np.clip(crop * np.array(gains, np.float32), 0, 1), gamma)
    out: np.ndarray = (graded * 255).astype(np.uint8)
    return out


def write_probe(source: str, path: Path) -> Path:
    """Write the probe photo as JPEG (quality 88); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".jpg", render_probe(source), [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise RuntimeError(f"could not encode probe photo {path}")
    path.write_bytes(data.tobytes())
    return path
