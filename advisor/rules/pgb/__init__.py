"""PGB: PgBouncer rules, and the few helpers they share.

Rules read the effective model the loader built (`doc.model`, a PgBouncerModel): every setting
of the selected PgBouncer version, from the file or from the version's default, and the
databases, users and peers. Include fragments (files without a `[pgbouncer]` section) and
template placeholders (`Unknown` values) are never judged.
"""

from __future__ import annotations

from typing import Any, Iterator

from advisor.model import ConfigDoc, Setting, Span, is_known
from advisor.rules.rule import any_network_address, network_host



def bouncers(ctx) -> Iterator[tuple[ConfigDoc, Any]]:
    """(doc, model) of every PgBouncer configuration in the run that is a whole configuration."""
    for doc in ctx.of_kind("pgbouncer"):
        model = doc.model
        if model is None or model.fragment:
            continue
        yield doc, model


def where(doc: ConfigDoc, model, name: str) -> Span:
    """The span of a setting, or of the [pgbouncer] header when the setting takes its default."""
    return model.span_of(name) or Span(doc.path, 1, 1)


def source(model, name: str, unit: str = "") -> str:
    """written(), with `(default)` when the file does not set it: `server_idle_timeout = 600 s
    (default)`."""
    return written(model, name, unit) + (" (default)" if model.is_default(name) else "")


def pg_written(setting: Setting | None, name: str, seconds: float) -> str:
    """A PostgreSQL time setting as its file writes it, the seconds after it:
    `idle_session_timeout = '2min' (120 s)`; `statement_timeout = 0 (default) ...` when unset."""
    if setting is None or not isinstance(setting.raw, str):
        return f"{name} = {seconds:g} s (default)"
    return f"{name} = {setting.raw} ({seconds:g} s)"


def written(model, name: str, unit: str = "") -> str:
    """The setting as the file writes it, with the figure read from it when they differ:
    `server_idle_timeout = 600 s`, `client_idle_timeout = 0600 (600 s)`, `default_pool_size =
    0x10 (16)`; `name = <value>` for a setting the file leaves at its default."""
    value = model.value(name)
    shown = "%g" % value if isinstance(value, float) else str(value)
    figure = f"{shown}{' ' + unit if unit else ''}"
    setting = None if model.is_default(name) else model.setting(name)
    raw = setting.raw.strip() if setting is not None and isinstance(setting.raw, str) else None
    if not raw or raw == shown:
        return f"{name} = {figure}"
    return f"{name} = {raw} ({figure})"


def image_variable(doc: ConfigDoc, name: str) -> str | None:
    """The environment variable that sets a [pgbouncer] setting in the container image that
    configures this PgBouncer (edoburu: `IDLE_TRANSACTION_TIMEOUT`, only for the variables its
    entrypoint reads; bitnami: `PGBOUNCER_IDLE_TRANSACTION_TIMEOUT`), or None."""
    made_by = doc.meta.get("generated_by")
    if made_by == "edoburu/pgbouncer":
        from advisor.model.pgbouncer import EDOBURU_ENV_SETTINGS

        return name.upper() if name in EDOBURU_ENV_SETTINGS else None
    if made_by == "bitnami/pgbouncer":
        return f"PGBOUNCER_{name.upper()}"
    return None


def copies(doc: ConfigDoc, least: bool = False) -> tuple[int | None, str, list[Span]]:
    """(count, said, spans) of a PgBouncer run as several copies that each have their own pools:
    processes on one port (autobase's `pgbouncer_processes`, with so_reuseport) or pods (a
    CloudNativePG Pooler's `instances`, a Kubernetes workload's `replicas`, a docker compose
    service's `deploy.replicas` or `scale`, a pgbouncer hop's `replicas:` in pgpath.yaml); (1, "", []) for one; count None when not known. `least`: the
    fewest that run when an autoscaler scales them (minReplicas; the count is then maxReplicas):
    what the clients find at the least (max_client_conn), not what the pools add up to at most.
    None also when none run (0 copies)."""
    found = doc.meta.get("processes")
    if not found:
        return 1, "", []
    fewest = bool(least and found.get("least"))
    if fewest:
        found = found["least"]
    count = found["count"]
    if count is not None and count < 1:
        # none run (replicas: 0, an autoscaler's minReplicas: 0): no pools to add up and no per-copy
        # share of a budget (the rules divided by it: ZeroDivisionError); as unknown, each rule skips it
        return None, "", []
    # (one pod an autoscaler may scale down to is said: the file's own replicas may say more)
    if count is None or count == 1 and not fewest:
        return count, "", []
    what = found.get("what", "processes")
    if count == 1 and what.endswith("s"):
        what = what[:-1]
    where = found.get("where", " on the same port")
    said = f" × {count} {what} ({found['variable']}: {found['raw']}, each with its own pools{where})"
    return count, said, [Span(**found["span"])]


def pool_capacity(model, entry) -> tuple[int | None, str, str]:
    """(server connections one pool of the [databases] `entry` (None: no entry) holds at once in
    one PgBouncer, how the file says it, the setting that bounds it): `pool_size` (else
    `default_pool_size`) + `reserve_pool` (else `reserve_pool_size`), or `max_db_connections` /
    `max_user_connections` when lower; (None, "", "") when a term is not known."""
    size = entry.value("pool_size", None) if entry is not None else None
    size_name = "pool_size" if size is not None else "default_pool_size"
    size_text = f"pool_size {size}" if size is not None else written(model, "default_pool_size")
    size = size if size is not None else model.value("default_pool_size")
    reserve = None
    if entry is not None:
        reserve = entry.value("reserve_pool_size", None)
        reserve = entry.value("reserve_pool", None) if reserve is None else reserve
    reserve_text = f"reserve_pool {reserve}" if reserve is not None else written(model, "reserve_pool_size")
    reserve = reserve if reserve is not None else model.value("reserve_pool_size")
    if not (is_known(size) and is_known(reserve)) or size <= 0:
        return None, "", ""
    capacity, text, bound = size + reserve, (f"{size_text} + {reserve_text} = {size + reserve}" if reserve
                                             else size_text), size_name
    for name in ("max_db_connections", "max_user_connections"):
        own = entry.value(name, None) if entry is not None else None  # the database's own cap, else the global
        cap = own or model.value(name)
        if is_known(cap) and cap and cap < capacity:
            capacity, text, bound = cap, f"{name} {cap}" if own else written(model, name), name
    return capacity, text, bound


# the operators whose PgBouncer settings live in a mapping of their custom resource, and where
_OPERATOR_MAPPINGS = {"cloudnative-pg": "spec.pgbouncer.parameters",
                      "PostgresCluster": "spec.proxy.pgBouncer.config.global",
                      "PerconaPGCluster": "spec.proxy.pgBouncer.config.global"}


def _home(doc: ConfigDoc, name: str) -> tuple[str, str | None]:
    """Where the file that configures this PgBouncer writes setting `name` (the one answer
    `assignment` and `removal` word): ("environment", VARIABLE) of a container image;
    ("mapping", path) of an operator's resource; ("pooler field", None) for CloudNativePG's
    pool_mode; ("ansible", variable or None) of a role's template; ("mounted ini", None) for an
    image with no variable for it; ("configuration", None) of another generator; ("ini", None)."""
    variable = image_variable(doc, name)
    if variable is not None:
        return "environment", variable
    made_by = doc.meta.get("generated_by")
    if made_by == "cloudnative-pg" and name == "pool_mode":
        return "pooler field", None  # a field of the Pooler (the operator's webhook refuses it as a parameter)
    if made_by in _OPERATOR_MAPPINGS:
        return "mapping", _OPERATOR_MAPPINGS[made_by]
    if made_by == "ansible role template":
        return "ansible", doc.meta.get("_variables", {}).get(name)
    if made_by == "edoburu/pgbouncer":
        return "mounted ini", None
    return ("configuration", None) if made_by else ("ini", None)


def assignment(doc: ConfigDoc, model, name: str, value: Any) -> str:
    """A fix's `name = value` as the file that configures this PgBouncer writes it (`_home`): the ini
    line, an environment variable of the container image, the Ansible variable the file already
    sets, or a key of the operator's parameters (CloudNativePG Pooler, Crunchy, Percona)."""
    home, where = _home(doc, name)
    if home == "environment":
        return f"{where}={value} in its environment"
    if home == "mounted ini":
        return f"{name} = {value} in a pgbouncer.ini mounted into the container (the image has no variable for it)"
    if home == "pooler field":
        return f"poolMode: {value} in spec.pgbouncer"
    if home == "mapping":  # a map of strings: a number needs quotes
        return f'{name}: "{value}" in {where}'
    if home == "ansible":
        return f"{where}: {value}" if where else f"{name} = {value} (in the role's pgbouncer.ini template)"
    if home == "configuration":
        return f"{name}: {value} in its PgBouncer configuration"
    return f"{name} = {value}"


# what turns client TLS on (PGB017, PATH004), for assignments()
CLIENT_TLS = (("client_tls_sslmode", "require"), ("client_tls_key_file", "<key file>"),
              ("client_tls_cert_file", "<certificate file>"))


def assignments(doc: ConfigDoc, model, pairs, join=None) -> str:
    """Several settings of a fix (assignment), with the ` in <where>` they share said once:
    `client_tls_sslmode = require, client_tls_key_file = <key file>` in an ini file,
    `CLIENT_TLS_SSLMODE=require, CLIENT_TLS_KEY_FILE=<key file> in its environment` for an image
    configured by its environment. `join` defaults to commas."""
    from advisor.rules.rule import listed_once

    return listed_once([assignment(doc, model, name, value) for name, value in pairs], join or ", ".join)


def assignment_in(doc: ConfigDoc, model, name: str, value: Any) -> str:
    """assignment() with the file named, for a fix that may concern one of several files on a path:
    `client_tls_protocols = secure in pgbouncer.ini`, `CLIENT_TLS_PROTOCOLS=secure in its environment
    (k8s/pgbouncer.yaml)`."""
    text = assignment(doc, model, name, value)
    return f"{text} ({doc.path})" if " in " in text else f"{text} in {doc.path}"


def removal(doc: ConfigDoc, model, name: str) -> str:
    """A fix that takes a setting out, where the file that configures this PgBouncer sets it
    (`_home`): `remove server_reset_query` (ini), `remove SERVER_RESET_QUERY from its environment`,
    `remove server_reset_query from spec.pgbouncer.parameters`."""
    home, where = _home(doc, name)
    if home == "environment":
        return f"remove {where} from its environment"
    if home == "mapping":
        return f"remove {name} from {where}"
    if home == "pooler field":
        return "poolMode: session (its default) in spec.pgbouncer"
    if home == "ansible":
        return f"remove {where}" if where else f"remove {name} (from the role's pgbouncer.ini template)"
    if home == "configuration":
        return f"remove {name} from its PgBouncer configuration"
    return f"remove {name}"


def worded(doc: ConfigDoc, model, parts) -> str:
    """A loader's fix (Diagnostic.fix_parts, advisor.model.pgbouncer.ini_fix) worded where the file
    that configures this PgBouncer writes each setting (`assignments`, `removal`): `SERVER_IDLE_TIMEOUT=30
    in its environment` for an image configured by its environment, `server_idle_timeout = 30` in an
    ini file. What only an ini file needs (how a comment is written there) is said only of one."""
    in_ini = not doc.meta.get("generated_by")
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part[0] == "set":
            out.append(assignments(doc, model, part[1], " and ".join))
        elif part[0] == "remove":
            out.append(part[2] if in_ini else removal(doc, model, part[1]))
        elif in_ini:
            out.append(part[1])
    return "".join(out)


def report(rule, ctx, kind: str):
    """The findings of a rule that reports what the PgBouncer loader found (report_diagnostics), each
    fix worded where this PgBouncer's settings live (`worded`)."""
    from advisor.rules.rule import report_diagnostics

    def judge(doc, d):
        if not d.fix_parts:
            return rule.from_diagnostic(d)
        finding = rule.from_diagnostic(d)
        finding.fix = worded(doc, doc.model, d.fix_parts)
        return finding

    return report_diagnostics(rule, ctx, kind, ("pgbouncer",), judge)


def server_over_network(model) -> bool:
    """Whether a [databases] entry sends PgBouncer's server connections over a network: a known
    host with a domain or an IP address that is not loopback. A bare name (`db`, `postgres`) is a
    compose or Kubernetes service beside it, a Unix socket or loopback stays on the machine, and
    an entry whose host is unknown (a placeholder, the `*` fallback) shows nothing."""
    for db in model.effective_databases():
        host = db.value("host")
        if db.name == "*" or db.unknown or not is_known(host) or host is None:
            continue
        if any(network_host(x) for x in str(host).split(",")):
            return True
    return False


def clients_over_network(model) -> bool:
    """Whether PgBouncer accepts clients from a network: a listen_addr that is not loopback
    (`*`, `0.0.0.0`, an interface address). Empty listen_addr is the Unix socket only."""
    addr = model.value("listen_addr")
    return is_known(addr) and any_network_address(str(addr))


def server_sessions(path, index: int | None, model) -> list[tuple[str | None, str | None]]:
    """(role, database) of the server sessions PgBouncer opens on this path: the path's own (its
    client's user, or its [databases] entry's forced user), else one per [databases] entry when
    the path goes through the whole PgBouncer (several entries reaching this server), the entry's
    forced user or None."""
    from advisor.catalog import value_or_default
    from advisor.path.timers import session_of

    own = session_of(path, index) if index is not None else (None, None)
    if own[0]:
        return [own]
    hop = next((h for h in path.hops if h.doc is not None and h.doc.model is model), None)
    if hop is None or hop.detail is not None or index is None:
        return [own]
    entries = model.effective_databases()
    hosts = {str(h) for e in entries if is_known(h := e.value("host")) and h}
    if len(hosts) > 1:
        return [own]  # entries reach several servers: which reach this one is not known
    port, _ = value_or_default(path.hops[index].doc, "port")
    out = []
    for e in entries:
        entry_port = e.value("port", 5432)
        if is_known(entry_port) and is_known(port) and str(entry_port) != str(port):
            continue  # another server (or a proxy) on another port
        user, db = e.value("user"), e.value("dbname")
        out.append((user if is_known(user) and user else None,
                    db if is_known(db) and db else (e.name if e.name != "*" else None)))
    return list(dict.fromkeys(out)) or [own]
