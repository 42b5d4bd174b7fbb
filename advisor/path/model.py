"""What an assembled connection path is made of: hops, legs, keepalive plans and idle timers.

- A **hop** is one thing a connection passes through, in order from the client: the client, a
  PgBouncer (with the `[databases]` entry used), an HAProxy route (frontend + backend, or a listen),
  a middlebox (cloud LB, NAT, firewall, Kubernetes Service), the PostgreSQL server.
- A **leg** is one TCP connection between two hops that end TCP (client, PgBouncer, HAProxy,
  PostgreSQL, and proxies that terminate TCP such as RDS Proxy or a Classic ELB). The middleboxes
  between them are on that leg: their flow tables see every packet of it, keepalive probes included.
- A **keepalive plan** is what one end of a leg does about TCP keepalives: on or off, and after
  how many seconds of silence it sends the first probe (its own setting, else its host's sysctl,
  else Linux's 7200 s).
- A **timer** is something that closes an idle connection: either a flow table reset by any
  packet (`resets_on="packets"`: defeated when a keepalive on that leg probes more often), or an
  application-level idle timeout reset only by real traffic (`resets_on="traffic"`: HAProxy
  `timeout client/server/tunnel`, PgBouncer `client_idle_timeout`, `idle_session_timeout`, RDS
  Proxy `IdleClientTimeout`), which keepalives never reset.
"""

from __future__ import annotations

import math
from typing import Any

from advisor.model import ConfigDoc, Record, Span, Unknown, pg_version_of

ENDPOINT_KINDS = ("client", "pgbouncer", "haproxy", "postgres")


class Hop(Record):
    """One hop of a path. `detail` is what the hop is inside its file: a ClientEndpoint, a
    PgBouncer `[databases]` Entry (or None for the fallback), an HAProxy Route, a Middlebox, or
    None for PostgreSQL. `declared` is True when the topology names the hop without a file."""

    __slots__ = ("kind", "label", "doc", "span", "detail", "declared", "host", "replicas", "sql", "replicas_from",
                 "replicas_unknown", "next_hop", "run_by")

    def __init__(self, kind: str, label: str, doc: ConfigDoc | None = None, span: Span | None = None,
                 detail: Any = None, declared: bool = False, host: Any = None, replicas: int = 1,
                 sql: list[ConfigDoc] | None = None, replicas_from: tuple[str, Span] | None = None,
                 replicas_unknown: tuple[str, Span] | None = None) -> None:
        self.kind = kind
        self.label = label
        self.doc = doc
        self.span = span
        self.detail = detail
        self.declared = declared
        self.host = host  # advisor.model.host.HostFacts, when known
        self.replicas = replicas  # copies of a client that run (topology `replicas:`, else its workload's pods)
        # where `replicas` was read when a file says it (`replicas: 15 of Deployment api`, its span);
        # None when declared in pgpath.yaml or 1 by default
        self.replicas_from = replicas_from
        # where a file gives a count pgpath cannot know (a template or shell variable, two values
        # docker compose refuses): the client then counts once, and the rules that count say so
        self.replicas_unknown = replicas_unknown
        self.sql = [] if sql is None else sql  # PostgreSQL: `sql` documents (ALTER ROLE/DATABASE ... SET) of this server
        # a proxy's or pooler's next hop that names something no file read is: {"found": False,
        # "addresses": [host:port, ...], "why": text} (advisor.path.discover), else None
        self.next_hop: dict[str, Any] | None = None
        # a client run by a compose service built from its application's root
        # (advisor.loaders.clients.rails_build): {"service": its name when several services run the
        # same client, each a hop of its own, else "", "said": what says so, "pool": the pool each
        # container opens, "note": what to say of its size}; None elsewhere
        self.run_by: dict[str, Any] | None = None

    @property
    def file(self) -> str | None:
        return self.doc.path if self.doc is not None else None

    @property
    def ends_tcp(self) -> bool:
        """True for hops that terminate TCP (the ends of legs)."""
        if self.kind in ENDPOINT_KINDS:
            return True
        return self.detail is not None and self.detail.keepalive_resets is False  # RDS Proxy, ALB, CLB

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "label": self.label, "file": self.file, "declared": self.declared}
        if self.span is not None:
            out["span"] = self.span.to_dict()
        version = self.pg_version()
        if version is not None:
            out["pg_version"] = version
        if self.next_hop is not None:
            out["next_hop"] = dict(self.next_hop)
        return out

    def pg_version(self) -> dict[str, Any] | None:
        """{major, source, reason} of this hop's file (advisor.model.pg_version_of), or None."""
        return pg_version_of(self.doc) if self.doc is not None else None


def client_hop(doc: ConfigDoc, ep: Any, run_by: dict[str, Any] | None = None) -> Hop:
    """The hop of a client endpoint of `doc`. A client in a Kubernetes container or a docker
    compose service (the loader's meta["_endpoint_hosts"] and meta["_endpoint_workloads"]) has its
    pod's host facts and runs once in each of the workload's pods or the service's containers:
    `replicas` of a Deployment, StatefulSet or ReplicaSet, the `maxReplicas` of a
    HorizontalPodAutoscaler that scales it (the most connections the clients open), a compose
    service's `deploy.replicas` or `scale`; unknown counts (a template value, a DaemonSet, a shell
    variable) leave 1, and `replicas_unknown` says where. pgpath.yaml's `replicas:` on the hop wins
    (advisor.path.topology). `run_by`: one of the compose services that run the client
    (doc.meta["_run_by"], advisor.loaders.clients.rails_build), whose containers the hop counts; the
    hop's label names it when several do."""
    hop = Hop("client", ep.label(), doc, ep.span, ep, host=doc.meta.get("_endpoint_hosts", {}).get(id(ep)))
    hop.run_by = run_by
    if run_by is not None and run_by["service"]:
        hop.label = f"{run_by['service']}: {hop.label}"
    w = run_by["workload"] if run_by is not None and run_by["workload"] is not None else \
        doc.meta.get("_endpoint_workloads", {}).get(id(ep))
    found = w["replicas"] if w is not None else None
    if found is None:
        return hop
    count = found.get("count")
    if isinstance(count, int) and count <= 1:
        return hop
    raw = str(found["raw"])
    said = f"{found.get('variable', 'replicas')}: {raw}"
    said += f", which scales {w['kind']} {w['name']}" if " of " in raw else f" of {w['kind']} {w['name']}"
    if found.get("why"):
        said += f", {found['why']}"
    if isinstance(count, int):
        hop.replicas = count
        hop.replicas_from = (said, Span(**found["span"]))
    else:
        hop.replicas_unknown = (said, Span(**found["span"]))
    return hop


class KeepalivePlan(Record):
    """What one end of a leg does about TCP keepalives.

    `enabled` True/False, or None when unknown; `idle` seconds of silence before the first probe
    (None when unknown); `text` says where it comes from, as written (`keepalives_idle=30`,
    `tcp_keepidle = 0 (OS default 7200 s)`); `span` points at the setting when one was written."""

    __slots__ = ("hop", "enabled", "idle", "text", "span", "origin", "interval")

    def __init__(self, hop: int, enabled: bool | None, idle: float | None, text: str, span: Span | None = None,
                 origin: str = "set", interval: float | None = None) -> None:
        self.hop = hop
        self.enabled = enabled
        self.idle = idle
        self.text = text
        self.span = span
        self.origin = origin  # set | default | os-default | host | invalid (a value the software refuses)
        self.interval = interval  # seconds between probes (TCP_KEEPINTVL); None: unknown

    @property
    def probes_every(self) -> float | None:
        """The longest silence this end allows on a quiet leg, or None when it sends no probes.

        Linux sends the first probe after `idle` seconds without data; its keepalive timer then
        fires again `interval` later and probes whenever `idle` seconds have passed since the last
        packet received (the answer to the previous probe). So an answered probe is followed by
        the next one after max(idle, interval): with idle 1 s and interval 10 s the leg is silent
        for 10 s (measured in the lab, rows N8 and N11)."""
        if not self.enabled or self.idle is None or isinstance(self.idle, Unknown):
            return None
        if self.interval is None or isinstance(self.interval, Unknown):
            return float(self.idle)
        return float(max(self.idle, self.interval))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"hop": self.hop, "enabled": self.enabled, "idle_s": self.idle,
                               "interval_s": self.interval, "by": self.text, "origin": self.origin}
        if self.span is not None:
            out["span"] = self.span.to_dict()
        return out


class Leg(Record):
    """One TCP connection between hops `a` and `b` (indexes into the path's hops), with the
    middleboxes it crosses and both ends' keepalive plans.

    A leg with one end off the path has `a == b` and says which end is missing in `open_end`:
    "client" when middleboxes sit in front of the first hop and no client file was read (the
    clients' keepalives are unknown), "server" when they sit after the last hop."""

    __slots__ = ("a", "b", "middleboxes", "ends", "open_end", "socket", "tls")

    def __init__(self, a: int, b: int, middleboxes: list[int] | None = None,
                 ends: list[KeepalivePlan] | None = None, open_end: str | None = None,
                 socket: str | None = None) -> None:
        self.a = a
        self.b = b
        self.middleboxes = [] if middleboxes is None else middleboxes
        self.ends = [] if ends is None else ends
        self.open_end = open_end
        self.socket = socket  # the Unix socket directory it connects through: no TCP, no keepalives
        # where TLS ends on it, said when an HAProxy terminates or originates TLS (advisor.path.tls);
        # "" elsewhere
        self.tls = ""

    def labels(self, hops: list) -> tuple[str, str]:
        """The two ends' labels, the missing one named for what it is."""
        if self.open_end == "client":
            return "clients (not read)", hops[self.b].label
        if self.open_end == "server":
            return hops[self.a].label, "(next hop)"
        return hops[self.a].label, hops[self.b].label

    def keepalive(self) -> KeepalivePlan | None:
        """The end whose probes keep the leg busiest (probes from either end refresh a flow), or None."""
        best = None
        for end in self.ends:
            if end.probes_every is not None and (best is None or end.probes_every < best.probes_every):
                best = end
        return best

    def to_dict(self) -> dict[str, Any]:
        best = self.keepalive()
        out = {"from": self.a, "to": self.b, "middleboxes": list(self.middleboxes),
                "ends": [e.to_dict() for e in self.ends],
                "keepalive": {"idle_s": best.idle if best else None,
                              "silent_at_most_s": best.probes_every if best else None,
                              "by": best.text if best else "no keepalive probes on this leg"}}
        if self.open_end:
            out["open_end"] = self.open_end
        if self.socket:
            out["socket"] = self.socket
        if self.tls:
            out["tls"] = self.tls
        return out


class Timer(Record):
    """Something that closes an idle connection on the path.

    `seconds` (None = unknown, e.g. a template placeholder); `resets_on` "packets" or "traffic";
    `closes_client` False when a pooler between the client and this timer reconnects on its own
    (the application never sees it); `defeated` True when keepalive probes on its leg refresh it
    before it fires, or the client pool's keepalive queries do (`kept_by` says which); `effect`
    says what the client sees; `expiry` what the next packet of an expired flow meets ("close",
    "rst", "drop"); `notifies` True when the client's end learns of the close as it happens (a FIN or RST sent at expiry: every traffic-reset timer, a
    proxy that closes both sides, an Azure Load Balancer with TCP reset), False when only its next
    packet does (an NLB's RST, a silent drop): a pool that listens for the close of an idle
    connection (node-postgres' pg-pool) then drops it instead of lending it."""

    __slots__ = ("hop", "leg", "name", "seconds", "resets_on", "closes_client", "defeated", "effect", "span", "note",
                 "notifies", "kept_by", "expiry")

    def __init__(self, hop: int, leg: int | None, name: str, seconds: float | None, resets_on: str,
                 closes_client: bool, effect: str, span: Span | None = None, defeated: bool = False,
                 note: str = "", notifies: bool | None = None, kept_by: str = "", expiry: str = "close") -> None:
        self.notifies = resets_on == "traffic" if notifies is None else notifies
        # what defeats it: "keepalive probes", or "pool keepalive" (HikariCP's keepalive queries
        # on idle pooled connections: real traffic, which spares no connection the application holds)
        self.kept_by = kept_by
        # what an expired flow does to the next packet: "close" (closed as it expires), "rst", "drop"
        self.expiry = expiry
        self.hop = hop
        self.leg = leg
        self.name = name
        self.seconds = seconds
        self.resets_on = resets_on
        self.closes_client = closes_client
        self.defeated = defeated
        self.effect = effect
        self.span = span
        self.note = note

    @property
    def fires(self) -> bool:
        """True when this timer ends an idle client connection after `seconds`."""
        return self.closes_client and not self.defeated and self.seconds is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"hop": self.hop, "leg": self.leg, "name": self.name, "seconds": self.seconds,
                               "resets_on": self.resets_on, "closes_client": self.closes_client,
                               "defeated_by_keepalive": self.defeated, "effect": self.effect,
                               "notifies": self.notifies}
        if self.kept_by:
            out["kept_by"] = self.kept_by
        if self.note:
            out["note"] = self.note
        if self.span is not None:
            out["span"] = self.span.to_dict()
        return out


class DeploymentPath(Record):
    """One assembled path from a client (or the first hop known) to PostgreSQL."""

    __slots__ = ("name", "source", "evidence", "hops", "legs", "timers")

    def __init__(self, name: str, source: str, evidence: list[str], hops: list[Hop],
                 legs: list[Leg] | None = None, timers: list[Timer] | None = None) -> None:
        self.name = name
        self.source = source  # "topology" or "discovered"
        self.evidence = evidence
        self.hops = hops
        self.legs = [] if legs is None else legs
        self.timers = [] if timers is None else timers

    def docs(self) -> list[ConfigDoc]:
        out: list[ConfigDoc] = []
        for hop in self.hops:
            if hop.doc is not None and all(hop.doc is not d for d in out):
                out.append(hop.doc)
        return out

    def hops_of(self, kind: str) -> list[tuple[int, Hop]]:
        return [(i, h) for i, h in enumerate(self.hops) if h.kind == kind]

    def first_close(self) -> Timer | None:
        """The timer that ends an idle client connection first, or None when none does."""
        firing = [t for t in self.timers if t.fires]
        return min(firing, key=lambda t: (t.seconds, t.hop)) if firing else None

    @property
    def label(self) -> str:
        return " -> ".join(h.label for h in self.hops)

    def to_dict(self) -> dict[str, Any]:
        first = self.first_close()
        seconds = first.seconds if first is not None else None
        if seconds is not None and (isinstance(seconds, float) and math.isinf(seconds)):
            seconds = None
        return {
            "name": self.name, "source": self.source, "evidence": list(self.evidence),
            "hops": [h.to_dict() for h in self.hops],
            "legs": [leg.to_dict() for leg in self.legs],
            "idle": {"timers": [t.to_dict() for t in self.timers], "closes_after_s": seconds,
                     "closed_by": {"hop": first.hop, "timer": first.name} if first is not None else None},
        }
