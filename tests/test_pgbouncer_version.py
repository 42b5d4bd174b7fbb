"""Which PgBouncer, per file: without --pgbouncer-version (or pgbouncer-version: in pgpath.yaml) a
PgBouncer document is checked as the version of the image that runs it (its own container or custom
resource, a PgBouncer image in its file, a compose file that mounts it, the files beside it), else
the newest, and the output says which version for which files and why (scenarios13 D3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from advisor.reporters import render
from advisor.schemas import validate

# a pgx client (cache_statement by default) in a Deployment, to a PgBouncer in transaction pooling
APP = """apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: app}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: api
          image: example/api:1.0
          env:
            - name: DATABASE_URL
              value: "postgres://api@{host}:{port}/shop?sslmode=disable&pool_max_conns=5"
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: pgbouncer-config, namespace: db}
data:
  pgbouncer.ini: |
    [databases]
    shop = host=pg.db.svc port=5432 dbname=shop
    [pgbouncer]
    listen_addr = 0.0.0.0
    listen_port = 6432
    pool_mode = transaction
    default_pool_size = 10
    idle_transaction_timeout = 600
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: pgbouncer, namespace: db}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: pgbouncer
          image: docker.io/pgbouncer/pgbouncer:1.22.1
          volumeMounts:
            - {name: config, mountPath: /etc/pgbouncer}
      volumes:
        - name: config
          configMap: {name: pgbouncer-config}
"""
SERVICE = """apiVersion: v1
kind: Service
metadata: {name: pgbouncer, namespace: db}
spec:
  selector: {app: pgbouncer}
  ports: [{port: 6432}]
"""
TOPOLOGY = """deployments:
  - name: shop
    hops:
      - client: {file: app/deployment.yaml, variable: DATABASE_URL}
      - pgbouncer: {file: k8s/configmap.yaml, database: shop}
"""
PGO = """apiVersion: postgres-operator.crunchydata.com/v1beta1
kind: PostgresCluster
metadata: {name: hippo, namespace: db}
spec:
  postgresVersion: 15
  instances: [{name: instance1, replicas: 1}]
  proxy:
    pgBouncer:
      image: registry.developers.crunchydata.com/crunchydata/crunchy-pgbouncer:ubi8-1.22-0
      replicas: 1
      config:
        global:
          pool_mode: transaction
          idle_transaction_timeout: "600"
"""


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def check(folder: Path, config: str | None = None, **cli):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        settings = make_settings({"paths": ["."], **cli}, config_path=config, use_config=config is not None)
        return run(settings)
    finally:
        os.chdir(cwd)


def pgbouncer_docs(report):
    return [d for d in report.docs if d.kind == "pgbouncer"]


def summary(report) -> str:
    return [line for line in render(report, "text").splitlines() if " in " in line and "finding" in line][0]


def deployment_tree(tmp_path: Path) -> None:
    write(tmp_path, {"app/deployment.yaml": APP.replace("{host}", "pgbouncer.db.svc").replace("{port}", "6432"),
                     "k8s/configmap.yaml": CONFIGMAP, "k8s/deployment.yaml": DEPLOYMENT, "k8s/service.yaml": SERVICE,
                     "pgpath.yaml": TOPOLOGY})


def test_the_image_of_the_deployment_that_mounts_the_configmap_is_the_version(tmp_path):
    # (audit4 s03) PgBouncer 1.22 keeps max_prepared_statements = 0: the pgx client's statements fail
    deployment_tree(tmp_path)
    report = check(tmp_path, str(tmp_path / "pgpath.yaml"))
    [doc] = pgbouncer_docs(report)
    assert doc.meta["pgbouncer_version"] == "1.22"
    assert doc.model.version == (1, 22)
    assert doc.meta["pgbouncer_version_source"] == "neighbourhood"
    assert doc.meta["pgbouncer_version_reason"] == ("image docker.io/pgbouncer/pgbouncer:1.22.1 in "
                                                    "./k8s/deployment.yaml:10, beside it")
    [path006] = [f for f in report.findings if f.code == "PATH006"]
    assert str(path006.severity) == "warning"
    # (the finding says where its version comes from: its verdict turns on it)
    assert ("PgBouncer 1.22 (image docker.io/pgbouncer/pgbouncer:1.22.1 in ./k8s/deployment.yaml:10, beside it) "
            "with max_prepared_statements = 0 (the default before 1.24)") in path006.message
    assert summary(report).endswith("; PgBouncer 1.22 assumed (image docker.io/pgbouncer/pgbouncer:1.22.1 in "
                                    "./k8s/deployment.yaml:10, beside it)")


def test_a_given_version_wins_over_the_image(tmp_path):
    deployment_tree(tmp_path)
    report = check(tmp_path, str(tmp_path / "pgpath.yaml"), pgbouncer_version="1.25")
    [doc] = pgbouncer_docs(report)
    assert (doc.meta["pgbouncer_version"], doc.meta["pgbouncer_version_source"]) == ("1.25", "option")
    assert not [f for f in report.findings if f.code == "PATH006"]  # 1.25 tracks 200 by default
    assert summary(report).endswith("; PgBouncer 1.25 (given with --pgbouncer-version)")
    # the same from pgpath.yaml
    (tmp_path / "pgpath.yaml").write_text('pgbouncer-version: "1.24"\n' + TOPOLOGY)
    report = check(tmp_path, str(tmp_path / "pgpath.yaml"))
    [doc] = pgbouncer_docs(report)
    assert (doc.meta["pgbouncer_version"], doc.meta["pgbouncer_version_source"]) == ("1.24", "option")
    assert summary(report).endswith("; PgBouncer 1.24 (pgbouncer-version in pgpath.yaml)")


def test_a_crunchy_cluster_takes_the_version_of_its_pgbouncer_image(tmp_path):
    # (audit4 s12) found across folders by the operator's Service name hippo-pgbouncer
    write(tmp_path, {"app/deployment.yaml": APP.replace("{host}", "hippo-pgbouncer.db.svc").replace("{port}", "5432"),
                     "k8s/postgrescluster.yaml": PGO})
    report = check(tmp_path)
    [doc] = pgbouncer_docs(report)
    assert (doc.meta["pgbouncer_version"], doc.meta["pgbouncer_version_source"]) == ("1.22", "file")
    assert doc.meta["pgbouncer_version_reason"] == (
        "image registry.developers.crunchydata.com/crunchydata/crunchy-pgbouncer:ubi8-1.22-0 in "
        "./k8s/postgrescluster.yaml:9")
    [path006] = [f for f in report.findings if f.code == "PATH006"]
    assert str(path006.severity) == "warning"
    assert 'max_prepared_statements: "200" in spec.proxy.pgBouncer.config.global' in path006.fix
    assert ("PgBouncer 1.22 (image registry.developers.crunchydata.com/crunchydata/crunchy-pgbouncer:ubi8-1.22-0 in "
            "./k8s/postgrescluster.yaml:9) with max_prepared_statements = 0") in path006.message
    # the JSON report says the same, per document and in the summary, and validates
    data = json.loads(render(report, "json"))
    assert validate(data, "report.schema.json") is None
    assert data["pgbouncer_versions"] == [{"version": "1.22", "files": 1, "sources": {"file": 1}, "reasons": [
        {"source": "file", "reason": doc.meta["pgbouncer_version_reason"]}]}]
    [entry] = [d for d in data["documents"] if d["kind"] == "pgbouncer"]
    assert entry["pgbouncer_version"] == {"version": "1.22", "source": "file",
                                          "reason": doc.meta["pgbouncer_version_reason"]}


def test_no_version_found_is_said_as_the_newest_assumed(tmp_path):
    write(tmp_path, {"pgbouncer.ini": "[databases]\n* = host=db\n[pgbouncer]\npool_mode = transaction\n"})
    report = check(tmp_path)
    [doc] = pgbouncer_docs(report)
    assert (doc.meta["pgbouncer_version"], doc.meta.get("pgbouncer_version_source")) == ("1.25", "default")
    assert summary(report).endswith("; PgBouncer 1.25 assumed (the newest; no version given or found)")
    data = json.loads(render(report, "json"))
    assert validate(data, "report.schema.json") is None
    assert data["pgbouncer_versions"][0]["sources"] == {"default": 1}


def test_a_compose_file_that_mounts_the_ini_gives_its_image_version(tmp_path):
    # max_prepared_statements came in 1.21: PgBouncer 1.20 refuses to start with it
    write(tmp_path, {"docker-compose.yml": "services:\n  pgbouncer:\n    image: pgbouncer/pgbouncer:1.20.1\n"
                                           "    volumes:\n      - ./conf/pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini\n",
                     "conf/pgbouncer.ini": "[databases]\n* = host=db\n[pgbouncer]\nmax_prepared_statements = 100\n"})
    report = check(tmp_path, select=["PGB001"])
    [doc] = pgbouncer_docs(report)
    assert (doc.meta["pgbouncer_version"], doc.meta["pgbouncer_version_source"]) == ("1.20", "deployment")
    assert doc.meta["pgbouncer_version_reason"] == ("image pgbouncer/pgbouncer:1.20.1 in ./docker-compose.yml:3, "
                                                    "which mounts ./conf/pgbouncer.ini")
    [pgb001] = report.findings
    assert 'unknown parameter "max_prepared_statements" in PgBouncer 1.20 (added in 1.21)' in pgb001.message


def test_two_pgbouncers_of_one_compose_file_keep_their_own_images(tmp_path):
    write(tmp_path, {"docker-compose.yml": (
        "services:\n"
        "  old:\n    image: edoburu/pgbouncer:v1.22.1-p0\n    environment:\n      DB_HOST: db\n"
        "  new:\n    image: bitnami/pgbouncer:1.24.1\n    environment:\n      POSTGRESQL_HOST: db\n")})
    report = check(tmp_path)
    got = sorted((d.meta["service"], d.meta["pgbouncer_version"], d.meta["pgbouncer_version_reason"])
                 for d in pgbouncer_docs(report))
    assert got == [("new", "1.24", "image bitnami/pgbouncer:1.24.1 in ./docker-compose.yml:7"),
                   ("old", "1.22", "image edoburu/pgbouncer:v1.22.1-p0 in ./docker-compose.yml:3")]
    lines = render(report, "text").splitlines()
    assert "  PgBouncer 1.24 for 1 file (image bitnami/pgbouncer:1.24.1 in ./docker-compose.yml:7)" in lines
    assert "  PgBouncer 1.22 for 1 file (image edoburu/pgbouncer:v1.22.1-p0 in ./docker-compose.yml:3)" in lines


def test_a_version_newer_than_the_catalogs_is_checked_as_the_newest_and_said(tmp_path):
    write(tmp_path, {"docker-compose.yml": "services:\n  pgb:\n    image: edoburu/pgbouncer:v1.31.0-p0\n"
                                           "    environment:\n      DB_HOST: db\n"})
    [doc] = pgbouncer_docs(check(tmp_path))
    assert doc.meta["pgbouncer_version"] == "1.25"
    assert doc.meta["pgbouncer_version_reason"] == ("the files are for PgBouncer 1.31, per image "
                                                    "edoburu/pgbouncer:v1.31.0-p0 in ./docker-compose.yml:3; 1.25 is "
                                                    "the newest catalog pgpath has")


def test_a_cloudnativepg_pooler_takes_its_template_image(tmp_path):
    write(tmp_path, {"pooler.yaml": (
        "apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata: {name: pooler-rw}\nspec:\n"
        "  cluster: {name: cluster-example}\n  instances: 1\n  type: rw\n"
        "  pgbouncer: {poolMode: transaction}\n"
        "  template:\n    spec:\n      containers:\n        - name: pgbouncer\n"
        "          image: ghcr.io/cloudnative-pg/pgbouncer:1.23.0\n")})
    [doc] = pgbouncer_docs(check(tmp_path))
    assert (doc.meta["pgbouncer_version"], doc.meta["pgbouncer_version_source"]) == ("1.23", "file")
    assert doc.meta["pgbouncer_version_reason"] == "image ghcr.io/cloudnative-pg/pgbouncer:1.23.0 in ./pooler.yaml:13"


@pytest.mark.parametrize("image, version", [
    ("pgbouncer/pgbouncer:1.22.1", (1, 22)),
    ("docker.io/pgbouncer/pgbouncer:1.22.1", (1, 22)),
    ("edoburu/pgbouncer:v1.22.1-p0", (1, 22)),
    ("edoburu/pgbouncer:1.15.0", (1, 15)),
    ("bitnami/pgbouncer:1.22.1-debian-12-r5", (1, 22)),
    ("bitnamilegacy/pgbouncer:1.24.1", (1, 24)),
    ("ghcr.io/cloudnative-pg/pgbouncer:1.23.0", (1, 23)),
    ("registry.developers.crunchydata.com/crunchydata/crunchy-pgbouncer:ubi8-1.22-0", (1, 22)),
    ("percona/percona-pgbouncer:1.24.1", (1, 24)),
    ("localhost:5000/edoburu/pgbouncer:1.21.0", (1, 21)),
    # no version: no tag, a tag that is not PgBouncer's version, another publisher's own numbering
    ("edoburu/pgbouncer", None),
    ("bitnamilegacy/pgbouncer:latest", None),
    ("docker.io/perconalab/percona-postgresql-operator:main-pgbouncer18", None),
    ("percona/percona-postgresql-operator:1.4.0-ppg14-pgbouncer", None),
    ("registry.developers.crunchydata.com/crunchydata/crunchy-pgbouncer:ubi8-5.5.0-0", None),
    ("myorg/pgbouncer:1.2.0", None),
    ("postgres:16", None),
])
def test_image_versions(image, version):
    from advisor.pgbversion import image_version

    assert image_version(image) == version


def test_a_pgbouncer_whose_own_image_names_no_version_does_not_take_a_neighbours(tmp_path):
    # (the corpus's kubernetes/ folder: unrelated files, one of them an edoburu image with a version)
    write(tmp_path, {"hatchet.yml": "services:\n  pgb:\n    image: edoburu/pgbouncer:v1.22.1-p0\n"
                                    "    environment:\n      DB_HOST: db\n",
                     "electric.yml": "services:\n  pgb:\n    image: bitnamilegacy/pgbouncer:latest\n"
                                     "    environment:\n      POSTGRESQL_HOST: db\n",
                     "cluster.yaml": PGO.replace(
                         "      image: registry.developers.crunchydata.com/crunchydata/crunchy-pgbouncer:ubi8-1.22-0\n",
                         "")})
    got = {os.path.basename(d.path): (d.meta["pgbouncer_version"], d.meta["pgbouncer_version_source"],
                                      d.meta["pgbouncer_version_reason"]) for d in pgbouncer_docs(check(tmp_path))}
    assert got == {
        "hatchet.yml": ("1.22", "file", "image edoburu/pgbouncer:v1.22.1-p0 in ./hatchet.yml:3"),
        "electric.yml": ("1.25", "default", "the newest; no version given or found; its image "
                                            "bitnamilegacy/pgbouncer:latest names none"),
        "cluster.yaml": ("1.25", "default", "the newest; no version given or found; the operator runs its default "
                                            "image")}
