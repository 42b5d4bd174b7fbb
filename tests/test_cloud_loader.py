"""Cloud CLI/API JSON: shapes -> middleboxes (timer, keepalive behaviour, expiry, spans) and
managed PostgreSQL settings; schema problems as diagnostics at the JSON line; the corpus."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from advisor.engine import load_documents, make_settings
from advisor.loaders import detect_kind, link_documents
from advisor.loaders import cloud
from advisor.loaders.cloud_sizes import FormulaError, azure_sku_memory, cloudsql_tier_memory, evaluate, rds_class_memory
from advisor.loaders.jsonpos import JsonError, parse
from advisor.model import Unknown
from tests.conftest import corpus_files, require_corpus


def _write(tmp_path: Path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return str(path)


def _docs(path: str, **options):
    loaded = cloud.load(path, options)
    return loaded if isinstance(loaded, list) else [loaded]


def _boxes(path: str, **options):
    return [m for d in _docs(path, **options) if d.kind == "cloud" for m in d.model.middleboxes]


def _line_of(path: str, needle: str) -> int:
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


# ------------------------------------------------------------------------------------------------
# JSON with positions


def test_positions_and_lenient_json():
    parsed = parse('{\n  "a": [1, {"b": "x"},],\n  // note\n  "c": true\n}')
    assert parsed.value == {"a": [1, {"b": "x"}], "c": True}
    assert parsed.positions[("a", 1, "b")] == (2, 18)
    assert parsed.positions[("c",)] == (4, 8)
    assert [n[2] for n in parsed.notes] == ["trailing comma", "comment"]


@pytest.mark.parametrize("text, line, col, what", [
    ('{"a": "x\n"}', 1, 9, "line break inside a string"),
    ('{"a": 1\n "b": 2}', 2, 2, '"," or "}" expected'),
    ("[1, 2", 1, 6, '"," or "]" expected'),
    ('{"a": tru}', 1, 7, "unexpected character"),
])
def test_json_errors_have_line_and_column(text, line, col, what):
    with pytest.raises(JsonError) as info:
        parse(text)
    assert (info.value.line, info.value.col) == (line, col)
    assert what in info.value.message


# ------------------------------------------------------------------------------------------------
# AWS


def test_nlb_listener_attribute_is_an_nlb_timer_with_its_line(tmp_path):
    path = _write(tmp_path, "listener-attrs.json", {"Attributes": [{"Key": "tcp.idle_timeout.seconds", "Value": "500"}]})
    [box] = _boxes(path)
    assert (box.kind, box.idle_timeout.value, box.idle_timeout.origin, box.keepalive_resets, box.on_expiry) == \
        ("aws-nlb", 500, "set", True, "rst")
    assert box.idle_timeout.span.line == _line_of(path, '"500"')
    assert box.idle_timeout.span.key == "$.Attributes[0].Value"


def test_alb_attributes_string_values_converted_and_default_when_missing(tmp_path):
    path = _write(tmp_path, "alb.json", {"Attributes": [{"Key": "routing.http2.enabled", "Value": "true"}]})
    [box] = _boxes(path)
    assert box.kind == "aws-alb" and box.idle_timeout.value == 60 and box.idle_timeout.origin == "default"
    assert box.facts["routing.http2.enabled"].value is True and box.keepalive_resets is False


def test_attribute_value_not_a_number_is_a_diagnostic_at_its_line(tmp_path):
    path = _write(tmp_path, "alb.json", {"Attributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "5m"}]})
    [doc] = _docs(path)
    [diag] = doc.diagnostics
    assert diag.kind == "cloud-invalid-field" and diag.span.line == _line_of(path, '"5m"')
    assert "not a valid integer" in diag.message


def test_attribute_out_of_range(tmp_path):
    path = _write(tmp_path, "l.json", {"Attributes": [{"Key": "tcp.idle_timeout.seconds", "Value": "30"}]})
    [doc] = _docs(path)
    assert "outside the range the API accepts (60-6000 s)" in doc.diagnostics[0].message
    assert doc.model.middleboxes == []


def test_wrong_type_is_a_schema_diagnostic_never_a_traceback(tmp_path):
    path = _write(tmp_path, "proxies.json", {"DBProxies": [{"DBProxyName": "p", "IdleClientTimeout": "1800"}]})
    [doc] = _docs(path)
    [diag] = doc.diagnostics
    assert diag.kind == "cloud-invalid-field"
    assert diag.span.line == _line_of(path, '"1800"') and diag.span.key == "$.DBProxies[0].IdleClientTimeout"
    assert "'1800' is not of type 'integer'" in diag.message and "aws-rds-db-proxies" in diag.message


def test_listeners_tls_fixed_and_tcp_default(tmp_path):
    path = _write(tmp_path, "listeners.json", {"Listeners": [
        {"ListenerArn": "arn:aws:elasticloadbalancing:r:1:listener/net/pg/abc/def", "Port": 5432, "Protocol": "TCP",
         "LoadBalancerArn": "arn:aws:elasticloadbalancing:r:1:loadbalancer/net/pg/abc",
         "DefaultActions": [{"Type": "forward", "TargetGroupArn": "arn:tg"}]},
        {"Port": 5433, "Protocol": "TLS", "LoadBalancerArn": "arn:aws:elasticloadbalancing:r:1:loadbalancer/net/pg/abc"}]})
    tcp, tls = _boxes(path)
    assert tcp.kind == tls.kind == "aws-nlb"
    assert tcp.idle_timeout.value == 350 and tcp.facts["listener_port"].value == 5432 and tcp.targets == ["arn:tg"]
    assert tls.idle_timeout.value == 350 and "fixed" in tls.idle_timeout.key


def test_load_balancers_listen_on_their_dns_name(tmp_path):
    path = _write(tmp_path, "lbs.json", {"LoadBalancers": [
        {"LoadBalancerName": "pg", "Type": "network", "DNSName": "pg-123.elb.us-east-1.amazonaws.com",
         "LoadBalancerArn": "arn:x"}]})
    [box] = _boxes(path)
    assert box.kind == "aws-nlb" and box.listens == ["pg-123.elb.us-east-1.amazonaws.com"]


def test_nat_gateway_fixed_350(tmp_path):
    path = _write(tmp_path, "nat.json", {"NatGateways": [{"NatGatewayId": "nat-1", "ConnectivityType": "public"}]})
    [box] = _boxes(path)
    assert (box.kind, box.idle_timeout.value, box.on_expiry) == ("aws-nat", 350, "rst")


def test_rds_proxy(tmp_path):
    path = _write(tmp_path, "proxies.json", {"DBProxies": [
        {"DBProxyName": "p1", "EngineFamily": "POSTGRESQL", "RequireTLS": False, "IdleClientTimeout": 900,
         "Endpoint": "p1.proxy-abc.us-east-1.rds.amazonaws.com"}]})
    [box] = _boxes(path)
    assert box.kind == "aws-rds-proxy" and box.idle_timeout.value == 900 and box.keepalive_resets is False
    assert box.facts["require_tls"].value is False and box.facts["require_tls"].span.line == _line_of(path, "RequireTLS")
    assert box.listens == ["p1.proxy-abc.us-east-1.rds.amazonaws.com:5432"]


def test_classic_elb(tmp_path):
    path = _write(tmp_path, "elb.json", {"LoadBalancerAttributes": {"ConnectionSettings": {"IdleTimeout": 120}}})
    [box] = _boxes(path)
    assert (box.kind, box.idle_timeout.value, box.keepalive_resets) == ("aws-elb", 120, False)


RDS_PARAMS = {"Parameters": [
    {"ParameterName": "shared_buffers", "ParameterValue": "{DBInstanceClassMemory/32768}", "Source": "system",
     "DataType": "integer"},
    {"ParameterName": "max_connections", "ParameterValue": "LEAST({DBInstanceClassMemory/9531392},5000)",
     "Source": "system", "DataType": "integer"},
    {"ParameterName": "work_mem", "ParameterValue": "262144", "Source": "user", "DataType": "integer"},
    {"ParameterName": "rds.force_ssl", "ParameterValue": "0", "Source": "user", "DataType": "boolean"},
    {"ParameterName": "tcp_keepalives_idle", "Source": "engine-default", "DataType": "integer"},
]}


def test_rds_parameters_typed_with_the_catalog_and_formulas_unknown_without_a_class(tmp_path):
    path = _write(tmp_path, "params.json", RDS_PARAMS)
    [doc] = _docs(path, pg_major=16)
    assert doc.kind == "postgresql" and doc.meta["pg_version"] == 16 and doc.meta["managed"] == "aws-rds"
    assert doc.get("work_mem").value == 262144 and doc.get("work_mem").unit == "kB"
    assert isinstance(doc.get("shared_buffers").value, Unknown)
    idle = doc.get("tcp_keepalives_idle")  # listed without a value: RDS's own default
    assert idle.value == 300 and idle.span.line is None and idle.span.key == "(default of Amazon RDS for PostgreSQL)"
    assert doc.get("rds.force_ssl").raw == "0"
    assert doc.get("work_mem").span.line == _line_of(path, '"262144"')


def test_rds_formulas_evaluated_with_the_instance_class_of_the_run(tmp_path):
    params = _write(tmp_path, "params.json", RDS_PARAMS)
    inst = _write(tmp_path, "instances.json", {"DBInstances": [
        {"DBInstanceIdentifier": "db1", "DBInstanceClass": "db.r6g.large", "Engine": "postgres",
         "EngineVersion": "15.4", "Endpoint": {"Address": "db1.abc.rds.amazonaws.com", "Port": 5432},
         "DBParameterGroups": [{"DBParameterGroupName": "app-pg15"}]}]})
    settings = make_settings({"paths": [str(tmp_path)]}, use_config=False)
    docs, errors = load_documents(settings, [(params, "cloud"), (inst, "cloud")])
    assert not errors
    [pg] = [d for d in docs if d.kind == "postgresql"]
    memory = 16 * 1024**3
    assert pg.meta["pg_version"] == 15  # from the instance's engine version
    assert pg.host.get("ram").value == memory
    assert pg.host.get("ram").span.line == _line_of(inst, "DBInstanceClass")
    assert pg.get("shared_buffers").value == memory // 32768  # 8 kB blocks: a quarter of the memory
    assert pg.get("max_connections").value == min(memory // 9531392, 5000)
    assert pg.meta["formulas"]["max_connections"] == "LEAST({DBInstanceClassMemory/9531392},5000)"


@pytest.mark.parametrize("formula, value", [
    ("{DBInstanceClassMemory/32768}", 524288),
    ("{DBInstanceClassMemory*3/4}", 12884901888),
    ("LEAST({DBInstanceClassMemory/9531392},5000)", 1802),
    ("GREATEST({DBInstanceClassMemory/9531392},5000)", 5000),
    ("SUM({DBInstanceClassMemory/1073741824},2)", 18),
])
def test_formulas(formula, value):
    assert evaluate(formula, {"DBInstanceClassMemory": 16 * 1024**3}) == value


def test_formula_without_variable_is_an_error():
    with pytest.raises(FormulaError):
        evaluate("{DBInstanceClassMemory/32768}", {})


@pytest.mark.parametrize("name, gib", [("db.t3.micro", 1), ("db.t4g.medium", 4), ("db.m5.large", 8),
                                       ("db.m6i.32xlarge", 512), ("db.r6g.16xlarge", 512), ("db.r5.24xlarge", 768),
                                       ("db.m7g.2xlarge", 32), ("db.r7g.xlarge", 32), ("db.m6g.24xlarge", None),
                                       ("db.x2g.large", None)])
def test_rds_class_memory(name, gib):
    assert rds_class_memory(name) == (None if gib is None else gib * 1024**3)


def test_other_sizes():
    assert cloudsql_tier_memory("db-custom-4-16384") == 16 * 1024**3
    assert azure_sku_memory("GP_Standard_D4s_v3") == 16 * 1024**3
    assert azure_sku_memory("Standard_E8ds_v5") == 64 * 1024**3
    assert azure_sku_memory("Standard_B1ms") == 2 * 1024**3
    assert azure_sku_memory("MO_Standard_E96ds_v5") == 672 * 1024**3  # not 8 GiB per vCore (concepts-compute)
    assert azure_sku_memory("MO_Standard_E64ds_v4") == 432 * 1024**3


# Azure's own table of the defaults it computes from the SKU's memory (server parameters, "Azure-specific
# notes" of shared_buffers, max_connections and maintenance_work_mem): GiB -> (8 kB blocks, connections, kB)
AZURE_DEFAULTS = {2: (32768, 50, 99328), 4: (131072, 429, 157696), 8: (262144, 859, 216064),
                  16: (524288, 1718, 274432), 32: (1048576, 3437, 332800), 48: (1572864, 5000, 367616),
                  64: (2097152, 5000, 392192), 128: (4194304, 5000, 450560), 432: (14155776, 5000, 552960),
                  672: (22020096, 5000, 590848)}


@pytest.mark.parametrize("gib", sorted(AZURE_DEFAULTS))
def test_azure_memory_defaults_match_azures_table(gib):
    from advisor.loaders.managed_pg import azure_memory_defaults

    got = azure_memory_defaults(gib * 1024**3)
    assert (int(got["shared_buffers"]), int(got["max_connections"]), int(got["maintenance_work_mem"])) \
        == AZURE_DEFAULTS[gib]


# ------------------------------------------------------------------------------------------------
# GCP


def test_cloud_nat_default_and_set(tmp_path):
    default = _write(tmp_path, "nat.json", {"name": "nat-1", "natIpAllocateOption": "AUTO_ONLY"})
    [box] = _boxes(default)
    assert (box.kind, box.idle_timeout.value, box.idle_timeout.origin) == ("gcp-cloud-nat", 1200, "default")
    set_ = _write(tmp_path, "nat2.json", {"name": "nat-2", "tcpEstablishedIdleTimeoutSec": 600})
    [box] = _boxes(set_)
    assert box.idle_timeout.value == 600 and box.idle_timeout.span.line == 3


def test_backend_service_internal_passthrough(tmp_path):
    path = _write(tmp_path, "bs.json", {"kind": "compute#backendService", "name": "pg", "loadBalancingScheme": "INTERNAL",
                                        "protocol": "TCP", "connectionTrackingPolicy": {"idleTimeoutSec": 900}})
    [box] = _boxes(path)
    assert (box.kind, box.idle_timeout.value) == ("gcp-lb", 900)
    # Google: a packet whose tracking entry expired is hashed to a backend again (same backend while
    # the backend set is unchanged): the expiry ends no connection
    assert box.on_expiry == "rehash" and box.facts["session_affinity"].value == "NONE"
    path = _write(tmp_path, "bs2.json", {"kind": "compute#backendService", "name": "pg", "loadBalancingScheme": "INTERNAL",
                                         "protocol": "TCP", "sessionAffinity": "CLIENT_IP",
                                         "connectionTrackingPolicy": {"trackingMode": "PER_SESSION"}})
    [box] = _boxes(path)
    assert (box.idle_timeout.value, box.idle_timeout.origin) == (600, "default")
    assert box.facts["session_affinity"].value == "CLIENT_IP" and box.facts["session_affinity"].span.line == 6
    assert box.facts["tracking_mode"].value == "PER_SESSION"
    # an Application Load Balancer's (HTTP): its timeoutSec is a response timeout, not modelled
    path = _write(tmp_path, "bs3.json", {"kind": "compute#backendService", "name": "web",
                                         "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTP"})
    assert _boxes(path) == []


@pytest.mark.parametrize("data, proxy", [
    ({"loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "TCP"}, True),   # global external proxy NLB
    ({"loadBalancingScheme": "INTERNAL_MANAGED", "protocol": "TCP",
      "region": "https://www.googleapis.com/compute/v1/projects/p/regions/us-central1"}, True),  # regional internal
    ({"loadBalancingScheme": "EXTERNAL", "protocol": "SSL"}, True),            # classic SSL proxy
    ({"loadBalancingScheme": "EXTERNAL", "protocol": "TCP",                   # classic TCP proxy: global
      "selfLink": "https://www.googleapis.com/compute/v1/projects/p/global/backendServices/pg"}, True),
    ({"loadBalancingScheme": "EXTERNAL", "protocol": "TCP",                   # external passthrough: regional
      "selfLink": "https://www.googleapis.com/compute/v1/projects/p/regions/us-central1/backendServices/pg"}, False),
])
def test_backend_service_proxy_network_load_balancer(tmp_path, data, proxy):
    """A proxy Network Load Balancer's backend service (TCP or SSL proxy) closes a connection idle
    for its timeoutSec, 30 s by default (Compute API default; the idle-close behaviour from users'
    reports: advisor.model.middlebox, gcp-proxy-lb); a passthrough one's is the rehash kind."""
    path = _write(tmp_path, "bs.json", {"kind": "compute#backendService", "name": "pg", **data})
    [box] = _boxes(path)
    if not proxy:
        assert box.kind == "gcp-lb"
        return
    assert (box.kind, box.idle_timeout.value, box.idle_timeout.origin) == ("gcp-proxy-lb", 30, "default")
    assert box.keepalive_resets is False and box.on_expiry == "close"
    path = _write(tmp_path, "bs2.json", {"kind": "compute#backendService", "name": "pg", **data, "timeoutSec": 86400})
    [box] = _boxes(path)
    assert (box.idle_timeout.value, box.idle_timeout.origin) == (86400, "set")


def test_cloud_sql_flags_with_tier_memory(tmp_path):
    path = _write(tmp_path, "sql.json", {"kind": "sql#instance", "name": "pg", "databaseVersion": "POSTGRES_15",
                                         "settings": {"tier": "db-custom-2-8192", "databaseFlags": [
                                             {"name": "work_mem", "value": "65536"},
                                             {"name": "max_conections", "value": "500"}]}})
    [doc] = _docs(path)
    assert doc.kind == "postgresql" and doc.meta["pg_version"] == 15
    assert doc.host.get("ram").value == 8192 * 1024**2
    assert doc.get("work_mem").value == 65536
    assert [d.kind for d in doc.diagnostics] == ["unknown-parameter"]  # max_conections: PG001 reports it
    # Cloud SQL's own default shared_buffers: 33 % of the instance's memory (Cloud SQL for PostgreSQL,
    # "Best practices for managing memory usage"), in 8 kB blocks; not PostgreSQL's 128 MB
    shared = doc.get("shared_buffers")
    assert shared.value == 8192 * 1024**2 * 33 // 100 // 8192 and "shared_buffers" in doc.meta["platform_defaults"]
    # without the tier's memory: not known here, PostgreSQL's default stands
    path = _write(tmp_path, "sql2.json", {"kind": "sql#instance", "name": "pg", "databaseVersion": "POSTGRES_15",
                                          "settings": {"tier": "db-perf-optimized-N-8"}})
    [doc] = _docs(path)
    assert doc.get("shared_buffers") is None
    # written as a flag, the flag wins
    path = _write(tmp_path, "sql3.json", {"kind": "sql#instance", "name": "pg", "databaseVersion": "POSTGRES_15",
                                          "settings": {"tier": "db-custom-2-8192", "databaseFlags": [
                                              {"name": "shared_buffers", "value": "65536"}]}})
    [doc] = _docs(path)
    assert doc.get("shared_buffers").value == 65536


# ------------------------------------------------------------------------------------------------
# Azure


def test_azure_lb_cli_flat_and_arm_wrapped(tmp_path):
    flat = _write(tmp_path, "lb.json", {"name": "lb", "loadBalancingRules": [
        {"name": "pg", "idleTimeoutInMinutes": 10, "enableTcpReset": True, "protocol": "Tcp", "frontendPort": 5432,
         "backendPort": 5432}]})
    [box] = _boxes(flat)
    assert (box.kind, box.idle_timeout.value, box.on_expiry, box.listens) == ("azure-lb", 600, "rst", ["*:5432"])
    wrapped = _write(tmp_path, "lb2.json", {"name": "lb", "type": "Microsoft.Network/loadBalancers", "properties": {
        "loadBalancingRules": [{"name": "pg", "properties": {"protocol": "Tcp", "frontendPort": 5432}}]}})
    [box] = _boxes(wrapped)
    assert box.idle_timeout.value == 240 and box.idle_timeout.origin == "default"
    assert box.facts["enable_tcp_reset"].value is False and box.on_expiry == "drop"


def test_arm_parameter_default_resolves_and_expression_is_unknown(tmp_path):
    path = _write(tmp_path, "t.json", {
        "$schema": "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0", "parameters": {"idle": {"type": "int", "defaultValue": 30}},
        "resources": [{"type": "Microsoft.Network/loadBalancers", "name": "lb", "properties": {"loadBalancingRules": [
            {"name": "a", "properties": {"idleTimeoutInMinutes": "[parameters('idle')]"}},
            {"name": "b", "properties": {"idleTimeoutInMinutes": "[variables('x')]", "enableTcpReset": True}}]}}]})
    a, b = _boxes(path)
    assert a.idle_timeout.value == 1800
    assert isinstance(b.idle_timeout.value, Unknown) and b.on_expiry == "rst"


def test_azure_idle_out_of_range(tmp_path):
    path = _write(tmp_path, "lb.json", {"loadBalancingRules": [{"name": "pg", "idleTimeoutInMinutes": 240}]})
    [doc] = _docs(path)
    assert "240 is greater than the maximum of 100" in doc.diagnostics[0].message


def test_azure_flexible_parameters_platform_names_are_not_settings(tmp_path):
    path = _write(tmp_path, "params.json", [
        {"name": "require_secure_transport", "value": "off", "source": "user-override",
         "type": "Microsoft.DBforPostgreSQL/flexibleServers/configurations"},
        {"name": "azure.extensions", "value": "", "source": "system-default",
         "type": "Microsoft.DBforPostgreSQL/flexibleServers/configurations"},
        {"name": "tcp_keepalives_idle", "value": "120", "source": "system-default",
         "type": "Microsoft.DBforPostgreSQL/flexibleServers/configurations"}])
    [doc] = _docs(path, pg_major=16)
    assert doc.meta["managed"] == "azure-flexible" and doc.get("tcp_keepalives_idle").value == 120


# ------------------------------------------------------------------------------------------------
# detection and corpus


def test_detection_by_content_only_for_json():
    assert detect_kind("out.json", '{"NatGateways": []}') == "cloud"
    assert detect_kind("out.json", '{"name": "x"}') is None
    assert detect_kind("notes.txt", '{"NatGateways": []}') is None


RST_BLOCK = re.compile(r"::\n\n((?:(?:[ \t]+.*)?\n)+)")


def rst_json_blocks(text: str) -> list[tuple[int, str]]:
    """(first line, JSON text) of each literal block that holds JSON in an AWS CLI example page."""
    blocks = []
    for m in RST_BLOCK.finditer(text):
        body = textwrap.dedent(m.group(1))
        if body.lstrip().startswith("{"):
            blocks.append((text.count("\n", 0, m.start(1)) + 1, body))
    return blocks


@pytest.mark.parametrize("path", corpus_files("cloud", "*.rst"), ids=lambda p: p.name)
def test_corpus_rst_blocks_load(path, tmp_path):
    require_corpus()
    blocks = rst_json_blocks(path.read_text())
    assert blocks
    for first_line, body in blocks:
        target = tmp_path / "block.json"
        target.write_text(body)
        assert detect_kind(str(target), body) == "cloud"
        docs = _docs(str(target))
        problems = [d for doc in docs for d in doc.diagnostics]
        loaded = [m for doc in docs if doc.kind == "cloud" for m in doc.model.middleboxes]
        assert loaded or problems or any(doc.meta for doc in docs), (path.name, first_line)
        for d in problems:
            assert d.span.line is not None, d


def test_corpus_rst_documented_values():
    require_corpus()
    [proxies] = corpus_files("cloud", "awscli_rds_describe-db-proxies.rst")
    first, body = rst_json_blocks(proxies.read_text())[0]
    [diag] = cloud.load(_tmp_json(body), {}).diagnostics
    auth_line = next(n for n, line in enumerate(body.splitlines(), 1) if '"Auth": "[' in line)
    assert diag.kind == "syntax-error" and diag.span.line == auth_line  # the multi-line "Auth" string
    [groups] = corpus_files("cloud", "awscli_rds_describe-db-proxy-target-groups.rst")
    first, body = rst_json_blocks(groups.read_text())[0]
    [diag] = cloud.load(_tmp_json(body), {}).diagnostics
    assert "an object where the API returns an array" in diag.message and diag.span.key == "$.TargetGroups"
    [attrs] = corpus_files("cloud", "awscli_elbv2_modify-load-balancer-attributes.rst")
    idles = []
    for _, body in rst_json_blocks(attrs.read_text()):
        idles += [m.idle_timeout.value for m in cloud.load(_tmp_json(body), {}).model.middleboxes]
    assert idles == [60, 30, 60]


def _tmp_json(body: str) -> str:
    import tempfile

    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    handle.write(body)
    handle.close()
    return handle.name


@pytest.mark.parametrize("path", corpus_files("cloud", "*.json"), ids=lambda p: p.name)
def test_corpus_json_loads(path):
    require_corpus()
    text = path.read_text()
    assert detect_kind(str(path), text) == "cloud"
    docs = _docs(str(path))
    boxes = [m for d in docs if d.kind == "cloud" for m in d.model.middleboxes]
    assert boxes
    for box in boxes:
        assert box.span.line is not None and box.span.key


def test_corpus_arm_haports_rule():
    require_corpus()
    [path] = corpus_files("cloud", "azure-docs-json-samples_loadbalancer-haports.json")
    [box] = _boxes(str(path))
    assert box.idle_timeout.value == 15 * 60 and box.facts["enable_tcp_reset"].origin == "default"
    assert box.on_expiry == "drop"
    assert box.idle_timeout.span.line == _line_of(str(path), '"idleTimeoutInMinutes"')


def test_link_does_nothing_without_cloud_docs():
    assert link_documents([], {}) == []


# ------------------------------------------------------------------------------------------------
# recorded HTTP logs (KCC test data): not a configuration format; skipped with a reason


@pytest.mark.parametrize("path", corpus_files("cloud", "*.log"), ids=lambda p: p.name)
def test_corpus_http_logs_are_skipped_with_a_reason(path, tmp_path):
    require_corpus()
    import shutil
    import subprocess
    import sys

    from advisor.loaders import skip_reason

    assert detect_kind(str(path), path.read_text()) is None
    assert skip_reason(str(path)).startswith("an HTTP request/response log")
    shutil.copy(path, tmp_path / path.name)
    root = Path(__file__).resolve().parent.parent
    walked = subprocess.run([sys.executable, "-m", "advisor", "check", str(tmp_path), "--no-config", "-v"],
                            capture_output=True, text=True, cwd=root, timeout=120)
    assert walked.returncode == 0 and "Traceback" not in walked.stderr
    # (the folder named by an absolute path outside the working directory is shown by its name)
    assert f"skipped {tmp_path.name}/{path.name}: an HTTP request/response log" in walked.stderr
    # named on the command line, a file no detector claims is read as the `text` kind (issue 12):
    # scanned for connection strings, and these logs hold none
    named = subprocess.run([sys.executable, "-m", "advisor", "check", str(path), "--no-config", "--format", "json"],
                           capture_output=True, text=True, cwd=root, timeout=120)
    assert named.returncode == 0 and "Traceback" not in named.stderr, named.stderr
    import json

    report = json.loads(named.stdout)
    assert len(report["documents"]) == 1 and report["findings"] == []
