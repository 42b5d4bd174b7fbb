"""A Patroni configuration sets locally a parameter Patroni takes only from the DCS.

## What it checks
In a Patroni configuration file (patroni.yml), the local `postgresql.parameters` entries whose
name is one Patroni passes to PostgreSQL on its command line from the dynamic configuration
(the DCS) alone: `max_connections`, `max_locks_per_transaction`, `max_worker_processes`,
`max_prepared_transactions`, `wal_level`, `track_commit_timestamp`, `max_wal_senders`,
`max_replication_slots`, `wal_keep_segments`, `wal_keep_size`, `wal_log_hints`, `hot_standby`
(Patroni's `ConfigHandler.CMDLINE_OPTIONS`).

## Why it matters
Patroni discards such a local value without a word (`Config._process_postgresql_parameters`
skips them for the local configuration): these parameters must be equal on every member, so the
cluster's value in the DCS wins, or Patroni's own default when the DCS has none
(`max_connections` 100, `max_wal_senders` 10, `max_worker_processes` 8...). A
`max_connections: 500` written under `postgresql.parameters` leaves the server at 100, and the
pools sized for 500 fail with `sorry, too many clients already`. pgpath judges the server with
the value Patroni gives it.

## Fix
Set it in `bootstrap.dcs.postgresql.parameters` for a cluster not yet created, and with
`patronictl edit-config` on a running cluster (the bootstrap section is read only once); remove
the local entry.

## References
- Patroni: dynamic configuration ("postgresql.parameters.max_connections ... could be set only in
  the dynamic configuration") — https://patroni.readthedocs.io/en/latest/dynamic_configuration.html
- Patroni source: patroni/postgresql/config.py (CMDLINE_OPTIONS), patroni/config.py
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule

# Patroni's defaults for them (CMDLINE_OPTIONS), used when the DCS sets none
PATRONI_DEFAULTS = {"max_connections": "100", "max_wal_senders": "10", "max_worker_processes": "8",
                    "max_locks_per_transaction": "64", "max_prepared_transactions": "0", "max_replication_slots": "10",
                    "wal_level": "replica", "track_commit_timestamp": "off", "wal_log_hints": "on",
                    "hot_standby": "on", "wal_keep_segments": "8", "wal_keep_size": "128MB"}


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        for local in doc.meta.get("_patroni_ignored", ()):
            name, raw, span = local[0], local[1], local[2]
            in_dcs = doc.get(name.lower())
            if in_dcs is not None:
                runs = f"{in_dcs.name} = {in_dcs.raw} from {in_dcs.section} (the value it bootstraps the DCS with)"
            else:
                runs = f"Patroni's default for it, {PATRONI_DEFAULTS.get(name.lower(), 'PostgreSQL default')}"
            yield RULE.finding(
                span,
                f"{name}: {raw} in postgresql.parameters has no effect: Patroni takes {name} only from the DCS, "
                f"equal on every member, and drops the local value, so PostgreSQL runs with {runs}",
                f'{name}: "{raw}" in bootstrap.dcs.postgresql.parameters (on a running cluster: patronictl '
                f"edit-config), and remove it from postgresql.parameters",
                [in_dcs.span] if in_dcs is not None else [],
            )


RULE = Rule(
    code="PG014",
    name="patroni-local-dcs-parameter",
    severity=Severity.WARNING,
    summary="A Patroni local parameter that Patroni takes only from the DCS",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
)
