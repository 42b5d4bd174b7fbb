"""A compose project's Rails application and its bitnami/pgbouncer, as blind audit 18 wrote them
(scenario s04, tests/compose_build/s04: the password of database.yml replaced by an ERB read).

- D5: `web: {build: ., deploy: {replicas: 6}}` builds the folder whose config/database.yml says
  `pool: 25` for production (RAILS_ENV: production in the service): six containers of 25
  connections each, 150, through a PgBouncer of max_client_conn = 100
  (advisor.loaders.clients.rails_build). Before: the client counted once, 25 <= 100, nothing said.
  A sidekiq `worker` built from the same root runs the application too, with its own pool and
  replicas: each service counts (web: production (pool 25) × 6 + worker: production (pool 10) × 2).
- D7: the same pgbouncer.ini bind-mounted at /opt/bitnami/pgbouncer/conf/pgbouncer.ini, where the
  image's setup deletes it at every start (PGB023). Before: the container read as the image's
  defaults (session pooling, default_pool_size 20: a PATH005 on a basis that never runs) and the
  ini as a server on no path, with no reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

S04 = Path(__file__).resolve().parent / "compose_build" / "s04"


def pgpath(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def report(folder: Path) -> dict:
    r = pgpath("check", ".", "--format", "json", cwd=folder)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def s04(tmp_path: Path) -> Path:
    shutil.copytree(S04, tmp_path / "s04")
    return tmp_path / "s04"


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def budget(found: list[dict]) -> list[dict]:
    return [f for f in found if f["code"] == "PATH005"]


def test_s04_the_web_services_six_containers_each_open_the_rails_pool(tmp_path):
    found = budget(report(s04(tmp_path))["findings"])
    assert len(found) == 1, found
    f = found[0]
    assert f["severity"] == "warning"
    assert "production (pool 25) × 6 replicas (deploy.replicas: 6 of compose service web" in f["message"]
    assert "= 150 connections" in f["message"] and "> max_client_conn = 100" in f["message"]
    assert f["span"]["file"].endswith("pgbouncer/pgbouncer.ini")
    assert ("docker-compose.yml", 10) in {(Path(r["file"]).name, r["line"]) for r in f["related"]}


def test_s04_pgpath_path_says_which_service_runs_database_yml(tmp_path):
    r = pgpath("path", ".", cwd=s04(tmp_path))
    assert ("production runs in compose service web (docker-compose.yml:2), whose build context . is the Rails "
            "root of config/database.yml, as production (RAILS_ENV: production in its environment") in r.stdout


def web_and_worker(tmp_path: Path, worker_env: str = "      RAILS_ENV: production\n      RAILS_MAX_THREADS: \"10\"\n",
                   replicas: str = "    deploy:\n      replicas: 2\n") -> Path:
    """s04 with database.yml's production pool read from RAILS_MAX_THREADS (default 5) and a sidekiq
    worker built from the Rails root beside web (RAILS_MAX_THREADS 25, 6 replicas)."""
    folder = s04(tmp_path)
    db = folder / "config" / "database.yml"
    db.write_text(db.read_text().replace("  pool: 25\n", ""))
    text = (folder / "docker-compose.yml").read_text()
    worker = f"  worker:\n    build: .\n    command: bundle exec sidekiq\n    environment:\n{worker_env}{replicas}\n"
    (folder / "docker-compose.yml").write_text(text.replace("  pgbouncer:\n", worker + "  pgbouncer:\n", 1))
    return folder


def test_web_and_worker_built_from_the_rails_root_each_count_their_pool(tmp_path):
    # audit18 D5's second half: puma and sidekiq both run the application, each container with its
    # own pool: 25 × 6 + 10 × 2 = 170 (before: neither service's count, 5 once)
    found = budget(report(web_and_worker(tmp_path))["findings"])
    assert len(found) == 1, found
    m = found[0]["message"]
    assert "web: production (pool 25) × 6 replicas (deploy.replicas: 6 of compose service web" in m, m
    assert "+ worker: production (pool 10) × 2 replicas (deploy.replicas: 2 of compose service worker" in m, m
    assert "= 170 connections" in m and "> max_client_conn = 100" in m
    lines = {(Path(r["file"]).name, r["line"]) for r in found[0]["related"]}
    assert {("docker-compose.yml", 10), ("docker-compose.yml", 21)} <= lines, lines


def test_pgpath_path_shows_one_client_per_service(tmp_path):
    r = pgpath("path", ".", cwd=web_and_worker(tmp_path))
    assert "production runs in compose service web (docker-compose.yml:2)" in r.stdout, r.stdout
    assert "production runs in compose service worker (docker-compose.yml:14)" in r.stdout, r.stdout
    assert "its pool is RAILS_MAX_THREADS: 10 of that environment (docker-compose.yml:19)" in r.stdout
    assert "web: production (rails)" in r.stdout and "worker: production (rails)" in r.stdout


def test_a_worker_that_sets_no_rails_max_threads_counts_the_default_and_says_so(tmp_path):
    folder = web_and_worker(tmp_path, worker_env="      RAILS_ENV: production\n      SIDEKIQ_CONCURRENCY: \"10\"\n")
    found = budget(report(folder)["findings"])
    assert len(found) == 1, found
    m = found[0]["message"]
    assert ("worker: production (pool 5: the default of RAILS_MAX_THREADS in config/database.yml, which compose "
            "service worker does not set) × 2 replicas") in m, m
    assert "= 160 connections" in m


def test_a_worker_whose_rails_max_threads_is_not_known_counts_the_default_and_says_so(tmp_path):
    folder = web_and_worker(tmp_path, worker_env="      RAILS_ENV: production\n      RAILS_MAX_THREADS: ${THREADS}\n")
    found = budget(report(folder)["findings"])
    assert len(found) == 1, found
    assert ("worker: production (pool 5: the default of RAILS_MAX_THREADS in config/database.yml; compose service "
            "worker sets RAILS_MAX_THREADS: ${THREADS} (docker-compose.yml:19), not known) × 2 replicas"
            ) in found[0]["message"], found[0]["message"]


def test_a_worker_whose_environment_is_not_known_links_neither(tmp_path):
    # which configuration the worker runs is known where it is deployed only: the services'
    # counts are not taken, the client counts once (5 <= 100), as before
    folder = web_and_worker(tmp_path, worker_env="      RAILS_ENV: ${RAILS_ENV}\n")
    assert budget(report(folder)["findings"]) == []
    r = pgpath("path", ".", cwd=folder)
    assert "runs in compose service" not in r.stdout


def test_a_service_of_an_image_beside_them_runs_no_rails(tmp_path):
    folder = web_and_worker(tmp_path, replicas="")
    text = (folder / "docker-compose.yml").read_text()
    redis = "  redis:\n    image: redis:7\n    command: redis-server --appendonly yes\n\n"
    (folder / "docker-compose.yml").write_text(text.replace("  pgbouncer:\n", redis + "  pgbouncer:\n", 1))
    found = budget(report(folder)["findings"])
    assert len(found) == 1, found
    assert "+ worker: production (pool 10) = 160 connections" in found[0]["message"], found[0]["message"]
    assert "redis" not in found[0]["message"]


def test_a_service_built_from_another_folder_does_not_run_it(tmp_path):
    folder = s04(tmp_path)
    text = (folder / "docker-compose.yml").read_text()
    (folder / "docker-compose.yml").write_text(text.replace("build: .", "build: ./frontend", 1))
    (folder / "frontend").mkdir()
    assert budget(report(folder)["findings"]) == []


def test_the_environment_the_containers_run_is_the_one_counted(tmp_path):
    folder = s04(tmp_path)
    text = (folder / "docker-compose.yml").read_text()
    (folder / "docker-compose.yml").write_text(text.replace("RAILS_ENV: production", "RAILS_ENV: staging"))
    assert budget(report(folder)["findings"]) == []  # no staging configuration: production is not run
    (folder / "docker-compose.yml").write_text(text.replace("RAILS_ENV: production", "RAILS_ENV: ${RAILS_ENV}"))
    assert budget(report(folder)["findings"]) == []  # known where it is deployed only


def test_the_dockerfiles_rails_env_when_the_service_sets_none(tmp_path):
    folder = s04(tmp_path)
    text = (folder / "docker-compose.yml").read_text()
    (folder / "docker-compose.yml").write_text(text.replace("      RAILS_ENV: production\n", ""))
    (folder / "config" / "database.yml").write_text((folder / "config" / "database.yml").read_text()
                                                    + "\nstaging:\n  <<: *default\n  host: elsewhere\n")
    assert budget(report(folder)["findings"]) == []  # production or staging: not known
    write(folder, "Dockerfile", """
        FROM ruby:3.3.1-slim
        WORKDIR /rails
        ENV RAILS_ENV="production" \\
            BUNDLE_DEPLOYMENT="1"
        COPY . .
    """)
    found = budget(report(folder)["findings"])
    assert len(found) == 1 and "× 6 replicas" in found[0]["message"]
    r = pgpath("path", ".", cwd=folder)
    assert "as production (ENV RAILS_ENV=production in Dockerfile:3)" in r.stdout


def test_the_services_rails_max_threads_is_the_pool_the_default_reads(tmp_path):
    folder = s04(tmp_path)
    db = folder / "config" / "database.yml"
    db.write_text(db.read_text().replace("  pool: 25\n", ""))  # pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>
    found = budget(report(folder)["findings"])
    assert len(found) == 1, found
    assert "production (pool 25) × 6 replicas" in found[0]["message"], found[0]["message"]
    r = pgpath("path", ".", cwd=folder)
    assert "; its pool is RAILS_MAX_THREADS: 25 of that environment (docker-compose.yml:8)" in r.stdout


def original_mount(tmp_path: Path) -> Path:
    """The auditor's first compose file: the ini and the auth file at /opt/bitnami/pgbouncer/conf."""
    folder = s04(tmp_path)
    text = (folder / "docker-compose.yml").read_text()
    (folder / "docker-compose.yml").write_text(text.replace(":/bitnami/pgbouncer/conf/",
                                                            ":/opt/bitnami/pgbouncer/conf/"))
    return folder


def test_s04_original_mount_the_container_does_not_start(tmp_path):
    got = report(original_mount(tmp_path))
    errors = [f for f in got["findings"] if f["code"] == "PGB023"]
    assert [(Path(f["span"]["file"]).name, f["span"]["line"], f["severity"]) for f in errors] == [
        ("docker-compose.yml", 17, "error"), ("docker-compose.yml", 18, "error")]
    assert "Device or resource busy" in errors[0]["message"]
    assert errors[0]["fix"].startswith("mount it at /bitnami/pgbouncer/conf/pgbouncer.ini")


def test_s04_original_mount_judges_neither_the_images_defaults_nor_the_file_as_running(tmp_path):
    folder = original_mount(tmp_path)
    got = report(folder)
    # the image's defaults (session pooling, default_pool_size 20) never run: no PATH005 or
    # PATH006 on them, nor on the mounted file's transaction pooling
    assert not [f for f in got["findings"] if f["code"].startswith("PATH")], got["findings"]
    r = pgpath("check", ".", cwd=folder)
    assert "on no path" not in r.stdout  # the ini is no server of its own either
    r = pgpath("path", ".", cwd=folder)
    assert "pgbouncer.ini" not in r.stdout.replace("mounts", "")


def test_s04_as_corrected_runs_the_mounted_file(tmp_path):
    got = report(s04(tmp_path))
    assert not [f for f in got["findings"] if f["code"] == "PGB023"]
    assert sorted(f["code"] for f in got["findings"] if f["code"].startswith("PATH")) == ["PATH005", "PATH006"]
