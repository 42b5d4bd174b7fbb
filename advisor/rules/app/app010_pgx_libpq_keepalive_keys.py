"""pgx DSN with libpq's `keepalives*` or `tcp_user_timeout` keys.

## What it checks
pgx connection strings (recognised by pgxpool `pool_*` keys, or declared as pgx) that contain
`keepalives`, `keepalives_idle`, `keepalives_interval`, `keepalives_count` or
`tcp_user_timeout`.

## Why it matters
pgx does not implement these libpq keywords (they are not in pgconn.ParseConfig's list of
connection settings). Every key of the DSN that pgx does not know is sent
to the server as a run-time parameter in the StartupMessage, and PostgreSQL rejects the
connection: `FATAL: unrecognized configuration parameter "keepalives_idle"` (SQLSTATE 42704).
The application cannot connect at all. (Verified against PostgreSQL 15 by the test suite with a
raw StartupMessage.) pgx already enables TCP keepalive through Go's dialer: 15 s idle, 15 s
interval, 9 probes.

`tcp_user_timeout` is the exception: PostgreSQL has a server setting of that name, so the server
accepts it and applies it to *its* side of the connection (in milliseconds) — the client's socket
keeps the OS default. That is reported as a warning, not an error (also verified by the tests).

## Fix
Remove the keys from the DSN. To change the timers, set a `net.Dialer{KeepAlive: ...}` (or
`KeepAliveConfig`, Go 1.23+) as the config's `DialFunc` in code.

## References
- pgx pgconn.ParseConfig (runtime params): https://pkg.go.dev/github.com/jackc/pgx/v5/pgconn#ParseConfig
- jackc/pgx issue #1463 (unknown DSN key -> server FATAL)
- Go net.Dialer keepalive defaults: https://pkg.go.dev/net#Dialer
"""

from advisor.findings import Severity
from advisor.rules.app.common import endpoints
from advisor.rules.rule import Rule


def check(ctx):
    from advisor.model.client import LIBPQ_KEEPALIVE_KEYS

    for doc, ep in endpoints(ctx):
        if ep.driver != "pgx":
            continue
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
    summary="pgx DSN with libpq keepalive keys, which the server rejects",
    needs=("client",),
    check=check,
    doc=__doc__,
)
