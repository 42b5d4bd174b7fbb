"""node-postgres clients configured in JavaScript/TypeScript code, read with tree-sitter and never
run (advisor.loaders.clients.jscode), and read with the environment of the container that runs them
(advisor.loaders.clients.node_env).

tests/node_clients/s05 is blind audit 15's scenario s05 as the auditor wrote it: an AKS notifier
(node-postgres, `new Pool({...})` with no host: PGHOST etc. come from its Deployment's `env:`)
through an internal Azure Load Balancer to a StatefulSet PostgreSQL 15 whose ConfigMap leaves
ssl off."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from advisor.loaders import detect_kind
from advisor.loaders.client import load
from advisor.model import Unknown

ROOT = Path(__file__).resolve().parent.parent
S05 = Path(__file__).resolve().parent / "node_clients" / "s05"


def pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args, "--no-config"], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def endpoints(path: Path):
    doc = load(str(path))
    assert doc.meta["format"] == "javascript"
    return doc.model.endpoints


def only(path: Path):
    eps = endpoints(path)
    assert len(eps) == 1, [e.name for e in eps]
    return eps[0]


def at(path: Path, span) -> str:
    return path.read_text().split("\n")[span.line - 1][span.col - 1:]


def s05(tmp_path: Path) -> Path:
    shutil.copytree(S05, tmp_path / "s05")
    return tmp_path / "s05"


def findings(folder: Path) -> list[dict]:
    r = pgpath("check", ".", "--format", "json", cwd=folder)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)["findings"]


# ------------------------------------------------------------------------------------------------
# the audit's scenario s05


def test_s05_the_notifier_is_read_with_its_deployments_environment(tmp_path):
    folder = s05(tmp_path)
    got = sorted((f["code"], f["severity"], f["span"]["file"]) for f in findings(folder))
    # before: the Deployment's PG* variables were read as a libpq client (APP001 "libpq defaults to
    # prefer"), db.js not at all: no PATH004, PATH005 or PATH002
    assert got == [
        ("APP001", "info", "./notifier/src/db.js"),       # rejectUnauthorized: false
        ("MEM001", "info", "./deploy/postgres/configmap.yaml"),
        ("PATH001", "warning", "./deploy/postgres/configmap.yaml"),  # Azure LB 240 s, both ends silent longer
        ("PATH002", "info", "./notifier/src/db.js"),      # idleTimeoutMillis 600 s > 240 s
        ("PATH004", "error", "./notifier/src/db.js"),     # ssl required, server ssl off
        ("PATH005", "warning", "./deploy/postgres/configmap.yaml"),  # 10 × 25 > 197
        ("TLS001", "info", "./deploy/postgres/service.yaml"),
    ]
    text = pgpath("check", ".", cwd=folder).stdout
    assert ("PATH004 error pool (node-postgres) ssl: { rejectUnauthorized: false } requires TLS, but PostgreSQL "
            "configmap.yaml does not offer it (ssl not set (default off)): every connection on this path fails "
            "(The server does not support SSL connections)") in text
    assert "(max 25) × 10 replicas (replicas: 10 of Deployment notifier) = 250 connections" in text
    assert "> max_connections 200 − reserved 3 = 197" in text
    # node-postgres' keepAlive: true with no initial delay leaves the OS default: the fix is in its options
    assert "notifier/src/db.js: keepAlive: true, keepAliveInitialDelayMillis: 120000" in text
    # the Azure LB resets both ends (TCP reset, the default of a Kubernetes Service): pg-pool drops the
    # idle client and emits 'error', which the module handles
    assert "the module listens for it (pool.on('error', ...) at db.js:14)" in text
    assert "fix: idleTimeoutMillis: 210000 (ms, 30 s below 240 s)\n" in text
    assert "CLD004" not in text


def test_s05_one_path_from_the_code_through_the_azure_lb(tmp_path):
    folder = s05(tmp_path)
    r = pgpath("path", ".", "--format", "json", cwd=folder)
    found = [p for p in json.loads(r.stdout)["paths"] if len(p["hops"]) > 1]
    assert [[(h["kind"], h["file"]) for h in p["hops"]] for p in found] == [[
        ("client", "./notifier/src/db.js"), ("azure-lb", "./deploy/postgres/service.yaml"),
        ("postgres", "./deploy/postgres/configmap.yaml")]]
    assert found[0]["evidence"][0] == (
        "pool reads where it connects from the environment of notifier in notifier/deployment.yaml, whose image "
        "acr.example.azurecr.io/notifier:5.2.0 is the package notifier (notifier/package.json)")


def test_s05_without_evidence_of_the_container_nothing_is_linked(tmp_path):
    """Another package name: the code's host stays unknown (no path), the Deployment's variables stay
    a libpq client of their own."""
    folder = s05(tmp_path)
    pkg = folder / "notifier" / "package.json"
    pkg.write_text(pkg.read_text().replace('"name": "notifier"', '"name": "mailer"'))
    got = sorted((f["code"], f["span"]["file"]) for f in findings(folder))
    assert ("PATH004", "./notifier/src/db.js") not in got and not [c for c, _ in got if c == "PATH005"]
    assert ("APP001", "./deploy/notifier/deployment.yaml") in got  # libpq's prefer, as before
    # the client alone: its pool still (APP004: no validation, no lifetime); where it connects is not
    # known, so neither is whether its TLS crosses a network (no APP001)
    assert ("APP004", "./notifier/src/db.js") in got and ("APP001", "./notifier/src/db.js") not in got


def test_s05_a_host_read_from_pghost_with_a_default_takes_the_containers_pg_variables(tmp_path):
    """`host: process.env.PGHOST ?? '10.9.9.9'` (audit 17 s03): the literal is only the default; the
    container's PGHOST is what pg connects to, and its PG* variables are that client's settings, not a
    libpq client of their own (whose APP001 said "libpq defaults to prefer": node-postgres has no TLS
    without ssl or PGSSLMODE)."""
    folder = s05(tmp_path)
    code = folder / "notifier" / "src" / "db.js"
    code.write_text(code.read_text().replace("const pool = new Pool({\n",
                                             "const pool = new Pool({\n  host: process.env.PGHOST ?? '10.9.9.9',\n"))
    got = sorted((f["code"], f["span"]["file"]) for f in findings(folder))
    assert ("APP001", "./deploy/notifier/deployment.yaml") not in got
    assert ("PATH004", "./notifier/src/db.js") in got  # the container's PGHOST reaches the server
    text = pgpath("path", ".", cwd=folder).stdout
    assert "10.9.9.9" not in text and "PG* environment" not in text


def test_s05_two_containers_of_the_image_link_nothing(tmp_path):
    folder = s05(tmp_path)
    dep = folder / "deploy" / "notifier" / "deployment.yaml"
    (folder / "deploy" / "notifier" / "deployment-b.yaml").write_text(
        dep.read_text().replace("name: notifier\n  namespace", "name: notifier-b\n  namespace"))
    got = [(f["code"], f["span"]["file"]) for f in findings(folder)]
    assert ("PATH004", "./notifier/src/db.js") not in got


def test_s05_pool_max_from_the_containers_variable(tmp_path):
    """`parseInt(process.env.PG_POOL_MAX || '25', 10)`: the container's PG_POOL_MAX wins over the default."""
    folder = s05(tmp_path)
    dep = folder / "deploy" / "notifier" / "deployment.yaml"
    dep.write_text(dep.read_text().replace('{name: PG_POOL_MAX, value: "25"}', '{name: PG_POOL_MAX, value: "15"}'))
    got = [f for f in findings(folder) if f["code"] == "PATH005"]
    assert got == []  # 10 × 15 = 150 ≤ 197
    dep.write_text(dep.read_text().replace('{name: PG_POOL_MAX, value: "15"}', ""))
    text = pgpath("check", ".", "--select", "PATH005", cwd=folder).stdout
    assert "(max 25) × 10 replicas" in text  # the code's default, assumed


# ------------------------------------------------------------------------------------------------
# the reader


@pytest.mark.parametrize("head,ctor", [
    ("const { Pool } = require('pg');", "new Pool"),
    ("const { Pool: PgPool } = require('pg');", "new PgPool"),
    ("const pg = require('pg');", "new pg.Pool"),
    ("const Pool = require('pg').Pool;", "new Pool"),
    ("const Pool = require('pg-pool');", "new Pool"),
    ("import pg from 'pg';", "new pg.Pool"),
    ("import * as pg from 'pg';", "new pg.Pool"),
    ("import { Pool as P } from 'pg';", "new P"),
    ("", "new (require('pg').Pool)"),
])
def test_import_forms(tmp_path, head, ctor):
    path = write(tmp_path, "db.js", f"{head}\nconst pool = {ctor}({{ host: 'db', port: 6432, max: 7 }});\n")
    assert detect_kind(str(path), path.read_text()) == "client"
    ep = only(path)
    assert ep.driver == "node-postgres" and ep.name == "pool"
    assert [h.value for h in ep.hosts] == ["db"] and [p.value for p in ep.ports] == ["6432"]
    assert ep.pool is not None and ep.pool.library == "pg-pool" and ep.pool.size.value == 7


def test_a_constructor_of_another_module_is_no_client(tmp_path):
    path = write(tmp_path, "db.js", """
        const { Pool } = require('generic-pool');
        const { Client } = require('pg');
        const p = new Pool({ host: 'db', max: 3 });
    """)
    assert endpoints(path) == []


def test_client_values_and_spans(tmp_path):
    path = write(tmp_path, "db.ts", """
        import { Client } from 'pg';

        const HOST = 'pg.internal';
        const client = new Client({
          host: HOST,
          port: Number(process.env.PGPORT ?? '5433'),
          database: 'orders',
          ssl: true,
          keepAlive: true,
          keepAliveInitialDelayMillis: 60_000,
          connectionTimeoutMillis: 5000,
          statement_timeout: 15000,
        } as any);
    """)
    ep = only(path)
    assert ep.pool is None  # a Client: no pool
    assert [h.value for h in ep.hosts] == ["pg.internal"] and at(path, ep.hosts[0].span).startswith("pg.internal'")
    assert ep.ports[0].value == "5433" and ep.ports[0].assumed == "PGPORT"
    assert ep.sslmode.value == "verify-full"  # ssl: true verifies (Node's rejectUnauthorized default)
    assert ep.keepalive.enabled.value is True and ep.keepalive.idle.value == 60.0
    assert ep.connect_timeout.value == 5.0
    assert ep.params["statement_timeout"].raw == "15000"


@pytest.mark.parametrize("ssl,mode", [
    ("{ rejectUnauthorized: false }", "require"),
    ("{ ca: fs.readFileSync('/ca.crt').toString() }", "verify-full"),
    ("false", "disable"),
])
def test_ssl(tmp_path, ssl, mode):
    path = write(tmp_path, "db.js", f"const fs = require('fs');\nconst pg = require('pg');\n"
                                    f"new pg.Client({{ host: 'db', ssl: {ssl} }});\n")
    assert only(path).sslmode.value == mode


def test_ssl_decided_at_run_time_is_unknown(tmp_path):
    path = write(tmp_path, "db.js", """
        const pg = require('pg');
        new pg.Pool({ host: 'db', ssl: process.env.NODE_ENV === 'production' ? { rejectUnauthorized: false } : false });
    """)
    assert only(path).sslmode.unknown


def test_no_host_leaves_host_and_port_unknown(tmp_path):
    """pg reads PGHOST/PGPORT of the process, then localhost:5432: the module does not say which."""
    path = write(tmp_path, "db.js", "const { Pool } = require('pg');\nmodule.exports = new Pool({ max: 5 });\n")
    ep = only(path)
    assert ep.hosts[0].unknown and ep.ports[0].unknown and ep.sslmode.unknown
    assert ep.pool.max_idle.value == 10.0 and ep.pool.max_idle.origin == "default"  # pg-pool's 10000 ms


def test_connection_string_literal_and_from_the_environment(tmp_path):
    path = write(tmp_path, "db.js", """
        const { Pool } = require('pg');
        const a = new Pool({ connectionString: 'postgres://app@db.internal:6432/shop' });
        const b = new Pool({ connectionString: process.env.DATABASE_URL, idleTimeoutMillis: 0 });
    """)
    a, b = endpoints(path)
    assert [h.value for h in a.hosts] == ["db.internal"] and [p.value for p in a.ports] == ["6432"]
    assert at(path, a.hosts[0].span).startswith("db.internal:6432")
    assert b.hosts[0].unknown and b.ports[0].unknown
    assert b.pool.max_idle.value == math.inf  # 0 disables pg-pool's idle timer


def test_spread_options_make_the_unwritten_unknown(tmp_path):
    path = write(tmp_path, "db.js", """
        const { Pool } = require('pg');
        const pool = new Pool({ ...config.db, host: 'db', max: 4 });
    """)
    ep = only(path)
    assert ep.hosts[0].value == "db" and ep.pool.size.value == 4
    assert ep.pool.max_idle.unknown and ep.sslmode.unknown


def test_an_options_object_in_a_module_constant(tmp_path):
    path = write(tmp_path, "db.mjs", """
        import pg from 'pg';
        const config = { host: 'db', idleTimeoutMillis: 600000 };
        export const pool = new pg.Pool(config);
    """)
    assert only(path).pool.max_idle.value == 600.0


def test_error_listener(tmp_path):
    path = write(tmp_path, "db.js", """
        const { Pool } = require('pg');
        const pool = new Pool({ host: 'db' });
        const other = new Pool({ host: 'db2' });
        pool.on('error', (e) => console.error(e));
    """)
    pool, other = endpoints(path)
    assert pool.pool.error_listener.value is True and pool.pool.error_listener.span.line == 4
    assert other.pool.error_listener.value is False


def test_detection(tmp_path):
    yes = write(tmp_path, "src/db.ts", "import { Pool } from 'pg';\nexport const pool = new Pool();\n")
    no_pg = write(tmp_path, "src/other.js", "const { Pool } = require('mysql2');\nnew Pool({});\n")
    no_call = write(tmp_path, "src/types.js", "const pg = require('pg');\nmodule.exports = pg;\n")
    decl = write(tmp_path, "src/pg.d.ts", "import { Pool } from 'pg';\nexport declare const p: Pool; new Pool();\n")
    assert detect_kind(str(yes), yes.read_text()) == "client"
    for path in (no_pg, no_call, decl):
        assert detect_kind(str(path), path.read_text()) is None, path


def test_node_modules_is_not_read(tmp_path):
    write(tmp_path, "node_modules/pg/lib/x.js", "const { Pool } = require('pg');\nnew Pool({ host: 'x' });\n")
    write(tmp_path, "app/db.js", "const { Pool } = require('pg');\nnew Pool({ host: 'db', ssl: false });\n")
    r = pgpath("check", ".", "--format", "json", cwd=tmp_path)
    files = {d["path"] for d in json.loads(r.stdout)["documents"]}
    assert files == {"./app/db.js"} or files == {"app/db.js"}, files


def test_pgsslmode_of_the_container(tmp_path):
    """No `ssl` in the options: pg reads PGSSLMODE (require: ssl true, which verifies)."""
    write(tmp_path, "app/package.json", '{"name": "api", "dependencies": {"pg": "8"}}')
    write(tmp_path, "app/db.js", "const { Pool } = require('pg');\nmodule.exports = new Pool({ max: 5 });\n")
    write(tmp_path, "postgresql.conf", "port = 5432\nssl = off\n")
    write(tmp_path, "deploy.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api}
        spec:
          replicas: 2
          template:
            spec:
              containers:
                - name: api
                  image: ghcr.io/acme/api:1
                  env:
                    - {name: PGHOST, value: db}
                    - {name: PGSSLMODE, value: require}
    """)
    text = pgpath("check", ".", "--select", "PATH004", cwd=tmp_path).stdout
    assert "pool... " not in text
    assert ("PATH004 error module.exports (node-postgres) PGSSLMODE=require (read by pg as ssl: true) requires TLS"
            in text), text


def test_compose_build_context_runs_the_code(tmp_path):
    write(tmp_path, "worker/index.js", "const { Pool } = require('pg');\nconst pool = new Pool({ max: 30 });\n")
    write(tmp_path, "postgresql.conf", "port = 5432\nmax_connections = 20\n")
    write(tmp_path, "docker-compose.yml", """
        services:
          worker:
            build: ./worker
            environment:
              PGHOST: db
              PGPORT: "5432"
          db:
            image: postgres:16
    """)
    text = pgpath("check", ".", "--select", "PATH005", cwd=tmp_path).stdout
    assert "PATH005 warning" in text and "(max 30)" in text, text


def test_reading_no_javascript_imports_no_tree_sitter(tmp_path):
    from tests.test_cold_imports import modules_of, tops

    mods = modules_of("samples/risky", cache=tmp_path)
    assert not tops(mods) & {"tree_sitter", "tree_sitter_javascript", "tree_sitter_typescript"}
    assert "advisor.loaders.clients.jscode" not in mods


@pytest.mark.parametrize("query,mode", [
    ("sslmode=disable", "disable"),
    ("sslmode=prefer", "verify-full"),  # pg-connection-string: any sslmode makes `ssl` an object
    ("sslmode=require", "verify-full"),  # pg 8's deprecated reading: verified like verify-full
    ("sslmode=no-verify", "require"),
    ("uselibpqcompat=true&sslmode=require", "require"),
])
def test_sslmode_in_a_connection_string_as_pg_reads_it(tmp_path, query, mode):
    path = write(tmp_path, "db.js", f"const {{ Client }} = require('pg');\n"
                                    f"new Client('postgres://app@db:5432/app?{query}');\n")
    assert only(path).sslmode.value == mode


def test_sslmode_prefer_fails_against_a_server_without_ssl(tmp_path):
    """libpq's prefer falls back to plaintext; node-postgres' never does."""
    write(tmp_path, "db.js", "const { Client } = require('pg');\n"
                             "new Client({ connectionString: 'postgres://app@db:5432/app?sslmode=prefer' });\n")
    write(tmp_path, "postgresql.conf", "port = 5432\nssl = off\n")
    text = pgpath("check", ".", "--select", "PATH004", cwd=tmp_path).stdout
    assert ("sslmode=prefer in its connection string (read by pg as an ssl object) requires TLS, but PostgreSQL "
            "postgresql.conf does not offer it") in text, text


def test_no_ssl_against_a_pooler_that_requires_tls(tmp_path):
    """pg without `ssl` (and no PGSSLMODE) sends no SSLRequest: a PgBouncer with client_tls_sslmode
    = require refuses it (FATAL: SSL required)."""
    write(tmp_path, "db.js", "const { Pool } = require('pg');\nnew Pool({ host: 'pgbouncer', port: 6432 });\n")
    write(tmp_path, "pgbouncer.ini", """
        [databases]
        * = host=db port=5432
        [pgbouncer]
        listen_port = 6432
        client_tls_sslmode = require
        client_tls_key_file = /etc/pgbouncer/server.key
        client_tls_cert_file = /etc/pgbouncer/server.crt
    """)
    text = pgpath("check", ".", "--select", "PATH004", cwd=tmp_path).stdout
    assert "PATH004 error new Pool() line 2 (node-postgres) without ssl (pg's default, with no PGSSLMODE: no TLS) " \
           "never uses TLS, but PgBouncer" in text, text
    assert "fix: ssl: { ca: <CA certificate> } in the options" in text


def test_connection_string_from_the_containers_variable(tmp_path):
    """`connectionString: process.env.DATABASE_URL`: the container's DATABASE_URL, read as
    pg-connection-string reads it (sslmode=require: TLS required); the container's own libpq reading
    of that variable is the same connection and is dropped."""
    write(tmp_path, "app/package.json", '{"name": "api", "dependencies": {"pg": "8"}}')
    write(tmp_path, "app/db.js", "const { Pool } = require('pg');\n"
                                 "const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 40 });\n")
    write(tmp_path, "postgresql.conf", "port = 5432\nmax_connections = 50\nssl = off\n")
    write(tmp_path, "deploy.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api}
        spec:
          replicas: 2
          template:
            spec:
              containers:
                - name: api
                  image: ghcr.io/acme/api:1
                  env:
                    - {name: DATABASE_URL, value: "postgres://app@db:5432/app?sslmode=require"}
    """)
    got = sorted((f["code"], f["severity"], f["span"]["file"]) for f in findings(tmp_path))
    assert got == [("PATH004", "error", "./deploy.yaml"), ("PATH005", "warning", "./postgresql.conf"),
                   ("TLS001", "info", "./postgresql.conf")]
    text = pgpath("check", ".", cwd=tmp_path).stdout
    assert "sslmode=require in its connection string (read by pg as an ssl object) requires TLS" in text
    assert "(max 40) × 2 replicas (replicas: 2 of Deployment api) = 80 connections" in text
