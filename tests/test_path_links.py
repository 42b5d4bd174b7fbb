"""Linking by exact evidence (blind audit 15, D6-D8): the paths `pgpath path --format json`
assembles for the audit's reproductions (tests/links/), and the findings `pgpath check` reports
on them. A file with no evidence is never paired."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LINKS = Path(__file__).resolve().parent / "links"


def pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args, "--no-config"], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def case(tmp_path: Path, name: str) -> Path:
    """A copy of tests/links/<name> (checked from inside it, as a user would)."""
    shutil.copytree(LINKS / name, tmp_path / name)
    return tmp_path / name


def paths(folder: Path) -> list[dict]:
    r = pgpath("path", ".", "--format", "json", cwd=folder)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["paths"]


def hops(found: list[dict]) -> list[list[tuple[str, str]]]:
    """Each path of more than one hop as (kind, file) pairs."""
    return [[(h["kind"], h["file"]) for h in p["hops"]] for p in found if len(p["hops"]) > 1]


def findings(folder: Path, *select: str) -> list[tuple[str, str, str]]:
    args = ["check", ".", "--format", "json"] + (["--select", ",".join(select)] if select else [])
    r = pgpath(*args, cwd=folder)
    return sorted((f["code"], f["severity"], f["span"]["file"]) for f in json.loads(r.stdout)["findings"])


# ------------------------------------------------------------------------------------------------
# D7: an RDS Proxy's endpoint names the proxy; its aws_db_proxy_target names the instance behind it


@pytest.mark.parametrize("name,client,infra", [
    ("r6b", "./application.yml", "./rds_proxy.tf"),                                  # co-located
    ("s08", "./payments-svc/src/main/resources/application.yml", "./infra/rds_proxy.tf"),  # sibling folders
])
def test_a_client_of_an_rds_proxy_endpoint_goes_through_the_proxy_to_its_target(tmp_path, name, client, infra):
    folder = case(tmp_path, name)
    found = paths(folder)
    assert hops(found) == [[("client", client), ("aws-rds-proxy", infra), ("postgres", infra)]]
    [path] = [p for p in found if len(p["hops"]) > 1]
    assert path["evidence"][0].endswith("the endpoint of AWS RDS Proxy payments-proxy")
    assert path["evidence"][1].startswith("AWS RDS Proxy payments-proxy sends to aws_db_instance.payments "
                                          "(aws_db_proxy_target.payments, ")
    # the audit's expectations: the proxy's 900 s closes Hikari's 1800 s connections first
    # (PATH002, info: Hikari validates on borrow); socketTimeout 60 s < statement_timeout 120 s
    # (PATH003) and Hikari's "30s" (APP009) as before
    got = findings(folder)
    assert ("PATH002", "info", client) in got
    assert ("PATH003", "warning", client) in got
    assert ("APP009", "error", client) in got
    r = pgpath("check", ".", "--select", "PATH002", cwd=folder)
    assert "≥ AWS RDS Proxy payments-proxy idle timeout 900 s" in r.stdout
    assert "fix: max-lifetime: 870000 under 0.spring.datasource.hikari" in r.stdout


def test_an_rds_proxy_target_naming_another_instance_links_the_proxy_alone(tmp_path):
    """No aws_db_proxy_target for this proxy's instance: the path ends at the proxy (no guess)."""
    folder = case(tmp_path, "r6b")
    tf = folder / "rds_proxy.tf"
    tf.write_text(tf.read_text().replace("aws_db_instance.payments.identifier", "aws_db_instance.other.identifier"))
    assert hops(paths(folder)) == [[("client", "./application.yml"), ("aws-rds-proxy", "./rds_proxy.tf")]]


def test_an_rds_proxy_without_a_target_resource_reaches_the_server_on_the_clients_port(tmp_path):
    """No aws_db_proxy_target read: the proxy (named by the endpoint) is in front of the server
    the client's folder has on its port, the neighbourhood's evidence as before."""
    folder = case(tmp_path, "r6b")
    tf = folder / "rds_proxy.tf"
    text = tf.read_text()
    start = text.index('resource "aws_db_proxy_target"')
    tf.write_text(text[:start] + text[text.index("}\n", start) + 2:])
    [path] = [p for p in paths(folder) if len(p["hops"]) > 1]
    assert [h["kind"] for h in path["hops"]] == ["client", "aws-rds-proxy", "postgres"]
    assert path["evidence"][1] == "0.spring.datasource connects to port 5432, where PostgreSQL rds_proxy.tf listens"


# ------------------------------------------------------------------------------------------------
# D8: a loopback host reaches only its own host, never a managed server by port


def test_a_localhost_client_is_not_paired_with_a_managed_server_by_port(tmp_path):
    folder = case(tmp_path, "r6b")
    found = paths(folder)
    local = [p for p in found if p["hops"][0]["kind"] == "client" and p["name"].endswith("1.spring.datasource")]
    assert [len(p["hops"]) for p in local] == [1]
    assert local[0]["evidence"] == [
        "1.spring.datasource connects to localhost:5432/payments, a loopback address of its own host; PostgreSQL "
        "rds_proxy.tf listens on port 5432 but is a managed server (aws-rds), on the cloud's hosts: not paired"]


@pytest.mark.parametrize("host,paired", [("localhost", True), ("127.0.0.1", True), ("db.internal", True)])
def test_a_localhost_client_still_reaches_a_server_file_beside_it(tmp_path, host, paired):
    """A postgresql.conf beside the client may be its own host's: loopback changes nothing there."""
    (tmp_path / "postgresql.conf").write_text("port = 5432\n")
    (tmp_path / ".env").write_text(f"DATABASE_URL=postgresql://app@{host}:5432/app\n")
    assert hops(paths(tmp_path)) == ([[("client", "./.env"), ("postgres", "./postgresql.conf")]] if paired else [])


COMPOSE = """services:
  db:
    image: postgres:16
  app:
    image: example/app
    environment:
      DATABASE_URL: postgresql://app@{host}:5432/app
"""


@pytest.mark.parametrize("host,paired", [("localhost", False), ("db", True)])
def test_a_compose_service_on_localhost_does_not_reach_another_service(tmp_path, host, paired):
    """Each compose service has its own network namespace: `localhost` in app is app's container."""
    (tmp_path / "compose.yaml").write_text(COMPOSE.format(host=host))
    assert hops(paths(tmp_path)) == ([[("client", "./compose.yaml"), ("postgres", "./compose.yaml")]] if paired
                                     else [])


# ------------------------------------------------------------------------------------------------
# D6: an exact IP:port or DNS name is evidence wherever the files are in the tree


def test_haproxy_reaches_the_patroni_member_whose_connect_address_its_server_names(tmp_path):
    folder = case(tmp_path, "s03")
    found = paths(folder)
    assert hops(found) == [[("haproxy", "./haproxy/haproxy.cfg"), ("postgres", "./patroni/patroni.yml")]] * 2
    assert found[0]["evidence"][0].startswith(
        "HAProxy listen primary sends to 10.10.1.11:5432 (server pg-1), the postgresql.connect_address of "
        "PostgreSQL patroni.yml")
    # the audit's PATH003 (45 min statement_timeout > HAProxy 30 min), found co-located before (r4)
    assert [f for f in findings(folder) if f[0] == "PATH003"] == [("PATH003", "warning", "./patroni/patroni.yml")] * 2


@pytest.mark.parametrize("written", ["annotation", "loadBalancerIP"])
def test_a_client_at_a_services_load_balancer_ip_reaches_what_the_service_selects(tmp_path, written):
    folder = case(tmp_path, "s05")
    if written == "loadBalancerIP":  # the audit's s05c
        service = folder / "deploy/postgres/service.yaml"
        text = service.read_text().replace("    service.beta.kubernetes.io/azure-load-balancer-ipv4: 10.42.8.50\n", "")
        service.write_text(text.replace("  type: LoadBalancer\n", "  type: LoadBalancer\n  loadBalancerIP: 10.42.8.50\n"))
    found = paths(folder)
    # (the StatefulSet runs the ConfigMap's postgresql.conf: one server, read from the ConfigMap)
    assert hops(found) == [[("client", "./deploy/notifier/deployment.yaml"), ("azure-lb", "./deploy/postgres/service.yaml"),
                            ("postgres", "./deploy/postgres/configmap.yaml")]]
    assert found[0]["evidence"][0] == ("DATABASE_URL connects to 10.42.8.50:5432, an address of Azure Load Balancer "
                                       "postgres-lb (./deploy/postgres/service.yaml)")
    got = findings(folder)
    # sslmode=require against the postgres image's ssl off (the audit's certain failure), and the
    # Azure LB's 240 s against the ConfigMap's tcp_keepalives_idle 300
    assert ("PATH004", "error", "./deploy/notifier/deployment.yaml") in got
    assert ("PATH001", "warning", "./deploy/postgres/configmap.yaml") in got


def test_a_client_at_an_external_dns_hostname_reaches_the_services_cluster(tmp_path):
    folder = case(tmp_path, "s01")
    found = paths(folder)
    assert hops(found) == [[("client", "./app/src/main/resources/application.yml"),
                            ("aws-nlb", "./k8s/db/external-service.yaml"), ("postgres", "./k8s/db/cluster.yaml")]]
    # the NLB's flow timer against the pool: PATH001's finding (one cause, one finding), not also PATH002's
    got = findings(folder)
    assert ("PATH001", "warning", "./k8s/db/cluster.yaml") in got
    assert not any(code == "PATH002" for code, *_ in got), got


def test_a_route53_record_aliasing_an_nlb_puts_the_nlb_on_the_clients_path(tmp_path):
    """The NLB's target (PgBouncer EC2 instances) names no file: the PgBouncer of the sibling
    folder, on the NLB's target port but at no exact address, is not paired."""
    folder = case(tmp_path, "s04")
    found = paths(folder)
    assert hops(found) == [[("client", "./ledger/.env"), ("aws-nlb", "./terraform/nlb.tf")]]
    assert found[0]["evidence"] == [
        "DATABASE_URL connects to ledger-db.internal.example.com:6432, the name aws_route53_record.pgbouncer "
        "(./terraform/nlb.tf:46) gives AWS NLB aws_lb_listener.pgbouncer"]


def test_an_address_two_servers_claim_links_nothing(tmp_path):
    """Two Patroni members written with one connect_address: ambiguous, so no pairing."""
    folder = case(tmp_path, "s03")
    shutil.copytree(folder / "patroni", folder / "patroni-copy")
    assert hops(paths(folder)) == []


@pytest.mark.parametrize("address", ["0.0.0.0:5432", "127.0.0.1:5432", "localhost:5432"])
def test_wildcard_and_loopback_addresses_are_no_evidence(tmp_path, address):
    folder = case(tmp_path, "s03")
    patroni = folder / "patroni/patroni.yml"
    patroni.write_text(patroni.read_text().replace("connect_address: 10.10.1.11:5432", f"connect_address: {address}"))
    cfg = folder / "haproxy/haproxy.cfg"
    cfg.write_text(cfg.read_text().replace("10.10.1.11:5432", address))
    assert hops(paths(folder)) == []


# ------------------------------------------------------------------------------------------------
# `check` says when clients and servers were read but not paired: `0 findings` is no clean bill


def test_check_counts_the_clients_and_servers_on_no_path_and_path_says_why(tmp_path):
    (tmp_path / "db").mkdir()
    (tmp_path / "db/postgresql.conf").write_text("port = 5432\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app/.env").write_text("DATABASE_URL=postgresql://app@db.other.example.com:5432/app\n")
    text = pgpath("check", ".", cwd=tmp_path).stdout.splitlines()
    assert text[-1] == ("0 connection paths; 1 client and 1 server (PgBouncer, HAProxy or PostgreSQL) on no path: "
                        "pgpath pairs files only on evidence (a port in one folder, an exact address or name in "
                        "any), so no path rule checked them; `pgpath path` says why for each client, or name them "
                        "on a deployment (deployments: in pgpath.yaml)")
    summary = json.loads(pgpath("check", ".", "--format", "json", cwd=tmp_path).stdout)["summary"]
    assert (summary["unpaired_clients"], summary["unpaired_servers"]) == (1, 1)
    assert ("client on no path: .env: DATABASE_URL: DATABASE_URL connects to db.other.example.com:5432/app, which "
            "no file here listens on") in pgpath("path", ".", cwd=tmp_path).stdout


@pytest.mark.parametrize("files", [
    {"postgresql.conf": "port = 5432\n"},                                       # a server alone: nothing to pair
    {"postgresql.conf": "port = 5432\n", ".env": "DATABASE_URL=postgresql://app@db:5432/app\n"},  # paired
])
def test_no_unpaired_line_when_nothing_could_be_paired_or_everything_is(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert "on no path" not in pgpath("check", ".", cwd=tmp_path).stdout
    assert "unpaired_clients" not in json.loads(pgpath("check", ".", "--format", "json", cwd=tmp_path).stdout)["summary"]


# ------------------------------------------------------------------------------------------------
# the audit's D8, second part: a Spring document only a development profile activates is a
# development section; its info findings are held back as a development file's are


def dev_profile_case(tmp_path: Path) -> Path:
    """r6b with the local profile's datasource on a developer's database server over the network
    (APP003 reports only a host reached over a network: `localhost` draws none)."""
    folder = case(tmp_path, "r6b")
    yml = folder / "application.yml"
    yml.write_text(yml.read_text().replace("jdbc:postgresql://localhost:5432/", "jdbc:postgresql://devdb.internal:5432/"))
    return folder


@pytest.mark.parametrize("profile,held", [("local", True), ("dev", True), ("local | test", True), ("prod", False),
                                          ("!local", False), ("local, prod", False)])
def test_a_spring_development_profiles_info_findings_are_held_back(tmp_path, profile, held):
    folder = dev_profile_case(tmp_path)
    yml = folder / "application.yml"
    yml.write_text(yml.read_text().replace("on-profile: local", f"on-profile: \"{profile}\""))
    data = json.loads(pgpath("check", ".", "--format", "json", cwd=folder).stdout)
    app003 = sorted(f["span"]["line"] for f in data["findings"] if f["code"] == "APP003")
    assert app003 == ([6] if held else [6, 22])  # the production datasource's stays
    assert [(h["file"], h["codes"]) for h in data["held_back"]] == ([("./application.yml", ["APP001", "APP003"])]
                                                                    if held else [])
    if held:
        assert data["held_back"][0]["reason"].startswith("its Spring profile ")
        again = json.loads(pgpath("check", ".", "--format", "json", "--include-development", cwd=folder).stdout)
        assert sorted(f["span"]["line"] for f in again["findings"] if f["code"] == "APP003") == [6, 22]


def test_a_file_named_on_the_command_line_keeps_its_development_sections_findings(tmp_path):
    folder = dev_profile_case(tmp_path)
    data = json.loads(pgpath("check", "application.yml", "--format", "json", cwd=folder).stdout)
    assert sorted(f["span"]["line"] for f in data["findings"] if f["code"] == "APP003") == [6, 22]


def test_a_connection_string_unknown_as_a_whole_is_paired_with_nothing(tmp_path):
    """`DATABASE_URL=${DATABASE_URL}` names no host and no port: libpq's default 5432 is no evidence
    of where it points, so the PostgreSQL beside it is not its server (as for a Python client whose
    URL comes from the environment); the path view says why, and a literal URL is still paired."""
    (tmp_path / ".env").write_text("DATABASE_URL=${DATABASE_URL}\n")
    (tmp_path / "postgresql.conf").write_text("listen_addresses = '*'\nport = 5432\n")
    r = pgpath("path", ".", cwd=tmp_path)
    assert "client on no path: .env: DATABASE_URL" in r.stdout and "where it points is not known" in r.stdout, r.stdout
    assert "0 connection paths" in r.stdout, r.stdout
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://app@db.internal:5432/app\n")
    r = pgpath("path", ".", cwd=tmp_path)
    assert "path 1 (assumed): .env: DATABASE_URL" in r.stdout, r.stdout


def test_an_azure_flexible_server_is_reached_at_the_fqdn_its_name_gives(tmp_path):
    """Azure names a flexible server's host <name>.postgres.database.azure.com: a client in another
    folder that connects there is on its path (audit16 s02), one that names another server is not;
    a server with no configuration resource is still a server (Azure's keepalive defaults)."""
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform" / "postgres.tf").write_text(
        'resource "azurerm_postgresql_flexible_server" "orders" {\n'
        '  name                          = "Orders-Prod"\n'
        '  version                       = "16"\n'
        '  sku_name                      = "GP_Standard_D4ds_v5"\n}\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".env").write_text(
        "DATABASE_URL=postgresql://app@orders-prod.postgres.database.azure.com:5432/orders?sslmode=verify-full\n")
    r = pgpath("path", ".", cwd=tmp_path)
    assert "path 1 (assumed): .env: DATABASE_URL" in r.stdout, r.stdout
    assert "the FQDN (orders-prod.postgres.database.azure.com) of PostgreSQL postgres.tf" in r.stdout, r.stdout
    assert "tcp_keepalives_idle = 120" in r.stdout, r.stdout  # the platform's default, on the leg
    assert "Azure PostgreSQL version = 16 in" in r.stdout, r.stdout  # quoted without the alignment spaces
    (tmp_path / "app" / ".env").write_text(
        "DATABASE_URL=postgresql://app@orders-stage.postgres.database.azure.com:5432/orders?sslmode=verify-full\n")
    r = pgpath("path", ".", cwd=tmp_path)
    assert "0 connection paths" in r.stdout and "orders-stage.postgres.database.azure.com" in r.stdout, r.stdout


RDS_TF = '''resource "aws_db_instance" "orders" {
  identifier     = "orders-prod"
  engine         = "postgres"
  engine_version = "16.3"
  instance_class = "db.r6g.large"
}
'''


def test_an_rds_endpoint_names_the_instance_whose_identifier_it_starts_with(tmp_path):
    """AWS writes an instance's endpoint <identifier>.<id>.<region>.rds.amazonaws.com: a client in
    another folder that connects there reaches the instance of that identifier (audit16 s03); an
    instance with no parameter group named has RDS's default one (default.postgres16: keepalives
    every 300 s). Another identifier, an RDS Proxy endpoint, or two instances claiming the
    identifier link nothing."""
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(RDS_TF)
    (tmp_path / "app").mkdir()
    url = "DATABASE_URL=postgresql://app@{host}:5432/orders?sslmode=verify-full\n"
    (tmp_path / "app" / ".env").write_text(url.format(host="orders-prod.cxyz123abc.eu-west-1.rds.amazonaws.com"))
    r = pgpath("path", ".", cwd=tmp_path)
    assert "the endpoint of DB instance orders-prod (aws_db_instance.orders, ./infra/main.tf:5), whose parameter " \
           "group default.postgres16 is PostgreSQL main.tf" in r.stdout, r.stdout
    assert "(tcp_keepalives_idle = 300)" in r.stdout and "engine_version = 16 in" in r.stdout, r.stdout
    for host in ("orders-stage.cxyz123abc.eu-west-1.rds.amazonaws.com",
                 "orders-prod.proxy-cxyz123abc.eu-west-1.rds.amazonaws.com"):
        (tmp_path / "app" / ".env").write_text(url.format(host=host))
        assert "0 connection paths" in pgpath("path", ".", cwd=tmp_path).stdout, host
    (tmp_path / "app" / ".env").write_text(url.format(host="orders-prod.cxyz123abc.eu-west-1.rds.amazonaws.com"))
    (tmp_path / "infra-eu").mkdir()
    (tmp_path / "infra-eu" / "main.tf").write_text(RDS_TF)
    assert "0 connection paths" in pgpath("path", ".", cwd=tmp_path).stdout


AURORA_TF = '''resource "aws_rds_cluster" "orders" {
  cluster_identifier = "orders-prod"
  engine             = "aurora-postgresql"
  engine_version     = "16.4"
  master_username    = "orders_admin"
}

resource "aws_rds_cluster_instance" "orders" {
  count              = 2
  identifier         = "orders-prod-${count.index}"
  cluster_identifier = aws_rds_cluster.orders.id
  instance_class     = "db.r6g.large"
  engine             = aws_rds_cluster.orders.engine
}
'''


def test_an_aurora_cluster_endpoint_names_the_cluster(tmp_path):
    """AWS writes an Aurora cluster's writer endpoint <cluster>.cluster-<id>.<region>.rds.amazonaws.com
    and its reader endpoint <cluster>.cluster-ro-<id>...: a client in another folder connecting to
    either reaches the cluster whose cluster_identifier it starts with; a cluster naming no DB
    cluster parameter group has Aurora's default one (keepalives 300/30/2); a custom endpoint
    (.cluster-custom-) names an endpoint, not a cluster, and links nothing."""
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(AURORA_TF)
    (tmp_path / "app").mkdir()
    url = "DATABASE_URL=postgresql://app@{host}:5432/orders?sslmode=verify-full\n"
    for host, said in (("orders-prod.cluster-cxyz123abc.eu-west-1.rds.amazonaws.com", "the cluster endpoint"),
                       ("orders-prod.cluster-ro-cxyz123abc.eu-west-1.rds.amazonaws.com", "the reader endpoint")):
        (tmp_path / "app" / ".env").write_text(url.format(host=host))
        r = pgpath("path", ".", cwd=tmp_path)
        assert f"{said} of DB cluster orders-prod (aws_rds_cluster.orders, ./infra/main.tf:1), whose DB cluster " \
               "parameter group default.aurora-postgresql16 is PostgreSQL main.tf" in r.stdout, r.stdout
        assert "(tcp_keepalives_idle = 300)" in r.stdout, r.stdout
    (tmp_path / "app" / ".env").write_text(
        url.format(host="orders-reporting.cluster-custom-cxyz123abc.eu-west-1.rds.amazonaws.com"))
    assert "0 connection paths" in pgpath("path", ".", cwd=tmp_path).stdout
