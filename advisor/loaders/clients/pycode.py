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

- plain connections (no pool: `ep.pool` None): `psycopg.connect(conninfo, **kwargs)` (and
  `Connection.connect`/`AsyncConnection.connect`), `psycopg2.connect(dsn, **kwargs)` (libpq keywords
  over the conninfo's; psycopg2's `database` is dbname; psycopg 3's `prepare_threshold`), and
  `asyncpg.connect(dsn, **kwargs)` (its own keywords; its DSN's sslmode/sslrootcert; no keepalives).
- asyncpg's pool: `asyncpg.create_pool(dsn, **kwargs)`: asyncpg.connect()'s keywords, and a pool
  that closes every connection idle `max_inactive_connection_lifetime` (300 s; 0: never) and checks
  none on acquire (but for a close it has seen).

Arguments are read as Django's settings are (advisor.loaders.clients.django): literals; a
module-level name assigned once in the module is read as what it is assigned (`DATABASE_URL =
"postgresql://..."` then `create_engine(DATABASE_URL)`: the URL, spanned in that literal);
`os.environ["X"]`, `os.getenv("X")`, calls and anything else are `Unknown` (named by their source
text); `os.environ.get("X", "d")`/`os.getenv("X", "d")` are read as the Django reader reads them
(django.env_default: the default, assumed, Value.assumed = "X"), and a URL that is such a default
is assumed in every part. A URL built from parts (f-strings, `.format`, `%`, `+`, `URL.create`,
`make_url`) is read part by part (advisor.loaders.clients.pyurl); one whose every host is unknown
links nothing. A `**options`
argument may hold any setting: those not written are then unknown rather than the library's
defaults. A call whose URL is known and no PostgreSQL URL (`sqlite://`) is no client.
"""

from __future__ import annotations

import ast
import functools
from typing import TYPE_CHECKING

from advisor.loaders.clients.build import (
    SSLMODES, Builder, _syntax, libpq_endpoint, param_value, params_from_string, psycopg_pool_plan, psycopg_prepares,
    sqlalchemy_endpoint,
)
from advisor.loaders.clients.django import node_span
from advisor.loaders.clients.extract import is_secret_key, record
from advisor.loaders.clients.libpq import KNOWN_KEYWORDS
from advisor.loaders.clients.strings import Locator, parse, redact_any
from advisor.model import ConfigDoc, Unknown
from advisor.model.client import ClientEndpoint, Value

if TYPE_CHECKING:
    from advisor.loaders.clients.pyurl import Composed

SQLA_CALLS = ("create_engine", "create_async_engine")
POOL_CALLS = ("ConnectionPool", "AsyncConnectionPool")
_SQLA_MODULES = ("sqlalchemy", "sqlalchemy.ext.asyncio", "sqlalchemy.engine", "sqlalchemy.engine.create")
_POOL_MODULES = ("psycopg_pool", "psycopg_pool.pool", "psycopg_pool.pool_async")
SQLA_POOL_KEYS = ("pool_recycle", "pool_pre_ping", "pool_size", "max_overflow", "pool_timeout", "pool_use_lifo")
PSYCOPG_POOL_KEYS = ("max_lifetime", "max_idle", "check", "min_size", "max_size", "timeout", "reconnect_timeout")
# psycopg 3 connect() keywords SQLAlchemy's connect_args / psycopg_pool's kwargs may hold that are
# no libpq keyword but that pgpath models
_PSYCOPG_KEYWORDS = ("prepare_threshold",)
# plain connections (no pool): psycopg.connect() / psycopg2.connect() (libpq keywords as keyword
# arguments over the conninfo) and asyncpg.connect() (its own keywords)
CONNECT_MODULES = ("psycopg", "psycopg2", "asyncpg")
CONNECT_CALLS = ("psycopg.connect", "psycopg2.connect", "asyncpg.connect", "asyncpg.create_pool")
# asyncpg.create_pool()'s own keywords (asyncpg 0.31 pool.create_pool; the rest go to connect())
ASYNCPG_POOL_KEYS = ("min_size", "max_size", "max_queries", "max_inactive_connection_lifetime")
# asyncpg.connect()'s keyword arguments that say where and how it connects (asyncpg 0.31
# connection.connect); `database` is its name for dbname
ASYNCPG_CONNECT_KEYWORDS = ("host", "port", "user", "password", "passfile", "database", "ssl", "timeout",
                            "command_timeout", "target_session_attrs", "statement_cache_size", "direct_tls")

class _Imports:
    """The names the module binds to the constructors, and to the modules that hold them."""

    def __init__(self, tree: ast.Module) -> None:
        self.functions: dict[str, str] = {}  # local name -> create_engine / ConnectionPool / psycopg.connect ...
        self.modules: set[str] = set()  # local names of sqlalchemy / psycopg_pool (and their submodules)
        self.drivers: dict[str, str] = {}  # local names of psycopg / psycopg2 / asyncpg -> which
        self.classes: set[str] = set()  # psycopg's Connection / AsyncConnection, whose .connect() connects
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module in _SQLA_MODULES or node.module in _POOL_MODULES:
                    wanted = SQLA_CALLS if node.module in _SQLA_MODULES else POOL_CALLS
                    for alias in node.names:
                        if alias.name in wanted:
                            self.functions[alias.asname or alias.name] = alias.name
                elif node.module in CONNECT_MODULES:
                    for alias in node.names:
                        if alias.name == "connect" or (alias.name == "create_pool" and node.module == "asyncpg"):
                            self.functions[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                        elif node.module == "psycopg" and alias.name in ("Connection", "AsyncConnection"):
                            self.classes.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    if top in ("sqlalchemy", "psycopg_pool"):
                        self.modules.add(alias.asname or top)
                    elif top in CONNECT_MODULES:
                        self.drivers[alias.asname or top] = top

    def which(self, call: ast.Call) -> str | None:
        """`create_engine`, `ConnectionPool`, `psycopg.connect`... for a call of one of them, else None."""
        func = call.func
        if isinstance(func, ast.Name):
            return self.functions.get(func.id)
        if isinstance(func, ast.Attribute) and func.attr == "create_pool":
            base = func.value
            return "asyncpg.create_pool" if isinstance(base, ast.Name) and self.drivers.get(base.id) == "asyncpg" \
                else None
        if isinstance(func, ast.Attribute) and func.attr == "connect":
            base = func.value
            if isinstance(base, ast.Name) and base.id in self.drivers:  # psycopg2.connect(...)
                return f"{self.drivers[base.id]}.connect"
            if isinstance(base, ast.Name) and base.id in self.classes:  # Connection.connect(...)
                return "psycopg.connect"
            if isinstance(base, ast.Attribute) and base.attr in ("Connection", "AsyncConnection") \
                    and isinstance(base.value, ast.Name) and self.drivers.get(base.value.id) == "psycopg":
                return "psycopg.connect"
            return None
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
        from advisor.loaders.clients.pyurl import Composer  # (only for a module that creates a client)

        self.composer = Composer(path, self.resolve, self.values.segment, self.locator, node_span)
        # (variable, its value's text, locator, Value) while `rebuild` reads a call with a container's value
        self.given: tuple[str, str | None, Locator | None, Value] | None = None

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

        key = "url" if sqla else "conninfo"
        span = node_span(self.path, call)
        target = self.string(url_node, key, section, explicit=not sqla)
        if target is None:
            return None  # another database (sqlite://, mysql://, f"sqlite:///{path}")
        parsed, loc, url, composed, assumed = target
        if parsed is not None and loc is not None:
            if sqla and parsed.form not in ("uri", "sqlalchemy"):
                return None  # another database (sqlite://, mysql://)
            params = {**params_from_string(parsed, loc), **libpq_over}
            if assumed:  # the URL is a variable's default: so is every part of it
                for k in params:
                    if k not in libpq_over:
                        params[k].assumed = assumed
            if sqla:
                ep = sqlalchemy_endpoint(self.b, name, span, params, extra, parsed.dbapi, parsed)
            else:
                ep = libpq_endpoint(self.b, name, span, parsed.form, params, driver="psycopg_pool")
                _syntax(self.b, parsed, loc, name)
            if composed is not None:
                _unknown_host_links_nothing(ep)
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

    def connect(self, func: str, call: ast.Call, name: str) -> ClientEndpoint | None:
        """A plain connection: psycopg.connect(conninfo, **libpq keywords), psycopg2.connect(dsn,
        **libpq keywords), asyncpg.connect(dsn, **its keywords). One connection, kept as long as the
        code keeps it: no pool (ep.pool None), so only what applies to a single connection is
        judged (keepalives against a middlebox, TLS, statement timeouts)."""
        library = func.split(".")[0]
        asyncpg = library == "asyncpg"
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        splat = [k.value for k in call.keywords if k.arg is None]
        section = f"{func}()"
        dsn_key = "dsn" if library in ("psycopg2", "asyncpg") else "conninfo"
        dsn_node = call.args[0] if call.args else kw.get(dsn_key)
        params: dict[str, Value] = {}
        form = "keyword"
        url = None
        if dsn_node is not None and not (isinstance(self.resolve(dsn_node), ast.Constant)
                                         and self.resolve(dsn_node).value in (None, "")):
            target = self.string(dsn_node, dsn_key, section, explicit=True)
            if target is None:
                return None
            parsed, loc, url, _composed, assumed = target
            if parsed is not None and loc is not None:
                params = params_from_string(parsed, loc)
                form = parsed.form
                if assumed:
                    for v in params.values():
                        v.assumed = assumed
                if not asyncpg:
                    _syntax(self.b, parsed, loc, name)
            else:
                form = "unknown"
        # keyword arguments win over the DSN's (psycopg's make_conninfo, psycopg2's make_dsn,
        # asyncpg's _parse_connect_dsn_and_args); None is left out (not passed on)
        keywords = ASYNCPG_CONNECT_KEYWORDS if asyncpg else KNOWN_KEYWORDS
        for k, node in kw.items():
            if k == dsn_key or (k not in keywords and k not in ("database", "prepare_threshold")):
                continue
            if isinstance(self.resolve(node), ast.Constant) and self.resolve(node).value is None \
                    and k != "prepare_threshold":  # (prepare_threshold=None: psycopg never prepares)
                continue
            v = self.value(k, node, secret=is_secret_key(k))
            record(self.doc, k, v, section)
            target_key = "dbname" if k == "database" and (asyncpg or library == "psycopg2") else k
            if k == "database" and library == "psycopg":
                continue  # no libpq keyword: psycopg 3 passes it to libpq, which refuses it
            params[target_key] = v
        if asyncpg and "server_settings" in kw:
            # sent to the server as settings at connect time, over the DSN's unknown query keys
            params.update(self.options(kw["server_settings"], "server_settings"))
        threshold = params.pop("prepare_threshold", None)
        span = node_span(self.path, call)
        if asyncpg:
            ep = self.asyncpg_endpoint(name, span, form, params, kw)
        else:
            ep = libpq_endpoint(self.b, name, span, form, params, driver="libpq")
            ep.dbapi = library
        if splat or form == "unknown":
            # **options, or a DSN unknown as a whole: what they may set is not known
            said = url.raw if form == "unknown" and url is not None else \
                ", ".join("**" + (self.values.segment(s) or "?") for s in splat)
            hint = Value(Unknown(said or "?"), said, node_span(self.path, splat[0] if splat else dsn_node),
                         key=dsn_key if form == "unknown" else None)
            if not any(k in params for k in ("host", "hostaddr")):
                ep.hosts = [hint]
            for attr in ("sslmode", "connect_timeout"):
                v = getattr(ep, attr)
                if v is None or v.origin in ("default", "os-default"):
                    setattr(ep, attr, Value(hint.value, hint.raw, hint.span, key=hint.key))
            if ep.keepalive is not None and not asyncpg and not any(k.startswith("keepalives") for k in params):
                ep.keepalive = None
            if form == "unknown":
                ep.template = True
        _unknown_host_links_nothing(ep)
        if library == "psycopg":
            ep.prepares = psycopg_prepares(threshold, f"prepare_threshold=None in {func}()")
            ep.prepares.read = True
        if asyncpg:
            ep.prepares = _asyncpg_statements(params.get("statement_cache_size"), func, bool(splat))
        if func == "asyncpg.create_pool":
            ep.pool = self.asyncpg_pool(kw, splat, section)
        return ep

    def asyncpg_pool(self, kw: dict[str, ast.AST], splat: list[ast.AST], section: str):
        """asyncpg.create_pool(): it closes every connection idle max_inactive_connection_lifetime
        (default 300 s; 0: never), min_size ones included, and reopens it on the next acquire; it
        checks nothing on acquire but whether it knows the connection closed (its event loop reads
        an idle connection, so a FIN or RST is seen as it comes; a silently dropped flow is not);
        it retires a connection after max_queries (50000) queries, not after a time; max_size 10."""
        import math

        from advisor.model.client import Pool, default
        from advisor.units import js_parse_number

        values: dict[str, Value] = {}
        for key in ASYNCPG_POOL_KEYS:
            if key in kw:
                values[key] = self.value(key, kw[key])
                record(self.doc, key, values[key], section)
        idle = values.get("max_inactive_connection_lifetime")
        if idle is not None:
            idle = self.b.typed(idle, js_parse_number,
                                lambda x: f'asyncpg max_inactive_connection_lifetime: "{x.raw}" is not a number of seconds',
                                lambda x: "max_inactive_connection_lifetime=<seconds>", unit="s")
            if idle is not None and idle.known and idle.value <= 0:
                idle.value = math.inf  # 0 disables it
        elif splat:
            said = ", ".join("**" + (self.values.segment(s) or "?") for s in splat)
            idle = Value(Unknown(said), said, node_span(self.path, splat[0]), key="max_inactive_connection_lifetime")
        pool = Pool("asyncpg", default(math.inf), idle or default(300.0), default(False),
                    "asyncpg's pool checks a connection on acquire only for a close it has seen (no query)",
                    values.get("max_size") or default(10))
        pool.min_size = values.get("min_size") or default(10)
        pool.python = "call"
        return pool

    def asyncpg_endpoint(self, name: str, span, form: str, params: dict[str, Value], kw: dict[str, ast.AST]) -> ClientEndpoint:
        """asyncpg.connect(): host, port, user, password, database from the DSN or keywords; TLS from
        `ssl` (True: ssl.create_default_context(), which verifies the certificate and the host name;
        False: none; one of libpq's six mode names; an SSLContext: not known here), else the DSN's
        `sslmode` (asyncpg reads it, and `sslrootcert`), else PGSSLMODE, else prefer. No keepalive
        probes (build.asyncpg_keepalive).
        `timeout` (default 60 s) bounds the connection attempt."""
        from advisor.loaders.clients.build import asyncpg_keepalive
        from advisor.model.client import default

        ep = ClientEndpoint("asyncpg", name, span, form, params=params, template=self.b.template)
        ep.hosts = [Value(part, part, v.span, v.origin, "host", assumed=v.assumed) for v in [params["host"]]
                    for part in str(v.value).split(",")] if "host" in params and params["host"].known else \
            ([params["host"]] if "host" in params else [])
        port = params.get("port")
        ep.ports = [port] if port is not None else []
        ep.dbname, ep.user, ep.password = params.get("dbname") or params.get("database"), params.get("user"), \
            params.get("password")
        ssl = params.get("ssl")
        if ssl is not None:
            node = self.resolve(kw["ssl"]) if "ssl" in kw else None
            raw = ssl.raw
            if isinstance(node, ast.Constant) and node.value is True:
                mode = Value("verify-full", raw, ssl.span, ssl.origin, "ssl")
            elif isinstance(node, ast.Constant) and node.value is False:
                mode = Value("disable", raw, ssl.span, ssl.origin, "ssl")
            elif ssl.known and str(ssl.value).lower() in SSLMODES:
                mode = Value(str(ssl.value).lower(), raw, ssl.span, ssl.origin, "ssl", assumed=ssl.assumed)
            else:  # an ssl.SSLContext, or a value asyncpg refuses
                mode = Value(Unknown(raw or "ssl"), raw, ssl.span, "set", "ssl")
            ep.sslmode = mode
        elif "sslmode" in params:
            v = params["sslmode"]
            ep.sslmode = Value(str(v.value).lower(), v.raw, v.span, v.origin, "sslmode", assumed=v.assumed) \
                if v.known and str(v.value).lower() in SSLMODES else Value(Unknown(v.raw or ""), v.raw, v.span, key="sslmode")
        else:
            ep.sslmode = default("prefer")
        ep.sslrootcert = params.get("sslrootcert")
        # asyncpg's own minimum when it makes the SSL context (connect_utils: TLSv1.2 unless the DSN's
        # ssl_min_protocol_version or PGSSLMINPROTOCOLVERSION says otherwise)
        ep.ssl_min_protocol_version = params.get("ssl_min_protocol_version") or default("TLSv1.2")
        ep.ssl_max_protocol_version = params.get("ssl_max_protocol_version")
        ep.keepalive = asyncpg_keepalive()
        timeout = params.get("timeout")
        ep.connect_timeout = timeout if timeout is not None else default(60.0)
        ep.tcp_user_timeout = default(0.0, "os-default")
        return ep

    def string(self, node: ast.AST, key: str, section: str, explicit: bool):
        """(parsed, locator, the Value recorded, Composed or None, the variable a whole-string default
        is assumed from) for a connection string argument; parsed and locator None when it is not
        known (`os.environ["DATABASE_URL"]`); None when it is a string of another database."""
        resolved = self.resolve(node)
        if self.given is not None and env_variable(resolved) == self.given[0]:
            # (rebuild: the value of the container that runs the code, spanned where it sets it)
            _var, text, loc, given = self.given
            url = Value(given.value, given.raw, given.span, given.origin, key, given.secret)
            if text is None or loc is None:
                return None, None, url, None, None
            parsed = parse(text, explicit=explicit)
            return None if parsed is None else (parsed, loc, url, None, None)
        composed = self.composer.compose(node)
        if composed is not None:
            # built from parts (an f-string, .format, %, +, URL.create): recorded as it reads,
            # the password redacted
            parsed = parse(composed.text, explicit=explicit)
            if parsed is not None:
                composed.hide(parsed)
            shown = composed.shown
            url = Value(Unknown(shown) if composed.unknown else shown, shown, node_span(self.path, resolved), key=key)
            record(self.doc, key, url, section)
            if parsed is None and (not composed.unknown or _scheme_known(composed)):
                return None  # f"sqlite:///{path}"
            if parsed is None:
                return None, None, url, composed, None
            for p in (*parsed.params, *parsed.unknown_keys):
                if not p.unknown and p.start >= 0:
                    p.assumed = composed.assumed_in(p.start, p.end) or p.assumed
            return parsed, composed.loc, url, composed, None
        url = self.value(key, node)
        record(self.doc, key, url, section)
        if not url.known:
            return None, None, url, None, None
        text = str(url.value)
        assumed = getattr(url, "assumed", None)
        if assumed:  # os.getenv("DATABASE_URL", "postgresql://..."): in the default
            from advisor.loaders.clients.django import env_default

            found = env_default(resolved)
            resolved = found[2] if found is not None else resolved
        parsed = parse(text, explicit=explicit)
        if parsed is None:
            return None  # sqlite://, mysql://
        return parsed, self.locator(resolved, text), url, None, assumed

    def rebuild(self, func: str, call: ast.Call, name: str, variable: str, text: str | None, loc: Locator | None,
                url: Value) -> ClientEndpoint | None:
        """The endpoint of `call` as it runs where `variable`, which it reads its URL from, is `text`
        (spanned by `loc` in the file that sets it; None: set but not known, a Secret's): the
        container's value in place of the read (advisor.loaders.clients.env_join). What the first
        reading recorded and reported (settings, diagnostics) is not recorded again; the container's
        file reports its own value."""
        settings, diagnostics, reported = len(self.doc.settings), len(self.doc.diagnostics), len(self.b.diagnostics)
        self.given = (variable, text, loc, url)
        try:
            return self.connect(func, call, name) if func in CONNECT_CALLS else self.call(func, call, name)
        finally:
            self.given = None
            del self.doc.settings[settings:], self.doc.diagnostics[diagnostics:], self.b.diagnostics[reported:]

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


def _asyncpg_statements(size: Value | None, func: str, splat: bool):
    """asyncpg.connect()/create_pool() name the statements they cache: with statement_cache_size >
    0 (default 100) every query with arguments (fetch, fetchrow, execute with args) is prepared
    as `__asyncpg_stmt_<n>__` on first use on a connection and run by name later; with 0 it uses
    the unnamed statement (asyncpg 0.31 connection._get_statement). None when it names none."""
    from advisor.model.client import Prepares, default

    off = f"statement_cache_size=0 in {func}()"
    if size is None:
        threshold = Value(Unknown("**options"), None, None, key="statement_cache_size") if splat \
            else default(100)
    elif size.known and str(size.value).strip() in ("0", "0.0", "False"):
        return None
    else:
        threshold = Value(size.value, size.raw, size.span, size.origin, "statement_cache_size", assumed=size.assumed)
    return Prepares("asyncpg", threshold, 1, "__asyncpg_stmt_1__", "statement_cache_size", off)


def _scheme_known(composed: Composed) -> bool:
    """The text starts with a known scheme (`sqlite:///`, `mysql://`): another database, whatever
    the unknown parts after it."""
    first = composed.pieces[0] if composed.pieces else None
    return first is not None and not first.unknown and "://" in first.text


def _unknown_host_links_nothing(ep: ClientEndpoint) -> None:
    """A URL built in code whose every host is unknown (`f"postgresql://app@{os.environ['DB_HOST']}:5432/app"`)
    names no port to link by either: where it points is filled in where it runs (as for a URL
    unknown as a whole: the s06 worker's os.environ["INGEST_DSN"] was the PgBouncer on 6432 its
    compose file set, not the PostgreSQL on 5432 beside it). The port is kept as written, unknown."""
    if not ep.hosts or any(h.known for h in ep.hosts):
        return
    said = "where it runs (its host is not known)"
    ports = ep.ports or [Value("5432", None, None, "default", "port")]
    ep.ports = [Value(Unknown(p.raw or str(p.value)), p.raw if p.raw is not None else str(p.value), p.span, p.origin,
                      key="port", hint=said) for p in ports]


def _url_node(func: str, call: ast.Call) -> ast.AST | None:
    """The argument a call takes its URL or conninfo from (as `call` and `connect` read it)."""
    if call.args:
        return call.args[0]
    keys = ("url",) if func in SQLA_CALLS else ("conninfo",) if func in POOL_CALLS else ("dsn", "conninfo")
    return next((k.value for k in call.keywords if k.arg in keys), None)


def env_variable(node: ast.AST | None) -> str | None:
    """`DATABASE_URL` for a read of that environment variable as a whole: `os.environ["DATABASE_URL"]`,
    `environ["X"]`, `os.environ.get("X")`, `os.getenv("X")`, `getenv("X")` (with or without a default);
    None for anything else (a URL built from parts, a settings object's attribute)."""
    def environ(owner: ast.AST) -> bool:
        return (isinstance(owner, ast.Attribute) and owner.attr == "environ" and isinstance(owner.value, ast.Name)
                and owner.value.id == "os") or (isinstance(owner, ast.Name) and owner.id == "environ")

    if isinstance(node, ast.Subscript) and environ(node.value):
        key = node.slice
    elif isinstance(node, ast.Call) and node.args and len(node.args) <= 2:
        func = node.func
        if not ((isinstance(func, ast.Attribute) and func.attr == "get" and environ(func.value))
                or (isinstance(func, ast.Attribute) and func.attr == "getenv" and isinstance(func.value, ast.Name)
                    and func.value.id == "os")
                or (isinstance(func, ast.Name) and func.id == "getenv")):
            return None
        key = node.args[0]
    else:
        return None
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value else None


def code_endpoints(doc: ConfigDoc, b: Builder, path: str, text: str, tree: ast.Module) -> list[ClientEndpoint]:
    """One endpoint per SQLAlchemy engine or psycopg_pool pool the module creates."""
    imports = _Imports(tree)
    if not imports.functions and not imports.modules and not imports.drivers and not imports.classes:
        return []
    reader: _CodeReader | None = None
    out: list[ClientEndpoint] = []
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            parents[id(node.value)] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Await) \
                and isinstance(node.value.value, ast.Call):
            parents[id(node.value.value)] = node  # conn = await asyncpg.connect(...)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = imports.which(node)
        if func is None:
            continue
        reader = reader or _CodeReader(doc, b, path, text, tree)
        name = _target_name(parents.get(id(node))) or f"{func}() line {node.lineno}"
        ep = reader.connect(func, node, name) if func in CONNECT_CALLS else reader.call(func, node, name)
        if ep is not None:
            out.append(ep)
            url = _url_node(func, node)
            variable = env_variable(reader.resolve(url)) if url is not None else None
            if variable:  # its URL is a variable of the environment it runs in (advisor.loaders.clients.env_join)
                doc.meta.setdefault("_env_reads", {})[id(ep)] = {
                    "variable": variable, "rebuild": functools.partial(reader.rebuild, func, node, name, variable)}
    out.sort(key=lambda e: (e.span.line or 0, e.span.col or 0))
    return out

