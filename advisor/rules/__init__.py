"""The one list of every rule pgpath has.

Adding a rule: write `advisor/rules/<family>/<code>_<slug>.py` (copy a neighbour), add it to the
list below, and add `tests/rules/<CODE>/` with bad and good cases. A test checks that every rule
module is listed here, that codes and names are unique, and that each has its fixtures and docs.
"""

from __future__ import annotations

from advisor.rules.adv import adv001_syntax_error, adv002_unused_suppression, adv003_include_error
from advisor.rules.app import (
    app001_tls_not_verified,
    app002_client_tls_range_unmet,
    app003_pgjdbc_no_tcp_keepalive,
    app004_pool_no_validation_no_lifetime,
    app005_hikari_lifetime_hop_limit,
    app006_hikari_keepalive_not_below_lifetime,
    app007_sqlalchemy_no_recycle_no_pre_ping,
    app008_django_persistent_no_health_checks,
    app009_client_invalid_value,
    app010_pgx_libpq_keepalive_keys,
    app011_client_keepalive_os_default,
)
from advisor.rules.hap import (
    hap001_missing_timeout,
    hap002_client_server_timeout_mismatch,
    hap003_pg_backend_without_health_check,
    hap004_one_sided_tcp_keepalive,
    hap005_idle_timeout_closes_pg_sessions,
    hap006_unknown_keyword,
    hap007_unknown_timeout,
    hap008_config_error,
    hap009_undecided_condition,
    hap010_haproxy_check,
)
from advisor.rules.mem import mem001_worst_case_memory
from advisor.rules.pg import (
    pg001_unknown_parameter,
    pg002_invalid_value,
    pg003_out_of_range,
    pg010_statement_timeout_in_config,
    pg011_idle_session_timeout_global,
    pg012_rounds_to_zero,
    pg013_keepalives_os_default,
)
from advisor.rules.pgb import (
    pgb001_unknown_key,
    pgb002_invalid_value,
    pgb003_unit_suffix,
    pgb004_section_reset,
    pgb005_inline_comment,
    pgb010_keepalive_disabled,
    pgb011_keepalive_os_default,
    pgb012_idle_session_timeout,
    pgb013_query_timeout,
    pgb014_idle_transaction_timeout,
    pgb015_client_idle_timeout,
    pgb016_pool_size,
    pgb017_client_tls,
    pgb018_server_tls,
    pgb019_tls_protocols,
    pgb020_reset_query_transaction,
)
from advisor.rules.rule import Context, Rule
from advisor.rules.tls import tls001_ssl_off, tls002_tls_version_too_low, tls003_tls_range_empty

ALL_RULES: list[Rule] = [
    # ADV: the tool's own
    adv001_syntax_error.RULE,
    adv002_unused_suppression.RULE,
    adv003_include_error.RULE,
    # PG: PostgreSQL server
    pg001_unknown_parameter.RULE,
    pg002_invalid_value.RULE,
    pg003_out_of_range.RULE,
    pg010_statement_timeout_in_config.RULE,
    pg011_idle_session_timeout_global.RULE,
    pg012_rounds_to_zero.RULE,
    pg013_keepalives_os_default.RULE,
    # TLS
    tls001_ssl_off.RULE,
    tls002_tls_version_too_low.RULE,
    tls003_tls_range_empty.RULE,
    # MEM
    mem001_worst_case_memory.RULE,
    # PGB: PgBouncer
    pgb001_unknown_key.RULE,
    pgb002_invalid_value.RULE,
    pgb003_unit_suffix.RULE,
    pgb004_section_reset.RULE,
    pgb005_inline_comment.RULE,
    pgb010_keepalive_disabled.RULE,
    pgb011_keepalive_os_default.RULE,
    pgb012_idle_session_timeout.RULE,
    pgb013_query_timeout.RULE,
    pgb014_idle_transaction_timeout.RULE,
    pgb015_client_idle_timeout.RULE,
    pgb016_pool_size.RULE,
    pgb017_client_tls.RULE,
    pgb018_server_tls.RULE,
    pgb019_tls_protocols.RULE,
    pgb020_reset_query_transaction.RULE,
    # HAP: HAProxy
    hap001_missing_timeout.RULE,
    hap002_client_server_timeout_mismatch.RULE,
    hap003_pg_backend_without_health_check.RULE,
    hap004_one_sided_tcp_keepalive.RULE,
    hap005_idle_timeout_closes_pg_sessions.RULE,
    hap006_unknown_keyword.RULE,
    hap007_unknown_timeout.RULE,
    hap008_config_error.RULE,
    hap009_undecided_condition.RULE,
    hap010_haproxy_check.RULE,
    # APP: client drivers and pools
    app001_tls_not_verified.RULE,
    app002_client_tls_range_unmet.RULE,
    app003_pgjdbc_no_tcp_keepalive.RULE,
    app004_pool_no_validation_no_lifetime.RULE,
    app005_hikari_lifetime_hop_limit.RULE,
    app006_hikari_keepalive_not_below_lifetime.RULE,
    app007_sqlalchemy_no_recycle_no_pre_ping.RULE,
    app008_django_persistent_no_health_checks.RULE,
    app009_client_invalid_value.RULE,
    app010_pgx_libpq_keepalive_keys.RULE,
    app011_client_keepalive_os_default.RULE,
]

# Codes of renamed or merged rules -> the code that replaced them (codes are never reused).
REDIRECTS: dict[str, str] = {}


def find_rule(code_or_name: str) -> Rule | None:
    """A rule by code (`PG001`, any case) or name (`unknown-parameter`)."""
    key = code_or_name.strip()
    key = REDIRECTS.get(key.upper(), key)
    for rule in ALL_RULES:
        if rule.code.lower() == key.lower() or rule.name == key.lower():
            return rule
    return None


__all__ = ["ALL_RULES", "REDIRECTS", "Context", "Rule", "find_rule"]
