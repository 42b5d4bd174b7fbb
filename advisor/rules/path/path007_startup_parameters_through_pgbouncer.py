"""A client sends a session setting at connect time through a PgBouncer that refuses or drops it.

## What it checks
For every client on an assembled path with a PgBouncer after it, the PostgreSQL parameters the
client puts in its StartupMessage:

- `-c name=value` / `--name=value` words in its `options` parameter (libpq and what uses it:
  psycopg, psycopg2, SQLAlchemy and Django over them; pgjdbc's `options` property; pgx;
  node-postgres);
- a pgx run-time parameter: a DSN key pgx does not read itself (`statement_timeout=900000`);
- an asyncpg.connect() setting: a DSN query key asyncpg does not read itself, or an entry of its
  `server_settings={...}` (both sent as startup parameters);
- node-postgres' `statement_timeout`, `lock_timeout` and `idle_in_transaction_session_timeout`
  (sent when not 0);
- pgjdbc's `search_path` (its `currentSchema` property), and `extra_float_digits`, which pgjdbc up
  to 42.7.4 puts in every StartupMessage by itself (`2`, or `3` with assumeMinServerVersion >= 9.0;
  ConnectionFactoryImpl.getParametersForStartup) and 42.7.5 and later never do (pgjdbc#3476: they
  run `SET extra_float_digits` after connecting, to servers before 12 only). The release is read
  from the application's build (the nearest pom.xml, build.gradle or build.gradle.kts:
  advisor.loaders.clients.jdbcversion); when no build file names it, a refusal of
  extra_float_digits is a warning that says so. Drivers that send nothing beyond what PgBouncer
  tracks unless told to: libpq (and psycopg, psycopg2, SQLAlchemy, Django over it), pgx,
  node-postgres (pg's Client.getStartupConf), asyncpg without server_settings.

The first PgBouncer on the path answers the StartupMessage itself (src/client.c,
decide_startup_pool and set_startup_options). It accepts a parameter it tracks per client:
`DateStyle`, `client_encoding`, `TimeZone`, `standard_conforming_strings`, `application_name`
(exact spelling), and from 1.20 those named in `track_extra_parameters` (default `IntervalStyle`).
`extra_float_digits` is none of them in any version (PostgreSQL does not report it; PgBouncer's
issue #909 is still open), so pgjdbc up to 42.7.4 needs it in ignore_startup_parameters, as
PgBouncer's sample configuration and the operators' generated files have it (CloudNativePG,
Crunchy, and the bitnami/pgbouncer image since November 2023, bitnami/containers#52335: its
default `PGBOUNCER_IGNORE_STARTUP_PARAMETERS=extra_float_digits` is dropped when the variable is
set to anything else; an image older than PgBouncer 1.22 leaves the default unknown). There it
is no warning: pgjdbc sets it again with `SET` after connecting unless assumeMinServerVersion >=
9.0, and from PostgreSQL 12 the server's default already prints floats exactly. Any other
parameter:

- is dropped without a word when its name is in `ignore_startup_parameters`, or, inside
  `options`, when `options` is (1.20.1 and later; 1.20.0 had a regression, not told apart here:
  pgpath's PgBouncer versions have no patch level) -> warning: the client believes a setting
  applies that does not;
- else closes the connection: `FATAL: unsupported startup parameter: statement_timeout`, or
  `unsupported startup parameter in options: statement_timeout` -> error.

PgBouncer before 1.20 does not read `options` at all: the whole parameter is refused
(`unsupported startup parameter: options`), even `-c application_name=...`, unless `options` is
in ignore_startup_parameters, which drops all of it. From 1.20 an `options` word other than
`-c name=value` (and `--name=value` from 1.23) is refused whatever is ignored.

SQLAlchemy's asyncpg URLs are left to APP012 (asyncpg itself refuses those keys first). Keys that
are not PostgreSQL settings (libpq's `keepalives*` in a pgx DSN, and pgx's own keys of its other
major: v4's `statement_cache_mode` in a v5 DSN) are left to APP010.

## Why it matters
The refusal is on every connection: the application cannot connect at all through the
PgBouncer. The silent drop is worse to find: PgBouncer's sessions run with the role's or the
server's value (e.g. no statement_timeout), and nothing says so. A PgBouncer tracks only
parameters the server reports back (GUC_REPORT); `statement_timeout`, `lock_timeout`,
`search_path` (before PostgreSQL 18), `work_mem` are not, so `track_extra_parameters` is no fix
for them (PgBouncer's documentation: "The only parameters that can be tracked are ones that
Postgres reports to the client").

Lab (tests/lab/test_lab_startup_params.py), PgBouncer 1.18 in front of PostgreSQL 15: libpq
`options=-c statement_timeout=10min` is refused (`unsupported startup parameter: options`), a
run-time `statement_timeout` likewise (`unsupported startup parameter: statement_timeout`);
with `ignore_startup_parameters = options` / `statement_timeout` the connection works and
`SHOW statement_timeout` says `0`; an `application_name` run-time parameter is applied. pgjdbc 42.7.4's StartupMessage (with
`extra_float_digits=2`) is refused with `ignore_startup_parameters = options`
(`unsupported startup parameter: extra_float_digits`) and connects with `extra_float_digits,options`;
the real pgjdbc 42.7.13 connects through the first.

## Fix
Set the value on the server for the role the client connects as, and drop it from the client:
`ALTER ROLE report SET statement_timeout = '10min'` (or `ALTER ROLE ... IN DATABASE ...`), or
run `SET statement_timeout = ...` in the application after connecting (in transaction pooling
that lasts only the transaction: use `SET LOCAL` in each, or the role's value). For a parameter
the server reports (`default_transaction_read_only`, `IntervalStyle`, `search_path` from
PostgreSQL 18) on PgBouncer 1.20 or later: add it to `track_extra_parameters`. For pgjdbc's
`extra_float_digits`: add it to `ignore_startup_parameters` (`extra_float_digits, options`; in the
bitnami image `PGBOUNCER_IGNORE_STARTUP_PARAMETERS=extra_float_digits,options`), or use pgjdbc
42.7.5 or later.

## References
- PgBouncer ignore_startup_parameters, track_extra_parameters:
  https://www.pgbouncer.org/config.html#ignore_startup_parameters (NEWS 1.20.0: `options`
  support and track_extra_parameters; 1.20.1: `options` in ignore_startup_parameters fixed;
  1.23.0: `--config=value`)
- PgBouncer src/client.c set_startup_options, decide_startup_pool; src/varcache.c apply_var
- PostgreSQL parameters reported to the client:
  https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-ASYNC
- pgx run-time parameters: https://pkg.go.dev/github.com/jackc/pgx/v5/pgconn#ParseConfig
- node-postgres Client config (statement_timeout, lock_timeout, options): https://node-postgres.com/apis/client
- pgjdbc ConnectionFactoryImpl.getParametersForStartup (42.7.4 and 42.7.5), pgjdbc#3476:
  https://github.com/pgjdbc/pgjdbc/pull/3476
- bitnami/pgbouncer's default ignore_startup_parameters: https://github.com/bitnami/containers/pull/52335
"""

from advisor import lazy_re
from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.path import hop_span
from advisor.rules.pgb import assignment, image_variable
from advisor.rules.rule import Rule

OPTIONS_SINCE = (1, 20)  # PgBouncer reads -c words of `options`; before, `options` is an unknown parameter
LONG_FORM_SINCE = (1, 23)  # --name=value in `options`
TRACKED = ("DateStyle", "client_encoding", "TimeZone", "standard_conforming_strings", "application_name")
# parameters PostgreSQL reports to the client (GUC_REPORT), which PgBouncer can track; the rest it cannot
REPORTED = {"application_name", "client_encoding", "DateStyle", "default_transaction_read_only", "in_hot_standby",
            "integer_datetimes", "IntervalStyle", "is_superuser", "server_encoding", "server_version",
            "session_authorization", "standard_conforming_strings", "TimeZone", "scram_iterations"}
REPORTED_SINCE = {"scram_iterations": 16, "search_path": 18}
# keys of a pgx DSN that pgx (pgconn, pgx, pgxpool) reads itself; it sends every other one as a run-time parameter
PGX_READS = {"host", "port", "dbname", "database", "user", "password", "passfile", "connect_timeout", "sslmode",
             "sslkey", "sslcert", "sslrootcert", "sslpassword", "sslsni", "sslnegotiation", "krbspn", "krbsrvname",
             "target_session_attrs", "service", "servicefile", "min_read_buffer_size", "statement_cache_capacity",
             "description_cache_capacity", "default_query_exec_mode", "options",
             # pgx v4's (in a v5 DSN, and v5's in a v4 one, they are sent: APP010 says so)
             "statement_cache_mode", "prefer_simple_protocol"}
_NUMBER = lazy_re.compile(r"\d+")
NODE_SENDS = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")


class Sent:
    """One parameter in the client's StartupMessage: `name=value`, as a run-time parameter or a
    word of `options`, with the Value (span, key) it comes from. `by` is set for one the driver
    sends by itself (pgjdbc's extra_float_digits): how it is known (`pgjdbc 42.7.4 (...)`), and
    `certain` False when the driver's version, which decides it, is not known."""

    def __init__(self, name: str, text: str, source, in_options: bool, word: str = "", by: str = "",
                 certain: bool = True) -> None:
        self.name, self.text, self.source, self.in_options, self.word = name, text, source, in_options, word
        self.by, self.certain = by, certain

    def written(self) -> str:
        if self.by:
            return f"{self.name}={self.text} ({self.by})"
        return f"{self.word} in its options" if self.in_options else f"{self.name}={self.text}"


class _Where:
    """The source of a parameter no setting writes: the client's own span."""

    def __init__(self, span) -> None:
        self.span, self.key = span, None


def pgjdbc_sent(ep) -> list[Sent]:
    """What pgjdbc puts in its StartupMessage beyond user, database and the parameters PgBouncer
    tracks (client_encoding, DateStyle, TimeZone; application_name): `search_path` from
    `currentSchema` (every release), and up to 42.7.4 `extra_float_digits` (2, or 3 with
    assumeMinServerVersion >= 9.0). ConnectionFactoryImpl.getParametersForStartup."""
    out: list[Sent] = []
    schema = ep.params.get("currentSchema")
    if schema is not None and schema.known and str(schema.value).strip():
        out.append(Sent("search_path", str(schema.value), schema, False))
    version = getattr(ep, "pgjdbc", None)
    sends = version.sends_extra_float_digits() if version is not None else None
    if sends is False:
        return out
    assume = ep.params.get("assumeMinServerVersion")
    parts = [int(x) for x in _NUMBER.findall(str(assume.value))[:2]] if assume is not None and assume.known else []
    value = "3" if parts and (parts[0] > 9 or parts == [9, 0] or (parts[0] == 9 and len(parts) > 1)) else "2"
    if sends:
        by = f"{version.said()} sends it in every StartupMessage"
    else:
        why = version.reason if version is not None else "no build file read"
        by = (f"pgjdbc up to 42.7.4 sends it in every StartupMessage, 42.7.5 and later do not; the version here is "
              f"not known: {why}")
    out.append(Sent("extra_float_digits", value, _Where(ep.span), False, by=by, certain=bool(sends)))
    return out


def _sent(ep) -> tuple[list[Sent], object]:
    """The parameters this client sends at connect time, and its `options` Value (None without)."""
    if ep.dbapi == "asyncpg":
        return [], None  # APP012: asyncpg refuses these URL keys before connecting
    out: list[Sent] = []
    if ep.driver == "pgx":
        for key, value in ep.params.items():
            if key in PGX_READS or key.startswith(("pool_", "keepalives")) or key == "tcp_user_timeout":
                continue
            if value is not None and value.known:
                out.append(Sent(key, str(value.value), value, False))
    elif ep.driver == "asyncpg":
        from advisor.model.client import ASYNCPG_READS

        for key, value in ep.params.items():  # DSN query keys it does not read, and server_settings
            if key in ASYNCPG_READS or key == "options":
                continue
            if value is not None and value.known:
                out.append(Sent(key, str(value.value), value, False))
    elif ep.driver == "pgjdbc":
        out += pgjdbc_sent(ep)
    elif ep.driver == "node-postgres":
        for key in NODE_SENDS:
            value = ep.params.get(key)
            if value is not None and value.known and str(value.value).strip() not in ("", "0", "false", "None"):
                out.append(Sent(key, str(value.raw if value.raw is not None else value.value), value, False))
    options = ep.params.get("options")
    if options is None or not options.known or not isinstance(options.value, str) or not options.value.strip():
        return out, None
    return out + options_sent(options.value, options), options


def options_sent(text: str, source) -> list[Sent]:
    """The words of an `options` startup parameter as PgBouncer reads them: one Sent per
    `-c name=value` / `--name=value`, and one without a name for any other word."""
    from advisor.model.client import options_settings

    return [Sent(key, value, source, True, shown) for key, value, shown in options_settings(text)]


def first_pgbouncer(ctx, ep):
    """(path, index of the first PgBouncer after this client on it) for the first path of `ep`
    that has one; (None, None) when none does."""
    for path in ctx.paths:
        for i, hop in path.hops_of("client"):
            if hop.detail is not ep:
                continue
            for j in range(i + 1, len(path.hops)):
                end = path.hops[j]
                if end.kind == "pgbouncer" and end.doc is not None and end.doc.model is not None:
                    return path, j
    return None, None


def server_role(path, ep) -> str | None:
    """The role the server sessions of this path run as: a PgBouncer entry's forced user, else
    the client's user."""
    from advisor.path.timers import session_of

    servers = [j for j, _h in path.hops_of("postgres")]
    if servers:
        return session_of(path, servers[0])[0]
    return ep.user.value if ep.user is not None and ep.user.known else None


def server_major(path) -> int | None:
    server = next((h for _j, h in path.hops_of("postgres")), None)
    major = server.doc.meta.get("pg_version") if server is not None and server.doc is not None else None
    return major if isinstance(major, int) else None


def _names(value) -> list[str]:
    if not is_known(value) or not value:
        return []
    return [w.strip() for w in str(value).replace(",", " ").split() if w.strip()]


def verdict(sent: Sent, model) -> tuple[str, str]:
    """("ok" | "ignored" | "refused" | "unknown", PgBouncer's words) for one parameter at this
    PgBouncer; "unknown" when ignore_startup_parameters is not known here (a placeholder)."""
    version = tuple(model.version[:2])
    if not is_known(model.value("ignore_startup_parameters")):
        return "unknown", ""
    ignored = _names(model.value("ignore_startup_parameters"))
    tracked = list(TRACKED) + (_names(model.value("track_extra_parameters")) if version >= OPTIONS_SINCE else [])
    if sent.in_options and version < OPTIONS_SINCE:
        if "options" in ignored:
            return "ignored", "PgBouncer before 1.20 drops the whole options parameter (ignore_startup_parameters)"
        return "refused", "unsupported startup parameter: options"
    if sent.in_options and (not sent.name or (sent.word.startswith("--") and version < LONG_FORM_SINCE)):
        allowed = "'-c config=val' and '--config=val' are" if version >= LONG_FORM_SINCE else "'-c config=val' is"
        return "refused", f"unsupported options startup parameter: only {allowed} allowed"
    if sent.name in tracked:
        return "ok", ""
    if sent.by and sent.name in ignored:
        # dropped, as PgBouncer's documentation advises for it: pgjdbc then runs SET extra_float_digits
        # itself (up to 42.7.4, unless assumeMinServerVersion >= 9.0), and from PostgreSQL 12 the
        # server's default already gives exact float output
        return "ok", ""
    if sent.name in ignored or (sent.in_options and "options" in ignored):
        which = sent.name if sent.name in ignored else "options"
        return "ignored", f"ignore_startup_parameters names {which}: PgBouncer drops it"
    where = " in options" if sent.in_options else ""
    return "refused", f"unsupported startup parameter{where}: {sent.name}"


def pgbouncer_fix(sent: Sent, model, doc, pg_major: int | None) -> str | None:
    """The PgBouncer-side or client-side fix of one parameter, or None when the fix is the role's
    value on the server (said once for all of them by the caller)."""
    name = sent.name
    version = tuple(model.version[:2])
    if sent.by:
        names = _names(model.value("ignore_startup_parameters"))
        sep = "," if image_variable(doc, "ignore_startup_parameters") else ", "  # an environment variable: no blank
        return assignment(doc, model, "ignore_startup_parameters", sep.join(names + [name])) + \
            " (PgBouncer then drops it; pgjdbc sets it again with SET after connecting); or pgjdbc 42.7.5 or later " \
            "(sends none)"
    if sent.in_options and name in TRACKED and version < OPTIONS_SINCE:
        own = f"{name}={sent.text} as a connection parameter of its own instead of in options (PgBouncer tracks " \
            "it), or " if name == "application_name" else ""
        return f"{own}PgBouncer 1.20 or later (reads -c of the parameters it tracks in options)"
    reported = name in REPORTED or (name in REPORTED_SINCE and pg_major is not None and pg_major >= REPORTED_SINCE[name])
    if reported and version >= OPTIONS_SINCE:
        names = _names(model.value("track_extra_parameters"))
        return assignment(doc, model, "track_extra_parameters", ", ".join(names + [name])) + \
            f" (PostgreSQL reports {name}, so PgBouncer can keep it per client; it needs a restart)"
    return None


def check(ctx):
    seen: set[tuple[int, int]] = set()  # (client, PgBouncer): once, however many paths share them
    for path in ctx.paths:
        for i, hop in path.hops_of("client"):
            end_index = next((j for j in range(i + 1, len(path.hops)) if path.hops[j].kind == "pgbouncer"), None)
            if end_index is None:
                continue
            end = path.hops[end_index]
            if end.doc is None or end.doc.model is None or (id(hop.detail), id(end.doc.model)) in seen:
                continue
            ep, model = hop.detail, end.doc.model
            sent, _options = _sent(ep)
            if not sent:
                continue
            seen.add((id(ep), id(model)))
            role, pg_major = server_role(path, ep), server_major(path)
            verdicts = [(s, *verdict(s, model)) for s in sent]
            # a refusal that depends on a driver version not known here is said apart, as a warning
            verdicts = [(s, "maybe refused" if st == "refused" and not s.certain else st, why) for s, st, why in verdicts]
            for status in ("refused", "maybe refused", "ignored"):
                hit = [(s, why) for s, st, why in verdicts if st == status]
                if hit:
                    yield _finding(ep, end, model, hit, status, role, pg_major)


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _finding(ep, end, model, hit, status, role, pg_major):
    first = hit[0][0]
    span = first.source.span or ep.span
    version = tuple(model.version[:2])
    shown = f"{version[0]}.{version[1]}"
    said = "; ".join(f"{s.written()}: {why}" for s, why in hit)
    settings = [s for s, _ in hit if s.name]
    where = f"{ep.who()}'s options" if all(s.in_options for s, _ in hit) else ep.who()
    fixes, on_server = [], []
    for s, _ in hit:
        own = pgbouncer_fix(s, model, end.doc, pg_major) if s.name else None
        if own is not None:
            fixes.append(own)
        else:
            on_server.append(s)
    if on_server:
        drop = ", ".join(s.word if s.in_options else (s.source.key or s.name) for s in on_server)
        roles = [f"ALTER ROLE {role or '<user>'} SET {s.name} = {quoted(s.text)}" for s in on_server if s.name]
        fixes.append(f"remove {drop} from {where}" + (
            f" and set {'them' if len(roles) > 1 else 'it'} for the role on the server: " + "; ".join(roles)
            if roles else ""))
    fix = "; or ".join(dict.fromkeys(fixes))
    ignore_setting = model.setting("ignore_startup_parameters")
    rel = [s for s in (ignore_setting.value_span or ignore_setting.span if ignore_setting is not None else None, hop_span(end)) if s is not None]
    build = getattr(ep, "pgjdbc", None)
    if build is not None and build.span is not None and any(s.by for s, _ in hit):
        rel.append(build.span)  # the build file's line that names the pgjdbc release
    if status == "refused":
        message = (f"{ep.label()} -> {end.label} (PgBouncer {shown}): {said}; PgBouncer answers the StartupMessage "
                   f"itself and closes every connection of this client (FATAL)")
        return RULE.finding(span, message, fix, related=rel)
    if status == "maybe refused":
        message = (f"{ep.label()} -> {end.label} (PgBouncer {shown}): {said}; to a release that sends it, PgBouncer "
                   f"answers the StartupMessage itself and closes every connection of this client (FATAL)")
        return RULE.finding(span, message, fix, related=rel, severity=Severity.WARNING)
    names = ", ".join(s.name for s in settings) or "its options"
    message = (f"{ep.label()} -> {end.label} (PgBouncer {shown}): {said}; the connection works but {names} "
               f"{'is' if len(settings) == 1 else 'are'} never applied: the session runs with the role's or "
               f"the server's value, not the client's")
    return RULE.finding(span, message, fix, related=rel, severity=Severity.WARNING)


RULE = Rule(
    code="PATH007",
    name="startup-parameters-through-pgbouncer",
    severity=Severity.ERROR,
    summary="A session setting the client sends at connect time, which PgBouncer refuses or silently drops",
    needs=("path",),
    check=check,
    doc=__doc__,
)
