"""Which PostgreSQL major the checked files are for, when the user does not say.

Without `--pg-version` (or `pg_version:` in pgpath.yaml) the files themselves often say:

- a Debian/Ubuntu path with the major in it: `/usr/lib/postgresql/13/bin`,
  `/var/lib/postgresql/15/main`, `/etc/postgresql/16/main/pg_hba.conf`;
- a container image of PostgreSQL with a tag: `postgres:13`, `postgres:15.6-alpine`,
  `postgis/postgis:15-3.4`, `timescale/timescaledb:2.14.2-pg16`, `pgvector/pgvector:pg17`,
  CloudNativePG's `ghcr.io/cloudnative-pg/postgresql:16.2` (docker-compose, Kubernetes,
  Dockerfiles, Terraform);
- a managed database's engine: an RDS/Aurora parameter group family (`postgres16`), an
  `engine_version`/`database_version` (Terraform, cloud CLI JSON; Cloud SQL's `POSTGRES_15`);
- a `postgresql.conf.sample`, whose parameter list belongs to one major: the supported catalog
  that knows the most of its names, or "before 14" when it lists names removed earlier.

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

READ_LIMIT = 1024 * 1024
_PATH = lazy_re.compile(r"/(?:usr/lib|var/lib|etc|usr/share|var/log|run|var/run)/postgresql/(\d{1,2})(?:[/\s'\"]|$)")
# the image's own name (the repository part before it is read backwards, at most 200 characters)
_IMAGE = lazy_re.compile(r"(?<![\w-])(postgres|postgresql|postgis|timescaledb(?:-ha)?|pgvector|supabase-postgres|"
                         r"crunchy-postgres(?:-gis)?)[:@]([\w.-]{1,64})")
_REPO_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/")
MAX_MATCHES = 20  # per pattern and file: enough evidence, and no cost that grows with the matches
# an RDS/Aurora parameter group family (`family = "postgres16"`, `aurora-postgresql15`), an
# engine version next to a PostgreSQL engine (`engine_version = "15.4"`)
_FAMILY = lazy_re.compile(r"[\"'](?:aurora-)?postgres(?:ql)?(\d{1,2})[\"']")
_ENGINE_VERSION = lazy_re.compile(r"\b(?:engine_version|EngineVersion|database_version)\W{1,6}(?:POSTGRES_)?(\d{1,2})(?!\d)")
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


def evidence_in(path: str, text: str) -> list[tuple[int, str]]:
    """(major, what says so) found in one file's text."""
    out: list[tuple[int, str]] = []
    if "postgres" not in text and "timescale" not in text and "pgvector" not in text:
        return out
    lines = _LineNumbers(text)

    def first(pattern):
        for i, m in enumerate(pattern.finditer(text)):
            if i >= MAX_MATCHES:
                break
            yield m

    for m in first(_PATH):
        out.append((int(m.group(1)), f"{m.group(0).rstrip('/ ')} in {path}:{lines.at(m.start())}"))
    for m in first(_FAMILY):
        out.append((int(m.group(1)), f"parameter group family {m.group(0)} in {path}:{lines.at(m.start())}"))
    for m in first(_ENGINE_VERSION):
        out.append((int(m.group(1)), f"{m.group(0)} in {path}:{lines.at(m.start())}"))
    for m in first(_IMAGE):
        major = _major_of_tag(m.group(2))
        if major is None:
            continue
        start = m.start()
        while start > 0 and m.start() - start < 200 and text[start - 1] in _REPO_CHARS:
            start -= 1
        image = text[start:m.start()] + m.group(1)
        out.append((major, f"image {image}:{m.group(2)} in {path}:{lines.at(m.start())}"))
    return out


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


def infer(paths: list[str]) -> tuple[int, str] | None:
    """(catalog major to use, why) from the files, or None when they do not say."""
    found: list[tuple[int, str]] = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read(READ_LIMIT)
        except OSError:
            continue
        text = data.decode("utf-8", "replace")
        if path.endswith(".sample"):
            got = sample_major(path, text)
            if got:
                found.append(got)
            continue
        found.extend(evidence_in(path, text))
    if not found:
        return None
    counts = Counter(major for major, _ in found)
    major = max(counts, key=lambda m: (counts[m], m))
    reason = next(why for m, why in found if m == major)
    others = sorted(set(counts) - {major})
    if others:
        reason += f" (also seen: {', '.join(f'PostgreSQL {m}' for m in others)}; the most frequent wins)"
    if major < SUPPORTED_MAJORS[0]:
        return SUPPORTED_MAJORS[0], (f"the files are for PostgreSQL {major}, per {reason}; {SUPPORTED_MAJORS[0]} is "
                                     "the oldest catalog pgpath has")
    if major > SUPPORTED_MAJORS[-1]:
        return SUPPORTED_MAJORS[-1], (f"the files are for PostgreSQL {major}, per {reason}; {SUPPORTED_MAJORS[-1]} "
                                      "is the newest catalog pgpath has")
    return major, reason


DEFAULT_REASON = ("the newest supported; no version given or found in the files, set --pg-version or pg_version "
                  "in pgpath.yaml")


def candidates(found: list[tuple[str, str]], skipped: list[str]) -> list[str]:
    """The files worth reading for a version: the ones being checked, and Dockerfiles and
    compose/Kubernetes/Terraform files among those skipped."""
    out = [p for p, _ in found]
    for p in skipped:
        name = os.path.basename(p).lower()
        if name.startswith(("dockerfile", "containerfile")) or name.endswith((".yml", ".yaml", ".tf", ".json", ".hcl")):
            out.append(p)
    return out
