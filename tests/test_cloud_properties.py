"""No input makes the cloud or Terraform loaders raise; the JSON reader agrees with json.loads;
a check of a tree without cloud files imports none of their modules."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from advisor.loaders import cloud, terraform
from advisor.loaders.jsonpos import JsonError, parse

ROOT = Path(__file__).resolve().parent.parent

scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=12)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)

# the field names the shapes are recognised by, so random values reach every reader
KEYS = ["Attributes", "LoadBalancers", "Listeners", "LoadBalancerAttributes", "NatGateways", "DBProxies",
        "TargetGroups", "DBInstances", "DBClusters", "Parameters", "EngineDefaults", "settings", "databaseVersion",
        "kind", "nats", "network", "loadBalancingScheme", "tcpEstablishedIdleTimeoutSec", "resources", "$schema",
        "loadBalancingRules", "properties", "type", "examples", "version", "Key", "Value", "idleTimeoutInMinutes",
        "enableTcpReset", "ConnectionSettings", "IdleTimeout", "RequireTLS", "IdleClientTimeout", "ParameterName",
        "ParameterValue", "databaseFlags", "connectionTrackingPolicy", "protocol", "name", "value"]
shaped = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5), max_leaves=25)


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_json_reader_raises_only_json_errors(text):
    try:
        parse(text)
    except JsonError as exc:
        assert exc.line >= 1 and exc.col >= 1


@given(json_values)
@settings(max_examples=300, deadline=None)
def test_json_reader_agrees_with_json_loads(value):
    text = json.dumps(value, indent=1)
    parsed = parse(text, lenient=False)
    assert parsed.value == json.loads(text)
    assert parsed.positions[()] == (1, 1)


def _write(suffix: str, text: str) -> str:
    handle = tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, dir=tempfile.mkdtemp())
    handle.write(text)
    handle.close()
    return handle.name


@given(shaped)
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_cloud_loader_never_raises(value):
    path = _write(".json", json.dumps(value))
    loaded = cloud.load(path, {})
    docs = loaded if isinstance(loaded, list) else [loaded]
    for doc in docs:
        for d in doc.diagnostics:
            assert d.span.file == path
            assert not d.message.startswith("unexpected structure"), d.message  # a hole in the shape checks


@given(st.dictionaries(st.sampled_from(["after", "after_unknown", "values", "resources", "child_modules"]),
                       shaped, max_size=3), st.sampled_from(terraform.RESOURCE_TYPES))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_plan_loader_never_raises(change, rtype):
    plan = {"format_version": "1.2", "resource_changes": [{"address": f"{rtype}.x", "type": rtype, "name": "x",
                                                           "change": change}],
            "planned_values": {"root_module": {"resources": [{"type": rtype, "name": "y",
                                                              "values": change.get("after")}]}}}
    loaded = terraform.load(_write(".json", json.dumps(plan)), {})
    for doc in loaded if isinstance(loaded, list) else [loaded]:
        assert not [d for d in doc.diagnostics if d.message.startswith("unexpected structure")], doc.diagnostics


hcl_atoms = st.sampled_from(['"x"', "5", "true", "null", "var.a", "local.b", "min(1, 2)", '"${var.a}s"', "[1, 2]",
                             "{ a = 1 }", "aws_lb.x.arn", '"', "{", "}", "=", "\n", "#c", "x ? 1 : 2"])


@given(st.sampled_from(terraform.RESOURCE_TYPES), st.lists(st.tuples(st.sampled_from(
    ["idle_timeout", "tcp_idle_timeout_seconds", "protocol", "port", "require_tls", "idle_client_timeout",
     "idle_timeout_in_minutes", "tcp_reset_enabled", "load_balancer_type", "family", "name", "value",
     "instance_class", "engine_version", "database_version"]), hcl_atoms), max_size=6))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_tf_loader_never_raises(rtype, attributes):
    body = "\n".join(f"  {k} = {v}" for k, v in attributes)
    text = f'resource "{rtype}" "x" {{\n{body}\n  parameter {{\n    name = "work_mem"\n    value = {attributes[0][1] if attributes else 1}\n  }}\n}}\n'
    loaded = terraform.load(_write(".tf", text), {})
    docs = loaded if isinstance(loaded, list) else [loaded]
    assert not [d for doc in docs for d in doc.diagnostics if d.message.startswith("unexpected structure")]


def test_a_tree_without_cloud_files_imports_none_of_their_modules():
    code = ("import sys, io, contextlib\nfrom advisor.cli import run_app\n"
            "sys.argv = ['pgpath', 'check', '--no-config', 'samples/healthy']\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    run_app()\n"
            "print(sorted(m for m in sys.modules if m.startswith(('advisor.loaders.cloud', 'advisor.loaders.terraform',"
            " 'advisor.loaders.jsonpos', 'advisor.loaders.managed_pg', 'hcl2', 'lark', 'advisor.rules.cld.cld00',"
            " 'advisor.rules.cld.common')) and not m.endswith('cld003_managed_ssl_not_forced')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
