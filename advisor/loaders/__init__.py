"""Loaders: one module per file format, each turning a file into a `ConfigDoc`.

`detect_kind` decides which loader reads a file, by name first and then by content;
`load_file` runs it. Loader modules are imported only when a file of their kind is read.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Callable

from advisor import lazy_re
from advisor.loaders.source import InputError, read_text
from advisor.loaders.template import strip_template_suffix

# kind -> module that defines `load(path, options) -> ConfigDoc`
LOADERS: dict[str, str] = {
    "postgresql": "advisor.loaders.postgresql_conf",
    "pgbouncer": "advisor.loaders.pgbouncer_ini",
    "haproxy": "advisor.loaders.haproxy_cfg",
    "client": "advisor.loaders.client",
    "sql": "advisor.loaders.sql_file",
    "sysctl": "advisor.loaders.sysctl_conf",
    # a file named on the command line that no detector claims: scanned for connection strings
    "text": "advisor.loaders.text_file",
    "cloud": "advisor.loaders.cloud",
    "terraform": "advisor.loaders.terraform",
    "kubernetes": "advisor.loaders.infra_yaml",
    "systemd": "advisor.loaders.systemd_unit",
    "certificate": "advisor.loaders.cert_file",
    "keepalived": "advisor.loaders.keepalived_conf",
    # pgbouncer, haproxy and client formats add their lines here
}

KINDS = tuple(LOADERS)

_PG_NAME = lazy_re.compile(r"^([\w.-]*[-_.])?postgres(ql)?([-_.][\w.-]*)?\.conf(\.sample)?$")
_PG_CONTENT = lazy_re.compile(
    r"^[ \t]*(?:#[ \t]*)?(shared_buffers|max_connections|listen_addresses|work_mem|wal_level|"
    r"effective_cache_size|maintenance_work_mem|tcp_keepalives_idle|statement_timeout|"
    r"log_line_prefix|max_wal_size|ssl|port|checkpoint_timeout|hba_file|data_directory)[ \t]*=",
    re.MULTILINE,
)
# an ini section line (`[x]`); `^\s*` would run over every following blank line from each line start
_INI_SECTION = lazy_re.compile(r"^[ \t\f\v]*\[[\w.-]+\][ \t\f\v\r]*$", re.MULTILINE)


def detect_kind(path: str, text: str | None = None) -> str | None:
    """The kind of configuration in a file, or None when pgpath does not read it."""
    name = strip_template_suffix(Path(path).name).lower()
    if name in _USUAL_NAMES:  # the names nearly every setup uses: no pattern to compile
        return _USUAL_NAMES[name]
    if _PG_NAME.match(name):
        # `60-postgresql-shm.conf` of kernel.* lines is a sysctl drop-in: with the text, the name
        # is only a hint that the content confirms
        if text is not None and _detect_sysctl(name, text):
            return "sysctl"
        return "postgresql"
    for kind, detector in _EXTRA_DETECTORS:
        found = detector(name, None)
        if found:
            return found
    if text is None:
        return None
    for kind, detector in _EXTRA_DETECTORS:
        found = detector(name, text)
        if found:
            return found
    if name.endswith(".conf") or "." not in name:
        if len(_PG_CONTENT.findall(text[:200_000])) >= 3 and not _INI_SECTION.search(text):
            return "postgresql"
    return None


# file names whose kind the name patterns below give (a shortcut; a test checks they agree)
_USUAL_NAMES = {
    "postgresql.conf": "postgresql", "postgresql.auto.conf": "postgresql", "pgbouncer.ini": "pgbouncer",
    "haproxy.cfg": "haproxy", ".env": "client", "application.properties": "client", "application.yml": "client",
    "application.yaml": "client", "pg_service.conf": "client",
}

# (kind, detector(name, text_or_None) -> kind | None): other formats register here, in order
_EXTRA_DETECTORS: list[tuple[str, Callable[[str, str | None], str | None]]] = []

_PGB_NAME = lazy_re.compile(r"^(.*[-_.])?pgbouncer([-_.].*)?\.ini$")
_PGB_MAIN = lazy_re.compile(r"^[ \t]*\[pgbouncer\][ \t]*\r?$", re.MULTILINE)
_PGB_DATABASES = lazy_re.compile(r"^[ \t]*\[databases\][ \t]*\r?$", re.MULTILINE)
_PGB_CONNSTR = lazy_re.compile(r"^[ \t]*[\w.*-]+[ \t]*=.*\b(host|dbname|port|pool_size|auth_user)=", re.MULTILINE)
_PGB_TEMPLATE_ENTRY = lazy_re.compile(r"^[ \t]*(<%=|\{\{).*=", re.MULTILINE)
# an Ansible INI inventory: a `[group:children]` or `[group:vars]` section, or a host line with an
# `ansible_*=` variable (its group may be named [pgbouncer]: no PgBouncer file)
_ANSIBLE_INVENTORY = lazy_re.compile(r"^[ \t]*\[[\w.-]+:(?:children|vars)\][ \t]*\r?$|^[ \t]*\S+[ \t]+ansible_\w+=",
                                     re.MULTILINE)


def _detect_pgbouncer(name: str, text: str | None) -> str | None:
    """pgbouncer*.ini (and templates of it), or an ini with [pgbouncer] or a [databases] of connection strings."""
    if text is None:
        return "pgbouncer" if _PGB_NAME.match(name) else None
    if name.endswith(_NOT_CONFIG_SUFFIXES):
        return None
    head = text[:200_000]
    if _ANSIBLE_INVENTORY.search(head):
        return None
    if _PGB_MAIN.search(head) or (
        _PGB_DATABASES.search(head) and (_PGB_CONNSTR.search(head) or _PGB_TEMPLATE_ENTRY.search(head))
    ):
        return "pgbouncer"
    return None


_EXTRA_DETECTORS.append(("pgbouncer", _detect_pgbouncer))

_HAP_NAME = lazy_re.compile(r"^(.*[-_.])?haproxy([-_][\w-]*)?(\.cfg)?$")
# content sniffing for the ini/cfg formats never claims source code or documents that merely
# quote a configuration (tests, docs, the loaders themselves)
_NOT_CONFIG_SUFFIXES = (".py", ".pyi", ".go", ".js", ".ts", ".java", ".rb", ".sh", ".md", ".rst", ".html", ".c", ".h",
                        ".rs", ".json", ".yaml", ".yml", ".toml", ".properties", ".txt", ".log", ".xml")
# a section line: `frontend|backend|listen NAME`, `defaults [NAME]`; an ini key (`listen = 0.0.0.0:6543`,
# `defaults: x`) is none
_HAP_SECTION = lazy_re.compile(r"^(frontend|backend|listen)[ \t]+[^\s=:]|^defaults(?:[ \t]+[^\s=:]|[ \t]*\r?$)",
                               re.MULTILINE)
_HAP_KEYWORD = lazy_re.compile(r"^[ \t]+(bind|server|mode|timeout|balance|option|default_backend|use_backend)[ \t]", re.MULTILINE)


def _detect_haproxy(name: str, text: str | None) -> str | None:
    """haproxy*.cfg (and templates of it), or text with HAProxy section lines and proxy keywords."""
    if text is None:
        return "haproxy" if _HAP_NAME.match(name) else None
    if name.endswith(_NOT_CONFIG_SUFFIXES):
        return None
    head = text[:200_000]
    if _HAP_SECTION.search(head) and _HAP_KEYWORD.search(head):
        return "haproxy"
    return None


_EXTRA_DETECTORS.append(("haproxy", _detect_haproxy))

_KEEPALIVED_NAME = lazy_re.compile(r"^keepalived[\w.-]*\.conf$")
# a `vrrp_instance NAME {` line and a `virtual_ipaddress` block: keepalived's VRRP configuration
_KEEPALIVED_INSTANCE = lazy_re.compile(r"^[ \t]*vrrp_instance[ \t]+\S+", re.MULTILINE)
_KEEPALIVED_VIPS = lazy_re.compile(r"^[ \t]*virtual_ipaddress(?:_excluded)?[ \t]*(?:\{|\r?$)", re.MULTILINE)


def _detect_keepalived(name: str, text: str | None) -> str | None:
    """keepalived*.conf (and templates of it), or a .conf with a vrrp_instance and a virtual_ipaddress block."""
    if text is None:
        return "keepalived" if _KEEPALIVED_NAME.match(name) else None
    if not name.endswith(".conf"):
        return None
    head = text[:200_000]
    if _KEEPALIVED_INSTANCE.search(head) and _KEEPALIVED_VIPS.search(head):
        return "keepalived"
    return None


_EXTRA_DETECTORS.append(("keepalived", _detect_keepalived))

from advisor.loaders.infra_detect import (  # noqa: E402
    detect_certificate as _detect_certificate, detect_sql as _detect_sql, detect_systemd as _detect_systemd, detect_sysctl as _detect_sysctl,
    detect_yaml as _detect_yaml,
)

_EXTRA_DETECTORS.insert(0, ("systemd", _detect_systemd))
_EXTRA_DETECTORS.insert(0, ("certificate", _detect_certificate))

_EXTRA_DETECTORS.insert(0, ("kubernetes", _detect_yaml))
_EXTRA_DETECTORS.insert(0, ("sysctl", _detect_sysctl))
_EXTRA_DETECTORS.insert(0, ("sql", _detect_sql))

from advisor.loaders.client_detect import detect as _detect_client  # noqa: E402


def _detect_cloud(name: str, text: str | None) -> str | None:
    """Cloud CLI/API JSON and Terraform: by suffix first (.json, .tf), then one regex over the text."""
    if text is None or not name.endswith((".json", ".tf")):
        return None
    from advisor.loaders.terraform import detect_plan, detect_tf

    if name.endswith(".tf"):
        return detect_tf(name, text)
    from advisor.loaders.cloud import detect

    return detect_plan(name, text) or detect(name, text)


_EXTRA_DETECTORS.append(("cloud", _detect_cloud))  # before the client formats: a plan may hold a DSN

_EXTRA_DETECTORS.append(("client", _detect_client))


def link_documents(docs: list, options: dict) -> list:
    """Join what one file says with what another does (an RDS parameter group with the instance
    class of a describe-db-instances output or a Terraform aws_db_instance; a Kubernetes workload
    with the ConfigMap of another file of its folder that it mounts): only when a loaded document
    asks for it (`meta["link"]`) or a workload is left (`options["workloads"]`, filled by
    advisor.loaders.infra_yaml), so other runs import nothing; a container with the configuration
    file it mounts (advisor.loaders.mounts); node-postgres code with the environment of the
    container that runs it (advisor.loaders.clients.node_env); Python code that reads its URL from a
    variable with the one container that sets it (advisor.loaders.clients.env_join); a Rails
    config/database.yml with the one compose service built from its root (advisor.loaders.clients.rails_build)."""
    if options.get("compose_merged"):
        docs = _drop_merged_bases(docs, options["compose_merged"])
    if any("_replaced_by_override" in d.meta for d in docs):
        from advisor.loaders.infra_yaml import drop_replaced_clients

        docs = drop_replaced_clients(docs)
    if options.get("workloads"):
        from advisor.loaders.infra_yaml import link_workloads

        link_workloads(docs, options["workloads"], options.get("autoscalers", ()), options.get("services", ()))
    if any("_node_calls" in d.meta for d in docs):
        from advisor.loaders.clients.node_env import link as link_node_env

        docs = link_node_env(docs, options)
    if any("_env_reads" in d.meta for d in docs):
        from advisor.loaders.clients.env_join import join

        docs = join(docs, options)  # Python code reading DATABASE_URL with the one container that sets it
    if any(d.meta.get("_env_of") for d in docs if d.kind == "client"):
        from advisor.loaders.clients.env_join import drop_example_copies

        drop_example_copies(docs)  # .env.example beside .env: one client, not two
    if options.get("compose_builds") and any(d.meta.get("format") == "rails" for d in docs):
        from advisor.loaders.clients.rails_build import link as link_rails_build

        link_rails_build(docs, options["compose_builds"])  # a Rails root and the compose service built from it
    if any(getattr(ep, "spring", None) is not None for d in docs if d.kind == "client"
           for ep in getattr(d.model, "endpoints", ())):
        from advisor.loaders.clients.spring import link_overrides

        link_overrides(docs)  # SPRING_DATASOURCE_URL over the same application's spring.datasource
    import os

    if any(d.kind in ("pgbouncer", "haproxy", "postgresql") and "roles" in d.path
           and f"{os.sep}roles{os.sep}" in os.path.abspath(d.path)
           for d in docs):
        from advisor.loaders.ansible_inventory import place

        place(docs, options)  # a role's files on the inventory hosts its playbook applies it to
    if any("_mount" in d.meta or "_regenerated" in d.meta for d in docs):
        from advisor.loaders.mounts import merge

        docs = merge(docs)  # a container and the configuration file it mounts: one server
    if not any(d.meta.get("link") for d in docs):
        return docs
    from advisor.loaders.cloud import link

    return link(docs, options)


def _drop_merged_bases(docs: list, merged: list) -> list:
    """The base file's own PostgreSQL and PgBouncer documents of a compose service that the
    folder's override file merges over (advisor.loaders.compose_merge): `docker compose up` runs
    the merged service, read from the override file, so the base's alone is no second server."""
    import os

    gone = set(merged)
    return [d for d in docs if not (d.kind in ("postgresql", "pgbouncer") and d.meta.get("source") == "docker-compose"
                                    and "merged_over" not in d.meta
                                    and (os.path.realpath(d.path), d.meta.get("service")) in gone)]


_HTTP_LOG = lazy_re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD) https?://\S+", re.MULTILINE)


def skip_reason(path: str) -> str:
    """Why pgpath does not read a file (for --verbose and for a file named on the command line)."""
    import os

    from advisor.loaders.source import link_problem

    problem = link_problem(path)
    if problem:
        return problem
    if os.path.islink(path) and os.path.isdir(path):
        return ("a symbolic link to a folder, not followed (it may loop or lead out of the repository): "
                "name the folder it points to to check it")
    name = Path(path).name.lower()
    suffix = Path(name).suffix
    head = ""
    try:
        with open(path, "rb") as f:
            head = f.read(64_000).decode("utf-8", "replace")
    except OSError:
        pass
    if _HTTP_LOG.search(head):
        return ("an HTTP request/response log (recorded cloud API traffic), not a configuration format: the JSON "
                "bodies in it are requests and intermediate states; save the JSON output of the describe command "
                "instead (e.g. `gcloud compute routers nats describe NAT --router R --format=json`)")
    if suffix in (".rst", ".md", ".html", ".txt") and "::" in head or suffix in (".rst", ".md", ".html"):
        return "documentation: configuration examples quoted in it are not read"
    if suffix == ".json":
        return "JSON with no shape pgpath reads (cloud CLI/API outputs and Terraform plans: see docs/cloud.md)"
    if suffix == ".tf":
        return "Terraform without any resource or variable pgpath reads (see docs/cloud.md)"
    return "no configuration format pgpath reads was recognised by its name or content"


def load_file(path: str, kind: str, options: dict):
    """Load one file with the loader for `kind`: a ConfigDoc, or a list of them when the file holds
    several configurations. Raises InputError for unreadable input."""
    module = importlib.import_module(LOADERS[kind])
    return module.load(path, options)


__all__ = ["InputError", "read_text", "detect_kind", "load_file", "link_documents", "skip_reason", "LOADERS",
           "KINDS"]


def name_needs_content(path: str) -> bool:
    """True when a file's name says postgresql.conf only by pattern (`60-postgresql-shm.conf`), so
    its content decides; the usual names (`postgresql.conf`) are taken as they are."""
    name = strip_template_suffix(Path(path).name).lower()
    return name not in _USUAL_NAMES and bool(_PG_NAME.match(name))
