"""The camera network graph: neighbours, declared vs straight-line lengths, paths, reach."""

from __future__ import annotations

import pytest

from camfind.errors import NotFoundError
from camfind.geo import haversine_m
from camfind.index import Index
from camfind.network import load_network
from camfind.types import Camera


@pytest.fixture
def net_index(index: Index) -> Index:
    index.writer.upsert_cameras([
        Camera("A", 10.7700, 106.7000, neighbors=("B",)),
        Camera("B", 10.7710, 106.7000, neighbors=("C",)),
        Camera("C", 10.7720, 106.7000),
        Camera("D", 10.7700, 106.7010),  # not linked
    ])
    index.writer.link("A", "C", 1000.0)  # a declared long way round
    return index


def test_neighbours_and_lengths(net_index: Index) -> None:
    net = load_network(net_index)
    assert net.neighbors("A") == ["B", "C"] and net.neighbors("D") == []
    assert net.link_m("A", "B") == pytest.approx(haversine_m(10.77, 106.7, 10.771, 106.7))
    assert net.link_m("A", "C") == 1000.0 and net.link_m("A", "D") is None
    assert [(x.a, x.b, x.declared_m) for x in net.links()] == [("A", "B", None), ("A", "C", 1000.0), ("B", "C", None)]


def test_paths(net_index: Index) -> None:
    net = load_network(net_index)
    assert net.shortest_path("A", "C") == ["A", "B", "C"]
    assert net.path_length_m("A", "C") == pytest.approx(2 * 111.2, abs=1)
    assert net.path_length_m("A", "D") is None and net.shortest_path("A", "D") is None
    assert net.travel_m("A", "D") == pytest.approx(net.distance_m("A", "D"))
    assert list(net.within("A", 150)) == ["B"]
    assert [c for c, _ in net.nearby("A", 120)] == ["D", "B"]  # 109 m east, 111 m north
    assert net.nearest(10.7719, 106.7, k=1)[0][0] == "C"
    assert round(net.bearing_deg("A", "D")) == 90


def test_unknown_camera(net_index: Index) -> None:
    with pytest.raises(NotFoundError, match="Z"):
        load_network(net_index).neighbors("Z")
