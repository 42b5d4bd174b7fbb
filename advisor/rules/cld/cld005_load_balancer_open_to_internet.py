"""A Kubernetes Service of type LoadBalancer puts PostgreSQL or PgBouncer on the internet.

## What it checks
A Service of type `LoadBalancer` in front of PostgreSQL or PgBouncer — a plain Service whose
name, selector or port shows it (5432, 6432, postgres, pgbouncer, pooler...), a CloudNativePG
Pooler's `serviceTemplate`, a Zalando cluster's `enableMasterLoadBalancer` /
`enableReplicaLoadBalancer` — whose load balancer is internet-facing and admits every source:

- internet-facing: no annotation or class asks for an internal load balancer. AKS
  (`service.beta.kubernetes.io/azure-load-balancer-internal: "true"`), GKE
  (`networking.gke.io/load-balancer-type: "Internal"`, formerly
  `cloud.google.com/load-balancer-type`; class `networking.gke.io/l4-regional-internal`) and AWS's
  in-tree cloud provider (`service.beta.kubernetes.io/aws-load-balancer-internal`, any value but
  `"false"`) give every other Service of type LoadBalancer a public address. The AWS Load
  Balancer Controller (`aws-load-balancer-type: external` or `nlb-ip`, class `service.k8s.aws/nlb`)
  and EKS Auto Mode (class `eks.amazonaws.com/nlb`) make it internal unless
  `service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing`; those are not reported
  without it. The internal annotations of OCI, OpenStack and Alibaba Cloud are honoured too; a
  `loadBalancerClass` of another implementation, or a value a template fills, is not judged;
- every source: no `spec.loadBalancerSourceRanges` (nor the
  `service.beta.kubernetes.io/load-balancer-source-ranges` annotation, nor AKS's
  `azure-allowed-ip-ranges` / `azure-allowed-service-tags`), or ranges that include `0.0.0.0/0`
  or `::/0`. A Zalando cluster's `allowedSourceRanges` become its Services' source ranges; without
  them the operator locks its load balancers to `127.0.0.1/32`, which is not reported.

Services of type ClusterIP or NodePort are not judged.

It is `info`: an exposed port is no failure of a connection. When the load balancer is in fact
internal where it runs (a controller that makes it internal by default, a private cluster), write
the internal annotation of that cloud on the Service: the manifest then says so, and pgpath
reports nothing.

## Why it matters
The cloud's load balancer forwards the database port from a public address to the pods: every
host on the internet can open a connection, and internet-wide scanners probe port 5432. PostgreSQL and
PgBouncer then answer each one — password guessing against every role `pg_hba.conf` admits from
any address, and any pre-authentication flaw of the server or of its TLS library — instead of the
cloud network dropping them.

## Fix
`loadBalancerSourceRanges` with the clients' CIDRs (the cloud's firewall — AWS security group,
Azure network security group, GCP firewall rule — then admits only them); in a CloudNativePG
Pooler, in `spec.serviceTemplate.spec`; in a Zalando cluster, `spec.allowedSourceRanges`. Or,
when only clients in the same VPC or virtual network connect, the internal annotation of the
cloud that runs it, in the Service's annotations (a Pooler's `spec.serviceTemplate.metadata.annotations`,
a Zalando cluster's `spec.masterServiceAnnotations`/`replicaServiceAnnotations`): AKS
`service.beta.kubernetes.io/azure-load-balancer-internal: "true"`, GKE
`networking.gke.io/load-balancer-type: "Internal"`, AWS
`service.beta.kubernetes.io/aws-load-balancer-scheme: internal` with the AWS Load Balancer
Controller (`service.beta.kubernetes.io/aws-load-balancer-internal: "true"` with the in-tree
provider). Or a Service of type ClusterIP when no client outside the cluster connects.

## References
- Kubernetes: Service `loadBalancerSourceRanges` — https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/
- AKS: Use an internal load balancer — https://learn.microsoft.com/azure/aks/internal-lb
- GKE: LoadBalancer Service parameters — https://cloud.google.com/kubernetes-engine/docs/concepts/service-load-balancer-parameters
- AWS Load Balancer Controller: Service annotations (scheme, default internal) — https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/
- EKS Auto Mode: Service annotations for Network Load Balancers — https://docs.aws.amazon.com/eks/latest/userguide/auto-configure-nlb.html
- Zalando postgres-operator: `allowedSourceRanges` (pkg/cluster/k8sres.go, configureLoadBalanceService)
"""

from advisor.findings import Severity
from advisor.rules.rule import Rule

_OPEN = ("0.0.0.0/0", "::/0")

# the internal annotation of each cloud, for the fix (`kind` of the middlebox the loader read)
_INTERNAL = {
    "azure-lb": 'service.beta.kubernetes.io/azure-load-balancer-internal: "true"',
    "gcp-lb": 'networking.gke.io/load-balancer-type: "Internal"',
    # (an aws-nlb reported without a scheme written is the in-tree provider's `aws-load-balancer-type: nlb`)
    "aws-nlb": 'service.beta.kubernetes.io/aws-load-balancer-internal: "true" (in-tree provider; '
               "service.beta.kubernetes.io/aws-load-balancer-scheme: internal with the AWS Load Balancer Controller)",
    "aws-elb": 'service.beta.kubernetes.io/aws-load-balancer-internal: "true" (in-tree provider; '
               "service.beta.kubernetes.io/aws-load-balancer-scheme: internal with the AWS Load Balancer Controller)",
}

# who gives a Service of type LoadBalancer a public address when nothing written makes it internal,
# per cloud as the loader read it
_DEFAULT = {
    "azure-lb": "AKS gives its load balancer a public IP",
    "gcp-lb": "GKE makes it an external passthrough Network Load Balancer",
    "aws-elb": "AWS's in-tree cloud provider makes its load balancer internet-facing (the AWS Load Balancer "
               "Controller and EKS Auto Mode, where they take the Service, make it internal)",
    "aws-nlb": "AWS's in-tree cloud provider makes its load balancer internet-facing (the AWS Load Balancer "
               "Controller and EKS Auto Mode, where they take the Service, make it internal)",
}
_ANY_CLOUD = ("on AKS and GKE, and on AWS with the in-tree cloud provider, it gets a public address (the AWS Load "
              "Balancer Controller and EKS Auto Mode make it internal unless aws-load-balancer-scheme: internet-facing)")


def _services(ctx):
    for doc in ctx.docs:
        model = doc.model
        if doc.kind != "kubernetes" or model is None or not hasattr(model, "middleboxes"):
            continue
        for box in model.middleboxes:
            if "lb_scheme" in box.facts:  # a Service of type LoadBalancer (advisor.loaders.infra_yaml)
                yield doc, box


def check(ctx):
    for _doc, box in _services(ctx):
        scheme, ranges = box.facts["lb_scheme"], box.facts.get("source_ranges")
        if not scheme.known or scheme.value == "internal":
            continue
        if ranges is not None and (not ranges.known or not any(r in _OPEN for r in ranges.value)):
            continue  # restricted to the sources written (or the operator's), or a value pgpath cannot know
        what = "PgBouncer" if "pgbouncer" in box.targets else "PostgreSQL"
        port = box.listens[0].rsplit(":", 1)[-1] if box.listens and ":" in box.listens[0] else "5432"
        field = box.facts["ranges_field"].value
        name = field.rsplit(".", 1)[-1]
        related = []
        if ranges is None:
            sources = f"no {name}"
        else:
            sources = f"{name} {ranges.raw} (every source)"
            if ranges.span is not None:
                related.append(ranges.span)
        if scheme.origin == "set":
            said = (f"on an internet-facing load balancer ({scheme.key}: {scheme.raw}) with {sources}: every host on "
                    "the internet can connect")
            related.insert(0, scheme.span)
        else:
            said = f"with no internal annotation and {sources}: {_DEFAULT.get(box.kind, _ANY_CLOUD)}, so every host " \
                   "on the internet can connect"
        message = f"Service {box.name} (type LoadBalancer) forwards {what}'s port {port} {said} and try to log in"
        annotations = box.facts["annotations_field"].value
        internal = _INTERNAL.get(box.kind)
        if internal is None or scheme.origin == "set":
            internal = ('service.beta.kubernetes.io/azure-load-balancer-internal: "true" (AKS), '
                        'networking.gke.io/load-balancer-type: "Internal" (GKE) or '
                        "service.beta.kubernetes.io/aws-load-balancer-scheme: internal (AWS Load Balancer Controller; "
                        'service.beta.kubernetes.io/aws-load-balancer-internal: "true" with the in-tree provider)')
            if scheme.origin == "set":
                internal = f"{scheme.key}: internal"
        fix = (f"{field}: [<the clients' CIDRs>] (the cloud's firewall then admits only them"
               + (", instead of 0.0.0.0/0" if ranges is not None else "")
               + f"); or, when only clients in the cloud network connect, {internal} in {annotations}")
        yield RULE.finding(box.span, message, fix, related)


RULE = Rule(
    code="CLD005",
    name="load-balancer-open-to-internet",
    severity=Severity.INFO,
    summary="A Kubernetes Service of type LoadBalancer exposes PostgreSQL or PgBouncer to every internet source",
    needs=("kubernetes",),
    check=check,
    doc=__doc__,
)
