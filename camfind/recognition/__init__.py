"""camfind.recognition."""
