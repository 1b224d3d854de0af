"""Analysis on a real local Ray cluster (two nodes on this machine, one CPU each).

Clips of the generated sample network are analysed with the real models in this process and on
the cluster: the tracks, plate reads and snapshot files are the same; each run records the node
and process that analysed it; a clip whose bytes changed after registration is refused by the
worker; a worker killed mid-clip has its clip retried and written once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from camfind.analysis.settings import AnalysisSettings
from camfind.index import Index

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CAMERAS = ("CAM01", "CAM02")  # two clips each: plates and faces
SETTINGS = AnalysisSettings()


def _ray() -> Any:
    return pytest.importorskip("ray", reason="Ray is not installed (pip install 'camfind[ray]')")


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index with the sample's clips of CAM01 and CAM02 registered (not analysed), and a tampered one."""
    from camfind.cameras import import_cameras
    from camfind.ingest import ingest_paths
    from camfind.sample import generate

    root = tmp_path_factory.mktemp("raycase")
    scenario = generate(root / "net")
    with Index.open(root / "case.db", create=True) as index:
        import_cameras(index, scenario.cameras_csv)
        done = ingest_paths(index, [scenario.clips_dir / cam for cam in CAMERAS])
        assert len(done.clip_ids) == 4 and not done.failed
        tampered = root / "tampered" / "CAM01" / "ch01_20261114100000.mp4"
        tampered.parent.mkdir(parents=True)
        shutil.copy(next((scenario.clips_dir / "CAM01").iterdir()), tampered)
        tampered.write_bytes(tampered.read_bytes() + b"\0")  # other bytes: not the same file
        assert len(ingest_paths(index, [tampered], camera="CAM01").clip_ids) == 1
    tampered.write_bytes(tampered.read_bytes()[:-1])  # changed after registration
    return root / "case.db"


def _copy(db: Path, to: Path) -> Index:
    to.mkdir(parents=True, exist_ok=True)
    shutil.copy(db, to / "case.db")
    return Index.open(to / "case.db")


def _clip_ids(index: Index) -> list[int]:
    return [r[0] for r in index.db.execute("SELECT id FROM clips ORDER BY id")]


@pytest.fixture(scope="module")
def in_process(registered: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    from camfind.analysis import analyze_clips

    index = _copy(registered, tmp_path_factory.mktemp("local"))
    summary = analyze_clips(index, _clip_ids(index), settings=SETTINGS)
    assert (summary.analyzed, summary.failed) == (4, 1)
    yield index
    index.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    _ray()
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    yield nodes
    nodes.shutdown()


@pytest.fixture(scope="module")
def on_ray(registered: Path, cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Index, Any]]:
    from camfind.analysis import analyze_clips

    index = _copy(registered, tmp_path_factory.mktemp("ray"))
    summary = analyze_clips(index, _clip_ids(index), settings=SETTINGS, ray=cluster.address)
    yield index, summary
    index.close()


def _tracks(index: Index) -> list[tuple[Any, ...]]:
    return index.db.execute(
        "SELECT clip_id, track_no, cls, first_ts, last_ts, color, direction, plate_norm FROM tracks "
        "ORDER BY clip_id, track_no").fetchall()


def _plates(index: Index) -> list[tuple[Any, ...]]:
    return index.db.execute(
        "SELECT clip_id, frame, norm, confidence FROM plate_reads ORDER BY clip_id, frame, norm").fetchall()


def _snapshots(index: Index) -> list[tuple[Any, ...]]:
    rows = index.db.execute("SELECT clip_id, kind, frame, path, sha256 FROM snapshots").fetchall()
    return sorted((c, k, f, Path(p).name, s) for c, k, f, p, s in rows)


def test_the_cluster_finds_what_this_process_finds(in_process: Index, on_ray: tuple[Index, Any]) -> None:
    index, summary = on_ray
    assert (summary.analyzed, summary.failed, summary.workers) == (4, 1, 2)
    assert _tracks(index) == _tracks(in_process) and len(_tracks(index)) >= 4
    assert _plates(index) == _plates(in_process)
    assert _plates(index)
    assert _snapshots(index) == _snapshots(in_process) and len(_snapshots(index)) >= 8
    from camfind.analysis.snapshots import sha256_file

    for path, sha in index.db.execute("SELECT path, sha256 FROM snapshots"):
        assert Path(path).parent.parent == Path(index.path).parent / "snapshots"  # written by the driver
        assert sha256_file(path) == sha


def test_each_run_records_the_node_and_process(on_ray: tuple[Index, Any]) -> None:
    index, _ = on_ray
    rows = index.db.execute(
        "SELECT worker_host, worker_pid, worker_node FROM analysis_runs WHERE status = 'done'").fetchall()
    assert len(rows) == 4
    assert all(host and pid and pid != os.getpid() and len(node) > 16 for host, pid, node in rows)
    assert len({node for _, _, node in rows}) == 2  # one worker per node, both used


def test_a_clip_changed_after_registration_is_refused(on_ray: tuple[Index, Any]) -> None:
    index, summary = on_ray
    bad = [c for c in summary.clips if c.status == "failed"]
    assert len(bad) == 1 and "tampered" in bad[0].path
    assert "changed since it was registered" in bad[0].error
    assert index.db.execute("SELECT COUNT(*) FROM tracks WHERE clip_id = ?", (bad[0].clip_id,)).fetchone() == (0,)
    assert index.db.execute("SELECT status FROM clips WHERE id = ?", (bad[0].clip_id,)).fetchone() == ("failed",)


def test_a_worker_killed_mid_clip_is_retried_and_written_once(
    in_process: Index, registered: Path, cluster: Any, tmp_path: Path
) -> None:
    ray = _ray()
    from rayfaults import MARKER_VAR

    from camfind.analysis import analyze_clips

    marker = tmp_path / "died"
    path = os.pathsep.join([str(ROOT), str(HERE), *[p for p in sys.path if p.startswith(str(ROOT))]])
    ray.init(address=cluster.address, log_to_driver=False, runtime_env={
        "worker_process_setup_hook": "rayfaults.die_once_mid_clip",
        "env_vars": {"PYTHONPATH": path, MARKER_VAR: str(marker)}})
    try:
        index = _copy(registered, tmp_path / "case")
        ids = _clip_ids(index)[:2]
        summary = analyze_clips(index, ids, settings=SETTINGS, ray=cluster.address)
    finally:
        ray.shutdown()
    assert (summary.analyzed, summary.failed) == (2, 0)
    died_pid, died_clip = map(int, marker.read_text().split()[:2])
    runs = index.db.execute("SELECT clip_id, status, worker_pid FROM analysis_runs WHERE clip_id IN (?, ?) "
                            "AND status != 'superseded' ORDER BY clip_id", ids).fetchall()
    assert [(c, s) for c, s, _ in runs] == [(ids[0], "done"), (ids[1], "done")]  # one run each
    assert died_clip in ids and dict((c, p) for c, _, p in runs)[died_clip] != died_pid
    local = [t for t in _tracks(in_process) if t[0] in ids]
    assert _tracks(index) == local  # no duplicate rows, the same tracks
    assert _snapshots(index) == [s for s in _snapshots(in_process) if s[0] in ids]
    index.close()


def test_a_node_lost_mid_clip_has_its_clip_analysed_on_another_node(
    in_process: Index, registered: Path, tmp_path: Path
) -> None:
    """Two worker nodes (none on the head): one's raylet is killed mid-clip; its actor cannot be
    placed again (the other node's CPU is taken), so the clip must go to the other node."""
    ray = _ray()
    from ray.cluster_utils import Cluster
    from rayfaults import MARKER_VAR

    from camfind.analysis import analyze_clips

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    try:
        nodes.add_node(num_cpus=1)
        nodes.add_node(num_cpus=1)
        nodes.wait_for_nodes()
        marker = tmp_path / "lost"
        path = os.pathsep.join([str(ROOT), str(HERE), *[p for p in sys.path if p.startswith(str(ROOT))]])
        ray.init(address=nodes.address, log_to_driver=False, runtime_env={
            "worker_process_setup_hook": "rayfaults.lose_node_once_mid_clip",
            "env_vars": {"PYTHONPATH": path, MARKER_VAR: str(marker)}})
        try:
            index = _copy(registered, tmp_path / "case")
            ids = _clip_ids(index)[:3]
            summary = analyze_clips(index, ids, settings=SETTINGS, ray=nodes.address, workers=2)
        finally:
            ray.shutdown()
    finally:
        with contextlib.suppress(Exception):  # the lost node's processes are gone already
            nodes.shutdown()
    assert (summary.analyzed, summary.failed) == (3, 0), [c.error for c in summary.clips]
    _, died_clip, lost_node, raylet_killed = marker.read_text().split()
    assert raylet_killed == "1"  # the node itself was lost, not only the worker
    runs = index.db.execute("SELECT clip_id, worker_node FROM analysis_runs WHERE status = 'done'").fetchall()
    assert sorted(c for c, _ in runs) == ids
    assert dict(runs)[int(died_clip)] != lost_node  # analysed again on the node still there
    assert _tracks(index) == [t for t in _tracks(in_process) if t[0] in ids]
    index.close()


def test_ctrl_c_on_the_driver_stops_the_cluster_work_and_keeps_the_index_consistent(
    registered: Path, cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ray = _ray()
    from camfind.analysis import run as run_mod

    index = _copy(registered, tmp_path / "case")
    real, written = run_mod._record, []

    def record_then_interrupt(*args: Any) -> Any:
        if written:
            raise KeyboardInterrupt
        written.append(real(*args))
        return written[-1]

    monkeypatch.setattr(run_mod, "_record", record_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_mod.analyze_clips(index, _clip_ids(index)[:4], settings=SETTINGS, ray=cluster.address)
    assert not ray.is_initialized()  # the driver left the cluster (its actors were killed first)
    assert index.db.execute("SELECT status, COUNT(*) FROM analysis_runs GROUP BY status").fetchall() == [("done", 1)]
    clip = written[0].clip_id
    assert index.db.execute("SELECT COUNT(DISTINCT clip_id) FROM tracks").fetchone() == (1,)
    assert index.db.execute("SELECT clip_id FROM tracks LIMIT 1").fetchone() == (clip,)
    assert not list((Path(index.path).parent / "snapshots").glob(".staging-*"))
    index.close()


def test_without_ray_the_option_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, registered: Path,
                                                   tmp_path: Path) -> None:
    from cli_run import run

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as where it is not installed
    shutil.copy(registered, tmp_path / "case.db")
    result = run("--db", tmp_path / "case.db", "analyze", "--ray", "auto")
    assert result.exit_code != 0
    assert "camfind[ray]" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with Index.open(tmp_path / "case.db") as index:
        assert index.db.execute("SELECT COUNT(*) FROM analysis_runs").fetchone() == (0,)


@pytest.mark.parametrize(("address", "said"), [("127.0.0.1:1", "no Ray cluster answers at 127.0.0.1:1"),
                                               ("nonsense", "expected auto or HOST:PORT")])
def test_an_address_without_a_cluster_is_one_clear_error(registered: Path, tmp_path: Path, address: str,
                                                         said: str) -> None:
    _ray()
    from cli_run import run

    shutil.copy(registered, tmp_path / "case.db")
    result = run("--db", tmp_path / "case.db", "analyze", "--ray", address)
    assert result.exit_code != 0 and said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with Index.open(tmp_path / "case.db") as index:
        assert index.db.execute("SELECT COUNT(*) FROM analysis_runs").fetchone() == (0,)
