"""The lab for HAP012: a real HAProxy 2.6 binding a keepalived VIP the node does not hold.

HAP012's fixture (tests/rules/HAP012/bad_etc_tree: a host's etc/haproxy/haproxy.cfg,
etc/keepalived/keepalived.conf and etc/sysctl.d/90-pg-network.conf, audit16 s06) with its VIP
replaced by 10.255.0.100, an address no interface holds. HAProxy runs inside `unshare -n` (a
network namespace of its own with only loopback up), which stands for the keepalived BACKUP: the
VIP is not on it. The sysctl file is applied in the namespace with `sysctl -p` as systemd-sysctl
applies it at boot:

- VIP1: the file does not set ip_nonlocal_bind: HAProxy exits with "cannot bind socket (Cannot
  assign requested address)", and pgpath's HAP012 warning quotes that ALERT;
- VIP2: the file sets `net.ipv4.ip_nonlocal_bind = 1` (HAP012's fix): HAProxy starts, pgpath
  says nothing;
- VIP3: `transparent` on the bind lines and no sysctl: HAProxy (root) starts, pgpath says nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import labkit
import scenarios as sc

pytestmark = [pytest.mark.lab, pytest.mark.server]

FIXTURE = Path(__file__).resolve().parent.parent / "rules" / "HAP012" / "bad_etc_tree"
VIP = "10.255.0.100"  # (TEST-NET-like, held by no interface in the namespace)
SYSCTL = "etc/sysctl.d/90-pg-network.conf"


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (a network namespace with `unshare -n`, sysctl in it)"
    for tool in ("unshare", "ip", "sysctl"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed"
    if labkit.HAPROXY is None:
        return "haproxy is not installed (apt-get install haproxy)"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare -n does not work here: {probe.stderr.strip()}"
    return None


@pytest.fixture(scope="module", autouse=True)
def _skip():
    reason = _unavailable()
    if reason:
        pytest.skip(reason)


def _host(tmp_path: Path, sysctl_extra: str = "", transparent: bool = False) -> Path:
    """A copy of the fixture's host with the VIP replaced; the global section trimmed of what
    needs the machine (syslog socket, the haproxy user, daemon mode)."""
    root = tmp_path / "host"
    shutil.copytree(FIXTURE, root)
    cfg = root / "etc" / "haproxy" / "haproxy.cfg"
    text = cfg.read_text().replace("10.20.0.100", VIP)
    text = re.sub(r"^    (log /dev/log local0|user haproxy|group haproxy|daemon)\n", "", text, flags=re.MULTILINE)
    if transparent:
        text = re.sub(rf"^(    bind {re.escape(VIP)}:\d+)$", r"\1 transparent", text, flags=re.MULTILINE)
    cfg.write_text(text)
    ka = root / "etc" / "keepalived" / "keepalived.conf"
    ka.write_text(ka.read_text().replace("10.20.0.100", VIP))
    if sysctl_extra:
        (root / SYSCTL).write_text((root / SYSCTL).read_text() + sysctl_extra)
    return root


def _start(root: Path) -> tuple[bool, str]:
    """(still running after 3 s, HAProxy's stderr) in a network namespace of its own, loopback up,
    the host's sysctl file applied."""
    script = (f"ip link set lo up && sysctl -q -p {root / SYSCTL} >/dev/null 2>&1; "
              f"exec timeout 3 {labkit.HAPROXY} -db -f haproxy.cfg")
    proc = subprocess.run(["unshare", "-n", "sh", "-c", script], cwd=root / "etc" / "haproxy", capture_output=True,
                          text=True, timeout=30)
    return proc.returncode == 124, proc.stderr


def _alert(stderr: str) -> str | None:
    """HAProxy's ALERT for the 5000 listener, without the pid: `Binding [haproxy.cfg:24] ...`."""
    m = re.search(r"\[ALERT\]\s+\(\d+\) : (Binding \[haproxy\.cfg:\d+\] for proxy primary: cannot bind socket "
                  r"\(Cannot assign requested address\) for \[[\d.]+:5000\])", stderr)
    return m.group(1) if m else None


def test_vip_without_nonlocal_bind_refuses_to_start_as_predicted(tmp_path):
    root = _host(tmp_path)
    running, stderr = _start(root)
    alert = _alert(stderr)
    [finding] = sc.findings(root, "HAP012")
    predicted = f"HAP012 {finding['severity']}"
    match = not running and alert is not None and finding["severity"] == "warning" and alert in finding["message"]
    sc.RULE_ROWS["VIP1"] = ("HAP012", f"HAProxy 2.6 bind {VIP}:5000 (keepalived VIP), node without it, "
                            "ip_nonlocal_bind not set", predicted,
                            f"exited: {alert or stderr.strip().splitlines()[-1:]}", match)
    assert not running and alert is not None, stderr
    assert "Some protocols failed to start their listeners! Exiting." in stderr
    assert finding["severity"] == "warning" and alert in finding["message"], (alert, finding["message"])


def test_nonlocal_bind_set_starts_as_predicted(tmp_path):
    root = _host(tmp_path, "net.ipv4.ip_nonlocal_bind = 1\n")
    running, stderr = _start(root)
    found = sc.findings(root, "HAP012")
    sc.RULE_ROWS["VIP2"] = ("HAP012", "the same with net.ipv4.ip_nonlocal_bind = 1 in the host's sysctl.d file",
                            "no HAP012 finding" if not found else f"HAP012 {found[0]['severity']}",
                            "started (running after 3 s)" if running else f"exited: {stderr.strip()[-200:]}",
                            running and not found)
    assert running and "cannot bind socket" not in stderr, stderr
    assert found == []


def test_transparent_bind_starts_as_predicted(tmp_path):
    root = _host(tmp_path, transparent=True)
    running, stderr = _start(root)
    found = sc.findings(root, "HAP012")
    sc.RULE_ROWS["VIP3"] = ("HAP012", "the same without the sysctl, `transparent` on the VIP binds (HAProxy as root)",
                            "no HAP012 finding" if not found else f"HAP012 {found[0]['severity']}",
                            "started (running after 3 s)" if running else f"exited: {stderr.strip()[-200:]}",
                            running and not found)
    assert running and "cannot bind socket" not in stderr, stderr
    assert found == []
