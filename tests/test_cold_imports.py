"""What a `pgpath check` imports: only the loaders, catalogs, rules and reporter its files need,
and no regular expression compiled by `re` once an earlier run remembered them. Cold start
(docs/performance.md) is mostly imports; these pin the laziness so that a regression fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# runs the CLI as the console script does and prints (stderr, last line) the modules imported
RUN = """
import os, sys
leave = os._exit
def report(code):
    imported = sorted(sys.modules)
    import json
    sys.stdout.flush()
    sys.stderr.write(json.dumps(imported) + '\\n')
    sys.stderr.flush()
    leave(code)
os._exit = report
sys.argv = ['pgpath'] + sys.argv[1:]
from advisor.cli import main
main()
"""

HEAVY = ("yaml", "jsonschema", "pglast", "psycopg", "cryptography", "rich", "pydantic", "hcl2", "json", "pgtoolkit",
         "tree_sitter", "tree_sitter_javascript", "tree_sitter_typescript")


def modules_of(*args: str, cache: Path) -> set[str]:
    """The modules of the second of two runs (the first fills pgpath's caches, as any earlier run
    on a machine has: it reads the repository's pgpath.yaml with PyYAML and jsonschema)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PGPATH_CACHE_DIR=str(cache), NO_COLOR="1")
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", RUN, "check", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode in (0, 1), proc.stderr
    return set(json.loads(proc.stderr.rstrip("\n").rsplit("\n", 1)[-1]))


def tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_a_pgbouncer_ini_imports_neither_the_postgresql_catalogs_nor_other_loaders(tmp_path):
    mods = modules_of("samples/healthy/pgbouncer.ini", cache=tmp_path)
    assert "advisor.loaders.pgbouncer_ini" in mods and "advisor.catalogs.pgbouncer" in mods
    assert not tops(mods) & set(HEAVY), tops(mods) & set(HEAVY)
    unwanted = [m for m in mods if m.startswith((
        "advisor.catalogs.pg1",  # PostgreSQL's settings per major: only with a postgresql document
        "advisor.loaders.postgresql_conf", "advisor.loaders.haproxy_cfg", "advisor.loaders.clients",
        "advisor.loaders.k8s", "advisor.loaders.infra_yaml", "advisor.loaders.cloud", "advisor.loaders.terraform",
        "advisor.model.haproxy", "advisor.model.pg_parameters",
        # the rules of other kinds (a PgBouncer rule may share a helper module of another family)
        "advisor.rules.pg.pg0", "advisor.rules.hap.hap0", "advisor.rules.app.app0", "advisor.rules.tls.tls0",
        "advisor.rules.path.path0",
        "advisor.reporters.json", "advisor.reporters.sarif", "advisor.reporters.html", "advisor.reporters.markdown",
        "advisor.baseline", "advisor.progress",
        "advisor.development"))]  # (only when there is an info finding to hold back)
    assert unwanted == [] and "advisor.loaders.client" not in mods
    assert [m for m in mods if m.startswith("advisor.reporters.")] == ["advisor.reporters.text"]


def test_a_file_without_pgbouncer_does_not_import_the_pgbouncer_table(tmp_path):
    for sample in ("samples/healthy/haproxy.cfg", "samples/healthy/postgresql.conf"):
        mods = modules_of(sample, cache=tmp_path)
        assert "advisor.catalogs.pgbouncer" not in mods, sample
        assert "advisor.loaders.pgbouncer_ini" not in mods and "advisor.model.pgbouncer" not in mods, sample
        assert not tops(mods) & set(HEAVY), sample
    mods = modules_of("samples/healthy/haproxy.cfg", cache=tmp_path)
    assert not [m for m in mods if m.startswith("advisor.catalogs.pg1")]


@pytest.mark.skipif(sys.version_info < (3, 11) or sys.implementation.name != "cpython",
                    reason="compilations are remembered on CPython 3.11+ only")
def test_a_second_check_compiles_no_regular_expression(tmp_path):
    """Every pattern a check of samples/healthy uses is an advisor.lazy_re pattern (no inline
    re.search(...)), so the second run makes each from the remembered compilation."""
    code = ("import sys, typer, re._parser as p\n"  # (typer compiles its own patterns when imported)
            "seen = []\n"
            "parse = p.parse\n"
            "def counting(source, *a, **k):\n"
            "    seen.append(source)\n"
            "    return parse(source, *a, **k)\n"
            "p.parse = counting\n"
            "from advisor import lazy_re\n"
            "from advisor.cli import run_app\n"
            "sys.argv = ['pgpath', 'check', 'samples/healthy']\n"
            "code = run_app()\n"
            "lazy_re.save()\n"
            "print(code, repr(seen), file=sys.stderr)\n")
    env = {**os.environ, "PGPATH_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    first = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    again = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.stdout == again.stdout and first.stdout
    assert first.stderr.split()[-2] != "[]"  # (the first run compiled what it used)
    assert again.stderr.rstrip().endswith("0 []"), again.stderr[-2000:]
