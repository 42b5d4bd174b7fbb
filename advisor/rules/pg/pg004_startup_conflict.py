"""Settings that each parse but together stop PostgreSQL from starting.

## What it checks
The checks the postmaster makes once every configuration file is read (PostmasterMain's
"invalid combinations of GUC settings", ReadControlFile's WAL size checks and, on 18,
InitializeMaxBackends), with each parameter's built-in default where the file does not set it:

- `superuser_reserved_connections` (+ `reserved_connections`, 16+) not below `max_connections`;
- `archive_mode` on or always with `wal_level = minimal`;
- `max_wal_senders` above 0 (the default is 10) with `wal_level = minimal`;
- `summarize_wal = on` with `wal_level = minimal` (17+);
- `min_wal_size` or `max_wal_size` below two WAL segments (16 MB segments, initdb's default:
  below 32 MB);
- on 18, `max_connections + autovacuum_worker_slots + max_worker_processes + max_wal_senders + 2`
  above 262143 server processes (up to 17 the check hooks reject the value that tips the total
  over, reported as PG002).

The finding sits on the line that makes the combination (the last of the lines involved), with
the other lines as related places.

In SQL scripts (migrations, `docker-entrypoint-initdb.d`), `ALTER SYSTEM SET wal_level =
'minimal'` is checked against the script's own `ALTER SYSTEM` settings: postgresql.auto.conf is
read after the configuration files, so `max_wal_senders` above 0 or `archive_mode = on` set there
too is an error. When the script leaves `max_wal_senders` to the configuration files:

- the script is mounted into `/docker-entrypoint-initdb.d` of a compose service whose server
  settings are known (the image's own postgresql.conf, which leaves `max_wal_senders` at its
  default 10, the command line's `-c` flags, a mounted configuration file the run read): an
  **error** when they leave it above 0, nothing when they set 0;
- otherwise (a script read alone, or a server whose configuration file was not read): a
  **warning** — the default 10 refuses `wal_level = minimal`, and only a configuration file no
  one showed pgpath could have set 0. `ALTER SYSTEM SET max_wal_senders = 0` in the same script
  is right whatever the files say.

## Why it matters
The server exits at start with `FATAL: WAL streaming ("max_wal_senders" > 0) requires "wal_level"
to be "replica" or "logical"` (or the message of the other checks): every connection on the
path fails until the file is fixed. `wal_level = minimal` alone is enough, since
`max_wal_senders` defaults to 10.

## Fix
Make the settings agree: `max_wal_senders = 0` and `archive_mode = off` with
`wal_level = minimal` (or `wal_level = replica`), reserved connections below `max_connections`,
`min_wal_size`/`max_wal_size` of at least two segments (`80MB`/`1GB` are the defaults).

## References
- PostgreSQL source: src/backend/postmaster/postmaster.c (PostmasterMain), src/backend/access/transam/xlog.c (ReadControlFile)
- PostgreSQL: wal_level — https://www.postgresql.org/docs/current/runtime-config-wal.html#GUC-WAL-LEVEL
- tests/test_postgresql_startup_parity.py starts a real PostgreSQL 15 with each combination
"""

from advisor.catalog import MAX_BACKENDS, catalog_of, process_terms, value_or_default
from advisor.findings import Severity
from advisor.model import Span, is_known, within
from advisor.model.pg_parameters import assignment
from advisor.rules.pg.common import describe, where
from advisor.rules.rule import Rule

WAL_SEGMENT_MB = 16  # initdb's default --wal-segsize


def _said(name, value, setting):
    """`wal_level = minimal`, or `max_wal_senders not set (default 10)`."""
    return describe(setting, name, str(value))


def _place(doc, *settings):
    """The span of the last line involved, and the others as related spans."""
    present = [s for s in settings if s is not None]
    if not present:
        return where(doc, None), []
    present.sort(key=lambda s: (doc.settings.index(s)))
    last = present[-1]
    return where(doc, last), [s.value_span or s.span for s in present[:-1]]


def _quote(name: str) -> str:
    return f'"{name}"'


def _streaming_refused(major: int) -> str:
    """The postmaster's FATAL for max_wal_senders > 0 with wal_level = minimal (17+ quotes names)."""
    if major >= 17:
        return 'WAL streaming ("max_wal_senders" > 0) requires "wal_level" to be "replica" or "logical"'
    return 'WAL streaming (max_wal_senders > 0) requires wal_level "replica" or "logical"'


def _archival_refused(major: int) -> str:
    """The postmaster's FATAL for archive_mode on/always with wal_level = minimal."""
    return f"WAL archival cannot be enabled when {_quote('wal_level') if major >= 17 else 'wal_level'} is \"minimal\""


def check(ctx):
    for doc in ctx.of_kind("postgresql"):
        if doc.template or doc.meta.get("sed_template"):
            continue  # its branches and placeholders decide the combination only when it is rendered
        yield from _check_doc(doc)
    servers = [d for d in ctx.of_kind("postgresql") if d.meta.get("initdb_scripts")]
    for doc in ctx.of_kind("sql"):
        if not doc.template:
            yield from _check_alter_system(doc, servers)


def _initdb_server(doc, servers):
    """(the compose service's server document, the span of its initdb mount) that runs this script
    from /docker-entrypoint-initdb.d, or (None, None)."""
    import os

    path = os.path.abspath(doc.path)
    for server in servers:
        for mount in server.meta["initdb_scripts"]:
            source = mount.get("source")
            if source and within(path, source):
                return server, Span(**{k: v for k, v in mount.items() if k != "source"})
    return None, None


def _check_alter_system(doc, servers):
    """`ALTER SYSTEM SET wal_level = 'minimal'` in a migration or init script. postgresql.auto.conf
    is read after the configuration files, so what the script sets too decides for certain (an
    error); `max_wal_senders`, which the script leaves to the files, is the compose service's when
    the script is its init script and its settings are known, else the default 10 with a hedge."""
    from advisor.model.sql import SYSTEM, RoleSettings

    system = RoleSettings.from_docs([doc]).by_section.get(SYSTEM, {})
    level = system.get("wal_level")
    if level is None or level.value != "minimal":
        return
    major = catalog_of(doc).major
    said = f"ALTER SYSTEM SET wal_level = {level.raw}"
    senders = system.get("max_wal_senders")
    streaming = _streaming_refused(major)
    fix = "ALTER SYSTEM SET max_wal_senders = 0 in the same script (or wal_level = 'replica')"
    if senders is not None and is_known(senders.value) and senders.value > 0:
        yield RULE.finding(
            where(doc, senders), f"ALTER SYSTEM SET max_wal_senders = {senders.raw} with {said}: PostgreSQL refuses "
            f"to start at its next restart ({streaming})", fix, related=[level.value_span or level.span])
    elif senders is None:
        yield from _senders_left_to_files(doc, level, said, streaming, fix, servers)
    archive = system.get("archive_mode")
    if archive is not None and archive.value in ("on", "always"):
        yield RULE.finding(
            where(doc, archive), f"ALTER SYSTEM SET archive_mode = {archive.raw} with {said}: PostgreSQL refuses to "
            f"start at its next restart ({_archival_refused(major)})",
            "ALTER SYSTEM SET archive_mode = off (or wal_level = 'replica' to archive WAL)",
            related=[level.value_span or level.span])


def _senders_left_to_files(doc, level, said, streaming, fix, servers):
    """wal_level = 'minimal' from the script, max_wal_senders from the configuration it runs with."""
    span = level.value_span or level.span
    server, mount = _initdb_server(doc, servers)
    if server is not None:
        value, setting = value_or_default(server, "max_wal_senders")
        if is_known(value) and value == 0:
            return
        if is_known(value):
            service = server.meta.get("service")
            whose = f"compose service {service}" if service else "its server"
            if setting is not None:
                source = f"sets max_wal_senders = {setting.raw} ({setting.span.file}:{setting.span.line})"
                related = [setting.value_span or setting.span, mount]
            else:
                source = (f"leaves max_wal_senders at its default {value} (neither "
                          f"{server.meta.get('image') or 'the image'}'s postgresql.conf nor the command line sets it)")
                related = [mount]
            yield RULE.finding(
                span, f"{said} in an init script of {whose} (mounted at {mount.file}:{mount.line}), whose server "
                f"{source}: PostgreSQL refuses to start when the entrypoint starts it after the init scripts "
                f"({streaming})", fix, related=related)
            return
    yield RULE.finding(
        span, f"{said} with max_wal_senders not set in this script (default 10; the configuration files "
        f"this server starts with are not read with it): PostgreSQL refuses to start at its next restart "
        f"({streaming}) unless those files set max_wal_senders = 0", fix, severity=Severity.WARNING)


def _check_doc(doc):
    major = catalog_of(doc).major
    values = {}
    for name in ("wal_level", "archive_mode", "max_wal_senders", "summarize_wal", "max_connections",
                 "superuser_reserved_connections", "reserved_connections", "min_wal_size", "max_wal_size",
                 "autovacuum_worker_slots", "max_worker_processes"):
        values[name] = value_or_default(doc, name)

    def v(name):
        return values[name][0]

    def s(name):
        return values[name][1]

    def q(name):  # PostgreSQL 17+ quotes parameter names in these messages
        return _quote(name) if major >= 17 else name

    # reserved connections
    max_conn, su_reserved, reserved = v("max_connections"), v("superuser_reserved_connections"), v("reserved_connections")
    if is_known(max_conn) and is_known(su_reserved) and (major < 16 or is_known(reserved)):
        total = su_reserved + (reserved if major >= 16 else 0)
        if total >= max_conn:
            span, related = _place(doc, s("max_connections"), s("superuser_reserved_connections"),
                                   s("reserved_connections") if major >= 16 else None)
            terms = _said("superuser_reserved_connections", su_reserved, s("superuser_reserved_connections"))
            if major >= 16:
                terms += " + " + _said("reserved_connections", reserved, s("reserved_connections"))
            yield RULE.finding(
                span,
                f"{terms} = {total} >= {_said('max_connections', max_conn, s('max_connections'))}: PostgreSQL "
                f"refuses to start ({q('superuser_reserved_connections')} "
                + (f"plus {q('reserved_connections')} " if major >= 16 else "")
                + f"must be less than {q('max_connections')})",
                f"{assignment(doc, 'max_connections', total + 1 if total + 1 > max_conn else max_conn)}  (or fewer reserved connections)",
                related=related)

    wal_level = v("wal_level")
    if wal_level == "minimal":
        level = _said("wal_level", wal_level, s("wal_level"))
        archive = v("archive_mode")
        if archive in ("on", "always"):
            span, related = _place(doc, s("wal_level"), s("archive_mode"))
            yield RULE.finding(
                span,
                f"{_said('archive_mode', archive, s('archive_mode'))} with {level}: PostgreSQL refuses to start "
                f"({_archival_refused(major)})",
                f"{assignment(doc, 'archive_mode', 'off')}  (or wal_level = replica to archive WAL)", related=related)
        senders = v("max_wal_senders")
        if is_known(senders) and senders > 0:
            span, related = _place(doc, s("wal_level"), s("max_wal_senders"))
            yield RULE.finding(
                span,
                f"{_said('max_wal_senders', senders, s('max_wal_senders'))} with {level}: PostgreSQL refuses to "
                f"start ({_streaming_refused(major)})",
                f"{assignment(doc, 'max_wal_senders', 0)}  (with wal_level = minimal; or wal_level = replica for replication and backups)",
                related=related)
        if major >= 17 and v("summarize_wal") is True:
            span, related = _place(doc, s("wal_level"), s("summarize_wal"))
            yield RULE.finding(
                span,
                f"{_said('summarize_wal', 'on', s('summarize_wal'))} with {level}: PostgreSQL refuses to start "
                f"(WAL cannot be summarized when \"wal_level\" is \"minimal\")",
                f"{assignment(doc, 'summarize_wal', 'off')}  (or wal_level = replica)", related=related)

    # ReadControlFile: at least two WAL segments
    for name in ("min_wal_size", "max_wal_size"):
        size_mb, setting = values[name]
        if setting is None or not is_known(size_mb):
            continue
        segments = size_mb // WAL_SEGMENT_MB
        if segments < 2:
            yield RULE.finding(
                where(doc, setting),
                f"{name} = {setting.raw}: {size_mb} MB / {WAL_SEGMENT_MB} MB per WAL segment (initdb's default) = "
                f"{segments} segment(s), fewer than 2: PostgreSQL refuses to start ({q(name)} must be at least "
                f"twice {q('wal_segment_size')})",
                f"{assignment(doc, name, f'{2 * WAL_SEGMENT_MB}MB')}  (or more; the default is {'80MB' if name == 'min_wal_size' else '1GB'})")

    # 18: the process total is checked after the files are read
    if major >= 18:
        terms = process_terms(major)[0]
        if all(is_known(v(t)) for t in terms):
            total = sum(v(t) for t in terms) + 2
            if total > MAX_BACKENDS:
                span, related = _place(doc, *(s(t) for t in terms))
                shown = " + ".join(f"{t} {v(t)}" for t in terms)
                yield RULE.finding(
                    span,
                    f"{shown} + 2 = {total} > {MAX_BACKENDS} server processes: PostgreSQL refuses to start "
                    f"(too many server processes configured)",
                    f"{assignment(doc, 'max_connections', max(1, v('max_connections') - (total - MAX_BACKENDS)))}  (or lower one of the others)",
                    related=related)


RULE = Rule(
    code="PG004",
    name="startup-conflict",
    severity=Severity.ERROR,
    summary="Settings that together stop PostgreSQL from starting",
    needs=("postgresql|sql",),
    check=check,
    doc=__doc__,
)
