"""PgBouncer accepts clients without TLS on a network-facing listener.

## What it checks
`client_tls_sslmode` weaker than `require` (`disable`, the default, `allow` or `prefer`)
while `listen_addr` is not loopback-only (`*`, `0.0.0.0`, `::` or any non-loopback address).
With `listen_addr` empty PgBouncer listens on its Unix socket only and nothing is reported.

A PgBouncer container of a compose file (edoburu/pgbouncer, bitnami/pgbouncer) listens on
`0.0.0.0` inside its container: network clients reach it only through the ports the service
publishes on the host. With none published (or all on `127.0.0.1`), its clients are containers
of the same host and nothing is reported; with a port published on every interface (`6432:6432`,
no host IP) the finding names the `ports:` entry, since Docker's published ports are reachable
from the network even past a host firewall such as ufw.

## Why it matters
Clients then send passwords (or md5/SCRAM exchanges) and all query traffic in clear text across
the network; with `allow`/`prefer` a client that asks for TLS gets it, but nothing forces clients
(or an attacker in the middle) to ask.

## Fix
`client_tls_sslmode = require` (or `verify-ca`/`verify-full` to demand client certificates),
with `client_tls_key_file` and `client_tls_cert_file`; or listen on loopback only (in compose:
publish the port on loopback, `127.0.0.1:6432:6432`).

## Example
```yaml
services:
  pgbouncer:
    image: edoburu/pgbouncer:v1.25.1-p0
    environment:
      - DATABASE_URL=postgres://app@postgres:5432/app
      - LISTEN_PORT=6432
    ports:
      - "6432:6432"        # published on every interface of the host, no TLS
```

## References
- PgBouncer: client_tls_sslmode — https://www.pgbouncer.org/config.html#client_tls_sslmode
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.pgb import bouncers, is_loopback, source, where
from advisor.rules.rule import Rule

WEAK = ("disable", "allow", "prefer")


def check(ctx):
    for doc, model in bouncers(ctx):
        mode, addr = model.value("client_tls_sslmode"), model.value("listen_addr")
        if not is_known(mode) or not is_known(addr) or mode not in WEAK:
            continue
        addrs = [a.strip() for a in addr.split(",") if a.strip()]
        public = [a for a in addrs if not is_loopback(a)]
        if not public:
            continue
        exposure = doc.meta.get("compose_exposure")
        if exposure is not None and exposure["network_mode"] != "host":
            finding = _published(doc, model, exposure)
            if finding is not None:
                yield finding
            continue
        yield RULE.finding(
            where(doc, model, "client_tls_sslmode"),
            f"{source(model, 'client_tls_sslmode')} while listen_addr = {addr} accepts network clients: "
            "passwords and queries can cross the network unencrypted",
            "client_tls_sslmode = require (with client_tls_key_file and client_tls_cert_file)",
            [where(doc, model, "listen_addr")],
        )


def _published(doc, model, exposure):
    """A compose PgBouncer is reached from the network only through a port published on a
    non-loopback host address."""
    port = str(model.value("listen_port"))
    exposed = [p for p in exposure["published"] if _covers(p["target"], port)
               and (not p["host_ip"] or not is_loopback(p["host_ip"]))]
    if not exposed:
        return None
    p = exposed[0]
    on = f"on {p['host_ip']}" if p["host_ip"] and p["host_ip"] not in ("0.0.0.0", "::") else "on every interface of the host"
    text = p["text"]
    parts = text.split(":")
    loopback = ("127.0.0.1::" + text if len(parts) == 1 else "127.0.0.1:" + text if len(parts) == 2
                else "127.0.0.1:" + ":".join(parts[-2:]))
    env = "PGBOUNCER_" if doc.meta.get("generated_by") == "bitnami/pgbouncer" else ""
    tls = (f"{env}CLIENT_TLS_SSLMODE=require (with {env}CLIENT_TLS_KEY_FILE and {env}CLIENT_TLS_CERT_FILE) in "
           "its environment")
    publish = ("host_ip: 127.0.0.1 on that ports entry" if "target" in text  # long syntax
               else f"publish it on loopback only ('{loopback}')")
    fix = f"{publish} if only this host's clients connect; otherwise {tls}"
    return RULE.finding(
        p["span"],
        f"{source(model, 'client_tls_sslmode')} while compose publishes PgBouncer's port {port} {on} "
        f"(ports: '{text}'; Docker's published ports are reachable past host firewalls such as ufw): "
        "passwords and queries can cross the network unencrypted",
        fix,
        tuple(dict.fromkeys((where(doc, model, "client_tls_sslmode"), where(doc, model, "listen_addr")))),
    )


def _covers(target: str, port: str) -> bool:
    """A compose container port (`6432`, or a range `6432-6440`) covers `port`."""
    low, _, high = target.partition("-")
    if not port.isdigit() or not low.isdigit():
        return False
    return int(low) <= int(port) <= int(high if high.isdigit() else low)


RULE = Rule(
    code="PGB017",
    name="pgbouncer-client-tls-not-required",
    severity=Severity.WARNING,
    summary="client_tls_sslmode weaker than require on a non-loopback listen_addr",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
