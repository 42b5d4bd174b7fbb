"""Client configuration files (kind `client`): where applications keep their connection settings.

One kind for every client format; `doc.meta["format"]` says which reader was used and
`doc.model` is an `advisor.model.client.ClientFile` with the normalized endpoints:

| format       | files                                                                 |
|--------------|-----------------------------------------------------------------------|
| `env`        | `.env`, `.env.*`, `*.env`, dotenv-like files                          |
| `yaml`       | docker-compose, Kubernetes manifests, Spring `application*.yml`, app YAML (node-postgres, SQLAlchemy, psycopg_pool, pgx DSNs) |
| `json`       | app JSON (node-postgres options, DSNs)                                 |
| `toml`       | app TOML                                                               |
| `ini`        | `*.ini`/`*.cfg` app configs (`sqlalchemy.url`, URLs)                   |
| `properties` | Spring `application*.properties`, `hikari.properties`                  |
| `django`     | Python settings modules (`DATABASES`), read with `ast`                 |
| `python`     | Python modules creating SQLAlchemy engines / psycopg_pool pools, read with `ast` |
| `javascript` | JavaScript/TypeScript modules constructing node-postgres `Pool`/`Client`, read with tree-sitter |
| `rails`      | Rails `config/database.yml` (ActiveRecord's postgresql adapter)       |
| `service`    | `pg_service.conf`                                                     |
| `text`       | anything else, or a structured file that does not parse (templates): URLs on each line |

`doc.settings` lists the keys pgpath used (passwords as `***`, connection strings redacted), each
with its span; the endpoints hold the typed values. Loading never raises on content: a file that
does not parse becomes a `syntax-error` diagnostic plus the line-by-line URL scan.
"""

from __future__ import annotations

import re

import os

from advisor.loaders.client_detect import format_of
from advisor.loaders.source import read_text
from advisor.loaders.template import is_template, strip_template_suffix
from advisor.model import ConfigDoc, Diagnostic, Span

_SUFFIX_FORMAT = {
    ".yml": "yaml", ".yaml": "yaml", ".json": "json", ".toml": "toml", ".ini": "ini", ".cfg": "ini",
    ".properties": "properties", ".py": "django",
}


def choose_format(path: str, text: str) -> str:
    name = strip_template_suffix(os.path.basename(path)).lower()
    from advisor.loaders.client_detect import rails_database_yml

    if rails_database_yml(name, text):
        return "rails"
    fmt = format_of(name)
    if fmt:
        return fmt
    suffix = os.path.splitext(name)[1]
    if suffix in _SUFFIX_FORMAT:
        return _SUFFIX_FORMAT[suffix]
    from advisor.loaders.client_detect import JS_SUFFIXES

    if suffix in JS_SUFFIXES:
        return "javascript"
    if name.endswith(".conf"):
        return "text"
    from advisor.loaders.client_detect import _ENV_FILE_LINE

    lines = [ln for ln in text.split("\n")[:500] if ln.strip() and not ln.lstrip().startswith("#")]
    if lines and len(_ENV_FILE_LINE.findall("\n".join(lines))) >= max(1, int(len(lines) * 0.8)):
        return "env"
    return "text"


def load(path: str, options: dict | None = None) -> ConfigDoc:
    from advisor.loaders.clients.build import Builder
    from advisor.model.client import ClientFile

    text = read_text(path)
    doc = ConfigDoc(path=path, kind="client")
    doc.files.append(path)
    doc.template = is_template(path, text)
    fmt = (options or {}).get("client_format") or choose_format(path, text)
    b = Builder(template=doc.template, path=path, options=options)
    try:
        endpoints = _read(doc, b, fmt, path, text)
    except RecursionError:  # a reader's own recursion (the readers of the parsed tree) on a nesting past Python's stack
        endpoints = []
        doc.diagnostics.append(Diagnostic("syntax-error", Span(path, 1, 1),
                                          "nested too deeply to read (past Python's recursion limit): no "
                                          "connection setting of this file was read"))
    doc.meta["format"] = doc.meta.get("format", fmt)
    # a value no reader could parse is quoted by its first characters only (it may be a secret)
    from advisor.loaders.clients.strings import short_quotes

    hidden: list[str] = []
    for d in b.diagnostics:
        d.message = short_quotes(d.message, hidden)
    doc.diagnostics.extend(b.diagnostics)
    if b.diagnostics:
        _hide_rejected_values(doc, b.diagnostics, hidden)
    doc.model = ClientFile(doc.meta["format"], endpoints)
    if b.pgx_read() is not None:  # the go.mod that says which pgx reads its DSNs was read for it
        doc.files.extend(f for f in b.pgx_read().files if f not in doc.files)
    if b.pgjdbc_read() is not None:  # the build file that says which pgjdbc reads its JDBC URLs
        doc.files.extend(f for f in b.pgjdbc_read().files if f not in doc.files)
    if any(literal_password(ep) for ep in endpoints):
        # a password written in a file git ignores is kept out of the repository (APP013)
        from advisor.loaders.git_ignored import git_ignores

        doc.meta["_git_ignored"] = git_ignores(path)
    _suppressions(doc, text, path)
    return doc


def literal_password(ep) -> bool:
    """Whether the endpoint's password is written in the file as text (not a placeholder, not empty)."""
    pw = ep.password
    return (pw is not None and pw.origin in ("set", "env") and pw.known and isinstance(pw.value, str)
            and pw.value != "")


def _read(doc: ConfigDoc, b, fmt: str, path: str, text: str):
    from advisor.loaders.clients import tree
    from advisor.loaders.clients.extract import extract, scan_text

    if fmt == "service":
        from advisor.loaders.clients.service import service_endpoints

        return service_endpoints(doc, b, path, text)
    if fmt == "django":
        from advisor.loaders.clients.django import python_endpoints

        return python_endpoints(doc, b, path, text)
    if fmt == "text":
        return scan_text(doc, b, text, path)
    if fmt == "javascript":
        from advisor.loaders.clients.jscode import code_endpoints

        return code_endpoints(doc, b, path, text)
    if fmt == "rails":
        from advisor.loaders.clients.rails import rails_endpoints

        try:
            return rails_endpoints(doc, b, path, text)
        except tree.TreeError as exc:
            if not doc.template:
                doc.diagnostics.append(Diagnostic("syntax-error", exc.span, exc.message))
            doc.meta["format"] = "text"
            return scan_text(doc, b, text, path)
    readers = {
        "env": tree.iter_env_leaves, "yaml": tree.yaml_leaves, "json": tree.json_leaves, "toml": tree.toml_leaves,
        "ini": tree.ini_leaves, "properties": tree.properties_leaves,
    }
    try:
        leaves = readers[fmt](path, text)
    except tree.TreeError as exc:
        if not doc.template:
            doc.diagnostics.append(Diagnostic("syntax-error", exc.span, exc.message))
        doc.meta["format"] = "text"
        return scan_text(doc, b, text, path)
    if fmt == "yaml" and "profile" in text:
        _profile_sections(doc, leaves)
    return extract(doc, leaves, b, env_file=fmt == "env")


_ON_PROFILE = (("spring", "config", "activate", "on-profile"), ("spring", "profiles"))


def _profile_sections(doc: ConfigDoc, leaves: list) -> None:
    """The documents of a multi-document Spring YAML that only a development profile activates
    (`spring.config.activate.on-profile: local`, Boot 2.4+, or the older `spring.profiles: dev`,
    every profile named a development word, none negated): `doc.meta["development_sections"]`,
    the lines of each and why, so that their info findings are held back as a development file's
    are (advisor.development). The profile is the document's own statement of what it is for."""
    from advisor.development import DEVELOPMENT_PROFILES

    lines: dict[str, list[int]] = {}
    profiles: dict[str, tuple[list[str], int]] = {}
    for leaf in leaves:
        if len(leaf.path) < 2 or not leaf.path[0].isdigit() or leaf.key_span.line is None:
            continue  # (a single-document file has no index: its profile is the file's, not a section's)
        lines.setdefault(leaf.path[0], []).append(leaf.key_span.line)
        rest = leaf.path[1:]
        if rest in _ON_PROFILE or (rest[:-1] in _ON_PROFILE and rest[-1].isdigit()):
            if isinstance(leaf.value, str):
                names, at = profiles.get(leaf.path[0], ([], leaf.key_span.line))
                names.extend(p.strip().lower() for p in re.split(r"[|&,\s()]+", leaf.value) if p.strip())
                profiles[leaf.path[0]] = (names, at)
    sections = []
    for index, (names, at) in profiles.items():
        if not names or any(n.startswith("!") or n not in DEVELOPMENT_PROFILES for n in names):
            continue
        span = lines[index]
        shown = ", ".join(dict.fromkeys(names))
        sections.append({"from": min(span), "to": max(span),
                         "reason": f"its Spring profile {shown!r} (line {at}) is for development or tests"})
    if sections:
        doc.meta["development_sections"] = sections


def _hide_rejected_values(doc: ConfigDoc, diagnostics, hidden: list[str]) -> None:
    """A bare value a reader rejected (`DATABASE_URL=<a token>`, `PGSSLMODE=<a key>`) may be a
    secret pasted into the wrong variable: it is kept in `doc.meta["_opaque"]`, which the redaction
    layer (advisor.redact) hides wherever an output would print it (`dump` included). A value that
    is a connection string (it holds `=` or `://`) is not: its passwords are redacted as before,
    and the rejected values inside it (`hidden`: what the messages quote by a prefix only) are."""
    from advisor.loaders.clients.strings import SHORT_QUOTE

    places: dict[int, list] = {}
    for d in diagnostics:
        if d.span.line is not None:
            places.setdefault(d.span.line, []).append(d.span.col or 1)
    opaque = list(hidden)
    for s in doc.settings:
        vs = s.value_span
        if vs is None or vs.line is None or vs.line not in places or not isinstance(s.raw, str):
            continue
        raw = s.raw.strip().strip("'\"").strip()
        if len(raw) <= SHORT_QUOTE or "=" in raw or "://" in raw or s.raw == "***":
            continue
        end = vs.end_col if vs.end_line == vs.line and vs.end_col else 10**9
        if any((vs.col or 1) <= col < end for col in places[vs.line]):
            opaque.append(raw)
    if opaque:
        doc.meta["_opaque"] = opaque


def _suppressions(doc: ConfigDoc, text: str, path: str) -> None:
    """`# pgpath: ignore[APP003] reason` comments (any of `#`, `//`, `;`, `!` comment signs)."""
    if "pgpath" not in text:
        return
    from advisor.loaders.directives import read_comment

    for lineno, line in enumerate(text.split("\n"), start=1):
        if "pgpath" not in line:
            continue
        for sign in ("#", "//", ";", "!"):
            at = line.find(sign)
            if at >= 0 and "pgpath" in line[at:]:
                trailing = bool(line[:at].strip())
                read_comment(doc, line[at + len(sign):], Span(path, lineno, at + 1), trailing=trailing,
                             body_col=at + len(sign) + 1)
                break
