"""An Azure Load Balancer rule that drops idle flows silently (`enableTcpReset` false).

## What it checks
Each load-balancing, inbound NAT and outbound rule of an Azure Load Balancer (`az network lb
show`, ARM templates, Terraform `azurerm_lb_rule` / `azurerm_lb_outbound_rule`) for TCP whose
`enableTcpReset` (Terraform `tcp_reset_enabled`, formerly `enable_tcp_reset`; default false) is
not true.

## Why it matters
When a flow has been idle for `idleTimeoutInMinutes` (default 4 min), the load balancer forgets
it. Without TCP reset it tells neither end: the next query on a pooled PostgreSQL connection is
sent into the void and the client hangs until its own keepalive, `tcp_user_timeout` or about
15 minutes of retransmissions give up. With TCP reset on, both ends get an RST at expiry and the
pool replaces the connection at once.

## Fix
`enableTcpReset: true` on the rule (Terraform: `tcp_reset_enabled = true` with azurerm 4.x,
`enable_tcp_reset = true` before), and keepalives
shorter than the idle timeout on both ends (`tcp_keepalives_idle` on the server,
`keepalives_idle` in the clients) so the flow never goes idle.

## References
- Azure: Load Balancer TCP reset and idle timeout — https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-reset
- Azure: Configure TCP reset and idle timeout — https://learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout
"""

from advisor.findings import Severity
from advisor.rules.cld.common import fact_span, field_name, middleboxes
from advisor.rules.rule import Rule
from advisor.units import format_seconds


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
        name = field_name(doc, reset, "enableTcpReset", "tcp_reset_enabled")
        how = f"{name} = {reset.display}" if reset.origin == "set" else f"{name} not set (default false)"
        related = [idle.span] if idle.span is not None and idle.origin == "set" else []
        yield RULE.finding(
            fact_span(box, "enable_tcp_reset"),
            f"{box.label}: {how}: a flow idle {timer} is dropped without telling either end; the next query "
            "on that connection hangs until a keepalive or TCP retransmission timeout gives up",
            "enableTcpReset: true on the rule (Terraform azurerm 4.x: tcp_reset_enabled = true; enable_tcp_reset "
            "before 4.0), and keepalives below the idle timeout on both ends",
            related,
        )


RULE = Rule(
    code="CLD004",
    name="azure-lb-no-tcp-reset",
    severity=Severity.WARNING,
    summary="An Azure Load Balancer rule without TCP reset: idle flows are dropped silently",
    needs=("cloud|terraform",),
    check=check,
    doc=__doc__,
)
