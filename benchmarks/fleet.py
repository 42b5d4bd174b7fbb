#!/usr/bin/env python3
"""pgpath benchmark: a fleet of small deployments, to show that cost is linear in files.

A script, not a test: timings depend on the machine and on whatever else runs on it.

Two layouts of N deployments (default 2,500: 10,000 files), each a postgresql.conf, a
pgbouncer.ini, a haproxy.cfg and a `.env` whose client goes through HAProxy to PgBouncer to
PostgreSQL, every deployment using the same ports (as copies of one setup do):

- nested: `fleet/dep0001/{postgresql.conf,pgbouncer.ini,haproxy.cfg,.env}`, one folder each;
- flat:   `fleet/postgresql-0001.conf`, `pgbouncer-0001.ini`, `haproxy-0001.cfg`, `app-0001.env`
  in one folder (the numbers in the names say which files go together).

For each, `pgpath check --format json` runs in a child process; the script reports wall time,
the child's peak memory (max RSS), the number of paths assembled (`pgpath path --format json`
once, not timed) and checks that every path stays inside one deployment. It also runs the
layout at N/4, N/2 and N to show how time grows (a linear cost doubles with N).

    python3 benchmarks/fleet.py                  # 2,500 deployments per layout
    python3 benchmarks/fleet.py --deployments 500 --write docs/performance.md

Targets (issue 8): 10,000 files in <= 5 s and <= 150 MiB on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- fleet:begin -->", "<!-- fleet:end -->"
TARGET_SECONDS, TARGET_MIB = 5.0, 150

POSTGRESQL = """listen_addresses = '*'
port = 5432
max_connections = 200
shared_buffers = 2GB
work_mem = 16MB
tcp_keepalives_idle = 120
idle_session_timeout = 0
statement_timeout = 0
ssl = on
"""
PGBOUNCER = """[databases]
app{n} = host=db{n}.internal port=5432 dbname=app{n}

[pgbouncer]
listen_addr = *
listen_port = 6432
auth_type = scram-sha-256
auth_file = /etc/pgbouncer/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
tcp_keepidle = 120
client_tls_sslmode = require
client_tls_key_file = /etc/pgbouncer/server.key
client_tls_cert_file = /etc/pgbouncer/server.crt
server_tls_sslmode = verify-full
server_tls_ca_file = /etc/pgbouncer/ca.pem
"""
HAPROXY = """global
    maxconn 2000

defaults
    mode tcp
    timeout connect 5s
    timeout client 30m
    timeout server 30m

listen pg{n}
    bind *:5000
    option pgsql-check user haproxy
    server b1 pgb{n}.internal:6432 check
"""
ENV = "DATABASE_URL=postgresql://app@haproxy{n}.internal:5000/app{n}?sslmode=verify-full&keepalives_idle=60\n"


def make_fleet(base: Path, count: int, layout: str) -> int:
    files = 0
    for i in range(1, count + 1):
        n = f"{i:04d}"
        if layout == "nested":
            folder = base / f"dep{n}"
            folder.mkdir(parents=True, exist_ok=True)
            names = ("postgresql.conf", "pgbouncer.ini", "haproxy.cfg", ".env")
        else:
            folder = base
            folder.mkdir(parents=True, exist_ok=True)
            names = (f"postgresql-{n}.conf", f"pgbouncer-{n}.ini", f"haproxy-{n}.cfg", f"app-{n}.env")
        for name, text in zip(names, (POSTGRESQL, PGBOUNCER, HAPROXY, ENV)):
            (folder / name).write_text(text.format(n=n))
            files += 1
    return files


def pgpath_command() -> list[str]:
    script = shutil.which("pgpath", path=os.path.dirname(sys.executable)) or shutil.which("pgpath")
    return [script] if script else [sys.executable, "-m", "advisor"]


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB of the child, stdout) of one run in a fresh child process."""
    # a wrapper child measures the grandchild alone (RUSAGE_CHILDREN of this process would keep the
    # largest child ever seen)
    probe = ("import resource,subprocess,sys,time;t=time.perf_counter();"
             "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
             "w=time.perf_counter()-t;r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
             "sys.stdout.write(f'{w} {r}\\n'+p.stdout)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], cwd=cwd, capture_output=True, text=True, check=False)
    head, _, body = out.stdout.partition("\n")
    wall, rss_kib = head.split()
    return float(wall), int(rss_kib) / 1024, body


def check_paths(cwd: Path) -> tuple[int, int]:
    """(paths of two hops or more, paths whose files come from more than one deployment)."""
    out = subprocess.run(pgpath_command() + ["path", ".", "--format", "json", "--no-config"], cwd=cwd,
                         capture_output=True, text=True, check=False)
    paths = [p for p in json.loads(out.stdout)["paths"] if len(p["hops"]) > 1]
    mixed = 0
    for p in paths:
        keys = set()
        for hop in p["hops"]:
            if hop["file"]:
                m = re.search(r"(\d{4})", hop["file"])
                keys.add(m.group(1) if m else hop["file"])
        mixed += len(keys) > 1
    return len(paths), mixed


def run(count: int, repeats: int) -> list[dict]:
    rows = []
    cmd = pgpath_command() + ["check", ".", "--format", "json", "--no-config"]
    for layout in ("nested", "flat"):
        for n in sorted({max(1, count // 4), max(1, count // 2), count}):
            with tempfile.TemporaryDirectory(prefix="pgpath-fleet-") as tmp:
                base = Path(tmp) / "fleet"
                files = make_fleet(base, n, layout)
                best_wall, peak = float("inf"), 0.0
                findings = 0
                for _ in range(repeats):
                    wall, rss, body = timed(cmd, base)
                    best_wall, peak = min(best_wall, wall), max(peak, rss)
                    findings = json.loads(body)["summary"]["findings"]
                paths, mixed = check_paths(base) if n == count else (None, None)
                rows.append({"layout": layout, "deployments": n, "files": files, "seconds": best_wall,
                             "peak_mib": peak, "findings": findings, "paths": paths, "mixed": mixed})
                print(f"{layout:6} {n:5} deployments {files:6} files: {best_wall:6.2f} s, {peak:6.1f} MiB peak, "
                      f"{findings} findings" + (f", {paths} paths, {mixed} mixing deployments" if paths is not None
                                                else ""), file=sys.stderr)
    return rows


def render(rows: list[dict]) -> str:
    lines = ["| layout | deployments | files | wall (best) | peak RSS | findings | paths (mixing) |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        paths = f"{r['paths']} ({r['mixed']})" if r["paths"] is not None else ""
        lines.append(f"| {r['layout']} | {r['deployments']} | {r['files']} | {r['seconds']:.2f} s | "
                     f"{r['peak_mib']:.0f} MiB | {r['findings']} | {paths} |")
    full = [r for r in rows if r["paths"] is not None]
    verdict = all(r["seconds"] <= TARGET_SECONDS and r["peak_mib"] <= TARGET_MIB for r in full)
    lines.append("")
    lines.append(f"Target for the full fleet: ≤ {TARGET_SECONDS:g} s and ≤ {TARGET_MIB} MiB — "
                 f"{'met' if verdict else 'NOT met'}. Python {sys.version.split()[0]}, {os.cpu_count()} cores.")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--deployments", type=int, default=2500)
    ap.add_argument("--repeats", type=int, default=3, help="runs per size (the best wall time is kept)")
    ap.add_argument("--write", metavar="FILE", help="write the table into FILE between the fleet markers")
    args = ap.parse_args()
    rows = run(args.deployments, args.repeats)
    block = render(rows)
    print(block)
    if args.write:
        path = Path(args.write)
        text = path.read_text() if path.exists() else ""
        new = f"{BEGIN}\n{block}{END}"
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + new + text[text.index(END) + len(END):]
        else:
            text = text.rstrip() + "\n\n## Fleet: cost linear in files\n\n" + new + "\n"
        path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
