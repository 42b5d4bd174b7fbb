"""Which pgjdbc a Java build names (advisor.loaders.clients.jdbcversion): the evidence PATH007
needs to say whether pgjdbc sends extra_float_digits at connect time (up to 42.7.4)."""

from __future__ import annotations

import pytest

from advisor.loaders.clients.jdbcversion import PgjdbcVersion, gradle, maven, pgjdbc_version

DEP = "<dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId>{v}</dependency>"


@pytest.mark.parametrize("pom,version", [
    (f"<project><dependencies>{DEP.format(v='<version>42.7.4</version>')}</dependencies></project>", "42.7.4"),
    ("<project><properties><pg.jdbc>42.2.18</pg.jdbc></properties><dependencies>"
     f"{DEP.format(v='<version>${pg.jdbc}</version>')}</dependencies></project>", "42.2.18"),
    # no <version>: Spring Boot's dependency management reads postgresql.version
    (f"<project><properties><postgresql.version>42.6.0</postgresql.version></properties>{DEP.format(v='')}</project>",
     "42.6.0"),
    (f"<project>{DEP.format(v='')}</project>", None),  # managed elsewhere (a parent, a BOM): not known
    (f"<project><!-- {DEP.format(v='<version>42.2.0</version>')} --></project>", None),  # commented out
    ("<project><dependencies><dependency><groupId>org.postgresql</groupId><artifactId>r2dbc-postgresql</artifactId>"
     "<version>1.0.0</version></dependency></dependencies></project>", None),
])
def test_maven(pom, version):
    found = maven(pom)
    assert (found[0] if found else None) == version


@pytest.mark.parametrize("build,version", [
    ('runtimeOnly("org.postgresql:postgresql:42.7.5")', "42.7.5"),
    ("implementation 'org.postgresql:postgresql:42.2.5.jre7'", "42.2.5.jre7"),
    ("ext['postgresql.version'] = '42.7.3'", "42.7.3"),
    ('extra["postgresql.version"] = "42.7.1"', "42.7.1"),
    ('runtimeOnly("org.postgresql:postgresql")', None),
    ('runtimeOnly("org.postgresql:postgresql:$pgVersion")', None),
])
def test_gradle(build, version):
    found = gradle(build)
    assert (found[0] if found else None) == version


@pytest.mark.parametrize("version,sends", [("42.7.4", True), ("42.7.5", False), ("42.7.13", False),
                                           ("9.4.1212", True), ("42.2.5.jre7", True), ("", None)])
def test_sends_extra_float_digits(version, sends):
    assert PgjdbcVersion(version).sends_extra_float_digits() is sends


def test_the_nearest_build_file_decides(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pom.xml").write_text(f"<project>{DEP.format(v='<version>42.7.2</version>')}</project>")
    module = tmp_path / "service"
    (module / "src/main/resources").mkdir(parents=True)
    (module / "build.gradle").write_text('runtimeOnly("org.postgresql:postgresql:42.7.8")\n')
    found = pgjdbc_version(str(module / "src/main/resources/application.yml"), {})
    assert (found.version, found.line, found.sends_extra_float_digits()) == ("42.7.8", 1, False)
    assert found.files == [str(module / "build.gradle")] and found.span.line == 1
    other = tmp_path / "tools"
    other.mkdir()
    assert pgjdbc_version(str(other / "application.properties"), {}).version == "42.7.2"


def test_no_build_file_up_to_the_repository_root(tmp_path):
    (tmp_path / "repo/.git").mkdir(parents=True)
    (tmp_path / "pom.xml").write_text(f"<project>{DEP.format(v='<version>42.2.0</version>')}</project>")  # outside
    found = pgjdbc_version(str(tmp_path / "repo/application.properties"), {})
    assert found.version == "" and found.sends_extra_float_digits() is None and "no pom.xml" in found.reason
