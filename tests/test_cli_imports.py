"""`camfind --help` and a command's --help load no heavy library (OpenCV, torch, dlib, ONNX
Runtime): help must be instant, and the commands import their backends only when they run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("cv2", "torch", "ultralytics", "dlib", "onnxruntime", "easyocr", "rapidocr_onnxruntime", "av")

_PROBE = """
import sys
sys.argv = ["camfind", *sys.argv[1:]]
from camfind.cli import app
try:
    app()
except SystemExit:
    pass
print("LOADED", sorted(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize("args", [["--help"], ["search", "--help"], ["trace", "--help"], ["faces", "match", "--help"],
                                  ["plates", "read", "--help"], ["ingest", "--help"], ["analyze", "--help"]],
                         ids=" ".join)
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    code = _PROBE.format(heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert "Usage: camfind" in out.stdout, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1] == "LOADED []", out.stdout[-300:] + out.stderr
