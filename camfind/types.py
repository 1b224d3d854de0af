"""The shared row types: one frozen dataclass per kind of row, taken and returned by every stage.

Times are timezone-aware ``datetime`` in UTC unless a field says otherwise. Boxes are pixel
coordinates ``(x1, y1, x2, y2)`` in the frame they were found in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from camfind.vocab import normalize_plate

Box = tuple[float, float, float, float]
OWNER_TYPES: tuple[str, ...] = ("public", "resident", "business")
#: Object classes camfind keeps. ``unknown`` is a moving object the detector missed.
CLASSES: tuple[str, ...] = ("person", "bicycle", "car", "motorcycle", "bus", "truck", "unknown")
VEHICLE_CLASSES: frozenset[str] = frozenset({"bicycle", "car", "motorcycle", "bus", "truck"})


def _check_box(box: Box) -> None:
    if len(box) != 4 or box[2] < box[0] or box[3] < box[1]:
        raise ValueError(f"expected a box (x1, y1, x2, y2) with x2>=x1, y2>=y1, got {box!r}")


def _check_utc(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime for {name}, got naive {value!r}")


@dataclass(frozen=True)
class Camera:
    """A camera of the network. ``clock_offset_s`` is DVR clock minus true time."""

    id: str
    lat: float
    lon: float
    name: str = ""
    owner_type: str = "resident"
    owner_name: str = ""
    owner_contact: str = ""
    address: str = ""
    heading_deg: float | None = None
    fov_deg: float | None = None
    clock_offset_s: float = 0.0
    neighbors: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("expected a non-empty camera id")
        if not -90.0 <= self.lat <= 90.0 or not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"expected lat in [-90,90] and lon in [-180,180], got {self.lat},{self.lon}")
        if self.owner_type not in OWNER_TYPES:
            raise ValueError(f"expected owner_type one of {OWNER_TYPES}, got {self.owner_type!r}")


@dataclass(frozen=True)
class Calibration:
    """Ground-plane calibration: image points (x, y) matched to (lat, lon)."""

    camera_id: str
    image_points: tuple[tuple[float, float], ...]
    world_points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if len(self.image_points) < 4 or len(self.image_points) != len(self.world_points):
            raise ValueError(
                f"expected 4 or more matched points, got {len(self.image_points)} image "
                f"and {len(self.world_points)} world points"
            )


@dataclass(frozen=True)
class Probe:
    """What probing a media file tells about it (no times corrected yet)."""

    duration_s: float
    fps: float
    frames: int
    width: int
    height: int
    codec: str
    container: str
    creation_time: datetime | None = None
    #: What does not add up (declared and decoded lengths, a damaged header, an assumed rate).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Clip:
    """A registered clip. ``start`` is corrected (true) UTC; ``start_raw`` is the DVR's time.

    ``flags`` are integrity warnings found when it was registered (declared and decoded lengths
    that disagree, a damaged header, a frame rate assumed): its times deserve a second look.
    """

    camera_id: str
    path: str
    sha256: str
    size_bytes: int
    start: datetime
    start_raw: datetime
    time_source: str
    clock_offset_s: float
    duration_s: float
    fps: float
    frames: int
    width: int
    height: int
    codec: str
    container: str
    creation_time: datetime | None = None
    status: str = "registered"
    id: int | None = None
    #: Integrity warnings found at registration (the probe's): the clip is kept, flagged.
    flags: tuple[str, ...] = ()
    #: Where in its file the clip lies (seconds): a segment of a recording that switches cameras;
    #: ``segment_end_s`` None is the whole file. ``duration_s`` is the segment's length.
    segment_start_s: float = 0.0
    segment_end_s: float | None = None

    def __post_init__(self) -> None:
        _check_utc("start", self.start)
        _check_utc("start_raw", self.start_raw)
        if len(self.sha256) != 64:
            raise ValueError(f"expected a 64-hex sha256, got {self.sha256!r}")
        if self.segment_end_s is not None and not 0 <= self.segment_start_s < self.segment_end_s:
            raise ValueError(f"expected a segment 0 <= start < end, got {self.segment_start_s}-{self.segment_end_s}")

    @property
    def segment(self) -> str:
        """The segment's key within its file: '' for a whole file, else ``start-end`` seconds."""
        if self.segment_end_s is None:
            return ""
        return segment_key(self.segment_start_s, self.segment_end_s)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)

    @property
    def end_raw(self) -> datetime:
        return self.start_raw + timedelta(seconds=self.duration_s)

    def time_at(self, offset_s: float) -> datetime:
        """Corrected UTC time of a moment ``offset_s`` seconds into the clip."""
        return self.start + timedelta(seconds=offset_s)


def segment_key(start_s: float, end_s: float) -> str:
    """The key of a file's segment ``[start_s, end_s)``: ``'12.000-95.500'``."""
    return f"{start_s:.3f}-{end_s:.3f}"


@dataclass(frozen=True)
class ClipCopy:
    """A byte-identical copy of a registered clip found at another path: the same evidence.

    ``camera_id`` and ``name_time`` are what the copy's own camera rule and file name said (None
    when none applied); ``conflict`` says how they disagree with the registration ('' if not).
    """

    clip_id: int
    path: str
    camera_id: str | None = None
    name_time: datetime | None = None
    conflict: str = ""

    def __post_init__(self) -> None:
        _check_utc("name_time", self.name_time)


@dataclass(frozen=True)
class Detection:
    """One object found in one frame (before tracking) or one box of a track."""

    frame: int
    offset_s: float
    box: Box
    cls: str
    score: float
    track_no: int | None = None
    riders: int = 0  # people riding it whose boxes were joined into its box (a two-wheeler)

    def __post_init__(self) -> None:
        _check_box(self.box)
        if self.cls not in CLASSES:
            raise ValueError(f"expected a class in {CLASSES}, got {self.cls!r}")


@dataclass(frozen=True)
class PlateText:
    """A plate read from one image region (the recognition library's output)."""

    text: str
    confidence: float
    layout: str = "unknown"
    valid: bool = False
    box: Box | None = None
    raw: str = ""

    @property
    def norm(self) -> str:
        """The plate's normal form (:func:`camfind.vocab.normalize_plate`): what is stored and matched."""
        return normalize_plate(self.text)


@dataclass(frozen=True)
class Face:
    """A face found in one image: its box, quality and 128-d encoding.

    ``encoding`` is None for a face that was found but cannot be told apart from others: too
    small, too blurred or blurred for the encoder. It is kept (box, quality, snapshot) as a sighting,
    never matched; ``unencoded`` says why (``small``, ``blurred``).
    """

    box: Box
    encoding: np.ndarray | None
    quality: float = 1.0
    unencoded: str = ""

    def __post_init__(self) -> None:
        _check_box(self.box)
        if self.encoding is not None and self.encoding.shape != (128,):
            raise ValueError(f"expected a 128-d encoding, got shape {self.encoding.shape}")
        if self.encoding is not None and self.unencoded:
            raise ValueError(f"a face with an encoding has no unencoded reason, got {self.unencoded!r}")

    @property
    def encoded(self) -> bool:
        """Whether the face carries an encoding (can be matched)."""
        return self.encoding is not None


@dataclass(frozen=True)
class Snapshot:
    """A derived image file, hashed and traceable to its clip, frame and time."""

    clip_id: int
    frame: int
    time: datetime
    path: str
    sha256: str
    kind: str = "track"
    box: Box | None = None
    id: int | None = None


@dataclass(frozen=True)
class Track:
    """One object followed through one clip, with what analysis learned about it."""

    clip_id: int
    camera_id: str
    track_no: int
    cls: str
    first_time: datetime
    last_time: datetime
    first_frame: int
    last_frame: int
    n_frames: int
    confidence: float
    entry_side: str | None = None
    exit_side: str | None = None
    direction_deg: float | None = None
    speed_kmh: float | None = None
    color: str | None = None
    plate: PlateText | None = None
    best_frame: int | None = None
    snapshot: Snapshot | None = None
    id: int | None = None

    @property
    def direction(self) -> str | None:
        from camfind.geo import compass_word

        return None if self.direction_deg is None else compass_word(self.direction_deg)


@dataclass(frozen=True)
class PlateRead:
    """A plate read on one frame of a track, placed in time and space."""

    clip_id: int
    camera_id: str
    time: datetime
    frame: int
    plate: PlateText
    track_id: int | None = None
    snapshot: Snapshot | None = None
    id: int | None = None


@dataclass(frozen=True)
class FaceSighting:
    """A face seen on one frame of a track."""

    clip_id: int
    camera_id: str
    time: datetime
    frame: int
    face: Face
    track_id: int | None = None
    snapshot: Snapshot | None = None
    id: int | None = None


@dataclass(frozen=True)
class AnalysisResult:
    """Everything one analysis run of one clip produced, written in one transaction.

    ``detections`` and ``plate_reads``/``faces`` refer to tracks by ``track_no``
    (``Detection.track_no``; ``PlateRead.track_id`` and ``FaceSighting.track_id`` hold the
    track_no before writing). Snapshots are written first; rows point at them by path.
    """

    tracks: Sequence[Track]
    detections: Sequence[Detection] = ()
    plate_reads: Sequence[PlateRead] = ()
    faces: Sequence[FaceSighting] = ()
    snapshots: Sequence[Snapshot] = ()


@dataclass(frozen=True)
class AnalysisRun:
    """What analysed a clip: models, versions, weight hashes and settings (reproducibility)."""

    clip_id: int
    started_at: datetime
    settings: Mapping[str, object]
    models: Mapping[str, str]
    camfind_version: str
    finished_at: datetime | None = None
    status: str = "running"
    error: str = ""
    id: int | None = None
    #: Where it was analysed: host name, process id, Ray node id ('' outside a Ray cluster).
    worker_host: str = ""
    worker_pid: int | None = None
    worker_node: str = ""


@dataclass(frozen=True)
class Sighting:
    """A search result: one track (or a plate/face read) with its clip reference."""

    camera_id: str
    time: datetime
    end_time: datetime
    cls: str
    color: str | None
    direction: str | None
    direction_deg: float | None
    plate: str | None
    confidence: float
    track_id: int
    clip_id: int
    clip_sha256: str
    clip_path: str
    frame: int
    snapshot: str | None
    snapshot_sha256: str | None = None
    face_distance: float | None = None
    plate_confidence: float | None = None
    #: The plate read behind ``plate`` (the one a plate search matched): when and where in the
    #: clip it was read, and the snapshot of the plate as read.
    plate_time: datetime | None = None
    plate_frame: int | None = None
    plate_snapshot: str | None = None
    plate_snapshot_sha256: str | None = None
    clock_offset_s: float | None = None  # applied to the DVR's time: DVR time = time + clock_offset_s
    clock_uncertainty_s: float | None = None  # of the camera's offset in use; None: unknown


@dataclass(frozen=True)
class Hop:
    """Consecutive sightings of a target at one camera, merged."""

    camera_id: str
    first_seen: datetime
    last_seen: datetime
    sightings: tuple[Sighting, ...]
    direction: str | None = None
    direction_deg: float | None = None
    distance_m_from_prev: float | None = None
    speed_kmh_from_prev: float | None = None
    feasible: bool = True
    note: str = ""


@dataclass(frozen=True)
class Gap:
    """A stretch of a route where the target was not seen (between hops, before, after)."""

    after_camera_id: str | None
    before_camera_id: str | None
    time_from: datetime | None
    time_to: datetime | None
    note: str = ""


@dataclass(frozen=True)
class CameraToCheck:
    """A camera whose footage for a window could show where the target went (or came from)."""

    camera_id: str
    owner_type: str
    owner_name: str
    owner_contact: str
    window_from: datetime
    window_to: datetime
    footage_ingested: bool
    distance_m: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class Route:
    """A reconstructed route: hops in time order, gaps and the next cameras to check."""

    target: str
    hops: tuple[Hop, ...]
    gaps: tuple[Gap, ...] = ()
    next_cameras: tuple[CameraToCheck, ...] = ()
    previous_cameras: tuple[CameraToCheck, ...] = ()
