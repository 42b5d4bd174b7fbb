"""pgx DSN with libpq's `keepalives*` or `tcp_user_timeout` keys, or the other pgx major's keys.

## What it checks
pgx connection strings (recognised by pgxpool `pool_*` keys, or declared as pgx) that contain
`keepalives`, `keepalives_idle`, `keepalives_interval`, `keepalives_count` or
`tcp_user_timeout`, or a key only the other major of pgx reads.

## Why it matters
pgx does not implement these libpq keywords (they are not in pgconn.ParseConfig's list of
connection settings). Every key of the DSN that pgx does not know is sent
to the server as a run-time parameter in the StartupMessage, and PostgreSQL rejects the
connection: `FATAL: unrecognized configuration parameter "keepalives_idle"` (SQLSTATE 42704).
The application cannot connect at all. (Verified against PostgreSQL 15 by the test suite with a
raw StartupMessage.) pgx already enables TCP keepalive through Go's dialer: 15 s idle, 15 s
interval, 9 probes.

The same holds for pgx's own keys of the other major: pgx v4 reads `statement_cache_mode` and
`prefer_simple_protocol`, v5 reads `default_query_exec_mode`, `description_cache_capacity` and
`pool_min_idle_conns` instead, and each sends the other's to the server. pgx's major is read from
the `go.mod` of the client file's Go module (PATH002 says how); a v4 key where v5 is assumed (no
go.mod) is a warning, since the key itself suggests v4.

`tcp_user_timeout` is the exception: PostgreSQL has a server setting of that name, so the server
accepts it and applies it to *its* side of the connection (in milliseconds) — the client's socket
keeps the OS default. That is reported as a warning, not an error (also verified by the tests).

## Fix
Remove the keys from the DSN (for the other major's key, the setting of this major that does the
same: `statement_cache_mode=describe` for v5's `default_query_exec_mode=exec`,
`default_query_exec_mode=cache_describe` for v4's describe...). To change the timers, set a `net.Dialer{KeepAlive: ...}` (or
`KeepAliveConfig`, Go 1.23+) as the config's `DialFunc` in code.

## References
- pgx pgconn.ParseConfig (runtime params): https://pkg.go.dev/github.com/jackc/pgx/v5/pgconn#ParseConfig
- jackc/pgx issue #1463 (unknown DSN key -> server FATAL)
- pgx v4 (github.com/jackc/pgx tag v4.18.3): conn.go ParseConfig deletes only
  statement_cache_capacity, statement_cache_mode and prefer_simple_protocol from RuntimeParams,
  pgxpool.ParseConfig only its pool_* keys; github.com/jackc/pgconn tag v1.14.3 config.go puts
  every key outside notRuntimeParams in RuntimeParams (sent in the StartupMessage)
- Go net.Dialer keepalive defaults: https://pkg.go.dev/net#Dialer
"""

from advisor.findings import Severity
from advisor.rules.app.common import endpoints
from advisor.rules.rule import Rule


# a key of the other major -> what this major reads instead (as a fix says it)
V4_INSTEAD = {  # a pgx v5 key in a pgx v4 DSN
    "default_query_exec_mode": {"cache_statement": "its default statement_cache_mode=prepare does the same",
                                "cache_describe": "statement_cache_mode=describe", "describe_exec": "statement_cache_mode=describe",
                                "exec": "statement_cache_mode=describe", "simple_protocol": "prefer_simple_protocol=true"},
    "description_cache_capacity": "statement_cache_capacity (pgx v4 has one cache, statement_cache_mode says which)",
    "pool_min_idle_conns": "pool_min_conns (pgx v4 has no minimum of idle connections)",
}
V5_INSTEAD = {  # a pgx v4 key in a pgx v5 DSN
    "statement_cache_mode": {"prepare": "its default default_query_exec_mode=cache_statement does the same",
                             "describe": "default_query_exec_mode=cache_describe (or exec)"},
    "prefer_simple_protocol": {"true": "default_query_exec_mode=simple_protocol", "false": "its default does the same"},
}


def _instead(table: dict, key: str, value) -> str:
    what = table[key]
    if isinstance(what, str):
        return what
    text = str(value.value).strip() if value.known else ""
    if key == "prefer_simple_protocol":
        from advisor.loaders.clients.build import _go_bool

        text = {True: "true", False: "false"}.get(_go_bool(text), "")
    return what.get(text) or " or ".join(sorted(set(what.values())))


def _other_major(ep):
    """Keys of the other pgx major in this DSN: pgx reads only its own major's, so it sends the
    other's to the server (pgx/v4 conn.go ParseConfig and pgxpool.ParseConfig at v4.18.3 delete
    only statement_cache_capacity, statement_cache_mode, prefer_simple_protocol and pool_*; jackc/
    pgconn v1.14.3 config.go puts every other key that is not a connection setting in
    RuntimeParams; pgx v5 likewise). An error when go.mod says the major, a warning when v5 is
    assumed (the key itself suggests v4)."""
    from advisor.loaders.clients.build import PGX_V4_ONLY, PGX_V5_ONLY

    pgx = getattr(ep, "pgx", None)
    if pgx is None or pgx.major not in (4, 5):
        return
    keys, table, other = (PGX_V5_ONLY, V4_INSTEAD, 5) if pgx.major == 4 else (PGX_V4_ONLY, V5_INSTEAD, 4)
    for key in keys:
        v = ep.params.get(key)
        if v is None:
            continue
        severity = Severity.WARNING if pgx.assumed else None
        yield RULE.finding(v.span or ep.span,
                           f"{ep.who()}: pgx v{pgx.major} does not read {key}, a pgx v{other} setting "
                           f"({'assumed: ' if pgx.assumed else ''}{pgx.reason}): it sends it to the "
                           f"server as a run-time parameter and PostgreSQL refuses the connection (FATAL: unrecognized "
                           f'configuration parameter "{key}"; a PgBouncer in between: unsupported startup parameter)',
                           f"remove {key}={v.display} from the DSN; pgx v{pgx.major}: {_instead(table, key, v)}",
                           severity=severity)


def check(ctx):
    from advisor.model.client import LIBPQ_KEEPALIVE_KEYS

    for doc, ep in endpoints(ctx):
        if ep.driver != "pgx":
            continue
        yield from _other_major(ep)
        for key in LIBPQ_KEEPALIVE_KEYS:
            v = ep.params.get(key)
            if v is None:
                continue
            if key == "tcp_user_timeout":
                yield RULE.finding(v.span or ep.span,
                                   f"{ep.who()}: pgx does not apply tcp_user_timeout to its own socket: it forwards it to "
                                   "the server, which takes it as its own tcp_user_timeout setting (server side of the "
                                   "connection, milliseconds); the client side keeps the OS default",
                                   f"remove tcp_user_timeout={v.display} from the DSN, or set it on purpose as a server "
                                   "setting (options=-c tcp_user_timeout=...) and set the client's with a custom "
                                   "net.Dialer in code", severity=Severity.WARNING)
                continue
            yield RULE.finding(v.span or ep.span,
                               f"{ep.who()}: pgx does not know {key}: it sends it to the server as a run-time parameter "
                               f'and PostgreSQL refuses the connection (FATAL: unrecognized configuration parameter "{key}")',
                               f"remove {key}={v.display} from the DSN; pgx keeps connections alive with Go's dialer "
                               "(15 s idle, 15 s interval, 9 probes), tunable with a custom net.Dialer in code")


RULE = Rule(
    code="APP010",
    name="pgx-libpq-keepalive-keys",
    severity=Severity.ERROR,
    summary="pgx DSN with libpq keepalive keys or the other pgx major's keys, which the server rejects",
    needs=("client",),
    check=check,
    doc=__doc__,
)
