"""The clock migration on an index made before it: offsets in use keep their values and get a source."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from camfind.index import Index
from camfind.index.queries import camera_clocks
from camfind.index.schema import MIGRATIONS


def test_an_older_index_gains_clock_sources(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts REAL NOT NULL);"
        f"{MIGRATIONS[0][1]()}"
        "INSERT INTO schema_migrations VALUES (1, '001_initial', 0);"
        "INSERT INTO meta VALUES ('timezone', 'Asia/Ho_Chi_Minh');"
        "INSERT INTO cameras (id, lat, lon, clock_offset_s, created_ts, updated_ts) VALUES"
        " ('FILE', 10.7, 106.7, 45, 0, 0), ('READ', 10.7, 106.7, 30, 0, 0), ('NONE', 10.7, 106.7, 0, 0, 0);"
        "INSERT INTO clock_observations (camera_id, dvr_ts, actual_ts, offset_s, recorded_ts) VALUES"
        " ('READ', 30, 0, 30, 0);"
    )
    db.close()
    with Index.open(path) as idx:
        clocks = {c.camera_id: c for c in camera_clocks(idx)}
        assert [(clocks[c].source, clocks[c].offset_s, clocks[c].uncertainty_s) for c in ("FILE", "READ", "NONE")] \
            == [("file", 45.0, None), ("set-clock", 30.0, 1.0), ("none", 0.0, None)]
        assert not any(c.trusted for c in clocks.values())
        assert idx.db.execute("SELECT COUNT(*) FROM clock_estimates").fetchone()[0] == 0
