"""Jinja templates of an Ansible project rendered with the project's own variables
(advisor.loaders.ansible_vars): role defaults < group_vars/all < role vars, per Ansible's
precedence; what differs between hosts, or between two files of one level, stays unknown; a
finding on a rendered line points at where the value is set."""

from __future__ import annotations

from pathlib import Path

from advisor.engine import make_settings, run
from advisor.loaders.ansible_vars import project_root, render, variables_of

HAPROXY_J2 = """\
defaults
    mode               tcp
    timeout connect    5s
    timeout client     {{ haproxy_timeout.client }}
    timeout server     {{ haproxy_timeout.server }}

listen master
    bind {{ bind_address | default('0.0.0.0') }}:{{ haproxy_listen_port.master }}
    option pgsql-check user haproxy
{% for host in groups['postgres_cluster'] %}
    server {{ hostvars[host]['ansible_hostname'] }} {{ hostvars[host]['bind_address'] }}:5432 check
{% endfor %}
"""

DEFAULTS = """\
haproxy_listen_port:
  master: 5000
haproxy_timeout:
  client: "5m"
  server: "5m"
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def hap005(root: Path):
    report = run(make_settings({"paths": [str(root)], "select": ["HAP005"]}, use_config=False))
    return [f for f in report.findings if f.code == "HAP005"]


def test_a_role_template_is_rendered_with_the_role_defaults(tmp_path):
    root = write(tmp_path, {"roles/haproxy/templates/haproxy.cfg.j2": HAPROXY_J2,
                            "roles/common/defaults/main.yml": DEFAULTS})
    [finding] = hap005(root)
    assert str(finding.severity) == "warning" and "300 s" in finding.message, finding.message
    # the fix is made where the value is set: the role's defaults, lines 4 and 5
    defaults = str(root / "roles/common/defaults/main.yml")
    assert {(r.file, r.line) for r in finding.related} >= {(defaults, 4), (defaults, 5)}, finding.related
    # columns of the template line are kept: the finding sits where `timeout client` is written
    assert finding.span.file.endswith("haproxy.cfg.j2")


def test_group_vars_all_overrides_role_defaults_and_role_vars_override_both(tmp_path):
    root = write(tmp_path, {"roles/haproxy/templates/haproxy.cfg.j2": HAPROXY_J2,
                            "roles/common/defaults/main.yml": DEFAULTS,
                            "inventory/group_vars/all.yml": "haproxy_timeout:\n  client: 30m\n  server: 30m\n"})
    [finding] = hap005(root)
    assert str(finding.severity) == "info" and "1800 s" in finding.message
    assert any(r.file.endswith("inventory/group_vars/all.yml") for r in finding.related)
    write(tmp_path, {"roles/haproxy/vars/main.yml": "haproxy_timeout:\n  client: 2m\n  server: 2m\n"})
    [finding] = hap005(root)
    assert "120 s" in finding.message


def test_a_value_some_hosts_set_otherwise_stays_unknown(tmp_path):
    root = write(tmp_path, {"roles/haproxy/templates/haproxy.cfg.j2": HAPROXY_J2,
                            "roles/common/defaults/main.yml": DEFAULTS,
                            "group_vars/balancers.yml": "haproxy_timeout:\n  client: 1h\n  server: 1h\n"})
    assert hap005(root) == []  # per group: which value a host gets is the inventory's business
    variables = variables_of(str(root))
    assert variables.lookup("haproxy_timeout") is None and variables.lookup("haproxy_listen_port") is not None


def test_two_role_defaults_that_disagree_leave_it_unknown(tmp_path):
    root = write(tmp_path, {"roles/haproxy/templates/haproxy.cfg.j2": HAPROXY_J2,
                            "roles/common/defaults/main.yml": DEFAULTS,
                            "roles/other/defaults/main.yml": 'haproxy_timeout:\n  client: "1h"\n  server: "1h"\n'})
    assert hap005(root) == []


def test_only_plain_variables_and_simple_filters_are_rendered():
    from advisor.loaders.ansible_vars import Variables
    from advisor.loaders.yaml_nodes import compose

    variables = Variables()
    [root] = compose("a: 5m\nn: '42'\nlong: a-very-long-value-indeed\nnested: '{{ a }}'\nfact: '{{ ansible_host }}'\n")
    for name, _, node in root.items():
        variables.add(name, node, "vars.yml", 1)
    text, done = render("t.j2", "x {{ a }} y\n"
                        "q '{{ a }}'\n"
                        "l {{ long }}\n"
                        "i {{ n | int }} d {{ missing | default(7) }} m {{ missing }}\n"
                        "r {{ nested }} f {{ fact }} c {{ a if b else c }} u {{ a | upper }}\n", variables)
    lines = text.split("\n")
    assert lines[0] == "x 5m      y"  # padded: every column after it stays where it was
    assert lines[1] == "q '{{ a }}'"  # inside quotes: spaces would become part of the value
    assert lines[2] == "l {{ long }}"  # longer than the expression
    assert lines[3].split() == ["i", "42", "d", "7", "m", "{{", "missing", "}}"]
    assert lines[4].split()[:2] == ["r", "5m"] and "{{ ansible_host }}" not in lines[4]
    assert "{{ fact }}" in lines[4] and "{{ a if b else c }}" in lines[4] and "{{ a | upper }}" in lines[4]
    assert [d["variable"] for d in done] == ["a", "n", "missing", "nested"]


def test_a_postgresql_template_of_a_role(tmp_path):
    root = write(tmp_path, {
        "roles/postgresql/templates/postgresql.conf.j2":
            "listen_addresses = '*'\nmax_connections = {{ postgresql_max_connections }}\n",
        "roles/postgresql/defaults/main.yml": "postgresql_max_connections: 0\n"})
    report = run(make_settings({"paths": [str(root)], "select": ["PG003"], "pg_version": "15"}, use_config=False))
    [finding] = report.findings
    assert "max_connections" in finding.message and finding.span.line == 2
    assert [(r.line, r.col) for r in finding.related if r.file.endswith("defaults/main.yml")] == [(1, 29)]


def test_no_roles_folder_no_rendering(tmp_path):
    root = write(tmp_path, {"templates/haproxy.cfg.j2": HAPROXY_J2, "defaults/main.yml": DEFAULTS})
    assert project_root(str(root / "templates/haproxy.cfg.j2")) is None
    assert hap005(root) == []
