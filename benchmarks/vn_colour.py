"""Colour of the labelled vehicle boxes of the vn stills, computed as camfind's pipeline does.

Each labelled vehicle (a box, a class among car/motorcycle/bus/truck/bicycle, a colour the rules
of vn_scoring.colour_accepts can score, no ``count`` group) is cut from the image in its display
orientation (EXIF applied: the boxes of the phone photos refer to it) and named by
camfind's colour functions as the analysis runs them on a track's kept sample: the box with the
margin the track book keeps (``crop_with_margin``), pixel votes on the body region of the box
white-balanced on that sample (``box_votes``; a two-wheeler standing with no rider named in its
label is parked, as the analysis takes a standing bike no rider's box joined), then ``decide``.
``colour_mode="body"`` measures votes on the body crop alone (``color_votes``, no surroundings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import vn_scoring as sc
from PIL import Image, ImageOps


def load_oriented(path: Path) -> np.ndarray:
    """BGR pixels of an image turned as its EXIF orientation says."""
    with Image.open(path) as im:
        rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def labelled_boxes(images: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(item, object) of every scorable labelled vehicle box."""
    out = []
    for item in images:
        for obj in item.get("objects", []):
            if ("approx_bbox" in obj and obj.get("class") in sc.VEHICLES and "count" not in obj
                    and sc.colour_accepts(obj.get("colour")) is not None):
                out.append((item, obj))
    return out


def sample_colour(image: np.ndarray, box: tuple[float, float, float, float], cls: str, mode: str,
                  ridden: bool = True) -> str | None:
    """The colour the analysis gives one kept sample of a track with this box."""
    from camfind.analysis.color import body_region, box_votes, color_votes, crop, decide
    from camfind.analysis.trackbook import crop_with_margin

    sample, (ox, oy), scale = crop_with_margin(image, box)
    local = ((box[0] - ox) * scale, (box[1] - oy) * scale, (box[2] - ox) * scale, (box[3] - oy) * scale)
    if mode == "body":
        return decide(color_votes(crop(sample, body_region(local, cls))))
    return decide(box_votes(sample, local, cls, ridden=ridden))


def ridden(obj: dict[str, Any]) -> bool:
    """Whether a labelled two-wheeler carries someone: it moves, or its label names a rider."""
    return obj.get("direction") != "stationary" or "rider" in f"{obj.get('colour', '')} {obj.get('desc', '')}"


def box_colours(realdata: Path, images: list[dict[str, Any]], mode: str = "sample") -> list[dict[str, Any]]:

    rows = []
    cache: dict[str, np.ndarray] = {}
    for item, obj in labelled_boxes(images):
        if item["file"] not in cache:
            cache.clear()
            cache[item["file"]] = load_oriented(realdata / "vn" / item["file"])
        image = cache[item["file"]]
        x1, y1, x2, y2 = (float(v) for v in obj["approx_bbox"])
        got = sample_colour(image, (x1, y1, x2, y2), obj["class"], mode, ridden(obj))
        rows.append({"object": f"{item['id']}-{obj.get('n', obj.get('id'))}", "class": obj["class"],
                     "label": obj.get("colour"), "got": got, "ok": bool(sc.colour_ok(obj.get("colour"), got))})
    return rows
