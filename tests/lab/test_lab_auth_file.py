"""The lab for PGB022: the secrets of PgBouncer's auth_file against its auth_type.

Real PostgreSQL 15 (trust) behind the installed PgBouncer (1.18 here). The auth_file beside
pgbouncer.ini holds one user's secret in one of PgBouncer's three forms (src/scram.c
get_password_type): a plain password, `md5` + md5(password + user name), or a SCRAM-SHA-256
secret (`SCRAM-SHA-256$4096:salt$StoredKey:ServerKey`, computed here as PostgreSQL does). psycopg
(libpq) logs in with the right password. What PgBouncer does with each, in its source
(src/client.c):

- auth_type = scram-sha-256 and an md5 secret: `SCRAM authentication failed: user has MD5
  secret` (scram_client_first): every login of that user fails -> pgpath: PGB022 error;
- auth_type = md5 and a SCRAM secret: PgBouncer asks for SCRAM instead (handle_auth: "auth =
  AUTH_TYPE_SCRAM_SHA_256"), which libpq answers -> no finding;
- a plain password with either -> no finding;
- an empty secret with either: check_client_passwd refuses it ("disallow empty passwords") ->
  PGB022 error;
- an md5 secret computed with another user name: the client's answer never matches -> refused;
  pgpath cannot see it without the password (a library row, no prediction).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

import labkit
import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]

PASSWORD = "Lab-pw-9f3e1c"  # also the secret the outputs are checked against in tests/test_secrets_auth_file.py
USER = "postgres"


@pytest.fixture(scope="module")
def lab():
    yield from sc.lab_with_server("pgpath-lab-auth-", "auth", "")


def md5_secret(password: str, user: str) -> str:
    return "md5" + hashlib.md5((password + user).encode()).hexdigest()


def scram_secret(password: str, salt: bytes = b"pgpath-lab-salt!", iterations: int = 4096) -> str:
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    server = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored)}:{b64(server)}"


def _setup(lab, name: str, auth_type: str, secret: str):
    """The folder pgpath reads (pgbouncer.ini, userlist.txt beside it, which PgBouncer reads) and
    PgBouncer's port."""
    d = lab.dir(name)
    port = labkit.free_port()
    ini = sc.pgbouncer_ini(lab, name, port, f"127.0.0.1:{lab.pg.port}", {"pool_mode": "transaction"})
    ini = ini.replace("auth_type = trust", f"auth_type = {auth_type}")
    ini = "\n".join(f"auth_file = {d / 'userlist.txt'}" if line.startswith("auth_file") else line
                    for line in ini.splitlines()) + "\n"
    path = sc.write(d, "pgbouncer.ini", ini)
    sc.write(d, "userlist.txt", f'"{USER}" "{secret}"\n')
    sc.write(d, "pgpath.yaml", f"pgbouncer-version: '{_version()}'\n")
    labkit.start_pgbouncer(lab, path, port)
    return d, port


def _version() -> str:
    import re
    import subprocess

    out = subprocess.run([labkit.PGBOUNCER, "--version"], capture_output=True, text=True, timeout=10).stdout
    return re.search(r"PgBouncer (\d+\.\d+)", out).group(1)


def _login(port: int, log=None) -> str:
    """libpq's login through PgBouncer: `logged in`, or `refused: <FATAL message>` with the line
    PgBouncer logged about it (its log file `log`)."""
    import re

    import psycopg

    try:
        with psycopg.connect(host="127.0.0.1", port=port, dbname="labdb", user=USER, password=PASSWORD,
                             sslmode="disable", connect_timeout=10) as conn:
            return f"logged in (SELECT 1 = {conn.execute('SELECT 1').fetchone()[0]})"
    except psycopg.OperationalError as exc:
        m = re.search(r"FATAL:\s+(.*)", str(exc))
        said = m.group(1).strip() if m else str(exc).strip()
        lines = log.read_text(errors="replace").splitlines() if log else []
        # without the timestamp, pid and client prefix: the lab report stays the same from run to run
        logged = [re.sub(r"^.*?C-0x[0-9a-f]+: \S+ ", "", re.sub(r"^\d{4}-\d\d-\d\d \S+ \S+ \[\d+\] ", "", line))
                  for line in lines if " ERROR " in line or "closing because" in line]
        return f"refused: FATAL {said}" + (f" (PgBouncer's log: {logged[0]})" if logged else "")


def _row(sid: str, config: str, folder, observed: str, refused_expected: bool) -> list[dict]:
    findings = sc.findings(folder, "PGB022")
    predicted = "; ".join(f"{f['code']} {f['severity']}" for f in findings) or "no PGB022 finding"
    refused = observed.startswith("refused")
    match = refused == refused_expected and bool(findings) == refused_expected
    sc.RULE_ROWS[sid] = ("PGB022", config, predicted, observed, match)
    return findings


CASES = [
    # sid, auth_type, secret kind, PgBouncer refuses
    ("AUTH1", "scram-sha-256", "md5", True),
    ("AUTH2", "md5", "scram", False),
    ("AUTH3", "md5", "plain", False),
    ("AUTH4", "scram-sha-256", "plain", False),
    ("AUTH5", "scram-sha-256", "scram", False),
    ("AUTH6", "md5", "md5", False),
    ("AUTH7", "md5", "empty", True),
    ("AUTH8", "scram-sha-256", "empty", True),
]


def _secret(kind: str) -> str:
    return {"md5": md5_secret(PASSWORD, USER), "scram": scram_secret(PASSWORD), "plain": PASSWORD, "empty": ""}[kind]


@pytest.mark.parametrize("sid,auth_type,kind,refused", CASES, ids=[c[0] for c in CASES])
def test_auth_type_against_the_secret_form(lab, sid, auth_type, kind, refused):
    folder, port = _setup(lab, sid.lower(), auth_type, _secret(kind))
    observed = _login(port, lab.dir(f"bouncer-{sid.lower()}") / "pgbouncer.log")
    findings = _row(sid, f"auth_type = {auth_type}, {kind} secret in auth_file; libpq logs in with the password",
                    folder, observed, refused)
    assert observed.startswith("refused") == refused, observed
    if refused:
        [finding] = findings
        assert finding["severity"] == "error", finding
        assert finding["span"]["file"].endswith("userlist.txt") and finding["span"]["line"] == 1, finding
    else:
        assert not findings, findings
    if kind != "empty":
        assert PASSWORD not in str(findings) and _secret(kind) not in str(findings)


def test_md5_secret_of_another_user_name_is_refused(lab):
    folder, port = _setup(lab, "md5-other-user", "md5", md5_secret(PASSWORD, "someone_else"))
    observed = _login(port, lab.dir("bouncer-md5-other-user") / "pgbouncer.log")
    sc.RULE_ROWS["AUTH9"] = ("PGB022", "auth_type = md5, md5 secret computed with another user name (the behaviour: "
                             "the hash includes the user name)", "(not visible without the password)", observed,
                             observed.startswith("refused"))
    assert observed.startswith("refused"), observed


def test_a_hash_comment_line_stops_pgbouncer_reading_the_auth_file(lab):
    """`#` is no comment in an auth_file (only `;` is): PgBouncer logs "broken auth file" and loads
    no entry after it, so the users below it cannot log in (no auth_user to look them up)."""
    folder, port = _setup(lab, "hash-comment", "md5", PASSWORD)
    (folder / "userlist.txt").write_text(f'# application users\n"{USER}" "{PASSWORD}"\n')
    import subprocess
    import time

    pid = int((lab.dir("bouncer-hash-comment") / "pgbouncer.pid").read_text())
    subprocess.run(["kill", "-HUP", str(pid)], check=True)  # RELOAD: PgBouncer reads the auth_file again
    time.sleep(1)
    log = (lab.dir("bouncer-hash-comment") / "pgbouncer.log").read_text(errors="replace")
    assert "broken auth file" in log, log[-2000:]
    observed = _login(port, lab.dir("bouncer-hash-comment") / "pgbouncer.log")
    findings = _row("AUTH10", "auth_type = md5, a `# ...` line before the user's line in auth_file", folder,
                    observed, True)
    assert observed.startswith("refused"), observed
    [finding] = findings
    assert finding["severity"] == "error" and finding["span"]["line"] == 1, finding
