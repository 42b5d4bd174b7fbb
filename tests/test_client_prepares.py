"""What each client format says about named prepared statements (ClientEndpoint.prepares), as
PATH006 reads it: the driver, its threshold as written or its default, the execution that first
parses a named statement, whether the file holds the options that could turn it off, and how this
file turns it off. Facts: docs/prepared-statements.md."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from advisor.loaders.client import load
from advisor.model import Unknown


def endpoint(tmp_path: Path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    doc = load(str(path))
    assert len(doc.model.endpoints) == 1, [e.name for e in doc.model.endpoints]
    return doc.model.endpoints[0]


URL = "postgresql+psycopg://app@pgb:6432/shop"


@pytest.mark.parametrize("connect_args,threshold,first", [
    ("", 5, 6),                                               # psycopg's default
    ("  connect_args:\n    prepare_threshold: null\n", None, None),
    ("  connect_args:\n    prepare_threshold: 0\n", 0, 1),   # 0: prepared at the first execution
    ("  connect_args:\n    prepare_threshold: 2\n", 2, 3),
])
def test_sqlalchemy_psycopg_yaml(tmp_path, connect_args, threshold, first):
    ep = endpoint(tmp_path, "app.yaml", f"db:\n  url: {URL}\n  pool_pre_ping: true\n" + connect_args)
    p = ep.prepares
    assert (p.library, p.threshold.value, p.first, p.read) == ("psycopg", threshold, first, True)
    assert p.off == "prepare_threshold: null under db.connect_args"
    assert p.threshold.origin == ("default" if not connect_args else "set")


def test_sqlalchemy_psycopg_json_fix_is_written_as_json(tmp_path):
    ep = endpoint(tmp_path, "app.json", f'{{"db": {{"url": "{URL}", "pool_recycle": 300}}}}')
    assert ep.prepares.off == '"connect_args": {"prepare_threshold": null} in db' and ep.prepares.read


def test_bare_sqlalchemy_url_options_are_in_code(tmp_path):
    ep = endpoint(tmp_path, ".env", f"DATABASE_URL={URL}\n")
    p = ep.prepares
    assert (p.threshold.value, p.first, p.read) == (5, 6, False)
    assert p.off == 'connect_args={"prepare_threshold": None} in create_engine()'


@pytest.mark.parametrize("url", ["postgresql+psycopg2://app@pgb:6432/shop", "postgresql://app@pgb:6432/shop"])
def test_drivers_not_modelled_or_never_preparing_have_no_plan(tmp_path, url):
    assert endpoint(tmp_path, ".env", f"DATABASE_URL={url}\n").prepares is None


def test_sqlalchemy_asyncpg_prepares_every_statement(tmp_path):
    """The fourth scenario audit's D2: the dialect prepares each statement, asyncpg names it; only
    a prepared_statement_name_func (code, in connect_args) gives unique names; a bare URL does
    not show the engine's options (read False)."""
    p = endpoint(tmp_path, ".env", "DATABASE_URL=postgresql+asyncpg://app@pgb:6432/shop\n").prepares
    assert (p.library, p.first, p.name, p.read) == ("asyncpg", 1, "__asyncpg_stmt_1__", False)
    named = endpoint(tmp_path, "app.yaml", "database:\n  url: postgresql+asyncpg://app@pgb:6432/shop\n"
                     "  pool_size: 5\n  connect_args:\n    prepared_statement_name_func: app.db.names\n").prepares
    assert named.threshold.value is None and named.first is None


def test_psycopg_pool_kwargs(tmp_path):
    ep = endpoint(tmp_path, "pool.yaml", """
        pool:
          conninfo: host=pgb port=6432 dbname=shop
          max_size: 10
          kwargs:
            prepare_threshold: null
    """)
    assert ep.driver == "psycopg_pool" and ep.prepares.threshold.value is None and ep.prepares.first is None
    assert ep.prepares.off == "prepare_threshold: null under pool.kwargs"


@pytest.mark.parametrize("url,threshold,first", [
    ("jdbc:postgresql://pgb:6432/shop", 5, 5),                 # pgjdbc: the 5th execution
    ("jdbc:postgresql://pgb:6432/shop?prepareThreshold=0", None, None),
    ("jdbc:postgresql://pgb:6432/shop?prepareThreshold=3", 3, 3),
    ("jdbc:postgresql://pgb:6432/shop?prepareThreshold=-1", -1, 1),  # forceBinary: at once
    ("jdbc:postgresql://pgb:6432/shop?preferQueryMode=simple", None, None),
])
def test_pgjdbc_url(tmp_path, url, threshold, first):
    ep = endpoint(tmp_path, "application.properties", f"spring.datasource.url={url}\n")
    assert (ep.prepares.library, ep.prepares.threshold.value, ep.prepares.first) == ("pgjdbc", threshold, first)


def test_pgjdbc_hikari_data_source_property_is_read_and_fixed_where_written(tmp_path):
    ep = endpoint(tmp_path, "application.properties", """
        spring.datasource.url=jdbc:postgresql://pgb:6432/shop
        spring.datasource.hikari.data-source-properties.prepareThreshold=5
    """)
    assert ep.prepares.threshold.value == 5 and ep.prepares.threshold.origin == "set"
    assert ep.prepares.off == "spring.datasource.hikari.data-source-properties.prepareThreshold=0"


@pytest.mark.parametrize("query,first", [("", 1), ("&default_query_exec_mode=cache_statement", 1),
                                         ("&default_query_exec_mode=exec", None),
                                         ("&default_query_exec_mode=cache_describe", None)])
def test_pgx_query_exec_mode(tmp_path, query, first):
    ep = endpoint(tmp_path, "config.yaml", f"database:\n  dsn: postgres://app@pgb:6432/shop?pool_max_conns=5{query}\n")
    assert ep.driver == "pgx" and ep.prepares.library == "pgx" and ep.prepares.first == first


def test_pgx_mode_from_a_placeholder_is_unknown(tmp_path):
    ep = endpoint(tmp_path, "config.yaml",
                  "database:\n  dsn: postgres://app@pgb:6432/shop?pool_max_conns=5&default_query_exec_mode=${MODE}\n")
    assert ep.prepares.first is None and isinstance(ep.prepares.threshold.value, Unknown)


@pytest.mark.parametrize("options,threshold", [
    ('{"server_side_binding": True, "prepare_threshold": 5}', 5),
    ('{"server_side_binding": True}', None),        # Django passes prepare_threshold=None
    ('{"prepare_threshold": 5}', None),             # client-side binding cursors never prepare
    ('{"server_side_binding": True, "prepare_threshold": None}', None),
    ('{"server_side_binding": False, "prepare_threshold": 5}', None),
])
def test_django_prepares_only_with_server_side_binding_and_a_threshold(tmp_path, options, threshold):
    ep = endpoint(tmp_path, "settings.py", f"""
        DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": "shop", "HOST": "pgb",
                                  "PORT": 6432, "OPTIONS": {options}}}}}
    """)
    if threshold is None:
        assert ep.prepares is None
    else:
        assert (ep.prepares.threshold.value, ep.prepares.first, ep.prepares.threshold.span.line) == (threshold, 6, 2)
    assert "prepare_threshold" not in ep.params and "server_side_binding" not in ep.params  # not libpq keys


# ------------------------------------------------------------------------------------------------
# Django's server-side cursors (QuerySet.iterator())

DJ = '{"ENGINE": "django.db.backends.postgresql", "NAME": "shop", "HOST": "pgb", "PORT": 6432'


@pytest.mark.parametrize("module,used,atomic,line", [
    (f"DATABASES = {{'default': {DJ}}}}}", True, False, None),
    (f"DATABASES = {{'default': {DJ}, 'DISABLE_SERVER_SIDE_CURSORS': False}}}}", True, False, 1),
    (f"DATABASES = {{'default': {DJ}, 'DISABLE_SERVER_SIDE_CURSORS': True}}}}", False, False, 1),
    (f"DATABASES = {{'default': {DJ}, 'ATOMIC_REQUESTS': True}}}}", True, True, None),
    (f"DATABASES = {{'default': {DJ}}}}}\nDATABASES['default']['DISABLE_SERVER_SIDE_CURSORS'] = True", False, False, 2),
    (f"DATABASES = {{'default': {DJ}}}}}\nDATABASES['default']['ATOMIC_REQUESTS'] = True", True, True, None),
    ("import dj_database_url\nDATABASES = {'default': dj_database_url.config(default='postgres://pgb:6432/shop', "
     "disable_server_side_cursors=True)}", False, False, 2),
    ("import dj_database_url\nDATABASES = {'default': dj_database_url.config(default='postgres://pgb:6432/shop')}",
     True, False, None),
])
def test_django_server_side_cursors(tmp_path, module, used, atomic, line):
    c = endpoint(tmp_path, "settings.py", module).server_cursors
    assert (c.used.value, c.atomic) == (used, atomic)
    assert (c.used.span.line if c.used.origin == "set" else None) == line


def test_django_cursor_fix_is_written_as_the_entry_is(tmp_path):
    call = endpoint(tmp_path, "settings.py", "import dj_database_url\n"
                    "DATABASES = {'default': dj_database_url.parse('postgres://pgb:6432/shop')}")
    assert call.server_cursors.off == "disable_server_side_cursors=True in dj_database_url.parse() of DATABASES['default']"
    entry = endpoint(tmp_path, "settings.py", f"DATABASES = {{'default': {DJ}}}}}")
    assert entry.server_cursors.off == "\"DISABLE_SERVER_SIDE_CURSORS\": True in DATABASES['default']"


def test_other_drivers_have_no_cursor_plan(tmp_path):
    assert endpoint(tmp_path, ".env", f"DATABASE_URL={URL}\n").server_cursors is None
