"""A Python client in code that reads its URL from an environment variable, joined with the one
container that sets that variable (advisor.loaders.clients.env_join): one client, with the
container's URL and replicas and the code's pool.

tests/env_join/s01 is blind audit 16's scenario s01 as the auditor wrote it: a GKE Deployment
(replicas 6, an HPA up to 15) whose `DATABASE_URL` points at its Cloud SQL Auth Proxy sidecar on
127.0.0.1, app/db.py's `create_engine(os.environ["DATABASE_URL"], pool_size=20, max_overflow=15,
pool_recycle=1800)`, Cloud SQL PostgreSQL 16 in Terraform (max_connections 400,
idle_session_timeout 300 s), and the pgpath.yaml a team would write: the Deployment's variable
as the client hop (not app/db.py).

tests/env_join/s02 is blind audit 17's scenario s02: a compose project (PostgreSQL 16.4, edoburu
PgBouncer 1.22 in transaction pooling, an api service built from ./app, 3 replicas, whose
DATABASE_URL names pgbouncer:5432 with a password) and app/db.py's
`create_async_engine(os.environ.get("DATABASE_URL", "<fallback URL>"), pool_size=10, max_overflow=5)`:
the fallback never runs where the service sets the variable."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

S01 = Path(__file__).resolve().parent / "env_join" / "s01"
S02 = Path(__file__).resolve().parent / "env_join" / "s02"


def pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def findings(folder: Path, *args: str) -> list[dict]:
    r = pgpath("check", ".", "--format", "json", *args, cwd=folder)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)["findings"]


def s01(tmp_path: Path) -> Path:
    shutil.copytree(S01, tmp_path / "s01")
    return tmp_path / "s01"


ENGINE = """
    import os

    from sqlalchemy import create_engine

    engine = create_engine(os.environ["DATABASE_URL"], pool_size=20, max_overflow=15, pool_pre_ping=True)
"""


def compose_project(folder: Path, api_env: str = "DATABASE_URL: postgresql+psycopg2://ledger@db:5432/ledger") -> Path:
    """A compose project: PostgreSQL (max_connections 100) and an api service built from ./app
    (3 replicas) whose DATABASE_URL app/db.py's engine (pool 20 + overflow 15) reads."""
    write(folder, "compose.yaml", f"""
        services:
          db:
            image: postgres:16
            command: ["postgres", "-c", "max_connections=100"]
          api:
            build: ./app
            environment:
              {api_env}
            deploy:
              replicas: 3
    """)
    write(folder, "app/db.py", ENGINE)
    return folder


# ------------------------------------------------------------------------------------------------
# the audit's scenario s01


def test_s01_the_deployments_variable_is_the_engine_of_app_db_py(tmp_path):
    """With the topology naming the Deployment's DATABASE_URL (not app/db.py): PATH005 counts the
    engine's pool_size + max_overflow per pod at the HPA's maxReplicas (GT-3: before, the
    variable's pool was unknown and PATH005 silent), PATH002 says the engine's pool_recycle=1800
    and points at it in the code (before: 'its engine options are create_engine()'s arguments in
    code... not known', on the manifest)."""
    folder = s01(tmp_path)
    got = sorted((f["code"], f["severity"], f["span"]["file"], f["span"]["line"]) for f in findings(folder))
    assert got == [
        ("MEM001", "info", "terraform/cloudsql.tf", 44),
        ("PATH002", "warning", "./app/db.py", 13),  # pool_recycle=1800, where the fix goes
        ("PATH005", "warning", "terraform/cloudsql.tf", 40),
        ("PG011", "info", "terraform/cloudsql.tf", 49),  # the cause; PATH002 reports the client it cuts (audit 17 D10)
    ]
    text = pgpath("check", ".", cwd=folder).stdout
    assert ("PATH005 warning clients can open engine (pool_size 20 + max_overflow 15 = 35) × 15 replicas (maxReplicas: "
            "15 of HorizontalPodAutoscaler ledger-api, which scales Deployment ledger-api) = 525 connections to "
            "PostgreSQL cloudsql.tf > max_connections 400 − reserved 3 = 397") in text, text
    assert "see: k8s/deployment.yaml:48:16" in text  # the HPA's maxReplicas
    assert "keeps an idle connection up to 1800 s (pool_recycle=1800 (1800 s))" in text
    assert "fix: pool_recycle=270" in text
    assert "ADV004" not in text and "APP007" not in text
    path = pgpath("path", ".", cwd=folder).stdout
    assert "0. client     engine (sqlalchemy)  [./app/db.py:9:10]" in path
    assert ("DATABASE_URL from container api of Deployment ledger-api (k8s/deployment.yaml:21), the only one here "
            "that sets DATABASE_URL, which only this code reads") in path


def test_s01_without_a_topology_one_client_on_no_path(tmp_path):
    """Without a topology the client stays on no path (127.0.0.1 is its pod's Auth Proxy sidecar,
    which no file here listens as), but as one client, not two: the engine with the Deployment's
    URL, and no finding on the variable."""
    folder = s01(tmp_path)
    r = pgpath("path", ".", "--no-config", cwd=folder)
    lines = [line for line in r.stdout.splitlines() if line.startswith("client on no path")]
    assert lines == [
        "client on no path: db.py: engine: engine reads where it connects from the environment of container api of "
        "Deployment ledger-api (./k8s/deployment.yaml:21), the only one here that sets DATABASE_URL, which only this "
        "code reads; engine connects to 127.0.0.1:5432/ledger, a loopback address of its own host, where no file "
        "here listens"], r.stdout
    got = sorted((f["code"], f["span"]["file"]) for f in findings(folder, "--no-config"))
    assert got == [("MEM001", "./terraform/cloudsql.tf"), ("PG011", "./terraform/cloudsql.tf")]


def s02(tmp_path: Path) -> Path:
    shutil.copytree(S02, tmp_path / "s02")
    return tmp_path / "s02"


def test_s02_the_services_value_and_the_codes_fallback_are_one_client(tmp_path):
    """Audit 17 D7: PATH006 once, a warning, for the engine as the api service runs it (the
    service's URL, the code's asyncpg dialect and pool), not a warning on the code's fallback
    ("assumed: the default of DATABASE_URL") and an info on the service's variable; one path, and
    `pgpath init` writes one deployment."""
    folder = s02(tmp_path)
    got = sorted((f["code"], f["severity"], f["span"]["file"], f["span"]["line"]) for f in findings(folder))
    assert got == [("APP013", "info", "./docker-compose.yml", 39), ("PATH006", "warning", "./app/db.py", 5),
                   ("PG011", "info", "./docker-compose.yml", 11), ("PGB003", "error", "./docker-compose.yml", 33)]
    text = pgpath("check", ".", cwd=folder).stdout
    assert "default of DATABASE_URL" not in text and "is not in this file" not in text
    paths = json.loads(pgpath("path", ".", "--format", "json", cwd=folder).stdout)["paths"]
    assert [[(h["kind"], h["file"]) for h in p["hops"]] for p in paths] == [
        [("client", "./app/db.py"), ("pgbouncer", "./docker-compose.yml"), ("postgres", "./docker-compose.yml")]]
    r = pgpath("init", ".", "-o", "topology.yaml", cwd=folder)
    assert r.returncode == 0, r.stderr
    topology = (folder / "topology.yaml").read_text()
    assert topology.count("- client:") == 1 and 'service: "api"' in topology, topology


def test_s02_the_replicas_are_the_services(tmp_path):
    """The joined client is the engine's pool (10 + 5) times the api service's 3 replicas."""
    folder = s02(tmp_path)
    compose = folder / "docker-compose.yml"
    compose.write_text(compose.read_text().replace('MAX_CLIENT_CONN: "500"', 'MAX_CLIENT_CONN: "40"'))
    text = pgpath("check", ".", cwd=folder).stdout
    assert ("engine (pool_size 10 + max_overflow 5 = 15) × 3 replicas (deploy.replicas: 3 of compose service api) = "
            "45 connections to PgBouncer docker-compose.yml [catalog] > max_client_conn = 40") in text


def test_s02_a_password_in_the_services_value_is_the_services(tmp_path):
    """APP013 on the service's DATABASE_URL names the variable and a compose file's remedy (it said
    'take engine from a Kubernetes Secret' once the code's engine carried the service's URL)."""
    folder = s02(tmp_path)
    text = pgpath("check", ".", "--select", "APP013", cwd=folder).stdout
    assert ("./docker-compose.yml:39:51: APP013 info DATABASE_URL of compose service api (read by engine in "
            "app/db.py; sqlalchemy) to pgbouncer/catalog: the password of user catalog is written in this file") in text
    assert ("fix: move it out of the file: set DATABASE_URL to ${DATABASE_URL} in the compose file and give the value "
            "from an env_file or .env that is not committed") in text
    assert "Kubernetes" not in text


def test_a_password_in_a_deployments_value_read_by_code_is_the_deployments(tmp_path):
    """The same on Kubernetes: APP013 at the Deployment's DATABASE_URL, named so, with a Secret as the
    remedy."""
    write(tmp_path, "k8s/deploy.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: ledger}
        spec:
          replicas: 2
          template:
            spec:
              containers:
                - name: api
                  image: ghcr.io/acme/api:1
                  env:
                    - name: DATABASE_URL
                      value: postgresql+psycopg2://ledger:Qz8-k8s-pw-31@ledger-db.internal:5432/ledger
    """)
    write(tmp_path, "app/db.py", ENGINE)
    text = pgpath("check", ".", "--select", "APP013", cwd=tmp_path).stdout
    assert ("./k8s/deploy.yaml:13:51: APP013 info DATABASE_URL of container api of Deployment ledger (read by engine "
            "in app/db.py; sqlalchemy) to ledger-db.internal/ledger") in text, text
    assert ("fix: move it out of the file: take DATABASE_URL from a Kubernetes Secret, referenced from the container's "
            "env (valueFrom)") in text, text
    assert "Qz8" not in text


def test_s02_a_password_in_the_codes_fallback_is_still_reported(tmp_path):
    """The fallback does not run where the service sets the variable, so it is on no path and no path
    rule reads it; but a password written in it is in the repository all the same (it runs wherever
    DATABASE_URL is unset): APP013 still reports it, as the variable's default."""
    folder = s02(tmp_path)
    code = folder / "app" / "db.py"
    code.write_text(code.read_text().replace("asyncpg://catalog@pgbouncer", "asyncpg://catalog:Xk9-fallback-77@db"))
    got = sorted((f["code"], f["span"]["file"], f["span"]["line"]) for f in findings(folder, "--select", "APP013"))
    assert got == [("APP013", "./app/db.py", 6), ("APP013", "./docker-compose.yml", 39)], got
    text = pgpath("check", ".", "--select", "APP013", cwd=folder).stdout
    assert "as the default of DATABASE_URL" in text and "Xk9-fallback-77" not in text
    path = pgpath("path", ".", cwd=folder).stdout
    assert "Xk9" not in path and "on no path" not in path and path.count("0. client") == 1, path


# ------------------------------------------------------------------------------------------------
# discovery without any pgpath.yaml


def test_compose_service_and_its_code_are_one_client_on_the_path(tmp_path):
    """The compose service's DATABASE_URL names db:5432; the code's engine has the pool: one client
    on the path to the compose PostgreSQL, 35 × 3 replicas > 97 (before: the variable's client with
    an unknown pool on the path, the engine on no path, no PATH005)."""
    folder = compose_project(tmp_path)
    got = [(f["code"], f["span"]["file"], [r["file"] for r in f["related"]]) for f in findings(folder, "--no-config")]
    assert got == [("PATH005", "./compose.yaml", ["./app/db.py", "./compose.yaml"])]
    text = pgpath("check", ".", "--no-config", cwd=folder).stdout
    assert ("engine (pool_size 20 + max_overflow 15 = 35) × 3 replicas (deploy.replicas: 3 of compose service api) = "
            "105 connections to PostgreSQL compose.yaml > max_connections 100 − reserved 3 = 97") in text
    assert "on no path" not in text
    path = json.loads(pgpath("path", ".", "--no-config", "--format", "json", cwd=folder).stdout)["paths"]
    assert [[(h["kind"], h["file"]) for h in p["hops"]] for p in path] == [
        [("client", "./app/db.py"), ("postgres", "./compose.yaml")]]
    assert path[0]["evidence"][0].startswith("engine reads where it connects from the environment of compose service "
                                             "api (./compose.yaml:8)")


def test_the_urls_findings_point_at_the_manifest(tmp_path):
    """A fix to the URL goes where the URL is written: the container's value (here sslmode=require
    to a PostgreSQL without ssl: PATH004 at the sslmode in compose.yaml's line 8), not the code's
    read of it; the pool's finding names the code."""
    folder = compose_project(tmp_path, "DATABASE_URL: postgresql+psycopg2://ledger@db:5432/ledger?sslmode=require")
    got = sorted((f["code"], f["span"]["file"], f["span"]["line"], f["span"]["col"])
                 for f in findings(folder, "--no-config"))
    assert got == [("PATH004", "./compose.yaml", 8, 73), ("PATH005", "./compose.yaml", 4, 50)], got
    text = pgpath("check", ".", "--no-config", cwd=folder).stdout
    assert "PATH004 error engine sslmode=require requires TLS, but PostgreSQL compose.yaml does not offer it" in text


def test_a_variable_set_from_a_secret_still_joins(tmp_path):
    """valueFrom a Secret: where it connects is not known, but it is still the engine's pool that runs
    in the Deployment's pods: a topology naming the variable gets the pool and the replicas."""
    write(tmp_path, "k8s/deploy.yaml", """
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
                    - name: DATABASE_URL
                      valueFrom: {secretKeyRef: {name: db, key: url}}
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: api}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
          minReplicas: 2
          maxReplicas: 4
    """)
    write(tmp_path, "app/db.py", ENGINE)
    write(tmp_path, "db/postgresql.conf", "max_connections = 100\n")
    write(tmp_path, "pgpath.yaml", """
        deployments:
          - name: api
            hops:
              - client: {file: k8s/deploy.yaml, variable: DATABASE_URL}
              - postgres: {file: db/postgresql.conf}
    """)
    text = pgpath("check", ".", cwd=tmp_path).stdout
    assert ("engine (pool_size 20 + max_overflow 15 = 35) × 4 replicas (maxReplicas: 4 of HorizontalPodAutoscaler api, "
            "which scales Deployment api) = 140") in text, text


def test_django_dj_database_url_config_reads_the_services_database_url(tmp_path):
    """dj_database_url.config() reads DATABASE_URL: with the compose service's value its CONN_MAX_AGE
    600 s meets the server's idle_session_timeout 300 s (PATH002, at conn_max_age in the settings;
    before: the variable's client had no CONN_MAX_AGE, the settings' client no path)."""
    write(tmp_path, "compose.yaml", """
        services:
          db:
            image: postgres:16
            command: ["postgres", "-c", "idle_session_timeout=300000"]
          web:
            build: ./app
            environment:
              DATABASE_URL: postgres://shop@db:5432/shop
    """)
    write(tmp_path, "app/shop/settings.py", """
        import dj_database_url

        DATABASES = {"default": dj_database_url.config(conn_max_age=600)}
    """)
    got = sorted((f["code"], f["span"]["file"], f["span"]["line"]) for f in findings(tmp_path, "--no-config"))
    # (APP008 leaves the entry to PATH002, whose fix names CONN_HEALTH_CHECKS too: audit 17 D10)
    assert got == [("PATH002", "./app/shop/settings.py", 3), ("PG011", "./compose.yaml", 4)], got
    path = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "0. client     DATABASES['default'] (django)  [./app/shop/settings.py:3:25]" in path, path


# ------------------------------------------------------------------------------------------------
# no evidence, no join


def test_two_readers_of_the_variable_join_neither(tmp_path):
    """Two pieces of code read DATABASE_URL: which one the container runs is not known. Both stay on
    no path, as before, and `pgpath path` says why."""
    folder = compose_project(tmp_path)
    write(folder, "app/worker.py", """
        import os

        import psycopg_pool

        pool = psycopg_pool.ConnectionPool(os.getenv("DATABASE_URL"), max_size=4)
    """)
    assert findings(folder, "--no-config") == []
    text = pgpath("path", ".", "--no-config", cwd=folder).stdout
    assert "path 1 (assumed): compose.yaml: DATABASE_URL" in text  # the variable's own client, as before
    assert ("not joined with a container or dotenv file that sets its variable: 2 clients here read DATABASE_URL (app/db.py, "
            "app/worker.py): which one runs in the container that sets it is not known") in text, text


def test_a_rails_application_reads_database_url_too(tmp_path):
    """ActiveRecord reads DATABASE_URL whatever database.yml says: a Rails application beside a
    Python script that reads it makes the compose service's variable no evidence for the script."""
    folder = compose_project(tmp_path)
    write(folder, "web/config/database.yml", """
        production:
          adapter: postgresql
          url: <%= ENV["DATABASE_URL"] %>
    """)
    text = pgpath("path", ".", "--no-config", cwd=folder).stdout
    assert ("not joined with a container or dotenv file that sets its variable: 2 clients here read DATABASE_URL (app/db.py, "
            "config/database.yml)") in text, text


def test_two_containers_setting_the_variable_join_neither(tmp_path):
    """Two containers set DATABASE_URL (web and worker of one manifest, different URLs), no build
    context says which runs the code: not joined."""
    write(tmp_path, "k8s/app.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 3
          template:
            spec:
              containers:
                - name: web
                  image: ghcr.io/acme/app:1
                  env:
                    - {name: DATABASE_URL, value: "postgresql://app@pg:5432/app"}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: worker}
        spec:
          replicas: 2
          template:
            spec:
              containers:
                - name: worker
                  image: ghcr.io/acme/app:1
                  env:
                    - {name: DATABASE_URL, value: "postgresql://app@pg:5432/app?keepalives_idle=60"}
    """)
    write(tmp_path, "app/db.py", ENGINE)
    write(tmp_path, "db/postgresql.conf", "max_connections = 100\n")
    text = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "not joined with a container or dotenv file that sets its variable: 2 containers set DATABASE_URL (k8s/app.yaml web, " \
           "k8s/app.yaml worker)" in text, text


def test_a_build_context_says_which_of_two_services_runs_the_code(tmp_path):
    """Two compose services set DATABASE_URL; only one is built from the folder that holds the code."""
    compose_project(tmp_path)
    text = (tmp_path / "compose.yaml").read_text() + textwrap.indent(textwrap.dedent("""
        admin:
          image: ghcr.io/acme/admin:1
          environment:
            DATABASE_URL: postgresql://admin@db:5432/ledger
    """).lstrip("\n"), "  ")
    (tmp_path / "compose.yaml").write_text(text)
    out = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout
    assert "engine (pool_size 20 + max_overflow 15 = 35) × 3 replicas (deploy.replicas: 3 of compose service api)" \
        in out, out


def test_another_repository_is_no_evidence(tmp_path):
    """The code and the container in two repositories checked together: a variable of the same name
    is no evidence that one runs the other."""
    write(tmp_path, "ops/.git/HEAD", "ref: refs/heads/main\n")
    write(tmp_path, "svc/.git/HEAD", "ref: refs/heads/main\n")
    write(tmp_path, "ops/compose.yaml", """
        services:
          db:
            image: postgres:16
            command: ["postgres", "-c", "max_connections=100"]
          api:
            image: ghcr.io/acme/api:1
            environment:
              DATABASE_URL: postgresql://ledger@db:5432/ledger
            deploy:
              replicas: 3
    """)
    write(tmp_path, "svc/app/db.py", ENGINE)
    assert findings(tmp_path, "--no-config") == []
    text = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "no container, compose service or dotenv file of the files read sets DATABASE_URL" in text, text


# ------------------------------------------------------------------------------------------------
# a dotenv file sets the variable


def paths_of(folder: Path) -> list[dict]:
    r = pgpath("path", ".", "--no-config", "--format", "json", cwd=folder)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["paths"]


def unjoined(folder: Path) -> str:
    """Why the engine of app/db.py is not joined (`pgpath path`'s evidence of its path)."""
    engine = [p for p in paths_of(folder) if p["name"] == "db.py: engine"]
    assert len(engine) == 1, engine
    said = [e for e in engine[0]["evidence"] if "not joined" in e]
    assert said, engine[0]["evidence"]
    return said[0].split("not joined with a container or dotenv file that sets its variable: ", 1)[1]


DOTENV = "DATABASE_URL=postgresql://ledger:Qz8-dotenv-pw-12@ledger-db.internal:5432/ledger?sslmode=require\n"


def test_a_dotenv_file_above_the_code_is_its_setter(tmp_path):
    """`.env` sets DATABASE_URL, app/db.py's engine reads it (python-dotenv's find_dotenv looks from
    the code's folder up): one client, the engine (sqlalchemy, psycopg2) with the file's URL. APP001
    judges it as the engine (its fix in the URL or connect_args), not as a bare libpq URL, and
    points at the sslmode in .env; APP013 names the variable and the file (before: two clients, the
    file's URL as libpq on one path and the engine on another, its target unknown)."""
    write(tmp_path, ".env", DOTENV)
    write(tmp_path, "app/db.py", ENGINE)
    got = sorted((f["code"], f["span"]["file"], f["span"]["line"]) for f in findings(tmp_path, "--no-config"))
    assert got == [("APP001", "./.env", 1), ("APP013", "./.env", 1)], got
    text = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout
    assert "APP001 info engine (sqlalchemy) to ledger-db.internal:5432/ledger: sslmode=require" in text, text
    assert ("APP013 info DATABASE_URL of dotenv file .env (read by engine in app/db.py; sqlalchemy) to "
            "ledger-db.internal/ledger") in text, text
    assert "keep .env out of the repository" in text and "Qz8" not in text
    paths = paths_of(tmp_path)
    assert [(p["name"], [(h["label"], h["file"]) for h in p["hops"]]) for p in paths] == [
        ("db.py: engine", [("engine (sqlalchemy)", "./app/db.py")])], paths
    assert paths[0]["evidence"][0] == (
        "engine reads where it connects from the environment of dotenv file .env (./.env:1), the only one here "
        "that sets DATABASE_URL, which only this code reads")
    assert paths[0]["evidence"][1] == "engine connects to ledger-db.internal:5432/ledger, which no file here listens on"


def test_an_example_dotenv_file_is_no_setter(tmp_path):
    """`.env.example` (and .sample, .template, .dist, .test) is a file to copy or a test's: beside
    `.env` it is not a second setter (the engine takes .env's URL); alone it sets nothing the code
    runs with, and `pgpath path` says so. Its own URL stays a client of its own, as before."""
    write(tmp_path, ".env", DOTENV)
    write(tmp_path, ".env.example", "DATABASE_URL=postgresql://ledger@localhost:5432/ledger\n")
    write(tmp_path, "app/db.py", ENGINE)
    engine = [p for p in paths_of(tmp_path) if p["name"] == "db.py: engine"]
    assert engine[0]["evidence"][0].startswith("engine reads where it connects from the environment of dotenv "
                                               "file .env (./.env:1)"), engine
    (tmp_path / ".env").unlink()
    write(tmp_path, ".env.test", "DATABASE_URL=postgresql://ledger@localhost:5432/ledger_test\n")
    assert unjoined(tmp_path) == ("only ./.env.example, ./.env.test set DATABASE_URL, files to copy (examples, "
                                  "templates or test files), not what the code runs with")


def test_two_dotenv_files_join_neither(tmp_path):
    """`.env` and `.env.production` both set it: which one the code runs with is not known."""
    write(tmp_path, ".env", DOTENV)
    write(tmp_path, ".env.production", DOTENV.replace("ledger-db.internal", "ledger-db.prod.internal"))
    write(tmp_path, "app/db.py", ENGINE)
    assert unjoined(tmp_path).startswith("2 dotenv files set DATABASE_URL (./.env, ./.env.production): which "
                                         "one runs it is not known")


def test_a_dotenv_file_beside_other_code_is_no_evidence(tmp_path):
    """web/.env does not hold app/db.py: nothing joins, and `pgpath path` names the file."""
    write(tmp_path, "web/.env", DOTENV)
    write(tmp_path, "app/db.py", ENGINE)
    assert unjoined(tmp_path) == ("no container, compose service or dotenv file of the files read sets "
                                  "DATABASE_URL; web/.env sets it, in a folder that does not hold app/db.py")


def test_a_dotenv_file_and_a_container_join_neither_unless_built_from_the_code(tmp_path):
    """`.env` and a compose service (an image, no build) both set DATABASE_URL: two setters, no join.
    A service built from ./app (which holds the code) runs it: its value, as before the dotenv file
    was a setter."""
    compose_project(tmp_path)
    write(tmp_path, ".env", DOTENV)
    compose = tmp_path / "compose.yaml"
    compose.write_text(compose.read_text().replace("build: ./app", "image: ghcr.io/acme/ledger:1"))
    assert unjoined(tmp_path) == ("2 containers and dotenv files set DATABASE_URL (./.env, ./compose.yaml api): "
                                  "which one runs it is not known (a pgpath.yaml client hop `file:` names it)")
    compose.write_text(compose.read_text().replace("image: ghcr.io/acme/ledger:1", "build: ./app"))
    text = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout
    assert "engine (pool_size 20 + max_overflow 15 = 35) × 3 replicas (deploy.replicas: 3 of compose service api)" \
        in text, text


def test_a_compose_services_env_file_runs_the_code_it_is_built_from(tmp_path):
    """The strongest evidence: the compose service built from ./app gives its containers
    deploy/prod.env (`env_file:`), which sets DATABASE_URL. The engine runs there with that URL and
    the service's 3 replicas: PATH005 counts 35 × 3 = 105 > 97, and PATH004 points at the sslmode in
    the file (before: the file's URL a client with an unknown pool, the engine on no path)."""
    write(tmp_path, "compose.yaml", """
        services:
          db:
            image: postgres:16
            command: ["postgres", "-c", "max_connections=100"]
          api:
            build:
              context: ./app
            env_file:
              - path: deploy/prod.env
                required: true
            deploy:
              replicas: 3
    """)
    write(tmp_path, "deploy/prod.env", "DATABASE_URL=postgresql://ledger@db:5432/ledger?sslmode=require\n")
    write(tmp_path, "app/db.py", ENGINE)
    got = sorted((f["code"], f["span"]["file"], f["span"]["line"]) for f in findings(tmp_path, "--no-config"))
    assert ("PATH004", "./deploy/prod.env", 1) in got and ("PATH005", "./compose.yaml", 4) in got, got
    text = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout
    assert ("engine (pool_size 20 + max_overflow 15 = 35) × 3 replicas (deploy.replicas: 3 of compose service api) = "
            "105 connections to PostgreSQL compose.yaml > max_connections 100 − reserved 3 = 97") in text, text
    assert "PATH004 error engine sslmode=require requires TLS" in text, text
    engine = [p for p in paths_of(tmp_path) if p["name"] == "db.py: engine"]
    assert engine[0]["evidence"][0] == (
        "engine reads where it connects from the environment of compose service api (./compose.yaml:9), through its "
        "env_file prod.env (./deploy/prod.env:1), the only one here that sets DATABASE_URL, which only this code reads")
    # the service's own environment sets it over the file (compose's precedence): its value, not the file's
    compose = tmp_path / "compose.yaml"
    compose.write_text(compose.read_text().replace("    deploy:\n", "    environment:\n      DATABASE_URL: "
                                                   "postgresql://ledger@db:5432/ledger?sslmode=disable\n    deploy:\n"))
    text = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout
    assert "PATH004 error engine" not in text, text  # (the file's URL is a client of its own again, as before)
    assert "engine (pool_size 20 + max_overflow 15 = 35) × 3 replicas" in text, text


def test_a_compose_services_reference_takes_the_value_of_the_env_beside_it(tmp_path):
    """`DATABASE_URL: ${DATABASE_URL}` in a compose service (an image, no build) and `.env` beside
    compose.yaml setting it: compose interpolates the file with that .env, so the two are one
    setter, not two rivals. The engine runs in the service (3 replicas) with .env's URL: PATH004
    at the sslmode in .env, PATH005 35 × 3 (before this change: the engine with the service's
    unknown URL, and .env's URL a second client counted beside it)."""
    compose_project(tmp_path, "DATABASE_URL: ${DATABASE_URL}")
    compose = tmp_path / "compose.yaml"
    compose.write_text(compose.read_text().replace("build: ./app", "image: ghcr.io/acme/ledger:1"))
    write(tmp_path, ".env", "DATABASE_URL=postgresql+psycopg2://ledger@db:5432/ledger?sslmode=require\n")
    got = sorted((f["code"], f["span"]["file"], f["span"]["line"]) for f in findings(tmp_path, "--no-config"))
    assert got == [("PATH004", "./.env", 1), ("PATH005", "./compose.yaml", 4)], got
    text = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout
    assert ("clients can open engine (pool_size 20 + max_overflow 15 = 35) × 3 replicas (deploy.replicas: 3 of compose "
            "service api) = 105 connections") in text, text
    engine = paths_of(tmp_path)
    assert [p["name"] for p in engine] == ["db.py: engine"], engine
    assert engine[0]["evidence"][0] == (
        "engine reads where it connects from the environment of compose service api (./compose.yaml:8; its "
        "${DATABASE_URL} from ./.env:1, as compose interpolates it), the only one here that sets DATABASE_URL, "
        "which only this code reads")


# ------------------------------------------------------------------------------------------------
# Rails: a configuration whose url: is the variable


RAILS_DATABASE_YML = """
    default: &default
      adapter: postgresql
      pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>

    development:
      <<: *default
      url: <%= ENV["DATABASE_URL"] %>

    test:
      <<: *default
      database: shop_test

    production:
      <<: *default
      url: <%= ENV["DATABASE_URL"] %>
      pool: 30
"""


def test_a_rails_configurations_url_is_the_services_database_url(tmp_path):
    """config/database.yml's production reads its URL from DATABASE_URL, which the compose service
    built from ./web sets: one client, the service's URL with production's pool (30) in its 4
    containers, PATH005 120 > 97 (before: production on no path, its URL unknown, and the
    service's URL a client with an unknown pool plan, PATH005 silent). The development section
    that reads it too is not what a container runs (RAILS_ENV): no second reader."""
    write(tmp_path, "compose.yaml", """
        services:
          db:
            image: postgres:16
            command: ["postgres", "-c", "max_connections=100"]
          web:
            build: ./web
            environment:
              DATABASE_URL: postgres://shop@db:5432/shop
            deploy:
              replicas: 4
    """)
    write(tmp_path, "web/config/database.yml", RAILS_DATABASE_YML)
    got = sorted((f["code"], f["span"]["file"], f["span"]["line"]) for f in findings(tmp_path, "--no-config"))
    assert got == [("PATH005", "./compose.yaml", 4)], got
    text = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout
    assert ("clients can open production (pool 30) × 4 replicas (deploy.replicas: 4 of compose service web) = 120 "
            "connections to PostgreSQL compose.yaml > max_connections 100 − reserved 3 = 97") in text, text
    paths = [p for p in paths_of(tmp_path) if p["name"] == "database.yml: production"]
    assert [[(h["label"], h["file"]) for h in p["hops"]] for p in paths] == [
        [("production (rails)", "./web/config/database.yml"), ("PostgreSQL compose.yaml", "./compose.yaml")]], paths
    assert paths[0]["evidence"][0] == (
        "production reads where it connects from the environment of compose service web (./compose.yaml:8), the "
        "only one here that sets DATABASE_URL, which only this code reads")


def test_a_rails_configurations_url_from_a_dotenv_file(tmp_path):
    """The same with web/.env: APP001 judges its sslmode=require as production's (Rails, libpq), at .env."""
    write(tmp_path, "web/config/database.yml", RAILS_DATABASE_YML)
    write(tmp_path, "web/.env", "DATABASE_URL=postgres://shop@db.internal:5432/shop?sslmode=require\n")
    got = sorted((f["code"], f["span"]["file"], f["span"]["line"]) for f in findings(tmp_path, "--no-config"))
    assert got == [("APP001", "./web/.env", 1)], got
    text = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout
    assert "APP001 info production (rails) to db.internal:5432/shop: sslmode=require" in text, text
    # (development, which a container does not run, stays a client of its own, its URL unknown, as before)
    assert [p["name"] for p in paths_of(tmp_path)] == ["database.yml: development", "database.yml: production"]


def test_two_rails_configurations_reading_the_url_join_neither(tmp_path):
    """staging and production both read DATABASE_URL: which one a container runs (RAILS_ENV) is not
    in the files."""
    write(tmp_path, "web/config/database.yml", RAILS_DATABASE_YML + """
    staging:
      <<: *default
      url: <%= ENV.fetch("DATABASE_URL") %>
    """)
    write(tmp_path, "web/.env", "DATABASE_URL=postgres://shop@db.internal:5432/shop?sslmode=require\n")
    paths = paths_of(tmp_path)
    said = [e for p in paths if p["name"] == "database.yml: production" for e in p["evidence"]]
    assert any("not joined with a container or dotenv file that sets its variable: 2 clients here read "
               "DATABASE_URL" in e for e in said), said


def test_a_rails_url_joined_with_a_dotenv_file_still_runs_in_the_service_built_from_its_root(tmp_path):
    """The compose service built from the Rails root runs production (advisor.loaders.clients.
    rails_build) whether or not its url: was joined with `.env`'s value: 30 × 4 = 120 > 97, with
    .env's URL (a join with a dotenv file gives no containers of its own)."""
    write(tmp_path, "compose.yaml", """
        services:
          db:
            image: postgres:16
            command: ["postgres", "-c", "max_connections=100"]
          web:
            build: .
            deploy:
              replicas: 4
    """)
    write(tmp_path, "config/database.yml", RAILS_DATABASE_YML)
    write(tmp_path, ".env", "DATABASE_URL=postgres://shop@db:5432/shop\n")
    text = pgpath("check", ".", "--no-config", cwd=tmp_path).stdout
    assert ("clients can open production (pool 30) × 4 replicas (deploy.replicas: 4 of compose service web, built from "
            ".") in text, text
    path = pgpath("path", ".", "--no-config", cwd=tmp_path).stdout
    assert "DATABASE_URL from dotenv file .env (./.env:1)" in path, path


PGB_30 = ("[databases]\napp = host=10.0.0.5 port=5432\n[pgbouncer]\nlisten_addr = *\nlisten_port = 6432\n"
          "auth_type = scram-sha-256\nauth_file = /etc/pgbouncer/userlist.txt\npool_mode = transaction\n"
          "max_client_conn = 30\ndefault_pool_size = 20\n")


def test_an_example_dotenv_beside_the_real_one_is_the_same_client(tmp_path):
    """.env.example beside .env, both setting DATABASE_URL: one client on one path, counted once in a
    connection budget (before: two paths, and the example's URL added to PATH005's sum); alone, the
    example is the only description of its client and stays one."""
    write(tmp_path, "pgbouncer.ini", PGB_30)
    write(tmp_path, ".env.example", "DATABASE_URL=postgresql://app@localhost:6432/app\n")
    alone = json.loads(pgpath("path", ".", "--format", "json", cwd=tmp_path).stdout)
    assert [p["hops"][0]["file"] for p in alone["paths"]] == ["./.env.example"], alone["paths"]
    write(tmp_path, ".env", "DATABASE_URL=postgresql://app@localhost:6432/app\n")
    both = json.loads(pgpath("path", ".", "--format", "json", cwd=tmp_path).stdout)
    assert [p["hops"][0]["file"] for p in both["paths"]] == ["./.env"], both["paths"]
    # a variable the real .env does not set stays the example's own client
    write(tmp_path, ".env.example", "DATABASE_URL=postgresql://app@localhost:6432/app\n"
                                    "REPORTS_URL=postgresql://reports@localhost:6432/app\n")
    kept = json.loads(pgpath("path", ".", "--format", "json", cwd=tmp_path).stdout)
    assert sorted(p["hops"][0]["file"] for p in kept["paths"]) == ["./.env", "./.env.example"], kept["paths"]
