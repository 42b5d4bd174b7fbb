"""What the PostgreSQL rules share: the effective value of a parameter in a postgresql.conf.

A parameter the file does not set has the server's built-in default (the catalog's boot value
for the document's major version); `effective` says which, so messages can tell
"set on line 12" from "not set: default".
"""

from __future__ import annotations

from typing import Any

from advisor.catalog import catalog_of
from advisor.model import ConfigDoc, Setting, Span, is_known


def effective(doc: ConfigDoc, name: str) -> tuple[Any, Setting | None]:
    """(value in base unit, the setting that gave it or None when it is the default).

    The value is None when the file's value is invalid or a template placeholder.
    """
    setting = doc.get(name)
    if setting is not None:
        return (setting.value if is_known(setting.value) else None), setting
    param = catalog_of(doc).lookup(name)
    return (param.boot_value if param else None), None


def where(doc: ConfigDoc, setting: Setting | None) -> Span:
    """The span to report: the setting's value, or the top of the file for a default."""
    if setting is not None:
        return setting.value_span or setting.span
    return Span(doc.path, 1, 1)


def describe(setting: Setting | None, name: str, shown: str) -> str:
    """`tcp_keepalives_idle = 0` or `tcp_keepalives_idle not set (default 0)`."""
    if setting is None:
        return f"{name} not set (default {shown})"
    return f"{name} = {setting.raw}"
