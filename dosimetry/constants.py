"""Physical constants and reference tissue values used across taresim (each defined once).

References
----------
.. [1] CODATA 2018: elementary charge e = 1.602176634e-19 C (exact), hence 1 MeV =
       1.602176634e-13 J.
.. [2] ICRU Report 46 (1992), Photon, electron, proton and neutron interaction data for body
       tissues: adult liver 1.06 g/cm^3; ICRU soft tissue 1.04 g/cm^3 (the medium of the
       voxel S values of Lanconelli N et al., Phys Med Biol 2012;57:517).
.. [3] Gulec SA, Pennington K, Wheeler J et al. J Nucl Med 2010;51:301: the classic hepatic
       lobule, a hexagonal prism of apothem 0.6 mm (side 0.693 mm) and height 1.5 mm.
"""
from __future__ import annotations

import math

__all__ = ["J_PER_MEV", "SECONDS_PER_HOUR", "HOURS_PER_DAY", "LN2", "LIVER_DENSITY_G_CM3",
           "SOFT_TISSUE_DENSITY_G_CM3", "LOBULE_APOTHEM_MM", "LOBULE_HEIGHT_MM",
           "LOBULE_VOLUME_MM3", "LOBULE_BALL_RADIUS_MM"]

#: Joules per MeV [J/MeV] ([1]).
J_PER_MEV = 1.602176634e-13
SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24.0
LN2 = math.log(2.0)

#: Density of adult liver [g/cm^3] ([2]); the default tissue density of every dose calculation.
LIVER_DENSITY_G_CM3 = 1.06
#: Density of ICRU soft tissue [g/cm^3] ([2]); used where published voxel S values are compared.
SOFT_TISSUE_DENSITY_G_CM3 = 1.04

#: Classic lobule ([3]): apothem [mm] and height [mm] of the hexagonal prism.
LOBULE_APOTHEM_MM = 0.6
LOBULE_HEIGHT_MM = 1.5
#: Volume of the classic lobule: 2 sqrt(3) a^2 h = 1.8706 mm^3.
LOBULE_VOLUME_MM3 = 2.0 * math.sqrt(3.0) * LOBULE_APOTHEM_MM**2 * LOBULE_HEIGHT_MM
#: Radius of the ball with the classic lobule's volume [mm] (0.7646 mm).
LOBULE_BALL_RADIUS_MM = (3.0 * LOBULE_VOLUME_MM3 / (4.0 * math.pi)) ** (1.0 / 3.0)
