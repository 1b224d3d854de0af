"""Camera clock offsets: estimated from co-sightings over the network (:mod:`camfind.clocks.fit`,
:mod:`camfind.clocks.estimate`), recorded and listed (:mod:`camfind.clocks.apply`)."""

from camfind.clocks.fit import Anchor, CameraOffset, ClockFit, CoSighting, FitOptions, fit_offsets

__all__ = ["Anchor", "CameraOffset", "ClockFit", "CoSighting", "FitOptions", "fit_offsets"]
