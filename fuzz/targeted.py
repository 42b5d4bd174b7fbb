"""Structured mutation of whole folders through the real command line, aimed at the inputs the
folder sweep of session 15 hardly reached: Terraform (.tf and plan JSON), cloud load-balancer
JSON, Kubernetes manifests (multi-document, Helm-templated, CloudNativePG/Zalando), SQL, client
code (Python, Django, node-postgres, Java properties/yml, Rails database.yml and Gemfile.lock),
systemd units, sysctl files, keepalived.conf, Ansible role layouts, certificates and keys, and
pgpath.yaml topologies.

Each run writes a mutated folder, runs `pgpath check .` in it (one output format per run, in
turn) or `pgpath path .`, in this process, and flags:
- an exception out of the command (the CLI's exit 3, "internal error");
- a run past 10 s (SIGALRM);
- a planted password (`Pl4ntedS3cret...`, put in place of every password value of the seeds)
  in any output.

    python fuzz/targeted.py SECONDS [SEED]      # findings under fuzz/artifacts/targeted-*
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
import re
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fuzz.common import scratch as make_scratch  # noqa: E402
from fuzz.folder import _mutate_text  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
SECRET = "Pl4ntedS3cret"
_TARGET = re.compile(r"(\.tf|\.json|\.ya?ml|\.sql|\.py|\.js|\.mjs|\.ts|\.properties|\.service|\.j2|\.tpl|\.tmpl|"
                     r"\.crt|\.key|\.pem|Gemfile\.lock|go\.mod|\.go|keepalived[^/]*|sysctl[^/]*|\.erb|\.kts|\.xml|"
                     r"override\.conf|\.env)$")
_PASSWORD = [
    (re.compile(rb"(password[ \t]*=[ \t]*)([^\s'\";&]+)", re.I), None),
    (re.compile(rb"(://[^:/@\s'\"]+:)([^@/\s'\"]+)(@)"), None),
    (re.compile(rb"((?:password|passwd|POSTGRES_PASSWORD|PGPASSWORD)['\"]?[ \t]*[:=][ \t]*['\"]?)([^'\"\s,}]+)", re.I), None),
]


def plant(body: bytes, counter: list[int]) -> bytes:
    for pattern, _ in _PASSWORD:
        def repl(m):
            counter[0] += 1
            value = m.group(2)
            if value.startswith((b"$", b"{", b"<", b"%", b"os.", b"env")):
                return m.group(0)
            return m.group(1) + f"{SECRET}{counter[0]}".encode() + (m.group(3) if m.lastindex >= 3 else b"")
        body = pattern.sub(repl, body)
    return body


# ------------------------------------------------------------------------------------------------ seeds

SYNTHETIC = {
    "ansible_role": {
        "roles/pgbouncer/templates/pgbouncer.ini.j2":
            b"[databases]\n* = host={{ pg_host }} port={{ pg_port }}\n[pgbouncer]\nlisten_port = {{ pgbouncer_port }}\n"
            b"pool_mode = {{ pool_mode }}\nserver_idle_timeout = {{ idle }}\nauth_type = scram-sha-256\n",
        "roles/pgbouncer/defaults/main.yml":
            b"pg_host: 10.0.0.5\npg_port: 5432\npgbouncer_port: 6432\npool_mode: transaction\nidle: 600\n",
        "group_vars/all.yml": b"pool_mode: session\nidle: 3600\npostgresql_password: hunter2x\n",
        "roles/postgres/templates/postgresql.conf.j2":
            b"listen_addresses = '*'\nport = {{ pg_port }}\nmax_connections = {{ max_conn | default(100) }}\n"
            b"{% if ssl %}ssl = on\n{% endif %}\nidle_session_timeout = {{ idle_session }}\n",
        "roles/postgres/defaults/main.yml": b"max_conn: 200\nssl: true\nidle_session: 5min\n",
        "roles/haproxy/templates/haproxy.cfg.j2":
            b"defaults\n  timeout client {{ hap_client }}\n  timeout server 30m\nlisten pg\n  bind *:5000\n"
            b"  server db1 {{ pg_host }}:6432 check\n",
        "roles/haproxy/defaults/main.yml": b"hap_client: 30m\n",
        "inventory/host_vars/db1.yml": b"vm_swappiness: 1\nnet_ipv4_tcp_keepalive_time: 7200\n",
        "roles/sysctl/tasks/main.yml": b"- name: keepalive\n  ansible.posix.sysctl:\n    name: net.ipv4.tcp_keepalive_time\n"
                                       b"    value: '{{ net_ipv4_tcp_keepalive_time }}'\n",
    },
    "helm_chart": {
        "chart/Chart.yaml": b"apiVersion: v2\nname: app\nversion: 1.0.0\n",
        "chart/values.yaml": b"db:\n  host: pg.default.svc\n  password: s3cretvalue\n  idleTimeout: 600\nreplicaCount: 3\n",
        "chart/templates/deployment.yaml":
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
            b"  replicas: {{ .Values.replicaCount }}\n  template:\n    spec:\n      containers:\n      - name: app\n"
            b"        image: app:1\n        env:\n        - name: DATABASE_URL\n"
            b"          value: postgresql://app:{{ .Values.db.password }}@{{ .Values.db.host }}:5432/app\n"
            b"        {{- if .Values.x }}\n        - name: X\n          value: {{ .Values.x | quote }}\n        {{- end }}\n"
            b"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: pg\n  annotations:\n"
            b"    service.beta.kubernetes.io/aws-load-balancer-type: nlb\nspec:\n  type: LoadBalancer\n  ports:\n"
            b"  - port: 5432\n    targetPort: 5432\n",
        "chart/templates/pgbouncer.ini.tpl": b"[databases]\n* = host={{ .Values.db.host }}\n[pgbouncer]\nlisten_port = 6432\n",
    },
    "python_clients": {
        "app/db.py": b"from sqlalchemy import create_engine\nfrom psycopg_pool import ConnectionPool\n"
                     b"engine = create_engine('postgresql+psycopg://app:hunter2x@db:5432/app', pool_size=20, "
                     b"max_overflow=10, pool_recycle=3600, pool_pre_ping=True, connect_args={'connect_timeout': 10})\n"
                     b"pool = ConnectionPool('host=db dbname=app password=hunter2x', min_size=4, max_size=20, "
                     b"max_idle=600, timeout=30)\n",
        "app/settings.py": b"DATABASES = {\n    'default': {\n        'ENGINE': 'django.db.backends.postgresql',\n"
                           b"        'HOST': 'pgbouncer', 'PORT': 6432, 'NAME': 'app', 'USER': 'app',\n"
                           b"        'PASSWORD': 'hunter2x', 'CONN_MAX_AGE': 600,\n"
                           b"        'OPTIONS': {'sslmode': 'require', 'options': '-c statement_timeout=5000'},\n"
                           b"    }\n}\n",
        "app/requirements.txt": b"django==4.2\npsycopg[binary]==3.1.18\nSQLAlchemy==2.0.25\n",
        "pgbouncer.ini": b"[databases]\n* = host=10.0.0.5\n[pgbouncer]\nlisten_port = 6432\npool_mode = transaction\n"
                         b"server_idle_timeout = 600\n",
    },
    "go_client": {
        "svc/go.mod": b"module example.com/svc\n\ngo 1.22\n\nrequire github.com/jackc/pgx/v5 v5.5.4\n",
        "svc/main.go": b"package main\n\nimport \"github.com/jackc/pgx/v5/pgxpool\"\n\nfunc main() {\n"
                       b"\tcfg, _ := pgxpool.ParseConfig(\"postgres://app:hunter2x@db:5432/app?pool_max_conns=50"
                       b"&pool_max_conn_idle_time=30m&default_query_exec_mode=cache_statement\")\n\t_ = cfg\n}\n",
        "svc/.env": b"DATABASE_URL=postgres://app:hunter2x@pgbouncer:6432/app?sslmode=require&pool_max_conns=40\n",
        "pgbouncer.ini": b"[databases]\n* = host=10.0.0.5\n[pgbouncer]\nlisten_port = 6432\npool_mode = transaction\n",
    },
    "java_client": {
        "src/main/resources/application.yml":
            b"spring:\n  datasource:\n    url: jdbc:postgresql://db:5432/app?socketTimeout=30&tcpKeepAlive=true\n"
            b"    username: app\n    password: hunter2x\n    hikari:\n      maximum-pool-size: 30\n"
            b"      max-lifetime: 1800000\n      idle-timeout: 600000\n      keepalive-time: 0\n",
        "src/main/resources/application-prod.properties":
            b"spring.datasource.url=jdbc:postgresql://db:5432/app\nspring.datasource.hikari.maxLifetime=3600000\n"
            b"spring.datasource.password=hunter2x\n",
        "pom.xml": b"<project><dependencies><dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId>"
                   b"<version>42.7.3</version></dependency></dependencies></project>\n",
        "haproxy.cfg": b"defaults\n  timeout client 30m\n  timeout server 30m\nlisten pg\n  bind *:5432\n  server db 10.0.0.5:5432\n",
    },
    "node_client": {
        "api/package.json": b"{\"name\": \"api\", \"dependencies\": {\"pg\": \"^8.11.3\"}}\n",
        "api/db.js": b"const { Pool } = require('pg');\nconst pool = new Pool({ host: 'db', port: 5432, password: 'hunter2x', "
                     b"max: 25, idleTimeoutMillis: 600000, connectionTimeoutMillis: 2000, keepAlive: true, "
                     b"statement_timeout: 5000 });\nmodule.exports = pool;\n",
        "api/pool.ts": b"import { Pool } from 'pg';\nexport const pool = new Pool({ connectionString: process.env.DATABASE_URL, "
                       b"max: Number(process.env.POOL_MAX ?? 10), idleTimeoutMillis: 30_000 });\n",
        "docker-compose.yml": b"services:\n  api:\n    build: ./api\n    environment:\n"
                              b"      DATABASE_URL: postgres://app:hunter2x@haproxy:5432/app\n    deploy:\n      replicas: 4\n"
                              b"  haproxy:\n    image: haproxy:2.8\n    volumes:\n      - ./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg\n",
        "haproxy.cfg": b"defaults\n  timeout client 5m\n  timeout server 5m\nlisten pg\n  bind *:5432\n  server db 10.0.0.5:5432\n",
    },
    "rails": {
        "config/database.yml":
            b"default: &default\n  adapter: postgresql\n  pool: <%= ENV.fetch(\"RAILS_MAX_THREADS\") { 5 } %>\n"
            b"  idle_timeout: 300\n  reaping_frequency: 60\n  prepared_statements: false\n\n"
            b"production:\n  <<: *default\n  host: pgbouncer\n  port: 6432\n  database: shop\n  password: hunter2x\n"
            b"  variables:\n    statement_timeout: 5000\n",
        "Gemfile.lock": b"GEM\n  remote: https://rubygems.org/\n  specs:\n    activerecord (7.1.3)\n    pg (1.5.4)\n"
                        b"    rails (7.1.3)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  pg\n  rails\n\nBUNDLED WITH\n   2.5.3\n",
        "pgbouncer.ini": b"[databases]\n* = host=10.0.0.5\n[pgbouncer]\nlisten_port = 6432\npool_mode = transaction\n"
                         b"server_idle_timeout = 120\n",
    },
    "host": {
        "etc/systemd/system/postgresql.service.d/override.conf":
            b"[Service]\nLimitNOFILE=1024\nOOMScoreAdjust=-900\nEnvironment=PGPASSWORD=hunter2x\nTimeoutStopSec=infinity\n",
        "etc/systemd/system/pgbouncer.service":
            b"[Unit]\nDescription=pgbouncer\n[Service]\nType=notify\nExecStart=/usr/bin/pgbouncer /etc/pgbouncer/pgbouncer.ini\n"
            b"LimitNOFILE=4096\nRestart=always\n",
        "etc/sysctl.d/99-pg.conf": b"net.ipv4.tcp_keepalive_time = 7200\nnet.ipv4.tcp_keepalive_intvl = 75\n"
                                   b"net.ipv4.tcp_keepalive_probes = 9\nvm.overcommit_memory = 2\nnet.core.somaxconn = 128\n",
        "etc/keepalived/keepalived.conf":
            b"global_defs {\n  router_id pg1\n}\nvrrp_script chk {\n  script \"/usr/bin/killall -0 haproxy\"\n  interval 2\n}\n"
            b"vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  priority 101\n"
            b"  authentication {\n    auth_type PASS\n    auth_pass hunter2x\n  }\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n"
            b"  track_script {\n    chk\n  }\n}\n",
        "etc/haproxy/haproxy.cfg": b"global\n  maxconn 100\ndefaults\n  timeout client 30m\n  timeout server 30m\n"
                                   b"listen pg\n  bind 10.0.0.100:5432\n  server db 10.0.0.5:5432 check\n",
        "etc/postgresql/16/main/postgresql.conf": b"listen_addresses = '*'\nmax_connections = 3000\nshared_buffers = 8GB\n",
    },
    "topology": {
        "pgpath.yaml":
            b"deployments:\n  - name: orders\n    pg_version: 16\n    hops:\n      - client: app/.env\n"
            b"      - haproxy: {file: haproxy.cfg, listen: pg}\n      - aws-nlb: {idle_timeout: 350}\n"
            b"      - pgbouncer: {file: pgbouncer.ini, host: db1}\n      - postgres: {file: postgresql.conf, host: db1}\n"
            b"hosts:\n  db1: {ram: 16GB, tcp_keepalive_time: 7200, cpus: 4}\n",
        "app/.env": b"DATABASE_URL=postgresql://app:hunter2x@haproxy:5432/orders?connect_timeout=5\nPOOL_SIZE=20\n",
        "haproxy.cfg": b"defaults\n  timeout client 30m\n  timeout server 30m\nlisten pg\n  bind *:5432\n  server db 10.0.0.5:6432\n",
        "pgbouncer.ini": b"[databases]\n* = host=127.0.0.1\n[pgbouncer]\nlisten_port = 6432\npool_mode = transaction\n",
        "postgresql.conf": b"listen_addresses = '*'\nmax_connections = 200\n",
    },
}


def _certs() -> dict[str, bytes]:
    sys.path.insert(0, str(ROOT / "tests"))
    import certgen

    ca, ca_key = certgen.cert("fuzz root CA", ca=True)
    leaf, leaf_key = certgen.cert("db.example.test", issuer=ca, issuer_key=ca_key, names=("db.example.test",))
    return {"server.crt": certgen.pem(leaf).encode(), "server.key": certgen.pem(leaf_key).encode(),
            "root.crt": certgen.pem(ca).encode(),
            "postgresql.conf": b"ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
                               b"ssl_ca_file = 'root.crt'\n",
            "pgbouncer.ini": b"[databases]\n* = host=127.0.0.1\n[pgbouncer]\nlisten_port = 6432\n"
                             b"client_tls_sslmode = require\nclient_tls_key_file = server.key\n"
                             b"client_tls_cert_file = server.crt\nclient_tls_ca_file = root.crt\n",
            "haproxy.pem": (certgen.pem(leaf) + certgen.pem(leaf_key)).encode(),
            "haproxy.cfg": b"frontend pg\n  bind *:5432 ssl crt haproxy.pem\n  default_backend b\nbackend b\n"
                           b"  server db 10.0.0.5:5432 ssl verify required ca-file root.crt\n"}


def seed_folders() -> list[tuple[str, list[tuple[str, bytes]]]]:
    out = []
    for name, files in SYNTHETIC.items():
        out.append((name, list(files.items())))
    out.append(("certs", list(_certs().items())))
    cases = []
    for base in [ROOT / "samples", ROOT / "tests" / "rules", ROOT / "tests" / "links", ROOT / "tests" / "scenarios",
                 ROOT / "tests" / "node_clients", ROOT / "tests" / "python_clients", ROOT / "tests" / "env_join"]:
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            if p.suffix == ".expected":
                continue
            parent_is_case = p.parent.parent.name.isupper() or p.parent.name in ("a17", "audit17")
            if p.parent.parent == base or p.parent == base or parent_is_case:
                cases.append(p)
    for c in cases:
        if c.is_file():
            files = [(c.name, c.read_bytes())]
        else:
            files = [(str(f.relative_to(c)), f.read_bytes()) for f in sorted(c.rglob("*"))
                     if f.is_file() and not f.is_symlink() and f.stat().st_size <= 65_536]
        if 1 <= len(files) <= 40 and any(_TARGET.search(n) for n, _ in files):
            out.append((str(c.relative_to(ROOT)), files))
    if CORPUS.is_dir():
        for p in sorted(CORPUS.rglob("*")):
            if p.is_file() and p.name != "SOURCES.md":
                out.append((str(p.relative_to(CORPUS)), [(p.name, p.read_bytes())]))
    counter = [0]
    return [(n, [(f, plant(b, counter)) for f, b in files]) for n, files in out]


# ------------------------------------------------------------------------------------------------ mutations

_WRONG = [[1, 2], {"a": 1}, None, "", True, 10 ** 400, -1, 1e308, "x" * 5000, [[[[[]]]]], {"": {"": {}}},
          "${var.x}", "{{ .Values.x }}", "\x00", "\udcff".encode("utf-8", "surrogateescape").decode("latin-1"),
          "9" * 5000, 1.5, 0, "-5s", "1e400"]


def _walk(node, path=(), seen=None):
    """Every node once (YAML aliases share them: an alias bomb would be walked exponentially)."""
    seen = set() if seen is None else seen
    if id(node) in seen or len(path) > 50:
        return
    yield path, node
    if isinstance(node, (dict, list)):
        seen.add(id(node))
    if isinstance(node, dict):
        for k, v in list(node.items()):
            yield from _walk(v, path + (k,), seen)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, path + (i,), seen)


def _set(root, path, value):
    if not path:
        return value
    node = root
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return root


def _json_mutate(rnd, body: bytes) -> bytes | None:
    try:
        doc = json.loads(body)
    except Exception:  # noqa: BLE001
        return None
    for _ in range(rnd.randint(1, 3)):
        nodes = list(_walk(doc))
        path, _node = rnd.choice(nodes)
        if rnd.random() < 0.2 and isinstance(_node, dict) and _node:  # a key renamed or duplicated
            k = rnd.choice(list(_node))
            _node[k + rnd.choice(["", "x", " "])] = copy.deepcopy(rnd.choice(_WRONG))
            continue
        doc = _set(doc, path, copy.deepcopy(rnd.choice(_WRONG)))  # (a copy: a shared list could become a cycle)
    text = json.dumps(doc, indent=rnd.choice([None, 2]), default=str)
    return text.encode("utf-8", "surrogatepass")


def _yaml_mutate(rnd, body: bytes) -> bytes | None:
    import yaml

    try:
        docs = list(yaml.safe_load_all(body))
    except Exception:  # noqa: BLE001
        return None
    if not docs:
        return None
    k = rnd.randrange(len(docs))
    doc = docs[k]
    for _ in range(rnd.randint(1, 3)):
        path, _node = rnd.choice(list(_walk(doc)))
        doc = _set(doc, path, copy.deepcopy(rnd.choice(_WRONG[:-4] + [[{"name": "x"}], {"name": [1]}])))
    docs[k] = doc
    try:
        return yaml.safe_dump_all(docs, sort_keys=False).encode()
    except Exception:  # noqa: BLE001
        return None


_HCL = [b"${", b"}", b"{", b"<<EOF\nx\n", b"<<-EOT\n", b"\"", b"= [", b"= {", b"dynamic \"x\" {\n", b"/*", b"#",
        b"= 1e400", b"= -1", b"= 99999999999999999999999", b"= null", b"= [1, [2]]", b"= {a = {b = 1}}",
        b"= \"${var.x}\"", b"= true", b"= \"\"", b"= local.x[0]", b"= var.x ? 1 : 2", b"= \"%{ if x }y%{ endif }\""]
_SQL = [b"'", b"$$", b"$tag$", b"E'\\", b"/*", b"--", b";", b"ALTER SYSTEM SET ", b"ALTER ROLE app SET ",
        b"ALTER DATABASE app SET statement_timeout TO ", b"= '1e400'", b"= 99999999999999999999", b"TO DEFAULT",
        b"= -1", b"= ''", b"ALTER SYSTEM RESET ALL;", b"ALTER ROLE ALL IN DATABASE x SET idle_session_timeout = 0;",
        b"ALTER SYSTEM SET shared_preload_libraries = 'a', 'b';", b"SET LOCAL x = 1;", b"\\i other.sql\n",
        b"ALTER ROLE app WITH PASSWORD 'Pl4ntedS3cretSQL';", b"CREATE ROLE x LOGIN PASSWORD 'Pl4ntedS3cretSQL2' CONNECTION LIMIT 99999999999;"]
_YAMLTXT = [b"\n---\n", b"\n--- 5\n", b"\n--- [a, b]\n", b"\n--- null\n", b"\n...\n", b"{{- if .Values.x }}\n",
            b"{{- end }}\n", b"{{ include \"x\" . | nindent 4 }}\n", b"{{ toYaml .Values | nindent 2 }}\n",
            b"kind: [Service]\n", b"apiVersion: 5\n", b"metadata: null\n", b"spec: []\n", b"data: !!binary AAAA\n",
            b"<<: [*a, 5]\n", b"? [a]\n: b\n", b"\t", b"%YAML 1.1\n---\n", b"!!set {a}\n", b"<%= x %>\n", b"<% if a %>\n"]


def _insert(rnd, body: bytes, pieces: list[bytes]) -> bytes:
    lines = body.split(b"\n")
    i = rnd.randrange(len(lines) + 1)
    if rnd.random() < 0.5 and lines:
        j = rnd.randrange(len(lines))
        lines[j] = lines[j] + rnd.choice(pieces)
    else:
        lines[i:i] = [rnd.choice(pieces)]
    return b"\n".join(lines)


def _encode(rnd, body: bytes) -> bytes:
    text = body.decode("utf-8", "replace")
    op = rnd.randrange(5)
    if op == 0:
        return text.encode("utf-16")
    if op == 1:
        return text.encode("utf-16-le")
    if op == 2:
        return b"\xef\xbb\xbf" + body
    if op == 3:
        return text.encode("latin-1", "replace").replace(b"a", b"\xe9", 3)
    i = rnd.randrange(len(body) + 1)
    return body[:i] + rnd.choice([b"\xc3", b"\xff", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]) + body[i:]


def mutate_file(rnd, name: str, body: bytes, names: list[str]) -> bytes:
    r = rnd.random()
    lower = name.lower()
    if r < 0.45:
        if lower.endswith(".json"):
            m = _json_mutate(rnd, body)
            if m is not None and rnd.random() < 0.8:
                return m
        if lower.endswith((".yaml", ".yml")):
            if rnd.random() < 0.5:
                m = _yaml_mutate(rnd, body)
                if m is not None:
                    return m
            return _insert(rnd, body, _YAMLTXT)
        if lower.endswith(".tf"):
            return _insert(rnd, body, _HCL)
        if lower.endswith(".sql"):
            return _insert(rnd, body, _SQL)
        if lower.endswith((".crt", ".key", ".pem")):
            b = bytearray(body)
            op = rnd.randrange(4)
            if op == 0 and b:
                return bytes(b[:rnd.randrange(len(b))])
            if op == 1:
                return body.replace(b"-----END", b"-----END", 1).replace(b"\n", b"\n", 1)[:-40] + b"\n-----END CERTIFICATE-----\n"
            if op == 2 and b:
                for _ in range(5):
                    i = rnd.randrange(len(b))
                    b[i] = rnd.choice(b"ABCDEFGH+/=!")
                return bytes(b)
            return body + body
    if r < 0.55:
        return _encode(rnd, body)
    return _mutate_text(rnd, name, body, names)


def mutate(rnd, files: list[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]]]:
    files = list(files)
    names = [n for n, _ in files]
    targets = [i for i, (n, _) in enumerate(files) if _TARGET.search(n)] or list(range(len(files)))
    for _ in range(rnd.randint(1, 3)):
        k = rnd.choice(targets) if rnd.random() < 0.85 else rnd.randrange(len(files))
        name, body = files[k]
        files[k] = (name, mutate_file(rnd, name, body, names))
    links = []
    if rnd.random() < 0.04:  # symbolic links: loops, to the parent, dangling, in place of a file
        kind = rnd.randrange(4)
        if kind == 0:
            links = [("loop.yaml", "loop.yaml")]
        elif kind == 1:
            links = [("a.tf", "b.tf"), ("b.tf", "a.tf")]
        elif kind == 2:
            links = [("up", "..")]
        else:
            victim = rnd.choice(names)
            files = [(n, b) for n, b in files if n != victim]
            links = [(victim, victim.rsplit("/", 1)[-1])]
    return files, links


# ------------------------------------------------------------------------------------------------ runs

def run_cli(argv: list[str], cwd: str) -> tuple[int, str, str, str | None]:
    """Run the command line in this process: exit code, stdout, stderr, traceback of an escape."""
    import typer  # noqa: F401

    from advisor import cli

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    sys.argv = ["pgpath", *argv]
    registered, invoked = cli._invoked_only(sys.argv)
    if invoked is not None:
        cli.app.registered_commands[:] = [invoked]
    tb = None
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.app()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Hang:
        raise
    except BaseException:  # noqa: BLE001
        tb = traceback.format_exc()
        code = 3
    finally:
        cli.app.registered_commands[:] = registered
        os.chdir(old)
    return code, out.getvalue(), err.getvalue(), tb


class Hang(Exception):
    pass


def _alarm(*_):
    raise Hang()


FORMATS = ["text", "json", "sarif", "html", "github", "junit", "gitlab", "markdown"]


def write(folder: str, files, links) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name, body in files:
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.isdir(path):
            continue
        with open(path, "wb") as f:
            f.write(body)
    for name, target in links:
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            os.symlink(target, path)


def one(folder: str, files, links, n: int) -> tuple[str | None, str]:
    """Run one mutant; return (problem, detail) or (None, '')."""
    write(folder, files, links)
    if n % 5 == 4:
        argv = ["path", "."] + (["--format", "json"] if n % 2 else [])
    else:
        argv = ["check", "--format", FORMATS[n % len(FORMATS)], "."]
    signal.alarm(10)
    import faulthandler
    faulthandler.dump_traceback_later(40, exit=True)  # stuck in C code, where SIGALRM's handler never runs
    start = time.time()
    try:
        code, out, err, tb = run_cli(argv, folder)
    except Hang:
        return "HANG", " ".join(argv) + "\n" + traceback.format_exc()
    finally:
        signal.alarm(0)
        faulthandler.cancel_dump_traceback_later()
    took = time.time() - start
    if tb is not None or code == 3 or code not in (0, 1, 2):
        return "CRASH", " ".join(argv) + f"\nexit {code}\n" + (tb or err)
    if "Traceback" in out + err:
        return "TRACEBACK", " ".join(argv) + "\n" + out + err
    if SECRET in out or SECRET in err:
        at = (out + err).find(SECRET)
        return "LEAK", " ".join(argv) + "\n" + (out + err)[max(0, at - 300):at + 100]
    if took > 10:
        return "SLOW", f"{took:.1f} s " + " ".join(argv)
    return None, ""


def key_of(problem: str, detail: str) -> str:
    lines = [ln for ln in detail.strip().splitlines() if ln.strip()]
    if problem == "CRASH":
        frames = [ln.strip() for ln in lines if ln.strip().startswith("File \"") and "/advisor/" in ln]
        return f"CRASH {lines[-1][:120]} @ {frames[-1] if frames else ''}"
    if problem == "HANG":
        frames = [ln.strip() for ln in lines if ln.strip().startswith("File \"") and "/advisor/" in ln]
        return f"HANG @ {frames[-1] if frames else lines[-3]}"
    if problem == "LEAK":
        return "LEAK " + re.sub(r"\d+", "N", lines[1][:80] if len(lines) > 1 else "")
    return problem + " " + (lines[0][:80] if lines else "")


def main(seconds: float, seed: int) -> None:
    os.environ["PGPATH_CACHE_DIR"] = ""  # (no pgpath.yaml remembered from an earlier input)
    import logging
    logging.disable(logging.CRITICAL)
    pool = seed_folders()
    print(f"{len(pool)} seed folders", flush=True)
    rnd = random.Random(seed)
    artifacts = ROOT / "fuzz" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    scratch = make_scratch("pgpath-targeted-")
    folder = os.path.join(scratch, "t")
    signal.signal(signal.SIGALRM, _alarm)
    start, runs, found = time.time(), 0, {}
    # the seeds themselves first (a planted secret may already leak)
    queue = [(name, files, []) for name, files in pool]
    while time.time() - start < seconds:
        if queue:
            origin, files, links = queue.pop(0)
        else:
            origin, base = rnd.choice(pool)
            try:
                files, links = mutate(rnd, base)
            except RecursionError:
                continue
        if os.environ.get("TARGETED_TRACE"):
            import resource
            print(f"  {runs} {origin} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB", flush=True)
        problem, detail = one(folder, files, links, runs)
        runs += 1
        if problem:
            _keep(found, key_of(problem, detail), folder, artifacts / f"targeted-{seed}", f"{origin}\n{detail}",
                  f"[{runs}]", f"({origin})")
    _summary("targeted", runs, start, found)
    shutil.rmtree(scratch, ignore_errors=True)


def _keep(found: dict, key: str, folder: str, stem: Path, text: str, before: str, after: str) -> None:
    """Count a problem; the first time, keep its folder and what made it (artifacts/<stem>-N)."""
    if key in found:
        found[key] += 1
        return
    found[key] = 1
    out = Path(f"{stem}-{len(found)}")
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(folder, out, symlinks=True)
    Path(f"{out}.txt").write_text(text)
    print(f"{before} {len(found)} {key[:220]}  {after}", flush=True)


def _summary(kind: str, runs: int, start: float, found: dict) -> None:
    print(f"{kind}: {runs} runs in {time.time() - start:.0f} s, {len(found)} distinct problems", flush=True)
    for k, v in sorted(found.items(), key=lambda x: -x[1]):
        print(f"  {v:5d}  {k[:220]}", flush=True)


def sweep(values: list[bytes], seed_filter: str = "") -> None:
    """Every seed folder with all its numbers replaced by each value, then every value of its
    YAML/JSON files by a wrong type and every `= value` of its other files by a broken one
    (`--sweep`)."""
    os.environ["PGPATH_CACHE_DIR"] = ""
    from fuzz.folder import _NUMBER

    import logging
    logging.disable(logging.CRITICAL)
    pool = [(o, f) for o, f in seed_folders() if seed_filter in o]
    artifacts = ROOT / "fuzz" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    scratch = make_scratch("pgpath-targeted-")
    folder = os.path.join(scratch, "t")
    signal.signal(signal.SIGALRM, _alarm)
    start, runs, found = time.time(), 0, {}
    from fuzz.folder import _INI_VALUE, _YAML, _YAML_VALUE, INI_VALUES, YAML_VALUES

    def variants():
        for value in values:  # every number of the seed's target files replaced
            for origin, files in pool:
                yield origin, value, [(n, _NUMBER.sub(lambda m: value, b) if _TARGET.search(n) else b)
                                      for n, b in files]
        for origin, files in pool:  # every value of its YAML/JSON files, or `= value` of its others
            for value in YAML_VALUES + [b'"\\0"', "\u00b2".encode(), b"!!binary AAAA", b"2001-01-01", b"0o17"]:
                yield origin, value, [(n, _YAML_VALUE.sub(lambda m: m.group(1) + value, b)
                                       if n.endswith(_YAML) and _TARGET.search(n) else b) for n, b in files]
            for value in INI_VALUES:
                yield origin, value, [(n, b if n.endswith(_YAML) or not _TARGET.search(n)
                                       else _INI_VALUE.sub(lambda m: m.group(1) + value, b)) for n, b in files]

    for origin, value, mutated in variants():
        if mutated == dict(pool).get(origin):
            continue
        problem, detail = one(folder, mutated, [], runs)
        runs += 1
        if problem:
            _keep(found, key_of(problem, detail), folder, artifacts / "sweep", f"{origin}\n{value!r}\n{detail}",
                  f"[{runs}]", f"{value[:10]!r} ({origin})")
    _summary("sweep", runs, start, found)
    shutil.rmtree(scratch, ignore_errors=True)


SWEEP = ["\u00b2".encode(), b"9" * 5000, "\u00bd".encode(), "\u2460".encode(), b"1e400", b"-0.0"]

if __name__ == "__main__" and sys.argv[1:2] == ["--sweep"]:
    sweep(SWEEP, sys.argv[2] if len(sys.argv) > 2 else "")
elif __name__ == "__main__":
    main(float(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1)

