"""What a rule is: metadata, its documentation, and a function that yields findings.

A rule module defines `RULE = Rule(...)` and a `check(ctx)` generator. The docstring of the
module is the rule's documentation, with the sections *What it checks*, *Why it matters*,
*Fix* and *References*; *Example* is generated from the rule's fixture folder
(`tests/rules/<CODE>/`), so the documented examples are tested.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from advisor.findings import Finding, Severity
from advisor.model import ConfigDoc, Diagnostic, Record, Setting, Span
from advisor.model.host import loopback


class Rule(Record):
    __slots__ = ("code", "name", "severity", "summary", "needs", "check", "doc", "security", "opt_in")

    def __init__(self, code: str, name: str, severity: Severity, summary: str, needs: tuple[str, ...],
                 check: Callable[["Context"], Iterable[Finding]], doc: str = "", security: bool = False,
                 opt_in: bool = False) -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.summary = summary
        self.needs = needs  # document kinds the rule reads; it runs only when all of them were loaded
        self.check = check
        self.doc = doc
        # an exposure (plaintext, no authentication, an unverified server), not a failure: `info`
        # by the severity contract, tagged `security` where a format can say so (SARIF)
        self.security = security
        # runs only when --select or select: names it by code or name (not ALL or its family): advice
        # that teams often decline on purpose, with no failure on the path to show
        self.opt_in = opt_in

    def __hash__(self) -> int:
        return hash(self._field_values())

    def finding(
        self,
        span: Span,
        message: str,
        fix: str | None = None,
        related: Iterable[Span] = (),
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            message=message,
            span=span,
            fix=fix,
            related=tuple(related),
        )

    def from_diagnostic(self, d: Diagnostic) -> Finding:
        return self.finding(d.span, d.message, d.fix, d.related,
                            severity=Severity.parse(d.severity) if d.severity else None)


class Context(Record):
    """What a rule may look at: the loaded documents and the run's options.

    Rules do no I/O and read no configuration of their own; everything comes from here.
    """

    __slots__ = ("docs", "options", "paths", "topology_problems")

    def __init__(self, docs: list[ConfigDoc], options: dict[str, Any] | None = None, paths: list | None = None,
                 topology_problems: list[Diagnostic] | None = None) -> None:
        self.docs = docs
        self.options = {} if options is None else options
        self.paths = [] if paths is None else paths  # advisor.path.DeploymentPath
        self.topology_problems = [] if topology_problems is None else topology_problems

    def on_one_path(self, kind_a: str, kind_b: str, direct: bool = False) -> Iterator[tuple[ConfigDoc, ConfigDoc, Any]]:
        """(document of kind_a, document of kind_b, the path) for each pair of documents that share a
        path, each pair once: the only way a rule compares two files. `direct`: only where no
        PgBouncer sits between them (a PgBouncer's own server connections go to the next pooler,
        whose timers and limits are then the ones that count)."""
        seen: set[tuple[int, int]] = set()
        for path in self.paths:
            docs = path.docs()
            for a in docs:
                if a.kind != kind_a:
                    continue
                for b in docs:
                    if b.kind == kind_b and b is not a and (id(a), id(b)) not in seen:
                        if direct and _pooler_between(path, a, b):
                            continue
                        seen.add((id(a), id(b)))
                        yield a, b, path

    def keepalive_legs(self, match, side: str = "both") -> bool:
        """For the keepalive rules of one file: whether a leg at a hop that `match` accepts crosses
        a middlebox whose idle timer packets reset — a NAT, NLB, Azure LB, firewall, conntrack —
        declared or read. `side`: "client" (legs arriving at the hop), "server" (legs leaving it)
        or "both". When a leg crosses one, PATH001 judges that leg's keepalives against its timer;
        without one, a missing keepalive is hygiene (info)."""
        for path in self.paths:
            reset_legs = {t.leg for t in path.timers if t.resets_on == "packets"}
            for i, hop in enumerate(path.hops):
                if not match(hop):
                    continue
                for n, leg in enumerate(path.legs):
                    at = ((side != "server" and leg.b == i and leg.open_end != "server")
                          or (side != "client" and leg.a == i and leg.open_end != "client"))
                    if at and n in reset_legs:
                        return True
        return False

    def rule_option(self, code: str, key: str, default: Any) -> Any:
        """A per-rule option from `rule-options:` in the configuration ({MEM001: {safe-share: 0.7}})."""
        return (self.options.get("rule_options") or {}).get(code, {}).get(key, default)

    def declared_ram(self, doc: ConfigDoc) -> int | None:
        """The RAM declared for a server, in bytes: `--ram` (ram: in pgpath.yaml), else a
        `# pgpath: ram=64GB` comment in its file."""
        return self.options.get("ram_bytes") or doc.meta.get("ram_bytes")

    def of_kind(self, kind: str) -> list[ConfigDoc]:
        return [d for d in self.docs if d.kind == kind]

    def diagnostics(self, kind: str) -> Iterator[Diagnostic]:
        for doc in self.docs:
            for d in doc.diagnostics:
                if d.kind == kind:
                    yield d


def report_diagnostics(rule: Rule, ctx: Context, kind: str, kinds_of_doc: tuple[str, ...] = (),
                       judge=None) -> Iterator[Finding]:
    """The findings of a rule that reports what loaders found (syntax errors, unknown names...).
    `judge(doc, diagnostic)`, when given, makes the finding (or None) from what the loader could
    not know: the run's choices recorded on the document (PG001: the major it is checked as)."""
    for doc in ctx.docs:
        if kinds_of_doc and doc.kind not in kinds_of_doc:
            continue
        for d in doc.diagnostics:
            if d.kind == kind:
                finding = rule.from_diagnostic(d) if judge is None else judge(doc, d)
                if finding is not None:
                    yield finding


# said by a keepalive finding about one file when no middlebox is known on its path
NO_MIDDLEBOX = ("no load balancer, NAT or firewall is known on its path: declare them (deployments: in pgpath.yaml) "
                "so that their idle timeouts are checked against the keepalives")


def network_host(host: str) -> bool:
    """A host a connection reaches over a network: an IP address or a name with a domain. Loopback,
    Unix sockets and bare names (a compose service or a Kubernetes service beside it, a local
    alias) are not evidence of traffic leaving the machine or cluster."""
    host = host.strip().strip("[]")
    return not loopback(host) and ("." in host or ":" in host)


def any_network_address(addresses: str) -> bool:
    """A comma-separated listen address list (listen_addr, listen_addresses) that accepts clients
    from a network: `*`, `0.0.0.0` or an interface address, not only loopback or sockets."""
    return any(a.strip() and not loopback(a) for a in addresses.split(","))


def listed(words: list[str], last: str = "and") -> str:
    """`a`, `a and b`, `a, b and c` (or `... or c`): names in a message."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def listed_once(said: list[str], join=listed) -> str:
    """Assignments joined (`listed`, or `join`), with the ` in <where>` they all share said once:
    `a: "1" and b: "2" in spec.postgresql.parameters`, `-c a=1 and -c b=2 in its command`."""
    tails = {s.partition(" in ")[2] for s in said}
    if len(tails) == 1 and "" not in tails:
        return join([s.partition(" in ")[0] for s in said]) + " in " + tails.pop()
    return join(said)


def setting_span(setting: Setting) -> Span:
    return setting.value_span or setting.span


def _pooler_between(path, a: ConfigDoc, b: ConfigDoc) -> bool:
    """Whether a PgBouncer of another file sits between a's and b's hops on the path."""
    at = [i for i, hop in enumerate(path.hops) if hop.doc is a]
    bt = [i for i, hop in enumerate(path.hops) if hop.doc is b]
    if not at or not bt:
        return False
    lo, hi = sorted((at[0], bt[0]))
    return any(hop.kind == "pgbouncer" and hop.doc is not a and hop.doc is not b for hop in path.hops[lo + 1:hi])
