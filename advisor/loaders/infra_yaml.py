"""PostgreSQL and PgBouncer settings, limits and load balancers inside YAML (kind `kubernetes`).

One YAML file can hold several configurations; `load` returns a list of documents:

- CloudNativePG `Cluster` (`spec.postgresql.parameters`, `spec.resources.limits.memory`,
  `spec.instances`, the image tag's major) -> a `postgresql` document whose `host` carries the
  container memory limit; the operator's own defaults and mandatory values (`ssl = on`,
  `max_parallel_workers = 32`, ...) are settings too, spanned at `kind:`, listed in
  meta["operator_settings"];
- CloudNativePG `Pooler` (`spec.pgbouncer.parameters`, `poolMode`, `instances`) -> `pgbouncer`;
- Zalando `postgresql` (`spec.postgresql.parameters`, `version`, `spec.resources.limits.memory`;
  the Spilo image's defaults — `autovacuum_max_workers = 5`, keepalives 900/100, and
  `shared_buffers`/`max_connections` derived from the memory limit — are settings too, like CNPG's);
- Percona `PerconaPGCluster` and Crunchy `PostgresCluster` (`spec.patroni.dynamicConfiguration.
  postgresql.parameters`, `spec.config.parameters`, `postgresVersion`, `instances[].resources`,
  `proxy.pgBouncer`: the pgbouncer.ini the operator writes — its settings, `config.global` over
  them, `[databases] * = host=<cluster>-primary` unless `config.databases`, one PgBouncer per
  `replicas`);
- Patroni (`bootstrap.dcs.postgresql.parameters`, then `postgresql.parameters`, which win);
- Ansible variables of the common roles: `postgresql_parameters` / `local_postgresql_parameters`
  (autobase: lists of `{option, value}`), `postgresql_global_config_options` (geerlingguy),
  `pg_parameters` (pigsty, a mapping), `postgresql_version` / `pg_version`; `pgbouncer_<key>`
  variables whose key is a PgBouncer setting (not the booleans: those are the role's switches);
  autobase's the way its pgbouncer.ini.j2 renders them (its fixed lines, `pgbouncer_pools` and
  `*`, the role's defaults for the variables a file leaves out);
- Kubernetes `ConfigMap`s and Helm values that embed a postgresql.conf or pgbouncer.ini as text
  (read with the native loaders, spans at the YAML lines), and Helm values maps whose keys are
  PgBouncer settings;
- Pods and workloads (`Deployment`, `StatefulSet`, ...), docker-compose services: a PostgreSQL
  image's server, whatever its command (a `postgresql` document: `command: postgres -c
  name=value`, string or list, are its settings; meta["overrides_file"] names the mounted
  postgresql.conf when a volume mounts one, meta["_mount"] where it comes from, and the run reads
  the container and that file as one server when it reads the file (advisor.loaders.mounts; a
  PgBouncer image's mounted pgbouncer.ini too); the defaults are unknown for an image with a
  configuration of its own or an entrypoint script; psql or pg_dump in the image is no server),
  memory limits (`mem_limit`, `deploy.resources.limits.memory`, `resources.limits.memory`),
  `POSTGRES_*` variables (meta; POSTGRES_PASSWORD secret), PgBouncer images configured by
  environment (edoburu/pgbouncer: the upper-case setting names and DATABASE_URL; bitnami/pgbouncer:
  `PGBOUNCER_*`, `POSTGRESQL_HOST/PORT`), `securityContext.sysctls` (a `sysctl` document); a
  workload runs what its containers made and the ConfigMaps they mount (tie_workloads: the pod's
  `net.` sysctls become those documents' host facts, its replicas a PgBouncer's copies); a compose
  service runs `deploy.replicas` or `scale` containers (_compose_replicas), the copies of the
  PgBouncer it runs and of the clients whose connection strings its environment holds;
- compose overlay files (the folder's `docker-compose.override.yml`, a `docker-compose.<x>.yml`
  whose services have no image): a service is read merged over the base file's service of its
  name (advisor.loaders.compose_merge), spans in the file that wrote each value; one that names
  no base service is a notice; the override file's `deploy.replicas` or `scale` are the base
  file's service's copies as well (`docker compose up` merges it);
- a `Service` of type `LoadBalancer` -> a `kubernetes` document with a `MiddleboxFile`: the cloud
  and idle timeout from the well-known annotations, else the cloud's default.

Anything else in a YAML file is ignored quietly. When the file also holds client settings
(`DATABASE_URL` of an application), the client loader reads it as well and its document is
returned beside these (the `DATABASE_URL` of a PgBouncer image is not a client's).
"""

from __future__ import annotations

import os
import re
import shlex
from typing import Any

from advisor import lazy_re
from advisor.loaders.client_detect import POSTGRES_IMAGE
from advisor.loaders.compose_merge import file_of
from advisor.loaders.source import json_loads, read_text
from advisor.loaders.template import is_template
from advisor.loaders.yaml_nodes import N, TooLarge, YamlError, compose, walk
from advisor.model import KUBERNETES_WORKLOADS, ConfigDoc, Diagnostic, RamShare, Setting, Span, Unknown
from advisor.model.client import Value
from advisor.model.host import HostFacts
from advisor.units import digits, scaled, shorten

# CloudNativePG (pkg/postgres/configuration.go): defaults the user may override, then values the
# operator always sets (user values for them are ignored)
CNPG_DEFAULTS = (("max_parallel_workers", "32"), ("max_worker_processes", "32"), ("max_replication_slots", "32"),
                 ("wal_level", "logical"), ("wal_keep_size", "512MB"), ("wal_sender_timeout", "5s"),
                 ("wal_receiver_timeout", "5s"), ("archive_timeout", "5min"), ("logging_collector", "on"),
                 ("log_destination", "csvlog"), ("dynamic_shared_memory_type", "posix"),
                 ("shared_memory_type", "mmap"), ("ssl_min_protocol_version", "TLSv1.3"),
                 ("ssl_max_protocol_version", "TLSv1.3"))
CNPG_MANDATORY = (("listen_addresses", "*"), ("port", "5432"), ("ssl", "on"), ("hot_standby", "on"))
# CloudNativePG Pooler (pkg/management/pgbouncer/config/config.go at a95a534, August 2026): the
# pgbouncer.ini the operator writes is `[databases] * = host=<cluster>-<type>`, pool_mode (the
# Pooler's poolMode, default session), auth_user/auth_query/auth_dbname, then its defaults merged
# with the user's parameters and finally its forced values; everything else is PgBouncer's default
CNPG_POOLER_DEFAULTS = (("pool_mode", "session"), ("log_stats", "0"), ("auth_type", "hba"),
                        ("client_tls_sslmode", "prefer"), ("server_tls_sslmode", "verify-ca"),
                        ("ignore_startup_parameters", "extra_float_digits,options"))
CNPG_POOLER_AUTH_QUERY = "SELECT usename, passwd FROM public.user_search($1)"
CNPG_POOLER_FORCED = (("listen_port", "5432"), ("listen_addr", "*"), ("admin_users", "pgbouncer"),
                      ("unix_socket_dir", "/controller/run"), ("auth_hba_file", "/controller/configs/pg_hba.conf"),
                      ("server_tls_ca_file", "/controller/configs/server-tls/ca.crt"),
                      ("client_tls_cert_file", "/controller/configs/client-tls/tls.crt"),
                      ("client_tls_key_file", "/controller/configs/client-tls/tls.key"),
                      ("client_tls_ca_file", "/controller/configs/client-ca/ca.crt"))
CNPG_POOLER_FORCED_NAMES = {n for n, _ in CNPG_POOLER_FORCED}
# the network lines of the pg_hba.conf it writes after the Pooler's own `pg_hba` lines: the lines a
# network client matches when the Pooler has none of its own (with its own, whichever matches first)
CNPG_POOLER_HBA = "host all all 0.0.0.0/0 md5, host all all ::/0 md5"
# Spilo (Zalando) and Crunchy/Percona PGO always serve TLS
OPERATOR_TLS = (("ssl", "on"),)
# Crunchy PGO v5 (internal/pgbouncer/config.go at 0fbac30, August 2026) and Percona's fork
# (adafb34: the same, with admin_users from crVersion 3.1.0): the pgbouncer.ini of
# spec.proxy.pgBouncer is `%include` of an empty file (unless config.files replaces it), these
# settings with the user's config.global over them, and `[databases] * = host=<cluster>-primary
# port=<spec.port>` (config.databases replaces it); everything else is PgBouncer's default
PGO_PGBOUNCER = (("ignore_startup_parameters", "extra_float_digits"),
                 ("auth_file", "/etc/pgbouncer/~postgres-operator/users.txt"),
                 ("auth_query", "SELECT username, password from pgbouncer.get_auth($1)"),
                 ("auth_user", "_crunchypgbouncer"), ("client_tls_sslmode", "require"),
                 ("client_tls_cert_file", "/etc/pgbouncer/~postgres-operator/frontend-tls.crt"),
                 ("client_tls_key_file", "/etc/pgbouncer/~postgres-operator/frontend-tls.key"),
                 ("client_tls_ca_file", "/etc/pgbouncer/~postgres-operator/frontend-ca.crt"),
                 ("listen_addr", "*"), ("server_tls_sslmode", "verify-full"),
                 ("server_tls_ca_file", "/etc/pgbouncer/~postgres-operator/backend-ca.crt"), ("unix_socket_dir", ""))
# Spilo, the image the Zalando operator runs (postgres-appliance/scripts/configure_spilo.py at
# zalando/spilo 7cb50bd, 2025): bootstrap parameters a manifest's own override, and, when the
# manifest sets none, shared_buffers = 1/5 of the container's memory limit (on Kubernetes) and
# max_connections = one per 30 MB of it, at least 100 and at most 1000
SPILO_DEFAULTS = (("ssl", "on"), ("autovacuum_max_workers", "5"), ("tcp_keepalives_idle", "900"),
                  ("tcp_keepalives_interval", "100"), ("max_wal_senders", "10"), ("max_replication_slots", "10"))


def spilo_memory_defaults(limit_bytes: int) -> tuple[tuple[str, str], ...]:
    """shared_buffers and max_connections as Spilo derives them from the container's memory limit."""
    mb = limit_bytes / 1048576
    return (("shared_buffers", f"{int(mb / 5)}MB"), ("max_connections", str(min(max(100, int(mb / 30)), 1000))))

_IMAGE_MAJOR = re.compile(r"(?:postgres(?:ql)?|spilo|ppg|pg)[-_]?(\d{2})(?!\d)|:(\d{2})(?:[.\-_]|$)")
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m|kb|mb|gb|KB|MB|GB|b|B)?\s*$")
_SIZE_FACTORS = {None: 1, "b": 1, "B": 1, "k": 1000, "K": 1000, "M": 1000**2, "G": 1000**3,
                 "T": 1000**4, "P": 1000**5, "E": 1000**6, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3,
                 "Ti": 1024**4, "Pi": 1024**5, "Ei": 1024**6, "kb": 1024, "KB": 1024, "mb": 1024**2,
                 "MB": 1024**2, "gb": 1024**3, "GB": 1024**3}
_POSTGRES_IMAGE = POSTGRES_IMAGE  # PostgreSQL server images (shared with the client loader)
# images that keep the official image's configuration (built FROM it, adding extensions): settings
# the command line leaves unset have PostgreSQL's defaults (ssl off); the others (bitnami, supabase,
# timescaledb, whose timescaledb-tune rewrites the memory settings at init) bring their own
_OFFICIAL_CONFIGURATION = re.compile(r"(^|/)(postgres|postgis/postgis|postgis|pgvector/pgvector|ankane/pgvector)(:|@|$)")
_PGB_EDOBURU = re.compile(r"(^|/)edoburu/pgbouncer(:|@|$)")
_PGB_BITNAMI = re.compile(r"(^|/)bitnami(legacy)?/pgbouncer(:|@|$)")
_WORKLOADS = KUBERNETES_WORKLOADS
# the fields of a container's SecurityContext (Kubernetes API core/v1, 1.30+)
CONTAINER_SECURITY_CONTEXT = ("allowPrivilegeEscalation", "appArmorProfile", "capabilities", "privileged", "procMount",
                              "readOnlyRootFilesystem", "runAsGroup", "runAsNonRoot", "runAsUser", "seLinuxOptions",
                              "seccompProfile", "windowsOptions")


MAX_MEMORY_LIMIT = 2**63 - 1


def parse_k8s_size(text: str) -> int | None:
    """Kubernetes quantity (`1Gi`, `512Mi`, `1e9`, `500M`) or compose size (`1g`, `512m`, `1gb`) in bytes."""
    m = _SIZE.match(text)
    if not m:
        return None
    if m.group(2) == "m":  # milli: `1500m` is 1.5 bytes
        return scaled(m.group(1), 1, 1000)
    return scaled(m.group(1), _SIZE_FACTORS[m.group(2)])


def parse_compose_size(text: str) -> int | None:
    """docker-compose byte values: `512m`, `1g`, `1gb`, `1024k`, plain bytes (binary units)."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([bkmg]b?)?\s*", text.lower())
    if not m:
        return None
    factor = {None: 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}
    return scaled(m.group(1), factor[m.group(2)])


def major_from_image(image: str | None) -> int | None:
    if not image:
        return None
    m = _IMAGE_MAJOR.search(image.rsplit("/", 1)[-1])
    if not m:
        return None
    major = int(m.group(1) or m.group(2))
    return major if 9 <= major <= 30 else None


class _File:
    """What one YAML file produces."""

    def __init__(self, path: str, text: str, options: dict) -> None:
        self.path = path
        self.text = text
        self.lines = text.split("\n")
        self.options = options
        self.template = is_template(path, text) or "{{" in text or "{%" in text
        self.docs: list[ConfigDoc] = []
        self.diagnostics: list[Diagnostic] = []
        self.pgbouncer_env_urls: list[Span] = []
        self.workloads: list[dict] = []  # Kubernetes workloads (_workload), tied to what they run in load()
        self.autoscalers: list[dict] = []  # HorizontalPodAutoscalers (_read_autoscaler): their targets' replicas
        self.image_from_line = 1  # the line of the service or container being read (_where_image)
        self.services: list[dict] = []  # Kubernetes Services with a selector (_read_service)
        # why the file is a development setup, when a container's environment says (advisor.development)
        self.development: str | None = None
        # the services of a compose file: the host names its containers reach one another by
        # (advisor.path.discover: a dev compose file's `db` is its own, not another file's)
        self.compose_services: set[str] = set()
        self.other_lines: dict[str, list[str]] = {}  # lines of a compose base file this overlay merges over
        self.image_file: str | None = None  # the file that names the image of the service being read
        self.compose_notices: list[dict] = []  # overlay services read as nothing (_unmerged_notice)
        self.compose_override: dict | None = None  # the override file merged over this base file (_compose_override)

    def lines_of(self, path: str) -> list[str]:
        """The lines of this file, or of the base file a merged compose service was partly read from."""
        return self.lines if path == self.path else self.other_lines.get(path, [])

    # -- values -------------------------------------------------------------------------------

    def is_unknown(self, text: str) -> bool:
        return "${" in text or "{{" in text or "<%" in text or "$(" in text or PLACEHOLDER in text

    def catalog(self, major: int | None):
        from advisor.catalog import SUPPORTED_MAJORS, load_catalog

        # a version given or declared for the file wins; else the one this configuration names
        # (one manifest may hold clusters on different images), else the one chosen for the file
        chosen = self.options.get("pg_major") if self.options.get("pg_major_fixed") else (
            major or self.options.get("pg_major"))
        if chosen not in SUPPORTED_MAJORS:
            chosen = SUPPORTED_MAJORS[-1] if chosen is None or chosen > SUPPORTED_MAJORS[-1] else SUPPORTED_MAJORS[0]
        return load_catalog(chosen)

    # -- PostgreSQL -----------------------------------------------------------------------------

    def pg_doc(self, entries: list[tuple[str, str, Span, Span, bool]], major: int | None, meta: dict,
               host: HostFacts | None = None) -> ConfigDoc:
        """A `postgresql` document from (name, raw text, span, value span, unknown[, key path])
        entries, typed with the catalog exactly as postgresql.conf values are; the key path (where
        the entry was read: `spec.postgresql.parameters`) becomes the setting's section."""
        from advisor.loaders.postgresql_conf import type_settings

        catalog = self.catalog(major)
        doc = ConfigDoc(path=self.path, kind="postgresql", files=[self.path], template=self.template)
        doc.meta["pg_version"] = catalog.major
        if major and not self.options.get("pg_major_fixed"):
            doc.meta["pg_version_found"] = f"PostgreSQL {major} named for this configuration in {self.path}" + (
                f"; {catalog.major} is the nearest catalog pgpath has" if catalog.major != major else "")
            if catalog.major != major:
                doc.meta["pg_major_named"] = major  # older than any catalog: its own major still decides what exists
        doc.meta.update(meta)
        for name, raw, span, vspan, unknown, *at in entries:
            param = catalog.lookup(name)
            if raw[:1] == "'":
                raw = "'" + raw.replace("\\", "\\\\").replace("'", "''") + "'"
            # section: the key that holds it (`spec.config.parameters`), where a fix changes or removes it
            value = None
            if unknown:
                share = _ram_share(raw) if param is not None and param.unit in _MEMORY_UNITS else None
                value = Unknown(raw) if share is None else RamShare(raw, share)
            doc.settings.append(Setting(param.name if param else name, raw, value, span,
                                        vspan, param.unit if param else None, at[0] if at else None, False, False,
                                        param.needs if param else None, name))
        type_settings(doc, catalog)
        doc.host = host
        self.docs.append(doc)
        return doc

    def param_entries(self, node: N | None, at: str | None = None) -> list[tuple]:
        """`name: value` pairs of a parameters mapping (at the key path `at`, when given)."""
        out = []
        if node is None or node.kind != "map":
            return out
        for name, key, value in node.items():
            if value.kind != "scalar" or value.tag == "null":
                continue
            text = value.value
            out.append((name, text, Span(self.path, key.line, key.col, value.end_line, value.end_col),
                        value.value_span(self.path), self.is_unknown(text) or self.is_unknown(name))
                       + ((at,) if at else ()))
        return out

    def option_list_entries(self, node: N | None, at: str | None = None) -> list[tuple]:
        """Ansible lists of `{option: name, value: v}` (autobase, geerlingguy), at the key `at`."""
        out = []
        if node is None or node.kind != "seq":
            return out
        for item in node.seq():
            name_node = item.get("option") or item.get("name")
            value = item.get("value")
            if name_node is None or value is None or name_node.kind != "scalar" or value.kind != "scalar":
                continue
            name = name_node.value
            text = "" if value.tag == "null" else value.value
            out.append((name, text, Span(self.path, name_node.line, name_node.col, value.end_line, value.end_col),
                        value.value_span(self.path), self.is_unknown(text) or self.is_unknown(name))
                       + ((at,) if at else ()))
        return out

    def operator_entries(self, anchor: N, pairs, user: list, mandatory: bool) -> list:
        span = anchor.span(self.path)
        names = {e[0].lower() for e in user}
        out = []
        for name, value in pairs:
            if mandatory or name not in names:
                out.append((name, value, span, span, False))
        return out

    def memory_host(self, name: str, limit: N | None, request: N | None = None,
                    parse=parse_k8s_size) -> HostFacts | None:
        node = limit if limit is not None and limit.kind == "scalar" else None
        if node is None:
            return None
        host = HostFacts(name, node.span(self.path))
        text = node.value
        value = parse(text)
        if self.is_unknown(text):
            host.facts["memory_limit"] = Value(Unknown(text), text, node.value_span(self.path), key="memory")
        elif value is None:
            self.diagnostics.append(Diagnostic(
                "invalid-value", node.value_span(self.path),
                f'invalid memory limit "{shorten(text)}": not a quantity (write e.g. 1Gi or 512Mi)', "memory: 1Gi"))
        elif value > MAX_MEMORY_LIMIT:
            self.diagnostics.append(Diagnostic(
                "invalid-value", node.value_span(self.path),
                f'invalid memory limit "{shorten(text)}": over 8 EiB (2^63-1 bytes), more than the signed 64-bit byte '
                "count the kubelet and Docker hold a limit in", "memory: 1Gi"))
        else:
            host.facts["memory_limit"] = Value(value, text, node.value_span(self.path), key="memory", unit="B")
        return host

    # -- PgBouncer ----------------------------------------------------------------------------

    def pgb_version(self, doc: ConfigDoc, own: bool = False, image: tuple[str, Span] | None = None):
        """The PgBouncer version a document is checked as: the one given (--pgbouncer-version,
        pgbouncer-version:); else, for a PgBouncer whose own container or custom resource says
        what runs it (`own`), that image's tag (`image`: the reference and where it is written, None
        for an operator's default image), the newest when it names no version (another image of the
        file or folder is not its own); else the run's choice for the file (advisor.pgbversion).
        Meta says which and why."""
        from advisor.catalogs.pgbouncer import NEWEST, parse_version
        from advisor.model.pgbouncer import version_text

        given = self.options.get("pgbouncer_version")
        if own and not self.options.get("pgbouncer_version_fixed", given is not None):
            from advisor.pgbversion import DEFAULT_REASON, image_version, supported
            from advisor.pgversion import shown

            found = image_version(image[0]) if image is not None else None
            if found is not None:
                span = image[1]
                version, reason = supported(found, f"image {image[0]} in {shown(span.file)}:{span.line}")
                source = "file"
            else:
                version, source = NEWEST, "default"
                reason = DEFAULT_REASON + (f"; its image {image[0]} names none" if image is not None and image[0]
                                           else "; the operator runs its default image")
            doc.meta.update({"pgbouncer_version": version_text(version), "pgbouncer_version_source": source,
                             "pgbouncer_version_reason": reason})
            return version
        try:
            version = parse_version(given)
        except ValueError:
            version = NEWEST
        doc.meta["pgbouncer_version"] = version_text(version)
        return version

    def pgb_doc(self, entries: list[tuple[str, str, Span, Span, bool]], meta: dict, anchor: Span | None,
                databases: list[tuple[str, str, Span]] = (), own: bool = False,
                image: tuple[str, Span] | None = None) -> ConfigDoc:
        """A `pgbouncer` document from `[pgbouncer]` (name, value, span, value span, unknown)
        entries, typed by the PgBouncer loader. `anchor`: where the generated file's defaults
        come from when they are not PgBouncer's (operator-generated files): those defaults are
        then unknown, and only values written here are judged."""
        from advisor.loaders.pgbouncer_ini import _Item, build

        doc = ConfigDoc(path=self.path, kind="pgbouncer", files=[self.path], template=self.template)
        version = self.pgb_version(doc, own, image)
        doc.meta.update(meta)
        first = entries[0][2] if entries else (anchor or Span(self.path, 1, 1))
        items = []
        if databases:
            items.append(_Item("section", "databases", "", "[databases]", first, None, False))
            for name, connstr, span in databases:
                # (a connection string pgpath composed: its text stands at the span's column, so each
                # parameter's raw text is read back from it)
                col = max(0, (span.col or 1) - 1)
                items.append(_Item("key", name, connstr, connstr, span, span, self.is_unknown(connstr), col,
                                   " " * col + connstr))
        items.append(_Item("section", "pgbouncer", "", "[pgbouncer]", first, None, False))
        if anchor is not None:
            items.append(_Item("opaque", "", "", "", anchor, None, True))
        for name, text, span, vspan, unknown in entries:
            items.append(_Item("key", name, text, text, span, vspan, unknown, max(0, (vspan.col or 1) - 1), text))
        doc.model = build(doc, items, version)
        self.docs.append(doc)
        return doc

    # -- embedded files -------------------------------------------------------------------------

    def embedded(self, node: N, kind: str, meta: dict, host: HostFacts | None = None) -> ConfigDoc | None:
        """A postgresql.conf / pgbouncer.ini written as a YAML block scalar, read by its native loader
        with every span at the YAML line and column."""
        if node.kind != "scalar" or not node.value.strip():
            return None
        first_line, indent = self.block_start(node)
        padded = "\n" * (first_line - 1) + "\n".join((" " * indent + ln) if ln else ln
                                                     for ln in node.value.split("\n"))
        doc = ConfigDoc(path=self.path, kind=kind, template=self.template)
        if kind == "postgresql":
            from advisor.loaders.postgresql_conf import _Reader, type_settings

            catalog = self.catalog(meta.get("pg_major_hint"))
            doc.meta["pg_version"] = catalog.major
            reader = _Reader(doc, self.template, catalog)
            reader.parse_file(self.path, 0, (), padded, self.template)
            type_settings(doc, catalog)
            doc.host = host
        else:
            from advisor.loaders.pgbouncer_ini import _Reader as PgbReader, build

            version = self.pgb_version(doc)
            reader = PgbReader(doc, self.options.get("pgbouncer_cwd") or os.getcwd())
            reader.parse_file(self.path, 0, (), padded)
            doc.model = build(doc, reader.items, version)
        doc.files = [self.path]
        doc.meta.pop("pg_major_hint", None)
        doc.meta.update({k: v for k, v in meta.items() if k != "pg_major_hint"})
        doc.meta["embedded_at"] = Span(self.path, node.line, node.col).to_dict()
        self.docs.append(doc)
        return doc

    def block_start(self, node: N) -> tuple[int, int]:
        """(1-based line, indent) where a scalar's text starts in the file."""
        if node.style in ("|", ">"):
            line = node.line + 1
            for i in range(node.line, min(len(self.lines), node.end_line)):
                if self.lines[i].strip():
                    return i + 1, len(self.lines[i]) - len(self.lines[i].lstrip(" "))
            return line, node.col
        return node.line, node.col - 1 + (1 if node.style in ("'", '"') else 0)


# ------------------------------------------------------------------------------------------------
# the readers of each kind of document


def _key(node: N, name: str) -> str | None:
    return node.text(name)


def _read_cnpg_cluster(f: _File, root: N) -> None:
    spec = root.get("spec") or N("map", [], "map", None, root.line, root.col, root.line, root.col)
    name = _name(root, "cluster")
    kind_node = root.get("kind") or root
    image = spec.text("imageName")
    major = major_from_image(image)
    user = f.param_entries(spec.get("postgresql", "parameters"), "spec.postgresql.parameters")
    entries = f.operator_entries(kind_node, CNPG_DEFAULTS, user, False) + user
    entries += f.operator_entries(kind_node, CNPG_MANDATORY, user, True)
    meta = {"source": "cloudnative-pg Cluster", "name": name, "parameters_at": "spec.postgresql.parameters",
            "operator_settings": sorted({n for n, _ in CNPG_DEFAULTS + CNPG_MANDATORY} - {e[0] for e in user}
                                        | {n for n, _ in CNPG_MANDATORY})}
    instances = spec.get("instances")
    if instances is not None and instances.kind == "scalar":
        meta["instances"] = instances.value
    if image:
        meta["image"] = image
    host = f.memory_host(f"{name} (CloudNativePG Cluster)", spec.get("resources", "limits", "memory"))
    f.pg_doc(entries, major, meta, host)


def _name(root: N, default: str | None) -> str | None:
    """A manifest's metadata.name, else `default`."""
    meta = root.get("metadata")
    return (meta.text("name") if meta is not None else None) or default


def _major(version: N | None) -> int | None:
    """A PostgreSQL major written as a whole number (`postgresVersion: 16`), else None."""
    return digits(version.value) if version is not None and version.kind == "scalar" else None


def _read_cnpg_pooler(f: _File, root: N) -> None:
    spec = root.get("spec")
    if spec is None:
        return
    name = _name(root, "pooler")
    pgb = spec.get("pgbouncer")
    entries = f.param_entries(pgb.get("parameters") if pgb else None)
    mode = pgb.get("poolMode") if pgb else None
    if mode is not None and mode.kind == "scalar":
        entries.insert(0, ("pool_mode", mode.value, Span(f.path, mode.line, mode.col, mode.end_line, mode.end_col),
                           mode.value_span(f.path), f.is_unknown(mode.value)))
    kind_node = root.get("kind") or root
    query = pgb.get("authQuery") if pgb else None
    defaults = CNPG_POOLER_DEFAULTS + (("auth_query", query.value if query is not None and query.kind == "scalar"
                                        else CNPG_POOLER_AUTH_QUERY),)
    user = [e for e in entries if e[0] not in CNPG_POOLER_FORCED_NAMES]  # the operator writes its own over them
    # the operator's ignore_startup_parameters come first, the user's after them (strings.go)
    user = [(n, f"extra_float_digits,options,{t}", sp, vs, u) if n == "ignore_startup_parameters" and not u else
            (n, t, sp, vs, u) for n, t, sp, vs, u in user]
    entries = (f.operator_entries(kind_node, defaults, user, False) + user
               + f.operator_entries(kind_node, CNPG_POOLER_FORCED, user, True))
    meta = {"source": "cloudnative-pg Pooler", "name": name, "generated_by": "cloudnative-pg",
            "operator_settings": sorted({n for n, _ in defaults} - {e[0] for e in user} | CNPG_POOLER_FORCED_NAMES)}
    cluster = spec.get("cluster")
    databases = []
    if cluster is not None and cluster.text("name"):
        meta["cluster"] = cluster.text("name")
        # the operator's [databases] section: every database to the cluster's Service of the Pooler's type
        service = f"{cluster.text('name')}-{spec.text('type') or 'rw'}"
        databases.append(("*", f"host={service}", cluster.get("name").span(f.path)))
    for key in ("instances", "type"):
        if spec.text(key):
            meta[key] = spec.text(key)
    instances = spec.get("instances")
    if instances is not None and instances.kind == "scalar":
        # each pod runs its own PgBouncer with its own pools, behind the one Service
        meta["processes"] = {"count": digits(instances.value),
                             "variable": "instances", "raw": instances.value, "what": "pods",
                             "where": " behind the Pooler's Service", "span": instances.value_span(f.path).to_dict()}
    service_type = spec.get("serviceTemplate", "spec", "type")
    # who reaches it: the operator's Service (ClusterIP unless serviceTemplate says otherwise)
    meta["service_type"] = service_type.text() if service_type is not None and service_type.text() else "ClusterIP"
    if service_type is not None:
        meta["service_span"] = service_type.span(f.path)
    if pgb is None or pgb.get("pg_hba") is None:
        meta["operator_hba"] = CNPG_POOLER_HBA  # what every network client matches: the Pooler adds no line first
    # the image of the template's `pgbouncer` container (the operator's default image otherwise)
    containers = spec.get("template", "spec", "containers")
    image = next((c.get("image") for c in (containers.seq() if containers is not None and containers.kind == "seq"
                                             else []) if c.kind == "map" and c.text("name") == "pgbouncer"), None)
    f.pgb_doc(entries, meta, None, databases, True,
              (image.value, image.value_span(f.path)) if image is not None and image.kind == "scalar" else None)
    if service_type is not None and service_type.text() == "LoadBalancer":
        # the operator's Service forwards port 5432, PgBouncer's listen_port it forces
        _service_middlebox(f, name, spec.get("serviceTemplate"), service_type, target="pgbouncer",
                           default_port="5432", exposure={
                               "ranges_field": "spec.serviceTemplate.spec.loadBalancerSourceRanges",
                               "annotations_field": "spec.serviceTemplate.metadata.annotations"})


def _through_patroni_dcs(entries: list, anchor: Span) -> tuple[list, list, list]:
    """(entries as the server gets them, (entry, why) Patroni refused, entries it drops) of
    parameters an operator writes into Patroni's DCS: Patroni replaces a value its check refuses by
    its default (written nowhere: placed at `anchor`; PG014 points at the refused line), and drops
    port, listen_addresses and cluster_name (it sets them itself)."""
    from advisor.model.patroni import PATRONI_DEFAULTS, PATRONI_SET_ELSEWHERE, patroni_refuses

    kept, rejected, ignored = [], [], []
    for entry in entries:
        low = entry[0].lower()
        if low in PATRONI_SET_ELSEWHERE:
            ignored.append(entry)
            continue
        refused = None if entry[4] else patroni_refuses(low, entry[1])  # (a template value is unknown)
        if refused:
            rejected.append((entry, refused))
            entry = (entry[0], PATRONI_DEFAULTS[low], anchor, anchor, False) + tuple(entry[5:])
        kept.append(entry)
    return kept, rejected, ignored


def _patroni_meta(rejected: list, ignored: list) -> dict:
    # (their presence says Patroni checks the document's values: MEM001's floor of 25 connections)
    return {"_patroni_rejected": rejected, "_patroni_ignored": ignored}


def _read_zalando(f: _File, root: N) -> None:
    spec = root.get("spec")
    if spec is None:
        return
    name = _name(root, "postgresql")
    version = spec.get("postgresql", "version")
    major = _major(version)
    # the operator writes all but a few parameters (shared_buffers, ssl*, log_*...: none that
    # Patroni checks) into Patroni's DCS (isBootstrapOnlyParameter), where its checks apply
    user, rejected, ignored = _through_patroni_dcs(
        f.param_entries(spec.get("postgresql", "parameters"), "spec.postgresql.parameters"),
        (root.get("kind") or root).span(f.path))
    host = f.memory_host(f"{name} (Zalando postgresql)", spec.get("resources", "limits", "memory"))
    defaults = SPILO_DEFAULTS
    limit = host.facts.get("memory_limit") if host is not None else None
    if limit is not None and limit.known:
        defaults += spilo_memory_defaults(limit.value)
    entries = f.operator_entries(root.get("kind") or root, defaults, user, False) + user
    given = {e[0].lower() for e in user}
    meta = {"source": "zalando postgresql", "name": name, "defaults_by": "Spilo",  # the operator's image
            "operator_settings": sorted(n for n, _ in defaults if n not in given),
            "parameters_at": "spec.postgresql.parameters", **_patroni_meta(rejected, ignored)}
    if spec.text("numberOfInstances"):
        meta["instances"] = spec.text("numberOfInstances")
    f.pg_doc(entries, major, meta, host)
    for key in ("enableMasterLoadBalancer", "enableReplicaLoadBalancer"):
        flag = spec.get(key)
        if flag is not None and flag.text() in ("true", "True", "yes", "on"):
            # the operator's Services (the cluster's name for the primary, <name>-repl for the
            # replicas) forward port 5432, where Spilo's PostgreSQL listens
            # (its load balancers admit spec.allowedSourceRanges; without them the operator locks them
            # to 127.0.0.1/32: configureLoadBalanceService, pkg/cluster/k8sres.go)
            role = "master" if "Master" in key else "replica"
            _service_middlebox(f, name if "Master" in key else f"{name}-repl", spec, flag,
                               target="postgresql", annotations=spec.get("serviceAnnotations"), default_port="5432",
                               exposure={"ranges": spec.get("allowedSourceRanges"),
                                         "ranges_field": "spec.allowedSourceRanges",
                                         "annotations_field": f"spec.{role}ServiceAnnotations",
                                         "operator_ranges": (("127.0.0.1/32",), "the operator's default without "
                                                             "allowedSourceRanges"),
                                         "more_annotations": (spec.get(f"{role}ServiceAnnotations"),)})


def _read_pgo(f: _File, root: N) -> None:
    """Percona PerconaPGCluster v2 and Crunchy PostgresCluster v5 (same layout)."""
    spec = root.get("spec")
    if spec is None:
        return
    name = _name(root, "cluster")
    version = spec.get("postgresVersion")
    major = _major(version)
    # both go to Patroni's dynamic configuration (the DCS), where its checks apply
    user, rejected, ignored = _through_patroni_dcs(
        f.param_entries(spec.get("patroni", "dynamicConfiguration", "postgresql", "parameters"),
                        "spec.patroni.dynamicConfiguration.postgresql.parameters")
        + f.param_entries(spec.get("config", "parameters"), "spec.config.parameters"),
        (root.get("kind") or root).span(f.path))
    entries = f.operator_entries(root.get("kind") or root, OPERATOR_TLS, user, False) + user
    host = None
    instances = spec.get("instances")
    for inst in instances.seq() if instances is not None else []:
        host = host or f.memory_host(f"{name} ({root.text('kind')})", inst.get("resources", "limits", "memory"))
    f.pg_doc(entries, major, {"source": root.text("kind"), "name": name, "operator_settings": ["ssl"],
                              "parameters_at": "spec.patroni.dynamicConfiguration.postgresql.parameters",
                              **_patroni_meta(rejected, ignored)}, host)
    pgb = spec.get("proxy", "pgBouncer")
    if pgb is not None:
        _read_pgo_pgbouncer(f, root, spec, pgb, name)


def _read_pgo_pgbouncer(f: _File, root: N, spec: N, pgb: N, name: str) -> None:
    """The pgbouncer.ini the operator writes for spec.proxy.pgBouncer: its own settings, the
    user's `config.global` over them, `[databases]` `* = host=<name>-primary` unless
    `config.databases` replaces it, one PgBouncer per replica (PGO_PGBOUNCER)."""
    kind_node = root.get("kind") or root
    config = pgb.get("config")
    user = f.param_entries(config.get("global") if config is not None else None)
    port = pgb.text("port") or "5432"
    operator = PGO_PGBOUNCER + (("listen_port", port),)
    if root.text("kind") == "PerconaPGCluster" and _version_at_least(spec.text("crVersion"), (3, 1)):
        operator += (("admin_users", "_crunchypgbounceradmin"),)
    entries = f.operator_entries(kind_node, operator, user, False) + user
    meta = {"source": f"{root.text('kind')} pgBouncer", "name": name, "generated_by": root.text("kind"),
            "operator_settings": sorted({n for n, _ in operator} - {e[0] for e in user})}
    replicas = pgb.get("replicas")
    if replicas is not None and replicas.kind == "scalar":
        # each pod runs its own PgBouncer with its own pools, behind the one Service <name>-pgbouncer
        meta["processes"] = {"count": digits(replicas.value),
                             "variable": "replicas", "raw": replicas.value, "what": "pods",
                             "where": f" behind the Service {name}-pgbouncer",
                             "span": replicas.value_span(f.path).to_dict()}
    databases = []
    listed = config.get("databases") if config is not None else None
    if listed is not None and listed.kind == "map" and list(listed.items()):
        for db, key, value in listed.items():
            if value.kind == "scalar":
                databases.append((db, value.value, value.value_span(f.path)))
    else:
        # the operator's fallback: every database to the cluster's primary Service
        databases.append(("*", f"host={name}-primary port={spec.text('port') or '5432'}", kind_node.span(f.path)))
    files = config.get("files") if config is not None else None
    # files projected under /etc/pgbouncer may replace the empty pgbouncer.ini the operator's file
    # includes first: what they set is unknown
    opaque = files.span(f.path) if files is not None and files.kind == "seq" and files.seq() else None
    image = pgb.get("image")
    doc = f.pgb_doc(entries, meta, opaque, databases, True,
                    (image.value, image.value_span(f.path)) if image is not None and image.kind == "scalar" else None)
    if name and not f.is_unknown(name):
        # the Deployment the operator makes for it (naming.ClusterPGBouncer: <cluster>-pgbouncer), which a
        # HorizontalPodAutoscaler of the folder may scale (_scale): its pods are then the autoscaler's
        count = meta.get("processes") or {"count": 1, "raw": "not set (1)", "span": kind_node.span(f.path).to_dict()}
        f.workloads.append({
            "kind": "Deployment", "name": f"{name}-pgbouncer", "namespace": _namespace(root),
            "folder": os.path.dirname(os.path.realpath(f.path)), "configmaps": set(), "runs": [doc], "host": None,
            "replicas": {k: count[k] for k in ("count", "raw", "span")}, "sysctl_doc": None, "docs": [],
            "lines": (root.line, root.end_line),
            "operator": f"{root.text('kind')} {name} makes for spec.proxy.pgBouncer"})


def _version_at_least(text: str | None, wanted: tuple[int, int]) -> bool:
    parts = (text or "").split(".")
    try:
        return (int(parts[0]), int(parts[1]) if len(parts) > 1 else 0) >= wanted
    except ValueError:
        return False


def _read_patroni(f: _File, root: N) -> bool:
    from advisor.model.patroni import PATRONI_DCS, PATRONI_DCS_ONLY, PATRONI_SET_ELSEWHERE

    dcs = root.get("bootstrap", "dcs", "postgresql", "parameters")
    local = root.get("postgresql", "parameters")
    if dcs is None and local is None:
        return False
    # as Patroni merges them: the local ones win, except the parameters it sets only from the DCS
    # (its CMDLINE_OPTIONS), whose local value it drops, and those it sets from postgresql.listen
    # and scope (port, listen_addresses, cluster_name); a DCS value its check refuses is replaced by
    # its default (PG014 reports each)
    # Patroni's value for a refused one is written nowhere: placed at the `bootstrap:` key
    anchor = (root.key_node("bootstrap") or root).span(f.path)
    entries, rejected, ignored = _through_patroni_dcs(f.param_entries(dcs, PATRONI_DCS), anchor)
    for entry in f.param_entries(local, "postgresql.parameters"):
        if entry[0].lower() in PATRONI_DCS_ONLY or entry[0].lower() in PATRONI_SET_ELSEWHERE:
            ignored.append(entry)
        else:
            entries.append(entry)
    listen = root.get("postgresql", "listen")
    if listen is not None and listen.kind == "scalar" and ":" in (listen.value or ""):
        port = listen.value.rsplit(":", 1)[1].strip()
        if port.isdigit():  # Patroni passes --port from postgresql.listen
            entries.append(("port", port, listen.span(f.path), listen.value_span(f.path), False, "postgresql.listen"))
    meta = {"source": "patroni", "parameters_at": "postgresql.parameters" if local is not None else PATRONI_DCS,
            "parameters_at_for": {name: f"{PATRONI_DCS} (on a running cluster: patronictl edit-config)"
                                  for name in sorted(PATRONI_DCS_ONLY)},
            **_patroni_meta(rejected, ignored)}
    if root.text("scope"):
        meta["scope"] = root.text("scope")
    if listen is not None and listen.kind == "scalar" and ":" in (listen.value or "") \
            and not f.is_unknown(str(listen.value)):
        # Patroni passes --listen_addresses from postgresql.listen: where a role's Patroni listens on
        # the inventory hosts it runs on (advisor.path.discover._placed_addresses)
        meta["_listen_host"] = str(listen.value).rsplit(":", 1)[0].strip()
    connect = root.get("postgresql", "connect_address")
    if connect is not None and connect.kind == "scalar" and not f.is_unknown(str(connect.value or "")):
        # the address other members and proxies reach this server at (path discovery: exact evidence)
        meta["addresses"] = [{"address": str(connect.value).strip(), "said": "postgresql.connect_address",
                              "span": connect.value_span(f.path).to_dict()}]
    f.pg_doc(entries, None, meta)  # (PG001 reads meta source: Patroni drops the names it does not know)
    return True


_ANSIBLE_PG_LISTS = ("postgresql_parameters", "local_postgresql_parameters", "postgresql_global_config_options")
_ANSIBLE_PG_MAPS = ("pg_parameters", "postgresql_conf_parameters")
_ANSIBLE_PGB_RENAME = {"pgbouncer_default_pool_mode": "pool_mode", "pgbouncer_listen_addr": "listen_addr",
                       "pgbouncer_listen_port": "listen_port"}
# the variables autobase's pgbouncer.ini.j2 renders (automation/roles/pgbouncer/templates, d10e6755);
# any other pgbouncer_* variable is never written (its other settings are fixed in the template)
_AUTOBASE_PGB_VARIABLES = frozenset({
    "pgbouncer_listen_addr", "pgbouncer_listen_port", "pgbouncer_auth_type", "pgbouncer_auth_username",
    "pgbouncer_auth_dbname", "pgbouncer_admin_users", "pgbouncer_stats_users", "pgbouncer_ignore_startup_parameters",
    "pgbouncer_default_pool_mode", "pgbouncer_max_client_conn", "pgbouncer_default_pool_size",
    "pgbouncer_query_wait_timeout", "pgbouncer_max_db_connections", "pgbouncer_max_prepared_statements",
    "pgbouncer_client_tls_sslmode", "pgbouncer_client_tls_protocols", "pgbouncer_client_tls_ciphers",
    "pgbouncer_server_tls_sslmode", "pgbouncer_server_tls_protocols", "pgbouncer_server_tls_ciphers",
})


# what autobase's pgbouncer.ini.j2 (d10e6755) writes whatever the variables say
_AUTOBASE_PGB_FIXED = (("server_reset_query", "DISCARD ALL"), ("reserve_pool_size", "1"),
                       ("reserve_pool_timeout", "1"), ("pkt_buf", "8192"), ("listen_backlog", "4096"),
                       ("so_reuseport", "1"), ("log_connections", "0"), ("log_disconnections", "0"))
_AUTOBASE_PGB_FIXED_NAMES = {n for n, _ in _AUTOBASE_PGB_FIXED}
# the role defaults (automation/roles/common/defaults/main.yml at d10e6755) of the variables it
# renders, by the setting they set; None: a value that depends on other variables (auth_type from
# postgresql_password_encryption_algorithm, the TLS lines from tls_cert_generate), unknown here
_AUTOBASE_PGB_DEFAULTS = {
    "listen_addr": "0.0.0.0", "listen_port": "6432", "max_client_conn": "100000", "max_db_connections": "10000",
    "max_prepared_statements": "1024", "query_wait_timeout": "120", "default_pool_size": "100",
    "pool_mode": "session", "ignore_startup_parameters": "extra_float_digits,geqo,search_path",
    "auth_type": None, "admin_users": None, "stats_users": None, "client_tls_sslmode": None,
    "server_tls_sslmode": None}
_AUTOBASE_DEFAULT_POOLS = (("postgres", "postgres", ""),)


def _autobase_pgbouncer(f: _File, root: N, pgb: list, variables: dict) -> tuple[list, list]:
    """The [pgbouncer] entries and [databases] lines of the pgbouncer.ini autobase's template
    renders from these variables: the file's own, the role's defaults for the others (another vars
    file of the inventory may still override them), and the template's fixed lines. The databases
    are each of `pgbouncer_pools` (else the role's default, `postgres`) and `*`, all to the
    server's unix socket."""
    anchor = Span(f.path, 1, 1)
    own = {e[0] for e in pgb}
    out = list(pgb)
    for name, text in _AUTOBASE_PGB_DEFAULTS.items():
        if name not in own:
            variables.setdefault(name, "pgbouncer_" + ("default_pool_mode" if name == "pool_mode" else name))
            out.append((name, text or "{{ role default }}", anchor, anchor, text is None))
    out += [(n, t, anchor, anchor, False) for n, t in _AUTOBASE_PGB_FIXED if n not in own]
    socket = root.text("postgresql_unix_socket_dir") or "/var/run/postgresql"
    port = root.text("postgresql_port") or "5432"
    target = f"host={socket} port={port}"
    databases = []
    pools = root.get("pgbouncer_pools")
    listed = [(p.text("name"), p.text("dbname"), p.text("pool_parameters") or "", p.span(f.path))
              for p in (pools.seq() if pools is not None else []) if p.kind == "map"]
    if pools is None:
        listed = [(n, d, params, anchor) for n, d, params in _AUTOBASE_DEFAULT_POOLS]
    for name, dbname, params, span in listed:
        if name and dbname and not f.is_unknown(name + dbname + params):
            databases.append((name, f"{target} dbname={dbname} {params}".strip(), span))
    star = (pools.span(f.path) if pools is not None else anchor)
    databases.append(("*", target, star))
    return out, databases


_MEMORY_UNITS = ("B", "kB", "8kB", "MB")
# Ansible's fact of the host's RAM in MB, times a number or divided by one, in MB: `{{ (ansible_memtotal_mb
# * 0.25) | int }}MB` (autobase's shared_buffers), `{{ ansible_memtotal_mb // 4 }}MB`, with |int / |round filters
_RAM_SHARE = lazy_re.compile(r"\{\{\s*\(?\s*ansible_memtotal_mb\s*(\*|//|/)\s*(\d+(?:\.\d+)?)\s*\)?"
                             r"(?:\s*\|\s*(?:int|round(?:\(\s*\d*\s*\))?|float))*\s*\}\}\s*MB")


def _ram_share(raw: str) -> float | None:
    """The share of the host's RAM a memory value written over `ansible_memtotal_mb` is (0.25 for
    autobase's `{{ (ansible_memtotal_mb * 0.25) | int }}MB`); None for anything else (another
    unit after it, another variable, arithmetic beyond one product or quotient)."""
    if "ansible_memtotal_mb" not in raw:
        return None
    m = _RAM_SHARE.fullmatch(raw.strip().strip("'\""))
    if m is None:
        return None
    factor = float(m.group(2))
    share = factor if m.group(1) == "*" else (1 / factor if factor else 0.0)
    return share if 0 < share <= 1 else None


def _read_ansible(f: _File, root: N) -> bool:
    found = False
    host = _ansible_host(f, root)
    entries: list = []
    meta: dict[str, Any] = {"source": "ansible variables", "parameters_forms": {}}
    # autobase: its defaults' local_postgresql_parameters, or an inventory's group_vars that set its
    # patroni_* variables beside postgresql_parameters (which autobase hands to Patroni)
    autobase = root.get("local_postgresql_parameters") is not None or (
        root.get("postgresql_parameters") is not None and any(k.startswith("patroni_") for k, _, _ in root.items()))
    for key in _ANSIBLE_PG_LISTS:
        listed = f.option_list_entries(root.get(key), key)
        if listed:
            meta.setdefault("parameters_at", key)  # where a fix adds one
            meta["parameters_forms"][key] = "options"
        if key == "postgresql_parameters" and autobase and listed:
            # autobase renders this list into Patroni's DCS, where its checks apply
            anchor = (root.key_node(key) or root).span(f.path)
            listed, rejected, ignored = _through_patroni_dcs(listed, anchor)
            meta.update(_patroni_meta(rejected, ignored))
        if key == "local_postgresql_parameters" and listed:
            # autobase renders this list into Patroni's local postgresql.parameters, and
            # postgresql_parameters into the DCS: Patroni drops a DCS-only name here (PG014)
            from advisor.model.patroni import PATRONI_DCS_ONLY

            meta["_patroni_ignored"] = meta.get("_patroni_ignored", []) + [e for e in listed
                                                                          if e[0].lower() in PATRONI_DCS_ONLY]
            meta["parameters_at_for"] = {name: "postgresql_parameters" for name in sorted(PATRONI_DCS_ONLY)}
            meta["parameters_forms"].setdefault("postgresql_parameters", "options")
            listed = [e for e in listed if e[0].lower() not in PATRONI_DCS_ONLY]
        entries += listed
    for key in _ANSIBLE_PG_MAPS:
        node = root.get(key)
        if node is not None and node.kind == "map":
            mapped = f.param_entries(node, key)
            if mapped:
                meta.setdefault("parameters_at", key)
            entries += mapped
    version = root.get("postgresql_version") or root.get("pg_version")
    major = _major(version)
    if entries:
        f.pg_doc(entries, major, meta, host)
        found = True
    from advisor.catalogs.pgbouncer import BY_NAME

    pgb = []
    variables: dict[str, str] = {}
    for name, key, value in root.items():
        if not name.startswith("pgbouncer_") or value.kind != "scalar" or value.tag in ("null", "bool"):
            # a YAML boolean is the role's switch (autobase's `pgbouncer_auth_user: true` makes its
            # template write `auth_user = {{ pgbouncer_auth_username }}`), never the text of the
            # PgBouncer setting of that name: what the template writes for it stays unknown
            continue
        if autobase and name not in _AUTOBASE_PGB_VARIABLES:
            continue  # autobase's template never writes it (pgbouncer_pool_mode is no variable of it)
        setting = _ANSIBLE_PGB_RENAME.get(name, name[len("pgbouncer_"):])
        if setting not in BY_NAME:
            continue
        variables[setting] = name  # a fix is written as the variable that sets it
        pgb.append((setting, value.value, Span(f.path, key.line, key.col, value.end_line, value.end_col),
                    value.value_span(f.path), f.is_unknown(value.value)))
    if len(pgb) >= 2:
        meta = {"source": "ansible variables", "generated_by": "ansible role template", "_variables": variables}
        processes = root.get("pgbouncer_processes")
        if processes is not None and processes.kind == "scalar":
            # autobase runs that many PgBouncer processes on one port (so_reuseport), each with its
            # own pools: what reaches the server is that many times one process's pools
            count = digits(processes.value)
            meta["processes"] = {"count": count, "variable": "pgbouncer_processes", "raw": processes.value,
                                 "span": processes.value_span(f.path).to_dict()}
        if autobase:
            pgb, databases = _autobase_pgbouncer(f, root, pgb, variables)
            meta["operator_settings"] = sorted(_AUTOBASE_PGB_FIXED_NAMES | (
                set(_AUTOBASE_PGB_DEFAULTS) - {e[0] for e in pgb if e[2] != Span(f.path, 1, 1)}))
            meta["defaults_by"] = "autobase"
            f.pgb_doc(pgb, meta, None, databases)
        else:
            f.pgb_doc(pgb, meta, Span(f.path, 1, 1))
        found = True
    if host is not None:  # the hosts' sysctl document after the server's (`pgpath dump` shows the first)
        f.docs.sort(key=lambda d: d.kind == "sysctl" and d.model is host)
    return found


# the inventory group of the database hosts in the roles that key `sysctl_conf` by group (autobase:
# each host applies the lists of its groups, `postgres_cluster` last of the database groups)
_ANSIBLE_DB_GROUP = "postgres_cluster"


def _ansible_host(f: _File, root: N) -> HostFacts | None:
    """The database hosts' kernel parameters and swap file set by role variables:
    `sysctl_conf` (autobase: a mapping of inventory group -> list of `{name, value}`, the
    `postgres_cluster` group being the database hosts; other roles: one flat list or mapping for
    the hosts the role runs on), applied unless `sysctl_set` is false; `swap_file_size_mb` (MiB)
    unless `swap_file_create` is false. The sysctl entries become a `sysctl` document of this file
    (so SYS001 reports values the kernel refuses), and its facts are the host of the PostgreSQL
    document of the same variables."""
    node = root.get("sysctl_conf")
    entries = node if node is not None and node.kind == "seq" and node.seq() else None
    if node is not None and node.kind == "map":
        entries = node.get(_ANSIBLE_DB_GROUP)
        if entries is None and any("." in k and v.kind == "scalar" for k, _, v in node.items()):
            entries = node  # a flat mapping `vm.overcommit_memory: 2`; otherwise groups of other hosts
    host = None
    if entries is not None and entries.kind in ("seq", "map") and not _false(root.get("sysctl_set")):
        host = _sysctls_doc(f, f"{_ANSIBLE_DB_GROUP} (ansible sysctl_conf)", entries, "ansible sysctl_conf",
                            "the Ansible sysctl task fails on the host (the kernel refuses the value)").model
    size = root.get("swap_file_size_mb")
    if size is not None and size.kind == "scalar" and size.tag != "null" and not _false(root.get("swap_file_create")):
        text = size.value
        if host is None:
            host = HostFacts(f"{_ANSIBLE_DB_GROUP} (ansible variables)", size.span(f.path))
        if f.is_unknown(text):
            host.facts["swap"] = Value(Unknown(text), text, size.value_span(f.path), key="swap_file_size_mb", unit="B")
        elif digits(text.strip()) is not None:
            host.facts["swap"] = Value(digits(text.strip()) * 1024**2, text, size.value_span(f.path), key="swap_file_size_mb",
                                       unit="B")
    return host


def _false(node: N | None) -> bool:
    """An Ansible boolean written false (`false`, `no`, `off`, `0`, quoted or not)."""
    from advisor.units import client_bool

    return node is not None and node.kind == "scalar" and client_bool(node.value) is False


def _read_configmap(f: _File, root: N) -> None:
    data = root.get("data")
    name = _name(root, "configmap")
    for key, _, value in data.items() if data is not None else ():
        kind = _embedded_kind(key, value)
        if kind:
            # (which ConfigMap, in which namespace: a workload that mounts it runs this configuration)
            f.embedded(value, kind, {"source": f"ConfigMap {name}", "key": key,
                                     "_configmap": (_namespace(root), _name(root, None))})


def _namespace(root: N) -> str | None:
    meta = root.get("metadata")
    return meta.text("namespace") if meta is not None else None


def _embedded_kind(key: str, value: N) -> str | None:
    if value.kind != "scalar" or "\n" not in value.value:
        return None
    low = key.lower()
    text = value.value
    if low.endswith(".ini") and ("pgbouncer" in low or "[pgbouncer]" in text) or "\n[pgbouncer]" in "\n" + text:
        return "pgbouncer"
    if low.endswith(".conf") and ("postgres" in low or _looks_like_pg_conf(text)) or (
            low in ("postgresql.conf", "extendedconfiguration", "configuration") and _looks_like_pg_conf(text)):
        return "postgresql"
    if _looks_like_pg_conf(text) and not re.search(r"^\s*\[", text, re.M):
        return "postgresql"
    return None


_PG_LINE = re.compile(r"^\s*(shared_buffers|max_connections|work_mem|listen_addresses|wal_level|effective_cache_size|"
                      r"maintenance_work_mem|tcp_keepalives_idle|statement_timeout|max_wal_size|log_line_prefix|"
                      r"checkpoint_timeout|ssl|idle_session_timeout|shared_preload_libraries)\s*=", re.M)


def _looks_like_pg_conf(text: str) -> bool:
    return len(_PG_LINE.findall(text)) >= 2


# bitnami/postgresql's `resourcesPreset` (bitnami/common templates/_resources.tpl): the container
# memory limit each preset sets when `resources` is empty. The chart's default preset is "nano"
# since chart 15.0.0 (March 2024, bitnami/charts#24171); "none" before, and "none" sets nothing.
BITNAMI_PRESET_LIMITS = {"nano": "192Mi", "micro": "384Mi", "small": "768Mi", "medium": "1536Mi", "large": "3072Mi",
                         "xlarge": "6144Mi", "2xlarge": "12288Mi"}
BITNAMI_DEFAULT_PRESET = "nano"
_BITNAMI_CONF_KEYS = ("extendedConfiguration", "configuration")
_BITNAMI_SECTIONS = ("primary", "readReplicas")


def _bitnami_postgresql(f: _File, root: N, path: tuple[str, ...]) -> tuple[int | None, HostFacts | None, dict]:
    """(PostgreSQL major, container memory limit, meta) of the configuration at `path` when the
    values are bitnami/postgresql's (`primary.extendedConfiguration`, `readReplicas.configuration`,
    also under a parent chart's `postgresql:` key): the major from `image.tag` (16.4.0-debian-12-r9),
    the limit from `<section>.resources.limits.memory`, else, with `resources` empty, from the
    `resourcesPreset` the chart applies (its default "nano", 192Mi, when none is written)."""
    if len(path) < 2 or path[-1] not in _BITNAMI_CONF_KEYS or path[-2] not in _BITNAMI_SECTIONS:
        return None, None, {}
    chart = root.get(*path[:-2]) if len(path) > 2 else root
    section = chart.get(path[-2]) if chart is not None else None
    if chart is None or section is None:
        return None, None, {}
    meta: dict = {"chart": "bitnami/postgresql"}
    major = None
    tag = chart.get("image", "tag")
    if tag is not None and tag.kind == "scalar" and not f.is_unknown(tag.value):
        major = major_from_image(":" + tag.value.strip())
        if major:
            meta["image"] = f"bitnami/postgresql:{tag.value.strip()}"
    name = f"{'.'.join(path[:-1])} (bitnami/postgresql chart)"
    resources = section.get("resources")
    if resources is not None and resources.kind == "map" and resources.value:
        return major, f.memory_host(name, resources.get("limits", "memory")), meta  # as written: no preset
    if resources is not None and resources.kind == "scalar" and resources.value.strip() not in ("", "{}", "null", "~"):
        return major, None, meta  # a template expression or another form: unknown
    preset_node = section.get("resourcesPreset")
    if preset_node is not None and preset_node.kind == "scalar" and f.is_unknown(preset_node.value):
        return major, None, meta
    preset = preset_node.value.strip() if preset_node is not None and preset_node.kind == "scalar" else None
    limit = BITNAMI_PRESET_LIMITS.get(preset or BITNAMI_DEFAULT_PRESET)
    if limit is None:  # "none" (no limit), or a preset the chart refuses
        return major, None, meta
    anchor = preset_node if preset_node is not None else (chart.key_node(path[-2]) or section)
    host = HostFacts(name, anchor.span(f.path))
    where = ".".join(path[:-1])
    said = (f"set by {where}.resourcesPreset {preset}, as {where}.resources is empty" if preset else
            f"set by the chart's default {where}.resourcesPreset {BITNAMI_DEFAULT_PRESET} (chart 15.0.0 and later), as "
            f"{where}.resources is empty")
    host.facts["memory_limit"] = Value(parse_k8s_size(limit), limit, anchor.span(f.path), key="resourcesPreset",
                                       unit="B", origin="set" if preset else "default", hint=said)
    return major, host, meta


def _read_helm_values(f: _File, root: N) -> None:
    """Helm values: embedded conf text anywhere; maps whose keys are PgBouncer settings."""
    from advisor.catalogs.pgbouncer import BY_NAME

    pgb: list = []
    for path, node in walk(root):
        if node.kind == "scalar" and path and "\n" in node.value:
            kind = _embedded_kind(path[-1], node)
            if kind:
                meta: dict = {"source": "helm values", "key": ".".join(path)}
                major, host, chart = _bitnami_postgresql(f, root, path) if kind == "postgresql" else (None, None, {})
                meta.update(chart)
                if major:
                    meta["pg_major_hint"] = major
                doc = f.embedded(node, kind, meta, host)
                if doc is not None and major and not f.options.get("pg_major_fixed"):
                    doc.meta["pg_version_found"] = (
                        f"PostgreSQL {major} named for this configuration in {f.path} (image.tag)"
                        + (f"; {doc.meta['pg_version']} is the nearest catalog pgpath has"
                           if doc.meta.get("pg_version") != major else ""))
        elif node.kind == "map":
            keys = [(k, kn, v) for k, kn, v in node.items() if k in BY_NAME and v.kind == "scalar"]
            if len(keys) >= 2 and len(keys) * 2 >= len(node.value):
                for k, kn, v in keys:
                    if v.tag == "null" or v.value == "":
                        continue  # the chart leaves an empty value out of the file
                    pgb.append((k, v.value, Span(f.path, kn.line, kn.col, v.end_line, v.end_col),
                                v.value_span(f.path), f.is_unknown(v.value)))
    if pgb:
        f.pgb_doc(pgb, {"source": "helm values", "generated_by": "helm chart template"}, Span(f.path, 1, 1))


# ------------------------------------------------------------------------------------------------
# containers: compose services and Kubernetes workloads


def _command_args(node: N | None) -> list[tuple[str, N, int]]:
    """(argument, node, offset of the argument inside the node's text) of a command (string or list)."""
    if node is None:
        return []
    if node.kind == "seq":
        return [(item.value, item, 0) for item in node.seq() if item.kind == "scalar"]
    if node.kind != "scalar":
        return []
    out = []
    try:
        lexer = shlex.shlex(node.value, posix=True, punctuation_chars=False)
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:
        words = node.value.split()
    pos = 0
    for word in words:
        # where the word starts in the text (approximate for quoted words: at its first character)
        bare = word.split("=", 1)[0] if "=" in word else word
        at = node.value.find(bare[:12], pos) if bare else -1
        if at < 0:
            at = pos
        out.append((word, node, at))
        pos = at + 1
    return out


def _dash_c_entries(f: _File, args: list[tuple[str, N, int]]) -> list:
    entries = []
    i = 0
    while i < len(args):
        word, node, at = args[i]
        pair = None
        if word == "-c" and i + 1 < len(args):
            pair = args[i + 1]
            i += 2
        elif word.startswith("--") and "=" in word and not word.startswith("--help"):
            pair = (word[2:], node, at + 2)
            i += 1
        elif word.startswith("-c") and len(word) > 2 and "=" in word:
            pair = (word[2:], node, at + 2)
            i += 1
        else:
            i += 1
            continue
        text, pnode, pat = pair
        if "=" not in text:
            continue
        name, value = text.split("=", 1)
        name = name.replace("-", "_")  # postgres accepts --work-mem=..., as the server does
        if pnode.kind == "scalar" and pnode.line == pnode.end_line:
            base = pnode.col + (1 if pnode.style in ("'", '"') else 0)
            col = base + pat
            path = file_of(pnode, f.path)  # (a merged compose service's command may be the base file's)
            lines = f.lines_of(path)
            offset = lines[pnode.line - 1].find(name, col - 1) if pnode.line <= len(lines) else -1
            col = offset + 1 if offset >= 0 else col
            span = Span(path, pnode.line, col, pnode.line, col + len(text))
            vspan = Span(path, pnode.line, col + len(name) + 1, pnode.line, col + len(text))
        else:
            span = vspan = pnode.span(f.path)
        entries.append((name, value, span, vspan, f.is_unknown(value)))
    return entries


def _env_map(node: N | None) -> dict[str, tuple[str, N]]:
    """Environment of a compose service (map or `- KEY=value` list) or a Kubernetes container
    (`- name: K, value: v`): name -> (value, node holding it)."""
    out: dict[str, tuple[str, N]] = {}
    if node is None:
        return out
    if node.kind == "map":
        for key, _, value in node.items():
            if value.kind == "scalar" and value.tag != "null":
                out[key] = (value.value, value)
    elif node.kind == "seq":
        for item in node.seq():
            if item.kind == "scalar" and "=" in item.value:
                key, value = item.value.split("=", 1)
                out[key.strip()] = (value, item)
            elif item.kind == "map" and item.text("name") and item.get("value") is not None:
                value = item.get("value")
                if value.kind == "scalar":
                    out[item.text("name")] = (value.value, value)
    return out


def _env_span(f: _File, key: str, value: str, node: N) -> tuple[Span, Span]:
    """Spans of a variable's value: `KEY=value` list items point past the `=`."""
    if node.kind == "scalar" and node.line == node.end_line and node.value.startswith(key + "="):
        base = node.col + (1 if node.style in ("'", '"') else 0)
        path = file_of(node, f.path)
        return (Span(path, node.line, base, node.line, base + len(node.value)),
                Span(path, node.line, base + len(key) + 1, node.line, base + len(node.value)))
    return node.span(f.path), node.value_span(f.path)


def _container(f: _File, service: str, image: str, command: N | None, env: N | None, memory: HostFacts | None,
               volumes: list[N], source: str, securitycontext: N | None = None, exposure: dict | None = None,
               entrypoint: N | None = None, env_file: N | None = None, build: N | None = None,
               configmaps: list[dict] = ()) -> None:
    """The documents of one container (a compose service, a Kubernetes container): a `postgresql`
    one for a PostgreSQL image, whatever its command (`postgres -c name=value` flags are its
    settings; without any, the image's configuration holds), a `pgbouncer` one for a PgBouncer
    image. `entrypoint`: a compose service's, or a Kubernetes container's `command` (which replaces
    the image's entrypoint). `build`: a compose service's, whose Dockerfile makes the image (and may
    copy a configuration into it). `configmaps`: a Kubernetes container's ConfigMap volumes
    (_configmap_mounts). The configuration file the server or PgBouncer reads, when a volume mounts
    it, is meta["_mount"] (advisor.loaders.mounts reads the container and that file as one)."""
    envs = _env_map(env)
    if f.development is None and source == "docker-compose":
        # (a compose file only: a manifest is what a cluster runs, whatever its password says)
        f.development = _development_credential(f, service, envs)
    if _POSTGRES_IMAGE.search(image or ""):
        program, args = _command_args(entrypoint), _command_args(command)
        # the image's own entrypoint (none given, its script, or postgres itself), or a script of the user's
        own = not program or os.path.basename(program[0][0]) in ("postgres", "docker-entrypoint.sh")
        # -c flags: in the command, and in an entrypoint that is postgres or the image's own script
        entries = _dash_c_entries(f, (program if own else []) + args)
        if not entries and not _runs_server([w for w, *_ in program], [w for w, *_ in args]):
            return  # the image runs psql, pg_dump, a shell...: a job, not a server
        # anchor: where a finding about the server as a whole points (its image line)
        meta: dict[str, Any] = {"source": source, "service": service, "image": image,
                                "anchor": _where_image(f, image).to_dict()}
        # why what the command line leaves unset is not known: an image with a configuration of its
        # own, an entrypoint script that may write any setting, a Dockerfile that may copy one in
        unread = [] if _OFFICIAL_CONFIGURATION.search(image) else [_where_image(f, image).to_dict()]
        unread += [node.span(f.path).to_dict() for node in (None if own else entrypoint, build) if node is not None]
        if unread:
            meta["defaults_unknown_because"] = unread
        if env_file is not None and "POSTGRES_HOST_AUTH_METHOD" not in envs:
            meta["env_file"] = env_file.span(f.path).to_dict()  # may set POSTGRES_* (pgpath does not read it)
        config_file = next((value for name, value, *_ in entries if name == "config_file"), None)
        data_dir = envs["PGDATA"][0] if "PGDATA" in envs else "/var/lib/postgresql/data"
        mounts = _volume_mounts(f, volumes)
        mount = _config_mount(f, mounts, config_file, data_dir)
        meta["_mount"] = _mounted_file(f, mounts, configmaps, [config_file or f"{data_dir}/postgresql.conf"])
        if mount is not None:
            meta["defaults_unknown_because"] = meta.get("defaults_unknown_because", []) + \
                mount.pop("defaults_unknown_because")
            meta.update(mount)
        pg_env = {}
        for key, (value, _) in envs.items():
            if key.startswith("POSTGRES_") or key in ("PGDATA",):
                pg_env[key] = "***" if "PASSWORD" in key else value
        if pg_env:
            meta["env"] = pg_env
        password = envs.get("POSTGRES_PASSWORD")
        if password is not None and not f.is_unknown(password[0]):
            from advisor.model import is_development_password

            if is_development_password(password[0], envs.get("POSTGRES_USER", ("postgres",))[0]):
                # the image's superuser has a password anyone can guess (TLS001 says so; never the value)
                meta["guessable_password"] = envs.get("POSTGRES_USER", ("postgres",))[0]
        if exposure is not None:
            meta["compose_exposure"] = exposure
        initdb = _initdb_mounts(f, mounts)
        if initdb:
            meta["initdb_scripts"] = initdb
        if not entries and memory is None and mount is None and meta["_mount"] is None:
            meta["image_configuration_only"] = True  # sets nothing of its own (advisor.engine)
        if meta["_mount"] is None:
            del meta["_mount"]
        f.pg_doc(entries, major_from_image(image), meta, memory)
    elif _PGB_EDOBURU.search(image or "") or _PGB_BITNAMI.search(image or ""):
        before = len(f.docs)
        _pgbouncer_env(f, service, image, envs, source, exposure)
        words = [w for w, *_ in _command_args(entrypoint) + _command_args(command)]
        named = [w for w in words if w.endswith(".ini")]
        mounted = _mounted_file(f, _volume_mounts(f, volumes), configmaps, named[-1:] or (
            _PGB_BITNAMI_INI if _PGB_BITNAMI.search(image) else _PGB_EDOBURU_INI))
        if mounted is not None:
            for doc in f.docs[before:]:
                doc.meta["_mount"] = mounted
        if _PGB_BITNAMI.search(image) and not entrypoint and words[:1] in ([], [_BITNAMI_RUN]):
            _bitnami_regenerated(f, f.docs[before:], image, volumes, configmaps)


# the pgbouncer.ini each image runs when its command names none: edoburu/pgbouncer's CMD, which its
# entrypoint writes from the environment only when no file is there; the one bitnami/pgbouncer's
# setup copies from its mounted configuration folder, skipping its variables (libpgbouncer.sh
# pgbouncer_is_file_external; a file mounted at /opt/bitnami/pgbouncer/conf/pgbouncer.ini itself
# gets the variables written into it, so it is not one the image runs as written)
_PGB_EDOBURU_INI = ("/etc/pgbouncer/pgbouncer.ini",)
_PGB_BITNAMI_INI = ("/bitnami/pgbouncer/conf/pgbouncer.ini",)
# bitnami/pgbouncer (pgbouncer-env.sh): the files its setup deletes and writes again at every start
# (libpgbouncer.sh pgbouncer_initialize: `rm -f "$PGBOUNCER_PID_FILE" "$PGBOUNCER_LOG_FILE"
# "$PGBOUNCER_AUTH_FILE" "$PGBOUNCER_CONF_FILE"`, then the files of /bitnami/pgbouncer/conf copied
# over them, then the ones not found there written from the variables), and the command that runs
# the setup (entrypoint.sh runs setup.sh only when its command is run.sh, the image's CMD)
_BITNAMI_CONF_DIR = "/opt/bitnami/pgbouncer/conf"
_BITNAMI_REGENERATED = ("pgbouncer.ini", "userlist.txt")
_BITNAMI_RUN = "/opt/bitnami/scripts/pgbouncer/run.sh"


_BUSY = "a file mounted there is a mount point, which cannot be deleted (Device or resource busy)"
_READ_ONLY = "the folder is mounted read-only (Read-only file system)"
_READ_ONLY_CONFIGMAP = "a ConfigMap volume is read-only (Read-only file system)"


def _bitnami_regenerated(f: _File, docs: list[ConfigDoc], image: str, volumes: list[N], configmaps: list[dict]) -> None:
    """A file mounted where bitnami/pgbouncer's setup deletes it to write it again (its
    pgbouncer.ini or userlist.txt at /opt/bitnami/pgbouncer/conf, or that folder): a
    `pgbouncer-config-replaced` diagnostic on the container's document. The setup script runs
    under `set -o errexit`, so a delete that fails ends it and the container: a file bind-mounted
    there is a mount point (unlink: EBUSY), a read-only folder refuses it (EROFS), and a Kubernetes
    ConfigMap volume is read-only, with or without subPath. A writable folder is emptied of the file,
    which is written again from the PGBOUNCER_* variables: the file's settings never run. Either
    way the mounted file is no configuration this PgBouncer runs (meta["_regenerated"], for
    advisor.loaders.mounts); where the container cannot start, it runs no setting at all."""
    # (name, written source, target, span, why it fails (None: it is replaced), the file of the run or
    # the ConfigMap key (namespace, name, key))
    found = []
    for node in volumes:
        source = target = None
        read_only = False
        if node.kind == "scalar":
            parts = str(node.value).split(":")
            if len(parts) >= 2:
                source, target = parts[0], parts[1]
                read_only = len(parts) >= 3 and "ro" in parts[2].split(",")
            span = node.value_span(f.path)
        elif node.kind == "map":
            source, target = node.text("source") or "", node.text("target")
            read_only = (node.text("read_only") or "").lower() == "true"
            span = node.span(f.path)
        if not source or not target or not source.startswith(("./", "../", "/", "~")):
            continue  # a named volume: no file of the run
        target = target.rstrip("/")
        here = os.path.dirname(f.path)
        for name in _BITNAMI_REGENERATED:
            at = f"{_BITNAMI_CONF_DIR}/{name}"
            if target == at:
                path = os.path.normpath(os.path.join(here, source)) if source.startswith(".") else None
                found.append((name, source, at, span, _BUSY, path))
            elif target == _BITNAMI_CONF_DIR:
                path = os.path.normpath(os.path.join(here, source, name)) if source.startswith(".") else None
                if path is not None and os.path.isfile(path):
                    found.append((name, source, target, span,
                                  _READ_ONLY if read_only else None, path))
    for m in configmaps:
        at = m["at"].rstrip("/")
        if at == _BITNAMI_CONF_DIR and m["subpath"] is None:  # (the setup writes there: whatever its keys, it fails)
            found.append(("pgbouncer.ini", f"ConfigMap {m['name']}", at, Span(**m["span"]), _READ_ONLY_CONFIGMAP,
                          (m["namespace"], m["name"], (m["items"] or {}).get("pgbouncer.ini", "pgbouncer.ini"))))
        elif at.startswith(_BITNAMI_CONF_DIR + "/") and at[len(_BITNAMI_CONF_DIR) + 1:] in _BITNAMI_REGENERATED \
                and m["subpath"] is not None:
            key = (m["items"] or {}).get(m["subpath"], m["subpath"])
            found.append((at[len(_BITNAMI_CONF_DIR) + 1:], f"key {key} of ConfigMap {m['name']}", at,
                          Span(**m["span"]), _BUSY, (m["namespace"], m["name"], key)))
    by_mount: dict[tuple, list] = {}
    for item in found:
        by_mount.setdefault((item[3].file, item[3].line, item[3].col), []).append(item)
    for items in by_mount.values():
        names = [item[0] for item in items]
        _, source, where, span, fails, _ = items[0]
        what = {"pgbouncer.ini": "pgbouncer.ini, the configuration PgBouncer runs ($PGBOUNCER_CONF_FILE)",
                "userlist.txt": "userlist.txt, its auth_file ($PGBOUNCER_AUTH_FILE)"}
        shown = source if where != _BITNAMI_CONF_DIR or items[0][5] is None or isinstance(items[0][5], tuple) \
            else f"{source}, which holds {' and '.join(names)},"
        said = (f"{shown} is mounted at {where}: {' and '.join(what[n] for n in names)} of {image}, whose setup deletes "
                f"{'them' if len(items) > 1 else 'it'} at every start (libpgbouncer.sh pgbouncer_initialize: rm -f) "
                "to copy in the files of /bitnami/pgbouncer/conf/ and write the others from its variables "
                "(PGBOUNCER_*, POSTGRESQL_USERNAME and POSTGRESQL_PASSWORD)")
        if fails:
            said += (f": {fails}, and the setup script runs under set -o errexit, so it stops and the container "
                     "exits before PgBouncer starts")
        else:
            said += (": the mounted folder's file is deleted and written again from the variables, so the settings "
                     "written in it never run")
        target = ("the folder at /bitnami/pgbouncer/conf" if where == _BITNAMI_CONF_DIR
                  else f"it at /bitnami/pgbouncer/conf/{names[0]}")
        fix = (f"mount {target} (the image's mounted configuration folder: its files are copied to "
               f"{_BITNAMI_CONF_DIR} at every start and run as written, without the variables), not at {where}")
        for doc in docs:
            doc.diagnostics.append(Diagnostic("pgbouncer-config-replaced", span, said, fix,
                                              severity="error" if fails else "warning"))
            for item in items:
                doc.meta.setdefault("_regenerated", []).append({
                    "file": item[5] if isinstance(item[5], str) else None, "fails": bool(fails), "at": where,
                    "span": span.to_dict(), "configmap": item[5] if isinstance(item[5], tuple) else None,
                    "folder": os.path.dirname(os.path.realpath(f.path))})


def _mounted_file(f: _File, mounts: list[tuple[str, str, Span]], configmaps: list[dict],
                  wanted: list[str] | tuple[str, ...]) -> dict | None:
    """Where the configuration file a container reads (one of the paths `wanted`) comes from, when
    a volume mounts it: a file of the compose file's folder (`./pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini`,
    or the folder holding it: `./conf:/etc/pgbouncer`), {"file", "at", "span"}; or a key of a
    ConfigMap (mounted at its folder, or at the file with subPath), {"configmap": (namespace, name,
    key), "at", "span"}. None when nothing mounts it (or it is a named volume, a host path)."""
    for target in wanted:
        target = target.rstrip("/")
        for source, at, span in mounts:
            at = at.rstrip("/")
            if not source.startswith(("./", "../")) or not (target == at or target.startswith(at + "/")):
                continue
            rest = target[len(at):].lstrip("/")
            path = os.path.normpath(os.path.join(os.path.dirname(f.path), source, rest))
            return {"file": path, "written": source.rstrip("/") + "/" + rest if rest else source, "at": target,
                    "span": span.to_dict()}
        for m in configmaps:
            at = m["at"].rstrip("/")
            if m["subpath"] is not None:
                key = m["items"].get(m["subpath"], m["subpath"]) if m["items"] is not None else m["subpath"]
                if target != at:
                    continue
            elif target.startswith(at + "/") and "/" not in target[len(at) + 1:]:
                rest = target[len(at) + 1:]
                key = m["items"].get(rest) if m["items"] is not None else rest
                if key is None:
                    continue  # `items` projects other keys only
            else:
                continue
            return {"configmap": (m["namespace"], m["name"], key), "at": target, "span": m["span"],
                    "folder": os.path.dirname(os.path.realpath(f.path))}
    return None


def _configmap_mounts(f: _File, root: N, pod: N, container: N) -> list[dict]:
    """The ConfigMap volumes a Kubernetes container mounts: {"namespace", "name" (the ConfigMap's),
    "at" (mountPath), "subpath", "items" (path -> key, when the volume projects only some keys),
    "span" (of the volumeMount)}."""
    volumes = {}
    for volume in (pod.get("volumes").seq() if pod.get("volumes") is not None else []):
        cm = volume.get("configMap") if volume.kind == "map" else None
        if cm is not None and cm.kind == "map" and cm.text("name") and volume.text("name"):
            items = cm.get("items")
            volumes[volume.text("name")] = (cm.text("name"), None if items is None or items.kind != "seq" else {
                i.text("path"): i.text("key") for i in items.seq() if i.kind == "map" and i.text("path")})
    out = []
    for m in (container.get("volumeMounts").seq() if container.get("volumeMounts") is not None else []):
        if m.kind != "map" or m.text("name") not in volumes or not m.text("mountPath"):
            continue
        name, items = volumes[m.text("name")]
        out.append({"namespace": _namespace(root), "name": name, "at": m.text("mountPath"),
                    "subpath": m.text("subPath"), "items": items, "span": m.span(f.path).to_dict()})
    return out


def _runs_server(program: list[str], args: list[str]) -> bool:
    """Whether a PostgreSQL image's container runs the server, from the words of its entrypoint
    and command: with the image's entrypoint (docker-entrypoint.sh, which starts `postgres` when
    the command is empty, `postgres` or begins with a flag, and otherwise runs the command instead:
    psql, pg_dump, a shell), with `postgres` as its entrypoint, or with another entrypoint given
    `postgres` as its command (a wrapper script that starts it)."""
    if program and os.path.basename(program[0]) == "postgres":
        return True
    if not program or os.path.basename(program[0]) == "docker-entrypoint.sh":
        rest = program[1:] + args
        return not rest or rest[0] == "postgres" or rest[0].startswith("-")
    return "postgres" in args


def _volume_mounts(f: _File, volumes: list[N]) -> list[tuple[str, str, Span]]:
    """(source, target, span) of a compose service's volumes: short `source:target[:mode]` or long
    `source:`/`target:` syntax (a volume without a target mounts nothing pgpath follows)."""
    out = []
    for node in volumes:
        if node.kind == "scalar":
            parts = str(node.value).split(":")
            if len(parts) >= 2:
                out.append((parts[0], parts[1], node.value_span(f.path)))
        elif node.kind == "map" and node.text("target"):
            out.append((node.text("source") or "", node.text("target"), node.span(f.path)))
    return out


def _initdb_mounts(f: _File, mounts: list[tuple[str, str, Span]]) -> list[dict]:
    """Spans of volumes mounted into /docker-entrypoint-initdb.d: scripts the official image runs
    when it creates the cluster, which may ALTER SYSTEM anything; with `source` the folder or file
    they come from when it is a path beside the compose file (the scripts of the run under it are
    this server's: PG004)."""
    out = []
    for source, target, span in mounts:
        if not target.rstrip("/").startswith("/docker-entrypoint-initdb.d"):
            continue
        entry = span.to_dict()
        if source.startswith(("./", "../")):
            entry["source"] = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(f.path)), source))
        out.append(entry)
    return out


def _config_mount(f: _File, mounts: list[tuple[str, str, Span]], config_file: str | None, data_dir: str) -> dict | None:
    """The server's configuration file when the service mounts one (`./postgres.conf:/etc/postgresql.conf`
    with `-c config_file=/etc/postgresql.conf`, or a file mounted at `$PGDATA/postgresql.conf`): its
    settings are the server's, so what the command line leaves unset is unknown here
    (`defaults_unknown_because`); a notice says so when the file is not beside the compose file."""
    for source, target, span in mounts:
        if not source or target != (config_file or f"{data_dir}/postgresql.conf"):
            continue  # without config_file=, the server reads $PGDATA/postgresql.conf only
        mount = {"overrides_file": source, "mounted_at": target, "defaults_unknown_because": [span.to_dict()]}
        if source.startswith(("./", "../")):
            where = None if os.path.isfile(os.path.join(os.path.dirname(f.path), source)) else \
                "not beside this compose file"
        elif source.startswith(("/", "~")):
            where = "a path on the host it is deployed to"
        else:
            where = "a named volume or variable, known only where it is deployed"
        if where is not None:
            mount["unresolved_includes"] = [dict(span.to_dict(), message=(
                f"{source} mounted at {target}: the server's configuration file, {where}; not read, so the "
                "settings it holds are unknown (only the command line's are known)"))]
        return mount
    return None


_COMPOSE_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def _compose_exposure(f: _File, service: N) -> dict:
    """How far a compose service's listeners reach beyond the containers of its host:
    `network_mode: host` (its listen address is the host's), and the ports it publishes on the
    host, each {"host_ip", "target" (container port), "text", "span"}. Short syntax
    `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`; long syntax `target`/`published`/`host_ip`.
    Without a host IP Docker publishes on every interface of the host (and its iptables rules
    come before host firewalls such as ufw)."""
    published = []
    ports = service.get("ports")
    for p in ports.seq() if ports is not None else []:
        if p.kind == "scalar" and p.tag != "null":
            text = str(p.value)
            # `${HOST_IP:-0.0.0.0}:6432:6432`: a variable is one unknown word (its default may hold a colon)
            spec = _COMPOSE_VARIABLE.sub("$", text.split("/", 1)[0])
            host_ip = ""
            if spec.startswith("["):  # [::1]:6431:6432
                host_ip, _, spec = spec[1:].partition("]")
                spec = spec.lstrip(":")
            parts = spec.split(":")
            if len(parts) == 3:
                host_ip, parts = parts[0], parts[1:]
            if "$" in host_ip or "$" in parts[-1]:
                continue  # an address or port known only where the file is deployed: no claim
            published.append({"host_ip": host_ip, "target": parts[-1], "text": text, "span": p.value_span(f.path)})
        elif p.kind == "map":
            target = p.text("target")
            if target is not None:
                published.append({"host_ip": p.text("host_ip") or "", "target": str(target),
                                  "text": f"target: {target}", "span": p.span(f.path)})
    return {"network_mode": service.text("network_mode") or "", "published": published}


def _pgbouncer_env(f: _File, service: str, image: str, envs: dict, source: str, exposure: dict | None = None) -> None:
    from advisor.catalogs.pgbouncer import BY_NAME
    from advisor.model.pgbouncer import EDOBURU_ENV_SETTINGS

    bitnami = bool(_PGB_BITNAMI.search(image))
    entries = []
    databases = []
    rename = {"PGBOUNCER_PORT": "listen_port", "PGBOUNCER_BIND_ADDRESS": "listen_addr"} if bitnami else {}
    for key, (value, node) in envs.items():
        if bitnami:
            name = rename.get(key) or (key[len("PGBOUNCER_"):].lower() if key.startswith("PGBOUNCER_") else None)
        else:
            name = key.lower() if key.lower() in EDOBURU_ENV_SETTINGS else None  # what its entrypoint reads
        if name is None or name not in BY_NAME:
            continue
        span, vspan = _env_span(f, key, value, node)
        entries.append((name, value, span, vspan, f.is_unknown(value)))
    if not bitnami:
        for default_name, default in (("listen_addr", "0.0.0.0"), ("listen_port", "5432"), ("auth_type", "md5")):
            if not any(e[0] == default_name for e in entries):
                entries.insert(0, (default_name, default, _where_image(f, image), _where_image(f, image), False))
        url = envs.get("DATABASE_URL")
        if url is not None:
            value, node = url
            span, vspan = _env_span(f, "DATABASE_URL", value, node)
            f.pgbouncer_env_urls.append(span)
            m = re.match(r"^[a-z0-9+]+://(?:([^:@/]*)(?::[^@]*)?@)?([^:/?]+)(?::([^/?]*))?(?:/([^?]*))?", value)
            if m:
                db = m.group(4) or "*"
                connstr = f"host={m.group(2)} port={m.group(3) or '5432'} auth_user={m.group(1) or 'postgres'}"
                databases.append((db, connstr, vspan))
        elif "DB_HOST" in envs:
            value, node = envs["DB_HOST"]
            port = envs.get("DB_PORT", ("5432", None))[0]
            databases.append((envs.get("DB_NAME", ("*", None))[0], f"host={value} port={port}",
                              _env_span(f, "DB_HOST", value, node)[1]))
    else:
        for default_name, default in (("listen_addr", "0.0.0.0"), ("listen_port", "6432")):
            if not any(e[0] == default_name for e in entries):
                entries.insert(0, (default_name, default, _where_image(f, image), _where_image(f, image), False))
        if not any(e[0] == "ignore_startup_parameters" for e in entries):
            # the image's default (pgbouncer-env.sh) is extra_float_digits since bitnami/containers#52335
            # (November 2023: every PgBouncer 1.22 image and later); before it, none. An older tag's
            # default is not known here.
            from advisor.pgbversion import image_version

            version = image_version(image)
            entries.append(("ignore_startup_parameters", "extra_float_digits", _where_image(f, image),
                            _where_image(f, image), version is None or version < (1, 22)))
        if "POSTGRESQL_HOST" in envs:
            value, node = envs["POSTGRESQL_HOST"]
            port = envs.get("POSTGRESQL_PORT", ("5432", None))[0]
            db = envs.get("PGBOUNCER_DATABASE", ("postgres", None))[0]
            databases.append((db, f"host={value} port={port}", _env_span(f, "POSTGRESQL_HOST", value, node)[1]))
    meta = {"source": source, "service": service, "image": image,
            "generated_by": "bitnami/pgbouncer" if bitnami else "edoburu/pgbouncer"}
    if exposure is not None:
        meta["compose_exposure"] = exposure
    f.pgb_doc(entries, meta, None, databases, True, (image, _where_image(f, image)))


def _where_image(f: _File, image: str) -> Span:
    """The line that names the container's image: the first at or after the line of the service or
    container being read (`f.image_from_line`), so that two services of one image point at their own."""
    path = f.image_file or f.path  # (a merged compose service's image is the base file's)
    lines = f.lines_of(path)
    start = max(0, f.image_from_line - 1)
    for i in list(range(start, len(lines))) + list(range(0, start)):
        at = lines[i].find(image)
        if at >= 0:
            return Span(path, i + 1, at + 1, i + 1, at + 1 + len(image))
    return Span(path, 1, 1)


def _read_compose(f: _File, root: N) -> None:
    """The services of a compose file. In an overlay file (compose_merge: the folder's override
    file, or a `docker-compose.<x>.yml` given after the base with `-f`), a service that names a
    service of the base file is read merged over it, as `docker compose` does; one without an
    image or a build that names none is a notice, not silence."""
    from advisor.loaders import compose_merge

    services = root.get("services")
    overlay = _compose_base(f) if compose_merge.is_overlay_name(os.path.basename(f.path)) else None
    override = _compose_override(f) if overlay is None else None
    f.compose_override = override
    for name, key, service in services.items() if services is not None else ():
        if service.kind != "map":
            continue
        f.compose_services.add(name.lower())
        own = service
        merged_over = None
        has_image = service.get("image") is not None or service.get("build") is not None
        if overlay is not None and (overlay["automatic"] or not has_image):
            base_service = overlay["services"].get(name)
            if base_service is not None and base_service.kind == "map":
                service = compose_merge.merge_service(base_service, service, overlay["path"], f.path)
                merged_over = overlay
        if merged_over is None and not has_image and compose_merge.is_overlay_name(os.path.basename(f.path)):
            _unmerged_notice(f, name, key, overlay)
            continue
        image_node = service.get("image")
        image = service.text("image") or ""
        limit = service.get("deploy", "resources", "limits", "memory") or service.get("mem_limit")
        memory = None
        if limit is not None:
            memory = f.memory_host(f"{name} (compose service)", limit, parse=parse_compose_size)
        volumes = service.get("volumes").seq() if service.get("volumes") is not None else []
        f.image_from_line = service.line  # its image line is its own, not an earlier service's of the same image
        f.image_file = None
        if merged_over is not None and image_node is not None:
            f.image_file, f.image_from_line = compose_merge.file_of(image_node, f.path), image_node.line
        before = len(f.docs)
        _container(f, name, image, service.get("command"), service.get("environment"), memory, volumes,
                   "docker-compose", exposure=_compose_exposure(f, service), entrypoint=service.get("entrypoint"),
                   env_file=service.get("env_file"), build=service.get("build"))
        f.image_file = None
        if merged_over is not None:
            _mark_merged(f, f.docs[before:], name, merged_over)
        counted = service
        if overlay is None and override is not None and override["services"].get(name) is not None \
                and override["services"][name].kind == "map":
            # the folder's override file, which `docker compose up` merges over this one, may set the copies
            counted = compose_merge.merge_service(own, override["services"][name], f.path, override["path"])
        f.workloads.append(_compose_service(f, name, key, own, counted,
                                            [d for d in f.docs[before:] if d.kind in ("pgbouncer", "postgresql")]))
        if service.get("env_file") is not None:
            _env_files(f, f.workloads[-1], service)
        sysctls = service.get("sysctls")
        if sysctls is not None and own.get("sysctls") is not None:
            _sysctls_doc(f, name, sysctls)


def _compose_base(f: _File) -> dict | None:
    """The base file an overlay merges over: {"path", "services" (name -> node), "automatic",
    "lines"}; with "services" empty when the folder has none or it cannot be read (the run reads
    each base once: options["compose_bases"])."""
    from advisor.loaders import compose_merge

    base = compose_merge.base_of(f.path)
    automatic = compose_merge.automatic_override(f.path)
    if base is None or os.path.abspath(base) == os.path.abspath(f.path):
        return {"path": None, "services": {}, "automatic": automatic}
    found = _compose_services_of(f, base)
    f.other_lines[base] = found["lines"]
    return {"path": base, "services": found["services"], "automatic": automatic}


def _compose_services_of(f: _File, path: str) -> dict:
    """{"services" (name -> node), "lines"} of another compose file of the folder, read once per
    run (options["compose_bases"]); empty when it cannot be read (its own load reports what is
    wrong with it)."""
    from advisor.loaders.source import InputError

    cache = f.options.get("compose_bases")
    key = os.path.abspath(path)
    found = cache.get(key) if isinstance(cache, dict) else None
    if found is None:
        found = {"services": {}, "lines": []}
        try:
            text = read_text(path)
            found["lines"] = text.split("\n")
            for root in compose(text):
                services = root.get("services") if root is not None and root.kind == "map" else None
                for name, _, service in services.items() if services is not None else ():
                    found["services"][name] = service
        except (InputError, YamlError, TooLarge, OSError):
            pass  # the file's own load reports what is wrong with it
        if isinstance(cache, dict):
            cache[key] = found
    return found


def _compose_override(f: _File) -> dict | None:
    """The override file `docker compose up` merges over this base file ({"path", "services"}),
    when this is the base file it reads in its folder and an override file is beside it."""
    from advisor.loaders import compose_merge

    if compose_merge.base_of(f.path) is None or \
            os.path.abspath(compose_merge.base_of(f.path)) != os.path.abspath(f.path):
        return None
    path = compose_merge.override_of(f.path)
    if path is None:
        return None
    found = _compose_services_of(f, path)
    f.other_lines[path] = found["lines"]
    return {"path": path, "services": found["services"]}


def _compose_service(f: _File, name: str, key: N, own: N, service: N, runs: list[ConfigDoc]) -> dict:
    """A compose service as a workload (_workload): the documents its containers made and how many
    containers `docker compose up` runs. `own`: the service as this file writes it (its lines hold
    the clients' connection strings); `service`: merged with the files merged over or under it."""
    w = {"kind": "compose service", "name": name, "namespace": None, "labels": {},
         "folder": os.path.dirname(os.path.realpath(f.path)), "configmaps": set(), "runs": runs, "host": None,
         "replicas": _compose_replicas(f, service), "sysctl_doc": None, "docs": [], "units": "containers",
         "lines": (key.line, own.end_line)}
    _compose_build(f, w, key, service)
    return w


# what a compose service's environment may say about the application its build context holds
# (advisor.loaders.clients.rails_build): the Rails environment it runs (RAILS_ENV, RACK_ENV), and
# the variable whose default the pool size is (`pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>`):
# any variable of its environment


def _compose_build(f: _File, w: dict, key: N, service: N) -> None:
    """A compose service built from a folder (`build: .`, `build: {context: ./web, dockerfile: ...}`):
    w["build"] = {"context" (its real path), "written", "dockerfile" (real path), "file", "line",
    "env" (the variables its environment sets: name -> (value, Span))}, for
    the run to tie the application the context holds to this service's containers (the run's
    options["compose_builds"]); None without a build."""
    build = service.get("build")
    context = dockerfile = None
    if build is not None and build.kind == "scalar":
        context = build.value
    elif build is not None and build.kind == "map":
        context, dockerfile = build.text("context") or ".", build.text("dockerfile")
    if not context or "$" in context or "://" in context or "\0" in context:
        w["build"] = None  # a variable, or a Git or URL context (or one with a NUL, which compose refuses): no folder
        return
    root = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(f.path)), context))
    env = {}
    for name, (value, node) in _env_map(service.get("environment")).items():
        env[name] = (value, _env_span(f, name, value, node)[1])
    w["build"] = {"context": root, "written": context, "file": f.path, "line": key.line, "env": env,
                  "dockerfile": os.path.join(root, dockerfile or "Dockerfile")}


def _env_files(f: _File, w: dict, service: N) -> None:
    """The dotenv files a compose service's `env_file:` gives its containers (`env_file: .env`, a
    list, or `- path: .env` entries), as real paths relative to the compose file (w["env_files"]),
    with its build context (w["build_context"], _compose_build's real path), the variables its `environment:` sets over them
    (w["env_names"]: compose's precedence) and the line of its `env_file:` (w["env_file_line"]): a
    Python client that reads one of their variables runs in this service when the build context
    holds its code (advisor.loaders.clients.env_join)."""
    node = service.get("env_file")
    items = [node] if node.kind == "scalar" else node.seq() if node.kind == "seq" else []
    here = os.path.dirname(os.path.realpath(f.path))
    paths = []
    for item in items:
        if item.kind == "map":
            item = item.get("path")
        if item is not None and item.kind == "scalar" and item.value and "$" not in item.value:
            paths.append(os.path.realpath(os.path.join(here, item.value)))
    w["env_files"] = paths
    w["build_context"] = (w.get("build") or {}).get("context")  # (_compose_build's: no folder for a variable or URL)
    w["env_names"] = _env_names(service.get("environment"))
    w["env_file_line"] = node.line
    w["file"] = f.path
    if paths and isinstance(f.options.get("env_file_services"), list):
        f.options["env_file_services"].append(w)


_COMPOSE_REFUSES_DISTINCT = "which docker compose refuses: can't set distinct values on 'scale' and 'deploy.replicas'"


def _compose_replicas(f: _File, service: N) -> dict | None:
    """How many containers of a compose service `docker compose up` runs (None: one, nothing
    written): `deploy.replicas` (Compose Specification deploy.md; honoured by Compose v2) or the
    service-level `scale` ("the default number of containers", 05-services.md). When both are
    set they "must be consistent": compose-go reads `scale` first (ServiceConfig.GetScale) and
    refuses two different numbers (`can't set distinct values on 'scale' and 'deploy.replicas'`),
    so the count is then not known, nor is a shell variable's (`${API_REPLICAS:-4}`); more than
    one container with a `container_name` is refused as well."""
    written = []
    for variable, node in (("scale", service.get("scale")), ("deploy.replicas", service.get("deploy", "replicas"))):
        if node is None or node.kind == "scalar" and node.tag == "null":
            continue
        text = node.value.strip() if node.kind == "scalar" else ""
        lines = f.lines_of(file_of(node, f.path))
        shown = node.value if node.kind == "scalar" else \
            lines[node.line - 1][node.col - 1:].strip() if node.line <= len(lines) else "(not a number)"
        count = digits(text) if not f.is_unknown(text) else None
        span = (node.value_span(f.path) if node.kind == "scalar" else node.span(f.path)).to_dict()
        written.append((variable, count, shown, span))
    if not written:
        return None
    variable, count, raw, span = written[0]
    found = {"count": count, "raw": raw, "variable": variable, "span": span}
    if len(written) == 2:  # scale, then deploy.replicas
        other = written[1]
        found["raw"] = f"{raw} and deploy.replicas: {other[2]}"
        if count != other[1]:
            found["count"] = None
            if None not in (count, other[1]):
                found["why"] = _COMPOSE_REFUSES_DISTINCT
    name = service.get("container_name")
    if found["count"] is not None and found["count"] > 1 and name is not None and name.kind == "scalar" \
            and name.tag != "null":
        found.update(count=None, why="which docker compose refuses with container_name (a container name must be unique)")
    return found


def _merge_words(f: _File, overlay: dict) -> str:
    base = os.path.basename(overlay["path"])
    here = os.path.basename(f.path)
    if overlay["automatic"]:
        return f"as `docker compose up` does with {here} beside it"
    return f"as `docker compose -f {base} -f {here}` does"


def _mark_merged(f: _File, docs: list[ConfigDoc], service: str, overlay: dict) -> None:
    """Say on a merged service's documents what they were merged over (the path's evidence), and
    let the run drop the base file's own documents of the service when `docker compose up`
    always merges this file over it (options["compose_merged"])."""
    base = overlay["path"]
    text = f"merged over {os.path.basename(base)}'s service {service}, {_merge_words(f, overlay)}"
    for doc in docs:
        if doc.kind in ("postgresql", "pgbouncer"):
            doc.meta["merged_over"] = {"file": base, "service": service, "automatic": overlay["automatic"],
                                       "text": text}
    merged = f.options.get("compose_merged")
    if overlay["automatic"] and isinstance(merged, list) and any(d.kind in ("postgresql", "pgbouncer") for d in docs):
        merged.append((os.path.realpath(base), service))


def _unmerged_notice(f: _File, name: str, key: N, overlay: dict | None) -> None:
    """A service of an overlay file without an image or a build that names no service of a base
    file: compose cannot run it alone, and pgpath does not guess its image."""
    if overlay is None or overlay["path"] is None:
        why = "no compose.yaml or docker-compose.yml beside it to merge it over"
    else:
        why = f"{os.path.basename(overlay['path'])} beside it has no service {name} to merge it over"
    f.compose_notices.append(dict(key.span(f.path).to_dict(), message=(
        f"compose service {name} has no image and no build, and {why} (an overlay of a base file elsewhere?): "
        "its image and settings are unknown; keep the overlay beside its base file")))


def _pod_spec(root: N) -> N | None:
    kind = root.text("kind")
    spec = root.get("spec")
    if spec is None:
        return None
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return spec.get("jobTemplate", "spec", "template", "spec")
    return spec.get("template", "spec")


def _read_workload(f: _File, root: N) -> None:
    pod = _pod_spec(root)
    if pod is None:
        return
    name = _name(root, root.text("kind"))
    before = len(f.docs)
    for c in (pod.get("containers").seq() if pod.get("containers") is not None else []):
        cname = c.text("name") or name
        image = c.text("image") or ""
        memory = f.memory_host(f"{name}/{cname} (container)", c.get("resources", "limits", "memory"))
        # (a container's command replaces the image's entrypoint, its args the image's command)
        f.image_from_line = c.line
        _container(f, f"{name}/{cname}", image, c.get("args"), c.get("env"), memory, [], root.text("kind"),
                   entrypoint=c.get("command"), env_file=c.get("envFrom"),
                   configmaps=_configmap_mounts(f, root, pod, c) if c.kind == "map" else [])
        misplaced = c.get("securityContext", "sysctls")
        if misplaced is not None:
            _misplaced_sysctls(f, f"{name}/{cname}", misplaced, c.get("securityContext"))
    runs = [d for d in f.docs[before:] if d.kind in ("pgbouncer", "postgresql")]
    sysctls = pod.get("securityContext", "sysctls")
    sysctl_doc = _sysctls_doc(f, name, sysctls) if sysctls is not None else None
    f.workloads.append(_workload(f, root, pod, name, runs, sysctl_doc))


# workloads whose pod count is spec.replicas (1 when not written: the API server's default)
_REPLICATED = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")


def _workload(f: _File, root: N, pod: N, name: str, runs: list[ConfigDoc], sysctl_doc: ConfigDoc | None) -> dict:
    """What a workload says about the servers it runs: the ConfigMaps its containers mount (a
    pgbouncer.ini or postgresql.conf there is what they run), the documents its containers made
    (a PostgreSQL image's server, a PgBouncer image configured by its environment), the host facts
    of its pods and how many pods run.

    Host facts: the pod's `securityContext.sysctls` under `net.`, which the kernel keeps per
    network namespace, so they are the sysctls of every process in the pod (and of no other pod);
    Kubernetes counts net.ipv4.tcp_keepalive_time/_intvl/_probes safe from 1.29 (kernel 4.5+, see
    _SAFE_SINCE). Not the `vm.` ones (not namespaced: the kubelet refuses them in a pod), and none
    with `hostNetwork: true` (the pod shares the node's namespace; Kubernetes allows it no `net.`
    sysctl). Pods: `spec.replicas` of a Deployment, StatefulSet or ReplicaSet (1 when not written),
    None when it is a template value or the workload is a DaemonSet (one pod per node)."""
    from advisor.loaders.sysctl_conf import normalize_key

    kind = root.text("kind") or ""
    host = None
    host_network = pod.get("hostNetwork")
    on_host = host_network is not None and host_network.kind == "scalar" and host_network.value.lower() == "true"
    if sysctl_doc is not None and sysctl_doc.model is not None and not on_host:
        facts = {k: v for k, v in sysctl_doc.model.facts.items() if normalize_key(v.key or "").startswith("net.")}
        if facts:
            host = HostFacts(f"pod of {kind} {name}", sysctl_doc.model.span, facts)
    replicas = None
    spec = root.get("spec")
    anchor = (root.get("kind") or root).span(f.path).to_dict()
    if kind in _REPLICATED and spec is not None:
        node = spec.get("replicas")
        if node is None or node.kind == "scalar" and node.tag == "null":
            replicas = {"count": 1, "raw": "not set (1)", "span": anchor}
        else:  # a number, or a template value (`{{ .Values.replicas }}` even reads as a YAML mapping)
            text = node.value.strip() if node.kind == "scalar" else ""
            replicas = {"count": digits(text),
                        "raw": node.value if node.kind == "scalar" else f.lines[node.line - 1][node.col - 1:].strip(),
                        "span": (node.value_span(f.path) if node.kind == "scalar" else node.span(f.path)).to_dict()}
    elif kind == "DaemonSet":
        replicas = {"count": None, "raw": "one per node (DaemonSet)", "variable": "pods", "span": anchor}
    labels = root.get("spec", "template", "metadata", "labels") if kind != "Pod" else root.get("metadata", "labels")
    # a StatefulSet's pods are named <name>-<ordinal> and have DNS names under the headless Service
    # its serviceName names: <name>-0.<serviceName>.<namespace>.svc (advisor.path.discover)
    headless = spec.text("serviceName") if kind == "StatefulSet" and spec is not None else None
    return {"kind": kind, "name": name, "namespace": _namespace(root), "service_name": headless or None,
            "labels": {k: v.value for k, _, v in labels.items() if v.kind == "scalar"} if labels is not None else {},
            "folder": os.path.dirname(os.path.realpath(f.path)), "configmaps": _mounted_configmaps(pod),
            "runs": runs, "host": host, "replicas": replicas, "sysctl_doc": sysctl_doc, "docs": [],
            "lines": (root.line, root.end_line)}


def _mounted_configmaps(pod: N) -> set[str]:
    """The names of the ConfigMaps a container of the pod mounts: a volume's `configMap`, or a
    `configMap` among a projected volume's sources, that a container's volumeMounts name."""
    mounted = set()
    for group in ("containers", "initContainers"):
        for c in (pod.get(group).seq() if pod.get(group) is not None else []):
            for m in (c.get("volumeMounts").seq() if c.get("volumeMounts") is not None else []):
                if m.kind == "map" and m.text("name"):
                    mounted.add(m.text("name"))
    out: set[str] = set()
    for volume in (pod.get("volumes").seq() if pod.get("volumes") is not None else []):
        if volume.kind != "map" or volume.text("name") not in mounted:
            continue
        sources = [volume.get("configMap")]
        projected = volume.get("projected", "sources")
        sources += [s.get("configMap") for s in (projected.seq() if projected is not None else []) if s.kind == "map"]
        out.update(s.text("name") for s in sources if s is not None and s.kind == "map" and s.text("name"))
    return out


def tie_workloads(workloads: list[dict], docs: list[ConfigDoc]) -> list[dict]:
    """Give each PgBouncer or PostgreSQL document a workload runs (made by its containers, or
    embedded in a ConfigMap it mounts: same name, same namespace or one of them not written) the
    pod's host facts (over the document's own, e.g. a container memory limit), and a PgBouncer the
    workload's pods as its copies (meta["processes"], as an operator's pods are; added up when
    several workloads mount it). Returns the workloads that mount a ConfigMap `docs` do not hold
    (another file's: advisor.loaders.link_documents ties them)."""
    by_name: dict[str, list[ConfigDoc]] = {}
    for doc in docs:
        if doc.meta.get("_configmap") and doc.kind in ("pgbouncer", "postgresql"):
            by_name.setdefault(doc.meta["_configmap"][1], []).append(doc)
    rest = []
    for w in workloads:
        found: list[ConfigDoc] = []
        missing = False
        for name in sorted(w["configmaps"]):
            mounted = [d for d in by_name.get(name, ())
                       if None in (d.meta["_configmap"][0], w["namespace"]) or d.meta["_configmap"][0] == w["namespace"]]
            found += mounted
            missing = missing or not mounted
        for doc in w["runs"] + found:
            _tie(w, doc)
        if missing:
            rest.append(w)
    return rest


def link_workloads(docs: list[ConfigDoc], workloads: list[dict], autoscalers: list[dict] = (),
                   services: list[dict] = ()) -> None:
    """Across the files of one folder (a manifest per object: configmap.yaml, deployment.yaml,
    hpa.yaml): an autoscaler's replicas go to the workload it scales, and a workload is tied to the
    ConfigMaps it mounts; a ConfigMap or autoscaler of another folder is another deployment's."""
    in_folder: dict[str, list[dict]] = {}
    for w in workloads:
        in_folder.setdefault(w["folder"], []).append(w)
    for a in autoscalers:
        for w in in_folder.get(a["folder"], ()):
            _scale(w, a)
    by_folder: dict[str, list[ConfigDoc]] = {}
    for doc in docs:
        if doc.meta.get("_configmap"):
            by_folder.setdefault(os.path.dirname(os.path.realpath(doc.path)), []).append(doc)
    for folder, ws in in_folder.items():
        if folder in by_folder:
            tie_workloads([w for w in ws if w["configmaps"]], by_folder[folder])
    services_in: dict[str, list[dict]] = {}
    for svc in services:
        services_in.setdefault(svc["folder"], []).append(svc)
    for folder, ws in in_folder.items():
        name_services(ws, services_in.get(folder, ()))


def name_services(workloads: list[dict], services) -> None:
    """The Kubernetes Services that select a workload's pods (every key of the selector among the
    pod template's labels, in the same namespace when both say one) name the PgBouncer or
    PostgreSQL documents it runs (meta["services"]): a client whose host is the Service's name
    reaches them (advisor.path.discover)."""
    for svc in services:
        for w in workloads:
            if not svc["selector"] or not w["docs"]:
                continue
            if svc["namespace"] and w["namespace"] and svc["namespace"] != w["namespace"]:
                continue
            if all(w["labels"].get(k) == v for k, v in svc["selector"].items()):
                for doc in w["docs"]:
                    names = doc.meta.setdefault("services", [])
                    if svc["name"] not in names:
                        names.append(svc["name"])
                    if svc["namespace"] and not doc.meta.get("namespace"):
                        doc.meta["namespace"] = svc["namespace"]


# PgBouncers an operator runs: their pods are the operator's count (its own key), not a workload's
_OPERATOR_POOLERS = ("cloudnative-pg", "PostgresCluster", "PerconaPGCluster")


def _tie(w: dict, doc: ConfigDoc) -> None:
    ties = doc.meta.setdefault("_workloads", [])
    if any(t is w for t in ties):
        return
    ties.append(w)
    w["docs"].append(doc)
    if w["host"] is not None:
        own = doc.host
        host = HostFacts(w["host"].name if own is None else f"{own.name}, {w['host'].name}", w["host"].span,
                         dict(own.facts) if own is not None else {})
        host.facts.update(w["host"].facts)
        doc.host = host
        if w["sysctl_doc"] is not None:
            w["sysctl_doc"].meta["_pod_of"] = True  # its facts went where they apply (advisor.path.discover)
    _count(doc)


def _count(doc: ConfigDoc) -> None:
    """A PgBouncer's copies (meta["processes"]): the pods of the workloads that run it, added up,
    the fewest (`least`) too when an autoscaler scales one of them."""
    counted = [t for t in doc.meta.get("_workloads", ()) if t["replicas"] is not None]
    if doc.kind != "pgbouncer" or not counted:
        return
    if doc.meta.get("generated_by") in _OPERATOR_POOLERS:
        # the operator's own count (spec.proxy.pgBouncer.replicas), unless an autoscaler scales the
        # Deployment it makes: the autoscaler then sets the pods (and fights the operator over them)
        counted = [t for t in counted if t.get("operator") and t.get("autoscaler")]
        if not counted:
            return
    if doc.meta.get("processes", {}).get("declared"):
        return  # pgpath.yaml's replicas: on the hop win
    units = "containers" if all(t.get("units") == "containers" for t in counted) else "pods"
    where = f" in the {units} of " + " and ".join(
        f"{t['kind']} {t['name']}" + (f", which {t['operator']} with replicas: {t['operator_replicas']} (the "
                                      "operator and the autoscaler both set its pods)"
                                      if t.get("operator") else "") for t in counted)

    def total(part: str | None) -> dict:
        reps = [t["replicas"].get(part, t["replicas"]) if part else t["replicas"] for t in counted]
        counts = [r["count"] for r in reps]
        return {"count": None if None in counts else sum(counts),
                "variable": reps[0].get("variable", "replicas") if len(reps) == 1 else "replicas",
                "raw": " + ".join(r["raw"] for r in reps), "what": units, "where": where, "span": reps[0]["span"]}

    doc.meta["processes"] = total(None)
    if any("least" in t["replicas"] for t in counted):
        doc.meta["processes"]["least"] = total("least")


def _read_autoscaler(f: _File, root: N) -> None:
    """A HorizontalPodAutoscaler (autoscaling/v1 or v2): the workload it scales
    (`spec.scaleTargetRef` kind and name) runs between `minReplicas` (1 when not written) and
    `maxReplicas` pods, whatever its own `replicas` says (then only where it starts). A template
    value is unknown."""
    spec = root.get("spec")
    target = spec.get("scaleTargetRef") if spec is not None else None
    if target is None or target.kind != "map" or not target.text("name"):
        return

    def bound(key: str, default: int | None) -> tuple[int | None, str, dict]:
        node = spec.get(key)
        if node is None or node.kind == "scalar" and node.tag == "null":
            return default, f"not set ({default})" if default is not None else "not set", \
                (root.get("kind") or root).span(f.path).to_dict()
        text = node.value.strip() if node.kind == "scalar" else ""
        shown = node.value if node.kind == "scalar" else f.lines[node.line - 1][node.col - 1:].strip()
        return digits(text), shown, \
            (node.value_span(f.path) if node.kind == "scalar" else node.span(f.path)).to_dict()

    f.autoscalers.append({"name": _name(root, "autoscaler"), "namespace": _namespace(root),
                          "folder": os.path.dirname(os.path.realpath(f.path)),
                          "target": (target.text("kind"), target.text("name")),
                          "min": bound("minReplicas", 1), "max": bound("maxReplicas", None)})


def _scale(w: dict, autoscaler: dict) -> bool:
    """Give the workload an autoscaler's replicas when it is the autoscaler's target (same kind and
    name; same namespace, or one of them not written); whether it did."""
    if autoscaler["target"] != (w["kind"], w["name"]) or w.get("autoscaler") is autoscaler:
        return False
    if None not in (w["namespace"], autoscaler["namespace"]) and w["namespace"] != autoscaler["namespace"]:
        return False
    w["autoscaler"] = autoscaler
    if w.get("operator"):
        w["operator_replicas"] = w["replicas"]["raw"]
    by = f" of HorizontalPodAutoscaler {autoscaler['name']}"
    (least, least_raw, least_span), (most, most_raw, most_span) = autoscaler["min"], autoscaler["max"]
    w["replicas"] = {"count": most, "raw": most_raw + by, "variable": "maxReplicas", "span": most_span,
                     "least": {"count": least, "raw": least_raw + by, "variable": "minReplicas", "span": least_span}}
    for doc in w["docs"]:
        _count(doc)
    return True


def _misplaced_sysctls(f: _File, name: str, node: N, context: N) -> None:
    """`sysctls` under a container's securityContext: Kubernetes has no such field there (only the
    pod's securityContext has one), so they are no host facts; SYS006 reports them."""
    doc = _sysctls_doc(f, name, node, applied=False)
    key = next((kn for k, kn, _ in context.items() if k == "sysctls"), node)
    written = ", ".join(f"{s.name} = {s.raw}" for s in doc.settings) or "none of them"
    # other keys of that securityContext that are no SecurityContext field either: strict validation
    # refuses the manifest for them too, so the fix names them
    others = [(k, v) for k, _, v in context.items() if k != "sysctls" and k not in CONTAINER_SECURITY_CONTEXT]
    also = ""
    if others:
        def nested(k: str, v: N) -> str:  # `seccompProfile.type: X` meant `seccompProfile: {type: X}`
            head, _, rest = k.partition(".")
            if not rest or head not in CONTAINER_SECURITY_CONTEXT:
                return ""
            return f" (write {head}: {{{rest}: {v.value if v.kind == 'scalar' else '...'}}})"

        also = "; and in the same securityContext " + "; ".join(f"{k} is no field either{nested(k, v)}"
                                                                for k, v in others)
    doc.diagnostics.append(Diagnostic(
        "sysctl-not-applied", key.span(f.path),
        f"sysctls under the securityContext of container {name}, where Kubernetes has no such field (only the "
        "pod's securityContext has one): kubectl apply (its --validate defaults to strict) refuses the "
        "manifest (unknown field), and a client that does not ask for strict validation has the API server drop "
        "the field, so "
        f"{written} {'is' if len(doc.settings) == 1 else 'are'} never set: the kernel keeps its default",
        "move the sysctls list to the pod: spec.securityContext.sysctls (spec.template.spec.securityContext in "
        f"a Deployment or StatefulSet){_unsafe_before(doc)}{also}"))


# sysctls Kubernetes counts safe only from a release on (kubernetes.io, Linux kernel version
# requirements: "supported in the safe set"); before it the kubelet rejects a pod that sets one
# (SysctlForbidden) unless --allowed-unsafe-sysctls names it
_SAFE_SINCE = {"net.ipv4.tcp_keepalive_time": "1.29", "net.ipv4.tcp_keepalive_intvl": "1.29",
               "net.ipv4.tcp_keepalive_probes": "1.29", "net.ipv4.tcp_fin_timeout": "1.29",
               "net.ipv4.ip_local_reserved_ports": "1.27", "net.ipv4.tcp_rmem": "1.32", "net.ipv4.tcp_wmem": "1.32"}


def _unsafe_before(doc: ConfigDoc) -> str:
    """What a pod-level sysctl Kubernetes counts safe only from a release on still needs before it."""
    late = sorted({(s.name, _SAFE_SINCE[s.name]) for s in doc.settings if s.name in _SAFE_SINCE}, key=lambda x: x[0])
    if not late:
        return ""
    names = ", ".join(n for n, _ in late)
    since = max(v for _, v in late)
    return (f" ({names} {'is a safe sysctl' if len(late) == 1 else 'are safe sysctls'} from Kubernetes {since} on; "
            "on an older cluster the kubelet rejects the pod (SysctlForbidden) unless its node allows "
            f"{'it' if len(late) == 1 else 'them'} with --allowed-unsafe-sysctls)")


def _sysctls_doc(f: _File, name: str, node: N, source: str = "securityContext.sysctls",
                 refused: str = "the pod cannot start (the kubelet rejects the sysctl)",
                 applied: bool = True) -> ConfigDoc:
    """Kubernetes `securityContext.sysctls` (`- name: k, value: v`) or compose `sysctls:` (map or
    list), Ansible `sysctl_conf` lists: a `sysctl` document whose model is the host's facts.
    `refused`: what happens when the kernel refuses a value. A list the platform never applies
    (`applied=False`) only lists its settings: no host facts, and no value reaches the kernel."""
    from advisor.loaders.sysctl_conf import parse_fact

    doc = ConfigDoc(path=f.path, kind="sysctl", files=[f.path], template=f.template)
    host = HostFacts(name, node.span(f.path))
    pairs = []
    if node.kind == "seq":
        for item in node.seq():
            if item.kind == "map" and item.get("name") is not None and item.get("value") is not None:
                pairs.append((item.text("name"), item.get("value"), item.get("name")))
            elif item.kind == "scalar" and "=" in item.value:
                k, v = item.value.split("=", 1)
                pairs.append((k.strip(), N("scalar", v.strip(), "str", None, item.line, item.col, item.end_line,
                                            item.end_col), item))
    elif node.kind == "map":
        for k, kn, v in node.items():
            pairs.append((k, v, kn))
    for key, value, key_node in pairs:
        if not key or value is None or value.kind != "scalar":
            continue
        text = value.value
        vspan = value.value_span(f.path)
        setting = Setting(key, text, text, Span(f.path, key_node.line, key_node.col, value.end_line, value.end_col),
                          vspan)
        doc.settings.append(setting)
        parsed = parse_fact(key, text)
        if parsed is None:
            continue
        fact, unit, number, why = parsed
        if f.is_unknown(text):
            setting.value = Unknown(text)
            host.facts[fact] = Value(Unknown(text), text, vspan, key=key, unit=unit)
            continue
        if why:
            if applied:
                doc.diagnostics.append(Diagnostic("sysctl-invalid-value", vspan, f"{key} = {shorten(text)}: {why}; {refused}",
                                                  f"{key}: \"<integer>\""))
            setting.value = None
            continue
        setting.value = number
        host.facts[fact] = Value(number, text, vspan, key=key, unit=unit)
    doc.model = host if applied else None
    doc.meta["source"] = source
    f.docs.append(doc)
    return doc


def _read_nad(f: _File, root: N) -> None:
    """Multus NetworkAttachmentDefinition: the CNI `tuning` plugin's `sysctl` map inside spec.config (JSON text)."""
    config = root.get("spec", "config")
    if config is None or config.kind != "scalar":
        return
    try:
        data = json_loads(config.value)
    except ValueError:
        return
    plugins = data.get("plugins", [data]) if isinstance(data, dict) else []
    found = {}
    for plugin in plugins if isinstance(plugins, list) else []:
        if isinstance(plugin, dict) and plugin.get("type") == "tuning" and isinstance(plugin.get("sysctl"), dict):
            found.update({str(k): str(v) for k, v in plugin["sysctl"].items()})
    if not found:
        return
    items = []
    for key, value in found.items():
        line = next((i + 1 for i in range(config.line - 1, min(len(f.lines), config.end_line)) if key in f.lines[i]),
                    config.line)
        col = f.lines[line - 1].find(key) + 1 if key in f.lines[line - 1] else config.col
        vcol = f.lines[line - 1].find(value, col + len(key)) + 1 if value in f.lines[line - 1] else col
        items.append((key, N("scalar", key, "str", None, line, col, line, col + len(key)),
                      N("scalar", value, "str", None, line, vcol, line, vcol + len(value))))
    node = N("map", items, "map", None, config.line, config.col, config.end_line, config.end_col)
    _sysctls_doc(f, _name(root, "network"), node)


# ------------------------------------------------------------------------------------------------
# Services of type LoadBalancer


def _service_middlebox(f: _File, name: str, service: N | None, anchor: N, target: str,
                       annotations: N | None = None, default_port: str | None = None,
                       exposure: dict | None = None) -> None:
    """`exposure`: where the Service's source ranges and annotations are written when it is an
    operator's (`ranges`: the node, `ranges_field`, `annotations_field`, `operator_ranges`: what
    the operator sets without them, `more_annotations`: nodes merged over `annotations`)."""
    from advisor.model.middlebox import Middlebox, MiddleboxFile

    if annotations is None and service is not None:
        annotations = service.get("metadata", "annotations")
    notes = {k: (v.value, v) for k, _, v in annotations.items() if v.kind == "scalar"} if annotations is not None else {}
    for more in (exposure or {}).get("more_annotations", ()):
        if more is not None:
            notes.update({k: (v.value, v) for k, _, v in more.items() if v.kind == "scalar"})
    cloud = f.options.get("cloud")
    kind, idle, facts = _lb_kind(f, notes, cloud)
    on_expiry = None
    if kind == "azure-lb":
        # cloud-provider-azure (azure_loadbalancer.go) enables TCP reset on the rules of a Standard
        # load balancer, the only SKU since Basic's retirement, unless an annotation turns it off
        reset = notes.get(_AZURE_NO_RESET, ("", None))[0].lower() != "true"
        on_expiry = "rst" if reset else "drop"
        facts["enable_tcp_reset"] = Value(reset, None, None, origin="default" if _AZURE_NO_RESET not in notes else "set")
    ports = []
    spec = service.get("spec") if service is not None and service.get("spec") is not None else service
    facts.update(_exposure(f, spec, notes, exposure or {}))
    for p in (spec.get("ports").seq() if spec is not None and spec.get("ports") is not None else []):
        if p.text("port"):
            ports.append(p.text("port"))
    if not ports and default_port:
        ports.append(default_port)
    listens = [f"{name}:{p}" for p in ports] or [name]
    # the exact addresses clients reach it at (path discovery): its load balancer's IP as the
    # Service asks for it, the DNS names external-dns gives it, its status as applied
    for address in _service_addresses(f, spec, notes, service):
        listens.extend(f"{address}:{p}" for p in ports)
    box = Middlebox(kind, name, anchor.span(f.path), idle, on_expiry=on_expiry, facts=facts,
                    listens=listens, targets=[target])
    doc = ConfigDoc(path=f.path, kind="kubernetes", files=[f.path], template=f.template,
                    model=MiddleboxFile("kubernetes", [box]))
    doc.meta["source"] = "Service type LoadBalancer"
    if kind == "cloud-lb":
        doc.meta["cloud_unknown"] = True
    f.docs.append(doc)


_SERVICE_ADDRESSES = ("service.beta.kubernetes.io/azure-load-balancer-ipv4",
                      "service.beta.kubernetes.io/azure-load-balancer-ipv6",
                      "external-dns.alpha.kubernetes.io/hostname", "external-dns.alpha.kubernetes.io/internal-hostname")


def _service_addresses(f: _File, spec: N | None, notes: dict, service: N | None) -> list[str]:
    """The addresses a Service of type LoadBalancer is reached at, as written: spec.loadBalancerIP,
    the Azure IP annotations, external-dns hostnames (comma-separated), status.loadBalancer.ingress."""
    found: list[str] = []
    if spec is not None and spec.text("loadBalancerIP"):
        found.append(str(spec.text("loadBalancerIP")))
    for key in _SERVICE_ADDRESSES:
        found.extend(part for part in str(notes.get(key, ("", None))[0] or "").split(","))
    status = service.get("status", "loadBalancer", "ingress") if service is not None else None
    for item in status.seq() if status is not None and status.kind == "seq" else ():
        if item.kind == "map":
            found.extend(str(item.text(k)) for k in ("ip", "hostname") if item.text(k))
    return [a.strip().rstrip(".") for a in found if a.strip() and not f.is_unknown(a.strip())]


# Whether a Service of type LoadBalancer is reachable from the internet (CLD005). Each cloud's
# controller gives it a public address unless an annotation or class asks for an internal one:
# - AWS in-tree provider: service.beta.kubernetes.io/aws-load-balancer-internal, any value but
#   "false" (kubernetes/website#15771); AWS Load Balancer Controller (type external / nlb-ip, class
#   service.k8s.aws/nlb) and EKS Auto Mode (class eks.amazonaws.com/nlb): aws-load-balancer-scheme,
#   default internal (LBC docs, "Secure by default" since v2.2.0);
# - AKS: service.beta.kubernetes.io/azure-load-balancer-internal: "true" (AKS internal-lb);
# - GKE: networking.gke.io/load-balancer-type: "Internal" (cloud.google.com/load-balancer-type
#   before it), or class networking.gke.io/l4-regional-internal (GKE LoadBalancer parameters);
# - OCI, OpenStack, Alibaba Cloud: their own internal annotations, honoured so as not to report them.
# Its sources: spec.loadBalancerSourceRanges, else the service.beta.kubernetes.io/load-balancer-
# source-ranges annotation (the Kubernetes Service API); AKS also restricts by azure-allowed-ip-ranges
# and azure-allowed-service-tags.
_AWS_SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
_AWS_INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"
_AZURE_INTERNAL = "service.beta.kubernetes.io/azure-load-balancer-internal"
_GCP_TYPES = ("networking.gke.io/load-balancer-type", "cloud.google.com/load-balancer-type")
_OTHER_INTERNAL = {"service.beta.kubernetes.io/oci-load-balancer-internal": "true",
                   "oci-network-load-balancer.oraclecloud.com/internal": "true",
                   "service.beta.kubernetes.io/openstack-internal-load-balancer": "true",
                   "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet"}
_AWS_CONTROLLER_CLASSES = ("service.k8s.aws/nlb", "eks.amazonaws.com/nlb")
_GCP_INTERNAL_CLASS = "networking.gke.io/l4-regional-internal"
_SOURCE_RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges"
_AZURE_ALLOWED = ("service.beta.kubernetes.io/azure-allowed-ip-ranges",
                  "service.beta.kubernetes.io/azure-allowed-service-tags")


def _exposure(f: _File, spec: N | None, notes: dict, where: dict) -> dict[str, Value]:
    """Facts of who can reach a Service of type LoadBalancer: `lb_scheme` ("internal" or
    "internet-facing": as an annotation or class decides, origin set; the clouds' default,
    internet-facing, origin default; Unknown for a class or a value pgpath cannot know),
    `source_ranges` (the CIDRs it admits, as written or as the operator sets them; absent: every
    source), and the fields a fix writes (`ranges_field`, `annotations_field`)."""
    facts: dict[str, Value] = {
        "ranges_field": Value(where.get("ranges_field", "spec.loadBalancerSourceRanges"), origin="default"),
        "annotations_field": Value(where.get("annotations_field", "metadata.annotations"), origin="default")}

    def note(key):
        value, node = notes[key]
        return str(value or ""), node.value_span(f.path)

    found: list[Value] = []  # what the class and each annotation say
    lb_class = spec.get("loadBalancerClass") if spec is not None else None
    if lb_class is not None and lb_class.kind == "scalar" and lb_class.value and lb_class.tag != "null":
        text, span = str(lb_class.value), lb_class.value_span(f.path)
        if text == _GCP_INTERNAL_CLASS:
            found.append(Value("internal", text, span, key="spec.loadBalancerClass"))
        elif text in _AWS_CONTROLLER_CLASSES and _AWS_SCHEME not in notes:
            found.append(Value("internal", text, span, key="spec.loadBalancerClass",
                               hint="the default scheme of the AWS Load Balancer Controller and EKS Auto Mode"))
        elif text not in _AWS_CONTROLLER_CLASSES:  # a template's value, or an implementation pgpath does not know
            found.append(Value(Unknown(text), text, span, key="spec.loadBalancerClass"))
    for key in notes:
        text, span = note(key)
        low = text.strip().lower()
        decides = key in (_AWS_SCHEME, _AWS_INTERNAL, _AZURE_INTERNAL) + _GCP_TYPES or key in _OTHER_INTERNAL
        if decides and f.is_unknown(text):
            found.append(Value(Unknown(text), text, span, key=key))
        elif key == _AWS_SCHEME and low in ("internal", "internet-facing"):
            found.append(Value(low, text, span, key=key))
        elif key == _AWS_INTERNAL and low != "false":
            found.append(Value("internal", text, span, key=key))  # the in-tree provider: any value but "false"
        elif key == _AZURE_INTERNAL and low == "true" or key in _GCP_TYPES and low == "internal" \
                or _OTHER_INTERNAL.get(key) == low:
            found.append(Value("internal", text, span, key=key))
        elif key == _AWS_TYPE and low in ("external", "nlb-ip") and _AWS_SCHEME not in notes:
            found.append(Value("internal", text, span, key=key,
                               hint="the default scheme of the AWS Load Balancer Controller"))
    # any internal marker makes it internal; else a value pgpath cannot know; else what is written
    scheme = (next((v for v in found if v.value == "internal"), None)
              or next((v for v in found if not v.known), None) or next(iter(found), None))
    facts["lb_scheme"] = scheme or Value("internet-facing", origin="default")
    ranges = where.get("ranges") if "ranges" in where else (
        spec.get("loadBalancerSourceRanges") if spec is not None else None)
    field = where.get("ranges_field", "spec.loadBalancerSourceRanges")
    if ranges is not None and ranges.kind == "seq" and ranges.seq():
        items = [str(n.value) for n in ranges.seq() if n.kind == "scalar"]
        value = Unknown(" ".join(items)) if any(f.is_unknown(i) for i in items) or len(items) < len(ranges.seq()) \
            else tuple(i.strip() for i in items)
        facts["source_ranges"] = Value(value, ", ".join(items), ranges.span(f.path), key=field)
    elif ranges is not None and ranges.kind == "scalar" and ranges.value and ranges.tag != "null":
        facts["source_ranges"] = Value(Unknown(str(ranges.value)), str(ranges.value), ranges.value_span(f.path),
                                       key=field)  # a template's value, or a string the API refuses
    elif where.get("operator_ranges"):
        operator, said = where["operator_ranges"]
        facts["source_ranges"] = Value(operator, ", ".join(operator), None, origin="default", key=field, hint=said)
    elif _SOURCE_RANGES in notes or any(k in notes for k in _AZURE_ALLOWED):
        key = _SOURCE_RANGES if _SOURCE_RANGES in notes else next(k for k in _AZURE_ALLOWED if k in notes)
        text, span = note(key)
        parts = [p.strip() for p in text.split(",") if p.strip()]
        value = Unknown(text) if f.is_unknown(text) or not parts or key != _SOURCE_RANGES else tuple(parts)
        facts["source_ranges"] = Value(value, text, span, key=key)
    return facts


_AWS_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
_AWS_NLB_TARGET = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"
_AWS_CLB_IDLE = "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout"
_AWS_ATTRIBUTES = "service.beta.kubernetes.io/aws-load-balancer-attributes"
_AZURE_IDLE = "service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout"
_AZURE_PREFIX = "service.beta.kubernetes.io/azure-"
_AZURE_NO_RESET = "service.beta.kubernetes.io/azure-load-balancer-disable-tcp-reset"
_GCP_PREFIXES = ("cloud.google.com/", "networking.gke.io/")


def _idle(text: str, span: Span, key: str, unit: str, seconds: int, low: int, high: int) -> Value:
    """An idle-timeout annotation: whole `unit`s from `low` to `high` (what the cloud's API takes;
    the controller refuses another value, so the load balancer's timer is not known), in seconds."""
    n = digits(text.strip())
    return Value(n * seconds if n is not None and low <= n <= high else Unknown(text), text, span, key=key, unit=unit)


def _lb_kind(f: _File, notes: dict, cloud: str | None):
    """(middlebox kind, idle Value or None for the kind's default, facts) from the annotations."""
    def val(key):
        value, node = notes[key]
        return value, node.value_span(f.path)

    facts: dict[str, Value] = {}
    if _AWS_TYPE in notes or _AWS_NLB_TARGET in notes or any(k.startswith("service.beta.kubernetes.io/aws-")
                                                             for k in notes):
        lb_type = notes.get(_AWS_TYPE, ("", None))[0].lower()
        if lb_type in ("nlb", "external", "nlb-ip") or _AWS_NLB_TARGET in notes:
            idle = None
            if _AWS_ATTRIBUTES in notes:
                text, span = val(_AWS_ATTRIBUTES)
                m = re.search(r"tcp\.idle_timeout\.seconds=([0-9]+)", text)
                if m:
                    idle = _idle(m.group(1), span, "tcp.idle_timeout.seconds", "s", 1, 60, 6000)
            return "aws-nlb", idle, facts
        idle = None
        if _AWS_CLB_IDLE in notes:
            text, span = val(_AWS_CLB_IDLE)
            idle = _idle(text, span, _AWS_CLB_IDLE, "s", 1, 1, 4000)
        return "aws-elb", idle, facts
    if any(k.startswith(_AZURE_PREFIX) for k in notes):
        idle = None
        if _AZURE_IDLE in notes:
            text, span = val(_AZURE_IDLE)
            idle = _idle(text, span, _AZURE_IDLE, "min", 60, 4, 100)
        return "azure-lb", idle, facts
    if any(k.startswith(_GCP_PREFIXES) for k in notes) or cloud == "gcp":
        return "gcp-lb", None, facts
    if cloud == "aws":
        return "aws-elb", None, facts  # the in-tree controller's default for type LoadBalancer: a Classic ELB
    if cloud == "azure":
        return "azure-lb", None, facts
    return "cloud-lb", None, facts  # the cloud's load balancer, whichever it is (PATH001 says what each does)


def _read_service(f: _File, root: N) -> None:
    spec = root.get("spec")
    selector = spec.get("selector") if spec is not None else None
    if selector is not None and selector.kind == "map" and _name(root, None) and not f.is_unknown(_name(root, "")):
        # who it sends to: the pods whose labels it selects (name_services), so that a client naming
        # the Service reaches the PgBouncer or PostgreSQL they run (path discovery)
        f.services.append({"name": _name(root, None), "namespace": _namespace(root),
                           "selector": {k: v.value for k, _, v in selector.items() if v.kind == "scalar"},
                           "folder": os.path.dirname(os.path.realpath(f.path))})
    if spec is None or spec.text("type") != "LoadBalancer":
        return
    name = _name(root, "service")
    selector = " ".join(f"{k}={v.value}" for k, _, v in (spec.get("selector").items() if spec.get("selector") else [])
                        if v.kind == "scalar")
    ports = [p.text("targetPort") or p.text("port") for p in (spec.get("ports").seq() if spec.get("ports") else [])]
    looks = re.search(r"postgres|pgbouncer|pooler|patroni|cnpg|spilo|5432|6432", f"{name} {selector} {' '.join(map(str, ports))}",
                      re.I)
    if not looks:
        return
    target = "pgbouncer" if re.search(r"pgbouncer|pooler|6432", f"{name} {selector}", re.I) else "postgresql"
    _service_middlebox(f, name, root, root.get("spec", "type"), target)


# ------------------------------------------------------------------------------------------------
# the loader


def load(path: str, options: dict | None = None):
    options = options or {}
    text = read_text(path)
    f = _File(path, text, options)
    try:
        try:
            roots = compose(text)
        except YamlError:
            if not ("{{" in text or "{%" in text or "<%" in text):
                raise
            roots = compose(_mask_lines(text))  # template tags made harmless line by line
            _unmask(f, roots)
    except YamlError as exc:
        if f.template:
            return _client_docs(path, options, f)  # a template YAML reads only after rendering
        doc = ConfigDoc(path=path, kind="kubernetes", files=[path])
        doc.diagnostics.append(Diagnostic("syntax-error", Span(path, exc.line, exc.col), exc.message))
        return [doc] + _client_docs(path, options, f)
    except TooLarge as exc:
        doc = ConfigDoc(path=path, kind="kubernetes", files=[path])
        doc.diagnostics.append(Diagnostic("syntax-error", Span(path, 1, 1),
                                          f"YAML expands to {exc} (aliases nested in aliases?): not read"))
        return [doc]
    for root in roots:
        if root is None or root.kind != "map":
            continue
        read_document(f, root)
    for a in f.autoscalers:
        for w in f.workloads:
            _scale(w, a)
    if f.workloads:
        tie_workloads(f.workloads, f.docs)
        name_services(f.workloads, f.services)
    if isinstance(options.get("services"), list):
        options["services"].extend(f.services)
    clients = _client_docs(path, options, f)
    _replaced_by_override(f, clients)
    _client_hosts(f, clients)
    if isinstance(options.get("compose_builds"), list):
        # compose services built from a folder: the application it holds runs in their containers
        options["compose_builds"].extend(w for w in f.workloads if w["kind"] == "compose service" and w.get("build"))
    if isinstance(options.get("workloads"), list):
        # a ConfigMap or autoscaler of another file of the folder: the run links them (link_documents);
        # an autoscaler of another file scales a client's workload too (its replicas: _client_hosts)
        options["workloads"].extend(w for w in f.workloads if w["kind"] != "compose service" and (
            w["configmaps"] or w["replicas"] is not None and (w["docs"] or w.get("clients"))))
        if isinstance(options.get("autoscalers"), list):
            options["autoscalers"].extend(f.autoscalers)
    if f.compose_notices:
        holder = next((d for d in f.docs if d.kind in ("postgresql", "pgbouncer")), None)
        if holder is None:
            holder = ConfigDoc(path=path, kind="kubernetes", files=[path])
            f.docs.append(holder)
        holder.meta.setdefault("unresolved_includes", []).extend(f.compose_notices)
    if f.diagnostics:
        holder = next((d for d in f.docs if d.kind in ("postgresql", "pgbouncer")), None)
        if holder is None:
            holder = ConfigDoc(path=path, kind="kubernetes", files=[path])
            f.docs.append(holder)
        holder.diagnostics.extend(f.diagnostics)
    if f.development:
        for doc in f.docs + clients:
            doc.meta.setdefault("development", f.development)
    if f.compose_services:
        for doc in f.docs + clients:
            doc.meta["compose_services"] = sorted(f.compose_services)
    return f.docs + clients


_URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://([^:/@\s]+):([^@/\s]+)@", re.I)


def _development_credential(f: _File, service: str, envs: dict) -> str | None:
    """Why a container's environment shows a development setup: a password written in the file
    that is its user name or a well-known default (advisor.model.is_development_password), as
    POSTGRES_PASSWORD (its user POSTGRES_USER, default postgres), another *_PASSWORD or *_PASS
    beside its *_USER, or a connection URL's user:password. Never the password itself."""
    from urllib.parse import unquote

    from advisor.model import is_development_password

    for key, (value, _) in envs.items():
        if f.is_unknown(value):
            continue
        upper = key.upper()
        if upper.endswith(("PASSWORD", "_PASS")):
            user_key = upper.replace("PASSWORD", "USER") if upper.endswith("PASSWORD") else upper[:-4] + "USER"
            user = next((v for k, (v, _) in envs.items() if k.upper() == user_key), None)
            if user is None and upper == "POSTGRES_PASSWORD":
                user = "postgres"  # the image's default superuser
            if is_development_password(value, user):
                return f"a development password written in it ({service}'s {key})"
            continue
        match = _URL_CREDENTIALS.match(value.strip())
        if match and is_development_password(unquote(match.group(2)), unquote(match.group(1))):
            return f"a development password written in it ({service}'s {key})"
    return None


def _replaced_by_override(f: _File, clients: list[ConfigDoc]) -> None:
    """Mark the connection strings of a compose base file that the folder's override file sets
    again for the same service (meta["_replaced_by_override"]: the override's path and the
    endpoints): `docker compose up` merges `environment` by variable name, so the override's value
    is the one that runs (its own load reads it), and the base file's is no second client of that
    service when the override is in the run (drop_replaced_clients; PATH005 would count both)."""
    override = f.compose_override
    if not override or not clients:
        return
    replaced = {(name, key) for name, service in override["services"].items() if service.kind == "map"
                for key in _env_names(service.get("environment"))}
    for doc in clients:
        gone = [ep for ep in doc.model.endpoints if (ep.service, ep.name) in replaced]
        if gone:
            doc.meta["_replaced_by_override"] = (override["path"], gone)


def drop_replaced_clients(docs: list[ConfigDoc]) -> list[ConfigDoc]:
    """Without the base file's client endpoints an override file in the run sets again
    (_replaced_by_override), their settings and diagnostics at those lines; a client document left
    with no endpoint goes too."""
    loaded = {os.path.realpath(d.path) for d in docs}
    out = []
    for doc in docs:
        replaced = doc.meta.get("_replaced_by_override")
        if replaced is not None and os.path.realpath(replaced[0]) in loaded:
            gone = replaced[1]
            lines = {(ep.span.file, ep.span.line) for ep in gone}
            doc.model.endpoints = [ep for ep in doc.model.endpoints if not any(ep is g for g in gone)]
            doc.settings = [st for st in doc.settings if (st.span.file, st.span.line) not in lines]
            doc.diagnostics = [d for d in doc.diagnostics if (d.span.file, d.span.line) not in lines]
            if not doc.model.endpoints:
                continue
        out.append(doc)
    return out


def _env_names(node: N | None) -> set[str]:
    """The variables a compose service's `environment` names, whatever their values (`KEY:` and
    `- KEY` alone take the shell's; `!reset` removes the base file's)."""
    if node is None:
        return set()
    if node.kind == "map":
        return {key for key, _, _ in node.items()}
    if node.kind == "seq":
        return {item.value.partition("=")[0].strip() for item in node.seq() if item.kind == "scalar" and item.value}
    return set()


def _client_hosts(f: _File, clients: list[ConfigDoc]) -> None:
    """A client whose connection string is in the environment of a workload's container runs in
    its pods: their `net.` sysctls are its host's (meta["_endpoint_hosts"]: id of the endpoint ->
    HostFacts, which the path gives the client's hop), and no other pod's; and it runs once in
    each of them (meta["_endpoint_workloads"]: id of the endpoint -> the workload, whose
    `replicas` an autoscaler of the file or of its folder may still set to its maxReplicas, the
    most pods, so the most connections, the clients open: the path reads it when it is assembled,
    advisor.path.model.client_hop)."""
    for doc in clients if f.workloads else ():
        for ep in getattr(doc.model, "endpoints", ()) or ():
            w = next((w for w in f.workloads if ep.span is not None and ep.span.file == f.path
                      and w["lines"][0] <= (ep.span.line or 0) <= w["lines"][1]), None)
            if w is None:
                continue
            if w["replicas"] is not None:
                doc.meta.setdefault("_endpoint_workloads", {})[id(ep)] = w
                w["clients"] = True
            if w["host"] is not None:
                doc.meta.setdefault("_endpoint_hosts", {})[id(ep)] = w["host"]
                if w["sysctl_doc"] is not None:
                    w["sysctl_doc"].meta["_pod_of"] = True


_STATEMENT = re.compile(r"^(\{\{-?\s*(if|else|end|range|with|define|block|template|include|/\*)\b|\{%|\{#|<%[^=])")
PLACEHOLDER = "\ue000"  # stands in for each character of a template expression (valid in any YAML scalar)


def _mask_lines(text: str) -> str:
    """Template tags made harmless one line at a time (a tag never swallows the `#` of the next
    line): an expression becomes private characters of the same width (an unknown value, valid in
    flow collections too), a statement becomes blanks."""
    if "{" not in text and "<%" not in text:
        return text
    from advisor.tags import Pair, scan

    # the tags `\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<%.*?%>` finds on each line, in one pass (that regex
    # restarted at every `{{` of a line with no `}}`: 20,000 of them took 15 s)
    out, pos = [], 0
    for start, end, _, _ in scan(text, (Pair("{{", "}}"), Pair("{%", "%}"), Pair("{#", "#}"), Pair("<%", "%>"))):
        tag = text[start:end]
        out += [text[pos:start], " " * len(tag) if _STATEMENT.match(tag) else PLACEHOLDER * len(tag)]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _unmask(f: _File, roots: list) -> None:
    """Scalars that held a masked expression get their text back as written (an unknown value)."""
    for root in roots:
        if root is None:
            continue
        for _, node in walk(root):
            if node.kind == "scalar" and PLACEHOLDER in node.value and node.line == node.end_line:
                line = f.lines[node.line - 1]
                start, end = node.col - 1, node.end_col - 1
                if node.style in ("'", '"'):
                    start, end = start + 1, end - 1
                node.value = line[start:end]


# the Kubernetes Services an operator creates for a cluster or pooler, by the document it reads
# (kind, document kind) -> name patterns; a client naming one reaches it (path discovery):
# CloudNativePG (<cluster>-rw/-ro/-r; a Pooler's Service has the Pooler's name), Crunchy and
# Percona PGO (naming.ClusterPrimaryService, ClusterPGBouncer...), Zalando (the cluster's name for
# the primary, <name>-repl for the replicas)
_OPERATOR_SERVICES = {
    ("Cluster", "postgresql"): ("{}-rw", "{}-ro", "{}-r"),
    ("Pooler", "pgbouncer"): ("{}",),
    ("PostgresCluster", "postgresql"): ("{}-primary", "{}-ha", "{}-replicas"),
    ("PerconaPGCluster", "postgresql"): ("{}-primary", "{}-ha", "{}-replicas"),
    ("PostgresCluster", "pgbouncer"): ("{}-pgbouncer",),
    ("PerconaPGCluster", "pgbouncer"): ("{}-pgbouncer",),
    ("postgresql", "postgresql"): ("{}", "{}-repl"),
}


def read_document(f: _File, root: N) -> None:
    before = len(f.docs)
    _read_document(f, root)
    kind = root.text("kind") or ""
    name = _name(root, None)
    meta = root.get("metadata")
    namespace = meta.text("namespace") if meta is not None else None
    for doc in f.docs[before:]:
        patterns = _OPERATOR_SERVICES.get((kind, doc.kind))
        if patterns and name and not f.is_unknown(name):
            doc.meta["services"] = [p.format(name) for p in patterns]
            if kind == "postgresql":
                doc.meta["services_qualified"] = [name.lower()]  # a bare cluster name alone is no evidence
            if namespace and not f.is_unknown(namespace):
                doc.meta["namespace"] = namespace


def _read_document(f: _File, root: N) -> None:
    kind = root.text("kind") or ""
    api = root.text("apiVersion") or ""
    if kind == "Cluster" and "cnpg.io" in api:
        _read_cnpg_cluster(f, root)
    elif kind == "Pooler" and "cnpg.io" in api:
        _read_cnpg_pooler(f, root)
    elif kind == "postgresql" and "zalan.do" in api:
        _read_zalando(f, root)
    elif kind in ("PerconaPGCluster", "PostgresCluster"):
        _read_pgo(f, root)
    elif kind == "ConfigMap":
        _read_configmap(f, root)
    elif kind == "Service":
        _read_service(f, root)
    elif kind in _WORKLOADS:
        _read_workload(f, root)
    elif kind == "HorizontalPodAutoscaler":
        _read_autoscaler(f, root)
    elif kind == "NetworkAttachmentDefinition":
        _read_nad(f, root)
    elif not kind and root.get("services") is not None:
        _read_compose(f, root)
    elif not kind:
        if not _read_patroni(f, root) and not _read_ansible(f, root):
            _read_helm_values(f, root)


def _client_docs(path: str, options: dict, f: _File) -> list[ConfigDoc]:
    """The client loader's document when the file also holds application connection settings."""
    from advisor.loaders.client_detect import detect
    from advisor.loaders.template import strip_template_suffix

    name = strip_template_suffix(os.path.basename(path)).lower()
    if detect(name, f.text) != "client":
        return []
    from advisor.loaders import client

    doc = client.load(path, options)
    if f.pgbouncer_env_urls and doc.model is not None:
        # a PgBouncer image's DATABASE_URL is where PgBouncer connects, not an application's string
        lines = {(s.line, s.file) for s in f.pgbouncer_env_urls}
        doc.model.endpoints = [e for e in doc.model.endpoints if (e.span.line, e.span.file) not in lines]
        doc.settings = [s for s in doc.settings if (s.span.line, s.span.file) not in lines]
        doc.diagnostics = [d for d in doc.diagnostics if (d.span.line, d.span.file) not in lines]
    if not doc.model or not doc.model.endpoints:
        return []
    return [doc]
