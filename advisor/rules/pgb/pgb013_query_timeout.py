"""PgBouncer `query_timeout` at or below PostgreSQL's `statement_timeout`.

## What it checks
When a PostgreSQL configuration is in the run and both timeouts are set, `query_timeout`
(PgBouncer, seconds) should be slightly **above** `statement_timeout` (PostgreSQL,
milliseconds), as PgBouncer's documentation advises: the server cancels slow statements itself,
and PgBouncer's timer only catches connections that are stuck (a dead network, a hung server).
`query_timeout` without any `statement_timeout` is reported as information.

## Why it matters
When PgBouncer's timer fires first it does not cancel the statement the way the server does:
it closes the server connection and the client gets an error instead of a clean
`canceling statement due to statement timeout` (57014) that leaves the session usable.

## Fix
`query_timeout` a few seconds above `statement_timeout`, e.g. `statement_timeout = 60s` and
`query_timeout = 65`. Without a `statement_timeout`, set one per role
(`ALTER ROLE app SET statement_timeout = '60s'`, naming the role PgBouncer connects as when the
files say it), not server-wide (PG010 says why). A role's or database's own value set by an
`ALTER ROLE/DATABASE ... SET` script on the path is the one compared. When the path goes through
a PgBouncer whose several `[databases]` entries reach this server, each entry's session (its
forced user and database) is judged: the finding names the roles without a `statement_timeout`,
and its fix sets it for each of them.

## References
- PgBouncer: query_timeout — https://www.pgbouncer.org/config.html#query_timeout
- PostgreSQL: statement_timeout — https://www.postgresql.org/docs/current/runtime-config-client.html
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.catalog import value_or_default
from advisor.rules.pgb import assignment, pg_written, server_sessions, source, where
from advisor.rules.rule import Rule, setting_span


def check(ctx):
    from advisor.path.timers import server_setting

    for doc, pg, path in ctx.on_one_path("pgbouncer", "postgresql"):
        model = doc.model
        qt = model.value("query_timeout")
        if not is_known(qt) or qt <= 0:
            continue
        # the value each session on this path gets: its role's or database's own (ALTER ROLE ...
        # SET in a script on the path), else the server's configuration
        index = next((i for i, hop in enumerate(path.hops) if hop.doc is pg), None)
        judged = []  # (role or None, value in ms, setting)
        for role, database in server_sessions(path, index, model):
            st_ms, st_setting = (server_setting(path, index, "statement_timeout", (role, database))
                                 if index is not None else value_or_default(pg, "statement_timeout"))
            if is_known(st_ms):
                judged.append((role, st_ms, st_setting))
        over = [j for j in judged if j[1] > 0 and qt <= j[1] / 1000.0]
        if over:
            _, st_ms, st_setting = max(over, key=lambda j: j[1])
            st = st_ms / 1000.0
            yield RULE.finding(
                where(doc, model, "query_timeout"),
                f"{source(model, 'query_timeout', 's')} ≤ PostgreSQL {pg_written(st_setting, 'statement_timeout', st)}: "
                "PgBouncer gives up first and closes the server connection instead of letting the server cancel "
                "the statement",
                assignment(doc, model, "query_timeout", f"{st + 5:g}"),
                [setting_span(st_setting)] if st_setting else [],
            )
            continue
        unset = [j for j in judged if j[1] <= 0]
        if not unset:
            continue
        _, _, st_setting = unset[0]
        st_text = "statement_timeout = 0 (default)" if st_setting is None else \
            f"statement_timeout = {st_setting.raw} (off)"
        roles = list(dict.fromkeys(role or "<app_role>" for role, _, _ in unset))
        yield RULE.finding(
            where(doc, model, "query_timeout"),
            f"{source(model, 'query_timeout', 's')} while PostgreSQL {st_text}"
            + (f" for {', '.join(named)}" + (" and the users of the entries that force none" if "<app_role>" in roles
                                              else "")
               if len(judged) > 1 and (named := [r for r in roles if r != '<app_role>']) else "")
            + ": PgBouncer's timer is the only limit, and it closes the server connection instead of cancelling "
            "the statement",
            "; ".join(f"ALTER ROLE {role} SET statement_timeout = '{max(qt - 5, qt * 0.9):g}s'" for role in roles)
            + " in PostgreSQL (slightly below query_timeout; per role, not server-wide: PG010)",
            [setting_span(st_setting)] if st_setting else [],
            severity=Severity.INFO,
        )


RULE = Rule(
    code="PGB013",
    name="pgbouncer-query-timeout",
    severity=Severity.WARNING,
    summary="query_timeout not slightly above PostgreSQL's statement_timeout",
    needs=("pgbouncer", "postgresql"),
    check=check,
    doc=__doc__,
)
