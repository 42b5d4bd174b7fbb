"""PATH: rules that read an assembled connection path (advisor.path) rather than one file.

Each finding names every hop and file involved (related spans), shows the arithmetic, and
proposes values that satisfy every timer on that path.
"""

from __future__ import annotations

import math

from advisor.model import Span
from advisor.rules.rule import listed_once

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


def keepalive_target(path) -> int:
    """A keepalive idle time below every packet-reset timer on the path: half the shortest one,
    rounded down to 10 s, at most 300 s and at least 10 s (one lost probe still leaves room)."""
    shortest = min((t.seconds for t in path.timers if t.resets_on == "packets" and t.seconds), default=600.0)
    return int(max(10, min(300, (shortest / 2) // 10 * 10)))


def keepalive_fix(hop, idle: int) -> str:
    """How to make `hop`'s end of a leg probe after `idle` seconds, in its own syntax."""
    interval = max(5, min(30, idle // 4))
    if hop.kind == "client":
        ep = hop.detail
        if ep.driver == "pgjdbc":
            return (f"tcpKeepAlive=true in the JDBC URL and net.ipv4.tcp_keepalive_time={idle} on the client host "
                    "(pgjdbc has no per-connection timers)")
        if ep.driver == "pgx":
            return "pgx probes every 15 s by default (Go's net.Dialer); do not set libpq keepalive keys in its DSN"
        if ep.driver == "node-postgres":
            return f"keepAlive: true, keepAliveInitialDelayMillis: {idle * 1000}"
        ka = getattr(ep, "keepalive", None)
        # libpq applies keepalives_* only with keepalives on: keepalives=0 written must become 1
        off = ka is not None and ka.enabled.known and not ka.enabled.value and ka.enabled.origin == "set"
        keys = ("keepalives=1 " if off else "") + f"keepalives_idle={idle} keepalives_interval={interval} keepalives_count=3"
        if ep.form == "service":
            return f"{keys} in [{ep.name.removeprefix('service ')}] of the service file (one key=value per line)"
        return f"{keys} in the connection string"
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
        return f"option tcpka with clitcpka-idle {idle}s and srvtcpka-idle {idle}s in {hop.detail.front.label}"
    return f"TCP keepalive idle below {idle} s"


def _pgbouncer_settings(doc, pairs) -> str:
    """PgBouncer settings as the file that configures it writes them (an ini line, an operator's
    parameters, an image's environment), with the shared ` in ...` said once."""
    from advisor.rules.pgb import assignment

    return listed_once([assignment(doc, doc.model, name, value) for name, value in pairs], COMMAS)


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
