"""sysctl files (sysctl.d, tuned, saptune) -> HostFacts, and what detection claims as sysctl."""

from __future__ import annotations

import pytest

from advisor.loaders import detect_kind
from advisor.loaders.sysctl_conf import load, normalize_key
from advisor.model import Unknown
from conftest import corpus_files, require_corpus


def _load(tmp_path, text, name="60-net.conf"):
    p = tmp_path / name
    p.write_text(text)
    return load(str(p))


def test_keys_values_spans_and_last_wins(tmp_path):
    doc = _load(tmp_path, "# c\n; c\nnet.ipv4.tcp_keepalive_time=600\n -net.ipv4.tcp_keepalive_intvl = 30\n"
                          "net/ipv4/tcp_keepalive_probes = 4\nvm.overcommit_memory = 2\nvm.overcommit_ratio = 80\n"
                          "net.ipv4.tcp_retries2 = 8\nnet.ipv4.tcp_keepalive_time = 300\n")
    facts = doc.model.facts
    assert {k: v.value for k, v in facts.items()} == {
        "tcp_keepalive_time": 300, "tcp_keepalive_intvl": 30, "tcp_keepalive_probes": 4, "overcommit_memory": 2,
        "overcommit_ratio": 80, "tcp_retries2": 8}
    assert (facts["tcp_keepalive_time"].span.line, facts["tcp_keepalive_time"].span.col) == (9, 31)
    assert (facts["tcp_keepalive_intvl"].span.line, facts["tcp_keepalive_intvl"].span.col) == (4, 34)
    assert [s.effective for s in doc.settings if s.name == "net.ipv4.tcp_keepalive_time"] == [False, True]
    assert doc.model.keepalive()[0].value == 300 and not doc.diagnostics


def test_invalid_values_are_diagnostics(tmp_path):
    doc = _load(tmp_path, "net.ipv4.tcp_keepalive_time = 5min\nvm.overcommit_memory = 3\n")
    assert [(d.kind, d.span.line) for d in doc.diagnostics] == [("sysctl-invalid-value", 1),
                                                                 ("sysctl-invalid-value", 2)]
    assert doc.model.facts == {}


def test_tuned_profile_reads_only_sysctl_sections_and_template_branches_are_unknown(tmp_path):
    doc = _load(tmp_path, "[main]\nsummary=x\n[vm]\ntransparent_hugepages=never\n[sysctl]\n"
                          "{% if ratio|int > 0 %}\nvm.overcommit_memory=2\n{% else %}\nvm.overcommit_memory=0\n"
                          "{% endif %}\nnet.ipv4.tcp_keepalive_time = {{ ka }}\nnet.ipv4.tcp_keepalive_intvl=20\n",
                "tuned.conf")
    assert [s.name for s in doc.settings] == ["vm.overcommit_memory", "vm.overcommit_memory",
                                              "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl"]
    assert isinstance(doc.model.facts["overcommit_memory"].value, Unknown)
    assert isinstance(doc.model.facts["tcp_keepalive_time"].value, Unknown)
    assert doc.model.facts["tcp_keepalive_intvl"].value == 20


def test_normalize_key():
    assert normalize_key("net/ipv4/tcp_keepalive_time") == "net.ipv4.tcp_keepalive_time"
    assert normalize_key("net.ipv4.conf.eth0/1.rp_filter") == "net.ipv4.conf.eth0/1.rp_filter"


def test_detection():
    assert detect_kind("60-net.conf", "# x\nnet.ipv4.tcp_keepalive_time = 60\nvm.swappiness=1\n") == "sysctl"
    assert detect_kind("sysctl.conf") == "sysctl"
    assert detect_kind("notes", "[sysctl:csp=azure]\nnet.ipv4.tcp_keepalive_time = 300\n") == "sysctl"
    # a postgresql.conf that mentions no sysctl key is not one
    assert detect_kind("server.conf", "work_mem = 4MB\nshared_buffers = 1GB\nmax_connections = 100\n") != "sysctl"
    assert detect_kind("app.yaml", "net.ipv4.tcp_keepalive_time: 60\n") != "sysctl"


@pytest.mark.parametrize("path", [p for p in corpus_files("sysctl") if p.suffix not in (".yml", ".yaml")],
                         ids=lambda p: p.name)
def test_corpus_sysctl_files(path):
    require_corpus()
    assert detect_kind(str(path), path.read_text()) == "sysctl"
    doc = load(str(path))
    assert doc.settings
    for s in doc.settings:
        assert s.span.line and s.value_span.col
        assert path.read_text().split("\n")[s.span.line - 1].strip().lstrip("-").startswith(s.name.split(".")[0])


def test_corpus_saptune_keepalive_facts():
    require_corpus()
    [path] = [p for p in corpus_files("sysctl") if p.name == "saptune_notes_2993054"]
    facts = load(str(path)).model.facts
    assert (facts["tcp_keepalive_time"].value, facts["tcp_keepalive_intvl"].value,
            facts["tcp_keepalive_probes"].value, facts["tcp_retries2"].value) == (300, 75, 9, 8)


def test_a_sysctl_drop_in_named_like_postgresql_conf_is_sysctl(tmp_path):
    from advisor.engine import make_settings, run

    d = tmp_path / "sysctl.d"
    d.mkdir()
    (d / "60-postgresql-shm.conf").write_text("# shared memory for PostgreSQL\nkernel.shmmax = 17179869184\n"
                                              "kernel.shmall = 4194304\nvm.overcommit_memory = 2\n")
    (tmp_path / "postgresql-16.conf").write_text("shared_buffers = 1GB\nmax_connections = 100\n")
    report = run(make_settings({"paths": [str(tmp_path)]}, use_config=False))
    kinds = {d.path.rsplit("/", 1)[-1]: d.kind for d in report.docs}
    assert kinds == {"60-postgresql-shm.conf": "sysctl", "postgresql-16.conf": "postgresql"}
    assert not [f for f in report.findings if f.code.startswith("PG0")]
