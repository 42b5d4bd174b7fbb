"""PostgreSQL's `statement_timeout` is longer than an HAProxy idle timeout on the path.

## What it checks
While a statement runs, the connection carries no traffic: the client waits, the server
computes. HAProxy counts that as idle (`timeout client`/`timeout server`, or `timeout tunnel`
once the TCP stream is a tunnel), so a statement running longer than HAProxy's idle timeout is
cut by HAProxy, not cancelled by PostgreSQL. The rule compares the `statement_timeout` in force
for the path's sessions with each HAProxy route on the path between the client and the server:
the client's own when it sets one at connect time (`options=-c statement_timeout=...` in a libpq,
pgjdbc, pgx or node-postgres connection string; a pgx run-time parameter; node-postgres'
`statement_timeout`), which beats the rest when no PgBouncer stands between (a PgBouncer refuses or
drops it: PATH007); else the role's or
database's (`ALTER ROLE/DATABASE ... SET`); else the server's files (postgresql.conf, `ALTER
SYSTEM`). A client's own read timeout (pgjdbc `socketTimeout`, seconds) below that
`statement_timeout` cuts statements the same way, from the client's side.

## Why it matters
The limit the DBA chose never applies: at HAProxy's timeout the client gets `server closed the
connection unexpectedly` (or `SSL SYSCALL error: EOF detected`) and loses its session, while
the backend runs the statement to its end (or until it next writes to the closed socket)
instead of being cancelled cleanly with `canceling statement due to statement timeout`.

## Fix
Keep HAProxy's idle timeout above the longest statement allowed, e.g. `timeout tunnel` of
statement_timeout plus a margin in the route's backend (or listen) section; or lower
`statement_timeout` below HAProxy's timeout, where the value in force is set: the fix names that
file and line, in its syntax (`ALTER ROLE shop_app SET statement_timeout = '290s'` for a role's
own value from a SQL script, `ALTER DATABASE ...`, the server's configuration line, or the
client's options). A pgjdbc `socketTimeout` goes above
`statement_timeout` (or 0, its default), so that PostgreSQL cancels first.

## References
- HAProxy `timeout tunnel`: https://docs.haproxy.org/2.6/configuration.html#4-timeout%20tunnel
- PostgreSQL statement_timeout: https://www.postgresql.org/docs/current/runtime-config-client.html
- pgjdbc socketTimeout: https://jdbc.postgresql.org/documentation/use/
- pgpath lab observations H1, P4; tests/lab/test_lab_long_statement.py (`SELECT pg_sleep(3)` with
  `statement_timeout = 5s` behind `timeout client/server 2s`: the connection is lost at 2 s; with
  `timeout tunnel 10s` the statement completes)
"""

import math

from advisor.path.timers import server_setting
from advisor.findings import Severity
from advisor.rules.path import client_statement_timeout, related, secs
from advisor.rules.rule import Rule


def _client_read_timeout(path, st: float, setting, where: str):
    """The client's own read timeout (pgjdbc socketTimeout) below the statement_timeout: the
    driver gives up on the statement first and closes the connection."""
    first = path.hops[0] if path.hops else None
    timeout = getattr(first.detail, "socket_timeout", None) if first is not None and first.kind == "client" else None
    if timeout is None or not timeout.known or not timeout.value or timeout.value >= st or not timeout.is_set:
        return
    name = timeout.key or "socketTimeout"
    span = timeout.span or first.span
    want = math.ceil(st + 10)
    yield RULE.finding(
        span,
        f"{first.detail.who()}: {name}={timeout.raw} ({secs(timeout.value)}) < statement_timeout = {setting.raw} "
        f"({secs(st)}{where}): a statement running longer than {secs(timeout.value)} is abandoned by the driver, "
        "which closes the connection (An I/O error occurred while sending to the backend; the backend runs on "
        "until it next writes) before PostgreSQL cancels it",
        f"{name}={want} (above statement_timeout, so PostgreSQL cancels first and the connection stays usable), "
        f"or {name}=0 (the driver's default: no read timeout)",
        related=related(path, span) + [s for s in [setting.value_span or setting.span]
                                       if s is not None and s not in related(path, span)],
    )


def _lowered(doc, setting, proxy_seconds: float, client: str | None) -> str:
    """statement_timeout below the proxy's timer, written where the value in force is set, with
    that file and line: the client's options (`client`: who sets it), the role's or database's
    `ALTER ROLE/DATABASE ... SET` (or ALTER SYSTEM) in the SQL script that holds it, else the
    server's configuration in its own syntax (advisor.model.pg_parameters.assignment)."""
    from advisor.model.pg_parameters import assignment
    from advisor.model.sql import set_statement

    want = math.floor(max(proxy_seconds - 10, proxy_seconds * 0.9))
    span = setting.span
    at = f"{span.file}:{span.line}" if span is not None and span.line else (str(span) if span is not None else "")
    if client is not None:
        return f"statement_timeout below {proxy_seconds:g}s where {client} sets it" + (f" ({at})" if at else "")
    section = getattr(setting, "section", None) or ""
    statement = set_statement(section, "statement_timeout", f"'{want}s'")
    if statement is None:
        statement = assignment(doc, "statement_timeout", f"'{want}s'", setting)
    return f"{statement} (below {proxy_seconds:g}s)" + (f" in {at}" if at and " in " not in statement else
                                                         f" ({at})" if at else "")


def check(ctx):
    for path in ctx.paths:
        servers = [(i, h) for i, h in path.hops_of("postgres") if h.doc is not None]
        if not servers:
            continue
        index, server = servers[0]
        st_ms, setting, where = client_statement_timeout(path, index)
        client = setting is not None
        if setting is None:
            st_ms, setting = server_setting(path, index, "statement_timeout")  # the role's own value first
            section = getattr(setting, "section", None)
            where = f", {section.replace(':', ' ')}" if section and section.startswith(("role", "database")) else ""
        if setting is None or not st_ms:
            continue
        st = st_ms / 1000.0
        yield from _client_read_timeout(path, st, setting, where)
        for t in path.timers:
            hop = path.hops[t.hop]
            if hop.kind != "haproxy" or t.hop > index or t.seconds is None or t.seconds >= st:
                continue
            span = setting.value_span or setting.span
            back = hop.detail.back.label
            tunnel = math.ceil((st + 60) / 60)
            lower = _lowered(server.doc, setting, t.seconds, path.hops[0].detail.who() if client else None)
            yield RULE.finding(
                span,
                f"statement_timeout = {setting.raw} ({secs(st)}{where}) > {t.name} ({secs(t.seconds)}): a statement running "
                f"longer than {secs(t.seconds)} is cut by HAProxy (the client sees server closed the connection "
                "unexpectedly) before PostgreSQL cancels it",
                f"timeout tunnel {tunnel}m in {back} (above statement_timeout), or {lower}",
                related=[s for s in [t.span] if s is not None] + related(path, span),
            )


RULE = Rule(
    code="PATH003",
    name="statement-timeout-over-proxy-timeout",
    severity=Severity.WARNING,
    summary="statement_timeout longer than an HAProxy idle timeout on the path, or the client's read timeout",
    needs=("path",),
    check=check,
    doc=__doc__,
)
