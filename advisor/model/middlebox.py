"""Middleboxes: what sits on a TCP connection between two endpoints and can end it for idleness.

A cloud load balancer, NAT gateway, firewall or Kubernetes Service (conntrack) keeps a flow
table; an entry idle longer than its timer is dropped. Two kinds of timer matter:

- a **packet-reset** timer (`keepalive_resets=True`): any packet of the flow, a TCP keepalive
  probe included, restarts it (AWS NLB, NAT gateway, Azure LB, conntrack). Keepalives shorter
  than the timer, from either end of the leg, keep the flow alive;
- a **traffic-reset** timer (`keepalive_resets=False`): only payload restarts it (AWS Classic ELB,
  ALB, RDS Proxy's client idle timeout). Only real queries, or a pool that retires or validates
  connections first, help.

`on_expiry` says what an endpoint sees afterwards: `rst` (the next packet draws a reset:
ECONNRESET at once), `drop` (silence: the next query hangs until a keepalive, TCP_USER_TIMEOUT
or ~15 min of retransmissions gives up), `close` (a proxy closes both sides: EOF) or `rehash`
(Google's passthrough load balancers: the next packet of a flow whose tracking entry expired is
sent through backend selection again, by consistent hashing, so it reaches the same backend while
the backends and their health are unchanged: the connection continues; only a change of the
backend set in the meantime can send it elsewhere).

Facts and sources: ../shared/reference/connection-timeouts.md §0 and §5 (cited per kind below).
Loaders for cloud JSON, Terraform and Kubernetes fill `Middlebox` objects; the path places them
on legs; a topology can also declare one by kind alone, which takes the documented default.
"""

from __future__ import annotations

from typing import Any

from advisor import lazy_re
from advisor.model import Record, Span
from advisor.model.client import Value

# AWS writes an RDS Proxy's endpoint as <proxy name>.proxy-<id>.<region>.rds.amazonaws.com(.cn)
_RDS_PROXY_ENDPOINT = lazy_re.compile(r"^([a-z][a-z0-9-]*)\.proxy-[a-z0-9]+\.[a-z0-9-]+\.rds\.amazonaws\.com(\.cn)?$")


def rds_proxy_name(host: str) -> str | None:
    """The name of the RDS Proxy whose endpoint `host` is, or None for any other host."""
    m = _RDS_PROXY_ENDPOINT.match(host.lower())
    return m.group(1) if m else None


# and an instance's (or Aurora cluster's) endpoint as <identifier>.<id>.<region>.rds.amazonaws.com,
# a cluster's as <cluster>.cluster-<id>..., its reader <cluster>.cluster-ro-<id>..., a custom one
# <name>.cluster-custom-<id>... (the last names an endpoint, not a cluster: not matched)
_RDS_ENDPOINT = lazy_re.compile(r"^([a-z][a-z0-9-]*)\.(?:cluster-(?:ro-)?)?[a-z0-9]+\.[a-z0-9-]+"
                                r"\.rds\.amazonaws\.com(\.cn)?$")


def rds_identifier(host: str) -> str | None:
    """The DB instance or Aurora cluster identifier whose endpoint `host` is, or None for any
    other host (an RDS Proxy's endpoint included)."""
    host = host.lower()
    if rds_proxy_name(host) is not None or ".cluster-custom-" in host:
        return None
    m = _RDS_ENDPOINT.match(host)
    return m.group(1) if m else None


# and the DNS name Elastic Load Balancing gives a load balancer: a Network Load Balancer's is
# <name>-<id>.elb.<region>.amazonaws.com (my-load-balancer-1234567890abcdef.elb.us-east-2...), an
# Application or Classic Load Balancer's <name>-<id>.<region>.elb.amazonaws.com; an internal ALB or
# CLB's begins with internal- (a load balancer's name may not), a Classic one's IPv6 forms with
# dualstack. or ipv6.; China's regions end in .amazonaws.com.cn
_ELB_NLB = lazy_re.compile(r"^(?:(?:dualstack|ipv6)\.)?(?:internal-)?([a-z0-9][a-z0-9-]*)-([0-9a-f]+)"
                           r"\.elb\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
_ELB_OTHER = lazy_re.compile(r"^(?:(?:dualstack|ipv6)\.)?(?:internal-)?([a-z0-9][a-z0-9-]*)-([0-9a-f]+)"
                             r"\.([a-z0-9-]+)\.elb\.amazonaws\.com(?:\.cn)?$")


def elb_dns_name(host: str) -> tuple[str, str, str] | None:
    """(load balancer name, region, "network" or "application/classic") of the DNS name AWS gives a
    load balancer, or None for any other host. The name is the part before the last `-<id>`."""
    host = host.strip().lower().rstrip(".")
    m = _ELB_NLB.match(host)
    if m:
        return m.group(1), m.group(3), "network"
    m = _ELB_OTHER.match(host)
    if m:
        return m.group(1), m.group(3), "application/classic"
    return None


class MiddleboxKind(Record):
    """The documented behaviour of one kind of middlebox."""

    __slots__ = ("kind", "label", "default_idle", "keepalive_resets", "on_expiry", "configurable", "source")

    def __init__(self, kind: str, label: str, default_idle: float | None, keepalive_resets: bool | None,
                 on_expiry: str, configurable: str, source: str) -> None:
        self.kind = kind
        self.label = label
        self.default_idle = default_idle  # seconds; None = no documented default (must be declared)
        self.keepalive_resets = keepalive_resets  # None = not documented
        self.on_expiry = on_expiry
        self.configurable = configurable
        self.source = source


KINDS: dict[str, MiddleboxKind] = {k.kind: k for k in (
    MiddleboxKind("aws-nlb", "AWS NLB", 350, True, "rst", "60-6000 s (listener tcp.idle_timeout.seconds)",
                  "AWS ELB docs, network/update-idle-timeout"),
    MiddleboxKind("aws-alb", "AWS ALB", 60, False, "close", "1-4000 s (idle_timeout.timeout_seconds)",
                  "AWS ELB docs, application load balancer attributes"),
    MiddleboxKind("aws-elb", "AWS Classic ELB", 60, False, "close", "1-3600 s (ConnectionSettings.IdleTimeout)",
                  "AWS ELB docs, classic/config-idle-timeout (probes carry no payload and do not count)"),
    MiddleboxKind("aws-nat", "AWS NAT gateway", 350, True, "rst", "fixed",
                  "AWS VPC docs, nat-gateway-troubleshooting (use keepalives < 350 s)"),
    MiddleboxKind("aws-network-firewall", "AWS Network Firewall", 350, True, "drop",
                  "60-6000 s (TcpIdleTimeoutSeconds)", "AWS Network Firewall API, FlowTimeouts"),
    MiddleboxKind("aws-rds-proxy", "AWS RDS Proxy", 1800, False, "close", "1-28800 s (IdleClientTimeout)",
                  "RDS API (botocore): IdleClientTimeout; whether keepalives count is not documented, so only "
                  "traffic is assumed to reset it"),
    MiddleboxKind("azure-lb", "Azure Load Balancer", 240, True, "drop",
                  "4-100 min (idleTimeoutInMinutes); enableTcpReset sends RST on expiry",
                  "Azure docs, load-balancer-tcp-idle-timeout and load-balancer-tcp-reset"),
    MiddleboxKind("azure-nat", "Azure NAT gateway", 240, True, "drop", "4-120 min (idleTimeoutInMinutes)",
                  "Azure docs, nat-gateway-resource (timers)"),
    MiddleboxKind("gcp-cloud-nat", "GCP Cloud NAT", 1200, True, "drop", "tcpEstablishedIdleTimeoutSec",
                  "Compute API RouterNat.tcpEstablishedIdleTimeoutSec (default 1200 s); that keepalives "
                  "reset it is assumed as for every conntrack-based NAT (not stated by Google)"),
    # Google Cloud, "Traffic distribution for internal passthrough Network Load Balancers" (and the
    # same section for external ones), Backend selection and connection tracking: a non-SYN packet
    # that matches no connection tracking entry continues to "Identify eligible backends" and a
    # backend is chosen by consistent hashing, as for a new connection; Compute API
    # BackendServiceConnectionTrackingPolicy.idleTimeoutSec: internal passthrough 600 s (minimum and
    # default) to 16 h, settable only below 5-tuple tracking (CLIENT_IP_NO_DESTINATION, CLIENT_IP,
    # CLIENT_IP_PROTO with PER_SESSION); external passthrough 60 s, not publicly settable;
    # connectionPersistenceOnUnhealthyBackends DEFAULT_FOR_PROTOCOL keeps TCP connections (with an
    # entry) on a backend that becomes unhealthy. So the expiry alone ends no connection.
    MiddleboxKind("gcp-lb", "GCP passthrough load balancer", 600, True, "rehash",
                  "connectionTrackingPolicy.idleTimeoutSec (internal: 600 s default, settable 600 s-16 h below 5-tuple "
                  "tracking only; external: 60 s)",
                  "Google Cloud docs, passthrough Network Load Balancer traffic distribution (backend selection and "
                  "connection tracking); Compute API BackendServiceConnectionTrackingPolicy"),
    # A proxy Network Load Balancer (classic TCP/SSL proxy, global or regional external or internal
    # proxy NLB) ends the client's TCP connection and opens its own to the backend. Compute API
    # BackendService.timeoutSec: "has a different meaning depending on the type of load balancer",
    # default 30 s, 1-2147483647 s. That for a TCP/SSL proxy it closes connections with no data for
    # that long (a query running past it included) is from users' reports, Google's own page on it
    # not being stored here: dbeaver/dbeaver#6080 (a query through a GCP TCP load balancer cut at
    # exactly 30 s; a longer timeout fixed it), poseidon/typhoon#361 (kubectl port-forward closed
    # after the timeout; raised to 5 min), gravitational/teleport#52312 (the default 30 s drops
    # agents whose keepalive interval is 300 s), cockroachdb/docs#2687. A proxy answers the probes
    # of TCP keepalives itself: whether they count is not documented, so only traffic is assumed to
    # reset it (as for RDS Proxy).
    MiddleboxKind("gcp-proxy-lb", "GCP proxy Network Load Balancer", 30, False, "close",
                  "backend service timeoutSec, 1-2147483647 s (default 30)",
                  "Compute API BackendService.timeoutSec (default 30 s, meaning per load balancer type); its "
                  "idle-close behaviour for TCP/SSL proxies from users' reports (dbeaver#6080, typhoon#361, "
                  "teleport#52312), not a Google page; whether keepalives count is not documented, so only "
                  "traffic is assumed to reset it"),
    MiddleboxKind("k8s-service", "Kubernetes Service (kube-proxy conntrack)", 86400, True, "drop",
                  "kube-proxy conntrack.tcpEstablishedTimeout",
                  "kube-proxy configuration: conntrack tcpEstablishedTimeout default 24h"),
    MiddleboxKind("cloud-lb", "cloud load balancer of Service", None, True, "drop",
                  "the cloud's; pgpath does not know which cloud (no annotation names it)",
                  "a Kubernetes Service of type LoadBalancer gets its cloud's load balancer: on AKS an Azure LB "
                  "(4 min, TCP reset on), AWS NLB (350 s) or Classic ELB (60 s, traffic only), GCP passthrough LB; "
                  "on bare metal (MetalLB) none. Declared only with the file: of its manifest"),
    MiddleboxKind("firewall", "firewall", None, True, "drop", "declared idle timeout",
                  "a stateful firewall's flow table (declare its idle timeout)"),
)}


# what the load balancer a Kubernetes Service of type LoadBalancer gets does with an idle flow, per
# cloud (../shared/reference/connection-timeouts.md §5; AKS: cloud-provider-azure enables TCP reset
# on Standard load balancer rules unless azure-load-balancer-disable-tcp-reset is "true")
CLOUD_LB_TIMERS = "an Azure LB (AKS) resets a flow idle 4 min, an AWS NLB one idle 350 s"
CLOUD_LB_SHORTEST = 240.0  # Azure Load Balancer's default idleTimeoutInMinutes, 4
CLOUD_LB_CLASSIC = "an AWS Classic ELB (the in-tree default) closes it after 60 s whatever the keepalives"


class Middlebox(Record):
    """One middlebox on a leg: its idle timer and what happens when it fires.

    `idle_timeout` is a `Value` in seconds (origin `set` from a file, `default` from the kind's
    documented default, `declared` from the topology); its value may be `Unknown` (a Terraform
    variable without default, a value known only after apply, one the provider refuses).
    `facts` keeps kind-specific settings other rules read (`require_tls`, `enable_tcp_reset`,
    `listener_port`, ...; the list per kind is in docs/cloud.md), each a `Value`.
    `listens` are the host:port strings clients use to reach it, `targets` those it forwards to
    (for discovery), both as written.
    `aliases` are the other names a topology's `name:` may give it: a Terraform resource is named
    by its address (`azurerm_lb_rule.pg`) and by its own `name` attribute (`"postgres"`), whichever
    of the two `name` is; an ARM rule by its own name beside `<load balancer>/<rule>`.
    """

    __slots__ = ("kind", "name", "span", "idle_timeout", "keepalive_resets", "on_expiry", "facts", "listens",
                 "targets", "aliases")

    def __init__(self, kind: str, name: str, span: Span, idle_timeout: Value | None = None,
                 keepalive_resets: bool | None = None, on_expiry: str | None = None,
                 facts: dict[str, Value] | None = None, listens: list[str] | None = None,
                 targets: list[str] | None = None, aliases: tuple[str, ...] = ()) -> None:
        spec = KINDS[kind]
        self.kind = kind
        self.name = name
        self.span = span
        self.idle_timeout = idle_timeout if idle_timeout is not None else Value(spec.default_idle, origin="default",
                                                                                 unit="s")
        self.keepalive_resets = spec.keepalive_resets if keepalive_resets is None else keepalive_resets
        self.on_expiry = on_expiry or spec.on_expiry
        self.facts = {} if facts is None else facts
        self.listens = [] if listens is None else listens
        self.targets = [] if targets is None else targets
        self.aliases = tuple(a for a in dict.fromkeys(aliases) if a and a != name)

    def named(self, name: str) -> bool:
        """Whether a topology's `name:` means this middlebox: its name or one of its aliases."""
        return name == self.name or name in self.aliases

    @property
    def label(self) -> str:
        return f"{KINDS[self.kind].label} {self.name}".strip()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "span": self.span.to_dict(),
                               "idle_timeout": self.idle_timeout.to_dict(),
                               "keepalive_resets": self.keepalive_resets, "on_expiry": self.on_expiry}
        if self.facts:
            out["facts"] = {k: v.to_dict() for k, v in self.facts.items()}
        if self.listens:
            out["listens"] = list(self.listens)
        if self.targets:
            out["targets"] = list(self.targets)
        if self.aliases:
            out["aliases"] = list(self.aliases)
        return out


class MiddleboxFile(Record):
    """The model of a file that describes middleboxes (cloud JSON, Terraform, Kubernetes)."""

    __slots__ = ("format", "middleboxes")

    def __init__(self, format: str, middleboxes: list[Middlebox] | None = None) -> None:
        self.format = format
        self.middleboxes = [] if middleboxes is None else middleboxes

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "middleboxes": [m.to_dict() for m in self.middleboxes]}
