"""`auth_type = hba` without a readable `auth_hba_file`: every login is rejected.

## What it checks
`auth_type = hba` while `auth_hba_file` is not set, or names a file that does not exist. A file
outside the files given to check (`/etc/pgbouncer/pg_hba.conf`, installed at deploy time) cannot
be seen here: that is a warning that says so.

## Why it matters
PgBouncer does not refuse to start: it logs `could not open hba config file` and runs with no
rules, and with no rules every login is rejected (`FATAL: login rejected`), applications and the
admin console alike. Measured on PgBouncer 1.18 (tests/test_pgbouncer_parity.py). Every
connection on this path fails, so it is an error.

## Fix
`auth_hba_file = /etc/pgbouncer/pg_hba.conf` with rules in pg_hba.conf format
(`host all all 10.0.0.0/8 scram-sha-256`), readable by the pgbouncer user; or another `auth_type`.

## References
- PgBouncer: auth_type, auth_hba_file — https://www.pgbouncer.org/config.html#auth_hba_file
- PgBouncer source: src/hba.c (hba_load_rules, hba_eval: no rules -> AUTH_REJECT), src/client.c
"""

from advisor.findings import Severity
from advisor.rules.pgb import report
from advisor.rules.rule import Rule


def check(ctx):
    return report(RULE, ctx, "pgbouncer-hba-file")


RULE = Rule(
    code="PGB006",
    name="pgbouncer-hba-file-missing",
    severity=Severity.ERROR,
    summary="auth_type = hba without a readable auth_hba_file: every login rejected",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
