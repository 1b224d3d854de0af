"""The sample camera network: a small generated ward whose clips the real models can read.

``generate(out_dir)`` writes cameras.csv, DVR-style clips, probe photos and ground_truth.json;
``camfind demo`` runs on it. See samples/README.md for the story and the imagery's licences.
"""

from camfind.sample.builder import (
    RoutePoint,
    SampleClip,
    Scenario,
    Subject,
    dvr_file_name,
    generate,
    ground_truth_dict,
)

__all__ = [
    "RoutePoint",
    "SampleClip",
    "Scenario",
    "Subject",
    "dvr_file_name",
    "generate",
    "ground_truth_dict",
]
