"""Which PgBouncer version each PgBouncer file is checked as, when the user does not say.

`--pgbouncer-version` (or `pgbouncer-version:` in pgpath.yaml) wins for every file. Without it, the
image of the container that runs PgBouncer often says, in a tag that is PgBouncer's own version:

- the project's image `pgbouncer/pgbouncer:1.22.1`, `edoburu/pgbouncer:v1.22.1-p0`,
  `bitnami/pgbouncer:1.22.1-debian-12-r5` (and bitnamilegacy), CloudNativePG's
  `ghcr.io/cloudnative-pg/pgbouncer:1.23.0`, Crunchy's `crunchy-pgbouncer:ubi8-1.22-0`, Percona's
  `percona-pgbouncer:1.24.1`; any registry in front of them;
- no other image: another publisher's tag is its own release number (`myorg/pgbouncer:1.2.0`), and
  Percona's `percona-postgresql-operator:2.3.1-ppg16-pgbouncer` names the operator and PostgreSQL.

Where the image is: in the document's own container or custom resource (the loader, per document:
an edoburu/bitnami container configured by its environment, `spec.proxy.pgBouncer.image` of a
Crunchy/Percona cluster, the `pgbouncer` container of a CloudNativePG Pooler's template); in the
file (a manifest with the Deployment and its ConfigMap); in a compose file that mounts the
pgbouncer.ini (`./pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini`); in the files beside it (the
Deployment that mounts the ConfigMap, in deployment.yaml beside configmap.yaml). A version newer
than the newest catalog is checked as the newest, and the reason says so. Else the newest,
said as assumed. Reads only the files given, each one's first 1 MiB.
"""

from __future__ import annotations

import os
from collections import Counter

from advisor import lazy_re

# the image's name (a registry and path may stand before it) and its tag
_IMAGE = lazy_re.compile(
    r"(?<![\w./-])((?:[\w.-]+(?::\d+)?/)*?(?:(?<![\w.-])pgbouncer/pgbouncer|edoburu/pgbouncer|bitnami(?:legacy)?/pgbouncer"
    r"|cloudnative-pg/pgbouncer|crunchy-pgbouncer|percona-pgbouncer)):([\w.-]{1,64})")
# PgBouncer's version in a tag: 1.x, not part of a longer number (`ubi8-1.22-0`, `v1.22.1-p0`)
_TAG_VERSION = lazy_re.compile(r"(?<![\d.])1\.(\d{1,2})(?!\d)")
MAX_MATCHES = 20
SOURCES = ("option", "file", "deployment", "neighbourhood", "default")
DEFAULT_REASON = "the newest; no version given or found"
# The newest PgBouncer version of the table (advisor.catalogs.pgbouncer.NEWEST is this one): here, so
# that a run without a PgBouncer document names its default version without importing the table.
NEWEST = (1, 25)


def newest() -> tuple[int, int]:
    return NEWEST


def text_of(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def tag_version(tag: str) -> tuple[int, int] | None:
    """`1.22.1` -> (1, 22), `v1.22.1-p0` -> (1, 22), `ubi8-1.22-0` -> (1, 22), `latest` -> None."""
    m = _TAG_VERSION.search(tag)
    return (1, int(m.group(1))) if m else None


def image_version(image: str | None) -> tuple[int, int] | None:
    """The PgBouncer version an image reference names, or None (not a known PgBouncer image, no
    tag, or a tag that is no version)."""
    if not image:
        return None
    m = _IMAGE.search(image.strip())
    return tag_version(m.group(2)) if m else None


def supported(version: tuple[int, int], reason: str) -> tuple[tuple[int, int], str]:
    """A version newer than the newest catalog mapped to it, the reason saying so."""
    top = newest()
    if version > top:
        return top, f"the files are for PgBouncer {text_of(version)}, per {reason}; {text_of(top)} is the newest " \
                    "catalog pgpath has"
    return version, reason


def evidence_in(path: str, text: str) -> list[tuple[tuple[int, int], str]]:
    """(version, what says so) for each PgBouncer image with a version tag in one file's text."""
    if "pgbouncer" not in text:
        return []
    from advisor.pgversion import _LineNumbers

    out = []
    lines = _LineNumbers(text)
    for i, m in enumerate(_IMAGE.finditer(text)):
        if i >= MAX_MATCHES:
            break
        version = tag_version(m.group(2))
        if version is not None:
            out.append((version, f"image {m.group(1)}:{m.group(2)} in {path}:{lines.at(m.start())}"))
    return out


def decide(found: list[tuple[tuple[int, int], str]], where: str = "") -> tuple[tuple[int, int], str, tuple] | None:
    """(version, reason, said) from evidence: the most frequent version, the newest on a tie."""
    if not found:
        return None
    counts = Counter(v for v, _ in found)
    version = max(counts, key=lambda v: (counts[v], v))
    reason = next(why for v, why in found if v == version) + where
    others = sorted(set(counts) - {version})
    if others:
        seen = "; ".join(f"PgBouncer {text_of(v)}: {next(why for w, why in found if w == v)}" for v in others)
        reason += f" (conflicting evidence, also seen {seen}; the most frequent wins, the newest on a tie)"
    checked, reason = supported(version, reason)
    return checked, reason, version


class Choice:
    __slots__ = ("version", "reason", "source", "fixed", "said")

    def __init__(self, version: tuple[int, int], reason: str, source: str, fixed: bool = False,
                 said: tuple[int, int] | None = None) -> None:
        self.version = version
        self.reason = reason
        self.source = source
        self.fixed = fixed
        self.said = said if said != version else None


class Plan:
    def __init__(self, default: Choice) -> None:
        self.default = default
        self.choices: dict[str, Choice] = {}

    def choice(self, path: str) -> Choice:
        return self.choices.get(_key(path), self.default)


def _key(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def plan(found: list[tuple[str, str]], skipped: list[str], given: tuple[str, str] | None = None) -> Plan:
    """Each file's version: `given` (text, where) for every file; else the file's own images, the
    compose file that mounts it, the files beside it (advisor.pgversion.neighbourhoods), the newest."""
    if given is not None:
        from advisor.catalogs.pgbouncer import parse_version

        try:
            version = parse_version(given[0])
        except ValueError:
            version = newest()  # (the loader reports the unreadable version)
        return Plan(Choice(version, given[1], "option", fixed=True))
    out = Plan(Choice(newest(), DEFAULT_REASON, "default"))
    if not any(k in ("pgbouncer", "kubernetes") for _, k in found):
        return out  # no file a PgBouncer document comes from: nothing more to read
    from advisor.pgversion import _mounts, _read_head, candidates, neighbourhoods, shown

    holders = [(p, k) for p, k in found if k != "client"]
    items: list[tuple[str, str | None]] = list(holders) + [(p, None) for p in candidates(skipped)]
    evidence: dict[str, list] = {}
    mounted: dict[str, list] = {}
    for path, _ in items:
        name = os.path.basename(path).lower()
        if not name.endswith((".yml", ".yaml", ".json")) and not name.startswith(("dockerfile", "containerfile")):
            continue  # (a pgbouncer.ini names no image)
        try:
            text = _read_head(path).decode("utf-8", "replace")
        except OSError:
            continue
        own = evidence_in(shown(path), text)
        if own:
            evidence[_key(path)] = own
            for target in _mounts(path, text):
                mounted.setdefault(target, []).extend(own)
    if not evidence:
        return out
    for path, _ in holders:
        key = _key(path)
        if key in evidence:
            out.choices[key] = Choice(*decide(evidence[key])[:2], "file", said=decide(evidence[key])[2])
        else:
            via = mounted.get(key) or mounted.get(os.path.dirname(key))
            if via:
                version, reason, said = decide(via, f", which mounts {shown(path)}")
                out.choices[key] = Choice(version, reason, "deployment", said=said)
    for group in neighbourhoods(items):
        pooled = [e for p in group for e in evidence.get(_key(p), ())]
        if not pooled:
            continue
        for path in group:
            key = _key(path)
            if key in out.choices or key in evidence:
                continue
            version, reason, said = decide(pooled, ", beside it")
            out.choices[key] = Choice(version, reason, "neighbourhood", said=said)
    return out


# ------------------------------------------------------------------------------------------------
# what the output says about it

_SOURCE_WORDS = {"option": "given", "file": "by their own evidence", "deployment": "by the file that mounts them",
                 "neighbourhood": "by the files beside them", "default": "by default"}


def version_of(doc) -> dict | None:
    """{version, source, reason} of a PgBouncer document, or None for another kind."""
    if doc.kind != "pgbouncer" or not doc.meta.get("pgbouncer_version"):
        return None
    return {"version": doc.meta["pgbouncer_version"], "source": doc.meta.get("pgbouncer_version_source") or "default",
            "reason": doc.meta.get("pgbouncer_version_reason") or DEFAULT_REASON}


def by_version(docs) -> list[dict]:
    """One entry per version used: {version, files, sources: {source: files}, reasons: [(reason,
    source)]}, the most used first (the newest on a tie)."""
    out: dict[str, dict] = {}
    for doc in docs:
        got = version_of(doc)
        if got is None:
            continue
        entry = out.setdefault(got["version"], {"version": got["version"], "files": set(), "sources": {},
                                                "reasons": {}})
        entry["files"].add(doc.path)
        entry["sources"].setdefault(got["source"], set()).add(doc.path)
        entry["reasons"].setdefault(got["reason"], got["source"])
    rows = [{"version": e["version"], "files": len(e["files"]), "sources": {s: len(f) for s, f in e["sources"].items()},
             "reasons": list(e["reasons"].items())} for e in out.values()]
    rows.sort(key=lambda r: (-r["files"], [-int(x) for x in r["version"].split(".")]))
    return rows


def summary_lines(docs) -> list[str]:
    """`PgBouncer 1.22 assumed (image ... in k8s/deployment.yaml:14, beside it)` when one version and
    one reason cover every PgBouncer document; else a line per version with its file count (the
    plain default first among the examples)."""
    from advisor.pgversion import summary_of

    return summary_of(by_version(docs), "PgBouncer", "version", SOURCES, _SOURCE_WORDS, ("option",),
                      first=lambda r: r != DEFAULT_REASON)
