"""Microsphere transport through the arterial tree with the embolic effect, lung shunt, stasis
and reflux, by exact engines whose cost per sphere does not grow with the tree's depth
(:mod:`sim.transport.engines`); statistics and figures of the deposition."""
from sim.config.stages import TransportParams
from sim.transport.engines import ENGINES, transport_parcels
from sim.transport.fates import FATE_NAMES, LIVER, LUNG, REFLUX, UNDELIVERED
from sim.transport.model import (Deposition, injection_segment, sphere_positions,
                                 straight_children, transport_spheres)
from sim.transport.stats import activity_per_segment_Bq, deposition_summary, spheres_per_segment

__all__ = ["transport_spheres", "transport_parcels", "ENGINES", "Deposition",
           "TransportParams", "injection_segment", "straight_children", "sphere_positions",
           "deposition_summary", "spheres_per_segment", "activity_per_segment_Bq",
           "FATE_NAMES", "LIVER", "LUNG", "REFLUX", "UNDELIVERED"]
