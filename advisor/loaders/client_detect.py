"""Which files hold client connection settings (kind `client`), by name and then by content.

Light on purpose (regexes only): `detect_kind` imports it on every run. By name: `pg_service.conf`,
dotenv files (`.env`, `.env.*`, `*.env`), Spring `application[-profile].properties|yml|yaml`,
`hikari.properties`. By content, only for the suffixes applications use for configuration
(`.yml .yaml .json .toml .ini .cfg .properties .py`, dotenv-like files without a suffix) and
only with a client signal: a PostgreSQL URL (`postgres://`, `postgresql+psycopg2://`,
`jdbc:postgresql:`), a `DATABASE_URL`/`*_DSN`/`PG*` variable (also as a Kubernetes container's
`env:` entry, `- name: PGHOST`), a Spring datasource, SQLAlchemy or
node-postgres pool options, a Django `DATABASES` with a PostgreSQL engine, or a Python module that
imports SQLAlchemy or psycopg_pool and calls `create_engine()`/`create_async_engine()`/
`ConnectionPool()`/`AsyncConnectionPool()` with no URL of another database, or a JavaScript or
TypeScript module (`.js .mjs .cjs .jsx .ts .mts .cts .tsx`) that imports `pg` or `pg-pool` and
constructs a `Pool` or `Client` (`new Pool(`, `new pg.Client(`). Never `.conf`
files other than pg_service.conf, never ini files with `[pgbouncer]`/`[databases]` (PgBouncer)
or HAProxy sections, so postgresql.conf, pgbouncer.ini and haproxy.cfg are never claimed.
"""

from __future__ import annotations

import re

from advisor import lazy_re

# PostgreSQL server images (the official one and those built on it or like it): a container of one
# runs the server (advisor.loaders.infra_yaml), and its own PG* variables are its tools' (extract)
POSTGRES_IMAGE = lazy_re.compile(r"(^|/)(postgres|postgis/postgis|timescale/timescaledb[\w-]*|pgvector/pgvector|"
                                 r"supabase/postgres|bitnami/postgresql|ankane/pgvector|postgis)(:|@|$)")
_ENV_NAME = lazy_re.compile(r"^(\.env(\..+)?|.+\.env|.+\.env\.[\w-]+|env\.(list|file))$")
_SPRING_NAME = lazy_re.compile(r"^(application|bootstrap)(-[\w.-]+)?\.(properties|ya?ml)$|^hikari\.properties$")
_URL = lazy_re.compile(r"(?:jdbc:postgresql:|\bpostgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://)")
_ENV_VAR = lazy_re.compile(r"(?:^|[\s\"'\-])(?:[A-Z0-9_]*DATABASE_URL|[A-Z0-9_]+_DSN|PG(?:HOST|PORT|DATABASE|USER|PASSWORD|"
                      r"SSLMODE|CONNECT_TIMEOUT|SERVICE|SSLROOTCERT|OPTIONS))\s*[=:]", re.MULTILINE)
# a Kubernetes container's env entry names the variable (`- name: PGHOST` then `value:` or `valueFrom:`)
_K8S_ENV_VAR = lazy_re.compile(r"[\"']?\bname[\"']?[ \t]*:[ \t]*[\"']?(?:[A-Z0-9_]*DATABASE_URL|[A-Z0-9_]+_DSN|"
                          r"PG(?:HOST|HOSTADDR|PORT|DATABASE|USER|PASSWORD|SSLMODE|CONNECT_TIMEOUT|SERVICE|"
                          r"SSLROOTCERT|OPTIONS))[\"']?[ \t]*(?:[,}\r]|$)", re.MULTILINE)
# (no two adjacent runs that can both take the same blanks: `\s*(?:\n\s+)?` backtracked quadratically
# over a run of blank lines)
_SPRING = lazy_re.compile(r"datasource[.:]\s*(?:url|jdbc-?url|hikari)|\bhikari[ \t]*:[ \t\r]*\n\s+(?:max|keepalive|idle|minimum)",
                     re.IGNORECASE)
_POOL = lazy_re.compile(r"\b(pool_pre_ping|pool_recycle|keepAliveInitialDelayMillis|idleTimeoutMillis|maxLifetimeSeconds|"
                   r"pool_max_conn_lifetime|pool_max_conns|sqlalchemy\.url)\b")
# a keyword/value connection string: `host=x` and later on its line `dbname=`, `port=`, `user=` or
# `sslmode=` (the regex `\bhost=[^\s'"]+[^\n]*\b(?:dbname|...)=` was cubic on `host=host=...`)
_HOST_KEY = lazy_re.compile(r"\bhost=[^\s'\"]")
_LATER_KEY = lazy_re.compile(r"\b(?:dbname|port|user|sslmode)=")
_NODE_KEEPALIVE = lazy_re.compile(r"[\"']?\bkeepAlive\b[\"']?\s*:")
_NODE_TARGET = lazy_re.compile(r"[\"']?\b(connectionString|database|host)\b[\"']?\s*:")
_DJANGO = lazy_re.compile(r"^[ \t]*DATABASES?\s*(?::[^=\n]*)?=", re.MULTILINE)
_PGB = lazy_re.compile(r"^[ \t]*\[(pgbouncer|databases)\][ \t]*\r?$", re.MULTILINE)
# an HAProxy section line: the keyword alone or followed by blanks and a name, never by `=` or `:`
# (`listen = 0.0.0.0:6543` is the waitress key of a Pyramid `[server:main]`, not a section)
_HAP = lazy_re.compile(r"^(?:frontend|backend|listen|defaults|global)(?:[ \t]+[^\s=:][^\n]*|[ \t]*)\r?$", re.MULTILINE)
# SQLAlchemy / psycopg_pool configured in code (advisor.loaders.clients.pycode): an import of the
# library and a call of its constructor whose first argument is no string literal of another
# database (`create_engine("sqlite://")` is not claimed; a name, an f-string of a PostgreSQL URL,
# `os.environ[...]` are)
_PY_IMPORT = lazy_re.compile(r"^[ \t]*(?:from[ \t]+(?:sqlalchemy|psycopg_pool|psycopg2?|asyncpg)\b[\w.]*[ \t]+import\b|"
                             r"import[ \t]+(?:sqlalchemy|psycopg_pool|psycopg2?|asyncpg)\b)", re.MULTILINE)
_PY_CALL = lazy_re.compile(r"\b(?:create_(?:async_)?engine|(?:Async)?ConnectionPool)[ \t]*\((?!\s*[rRuUbBfF]{0,2}"
                           r"[\"'](?!postgres|host=|dbname=|user=|port=|service=|[\"']))")
# a plain connection (pycode: psycopg.connect, psycopg2.connect, asyncpg.connect, psycopg's
# Connection.connect, or `connect(` imported from one of them)
_PY_CONNECT = lazy_re.compile(r"\b(?:(?:psycopg2?|asyncpg|Connection|AsyncConnection)[ \t]*\.[ \t]*connect|"
                              r"asyncpg[ \t]*\.[ \t]*create_pool)[ \t]*\(")
_PY_FROM_CONNECT = lazy_re.compile(r"^[ \t]*from[ \t]+(?:psycopg2?|asyncpg)[ \t]+import\b[^\n]*\b(?:connect|create_pool)\b",
                                   re.MULTILINE)
# node-postgres configured in JavaScript/TypeScript (advisor.loaders.clients.jscode): an import of pg
# or pg-pool (`require('pg')`, `from 'pg'`, `import('pg')`) and a constructor call (the reader decides
# whether it is pg's Pool or Client)
JS_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
_JS_USES_PG = lazy_re.compile(r"""(?:\brequire\s*\(\s*|\bfrom\s*|\bimport\s*\(?\s*)['"`]pg(?:-pool)?['"`]""")
_JS_CALL = lazy_re.compile(r"\bnew\s+[\w$(]")  # any `new` (an alias: `new PgPool(`, `new (require('pg').Pool)(`)
# Rails' config/database.yml with ActiveRecord's PostgreSQL adapter (advisor.loaders.clients.rails)
RAILS_NAMES = ("database.yml", "database.yaml")
_RAILS_ADAPTER = lazy_re.compile(r"^[ \t]*adapter[ \t]*:[ \t]*[\"']?(?:postgresql|postgis|postgres)[\"']?[ \t]*(?:#.*)?\r?$",
                                 re.MULTILINE)
_ENV_FILE_LINE = lazy_re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=", re.MULTILINE)

_COMMENT_LINE = lazy_re.compile(r"^[ \t]*(#|//|!).*$", re.MULTILINE)
CONTENT_SUFFIXES = (".yml", ".yaml", ".json", ".toml", ".ini", ".cfg", ".properties", ".py")


def _pool(text: str) -> bool:
    """Pool options, or a keyword/value connection string with a host (linear: when the first
    `host=` of a line has no key after it, no later one on that line has)."""
    if _POOL.search(text):
        return True
    pos = 0
    while True:
        m = _HOST_KEY.search(text, pos)
        if m is None:
            return False
        end = text.find("\n", m.end())
        end = len(text) if end < 0 else end
        if _LATER_KEY.search(text, m.end(), end):
            return True
        pos = end


def js_candidate(name: str, text: str) -> bool:
    """A JavaScript/TypeScript module that imports pg (or pg-pool) and constructs a Pool or Client
    (two regexes, no parsing: a `new` of any name, which the reader sees bound or not to pg's
constructors). Not type declarations (`.d.ts`) or minified bundles."""
    if not name.endswith(JS_SUFFIXES) or name.endswith((".d.ts", ".d.mts", ".d.cts", ".min.js")):
        return False
    return bool(_JS_USES_PG.search(text)) and bool(_JS_CALL.search(text))


def format_of(name: str) -> str | None:
    """The client format a (lower-case, template-suffix-free) file name implies, if any."""
    if name.endswith("pg_service.conf"):
        return "service"
    if _ENV_NAME.match(name):
        return "env"
    if _SPRING_NAME.match(name):
        return "properties" if name.endswith(".properties") else "yaml"
    return None


def rails_database_yml(name: str, text: str | None) -> bool:
    """A Rails database.yml with a PostgreSQL adapter or URL (on a line that is no comment)."""
    if name not in RAILS_NAMES or text is None:
        return False
    head = _COMMENT_LINE.sub("", text)
    return bool(_RAILS_ADAPTER.search(head) or _URL.search(head))


def detect(name: str, text: str | None) -> str | None:
    if text is None:
        return "client" if format_of(name) else None
    if rails_database_yml(name, text):
        return "client"
    head = text  # (the whole file: a large settings module keeps DATABASES near its end; the patterns are linear)
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix in (".ini", ".cfg"):
        if _PGB.search(head) or _HAP.search(head):
            return None
        return "client" if (_URL.search(head) or _pool(head)) else None
    if suffix == ".py":
        if _DJANGO.search(head) and re.search(r"postgres|postgis|dj_database_url", head):
            return "client"
        if _PY_IMPORT.search(head):
            head = _COMMENT_LINE.sub("", head)  # a commented-out example is no client
            if _PY_CALL.search(head) or _PY_CONNECT.search(head) or (
                    _PY_FROM_CONNECT.search(head) and re.search(r"\b(?:connect|create_pool)[ \t]*\(", head)):
                return "client"
        return None
    if suffix in JS_SUFFIXES:
        return "client" if js_candidate(name, head) else None
    if suffix in CONTENT_SUFFIXES:
        head = _COMMENT_LINE.sub("", head)  # a commented-out example is no client
        if _URL.search(head) or _ENV_VAR.search(head) or _SPRING.search(head) or _pool(head) \
                or _K8S_ENV_VAR.search(head):
            return "client"
        if _NODE_KEEPALIVE.search(head) and _NODE_TARGET.search(head):
            return "client"  # node-postgres options: keepAlive beside host/database/connectionString
        return None
    if suffix in ("", ".txt", ".example", ".sample", ".local", ".dev", ".prod", ".production", ".postgres"):
        # a dotenv-like file: most non-comment lines are KEY=value, and a client signal
        lines = [ln for ln in head.split("\n")[:500] if ln.strip() and not ln.lstrip().startswith("#")]
        if lines and len(_ENV_FILE_LINE.findall("\n".join(lines))) >= max(1, int(len(lines) * 0.8)):
            if _ENV_VAR.search(head) or _URL.search(head):
                return "client"
    return None
