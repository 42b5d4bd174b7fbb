"""The one list of every rule pgpath has, as plain entries that import no rule module.

Adding a rule: write `advisor/rules/<family>/<code>_<slug>.py` (copy a neighbour), add its entry
to `RULE_ENTRIES` below, and add `tests/rules/<CODE>/` with bad and good cases. An entry repeats
the rule's code, name and `needs` (the document kinds it reads, as in its `RULE`; it runs only
when all of them were loaded; empty: on every check), names its module (relative to
`advisor.rules`), and lists in `reports` the loader diagnostic kinds it hands to
`report_diagnostics` when that is all its check does (empty for a rule that checks something
itself). A test checks that every rule module is listed here and agrees with its entry, that
codes and names are unique, and that each has its fixtures and docs.

The entries are plain data so that `pgpath check` imports only the rules that can find
something: --select and --ignore are resolved without importing any rule, and a rule's module
is imported when the documents it needs were loaded and, for a rule that reports diagnostics,
one of its kinds was found.
"""

from __future__ import annotations

import importlib

from advisor.model import Record
from advisor.rules.rule import Context, Rule


class RuleEntry(Record):
    """A rule as listed: what the engine needs to know before importing the rule's module."""

    __slots__ = ("code", "name", "module", "needs", "reports", "opt_in")

    def __init__(self, code: str, name: str, module: str, needs: tuple[str, ...], reports: tuple[str, ...],
                 opt_in: bool = False) -> None:
        self.code = code
        self.name = name
        self.module = module  # relative to advisor.rules: "pg.pg001_unknown_parameter"
        # document kinds the rule reads, all loaded for it to run; empty: every run; "a|b": a or b
        self.needs = needs
        self.reports = reports  # diagnostic kinds it only reports; empty: it checks something
        self.opt_in = opt_in  # runs only when selected by its code or name (as its RULE says)


RULE_ENTRIES: list[RuleEntry] = [
    # ADV: the tool's own
    RuleEntry("ADV001", "syntax-error", "adv.adv001_syntax_error", (), ("syntax-error",)),
    RuleEntry("ADV002", "unused-suppression", "adv.adv002_unused_suppression", (), ()),
    RuleEntry("ADV003", "include-error", "adv.adv003_include_error", (), ("include-error",)),
    RuleEntry("ADV004", "topology-error", "adv.adv004_topology_error", (), ()),
    RuleEntry("ADV005", "bad-directive", "adv.adv005_bad_directive", (), ("bad-directive",)),
    # PG: PostgreSQL server
    RuleEntry("PG001", "unknown-parameter", "pg.pg001_unknown_parameter", (), ("unknown-parameter",)),
    RuleEntry("PG002", "invalid-value", "pg.pg002_invalid_value", (), ("invalid-value",)),
    RuleEntry("PG003", "out-of-range", "pg.pg003_out_of_range", (), ("out-of-range",)),
    RuleEntry("PG004", "startup-conflict", "pg.pg004_startup_conflict", ("postgresql|sql",), ()),
    RuleEntry("PG010", "statement-timeout-in-config", "pg.pg010_statement_timeout_in_config", ("postgresql",), (),
              opt_in=True),
    RuleEntry("PG011", "idle-session-timeout-global", "pg.pg011_idle_session_timeout_global", ("postgresql",), ()),
    RuleEntry("PG012", "rounds-to-zero", "pg.pg012_rounds_to_zero", ("postgresql",), ()),
    RuleEntry("PG014", "patroni-local-dcs-parameter", "pg.pg014_patroni_local_dcs_parameter", ("postgresql",), ()),
    # TLS
    RuleEntry("TLS001", "ssl-off", "tls.tls001_ssl_off", ("postgresql",), ()),
    RuleEntry("TLS002", "tls-version-too-low", "tls.tls002_tls_version_too_low", ("postgresql",), ()),
    RuleEntry("TLS003", "tls-range-empty", "tls.tls003_tls_range_empty", ("postgresql",), ()),
    RuleEntry("TLS010", "certificate-expired", "tls.tls010_certificate_expired", ("certificate",), ()),
    RuleEntry("TLS011", "key-certificate-mismatch", "tls.tls011_key_certificate_mismatch", ("certificate",), ()),
    RuleEntry("TLS012", "server-certificate-untrusted", "tls.tls012_server_certificate_untrusted", ("certificate",),
              ()),
    RuleEntry("TLS013", "ca-file-not-ca", "tls.tls013_ca_file_not_ca", ("certificate",), ()),
    RuleEntry("TLS014", "certificate-invalid", "tls.tls014_certificate_invalid", ("certificate",),
              ("certificate-invalid",)),
    # MEM
    RuleEntry("MEM001", "worst-case-memory", "mem.mem001_worst_case_memory", ("postgresql",), ()),
    # SYS: the host (sysctl, systemd, container limits)
    RuleEntry("SYS001", "sysctl-invalid-value", "sys.sys001_sysctl_invalid_value", ("sysctl",),
              ("sysctl-invalid-value",)),
    RuleEntry("SYS002", "overcommit-not-strict", "sys.sys002_overcommit_not_strict", ("sysctl", "postgresql"), ()),
    RuleEntry("SYS003", "postmaster-oom-unprotected", "sys.sys003_postmaster_oom_unprotected", ("systemd",), ()),
    RuleEntry("SYS004", "systemd-invalid-value", "sys.sys004_systemd_invalid_value", ("systemd",),
              ("systemd-invalid-value",)),
    RuleEntry("SYS005", "overcommit-ratio-default", "sys.sys005_overcommit_ratio_default", ("postgresql",), ()),
    RuleEntry("SYS006", "sysctl-not-applied", "sys.sys006_sysctl_not_applied", ("sysctl",),
              ("sysctl-not-applied",)),
    # PGB: PgBouncer
    RuleEntry("PGB001", "pgbouncer-unknown-key", "pgb.pgb001_unknown_key", ("pgbouncer",), ("pgbouncer-unknown-key",)),
    RuleEntry("PGB002", "pgbouncer-invalid-value",
              "pgb.pgb002_invalid_value", ("pgbouncer",), ("pgbouncer-invalid-value",)),
    RuleEntry("PGB003", "pgbouncer-unit-suffix", "pgb.pgb003_unit_suffix", ("pgbouncer",), ("pgbouncer-unit-suffix",)),
    RuleEntry("PGB004", "pgbouncer-section-reset",
              "pgb.pgb004_section_reset", ("pgbouncer",), ("pgbouncer-section-reset",)),
    RuleEntry("PGB005", "pgbouncer-inline-comment",
              "pgb.pgb005_inline_comment", ("pgbouncer",), ("pgbouncer-inline-comment",)),
    RuleEntry("PGB006", "pgbouncer-hba-file-missing", "pgb.pgb006_hba_file", ("pgbouncer",), ("pgbouncer-hba-file",)),
    RuleEntry("PGB010", "pgbouncer-keepalive-disabled", "pgb.pgb010_keepalive_disabled", ("pgbouncer",), ()),
    RuleEntry("PGB012", "pgbouncer-idle-session-timeout",
              "pgb.pgb012_idle_session_timeout", ("pgbouncer", "postgresql"), ()),
    RuleEntry("PGB013", "pgbouncer-query-timeout", "pgb.pgb013_query_timeout", ("pgbouncer", "postgresql"), ()),
    RuleEntry("PGB014", "pgbouncer-idle-transaction-timeout",
              "pgb.pgb014_idle_transaction_timeout", ("pgbouncer",), ()),
    RuleEntry("PGB015", "pgbouncer-client-idle-timeout", "pgb.pgb015_client_idle_timeout", ("pgbouncer",), ()),
    RuleEntry("PGB016", "pgbouncer-pool-exceeds-max-connections",
              "pgb.pgb016_pool_size", ("pgbouncer", "postgresql"), ()),
    RuleEntry("PGB017", "pgbouncer-client-tls-not-required", "pgb.pgb017_client_tls", ("pgbouncer",), ()),
    RuleEntry("PGB018", "pgbouncer-server-tls-not-required", "pgb.pgb018_server_tls", ("pgbouncer",), ()),
    RuleEntry("PGB019", "pgbouncer-tls-legacy-protocols", "pgb.pgb019_tls_protocols", ("pgbouncer",), ()),
    RuleEntry("PGB020", "pgbouncer-reset-query-ignored", "pgb.pgb020_reset_query_transaction", ("pgbouncer",), ()),
    RuleEntry("PGB022", "pgbouncer-auth-file-secret-refused", "pgb.pgb022_auth_file_secret", ("pgbouncer",), ()),
    RuleEntry("PGB023", "pgbouncer-mounted-config-replaced", "pgb.pgb023_mounted_config_replaced", ("pgbouncer",),
              ("pgbouncer-config-replaced",)),
    # HAP: HAProxy
    RuleEntry("HAP001", "haproxy-missing-timeout", "hap.hap001_missing_timeout", ("haproxy",), ()),
    RuleEntry("HAP002", "haproxy-client-server-timeout-mismatch",
              "hap.hap002_client_server_timeout_mismatch", ("haproxy",), ()),
    RuleEntry("HAP003", "haproxy-pg-backend-without-health-check",
              "hap.hap003_pg_backend_without_health_check", ("haproxy",), ()),
    RuleEntry("HAP004", "haproxy-one-sided-tcp-keepalive", "hap.hap004_one_sided_tcp_keepalive", ("haproxy",), ()),
    RuleEntry("HAP005", "haproxy-idle-timeout-closes-pg-sessions",
              "hap.hap005_idle_timeout_closes_pg_sessions", ("haproxy",), ()),
    RuleEntry("HAP006", "haproxy-unknown-keyword",
              "hap.hap006_unknown_keyword", ("haproxy",), ("haproxy-unknown-keyword",)),
    RuleEntry("HAP007", "haproxy-unknown-timeout",
              "hap.hap007_unknown_timeout", ("haproxy",), ("haproxy-unknown-timeout",)),
    RuleEntry("HAP008", "haproxy-config-error", "hap.hap008_config_error", ("haproxy",), ("haproxy-config-error",)),
    RuleEntry("HAP009", "haproxy-undecided-condition",
              "hap.hap009_undecided_condition", ("haproxy",), ("haproxy-undecided-condition",)),
    RuleEntry("HAP010", "haproxy-check", "hap.hap010_haproxy_check", ("haproxy",), ("haproxy-check",)),
    RuleEntry("HAP011", "haproxy-server-name-resolved-once", "hap.hap011_server_name_resolved_once", ("haproxy",), ()),
    RuleEntry("HAP012", "haproxy-bind-vip-without-nonlocal-bind", "hap.hap012_bind_vip_without_nonlocal_bind",
              ("haproxy", "keepalived"), ()),
    RuleEntry("HAP013", "haproxy-tls-breaks-postgres-negotiation", "hap.hap013_tls_breaks_postgres_negotiation",
              ("haproxy",), ()),
    # APP: client drivers and pools
    RuleEntry("APP001", "client-tls-not-verified", "app.app001_tls_not_verified", ("client",), ()),
    RuleEntry("APP002", "client-tls-range-unmet", "app.app002_client_tls_range_unmet", ("path",), ()),
    RuleEntry("APP003", "pgjdbc-no-tcp-keepalive", "app.app003_pgjdbc_no_tcp_keepalive", ("client",), ()),
    RuleEntry("APP004", "pool-no-validation-no-lifetime", "app.app004_pool_no_validation_no_lifetime", ("client",), ()),
    RuleEntry("APP006", "hikari-keepalive-not-below-lifetime",
              "app.app006_hikari_keepalive_not_below_lifetime", ("client",), ()),
    RuleEntry("APP007", "sqlalchemy-no-recycle-no-pre-ping",
              "app.app007_sqlalchemy_no_recycle_no_pre_ping", ("client",), ()),
    RuleEntry("APP008", "django-persistent-no-health-checks",
              "app.app008_django_persistent_no_health_checks", ("client",), ()),
    RuleEntry("APP009", "client-invalid-value",
              "app.app009_client_invalid_value", ("client",), ("client-invalid-value",)),
    RuleEntry("APP010", "pgx-libpq-keepalive-keys", "app.app010_pgx_libpq_keepalive_keys", ("client",), ()),
    RuleEntry("APP012", "asyncpg-url-query-keys", "app.app012_asyncpg_url_query_keys", ("client",), ()),
    RuleEntry("APP013", "password-in-file", "app.app013_password_in_file", ("client",), ()),
    # CLD: cloud load balancers, NAT gateways, RDS Proxy and managed PostgreSQL
    RuleEntry("CLD001", "cloud-invalid-field", "cld.cld001_invalid_field", (), ("cloud-invalid-field",)),
    RuleEntry("CLD002", "rds-proxy-tls-not-required", "cld.cld002_rds_proxy_tls_not_required",
              ("cloud|terraform",), ()),
    RuleEntry("CLD003", "managed-ssl-not-forced", "cld.cld003_managed_ssl_not_forced", ("postgresql",), ()),
    RuleEntry("CLD004", "azure-lb-no-tcp-reset", "cld.cld004_azure_lb_no_tcp_reset", ("cloud|terraform",), ()),
    RuleEntry("CLD005", "load-balancer-open-to-internet", "cld.cld005_load_balancer_open_to_internet",
              ("kubernetes",), ()),
    RuleEntry("CLD006", "static-parameter-applied-immediately", "cld.cld006_static_parameter_applied_immediately",
              ("postgresql", "terraform"), ()),
]

# PATH: rules on an assembled connection path (advisor.path)
RULE_ENTRIES += [
    RuleEntry("PATH001", "keepalive-over-middlebox-timeout", "path.path001_keepalive_over_middlebox_timeout",
              ("path",), ()),
    RuleEntry("PATH002", "pool-outlives-idle-timeout", "path.path002_pool_outlives_idle_timeout", ("path",), ()),
    RuleEntry("PATH003", "statement-timeout-over-proxy-timeout", "path.path003_statement_timeout_over_proxy_timeout",
              ("path",), ()),
    RuleEntry("PATH004", "tls-between-hops", "path.path004_tls_between_hops", ("path",), ()),
    RuleEntry("PATH005", "connection-budget", "path.path005_connection_budget", ("path",), ()),
    RuleEntry("PATH006", "prepared-statements-transaction-pool",
              "path.path006_prepared_statements_transaction_pool", ("path",), ()),
    RuleEntry("PATH007", "startup-parameters-through-pgbouncer",
              "path.path007_startup_parameters_through_pgbouncer", ("path",), ()),
    RuleEntry("PATH008", "transactions-through-statement-pooling",
              "path.path008_transactions_through_statement_pooling", ("path",), ()),
    RuleEntry("PATH009", "loopback-listener-behind-middlebox", "path.path009_loopback_listener_behind_middlebox",
              ("path",), ()),
]

# Codes of renamed or merged rules -> the code that replaced them (codes are never reused).
REDIRECTS: dict[str, str] = {
    # hikari-lifetime-over-hop-limit: now every pool library against every timer on its own path
    "APP005": "PATH002",
    # keepalives at the OS default, judged per file against a 350 s that no file showed: now
    # reported where a middlebox on the path shows the harm
    "PG013": "PATH001",
    "PGB011": "PATH001",
    "APP011": "PATH001",
    # session pooling against max_client_conn, judged per file against clients no file showed: now
    # reported where the clients' pools and replicas are read (PATH005)
    "PGB021": "PATH005",
}

_loaded: dict[str, Rule] = {}


def needs_met(needs: tuple[str, ...], kinds) -> bool:
    """Whether documents of `kinds` satisfy a rule's `needs`: every entry, where `cloud|terraform`
    is met by either kind (middleboxes come from cloud JSON and from Terraform)."""
    return all(any(k in kinds for k in need.split("|")) for need in needs)


def load_rule(entry: RuleEntry) -> Rule:
    """The rule of an entry, importing its module the first time."""
    rule = _loaded.get(entry.code)
    if rule is None:
        rule = _loaded[entry.code] = importlib.import_module(f"advisor.rules.{entry.module}").RULE
    return rule


def all_rules() -> list[Rule]:
    """Every rule, in list order (imports every rule module: for `pgpath rules`, docs and tests)."""
    return [load_rule(entry) for entry in RULE_ENTRIES]


def find_entry(code_or_name: str) -> RuleEntry | None:
    """The entry of a rule by code (`PG001`, any case) or name (`unknown-parameter`); imports no rule."""
    key = code_or_name.strip()
    key = REDIRECTS.get(key.upper(), key).lower()
    for entry in RULE_ENTRIES:
        if entry.code.lower() == key or entry.name == key:
            return entry
    return None


def find_rule(code_or_name: str) -> Rule | None:
    """A rule by code (`PG001`, any case) or name (`unknown-parameter`); imports only that rule."""
    entry = find_entry(code_or_name)
    return None if entry is None else load_rule(entry)


__all__ = ["REDIRECTS", "RULE_ENTRIES", "Context", "Rule", "RuleEntry", "all_rules", "find_entry", "find_rule",
           "load_rule", "needs_met"]
