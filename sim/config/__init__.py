"""Scenario configuration: TOML files validated into typed, unit-carrying objects.

A scenario is read with :func:`load_scenario` (a path) or :func:`scenario_from_dict` (a dict).
Unknown keys, wrong types and physically impossible values raise :class:`ConfigError`, whose
message names the file, the key path, the bad value and what is allowed; the CLI prints it as
one line and exits with status 2. Every bound is written once, on the field of the section
that owns it (:mod:`sim.config.scenario`, :mod:`sim.config.stages`,
:mod:`sim.config.devices`); command-line options are validated against the same fields.
"""
from sim.config.base import InputPath, KeyValueError, Section
from sim.config.devices import Device, DeviceSpec, device_library, get_device
from sim.config.errors import ConfigError, check_option
from sim.config.io import (apply_overrides, load_scenario, read_toml, resolve_scenario,
                           scenario_from_dict, scenario_to_toml)
from sim.config.scenario import Liver, Patient, Plan, Scenario, Treatment
from sim.config.stages import (DoseSpec, FlowSpec, TransportParams, TransportSpec, TreeSpec,
                               INJECTION_LEVELS)

__all__ = ["Scenario", "load_scenario", "scenario_from_dict", "scenario_to_toml", "read_toml",
           "apply_overrides", "resolve_scenario", "ConfigError", "check_option", "Patient",
           "Liver", "Treatment", "Plan", "TreeSpec", "FlowSpec", "TransportSpec",
           "TransportParams", "DoseSpec", "INJECTION_LEVELS", "Device", "DeviceSpec",
           "device_library", "get_device", "Section", "KeyValueError", "InputPath"]
