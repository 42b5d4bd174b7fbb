"""A client keeps named statements or cursors across transactions through a PgBouncer transaction pool.

## What it checks
For every client on an assembled path whose driver prepares named (protocol-level) statements,
each PgBouncer after it in `pool_mode = transaction` or `statement` (as PgBouncer decides it:
the `[users]` entry's pool_mode of the pool's user — the entry's forced `user=`, else the
client's — then the `[databases]` entry's, then the global one) that does not track prepared
statements: a PgBouncer before 1.21 (the version pgpath lints for: `--pgbouncer-version`, else
the tag of the image that runs it, else the newest; the summary says which, and the finding when
read from an image), or one whose
`max_prepared_statements` is 0 (the default in 1.21 to 1.23; 200 from 1.24).

What prepares named statements, as the client file sets it:

- psycopg 3 (SQLAlchemy `postgresql+psycopg://`, psycopg_pool): `prepare_threshold`, default 5:
  the 6th execution of a statement on a connection parses it as `_pg3_<n>`; `None` never does.
  Django passes `prepare_threshold=None` unless its OPTIONS set one, and prepares only with
  `"server_side_binding": True` as well.
- pgjdbc (JDBC URLs, Spring, HikariCP data-source properties): `prepareThreshold`, default 5:
  the 5th execution of a PreparedStatement parses it as `S_<n>`; 0 (or `preferQueryMode=simple`)
  never does.
- pgx v5: `default_query_exec_mode`, default `cache_statement`: every SQL text is parsed as
  `stmtcache_<hash>` at its first execution.
- pgx v4: `statement_cache_mode`, default `prepare` (with `statement_cache_capacity` 512): every
  SQL text is parsed at its first execution on a connection as `lrupsc_<n>_<k>` (n counts the
  process's connections from 1, k the connection's statements from 0, so replicas of an
  application reuse the same names: `already exists` too). `describe` (which pgx v4's
  documentation gives for PgBouncer) and `prefer_simple_protocol=true` make none.

pgx's major is read from the `go.mod` of the client file's Go module (as PATH002 says); without
one, v5 is assumed and the finding says so.
- asyncpg called in code (`asyncpg.connect()`, `create_pool()`): `statement_cache_size`, default
  100: each query with arguments is prepared at its first execution on a connection as
  `__asyncpg_stmt_<n>__` (numbered per connection); 0 uses the unnamed statement and names none.
- asyncpg through SQLAlchemy (`postgresql+asyncpg://`): the dialect prepares every statement,
  which asyncpg names `__asyncpg_stmt_<n>__`, numbered per connection (so another connection's
  statement of that name may already be on the server connection it gets: `already exists`); only
  a `prepared_statement_name_func` giving unique names in connect_args avoids it.

- Rails (config/database.yml): `prepared_statements`, default true: each query with binds is
  parsed at its first execution on a connection as `a1`, `a2`... (numbered per connection, so
  `already exists` too); `prepared_statements: false` makes none.

psycopg2, libpq programs, node-postgres queries without a `name`, and connection strings whose
driver the file does not show are not reported.

A second finding, for Django through such a PgBouncer whatever its version (prepared-statement
tracking does not cover cursors): `DISABLE_SERVER_SIDE_CURSORS` not true in the DATABASES entry
(`disable_server_side_cursors=` of dj_database_url; a later `DATABASES["default"][...] = True`
counts). `info` instead of `warning` with `ATOMIC_REQUESTS = True`.

## Why it matters
A named statement lives on the one server connection that parsed it. In transaction pooling the
client gets a server connection per transaction; when the next execution lands on another one,
it fails with `prepared statement "_pg3_0" does not exist` (SQLSTATE 26000), or with `already
exists` when another client parsed the same name there first. It happens under ordinary load,
not on every connection: a client alone on an idle pooler may keep getting the same server
connection. pgpath's lab (tests/lab/test_lab_prepared.py): psycopg 3.3.9 through PgBouncer 1.18
in transaction pooling, two sessions interleaved: the 7th execution fails with
`InvalidSqlStatementName: prepared statement "_pg3_0" does not exist`; with `prepare_threshold`
None, or in session pooling, all executions succeed. PgBouncer 1.21+ with
`max_prepared_statements` above 0 renames protocol-level statements and prepares them again on
whichever server connection runs them (SQL `PREPARE`/`EXECUTE` are not tracked).

Django's `QuerySet.iterator()`, which its ModelChoiceField runs to render every ForeignKey select
(the admin's too), reads through a named cursor declared `WITH HOLD` in autocommit: the DECLARE
and each FETCH are transactions of their own, and a FETCH on another server connection fails
with `cursor "_django_curs_..." does not exist`. Lab: psycopg's named WITH HOLD cursor through
PgBouncer 1.18 in transaction pooling fails at the first fetch after another client took the
server connection; Django 5.2's own iterator() the same (tests/lab/test_lab_prepared_django.py),
and succeeds with `DISABLE_SERVER_SIDE_CURSORS: True` or in session pooling. Django documents
the setting as required for transaction pooling.

When a bare SQLAlchemy URL is all the file holds (create_engine's `connect_args` are in code),
psycopg's default is assumed but the finding is `info`: the code may turn it off.

## Fix
Turn preparing off in the client, as its file writes it (`prepare_threshold: null` under
`connect_args`, `"prepare_threshold": None` in Django OPTIONS, `prepareThreshold=0` in the JDBC
URL, `default_query_exec_mode=exec` in a pgx v5 DSN, `statement_cache_mode=describe` in a pgx v4
one), or let PgBouncer 1.21+ track them: `max_prepared_statements = 200`. (pgx's
`statement_cache_capacity=0` is no fix: v5's `cache_statement` then refuses every query; v4 then
prepares the unnamed statement in one exchange and binds it in the next, which transaction
pooling may send to another server connection. v4 with capacity 0 is not reported.) For Django's cursors: `"DISABLE_SERVER_SIDE_CURSORS": True` in the
DATABASES entry (`disable_server_side_cursors=True` for dj_database_url), or a second alias
to the server directly or through session pooling for the code that needs streaming reads.

## References
- PgBouncer max_prepared_statements: https://www.pgbouncer.org/config.html#max_prepared_statements
  (NEWS 1.21.0, 1.24.0; src/main.c defaults per tag)
- psycopg 3 prepared statements: https://www.psycopg.org/psycopg3/docs/advanced/prepare.html
- pgjdbc prepareThreshold: https://jdbc.postgresql.org/documentation/use/ (server-prepare)
- pgx QueryExecMode: https://pkg.go.dev/github.com/jackc/pgx/v5#QueryExecMode
- pgx v4 (github.com/jackc/pgx tag v4.18.3, conn.go ParseConfig: statement_cache_capacity 512,
  statement_cache_mode prepare|describe, prefer_simple_protocol; pgbouncer_test.go runs PgBouncer
  with describe and with the simple protocol) and github.com/jackc/pgconn tag v1.14.3
  (stmtcache/lru.go: `lrupsc_%d` per cache, `%s_%d` per statement, ModeDescribe prepares the
  unnamed statement); jackc/pgx issue #602 (`lrupsc_1_6 already exists` through PgBouncer; the
  maintainer: use describe)
- Rails (github.com/rails/rails, v7.1.0-v8.1.0): activerecord connection_adapters/abstract_adapter.rb
  (`prepared_statements` default true, type_cast_config_to_boolean), postgresql_adapter.rb
  (`StatementPool#next_key` = "a#{@counter += 1}", `prepare_statement`, `statement_limit`)
- Django psycopg 3 backend: `get_connection_params` (prepare_threshold None by default)
- Django: Transaction pooling and server-side cursors —
  https://docs.djangoproject.com/en/stable/ref/databases/#transaction-pooling-server-side-cursors
- docs/prepared-statements.md (the sources of every fact above)
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.path.discover import database_entry
from advisor.rules.path import hop_span
from advisor.rules.pgb import assignment
from advisor.rules.rule import Rule, setting_span

TRACKING_SINCE = (1, 21)  # PgBouncer max_prepared_statements
POOLING = ("transaction", "statement")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _pool_mode(model, entry, user: str | None):
    """(pool mode, the span that sets it) of the pool of a [databases] entry and the client's
    user: the user's own in [users], else the entry's, else the global one (as PgBouncer decides)."""
    own = model.pool_mode_setting(entry, user)
    if own is not None:
        return model.pool_mode_of(entry, user), setting_span(own)
    return model.pool_mode_of(entry, user), model.span_of("pool_mode")


def _untracked(model, doc=None) -> str | None:
    """Why this PgBouncer does not track prepared statements, or None when it does (or when its
    max_prepared_statements is not known before deploy). A version read from an image says which
    (advisor/pgbversion.py): the verdict turns on it."""
    version = tuple(model.version[:2])
    shown = f"{version[0]}.{version[1]}"
    if doc is not None and doc.meta.get("pgbouncer_version_source") in ("file", "deployment", "neighbourhood"):
        shown += f" ({doc.meta['pgbouncer_version_reason'].split(' (conflicting evidence')[0]})"
    if version < TRACKING_SINCE:
        return f"PgBouncer {shown} does not track prepared statements (max_prepared_statements from 1.21)"
    mps = model.value("max_prepared_statements")
    if not is_known(mps) or mps is None or mps > 0:
        return None
    said = "max_prepared_statements = 0" + (" (the default before 1.24)" if model.is_default("max_prepared_statements")
                                            else "")
    return f"PgBouncer {shown} with {said} does not track prepared statements"


def _what(prepares, pgx=None) -> str:
    t = prepares.threshold
    dflt = " (default)" if t.origin == "default" else ""
    name = f"\"{prepares.name}\""
    if prepares.library == "pgx" and pgx is not None and pgx.major == 4:
        mode = "prepare" if t.origin == "default" else t.display
        return f"{pgx.said()}: statement_cache_mode {mode}{dflt}: the first execution of each SQL text on a " \
               f"connection prepares it as {name}, lrupsc_1_1... (lrupsc_<n>_<k>: the process's n-th connection)"
    if prepares.library == "pgx":
        mode = "cache_statement" if t.origin == "default" else t.display
        who = f"{pgx.said()}: " if pgx is not None else "pgx "
        return f"{who}default_query_exec_mode {mode}{dflt}: the first execution of each SQL text prepares it as " \
               f"{name} (a hash of the SQL)"
    if prepares.library == "asyncpg" and prepares.setting == "statement_cache_size":
        return (f"asyncpg statement_cache_size {t.display}{dflt}: each query with arguments is prepared at its first "
                f"execution on a connection as {name}, __asyncpg_stmt_2__... (numbered per connection)")
    if prepares.library == "asyncpg":
        return (f"SQLAlchemy's asyncpg dialect prepares every statement, which asyncpg names {name}, "
                "__asyncpg_stmt_2__... per connection,")
    if prepares.library == "rails":
        shown = "true (default)" if t.origin == "default" else f"prepared_statements: {t.display}"
        return (f"Rails prepared_statements {shown}: the first execution of each query with binds on a connection "
                f"prepares it as {name}, \"a2\"... (numbered per connection)")
    shown = t.value if t.origin == "default" else t.display
    first = _ordinal(prepares.first)
    if prepares.library == "pgjdbc":
        return f"pgjdbc prepareThreshold {shown}{dflt}: the {first} execution of a PreparedStatement on a connection " \
               f"prepares it as {name}"
    return f"psycopg prepare_threshold {shown}{dflt}: the {first} execution of a statement on a connection prepares " \
           f"it as {name}"


def check(ctx):
    seen: set[tuple[int, str]] = set()  # (client, finding): one each, at the first pooler that loses it
    for path in ctx.paths:
        for i, hop in path.hops_of("client"):
            ep = hop.detail
            prepares = getattr(ep, "prepares", None)
            cursors = getattr(ep, "server_cursors", None)
            if prepares is not None and prepares.first is None:
                prepares = None
            if cursors is not None and not (cursors.used.known and cursors.used.value is True):
                cursors = None
            for end in path.hops[i + 1:]:
                if prepares is None and cursors is None:
                    break
                if end.kind != "pgbouncer" or end.doc is None or end.doc.model is None:
                    continue
                model = end.doc.model
                dbname = ep.dbname.value if ep.dbname is not None and ep.dbname.known else None
                user = ep.user.value if ep.user is not None and ep.user.known else None
                mode, mode_span = _pool_mode(model, database_entry(model, dbname) if end.detail is None else end.detail,
                                             user)
                if mode not in POOLING:
                    continue
                if prepares is not None and (id(ep), "prepares") not in seen:
                    finding = _prepared(ep, prepares, end, model, mode, mode_span)
                    if finding is not None:
                        seen.add((id(ep), "prepares"))
                        prepares = None
                        yield finding
                if cursors is not None and (id(ep), "cursors") not in seen:
                    seen.add((id(ep), "cursors"))
                    yield _cursors(ep, cursors, end, mode, mode_span)
                    cursors = None


def _prepared(ep, prepares, end, model, mode, mode_span):
    why = _untracked(model, end.doc)
    if why is None:
        return None
    t = prepares.threshold
    span = t.span if t.origin == "set" and t.span is not None else ep.span
    version = tuple(model.version[:2])
    pgb_fix = assignment(end.doc, model, "max_prepared_statements", 200)
    if version < TRACKING_SINCE:
        pgb_fix += f" on PgBouncer 1.21 or later (this is {version[0]}.{version[1]}: upgrade first)"
    unread = "" if prepares.read else (
        f" (unless the code turns it off: {prepares.off.split(' in ')[0]} is not in this file)")
    mps = model.setting("max_prepared_statements")
    unit = "statement" if mode == "statement" else "transaction"
    return RULE.finding(
        span,
        f"{ep.label()} -> {end.label}: {_what(prepares, getattr(ep, 'pgx', None))} on the server connection it runs on, and later "
        f"executions run it by name; {why}, and pool_mode = {mode} gives each {unit} any server connection, so an "
        f"execution that gets another one fails: prepared statement \"{prepares.name}\" does not exist"
        + (" (or already exists: each connection numbers its statements from 1, so another's may be on the server "
           "connection it gets)" if prepares.library in ("asyncpg", "rails") else "")
        + (" (or already exists: every process names its first connection's statements lrupsc_1_<k>, so another "
           "process's may be on the server connection it gets)" if prepares.name.startswith("lrupsc") else "")
        + unread,
        f"{prepares.off}; or {pgb_fix}",
        related=[s for s in (mode_span, setting_span(mps) if mps is not None else None, hop_span(end)) if s is not None],
        severity=None if prepares.read else Severity.INFO,
    )


def _cursors(ep, cursors, end, mode, mode_span):
    used = cursors.used
    key = used.key or "DISABLE_SERVER_SIDE_CURSORS"
    said = ("DISABLE_SERVER_SIDE_CURSORS not set (default False)" if used.origin == "default" else
            f"{key} = {used.display}" if key.islower() else f'"{key}": {not used.value}')
    atomic = (" ATOMIC_REQUESTS = True keeps a view's cursors inside its transaction, so this hits the code that "
              "runs outside one (management commands such as dumpdata, tasks)." if cursors.atomic else "")
    return RULE.finding(
        used.span if used.origin == "set" and used.span is not None else ep.span,
        f"{ep.label()} -> {end.label}: {said}: QuerySet.iterator() (which Django's ModelChoiceField runs to render "
        f"a ForeignKey select, in the admin too) declares a named cursor WITH HOLD in one transaction (autocommit) "
        f"and fetches from it in later ones; pool_mode = {mode} gives each of them any server connection, so a fetch "
        f"that gets another one fails: cursor \"_django_curs_<thread>_<n>\" does not exist (max_prepared_statements "
        f"does not track cursors).{atomic}",
        cursors.off,
        related=[s for s in (mode_span, hop_span(end)) if s is not None],
        severity=Severity.INFO if cursors.atomic else None,
    )


RULE = Rule(
    code="PATH006",
    name="prepared-statements-transaction-pool",
    severity=Severity.WARNING,
    summary="Named prepared statements or Django cursors through a PgBouncer transaction pool that loses them",
    needs=("path",),
    check=check,
    doc=__doc__,
)
