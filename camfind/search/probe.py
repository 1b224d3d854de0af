"""Face probes: every face in a probe image, encoded by the recognition library's face engine.

The engine (dlib) is imported only here, when a probe is given, so search without a face never
loads it.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from camfind.errors import InputError, ModelError
from camfind.types import Face

logger = logging.getLogger(__name__)


class FaceEngineLike(Protocol):
    def faces(self, image_bgr: np.ndarray) -> list[Face]: ...


def encode_probe(path: str | Path) -> tuple[np.ndarray, ...]:
    """The 128-d encodings of every encoded face found in the image at ``path`` (faces too
    small or blurred to encode are left out).

    Raises:
        InputError: the file is missing, a folder or not a regular file, too large or not an
            image (checked by :func:`camfind.recognition.stills.load_image` before decoding).
        NoUsableFaceError: no face is found in it, or none is large and sharp enough
            to encode (the message says which).
    """
    from camfind.recognition.stills import load_image

    p = Path(path)
    try:
        image = load_image(p)
    except InputError as exc:
        raise InputError(f"probe image {exc}") from None
    from camfind.recognition.faces import usable_faces

    found = _engine().faces(image)
    faces = usable_faces(found, str(p))
    logger.info("probe %s: %d face(s), %d usable", p, len(found), len(faces))
    return tuple(np.asarray(f.encoding, dtype=np.float32) for f in faces if f.encoding is not None)


@lru_cache(maxsize=1)
def _engine() -> FaceEngineLike:
    """The face engine, loaded once per process (its models take seconds to load)."""
    try:
        from camfind.recognition.faces import load_face_engine
    except ImportError as exc:
        raise ModelError(f"face recognition is not available in this installation ({exc})") from None
    return load_face_engine()
