"""Reading still images safely: the size is read from the header before anything is decoded, and
what is not a regular file is named as such. The same check serves `plates read`, `faces match`
and the face probe of `search`/`trace` (camfind.recognition.stills.load_image)."""

from __future__ import annotations

import os
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from camfind.errors import InputError
from camfind.recognition.plates import OcrPlateReader
from camfind.recognition.stills import MAX_IMAGE_PIXELS, load_image, read_plate_files
from camfind.search.probe import encode_probe


def header_only_png(path: Path, width: int, height: int) -> Path:
    """A PNG declaring ``width`` x ``height`` grey pixels whose data stops after the first row (a few
    hundred bytes on disk; decoding it whole would take width * height * 3 bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1))) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def _probe(path: Path) -> Any:
    return encode_probe(path)


LOADERS: list[Callable[[Path], Any]] = [load_image, _probe]


@pytest.mark.parametrize("load", LOADERS, ids=["load_image", "face probe"])
@pytest.mark.parametrize(("size", "shown"), [((8000, 7000), "8000x7000 px, 56 megapixels"),
                                            ((30000, 30000), "far over the 50 megapixels")])
def test_huge_images_are_refused_from_their_header(
    tmp_path: Path, load: Callable[[Path], Any], size: tuple[int, int], shown: str
) -> None:
    """A 30000x30000 PNG took 5-6 GB and 40-60 s to decode before being refused or read."""
    path = header_only_png(tmp_path / "huge.png", *size)
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"image too large") as caught:
        load(path)
    assert f"{path}: image too large" in str(caught.value) and shown in str(caught.value)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("load", LOADERS, ids=["load_image", "face probe"])
def test_folders_devices_and_pipes_are_named(tmp_path: Path, load: Callable[[Path], Any]) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # opening it would block until a writer came
    for path, why in [(tmp_path, "is a folder"), (Path("/dev/null"), "is not a regular file"),
                      (fifo, "is not a regular file"), (tmp_path / "gone.png", "no such file")]:
        with pytest.raises(InputError) as caught:
            load(path)
        assert f"{path}: {why}" in str(caught.value) and "does not exist" not in str(caught.value)


def test_big_jpeg_is_decoded_reduced_other_formats_refused(tmp_path: Path) -> None:
    image = np.zeros((300, 400, 3), np.uint8)
    image[:, 200:] = (0, 0, 255)
    jpeg, png = tmp_path / "photo.jpg", tmp_path / "photo.png"
    cv2.imwrite(str(jpeg), image)
    cv2.imwrite(str(png), image)
    assert load_image(jpeg).shape == (300, 400, 3)
    small = load_image(jpeg, max_pixels=40_000)  # 120 000 px: libjpeg decodes it at 1/2
    assert small.shape == (150, 200, 3) and small[75, 150, 2] > 200 and small[75, 50, 2] < 50
    assert load_image(jpeg, max_pixels=2_000).shape == (38, 50, 3)  # 1/8
    with pytest.raises(InputError, match=r"photo.jpg: image too large to read \(400x300 px"):
        load_image(jpeg, max_pixels=1_000)
    with pytest.raises(InputError, match=r"photo.png: image too large to read \(400x300 px"):
        load_image(png, max_pixels=40_000)
    assert MAX_IMAGE_PIXELS == 50_000_000


class _NoOcr:
    name = "none"

    def recognize(self, crops: object) -> list[object]:
        raise AssertionError("no image here should reach the OCR")


def test_plate_reading_errors_name_their_file(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.zeros((1, 1, 3), np.uint8))
    huge = header_only_png(tmp_path / "huge.png", 30000, 30000)
    results = list(read_plate_files([tiny, huge, tmp_path], reader=OcrPlateReader(_NoOcr())))  # type: ignore[arg-type]
    assert [r.error for r in results] == [
        f"{tiny}: image too small to hold a plate: 1x1 px",
        f"{huge}: image too large to read (far over the 50 megapixels read): scale it down first",
        f"{tmp_path}: is a folder, not an image file",
    ]


def test_not_an_image_after_ultralytics_patched_pillow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing ultralytics (the YOLO detector) patches Image.open to import the absent pi_heif on
    an unidentified file; a non-image must still be one named error, not a ModuleNotFoundError."""
    from PIL import Image

    original = Image.open

    def ultralytics_like_open(fp: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(fp, *args, **kwargs)
        except Image.UnidentifiedImageError:
            import pi_heif  # noqa: F401  (not installed: ModuleNotFoundError, as in ultralytics)

            raise

    monkeypatch.setattr(Image, "open", ultralytics_like_open)
    junk = tmp_path / "notes.jpg"
    junk.write_text("not an image\n", encoding="utf-8")
    with pytest.raises(InputError, match="not an image"):
        load_image(junk)
