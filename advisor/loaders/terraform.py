"""Terraform: plan JSON (`terraform show -json`) and `.tf` sources, for the resources that cut or
configure PostgreSQL connections.

Both forms are read into the same neutral `Resource` (type, address, attributes as `Value`s with
spans, nested blocks) and then interpreted once (`_interpret`):

- a plan's `resource_changes[].change.after` (else `planned_values`): a value listed in
  `after_unknown` is known only after apply and is `Unknown`; spans carry the plan line and the
  resource address as `key` (`aws_lb_listener.pg.tcp_idle_timeout_seconds`);
- a `.tf` file through python-hcl2 (imported only here), with the line and column of every
  attribute: a literal is known; `var.x` resolves to a value set in `terraform.tfvars` /
  `*.auto.tfvars` beside it, else to the `default` of `variable "x"` in the same directory; any
  other expression (a variable without default, a local, a module output, another resource's
  attribute, a function call, a conditional, an interpolated string) is `Unknown`, never guessed.

Resources (see docs/cloud.md): aws_lb, aws_lb_listener, aws_elb, aws_db_proxy,
aws_db_proxy_default_target_group, aws_db_proxy_target, aws_db_instance, aws_rds_cluster, aws_rds_cluster_instance,
aws_db_parameter_group, aws_rds_cluster_parameter_group, aws_route53_record (a name for a load
balancer or an instance, which path discovery follows), aws_nat_gateway, google_compute_router_nat,
google_compute_backend_service, google_compute_region_backend_service,
google_sql_database_instance, azurerm_lb_rule, azurerm_lb_outbound_rule, azurerm_nat_gateway,
azurerm_postgresql_flexible_server, azurerm_postgresql_flexible_server_configuration.
A field the provider ignores for a resource's type (`idle_timeout` on a network load balancer)
is not used. Secret attributes (passwords, connection strings) are never read.
"""

from __future__ import annotations

import glob
import os
import re
from typing import Any

from advisor import lazy_re
from advisor.loaders.source import InputError, read_text
from advisor.units import decimal, shorten
from advisor.model import ConfigDoc, Diagnostic, Span, Unknown
from advisor.model.client import Value
from advisor.model.middlebox import Middlebox, MiddleboxFile

KIND = "terraform"

RESOURCE_TYPES = (
    "aws_lb", "aws_alb", "aws_lb_listener", "aws_alb_listener", "aws_lb_target_group", "aws_alb_target_group", "aws_elb", "aws_db_proxy",
    "aws_db_proxy_default_target_group", "aws_db_proxy_target", "aws_db_instance", "aws_rds_cluster",
    "aws_rds_cluster_instance", "aws_db_parameter_group", "aws_route53_record", "aws_rds_cluster_parameter_group",
    "aws_nat_gateway", "google_compute_router_nat",
    "google_compute_backend_service", "google_compute_region_backend_service", "google_sql_database_instance",
    "azurerm_lb", "azurerm_lb_rule", "azurerm_lb_outbound_rule", "azurerm_nat_gateway", "azurerm_postgresql_flexible_server",
    "azurerm_postgresql_flexible_server_configuration",
)
_TF_SIGNAL = lazy_re.compile(r'^\s*(?:resource\s+"(?:' + "|".join(RESOURCE_TYPES) + r')"|variable\s+"[\w-]+")',
                             re.MULTILINE)


def detect_tf(name: str, text: str) -> str | None:
    """A .tf file declaring one of the resources read here, or variables (their defaults resolve `var.x`)."""
    return KIND if _TF_SIGNAL.search(text[:2_000_000]) else None


def detect_plan(name: str, text: str) -> str | None:
    head = text[:200_000]
    if '"format_version"' in head and ('"planned_values"' in head or '"resource_changes"' in head):
        return KIND
    return None


class Resource:
    """One resource, whatever the source: attributes are Values (origin `set`), blocks lists of dicts."""

    __slots__ = ("type", "name", "address", "attrs", "blocks", "span", "refs", "configured")

    def __init__(self, rtype: str, name: str, address: str, attrs: dict[str, Value], blocks: dict[str, list],
                 span: Span) -> None:
        self.type = rtype
        self.name = name
        self.address = address
        self.attrs = attrs
        self.blocks = blocks  # name -> list of Resource-like bodies (Resource with type = block name)
        self.span = span
        # attribute -> the address of the resource its expression names (a plan's configuration
        # references, module-qualified; a .tf expression keeps its reference in the Unknown's text)
        self.refs: dict[str, str] = {}
        self.configured = False  # a plan's configuration snapshot describes it (its refs are all there are)

    def get(self, name: str) -> Value | None:
        value = self.attrs.get(name)
        return None if value is None or value.value is None else value

    def literal(self, name: str, default: Any = None) -> Any:
        value = self.get(name)
        return default if value is None or not value.known else value.value


# ------------------------------------------------------------------------------------------------
# plan JSON


def _plan_resources(path: str, parsed) -> list[Resource]:
    data = parsed.value
    out: list[Resource] = []

    def span_at(where: tuple, key: str) -> Span:
        pos = parsed.where(where)
        return Span(path, pos[0], pos[1], key=key) if pos else Span(path, key=key)

    def body(rtype, name, address, values, unknown, where, key_prefix) -> Resource:
        attrs: dict[str, Value] = {}
        blocks: dict[str, list] = {}
        unknown = unknown if isinstance(unknown, dict) else {}
        for field, value in (values or {}).items():
            here = where + (field,)
            key = f"{key_prefix}.{field}"
            if unknown.get(field) is True:
                attrs[field] = Value(Unknown("known after apply"), raw="(known after apply)", span=span_at(here, key),
                                     key=key)
            elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                sub_unknown = unknown.get(field) if isinstance(unknown.get(field), list) else []
                blocks[field] = [body(field, "", address, v, sub_unknown[i] if i < len(sub_unknown) else {},
                                      here + (i,), f"{key}[{i}]") for i, v in enumerate(value)]
            else:
                attrs[field] = Value(value, raw=_raw(value), span=span_at(here, key), key=key)
        for field, flag in unknown.items():
            if flag is True and field not in attrs:
                here = where
                attrs[field] = Value(Unknown("known after apply"), raw="(known after apply)",
                                     span=span_at(here, f"{key_prefix}.{field}"), key=f"{key_prefix}.{field}")
        return Resource(rtype, name, address, attrs, blocks, span_at(where, address))

    configured = _configuration(data)

    def refer(res: Resource, expressions) -> None:
        """What the configuration says each attribute (and nested block) of `res` refers to."""
        prefix, exprs = expressions
        for field, expr in (exprs or {}).items():
            if isinstance(expr, dict):
                target = _referenced(expr, prefix)
                if target:
                    res.refs[field] = target
            elif isinstance(expr, list):
                for block, sub in zip(res.blocks.get(field, ()), expr):
                    if isinstance(sub, dict):
                        refer(block, (prefix, sub))

    def configure(res: Resource, module_address: str) -> None:
        expressions = configured.get(_base(f"{module_address + '.' if module_address else ''}{res.type}.{res.name}"))
        if expressions is not None:
            refer(res, expressions)
            res.configured = True

    changes = data.get("resource_changes") if isinstance(data, dict) else None
    if isinstance(changes, list) and changes:
        for i, rc in enumerate(changes):
            if not isinstance(rc, dict) or rc.get("mode", "managed") != "managed" or rc.get("type") not in RESOURCE_TYPES:
                continue
            change = rc.get("change") or {}
            if "delete" in (change.get("actions") or []) and change.get("after") is None:
                continue
            after = change.get("after")
            if not isinstance(after, dict):
                continue
            address = rc.get("address", f"{rc.get('type')}.{rc.get('name')}")
            out.append(body(rc["type"], rc.get("name", ""), address, after, change.get("after_unknown"),
                            ("resource_changes", i, "change", "after"), address))
            configure(out[-1], str(rc.get("module_address") or ""))
        _pair_listeners(out)
        return out
    planned = (data.get("planned_values") or {}).get("root_module") if isinstance(data, dict) else None

    def walk(module, where):
        if not isinstance(module, dict):
            return
        for i, res in enumerate(module.get("resources") or []):
            if isinstance(res, dict) and res.get("mode", "managed") == "managed" and res.get("type") in RESOURCE_TYPES:
                address = res.get("address", f"{res.get('type')}.{res.get('name')}")
                out.append(body(res["type"], res.get("name", ""), address, res.get("values") or {}, {},
                                where + ("resources", i, "values"), address))
                configure(out[-1], str(module.get("address") or ""))
        for j, child in enumerate(module.get("child_modules") or []):
            walk(child, where + ("child_modules", j))

    walk(planned, ("planned_values", "root_module"))
    _pair_listeners(out)
    return out


# an instance key in an address: aws_lb_listener.pg["5432"], module.db[0].aws_lb.x
_INSTANCE_KEY = lazy_re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|\d+)\]')
# the first names of references that are not a managed resource
_NOT_RESOURCE = frozenset(("var", "local", "module", "data", "each", "count", "path", "terraform", "self"))
_REFERENCE = lazy_re.compile(r"([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)")
_LISTENERS = ("aws_lb_listener", "aws_alb_listener")
_NLB_PROTOCOLS = ("TCP", "TLS", "UDP", "TCP_UDP")


def _base(address: str) -> str:
    """The configuration address of a resource instance: its instance keys removed."""
    return _INSTANCE_KEY.sub("", address)


def _configuration(data) -> dict[str, tuple[str, dict]]:
    """{module-qualified `type.name`: (module prefix, expressions)} from a plan's configuration
    snapshot (`terraform show -json` writes it beside the changes), root and called modules."""
    out: dict[str, tuple[str, dict]] = {}

    def walk(module, prefix: str, depth: int) -> None:
        if not isinstance(module, dict) or depth > 64:
            return
        for res in module.get("resources") or ():
            if isinstance(res, dict) and res.get("mode", "managed") == "managed" \
                    and isinstance(res.get("expressions"), dict):
                out[f"{prefix}{res.get('type')}.{res.get('name')}"] = (prefix, res["expressions"])
        calls = module.get("module_calls")
        for name, call in (calls.items() if isinstance(calls, dict) else ()):
            if isinstance(call, dict):
                walk(call.get("module"), f"{prefix}module.{name}.", depth + 1)

    config = data.get("configuration") if isinstance(data, dict) else None
    if isinstance(config, dict):
        walk(config.get("root_module"), "", 0)
    return out


def _referenced(expr: dict, prefix: str) -> str | None:
    """The managed resource an expression refers to (`aws_lb.pg` of `aws_lb.pg.arn`), qualified
    with its module; None for a variable, a local, a module output, a data source."""
    for ref in expr.get("references") or ():
        m = _REFERENCE.match(str(ref))
        if m and m.group(1) not in _NOT_RESOURCE:
            return f"{prefix}{m.group(1)}.{m.group(2)}"
    return None


def _pair_listeners(resources: list[Resource]) -> None:
    """A plan's listeners whose configuration says nothing of their load balancer: paired by the
    ARN when it is known (an existing load balancer), else, when the ARN is known only after apply,
    with the one network load balancer the plan creates (an ARN is unknown at plan time only
    because the resource that has it is created in this plan). Several: not paired."""
    nlbs = [r for r in resources if r.type in ("aws_lb", "aws_alb")
            and r.literal("load_balancer_type", "application") == "network"]
    created = [r for r in nlbs if r.get("arn") is None or not r.get("arn").known]
    for res in resources:
        if res.type not in _LISTENERS or res.configured:
            continue
        if str(res.literal("protocol", "") or "").upper() not in _NLB_PROTOCOLS:
            continue  # an application load balancer's listener (HTTP, HTTPS), or one whose protocol is unknown
        arn = res.get("load_balancer_arn")
        if arn is not None and arn.known:
            owners = [r for r in nlbs if r.literal("arn") == arn.value]
        else:
            owners = created
        if len(owners) == 1:
            res.refs["load_balancer_arn"] = _base(owners[0].address)


def _raw(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "null" if value is None else str(value)


# ------------------------------------------------------------------------------------------------
# .tf sources


class _Hcl:
    """A parsed .tf file: its blocks with positions, through python-hcl2's rule tree."""

    def __init__(self, path: str, text: str) -> None:
        import hcl2

        self.path = path
        self.tree = hcl2.api.parses(text)

    def blocks(self):
        from hcl2.rules.base import BlockRule

        for child in self.tree.body.children:
            if isinstance(child, BlockRule):
                yield child


def _label(node) -> str:
    text = node.serialize()
    return text[1:-1] if isinstance(text, str) and text[:1] == '"' and text[-1:] == '"' else str(text)


def _line_col(node) -> tuple[int | None, int | None]:
    meta = getattr(node, "_meta", None)
    line = getattr(meta, "line", None) if meta is not None else None
    col = getattr(meta, "column", None) if meta is not None else None
    return line, col


class _Vars:
    """`var.x` values of a directory: *.auto.tfvars / terraform.tfvars first, then defaults."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[Any, Span]] = {}
        self.declared: set[str] = set()
        self.null: set[str] = set()  # declared with `default = null`: no value unless set elsewhere

        self.unreadable: tuple[str, str, int, int] | None = None  # a .tfvars Terraform loads that cannot be read

    def resolve(self, name: str) -> tuple[Any, Span] | None:
        return None if self.unreadable else self.values.get(name)


def _convert(raw: Any, variables: _Vars | None) -> tuple[Any, Span | None]:
    """A serialized hcl2 expression -> (value or Unknown, span of the variable it came from)."""
    if isinstance(raw, bool) or isinstance(raw, (int, float)):
        return raw, None
    if raw is None:
        return None, None
    if isinstance(raw, str):
        if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
            inner = raw[1:-1]
            if "${" in inner or "%{" in inner:
                m = re.fullmatch(r"\$\{\s*var\.([A-Za-z_][\w-]*)\s*\}", inner)
                if m and variables is not None and variables.resolve(m.group(1)) is not None:
                    value, where = variables.resolve(m.group(1))
                    return (value if isinstance(value, str) else _raw(value)), where
                return Unknown(inner), None
            return inner.replace('\\"', '"').replace("\\\\", "\\"), None
        m = re.fullmatch(r"\$\{\s*var\.([A-Za-z_][\w-]*)\s*\}", raw)
        if m and variables is not None and variables.resolve(m.group(1)) is not None:
            return variables.resolve(m.group(1))
        if raw in ("null", "${null}"):
            return None, None
        if raw in ("true", "false"):
            return raw == "true", None
        if re.fullmatch(r"-?\d+(\.\d+)?", raw):
            return (float(raw) if "." in raw else int(raw)), None
        return Unknown(raw[2:-1] if raw.startswith("${") and raw.endswith("}") else raw), None
    return Unknown(str(raw)), None


def _int_literal(expression) -> str | None:
    """The digits of an expression that is one integer literal (python-hcl2's int() refuses more
    than 4300 of them), else None."""
    from hcl2.rules.literal_rules import IntLitRule

    parts = [c for c in getattr(expression, "children", None) or () if c is not None]
    if len(parts) == 1 and isinstance(parts[0], IntLitRule):
        token = next((t for t in parts[0].children or () if t is not None), None)
        text = str(getattr(token, "value", ""))
        return text if text.isdigit() else None
    return None


def _tf_body(path: str, block_body, rtype: str, name: str, address: str, span: Span, variables: _Vars) -> Resource:
    from hcl2.rules.base import AttributeRule, BlockRule

    attrs: dict[str, Value] = {}
    blocks: dict[str, list] = {}
    for child in block_body.children:
        if isinstance(child, AttributeRule):
            field = child.identifier.serialize()
            line, col = _line_col(child)
            vline, vcol = _line_col(child.expression)
            key = f"{address}.{field}"
            literal = None
            try:
                raw = child.expression.serialize()
            except Exception:  # an expression python-hcl2 cannot render: unknown, never a traceback
                # (but an integer past Python's 4300 digits, which HCL's numbers hold, is that number:
                # the provider's range check refuses it, and so does pgpath's)
                literal = _int_literal(child.expression)
                raw = "${...}" if literal is None else decimal(literal)
            value, from_var = _convert(raw, variables)
            shown = literal or (raw if isinstance(raw, str) else _raw(raw))
            attrs[field] = Value(value, raw=shown, span=Span(path, vline or line, vcol or col, key=key), key=key,
                                 hint=str(from_var) if from_var is not None else None)
            if isinstance(value, dict):  # an object attribute (tags = {...}): not read
                attrs[field] = Value(Unknown("object"), raw="{...}", span=attrs[field].span, key=key)
        elif isinstance(child, BlockRule):
            bname = _label(child.labels[0])
            line, col = _line_col(child)
            index = len(blocks.get(bname, []))
            bkey = f"{address}.{bname}[{index}]"
            blocks.setdefault(bname, []).append(
                _tf_body(path, child.body, bname, "", bkey, Span(path, line, col, key=bkey), variables))
    return Resource(rtype, name, address, attrs, blocks, span)


def _directory_vars(path: str, options: dict) -> _Vars:
    """Variable defaults of the .tf files in the file's directory, then the auto-loaded .tfvars."""
    variables = _Vars()
    folder = os.path.dirname(os.path.abspath(path))
    for tf in sorted(glob.glob(os.path.join(folder, "*.tf"))):
        try:
            text = read_text(tf)
        except InputError:
            continue
        if "variable" not in text:
            continue
        try:
            hcl = _Hcl(tf, text)
        except Exception:  # a sibling that does not parse: its own load reports it
            continue
        shown = tf if os.path.abspath(tf) != os.path.abspath(path) else path
        for block in hcl.blocks():
            labels = block.labels
            if _label(labels[0]) != "variable" or len(labels) < 2:
                continue
            name = _label(labels[1])
            variables.declared.add(name)
            body = _tf_body(shown, block.body, "variable", name, f"var.{name}", Span(shown), _Vars())
            default = body.attrs.get("default")
            if default is not None and default.value is None:
                variables.null.add(name)
            elif default is not None and not isinstance(default.value, Unknown):
                variables.values[name] = (default.value, default.span)
    tfvars = sorted(glob.glob(os.path.join(folder, "*.auto.tfvars")))
    if os.path.lexists(os.path.join(folder, "terraform.tfvars")):  # (a folder or looping link: unreadable)
        tfvars.insert(0, os.path.join(folder, "terraform.tfvars"))
    for tv in tfvars:  # later files win, as Terraform loads them (terraform.tfvars, then *.auto.tfvars)
        # one that cannot be read (not HCL, binary, UTF-16, too large, a folder or looping link) makes
        # `terraform plan` fail, and may set any variable: no var.x is known (a default was taken)
        try:
            hcl = _Hcl(tv, read_text(tv))
        except InputError as exc:
            variables.unreadable = (tv, exc.message, exc.line or 1, 1)
            break
        except Exception as exc:  # noqa: BLE001 - python-hcl2 (lark) raises its own errors
            line, col = getattr(exc, "line", None), getattr(exc, "column", None)
            message = _hcl_error(exc)
            variables.unreadable = (tv, f"not valid HCL: {message}", line if isinstance(line, int) else 1,
                                    col if isinstance(col, int) else 1)
            break
        body = _tf_body(tv, hcl.tree.body, "tfvars", "", "tfvars", Span(tv), _Vars())
        for name, value in body.attrs.items():
            if value.known:
                variables.values[name] = (value.value, value.span)
    return variables


def _tf_resources(path: str, text: str, options: dict, doc: ConfigDoc) -> list[Resource]:
    hcl = _Hcl(path, text)
    variables = _directory_vars(path, options)
    if variables.unreadable and "var." in text:
        tv, why, line, col = variables.unreadable
        name = os.path.basename(tv)
        doc.diagnostics.append(Diagnostic(
            "include-error", Span(os.path.join(os.path.dirname(path), name), line, col),
            f"cannot read {name}: {why}; Terraform loads it for every plan of this folder (terraform plan "
            "fails), so no var.* value of the folder is known",
            f"correct {name} (terraform fmt / terraform validate show the error)"))
    out = []
    declared = []
    for block in hcl.blocks():
        labels = block.labels
        kind = _label(labels[0])
        line, col = _line_col(block)
        if kind == "variable" and len(labels) >= 2:
            name = _label(labels[1])
            resolved = variables.resolve(name)
            if resolved is not None:
                # numbers and booleans only: a string default may be a password
                value = resolved[0] if isinstance(resolved[0], (bool, int, float)) else "(a string)"
                shown = {"value": value, "from": str(resolved[1])}
            else:
                shown = {"value": None, "unknown": "default null" if name in variables.null
                         else "no usable default (none, or an object/expression)"}
            declared.append({"name": name, "line": line, **shown})
        if kind != "resource" or len(labels) < 3:
            continue
        rtype, name = _label(labels[1]), _label(labels[2])
        if rtype not in RESOURCE_TYPES:
            continue
        address = f"{rtype}.{name}"
        out.append(_tf_body(path, block.body, rtype, name, address, Span(path, line, col, key=address), variables))
    if declared:
        doc.meta["variables"] = declared
    return out


# ------------------------------------------------------------------------------------------------
# interpretation (plan and .tf alike)


class _Out:
    def __init__(self, path: str, fmt: str) -> None:
        self.path = path
        self.doc = ConfigDoc(path=path, kind=KIND, files=[path], model=MiddleboxFile(fmt))
        # (platform, entries, major, memory, name, group_names, Aurora scope "cluster"/"instance" or None)
        self.pg: list[tuple] = []
        # name (as in self.pg) -> the exact addresses a managed server is reached at, for path
        # discovery (doc.meta["addresses"]): an Azure flexible server's FQDN
        self.addresses: dict[str, list[dict]] = {}

    def add(self, box: Middlebox, res: "Resource | None" = None) -> None:
        """Add a middlebox; `res`, the resource it was read from, gives it the other of its two names
        (the address and the `name` attribute) as an alias for the topology's `name:`."""
        if res is not None:
            name = res.literal("name")
            box.aliases = tuple(a for a in dict.fromkeys((res.address, name if isinstance(name, str) else None))
                                if a and a != box.name)
        self.doc.model.middleboxes.append(box)

    def invalid(self, value: Value, message: str, fix: str | None = None) -> None:
        self.doc.diagnostics.append(Diagnostic("cloud-invalid-field", value.span, message, fix))


def _seconds(res: Resource, field: str, out: _Out, lo: int, hi: int, factor: int = 1, unit: str = "s") -> Value | None:
    """An idle-timeout attribute as a Value in seconds; out of range -> CLD001 diagnostic and None."""
    value = res.get(field)
    if value is None:
        return None
    if not value.known:
        return Value(value.value, raw=value.raw, span=value.span, key=value.key, unit=unit)
    number = value.value
    if isinstance(number, str) and re.fullmatch(r"\s*\d+\s*", number):
        number = decimal(number.strip())  # a string the provider converts ("1200" in a variable default)
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        from advisor.loaders.cloud import harmless

        shown = value.raw if harmless(str(value.raw)) else "a string (not shown)"
        out.invalid(value, f"{res.address}: {field} = {shown} is not a number", f"{field} = {lo}..{hi}")
        return Value(Unknown(shown), raw=shown, span=value.span, key=value.key, unit=unit, error="not a number")
    if not lo <= number <= hi:
        # (an int literal of 400 digits has no float to format with :g)
        shown = f"{number:g}" if isinstance(number, float) else shorten(str(value.raw or number))
        out.invalid(value, f"{res.address}: {field} = {shown} is outside the range the provider accepts "
                           f"({lo}-{hi} {'min' if factor == 60 else 's'})",
                    f"{field} = {min(max(number, lo), hi):g}")
        # the provider refuses it: what the middlebox will use is not known (never the default)
        return Value(Unknown(value.raw or ""), raw=value.raw, span=value.span, key=value.key, unit=unit,
                     error="out of range")
    return Value(int(number) * factor, raw=value.raw, span=value.span, key=value.key, unit=unit)


def _bool(res: Resource, *fields: str) -> Value | None:
    for field in fields:
        value = res.get(field)
        if value is not None:
            if value.known and isinstance(value.value, str) and value.value.lower() in ("true", "false"):
                return Value(value.value.lower() == "true", raw=value.raw, span=value.span, key=value.key)
            return value
    return None


def _engine_major(version: Any) -> int | None:
    m = re.match(r"\s*(?:POSTGRES_)?(\d+)", str(version or ""))
    return int(m.group(1)) if m else None


def _ref(value: Value | None) -> str | None:
    """`aws_db_parameter_group.pg` from `${aws_db_parameter_group.pg.name}`; a literal as written."""
    if value is None:
        return None
    if value.known:
        return str(value.value)
    m = re.search(r"\b([a-z0-9_]+\.[A-Za-z0-9_-]+)\.(?:name|id)\b", getattr(value.value, "text", ""))
    return m.group(1) if m else None


def _ref_attr(value: Value | None) -> str | None:
    """`aws_lb_target_group.pg` from `${aws_lb_target_group.pg.arn}`."""
    if value is None or value.known:
        return None
    m = re.search(r"\b([a-z0-9_]+\.[A-Za-z0-9_-]+)\.(?:arn|id|name)\b", getattr(value.value, "text", ""))
    return m.group(1) if m else None


def _dns_owner(value: Value | None) -> str | None:
    """`aws_lb.pg` of `aws_lb.pg.dns_name` (`aws_db_instance.pg.address`, `aws_db_proxy.pg.endpoint`)."""
    if value is None or value.known:
        return None
    m = re.search(r"\b((?:aws_lb|aws_alb|aws_elb|aws_db_instance|aws_rds_cluster|aws_db_proxy)\.[A-Za-z0-9_-]+)"
                  r"(?:\[[^\]]*\])?\.(?:dns_name|address|endpoint)\b", str(getattr(value.value, "text", value.raw)))
    return m.group(1) if m else None


def _identifier(res: Resource, field: str) -> str | None:
    """The DB instance or cluster an `aws_db_proxy_target` names: the address of the resource its
    expression refers to (`aws_db_instance.pg` of `aws_db_instance.pg.identifier`, or the plan's
    configuration reference), else the identifier written as a literal."""
    if field in res.refs:
        return res.refs[field]
    value = res.get(field)
    if value is None:
        return None
    if value.known:
        return str(value.value)
    m = re.search(r"\b(aws_(?:db_instance|rds_cluster)\.[A-Za-z0-9_-]+)\.(?:identifier|id|cluster_identifier)\b",
                  getattr(value.value, "text", ""))
    return m.group(1) if m else None


def _owner(res: Resource, field: str) -> str | None:
    """The resource `field` refers to: the plan's configuration reference, else the .tf expression's."""
    return res.refs.get(field) or _ref_attr(res.get(field))


def _lb_name(name: Value | None) -> dict[str, Value]:
    """The `lb_name` fact of a load balancer's middlebox: its own `name` as written, when known."""
    if name is None or not name.known or not isinstance(name.value, str) or not name.value:
        return {}
    return {"lb_name": name}


def _fixed_private_ips(resources: list[Resource]) -> dict:
    """The static private addresses of this file's load balancers, for path discovery: an
    `azurerm_lb`'s frontend_ip_configuration with a literal `private_ip_address` allocated `Static`
    (Azure assigns a `Dynamic` one itself, the default), keyed (load balancer address, frontend name), one Value; an `aws_lb`'s
    `subnet_mapping` `private_ipv4_address`es (an internal NLB), keyed by its address, a list."""
    out: dict = {}
    for res in resources:
        if res.type == "azurerm_lb":
            for front in res.blocks.get("frontend_ip_configuration", []):
                ip, name = front.get("private_ip_address"), front.literal("name")
                allocation = str(front.literal("private_ip_address_allocation", "") or "").lower()  # (default Dynamic)
                if ip is not None and ip.known and isinstance(ip.value, str) and isinstance(name, str) \
                        and allocation == "static":
                    out[(res.address, name)] = ip
        elif res.type in ("aws_lb", "aws_alb"):
            ips = [b.get("private_ipv4_address") for b in res.blocks.get("subnet_mapping", [])]
            ips = [ip for ip in ips if ip is not None and ip.known and isinstance(ip.value, str)]
            if ips:
                out[res.address] = ips
    return out


def _interpret(resources: list[Resource], out: _Out) -> None:
    from advisor.loaders.cloud_sizes import azure_sku_memory, cloudsql_tier_memory, rds_class_memory
    from advisor.loaders.managed_pg import Entry

    instances = []
    target_ports: dict[str, set] = {}
    for res in resources:
        if res.type in ("aws_lb_target_group", "aws_alb_target_group"):
            target_ports.setdefault(_base(res.address), set()).add(res.literal("port"))
    # the load balancers that listeners of this file belong to (by reference, as written)
    owned = {_owner(r, "load_balancer_arn") for r in resources if r.type in _LISTENERS}
    fixed_ips = _fixed_private_ips(resources)
    # each load balancer's own `name` (AWS builds its DNS name from it: path discovery), by address
    lb_names = {_base(r.address): r.get("name") for r in resources if r.type in ("aws_lb", "aws_alb")}
    flexible_servers: dict[str, Resource] = {}
    flexible_configs: dict[str, list[Resource]] = {}
    for res in resources:
        t = res.type
        if t in ("aws_lb", "aws_alb"):
            lb_type = res.literal("load_balancer_type", "application")
            if lb_type == "application":
                idle = _seconds(res, "idle_timeout", out, 1, 4000)
                dns = res.literal("dns_name")
                out.add(Middlebox("aws-alb", res.address, res.span, idle_timeout=idle, facts=_lb_name(res.get("name")),
                                  listens=[dns] if dns else []), res)
            elif lb_type == "network":
                # the NLB's timers are its listeners' (one middlebox each, below); the load balancer
                # itself is a middlebox only when no listener of this file belongs to it.
                # idle_timeout applies to application load balancers only: the provider ignores it here
                if _base(res.address) in owned:
                    continue
                dns = res.literal("dns_name")
                facts = _lb_name(res.get("name"))
                if res.get("idle_timeout") is not None:
                    facts["ignored_idle_timeout"] = res.get("idle_timeout")
                out.add(Middlebox("aws-nlb", res.address, res.span, facts=facts, listens=[dns] if dns else []), res)
        elif t in ("aws_lb_listener", "aws_alb_listener"):
            protocol = str(res.literal("protocol", "") or "").upper()
            if protocol not in _NLB_PROTOCOLS:
                continue  # an ALB listener: the timer is the load balancer's idle_timeout
            facts = {"protocol": Value(protocol, span=res.span, key="protocol")}
            port = res.get("port")
            if port is not None:
                facts["listener_port"] = port
            idle = Value(350, origin="default", unit="s", key="TLS listener (fixed)") if protocol == "TLS" else None
            set_idle = res.get("tcp_idle_timeout_seconds")
            if set_idle is not None and (set_idle.known or protocol == "TCP"):
                if protocol == "TCP":
                    idle = _seconds(res, "tcp_idle_timeout_seconds", out, 60, 6000)
                else:
                    out.invalid(res.get("tcp_idle_timeout_seconds"),
                                f"{res.address}: tcp_idle_timeout_seconds can only be set on TCP listeners "
                                f"(this one is {protocol}; a TLS listener's idle timeout is fixed at 350 s)",
                                "remove tcp_idle_timeout_seconds, or use protocol = \"TCP\"")
            lb = _owner(res, "load_balancer_arn") or _ref(res.get("load_balancer_arn"))
            if lb:
                facts["load_balancer"] = Value(lb, span=(res.get("load_balancer_arn") or res).span,
                                               key="load_balancer_arn")
                facts.update(_lb_name(lb_names.get(lb)))
            listens = [f"*:{port.value}"] if port is not None and port.known else []
            for ip in fixed_ips.get(lb, ()) if listens else ():  # an internal NLB's static subnet addresses
                listens.append(f"{ip.value}:{port.value}")
                facts.setdefault("frontend_ip", ip)
            targets = []
            for action in res.blocks.get("default_action", []):
                ports = target_ports.get(_owner(action, "target_group_arn"), set())
                if len(ports) == 1 and isinstance(next(iter(ports)), int):
                    targets.append(f"*:{next(iter(ports))}")
            out.add(Middlebox("aws-nlb", res.address, res.span, idle_timeout=idle, facts=facts, listens=listens,
                              targets=targets), res)
        elif t == "aws_elb":
            idle = _seconds(res, "idle_timeout", out, 1, 4000)
            ports = [b.literal("lb_port") for b in res.blocks.get("listener", []) if b.literal("lb_port")]
            dns = res.literal("dns_name")
            out.add(Middlebox("aws-elb", res.address, res.span, idle_timeout=idle, facts=_lb_name(res.get("name")),
                              listens=[f"{dns}:{p}" for p in ports] if dns else []), res)
        elif t == "aws_db_proxy":
            idle = _seconds(res, "idle_client_timeout", out, 1, 28800)
            tls = _bool(res, "require_tls") or Value(False, origin="default", key="require_tls")
            engine = str(res.literal("engine_family", "") or "").upper()
            facts = {"require_tls": tls, "engine_family": Value(engine, span=res.span, key="engine_family")}
            endpoint = res.literal("endpoint")
            listens = [f"{endpoint}:5432"] if endpoint and engine == "POSTGRESQL" else []
            out.add(Middlebox("aws-rds-proxy", res.literal("name") or res.address, res.span, idle_timeout=idle,
                              facts=facts, listens=listens), res)
        elif t == "aws_db_proxy_default_target_group":
            pool = (res.blocks.get("connection_pool_config") or [None])[0]
            entry = {"proxy": _ref(res.get("db_proxy_name")), "address": res.address, "span": res.span.to_dict()}
            for field, default in (("max_connections_percent", 100), ("max_idle_connections_percent", 50),
                                   ("connection_borrow_timeout", 120)):
                value = pool.get(field) if pool is not None else None
                entry[field] = value.value if value is not None and value.known else default
                entry[field + "_origin"] = "set" if value is not None and value.known else \
                    ("unknown" if value is not None else "default")
            out.doc.meta.setdefault("rds_proxy_target_groups", []).append(entry)
        elif t == "aws_route53_record":
            # a DNS name for a resource of the run (an alias, or a CNAME to its DNS name): a client
            # that connects to that name reaches the resource (path discovery)
            name = res.literal("name")
            target = None
            for alias in res.blocks.get("alias", []):
                target = alias.refs.get("name") or _dns_owner(alias.get("name"))
            records = res.get("records")
            if target is None and records is not None and str(res.literal("type", "")).upper() == "CNAME":
                target = res.refs.get("records") or _dns_owner(records)
            if isinstance(name, str) and name and target:
                out.doc.meta.setdefault("dns_records", []).append(
                    {"name": name.rstrip(".").lower(), "target": target, "address": res.address,
                     "span": res.span.to_dict()})
        elif t == "aws_db_proxy_target":
            # which DB instance or cluster a proxy sends to (discovery puts it behind the proxy):
            # each side as the resource address its expression names, else the literal name
            target = _identifier(res, "db_instance_identifier") or _identifier(res, "db_cluster_identifier")
            proxy = res.refs.get("db_proxy_name") or _ref(res.get("db_proxy_name"))
            if proxy and target:
                out.doc.meta.setdefault("rds_proxy_targets", []).append(
                    {"proxy": proxy, "target": target, "address": res.address, "span": res.span.to_dict()})
        elif t in ("aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance"):
            engine = str(res.literal("engine", "") or "")
            klass = res.get("instance_class") or res.get("db_cluster_instance_class")
            klass_name = str(klass.value) if klass is not None and klass.known else None
            groups = [g for g in (_ref(res.get("parameter_group_name")), _ref(res.get("db_parameter_group_name")),
                                  _ref(res.get("db_cluster_parameter_group_name"))) if g]
            # an Aurora instance's own identifier (its cluster_identifier names its cluster, whose
            # endpoint is the cluster's, not the instance's)
            identifier = res.literal("cluster_identifier") if t == "aws_rds_cluster" else res.literal("identifier")
            major = _engine_major(res.literal("engine_version")) if "postgres" in engine else None
            if not groups and t == "aws_db_instance" and engine == "postgres":
                # no parameter group named: RDS gives the instance its family's default group
                # (default.postgres16), whose values are the platform's defaults
                default = f"default.postgres{major}" if major else f"(default parameter group of {res.address})"
                groups = [default]
                out.pg.append(("aws-rds", [], major, None, res.address, [default], None))
            if not groups and t == "aws_rds_cluster" and engine == "aurora-postgresql":
                # likewise an Aurora cluster naming no DB cluster parameter group has its family's
                # default one (default.aurora-postgresql16): Aurora's defaults
                default = f"default.aurora-postgresql{major}" if major else \
                    f"(default cluster parameter group of {res.address})"
                groups = [default]
                out.pg.append(("aws-aurora", [], major, None, res.address, [default], "cluster"))
            instances.append({
                "id": res.address, "engine": engine,
                "identifier": identifier if isinstance(identifier, str) else None,
                "pg_major": major,
                "instance_class": klass_name, "memory": rds_class_memory(klass_name) if klass_name else None,
                "parameter_groups": groups,
                "span": (klass.span if klass is not None else res.span).to_dict(),
            })
            if t == "aws_rds_cluster_instance":
                instances[-1]["cluster"] = _identifier(res, "cluster_identifier")
            elif t == "aws_rds_cluster":
                instances[-1]["kind"] = "cluster"
        elif t in ("aws_db_parameter_group", "aws_rds_cluster_parameter_group"):
            family = str(res.literal("family", "") or "")
            if family and "postgres" not in family:
                continue
            entries = []
            applied: dict[str, dict] = {}
            for p in res.blocks.get("parameter", []):
                name, value = p.get("name"), p.get("value")
                if name is None or not name.known or value is None:
                    continue
                entries.append(Entry(str(name.value), value.value if value.known else value.raw, value.span,
                                     unknown=not value.known))
                method = p.get("apply_method")
                if method is None or method.known:
                    applied[str(name.value).lower()] = {
                        "value": str(method.value) if method is not None else "immediate",
                        "span": (method.span if method is not None else name.span).to_dict(),
                        "default": method is None}
            if applied:
                # parameter group address -> {parameter: its block's apply_method, `immediate` when
                # not written (the provider's default)}, for CLD006
                out.doc.meta.setdefault("rds_apply_methods", {})[res.address] = applied
            platform = "aws-aurora" if t == "aws_rds_cluster_parameter_group" or "aurora" in family else "aws-rds"
            scope = ("cluster" if t == "aws_rds_cluster_parameter_group" else "instance") \
                if platform == "aws-aurora" else None
            major = _engine_major(re.sub(r"^\D+", "", family)) if family else None
            names = [res.address] + ([str(res.literal("name"))] if res.literal("name") else [])
            out.pg.append((platform, entries, major, None, res.address, names, scope))
        elif t == "aws_nat_gateway":
            # an AWS NAT gateway's idle timeout is fixed (350 s) and after it the gateway answers the
            # inside host's next packet with a RST (AWS VPC User Guide, nat-gateway-troubleshooting,
            # "Internet connection drops after 350 seconds"): the kind's documented default, as for
            # `aws ec2 describe-nat-gateways` output. connectivity_type is "public" unless set
            # (registry.terraform.io, hashicorp/aws, aws_nat_gateway); a private NAT gateway
            # translates addresses the same way, so it has the same timer.
            kind = res.get("connectivity_type")
            facts = {"connectivity_type": kind if kind is not None else Value("public", origin="default",
                                                                              key="connectivity_type")}
            out.add(Middlebox("aws-nat", res.address, res.span, facts=facts), res)
        elif t == "google_compute_router_nat":
            idle = _seconds(res, "tcp_established_idle_timeout_sec", out, 1, 2**31 - 1)
            facts = {}
            for field, default in (("tcp_transitory_idle_timeout_sec", 30), ("udp_idle_timeout_sec", 30),
                                   ("tcp_time_wait_timeout_sec", 120)):
                facts[field] = _seconds(res, field, out, 1, 2**31 - 1) or Value(default, origin="default", unit="s",
                                                                                  key=field)
            out.add(Middlebox("gcp-cloud-nat", res.literal("name") or res.address, res.span, idle_timeout=idle,
                              facts=facts), res)
        elif t in ("google_compute_backend_service", "google_compute_region_backend_service"):
            scheme = res.literal("load_balancing_scheme", "EXTERNAL" if t == "google_compute_backend_service"
                                 else "INTERNAL")
            protocol = res.literal("protocol", "HTTP" if t == "google_compute_backend_service" else "TCP")
            policy = (res.blocks.get("connection_tracking_policy") or [None])[0]
            if gcp_proxy_nlb(scheme, protocol, "global" if t == "google_compute_backend_service" else "regional"):
                idle = _seconds(res, "timeout_sec", out, 1, 2**31 - 1)
                facts = {"load_balancing_scheme": Value(scheme, key="load_balancing_scheme"),
                         "protocol": Value(protocol, key="protocol")}
                out.add(Middlebox("gcp-proxy-lb", res.literal("name") or res.address, res.span, idle_timeout=idle,
                                  facts=facts), res)
                continue
            if scheme == "INTERNAL" and protocol in ("TCP", "UDP", "UNSPECIFIED"):
                idle = _seconds(policy, "idle_timeout_sec", out, 1, 2**31 - 1) if policy is not None else None
            elif scheme == "EXTERNAL" and protocol in ("TCP", "UDP", "UNSPECIFIED"):
                idle = Value(60, origin="default", unit="s", key="external passthrough (fixed 60 s)")
            else:
                continue  # a proxy load balancer: timeoutSec semantics not modelled
            facts = {"load_balancing_scheme": Value(scheme, key="load_balancing_scheme"),
                     "protocol": Value(protocol, key="protocol"),
                     "session_affinity": res.get("session_affinity") or Value("NONE", origin="default",
                                                                             key="session_affinity")}
            if policy is not None and policy.get("tracking_mode") is not None:
                facts["tracking_mode"] = policy.get("tracking_mode")
            out.add(Middlebox("gcp-lb", res.literal("name") or res.address, res.span, idle_timeout=idle, facts=facts),
                    res)
        elif t == "google_sql_database_instance":
            version = str(res.literal("database_version", "") or "")
            if not version.startswith("POSTGRES"):
                continue
            settings = (res.blocks.get("settings") or [None])[0]
            entries, memory = [], None
            if settings is not None:
                for flag in settings.blocks.get("database_flags", []):
                    name, value = flag.get("name"), flag.get("value")
                    if name is None or not name.known or value is None:
                        continue
                    entries.append(Entry(str(name.value), value.value if value.known else value.raw, value.span,
                                         unknown=not value.known))
                tier = settings.get("tier")
                if tier is not None and tier.known and cloudsql_tier_memory(str(tier.value)):
                    memory = Value(cloudsql_tier_memory(str(tier.value)), raw=str(tier.value), span=tier.span,
                                   unit="B", key=tier.key)
            out.pg.append(("gcp-cloudsql", entries, _engine_major(version.split("_")[-1]), memory, res.address, [],
                           None))
        elif t in ("azurerm_lb_rule", "azurerm_lb_outbound_rule"):
            idle = _seconds(res, "idle_timeout_in_minutes", out, 4, 100 if t == "azurerm_lb_rule" else 120, 60, "min")
            reset = _bool(res, "tcp_reset_enabled", "enable_tcp_reset") or Value(False, origin="default",
                                                                                  key="enable_tcp_reset")
            facts = {"enable_tcp_reset": reset,
                     "rule_type": Value("loadBalancingRules" if t == "azurerm_lb_rule" else "outboundRules")}
            # azurerm 4.0 renamed the rule's booleans (enable_tcp_reset -> tcp_reset_enabled,
            # enable_floating_ip -> floating_ip_enabled): the names the file uses say which it is for
            if "enable_tcp_reset" in res.attrs or "enable_floating_ip" in res.attrs:
                facts["tcp_reset_field"] = Value("enable_tcp_reset")
            elif "tcp_reset_enabled" in res.attrs or "floating_ip_enabled" in res.attrs:
                facts["tcp_reset_field"] = Value("tcp_reset_enabled")
            for field in ("protocol", "frontend_port", "backend_port"):
                if res.get(field) is not None:
                    facts[field] = res.get(field)
            expiry = "rst" if reset.known and reset.value else ("drop" if reset.known else None)
            port, backend = res.literal("frontend_port"), res.literal("backend_port")
            listens = [f"*:{port}"] if isinstance(port, int) and port else []
            # the frontend's static private IP, when the rule names a frontend of a load balancer here
            front = res.literal("frontend_ip_configuration_name")
            ip = fixed_ips.get((_owner(res, "loadbalancer_id"), front)) if listens and isinstance(front, str) else None
            if ip is not None:
                listens.append(f"{ip.value}:{port}")
                facts["frontend_ip"] = ip
                facts["frontend_name"] = Value(front, span=res.get("frontend_ip_configuration_name").span,
                                               key="frontend_ip_configuration_name")
            out.add(Middlebox("azure-lb", res.address, res.span, idle_timeout=idle, on_expiry=expiry, facts=facts,
                              listens=listens,
                              targets=[f"*:{backend}"] if isinstance(backend, int) and backend else []), res)
        elif t == "azurerm_nat_gateway":
            idle = _seconds(res, "idle_timeout_in_minutes", out, 4, 120, 60, "min")
            out.add(Middlebox("azure-nat", res.literal("name") or res.address, res.span, idle_timeout=idle), res)
        elif t == "azurerm_postgresql_flexible_server":
            flexible_servers[res.address] = res
        elif t == "azurerm_postgresql_flexible_server_configuration":
            server = _ref(res.get("server_id")) or "(unknown server)"
            flexible_configs.setdefault(server, []).append(res)
    for server in dict.fromkeys([*flexible_configs, *flexible_servers]):
        configs = flexible_configs.get(server, [])
        entries = []
        for res in configs:
            name, value = res.get("name"), res.get("value")
            if name is None or not name.known or value is None:
                continue
            entries.append(Entry(str(name.value), value.value if value.known else value.raw, value.span,
                                 unknown=not value.known))
        host = flexible_servers.get(server)
        memory, major = None, None
        if host is not None:
            sku = host.get("sku_name")
            if sku is not None and sku.known and azure_sku_memory(str(sku.value)):
                memory = Value(azure_sku_memory(str(sku.value)), raw=str(sku.value), span=sku.span, unit="B",
                               key=sku.key)
            major = _engine_major(host.literal("version"))
            name = host.get("name")
            if name is not None and name.known and isinstance(name.value, str) and name.value:
                # Azure names the server's host <name>.postgres.database.azure.com, public or
                # private access alike (a private DNS zone answers for the same name)
                fqdn = f"{name.value.lower()}.postgres.database.azure.com"
                out.addresses[server] = [{"address": f"{fqdn}:5432", "said": f"FQDN ({fqdn})",
                                          "span": name.span.to_dict()}]
        out.pg.append(("azure-flexible", entries, major, memory, server, [], None))
    _cluster_classes(instances)
    if instances:
        out.doc.meta["db_instances"] = instances
        out.doc.meta["link"] = True


def _cluster_classes(instances: list[dict]) -> None:
    """An Aurora cluster's memory is its instances' (`aws_rds_cluster_instance.instance_class`; the
    cluster itself names none): a cluster whose instances of this file all have one class takes it,
    so that its DB cluster parameter group's formulas and MEM001 see that memory. Instances of
    several classes: none is chosen."""
    for cluster in instances:
        if cluster.get("kind") != "cluster" or cluster.get("instance_class"):
            continue
        names = {cluster["id"], cluster.get("identifier")} - {None}
        members = [i for i in instances if i.get("cluster") in names]
        classes = {i.get("instance_class") for i in members}
        if len(classes) == 1 and None not in classes:
            member = members[0]
            cluster.update(instance_class=member["instance_class"], memory=member["memory"],
                           class_span=member["span"])


_PROXY_SCHEMES = ("EXTERNAL_MANAGED", "INTERNAL_MANAGED")


def gcp_proxy_nlb(scheme, protocol, scope: str | None) -> bool:
    """Whether a backend service (scheme, protocol, scope "global"/"regional"/None when not known)
    is a proxy Network Load Balancer's: protocol SSL (only proxies take it), TCP with a managed
    (Envoy or GFE proxy) scheme, or TCP on a global backend service (a passthrough Network Load
    Balancer's backend service is regional; the Compute API's Backend.balancingMode text:
    "EXTERNAL (SSL Proxy and TCP Proxy load balancers)"). HTTP(S), HTTP2, gRPC and UDP are not."""
    if protocol == "SSL":
        return True
    if protocol != "TCP":
        return False
    return scheme in _PROXY_SCHEMES or (scope == "global" and scheme == "EXTERNAL")


def _hcl_error(exc: Exception) -> str:
    """python-hcl2's (lark's) error in one line, without the text of the token it stopped at:
    lark quotes it whole (`Unexpected token Token('STRING_CHARS', '<<EOT\\nsecret...')`), and an
    unterminated string or heredoc runs on over the values after it, a password included. The
    token is named by its kind, and shown only when it is punctuation (`}`, `=`)."""
    token = getattr(exc, "token", None)
    kind = getattr(token, "type", None)
    if isinstance(kind, str):
        text = str(token)
        shown = f" '{text}'" if text and len(text) <= 3 and not any(c.isalnum() for c in text) else ""
        where = f" at line {exc.line}, column {exc.column}" if isinstance(getattr(exc, "line", None), int) else ""
        return f"unexpected {'end of file' if kind == '$END' else kind}{shown}{where}"
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return first[:200]


def _unexpected(path: str, exc: Exception) -> Diagnostic:
    # a structure no check foresaw: said at the file, never a traceback (tests/test_cloud_properties.py
    # looks for this message to find such holes)
    return Diagnostic("cloud-invalid-field", Span(path, 1, 1),
                      f"unexpected structure for Terraform ({type(exc).__name__}); pgpath read no value from it",
                      "check that the file is `terraform show -json` output or a .tf file terraform validate accepts")


def load(path: str, options: dict | None = None):
    options = options or {}
    text = read_text(path)
    if path.endswith(".json"):
        from advisor.loaders.jsonpos import JsonError, parse

        out = _Out(path, "terraform-plan")
        try:
            parsed = parse(text)
        except JsonError as exc:
            out.doc.diagnostics.append(Diagnostic("syntax-error", Span(path, exc.line, exc.col),
                                                  f"invalid JSON: {exc.message}", "terraform show -json PLAN > FILE"))
            return out.doc
        try:
            resources = _plan_resources(path, parsed)
        except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
            out.doc.diagnostics.append(_unexpected(path, exc))
            return out.doc
    else:
        out = _Out(path, "terraform")
        try:
            resources = _tf_resources(path, text, options, out.doc)
        except Exception as exc:  # python-hcl2 (lark) raises its own errors on text that is not HCL
            line, col = getattr(exc, "line", None), getattr(exc, "column", None)
            message = _hcl_error(exc)
            out.doc.diagnostics.append(Diagnostic("syntax-error", Span(path, line if isinstance(line, int) else 1,
                                                                        col if isinstance(col, int) else 1),
                                                  f"not valid HCL: {message[:200]}",
                                                  "terraform fmt / terraform validate show the error"))
            return out.doc
    try:
        _interpret(resources, out)
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
        out.doc.diagnostics.append(_unexpected(path, exc))
        out.pg = []
    doc = out.doc
    docs = [doc] if doc.model.middleboxes or doc.diagnostics or doc.meta or not out.pg else []
    from advisor.loaders.cloud import register_managed

    for platform, entries, major, memory, name, group_names, scope in out.pg:
        pg = register_managed(path, platform, entries, major, options, memory, name, scope)
        if group_names:
            pg.meta["parameter_group"] = group_names
        if name in out.addresses:
            pg.meta["addresses"] = out.addresses[name]
        docs.append(pg)
    return docs if len(docs) > 1 else docs[0]
