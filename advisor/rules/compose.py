"""What a compose service's published ports mean for who can reach it, shared by the rules that
judge a listener in a compose file (PGB017 for PgBouncer, TLS001 for PostgreSQL).

A container listens on its own network namespace: network clients reach it only through the
ports the service publishes on the host (loader: `meta["compose_exposure"]`, see
advisor.loaders.infra_yaml `_compose_exposure`). A port published without a host IP is bound
on every interface of the host, and Docker's iptables rules come before host firewalls such as
ufw.
"""

from __future__ import annotations

from advisor.model.host import loopback
from advisor.units import digits

# what a listener without TLS lets anyone on the network read (PGB017, TLS001)
UNENCRYPTED = "queries and results cross the network unencrypted"
CLEAR_PASSWORDS = "passwords cross the network in clear text"
MD5_CAPTURED = "each login's md5 exchange can be captured and its password guessed offline"


def exposure_message(kind: str, reached: str, weak: str, login: str, unless: str = "") -> str:
    """PGB017's and TLS001's message for a listener without TLS that network clients reach
    (`reached`: `listen_addr = * accepts network clients`, or the published port): no password
    asked ("open") comes first, then the unencrypted traffic; otherwise what a login exposes."""
    if kind == "open":
        return f"{reached} and {login}; and with {weak} {UNENCRYPTED}{unless}"
    return f"{weak} while {reached}: {login}"


def covers(target: str, port: str) -> bool:
    """A compose container port (`6432`, or a range `6432-6440`) covers `port`."""
    low, _, high = target.partition("-")
    if digits(port) is None or digits(low) is None:
        return False
    return digits(low) <= digits(port) <= digits(high if digits(high) is not None else low)


def published_to_network(exposure: dict, port: str) -> dict | None:
    """The first `ports:` entry that publishes container port `port` on a non-loopback host
    address ({"host_ip", "target", "text", "span"}), or None."""
    for p in exposure["published"]:
        if covers(p["target"], port) and (not p["host_ip"] or not loopback(p["host_ip"])):
            return p
    return None


def published_on(p: dict) -> str:
    """`on every interface of the host`, or `on <host ip>`."""
    if p["host_ip"] and p["host_ip"] not in ("0.0.0.0", "::"):
        return f"on {p['host_ip']}"
    return "on every interface of the host"


def publish_on_loopback(p: dict) -> str:
    """The fix that keeps a published port to this host's clients: the same entry on 127.0.0.1."""
    text = p["text"]
    if "target" in text:  # long syntax
        return "host_ip: 127.0.0.1 on that ports entry"
    parts = text.split(":")
    entry = ("127.0.0.1::" + text if len(parts) == 1 else "127.0.0.1:" + text if len(parts) == 2
                else "127.0.0.1:" + ":".join(parts[-2:]))
    return f"publish it on loopback only ('{entry}')"


def published_said(what: str, port: str, p: dict) -> str:
    return (f"compose publishes {what} port {port} {published_on(p)} (ports: '{p['text']}'; Docker's published "
            "ports are reachable past host firewalls such as ufw)")
