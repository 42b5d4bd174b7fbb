"""Cloud CLI and API JSON: the middleboxes and managed PostgreSQL settings they describe.

One file is the JSON output of one command (or an ARM template, or the botocore examples file
that bundles several outputs). Its shape is recognised by its top-level fields, checked against
the JSON Schema of that shape in `schemas/cloud/` (a wrong type is a `cloud-invalid-field`
diagnostic at the JSON line, reported by CLD001), and turned into:

- `Middlebox` objects in a document of kind "cloud" (model `MiddleboxFile`) for load balancers,
  listeners, NAT gateways and RDS Proxies, each timer a `Value` with its span (origin `set`) or
  the kind's documented default (origin `default`);
- documents of kind "postgresql" for managed server parameters (see managed_pg), and
  `meta["db_instances"]` facts (instance class, engine version, endpoint) that `link` uses to
  evaluate parameter formulas and give those documents the instance's memory.

Shapes (see docs/cloud.md for the field list of each): AWS `elbv2 describe-load-balancers`,
`describe-listeners`, `describe-load-balancer-attributes`, `describe-listener-attributes`,
`describe-target-group-attributes`; classic `elb describe-load-balancer-attributes`;
`ec2 describe-nat-gateways`; `rds describe-db-proxies`, `describe-db-proxy-target-groups`,
`describe-db-instances`, `describe-db-clusters`, `describe-db-parameters`,
`describe-db-cluster-parameters`, `describe-engine-default-parameters`; GCP backend services,
Cloud NAT (`routers nats describe`, `routers describe`), Cloud SQL instances; Azure
`az network lb show` and ARM templates (rules with or without `properties`), NAT gateways,
`az postgres flexible-server parameter list`. AWS attribute values are strings and are converted
by the attribute's declared type; a missing field means the documented default.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable

from advisor import lazy_re
from advisor.loaders.jsonpos import JsonError, ParsedJson, parse, path_text
from advisor.loaders.source import read_text
from advisor.model import ConfigDoc, Diagnostic, Span, Unknown
from advisor.model.client import Value
from advisor.model.middlebox import Middlebox, MiddleboxFile

KIND = "cloud"

# cheap content signals, looked for only in .json files (and only in the first 200 kB)
_SIGNAL = lazy_re.compile(
    r'"(?:LoadBalancers|Listeners|LoadBalancerAttributes|NatGateways|DBProxies|TargetGroups|DBInstances|DBClusters|'
    r'ParameterName|EngineDefaults|loadBalancingRules|outboundRules|inboundNatRules|tcpEstablishedIdleTimeoutSec|'
    r'natIpAllocateOption|databaseFlags|connectionTrackingPolicy|loadBalancingScheme|idleTimeoutInMinutes)"'
    r'|"Key"\s*:\s*"(?:idle_timeout\.timeout_seconds|tcp\.idle_timeout\.seconds|deregistration_delay\.|'
    r'load_balancing\.|access_logs\.|routing\.http|deletion_protection\.|proxy_protocol_v2|stickiness\.|'
    r'client_keep_alive|slow_start|lambda\.|target_health_state|preserve_client_ip|dns_record\.)'
    r'|"compute#(?:backendService|router)"|"sql#instance"|Microsoft\.Network/(?:loadBalancers|natGateways)'
    r'|Microsoft\.DBforPostgreSQL/flexibleServers'
)
_BOTOCORE_EXAMPLES = lazy_re.compile(r'^\s*\{\s*"version"\s*:\s*"1\.0"\s*,\s*"examples"\s*:')


def detect(name: str, text: str | None) -> str | None:
    """`cloud` for a .json file whose content has a cloud shape's field names; cheap (one regex)."""
    if text is None or not name.endswith(".json"):
        return None
    head = text[:200_000]
    if '"format_version"' in head and ('"planned_values"' in head or '"resource_changes"' in head):
        return None  # a Terraform plan: the terraform loader's
    if _SIGNAL.search(head) or (_BOTOCORE_EXAMPLES.match(head) and ('"Attributes"' in head or '"LoadBalancer' in head)):
        return KIND
    return None


class FileReader:
    """One file being read: positions, spans, values and diagnostics."""

    def __init__(self, path: str, parsed: ParsedJson | None, fmt: str) -> None:
        self.path = path
        self.parsed = parsed
        self.doc = ConfigDoc(path=path, kind=KIND, files=[path], model=MiddleboxFile(fmt))
        self.extra_docs: list[ConfigDoc] = []

    # -- positions
    def span(self, path: tuple) -> Span:
        where = self.parsed.where(path) if self.parsed is not None else None
        if where is None:
            return Span(self.path, key=path_text(path))
        return Span(self.path, where[0], where[1], key=path_text(path))

    def value(self, raw: Any, path: tuple, convert: Callable[[Any], Any] | None = None, unit: str | None = None,
              key: str | None = None) -> Value:
        """A Value from a field as written (origin `set`); None when it cannot be converted."""
        span = self.span(path)
        if isinstance(raw, str) and _is_expression(raw):
            return Value(Unknown(raw), raw=raw, span=span, key=key or path_text(path), unit=unit)
        typed = raw
        error = None
        if convert is not None:
            typed = convert(raw)
            if typed is None:
                error = f"cannot read {raw!r}"
        shown = _raw(raw)
        if error and not harmless(shown):
            shown = "(not shown)"
        return Value(typed, raw=shown, span=span, key=key or path_text(path), unit=unit, error=error)

    def invalid(self, path: tuple, message: str, fix: str | None = None) -> None:
        self.doc.diagnostics.append(Diagnostic("cloud-invalid-field", self.span(path), message, fix))

    def add(self, box: Middlebox) -> Middlebox:
        self.doc.model.middleboxes.append(box)
        return box


def _raw(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def _is_expression(text: str) -> bool:
    """An ARM template expression (`[parameters('x')]`) or an unexpanded placeholder: unknown here."""
    s = text.strip()
    return (s.startswith("[") and s.endswith("]") and not s.startswith("[[")) or s.startswith("${") or "{{" in s


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == int(value):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
        return int(value)
    return None


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


# ------------------------------------------------------------------------------------------------
# schemas


def _validate(reader: FileReader, data: Any, schema: str, base: tuple = ()) -> bool:
    """Check `data` against schemas/cloud/<schema>; each problem becomes a diagnostic at its line."""
    import jsonschema

    from advisor.schemas import load_schema

    validator = jsonschema.Draft202012Validator(load_schema(f"cloud/{schema}.schema.json"))
    ok = True
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        if error.context:  # anyOf (a number, or an ARM expression): say what the number broke
            error = next((e for e in error.context if e.validator != "type"), error.context[0])
        where = base + tuple(error.absolute_path)
        message = error.message
        if isinstance(error.instance, str) and not harmless(error.instance):
            # never quote a string that could be a secret put in the wrong field
            message = message.replace(repr(error.instance), "a string (not shown)")
        elif isinstance(error.instance, (dict, list)) and error.validator == "type":
            expected = error.validator_value if isinstance(error.validator_value, str) else "/".join(error.validator_value)
            article = "an" if expected[:1] in "aeiou" else "a"
            message = f"{'an object' if isinstance(error.instance, dict) else 'an array'} where the API returns " \
                      f"{article} {expected}"
        reader.invalid(where, f"{path_text(where)}: {message} (shape {schema}, checked against "
                              f"schemas/cloud/{schema}.schema.json)",
                       _schema_fix(error))
        ok = False
    return ok


_HARMLESS = re.compile(r"-?\d{1,12}(\.\d+)?\s?[A-Za-z]{0,4}|true|false|on|off|yes|no|null|[A-Z][A-Za-z]{0,15}|")


def harmless(text: str) -> bool:
    """A value that may be quoted in a message: a number with an optional unit, a boolean word, an
    enum-like word. Anything else could be a password written in the wrong field."""
    return bool(_HARMLESS.fullmatch(text.strip()))


def _schema_fix(error) -> str | None:
    if error.validator == "type":
        article = "an" if str(error.validator_value)[:1] in "aeiou" else "a"
        return f"write {article} {error.validator_value} here, as the cloud's CLI/API prints it"
    if error.validator in ("minimum", "maximum"):
        return f"a value within the documented range ({error.schema.get('minimum')}..{error.schema.get('maximum')})"
    if error.validator == "enum":
        return "one of: " + ", ".join(map(str, error.validator_value))
    return None


# ------------------------------------------------------------------------------------------------
# AWS ELBv2

# attribute key -> (declared type, unit) ; values are strings in the API
ELBV2_ATTRIBUTES = {
    "idle_timeout.timeout_seconds": ("int", "s", 1, 4000),
    "client_keep_alive.seconds": ("int", "s", 60, 604800),
    "tcp.idle_timeout.seconds": ("int", "s", 60, 6000),
    "deregistration_delay.timeout_seconds": ("int", "s", 0, 3600),
    "deregistration_delay.connection_termination.enabled": ("bool", None, None, None),
    "target_health_state.unhealthy.connection_termination.enabled": ("bool", None, None, None),
    "preserve_client_ip.enabled": ("bool", None, None, None),
    "proxy_protocol_v2.enabled": ("bool", None, None, None),
    "deletion_protection.enabled": ("bool", None, None, None),
    "load_balancing.cross_zone.enabled": ("bool", None, None, None),
    "access_logs.s3.enabled": ("bool", None, None, None),
    "routing.http2.enabled": ("bool", None, None, None),
    "slow_start.duration_seconds": ("int", "s", 0, 900),
    "stickiness.enabled": ("bool", None, None, None),
}
_ALB_ONLY = ("idle_timeout.timeout_seconds", "client_keep_alive.seconds", "routing.http", "waf.fail_open",
             "routing.http.desync_mitigation_mode")
_TG_KEYS = ("deregistration_delay.", "stickiness.", "slow_start.", "proxy_protocol_v2.", "preserve_client_ip.",
            "target_health_state.", "lambda.", "load_balancing.algorithm", "target_group_health.",
            "target_failover.")


def _elbv2_attributes(reader: FileReader, data: dict, base: tuple, name: str) -> None:
    if not _validate(reader, data, "aws-elbv2-attributes", base):
        return
    facts: dict[str, Value] = {}
    keys = []
    for i, attr in enumerate(data.get("Attributes", [])):
        key = attr.get("Key")
        raw = attr.get("Value", "")
        keys.append(key)
        where = base + ("Attributes", i, "Value")
        declared = ELBV2_ATTRIBUTES.get(key)
        if declared is None:
            facts[key] = reader.value(raw, where, key=key)
            continue
        kind, unit, lo, hi = declared
        if raw == "":
            continue  # an empty value: not set
        convert = as_int if kind == "int" else as_bool
        value = reader.value(raw, where, convert, unit, key=key)
        if value.error:
            shown = f'"{raw}"' if harmless(str(raw)) else "a string (not shown)"
            reader.invalid(where, f'{key} = {shown}: not a valid {"integer" if kind == "int" else "boolean"} '
                                  f"(ELB attribute values are strings holding a {kind})",
                           f'"{lo}".."{hi}"' if kind == "int" else '"true" or "false"')
            continue
        if kind == "int" and value.known and lo is not None and not lo <= value.value <= hi:
            reader.invalid(where, f"{key} = {raw} s is outside the range the API accepts ({lo}-{hi} s)",
                           f"{key} = {min(max(value.value, lo), hi)}")
            continue
        facts[key] = value
    span = reader.span(base + ("Attributes",))
    if "tcp.idle_timeout.seconds" in facts:  # describe-listener-attributes of an NLB TCP listener
        reader.add(Middlebox("aws-nlb", name, span, idle_timeout=facts["tcp.idle_timeout.seconds"], facts=facts))
    elif any(k and k.startswith(_ALB_ONLY) for k in keys):  # an application load balancer's attributes
        reader.add(Middlebox("aws-alb", name, span, idle_timeout=facts.get("idle_timeout.timeout_seconds"),
                             facts=facts))
    else:
        # a target group's or a network load balancer's own attributes: no idle timer there
        # (an NLB's timer belongs to its listeners); kept as facts of the file
        what = "target-group" if any(k and k.startswith(_TG_KEYS) for k in keys) else "load-balancer"
        reader.doc.meta.setdefault("elbv2_attributes", []).append(
            {"of": what, "at": path_text(base) if base else "$", "facts": {k: v.to_dict() for k, v in facts.items()}})


_NLB_PROTOCOLS = ("TCP", "TLS", "UDP", "TCP_UDP")


def _elbv2_load_balancers(reader: FileReader, data: dict, base: tuple) -> None:
    if not _validate(reader, data, "aws-elbv2-load-balancers", base):
        return
    for i, lb in enumerate(data.get("LoadBalancers", [])):
        where = base + ("LoadBalancers", i)
        lb_type = lb.get("Type", "application")
        kind = {"network": "aws-nlb", "application": "aws-alb"}.get(lb_type)
        if kind is None:
            continue  # a gateway load balancer carries no PostgreSQL client traffic as a hop
        facts = {"arn": reader.value(lb.get("LoadBalancerArn"), where + ("LoadBalancerArn",)),
                 "scheme": reader.value(lb.get("Scheme", "internet-facing"), where + ("Scheme",))}
        listens = [lb["DNSName"]] if lb.get("DNSName") else []
        # the NLB's timer is per listener (describe-listener-attributes); the LB itself states none
        reader.add(Middlebox(kind, lb.get("LoadBalancerName", ""), reader.span(where), facts=facts, listens=listens))


def _elbv2_listeners(reader: FileReader, data: dict, base: tuple) -> None:
    if not _validate(reader, data, "aws-elbv2-listeners", base):
        return
    for i, listener in enumerate(data.get("Listeners", [])):
        where = base + ("Listeners", i)
        protocol = listener.get("Protocol", "")
        kind = "aws-nlb" if protocol in _NLB_PROTOCOLS else "aws-alb"
        facts = {"protocol": reader.value(protocol, where + ("Protocol",)),
                 "listener_port": reader.value(listener.get("Port"), where + ("Port",), unit=None),
                 "load_balancer_arn": reader.value(listener.get("LoadBalancerArn", ""), where + ("LoadBalancerArn",))}
        if listener.get("ListenerArn"):
            facts["arn"] = reader.value(listener["ListenerArn"], where + ("ListenerArn",))
        name = _arn_name(listener.get("ListenerArn") or listener.get("LoadBalancerArn") or "")
        idle = None
        if protocol == "TLS":  # fixed 350 s, not configurable on TLS listeners
            idle = Value(350, origin="default", unit="s", key="TLS listener (fixed)")
        targets = [a["TargetGroupArn"] for a in listener.get("DefaultActions", []) if a.get("TargetGroupArn")]
        listens = [f"*:{listener['Port']}"] if isinstance(listener.get("Port"), int) else []
        reader.add(Middlebox(kind, f"{name}:{listener.get('Port')}", reader.span(where), idle_timeout=idle,
                             facts=facts, listens=listens, targets=targets))


def _arn_name(arn: str) -> str:
    parts = arn.split("/")
    return parts[2] if len(parts) > 2 else arn.rsplit(":", 1)[-1]


def _elb_attributes(reader: FileReader, data: dict, base: tuple, name: str) -> None:
    if not _validate(reader, data, "aws-elb-attributes", base):
        return
    attrs = data.get("LoadBalancerAttributes", {})
    settings = attrs.get("ConnectionSettings")
    idle = None
    if settings is not None and "IdleTimeout" in settings:
        idle = reader.value(settings["IdleTimeout"], base + ("LoadBalancerAttributes", "ConnectionSettings",
                                                           "IdleTimeout"), as_int, "s")
    reader.add(Middlebox("aws-elb", data.get("LoadBalancerName", name), reader.span(base + ("LoadBalancerAttributes",)),
                         idle_timeout=idle))


def _nat_gateways(reader: FileReader, data: dict, base: tuple) -> None:
    if not _validate(reader, data, "aws-ec2-nat-gateways", base):
        return
    for i, gw in enumerate(data.get("NatGateways", [])):
        where = base + ("NatGateways", i)
        facts = {"connectivity_type": reader.value(gw.get("ConnectivityType", "public"), where + ("ConnectivityType",))}
        reader.add(Middlebox("aws-nat", gw.get("NatGatewayId", ""), reader.span(where), facts=facts))


# ------------------------------------------------------------------------------------------------
# AWS RDS


def _db_proxies(reader: FileReader, data: dict, base: tuple) -> None:
    if not _validate(reader, data, "aws-rds-db-proxies", base):
        return
    for i, proxy in enumerate(data.get("DBProxies", [])):
        where = base + ("DBProxies", i)
        engine = str(proxy.get("EngineFamily", "")).upper()
        facts = {"engine_family": reader.value(engine, where + ("EngineFamily",))}
        if "RequireTLS" in proxy:
            facts["require_tls"] = reader.value(proxy["RequireTLS"], where + ("RequireTLS",), as_bool)
        else:
            facts["require_tls"] = Value(False, origin="default", key="RequireTLS")
        idle = None
        if "IdleClientTimeout" in proxy:
            idle = reader.value(proxy["IdleClientTimeout"], where + ("IdleClientTimeout",), as_int, "s")
        port = 5432 if engine == "POSTGRESQL" else 3306 if engine == "MYSQL" else None
        listens = [f"{proxy['Endpoint']}:{port}" if port else proxy["Endpoint"]] if proxy.get("Endpoint") else []
        reader.add(Middlebox("aws-rds-proxy", proxy.get("DBProxyName", ""), reader.span(where), idle_timeout=idle,
                             facts=facts, listens=listens))


def _db_proxy_target_groups(reader: FileReader, data: dict, base: tuple) -> None:
    if not _validate(reader, data, "aws-rds-db-proxy-target-groups", base):
        return
    groups = []
    for i, group in enumerate(data.get("TargetGroups", [])):
        where = base + ("TargetGroups", i, "ConnectionPoolConfig")
        pool = group.get("ConnectionPoolConfig", {})
        entry = {"proxy": group.get("DBProxyName"), "target_group": group.get("TargetGroupName"),
                 "span": reader.span(base + ("TargetGroups", i)).to_dict()}
        for field, default in (("MaxConnectionsPercent", 100), ("MaxIdleConnectionsPercent", 50),
                               ("ConnectionBorrowTimeout", 120)):
            entry[field] = pool.get(field, default)
            entry[field + "_origin"] = "set" if field in pool else "default"
        groups.append(entry)
        del where
    reader.doc.meta["rds_proxy_target_groups"] = groups


def _engine_major(version: Any) -> int | None:
    m = re.match(r"\s*(\d+)", str(version or ""))
    return int(m.group(1)) if m else None


def _db_instances(reader: FileReader, data: dict, base: tuple, field: str) -> None:
    if not _validate(reader, data, "aws-rds-db-instances" if field == "DBInstances" else "aws-rds-db-clusters", base):
        return
    from advisor.loaders.cloud_sizes import rds_class_memory

    found = []
    for i, inst in enumerate(data.get(field, [])):
        where = base + (field, i)
        engine = str(inst.get("Engine", ""))
        klass = inst.get("DBInstanceClass") or inst.get("DBClusterInstanceClass")
        klass = str(klass) if klass else None
        groups = [g.get("DBParameterGroupName") for g in inst.get("DBParameterGroups", []) if isinstance(g, dict)]
        if inst.get("DBClusterParameterGroup"):
            groups.append(inst["DBClusterParameterGroup"])
        endpoint = inst.get("Endpoint")
        address = endpoint.get("Address") if isinstance(endpoint, dict) else endpoint
        port = (endpoint.get("Port") if isinstance(endpoint, dict) else None) or inst.get("Port")
        found.append({
            "id": inst.get("DBInstanceIdentifier") or inst.get("DBClusterIdentifier"),
            "engine": engine, "pg_major": _engine_major(inst.get("EngineVersion")) if "postgres" in engine else None,
            "instance_class": klass, "memory": rds_class_memory(klass) if klass else None,
            "parameter_groups": groups, "endpoint": f"{address}:{port}" if address and port else address,
            "span": reader.span(where + (("DBInstanceClass",) if "DBInstanceClass" in inst else ())).to_dict(),
        })
    reader.doc.meta["db_instances"] = found
    reader.doc.meta["link"] = True


def _rds_parameters(reader: FileReader, data: dict, base: tuple, options: dict) -> None:
    schema_ok = _validate(reader, data, "aws-rds-parameters", base)
    params = data.get("Parameters") if isinstance(data.get("Parameters"), list) else []
    family = None
    if isinstance(data.get("EngineDefaults"), dict):
        family = data["EngineDefaults"].get("DBParameterGroupFamily")
        family = family if isinstance(family, str) else None
    if not schema_ok:
        return
    from advisor.loaders.managed_pg import Entry

    entries = []
    for i, p in enumerate(params):
        if "ParameterValue" not in p or p.get("ParameterValue") is None:
            continue  # listed but not set: the engine's default applies
        where = base + ("Parameters", i, "ParameterValue")
        entry = Entry(p["ParameterName"], p["ParameterValue"], reader.span(where),
                      user_set=p.get("Source", "user") == "user")
        entries.append(entry)
    cluster = "cluster" in os.path.basename(reader.path).lower()
    aurora = "aurora" in (family or "") or cluster
    major = _engine_major(re.sub(r"^\D+", "", family or "")) if family else None
    # an Aurora DB parameter group (describe-db-parameters) holds no cluster-level parameter
    scope = ("cluster" if cluster else "instance") if aurora else None
    reader.extra_docs.append(register_managed(reader.path, "aws-aurora" if aurora else "aws-rds", entries, major,
                                              options, scope=scope))


def _managed(reader: FileReader, platform: str, entries: list, major: int | None, options: dict,
             memory: Value | None = None, host_name: str = "") -> None:
    reader.extra_docs.append(register_managed(reader.path, platform, entries, major, options, memory, host_name))


def register_managed(path: str, platform: str, entries: list, major: int | None, options: dict,
                     memory: Value | None = None, host_name: str = "", scope: str | None = None) -> ConfigDoc:
    """Build the postgresql document now; `link` builds it again once the run's instances are known
    (RDS formulas need the instance class; the engine version gives the major)."""
    from advisor.loaders.managed_pg import build

    fixed = options.get("pg_major_fixed")  # given or declared: wins over the file's engine version
    doc = build(path, platform, entries, options.get("pg_major") if fixed else (major or options.get("pg_major")),
                memory, host_name, scope=scope)
    doc.meta["major_from"] = "option" if fixed else ("file" if major else (
        "option" if options.get("pg_major") else "default"))
    if major and not fixed:
        from advisor.loaders.managed_pg import LABELS

        doc.meta["pg_version_found"] = f"PostgreSQL {major} named for this {LABELS.get(platform, platform)} in {path}"
    if platform in ("aws-rds", "aws-aurora") and memory is None:
        doc.meta["link"] = True
        _PENDING[id(doc)] = (doc, platform, entries, major, memory, host_name, options, scope)
    return doc


_PENDING: dict[int, tuple] = {}


# ------------------------------------------------------------------------------------------------
# GCP


def _cloud_nat(reader: FileReader, data: dict, base: tuple, name: str) -> None:
    if not _validate(reader, data, "gcp-router-nat", base):
        return
    facts = {}
    for field, default in (("tcpTransitoryIdleTimeoutSec", 30), ("udpIdleTimeoutSec", 30),
                           ("tcpTimeWaitTimeoutSec", 120)):
        if field in data:
            facts[field] = reader.value(data[field], base + (field,), as_int, "s")
        else:
            facts[field] = Value(default, origin="default", unit="s", key=field)
    idle = None
    if "tcpEstablishedIdleTimeoutSec" in data:
        idle = reader.value(data["tcpEstablishedIdleTimeoutSec"], base + ("tcpEstablishedIdleTimeoutSec",), as_int, "s")
    reader.add(Middlebox("gcp-cloud-nat", data.get("name", name), reader.span(base), idle_timeout=idle, facts=facts))


def _gcp_router(reader: FileReader, data: dict, base: tuple) -> None:
    nats = data.get("nats")
    if not isinstance(nats, list):
        reader.invalid(base + ("nats",), f"{path_text(base + ('nats',))}: not an array (a router lists its NATs in "
                                         "an array)", "gcloud compute routers describe ROUTER --format=json")
        return
    for i, nat in enumerate(nats):
        if isinstance(nat, dict):
            _cloud_nat(reader, nat, base + ("nats", i), f"{data.get('name', '')}/{nat.get('name', '')}")


def _backend_service(reader: FileReader, data: dict, base: tuple, name: str) -> None:
    if not _validate(reader, data, "gcp-backend-service", base):
        return
    scheme = data.get("loadBalancingScheme", "EXTERNAL")
    protocol = data.get("protocol", "HTTP")
    facts = {"load_balancing_scheme": reader.value(scheme, base + ("loadBalancingScheme",)),
             "protocol": reader.value(protocol, base + ("protocol",))}
    if "timeoutSec" in data:
        facts["timeout_sec"] = reader.value(data["timeoutSec"], base + ("timeoutSec",), as_int, "s")
    policy = data.get("connectionTrackingPolicy") or {}
    # what a packet whose tracking entry expired is hashed on (the session affinity; NONE = 5-tuple)
    facts["session_affinity"] = reader.value(data["sessionAffinity"], base + ("sessionAffinity",)) \
        if "sessionAffinity" in data else Value("NONE", origin="default", key="sessionAffinity")
    if "trackingMode" in policy:
        facts["tracking_mode"] = reader.value(policy["trackingMode"], base + ("connectionTrackingPolicy", "trackingMode"))
    link = str(data.get("selfLink") or "")
    scope = "regional" if "region" in data or "/regions/" in link else "global" if "/global/" in link else None
    from advisor.loaders.terraform import gcp_proxy_nlb

    if gcp_proxy_nlb(scheme, protocol, scope):
        # a proxy Network Load Balancer (TCP or SSL proxy): it closes a connection idle for the
        # backend service's timeoutSec (default 30 s; advisor.model.middlebox, gcp-proxy-lb)
        reader.add(Middlebox("gcp-proxy-lb", data.get("name", name), reader.span(base),
                             idle_timeout=facts.get("timeout_sec"),
                             facts={k: facts[k] for k in ("load_balancing_scheme", "protocol")}))
        return
    idle = None
    if scheme == "INTERNAL" and protocol in ("TCP", "UDP", "UNSPECIFIED"):
        # internal passthrough NLB: the connection tracking table's idle timeout (default 600 s);
        # its expiry ends no connection (advisor.model.middlebox, gcp-lb: "rehash")
        if "idleTimeoutSec" in policy:
            idle = reader.value(policy["idleTimeoutSec"], base + ("connectionTrackingPolicy", "idleTimeoutSec"), as_int, "s")
    elif scheme == "EXTERNAL" and protocol in ("TCP", "UDP", "UNSPECIFIED"):
        idle = Value(60, origin="default", unit="s", key="external passthrough (fixed 60 s)")
    else:
        # an Application Load Balancer (HTTP(S)): its timeoutSec is a response timeout, not
        # modelled (docs/cloud.md)
        return
    reader.add(Middlebox("gcp-lb", data.get("name", name), reader.span(base), idle_timeout=idle, facts=facts))


def _cloudsql(reader: FileReader, data: dict, base: tuple, options: dict) -> None:
    if not _validate(reader, data, "gcp-sql-instance", base):
        return
    from advisor.loaders.cloud_sizes import cloudsql_tier_memory
    from advisor.loaders.managed_pg import Entry

    version = str(data.get("databaseVersion", ""))
    if not version.startswith("POSTGRES"):
        return
    settings = data.get("settings", {})
    entries = [Entry(f.get("name", ""), f.get("value", "on"), reader.span(base + ("settings", "databaseFlags", i, "value")))
               for i, f in enumerate(settings.get("databaseFlags", []))]
    memory = None
    tier = settings.get("tier")
    if tier:
        ram = cloudsql_tier_memory(tier)
        if ram:
            memory = Value(ram, raw=tier, span=reader.span(base + ("settings", "tier")), unit="B", key="settings.tier")
    _managed(reader, "gcp-cloudsql", entries, _engine_major(version.split("_")[-1]), options, memory,
             data.get("name", ""))


# ------------------------------------------------------------------------------------------------
# Azure


def _props(obj: dict) -> tuple[dict, tuple]:
    """(fields, path suffix): ARM/REST JSON nests them under "properties", az CLI output does not."""
    if isinstance(obj.get("properties"), dict):
        return obj["properties"], ("properties",)
    return obj, ()


def _azure_lb(reader: FileReader, lb: dict, base: tuple, name: str, arm: "ArmParams | None" = None) -> None:
    if not _validate(reader, lb, "azure-load-balancer", base):
        return
    props, pre = _props(lb)
    lb_name = arm.text(lb.get("name", name)) if arm else lb.get("name", name)
    # what the fix depends on: TCP reset exists only on the Standard SKU, and in ARM from API
    # version 2018-07-01 on (2018-06-01 has no enableTcpReset)
    lb_facts: dict[str, Value] = {}
    sku = lb.get("sku")
    sku_name = _arm(arm, sku.get("name")) if isinstance(sku, dict) else None
    if isinstance(sku_name, str) and not _is_expression(sku_name):
        lb_facts["lb_sku"] = Value(sku_name, origin="set", key="sku.name")
    if arm is not None and isinstance(lb.get("apiVersion"), str):
        lb_facts["lb_api_version"] = Value(lb["apiVersion"], origin="set", key="apiVersion")
    for group in ("loadBalancingRules", "inboundNatRules", "outboundRules"):
        for i, rule in enumerate(props.get(group, []) or []):
            if not isinstance(rule, dict):
                continue
            rprops, rpre = _props(rule)
            where = base + pre + (group, i) + rpre
            facts: dict[str, Value] = {"rule_type": Value(group, origin="set", key=group), **lb_facts}
            idle = None
            if "idleTimeoutInMinutes" in rprops:
                idle = reader.value(_arm(arm, rprops["idleTimeoutInMinutes"]), where + ("idleTimeoutInMinutes",),
                                    lambda v: None if as_int(v) is None else as_int(v) * 60, "min")
            reset = Value(False, origin="default", key="enableTcpReset")
            if "enableTcpReset" in rprops:
                reset = reader.value(_arm(arm, rprops["enableTcpReset"]), where + ("enableTcpReset",), as_bool)
            facts["enable_tcp_reset"] = reset
            for field in ("protocol", "frontendPort", "backendPort"):
                if field in rprops:
                    facts[field] = reader.value(_arm(arm, rprops[field]), where + (field,))
            expiry = "rst" if reset.known and reset.value else ("drop" if reset.known else None)
            rule_name = arm.text(rule.get("name", str(i))) if arm else rule.get("name", str(i))
            listens, targets = [], []
            if isinstance(rprops.get("frontendPort"), int) and rprops["frontendPort"]:
                listens = [f"*:{rprops['frontendPort']}"]
            if isinstance(rprops.get("backendPort"), int) and rprops["backendPort"]:
                targets = [f"*:{rprops['backendPort']}"]  # the port it forwards to (discovery)
            reader.add(Middlebox("azure-lb", f"{lb_name}/{rule_name}", reader.span(base + pre + (group, i)),
                                 idle_timeout=idle, on_expiry=expiry, facts=facts, listens=listens, targets=targets,
                                 aliases=(str(rule_name),)))


def _azure_nat(reader: FileReader, gw: dict, base: tuple, name: str, arm: "ArmParams | None" = None) -> None:
    if not _validate(reader, gw, "azure-nat-gateway", base):
        return
    props, pre = _props(gw)
    idle = None
    if "idleTimeoutInMinutes" in props:
        idle = reader.value(_arm(arm, props["idleTimeoutInMinutes"]), base + pre + ("idleTimeoutInMinutes",),
                            lambda v: None if as_int(v) is None else as_int(v) * 60, "min")
    reader.add(Middlebox("azure-nat", arm.text(gw.get("name", name)) if arm else gw.get("name", name),
                         reader.span(base), idle_timeout=idle))


class ArmParams:
    """An ARM template's parameters: `[parameters('x')]` resolves to x's defaultValue, else unknown."""

    def __init__(self, template: dict) -> None:
        self.params = template.get("parameters") if isinstance(template.get("parameters"), dict) else {}

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        m = re.fullmatch(r"\s*\[\s*parameters\(\s*'([^']+)'\s*\)\s*\]\s*", value)
        if m:
            spec = self.params.get(m.group(1))
            if isinstance(spec, dict) and "defaultValue" in spec and not _is_expression(str(spec["defaultValue"])):
                return spec["defaultValue"]
        return value

    def text(self, value: Any) -> str:
        value = self.resolve(value)
        return str(value)


def _arm(arm: ArmParams | None, value: Any) -> Any:
    return arm.resolve(value) if arm else value


def _arm_template(reader: FileReader, data: dict, options: dict) -> None:
    arm = ArmParams(data)
    for i, res in enumerate(data.get("resources", []) or []):
        if not isinstance(res, dict):
            continue
        rtype = str(res.get("type", "")).lower()
        name = arm.text(res.get("name", ""))
        if rtype == "microsoft.network/loadbalancers":
            _azure_lb(reader, res, ("resources", i), name, arm)
        elif rtype == "microsoft.network/natgateways":
            _azure_nat(reader, res, ("resources", i), name, arm)


def _azure_pg_parameters(reader: FileReader, data: list, options: dict) -> None:
    if not _validate(reader, data, "azure-pg-flexible-parameters"):
        return
    from advisor.loaders.managed_pg import Entry

    entries = []
    for i, p in enumerate(data):
        props, pre = _props(p)
        if props.get("value") is None:
            continue
        source = str(props.get("source", "user-override"))
        entries.append(Entry(p.get("name", ""), props["value"], reader.span((i,) + pre + ("value",)),
                             user_set=source == "user-override"))
    _managed(reader, "azure-flexible", entries, None, options)


# ------------------------------------------------------------------------------------------------
# dispatch


def _shapes(reader: FileReader, data: Any, base: tuple, name: str, options: dict) -> bool:
    """Read every shape found in `data`; False when none was recognised."""
    if isinstance(data, list):
        if data and all(isinstance(p, dict) and "flexibleServers/configurations" in str(p.get("type", ""))
                        for p in data):
            _azure_pg_parameters(reader, data, options)
            return True
        if data and all(isinstance(x, dict) for x in data):
            found = False
            for i, item in enumerate(data):
                found |= _shapes(reader, item, base + (i,), name, options)
            return found
        return False
    if not isinstance(data, dict):
        return False
    keys = set(data)
    if "Attributes" in keys:
        _elbv2_attributes(reader, data, base, name)
    elif "LoadBalancers" in keys:
        _elbv2_load_balancers(reader, data, base)
    elif "Listeners" in keys:
        _elbv2_listeners(reader, data, base)
    elif "LoadBalancerAttributes" in keys:
        _elb_attributes(reader, data, base, name)
    elif "NatGateways" in keys:
        _nat_gateways(reader, data, base)
    elif "DBProxies" in keys:
        _db_proxies(reader, data, base)
    elif "TargetGroups" in keys and ("DBProxyName" in str(data["TargetGroups"])[:2000]):
        _db_proxy_target_groups(reader, data, base)
    elif "DBInstances" in keys:
        _db_instances(reader, data, base, "DBInstances")
    elif "DBClusters" in keys:
        _db_instances(reader, data, base, "DBClusters")
    elif "Parameters" in keys and isinstance(data["Parameters"], list):
        _rds_parameters(reader, data, base, options)
    elif "EngineDefaults" in keys and isinstance(data["EngineDefaults"], dict):
        _rds_parameters(reader, {"Parameters": data["EngineDefaults"].get("Parameters", []),
                                 "EngineDefaults": data["EngineDefaults"]}, base + ("EngineDefaults",), options)
    elif data.get("kind") == "sql#instance" or ("databaseVersion" in keys and "settings" in keys):
        _cloudsql(reader, data, base, options)
    elif data.get("kind") == "compute#router" or ("nats" in keys and "network" in keys):
        _gcp_router(reader, data, base)
    elif data.get("kind") == "compute#backendService" or "loadBalancingScheme" in keys:
        _backend_service(reader, data, base, name)
    elif any(k in keys for k in ("tcpEstablishedIdleTimeoutSec", "natIpAllocateOption",
                                 "sourceSubnetworkIpRangesToNat")):
        _cloud_nat(reader, data, base, name)
    elif "resources" in keys and isinstance(data.get("resources"), list) and (
            "$schema" in keys or "contentVersion" in keys):
        _arm_template(reader, data, options)
    elif str(data.get("type", "")).lower() == "microsoft.network/loadbalancers" or \
            "loadBalancingRules" in keys or (isinstance(data.get("properties"), dict)
                                             and "loadBalancingRules" in data["properties"]):
        _azure_lb(reader, data, base, name)
    elif str(data.get("type", "")).lower() == "microsoft.network/natgateways":
        _azure_nat(reader, data, base, name)
    elif isinstance(data.get("examples"), dict) and data.get("version"):
        return _botocore_examples(reader, data, options)
    else:
        return False
    return True


def _botocore_examples(reader: FileReader, data: dict, options: dict) -> bool:
    """botocore's examples-1.json: the `output` of each documented call, read as that call's shape."""
    found = False
    for op, cases in data["examples"].items():
        if not op.startswith("Describe") or not isinstance(cases, list):
            continue
        for i, case in enumerate(cases):
            output = case.get("output") if isinstance(case, dict) else None
            if isinstance(output, dict) and output:
                found |= _shapes(reader, output, ("examples", op, i, "output"), f"{op}[{i}]", options)
    return found


def load(path: str, options: dict | None = None):
    options = options or {}
    text = read_text(path)
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        parsed = parse(text)
    except JsonError as exc:
        reader = FileReader(path, None, "json")
        reader.doc.diagnostics.append(Diagnostic("syntax-error", Span(path, exc.line, exc.col),
                                                 f"invalid JSON: {exc.message}",
                                                 "fix the JSON (e.g. `python3 -m json.tool FILE` shows the first "
                                                 "error)"))
        return reader.doc
    reader = FileReader(path, parsed, "json")
    try:
        found = _shapes(reader, parsed.value, (), name, options)
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
        # a structure no schema foresaw: said at the file, never a traceback (the property tests
        # in tests/test_cloud_properties.py look for this message to find such holes)
        found = True
        reader.doc.diagnostics.append(Diagnostic(
            "cloud-invalid-field", Span(path, 1, 1, key="$"),
            f"unexpected structure for a cloud CLI/API output ({type(exc).__name__}); pgpath read no value from it",
            "check that the file is the unmodified JSON output of one command (see docs/cloud.md)"))
    if not found:
        reader.doc.meta["skipped"] = "no cloud shape pgpath reads (see docs/cloud.md)"
    doc = reader.doc
    docs = ([doc] if doc.model.middleboxes or doc.diagnostics or doc.meta or not reader.extra_docs else []) \
        + reader.extra_docs
    return docs if len(docs) > 1 else docs[0]


# ------------------------------------------------------------------------------------------------
# linking: parameter formulas and instance memory from the run's instance descriptions


def link(docs: list[ConfigDoc], options: dict) -> list[ConfigDoc]:
    """Rebuild managed RDS parameter documents once the run's DB instances are known."""
    instances = [inst for d in docs for inst in d.meta.get("db_instances", ())]
    out = []
    for doc in docs:
        pending = _PENDING.pop(id(doc), None)
        if pending is None or pending[0] is not doc or not pending[1].startswith("aws"):
            out.append(doc)
            continue
        _, platform, entries, major, memory, host_name, opts, scope = pending
        inst = _instance_for(doc, instances, options)
        if inst is None:
            out.append(doc)
            continue
        from advisor.loaders.managed_pg import build

        where = inst.get("class_span") or inst.get("span")  # (an Aurora cluster's class is its instances')
        span = Span(**where) if where else Span(doc.path)
        ram = Value(inst["memory"], raw=inst.get("instance_class"), span=span, unit="B", key="DBInstanceClass") \
            if inst.get("memory") else None
        variables = {"DBInstanceClassMemory": inst["memory"]} if inst.get("memory") else {}
        if inst.get("endpoint") and ":" in str(inst["endpoint"]):
            variables["EndPointPort"] = int(str(inst["endpoint"]).rsplit(":", 1)[1])
        fixed = opts.get("pg_major_fixed")
        chosen = opts.get("pg_major") if fixed else (major or inst.get("pg_major") or opts.get("pg_major"))
        new = build(doc.path, platform, entries, chosen, ram, inst.get("id") or host_name, variables, scope)
        new.meta["instance"] = {k: inst.get(k) for k in ("id", "instance_class", "endpoint")}
        if doc.meta.get("parameter_group"):
            new.meta["parameter_group"] = doc.meta["parameter_group"]  # (discovery puts it behind an RDS Proxy)
        new.meta["major_from"] = "option" if fixed else ("file" if major else (
            "instance" if inst.get("pg_major") else doc.meta["major_from"]))
        if not fixed and (major or inst.get("pg_major")):
            named = major or inst.get("pg_major")
            span = inst.get("span") or {}
            where = f"{span.get('file')}:{span['line']}" if span.get("file") and span.get("line") else doc.path
            new.meta["pg_version_found"] = (f"PostgreSQL {named} named for this parameter group in {doc.path}" if major
                                            else f"engine version {named} of instance {inst.get('id') or '?'} in "
                                            f"{where}")
        out.append(new)
    return out


def _instance_for(doc: ConfigDoc, instances: list[dict], options: dict) -> dict | None:
    """The DB instance whose parameter group this document lists: the instance naming the group
    (Terraform `parameter_group_name = aws_db_parameter_group.pg.name`, or the group's name in the
    file name of a describe-db-parameters output), else the only instance class of the run, else
    an `instance_class` option (pgpath.yaml `extra:`)."""
    stem = os.path.splitext(os.path.basename(doc.path))[0]
    names = set(doc.meta.get("parameter_group") or ())
    named = [i for i in instances if any(g and (g in names or g in stem) for g in i.get("parameter_groups", []))]
    if len({i.get("instance_class") for i in named}) == 1:
        return named[0]
    classes = {i.get("instance_class") for i in instances if i.get("instance_class")}
    if len(classes) == 1:
        return next(i for i in instances if i.get("instance_class"))
    if options.get("instance_class"):
        from advisor.loaders.cloud_sizes import rds_class_memory

        klass = str(options["instance_class"])
        return {"instance_class": klass, "memory": rds_class_memory(klass), "span": None}
    return None
