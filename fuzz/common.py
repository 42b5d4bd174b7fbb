"""What every pgpath fuzz harness does with one input (atheris, coverage-guided).

An input is a file: its first byte picks one of the file names the loader is run under (the
name decides the format inside a kind: `.env`, `application.yml`, `settings.py`, ...), the rest
is the file's bytes. Every input goes through detection and the loader, as `pgpath check` runs
them; every 8th also through every rule and one reporter (all reporters over a campaign).

What counts as a bug (the harness raises, atheris saves the input as a crash artifact):
- any exception out of the loader other than InputError (unreadable input), or out of a rule
  or reporter;
- libFuzzer's own limits: a hang past -timeout, memory past -rss_limit_mb.

Coverage is pgpath's own: `main` imports every module of the `advisor` package inside
`atheris.instrument_imports(include=["advisor"])` (rules, reporters and the path included, which
are otherwise imported on first use and would run uninstrumented); the libraries pgpath calls
(yaml, hcl2, cryptography, pglast, the standard library) are not instrumented.
"""

from __future__ import annotations

import os
import sys
import tempfile

# every kind of advisor.loaders.LOADERS has its names here and a fuzz/fuzz_<kind>.py (a test checks both)
NAMES = {
    "postgresql": ["postgresql.conf", "postgresql.auto.conf", "postgresql.conf.j2", "10-tuning.conf"],
    "pgbouncer": ["pgbouncer.ini", "pgbouncer.ini.erb"],
    "haproxy": ["haproxy.cfg", "haproxy.cfg.tmpl"],
    "client": [".env", "application.properties", "application.yml", "settings.py", "pg_service.conf", "db.json",
               "alembic.ini", "docker-compose.yml", "values.yaml.tmpl", "config.toml", "app.env.j2",
               # node-postgres code (tree-sitter) and Rails (after the others: earlier seeds keep their name)
               "db.js", "pool.ts", "database.yml"],
    "sql": ["init.sql"],
    "sysctl": ["99-sysctl.conf"],
    "text": ["notes.txt"],
    "cloud": ["proxies.json", "plan.json", "attributes.json"],
    "terraform": ["main.tf"],
    "kubernetes": ["cluster.yaml", "docker-compose.yml", "patroni.yml", "group_vars.yml", "values.yaml"],
    "systemd": ["postgresql.service", "override.conf"],
    "certificate": ["server.crt", "root.crt", "server.key", "haproxy.pem"],
    "keepalived": ["keepalived.conf", "keepalived-lb.conf.j2"],
}

def scratch(prefix: str) -> str:
    """A scratch folder (in /dev/shm where there is one), made when a harness runs rather than when
    its module is imported (the test suite imports them), and removed when the process exits."""
    import atexit
    import shutil

    folder = tempfile.mkdtemp(prefix=prefix, dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def import_advisor() -> None:
    """Import every module of the advisor package (call it inside instrument_imports)."""
    import importlib
    import pkgutil

    import advisor

    for info in pkgutil.walk_packages(advisor.__path__, "advisor."):
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - a module needing an absent optional library stays out
            pass


def setup(kind: str, every_rule: int = 8):
    """The one-input function for `kind`. Every input goes through detection and the loader;
    every `every_rule`-th also through all rules and one reporter (they are slower and see the
    same documents)."""
    from advisor.engine import Settings, run
    from advisor.loaders import InputError, detect_kind, load_file
    from advisor.reporters import FORMATS, render

    names = NAMES[kind]
    # one folder per name, each holding only its file: no input sees a file an earlier input left
    # beside it (a postgresql.conf would otherwise also read the last postgresql.auto.conf)
    paths = []
    top = scratch("pgpath-fuzz-")
    for i, name in enumerate(names):
        os.makedirs(os.path.join(top, str(i)), exist_ok=True)
        paths.append(os.path.join(top, str(i), name))
    formats = sorted(FORMATS)
    counter = [0]

    def one(data: bytes) -> None:
        if not data:
            return
        i = data[0] % len(names)
        path = paths[i]
        body = data[1:]
        with open(path, "wb") as f:
            f.write(body)
        counter[0] += 1
        if counter[0] % every_rule:
            detect_kind(path, body.decode("latin-1"))
            try:
                load_file(path, kind, {"pg_major": None, "pgbouncer_version": None,
                                       "check_roots": [os.path.dirname(path)], "folder_listings": {}})
            except InputError:
                pass
            return
        settings = Settings(paths=[path])
        settings.kind = kind
        report = run(settings)  # an unreadable file is an input error in the report, not an exception
        render(report, formats[data[-1] % len(formats)])  # one format per input, all of them over a campaign

    return one


def main(kind: str) -> None:
    import atheris

    with atheris.instrument_imports(include=["advisor"]):
        import_advisor()
    one = setup(kind)
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
