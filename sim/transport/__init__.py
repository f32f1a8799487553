"""Microsphere transport through the arterial tree, one sphere at a time, with the embolic
effect, lung shunt, stasis and reflux; statistics and figures of the deposition."""
from sim.config.stages import TransportParams
from sim.transport.fates import FATE_NAMES, LIVER, LUNG, REFLUX, UNDELIVERED
from sim.transport.model import (Deposition, injection_segment, sphere_positions,
                                 straight_children, transport_spheres)
from sim.transport.stats import activity_per_segment_Bq, deposition_summary, spheres_per_segment

__all__ = ["transport_spheres", "Deposition", "TransportParams", "injection_segment",
           "straight_children", "sphere_positions", "deposition_summary",
           "spheres_per_segment", "activity_per_segment_Bq", "FATE_NAMES", "LIVER", "LUNG",
           "REFLUX", "UNDELIVERED"]
