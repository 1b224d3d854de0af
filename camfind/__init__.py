"""camfind: forensic search over community camera networks.

The library stands alone; `camfind.commands` is a thin Typer layer over it.
Flow: ingest (camfind.ingest) -> analyse (camfind.analysis, camfind.recognition)
-> index (camfind.index) -> search / trace / export (camfind.search).
"""

__version__ = "0.1.0"
