"""A Kubernetes container's `env:` PG* variables are a libpq client, exactly as a compose
service's `environment:` is (audit15 D5, reproduction r2a: the same variables in .env (r2e) and
compose (r2f) were read, a DATABASE_URL in a Deployment (r2d) too, PG* in a Deployment were not)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from advisor.engine import make_settings, run
from advisor.loaders import detect_kind, load_file
from advisor.model import Unknown


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: notifier
spec:
  replicas: 10
  selector:
    matchLabels: {app: notifier}
  template:
    metadata:
      labels: {app: notifier}
    spec:
      containers:
        - name: notifier
          image: notifier:5.2.0
          env:
            - name: PGHOST
              value: "10.42.8.50"
            - name: PGPORT
              value: "PORT_VALUE"
            - name: PGDATABASE
              value: notify
            - name: PGSSLMODE
              value: require
            - name: PGCONNECT_TIMEOUT
              value: "10"
            - name: PGOPTIONS
              value: "-c statement_timeout=5000"
            - name: PGUSER
              valueFrom:
                configMapKeyRef: {name: notifier, key: user}
            - name: PGPASSWORD
              valueFrom:
                secretKeyRef: {name: notifier-db, key: password}
"""


def test_deployment_pg_variables_are_a_client_of_unknown_driver(tmp_path):
    """libpq, node-postgres, pgx and asyncpg all read PG* variables: the container's code is not read, so
    which driver (and which defaults) is not known (audit 17 D9)."""
    path = write(tmp_path, "deployment.yaml", DEPLOYMENT.replace("PORT_VALUE", "5432"))
    loaded = load_file(str(path), detect_kind(str(path), path.read_text()), {})
    docs = [d for d in (loaded if isinstance(loaded, list) else [loaded]) if d.kind == "client"]
    assert len(docs) == 1
    (ep,) = docs[0].model.endpoints
    assert (ep.driver, ep.form, ep.service) == ("url", "env", "notifier") and ep.driver_said() == "driver unknown"
    assert [h.value for h in ep.hosts] == ["10.42.8.50"] and [p.value for p in ep.ports] == ["5432"]
    assert ep.dbname.value == "notify" and ep.sslmode.value == "require" and ep.sslmode.origin == "env"
    assert ep.connect_timeout.value == 10.0
    assert ep.params["options"].value == "-c statement_timeout=5000"
    assert isinstance(ep.user.value, Unknown)  # valueFrom: unknown
    assert isinstance(ep.password.value, Unknown) and ep.password.secret
    assert "notifier-db" not in str(ep.to_dict()["password"]) and ep.password.to_dict()["value"] == {"unknown": "***"}
    assert (ep.hosts[0].span.line, ep.hosts[0].span.col) == (18, 22)


def test_deployment_pg_variables_reach_the_pgbouncer_beside_them(tmp_path):
    """The container's client is on a path like any other: PGOPTIONS through a PgBouncer is PATH007."""
    write(tmp_path, "deployment.yaml", DEPLOYMENT.replace("PORT_VALUE", "6432"))
    write(tmp_path, "pgbouncer.ini", """
        [databases]
        notify = host=10.42.9.9 port=5432

        [pgbouncer]
        listen_addr = 0.0.0.0
        listen_port = 6432
        pool_mode = transaction
    """)
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["PATH007"]}, use_config=False))
    (finding,) = report.findings
    assert finding.span.file.endswith("deployment.yaml")
    assert finding.message.startswith("PG* environment (driver unknown) -> PgBouncer pgbouncer.ini")
    assert "statement_timeout" in finding.message


SERVER = """
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: pg
spec:
  template:
    spec:
      containers:
        - name: postgres
          image: postgres:16
          env:
            - name: PGUSER
              value: postgres
            - name: PGSSLMODE
              value: require
HOST
"""


def test_a_postgres_containers_own_pg_variables_are_no_client(tmp_path):
    """PGUSER/PGSSLMODE in the server's own container are for its tools (psql, pg_isready), which
    with no PGHOST reach that server over its Unix socket (libpq ignores sslmode there): no client,
    no path, no PATH004 for sslmode=require against ssl off."""
    write(tmp_path, "statefulset.yaml", SERVER.replace("HOST\n", ""))
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    assert not [f for f in report.findings if f.code.startswith(("PATH", "APP"))]
    assert not [p for p in report.paths if p.hops[0].kind == "client"]


def test_a_compose_postgres_services_own_pg_variables_are_no_client(tmp_path):
    write(tmp_path, "docker-compose.yml", """
        services:
          db:
            image: postgres:16
            environment:
              PGUSER: postgres
              PGSSLMODE: require
              POSTGRES_PASSWORD: example
    """)
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    assert [f.code for f in report.findings if f.code.startswith(("PATH", "APP"))] == []


def test_a_postgres_image_with_pghost_is_a_client_of_that_host(tmp_path):
    """A job in a postgres image (pg_dump to another server) names the host: a client."""
    path = write(tmp_path, "statefulset.yaml", SERVER.replace("HOST\n", "            - name: PGHOST\n"
                                                                     "              value: db.internal\n"))
    loaded = load_file(str(path), detect_kind(str(path), path.read_text()), {})
    docs = [d for d in (loaded if isinstance(loaded, list) else [loaded]) if d.kind == "client"]
    (ep,) = docs[0].model.endpoints
    assert [h.value for h in ep.hosts] == ["db.internal"] and ep.sslmode.value == "require"


def test_kubernetes_dependent_variables_are_placeholders(tmp_path):
    """`$(DB_PASS)` in a container's env value is Kubernetes' reference to another variable of the
    container (here a Secret's): unknown, never a password written in the file."""
    write(tmp_path, "deployment.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
        spec:
          template:
            spec:
              containers:
                - name: api
                  image: api:1
                  env:
                    - name: DB_PASS
                      valueFrom:
                        secretKeyRef: {name: db, key: password}
                    - name: DATABASE_URL
                      value: postgres://app:$(DB_PASS)@$(DB_HOST):5432/app?sslmode=require
    """)
    path = tmp_path / "deployment.yaml"
    loaded = load_file(str(path), detect_kind(str(path), path.read_text()), {})
    (doc,) = [d for d in (loaded if isinstance(loaded, list) else [loaded]) if d.kind == "client"]
    (ep,) = doc.model.endpoints
    assert isinstance(ep.hosts[0].value, Unknown) and isinstance(ep.password.value, Unknown)
    assert ep.sslmode.value == "require"
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["APP013"]}, use_config=False))
    assert report.findings == []
