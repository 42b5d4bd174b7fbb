"""Checks on the shipped PostgreSQL settings catalogs (advisor/catalogs/pgNN.json).

The catalogs are dumped from real servers by scripts/dump_pg_catalog.py; these
tests pin facts that the postgresql.conf loader relies on.
"""

import json
from pathlib import Path

import pytest

CATALOG_DIR = Path(__file__).resolve().parent.parent / "advisor" / "catalogs"
MAJORS = [14, 15, 16, 17, 18]
SETTING_KEYS = {
    "name", "vartype", "unit", "min_val", "max_val", "enumvals", "hidden_enumvals",
    "boot_val", "context", "short_desc", "extra_desc", "category", "requires_restart",
}
TOP_KEYS = {"source", "server_version", "server_version_num", "major", "count", "settings"}


def load(major):
    return json.loads((CATALOG_DIR / f"pg{major}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=MAJORS, ids=lambda m: f"pg{m}")
def catalog(request):
    return request.param, load(request.param)


def settings(major):
    return {s["name"]: s for s in load(major)["settings"]}


def test_package_marker_is_empty():
    init = CATALOG_DIR / "__init__.py"
    assert init.is_file()
    assert init.read_text().strip() == ""


def test_shape(catalog):
    major, cat = catalog
    assert TOP_KEYS <= set(cat)
    assert cat["major"] == major
    assert cat["server_version_num"] // 10000 == major
    assert f"PostgreSQL {major}." in cat["server_version"]
    assert cat["count"] == len(cat["settings"]) > 300
    names = [s["name"] for s in cat["settings"]]
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for s in cat["settings"]:
        assert set(s) == SETTING_KEYS, s["name"]
        assert s["vartype"] in {"bool", "integer", "real", "string", "enum"}
        assert s["requires_restart"] == (s["context"] == "postmaster")
        if s["vartype"] == "enum":
            assert s["enumvals"], s["name"]
            assert isinstance(s["hidden_enumvals"], list)
            listed = {v.lower() for v in s["enumvals"]}
            assert not listed & set(s["hidden_enumvals"]), s["name"]
        else:
            assert s["enumvals"] is None and s["hidden_enumvals"] is None, s["name"]


def test_common_facts(catalog):
    major, cat = catalog
    s = {x["name"]: x for x in cat["settings"]}
    assert s["shared_buffers"]["unit"] == "8kB"
    assert s["shared_buffers"]["context"] == "postmaster"
    assert s["shared_buffers"]["requires_restart"] is True
    assert s["shared_buffers"]["boot_val"] == ("1024" if major == 14 else "16384")
    assert s["work_mem"]["unit"] == "kB" and s["work_mem"]["boot_val"] == "4096"
    assert s["statement_timeout"]["unit"] == "ms"
    assert s["tcp_keepalives_idle"]["unit"] == "s"
    assert s["idle_session_timeout"]["unit"] == "ms"
    assert s["idle_session_timeout"]["context"] == "user"
    assert s["ssl_min_protocol_version"]["boot_val"] == "TLSv1.2"
    assert s["hash_mem_multiplier"]["boot_val"] == ("1" if major == 14 else "2")
    assert s["maintenance_work_mem"]["min_val"] == ("64" if major >= 17 else "1024")
    assert s["autovacuum_max_workers"]["context"] == ("sighup" if major >= 18 else "postmaster")
    hp = s["huge_pages"]
    assert sorted(hp["enumvals"]) == ["off", "on", "try"]
    assert {"true", "false", "yes", "no", "1", "0"} <= set(hp["hidden_enumvals"])
    assert {"archive", "hot_standby"} <= set(s["wal_level"]["hidden_enumvals"])
    assert "debug" in s["log_min_messages"]["hidden_enumvals"]
    assert {"debug", "info"} <= set(s["client_min_messages"]["hidden_enumvals"])
    assert s["IntervalStyle"]["hidden_enumvals"] == []


@pytest.mark.parametrize(
    "name, first, last",
    [
        ("idle_session_timeout", 14, None),
        ("client_connection_check_interval", 14, None),
        ("reserved_connections", 16, None),
        ("transaction_timeout", 17, None),
        ("ssl_groups", 18, None),
        ("ssl_tls13_ciphers", 18, None),
        ("autovacuum_worker_slots", 18, None),
        ("ssl_ecdh_curve", 14, 17),
        ("force_parallel_mode", 14, 15),
        ("debug_parallel_query", 16, None),
        ("recovery_prefetch", 15, None),
        # added by minor releases of every supported branch (August and November 2026)
        ("output_plugin_libraries", 14, None),
        ("composite_type_mismatch", 14, None),
    ],
)
def test_presence_by_major(name, first, last):
    last = last or MAJORS[-1]
    for major in MAJORS:
        present = name in settings(major)
        assert present == (first <= major <= last), f"{name} in pg{major}: {present}"


def test_generated_catalog_modules_match_the_dumped_json():
    """pgpath reads advisor/catalogs/pgNN.py; they must say what the dumped JSON says."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parent.parent / "scripts" / "build_catalogs.py"
    r = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("major", MAJORS)
def test_loaded_catalog_has_every_dumped_setting(major):
    from advisor.catalog import load_catalog

    cat = load_catalog(major)
    for name, s in settings(major).items():
        p = cat.lookup(name)
        assert (p.name, p.vartype, p.unit, p.context) == (name, s["vartype"], s["unit"], s["context"])


@pytest.mark.parametrize("major", MAJORS)
def test_did_you_mean_never_names_an_internal_parameter(major):
    """A parameter of context `internal` (wal_segment_size: initdb --wal-segsize) can be set by no
    file and no ALTER SYSTEM, so a did-you-mean never names one; settable near misses still come."""
    from advisor.catalog import Catalog, load_catalog

    shipped = load_catalog(major)
    cat = Catalog(major, shipped.server_version, tuple(shipped._rows.values()))  # a fresh memo
    internal = [name for name, s in settings(major).items() if s["context"] == "internal"]
    assert "wal_segment_size" in internal and "segment_size" in internal
    for name in internal:
        for typo in (name[:-1], name + "s", "max_" + name.split("_", 1)[-1]):
            if cat.lookup(typo) is None:
                suggestion = cat.suggest(typo)
                assert suggestion is None or cat.lookup(suggestion).context != "internal", (typo, suggestion)
    assert cat.suggest("max_segment_size") is None
    assert cat.suggest("shared_bufers") == "shared_buffers"
    assert cat.suggest("tcp_keepalive_idle") == "tcp_keepalives_idle"


def test_a_setting_not_dumped_from_that_major_says_where_it_comes_from():
    """A catalog dumped from an older minor gets the parameters later minors added, each named
    under `carried` with its evidence; every other setting is what the dumped server said."""
    for major in MAJORS:
        cat = load(major)
        carried = cat.get("carried", {})
        names = {s["name"] for s in cat["settings"]}
        assert set(carried) <= names
        assert all("minor releases" in why and "dump" in why for why in carried.values()), carried
    assert set(load(18).get("carried", {})) == {"composite_type_mismatch"}
    assert "carried" not in load(15) and "carried" not in load(17)
