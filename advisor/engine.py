"""The one place where a run is put together.

settings (defaults < pgpath.yaml < command line) -> discover files -> load documents ->
select rules -> run them -> apply severity overrides and suppressions -> sorted `Report`.
Reporters turn the report into text; the CLI only parses arguments and calls `run`.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from pathlib import Path
from typing import Any

from advisor.findings import Finding, RuleInfo, Severity
from advisor.loaders import InputError, LOADERS, detect_kind, link_documents, load_file, name_needs_content, read_text
from advisor.loaders.template import strip_template_suffix
from advisor.model import ConfigDoc, Record, Span

CONFIG_NAMES = ("pgpath.yaml", "pgpath.yml", ".pgpath.yaml")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache"}
SNIFF_SUFFIXES = {"", ".conf", ".cfg", ".ini", ".template", ".tmpl", ".tpl", ".j2", ".erb", ".sample", ".txt",
                  ".yml", ".yaml", ".json", ".toml", ".properties", ".py",  # the last six: client configs
                  ".sql", ".psql", ".pgsql",  # migrations and scripts (ALTER ... SET)
                  ".tf",  # Terraform (cloud JSON and plans are .json)
                  ".service",  # systemd units
                  ".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx",  # node-postgres in code
                  ".crt", ".pem", ".key", ".cer"}  # certificates and keys named by the configurations
SNIFF_MAX_BYTES = 16 * 1024 * 1024  # the loaders' read limit: a large settings module is sniffed whole


class UsageError(Exception):
    """Bad arguments or configuration: exit code 2, with this message."""


class Settings(Record):
    __slots__ = ("paths", "select", "ignore", "severity", "fail_on", "pg_version", "pgbouncer_version", "ram_bytes",
                 "kind", "exclude", "extra", "config_file", "per_file_ignores", "rule_options", "inline_ignores",
                 "baseline", "baseline_stale", "changed", "topology", "pg_version_source",
                 "pgbouncer_version_source", "include_development", "development", "production")

    def __init__(self, paths: list[str] | None = None, select: list[str] | None = None, ignore: list[str] | None = None,
                 severity: dict[str, Severity] | None = None, fail_on: Severity = Severity.WARNING,
                 pg_version: int | None = None, pgbouncer_version: str | None = None, ram_bytes: int | None = None,
                 kind: str | None = None, exclude: list[str] | None = None, extra: dict[str, Any] | None = None,
                 config_file: str | None = None, topology: dict[str, Any] | None = None) -> None:
        self.paths = ["."] if paths is None else paths
        self.select = ["ALL"] if select is None else select
        self.ignore = [] if ignore is None else ignore
        self.severity = {} if severity is None else severity
        self.fail_on = fail_on
        self.pg_version = pg_version
        self.pgbouncer_version = pgbouncer_version
        self.ram_bytes = ram_bytes
        self.kind = kind
        self.exclude = [] if exclude is None else exclude
        self.extra = {} if extra is None else extra
        self.config_file = config_file
        self.per_file_ignores: list[tuple[str, str, list[str]]] = []  # (absolute glob, glob as written, rules)
        self.rule_options: dict[str, dict[str, Any]] = {}  # {"MEM001": {"safe-share": 0.7}}
        self.inline_ignores = True  # False: --no-inline-ignores
        self.baseline: str | None = None  # --baseline FILE
        self.baseline_stale = False  # --baseline-stale: stale baseline entries fail the run
        self.changed: list[str] | None = None  # --hook: only findings touching these files
        self.topology = {} if topology is None else topology  # deployments: and hosts: of pgpath.yaml
        # why pg_version is what it is: None = not given, so `run` infers it from the files
        self.pg_version_source: str | None = None
        # why pgbouncer_version is what it is: None = not given, so `run` reads it from the images
        self.pgbouncer_version_source: str | None = None
        # info findings on files for development or tests (advisor.development): reported, or held back
        self.include_development = False
        # pgpath.yaml's development: (such files) and production: (never such files), as
        # (absolute glob, glob as written), matched as per-file-ignores are
        self.development: list[tuple[str, str]] = []
        self.production: list[tuple[str, str]] = []


class Report(Record):
    """Everything reporters turn into output: the findings, the documents read, unreadable
    inputs, the settings of the run, and `rules` (a RuleInfo for every rule that ran or has a
    finding: code, name, effective severity, summary, documentation, help URI), so no reporter
    imports a rule; `paths` the assembled connection paths (advisor.path.DeploymentPath)."""

    __slots__ = ("findings", "docs", "input_errors", "settings", "rules", "skipped", "baselined", "stale", "paths",
                 "scope", "held_back")

    def __init__(self, findings: list[Finding], docs: list[ConfigDoc], input_errors: list[InputError],
                 settings: Settings, rules: list[RuleInfo] | None = None, skipped: list[str] | None = None,
                 paths: list | None = None) -> None:
        self.findings = findings
        self.docs = docs
        self.input_errors = input_errors
        self.settings = settings
        self.rules = [] if rules is None else rules
        self.skipped = [] if skipped is None else skipped  # files in the folders walked that pgpath does not read
        self.baselined = 0  # findings dropped because the baseline records them
        self.stale: list = []  # baseline entries no finding matched (advisor.baseline.Stale)
        self.paths = [] if paths is None else paths  # advisor.path.DeploymentPath, in assembly order
        # real paths of the files reported on (--hook's changed files; the checked paths' files when
        # the topology made more be read), None for every file read
        self.scope: set[str] | None = None
        # info findings not reported because their file is for development or tests, by file:
        # advisor.development.HeldBack (file, why, codes, count)
        self.held_back: list = []

    @property
    def exit_code(self) -> int:
        if self.input_errors:
            return 2
        if any(f.severity >= self.settings.fail_on for f in self.findings):
            return 1
        if self.stale and self.settings.baseline_stale:
            return 1
        return 0

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for f in self.findings:
            out[str(f.severity)] += 1
        return out


# ------------------------------------------------------------------------------------------------
# settings


def find_config(start: str = ".") -> str | None:
    """The nearest settings file: in the current directory, then each parent up to the
    repository root, `pgpath.yaml` (`pgpath.yml`, `.pgpath.yaml`) or a `pyproject.toml` with a
    `[tool.pgpath]` table; in one folder pgpath.yaml wins over pyproject.toml. A pyproject.toml
    without the table is passed by (its text is searched, TOML is parsed only when it has one)."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return _relative(candidate)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_pgpath_table(pyproject):
            return _relative(pyproject)
        if (folder / ".git").exists():
            break
    return None


def _config_of_checked(paths) -> str | None:
    """When the working directory has no settings file above it: the one nearest to the paths
    given (`pgpath check services/a` from a folder outside the repository), if they all share it."""
    folders = {p if os.path.isdir(p) else (os.path.dirname(p) or ".") for p in paths or ()
               if isinstance(p, str) and os.path.exists(p)}
    found = {find_config(folder) for folder in folders}
    return found.pop() if len(found) == 1 else None


def _relative(path: Path) -> str:
    """The settings file as a path relative to the working directory (`pgpath.yaml`,
    `../pgpath.yaml`): the files it names are joined to its folder, and every report shows them,
    so an absolute path of this machine would reach the output."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)


def _has_pgpath_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(r"^\s*\[+\s*[\"']?tool[\"']?\s*\.\s*[\"']?pgpath\b|^\s*tool\s*\.\s*pgpath\b", text, re.M) is not None


def read_config(path: str) -> dict[str, Any]:
    """pgpath.yaml, or `[tool.pgpath]` of a pyproject.toml (or any .toml file), validated
    against schemas/pgpath.schema.json; a problem is a UsageError naming the file and key.

    A configuration validated once is remembered (advisor.config_cache): a pre-commit run with
    the same pgpath.yaml then imports neither yaml nor jsonschema (about 60-80 ms of its start)."""
    from advisor import config_cache

    try:
        text = read_text(path)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    toml = path.endswith(".toml")
    remembered = config_cache.recall(text, toml)
    if remembered is not None:
        return remembered["data"]
    data = _read_config_text(path, text)
    marks = config_marks(path, text) if isinstance(data, dict) and data.get("deployments") and not toml else None
    config_cache.remember(text, toml, data, marks)
    return data


def _read_config_text(path: str, text: str) -> dict[str, Any]:
    if path.endswith(".toml"):
        data, where = _read_toml(path, text), f"{path}: [tool.pgpath]"
    else:
        data, where = _read_yaml(path, text), path
    if data is None:
        return {}
    from advisor.schemas import first_error

    try:
        problem = first_error(data, "pgpath.schema.json")
    except RecursionError:
        problem = ((), "nested too deeply")
    if problem:
        keys, message = problem
        key = "/".join(str(k) for k in keys) or "(top level)"
        if path.endswith(".toml"):
            raise UsageError(f"{where} at {key}: {message}")
        span = config_marks(path, text).get(key)
        where = f"{path}:{span.line}:{span.col}" if span is not None else path
        raise UsageError(f"{where}: at {key}: {message}")
    return data


def _read_yaml(path: str, text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_config_loader(yaml))  # noqa: S506 - a SafeLoader without aliases
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise UsageError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    except (RecursionError, MemoryError):
        raise UsageError(f"{path}: invalid YAML: nested too deeply") from None


def _read_toml(path: str, text: str) -> Any:
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise UsageError(f"{path}: invalid TOML: nested too deeply") from None
    tool = data.get("tool")
    if not isinstance(tool, dict) or "pgpath" not in tool:
        raise UsageError(f"{path}: no [tool.pgpath] table")
    nul = _nul_key(tool["pgpath"])
    if nul:
        raise UsageError(f"{path}: [tool.pgpath] at {nul}: {_NUL_IN_CONFIG.replace('pgpath.yaml', 'it')}")
    return tool["pgpath"]


def config_marks(path: str, text: str | None = None, limit: int = 20_000) -> dict[str, Span]:
    """Where each key path of a YAML configuration (`deployments/0/hops/2`) was written.

    Walks the composed node tree (aliases are not expanded: a shared node is visited once), at
    most `limit` nodes; the marks of a configuration read before come from advisor.config_cache."""
    if path.endswith(".toml"):
        return {}  # (a YAML walk of TOML text marks nothing, and would import PyYAML on every run)
    if text is None:
        from advisor import config_cache

        text = read_text(path)
        remembered = config_cache.recall(text, path.endswith(".toml"))
        if remembered is not None and remembered.get("marks") is not None:
            return {key: Span(path, line, col) for key, (line, col) in remembered["marks"].items()}
    return _marks(path, text, limit)


@functools.lru_cache(maxsize=4)
def _marks(path: str, text: str, limit: int) -> dict[str, Span]:
    """config_marks' walk, once per text in a run (read_config and the topology both ask; the
    result is only read)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    marks: dict[str, Span] = {}
    seen: set[int] = set()
    stack = [("", root)]
    while stack and len(seen) < limit:
        key, node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if key and key not in marks:
            m = node.start_mark
            marks[key] = Span(path, m.line + 1, m.column + 1)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                child = f"{key}/{k.value}" if key else str(k.value)
                stack.append((child, v))
                if child not in marks:
                    km = k.start_mark
                    marks[child] = Span(path, km.line + 1, km.column + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                stack.append((f"{key}/{i}" if key else str(i), v))
    return marks


_NUL_IN_CONFIG = "a NUL character (\\0) in a string: pgpath.yaml names files, hosts and patterns, which cannot hold one"


def _nul_key(data: Any, key: str = "") -> str | None:
    """The key path of the first string holding a NUL character in TOML settings, else None."""
    if isinstance(data, str):
        return key or "(top level)" if "\0" in data else None
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        if isinstance(k, str) and "\0" in k:
            return f"{key}/{k}" if key else k
        found = _nul_key(v, f"{key}/{k}" if key else str(k))
        if found:
            return found
    return None


def _config_loader(yaml):
    """yaml.SafeLoader that refuses aliases: pgpath.yaml needs none, and ten aliases of ten
    aliases of ... (a 400-byte file) expand to 10^9 values for the schema check to walk."""

    class ConfigLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not supported in pgpath.yaml; "
                                                  "write the value out", event.start_mark)
            return super().compose_node(parent, index)

        def construct_yaml_int(self, node):
            # Python converts at most 4300 digits (a ValueError that no YAMLError handler catches)
            if len(node.value) > 4000:
                raise yaml.constructor.ConstructorError(
                    None, None, f"a number of {len(node.value)} digits (pgpath reads up to 4000)", node.start_mark)
            return super().construct_yaml_int(node)

        def construct_yaml_str(self, node):
            value = super().construct_yaml_str(node)
            if "\0" in value:  # ("\0" in YAML): os functions refuse it in a path (a ValueError)
                raise yaml.constructor.ConstructorError(None, None, _NUL_IN_CONFIG, node.start_mark)
            return value

    ConfigLoader.add_constructor("tag:yaml.org,2002:int", ConfigLoader.construct_yaml_int)
    ConfigLoader.add_constructor("tag:yaml.org,2002:str", ConfigLoader.construct_yaml_str)
    return ConfigLoader


def make_settings(cli: dict[str, Any], config_path: str | None = None, use_config: bool = True) -> Settings:
    """Settings from defaults, then pgpath.yaml, then the command line (None = not given)."""
    from advisor.catalog import parse_pg_version
    from advisor.units import parse_size

    settings = Settings()
    merged: dict[str, Any] = {}
    path = config_path or (find_config() or _config_of_checked(cli.get("paths")) if use_config else None)
    if config_path and not os.path.isfile(config_path):
        raise UsageError(f"{config_path}: no such configuration file")
    if path:
        merged.update({k.replace("-", "_"): v for k, v in read_config(path).items()})
        base = os.path.dirname(path)
        if "paths" in merged:
            merged["paths"] = [p if os.path.isabs(p) else os.path.join(base, p) for p in merged["paths"]]
        settings.config_file = path
    merged.update({k: v for k, v in cli.items() if v is not None and v != []})

    if "paths" in merged:
        settings.paths = list(merged["paths"])
    if "select" in merged:
        settings.select = _split(merged["select"])
    if "ignore" in merged:
        settings.ignore = _split(merged["ignore"])
    if "extend_ignore" in merged:
        settings.ignore += _split(merged["extend_ignore"])
    try:
        if merged.get("fail_on"):
            settings.fail_on = Severity.parse(str(merged["fail_on"]))
        for code, level in (merged.get("severity") or {}).items():
            settings.severity[code.upper()] = Severity.parse(str(level))
        settings.pg_version = parse_pg_version(merged.get("pg_version"))
        if merged.get("pg_version") not in (None, ""):
            given_on_cli = cli.get("pg_version") not in (None, "")
            settings.pg_version_source = "given with --pg-version" if given_on_cli else (
                f"pg_version in {os.path.basename(path) if path else 'pgpath.yaml'}")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if merged.get("pgbouncer_version"):
        settings.pgbouncer_version = str(merged["pgbouncer_version"])
        settings.pgbouncer_version_source = "given with --pgbouncer-version" if cli.get("pgbouncer_version") else (
            f"pgbouncer-version in {os.path.basename(path) if path else 'pgpath.yaml'}")
    if merged.get("ram") is not None:
        ram = parse_size(str(merged["ram"]))
        if not ram:
            raise UsageError(f"cannot read RAM size {_shorten(str(merged['ram']))!r} (write e.g. 64GB; at most 1 EiB)")
        settings.ram_bytes = ram
    if merged.get("kind"):
        if merged["kind"] not in LOADERS:
            raise UsageError(f"unknown kind {merged['kind']!r} (choose one of {', '.join(LOADERS)})")
        settings.kind = merged["kind"]
    for key in ("deployments", "hosts"):
        if merged.get(key):
            settings.topology[key] = merged[key]
    settings.exclude = list(merged.get("exclude") or [])
    base = os.path.dirname(path) if path else "."
    for pattern, codes in (merged.get("per_file_ignores") or {}).items():
        settings.per_file_ignores.append((os.path.join(os.path.abspath(base), pattern), pattern, _split(codes)))
    settings.rule_options = {code.upper(): dict(opts) for code, opts in (merged.get("rule_options") or {}).items()}
    settings.include_development = bool(merged.get("include_development"))
    for key in ("development", "production"):
        setattr(settings, key, [(os.path.join(os.path.abspath(base), p), p) for p in _split(merged.get(key) or [])])
    settings.extra = dict(merged.get("extra") or {})
    for key in ("haproxy_binary", "cert_warn_days", "now", "cloud", "rule_docs_url"):
        if merged.get(key) is not None:
            settings.extra[key] = merged[key]
    if settings.extra.get("cloud") not in (None, *CLOUDS):
        raise UsageError(f"cloud must be one of {', '.join(CLOUDS)}, not {settings.extra['cloud']!r}")
    docs_url = settings.extra.get("rule_docs_url")
    if docs_url is not None and (not isinstance(docs_url, str) or "{code}" not in docs_url):
        raise UsageError(f"rule-docs-url must be a URL with {{code}} where the rule code goes "
                         f"(e.g. https://example.org/pgpath/rules/{{code}}.html), not {_shorten(str(docs_url))!r}")
    if "cert_warn_days" in settings.extra:
        days = settings.extra["cert_warn_days"]
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise UsageError(f"cert-warn-days must be a whole number of days >= 0, not {days!r}")
    from advisor.rules import find_entry

    pfi_codes = [c for _, _, codes in settings.per_file_ignores for c in codes]
    for code in settings.select + settings.ignore + list(settings.severity) + pfi_codes + list(settings.rule_options):
        if code.upper() != "ALL" and not _is_family(code) and find_entry(code) is None:
            raise UsageError(f"unknown rule {code!r} (see `pgpath rules`)")
    return settings


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _split(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    out: list[str] = []
    for item in value:
        out.extend(part.strip() for part in str(item).split(",") if part.strip())
    return out


def _is_family(text: str) -> bool:
    from advisor.rules import RULE_ENTRIES

    return any(_family(e.code) == text.upper() for e in RULE_ENTRIES)


def _family(code: str) -> str:
    return re.sub(r"\d+$", "", code)


def _matches(rule, patterns: list[str], named_only: bool = False) -> bool:  # rule: a RuleEntry
    """Whether a pattern names the rule: ALL, its family, its code or its name; with `named_only`,
    only its code or name."""
    for p in patterns:
        up = p.upper()
        if up == rule.code or p.lower() == rule.name:
            return True
        if not named_only and (up == "ALL" or up == _family(rule.code)):
            return True
    return False


def selected_rules(settings: Settings):
    """The entries (advisor.rules.RuleEntry) of the rules to run; no rule module is imported. An
    opt-in rule runs only when --select (select:) names it by code or name."""
    from advisor.rules import RULE_ENTRIES

    return [e for e in RULE_ENTRIES
            if _matches(e, settings.select, named_only=e.opt_in) and not _matches(e, settings.ignore)]


# ------------------------------------------------------------------------------------------------
# discovery and loading


def discover(settings: Settings, skipped: list[str] | None = None, only: set[int] | None = None,
             links: list[str] | None = None) -> tuple[list[tuple[str, str]], list[str], list[InputError]]:
    """(path, kind) of each configuration file under the given paths, the files named on the
    command line that pgpath cannot read as any kind, and paths that do not exist. Files in the
    folders walked that are no configuration pgpath reads are added to `skipped` when given, and
    the symbolic links to folders that the walk does not follow (as advisor.changed does not: a
    link may loop, or lead out of the repository) to `links`.
    `only`: the topology's deployments whose files are read (None: all of them)."""
    found: list[tuple[str, str]] = []
    unknown: list[str] = []
    errors: list[InputError] = []
    if settings.topology.get("deployments") and settings.config_file:
        from advisor.path.topology import deployment_files

        groups = deployment_files(settings.topology["deployments"], os.path.dirname(settings.config_file))
        for path, kind in [f for d, group in enumerate(groups) if only is None or d in only for f in group]:
            if os.path.exists(path):
                # a compose file, manifest, Ansible variables, Terraform or cloud JSON holds the
                # hop's configuration among others: its own loader reads it, not the hop kind's
                # (only such names can be one: a hop of a given kind naming another file is not read
                # to find out)
                holder = not kind or strip_template_suffix(os.path.basename(path)).lower().endswith(_HOLDER_SUFFIXES)
                detected = _kind_of(path, sniff=True, explicit=True) if holder else None
                found.append((path, detected if detected in HOLDERS else kind or detected or "client"))
    from advisor.pgversion import shown

    for given in map(shown, settings.paths):
        if not os.path.exists(given):
            from advisor.loaders.source import link_problem

            errors.append(InputError(given, link_problem(given) or "no such file or directory"))
            continue
        if os.path.isdir(given):
            for root, dirs, files in os.walk(given):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                if links is not None:
                    links.extend(os.path.join(root, d) for d in dirs if os.path.islink(os.path.join(root, d)))
                for name in sorted(files):
                    path = os.path.join(root, name)
                    if _excluded(path, settings):
                        continue
                    kind = _kind_of(path, sniff=True)
                    if kind:
                        found.append((path, kind))
                    elif skipped is not None and name not in CONFIG_NAMES:  # pgpath's own settings are read
                        skipped.append(path)
            continue
        # a file named on the command line is always read: as its kind, or else as `text`
        # (scanned for connection strings; advisor/loaders/text_file.py)
        kind = settings.kind or _kind_of(given, sniff=True, explicit=True) or "text"
        found.append((given, kind))
    return found, unknown, errors


def discover_changed(settings: Settings, unread: list[str] | None = None, related=None
                     ) -> tuple[list[tuple[str, str]], set[str], Any]:
    """--hook: the files to read for a list of changed files, and the real paths of the changed
    files. A changed file pgpath does not recognise (or that no longer exists, or is excluded) is
    skipped quietly; it and the others bring the files a check of the whole repository (the folder
    pgpath runs in) links them with (advisor.changed.Related: their groups, and those they name
    or are named by; `related`, when given, is the one to use, after its `more`), and the
    topology's deployment of a changed file."""
    from advisor.changed import Related

    changed: list[tuple[str, str]] = []
    others: list[str] = []
    for path in settings.changed or ():
        if not os.path.isfile(path) or _excluded(path, settings):
            continue
        kind = settings.kind or _kind_of(path, sniff=True)
        if kind:
            changed.append((path, kind))
        else:
            others.append(path)  # (a file another one includes or mounts: findings of that one touch it)
    if related is None and (changed or others):
        related = Related(lambda p: _kind_of(p, sniff=True), lambda p: _excluded(p, settings), SKIP_DIRS,
                          CONFIG_NAMES)
        related.add([os.path.dirname(os.path.abspath(p)) for p, _ in changed])
        if others:
            related.add(related.referrers(others, []))
    candidates: list[tuple[str, str]] = []
    if related is not None:
        candidates, evidence = related.files()
        if unread is not None:
            unread.extend(evidence)  # (a Dockerfile in the group: its image says the major, as in a full run)
    if settings.topology.get("deployments") and settings.config_file:
        from advisor.path.topology import deployment_files

        wanted = {os.path.realpath(p) for p, _ in changed}
        for group in deployment_files(settings.topology["deployments"], os.path.dirname(settings.config_file)):
            if wanted & {os.path.realpath(p) for p, _ in group}:
                candidates.extend((p, k or _kind_of(p, sniff=True, explicit=True) or "client")
                                  for p, k in group if os.path.isfile(p))
    chosen: dict[str, tuple[str, str]] = {}
    given = {os.path.realpath(p): (p, k) for p, k in changed}
    for path, kind in candidates + changed:
        real = os.path.realpath(path)
        chosen.setdefault(real, given.get(real, (path, kind)))
    return list(chosen.values()), set(given) | {os.path.realpath(p) for p in others}, related


def _under(real: str, roots: list[str]) -> bool:
    from advisor.model import within

    return any(within(real, r) for r in roots)


def _narrowed(settings: Settings) -> tuple[list[str], set[int]] | None:
    """When only part of the topology's tree is checked (`pgpath check services/a`): the real paths
    checked, and the indexes of the deployments with a file under them (only theirs are read, as
    --hook reads the changed files' deployments). None without a topology, or when its folder is
    checked (every deployment is read, and all it names is reported, wherever it is)."""
    if not (settings.topology.get("deployments") and settings.config_file):
        return None
    roots = [os.path.realpath(p) for p in settings.paths]
    if _under(os.path.realpath(os.path.dirname(os.path.abspath(settings.config_file))), roots):
        return None
    from advisor.path.topology import deployment_files

    groups = deployment_files(settings.topology["deployments"], os.path.dirname(settings.config_file))
    return roots, {d for d, group in enumerate(groups) if any(_under(os.path.realpath(p), roots) for p, _ in group)}


def _in_other_deployment(finding: Finding, settings: Settings, marks: dict, relevant: set[int]) -> bool:
    """A finding in the settings file within a deployment not checked (its topology errors: its
    files were not read)."""
    if os.path.realpath(finding.span.file) != os.path.realpath(settings.config_file) or not finding.span.line:
        return False
    starts = sorted((m.line, d) for d in range(len(settings.topology["deployments"]))
                    if (m := marks.get(f"deployments/{d}")) is not None and m.line)
    inside = [d for line, d in starts if line <= finding.span.line]
    return bool(inside) and inside[-1] not in relevant


def _checked(settings: Settings, found: list[tuple[str, str]], roots: list[str]) -> set[str] | None:
    """The real paths of the files under the paths checked, and of the settings file, when the
    files read reach outside them (a checked deployment's file elsewhere): a finding is reported
    only where it concerns a checked file, as --hook reports only the changed files'."""
    reals = real_paths([p for p, _ in found])
    if all(_under(r, roots) for r in reals):
        return None
    return {r for r in reals if _under(r, roots)} | {os.path.realpath(settings.config_file)}


def touches(finding: Finding, files: set[str]) -> bool:
    """Whether a finding's place or one of its related places is in one of these (real) paths."""
    return any(os.path.realpath(s.file) in files for s in (finding.span, *finding.related))


def _excluded(path: str, settings: Settings) -> bool:
    return any(_fnmatch(path, pattern) or _fnmatch(os.path.basename(path), pattern) for pattern in settings.exclude)


def _fnmatch(name: str, pattern: str) -> bool:
    """fnmatch.fnmatch(name, pattern), without compiling a regular expression (fnmatch's
    translation, ~0.05 ms a pattern on every run) for the usual exclude patterns: a literal, or a
    literal followed by one `*` (`./tests/*`: any name that starts with `./tests/`)."""
    star = pattern.endswith("*")
    head = pattern[:-1] if star else pattern
    if "*" in head or "?" in head or "[" in head:
        return fnmatch.fnmatch(name, pattern)
    name, head = os.path.normcase(name), os.path.normcase(head)  # as fnmatch.fnmatch does
    return name.startswith(head) if star else name == head


# `cloud:` (--cloud): the cloud whose load balancer a Kubernetes Service of type LoadBalancer gets
# when no annotation says (advisor.loaders.infra_yaml._lb_kind)
CLOUDS = ("aws", "azure", "gcp")

# loader kinds of files that hold configurations of several kinds (a compose file's PostgreSQL,
# PgBouncer and application services): a topology hop names such a file, its loader reads it
HOLDERS = ("kubernetes", "terraform", "cloud")
# the only names their detectors take (advisor.loaders.infra_detect.detect_yaml, _detect_cloud)
_HOLDER_SUFFIXES = (".yml", ".yaml", ".json", ".tf")


def _kind_of(path: str, sniff: bool, explicit: bool = False) -> str | None:
    kind = detect_kind(path)
    if kind == "postgresql" and name_needs_content(path):
        try:
            return detect_kind(path, read_text(path)) if os.path.getsize(path) <= SNIFF_MAX_BYTES else kind
        except (InputError, OSError):
            return kind
    if kind or not sniff:
        return kind
    suffix = Path(path).suffix.lower()
    if not explicit and suffix not in SNIFF_SUFFIXES:
        return None
    try:
        text = read_text(path)  # (up to the 16 MiB every loader reads: a large settings module is sniffed too)
    except InputError:
        # a file the loaders refuse (over the read limit, a NUL byte, UTF-16) is sniffed from its
        # head all the same: one of a kind pgpath reads goes to its loader, which says why it
        # cannot be read (exit 2), where it was skipped as "Terraform without any resource"
        text = _refused_head(path, suffix)
        if text is None:
            return None
    except OSError:
        return None
    return detect_kind(path, text)


_SNIFF_HEAD = 2_000_000  # what the detectors look at, at most (advisor.loaders.infra_detect.detect_yaml)


def _refused_head(path: str, suffix: str) -> str | None:
    """The first 2 MB of a regular file that read_text refused, as text for the detectors:
    decoded as UTF-16/32 after such a byte order mark (a Windows PowerShell `>` writes UTF-16),
    else byte for byte. None for a file without a suffix that is not UTF-16 (a program or data
    file is no configuration however its strings read) and for what is not a regular file."""
    from advisor.loaders.source import read_head

    try:
        if not os.path.isfile(path):
            return None  # a FIFO or device would block
        data = read_head(path, _SNIFF_HEAD, _SNIFF_HEAD)
    except OSError:
        return None
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return data[:len(data) // 4 * 4].decode("utf-32", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data[:len(data) // 2 * 2].decode("utf-16", "replace")
    return data.decode("latin-1") if suffix else None


def load_documents(settings: Settings, found: list[tuple[str, str]], progress=None, plan=None, pgb_plan=None
                   ) -> tuple[list[ConfigDoc], list[InputError]]:
    """Load each file; `plan` (advisor.pgversion.Plan) gives each file its PostgreSQL major,
    `pgb_plan` (advisor.pgbversion.Plan) its PgBouncer version."""
    options: dict[str, Any] = {"pg_major": settings.pg_version, "pgbouncer_version": settings.pgbouncer_version,
                               # include targets outside these were made at deploy time (a warning if missing)
                               "check_roots": [p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p))
                                               for p in settings.paths]
                               # --hook: as a check of the folder pgpath runs in (pre-commit: the repository)
                               if settings.changed is None else [os.path.abspath(".")]}
    options.update(settings.extra)
    # folder -> listing, kept for this run only (files do not change while it reads them): the
    # HAProxy loader lists a file's folder for its numbered siblings, once per folder, not per file
    options["folder_listings"] = {}
    # folder -> the pgx major its go.mod names (advisor.loaders.clients.gomod), for this run only
    options["go_modules"] = {}
    options["java_builds"] = {}  # folder -> the pgjdbc version its Java build names (loaders.clients.jdbcversion)
    options["ruby_locks"] = {}  # folder -> the activerecord its Gemfile.lock names (loaders.clients.gemlock)
    # Kubernetes workloads that mount a ConfigMap or run a PgBouncer, for link_documents to tie to
    # another file of their folder (the Kubernetes loader adds them; a per-file copy of the options
    # shares these lists)
    options["workloads"] = []
    options["autoscalers"] = []  # and the HorizontalPodAutoscalers that scale them
    options["services"] = []  # and the Services that select their pods (a client names them)
    # compose services built from a folder of the run (infra_yaml._compose_build), for
    # advisor.loaders.clients.rails_build to tie a Rails application there to their containers
    options["compose_builds"] = []
    # compose services that read a dotenv file (`env_file:`), for advisor.loaders.clients.env_join
    options["env_file_services"] = []
    # compose services an override file merges over its folder's base file: (real base path,
    # service), whose base-only documents link_documents drops; and each base file read once
    options["compose_merged"] = []
    options["compose_bases"] = {}
    options["ansible_projects"] = {}  # project folder -> its variables (loaders.ansible_vars), read once
    docs: list[ConfigDoc] = []
    errors: list[InputError] = []
    # Files are loaded kind by kind (each kind's files in the order found), and their documents
    # and errors are then put back in the order found: one loader's code and data stay warm in
    # the processor's caches (a fleet of 10,000 files of four kinds, one folder per deployment,
    # loaded about a quarter faster grouped than interleaved). Loading a file does not depend on
    # the files loaded before it (the run's folder listings are a cache of the file system).
    results: list[Any] = [None] * len(found)
    for n, i in enumerate(sorted(range(len(found)), key=lambda k: found[k][1] or "")):
        path, kind = found[i]
        if progress is not None:
            progress(n, len(found), path)
        choice = None
        file_options = options
        if plan is not None:
            choice = plan.choice(path)
            # (a copy per file: a loader may keep its options until link_documents)
            file_options = {**options, "pg_major": choice.major, "pg_major_fixed": choice.fixed}
        pgb_choice = None
        if pgb_plan is not None:
            pgb_choice = pgb_plan.choice(path)
            # (a given version as written: the loader reports one it cannot read)
            file_options = {**file_options, "pgbouncer_version": settings.pgbouncer_version if pgb_choice.fixed
                            else f"{pgb_choice.version[0]}.{pgb_choice.version[1]}",
                            "pgbouncer_version_fixed": pgb_choice.fixed}
        try:
            loaded = load_file(path, kind, file_options)
        except InputError as exc:
            results[i] = exc
            continue
        # a loader returns one document, or several when one file holds several configurations
        # (a Kubernetes manifest with a Cluster and a Pooler, a Terraform file with an LB and a DB)
        if not isinstance(loaded, list):
            loaded = [loaded]
        if choice is not None:
            for doc in loaded:
                _record_version(doc, choice)
        if pgb_choice is not None:
            for doc in loaded:
                _record_pgbouncer_version(doc, pgb_choice)
        results[i] = loaded
    for result in results:
        if isinstance(result, InputError):
            errors.append(result)
        else:
            docs.extend(result)
    docs = link_documents(docs, options)
    if any(d.kind in ("postgresql", "pgbouncer") for d in docs):
        from advisor.loaders.key_files import mark_unread_keys

        mark_unread_keys(docs, options)  # keys named beside a certificate in the tree but absent: notices
    if plan is not None:
        for doc in docs:  # (documents built again once the run's other files are known)
            if "pg_version" in doc.meta and "pg_version_source" not in doc.meta:
                _record_version(doc, plan.choice(doc.path))
    # a file another document read as an include is checked as part of that document
    # (nothing to drop, and no path to resolve, when no document read a second file)
    # (not the compose file or manifest of a container that mounts a document's file: advisor.loaders.mounts)
    included = set(real_paths([f for d in docs for f in d.files[1:] if f not in d.meta.get("_also_read", ())]))
    if included:
        docs = [d for d, real in zip(docs, real_paths([d.path for d in docs])) if real not in included]
    return docs, errors


def _record_version(doc: ConfigDoc, choice) -> None:
    """doc.meta pg_version_source/pg_version_reason: why the document was typed with its major.
    A loader that read a version in the file itself for one of its documents (a manifest with
    two clusters on different images) says so in meta `pg_version_found`."""
    if "pg_version" not in doc.meta:
        return
    if doc.meta["pg_version"] == choice.major or choice.fixed:
        doc.meta["pg_version_source"] = choice.source
        doc.meta["pg_version_reason"] = choice.reason
    else:
        doc.meta["pg_version_source"] = "file"
        doc.meta["pg_version_reason"] = doc.meta.get("pg_version_found") or (
            f"the version written in {doc.path} for this configuration")
    if choice.said is not None and choice.said < doc.meta["pg_version"] == choice.major:
        # the files are for PostgreSQL 13, checked with 14 (the oldest catalog): PG001 does not
        # report a parameter 13 still had; `pgpath init` writes 13 down as the hop's version
        doc.meta["pg_version_said"] = choice.said


def _record_pgbouncer_version(doc: ConfigDoc, choice) -> None:
    """doc.meta pgbouncer_version_source/_reason: why a PgBouncer document was checked as its
    version; a loader that read the document's own image (advisor.pgbversion) said so already."""
    if doc.kind != "pgbouncer" or "pgbouncer_version_source" in doc.meta:
        return
    doc.meta["pgbouncer_version_source"] = choice.source
    doc.meta["pgbouncer_version_reason"] = choice.reason


def real_paths(paths: list[str]) -> list[str]:
    """os.path.realpath of each path, resolving each folder once.

    realpath checks every component of a path (an lstat each); for 10,000 files in a few
    folders that is most of the calls. realpath(folder/name) is realpath(folder) joined with
    name unless name is itself a symbolic link (then it is resolved from the folder's real path,
    as realpath does). A path with a `..` is resolved whole: `..` after a symbolic link leaves
    the link's target, which abspath (used here to find the folder) would not know; so is a path
    whose folder does not resolve to an existing directory (missing, or a symbolic link loop,
    where realpath gives back a partly resolved path that depends on what follows)."""
    folders: dict[str, str] = {}
    resolved_folders: dict[str, str] = {}
    out = []
    for path in paths:
        if ".." in path.split(os.sep):
            out.append(os.path.realpath(path))
            continue
        folder, name = os.path.split(os.path.abspath(path))
        real_folder = folders.get(folder)
        if real_folder is None:
            resolved = _resolve_folder(folder, resolved_folders)
            real_folder = folders[folder] = resolved if os.path.isdir(resolved) else ""
        if not real_folder:
            out.append(os.path.realpath(path))
            continue
        full = os.path.join(real_folder, name)
        out.append(os.path.realpath(full) if os.path.islink(full) else full)
    return out


def _resolve_folder(folder: str, resolved: dict[str, str]) -> str:
    """os.path.realpath of an absolute, normalised folder, resolving each parent once: the real
    path of the parent joined with the name, resolved further only when the name is a symbolic
    link (2,500 deployment folders under one fleet folder: one lstat each instead of one per
    component). What it gives for a folder that does not resolve to a directory does not matter:
    real_paths then resolves the whole path."""
    chain = []  # (folder, name) from `folder` up to the nearest one resolved already
    current = folder
    while current not in resolved:
        parent, name = os.path.split(current)
        if not name or parent == current:  # the root
            resolved[current] = os.path.realpath(current)
            break
        chain.append((current, name))
        current = parent
    real = resolved[current]
    for current, name in reversed(chain):
        full = os.path.join(real, name)
        real = resolved[current] = os.path.realpath(full) if os.path.islink(full) else full
    return resolved[folder]


# ------------------------------------------------------------------------------------------------
# the run


def run(settings: Settings, progress=None) -> Report:
    """One run. `progress(done, total, label)` (optional) is called before each file is loaded
    and once with label None when the files are read (the CLI draws a bar from it)."""
    from advisor.rules import Context, load_rule, needs_met

    skipped: list[str] = []
    links: list[str] = []  # linked folders not followed: listed with the skipped files (after the version plan reads those)
    changed: set[str] | None = None
    evidence_only: list[str] = []  # --hook: files beside the changed ones that only say a version
    narrowed = None
    related = None  # --hook: advisor.changed.Related, the groups in reach of the changed files
    if settings.changed is not None:
        found, changed, related = discover_changed(settings, evidence_only)
        unknown, errors = [], []
    else:
        narrowed = _narrowed(settings)
        found, unknown, errors = discover(settings, skipped, narrowed[1] if narrowed else None, links)
    for path in unknown:
        from advisor.loaders import skip_reason

        errors.append(InputError(path, f"not a configuration file pgpath recognises ({skip_reason(path)}); name its "
                                       f"kind with --kind ({', '.join(LOADERS)})"))
    marks = config_marks(settings.config_file) if settings.topology.get("deployments") and settings.config_file \
        else {}
    while True:
        found = _unique(found)
        docs, load_errors, paths, topology_problems = _read(settings, found, skipped + evidence_only, marks, progress)
        if related is None or not related.add(related.more(docs, paths)):
            break
        # --hook: a name of the files read reaches other groups (a client's host names a Service
        # defined elsewhere, or a Service here is named by clients elsewhere): read again with them
        evidence_only = []
        found, _, related = discover_changed(settings, evidence_only, related)
    skipped = _not_included(skipped, docs) + links
    if progress is not None:
        progress(len(found), len(found), None)
    errors.extend(load_errors)
    rules = selected_rules(settings)
    ctx = Context(docs=docs, paths=paths, topology_problems=topology_problems,
                  options={"ram_bytes": settings.ram_bytes, "pg_version": settings.pg_version,
                           "pgbouncer_version": settings.pgbouncer_version, **settings.extra,
                           "rule_options": settings.rule_options})
    findings: list[Finding] = []
    ran: list = []
    kinds = {d.kind for d in docs}
    from advisor.path import connection_paths

    if connection_paths(paths):
        kinds.add("path")  # the PATH rules need an assembled path of two hops or more
    diagnostic_kinds = {d.kind for doc in docs for d in doc.diagnostics} | {d.kind for d in topology_problems}
    for entry in rules:
        if not needs_met(entry.needs, kinds):
            continue  # a kind of document it needs is missing: nothing to find, and its module stays unimported
        if entry.reports and diagnostic_kinds.isdisjoint(entry.reports):
            continue  # it only reports loader diagnostics, and there are none of its kinds
        ran.append(entry)
        findings.extend(load_rule(entry).check(ctx))
    findings = _with_rendered_sources(findings, docs)
    findings = apply_suppressions(findings, docs, rules, inline=settings.inline_ignores)
    if settings.per_file_ignores:
        findings = apply_per_file_ignores(findings, settings.per_file_ignores)
    # hygiene as the rules rate it is held back on development files, before severity: raises it
    # (a team that makes exposures fail CI means its production files)
    held_back: list = []
    if not settings.include_development:
        findings, held_back = _hold_back_development(findings, docs, settings)
    findings = [f.with_severity(settings.severity[f.code]) if f.code in settings.severity else f for f in findings]
    findings = _dedupe(findings)
    scope = changed
    if narrowed is not None:
        roots, relevant = narrowed
        scope = _checked(settings, found, roots)
        findings = [f for f in findings if not _in_other_deployment(f, settings, marks, relevant)]
    if scope is not None:
        findings = [f for f in findings if touches(f, scope)]
    findings.sort(key=Finding.sort_key)
    report = Report(findings, docs, errors, settings, rule_infos(ran, findings, settings), skipped, paths)
    report.scope = scope
    report.held_back = [h for h in held_back if scope is None or os.path.realpath(h.file) in scope]
    if settings.baseline:
        from advisor import baseline

        try:
            # only the files reported on can have fixed entries (--hook, or part of a topology's tree)
            read = {f for d in docs for f in (d.files or [d.path])}
            if scope is not None:
                read = {f for f in read if os.path.realpath(f) in scope}
            report.findings, report.baselined, report.stale = baseline.apply(
                settings.baseline, findings, read, {e.code for e in ran})
        except baseline.BaselineError as exc:
            raise UsageError(str(exc)) from None
    return report


def _with_rendered_sources(findings: list[Finding], docs: list[ConfigDoc]) -> list[Finding]:
    """A finding on a template line whose value pgpath rendered from the Ansible project's variables
    (advisor.loaders.ansible_vars) names where that value is set, as a related location: the fix
    is made there."""
    at: dict[tuple[str, int], list[Span]] = {}
    for doc in docs:
        for path, entries in (doc.meta.get("ansible_rendered") or {}).items():
            for e in entries:
                if "set_at" in e:
                    at.setdefault((path, e["line"]), []).append(Span(**e["set_at"]))
    if not at:
        return findings
    out = []
    for f in findings:
        extra = [s for span in (f.span, *f.related) for s in at.get((span.file, span.line), ())]
        extra = [s for s in dict.fromkeys(extra) if s not in f.related and s != f.span]
        out.append(f if not extra else Finding(f.code, f.name, f.severity, f.message, f.span, f.fix,
                                               tuple(f.related) + tuple(extra)))
    return out


def _read(settings: Settings, found: list[tuple[str, str]], skipped: list[str], marks: dict[str, Span], progress
          ) -> tuple[list[ConfigDoc], list[InputError], list, list]:
    """(documents, unreadable inputs, paths, topology diagnostics) of the files to read."""
    plan = version_plan(settings, found, skipped, marks)
    from advisor import pgbversion

    given = (settings.pgbouncer_version, settings.pgbouncer_version_source or "given") \
        if settings.pgbouncer_version else None
    pgb_plan = pgbversion.plan(found, skipped, given)
    docs, load_errors = load_documents(settings, found, progress, plan, pgb_plan)
    docs = _beside_a_configuration(docs)
    paths, topology_problems = assemble_paths(settings, docs, marks)
    return docs, load_errors, paths, topology_problems


def _hold_back_development(findings: list[Finding], docs: list[ConfigDoc], settings: Settings):
    """(findings to report, advisor.development.HeldBack per file): info findings on files for
    development or tests are held back (advisor.development)."""
    if not any(f.severity == Severity.INFO for f in findings):
        return findings, []
    from advisor.development import DevelopmentFiles, hold_back

    roots = [os.path.realpath(p) for p in settings.paths if os.path.isdir(p)] + [os.path.realpath(".")]
    named = set() if settings.changed is not None else \
        {os.path.realpath(p) for p in settings.paths if os.path.isfile(p)}
    declared: set[str] = set()
    if settings.topology.get("deployments") and settings.config_file:
        from advisor.path.topology import deployment_files

        groups = deployment_files(settings.topology["deployments"], os.path.dirname(settings.config_file))
        declared = {os.path.realpath(p) for group in groups for p, _ in group}
    files = DevelopmentFiles(roots, named, declared, settings.development, settings.production)
    return hold_back(findings, files, docs)


def _not_included(skipped: list[str], docs: list) -> list[str]:
    """The skipped files that no document read: a file another one includes (postgresql.conf
    `include`, `include_dir`, `include_if_exists`, PgBouncer `%include`) has no format of its own by
    name or content, but it was read, so it is neither listed nor counted as skipped."""
    if not skipped:
        return skipped
    read = {os.path.realpath(f) for d in docs for f in d.files}
    if not read:
        return skipped
    return [p for p in skipped if os.path.realpath(p) not in read]


def _beside_a_configuration(docs: list) -> list:
    """Without the PostgreSQL servers of compose services or containers that set nothing of their own
    (no `-c` flag, memory limit or mounted file) in a folder that holds a PostgreSQL configuration
    file: that file is taken for what the image runs (copied by a Dockerfile, mounted by a means
    pgpath does not follow), as pgpath assumes for its version too, and the folder's clients reach one
    server, not two."""
    configured: dict[str, set[str]] = {}  # folder -> the files holding a PostgreSQL configuration there
    for d in docs:
        if d.kind == "postgresql" and not d.meta.get("image_configuration_only"):
            configured.setdefault(os.path.dirname(os.path.normpath(d.path)), set()).add(d.path)
    return [d for d in docs if not (d.meta.get("image_configuration_only") and
                                    configured.get(os.path.dirname(os.path.normpath(d.path)), set()) - {d.path})]


def rule_infos(ran, findings: list[Finding], settings: Settings) -> list[RuleInfo]:
    """RuleInfo of the rules that ran and of every rule with a finding, in list order
    (their modules are loaded already: nothing more is imported)."""
    from advisor.rules import RULE_ENTRIES, load_rule

    codes = {e.code for e in ran} | {f.code for f in findings}
    out = []
    for entry in RULE_ENTRIES:
        if entry.code in codes:
            r = load_rule(entry)
            docs_url = settings.extra.get("rule_docs_url")
            out.append(RuleInfo(r.code, r.name, settings.severity.get(r.code, r.severity), r.summary, r.doc,
                                tuple(r.needs), r.security, docs_url.replace("{code}", r.code) if docs_url else None))
    return out


def _unique(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each file once (a topology may name a file the paths also reach), in first-seen order."""
    seen: set[str] = set()
    out = []
    for (path, kind), key in zip(found, real_paths([p for p, _ in found])):
        if key not in seen:
            seen.add(key)
            out.append((path, kind))
    return out


def assemble_paths(settings: Settings, docs: list[ConfigDoc], marks: dict[str, Span]):
    """(paths, topology diagnostics): the declared deployments and those discovered by evidence."""
    from advisor.path import assemble

    return assemble(docs, settings.topology, settings.config_file, marks)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.span, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def apply_per_file_ignores(findings: list[Finding], patterns: list[tuple[str, str, list[str]]]) -> list[Finding]:
    """Drop findings whose file matches a `per-file-ignores` glob listing their rule (code, name
    or family). A glob is relative to the folder of the configuration file (fnmatch: `*` also
    crosses `/`); a glob without `/` also matches the file name alone."""
    from advisor.rules import find_entry

    kept = []
    for f in findings:
        entry = find_entry(f.code)
        full = os.path.abspath(f.span.file)
        name = os.path.basename(full)
        drop = False
        for absolute, written, codes in patterns:
            if entry is None or not _matches(entry, codes):
                continue
            if fnmatch.fnmatch(full, absolute) or ("/" not in written and fnmatch.fnmatch(name, written)):
                drop = True
                break
        if not drop:
            kept.append(f)
    return kept


def apply_suppressions(findings: list[Finding], docs: list[ConfigDoc], rules, inline: bool = True) -> list[Finding]:
    """Drop findings silenced by inline `pgpath: ignore[...]`; report unused suppressions (ADV002).

    `rules`: the entries of the selected rules, as selected_rules gives them. With
    `inline=False` (--no-inline-ignores) every finding stays and no suppression is reported.
    """
    from advisor.rules import REDIRECTS, find_entry, load_rule

    if not inline:
        return findings

    by_place: dict[tuple[str, int], list] = {}
    for doc in docs:
        for s in doc.suppressions:
            by_place.setdefault((s.span.file, s.applies_to_line), []).append(s)
    kept = []
    for f in findings:
        silenced = False
        for s in by_place.get((f.span.file, f.span.line or 0), ()):
            if any(c.upper() == f.code or c.lower() == f.name for c in s.codes):
                s.used = True
                silenced = True
        if not silenced:
            kept.append(f)
    unused_entry = next((e for e in rules if e.code == "ADV002"), None)
    if unused_entry is not None:
        unused = load_rule(unused_entry)
        run_codes = {r.code for r in rules}
        for doc in docs:
            for s in doc.suppressions:
                if s.used:
                    continue
                unknown = [c for c in s.codes if find_entry(c) is None]
                if unknown:
                    kept.append(unused.finding(s.span, f"suppression names no rule: {', '.join(unknown)}",
                                               "correct the code (see `pgpath rules`) or delete the comment"))
                elif all(find_entry(c).code in run_codes for c in s.codes):
                    retired = [f"{c} (retired: its risk is {REDIRECTS[c.upper()]}'s now)" for c in s.codes
                               if c.upper() in REDIRECTS]
                    kept.append(unused.finding(
                        s.span, f"suppression of {', '.join(s.codes)} silences nothing on line {s.applies_to_line}"
                        + (f"; {', '.join(retired)}" if retired else ""),
                        f"name {', '.join(REDIRECTS[c.upper()] for c in s.codes if c.upper() in REDIRECTS)} if its "
                        "finding is meant, or delete the comment" if retired else "delete the comment"))
    return kept


def version_plan(settings: Settings, found: list[tuple[str, str]], skipped: list[str],
                 marks: dict[str, Span] | None = None):
    """Which PostgreSQL major each file is checked with (advisor.pgversion.Plan): the one given
    (--pg-version, pg_version:), else the topology's declaration, else the nearest evidence."""
    from advisor import pgversion

    if settings.pg_version_source is not None:
        return pgversion.plan(found, skipped, explicit=(settings.pg_version, settings.pg_version_source))
    declared = {}
    if settings.topology.get("deployments") and settings.config_file:
        from advisor.path.topology import declared_versions

        declared = declared_versions(settings.topology, settings.config_file, marks or {})
    return pgversion.plan(found, skipped, declared=declared)
