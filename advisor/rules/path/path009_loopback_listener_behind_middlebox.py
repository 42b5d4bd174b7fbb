"""A PgBouncer or PostgreSQL that listens on loopback only, behind a load balancer, NAT or Service.

## What it checks
On an assembled path, a middlebox (a cloud load balancer, a NAT, a Kubernetes Service, a
firewall) directly in front of a PgBouncer whose `listen_addr` names loopback addresses only
(`127.0.0.1`, `::1`, `localhost`), or of a PostgreSQL whose `listen_addresses` does, as written
(their defaults are what container images and operators change, so they are not judged).

## Why it matters
A middlebox forwards to the host's (or pod's) network address. A daemon bound to loopback never
sees those connections: the kernel answers them with a RST (`connection refused`), a load
balancer marks the target unhealthy, and every connection through it fails — before
PgBouncer or PostgreSQL logs anything.

## Fix
Listen on the address the middlebox forwards to (`listen_addr = *`, or the interface's address;
PostgreSQL `listen_addresses = '*'`), and restrict who may connect with `pg_hba.conf` / PgBouncer's
`auth_hba_file` and the network's own rules.

## References
- PgBouncer listen_addr: https://www.pgbouncer.org/config.html#listen_addr
- PostgreSQL listen_addresses: https://www.postgresql.org/docs/current/runtime-config-connection.html
"""

from advisor.catalog import value_or_default
from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.path import hop_span, related
from advisor.rules.pgb import assignment
from advisor.rules.rule import Rule, any_network_address, setting_span


def _listens(hop):
    """(the addresses as written, the setting's span or None, the fix) of a PgBouncer or
    PostgreSQL hop; None when not known."""
    if hop.doc is None:
        return None
    if hop.kind == "pgbouncer":
        model = hop.doc.model
        value = model.value("listen_addr")
        if not is_known(value) or model.is_default("listen_addr"):
            return None  # (an image or operator may write its own: only a written value is judged)
        return (f"listen_addr = {value}", model.span_of("listen_addr"),
                assignment(hop.doc, model, "listen_addr", "*"))
    if hop.kind == "postgres":
        value, setting = value_or_default(hop.doc, "listen_addresses")
        if not is_known(value) or value is None or setting is None:
            return None  # (the default, localhost, is what images and operators change: not judged)
        return f"listen_addresses = '{value}'", setting_span(setting), "listen_addresses = '*'"
    return None


def check(ctx):
    for path in ctx.paths:
        for i, hop in enumerate(path.hops[:-1]):
            if hop.kind in ("client", "pgbouncer", "haproxy", "postgres") or hop.doc is None and not hop.declared:
                continue
            nxt = path.hops[i + 1]
            found = _listens(nxt)
            if found is None:
                continue
            written, span, fix = found
            addresses = written.split("=", 1)[1].split("(")[0].strip().strip("'")
            if not addresses or any_network_address(addresses):
                continue
            yield RULE.finding(
                span or hop_span(nxt),
                f"{nxt.label}: {written} accepts connections on loopback only, and {hop.label} in front of it "
                f"forwards to its network address: every connection through it is refused (connection refused; a "
                f"load balancer marks the target unhealthy)",
                fix + " (pg_hba.conf / auth_hba_file and the network's rules then say who may connect)",
                related=related(path, span) if span is not None else related(path),
            )


RULE = Rule(
    code="PATH009",
    name="loopback-listener-behind-middlebox",
    severity=Severity.ERROR,
    summary="A PgBouncer or PostgreSQL listening on loopback only behind a load balancer, NAT or Service",
    needs=("path",),
    check=check,
    doc=__doc__,
)
