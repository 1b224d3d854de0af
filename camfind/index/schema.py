"""The index schema, in one place: ordered, named migrations recorded in ``schema_migrations``.

Times are REAL columns of UTC epoch seconds (``*_ts``), indexed where searched. Searchable things
(plates, faces, times, cameras, classes, colours, directions) have typed columns, never JSON blobs;
JSON is kept only for things never searched on (settings, unknown camera columns, audit arguments).
Add a migration to change the schema; never edit one that has shipped.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast

from camfind.errors import SchemaError

Migration = Callable[[], str]


def _m001_initial() -> str:
    return """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE cameras (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            lat REAL NOT NULL,
            lon REAL NOT NULL,
            owner_type TEXT NOT NULL DEFAULT 'resident'
                CHECK (owner_type IN ('public', 'resident', 'business')),
            owner_name TEXT NOT NULL DEFAULT '',
            owner_contact TEXT NOT NULL DEFAULT '',
            address TEXT NOT NULL DEFAULT '',
            heading_deg REAL,
            fov_deg REAL,
            clock_offset_s REAL NOT NULL DEFAULT 0,
            extra_json TEXT NOT NULL DEFAULT '{}',
            created_ts REAL NOT NULL,
            updated_ts REAL NOT NULL
        );
        CREATE INDEX cameras_latlon ON cameras (lat, lon);

        -- Undirected neighbour links; stored once with a < b.
        CREATE TABLE camera_links (
            a TEXT NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
            b TEXT NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
            meters REAL,
            source TEXT NOT NULL DEFAULT 'declared',
            PRIMARY KEY (a, b),
            CHECK (a < b)
        );
        CREATE INDEX camera_links_b ON camera_links (b);

        CREATE TABLE clock_observations (
            id INTEGER PRIMARY KEY,
            camera_id TEXT NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
            dvr_ts REAL NOT NULL,
            actual_ts REAL NOT NULL,
            offset_s REAL NOT NULL,
            recorded_ts REAL NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX clock_observations_camera ON clock_observations (camera_id, recorded_ts);

        CREATE TABLE calibrations (
            camera_id TEXT PRIMARY KEY REFERENCES cameras (id) ON DELETE CASCADE,
            points_json TEXT NOT NULL,
            homography_json TEXT NOT NULL,
            reprojection_error_m REAL,
            created_ts REAL NOT NULL
        );

        CREATE TABLE clips (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            size_bytes INTEGER NOT NULL,
            path TEXT NOT NULL,
            camera_id TEXT NOT NULL REFERENCES cameras (id),
            start_ts REAL NOT NULL,
            end_ts REAL NOT NULL,
            start_raw_ts REAL NOT NULL,
            time_source TEXT NOT NULL
                CHECK (time_source IN ('cli', 'sidecar', 'filename', 'container', 'osd')),
            clock_offset_s REAL NOT NULL DEFAULT 0,
            duration_s REAL NOT NULL,
            fps REAL NOT NULL,
            frames INTEGER NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            codec TEXT NOT NULL,
            container TEXT NOT NULL,
            creation_ts REAL,
            status TEXT NOT NULL DEFAULT 'registered',
            osd_drift_s REAL,
            ingested_ts REAL NOT NULL
        );
        CREATE INDEX clips_camera_time ON clips (camera_id, start_ts);
        CREATE INDEX clips_time ON clips (start_ts, end_ts);
        CREATE INDEX clips_path ON clips (path);

        CREATE TABLE analysis_runs (
            id INTEGER PRIMARY KEY,
            clip_id INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
            started_ts REAL NOT NULL,
            finished_ts REAL,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'done', 'failed', 'superseded')),
            camfind_version TEXT NOT NULL,
            models_json TEXT NOT NULL,
            settings_json TEXT NOT NULL,
            error TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX analysis_runs_clip ON analysis_runs (clip_id, status);

        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            clip_id INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
            run_id INTEGER REFERENCES analysis_runs (id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            frame INTEGER NOT NULL,
            ts REAL NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            x1 REAL, y1 REAL, x2 REAL, y2 REAL
        );
        CREATE INDEX snapshots_clip ON snapshots (clip_id, frame);

        CREATE TABLE tracks (
            id INTEGER PRIMARY KEY,
            clip_id INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
            run_id INTEGER NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
            camera_id TEXT NOT NULL REFERENCES cameras (id),
            track_no INTEGER NOT NULL,
            cls TEXT NOT NULL,
            first_ts REAL NOT NULL,
            last_ts REAL NOT NULL,
            first_frame INTEGER NOT NULL,
            last_frame INTEGER NOT NULL,
            n_frames INTEGER NOT NULL,
            confidence REAL NOT NULL,
            entry_side TEXT,
            exit_side TEXT,
            direction_deg REAL,
            direction TEXT,
            speed_kmh REAL,
            color TEXT,
            plate_text TEXT,
            plate_norm TEXT,
            plate_confidence REAL,
            plate_layout TEXT,
            plate_valid INTEGER,
            best_frame INTEGER,
            snapshot_id INTEGER REFERENCES snapshots (id),
            UNIQUE (run_id, track_no)
        );
        CREATE INDEX tracks_camera_time ON tracks (camera_id, first_ts);
        CREATE INDEX tracks_time ON tracks (first_ts);
        CREATE INDEX tracks_plate ON tracks (plate_norm);
        CREATE INDEX tracks_clip ON tracks (clip_id);
        CREATE INDEX tracks_snapshot ON tracks (snapshot_id);

        -- Boxes of a track on the analysed frames.
        CREATE TABLE detections (
            track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
            frame INTEGER NOT NULL,
            offset_s REAL NOT NULL,
            x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
            score REAL NOT NULL,
            cls TEXT NOT NULL,
            PRIMARY KEY (track_id, frame)
        ) WITHOUT ROWID;

        CREATE TABLE plate_reads (
            id INTEGER PRIMARY KEY,
            clip_id INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
            track_id INTEGER REFERENCES tracks (id) ON DELETE CASCADE,
            camera_id TEXT NOT NULL REFERENCES cameras (id),
            ts REAL NOT NULL,
            frame INTEGER NOT NULL,
            text TEXT NOT NULL,
            norm TEXT NOT NULL,
            confidence REAL NOT NULL,
            layout TEXT NOT NULL,
            valid INTEGER NOT NULL,
            x1 REAL, y1 REAL, x2 REAL, y2 REAL,
            snapshot_id INTEGER REFERENCES snapshots (id)
        );
        CREATE INDEX plate_reads_norm ON plate_reads (norm);
        CREATE INDEX plate_reads_camera_time ON plate_reads (camera_id, ts);
        CREATE INDEX plate_reads_time ON plate_reads (ts);
        CREATE INDEX plate_reads_track ON plate_reads (track_id);
        CREATE INDEX plate_reads_snapshot ON plate_reads (snapshot_id);
        CREATE INDEX plate_reads_clip ON plate_reads (clip_id);  -- re-analysis deletes by clip

        CREATE TABLE face_sightings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids never reused: face-matrix cache key
            clip_id INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
            track_id INTEGER REFERENCES tracks (id) ON DELETE CASCADE,
            camera_id TEXT NOT NULL REFERENCES cameras (id),
            ts REAL NOT NULL,
            frame INTEGER NOT NULL,
            x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
            quality REAL NOT NULL,
            encoding BLOB NOT NULL CHECK (length(encoding) = 512),
            snapshot_id INTEGER REFERENCES snapshots (id)
        );
        CREATE INDEX face_sightings_camera_time ON face_sightings (camera_id, ts);
        CREATE INDEX face_sightings_time ON face_sightings (ts);
        CREATE INDEX face_sightings_track ON face_sightings (track_id);
        CREATE INDEX face_sightings_snapshot ON face_sightings (snapshot_id);
        CREATE INDEX face_sightings_clip ON face_sightings (clip_id);

        -- Distinct normalised plate texts and how many reads/tracks carry each, kept in step by
        -- triggers: wildcard (GLOB on norm) and fuzzy plate search look here, not at every read;
        -- a trigram index over it finds substrings (leading-* wildcards, fuzzy pieces).
        CREATE TABLE plate_vocab (id INTEGER PRIMARY KEY, norm TEXT NOT NULL UNIQUE, uses INTEGER NOT NULL);
        CREATE VIRTUAL TABLE plate_vocab_fts USING fts5 (
            norm, tokenize = 'trigram', content = 'plate_vocab', content_rowid = 'id');
        CREATE TRIGGER plate_vocab_fts_ins AFTER INSERT ON plate_vocab BEGIN
            INSERT INTO plate_vocab_fts (rowid, norm) VALUES (new.id, new.norm);
        END;
        CREATE TRIGGER plate_vocab_fts_del AFTER DELETE ON plate_vocab BEGIN
            INSERT INTO plate_vocab_fts (plate_vocab_fts, rowid, norm) VALUES ('delete', old.id, old.norm);
        END;
        -- Face deletions counted, so search's face-matrix cache knows when it is stale.
        CREATE TRIGGER face_sightings_deleted AFTER DELETE ON face_sightings BEGIN
            INSERT INTO meta (key, value) VALUES ('face_deletions', '1')
                ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT);
        END;
        CREATE TRIGGER plate_reads_vocab_ins AFTER INSERT ON plate_reads BEGIN
            INSERT INTO plate_vocab (norm, uses) VALUES (new.norm, 1)
                ON CONFLICT (norm) DO UPDATE SET uses = uses + 1;
        END;
        CREATE TRIGGER plate_reads_vocab_del AFTER DELETE ON plate_reads BEGIN
            UPDATE plate_vocab SET uses = uses - 1 WHERE norm = old.norm;
            DELETE FROM plate_vocab WHERE norm = old.norm AND uses <= 0;
        END;
        CREATE TRIGGER plate_reads_vocab_upd AFTER UPDATE OF norm ON plate_reads BEGIN
            UPDATE plate_vocab SET uses = uses - 1 WHERE norm = old.norm;
            DELETE FROM plate_vocab WHERE norm = old.norm AND uses <= 0;
            INSERT INTO plate_vocab (norm, uses) VALUES (new.norm, 1)
                ON CONFLICT (norm) DO UPDATE SET uses = uses + 1;
        END;
        CREATE TRIGGER tracks_vocab_ins AFTER INSERT ON tracks WHEN new.plate_norm IS NOT NULL BEGIN
            INSERT INTO plate_vocab (norm, uses) VALUES (new.plate_norm, 1)
                ON CONFLICT (norm) DO UPDATE SET uses = uses + 1;
        END;
        CREATE TRIGGER tracks_vocab_del AFTER DELETE ON tracks WHEN old.plate_norm IS NOT NULL BEGIN
            UPDATE plate_vocab SET uses = uses - 1 WHERE norm = old.plate_norm;
            DELETE FROM plate_vocab WHERE norm = old.plate_norm AND uses <= 0;
        END;
        CREATE TRIGGER tracks_vocab_upd AFTER UPDATE OF plate_norm ON tracks BEGIN
            UPDATE plate_vocab SET uses = uses - 1 WHERE norm = old.plate_norm;
            DELETE FROM plate_vocab WHERE norm = old.plate_norm AND uses <= 0;
            INSERT INTO plate_vocab (norm, uses) SELECT new.plate_norm, 1 WHERE new.plate_norm IS NOT NULL
                ON CONFLICT (norm) DO UPDATE SET uses = uses + 1;
        END;

        -- Append-only: each entry carries the hash of the previous one.
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            user TEXT NOT NULL,
            command TEXT NOT NULL,
            args_json TEXT NOT NULL,
            counts_json TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
        """


def _m002_clock_estimates() -> str:
    """Where each camera's clock offset came from, how sure it is, which clocks are trusted, and
    the offsets estimated from co-sightings (``camfind clocks estimate``)."""
    return """
        ALTER TABLE cameras ADD COLUMN clock_source TEXT NOT NULL DEFAULT 'none'
            CHECK (clock_source IN ('none', 'file', 'set-clock', 'osd', 'estimate'));
        ALTER TABLE cameras ADD COLUMN clock_uncertainty_s REAL;
        ALTER TABLE cameras ADD COLUMN clock_trusted INTEGER NOT NULL DEFAULT 0;
        UPDATE cameras SET clock_source = 'file' WHERE clock_offset_s != 0;
        UPDATE cameras SET clock_source = 'set-clock', clock_uncertainty_s = 1.0
            WHERE id IN (SELECT camera_id FROM clock_observations);

        -- One row per camera per estimate run; evidence_json lists the co-sightings (never searched).
        CREATE TABLE clock_estimates (
            id INTEGER PRIMARY KEY,
            run_ts REAL NOT NULL,
            camera_id TEXT NOT NULL REFERENCES cameras (id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN ('anchor', 'estimated', 'unanchored', 'no-cosightings')),
            offset_s REAL,
            uncertainty_s REAL,
            n_cosightings INTEGER NOT NULL DEFAULT 0,
            evidence_json TEXT NOT NULL DEFAULT '[]',
            applied_ts REAL
        );
        CREATE INDEX clock_estimates_camera ON clock_estimates (camera_id, run_ts);
        """


def _m003_clip_custody(db: sqlite3.Connection | None = None) -> str:
    """Segments: one file's time ranges registered as clips of their own (a DVR viewer recording
    that switches cameras), so a file's hash is no longer unique among clips: ``(sha256, segment)``
    is (``segment`` is '' for a whole file). Where else each clip's bytes were found
    (byte-identical copies), kept beside the registration; the exact bytes of file names that are
    not UTF-8 (``path`` holds them shown as ``\\xNN``); integrity flags (declared and decoded
    lengths that disagree, damaged headers); the on-screen clock's reading and the filed start
    kept when that reading is applied.

    Dropping ``UNIQUE`` from ``clips.sha256`` needs the table rebuilt; the rebuild starts from the
    table as it is (:func:`_rebuilt_without_unique_sha256`), so columns added before are kept.
    """
    return _rebuilt_without_unique_sha256(db) + """
        -- Where in its file a clip lies: seconds [seg_start_s, seg_end_s); a whole file has
        -- segment '' (seg_end_s NULL). One file hashed once may hold several cameras' clips.
        ALTER TABLE clips ADD COLUMN segment TEXT NOT NULL DEFAULT '';
        ALTER TABLE clips ADD COLUMN seg_start_s REAL NOT NULL DEFAULT 0;
        ALTER TABLE clips ADD COLUMN seg_end_s REAL;
        CREATE UNIQUE INDEX clips_content ON clips (sha256, segment);
        ALTER TABLE clips ADD COLUMN path_bytes BLOB;
        -- Integrity warnings of the probe, '; '-separated ('' when the clip adds up).
        ALTER TABLE clips ADD COLUMN flags TEXT NOT NULL DEFAULT '';
        -- The on-screen clock's reading (its time at the first frame, DVR wall time as UTC), and
        -- the start the clip was filed with before that reading was applied (NULL until it is).
        ALTER TABLE clips ADD COLUMN osd_start_ts REAL;
        ALTER TABLE clips ADD COLUMN osd_text TEXT;
        ALTER TABLE clips ADD COLUMN osd_precision_s REAL;
        ALTER TABLE clips ADD COLUMN filed_start_raw_ts REAL;
        ALTER TABLE clips ADD COLUMN filed_time_source TEXT;
        -- A byte-identical file met at another path: the same evidence, verified with the clip.
        -- camera_id and name_ts are what that copy's own camera rule and file name said.
        CREATE TABLE clip_copies (
            id INTEGER PRIMARY KEY,
            clip_id INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            path_bytes BLOB,
            camera_id TEXT,
            name_ts REAL,
            conflict TEXT NOT NULL DEFAULT '',
            recorded_ts REAL NOT NULL,
            UNIQUE (clip_id, path)
        );
        CREATE INDEX clip_copies_path ON clip_copies (path);
        """


def _rebuilt_without_unique_sha256(db: sqlite3.Connection | None) -> str:
    """SQL rebuilding ``clips`` as it stands, less the ``UNIQUE`` on ``sha256`` (SQLite cannot drop a
    table constraint): same columns, rows, ids, indexes and triggers. :func:`migrate` runs it with
    foreign keys off, so the other tables' rows (which refer to clip ids) are left as they are."""
    if db is None:
        raise SchemaError("the clips rebuild needs the database it rebuilds")
    (table,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'clips'").fetchone()
    rebuilt, n = re.subn(r"\bsha256\s+TEXT\s+NOT\s+NULL\s+UNIQUE\b", "sha256 TEXT NOT NULL", table, count=1)
    if n != 1:
        raise SchemaError("unexpected clips table: its sha256 column is not 'TEXT NOT NULL UNIQUE'")
    rebuilt = re.sub(r"^CREATE TABLE\s+\"?clips\"?", "CREATE TABLE clips_rebuilt", rebuilt, count=1)
    extras = [str(r[0]) for r in db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'clips' AND type IN ('index', 'trigger') AND sql IS NOT NULL")]
    return "\n".join([f"{rebuilt};", "INSERT INTO clips_rebuilt SELECT * FROM clips;", "DROP TABLE clips;",
                      "ALTER TABLE clips_rebuilt RENAME TO clips;", *(f"{sql};" for sql in extras)])


def _m004_unencoded_faces() -> str:
    """Faces too small or blurred to encode are kept as sightings with a NULL encoding.

    SQLite cannot relax a column's constraint in place: the table is rebuilt with the same
    columns, ids and AUTOINCREMENT counter (the face-matrix cache key), indexes and trigger.
    """
    columns = "id, clip_id, track_id, camera_id, ts, frame, x1, y1, x2, y2, quality, encoding, snapshot_id"
    return f"""
        CREATE TABLE face_sightings_new (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids never reused: face-matrix cache key
            clip_id INTEGER NOT NULL REFERENCES clips (id) ON DELETE CASCADE,
            track_id INTEGER REFERENCES tracks (id) ON DELETE CASCADE,
            camera_id TEXT NOT NULL REFERENCES cameras (id),
            ts REAL NOT NULL,
            frame INTEGER NOT NULL,
            x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
            quality REAL NOT NULL,
            -- 128 float32, or NULL: a face seen but too small/blurred to encode (never matched)
            encoding BLOB CHECK (encoding IS NULL OR length(encoding) = 512),
            snapshot_id INTEGER REFERENCES snapshots (id)
        );
        INSERT INTO face_sightings_new ({columns}) SELECT {columns} FROM face_sightings ORDER BY id;
        DELETE FROM sqlite_sequence WHERE name = 'face_sightings_new';
        INSERT INTO sqlite_sequence (name, seq)
            SELECT 'face_sightings_new', seq FROM sqlite_sequence WHERE name = 'face_sightings';
        DROP TABLE face_sightings;
        ALTER TABLE face_sightings_new RENAME TO face_sightings;
        CREATE INDEX face_sightings_camera_time ON face_sightings (camera_id, ts);
        CREATE INDEX face_sightings_time ON face_sightings (ts);
        CREATE INDEX face_sightings_track ON face_sightings (track_id);
        CREATE INDEX face_sightings_snapshot ON face_sightings (snapshot_id);
        CREATE INDEX face_sightings_clip ON face_sightings (clip_id);
        CREATE TRIGGER face_sightings_deleted AFTER DELETE ON face_sightings BEGIN
            INSERT INTO meta (key, value) VALUES ('face_deletions', '1')
                ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT);
        END;
        """



def _m005_run_worker() -> str:
    """Where each analysis run was done: the worker's host name, process id and (on a Ray
    cluster) node id; empty for runs recorded before."""
    return """
        ALTER TABLE analysis_runs ADD COLUMN worker_host TEXT NOT NULL DEFAULT '';
        ALTER TABLE analysis_runs ADD COLUMN worker_pid INTEGER;
        ALTER TABLE analysis_runs ADD COLUMN worker_node TEXT NOT NULL DEFAULT '';
        """


#: Migrations whose script is built from the database as it stands (called with the connection).
_NEEDS_DB = frozenset({"003_clip_custody"})

MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("001_initial", _m001_initial),
    ("002_clock_estimates", _m002_clock_estimates),
    ("003_clip_custody", _m003_clip_custody),
    ("004_unencoded_faces", _m004_unencoded_faces),
    ("005_run_worker", _m005_run_worker),
)
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(db: sqlite3.Connection) -> int:
    """How many migrations this database has applied (0 for a new file)."""
    row = db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
    ).fetchone()
    if row is None:
        return 0
    return int(db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0])


def migrate(db: sqlite3.Connection) -> int:
    """Apply pending migrations in order, each in its own transaction. Returns the version."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ts REAL NOT NULL)"
    )
    version = current_version(db)
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"index schema version {version} is newer than this camfind ({SCHEMA_VERSION}): upgrade camfind"
        )
    for number, (name, step) in enumerate(MIGRATIONS[version:], start=version + 1):
        # One script per migration, inside one transaction: all of it applies or none. Foreign
        # keys are off while it runs (a table rebuild must not cascade), and checked before commit.
        now = datetime.now(UTC).timestamp()
        body = cast(Callable[[sqlite3.Connection], str], step)(db) if name in _NEEDS_DB else step()
        script = (
            f"BEGIN IMMEDIATE;\n{body}\n"
            f"INSERT INTO schema_migrations (version, name, applied_ts) "
            f"VALUES ({number}, '{name}', {now});\n"
            # an index made before this migration shows its new version in meta too
            f"UPDATE meta SET value = '{number}' WHERE key = 'schema_version';\n"
        )
        keys = int(db.execute("PRAGMA foreign_keys").fetchone()[0])
        db.execute("PRAGMA foreign_keys=OFF")
        try:
            db.executescript(script)
            broken = db.execute("PRAGMA foreign_key_check").fetchone()
            if broken is not None:
                raise SchemaError(f"migration {name} would break a reference ({broken[0]} row {broken[1]})")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.execute(f"PRAGMA foreign_keys={'ON' if keys else 'OFF'}")
    return SCHEMA_VERSION
