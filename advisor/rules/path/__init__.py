"""PATH: rules that read an assembled connection path (advisor.path) rather than one file.

Each finding names every hop and file involved (related spans), shows the arithmetic, and
proposes values that satisfy every timer on that path.
"""

from __future__ import annotations

import math

from advisor.model import Span
from advisor.model.host import LINUX_KEEPALIVE_INTVL

COMMAS = ", ".join  # a fix's settings, one after the other


def secs(seconds: float) -> str:
    if seconds is None:
        return "unknown"
    if math.isinf(seconds):
        return "never"
    return f"{seconds:g} s"


def timer_seconds(timer) -> str:
    """A timer's name and its seconds, each said once: `HAProxy listen pg timeout client/server 30m
    = 1800 s`, but `Azure Load Balancer lb idle timeout 4 min = 240 s` as it is (its name already
    converts it)."""
    shown = secs(timer.seconds)
    if timer.name.endswith(shown) or f" {shown} (" in timer.name:
        return timer.name
    if timer.seconds is not None and timer.name.endswith(f"= {timer.seconds:g}"):
        return f"{timer.name} s"  # a setting in seconds, as written (PgBouncer client_idle_timeout = 300)
    return f"{timer.name} = {shown}"


def pool_judged(path) -> bool:
    """Whether the path starts at a client whose pool PATH002 judges against every idle timer on
    it (a persistent pool with a known lifetime): the per-file rules that speak for clients they
    cannot see (HAP005 for HAProxy's timeout, PGB015 for PgBouncer's client_idle_timeout) leave
    such a path to it, so one risk is said once, with one wording and one severity. A bare
    connection string names no pool: it is not judged."""
    first = path.hops[0] if path.hops else None
    pool = getattr(first.detail, "pool", None) if first is not None and first.kind == "client" else None
    return pool is not None and bool(pool.persistent) and pool.max_lifetime.known


def on_borrow(path, timer, pool):
    """(what happens, severity) to a connection `timer` ended in a pool that validates a connection
    when it lends it, as PATH001 and PATH002 both say it; None when the pool's check does not reach
    that timer (a packet-reset timer on a leg behind a transaction pooler) or the pool does not validate.

    - The check fails at once where the connection was closed as the timer expired (a proxy's or
      server's idle timeout, an Azure Load Balancer with TCP reset) or where its first packet draws a
      RST (an NLB, a NAT gateway): the pool discards the connection and opens a new one, and the
      application sees no error (an info); a connection the application holds idle is not checked.
    - On a silently dropped flow the check gets no answer. HikariCP waits validationTimeout
      (PoolBase.isConnectionDead sets it as the network timeout; isValid takes whole seconds, at
      least 1), then tries the next connection: a borrow stalls that long per dead connection it
      meets (the bag lends the oldest first) and fails after connectionTimeout (HikariPool.getConnection,
      @604d7d5). The other pools' checks (SQLAlchemy pool_pre_ping, Django CONN_HEALTH_CHECKS,
      psycopg_pool check) have no timeout of their own and wait until TCP gives up; pgxpool's ping
      is bounded only by the Acquire context (PingTimeout 0 by default). A warning either way."""
    from advisor.findings import Severity
    from advisor.path.timers import pooled_client, transaction_pooler_index

    if pool is None or not pool.validation.known or pool.validation.value is not True:
        return None
    if timer.resets_on == "packets" and pooled_client(path, path.legs[timer.leg], transaction_pooler_index(path)) is None:
        return None
    check = f"the pool checks the connection when lending it ({pool.validation_note or 'validation on borrow'})"
    if timer.resets_on == "packets" and timer.expiry == "drop":
        if pool.library == "hikaricp":
            wait = _hikari_seconds(pool.validation_timeout, 5.0)
            wait = max(1.0, float(int(wait)))
            borrow = _hikari_seconds(pool.borrow_timeout, 30.0)
            fails = ""
            if not math.isinf(borrow):
                fails = (f", and fails after connectionTimeout {secs(borrow)} if it meets {math.ceil(borrow / wait)} "
                         "of them (Connection is not available, request timed out)")
            return (f"{check}, and on a silently dropped flow the check gets no answer: it fails only after "
                    f"validationTimeout {secs(wait)}, so a borrow stalls {secs(wait)} for each dead connection it "
                    f"meets before a live one{fails}", Severity.WARNING)
        limit = ("bounded only by the Acquire context (PingTimeout 0 by default)" if pool.library == "pgxpool"
                 else "until TCP gives up (about 15 min of retransmissions) unless tcp_user_timeout detects it sooner")
        return (f"{check}, and on a silently dropped flow the check gets no answer and has no timeout of its own: "
                f"the borrow hangs, {limit}", Severity.WARNING)
    how = ("draws the RST and fails at once" if timer.resets_on == "packets" and timer.expiry == "rst"
           and not timer.notifies else "fails at once (the connection was closed as the timer expired)")
    return (f"{check}, and the check {how}: the pool discards it and opens a new one, so the application "
            "sees no error (a reconnect per expired connection); a connection the application itself holds idle "
            "that long fails at its next query", Severity.INFO)


def _hikari_seconds(value, default: float) -> float:
    if value is None or not value.known or not isinstance(value.value, (int, float)):
        return default
    return float(value.value)


def keepalive_target(path) -> int:
    """A keepalive idle time below every packet-reset timer on the path: half the shortest one,
    rounded down to 10 s, at most 300 s and at least 10 s (one lost probe still leaves room)."""
    shortest = min((t.seconds for t in path.timers if t.resets_on == "packets" and t.seconds), default=600.0)
    return int(max(10, min(300, (shortest / 2) // 10 * 10)))


def keepalive_fix(hop, idle: int) -> str:
    """How to make `hop`'s end of a leg probe after `idle` seconds, in its own syntax."""
    interval = max(5, min(30, idle // 4))
    # below Linux's 75 s probe interval, an answered probe would leave the leg silent 75 s: set it too
    short = idle < LINUX_KEEPALIVE_INTVL
    if hop.kind == "client":
        ep = hop.detail
        if ep.driver == "pgjdbc":
            sysctl = f"net.ipv4.tcp_keepalive_time={idle}" + (
                f" and net.ipv4.tcp_keepalive_intvl={interval}" if short else "")
            ka = ep.keepalive
            if ka is not None and ka.enabled.known and ka.enabled.value is True and ka.enabled.origin in ("set", "env"):
                return (f"{sysctl} on the client host (tcpKeepAlive=true is in the JDBC URL already; pgjdbc has no "
                        "per-connection timers)")
            return f"tcpKeepAlive=true in the JDBC URL and {sysctl} on the client host (pgjdbc has no per-connection timers)"
        if ep.driver == "pgx":
            return "pgx probes every 15 s by default (Go's net.Dialer); do not set libpq keepalive keys in its DSN"
        if ep.driver == "node-postgres":
            return f"keepAlive: true, keepAliveInitialDelayMillis: {idle * 1000}"
        if getattr(ep, "asyncpg", False):
            return (f"asyncpg has no keepalive setting and sets no SO_KEEPALIVE on its socket: probes every {idle} s "
                    "from the other end of the leg keep the flow")
        from advisor.rules.app.common import libpq_keys

        ka = getattr(ep, "keepalive", None)
        # libpq applies keepalives_* only with keepalives on: keepalives=0 written must become 1
        off = ka is not None and ka.enabled.known and not ka.enabled.value and ka.enabled.origin == "set"
        pairs = (("keepalives", 1),) if off else ()
        return libpq_keys(ep, pairs + (("keepalives_idle", idle), ("keepalives_interval", interval),
                                       ("keepalives_count", 3)))
    if hop.kind == "pgbouncer":
        on = hop.doc.model.value("tcp_keepalive")
        pairs = (("tcp_keepidle", idle), ("tcp_keepintvl", interval), ("tcp_keepcnt", 3))
        return _pgbouncer_settings(hop.doc, pairs if on is True or on == 1 else (("tcp_keepalive", 1),) + pairs)
    if hop.kind == "postgres":
        pairs = (("tcp_keepalives_idle", idle), ("tcp_keepalives_interval", interval), ("tcp_keepalives_count", 3))
        if hop.doc is None:
            return COMMAS(f"{n} = {v}" for n, v in pairs)
        from advisor.rules.pg.common import assignments

        return assignments(hop.doc, pairs, COMMAS)
    if hop.kind == "haproxy":
        intvl = f" and clitcpka-intvl {interval}s and srvtcpka-intvl {interval}s" if short else ""
        return f"option tcpka with clitcpka-idle {idle}s and srvtcpka-idle {idle}s{intvl} in {hop.detail.front.label}"
    return f"TCP keepalive idle below {idle} s"


def _pgbouncer_settings(doc, pairs) -> str:
    """PgBouncer settings as the file that configures it writes them (an ini line, an operator's
    parameters, an image's environment), with the shared ` in ...` said once."""
    from advisor.rules.pgb import assignments

    return assignments(doc, doc.model, pairs, COMMAS)


def hop_span(hop) -> Span:
    if hop.span is not None:
        return hop.span
    return Span(hop.doc.path if hop.doc is not None else "pgpath.yaml")


def related(path, *skip: Span) -> list[Span]:
    """The spans of every hop on the path, for `see:` lines (those already shown left out)."""
    out: list[Span] = []
    for hop in path.hops:
        span = hop_span(hop)
        if span.line is None and any(s.file == span.file for s in (*skip, *out)):
            continue  # a whole-file span adds nothing beside a line of that file
        if span not in skip and span not in out:
            out.append(span)
    return out


def client_statement_timeout(path, index: int):
    """(ms, value, how it is set) of the statement_timeout a client sets for its own sessions
    (ClientEndpoint.session_setting: beats the role's and the files'), when the path's client
    reaches the server without a PgBouncer, which does not pass such parameters on as they are;
    (None, None, "") otherwise."""
    from advisor.units import pg_parse_int

    first = path.hops[0] if path.hops else None
    if first is None or first.kind != "client" or any(h.kind == "pgbouncer" for h in path.hops[1:index]):
        return None, None, ""
    value = first.detail.session_setting("statement_timeout")
    if value is None or not value.known:
        return None, None, ""
    ms, error = pg_parse_int(str(value.value), "ms")
    if error is not None or ms is None:
        return None, None, ""
    how = {"options": " in its options", "variables": " in its variables (SET SESSION at connect)"}.get(
        value.key, " as a run-time parameter")
    return ms, _Said(value.raw, value.span), f", set by {first.detail.who()}{how}"


class _Said:
    """A client's value shaped as the setting a finding quotes."""

    def __init__(self, raw, span) -> None:
        self.raw, self.span, self.value_span = raw, span, span


def statement_limit(path) -> tuple[float | None, str]:
    """(seconds, as said) of the longest a statement on this path may run: the statement_timeout in
    force for its sessions (the client's own when no PgBouncer stands between, else the role's or
    database's, else the server's files; PATH003 reads it the same way); math.inf for 0 (no
    limit); (None, "") when not known or no server file is on the path."""
    from advisor.path.timers import server_setting

    servers = [(i, h) for i, h in path.hops_of("postgres") if h.doc is not None]
    if not servers:
        return None, ""
    index = servers[0][0]
    ms, setting, _ = client_statement_timeout(path, index)
    if setting is None:
        ms, setting = server_setting(path, index, "statement_timeout")
    if ms is None:
        return None, ""
    if not ms:
        return math.inf, "statement_timeout 0: no limit" if setting is not None else "statement_timeout not set: no limit"
    return ms / 1000.0, f"statement_timeout = {setting.raw}" if setting is not None else f"statement_timeout {ms} ms"
