"""Terraform plan JSON and .tf sources -> middleboxes and managed PostgreSQL settings.

Plans and .tf files are written here by hand from the providers' documented fields (no Terraform
needed): values known only after apply, variables with and without defaults, tfvars, fields the
provider ignores, out-of-range values, nested blocks (parameter, database_flags)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.engine import load_documents, make_settings
from advisor.loaders import detect_kind, terraform
from advisor.model import Unknown
from tests.conftest import corpus_files, require_corpus


def _load(path) -> list:
    loaded = terraform.load(str(path), {})
    return loaded if isinstance(loaded, list) else [loaded]


def _boxes(path):
    return {m.name: m for d in _load(path) if d.kind == "terraform" for m in d.model.middleboxes}


def _line(path, needle: str) -> int:
    return next(n for n, line in enumerate(Path(path).read_text().splitlines(), 1) if needle in line)


PLAN = {
    "format_version": "1.2",
    "terraform_version": "1.9.5",
    "planned_values": {"root_module": {"resources": []}},
    "resource_changes": [
        {"address": "aws_lb.pg", "mode": "managed", "type": "aws_lb", "name": "pg",
         "change": {"actions": ["create"],
                    "after": {"name": "pg", "load_balancer_type": "network", "idle_timeout": 600, "internal": True},
                    "after_unknown": {"dns_name": True, "arn": True}}},
        {"address": "aws_lb_listener.pg", "mode": "managed", "type": "aws_lb_listener", "name": "pg",
         "change": {"actions": ["create"],
                    "after": {"port": 5432, "protocol": "TCP", "tcp_idle_timeout_seconds": 600},
                    "after_unknown": {"load_balancer_arn": True, "arn": True}}},
        {"address": "aws_lb_listener.tls", "mode": "managed", "type": "aws_lb_listener", "name": "tls",
         "change": {"actions": ["create"], "after": {"port": 5433, "protocol": "TLS"},
                    "after_unknown": {"tcp_idle_timeout_seconds": True}}},
        {"address": "aws_db_proxy.orders", "mode": "managed", "type": "aws_db_proxy", "name": "orders",
         "change": {"actions": ["create"],
                    "after": {"name": "orders", "engine_family": "POSTGRESQL", "require_tls": False},
                    "after_unknown": {"idle_client_timeout": True, "endpoint": True}}},
        {"address": "aws_db_instance.orders", "mode": "managed", "type": "aws_db_instance", "name": "orders",
         "change": {"actions": ["create"],
                    "after": {"instance_class": "db.r6g.large", "engine": "postgres", "engine_version": "16.3",
                              "username": "app", "password": "PlanPw31xQ", "parameter_group_name": "orders-pg16"},
                    "after_unknown": {"address": True, "endpoint": True},
                    "after_sensitive": {"password": True}}},
        {"address": "aws_db_parameter_group.orders", "mode": "managed", "type": "aws_db_parameter_group",
         "name": "orders",
         "change": {"actions": ["create"],
                    "after": {"name": "orders-pg16", "family": "postgres16",
                              "parameter": [{"name": "work_mem", "value": "65536", "apply_method": "immediate"},
                                            {"name": "rds.force_ssl", "value": "0", "apply_method": "pending-reboot"}]},
                    "after_unknown": {"arn": True, "parameter": [{}, {}]}}},
        {"address": "aws_db_parameter_group.old", "mode": "managed", "type": "aws_db_parameter_group", "name": "old",
         "change": {"actions": ["delete"], "before": {"name": "old"}, "after": None}},
    ],
}


def test_plan(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN, indent=2))
    assert detect_kind(str(path), path.read_text()) == "terraform"
    docs = _load(path)
    boxes = {m.name: m for d in docs if d.kind == "terraform" for m in d.model.middleboxes}
    # the listeners' load_balancer_arn is known only after apply, and the plan creates one network
    # load balancer: theirs. The NLB's timers are its listeners' (no second, default-timed box)
    assert "aws_lb.pg" not in boxes
    alone = dict(PLAN, resource_changes=[rc for rc in PLAN["resource_changes"] if rc["type"] != "aws_lb_listener"])
    (tmp_path / "alone.json").write_text(json.dumps(alone))
    nlb = _boxes(tmp_path / "alone.json")["aws_lb.pg"]  # no listener in the file: the load balancer stands
    assert nlb.kind == "aws-nlb" and nlb.idle_timeout.origin == "default"  # idle_timeout is ALB-only: not used
    assert nlb.facts["ignored_idle_timeout"].value == 600
    listener = boxes["aws_lb_listener.pg"]
    assert listener.idle_timeout.value == 600 and listener.idle_timeout.span.key == \
        "aws_lb_listener.pg.tcp_idle_timeout_seconds"
    assert listener.idle_timeout.span.line == _line(path, '"tcp_idle_timeout_seconds": 600')
    proxy = boxes["orders"]
    assert isinstance(proxy.idle_timeout.value, Unknown)  # known after apply: never the default
    assert proxy.facts["require_tls"].value is False
    [pg] = [d for d in docs if d.kind == "postgresql"]
    assert pg.meta["pg_version"] == 16 and pg.get("work_mem").value == 65536
    assert pg.get("work_mem").span.key == "aws_db_parameter_group.orders.parameter[0].value"
    # linking with the instance of the same plan: its class memory
    settings = make_settings({"paths": [str(tmp_path)]}, use_config=False)
    linked, errors = load_documents(settings, [(str(path), "terraform")])
    [pg] = [d for d in linked if d.kind == "postgresql"]
    assert pg.host.get("ram").value == 16 * 1024**3
    assert pg.get("shared_buffers").value == 16 * 1024**3 // 32768  # RDS default formula, evaluated


def test_plan_tls_listener_unknown_timer_is_not_an_error(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN))
    [doc, _] = _load(path)
    assert doc.diagnostics == []
    assert _boxes(path)["aws_lb_listener.tls"].idle_timeout.value == 350


TF_MAIN = '''
resource "aws_lb" "pg" {
  name               = "pg"
  load_balancer_type = "network"
  idle_timeout       = 400
}

resource "aws_lb_listener" "pg" {
  load_balancer_arn        = aws_lb.pg.arn
  port                     = 5432
  protocol                 = "TCP"
  tcp_idle_timeout_seconds = var.nlb_idle
}

resource "aws_lb_listener" "tls" {
  load_balancer_arn        = aws_lb.pg.arn
  port                     = 5433
  protocol                 = "TLS"
  tcp_idle_timeout_seconds = 900
}

resource "aws_db_proxy" "orders" {
  name                = "orders"
  engine_family       = "POSTGRESQL"
  idle_client_timeout = var.proxy_idle
  require_tls         = var.proxy_tls
  role_arn            = aws_iam_role.proxy.arn
}

resource "azurerm_lb_rule" "pg" {
  name                    = "pg"
  protocol                = "Tcp"
  frontend_port           = 5432
  backend_port            = 5432
  idle_timeout_in_minutes = 30
  tcp_reset_enabled       = true
}

resource "azurerm_nat_gateway" "out" {
  name                    = "out"
  idle_timeout_in_minutes = 200
}

resource "google_compute_router_nat" "nat" {
  name                             = "nat"
  tcp_established_idle_timeout_sec = local.nat_idle
}

resource "google_sql_database_instance" "pg" {
  name             = "pg"
  database_version = "POSTGRES_15"
  settings {
    tier = "db-custom-2-7680"
    database_flags {
      name  = "work_mem"
      value = "131072"
    }
    database_flags {
      name  = "max_connections"
      value = var.max_conn
    }
  }
}

resource "aws_db_instance" "orders" {
  instance_class       = "db.t4g.medium"
  engine               = "postgres"
  engine_version       = "15.5"
  password             = var.db_password
  parameter_group_name = aws_db_parameter_group.orders.name
}

resource "aws_db_parameter_group" "orders" {
  name   = "orders"
  family = "postgres15"
  parameter {
    name  = "max_connections"
    value = "300"
  }
}
'''

TF_VARS = '''
variable "nlb_idle" {
  type    = number
  default = 350
}

variable "proxy_idle" {
  type = number
}

variable "proxy_tls" {
  type    = bool
  default = false
}

variable "max_conn" {
  default = null
}

variable "db_password" {
  default = "TfPw32xQ"
}
'''


@pytest.fixture
def tf_dir(tmp_path):
    (tmp_path / "main.tf").write_text(TF_MAIN)
    (tmp_path / "variables.tf").write_text(TF_VARS)
    return tmp_path


def test_tf_values_lines_and_unknowns(tf_dir):
    main = tf_dir / "main.tf"
    assert detect_kind(str(main), main.read_text()) == "terraform"
    boxes = _boxes(main)
    listener = boxes["aws_lb_listener.pg"]
    assert listener.idle_timeout.value == 350 and listener.idle_timeout.origin == "set"  # var default
    assert listener.idle_timeout.span.line == _line(main, "tcp_idle_timeout_seconds = var.nlb_idle")
    proxy = boxes["orders"]
    assert isinstance(proxy.idle_timeout.value, Unknown)  # variable without default
    assert proxy.facts["require_tls"].value is False  # default of var.proxy_tls
    # the NLB's timers are its listeners': no second, default-timed middlebox for the load balancer
    assert "aws_lb.pg" not in boxes
    rule = boxes["azurerm_lb_rule.pg"]
    assert (rule.idle_timeout.value, rule.on_expiry) == (1800, "rst")
    assert isinstance(boxes["nat"].idle_timeout.value, Unknown)  # a local: unknown
    out_of_range = boxes["out"].idle_timeout  # 200 min: refused by the provider, a diagnostic; never the default
    assert isinstance(out_of_range.value, Unknown) and out_of_range.error == "out of range"


def test_tf_diagnostics(tf_dir):
    docs = _load(tf_dir / "main.tf")
    messages = [d.message for d in docs[0].diagnostics]
    assert any("tcp_idle_timeout_seconds can only be set on TCP listeners" in m for m in messages)
    assert any("idle_timeout_in_minutes = 200 is outside the range the provider accepts (4-120 min)" in m
               for m in messages)
    for d in docs[0].diagnostics:
        assert d.kind == "cloud-invalid-field" and d.span.line is not None


def test_tf_managed_settings(tf_dir):
    docs = _load(tf_dir / "main.tf")
    sql = next(d for d in docs if d.kind == "postgresql" and d.meta["managed"] == "gcp-cloudsql")
    assert sql.meta["pg_version"] == 15 and sql.host.get("ram").value == 7680 * 1024**2
    assert sql.get("work_mem").value == 131072
    assert sql.get("shared_buffers").value == 7680 * 1024**2 * 33 // 100 // 8192  # Cloud SQL's default: 33 %
    assert isinstance(sql.get("max_connections").value, Unknown)  # var with default null
    rds = next(d for d in docs if d.kind == "postgresql" and d.meta["managed"] == "aws-rds")
    assert rds.get("max_connections").value == 300
    assert rds.meta["parameter_group"] == ["aws_db_parameter_group.orders", "orders"]


def test_tfvars_win_over_defaults(tf_dir):
    (tf_dir / "terraform.tfvars").write_text('nlb_idle = 900\n')
    listener = _boxes(tf_dir / "main.tf")["aws_lb_listener.pg"]
    assert listener.idle_timeout.value == 900


def test_not_hcl_is_a_syntax_error(tmp_path):
    path = tmp_path / "broken.tf"
    path.write_text('resource "aws_lb" "x" {\n  name = \n}\n')
    [doc] = _load(path)
    assert doc.diagnostics[0].kind == "syntax-error" and doc.diagnostics[0].span.line >= 1


def test_tf_without_cloud_resources_is_not_read():
    assert detect_kind("main.tf", 'resource "aws_s3_bucket" "b" {}\n') is None


@pytest.mark.parametrize("path", corpus_files("cloud", "*.tf"), ids=lambda p: p.name)
def test_corpus_tf_loads(path):
    require_corpus()
    assert detect_kind(str(path), path.read_text()) == "terraform"
    docs = _load(path)
    assert not [d for doc in docs for d in doc.diagnostics if d.kind == "syntax-error"]
    doc = docs[0]
    assert doc.model.middleboxes or doc.meta.get("variables")


def test_corpus_azurerm_rule_without_tcp_reset():
    require_corpus()
    [path] = corpus_files("cloud", "terraform-azurerm-loadbalancer_main.tf")
    [rule] = [m for m in _boxes(path).values() if m.kind == "azure-lb"]
    assert rule.idle_timeout.value == 300 and rule.facts["enable_tcp_reset"].origin == "default"
    assert rule.idle_timeout.span.line == _line(path, "idle_timeout_in_minutes        = 5") \
        if "idle_timeout_in_minutes        = 5" in path.read_text() else rule.idle_timeout.span.line


def test_corpus_variables_with_and_without_defaults():
    require_corpus()
    [path] = corpus_files("cloud", "terraform-google-cloud-nat_variables.tf")
    variables = {v["name"]: v for v in _load(path)[0].meta["variables"]}
    assert variables["project_id"]["value"] is None and "unknown" in variables["project_id"]
    assert variables["tcp_established_idle_timeout_sec"]["value"] == "(a string)"  # "1200": strings not shown


# ------------------------------------------------------------------------------------------------
# an NLB in a plan is its listeners, as in a .tf source (scenario audit 12, D3)

NLB_TF = '''
resource "aws_lb" "ledger_db" {
  name               = "ledger-db-nlb"
  load_balancer_type = "network"
  internal           = true
}

resource "aws_lb_target_group" "pg" {
  name     = "ledger-pg"
  port     = 5432
  protocol = "TCP"
}

resource "aws_lb_listener" "pg" {
  load_balancer_arn        = aws_lb.ledger_db.arn
  port                     = 5432
  protocol                 = "TCP"
  tcp_idle_timeout_seconds = 1800

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.pg.arn
  }
}
'''


def _change(rtype: str, name: str, after: dict, unknown: dict, module: str = "", index=None) -> dict:
    address = f"{module + '.' if module else ''}{rtype}.{name}" + (f"[{json.dumps(index)}]" if index is not None
                                                                     else "")
    change = {"address": address, "mode": "managed", "type": rtype, "name": name,
              "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": unknown}}
    if module:
        change["module_address"] = module
    if index is not None:
        change["index"] = index
    return change


def _nlb_changes(module: str = "") -> list[dict]:
    """The NLB_TF resources as `terraform plan` leaves them before apply: every ARN unknown."""
    return [
        _change("aws_lb", "ledger_db", {"name": "ledger-db-nlb", "internal": True, "load_balancer_type": "network"},
                {"arn": True, "dns_name": True}, module),
        _change("aws_lb_target_group", "pg", {"name": "ledger-pg", "port": 5432, "protocol": "TCP"}, {"arn": True},
                module),
        _change("aws_lb_listener", "pg", {"port": 5432, "protocol": "TCP", "tcp_idle_timeout_seconds": 1800,
                                          "default_action": [{"type": "forward"}]},
                {"arn": True, "load_balancer_arn": True, "default_action": [{"target_group_arn": True}]}, module),
    ]


# the plan's configuration snapshot: what each expression refers to (module-relative addresses)
NLB_CONFIG_RESOURCES = [
    {"address": "aws_lb.ledger_db", "mode": "managed", "type": "aws_lb", "name": "ledger_db",
     "expressions": {"load_balancer_type": {"constant_value": "network"}}},
    {"address": "aws_lb_target_group.pg", "mode": "managed", "type": "aws_lb_target_group", "name": "pg",
     "expressions": {"port": {"constant_value": 5432}}},
    {"address": "aws_lb_listener.pg", "mode": "managed", "type": "aws_lb_listener", "name": "pg",
     "expressions": {"load_balancer_arn": {"references": ["aws_lb.ledger_db.arn", "aws_lb.ledger_db"]},
                     "port": {"constant_value": 5432},
                     "default_action": [{"type": {"constant_value": "forward"},
                                         "target_group_arn": {"references": ["aws_lb_target_group.pg.arn",
                                                                             "aws_lb_target_group.pg"]}}]}},
]


def _plan(changes: list[dict], configuration: dict | None = None) -> dict:
    plan = {"format_version": "1.2", "terraform_version": "1.9.5",
            "planned_values": {"root_module": {"resources": []}}, "resource_changes": changes}
    if configuration is not None:
        plan["configuration"] = configuration
    return plan


def _seen(path) -> dict:
    """What a file's middleboxes are, as the path rules see them."""
    return {m.name: (m.kind, m.idle_timeout.value if m.idle_timeout is not None else None,
                     m.idle_timeout.origin if m.idle_timeout is not None else None, tuple(m.listens), tuple(m.targets))
            for m in _boxes(path).values()}


@pytest.mark.parametrize("configuration", [True, False], ids=["with-configuration", "hand-written"])
def test_a_plans_nlb_is_its_listener_as_in_the_tf_source(tmp_path, configuration):
    """D3: `aws_lb` of type network in a plan was an extra aws-nlb with the 350 s default, listed
    before the listener that holds the real tcp_idle_timeout_seconds; from the .tf source only the
    listener is a middlebox. A plan links listener and load balancer by the configuration's
    references (`terraform show -json` writes them), or, in a plan without them, because the
    listener's load_balancer_arn is known only after apply and the plan creates one network load
    balancer only."""
    (tmp_path / "main.tf").write_text(NLB_TF)
    tf = _seen(tmp_path / "main.tf")
    assert tf == {"aws_lb_listener.pg": ("aws-nlb", 1800, "set", ("*:5432",), ("*:5432",))}
    plan = tmp_path / "plan.json"
    config = {"root_module": {"resources": NLB_CONFIG_RESOURCES}} if configuration else None
    plan.write_text(json.dumps(_plan(_nlb_changes(), config), indent=2))
    seen = _seen(plan)
    if configuration:
        assert seen == tf  # the target group's port too, through the reference
    else:  # no reference to the target group: its port is not guessed
        assert seen == {"aws_lb_listener.pg": ("aws-nlb", 1800, "set", ("*:5432",), ())}


def test_a_plans_references_are_read_inside_modules_and_per_instance(tmp_path):
    """A module's resources refer to each other by module-relative address; a for_each listener's
    instances all belong to the load balancer its configuration names."""
    changes = _nlb_changes("module.db")
    listener = changes.pop()
    for port in (5432, 5433):
        one = json.loads(json.dumps(listener))
        one["address"], one["index"] = f'module.db.aws_lb_listener.pg["{port}"]', str(port)
        one["change"]["after"]["port"] = port
        changes.append(one)
    # a second network load balancer in the same plan, with its own listener (root module)
    changes += [_change("aws_lb", "other", {"name": "other", "load_balancer_type": "network"}, {"arn": True}),
                _change("aws_lb_listener", "other", {"port": 6432, "protocol": "TCP"},
                        {"arn": True, "load_balancer_arn": True})]
    configuration = {"root_module": {
        "resources": [{"address": "aws_lb.other", "mode": "managed", "type": "aws_lb", "name": "other",
                       "expressions": {}},
                      {"address": "aws_lb_listener.other", "mode": "managed", "type": "aws_lb_listener",
                       "name": "other",
                       "expressions": {"load_balancer_arn": {"references": ["aws_lb.other.arn", "aws_lb.other"]}}}],
        "module_calls": {"db": {"source": "./modules/db", "module": {"resources": NLB_CONFIG_RESOURCES}}}}}
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan(changes, configuration), indent=2))
    seen = _seen(plan)
    assert seen == {
        'module.db.aws_lb_listener.pg["5432"]': ("aws-nlb", 1800, "set", ("*:5432",), ("*:5432",)),
        'module.db.aws_lb_listener.pg["5433"]': ("aws-nlb", 1800, "set", ("*:5433",), ("*:5432",)),
        "aws_lb_listener.other": ("aws-nlb", 350, "default", ("*:6432",), ()),
    }, seen


def test_a_plan_without_references_keeps_load_balancers_it_cannot_pair(tmp_path):
    """Two network load balancers created by a plan without its configuration: which one a
    listener belongs to is not written anywhere, so nothing is paired by guess (a topology hop
    naming the file then has to say which middlebox it means: tests/rules/ADV004)."""
    changes = _nlb_changes() + [_change("aws_lb", "other", {"name": "other", "load_balancer_type": "network"},
                                        {"arn": True})]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan(changes), indent=2))
    assert sorted(_seen(plan)) == ["aws_lb.ledger_db", "aws_lb.other", "aws_lb_listener.pg"]


def test_a_plans_known_arns_pair_listener_and_load_balancer(tmp_path):
    """An NLB that exists already (no-op): its ARN and the listener's load_balancer_arn are known."""
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/ledger-db-nlb/50dc6c495c0c9188"
    changes = [
        _change("aws_lb", "ledger_db", {"name": "ledger-db-nlb", "load_balancer_type": "network", "arn": arn}, {}),
        _change("aws_lb", "other", {"name": "other", "load_balancer_type": "network", "arn": arn + "0"}, {}),
        _change("aws_lb_listener", "pg", {"port": 5432, "protocol": "TCP", "load_balancer_arn": arn,
                                          "tcp_idle_timeout_seconds": 900}, {"arn": True}),
    ]
    for change in changes[:2]:
        change["change"]["actions"] = ["no-op"]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan(changes), indent=2))
    assert sorted(_seen(plan)) == ["aws_lb.other", "aws_lb_listener.pg"]


def test_an_application_load_balancers_listener_is_not_paired_with_the_nlb(tmp_path):
    """The fallback pairs only a listener an NLB can have (TCP, TLS, UDP, TCP_UDP): an HTTP
    listener of an ALB created in the same plan leaves the NLB, which has no listener here, standing."""
    changes = [
        _change("aws_lb", "pg", {"name": "pg", "load_balancer_type": "network"}, {"arn": True}),
        _change("aws_lb", "web", {"name": "web", "load_balancer_type": "application"}, {"arn": True}),
        _change("aws_lb_listener", "http", {"port": 80, "protocol": "HTTP"}, {"arn": True, "load_balancer_arn": True}),
    ]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan(changes), indent=2))
    assert sorted(_seen(plan)) == ["aws_lb.pg", "aws_lb.web"]


# ------------------------------------------------------------------------------------------------
# NAT gateways: AWS (fixed 350 s, RST to the inside host), GCP Cloud NAT (default 1200 s)

TF_NATS = '''
resource "aws_nat_gateway" "egress" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public.id
}

resource "aws_nat_gateway" "private" {
  connectivity_type = "private"
  subnet_id         = aws_subnet.private.id
}

resource "google_compute_router_nat" "default_timers" {
  name                               = "egress"
  router                             = google_compute_router.r.name
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
}
'''


def test_tf_nat_gateways(tmp_path):
    main = tmp_path / "main.tf"
    main.write_text(TF_NATS)
    assert detect_kind(str(main), main.read_text()) == "terraform"
    boxes = _boxes(main)
    aws = boxes["aws_nat_gateway.egress"]
    assert (aws.kind, aws.idle_timeout.value, aws.idle_timeout.origin, aws.on_expiry, aws.keepalive_resets) == \
        ("aws-nat", 350, "default", "rst", True)
    assert aws.span.line == _line(main, 'resource "aws_nat_gateway" "egress"')
    assert aws.facts["connectivity_type"].value == "public"  # the provider's default
    assert boxes["aws_nat_gateway.private"].facts["connectivity_type"].value == "private"
    gcp = boxes["egress"]  # named by its name attribute (and by its address)
    assert (gcp.kind, gcp.idle_timeout.value, gcp.idle_timeout.origin) == ("gcp-cloud-nat", 1200, "default")
    assert gcp.named("google_compute_router_nat.default_timers")


def test_plan_aws_nat_gateway(tmp_path):
    plan = {"format_version": "1.2", "terraform_version": "1.9.5", "planned_values": {"root_module": {"resources": []}},
            "resource_changes": [
                {"address": "aws_nat_gateway.etl", "mode": "managed", "type": "aws_nat_gateway", "name": "etl",
                 "change": {"actions": ["create"],
                            "after": {"allocation_id": None, "connectivity_type": "public", "subnet_id": None},
                            "after_unknown": {"id": True, "allocation_id": True, "subnet_id": True}}}]}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    [box] = _boxes(path).values()
    assert (box.kind, box.name, box.idle_timeout.value, box.on_expiry) == ("aws-nat", "aws_nat_gateway.etl", 350, "rst")


def test_tf_gcp_passthrough_backend_service(tmp_path):
    main = tmp_path / "main.tf"
    main.write_text('''
resource "google_compute_region_backend_service" "pgbouncer" {
  name                  = "pgbouncer-ilb"
  load_balancing_scheme = "INTERNAL"
  protocol              = "TCP"
  session_affinity      = "CLIENT_IP"
  connection_tracking_policy {
    tracking_mode    = "PER_SESSION"
    idle_timeout_sec = 3600
  }
}
''')
    box = _boxes(main)["pgbouncer-ilb"]
    assert (box.kind, box.idle_timeout.value, box.on_expiry) == ("gcp-lb", 3600, "rehash")
    assert box.facts["session_affinity"].value == "CLIENT_IP"
    assert box.facts["tracking_mode"].value == "PER_SESSION"


def test_tf_gcp_proxy_network_load_balancer(tmp_path):
    """A global backend service with protocol TCP (classic TCP proxy, scheme EXTERNAL by default) or a
    regional one with a managed scheme (Envoy proxy NLB) is a proxy Network Load Balancer: its
    timeout_sec (default 30 s) closes idle connections; a regional EXTERNAL or INTERNAL one stays
    passthrough (gcp-lb). Before, the global one was read as an external passthrough (60 s, rehash)."""
    main = tmp_path / "main.tf"
    main.write_text('''
resource "google_compute_backend_service" "classic" {
  name     = "pg-tcp-proxy"
  protocol = "TCP"
}

resource "google_compute_region_backend_service" "internal" {
  name                  = "pg-internal-proxy"
  region                = "us-central1"
  load_balancing_scheme = "INTERNAL_MANAGED"
  protocol              = "TCP"
  timeout_sec           = 3600
}

resource "google_compute_region_backend_service" "passthrough" {
  name                  = "pg-external-nlb"
  region                = "us-central1"
  load_balancing_scheme = "EXTERNAL"
  protocol              = "TCP"
}

resource "google_compute_backend_service" "web" {
  name     = "web"
  protocol = "HTTPS"
}
''')
    boxes = _boxes(main)
    classic, internal = boxes["pg-tcp-proxy"], boxes["pg-internal-proxy"]
    assert (classic.kind, classic.idle_timeout.value, classic.idle_timeout.origin) == ("gcp-proxy-lb", 30, "default")
    assert classic.keepalive_resets is False and classic.on_expiry == "close"
    assert (internal.kind, internal.idle_timeout.value) == ("gcp-proxy-lb", 3600)
    assert internal.idle_timeout.span.line == _line(main, "timeout_sec           = 3600")
    assert (boxes["pg-external-nlb"].kind, boxes["pg-external-nlb"].on_expiry) == ("gcp-lb", "rehash")
    assert "web" not in boxes  # an Application Load Balancer's: a response timeout, not modelled


AURORA_TF = (Path(__file__).parent / "rules" / "MEM001" / "bad_aurora_tf" / "aurora.tf").read_text()


def test_aurora_cluster_groups_take_aurora_defaults_and_the_instances_memory(tmp_path):
    """An Aurora cluster (aws_rds_cluster engine aurora-postgresql), its instances' class
    (aws_rds_cluster_instance) and both parameter groups: each group is an aws-aurora document
    with Aurora's own defaults (Aurora User Guide: shared_buffers SUM({DBInstanceClassMemory/12038},
    -50003), max_connections LEAST({DBInstanceClassMemory/9531392},5000), keepalives 300/30/2,
    rds.force_ssl 0 in the cluster group only), evaluated at the class's memory (db.r6g.large,
    16 GiB), which the cluster takes from its instances."""
    path = tmp_path / "aurora.tf"
    path.write_text(AURORA_TF)
    docs, _ = load_documents(make_settings({"paths": [str(tmp_path)]}, use_config=False), [(str(path), "terraform")])
    groups = {d.meta["parameter_group"][0]: d for d in docs if d.kind == "postgresql"}
    cluster, instance = groups["aws_rds_cluster_parameter_group.orders"], groups["aws_db_parameter_group.orders"]
    memory = 16 * 1024**3
    for doc in (cluster, instance):
        assert doc.meta["managed"] == "aws-aurora" and doc.host.get("ram").value == memory
        assert doc.get("shared_buffers").value == memory // 12038 - 50003  # 8 kB blocks: about 65 %
        assert doc.get("max_connections").value == 1802
        assert doc.get("maintenance_work_mem").value == memory // 63963136 * 1024  # kB
        assert [doc.get(f"tcp_keepalives_{n}").value for n in ("idle", "interval", "count")] == [300, 30, 2]
    assert (cluster.meta["aurora_scope"], instance.meta["aurora_scope"]) == ("cluster", "instance")
    assert cluster.get("rds.force_ssl").raw == "1"  # the file's own value
    assert instance.get("rds.force_ssl") is None  # a cluster-level parameter: no default in a DB parameter group
    assert instance.get("work_mem").value == 65536
    [tf] = [d for d in docs if d.kind == "terraform"]
    by_id = {i["id"]: i for i in tf.meta["db_instances"]}
    assert by_id["aws_rds_cluster.orders"]["identifier"] == "orders-prod"
    assert by_id["aws_rds_cluster.orders"]["instance_class"] == "db.r6g.large"
    assert by_id["aws_rds_cluster_instance.orders"]["identifier"] is None  # "orders-prod-${count.index}"
    assert by_id["aws_rds_cluster_instance.orders"]["cluster"] == "aws_rds_cluster.orders"


AURORA_PLAN = {
    "format_version": "1.2",
    "terraform_version": "1.9.5",
    "planned_values": {"root_module": {"resources": []}},
    "resource_changes": [
        {"address": "aws_rds_cluster.orders", "mode": "managed", "type": "aws_rds_cluster", "name": "orders",
         "change": {"actions": ["create"],
                    "after": {"cluster_identifier": "orders-prod", "engine": "aurora-postgresql",
                              "engine_version": "16.4", "master_username": "orders_admin",
                              "master_password": "PlanAuroraPw9x", "db_cluster_parameter_group_name": None},
                    "after_unknown": {"endpoint": True, "reader_endpoint": True, "arn": True},
                    "after_sensitive": {"master_password": True}}},
        {"address": "aws_rds_cluster_instance.orders[0]", "mode": "managed", "type": "aws_rds_cluster_instance",
         "name": "orders", "index": 0,
         "change": {"actions": ["create"],
                    "after": {"identifier": "orders-prod-0", "cluster_identifier": "orders-prod",
                              "instance_class": "db.r6g.xlarge", "engine": "aurora-postgresql",
                              "engine_version": "16.4"},
                    "after_unknown": {"endpoint": True, "db_parameter_group_name": True}}},
    ],
}


def test_aurora_plan_cluster_without_groups_has_the_default_cluster_group(tmp_path):
    """`terraform show -json`: a cluster naming no DB cluster parameter group has Aurora's default
    one (default.aurora-postgresql16), sized by its instance's class (db.r6g.xlarge, 32 GiB); the
    instance's cluster_identifier (known in a plan) names the cluster, not the instance, so the
    cluster's identifier is claimed once."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(AURORA_PLAN, indent=2))
    docs, _ = load_documents(make_settings({"paths": [str(tmp_path)]}, use_config=False), [(str(path), "terraform")])
    [pg] = [d for d in docs if d.kind == "postgresql"]
    assert pg.meta["managed"] == "aws-aurora" and pg.meta["parameter_group"] == ["default.aurora-postgresql16"]
    assert pg.host.get("ram").value == 32 * 1024**3
    assert pg.get("shared_buffers").value == 32 * 1024**3 // 12038 - 50003
    assert pg.get("max_connections").value == 3604  # LEAST(32 GiB / 9531392, 5000)
    assert pg.get("rds.force_ssl").raw == "0" and "rds.force_ssl" in pg.meta["platform_defaults"]
    [tf] = [d for d in docs if d.kind == "terraform"]
    identifiers = [i["identifier"] for i in tf.meta["db_instances"]]
    assert identifiers == ["orders-prod", "orders-prod-0"]
    assert "PlanAuroraPw9x" not in json.dumps([d.meta for d in docs], default=str)
