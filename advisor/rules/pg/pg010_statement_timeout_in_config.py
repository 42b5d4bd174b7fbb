"""`statement_timeout` set for every session in postgresql.conf.

## What it checks
A non-zero `statement_timeout` in postgresql.conf or a file it includes (and so in every
session whose role or database does not set its own with `ALTER ROLE/DATABASE ... SET`).

Not reported when an include that PostgreSQL reads after that line was not read (made at deploy
time, or in a template): a later line wins, and that file may set it again.

It is **opt-in**: it runs only when `--select PG010` (or `select:` in pgpath.yaml) names it. Many
teams and platforms set a server-wide limit on purpose, as a safety net against runaway queries
(Supabase's platform defaults set 120 s and ask for longer limits per role), and nothing on the
connection path fails because of it: a linter that repeats the documentation's advice on every
such server is noise to them. Teams that follow the documentation select it.

It is `info`: the statements it would cancel (a migration, `CREATE INDEX`, a manual `VACUUM`, a
batch job) and how long they run are not in the files, so no failure is shown. Autovacuum
workers ignore it, and `pg_dump` and dump files restored by `pg_restore` or `psql` set
`statement_timeout = 0` for their own session.

## Why it matters
The PostgreSQL documentation advises against it ("not recommended because it would affect all
sessions"): a server-wide limit cancels long migrations, index builds, manual maintenance and
batch jobs along with the runaway queries it was meant for. Per role or per database limits are
the supported way. A pooler's `query_timeout` or a proxy timeout must also be kept consistent
with it (rules PGB013 and PATH003 compare them).

## Fix
Remove it from postgresql.conf and set it where it belongs:
`ALTER ROLE app SET statement_timeout = '30s';` (or per database, or per session by the client).

## References
- PostgreSQL: Client Connection Defaults, statement_timeout — https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
"""

from advisor.findings import Severity
from advisor.model.pg_parameters import removal
from advisor.rules.pg.common import read_later_unread
from advisor.rules.rule import Rule
from advisor.units import pg_to_seconds


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        setting = doc.get("statement_timeout")
        if setting is None or not isinstance(setting.value, int) or setting.value <= 0:
            continue
        if read_later_unread(doc, setting) is not None:
            continue  # an include read after it, not read here, may set it again
        seconds = pg_to_seconds(setting.value, "ms")
        yield RULE.finding(
            setting.value_span or setting.span,
            f"statement_timeout = {setting.raw} ({seconds:g} s) applies to every session whose role or database "
            "sets none of its own (ALTER ROLE/DATABASE ... SET), so a migration, index build, manual VACUUM or "
            "batch job running longer is cancelled "
            "(autovacuum, pg_dump and dump restores turn it off for themselves)",
            f"{removal(doc, setting, 'statement_timeout line')} and run ALTER ROLE <app_role> SET statement_timeout = "
            f"'{setting.raw.strip(chr(39))}'",
        )


RULE = Rule(
    code="PG010",
    name="statement-timeout-in-config",
    severity=Severity.INFO,
    summary="statement_timeout set server-wide in postgresql.conf",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
    opt_in=True,
)
