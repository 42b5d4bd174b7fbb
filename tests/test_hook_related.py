"""--hook (pre-commit) reports on a changed file exactly what a check of the whole repository
reports on it: the same findings (code, place, severity, message), none missed, none added,
also when the file's path is linked to files of other folders — a client whose host names a
Kubernetes Service, an operator's cluster or pooler, or an RDS Proxy defined elsewhere; a
compose file elsewhere that mounts a pgbouncer.ini and whose image says PgBouncer's version; a
postgresql.conf that includes a file of another folder; a client folder deep below the server's
(advisor/changed.py)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.engine import make_settings, run

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path("/work/shared/corpus")


def pgpath(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".git").mkdir(exist_ok=True)  # the repository's top, as pre-commit runs in it
    return root


PGBOUNCER_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pgbouncer
  namespace: db
spec:
  replicas: 2
  selector:
    matchLabels: {app: pgbouncer}
  template:
    metadata:
      labels: {app: pgbouncer}
    spec:
      containers:
        - name: pgbouncer
          image: edoburu/pgbouncer:1.17
          ports:
            - containerPort: 6432
          volumeMounts:
            - name: config
              mountPath: /etc/pgbouncer/pgbouncer.ini
              subPath: pgbouncer.ini
      volumes:
        - name: config
          configMap: {name: pgbouncer-config}
---
apiVersion: v1
kind: Service
metadata:
  name: pgbouncer
  namespace: db
spec:
  type: ClusterIP
  selector: {app: pgbouncer}
  ports:
    - port: 6432
      targetPort: 6432
"""
PGBOUNCER_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: pgbouncer-config
  namespace: db
data:
  pgbouncer.ini: |
    [databases]
    orders = host=10.30.1.5 port=5432 dbname=orders

    [pgbouncer]
    listen_addr = 0.0.0.0
    listen_port = 6432
    pool_mode = transaction
    max_client_conn = 200
    default_pool_size = 40
"""
CLIENT_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders-api
  namespace: orders
spec:
  replicas: 15
  selector:
    matchLabels: {app: orders-api}
  template:
    metadata:
      labels: {app: orders-api}
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/orders-api:4.1.0
          env:
            - name: DATABASE_URL
              value: postgresql+asyncpg://orders@pgbouncer.db.svc.cluster.local:6432/orders?ssl=disable
"""
# a client in apps/web whose host names the Service of a PgBouncer in db/, whose image says 1.17
SERVICE_REPO = {"apps/web/deployment.yaml": CLIENT_DEPLOYMENT, "db/deployment.yaml": PGBOUNCER_DEPLOYMENT,
                "db/configmap.yaml": PGBOUNCER_CONFIGMAP}
# a compose file in deploy/ that mounts ../pgbouncer/pgbouncer.ini and runs PgBouncer 1.17
MOUNT_REPO = {
    "deploy/docker-compose.yml": "services:\n  pgbouncer:\n    image: edoburu/pgbouncer:1.17.0\n"
                                 "    ports: [\"6432:6432\"]\n    volumes:\n"
                                 "      - ../pgbouncer/pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini:ro\n",
    "pgbouncer/pgbouncer.ini": "[databases]\napp = host=10.0.0.5 port=5432 dbname=app\n\n[pgbouncer]\n"
                               "listen_addr = 127.0.0.1\nlisten_port = 6432\npool_mode = transaction\n"
                               "max_prepared_statements = 100\n"}
# a client three folders below the server's folder; a memory file of another folder included
DEEP_REPO = {"db/postgresql.conf": "ssl = off\nmax_connections = 100\ninclude '../common/memory.conf'\n",
             "db/apps/web/config/.env": "DATABASE_URL=postgresql://app@localhost:5432/app?sslmode=require\n",
             "common/memory.conf": "work_mem = 8mb\nshared_buffers = 1GB\n"}
# two Services of one name in one namespace: a full check links the client to neither
AMBIGUOUS_REPO = {"apps/web/deployment.yaml": CLIENT_DEPLOYMENT,
                  "db1/deployment.yaml": PGBOUNCER_DEPLOYMENT, "db1/configmap.yaml": PGBOUNCER_CONFIGMAP,
                  "db2/deployment.yaml": PGBOUNCER_DEPLOYMENT.replace("1.17", "1.18"),
                  "db2/configmap.yaml": PGBOUNCER_CONFIGMAP}
# an RDS Proxy described in aws/, named by a Spring client's endpoint in app/
RDS_REPO = {"app/application.properties": (ROOT / "tests/rules/PATH002/bad_rds_proxy_hikari/application.properties"
                                           ).read_text(),
            "aws/proxies.json": (ROOT / "tests/rules/PATH002/bad_rds_proxy_hikari/proxies.json").read_text(),
            "aws/params.json": (ROOT / "tests/rules/PATH002/bad_rds_proxy_hikari/params.json").read_text()}
# a CloudNativePG Pooler in k8s/, reached as its Service by a client in services/api whose pool is
# larger than the Pooler's two PgBouncers take (PATH005); another client beside it reaches nothing
POOLER_REPO = {
    "k8s/pooler.yaml": "apiVersion: postgresql.cnpg.io/v1\nkind: Pooler\nmetadata:\n  name: pooler-rw\n"
                       "  namespace: shop\nspec:\n  cluster:\n    name: pg\n  instances: 2\n  type: rw\n"
                       "  pgbouncer:\n    poolMode: transaction\n    parameters:\n      max_client_conn: \"100\"\n",
    "services/api/.env": "DATABASE_URL=postgresql://shop@pooler-rw.shop.svc:5432/shop?sslmode=disable"
                         "&pool_max_conns=300\n",
    "services/api/other.env": "DATABASE_URL=postgres://shop@10.1.2.3:5432/shop\n"}


# ------------------------------------------------------------------------------------------------
# the failing cases before advisor/changed.py: a full check finds them, --hook did not


def test_hook_follows_a_client_to_the_service_of_another_folder(tmp_path):
    """The client's host names the Service `pgbouncer` of db/: PATH006 (asyncpg's named prepared
    statements through PgBouncer 1.17 in transaction pooling, 1.17 from db/'s image) is reported
    with the changed client, and with the changed ConfigMap (its related places)."""
    write(tmp_path, SERVICE_REPO)
    r = pgpath("check", "--no-config", "--hook", "apps/web/deployment.yaml", cwd=tmp_path)
    assert "apps/web/deployment.yaml:19:22: PATH006 info DATABASE_URL (sqlalchemy) -> PgBouncer configmap.yaml " \
           "[orders]" in r.stdout, r.stdout + r.stderr
    assert "PgBouncer 1.17 (image edoburu/pgbouncer:1.17 in db/deployment.yaml:16, beside it)" in r.stdout
    assert "see: db/configmap.yaml:14:17" in r.stdout
    assert "db/configmap.yaml:11:5: PGB017" not in r.stdout  # not about the changed file
    r = pgpath("check", "--no-config", "--hook", "db/configmap.yaml", cwd=tmp_path)
    assert "apps/web/deployment.yaml:19:22: PATH006" in r.stdout, r.stdout + r.stderr


def test_hook_reads_the_version_a_compose_file_of_another_folder_mounts(tmp_path):
    write(tmp_path, MOUNT_REPO)
    r = pgpath("check", "--no-config", "--hook", "pgbouncer/pgbouncer.ini", cwd=tmp_path)
    assert 'pgbouncer/pgbouncer.ini:8:1: PGB001 error unknown parameter "max_prepared_statements" in PgBouncer ' \
           "1.17 (added in 1.21)" in r.stdout, r.stdout + r.stderr
    assert "which mounts pgbouncer/pgbouncer.ini" in r.stdout


def test_hook_reads_a_deep_client_folder_and_the_file_that_includes_the_changed_one(tmp_path):
    write(tmp_path, DEEP_REPO)
    r = pgpath("check", "--no-config", "--hook", "db/postgresql.conf", cwd=tmp_path)
    assert "db/apps/web/config/.env:1:58: PATH004 error" in r.stdout, r.stdout + r.stderr
    # common/memory.conf is no configuration of its own (a full check reads it as db's include)
    r = pgpath("check", "--no-config", "--hook", "common/memory.conf", cwd=tmp_path)
    assert re.search(r"^db/\.\./common/memory\.conf:1:12: PG002 error", r.stdout, re.M), r.stdout + r.stderr


# ------------------------------------------------------------------------------------------------
# the property: --hook F == the full check's findings that touch F, for every file F


def _key(finding, top: str):
    def place(span):
        return os.path.relpath(os.path.realpath(span.file), top), span.line or 0, span.col or 0

    # (a full check of "." writes ./db/...; --hook names files as given: db/...)
    message = re.sub(r"(?<![\w./-])\./", "", finding.message)
    return finding.code, str(finding.severity), place(finding.span), message, \
        tuple(sorted(place(s) for s in finding.related))


def _same_as_full(top: Path, every: int = 1) -> list[str]:
    """The files of `top` (every `every`-th) whose --hook findings differ from the full check's
    findings that touch them, with the difference."""
    os.chdir(top)
    real_top = os.path.realpath(top)
    full = run(make_settings({"paths": ["."]}, use_config=False))
    files = sorted(os.path.relpath(os.path.join(r, n), top) for r, ds, ns in os.walk(top)
                   if ".git" not in Path(r).relative_to(top).parts for n in ns)[::every]
    assert files
    out = []
    for rel in files:
        real = {os.path.realpath(rel)}
        want = sorted(_key(f, real_top) for f in full.findings
                      if any(os.path.realpath(s.file) in real for s in (f.span, *f.related)))
        settings = make_settings({}, use_config=False)
        settings.changed, settings.paths = [rel], []
        got = sorted(_key(f, real_top) for f in run(settings).findings)
        if got != want:
            out.append(f"{rel}: missing {sorted(set(want) - set(got))}; extra {sorted(set(got) - set(want))}")
    return out


# a systemd unit in host1/ and a drop-in for it in ops/: SYS003 merges them by the unit's name
SYSTEMD_REPO = {
    "host1/postgresql.service": (ROOT / "tests/rules/SYS003/bad_no_protection/postgresql.service").read_text(),
    "ops/postgresql.service.d/oom.conf": "[Service]\nOOMScoreAdjust=-1000\n"}
# an RDS parameter group in params/, sized by the only instance class of the run, in aws/
RDS_SIZE_REPO = {
    "params/orders-pg16.json": (ROOT / "tests/rules/MEM001/bad_rds_parameter_group/orders-pg16.json").read_text(),
    "aws/instances.json": (ROOT / "tests/rules/MEM001/bad_rds_parameter_group/instances.json").read_text()}

# an include loop in one folder: b.conf is no configuration of its own, the loop is reported on it
LOOP_REPO = {f"db/{n}": (ROOT / "tests/rules/ADV003/bad_include_loop" / n).read_text()
             for n in ("postgresql.conf", "b.conf")}

# a compose file whose PgBouncer mounts ./pgbouncer/pgbouncer.ini: the PgBouncer's home is the compose
# file's folder, so the Django settings two folders below it are its clients
_DJANGO = ROOT / "tests/rules/PATH007/bad_django_environ_defaults_through_pgbouncer"
COMPOSE_HOME_REPO = {str(p.relative_to(_DJANGO)): p.read_text() for p in sorted(_DJANGO.rglob("*")) if p.is_file()}

# an RDS instance in infra/ (RDS's default parameter group: rds.force_ssl = 1 from 15) and an Azure
# flexible server in azure/ (require_secure_transport on), reached by their endpoints from app/ by
# clients that never use TLS (PATH004)
ENDPOINT_REPO = {
    "infra/main.tf": 'resource "aws_db_instance" "orders" {\n  identifier     = "orders-prod"\n'
                     '  engine         = "postgres"\n  engine_version = "16.3"\n  instance_class = "db.r6g.large"\n}\n',
    "azure/postgres.tf": 'resource "azurerm_postgresql_flexible_server" "billing" {\n  name    = "billing-prod"\n'
                         '  version = "16"\n}\n',
    "app/.env": "DATABASE_URL=postgresql://app@orders-prod.cxyz123abc.eu-west-1.rds.amazonaws.com:5432/orders"
                "?sslmode=disable\n",
    "billing/.env": "DATABASE_URL=postgresql://app@billing-prod.postgres.database.azure.com:5432/billing"
                    "?sslmode=disable\n"}

# keepalived's VIP bound by HAProxy (HAP012): one host's /etc copied into lb1/ (haproxy.cfg and the
# sysctl file that does not set ip_nonlocal_bind, in sibling folders), the keepalived.conf in
# another folder of the repository (its VIP is matched wherever it is)
_VIP = ROOT / "tests/rules/HAP012/bad_etc_tree/etc"
VIP_REPO = {"lb1/etc/haproxy/haproxy.cfg": (_VIP / "haproxy/haproxy.cfg").read_text(),
            "lb1/etc/sysctl.d/90-pg-network.conf": (_VIP / "sysctl.d/90-pg-network.conf").read_text(),
            "vrrp/keepalived.conf": (_VIP / "keepalived/keepalived.conf").read_text()}

# a copy of a database host's file system (scenario audit 17, s06): the MemoryMax= of the drop-in in
# etc/systemd/system limits the cluster of etc/postgresql/16/main (MEM001), and a sysctl file of the
# same host sets vm.overcommit_memory (SYS002)
_HOST = ROOT / "tests/rules/MEM001/bad_memorymax_host_tree/etc"
HOST_TREE_REPO = {
    "db-host/etc/postgresql/16/main/postgresql.conf": (_HOST / "postgresql/16/main/postgresql.conf").read_text(),
    "db-host/etc/systemd/system/postgresql@16-main.service.d/override.conf":
        (_HOST / "systemd/system/postgresql@16-main.service.d/override.conf").read_text(),
    "db-host/etc/sysctl.d/30-postgresql.conf": "vm.overcommit_memory = 0\n"}


def _witness(full, file: str, code: str):
    return [f for f in full.findings if f.code == code and os.path.normpath(f.span.file) == file]


def _related(finding) -> set[str]:
    return {os.path.normpath(s.file) for s in finding.related}


# what each repository's full check says only because of a file of another folder (else the
# repository would prove nothing here)
WITNESSES = {
    "service": lambda full: "db/configmap.yaml" in _related(_witness(full, "apps/web/deployment.yaml", "PATH006")[0]),
    "mount": lambda full: "1.17" in _witness(full, "pgbouncer/pgbouncer.ini", "PGB001")[0].message,
    "deep-include": lambda full: "db/postgresql.conf" in _related(_witness(full, "db/apps/web/config/.env",
                                                                           "PATH004")[0]),
    # two Services of one name: a full check links the client to neither, nor must --hook
    "ambiguous-service": lambda full: not _witness(full, "apps/web/deployment.yaml", "PATH006"),
    "rds-proxy": lambda full: "aws/proxies.json" in _related(_witness(full, "app/application.properties",
                                                                      "PATH002")[0]),
    "cnpg-pooler": lambda full: "services/api/.env" in _related(_witness(full, "k8s/pooler.yaml", "PATH005")[0]),
    "systemd-drop-in": lambda full: not _witness(full, "host1/postgresql.service", "SYS003")
    and "without Environment=PG_OOM_ADJUST_FILE" in _witness(full, "ops/postgresql.service.d/oom.conf",
                                                             "SYS003")[0].message,
    "include-loop": lambda full: "include loop" in _witness(full, "db/b.conf", "ADV003")[0].message,
    "compose-home": lambda full: "pgbouncer/pgbouncer.ini" in _related(_witness(full, "shop/shop/settings.py",
                                                                                 "PATH007")[0]),
    "rds-instance-class": lambda full: "aws/instances.json" in _related(_witness(full, "params/orders-pg16.json",
                                                                                 "MEM001")[0]),
    "endpoints": lambda full: "infra/main.tf" in _related(_witness(full, "app/.env", "PATH004")[0])
    and "azure/postgres.tf" in _related(_witness(full, "billing/.env", "PATH004")[0]),
    "keepalived-vip": lambda full: {"vrrp/keepalived.conf", "lb1/etc/sysctl.d/90-pg-network.conf"} <= _related(
        _witness(full, "lb1/etc/haproxy/haproxy.cfg", "HAP012")[0]),
    "host-tree": lambda full: "db-host/etc/systemd/system/postgresql@16-main.service.d/override.conf" in _related(
        _witness(full, "db-host/etc/postgresql/16/main/postgresql.conf", "MEM001")[0])
    and _witness(full, "db-host/etc/sysctl.d/30-postgresql.conf", "SYS002"),
}
REPOS = {"service": SERVICE_REPO, "mount": MOUNT_REPO, "deep-include": DEEP_REPO, "ambiguous-service": AMBIGUOUS_REPO,
         "rds-proxy": RDS_REPO, "cnpg-pooler": POOLER_REPO, "systemd-drop-in": SYSTEMD_REPO,
         "rds-instance-class": RDS_SIZE_REPO, "include-loop": LOOP_REPO, "compose-home": COMPOSE_HOME_REPO,
         "endpoints": ENDPOINT_REPO, "keepalived-vip": VIP_REPO, "host-tree": HOST_TREE_REPO}


@pytest.mark.parametrize("name", list(REPOS))
def test_hook_findings_are_the_full_checks_on_the_changed_file(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, REPOS[name])
    assert WITNESSES[name](run(make_settings({"paths": ["."]}, use_config=False)))
    assert _same_as_full(tmp_path) == []


def test_hook_findings_are_the_full_checks_on_every_file_of_all_of_them_together(tmp_path, monkeypatch):
    """The repositories side by side in one, with the samples: the names, mounts and folders of
    one must not change what --hook reports on another's files."""
    monkeypatch.chdir(tmp_path)
    for n, files in enumerate(REPOS.values()):
        write(tmp_path / f"r{n}", files)
        shutil.rmtree(tmp_path / f"r{n}" / ".git")  # (one repository: a .git only at the top)
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    (tmp_path / ".git").mkdir()
    assert _same_as_full(tmp_path) == []


def test_hook_findings_are_the_full_checks_on_the_corpus(monkeypatch):
    """The corpus of real configurations (read where it is, as its own repository): a third of
    its files, each changed alone."""
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} (the shared corpus of real configurations) is not on this machine")
    monkeypatch.chdir(CORPUS)
    assert _same_as_full(CORPUS, every=3) == []


def test_hook_reads_only_the_keepalived_files_of_the_addresses_an_haproxy_binds(tmp_path, monkeypatch):
    """An HAProxy change reads the keepalived.conf files that name an address it binds, and those
    only: not a script or a test that writes `vrrp_instance` and the VIP (it is read as no
    keepalived.conf), nor another keepalived.conf of the repository, nor any for an HAProxy that
    binds only a wildcard (the benchmark's hook at this repository's root read 53 files, tests
    included, for the samples' haproxy.cfg)."""
    write(tmp_path, VIP_REPO)
    vip = re.search(r"^\s*(\d+\.\d+\.\d+\.\d+)", (tmp_path / "vrrp/keepalived.conf").read_text(), re.M)
    assert vip, "the fixture's keepalived.conf names a VIP"
    write(tmp_path, {"tools/make_vip.py": f'CONF = """vrrp_instance VI_1 {{\n  virtual_ipaddress {{\n'
                                          f'    {vip.group(1)}\n  }}\n}}"""\n'
                                          'DSN = "postgresql://app@db.internal:5432/app"\n',
                     "other/keepalived.conf": "vrrp_instance VI_9 {\n  virtual_ipaddress {\n    10.99.99.99\n  }\n}\n",
                     "wild/haproxy.cfg": "listen pg\n    mode tcp\n    bind *:5000\n    server a 10.0.0.9:5432\n"})
    monkeypatch.chdir(tmp_path)

    def read(changed: str) -> set[str]:
        settings = make_settings({}, use_config=False)
        settings.changed, settings.paths = [changed], []
        report = run(settings)
        return {os.path.relpath(d.path) for d in report.docs}, report.findings

    docs, findings = read("lb1/etc/haproxy/haproxy.cfg")
    assert "vrrp/keepalived.conf" in docs and any(f.code == "HAP012" for f in findings), docs
    assert not {"tools/make_vip.py", "other/keepalived.conf"} & docs, docs
    docs, _ = read("wild/haproxy.cfg")
    assert not [d for d in docs if "keepalived" in d or d.startswith("tools")], docs
