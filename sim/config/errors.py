"""Config errors: one line naming the file (or command-line option), the key path, the value
and what is allowed; the CLI prints it and exits with status 2."""
from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from sim.config.base import KeyValueError as _KeyError

__all__ = ["ConfigError", "format_validation_error", "allowed_range", "check_option"]


class ConfigError(ValueError):
    """Invalid configuration; ``str()`` is the one-line message for the user."""


_BOUND_TYPES = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _field_info(root, loc: tuple[str, ...]):
    """The pydantic FieldInfo at a key path of the model ``root``, or None."""
    model, info, i = root, None, 0
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


def allowed_range(root, loc: tuple[str, ...], ctx: dict | None = None) -> str:
    """Both bounds of the field at key path ``loc`` of model ``root`` (e.g.
    ``0.0 <= value < 1.0``), from the field's metadata or the error context ``ctx``."""
    ctx = ctx or {}
    info = _field_info(root, loc)
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


def format_validation_error(source: str, exc: ValidationError, root) -> str:
    """One line naming ``source``, each key path, its value and what is allowed."""
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
            msg = f"out of range (allowed: {allowed_range(root, loc, ctx)})"
        key = ".".join(loc) if loc else "(top level)"
        parts.append(f"{key} = {_fmt_value(err['input'])}: {msg}")
    return f"{source}: " + "; ".join(parts)


def check_option(flag: str, model: type[BaseModel], key: str, value):
    """Validate a command-line option against the config field it overrides.

    Parameters
    ----------
    flag : str
        The option as the user wrote it (e.g. ``"--day"``).
    model : pydantic model class
        The section holding the field (e.g. :class:`sim.config.scenario.Treatment`).
    key : str
        The field name.
    value
        The option's value.

    Returns
    -------
    The validated value.

    Raises
    ------
    ConfigError
        ``"--day 30: out of range (allowed: -14.0 <= value <= 28.0)"``: the bounds come from
        the field, so they are written once.
    """
    info = model.model_fields[key]
    one_field = create_model(f"Option_{key}", __config__=model.model_config,
                             **{key: (info.annotation, info)})
    try:
        return getattr(one_field.model_validate({key: value}), key)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        inner = (err.get("ctx") or {}).get("error")
        if err["type"] in _BOUND_TYPES:
            msg = f"out of range (allowed: {allowed_range(one_field, (key,), err.get('ctx'))})"
        else:
            msg = str(inner) if inner is not None else err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{flag} {_fmt_value(value)}: {msg}") from None
