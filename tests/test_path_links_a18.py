"""A client at the DNS name AWS gives a load balancer reaches it (blind audit 18, D6): scenario s05
(tests/links/a18/s05, without its pgpath.yaml), a Spring application at
`orders-db-nlb-<id>.elb.eu-west-1.amazonaws.com`, the Terraform NLB whose `name` is
`orders-db-nlb`. The name before the last `-<id>` is the evidence; a name no load balancer read
has, or two have, links nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.schemas import validate

A18 = Path(__file__).resolve().parent / "links" / "a18"
HOST = "orders-db-nlb-4f1e2a9c7b.elb.eu-west-1.amazonaws.com"
YML = "src/main/resources/application.yml"


def pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args, "--no-config"], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def case(tmp_path: Path, name: str = "s05") -> Path:
    shutil.copytree(A18 / name, tmp_path / name)
    return tmp_path / name


def paths(folder: Path) -> list[dict]:
    r = pgpath("path", ".", "--format", "json", cwd=folder)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    validate(data, "path.schema.json")
    return data["paths"]


def hops(found: list[dict]) -> list[list[tuple[str, str]]]:
    return [[(h["kind"], h["file"]) for h in p["hops"]] for p in found if len(p["hops"]) > 1]


def findings(folder: Path, *select: str) -> list[dict]:
    args = ["check", ".", "--format", "json"] + (["--select", ",".join(select)] if select else [])
    return json.loads(pgpath(*args, cwd=folder).stdout)["findings"]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("host", [HOST, "orders-db-nlb-4f1e2a9c7b8d6e01.elb.eu-west-1.amazonaws.com",
                                  "ORDERS-DB-NLB-4F1E2A9C7B8D6E01.elb.eu-west-1.amazonaws.com"])
def test_a_client_at_the_nlbs_aws_dns_name_goes_through_its_listener(tmp_path, host):
    folder = case(tmp_path)
    edit(folder / YML, HOST, host)
    found = paths(folder)
    assert hops(found) == [[("client", f"./{YML}"), ("aws-nlb", "./infra/nlb.tf")]]
    [path] = [p for p in found if len(p["hops"]) > 1]
    assert path["evidence"] == [
        f"spring.datasource connects to {host}:5432, the DNS name AWS gives load balancer orders-db-nlb "
        "(aws_lb.orders_db, ./infra/nlb.tf:2), whose listener AWS NLB aws_lb_listener.orders_db listens on port 5432"]
    assert path["hops"][1]["label"] == "AWS NLB aws_lb_listener.orders_db"


def test_the_nlbs_idle_timeout_is_then_checked_against_the_clients_keepalives_and_pool(tmp_path):
    """The listener's 120 s against pgjdbc without tcpKeepAlive: info, since HikariCP validates a
    connection idle in the pool and replaces it (the audit's ground truth, found before only with a
    pgpath.yaml); one finding, PATH002 leaving a flow timer to PATH001."""
    folder = case(tmp_path)
    got = {(f["code"], f["severity"], f["span"]["file"], f["span"]["line"]) for f in findings(folder, "PATH001", "PATH002")}
    assert got == {("PATH001", "info", f"./{YML}", 6)}
    [path001] = findings(folder, "PATH001")
    assert "crosses AWS NLB aws_lb_listener.orders_db idle timeout 120 s" in path001["message"]
    assert {(r["file"], r["line"]) for r in path001["related"]} == {("./infra/nlb.tf", 27)}


@pytest.mark.parametrize("host", [
    "orders-db-nlb2-4f1e2a9c7b.elb.eu-west-1.amazonaws.com",    # another load balancer's name
    "orders-db-4f1e2a9c7b.elb.eu-west-1.amazonaws.com",         # a prefix of the name
    "orders-db-nlb-4f1e2a9c7b.eu-west-1.elb.amazonaws.com",     # an ALB's or Classic ELB's form, not an NLB's
    "orders-db-nlb-4f1e2a9c7z.elb.eu-west-1.amazonaws.com",     # no id AWS writes (hex)
    "orders-db-nlb.elb.eu-west-1.amazonaws.com",                # no id at all
    "orders-db-nlb-4f1e2a9c7b.elb.eu-west-1.example.com",       # not AWS's domain
])
def test_a_host_that_is_not_that_nlbs_aws_dns_name_links_nothing(tmp_path, host):
    folder = case(tmp_path)
    edit(folder / YML, HOST, host)
    assert hops(paths(folder)) == []


def test_a_port_the_nlb_has_no_listener_on_links_nothing(tmp_path):
    folder = case(tmp_path)
    edit(folder / YML, f"{HOST}:5432", f"{HOST}:5433")
    assert hops(paths(folder)) == []


def test_two_load_balancers_of_that_name_link_nothing(tmp_path):
    """Names are unique per account and region only: a second Terraform with the same name (another
    region's, another account's) makes the name no evidence."""
    folder = case(tmp_path)
    shutil.copytree(folder / "infra", folder / "infra-dr")
    assert hops(paths(folder)) == []


CLB_TF = '''resource "aws_elb" "orders" {
  name    = "orders-clb"
  subnets = ["subnet-0a1b2c3d"]
  internal = true

  listener {
    lb_port           = 5432
    lb_protocol       = "tcp"
    instance_port     = 5432
    instance_protocol = "tcp"
  }

  idle_timeout = 300
}
'''


@pytest.mark.parametrize("host,paired", [("internal-orders-clb-1234567890.eu-west-1.elb.amazonaws.com", True),
                                         ("orders-clb-1234567890.eu-west-1.elb.amazonaws.com", True),
                                         ("orders-clb-1234567890.elb.eu-west-1.amazonaws.com", False)])
def test_a_client_at_a_classic_elbs_aws_dns_name_reaches_it(tmp_path, host, paired):
    folder = case(tmp_path)
    (folder / "infra/nlb.tf").write_text(CLB_TF)
    edit(folder / YML, HOST, host)
    assert hops(paths(folder)) == ([[("client", f"./{YML}"), ("aws-elb", "./infra/nlb.tf")]] if paired else [])
