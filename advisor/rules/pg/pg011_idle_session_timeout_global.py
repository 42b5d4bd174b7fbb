"""`idle_session_timeout` set for every session in postgresql.conf.

## What it checks
A non-zero `idle_session_timeout` (PostgreSQL 14+) in postgresql.conf or a file it includes.

Not reported when an include that PostgreSQL reads after that line was not read (made at deploy
time, or in a template): a later line wins, and that file may set it again.

## Why it matters
It closes every session that sits idle outside a transaction for that long — including the
server connections a pooler keeps open on purpose. The PostgreSQL documentation warns that it
can break poolers and other middleware. Measured: behind PgBouncer in session pooling, the
client gets `FATAL: terminating connection due to idle-session timeout` (SQLSTATE 57P05) on its
next query, or `SSL connection has been closed unexpectedly` over TLS; in transaction pooling
PgBouncer quietly reconnects. Client pools (HikariCP, SQLAlchemy) that keep connections idle
longer than the timeout hand out dead ones unless they validate on borrow.

## Fix
Remove it from postgresql.conf and set it only for roles used interactively:
`ALTER ROLE analyst SET idle_session_timeout = '15min';`. If it must stay global, make every
pool's max idle time and PgBouncer's `server_idle_timeout` shorter than it.

## References
- PostgreSQL: idle_session_timeout — https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-IDLE-SESSION-TIMEOUT
- lab-observations.md rows B5, B6, P1, P2
"""

from advisor.findings import Severity
from advisor.model.pg_parameters import removal
from advisor.rules.pg.common import read_later_unread
from advisor.rules.rule import Rule
from advisor.units import pg_to_seconds


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        setting = doc.get("idle_session_timeout")
        if setting is None or not isinstance(setting.value, int) or setting.value <= 0:
            continue
        if read_later_unread(doc, setting) is not None:
            continue  # an include read after it, not read here, may set it again
        seconds = pg_to_seconds(setting.value, "ms")
        yield RULE.finding(
            setting.value_span or setting.span,
            f"idle_session_timeout = {setting.raw} ({seconds:g} s) closes every session idle for {seconds:g} s, "
            "pooled server connections included (PgBouncer session pools and client pools hand them out dead)",
            f"{removal(doc, setting, 'idle_session_timeout line')} (its default is 0), and ALTER ROLE "
            "<interactive_role> SET idle_session_timeout = "
            f"'{setting.raw.strip(chr(39))}' for the roles that need it",
        )


RULE = Rule(
    code="PG011",
    name="idle-session-timeout-global",
    severity=Severity.WARNING,
    summary="idle_session_timeout set server-wide (breaks poolers)",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
)
