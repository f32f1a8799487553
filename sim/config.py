"""Scenario configuration: TOML files validated into typed, unit-carrying objects.

A scenario is read with :func:`load_scenario` (a path) or :func:`scenario_from_dict` (a dict).
Unknown keys, wrong types and physically impossible values raise :class:`ConfigError`, whose
message names the file, the key path, the bad value and what is allowed; the CLI prints it as
one line and exits with status 2.
"""
from __future__ import annotations

from pathlib import Path
import tomllib
import typing
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from dosimetry.decay import DOSE_CONSTANT_CONVENTIONS
from sim.config_sim import DoseSpec, FlowSpec, TransportSpec, TreeSpec
from sim.devices import DeviceSpec, KeyValueError as _KeyError, Section as _Section, device_library

DOSE_CONSTANT_NAMES = ("icrp107", "icrp107-electrons", *DOSE_CONSTANT_CONVENTIONS)


class ConfigError(ValueError):
    """Invalid configuration; ``str()`` is the one-line message for the user."""


class Patient(_Section):
    """Patient data used by the planning models and their warnings."""

    height_m: float = Field(default=1.70, gt=0.3, le=2.5)
    weight_kg: float = Field(default=70.0, gt=2.0, le=400.0)
    lung_shunt_fraction: float = Field(default=0.05, ge=0.0, lt=1.0)
    lung_mass_kg: float = Field(default=1.0, gt=0.0, le=5.0)
    prior_lung_dose_Gy: float = Field(default=0.0, ge=0.0, le=1000.0)
    ecog: int | None = Field(default=None, ge=0, le=5)
    bilirubin_mg_dL: float | None = Field(default=None, ge=0.0, le=100.0)
    albumin_g_dL: float | None = Field(default=None, ge=0.0, le=10.0)


class Liver(_Section):
    """Masses of the treated (perfused) volume.

    ``perfused_mass_kg`` includes the tumour; ``tumour_to_normal`` is the T/N ratio of activity
    concentrations the partition model uses (a later simulation measures it instead). With a
    ``[tree]`` section, ``perfused_mass_kg`` may be left out: planning then takes the masses
    and T/N from the tree.
    """

    perfused_mass_kg: float | None = Field(default=None, gt=0.0, le=5.0)
    tumour_mass_kg: float = Field(default=0.0, ge=0.0, le=5.0)
    tumour_to_normal: float = Field(default=1.0, gt=0.0, le=100.0)
    whole_liver_mass_kg: float | None = Field(default=None, gt=0.0, le=6.0)

    @model_validator(mode="after")
    def _masses(self):
        if self.perfused_mass_kg is None:
            return self
        if self.tumour_mass_kg >= self.perfused_mass_kg:
            raise _KeyError("tumour_mass_kg", self.tumour_mass_kg,
                            f"must be less than liver.perfused_mass_kg ({self.perfused_mass_kg})")
        if self.whole_liver_mass_kg is not None and self.whole_liver_mass_kg < self.perfused_mass_kg:
            raise _KeyError("whole_liver_mass_kg", self.whole_liver_mass_kg,
                            f"must be at least liver.perfused_mass_kg ({self.perfused_mass_kg})")
        return self

    @property
    def normal_mass_kg(self) -> float:
        """Perfused normal liver mass [kg]."""
        return self.perfused_mass_kg - self.tumour_mass_kg

    @property
    def tumour_fraction(self) -> float:
        """Tumour involvement of the perfused volume [1]."""
        return self.tumour_mass_kg / self.perfused_mass_kg


class Treatment(_Section):
    """Device, activity and timing."""

    device: str = "glass"
    activity_GBq: float | None = Field(default=None, gt=0.0, le=50.0)
    days_after_calibration: float = Field(default=0.0, ge=-14.0, le=28.0)
    dose_constant: str | float = "icrp107"

    @field_validator("dose_constant")
    @classmethod
    def _dose_constant(cls, v):
        if isinstance(v, str):
            if v.strip().lower() not in DOSE_CONSTANT_NAMES:
                raise ValueError(f"must be one of {', '.join(DOSE_CONSTANT_NAMES)} "
                                 "or a number [Gy kg/GBq]")
            return v.strip().lower()
        if not (0 < v <= 1000):
            raise ValueError("must be a positive number [Gy kg/GBq] (allowed: 0 < K <= 1000)")
        return float(v)


class Plan(_Section):
    """Dose targets of the planning models."""

    mird_dose_Gy: float = Field(default=120.0, gt=0.0, le=2000.0)
    partition_normal_dose_Gy: float | None = Field(default=None, gt=0.0, le=2000.0)
    partition_tumour_dose_Gy: float | None = Field(default=None, gt=0.0, le=5000.0)

    @model_validator(mode="after")
    def _one_target(self):
        if self.partition_normal_dose_Gy is not None and self.partition_tumour_dose_Gy is not None:
            raise _KeyError("partition_tumour_dose_Gy", self.partition_tumour_dose_Gy,
                            "give either partition_normal_dose_Gy or partition_tumour_dose_Gy, "
                            "not both")
        return self

    @property
    def partition_target(self) -> dict:
        """Keyword for :func:`dosimetry.planning.partition` (default: 40 Gy normal liver)."""
        if self.partition_tumour_dose_Gy is not None:
            return {"tumour_dose_Gy": self.partition_tumour_dose_Gy}
        return {"normal_dose_Gy": self.partition_normal_dose_Gy or 40.0}


class Scenario(_Section):
    """A validated scenario. Sections: ``patient``, ``liver``, ``treatment``, ``plan``,
    ``devices`` (custom devices), ``tree``, ``flow``, ``transport``, plus the root ``seed``
    and ``name``. ``liver`` (masses for planning) is required unless a ``tree`` section gives
    the anatomy."""

    name: str = "scenario"
    seed: int = Field(default=20261127, ge=0, lt=2**63)
    patient: Patient = Patient()
    liver: Liver | None = None
    treatment: Treatment = Treatment()
    plan: Plan = Plan()
    devices: dict[str, DeviceSpec] = {}
    tree: TreeSpec | None = None
    flow: FlowSpec = FlowSpec()
    transport: TransportSpec = TransportSpec()
    dose: DoseSpec = DoseSpec()

    @model_validator(mode="after")
    def _anatomy(self):
        if self.liver is None and self.tree is None:
            raise _KeyError("liver", None, "required key is missing (give [liver] masses, "
                            "or a [tree] section)", absolute=True)
        if self.tree is None and self.liver.perfused_mass_kg is None:
            raise _KeyError(("liver", "perfused_mass_kg"), None, "required key is missing "
                            "(or give a [tree] section)", absolute=True)
        return self

    @model_validator(mode="after")
    def _device_known(self):
        lib = device_library(self.devices)
        if self.treatment.device not in lib:
            raise _KeyError(("treatment", "device"), self.treatment.device,
                            f"unknown device (allowed: {', '.join(sorted(lib))})", absolute=True)
        return self

    def device(self):
        """The :class:`sim.devices.Device` of the treatment."""
        return device_library(self.devices)[self.treatment.device]




_BOUND_TYPES = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _field_info(loc: tuple[str, ...]):
    """The pydantic FieldInfo at a key path of :class:`Scenario`, or None."""
    model, info, i = Scenario, None, 0
    while i < len(loc):
        fields = getattr(model, "model_fields", None) or {}
        if loc[i] not in fields:
            return None
        info = fields[loc[i]]
        ann = info.annotation
        if typing.get_origin(ann) is dict:  # devices.NAME: skip the user's key
            model, i = typing.get_args(ann)[1], i + 2
            continue
        model, i = _inner_model(ann), i + 1
    return info


def _inner_model(ann):
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _allowed_range(loc: tuple[str, ...], ctx: dict) -> str:
    """Both bounds of the field at ``loc`` (e.g. ``0.0 <= value < 1.0``)."""
    info = _field_info(loc)
    bounds = {}
    for meta in (info.metadata if info is not None else []):
        for name in _OPS:
            if getattr(meta, name, None) is not None:
                bounds[name] = getattr(meta, name)
    if not bounds:
        bounds = {k: ctx[k] for k in _OPS if ctx.get(k) is not None}
    lower = [f"{bounds[k]} {_OPS[k].replace('>', '<')}" for k in ("gt", "ge") if k in bounds]
    upper = [f"{_OPS[k]} {bounds[k]}" for k in ("lt", "le") if k in bounds]
    return " ".join(lower + ["value"] + upper)


def _fmt_value(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _format_error(source: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = tuple(str(x) for x in err["loc"])
        ctx = err.get("ctx") or {}
        inner = ctx.get("error")
        if isinstance(inner, _KeyError):
            loc = inner.key if inner.absolute else loc + inner.key
            shown = "" if inner.value is None else f" = {_fmt_value(inner.value)}"
            parts.append(f"{'.'.join(loc)}{shown}: {inner}")
            continue
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            parts.append(f"{'.'.join(loc)}: required key is missing")
            continue
        elif "type" in err["type"] or err["type"].endswith("_type"):
            msg = f"wrong type ({type(err['input']).__name__}): {msg.lower()}"
        elif err["type"] in _BOUND_TYPES:
            msg = f"out of range (allowed: {_allowed_range(loc, ctx)})"
        key = ".".join(loc) if loc else "(top level)"
        parts.append(f"{key} = {_fmt_value(err['input'])}: {msg}")
    return f"{source}: " + "; ".join(parts)


def scenario_from_dict(data: dict, source: str = "<config>", base_dir=None) -> Scenario:
    """Validate a scenario dict; relative file paths are resolved against ``base_dir``.

    Raises
    ------
    ConfigError
        Naming ``source``, the key path, the value and what is allowed.
    """
    try:
        return Scenario.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(_format_error(source, exc)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises
    ------
    ConfigError
        Missing file, TOML syntax error or invalid content, with the file named.
    """
    path = Path(path)
    return scenario_from_dict(read_toml(path), str(path), base_dir=path.resolve().parent)


def read_toml(path) -> dict:
    """Parse a TOML file.

    Raises
    ------
    ConfigError
        Missing or unreadable file, or a TOML syntax error, naming the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def scenario_to_toml(scenario: Scenario) -> str:
    """The resolved scenario (defaults filled in) as TOML text, for provenance."""
    from sim.config_sim import _GENERATOR_KEYS

    data = scenario.model_dump(exclude_none=True)
    if "tree" in data:  # only the keys of the chosen generator (the others are refused)
        keep = _GENERATOR_KEYS[data["tree"]["generator"]] | {"generator"}
        data["tree"] = {k: v for k, v in data["tree"].items() if k in keep}
    return _dump_toml(data)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _dump_toml(d: dict, prefix: str = "") -> str:
    scalars = [(k, v) for k, v in d.items() if not isinstance(v, dict)]
    tables = [(k, v) for k, v in d.items() if isinstance(v, dict) and v]
    lines = [f"{k} = {_toml_value(v)}" for k, v in scalars]
    out = "\n".join(lines) + ("\n" if lines else "")
    for k, v in tables:
        name = f"{prefix}{k}"
        has_scalars = any(not isinstance(x, dict) for x in v.values())
        body = _dump_toml(v, name + ".")
        if has_scalars:
            out += f"\n[{name}]\n" + body
        else:
            out += body
    return out
