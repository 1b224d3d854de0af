"""A reconstructed route rendered for the terminal: shared by ``trace`` and ``demo``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from camfind.commands._common import out, show_span

if TYPE_CHECKING:
    from camfind.types import CameraToCheck, Route


def show_route(route: Route, tz: str) -> None:
    """The route as a tree of hops, then the cameras to check as tables."""
    if not route.hops:
        out.print(f"No sighting of {route.target}.")
        return
    tree = Tree(f"[bold]Route of {escape(route.target)}[/bold]: {len(route.hops)} hops")
    for n, hop in enumerate(route.hops, start=1):
        move = [f"heading {hop.direction}"] if hop.direction else []
        if hop.distance_m_from_prev is not None:
            move.append(f"{hop.distance_m_from_prev:.0f} m")
        if hop.speed_kmh_from_prev is not None:
            move.append(f"{hop.speed_kmh_from_prev:.0f} km/h")
        mark = "[green]ok[/green]" if hop.feasible else "[bold red]IMPOSSIBLE[/bold red]"
        branch = tree.add(f"{n}. [bold]{escape(hop.camera_id)}[/bold]  "
                          f"{show_span(hop.first_seen, hop.last_seen, tz, ' .. ')}  {', '.join(move)}  {mark}")
        if hop.note:
            branch.add(f"[red]{escape(hop.note)}[/red]")
        for s in hop.sightings:
            what = f"{s.cls} {s.plate or ''} track {s.track_id or '-'} {s.clip_path} frame {s.frame}"
            branch.add(f"[dim]{escape(what)}[/dim]")
    for gap in route.gaps:
        tree.add(f"[yellow]{escape(f'gap {gap.after_camera_id} -> {gap.before_camera_id}: {gap.note}')}[/yellow]")
    out.print(tree)
    out.print(_check_table("Next cameras to check (footage request list)", route.next_cameras, tz))
    out.print(_check_table("Before the first sighting", route.previous_cameras, tz))


def _check_table(title: str, cams: tuple[CameraToCheck, ...], tz: str) -> Table:
    table = Table(title=title)
    for col in ("camera", "owner", "contact", "window", "footage ingested", "why"):
        table.add_column(col, overflow="fold")
    for c in cams:
        table.add_row(escape(c.camera_id), escape(f"{c.owner_type} {c.owner_name}".strip()),
                      escape(c.owner_contact), show_span(c.window_from, c.window_to, tz, " .. "),
                      "yes" if c.footage_ingested else "[red]no[/red]", escape(c.reason))
    return table
