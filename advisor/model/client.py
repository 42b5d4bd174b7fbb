"""The normalized client endpoint: what one application's connection settings amount to.

Every client format (libpq strings, JDBC URLs, Spring/HikariCP, SQLAlchemy, Django, psycopg_pool,
pgx, node-postgres, environment blocks, pg_service.conf) is turned into `ClientEndpoint`s, so the
rules ask one question ("does this client validate pooled connections?") whatever the library.

Conventions:
- every time is in **seconds** (`float`), whatever unit the library uses; `math.inf` = never;
- each `Value` keeps the raw text as written, the key as written and its `Span`; `origin` says
  where the value comes from: `set` (written in the file), `env` (a PG* variable beside it),
  `default` (the library's documented default) or `os-default` (the kernel's keepalive timers);
- a value that cannot be known before deploy (template placeholder, `${VAR}`, `os.environ[...]`)
  is `Unknown`; a placeholder with a default (`${VAR:default}`, `${VAR:-default}`, `${VAR-default}`,
  `os.environ.get("VAR", "default")`, `os.getenv("VAR", "default")`) is read as its default,
  *assumed*: `assumed` names the variable (`${VAR}`, `VAR`) whose default it is, and messages say
  so (`assumed_note`); `raw` is the default's text and the span points at it, inside the
  placeholder (an empty default stays `Unknown`, its default kept as `hint`);
- a value the library would reject is `None` with `error` saying why;
- passwords are `secret`: their raw text is never kept (`***`), and neither is their hint.
"""

from __future__ import annotations

import math
from typing import Any

from advisor.model import Record, Span, Unknown, is_known

# Linux net.ipv4.tcp_keepalive_time / _intvl / _probes
OS_KEEPALIVE = (7200.0, 75.0, 9)
# Go's net.Dialer default KeepAliveConfig (pgx dials with a zero net.Dialer)
GO_KEEPALIVE = (15.0, 15.0, 9)

# what asyncpg.connect() reads itself from a DSN's query (asyncpg 0.31 connect_utils
# _parse_connect_dsn_and_args) and as its own keyword arguments; it sends every other query key to
# the server as a setting (server_settings), as it does server_settings={...}
ASYNCPG_READS = frozenset({
    "host", "port", "dbname", "database", "user", "password", "passfile", "sslmode", "sslcert", "sslkey",
    "sslrootcert", "sslnegotiation", "sslcrl", "sslpassword", "ssl_min_protocol_version", "ssl_max_protocol_version",
    "target_session_attrs", "krbsrvname", "gsslib", "service", "servicefile",
    "ssl", "timeout", "command_timeout", "statement_cache_size", "direct_tls"})

DRIVERS = ("libpq", "pgjdbc", "sqlalchemy", "django", "psycopg_pool", "pgx", "node-postgres", "rails", "url", "asyncpg")


# libpq's per-connection TCP keepalive keys (a driver that does not know them may forward them to the server)
LIBPQ_KEEPALIVE_KEYS = ("keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout")


# how long common pools keep an unused connection by default (psycopg_pool max_idle, which checks
# none on borrow by default; HikariCP idleTimeout): a timer below it cuts idle pooled connections
# under ordinary use, and with no client read only such a timer is reported (HAP005, PATH002)
COMMON_POOL_IDLE_S = 600

# how long common pools that retire idle connections keep one by default: HikariCP's maxLifetime
# and pgxpool's MaxConnIdleTime (both 30 min; HikariCP's documentation asks for a lifetime several
# seconds shorter than any infrastructure limit). A traffic-reset timer at or below it is inside what
# common pools count as usable, and pools that never retire idle connections (SQLAlchemy's default,
# psycopg_pool's min_size connections, which it checks for expiry only when they are returned) meet it
# after a quiet half hour: with no client read it is reported as info, saying which clients to give
COMMON_POOL_RETIRE_S = 1800
# how HAP005 and PATH002 say it, and what they ask for when no client was read
COMMON_POOL_RETIRE_SAID = ("common pools keep an idle connection that long by default (HikariCP's maxLifetime and "
                           "pgxpool's MaxConnIdleTime: 30 min; HikariCP and pgx v5 check a connection before lending "
                           "it, so for them the cut costs a reconnect, not a failed query)")
GIVE_CLIENTS = ("give pgpath the clients' configuration (or declare them as client hops in pgpath.yaml's "
                "deployments:) to have each pool checked against this timer")


class Value(Record):
    """One client setting: typed value, where it came from, and how it was written."""

    __slots__ = ("value", "raw", "span", "origin", "key", "secret", "hint", "unit", "error", "assumed")

    def __init__(self, value: Any, raw: str | None = None, span: Span | None = None, origin: str = "set",
                 key: str | None = None, secret: bool = False, hint: str | None = None, unit: str | None = None,
                 error: str | None = None, assumed: str | None = None) -> None:
        self.value = value
        self.raw = raw
        self.span = span
        self.origin = origin  # set | env | default | os-default
        self.key = key
        self.secret = secret
        self.hint = hint
        self.unit = unit  # unit of the raw text: s, ms, duration, ...
        self.error = error
        # the variable whose default this value is (`${DB_HOST}`, `DB_HOST`): the value holds only
        # when the variable is unset at run time
        self.assumed = assumed

    @property
    def assumed_note(self) -> str:
        """`assumed: the default of ${DB_HOST}`, or "" for a value written as it is."""
        return f"assumed: the default of {self.assumed}" if self.assumed else ""

    @property
    def known(self) -> bool:
        return is_known(self.value)

    @property
    def is_set(self) -> bool:
        return self.origin in ("set", "env")

    @property
    def unknown(self) -> bool:
        return isinstance(self.value, Unknown)

    @property
    def display(self) -> str:
        """The value as written, for messages: secrets as `***`, passwords inside URLs redacted."""
        if self.secret:
            return "***"
        return _redact(self.raw) if self.raw is not None else _show(self.value)

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, Unknown):
            value = {"unknown": "***" if self.secret else _redact(value.text)}
        elif self.secret:
            value = "***"
        elif isinstance(value, float) and math.isinf(value):
            value = "never"
        elif isinstance(value, str):
            value = _redact(value)
        out: dict[str, Any] = {"value": value, "origin": self.origin}
        if self.raw is not None:
            out["raw"] = "***" if self.secret else _redact(self.raw)
        if self.key:
            out["key"] = self.key
        if self.unit:
            out["unit"] = self.unit
        if self.hint is not None and not self.secret:
            out["hint"] = _redact(self.hint)
        if self.error:
            out["error"] = self.error
        if self.assumed:
            out["assumed"] = self.assumed_note
        if self.span is not None:
            out["span"] = self.span.to_dict()
        return out


def default(value: Any, origin: str = "default", unit: str | None = None) -> Value:
    return Value(value=value, origin=origin, unit=unit)


def _redact(text: str) -> str:
    from advisor.loaders.clients.strings import redact_any

    return redact_any(text)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isinf(value):
            return "never"
        return f"{value:g}"
    return str(value)


def seconds(value: Value | None) -> float | None:
    """The value in seconds when it is a known number, else None."""
    if value is None or not value.known or isinstance(value.value, bool):
        return None
    if isinstance(value.value, (int, float)):
        return float(value.value)
    return None


class Keepalive(Record):
    """The TCP keepalive plan of a client socket.

    `idle`, `interval`, `count` are the effective timers (the OS or Go defaults when the driver
    leaves them unset). `honours_libpq_keys` is False for pgx, which ignores `keepalives_*` in
    its DSN (and forwards them to the server, which rejects them).
    """

    __slots__ = ("enabled", "idle", "interval", "count", "honours_libpq_keys", "note")

    def __init__(self, enabled: Value, idle: Value, interval: Value, count: Value, honours_libpq_keys: bool = True,
                 note: str = "") -> None:
        self.enabled = enabled
        self.idle = idle
        self.interval = interval
        self.count = count
        self.honours_libpq_keys = honours_libpq_keys
        self.note = note

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name).to_dict() for name in ("enabled", "idle", "interval", "count")}
        out["honours_libpq_keys"] = self.honours_libpq_keys
        if self.note:
            out["note"] = self.note
        return out


class Pool(Record):
    """A connection pool's recycle plan.

    `max_lifetime` / `max_idle` in seconds (`math.inf` = never); `validation` True when a
    pooled connection is checked before it is handed out, with `validation_note` saying how.
    """

    __slots__ = ("library", "max_lifetime", "max_idle", "validation", "validation_note", "size", "keepalive_time",
                 "health_check_period", "persistent", "key_prefix", "kebab", "ini", "yaml", "python", "min_size",
                 "validation_timeout", "borrow_timeout", "retired_by_health_check", "version", "error_listener", "section",
                 "overflow", "unread")

    def __init__(self, library: str, max_lifetime: Value, max_idle: Value, validation: Value, validation_note: str = "",
                 size: Value | None = None, keepalive_time: Value | None = None,
                 health_check_period: Value | None = None, persistent: bool = True) -> None:
        self.library = library
        self.max_lifetime = max_lifetime
        self.max_idle = max_idle
        self.validation = validation
        self.validation_note = validation_note
        self.size = size
        self.keepalive_time = keepalive_time  # HikariCP keepaliveTime
        self.health_check_period = health_check_period  # pgxpool
        self.persistent = persistent  # Django CONN_MAX_AGE=0 closes the connection after each request
        # how the file writes a setting of this pool (HikariCP under Spring Boot:
        # `spring.datasource.hikari.` and kebab-case `max-lifetime`; hikari.properties: `maxLifetime`;
        # SQLAlchemy in a Pyramid/Alembic ini: `sqlalchemy.pool_recycle = 300`)
        self.key_prefix = ""
        self.kebab = False
        self.ini = False
        self.yaml = False  # Spring Boot's application.yml: `max-lifetime: 570000 under spring.datasource.hikari`
        # Django: "dict" for a DATABASES entry (`"CONN_MAX_AGE": 870`), "call" for dj_database_url's
        # keyword arguments (`conn_max_age=870`)
        self.python = ""
        # pg-pool `min`: the clients its idle timer spares (None where the loader does not read it)
        self.min_size: Value | None = None
        # HikariCP validationTimeout and connectionTimeout, seconds (None where the loader does not read them):
        # how long a check on borrow waits for an answer, and how long a borrow may take in all
        self.validation_timeout: Value | None = None
        self.borrow_timeout: Value | None = None
        # pgx v4's pgxpool: a connection past its lifetime (or idle past max_idle, above min_size)
        # is closed only by the health check every health_check_period, and lent until then
        self.retired_by_health_check = False
        self.version = ""  # the library's version as decided, for messages (`pgx v4 (... in go.mod:3)`)
        # pg-pool read in code (advisor.loaders.clients.jscode): where the module listens for the
        # pool's 'error' event (`pool.on('error', ...)`), or a Span-less False when it does not;
        # None when the code was not read
        self.error_listener: Value | None = None
        # Rails: the database.yml environment whose keys these are (`idle_timeout: 270 under production`)
        self.section = ""
        # SQLAlchemy's max_overflow: connections QueuePool opens beyond pool_size when every pooled one
        # is checked out (None elsewhere)
        self.overflow: Value | None = None
        # why the pool's options are not known although its library is (a bare SQLAlchemy URL: the
        # engine's options are create_engine's arguments, in code); "" when they were read
        self.unread = ""

    def most(self) -> tuple[int | None, str, bool]:
        """The most connections the pool opens at once, how that is said (`pool_size 20 +
        max_overflow 10 = 30`) and whether the figure is a lower bound (pgxpool's default depends on
        the CPUs); None with the reason when no number bounds it or it is not known.

        - SQLAlchemy QueuePool: pool_size (default 5) + max_overflow (default 10); pool_size 0 or
          max_overflow -1: no limit (sqlalchemy/pool/impl.py QueuePool.__init__, 2.x);
        - HikariCP: maximumPoolSize (default 10; HikariConfig.validateNumerics resets one below 1 to 10);
        - psycopg_pool: max_size, which defaults to min_size (default 4) (psycopg_pool/base.py);
        - pgxpool: pool_max_conns, default max(4, runtime.NumCPU()): at least 4;
        - pg-pool: max (default 10);
        - asyncpg.create_pool(): max_size (default 10);
        - Django's own persistent connections: one per process or thread that runs queries."""
        if self.unread:
            return None, self.unread, False
        size = self.size
        if size is None:
            if self.library == "django":
                return 1, "1 connection per process or thread (how many run is not in the files read: counted once)", True
            return 1, "1 connection", False
        if not size.known or not isinstance(size.value, (int, float)) or isinstance(size.value, bool):
            if self.library == "pgxpool" and size.origin == "default":
                return 4, "pool_max_conns not set: max(4, NumCPU), at least 4", True
            return None, f"{size.key or 'pool size'} not known ({size.display})", False
        n = int(size.value)
        dflt = " (default)" if size.origin == "default" else ""
        if self.library == "sqlalchemy":
            over = self.overflow if self.overflow is not None else Value(10, origin="default")
            if not over.known or not isinstance(over.value, (int, float)):
                return None, f"max_overflow not known ({over.display})", False
            o = int(over.value)
            odflt = " (default)" if over.origin == "default" else ""
            if n == 0 or o < 0:
                why = "pool_size 0" if n == 0 else f"max_overflow {o}"
                return None, f"{why}: SQLAlchemy's QueuePool opens connections without a limit", False
            return n + o, f"pool_size {n}{dflt} + max_overflow {o}{odflt} = {n + o}", False
        if self.library == "hikaricp":
            key = (size.key or "maximumPoolSize").rsplit(".", 1)[-1]
            if n < 1:
                return 10, f"{key} {n} (below 1: HikariCP uses 10)", False
            return n, f"{key} {n}{dflt}", False
        if self.library == "psycopg_pool":
            if size.origin == "default":
                return n, f"max_size not set = min_size {n} (default)", False
            if size.key == "min_size":
                return n, f"max_size not set = min_size {n}", False
            return n, f"max_size {n}", False
        if self.library == "pgxpool":
            return n, f"pool_max_conns {n}", False
        if self.library == "pg-pool":
            return n, f"max {n}{dflt}", False
        if self.library == "asyncpg":
            return n, f"max_size {n}{dflt}", False
        return n, f"pool {n}{dflt}", False

    @property
    def idle_key(self) -> str:
        """The library's name for the timer idle_bound() reads, for messages."""
        return {"asyncpg": "max_inactive_connection_lifetime", "rails": "idle_timeout"}.get(self.library,
                                                                                       "idleTimeoutMillis")

    def key(self, name: str) -> str:
        """The key a fix writes for the pool setting `name` (`maxLifetime`), as the file writes keys."""
        return written_key(name, self.key_prefix, self.kebab)

    def setting(self, name: str, value: Any) -> str:
        """`name=value` as the file writes it (`sqlalchemy.pool_pre_ping = true` in an ini file,
        `"CONN_MAX_AGE": 870` in a Django DATABASES entry)."""
        if self.library == "rails":
            return f"{name}: {value} under {self.section} in database.yml"
        if self.python:
            shown = repr(value) if isinstance(value, (bool, type(None), str)) else value
            return f'"{name}": {shown}' if self.python == "dict" else f"{name.lower()}={shown}"
        return written_setting(self.key(name), value, yaml=self.yaml, ini=self.ini)

    def keepalive_every(self) -> float | None:
        """Seconds between the keepalive queries HikariCP runs on each idle pooled connection, or
        None when it runs none. HikariPool schedules a KeepaliveTask per connection every
        keepaliveTime less up to 10 % (scheduleWithFixedDelay); the task validates the connection
        (isValid: pgjdbc sends an empty query, or connectionTestQuery) only when it is idle in the
        pool, never one the application holds. HikariConfig.validateNumerics disables a
        keepaliveTime below 30000 ms or not below a maxLifetime that is set (HikariCP @604d7d5)."""
        keep = self.keepalive_time
        if self.library == "rails":
            return self._rails_keepalive_every()
        if self.library != "hikaricp" or keep is None or not keep.known or not isinstance(keep.value, (int, float)):
            return None
        if keep.value < 30:  # 0: off
            return None
        life = self.max_lifetime
        if life.known and isinstance(life.value, (int, float)) and not math.isinf(life.value) and keep.value >= life.value:
            return None
        return float(keep.value)

    def _rails_keepalive_every(self) -> float | None:
        """activerecord 8.1's keepalive: each reaper round (every reaping_frequency) sends `;` on the
        connections idle in the pool for more than `keepalive` (less a jitter of up to 20 %:
        ConnectionPool#keep_alive), so one sits silent at most keepalive + reaping_frequency; None
        before 8.1, with keepalive 0, or without a reaper."""
        keep, period = self.keepalive_time, self.health_check_period
        if keep is None or period is None:
            return None
        if not all(v.known and isinstance(v.value, (int, float)) and not isinstance(v.value, bool)
                   and not math.isinf(v.value) for v in (keep, period)):
            return None
        return float(keep.value) + float(period.value)

    def idle_bound(self) -> float | None:
        """Seconds within which the pool closes *every* connection left idle in it, so it never
        hands out one idle longer; None when some may idle longer (or it is not known).

        asyncpg's pool has one for every connection (`max_inactive_connection_lifetime`, below);
        otherwise only pg-pool: `idleTimeoutMillis` (default 10000; 0 disables it) is
        armed when a client is released while the pool holds more than `min` clients, and closes
        it unless it was checked out again. With `min` > 0 the clients released at or below `min`
        get no timer and idle for ever. (psycopg_pool's `max_idle` and HikariCP's `idleTimeout`
        likewise spare `min_size`/`minimumIdle` connections, so they bound no connection here.)

        Rails' pool reaper wakes every `reaping_frequency` (default 60 s, 20 s from 8.1; none when 0
        or nil) and closes every connection idle at least `idle_timeout` (default 300 s; 0 = never):
        a connection idles at most their sum (ConnectionPool#flush, activerecord 7.1-8.1; 8.1's
        `min_connections` > 0 keeps that many however long they idle, and its `max_age` retires idle
        connections of that age at a round, min_connections ones too)."""
        if self.library == "rails":
            least, idle, period, age = self.min_size, self.max_idle, self.health_check_period, self.max_lifetime

            def finite(v) -> bool:
                return v is not None and v.known and isinstance(v.value, (int, float)) and not math.isinf(v.value)

            if not finite(period):
                return None
            bounds = [float(age.value)] if finite(age) else []  # 8.1 max_age: retired at a round, idle or not
            if finite(idle) and least is not None and least.known and least.value == 0:
                bounds.append(float(idle.value))
            return min(bounds) + float(period.value) if bounds else None
        if self.library == "asyncpg":
            # asyncpg's pool closes every connection idle max_inactive_connection_lifetime (300 s by
            # default; 0 disables it), min_size ones included (PoolConnectionHolder's inactivity
            # callback), and reconnects on the next acquire
            idle = self.max_idle
            if not idle.known or not isinstance(idle.value, (int, float)) or math.isinf(idle.value):
                return None
            return float(idle.value)
        if self.library != "pg-pool" or self.min_size is None or not self.min_size.known or self.min_size.value != 0:
            return None
        idle = self.max_idle
        if not idle.known or not isinstance(idle.value, (int, float)) or math.isinf(idle.value):
            return None
        return float(idle.value)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"library": self.library, "persistent": self.persistent}
        for name in ("max_lifetime", "max_idle", "validation", "size", "keepalive_time", "health_check_period",
                     "min_size", "validation_timeout", "borrow_timeout"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.to_dict()
        if self.overflow is not None:
            out["max_overflow"] = self.overflow.to_dict()
        if self.validation_note:
            out["validation_note"] = self.validation_note
        if self.unread:
            out["unread"] = self.unread
        return out


def written_setting(key: str, value: Any, yaml: bool = False, ini: bool = False) -> str:
    """`key=value` as a file writes it: `sqlalchemy.pool_recycle = 300` in an ini file (booleans
    `true`), `max-lifetime: 1800000 under spring.datasource.hikari` in YAML, else
    `spring.datasource.hikari.max-lifetime=1800000` (Java properties)."""
    if ini:
        return f"{key} = {str(value).lower() if isinstance(value, bool) else value}"
    if yaml and "." in key:
        parent, last = key.rsplit(".", 1)
        return f"{last}: {value} under {parent}"
    return f"{key}={value}"


def written_key(name: str, prefix: str = "", kebab: bool = False) -> str:
    """`maxLifetime` as a file writes it: `spring.datasource.hikari.max-lifetime` (prefix, kebab-case)."""
    if kebab:
        name = "".join(f"-{c.lower()}" if c.isupper() else c for c in name)
    return prefix + name


class Prepares(Record):
    """What a driver does about named (protocol-level) prepared statements, which live on the one
    server connection that parsed them (facts: docs/prepared-statements.md).

    `threshold` is the driver's setting as read (its value None = never prepares; Unknown = not
    known before deploy); `first` the execution of one statement on one connection that parses
    it under a name (psycopg 3: threshold + 1; pgjdbc: the threshold itself; pgx: 1), None when
    it never does; `name` how the driver names them (`_pg3_0`); `setting` the driver's name for
    the setting (`prepare_threshold`); `off` how this file turns it off (a fix, as the file writes
    it); `read` False when the options that would turn it off are not in this file (a bare
    SQLAlchemy URL: create_engine's connect_args are in code)."""

    __slots__ = ("library", "threshold", "first", "name", "setting", "off", "read")

    def __init__(self, library: str, threshold: Value, first: int | None, name: str, setting: str, off: str,
                 read: bool = True) -> None:
        self.library = library
        self.threshold = threshold
        self.first = first
        self.name = name
        self.setting = setting
        self.off = off
        self.read = read

    def to_dict(self) -> dict[str, Any]:
        return {"library": self.library, "threshold": self.threshold.to_dict(), "first_named_execution": self.first,
                "name": self.name, "setting": self.setting, "off": self.off, "read": self.read}


class ServerCursors(Record):
    """Django: whether QuerySet.iterator() reads through a named server-side cursor (declared WITH
    HOLD in autocommit, so it outlives its transaction). `used` True unless
    DISABLE_SERVER_SIDE_CURSORS (as read: key and span where written); `atomic` True with
    ATOMIC_REQUESTS = True (views then run in one transaction, and their cursors end with it);
    `off` how this file turns them off."""

    __slots__ = ("used", "atomic", "off")

    def __init__(self, used: Value, atomic: bool, off: str) -> None:
        self.used = used
        self.atomic = atomic
        self.off = off

    def to_dict(self) -> dict[str, Any]:
        return {"used": self.used.to_dict(), "atomic_requests": self.atomic, "off": self.off}


class ClientEndpoint(Record):
    """One client as configured in one place: driver, target, keepalives, TLS, pool."""

    __slots__ = ("driver", "name", "span", "form", "hosts", "ports", "dbname", "user", "password", "keepalive",
                 "tcp_user_timeout", "connect_timeout", "socket_timeout", "sslmode", "sslrootcert",
                 "ssl_min_protocol_version", "ssl_max_protocol_version", "pool", "params", "dbapi", "template",
                 "service", "service_shown", "prepares", "server_cursors", "pgx", "pgjdbc", "spring", "overrides",
                 "driver_assumed", "url_keys")

    def __init__(self, driver: str, name: str, span: Span, form: str, hosts: list[Value] | None = None,
                 ports: list[Value] | None = None, dbname: Value | None = None, user: Value | None = None,
                 password: Value | None = None, keepalive: Keepalive | None = None,
                 tcp_user_timeout: Value | None = None, connect_timeout: Value | None = None,
                 socket_timeout: Value | None = None, sslmode: Value | None = None, sslrootcert: Value | None = None,
                 ssl_min_protocol_version: Value | None = None, ssl_max_protocol_version: Value | None = None,
                 pool: Pool | None = None, params: dict[str, Value] | None = None, dbapi: str | None = None,
                 template: bool = False) -> None:
        self.driver = driver
        self.name = name
        self.span = span
        self.form = form
        self.hosts = [] if hosts is None else hosts
        self.ports = [] if ports is None else ports
        self.dbname = dbname
        self.user = user
        self.password = password
        self.keepalive = keepalive
        self.tcp_user_timeout = tcp_user_timeout
        self.connect_timeout = connect_timeout
        self.socket_timeout = socket_timeout
        self.sslmode = sslmode
        self.sslrootcert = sslrootcert
        self.ssl_min_protocol_version = ssl_min_protocol_version
        self.ssl_max_protocol_version = ssl_max_protocol_version
        self.pool = pool
        self.params = {} if params is None else params
        self.dbapi = dbapi  # SQLAlchemy dialect driver (psycopg2, asyncpg, ...)
        self.template = template
        self.service = ""  # the compose service or Kubernetes container whose environment holds it
        self.service_shown = False  # another service of the file sets the same variable: names say which
        # named prepared statements (Prepares), when the driver is known to make them; None when it
        # never does (psycopg2, libpq, node-postgres without `name`) or the driver is not known
        self.prepares: Prepares | None = None
        self.server_cursors: ServerCursors | None = None  # Django's server-side cursors; None elsewhere
        # pgx: the major its Go module requires (advisor.loaders.clients.gomod.PgxVersion); None elsewhere
        self.pgx = None
        # pgjdbc: the version its Java build names (advisor.loaders.clients.jdbcversion.PgjdbcVersion); None elsewhere
        self.pgjdbc = None
        # Spring Boot's spring.datasource of a properties/YAML file: (the options read beside its URL,
        # as jdbc_endpoint takes them; spring.application.name as a Value or None), so that an
        # environment override of the same application (SPRING_DATASOURCE_URL) is read with them
        # (advisor.loaders.clients.spring); None elsewhere
        self.spring: tuple[dict, Value | None] | None = None
        # what this client's settings were merged from, said (`SPRING_DATASOURCE_URL overrides
        # spring.datasource.url of app/application.yml ...`, `DATABASE_URL from container api of
        # Deployment ledger-api ...`: advisor.loaders.clients.env_join); "" when read from one place
        self.overrides = ""
        # True when no evidence names the library that reads this string (a URL in an environment
        # block, a .env file, a YAML value): it is read as libpq reads it, but what a library decides
        # for itself (whether sslmode=require verifies: node-postgres does) is not known
        self.driver_assumed = False
        # the libpq keys a Rails configuration's URL sets, whose values win over its section's keys
        # (ActiveRecord's UrlConfig merges the URL's hash over the section's): a fix to one of them
        # goes in the URL
        self.url_keys: frozenset[str] = frozenset()

    @property
    def asyncpg(self) -> bool:
        """asyncpg makes the connection: asyncpg.connect() in code, or SQLAlchemy's asyncpg dialect."""
        return self.driver == "asyncpg" or (self.driver == "sqlalchemy" and self.dbapi == "asyncpg")

    def who(self) -> str:
        """`DATABASE_URL`, or `electric: DATABASE_URL` when another compose service (or container) of
        the file sets DATABASE_URL too (only then: messages, and so baselines, stay as they were)."""
        return f"{self.service}: {self.name}" if self.service and self.service_shown else self.name

    def label(self) -> str:
        """`DATABASE_URL (libpq)`, `electric: DATABASE_URL (libpq)`: the hop's name on a path;
        `DATABASES['default'] (django; assumed: the defaults of DB_HOST, DB_PORT)` when where it
        connects is a placeholder's default (a path through it holds only with those unset)."""
        note = self.assumed_target()
        return f"{self.who()} ({self.driver_said()}{'; ' + note if note else ''})"

    def driver_said(self) -> str:
        """The driver as messages name it: `libpq`, `node-postgres`...; `driver unknown` for PG*
        variables of a container whose code is not read (libpq, node-postgres, pgx and asyncpg all
        read them, each with its own defaults); `url` for a URL some library strips its own keys from."""
        return "driver unknown" if self.driver == "url" and self.form == "env" else self.driver

    def assumed_target(self) -> str:
        """`assumed: the default of ${DB_HOST}` when a host or port this client connects to is the
        default of a placeholder (Value.assumed), else ""."""
        names: list[str] = []
        for v in (*self.hosts, *self.ports):
            if v.assumed and v.assumed not in names:
                names.append(v.assumed)
        if not names:
            return ""
        return f"assumed: the default{'s' if len(names) > 1 else ''} of {', '.join(names)}"

    def param(self, *names: str) -> Value | None:
        """The first of these keys set on the endpoint (case-sensitive, as the driver reads them)."""
        for name in names:
            if name in self.params:
                return self.params[name]
        return None

    def session_setting(self, name: str) -> Value | None:
        """A PostgreSQL parameter this client sets for its own sessions at connect time, as the
        text the server parses: a run-time parameter of the StartupMessage (pgx sends every DSN key
        it does not read itself, asyncpg every DSN query key it does not read and its server_settings;
        node-postgres its `statement_timeout`), else `-c name=value` /
        `--name=value` in the `options` parameter (libpq, pgjdbc, pgx, node-postgres). The server
        applies these after ALTER ROLE/DATABASE settings (source PGC_S_CLIENT), the run-time
        parameters after `options`."""
        if self.driver in ("pgx", "node-postgres") and name in self.params:
            return self.params[name]
        if self.driver == "asyncpg" and name in self.params and name not in ASYNCPG_READS:
            return self.params[name]  # a DSN query key or server_settings entry: sent as a setting
        if self.driver == "rails" and f"variables.{name}" in self.params:
            # Rails sends its `variables:` as `SET SESSION name TO value` right after connecting
            v = self.params[f"variables.{name}"]
            return Value(v.value if not v.known else str(v.value), v.raw, v.span, v.origin, key="variables",
                         assumed=v.assumed)
        options = self.params.get("options")
        if options is None or not options.known or not isinstance(options.value, str):
            return None
        found = None
        for key, text, _shown in options_settings(options.value):
            if key.replace("-", "_").lower() == name and text:
                found = Value(text, text, options.span, options.origin, key="options")
        return found

    def target(self) -> str:
        """`host:port/db` for messages (never credentials); `db:5432/app (assumed: the default of
        ${DB_HOST})` when a part of it is a placeholder's default."""
        hosts = ",".join(v.display for v in self.hosts) or "(default host)"
        port = ",".join(v.display for v in self.ports)
        db = f"/{self.dbname.display}" if self.dbname is not None else ""
        names = list(dict.fromkeys(v.assumed for v in (*self.hosts, *self.ports, self.dbname)
                                   if v is not None and v.assumed))
        note = f" (assumed: the default{'s' if len(names) > 1 else ''} of {', '.join(names)})" if names else ""
        return f"{hosts}{':' + port if port else ''}{db}{note}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"driver": self.driver, "name": self.name, "form": self.form, "span": self.span.to_dict()}
        if self.service:
            out["service"] = self.service
        if self.dbapi:
            out["dbapi"] = self.dbapi
        out["hosts"] = [v.to_dict() for v in self.hosts]
        out["ports"] = [v.to_dict() for v in self.ports]
        for name in ("dbname", "user", "password", "tcp_user_timeout", "connect_timeout", "socket_timeout",
                     "sslmode", "sslrootcert", "ssl_min_protocol_version", "ssl_max_protocol_version"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.to_dict()
        if self.keepalive is not None:
            out["keepalive"] = self.keepalive.to_dict()
        if self.pool is not None:
            out["pool"] = self.pool.to_dict()
        if self.prepares is not None:
            out["prepares"] = self.prepares.to_dict()
        if self.server_cursors is not None:
            out["server_cursors"] = self.server_cursors.to_dict()
        if self.pgx is not None:
            out["pgx"] = self.pgx.to_dict()
        if self.pgjdbc is not None:
            out["pgjdbc"] = self.pgjdbc.to_dict()
        out["params"] = {k: v.to_dict() for k, v in self.params.items()}
        if self.overrides:
            out["overrides"] = self.overrides
        out["template"] = self.template
        return out


class ClientFile(Record):
    """The model of one client configuration file: its endpoints, in file order."""

    __slots__ = ("format", "endpoints")

    def __init__(self, format: str, endpoints: list[ClientEndpoint] | None = None) -> None:
        self.format = format
        self.endpoints = [] if endpoints is None else endpoints

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "endpoints": [e.to_dict() for e in self.endpoints]}


def options_settings(text: str) -> list[tuple[str, str, str]]:
    """The words of a startup `options` parameter as (name, value, the word as written): `-c
    name=value`, `-cname=value` and `--name=value` give a name; any other word has none ("")."""
    out: list[tuple[str, str, str]] = []
    words = _split_options(text)
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-c" and i + 1 < len(words):
            pair, shown, i = words[i + 1], f"-c {words[i + 1]}", i + 2
        elif word.startswith("-c") and len(word) > 2:
            pair, shown, i = word[2:], word, i + 1
        elif word.startswith("--") and "=" in word:
            pair, shown, i = word[2:], word, i + 1
        else:
            out.append(("", "", word))
            i += 1
            continue
        key, _, value = pair.partition("=")
        out.append((key, value, shown))
    return out


def _split_options(text: str) -> list[str]:
    """The words of a startup `options` string as PostgreSQL splits them (pg_split_opts): on
    whitespace, a backslash keeping the next character (a space in a value is written `\\ `)."""
    words, word, escaped, started = [], [], False, False
    for ch in text:
        if escaped:
            word.append(ch)
            escaped = False
        elif ch == "\\":
            escaped, started = True, True
        elif ch.isspace():
            if started:
                words.append("".join(word))
            word, started = [], False
        else:
            word.append(ch)
            started = True
    if started:
        words.append("".join(word))
    return words
