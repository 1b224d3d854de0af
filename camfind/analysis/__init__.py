"""camfind.analysis."""
