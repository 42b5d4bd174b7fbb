"""How many containers of a docker compose service `docker compose up` runs: `deploy.replicas`
(honoured by Compose v2) or the service-level `scale`. A client's copies multiply its pool in
PATH005 (advisor.path.model.client_hop); a PgBouncer's copies are its pools' (advisor.rules.pgb.copies).

The Compose Specification (05-services.md `scale`): "When both are set, `scale` must be consistent
with the `replicas` attribute"; compose-go (loader/validate.go checkConsistency) refuses two
different numbers: `services.api: can't set distinct values on 'scale' and 'deploy.replicas'`,
and reads `scale` first (types.ServiceConfig.GetScale)."""

from __future__ import annotations

import pytest

from advisor.engine import make_settings, run
from advisor.loaders.infra_yaml import load
from advisor.path.model import client_hop
from advisor.rules.pgb import copies

API = """\
services:
  api:
    image: ghcr.io/acme/orders-api:4.1.0
{extra}    environment:
      DATABASE_URL: postgres://orders@pgbouncer:6432/orders?sslmode=disable&pool_max_conns=30
{after}"""


def _client(path) -> tuple:
    """The hop of the only client endpoint of a compose file."""
    [doc] = [d for d in load(str(path), {}) if d.kind == "client"]
    [ep] = doc.model.endpoints
    return client_hop(doc, ep)


def _write(tmp_path, text: str, name: str = "docker-compose.yml"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / name
    path.write_text(text)
    return path


def _col(text: str, line: int, word: str) -> int:
    return text.split("\n")[line - 1].index(word) + 1


@pytest.mark.parametrize("extra,after,count,said,line,word", [
    ("", "    deploy:\n      replicas: 4\n", 4, "deploy.replicas: 4 of compose service api", 7, "4"),
    ("    scale: 3\n", "", 3, "scale: 3 of compose service api", 4, "3"),
    ("    scale: \"4\"\n", "    deploy:\n      replicas: 4\n", 4,
     "scale: 4 and deploy.replicas: 4 of compose service api", 4, "4"),  # (inside the quotes)
    ("", "    deploy:\n      mode: replicated\n      replicas: 6\n", 6, "deploy.replicas: 6 of compose service api", 8,
     "6"),
])
def test_a_compose_services_copies_are_its_clients(tmp_path, extra, after, count, said, line, word):
    text = API.format(extra=extra, after=after)
    hop = _client(_write(tmp_path, text))
    assert hop.replicas == count
    assert hop.replicas_from[0] == said
    span = hop.replicas_from[1]
    assert (span.file, span.line, span.col) == (str(tmp_path / "docker-compose.yml"), line, _col(text, line, word))


@pytest.mark.parametrize("extra,after,said", [
    # a value of the shell's environment: not known where the file is read
    ("", "    deploy:\n      replicas: ${API_REPLICAS:-4}\n",
     "deploy.replicas: ${API_REPLICAS:-4} of compose service api"),
    # two different numbers: docker compose refuses the file
    ("    scale: 2\n", "    deploy:\n      replicas: 4\n",
     "scale: 2 and deploy.replicas: 4 of compose service api, which docker compose refuses: can't set distinct "
     "values on 'scale' and 'deploy.replicas'"),
    # more than one container of a fixed name: docker compose refuses it too
    ("    container_name: orders-api\n", "    deploy:\n      replicas: 3\n",
     "deploy.replicas: 3 of compose service api, which docker compose refuses with container_name (a container "
     "name must be unique)"),
])
def test_copies_not_known_count_once_and_say_so(tmp_path, extra, after, said):
    hop = _client(_write(tmp_path, API.format(extra=extra, after=after)))
    assert hop.replicas == 1 and hop.replicas_from is None
    assert hop.replicas_unknown[0] == said


@pytest.mark.parametrize("after", ["", "    deploy:\n      resources:\n        limits: {memory: 1g}\n",
                                   "    scale: 1\n"])
def test_one_container_says_nothing(tmp_path, after):
    hop = _client(_write(tmp_path, API.format(extra="", after=after)))
    assert (hop.replicas, hop.replicas_from, hop.replicas_unknown) == (1, None, None)


def test_an_override_file_sets_the_copies_of_the_base_files_client(tmp_path):
    """`docker compose up` merges docker-compose.override.yml over the base file: the copies it
    sets are the base client's, said at the override's line; `!reset` removes them again."""
    base = _write(tmp_path, API.format(extra="", after="    deploy:\n      replicas: 2\n"))
    override = _write(tmp_path, "services:\n  api:\n    deploy:\n      replicas: 5\n", "docker-compose.override.yml")
    hop = _client(base)
    assert hop.replicas == 5 and hop.replicas_from[0] == "deploy.replicas: 5 of compose service api"
    assert (hop.replicas_from[1].file, hop.replicas_from[1].line) == (str(override), 4)
    override.write_text("services:\n  api:\n    deploy:\n      replicas: !reset null\n")
    assert _client(base).replicas == 1
    # an override beside another base file than the one `docker compose up` reads is not merged over it
    other = _write(tmp_path / "two", API.format(extra="", after=""), "docker-compose.yml")
    _write(tmp_path / "two", "services: {}\n", "compose.yaml")
    _write(tmp_path / "two", "services:\n  api:\n    scale: 5\n", "compose.override.yaml")
    assert _client(other).replicas == 1


def test_an_overlays_own_client_takes_the_merged_services_copies(tmp_path):
    """A client whose connection string the overlay writes runs in the merged service: the base's
    deploy.replicas counts for it (and the overlay's scale would win)."""
    base = _write(tmp_path, API.format(extra="", after="    deploy:\n      replicas: 3\n"))
    prod = _write(tmp_path, "services:\n  api:\n    environment:\n      DATABASE_URL: "
                  "postgres://orders@pgbouncer:6432/orders?sslmode=require&pool_max_conns=10\n", "compose.prod.yaml")
    hop = _client(prod)
    assert hop.replicas == 3 and hop.replicas_from[1].file == str(base)
    # a -f overlay is not merged by `docker compose up` alone: the base's client keeps its own
    prod.write_text("services:\n  api:\n    deploy:\n      replicas: 8\n")
    assert _client(base).replicas == 3


PGBOUNCER = """\
services:
  pgbouncer:
    image: edoburu/pgbouncer:v1.23.1-p2
    environment:
      - DATABASE_URL=postgres://orders@db:5432/orders
      - DEFAULT_POOL_SIZE=30
{after}"""


def _pgbouncer(path):
    [doc] = [d for d in load(str(path), {}) if d.kind == "pgbouncer"]
    return doc


@pytest.mark.parametrize("after,count,said", [
    ("    deploy:\n      replicas: 2\n", 2,
     " × 2 containers (deploy.replicas: 2, each with its own pools in the containers of compose service pgbouncer)"),
    ("    scale: 3\n", 3,
     " × 3 containers (scale: 3, each with its own pools in the containers of compose service pgbouncer)"),
    ("    deploy:\n      replicas: ${PGBOUNCER_REPLICAS}\n", None, ""),  # not known: every sum is unknown
    ("", 1, ""),
])
def test_a_compose_pgbouncers_copies_each_have_their_pools(tmp_path, after, count, said):
    path = _write(tmp_path, PGBOUNCER.format(after=after))
    found, text, spans = copies(_pgbouncer(path))
    assert (found, text) == (count, said)
    if count and count > 1:
        assert (spans[0].file, spans[0].line) == (str(path), 8 if "deploy" in after else 7)


def test_an_override_sets_a_merged_pgbouncers_copies(tmp_path):
    _write(tmp_path, PGBOUNCER.format(after=""))
    override = _write(tmp_path, "services:\n  pgbouncer:\n    scale: 2\n", "docker-compose.override.yml")
    found, _, spans = copies(_pgbouncer(override))
    assert found == 2 and spans[0].file == str(override)


def test_pgb016_and_path005_count_a_compose_services_copies(tmp_path):
    """End to end: four api containers with a pool of 30 each (120) through a PgBouncer of two
    containers admitting 50 each (100); each container's pool of 30 for orders twice (60) against
    the server's 47."""
    folder = tmp_path / "app"
    _write(folder, API.format(extra="", after="    deploy:\n      replicas: 4\n")
           + PGBOUNCER.split("services:\n", 1)[1].format(after="      - MAX_CLIENT_CONN=50\n      - LISTEN_PORT=6432\n"
                                                               "      - POOL_MODE=transaction\n    scale: 2\n")
           + "  db:\n    image: postgres:16\n    command: postgres -c max_connections=50\n")
    report = run(make_settings({"paths": [str(folder)], "select": ["PATH005", "PGB016"]}, use_config=False))
    messages = sorted((f.code, f.message) for f in report.findings)
    assert [c for c, _ in messages] == ["PATH005", "PGB016"], messages
    assert "(pool_max_conns 30) × 4 replicas (deploy.replicas: 4 of compose service api) = 120 connections" in messages[0][1]
    assert "max_client_conn = 50 × 2 containers (scale: 2, each with its own pools in the containers of compose " \
           "service pgbouncer) = 100" in messages[0][1]
    assert "= 60 server connections > PostgreSQL" in messages[1][1]


@pytest.mark.parametrize("kind,replicas,said", [
    ("Deployment", "  replicas: {{ .Values.replicaCount }}\n", "replicas: {{ .Values.replicaCount }} of Deployment api"),
    ("DaemonSet", "", "pods: one per node (DaemonSet) of DaemonSet api"),
])
def test_a_kubernetes_count_not_known_is_said_the_same_way(tmp_path, kind, replicas, said):
    """The same words for a Kubernetes workload whose pods pgpath cannot count."""
    text = (f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: api\nspec:\n{replicas}  template:\n    spec:\n"
            "      containers:\n        - name: api\n          image: ghcr.io/acme/api:1.0\n          env:\n"
            "            - name: DATABASE_URL\n"
            "              value: postgres://app@pgbouncer:6432/app?sslmode=disable&pool_max_conns=30\n")
    hop = _client(_write(tmp_path, text, "api.yaml"))
    assert hop.replicas == 1 and hop.replicas_unknown[0] == said


def test_a_compose_file_of_clients_alone_is_read_for_its_copies(tmp_path):
    """A compose file that runs no PostgreSQL or PgBouncer (the application's own, beside the
    pooler's configuration) is read by the compose reader when a service sets its copies."""
    from advisor.loaders import detect_kind

    folder = tmp_path / "app"
    compose_file = _write(folder, API.format(extra="", after="    deploy:\n      replicas: 4\n"))
    assert detect_kind(str(compose_file), compose_file.read_text()) == "kubernetes"
    (folder / "pgbouncer.ini").write_text("[databases]\norders = host=10.0.0.5 dbname=orders\n\n[pgbouncer]\n"
                                          "listen_addr = *\nlisten_port = 6432\npool_mode = transaction\n"
                                          "max_client_conn = 100\n")
    report = run(make_settings({"paths": [str(folder)], "select": ["PATH005"]}, use_config=False))
    [finding] = report.findings
    assert "(pool_max_conns 30) × 4 replicas (deploy.replicas: 4 of compose service api) = 120 connections" in finding.message
    plain = _write(tmp_path / "plain", API.format(extra="", after=""))
    assert detect_kind(str(plain), plain.read_text()) != "kubernetes"  # as before: the client reader's


def test_a_connection_string_the_override_sets_again_is_one_client(tmp_path):
    """The override file sets the api's DATABASE_URL again (environment merges by name): `docker
    compose up` runs the override's value in each of the 3 containers, and the base file's is no
    second client (before, both were counted: 40 × 3 + 30 × 3). Checked alone, the base file
    keeps its own (the override's replicas still count: compose up merges them)."""
    folder = tmp_path / "app"
    base = _write(folder, API.format(extra="", after="") + PGBOUNCER.split("services:\n", 1)[1].format(
        after="      - MAX_CLIENT_CONN=80\n      - LISTEN_PORT=6432\n      - POOL_MODE=transaction\n"))
    _write(folder, "services:\n  api:\n    environment:\n      - DATABASE_URL=postgres://orders@pgbouncer:6432/"
           "orders?sslmode=disable&pool_max_conns=40\n    deploy:\n      replicas: 3\n", "docker-compose.override.yml")
    report = run(make_settings({"paths": [str(folder)], "select": ["PATH005"]}, use_config=False))
    [finding] = report.findings
    assert "clients can open DATABASE_URL (pool_max_conns 40) × 3 replicas (deploy.replicas: 3 of compose service api) = 120 " \
           "connections" in finding.message
    assert len([p for p in report.paths if p.hops[0].kind == "client"]) == 1
    report = run(make_settings({"paths": [str(base)], "select": ["PATH005"]}, use_config=False))
    [finding] = report.findings
    assert "(pool_max_conns 30) × 3 replicas (deploy.replicas: 3 of compose service api) = 90 connections" in finding.message


def test_a_count_that_is_no_number_is_not_known(tmp_path):
    """`scale: {{ .Values.api.replicas }}` (a templated compose file: YAML reads a mapping) in the
    override file: shown as written, not known."""
    base = _write(tmp_path, API.format(extra="", after=""))
    _write(tmp_path, "services:\n  api:\n    scale: {{ .Values.api.replicas }}\n", "docker-compose.override.yml")
    hop = _client(base)
    assert hop.replicas == 1 and hop.replicas_unknown[0] == "scale: {{ .Values.api.replicas }} of compose service api"
