"""An Azure Load Balancer rule that drops idle flows silently (`enableTcpReset` false).

## What it checks
Each load-balancing, inbound NAT and outbound rule of an Azure Load Balancer (`az network lb
show`, ARM templates, Terraform `azurerm_lb_rule` / `azurerm_lb_outbound_rule`) for TCP whose
`enableTcpReset` (Terraform `tcp_reset_enabled`, formerly `enable_tcp_reset`; default false) is
not true.

Only a rule that forwards a PostgreSQL or PgBouncer port (5432, 6432) or lies on an assembled
connection path is judged. A rule nothing shows to carry PostgreSQL (a generic module whose ports
are variables, an HA-ports rule for every port in front of network appliances) is not reported,
as an HAProxy TCP proxy with no PostgreSQL evidence is not a path: whether PostgreSQL connections
cross it is not shown.

TCP reset exists only on the Standard SKU, and in ARM templates from API version 2018-07-01 on:
the fix says so when the load balancer is Basic, its SKU is not in the file, or its apiVersion is
older.

## Why it matters
When a flow has been idle for `idleTimeoutInMinutes` (default 4 min), the load balancer forgets
it. Without TCP reset it tells neither end: the next query on a pooled PostgreSQL connection is
sent into the void and the client hangs until its own keepalive, `tcp_user_timeout` or about
15 minutes of retransmissions give up. With TCP reset on, both ends get an RST at expiry and the
pool replaces the connection at once.

## Fix
`enableTcpReset: true` on the rule (Terraform: `tcp_reset_enabled = true` with azurerm 4.x,
`enable_tcp_reset = true` before; the fix names the one the file's other attributes show), and
keepalives
shorter than the idle timeout on either end (`tcp_keepalives_idle` on the server, or
`keepalives_idle` in the clients: probes from either end refresh the flow) so it never goes idle.

A warning while some connection across it can go idle that long; an **info** when every leg
that crosses it, on every assembled path through it, has an end whose keepalives probe sooner
(nothing read is dropped; TCP reset remains good hygiene). The rule reads this from the path's
timer for the load balancer, the one `pgpath path` shows, so a topology and discovery judge alike:
when no client file is read, the far end's probes alone (a PgBouncer's `tcp_keepidle` applies to
the client sockets it accepts) keep the flow.

## References
- Azure: Load Balancer TCP reset and idle timeout — https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-reset
- Azure: Configure TCP reset and idle timeout — https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout
"""

from advisor.findings import Severity
from advisor.model import PG_PORTS
from advisor.rules.cld.common import fact_span, field_name, middleboxes
from advisor.rules.rule import Rule
from advisor.units import digits, format_seconds


def _carries_postgres(ctx, box) -> bool:
    """The rule is on an assembled connection path, or forwards a PostgreSQL or PgBouncer port."""
    if any(hop.detail is box for path in ctx.paths or () for hop in path.hops):
        return True
    for name in ("frontend_port", "frontendPort", "backend_port", "backendPort"):
        value = box.facts.get(name)
        if value is not None and value.known and digits(str(value.value).strip()) in PG_PORTS:
            return True  # (an HA-ports rule, 0, shows none)
    return False


def check(ctx):
    for doc, box in middleboxes(ctx, "azure-lb"):
        reset = box.facts.get("enable_tcp_reset")
        if reset is None or not reset.known or reset.value is not False:
            continue
        protocol = box.facts.get("protocol")
        if protocol is not None and protocol.known and str(protocol.value).lower() == "udp":
            continue
        idle = box.idle_timeout
        timer = f"for {format_seconds(idle.value)}" if idle.known else "for its idle timeout"
        if idle.known and idle.origin == "set" and idle.raw:  # as the file writes it, the seconds after it
            timer = (f"past {field_name(doc, idle, 'idleTimeoutInMinutes', 'idle_timeout_in_minutes')} = "
                     f"{idle.raw} ({format_seconds(idle.value)})")
        era = box.facts.get("tcp_reset_field")
        name = era.value if era is not None else field_name(doc, reset, "enableTcpReset", "tcp_reset_enabled")
        how = f"{name} = {reset.display}" if reset.origin == "set" else f"{name} not set (default false)"
        related = [idle.span] if idle.span is not None and idle.origin == "set" else []
        if not _carries_postgres(ctx, box):
            continue  # nothing shows PostgreSQL behind it (a generic module, an HA-ports rule): not pgpath's to judge
        kept = _kept_busy(ctx, box)
        message = (f"{box.label}: {how}: a flow idle {timer} is dropped without telling either end; the next query "
                   "on that connection hangs until a keepalive or TCP retransmission timeout gives up")
        if kept is not None:
            message += (f"; on its paths {kept} probes the flow before it goes idle that long, so no connection "
                        "read here is dropped (TCP reset still makes a dropped flow fail fast)")
        yield RULE.finding(fact_span(box, "enable_tcp_reset"), message, _fix(doc, box, era), related,
                           severity=Severity.INFO if kept is not None else None)


def _kept_busy(ctx, box) -> str | None:
    """What keeps the rule's flows busier than its idle timer on every assembled path through it,
    as the path's own timer for it says (keepalive probes from either end of the leg refresh an
    Azure flow: the far end's alone do when the clients are not read), or None when a flow may go
    idle that long or no path shows it. A pool's keepalive queries (HikariCP) keep only pooled
    connections, not one the application holds: they are not enough here."""
    keepers = []
    for path in ctx.paths or ():
        for timer in path.timers:
            if path.hops[timer.hop].detail is not box:
                continue
            best = path.legs[timer.leg].keepalive() if timer.leg is not None else None
            if not timer.defeated or timer.kept_by != "keepalive probes" or best is None:
                return None
            keepers.append(best.text)
    return " and ".join(dict.fromkeys(keepers)) or None


def _fix(doc, box, era) -> str:
    if doc.kind == "terraform":
        turn_on = (f"{era.value} = true on the rule" if era is not None else
                   "tcp_reset_enabled = true on the rule (azurerm 4.x; enable_tcp_reset = true before 4.0)")
    else:
        turn_on = "enableTcpReset: true on the rule"
        api = box.facts.get("lb_api_version")
        if api is not None and str(api.value) < "2018-07-01":
            turn_on += (f", with the load balancer's apiVersion 2018-07-01 or later ({api.value} has no "
                        "enableTcpReset)")
    sku = box.facts.get("lb_sku")
    if sku is not None and str(sku.value).lower() == "basic":
        turn_on = (f"sku Standard (a Basic load balancer has no TCP reset, and Azure retired the Basic SKU on 30 "
                   f"September 2025), then {turn_on}")
    elif sku is None:
        turn_on += (", on a Standard load balancer (the Basic SKU, retired by Azure on 30 September 2025, has no TCP "
                    "reset)")
    return f"{turn_on}; and keepalives below the idle timeout on either end"


RULE = Rule(
    code="CLD004",
    name="azure-lb-no-tcp-reset",
    severity=Severity.WARNING,
    summary="An Azure Load Balancer rule without TCP reset: idle flows are dropped silently",
    needs=("cloud|terraform",),
    check=check,
    doc=__doc__,
)
