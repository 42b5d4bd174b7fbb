"""From the parameters found in a file to typed `ClientEndpoint`s, one builder per library.

Each builder takes the parameters as written (`Value`s whose `value` is the raw text, or an
`Unknown` for placeholders), types them in the library's own units and syntax, fills in the
library's documented defaults (`origin="default"`), and records what the library would reject
as a `Diagnostic` of kind `client-invalid-value` (rule APP009). Facts and their sources are in
`../shared/reference/connection-timeouts.md` section 6.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

from advisor.model.client import (
    GO_KEEPALIVE, OS_KEEPALIVE, ClientEndpoint, Keepalive, Pool, Prepares, Value, default, written_setting,
)
from advisor.loaders.clients.strings import Locator, ParsedString, parse, redact_any
from advisor.model import Diagnostic, Span, Unknown, is_known
from advisor.units import (
    client_bool, go_format_duration, go_parse_duration, java_parse_int, java_parse_long, js_parse_number,
    libpq_parse_int,
)

INVALID = "client-invalid-value"
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
PGX_POOL_KEYS = ("pool_max_conns", "pool_min_conns", "pool_min_idle_conns", "pool_max_conn_lifetime",
                 "pool_max_conn_lifetime_jitter", "pool_max_conn_idle_time", "pool_health_check_period")
# pgx's own DSN keys that one major reads and the other does not (which sends them to the server
# as run-time parameters: rule APP010). v5: pgx/v5 conn.go ParseConfig and pgxpool.ParseConfig
# (pool_min_idle_conns from v5.7.3); v4: pgx/v4 conn.go ParseConfig (prefer_simple_protocol from
# v4.11.0), at tags v5.10.0 and v4.18.3
PGX_V5_ONLY = ("default_query_exec_mode", "description_cache_capacity", "pool_min_idle_conns")
PGX_V4_ONLY = ("statement_cache_mode", "prefer_simple_protocol")


class Builder:
    """Collects the diagnostics of one file while endpoints are built."""

    def __init__(self, template: bool = False, path: str | None = None, options: dict | None = None) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.template = template
        self.path = path  # the file, whose neighbourhood may say which pgx it is read by
        self.options = options
        self._pgx = None
        self._pgjdbc = None

    def pgx(self):
        """The pgx major of this file's Go module (advisor.loaders.clients.gomod), looked up once,
        and only for a file that holds a pgx DSN; v5 assumed when the file is not known."""
        from advisor.loaders.clients.gomod import assumed, pgx_version

        if self._pgx is None:
            self._pgx = pgx_version(self.path, self.options) if self.path else assumed("no go.mod read")
        return self._pgx

    def pgx_read(self):
        """The pgx major looked up for this file, None when it holds no pgx DSN."""
        return self._pgx

    def pgjdbc(self):
        """The pgjdbc version of this file's Java build (advisor.loaders.clients.jdbcversion),
        looked up once, and only for a file that holds a JDBC URL; not known without a file."""
        from advisor.loaders.clients.jdbcversion import PgjdbcVersion, pgjdbc_version

        if self._pgjdbc is None:
            self._pgjdbc = pgjdbc_version(self.path, self.options) if self.path else PgjdbcVersion(
                reason="no build file read")
        return self._pgjdbc

    def pgjdbc_read(self):
        """The pgjdbc version looked up for this file, None when it holds no JDBC URL."""
        return self._pgjdbc

    def invalid(self, v: Value, message: str, fix: str | None = None) -> None:
        severity = None  # the rule's: the client refuses the value (error)
        if v.assumed:
            # the default of a placeholder: wrong only while the variable is unset, which no file
            # shows certainly happens where it runs: a warning (it fails when run without it)
            message += f" ({v.assumed_note}: it fails wherever the variable is not set)"
            severity = "warning"
        v.error = message
        span = v.span or Span("?")
        self.diagnostics.append(Diagnostic(INVALID, span, message, fix, severity=severity))

    # ---------------------------------------------------------------------------- typing helpers

    def typed(self, v: Value | None, parse_fn: Callable[[str], Any], message: Callable[[Value], str],
              fix: Callable[[Value], str | None] | None = None, unit: str | None = None) -> Value | None:
        """`v` with its raw text typed by `parse_fn`; invalid -> value None and a diagnostic."""
        if v is None:
            return None
        out = Value(v.value, v.raw, v.span, v.origin, v.key, v.secret, v.hint, unit or v.unit, assumed=v.assumed)
        if isinstance(v.value, Unknown) or v.origin in ("default", "os-default"):
            return out
        raw = v.value
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        result = parse_fn(str(raw))
        if result is None:
            out.value = None
            self.invalid(out, message(out), fix(out) if fix else None)
        else:
            out.value = result
        return out


def param_value(key: str, text: Any, span: Span | None, unknown: bool = False, hint: str | None = None,
                secret: bool = False, origin: str = "set", assumed: str | None = None) -> Value:
    """A parameter as written: raw text (or Unknown), never typed yet. `assumed`: the variable
    whose default `text` is (Value.assumed)."""
    if isinstance(text, Unknown):
        unknown, raw = True, text.text
    elif isinstance(text, bool):
        raw = "true" if text else "false"
    elif text is None:
        raw = ""
    else:
        raw = str(text)
    value: Any = Unknown("***" if secret else raw) if unknown else (text if isinstance(text, (bool, int, float)) and not isinstance(text, str) else raw)
    return Value(value=value, raw="***" if secret else raw, span=span, origin=origin, key=key, secret=secret,
                 hint=None if secret else hint, assumed=None if unknown else assumed)


def params_from_string(parsed: ParsedString, loc: Locator) -> dict[str, Value]:
    """The parameters of a parsed connection string as `Value`s with exact spans (later wins;
    `host`/`port` of pgjdbc lists are joined with commas like libpq stores them)."""
    from advisor.loaders.clients.libpq import SECRET_KEYWORDS

    out: dict[str, Value] = {}
    for p in list(parsed.params) + list(parsed.unknown_keys):
        secret = p.key.lower() in SECRET_KEYWORDS or p.key.lower() == "password"
        v = param_value(p.key, p.value, loc.span(p.start, p.end), p.unknown, p.hint, secret, assumed=p.assumed)
        if parsed.form == "jdbc" and p.key in ("host", "port") and p.key in out:
            prev = out[p.key]
            joined = f"{prev.raw},{v.raw}"
            unknown = prev.unknown or v.unknown
            assumed = ", ".join(a for a in dict.fromkeys((prev.assumed, v.assumed)) if a) or None
            out[p.key] = Value(Unknown(joined) if unknown else joined, joined, prev.span, key=p.key,
                               assumed=None if unknown else assumed)
            continue
        out[p.key] = v
    return out


# ------------------------------------------------------------------------------------------------
# libpq and everything built on it (psycopg, psycopg2, Django, SQLAlchemy+psycopg, psycopg_pool)


def _list(v: Value | None, key: str) -> list[Value]:
    if v is None:
        return []
    if v.unknown:
        return [v]
    return [Value(part, part, v.span, v.origin, key, assumed=v.assumed) for part in str(v.value).split(",")]


def _libpq_int_msg(key: str) -> Callable[[Value], str]:
    return lambda v: f'invalid integer value "{v.raw}" for connection option "{key}"'


def _libpq_int_fix(key: str, scale: float = 1.0) -> Callable[[Value], str]:
    def fix(v: Value) -> str:
        secs = go_parse_duration(str(v.raw).strip().replace("min", "m")) if v.raw else None
        if secs is not None:
            return f"{key}={int(round(secs * scale))} (a plain integer; {'milliseconds' if scale == 1000 else 'seconds'})"
        return f"{key}=<integer {'milliseconds' if scale == 1000 else 'seconds'}, no unit>"
    return fix


def libpq_endpoint(b: Builder, name: str, span: Span, form: str, params: dict[str, Value],
                   driver: str = "libpq", validate: bool = True) -> ClientEndpoint:
    """An endpoint of a libpq-family client. `validate` reports values libpq rejects at connect
    time (integers with units); off for drivers that only share the syntax."""
    ep = ClientEndpoint(driver=driver, name=name, span=span, form=form, params=params, template=b.template)
    ep.hosts = _list(params.get("host") or params.get("hostaddr"), "host")
    ep.ports = _list(params.get("port"), "port")
    ep.dbname = params.get("dbname")
    ep.user = params.get("user")
    ep.password = params.get("password")

    def libpq_int(key: str, scale: float = 1.0, unit: str = "s") -> Value | None:
        v = params.get(key)
        if v is None:
            return None
        if not validate:
            bb = Builder()
            t = bb.typed(v, libpq_parse_int, _libpq_int_msg(key), unit=unit)
        else:
            t = b.typed(v, libpq_parse_int, _libpq_int_msg(key), _libpq_int_fix(key, 1000.0 if unit == "ms" else 1.0), unit=unit)
        if t is not None and t.known:
            t.value = t.value / scale
        return t

    unix = bool(ep.hosts) and all(h.known and str(h.value).startswith(("/", "@")) for h in ep.hosts)
    enabled = libpq_int("keepalives")
    if enabled is not None and enabled.known:
        enabled.value = enabled.value != 0
    idle = libpq_int("keepalives_idle")
    interval = libpq_int("keepalives_interval")
    count = libpq_int("keepalives_count")
    keepalive_on = not (enabled is not None and enabled.known and enabled.value is False) and not unix
    for key, v, opt in (("keepalives_idle", idle, "TCP_KEEPIDLE"), ("keepalives_interval", interval, "TCP_KEEPINTVL"),
                        ("keepalives_count", count, "TCP_KEEPCNT")):
        if v is not None and v.known and v.value <= 0 and keepalive_on:
            # unlike the server's tcp_keepalives_* (0 = OS default), libpq hands the value to
            # setsockopt, which Linux refuses for 0 or less: the connection fails
            message = f"{key}={v.raw}: setsockopt({opt}) failed: Invalid argument (libpq refuses to connect)"
            fix = f"remove {key} for the OS default, or set a positive value such as {key}=" + (
                "6" if key == "keepalives_count" else "60" if key == "keepalives_idle" else "10")
            if validate:
                b.invalid(v, message, fix)
            v.value, v.error = None, message
    ep.keepalive = Keepalive(
        enabled=enabled or default(not unix),
        idle=_os_or(idle, 0),
        interval=_os_or(interval, 1),
        count=_os_or(count, 2),
        note="Unix socket: no TCP keepalives" if unix else "",
    )
    tut = libpq_int("tcp_user_timeout", scale=1000.0, unit="ms")
    ep.tcp_user_timeout = tut or default(0.0, "os-default")
    ct = libpq_int("connect_timeout")
    if ct is not None and ct.known:
        ct.value = math.inf if ct.value <= 0 else max(ct.value, 2.0)
    ep.connect_timeout = ct or default(math.inf)
    _tls(b, ep, params)
    return ep


def _os_or(v: Value | None, index: int) -> Value:
    """A keepalive timer: the value when set and > 0, else the Linux default (7200/75/9)."""
    os_value = OS_KEEPALIVE[index]
    if v is None:
        return default(float(os_value) if index < 2 else os_value, "os-default")
    if v.known and v.value <= 0:  # keepalives off or a Unix socket: libpq never sets the option
        out = Value(float(os_value) if index < 2 else os_value, v.raw, v.span, "os-default", v.key)
        return out
    if v.known and index == 2:
        v.value = int(v.value)
    return v


def _tls(b: Builder, ep: ClientEndpoint, params: dict[str, Value], default_mode: str = "prefer") -> None:
    mode = params.get("sslmode")
    root = params.get("sslrootcert")
    if mode is not None and mode.known and str(mode.value) not in SSLMODES:
        b.invalid(mode, f'invalid sslmode value: "{mode.raw}"', f"sslmode={'verify-full'} (one of {', '.join(SSLMODES)})")
        mode = Value(None, mode.raw, mode.span, key=mode.key, error=mode.error)
    if mode is None:
        mode = default("verify-full" if root is not None and root.known and root.value == "system" else default_mode)
    ep.sslmode = mode
    ep.sslrootcert = root
    for key in ("ssl_min_protocol_version", "ssl_max_protocol_version"):
        v = params.get(key)
        if v is not None and v.known and str(v.value) and str(v.value) not in TLS_VERSIONS:
            b.invalid(v, f'invalid {key} value: "{v.raw}"', f"{key}=TLSv1.2 (one of {', '.join(TLS_VERSIONS)})")
            v = Value(None, v.raw, v.span, key=key, error=v.error)
        setattr(ep, key, v)
    if ep.ssl_min_protocol_version is None:
        ep.ssl_min_protocol_version = default("TLSv1.2")


def endpoint_from_string(b: Builder, name: str, text: str, loc: Locator, extra: dict[str, Value] | None = None,
                         driver_hint: str | None = None, explicit: bool = False,
                         sqlalchemy_ini: bool = False, engine_read: bool | None = None) -> ClientEndpoint | None:
    """The endpoint a connection string describes, with `extra` options written beside it
    (pool settings, Spring properties...). None when the text is no connection string.
    `sqlalchemy_ini`: a SQLAlchemy URL's options are `sqlalchemy.*` keys of an ini file.
    `engine_read`: whether a SQLAlchemy URL's engine options are in this file (by default when
    options are written beside it, or it is an ini file's `sqlalchemy.url`): else its pool plan is
    unknown.
    `explicit`: the value of a connection variable, read as a connection string whatever it holds."""
    parsed = parse(text, explicit)
    if parsed is None:
        return None
    params = params_from_string(parsed, loc)
    extra = extra or {}
    span = loc.whole
    if parsed.form == "jdbc":
        return jdbc_endpoint(b, name, span, params, extra)
    if parsed.form == "sqlalchemy":
        read = bool(extra) or sqlalchemy_ini if engine_read is None else engine_read
        return sqlalchemy_endpoint(b, name, span, params, extra, parsed.dbapi, parsed, ini=sqlalchemy_ini, read=read)
    keys = set(params)
    if driver_hint == "pgx" or keys.intersection(PGX_POOL_KEYS) or extra.keys() & set(PGX_POOL_KEYS):
        return pgx_endpoint(b, name, span, parsed.form, {**params, **extra})
    if driver_hint == "psycopg_pool":
        ep = libpq_endpoint(b, name, span, parsed.form, params)
        ep.driver = "psycopg_pool"
        ep.pool = psycopg_pool_plan(b, extra)
        ep.prepares = psycopg_prepares(extra.get("prepare_threshold"),
                                       'kwargs={"prepare_threshold": None} in ConnectionPool()',
                                       read="prepare_threshold" in extra)
        _syntax(b, parsed, loc, name)
        return ep
    if parsed.unknown_keys and driver_hint != "libpq" and not _no_reader_takes(parsed):
        # parameters libpq would reject: the string is read by another library (an ORM, pop,
        # a Go driver...) that strips its own keys; keep what libpq would make of the rest
        return library_unknown(libpq_endpoint(b, name, span, parsed.form, params, driver="url", validate=False))
    sub = Builder(b.template, b.path, b.options)
    ep = libpq_endpoint(sub, name, span, parsed.form, params, driver=driver_hint or "libpq")
    ep.driver_assumed = driver_hint is None
    if parsed.error is None:  # libpq checks values only in a string it could parse
        checks = libpq_connect_checks(text, loc)
        b.diagnostics.extend(sub.diagnostics if checks is None else checks)
    _syntax(b, parsed, loc, name)
    return ep


def library_unknown(ep: ClientEndpoint) -> ClientEndpoint:
    """An endpoint whose library is not known (driver "url"): its keepalives and the defaults of
    what the settings leave unset are unknown, not libpq's."""
    ep.keepalive = None
    for attr in ("sslmode", "connect_timeout", "tcp_user_timeout", "ssl_min_protocol_version"):
        v = getattr(ep, attr)
        if v is not None and v.origin == "default":
            setattr(ep, attr, Value(Unknown("library default"), None, None, origin="default"))
    return ep


# keys pgx reads itself in a keyword/value DSN (pgconn, pgx and pgxpool ParseConfig); it sends every
# other unknown key to the server as a run-time parameter
PGX_OWN_KEYS = frozenset(PGX_POOL_KEYS + PGX_V5_ONLY + PGX_V4_ONLY + (
    "servicefile", "sslpassword", "krbspn", "krbsrvname", "min_read_buffer_size", "statement_cache_capacity"))


def _no_reader_takes(parsed: ParsedString) -> bool:
    """A keyword/value string with a key that no library reading that form accepts: libpq rejects
    every unknown key (`invalid connection option`), and pgx sends it to the server, which
    rejects a name that is no PostgreSQL parameter (`unrecognized configuration parameter`)."""
    if parsed.form != "keyword":
        return False
    from advisor.catalog import load_catalog

    catalog = load_catalog()
    return any(p.key not in PGX_OWN_KEYS and "." not in p.key and catalog.lookup(p.key) is None
               for p in parsed.unknown_keys if not p.unknown)


def libpq_connect_checks(text: str, loc: Locator) -> list[Diagnostic] | None:
    """libpq's own connect-time value checks (`advisor.loaders.clients.libpq.validate_values`) for a
    string libpq parses; None when it does not parse (the caller then uses its own checks).
    Values that overlap a template placeholder are not checked."""
    from advisor.loaders.clients.libpq import parse_conninfo, validate_values
    from advisor.loaders.clients.strings import mask

    lead = len(text) - len(text.lstrip())
    masked, holders = mask(text.strip())
    info = parse_conninfo(masked)
    if info.error is not None:
        return None
    out = []
    for p, message in validate_values(info):
        if p.start >= 0 and any(h.start < max(p.end, p.start + 1) and p.start < h.end for h in holders):
            continue
        raw = masked[p.start:p.end] if p.start >= 0 else p.value
        fix = None
        if message.startswith("invalid integer value"):
            fix = _libpq_int_fix(p.key, 1000.0 if p.key == "tcp_user_timeout" else 1.0)(Value(None, raw, key=p.key))
        span = loc.span(p.start + lead, p.end + lead) if p.start >= 0 else loc.whole
        out.append(Diagnostic(INVALID, span, redact_any(message), fix))
    return out


def _syntax(b: Builder, parsed: ParsedString, loc: Locator, name: str) -> None:
    if parsed.error:
        from advisor.loaders.clients.libpq import KNOWN_KEYWORDS

        message = redact_any(parsed.error)
        if any(p.key in ("password", "sslpassword") for p in parsed.params) or "password" in parsed.error:
            # a quoted word in the message may be the tail of a password written without quotes
            message = re.sub(r'"([^"]*)"', lambda m: m.group(0) if m.group(1) in KNOWN_KEYWORDS or m.group(1) == "=" else '"***"', message)
        parsed.error = message
        where = loc.span(parsed.error_offset or 0, (parsed.error_offset or 0) + 1)
        b.diagnostics.append(Diagnostic("syntax-error", where, f"{name}: libpq rejects this connection string: "
                                        f"{redact_any(parsed.error)}", "write the connection string as libpq's "
                                        "documentation describes (keyword=value pairs or a postgresql:// URI)"))


# ------------------------------------------------------------------------------------------------
# pgx / pgxpool


def pgx_endpoint(b: Builder, name: str, span: Span, form: str, params: dict[str, Value]) -> ClientEndpoint:
    """pgx: libpq-like DSN, but Go's own keepalive (15 s/15 s/9) and libpq's keepalives_* keys are
    not recognised (pgx sends unknown keys to the server, which rejects them: rule APP010). Its
    major (advisor.loaders.clients.gomod: the go.mod beside the file, else v5 assumed) decides
    how its pool validates and what it prepares; pgx v3 (a pool of its own, not pgxpool, and
    not modelled) gets neither."""
    ep = libpq_endpoint(b, name, span, form, params, driver="pgx", validate=False)
    ep.pgx = pgx = b.pgx()
    ct = params.get("connect_timeout")
    if ct is not None:
        t = b.typed(ct, libpq_parse_int, _libpq_int_msg("connect_timeout"), _libpq_int_fix("connect_timeout"), unit="s")
        if t is not None and t.known:
            t.value = math.inf if t.value <= 0 else float(t.value)
        ep.connect_timeout = t
    ep.keepalive = Keepalive(
        enabled=default(True),
        idle=default(GO_KEEPALIVE[0]),
        interval=default(GO_KEEPALIVE[1]),
        count=default(GO_KEEPALIVE[2]),
        honours_libpq_keys=False,
        note="Go net.Dialer default keepalive (15 s idle, 15 s interval, 9 probes); libpq keepalives_* are not read",
    )
    ep.tcp_user_timeout = default(0.0, "os-default")
    if pgx.major < 4:
        return ep
    if set(params).intersection(PGX_POOL_KEYS):
        ep.pool = pgxpool_plan(b, params, pgx)
    setting, value = ("statement_cache_mode", "describe") if pgx.major == 4 else ("default_query_exec_mode", "exec")
    if setting in params:
        was = "prepare" if pgx.major == 4 else "cache_statement"
        off = f"{setting}={value} in the DSN (instead of {was})"
    elif form == "uri":
        query = set(params) - {"host", "hostaddr", "port", "dbname", "user", "password"}
        off = f"{setting}={value} in the DSN ({'&' if query else '?'}{setting}={value})"
    else:
        off = f"{setting}={value} in the DSN"
    ep.prepares = pgx4_prepares(params, off) if pgx.major == 4 else pgx_prepares(params, off)
    return ep


def _go_duration(b: Builder, v: Value | None) -> Value | None:
    def msg(x: Value) -> str:
        return f'{x.key}: Go cannot parse "{x.raw}" as a duration (time.ParseDuration needs a unit: ns us ms s m h)'

    def fix(x: Value) -> str:
        n = js_parse_number(str(x.raw))
        if n is not None:
            return f"{x.key}={go_format_duration(n)} if {x.raw} meant seconds"
        return f"{x.key}=1h (a Go duration such as 30m, 1h30m, 90s)"
    return b.typed(v, go_parse_duration, msg, fix, unit="duration")


def pgxpool_plan(b: Builder, params: dict[str, Value], pgx=None) -> Pool:
    """pgxpool's plan. v5 checks a connection idle for more than 1 s on Acquire: CheckConn (a read
    until it would block, which sees only a close that already reached the client) in v5.0-v5.3,
    a ping (`-- ping`, a round trip) from v5.4.0 (pgx commit 3ea2f57d), ShouldPing's default from
    v5.8.0. v4's Acquire checks nothing (pgx/v4 pgxpool/pool.go, v4.18.3): its health check, every
    pool_health_check_period, closes idle connections past pool_max_conn_lifetime, or idle past
    pool_max_conn_idle_time above pool_min_conns, so one may still be lent until that runs."""
    life = _go_duration(b, params.get("pool_max_conn_lifetime")) or default(3600.0)
    idle = _go_duration(b, params.get("pool_max_conn_idle_time")) or default(1800.0)
    hc = _go_duration(b, params.get("pool_health_check_period")) or default(60.0)
    size = params.get("pool_max_conns")
    if size is not None:
        size = b.typed(size, java_parse_int, lambda x: f'pool_max_conns: invalid integer "{x.raw}"')
    for v in (life, idle):
        if v.known and v.value == 0:
            v.value = math.inf if v is life else v.value
    if pgx is not None and pgx.major == 4:
        pool = Pool("pgxpool", life, idle, default(False), "", size or default("max(4, NumCPU)"),
                    health_check_period=hc)
        least = params.get("pool_min_conns")
        pool.min_size = b.typed(least, java_parse_int, lambda x: f'pool_min_conns: invalid integer "{x.raw}"') \
            if least is not None else default(0)
        pool.retired_by_health_check = True
        pool.version = pgx.said()
        return pool
    minor = pgx.minor() if pgx is not None else None
    if minor is not None and minor < (5, 4):
        note = ("pgxpool checks a connection idle for more than 1 s on Acquire with CheckConn, a read that sees only "
                f"a close that already reached the client; {pgx.said()}")
    else:
        note = "pgxpool pings a connection idle for more than 1 s on Acquire"
        if pgx is not None:
            note += f"; {pgx.said()}"
    pool = Pool("pgxpool", life, idle, default(True), note, size or default("max(4, NumCPU)"), health_check_period=hc)
    pool.version = pgx.said() if pgx is not None else ""
    return pool


# ------------------------------------------------------------------------------------------------
# pgjdbc and HikariCP

HIKARI_KEYS = {  # lower-cased, without - and _ (Spring relaxed binding) -> canonical name
    k.lower(): k for k in (
        "maxLifetime", "idleTimeout", "keepaliveTime", "connectionTimeout", "validationTimeout",
        "maximumPoolSize", "minimumIdle", "connectionTestQuery", "leakDetectionThreshold", "initializationFailTimeout",
        "jdbcUrl", "username", "password", "dataSourceClassName", "driverClassName", "poolName", "autoCommit",
    )
}


def canonical_hikari(key: str) -> str | None:
    return HIKARI_KEYS.get(key.replace("-", "").replace("_", "").lower())


def _jdbc_seconds(b: Builder, v: Value | None, key: str, written: str | None = None,
                  yaml_file: bool = False) -> Value | None:
    """A pgjdbc property in seconds, typed; `written`: the properties key that sets it (None: the
    JDBC URL's parameter), which is where its fix goes (in YAML: `key: value under its parent`)."""
    def msg(x: Value) -> str:
        return f'pgjdbc {key}: "{x.raw}" is not an integer number of seconds'

    def fix(x: Value) -> str:
        secs = go_parse_duration(str(x.raw).strip())
        value, unit = (str(int(secs)), " (seconds)") if secs is not None else ("<integer seconds>", "")
        if written:
            return written_setting(written, value, yaml=yaml_file) + unit
        return f"{key}={value} in the JDBC URL{unit}"
    t = b.typed(v, java_parse_int, msg, fix, unit="s")
    if t is not None and t.known:
        t.value = float(t.value)
    return t


def jdbc_endpoint(b: Builder, name: str, span: Span, params: dict[str, Value], extra: dict[str, Value]) -> ClientEndpoint:
    """pgjdbc (with HikariCP when `extra` has Hikari keys). Driver properties may also come from
    `extra` (Spring `hikari.data-source-properties.*`, hikari.properties `dataSource.*`)."""
    props = dict(params)
    # how the file writes Hikari keys, from the extractor: (prefix, kebab-case, YAML)
    form = extra.get("__hikari__")
    known_form = form is not None and isinstance(form.value, tuple)
    key_prefix, kebab, yaml_file = form.value if known_form else ("", False, False)
    written: dict[str, str] = {}  # a driver property set beside the URL: the key the file writes
    for key, v in extra.items():
        if key.startswith("dataSource.") or key.startswith("data-source-properties."):
            props[key.split(".", 1)[1]] = v
            written[key.split(".", 1)[1]] = v.key or key
    for key in ("user", "password"):
        if key not in props and key in extra:
            props[key] = extra[key]
    ep = ClientEndpoint(driver="pgjdbc", name=name, span=span, form="jdbc", params=props, template=b.template)
    ep.hosts = _list(props.get("host"), "host") or [default("localhost")]
    ep.ports = _list(props.get("port"), "port") or [default("5432")]
    ep.dbname = props.get("dbname")
    ep.user = props.get("user")
    ep.password = props.get("password")
    tka = props.get("tcpKeepAlive")
    if tka is not None:
        tka = b.typed(tka, client_bool, lambda x: f'pgjdbc tcpKeepAlive: "{x.raw}" is not true or false')
    enabled = tka or default(False)
    ep.keepalive = Keepalive(enabled=enabled, idle=default(OS_KEEPALIVE[0], "os-default"),
                             interval=default(OS_KEEPALIVE[1], "os-default"), count=default(OS_KEEPALIVE[2], "os-default"),
                             note="pgjdbc only switches SO_KEEPALIVE on or off; the timers are the OS defaults")
    ep.connect_timeout = _jdbc_seconds(b, props.get("connectTimeout"), "connectTimeout", written.get("connectTimeout"), yaml_file) or default(10.0)
    ep.socket_timeout = _jdbc_seconds(b, props.get("socketTimeout"), "socketTimeout", written.get("socketTimeout"), yaml_file) or default(0.0)
    _jdbc_seconds(b, props.get("loginTimeout"), "loginTimeout", written.get("loginTimeout"), yaml_file)
    ep.tcp_user_timeout = default(0.0, "os-default")
    mode = props.get("sslmode")
    ssl = props.get("ssl")
    if mode is None and ssl is not None and ssl.known and client_bool(str(ssl.value)):
        mode = Value("verify-full", ssl.raw, ssl.span, "set", "ssl")
    if mode is not None and mode.known and str(mode.value) not in SSLMODES:
        b.invalid(mode, f'pgjdbc: invalid sslmode value "{mode.raw}"', f"sslmode=verify-full (one of {', '.join(SSLMODES)})")
    ep.sslmode = mode or default("prefer")
    ep.sslrootcert = props.get("sslrootcert")
    hikari = {canonical_hikari(k): v for k, v in extra.items() if canonical_hikari(k)}
    if hikari or form is not None:
        ep.pool = hikari_plan(b, hikari, key_prefix, kebab, yaml_file)
    if "autoCommit" in hikari:  # HikariCP's autoCommit (default true): PATH008 reads it
        ep.params.setdefault("autoCommit", hikari["autoCommit"])
    if "prepareThreshold" in written:
        key = written["prepareThreshold"]
        off = written_setting(key, 0, yaml=yaml_file) if yaml_file else f"{key}=0"
    elif "prepareThreshold" in props:
        off = "prepareThreshold=0 in the JDBC URL"
    else:
        off = "prepareThreshold=0 in the JDBC URL (jdbc:postgresql://host/db?prepareThreshold=0)"
    ep.prepares = pgjdbc_prepares(props, off)
    ep.pgjdbc = b.pgjdbc()
    return ep


def _hikari_ms(b: Builder, v: Value | None, key: str, pool: Pool) -> Value | None:
    """The HikariCP millisecond setting `key`, typed; its fix is written as `pool`'s file writes it."""
    def written(value) -> str:
        return pool.setting(key, value)

    def msg(x: Value) -> str:
        return f'HikariCP {key}: "{x.raw}" is not a number of milliseconds (HikariCP reads a plain long, no unit)'

    def fix(x: Value) -> str:
        secs = go_parse_duration(str(x.raw).strip().replace("min", "m"))
        if secs is not None:
            return f"{written(int(secs * 1000))} (milliseconds)"
        return written("<milliseconds>")
    t = b.typed(v, java_parse_long, msg, fix, unit="ms")
    if t is not None and t.known:
        t.value = t.value / 1000.0
    return t


def hikari_plan(b: Builder, hikari: dict[str, Value], key_prefix: str = "", kebab: bool = False,
                yaml_file: bool = False) -> Pool:
    pool = Pool("hikaricp", default(1800.0), default(600.0), default(True))
    pool.key_prefix, pool.kebab, pool.yaml = key_prefix, kebab, yaml_file

    def ms(name):
        return _hikari_ms(b, hikari.get(name), name, pool)

    life = ms("maxLifetime")
    if life is None:
        life = default(1800.0)
    elif life.known:
        if life.value == 0:
            life.value = math.inf
        elif life.value < 30:
            life.value = 1800.0  # HikariCP resets a maxLifetime below 30000 ms to the default
            life.error = "below HikariCP's minimum of 30000 ms: reset to the default 1800000 ms"
    idle = ms("idleTimeout") or default(600.0)
    if idle.known and idle.value == 0:
        idle.value = math.inf
    keep = ms("keepaliveTime") or default(0.0)
    # HikariConfig refuses a connectionTimeout or validationTimeout below 250 ms (the pool does not
    # start); connectionTimeout 0 means Integer.MAX_VALUE ms, i.e. wait for ever
    borrow = ms("connectionTimeout") or default(30.0)
    if borrow.known and borrow.value == 0:
        borrow.value = math.inf
    pool.validation_timeout, pool.borrow_timeout = ms("validationTimeout") or default(5.0), borrow
    size = hikari.get("maximumPoolSize")
    if size is not None:
        size = b.typed(size, java_parse_int, lambda x: f'HikariCP maximumPoolSize: "{x.raw}" is not an integer')
    pool.max_lifetime, pool.max_idle, pool.size, pool.keepalive_time = life, idle, size or default(10), keep
    pool.validation_note = "HikariCP validates a pooled connection unused for more than 500 ms before handing it out"
    return pool


# ------------------------------------------------------------------------------------------------
# named prepared statements (facts and sources: docs/prepared-statements.md)

PSYCOPG_PREPARE_THRESHOLD = 5  # psycopg 3 Connection.connect(prepare_threshold=5)
PGJDBC_PREPARE_THRESHOLD = 5  # pgjdbc PGProperty.PREPARE_THRESHOLD "5"
_NONE_WORDS = ("", "none", "null", "~")


def psycopg_prepares(v: Value | None, off: str, read: bool = True, dflt: int | None = PSYCOPG_PREPARE_THRESHOLD,
                     library: str = "psycopg") -> Prepares:
    """psycopg 3's prepare_threshold: a statement executed more than `threshold` times on a
    connection is parsed as `_pg3_<n>` at the next execution (count >= threshold); None never
    prepares. `v` as written (YAML null, Python None, an integer), or None when not written:
    `dflt` then (psycopg's 5; Django passes None unless its OPTIONS say otherwise)."""
    if v is None:
        threshold = default(dflt)
    else:
        threshold = Value(v.value, v.raw, v.span, v.origin, v.key, hint=v.hint, assumed=v.assumed)
        if not v.unknown:
            raw = v.value
            if raw is None or isinstance(raw, str) and raw.strip().lower() in _NONE_WORDS:
                threshold.value = None
            elif isinstance(raw, bool) or not isinstance(raw, int) and not str(raw).strip().lstrip("-").isdigit():
                threshold.value = Unknown(str(raw))  # psycopg would compare a str with an int: not modelled
            else:
                threshold.value = int(raw)
    t = threshold.value
    if t is None and v is not None and not threshold.raw:
        threshold.raw = "None"  # YAML null, JSON null
    first = None if t is None or not is_known(t) else max(t, 0) + 1
    return Prepares(library, threshold, first, "_pg3_0", "prepare_threshold", off, read)


def pgjdbc_prepares(props: dict[str, Value], off: str) -> Prepares:
    """pgjdbc: a PreparedStatement (or the same SQL through the connection's statement cache) is
    parsed as `S_<n>` at its prepareThreshold-th execution (default 5; 0 never; a negative value
    forces binary transfer, which prepares at once); preferQueryMode=simple never prepares."""
    v = props.get("prepareThreshold")
    mode = props.get("preferQueryMode")
    if mode is not None and mode.known and str(mode.value).strip() == "simple":
        return Prepares("pgjdbc", Value(None, mode.raw, mode.span, "set", "preferQueryMode"), None, "S_1",
                        "prepareThreshold", off)
    if v is None:
        threshold = default(PGJDBC_PREPARE_THRESHOLD)
    else:
        threshold = Value(v.value, v.raw, v.span, v.origin, v.key, hint=v.hint, assumed=v.assumed)
        if v.known:
            n = java_parse_int(str(v.value).strip())
            threshold.value = Unknown(str(v.value)) if n is None else n
    t = threshold.value
    if is_known(t) and t == 0:
        first: int | None = None
    elif is_known(t):
        first = t if t > 0 else 1
    else:
        first = None
    if is_known(t) and t == 0:
        threshold.value = None  # 0: never server-prepared
    return Prepares("pgjdbc", threshold, first, "S_1", "prepareThreshold", off)


def _go_bool(text: str) -> bool | None:
    """Go's strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE false False."""
    return {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
            "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}.get(text.strip())


def pgx4_prepares(params: dict[str, Value], off: str) -> Prepares:
    """pgx v4 (pgx/v4 conn.go ParseConfig, jackc/pgconn stmtcache/lru.go, at v4.18.3 and pgconn
    v1.14.3): a statement cache of statement_cache_capacity (default 512) in statement_cache_mode
    `prepare` (the default) parses each SQL text at its first execution as `lrupsc_<n>_<k>` (n: the
    process's n-th cache, one per connection, k: its k-th statement); `describe` describes it with
    the unnamed statement and executes it in the same exchange; prefer_simple_protocol=true sends
    the SQL text with its arguments. statement_cache_capacity=0 (no cache) prepares the unnamed
    statement in one exchange and binds it in the next: no named statement, not reported (nor a
    fix: through transaction pooling the second exchange may get another server connection)."""
    simple = params.get("prefer_simple_protocol")
    if simple is not None and simple.known and _go_bool(str(simple.value)) is True:
        return Prepares("pgx", Value(None, simple.raw, simple.span, simple.origin, "prefer_simple_protocol"), None,
                        "lrupsc_1_0", "statement_cache_mode", off)
    capacity = params.get("statement_cache_capacity")
    if capacity is not None and capacity.known and str(capacity.value).strip() == "0":
        return Prepares("pgx", Value(None, capacity.raw, capacity.span, capacity.origin, "statement_cache_capacity"),
                        None, "lrupsc_1_0", "statement_cache_mode", off)
    v = params.get("statement_cache_mode")
    mode = default("prepare") if v is None else Value(v.value, v.raw, v.span, v.origin, v.key, hint=v.hint)
    named = mode.known and str(mode.value) == "prepare"
    threshold = Value(mode.value if not mode.known else (1 if named else None), mode.raw, mode.span, mode.origin,
                      "statement_cache_mode")
    return Prepares("pgx", threshold, 1 if named else None, "lrupsc_1_0", "statement_cache_mode", off)


def pgx_prepares(params: dict[str, Value], off: str) -> Prepares:
    """pgx v5: default_query_exec_mode cache_statement (the default) parses every SQL text as
    `stmtcache_<sha256>` at its first execution; the other modes use the unnamed statement."""
    v = params.get("default_query_exec_mode")
    if v is None:
        mode = default("cache_statement")
    else:
        mode = Value(v.value, v.raw, v.span, v.origin, v.key, hint=v.hint, assumed=v.assumed)
    named = mode.known and str(mode.value) == "cache_statement"
    threshold = Value(mode.value if not mode.known else (1 if named else None), mode.raw, mode.span, mode.origin,
                      "default_query_exec_mode")
    return Prepares("pgx", threshold, 1 if named else None, "stmtcache_<hash>", "default_query_exec_mode", off)


# ------------------------------------------------------------------------------------------------
# SQLAlchemy


def sqlalchemy_endpoint(b: Builder, name: str, span: Span, params: dict[str, Value], extra: dict[str, Value],
                        dbapi: str | None, parsed: ParsedString | None = None, ini: bool = False,
                        read: bool = True) -> ClientEndpoint:
    """A SQLAlchemy engine; `ini`: its options are `sqlalchemy.*` keys of a Pyramid/Alembic ini file
    (engine_from_config), which is how a fix writes them; `read` False: only its URL is in the file
    (its pool plan is then unknown: sqlalchemy_plan)."""
    from advisor.loaders.clients.strings import PSYCOPG_DBAPIS

    libpq_family = dbapi is None or dbapi in PSYCOPG_DBAPIS
    ep = libpq_endpoint(b, name, span, "sqlalchemy", params, driver="sqlalchemy", validate=libpq_family)
    ep.dbapi = dbapi or "psycopg2"
    if not libpq_family:
        # asyncpg, pg8000: not libpq; pg8000's keepalive and TLS defaults are not modelled
        ep.keepalive = None
        if ep.sslmode is not None and ep.sslmode.origin == "default":
            ep.sslmode = Value(Unknown(f"{dbapi} default"), None, None, origin="default")
        if dbapi == "asyncpg":
            _asyncpg_tls(ep, params)
            ep.keepalive = asyncpg_keepalive()
    ep.pool = sqlalchemy_plan(b, extra, ini, read)
    if dbapi in ("psycopg", "psycopg_async"):
        # the dialect connects with psycopg.connect(): psycopg 3's prepare_threshold applies unless
        # create_engine(connect_args=...) sets it (where the caller knows the file holds them, it
        # says so and how the file writes it)
        ep.prepares = psycopg_prepares(extra.get("prepare_threshold"),
                                       'connect_args={"prepare_threshold": None} in create_engine()',
                                       read="prepare_threshold" in extra)
    elif dbapi == "asyncpg":
        ep.prepares = asyncpg_prepares(params, extra)
    return ep


def asyncpg_prepares(params: dict[str, Value], extra: dict[str, Value]) -> Prepares:
    """SQLAlchemy's asyncpg dialect prepares every statement with connection.prepare(), which
    asyncpg names `__asyncpg_stmt_<n>__` (its statement cache, 100, and SQLAlchemy's own,
    prepared_statement_cache_size, only keep them for reuse): through a transaction pooler a
    name meets a server connection that has it already, or not at all. Only a
    `prepared_statement_name_func` giving unique names (code, in connect_args) avoids that;
    `read` is whether the engine's options are in this file at all (a bare URL: they are in code)."""
    func = extra.get("prepared_statement_name_func") or params.get("prepared_statement_name_func")
    off = ('connect_args={"prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__", '
           '"statement_cache_size": 0} in create_async_engine() and prepared_statement_cache_size=0 in the URL')
    if func is not None:
        return Prepares("asyncpg", Value(None, func.raw, func.span, "set", "prepared_statement_name_func"), None,
                        "__asyncpg_stmt_1__", "prepared_statement_name_func", off)
    return Prepares("asyncpg", default("every statement"), 1, "__asyncpg_stmt_1__", "prepared_statement_name_func",
                    off, read=bool(extra))


def asyncpg_keepalive() -> Keepalive:
    """asyncpg has no keepalive argument and sets no SO_KEEPALIVE on its socket (asyncpg 0.31
    connect_utils: asyncio's loop.create_connection, then TCP_NODELAY only; asyncio sets no
    SO_KEEPALIVE on a client socket): its connections send no keepalive probes."""
    return Keepalive(enabled=default(False), idle=default(OS_KEEPALIVE[0], "os-default"),
                     interval=default(OS_KEEPALIVE[1], "os-default"), count=default(OS_KEEPALIVE[2], "os-default"),
                     note="no SO_KEEPALIVE on its socket, and no keepalive argument")


ASYNCPG_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _asyncpg_tls(ep: ClientEndpoint, params: dict[str, Value]) -> None:
    """The TLS mode of a SQLAlchemy URL read by asyncpg. SQLAlchemy hands the URL's query to
    asyncpg.connect() as keyword arguments (dialects/postgresql/asyncpg.py create_connect_args),
    and asyncpg's argument is `ssl`: one of libpq's six mode names (asyncpg connect_utils.SSLMode;
    another string is refused), unset: PGSSLMODE, else `prefer` over TCP. asyncpg.connect() has
    no `sslrootcert` argument: a CA comes from PGSSLROOTCERT or ~/.postgresql/root.crt, or from an
    SSLContext passed in connect_args. A libpq `sslmode=` is no argument of asyncpg.connect()
    (TypeError): kept as read, with its key, so that rules can tell."""
    ssl = params.get("ssl")
    if ssl is not None:
        known = ssl.known and str(ssl.value).lower() in ASYNCPG_SSLMODES
        ep.sslmode = Value(str(ssl.value).lower() if known else Unknown(ssl.raw or ""), ssl.raw, ssl.span,
                           ssl.origin if known else "set", key="ssl")
    elif params.get("sslmode") is None:
        ep.sslmode = default("prefer")
    ep.sslrootcert = None


# where a bare SQLAlchemy URL's engine options are
UNREAD_ENGINE = "its engine options are create_engine()'s arguments in code"


def sqlalchemy_plan(b: Builder, extra: dict[str, Value], ini: bool = False, read: bool = True) -> Pool:
    """The engine's pool. `read` False: the file holds only the URL (an environment variable, a
    line of text), so the options are not known (docs/clients.md)."""
    pool = Pool("sqlalchemy", default(math.inf), default(math.inf), default(False))
    if ini:
        pool.key_prefix, pool.ini = "sqlalchemy.", True

    def number(x: str) -> float | None:
        return js_parse_number(x)
    recycle = extra.get("pool_recycle")
    if recycle is not None:
        recycle = b.typed(recycle, number, lambda x: f'SQLAlchemy pool_recycle: "{x.raw}" is not a number of seconds',
                          lambda x: f"{pool.setting('pool_recycle', 1800)} (seconds)", unit="s")
        if recycle is not None and recycle.known and recycle.value < 0:
            recycle.value = math.inf
    pre_ping = extra.get("pool_pre_ping")
    if pre_ping is not None and ini and not pre_ping.unknown:
        # engine_from_config hands pool_pre_ping over as the ini's string (it coerces pool_recycle,
        # pool_size, ... but not this one), and the pool tests its truth: "false" pings too
        text = str(pre_ping.raw if pre_ping.raw is not None else pre_ping.value)
        pre_ping = Value(bool(text), pre_ping.raw, pre_ping.span, pre_ping.origin, pre_ping.key)
    elif pre_ping is not None:
        pre_ping = b.typed(pre_ping, client_bool, lambda x: f'SQLAlchemy pool_pre_ping: "{x.raw}" is not a boolean')
    size = extra.get("pool_size")
    if size is not None:
        size = b.typed(size, java_parse_int, lambda x: f'SQLAlchemy pool_size: "{x.raw}" is not an integer')
    overflow = extra.get("max_overflow")
    if overflow is not None:
        overflow = b.typed(overflow, java_parse_int, lambda x: f'SQLAlchemy max_overflow: "{x.raw}" is not an integer')
    pool.max_lifetime, pool.validation, pool.size = recycle or pool.max_lifetime, pre_ping or pool.validation, \
        size or default(5)
    pool.overflow = overflow or default(10)
    pool.validation_note = "SQLAlchemy tests a connection on checkout only with pool_pre_ping=True"
    if not read:
        # a bare URL: create_engine's options are in code, not here; its defaults are not assumed
        unknown = Value(Unknown("engine options not in this file"), None, None)
        pool.max_lifetime = pool.validation = pool.size = pool.overflow = unknown
        pool.unread = (f"{UNREAD_ENGINE} (pool_size, max_overflow, pool_recycle, pool_pre_ping), not in this file")
    return pool


# ------------------------------------------------------------------------------------------------
# psycopg_pool


def psycopg_pool_plan(b: Builder, extra: dict[str, Value]) -> Pool:
    def secs(key: str, dflt: float) -> Value:
        v = extra.get(key)
        if v is None:
            return default(dflt)
        t = b.typed(v, js_parse_number, lambda x: f'psycopg_pool {key}: "{x.raw}" is not a number of seconds',
                    lambda x: f"{key}=<seconds>", unit="s")
        return t  # type: ignore[return-value]
    check = extra.get("check")
    validation = default(False)
    if check is not None:
        known = not check.unknown and str(check.value).strip().lower() not in ("", "none", "null", "false")
        validation = Value(Unknown(check.raw or "") if check.unknown else known, check.raw, check.span, "set", check.key)
    size = extra.get("max_size") or extra.get("min_size")
    return Pool("psycopg_pool", secs("max_lifetime", 3600.0), secs("max_idle", 600.0), validation,
                "psycopg_pool checks a connection before handing it out only with check= (e.g. "
                "ConnectionPool.check_connection)", size or default(4))


# ------------------------------------------------------------------------------------------------
# node-postgres (pg Client + pg-pool)

NODE_TIMEOUT_MAX_MS = 2**31 - 1  # Node's setTimeout: a longer (or < 1 ms) delay fires after 1 ms
NODE_KEYS = ("keepAlive", "keepAliveInitialDelayMillis", "idleTimeoutMillis", "connectionTimeoutMillis",
             "maxLifetimeSeconds", "connectionString", "statement_timeout", "query_timeout",
             "idle_in_transaction_session_timeout", "max", "min", "ssl", "allowExitOnIdle", "maxUses")


def _node_sslmode(mode: Value, params: dict[str, Value]) -> Value:
    """A connection string's sslmode as pg-connection-string gives it to pg: any sslmode (or
    sslcert/sslkey/sslrootcert) makes `ssl` an object, so TLS is required whatever the mode but
    `disable` (prefer and allow never fall back to plaintext); `require`, `prefer`, `verify-ca` verify
    like verify-full (pg 8's deprecated reading), `no-verify` does not verify; with
    `uselibpqcompat=true`, `prefer` and `require` do not verify (without sslrootcert) and `verify-ca`
    does not check the host name."""
    m = str(mode.raw if mode.value is None else mode.value).strip().lower()  # (no-verify is no libpq mode)
    compat = str(getattr(params.get("uselibpqcompat"), "value", "")).lower() == "true"
    if m == "disable":
        node = "disable"
    elif m == "no-verify" or compat and m in ("prefer", "require") and "sslrootcert" not in params:
        node = "require"
    elif compat and m in ("verify-ca", "require"):
        node = "verify-ca"
    else:
        node = "verify-full"
    return Value(node, mode.raw, mode.span, mode.origin, "sslmode", assumed=mode.assumed)


def node_endpoint(b: Builder, name: str, span: Span, opts: dict[str, Value], loc: Locator | None = None,
                  pooled: bool | None = None) -> ClientEndpoint:
    """A node-postgres client from its options. `pooled`: True for a `new Pool()` (pg-pool, with its
    defaults), False for a `new Client()`, None when the options alone say (a JSON/YAML object:
    pooled when it holds a pool option)."""
    params: dict[str, Value] = {}
    cs = opts.get("connectionString")
    if cs is not None and cs.known and loc is not None:
        parsed = parse(str(cs.value))
        if parsed is not None:
            params.update(params_from_string(parsed, loc))
    for key, target in (("host", "host"), ("port", "port"), ("database", "dbname"), ("user", "user"), ("password", "password")):
        if key in opts:
            params[target] = opts[key]
    ep = libpq_endpoint(b, name, span, "options", params, driver="node-postgres", validate=False)
    ep.params.update({k: v for k, v in opts.items() if k not in ("password",)})

    def num(key: str) -> Value | None:
        return b.typed(opts.get(key), js_parse_number,
                       lambda x: f'node-postgres {key}: "{x.raw}" is not a number', lambda x: f"{key}=<number>")
    ka = opts.get("keepAlive")
    if ka is not None:
        ka = b.typed(ka, client_bool, lambda x: f'node-postgres keepAlive: "{x.raw}" is not true or false')
    delay = num("keepAliveInitialDelayMillis")
    if delay is not None and delay.known:
        delay.value = delay.value / 1000.0 if delay.value > 0 else OS_KEEPALIVE[0]
        if delay.value == OS_KEEPALIVE[0]:
            delay.origin = "os-default"
    ep.keepalive = Keepalive(enabled=ka or default(False), idle=delay or default(OS_KEEPALIVE[0], "os-default"),
                             interval=default(OS_KEEPALIVE[1], "os-default"), count=default(OS_KEEPALIVE[2], "os-default"),
                             note="node-postgres sets only the initial delay (socket.setKeepAlive)")
    ct = num("connectionTimeoutMillis")
    if ct is not None and ct.known:
        ct.value = math.inf if ct.value <= 0 else ct.value / 1000.0
    ep.connect_timeout = ct or default(math.inf)
    ep.tcp_user_timeout = default(0.0, "os-default")
    ssl = opts.get("ssl")
    mode: Value
    if ssl is None:
        mode = ep.sslmode if ep.sslmode is not None and ep.sslmode.is_set else default("disable")
        if mode.is_set and not mode.unknown:
            mode = _node_sslmode(mode, params)
    elif ssl.unknown:
        mode = Value(Unknown(ssl.raw or ""), ssl.raw, ssl.span, key="ssl")
    elif isinstance(ssl.value, dict):
        reject = ssl.value.get("rejectUnauthorized")
        if isinstance(reject, Unknown):
            mode = Value(Unknown(reject.text), ssl.raw or "{...}", ssl.span, key="ssl")
        else:
            mode = Value("require" if reject is False or str(reject).lower() == "false" else "verify-full",
                         ssl.raw or "{...}", ssl.span, key="ssl")
    else:
        on = client_bool(str(ssl.value))
        mode = Value("verify-full" if on else "disable", ssl.raw, ssl.span, key="ssl")
    ep.sslmode = mode
    life = num("maxLifetimeSeconds")
    if life is not None and life.known:
        life.value = math.inf if life.value <= 0 else life.value
    idle = num("idleTimeoutMillis")
    if idle is not None and idle.known:
        # pg-pool: `if (idleTimeoutMillis && ...) setTimeout(remove, idleTimeoutMillis)`: 0 disables
        # it; Node runs a delay below 1 ms or above 2^31-1 ms (about 24.8 days) after 1 ms
        ms = idle.value
        idle.value = math.inf if ms == 0 else 0.001 if ms < 1 or ms > NODE_TIMEOUT_MAX_MS else ms / 1000.0
    size = num("max")
    least = num("min")
    if least is not None and least.known:
        least.value = max(0.0, least.value)  # pg-pool: `this._clients.length > this.options.min`
    if pooled or pooled is None and any(k in opts for k in ("idleTimeoutMillis", "maxLifetimeSeconds", "max", "min",
                                                              "allowExitOnIdle", "maxUses")):
        ep.pool = Pool("pg-pool", life or default(math.inf), idle or default(10.0), default(False),
                       "pg-pool hands out idle clients without checking them", size or default(10))
        ep.pool.min_size = least or default(0.0)
    return ep
