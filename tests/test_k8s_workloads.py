"""What a Kubernetes workload says about the PgBouncer or PostgreSQL a ConfigMap configures: the
pod's `securityContext.sysctls` (per network namespace: the keepalive sysctls of the processes in
that pod) and its `replicas` (each pod a PgBouncer with its own pools), or the replicas its
HorizontalPodAutoscaler gives it."""

from __future__ import annotations

import pytest

from advisor.engine import make_settings, run
from advisor.rules.pgb import copies

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: pgbouncer-config
  namespace: db
data:
  pgbouncer.ini: |
    [databases]
    shop = host=pg-primary.db.svc port=5432 dbname=shop

    [pgbouncer]
    listen_addr = 0.0.0.0
    listen_port = 6432
    auth_type = scram-sha-256
    pool_mode = transaction
    max_client_conn = 100
    default_pool_size = 30
    tcp_keepalive = 1
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: {kind}
metadata:
  name: pgbouncer
  namespace: db
spec:
{replicas}  selector:
    matchLabels: {{app: pgbouncer}}
  template:
    metadata:
      labels: {{app: pgbouncer}}
    spec:
{pod}      containers:
        - name: pgbouncer
          image: docker.io/pgbouncer/pgbouncer:1.22.1
          volumeMounts:
            - name: config
              mountPath: /etc/pgbouncer
      volumes:
        - name: config
          configMap:
            name: {configmap}
"""

SYSCTLS = """      securityContext:
        sysctls:
          - name: net.ipv4.tcp_keepalive_time
            value: "120"
          - name: net.ipv4.tcp_keepalive_intvl
            value: "30"
"""


def _deployment(replicas="  replicas: 3\n", pod=SYSCTLS, kind="Deployment", configmap="pgbouncer-config"):
    return DEPLOYMENT.format(kind=kind, replicas=replicas, pod=pod, configmap=configmap)


def _run(tmp_path, files: dict[str, str], select=None):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    cli = {"paths": [str(tmp_path)]}
    if select:
        cli["select"] = select
    config = tmp_path / "pgpath.yaml"
    settings = make_settings(cli, config_path=str(config)) if config.is_file() else make_settings(cli, use_config=False)
    return run(settings)


def _pgbouncer(report):
    [doc] = [d for d in report.docs if d.kind == "pgbouncer"]
    return doc


def test_pod_sysctls_are_the_host_facts_of_the_pgbouncer_its_configmap_configures(tmp_path):
    report = _run(tmp_path, {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment()})
    doc = _pgbouncer(report)
    assert doc.host is not None
    time = doc.host.get("tcp_keepalive_time")
    assert time.value == 120 and time.span.line == 36  # the pod's sysctl value, where the manifest writes it
    assert doc.host.get("tcp_keepalive_intvl").value == 30


def test_the_configmap_and_the_workload_may_be_separate_files_of_one_folder(tmp_path):
    report = _run(tmp_path, {"k8s/configmap.yaml": CONFIGMAP, "k8s/deployment.yaml": _deployment()})
    doc = _pgbouncer(report)
    assert doc.host.get("tcp_keepalive_time").value == 120
    assert doc.host.get("tcp_keepalive_time").span.file.endswith("deployment.yaml")
    count, said, spans = copies(doc)
    assert count == 3 and "replicas: 3" in said and spans[0].file.endswith("deployment.yaml")
    assert [d.kind for d in report.docs].count("kubernetes") == 0  # nothing of the workload's file is a document


def test_another_workloads_pod_sysctls_are_not_this_pgbouncers(tmp_path):
    """A pod's sysctls are per network namespace: the application's pod, or a workload mounting
    another ConfigMap, gives PgBouncer nothing."""
    report = _run(tmp_path, {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(configmap="other-config")})
    assert _pgbouncer(report).host is None
    assert copies(_pgbouncer(report))[0] == 1


def test_a_configmap_of_another_namespace_is_not_mounted(tmp_path):
    other = CONFIGMAP.replace("namespace: db", "namespace: shop")
    report = _run(tmp_path, {"k8s/pgbouncer.yaml": other + "---\n" + _deployment()})
    assert _pgbouncer(report).host is None and copies(_pgbouncer(report))[0] == 1


def test_only_the_namespaced_net_sysctls_of_a_pod_are_host_facts(tmp_path):
    """vm.* is not namespaced (the kubelet refuses it in a pod), and with hostNetwork the pod
    shares the node's network namespace, where Kubernetes allows no net.* sysctl at all."""
    pod = SYSCTLS + "          - name: vm.overcommit_memory\n            value: \"2\"\n"
    doc = _pgbouncer(_run(tmp_path / "a", {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(pod=pod)}))
    assert set(doc.host.facts) == {"tcp_keepalive_time", "tcp_keepalive_intvl"}
    host_network = "      hostNetwork: true\n" + SYSCTLS
    doc = _pgbouncer(_run(tmp_path / "b", {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(pod=host_network)}))
    assert doc.host is None


@pytest.mark.parametrize("replicas,kind,count", [
    ("  replicas: 3\n", "Deployment", 3),
    ("  replicas: 2\n", "StatefulSet", 2),
    ("", "Deployment", 1),  # no replicas and no autoscaler: Kubernetes runs one
    ("  replicas: {{ .Values.pgbouncer.replicas }}\n", "Deployment", None),  # a template value: not known
    ("", "DaemonSet", None),  # one pod per node: as many as the cluster has nodes
])
def test_the_workloads_replicas_are_the_copies_of_pgbouncer(tmp_path, replicas, kind, count):
    report = _run(tmp_path, {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(replicas=replicas, kind=kind)})
    assert copies(_pgbouncer(report))[0] == count


def test_pod_sysctls_of_a_postgres_container_are_its_hosts_beside_its_memory_limit(tmp_path):
    report = _run(tmp_path, {"db/pg.yaml": (
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: pg\nspec:\n  template:\n"
        "    spec:\n      securityContext:\n        sysctls:\n"
        "          - name: net.ipv4.tcp_keepalive_time\n            value: \"300\"\n"
        "      containers:\n        - name: postgres\n          image: postgres:17\n"
        "          args: [\"-c\", \"work_mem=8MB\"]\n          resources:\n            limits:\n"
        "              memory: 512Mi\n")})
    [pg] = [d for d in report.docs if d.kind == "postgresql"]
    assert pg.host.memory_bytes().value == 512 * 1024**2
    assert pg.host.get("tcp_keepalive_time").value == 300


def _declared(client_keepalives: str) -> str:
    return ("deployments:\n  - name: shop\n    hops:\n"
            "      - client: {file: app/.env, variable: DATABASE_URL}\n"
            "      - k8s-service: {idle_timeout: 3600s}\n"
            "      - pgbouncer: {file: k8s/pgbouncer.yaml, database: shop}\n"
            "      - postgres: {file: db/postgresql.conf, version: 16}\n")


def test_path001_credits_the_pgbouncer_pods_sysctl_on_a_declared_path(tmp_path):
    """Audit scenarios12 D5 (s10b): the client sends no probes, PgBouncer's pod probes every 120 s
    < the Service's 3600 s, so the flow is kept and PATH001 has nothing to say; without the
    sysctl the OS default 7200 s is >= 3600 s and it warns."""
    files = {"app/.env": "DATABASE_URL=postgresql://shop@pgbouncer.db.svc:6432/shop?keepalives=0\n",
             "db/postgresql.conf": "max_connections = 100\n", "pgpath.yaml": _declared("0"),
             "k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment()}
    report = _run(tmp_path / "with", files, ["PATH001"])
    assert report.findings == []
    [path] = report.paths
    assert path.hops[2].host.get("tcp_keepalive_time").value == 120
    files["k8s/pgbouncer.yaml"] = CONFIGMAP + "---\n" + _deployment(pod="")
    [finding] = _run(tmp_path / "without", files, ["PATH001"]).findings
    assert "OS default 7200 s" in finding.message


def _budget_files(max_connections: int, replicas: str = "  replicas: 3\n", hop: str = "") -> dict[str, str]:
    return {"app/.env": "DATABASE_URL=postgres://shop@pgbouncer.db.svc:6432/shop?pool_max_conns=25\n",
            "db/postgresql.conf": f"max_connections = {max_connections}\n",
            "pgpath.yaml": ("deployments:\n  - name: shop\n    hops:\n"
                            "      - client: {file: app/.env, variable: DATABASE_URL, replicas: 10}\n"
                            f"      - pgbouncer: {{file: k8s/pgbouncer.yaml, database: shop{hop}}}\n"
                            "      - postgres: {file: db/postgresql.conf, version: 16}\n"),
            "k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(replicas=replicas)}


def test_path005_counts_every_pgbouncer_pod(tmp_path):
    """Audit D7 (s10): 10 × 25 = 250 clients, 3 pods × max_client_conn 100 = 300: no warning;
    with 2 pods (200) the warning's fix is per pod."""
    assert _run(tmp_path / "three", _budget_files(100), ["PATH005"]).findings == []
    [finding] = _run(tmp_path / "two", _budget_files(100, "  replicas: 2\n"), ["PATH005"]).findings
    assert "max_client_conn = 100 × 2 pods (replicas: 2" in finding.message and "= 200" in finding.message
    assert finding.fix.startswith("max_client_conn = ") and " in each of the 2 copies (" in finding.fix
    each = int(finding.fix.split()[2])
    assert each * 2 >= 250 and (each - 1) * 2 < 250 + max(100, 250 // 5)


def test_pgb016_counts_every_pgbouncer_pod(tmp_path):
    """Audit D7 (s10c): 3 pods × default_pool_size 30 = 90 > 60 − 3 = 57; one pod's 30 fits."""
    [finding] = _run(tmp_path / "three", _budget_files(60), ["PGB016"]).findings
    assert "× 3 pods" in finding.message and "= 90 server connections" in finding.message
    assert _run(tmp_path / "one", _budget_files(60, ""), ["PGB016"]).findings == []


def test_replicas_on_a_pgbouncer_hop_are_its_copies(tmp_path):
    """Audit D7 (s10d): `replicas:` on a pgbouncer hop is read (no ADV004) and wins over the
    workload's: 4 declared pods × 30 = 120 > 97."""
    report = _run(tmp_path, _budget_files(100, "  replicas: 1\n", ", replicas: 4"), ["PGB016", "ADV004", "PATH005"])
    [finding] = report.findings
    assert finding.code == "PGB016" and "× 4 copies (replicas: 4, each with its own pools, declared in pgpath.yaml)" in finding.message
    assert any(s.file.endswith("pgpath.yaml") and s.line == 5 for s in finding.related)


def test_replicas_on_a_pgbouncer_hop_of_a_plain_ini(tmp_path):
    """A pgbouncer.ini of its own (no workload in the run): the hop's `replicas:` alone says how
    many copies run: 3 × 100 >= 250 clients and 3 × 30 <= 97; undeclared, one copy refuses 150."""
    ini = CONFIGMAP.split("pgbouncer.ini: |\n")[1].replace("\n    ", "\n").lstrip()

    def files(hop):
        out = _budget_files(100, hop=hop)
        del out["k8s/pgbouncer.yaml"]
        out["pgb/pgbouncer.ini"] = ini
        out["pgpath.yaml"] = out["pgpath.yaml"].replace("k8s/pgbouncer.yaml", "pgb/pgbouncer.ini")
        return out

    rules = ["PATH005", "PGB016", "ADV004"]
    assert _run(tmp_path / "declared", files(", replicas: 3"), rules).findings == []
    [finding] = _run(tmp_path / "undeclared", files(""), rules).findings
    assert finding.code == "PATH005" and "> max_client_conn = 100:" in finding.message


def test_a_pods_sysctls_stay_in_its_pod_when_paths_are_discovered(tmp_path):
    """Without a topology the folder's sysctl files are every server's host facts; a pod's
    sysctls that went to the PgBouncer it runs are not the PostgreSQL's of another pod."""
    postgres = ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: pg\n  namespace: db\nspec:\n"
                "  template:\n    spec:\n      containers:\n        - name: postgres\n          image: postgres:16\n"
                "          args: [\"-c\", \"max_connections=100\"]\n")
    report = _run(tmp_path, {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(),
                             "k8s/postgres.yaml": postgres,
                             "k8s/app.env": "DATABASE_URL=postgresql://shop@pgbouncer:6432/shop\n"})
    [path] = [p for p in report.paths if len(p.hops) == 3]
    assert [h.kind for h in path.hops] == ["client", "pgbouncer", "postgres"]
    assert path.hops[1].host.get("tcp_keepalive_time").value == 120
    assert path.hops[2].host is None


def _hpa(target="pgbouncer", minimum="  minReplicas: 2\n", maximum=6):
    return ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: pgbouncer\n"
            f"  namespace: db\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n"
            f"    name: {target}\n{minimum}  maxReplicas: {maximum}\n")


@pytest.mark.parametrize("layout", ["one file", "own files"])
def test_an_autoscaler_owns_the_replicas_of_the_pgbouncer_workload(tmp_path, layout):
    """A HorizontalPodAutoscaler sets the target's replicas between minReplicas and maxReplicas
    (spec.replicas is then only where it starts): the pools add up over maxReplicas pods at the
    server, and the clients find minReplicas pods at the least."""
    if layout == "one file":
        files = {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment() + "---\n" + _hpa()}
    else:
        files = {"k8s/configmap.yaml": CONFIGMAP, "k8s/deployment.yaml": _deployment(), "k8s/hpa.yaml": _hpa()}
    doc = _pgbouncer(_run(tmp_path, files))
    most, said, spans = copies(doc)
    assert most == 6 and "maxReplicas: 6" in said and "HorizontalPodAutoscaler pgbouncer" in said
    least, said, _ = copies(doc, least=True)
    assert least == 2 and "minReplicas: 2" in said
    assert spans[0].file.endswith("hpa.yaml" if layout == "own files" else "pgbouncer.yaml")


def test_an_autoscaler_of_another_workload_changes_nothing(tmp_path):
    doc = _pgbouncer(_run(tmp_path, {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment() + "---\n"
                                     + _hpa(target="shop-api")}))
    assert copies(doc)[0] == 3 and copies(doc, least=True)[0] == 3


def test_an_autoscalers_minreplicas_defaults_to_one(tmp_path):
    doc = _pgbouncer(_run(tmp_path, {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment() + "---\n"
                                     + _hpa(minimum="")}))
    assert copies(doc)[0] == 6 and copies(doc, least=True)[0] == 1


def test_budgets_of_an_autoscaled_pgbouncer(tmp_path):
    """PGB016: 6 pods × 30 = 180 > 97 at the server. PATH005: 250 clients > 2 pods × 100 when the
    autoscaler has scaled down; with minReplicas 3 (300) they fit."""
    files = _budget_files(100)
    files["k8s/hpa.yaml"] = _hpa()
    report = _run(tmp_path / "two", files, ["PATH005", "PGB016"])
    by_code = {f.code: f for f in report.findings}
    assert sorted(by_code) == ["PATH005", "PGB016"]
    assert "× 6 pods (maxReplicas: 6" in by_code["PGB016"].message and "= 180 server" in by_code["PGB016"].message
    assert "max_client_conn = 100 × 2 pods (minReplicas: 2" in by_code["PATH005"].message
    files["k8s/hpa.yaml"] = _hpa(minimum="  minReplicas: 3\n", maximum=3)
    assert _run(tmp_path / "three", files, ["PATH005", "PGB016"]).findings == []


APP = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-api
  namespace: shop
spec:
  replicas: 2
  template:
    spec:
{pod}      containers:
        - name: api
          image: registry.internal/shop-api:5.2.0
          env:
            - name: DATABASE_URL
              value: "postgresql://shop@pgbouncer.db.svc:6432/shop?sslmode=require&keepalives=1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reports
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: reports
          image: registry.internal/reports:1.0
          env:
            - name: REPORTS_DATABASE_URL
              value: "postgresql://shop@pgbouncer.db.svc:6432/shop?sslmode=require&keepalives=1"
"""


def test_an_application_pods_sysctls_are_its_clients_keepalive(tmp_path):
    """libpq with keepalives=1 and no keepalives_idle takes its pod's net.ipv4.tcp_keepalive_time
    (120 s < the Service's 3600 s: the flow is kept); the client of another workload in the same
    file keeps the OS default 7200 s, and PATH001 reports only that one."""
    files = {"k8s/shop-api.yaml": APP.format(pod=SYSCTLS),
             "k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(pod=""),
             "db/postgresql.conf": "max_connections = 100\n",
             "pgpath.yaml": ("deployments:\n" + "".join(
                 f"  - name: {name}\n    hops:\n"
                 f"      - client: {{file: k8s/shop-api.yaml, variable: {var}}}\n"
                 "      - k8s-service: {idle_timeout: 3600s}\n"
                 "      - pgbouncer: {file: k8s/pgbouncer.yaml, database: shop}\n"
                 "      - postgres: {file: db/postgresql.conf, version: 16}\n"
                 for name, var in (("shop", "DATABASE_URL"), ("reports", "REPORTS_DATABASE_URL"))))}
    report = _run(tmp_path, files, ["PATH001"])
    shop, reports = report.paths
    assert shop.hops[0].host.get("tcp_keepalive_time").value == 120
    assert reports.hops[0].host is None
    [finding] = report.findings
    assert "REPORTS_DATABASE_URL" in finding.message and "DATABASE_URL (libpq) ->" not in finding.message.split(
        "REPORTS_")[0]


CLIENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders-api
  namespace: shop
spec:
{replicas}  template:
    spec:
      containers:
        - name: api
          image: registry.internal/orders-api:4.1.0
          env:
            - name: DATABASE_URL
              value: postgres://shop@pgbouncer.db.svc:6432/shop?pool_max_conns=30
"""


SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: pgbouncer
  namespace: db
spec:
  selector: {app: pgbouncer}
  ports:
    - port: 6432
"""


def _client_hpa(maximum: int) -> str:
    return ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: orders-api\n"
            "  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n"
            f"    name: orders-api\n  minReplicas: 2\n  maxReplicas: {maximum}\n")


@pytest.mark.parametrize("layout", ["one file", "own files"])
def test_path005_counts_the_pods_of_the_clients_workload(tmp_path, layout):
    """Audit scenarios14 D4 (s05): a client whose DSN is in a Deployment's container runs in each
    of its pods: 5 × pool 30 = 150 > max_client_conn 100 × 1 pod; with an autoscaler its
    maxReplicas (the most the clients open), wherever the autoscaler is written in the folder."""
    app = CLIENT.format(replicas="  replicas: 5\n")
    files = {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(replicas="  replicas: 1\n") + "---\n" + SERVICE}
    files.update({"app/deployment.yaml": app + "---\n" + _client_hpa(8)} if layout == "one file"
                 else {"app/deployment.yaml": app, "app/hpa.yaml": _client_hpa(8)})
    [finding] = _run(tmp_path, files, ["PATH005"]).findings
    assert ("(pool_max_conns 30) × 8 replicas (maxReplicas: 8 of HorizontalPodAutoscaler orders-api, which scales Deployment "
            "orders-api) = 240 connections") in finding.message
    where = "app/hpa.yaml" if layout == "own files" else "app/deployment.yaml"
    line = files[where].split("\n").index("  maxReplicas: 8") + 1
    assert any(s.file.endswith(where) and s.line == line for s in finding.related)


def test_path005_client_workload_replicas_and_what_overrides_them(tmp_path):
    files = {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(replicas="  replicas: 1\n") + "---\n" + SERVICE,
             "app/deployment.yaml": CLIENT.format(replicas="  replicas: 5\n")}
    [finding] = _run(tmp_path / "five", files, ["PATH005"]).findings
    assert "(pool_max_conns 30) × 5 replicas (replicas: 5 of Deployment orders-api) = 150 connections" in finding.message
    assert any(s.file.endswith("app/deployment.yaml") and s.line == 7 for s in finding.related)
    # one pod (replicas not written: the API server's 1), or a template value: the pool alone
    files["app/deployment.yaml"] = CLIENT.format(replicas="")
    assert _run(tmp_path / "one", files, ["PATH005"]).findings == []
    files["app/deployment.yaml"] = CLIENT.format(replicas="  replicas: {{ .Values.replicas }}\n")
    assert _run(tmp_path / "template", files, ["PATH005"]).findings == []
    # pgpath.yaml's replicas: on the client hop wins over the file's
    files["app/deployment.yaml"] = CLIENT.format(replicas="  replicas: 5\n")
    files["pgpath.yaml"] = ("deployments:\n  - name: shop\n    hops:\n"
                            "      - client: {file: app/deployment.yaml, variable: DATABASE_URL, replicas: 3}\n"
                            "      - pgbouncer: {file: k8s/pgbouncer.yaml, database: shop}\n")
    assert _run(tmp_path / "declared", files, ["PATH005"]).findings == []
