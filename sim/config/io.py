"""Reading, writing and overriding scenarios (TOML files, dicts, ``--set key=value``)."""
from __future__ import annotations

import copy
from pathlib import Path
import tomllib

import tomli_w

from pydantic import ValidationError

from sim.config.errors import ConfigError, format_validation_error
from sim.config.stages import GENERATOR_KEYS
from sim.config.scenario import Scenario

__all__ = ["scenario_from_dict", "load_scenario", "read_toml", "scenario_to_toml",
           "apply_overrides", "resolve_scenario"]


def scenario_from_dict(data: dict, source: str = "<config>", base_dir=None) -> Scenario:
    """Validate a scenario dict; relative file paths are resolved against ``base_dir``.

    Raises
    ------
    ConfigError
        Naming ``source``, the key path, the value and what is allowed.

    Examples
    --------
    >>> s = scenario_from_dict({"liver": {"perfused_mass_kg": 1.5}})
    >>> s.treatment.device, s.device().nuclide
    ('glass', 'Y-90')
    >>> scenario_from_dict({"liver": {"perfused_mass_kg": -1.0}})
    Traceback (most recent call last):
    ...
    sim.config.errors.ConfigError: <config>: liver.perfused_mass_kg = -1.0: out of range (allowed: 0.0 < value <= 5.0)
    """
    try:
        return Scenario.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc, Scenario)) from None


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
    data = scenario.model_dump(exclude_none=True)
    if "tree" in data:  # only the keys of the chosen generator (the others are refused)
        keep = GENERATOR_KEYS[data["tree"]["generator"]] | {"generator"}
        data["tree"] = {k: v for k, v in data["tree"].items() if k in keep}
    return tomli_w.dumps(data)


def apply_overrides(data: dict, overrides=(), source="--set") -> dict:
    """Apply ``key.path=value`` overrides to a raw scenario dict (values parsed as TOML,
    bare words as strings)."""
    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"{source} {item!r}: expected key.path=value")
        key, raw = item.split("=", 1)
        key = key.strip()
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            if isinstance(node, list):
                try:
                    node = node[int(part)]
                    continue
                except (ValueError, IndexError):
                    raise ConfigError(f"{source} {key}: {part!r} is not an index of a list") from None
            node = node.setdefault(part, {})
            if not isinstance(node, (dict, list)):
                raise ConfigError(f"{source} {key}: {part!r} is not a table")
        node[parts[-1]] = value
    return data


def resolve_scenario(config, *, seed=None, overrides=()) -> Scenario:
    """A scenario from a path, a raw dict or a Scenario, with a seed and ``--set`` overrides.

    Raises
    ------
    ConfigError
        Naming the file for an invalid file, and the ``--set`` items for invalid overrides.
    """
    if isinstance(config, Scenario):
        if not overrides and seed is None:
            return config
        # the resolved TOML holds only the keys of the chosen tree generator
        data, source, base = tomllib.loads(scenario_to_toml(config)), "<scenario>", None
    elif isinstance(config, dict):
        data, source, base = config, "<config>", None
    else:
        path = Path(config)
        data = read_toml(path)
        source, base = str(path), path.resolve().parent
    if seed is not None:
        data = dict(data, seed=seed)
    if overrides:
        scenario_from_dict(data, source, base_dir=base)  # the file itself must be valid
        data = apply_overrides(data, overrides)
        try:
            return scenario_from_dict(data, "--set", base_dir=base)
        except ConfigError as exc:
            msg = str(exc).removeprefix("--set: ")
            named = [o for o in overrides if o.split("=", 1)[0].strip() in msg]
            raise ConfigError(f"--set {', '.join(named or overrides)} (on {source}): {msg}") \
                from None
    return scenario_from_dict(data, source, base_dir=base)
