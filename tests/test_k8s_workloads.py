"""What a Kubernetes workload says about the PgBouncer or PostgreSQL a ConfigMap configures: the
pod's `securityContext.sysctls` (per network namespace: the keepalive sysctls of the processes in
that pod)."""

from __future__ import annotations

from advisor.engine import make_settings, run

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
    assert [d.kind for d in report.docs].count("kubernetes") == 0  # nothing of the workload's file is a document


def test_another_workloads_pod_sysctls_are_not_this_pgbouncers(tmp_path):
    """A pod's sysctls are per network namespace: the application's pod, or a workload mounting
    another ConfigMap, gives PgBouncer nothing."""
    report = _run(tmp_path, {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(configmap="other-config")})
    assert _pgbouncer(report).host is None


def test_a_configmap_of_another_namespace_is_not_mounted(tmp_path):
    other = CONFIGMAP.replace("namespace: db", "namespace: shop")
    report = _run(tmp_path, {"k8s/pgbouncer.yaml": other + "---\n" + _deployment()})
    assert _pgbouncer(report).host is None


def test_only_the_namespaced_net_sysctls_of_a_pod_are_host_facts(tmp_path):
    """vm.* is not namespaced (the kubelet refuses it in a pod), and with hostNetwork the pod
    shares the node's network namespace, where Kubernetes allows no net.* sysctl at all."""
    pod = SYSCTLS + "          - name: vm.overcommit_memory\n            value: \"2\"\n"
    doc = _pgbouncer(_run(tmp_path / "a", {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(pod=pod)}))
    assert set(doc.host.facts) == {"tcp_keepalive_time", "tcp_keepalive_intvl"}
    host_network = "      hostNetwork: true\n" + SYSCTLS
    doc = _pgbouncer(_run(tmp_path / "b", {"k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment(pod=host_network)}))
    assert doc.host is None


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


DECLARED = ("deployments:\n  - name: shop\n    hops:\n"
            "      - client: {file: app/.env, variable: DATABASE_URL}\n"
            "      - k8s-service: {idle_timeout: 3600s}\n"
            "      - pgbouncer: {file: k8s/pgbouncer.yaml, database: shop}\n"
            "      - postgres: {file: db/postgresql.conf, version: 16}\n")


def test_path001_credits_the_pgbouncer_pods_sysctl_on_a_declared_path(tmp_path):
    """Audit scenarios12 D5 (s10b): the client sends no probes, PgBouncer's pod probes every 120 s
    < the Service's 3600 s, so the flow is kept and PATH001 has nothing to say; without the
    sysctl the OS default 7200 s is >= 3600 s and it warns."""
    files = {"app/.env": "DATABASE_URL=postgresql://shop@pgbouncer.db.svc:6432/shop?keepalives=0\n",
             "db/postgresql.conf": "max_connections = 100\n", "pgpath.yaml": DECLARED,
             "k8s/pgbouncer.yaml": CONFIGMAP + "---\n" + _deployment()}
    report = _run(tmp_path / "with", files, ["PATH001"])
    assert report.findings == []
    [path] = report.paths
    assert path.hops[2].host.get("tcp_keepalive_time").value == 120
    files["k8s/pgbouncer.yaml"] = CONFIGMAP + "---\n" + _deployment(pod="")
    [finding] = _run(tmp_path / "without", files, ["PATH001"]).findings
    assert "OS default 7200 s" in finding.message


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
