"""What every pgpath fuzz harness does with one input (atheris, coverage-guided).

An input is a file: its first byte picks one of the file names the loader is run under (the
name decides the format inside a kind: `.env`, `application.yml`, `settings.py`, ...), the rest
is the file's bytes. The harness writes it to a scratch file, loads it with the loader, runs
every rule on the document and renders the report in every format, as `pgpath check` does.

What counts as a bug (the harness raises, atheris saves the input as a crash artifact):
- any exception out of the loader other than InputError (unreadable input), or out of a rule
  or reporter;
- libFuzzer's own limits: a hang past -timeout, memory past -rss_limit_mb.
"""

from __future__ import annotations

import os
import sys
import tempfile

NAMES = {
    "postgresql": ["postgresql.conf", "postgresql.auto.conf", "postgresql.conf.j2", "10-tuning.conf"],
    "pgbouncer": ["pgbouncer.ini", "pgbouncer.ini.erb"],
    "haproxy": ["haproxy.cfg", "haproxy.cfg.tmpl"],
    "client": [".env", "application.properties", "application.yml", "settings.py", "pg_service.conf", "db.json",
               "alembic.ini", "docker-compose.yml", "values.yaml.tmpl", "config.toml", "app.env.j2"],
    "sql": ["init.sql"],
    "sysctl": ["99-sysctl.conf"],
    "cloud": ["proxies.json", "plan.json", "attributes.json"],
    "terraform": ["main.tf"],
    "text": ["notes.txt"],
}

_DIR = tempfile.mkdtemp(prefix="pgpath-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)


MODULES = {
    "postgresql": ["advisor.loaders.postgresql_conf", "advisor.loaders.directives", "advisor.loaders.template"],
    "pgbouncer": ["advisor.loaders.pgbouncer_ini", "advisor.loaders.template"],
    "haproxy": ["advisor.loaders.haproxy_cfg", "advisor.loaders.template"],
    "client": ["advisor.loaders.client", "advisor.loaders.clients.build", "advisor.loaders.clients.django",
               "advisor.loaders.clients.extract", "advisor.loaders.clients.libpq", "advisor.loaders.clients.service",
               "advisor.loaders.clients.strings", "advisor.loaders.clients.tree", "advisor.tags"],
    "sql": ["advisor.loaders.sql_file"],
    "sysctl": ["advisor.loaders.sysctl_conf"],
    "cloud": ["advisor.loaders.cloud", "advisor.loaders.jsonpos", "advisor.loaders.managed_pg"],
    "terraform": ["advisor.loaders.terraform", "advisor.loaders.managed_pg"],
    "text": ["advisor.loaders.text_file", "advisor.loaders.client", "advisor.loaders.clients.extract"],
}


def setup(kind: str, every_rule: int = 8):
    """Import pgpath (the caller may wrap this in atheris.instrument_imports: the loader's modules
    are imported here, not on first use, so that they are instrumented) and return the one-input
    function. Every input goes through detection and the loader; every `every_rule`-th also
    through all rules and one reporter (they are slower and see the same documents)."""
    import importlib

    for name in MODULES[kind] + ["advisor.loaders", "advisor.engine", "advisor.redact"]:
        importlib.import_module(name)
    from advisor.engine import Settings, run
    from advisor.loaders import InputError, detect_kind, load_file
    from advisor.reporters import FORMATS, render

    names = NAMES[kind]
    formats = sorted(FORMATS)
    counter = [0]

    def one(data: bytes) -> None:
        if not data:
            return
        name = names[data[0] % len(names)]
        path = os.path.join(_DIR, name)
        with open(path, "wb") as f:
            f.write(data[1:])
        counter[0] += 1
        if counter[0] % every_rule:
            try:
                detect_kind(path, data[1:].decode("latin-1"))
                load_file(path, kind, {"pg_major": None, "pgbouncer_version": None})
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
        one = setup(kind)
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
