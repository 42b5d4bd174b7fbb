"""Context, not false alarms: templates of every common syntax, includes made at deploy time,
sed targets, files named like postgresql.conf that are not, and what a folder run read and skipped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from advisor.engine import make_settings, run

ROOT = Path(__file__).resolve().parent.parent

POSTGRESQL_TEMPLATE = """\
{{#if replication}}
wal_level = replica
{{else}}
wal_level = logical
{{/if}}
{{! a handlebars comment }}
{{> partial }}
{# a jinja comment #}
{% if tuned %}
work_mem = {{ work_mem }}
{% endif %}
{{- if .Values.ssl }}
ssl = on
{{- end }}
<% if @ssl %>
ssl_min_protocol_version = 'TLSv1.2'
<% end %>
%{ if replicas > 0 }
max_wal_senders = ${max_wal_senders}
%{ endif }
shared_buffers = <%= @shared_buffers %>
{{ extra_settings }}
${more_settings}
"""

PGBOUNCER_TEMPLATE = """\
[databases]
app = host=${db_host} port=${db_port} dbname=app
[pgbouncer]
{{#if tls}}
client_tls_sslmode = require
client_tls_key_file = /k
client_tls_cert_file = /c
{{/if}}
{# comment #}
%{ for u in users }
{% if x %}
default_pool_size = ${pool_size}
{% endif %}
%{ endfor }
<% if true %>
max_client_conn = <%= @m %>
<% end %>
{{ extra }}
"""

HAPROXY_TEMPLATE = """\
defaults
    mode tcp
    timeout client 30m
    timeout server 30m
    timeout connect 5s
{{#if primary}}
listen pg
    bind *:5000
    server pg1 ${pg_host}:5432 check
{{/if}}
{# c #}
{% if y %}
    timeout tunnel 1h
{% endif %}
<% if z %>
    option tcpka
<% end %>
"""


@pytest.mark.parametrize("name,text", [
    ("postgresql.conf.hbs", POSTGRESQL_TEMPLATE), ("postgresql.conf.tftpl", POSTGRESQL_TEMPLATE),
    ("postgresql.conf.j2", POSTGRESQL_TEMPLATE), ("pgbouncer.ini.tftpl", PGBOUNCER_TEMPLATE),
    ("pgbouncer.ini.hbs", PGBOUNCER_TEMPLATE), ("haproxy.cfg.tftpl", HAPROXY_TEMPLATE),
    ("haproxy.cfg.erb", HAPROXY_TEMPLATE),
])
def test_every_common_template_syntax_is_a_template(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    assert [d.kind for d in report.docs] == [{"p": "postgresql", "h": "haproxy"}.get(name[0], "pgbouncer")
                                             if not name.startswith("pgb") else "pgbouncer"]
    errors = [(f.code, f.span.line, f.message) for f in report.findings if str(f.severity) == "error"]
    assert errors == []


def test_an_include_made_at_deploy_time_is_a_warning_of_what_was_not_read(tmp_path):
    """A template's include, or one outside the checked tree, is listed in every report as not
    read (with its line and why); only a missing include inside a non-template tree is ADV003."""
    import json

    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "postgresql.conf").write_text(
        "include '/etc/postgresql/extra.conf'\ninclude 'missing.conf'\ninclude_dir '/etc/postgresql/conf.d'\n"
        "include_if_exists '/etc/postgresql/maybe.conf'\n")
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "postgresql.conf.j2").write_text("include '{{ extra }}'\ninclude 'missing.conf'\n")
    (tmp_path / "bouncer").mkdir()
    (tmp_path / "bouncer" / "pgbouncer.ini").write_text(
        "[databases]\n* = host=db\n[pgbouncer]\nlisten_port = 6432\n%include /etc/pgbouncer-custom/overrides.ini\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["ADV003"]}, use_config=False))
    got = sorted((Path(f.span.file).parent.name, f.span.line, str(f.severity)) for f in report.findings)
    assert got == [("conf", 2, "error")]
    assert report.exit_code == 1
    from advisor.reporters import render

    text = render(report, "text")
    listed = sorted((line.split(":")[0].rsplit("/", 2)[-2], int(line.split(":")[1]))
                    for line in text.splitlines() if ": note, not read: " in line)
    # include_if_exists of a missing file is optional by design: neither a finding nor a warning
    assert listed == [("bouncer", 5), ("conf", 1), ("conf", 3), ("tpl", 1), ("tpl", 2)]
    assert "5 files not read" in text and "maybe.conf" not in text
    assert "%include /etc/pgbouncer-custom/overrides.ini: outside the files given to check" in text
    assert "include 'missing.conf': in a template" in text
    notices = json.loads(render(report, "json"))["notices"]
    assert sorted((Path(n["span"]["file"]).parent.name, n["span"]["line"]) for n in notices) == listed
    sarif = json.loads(render(report, "sarif"))
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert sorted(n["locations"][0]["physicalLocation"]["region"]["startLine"] for n in notes) == [1, 1, 2, 3, 5]
    assert {n["level"] for n in notes} == {"warning"}
    assert render(report, "github").count("::warning ") == 5
    assert "Not read" in render(report, "markdown")
    # the warnings alone do not fail a run
    clean = run(make_settings({"paths": [str(tmp_path / "tpl"), str(tmp_path / "bouncer")], "select": ["ADV003"]},
                              use_config=False))
    assert clean.findings == [] and clean.exit_code == 0


def test_sed_targets_in_postgresql_conf_are_unknown(tmp_path):
    conf = tmp_path / "postgresql.conf"
    conf.write_text("max_connections = MAX_CONNECTIONS\nshared_buffers = 'SHARED_BUFFERS'\nssl = ON\n")
    report = run(make_settings({"paths": [str(conf)]}, use_config=False))
    assert [f for f in report.findings if str(f.severity) == "error"] == []
    conf.write_text("max_connections = MAX_CONNECTIONS\n")  # one alone is taken at its word
    report = run(make_settings({"paths": [str(conf)]}, use_config=False))
    assert [f.code for f in report.findings if str(f.severity) == "error"] == ["PG002"]


def test_sysctl_drop_in_named_like_postgresql_is_not_a_postgresql_conf(tmp_path):
    (tmp_path / "60-postgresql-shm.conf").write_text("# for postgres\nkernel.shmmax = 17179869184\n"
                                                     "kernel.shmall = 4194304\n")
    (tmp_path / "10-postgresql-tuning.conf").write_text("work_mem = 64MB\n")
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    kinds = {Path(d.path).name: d.kind for d in report.docs}
    assert kinds == {"60-postgresql-shm.conf": "sysctl", "10-postgresql-tuning.conf": "postgresql"}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", "check", "--no-config", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_folder_run_says_what_it_read_and_skipped(tmp_path):
    (tmp_path / "postgresql.conf").write_text("work_mem = 4MB\n")
    (tmp_path / "notes.md").write_text("# notes\n")
    (tmp_path / "run.sh").write_text("echo\n")
    (tmp_path / "pgpath.yaml").write_text("fail_on: error\n")  # pgpath's own settings: never "skipped"
    out = _cli(".", cwd=tmp_path)
    assert "in 1 file (2 other files skipped, not configuration pgpath reads)" in out.stdout.splitlines()[-1]
    assert "skipped ./notes.md" not in out.stderr
    out = _cli(".", "--verbose", cwd=tmp_path)
    assert "pgpath: skipped ./notes.md: documentation" in out.stderr
    assert "pgpath: skipped ./run.sh" in out.stderr and "pgpath.yaml" not in out.stderr
    out = _cli(".", "--format", "json", cwd=tmp_path)
    import json

    assert json.loads(out.stdout)["summary"]["skipped"] == 2


def test_included_files_are_read_not_skipped(tmp_path):
    """U3: a file another read file includes (include_dir, include, include_if_exists, PgBouncer
    %include) is read, so it is neither listed by --verbose nor counted as skipped; a file nothing
    includes still is."""
    import json

    (tmp_path / "conf.d").mkdir()
    (tmp_path / "postgresql.conf").write_text("work_mem = 4MB\ninclude_dir 'conf.d'\ninclude 'tuning.part'\n"
                                              "include_if_exists 'local.part'\n")
    (tmp_path / "conf.d" / "10-replication.conf").write_text("wal_level = minimal\narchive_mode = on\n")
    (tmp_path / "tuning.part").write_text("maintenance_work_mem = 64MB\n")
    (tmp_path / "local.part").write_text("shared_buffers = 128MB\n")
    (tmp_path / "pgbouncer").mkdir()
    (tmp_path / "pgbouncer" / "pgbouncer.ini").write_text(
        f"[databases]\n%include {tmp_path / 'pgbouncer' / 'dbs.list'}\n[pgbouncer]\nlisten_port = 6432\n")
    (tmp_path / "pgbouncer" / "dbs.list").write_text("app = host=127.0.0.1 dbname=app\n")
    (tmp_path / "run.sh").write_text("echo\n")
    out = _cli(".", "--verbose", cwd=tmp_path)
    last = out.stdout.splitlines()[-1]
    assert "./conf.d/10-replication.conf:2:" in out.stdout  # its findings are reported
    assert "in 6 files (1 other file skipped, not configuration pgpath reads)" in last, last
    skipped = [ln for ln in out.stderr.splitlines() if ln.startswith("pgpath: skipped")]
    assert len(skipped) == 1 and skipped[0].startswith("pgpath: skipped ./run.sh"), out.stderr
    out = _cli(".", "--format", "json", cwd=tmp_path)
    assert json.loads(out.stdout)["summary"]["skipped"] == 1


def test_folder_run_that_reads_nothing_warns(tmp_path):
    (tmp_path / "notes.md").write_text("# notes\n")
    out = _cli(".", cwd=tmp_path)
    assert out.returncode == 0
    assert "pgpath: warning: no configuration file read in . (1 file skipped; --verbose lists them)" in out.stderr


def test_messages_quote_values_as_written_and_point_at_their_line(tmp_path):
    (tmp_path / "haproxy.cfg").write_text(
        "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30m\n    timeout server 1800000\n\n"
        "listen postgres_primary\n    bind *:5000\n    option pgsql-check user haproxy\n    timeout tunnel 300s\n"
        "    server pg1 10.0.1.15:5432\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["HAP003", "HAP005"]}, use_config=False))
    by_code = {f.code: f for f in report.findings}
    assert "timeout tunnel 300s" in by_code["HAP005"].message and "5m" not in by_code["HAP005"].message
    assert by_code["HAP005"].span.line == 10  # the timeout tunnel line, not the `listen` header
    assert by_code["HAP003"].span.line == 11  # the server line
    (tmp_path / "haproxy.cfg").write_text(
        "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30m\n    timeout server 1800000\n\n"
        "listen postgres_primary\n    bind *:5000\n    option pgsql-check user haproxy\n    timeout server 2h\n"
        "    server pg1 10.0.1.15:5432 check\n")
    report = run(make_settings({"paths": [str(tmp_path)], "select": ["HAP002"]}, use_config=False))
    (f,) = report.findings
    assert "timeout client 30m" in f.message and "timeout server 2h" in f.message and f.span.line == 10


def test_no_absolute_path_of_this_machine_in_the_output(tmp_path):
    """Run on an absolute path inside the working directory: every path shown is relative."""
    (tmp_path / "pgbouncer.ini").write_text("[pgbouncer]\nlisten_addr = *\n%include missing.ini\n")
    (tmp_path / "postgresql.conf").write_text("include 'absent.conf'\nwal_level = minimal\n")
    out = _cli(str(tmp_path), "--format", "json", cwd=tmp_path)
    assert str(tmp_path) not in out.stdout and str(tmp_path) not in out.stderr
    out = _cli(str(tmp_path), cwd=tmp_path)
    assert str(tmp_path) not in out.stdout and "pgbouncer.ini:3:" in out.stdout


@pytest.mark.parametrize("name, text, line, col, words", [
    ("postgresql.conf", "max_connections = 100\n# pgpath: ram=plenty\n", 2, 15, "ram=plenty is not a size"),
    ("postgresql.conf", "work_mem = '4MB'  # pgpath: ram=2048PB\n", 1, 33, "ram=2048PB is not a size"),
    ("postgresql.conf", "# pgpath: ram=2000000TB\nport = 5432\n", 1, 15, "above 1 EiB"),
    ("postgresql.conf", "# pgpath: ignore PG010\nstatement_timeout = 0\n", 1, 11, "codes go in brackets"),
    ("pgbouncer.ini", "[pgbouncer]\n; pgpath: ram=16GB!\nlisten_port = 6432\n", 2, 15, "ram=16GB! is not a size"),
    ("haproxy.cfg", "defaults\n    mode tcp # pgpath: rams=8GB\n", 2, 24, "rams=8GB is no directive"),
    ("app.env", "DATABASE_URL=postgresql://db/app\n// pgpath: ram=x\n", 2, 16, "ram=x is not a size"),
])
def test_an_unreadable_pgpath_directive_is_a_finding_at_its_place(tmp_path, name, text, line, col, words):
    """Issue 12: `# pgpath: ram=<garbage>` (and any other `pgpath:` comment pgpath cannot read) was
    skipped without a word; it is ADV005 at the directive's line and column, in every format."""
    (tmp_path / name).write_text(text)
    report = run(make_settings({"paths": [str(tmp_path / name)], "select": ["ADV005"]}, use_config=False))
    (f,) = report.findings
    assert (f.code, f.span.line, f.span.col) == ("ADV005", line, col), f
    assert words in f.message


def test_a_readable_ram_directive_is_no_finding_and_is_used(tmp_path):
    (tmp_path / "postgresql.conf").write_text("# pgpath: ram=64 GB of it\n# pgpath: ram={{ pg_ram }}\nport = 5432\n"
                                              "# rendered by ansible; pgpath: see docs/suppressions.md\n")
    report = run(make_settings({"paths": [str(tmp_path / "postgresql.conf")]}, use_config=False))
    assert [f for f in report.findings if f.code == "ADV005"] == []
    (doc,) = report.docs
    assert doc.meta["ram_bytes"] == 64 * 2**30
