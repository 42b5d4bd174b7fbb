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
clients connecting directly (not read) would. So does a server whose every path either goes
through such a PgBouncer or starts at a client read with its pool: PATH002 judges that pool
against the timeout and reports, on the client, one that keeps connections idle longer without
checking them (a warning with this line among its spans), so the consequence is said once, where
it is seen; this rule, the cause, keeps its own change (the timeout per role, not server-wide).

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


def _on_paths(ctx) -> dict[int, str]:
    """id() of the PostgreSQL documents on assembled paths -> "hidden" when, on every path through
    them, a PgBouncer in transaction pooling replaces the connections idle_session_timeout closes
    (its timer does not close the client: lab B5); "judged" when on every path either that, or the
    client is read with a pool whose plan is known, which PATH002 judges against the timer (and
    reports, with this line, when the pool keeps a connection idle longer): the consequences are
    the path rule's, each on the client that sees it."""
    seen: dict[int, list[str]] = {}
    for path in ctx.paths:
        for t in path.timers:
            hop = path.hops[t.hop]
            # (a PostgreSQL hop's only idle timer is idle_session_timeout: advisor.path.timers)
            if hop.kind == "postgres" and hop.doc is not None and t.resets_on == "traffic":
                seen.setdefault(id(hop.doc), []).append(
                    "hidden" if not t.closes_client else "judged" if _pool_judged(path) else "open")
    out = {}
    for doc_id, kinds in seen.items():
        if kinds and all(k == "hidden" for k in kinds):
            out[doc_id] = "hidden"
        elif kinds and all(k != "open" for k in kinds):
            out[doc_id] = "judged"
    return out


def _pool_judged(path) -> bool:
    """The path's client is read, with a pool whose lifetime is known (PATH002 judges it)."""
    clients = path.hops_of("client")
    pool = getattr(clients[0][1].detail, "pool", None) if clients else None
    return pool is not None and not pool.unread and pool.max_lifetime.known


def check(ctx):
    paths = None
    for doc in ctx.of_kind("postgresql"):
        setting = doc.get("idle_session_timeout")
        if setting is None or not isinstance(setting.value, int) or setting.value <= 0:
            continue
        if read_later_unread(doc, setting) is not None:
            continue  # an include read after it, not read here, may set it again
        seconds = pg_to_seconds(setting.value, "ms")
        if paths is None:
            paths = _on_paths(ctx)
        on_paths = paths.get(id(doc))
        effect = {"hidden": "; on every path read here a PgBouncer in transaction pooling replaces the closed server "
                            "connections (lab B5): only clients that connect directly would see it",
                  "judged": "; on every path read here its client's pool is judged against it (PATH002 reports, on "
                            "the client, a pool that keeps a connection idle longer and lends it unchecked): only "
                            "clients not read would see it otherwise"}.get(
            on_paths, " (PgBouncer session pools and client pools hand them out dead)")
        yield RULE.finding(
            setting.value_span or setting.span,
            f"idle_session_timeout = {setting.raw} ({seconds:g} s) closes every session idle for {seconds:g} s, "
            f"pooled server connections included{effect}",
            f"{removal(doc, setting, 'idle_session_timeout line')} (its default is 0), and ALTER ROLE "
            "<interactive_role> SET idle_session_timeout = "
            f"'{setting.raw.strip(chr(39))}' for the roles that need it",
            severity=Severity.INFO if on_paths else None,
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
