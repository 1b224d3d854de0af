"""camfind.ingest."""
