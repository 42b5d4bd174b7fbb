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
