"""The lab for HAP013: HAProxy 2.6 as a TLS end in front of a real PostgreSQL 15 (audit17 D1).

Each row writes the folder pgpath reads — the haproxy.cfg HAProxy runs with, a `.env` whose
DATABASE_URL the client connects with (psycopg, whose bundled libpq is 17 or later for the direct
rows), the lab server's postgresql.conf in a pgpath.yaml topology — and compares `pgpath check
--select HAP013` with what the connection got:

- HTLS1-3: `bind ... ssl crt` without alpn: libpq's default negotiation (an SSLRequest first) fails
  with sslmode verify-full and disable (`server closed the connection unexpectedly`), and
  `sslnegotiation=direct` fails (`direct SSL connection was established without ALPN protocol
  negotiation extension`); HAP013 error, quoting what each gets;
- HTLS4-5: the bind with `alpn postgresql`: direct with verify-full connects (and PostgreSQL sees a
  plaintext connection from HAProxy), pgpath says nothing; the default negotiation still fails,
  HAP013 error;
- HTLS6: HAP013's first fix, `ssl crt` removed: verify-full connects with TLS ended at PostgreSQL;
  nothing said;
- HTLS7-8: `server ... ssl` toward PostgreSQL 15, without and with `alpn postgresql`: every
  connection fails, PostgreSQL logs `invalid length of startup packet`; HAP013 error;
- HTLS9: asyncpg `direct_tls=True` through the bind without alpn connects (asyncpg offers ALPN and
  does not check it), without it fails; HAP013 silent, then an error.

HAProxy and PostgreSQL run on 127.0.0.1 and are stopped (by their pids) at the end.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import labkit
import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]

CLOSED = "server closed the connection unexpectedly"
NO_ALPN = "direct SSL connection was established without ALPN protocol negotiation extension"


@pytest.fixture(scope="module")
def lab():
    yield from sc.lab_with_server("pgpath-lab-haptls-", "haptls", "")


def _libpq_direct() -> bool:
    import psycopg

    return psycopg.pq.version() >= 170000


def _setup(lab, name: str, bind: str, server: str, url_query: str) -> tuple[Path, str]:
    """The row's folder (haproxy.cfg, .env, pgpath.yaml) with HAProxy started on it; the client's URL."""
    d = lab.dir(name)
    crt, key = lab.tls()
    pem = d / "haproxy.pem"
    pem.write_text(Path(crt).read_text() + Path(key).read_text())
    port = labkit.free_port()
    bind = bind.replace("<pem>", str(pem))
    sc.write(d, "haproxy.cfg", "\n".join([
        "# pgpath lab: the file HAProxy runs with (haproxy -db -f haproxy.cfg)", "defaults", "    mode tcp",
        "    timeout connect 2s", "    timeout client 30s", "    timeout server 30s", "", "listen pg",
        f"    bind 127.0.0.1:{port}{bind}", f"    server pg1 127.0.0.1:{lab.pg.port}{server}", ""]))
    # (the certificate names localhost: verify-full connects to that name)
    url = f"postgresql://postgres@localhost:{port}/postgres?connect_timeout=5&{url_query.replace('<crt>', str(crt))}"
    sc.write(d, ".env", f"DATABASE_URL={url}\n")
    sc.write(d, "pgpath.yaml", sc.topology(["client: {file: .env, variable: DATABASE_URL}",
                                            "haproxy: {file: haproxy.cfg, proxy: pg}",
                                            f"postgres: {{file: {lab.pg.conf}, version: 15}}"]))
    labkit.start_haproxy(lab, d / "haproxy.cfg", port)
    return d, url


def _connect(url: str) -> tuple[str, bool | None]:
    """("connected", whether PostgreSQL saw TLS on its connection) or (the error, None)."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            ssl = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0]
            return "connected", ssl
    except psycopg.OperationalError as exc:
        return " ".join(str(exc).split()), None


def _row(sid: str, config: str, folder: Path, expect_error: str | None) -> tuple[list, str, bool | None]:
    """Connect, run pgpath, record the row; (HAP013 findings, what the client got, TLS at PostgreSQL)."""
    got, ssl = _connect((folder / ".env").read_text().strip().split("=", 1)[1])
    found = sc.findings(folder, "HAP013")
    predicted = f"HAP013 {found[0]['severity']}" if found else "no HAP013 finding"
    if expect_error is None:
        match = got == "connected" and not found
        observed = f"connected (PostgreSQL's pg_stat_ssl.ssl = {ssl})"
    else:
        match = expect_error in got and len(found) == 1 and found[0]["severity"] == "error" and \
            expect_error in found[0]["message"]
        # (what libpq said, without its address and its "This probably means ..." lines)
        observed = f"failed: {expect_error if expect_error in got else got}"
    sc.RULE_ROWS[sid] = ("HAP013", config, predicted, observed, match)
    return found, got, ssl


def test_an_ssl_bind_refuses_libpq_whatever_its_sslmode_as_predicted(lab):
    folder, _ = _setup(lab, "bind-ssl", " ssl crt <pem>", "", "sslmode=verify-full&sslrootcert=<crt>")
    found, got, _ = _row("HTLS1", "HAProxy `bind ... ssl crt`, no alpn; libpq sslmode=verify-full (an SSLRequest "
                         "first)", folder, CLOSED)
    assert CLOSED in got, got
    assert len(found) == 1 and found[0]["severity"] == "error" and CLOSED in found[0]["message"], found
    assert found[0]["span"]["file"].endswith("haproxy.cfg") and found[0]["span"]["line"] == 9
    sc.write(folder, ".env", (folder / ".env").read_text().replace("sslmode=verify-full", "sslmode=disable"))
    found, got, _ = _row("HTLS2", "the same bind; libpq sslmode=disable (a plaintext StartupMessage first)", folder,
                         CLOSED)
    assert CLOSED in got and len(found) == 1 and CLOSED in found[0]["message"], (got, found)


def test_direct_tls_needs_alpn_postgresql_on_the_bind_as_predicted(lab):
    if not _libpq_direct():
        pytest.skip("psycopg's libpq is older than 17 (no sslnegotiation=direct)")
    folder, _ = _setup(lab, "bind-ssl-direct", " ssl crt <pem>", "",
                       "sslmode=verify-full&sslrootcert=<crt>&sslnegotiation=direct")
    found, got, _ = _row("HTLS3", "HAProxy `bind ... ssl crt`, no alpn; libpq 17+ sslnegotiation=direct, "
                         "sslmode=verify-full", folder, NO_ALPN)
    assert NO_ALPN in got and len(found) == 1 and NO_ALPN in found[0]["message"], (got, found)

    folder, _ = _setup(lab, "bind-alpn-direct", " ssl crt <pem> alpn postgresql", "",
                       "sslmode=verify-full&sslrootcert=<crt>&sslnegotiation=direct")
    found, got, ssl = _row("HTLS4", "HAProxy `bind ... ssl crt ... alpn postgresql`; libpq 17+ "
                           "sslnegotiation=direct, sslmode=verify-full", folder, None)
    # (TLS ends at HAProxy: PostgreSQL gets the decrypted stream in plaintext)
    assert got == "connected" and ssl is False and found == [], (got, found)

    sc.write(folder, ".env", (folder / ".env").read_text().replace("&sslnegotiation=direct", ""))
    found, got, _ = _row("HTLS5", "the same bind with alpn postgresql; libpq without sslnegotiation (an "
                         "SSLRequest first)", folder, CLOSED)
    assert CLOSED in got and len(found) == 1 and CLOSED in found[0]["message"], (got, found)


def test_the_fix_tls_at_postgresql_connects_and_pgpath_is_silent(lab):
    folder, _ = _setup(lab, "bind-plain", "", "", "sslmode=verify-full&sslrootcert=<crt>")
    found, got, ssl = _row("HTLS6", "HAP013's fix: `ssl crt` removed from the bind (TLS ends at PostgreSQL, ssl = on); "
                           "libpq sslmode=verify-full", folder, None)
    assert got == "connected" and ssl is True and found == [], (got, found)


@pytest.mark.parametrize("sid, alpn", [("HTLS7", ""), ("HTLS8", " alpn postgresql")])
def test_haproxy_starting_tls_toward_postgresql_15_fails_as_predicted(lab, sid, alpn):
    folder, _ = _setup(lab, f"server-ssl{alpn.replace(' ', '-')}", "", f" ssl verify none{alpn}", "sslmode=prefer")
    before = lab.pg.log.read_text(errors="replace").count("invalid length of startup packet")
    found, got, _ = _row(sid, f"HAProxy `server ... ssl verify none{alpn}` toward PostgreSQL 15; libpq "
                         "sslmode=prefer", folder, CLOSED)
    logged = lab.pg.log.read_text(errors="replace").count("invalid length of startup packet") - before
    rule, config, predicted, observed, match = sc.RULE_ROWS[sid]
    sc.RULE_ROWS[sid] = (rule, config, predicted, f"{observed}; PostgreSQL logged `invalid length of startup packet`"
                         f" {logged} time{'s' if logged != 1 else ''}", match and logged >= 1)
    assert CLOSED in got and logged >= 1, (got, logged)
    assert len(found) == 1 and found[0]["severity"] == "error", found
    assert re.search(r"server pg1 127\.0\.0\.1:\d+ ssl", found[0]["message"]), found[0]["message"]
    assert "PostgreSQL 15" in found[0]["message"] if alpn else "invalid length of startup packet" in found[0]["message"]


def test_asyncpg_direct_tls_connects_without_alpn_as_predicted(lab):
    """asyncpg offers ALPN postgresql in direct mode but does not check that the server selected it
    (connect_utils: set_alpn_protocols only): through a bind without alpn it connects, and its
    default negotiation (an SSLRequest first) does not."""
    import asyncio

    import asyncpg

    folder, url = _setup(lab, "bind-ssl-asyncpg", " ssl crt <pem>", "", "sslmode=require")
    (folder / ".env").unlink()
    url = url.split("?", 1)[0].replace("localhost", "127.0.0.1")
    sc.write(folder, "db.py", "import asyncpg\n\n\nasync def connect():\n"
                              f"    return await asyncpg.connect(\"{url}\", ssl=\"require\", direct_tls=True)\n")
    sc.write(folder, "pgpath.yaml", (folder / "pgpath.yaml").read_text().replace(
        "client: {file: .env, variable: DATABASE_URL}", "client: {file: db.py}"))

    async def connect(direct: bool) -> str:
        try:
            conn = await asyncpg.connect(url, ssl="require", direct_tls=direct, timeout=5)
        except Exception as exc:  # noqa: BLE001 - what it got is the observation
            return f"{type(exc).__name__}: {exc}"
        try:
            return f"connected (SELECT 1 = {await conn.fetchval('SELECT 1')})"
        finally:
            await conn.close()
    direct, default = asyncio.run(connect(True)), asyncio.run(connect(False))
    found = sc.findings(folder, "HAP013")
    sc.RULE_ROWS["HTLS9"] = ("HAP013", "HAProxy `bind ... ssl crt`, no alpn; asyncpg.connect(ssl=\"require\", "
                             "direct_tls=True) in db.py", "no HAP013 finding" if not found else
                             f"HAP013 {found[0]['severity']}", f"direct_tls: {direct}; without it: {default}",
                             direct.startswith("connected") and not default.startswith("connected") and not found)
    assert direct.startswith("connected") and not default.startswith("connected"), (direct, default)
    assert found == [], found
    sc.write(folder, "db.py", (folder / "db.py").read_text().replace(", direct_tls=True", ""))
    [finding] = sc.findings(folder, "HAP013")
    assert finding["severity"] == "error" and "no direct_tls: an SSLRequest first" in finding["message"], finding
