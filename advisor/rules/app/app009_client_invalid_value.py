"""A client setting in a unit or syntax the library rejects.

## What it checks
Values each library parses strictly, reported where they are written:
- libpq (and everything built on it): `connect_timeout`, `keepalives*`, `tcp_user_timeout`
  are plain integers: `connect_timeout=5s` is accepted by the parser but rejected when
  connecting (`invalid integer value "5s" for connection option "connect_timeout"`);
  `sslmode` and `ssl_*_protocol_version` take fixed words; `keepalives_idle`, `_interval`,
  `_count` of 0 or less are *not* "OS default" as the server's `tcp_keepalives_*` are: libpq
  hands them to setsockopt and Linux refuses them (`setsockopt(TCP_KEEPIDLE) failed: Invalid
  argument`), so the connection fails;
- HikariCP: `maxLifetime`, `idleTimeout`, `keepaliveTime`, `connectionTimeout`,
  `validationTimeout` are longs in milliseconds (`maxLifetime=30m` fails to bind);
- pgjdbc: `socketTimeout`, `connectTimeout`, `loginTimeout` are integer seconds;
- pgx: `pool_max_conn_lifetime`, `pool_max_conn_idle_time`, `pool_health_check_period` are Go
  durations with a unit (`1h30m`; a bare `3600` is rejected), `connect_timeout` integer seconds;
- SQLAlchemy `pool_recycle`, psycopg_pool `max_lifetime`/`max_idle` (seconds), node-postgres
  `*Millis` options (numbers), Django `CONN_MAX_AGE` (seconds or None).

A value that is the default of a placeholder (`${CONNECTION_TIMEOUT:30s}`, `os.environ.get("X",
"5s")`) is what the application runs with only where the variable is not set, which no file shows
certainly happens: a **warning**, saying so, instead of an error.

## Why it matters
The application fails at startup or at its first connection, far from the file that caused it;
in a pool with lazy connections that can be hours after a deploy.

## Fix
Write the value as the library expects, converted to its unit (the message proposes one).

## References
- libpq parameter keywords: https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS
- HikariCP configuration: https://github.com/brettwooldridge/HikariCP#gear-configuration-knobs-baby
- pgx ParseConfig: https://pkg.go.dev/github.com/jackc/pgx/v5/pgxpool#ParseConfig
- Go time.ParseDuration: https://pkg.go.dev/time#ParseDuration
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "client-invalid-value", ("client",))


RULE = Rule(
    code="APP009",
    name="client-invalid-value",
    severity=Severity.ERROR,
    summary="A client setting in a unit or syntax the library rejects",
    needs=("client",),
    check=check,
    doc=__doc__,
)
