"""PgBouncer's configuration as PgBouncer ends up with it: every `[pgbouncer]` setting of the
version (from the file or the version's default), and the `[databases]`, `[users]` and `[peers]`
entries. Filled by `advisor.loaders.pgbouncer_ini`; read by rules and the path.
"""

from __future__ import annotations

from typing import Any

from advisor.catalogs.pgbouncer import BY_NAME, TIME, Param, Version
from advisor.model import Record, Setting, Span, Unknown, is_known
from advisor.units import pgb_format_time


# The [pgbouncer] settings the edoburu/pgbouncer image writes from its environment (NAME=value,
# the setting's name in capitals): the variables its entrypoint reads, as its test
# tests/all-knobs/env lists them (edoburu/docker-pgbouncer). CLIENT_ENCODING and TIMEZONE go to
# the [databases] line, not to [pgbouncer]. Any other setting needs a pgbouncer.ini mounted into the container.
EDOBURU_ENV_SETTINGS = frozenset((
    "admin_users", "application_name_add_host", "auth_dbname", "auth_hba_file", "auth_query", "auth_type",
    "auth_user", "autodb_idle_timeout", "client_idle_timeout", "client_login_timeout",
    "client_tls_ca_file", "client_tls_cert_file", "client_tls_ciphers", "client_tls_dheparams",
    "client_tls_ecdhcurve", "client_tls_key_file", "client_tls_protocols", "client_tls_sslmode",
    "default_pool_size", "disable_pqexec", "dns_max_ttl", "dns_nxdomain_ttl", "idle_transaction_timeout",
    "ignore_startup_parameters", "listen_addr", "listen_backlog", "listen_port", "log_connections",
    "log_disconnections", "log_pooler_errors", "log_stats", "logfile", "max_client_conn", "max_db_connections",
    "max_packet_size", "max_prepared_statements", "max_user_connections", "min_pool_size", "pkt_buf",
    "pool_mode", "query_timeout", "query_wait_timeout", "reserve_pool_size", "reserve_pool_timeout",
    "sbuf_loopcnt", "server_check_delay", "server_check_query", "server_connect_timeout",
    "server_idle_timeout", "server_lifetime", "server_login_retry", "server_reset_query",
    "server_reset_query_always", "server_round_robin", "server_tls_ca_file", "server_tls_cert_file",
    "server_tls_ciphers", "server_tls_key_file", "server_tls_protocols", "server_tls_sslmode", "stats_period",
    "stats_users", "suspend_timeout", "tcp_defer_accept", "tcp_keepalive", "tcp_keepcnt", "tcp_keepidle",
    "tcp_keepintvl", "tcp_user_timeout", "unix_socket_dir", "verbose",
))


def version_text(v: Version) -> str:
    return f"{v[0]}.{v[1]}"


class Entry(Record):
    """One line of `[databases]`, `[users]` or `[peers]`: a name and its connection string."""

    __slots__ = ("section", "name", "span", "params", "unknown", "effective")

    def __init__(self, section: str, name: str, span: Span, params: dict[str, Setting] | None = None,
                 unknown: bool = False, effective: bool = True) -> None:
        self.section = section
        self.name = name
        self.span = span
        self.params = {} if params is None else params
        self.unknown = unknown  # the connection string is (partly) a template placeholder
        self.effective = effective

    def value(self, key: str, default: Any = None) -> Any:
        s = self.params.get(key)
        return default if s is None or s.value is None else s.value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "span": self.span.to_dict(),
                               "params": {k: s.to_dict() for k, s in self.params.items()}}
        if self.unknown:
            out["unknown"] = True
        if not self.effective:
            out["effective"] = False
        return out


class AuthUser(Record):
    """One user of PgBouncer's auth_file: the name, the kind of its secret as PgBouncer classifies
    it ("md5", "scram", "plain", "empty"; the secret itself is never kept) and the entry's span."""

    __slots__ = ("name", "kind", "span")

    def __init__(self, name: str, kind: str, span: Span) -> None:
        self.name, self.kind, self.span = name, kind, span


class AuthFile(Record):
    """The auth_file a pgbouncer.ini names, as read (advisor.loaders.auth_file): `path` the file
    read, `named` the auth_file value, `how` ("" or `taken as /etc/pgbouncer/userlist.txt` for the
    file of that name beside the ini), its users, and `broken` where PgBouncer stops reading it."""

    __slots__ = ("path", "named", "how", "users", "broken", "lost")

    def __init__(self, path: str, named: str, how: str, users: list[AuthUser], broken: Span | None) -> None:
        self.path, self.named, self.how, self.users, self.broken = path, named, how, users, broken
        self.lost: list[str] = []  # the names of the entries after `broken`, which PgBouncer does not load


class PgBouncerModel(Record):
    """The configuration PgBouncer ends up with: every setting of the version, and the pools."""

    __slots__ = ("version", "values", "set_in_file", "databases", "users", "peers", "fragment", "header", "auth_file")

    def __init__(self, version: Version, values: dict[str, Any], set_in_file: dict[str, Setting],
                 databases: list[Entry] | None = None, users: list[Entry] | None = None,
                 peers: list[Entry] | None = None, fragment: bool = False, header: Span | None = None) -> None:
        self.version = version
        self.values = values
        self.set_in_file = set_in_file
        self.databases = [] if databases is None else databases
        self.users = [] if users is None else users
        self.peers = [] if peers is None else peers
        self.fragment = fragment
        self.header = header  # the [pgbouncer] header in force (the last one)
        self.auth_file: AuthFile | None = None  # the auth_file read beside it (advisor.loaders.auth_file)

    def span_of(self, name: str) -> Span | None:
        """Where a setting was written, or the [pgbouncer] header when it takes its default."""
        s = self.set_in_file.get(name)
        return (s.value_span or s.span) if s is not None else self.header

    def value(self, name: str) -> Any:
        return self.values.get(name)

    def setting(self, name: str) -> Setting | None:
        return self.set_in_file.get(name)

    def is_default(self, name: str) -> bool:
        return name not in self.set_in_file

    def shown(self, name: str) -> str | None:
        """The value as SHOW CONFIG prints it (for parity tests)."""
        return show_value(BY_NAME[name], self.values.get(name))

    def effective_databases(self) -> list[Entry]:
        return [d for d in self.databases if d.effective]

    def effective_users(self) -> list[Entry]:
        return [u for u in self.users if u.effective]

    def pool_mode_of(self, entry: Any, user: str | None = None) -> Any:
        """The pool mode of the pool of a [databases] entry and a user, lower-case (an Unknown as it
        is: a template value): as PgBouncer decides it (probably_wrong_pool_pool_mode), the pool's
        user's own in [users] first, then the entry's, then the global one. The pool's user is the
        entry's forced `user=`, else `user` (the client's), when known."""
        setting = self.pool_mode_setting(entry, user)
        value = setting.value if setting is not None else self.values.get("pool_mode")
        return str(value).lower() if is_known(value) else value

    def pool_mode_setting(self, entry: Any, user: str | None = None) -> Setting | None:
        """The [users] or [databases] line that sets the pool mode pool_mode_of() gives, or None
        when it is the global one."""
        forced = entry.value("user") if entry is not None else None
        login = forced if isinstance(forced, str) and forced else user
        if login:
            for u in self.effective_users():
                s = u.params.get("pool_mode")
                if u.name == login and s is not None and s.value is not None:
                    return s
        s = entry.params.get("pool_mode") if entry is not None else None
        return s if s is not None and s.value is not None else None

    def pool_modes(self) -> list[tuple[str, Setting | None]]:
        """Every pool mode in force: the global one and each per-database/per-user override."""
        out: list[tuple[str, Setting | None]] = []
        if is_known(self.values.get("pool_mode")):
            out.append((self.values["pool_mode"], self.set_in_file.get("pool_mode")))
        for entry in self.effective_databases() + self.effective_users():
            s = entry.params.get("pool_mode")
            if s is not None and is_known(s.value):
                out.append((s.value, s))
        return out

    def to_dict(self) -> dict[str, Any]:
        def plain(name: str, value: Any) -> Any:
            if isinstance(value, Unknown):
                return {"unknown": value.text}
            if BY_NAME[name].secret and value:
                return "***"
            return value

        return {
            "pgbouncer_version": version_text(self.version),
            "fragment": self.fragment,
            "settings": {name: {"value": plain(name, value), "unit": BY_NAME[name].unit,
                                "source": "file" if name in self.set_in_file else "default"}
                         for name, value in self.values.items()},
            "databases": [d.to_dict() for d in self.databases],
            "users": [u.to_dict() for u in self.users],
            "peers": [p.to_dict() for p in self.peers],
        }


def show_value(param: Param, value: Any) -> str | None:
    if value is None or isinstance(value, Unknown):
        return None
    if param.type == TIME:
        return pgb_format_time(value)
    return str(value)



# TLS versions as ranks, as the TLS-range checks compare them: 0 = TLS 1.0 ... 3 = TLS 1.3
_TLS_WORDS = {"tlsv1.0": frozenset({0}), "tlsv1.1": frozenset({1}), "tlsv1.2": frozenset({2}),
              "tlsv1.3": frozenset({3}), "tlsv1": frozenset({0, 1, 2, 3}), "all": frozenset({0, 1, 2, 3}),
              "secure": frozenset({2, 3}), "default": frozenset({2, 3})}


def tls_protocol_versions(value: Any, version: Version) -> frozenset[int] | None:
    """The TLS versions (ranks 0-3 for TLS 1.0-1.3) that `client_tls_protocols` or
    `server_tls_protocols` allows, as PgBouncer's libusual `tls_config_parse_protocols` reads it;
    None for a value it refuses (PgBouncer then logs `invalid client_tls_protocols` and sets up no
    TLS) or one not known (a template placeholder).

    - words separated by `,` or `:` (blanks are skipped before a word, not after it), case-blind;
    - `tlsv1.0` ... `tlsv1.3` one version each; `tlsv1` (libtls' name for every TLS 1.x, unlike
      PostgreSQL's `TLSv1`, which is TLS 1.0), `all`: 1.0-1.3; `secure`, `default`: 1.2 and 1.3;
    - `legacy` = `all` up to PgBouncer 1.20; libusual dropped it (libusual#40, in PgBouncer 1.21),
      so later versions refuse it;
    - `!word` removes versions, from `all` when nothing is allowed yet;
    - an empty value leaves libtls' default, TLS 1.2 and 1.3.

    The set can have holes (`tlsv1.0,tlsv1.3`): PgBouncer sets OpenSSL's minimum and maximum and
    switches off each version between them that is not listed."""
    if not isinstance(value, str) or not is_known(value):
        return None
    if value == "":
        return _TLS_WORDS["secure"]
    allowed: frozenset[int] = frozenset()
    for word, negate, versions in _tls_words(value, version):
        if versions is None:
            return None
        if negate and not allowed:  # a removal from nothing starts from every version
            allowed = _TLS_WORDS["all"]
        allowed = allowed - versions if negate else allowed | versions
    return allowed


def tls_protocol_words_refused(value: str, version: Version) -> list[str]:
    """The words of a `*_tls_protocols` value that PgBouncer refuses, as written (quoted when a
    blank makes them so); [] when it takes the value."""
    if value == "":
        return []
    return [repr(word) if word != word.strip() or not word else word
            for word, _negate, versions in _tls_words(value, version) if versions is None]


def _tls_words(value: str, version: Version):
    """(word, negated, its versions or None when refused) of each word of a protocols value."""
    words = dict(_TLS_WORDS)
    if tuple(version) <= (1, 20):
        words["legacy"] = _TLS_WORDS["all"]
    for word in value.replace(":", ",").split(","):
        word = word.lstrip(" \t")
        negate = word.startswith("!")
        name = word[1:] if negate else word
        yield word, negate, words.get(name.lower())


def ini_fix(*parts) -> tuple[str, tuple]:
    """A fix of PgBouncer settings (Diagnostic.fix and .fix_parts): the text a pgbouncer.ini takes,
    and the parts from which advisor.rules.pgb words it where this PgBouncer's settings live (an
    image's environment variables, an operator's parameters). A part is text said everywhere;
    ("set", ((name, value), ...)): `name = value and name2 = value2` in an ini file;
    ("remove", name, ini text): `remove the line` in an ini file; ("ini", text): said only of an ini file
    (how a comment is written there)."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part[0] == "set":
            out.append(" and ".join(f"{name} = {value}" for name, value in part[1]))
        elif part[0] == "remove":
            out.append(part[2])
        else:
            out.append(part[1])
    return "".join(out), tuple(parts)
