"""The trace report: one self-contained HTML page (no network needed to open it).

Inline CSS, a few lines of inline JS and an inline SVG map: camera positions projected from
lat/lon, the route drawn hop by hop (impossible hops dashed red), the cameras to check next and
before. Below it, the hops as a timeline with their snapshots embedded as ``data:`` URIs, the gaps
and the footage request list.

>>> from camfind.types import Route
>>> page = render_report(Route("plate 51F-123.45", ()), {})
>>> page.startswith("<!doctype html>") and "51F-123.45" in page
True
"""

from __future__ import annotations

import base64
import html
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from camfind import __version__
from camfind.timeutil import DEFAULT_TZ, show_local
from camfind.types import Camera, CameraToCheck, Hop, Route

logger = logging.getLogger(__name__)

W, H, PAD = 960, 560, 48
MAX_SNAPSHOTS_PER_HOP = 3
_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header,section,footer{max-width:1040px;margin:0 auto;padding:12px 20px}
h1{font-size:22px;margin:14px 0 4px}h2{font-size:17px;margin:18px 0 8px}
.summary{color:#4a5263}.map{background:#fff;border:1px solid #d6d9e0;border-radius:6px}
svg{width:100%;height:auto;display:block}
.cam{fill:#9aa3b5}.camlabel{font-size:11px;fill:#4a5263}
.seg{stroke:#1f6feb;stroke-width:3;fill:none}.seg.bad{stroke:#d1242f;stroke-dasharray:7 5}
.hopdot{fill:#1f6feb;stroke:#fff;stroke-width:2;cursor:pointer}.hopdot.bad{fill:#d1242f}
.hopnum{font-size:11px;fill:#fff;font-weight:700;pointer-events:none}
.next{fill:none;stroke:#e67700;stroke-width:2.5}.prev{fill:none;stroke:#8250df;stroke-width:2.5}
.lead{stroke:#e67700;stroke-dasharray:3 4;stroke-width:1.5}.lead.p{stroke:#8250df}
.legend span{margin-right:16px}.sw{display:inline-block;width:18px;height:4px;vertical-align:middle;margin-right:4px}
ol.hops{list-style:none;padding:0}ol.hops li{background:#fff;border:1px solid #d6d9e0;border-left:5px solid #1f6feb;
border-radius:6px;margin:8px 0;padding:10px 12px}ol.hops li.bad{border-left-color:#d1242f}
ol.hops li.hl{box-shadow:0 0 0 3px #ffd33d}.when{font-weight:600}.muted{color:#5d6577}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;background:#dafbe1;color:#116329}
.badge.bad{background:#ffebe9;color:#a40e26}.note{margin-top:4px;color:#a40e26}
.snaps img{height:96px;margin:6px 6px 0 0;border:1px solid #d6d9e0;border-radius:4px}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border:1px solid #d6d9e0;padding:5px 8px;text-align:left}
th{background:#eef0f4}.yes{color:#116329;font-weight:600}.no{color:#a40e26;font-weight:600}
"""

_BADGE_OK = "<span class=\"badge\">feasible</span>"
_BADGE_BAD = "<span class=\"badge bad\">impossible</span>"

_JS = """
document.querySelectorAll('[data-hop]').forEach(function(el){el.addEventListener('click',function(){
  var li=document.getElementById('hop-'+el.getAttribute('data-hop'));if(!li)return;
  document.querySelectorAll('ol.hops li').forEach(function(x){x.classList.remove('hl')});
  li.classList.add('hl');li.scrollIntoView({behavior:'smooth',block:'center'});});});
"""


def render_report(
    route: Route, cameras: Mapping[str, Camera], tz: str = DEFAULT_TZ, index_path: str = ""
) -> str:
    """The whole HTML page for a route."""
    e = html.escape
    hops = route.hops
    if hops:
        span = f"{show_local(hops[0].first_seen, tz)} to {show_local(hops[-1].last_seen, tz)} ({tz})"
        bad = sum(1 for h in hops if not h.feasible)
        summary = f"{len(hops)} hops, {span}" + (f"; {bad} impossible hop(s) flagged" if bad else "")
    else:
        summary = "no sighting of the target"
    made = f"camfind {__version__}, {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    return "".join([
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">",
        f"<title>camfind trace: {e(route.target)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>Route of {e(route.target)}</h1><p class=\"summary\">{e(summary)}</p></header>",
        f"<section class=\"map\">{render_map(route, cameras)}{_legend()}</section>",
        f"<section><h2>Hops</h2>{_hops_html(hops, cameras, tz)}</section>",
        _gaps_html(route, tz),
        _check_html("Next cameras to check (footage request list)", route.next_cameras, tz),
        _check_html("Where it came from: cameras before the first sighting", route.previous_cameras, tz),
        f"<footer class=\"muted\">Made by {e(made)}{' from ' + e(index_path) if index_path else ''}.</footer>",
        f"<script>{_JS}</script></body></html>\n",
    ])


# -- the map ------------------------------------------------------------------------------------
class _Projection:
    """Equirectangular projection of lat/lon onto the SVG box, fitted to some cameras."""

    def __init__(self, cams: Sequence[Camera]) -> None:
        lats = [c.lat for c in cams] or [0.0]
        lons = [c.lon for c in cams] or [0.0]
        self.kx = math.cos(math.radians((min(lats) + max(lats)) / 2))
        self.lat1, self.lon0 = max(lats), min(lons)
        wx = max((max(lons) - self.lon0) * self.kx, 1e-6)
        wy = max(self.lat1 - min(lats), 1e-6)
        self.scale = min((W - 2 * PAD) / wx, (H - 2 * PAD) / wy)
        self.ox = (W - wx * self.scale) / 2
        self.oy = (H - wy * self.scale) / 2

    def xy(self, cam: Camera) -> tuple[float, float]:
        x = self.ox + (cam.lon - self.lon0) * self.kx * self.scale
        y = self.oy + (self.lat1 - cam.lat) * self.scale
        return round(x, 1), round(y, 1)


def render_map(route: Route, cameras: Mapping[str, Camera]) -> str:
    """The inline SVG: cameras, the route, the cameras to check."""
    ids = [h.camera_id for h in route.hops] + [c.camera_id for c in (*route.next_cameras, *route.previous_cameras)]
    focus = [cameras[i] for i in dict.fromkeys(ids) if i in cameras] or list(cameras.values())
    proj = _Projection(focus)
    parts = [f"<svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"route map\">",
             "<rect width=\"100%\" height=\"100%\" fill=\"#fbfcfd\"/>"]
    shown = [c for c in cameras.values() if _inside(proj.xy(c))]
    for cam in shown:
        x, y = proj.xy(cam)
        parts.append(f"<circle class=\"cam\" cx=\"{x}\" cy=\"{y}\" r=\"4\"><title>{_cam_title(cam)}</title></circle>"
                     f"<text class=\"camlabel\" x=\"{x + 7}\" y=\"{y - 7}\">{html.escape(cam.id)}</text>")
    parts += _frontier_svg(route, cameras, proj)
    parts += _route_svg(route.hops, cameras, proj)
    parts.append(_scale_bar(proj))
    parts.append("</svg>")
    return "".join(parts)


def _scale_bar(proj: _Projection) -> str:
    """A scale bar of a round length (about 120 px) and a north mark, bottom left."""
    px_per_m = proj.scale / 111_195.0
    metres = min((m for m in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)
                  if m * px_per_m >= 80), default=100_000)
    length = round(metres * px_per_m, 1)
    label = f"{metres // 1000} km" if metres >= 1000 else f"{metres} m"
    y = H - 18
    return (f"<g class=\"camlabel\"><line x1=\"16\" y1=\"{y}\" x2=\"{16 + length}\" y2=\"{y}\" "
            f"stroke=\"#4a5263\" stroke-width=\"2\"/><text x=\"16\" y=\"{y - 6}\">{label}</text>"
            f"<text x=\"{W - 24}\" y=\"24\" font-weight=\"700\">N</text>"
            f"<line x1=\"{W - 20}\" y1=\"30\" x2=\"{W - 20}\" y2=\"52\" stroke=\"#4a5263\" stroke-width=\"2\"/></g>")


def _inside(xy: tuple[float, float]) -> bool:
    return -10 <= xy[0] <= W + 10 and -10 <= xy[1] <= H + 10


def _cam_title(cam: Camera) -> str:
    owner = f", {cam.owner_type}" + (f": {cam.owner_name}" if cam.owner_name else "")
    return html.escape(f"{cam.id} {cam.name}{owner}")


def _route_svg(hops: Sequence[Hop], cameras: Mapping[str, Camera], proj: _Projection) -> list[str]:
    parts = []
    pts = [(h, proj.xy(cameras[h.camera_id])) for h in hops if h.camera_id in cameras]
    for (_, a), (hop, b) in zip(pts, pts[1:], strict=False):
        cls = "seg" if hop.feasible else "seg bad"
        parts.append(f"<line class=\"{cls}\" x1=\"{a[0]}\" y1=\"{a[1]}\" x2=\"{b[0]}\" y2=\"{b[1]}\"/>")
    seen: dict[tuple[float, float], int] = {}
    for n, (hop, (x, y)) in enumerate(pts, start=1):
        k = seen.get((x, y), 0)
        seen[(x, y)] = k + 1
        x, y = x + 14 * k, y - 14 * k  # revisits of a camera fan out
        cls = "hopdot" if hop.feasible else "hopdot bad"
        tip = html.escape(f"{n}. {hop.camera_id} {hop.first_seen:%H:%M:%S}Z")
        parts.append(f"<circle class=\"{cls}\" data-hop=\"{n}\" cx=\"{x}\" cy=\"{y}\" r=\"10\"><title>{tip}</title>"
                     f"</circle><text class=\"hopnum\" x=\"{x}\" y=\"{y + 4}\" text-anchor=\"middle\">{n}</text>")
    return parts


def _frontier_svg(route: Route, cameras: Mapping[str, Camera], proj: _Projection) -> list[str]:
    parts: list[str] = []
    if not route.hops:
        return parts
    sides = ((route.next_cameras, route.hops[-1], "next"), (route.previous_cameras, route.hops[0], "prev"))
    for group, edge, cls in sides:
        if edge.camera_id not in cameras:
            continue
        ex, ey = proj.xy(cameras[edge.camera_id])
        for c in group:
            if c.camera_id not in cameras:
                continue
            x, y = proj.xy(cameras[c.camera_id])
            lead = "lead" if cls == "next" else "lead p"
            tip = html.escape(f"{c.camera_id}: {'footage ingested' if c.footage_ingested else 'request footage'}")
            parts.append(f"<line class=\"{lead}\" x1=\"{ex}\" y1=\"{ey}\" x2=\"{x}\" y2=\"{y}\"/>"
                         f"<circle class=\"{cls}\" cx=\"{x}\" cy=\"{y}\" r=\"9\"><title>{tip}</title></circle>")
    return parts


def _legend() -> str:
    items = [("#1f6feb", "route"), ("#d1242f", "impossible hop"), ("#e67700", "next cameras to check"),
             ("#8250df", "cameras before the first sighting"), ("#9aa3b5", "other cameras")]
    spans = "".join(f"<span><i class=\"sw\" style=\"background:{c}\"></i>{t}</span>" for c, t in items)
    return f"<p class=\"legend\" style=\"padding:0 12px\">{spans}</p>"


# -- the lists ----------------------------------------------------------------------------------
def _hops_html(hops: Sequence[Hop], cameras: Mapping[str, Camera], tz: str) -> str:
    if not hops:
        return "<p class=\"muted\">No sighting matched.</p>"
    e = html.escape
    items = []
    for n, hop in enumerate(hops, start=1):
        cam = cameras.get(hop.camera_id)
        name = f" {cam.name}" if cam and cam.name else ""
        owner = f" ({cam.owner_type}{': ' + cam.owner_name if cam.owner_name else ''})" if cam else ""
        move = []
        if hop.direction:
            move.append(f"heading {hop.direction}")
        if hop.distance_m_from_prev is not None:
            move.append(f"{hop.distance_m_from_prev:.0f} m from previous")
        if hop.speed_kmh_from_prev is not None:
            move.append(f"{hop.speed_kmh_from_prev:.0f} km/h")
        badge = _BADGE_OK if hop.feasible else _BADGE_BAD
        note = f"<div class=\"note\">{e(hop.note)}</div>" if hop.note else ""
        items.append(
            f"<li id=\"hop-{n}\" class=\"{'' if hop.feasible else 'bad'}\"><span class=\"when\">{n}. "
            f"{e(show_local(hop.first_seen, tz))} to {e(show_local(hop.last_seen, tz))}</span> "
            f"at <b>{e(hop.camera_id)}</b>{e(name)}<span class=\"muted\">{e(owner)}</span> {badge}"
            f"<div class=\"muted\">{e(', '.join(move))}; {len(hop.sightings)} sighting(s)</div>{note}"
            f"<div class=\"snaps\">{_snapshots(hop)}</div></li>"
        )
    return f"<ol class=\"hops\">{''.join(items)}</ol>"


def _snapshots(hop: Hop) -> str:
    paths = list(dict.fromkeys(s.snapshot for s in hop.sightings if s.snapshot))[:MAX_SNAPSHOTS_PER_HOP]
    return "".join(_img(p) for p in paths)


def _img(path: str) -> str:
    p = Path(path)
    mime = _MIME.get(p.suffix.lower())
    try:
        data = p.read_bytes() if mime else b""
    except OSError:
        data = b""
    if not data:
        return f"<span class=\"muted\">[snapshot not available: {html.escape(p.name)}]</span>"
    b64 = base64.b64encode(data).decode("ascii")
    return f"<img alt=\"{html.escape(p.name)}\" title=\"{html.escape(path)}\" src=\"data:{mime};base64,{b64}\">"


def _gaps_html(route: Route, tz: str) -> str:
    if not route.gaps:
        return ""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(g.after_camera_id or '')} to {e(g.before_camera_id or '')}</td>"
        f"<td>{e(show_local(g.time_from, tz))} to {e(show_local(g.time_to, tz))}</td><td>{e(g.note)}</td></tr>"
        for g in route.gaps
    )
    return f"<section><h2>Gaps</h2><table><tr><th>between</th><th>when</th><th>what</th></tr>{rows}</table></section>"


def _check_html(title: str, cams: Iterable[CameraToCheck], tz: str) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td><b>{e(c.camera_id)}</b></td><td>{e(c.owner_type)}</td><td>{e(c.owner_name)}</td>"
        f"<td>{e(c.owner_contact)}</td><td>{e(show_local(c.window_from, tz))} to {e(show_local(c.window_to, tz))}</td>"
        f"<td class=\"{'yes' if c.footage_ingested else 'no'}\">{'yes' if c.footage_ingested else 'no'}</td>"
        f"<td>{e(c.reason)}</td></tr>"
        for c in cams
    )
    if not rows:
        return f"<section><h2>{e(title)}</h2><p class=\"muted\">None in the network.</p></section>"
    head = "<tr><th>camera</th><th>owner type</th><th>owner</th><th>contact</th><th>window</th>" \
           "<th>footage ingested</th><th>why</th></tr>"
    return f"<section><h2>{e(title)}</h2><table>{head}{rows}</table></section>"
