"""camfind.sample."""
