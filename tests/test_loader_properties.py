"""Every loader, on any bytes and on structured mutations of real files, returns a document (or
raises InputError for unreadable input) and a whole check of it renders in every format: nothing
else ever escapes (issue 12, fuzzing). The format-specific property tests (parity with the real
parsers) live with each loader; this file covers every kind in advisor.loaders.LOADERS, the ones
without a property test of their own (sql, sysctl, text) included.

Crashes found by the fuzz campaign (docs/robustness.md) are replayed here as regression inputs.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from advisor.engine import Settings, run
from advisor.loaders import LOADERS, InputError, load_file
from advisor.reporters import FORMATS, render

ROOT = Path(__file__).resolve().parent.parent

NAMES = {
    "postgresql": ["postgresql.conf", "postgresql.conf.j2"],
    "pgbouncer": ["pgbouncer.ini", "pgbouncer.ini.erb"],
    "haproxy": ["haproxy.cfg"],
    "client": [".env", "application.properties", "application.yml", "settings.py", "pg_service.conf", "db.json",
               "alembic.ini", "config.toml", "db.js", "db.ts"],
    "sql": ["init.sql"],
    "sysctl": ["99-sysctl.conf"],
    "text": ["notes.txt"],
    "cloud": ["proxies.json", "plan.json"],
    "terraform": ["main.tf"],
    "certificate": ["server.crt", "server.key"],
    "systemd": ["postgresql.service"],
    "kubernetes": ["cluster.yaml", "deployment.yaml"],
    "keepalived": ["keepalived.conf", "vrrp.conf"],
}

# lines each format is made of, to build structured inputs from
VOCABULARY = {
    "postgresql": ["shared_buffers = 1GB", "work_mem = '4MB'", "include 'x.conf'", "ssl = on", "port = {{ p }}",
                   "max_connections = 99999999999999999999", "a.b = 'x'", "# pgpath: ram=64GB", "x = '\\'",
                   "tcp_keepalives_idle = 1e999", "log_line_prefix = '%m %p '", "primary_conninfo = 'host=a'"],
    "pgbouncer": ["[pgbouncer]", "[databases]", "[users]", "db = host=a port=5432 password='x y'", "* = host=b",
                  "listen_port = 6432", "pool_mode = bogus", "%include x.ini", "tcp_keepidle = 99999",
                  "client_tls_sslmode = require", "auth_type = hba", "{{ x }} = host=c"],
    "haproxy": ["global", "defaults", "  mode tcp", "  timeout client 30s", "listen pg", "  bind :5000",
                "  server a 10.0.0.1:5432 check", "  option tcpka", "  timeout tunnel 99999999999d", "backend b",
                "  server b ${HOST}:5432", ".if defined(X)", ".endif", "  balance roundrobin"],
    "client": ["DATABASE_URL=postgres://u:p@h:5432/d?sslmode=require", "PGHOST=db", "a: &a {b: 1}", "c: *a",
               "spring.datasource.url=jdbc:postgresql://h/d", "DATABASES = {'default': {'ENGINE': 'x'}}",
               "[main]", "host=db", "{\"host\": \"db\", \"keepAlive\": true}", "x = ${A:-b}", "- name: PGPORT",
               "const { Pool } = require('pg');", "new Pool({ host: 'db', ssl: { rejectUnauthorized: false },",
               "max: parseInt(process.env.X || '5', 10), ...o, [k]: 1 } as any)", "import pg from 'pg';",
               "new pg.Client(`postgres://a@b:6432/c`)", "const c = c; pool.on('error', f);"],
    "sql": ["ALTER SYSTEM SET work_mem = '4MB';", "SET statement_timeout = 0;", "ALTER ROLE a SET x = 1;",
            "CREATE TABLE t (a int);", "$$ body $$;", "-- comment", "/* c */"],
    "sysctl": ["net.ipv4.tcp_keepalive_time = 7200", "vm.overcommit_memory=2", "# x", "kernel.shmmax = 1e99",
               "-net.ipv4.tcp_keepalive_intvl = 75"],
    "text": ["postgres://a@b/c", "host=a dbname=b", "jdbc:postgresql://x/y?tcpKeepAlive=true", "plain text"],
    "cloud": ['{"DBProxies": [{"DBProxyName": "p", "IdleClientTimeout": 1800, "RequireTLS": false}]}',
              '{"LoadBalancerAttributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "350"}]}',
              '{"format_version": "1.2", "resource_changes": [{"type": "aws_db_proxy", "change": {"after": {}}}]}',
              '{"kind": "sql#instance", "settings": {"databaseFlags": [{"name": "work_mem", "value": "x"}]}}',
              "[", "]", "{", "}", ","],
    "terraform": ['resource "aws_db_proxy" "p" {', "  idle_client_timeout = 1800", "}", 'variable "x" {',
                  "  default = 5", '  engine = "postgres"', '  name = "${var.x}"', "  parameter {",
                  '    name = "work_mem"', "    value = var.x", "# c", "  require_tls = false"],
    "certificate": ["-----BEGIN CERTIFICATE-----", "MIIBszCCAVmgAwIBAgIU", "-----END CERTIFICATE-----",
                    "-----BEGIN PRIVATE KEY-----", "MC4CAQAwBQYDK2VwBCIEI", "-----END PRIVATE KEY-----", "====", "x"],
    "systemd": ["[Unit]", "[Service]", "[Install]", "ExecStart=/usr/lib/postgresql/16/bin/postgres -D /d",
                "MemoryMax=4G", "OOMScoreAdjust=-1000", "Environment=PGDATA=/d", "LimitNOFILE=x", "MemoryMax=1e99"],
    "kubernetes": ["apiVersion: postgresql.cnpg.io/v1", "kind: Cluster", "spec:", "  instances: 3",
                   "  imageName: ghcr.io/cloudnative-pg/postgresql:16", "  postgresql:", "    parameters:",
                   "      work_mem: 4MB", "  resources:", "    limits:", "      memory: 4Gi", "---", "kind: Pooler",
                   "      memory: 99999999999999999999Ei"],
    "keepalived": ["vrrp_instance VI_1 {", "vrrp_instance {", "  state BACKUP", "  interface eth0",
                   "  virtual_ipaddress {", "  virtual_ipaddress_excluded", "{", "}", "}}", "  10.0.0.1/24 dev eth0",
                   "  fd00::1/64", "  @lb1 10.0.0.2", "  {{ vip }}", "  auth_pass x # c", "! c", "999.1.1.1/99"],
}

_DIR = tempfile.mkdtemp(prefix="pgpath-props-")


def _one(kind: str, name: str, data: bytes) -> None:
    path = os.path.join(_DIR, name)
    with open(path, "wb") as f:
        f.write(data)
    try:
        load_file(path, kind, {"pg_major": None, "pgbouncer_version": None})
    except InputError:
        return
    s = Settings(paths=[path])
    s.kind = kind
    report = run(s)
    for fmt in FORMATS:
        render(report, fmt)


def test_every_kind_is_covered():
    assert set(NAMES) == set(LOADERS) == set(VOCABULARY)


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("kind", sorted(LOADERS))
@PROPERTY
@given(data=st.binary(max_size=600), which=st.integers(0, 10))
def test_any_bytes(kind, data, which):
    _one(kind, NAMES[kind][which % len(NAMES[kind])], data)


@pytest.mark.parametrize("kind", sorted(LOADERS))
@PROPERTY
@given(lines=st.lists(st.tuples(st.integers(0, 40), st.text(alphabet="{}$'\"\\=#;[]%<>:@ \t-*&", max_size=6),
                                st.sampled_from(["", "\r", "\\"])), max_size=25),
       which=st.integers(0, 10))
def test_structured_mutations(kind, lines, which):
    words = VOCABULARY[kind]
    text = "\n".join(words[i % len(words)] + noise + end for i, noise, end in lines) + "\n"
    _one(kind, NAMES[kind][which % len(NAMES[kind])], text.encode("utf-8", "surrogatepass"))


# inputs the fuzz campaign found (fuzz/artifacts), replayed: (kind, file name, bytes)
REGRESSIONS: list[tuple[str, str, bytes]] = [
    # terraform, 4 inputs of the mutation runner: a parameter group of `family = "postgres1..."`
    # asked the catalog for PostgreSQL 1 (ValueError, an internal error); now the nearest major
    ("terraform", "main.tf", (b'resource "aws_db_parameter_group" "orders" {\n  name   = "orders-pg16"\n  family ='
                             b' "postgres1\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n'
                             b'\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n\n}\n6"\n\n  parameter {\n    name         = "rds.force_ssl"\n   '
                             b' value        = "0"\n    apply_method = "pending-rDboot"\n  }\n}\n')),
    ("terraform", "main.tf", b'resource "aws_db_parameter_group" "p" {\n  family = "postgres99"\n}\n'),
    # kubernetes, session 4 (atheris): a compose service with a merge key (`<<:`) whose value is a
    # scalar (`image:entsql.conf`, no blank after the colon) ended in an AttributeError in
    # yaml_nodes; now a syntax error at the value, as PyYAML and yaml.v3 refuse it
    ("kubernetes", "cluster.yaml", (b"services:\n  <<:\n    image: postgres:16\n    command: postgres -c shared_buffers=1GB"
                                    b" -c max_connections=300 B\n    mem_limit: 4g\n    volumes:\n"
                                    b"      - ./postgresql.conf:/etc/postgres:\n  <<:\n    image:entsql.conf\n")),
    # certificate, session 4 (atheris): an issuer name cryptography cannot parse (read lazily, a ValueError out of the loader)
    ("certificate", "server.crt", base64.b64decode(
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJIRENCeEtBREFnRUNBaFJmVEtzWCtjak41S2FvVVRmWWpkdTNuenFT"
        "RFRBS0JnZ3Foa2pPUFFRREFqQVAKTVEwd0N3WURWUVFEREFSaVlYSmxNQjRYRFRJME1ERXdNVEF3TURBd01Gb1hEVE13TURF"
        "d01UQXdNREF3TUZvdwpEekVOTUFzR0ExVUVBd3dFWW1GeTJUQlpNQk1HQnlxR1NNNDlBZ0VHQ0NxR1NNNDlBd0VIQTBJQUJM"
        "UWtjUjkxCnlWNnF2T2NaRTJYMTR1V0FGWU9LTHh0dmcyUXBSNEg3RE5WREI5bTlWak1RR3F3SHpmRDhnbitFOWl5QXJJK3kK"
        "SHd0QmR0WmxiVWNMcFJnd0NnWUlLb1pJemowRUF3SURSd0F3UkFJZ0YwQ29Ob3dVV1E4S0pYSUp1V3UrdGZXQwpDaERFbFpT"
        "MUxuN25MeHdGQlBJQ0lBWGtNS09sbWlaNDlkb3Bicjc4ZllVNW9mVHpxNWpBOG1lbDNzZm1wRkVJCi0tLS0tRU5EIENFUlRJ"
        "RklDQVRFLS0tLS0K")),
    # certificate, session 4 (atheris): an extension cryptography cannot parse (ValueError)
    ("certificate", "root.crt", base64.b64decode(
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJaRENDQVF1Z0F3SUJBZ0lVQXZ5YWxQMDJ2WjgrUTRSSUtoN0RWUFp0"
        "N1Q4d0NnWUlLb1pJemowRUF3SXcKRnpFVk1CTUdBMVVFQXd3TVpuVjZlaUJ5YjI5MElFTkJNQjRYRFRJME1ERXdNVEF3TURB"
        "d01Gb1hEVE13TURFdwpNVEF3TURBd01Gb3dHakVZTUJZR0ExVUVBd3dQWkdJdVpYaGhoWEJzWlM1MFpYTjBNRmt3RXdZSEtv"
        "Wkl6ajBDCkFRWUlLb1pJemowREFRY0RRZ0FFNUg5cTVpLzFhbFZrK0FYdFc4dlVDa21vV3BCRHBWWUpDWTF6Zmp5ekVtcUwK"
        "SlpiUkoySVkyWnRHY3k4cUJPY2t2dHpDS3JlazBveGYzb05TUXQzUGM2TXlNREF3REFZRFZSMFRBUUgvQkFJdwpBREFnQmdO"
        "VkhSRUVHVEFYZ2c5a1lpMmxlR0Z0Y0d4bExuUmxjM1NIQkFvQUFBVXdDZ1lJS29aSXpqMEVBd0lEClJ3QXdSQUlnS00xcjZC"
        "aytOa01IdzBJVmV3aHNXQm8vZHp5ZEVIam1tZm9OeE9uVUJ3OENJRE96TERBaGE2Q0cKT3dJZ3FRMldLek9aS3FHZmxwZ1h3"
        "NjEvMlJuWFRMRzAKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQotLS0tLU1JcXQ2VFNqRi9lZzFKQzNjOXoKLS1LRVktLS0t"
        "LQo=")),
    # certificate, session 4 (atheris): a duplicate basicConstraints extension (DuplicateExtension)
    ("certificate", "haproxy.pem", base64.b64decode(
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJaRENDQVF1Z0F3SUJBZ0lVQXZ5YWxQMDJ2WjgrUTRSSUtoN0RWUFp0"
        "N1Q4d0NnWUlLb1pJemowRUF3SXcKRnpFVk1CTUdBMVVFQXd3TVpuVjZlaUJ5YjI5MElFTkJNQjRYRFRJME1ERXdNVEF3TURB"
        "d01Gb1hEVE13TURFdwpNVEF3TURBd01Gb3dHakVZTUJZR0ExVUVBd3dQWkdJdVpYaGhiWEJzWlM1MFpYTjBNRmt3RXdZSEtv"
        "Wkl6ajBDCkFRWUlLb1pJemowREFRY0RRZ0FFNUg5cTVpLzFhbFZrK0FYdFc4dlVDa21vV3BCRHBWWUpDWTF6Zmp5ekVtcUwK"
        "SlpiUkoySVkyWnRHY3k4cUJPY2t2dHpDS3JlazBveGYzb05TUXQzUGM2TXlNREF3REFZRFZSMFRBUUgvQkFJdwpBREFnQmdO"
        "VkhSTUVHVEFYZ2c5a1lpNWxlR0Z0Y0d4bExuUmxjM1NIQkFvQUFBVXdDZ1lJS29aSXpqMEVBd0lEClJ3QXdSQUlnS00xcjZC"
        "aytOa01IdzBJVmV3aHNXQm8vZHp5ZEVIam1tZm9OeE9uVUJ3OENJRE96TERBaGE2Q0cKT3dJZ3FRMldLek9aS3FHZmxwZ1h3"
        "NjEvMlJuWFRMRzAKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQotLS0tLUJFR0lOIENFUlRJRklDQVRFLS0tLS0KTUlJQlFq"
        "Q0I2YUFEQWdFQ0FoUkQyQ3RzdUxDdjVXclVyNmN1d2hqM21GQ3VOakFLQmdncWhrak9QUVFEQWpBWApNUlV3RXdZRFZRUURE"
        "QXhtZFhwNklISnZiM1FnUTBFd0hoY05NalF3TVRBeE1EQXdNREF3V2hjTk16QXdNVEF4Ck1EQXdNREF3V2pBWE1SVXdFd1lE"
        "VlFRRERBeG1kWHA2SUhKdmIzUWdRMEV3V1RBVEJnY3Foa2pPUFFJQkJnZ3EKaGtqT1BRTUJCd05DQUFTYTliQlR6b3lBWU16"
        "enhOczV4Q2VhNTUzUWhLL3E1VUxUTExSaXpnV3VRWGhYTTlrUgppNHM3OTVpZERBakR3MUN3dXB1Ym1aMjJDZjNVRDk4cTdx"
        "NWtveE13RVRBUEJnTlZIUk1CQWY4RUJUQURBUUgvCk1Bb0dDQ3FHU000OUJBTUNBMGdBTUVVQ0lDR0hNeXkvZ2dheUpoMFlX"
        "bXJzV0F3VlVYQjFoTEFMd1NEajhaYTUKWmEyaEFpRUEwREdhUWNrSDdRZW0rZVJNYzI3bWZkUnplbGRTVnpocmJQcisrT1J3"
        "anNNPQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCi0tLQMtLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJN"
        "R0J5cUdTTTQ5QWctLS0tQkVHSU4gQ0VSVElGRUdDQ0lDQXFHVFM=")),
    # sysctl, session 4 (atheris): a `{{...}}` tag whose body is only control white space (\x1f): IndexError in template._is_block_tag
    ("sysctl", "99-sysctl.conf", base64.b64decode(
        "bmF0aW89M2Vu+319IEAge3sfHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8f"
        "Hx8fHx8fHx8fHx8fHx8fHx8fH319dm0ub3Zlcj0zZW5pMHZyYXRpbw==")),
]


@pytest.mark.parametrize("kind,name,data", REGRESSIONS or [pytest.param(None, None, None, marks=pytest.mark.skip(
    reason="the campaign found no crash to replay"))])
def test_fuzz_regressions(kind, name, data):
    _one(kind, name, data)


@pytest.mark.parametrize("data", [d for k, _, d in REGRESSIONS if k == "certificate"])
def test_unreadable_certificate_parts_are_certificate_invalid(data):
    """A certificate whose names or extensions cryptography parses only when first read (a bad
    issuer, a bad or duplicate extension; OpenSSL refuses such a file at load) is a
    certificate-invalid diagnostic (TLS014) at its BEGIN line, not an exception."""
    path = os.path.join(_DIR, "server.crt")
    with open(path, "wb") as f:
        f.write(data)
    doc = load_file(path, "certificate", {})
    invalid = [d for d in doc.diagnostics if d.kind == "certificate-invalid"]
    assert invalid and all(d.span.line for d in invalid)
    assert len(doc.model.certs) < data.count(b"-----BEGIN CERTIFICATE-----") + data.count(b"-----BEGIN TRUSTED")


def test_template_tag_of_other_white_space():
    """`{{` + only white space str.split() knows (\\x1f) + `}}`: no block word, no IndexError."""
    from advisor.loaders.template import placeholders

    placeholders("a = {{\x1f\x1f}}")
    placeholders("vm.x = 3 {{\x1f\x1f\x1f}} @ {{ y }}")
