"""Ruby on Rails `config/database.yml`: ActiveRecord's postgresql adapter (the `pg` gem, i.e. libpq).

Read as Rails reads it (activerecord 7.1 to 8.1, the pool as the application's Gemfile.lock says:
advisor.loaders.clients.gemlock; facts and sources in docs/clients.md), never run:

- each top-level key is an environment (`production`, `development`, ...); a section that other
  sections merge (`default: &default` then `<<: *default`) is no environment of its own. YAML merge
  keys are merged (shallow: a section's own `variables:` replaces the merged one). A three-tier
  file (`production: {primary: {...}, replica: {...}}`) gives one client per database;
- only the postgresql adapter (and postgis, built on it) is a client; another adapter is skipped;
- `url:` is parsed like a `postgres://` URI, its query keys are configuration keys, and its values
  win over the section's own keys (UrlConfig merges the URL's hash over the configuration);
- `database` / `username` are libpq's `dbname` / `user`; every libpq keyword written
  (`sslmode`, `sslrootcert`, `connect_timeout`, `keepalives*`, `options`, ...) goes to
  PG::Connection as it is (PostgreSQLAdapter slices the configuration to PG's conndefaults keys);
- the pool: `pool` (default 5), `idle_timeout` (default 300 s; 0 keeps connections for ever),
  `reaping_frequency` (default 60 s; the reaper closes the connections idle at least
  `idle_timeout` every `reaping_frequency`), `checkout_timeout` (default 5 s). A connection is
  verified (`;`, a round trip: PostgreSQLAdapter#active?) before its first query after each
  checkout (before 7.1: at each checkout), and reconnected when that fails. 8.1 also reads
  `max_connections` (before `pool`), `min_connections`, `max_age` and `keepalive` (default 600 s:
  the reaper sends `;` on a connection idle that long), and reaps every
  min(20, idle_timeout, max_age, keepalive) s by default;
- `prepared_statements` (default true: each query with binds is parsed as `a1`, `a2`... on the
  connection, numbered per connection) and `advisory_locks` (default true: migrations hold a
  session advisory lock);
- `variables:` are sent as `SET SESSION name TO value` after connecting (never in the
  StartupMessage), kept as `variables.<name>` parameters.

ERB is never executed: a tag that reads a variable with a literal default
(`<%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>`, `ENV.fetch("X", 5)`, `ENV["X"] || 5`) is read as
its default, assumed (Value.assumed = the variable); any other tag (`<%= ENV["DATABASE_URL"] %>`)
is Unknown. A URL that is unknown makes an endpoint of form `unknown` (where it connects is not
known), whose pool and prepared statements are still read. A `url:` that is a variable as a whole
(`<%= ENV["DATABASE_URL"] %>`), outside development and test, is read again with the value of the
one container or dotenv file that sets it (advisor.loaders.clients.env_join): the URL's values
from there, over the section's as ActiveRecord merges them, the pool from the file.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from advisor import lazy_re
from advisor.loaders.clients.build import Builder, libpq_endpoint, params_from_string
from advisor.loaders.clients.extract import is_secret_key, leaf_value, record
from advisor.loaders.clients.strings import Locator, parse
from advisor.loaders.clients.tree import Leaf, _node_span, _yaml_leaf, compose_yaml
from advisor.model import ConfigDoc, Span, Unknown
from advisor.model.client import ClientEndpoint, Pool, Prepares, Value, default

ADAPTERS = ("postgresql", "postgis", "postgres")
# configuration keys of ActiveRecord (not libpq's) that pgpath reads or keeps
RAILS_KEYS = ("adapter", "url", "pool", "max_connections", "min_connections", "idle_timeout", "reaping_frequency",
              "checkout_timeout", "prepared_statements", "statement_limit", "advisory_locks", "encoding",
              "schema_search_path", "min_messages", "variables", "database", "username", "replica",
              "database_tasks", "migrations_paths", "schema_dump", "max_threads", "min_threads", "keepalive",
              "max_age")
RENAMED = {"database": "dbname", "username": "user"}
# the keys a section of a three-tier file has when it is a configuration itself
_CONFIG_SIGNS = ("adapter", "url", "database", "host", "username", "pool", "port")
DEFAULT_POOL, DEFAULT_IDLE, DEFAULT_REAPING, DEFAULT_CHECKOUT = 5, 300.0, 60.0, 5.0
# activerecord 8.1 (database_configurations/hash_config.rb): keepalive 600 s, and the reaper runs
# every min(20, idle_timeout, max_age, keepalive) unless reaping_frequency is written
DEFAULT_KEEPALIVE_81, REAPING_CAP_81 = 600.0, 20.0
VALIDATION_NOTE = ("Rails verifies a connection (a `;` round trip, PostgreSQLAdapter#active?) before its first query "
                   "after each checkout, and reconnects when that fails")
# before 7.1 ConnectionPool#checkout_and_verify ran verify! itself, at every checkout
VALIDATION_NOTE_70 = ("Rails verifies a connection at each checkout (verify!: a `;` round trip, "
                      "PostgreSQLAdapter#active?), and reconnects when that fails")


def rails_endpoints(doc: ConfigDoc, b: Builder, path: str, text: str) -> list[ClientEndpoint]:
    """The clients of a database.yml: one per environment (and per database of a three-tier one)
    whose adapter is PostgreSQL's. Raises TreeError when the YAML does not parse."""
    import yaml

    lines, docs = compose_yaml(path, text)
    root = docs[0] if len(docs) == 1 else None  # (a database.yml is one document)
    if not isinstance(root, yaml.MappingNode):
        return []
    merged: set[int] = set()  # the nodes other sections merge: shared defaults, no environment
    _merged_nodes(root, merged)
    reader = _Reader(doc, b, path, lines)
    out: list[ClientEndpoint] = []
    sections = []
    for key_node, value_node in root.value:
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(value_node, yaml.MappingNode):
            continue
        if id(value_node) in merged or key_node.value == "<<":
            continue
        env = str(key_node.value)
        config = _flatten(value_node)
        span = _node_span(path, key_node)
        found = []
        if any(k in config for k in _CONFIG_SIGNS) or not config:
            found = [reader.read(env, config, span)]
        else:  # three tiers: production: {primary: {...}, animals: {...}}
            for name, (k_node, v_node) in config.items():
                if isinstance(v_node, yaml.MappingNode):
                    found.append(reader.read(f"{env}.{name}", _flatten(v_node), _node_span(path, k_node)))
        found = [ep for ep in found if ep is not None]
        out.extend(found)
        if found:
            mark = value_node.end_mark  # (0-based; at column 0 the section ended on the line before)
            end = mark.line + (1 if mark.column else 0)
            sections.append((env, key_node.start_mark.line + 1, max(key_node.start_mark.line + 1, end)))
    _development_sections(doc, sections)
    return out


def _merged_nodes(root, out: set[int]) -> None:
    """The ids of the mappings that a merge key (`<<`) names anywhere under `root`. Each mapping is
    visited once: an alias names a node already composed, so a section that merges itself
    (`default: &default {<<: *default, <<: *default}`) was walked 2^32 times."""
    import yaml

    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen or not isinstance(node, yaml.MappingNode):
            continue
        seen.add(id(node))
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == "<<":
                for m in (v.value if isinstance(v, yaml.SequenceNode) else [v]):
                    out.add(id(m))
            stack.append(v)


def _flatten(node, depth: int = 0, memo: dict | None = None) -> dict[str, tuple[Any, Any]]:
    """A mapping's keys as Rails sees them: merged sections first (`<<: *default`; of a list of
    them, the first wins), then its own keys over them. key -> (key node, value node).

    Each mapping is flattened once (`memo`: anchors merging an earlier one twice, ten deep, cost
    2^10 otherwise). A mapping that merges itself, directly or through others, gets nothing from
    that merge: Psych merges the hash it is still building into itself, which adds no key."""
    import yaml

    memo = {} if memo is None else memo
    if depth > 16 or not isinstance(node, yaml.MappingNode):
        return {}
    done = memo.get(id(node))
    if done is not None:
        return done
    out: dict[str, tuple[Any, Any]] = {}
    memo[id(node)] = out  # (while it is being built: a merge of itself sees what it has so far)
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == "<<":
            merged: dict[str, tuple[Any, Any]] = {}
            for m in reversed(v.value if isinstance(v, yaml.SequenceNode) else [v]):
                if m is not node:
                    merged.update(_flatten(m, depth + 1, memo))
            for key, pair in merged.items():
                out.setdefault(key, pair)
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value != "<<":
            out[str(k.value)] = (k, v)
    return out


def _development_sections(doc: ConfigDoc, sections: list[tuple[str, int, int]]) -> None:
    """Environments named for development or tests (`development`, `test`, `local`, ...): their
    lines are development sections (advisor.development), whose info findings are held back."""
    from advisor.development import DEVELOPMENT_PROFILES

    held = []
    for env, first, last in sections:
        words = [w for w in re.split(r"[._-]", env.lower()) if w]
        if words and words[0] in DEVELOPMENT_PROFILES:
            held.append({"from": first, "to": last,
                         "reason": f"its Rails environment {env!r} (line {first}) is for development or tests"})
    if held:
        doc.meta["development_sections"] = held


def _ruby_number(v: Value, integer: bool) -> Value:
    """Ruby's to_i / to_f of a configuration value (never an error: "5s".to_f is 5.0, "x" 0)."""
    from advisor.units import decimal

    if not v.known or isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
        if v.known:
            v.value = int(v.value) if integer else _to_f(v.value)
        return v
    m = re.match(r"\s*[-+]?\d+(?:\.\d+)?" if not integer else r"\s*[-+]?\d+", str(v.value).replace("_", ""))
    # (decimal: int() refuses more than 4300 digits; float() of many digits is infinity, as to_f's)
    v.value = (decimal(m.group(0).strip()) if integer else float(m.group(0))) if m else (0 if integer else 0.0)
    return v


def _to_f(number: int | float) -> float:
    """Ruby's Integer#to_f: past a float it is Infinity (Python's float() raises OverflowError)."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def _ruby_bool(v: Value) -> Value:
    """ActiveRecord's type_cast_config_to_boolean: the string "false" and YAML false are false;
    anything else (including "0", "no" in quotes) is true."""
    if v.known:
        v.value = not (v.value is False or v.value is None or v.value == "false")
    return v


# a `url:` that is an environment variable as a whole: `<%= ENV["X"] %>`, `<%= ENV.fetch("X") %>`,
# `<%= ENV.fetch("X") { "d" } %>`, `<%= ENV.fetch("X", "d") %>`, `<%= ENV["X"] || "d" %>`
_URL_VARIABLE = lazy_re.compile(r"""<%=\s*ENV(?:\[\s*["'](\w+)["']\s*\]|\.fetch\(\s*["'](\w+)["'])(?:[^%]|%(?!>))*%>""")


def _url_variable(raw: str | None) -> str | None:
    """The variable a configuration's `url:` reads as a whole (None: a URL, or built from parts)."""
    if not isinstance(raw, str):
        return None
    text = raw.strip().strip("\"'").strip()
    m = _URL_VARIABLE.fullmatch(text)
    if m is None or text.count("<%") != 1:
        return None
    return m.group(1) or m.group(2)


class _Reader:
    def __init__(self, doc: ConfigDoc, b: Builder, path: str, lines) -> None:
        self.doc, self.b, self.path, self.lines = doc, b, path, lines
        self._version = None
        self.url: Value | None = None

    def version(self):
        """The activerecord of this file's application (advisor.loaders.clients.gemlock), looked
        up once per file."""
        from advisor.loaders.clients.gemlock import RailsVersion, rails_version

        if self._version is None:
            self._version = rails_version(self.b.path, self.b.options) if self.b.path else RailsVersion(
                reason="no file read")
            self.doc.meta["activerecord"] = self._version.to_dict()
            # the Gemfile.lock that says which activerecord reads the file is read for it
            self.doc.files.extend(f for f in self._version.files if f not in self.doc.files)
        return self._version

    def leaf(self, key_path: tuple[str, ...], pair) -> Value | None:
        import yaml

        k, v = pair
        if not isinstance(v, yaml.ScalarNode):
            return None
        leaf: Leaf = _yaml_leaf(self.path, self.lines, key_path, v, _node_span(self.path, k))
        value = leaf_value(leaf, key_path[-1], is_secret_key(key_path[-1]))
        record(self.doc, ".".join(key_path), value, key_path[0])
        return value

    def read(self, env: str, config: dict, span: Span) -> ClientEndpoint | None:
        """The endpoint of one configuration; when its `url:` is an environment variable as a whole
        (`<%= ENV["DATABASE_URL"] %>`, `<%= ENV.fetch("X") %>`, with a literal default or not) in an
        environment other than development or test, the variable is remembered with how to read the
        configuration with the value that sets it (meta["_env_reads"], advisor.loaders.clients.env_join)."""
        self.url = None
        ep = self.endpoint(env, config, span)
        variable = _url_variable(self.url.raw if self.url is not None else None)
        if ep is not None and variable and env.split(".", 1)[0] not in ("development", "test"):
            self.doc.meta.setdefault("_env_reads", {})[id(ep)] = {
                "variable": variable, "rebuild": functools.partial(self.rebuild, env, config, span)}
        return ep

    def rebuild(self, env: str, config: dict, span: Span, text: str | None, loc: Locator | None,
                url: Value) -> ClientEndpoint | None:
        """The configuration as it runs where its URL's variable is `text` (spanned by `loc` in the
        file that sets it; None: set but not known, a Secret's); what the first reading recorded and
        reported is not recorded again."""
        settings, diagnostics, reported = len(self.doc.settings), len(self.doc.diagnostics), len(self.b.diagnostics)
        try:
            return self.endpoint(env, config, span, (text, loc, url))
        finally:
            del self.doc.settings[settings:], self.doc.diagnostics[diagnostics:], self.b.diagnostics[reported:]

    def endpoint(self, env: str, config: dict, span: Span,
                 given: tuple[str | None, Locator | None, Value] | None = None) -> ClientEndpoint | None:
        import yaml

        values: dict[str, Value] = {}
        variables: dict[str, Value] = {}
        for key, pair in config.items():
            if key == "variables" and isinstance(pair[1], yaml.MappingNode):
                for name, vpair in _flatten(pair[1]).items():
                    v = self.leaf((env, "variables", name), vpair)
                    if v is not None:
                        variables[name] = v
                continue
            v = self.leaf((env, key), pair)
            if v is not None:
                values[key] = v
        adapter = values.get("adapter")
        self.url = values.get("url")  # (as written: read() looks for a variable in it)
        url = values.get("url") if given is None else given[2]
        url_params: dict[str, Value] = {}
        url_unknown = False
        if given is not None and given[0] is None:
            url_unknown = True  # (set where it runs, its value not known: a Secret's)
        elif url is not None and url.unknown and given is None:
            url_unknown = True
        elif url is not None and (given is not None or url.known and isinstance(url.value, str) and url.value.strip()):
            parsed = parse(given[0] if given is not None else url.value)
            if parsed is None:
                return None  # another database's URL (mysql2://, sqlite3:)
            loc = given[1] if given is not None else self._locator(config["url"][1], url)
            url_params = params_from_string(parsed, loc)
            if url.assumed:
                for p in url_params.values():
                    p.assumed = p.assumed or url.assumed
        if adapter is not None and adapter.known and str(adapter.value).lower() not in ADAPTERS and not url_params:
            return None
        if adapter is None and url is None:
            return None
        # the URL's values win over the section's (UrlConfig: configuration_hash.merge(url hash))
        merged = dict(values)
        for key, v in url_params.items():
            merged[{"dbname": "database", "user": "username"}.get(key, key)] = v
        from advisor.loaders.clients.libpq import KNOWN_KEYWORDS

        params: dict[str, Value] = {}
        for key, v in merged.items():
            target = RENAMED.get(key, key)
            if target in KNOWN_KEYWORDS or key == "requiressl":
                if v.known and isinstance(v.value, bool):
                    v.value = "1" if v.value else "0"  # (Ruby hands true to PG as "true": not modelled)
                elif v.known and v.value is None:
                    continue  # conn_params.compact drops nil
                params[target] = v
        if url_unknown:
            ep = ClientEndpoint("rails", env, span, "unknown", template=True)
            unknown = Value(Unknown(url.raw or "url"), url.raw, url.span, key="url")
            ep.hosts, ep.sslmode, ep.connect_timeout, ep.keepalive = [unknown], unknown, unknown, None
            ep.params = params
        else:
            ep = libpq_endpoint(self.b, env, span, "rails", params, driver="rails")
        for key in ("adapter", "pool", "idle_timeout", "reaping_frequency", "checkout_timeout",
                    "prepared_statements", "advisory_locks", "statement_limit", "min_connections"):
            if key in merged:
                ep.params.setdefault(key, merged[key])
        for name, v in variables.items():
            ep.params[f"variables.{name}"] = v
        ep.pool = self.pool(env, merged)
        ep.prepares = self.prepares(env, merged.get("prepared_statements"))
        ep.url_keys = frozenset(RENAMED.get(k, k) for k in url_params)
        return ep

    def _locator(self, node, url: Value) -> Locator:
        whole = url.span or _node_span(self.path, node)
        s = node.start_mark
        masked_lines, lines = self.lines
        if node.style in (None, "'", '"') and s.line == node.end_mark.line and s.line < len(lines):
            col = s.column + (1 if node.style else 0)
            if lines[s.line][col:col + len(url.raw or "")] == url.raw:
                return Locator(self.path, s.line + 1, col + 1, True, whole)
        return Locator.approximate(whole)

    def pool(self, env: str, merged: dict[str, Value]) -> Pool:
        """The pool plan of the activerecord the application locks (gemlock), or of 7.1-8.0 when
        not known. 8.1 (HashConfig, ConnectionPool and its Reaper at v8.1.0) reads `max_connections`
        before `pool`, `min_connections`, `max_age` (seconds, to_i; default never) and `keepalive`
        (default 600 s, 0 off: the reaper sends `;` on a connection idle that long), and reaps every
        min(20, idle_timeout, max_age, keepalive) s by default instead of 60; earlier releases read
        none of these keys. Before 7.1 a connection is verified at each checkout."""
        version = self.version()
        newest = version.at_least(8, 1)  # None: not known, read as 7.1-8.0 (max_connections/min_connections kept)
        if newest:
            size = merged.get("max_connections") or merged.get("pool")
        else:
            size = merged.get("pool") or (merged.get("max_connections") if newest is None else None)
        size = _ruby_number(size, True) if size is not None else default(DEFAULT_POOL)
        idle = merged.get("idle_timeout")
        idle = _ruby_number(idle, False) if idle is not None else default(DEFAULT_IDLE)
        if idle.known and idle.value <= 0:
            idle.value = math.inf  # HashConfig#idle_timeout: `timeout if timeout > 0`; nil: never flushed
        life, keepalive = default(math.inf), None
        if newest:
            age = merged.get("max_age")  # HashConfig#max_age: `to_i`, Float::INFINITY unless > 0
            if age is not None:
                life = _ruby_number(age, True)
                if life.known and life.value <= 0:
                    life.value = math.inf
            keep = merged.get("keepalive")  # HashConfig#keepalive: `(keepalive || 600).to_f`, nil unless > 0
            if keep is not None and keep.known and (keep.value is None or keep.value is False):
                keep = None  # nil or false: Ruby's `||` takes the 600
            keepalive = _ruby_number(keep, False) if keep is not None else default(DEFAULT_KEEPALIVE_81)
            if keepalive.known and keepalive.value <= 0:
                keepalive.value = math.inf
        reaping = merged.get("reaping_frequency")
        if reaping is not None and reaping.known and reaping.value is None:
            reaping.value = math.inf  # nil: no reaper
        elif reaping is not None:
            reaping = _ruby_number(reaping, False)
            if reaping.known and reaping.value <= 0:
                reaping.value = math.inf  # Reaper#run: `return unless frequency && frequency > 0`
        elif newest:  # HashConfig#default_reaping_frequency: [20, idle_timeout, max_age, keepalive].compact.min
            shorter = [v.value for v in (idle, life, keepalive) if v is not None and v.known
                       and isinstance(v.value, (int, float)) and not math.isinf(v.value)]
            reaping = default(float(min([REAPING_CAP_81, *shorter])))
        checkout = merged.get("checkout_timeout")
        checkout = _ruby_number(checkout, False) if checkout is not None else default(DEFAULT_CHECKOUT)
        note = VALIDATION_NOTE_70 if version.at_least(7, 1) is False else VALIDATION_NOTE
        pool = Pool("rails", life, idle, default(True), note, size, keepalive_time=keepalive,
                    health_check_period=reaping or default(DEFAULT_REAPING))
        pool.borrow_timeout = checkout
        least = merged.get("min_connections") if newest is not False else None  # 8.1: the idle connections flush spares
        pool.min_size = _ruby_number(least, True) if least is not None else default(0)
        pool.section = env
        pool.version = version.said()
        return pool

    def prepares(self, env: str, v: Value | None) -> Prepares | None:
        """Rails' PostgreSQL adapter prepares each query with binds at its first execution on a
        connection, named `a1`, `a2`... per connection (StatementPool#next_key), unless
        `prepared_statements: false`."""
        off = f"prepared_statements: false under {env} in database.yml"
        if v is None:
            return Prepares("rails", default(1), 1, "a1", "prepared_statements", off)
        v = _ruby_bool(Value(v.value, v.raw, v.span, v.origin, v.key, hint=v.hint, assumed=v.assumed))
        if v.known and v.value is False:
            return None
        threshold = Value(1 if v.known else v.value, v.raw, v.span, v.origin, "prepared_statements",
                          assumed=v.assumed)
        return Prepares("rails", threshold, 1 if v.known else None, "a1", "prepared_statements", off)

