"""The lab for PATH007: session settings a client sends at connect time, through PgBouncer.

Real PostgreSQL 15 behind the installed PgBouncer (1.18 here) in transaction pooling. Two ways a
client sends a setting in its StartupMessage:

- libpq's `options=-c statement_timeout=10min` (psycopg here; psycopg2, pgjdbc's `options`,
  PGOPTIONS the same);
- a run-time parameter `statement_timeout=900000` (what pgx does with a DSN key it does not
  read, and node-postgres with its `statement_timeout`): sent here in a StartupMessage written
  byte by byte, so that no driver's own checks stand between.

PgBouncer answers the StartupMessage itself: without ignore_startup_parameters it closes the
connection (FATAL `unsupported startup parameter: options` before 1.20, `...: statement_timeout`);
with the name (or `options`) in ignore_startup_parameters the connection works and `SHOW
statement_timeout` is the server's `0`: the client's value is dropped. An `application_name`
run-time parameter, which PgBouncer tracks, is applied. pgpath, on the very files with the
running PgBouncer's version, must say error for the first, warning for the second, and nothing
for the third.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
from pathlib import Path

import pytest

import labkit
import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]


@pytest.fixture(scope="module")
def lab():
    yield from sc.lab_with_server("pgpath-lab-startup-", "startup", "")


def _pgbouncer_version() -> str:
    out = subprocess.run([labkit.PGBOUNCER, "--version"], capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"PgBouncer (\d+\.\d+)", out)
    assert m, out
    return m.group(1)


def _setup(lab, name: str, client_file: str, client_text, settings: dict[str, str] | None = None) -> tuple[Path, int]:
    """The folder pgpath reads (the client file, pgbouncer.ini PgBouncer runs with, the topology)
    and PgBouncer's port; `client_text(port)` writes the client file."""
    d = lab.dir(name)
    port = labkit.free_port()
    ini = sc.write(d, "pgbouncer.ini", sc.pgbouncer_ini(lab, name, port, f"127.0.0.1:{lab.pg.port}", {
        "pool_mode": "transaction", "default_pool_size": "2", **(settings or {})}))
    client = sc.write(d, client_file, client_text(port))
    sc.write(d, "pgpath.yaml", sc.topology([f"client: {client.name}", "pgbouncer: {file: pgbouncer.ini, database: labdb}"])
             + f"pgbouncer-version: '{_pgbouncer_version()}'\n")
    labkit.start_pgbouncer(lab, ini, port)
    return d, port


def _libpq(port: int, options: str) -> dict:
    """Connect with psycopg (libpq) and `options`; the error, or SHOW statement_timeout."""
    import psycopg

    try:
        with psycopg.connect(f"host=127.0.0.1 port={port} dbname=labdb user=postgres sslmode=disable",
                             options=options, prepare_threshold=None) as conn:
            return {"error": None, "statement_timeout": conn.execute("SHOW statement_timeout").fetchone()[0]}
    except psycopg.OperationalError as exc:
        return {"error": str(exc).strip(), "statement_timeout": None}


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _read(sock) -> tuple[bytes, bytes]:
    head = b""
    while len(head) < 5:
        chunk = sock.recv(5 - len(head))
        if not chunk:
            raise ConnectionError("closed")
        head += chunk
    kind, size = head[:1], struct.unpack("!i", head[1:])[0] - 4
    body = b""
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return kind, body


def _fields(body: bytes) -> dict[str, str]:
    """The fields of an ErrorResponse: {'S': 'FATAL', 'M': '...', ...}."""
    out = {}
    for part in body.split(b"\0"):
        if part:
            out[chr(part[0])] = part[1:].decode()
    return out


def _runtime(port: int, params: dict[str, str], show: str) -> dict:
    """A StartupMessage (protocol 3.0) with these run-time parameters, as pgx or node-postgres
    send it; the FATAL message, or the value of SHOW `show` in the session."""
    startup = {"user": "postgres", "database": "labdb", **params}
    body = struct.pack("!i", 196608) + b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in startup.items()) + b"\0"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(struct.pack("!i", len(body) + 4) + body)
        while True:
            kind, msg = _read(sock)
            if kind == b"E":
                f = _fields(msg)
                return {"error": f"{f.get('S')}: {f.get('M')}", "value": None}
            if kind == b"R" and struct.unpack("!i", msg[:4])[0] != 0:
                raise AssertionError(f"authentication asked ({struct.unpack('!i', msg[:4])[0]}): trust expected")
            if kind == b"Z":
                break
        sock.sendall(_message(b"Q", f"SHOW {show}".encode() + b"\0"))
        value = None
        while True:
            kind, msg = _read(sock)
            if kind == b"D":
                (n,), rest = struct.unpack("!h", msg[:2]), msg[2:]
                size = struct.unpack("!i", rest[:4])[0]
                value = rest[4:4 + size].decode()
            elif kind == b"E":
                return {"error": _fields(msg).get("M"), "value": None}
            elif kind == b"Z":
                break
        sock.sendall(_message(b"X", b""))
    return {"error": None, "value": value}


def _libpq_env(port: int) -> str:
    return f"DATABASE_URL=postgresql://postgres@127.0.0.1:{port}/labdb?sslmode=disable&options=-c%20statement_timeout%3D10min\n"


def _pgx_env(param: str):
    return lambda port: f"WORKER_DSN=postgres://postgres@127.0.0.1:{port}/labdb?sslmode=disable&{param}&pool_max_conns=4\n"


def _report(sid: str, config: str, findings: list[dict], seen: str, match: bool, rule: str = "PATH007") -> None:
    predicted = "; ".join(f"{f['code']} {f['severity']}" for f in findings) or f"no {rule} finding"
    sc.RULE_ROWS[sid] = (rule, config, predicted, seen, match)


def test_libpq_options_statement_timeout_is_refused_as_predicted(lab):
    folder, port = _setup(lab, "options", ".env", _libpq_env)
    observed = _libpq(port, "-c statement_timeout=10min")
    findings = sc.findings(folder, "PATH007")
    _report("START1", "libpq options=-c statement_timeout=10min -> PgBouncer, no ignore_startup_parameters",
            findings, observed["error"] or "connected", bool(findings) and observed["error"] is not None)
    # 1.18 does not read options at all; 1.20+ reads it and refuses the statement_timeout in it
    assert observed["error"] is not None, observed
    assert re.search(r"unsupported startup parameter( in options)?: (options|statement_timeout)", observed["error"]), observed
    [finding] = findings
    assert finding["severity"] == "error", finding
    assert "unsupported startup parameter" in finding["message"] and "closes every connection" in finding["message"], finding
    assert "ALTER ROLE postgres SET statement_timeout = '10min'" in finding["fix"], finding


def test_options_in_ignore_startup_parameters_connects_without_the_timeout(lab):
    folder, port = _setup(lab, "options-ignored", ".env", _libpq_env,
                          {"ignore_startup_parameters": "extra_float_digits,options"})
    observed = _libpq(port, "-c statement_timeout=10min")
    findings = sc.findings(folder, "PATH007")
    _report("START2", "the same with ignore_startup_parameters = extra_float_digits,options", findings,
            observed["error"] or f"connected; SHOW statement_timeout = {observed['statement_timeout']}",
            bool(findings) and observed["statement_timeout"] == "0")
    assert observed == {"error": None, "statement_timeout": "0"}, observed  # the client's 10min is gone
    [finding] = findings
    assert finding["severity"] == "warning" and "never applied" in finding["message"], finding


def test_runtime_statement_timeout_is_refused_as_predicted(lab):
    folder, port = _setup(lab, "runtime", ".env", _pgx_env("statement_timeout=900000"))
    observed = _runtime(port, {"statement_timeout": "900000"}, "statement_timeout")
    findings = sc.findings(folder, "PATH007")
    _report("START3", "pgx DSN statement_timeout=900000 (a run-time parameter) -> PgBouncer", findings,
            observed["error"] or "connected", bool(findings) and observed["error"] is not None)
    assert observed["error"] == "FATAL: unsupported startup parameter: statement_timeout", observed
    [finding] = findings
    assert finding["severity"] == "error" and "statement_timeout=900000" in finding["message"], finding
    assert finding["fix"].startswith("remove statement_timeout from WORKER_DSN"), finding


def test_runtime_statement_timeout_ignored_connects_without_it(lab):
    folder, port = _setup(lab, "runtime-ignored", ".env", _pgx_env("statement_timeout=900000"),
                          {"ignore_startup_parameters": "statement_timeout"})
    observed = _runtime(port, {"statement_timeout": "900000"}, "statement_timeout")
    findings = sc.findings(folder, "PATH007")
    _report("START4", "the same with ignore_startup_parameters = statement_timeout", findings,
            observed["error"] or f"connected; SHOW statement_timeout = {observed['value']}",
            bool(findings) and observed["value"] == "0")
    assert observed == {"error": None, "value": "0"}, observed
    [finding] = findings
    assert finding["severity"] == "warning", finding


def test_runtime_application_name_is_tracked_and_pgpath_is_silent(lab):
    folder, port = _setup(lab, "appname", ".env", _pgx_env("application_name=worker"))
    observed = _runtime(port, {"application_name": "worker"}, "application_name")
    findings = sc.findings(folder, "PATH007")
    _report("START5", "pgx DSN application_name=worker -> PgBouncer", findings,
            observed["error"] or f"connected; SHOW application_name = {observed['value']}",
            not findings and observed["value"] == "worker")
    assert observed == {"error": None, "value": "worker"}, observed
    assert not findings, findings



# pgjdbc and extra_float_digits. pgjdbc up to 42.7.4 puts extra_float_digits (2, or 3 with
# assumeMinServerVersion >= 9.0) in every StartupMessage (ConnectionFactoryImpl.getParametersForStartup);
# from 42.7.5 (pgjdbc#3476) it sends none and runs SET extra_float_digits after connecting, and only
# to servers before 12. PgBouncer tracks no extra_float_digits (it is not GUC_REPORT), so unless
# ignore_startup_parameters names it, the old drivers' StartupMessage is refused. Two real drivers run:
# Debian's own (libpostgresql-jdbc-java, 42.5.5 in bookworm: /usr/share/java/postgresql.jar, which
# scripts/test installs with a Java runtime) and, where a local Maven repository has it, 42.7.13 (Maven
# Central is not reachable here, so a fresh machine has no pgjdbc newer than Debian's); 42.7.4's
# StartupMessage is also sent byte by byte, as its source writes it.

PGJDBC_4274_STARTUP = {"client_encoding": "UTF8", "DateStyle": "ISO", "TimeZone": "UTC", "extra_float_digits": "2"}
PGJDBC_JAR = Path.home() / ".m2/repository/org/postgresql/postgresql/42.7.13/postgresql-42.7.13.jar"
# Debian's libpostgresql-jdbc-java (PGPATH_PGJDBC_JAR names another jar, as scripts/test reads it)
DEBIAN_PGJDBC_JAR = Path(os.environ.get("PGPATH_PGJDBC_JAR", "/usr/share/java/postgresql.jar"))
_PROBE = """
import java.sql.*;
public class Probe {
  public static void main(String[] a) {
    try (Connection c = DriverManager.getConnection(a[0], "postgres", "")) {
      try (ResultSet r = c.createStatement().executeQuery("SHOW extra_float_digits")) {
        r.next();
        System.out.println("connected; SHOW extra_float_digits = " + r.getString(1));
      }
    } catch (SQLException e) {
      System.out.println("error: " + e.getMessage());
    }
  }
}
"""


def _jar_version(jar: Path) -> str:
    """The driver's release from its manifest (Implementation-Version, as pgjdbc's build writes it)."""
    import zipfile

    with zipfile.ZipFile(jar) as z:
        manifest = z.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
    m = re.search(r"^Implementation-Version: *(\S+)", manifest, re.M)
    assert m, manifest
    return m.group(1)


def _pgjdbc(lab, port: int, jar: Path = PGJDBC_JAR) -> str:
    """Connect with a real pgjdbc jar (Java's single-file launcher): what it printed."""
    import shutil

    if shutil.which("java") is None or not jar.exists():
        pytest.skip(f"java or {jar} is not here (scripts/test installs Debian's default-jre-headless and "
                    "libpostgresql-jdbc-java)")
    probe = sc.write(lab.dir("pgjdbc-probe"), "Probe.java", _PROBE)
    out = subprocess.run(["java", "-cp", str(jar), str(probe),
                          f"jdbc:postgresql://127.0.0.1:{port}/labdb?sslmode=disable"],
                         capture_output=True, text=True, timeout=120)
    return (out.stdout.strip() or out.stderr.strip()).splitlines()[-1]


def _spring(port: int) -> str:
    return f"spring.datasource.url=jdbc:postgresql://127.0.0.1:{port}/labdb?sslmode=disable\n" \
        "spring.datasource.username=postgres\n"


def _pom(folder: Path, version: str) -> None:
    sc.write(folder, "pom.xml", f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lab</groupId>
  <artifactId>catalog</artifactId>
  <version>1</version>
  <properties>
    <postgresql.version>{version}</postgresql.version>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.postgresql</groupId>
      <artifactId>postgresql</artifactId>
      <version>${{postgresql.version}}</version>
    </dependency>
  </dependencies>
</project>
""")


def test_pgjdbc_42_7_4_startup_is_refused_without_extra_float_digits_ignored(lab):
    folder, port = _setup(lab, "pgjdbc-old", "application.properties", _spring,
                          {"ignore_startup_parameters": "options"})
    _pom(folder, "42.7.4")
    observed = _runtime(port, PGJDBC_4274_STARTUP, "extra_float_digits")
    findings = sc.findings(folder, "PATH007")
    _report("START8", "pgjdbc 42.7.4 (pom.xml) -> PgBouncer ignore_startup_parameters = options "
            "(its StartupMessage: client_encoding, DateStyle, TimeZone, extra_float_digits=2)", findings,
            observed["error"] or "connected", bool(findings) and findings[0]["severity"] == "error"
            and observed["error"] is not None)
    assert observed["error"] == "FATAL: unsupported startup parameter: extra_float_digits", observed
    [finding] = findings
    assert finding["severity"] == "error" and "extra_float_digits=2" in finding["message"], finding
    assert "42.7.4" in finding["message"], finding
    assert "ignore_startup_parameters = options, extra_float_digits" in finding["fix"], finding


def test_pgjdbc_42_7_4_startup_connects_with_extra_float_digits_ignored(lab):
    folder, port = _setup(lab, "pgjdbc-old-ignored", "application.properties", _spring,
                          {"ignore_startup_parameters": "extra_float_digits,options"})
    _pom(folder, "42.7.4")
    observed = _runtime(port, PGJDBC_4274_STARTUP, "extra_float_digits")
    findings = sc.findings(folder, "PATH007")
    _report("START9", "the same with ignore_startup_parameters = extra_float_digits,options", findings,
            observed["error"] or f"connected; SHOW extra_float_digits = {observed['value']}",
            not findings and observed["error"] is None)
    assert observed == {"error": None, "value": "1"}, observed  # dropped: the server's default 1
    assert not findings, findings


def test_pgjdbc_42_7_13_connects_and_pgpath_is_silent(lab):
    folder, port = _setup(lab, "pgjdbc-new", "application.properties", _spring,
                          {"ignore_startup_parameters": "options"})
    _pom(folder, "42.7.13")
    observed = _pgjdbc(lab, port)
    findings = sc.findings(folder, "PATH007")
    _report("START10", "pgjdbc 42.7.13 (pom.xml; the real driver) -> PgBouncer ignore_startup_parameters = options",
            findings, observed, not findings and observed.startswith("connected"))
    assert observed.startswith("connected"), observed
    assert not findings, findings


def test_pgjdbc_of_unknown_version_is_a_warning(lab):
    folder, port = _setup(lab, "pgjdbc-unknown", "application.properties", _spring,
                          {"ignore_startup_parameters": "options"})
    old, new = _runtime(port, PGJDBC_4274_STARTUP, "extra_float_digits"), _pgjdbc(lab, port)
    findings = sc.findings(folder, "PATH007")
    _report("START11", "pgjdbc of no known version (no pom.xml or build.gradle) -> the same PgBouncer", findings,
            f"42.7.4's StartupMessage: {old['error'] or 'connected'}; 42.7.13: {observed_short(new)}",
            bool(findings) and findings[0]["severity"] == "warning" and old["error"] is not None
            and new.startswith("connected"))
    assert old["error"] == "FATAL: unsupported startup parameter: extra_float_digits", old
    assert new.startswith("connected"), new
    [finding] = findings
    assert finding["severity"] == "warning" and "42.7.5" in finding["message"], finding


def _debian_pgjdbc() -> str:
    """The release of Debian's pgjdbc jar, or skip where it is not installed."""
    import shutil

    if shutil.which("java") is None or not DEBIAN_PGJDBC_JAR.exists():
        pytest.skip(f"java or {DEBIAN_PGJDBC_JAR} is not here (scripts/test installs Debian's default-jre-headless "
                    "and libpostgresql-jdbc-java)")
    return _jar_version(DEBIAN_PGJDBC_JAR)


def test_debian_pgjdbc_is_refused_as_predicted(lab):
    version = _debian_pgjdbc()
    folder, port = _setup(lab, "pgjdbc-debian", "application.properties", _spring,
                          {"ignore_startup_parameters": "options"})
    _pom(folder, version)
    observed = _pgjdbc(lab, port, DEBIAN_PGJDBC_JAR)
    findings = sc.findings(folder, "PATH007")
    _report("START12", f"pgjdbc {version} (Debian's libpostgresql-jdbc-java, the real driver; its release in pom.xml) "
            "-> PgBouncer ignore_startup_parameters = options", findings, observed,
            bool(findings) and findings[0]["severity"] == "error" and "extra_float_digits" in observed)
    assert version.startswith("42.") and tuple(map(int, version.split(".")[1:3])) < (7, 5), version  # sends it
    assert observed == "error: FATAL: unsupported startup parameter: extra_float_digits", observed
    [finding] = findings
    assert finding["severity"] == "error", finding
    assert f"pgjdbc {version}" in finding["message"] and "extra_float_digits=2" in finding["message"], finding
    assert "unsupported startup parameter: extra_float_digits" in finding["message"], finding
    assert "ignore_startup_parameters = options, extra_float_digits" in finding["fix"], finding


def test_debian_pgjdbc_connects_with_extra_float_digits_ignored(lab):
    version = _debian_pgjdbc()
    folder, port = _setup(lab, "pgjdbc-debian-ignored", "application.properties", _spring,
                          {"ignore_startup_parameters": "extra_float_digits,options"})
    _pom(folder, version)
    observed = _pgjdbc(lab, port, DEBIAN_PGJDBC_JAR)
    findings = sc.findings(folder, "PATH007")
    _report("START13", f"the same pgjdbc {version} with ignore_startup_parameters = extra_float_digits,options",
            findings, observed, not findings and observed.startswith("connected"))
    # PgBouncer drops the 2 of the StartupMessage; before 42.7.5 pgjdbc then runs SET extra_float_digits = 3
    # itself to a 9.0+ server (ConnectionFactoryImpl.runInitialQueries), so the session has 3, not the default 1
    assert observed == "connected; SHOW extra_float_digits = 3", observed
    assert not findings, findings


def observed_short(text: str) -> str:
    return text.split(";")[0]


# APP012's fix for a postgresql+asyncpg URL moves a setting into asyncpg's server_settings, which
# asyncpg sends as startup parameters: through PgBouncer that is PATH007's refusal again, so there
# the fix must be the role's value on the server. application_name, which PgBouncer tracks, works.

def _asyncpg(port: int, server_settings: dict[str, str]) -> dict:
    """asyncpg.connect() with these server_settings through PgBouncer: the error, or SHOW of each."""
    import asyncio

    import asyncpg

    async def attempt() -> dict:
        try:
            conn = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="labdb", ssl=False,
                                         server_settings=server_settings, statement_cache_size=0)
        except Exception as exc:  # noqa: BLE001 - the lab records whatever refuses the connection
            return {"error": f"{type(exc).__name__}: {exc}", "values": None}
        try:
            return {"error": None, "values": {k: await conn.fetchval(f"SHOW {k}") for k in server_settings}}
        finally:
            await conn.close()

    return asyncio.run(attempt())


def _asyncpg_env(query: str):
    return lambda port: f"API_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:{port}/labdb?ssl=disable&{query}\n"


def test_asyncpg_server_settings_statement_timeout_is_refused_and_app012_says_alter_role(lab):
    pytest.importorskip("asyncpg", reason="asyncpg is not installed (pip install -e '.[test]')")
    folder, port = _setup(lab, "asyncpg", ".env", _asyncpg_env("statement_timeout=30s"))
    observed = _asyncpg(port, {"statement_timeout": "30s"})  # what APP012 used to propose
    findings = sc.findings(folder, "APP012")
    _report("START6", "postgresql+asyncpg URL statement_timeout=30s -> PgBouncer; APP012's fix (server_settings) "
            "tried", findings, observed["error"] or "connected",
            bool(findings) and "ALTER ROLE" in findings[0]["fix"] and observed["error"] is not None, rule="APP012")
    assert observed["error"] == "ProtocolViolationError: unsupported startup parameter: statement_timeout", observed
    [finding] = findings
    assert "server_settings" in finding["fix"] and "ALTER ROLE postgres SET statement_timeout = '30s'" in finding["fix"], \
        finding
    assert 'connect_args={"server_settings"' not in finding["fix"], finding


def test_asyncpg_server_settings_application_name_works_and_app012_keeps_server_settings(lab):
    pytest.importorskip("asyncpg", reason="asyncpg is not installed (pip install -e '.[test]')")
    folder, port = _setup(lab, "asyncpg-appname", ".env", _asyncpg_env("application_name=api"))
    observed = _asyncpg(port, {"application_name": "api"})
    findings = sc.findings(folder, "APP012")
    _report("START7", "postgresql+asyncpg URL application_name=api -> PgBouncer; server_settings tried", findings,
            observed["error"] or f"connected; SHOW application_name = {observed['values']['application_name']}",
            bool(findings) and "server_settings" in findings[0]["fix"] and observed["error"] is None, rule="APP012")
    assert observed == {"error": None, "values": {"application_name": "api"}}, observed
    [finding] = findings
    assert finding["fix"] == 'remove application_name=api; create_async_engine(url, connect_args={"server_settings": ' \
        '{"application_name": "api"}})', finding


# PATH008: clients that open transactions through pool_mode = statement, which refuses them.
STATEMENT_POOL = {"pool_mode": "statement"}


def _psycopg_statement(port: int, autocommit: bool) -> str | None:
    import psycopg

    try:
        with psycopg.connect(f"host=127.0.0.1 port={port} dbname=labdb user=postgres sslmode=disable",
                             autocommit=autocommit, prepare_threshold=None) as conn:
            for _ in range(3):
                conn.execute("SELECT 1").fetchone()
            if not autocommit:
                conn.commit()
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {str(exc).strip()}"
    return None


def _sqlalchemy_statement(url: str, **engine_options) -> str | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, **engine_options)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()
    except Exception as exc:  # noqa: BLE001 - the lab records what SQLAlchemy raises
        return str(getattr(exc, "orig", exc)).strip()
    finally:
        engine.dispose()
    return None


def _sqlalchemy_env(port: int) -> str:
    return f"DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:{port}/labdb?sslmode=disable\n"


def test_sqlalchemy_psycopg_through_statement_pooling_fails_as_predicted(lab):
    pytest.importorskip("sqlalchemy", reason="SQLAlchemy is not installed (pip install -e '.[test]')")
    folder, port = _setup(lab, "stmt-sqla", ".env", _sqlalchemy_env, STATEMENT_POOL)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/labdb?sslmode=disable"
    default, autocommit = _sqlalchemy_statement(url), _sqlalchemy_statement(url, isolation_level="AUTOCOMMIT")
    findings = sc.findings(folder, "PATH008")
    _report("STMT1", "SQLAlchemy postgresql+psycopg -> PgBouncer pool_mode = statement (isolation_level default, "
            "then AUTOCOMMIT)", findings, f"{default}; with AUTOCOMMIT: {autocommit}",
            bool(findings) and default is not None and autocommit is not None, rule="PATH008")
    assert default == autocommit == "transaction blocks not allowed in statement pooling mode", (default, autocommit)
    [finding] = findings
    assert finding["severity"] == "error" and "transaction blocks not allowed" in finding["message"], finding
    assert finding["fix"].startswith("pool_mode = transaction"), finding


def test_psycopg_autocommit_off_fails_and_autocommit_on_runs_through_statement_pooling(lab):
    folder, port = _setup(lab, "stmt-psycopg", ".env", _sqlalchemy_env, STATEMENT_POOL)
    off, on = _psycopg_statement(port, autocommit=False), _psycopg_statement(port, autocommit=True)
    sc.RULE_ROWS["STMT2"] = ("PATH008", "psycopg 3 autocommit off / on -> PgBouncer pool_mode = statement",
                             "(the library's behaviour PATH008 rests on)", f"off: {off}; on: {on or 'all ran'}",
                             off is not None and on is None)
    assert off == "ProtocolViolation: transaction blocks not allowed in statement pooling mode", off
    assert on is None, on


def test_transaction_pooling_runs_the_same_sqlalchemy_and_pgpath_is_silent(lab):
    pytest.importorskip("sqlalchemy", reason="SQLAlchemy is not installed (pip install -e '.[test]')")
    folder, port = _setup(lab, "txn-sqla", ".env", _sqlalchemy_env, {"pool_mode": "transaction"})
    observed = _sqlalchemy_statement(f"postgresql+psycopg://postgres@127.0.0.1:{port}/labdb?sslmode=disable")
    findings = sc.findings(folder, "PATH008")
    _report("STMT3", "the same SQLAlchemy engine -> pool_mode = transaction", findings, observed or "ran",
            not findings and observed is None, rule="PATH008")
    assert observed is None, observed
    assert not findings, findings
