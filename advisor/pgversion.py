"""Which PostgreSQL major the checked files are for, when the user does not say.

Without `--pg-version` (or `pg_version:` in pgpath.yaml) the files themselves often say:

- a Debian/Ubuntu path with the major in it: `/usr/lib/postgresql/13/bin`,
  `/var/lib/postgresql/15/main`, `/etc/postgresql/16/main/pg_hba.conf`; a PGDG/RHEL one:
  `/var/lib/pgsql/16/data`, `/usr/pgsql-16/bin`; written in the file, or the file's own path
  (`etc/postgresql/16/main/postgresql.conf`, `db/var/lib/pgsql/16/data/postgresql.conf`: a copy
  of a host's tree);
- a container image of PostgreSQL with a tag: `postgres:13`, `postgres:15.6-alpine`,
  `postgis/postgis:15-3.4`, `timescale/timescaledb:2.14.2-pg16`, `pgvector/pgvector:pg17`,
  CloudNativePG's `ghcr.io/cloudnative-pg/postgresql:16.2` (docker-compose, Kubernetes,
  Dockerfiles, Terraform);
- a managed database's engine: an RDS/Aurora parameter group family (`postgres16`), an
  `engine_version`/`database_version` (Terraform, cloud CLI JSON; Cloud SQL's `POSTGRES_15`);
- a configuration named for its major: a role's per-version template `postgresql.conf-17.j2`;
- a `postgresql.conf.sample`, whose parameter list belongs to one major: the supported catalog
  that knows the most of its names, or "before 14" when it lists names removed earlier;
- last, for a configuration file nothing else dates, the parameters it sets: one the newest
  major removed (`db_user_namespace`, gone in 17) makes it the newest major that knows them all.

The most frequent major wins (the newest on a tie); one outside the supported range is mapped to
the nearest catalog pgpath ships, and the reason says so. Reads only the files given (no
network); each file's first 1 MiB.
"""

from __future__ import annotations

import os
import re
from collections import Counter

from advisor import lazy_re
from advisor.catalog import DEFAULT_MAJOR, SUPPORTED_MAJORS
from advisor.model import DEFAULT_PG_VERSION_REASON, pg_version_of

READ_LIMIT = 1024 * 1024
_PATH = lazy_re.compile(r"/(?:usr/lib|var/lib|etc|usr/share|var/log|run|var/run)/postgresql/(\d{1,2})(?:[/\s'\"]|$)"
                        # PGDG/RHEL: the data directory /var/lib/pgsql/16/data, the binaries /usr/pgsql-16/bin
                        r"|/var/lib/pgsql/(\d{1,2})/(?:data|backups)(?:[/\s'\"]|$)|/usr/pgsql-(\d{1,2})/")
# the image's own name (the repository part before it is read backwards, at most 200 characters)
_IMAGE = lazy_re.compile(r"(?<![\w-])(postgres|postgresql|postgis|timescaledb(?:-ha)?|pgvector|supabase-postgres|"
                         r"crunchy-postgres(?:-gis)?)[:@]([\w.-]{1,64})")
_REPO_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/")
MAX_MATCHES = 20  # per pattern and file: enough evidence, and no cost that grows with the matches
# an RDS/Aurora parameter group family (`family = "postgres16"`, `aurora-postgresql15`), an
# engine version next to a PostgreSQL engine (`engine_version = "15.4"`), assigned (`:`, `=`, `=>`,
# an XML tag's `>`; any case: `PG_VERSION=16`), never compared (`postgresql_version < 15` in a
# template condition or a comment says nothing of the version)
_FAMILY = lazy_re.compile(r"[\"'](?:aurora-)?postgres(?:ql)?(\d{1,2})[\"']")
_ENGINE_VERSION = lazy_re.compile(r"\b(?i:engine_version|EngineVersion|database_version|databaseVersion|"
                                  r"postgresql_version|postgres_version|pg_version|postgresVersion)"
                                  r"(?:>|[ \t\"'`]*(?:=>|:|=(?!=))[ \t\"'`\[]*)(?:POSTGRES_)?(\d{1,2})(?!\d)")
# Zalando's `postgresql:` block with its `version: "15"`; Azure's `version` of a PostgreSQL server
# (Terraform azurerm_postgresql_flexible_server, ARM/CLI JSON of Microsoft.DBforPostgreSQL)
_ZALANDO_VERSION = lazy_re.compile(r"\bpostgresql:[ \t]*\r?\n[ \t]+version:[ \t]*[\"']?(\d{1,2})(?!\d)")
_AZURE_VERSION = lazy_re.compile(r"[\"']?\bversion[\"']?[ \t]*[=:][ \t]*[\"'](\d{1,2})(?:\.\d+)?[\"']")
_TAG_MAJOR = lazy_re.compile(r"(?:^|[-_.])(?:pg)?(\d{1,2})(?=$|[._-])")
_SAMPLE_NAME = lazy_re.compile(r"^[ \t]*#?[ \t]*([a-z_][a-z0-9_]*)[ \t]*=", re.MULTILINE)

# parameters removed before 14, the first major supported here: (removed in, replacement)
REMOVED_BEFORE_14 = {
    "wal_keep_segments": (13, "wal_keep_size"),
    "checkpoint_segments": (9.5, "max_wal_size"),
    "replacement_sort_tuples": (11, None),
    "sql_inheritance": (10, None),
    "min_parallel_relation_size": (10, "min_parallel_table_scan_size"),
    "vacuum_cleanup_index_scale_factor": (14, None),
    "operator_precedence_warning": (14, None),
    "ssl_renegotiation_limit": (9.5, None),
    "krb_srvname": (9.4, None),
    "silent_mode": (9.2, None),
    "add_missing_from": (9.0, None),
    "custom_variable_classes": (9.2, None),
    "unix_socket_directory": (9.3, "unix_socket_directories"),
}


def _major_of_tag(tag: str) -> int | None:
    """`15.6-alpine` -> 15, `2.14.2-pg16` -> 16 (a `pgNN` part wins), `latest` -> None."""
    pg = re.search(r"pg(\d{1,2})(?!\d)", tag)
    if pg:
        return int(pg.group(1))
    for m in _TAG_MAJOR.finditer(tag):
        n = int(m.group(1))
        if 9 <= n <= 30:
            return n
    return None


# a configuration named for its major: a role's per-version template (`postgresql.conf-17.j2`)
_NAMED_MAJOR = lazy_re.compile(r"(?:^|[^A-Za-z0-9])postgresql\.conf[-_.](\d{1,2})(?!\.\d)(?:\.[A-Za-z0-9]+)*$")


def evidence_in(path: str, text: str) -> list[tuple[int, str]]:
    """(major, what says so) found in one file's text, or in its name."""
    out: list[tuple[int, str]] = []
    named = _NAMED_MAJOR.search(os.path.basename(path))
    if named and 9 <= int(named.group(1)) <= 30:
        out.append((int(named.group(1)), f"the file's name, {os.path.basename(path)}"))
    layout = _layout(path)  # after what the text says: a line to point at is the better reason
    if ("postgres" not in text and "timescale" not in text and "pgvector" not in text and "PostgreSQL" not in text
            and "POSTGRES" not in text):
        return out + layout
    lines = _LineNumbers(text)

    def first(pattern):
        for i, m in enumerate(pattern.finditer(text)):
            if i >= MAX_MATCHES:
                break
            yield m

    for m in first(_PATH):
        major = next(int(g) for g in m.groups() if g)
        out.append((major, f"{m.group(0).rstrip('/ ')} in {path}:{lines.at(m.start())}"))
    for m in first(_FAMILY):
        out.append((int(m.group(1)), f"parameter group family {m.group(0)} in {path}:{lines.at(m.start())}"))
    for m in first(_ENGINE_VERSION):
        out.append((int(m.group(1)), f"{_said(m.group(0))} in {path}:{lines.at(m.start())}"))
    for m in first(_ZALANDO_VERSION):
        out.append((int(m.group(1)), f"postgresql version {m.group(1)} in {path}:{lines.at(m.start())}"))
    if "azurerm_postgresql" in text or "DBforPostgreSQL" in text:
        for m in first(_AZURE_VERSION):
            if 9 <= int(m.group(1)) <= 30:
                out.append((int(m.group(1)), f"Azure PostgreSQL {_said(m.group(0))} in {path}:{lines.at(m.start())}"))
    for m in first(_IMAGE):
        major = _major_of_tag(m.group(2))
        if major is None:
            continue
        start = m.start()
        while start > 0 and m.start() - start < 200 and text[start - 1] in _REPO_CHARS:
            start -= 1
        image = text[start:m.start()] + m.group(1)
        out.append((major, f"image {image}:{m.group(2)} in {path}:{lines.at(m.start())}"))
    return out + layout


def _layout(path: str) -> list[tuple[int, str]]:
    """The major the file's own path names in a package's layout (advisor.model.host.pg_cluster):
    Debian's `etc/postgresql/16/main/`, `var/lib/postgresql/16/main/`, PGDG/RHEL's
    `var/lib/pgsql/16/data/` — a copy of a host's tree in a repository included (the path as
    given, made absolute: `db/var/lib/pgsql/16/data/postgresql.conf`)."""
    from advisor.model.host import pg_cluster

    got = pg_cluster(os.path.dirname(os.path.abspath(path)))
    if got is None:
        return []
    major, cluster = got
    layout = f"Debian's cluster {major}/{cluster}" if cluster else f"the PGDG/RHEL data directory of {major}"
    return [(major, f"its path, {path} ({layout})")]


def _said(text: str) -> str:
    """Matched text as a reason quotes it: `engine_version = 16`, without the file's alignment
    spaces or the opening quote the pattern stops after."""
    return " ".join(text.replace('"', "").replace("'", "").replace("`", "").split())


class _LineNumbers:
    """Line numbers of offsets asked for in increasing order or not, counted once (no rescans)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offsets: list[int] | None = None

    def at(self, offset: int) -> int:
        import bisect

        if self.offsets is None:
            offsets, find, i = [], self.text.find, self.text.find("\n")
            while i >= 0:
                offsets.append(i)
                i = find("\n", i + 1)
            self.offsets = offsets
        return bisect.bisect_left(self.offsets, offset) + 1


def sample_major(path: str, text: str) -> tuple[int, str] | None:
    """The major a postgresql.conf.sample's parameter list belongs to."""
    from advisor.catalog import load_catalog

    names = set(_SAMPLE_NAME.findall(text)) - {"include", "include_dir", "include_if_exists"}
    if len(names) < 20:
        return None
    older = sorted(n for n in names if n in REMOVED_BEFORE_14)
    if older:
        removed = min(REMOVED_BEFORE_14[n][0] for n in older)
        first = next(n for n in older if REMOVED_BEFORE_14[n][0] == removed)
        return int(removed) - 1 if removed == int(removed) else 9, (
            f"{path} lists {first}, removed in PostgreSQL {removed:g}")
    best = None
    for major in SUPPORTED_MAJORS:
        catalog = load_catalog(major)
        unknown = sum(1 for n in names if catalog.lookup(n) is None)
        if best is None or unknown <= best[1]:
            best = (major, unknown)
    if best is None or best[1] > len(names) // 4:
        return None
    return best[0], f"the parameter list of {path} (every name known to PostgreSQL {best[0]})"


# an assignment on a line of its own, not commented out: `name = value` or `name value`
_SETTING_NAME = lazy_re.compile(r"^[ \t]*([a-z_][a-z0-9_]*)[ \t]*(?:=|[ \t]+[^\s=#])", re.MULTILINE)


def settings_major(path: str, text: str) -> tuple[int, str] | None:
    """An older major for a configuration file with no other evidence whose settings the newest
    catalog does not all know: the newest supported major that knows every parameter it sets
    (`db_user_namespace`, removed in 17, makes it 16), when one knows them all; else None. Names
    no supported major knows (typos, extensions' parameters) say nothing of the version. Older
    catalogs are loaded only for a file that sets a name the newest does not know."""
    from advisor.catalog import load_catalog

    names = set(_SETTING_NAME.findall(text)) - {"include", "include_dir", "include_if_exists"}
    newest = load_catalog(DEFAULT_MAJOR)
    if all(newest.lookup(n) is not None for n in names) or names & REMOVED_BEFORE_14.keys():
        return None  # (a name gone before 14: a file older than every catalog, as the default says)
    known = {n: {m for m in SUPPORTED_MAJORS if load_catalog(m).lookup(n) is not None} for n in names}
    fits = set(SUPPORTED_MAJORS)
    for majors in known.values():
        if majors:  # a name no supported major knows dates nothing
            fits &= majors
    if not fits or max(fits) == DEFAULT_MAJOR:
        return None
    major = max(fits)
    removed = sorted(n for n, majors in known.items() if majors and major + 1 not in majors)
    return major, (f"{path} sets {removed[0]}, which PostgreSQL {major + 1} removed: {major} is the newest "
                   "major that knows every parameter it sets")


def _read_head(path: str) -> bytes:
    """open(path, "rb").read(READ_LIMIT), asked for in the size the file has (+1 to notice one
    that grew) with plain system calls: the buffered reader and a megabyte allocated per file
    were most of the version inference's time on 10,000 small files."""
    from advisor.loaders.source import read_head

    return read_head(path, None, READ_LIMIT)


def candidates(skipped: list[str]) -> list[str]:
    """The skipped files worth reading for a version: Dockerfiles and compose/Kubernetes/Terraform
    files."""
    out = []
    for p in skipped:
        name = os.path.basename(p).lower()
        if name.startswith(("dockerfile", "containerfile")) or name.endswith((".yml", ".yaml", ".tf", ".json", ".hcl")):
            out.append(p)
    return out


# ------------------------------------------------------------------------------------------------
# one major per document: the nearest evidence wins

# where a document's major came from, nearest first (the JSON report's `source`)
SOURCES = ("option", "topology", "file", "deployment", "neighbourhood", "run", "default")
# a compose/Kubernetes volume source that is a relative path: `./conf/postgresql.conf:/etc/...`
_MOUNT = lazy_re.compile(r"(?<![\w/.-])(\.{1,2}/[\w./-]{1,300}):/")
MAX_MOUNTS = 200


class Choice:
    """The major a file's documents are checked with, and why (`source` is one of SOURCES)."""

    __slots__ = ("major", "reason", "source", "fixed", "said")

    def __init__(self, major: int, reason: str, source: str, fixed: bool = False, said: int | None = None) -> None:
        self.major = major
        self.reason = reason
        self.source = source
        self.fixed = fixed  # given or declared: it wins over what a loader finds in the file
        # the major the evidence or declaration names when pgpath has no catalog for it (13 -> 14)
        self.said = said if said is not None and said != major else None

    def to_dict(self) -> dict:
        return {"major": self.major, "source": self.source, "reason": self.reason}


def supported(major: int, reason: str) -> tuple[int, str]:
    """A major outside the catalogs pgpath ships mapped to the nearest one, the reason saying so."""
    if major < SUPPORTED_MAJORS[0]:
        return SUPPORTED_MAJORS[0], (f"the files are for PostgreSQL {major}, per {reason}; {SUPPORTED_MAJORS[0]} is "
                                     "the oldest catalog pgpath has")
    if major > SUPPORTED_MAJORS[-1]:
        return SUPPORTED_MAJORS[-1], (f"the files are for PostgreSQL {major}, per {reason}; {SUPPORTED_MAJORS[-1]} "
                                      "is the newest catalog pgpath has")
    return major, reason


def decide(found: list[tuple[int, str]], where: str = "") -> tuple[int, str, int] | None:
    """(major, reason, said) from the evidence of one file or one deployment: the most frequent
    major, the newest on a tie; conflicting evidence is named in the reason with the rule that
    decided. `major` is a catalog pgpath has (`supported`), `said` the major the evidence names."""
    if not found:
        return None
    counts = Counter(major for major, _ in found)
    major = max(counts, key=lambda m: (counts[m], m))
    reason = next(why for m, why in found if m == major) + where
    others = sorted(set(counts) - {major})
    if others:
        seen = "; ".join(f"PostgreSQL {m}: {next(why for n, why in found if n == m)}" for m in others)
        rule = "the most frequent wins" if counts[major] > max(counts[m] for m in others) else \
            "as frequent as the others: the newest wins"
        reason += f" (conflicting evidence, also seen {seen}; {rule})"
    return (*supported(major, reason), major)


def neighbourhoods(items: list[tuple[str, str | None]]) -> list[list[str]]:
    """Groups of paths that may be one deployment, by the rule advisor/path/discover.py groups the
    loaded documents with (the same function, over (path, kind) pairs)."""
    from advisor.path.discover import group_neighbourhoods

    return [[path for path, _ in group] for group in group_neighbourhoods(items, lambda x: x[0], lambda x: x[1])]


def shown(path: str) -> str:
    """A path for messages: relative when inside the working directory (no absolute path of the
    machine running pgpath in the output)."""
    if not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


def _key(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def _mounts(path: str, text: str) -> list[str]:
    """The local files and folders a compose file or manifest mounts (`./postgresql.conf:/etc/...`)."""
    if not path.endswith((".yml", ".yaml")) and "compose" not in os.path.basename(path).lower():
        return []
    folder = os.path.dirname(_key(path))
    out = []
    for i, m in enumerate(_MOUNT.finditer(text)):
        if i >= MAX_MOUNTS:
            break
        out.append(os.path.normpath(os.path.join(folder, m.group(1))))
    return out


class Plan:
    """The major of each file to load (`choice(path)`), decided once before loading:

    1. `--pg-version` / `pg_version:` in pgpath.yaml, for every file;
    2. the topology: the `version:` of a deployment's `postgres` hop, or the `pg_version:` of its
       host, for the files that deployment names;
    3. the file's own evidence (an image tag, a CloudNativePG imageName, a version key, an RDS
       family, Cloud SQL's databaseVersion, Azure's version, a /usr/lib/postgresql/NN path);
    4. the deployment: a compose file or manifest that mounts the file (`./postgresql.conf:/etc/...`);
    5. the neighbourhood (`neighbourhoods`): evidence in the files grouped with it;
    6. for SQL files only, the run: when every file that says a major (or is declared one) says
       the same, a migration's `ALTER ROLE/DATABASE/SYSTEM ... SET` runs on a server of that major
       (a server's own configuration with no evidence is another server: it stays the default);
    7. a configuration file's own settings, when the newest major does not know one of them and an
       older one knows them all (`settings_major`);
    8. else the newest supported major, said as such.

    Each file is read once (its first 1 MiB); the groups are built once: cost linear in files."""

    def __init__(self) -> None:
        self.choices: dict[str, Choice] = {}
        self.default = Choice(DEFAULT_MAJOR, DEFAULT_PG_VERSION_REASON, "default")

    def choice(self, path: str) -> Choice:
        return self.choices.get(_key(path), self.default)


def plan(found: list[tuple[str, str]], skipped: list[str], explicit: tuple[int, str] | None = None,
         declared: dict[str, tuple[int, str, bool]] | None = None) -> Plan:
    """The Plan for the files to load (`found`: path, kind) and the files only read for evidence
    (`skipped`: Dockerfiles, compose files, manifests no loader reads). `declared`: the
    topology's majors by file (advisor.path.topology.declared_versions)."""
    out = Plan()
    texts: dict[str, tuple[str, str]] = {}  # configuration files with no evidence of their own (settings_major)
    if explicit is not None:
        out.default = Choice(explicit[0], explicit[1], "option", fixed=True)
        return out
    evidence: dict[str, list[tuple[int, str]]] = {}
    mounted: dict[str, list[tuple[int, str]]] = {}
    items: list[tuple[str, str | None]] = list(found) + [(p, None) for p in candidates(skipped)]
    for path, kind in items:
        try:
            data = _read_head(path)
        except OSError:
            continue
        text = data.decode("utf-8", "replace")
        if path.endswith(".sample"):
            got = sample_major(shown(path), text)
            own = [got] if got else []
        else:
            own = evidence_in(shown(path), text)
        if own:
            evidence[_key(path)] = own
            for target in _mounts(path, text):
                mounted.setdefault(target, []).extend(own)
        elif kind == "postgresql" and not path.endswith(".sample"):
            texts[_key(path)] = (path, text)
    declared = declared or {}
    for path, _ in found:
        key = _key(path)
        if key in declared:
            major, reason, _conflict = declared[key]
            said = decide(evidence.get(key, []))
            # (decide maps a major pgpath has no catalog of to the nearest: compare what the file says)
            if said is not None and said[2] != major:
                reason += f" (the file says PostgreSQL {said[2]}: {said[1]}; the declaration wins)"
            got = supported(major, reason)
            out.choices[key] = Choice(*got, "topology", fixed=True, said=major)
        elif key in evidence:
            major, reason, said_major = decide(evidence[key])
            out.choices[key] = Choice(major, reason, "file", said=said_major)
        else:
            via = mounted.get(key) or mounted.get(os.path.dirname(key))
            if via:
                major, reason, said_major = decide(via, f", which mounts {shown(path)}")
                out.choices[key] = Choice(major, reason, "deployment", said=said_major)
    for group in neighbourhoods(items):
        pooled = [e for p in group for e in evidence.get(_key(p), ())]
        if not pooled:
            continue
        got = None
        for path in group:
            key = _key(path)
            if key in out.choices or key in evidence:
                continue
            if got is None:
                got = decide(pooled, ", beside it")
            out.choices[key] = Choice(got[0], got[1], "neighbourhood", said=got[2])
    said = [e for found_in in evidence.values() for e in found_in] + \
        [(major, reason) for major, reason, _conflict in declared.values()]
    if len({major for major, _ in said}) == 1:
        major, reason = said[0]
        got = supported(major, f"{reason}, the only major read")
        for path, kind in found:
            if kind == "sql":
                out.choices.setdefault(_key(path), Choice(*got, "run", said=major))
    for key, (path, text) in texts.items():
        if key not in out.choices:
            got = settings_major(shown(path), text)
            if got is not None:
                out.choices[key] = Choice(*got, "file")
    return out


# ------------------------------------------------------------------------------------------------
# what the output says about it

_SOURCE_WORDS = {"option": "given", "topology": "by the topology", "file": "by their own evidence",
                 "deployment": "by the file that mounts them", "neighbourhood": "by the files beside them",
                 "run": "as the others say",
                 "default": "by default"}


def by_major(docs) -> list[dict]:
    """One entry per major used: {major, files, sources: {source: files}, reasons: [distinct, in
    order]}, the most used major first (the newest on a tie). Linear in documents."""
    out: dict[int, dict] = {}
    for doc in docs:
        got = pg_version_of(doc)
        if got is None:
            continue
        entry = out.setdefault(got["major"], {"major": got["major"], "files": set(), "sources": {}, "reasons": {}})
        entry["files"].add(doc.path)
        entry["sources"].setdefault(got["source"], set()).add(doc.path)
        entry["reasons"].setdefault(got["reason"], got["source"])
    rows = []
    for entry in out.values():
        rows.append({"major": entry["major"], "files": len(entry["files"]),
                     "sources": {s: len(f) for s, f in entry["sources"].items()},
                     "reasons": list(entry["reasons"].items())})
    rows.sort(key=lambda r: (-r["files"], -r["major"]))
    return rows


def summary_lines(docs) -> list[str]:
    """The text report's words on the majors: `PostgreSQL 15 assumed (image postgres:15 in x:3)`
    when one major and one reason cover every document; else a line per major with its count."""
    return summary_of(by_major(docs), "PostgreSQL", "major", SOURCES, _SOURCE_WORDS, ("option", "topology"))


def summary_of(rows: list[dict], product: str, key: str, sources, words: dict, given: tuple[str, ...],
               first=None) -> list[str]:
    """Summary lines of versions found per file (PostgreSQL majors here, PgBouncer versions in
    advisor.pgbversion): one line when one version and one reason cover every file, said as
    assumed unless `given` by the user; else a line per version with its file count and, per
    source, its file count and its reason in parentheses, or, when its files have several, how
    many and an example (`first`, a sort key, orders the examples): `PostgreSQL 15 for 2 files:
    2 by the topology (2 different reasons, e.g. declared in pgpath.yaml:6: ...)`. The sources'
    counts add up to the line's; a count of reasons is never read as one of files (scenario
    audit 17, D11: "...; and 1 other reason" after "2 by the topology" read as a third file)."""
    if not rows:
        return []
    if len(rows) == 1 and len(rows[0]["reasons"]) == 1:
        reason, source = rows[0]["reasons"][0]
        verb = "" if source in given else " assumed"
        return [f"{product} {rows[0][key]}{verb} ({reason})"]
    out = []
    for row in rows:
        n = row["files"]
        head = f"{product} {row[key]} for {n} file{'s' if n != 1 else ''}"
        if len(row["reasons"]) == 1:
            out.append(f"{head} ({row['reasons'][0][0]})")
            continue
        parts = []
        for source in sources:
            count = row["sources"].get(source)
            if not count:
                continue
            reasons = [r for r, s in row["reasons"] if s == source]
            if first is not None:
                reasons.sort(key=first)
            said = reasons[0] if len(reasons) == 1 else f"{len(reasons)} different reasons, e.g. {reasons[0]}"
            parts.append(f"{count} {words[source]} ({said})")
        out.append(f"{head}: " + "; ".join(parts))
    return out
