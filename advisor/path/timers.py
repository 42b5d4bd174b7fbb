"""When each hop of a path closes an idle connection, and which closes it first.

Facts (../shared/reference/connection-timeouts.md §0, lab-observations.md):
- keepalive probes refresh packet-reset flow tables (NLB, NAT, Azure LB, conntrack), from either
  end of the leg; a probe follows `idle` seconds of silence and, answered, restarts the count, so
  a leg whose keepalive idle is below the timer never looks idle to the middlebox;
- HAProxy `timeout client/server` (or `timeout tunnel`, which replaces both once a TCP stream is
  a tunnel) are reset only by data: closed at the timeout despite keepalives (rows H3, H4);
- PgBouncer `client_idle_timeout` closes only clients holding no server connection: never in
  session pooling (B1), between transactions in transaction pooling (B1t);
- PostgreSQL `idle_session_timeout` ends the session; behind PgBouncer in transaction pooling the
  pooler reconnects and the client never sees it (B5); in session pooling the client does (B6);
- a dead server connection behind a transaction-pooling PgBouncer is replaced by the pooler
  (it checks connections idle longer than `server_check_delay` before reuse), so timers on legs
  after such a pooler do not reach the application.
"""

from __future__ import annotations

from typing import Any

from advisor.catalog import value_or_default
from advisor.model import Span, Unknown, is_known
from advisor.model.host import LINUX_KEEPALIVE_INTVL, LINUX_KEEPALIVE_TIME
from advisor.path.model import DeploymentPath, Hop, KeepalivePlan, Leg, Timer

EFFECT_CLOSE = "the next query fails: server closed the connection unexpectedly (or SSL SYSCALL error: EOF detected)"
EFFECT_RST = "the next packet draws a RST: the next query fails at once (server closed the connection unexpectedly)"
EFFECT_DROP = ("the flow is dropped silently: the next query hangs until TCP gives up (about 15 min of "
               "retransmissions) unless keepalives or tcp_user_timeout detect it sooner")
# a GCP passthrough load balancer's tracking entry expired (advisor.model.middlebox, gcp-lb)
EFFECT_REHASH = ("its connection tracking entry expires, and the next packet goes through backend selection again "
                 "(consistent hashing{on}): it reaches the same backend while the backends and their health are "
                 "unchanged, so the connection continues; only if the backend set changed meanwhile (a backend added, "
                 "removed or unhealthy, a failover) may it reach another backend, which knows no such connection and "
                 "resets it")
_AFFINITY_HASH = {"NONE": " on the 5-tuple", "CLIENT_IP_PORT_PROTO": " on the 5-tuple",
                  "CLIENT_IP_PROTO": " on client IP, destination IP and protocol", "CLIENT_IP": " on client and "
                  "destination IP", "CLIENT_IP_NO_DESTINATION": " on the client IP"}


def build_legs(path: DeploymentPath) -> None:
    """Legs between consecutive TCP-ending hops, with the middleboxes between them and both ends'
    keepalive plans."""
    legs: list[Leg] = []
    last = None
    between: list[int] = []
    for i, hop in enumerate(path.hops):
        if hop.ends_tcp:
            if last is not None:
                legs.append(Leg(last, i, between, [_plan(path.hops[last], last, "out"), _plan(hop, i, "in")],
                                socket=None if between else _unix_socket(path.hops[last])))
            elif between:  # middleboxes in front of the first hop: a leg from clients no file shows
                legs.append(Leg(i, i, between, [_plan(hop, i, "in")], open_end="client"))
            last, between = i, []
        else:
            between.append(i)
    if last is not None and between:  # middleboxes after the last endpoint: a leg to an unknown server
        legs.append(Leg(last, last, between, [_plan(path.hops[last], last, "out")], open_end="server"))
    path.legs = legs


def _unix_socket(hop: Hop) -> str | None:
    """The Unix socket directory a hop connects to its next hop through (a PgBouncer database
    entry's `host=/var/run/postgresql`, a client's host `/tmp` or `@abstract`), else None."""
    if hop.kind == "pgbouncer" and hop.detail is not None:
        host = hop.detail.value("host")
        return host if isinstance(host, str) and host.startswith(("/", "@")) else None
    if hop.kind == "client" and hop.detail is not None and getattr(hop.detail, "hosts", None):
        first = hop.detail.hosts[0]
        if first.known and isinstance(first.value, str) and first.value.startswith(("/", "@")):
            return first.value
    return None


def _host_interval(hop: Hop) -> float:
    """The probe interval a socket gets when it sets none: its host's sysctl, else Linux's 75 s."""
    host = hop.host
    if host is not None:
        v = host.get("tcp_keepalive_intvl")
        if v is not None and is_known(v.value):
            return float(v.value)
    return float(LINUX_KEEPALIVE_INTVL)


def _interval(hop: Hop, own: Any) -> float:
    """A socket's probe interval: its own positive setting, else its host's, else Linux's."""
    if is_known(own) and not isinstance(own, bool) and own:
        return float(own)
    return _host_interval(hop)


def _host_said(host, time) -> str:
    """`host db1: net.ipv4.tcp_keepalive_time = 60` for a host the topology names and declares it
    for; a value read from a sysctl file of the host also says the file and line it was read at
    (`host: ... in etc/sysctl.d/60-net.conf:2` when no host is named)."""
    setting = f"net.ipv4.tcp_keepalive_time = {time.value:g}"
    span = time.span
    where = ""
    if time.origin != "declared" and span is not None and span.file:  # read from a file of the host
        where = f" in {span.file}" + (f":{span.line}" if span.line else "")
    return (f"host {host.name}: " if host.name else "host: ") + setting + where


def _os_idle(hop: Hop, i: int, what: str, interval: float | None = None) -> KeepalivePlan:
    interval = interval if interval is not None else _host_interval(hop)
    host = hop.host
    if host is not None:
        time = host.get("tcp_keepalive_time")
        if time is not None and is_known(time.value):
            return KeepalivePlan(i, True, float(time.value), f"{what} ({_host_said(host, time)})",
                                 time.span, "host", interval)
    return KeepalivePlan(i, True, float(LINUX_KEEPALIVE_TIME), f"{what} (OS default {LINUX_KEEPALIVE_TIME} s)",
                         None, "os-default", interval)


def _plan(hop: Hop, i: int, side: str) -> KeepalivePlan:
    """The keepalive plan of `hop`'s socket on the leg (`side` "out": towards the server)."""
    kind = hop.kind
    if kind == "client":
        ka = getattr(hop.detail, "keepalive", None)
        if ka is None:
            return KeepalivePlan(i, None, None, "client keepalives unknown", origin="default")
        if ka.enabled.known and not ka.enabled.value:
            text = f"{_written(ka.enabled, 'keepalives')} (off)"
            if getattr(hop.detail, "asyncpg", False) and ka.note:  # no setting to name: say why
                text = f"asyncpg: {ka.note}"
            return KeepalivePlan(i, False, None, text, ka.enabled.span, ka.enabled.origin)
        interval = (_interval(hop, ka.interval.value) if ka.interval.origin != "os-default"
                    else _host_interval(hop)) if ka.interval.known else None
        if not ka.idle.known:
            return KeepalivePlan(i, None, None, f"keepalive idle {ka.idle.display} (unknown)", ka.idle.span)
        if ka.idle.origin == "os-default":
            plan = _os_idle(hop, i, f"{hop.detail.driver} keepalives on, idle not set", interval)
            if ka.note and plan.origin == "os-default":
                plan.text = f"{hop.detail.driver}: {ka.note}"
            return plan
        enabled = True if ka.enabled.known else None
        if ka.idle.origin == "default" and ka.note and not ka.honours_libpq_keys:
            # a driver's own keepalive (pgx: Go's net.Dialer), not a libpq key it was given
            return KeepalivePlan(i, enabled, float(ka.idle.value), f"{hop.detail.driver}: {ka.note}", ka.idle.span,
                                 ka.idle.origin, interval)
        text = _written(ka.idle, "keepalives_idle")
        if ka.interval.origin in ("set", "env"):
            text += " " + _written(ka.interval, "keepalives_interval")
        return KeepalivePlan(i, enabled, float(ka.idle.value), text, ka.idle.span, ka.idle.origin, interval)
    if kind == "pgbouncer":
        model = hop.doc.model
        for name in PGB_KEEPALIVE:
            refused = _refused(model.setting(name))
            if refused is not None:
                return _refused_plan(i, refused, "PgBouncer")
        on = model.value("tcp_keepalive")
        idle = model.value("tcp_keepidle")
        if not is_known(on) or not is_known(idle):
            return KeepalivePlan(i, None, None, "PgBouncer tcp_keepalive/tcp_keepidle unknown (template)")
        if not on:
            return KeepalivePlan(i, False, None, "tcp_keepalive = 0", model.span_of("tcp_keepalive"))
        interval = _interval(hop, model.value("tcp_keepintvl"))
        if not idle:
            where = "tcp_keepidle = 0" if not model.is_default("tcp_keepidle") else "tcp_keepidle not set"
            plan = _os_idle(hop, i, f"PgBouncer {where}", interval)
            plan.span = plan.span or model.span_of("tcp_keepidle")
            return plan
        text = f"tcp_keepidle = {model.setting('tcp_keepidle').raw}"
        if not model.is_default("tcp_keepintvl"):
            text += f", tcp_keepintvl = {model.setting('tcp_keepintvl').raw}"
        return KeepalivePlan(i, True, float(idle), text, model.span_of("tcp_keepidle"), "set", interval)
    if kind == "haproxy":
        route = hop.detail
        proxy, which = (route.front, "client") if side == "in" else (route.back, "server")
        ka = proxy.keepalive(which)
        option = "clitcpka" if which == "client" else "srvtcpka"
        enabled = ka["enabled"]
        if enabled is None or enabled.value is False:
            return KeepalivePlan(i, False, None, f"no option {option}/tcpka in {proxy.label} (HAProxy sends no "
                                 "probes on that side)", proxy.span, "default")
        if not is_known(enabled.value):
            return KeepalivePlan(i, None, None, f"option {option} unknown", enabled.span)
        intvl = ka["intvl"]
        interval = _interval(hop, intvl.value if intvl is not None else None)
        idle = ka["idle"]
        if idle is None:
            return _os_idle(hop, i, f"option {option} in {proxy.label}, {option}-idle not set", interval)
        if not is_known(idle.value):
            return KeepalivePlan(i, None, None, f"{option}-idle unknown", idle.span)
        return KeepalivePlan(i, True, float(idle.value), f"{option}-idle {idle.value} s (set in {idle.origin})",
                             idle.span, "set", interval)
    if kind == "postgres":
        if hop.doc is None:
            return _os_idle(hop, i, "PostgreSQL tcp_keepalives_idle (declared server, not read)")
        for name in PG_KEEPALIVE:
            refused = _refused(hop.doc.get(name))
            if refused is not None:
                return _refused_plan(i, refused, "PostgreSQL")
        value, setting = value_or_default(hop.doc, "tcp_keepalives_idle")
        interval = _interval(hop, value_or_default(hop.doc, "tcp_keepalives_interval")[0])
        if setting is not None and value is None:
            return KeepalivePlan(i, True, None, f"tcp_keepalives_idle = {setting.raw} (unknown)", setting.span)
        if value is None:  # unset here, and a file pgpath did not read may set it
            return KeepalivePlan(i, None, None, "tcp_keepalives_idle unknown (not set in the files read; a file not "
                                 "read may set it)")
        if not value:
            what = "tcp_keepalives_idle = 0" if setting is not None else "tcp_keepalives_idle not set"
            plan = _os_idle(hop, i, f"PostgreSQL {what}", interval)
            if setting is not None and plan.span is None:
                plan.span = setting.value_span or setting.span
            return plan
        by = hop.doc.meta.get("defaults_by", "the operator")
        operator = f" ({by}'s default)" if "tcp_keepalives_idle" in hop.doc.meta.get("operator_settings", ()) else ""
        return KeepalivePlan(i, True, float(value), f"tcp_keepalives_idle = {setting.raw}{operator}",
                             setting.value_span or setting.span, "set", interval)
    # a proxy that terminates TCP (RDS Proxy, ALB, Classic ELB): its own keepalives are not documented
    return KeepalivePlan(i, None, None, f"{hop.label}: keepalives not documented")


PGB_KEEPALIVE = ("tcp_keepalive", "tcp_keepidle", "tcp_keepintvl", "tcp_keepcnt")
PG_KEEPALIVE = ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")


def _refused(setting):
    """The setting when its written value is one the software refuses (typed None by the loader,
    reported by PGB002/PG002: PgBouncer reads tcp_keepintvl with strtol, so `75.0` is refused), else
    None. A template placeholder is Unknown, not refused."""
    if setting is None or setting.value is not None:
        return None
    return setting


def _refused_plan(i: int, setting, software: str) -> KeepalivePlan:
    """An end whose keepalive settings the software refuses: unknown, never the OS default in
    their place (the software does not start with them)."""
    return KeepalivePlan(i, None, None, f"{setting.name} = {setting.raw}, a value {software} refuses: it does not "
                         "start with it", setting.value_span or setting.span, "invalid")


def _written(value, key: str) -> str:
    if value.raw is not None and value.origin in ("set", "env"):
        note = getattr(value, "assumed_note", "")
        return f"{value.key or key}={value.display}" + (f" ({note})" if note else "")
    return f"{value.key or key} {value.display} ({value.origin})"


# ------------------------------------------------------------------------------------------------
# timers


def build_timers(path: DeploymentPath) -> None:
    timers: list[Timer] = []
    pooled_from = transaction_pooler_index(path)
    for leg_index, leg in enumerate(path.legs):
        best = leg.keepalive()
        for m in leg.middleboxes:
            timers.append(_middlebox_timer(path, m, leg_index, best, pooled_from))
    for i, hop in enumerate(path.hops):
        behind_pooler = pooled_from is not None and i > pooled_from
        if hop.kind == "haproxy":
            timers.extend(_haproxy_timers(hop, i, behind_pooler))
        elif hop.kind == "pgbouncer":
            timers.extend(_pgbouncer_timers(hop, i, behind_pooler))
        elif hop.kind == "postgres" and hop.doc is not None:
            timers.extend(_postgres_timers(path, hop, i, pooled_from))
        elif hop.detail is not None and hop.kind in ("aws-rds-proxy", "aws-alb", "aws-elb", "gcp-proxy-lb"):
            timers.append(_terminating_timer(hop, i, behind_pooler))
    path.timers = timers


def transaction_pooler_index(path: DeploymentPath) -> int | None:
    """Index of the first PgBouncer on the path that pools by transaction or statement."""
    for i, hop in path.hops_of("pgbouncer"):
        mode = pool_mode(hop)
        if mode in ("transaction", "statement"):
            return i
    return None


def pool_mode(hop: Hop) -> Any:
    """The pool mode a PgBouncer hop applies to this path's database (per-database override first)."""
    return hop.doc.model.pool_mode_of(hop.detail)


def _seconds(value: Any) -> float | None:
    if value is None or isinstance(value, Unknown):
        return None
    return float(value)


def _middlebox_timer(path: DeploymentPath, m: int, leg_index: int, best: KeepalivePlan | None,
                     pooled_from: int | None) -> Timer:
    hop = path.hops[m]
    box = hop.detail
    t = box.idle_timeout
    seconds = _seconds(t.value) if t.known else None
    origin = {"default": " (documented default)"}.get(t.origin, "")
    name = f"{hop.label} idle timeout {_idle_shown(t, seconds)}{origin}"
    if box.on_expiry == "rehash":
        # the expiry ends no connection: shown on the path, judged by no rule
        affinity = box.facts.get("session_affinity")
        on = _AFFINITY_HASH.get(str(affinity.value), "") if affinity is not None and affinity.known else ""
        return Timer(m, leg_index, f"{hop.label} connection tracking idle timeout {_idle_shown(t, seconds)}{origin}",
                     seconds, "packets", False, EFFECT_REHASH.format(on=on), t.span or hop.span, notifies=False,
                     expiry="rehash")
    effect = EFFECT_RST if box.on_expiry == "rst" else EFFECT_DROP if box.on_expiry == "drop" else EFFECT_CLOSE
    leg = path.legs[leg_index]
    closes_client = pooled_from is None or leg.a < pooled_from or leg.open_end == "client"
    if not closes_client:
        if box.on_expiry == "drop":
            # a silently dropped server connection is not noticed by PgBouncer's reuse check either:
            # the check (and the client's query behind it) waits until TCP gives up
            closes_client = True
            effect = ("PgBouncer's next use of the dropped server connection hangs until TCP gives up (about "
                      "15 min) unless its keepalives or tcp_user_timeout detect it: the client's query waits")
        else:
            effect = ("PgBouncer (transaction pooling) replaces the reset server connection; the client does not "
                      "see it")
    # the close reaches the client as it happens: a proxy that closes both sides, an Azure Load
    # Balancer with TCP reset (bidirectional RSTs at expiry); an NLB resets only the next packet
    notifies = box.on_expiry == "close" or (box.on_expiry == "rst" and box.kind == "azure-lb")
    if box.keepalive_resets is False:
        return Timer(m, leg_index, name, seconds, "traffic", closes_client, effect, t.span or hop.span,
                     notifies=notifies, expiry=box.on_expiry or "close")
    if box.kind == "cloud-lb":  # the cloud's load balancer, whichever it is: its timer depends on the cloud
        from advisor.model.middlebox import CLOUD_LB_CLASSIC, CLOUD_LB_TIMERS

        return Timer(m, leg_index, f"{hop.label} idle timeout (the cloud's)", None, "packets", closes_client,
                     effect, hop.span, expiry=box.on_expiry or "close",
                     note=f"depends on the cloud: {CLOUD_LB_TIMERS}; {CLOUD_LB_CLASSIC}; none on bare metal (MetalLB)")
    defeated = best is not None and seconds is not None and best.probes_every < seconds
    note = f"kept open by keepalive probes every {_fmt(best.probes_every)} ({best.text})" if defeated else ""
    kept_by = "keepalive probes" if defeated else ""
    client = pooled_client(path, leg, pooled_from)
    every = client.detail.pool.keepalive_every() if client is not None else None
    if not defeated and seconds is not None and every is not None and every < seconds:
        # HikariCP's keepalive task validates each idle pooled connection: real traffic on every
        # leg the client's queries cross, which refreshes the flow as any packet does
        defeated, kept_by = True, "pool keepalive"
        pool = client.detail.pool
        keep = pool.keepalive_time
        if pool.library == "rails":  # activerecord 8.1: its reaper sends `;` on connections idle `keepalive`
            written = f"{_written(keep, 'keepalive')}" if keep.origin in ("set", "env") else \
                f"keepalive {_fmt(float(keep.value))}"
            who = (f"Rails' pool keepalive, whose reaper sends `;` on each connection idle in the pool, every "
                   f"{_fmt(every)} at most ({written} + reaping_frequency; {pool.version})")
        else:
            written = f"{_written(keep, 'keepaliveTime')}" if keep.origin in ("set", "env") else \
                f"keepaliveTime {_fmt(every)}"
            who = (f"HikariCP's keepalive, which validates each connection idle in the pool every {_fmt(every)} at "
                   f"most ({written})")
        note = (f"kept open for pooled connections by {who}; a connection the application itself holds "
                f"idle for {_fmt(seconds)} is not pinged, and its next query meets the expired flow")
    return Timer(m, leg_index, name, seconds, "packets", closes_client, effect, t.span or hop.span, defeated, note,
                 notifies=notifies, kept_by=kept_by, expiry=box.on_expiry or "close")


def pooled_client(path: DeploymentPath, leg: Leg, pooled_from: int | None) -> Hop | None:
    """The client whose pool's own queries cross `leg` (a keepalive query, a validation on
    borrow), or None: the path's client with a persistent pool, on a leg before the first
    transaction pooler (a session pooler passes a client's queries to its one server connection;
    a transaction pooler to whichever server connection is free)."""
    if leg.open_end == "client":
        return None
    clients = path.hops_of("client")
    if not clients:
        return None
    i, hop = clients[0]
    if leg.a < i or (pooled_from is not None and leg.a >= pooled_from):
        return None
    pool = getattr(hop.detail, "pool", None)
    if pool is None or not pool.persistent:
        return None
    return hop


def _haproxy_timers(hop: Hop, i: int, behind_pooler: bool) -> list[Timer]:
    from advisor.model.haproxy import idle_timeout
    from advisor.units import hap_format_ms

    route = hop.detail
    idle = idle_timeout(route.front, route.back)
    if idle.ms is None:
        return []
    seconds = None if isinstance(idle.ms, Unknown) else idle.ms / 1000.0
    shown = idle.ms.text if isinstance(idle.ms, Unknown) else hap_format_ms(idle.ms)
    # each timeout as the file writes it (`timeout client 60s and timeout server 60000 (60 s)`)
    if idle.via_tunnel:
        tunnel = route.back.timeout("tunnel") or route.front.timeout("tunnel")
        label = f"timeout tunnel {tunnel.shown() if tunnel is not None else shown}"
    else:
        written = [(side, v.shown()) for side, proxy in (("client", route.front), ("server", route.back))
                   if (v := proxy.timeout(side)) is not None and v.value == idle.ms]
        if len(written) == 2 and written[0][1] == written[1][1]:
            label = f"timeout client/server {written[0][1]}"
        else:
            label = " and ".join(f"timeout {side} {text}" for side, text in written) if written else f"timeout {shown}"
    effect = EFFECT_CLOSE if not behind_pooler else "PgBouncer (transaction pooling) reconnects; the client does not see it"
    return [Timer(i, None, f"HAProxy {route.label} {label}", seconds, "traffic", not behind_pooler, effect,
                  idle.spans[0] if idle.spans else route.front.span, note=idle.reason)]


def _pgbouncer_timers(hop: Hop, i: int, behind_pooler: bool = False) -> list[Timer]:
    model = hop.doc.model
    out: list[Timer] = []
    cit = model.value("client_idle_timeout")
    if is_known(cit) and cit:
        mode = pool_mode(hop)
        closes = mode in ("transaction", "statement")
        setting = model.setting("client_idle_timeout")
        raw = setting.raw if setting is not None else str(cit)
        note = "" if closes else ("pool_mode = session: a client holding its server connection is never closed by "
                                  "client_idle_timeout (lab B1)")
        effect = "FATAL client_idle_timeout (08P01): the next query fails" if closes else "none"
        if closes and behind_pooler:
            # its clients are the server connections of a PgBouncer in transaction pooling before it,
            # which drops the closed one and opens another: the application sees nothing
            closes, effect = False, "PgBouncer (transaction pooling) before it reconnects; the client does not see it"
        out.append(Timer(i, None, f"PgBouncer client_idle_timeout = {raw}", float(cit), "traffic", closes,
                         effect, model.span_of("client_idle_timeout"), note=note))
    elif model.setting("client_idle_timeout") is None and hop.doc.meta.get("defaults_unknown_because"):
        # a PgBouncer that reads settings pgpath did not (a mounted pgbouncer.ini not read, an include
        # made at deploy time): whether it closes idle clients is not known, and `pgpath path` says
        # so instead of "nothing closes"
        unread = hop.doc.meta["defaults_unknown_because"]
        at = Span(**unread[0]) if isinstance(unread[0], dict) else unread[0]
        mode = model.value("pool_mode")
        closes = not behind_pooler and not (is_known(mode) and mode == "session")
        out.append(Timer(i, None, "PgBouncer client_idle_timeout unknown", None, "traffic", closes,
                         "FATAL client_idle_timeout (08P01): the next query fails", at,
                         note=f"PgBouncer reads settings pgpath did not read (at {at}): check client_idle_timeout "
                              "where they are"))
    return out


def session_of(path: DeploymentPath, index: int) -> tuple[str | None, str | None]:
    """(role, database) of the server session behind hop `index`: the client's user and database,
    as a PgBouncer `[databases]` entry with its own `user=`/`dbname=` replaces them."""
    role = database = None
    for hop in path.hops[:index]:
        if hop.kind == "client":
            ep = hop.detail
            role = ep.user.value if ep.user is not None and ep.user.known else role
            database = ep.dbname.value if ep.dbname is not None and ep.dbname.known else database
        elif hop.kind == "pgbouncer" and hop.detail is not None:
            user, db = hop.detail.value("user"), hop.detail.value("dbname")
            role = user if is_known(user) and user else role
            database = db if is_known(db) and db else database
    return role, database


def server_setting(path: DeploymentPath, index: int, name: str,
                   session: tuple[str | None, str | None] | None = None) -> tuple[Any, Any]:
    """(value in the base unit, the setting) of a PostgreSQL parameter for this path's sessions
    (or for `session`, a (role, database) of them): the role's or database's own value (ALTER
    ROLE/DATABASE ... SET) when one applies, else the configuration files' (with ALTER SYSTEM),
    else the default."""
    hop = path.hops[index]
    if hop.sql:
        from advisor.model.sql import RoleSettings

        role, database = session if session is not None else session_of(path, index)
        found = RoleSettings.from_docs(hop.sql).effective(name, role, database, include_system=False)
        if found is not None:
            return (found.value if is_known(found.value) else None), found
    value, setting = value_or_default(hop.doc, name)
    if hop.sql:
        from advisor.model.sql import RoleSettings

        system = RoleSettings.from_docs(hop.sql).by_section.get("system", {}).get(name)
        if system is not None:  # ALTER SYSTEM (postgresql.auto.conf) beats postgresql.conf
            return (system.value if is_known(system.value) else None), system
    return value, setting


def _postgres_timers(path: DeploymentPath, hop: Hop, i: int, pooled_from: int | None) -> list[Timer]:
    value, setting = server_setting(path, i, "idle_session_timeout")
    behind_pooler = pooled_from is not None
    if behind_pooler:
        effect = ("PgBouncer (transaction pooling) replaces the closed server connection; the client does not see "
                  "it (lab B5)")
    else:
        effect = "FATAL 57P05 terminating connection due to idle-session timeout: the next query fails"
    if value is None:
        # a template placeholder, or a server that reads settings pgpath did not (an entrypoint
        # script, a configuration file mounted from elsewhere): whether it closes idle sessions is
        # not known, and `pgpath path` says so instead of "nothing closes"
        unread = hop.doc.meta.get("defaults_unknown_because") if hop.doc is not None else None
        named = hop.doc.meta.get("pg_major_named") if hop.doc is not None else None
        if isinstance(named, int) and named < 14:
            return []  # idle_session_timeout came in PostgreSQL 14: this server has none
        if setting is not None:
            return [Timer(i, None, f"PostgreSQL idle_session_timeout = {setting.raw}", None, "traffic",
                          not behind_pooler, effect, setting.value_span or setting.span)]
        if unread:
            at = Span(**unread[0]) if isinstance(unread[0], dict) else unread[0]
            return [Timer(i, None, "PostgreSQL idle_session_timeout unknown", None, "traffic", not behind_pooler,
                          effect, at, note=f"the server reads settings pgpath did not read (at {at}): check "
                          "idle_session_timeout where they are")]
        return []
    if setting is None or not value:
        return []
    where = f" ({setting.section.replace(':', ' ')})" if getattr(setting, "section", None) else ""
    return [Timer(i, None, f"PostgreSQL idle_session_timeout = {setting.raw}{where}", value / 1000.0, "traffic",
                  not behind_pooler, effect, setting.value_span or setting.span)]


def _terminating_timer(hop: Hop, i: int, behind_pooler: bool) -> Timer:
    box = hop.detail
    t = box.idle_timeout
    seconds = _seconds(t.value) if t.known else None
    return Timer(i, None, f"{hop.label} idle timeout {_idle_shown(t, seconds)}", seconds, "traffic",
                 not behind_pooler, EFFECT_CLOSE, t.span or hop.span)


def _idle_shown(t, seconds: float | None) -> str:
    """A middlebox's idle timeout as its file writes it, with its unit and each conversion once:
    `4 min = 240 s`, `900 s` (a bare `900` of a seconds field), `4min`, `240 s` (not written)."""
    if not t.raw:
        return _fmt(seconds)
    if t.unit in ("s", "min") and t.raw.strip().isdigit():
        return f"{t.raw.strip()} {t.unit}" + (f" = {_fmt(seconds)}" if t.unit == "min" and seconds is not None else "")
    return t.display


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    return f"{seconds:g} s"


def analyse(path: DeploymentPath) -> DeploymentPath:
    """Fill a path's legs and timers."""
    build_legs(path)
    build_timers(path)
    return path
