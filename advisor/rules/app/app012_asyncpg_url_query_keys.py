"""A `postgresql+asyncpg://` URL with query keys that asyncpg.connect() cannot take from it.

## What it checks
SQLAlchemy URLs of the asyncpg dialect (`postgresql+asyncpg://...?key=value`) whose query holds
a key that breaks every connection: a libpq keyword (`sslmode`, `keepalives_idle`,
`connect_timeout`, `application_name`, `sslrootcert`, `options`...), or one of asyncpg's own
numeric or object arguments (`timeout`, `statement_cache_size`, `server_settings`...), or an
`ssl` value that is no SSL mode.

`asyncpg.connect()` and `asyncpg.create_pool()` called in code read their DSN themselves
(advisor.loaders.clients.pycode): a query key asyncpg does not read (`keepalives_idle`,
`connect_timeout`, ...) is sent to the server as a setting, and one that is no PostgreSQL setting
is reported.

## Why it matters
SQLAlchemy's asyncpg dialect hands every query key of the URL to `asyncpg.connect()` as a
keyword argument, as text (`create_connect_args`: `opts.update(url.query)`; only `port` and
`prepared_statement_cache_size` are converted). `asyncpg.connect()` has no libpq keywords, so
the first connection raises `TypeError: connect() got an unexpected keyword argument 'sslmode'`,
and so does every later one; asyncpg's own numeric arguments fail as text (`timeout=5`:
`unsupported operand type(s) for +: 'float' and 'str'`). The application never reaches the
database. (pgpath's tests run SQLAlchemy and asyncpg on each key and compare.) The keys that
work from the URL are `host`, `port`, `user`, `password`, `database`, `passfile`, `service`,
`servicefile`, `target_session_attrs`, `krbsrvname`, `gsslib`, `command_timeout`,
`prepared_statement_cache_size` and `ssl` (one of disable, allow, prefer, require, verify-ca,
verify-full).

## Fix
Write `ssl=<mode>` for `sslmode=<mode>`; pass numbers and settings in code:
`create_async_engine(url, connect_args={"timeout": 10, "server_settings": {"application_name":
"api"}})`; drop libpq's keepalive keys (asyncpg has none).

asyncpg sends `server_settings` as startup parameters. When the URL's path goes through a
PgBouncer, that PgBouncer answers them itself (PATH007): it accepts the parameters it tracks
(`application_name`, `TimeZone`, `DateStyle`...; an `options` of `-c` words for them from 1.20)
and refuses the rest (`unsupported startup parameter: statement_timeout`), or drops them when
ignore_startup_parameters names them. There the fix for `statement_timeout`, `search_path`,
`options` is the role's value on the server: `ALTER ROLE api SET statement_timeout = '30s'`
(or `track_extra_parameters` for a parameter PostgreSQL reports, such as `search_path` from
PostgreSQL 18, on PgBouncer 1.20 or later). Lab: `server_settings={"statement_timeout": "30s"}`
through PgBouncer 1.18 fails with `ProtocolViolationError: unsupported startup parameter:
statement_timeout`; `{"application_name": "api"}` connects (tests/test_asyncpg_url.py).

asyncpg.connect()'s own DSN parser (connect_utils `_parse_connect_dsn_and_args`) reads host, port,
user, password, database/dbname, passfile, the `ssl*` keys (sslmode, sslrootcert, sslcert, sslkey,
sslcrl, sslpassword, sslnegotiation, ssl_min/max_protocol_version), target_session_attrs,
krbsrvname, gsslib and service, and sends every other query key in the StartupMessage with its
server_settings: `postgresql://app@db/app?keepalives_idle=30` draws `FATAL: unrecognized
configuration parameter "keepalives_idle"` at every connect, while `?application_name=api` is
applied as the session's setting.

## References
- SQLAlchemy asyncpg dialect: https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#module-sqlalchemy.dialects.postgresql.asyncpg
- asyncpg.connect(): https://magicstack.github.io/asyncpg/current/api/index.html#connection
"""

from advisor.findings import Severity
from advisor.rules.app.common import endpoints
from advisor.rules.rule import Rule

# what the URL's authority and path give: SQLAlchemy's translate_connect_args
_FROM_THE_URL = frozenset({"user", "password", "host", "port", "dbname"})
# keys that work from the query, as text (SQLAlchemy 2.1.9, asyncpg 0.32.0:
# tests/test_asyncpg_url.py runs each)
WORKS = frozenset({"host", "port", "user", "password", "database", "passfile", "service", "servicefile",
                   "target_session_attrs", "krbsrvname", "gsslib", "command_timeout",
                   "prepared_statement_cache_size", "ssl"})
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# asyncpg's own arguments that fail as text, with what to write in connect_args instead
_IN_CODE = {"timeout": "10", "statement_cache_size": "0", "max_cached_statement_lifetime": "300",
            "max_cacheable_statement_size": "15360", "server_settings": '{"application_name": "api"}',
            "direct_tls": "True", "prepared_statement_name_func": "<a function>"}
_SERVER_SETTINGS = frozenset({"application_name", "options", "search_path", "statement_timeout"})


def check(ctx):
    for _doc, ep in endpoints(ctx):
        if ep.driver == "asyncpg":
            yield from _plain(ep)
            continue
        if ep.driver != "sqlalchemy" or ep.dbapi != "asyncpg":
            continue
        for key, v in ep.params.items():
            if key in _FROM_THE_URL:
                continue
            text = v.display
            if key in WORKS:
                if key == "ssl" and v.known and str(v.value).lower() not in SSL_MODES:
                    yield RULE.finding(
                        v.span or ep.span,
                        f"{ep.who()}: ssl={text}: asyncpg takes an SSL mode here, and refuses the connection "
                        f"(`sslmode` parameter must be one of: {', '.join(SSL_MODES)})",
                        "ssl=require (or verify-full with a root certificate), or an ssl.SSLContext in "
                        "connect_args={\"ssl\": ...}")
                continue
            fix = _fix(key, text)
            if key in _SERVER_SETTINGS:
                fix = _through_pgbouncer(ctx, ep, key, v, text) or fix
            yield RULE.finding(v.span or ep.span, f"{ep.who()}: {_why(key, text)}", fix)


def _plain(ep):
    """asyncpg.connect()/create_pool() called in code: its own DSN parser sends every query key it
    does not read to the server as a setting, and PostgreSQL refuses a name that is no setting of
    its own (nor an extension's `x.y`): `unrecognized configuration parameter`, at every connect."""
    from advisor.catalog import load_catalog
    from advisor.model.client import ASYNCPG_READS

    catalog = None
    for key, v in ep.params.items():
        if key in ASYNCPG_READS or key in ("options", "replication") or "." in key or v.span is None:
            continue
        catalog = catalog or load_catalog()
        if catalog.lookup(key) is not None:
            continue  # a PostgreSQL setting (statement_timeout, application_name): sent, applied (PATH007)
        text = v.display
        fix = ("remove it: asyncpg has no keepalive setting (the server's tcp_keepalives_idle can probe the "
               "connection)" if key.startswith("keepalives") else
               f"remove it; asyncpg.connect(..., timeout={text})" if key == "connect_timeout" else
               f"remove {key}={text}")
        yield RULE.finding(v.span, f"{ep.who()} (asyncpg): {key}={text}: asyncpg reads no {key} and sends every "
                                   "query key of its DSN it does not read to the server as a setting (server_settings), "
                                   f"which PostgreSQL refuses: every connection fails with FATAL: unrecognized "
                                   f"configuration parameter \"{key}\"", fix)


def _through_pgbouncer(ctx, ep, key: str, v, text: str) -> str | None:
    """The fix for a setting moved into server_settings when the URL's path goes through a
    PgBouncer that refuses or drops that startup parameter: the role's value on the server (or
    track_extra_parameters); None when there is no PgBouncer, or when it takes the parameter."""
    from advisor.rules.path import path007_startup_parameters_through_pgbouncer as startup

    path, index = startup.first_pgbouncer(ctx, ep)
    if path is None:
        return None
    end = path.hops[index]
    model = end.doc.model
    sent = startup.options_sent(text, v) if key == "options" else [startup.Sent(key, text, v, False)]
    judged = [(s, *startup.verdict(s, model)) for s in sent]
    bad = [(s, why) for s, status, why in judged if status != "ok"]
    if not bad:
        return None
    role, major = startup.server_role(path, ep), startup.server_major(path)
    fixes = []
    for s, _why in bad:
        own = startup.pgbouncer_fix(s, model, end.doc, major) if s.name else None
        fixes.append(own or (f"ALTER ROLE {role or '<user>'} SET {s.name} = {startup.quoted(s.text)} on the server"
                             if s.name else f"drop {s.word}"))
    said = "; ".join(dict.fromkeys(why for _s, why in bad))
    return (f"remove {key}={text} from the URL, and not into server_settings: asyncpg sends those as startup "
            f"parameters, which {end.label} answers itself ({said}); instead " + "; ".join(dict.fromkeys(fixes)))


def _why(key: str, text: str) -> str:
    if key in _IN_CODE:
        return (f"{key}={text} reaches asyncpg.connect() as text (SQLAlchemy passes each query key as it is), "
                "which asyncpg does not take for a number or an object: every connection fails with a TypeError")
    return (f"SQLAlchemy passes each query key of a postgresql+asyncpg URL to asyncpg.connect() as a keyword "
            f"argument, and asyncpg.connect() has no {key}: every connection fails with TypeError: connect() got "
            f"an unexpected keyword argument '{key}'")


def _fix(key: str, text: str) -> str:
    if key == "sslmode":
        return f"ssl={text} instead of sslmode={text} (asyncpg's name for it)"
    if key == "connect_timeout":
        return f'remove connect_timeout={text}; create_async_engine(url, connect_args={{"timeout": {text}}})'
    if key in _IN_CODE:
        return f'remove {key}={text}; create_async_engine(url, connect_args={{"{key}": {_IN_CODE[key]}}})'
    if key in _SERVER_SETTINGS:
        return (f'remove {key}={text}; create_async_engine(url, connect_args={{"server_settings": '
                f'{{"{key}": "{text}"}}}})')
    if key.startswith("keepalives") or key == "tcp_user_timeout":
        return f"remove {key}={text} (asyncpg has no keepalive setting: the server's tcp_keepalives_idle can probe the connection)"
    if key in ("sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword"):
        return f'remove {key}={text}; pass an ssl.SSLContext that loads it: connect_args={{"ssl": context}}'
    return f"remove {key}={text} from the URL"


RULE = Rule(
    code="APP012",
    name="asyncpg-url-query-keys",
    severity=Severity.ERROR,
    summary="A postgresql+asyncpg URL with query keys that asyncpg.connect() cannot take: every connection fails",
    needs=("client",),
    check=check,
    doc=__doc__,
)
