"""Every PgBouncer setting: name, type, unit and default, per PgBouncer version.

The one table the PgBouncer loader and rules read. Sources: `src/main.c` (the `bouncer_params`
table, which is also the order of `SHOW CONFIG`), `src/loader.c` (connection-string keys of
`[databases]`, `[users]`, `[peers]`) and NEWS.md of github.com/pgbouncer/pgbouncer; the 1.18
column was checked against `SHOW CONFIG` of a real PgBouncer 1.18.0 (tests/test_pgbouncer_parity.py).

Types are PgBouncer's own (`CF_INT` strtol, `CF_UINT` strtoul, `CF_TIME_USEC` strtod seconds,
`CF_LOOKUP` case-insensitive names, `CF_STR`); units are what the number means:
`s` (fractional seconds, no suffix allowed), `ms`, `B` (bytes), or None.
"""

from __future__ import annotations

from advisor import lazy_re
from advisor.pgbversion import NEWEST as _NEWEST
from advisor.model import Record
from advisor.units import decimal

Version = tuple[int, int]

NEWEST: Version = _NEWEST  # (kept in advisor.pgbversion, which a run without PgBouncer imports alone)
_VERSION = lazy_re.compile(r"(\d+)\.(\d+)")  # the first major.minor in a version text
OLDEST: Version = (1, 0)  # the table is exact from 1.7 on; older versions get 1.7's list

INT, UINT, TIME, ENUM, STR = "int", "uint", "time", "enum", "str"

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
POOL_MODES = ("session", "transaction", "statement")
AUTH_TYPES = ("any", "trust", "plain", "md5", "cert", "hba", "ldap", "pam", "scram-sha-256")


class Param(Record):
    """One `[pgbouncer]` setting.

    `defaults` lists (first version, default text) in version order: the default in force for
    a version is the last entry whose version is <= it. `since`/`until` bound the versions that
    know the setting; `flag` is "bool" for the 0/1 integers PgBouncer uses as switches.
    """

    __slots__ = ("name", "type", "defaults", "unit", "choices", "since", "until", "flag", "restart", "secret", "path")

    def __init__(self, name: str, type: str, defaults: tuple[tuple[Version, str | None], ...], unit: str | None = None,
                 choices: tuple[str, ...] = (), since: Version = OLDEST, until: Version | None = None,
                 flag: str | None = None, restart: bool = False, secret: bool = False, path: bool = False) -> None:
        self.name = name
        self.type = type
        self.defaults = defaults
        self.unit = unit
        self.choices = choices
        self.since = since
        self.until = until
        self.flag = flag
        self.restart = restart  # CF_NO_RELOAD
        self.secret = secret
        self.path = path  # a file name: shown, never read

    def __hash__(self) -> int:
        return hash(self._field_values())

    def default(self, version: Version) -> str | None:
        found = None
        for first, text in self.defaults:
            if version >= first:
                found = text
        return found

    def known_in(self, version: Version) -> bool:
        return version >= self.since and (self.until is None or version < self.until)


def _p(name, type_, default, unit=None, **kw) -> Param:
    defaults = default if isinstance(default, tuple) and default and isinstance(default[0], tuple) else (
        (OLDEST, default),)
    return Param(name, type_, defaults, unit, **kw)


V = lambda text: tuple(int(x) for x in text.split("."))  # noqa: E731  "1.20" -> (1, 20)

AUTH_QUERY_OLD = "SELECT usename, passwd FROM pg_shadow WHERE usename=$1"
AUTH_QUERY_NEW = ("SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END "
                  "FROM pg_authid WHERE rolname=$1 AND rolcanlogin")

# In SHOW CONFIG order (alphabetical). ⚠ marks a "since" taken from NEWS.md, not run.
PARAMS: tuple[Param, ...] = (
    _p("admin_users", STR, ""),
    _p("application_name_add_host", INT, "0", flag="bool"),
    _p("auth_dbname", STR, None, since=V("1.20")),  # ⚠
    _p("auth_file", STR, None, path=True),
    _p("auth_hba_file", STR, "", path=True),
    _p("auth_ident_file", STR, None, since=V("1.23"), path=True),  # ⚠
    _p("auth_ldap_options", STR, None, since=V("1.25")),  # ⚠
    # upstream changed the default in 1.24.1 (CVE-2025-2291); distributions backported it (Debian
    # 1.18.0-1+deb12u1 shows the new default), so the old one is what unpatched builds use
    _p("auth_query", STR, ((OLDEST, AUTH_QUERY_OLD), (V("1.24"), AUTH_QUERY_NEW))),
    _p("auth_type", ENUM, "md5", choices=AUTH_TYPES),
    _p("auth_user", STR, None),
    _p("autodb_idle_timeout", TIME, "3600", "s"),
    _p("cancel_wait_timeout", TIME, "10", "s", since=V("1.19")),
    _p("client_idle_timeout", TIME, "0", "s"),
    _p("client_login_timeout", TIME, "60", "s"),
    _p("client_tls13_ciphers", STR, None, since=V("1.25")),
    _p("client_tls_ca_file", STR, "", path=True, since=V("1.7")),
    _p("client_tls_cert_file", STR, "", path=True, since=V("1.7")),
    _p("client_tls_ciphers", STR, ((OLDEST, "fast"), (V("1.21"), "default")), since=V("1.7")),  # ⚠ change version
    _p("client_tls_dheparams", STR, "auto", since=V("1.7")),
    _p("client_tls_ecdhcurve", STR, "auto", since=V("1.7")),
    _p("client_tls_key_file", STR, "", path=True, since=V("1.7")),
    _p("client_tls_protocols", STR, ((OLDEST, "all"), (V("1.13"), "secure")), since=V("1.7")),
    _p("client_tls_sslmode", ENUM, "disable", choices=SSLMODES, since=V("1.7")),
    _p("conffile", STR, None, path=True),
    _p("default_pool_size", INT, "20"),
    _p("disable_pqexec", INT, "0", flag="bool", restart=True),
    _p("dns_max_ttl", TIME, "15", "s"),
    _p("dns_nxdomain_ttl", TIME, "15", "s"),
    _p("dns_zone_check_period", TIME, "0", "s"),
    _p("idle_transaction_timeout", TIME, "0", "s"),
    _p("ignore_startup_parameters", STR, ""),
    _p("job_name", STR, "pgbouncer", restart=True),
    _p("listen_addr", STR, "", restart=True),
    _p("listen_backlog", INT, "128", restart=True),
    _p("listen_port", INT, "6432", restart=True),
    _p("log_connections", INT, "1", flag="bool"),
    _p("log_disconnections", INT, "1", flag="bool"),
    _p("log_pooler_errors", INT, "1", flag="bool"),
    _p("log_stats", INT, "1", flag="bool"),
    _p("logfile", STR, "", path=True),
    _p("max_client_conn", INT, "100"),
    _p("max_db_client_connections", INT, "0", since=V("1.24")),
    _p("max_db_connections", INT, "0"),
    _p("max_packet_size", UINT, "2147483647", "B"),
    _p("max_prepared_statements", INT, ((V("1.21"), "0"), (V("1.24"), "200")), since=V("1.21")),
    _p("max_user_client_connections", INT, "0", since=V("1.24")),
    _p("max_user_connections", INT, "0"),
    _p("min_pool_size", INT, "0"),
    _p("peer_id", INT, "0", since=V("1.19")),
    _p("pidfile", STR, "", restart=True, path=True),
    _p("pkt_buf", INT, "4096", "B", restart=True),
    _p("pool_mode", ENUM, "session", choices=POOL_MODES),
    _p("query_timeout", TIME, "0", "s"),
    _p("query_wait_notify", INT, "5", "s", since=V("1.25")),  # ⚠
    _p("query_wait_timeout", TIME, ((OLDEST, "0"), (V("1.7"), "120")), "s"),
    _p("reserve_pool_size", INT, "0"),
    _p("reserve_pool_timeout", TIME, "5", "s"),
    _p("resolv_conf", STR, "", restart=True, path=True),
    _p("sbuf_loopcnt", INT, "5"),
    _p("scram_iterations", INT, "4096", since=V("1.25")),
    _p("server_check_delay", TIME, "30", "s"),
    _p("server_check_query", STR, ((OLDEST, "select 1"), (V("1.25"), "<empty>"))),
    _p("server_connect_timeout", TIME, "15", "s"),
    _p("server_fast_close", INT, "0", flag="bool"),
    _p("server_idle_timeout", TIME, "600", "s"),
    _p("server_lifetime", TIME, "3600", "s"),
    _p("server_login_retry", TIME, "15", "s"),
    _p("server_reset_query", STR, "DISCARD ALL"),
    _p("server_reset_query_always", INT, "0", flag="bool"),
    _p("server_round_robin", INT, "0", flag="bool"),
    _p("server_tls13_ciphers", STR, None, since=V("1.25")),
    _p("server_tls_ca_file", STR, "", path=True, since=V("1.7")),
    _p("server_tls_cert_file", STR, "", path=True, since=V("1.7")),
    _p("server_tls_ciphers", STR, ((OLDEST, "fast"), (V("1.21"), "default")), since=V("1.7")),  # ⚠ change version
    _p("server_tls_key_file", STR, "", path=True, since=V("1.7")),
    _p("server_tls_protocols", STR, ((OLDEST, "all"), (V("1.13"), "secure")), since=V("1.7")),
    _p("server_tls_sslmode", ENUM, ((OLDEST, "disable"), (V("1.20"), "prefer")), choices=SSLMODES, since=V("1.7")),
    _p("so_reuseport", INT, "0", flag="bool", restart=True),
    _p("stats_period", INT, "60", "s"),
    _p("stats_users", STR, ""),
    _p("suspend_timeout", TIME, "10", "s"),
    _p("syslog", INT, "0", flag="bool"),
    _p("syslog_facility", STR, "daemon"),
    _p("syslog_ident", STR, "pgbouncer"),
    _p("tcp_defer_accept", INT, "1", "s"),
    _p("tcp_keepalive", INT, "1", flag="bool"),
    _p("tcp_keepcnt", INT, "0"),
    _p("tcp_keepidle", INT, "0", "s"),
    _p("tcp_keepintvl", INT, "0", "s"),
    _p("tcp_socket_buffer", INT, "0", "B"),
    _p("tcp_user_timeout", INT, "0", "ms"),
    _p("track_extra_parameters", STR, "IntervalStyle", since=V("1.20"), restart=True),
    _p("transaction_timeout", TIME, "0", "s", since=V("1.25")),
    _p("unix_socket_dir", STR, "/tmp", restart=True, path=True),
    _p("unix_socket_group", STR, "", restart=True),
    _p("unix_socket_mode", INT, "0777", restart=True),
    _p("user", STR, None, restart=True),
    _p("verbose", INT, "0"),  # no default in the table; the -v count, 0 without -v
)

BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}

# Connection-string keys: key -> (type, since). Types: "str", "int" (atoi), "port", "enum:<choices>".
DATABASE_KEYS: dict[str, tuple[str, Version]] = {
    "dbname": ("str", OLDEST),
    "host": ("str", OLDEST),
    "port": ("port", OLDEST),
    "user": ("str", OLDEST),
    "password": ("secret", OLDEST),
    "auth_user": ("str", OLDEST),
    "auth_dbname": ("str", V("1.20")),  # absent in 1.18 (checked)
    "auth_query": ("str", V("1.22")),
    "client_encoding": ("str", OLDEST),
    "datestyle": ("str", OLDEST),
    "timezone": ("str", OLDEST),
    "pool_size": ("int", OLDEST),
    "min_pool_size": ("int", OLDEST),
    "reserve_pool": ("int", OLDEST),
    "reserve_pool_size": ("int", V("1.24")),  # ⚠ (PgBouncer's own test.ini uses it; 1.18 rejects it)
    "max_db_connections": ("int", OLDEST),
    "max_db_client_connections": ("int", V("1.24")),
    "server_lifetime": ("int", V("1.23")),
    "load_balance_hosts": ("enum:disable,round-robin", V("1.24")),
    "pool_mode": ("enum:" + ",".join(POOL_MODES), OLDEST),
    "target_session_attrs": ("enum:any,read-write,read-only,primary,standby,prefer-standby", V("1.25")),  # ⚠
    "connect_query": ("str", OLDEST),
    "application_name": ("str", OLDEST),
}

USER_KEYS: dict[str, tuple[str, Version]] = {
    "pool_mode": ("enum:" + ",".join(POOL_MODES), OLDEST),
    "max_user_connections": ("int", OLDEST),
    "pool_size": ("int", V("1.24")),  # ⚠
    "client_idle_timeout": ("int", V("1.24")),
    "max_user_client_connections": ("int", V("1.24")),
    "query_timeout": ("int", V("1.24")),  # ⚠
    "reserve_pool_size": ("int", V("1.24")),  # ⚠
}

PEER_KEYS: dict[str, tuple[str, Version]] = {
    "host": ("str", V("1.19")),
    "port": ("port", V("1.19")),
    "pool_size": ("int", V("1.19")),
}

SECTIONS: dict[str, Version] = {"pgbouncer": OLDEST, "databases": OLDEST, "users": OLDEST, "peers": V("1.19")}
RESERVED_DATABASES = ("pgbouncer",)


class VersionInfo(Record):
    __slots__ = ("version", "given", "notes")

    def __init__(self, version: Version, given: str | None = None, notes: list[str] | None = None) -> None:
        self.version = version
        self.given = given
        self.notes = [] if notes is None else notes

    def __hash__(self) -> int:
        return hash(self._field_values())

    @property
    def text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def parse_version(text: str | None) -> Version:
    """`"1.18"`, `"1.18.0"`, `"PgBouncer 1.18.0"` -> (1, 18); None -> the newest known."""
    if not text:
        return NEWEST
    m = _VERSION.search(str(text))
    if not m:
        raise ValueError(f"cannot read PgBouncer version {text!r} (write e.g. 1.18)")
    return decimal(m.group(1)), decimal(m.group(2))


def suggest(name: str, version: Version, keys=None, problems_so_far: int = 0) -> str | None:
    """The known name closest to `name` (same name in another case first; see advisor.suggest
    for the bound on the work)."""
    from advisor.suggest import closest

    candidates = [p.name for p in PARAMS if p.known_in(version)] if keys is None else list(keys)
    low = name.lower()
    for c in candidates:
        if c.lower() == low:
            return c
    return closest(low, candidates, 0.75, problems_so_far)
