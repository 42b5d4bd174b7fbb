"""A Patroni configuration sets locally a parameter Patroni takes only from the DCS.

## What it checks
In a Patroni configuration file (patroni.yml), the local `postgresql.parameters` entries whose
name is one Patroni passes to PostgreSQL on its command line from the dynamic configuration
(the DCS) alone: `max_connections`, `max_locks_per_transaction`, `max_worker_processes`,
`max_prepared_transactions`, `wal_level`, `track_commit_timestamp`, `max_wal_senders`,
`max_replication_slots`, `wal_keep_segments`, `wal_keep_size`, `wal_log_hints`, `hot_standby`
(Patroni's `ConfigHandler.CMDLINE_OPTIONS`). Also `port`, `listen_addresses` and `cluster_name`
in `postgresql.parameters`, local or DCS, which Patroni sets from `postgresql.listen` and
`scope`; and a DCS value of a CMDLINE_OPTIONS parameter that Patroni's own check refuses
(`max_connections` below 25, `wal_level: minimal`...; read as Patroni reads integers: `3e1` is
30, `030` octal 24), which it replaces by its default. What operators and roles write into
Patroni's DCS is checked alike: a Zalando `postgresql` manifest's `spec.postgresql.parameters`
(all but the few the operator keeps local, such as `shared_buffers` and `ssl`: its
`isBootstrapOnlyParameter`), Crunchy's and Percona's `spec.patroni.dynamicConfiguration` and
`spec.config.parameters`, autobase's `postgresql_parameters`. For a `max_connections`
below the minimum the fix proposes the minimum, 25 (the value was meant small), otherwise
Patroni's default.

It is `info`: the server starts and runs with the value Patroni gives it, and what that value
breaks is judged against it by the rules that compare it (PATH005's connection budget, MEM001's
memory: pgpath reads every server with the value in force), so nothing fails on this finding's
account.

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
the local entry. A local value Patroni would refuse in the DCS too is only removed. `port` and
`listen_addresses` go in `postgresql.listen`, `cluster_name` is the `scope`.

## References
- Patroni: dynamic configuration ("postgresql.parameters.max_connections ... could be set only in
  the dynamic configuration") — https://patroni.readthedocs.io/en/latest/dynamic_configuration.html
- Patroni source: patroni/postgresql/config.py (CMDLINE_OPTIONS), patroni/config.py
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        if "_patroni_ignored" not in doc.meta and "_patroni_rejected" not in doc.meta:
            continue  # not read through Patroni (or autobase's lists): nothing it drops
        from advisor.model.patroni import (PATRONI_DCS, PATRONI_DEFAULTS, PATRONI_MINIMUMS, PATRONI_SET_ELSEWHERE,
                                           patroni_refuses)
        from advisor.model.pg_parameters import assignment

        for name, raw, span, _value_span, unknown, *at in doc.meta.get("_patroni_ignored", ()):
            at = at[0] if at else "postgresql.parameters"
            low = name.lower()
            if low in PATRONI_SET_ELSEWHERE:
                source = "scope" if low == "cluster_name" else "postgresql.listen"
                operated = doc.meta.get("source") != "patroni"  # an operator writes Patroni's configuration
                yield RULE.finding(
                    span, f"{name}: {raw} in {at} has no effect: Patroni sets {name} from {source} and drops "
                          "this value",
                    f"remove {name} from {at} (Patroni's {source} is set for it)" if operated else
                    f"remove {name} from {at}, and set {source} instead")
                continue
            in_dcs = doc.get(low)
            if in_dcs is not None:
                runs = f"{in_dcs.name} = {in_dcs.raw} from {in_dcs.section} (the value it bootstraps the DCS with)"
            else:
                runs = f"Patroni's default for it, {PATRONI_DEFAULTS.get(low, 'PostgreSQL default')}"
            refused = None if unknown else patroni_refuses(low, raw)
            move = (f"remove {name} from {at} ({raw} would be refused in the DCS too: {refused})" if refused else
                    f"{assignment(doc, low, raw)}, and remove {name} from {at}")
            yield RULE.finding(
                span,
                f"{name}: {raw} in {at} has no effect: Patroni takes {name} only from the DCS, "
                f"equal on every member, and drops the local value, so PostgreSQL runs with {runs}",
                move,
                [in_dcs.span] if in_dcs is not None else [],
            )
        for (name, raw, span, *rest), refused in doc.meta.get("_patroni_rejected", ()):
            at = rest[2] if len(rest) > 2 else PATRONI_DCS
            if doc.meta.get("source") != "patroni":
                at += " (which goes into Patroni's DCS)"
            low = name.lower()
            # a max_connections below the minimum was meant small (a small container): the least
            # Patroni accepts is closest to it; otherwise Patroni's default
            accepted = (str(PATRONI_MINIMUMS[low]) if low == "max_connections" and refused.startswith("below")
                        else PATRONI_DEFAULTS[low])
            yield RULE.finding(
                span,
                f"{name}: {raw} in {at} is {refused}: Patroni logs 'failed validation' and runs "
                f"PostgreSQL with its default, {PATRONI_DEFAULTS[low]}",
                f"a value Patroni accepts, e.g. {assignment(doc, low, accepted)}",
            )


RULE = Rule(
    code="PG014",
    name="patroni-local-dcs-parameter",
    severity=Severity.INFO,
    summary="A Patroni parameter that Patroni drops or refuses (DCS-only, set elsewhere, or failing its check)",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
)
