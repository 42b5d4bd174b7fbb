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
