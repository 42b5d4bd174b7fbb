"""PostgreSQL's `idle_session_timeout` closes PgBouncer's idle server connections first.

## What it checks
When the PostgreSQL server on PgBouncer's path has `idle_session_timeout` > 0 (PostgreSQL 14+, in
milliseconds) for the sessions PgBouncer opens — its configuration's, or the role's or
database's own (`ALTER ROLE/DATABASE ... SET` in a script on the path; the shortest of the
roles the `[databases]` entries connect as), PgBouncer must retire an idle server connection before the server kills
it: the shorter of `server_idle_timeout` and `server_lifetime` (seconds; 0 disables either)
must be below `idle_session_timeout` (`server_lifetime = 0` means "use once", which always
is). In session pooling a client keeps its server connection
while it is idle, so any `idle_session_timeout` reaches the client whatever PgBouncer's timers
say; that is reported too.

## Why it matters
In transaction pooling PgBouncer notices the closed connection and opens a new one (lab row B5:
the client survives, the server logs FATAL 57P05 and PgBouncer reconnects). In session pooling
the client that holds the connection gets `FATAL: terminating connection due to idle-session
timeout` (57P05) on its next query and loses its session (lab row B6). PostgreSQL's docs warn
that this setting can break poolers.

## Fix
Set `server_idle_timeout` (or `server_lifetime`) below `idle_session_timeout`, e.g. 60 s below
it; or leave `idle_session_timeout` at 0 for the role PgBouncer connects as
(`ALTER ROLE pgbouncer_user SET idle_session_timeout = 0`).

## References
- PostgreSQL: idle_session_timeout — https://www.postgresql.org/docs/current/runtime-config-client.html
- PgBouncer: server_idle_timeout, server_lifetime — https://www.pgbouncer.org/config.html
- pgpath lab observations, rows B5 and B6
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.catalog import value_or_default
from advisor.rules.pgb import assignment, pg_written, server_sessions, source, where
from advisor.rules.rule import Rule, setting_span


def _shortest(path, pg, model):
    """(value in ms, setting) of the shortest idle_session_timeout among the server sessions
    PgBouncer opens on this path (each role's or database's own, ALTER ROLE/DATABASE ... SET in a
    script on the path, else the server's configuration), or (None, None) when none is set."""
    from advisor.path.timers import server_setting

    index = next((i for i, hop in enumerate(path.hops) if hop.doc is pg), None)
    if index is None:
        value, setting = value_or_default(pg, "idle_session_timeout")
        return (value, setting) if setting is not None and is_known(value) and value > 0 else (None, None)
    found = []
    for session in server_sessions(path, index, model):
        value, setting = server_setting(path, index, "idle_session_timeout", session)
        if setting is not None and is_known(value) and value > 0:
            found.append((value, setting))
    return min(found, key=lambda f: f[0]) if found else (None, None)


def _unset_for_sessions(setting) -> str:
    """The statement that turns idle_session_timeout off where the value in force comes from
    (advisor.model.sql sections: `role:r`, `role:r@database:d`, `database:d`), else for the role
    PgBouncer connects as."""
    from advisor.model.sql import set_statement

    section = getattr(setting, "section", None) or ""
    if section.startswith(("role:", "database:")):
        return set_statement(section, "idle_session_timeout", "0")
    return "ALTER ROLE <pgbouncer's server user> SET idle_session_timeout = 0"


def check(ctx):
    for doc, pg, path in ctx.on_one_path("pgbouncer", "postgresql", direct=True):
        model = doc.model
        ist_ms, ist_setting = _shortest(path, pg, model)
        if ist_setting is None:
            continue
        ist = ist_ms / 1000.0
        idle, life = model.value("server_idle_timeout"), model.value("server_lifetime")
        if not is_known(idle) or not is_known(life):
            continue
        related = [setting_span(ist_setting)]
        # server_lifetime 0 means "use once" (closed right after use), so it always bounds idle time
        bounds = [(life, "server_lifetime")] + ([(idle, "server_idle_timeout")] if idle > 0 else [])
        value, name = min(bounds)
        ist_text = f"PostgreSQL {pg_written(ist_setting, 'idle_session_timeout', ist)}"
        target = max(ist - 60, ist / 2)
        if value >= ist:
            head = f"{source(model, name, 's')} ≥ {ist_text}"
            if name == "server_lifetime" and idle <= 0:
                head = f"server_idle_timeout = 0 (off) and {source(model, name, 's')} ≥ {ist_text}"
            yield RULE.finding(
                where(doc, model, name),
                head + ": the server closes idle pooled connections before PgBouncer retires them "
                "(FATAL 57P05; in transaction pooling PgBouncer reconnects, in session pooling the client fails)",
                assignment(doc, model, "server_idle_timeout", f"{target:g}"),
                related,
            )
        modes = [(m, s) for m, s in model.pool_modes() if m == "session"]
        if modes:
            mode_span = modes[0][1].value_span if modes[0][1] is not None else where(doc, model, "pool_mode")
            yield RULE.finding(
                mode_span,
                f"pool_mode = session with {ist_text}: a client that keeps its server connection idle longer "
                f"than {ist:g} s gets FATAL 57P05 (terminating connection due to idle-session timeout) on its "
                "next query, whatever server_idle_timeout says",
                f"{_unset_for_sessions(ist_setting)}, or set {assignment(doc, model, 'pool_mode', 'transaction')}",
                related,
            )


RULE = Rule(
    code="PGB012",
    name="pgbouncer-idle-session-timeout",
    severity=Severity.WARNING,
    summary="PostgreSQL idle_session_timeout closes PgBouncer's idle server connections first",
    needs=("pgbouncer", "postgresql"),
    check=check,
    doc=__doc__,
)
