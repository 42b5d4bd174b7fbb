"""The lab for PATH006 with Django itself (5.x, psycopg 3) through PgBouncer in transaction
pooling, the two facts the rule's Django cases rest on:

- `OPTIONS: {"server_side_binding": True}` alone does not prepare: Django passes
  `prepare_threshold=None` unless OPTIONS sets one (django/db/backends/postgresql/base.py,
  get_connection_params), so ten executions interleaved with another client's transactions all
  succeed; with `"prepare_threshold": 5` added the 7th fails (`prepared statement "_pg3_0" does
  not exist`).
- `QuerySet.iterator()` declares a WITH HOLD cursor and fetches it in later transactions: through
  transaction pooling a fetch that lands on another server connection fails (`cursor ... does not
  exist`) unless DISABLE_SERVER_SIDE_CURSORS is set; in session pooling every row is read.

Django's settings are process-wide, so the module configures them once, for every database it uses.
"""

from __future__ import annotations

import pytest

import scenarios as sc
from test_lab_prepared import _setup

pytestmark = [pytest.mark.lab, pytest.mark.server]

django = pytest.importorskip("django", reason="Django is not installed (pip install -e '.[test]')")

ROWS = 5000


@pytest.fixture(scope="module")
def databases():
    """Django's DATABASES, one alias per setup, each through its own running PgBouncer."""
    import psycopg
    from django.conf import settings

    gen = sc.lab_with_server("pgpath-lab-django-", "django", "")
    lab = next(gen)
    try:
        setups = {"binding": ("transaction", {"OPTIONS": {"sslmode": "disable", "server_side_binding": True}}),
                  "binding_threshold": ("transaction", {"OPTIONS": {"sslmode": "disable", "server_side_binding": True,
                                                                    "prepare_threshold": 5}}),
                  "cursors": ("transaction", {}),
                  "cursors_disabled": ("transaction", {"DISABLE_SERVER_SIDE_CURSORS": True}),
                  "cursors_session": ("session", {})}
        urls, dbs = {}, {}
        for name, (mode, extra) in setups.items():
            _folder, url = _setup(lab, name, mode)
            urls[name] = url
            port = int(url.split(":")[2].split("/")[0])
            dbs[name] = {"ENGINE": "django.db.backends.postgresql", "NAME": "labdb", "USER": "postgres",
                         "HOST": "127.0.0.1", "PORT": port, "OPTIONS": {"sslmode": "disable"}, **extra}
        dbs["default"] = dict(dbs["cursors"])
        if settings.configured:
            pytest.skip("Django's settings were configured by another test of this process")
        settings.configure(DATABASES=dbs, USE_TZ=True, INSTALLED_APPS=["django.contrib.contenttypes"])
        django.setup()
        with psycopg.connect(f"host=127.0.0.1 port={lab.pg.port} user=postgres dbname=postgres sslmode=disable",
                             autocommit=True) as c:
            c.execute("CREATE TABLE IF NOT EXISTS django_content_type(id serial PRIMARY KEY, app_label varchar(100), "
                      "model varchar(100))")
            c.execute("INSERT INTO django_content_type(app_label, model) SELECT 'a', 'm' || i "
                      f"FROM generate_series(1, {ROWS}) i")
        yield urls
    finally:
        from django.db import connections

        connections.close_all()
        lab.stop()


def _executions(alias: str, other_url: str) -> tuple[int, str | None]:
    """Ten executions of one statement on Django's connection, another client's transaction open
    during the even-numbered ones; (executions that succeeded, the first error)."""
    import psycopg
    from django.db import connections

    done = 0
    with psycopg.connect(other_url) as other:
        for n in range(1, 11):
            if n % 2 == 0:
                other.execute("SELECT 1")
            try:
                with connections[alias].cursor() as cur:
                    cur.execute("SELECT %s::int", [n])
                    cur.fetchone()
                done += 1
            except Exception as exc:  # noqa: BLE001 - the driver's error is what is observed
                return done, str(exc).strip()
            finally:
                if n % 2 == 0:
                    other.commit()
    return done, None


def test_server_side_binding_alone_does_not_prepare(databases):
    done, error = _executions("binding", databases["binding"])
    assert (done, error) == (10, None)


def test_a_prepare_threshold_in_options_fails_through_transaction_pooling(databases):
    done, error = _executions("binding_threshold", databases["binding_threshold"])
    assert done == 6 and error is not None and 'prepared statement "_pg3_0" does not exist' in error, (done, error)


def _iterate(alias: str, other_url: str) -> tuple[int, str | None]:
    import psycopg
    from django.contrib.contenttypes.models import ContentType

    rows = 0
    with psycopg.connect(other_url) as other:
        try:
            for i, _ct in enumerate(ContentType.objects.using(alias).order_by("id").iterator(chunk_size=2000)):
                if i == 0:
                    other.execute("SELECT 1")  # another client's transaction while the first chunk is read
                rows += 1
        except Exception as exc:  # noqa: BLE001
            return rows, str(exc).strip()
    return rows, None


@pytest.mark.parametrize("alias,fails", [("cursors", True), ("cursors_disabled", False), ("cursors_session", False)])
def test_iterator_cursors_through_pgbouncer(databases, alias, fails):
    rows, error = _iterate(alias, databases[alias])
    if fails:
        assert rows < ROWS and error is not None and "does not exist" in error, (rows, error)
    else:
        assert (rows, error) == (ROWS, None)
