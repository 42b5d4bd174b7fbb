"""Django `DATABASES` in a settings module, read with `ast` and never executed.

`DATABASES = {"default": {...}}` (also `DATABASE = {...}` of NetBox-style configuration files).
Keys: ENGINE (only `...postgresql`/`postgis` backends are clients pgpath models), NAME, USER,
PASSWORD, HOST, PORT, CONN_MAX_AGE (seconds; 0 = close after each request, None = unlimited),
CONN_HEALTH_CHECKS (Django 4.1+), OPTIONS (passed to psycopg, i.e. libpq keywords such as
`sslmode`, `connect_timeout`, `keepalives_idle`; `pool` = Django 5.1+ psycopg_pool).
`dj_database_url.config(default=..., conn_max_age=..., conn_health_checks=...)` is understood too
(its `default` URL read as the assumed value of DATABASE_URL, or of its `env=` variable).

Anything computed at run time (`os.environ[...]`, `env("X")`, names, calls) is `Unknown`. A variable
read with a constant default (`os.environ.get("DB_HOST", "pgbouncer")`, `os.getenv("X", "d")`,
django-environ/decouple `env("X", default="d")`, `config("X", default="d")`, also inside `int()`
or `str()`) is read as its default, assumed (Value.assumed = the variable's name): the value
when the variable is unset. An empty or None default stays unknown (kept as a hint).
"""

from __future__ import annotations

import ast
import functools
import math
import re
from typing import Any

from advisor.loaders.clients.build import Builder, endpoint_from_string, libpq_endpoint, param_value, psycopg_pool_plan
from advisor.model.client import ClientEndpoint, Pool, ServerCursors, Value, default
from advisor.loaders.clients.extract import is_secret_key, record
from advisor.loaders.clients.strings import Locator
from advisor.model import ConfigDoc, Diagnostic, Span, Unknown
from advisor.units import client_bool, shorten

NOT_LIBPQ_OPTIONS = {"pool", "isolation_level", "server_side_binding", "assume_role", "cursor_factory", "context",
                     "prepare_threshold"}
_ENV_CALLS = {"get", "getenv", "env", "config", "int", "bool", "str", "float", "db", "url", "get_value"}


def node_span(path: str, node: ast.AST) -> Span:
    """Where a node of a Python module's syntax tree is written (1-based columns)."""
    return Span(path, node.lineno, node.col_offset + 1, getattr(node, "end_lineno", None),
                (getattr(node, "end_col_offset", None) or 0) + 1)


def _locator(path: str, text_lines: list[str], node: ast.AST, value: str) -> Locator:
    whole = node_span(path, node)
    if node.lineno == getattr(node, "end_lineno", None):
        src = text_lines[node.lineno - 1][node.col_offset:node.end_col_offset]
        prefix = 0
        while prefix < len(src) and src[prefix] in "rRbBuU":
            prefix += 1
        body = src[prefix:]
        if len(body) >= 2 and body[0] in "'\"" and body[1:-1] == value:
            return Locator(path, node.lineno, node.col_offset + prefix + 2, True, whole)
    return Locator.approximate(whole)


def evaluate(node: ast.AST) -> tuple[Any, bool, str | None]:
    """(value, known, hint) of an expression without running it."""
    if isinstance(node, ast.Constant):
        return node.value, True, None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -node.operand.value, True, None
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if isinstance(k, ast.Constant):
                out[k.value] = v
        return out, True, None
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _ENV_CALLS:
            dflt = None
            if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                dflt = node.args[1].value
            for kw in node.keywords:
                if kw.arg == "default" and isinstance(kw.value, ast.Constant):
                    dflt = kw.value.value
            return None, False, None if dflt is None else str(dflt)
    return None, False, None


_CASTS = {"int": int, "str": str, "float": float}
_NO_DEFAULT = object()


def env_default(node: ast.AST) -> tuple[str, Any, ast.AST] | None:
    """(`DB_HOST`, "pgbouncer", the default's node) for `os.environ.get("DB_HOST", "pgbouncer")`, `os.getenv(...)`,
    `environ.get(...)`, `env("X", default=...)`, `config("X", default=...)`, `env.int("X",
    default=...)`, and those inside `int()`, `str()` or `float()`; None for anything else (no
    default, an empty or None default, a default that is no constant)."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if isinstance(func, ast.Name) and name in _CASTS:
        if len(node.args) != 1 or node.keywords:
            return None
        inner = env_default(node.args[0])
        if inner is None:
            return None
        try:
            return inner[0], _CASTS[name](inner[1]), inner[2]
        except (TypeError, ValueError):
            return None
    if name not in _ENV_CALLS or not node.args or not isinstance(node.args[0], ast.Constant) \
            or not isinstance(node.args[0].value, str):
        return None
    dflt: Any = _NO_DEFAULT
    where: ast.AST = node
    if name in ("get", "getenv"):
        owner = func.value if isinstance(func, ast.Attribute) else None
        environ = (isinstance(owner, ast.Attribute) and owner.attr == "environ") or (
            isinstance(owner, ast.Name) and owner.id in ("environ", "os"))
        if name == "get" and not (isinstance(owner, ast.Attribute) and owner.attr == "environ"
                                  or isinstance(owner, ast.Name) and owner.id == "environ"):
            return None  # a dict's or a parser's get (configparser.get(section, option))
        if not (environ or isinstance(func, ast.Name)):
            return None
        if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            dflt, where = node.args[1].value, node.args[1]
    elif name == "config" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
        dflt, where = node.args[1].value, node.args[1]  # python-decouple: config(option, default, cast)
    for kw in node.keywords:
        if kw.arg == "default" and isinstance(kw.value, ast.Constant):
            dflt, where = kw.value.value, kw.value
    if dflt is _NO_DEFAULT or dflt is None or dflt == "" or isinstance(dflt, bytes):
        return None
    return node.args[0].value, dflt, where


class _Reader:
    def __init__(self, doc: ConfigDoc, b: Builder, path: str, text: str) -> None:
        self.doc, self.b, self.path, self.lines = doc, b, path, text.split("\n")

    def segment(self, node: ast.AST) -> str | None:
        """The source text of a node (ast.get_source_segment splits the whole text on every call:
        quadratic over a large settings module)."""
        l0, l1 = node.lineno - 1, getattr(node, "end_lineno", None)
        c0, c1 = node.col_offset, getattr(node, "end_col_offset", None)
        if l1 is None or c1 is None or not 0 <= l0 < len(self.lines) or l1 > len(self.lines):
            return None
        l1 -= 1
        if l0 == l1:
            return self.lines[l0].encode()[c0:c1].decode("utf-8", "replace")
        parts = [self.lines[l0].encode()[c0:].decode("utf-8", "replace"), *self.lines[l0 + 1:l1],
                 self.lines[l1].encode()[:c1].decode("utf-8", "replace")]
        return "\n".join(p.rstrip("\r") for p in parts)

    def value(self, key: str, node: ast.AST, secret: bool = False) -> Value:
        v, known, hint = evaluate(node)
        span = node_span(self.path, node)
        if not known:
            src = self.segment(node) or "?"
            found = env_default(node)
            if found is not None:  # the default: its span, the constant's
                return param_value(key, found[1], node_span(self.path, found[2]), False, None, secret, assumed=found[0])
            return param_value(key, Unknown(src), span, True, hint, secret)
        return param_value(key, v, span, False, None, secret)

    def alias(self, alias: str, node: ast.Dict, anchor: ast.AST) -> ClientEndpoint | None:
        entries = {k.value: v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        engine = entries.get("ENGINE")
        if engine is None:
            return None
        ev, known, _ = evaluate(engine)
        if known and not ("postgresql" in str(ev) or "postgis" in str(ev)):
            return None
        section = f"DATABASES[{alias!r}]"
        params: dict[str, Value] = {}
        for key, target in (("NAME", "dbname"), ("USER", "user"), ("PASSWORD", "password"), ("HOST", "host"), ("PORT", "port")):
            if key in entries:
                v = self.value(target, entries[key], secret=key == "PASSWORD")
                self._record(f"{key}", v, entries[key], section)
                if v.known and v.value in ("", None):
                    continue  # Django: empty = libpq's default
                params[target] = v
        options_node = entries.get("OPTIONS")
        pool_node = None
        psycopg_kw: dict[str, Value] = {}  # psycopg 3 keywords of OPTIONS (server_side_binding, prepare_threshold)
        if isinstance(options_node, ast.Dict):
            for k, vnode in zip(options_node.keys, options_node.values):
                if not isinstance(k, ast.Constant) or not isinstance(k.value, str):
                    continue
                if k.value == "pool":
                    pool_node = vnode
                    continue
                v = self.value(k.value, vnode, secret=is_secret_key(k.value))
                if isinstance(vnode, ast.Constant) and isinstance(vnode.value, str):
                    v.span = _locator(self.path, self.lines, vnode, vnode.value).whole
                self._record(f"OPTIONS.{k.value}", v, vnode, section)
                if k.value not in NOT_LIBPQ_OPTIONS:
                    params[k.value] = v
                elif k.value in ("server_side_binding", "prepare_threshold"):
                    psycopg_kw[k.value] = v
        ep = libpq_endpoint(self.b, section, node_span(self.path, anchor), "django", params, driver="django")
        ep.prepares = _django_prepares(psycopg_kw)
        for key in ("DISABLE_SERVER_SIDE_CURSORS", "ATOMIC_REQUESTS"):
            if key in entries:
                self._record(key, self.value(key, entries[key]), entries[key], section)
        ep.server_cursors = self.server_cursors(entries.get("DISABLE_SERVER_SIDE_CURSORS"), entries.get("ATOMIC_REQUESTS"),
                                                f'"DISABLE_SERVER_SIDE_CURSORS": True in {section}')
        age_node, hc_node = entries.get("CONN_MAX_AGE"), entries.get("CONN_HEALTH_CHECKS")
        age = self.value("CONN_MAX_AGE", age_node) if age_node is not None else default(0.0)
        if age_node is not None:
            self._record("CONN_MAX_AGE", age, age_node, section)
            if isinstance(age_node, ast.Constant) and age_node.value is None:
                age.value = math.inf
            elif age.known:
                if not isinstance(age.value, (int, float)) or isinstance(age.value, bool):
                    self.b.invalid(age, f"CONN_MAX_AGE must be a number of seconds or None, not {age.raw!r}",
                                   '"CONN_MAX_AGE": 60')
                    age.value = None
                else:
                    self._age_seconds(age, "CONN_MAX_AGE", '"CONN_MAX_AGE": None')
        hc = self.value("CONN_HEALTH_CHECKS", hc_node) if hc_node is not None else default(False)
        if hc_node is not None:
            self._record("CONN_HEALTH_CHECKS", hc, hc_node, section)
            if hc.known and not isinstance(hc.value, bool):
                hc.value = client_bool(str(hc.value))
        persistent = not (age.known and age.value == 0)
        ep.pool = Pool("django", age, default(math.inf), hc,
                       "Django checks a persistent connection before reusing it only with CONN_HEALTH_CHECKS=True",
                       persistent=persistent)
        ep.pool.python = "dict"
        if pool_node is not None:
            pv, known, _ = evaluate(pool_node)
            if not (known and pv is False):
                extra = {}
                if isinstance(pv, dict):
                    for k, vnode in pv.items():
                        extra[k] = self.value(k, vnode)
                ep.pool = psycopg_pool_plan(self.b, extra)
                ep.pool.library = "psycopg_pool"
        return ep

    def server_cursors(self, disable: ast.AST | None, atomic: ast.AST | None, off: str) -> ServerCursors:
        """Whether QuerySet.iterator() reads through a server-side cursor: Django's default, unless
        DISABLE_SERVER_SIDE_CURSORS (dj_database_url: disable_server_side_cursors=) is true."""
        if disable is None:
            used = default(True)
        else:
            v = self.value("DISABLE_SERVER_SIDE_CURSORS", disable)
            used = Value(not bool(v.value) if v.known else v.value, v.raw, v.span, v.origin, v.key)
        a = self.value("ATOMIC_REQUESTS", atomic) if atomic is not None else None
        return ServerCursors(used, a is not None and a.known and a.value is True, off)

    def _record(self, name: str, v: Value, node: ast.AST, section: str) -> None:
        v.span = v.span or node_span(self.path, node)
        record(self.doc, name, v, section)

    def _age_seconds(self, age: Value, key: str, fix: str) -> None:
        """A number of seconds CONN_MAX_AGE (conn_max_age of dj-database-url) as a float; an int
        past a float (10**400) is refused as Django refuses it: it adds it to time.monotonic()
        when it connects, an OverflowError (int too large to convert to float)."""
        try:
            age.value = float(age.value)
        except OverflowError:
            self.b.invalid(age, f"{key} {shorten(age.raw)} is too large: Django adds it to time.monotonic() on "
                           "connecting and raises OverflowError (int too large to convert to float)",
                           f"{fix}  (connections kept open)")
            age.value = None

    def dj_database_url(self, alias: str, call: ast.Call, given: tuple | None = None) -> ClientEndpoint | None:
        """`given`: (text, locator) of the value the URL's variable has in the container that runs
        the settings (advisor.loaders.clients.env_join), read in place of what the call says."""
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        url_node = kw.get("default") or (call.args[0] if call.args else None)
        func = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        ep = None
        variable = _dj_variable(func, call, kw)
        if given is not None:
            if given[0] is not None:
                ep = endpoint_from_string(self.b, f"DATABASES[{alias!r}]", given[0], given[1], driver_hint="libpq")
                if ep is None:
                    return None
                ep.span = node_span(self.path, call)  # (the client is the call; its URL's values are spanned in the manifest)
        elif func == "parse" and isinstance(url_node, ast.Constant) and isinstance(url_node.value, str):
            loc = _locator(self.path, self.lines, url_node, url_node.value)
            ep = endpoint_from_string(self.b, f"DATABASES[{alias!r}]", url_node.value, loc, driver_hint="libpq")
        default_node = kw.get("default") or (call.args[1] if len(call.args) > 1 else None)
        if given is None and func == "config" and isinstance(default_node, ast.Constant) \
                and isinstance(default_node.value, str):
            # config(env="DATABASE_URL", default=...): the default is the URL while the variable is unset
            env_node = kw.get("env") or (call.args[0] if call.args else None)
            var = env_node.value if isinstance(env_node, ast.Constant) and isinstance(env_node.value, str) \
                else "DATABASE_URL"
            loc = _locator(self.path, self.lines, default_node, default_node.value)
            ep = endpoint_from_string(self.b, f"DATABASES[{alias!r}]", default_node.value, loc, driver_hint="libpq")
            if ep is not None:
                _assume(ep, var)
        if ep is None:
            # config(): the URL comes from the DATABASE_URL variable at run time
            unknown = Value(Unknown("DATABASE_URL"), "DATABASE_URL", node_span(self.path, call), key="DATABASE_URL",
                            hint=None)
            ep = ClientEndpoint("django", f"DATABASES[{alias!r}]", node_span(self.path, call), "unknown", template=True)
            ep.hosts, ep.sslmode, ep.connect_timeout, ep.keepalive = [unknown], unknown, unknown, None
        ep.driver = "django"
        age = self.value("conn_max_age", kw["conn_max_age"]) if "conn_max_age" in kw else default(0.0)
        if isinstance(kw.get("conn_max_age"), ast.Constant) and kw["conn_max_age"].value is None:
            age.value = math.inf
        elif age.known and isinstance(age.value, (int, float)):
            self._age_seconds(age, "conn_max_age", "conn_max_age=None")
        hc = self.value("conn_health_checks", kw["conn_health_checks"]) if "conn_health_checks" in kw else default(False)
        ep.pool = Pool("django", age, default(math.inf), hc,
                       "Django checks a persistent connection before reusing it only with CONN_HEALTH_CHECKS=True",
                       persistent=not (age.known and age.value == 0))
        ep.pool.python = "call"
        ep.server_cursors = self.server_cursors(kw.get("disable_server_side_cursors"), None,
                                                f"disable_server_side_cursors=True in dj_database_url.{func or 'config'}() "
                                                f"of DATABASES[{alias!r}]")
        if given is None and variable:  # read where it runs (advisor.loaders.clients.env_join)
            self.doc.meta.setdefault("_env_reads", {})[id(ep)] = {
                "variable": variable, "rebuild": functools.partial(self._dj_rebuild, alias, call)}
        return ep

    def _dj_rebuild(self, alias: str, call: ast.Call, text: str | None, loc, _url: Value) -> ClientEndpoint | None:
        """The dj_database_url call read with the container's value of its variable; what the first
        reading recorded and reported is not recorded again."""
        settings, diagnostics, reported = len(self.doc.settings), len(self.doc.diagnostics), len(self.b.diagnostics)
        try:
            return self.dj_database_url(alias, call, (text, loc))
        finally:
            del self.doc.settings[settings:], self.doc.diagnostics[diagnostics:], self.b.diagnostics[reported:]


def _dj_variable(func: str, call: ast.Call, kw: dict[str, ast.AST]) -> str | None:
    """The variable a dj_database_url call reads its URL from: config()'s `env` (DATABASE_URL by
    default); parse(os.environ["X"]) / parse(os.getenv("X")): X."""
    if func == "config":
        env = kw.get("env") or (call.args[0] if call.args else None)
        if env is None:
            return "DATABASE_URL"
        return env.value if isinstance(env, ast.Constant) and isinstance(env.value, str) and env.value else None
    if func == "parse" and call.args:
        from advisor.loaders.clients.pycode import env_variable

        return env_variable(call.args[0])
    return None


def _assume(ep: ClientEndpoint, var: str) -> None:
    """Every value the endpoint's connection string sets is the default of `var` (Value.assumed)."""
    values = [*ep.hosts, *ep.ports, *ep.params.values()]
    values += [getattr(ep, name) for name in ("dbname", "user", "password", "tcp_user_timeout", "connect_timeout",
                                              "sslmode", "sslrootcert", "ssl_min_protocol_version",
                                              "ssl_max_protocol_version")]
    if ep.keepalive is not None:
        values += [ep.keepalive.enabled, ep.keepalive.idle, ep.keepalive.interval, ep.keepalive.count]
    for v in values:
        if v is not None and v.origin in ("set", "env") and not v.unknown:
            v.assumed = var


def _django_prepares(kw: dict[str, Value]):
    """Django's psycopg 3 backend passes `prepare_threshold=OPTIONS.get("prepare_threshold")` (None:
    never prepare, "to keep connection poolers working"), and its default cursor binds on the
    client (psycopg ClientCursor, which never prepares): a Django client prepares only with both
    `"server_side_binding": True` and an integer `"prepare_threshold"` in OPTIONS. (With psycopg2
    both are ignored: the ENGINE is the same, so a file cannot tell; the OPTIONS say psycopg 3.)"""
    from advisor.loaders.clients.build import psycopg_prepares

    binding, threshold = kw.get("server_side_binding"), kw.get("prepare_threshold")
    if binding is None or threshold is None or not (binding.known and binding.value is True):
        return None
    prepares = psycopg_prepares(threshold, '"prepare_threshold": None in OPTIONS (or remove it: Django then passes None)',
                                library="psycopg")
    return prepares if prepares.threshold.value is not None else None


def python_endpoints(doc: ConfigDoc, b: Builder, path: str, text: str) -> list[ClientEndpoint]:
    """The clients of a Python module pgpath claimed (advisor.loaders.client_detect): Django's
    DATABASES, and SQLAlchemy engines and psycopg_pool pools created in code
    (advisor.loaders.clients.pycode). `doc.meta["format"]` is `python` when the module holds no
    Django DATABASES. A module that does not parse is a `syntax-error` (Python could not import it)."""
    from advisor.loaders.clients.pycode import code_endpoints

    settings = re.search(r"^[ \t]*DATABASES?\s*(?::[^=\n]*)?=", text, re.MULTILINE) is not None
    what = "settings module" if settings else "module"
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 1) or 1
        doc.diagnostics.append(Diagnostic("syntax-error", Span(path, line, (getattr(exc, "offset", 1) or 1)),
                                          f"Python cannot parse this {what}: {getattr(exc, 'msg', exc)}"))
        return []
    except (RecursionError, MemoryError):  # CPython's parser: "too many nested parentheses", stack overflow
        doc.diagnostics.append(Diagnostic("syntax-error", Span(path, 1, 1),
                                          f"Python cannot parse this {what}: its expressions are nested "
                                          "too deeply for the Python parser (Python could not import it either)"))
        return []
    django = django_endpoints(doc, b, path, text, tree)
    code = code_endpoints(doc, b, path, text, tree)
    if code and not django:
        doc.meta["format"] = "python"
    return django + code


def django_endpoints(doc: ConfigDoc, b: Builder, path: str, text: str, tree: ast.Module) -> list[ClientEndpoint]:
    reader = _Reader(doc, b, path, text)
    out: list[ClientEndpoint] = []
    later: list[tuple[str, str, ast.AST, ast.AST]] = []  # DATABASES[alias][KEY] = value
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        value = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            name = target.id if isinstance(target, ast.Name) else None
            if name == "DATABASES" and isinstance(value, ast.Dict):
                for k, v in zip(value.keys, value.values):
                    alias = k.value if isinstance(k, ast.Constant) else "?"
                    if isinstance(v, ast.Dict):
                        ep = reader.alias(str(alias), v, k or v)
                    elif isinstance(v, ast.Call):
                        ep = reader.dj_database_url(str(alias), v)
                    else:
                        ep = None
                    if ep is not None:
                        out.append(ep)
            elif name == "DATABASE" and isinstance(value, ast.Dict):
                ep = reader.alias("default", value, target)
                if ep is not None:
                    out.append(ep)
            elif (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Subscript)
                  and isinstance(target.value.value, ast.Name) and target.value.value.id == "DATABASES"
                  and isinstance(target.slice, ast.Constant) and isinstance(target.value.slice, ast.Constant)):
                later.append((str(target.value.slice.value), str(target.slice.value), value, target))
            elif (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                  and target.value.id == "DATABASES" and isinstance(value, (ast.Dict, ast.Call))):
                key = target.slice
                alias = key.value if isinstance(key, ast.Constant) else "?"
                ep = reader.alias(str(alias), value, target) if isinstance(value, ast.Dict) else reader.dj_database_url(str(alias), value)
                if ep is not None:
                    out.append(ep)
    for alias, key, value, target in later:
        # `DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True` after the dictionary
        if key not in ("DISABLE_SERVER_SIDE_CURSORS", "ATOMIC_REQUESTS"):
            continue
        for ep in out:
            if ep.name == f"DATABASES[{alias!r}]" and ep.server_cursors is not None:
                current = ep.server_cursors
                if key == "DISABLE_SERVER_SIDE_CURSORS":
                    current.used = reader.server_cursors(value, None, current.off).used
                else:
                    current.atomic = reader.server_cursors(None, value, current.off).atomic
                reader._record(key, reader.value(key, value), value, f"DATABASES[{alias!r}]")
    return out
