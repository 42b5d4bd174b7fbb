"""node-postgres clients configured in JavaScript or TypeScript code, read with tree-sitter and never run.

Calls read: `new Pool({...})` and `new Client({...})` whose constructor the module binds from
`pg` (`const { Pool } = require('pg')`, `import { Pool as PgPool } from 'pg'`, `import pg from
'pg'` then `new pg.Pool(...)`, `const Pool = require('pg-pool')`, `new (require('pg').Pool)(...)`),
with an options object (or a connection string: `new Client('postgres://...')`). The options are
those pg's Client and pg-pool read (advisor.loaders.clients.build.node_endpoint, shared with the
JSON/YAML reader): `connectionString`, `host`, `port`, `database`, `user`, `ssl` (true, `{
rejectUnauthorized: false }`, `{ ca: ... }`), `keepAlive`, `keepAliveInitialDelayMillis`, `max`,
`min`, `idleTimeoutMillis`, `maxLifetimeSeconds`, `connectionTimeoutMillis`, `statement_timeout`,
`query_timeout`, `idle_in_transaction_session_timeout`, `options`... A `Pool` is a pg-pool with its
defaults (max 10, idleTimeoutMillis 10000, maxLifetimeSeconds 0 = never); a `Client` has none.

Values are read as the Python readers read theirs (advisor.loaders.clients.pycode): literals
(strings, templates without `${}`, numbers, true/false, objects); a module-level `const` assigned a
literal (and an options object held in one: `new Pool(config)`); `parseInt(x, 10)`, `Number(x)`,
`parseFloat(x)`, `String(x)` and TypeScript's `as`/`!` read as `x`; `process.env.X || 'd'` and
`process.env.X ?? 'd'` read as the default, assumed (Value.assumed = "X"); anything else is
`Unknown`, named by its source text. A `...spread` in the options may hold any setting: those not
written are then unknown rather than pg's defaults.

pg's ConnectionParameters takes what the options leave unset from the process's environment
(`PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`, `PGSSLMODE`...) and then its defaults
(localhost:5432). A module does not say that environment: a client whose options name neither
`host` nor `connectionString` has an unknown host and port (it links nothing), until the
container that runs the code is known (advisor.loaders.clients.node_env.link: its Kubernetes or
compose `env:` supplies them, and `process.env.X` reads there too).

tree-sitter and its grammars are imported only when a file with node-postgres usage is read
(advisor.loaders.client_detect.js_candidate, two regexes, decides first): `pgpath check` of other files never loads them.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.loaders.clients.build import Builder, node_endpoint, param_value
from advisor.loaders.clients.strings import Locator, redact_any
from advisor.model import ConfigDoc, Span, Unknown
from advisor.model.client import ClientEndpoint, Value

MODULES = ("pg", "pg-pool")
CONSTRUCTORS = ("Pool", "Client")
_SECRET_TLS = ("key", "passphrase", "pfx", "password")  # tls.connect options that hold a secret
_CASTS = ("parseInt", "parseFloat", "Number", "String")
_UNWRAP = ("parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression",
           "type_assertion")


def _language(path: str):
    import tree_sitter

    lower = path.lower()
    if lower.endswith(".tsx"):
        import tree_sitter_typescript as grammar

        return tree_sitter.Language(grammar.language_tsx())
    if lower.endswith((".ts", ".mts", ".cts")):
        import tree_sitter_typescript as grammar

        return tree_sitter.Language(grammar.language_typescript())
    import tree_sitter_javascript as grammar

    return tree_sitter.Language(grammar.language())


def parse_tree(path: str, source: bytes):
    import tree_sitter

    return tree_sitter.Parser(_language(path)).parse(source)


def _text(node, src: bytes) -> str:
    return src[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _string(node, src: bytes) -> str | None:
    """The value of a string literal or a template without substitutions; None for anything else."""
    if node.type == "string":
        parts = []
        for ch in node.named_children:
            if ch.type == "string_fragment":
                parts.append(_text(ch, src))
            elif ch.type == "escape_sequence":
                parts.append(_unescape(_text(ch, src)))
        return "".join(parts)
    if node.type == "template_string":
        if any(ch.type == "template_substitution" for ch in node.named_children):
            return None
        return _text(node, src)[1:-1]
    return None


def _unescape(seq: str) -> str:
    simple = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "f": "\f", "v": "\v"}
    body = seq[1:]
    if body[:1] in simple and len(body) == 1:
        return simple[body]
    if body[:1] in ("x", "u"):
        try:
            return chr(int(body[1:].strip("{}"), 16))
        except ValueError:
            return ""
    return body


def _unwrap(node):
    """The expression inside parentheses and TypeScript's `x as T`, `x satisfies T`, `x!`, `<T>x`."""
    for _ in range(64):
        if node is None or node.type not in _UNWRAP or not node.named_children:
            return node
        kids = [c for c in node.named_children if c.type != "comment"]
        if not kids:
            return node
        node = kids[-1] if node.type == "type_assertion" else kids[0]
    return node


def _require_of(node, src: bytes) -> str | None:
    """The module a `require('m')` call loads ('pg', 'pg-pool'), or None."""
    node = _unwrap(node)
    if node is None or node.type != "call_expression":
        return None
    func = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if func is None or args is None or _text(func, src) != "require" or len(args.named_children) != 1:
        return None
    return _string(args.named_children[0], src)


class _Module:
    """What one module binds: local names of pg's constructors, of the pg module, and module constants."""

    def __init__(self, root, src: bytes) -> None:
        self.src = src
        self.ctors: dict[str, str] = {}  # local name -> Pool / Client
        self.modules: dict[str, str] = {}  # local name -> pg / pg-pool
        self.constants: dict[str, Any] = {}  # module-level const name -> its value node
        assigned: dict[str, int] = {}
        for node in _walk(root):
            if node.type == "import_statement":
                self._import(node)
            elif node.type == "variable_declarator":
                self._declarator(node)
            elif node.type == "assignment_expression":
                left = node.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    assigned[_text(left, src)] = assigned.get(_text(left, src), 0) + 1
        for stmt in root.named_children:
            if stmt.type == "export_statement":
                stmt = stmt.child_by_field_name("declaration") or stmt
            if stmt.type != "lexical_declaration" or not _text(stmt, src).startswith("const"):
                continue
            for decl in stmt.named_children:
                if decl.type != "variable_declarator":
                    continue
                name, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
                if name is not None and name.type == "identifier" and value is not None:
                    if not assigned.get(_text(name, src)):
                        self.constants[_text(name, src)] = value

    def _import(self, node) -> None:
        source = node.child_by_field_name("source")
        module = _string(source, self.src) if source is not None else None
        if module not in MODULES:
            return
        for clause in node.named_children:
            if clause.type != "import_clause":
                continue
            for part in clause.named_children:
                if part.type == "identifier":  # import pg from 'pg' / import Pool from 'pg-pool'
                    self._bind_module(_text(part, self.src), module)
                elif part.type == "namespace_import":  # import * as pg from 'pg'
                    ident = next((c for c in part.named_children if c.type == "identifier"), None)
                    if ident is not None:
                        self.modules[_text(ident, self.src)] = module
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        if spec.type != "import_specifier":
                            continue
                        name = spec.child_by_field_name("name")
                        alias = spec.child_by_field_name("alias") or name
                        if name is not None and _text(name, self.src) in CONSTRUCTORS and module == "pg":
                            self.ctors[_text(alias, self.src)] = _text(name, self.src)
                        elif name is not None and _text(name, self.src) == "default":
                            self._bind_module(_text(alias, self.src), module)

    def _bind_module(self, local: str, module: str) -> None:
        if module == "pg-pool":
            self.ctors[local] = "Pool"  # pg-pool's export is the Pool class
        else:
            self.modules[local] = module

    def _declarator(self, node) -> None:
        name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
        if name is None or value is None:
            return
        value = _unwrap(value)
        module = _require_of(value, self.src)
        if module is None and value.type == "member_expression":
            # const Pool = require('pg').Pool
            obj, prop = value.child_by_field_name("object"), value.child_by_field_name("property")
            if obj is not None and prop is not None and _require_of(obj, self.src) == "pg" \
                    and _text(prop, self.src) in CONSTRUCTORS and name.type == "identifier":
                self.ctors[_text(name, self.src)] = _text(prop, self.src)
            return
        if module not in MODULES:
            return
        if name.type == "identifier":
            self._bind_module(_text(name, self.src), module)
        elif name.type == "object_pattern" and module == "pg":
            for part in name.named_children:
                if part.type == "shorthand_property_identifier_pattern" and _text(part, self.src) in CONSTRUCTORS:
                    self.ctors[_text(part, self.src)] = _text(part, self.src)
                elif part.type == "pair_pattern":  # const { Pool: PgPool } = require('pg')
                    key, val = part.child_by_field_name("key"), part.child_by_field_name("value")
                    if key is not None and val is not None and val.type == "identifier" \
                            and _text(key, self.src) in CONSTRUCTORS:
                        self.ctors[_text(val, self.src)] = _text(key, self.src)

    def which(self, ctor) -> str | None:
        """Pool / Client for the constructor expression of a `new`, else None."""
        ctor = _unwrap(ctor)
        if ctor is None:
            return None
        if ctor.type == "identifier":
            return self.ctors.get(_text(ctor, self.src))
        if ctor.type == "member_expression":
            obj, prop = ctor.child_by_field_name("object"), ctor.child_by_field_name("property")
            if obj is None or prop is None or _text(prop, self.src) not in CONSTRUCTORS:
                return None
            obj = _unwrap(obj)
            if obj.type == "identifier" and self.modules.get(_text(obj, self.src)) == "pg":
                return _text(prop, self.src)
            if _require_of(obj, self.src) == "pg":
                return _text(prop, self.src)
        return None

    def resolve(self, node):
        """A module constant's value in place of its name (a chain of them too)."""
        for _ in range(8):
            node = _unwrap(node)
            if node is not None and node.type == "identifier" and _text(node, self.src) in self.constants:
                node = self.constants[_text(node, self.src)]
            else:
                break
        return node


def _walk(root):
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.named_children))


def _env_name(node, src: bytes) -> str | None:
    """`X` for `process.env.X` and `process.env['X']`, else None."""
    node = _unwrap(node)
    if node is None:
        return None
    if node.type == "member_expression":
        obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
        if obj is not None and prop is not None and _text(obj, src).replace(" ", "") == "process.env":
            return _text(prop, src)
    if node.type == "subscript_expression":
        obj, index = node.child_by_field_name("object"), node.child_by_field_name("index")
        if obj is not None and index is not None and _text(obj, src).replace(" ", "") == "process.env":
            return _string(index, src)
    return None


class _Reader:
    def __init__(self, path: str, src: bytes, module: _Module) -> None:
        self.path, self.src, self.m = path, src, module
        self.env: dict[str, str] = {}  # option key -> the variable it reads (process.env.X)
        self.depth = 0

    def span(self, node) -> Span:
        (l1, c1), (l2, c2) = node.start_point, node.end_point
        return Span(self.path, l1 + 1, c1 + 1, l2 + 1, c2 + 1)

    def locator(self, node, text: str) -> Locator:
        """Where a string literal's text sits (inside its quotes), exact when written verbatim."""
        whole = self.span(node)
        raw = _text(node, self.src)
        exact = node.start_point[0] == node.end_point[0] and raw[1:-1] == text
        return Locator(self.path, whole.line, whole.col + 1, exact, whole)

    def value(self, key: str, node, secret: bool = False) -> Value | None:
        """The option's value; None when it is `undefined` (pg then reads as if it were not written)."""
        self.depth += 1
        try:
            if self.depth > 32:  # (`const a = parseInt(a)`: constants that name themselves)
                src = _text(node, self.src)
                return param_value(key, Unknown(src if secret else redact_any(src)), self.span(node), True, None,
                                   secret)
            return self._value(key, node, secret)
        finally:
            self.depth -= 1

    def _value(self, key: str, node, secret: bool = False) -> Value | None:
        node = self.m.resolve(node)
        span = self.span(node)
        t = node.type
        if t in ("string", "template_string"):
            s = _string(node, self.src)
            if s is not None:
                v = param_value(key, s, self.locator(node, s).whole if t == "string" else span, secret=secret)
                if t == "string" and self.locator(node, s).exact:
                    v.span = self.locator(node, s).span(0, len(s))
                return v
        elif t == "number":
            raw = _text(node, self.src).replace("_", "")
            return param_value(key, raw, span, secret=secret)
        elif t in ("true", "false"):
            return param_value(key, t == "true", span, secret=secret)
        elif t == "undefined" or (t == "identifier" and _text(node, self.src) == "undefined"):
            return None
        elif t == "null":
            return param_value(key, "0" if key == "idleTimeoutMillis" else "", span, secret=secret)
        elif t == "object":
            return self.object(key, node, span)
        elif t == "unary_expression" and _text(node, self.src).startswith(("-", "+")):
            operand = node.child_by_field_name("argument")
            sign = _text(node, self.src)[0]
            inner = self.value(key, operand, secret) if operand is not None else None
            if inner is not None and inner.known and sign == "-":
                inner.value = inner.raw = "-" + str(inner.raw)
            if inner is not None:
                inner.span = span
                return inner
        elif t == "call_expression":
            func, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
            if func is not None and args is not None and _text(func, self.src) in _CASTS and args.named_children:
                return self.value(key, args.named_children[0], secret)
        elif t == "binary_expression":
            op = node.child_by_field_name("operator")
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            name = _env_name(left, self.src) if left is not None else None
            if op is not None and _text(op, self.src) in ("||", "??") and name and right is not None:
                dflt = self.value(key, right, secret)
                if dflt is not None and dflt.known and dflt.raw not in ("", None):
                    dflt.assumed = name
                    self.env[key] = name
                    return dflt
        name = _env_name(node, self.src)
        if name:
            self.env[key] = name
        src = _text(node, self.src)
        said = src if secret else redact_any(src)
        return param_value(key, Unknown(said), span, True, None, secret)

    def object(self, key: str, node, span: Span) -> Value:
        """`ssl: {...}`: its constant keys with their values (known or not) as a dict."""
        out: dict[str, Any] = {}
        for kind, k, val in self.members(node):
            if kind == "pair":
                secret = k in _SECRET_TLS
                v = self.value(f"{key}.{k}", val, secret=secret)
                if v is not None:
                    out[k] = "***" if secret else v.value
            elif kind == "shorthand":
                out[k] = Unknown(k)
        self.env.pop(f"{key}.rejectUnauthorized", None)
        src = " ".join(_text(node, self.src).split())
        secret = any(k in out for k in _SECRET_TLS)
        return Value(out, "{...}" if secret or len(src) > 80 else src, span, key=key)

    def members(self, node):
        """An object literal's members: ("pair", key, value node) for each `key: value` whose key is a
        constant, ("shorthand", name, node) for `{ name }`, ("spread", source, node) for `...x`."""
        for part in node.named_children:
            if part.type == "pair":
                k = self.key(part.child_by_field_name("key"))
                val = part.child_by_field_name("value")
                if k is not None and val is not None:
                    yield "pair", k, val
            elif part.type == "shorthand_property_identifier":
                yield "shorthand", _text(part, self.src), part
            elif part.type == "spread_element":
                yield "spread", _text(part, self.src), part

    def key(self, node) -> str | None:
        if node is None:
            return None
        if node.type in ("property_identifier", "identifier"):
            return _text(node, self.src)
        s = _string(node, self.src)
        return s

    def options(self, node) -> tuple[dict[str, Value], str | None]:
        """(option -> value, the source of a `...spread` that may set the others) of an options object."""
        opts: dict[str, Value] = {}
        spread: str | None = None
        node = self.m.resolve(node)
        for kind, k, part in self.members(node):
            if kind == "pair":
                v = self.value(k, part, secret=k == "password")
                if v is None:
                    opts.pop(k, None)
                else:
                    opts[k] = v
            elif kind == "shorthand":  # { host } : a variable of that name
                v = self.value(k, part, secret=k == "password")
                if v is not None:
                    opts[k] = v
            else:
                inner = self.m.resolve(part.named_children[0]) if part.named_children else None
                if inner is not None and inner.type == "object":
                    more, more_spread = self.options(inner)
                    opts.update(more)
                    spread = spread or more_spread
                else:
                    spread = k
                    # (a later key still wins over it; one written before it may be overridden)
                    opts = {k: Value(Unknown(spread), spread, self.span(part), key=k) for k in opts}
        return opts, spread


def code_endpoints(doc: ConfigDoc, b: Builder, path: str, text: str) -> list[ClientEndpoint]:
    """One endpoint per node-postgres Pool or Client the module constructs."""
    src = text.encode("utf-8")
    tree = parse_tree(path, src)
    module = _Module(tree.root_node, src)
    out: list[ClientEndpoint] = []
    for node in _walk(tree.root_node):
        if node.type != "new_expression":
            continue
        ctor = node.child_by_field_name("constructor")
        kind = module.which(ctor) if ctor is not None else None
        if kind is None:
            continue
        reader = _Reader(path, src, module)
        args = node.child_by_field_name("arguments")
        first = args.named_children[0] if args is not None and args.named_children else None
        first = module.resolve(first) if first is not None else None
        opts: dict[str, Value] = {}
        spread: str | None = None
        loc: Locator | None = None
        if first is None:
            pass
        elif first.type == "object":
            opts, spread = reader.options(first)
        elif first.type in ("string", "template_string") and _string(first, src) is not None:
            opts["connectionString"] = reader.value("connectionString", first)
        else:  # new Client(config) of a config pgpath cannot read
            spread = _text(first, src)
        cs = opts.get("connectionString")
        if cs is not None and cs.known and cs.span is not None:
            raw = next((n for n in _walk(first) if n.type == "string" and _string(n, src) == cs.value), None) \
                if first is not None else None
            loc = reader.locator(raw, str(cs.value)) if raw is not None else Locator(path, cs.span.line, cs.span.col,
                                                                                      False, cs.span)
        name = _target_name(node, src) or f"new {kind}() line {node.start_point[0] + 1}"
        ep = build_endpoint(b, name, reader.span(node), kind, opts, loc, spread)
        if ep is None:
            continue
        if ep.pool is not None:
            ep.pool.error_listener = _error_listener(path, text, name)
        for key, v in opts.items():
            if key in ("password",):
                continue
            _record(doc, key, v, f"new {kind}()")
        doc.meta.setdefault("_node_calls", {})[id(ep)] = {
            "kind": kind, "opts": opts, "loc": loc, "spread": spread, "env": dict(reader.env), "name": name,
            "span": reader.span(node)}
        out.append(ep)
    out.sort(key=lambda e: (e.span.line or 0, e.span.col or 0))
    return out


def build_endpoint(b: Builder, name: str, span: Span, kind: str, opts: dict[str, Value], loc: Locator | None,
                   spread: str | None) -> ClientEndpoint | None:
    """The endpoint of one call: node_endpoint over its options, a Pool always pooled, and what the
    options leave to the environment (host, port) unknown."""
    cs = opts.get("connectionString")
    targets = [k for k in ("host", "connectionString") if k in opts]
    ep = node_endpoint(b, name, span, opts, loc, pooled=kind == "Pool")
    ep.params["new"] = Value(kind, kind, span, key="new")
    if not targets or (cs is not None and cs.unknown and "host" not in opts):
        # pg reads PGHOST/PGPORT (then localhost:5432) for what the options leave unset: the process's
        # environment, not in this file. Neither the host nor the port is guessed (a path is never
        # linked by the default 5432)
        said = spread or (cs.raw if cs is not None and cs.unknown else "PGHOST/PGPORT (the environment of the process)")
        unknown = Value(Unknown(said or ""), said, span if cs is None else cs.span, key="host")
        ep.hosts = [unknown]
        if "port" not in opts:
            ep.ports = [Value(Unknown(said or ""), said, unknown.span, key="port")]
        ep.form = "unknown"
        if "ssl" not in opts and (ep.sslmode is None or not ep.sslmode.is_set):
            # PGSSLMODE, or sslmode in the URL, may ask for TLS
            ep.sslmode = Value(Unknown(said or ""), said, unknown.span, key="ssl")
    if spread:
        at = Span(span.file, span.line, span.col)
        for key in ("ssl", "keepAlive"):
            if key not in opts:
                if key == "ssl":
                    ep.sslmode = Value(Unknown(spread), spread, at, key="ssl")
                elif ep.keepalive is not None:
                    ep.keepalive = None
        if ep.pool is not None:
            for attr, key in (("max_lifetime", "maxLifetimeSeconds"), ("max_idle", "idleTimeoutMillis"),
                              ("size", "max")):
                if key not in opts:
                    setattr(ep.pool, attr, Value(Unknown(spread), spread, at, key=key))
    return ep


def _error_listener(path: str, text: str, name: str) -> Value:
    """Where the module listens for the pool's 'error' event (`pool.on('error', ...)`, also
    `.once` and `.addListener`), or False: pg-pool emits it when an idle client's connection ends,
    and Node throws an 'error' event nobody listens for, which ends the process."""
    target = re.escape(name).replace(r"\.", r"\s*\.\s*")
    m = re.search(rf"(?<![\w$.]){target}\s*\.\s*(?:on|once|addListener|prependListener)\s*\(\s*['\"`]error['\"`]", text)
    if m is None:
        return Value(False, "no pool.on('error', ...)", None, key="on('error')")
    line = text.count("\n", 0, m.start()) + 1
    col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
    return Value(True, m.group(0), Span(path, line, col, line, col + len(m.group(0))), key="on('error')")


def _record(doc: ConfigDoc, key: str, v: Value, section: str) -> None:
    from advisor.loaders.clients.extract import record

    if isinstance(v.value, dict):
        return
    record(doc, key, v, section)


def _target_name(node, src: bytes) -> str | None:
    """`pool` for `const pool = new Pool(...)`, `this.pool` for `this.pool = new Pool(...)`."""
    parent = node.parent
    while parent is not None and parent.type in _UNWRAP + ("await_expression",):
        parent = parent.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator":
        name = parent.child_by_field_name("name")
        return _text(name, src) if name is not None and name.type == "identifier" else None
    if parent.type in ("assignment_expression", "pair", "public_field_definition", "field_definition"):
        target = parent.child_by_field_name("left") or parent.child_by_field_name("key") \
            or parent.child_by_field_name("property") or parent.child_by_field_name("name")
        return re.sub(r"\s+", "", _text(target, src)) if target is not None else None
    return None
