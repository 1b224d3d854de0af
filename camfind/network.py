"""The camera network: a graph of cameras (networkx) whose edges are declared neighbour links.

Edge length is the declared ``meters`` of a link, else the great-circle distance between the
two cameras. Trace uses it to ask: which cameras neighbour this one, how far apart are two
cameras (straight line, or along the network), which cameras lie within reach.

>>> from camfind.index import Index
>>> from camfind.types import Camera
>>> idx = Index.open(":memory:", create=True)
>>> _ = idx.writer.upsert_cameras([
...     Camera("A", 10.770, 106.700, neighbors=("B",)),
...     Camera("B", 10.771, 106.700, neighbors=("C",)),
...     Camera("C", 10.772, 106.700)])
>>> net = load_network(idx)
>>> net.neighbors("B")
['A', 'C']
>>> round(net.path_length_m("A", "C"))
222
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

from camfind.errors import NotFoundError
from camfind.geo import bearing_deg, haversine_m
from camfind.types import Camera

if TYPE_CHECKING:
    from camfind.index import Index

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Link:
    """An edge of the network: two cameras and how far apart they are along it."""

    a: str
    b: str
    meters: float
    declared_m: float | None
    source: str


class CameraNetwork:
    """Cameras as graph nodes (attribute ``camera``), links as edges (attribute ``meters``)."""

    def __init__(self, cameras: Iterable[Camera], links: Iterable[tuple[str, str, float | None, str]]):
        self.graph: nx.Graph[str] = nx.Graph()
        for cam in cameras:
            self.graph.add_node(cam.id, camera=cam, lat=cam.lat, lon=cam.lon)
        for a, b, meters, source in links:
            if a not in self.graph or b not in self.graph:
                logger.warning("link %s-%s names an unknown camera; ignored", a, b)
                continue
            straight = self.distance_m(a, b)
            self.graph.add_edge(
                a, b, meters=straight if meters is None else float(meters), declared_m=meters, source=source
            )

    # -- cameras --------------------------------------------------------------------------------
    def __contains__(self, camera_id: object) -> bool:
        return camera_id in self.graph

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())

    @property
    def camera_ids(self) -> list[str]:
        return sorted(self.graph.nodes)

    def camera(self, camera_id: str) -> Camera:
        """The camera called ``camera_id`` (NotFoundError if it is not in the network)."""
        self._check(camera_id)
        cam: Camera = self.graph.nodes[camera_id]["camera"]
        return cam

    def _check(self, *ids: str) -> None:
        for cid in ids:
            if cid not in self.graph:
                raise NotFoundError(f"unknown camera {cid!r}: not in the camera network")

    # -- links ----------------------------------------------------------------------------------
    def neighbors(self, camera_id: str) -> list[str]:
        """Declared neighbours of a camera, sorted by id."""
        self._check(camera_id)
        return sorted(self.graph.neighbors(camera_id))

    def links(self) -> list[Link]:
        """Every edge, ordered."""
        out = []
        for a, b, data in self.graph.edges(data=True):
            lo, hi = sorted((a, b))
            out.append(Link(lo, hi, float(data["meters"]), data["declared_m"], data["source"]))
        return sorted(out, key=lambda link: (link.a, link.b))

    def link_m(self, a: str, b: str) -> float | None:
        """Length of the direct link a-b, or None if they are not neighbours."""
        self._check(a, b)
        data = self.graph.get_edge_data(a, b)
        return None if data is None else float(data["meters"])

    # -- distances ------------------------------------------------------------------------------
    def distance_m(self, a: str, b: str) -> float:
        """Straight-line (great-circle) distance between two cameras, in metres."""
        ca, cb = self.camera(a), self.camera(b)
        return haversine_m(ca.lat, ca.lon, cb.lat, cb.lon)

    def bearing_deg(self, a: str, b: str) -> float:
        """Compass bearing from camera ``a`` to camera ``b`` (0 = north, 90 = east)."""
        ca, cb = self.camera(a), self.camera(b)
        return bearing_deg(ca.lat, ca.lon, cb.lat, cb.lon)

    def path_length_m(self, a: str, b: str) -> float | None:
        """Shortest distance from ``a`` to ``b`` along links (metres), None if not connected."""
        self._check(a, b)
        try:
            return float(nx.shortest_path_length(self.graph, a, b, weight="meters"))
        except nx.NetworkXNoPath:
            return None

    def shortest_path(self, a: str, b: str) -> list[str] | None:
        """Cameras on the shortest route from ``a`` to ``b`` along links, None if not connected."""
        self._check(a, b)
        try:
            return list(nx.shortest_path(self.graph, a, b, weight="meters"))
        except nx.NetworkXNoPath:
            return None

    def travel_m(self, a: str, b: str) -> float:
        """Best estimate of the distance travelled from ``a`` to ``b``: along links when they
        connect, else straight line."""
        along = self.path_length_m(a, b)
        return self.distance_m(a, b) if along is None else along

    def within(self, camera_id: str, meters: float) -> dict[str, float]:
        """Cameras reachable along links within ``meters`` of ``camera_id`` (itself excluded)."""
        self._check(camera_id)
        reach = nx.single_source_dijkstra_path_length(self.graph, camera_id, cutoff=meters, weight="meters")
        return {cid: float(d) for cid, d in sorted(reach.items(), key=lambda kv: kv[1]) if cid != camera_id}

    def nearby(self, camera_id: str, radius_m: float) -> list[tuple[str, float]]:
        """Cameras within ``radius_m`` in a straight line, nearest first (itself excluded)."""
        self._check(camera_id)
        found = [(cid, self.distance_m(camera_id, cid)) for cid in self.graph.nodes if cid != camera_id]
        return sorted(((c, d) for c, d in found if d <= radius_m), key=lambda cd: (cd[1], cd[0]))

    def nearest(self, lat: float, lon: float, k: int = 1) -> list[tuple[str, float]]:
        """The ``k`` cameras nearest a point, with their distances in metres."""
        found = [(cid, haversine_m(lat, lon, d["lat"], d["lon"])) for cid, d in self.graph.nodes(data=True)]
        return sorted(found, key=lambda cd: (cd[1], cd[0]))[:k]


def load_network(index: Index) -> CameraNetwork:
    """The camera network of an index: every camera, every link."""
    from camfind.index.queries import list_cameras, list_links

    links = [(link.a, link.b, link.meters, link.source) for link in list_links(index)]
    return CameraNetwork(list_cameras(index), links)
