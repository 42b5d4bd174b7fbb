"""Rails config/database.yml as clients (advisor.loaders.clients.rails): environments, YAML merge
keys, url: precedence, ERB defaults read (never run), the pool plan and prepared statements as
activerecord 7.1-8.0 has them, development environments held back. audit16 s02 stays healthy."""

from __future__ import annotations

import math
import shutil
import textwrap
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from advisor.loaders import detect_kind
from advisor.loaders.client import load
from advisor.model import Unknown

S02 = Path("/work/audit16/s02")


def write(tmp_path: Path, text: str, name: str = "config/database.yml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def by_name(path: Path):
    doc = load(str(path))
    assert doc.meta["format"] == "rails"
    return doc, {ep.name: ep for ep in doc.model.endpoints}


DEFAULTS = """
    default: &default
      adapter: postgresql
      encoding: unicode
      pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>
      connect_timeout: 5
      variables:
        statement_timeout: 15000

    development:
      <<: *default
      database: shop_development
      host: localhost

    test:
      <<: *default
      database: shop_test

    production:
      <<: *default
      host: <%= ENV.fetch("DB_HOST", "pgbouncer.internal") %>
      port: 6432
      database: shop
      username: shop
      password: <%= ENV["SHOP_PASSWORD"] %>
      keepalives_idle: 60
      sslmode: verify-full
      idle_timeout: 600
      prepared_statements: false
    """


def test_environments_merge_the_default_section(tmp_path):
    doc, eps = by_name(write(tmp_path, DEFAULTS))
    assert list(eps) == ["development", "test", "production"]  # `default`, merged by the others, is none
    prod = eps["production"]
    assert prod.driver == "rails" and prod.form == "rails"
    assert (prod.hosts[0].value, prod.hosts[0].assumed) == ("pgbouncer.internal", "DB_HOST")
    line = (tmp_path / "config/database.yml").read_text().split("\n")[prod.hosts[0].span.line - 1]
    assert line[prod.hosts[0].span.col - 1:prod.hosts[0].span.end_col - 1] == "pgbouncer.internal"
    assert [p.value for p in prod.ports] == ["6432"] and prod.dbname.value == "shop" and prod.user.value == "shop"
    assert isinstance(prod.password.value, Unknown) and prod.password.display == "***"
    assert prod.keepalive.idle.value == 60 and prod.sslmode.value == "verify-full"
    assert prod.connect_timeout.value == 5  # from the merged default section
    assert prod.pool.library == "rails" and prod.pool.max_idle.value == 600.0
    assert (prod.pool.size.value, prod.pool.size.assumed) == (5, "RAILS_MAX_THREADS")
    assert prod.pool.validation.value is True and prod.pool.idle_bound() == 660.0  # + reaping_frequency 60
    assert prod.prepares is None  # prepared_statements: false
    st = prod.session_setting("statement_timeout")  # `variables:`: SET SESSION after connecting
    assert (st.value, st.key) == ("15000", "variables") and "options" not in prod.params
    dev = eps["development"]
    assert dev.pool.max_idle.value == 300.0 and dev.pool.max_idle.origin == "default"
    assert dev.pool.idle_bound() == 360.0
    assert dev.prepares.first == 1 and dev.prepares.name == "a1"
    assert dev.sslmode.value == "prefer" and dev.sslmode.origin == "default"  # libpq's
    held = doc.meta["development_sections"]
    assert [(h["from"], h["reason"].split(" (")[0]) for h in held] == [
        (9, "its Rails environment 'development'"), (14, "its Rails environment 'test'")]


def test_url_values_win_over_the_section_and_carry_configuration_keys(tmp_path):
    _, eps = by_name(write(tmp_path, """
        production:
          adapter: postgresql
          host: ignored.internal
          database: ignored
          sslmode: disable
          url: postgres://app@pgbouncer.internal:6432/shop?sslmode=require&prepared_statements=false&pool=20
        """))
    ep = eps["production"]
    assert ep.hosts[0].value == "pgbouncer.internal" and ep.dbname.value == "shop"
    assert ep.sslmode.value == "require"
    assert ep.pool.size.value == 20 and ep.prepares is None


def test_an_erb_url_default_is_assumed_and_a_bare_one_is_unknown(tmp_path):
    _, eps = by_name(write(tmp_path, """
        staging:
          adapter: postgresql
          url: <%= ENV.fetch("DATABASE_URL") { "postgres://app@lb.internal:5000/shop" } %>
        production:
          adapter: postgresql
          pool: <%= ENV["RAILS_MAX_THREADS"] || 8 %>
          url: <%= ENV["DATABASE_URL"] %>
        """))
    staging = eps["staging"]
    assert (staging.hosts[0].value, staging.hosts[0].assumed) == ("lb.internal", "DATABASE_URL")
    assert staging.label() == "staging (rails; assumed: the default of DATABASE_URL)"
    prod = eps["production"]
    assert prod.form == "unknown" and isinstance(prod.hosts[0].value, Unknown)
    assert prod.pool.size.value == 8 and prod.prepares.first == 1  # still read from the file


def test_three_tier_files_and_other_adapters(tmp_path):
    _, eps = by_name(write(tmp_path, """
        production:
          primary:
            adapter: postgresql
            host: db.internal
            database: shop
          cache:
            adapter: redis
            url: redis://cache.internal
          legacy:
            adapter: mysql2
            host: mysql.internal
        """))
    assert list(eps) == ["production.primary"]


@pytest.mark.parametrize("written, expected", [("0", math.inf), ("120", 120.0), ('"90"', 90.0)])
def test_idle_timeout_as_ruby_reads_it(tmp_path, written, expected):
    _, eps = by_name(write(tmp_path, f"""
        production:
          adapter: postgresql
          host: db.internal
          idle_timeout: {written}
        """))
    pool = eps["production"].pool
    assert pool.max_idle.value == expected
    assert pool.idle_bound() == (None if math.isinf(expected) else expected + 60.0)


def test_no_reaper_and_min_connections_bound_nothing(tmp_path):
    _, eps = by_name(write(tmp_path, """
        a:
          adapter: postgresql
          host: db.internal
          reaping_frequency: 0
        b:
          adapter: postgresql
          host: db.internal
          min_connections: 2
        """))
    assert eps["a"].pool.idle_bound() is None and eps["b"].pool.idle_bound() is None


def test_detection_by_name_and_adapter(tmp_path):
    pg = write(tmp_path, "production:\n  adapter: postgresql\n  database: x\n")
    assert detect_kind(str(pg), pg.read_text()) == "client"
    my = write(tmp_path / "m", "production:\n  adapter: mysql2\n  database: x\n")
    assert detect_kind(str(my), my.read_text()) is None
    other = write(tmp_path / "o", "production:\n  adapter: postgresql\n", name="settings.yml")
    assert detect_kind(str(other), other.read_text()) is None  # only database.yml is Rails'


def test_bad_yaml_is_a_syntax_error_not_a_crash(tmp_path):
    doc = load(str(write(tmp_path, "production:\n  adapter: postgresql\n  host: [\n")))
    assert [d.kind for d in doc.diagnostics] == ["syntax-error"]


@pytest.mark.skipif(not S02.is_dir(), reason="audit16 s02 not on this machine")
def test_audit16_s02_stays_healthy(tmp_path):
    """The Rails app of s02 (database.yml now read): 0 findings, the development and test entries
    held back, with and without its topology."""
    for copy in ("with", "without"):
        root = tmp_path / copy
        shutil.copytree(S02, root)
        if copy == "without":
            (root / "pgpath.yaml").unlink()
        config = root / "pgpath.yaml"
        result = run(make_settings({"paths": [str(root)]}, config_path=str(config) if config.exists() else None,
                                   use_config=config.exists()))
        assert [f for f in result.findings if f.severity.value in ("error", "warning")] == []
        assert result.findings == []
        assert any(doc.meta.get("format") == "rails" for doc in result.docs)
        assert {p.name for p in result.paths} >= ({"orders-web", "orders-sidekiq"} if copy == "with" else set())


def test_info_on_a_development_environment_is_held_back(tmp_path):
    """APP001's info on the development entry (sslmode prefer to a network host) is held back as
    a development section's; the same entry under production is reported."""
    text = """
        development:
          adapter: postgresql
          host: db.dev.example.com
          database: shop_development
        production:
          adapter: postgresql
          host: db.example.com
          database: shop
        """
    path = write(tmp_path, text)
    result = run(make_settings({"paths": [str(tmp_path)], "select": ["APP001"]}, use_config=False))
    lines = sorted(f.span.line for f in result.findings if f.code == "APP001")
    assert lines and all(line > 4 for line in lines), lines  # only production's
    assert path.exists()


def test_passwords_never_printed_and_app013_fix_in_rails_terms(tmp_path):
    """A literal password, one inside url:, and an ERB default: APP013 on each, never printed."""
    write(tmp_path, """
        production:
          adapter: postgresql
          host: db.shop-internal.net
          password: Sup3rS3cretPw9
          url: postgres://app:An0therPw77@db.shop-internal.net/shop
        staging:
          adapter: postgresql
          password: <%= ENV.fetch("PW") { "Def4ultPw11" } %>
          host: db.shop-internal.net
        """)
    import subprocess
    import sys

    for args in (["check"], ["check", "--format", "json"], ["dump", str(tmp_path / "config/database.yml")]):
        out = subprocess.run([sys.executable, "-m", "advisor", *args] + ([str(tmp_path)] if args[0] == "check" else []),
                             capture_output=True, text=True, cwd=str(tmp_path))
        text = out.stdout + out.stderr
        assert "database.yml" in text
        for secret in ("Sup3rS3cretPw9", "An0therPw77", "Def4ultPw11"):
            assert secret not in text
    result = run(make_settings({"paths": [str(tmp_path)], "select": ["APP013"]}, use_config=False))
    fixes = sorted(f.fix for f in result.findings)
    assert len(fixes) == 2
    assert 'read PW with no default (<%= ENV["PW"] %>)' in fixes[0]
    assert 'write <%= ENV["DATABASE_PASSWORD"] %> as the password under production' in fixes[1]


def test_a_declared_hop_takes_production_unless_variable_names_an_environment(tmp_path):
    """`client: {file: config/database.yml}` is the production environment (not development's
    localhost); `variable: staging` picks that one; a three-tier environment gives its databases."""
    write(tmp_path, """
        development:
          adapter: postgresql
          host: localhost
        staging:
          adapter: postgresql
          host: pgbouncer-staging.internal
        production:
          primary:
            adapter: postgresql
            host: pgbouncer.internal
          replica:
            adapter: postgresql
            host: replica.internal
        """)
    from advisor.path.topology import rails_environment

    _, eps = by_name(tmp_path / "config/database.yml")
    every = list(eps.values())
    assert [ep.name for ep in rails_environment(every, None)] == ["production.primary", "production.replica"]
    assert rails_environment(every, "staging") == every  # the name filter follows
    (tmp_path / "pgpath.yaml").write_text(textwrap.dedent("""
        deployments:
          - name: shop
            hops:
              - client: {file: config/database.yml}
              - postgres: {version: 16}
          - name: shop-staging
            hops:
              - client: {file: config/database.yml, variable: staging}
              - postgres: {version: 16}
        """))
    result = run(make_settings({"paths": [str(tmp_path)]}, config_path=str(tmp_path / "pgpath.yaml")))
    clients = sorted(h.detail.name for p in result.paths for _, h in p.hops_of("client"))
    assert clients == ["production.primary", "production.replica", "staging"]
