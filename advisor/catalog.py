"""PostgreSQL's own parameter catalog (`pg_settings`), one file per major version.

The files in `advisor/catalogs/` were dumped from real servers by `scripts/dump_pg_catalog.py`
(`pgNN.json`) and turned into Python modules (`pgNN.py`, one constant tuple: a single unmarshal
from cached bytecode) by `scripts/build_catalogs.py`; they give every parameter's type, base
unit, range, enum values, boot value and context.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from advisor.model import Record, Unknown

SUPPORTED_MAJORS = (14, 15, 16, 17, 18)
DEFAULT_MAJOR = SUPPORTED_MAJORS[-1]  # the PostgreSQL major assumed when neither the user nor the tree says

# the most server processes PostgreSQL supports (MAX_BACKENDS, 2^18 - 1)
MAX_BACKENDS = 0x3FFFF


def process_terms(major: int) -> tuple[tuple[str, ...], int]:
    """The parameters whose sum, plus a constant, PostgreSQL keeps at or below MAX_BACKENDS: up to
    17 guc.c's check hooks add 1 (max_connections + autovacuum_max_workers + max_worker_processes
    + max_wal_senders); 18 checks after reading the files, counting autovacuum_worker_slots and 2."""
    if major >= 18:
        return ("max_connections", "autovacuum_worker_slots", "max_worker_processes", "max_wal_senders"), 2
    return ("max_connections", "autovacuum_max_workers", "max_worker_processes", "max_wal_senders"), 1


# Old names PostgreSQL still accepts and maps to the new ones (guc.c map_old_guc_names),
# with the first major where each applies.
_OLD_NAMES = {
    "sort_mem": ("work_mem", 8),
    "vacuum_mem": ("maintenance_work_mem", 8),
    "ssl_ecdh_curve": ("ssl_groups", 18),
}

# Parameters that exist in every supported major but are marked GUC_NO_SHOW_ALL, so pg_settings
# (and the dumped catalogs) do not list them. PostgreSQL knows these names: setting one in a file
# is not an "unrecognized parameter" (whether the value is accepted is the loader's business).
_NOT_IN_PG_SETTINGS = (
    # name, vartype, min, max, boot, context, description
    ("default_with_oids", "bool", None, None, "off", "user", "WITH OIDS is no longer supported; only off is accepted."),
    ("seed", "real", -1, 1, "0", "user", "Sets the seed for random-number generation."),
    ("role", "string", None, None, "none", "user", "Sets the current role."),
    ("session_authorization", "string", None, None, None, "superuser", "Sets the session user name."),
    ("is_superuser", "bool", None, None, "off", "internal", "Shows whether the current user is a superuser."),
    # a Debian/Ubuntu (PGDG apt) patch present in every major they ship; the pg15 catalog, dumped
    # from Debian's server, lists it, the upstream builds dumped for 14/16/17/18 do not
    ("extension_destdir", "string", None, None, "", "superuser",
     "Path to prepend for extension loading (Debian and Ubuntu packages only)."),
)

# How PostgreSQL shows an enum value (config_enum_lookup_by_value: the first label with the same
# number). Hidden spellings of on/off (`true`, `yes`, `1`, ...) show as on/off, `debug` as `debug2`,
# wal_level's `archive` and `hot_standby` as `replica`;
# wal_compression (an enum from 15 on) lists `pglz` before `on`, which has the same number.
_HIDDEN_ENUM_SHOWN = {"true": "on", "yes": "on", "1": "on", "false": "off", "no": "off", "0": "off",
                      "debug": "debug2", "archive": "replica", "hot_standby": "replica"}
_ENUM_SHOWN = {("wal_compression", "on"): "pglz"}

# Enum values that exist only when PostgreSQL is built with an optional library. The catalogs of
# 14/16/17/18 come from builds without lz4, zstd and liburing; the distributions' packages (PGDG
# apt and yum) have lz4 and zstd, and 18's have io_uring where liburing is available. The full
# lists, in PostgreSQL's order, replace the dumped ones.
_BUILD_OPTIONAL_ENUMVALS = {
    "wal_compression": ("pglz", "lz4", "zstd", "on", "off"),  # an enum from 15 on
    "default_toast_compression": ("pglz", "lz4"),
    "io_method": ("sync", "worker", "io_uring"),
}


class Parameter(Record):
    __slots__ = ("name", "vartype", "unit", "min_val", "max_val", "enumvals", "hidden_enumvals", "boot_val", "context",
                 "short_desc")

    def __init__(self, name: str, vartype: str, unit: str | None, min_val: float | None, max_val: float | None,
                 enumvals: tuple[str, ...], hidden_enumvals: tuple[str, ...], boot_val: str | None, context: str,
                 short_desc: str) -> None:
        self.name = name
        self.vartype = vartype  # bool, integer, real, string, enum
        self.unit = unit
        self.min_val = min_val
        self.max_val = max_val
        self.enumvals = enumvals
        self.hidden_enumvals = hidden_enumvals
        self.boot_val = boot_val
        self.context = context
        self.short_desc = short_desc

    def __hash__(self) -> int:
        return hash(self._field_values())

    @property
    def needs(self) -> str:
        """What a change of this parameter takes to apply: restart, reload or nothing."""
        if self.context == "postmaster":
            return "restart"
        if self.context in ("sighup", "superuser-backend", "backend"):
            return "reload"
        if self.context == "internal":
            return "cannot be changed"
        return "reload"  # user/superuser: a reload sets the new default for sessions

    def enum_value(self, text: str) -> str | None:
        """An enum label as written (any case, hidden spellings too) -> the value PostgreSQL shows."""
        low = text.lower()
        for choice in self.enumvals:
            if choice.lower() == low:
                return _ENUM_SHOWN.get((self.name, choice), choice)
        for choice in self.hidden_enumvals:
            if choice.lower() == low:
                shown = _HIDDEN_ENUM_SHOWN.get(low, low)
                return _ENUM_SHOWN.get((self.name, shown), shown)
        return None

    @property
    def boot_value(self):
        """The boot value typed like a parsed value (bytes stay in the base unit)."""
        raw = self.boot_val
        if raw is None:
            return None
        if self.vartype == "integer":
            return int(raw)
        if self.vartype == "real":
            return float(raw)
        if self.vartype == "bool":
            return raw == "on"
        return raw


class Catalog:
    """The parameters of one major version; a Parameter is made the first time it is looked up."""

    def __init__(self, major: int, server_version: str, settings: tuple[tuple, ...]) -> None:
        self.major = major
        self.server_version = server_version
        self._rows: dict[str, tuple] = {row[0].lower(): row for row in settings}
        for name, vartype, lo, hi, boot, context, desc in _NOT_IN_PG_SETTINGS:
            if name not in self._rows:
                self._rows[name] = (name, vartype, None, lo, hi, (), (), boot, context, desc)
        self._params: dict[str, Parameter] = {}
        self._suggestions: dict[str, str | None] = {}
        self._settable: tuple[str, ...] | None = None  # names a file or SET can change (not `internal`)

    def _param(self, low: str) -> Parameter | None:
        param = self._params.get(low)
        if param is None:
            row = self._rows.get(low)
            if row is None:
                return None
            name, vartype, unit, min_val, max_val, enumvals, hidden, boot_val, context, short_desc = row
            param = self._params[low] = Parameter(
                name, vartype, unit, _num(min_val), _num(max_val), _enumvals(name, vartype, enumvals),
                tuple(hidden or ()), boot_val, context or "user", short_desc or "")
        return param

    def lookup(self, name: str) -> Parameter | None:
        """The parameter for a name as written (any case; old aliases resolved)."""
        low = name.lower()
        param = self._param(low)
        if param is None and low in _OLD_NAMES:
            new, since = _OLD_NAMES[low]
            if self.major >= since:
                param = self._param(new)
        return param

    def names(self) -> list[str]:
        return [row[0] for row in self._rows.values()]

    def suggest(self, name: str, problems_so_far: int = 0) -> str | None:
        """The closest parameter name a configuration can set, for a did-you-mean (remembered: a
        file may repeat a typo); none once a file has reported advisor.suggest.MAX_PROBLEMS
        problems. Parameters of context `internal` (wal_segment_size, block_size, server_version...)
        are never suggested: no file, ALTER SYSTEM or SET can change them (wal_segment_size is
        chosen by initdb --wal-segsize), so naming one would send the user to a dead end."""
        low = name.lower()
        if low not in self._suggestions:
            from advisor.suggest import MAX_PROBLEMS, closest

            if problems_so_far >= MAX_PROBLEMS:
                return None
            if self._settable is None:
                self._settable = tuple(key for key, row in self._rows.items() if row[8] != "internal")
            match = closest(low, self._settable, 0.75)
            self._suggestions[low] = self._rows[match][0] if match else None
        return self._suggestions[low]


def _enumvals(name: str, vartype: str, dumped: tuple[str, ...] | None) -> tuple[str, ...]:
    dumped = tuple(dumped or ())
    full = _BUILD_OPTIONAL_ENUMVALS.get(name)
    if vartype == "enum" and full and set(dumped) <= set(full):
        return full
    return dumped


def _num(text: str | None) -> float | None:
    if text is None:
        return None
    value = float(text)
    return int(value) if value == int(value) else value


@lru_cache(maxsize=None)
def load_catalog(major: int = DEFAULT_MAJOR) -> Catalog:
    if major not in SUPPORTED_MAJORS:
        raise ValueError(
            f"PostgreSQL {major} is not supported (choose one of {', '.join(map(str, SUPPORTED_MAJORS))})"
        )
    module = importlib.import_module(f"advisor.catalogs.pg{major}")
    return Catalog(major, module.SERVER_VERSION, module.SETTINGS)


def parse_pg_version(text: str | int | None) -> int:
    """`16`, `16.4`, `PostgreSQL 16` -> 16; None -> the newest supported major."""
    if text is None or text == "":
        return DEFAULT_MAJOR
    digits = str(text).strip().lower().removeprefix("postgresql").removeprefix("pg").strip()
    try:
        major = int(digits.split(".")[0])
    except ValueError:
        raise ValueError(f"cannot read PostgreSQL version {text!r} (write e.g. 16 or 16.4)") from None
    if major not in SUPPORTED_MAJORS:
        raise ValueError(
            f"PostgreSQL {major} is not supported (choose one of {', '.join(map(str, SUPPORTED_MAJORS))})"
        )
    return major


def catalog_of(doc) -> "Catalog":
    """The catalog of the PostgreSQL major a loaded document was typed with."""
    return load_catalog(doc.meta.get("pg_version") or DEFAULT_MAJOR)


def value_or_default(doc, name: str, assume_default: bool = False):
    """(value in the base unit, the setting that gave it) of a PostgreSQL parameter in a loaded
    document; (the major's boot value, None) when the file leaves it unset; (None, setting) when
    the written value is invalid or a template placeholder.

    A document with settings pgpath did not read (`meta["defaults_unknown_because"]`: an include
    made at deploy time, a template line that renders any lines, a configuration file mounted
    from elsewhere) may set what it leaves unset: then the value is unknown, (None, None), unless
    `assume_default` (path discovery assumes the default port, and says the path is assumed)."""
    setting = doc.get(name)
    if setting is not None:
        value = setting.value
        return (None if value is None or isinstance(value, Unknown) else value), setting
    if not assume_default and doc.meta.get("defaults_unknown_because"):
        return None, None
    try:
        param = catalog_of(doc).lookup(name)
    except Exception:  # noqa: BLE001 - a major without a shipped catalog: no default known
        return None, None
    return (param.boot_value if param is not None else None), None
