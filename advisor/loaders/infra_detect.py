"""Which files are SQL scripts that set parameters, sysctl files, systemd units, Kubernetes /
compose / operator YAML, or certificates: cheap tests (a name, a few regexes over the head of the
text) that import nothing heavy; `detect_kind` calls them on every file it sniffs.
"""

from __future__ import annotations

import re

from advisor import lazy_re

_SQL_SUFFIXES = (".sql", ".psql", ".pgsql")
# a statement that sets a parameter (the SQL loader reads nothing else)
SETS_PARAMETER = lazy_re.compile(
    r"\balter\s+(?:system\s+(?:set|reset)\b|(?:database|role|user)\s+(?:\"[^\"]*\"|:?[\w'\":]+)"
    r"(?:\s+in\s+database\s+\S+)?\s+(?:set|reset)\s)", re.IGNORECASE)

_SYSCTL_KEY_LINE = lazy_re.compile(
    r"^[ \t]*-?(?:net|vm|kernel|fs|dev|user|abi|sunrpc|crypto)[./][\w.\-/*:]+[ \t]*=", re.MULTILINE)
_ASSIGN_LINE = lazy_re.compile(r"^[ \t]*-?[\w.\-/*:]+[ \t]*=", re.MULTILINE)
_SYSCTL_SECTION = lazy_re.compile(r"^[ \t]*\[sysctl(?::[^\]]*)?\][ \t]*\r?$", re.MULTILINE)
_NOT_SYSCTL_SUFFIXES = (".yml", ".yaml", ".json", ".py", ".sh", ".md", ".rst", ".sql", ".toml", ".ini", ".properties",
                        ".service", ".j2.yml")


def detect_sql(name: str, text: str | None) -> str | None:
    if not name.endswith(_SQL_SUFFIXES) or text is None:
        return None
    return "sql" if SETS_PARAMETER.search(text[:4_000_000]) else None


def looks_like_sysctl(text: str) -> bool:
    """The file's assignments are mostly sysctl keys (`net.ipv4.x = 1`), or it has a tuned/saptune
    `[sysctl]` section with at least one. (A `60-postgresql-shm.conf` of `kernel.shmmax = ...`
    lines is a sysctl drop-in, not a postgresql.conf.)"""
    head = text[:200_000]
    keys = len(_SYSCTL_KEY_LINE.findall(head))
    if not keys:
        return False
    if _SYSCTL_SECTION.search(head):
        return True
    return keys * 2 >= len(_ASSIGN_LINE.findall(head))


def detect_sysctl(name: str, text: str | None) -> str | None:
    if text is None:
        return "sysctl" if name in ("sysctl.conf", "99-sysctl.conf") else None
    if name.endswith(_NOT_SYSCTL_SUFFIXES):
        return None
    return "sysctl" if looks_like_sysctl(text) else None


_YAML_SUFFIXES = (".yml", ".yaml")
_OPERATOR_KIND = lazy_re.compile(r"^kind:\s*[\"']?(Cluster|Pooler|postgresql|PerconaPGCluster|PostgresCluster|"
                                 r"NetworkAttachmentDefinition)[\"']?\s*$", re.MULTILINE)
_GENERIC_KIND = lazy_re.compile(r"^kind:\s*[\"']?(ConfigMap|Service|Pod|Deployment|StatefulSet|DaemonSet|ReplicaSet|"
                                r"Job|CronJob|HorizontalPodAutoscaler)[\"']?\s*$", re.MULTILINE)
_AUTOSCALER = lazy_re.compile(r"^kind:\s*[\"']?HorizontalPodAutoscaler[\"']?\s*$", re.MULTILINE)
_PG_SIGNAL = lazy_re.compile(r"postgres|pgbouncer|\b5432\b|\b6432\b|sysctls|\bpatroni\b", re.IGNORECASE)
_COMPOSE = lazy_re.compile(r"^services:\s*$", re.MULTILINE)
_COMPOSE_SIGNAL = lazy_re.compile(r"image:\s*[\"']?[\w./-]*(postgres|pgbouncer|postgis|timescaledb|pgvector)|^\s+sysctls:",
                                  re.MULTILINE | re.IGNORECASE)
# a compose overlay (`docker-compose.override.yml`, `docker-compose.prod.yml`): its services often
# have no image (the base file's), so what it sets of a server is the signal
_OVERLAY_NAME = lazy_re.compile(r"^(?:docker-)?compose\.[\w.-]+\.ya?ml$")
_OVERLAY_SIGNAL = lazy_re.compile(r"^\s+(command|entrypoint|mem_limit|environment|sysctls|deploy|ports|scale):",
                                  re.MULTILINE)
# a compose service that runs several containers (`deploy.replicas`, `scale`): a client in it runs
# once per container (PATH005; advisor.loaders.infra_yaml._compose_replicas)
_COMPOSE_COPIES = lazy_re.compile(r"^\s+(replicas|scale):", re.MULTILINE)
_PATRONI = lazy_re.compile(r"^(bootstrap|postgresql):\s*$", re.MULTILINE)
_PARAMETERS = lazy_re.compile(r"^\s+parameters:\s*$", re.MULTILINE)
_ANSIBLE = lazy_re.compile(r"^(postgresql_parameters|local_postgresql_parameters|postgresql_global_config_options|"
                           r"pg_parameters|pgbouncer_(max_client_conn|default_pool_size|default_pool_mode|"
                           r"query_wait_timeout|listen_port)):", re.MULTILINE)
_EMBEDDED = lazy_re.compile(r"^\s*\[pgbouncer\]\s*$|^\s+(shared_buffers|max_connections|work_mem|listen_addresses)\s*=",
                            re.MULTILINE)
_PGB_KEYS = lazy_re.compile(r"^\s+(max_client_conn|default_pool_size|pool_mode|server_idle_timeout|reserve_pool_size|"
                            r"min_pool_size|client_tls_sslmode|server_lifetime|query_wait_timeout|auth_type):",
                            re.MULTILINE)


def detect_yaml(name: str, text: str | None) -> str | None:
    """Kubernetes and operator manifests, compose files, Patroni, Ansible variables and Helm values
    that hold PostgreSQL or PgBouncer settings, limits, sysctls or LoadBalancer Services."""
    if text is None or not name.endswith(_YAML_SUFFIXES):
        return None
    head = text[:2_000_000]
    if _OPERATOR_KIND.search(head):
        return "kubernetes"
    if _GENERIC_KIND.search(head) and _PG_SIGNAL.search(head):
        return "kubernetes"
    if _AUTOSCALER.search(head):
        # an application's autoscaler names no database, but its maxReplicas is how many copies of
        # a client run (PATH005; advisor.loaders.infra_yaml._client_hosts)
        return "kubernetes"
    if _COMPOSE.search(head) and (_COMPOSE_SIGNAL.search(head) or _OVERLAY_NAME.match(name)
                                  and _OVERLAY_SIGNAL.search(head)
                                  or _COMPOSE_COPIES.search(head) and _PG_SIGNAL.search(head)):
        return "kubernetes"
    if _PATRONI.search(head) and _PARAMETERS.search(head):
        return "kubernetes"
    if _ANSIBLE.search(head) or _EMBEDDED.search(head) or len(_PGB_KEYS.findall(head)) >= 2:
        return "kubernetes"
    return None


_SERVICE_SECTION = lazy_re.compile(r"^\[Service\][ \t]*\r?$", re.MULTILINE)
_UNIT_KEYS = lazy_re.compile(r"^(OOMScoreAdjust|MemoryMax|MemoryHigh|MemoryLimit|Environment|ExecStart)[ \t]*=",
                             re.MULTILINE)
_RUNS_POSTGRES = lazy_re.compile(r"postgres|pg_ctl|patroni|PG_OOM_ADJUST", re.IGNORECASE)


def detect_systemd(name: str, text: str | None) -> str | None:
    """A PostgreSQL systemd unit (`postgresql*.service`, `patroni.service`) or a drop-in `.conf`
    with a `[Service]` section setting OOM or memory keys."""
    if text is None:
        return None
    if not (name.endswith(".service") or name.endswith(".conf")):
        return None
    head = text[:200_000]
    if not _SERVICE_SECTION.search(head) or not _UNIT_KEYS.search(head):
        return None
    if name.endswith(".service") and not (_RUNS_POSTGRES.search(head) or _RUNS_POSTGRES.search(name)):
        return None
    return "systemd"


_PEM = lazy_re.compile(r"^-----BEGIN (CERTIFICATE|TRUSTED CERTIFICATE|(RSA |EC |ENCRYPTED |DSA )?PRIVATE KEY)-----",
                       re.MULTILINE)
_CERT_SUFFIXES = (".crt", ".pem", ".key", ".cer", ".ca", ".ca-bundle", ".cert")


def detect_certificate(name: str, text: str | None) -> str | None:
    """PEM certificates and keys (`server.crt`, `root.crt`, `server.key`, HAProxy `.pem` bundles)."""
    if text is None:
        return None
    if not (name.endswith(_CERT_SUFFIXES) or "." not in name):
        return None
    return "certificate" if _PEM.search(text[:1_000_000]) else None
