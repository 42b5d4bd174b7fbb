"""PGB016's fix is a value that works: applied to the files, the pools it leaves add up to no
more than the server accepts, whatever mix of per-database pool sizes, reserves, forced users,
[users] lists, per-database and global max_db_connections and a fallback `*` the PgBouncer has (the fix is parsed from the finding and applied as an
operator would, then pgpath is run again)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, event, given, settings, strategies as st

from advisor.engine import make_settings, run

DATABASE = st.fixed_dictionaries({
    "pool_size": st.one_of(st.none(), st.integers(1, 80)),
    "reserve_pool": st.one_of(st.none(), st.integers(0, 10)),
    "user": st.booleans(),
    "max_db_connections": st.one_of(st.none(), st.integers(0, 120)),
})

CONFIG = st.fixed_dictionaries({
    "databases": st.lists(DATABASE, min_size=1, max_size=5),
    "star": st.booleans(),  # a fallback `* = host=db` entry
    "users": st.integers(0, 3),
    "default_pool_size": st.integers(1, 100),
    "reserve_pool_size": st.integers(0, 10),
    "max_db_connections": st.one_of(st.none(), st.integers(0, 400)),
    "max_connections": st.integers(10, 300),
})


def _write(tmp, config, removed=()):
    lines = ["[databases]"]
    for i, db in enumerate(config["databases"]):
        name = f"db{i}"
        words = [f"{name} = host=db dbname={name}"]
        if db["user"]:
            words.append(f"user=u{i}")
        if db["pool_size"] is not None and (name, "pool_size") not in removed:
            words.append(f"pool_size={db['pool_size']}")
        if db["reserve_pool"] is not None and (name, "reserve_pool") not in removed:
            words.append(f"reserve_pool={db['reserve_pool']}")
        if db["max_db_connections"] is not None:
            words.append(f"max_db_connections={db['max_db_connections']}")
        lines.append(" ".join(words))
    if config["star"]:
        lines.append("* = host=db")
    if config["users"]:
        lines += ["", "[users]"] + [f"user{i} =" for i in range(config["users"])]
    lines += ["", "[pgbouncer]", "listen_addr = 127.0.0.1",
              f"default_pool_size = {config['default_pool_size']}", f"reserve_pool_size = {config['reserve_pool_size']}"]
    if config["max_db_connections"] is not None:
        lines.append(f"max_db_connections = {config['max_db_connections']}")
    (tmp / "pgbouncer.ini").write_text("\n".join(lines) + "\n")
    (tmp / "postgresql.conf").write_text(f"max_connections = {config['max_connections']}\n")


def _findings(tmp):
    return run(make_settings({"paths": [str(tmp)], "select": ["PGB016"]}, use_config=False)).findings


def _sum_findings(tmp):
    return [f for f in _findings(tmp) if "server connections >" in f.message]


def _cap_findings(tmp):
    return [f for f in _findings(tmp) if "one database alone can exhaust" in f.message]


def _apply(config, fix):
    """The operator's edit: default_pool_size and reserve_pool_size as proposed, and the named
    databases' own pool_size (and reserve_pool) removed."""
    config = {**config}
    removed = set()
    m = re.match(r"pool_size=(\d+) in the \[databases\] lines? of ([\w, ]+?) \(", fix)
    if m:  # every database has its own pool_size: the largest ones lowered
        names = set(re.split(r", | and ", m.group(2)))
        config["databases"] = [{**db, "pool_size": int(m.group(1))} if f"db{i}" in names else db
                               for i, db in enumerate(config["databases"])]
        return config, removed
    m = re.match(r"default_pool_size = (\d+)", fix)
    assert m, fix
    config["default_pool_size"] = int(m.group(1))
    m = re.search(r"reserve_pool_size = (\d+)", fix)
    if m:
        config["reserve_pool_size"] = int(m.group(1))
    for key, names in re.findall(r"remove (pool_size|reserve_pool) from the \[databases\] lines? of ([\w, ]+?) \(", fix):
        for name in re.split(r", | and ", names):
            removed.add((name, key))
    return config, removed


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=CONFIG)
def test_the_proposed_pool_sizes_fit_the_server(tmp_path, config):
    _write(tmp_path, config)
    found = _sum_findings(tmp_path)
    if not found:
        event("the pools fit: no finding")
        return
    fix = found[0].fix
    if fix.startswith("max_db_connections"):
        event("more pools than connections")
        return  # more pools than the server accepts connections: no pool size serves, the fix says so
    fixed, removed = _apply(config, fix)
    event("own sizes lowered" if fix.startswith("pool_size=") else
          "default_pool_size alone" if "remove" not in fix else "own sizes removed too")
    _write(tmp_path, fixed, removed)
    assert not _sum_findings(tmp_path), f"after {fix!r} the pools still exceed the server's limit"


def test_a_fix_that_keeps_the_databases_own_sizes_when_it_can(tmp_path):
    config = {"databases": [{"pool_size": None, "reserve_pool": None, "user": False, "max_db_connections": None},
                            {"pool_size": 10, "reserve_pool": None, "user": False, "max_db_connections": None}],
              "star": False, "users": 2, "default_pool_size": 20, "reserve_pool_size": 5, "max_db_connections": None,
              "max_connections": 80}
    _write(tmp_path, config)
    fix = _sum_findings(tmp_path)[0].fix
    assert fix.startswith("default_pool_size = 18 ") and "remove" not in fix, fix


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=CONFIG)
def test_the_proposed_cap_keeps_every_database_together_within_the_server(tmp_path, config):
    """max_db_connections caps each database on its own: the proposed one, reached by every
    database at once, stays within the server's limit, and clears the finding."""
    _write(tmp_path, config)
    found = _cap_findings(tmp_path)
    if not found:
        event("no cap finding")
        return
    event("cap finding")
    cap = int(re.match(r"max_db_connections = (\d+)", found[0].fix).group(1))
    databases = len(config["databases"]) + config["star"]
    limit = int(re.search(r"= (\d+): one database", found[0].message).group(1))
    assert cap * databases <= limit or cap == 1, found[0].fix
    _write(tmp_path, {**config, "max_db_connections": cap})
    assert not _cap_findings(tmp_path), f"after {found[0].fix!r}"
