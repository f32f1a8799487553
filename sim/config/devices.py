"""Microsphere device library: glass, resin and holmium spheres, and custom devices.

The device keys of a scenario are validated against this library, so it lives with the
configuration.

A device is its nuclide, sphere diameter distribution, sphere density, activity per sphere at
calibration and vial rules. From a prescribed activity and a treatment time it gives the
number of spheres and their activity (:meth:`Device.prescribe`).

The built-in devices live in ``sim/data/devices.toml`` with their sources; scenario files add
custom ones under ``[devices.NAME]`` with the same keys.

References
----------
.. [1] El-Haddad G, Strosberg J. Dig Dis Interv 2021;5:103, Table 1.
.. [2] Kallini JR et al. Hepatic Oncology 2014;1(3):265, Table 3.
.. [3] Reinders MTM et al. Cardiovasc Intervent Radiol 2019;42:1240, Table 4.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
import math
import tomllib
from typing import Literal

import numpy as np
from pydantic import Field, model_validator
from scipy import optimize, special, stats

from dosimetry.constants import HOURS_PER_DAY
from dosimetry.decay import get_nuclide, normalise_name
from sim.config.base import KeyValueError, Section

__all__ = ["DiameterSpec", "DeviceSpec", "Device", "Prescription", "device_library",
           "get_device", "device_table", "builtin_specs"]


class DiameterSpec(Section):
    """Sphere diameter distribution [um].

    ``truncnorm``: a normal truncated to [min_um, max_um] whose truncated mean and SD are
    ``mean_um`` and ``sd_um`` (the underlying normal is solved for). ``fixed``: every sphere
    has ``mean_um``.
    """

    kind: Literal["truncnorm", "fixed"] = "truncnorm"
    mean_um: float = Field(gt=0, le=1000)
    sd_um: float = Field(default=0.0, ge=0, le=1000)
    min_um: float | None = Field(default=None, gt=0)
    max_um: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check(self):
        if self.kind == "truncnorm":
            if self.min_um is None or self.max_um is None or self.sd_um <= 0:
                raise ValueError("a truncnorm diameter needs sd_um > 0, min_um and max_um")
            if not (self.min_um < self.mean_um < self.max_um):
                raise ValueError(f"mean_um {self.mean_um} must lie between min_um {self.min_um} "
                                 f"and max_um {self.max_um}")
            # A truncated distribution's SD is at most that of the two-point one.
            sd_max = math.sqrt((self.mean_um - self.min_um) * (self.max_um - self.mean_um))
            if self.sd_um >= sd_max:
                raise ValueError(f"sd_um {self.sd_um} is too large for the range "
                                 f"[{self.min_um}, {self.max_um}] and mean {self.mean_um} "
                                 f"(allowed: < {sd_max:.3g})")
        return self


class DeviceSpec(Section):
    """One device as written in TOML (see ``sim/data/devices.toml``)."""

    name: str
    manufacturer: str = ""
    material: str = ""
    nuclide: str
    density_g_cm3: float = Field(gt=0, le=25)
    diameter: DiameterSpec
    activity_per_sphere_Bq: float | None = Field(default=None, gt=0, le=1e9)
    spheres_per_vial: float | None = Field(default=None, gt=0)
    vial_activities_GBq: list[float] = Field(min_length=1)
    count_model: Literal["whole_vial", "partial_vial"]
    custom_vial_min_GBq: float | None = Field(default=None, gt=0)
    custom_vial_max_GBq: float | None = Field(default=None, gt=0)
    custom_vial_step_GBq: float | None = Field(default=None, gt=0)
    embolic: Literal["none", "minimal", "mild", "moderate"] = "mild"

    @model_validator(mode="after")
    def _check(self):
        try:
            get_nuclide(self.nuclide)
        except ValueError:
            raise KeyValueError("nuclide", self.nuclide, "not a beta-minus emitter of ICRP-107 "
                                "(e.g. 'Y-90', 'Ho-166', 'Lu-177', 'P-32')") from None
        if any(not (a > 0) for a in self.vial_activities_GBq):
            raise ValueError("vial_activities_GBq must all be > 0")
        if self.activity_per_sphere_Bq is None and self.spheres_per_vial is None:
            raise ValueError("give activity_per_sphere_Bq or spheres_per_vial")
        if self.activity_per_sphere_Bq is not None and self.spheres_per_vial is not None:
            derived = self.vial_activities_GBq[0] * 1e9 / self.spheres_per_vial
            if abs(derived / self.activity_per_sphere_Bq - 1.0) > 0.02:
                raise ValueError(
                    f"activity_per_sphere_Bq {self.activity_per_sphere_Bq} disagrees with "
                    f"vial_activities_GBq[0] / spheres_per_vial = {derived:.4g} Bq (allowed: 2 %)")
        return self


@lru_cache(maxsize=64)
def _underlying_normal(mean_um, sd_um, lo, hi) -> tuple[float, float]:
    """(loc, scale) of the normal whose truncation to [lo, hi] has this mean and SD."""

    def resid(p):
        loc, log_s = p
        s = math.exp(log_s)
        m, v = stats.truncnorm.stats((lo - loc) / s, (hi - loc) / s, loc=loc, scale=s, moments="mv")
        return [(float(m) - mean_um) / sd_um, (math.sqrt(float(v)) - sd_um) / sd_um]

    sol = optimize.root(resid, [mean_um, math.log(sd_um)], tol=1e-13)
    if not sol.success or max(abs(r) for r in resid(sol.x)) > 1e-8:
        raise ValueError(f"no truncated normal on [{lo}, {hi}] has mean {mean_um} and SD {sd_um}")
    return float(sol.x[0]), float(math.exp(sol.x[1]))


@dataclass(frozen=True)
class Prescription:
    """Sphere count and activity for a prescribed activity on a treatment day.

    Attributes
    ----------
    activity_GBq : float
        Prescribed (administered) activity at the treatment time [GBq].
    days_after_calibration : float
        Treatment time relative to the vial calibration [days] (negative: before).
    n_spheres : int
        Number of spheres administered.
    activity_per_sphere_Bq : float
        Activity of one sphere at the treatment time [Bq].
    spheres_per_GBq : float
        Spheres per GBq at the treatment time.
    vial_activity_at_calibration_GBq : float
        For whole vials: the calibration activity a vial must have so that it holds the
        prescribed activity at the treatment time; for partial vials: the activity drawn,
        referred back to calibration.
    vial_GBq : float or None
        Whole vials: the nearest orderable vial (calibration activity); None if out of range.
    vial_fraction : float or None
        Partial vials: the fraction of a standard vial drawn (> 1 means several vials).
    warnings : tuple of str
    """

    device: str
    activity_GBq: float
    days_after_calibration: float
    n_spheres: int
    activity_per_sphere_Bq: float
    spheres_per_GBq: float
    vial_activity_at_calibration_GBq: float
    vial_GBq: float | None
    vial_fraction: float | None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain dict with unit-suffixed keys."""
        d = dict(self.__dict__)
        d["warnings"] = list(self.warnings)
        return d


@dataclass(frozen=True)
class Device:
    """A microsphere device (see :class:`DeviceSpec` for the fields' meaning)."""

    key: str
    spec: DeviceSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def nuclide(self) -> str:
        return normalise_name(self.spec.nuclide)

    @property
    def half_life_h(self) -> float:
        return get_nuclide(self.nuclide).half_life_h

    @property
    def activity_per_sphere_at_calibration_Bq(self) -> float:
        """Activity of one sphere at calibration [Bq]."""
        if self.spec.activity_per_sphere_Bq is not None:
            return self.spec.activity_per_sphere_Bq
        return self.spec.vial_activities_GBq[0] * 1e9 / self.spec.spheres_per_vial

    def activity_per_sphere_Bq(self, days_after_calibration=0.0):
        """Activity of one sphere [Bq] at a time after calibration [days] (2^(-t/T1/2))."""
        t_h = np.asarray(days_after_calibration, dtype=float) * HOURS_PER_DAY
        return self.activity_per_sphere_at_calibration_Bq * np.exp2(-t_h / self.half_life_h)

    def spheres_per_GBq(self, days_after_calibration=0.0):
        """Spheres per GBq at a time after calibration [days]: grows as 2^(t/T1/2)."""
        return 1e9 / self.activity_per_sphere_Bq(days_after_calibration)

    def mean_diameter_um(self) -> float:
        """Mean sphere diameter [um]."""
        return self.spec.diameter.mean_um

    def sample_diameters_um(self, n: int, rng=None, dtype=np.float64) -> np.ndarray:
        """Sample ``n`` sphere diameters [um] from the device's distribution.

        Inverse-CDF sampling of the truncated normal, done on the tail nearer to the mean's
        side so it keeps full precision when the truncation lies far in a tail. Computed in
        blocks of 2^20 (the same values as one block: the generator's stream is consumed in
        order), so a float32 ``dtype`` keeps 4 bytes per sphere at the peak.
        """
        rng = np.random.default_rng(rng)
        d = self.spec.diameter
        if d.kind == "fixed":
            return np.full(int(n), d.mean_um, dtype=dtype)
        loc, scale = _underlying_normal(d.mean_um, d.sd_um, d.min_um, d.max_um)
        a, b = (d.min_um - loc) / scale, (d.max_um - loc) / scale
        out = np.empty(int(n), dtype=dtype)
        for start in range(0, int(n), 1 << 20):
            u = rng.random(min(int(n) - start, 1 << 20))
            if a > 0:  # both bounds in the upper tail: sample the mirror image in the lower tail
                lo, hi = special.ndtr(-b), special.ndtr(-a)
                x = -special.ndtri(lo + u * (hi - lo))
            else:
                lo, hi = special.ndtr(a), special.ndtr(b)
                x = special.ndtri(lo + u * (hi - lo))
            out[start:start + u.size] = np.clip(loc + scale * x, d.min_um, d.max_um)
        return out

    def prescribe(self, activity_GBq: float, days_after_calibration: float = 0.0) -> Prescription:
        """Sphere count and activity per sphere for a prescribed activity and treatment day.

        Parameters
        ----------
        activity_GBq : float
            Activity to administer at the treatment time [GBq], > 0.
        days_after_calibration : float
            Treatment time after the vial calibration [days]; negative before it.

        Returns
        -------
        Prescription

        Notes
        -----
        Glass (``whole_vial``): the sphere count of a vial is fixed and its activity decays, so
        the vial must be calibrated to A 2^(t/T1/2) and holds 400,000 spheres per calibrated
        GBq; spheres per administered GBq grow as 2^(t/T1/2). Partial vials: the count is the
        activity drawn over the activity per sphere at the treatment time.
        """
        a = float(activity_GBq)
        if not (a > 0 and math.isfinite(a)):
            raise ValueError(f"activity_GBq: {activity_GBq!r} is out of range (allowed: > 0)")
        t = float(days_after_calibration)
        aps = float(self.activity_per_sphere_Bq(t))
        n = int(round(a * 1e9 / aps))
        a_cal = a * 2.0 ** (t * HOURS_PER_DAY / self.half_life_h)
        warnings = []
        vial = frac = None
        s = self.spec
        if s.count_model == "whole_vial":
            vial = self._orderable_vial(a_cal)
            if vial is None:
                warnings.append(f"no orderable vial: {a_cal:.2f} GBq at calibration is needed "
                                f"on day {t:g} (vials {self._vial_range_text()})")
        else:
            frac = a_cal / s.vial_activities_GBq[0]
            if frac > 1.0:
                warnings.append(f"{frac:.2f} vials are needed: {a:.2f} GBq exceeds one "
                                f"{s.vial_activities_GBq[0]:g} GBq vial on day {t:g}")
        return Prescription(device=self.key, activity_GBq=a, days_after_calibration=t,
                            n_spheres=n, activity_per_sphere_Bq=aps, spheres_per_GBq=1e9 / aps,
                            vial_activity_at_calibration_GBq=a_cal, vial_GBq=vial,
                            vial_fraction=frac, warnings=tuple(warnings))

    def _orderable_vial(self, a_cal: float) -> float | None:
        s = self.spec
        if s.custom_vial_step_GBq and s.custom_vial_min_GBq and s.custom_vial_max_GBq:
            lo, hi, step = s.custom_vial_min_GBq, s.custom_vial_max_GBq, s.custom_vial_step_GBq
            if a_cal < lo - 0.5 * step or a_cal > hi + 0.5 * step:
                return None
            return float(min(max(round(a_cal / step) * step, lo), hi))
        sizes = np.asarray(s.vial_activities_GBq)
        if a_cal > sizes.max() * 1.05:
            return None
        return float(sizes[np.argmin(np.abs(sizes - a_cal))])

    def _vial_range_text(self) -> str:
        s = self.spec
        if s.custom_vial_min_GBq and s.custom_vial_max_GBq:
            return f"{s.custom_vial_min_GBq:g}-{s.custom_vial_max_GBq:g} GBq"
        return ", ".join(f"{v:g}" for v in s.vial_activities_GBq) + " GBq"


def builtin_specs() -> dict[str, dict]:
    """The built-in device table as raw TOML dicts (keys: ``glass``, ``resin``, ``holmium``)."""
    text = resources.files("sim").joinpath("data/devices.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@lru_cache(maxsize=1)
def _builtin_devices() -> dict[str, Device]:
    return {k: Device(k, DeviceSpec.model_validate(v)) for k, v in builtin_specs().items()}


def device_library(custom: dict[str, DeviceSpec] | None = None) -> dict[str, Device]:
    """Built-in devices plus custom ones (a custom key may replace a built-in one)."""
    lib = dict(_builtin_devices())
    for key, spec in (custom or {}).items():
        lib[key] = Device(key, spec)
    return lib


def get_device(key: str, custom: dict[str, DeviceSpec] | None = None) -> Device:
    """Look a device up by key (``"glass"``, ``"resin"``, ``"holmium"`` or a custom key).

    Raises
    ------
    ValueError
        Unknown device, naming the allowed keys.

    Examples
    --------
    Glass on day 4 after calibration: the vial's fixed sphere count makes 3 GBq more spheres.

    >>> rx = get_device("glass").prescribe(3.0, days_after_calibration=4)
    >>> round(rx.n_spheres / 1e6, 2)
    3.39
    """
    lib = device_library(custom)
    if key not in lib:
        raise ValueError(f"device {key!r} is unknown (allowed: {', '.join(sorted(lib))})")
    return lib[key]


def device_table(days_after_calibration: float = 0.0, activity_GBq: float | None = None,
                 custom: dict[str, DeviceSpec] | None = None) -> list[dict]:
    """One row per device: sphere counts and activity per sphere on a treatment day.

    Parameters
    ----------
    days_after_calibration : float
        Treatment day relative to calibration [days].
    activity_GBq : float, optional
        Administered activity for the sphere count column [GBq]. Default: the content of each
        device's first standard vial on that day (its calibration activity decayed to the day,
        with the vial's fixed sphere count).
    """
    rows = []
    for key, dev in device_library(custom).items():
        s = dev.spec
        if activity_GBq is None:
            a = float(s.vial_activities_GBq[0] * np.exp2(
                -days_after_calibration * HOURS_PER_DAY / dev.half_life_h))
        else:
            a = activity_GBq
        p = dev.prescribe(a, days_after_calibration)
        rows.append({
            "device": key, "name": s.name, "nuclide": dev.nuclide, "material": s.material,
            "half_life_h": dev.half_life_h,
            "mean_diameter_um": s.diameter.mean_um,
            "diameter_range_um": [s.diameter.min_um or s.diameter.mean_um,
                                  s.diameter.max_um or s.diameter.mean_um],
            "density_g_cm3": s.density_g_cm3,
            "activity_per_sphere_at_calibration_Bq": dev.activity_per_sphere_at_calibration_Bq,
            "days_after_calibration": float(days_after_calibration),
            "activity_per_sphere_Bq": p.activity_per_sphere_Bq,
            "spheres_per_GBq": p.spheres_per_GBq,
            "activity_GBq": a,
            "n_spheres": p.n_spheres,
            "vial_activities_GBq": list(s.vial_activities_GBq),
            "count_model": s.count_model,
            "embolic": s.embolic,
        })
    return rows
