"""Sysctls written where the platform never applies them.

## What it checks
A Kubernetes workload (Pod, Deployment, StatefulSet, ...) with `sysctls` under a container's
`securityContext`. Kubernetes has no such field there: sysctls are set for the whole pod, in the
pod's `spec.securityContext.sysctls` (`PodSecurityContext`); a container's `SecurityContext`
has none.

These values are not taken as host facts: the keepalive and overcommit checks do not count on
them.

## Why it matters
`kubectl apply` and `kubectl create` validate strictly by default (`--validate=strict` since
Kubernetes 1.25's server-side field validation), so the manifest is refused (`strict decoding
error: unknown field "spec.containers[0].securityContext.sysctls"`): an error, since the
workload is not created. A client that does not ask for strict validation (the API server's own
default is to warn) has the field dropped. Either way the kernel keeps its default
(`net.ipv4.tcp_keepalive_time` 7200 s), not the value written to stay under a load balancer's or
NAT's idle timeout.

## Fix
Move the list to the pod: `spec.securityContext.sysctls` (`spec.template.spec.securityContext`
in a Deployment or StatefulSet). The keepalive sysctls are per network namespace, so per pod;
kubelets from Kubernetes 1.29 count `net.ipv4.tcp_keepalive_time` as safe, older ones (and other
sysctls) need it in `--allowed-unsafe-sysctls` or the pod is rejected at start. Other keys of the
same securityContext that are no field of a container's SecurityContext are named in the fix,
since strict validation refuses the manifest for them too (`seccompProfile.type: RuntimeDefault`
written as one key is `seccompProfile: {type: RuntimeDefault}`).

## References
- Kubernetes: Using sysctls in a Kubernetes Cluster — https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
- Kubernetes API: PodSecurityContext (sysctls) and SecurityContext — https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#security-context
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule, report_diagnostics


def check(ctx):
    return report_diagnostics(RULE, ctx, "sysctl-not-applied", ("sysctl",))


RULE = Rule(
    code="SYS006",
    name="sysctl-not-applied",
    severity=Severity.ERROR,
    summary="Sysctls under a container's securityContext, where Kubernetes never applies them",
    needs=("sysctl",),
    check=check,
    doc=__doc__,
)
