"""A fix for a PostgreSQL parameter is written in the syntax of the file that sets it
(advisor.model.pg_parameters), so it can be copied as it stands."""

from advisor.model import ConfigDoc, Setting, Span
from advisor.model.pg_parameters import assignment, in_place, removal


def _doc(**meta):
    doc = ConfigDoc(path="f", kind="postgresql")
    doc.meta.update(meta)
    return doc


def _setting(name, raw):
    return Setting(name, raw, None, Span("f", 1, 1), Span("f", 1, 1), None, None, False, False, None, name)


CNPG = dict(parameters_at="spec.postgresql.parameters")
ANSIBLE = dict(parameters_at="postgresql_parameters", parameters_forms={"postgresql_parameters": "options"})
COMPOSE = dict(image="postgres:16", service="db")


def test_assignment_per_syntax():
    assert assignment(_doc(), "work_mem", "8MB") == "work_mem = 8MB"
    assert assignment(_doc(**CNPG), "work_mem", "8MB") == 'work_mem: "8MB" in spec.postgresql.parameters'
    assert assignment(_doc(**ANSIBLE), "work_mem", "8MB") == \
        '- { option: "work_mem", value: "8MB" } in postgresql_parameters'
    assert assignment(_doc(**COMPOSE), "work_mem", "8MB") == "-c work_mem=8MB in its command"
    # a Kubernetes container's command replaces the image's entrypoint: the flags go in its args
    assert assignment(_doc(**COMPOSE, source="StatefulSet"), "work_mem", "8MB") == "-c work_mem=8MB in its args"


def test_quoted_conf_values_lose_their_quotes_outside_postgresql_conf():
    assert assignment(_doc(**CNPG), "log_destination", "'stderr, csvlog'") == \
        'log_destination: "stderr, csvlog" in spec.postgresql.parameters'
    assert assignment(_doc(**COMPOSE), "log_destination", "'stderr, csvlog'") == \
        "-c 'log_destination=stderr, csvlog' in its command"
    assert assignment(_doc(), "log_destination", "'stderr, csvlog'") == "log_destination = 'stderr, csvlog'"


def test_removal_per_syntax():
    s = _setting("statement_timeout", "30s")
    assert removal(_doc(), s) == "remove the line"
    assert removal(_doc(), s, "statement") == "remove the statement"
    assert removal(_doc(**CNPG), s) == "remove statement_timeout from spec.postgresql.parameters"
    assert removal(_doc(**COMPOSE), s) == "remove -c statement_timeout=30s from its command"


def test_in_place_rewrites_only_postgresql_conf_fixes():
    s = _setting("max_connections", "9999999")
    assert in_place(_doc(**CNPG), s, "max_connections = 262143  (the maximum)") == \
        'max_connections: "262143" in spec.postgresql.parameters  (the maximum)'
    assert in_place(_doc(**CNPG), s, "fix or remove the max_connections line") == \
        "fix or remove max_connections from spec.postgresql.parameters"
    # a fix in words, and every fix of a postgresql.conf, stay as they are
    assert in_place(_doc(**CNPG), s, "write a number in kB, or a number with a unit") == \
        "write a number in kB, or a number with a unit"
    assert in_place(_doc(), s, "max_connections = 262143  (the maximum)") == "max_connections = 262143  (the maximum)"
    assert in_place(_doc(**CNPG), s, None) is None


def test_a_fix_goes_where_the_file_sets_the_parameter():
    # an Ansible role's two lists: the setting read from the second is fixed and removed there
    doc = _doc(parameters_at="postgresql_parameters",
               parameters_forms={"postgresql_parameters": "options", "local_postgresql_parameters": "options"})
    local = _setting("max_connections", "300000")
    local.section = "local_postgresql_parameters"
    assert in_place(doc, local, "max_connections = 262121  (the most)") == \
        '- { option: "max_connections", value: "262121" } in local_postgresql_parameters  (the most)'
    assert removal(doc, local) == "remove max_connections from local_postgresql_parameters"
    # a parameter Patroni takes only from the DCS goes there, wherever the file wrote it
    patroni = _doc(parameters_at="postgresql.parameters",
                   parameters_at_for={"max_connections": "bootstrap.dcs.postgresql.parameters"})
    # which Patroni reads once, when it creates the cluster: a running one takes it by patronictl
    assert assignment(patroni, "max_connections", 200) == \
        'max_connections: "200" in bootstrap.dcs.postgresql.parameters (on a running cluster: patronictl edit-config)'
    dcs = _doc(parameters_at="bootstrap.dcs.postgresql.parameters")
    timeout = _setting("statement_timeout", "45min")
    timeout.section = "bootstrap.dcs.postgresql.parameters"
    assert removal(dcs, timeout) == ("remove statement_timeout from bootstrap.dcs.postgresql.parameters "
                                     "(on a running cluster: patronictl edit-config)")
    assert assignment(patroni, "work_mem", "8MB") == 'work_mem: "8MB" in postgresql.parameters'
