"""SPRING_DATASOURCE_URL in a container's environment and spring.datasource in the application.yml of
the same Spring Boot application are one client (audit16 D11, scenario s04): Spring Boot reads the
variable as spring.datasource.url, before the file, and the file's other settings (HikariCP) with it.
They are merged only on evidence (spring.application.name = the workload's or container's name)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from advisor.engine import make_settings, run

CASE = Path(__file__).parent / "rules" / "PATH006" / "bad_spring_env_override_one_client"


def copy_case(tmp_path: Path) -> Path:
    root = tmp_path / "s04"
    shutil.copytree(CASE, root)
    return root


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def check(root: Path, *select: str, config: bool = False):
    settings = {"paths": [str(root)]}
    if select:
        settings["select"] = list(select)
    if config:
        return run(make_settings(settings, config_path=str(root / "pgpath.yaml")))
    return run(make_settings(settings, use_config=False))


def clients(report) -> list:
    return [ep for d in report.docs if d.kind == "client" for ep in d.model.endpoints]


def test_one_client_with_the_url_of_the_variable_and_the_pool_of_the_file(tmp_path):
    report = check(copy_case(tmp_path), "PATH006", "APP001", "APP003", "PATH005")
    (ep,) = clients(report)
    assert ep.name == "SPRING_DATASOURCE_URL" and ep.span.file.endswith("catalog-service.yaml")
    assert ep.pool is not None and ep.pool.library == "hikaricp"
    assert ep.pool.size.value == 30 and ep.pool.size.span.file.endswith("application.yml")
    assert ep.pool.max_lifetime.value == 900.0
    assert ep.user.value == "catalog"
    assert "spring.application.name catalog-service" in ep.overrides and "Deployment catalog-service" in ep.overrides
    codes = sorted(f.code for f in report.findings)
    # each once (were twice: APP001, APP003, PATH006), and the budget the two files make together:
    # maximum-pool-size 30 of application.yml × replicas 8 of the Deployment > max_client_conn 200
    assert codes == ["APP001", "APP003", "PATH005", "PATH006"]
    (budget,) = [f for f in report.findings if f.code == "PATH005"]
    assert "SPRING_DATASOURCE_URL (maximum-pool-size 30) × 8 replicas (replicas: 8 of Deployment catalog-service) = 240" \
        in budget.message
    (prepared,) = [f for f in report.findings if f.code == "PATH006"]
    assert prepared.span.file.endswith("catalog-service.yaml")  # the URL that runs: a fix goes there


def test_the_pgjdbc_release_is_read_beside_the_application(tmp_path):
    """pgjdbc 42.7.4 in the application's pom.xml (beside application.yml, not the manifests):
    the merged client sends extra_float_digits, which this PgBouncer refuses (PATH007 error)."""
    root = copy_case(tmp_path)
    write(root / "app" / "pom.xml", """
        <project><dependencies><dependency>
          <groupId>org.postgresql</groupId><artifactId>postgresql</artifactId><version>42.7.4</version>
        </dependency></dependencies></project>
        """)
    report = check(root, "PATH007")
    (ep,) = clients(report)
    assert ep.pgjdbc is not None and "42.7.4" in str(ep.pgjdbc.to_dict() if hasattr(ep.pgjdbc, "to_dict") else ep.pgjdbc)
    assert [f.severity.name for f in report.findings] == ["ERROR"]


def test_the_variable_wins_where_the_urls_differ(tmp_path):
    root = copy_case(tmp_path)
    yml = root / "app" / "application.yml"
    yml.write_text(yml.read_text().replace("catalog-pgbouncer.catalog.svc.cluster.local:6432", "localhost:5432"))
    (ep,) = clients(check(root, "APP001"))
    assert [h.value for h in ep.hosts] == ["catalog-pgbouncer.catalog.svc.cluster.local"]
    assert ep.pool.size.value == 30


def test_a_topology_naming_the_file_gets_the_merged_client(tmp_path):
    root = copy_case(tmp_path)
    write(root / "pgpath.yaml", """
        deployments:
          - name: catalog
            hops:
              - client: {file: app/application.yml, variable: spring.datasource, replicas: 8}
              - pgbouncer: {file: k8s/pgbouncer.yaml, database: catalog}
        """)
    report = check(root, "PATH005", "PATH006", "ADV004", config=True)
    assert sorted(f.code for f in report.findings) == ["PATH005", "PATH006"]
    (path,) = [p for p in report.paths if p.source == "topology"]
    assert path.hops[0].detail.name == "SPRING_DATASOURCE_URL"


def test_no_evidence_of_one_application_leaves_two_clients(tmp_path):
    root = copy_case(tmp_path)
    yml = root / "app" / "application.yml"
    yml.write_text(yml.read_text().replace("name: catalog-service", "name: inventory-service"))
    report = check(root, "APP001")
    assert sorted(ep.name for ep in clients(report)) == ["SPRING_DATASOURCE_URL", "spring.datasource"]
    assert len(report.findings) == 2


def test_other_overrides_in_the_environment_leave_two_clients(tmp_path):
    """SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE would override the file's pool size: not modelled."""
    root = copy_case(tmp_path)
    dep = root / "k8s" / "catalog-service.yaml"
    dep.write_text(dep.read_text().replace("            - name: DB_PASSWORD\n",
                                           "            - name: SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE\n"
                                           "              value: \"10\"\n"
                                           "            - name: DB_PASSWORD\n"))
    assert len(clients(check(root, "APP001"))) == 2


def test_two_files_of_that_application_leave_two_clients(tmp_path):
    """Which one is packaged into the image is not in the files."""
    root = copy_case(tmp_path)
    shutil.copytree(root / "app", root / "app-v2")
    assert len(clients(check(root, "APP001"))) == 3


def test_a_compose_service_of_that_name(tmp_path):
    root = tmp_path / "c"
    write(root / "app" / "application.properties", """
        spring.application.name=billing
        spring.datasource.url=jdbc:postgresql://db:5432/billing
        spring.datasource.hikari.maximum-pool-size=40
        """)
    write(root / "docker-compose.yml", """
        services:
          billing:
            image: billing:1
            environment:
              SPRING_DATASOURCE_URL: jdbc:postgresql://db:5432/billing?prepareThreshold=0
        """)
    (ep,) = clients(check(root, "APP001"))
    assert ep.name == "SPRING_DATASOURCE_URL" and ep.service == "billing"
    assert ep.pool.size.value == 40 and ep.params["prepareThreshold"].value == "0"
    assert "compose service billing" in ep.overrides
