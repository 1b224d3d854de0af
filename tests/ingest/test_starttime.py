"""Start-time and camera rules: names of real DVR exports, sidecars, manifests, precedence."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from camfind.errors import ClipError, StartTimeError
from camfind.ingest.starttime import SidecarReader, camera_from_path, resolve_start, time_from_name
from camfind.types import Probe

TZ = "Asia/Ho_Chi_Minh"
AT_1015 = datetime(2024, 1, 25, 3, 15, 0, tzinfo=UTC)  # 10:15 local


@pytest.mark.parametrize(
    ("name", "style"),
    [
        ("ch01_20240125101500.mp4", "hikvision"),
        ("ch12_20240125101500_20240125102000.mp4", "hikvision"),
        ("2024-01-25.10.15.00-2024-01-25.10.20.00[M][0@0][0].dav", "dahua"),
        ("CAM03_20240125_101500.mp4", "generic"),
        ("2024-01-25_10-15-00.mkv", "generic"),
        ("20240125101500.ts", "generic"),
        ("192.168.1.64_01_20240125101500123.mp4", "generic"),
    ],
)
def test_time_from_name(name: str, style: str) -> None:
    assert time_from_name(name, TZ) == (AT_1015, style)


@pytest.mark.parametrize("name", ["clip.mp4", "CAM1_20241325_101500.mp4", "ch01_1234.mp4", "v_20240125_250000.mp4"])
def test_no_time_in_name(name: str) -> None:
    assert time_from_name(name, TZ) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("exports/CAM03/ch01_20240125101500.mp4", "CAM03"),
        ("exports/CAM03/2024/01/25/ch01_20240125101500.mp4", "CAM03"),
        ("exports/CAM03_20240125_101500.mp4", "CAM03"),
        ("exports/cam03-front.mp4", "CAM03"),
        ("exports/CAM030_20240125_101500.mp4", "CAM030"),
        ("exports/CAM03X_20240125_101500.mp4", None),
        ("exports/misc/ch01_20240125101500.mp4", None),
    ],
)
def test_camera_from_path(path: str, expected: str | None) -> None:
    assert camera_from_path(Path(path), {"CAM03", "CAM030", "CAM04"}) == expected


def test_precedence_cli_sidecar_name_container(tmp_path: Path) -> None:
    clip = tmp_path / "ch01_20240125101500.mp4"
    probe = Probe(1, 1, 1, 1, 1, "h264", "mov", creation_time=datetime(2020, 1, 1, tzinfo=UTC))
    cli = datetime(2024, 2, 1, tzinfo=UTC)
    sidecar_file = tmp_path / "ch01_20240125101500.mp4.json"
    sidecar_file.write_text(json.dumps({"start": "2024-01-25 10:16:00", "camera_id": "CAM04"}))
    sidecar = SidecarReader().find(clip)
    assert sidecar is not None and sidecar.camera_id == "CAM04"
    assert resolve_start(clip, TZ, cli=cli, sidecar=sidecar, probe=probe).source == "cli"
    got = resolve_start(clip, TZ, cli=None, sidecar=sidecar, probe=probe)
    assert (got.raw, got.source) == (datetime(2024, 1, 25, 3, 16, tzinfo=UTC), "sidecar")
    got = resolve_start(clip, TZ, cli=None, sidecar=None, probe=probe)
    assert (got.raw, got.source) == (AT_1015, "filename")
    got = resolve_start(tmp_path / "clip.mp4", TZ, cli=None, sidecar=None, probe=probe)
    assert (got.raw, got.source) == (datetime(2020, 1, 1, tzinfo=UTC), "container")
    with pytest.raises(StartTimeError, match="--start"):
        resolve_start(tmp_path / "clip.mp4", TZ, cli=None, sidecar=None, probe=None)


def test_manifest_rows(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text("file,start,camera_id\nA.mp4,2024-01-25 10:15:00,CAM04\nb.mp4,,CAM05\n")
    reader = SidecarReader()
    a = reader.find(tmp_path / "A.mp4")
    b = reader.find(tmp_path / "b.mp4")
    assert a is not None and (a.start, a.camera_id) == ("2024-01-25 10:15:00", "CAM04")
    assert b is not None and (b.start, b.camera_id) == (None, "CAM05")
    assert reader.find(tmp_path / "c.mp4") is None


@pytest.mark.parametrize(("content", "reason"), [("{not json", "not readable JSON"), ("[1, 2]", "JSON object")])
def test_bad_sidecar(tmp_path: Path, content: str, reason: str) -> None:
    (tmp_path / "a.json").write_text(content)
    with pytest.raises(ClipError, match=reason):
        SidecarReader().find(tmp_path / "a.mp4")


def test_malformed_sidecar_time_names_the_sidecar(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"start": "yesterday"}')
    sidecar = SidecarReader().find(tmp_path / "a.mp4")
    with pytest.raises(ClipError, match=r"a\.json.*malformed time"):
        resolve_start(tmp_path / "a.mp4", TZ, cli=None, sidecar=sidecar, probe=None)
