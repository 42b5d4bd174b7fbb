"""HAProxy binds a keepalived virtual IP that the host may not hold, so it cannot start there.

## What it checks
An HAProxy `bind` whose address is exactly a virtual IP (VIP) of a keepalived.conf read in the
same run (`virtual_ipaddress` or `virtual_ipaddress_excluded` of a `vrrp_instance`), without
`transparent` on the bind line, on a host that does not set `net.ipv4.ip_nonlocal_bind = 1`
(`net.ipv6.ip_nonlocal_bind` for an IPv6 VIP). A wildcard (`*:5000`, `0.0.0.0`, `::`) or loopback
bind is never reported, nor an address that is no VIP of a keepalived.conf of the run.

The host's sysctl files are those of the same machine as the haproxy.cfg: in its folder, or —
for a copy of a host's /etc — in the folder above (`etc/haproxy/haproxy.cfg` with
`etc/sysctl.d/*.conf` or `etc/sysctl.conf`). With such files read:

- a **warning** when none sets the key to a non-zero value (unset: the kernel's default 0; or
  set to 0), naming the file and line;
- nothing when the last value read is non-zero (the kernel takes 0-255; any non-zero allows it).

With no sysctl file of that host in the run: an **info** — whether the hosts set the key is
something no file shows.

A warning, not an error: HAProxy certainly refuses to start where the VIP is not held and the key
is 0, but the files read need not be all the host applies (`/etc/sysctl.conf`, an image's or a
provisioning tool's drop-in may set it), so it fails "under ordinary use given what was read".

One finding per haproxy.cfg and IP version: at the first such bind of a proxy that carries
PostgreSQL (else the first), the other binds on VIPs as related lines.

## Why it matters
keepalived holds the VIP on one node at a time (the MASTER) and moves it on failover. A socket
can bind only an address the host holds, so on the node without the VIP — the BACKUP at boot,
the old MASTER after a failover, any node whose HAProxy starts before keepalived takes the
address — HAProxy refuses to start:

```
[ALERT] Binding [haproxy.cfg:24] for proxy primary: cannot bind socket (Cannot assign requested address) for [10.20.0.100:5000]
[ALERT] [haproxy.main()] Some protocols failed to start their listeners! Exiting.
```

When the VIP then moves to that node, nothing listens on it and every connection to the VIP is
refused: the failover the setup exists for fails. `haproxy -c` says the file is valid (it binds
nothing). Verified with HAProxy 2.6.12 in a network namespace: with `ip_nonlocal_bind` 0 it exits
with this ALERT; with `sysctl -w net.ipv4.ip_nonlocal_bind=1`, or `transparent` on the bind
(as root), it starts.

## Fix
On every HAProxy host, a sysctl drop-in:

```
# /etc/sysctl.d/90-haproxy-vip.conf
net.ipv4.ip_nonlocal_bind = 1
```

(`sysctl --system` applies it now). Or add `transparent` to the bind line (HAProxy 2.6 has no
`freebind` keyword; `transparent` needs HAProxy started as root or with CAP_NET_ADMIN), or bind
the wildcard (`bind *:5000`), which every node can bind.

## References
- Linux ip-sysctl: ip_nonlocal_bind — https://docs.kernel.org/networking/ip-sysctl.html
- HAProxy configuration manual: bind transparent — https://docs.haproxy.org/2.6/configuration.html#5.1-transparent
- keepalived.conf(5): virtual_ipaddress — https://keepalived.readthedocs.io/en/latest/configuration_synopsis.html
"""

import ipaddress
import os

from advisor.findings import Severity
from advisor.model import is_known
from advisor.model.host import host_root
from advisor.rules.hap._common import haproxy_docs, is_postgres
from advisor.rules.rule import Rule

_PREFIXES = ("ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@")
_KEYS = {4: ("net.ipv4.ip_nonlocal_bind", "ip_nonlocal_bind"), 6: ("net.ipv6.ip_nonlocal_bind", "ipv6_nonlocal_bind")}


def bind_ips(address: str) -> list[tuple[str, str]]:
    """(IP, `ip:port` as written) of each address of a bind line's first word (`a:5000,b:5001`),
    for literal IP addresses only (no name, wildcard, socket, environment variable)."""
    out = []
    for part in address.split(","):
        written = part
        for prefix in _PREFIXES:
            if part.startswith(prefix):
                part = part[len(prefix):]
        if part.startswith("["):
            host = part[1:].partition("]")[0]
        else:
            host = part.rpartition(":")[0] if ":" in part else part
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            continue
        if ip.is_unspecified or ip.is_loopback:
            continue
        out.append((str(ip), written))
    return out


def check(ctx):
    vips = {}  # IP -> the first VIP of the run with it
    for doc in ctx.of_kind("keepalived"):
        for vip in doc.model.vips() if doc.model is not None else ():
            vips.setdefault(vip.address, vip)
    if not vips:
        return
    # host root -> the sysctl documents of that host, in read order (a later file wins)
    hosts: dict[str, list] = {}
    for doc in ctx.of_kind("sysctl"):
        if doc.model is not None and not doc.meta.get("_pod_of"):
            hosts.setdefault(host_root(doc.path), []).append(doc)
    for doc in haproxy_docs(ctx):
        found: dict[int, list] = {}  # IP version -> [(proxy, bind, written, vip)]
        for proxy in doc.model.proxies:
            for bind in proxy.binds:
                if bind.transparent:
                    continue
                for ip, written in bind_ips(bind.address):
                    vip = vips.get(ip)
                    if vip is not None:
                        found.setdefault(vip.version, []).append((proxy, bind, written, vip))
        sysctls = hosts.get(host_root(doc.path), [])
        for version, binds in sorted(found.items()):
            finding = _judge(doc, version, binds, sysctls)
            if finding is not None:
                yield finding


def _judge(doc, version: int, binds: list, sysctls: list):
    key, fact = _KEYS[version]
    value = None  # the last value read on this host
    for sysctl in sysctls:
        got = sysctl.model.get(fact)
        if got is not None:
            value = got
    if value is not None and (not is_known(value.value) or value.value != 0):
        return None  # allowed (non-zero), or a template's value that pgpath cannot know
    first = next((b for b in binds if is_postgres(b[0], doc.model)), binds[0])
    proxy, bind, written, vip = first
    others = [b for b in binds if b is not first]
    name = os.path.basename(doc.path)
    line = bind.span.line
    alert = (f"[ALERT] Binding [{name}:{line}] for proxy {proxy.name}: cannot bind socket (Cannot assign requested "
             f"address) for [{written}]")
    more = ""
    if others:
        lines = ", ".join(str(b[1].span.line) for b in others)
        s = "s" if len(others) > 1 else ""
        more = f" (and {len(others)} more bind{s} on VIPs, line{s} {lines}, likewise)"
    facts = (f"{proxy.label} binds {written} without `transparent`{more}; {vip.address} is the keepalived VIP of "
             f"vrrp_instance {vip.instance} ({vip.span.file}:{vip.span.line}), held by one node at a time")
    fix = (f"{key} = 1 in a sysctl.d file on every HAProxy host (e.g. /etc/sysctl.d/90-haproxy-vip.conf; "
           f"`sysctl --system` applies it), or add `transparent` to the bind line (HAProxy run as root or with "
           f"CAP_NET_ADMIN), or bind *:{bind.port or '<port>'}")
    fails = (f"on the node without the VIP (the BACKUP at boot, the old MASTER after a failover) HAProxy refuses "
             f"to start: {alert}, then 'Some protocols failed to start their listeners! Exiting.' (`haproxy -c` "
             "binds nothing and says the file is valid)")
    related = [b[1].span for b in others] + [vip.span]
    if sysctls:
        if value is not None:
            where = f"{key} = {value.raw or value.value} in {value.span.file}:{value.span.line}"
            related.append(value.span)
        else:
            files = ", ".join(os.path.basename(s.path) for s in sysctls)
            where = (f"{key} is not set in this host's sysctl file{'s' if len(sysctls) > 1 else ''} {files} (so it is "
                     "the kernel's default 0)")
            related.extend(s.model.span for s in sysctls if s.model.span is not None)
        return RULE.finding(bind.span, f"{facts}; {where}: {fails}", fix, related)
    return RULE.finding(
        bind.span,
        f"{facts}; no sysctl file of this host was read, so whether it sets {key} = 1 is not known: unless it "
        f"does, {fails}",
        fix + "; or give pgpath the host's sysctl files (etc/sysctl.d/*.conf beside etc/haproxy/) so it can tell",
        related, severity=Severity.INFO)


RULE = Rule(
    code="HAP012",
    name="haproxy-bind-vip-without-nonlocal-bind",
    severity=Severity.WARNING,
    summary="An HAProxy bind on a keepalived VIP that the node may not hold (no ip_nonlocal_bind, no transparent)",
    needs=("haproxy", "keepalived"),
    check=check,
    doc=__doc__,
)
