"""Clients configured in Python code, read with `ast` and never executed (audit15 D2).

- SQLAlchemy: `create_engine(url, ...)` and `create_async_engine(url, ...)` imported from
  `sqlalchemy` / `sqlalchemy.ext.asyncio` (or called as `sqlalchemy.create_engine`, `sa.create_engine`):
  the URL (first argument or `url=`), `pool_recycle` (default -1 = never), `pool_pre_ping`
  (default False), `pool_size`, `poolclass=NullPool` (no pool), and `connect_args={...}`, which
  the DBAPI's connect() takes over the URL's query: for psycopg/psycopg2, libpq keywords
  (`keepalives_*`, `sslmode`, `options`, `connect_timeout`...), and psycopg 3's `prepare_threshold`.
- psycopg_pool: `ConnectionPool(conninfo, ...)` and `AsyncConnectionPool(...)`: `conninfo`
  (first argument or keyword), `max_lifetime` (default 3600 s, applied when a connection is
  returned), `max_idle` (600 s, above `min_size`), `check` (default None: no check on borrow;
  any callable such as `ConnectionPool.check_connection` checks), `min_size`/`max_size`, and
  `kwargs={...}` (psycopg.connect() keywords: libpq's, over the conninfo's).

One endpoint per call, spanned at the call; each value is spanned where it is written (inside the
URL literal, at a keyword's value) so that fixes point at the right line and column.

Arguments are read as Django's settings are (advisor.loaders.clients.django): literals; a
module-level name assigned once in the module is read as what it is assigned (`DATABASE_URL =
"postgresql://..."` then `create_engine(DATABASE_URL)`: the URL, spanned in that literal);
`os.environ["X"]`, `os.getenv("X")`, f-strings, calls and anything else are `Unknown` (named by
their source text); `os.environ.get("X", "d")`/`os.getenv("X", "d")` are read as the Django
reader reads them (django.env_default: the default, assumed, Value.assumed = "X"), and a URL that
is such a default is assumed in every part. A `**options`
argument may hold any setting: those not written are then unknown rather than the library's
defaults. A call whose URL is known and no PostgreSQL URL (`sqlite://`) is no client.
"""

from __future__ import annotations

import ast

from advisor.loaders.clients.build import (
    Builder, _syntax, libpq_endpoint, param_value, params_from_string, psycopg_pool_plan, psycopg_prepares,
    sqlalchemy_endpoint,
)
from advisor.loaders.clients.django import node_span
from advisor.loaders.clients.extract import is_secret_key, record
from advisor.loaders.clients.libpq import KNOWN_KEYWORDS
from advisor.loaders.clients.strings import Locator, parse, redact_any
from advisor.model import ConfigDoc, Unknown
from advisor.model.client import ClientEndpoint, Value

SQLA_CALLS = ("create_engine", "create_async_engine")
POOL_CALLS = ("ConnectionPool", "AsyncConnectionPool")
_SQLA_MODULES = ("sqlalchemy", "sqlalchemy.ext.asyncio", "sqlalchemy.engine", "sqlalchemy.engine.create")
_POOL_MODULES = ("psycopg_pool", "psycopg_pool.pool", "psycopg_pool.pool_async")
SQLA_POOL_KEYS = ("pool_recycle", "pool_pre_ping", "pool_size", "max_overflow", "pool_timeout", "pool_use_lifo")
PSYCOPG_POOL_KEYS = ("max_lifetime", "max_idle", "check", "min_size", "max_size", "timeout", "reconnect_timeout")
# psycopg 3 connect() keywords SQLAlchemy's connect_args / psycopg_pool's kwargs may hold that are
# no libpq keyword but that pgpath models
_PSYCOPG_KEYWORDS = ("prepare_threshold",)

class _Imports:
    """The names the module binds to the constructors, and to the modules that hold them."""

    def __init__(self, tree: ast.Module) -> None:
        self.functions: dict[str, str] = {}  # local name -> create_engine / ConnectionPool ...
        self.modules: set[str] = set()  # local names of sqlalchemy / psycopg_pool (and their submodules)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module in _SQLA_MODULES or node.module in _POOL_MODULES:
                    wanted = SQLA_CALLS if node.module in _SQLA_MODULES else POOL_CALLS
                    for alias in node.names:
                        if alias.name in wanted:
                            self.functions[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    if top in ("sqlalchemy", "psycopg_pool"):
                        self.modules.add(alias.asname or top)

    def which(self, call: ast.Call) -> str | None:
        """`create_engine`, `ConnectionPool`... for a call of one of them, else None."""
        func = call.func
        if isinstance(func, ast.Name):
            return self.functions.get(func.id)
        if isinstance(func, ast.Attribute) and func.attr in SQLA_CALLS + POOL_CALLS:
            base = func.value
            while isinstance(base, ast.Attribute):  # sqlalchemy.ext.asyncio.create_async_engine
                base = base.value
            if isinstance(base, ast.Name) and base.id in self.modules:
                return func.attr
        return None


def _constants(tree: ast.Module) -> dict[str, ast.AST]:
    """Module-level names assigned exactly once (at the top level, and nowhere else in the module)."""
    seen: dict[str, int] = {}
    top: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            seen[node.id] = seen.get(node.id, 0) + 1
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            top[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            top[node.target.id] = node.value
    return {name: value for name, value in top.items() if seen.get(name) == 1}


def _target_name(assign: ast.AST | None) -> str | None:
    if isinstance(assign, ast.Assign) and len(assign.targets) == 1:
        target = assign.targets[0]
    elif isinstance(assign, ast.AnnAssign):
        target = assign.target
    else:
        return None
    parts: list[str] = []
    while isinstance(target, ast.Attribute):
        parts.append(target.attr)
        target = target.value
    if isinstance(target, ast.Name):
        parts.append(target.id)
        return ".".join(reversed(parts))
    return None


class _CodeReader:
    def __init__(self, doc: ConfigDoc, b: Builder, path: str, text: str, tree: ast.Module) -> None:
        from advisor.loaders.clients.django import _Reader

        self.doc, self.b, self.path = doc, b, path
        self.values = _Reader(doc, b, path, text)  # Django's reading of an expression, shared
        self.lines = self.values.lines
        self.constants = _constants(tree)

    def resolve(self, node: ast.AST) -> ast.AST:
        """A module constant's assigned expression in place of its name (a chain of them too)."""
        for _ in range(8):
            if isinstance(node, ast.Name) and node.id in self.constants:
                node = self.constants[node.id]
            else:
                break
        return node

    def value(self, key: str, node: ast.AST, secret: bool = False) -> Value:
        node = self.resolve(node)
        v = self.values.value(key, node, secret=secret)
        if isinstance(v.value, Unknown) and not secret:
            v.value = Unknown(redact_any(v.value.text))  # an f-string may hold a password
            v.raw = redact_any(v.raw or "")
        return v

    def options(self, node: ast.AST | None, section: str) -> dict[str, Value]:
        """The constant keys of a dict literal (connect_args={...}, kwargs={...}) with their values."""
        out: dict[str, Value] = {}
        node = self.resolve(node) if node is not None else None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            for kw in node.keywords:
                if kw.arg:
                    out[kw.arg] = self.value(kw.arg, kw.value, secret=is_secret_key(kw.arg))
        elif isinstance(node, ast.Dict):
            for k, vnode in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    out[k.value] = self.value(k.value, vnode, secret=is_secret_key(k.value))
        for key, v in out.items():
            record(self.doc, f"{section}.{key}", v, section)
        return out

    # ------------------------------------------------------------------------------------------

    def call(self, func: str, call: ast.Call, name: str) -> ClientEndpoint | None:
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        splat = [k.value for k in call.keywords if k.arg is None]
        sqla = func in SQLA_CALLS
        url_node = call.args[0] if call.args else kw.get("url" if sqla else "conninfo")
        if url_node is None:
            # create_engine() needs a URL; ConnectionPool() with no conninfo connects by the PG*
            # variables and libpq's defaults, which a module does not say: not read
            return None
        section = f"{func}()"
        args_key = "connect_args" if sqla else "kwargs"
        connect = {k: v for k, v in self.options(kw.get(args_key), args_key).items()
                   if k in KNOWN_KEYWORDS or k in _PSYCOPG_KEYWORDS or (sqla and k == "ssl")}
        libpq_over = {k: v for k, v in connect.items() if k not in _PSYCOPG_KEYWORDS}
        extra: dict[str, Value] = {}
        for key in SQLA_POOL_KEYS if sqla else PSYCOPG_POOL_KEYS:
            if key in kw:
                if key == "check":
                    extra[key] = self.check(kw[key])
                else:
                    extra[key] = self.value(key, kw[key])
                record(self.doc, key, extra[key], section)
        if "prepare_threshold" in connect:
            extra["prepare_threshold"] = connect["prepare_threshold"]

        resolved = self.resolve(url_node)
        url = self.value("url" if sqla else "conninfo", url_node)
        record(self.doc, "url" if sqla else "conninfo", url, section)
        span = node_span(self.path, call)
        if url.known:
            text = str(url.value)
            if getattr(url, "assumed", None):  # os.getenv("DATABASE_URL", "postgresql://..."): in the default
                from advisor.loaders.clients.django import env_default

                found = env_default(resolved)
                resolved = found[2] if found is not None else resolved
            loc = self.locator(resolved, text)
            parsed = parse(text, explicit=not sqla)
            if parsed is None or (sqla and parsed.form not in ("uri", "sqlalchemy")):
                return None  # another database (sqlite://, mysql://)
            params = {**params_from_string(parsed, loc), **libpq_over}
            assumed = getattr(url, "assumed", None)
            if assumed:  # the URL is a variable's default: so is every part of it
                for key in params:
                    if key not in libpq_over:
                        params[key].assumed = assumed
            if sqla:
                ep = sqlalchemy_endpoint(self.b, name, span, params, extra, parsed.dbapi, parsed)
            else:
                ep = libpq_endpoint(self.b, name, span, parsed.form, params, driver="psycopg_pool")
                _syntax(self.b, parsed, loc, name)
        else:
            unknown = url
            params = {"host": unknown, **libpq_over}
            if sqla:
                is_async = func == "create_async_engine"
                ep = sqlalchemy_endpoint(self.b, name, span, params, extra, "asyncpg" if is_async else None)
                if is_async:  # asyncpg or psycopg's async dialect: the URL says which
                    ep.dbapi, ep.prepares = "async (in the URL)", None
                    ep.keepalive = None
            else:
                ep = libpq_endpoint(self.b, name, span, "unknown", params, driver="psycopg_pool")
            ep.form, ep.template = "unknown", True
            # nor the port: a path is never guessed from libpq's default 5432 (the s06 worker's
            # os.environ["INGEST_DSN"] is the PgBouncer on 6432 its compose file sets)
            ep.ports = [unknown]
            # the URL may set what connect_args do not: the library's defaults are not known
            for attr in ("sslmode", "connect_timeout", "tcp_user_timeout", "ssl_min_protocol_version"):
                v = getattr(ep, attr)
                if v is None or v.origin in ("default", "os-default"):
                    setattr(ep, attr, Value(Unknown(unknown.raw or ""), unknown.raw, unknown.span, key=unknown.key))
            if ep.keepalive is not None and not any(k.startswith("keepalives") for k in libpq_over):
                ep.keepalive = None
        if sqla:
            ep.pool.python = "call"
            poolclass = kw.get("poolclass")
            if poolclass is not None and (getattr(poolclass, "id", None) == "NullPool"
                                          or getattr(poolclass, "attr", None) == "NullPool"):
                ep.pool = None  # a connection per checkout, closed on return: nothing is kept idle
        else:
            ep.pool = psycopg_pool_plan(self.b, extra)
            ep.prepares = psycopg_prepares(extra.get("prepare_threshold"),
                                           'kwargs={"prepare_threshold": None} in ConnectionPool()')
        if ep.prepares is not None:
            ep.prepares.read = True  # the call is here: what it does not write is the library's default
            if sqla and ep.prepares.library == "psycopg":
                ep.prepares.off = 'connect_args={"prepare_threshold": None} in create_engine()'
        if splat and ep.pool is not None:
            # **options may set any of them: the defaults are not known to apply
            said = ", ".join("**" + (self.values.segment(s) or "?") for s in splat)
            for attr, key in (("max_lifetime", "pool_recycle" if sqla else "max_lifetime"),
                              ("validation", "pool_pre_ping" if sqla else "check"),
                              ("max_idle", None if sqla else "max_idle")):
                if key is not None and key not in kw:
                    setattr(ep.pool, attr, Value(Unknown(said), said, node_span(self.path, splat[0]), key=key))
        return ep

    def check(self, node: ast.AST) -> Value:
        """psycopg_pool's `check=`: None is no check; any other expression is a callable that checks."""
        node = self.resolve(node)
        span = node_span(self.path, node)
        if isinstance(node, ast.Constant) and node.value is None:
            return param_value("check", "None", span)
        src = self.values.segment(node) or "?"
        return param_value("check", src, span)

    def locator(self, node: ast.AST, text: str) -> Locator:
        from advisor.loaders.clients.django import _locator

        return _locator(self.path, self.lines, node, text)


def code_endpoints(doc: ConfigDoc, b: Builder, path: str, text: str, tree: ast.Module) -> list[ClientEndpoint]:
    """One endpoint per SQLAlchemy engine or psycopg_pool pool the module creates."""
    imports = _Imports(tree)
    if not imports.functions and not imports.modules:
        return []
    reader: _CodeReader | None = None
    out: list[ClientEndpoint] = []
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            parents[id(node.value)] = node
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = imports.which(node)
        if func is None:
            continue
        reader = reader or _CodeReader(doc, b, path, text, tree)
        name = _target_name(parents.get(id(node))) or f"{func}() line {node.lineno}"
        ep = reader.call(func, node, name)
        if ep is not None:
            out.append(ep)
    out.sort(key=lambda e: (e.span.line or 0, e.span.col or 0))
    return out

