"""Which pgx major reads a DSN (advisor.loaders.clients.gomod), and what pgpath makes of each.

Facts (read in jackc/pgx and jackc/pgconn, see docs/prepared-statements.md and the rule docstrings):
pgx v4.18.3 pgxpool/pool.go Acquire checks nothing (only BeforeAcquire, a hook the code sets);
its health check every pool_health_check_period closes idle connections past
pool_max_conn_lifetime or pool_max_conn_idle_time. pgx v4 conn.go ParseConfig reads
statement_cache_capacity (512), statement_cache_mode (prepare|describe, default prepare) and
prefer_simple_protocol; pgconn v1.14.3 stmtcache/lru.go names statements lrupsc_<n>_<k>. v5's
pgxpool checks a connection idle for more than 1 s on Acquire: CheckConn in v5.0.0-v5.3.1, Ping
from v5.4.0.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from advisor.loaders.client import load
from advisor.loaders.clients.gomod import pgx_version, required, summed

DSN = "DATABASE_URL=postgres://app@pgb:6432/shop?pool_max_conns=5{extra}\n"


def gomod(folder: Path, require: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "go.mod"
    path.write_text(f"module example.com/shop\n\ngo 1.21\n\n{require}\n")
    return path


def client(folder: Path, extra: str = "", options: dict | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".env"
    path.write_text(DSN.format(extra=extra))
    doc = load(str(path), options)
    (ep,) = doc.model.endpoints
    return doc, ep


@pytest.mark.parametrize("text,majors", [
    ("require github.com/jackc/pgx/v5 v5.5.5", [(5, "v5.5.5")]),
    ("require (\n\tgithub.com/jackc/pgx/v4 v4.18.1\n\tgithub.com/lib/pq v1.10.9 // indirect\n)", [(4, "v4.18.1")]),
    ("require github.com/jackc/pgx v3.6.2+incompatible", [(3, "v3.6.2+incompatible")]),
    ("require (\n\tgithub.com/jackc/pgx/v5 v5.7.1 // indirect\n)", [(5, "v5.7.1")]),
    # another module of jackc's, and a replace: neither says which pgx the module requires
    ("require github.com/jackc/pgxlisten v0.0.0-2023\nreplace github.com/jackc/pgx/v4 => ../pgx", []),
    ("replace (\n\tgithub.com/jackc/pgx/v5 v5.5.0 => ../pgx\n)\nrequire github.com/jackc/pgx/v4 v4.18.3",
     [(4, "v4.18.3")]),
])
def test_required(text, majors):
    assert [(m, v) for m, v, _ in required(text)] == majors


def test_required_line_is_the_version_line():
    text = "module x\n\nrequire (\n\tgithub.com/google/uuid v1.6.0\n\tgithub.com/jackc/pgx/v4 v4.18.1\n)\n"
    assert required(text) == [(4, "v4.18.1", 5)]


def test_summed_counts_downloaded_modules_only():
    text = ("github.com/jackc/pgx/v4 v4.18.1 h1:abc=\ngithub.com/jackc/pgx/v4 v4.18.1/go.mod h1:def=\n"
            "github.com/jackc/pgx/v5 v5.5.5/go.mod h1:ghi=\n")
    assert summed(text) == {4}


def test_v4_from_the_go_mod_beside_the_file(tmp_path):
    gomod(tmp_path, "require github.com/jackc/pgx/v4 v4.18.1")
    doc, ep = client(tmp_path)
    assert (ep.pgx.major, ep.pgx.version, ep.pgx.assumed) == (4, "v4.18.1", False)
    assert str(tmp_path / "go.mod") in doc.files  # read for it: not "skipped"
    # v4's pool does not check on Acquire; its health check retires connections
    assert ep.pool.validation.value is False and ep.pool.retired_by_health_check
    assert ep.pool.min_size.value == 0 and ep.pool.health_check_period.value == 60.0
    # v4 prepares named statements lrupsc_<n>_<k> (statement_cache_mode prepare, the default)
    p = ep.prepares
    assert (p.first, p.name, p.setting) == (1, "lrupsc_1_0", "statement_cache_mode")
    assert p.off == "statement_cache_mode=describe in the DSN (&statement_cache_mode=describe)"


@pytest.mark.parametrize("extra,first", [
    ("", 1),
    ("&statement_cache_mode=prepare", 1),
    ("&statement_cache_mode=describe", None),
    ("&prefer_simple_protocol=true", None),
    ("&prefer_simple_protocol=t", None),  # Go's strconv.ParseBool
    ("&prefer_simple_protocol=false", 1),
    ("&statement_cache_capacity=0", None),  # no cache: the unnamed statement (no fix either: docstring)
    ("&default_query_exec_mode=exec", 1),  # a v5 key: v4 does not read it (APP010)
])
def test_v4_statement_cache(tmp_path, extra, first):
    gomod(tmp_path, "require github.com/jackc/pgx/v4 v4.18.1")
    _, ep = client(tmp_path, extra)
    assert ep.prepares.first == first


def test_v5_from_the_go_mod(tmp_path):
    gomod(tmp_path, "require github.com/jackc/pgx/v5 v5.5.5")
    _, ep = client(tmp_path, "&statement_cache_mode=describe")  # a v4 key: v5 does not read it
    assert (ep.pgx.major, ep.pgx.assumed) == (5, False)
    assert ep.pool.validation.value is True and not ep.pool.retired_by_health_check
    assert ep.pool.validation_note.startswith("pgxpool pings a connection idle for more than 1 s on Acquire; pgx v5 (")
    assert (ep.prepares.first, ep.prepares.name) == (1, "stmtcache_<hash>")


def test_v5_before_5_4_checks_with_checkconn(tmp_path):
    gomod(tmp_path, "require github.com/jackc/pgx/v5 v5.3.1")
    _, ep = client(tmp_path)
    assert ep.pool.validation.value is True and "CheckConn" in ep.pool.validation_note


def test_no_go_mod_assumes_v5_and_says_so(tmp_path):
    _, ep = client(tmp_path / "app")
    assert (ep.pgx.major, ep.pgx.assumed) == (5, True)
    assert ep.pgx.said() == "pgx v5 assumed (no go.mod found at or above the file)"
    assert "pgx v5 assumed" in ep.pool.validation_note


def test_nearest_parent_go_mod_within_the_checked_folder(tmp_path):
    gomod(tmp_path, "require github.com/jackc/pgx/v4 v4.18.1")
    _, ep = client(tmp_path / "deploy" / "env", options={"check_roots": [str(tmp_path)]})
    assert ep.pgx.major == 4


def test_no_look_above_the_checked_folder_outside_a_repository(tmp_path):
    gomod(tmp_path, "require github.com/jackc/pgx/v4 v4.18.1")
    _, ep = client(tmp_path / "deploy", options={"check_roots": [str(tmp_path / "deploy")]})
    assert ep.pgx.assumed


def test_up_to_the_repository_root_above_the_checked_folder(tmp_path):
    (tmp_path / ".git").mkdir()
    gomod(tmp_path, "require github.com/jackc/pgx/v4 v4.18.1")
    _, ep = client(tmp_path / "deploy", options={"check_roots": [str(tmp_path / "deploy")]})
    assert ep.pgx.major == 4


def test_not_above_the_repository_root(tmp_path):
    gomod(tmp_path, "require github.com/jackc/pgx/v4 v4.18.1")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    _, ep = client(tmp_path / "repo" / "deploy", options={"check_roots": [str(tmp_path)]})
    assert ep.pgx.assumed


def test_the_nearest_go_mod_decides_even_without_pgx(tmp_path):
    """A nested module is a module of its own: its parent's requirements are not its."""
    gomod(tmp_path, "require github.com/jackc/pgx/v4 v4.18.1")
    gomod(tmp_path / "tools", "require github.com/spf13/cobra v1.8.0")
    _, ep = client(tmp_path / "tools", options={"check_roots": [str(tmp_path)]})
    assert ep.pgx.assumed and "does not require github.com/jackc/pgx" in ep.pgx.reason


def test_go_sum_decides_when_go_mod_names_no_pgx(tmp_path):
    gomod(tmp_path, "require gorm.io/driver/postgres v1.5.0")
    (tmp_path / "go.sum").write_text("github.com/jackc/pgx/v5 v5.4.3 h1:abc=\ngithub.com/jackc/pgx/v5 v5.4.3/go.mod h1:d=\n")
    doc, ep = client(tmp_path)
    assert (ep.pgx.major, ep.pgx.assumed) == (5, False) and str(tmp_path / "go.sum") in doc.files


def test_both_majors_required_is_no_evidence(tmp_path):
    gomod(tmp_path, "require (\n\tgithub.com/jackc/pgx/v4 v4.18.1\n\tgithub.com/jackc/pgx/v5 v5.5.5\n)")
    _, ep = client(tmp_path)
    assert ep.pgx.assumed and "requires pgx v4 and v5" in ep.pgx.reason


def test_v3_gets_no_pgxpool_and_no_prepares(tmp_path):
    gomod(tmp_path, "require github.com/jackc/pgx v3.6.2+incompatible")
    _, ep = client(tmp_path)
    assert ep.pgx.major == 3 and ep.pool is None and ep.prepares is None


def test_the_answer_is_kept_per_folder(tmp_path):
    gomod(tmp_path, "require github.com/jackc/pgx/v4 v4.18.1")
    cache: dict = {}
    first = pgx_version(str(tmp_path / "a.env"), {"go_modules": cache})
    (tmp_path / "go.mod").unlink()
    assert pgx_version(str(tmp_path / "b.env"), {"go_modules": cache}) is first


def test_a_file_without_pgx_reads_no_go_mod(tmp_path):
    gomod(tmp_path, "require github.com/jackc/pgx/v4 v4.18.1")
    path = tmp_path / ".env"
    path.write_text(textwrap.dedent("DATABASE_URL=postgresql://app@db:5432/shop\n"))
    doc = load(str(path))
    assert str(tmp_path / "go.mod") not in doc.files
