"""Write the sample camera network into a folder: ``python samples/generate.py OUT_DIR [--seed N]``.

A thin wrapper over :func:`camfind.sample.generate` (the library ships inside the package, so
``camfind demo`` can build the same network on a fresh install). See samples/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from camfind.errors import CamfindError
from camfind.sample import generate


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate, print a one-screen summary; 0 on success, 2 on error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (created if needed)")
    parser.add_argument("--seed", type=int, default=0, help="scenery and noise seed (default 0)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        scenario = generate(args.out_dir, seed=args.seed)
    except CamfindError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in scenario.out_dir.rglob("*") if p.is_file())
    print(f"wrote {scenario.out_dir} in {seconds:.1f} s ({size / 1e6:.1f} MB)")
    print(f"  cameras: {scenario.cameras_csv} ({len(scenario.cameras)} cameras)")
    print(f"  clips:   {len(scenario.clips)} under {scenario.clips_dir} "
          f"(corrupt: {scenario.corrupt_clip.relative_to(scenario.out_dir)})")
    print(f"  truth:   {scenario.ground_truth}")
    for s in scenario.subjects:
        label = s.plate or (s.face_image.name if s.face_image else "")
        route = " -> ".join(f"{p.camera_id} {p.time:%H:%M:%S} {p.direction}" for p in s.route)
        print(f"  {s.id} {s.kind} {label}: {route}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
