"""camfind.search."""
