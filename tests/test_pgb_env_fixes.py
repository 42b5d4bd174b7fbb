"""Every PgBouncer rule's fix, for a PgBouncer configured by the environment variables of its
container image (edoburu/pgbouncer, bitnami/pgbouncer in docker compose), names the variable
(`SERVER_IDLE_TIMEOUT=30 in its environment`), never an ini line (`server_idle_timeout = 30`):
there is no pgbouncer.ini to write it in (audit 17 D8: PGB003's fix was an ini line).

The fixtures below set the variables so that as many PgBouncer rules as possible fire (each
compose file breaks the others' assumptions, so there are several); the test checks that they do
(a rule silenced by a change would otherwise pass unseen) and reads every fix of every PGB rule.
"""

from __future__ import annotations

import re

import pytest

from advisor.catalogs.pgbouncer import BY_NAME
from advisor.engine import make_settings, run
from advisor.rules import RULE_ENTRIES

PGB_CODES = [e.code for e in RULE_ENTRIES if e.code.startswith("PGB")]

# each: (image, environment lines); a db service beside it gives the path rules a server
_EDOBURU = "edoburu/pgbouncer:v1.22.1-p0"
_BITNAMI = "bitnami/pgbouncer:1.22.1"
_SETUPS = {
    # values PgBouncer refuses: unit suffix (PGB003), a word for an int (PGB002), a trailing comment
    # on a number and on a string (PGB002, PGB005), a keepalive Linux refuses (PGB002), TLS on
    # without files (PGB002)
    "edoburu_refused": (_EDOBURU, {
        "DB_HOST": "db", "DB_NAME": "app", "POOL_MODE": "transaction",
        "SERVER_IDLE_TIMEOUT": "30s", "TCP_KEEPALIVE": "on", "QUERY_TIMEOUT": "60 ; one minute",
        "SERVER_CHECK_QUERY": "select 1 ; ping", "TCP_KEEPIDLE": "40000", "TCP_KEEPCNT": "200",
        "CLIENT_TLS_SSLMODE": "require", "AUTH_TYPE": "hba"}),
    # values PgBouncer runs with, that the judging rules report
    "edoburu_judged": (_EDOBURU, {
        "DB_HOST": "db.internal.example", "DB_NAME": "app", "POOL_MODE": "transaction",
        "TCP_KEEPALIVE": "0", "SERVER_TLS_SSLMODE": "prefer", "SERVER_TLS_PROTOCOLS": "all",
        "SERVER_RESET_QUERY": "DISCARD ALL", "CLIENT_IDLE_TIMEOUT": "60", "DEFAULT_POOL_SIZE": "150",
        "MAX_DB_CONNECTIONS": "0", "AUTH_TYPE": "trust"}),
    "bitnami_refused": (_BITNAMI, {
        "POSTGRESQL_HOST": "db", "PGBOUNCER_DATABASE": "app", "PGBOUNCER_POOL_MODE": "transaction",
        "PGBOUNCER_SERVER_IDLE_TIMEOUT": "10min", "PGBOUNCER_TCP_KEEPALIVE": "yes",
        "PGBOUNCER_CLIENT_TLS_SSLMODE": "verify-full", "PGBOUNCER_CLIENT_TLS_KEY_FILE": "/k.pem",
        "PGBOUNCER_CLIENT_TLS_CERT_FILE": "/c.pem", "PGBOUNCER_AUTH_TYPE": "scram-sha-256"}),
    "bitnami_judged": (_BITNAMI, {
        "POSTGRESQL_HOST": "db", "PGBOUNCER_DATABASE": "app", "PGBOUNCER_POOL_MODE": "session",
        "PGBOUNCER_SERVER_IDLE_TIMEOUT": "900", "PGBOUNCER_IDLE_TRANSACTION_TIMEOUT": "0",
        "PGBOUNCER_QUERY_TIMEOUT": "10", "PGBOUNCER_DEFAULT_POOL_SIZE": "150",
        "PGBOUNCER_CLIENT_TLS_SSLMODE": "disable", "PGBOUNCER_AUTH_TYPE": "trust"}),
    # a setting this image's PgBouncer does not know yet (PGB001: its fix removes the variable)
    "bitnami_older": ("bitnami/pgbouncer:1.20.1", {
        "POSTGRESQL_HOST": "db", "PGBOUNCER_DATABASE": "app", "PGBOUNCER_MAX_PREPARED_STATEMENTS": "100"}),
}

# the rules the fixtures must make fire: each a rule whose fix sets or removes a setting
_EXPECTED = {"PGB001", "PGB002", "PGB003", "PGB005", "PGB010", "PGB012", "PGB013", "PGB015", "PGB016", "PGB017",
             "PGB018", "PGB019", "PGB020"}

# `name = value` for a PgBouncer setting: the syntax of an ini line
_INI_LINE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, BY_NAME), key=len, reverse=True)) + r") = ")


def _compose(image: str, env: dict[str, str]) -> str:
    lines = ["services:", "  db:", "    image: postgres:16.4", "    command: [postgres, -c, max_connections=100,",
             "              -c, idle_session_timeout=300s, -c, statement_timeout=30s]",
             "  pgbouncer:", f"    image: {image}", "    environment:"]
    lines += [f'      {key}: "{value}"' for key, value in env.items()]
    lines += ["    ports:", '      - "6432:6432"', ""]
    return "\n".join(lines)


def _findings(tmp_path, name: str):
    image, env = _SETUPS[name]
    folder = tmp_path / name
    folder.mkdir()
    (folder / "docker-compose.yml").write_text(_compose(image, env))
    report = run(make_settings({"paths": [str(folder)], "select": PGB_CODES}, use_config=False))
    return [f for f in report.findings if f.code.startswith("PGB")]


@pytest.fixture(scope="module")
def every_finding(tmp_path_factory):
    base = tmp_path_factory.mktemp("pgb-env")
    return {name: _findings(base, name) for name in _SETUPS}


def test_the_fixtures_make_the_pgbouncer_rules_fire(every_finding):
    fired = {f.code for found in every_finding.values() for f in found}
    assert _EXPECTED <= fired, f"not fired: {sorted(_EXPECTED - fired)}"


@pytest.mark.parametrize("name", sorted(_SETUPS))
def test_no_pgbouncer_fix_is_an_ini_line_for_an_image_configured_by_its_environment(every_finding, name):
    wrong = [f"{f.code} {f.span.file}:{f.span.line}: {f.fix}" for f in every_finding[name]
             if f.fix and f.span.file.endswith("docker-compose.yml") and _INI_LINE.search(f.fix)]
    assert not wrong, "\n".join(wrong)


def test_a_unit_suffix_fix_names_the_variable_of_each_image(every_finding):
    fixes = {(f.code, f.fix) for found in every_finding.values() for f in found}
    assert ("PGB003", "SERVER_IDLE_TIMEOUT=30 in its environment") in fixes
    assert ("PGB003", "PGBOUNCER_SERVER_IDLE_TIMEOUT=600 in its environment") in fixes


def test_a_setting_the_version_does_not_know_is_removed_from_the_environment(every_finding):
    fixes = [f.fix for f in every_finding["bitnami_older"] if f.code == "PGB001"]
    assert fixes and fixes[0].startswith("remove PGBOUNCER_MAX_PREPARED_STATEMENTS from its environment")
