"""Colour of the labelled vehicle boxes of the vn stills, computed as camfind's pipeline does.

Each labelled vehicle (a box, a class among car/motorcycle/bus/truck/bicycle, a colour the rules
of vn_scoring.colour_accepts can score, no ``count`` group) is cut from the image in its display
orientation (EXIF applied: the boxes of the phone photos refer to it) and named by
``camfind.analysis.color.track_color`` (body region of the box, pixel votes, decision), the same
functions the analysis runs on each track's crops.
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


def box_colours(realdata: Path, images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from camfind.analysis.color import track_color

    rows = []
    cache: dict[str, np.ndarray] = {}
    for item, obj in labelled_boxes(images):
        if item["file"] not in cache:
            cache.clear()
            cache[item["file"]] = load_oriented(realdata / "vn" / item["file"])
        image = cache[item["file"]]
        box = tuple(float(v) for v in obj["approx_bbox"])
        got = track_color([(image, box, obj["class"])])  # type: ignore[list-item]
        rows.append({"object": f"{item['id']}-{obj.get('n', obj.get('id'))}", "class": obj["class"],
                     "label": obj.get("colour"), "got": got, "ok": bool(sc.colour_ok(obj.get("colour"), got))})
    return rows
