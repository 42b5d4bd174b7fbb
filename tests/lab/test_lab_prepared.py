"""The lab for PATH006: named prepared statements through PgBouncer transaction pooling.

Real PostgreSQL 15 behind the installed PgBouncer (1.18 here: no `max_prepared_statements`,
which came in 1.21) in `pool_mode = transaction` with two server connections. The client file is
SQLAlchemy's settings for `postgresql+psycopg://` (psycopg 3; the dialect connects with
`psycopg.connect`, so psycopg's `prepare_threshold` 5 applies unless `connect_args` sets it).
Two real psycopg connections, A and B, stand for two sessions of that engine: A runs the same
statement ten times, one transaction each; before every even-numbered one, B opens a
transaction, so that A's consecutive transactions run on different server connections (as they
do under load). psycopg prepares the statement as `_pg3_0` at the 6th execution, on the server
connection of that transaction; the 7th runs it by name on the other one and fails with
`prepared statement "_pg3_0" does not exist`. With `connect_args: {prepare_threshold: null}`
(psycopg never prepares) or in session pooling (A keeps its server connection) all ten succeed.
pgpath, run on the very files with the running PgBouncer's version, must warn about the first
(PATH006) and say nothing about the others.

PATH006's second finding, Django's server-side cursors: a Django settings module without
DISABLE_SERVER_SIDE_CURSORS through the same transaction pooling; QuerySet.iterator()'s named
cursor, declared WITH HOLD in autocommit, loses its second fetch to another server connection
(`cursor "..." does not exist`); with the setting (a plain cursor) all rows are read.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import labkit
import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]

EXECUTIONS = 10
QUERY = "SELECT pg_backend_pid(), %s::int"


@pytest.fixture(scope="module")
def lab():
    yield from sc.lab_with_server("pgpath-lab-prep-", "prep", "")


def _pgbouncer_version() -> str:
    """`1.18` of `PgBouncer 1.18.0`: pgpath lints for the PgBouncer that runs."""
    out = subprocess.run([labkit.PGBOUNCER, "--version"], capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"PgBouncer (\d+\.\d+)", out)
    assert m, out
    return m.group(1)


def _setup(lab, name: str, pool_mode: str, connect_args: str = "", django: str | None = None) -> tuple[Path, str]:
    """The folder pgpath reads and the URL of the running PgBouncer. The client file is SQLAlchemy
    settings (app.yaml), or with `django` a settings module whose DATABASES entry adds those keys."""
    d = lab.dir(name)
    port = labkit.free_port()
    ini = sc.write(d, "pgbouncer.ini", sc.pgbouncer_ini(lab, name, port, f"127.0.0.1:{lab.pg.port}", {
        "pool_mode": pool_mode, "default_pool_size": "2"}))
    url = f"postgresql://postgres@127.0.0.1:{port}/labdb?sslmode=disable"
    if django is None:
        client = sc.write(d, "app.yaml", "database:\n"
                          f"  url: postgresql+psycopg://postgres@127.0.0.1:{port}/labdb?sslmode=disable\n"
                          "  pool_size: 5\n"
                          "  pool_pre_ping: true\n" + connect_args)
    else:
        client = sc.write(d, "settings.py", "DATABASES = {\n"
                          '    "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "labdb", "USER": "postgres",\n'
                          f'                "HOST": "127.0.0.1", "PORT": {port}, "OPTIONS": {{"sslmode": "disable"}},{django}}}\n'
                          "}\n")
    sc.write(d, "pgpath.yaml", sc.topology([f"client: {client.name}", "pgbouncer: {file: pgbouncer.ini, database: labdb}"])
             + f"pgbouncer-version: '{_pgbouncer_version()}'\n")
    labkit.start_pgbouncer(lab, ini, port)
    return d, url


def _interleaved(url: str, prepare_threshold: int | None) -> dict:
    """A runs QUERY EXECUTIONS times (one transaction each, as an engine's session does); B holds
    a transaction open during A's even-numbered ones. Returns the backend pid of each of A's
    executions, and the first failure as (execution number, SQLSTATE class name, message)."""
    import psycopg

    pids: list[int] = []
    failure = None
    with psycopg.connect(url, prepare_threshold=prepare_threshold) as a, \
            psycopg.connect(url, prepare_threshold=None) as b:
        for n in range(1, EXECUTIONS + 1):
            if n % 2 == 0:
                b.execute("SELECT 1")  # B's transaction holds one server connection until its commit
            try:
                pids.append(a.execute(QUERY, (n,)).fetchone()[0])
                a.commit()
            except psycopg.Error as exc:
                failure = (n, type(exc).__name__, str(exc).strip())
                a.rollback()
                break
            finally:
                if n % 2 == 0:
                    b.commit()
    return {"pids": pids, "failure": failure}


def _report(sid: str, config: str, findings: list[dict], observed: dict, match: bool) -> None:
    predicted = "; ".join(f"{f['code']} {f['severity']}" for f in findings) or "no PATH006 finding"
    n, name, message = observed["failure"] or (None, None, None)
    seen = (f"execution {n} of {EXECUTIONS} failed: {name}: {message}" if n else
            f"all {EXECUTIONS} executions succeeded") + (
        f" (on {len(set(observed['pids']))} server backend{'s' if len(set(observed['pids'])) != 1 else ''})")
    sc.RULE_ROWS[sid] = ("PATH006", config, predicted, seen, match)


def test_psycopg_default_threshold_through_transaction_pooling_fails_as_predicted(lab):
    folder, url = _setup(lab, "txn", "transaction")
    observed = _interleaved(url, prepare_threshold=5)  # psycopg's default, which SQLAlchemy keeps
    findings = sc.findings(folder, "PATH006")
    n, name, message = observed["failure"] or (None, None, "")
    ok = bool(findings) and n == 7
    _report("PREP1", f"SQLAlchemy postgresql+psycopg (prepare_threshold default 5) -> PgBouncer "
            f"{_pgbouncer_version()} pool_mode = transaction, default_pool_size = 2", findings, observed, ok)
    # executions 1-6 ran (the 6th prepared _pg3_0 on its server connection); the 7th, on the other
    # server connection, names a statement that connection never saw
    assert n == 7 and name == "InvalidSqlStatementName", observed
    assert 'prepared statement "_pg3_0" does not exist' in message, message
    assert len(set(observed["pids"])) == 2, observed
    [finding] = findings
    assert finding["severity"] == "warning", finding
    assert "prepare_threshold 5 (default)" in finding["message"] and "6th execution" in finding["message"], finding
    assert "pool_mode = transaction" in finding["message"], finding
    assert finding["fix"].startswith("prepare_threshold: null under database.connect_args; or max_prepared_statements = 200"), finding


def test_prepare_threshold_none_in_connect_args_succeeds_and_pgpath_is_silent(lab):
    folder, url = _setup(lab, "txn-off", "transaction", "  connect_args:\n    prepare_threshold: null\n")
    observed = _interleaved(url, prepare_threshold=None)
    findings = sc.findings(folder, "PATH006")
    _report("PREP2", "the same with connect_args: {prepare_threshold: null}", findings, observed,
            not findings and observed["failure"] is None)
    assert observed["failure"] is None and len(observed["pids"]) == EXECUTIONS, observed
    assert len(set(observed["pids"])) == 2, observed  # it did move between server connections
    assert not findings, findings


def test_session_pooling_keeps_the_server_connection_and_pgpath_is_silent(lab):
    folder, url = _setup(lab, "session", "session")
    observed = _interleaved(url, prepare_threshold=5)
    findings = sc.findings(folder, "PATH006")
    _report("PREP3", "prepare_threshold default 5 -> PgBouncer pool_mode = session", findings, observed,
            not findings and observed["failure"] is None)
    assert observed["failure"] is None and len(set(observed["pids"])) == 1, observed
    assert not findings, findings


# Django's QuerySet.iterator() (and so ModelChoiceField) reads through connection.chunked_cursor():
# in autocommit a psycopg ServerCursor declared WITH HOLD, not scrollable, named
# _django_curs_<thread>_<n> (django/db/backends/postgresql/base.py create_cursor), fetched 2000
# rows at a time; with DISABLE_SERVER_SIDE_CURSORS it uses a plain cursor. The lab makes the same
# cursors with psycopg (Django itself: test_lab_prepared_django.py, same outcome).
ROWS, CHUNK = 5000, 2000


def _iterate(url: str, server_side: bool) -> dict:
    """Read ROWS rows in chunks of CHUNK as Django's iterator() does, while B holds a transaction
    during every fetch after the first; (rows read, failure)."""
    import psycopg

    got, failure = 0, None
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as a, \
            psycopg.connect(url, prepare_threshold=None) as b:
        try:
            cur = (a.cursor(name="_django_curs_1_sync_1", withhold=True, scrollable=False) if server_side
                   else a.cursor())
            cur.execute("SELECT generate_series(1, %s)", (ROWS,))
            while True:
                holding = got > 0
                if holding:
                    b.execute("SELECT 1")
                try:
                    rows = cur.fetchmany(CHUNK)
                finally:
                    if holding:
                        b.commit()
                if not rows:
                    break
                got += len(rows)
            cur.close()
        except psycopg.Error as exc:
            failure = (got, type(exc).__name__, str(exc).strip())
    return {"rows": got, "failure": failure}


def _report_cursor(sid: str, config: str, findings: list[dict], observed: dict, match: bool) -> None:
    predicted = "; ".join(f"{f['code']} {f['severity']}" for f in findings) or "no PATH006 finding"
    failure = observed["failure"]
    seen = (f"failed after {failure[0]} of {ROWS} rows: {failure[1]}: {failure[2]}" if failure else
            f"all {ROWS} rows read")
    sc.RULE_ROWS[sid] = ("PATH006", config, predicted, seen, match)


def test_django_server_side_cursor_through_transaction_pooling_fails_as_predicted(lab):
    folder, url = _setup(lab, "cursor", "transaction", django="")
    observed = _iterate(url, server_side=True)
    findings = sc.findings(folder, "PATH006")
    _report_cursor("PREP4", "Django settings without DISABLE_SERVER_SIDE_CURSORS -> PgBouncer pool_mode = transaction; "
                   "iterator()'s WITH HOLD cursor", findings, observed,
                   bool(findings) and observed["failure"] is not None)
    got, name, message = observed["failure"] or (None, None, "")
    assert got == CHUNK and name == "InvalidCursorName", observed  # the first chunk, then the next fetch fails
    assert 'cursor "_django_curs_1_sync_1" does not exist' in message, message
    [finding] = findings
    assert finding["severity"] == "warning" and "DISABLE_SERVER_SIDE_CURSORS not set" in finding["message"], finding
    assert finding["fix"] == "\"DISABLE_SERVER_SIDE_CURSORS\": True in DATABASES['default']", finding


def test_django_with_server_side_cursors_disabled_reads_everything_and_pgpath_is_silent(lab):
    folder, url = _setup(lab, "cursor-off", "transaction", django=' "DISABLE_SERVER_SIDE_CURSORS": True')
    observed = _iterate(url, server_side=False)
    findings = sc.findings(folder, "PATH006")
    _report_cursor("PREP5", "the same with DISABLE_SERVER_SIDE_CURSORS: True (a plain cursor)", findings, observed,
                   not findings and observed["failure"] is None)
    assert observed == {"rows": ROWS, "failure": None}, observed
    assert not findings, findings
