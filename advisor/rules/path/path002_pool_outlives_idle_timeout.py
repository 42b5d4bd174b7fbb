"""A connection pool keeps connections idle longer than a timer on its path closes them.

## What it checks
For each client with a connection pool (HikariCP, SQLAlchemy, psycopg_pool, Django persistent
connections, pgxpool, node-postgres' pg-pool, asyncpg's `create_pool`, Rails' ActiveRecord pool) on an assembled path, the
pool's idle horizon —
how long a pooled connection may sit unused: its maximum lifetime, or sooner its keepalive
query (HikariCP `keepaliveTime`, which HikariCP disables below 30000 ms or when not below
`maxLifetime`) or pg-pool's `idleTimeoutMillis` (default 10000 ms, 0 disables
it), which closes every client left idle that long unless `min` > 0 (a client released while
the pool holds `min` or fewer gets no idle timer), or asyncpg's `max_inactive_connection_lifetime`
(default 300 s, 0 disables it), which closes every connection idle that long, `min_size` ones
included, or Rails' reaper, which every `reaping_frequency` (default 60 s; 20 s from activerecord 8.1)
closes the connections idle at least `idle_timeout` (default 300 s; 0 = never) and, from 8.1, retires
those older than `max_age` and sends `;` on those idle longer than `keepalive` (default 600 s) — against every timer on the path that closes
an idle client connection: HAProxy `timeout client/server` or `timeout tunnel`, PgBouncer `client_idle_timeout`
(transaction or statement pooling), PostgreSQL `idle_session_timeout` (when no transaction
pooler hides it), RDS Proxy `IdleClientTimeout` (middlebox flow timers are PATH001's, with one
exception, below).
The wording and severity are the same for every library:

- **warning** when the pool does not validate a connection when it lends it: the application's
  next query on such a connection fails (for Django, the fix names `CONN_HEALTH_CHECKS` too, and
  APP008 says nothing more of that entry);
- **info** when it does (HikariCP always, SQLAlchemy `pool_pre_ping`, Django
  `CONN_HEALTH_CHECKS`, psycopg_pool `check`, pgx v5's pgxpool on acquire, Rails always: `verify!`
  sends `;` before the first query after a checkout, at the checkout itself before 7.1, and
  reconnects) and the check fails at
  once (a connection closed as its timer expired, a flow whose next packet draws a RST): the pool
  notices and replaces the connection, at the cost of a failed check and a server-side error per
  connection; its fix, a lifetime below the timer, avoids those.

A middlebox's flow timer that the keepalives on its leg do not beat (an NLB, a NAT, an Azure
Load Balancer) is PATH001's finding, which says what the pool on the path does on borrow: its
keepalive fix keeps the flow, after which no pool outlives the timer (one cause, one finding).
This rule judges the timers keepalives never reset, and a flow timer that resets both ends as it
expires (an Azure Load Balancer with TCP reset) for a pool that sees that close: pg-pool and
asyncpg, below.

pgxpool's behaviour depends on pgx's major, read from the `go.mod` of the Go module the client
file belongs to (the nearest one at or above its folder, within the repository, or within the
folder checked outside one): `github.com/jackc/pgx/v5` or `/v4`. Without one, v5 is assumed and
the finding says so. pgx v5's Acquire checks a connection idle for more than 1 s (CheckConn, a
read, in v5.0-v5.3; a ping from v5.4.0). pgx v4's Acquire checks nothing: its health check, every
`pool_health_check_period` (default 1 min), closes the idle connections past
`pool_max_conn_lifetime` (default 1 h), and those idle past `pool_max_conn_idle_time` (default
30 min) while the pool holds more than `pool_min_conns` (default 0), so a connection is lent up
to one period after either: its horizon is the shorter of the two plus the period, and it is
judged as a pool that lends unchecked (a warning). Its fix keeps lifetime plus period 30 s below
the timer.

A psycopg_pool with `check` is not reported: its lifetime applies only when a connection is
returned and its `min_size` connections idle for ever, so the check is all it can do.

node-postgres' pg-pool listens for the end of each idle client (pg-pool's `makeIdleListener`; pg's
client turns an unexpected end into an `error` event): a timer that closes the connection as it
expires (a FIN or RST sent then: HAProxy, PgBouncer, `idle_session_timeout`, RDS Proxy, an Azure
Load Balancer with TCP reset) makes pg-pool remove it instead of lending it, and emit `error` on
the pool, which ends a Node process that does not listen for it (`pool.on('error', ...)`): an
**info** that says so, or, for a pool read in JavaScript/TypeScript code whose module never
listens for the event, a **warning** (the process exits each time). Against a timer the client learns of only at its next packet (an NLB's
RST, a silent drop), pg-pool lends the dead connection like any pool: a warning.

## Why it matters
Keepalive probes never reset these timers (lab rows H3, H4): only real traffic does. A pool that
keeps a connection longer hands out a closed one, and the application sees
`server closed the connection unexpectedly` (or `SSL SYSCALL error: EOF detected`) on a query
that did nothing wrong.

## Fix
Retire pooled connections before the shortest timer: a maximum lifetime at least 30 s below it
(HikariCP `maxLifetime`, SQLAlchemy `pool_recycle`, psycopg_pool `max_lifetime`, Django
`CONN_MAX_AGE`, pgxpool `pool_max_conn_lifetime`, pg-pool `maxLifetimeSeconds`, or its
`idleTimeoutMillis` when `min` is 0, asyncpg `max_inactive_connection_lifetime`; Rails `idle_timeout` plus `reaping_frequency`), and validate on
borrow; or lengthen the timer (HAProxy `timeout tunnel`). asyncpg's pool, like pg-pool, reads its
idle connections: one closed with a FIN or RST (HAProxy's timeout, a server's) is seen closed and
replaced on the next `acquire()` (PoolConnectionHolder.acquire: `is_closed()`), so such a timer
costs a reconnect (info); a flow a middlebox drops silently is not seen, and the connection is
lent dead (warning).

A client whose pool library is known but not its options — a SQLAlchemy URL in a container's
environment, whose engine options are `create_engine()`'s arguments in code — is judged like the
clients no file shows (below): a warning when the timer is below 600 s, info up to 30 min (an
HAProxy or PgBouncer timer is left to HAP005 and PGB015, which name such clients), saying
that its plan is not known, what SQLAlchemy's defaults would do, and to give pgpath the module
that creates the engine. When the run shows that module (the only client of the repository that
reads the variable, `create_engine(os.environ["DATABASE_URL"], ...)`, and the only container that
sets it), the two are one client with the module's options (docs/clients.md), judged as above.

A load balancer that counts data only (AWS Classic ELB, ALB, RDS Proxy) in front of a PgBouncer
or server whose clients no file shows (a Kubernetes Service of type LoadBalancer with `cloud:
aws`, where the in-tree controller makes a Classic ELB) is judged as HAP005 judges HAProxy: a
warning when its timer is below the 600 s that common pools keep a connection idle (psycopg_pool
`max_idle`, with no check on borrow by default); info up to 30 min (RDS Proxy's default
`IdleClientTimeout` of 1800 s among them), which common pools reach by default (HikariCP's
`maxLifetime`, pgxpool's `MaxConnIdleTime`), naming the clients' files to give; and not reported when
it is longer: the pools it would still cut, those that never retire an idle connection, show only in
their own files, and this rule judges them against it once those files are on the path.

## References
- HikariCP maxLifetime: https://github.com/brettwooldridge/HikariCP#frequently-used
- SQLAlchemy pool_recycle / pool_pre_ping: https://docs.sqlalchemy.org/en/20/core/pooling.html#dealing-with-disconnects
- HAProxy timeout tunnel: https://docs.haproxy.org/2.6/configuration.html#4-timeout%20tunnel
- pgx v4 pgxpool (github.com/jackc/pgx, tag v4.18.3, pgxpool/pool.go): Acquire returns the
  resource after BeforeAcquire only; checkConnsHealth (backgroundHealthCheck, every
  HealthCheckPeriod) destroys idle connections past MaxConnLifetime(+jitter), or idle past
  MaxConnIdleTime above MinConns; defaults 1 h, 30 min, 1 min (ParseConfig `pool_*` keys)
- pgx v5 pgxpool (same repository, pgxpool/pool.go): Acquire checks a connection idle > 1 s with
  CheckConn from v5.0.0 (commit 03da9fce), Ping from v5.4.0 (commit 3ea2f57d), ShouldPing from
  v5.8.0
- Rails (github.com/rails/rails, activerecord/lib/active_record, v7.0.8-v8.1.0):
  connection_adapters/abstract/connection_pool.rb (`flush`, `checkout_and_verify`: `verify!` up to
  7.0, `clean!` from 7.1; 8.1's `retire_old_connections`, `keep_alive`), abstract_adapter.rb
  (`with_raw_connection` → `verify!`), postgresql_adapter.rb (`active?`: `query ";"`),
  database_configurations/hash_config.rb (`idle_timeout` 300, `reaping_frequency` 60; 8.1:
  `keepalive` 600, `max_age`, `default_reaping_frequency` min(20, idle_timeout, max_age, keepalive)).
  The release is the application's Gemfile.lock's (advisor.loaders.clients.gemlock), said in the
  message (`activerecord 8.0.4 (Gemfile.lock:6)`); 7.1-8.0's plan when none is found.
- pgpath lab observations H1–H5, B1t, P1
"""

import math
import os

from advisor.findings import Severity
from advisor.model.client import (COMMON_POOL_IDLE_S, COMMON_POOL_RETIRE_S, COMMON_POOL_RETIRE_SAID,
                                  GIVE_CLIENTS)
from advisor.rules.app.common import said
from advisor.rules.path import hop_span, on_borrow, related, secs, timer_seconds
from advisor.rules.rule import Rule

LIFETIME_KEY = {"hikaricp": "maxLifetime", "sqlalchemy": "pool_recycle", "psycopg_pool": "max_lifetime",
                "django": "CONN_MAX_AGE", "pgxpool": "pool_max_conn_lifetime", "pg-pool": "maxLifetimeSeconds",
                "rails": "idle_timeout"}


def _lifetime_fix(pool, seconds: float) -> str:
    """A lifetime below the timer: 30 s below it, or half of it for timers of a minute or less."""
    target = int(seconds - 30) if seconds >= 60 else max(1, int(seconds // 2))
    margin = f"{seconds - target:g} s below {seconds:g} s"
    library = pool.library
    key = LIFETIME_KEY.get(library, "maximum lifetime")
    if library == "psycopg_pool":  # no lifetime retires an idle connection: check it on borrow
        return "check=ConnectionPool.check_connection (psycopg_pool 3.2+) on the pool"
    if library == "hikaricp":
        if target < 30:
            return (f"HikariCP cannot retire connections sooner than 30 s (maxLifetime minimum): lengthen the "
                    f"{seconds:g} s timer, and rely on HikariCP's validation on borrow")
        return f"{pool.setting('maxLifetime', target * 1000)} (ms, {margin})"
    if library == "rails":  # the reaper closes a connection idle idle_timeout at its next round
        return _rails_fix(pool, seconds, target, margin)
    if library == "pgxpool" and pool.retired_by_health_check:
        return _health_check_fix(pool, seconds, target)
    if library == "pgxpool":
        return f"pool_max_conn_lifetime={target}s ({margin})"
    if library == "asyncpg":  # its idle timer closes every idle connection; it has no lifetime
        return f"max_inactive_connection_lifetime={target} in asyncpg.create_pool() ({margin})"
    if library == "pg-pool":  # node-postgres options, as a JS object or JSON writes them
        if pool.min_size is not None and pool.min_size.known and pool.min_size.value == 0:
            # its idle timer closes every idle client (one that is busy is not retired for nothing)
            ms = int((seconds - 30) * 1000) if seconds >= 60 else max(1, int(seconds * 500))
            return f"idleTimeoutMillis: {ms} (ms, {(seconds * 1000 - ms) / 1000:g} s below {seconds:g} s)"
        return f"maxLifetimeSeconds: {target} (s, {margin}: the clients `min` keeps get no idle timer)"
    written = pool.setting(key, target) if library in ("sqlalchemy", "django") else f"{key}={target}"
    return f"{written} (s, {margin})"


def _periodic_period(period) -> float:
    """The seconds between a pool's rounds (Rails' reaper, pgx v4's health check): a minute, both
    libraries' default, when not known."""
    if period is not None and period.known and isinstance(period.value, (int, float)) and not math.isinf(period.value):
        return float(period.value)
    return 60.0


def _periodic_fix(written, idle_key: str, period_key: str, period: float, target: int, note: str) -> str:
    """A pool whose idle or old connections are closed only at its next periodic round: the time
    plus one period at `target`; a shorter period too when the default minute leaves no room.
    `written(key, seconds)` writes a setting as the client's configuration does."""
    idle = target - period
    if idle >= max(1.0, period):
        return f"{written(idle_key, int(idle))} ({int(idle)} s + {period_key} {period:g} s = {target} s, {note})"
    half = max(1, target // 2)
    return f"{written(idle_key, half)} and {written(period_key, max(1, target - half))} ({target} s in all, {note})"


def _rails_fix(pool, seconds: float, target: int, margin: str) -> str:
    """idle_timeout plus reaping_frequency at the margin below the timer (the reaper closes a
    connection idle idle_timeout at its next round); from activerecord 8.1, keepalive instead where
    idle_timeout spares the connection (min_connections, idle_timeout 0): the reaper's `;` is real
    traffic, which resets the timer."""
    period = _periodic_period(pool.health_check_period)
    spared = (pool.min_size is not None and (not pool.min_size.known or pool.min_size.value != 0)) or \
        (pool.max_idle.known and math.isinf(pool.max_idle.value))
    if pool.keepalive_time is not None and spared:
        return _periodic_fix(pool.setting, "keepalive", "reaping_frequency", period, target, margin)
    return _periodic_fix(pool.setting, "idle_timeout", "reaping_frequency", period, target, margin)


def _rails_horizon(pool) -> tuple[float, str, object]:
    """How long a Rails pool leaves a connection silent, why (with the activerecord version that
    decided its defaults), and the setting it comes from: at each reaper round (every reaping_frequency) ConnectionPool#flush
    closes those idle at least idle_timeout (above min_connections), and from 8.1
    retire_old_connections those older than max_age and keep_alive sends `;` on those idle more
    than keepalive (both less a jitter of up to 20 %, which only makes them sooner)."""
    def finite(v) -> bool:
        return v is not None and v.known and isinstance(v.value, (int, float)) and not isinstance(v.value, bool) \
            and not math.isinf(v.value)

    period, idle, age, least = pool.health_check_period, pool.max_idle, pool.max_lifetime, pool.min_size
    reaper = f"the reaper that runs every {said(period, 'reaping_frequency')}"
    ways = []
    if finite(period):
        if finite(age):
            ways.append((float(age.value) + float(period.value), f"{said(age, 'max_age')}, retired by {reaper}", age))
        if finite(idle) and least is not None and least.known and least.value == 0:
            ways.append((float(idle.value) + float(period.value), f"{said(idle, 'idle_timeout')}, closed by {reaper}",
                         idle))
        every = pool.keepalive_every()
        if every is not None:
            ways.append((every, f"{said(pool.keepalive_time, 'keepalive')}: {reaper} sends `;` on a connection "
                                "idle that long", pool.keepalive_time))
    horizon, why, decided = min(ways, key=lambda w: w[0]) if ways else (math.inf, _rails_never(pool), None)
    return horizon, f"{why}; {pool.version}" if pool.version else why, decided


def _health_check_horizon(pool, horizon: float, why: str) -> tuple[float, str]:
    """pgx v4's pgxpool lends an idle connection until its health check closes it: the check runs
    every pool_health_check_period and closes those past pool_max_conn_lifetime, and those idle
    past pool_max_conn_idle_time while the pool holds more than pool_min_conns (pgx/v4
    pgxpool/pool.go checkConnsHealth, v4.18.3), so one may be lent up to a period after either."""
    idle, least = pool.max_idle, pool.min_size
    if least is not None and least.known and least.value == 0 and idle.known \
            and isinstance(idle.value, (int, float)) and idle.value < horizon:
        horizon, why = float(idle.value), said(idle, "pool_max_conn_idle_time")
    hc = pool.health_check_period
    if hc is None or not hc.known or not isinstance(hc.value, (int, float)) or math.isinf(horizon):
        return horizon, why
    return horizon + float(hc.value), (f"{why}, closed only by the health check that runs every "
                                       f"{said(hc, 'pool_health_check_period')}")


def _health_check_fix(pool, seconds: float, target: int) -> str:
    """pgx v4: a lifetime plus the health check period at least the margin below the timer; or
    pgx v5, which checks on Acquire."""
    upgrade = "; or pgx v5, whose pgxpool pings a connection idle for more than 1 s when lending it"
    return _periodic_fix(lambda key, value: f"{key}={value}s", "pool_max_conn_lifetime", "pool_health_check_period",
                         _periodic_period(pool.health_check_period), target,
                         f"{seconds - target:g} s below {seconds:g} s") + upgrade


def _left_to_path001(t, pool) -> bool:
    """A middlebox's flow timer that the keepalives on its leg do not beat: PATH001 reports that
    dropped flow, with what the path's pool does on borrow, and its keepalive fix (or HikariCP's
    keepaliveTime) keeps the flow, after which no pool outlives the timer. One cause, one finding
    (audit 18, D9: both rules warned on one Cloud NAT drop). Kept here: a flow timer that resets
    both ends as it expires (an Azure LB with TCP reset) with a pool that sees the close (pg-pool
    removes the client and emits 'error', asyncpg reconnects), which only this rule words."""
    if t.resets_on != "packets":
        return False
    return not (t.notifies and pool is not None and pool.library in ("pg-pool", "asyncpg"))


def _rails_never(pool) -> str:
    """Why a Rails pool keeps an idle connection for ever."""
    if pool.min_size is not None and pool.min_size.known and pool.min_size.value:
        return f"{said(pool.min_size, 'min_connections')}: the reaper keeps that many however long they idle"
    if pool.max_idle.known and math.isinf(pool.max_idle.value):
        return f"{said(pool.max_idle, 'idle_timeout')}: the reaper closes no idle connection"
    return f"{said(pool.health_check_period, 'reaping_frequency')}: no reaper closes idle connections"


def check(ctx):
    for path in ctx.paths:
        firing = [t for t in path.timers if t.fires]
        if not firing:
            continue
        if not path.hops_of("client"):
            yield from _unread_clients(path, firing)
        for _index, hop in path.hops_of("client"):
            ep = hop.detail
            pool = getattr(ep, "pool", None)
            timers = [t for t in firing if not _left_to_path001(t, pool)]
            if not timers:
                continue
            shortest = min(timers, key=lambda t: t.seconds)
            if pool is not None and pool.unread:
                yield from _unread_pool(path, hop, pool, shortest)
                continue
            if pool is None or not pool.persistent or not pool.max_lifetime.known:
                continue
            life = float(pool.max_lifetime.value)
            # as the file writes it (`max-lifetime=3600000 (3600 s)`), or the default
            horizon, why = life, said(pool.max_lifetime, LIFETIME_KEY.get(pool.library, "max lifetime"))
            if pool.library == "psycopg_pool":
                # it applies max_lifetime when a connection is returned, and keeps its min_size
                # connections however long they idle (max_idle shrinks only above min_size)
                horizon, why = math.inf, f"{why}, applied only when a connection is returned; min_size connections are never closed for idleness"
            every = pool.keepalive_every()  # None where HikariCP disables it (below 30 s, not below maxLifetime)
            decided = None  # (Rails) the setting the horizon comes from, whose line the finding takes when written
            if pool.library == "rails":  # everything is done by its reaper, every reaping_frequency
                horizon, why, decided = _rails_horizon(pool)
            elif every is not None and every < horizon:
                horizon, why = every, said(pool.keepalive_time, "keepaliveTime")
            bound = pool.idle_bound() if pool.library != "rails" else None  # pg-pool: idleTimeoutMillis (min 0)
            if bound is not None and bound < horizon:
                horizon, why = bound, said(pool.max_idle, pool.idle_key)
            if pool.retired_by_health_check:  # pgx v4's pgxpool: closed only by its health check
                horizon, why = _health_check_horizon(pool, horizon, why)
            if horizon < shortest.seconds:
                continue
            validated = pool.validation.known and pool.validation.value is True
            if validated and pool.library == "psycopg_pool":
                continue  # its check is the remedy (a lifetime does not retire idle connections): nothing to add
            written = [v for v in ((decided, pool.max_idle, pool.min_size) if pool.library == "rails"
                                   else (pool.max_lifetime,)) if v is not None and v.span is not None]
            span = written[0].span if written else hop_span(hop)
            where = f"{pool.library} pool of {ep.who()}"
            keeps = "forever" if math.isinf(horizon) else f"up to {secs(horizon)}"
            head = f"{where} keeps an idle connection {keeps} ({why}) ≥ {timer_seconds(shortest)}"
            pooled = on_borrow(path, shortest, pool) if validated else None
            if pooled is not None:  # as PATH001 says it of the same pool
                first = "the middlebox forgets the flow first" if shortest.resets_on == "packets" else \
                    "the connection is closed first"
                tail, severity = f": {first}; {pooled[0]}", pooled[1]
            elif validated:
                tail = (f": the connection is closed first, and the pool finds it dead when lending it "
                        f"({pool.validation_note or 'validation on borrow'}): a failed check per connection")
                severity = Severity.INFO
            elif pool.library == "asyncpg" and shortest.notifies:
                # its event loop reads the idle connection: the close marks it closed, and acquire()
                # opens a new one (PoolConnectionHolder.acquire: is_closed())
                tail = (": the connection is closed first, as it happens, and asyncpg's pool sees it closed and "
                        "opens a new one on acquire: no error, a reconnect per expired connection")
                severity = Severity.INFO
            elif pool.library == "pg-pool" and shortest.notifies:
                # pg-pool listens for the end of an idle client (makeIdleListener): it removes it and
                # emits 'error' on the pool, which Node turns into an exception without a listener
                listener = pool.error_listener
                tail = (": the connection is closed first, as it happens, and pg-pool removes it instead of lending "
                        "it, emitting 'error' on the pool: ")
                severity = Severity.INFO
                if listener is None:
                    tail += "an application without pool.on('error', ...) exits (Node's unhandled 'error' event)"
                elif listener.value:
                    tail += (f"the module listens for it (pool.on('error', ...) at "
                             f"{os.path.basename(listener.span.file)}:{listener.span.line})")
                else:
                    tail += ("the module never listens for it (no pool.on('error', ...)), so the Node process exits "
                             "(Node's unhandled 'error' event)")
                    severity = Severity.WARNING
            elif pool.retired_by_health_check:
                tail = (f": the connection is closed first and the pool lends it unchecked ({pool.version}: its "
                        f"Acquire checks nothing, unlike pgx v5's ping on a connection idle for more than 1 s; "
                        f"{shortest.effect})")
                severity = Severity.WARNING
            else:
                tail = f": the connection is closed first and the pool lends it unchecked ({shortest.effect})"
                severity = Severity.WARNING
            fix = _lifetime_fix(pool, shortest.seconds)
            if pool.library == "django" and not validated and shortest.expiry != "drop":
                # APP008's fix, which that rule leaves to this finding on a path (one finding per change);
                # not against a silent drop, where the check itself waits for TCP to give up
                fix += (f", or {pool.setting('CONN_HEALTH_CHECKS', True)} (Django 4.1+: a reused connection is "
                        "checked at the start of each request, and replaced if closed)")
            if pool.library == "pg-pool" and shortest.notifies and not validated:
                if pool.error_listener is None:
                    fix += "; and pool.on('error', ...) in the application (pgpath does not read its code)"
                elif not pool.error_listener.value:
                    fix += "; and pool.on('error', (err) => ...) in the module that creates the pool"
            yield RULE.finding(span, head + tail, fix,
                               related=list(dict.fromkeys([s for s in [shortest.span] if s is not None]
                                                          + related(path, span))),
                               severity=severity)


# the defaults of a library whose options are not read (Pool.unread), as messages say them
DEFAULTS_SAID = {"sqlalchemy": "SQLAlchemy's defaults (pool_recycle -1, pool_pre_ping False)"}


def _unread_pool(path, hop, pool, shortest):
    """A client whose pool's library is known but not its options (a bare SQLAlchemy URL in an
    environment variable: create_engine's arguments are in code): judged as a client no file shows
    is (_unread_clients), against what common pools keep idle, saying what is not known and which
    file would decide; its library's defaults are not assumed (docs/clients.md)."""
    if shortest.seconds > COMMON_POOL_RETIRE_S or path.hops[shortest.hop].kind in ("haproxy", "pgbouncer"):
        return  # (HAProxy's timeouts and PgBouncer's client_idle_timeout: HAP005 and PGB015 speak for the
        # clients whose pool is not judged, advisor.rules.path.pool_judged, naming them)
    ep = hop.detail
    if shortest.seconds < COMMON_POOL_IDLE_S:
        severity, keeps = Severity.WARNING, (f"common pools keep a connection idle longer (psycopg_pool's max_idle: "
                                             f"{secs(COMMON_POOL_IDLE_S)})")
    else:
        severity, keeps = Severity.INFO, COMMON_POOL_RETIRE_SAID
    target = max(1, int(shortest.seconds) - 30)
    span = hop_span(hop)
    yield RULE.finding(
        span,
        f"{pool.library} pool of {ep.who()}: {pool.unread}, so how long it keeps an idle connection and whether it "
        f"checks one before lending it are not known, against {timer_seconds(shortest)}; {keeps}, and "
        f"{DEFAULTS_SAID.get(pool.library, 'its library defaults')} never retire an idle connection nor check it: "
        f"such a pool lends it closed "
        f"({shortest.effect})",
        f"{pool.setting('pool_pre_ping', True)} or {pool.setting('pool_recycle', target)} where the engine is "
        "created; and give pgpath the module that creates it (a client hop `file:` in pgpath.yaml's deployments:) to "
        "have its pool checked against this timer",
        related=list(dict.fromkeys([s for s in [shortest.span] if s is not None] + related(path, span))),
        severity=severity,
    )


def _unread_clients(path, firing):
    """A load balancer in front of the first hop that closes connections idle longer than its
    timer whatever the keepalives (AWS Classic ELB, ALB, RDS Proxy), with clients no file shows:
    judged against what common pools keep idle, as HAP005 judges HAProxy's timeouts."""
    first = next((i for i, h in enumerate(path.hops) if h.kind in ("client", "pgbouncer", "haproxy", "postgres")),
                 None)
    for t in firing:
        hop = path.hops[t.hop]
        if t.resets_on != "traffic" or first is None or t.hop >= first or hop.detail is None:
            continue
        if t.seconds > COMMON_POOL_RETIRE_S:
            continue  # as HAP005: no common pool shows a failure; the clients' own files would
        to = path.hops[first].label
        span = t.span or hop_span(hop)
        if t.seconds < COMMON_POOL_IDLE_S:
            keeps = f"common pools keep a connection idle longer (psycopg_pool's max_idle: {secs(COMMON_POOL_IDLE_S)})"
            severity, give = Severity.WARNING, ""
        else:  # as HAP005: within common pools' default retirement; say which files would decide
            keeps = (f"{COMMON_POOL_RETIRE_SAID}, and some never retire idle ones (SQLAlchemy's default, "
                     "psycopg_pool's min_size connections)")
            severity, give = Severity.INFO, f"; and {GIVE_CLIENTS}"
        yield RULE.finding(
            span,
            f"clients (not read) -> {to} cross {t.name}: it closes a connection idle {secs(t.seconds)} whatever "
            f"the keepalives (probes carry no data), and {keeps}: one that does not validate on borrow lends it "
            f"closed, and {t.effect}",
            f"raise its idle timeout above the clients' pool idle time ({_idle_setting(hop)}), or keep the pools' "
            f"maximum lifetime below {secs(t.seconds)}; on AWS an NLB instead keeps idle flows that keepalives "
            f"refresh{give}",
            related=related(path, span),
            severity=severity,
        )


def _idle_setting(hop) -> str:
    if hop.kind == "aws-elb" and hop.doc is not None and hop.doc.kind == "kubernetes":
        return 'service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout: "3600" on the Service'
    return {"aws-elb": "ConnectionSettings.IdleTimeout, up to 3600 s",
            "aws-alb": "idle_timeout.timeout_seconds, up to 4000 s",
            "aws-rds-proxy": "IdleClientTimeout, up to 28800 s",
            "gcp-proxy-lb": "the backend service's timeout_sec (timeoutSec)"}.get(hop.kind, "its idle timeout")


RULE = Rule(
    code="PATH002",
    name="pool-outlives-idle-timeout",
    severity=Severity.WARNING,
    summary="A pool keeps connections idle longer than a timer on its path allows",
    needs=("path",),
    check=check,
    doc=__doc__,
)
