"""A client that runs transactions through a PgBouncer in `pool_mode = statement`.

## What it checks
For every client on an assembled path, the first PgBouncer after it whose pool for the client's
database is in `pool_mode = statement` (the `[databases]` entry's own pool_mode, else the global
one), when the client's library opens transactions:

- SQLAlchemy (any dialect): the engine's first connection runs the dialect's initialisation
  (`select pg_catalog.version()`...) inside a transaction, and every `Connection`/`Session`
  after it too. With psycopg 3 (`postgresql+psycopg://`) that fails even with
  `isolation_level="AUTOCOMMIT"` -> error; other dialects -> warning (the code may set
  `isolation_level="AUTOCOMMIT"`, which pgpath cannot see).
- psycopg_pool: its connections are not in autocommit unless `kwargs={"autocommit": True}` ->
  warning.
- Django: autocommit by default, but `transaction.atomic` (the admin's saves, `get_or_create`,
  migrations) opens transactions -> warning; with `ATOMIC_REQUESTS = True` every view runs in one
  -> error.
- pgjdbc: HikariCP `autoCommit=false` -> error; a Spring datasource (`spring.datasource.*`: Spring
  Data repositories' `save`/`delete` and every `@Transactional` method run in a transaction) ->
  warning; another pgjdbc client -> info.

pgx, node-postgres and libpq programs run in autocommit unless the code opens a transaction,
which pgpath cannot see: not reported.

## Why it matters
In statement pooling PgBouncer gives the server connection back after every statement, so it
refuses a transaction of more than one statement: when the server answers ReadyForQuery inside a
transaction block, PgBouncer closes both connections with `FATAL: transaction blocks not allowed
in statement pooling mode` (SQLSTATE 08P01). Lab (tests/lab/test_lab_startup_params.py, PgBouncer
1.18, PostgreSQL 15): psycopg 3 with autocommit off fails at its first statement, with autocommit
on it runs; SQLAlchemy 2.1 `postgresql+psycopg://` fails at its first connection, with
`isolation_level="AUTOCOMMIT"` too; `postgresql+asyncpg://` fails, and runs with
`isolation_level="AUTOCOMMIT"`; pgjdbc 42.7 runs in autocommit and fails after
`setAutoCommit(false)`.

## Fix
`pool_mode = transaction` (for the pool's `[databases]` entry or globally): a transaction keeps
its server connection until it ends (mind named prepared statements there: PATH006). Statement
pooling is only for clients that never open a transaction.

## References
- PgBouncer pool_mode: https://www.pgbouncer.org/config.html#pool_mode
- PgBouncer features per pooling mode: https://www.pgbouncer.org/features.html
- SQLAlchemy DBAPI autocommit: https://docs.sqlalchemy.org/en/20/core/connections.html#dbapi-autocommit
- Django transactions: https://docs.djangoproject.com/en/stable/topics/db/transactions/
- HikariCP autoCommit: https://github.com/brettwooldridge/HikariCP#gear-configuration-knobs-baby
"""

from advisor.findings import Severity
from advisor.path.discover import database_entry
from advisor.rules.path import hop_span
from advisor.rules.pgb import assignment
from advisor.rules.rule import Rule, setting_span


def _transactions(ep):
    """(severity, what opens the transaction) for this client, or None when its library runs in
    autocommit as far as the file shows."""
    if ep.driver == "sqlalchemy":
        if ep.dbapi == "psycopg":
            return Severity.ERROR, ("SQLAlchemy postgresql+psycopg runs its first connection's initialisation and every "
                                    "Connection in a transaction (isolation_level=\"AUTOCOMMIT\" too)")
        return Severity.WARNING, (f"SQLAlchemy ({ep.dbapi or 'psycopg2'}) runs every Connection and Session in a "
                                  "transaction, unless the code sets isolation_level=\"AUTOCOMMIT\"")
    if ep.driver == "psycopg_pool":
        return Severity.WARNING, ("psycopg_pool's connections are not in autocommit (unless kwargs={\"autocommit\": "
                                  "True}): every statement opens a transaction")
    if ep.driver == "django":
        cursors = getattr(ep, "server_cursors", None)
        if cursors is not None and cursors.atomic:
            return Severity.ERROR, "Django with ATOMIC_REQUESTS = True runs every view in a transaction"
        return Severity.WARNING, ("Django runs transaction.atomic blocks (the admin's saves, get_or_create, "
                                  "migrations) as transactions")
    if ep.driver == "pgjdbc":
        auto = ep.params.get("autoCommit")
        if auto is not None and auto.known and str(auto.value).strip().lower() == "false":
            return Severity.ERROR, f"HikariCP {auto.key or 'autoCommit'}={auto.raw}: every connection runs in a transaction"
        if ep.name.lower().startswith("spring.datasource"):
            return Severity.WARNING, ("a Spring datasource runs every @Transactional method (Spring Data repositories' "
                                      "save and delete) in a transaction")
        return Severity.INFO, "pgjdbc runs a transaction whenever the code calls setAutoCommit(false)"
    return None


def check(ctx):
    seen: set[tuple[int, int]] = set()
    for path in ctx.paths:
        for i, hop in path.hops_of("client"):
            ep = hop.detail
            found = _transactions(ep)
            if found is None:
                continue
            end = next((h for h in path.hops[i + 1:] if h.kind == "pgbouncer"), None)
            if end is None or end.doc is None or end.doc.model is None or (id(ep), id(end.doc.model)) in seen:
                continue
            model = end.doc.model
            dbname = ep.dbname.value if ep.dbname is not None and ep.dbname.known else None
            entry = database_entry(model, dbname) if end.detail is None else end.detail
            user = ep.user.value if ep.user is not None and ep.user.known else None
            if model.pool_mode_of(entry, user) != "statement":  # (the user's own pool_mode in [users] first)
                continue
            seen.add((id(ep), id(model)))
            own = model.pool_mode_setting(entry, user)
            mode_span = setting_span(own) if own is not None else model.span_of("pool_mode")
            # a mode set but not by the [databases] entry (or with no entry: the client's database is
            # served by none, PgBouncer refuses it, yet the user's mode is what the line sets) is the user's
            in_users = own is not None and (entry is None or own is not entry.params.get("pool_mode"))
            fix = (f"pool_mode=transaction in the [users] entry of {user}" if in_users else
                   f"pool_mode=transaction in the [databases] entry {entry.name}" if own is not None
                   else assignment(end.doc, model, "pool_mode", "transaction"))
            severity, what = found
            auto = ep.params.get("autoCommit") if ep.driver == "pgjdbc" else None
            span = auto.span if severity is Severity.ERROR and auto is not None and auto.span is not None else ep.span
            yield RULE.finding(
                span,
                f"{ep.label()} -> {end.label}: {what}; pool_mode = statement gives the server connection back after "
                "each statement and so refuses a transaction block: PgBouncer closes the connection with "
                "FATAL: transaction blocks not allowed in statement pooling mode",
                f"{fix} (a transaction keeps its server connection until it ends; named prepared statements: PATH006)",
                related=[s for s in (mode_span, hop_span(end)) if s is not None],
                severity=severity,
            )


RULE = Rule(
    code="PATH008",
    name="transactions-through-statement-pooling",
    severity=Severity.WARNING,
    summary="A client library that runs transactions through a PgBouncer in statement pooling, which refuses them",
    needs=("path",),
    check=check,
    doc=__doc__,
)
