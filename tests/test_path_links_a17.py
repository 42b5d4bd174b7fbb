"""Next hops by name and by exact address (blind audit 17, D2, D5, D6): the paths `pgpath path
--format json` assembles for the audit's scenarios (tests/links/a17/, without their pgpath.yaml)
and what `path` and `init` say when a next hop names nothing read. A file with no evidence of
sharing a path is never paired."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.schemas import validate

A17 = Path(__file__).resolve().parent / "links" / "a17"


def pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args, "--no-config"], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def case(tmp_path: Path, name: str) -> Path:
    shutil.copytree(A17 / name, tmp_path / name)
    return tmp_path / name


def paths(folder: Path) -> list[dict]:
    r = pgpath("path", ".", "--format", "json", cwd=folder)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    validate(data, "path.schema.json")
    return data["paths"]


def hops(found: list[dict]) -> list[list[tuple[str, str]]]:
    return [[(h["kind"], h["file"]) for h in p["hops"]] for p in found if len(p["hops"]) > 1]


def findings(folder: Path, *select: str) -> list[tuple[str, str, str]]:
    args = ["check", ".", "--format", "json"] + (["--select", ",".join(select)] if select else [])
    r = pgpath(*args, cwd=folder)
    return sorted((f["code"], f["severity"], f["span"]["file"]) for f in json.loads(r.stdout)["findings"])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


# ------------------------------------------------------------------------------------------------
# D2: a PgBouncer [databases] host or an HAProxy server naming a Kubernetes Service, or a
# StatefulSet pod through its headless Service, reaches the server the Service selects

S05_PATH = [("client", "./rails/config/database.yml"), ("pgbouncer", "./k8s/pgbouncer/pgbouncer.yaml"),
            ("postgres", "./k8s/db/postgres.yaml")]
S05_HOST = "host=postgres-0.postgres.shop.svc.cluster.local"


def test_a_pgbouncer_naming_a_statefulset_pod_reaches_its_server_and_the_tls_mismatch_is_found(tmp_path):
    folder = case(tmp_path, "s05")
    found = paths(folder)
    assert hops(found) == [S05_PATH]
    [path] = [p for p in found if len(p["hops"]) > 1]
    assert ("PgBouncer database shop connects to postgres-0.postgres.shop.svc.cluster.local:5432, the pod "
            "postgres-0 of StatefulSet postgres through its headless Service postgres in namespace shop of "
            "PostgreSQL postgres.yaml") in path["evidence"]
    # server_tls_protocols = tlsv1.2 against ssl_min_protocol_version = 'TLSv1.3': every login fails
    assert ("APP002", "error", "./k8s/pgbouncer/pgbouncer.yaml") in findings(folder, "APP002")


@pytest.mark.parametrize("host", ["postgres", "postgres.shop", "postgres.shop.svc", "postgres.shop.svc.cluster.local",
                                  "postgres-0.postgres", "postgres-0.postgres.shop",
                                  "postgres-0.postgres.shop.svc"])
def test_every_name_of_the_service_or_the_pod_reaches_the_server(tmp_path, host):
    folder = case(tmp_path, "s05")
    edit(folder / "k8s/pgbouncer/pgbouncer.yaml", S05_HOST, f"host={host}")
    assert hops(paths(folder)) == [S05_PATH]


@pytest.mark.parametrize("host,why", [
    ("postgres.other.svc.cluster.local", "another namespace"),
    ("postgres-0.postgres.other.svc.cluster.local", "another namespace"),
    ("postgres-0.pg-headless.shop.svc.cluster.local", "no such Service"),
    ("pg-0.postgres.shop.svc.cluster.local", "no StatefulSet pg"),
    ("postgres-x.postgres.shop.svc.cluster.local", "not a pod ordinal"),
    ("postgres.shop.example.com", "not a cluster name"),
    ("{{ .Values.db.host }}", "a template value"),
])
def test_a_name_no_service_or_pod_read_answers_to_links_nothing_and_path_says_so(tmp_path, host, why):
    folder = case(tmp_path, "s05")
    edit(folder / "k8s/pgbouncer/pgbouncer.yaml", S05_HOST, f"host={host}")
    found = paths(folder)
    assert hops(found) == [S05_PATH[:2]], why
    [bouncer] = [h for p in found for h in p["hops"] if h["kind"] == "pgbouncer"]
    if why == "a template value":
        assert bouncer["next_hop"]["why"].endswith(":5432, filled in where the file is deployed: where it points is "
                                                   "not known here")
        return
    assert bouncer["next_hop"] == {"found": False, "addresses": [f"{host}:5432"],
                                   "why": f"PgBouncer pgbouncer.yaml [shop] connects to {host}:5432, which no file "
                                          "read listens on"}
    text = pgpath("path", ".", cwd=folder).stdout
    assert f"next hop: PgBouncer pgbouncer.yaml [shop] connects to {host}:5432, which no file read listens on" in text


def test_a_pod_address_needs_the_statefulsets_own_headless_service(tmp_path):
    """A StatefulSet's pods get DNS names under the Service its serviceName names, and no other."""
    folder = case(tmp_path, "s05")
    edit(folder / "k8s/db/postgres.yaml", "  serviceName: postgres\n", "  serviceName: postgres-hl\n")
    assert hops(paths(folder)) == [S05_PATH[:2]]
    edit(folder / "k8s/pgbouncer/pgbouncer.yaml", S05_HOST, "host=postgres.shop.svc.cluster.local")
    assert hops(paths(folder)) == [S05_PATH]  # the Service itself still selects the pods


def test_a_deployments_pods_have_no_pod_address(tmp_path):
    folder = case(tmp_path, "s05")
    edit(folder / "k8s/db/postgres.yaml", "kind: StatefulSet", "kind: Deployment")
    assert hops(paths(folder)) == [S05_PATH[:2]]


def test_an_haproxy_server_naming_the_service_reaches_the_server(tmp_path):
    folder = case(tmp_path, "s05")
    shutil.rmtree(folder / "k8s/pgbouncer")
    (folder / "haproxy").mkdir()
    (folder / "haproxy/haproxy.cfg").write_text(
        "defaults\n    mode tcp\n    timeout client 30m\n    timeout server 30m\n    timeout connect 5s\n\n"
        "listen pg\n    bind :5433\n    server pg0 postgres-0.postgres.shop.svc.cluster.local:5432 check\n")
    found = paths(folder)
    assert [("haproxy", "./haproxy/haproxy.cfg"), ("postgres", "./k8s/db/postgres.yaml")] in hops(found)


# ------------------------------------------------------------------------------------------------
# D5: an HAProxy server by IP address reaches a server only when a file says it has that address


def test_haproxy_servers_at_an_address_no_file_gives_are_not_paired_and_path_and_init_say_so(tmp_path):
    folder = case(tmp_path, "s04")
    found = paths(folder)
    assert hops(found) == [[("client", "./app/.env"), ("haproxy", "./haproxy/haproxy.cfg")],
                           [("client", "./reporting/settings.py"), ("haproxy", "./haproxy/haproxy.cfg")]]
    why = ("HAProxy listen pg_primary sends to 10.30.1.11:5432 (server pg-a) and 10.30.1.12:5432 (server pg-b), "
           "which no file read listens on")
    for p in [p for p in found if len(p["hops"]) > 1]:
        assert p["hops"][1]["next_hop"] == {"found": False, "addresses": ["10.30.1.11:5432", "10.30.1.12:5432"],
                                            "why": why}
    text = pgpath("path", ".", cwd=folder).stdout
    assert f"next hop: {why}" in text
    r = subprocess.run([sys.executable, "-m", "advisor", "init", ".", "-o", "topology.yaml"], cwd=folder,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    written = (folder / "topology.yaml").read_text()
    assert ('      - haproxy: {file: "haproxy/haproxy.cfg", proxy: "pg_primary"}\n'
            f"      # next hop: {why}: name its configuration, e.g. (the PostgreSQL read on no path)\n"
            '      # - postgres: {file: "postgres/postgresql.conf"}\n') in written
    (folder / "postgres/postgresql.conf").unlink()  # no PostgreSQL read on no path: a placeholder
    r = subprocess.run([sys.executable, "-m", "advisor", "init", ".", "-o", "topology.yaml", "--force"], cwd=folder,
                       capture_output=True, text=True, timeout=120)
    assert '      # - postgres: {file: "<path of its postgresql.conf>"}\n' in (folder / "topology.yaml").read_text()


@pytest.mark.parametrize("listen,paired", [("'10.30.1.11'", True), ("'10.30.1.11, 127.0.0.1'", True),
                                           ("'*'", False), ("10.30.1.13", False)])
def test_a_listen_address_naming_the_servers_ip_pairs_it(tmp_path, listen, paired):
    folder = case(tmp_path, "s04")
    edit(folder / "postgres/postgresql.conf", "listen_addresses = '*'", f"listen_addresses = {listen}")
    got = hops(paths(folder))
    assert ([("client", "./app/.env"), ("haproxy", "./haproxy/haproxy.cfg"), ("postgres", "./postgres/postgresql.conf")]
            in got) is paired


# ------------------------------------------------------------------------------------------------
# D6: a client at an Azure LB frontend's static private IP and frontend port goes through the LB

S03_PATH = [("client", "./api/src/db.ts"), ("azure-lb", "./terraform/lb.tf"),
            ("pgbouncer", "./pgbouncer/pgbouncer.ini"), ("postgres", "./terraform/postgres.tf")]


def test_a_client_at_the_azure_lb_frontend_reaches_the_pgbouncer_behind_it(tmp_path):
    folder = case(tmp_path, "s03")
    found = paths(folder)
    assert S03_PATH in hops(found)
    [path] = [p for p in found if p["hops"][0]["file"] == "./api/src/db.ts"]
    # (first, that the code reads its PGHOST from the Deployment's environment: advisor.loaders.clients.node_env)
    assert path["evidence"][0].startswith("pool reads where it connects from the environment of api")
    assert path["evidence"][1:3] == [
        "pool connects to 10.20.4.10:6432, the frontend pgbouncer-fe of Azure Load Balancer azurerm_lb_rule.pgbouncer "
        "(private IP 10.20.4.10, ./terraform/lb.tf:10)",
        "Azure Load Balancer azurerm_lb_rule.pgbouncer forwards to port 6432, where PgBouncer pgbouncer.ini listens, "
        "whose server is in the load balancer's folder (./terraform)"]
    assert len(hops(found)) == 1  # the PgBouncer's own path is this one
    # the LB's 900 s flow is kept by PgBouncer's 120 s probes: no keepalive warning on the client leg
    assert [f for f in findings(folder) if f[0] == "PATH001"] == []


@pytest.mark.parametrize("change", ["another address", "another port", "another frontend"])
def test_a_client_at_another_address_or_frontend_is_not_paired(tmp_path, change):
    folder = case(tmp_path, "s03")
    if change == "another address":  # the code's default and the Deployment's PGHOST, which pg reads first
        edit(folder / "api/src/db.ts", "'10.20.4.10'", "'10.20.4.11'")
        edit(folder / "k8s/payments-api.yaml", '"10.20.4.10"', '"10.20.4.11"')
    elif change == "another port":
        edit(folder / "api/src/db.ts", "port: 6432", "port: 6433")
    else:
        edit(folder / "terraform/lb.tf", 'frontend_ip_configuration_name = "pgbouncer-fe"',
             'frontend_ip_configuration_name = "other-fe"')
    assert not [p for p in hops(paths(folder)) if p[0][1] == "./api/src/db.ts"]


NLB_TF = '''resource "aws_lb" "pgbouncer" {
  name               = "pgbouncer"
  internal           = true
  load_balancer_type = "network"
  subnet_mapping {
    subnet_id            = "subnet-0a"
    private_ipv4_address = "10.0.1.20"
  }
}

resource "aws_lb_target_group" "pgbouncer" {
  name     = "pgbouncer"
  port     = 6432
  protocol = "TCP"
  vpc_id   = "vpc-1"
}

resource "aws_lb_listener" "pgbouncer" {
  load_balancer_arn = aws_lb.pgbouncer.arn
  port              = 6432
  protocol          = "TCP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.pgbouncer.arn
  }
}
'''


@pytest.mark.parametrize("host,paired", [("10.0.1.20", True), ("10.0.1.21", False)])
def test_a_client_at_an_internal_nlbs_static_subnet_address_goes_through_it(tmp_path, host, paired):
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra/nlb.tf").write_text(NLB_TF)
    (tmp_path / "infra/pgbouncer.ini").write_text("[databases]\n* = host=10.0.9.9 port=5432\n\n[pgbouncer]\n"
                                                  "listen_addr = 0.0.0.0\nlisten_port = 6432\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app/.env").write_text(f"DATABASE_URL=postgresql://app@{host}:6432/app\n")
    got = [p for p in hops(paths(tmp_path)) if p[0][0] == "client"]
    assert got == ([[("client", "./app/.env"), ("aws-nlb", "./infra/nlb.tf"), ("pgbouncer", "./infra/pgbouncer.ini")]]
                   if paired else [])


def test_a_loopback_next_hop_says_it_pairs_only_in_its_folder(tmp_path):
    """Corpus audit 19: HAProxy's `server ... 127.0.0.1:5432` said "which no file read listens on" while
    a Patroni file of another folder listens there. A loopback address is paired only with files of
    one folder: the next hop says so, and does not claim no file listens."""
    (tmp_path / "haproxy").mkdir()
    (tmp_path / "postgres").mkdir()
    (tmp_path / "haproxy" / "haproxy.cfg").write_text(
        "defaults\n    mode tcp\n    timeout client 30m\n    timeout server 30m\n    timeout connect 4s\n"
        "listen batman\n    bind *:5000\n    server pg0 127.0.0.1:5432 check\n")
    (tmp_path / "postgres" / "postgresql.conf").write_text("listen_addresses = '127.0.0.1'\nport = 5432\n")
    r = pgpath("path", ".", cwd=tmp_path)
    assert ("next hop: HAProxy listen batman sends to 127.0.0.1:5432 (server pg0), a loopback address of its own "
            "host, where no file of its folder listens (a loopback address is paired only with files of one "
            "folder)") in r.stdout, r.stdout
    assert "which no file read listens on" not in r.stdout
