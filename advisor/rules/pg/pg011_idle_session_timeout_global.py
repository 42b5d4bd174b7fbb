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

A server whose every assembled path goes through a PgBouncer in transaction pooling, which
replaces the server connections the timeout closes, gets an **info**: nothing read fails, only
clients connecting directly (not read) would.

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


def _hidden_by_poolers(ctx) -> set[int]:
    """id() of the PostgreSQL documents on assembled paths where, on every path through them, a
    PgBouncer in transaction pooling replaces the connections idle_session_timeout closes (its
    timer does not close the client: lab B5)."""
    seen: dict[int, list[bool]] = {}
    for path in ctx.paths:
        for t in path.timers:
            hop = path.hops[t.hop]
            # (a PostgreSQL hop's only idle timer is idle_session_timeout: advisor.path.timers)
            if hop.kind == "postgres" and hop.doc is not None and t.resets_on == "traffic":
                seen.setdefault(id(hop.doc), []).append(not t.closes_client)
    return {doc_id for doc_id, hidden in seen.items() if hidden and all(hidden)}


def check(ctx):
    hidden = None
    for doc in ctx.of_kind("postgresql"):
        setting = doc.get("idle_session_timeout")
        if setting is None or not isinstance(setting.value, int) or setting.value <= 0:
            continue
        if read_later_unread(doc, setting) is not None:
            continue  # an include read after it, not read here, may set it again
        seconds = pg_to_seconds(setting.value, "ms")
        if hidden is None:
            hidden = _hidden_by_poolers(ctx)
        behind = id(doc) in hidden
        effect = ("; on every path read here a PgBouncer in transaction pooling replaces the closed server "
                  "connections (lab B5): only clients that connect directly would see it" if behind else
                  " (PgBouncer session pools and client pools hand them out dead)")
        yield RULE.finding(
            setting.value_span or setting.span,
            f"idle_session_timeout = {setting.raw} ({seconds:g} s) closes every session idle for {seconds:g} s, "
            f"pooled server connections included{effect}",
            f"{removal(doc, setting, 'idle_session_timeout line')} (its default is 0), and ALTER ROLE "
            "<interactive_role> SET idle_session_timeout = "
            f"'{setting.raw.strip(chr(39))}' for the roles that need it",
            severity=Severity.INFO if behind else None,
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
