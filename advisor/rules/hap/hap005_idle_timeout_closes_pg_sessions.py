"""Idle PostgreSQL sessions are cut by HAProxy's `timeout client/server` (or `timeout tunnel`).

## What it checks
For every TCP route to PostgreSQL (a `listen`, or a `frontend` and the `backend` it uses; see
HAP003 for how a PostgreSQL backend is recognised) the effective idle timeout, after
inheritance: in `mode tcp` the session becomes a tunnel as soon as no analyzer remains (at
once for a plain PostgreSQL proxy), so `timeout tunnel` (from the backend) applies when it is
set; otherwise the shorter of `timeout client` (frontend) and `timeout server` (backend). It is
reported, as a warning, when that timeout is under 10 minutes: common pools that neither validate
a connection when they lend it nor keep it forever retire an idle one later than that
(psycopg_pool closes connections above `min_size` idle past `max_idle`, 600 s, and checks none by
default), so such a proxy cuts connections they still lend.

A timeout of 10 to 30 minutes is reported as info when no client of the route was read: it is
within what common pools keep an idle connection by default (HikariCP's `maxLifetime` and pgxpool's
`MaxConnIdleTime` are both 30 min, and HikariCP's documentation asks for a lifetime several seconds
shorter than any infrastructure limit), and pools that never retire idle connections meet it after a
quiet half hour (SQLAlchemy's default pool; psycopg_pool's `min_size` connections, whose
`max_lifetime` is checked only when a connection is returned; Django's persistent connections). The
finding says which clients to give pgpath so that each pool is judged against it (PATH002). Patroni's
example `haproxy.cfg` (`timeout client 30m`, `timeout server 30m`) is this case.

A longer timeout is not reported by default, since no client read with it shows a failure:
- pools that validate on borrow lend no connection the proxy closed (HikariCP re-validates one
  unused for 500 ms, pgx v5's pgxpool pings one idle for over 1 s), and every common pool that
  retires idle connections has done so by then;
- pools that neither retire idle connections nor validate them (SQLAlchemy without
  `pool_pre_ping`, psycopg_pool's `min_size` connections, Django's persistent connections
  without `CONN_HEALTH_CHECKS`) are cut by any finite timer, however long; only the client's
  configuration shows that, so APP007, APP008 and PATH002 judge them where it is read, against
  this very timer when the client and the proxy are on one path;
- a statement that runs longer without returning rows is cut too, but how long statements run is
  in no file: PATH003 compares the timer with the server's `statement_timeout` when both are on
  one path.

A route whose every assembled path starts at a client pgpath read with its pool (a Django,
Spring, SQLAlchemy or node-postgres configuration in the same deployment, or the topology's
client hops; a bare connection string names no pool) is left to PATH002,
which judges each of those clients' pools against this very timer, and to PATH003 for
statements: only a client that is cut is reported, there.

`rule-options: {HAP005: {report-up-to: SECONDS}}` reports longer timeouts too, as info (for
clients pgpath does not read), and the routes left to PATH002 again; `warn-below: SECONDS` moves the warning threshold (and the
reporting limit with it). Routes whose sessions the same line closes (a `defaults` timeout
inherited by a primary and a replica `listen`) make one finding that names them all, at that
line.

## Why it matters
HAProxy closes a session after that much time without data in either direction. A pooled
PostgreSQL connection that sits idle longer is cut: the client's next query fails with
`server closed the connection unexpectedly` (or `SSL SYSCALL error: EOF detected` over TLS),
and PostgreSQL logs `could not receive data from client: Connection reset by peer`.

**TCP keepalives do not prevent it**: probes carry no data and do not reset HAProxy's timers
(lab rows H3/H4: closed at the 2 s timeout with 1 s keepalives on both sides, libpq and
`option clitcpka/srvtcpka`). Only real traffic (a pool's keepalive query such as HikariCP
`keepaliveTime`), `timeout tunnel`, or a longer timeout keeps an idle session (lab row H5:
`timeout tunnel 30s` kept a 5 s idle session that `timeout client/server 2s` alone would cut).

A running statement that returns nothing is idle to HAProxy too: `SELECT pg_sleep(3)` through
`timeout client/server 2s` loses its connection at 2 s, and completes with `timeout tunnel 10s`
(tests/lab/test_lab_long_statement.py). PATH003 compares the timeout with the server's
`statement_timeout` when both are on one path.

## Fix
Either make clients recycle or ping idle connections before the timeout (pool max idle time
or lifetime a little shorter, or a keepalive query), or set `timeout tunnel` in the backend /
listen to the longest idle time sessions must survive.

## References
- HAProxy configuration manual: timeout tunnel, timeout client, timeout server — https://docs.haproxy.org/2.6/configuration.html#4-timeout%20tunnel
- pgpath reference: connection-timeouts.md §0 and §4; lab-observations.md rows H1–H5
"""

from advisor.findings import Severity
from advisor.model import Unknown
from advisor.model.client import (COMMON_POOL_IDLE_S, COMMON_POOL_RETIRE_S, COMMON_POOL_RETIRE_SAID,
                                  GIVE_CLIENTS)
from advisor.rules.hap._common import haproxy_docs, is_postgres
from advisor.rules.path import pool_judged
from advisor.rules.rule import Rule, listed
from advisor.units import hap_format_ms

WARN_BELOW_MS = COMMON_POOL_IDLE_S * 1000


def check(ctx):
    from advisor.model.haproxy import idle_timeout

    warn_below_ms = ctx.rule_option("HAP005", "warn-below", WARN_BELOW_MS // 1000) * 1000
    # by default what is a warning, and up to common pools' default retirement (30 min, inclusive) as
    # info; a longer report-up-to adds info findings, never removes warnings
    report_up_to_ms = max(ctx.rule_option("HAP005", "report-up-to", 0) * 1000, warn_below_ms,
                          COMMON_POOL_RETIRE_S * 1000 + 1)

    through = None  # (id(document), route label) -> (pool judged, client label, why its pool is unread) of each path
    for doc in haproxy_docs(ctx):
        # routes whose sessions one and the same line closes (a `defaults` timeout inherited by
        # several proxies): one finding, since one change fixes them all
        groups: dict[tuple, list] = {}
        clients_read: dict = {}  # span of a group -> the clients read on paths through its routes
        for route in doc.model.routes():
            if route.back.effective_mode() != "tcp" or not is_postgres(route.back, doc.model):
                continue
            idle = idle_timeout(route.front, route.back)
            if idle.ms is None or isinstance(idle.ms, Unknown):
                continue  # infinite: HAP001; unknown: a template value
            if idle.ms >= report_up_to_ms:
                continue  # no client read shows a failure (see the rule's text)
            if through is None:
                through = _paths_through(ctx)
            paths = through.get((id(doc), route.label), [])
            if paths and all(judged for judged, _, _ in paths) and not ctx.rule_option("HAP005", "report-up-to", 0):
                continue  # PATH002 judges each client read on its paths against this very timer
            # the line that sets the timer that closes the session, with the value as written there
            deciding = _deciding(route, idle)
            span = deciding.span if deciding is not None and deciding.span is not None else route.front.span
            groups.setdefault((span, idle.ms, idle.via_tunnel), []).append((route, idle, deciding))
            clients_read.setdefault(span, []).extend((client, unread) for _, client, unread in paths
                                                     if client is not None)
        for (span, ms, via_tunnel), routes in groups.items():
            yield _finding(span, ms, via_tunnel, routes, warn_below_ms, list(dict.fromkeys(clients_read.get(span, []))))


def _why_unread(clients) -> str:
    """Why the pools of these clients are not known: a connection string names none; a bare
    SQLAlchemy URL's engine options are in code (advisor.model.client.Pool.unread)."""
    reasons = list(dict.fromkeys(unread for _, unread in clients if unread))
    if not reasons:
        return "a connection string names none"
    bare = "" if all(unread for _, unread in clients) else "a connection string names none; "
    return bare + "; ".join(reasons)


def _finding(span, ms, via_tunnel, routes, warn_below_ms, clients):
    route, idle, deciding = routes[0]
    seconds = ms / 1000
    shown = deciding.shown() if deciding is not None else hap_format_ms(ms)
    longer = hap_format_ms(max(ms * 2, 3_600_000))
    labels = listed([r.label for r, _, _ in routes])
    backs = listed(list(dict.fromkeys(r.back.label for r, _, _ in routes)))
    related = []
    for r, i, _ in routes:
        related += [sp for sp in i.spans if sp != span] + ([r.front.span] if span != r.front.span else [])
    reason = idle.reason if len(routes) == 1 else ", ".join(dict.fromkeys(i.reason for _, i, _ in routes))
    keep = f"keep client pools' max idle time / lifetime below {seconds:g} s (or ping idle connections)"
    unread = ""
    if ms >= warn_below_ms:
        # info: no client of these routes was read (or report-up-to asked for it)
        unread = (f"; {COMMON_POOL_RETIRE_SAID}, and pools that never retire idle connections and do "
                  f"not validate on borrow (SQLAlchemy's default, psycopg_pool's min_size connections, Django's "
                  f"persistent ones) lend one closed after {seconds:g} s of quiet: `server closed the connection "
                  f"unexpectedly`" + ("; no client of this route was read" if not clients else
                                      f"; the pool of {listed([c for c, _ in clients])} is not in the files read "
                                      f"({_why_unread(clients)})"))
        keep = (f"keep client pools' lifetime below {seconds:g} s or have them validate on borrow "
                f"(HikariCP maxLifetime={max(int(ms) - 30_000, 30_000)}, SQLAlchemy pool_pre_ping=True, "
                f"psycopg_pool check=ConnectionPool.check_connection)")
    tail = f"; and {GIVE_CLIENTS}" if unread and not clients else ""
    return RULE.finding(
        span,
        f"{labels}: idle PostgreSQL sessions are closed after {shown} = {seconds:g} s "
        f"({reason}); TCP keepalives do not reset this timer, so a pooled connection idle longer "
        f"than {seconds:g} s is cut and its next query fails, and so is a statement that runs longer "
        f"without returning rows (a report, an index build, a lock wait){unread}",
        (f"{keep}, or raise timeout tunnel in {backs} (e.g. timeout tunnel {longer}{LATER})" if via_tunnel else
         f"{keep}, or add timeout tunnel {longer} to {backs} ({LATER.lstrip(', ')})") + tail,
        related=list(dict.fromkeys(related)),
        severity=Severity.WARNING if ms < warn_below_ms else Severity.INFO,
    )


# what a longer tunnel timer does and does not do (corpus audit 19: offered as if it were a fix)
LATER = ", a mitigation: a pool that never retires idle connections meets the longer timer later"


def _paths_through(ctx) -> dict:
    """For each HAProxy route on an assembled path, (id(document), route label) -> for each path
    through it: whether PATH002 judges the pool of the client it starts at (a persistent pool with a
    known lifetime: a bare connection string names no pool, and the common pools HAP005 speaks for
    may read it), and that client's label when the path starts at a client read (None otherwise).
    Built once per run."""
    out: dict = {}
    for path in ctx.paths:
        judged = pool_judged(path)
        pool = getattr(path.hops[0].detail, "pool", None) if path.hops and path.hops[0].kind == "client" else None
        unread = pool.unread if pool is not None else ""
        client = path.hops[0].label if path.hops and path.hops[0].kind == "client" else None
        for h in path.hops:
            if h.kind == "haproxy" and h.doc is not None:
                out.setdefault((id(h.doc), getattr(h.detail, "label", None)), []).append((judged, client, unread))
    return out


def _deciding(route, idle):
    """The timeout `Val` whose value is the idle limit (tunnel, or the shorter of client/server)."""
    if idle.via_tunnel:
        return route.back.timeout("tunnel")
    for val in (route.front.timeout("client"), route.back.timeout("server")):
        if val is not None and val.value == idle.ms:
            return val
    return None


RULE = Rule(
    code="HAP005",
    name="haproxy-idle-timeout-closes-pg-sessions",
    severity=Severity.WARNING,
    summary="HAProxy's effective idle timeout cuts idle PostgreSQL sessions",
    needs=("haproxy",),
    check=check,
    doc=__doc__,
)
