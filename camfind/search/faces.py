"""Face search: every stored face ranked by its distance from a probe's encodings.

The 128-d encodings live in ``face_sightings.encoding`` (float32 blobs; NULL for a face kept
without one, too small or blurred to encode: those are never ranked). Reading 200k blobs row by
row costs about a second, so the whole set is kept as one float32 matrix, cached in the process and
in a side file next to the index (``<index>.faces.cache``, memory-mapped), keyed on the highest id
ever given (``face_sightings`` ids are AUTOINCREMENT, never reused) and on the count of deleted
faces (a trigger keeps it in ``meta``): any insert or delete changes the key. New rows appended
since the cache was built are read alone; a deletion rebuilds it.

>>> from camfind.index import Index
>>> idx = Index.open(":memory:", create=True)
>>> rank_faces(idx, [np.zeros(128, dtype=np.float32)])
[]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from camfind.errors import InputError, NoUsableFaceError
from camfind.index.postgres import is_url
from camfind.index.queries import face_cache_key, face_encodings
from camfind.outputs import atomic_output
from camfind.vocab import FACE_MATCH_THRESHOLD

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)

DIM = 128
_SMALL_SET = 20_000  # below this many candidate rows, read them directly instead of the cache

CacheKey = tuple[float, float, float]


@dataclass(frozen=True)
class FaceMatch:
    """One stored face and its distance from the nearest probe face."""

    face_id: int
    distance: float


@dataclass
class _Matrix:
    key: CacheKey
    ids: np.ndarray  # int64, ascending
    enc: np.ndarray  # float32 (n, 128)
    sq: np.ndarray  # float32 (n,), squared norms


_MEMO: dict[str, _Matrix] = {}


def probe_matrix(probes: Sequence[np.ndarray]) -> np.ndarray:
    """Stack probe encodings as a (k, 128) float32 matrix; InputError for a wrong shape."""
    if not probes:
        raise NoUsableFaceError("no face in the probe: give an image with a visible face")
    arr = np.stack([np.asarray(p, dtype=np.float32).reshape(-1) for p in probes])
    if arr.shape[1] != DIM:
        raise InputError(f"expected {DIM}-d face encodings, got {arr.shape[1]}-d")
    return arr


def rank_faces(
    index: Index,
    probes: Sequence[np.ndarray],
    *,
    threshold: float = FACE_MATCH_THRESHOLD,
    candidate_ids: np.ndarray | None = None,
    top: int | None = None,
) -> list[FaceMatch]:
    """Stored faces within ``threshold`` of any probe face, nearest first.

    Args:
        index: the case index.
        probes: 128-d encodings of the faces in the probe image(s).
        threshold: largest Euclidean distance that counts as a match.
        candidate_ids: only these ``face_sightings`` ids (e.g. already filtered by time/camera).
        top: keep the ``top`` nearest.
    """
    if threshold <= 0:
        raise InputError(f"face threshold must be above 0, got {threshold}")
    pm = probe_matrix(probes)
    if candidate_ids is not None and len(candidate_ids) <= _SMALL_SET:
        ids, enc = _read_rows(index, candidate_ids)
        sq = np.einsum("ij,ij->i", enc, enc)
    else:
        mat = face_matrix(index)
        ids, enc, sq = mat.ids, mat.enc, mat.sq
        if candidate_ids is not None:
            keep = np.isin(ids, candidate_ids, assume_unique=True)
            ids, enc, sq = ids[keep], enc[keep], sq[keep]
    if len(ids) == 0:
        return []
    dist = _min_distance(enc, sq, pm)
    hit = np.flatnonzero(dist <= threshold)
    order = hit[np.argsort(dist[hit], kind="stable")]
    if top is not None:
        order = order[:top]
    return [FaceMatch(int(ids[i]), float(dist[i])) for i in order]


def _min_distance(enc: np.ndarray, sq: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """Euclidean distance of every row to its nearest probe (|e|^2 - 2 e.p + |p|^2, then exact
    distances for the rows near the threshold would differ only by float32 rounding)."""
    best = np.full(len(enc), np.inf, dtype=np.float32)
    for p in probes:
        d2 = sq - 2.0 * (enc @ p) + float(p @ p)
        np.minimum(best, d2, out=best)
    return np.sqrt(np.maximum(best, 0.0))


def _read_rows(index: Index, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _to_arrays(face_encodings(index, ids=[int(i) for i in ids]))


def _to_arrays(rows: Sequence[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    enc = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), DIM)
    return ids, enc


# -- the cached matrix ------------------------------------------------------------------------
def cache_key(index: Index) -> CacheKey:
    """(when the index was created, faces deleted so far, highest id ever given): three O(1)
    reads that change on any insert or delete, and differ between two index files made at one
    path."""
    return face_cache_key(index)


def face_matrix(index: Index) -> _Matrix:
    """Every stored encoding as one matrix (cached in memory and beside the index)."""
    key = cache_key(index)
    where = index.path
    mat = _MEMO.get(where)
    if mat is None or mat.key != key:
        mat = _load_side_file(where, key) or _refresh(index, mat, key)
        _MEMO[where] = mat
    return mat


def _refresh(index: Index, old: _Matrix | None, key: CacheKey) -> _Matrix:
    old = old or _load_side_file(index.path, None)
    if old is not None and old.key[:2] == key[:2]:  # same index, nothing deleted: read new rows only
        last = int(old.ids[-1]) if len(old.ids) else 0
        ids, enc = _to_arrays(face_encodings(index, after_id=last))
        mat = _Matrix(
            key, np.concatenate([old.ids, ids]), np.concatenate([old.enc, enc]),
            np.concatenate([old.sq, np.einsum("ij,ij->i", enc, enc)]),
        )
        _save_side_file(index.path, mat)
        return mat
    logger.info("building the face matrix cache for %s", index.shown)
    ids, enc = _to_arrays(face_encodings(index))
    mat = _Matrix(key, ids, enc, np.einsum("ij,ij->i", enc, enc))
    _save_side_file(index.path, mat)
    return mat


def side_file(db_path: str) -> Path | None:
    """Where the face matrix cache of an index file lives (None for an in-memory index, and for a
    PostgreSQL case: each machine keeps its matrix in memory, checked against the server's key)."""
    return None if db_path == ":memory:" or is_url(db_path) else Path(db_path + ".faces.cache")


# The side file: MAGIC, an 8-byte little-endian header length, a JSON header (key, rows), then
# ids (int64), squared norms (float32) and encodings (float32, rows x 128), memory-mapped on load.
_MAGIC = b"CAMFIND-FACES-1\n"


def _load_side_file(db_path: str, key: CacheKey | None) -> _Matrix | None:
    path = side_file(db_path)
    if path is None or not path.exists():
        return None
    try:
        with path.open("rb") as f:
            if f.read(len(_MAGIC)) != _MAGIC:
                raise ValueError("not a camfind face cache")
            size = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(size))
        stored: CacheKey = tuple(float(v) for v in header["key"])  # type: ignore[assignment]
        if key is not None and stored != key:
            return None
        n, at = int(header["rows"]), len(_MAGIC) + 8 + size
        ids = np.memmap(path, dtype="<i8", mode="r", offset=at, shape=(n,)) if n else np.zeros(0, np.int64)
        sq = np.memmap(path, dtype="<f4", mode="r", offset=at + 8 * n, shape=(n,)) if n else np.zeros(0, np.float32)
        enc = (np.memmap(path, dtype="<f4", mode="r", offset=at + 12 * n, shape=(n, DIM)) if n
               else np.zeros((0, DIM), np.float32))
        return _Matrix(stored, ids, enc, sq)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("ignoring an unreadable face cache %s: %s", path, exc)
        return None


def _save_side_file(db_path: str, mat: _Matrix) -> None:
    path = side_file(db_path)
    if path is None:
        return
    header = json.dumps({"key": list(mat.key), "rows": len(mat.ids), "dim": DIM}).encode()
    header += b" " * (-(len(_MAGIC) + 8 + len(header)) % 64)  # arrays start 64-byte aligned (fast BLAS)
    try:
        with atomic_output(path, binary=True) as f:
            f.write(_MAGIC + len(header).to_bytes(8, "little") + header)
            for arr, dtype in ((mat.ids, "<i8"), (mat.sq, "<f4"), (mat.enc, "<f4")):
                f.write(np.ascontiguousarray(arr, dtype=dtype).tobytes())
    except (OSError, InputError) as exc:  # a read-only case folder: work without the side file
        logger.warning("could not write the face cache %s: %s", path, exc)
