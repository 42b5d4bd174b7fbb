"""Validation of pgpath's own JSON/YAML inputs against `schemas/` (jsonschema, loaded lazily)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

# In a checkout the schemas live in the top-level schemas/ folder; an installed package carries
# them as advisor/_schemas (a link to that folder, copied into the wheel).
_CANDIDATES = (
    Path(__file__).resolve().parent.parent / "schemas",
    Path(__file__).resolve().parent / "_schemas",
)


@lru_cache(maxsize=None)
def schema_text(name: str) -> str:
    for folder in _CANDIDATES:
        path = folder / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(f"schema {name} not found")


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    import json  # (not at the top: a check reads schema_text for the config cache's stamp, never json)

    return json.loads(schema_text(name))


def first_error(data: Any, schema_name: str) -> tuple[tuple, str] | None:
    """None when `data` is valid, else (key path, message) of the first problem."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema(schema_name))
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return None
    e = errors[0]
    # "is not valid under any of the given schemas": the alternative that got furthest into the
    # value says what is wrong (a hop's `version: sixteen`, not the whole hop)
    while e.validator in ("oneOf", "anyOf") and e.context:
        deepest = max(e.context, key=lambda c: len(c.absolute_path))
        if len(deepest.absolute_path) <= len(e.absolute_path):
            break
        e = deepest
    return tuple(e.absolute_path), e.message


def validate(data: Any, schema_name: str) -> str | None:
    """None when `data` is valid, else the first problem as `at <path>: <message>`."""
    found = first_error(data, schema_name)
    if found is None:
        return None
    where = "/".join(str(p) for p in found[0]) or "(top level)"
    return f"at {where}: {found[1]}"
