"""The on-premises Ansible layout of blind audit 18 (defect D4, scenario s03): a role's files
(roles/<role>/files) are placed on the inventory hosts its playbook applies it to, so that an
HAProxy `server pg1 10.20.0.11:6432` reaches the PgBouncer of roles/pgbouncer/files, a
PgBouncer at 127.0.0.1:5432 the Patroni of its own hosts, and a client the HAProxy of the hosts
whose inventory `vip` variable names its host. Without that evidence nothing is paired, and
`pgpath path` and `pgpath init` say what is missing. tests/links/a18/s03 is the audit's scenario
as written (groups [db] and [lb], no playbook)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

A18 = Path(__file__).resolve().parent / "links" / "a18"

SITE = """---
- name: database hosts
  hosts: db
  become: true
  roles:
    - patroni
    - role: pgbouncer

- name: load balancers
  hosts: lb
  roles: [haproxy]
"""
SERVERS = [("haproxy", "./roles/haproxy/files/haproxy.cfg"), ("pgbouncer", "./roles/pgbouncer/files/pgbouncer.ini"),
           ("postgres", "./roles/patroni/files/patroni.yml")]
CLIENT = ("client", "./app/worker.py")


def pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def case(tmp_path: Path, *, site: str | None = None, files: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "s03"
    shutil.copytree(A18 / "s03", folder)
    if site is not None:
        (folder / "site.yml").write_text(site)
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def paths(folder: Path) -> list[dict]:
    r = pgpath("path", ".", "--format", "json", "--no-config", cwd=folder)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["paths"]


def hops(found: list[dict]) -> list[list[tuple[str, str]]]:
    return [[(h["kind"], h["file"]) for h in p["hops"]] for p in found if len(p["hops"]) > 1]


def findings(folder: Path) -> list[tuple[str, str, str, int]]:
    r = pgpath("check", ".", "--format", "json", "--no-config", "--select", "PATH", cwd=folder)
    return sorted((f["code"], f["severity"], f["span"]["file"], f["span"]["line"])
                  for f in json.loads(r.stdout)["findings"])


def init(folder: Path) -> tuple[str, str]:
    r = pgpath("init", ".", "-o", "topology.yaml", cwd=folder)
    assert r.returncode == 0, r.stderr
    return r.stdout, (folder / "topology.yaml").read_text()


# ------------------------------------------------------------------------------------------------
# the scenario as the audit wrote it: groups db and lb, no playbook: no role is placed on a host


def test_without_a_playbook_or_groups_named_like_the_roles_nothing_is_paired_and_the_path_says_what_is_missing(
        tmp_path):
    folder = case(tmp_path)
    found = paths(folder)
    assert hops(found) == []
    [hap] = [p["hops"][0] for p in found if p["hops"][0]["kind"] == "haproxy"]
    why = hap["next_hop"]["why"]
    assert "10.20.0.11 is host pg1 of inventory/hosts.ini (inventory/hosts.ini:2, group db)" in why
    assert ("PgBouncer pgbouncer.ini of role pgbouncer (roles/pgbouncer/files/pgbouncer.ini) listens on port 6432, "
            "placed on no host: no playbook beside roles/ applies it and no group of inventory/hosts.ini is named "
            "pgbouncer (groups: db, lb)") in why
    text = pgpath("path", ".", "--no-config", cwd=folder).stdout
    [line] = [x for x in text.splitlines() if x.startswith("client on no path: worker.py")]
    assert "pg-vip.dc1.internal:5000/billing, which no file here listens on" in line
    assert "HAProxy listen billing_primary of role haproxy (roles/haproxy/files/haproxy.cfg) listens on port 5000" in line
    assert "no file says that pg-vip.dc1.internal is an address of a host it runs on" in line
    assert findings(folder) == []
    said, written = init(folder)
    assert "0 deployments" in said
    assert "# read alone, not written (its next hop was not found):" in written
    assert "#   HAProxy listen billing_primary (roles/haproxy/files/haproxy.cfg): " in written


# ------------------------------------------------------------------------------------------------
# a playbook (or groups named like the roles) places them: HAProxy -> PgBouncer -> Patroni


@pytest.mark.parametrize("site,files", [
    (SITE, {}),
    # no playbook; the inventory's groups are named like the roles
    (None, {"inventory/hosts.ini": "[pgbouncer]\npg1 ansible_host=10.20.0.11\npg2 ansible_host=10.20.0.12\n"
                                   "pg3 ansible_host=10.20.0.13\n\n[patroni:children]\npgbouncer\n\n"
                                   "[haproxy]\nlb1 ansible_host=10.20.0.5\n"}),
    # a YAML inventory, and the groups of the play joined by a child group
    (SITE.replace("hosts: db", "hosts: postgres"),
     {"inventory/hosts.ini": None,
      "inventory/hosts.yml": "all:\n  children:\n    postgres:\n      children:\n        db:\n          hosts:\n"
                             "            pg1: {ansible_host: 10.20.0.11}\n            pg2: {ansible_host: 10.20.0.12}\n"
                             "            pg3: {ansible_host: 10.20.0.13}\n    lb:\n      hosts:\n"
                             "        lb1: {ansible_host: 10.20.0.5}\n"}),
])
def test_roles_placed_on_inventory_hosts_form_the_server_path(tmp_path, site, files):
    folder = case(tmp_path, site=site, files={k: v for k, v in files.items() if v is not None})
    for name, text in files.items():
        if text is None:
            (folder / name).unlink()
    found = paths(folder)
    assert hops(found) == [SERVERS]
    [path] = [p for p in found if len(p["hops"]) > 1]
    assert path["evidence"][0].startswith("HAProxy listen billing_primary sends to 10.20.0.11:6432 (server pg1), host "
                                          "pg1 of inventory/hosts.")
    assert "where PgBouncer pgbouncer.ini of role pgbouncer listens on port 6432" in path["evidence"][0]
    assert path["evidence"][1].startswith("PgBouncer database billing connects to 127.0.0.1:5432, its own host: on each "
                                          "host PgBouncer pgbouncer.ini runs on (pg1, pg2, pg3: ")
    # the client's host is tied to no host: it stays on no path, and init offers it, commented
    assert [p["hops"][0]["file"] for p in found if len(p["hops"]) == 1] == ["./app/worker.py"]
    assert findings(folder) == []
    said, written = init(folder)
    assert "1 deployment" in said
    assert ("    hops:\n"
            "      # client: no client read was found to connect here; name the application's, e.g. (the client read "
            "on no path that connects to port 5000)\n"
            '      # - client: {file: "app/worker.py", variable: "pool"}\n'
            '      - haproxy: {file: "roles/haproxy/files/haproxy.cfg", proxy: "billing_primary"}\n'
            '      - pgbouncer: {file: "roles/pgbouncer/files/pgbouncer.ini", database: "billing"}\n'
            '      - postgres: {file: "roles/patroni/files/patroni.yml", version: 15}\n') in written


def test_haproxy_servers_at_the_hosts_of_the_patroni_role_reach_it(tmp_path):
    """HAProxy straight to Patroni on 5432, at hosts whose address no connect_address gives (the
    file's is pg1's): Patroni listens on 0.0.0.0:5432 on every host its play covers."""
    folder = case(tmp_path, site=SITE)
    cfg = folder / "roles/haproxy/files/haproxy.cfg"
    text = cfg.read_text().replace("    server pg1 10.20.0.11:6432 maxconn 400 check port 8008\n", "")
    cfg.write_text(text.replace(":6432", ":5432"))
    found = paths(folder)
    assert sorted(hops(found)) == [[SERVERS[0], SERVERS[2]], SERVERS[1:]]  # (the PgBouncer no server names: alone)
    [path] = [p for p in found if p["hops"][0]["kind"] == "haproxy"]
    assert path["evidence"][0].startswith("HAProxy listen billing_primary sends to 10.20.0.12:5432 (server pg2), host "
                                          "pg2 of inventory/hosts.ini (inventory/hosts.ini:3), where PostgreSQL "
                                          "patroni.yml of role patroni listens on port 5432")
    (folder / "roles/patroni/files/patroni.yml").write_text(
        (folder / "roles/patroni/files/patroni.yml").read_text().replace("listen: 0.0.0.0:5432", "listen: 10.20.0.11:5432"))
    assert [SERVERS[0], SERVERS[2]] not in hops(paths(folder))  # listening on pg1's address only: not at pg2's


# ------------------------------------------------------------------------------------------------
# the client's name as a virtual address of the HAProxy hosts' group: the full path, and its findings


@pytest.mark.parametrize("files", [
    {"inventory/group_vars/lb.yml": "---\nhaproxy_vip: pg-vip.dc1.internal\n"},
    {"inventory/hosts.ini": (A18 / "s03/inventory/hosts.ini").read_text() + "\n[lb:vars]\nvip_name=pg-vip.dc1.internal\n"},
])
def test_a_vip_variable_of_the_haproxy_group_joins_the_client_and_the_path_findings_follow(tmp_path, files):
    folder = case(tmp_path, site=SITE, files=files)
    found = paths(folder)
    assert hops(found) == [[CLIENT] + SERVERS]
    [path] = [p for p in found if len(p["hops"]) > 1]
    assert path["evidence"][0].startswith("pool connects to pg-vip.dc1.internal:5000, the virtual address ")
    assert "of group lb (inventory/" in path["evidence"][0]
    assert findings(folder) == [
        ("PATH002", "warning", "./app/worker.py", 6),   # psycopg_pool's min_size connections vs timeout client 30m
        ("PATH004", "error", "./app/worker.py", 7),     # verify-full to a PgBouncer with client_tls_sslmode = disable
        ("PATH004", "info", "./roles/pgbouncer/files/pgbouncer.ini", 20),
    ]


# ------------------------------------------------------------------------------------------------
# no pairing without the evidence


@pytest.mark.parametrize("site,files,expected", [
    # no inventory at all
    (SITE, {"inventory/group_vars/lb.yml": "haproxy_vip: pg-vip.dc1.internal\n", "inventory/hosts.ini": None}, []),
    # two inventories: which one a run uses is not said
    (SITE, {"inventory/staging.ini": "[db]\npg1 ansible_host=10.20.0.11\n[lb]\nlb1 ansible_host=10.20.0.5\n"}, []),
    # the VIP belongs to the database hosts, which run no HAProxy: the client stays unpaired
    (SITE, {"inventory/group_vars/db.yml": "cluster_vip: pg-vip.dc1.internal\n"}, [SERVERS]),
    # a variable that is no virtual address names no host
    (SITE, {"inventory/group_vars/lb.yml": "patroni_etcd_host: pg-vip.dc1.internal\n"}, [SERVERS]),
    # PostgreSQL runs on other hosts than the PgBouncer: its 127.0.0.1 reaches none of them
    (SITE.replace("    - patroni\n", "").replace("roles: [haproxy]", "roles: [haproxy, patroni]"), {},
     [SERVERS[:2]]),
    # a playbook that applies the pooler's role in a way pgpath does not read places it nowhere,
    # even beside a group named like it
    ("---\n- hosts: db\n  tasks:\n    - include_role: {name: pgbouncer}\n- hosts: lb\n  roles: [haproxy]\n",
     {"inventory/hosts.ini": (A18 / "s03/inventory/hosts.ini").read_text() + "\n[pgbouncer:children]\ndb\n"}, []),
])
def test_no_pairing_without_evidence(tmp_path, site, files, expected):
    folder = case(tmp_path, site=site, files={k: v for k, v in files.items() if v is not None})
    for name, text in files.items():
        if text is None:
            (folder / name).unlink()
    assert hops(paths(folder)) == expected
    assert not [f for f in findings(folder) if f[0] in ("PATH002", "PATH004") and f[2] == "./app/worker.py"]
