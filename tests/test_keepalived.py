"""keepalived.conf -> the VRRP instances' VIPs with their spans; the ip_nonlocal_bind sysctl facts;
HAP012 (an HAProxy bind on a VIP) on the cases its fixtures do not show; secrets never printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.loaders import detect_kind
from advisor.loaders.keepalived_conf import load
from advisor.loaders.source import InputError
from advisor.loaders.sysctl_conf import load as load_sysctl

ROOT = Path(__file__).resolve().parent.parent

S06 = """vrrp_script chk_haproxy {
    script "/usr/bin/killall -0 haproxy"
    interval 2
}

vrrp_instance VI_PG {
    state BACKUP
    interface ens192
    virtual_router_id 51
    authentication {
        auth_type PASS
        auth_pass vrrpPw77
    }
    virtual_ipaddress {
        10.20.0.100/24
    }
}
"""


def _load(tmp_path, text, name="keepalived.conf"):
    p = tmp_path / name
    p.write_text(text)
    return load(str(p))


def _vips(doc):
    return [(v.address, v.written, v.span.line, v.span.col, v.span.end_col, v.instance, v.excluded, v.version)
            for v in doc.model.vips()]


def test_vips_state_interface_and_spans(tmp_path):
    doc = _load(tmp_path, S06)
    assert _vips(doc) == [("10.20.0.100", "10.20.0.100/24", 15, 9, 23, "VI_PG", False, 4)]
    [inst] = doc.model.instances
    assert (inst.name, inst.state, inst.interface, inst.span.line) == ("VI_PG", "BACKUP", "ens192", 6)
    assert not doc.diagnostics


@pytest.mark.parametrize("block, expected", [
    # options after the address; several lines
    ("virtual_ipaddress {\n 10.0.0.5/24 dev eth0 label eth0:1\n 10.0.0.6 brd 10.0.0.255 dev eth0 scope global\n}",
     [("10.0.0.5", "10.0.0.5/24", 3, 2), ("10.0.0.6", "10.0.0.6", 4, 2)]),
    # the brace on its own line; comments with # and !; a line for one host only (@lb1)
    ("virtual_ipaddress\n{\n # 10.9.9.9\n ! 10.9.9.8\n 10.0.0.7 # the VIP\n @lb1 10.0.0.8/32\n}",
     [("10.0.0.7", "10.0.0.7", 6, 2), ("10.0.0.8", "10.0.0.8/32", 7, 7)]),
    # one line; and the excluded block
    ("virtual_ipaddress { 10.0.0.9/32 }\nvirtual_ipaddress_excluded {\n 10.0.0.10\n}",
     [("10.0.0.9", "10.0.0.9/32", 2, 21), ("10.0.0.10", "10.0.0.10", 4, 2)]),
    # IPv6
    ("virtual_ipaddress {\n fd00::10/64 dev eth0\n}", [("fd00::10", "fd00::10/64", 3, 2)]),
    # a template placeholder, an include: no VIP
    ("virtual_ipaddress {\n {{ keepalived_vip }}\n include vips.conf\n}", []),
])
def test_virtual_ipaddress_lines(tmp_path, block, expected):
    doc = _load(tmp_path, "vrrp_instance V {\n" + block + "\n}\n")
    assert [v[:2] + v[2:4] for v in _vips(doc)] == expected
    assert not doc.diagnostics


def test_excluded_and_ipv6_are_marked(tmp_path):
    doc = _load(tmp_path, "vrrp_instance V {\n virtual_ipaddress_excluded {\n  fd00::10\n }\n}\n")
    assert [(v.excluded, v.version) for v in doc.model.vips()] == [(True, 6)]


def test_addresses_outside_an_instance_are_no_vips(tmp_path):
    doc = _load(tmp_path, "static_ipaddress {\n 10.1.1.1/24 dev eth0\n}\nglobal_defs {\n router_id lb1\n}\n")
    assert doc.model.vips() == [] and not doc.diagnostics


def test_unbalanced_braces_are_warnings_at_their_line(tmp_path):
    extra = _load(tmp_path, S06 + "}\n")
    [d] = extra.diagnostics
    assert (d.kind, d.severity, d.span.line, d.span.col) == ("syntax-error", "warning", 18, 1)
    assert "Extra '}' found" in d.message
    unclosed = _load(tmp_path, S06.replace("    }\n}\n", "    }\n"))
    [d] = unclosed.diagnostics
    assert (d.kind, d.severity, d.span.line) == ("syntax-error", "warning", 6)
    assert "1 missing '}'s or extra '{'s" in d.message and "`vrrp_instance`" in d.message
    assert "vrrpPw77" not in d.message + (d.fix or "")


def test_bad_input_through_the_cli(tmp_path):
    (tmp_path / "keepalived.conf").write_text(S06 + "}\n")
    r = _run("check", "keepalived.conf", "--no-config", cwd=tmp_path)
    assert "keepalived.conf:18:1: ADV001 warning Extra '}' found" in r.stdout, r.stdout
    assert r.returncode == 1  # as any other loader's syntax error found
    binary = tmp_path / "bin" / "keepalived.conf"
    binary.parent.mkdir()
    binary.write_bytes(b"vrrp_instance V {\n\x00\x01")
    r = _run("check", "bin/keepalived.conf", "--no-config", cwd=tmp_path)
    assert r.returncode == 2 and "keepalived.conf:2" in r.stdout + r.stderr and "binary" in r.stdout + r.stderr
    with pytest.raises(InputError):
        load(str(binary))


def test_detection():
    assert detect_kind("etc/keepalived/keepalived.conf") == "keepalived"
    assert detect_kind("keepalived-lb.conf") == "keepalived"
    assert detect_kind("templates/keepalived.conf.j2") == "keepalived"
    assert detect_kind("vrrp.conf", "vrrp_instance VI_1 {\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n") == "keepalived"
    assert detect_kind("vrrp.conf", "vrrp_instance VI_1 {\n  state MASTER\n}\n") is None
    assert detect_kind("notes.md", "vrrp_instance VI_1 {\n  virtual_ipaddress {\n 10.0.0.1\n }\n}\n") is None


def test_nothing_secret_is_kept(tmp_path):
    doc = _load(tmp_path, S06)
    dumped = json.dumps(doc.to_dict())
    assert "vrrpPw77" not in dumped and "auth_pass" not in dumped and "killall" not in dumped
    assert [s.name for s in doc.settings] == ["state", "interface", "virtual_ipaddress"]


# ------------------------------------------------------------------------------------------------
# ip_nonlocal_bind: one reader for sysctl files, Kubernetes sysctls and Ansible sysctl_conf


def test_sysctl_file_reads_ip_nonlocal_bind(tmp_path):
    p = tmp_path / "90-vip.conf"
    p.write_text("net.ipv4.ip_nonlocal_bind = 1\nnet/ipv6/ip_nonlocal_bind = 0\n")
    facts = load_sysctl(str(p)).model.facts
    assert (facts["ip_nonlocal_bind"].value, facts["ipv6_nonlocal_bind"].value) == (1, 0)
    assert (facts["ip_nonlocal_bind"].span.line, facts["ip_nonlocal_bind"].span.col) == (1, 29)
    p.write_text("net.ipv4.ip_nonlocal_bind = 256\nnet.ipv4.ip_nonlocal_bind = yes\n")
    doc = load_sysctl(str(p))
    # the kernel's handler takes a u8 (0..255; checked: `sysctl -w ...=256` is Invalid argument)
    assert [d.span.line for d in doc.diagnostics] == [1, 2] and "ip_nonlocal_bind" not in doc.model.facts


def test_kubernetes_and_ansible_sysctls_read_it(tmp_path):
    from advisor.loaders.infra_yaml import load as load_yaml

    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: haproxy\nspec:\n  securityContext:\n    sysctls:\n"
                   "      - name: net.ipv4.ip_nonlocal_bind\n        value: \"1\"\n  containers:\n"
                   "    - name: haproxy\n      image: postgres:16\n")
    docs = load_yaml(str(pod), {})
    facts = [d.model.facts for d in docs if d.kind == "sysctl" and d.model is not None]
    assert any(f.get("ip_nonlocal_bind") is not None and f["ip_nonlocal_bind"].value == 1 for f in facts), docs


# ------------------------------------------------------------------------------------------------
# HAP012 beyond its fixtures

HAP = ("defaults\n    mode tcp\n    timeout connect 4s\n    timeout client 1h\n    timeout server 1h\n\n"
       "listen primary\n    bind {bind}\n    server pg1 10.20.0.11:5432 check\n")


def _hap012(tmp_path, bind, vip="10.20.0.100/24", sysctl=None, sysctl_at="99-sysctl.conf"):
    (tmp_path / "haproxy.cfg").write_text(HAP.format(bind=bind))
    (tmp_path / "keepalived.conf").write_text(S06.replace("10.20.0.100/24", vip))
    if sysctl is not None:
        p = tmp_path / sysctl_at
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(sysctl)
    r = _run("check", ".", "--no-config", "--select", "HAP012", "--format", "json", cwd=tmp_path)
    return [(f["severity"], f["span"]["line"], f["message"]) for f in json.loads(r.stdout)["findings"]]


@pytest.mark.parametrize("bind", ["10.20.0.100:5000", "ipv4@10.20.0.100:5000", "10.20.0.7:5000,10.20.0.100:5000"])
def test_binds_on_the_vip(tmp_path, bind):
    [(severity, line, message)] = _hap012(tmp_path, bind)
    assert (severity, line) == ("info", 8) and "10.20.0.100:5000" in message


@pytest.mark.parametrize("bind", ["*:5000", "0.0.0.0:5000", ":::5000", "127.0.0.1:5000", "10.20.0.101:5000",
                                  "10.20.0.100:5000 transparent", "db.internal:5000"])
def test_binds_never_reported(tmp_path, bind):
    assert _hap012(tmp_path, bind) == []


def test_ipv6_vip_needs_the_ipv6_key(tmp_path):
    [(severity, _, message)] = _hap012(tmp_path, "[fd00::10]:5000", vip="fd00::10/64",
                                       sysctl="net.ipv4.ip_nonlocal_bind = 1\n")
    assert severity == "warning" and "net.ipv6.ip_nonlocal_bind is not set" in message
    assert _hap012(tmp_path, "[fd00::10]:5000", vip="fd00::10/64", sysctl="net.ipv6.ip_nonlocal_bind = 1\n") == []


def test_sysctl_of_another_host_is_not_this_hosts(tmp_path):
    # a sysctl file two folders away is no evidence about this host: info, not warning
    [(severity, _, _)] = _hap012(tmp_path, "10.20.0.100:5000", sysctl="net.ipv4.tcp_keepalive_time = 300\n",
                                 sysctl_at="other/host/99-sysctl.conf")
    assert severity == "info"


def test_a_later_file_setting_it_wins(tmp_path):
    (tmp_path / "sysctl.d").mkdir()
    (tmp_path / "sysctl.d" / "10-base.conf").write_text("net.ipv4.ip_nonlocal_bind = 0\n")
    assert _hap012(tmp_path, "10.20.0.100:5000", sysctl="net.ipv4.ip_nonlocal_bind = 1\n",
                   sysctl_at="sysctl.d/90-vip.conf") == []


# ------------------------------------------------------------------------------------------------
# secrets: nothing of keepalived.conf's authentication or scripts in any output


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


SECRETS = ("KaPass51xQ", "KaScript52xQ", "KaMail53xQ")


@pytest.fixture(scope="module")
def secret_tree(tmp_path_factory):
    base = tmp_path_factory.mktemp("keepalived-secrets")
    (base / "etc" / "haproxy").mkdir(parents=True)
    (base / "etc" / "keepalived").mkdir()
    (base / "etc" / "haproxy" / "haproxy.cfg").write_text(HAP.format(bind="10.20.0.100:5000"))
    (base / "etc" / "keepalived" / "keepalived.conf").write_text(
        "global_defs {\n  notification_email {\n    KaMail53xQ@example.com\n  }\n}\n"
        "vrrp_script chk {\n  script \"/usr/bin/curl -u admin:KaScript52xQ http://127.0.0.1:7000/\"\n}\n"
        + S06.replace("vrrpPw77", "KaPass51xQ") + "}\n")  # an extra brace: a diagnostic is printed too
    return base


from advisor.reporters import FORMATS  # noqa: E402


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_check_never_prints_a_keepalived_secret(secret_tree, fmt):
    r = _run("check", ".", "--no-config", "--format", fmt, cwd=secret_tree)
    out = r.stdout + r.stderr
    assert "HAP012" in out and "ADV001" in out, out[:2000]
    assert [s for s in SECRETS if s in out] == []


def test_dump_never_prints_a_keepalived_secret(secret_tree):
    r = _run("dump", "etc/keepalived/keepalived.conf", cwd=secret_tree)
    out = r.stdout + r.stderr
    assert '"kind": "keepalived"' in out and "10.20.0.100" in out, out[:500]
    assert [s for s in SECRETS if s in out] == []
    assert all(s in (secret_tree / "etc" / "keepalived" / "keepalived.conf").read_text() for s in SECRETS)
