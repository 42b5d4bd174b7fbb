"""The Active Record a Rails application locks (advisor.loaders.clients.gemlock: its Gemfile.lock)
and the pool plan of that release (advisor.loaders.clients.rails), said with the lockfile's line in
PATH002's messages. Facts: rails/rails at v7.0.8, v8.0.4 and v8.1.0 (hash_config.rb,
connection_pool.rb and its reaper, abstract_adapter.rb)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from advisor.loaders.client import load
from advisor.loaders.clients.gemlock import locked, rails_version

# `bundle lock` of `rails new shop -d postgresql` (trimmed to the gems around Active Record; the
# layout, indentation and sections are Bundler's)
LOCK = """\
GEM
  remote: https://rubygems.org/
  specs:
    actioncable (VER)
      actionpack (= VER)
      activesupport (= VER)
      nio4r (~> 2.0)
      websocket-driver (>= 0.6.1)
      zeitwerk (~> 2.6)
    actionpack (VER)
      actionview (= VER)
      activesupport (= VER)
      nokogiri (>= 1.8.5)
      rack (>= 2.2.4)
      rack-session (>= 1.0.1)
      rack-test (>= 0.6.3)
      rails-dom-testing (~> 2.2)
      rails-html-sanitizer (~> 1.6)
      useragent (~> 0.16)
    actionview (VER)
      activesupport (= VER)
      builder (~> 3.1)
      erubi (~> 1.11)
      rails-dom-testing (~> 2.2)
      rails-html-sanitizer (~> 1.6)
    activemodel (VER)
      activesupport (= VER)
    activerecord (VER)
      activemodel (= VER)
      activesupport (= VER)
      timeout (>= 0.4.0)
    activesupport (VER)
      base64
      bigdecimal
      concurrent-ruby (~> 1.0, >= 1.3.1)
      connection_pool (>= 2.2.5)
      drb
      i18n (>= 1.6, < 2)
      logger (>= 1.4.2)
      minitest (>= 5.1)
      securerandom (>= 0.3)
      tzinfo (~> 2.0, >= 2.0.5)
    bootsnap (1.18.6)
      msgpack (~> 1.2)
    nokogiri (1.18.10-x86_64-linux-gnu)
      racc (~> 1.4)
    pg (1.6.2)
    pg (1.6.2-x86_64-linux)
    puma (7.1.0)
      nio4r (~> 2.0)
    rails (VER)
      actioncable (= VER)
      actionpack (= VER)
      actionview (= VER)
      activemodel (= VER)
      activerecord (= VER)
      activesupport (= VER)
      bundler (>= 1.15.0)
      railties (= VER)
    railties (VER)
      actionpack (= VER)
      activesupport (= VER)
      irb (~> 1.13)
      rackup (>= 1.0.0)
      rake (>= 12.2)
      thor (~> 1.0, >= 1.2.2)
      zeitwerk (~> 2.6)

PLATFORMS
  ruby
  x86_64-linux

DEPENDENCIES
  bootsnap
  pg (~> 1.1)
  puma (>= 5.0)
  rails (~> VER)

BUNDLED WITH
   2.7.2
"""
ACTIVERECORD_LINE = LOCK.splitlines().index("    activerecord (VER)") + 1  # 28

# Rails from its repository (`gem "rails", github: "rails/rails", branch: "main"`): the specs are
# under GIT, with a pre-release version
LOCK_GIT_MAIN = """\
GIT
  remote: https://github.com/rails/rails.git
  revision: 2a2db1e8d6d104ee0611efcae7eb023af65cff34
  branch: main
  specs:
    activemodel (8.2.0.alpha)
      activesupport (= 8.2.0.alpha)
    activerecord (8.2.0.alpha)
      activemodel (= 8.2.0.alpha)
      activesupport (= 8.2.0.alpha)
      timeout (>= 0.4.0)
    rails (8.2.0.alpha)
      activerecord (= 8.2.0.alpha)

GEM
  remote: https://rubygems.org/
  specs:
    pg (1.6.2)

PLATFORMS
  ruby

DEPENDENCIES
  pg
  rails!

BUNDLED WITH
   2.7.2
"""


def app(tmp_path: Path, database_yml: str, version: str | None, lock: str = LOCK) -> Path:
    """A Rails application: config/database.yml, and Gemfile.lock at its root locking `version`."""
    (tmp_path / "config").mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config" / "database.yml"
    path.write_text(textwrap.dedent(database_yml).lstrip("\n"))
    if version is not None:
        (tmp_path / "Gemfile.lock").write_text(lock.replace("VER", version))
    return path


def pool_of(path: Path, env: str = "production"):
    doc = load(str(path))
    [ep] = [e for e in doc.model.endpoints if e.name == env]
    return doc, ep.pool


def test_the_activerecord_spec_decides_not_the_dependency_requirement():
    assert locked(LOCK.replace("VER", "8.1.1")) == ("activerecord", "8.1.1", ACTIVERECORD_LINE)
    assert locked(LOCK_GIT_MAIN) == ("activerecord", "8.2.0.alpha", 8)
    # a lockfile with only the rails spec (activerecord's line removed) takes rails', at its line
    only_rails = "\n".join(line for line in LOCK.replace("VER", "7.2.2").splitlines()
                           if not line.startswith("    activerecord ("))
    assert locked(only_rails) == ("rails", "7.2.2", only_rails.splitlines().index("    rails (7.2.2)") + 1)
    # only DEPENDENCIES (`rails (~> 8.0)`, a requirement) and gems' own requirements: no version
    assert locked("DEPENDENCIES\n  rails (~> 8.0)\n\nGEM\n  specs:\n    foo (1.0)\n      activerecord (>= 7.0)\n") is None


def test_the_lockfile_is_found_above_config_and_said_with_its_line(tmp_path):
    path = app(tmp_path, "production:\n  adapter: postgresql\n", "8.1.1")
    found = rails_version(str(path))
    assert (found.version, found.gem, found.line) == ("8.1.1", "activerecord", ACTIVERECORD_LINE)
    assert found.said() == f"activerecord 8.1.1 ({tmp_path / 'Gemfile.lock'}:{ACTIVERECORD_LINE})"
    assert found.at_least(8, 1) is True and found.at_least(8, 2) is False
    missing = rails_version(str(app(tmp_path / "other", "production:\n  adapter: postgresql\n", None)))
    assert missing.version == "" and missing.at_least(7, 1) is None
    assert missing.said() == "activerecord of no known version (no Gemfile.lock found at or above the file)"


PLAN = """
    production:
      adapter: postgresql
      host: db.internal
      pool: 10
      max_connections: 20
      min_connections: 2
      max_age: 1800
      keepalive: 240
    """


def test_rails_8_1_reads_its_new_keys_and_reaps_every_20_s_by_default(tmp_path):
    doc, pool = pool_of(app(tmp_path, PLAN, "8.1.1"))
    assert doc.meta["activerecord"]["version"] == "8.1.1"
    assert pool.size.value == 20 and pool.size.key == "max_connections"  # max_connections before pool
    assert pool.min_size.value == 2
    assert pool.max_lifetime.value == 1800 and pool.keepalive_time.value == 240.0
    # reaping_frequency not written: min(20, idle_timeout 300, max_age 1800, keepalive 240)
    assert pool.health_check_period.value == 20.0 and pool.health_check_period.origin == "default"
    assert pool.keepalive_every() == 260.0  # the reaper pings a connection idle 240 s at its next round
    assert pool.idle_bound() == 1820.0  # max_age retires min_connections ones too
    assert "before its first query after each checkout" in pool.validation_note


def test_rails_8_1_defaults_and_what_turns_them_off(tmp_path):
    _, pool = pool_of(app(tmp_path, "production:\n  adapter: postgresql\n  host: db.internal\n", "8.1.1"))
    assert pool.keepalive_time.value == 600.0 and pool.keepalive_time.origin == "default"
    assert math.isinf(pool.max_lifetime.value) and pool.health_check_period.value == 20.0
    assert pool.idle_bound() == 320.0  # idle_timeout 300 s + a round every 20 s (60 s before 8.1)
    _, short = pool_of(app(tmp_path / "b", "production:\n  adapter: postgresql\n  idle_timeout: 10\n", "8.1.1"))
    assert short.health_check_period.value == 10.0  # a round at least as often as idle_timeout
    _, off = pool_of(app(tmp_path / "c", """
        production:
          adapter: postgresql
          keepalive: 0
          max_age: 0
          reaping_frequency: 45
        """, "8.1.1"))
    assert math.isinf(off.keepalive_time.value) and off.keepalive_every() is None and math.isinf(off.max_lifetime.value)
    assert off.health_check_period.value == 45.0


@pytest.mark.parametrize("version", ["8.0.4", "7.2.2", "7.1.5"])
def test_before_8_1_those_keys_are_not_read(tmp_path, version):
    _, pool = pool_of(app(tmp_path, PLAN, version))
    assert pool.size.value == 10 and pool.size.key == "pool"  # max_connections is no key before 8.1
    assert pool.min_size.value == 0 and pool.min_size.origin == "default"
    assert math.isinf(pool.max_lifetime.value) and pool.keepalive_time is None and pool.keepalive_every() is None
    assert pool.health_check_period.value == 60.0
    assert pool.idle_bound() == 360.0
    assert "before its first query after each checkout" in pool.validation_note
    assert pool.version == f"activerecord {version} ({tmp_path / 'Gemfile.lock'}:{ACTIVERECORD_LINE})"


def test_rails_7_0_verifies_at_each_checkout(tmp_path):
    _, pool = pool_of(app(tmp_path, PLAN, "7.0.8"))
    assert pool.validation.value is True
    assert pool.validation_note.startswith("Rails verifies a connection at each checkout (verify!")


def test_an_unknown_version_keeps_the_7_1_to_8_0_plan(tmp_path):
    _, pool = pool_of(app(tmp_path, PLAN, None))
    assert pool.size.value == 10 and pool.min_size.value == 2  # as before: both keys kept
    assert pool.health_check_period.value == 60.0 and pool.keepalive_time is None
    assert pool.version.startswith("activerecord of no known version")


HAPROXY_330 = """
defaults
    mode tcp
    timeout connect 5s
    timeout client 330s
    timeout server 330s

listen pg
    bind *:5000
    server db1 db.internal:5432 check
"""
BEHIND_HAPROXY = """\
production:
  adapter: postgresql
  host: lb.internal
  port: 5000
  database: shop
"""


def path002(folder: Path) -> list:
    result = run(make_settings({"paths": [str(folder)], "select": ["PATH002"]}, use_config=False))
    return [f for f in result.findings if f.code == "PATH002"]


def test_path002_follows_the_locked_release_and_names_its_line(tmp_path):
    """HAProxy's 330 s: Rails 8.0's pool keeps a connection idle up to 300 + 60 s (info, the
    version and Gemfile.lock:28 in the message); 8.1's up to 300 + 20 s (nothing)."""
    for version in ("8.0.4", "8.1.1"):
        folder = tmp_path / version
        app(folder, BEHIND_HAPROXY, version)
        (folder / "haproxy.cfg").write_text(HAPROXY_330)
        found = path002(folder)
        if version == "8.1.1":
            assert found == []
            continue
        [finding] = found
        assert "keeps an idle connection up to 360 s" in finding.message
        assert f"activerecord 8.0.4 ({folder / 'Gemfile.lock'}:{ACTIVERECORD_LINE})" in finding.message
        assert finding.fix.startswith("idle_timeout: 240 under production in database.yml")


def test_path002_on_rails_8_1_min_connections_fixes_with_keepalive(tmp_path):
    """min_connections are spared by idle_timeout: 8.1's keepalive (600 s + a 20 s round) is what
    bounds their silence, so the fix lowers keepalive, not idle_timeout."""
    app(tmp_path, BEHIND_HAPROXY + "  min_connections: 2\n", "8.1.1")
    (tmp_path / "haproxy.cfg").write_text(HAPROXY_330)
    [finding] = path002(tmp_path)
    assert "keeps an idle connection up to 620 s (keepalive 600 s (default): the reaper that runs every " \
        "reaping_frequency 20 s (default) sends `;` on a connection idle that long; activerecord 8.1.1" in finding.message
    assert finding.span.line == 6  # min_connections: why the keepalive, not idle_timeout, decides
    assert finding.fix.startswith("keepalive: 280 under production in database.yml (280 s + reaping_frequency 20 s = "
                                  "300 s, 30 s below 330 s)"), finding.fix
    # the same on 8.0: min_connections is no key there, so idle_timeout + 60 s decides
    other = tmp_path / "80"
    app(other, BEHIND_HAPROXY + "  min_connections: 2\n", "8.0.4")
    (other / "haproxy.cfg").write_text(HAPROXY_330)
    [finding] = path002(other)
    assert "up to 360 s (idle_timeout 300 s (default)" in finding.message


def test_rails_8_1_keepalive_keeps_an_nlb_flow_open_for_pooled_connections(tmp_path):
    """8.1's reaper pings a connection idle `keepalive` (240 s + a 20 s round = 260 s < the NLB's
    350 s): real traffic, so PATH001 has nothing to say, and `pgpath path` says why; keepalive 0
    turns it off and the OS keepalives (7200 s) leave the flow to expire."""
    app(tmp_path, "production:\n  adapter: postgresql\n  host: db.internal\n  database: shop\n"
                  "  min_connections: 2\n  keepalive: 240\n", "8.1.1")
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "postgresql.conf").write_text("listen_addresses = '*'\n")
    (tmp_path / "pgpath.yaml").write_text(
        "deployments:\n  - name: shop\n    hops:\n      - client: {file: config/database.yml}\n"
        "      - aws-nlb: {idle_timeout: 350s}\n      - postgres: {file: db/postgresql.conf}\n")

    def path001():
        result = run(make_settings({"paths": [str(tmp_path)], "select": ["PATH001"]},
                                   config_path=str(tmp_path / "pgpath.yaml")))
        timers = [t for p in result.paths for t in p.timers if t.kept_by == "pool keepalive"]
        return [f for f in result.findings if f.code == "PATH001"], timers

    found, [timer] = path001()
    assert found == []
    assert "Rails' pool keepalive, whose reaper sends `;` on each connection idle in the pool, every 260 s at most " \
        "(keepalive=240 + reaping_frequency; activerecord 8.1.1" in timer.note, timer.note
    config = tmp_path / "config" / "database.yml"
    config.write_text(config.read_text().replace("keepalive: 240", "keepalive: 0"))
    found, timers = path001()
    assert [f.severity.name for f in found] == ["WARNING"] and timers == []
