"""Every loader, on any bytes and on structured mutations of real files, returns a document (or
raises InputError for unreadable input) and a whole check of it renders in every format: nothing
else ever escapes (issue 12, fuzzing). The format-specific property tests (parity with the real
parsers) live with each loader; this file covers every kind in advisor.loaders.LOADERS, the ones
without a property test of their own (sql, sysctl, text) included.

Crashes found by the fuzz campaign (docs/robustness.md) are replayed here as regression inputs.
"""

from __future__ import annotations

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
               "alembic.ini", "config.toml"],
    "sql": ["init.sql"],
    "sysctl": ["99-sysctl.conf"],
    "text": ["notes.txt"],
    "cloud": ["proxies.json", "plan.json"],
    "terraform": ["main.tf"],
    "certificate": ["server.crt", "server.key"],
    "systemd": ["postgresql.service"],
    "kubernetes": ["cluster.yaml", "deployment.yaml"],
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
               "[main]", "host=db", "{\"host\": \"db\", \"keepAlive\": true}", "x = ${A:-b}", "- name: PGPORT"],
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
]


@pytest.mark.parametrize("kind,name,data", REGRESSIONS or [pytest.param(None, None, None, marks=pytest.mark.skip(
    reason="the campaign found no crash to replay"))])
def test_fuzz_regressions(kind, name, data):
    _one(kind, name, data)
