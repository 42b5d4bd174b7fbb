"""The lab's scenarios: configs written to files, the daemons started on those files, pgpath run on
the same folder, real libpq clients held idle, and the comparison.

Each scenario is one folder holding what pgpath reads: `app.env` (or `app.yaml` for a pool),
`pgbouncer.ini`, `haproxy.cfg`, `postgresql.conf` (a hard link to the very file the running
PostgreSQL was started with: `-c config_file=`), and `pgpath.yaml` with the topology (one
scenario has none, to exercise discovery). The daemons run with exactly these files.

`expect` is what ../shared/reference/lab-observations.md reports for the same setup (rows named
by id; rows marked "own" are not in that table and follow from the mechanisms it documents).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import labkit
from labkit import Lab, Observation

IDLE = 5.0  # seconds a client stays idle in the loopback scenarios (timers are 2 s)
PRE = 0.5  # a close may be seen this much before the predicted second (the server's idle clock starts
# when it sends the last result, ours when the client has read it: later on a busy machine)
LATE = 1.5  # ... and this much after it (PgBouncer's janitor, a busy machine)


@dataclass
class Expect:
    """What lab-observations.md says happens."""

    dies: bool
    closer: str | None = None  # "haproxy", "pgbouncer:client_idle_timeout", ...
    error: str | None = None  # a regex the client's error matches
    at: float | None = None  # the second the close happens
    pid_changed: bool | None = None
    row: str = "own"


@dataclass
class Scenario:
    id: str
    config: str  # one line for the table
    folder: Path | None = None
    conninfo: str | None = None
    idle: float = IDLE
    expect: Expect | None = None
    kind: str = "idle"  # idle | pool | netns
    haproxy: labkit.Haproxy | None = None
    pool: dict | None = None
    variant: str | None = None  # netns: drop | reset
    # netns: what the connection does for `idle` seconds: nothing (idle), or run a statement that
    # returns nothing until then (`SELECT pg_sleep(idle)`: as silent on the wire as an idle connection)
    probe: str = "idle"


@dataclass
class Prediction:
    """The idle-connection verdict of `pgpath path --format json` for one scenario folder."""

    closes_after: float | None
    hop_kind: str | None
    timer: str | None
    path: dict
    text: str


@dataclass
class Result:
    scenario: Scenario
    observation: Observation | None = None
    prediction: Prediction | None = None
    prediction_error: str | None = None
    findings: list = field(default_factory=list)
    check_error: str | None = None
    brackets: dict = field(default_factory=dict)  # netns: "before"/"after" observations

    def verdict(self) -> tuple[bool | None, str]:
        """(pgpath's prediction agrees with what happened, why); None when there is no prediction."""
        if self.prediction is None:
            return None, self.prediction_error or "no prediction"
        return compare(self)


# -------------------------------------------------------------------------------------------
# pgpath itself

def pgpath(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The pgpath CLI of this checkout (PYTHONPATH = the repo), run in the scenario folder."""
    env = {**os.environ, "PYTHONPATH": str(labkit.ROOT), "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def findings(folder: Path, code: str) -> list[dict]:
    """The findings of one rule from `pgpath check --format json` in the folder."""
    proc = pgpath(["check", ".", "--format", "json", "--select", code], folder)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


def lab_with_server(prefix: str, name: str, settings: str):
    """A module fixture's body for the rule labs: a Lab with one PostgreSQL as `lab.pg`, stopped
    afterwards; the tests skip, saying why, where loopback daemons cannot run."""
    import pytest

    reason = labkit.loopback_unavailable()
    if reason:
        pytest.skip(reason)
    lab = Lab(prefix)
    try:
        lab.pg = labkit.start_postgres(lab, name, settings)
        yield lab
    finally:
        lab.stop()


def predict(folder: Path) -> tuple[Prediction | None, str | None]:
    proc = pgpath(["path", ".", "--format", "json"], folder)
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return None, f"`pgpath path --format json` exit {proc.returncode}: {(proc.stderr or proc.stdout)[-800:]}"
    paths = doc.get("paths") or []
    if len(paths) != 1:
        return None, f"`pgpath path` assembled {len(paths)} paths in {folder.name}, expected 1: " \
                     f"{[p.get('name') for p in paths]}"
    path = paths[0]
    idle = path.get("idle") or {}
    closes = idle.get("closes_after_s")
    by = idle.get("closed_by")
    hop_kind = timer = None
    if by is not None:
        hop_kind = path["hops"][by["hop"]]["kind"]
        timer = by.get("timer")
    text = "never closed" if closes is None else f"closed at {closes:g} s by {hop_kind} `{timer}`"
    return Prediction(closes, hop_kind, timer, path, text), None


# Predictions that real software contradicts, reported to the path model's author: each stays an
# expected failure (not strict, so the fix simply makes it pass) until the model is fixed. Keys are
# scenario ids (N ids without the -drop/-reset variant), "<id>:pool" for the pool rule.
KNOWN_DISAGREEMENTS: dict[str, str] = {}  # none since the model applies keepalive intervals and role settings


def known_disagreement(sid: str) -> str | None:
    return KNOWN_DISAGREEMENTS.get(sid) or KNOWN_DISAGREEMENTS.get(sid.split("-")[0] if ":" not in sid else sid)


def check(folder: Path) -> tuple[list, str | None]:
    proc = pgpath(["check", ".", "--format", "json", "--pg-version", "15", "--pgbouncer-version", "1.18"], folder)
    try:
        return json.loads(proc.stdout)["findings"], None
    except (json.JSONDecodeError, KeyError):
        return [], f"`pgpath check --format json` exit {proc.returncode}: {(proc.stderr or proc.stdout)[-800:]}"


def _norm(text: str | None) -> str:
    return re.sub(r"[\s_`'\"-]+", " ", (text or "").lower()).strip()


def timer_matches(prediction: Prediction, observed: str | None, scenario: Scenario) -> bool:
    """Does pgpath's closed_by name the hop and timer the evidence names?

    `observed` is "hop:timer" (postgres:idle_session_timeout, pgbouncer:client_idle_timeout,
    haproxy:timeout client|server|tunnel, or haproxy:timeout client|server when both are equal
    and HAProxy's log names one of them, firewall:idle_timeout)."""
    if observed is None:
        return False
    hop, _, timers = observed.partition(":")
    if prediction.hop_kind != hop:
        return False
    name = _norm(prediction.timer)
    return any(_norm(t) in name or name in _norm(t) for t in timers.split("|"))


def compare(result: Result) -> tuple[bool, str]:
    s, obs, p = result.scenario, result.observation, result.prediction
    when = p.closes_after
    if s.kind == "netns":
        return _compare_netns(result)
    if when is None or when > obs.idle:
        ok = obs.alive and (obs.closed_at is None or when is not None and obs.closed_at >= when - PRE)
        if s.kind == "pool":
            ok = obs.closed_at is None
        return ok, "" if ok else f"predicted {p.text}, but the connection was {obs.short()}"
    if obs.closed_at is None:
        return False, f"predicted {p.text}, but nothing closed it within {obs.idle:g} s ({obs.short()})"
    if not when - PRE <= obs.closed_at <= when + LATE:
        return False, f"predicted {p.text}, but it closed at {obs.closed_at:.2f} s"
    if s.kind == "idle" and obs.alive:
        return False, f"predicted {p.text}, but the next query succeeded"
    if not timer_matches(p, obs.closer, s):
        return False, f"predicted {p.text}, but the evidence says it was closed by {obs.closer}"
    return True, ""


def _compare_netns(result: Result) -> tuple[bool, str]:
    obs, p = result.observation, result.prediction
    if p.closes_after is None or p.closes_after > obs.idle:
        ok = obs.alive
        return ok, "" if ok else f"predicted {p.text}, but {obs.short()}"
    before, after = result.brackets.get("before"), result.brackets.get("after")
    problems = []
    if obs.alive:
        problems.append(f"alive after {obs.idle:g} s")
    if before is not None and not before.alive:
        problems.append(f"already dead after {before.idle:g} s ({before.short()})")
    if after is not None and after.alive:
        problems.append(f"still alive after {after.idle:g} s")
    if not timer_matches(p, obs.closer, result.scenario):
        problems.append(f"evidence names {obs.closer}")
    if problems:
        return False, f"predicted {p.text}, but " + "; ".join(problems)
    return True, ""


# -------------------------------------------------------------------------------------------
# config files

def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    os.chmod(path, 0o644)
    return path


def topology(hops: list[str]) -> str:
    return "deployments:\n  - name: lab\n    hops:\n" + "".join(f"      - {h}\n" for h in hops)


def haproxy_cfg(port: int, target: str, timeouts: dict[str, str], options: list[str] = ()) -> str:
    lines = ["# pgpath lab: the file HAProxy runs with (haproxy -db -f haproxy.cfg)",
             "global",
             "    log stdout format raw local0",
             "",
             "defaults",
             "    mode tcp",
             "    log global",
             "    option tcplog",
             "    timeout connect 2s",
             "",
             "listen pg",
             f"    bind 127.0.0.1:{port}"]
    lines += [f"    timeout {k} {v}" for k, v in timeouts.items()]
    lines += [f"    {o}" for o in options]
    lines += [f"    server pg1 {target}", ""]
    return "\n".join(lines)


def pgbouncer_ini(lab: Lab, name: str, port: int, target: str, settings: dict[str, str],
                  listen: str = "127.0.0.1") -> str:
    private = lab.dir(f"bouncer-{name}")
    lab.own(private)
    write(private, "userlist.txt", '"postgres" ""\n"lab_ist" ""\n')
    host, _, tport = target.partition(":")
    lines = ["; pgpath lab: the file PgBouncer runs with",
             "[databases]",
             f"labdb = host={host} port={tport} dbname=postgres",
             "",
             "[pgbouncer]",
             f"listen_addr = {listen}",
             f"listen_port = {port}",
             "unix_socket_dir =",
             "auth_type = trust",
             f"auth_file = {private}/userlist.txt",
             f"logfile = {private}/pgbouncer.log",
             f"pidfile = {private}/pgbouncer.pid"]
    lines += [f"{k} = {v}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


KA = "keepalives=1&keepalives_idle=1&keepalives_interval=1&keepalives_count=3"


# -------------------------------------------------------------------------------------------
# loopback scenarios

def build_loopback(lab: Lab) -> list[Scenario]:
    """Start the two PostgreSQL servers and every scenario's PgBouncer/HAProxy; return the scenarios."""
    with ThreadPoolExecutor(2) as ex:
        base_f = ex.submit(labkit.start_postgres, lab, "base", "")
        ist_f = ex.submit(labkit.start_postgres, lab, "ist", "idle_session_timeout = 2s\n")
        base, ist = base_f.result(), ist_f.result()

    scenarios: list[Scenario] = []

    def folder(sid: str, pg: labkit.Postgres) -> Path:
        d = lab.dir("scenarios", sid)
        os.link(pg.conf, d / "postgresql.conf")  # the server's own file, not a copy
        return d

    def via_haproxy(sid, config, timeouts, params, expect, options=(), idle=IDLE, topo=True):
        d = folder(sid, base)
        port = labkit.free_port()
        cfg = write(d, "haproxy.cfg", haproxy_cfg(port, f"127.0.0.1:{base.port}", timeouts, list(options)))
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres?{params}"
        write(d, "app.env", f"DATABASE_URL={url}\n")
        if topo:
            write(d, "pgpath.yaml", topology(["client: app.env", "haproxy: {file: haproxy.cfg, proxy: pg}",
                                              "postgres: postgresql.conf"]))
        s = Scenario(sid, config, d, url, idle, expect)
        s.haproxy = labkit.start_haproxy(lab, cfg, port)
        scenarios.append(s)

    two = {"client": "2s", "server": "2s"}
    via_haproxy("H0", "HAProxy timeout client/server 2s; idle 1 s", two, "sslmode=disable",
                Expect(False, row="H0"), idle=1.0)
    via_haproxy("H1", "HAProxy timeout client/server 2s; client keepalives=0, sslmode=disable", two,
                "sslmode=disable&keepalives=0",
                Expect(True, "haproxy", r"server closed the connection unexpectedly", 2.0, row="H1"))
    via_haproxy("H1d", "H1 without pgpath.yaml (path discovered from host:port)", two,
                "sslmode=disable&keepalives=0",
                Expect(True, "haproxy", r"server closed the connection unexpectedly", 2.0, row="H1"), topo=False)
    via_haproxy("H2", "HAProxy timeout client/server 2s; client keepalives=0, sslmode=require", two,
                "sslmode=require&keepalives=0",
                Expect(True, "haproxy", r"SSL (SYSCALL )?error: (EOF detected|unexpected eof)", 2.0, row="H2"))
    via_haproxy("H3", "HAProxy timeout client/server 2s; client keepalives 1 s/1 s/3, sslmode=require", two,
                f"sslmode=require&{KA}",
                Expect(True, "haproxy", r"SSL (SYSCALL )?error: (EOF detected|unexpected eof)", 2.0, row="H3"))
    via_haproxy("H4", "HAProxy timeout client/server 2s + option clitcpka/srvtcpka (idle/intvl 1s); "
                "client keepalives 1 s", two, f"sslmode=require&{KA}",
                Expect(True, "haproxy", r"SSL (SYSCALL )?error: (EOF detected|unexpected eof)", 2.0, row="H4"),
                options=["option clitcpka", "option srvtcpka", "clitcpka-idle 1s", "clitcpka-intvl 1s",
                         "srvtcpka-idle 1s", "srvtcpka-intvl 1s"])
    via_haproxy("H5", "HAProxy timeout client/server 2s + timeout tunnel 30s", {**two, "tunnel": "30s"},
                "sslmode=require", Expect(False, row="H5"))
    via_haproxy("H5b", "HAProxy timeout client/server 2s + timeout tunnel 4s; idle 6 s",
                {**two, "tunnel": "4s"}, "sslmode=require",
                Expect(True, "haproxy", r"SSL (SYSCALL )?error: (EOF detected|unexpected eof)", 4.0), idle=6.0)
    via_haproxy("H6", "HAProxy timeout client 4s, timeout server 2s", {"client": "4s", "server": "2s"},
                "sslmode=require",
                Expect(True, "haproxy", r"SSL (SYSCALL )?error: (EOF detected|unexpected eof)", 2.0))

    # frontend/backend sections instead of one listen: the client side's timer is the frontend's,
    # the server side's the backend's
    d = folder("H7", base)
    port = labkit.free_port()
    cfg_text = haproxy_cfg(port, f"127.0.0.1:{base.port}", {}).replace(
        "listen pg\n", "frontend pg\n").replace(
        f"    server pg1 127.0.0.1:{base.port}\n",
        f"    timeout client 3s\n    default_backend pgsrv\n\nbackend pgsrv\n    timeout server 2s\n"
        f"    server pg1 127.0.0.1:{base.port}\n")
    cfg = write(d, "haproxy.cfg", cfg_text)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=require"
    write(d, "app.env", f"DATABASE_URL={url}\n")
    write(d, "pgpath.yaml", topology(["client: app.env", "haproxy: {file: haproxy.cfg, proxy: pg}",
                                      "postgres: postgresql.conf"]))
    s7 = Scenario("H7", "HAProxy frontend timeout client 3s + backend timeout server 2s", d, url, IDLE,
                  Expect(True, "haproxy", r"SSL (SYSCALL )?error: (EOF detected|unexpected eof)", 2.0))
    s7.haproxy = labkit.start_haproxy(lab, cfg, port)
    scenarios.append(s7)

    def via_pgbouncer(sid, config, pg, settings, params, expect, haproxy_timeouts=None, user="postgres"):
        d = folder(sid, pg)
        target = f"127.0.0.1:{pg.port}"
        hops = ["client: app.env", "pgbouncer: {file: pgbouncer.ini, database: labdb}"]
        hap = None
        if haproxy_timeouts:
            hport = labkit.free_port()
            cfg = write(d, "haproxy.cfg", haproxy_cfg(hport, target, haproxy_timeouts))
            hap = labkit.start_haproxy(lab, cfg, hport)
            target = f"127.0.0.1:{hport}"
            hops.append("haproxy: {file: haproxy.cfg, proxy: pg}")
        hops.append("postgres: postgresql.conf")
        port = labkit.free_port()
        ini = write(d, "pgbouncer.ini", pgbouncer_ini(lab, sid, port, target, settings))
        url = f"postgresql://{user}@127.0.0.1:{port}/labdb?{params}"
        write(d, "app.env", f"DATABASE_URL={url}\n")
        write(d, "pgpath.yaml", topology(hops))
        labkit.start_pgbouncer(lab, ini, port)
        s = Scenario(sid, config, d, url, IDLE, expect)
        s.haproxy = hap
        scenarios.append(s)

    via_pgbouncer("B1", "PgBouncer client_idle_timeout=2, pool_mode=session; client keepalives 1 s", base,
                  {"pool_mode": "session", "client_idle_timeout": "2"}, f"sslmode=disable&{KA}",
                  Expect(False, pid_changed=False, row="B1"))
    via_pgbouncer("B1t", "PgBouncer client_idle_timeout=2, pool_mode=transaction; client keepalives 1 s", base,
                  {"pool_mode": "transaction", "client_idle_timeout": "2"}, f"sslmode=disable&{KA}",
                  Expect(True, "pgbouncer:client_idle_timeout", r"client_idle_timeout", 2.0, row="B1t"))
    via_pgbouncer("B3", "PgBouncer server_idle_timeout=1 server_lifetime=1, pool_mode=transaction", base,
                  {"pool_mode": "transaction", "server_idle_timeout": "1", "server_lifetime": "1"}, "sslmode=disable",
                  Expect(False, pid_changed=True, row="B3"))
    via_pgbouncer("B4", "PgBouncer server_idle_timeout=1 server_lifetime=1, pool_mode=session", base,
                  {"pool_mode": "session", "server_idle_timeout": "1", "server_lifetime": "1"}, "sslmode=disable",
                  Expect(False, pid_changed=False, row="B4"))
    via_pgbouncer("B5", "PostgreSQL idle_session_timeout=2s behind PgBouncer pool_mode=transaction", ist,
                  {"pool_mode": "transaction"}, "sslmode=disable",
                  Expect(False, pid_changed=True, row="B5"))
    via_pgbouncer("B6", "PostgreSQL idle_session_timeout=2s behind PgBouncer pool_mode=session", ist,
                  {"pool_mode": "session"}, "sslmode=disable",
                  Expect(True, "postgres:idle_session_timeout", r"idle-session timeout", 2.0, row="B6"))
    via_pgbouncer("X1", "PgBouncer pool_mode=session -> HAProxy timeout client/server 2s -> PostgreSQL", base,
                  {"pool_mode": "session"}, "sslmode=disable",
                  Expect(True, "haproxy", None, 2.0), haproxy_timeouts=two)
    via_pgbouncer("X1t", "PgBouncer pool_mode=transaction -> HAProxy timeout client/server 2s -> PostgreSQL",
                  base, {"pool_mode": "transaction"}, "sslmode=disable",
                  Expect(False, pid_changed=True), haproxy_timeouts=two)

    # direct to the server
    d = folder("P1", ist)
    url = f"postgresql://postgres@127.0.0.1:{ist.port}/postgres?sslmode=require"
    write(d, "app.env", f"DATABASE_URL={url}\n")
    write(d, "pgpath.yaml", topology(["client: app.env", "postgres: postgresql.conf"]))
    scenarios.append(Scenario("P1", "PostgreSQL idle_session_timeout=2s, direct, sslmode=require", d, url, IDLE,
                              Expect(True, "postgres:idle_session_timeout", r"idle-session timeout", 2.0,
                                     row="P1")))

    # idle_session_timeout set for one role (ALTER ROLE ... SET, as lab rows B5/B6 did), in a SQL file
    # beside postgresql.conf; the server runs exactly that file
    roles = "CREATE ROLE lab_ist LOGIN;\nALTER ROLE lab_ist SET idle_session_timeout = '2s';\n"
    d = folder("P1r", base)
    sql = write(d, "roles.sql", roles)
    with base.admin() as admin:
        admin.execute(sql.read_text())
    url = f"postgresql://lab_ist@127.0.0.1:{base.port}/postgres?sslmode=require"
    write(d, "app.env", f"DATABASE_URL={url}\n")
    write(d, "pgpath.yaml", topology(["client: app.env", "postgres: postgresql.conf"]))
    scenarios.append(Scenario("P1r", "ALTER ROLE lab_ist SET idle_session_timeout = '2s' (roles.sql beside "
                              "postgresql.conf); client user lab_ist, direct", d, url, IDLE,
                              Expect(True, "postgres:idle_session_timeout", r"idle-session timeout", 2.0,
                                     row="P1")))
    via_pgbouncer("B6r", "ALTER ROLE lab_ist SET idle_session_timeout = '2s' (roles.sql); client user lab_ist "
                  "through PgBouncer pool_mode=session", base, {"pool_mode": "session"},
                  "sslmode=disable",
                  Expect(True, "postgres:idle_session_timeout", r"idle-session timeout", 2.0, row="B6"),
                  user="lab_ist")
    os.link(sql, scenarios[-1].folder / "roles.sql")

    # psycopg_pool: a pooled connection closed by idle_session_timeout while idle in the pool
    for sid, with_check in (("POOL1", False), ("POOL2", True)):
        d = folder(sid, ist)
        conninfo = f"host=127.0.0.1 port={ist.port} user=postgres dbname=postgres sslmode=require"
        text = f'pool:\n  conninfo: "{conninfo}"\n  min_size: 1\n  max_size: 1\n  max_idle: 600\n'
        if with_check:
            text += "  check: ConnectionPool.check_connection\n"
        write(d, "app.yaml", text)
        write(d, "pgpath.yaml", topology(["client: app.yaml", "postgres: postgresql.conf"]))
        config = ("psycopg_pool " + ("check=ConnectionPool.check_connection" if with_check else "without check=")
                  + ", max_idle 600 s; PostgreSQL idle_session_timeout=2s")
        s = Scenario(sid, config, d, conninfo, IDLE,
                     Expect(not with_check, "postgres:idle_session_timeout",
                            None if with_check else r"idle-session timeout|closed the connection", 2.0,
                            pid_changed=True if with_check else None), kind="pool")
        s.pool = {"check": with_check}
        scenarios.append(s)
    return scenarios


def hold_pool(s: Scenario) -> Observation:
    """psycopg_pool built from the scenario's app.yaml: borrow, return, stay idle, borrow again."""
    import psycopg
    import yaml
    from psycopg_pool import ConnectionPool

    cfg = yaml.safe_load((s.folder / "app.yaml").read_text())["pool"]
    kwargs = {k: cfg[k] for k in ("min_size", "max_size", "max_idle") if k in cfg}
    if cfg.get("check") == "ConnectionPool.check_connection":
        kwargs["check"] = ConnectionPool.check_connection
    with ConnectionPool(cfg["conninfo"], kwargs={"autocommit": True}, open=True, timeout=10, **kwargs) as pool:
        with pool.connection() as conn:
            pid0 = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            fd = conn.pgconn.socket
        # back in the pool and idle: watch its socket as in hold_idle
        import select

        start = time.monotonic()
        readable, _, _ = select.select([fd], [], [], s.idle)
        closed_at = time.monotonic() - start if readable else None
        rest = s.idle - (time.monotonic() - start)
        if rest > 0:
            time.sleep(rest)
        obs = Observation(idle=s.idle, alive=False, closed_at=closed_at)
        try:
            with pool.connection() as conn:
                pid1 = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            obs.alive, obs.pid_changed = True, pid1 != pid0
        except psycopg.Error as exc:
            obs.error = f"{type(exc).__name__}: {exc}"
            obs.sqlstate = exc.sqlstate
        obs.detail["pool"] = "recovered at borrow" if obs.alive else "handed out a dead connection"
        return obs


def observe(s: Scenario) -> Observation:
    if s.kind == "pool":
        obs = hold_pool(s)
        if obs.closed_at is not None:
            obs.closer = "postgres:idle_session_timeout" if obs.sqlstate in (None, "57P05") else None
        return obs
    obs = labkit.hold_idle(s.conninfo, s.idle)
    obs.closer = labkit.closer_from_error(obs)
    if obs.closer is None and s.haproxy is not None and obs.closed_at is not None:
        obs.closer = haproxy_closer(s, obs)
    return obs


def haproxy_closer(s: Scenario, obs: Observation) -> str | None:
    """Which HAProxy timer ended the session, from HAProxy's own log (tcplog termination state)."""
    text = s.haproxy.cfg.read_text()
    timeouts = dict(re.findall(r"^\s*timeout (client|server|tunnel) (\S+)", text, re.M))
    states = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        # the session's line, or (client -> pgbouncer -> haproxy) the only timed-out session there
        state = s.haproxy.termination_state(obs.client_port) if obs.client_port else None
        if state is None:
            states = re.findall(r" ([cs]D) \d+/\d+/\d+/\d+/\d+ ", s.haproxy.log.read_text(errors="replace"))
            state = states[0] if len(states) == 1 else None
        if state is not None:
            break
        time.sleep(0.1)
    else:
        return None
    obs.detail["haproxy_termination_state"] = state
    if state[1] != "D":
        return None
    if "tunnel" in timeouts:
        return "haproxy:timeout tunnel"
    side = {"c": "client", "s": "server"}[state[0]]
    other = "server" if side == "client" else "client"
    if timeouts.get(side) == timeouts.get(other):
        return "haproxy:timeout client|timeout server"  # equal timers: either name is right
    return f"haproxy:timeout {side}"


def run_all(scenarios: list[Scenario], observe_fn=observe) -> dict[str, Result]:
    """Observe every scenario at once (threads) while pgpath reads the same folders."""
    results = {s.id: Result(s) for s in scenarios}
    with ThreadPoolExecutor(max(1, len(scenarios))) as ex:
        futures = {s.id: ex.submit(observe_fn, s) for s in scenarios}
        with ThreadPoolExecutor(2) as px:
            preds = {s.id: px.submit(predict, s.folder) for s in scenarios}
            checks = {s.id: px.submit(check, s.folder) for s in scenarios}
            for sid, r in results.items():
                r.prediction, r.prediction_error = preds[sid].result()
                r.findings, r.check_error = checks[sid].result()
        for sid, f in futures.items():
            results[sid].observation = f.result()
    return results


# -------------------------------------------------------------------------------------------
# middlebox scenarios (network namespaces)

MIDDLEBOX_T = 3
NETNS_IDLE = 6.0
NETNS_WAIT = 3.0


def build_middlebox(lab: Lab, mode: str, prefix: str) -> tuple[labkit.Middlebox, list[Scenario]]:
    """The namespaces, the servers behind the middlebox, and the N scenarios of one variant.

    PostgreSQL (and PgBouncer) run in the server namespace; HAProxy, when a scenario has one,
    in the client namespace, so the middlebox sits on its server-side leg."""
    box = labkit.Middlebox(prefix, MIDDLEBOX_T, mode)
    lab.cleanups.append(box.down)
    box.up()
    ip = labkit.Middlebox.SERVER_IP
    plain = labkit.start_postgres(lab, f"{mode}-plain", "", host=ip, port=5432, netns=box.S)
    ka = labkit.start_postgres(lab, f"{mode}-ka", "tcp_keepalives_idle = 1\ntcp_keepalives_interval = 1\n"
                                                  "tcp_keepalives_count = 3\n", host=ip, port=5433, netns=box.S)
    declared = f"firewall: {{idle_timeout: {MIDDLEBOX_T}s, on_expiry: {'drop' if mode == 'drop' else 'rst'}}}"
    scenarios = []
    T = MIDDLEBOX_T

    def add(sid, config, params, dies, pg=plain, bouncer=None, haproxy=None, host=None, probe="idle"):
        full = f"{sid}-{mode}"
        d = lab.dir("scenarios", full)
        os.link(pg.conf, d / "postgresql.conf")
        target, port = ip, pg.port
        hops = ["client: app.env" if host is None else "client: {file: app.env, host: app1}"]
        if haproxy is not None:  # in the client namespace: client -> HAProxy -> middlebox -> server
            hport = 5000 + len(scenarios)
            write(d, "haproxy.cfg", haproxy_cfg(hport, f"{ip}:{pg.port}", haproxy[0], haproxy[1]))
            labkit.start_haproxy(lab, d / "haproxy.cfg", hport, netns=box.C)
            target, port = "127.0.0.1", hport
            hops += ["haproxy: {file: haproxy.cfg, proxy: pg}", declared]
        elif bouncer is not None:  # in the server namespace: client -> middlebox -> PgBouncer -> server
            bport = 6400 + len(scenarios)
            write(d, "pgbouncer.ini", pgbouncer_ini(lab, full, bport, f"{ip}:{pg.port}", bouncer, listen=ip))
            labkit.start_pgbouncer(lab, d / "pgbouncer.ini", bport, host=ip, netns=box.S)
            port = bport
            hops += [declared, "pgbouncer: {file: pgbouncer.ini, database: labdb}"]
        else:
            hops.append(declared)
        hops.append("postgres: postgresql.conf")
        db = "labdb" if bouncer is not None else "postgres"
        ssl = "disable" if bouncer is not None else "require"  # PgBouncer here has no client TLS
        url = f"postgresql://postgres@{target}:{port}/{db}?sslmode={ssl}&connect_timeout=5"
        url += f"&{params}" if params else ""
        write(d, "app.env", f"DATABASE_URL={url}\n")
        topo = topology(hops)
        if host is not None:
            topo += "hosts:\n  app1: {tcp_keepalive_time: %d, tcp_keepalive_intvl: %d}\n" % host
        write(d, "pgpath.yaml", topo)
        error = r"server closed the connection|reset by peer|ECONNRESET|SSL SYSCALL|SSL error" if mode == "reset" else None
        if probe == "statement":
            # the middlebox forgets the flow while the statement runs; the server's result is what
            # meets it (refused: dropped, or a RST to the server), and the client is told nothing
            error = None
        scenarios.append(Scenario(full, f"conntrack {mode}, T={T} s; {config}", d, url, NETNS_IDLE,
                                  Expect(dies, "firewall" if dies else None, error, float(T) if dies else None),
                                  kind="netns", variant=mode, probe=probe))

    add("N1", "no keepalive on either side", "keepalives=0", True)
    add("N2", "client keepalives_idle=1 (interval 1, count 3)", KA, False)
    add("N3", "client keepalives=0; server tcp_keepalives_idle=1 (interval 1, count 3)", "keepalives=0", False, pg=ka)
    add("N4", f"client keepalives_idle=5 (> {T} s)", "keepalives=1&keepalives_idle=5&keepalives_interval=1"
        "&keepalives_count=3", True)
    add("N5", "client libpq defaults (keepalives on, idle and interval from the OS); client host "
        "net.ipv4.tcp_keepalive_time=1, tcp_keepalive_intvl=1 (pgpath.yaml hosts:, applied in the client namespace)",
        "", False, host=(1, 1))
    add("N6", "client keepalives=0 -> middlebox -> PgBouncer tcp_keepalive=1 tcp_keepidle=1", "keepalives=0", False,
        bouncer={"tcp_keepalive": "1", "tcp_keepidle": "1", "tcp_keepintvl": "1", "tcp_keepcnt": "3"})
    add("N7", "client keepalives=0 -> middlebox -> PgBouncer tcp_keepidle not set (OS default 7200 s)",
        "keepalives=0", True, bouncer={})
    # Linux: once a probe is answered, the next one still comes keepalive_intvl later (the timer is
    # re-armed with the interval when a probe is sent), so a flow is silent for up to max(idle, interval)
    add("N8", f"client keepalives_idle=1, keepalives_interval=10 (> {T} s)",
        "keepalives=1&keepalives_idle=1&keepalives_interval=10&keepalives_count=3", True)
    add("N11", f"client keepalives_idle=1, keepalives_interval=2 (< {T} s): the control for N8",
        "keepalives=1&keepalives_idle=1&keepalives_interval=2&keepalives_count=3", False)
    # a statement that returns no rows for longer than the timer is as silent as an idle connection:
    # its flow expires while it runs unless keepalive probes cross it (PATH001 says so)
    add("N12", f"client keepalives=0; SELECT pg_sleep({NETNS_IDLE:g}) (no rows for longer than {T} s)",
        "keepalives=0", True, probe="statement")
    add("N13", f"client keepalives_idle=1 (interval 1, count 3); SELECT pg_sleep({NETNS_IDLE:g}): the control for "
        "N12", KA, False, probe="statement")
    add("N9", "client keepalives 1 s -> HAProxy (timeouts 30s, no srvtcpka) -> middlebox -> PostgreSQL", KA, True,
        haproxy=({"client": "30s", "server": "30s"}, []))
    add("N10", "client keepalives 1 s -> HAProxy (timeouts 30s, option srvtcpka, srvtcpka-idle 1s) -> middlebox "
        "-> PostgreSQL", KA, False,
        haproxy=({"client": "30s", "server": "30s"}, ["option srvtcpka", "srvtcpka-idle 1s", "srvtcpka-intvl 1s"]))
    # the client host's sysctl, as declared in N5's pgpath.yaml, is what the client namespace's kernel uses
    import yaml

    n5 = yaml.safe_load((lab.base / "scenarios" / f"N5-{mode}" / "pgpath.yaml").read_text())
    host = n5["hosts"]["app1"]
    subprocess.run(["ip", "netns", "exec", box.C, "sysctl", "-qw",
                    f"net.ipv4.tcp_keepalive_time={host['tcp_keepalive_time']}",
                    f"net.ipv4.tcp_keepalive_intvl={host['tcp_keepalive_intvl']}"], check=True)
    return box, scenarios


def run_middlebox(box: labkit.Middlebox, scenarios: list[Scenario]) -> dict[str, Result]:
    """Predict first (the bracket probes sit either side of the predicted second), then probe."""
    results = {s.id: Result(s) for s in scenarios}
    with ThreadPoolExecutor(2) as px:
        preds = {s.id: px.submit(predict, s.folder) for s in scenarios}
        checks = {s.id: px.submit(check, s.folder) for s in scenarios}
        for sid, r in results.items():
            r.prediction, r.prediction_error = preds[sid].result()
            r.findings, r.check_error = checks[sid].result()
    probes = []
    for s in scenarios:
        probes.append({"id": s.id, "conninfo": s.conninfo, "idle": s.idle, "wait": NETNS_WAIT, "mode": s.probe})
        p = results[s.id].prediction
        at = p.closes_after if p is not None else s.expect.at
        if at is not None and at < s.idle:
            probes.append({"id": f"{s.id}/before", "conninfo": s.conninfo, "idle": round(at - 0.8, 2),
                           "wait": NETNS_WAIT, "mode": s.probe})
            probes.append({"id": f"{s.id}/after", "conninfo": s.conninfo, "idle": round(at + 1.5, 2),
                           "wait": NETNS_WAIT, "mode": s.probe})
    before = box.expired_packets()
    seen = labkit.run_in_netns(box.C, probes, timeout=60)
    refused = box.expired_packets() - before
    for pid, obs in seen.items():
        sid, _, bracket = pid.partition("/")
        obs.detail["middlebox_refused_packets"] = refused
        if not obs.alive and obs.sqlstate is None and refused > 0:
            obs.closer = "firewall:idle_timeout"
        if bracket:
            results[sid].brackets[bracket] = obs
        else:
            results[sid].observation = obs
    return results


# -------------------------------------------------------------------------------------------
# the report

REPORT: dict[str, Result] = {}
DURATIONS: dict[str, float] = {}
# rows of the rule labs that compare a finding with what real clients got rather than an idle
# timer (tests/lab/test_lab_prepared.py): id -> (rule, config, predicted, observed, match)
RULE_ROWS: dict[str, tuple[str, str, str, str, bool]] = {}
_report_lock = threading.Lock()


def record(results: dict[str, Result], part: str, seconds: float) -> None:
    with _report_lock:
        REPORT.update(results)
        DURATIONS[part] = seconds


def versions() -> str:
    import platform

    import psycopg

    def first_line(argv: list[str]) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    try:
        from psycopg_pool import __version__ as pool_version
    except ImportError:
        pool_version = "?"
    libpq = psycopg.pq.version()
    parts = [first_line([str(labkit.PG_BIN / "postgres"), "--version"]),
             first_line([labkit.HAPROXY or "haproxy", "-v"]).split(" - ")[0],
             first_line([labkit.PGBOUNCER or "pgbouncer", "--version"]),
             f"psycopg {psycopg.__version__} (libpq {libpq // 10000}.{libpq % 100}), psycopg_pool {pool_version}",
             f"Linux {platform.release()}", first_line(["nft", "--version"])]
    return "; ".join(parts)


def row_ids(doc: str) -> set[str]:
    """The scenario ids in docs/lab.md's tables: each row's first cell, without its `(lab row ...)`."""
    ids = set()
    for line in doc.splitlines():
        m = re.match(r"\| ([A-Za-z][\w-]*)(?: \(lab row [^)]*\))? \|", line)
        if m and m.group(1) != "scenario":
            ids.add(m.group(1))
    return ids


def write_report(path: Path) -> str | None:
    """Write docs/lab.md from this run, unless that would drop rows the file has (a run of part of
    the lab: the rule rows come from their own modules, the table from test_lab_loopback/middlebox);
    then leave it as it is and say which rows this run lacks."""
    new = render_doc(REPORT)
    lost = sorted(row_ids(path.read_text(encoding="utf-8")) - row_ids(new)) if path.exists() else []
    if lost:
        return (f"--lab-report: {path} not written: this run has no row {', '.join(lost)} "
                "(run the whole lab: python -m pytest -m lab --lab-report docs/lab.md tests/lab)")
    path.write_text(new, encoding="utf-8")
    return None


def render_doc(results: dict[str, Result]) -> str:
    """docs/lab.md: the scenario table of one real run, with what disagreed."""
    disagree = [(sid, r.verdict()[1]) for sid, r in sorted(results.items()) if r.verdict()[0] is False]
    undocumented = [(sid, p) for sid, r in sorted(results.items()) if (p := expectation_problems(r))]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    took = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(DURATIONS.items()))
    out = [
        "# The lab: pgpath's predictions against real connections",
        "",
        "Generated by `python -m pytest -m lab --lab-report docs/lab.md` (tests/lab); do not edit by hand.",
        "",
        "Each scenario is a folder with the files pgpath reads, and the daemons run with exactly those",
        "files: PostgreSQL 15 (TLS on; `-c config_file=` the scenario's `postgresql.conf`), PgBouncer",
        "(`pgbouncer pgbouncer.ini`), HAProxy (`haproxy -f haproxy.cfg`); the client is psycopg (libpq)",
        "with the `DATABASE_URL` of `app.env` (or the psycopg_pool settings of `app.yaml`), held idle and",
        "then asked `SELECT pg_backend_pid()`. *Predicted* is `pgpath path --format json` on that folder",
        "(`idle.closes_after_s` and `idle.closed_by`); *observed* is when the client's socket saw the close",
        "(passively, so the watching does not reset any timer), what the next query got, and who closed it",
        "(the SQLSTATE the server or pooler sent, or HAProxy's logged termination state). N rows: a",
        "packet-reset middlebox simulated with three network namespaces and conntrack (established",
        f"timeout {MIDDLEBOX_T} s, `drop` and `reset` variants; ../shared/reference/middlebox-simulation.md);",
        "a connection predicted to die there is also probed just before and just after the predicted second.",
        "Lab row ids refer to ../shared/reference/lab-observations.md.",
        "",
        f"Run: {when}; {took}.",
        f"Software: {versions()}.",
        "",
        table(results),
        "",
        "## Rules proven by their own lab tests",
        "",
        "Some rules compare limits or session state rather than idle timers; each has a lab module that runs the real",
        "daemons on loopback and pgpath on the very files (they run with the suite, not in the table):",
        "",
        "- **PATH005, session pooling** (tests/lab/test_lab_session_pool.py): PgBouncer `pool_mode =",
        "  session`, `default_pool_size = 1`, `query_wait_timeout = 2`; while one client holds its",
        "  connection a second logs in at once, its first query waits, and PgBouncer answers `FATAL:",
        "  query_wait_timeout` (SQLSTATE 08P01) and closes it (asserted between 1.5 and 6 s; 2.3 s when",
        "  written), and `pgpath check` warns (PATH005), quoting that error, with the client's `replicas: 2`; with a pool",
        "  of 2 both are served and pgpath says nothing.",
        "- **PATH003, a statement longer than HAProxy's timeout** (tests/lab/test_lab_long_statement.py):",
        "  PostgreSQL `statement_timeout = 5s` behind HAProxy `timeout client/server 2s`: `SELECT",
        "  pg_sleep(3)` loses its connection at 2 s (`server closed the connection unexpectedly`), and",
        "  pgpath warns (PATH003); with `timeout tunnel 10s` it completes and pgpath says nothing.",
        "- **PATH006, named prepared statements through transaction pooling** (tests/lab/test_lab_prepared.py):",
        "  SQLAlchemy `postgresql+psycopg://` settings (psycopg 3, `prepare_threshold` 5 by default) through",
        "  PgBouncer `pool_mode = transaction` with two server connections; one session runs the same",
        "  statement in ten transactions while another holds a transaction during every second one:",
        "  the 6th execution prepares `_pg3_0`, the 7th fails on the other server connection",
        "  (`prepared statement \"_pg3_0\" does not exist`), and pgpath warns (PATH006); with",
        "  `connect_args: {prepare_threshold: null}` or in session pooling all ten succeed and pgpath says nothing.",
        "  Its second finding: a Django settings module without `DISABLE_SERVER_SIDE_CURSORS` through the same",
        "  pooling; `QuerySet.iterator()`'s named cursor (declared WITH HOLD in autocommit) fails at its second",
        "  fetch when another client holds the server connection (`cursor ... does not exist`), and pgpath",
        "  warns; with the setting (a plain cursor) all rows are read and pgpath says nothing.",
        "- **PATH007, what a driver sends at connect time** (tests/lab/test_lab_startup_params.py, rows START):",
        "  besides libpq's `options` and pgx/node-postgres run-time parameters, pgjdbc's `extra_float_digits`:",
        "  42.7.4's StartupMessage (written byte by byte as its source does) is refused by PgBouncer with",
        "  `ignore_startup_parameters = options` and accepted with `extra_float_digits,options`; Debian's real",
        "  pgjdbc (libpostgresql-jdbc-java 42.5.5, its release from the jar's manifest written into pom.xml) is",
        "  refused by the first (`FATAL: unsupported startup parameter: extra_float_digits`) and connects through",
        "  the second (then runs `SET extra_float_digits = 3` itself); the real pgjdbc 42.7.13 jar, where a local",
        "  Maven repository has it (none sent since 42.7.5), connects through the first. pgpath reads the release",
        "  from a pom.xml beside the client: error for 42.7.4 and 42.5.5, nothing for 42.7.13, a warning without one.",
        "- **PGB022, auth_file secrets against auth_type** (tests/lab/test_lab_auth_file.py, rows AUTH): libpq",
        "  logs in with the right password through PgBouncer whose userlist.txt holds that user's secret as",
        "  md5, SCRAM, plain or empty, under `auth_type = md5` and `scram-sha-256`.",
        "- **HAP012, an HAProxy bind on a keepalived VIP** (tests/lab/test_lab_keepalived_vip.py): HAP012's",
        "  fixture host (etc/haproxy, etc/keepalived, etc/sysctl.d) with the VIP made 10.255.0.100 and HAProxy 2.6",
        "  started in `unshare -n` (loopback only: the BACKUP, without the VIP) after `sysctl -p` of the host's",
        "  file: without `ip_nonlocal_bind` it exits (`cannot bind socket (Cannot assign requested address)`) and",
        "  pgpath warns quoting that ALERT; with `net.ipv4.ip_nonlocal_bind = 1` in the file, or `transparent` on",
        "  the binds, it starts and pgpath says nothing.",
        "- **HAP013, HAProxy as a TLS end on PostgreSQL traffic** (tests/lab/test_lab_haproxy_tls.py, rows HTLS):",
        "  `bind ... ssl crt` in front of PostgreSQL 15: libpq's SSLRequest (sslmode verify-full or disable) gets",
        "  `server closed the connection unexpectedly`, libpq 17+ `sslnegotiation=direct` fails without ALPN and",
        "  connects once the bind has `alpn postgresql` (PostgreSQL then sees plaintext from HAProxy), asyncpg's",
        "  `direct_tls=True` connects without it (it offers ALPN and does not check it); without",
        "  `ssl crt` verify-full connects with TLS at PostgreSQL; `server ... ssl` (with or without `alpn",
        "  postgresql`) toward PostgreSQL 15 fails (`invalid length of startup packet`). pgpath's HAP013 error",
        "  quotes what each client gets, and it says nothing where the client connects.",
    ]
    if RULE_ROWS:
        out += ["", "| scenario | rule | config | predicted by pgpath (`pgpath check`) | observed | match |",
                "|---|---|---|---|---|---|"]
        out += [f"| {sid} | {rule} | {config} | {predicted} | {observed} | {'yes' if match else '**NO**'} |".replace(
                    "\n", " ") for sid, (rule, config, predicted, observed, match) in sorted(RULE_ROWS.items())]
    rules = []
    for sid, r in sorted(results.items()):
        if r.check_error:
            continue
        if r.scenario.kind == "netns" and r.observation is not None and \
                keepalive_verdict(r).startswith("dropped") == r.observation.alive:
            rules.append((sid, f"`pgpath check`: {keepalive_verdict(r)}, but the connection was {r.observation.short()}"))
        if r.scenario.kind == "pool" and r.observation is not None and \
                pool_verdict(r).startswith("fails") == r.observation.alive:
            rules.append((sid, f"`pgpath check`: pool {pool_verdict(r)}, but the pool {r.observation.detail.get('pool')}"))
    if disagree or rules:
        out += ["## Predictions that disagreed with reality", ""]
        for sid, why in disagree + rules:
            known = known_disagreement(sid) if (sid, why) in disagree else known_disagreement(
                f"{sid.split('-')[0]}:{'pool' if sid.startswith('POOL') else 'rule'}")
            out.append(f"- **{sid}**: {why}" + (f". Cause: {known}" if known else ""))
        out.append("")
    if undocumented:
        out += ["## Observations that differ from lab-observations.md", ""]
        out += [f"- **{sid}**: {'; '.join(p)}" for sid, p in undocumented]
        out.append("")
    return "\n".join(out)


def expectation_problems(r: Result) -> list[str]:
    """How the observation departs from lab-observations.md (empty: as documented)."""
    s, o, e = r.scenario, r.observation, r.scenario.expect
    out = []
    if o is None:
        return ["no observation"]
    if o.error and o.error.startswith("connect failed"):
        return [o.error]
    if e.dies == o.alive:
        out.append(f"expected {'to die' if e.dies else 'to survive'}, observed {o.short()}")
    if e.dies and e.error and not re.search(e.error, o.error or ("hang" if o.hang else "")):
        out.append(f"expected an error like /{e.error}/, got {o.error!r}")
    if e.dies and s.variant == "drop" and not o.hang:
        out.append(f"expected a hang (drop variant), got {o.short()}")
    if e.dies and e.closer and not (o.closer or "").startswith(e.closer):
        out.append(f"expected closed by {e.closer}, evidence says {o.closer}")
    if e.dies and e.at is not None and s.kind != "netns":
        if o.closed_at is None or not e.at - PRE <= o.closed_at <= e.at + LATE:
            out.append(f"expected the close at {e.at:g} s, observed {o.closed_at}")
    if not e.dies and s.kind == "idle" and o.closed_at is not None:
        out.append(f"the socket was closed at {o.closed_at:.2f} s although the connection is expected to survive")
    if e.pid_changed is not None and o.alive and o.pid_changed != e.pid_changed:
        out.append(f"expected {'a new' if e.pid_changed else 'the same'} server backend")
    for name, want_alive in (("before", True), ("after", False)):
        b = r.brackets.get(name)
        if b is not None and b.alive != want_alive:
            out.append(f"bracket probe after {b.idle:g} s idle: {b.short()}")
    return out


def table(results: dict[str, Result]) -> str:
    def cell(text: str) -> str:
        return (text or "").replace("|", "\\|").replace("\n", " ")

    rows = ["| scenario | config | predicted by pgpath | observed | match |", "|---|---|---|---|---|"]
    order = {k: i for i, k in enumerate(
        ["H0", "H1", "H1d", "H2", "H3", "H4", "H5", "H5b", "H6", "H7", "B1", "B1t", "B3", "B4", "B5", "B6", "X1",
         "X1t", "P1", "P1r", "B6r", "POOL1", "POOL2"])}
    def key(sid: str):
        m = re.match(r"N(\d+)-(\w+)$", sid)
        return (order.get(sid, 99), m.group(2) if m else "", int(m.group(1)) if m else 0, sid)

    for sid in sorted(results, key=key):
        r = results[sid]
        s, o = r.scenario, r.observation
        row = s.id + (f" (lab row {s.expect.row})" if s.expect and s.expect.row != "own" else "")
        predicted = r.prediction.text if r.prediction else f"— ({r.prediction_error})"
        if s.kind == "pool" and not r.check_error:
            predicted += f"; check: pool {pool_verdict(r)}"
        if s.kind == "netns" and not r.check_error:
            predicted += f"; check: {keepalive_verdict(r)}"
        observed = o.short() if o else "—"
        if s.kind == "pool" and o is not None:
            observed = (f"closed in the pool at {o.closed_at:.1f} s; " if o.closed_at is not None else "") + \
                o.detail.get("pool", "")
        for name in ("before", "after"):
            b = r.brackets.get(name)
            if b is not None:
                observed += f"; probe at {b.idle:g} s: {'alive' if b.alive else 'dead'}"
        ok, why = r.verdict()
        match = "n/a" if ok is None else ("yes" if ok else f"**NO**: {why}")
        rows.append(f"| {cell(row)} | {cell(s.config)} | {cell(predicted)} | {cell(observed)} | {cell(match)} |")
    return "\n".join(rows) + "\n"


POOL_RULE = "pool-outlives-idle-timeout"  # PATH002
KEEPALIVE_RULE = "keepalive-over-middlebox-timeout"  # PATH001


def rule_findings(r: Result, name: str, file: str | None = None) -> list[dict]:
    """`pgpath check` findings of the rule `name` (at `file`, when given)."""
    return [f for f in r.findings if f.get("name") == name
            and (file is None or (f.get("span") or {}).get("file", "").endswith(file))]


def pool_verdict(r: Result) -> str:
    """What `pgpath check` says about the pool of app.yaml: it fails (a warning: the pool lends a
    closed connection), it recovers at borrow (info: the pool validates), or nothing."""
    found = rule_findings(r, POOL_RULE, "app.yaml")
    codes = ", ".join(sorted({f"{f['code']} {f['severity']}" for f in found}))
    if any(f["severity"] in ("warning", "error") for f in found):
        return f"fails ({codes})"
    if found:
        return f"recovered at borrow ({codes})"
    return "no finding"


def keepalive_verdict(r: Result) -> str:
    found = [f for f in rule_findings(r, KEEPALIVE_RULE) if f["severity"] in ("warning", "error")]
    if found:
        return "dropped by the middlebox (" + ", ".join(sorted({f"{f['code']} {f['severity']}" for f in found})) + ")"
    return "no keepalive finding"


# -------------------------------------------------------------------------------------------
# the two halves, run side by side once per test session: most of their time is spent waiting
# for idle timers, so overlapping them about halves the wall time

def run_loopback_lab():
    reason = labkit.loopback_unavailable()
    if reason:
        return reason
    started = time.monotonic()
    lab = Lab()
    try:
        results = run_all(build_loopback(lab))
    finally:
        lab.stop()
    record(results, "loopback", time.monotonic() - started)
    return results


def run_middlebox_lab():
    reason = labkit.netns_unavailable() or labkit.loopback_unavailable()
    if reason:
        return reason
    started = time.monotonic()
    lab = Lab("pgpath-labnet-")
    prefix = f"pgl{os.getpid() % 100000}"
    try:
        def one(mode: str):
            box, scenarios = build_middlebox(lab, mode, prefix + mode[0])
            return run_middlebox(box, scenarios)

        with ThreadPoolExecutor(2) as ex:
            parts = list(ex.map(one, ("drop", "reset")))
    finally:
        lab.stop()
    results = {k: v for part in parts for k, v in part.items()}
    record(results, "middlebox", time.monotonic() - started)
    return results


_LAB: dict | None = None
_LAB_LOCK = threading.Lock()


def lab_results() -> dict:
    """{"loopback": results | reason to skip | exception, "middlebox": the same}, computed once."""
    global _LAB
    with _LAB_LOCK:
        if _LAB is None:
            started = time.monotonic()
            out = {}
            with ThreadPoolExecutor(2) as ex:
                futures = {"loopback": ex.submit(run_loopback_lab), "middlebox": ex.submit(run_middlebox_lab)}
                for name, f in futures.items():
                    try:
                        out[name] = f.result()
                    except Exception as exc:  # noqa: BLE001 - raised again by that half's tests
                        out[name] = exc
            DURATIONS["whole lab"] = time.monotonic() - started
            _LAB = out
        return _LAB


def part(name: str) -> dict:
    """One half's results: skips with its reason, or raises what went wrong."""
    import pytest

    got = lab_results()[name]
    if isinstance(got, str):
        pytest.skip(got)
    if isinstance(got, Exception):
        raise got
    return got


# -------------------------------------------------------------------------------------------
# the assertions both halves of the lab make


def assert_predicted(r: "Result", sid: str, request) -> None:
    """pgpath's prediction (`pgpath path`) agrees with what the real connection did."""
    import pytest

    known = known_disagreement(sid)
    if known:
        request.applymarker(pytest.mark.xfail(reason=known, strict=False))
    ok, why = r.verdict()
    assert ok, why


# findings that say the software would refuse the file or a value in it
VALIDITY = {"ADV001", "ADV003", "PG001", "PG002", "PG003", "PGB001", "PGB002", "PGB003", "PGB004", "PGB005",
            "HAP006", "HAP007", "HAP008", "HAP010", "APP009"}


def assert_check_accepts(r: "Result", sid: str, what: str) -> None:
    """`pgpath check` ran, and calls nothing invalid that the daemons started with."""
    assert r.check_error is None, r.check_error
    wrong = [f"{f['code']} {f['span']}: {f['message']}" for f in r.findings if f["code"] in VALIDITY]
    assert not wrong, f"{sid}: {what} started with these files, yet pgpath calls them invalid: {wrong}"
