"""Managed PostgreSQL settings (RDS/Aurora parameter groups, Cloud SQL flags, Azure server
parameters) as a document of kind "postgresql", typed like postgresql.conf values.

Each setting is typed by the postgresql.conf loader's own `type_settings` with the catalog of the
engine's major version, so PG001/PG002/PG003/MEM001 and the other server rules apply unchanged.
The document's `host` carries the memory of the instance class when it is known, for MEM001.

Conventions:
- a value the platform computes at deploy (an RDS formula whose instance class is unknown, a
  Terraform variable without default, a value known only after apply) is `Unknown`;
- an RDS formula is evaluated when the instance class is known (see cloud_sizes: with the class
  memory as DBInstanceClassMemory); the setting's raw text is then the number, and
  `doc.meta["formulas"][name]` keeps the formula as written;
- names a full parameter listing shows but that are the platform's own (not PostgreSQL's, no dot:
  Azure `require_secure_transport`, ...) are kept in `doc.meta["platform"]`, not as settings; a
  name the user set that PostgreSQL does not know is a setting, and PG001 reports it;
- `doc.meta["managed"]` names the platform (`aws-rds`, `aws-aurora`, `gcp-cloudsql`, `azure-flexible`).
"""

from __future__ import annotations

from typing import Any

from advisor.catalog import DEFAULT_MAJOR, load_catalog
from advisor.model import ConfigDoc, Setting, Span, Unknown
from advisor.model.client import Value
from advisor.model.host import HostFacts
from advisor.units import format_bytes

PLATFORMS = ("aws-rds", "aws-aurora", "gcp-cloudsql", "azure-flexible")
LABELS = {"aws-rds": "Amazon RDS for PostgreSQL", "aws-aurora": "Aurora PostgreSQL",
          "gcp-cloudsql": "Cloud SQL for PostgreSQL", "azure-flexible": "Azure Database for PostgreSQL flexible server"}

# What the platform sets when the file does not (its default parameter group / server defaults),
# where that differs from PostgreSQL's own default and matters to a rule. Sources:
# - RDS: "Dead connection handling in PostgreSQL" (RDS User Guide): tcp_keepalives_idle 300,
#   tcp_keepalives_interval 30, tcp_keepalives_count 2; SSL on by default ("uses and expects all
#   clients to connect using SSL/TLS"); rds.force_ssl default 1 from PostgreSQL 15, 0 before
#   (PostgreSQL.Concepts.General.SSL); shared_buffers {DBInstanceClassMemory/32768} and
#   max_connections LEAST({DBInstanceClassMemory/9531392},5000) in the default parameter groups.
# - Aurora PostgreSQL: tcp_keepalives_idle 300, tcp_keepalives_interval 30, tcp_keepalives_count 2
#   (Aurora User Guide, "Dead connection handling in PostgreSQL",
#   Appendix.PostgreSQL.CommonDBATasks.DeadConnectionHandling: "with Aurora PostgreSQL defaults, it
#   takes about a minute (2 probes x 30 seconds) to detect a dead connection"); the default DB
#   parameter group's memory formulas (Aurora User Guide, "Amazon Aurora PostgreSQL parameters",
#   AuroraPostgreSQL.Reference.ParameterGroups, the tables for Aurora PostgreSQL 14; assumed for the
#   other majors): shared_buffers SUM({DBInstanceClassMemory/12038},-50003) (about 65 % of the
#   memory: Aurora reads no data through the OS page cache, so it is not PostgreSQL's 25 %),
#   max_connections LEAST({DBInstanceClassMemory/9531392},5000) (also "Maximum connections to an
#   Aurora PostgreSQL DB instance", AuroraPostgreSQL.Managing), maintenance_work_mem
#   GREATEST({DBInstanceClassMemory/63963136*1024},65536), and in the cluster group
#   autovacuum_work_mem GREATEST({DBInstanceClassMemory/32768},131072) and autovacuum_max_workers
#   GREATEST({DBInstanceClassMemory/64371566592},3); rds.force_ssl 0 in the default DB cluster
#   parameter group (same tables; "By default, the rds.force_ssl parameter is set to 0 (off)",
#   ssl-certificate-rotation-aurora-postgresql). rds.force_ssl is a cluster-level parameter, so a DB
#   parameter group of an Aurora instance (scope "instance") gets no default for it; the cluster
#   group holds the defaults of the instance-level parameters too, and a DB parameter group's values
#   override them (USER_WorkingWithDBClusterParamGroups, "Amazon Aurora DB cluster and DB instance
#   parameters").
# - Azure flexible server: tcp_keepalives_idle 120, interval 30, count 9; ssl on
#   (param-connections-authentication-tcp-settings; require_secure_transport on by default).
# - Cloud SQL: the server always offers TLS; shared_buffers defaults to 33 % of the instance's
#   memory (Cloud SQL for PostgreSQL, "Best practices for managing memory usage",
#   https://cloud.google.com/sql/docs/postgres/manage-memory-usage-best-practices: "the default is
#   33% of the instance's memory"), set here when the tier's memory is known.
# - Azure flexible server: shared_buffers, max_connections and maintenance_work_mem are computed
#   from the memory of the SKU chosen when the server is provisioned (Azure Database for
#   PostgreSQL, server parameters, "Azure-specific notes" of each; MicrosoftDocs/azure-databases-docs
#   articles/postgresql/server-parameters/includes/server-parameters-azure-notes-shared-buffers.md,
#   -max-connections.md, -maintenance-work-mem.md): shared_buffers memoryGiB * 16384 (8 kB blocks:
#   12.5 %) up to 2 GiB, memoryGiB * 32768 (25 %) above; max_connections memoryGiB * 25 up to
#   2 GiB, else MIN(memory in MiB * 0.1049164697034809, 5000) (the page writes memoryGib, but its
#   table, 4 GiB 429 ... 32 GiB 3437, 48 GiB and more 5000, is in MiB; concepts-limits lists the
#   same figures per SKU); maintenance_work_mem (long)(82.5 * ln(memoryGiB) + 40) * 1024 kB. A
#   later change of SKU does not change these defaults: pgpath takes the server as provisioned at
#   the sku_name the file names.
_RDS_MEMORY = {"shared_buffers": "{DBInstanceClassMemory/32768}",
               "max_connections": "LEAST({DBInstanceClassMemory/9531392},5000)"}
_AURORA_MEMORY = {"shared_buffers": "SUM({DBInstanceClassMemory/12038},-50003)",
                  "max_connections": "LEAST({DBInstanceClassMemory/9531392},5000)",
                  "maintenance_work_mem": "GREATEST({DBInstanceClassMemory/63963136*1024},65536)",
                  "autovacuum_work_mem": "GREATEST({DBInstanceClassMemory/32768},131072)",
                  "autovacuum_max_workers": "GREATEST({DBInstanceClassMemory/64371566592},3)"}


CLOUDSQL_SHARED_BUFFERS_PERCENT = 33


def platform_defaults(platform: str, major: int, memory: int | None = None, scope: str | None = None
                      ) -> dict[str, str]:
    """The settings `platform` sets by default, as raw values in PostgreSQL's base units;
    `memory` (bytes of the instance) for the defaults that depend on it; `scope` "instance" for an
    Aurora DB parameter group (no cluster-level defaults), else a cluster group or unknown."""
    if platform == "aws-rds":
        return {"ssl": "1", "tcp_keepalives_idle": "300", "tcp_keepalives_interval": "30",
                "tcp_keepalives_count": "2", "rds.force_ssl": "1" if major >= 15 else "0", **_RDS_MEMORY}
    if platform == "aws-aurora":
        out = {"ssl": "1", "tcp_keepalives_idle": "300", "tcp_keepalives_interval": "30", "tcp_keepalives_count": "2",
               **_AURORA_MEMORY}
        if scope != "instance":
            out["rds.force_ssl"] = "0"
        return out
    if platform == "azure-flexible":
        out = {"ssl": "on", "tcp_keepalives_idle": "120", "tcp_keepalives_interval": "30", "tcp_keepalives_count": "9",
               "require_secure_transport": "on"}
        if memory:
            out.update(azure_memory_defaults(memory))
        return out
    if platform == "gcp-cloudsql":
        out = {"ssl": "on"}
        if memory:
            out["shared_buffers"] = str(memory * CLOUDSQL_SHARED_BUFFERS_PERCENT // 100 // 8192)  # 8 kB blocks
        return out
    return {}


def azure_memory_defaults(memory: int) -> dict[str, str]:
    """Azure flexible server's memory-dependent defaults for a SKU of `memory` bytes (see above)."""
    import math

    gib = memory / 1024**3
    small = gib <= 2
    return {"shared_buffers": str(int(gib * (16384 if small else 32768))),
            "max_connections": str(int(gib * 25) if small else min(int(gib * 1024 * 0.1049164697034809), 5000)),
            "maintenance_work_mem": str(int(82.5 * math.log(gib) + 40) * 1024)}


# names a platform has beside PostgreSQL's own (not PostgreSQL parameters, no dot)
PLATFORM_NAMES = {"azure-flexible": {"require_secure_transport"}}


class Entry:
    """One parameter as the platform file states it."""

    __slots__ = ("name", "raw", "span", "unknown", "user_set", "formula")

    def __init__(self, name: str, raw: Any, span: Span, unknown: bool = False, user_set: bool = True) -> None:
        self.name = name
        self.raw = raw if isinstance(raw, str) else _text(raw)
        self.span = span
        self.unknown = unknown
        self.user_set = user_set
        self.formula: str | None = None


def _text(value: Any) -> str:
    if value is True:
        return "on"
    if value is False:
        return "off"
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def conf_raw(text: str) -> str:
    """A value as postgresql.conf's typer expects its raw text (a leading quote would be read as
    conf quoting, so such a value is quoted)."""
    if text[:1] == "'":
        return "'" + text.replace("'", "''") + "'"
    return text


_SECRET_NAMES = ("conninfo", "password", "secret", "token", "key")


def _hide_doubtful_values(doc: ConfigDoc) -> None:
    """A value the catalog rejects is quoted in the finding, unless it could be a secret written in
    the wrong place (plans and API output carry passwords): such a value is shown as ***."""
    from advisor.loaders.cloud import harmless

    for setting in doc.settings:
        if any(word in setting.name for word in _SECRET_NAMES):
            setting.secret = True
        elif setting.value is None and not harmless(setting.raw.strip("'")):
            setting.secret = True
        if not setting.secret:
            continue
        text = setting.raw.strip("'")
        for d in doc.diagnostics:
            if text and text in d.message:
                d.message = d.message.replace(text, "***")
            if d.fix and text and text in d.fix:
                d.fix = d.fix.replace(text, "***")


def build(path: str, platform: str, entries: list[Entry], major: int | None, memory: Value | None = None,
          host_name: str = "", variables: dict[str, int] | None = None, scope: str | None = None) -> ConfigDoc:
    """The postgresql document for a managed server's parameters (`scope`: "cluster" or "instance"
    for an Aurora DB cluster parameter group or DB parameter group, in `doc.meta["aurora_scope"]`)."""
    from advisor.loaders.cloud_sizes import FormulaError, evaluate, is_formula
    from advisor.loaders.postgresql_conf import type_settings

    from advisor.catalog import SUPPORTED_MAJORS

    if major and major not in SUPPORTED_MAJORS:  # (`family = "postgres1"`: found by the fuzz campaign)
        major = min(SUPPORTED_MAJORS) if major < min(SUPPORTED_MAJORS) else max(SUPPORTED_MAJORS)
    catalog = load_catalog(major or DEFAULT_MAJOR)
    doc = ConfigDoc(path=path, kind="postgresql", files=[path])
    doc.meta["pg_version"] = catalog.major
    doc.meta["managed"] = platform
    if scope:
        doc.meta["aurora_scope"] = scope
    if memory is not None and memory.known:
        doc.host = HostFacts(host_name or platform, memory.span, {"ram": memory})
        doc.meta["ram"] = format_bytes(memory.value)
    formulas: dict[str, str] = {}
    platform_only: dict[str, dict] = {}
    own = PLATFORM_NAMES.get(platform, set())
    given = {e.name.lower() for e in entries}
    defaults = []
    ram = memory.value if memory is not None and memory.known and isinstance(memory.value, int) else None
    for name, raw in platform_defaults(platform, catalog.major, ram, scope).items():
        if name.lower() not in given:
            defaults.append(Entry(name, raw, Span(path, key=f"(default of {LABELS[platform]})"), user_set=False))
    if defaults:
        doc.meta["platform_defaults"] = [e.name for e in defaults]
    for entry in list(entries) + defaults:
        param = catalog.lookup(entry.name)
        if param is None and "." not in entry.name and (not entry.user_set or entry.name.lower() in own):
            platform_only[entry.name] = {"value": entry.raw, "span": entry.span.to_dict()}
            continue
        raw = entry.raw
        value: Any = Unknown(raw) if entry.unknown else None
        if not entry.unknown and platform in ("aws-rds", "aws-aurora") and is_formula(raw):
            formulas[param.name if param else entry.name] = raw
            try:
                raw = str(evaluate(raw, variables or {}))
            except FormulaError:
                value = Unknown(raw)  # the instance class (DBInstanceClassMemory) is not known in this run
        setting = Setting(param.name if param else entry.name, conf_raw(raw) if value is None else raw, value,
                          entry.span, entry.span, param.unit if param else None, None, False, False,
                          param.needs if param else None, entry.name)
        doc.settings.append(setting)
    type_settings(doc, catalog)
    _hide_doubtful_values(doc)
    if formulas:
        doc.meta["formulas"] = formulas
    if platform_only:
        doc.meta["platform"] = platform_only
    return doc
