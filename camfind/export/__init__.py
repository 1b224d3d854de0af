"""Export: what leaves the index as evidence, the last stage of the flow.

Timelines (:mod:`camfind.export.timeline`, CSV with clip, frame and time of each sighting),
lossless clip extracts (:mod:`camfind.export.extract`), evidence packages with a manifest and
SHA256SUMS (:mod:`camfind.export.package`), and a route's HTML report and GeoJSON
(:mod:`camfind.export.report`, :mod:`camfind.export.geojson`).
"""
