"""What Patroni does with the PostgreSQL parameters of its configuration (patroni.yml).

Facts from Patroni's source (patroni/postgresql/config.py `ConfigHandler.CMDLINE_OPTIONS`,
patroni/config.py `Config._process_postgresql_parameters`): the loader models the server
Patroni starts with them, and PG014 reports what Patroni drops or refuses.
"""

from __future__ import annotations

PATRONI_DCS = "bootstrap.dcs.postgresql.parameters"  # where the cluster-wide ones are written
# Patroni's ConfigHandler.CMDLINE_OPTIONS (patroni/postgresql/config.py): passed to postgres on its
# command line from the dynamic configuration alone; a local postgresql.parameters value of one is
# discarded (Config._process_postgresql_parameters, is_local). listen_addresses, port and
# cluster_name come from postgresql.listen and scope instead.
PATRONI_DCS_ONLY = frozenset({
    "max_connections", "max_locks_per_transaction", "max_worker_processes", "max_prepared_transactions",
    "wal_level", "track_commit_timestamp", "max_wal_senders", "max_replication_slots", "wal_keep_segments",
    "wal_keep_size", "wal_log_hints", "hot_standby",
})

# set by Patroni from postgresql.listen (port, listen_addresses) and scope (cluster_name): a value
# in postgresql.parameters, local or DCS, is dropped
PATRONI_SET_ELSEWHERE = frozenset({"port", "listen_addresses", "cluster_name"})

# Patroni's values for its CMDLINE_OPTIONS when the DCS sets none or its check refuses the one set
PATRONI_DEFAULTS = {"max_connections": "100", "max_wal_senders": "10", "max_worker_processes": "8",
                    "max_locks_per_transaction": "64", "max_prepared_transactions": "0", "max_replication_slots": "10",
                    "wal_level": "replica", "track_commit_timestamp": "off", "wal_log_hints": "on",
                    "hot_standby": "on", "wal_keep_segments": "8", "wal_keep_size": "128MB"}
# the checks of CMDLINE_OPTIONS: IntValidator minimums, wal_level's EnumValidator, hot_standby on
PATRONI_MINIMUMS = {"max_connections": 25, "max_wal_senders": 3, "wal_keep_segments": 1, "max_prepared_transactions": 0,
                     "max_locks_per_transaction": 32, "max_replication_slots": 4, "max_worker_processes": 2}


def patroni_refuses(name: str, raw: str) -> str | None:
    """Why Patroni's check of a CMDLINE_OPTIONS value from the DCS refuses it (it then uses its
    default), or None when it accepts it or the name is none of them."""
    text = str(raw).strip().strip("'\"")
    if name in PATRONI_MINIMUMS:
        # Patroni's IntValidator reads integers as PostgreSQL does (patroni/utils.py parse_int is a
        # port of its strtol/strtod parse_int: `3e1` is 30, `030` octal 24, `24.6` rounds to 25)
        from advisor.units import pg_parse_int

        number = pg_parse_int(text, None)[0]
        if number is None:
            return "not an integer"
        if number < PATRONI_MINIMUMS[name]:
            return f"below Patroni's minimum of {PATRONI_MINIMUMS[name]}" + (f" ({text} is {number})"
                                                                             if str(number) != text else "")
    elif name == "wal_level" and text.lower() not in ("hot_standby", "replica", "logical"):
        return "not hot_standby, replica or logical (Patroni needs replication)"
    elif name == "hot_standby" and text.lower() not in ("on", "true", "yes", "1"):
        return "not on (Patroni always runs standbys in hot standby)"
    return None


def refused_values(meta: dict) -> dict[str, str]:
    """name -> the value written, for each parameter Patroni refused (meta["_patroni_rejected"]):
    the server runs Patroni's default for it."""
    return {entry[0].lower(): entry[1] for entry, _ in meta.get("_patroni_rejected", ())}


def managed_by_patroni(doc) -> bool:
    """Whether Patroni writes this server's configuration (a patroni.yml, or an operator or role
    that hands its parameters to Patroni: Zalando, Crunchy/Percona PGO, autobase): the loaders
    record what Patroni's checks did with them (meta `_patroni_rejected`)."""
    return "_patroni_rejected" in doc.meta


def patroni_checks_value(doc, span) -> bool:
    """Whether Patroni checks the value written at `span` of a document it manages before writing
    it: a boolean, integer, real or enum parameter's (its Bool/Integer/Real/Enum validators remove
    what they cannot read and clamp a number out of range); a string parameter's value is written
    as it is, and PostgreSQL judges it."""
    from advisor.catalog import catalog_of

    if not managed_by_patroni(doc):
        return False
    setting = next((s for s in doc.settings if span in (s.value_span, s.span)), None)
    if setting is None:
        return False
    param = catalog_of(doc).lookup(setting.name)
    return param is not None and param.vartype in ("bool", "integer", "real", "enum")


# Patroni checks every parameter's value before it writes postgresql.conf
# (patroni/postgresql/validator.py, transform_postgresql_parameter_value): one it cannot read with
# PostgreSQL's units is removed, one out of the parameter's range set to the nearest bound, each
# with a log line
PATRONI_REMOVES = ("Patroni removes it before it writes postgresql.conf (it logs 'Removing ... parameter=... due to "
                   "the invalid value'), so PostgreSQL starts with the default and the setting has no effect")
PATRONI_CLAMPS = ("Patroni sets it to the parameter's nearest bound before it writes postgresql.conf (it logs "
                  "'Value=... of parameter=... is too low, increasing to ...' or 'too big, decreasing to ...'), so "
                  "PostgreSQL starts with that bound instead")
