#!/usr/bin/env python3
"""Dump the settings catalog (pg_settings + hidden enum spellings) of a real PostgreSQL.

Usage:
    python scripts/dump_pg_catalog.py --bindir /usr/lib/postgresql/15/bin advisor/catalogs/pg15.json

What it does:
  1. ``initdb -E UTF8 --locale=C`` into a temporary directory (as the system user
     ``pgpath`` when run as root, creating that user if needed: PostgreSQL refuses
     to run as root);
  2. starts the server with ``pg_ctl``, listening only on a unix socket in a
     temporary directory (``listen_addresses=''``);
  3. reads ``pg_settings`` through psycopg;
  4. stops the server, then for every ``enum`` setting probes candidate spellings
     with ``postgres -D <datadir> -C <name> -c <name>=<candidate>`` (exit code 0 =
     accepted) and records accepted spellings that pg_settings does not list as
     ``hidden_enumvals``;
  5. writes compact JSON sorted by setting name and removes the temporary files.

Only the standard library and psycopg are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import grp
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RUN_AS_USER = "pgpath"
SUPERUSER = "postgres"

# Spellings PostgreSQL accepts but marks ``hidden`` in its config_enum_entry
# arrays (guc.c up to PG15, guc_tables.c from PG16, plus wal_level_options in
# xlogdesc.c and archive_mode_options in xlog.c):
#   * on/off/true/false/yes/no/1/0: backslash_quote, compute_query_id,
#     constraint_exclusion, synchronous_commit, huge_pages, recovery_prefetch,
#     force_parallel_mode/debug_parallel_query, wal_compression, archive_mode;
#   * debug: client/server message levels, icu_validation_level, trace_recovery_messages;
#   * info: client_min_messages, icu_validation_level (hidden in client levels);
#   * archive, hot_standby: wal_level (pre-9.6 names of "replica");
#   * none, md5: older option arrays (dynamic_shared_memory_type,
#     password_encryption) used to carry such entries; probing costs little.
CANDIDATES = [
    "on", "off", "true", "false", "yes", "no", "1", "0",
    "debug", "info", "archive", "hot_standby", "none", "md5",
]

INVALID_PROBE = "pgpath_no_such_value"

QUERY = """
SELECT name, vartype, unit, min_val, max_val, enumvals, boot_val, context,
       short_desc, extra_desc, category
FROM pg_settings
ORDER BY name
"""

FIELDS = [
    "name", "vartype", "unit", "min_val", "max_val", "enumvals",
    "hidden_enumvals", "boot_val", "context", "short_desc", "extra_desc",
    "category", "requires_restart",
]


def log(msg: str) -> None:
    print(f"[dump_pg_catalog] {msg}", file=sys.stderr, flush=True)


class Runner:
    """Runs PostgreSQL binaries, dropping root privileges when needed."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir.resolve()
        self.env = dict(os.environ)
        self.env["LC_ALL"] = "C"
        self.env.pop("PGDATA", None)
        for libdir in (self.bindir.parent / "lib", self.bindir.parent / "lib64"):
            if libdir.is_dir():
                old = self.env.get("LD_LIBRARY_PATH")
                self.env["LD_LIBRARY_PATH"] = str(libdir) + (":" + old if old else "")
                break
        self.user_kwargs: dict = {}
        self.uid = os.getuid()
        self.gid = os.getgid()
        if os.geteuid() == 0:
            ensure_user(RUN_AS_USER)
            pw = pwd.getpwnam(RUN_AS_USER)
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
            self.user_kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
            self.env["HOME"] = pw.pw_dir if os.path.isdir(pw.pw_dir) else "/tmp"
            self.env["USER"] = self.env["LOGNAME"] = RUN_AS_USER
        for exe in ("initdb", "pg_ctl", "postgres"):
            path = self.bindir / exe
            if not path.exists():
                raise SystemExit(f"{path} not found")
            if not os.access(path, os.X_OK):
                path.chmod(path.stat().st_mode | 0o111)

    def exe(self, name: str) -> str:
        return str(self.bindir / name)

    def run(self, args: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            args, env=self.env, cwd="/", stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            **self.user_kwargs, **kw,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"command failed ({proc.returncode}): {' '.join(args)}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    def own(self, path: Path) -> None:
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.gid)


def ensure_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    log(f"creating system user {name!r}")
    subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home",
         "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
        check=True,
    )
    grp.getgrnam(name)  # sanity: the user group exists


def probe(runner: Runner, datadir: Path, name: str, value: str) -> bool:
    proc = runner.run(
        [runner.exe("postgres"), "-D", str(datadir), "-C", name, "-c", f"{name}={value}"],
        check=False, timeout=60,
    )
    return proc.returncode == 0


def find_hidden(runner: Runner, datadir: Path, settings: list[dict]) -> None:
    # "internal" settings (e.g. huge_pages_status) cannot be set at all, so
    # every probe would fail; they keep an empty hidden_enumvals list.
    enums = [s for s in settings if s["vartype"] == "enum" and s["context"] != "internal"]
    jobs = []
    for s in enums:
        listed = {v.lower() for v in (s["enumvals"] or [])}
        s["_candidates"] = [c for c in CANDIDATES if c not in listed]
        for c in s["_candidates"]:
            jobs.append((s, c))
        jobs.append((s, INVALID_PROBE))
        if s["boot_val"] is not None:
            jobs.append((s, s["boot_val"]))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda j: probe(runner, datadir, j[0]["name"], j[1]), jobs))

    accepted: dict[str, set] = {}
    for (s, value), ok in zip(jobs, results):
        if value == INVALID_PROBE:
            if ok:
                raise RuntimeError(f"{s['name']}: probe method accepted an invalid value")
            continue
        if value == s["boot_val"] and value not in s["_candidates"]:
            if not ok:
                raise RuntimeError(f"{s['name']}: probe method rejected boot value {value!r}")
            continue
        if ok:
            accepted.setdefault(s["name"], set()).add(value)

    for s in enums:
        got = accepted.get(s["name"], set())
        s["hidden_enumvals"] = [c for c in s.pop("_candidates") if c in got]
    log(f"probed {len(jobs)} enum spellings over {len(enums)} enum settings")


def dump(bindir: Path, output: Path) -> dict:
    import psycopg  # imported late so --help works without it

    runner = Runner(bindir)
    version_line = runner.run([runner.exe("postgres"), "--version"]).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="pgpath-catalog-"))
    tmp.chmod(0o755)
    runner.own(tmp)
    datadir = tmp / "data"
    sockdir = tmp / "sock"
    sockdir.mkdir(mode=0o755)
    runner.own(sockdir)
    logfile = tmp / "server.log"
    started = False
    try:
        log(f"initdb ({version_line}) into {datadir}")
        runner.run([runner.exe("initdb"), "-D", str(datadir), "-E", "UTF8", "--locale=C",
                    "-U", SUPERUSER, "--auth=trust", "--no-sync"])
        opts = f"-c listen_addresses='' -c unix_socket_directories='{sockdir}' -c port=5432"
        runner.run([runner.exe("pg_ctl"), "-D", str(datadir), "-l", str(logfile),
                    "-o", opts, "-w", "-t", "60", "start"])
        started = True
        with psycopg.connect(host=str(sockdir), port=5432, user=SUPERUSER,
                             dbname="postgres", autocommit=True) as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT version(), current_setting('server_version_num')::int")
                server_version, server_version_num = cur.fetchone()
                cur.execute(QUERY)
                cols = [d.name for d in cur.description]
                rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        runner.run([runner.exe("pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop"])
        started = False

        settings = []
        for r in rows:
            r["enumvals"] = list(r["enumvals"]) if r["enumvals"] is not None else None
            r["hidden_enumvals"] = [] if r["vartype"] == "enum" else None
            r["requires_restart"] = r["context"] == "postmaster"
            settings.append(r)
        find_hidden(runner, datadir, settings)
        settings = [{k: s[k] for k in FIELDS} for s in sorted(settings, key=lambda s: s["name"])]

        catalog = {
            "source": "pg_settings of a freshly initdb'd PostgreSQL (initdb -E UTF8 --locale=C), "
                      "queried as superuser; hidden_enumvals probed with postgres -C",
            "server_version": server_version,
            "server_version_num": server_version_num,
            "postgres_binary": version_line,
            "major": server_version_num // 10000,
            "count": len(settings),
            "note": "GUC_NO_SHOW_ALL parameters are hidden from pg_settings by the server and are "
                    "absent. boot_val/min_val/max_val are in the parameter's base unit (see unit). "
                    "hidden_enumvals: spellings accepted by the server but not listed in enumvals "
                    "(null for non-enum settings). requires_restart: context == 'postmaster'.",
            "settings": settings,
        }
        write_catalog(catalog, output)
        return catalog
    finally:
        if started:
            runner.run([runner.exe("pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"],
                       check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def write_catalog(catalog: dict, output: Path) -> None:
    def enc(obj) -> str:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)

    head = {k: v for k, v in catalog.items() if k != "settings"}
    lines = [enc(head)[:-1] + ',"settings":[']
    body = [enc(s) for s in catalog["settings"]]
    lines.append(",\n".join(body))
    lines.append("]}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    json.loads(output.read_text(encoding="utf-8"))  # round-trip sanity check


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bindir", required=True, type=Path,
                    help="PostgreSQL bin directory holding initdb, pg_ctl and postgres")
    ap.add_argument("output", type=Path, help="JSON file to write")
    args = ap.parse_args(argv)
    cat = dump(args.bindir, args.output)
    hidden = {s["name"]: s["hidden_enumvals"] for s in cat["settings"] if s["hidden_enumvals"]}
    log(f"PG {cat['major']} ({cat['server_version_num']}): {cat['count']} settings -> {args.output}")
    log(f"hidden enum spellings: {json.dumps(hidden)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
