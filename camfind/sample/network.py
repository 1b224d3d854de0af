"""The sample ward: its cameras and the story of who passes which camera when.

A fictional ward ("Phường Mẫu", District 1, Ho Chi Minh City) around 10.771 N, 106.693 E.
Two streets meet at a corner: Đường Số 1 runs west-east, Đường Số 2 runs north from the corner.
Every camera is mounted on a building and looks straight across its street, so anything moving
along the street crosses the picture sideways (image right = heading + 90 degrees).

The story (true local time, 14 November 2026, +07:00):

- V1, a red motorbike ``59-X3 472.18``, rides east along Đường Số 1 past CAM01, CAM02, CAM03,
  turns north into Đường Số 2 and passes CAM04 and CAM05 (whose DVR clock is 5 min 17 s fast).
- V2, a blue motorbike ``59-P2 681.07``, rides west past CAM06 then CAM03 (just after V1).
- P1 (Eileen Collins' NASA portrait) walks west past CAM02, then CAM01 three and a half minutes
  later.
- P2 (Grace Hopper's portrait) walks east past CAM06, behind V2.
- CAM07, north of CAM05, has no footage yet: the next camera to ask for.
- CAM06's second file is a corrupt (truncated) export.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from camfind.geo import haversine_m
from camfind.sample.street import StreetStyle
from camfind.types import Camera

LOCAL = timezone(timedelta(hours=7))
ORIGIN = (10.77120, 106.69350)
_M_PER_DEG_LAT = 110_600.0


def local_to_latlon(east_m: float, north_m: float) -> tuple[float, float]:
    """Latitude/longitude of a point ``east_m``/``north_m`` metres from the ward's origin."""
    lat0, lon0 = ORIGIN
    m_per_deg_lon = _M_PER_DEG_LAT * math.cos(math.radians(lat0))
    return round(lat0 + north_m / _M_PER_DEG_LAT, 6), round(lon0 + east_m / m_per_deg_lon, 6)


@dataclass(frozen=True)
class CameraSpec:
    """A camera of the ward: its registry row, how its scene looks, its on-screen caption (ASCII)."""

    camera: Camera
    style: StreetStyle
    osd_name: str


def _cam(cid: str, east: float, north: float, heading: float, owner: tuple[str, str, str],
         name: str, address: str, signs: tuple[str, ...], neighbors: tuple[str, ...],
         clock_offset_s: float = 0.0, gain: float = 1.0,
         tint: tuple[float, float, float] = (1.0, 1.0, 1.0), kerb_y: float = 0.42) -> CameraSpec:
    lat, lon = local_to_latlon(east, north)
    owner_type, owner_name, contact = owner
    camera = Camera(
        id=cid, lat=lat, lon=lon, name=name, owner_type=owner_type, owner_name=owner_name,
        owner_contact=contact, address=address, heading_deg=heading, fov_deg=95.0,
        clock_offset_s=clock_offset_s, neighbors=neighbors,
    )
    style = StreetStyle(signs=signs, kerb_y=kerb_y, gain=gain, tint=tint)
    return CameraSpec(camera, style, f"{cid} {_ascii(name).upper()}")


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in plain if not unicodedata.combining(c))


CAMERAS: tuple[CameraSpec, ...] = (
    _cam("CAM01", 0, -8, 0, ("public", "UBND Phường Mẫu", "Công an phường: 028 0000 0101"),
         "Ngã tư Số 1 - Số 4", "Ngã tư Đường Số 1 – Đường Số 4, Phường Mẫu, Quận 1",
         ("TẠP HÓA HẠNH", "PHỞ BÒ", "BÁNH MÌ", "CẦM ĐỒ"), ("CAM02",), gain=1.05),
    _cam("CAM02", 280, 8, 180, ("resident", "Nguyễn Văn Hùng", "0900 000 202"),
         "Nhà 28 Số 1", "28 Đường Số 1, Phường Mẫu, Quận 1",
         ("CƠM TẤM", "SỬA XE", "CÀ PHÊ", "TIỆM VÀNG"), ("CAM01", "CAM03"), gain=0.95,
         tint=(1.0, 1.0, 1.06), kerb_y=0.40),
    _cam("CAM03", 560, -8, 0, ("business", "Nhà thuốc Minh Châu", "0900 000 303"),
         "Nhà thuốc Minh Châu", "56 Đường Số 1 (góc Đường Số 2), Phường Mẫu, Quận 1",
         ("NHÀ THUỐC", "TẠP HÓA", "HỦ TIẾU", "GIẶT ỦI"), ("CAM02", "CAM04", "CAM06"),
         gain=1.0, kerb_y=0.44),
    _cam("CAM04", 590, 260, 90, ("resident", "Trần Thị Lan", "0900 000 404"),
         "Nhà 15 Số 2", "15 Đường Số 2, Phường Mẫu, Quận 1",
         ("BÚN BÒ HUẾ", "ĐIỆN THOẠI", "TIỆM TÓC", "PHOTO"), ("CAM03", "CAM05"), gain=0.9,
         tint=(1.06, 1.0, 0.96)),
    _cam("CAM05", 610, 520, 270, ("resident", "Lê Quốc Bảo", "0900 000 505"),
         "Nhà 42 Số 2", "42 Đường Số 2, Phường Mẫu, Quận 1",
         ("CHÈ", "NHÀ SÁCH", "KARAOKE", "BÁNH XÈO"), ("CAM04", "CAM07"), clock_offset_s=317.0,
         gain=1.08, kerb_y=0.41),
    _cam("CAM06", 840, 8, 180, ("public", "Công an Phường Mẫu", "Trực ban: 028 0000 0606"),
         "Trạm xe buýt Số 1", "Trạm xe buýt Đường Số 1, Phường Mẫu, Quận 1",
         ("NGÂN HÀNG", "TRÀ SỮA", "GỐM SỨ", "XE MÁY"), ("CAM03",), gain=0.97, kerb_y=0.43),
    _cam("CAM07", 590, 780, 90, ("resident", "Phạm Minh Tuấn", "0900 000 707"),
         "Nhà 70 Số 2", "70 Đường Số 2, Phường Mẫu, Quận 1",
         ("QUÁN NHẬU", "TẠP HÓA"), ("CAM05",)),
)


def camera_spec(cid: str) -> CameraSpec:
    """The spec of camera ``cid``; KeyError if the ward has no such camera."""
    for spec in CAMERAS:
        if spec.camera.id == cid:
            return spec
    raise KeyError(cid)


@dataclass(frozen=True)
class Pass:
    """One subject crossing one camera's view.

    Attributes:
        subject: subject id (``V1``, ``P1``...).
        camera_id: the camera.
        time: true local time when the subject's centre crosses the middle of the picture.
        bearing_deg: compass direction of travel on the ground.
    """

    subject: str
    camera_id: str
    time: datetime
    bearing_deg: float


@dataclass(frozen=True)
class ClipPlan:
    """One DVR file to write: camera, true start, length, and the passes it shows."""

    camera_id: str
    start: datetime
    duration_s: float
    passes: tuple[Pass, ...]
    corrupt: bool = False


def travel_s(a: str, b: str, speed_kmh: float) -> float:
    """Seconds to go from camera ``a`` to camera ``b`` in a straight line at ``speed_kmh``."""
    ca, cb = camera_spec(a).camera, camera_spec(b).camera
    return haversine_m(ca.lat, ca.lon, cb.lat, cb.lon) / (speed_kmh / 3.6)


def _chain(subject: str, start: datetime, legs: tuple[tuple[str, float, float], ...]) -> list[Pass]:
    """Passes along a route: each leg is (camera, bearing there, speed in km/h to reach it)."""
    passes: list[Pass] = []
    t = start
    for i, (cid, bearing, speed) in enumerate(legs):
        if i:
            t += timedelta(seconds=round(travel_s(legs[i - 1][0], cid, speed)))
        passes.append(Pass(subject, cid, t, bearing))
    return passes


def story() -> tuple[dict[str, list[Pass]], list[ClipPlan]]:
    """The fixed story: each subject's passes in order, and the clips that show them."""
    day = datetime(2026, 11, 14, tzinfo=LOCAL)
    v1 = _chain("V1", day.replace(hour=9, minute=20, second=12), (
        ("CAM01", 90, 0), ("CAM02", 90, 31), ("CAM03", 90, 34), ("CAM04", 0, 27),
        ("CAM05", 0, 32)))
    v2_cam03 = v1[2].time + timedelta(seconds=8)
    v2 = [Pass("V2", "CAM06", v2_cam03 - timedelta(seconds=round(travel_s("CAM06", "CAM03", 33))),
               270), Pass("V2", "CAM03", v2_cam03, 270)]
    p2 = [Pass("P2", "CAM06", v2[0].time + timedelta(seconds=7), 90)]
    p1 = _chain("P1", day.replace(hour=9, minute=31, second=40),
                (("CAM02", 270, 0), ("CAM01", 270, 4.9)))
    passes = {"V1": v1, "V2": v2, "P1": p1, "P2": p2}
    leads = {"CAM01": 4, "CAM02": 5, "CAM03": 5, "CAM04": 3, "CAM05": 5}
    clips = [ClipPlan(p.camera_id, p.time - timedelta(seconds=leads[p.camera_id]), 9.0, (p,))
             for p in v1 if p.camera_id != "CAM03"]
    clips.append(ClipPlan("CAM03", v1[2].time - timedelta(seconds=4), 14.0, (v1[2], v2[1])))
    clips.append(ClipPlan("CAM06", v2[0].time - timedelta(seconds=3), 13.0, (v2[0], p2[0])))
    clips += [ClipPlan(p.camera_id, p.time - timedelta(seconds=4), 9.0, (p,)) for p in p1]
    clips.append(ClipPlan("CAM06", day.replace(hour=9, minute=40), 3.0, (), corrupt=True))
    return passes, clips
