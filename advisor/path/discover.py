"""Which loaded files form one deployment, and in what order a connection passes through them.

Two sources, never mixed within one deployment:

- **Topology** (`deployments:` in pgpath.yaml): the user lists each deployment's hops in order,
  each naming its file (and the HAProxy proxy, the PgBouncer database, the client variable) or
  a middlebox declared by kind alone (`- aws-nlb: {}` takes the documented default).
- **Discovery**, for files no topology names, by evidence only:
  1. *Neighbourhood.* Files in one directory belong together; a client file may also join the
     nearest directory above it that holds server-side files (an `app/` folder beside the
     deployment's configs). When a directory holds several configurations of one server kind
     (`postgresql-0001.conf`, `postgresql-0002.conf`, ...), its files are split by the numbers
     in their names, and a file whose number no other file shares stays alone.
  2. *Addresses.* Within a neighbourhood a client goes to the PgBouncer, HAProxy or PostgreSQL
     that listens on the port it connects to; PgBouncer `[databases]` and HAProxy `server` lines
     name the next hop the same way; a middlebox sits in front of the hop whose port it targets
     (on a client's path, in front of the hop at the port it listens on); a client that connects
     to a middlebox's frontend port, where no file listens, reaches the hop listening on the port
     the middlebox forwards to (an Azure LB rule 5433 -> 5432);
     a client that names an RDS Proxy's endpoint reaches the proxy of that name, in any folder
     (before any port: the instance behind the proxy listens on 5432 too), and behind it the
     instance its `aws_db_proxy_target` names; one that names the Kubernetes Service of an operator's cluster or pooler
     (`hippo-pgbouncer`, `db-rw.prod.svc`) reaches it, in any folder.
  3. *Exact addresses, in any folder.* A client (before any port), a PgBouncer database or an
     HAProxy server (when its folder has no listener on the port) whose host:port is exactly an
     address something of the run is reached at — a Patroni connect_address, a specific IP a
     listener binds, a managed instance's endpoint, a Kubernetes Service's load balancer IP or
     external-dns name, a Route53 record naming a load balancer — reaches it, and behind a
     middlebox the hop its Service selects or its folder has on its target port (`_addresses`:
     one dictionary per run). An address two things claim links nothing. An IP address is
     evidence only where a file gives it (a listen address, a connect_address, a load balancer's
     static private IP): a postgresql.conf listening on `*` is at no address.
  4. *Loopback.* A client at `localhost`, `127.0.0.1`, `::1` or a Unix socket reaches only its
     own network namespace: no managed server, no Kubernetes cluster or workload of another
     manifest, no other compose service (`elsewhere`), and no middlebox before its first hop.
  5. *Kubernetes names, in any folder.* A PgBouncer database or an HAProxy server whose folder has
     nothing on its port reaches the Service or StatefulSet pod its host names, by the lookup a
     client's host goes through (`_service_of`). A next hop found nowhere is said on the hop
     (`Hop.next_hop`): the path ends there, and `pgpath path` and `pgpath init` say so.
  6. *Ansible roles.* A role's file (`roles/<role>/files|templates/`) runs on the inventory hosts
     the playbook applying its role names, or the group named like it when no playbook names it
     (advisor.loaders.ansible_inventory, `meta["_ansible"]`): it is at those hosts' addresses, and at
     a `vip` variable of a group whose every host runs it (`_placed_addresses`); its loopback next
     hop is the one file of another role on that port on all its hosts (`_colocated`). Where these
     are missing, `pgpath path` says so (`_inventory_note`, `_role_port_note`).
  Files with no evidence are never paired: each stays a path of its own.

Cost is linear in the number of files: every lookup goes through a dictionary built once.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, TypeVar

from advisor import lazy_re
from advisor.catalog import value_or_default
from advisor.model import ConfigDoc, Span, Unknown, is_known
from advisor.model.host import loopback
from advisor.path.model import DeploymentPath, Hop, client_hop
from advisor.units import decimal, digits

SERVER_KINDS = ("pgbouncer", "haproxy", "postgresql")
T = TypeVar("T")
_DIGITS = lazy_re.compile(r"\d+")
_BIND_PORT = lazy_re.compile(r":([0-9]+)(?:-[0-9]+)?$")


# ------------------------------------------------------------------------------------------------
# what each document offers: listeners (ports it accepts connections on)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, (Unknown, bool)):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _bind_port(address: str) -> int | None:
    m = _BIND_PORT.search(address or "")
    return decimal(m.group(1)) if m else None


class _Listener:
    """Something in a file that accepts connections: a hop factory for a port."""

    __slots__ = ("doc", "kind", "port", "detail", "label")

    def __init__(self, doc: ConfigDoc, kind: str, port: int | None, detail: Any, label: str) -> None:
        self.doc = doc
        self.kind = kind
        self.port = port
        self.detail = detail
        self.label = label


def listeners(doc: ConfigDoc) -> list[_Listener]:
    out: list[_Listener] = []
    model = doc.model
    if doc.kind == "pgbouncer" and model is not None and hasattr(model, "values"):
        out.append(_Listener(doc, "pgbouncer", _int(model.value("listen_port")), None,
                             f"PgBouncer {_short(doc.path)}"))
    elif doc.kind == "haproxy" and model is not None and hasattr(model, "routes"):
        for route in model.routes():
            mode = route.back.effective_mode()
            if is_known(mode) and mode != "tcp":
                continue  # an HTTP proxy carries no PostgreSQL connection
            ports = {_bind_port(b.address) for b in route.front.binds} or {None}
            for port in sorted(ports, key=lambda p: (p is None, p or 0)):
                out.append(_Listener(doc, "haproxy", port, route, f"HAProxy {route.label}"))
    elif doc.kind == "postgresql":
        port, _ = value_or_default(doc, "port", assume_default=True)
        out.append(_Listener(doc, "postgres", _int(port), None, f"PostgreSQL {_short(doc.path)}"))
    return out


def _short(path: str) -> str:
    return os.path.basename(path) or path


def client_endpoints(doc: ConfigDoc) -> list:
    return list(getattr(doc.model, "endpoints", ()) or ()) if doc.kind == "client" else []


def middleboxes(doc: ConfigDoc) -> list:
    return list(getattr(doc.model, "middleboxes", ()) or ())


def target_port(values: Iterable, default: int = 5432) -> int | None:
    """The first port a client names (libpq's default when it names none); None when unknown."""
    values = list(values)
    if not values:
        return default
    v = values[0]
    if not v.known:
        return None
    return _int(v.value)


# ------------------------------------------------------------------------------------------------
# neighbourhoods


def _number_key(path: str) -> str | None:
    digits = _DIGITS.findall(os.path.basename(path))
    return ".".join(digits) if digits else None


def neighbourhoods(docs: list[ConfigDoc]) -> list[list[ConfigDoc]]:
    """Groups of documents that may share a path (see the module docstring), in first-seen order."""
    return group_neighbourhoods(docs, home, lambda d: d.kind)


def home(doc: ConfigDoc) -> str:
    """The file a document's server is deployed by: the compose file or manifest of the container
    that mounts its configuration file (advisor.loaders.mounts), or that runs its code; else its own file."""
    mounted = doc.meta.get("mounted_in")
    if mounted:
        return mounted["file"]
    # a code file whose clients were joined with the container that runs them (advisor.loaders.
    # clients.env_join): the container's file, where the names of its URL resolve
    runs = {c.path for c in doc.meta.get("_runs_in", {}).values()}
    return runs.pop() if len(runs) == 1 else doc.path


def group_neighbourhoods(items: list[T], path_of: Callable[[T], str], kind_of: Callable[[T], str | None]) -> list[list[T]]:
    """The neighbourhood rule over anything with a file path and a kind (loaded documents here;
    (path, kind) pairs before loading, for the PostgreSQL major in advisor/pgversion.py): one
    folder; a folder holding no server file joins the nearest folder above that holds one; a
    folder with several server files of one kind is split by the numbers in the file names, a file
    without a number staying alone with every configuration it holds."""
    by_dir: dict[str, list[T]] = {}
    for item in items:
        by_dir.setdefault(os.path.dirname(os.path.normpath(path_of(item))), []).append(item)
    server_dirs = {d for d, xs in by_dir.items() if any(kind_of(x) in SERVER_KINDS for x in xs)}
    # client-only directories join the nearest directory above them that holds server files
    merged: dict[str, list[T]] = {}
    for folder, xs in by_dir.items():
        home = folder
        if folder not in server_dirs:
            parent = folder
            while True:
                up = os.path.dirname(parent)
                if up == parent:
                    break
                parent = up
                if parent in server_dirs:
                    home = parent
                    break
        merged.setdefault(home, []).extend(xs)
    groups: list[list[T]] = []
    for xs in merged.values():
        counts: dict[str, int] = {}
        for x in xs:
            kind = kind_of(x)
            if kind in SERVER_KINDS:
                counts[kind] = counts.get(kind, 0) + 1
        if all(n <= 1 for n in counts.values()):
            groups.append(xs)
            continue
        # several configurations of one kind in one folder: numbers in the names say which go together
        by_number: dict[str | None, list[T]] = {}
        for x in xs:
            by_number.setdefault(_number_key(path_of(x)), []).append(x)
        for key, members in by_number.items():
            if key is None:
                # no number: each file alone, with every configuration it holds (a compose file's
                # PgBouncer and PostgreSQL services are one project)
                by_file: dict[str, list[T]] = {}
                for m in members:
                    by_file.setdefault(path_of(m), []).append(m)
                groups.extend(by_file.values())
            else:
                groups.append(members)
    return groups


# ------------------------------------------------------------------------------------------------
# discovery within a neighbourhood


class _Group:
    def __init__(self, docs: list[ConfigDoc]) -> None:
        self.docs = docs
        self.by_port: dict[int | None, list[_Listener]] = {}
        self.listeners: list[_Listener] = []
        for doc in docs:
            for lst in listeners(doc):
                self.listeners.append(lst)
                self.by_port.setdefault(lst.port, []).append(lst)
        self.boxes = [(doc, box) for doc in docs for box in middleboxes(doc)]
        # frontend port -> the middleboxes that listen on it and say which port they forward to
        self.fronts: dict[int, list] = {}
        for doc, box in self.boxes:
            listen, target = _box_ports(box)
            for port in listen if target else ():
                self.fronts.setdefault(port, []).append((doc, box, target))
        self.sql = [doc for doc in docs if doc.kind == "sql"]  # ALTER ROLE/DATABASE ... SET beside the server
        self.rds_proxies: dict[str, list] = {}  # name -> [(document, middlebox)], across the run (discover)
        self.services: dict[str, list] = {}  # Kubernetes Service name -> [(group, listener)], across the run
        self.proxy_targets: dict[int, tuple | None] = {}  # id(RDS Proxy) -> (group, listener, evidence), across the run
        self.exact: dict[tuple[str, int], list] = {}  # (host, port) -> what is reached there, across the run
        self.rds_named: dict[str, tuple | None] = {}  # RDS identifier -> its server, across the run
        # a load balancer's own name -> [(group, document, middlebox)] of NLB listeners, NLBs and Classic
        # ELBs, across the run: a client at the DNS name AWS gives it reaches it (`_elb_named`)
        self.elb_named: dict[str, list] = {}
        self.on_port: dict[int, list] = {}  # port -> [(group, PgBouncer or HAProxy listener)], across the run
        # id(document) -> its neighbourhood, across the run, for the neighbourhoods reached by an
        # exact address (a path crossing into them places their middleboxes too); only those: a
        # map of every document would cost 5 MiB on the fleet of 10,000 files for nothing
        self.group_of: dict[int, "_Group"] = {}
        self.reached: set[int] = set()  # id() of listeners some path goes through
        # (Ansible project, inventory host) -> [(group, listener)] of the role files placed on that
        # host, and project -> every role file's listener, placed or not (advisor.loaders.ansible_inventory)
        self.colocated: dict[tuple[str, str], list] = {}
        self.role_files: dict[str, list] = {}

    def only(self, kind: str) -> _Listener | None:
        """The one listener of `kind` in the neighbourhood, or None when there are none or several."""
        found = [lst for lst in self.listeners if lst.kind == kind]
        return found[0] if len(found) == 1 else None

    def find(self, port: int | None, host_hint: str = "", exclude: ConfigDoc | None = None,
             kinds: tuple[str, ...] = ("pgbouncer", "haproxy", "postgres"), near: ConfigDoc | None = None,
             local_to: tuple | None = None) -> _Listener | None:
        """The listener on `port` a connection to `host_hint` reaches: one the host names (a compose
        service, a Kubernetes Service), in the connecting document's file `near` first; a compose
        file's service names resolve in its own project, so a host naming a service of the
        connecting compose file reaches no other file's (a dev compose file's `db` is its own, not
        the production file's beside it); else by the kind the host's words suggest; else the most
        upstream kind. `local_to` (the client's document and endpoint) says the host is a loopback
        address or a socket: only a listener that may run in the client's own network namespace
        is reached (`elsewhere`)."""
        if port is None:
            return None
        found = [lst for lst in self.by_port.get(port, ()) if lst.doc is not exclude and lst.kind in kinds
                 and (local_to is None or elsewhere(lst, *local_to) is None)]
        if not found:
            return None
        hint = host_hint.lower()
        name = hint.split(".")[0]
        if name and near is not None and name in near.meta.get("compose_services", ()):
            # (a service an overlay file merges over the connecting file's is its project's too)
            found = [lst for lst in found if home(lst.doc) == home(near) or _merged_over(lst.doc) == home(near)]
            if not found:
                return None  # its own service, which pgpath has no configuration of
        named = [lst for lst in found if name and name in _service_names(lst.doc)] if name else []
        if named:
            own = [lst for lst in named if near is not None and home(lst.doc) == home(near)]
            found = own or named
            if len(found) == 1:
                return found[0]
        for word, kind in (("bouncer", "pgbouncer"), ("pgb", "pgbouncer"), ("haproxy", "haproxy"),
                           ("proxy", "haproxy"), ("lb", "haproxy")):
            if word in hint:
                for lst in found:
                    if lst.kind == kind:
                        return lst
        order = {"pgbouncer": 0, "haproxy": 1, "postgres": 2}
        return min(found, key=lambda lst: order[lst.kind])


# where a Kubernetes manifest's listener comes from: a pod of its own (an operator's cluster or
# pooler, a workload, a ConfigMap that a workload mounts)
_KUBERNETES_SOURCES = ("cloudnative-pg ", "zalando ", "StatefulSet", "Deployment", "DaemonSet", "ReplicaSet",
                       "Pod", "ConfigMap ", "PostgresCluster", "PerconaPGCluster", "helm values")


def elsewhere(lst: _Listener, doc: ConfigDoc, ep) -> str | None:
    """Why a listener cannot be in the network namespace of a client that connects to a loopback
    address (None when it may be: a plain configuration file beside the client may be the same
    host's). A managed server runs on the cloud's hosts; a Kubernetes cluster, pooler or workload
    in its own pods (a container of the client's own manifest may be its pod's sidecar); another
    compose service in its own container (unless it joins the client's: `network_mode:
    service:<client>`)."""
    meta = lst.doc.meta
    if meta.get("managed"):
        return f"is a managed server ({meta['managed']}), on the cloud's hosts"
    source = str(meta.get("source") or "")
    if lst.doc.path != doc.path and (source.startswith(_KUBERNETES_SOURCES) or meta.get("namespace")
                                     or (meta.get("services") and source != "docker-compose")):
        return f"runs in pods of its own ({source or 'Kubernetes'})"
    if source == "docker-compose" and doc.meta.get("compose_services") and lst.doc.path == doc.path:
        own = getattr(ep, "service", "") or ""
        mode = str((meta.get("compose_exposure") or {}).get("network_mode") or "")
        if own and meta.get("service") != own and mode != f"service:{own}":
            return f"is compose service {meta.get('service')}, in a container of its own"
    return None


def _merged_over(doc: ConfigDoc) -> str | None:
    """The compose base file a compose overlay's service was merged over (advisor.loaders.compose_merge)."""
    merged = doc.meta.get("merged_over")
    return merged["file"] if merged else None


def discover(docs: list[ConfigDoc]) -> list[DeploymentPath]:
    # RDS Proxies by name, across the run: a client that names a proxy's endpoint reaches it
    # wherever its file is (the name is the evidence, not the folder)
    proxies: dict[str, list] = {}
    for doc in docs:
        for box in middleboxes(doc):
            if box.kind == "aws-rds-proxy" and is_known(box.name) and box.name:
                proxies.setdefault(str(box.name).lower(), []).append((doc, box))
    groups = [_Group(group_docs) for group_docs in neighbourhoods(docs)]
    # the Kubernetes Services of operator clusters and poolers, across the run: a client that names
    # one (hippo-pgbouncer, db-rw.prod.svc) reaches it wherever its manifest is
    services: dict[str, list[tuple[_Group, _Listener]]] = {}
    for g in groups:
        g.rds_proxies = proxies
        g.services = services
        for lst in g.listeners:
            for name in lst.doc.meta.get("services", ()):
                services.setdefault(name.lower(), []).append((g, lst))
    rds = _rds_servers(docs, groups)
    behind = _proxy_targets(docs, rds, proxies) if proxies else {}
    exact = _addresses(groups)
    rds_named = _rds_by_identifier(rds)
    elb_named: dict[str, list] = {}
    for g in groups:
        for doc, box in g.boxes:
            name = box.facts.get("lb_name")
            if box.kind in ("aws-nlb", "aws-elb") and name is not None and name.known:
                elb_named.setdefault(str(name.value).lower(), []).append((g, doc, box))
    group_of: dict[int, _Group] = {}  # filled for the neighbourhoods an exact address reaches (`_remember`)
    on_port: dict[int, list] = {}
    for g in groups:
        for lst in g.listeners:
            if lst.kind in ("pgbouncer", "haproxy") and lst.port is not None:
                on_port.setdefault(lst.port, []).append((g, lst))
    colocated: dict[tuple[str, str], list] = {}
    role_files: dict[str, list] = {}
    for g in groups:
        for lst in g.listeners:
            placed = lst.doc.meta.get("_ansible")
            if placed:
                role_files.setdefault(placed["project"].root, []).append((g, lst))
                for h in placed.get("hosts", ()):
                    colocated.setdefault((placed["project"].root, h.name), []).append((g, lst))
    for g in groups:
        g.colocated = colocated
        g.role_files = role_files
        g.proxy_targets = behind
        g.exact = exact
        g.rds_named = rds_named
        g.elb_named = elb_named
        g.group_of = group_of
        g.on_port = on_port
    # clients first, in every neighbourhood, so that a server-side hop a client of another folder
    # reaches starts no path of its own
    client_paths = [(g, _client_paths(g)) for g in groups]
    paths: list[DeploymentPath] = []
    for g, found in client_paths:
        for path in found:
            _environment_evidence(path)
        paths.extend(found + _server_paths(g))
    return paths


def _environment_evidence(path: DeploymentPath) -> None:
    """A client in code that reads where it connects from the environment of the container that runs
    it (advisor.loaders.clients.node_env): that link first, for it is what makes the rest."""
    hop = path.hops[0] if path.hops else None
    if hop is None or hop.kind != "client" or hop.doc is None:
        return
    if hop.run_by is not None:  # a Rails database.yml run by a compose service built from its root
        # (advisor.loaders.clients.rails_build)
        path.evidence.insert(0, f"{hop.detail.who()} runs in {hop.run_by['said']}")
    if "environment_of" not in hop.doc.meta:
        return
    said = hop.doc.meta["environment_of"].get(getattr(hop.detail, "name", None))
    if said:
        path.evidence.insert(0, f"{hop.detail.who()} reads where it connects from the environment of {said}")


def _client_paths(g: _Group) -> list[DeploymentPath]:
    out: list[DeploymentPath] = []
    for doc in g.docs:
        # a client run by several compose services (a Rails application's web and worker): a path
        # for each, whose client hop counts its containers (advisor.loaders.clients.rails_build)
        run_by_of = doc.meta.get("_run_by", {})
        for ep, run_by in [(ep, r) for ep in client_endpoints(doc) for r in run_by_of.get(id(ep), [None])]:
            if getattr(ep, "template", False) and not ep.ports and not ep.hosts:
                continue
            # a connection string unknown as a whole (`${DATABASE_URL}`) names no port: libpq's
            # default 5432 is no evidence of where it points (as for Python code clients)
            port = None if getattr(ep, "form", None) == "unknown" and not ep.ports else target_port(ep.ports)
            host = ep.hosts[0].display if ep.hosts and ep.hosts[0].known else ""
            if any(h.known and str(h.value).startswith(("/", "@")) for h in ep.hosts):
                host = "unix socket"
            hops = [client_hop(doc, ep, run_by)]
            who = f"{_short(doc.path)}: {ep.who()}"
            if run_by is not None and run_by["service"]:
                who += f" in {run_by['service']}"  # (one path per compose service that runs it)
            # code joined with the container that runs it (advisor.loaders.clients.env_join): its
            # host names resolve where the container runs (its compose project, its pod)
            runs = doc.meta.get("_runs_in", {}).get(id(ep), doc)
            dbname = ep.dbname.display if ep.dbname else None
            # an RDS Proxy's endpoint names the proxy exactly: that evidence wins over a port a
            # server beside the client listens on (the RDS instance behind the proxy, on 5432 too)
            proxy = _rds_proxy_of(g, host)
            if proxy is not None:
                box_doc, box = proxy
                hops.append(Hop(box.kind, box.label, box_doc, box.span, box))
                evidence = [f"{ep.who()} connects to {host}, the endpoint of {box.label}"]
                target = g.proxy_targets.get(id(box), False)
                if target is False:
                    # no target stated: the server here on the client's port, as before the proxy was named
                    near = g.find(port, "", near=runs, kinds=("postgres",))
                    target = (g, near, f"{ep.who()} connects to port {port}, where {near.label} listens") \
                        if near is not None else None
                if target is None:
                    out.append(_finish(g, _path(who, evidence, hops)))
                    continue
                tg, lst, said = target
                evidence.append(said)
                hops.extend(_follow(tg, lst, evidence, dbname=dbname))
                out.append(_finish(tg, _path(who, evidence, hops), also=g))
                continue
            reached = _exact_of(g, host, port)
            if reached is not None:
                evidence = [f"{ep.who()} connects to {host}:{port}, {reached[-1]}"]
                out.append(_through_exact(g, reached, _path(who, evidence, hops), dbname))
                continue
            local = (runs, ep) if loopback(host) else None
            first = g.find(port, host, near=runs, local_to=local)
            if first is None and local is not None:
                # a loopback address or a socket reaches no Service, no load balancer, no server of
                # another host: said when a server here listens on the port
                away = [(lst, why) for lst in g.by_port.get(port, ()) if (why := elsewhere(lst, runs, ep))]
                where = "a Unix socket" if host == "unix socket" else "a loopback address"
                text = f"{ep.who()} connects to {ep.target()}, {where} of its own host"
                text += (f"; {away[0][0].label} listens on port {port} but {away[0][1]}: not paired" if away
                         else ", where no file here listens")
                out.append(_finish(g, _path(who, [text], hops), local=True))
                continue
            service = _service_of(g, host, port) if first is None else None
            if service is not None:
                target, lst, said = service
                evidence = [f"{ep.who()} connects to {host}, {said}"]
                hops.extend(_follow(target, lst, evidence, dbname=dbname))
                out.append(_finish(target, _path(who, evidence, hops), also=g))
                continue
            front = _front_of(g, port, host) if first is None else None
            if front is not None:
                box_doc, box, lst, target = front
                evidence = [f"{ep.who()} connects to port {port}, where {box.label} listens; it forwards to port "
                            f"{target}, where {lst.label} listens"]
                hops.append(Hop(box.kind, box.label, box_doc, box.span, box))
                behind = _follow(g, lst, evidence, dbname=dbname)
                hops.extend(behind)
                out.append(_finish(g, _path(who, evidence, hops), through=behind[0]))
                continue
            if first is None:
                # (a URL built in code whose host is unknown names no port either: pycode)
                unknown = getattr(ep, "form", None) == "unknown" or (ep.hosts and not any(h.known for h in ep.hosts))
                why = (f"{ep.who()} connects to {ep.target()}, filled in where it runs: where it points is not "
                       "known" if unknown and port is None else
                       f"{ep.who()} connects to {ep.target()}, which no file here listens on")
                unjoined = doc.meta.get("_env_unjoined", {}).get(id(ep))
                if unjoined:  # (advisor.loaders.clients.env_join)
                    why += f"; not joined with a container or dotenv file that sets its variable: {unjoined}"
                elif not unknown:
                    why += _role_port_note(g, host, port)
                out.append(_finish(g, _path(who, [why], hops)))
                continue
            evidence = [f"{ep.who()} connects to port {port}, where {first.label} listens"]
            hops.extend(_follow(g, first, evidence, dbname=dbname))
            out.append(_finish(g, _path(who, evidence, hops), local=local is not None))
    return out


def _server_paths(g: _Group) -> list[DeploymentPath]:
    """Paths from the server-side hops no client reached, the most upstream first."""
    out: list[DeploymentPath] = []
    order = {"pgbouncer": 0, "haproxy": 1, "postgres": 2}
    for lst in sorted(g.listeners, key=lambda x: order[x.kind]):
        if id(lst) in g.reached:
            continue
        evidence: list[str] = []
        hops = _follow(g, lst, evidence)
        if len(hops) == 1 and lst.kind == "haproxy" and not _carries_postgres(lst):
            # a TCP proxy that nothing shows to carry PostgreSQL (MQTT, gRPC...): no PostgreSQL path;
            # a client or PgBouncer that connects to its port is evidence, and reaches it above
            continue
        out.append(_finish(g, _path(hops[0].label, evidence, hops)))
    return out


def _finish(g: _Group, path: DeploymentPath, also: _Group | None = None, through: Hop | None = None,
            local: bool = False) -> DeploymentPath:
    """Middleboxes and host facts of the neighbourhood (and of the client's, when the path crosses
    into another folder) placed on the path; the folder said when every file is in one. `through`
    is a hop the client reaches through a middlebox's frontend port: that middlebox, already on
    the path, is the one in front of it. A client that connects to a loopback address (`local`)
    crosses no middlebox."""
    if also is not None and also is not g:
        _place_middleboxes(also, path, through, local)
    crossed = {id(g), id(also)}
    for hop in path.hops:  # (a hop reached by its exact address in another folder: that folder's too)
        other = g.group_of.get(id(hop.doc)) if hop.doc is not None else None
        if other is not None and id(other) not in crossed:
            crossed.add(id(other))
            _place_middleboxes(other, path, through, local)
    _place_middleboxes(g, path, through, local)
    _apply_hosts(path)
    for doc in path.docs():
        merged = doc.meta.get("merged_over")
        if merged and merged["text"] not in path.evidence:
            path.evidence.append(merged["text"])  # a compose overlay's service, read over its base file's
    files = {os.path.normpath(d.path) for d in path.docs()}
    folders = {os.path.dirname(f) for f in files}
    if len(files) > 1 and len(folders) == 1:
        # (one file's hops need no such line)
        folder = folders.pop() or "."
        path.evidence.append("all in one folder" + (f" ({folder})" if folder != "." else ""))
    return path


def _service_of(g: _Group, host: str, port: int | None, kinds: tuple[str, ...] = ("pgbouncer", "haproxy", "postgres"),
                exclude: ConfigDoc | None = None) -> tuple[_Group, _Listener, str] | None:
    """(neighbourhood, listener, evidence) of the server a Kubernetes name reaches, in any folder:
    a Service that selects its pods (an operator's cluster or pooler, a workload's), written
    `<service>`, `<service>.<namespace>` or `<service>.<namespace>.svc[.cluster.local]`; else a
    StatefulSet's pod through its headless Service, `<statefulset>-<ordinal>.<service>` and the
    same suffixes (Kubernetes names a StatefulSet's pods so under the Service its serviceName
    names). One that answers on the port, in the namespace the name says when the manifest says
    its own, of `kinds`, not `exclude`'s own. None when no single one is. The one lookup for a
    client's host, a PgBouncer [databases] host and an HAProxy server."""
    labels = host.lower().rstrip(".").split(".") if host and host != "unix socket" else []  # (an absolute name)
    if not labels or not all(labels):
        return None

    def fits(lst: _Listener, namespace: str | None) -> bool:
        own = lst.doc.meta.get("namespace")
        return (lst.kind in kinds and lst.doc is not exclude and not (namespace and own and own.lower() != namespace)
                and not (port is not None and lst.port is not None and lst.port != port))

    found: list[tuple[_Group, _Listener, str]] = []
    if len(labels) <= 2 or labels[2] == "svc":
        namespace = labels[1] if len(labels) > 1 else None
        for target, lst in g.services.get(labels[0], ()):
            if namespace is None and labels[0] in lst.doc.meta.get("services_qualified", ()):
                continue  # a bare cluster name (Zalando's primary Service) is too common a word alone
            if fits(lst, namespace):
                where = f" in namespace {lst.doc.meta['namespace']}" if lst.doc.meta.get("namespace") else ""
                found.append((target, lst, f"the Service {labels[0]}{where} of {lst.label}"))
    if not found and len(labels) >= 2 and (len(labels) <= 3 or labels[3] == "svc"):
        pod, service, namespace = labels[0], labels[1], (labels[2] if len(labels) > 2 else None)
        for target, lst in g.services.get(service, ()):
            if not fits(lst, namespace):
                continue
            for w in lst.doc.meta.get("_workloads", ()):
                ordinal = pod[len(w["name"]) + 1:] if pod.startswith(f"{str(w['name']).lower()}-") else ""
                count = (w.get("replicas") or {}).get("count")
                if (w["kind"] != "StatefulSet" or str(w.get("service_name") or "").lower() != service
                        or digits(ordinal) is None or isinstance(count, int) and digits(ordinal) >= count):
                    continue
                where = f" in namespace {w['namespace']}" if w.get("namespace") else ""
                found.append((target, lst, f"the pod {pod} of StatefulSet {w['name']} through its headless Service "
                                           f"{service}{where} of {lst.label}"))
                break
    return found[0] if len(found) == 1 else None


def _next_hop(g: _Group, host: str, port: int | None, kinds: tuple[str, ...], exclude: ConfigDoc
              ) -> tuple[_Group, _Listener, str] | None:
    """(neighbourhood, listener, evidence) of what a PgBouncer database or an HAProxy server at
    host:port reaches outside its own folder: the thing at exactly that address, else the
    Kubernetes Service or StatefulSet pod the host names (`_service_of`, as for a client)."""
    reached = _exact_listener(g, host, port, kinds)
    if reached is None:
        reached = _service_of(g, host, port, kinds, exclude)
        if reached is not None:
            _remember(g, reached[0])
    return reached


def _unresolved(hop: Hop, verb: str, named: list[tuple[str, str | None]], note: str = "") -> None:
    """Say on a proxy's or pooler's hop that the next hop it names (`named`: address, HAProxy
    server name) is in no file read: `pgpath path` shows it on the hop, `pgpath init` leaves a
    placeholder for it. An address still a template's is filled in where the file is deployed."""
    said = [a + (f" (server {n})" if n else "") for a, n in named[:3]] + (
        [f"{len(named) - 3} more"] if len(named) > 3 else [])
    listed = ", ".join(said[:-1]) + (" and " if len(said) > 1 else "") + said[-1]
    templated = any(mark in a for a, _ in named for mark in ("{{", "{%", "${", "<%"))
    hosts = [a.rsplit(":", 1)[0].strip("[]") for a, _ in named]
    if templated:
        tail = ", filled in where the file is deployed: where it points is not known here"
    elif hosts and all(loopback(h) for h in hosts):
        # a file of another folder may listen there, but on another host as far as the files show
        # (an Ansible role's file: one of another role on each of its hosts, `_colocated`, which `note` explains)
        also = ", nor a file of a role that runs on each of its hosts" if hop.doc is not None and \
            hop.doc.meta.get("_ansible") else ""
        tail = (f", {'a loopback address' if len(named) == 1 else 'loopback addresses'} of its own host, where no "
                f"file of its folder listens{also} (a loopback address is paired only with files of one folder"
                f"{' or of one host' if also else ''})")
    else:
        tail = ", which no file read listens on"
    hop.next_hop = {"found": False, "addresses": [a for a, _ in named],
                    "why": f"{hop.label} {verb} {listed}{tail}{'' if templated else note}"}


def _follow(g: _Group, lst: _Listener, evidence: list[str], dbname: str | None = None,
            depth: int = 0) -> list[Hop]:
    """The hop of a listener and the hops after it, following its next-hop addresses."""
    g.reached.add(id(lst))
    if lst.kind == "postgres":
        return [Hop("postgres", lst.label, lst.doc, lst.doc.anchor(), sql=g.sql)]
    if depth > 8:
        return []
    if lst.kind == "pgbouncer":
        model = lst.doc.model
        entry = database_entry(model, dbname)
        hop = Hop("pgbouncer", lst.label + (f" [{entry.name}]" if entry is not None else ""), lst.doc,
                  entry.span if entry is not None else (model.header or Span(lst.doc.path)), entry)
        nxt = None
        if entry is not None and entry.value("port") is not None:
            port = _int(entry.value("port"))
            host = str(entry.value("host", "") or "")
            nxt = _named(g.find(port, host, exclude=lst.doc, kinds=("haproxy", "postgres"), near=lst.doc), host)
            if nxt is not None:
                evidence.append(f"PgBouncer database {entry.name} connects to port {port}, where {nxt.label} listens")
        elif entry is not None and _int(entry.value("port", 5432)) is not None:
            host = str(entry.value("host", "") or "")
            nxt = _named(g.find(5432, host, exclude=lst.doc, kinds=("haproxy", "postgres"), near=lst.doc), host)
            if nxt is not None:
                evidence.append(f"PgBouncer database {entry.name} connects to port 5432 (default), where {nxt.label} "
                                "listens")
        else:
            nxt = g.only("postgres")
            if nxt is not None:
                evidence.append(f"{lst.label} names no server; {nxt.label} is the only PostgreSQL in its folder"
                                + (", and in the same file" if nxt.doc.path == lst.doc.path else ""))
        if nxt is None and entry is not None and _int(entry.value("port", 5432)) is not None:
            host, port = str(entry.value("host", "") or ""), _int(entry.value("port", 5432))
            reached = _next_hop(g, host, port, ("haproxy", "postgres"), lst.doc)
            if reached is None and (not host or host.startswith("/") or loopback(host)):
                reached = _colocated(g, lst, port, ("haproxy", "postgres"))
            if reached is not None:
                g, nxt, said = reached
                evidence.append(f"PgBouncer database {entry.name} connects to {host or 'its socket'}:{port}, {said}")
            else:
                where = f"{host}:{port}" if host and not host.startswith("/") else \
                    f"port {port} through a Unix socket ({host or 'the default directory'})"
                _unresolved(hop, "connects to", [(where, None)], _inventory_note(g, lst, [(host, port)]))
        return [hop] + (_follow(g, nxt, evidence, dbname, depth + 1) if nxt is not None else [])
    # haproxy
    route = lst.detail
    hop = Hop("haproxy", lst.label, lst.doc, route.front.span, route)
    ports = {s.port for s in route.back.servers if isinstance(s.port, int)}
    nxt = None
    for port in sorted(ports):
        nxt = g.find(port, "", exclude=lst.doc, kinds=("pgbouncer", "postgres"))
        if nxt is not None:
            evidence.append(f"HAProxy {route.label} sends to port {port}, where {nxt.label} listens")
            break
    if nxt is None:
        for server in route.back.servers:
            if not isinstance(server.port, int):
                continue
            host = _split(str(server.address or ""))[0]
            reached = _next_hop(g, host, server.port, ("pgbouncer", "postgres"), lst.doc)
            if reached is None and loopback(host):
                reached = _colocated(g, lst, server.port, ("pgbouncer", "postgres"))
            if reached is not None:
                g, nxt, said = reached
                evidence.append(f"HAProxy {route.label} sends to {host}:{server.port} (server {server.name}), {said}")
                break
    if not route.back.servers:
        nxt = g.only("postgres")
        if nxt is not None:
            evidence.append(f"HAProxy {route.label} names no server; {nxt.label} is the only PostgreSQL in its folder"
                            + (", and in the same file" if nxt.doc.path == lst.doc.path else ""))
    elif nxt is None:
        named = [(f"{_split(str(s.address or ''))[0]}:{s.port}" if isinstance(s.port, int) else str(s.address or ""),
                  s.name) for s in route.back.servers]
        _unresolved(hop, "sends to", named, _inventory_note(
            g, lst, [(_split(str(s.address or ""))[0], s.port) for s in route.back.servers if isinstance(s.port, int)]))
    return [hop] + (_follow(g, nxt, evidence, dbname, depth + 1) if nxt is not None else [])


def _service_names(doc: ConfigDoc) -> set[str]:
    """The names a connection reaches the document's server by: its compose service, the
    Kubernetes Services that select it (lower case)."""
    names = {str(n).lower() for n in doc.meta.get("services", ())}
    service = doc.meta.get("service")
    if doc.meta.get("source") == "docker-compose" and service:
        names.add(str(service).lower())
    return names


def _named(found: _Listener | None, host: str) -> _Listener | None:
    """A listener found by port, unless the host names another server: a CloudNativePG Cluster is
    reached as its Services <name>-rw, -ro or -r, so a host naming another cluster is not it."""
    if found is None or found.doc.meta.get("source") != "cloudnative-pg Cluster" or not host:
        return found
    service = host.split(".")[0]
    cluster = found.doc.meta.get("name") or ""
    return found if service in (f"{cluster}-rw", f"{cluster}-ro", f"{cluster}-r") else None


def database_entry(model, dbname: str | None):
    """The [databases] entry a database name selects: its own, else `*`, else the only one; None."""
    entries = model.effective_databases()
    for e in entries:
        if dbname is not None and e.name == dbname:
            return e
    for e in entries:
        if e.name == "*":
            return e
    return entries[0] if len(entries) == 1 else None


def _rds_proxy_of(g: _Group, host: str):
    """(document, middlebox) of the RDS Proxy whose endpoint the client names: AWS writes a proxy's
    endpoint as <proxy name>.proxy-<id>.<region>.rds.amazonaws.com."""
    from advisor.model.middlebox import rds_proxy_name

    name = rds_proxy_name(host)
    if name is None:
        return None
    found = g.rds_proxies.get(name, [])
    return found[0] if len(found) == 1 else None


def _rds_servers(docs: list[ConfigDoc], groups: list[_Group]) -> dict[tuple[str, str], list[tuple]]:
    """(folder, DB instance or cluster address or identifier) -> (neighbourhood, listener, instance,
    parameter group) of the PostgreSQL documents its parameter groups are, from the Terraform
    `db_instances` of that folder (Terraform addresses are unique within one module, a folder)."""
    folder = lambda path: os.path.dirname(os.path.normpath(path))  # noqa: E731
    instances: dict[tuple[str, str], list[dict]] = {}  # (folder, instance address or identifier) -> instances
    for doc in docs:
        for inst in doc.meta.get("db_instances", ()):
            for key in {inst.get("id"), inst.get("identifier")} - {None}:
                instances.setdefault((folder(doc.path), key), []).append(inst)
    if not instances:
        return {}
    servers: dict[tuple[str, str], list[tuple[_Group, _Listener]]] = {}  # (folder, parameter group) -> servers
    for g in groups:
        for lst in g.listeners:
            if lst.kind == "postgres" and lst.doc.meta.get("managed"):
                for name in lst.doc.meta.get("parameter_group") or ():
                    servers.setdefault((folder(lst.doc.path), name), []).append((g, lst))
    out: dict[tuple[str, str], list[tuple]] = {}
    for (where, key), found in instances.items():
        for inst in found:
            for group in inst.get("parameter_groups") or ():
                for tg, lst in servers.get((where, group), ()):
                    out.setdefault((where, key), []).append((tg, lst, inst, group))
    return out


def _rds_by_identifier(rds: dict[tuple[str, str], list[tuple]]) -> dict[str, tuple | None]:
    """DB instance or cluster identifier -> (neighbourhood, listener, instance, parameter group) of
    its server, across the run (an endpoint <identifier>.<id>.<region>.rds.amazonaws.com names it
    wherever the client is); None when two servers claim one identifier."""
    out: dict[str, tuple | None] = {}
    for (_, key), reached in rds.items():
        for tg, lst, inst, group in reached:
            if key != inst.get("identifier"):
                continue
            seen = out.get(key.lower(), False)
            out[key.lower()] = (tg, lst, inst, group) if seen is False or (seen and seen[1] is lst) else None
    return out


def _proxy_targets(docs: list[ConfigDoc], rds: dict[tuple[str, str], list[tuple]], proxies: dict[str, list]
                   ) -> dict[int, tuple[_Group, _Listener, str] | None]:
    """id(RDS Proxy middlebox) -> (neighbourhood, listener, evidence) of the RDS instance or cluster
    its target names, None when targets are stated but name none read (or several); a proxy with
    no target stated is not listed. The target: an `aws_db_proxy_target` naming the proxy (by
    address or name) and the instance (by address or identifier), that instance's parameter
    group, and the PostgreSQL document of that group (`_rds_servers`). Every link is looked up in
    the folder of the file that states it. An unresolved or ambiguous step links nothing."""
    folder = lambda path: os.path.dirname(os.path.normpath(path))  # noqa: E731
    targets: dict[tuple[str, str], list[dict]] = {}  # (folder, proxy address or name) -> targets
    for doc in docs:
        for entry in doc.meta.get("rds_proxy_targets", ()):
            targets.setdefault((folder(doc.path), entry["proxy"]), []).append(entry)
    if not targets:
        return {}
    out: dict[int, tuple[_Group, _Listener, str] | None] = {}
    for found in proxies.values():
        for box_doc, box in found:
            where = folder(box_doc.path)
            names = (box.name,) + tuple(box.aliases)
            entries = [e for n in dict.fromkeys(names) for e in targets.get((where, n), ())]
            reached = {}
            for entry in entries:
                for tg, lst, inst, group in rds.get((where, entry["target"]), ()):
                    reached[id(lst)] = (tg, lst, entry, inst, group)
            if len(reached) != 1:
                if entries:
                    out[id(box)] = None  # targets stated, none (or several) read: nothing guessed
                continue
            tg, lst, entry, inst, group = next(iter(reached.values()))
            span = entry.get("span") or {}
            at = f"{span.get('file')}:{span.get('line')}" if span.get("line") else str(span.get("file") or "")
            out[id(box)] = (tg, lst, f"{box.label} sends to {inst.get('id')} ({entry['address']}, {at}), whose "
                                     f"parameter group {group} is {lst.label}")
    return out


def exact_host(host: str) -> bool:
    """A host that names one machine or endpoint exactly: an IP address other than a wildcard or
    loopback one, or a DNS name of two labels or more; not a placeholder, not a bare word (`db`,
    a compose service or Kubernetes Service, resolved in its own project)."""
    host = host.strip().lower()
    if not host or "." not in host and ":" not in host or any(c in host for c in "${}%<>*/@ ,") or loopback(host):
        return False
    return host not in ("0.0.0.0", "::", "[::]") and not host.endswith((".svc", ".svc.cluster.local", ".local"))


def _split(address: str) -> tuple[str, int | None]:
    """(host, port) of `host:port`, `[v6]:port` or a bare host."""
    address = address.strip()
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        return host, _int(rest.lstrip(":")) if rest.startswith(":") else None
    if address.count(":") == 1:
        host, _, port = address.partition(":")
        return host, _int(port)
    return address, None


def _listener_addresses(lst: _Listener):
    """(host, port, what says so) of the exact addresses a listener is reached at: a Patroni
    member's connect_address, a managed instance's endpoint, a specific IP it binds."""
    doc = lst.doc
    for item in doc.meta.get("addresses", ()):
        host, port = _split(item["address"])
        span = item.get("span") or {}
        where = f"{span.get('file')}:{span.get('line')}" if span.get("line") else doc.path
        yield host, port, f"the {item['said']} of {lst.label} ({where})"
    endpoint = (doc.meta.get("instance") or {}).get("endpoint")
    if endpoint:
        host, port = _split(str(endpoint))
        yield host, port or lst.port, f"the endpoint of {lst.label}"
    written = None
    if lst.kind == "pgbouncer" and hasattr(doc.model, "value"):
        written = doc.model.value("listen_addr")
    elif lst.kind == "postgres" and not doc.meta.get("managed"):
        setting = doc.get("listen_addresses")
        written = setting.value if setting is not None else None
    elif lst.kind == "haproxy":
        for bind in lst.detail.front.binds:
            host, port = _split(str(bind.address))
            yield host, port, f"where {lst.label} binds ({bind.address})"
    if isinstance(written, str) and lst.port is not None:
        for host in written.split(","):
            yield host.strip(), lst.port, f"where {lst.label} listens ({host.strip()}:{lst.port})"
    if doc.meta.get("_ansible", {}).get("hosts") and lst.port is not None:
        yield from _placed_addresses(lst, written if written is not None else doc.meta.get("_listen_host"))


_WILDCARDS = ("", "*", "0.0.0.0", "::", "[::]")


def _placed_addresses(lst: _Listener, written: Any):
    """(host, port, what says so) of a role's file at the addresses of the inventory hosts its
    playbook runs it on (advisor.loaders.ansible_inventory), where it listens on every address
    or on that one: a PgBouncer's `listen_addr`, an HAProxy `bind`, a PostgreSQL's
    `listen_addresses`; and at the virtual addresses the inventory gives every one of those hosts."""
    placed = lst.doc.meta["_ansible"]
    if lst.kind == "haproxy":
        written = ",".join(_split(str(b.address))[0] for b in lst.detail.front.binds
                           if _bind_port(str(b.address)) == lst.port)
    if not isinstance(written, str):
        return
    bound = {w.strip().lower() for w in written.split(",")}
    everywhere = bool(bound & set(_WILDCARDS)) if lst.kind == "haproxy" else bool(bound & {"*", "0.0.0.0", "::"})
    inventory = placed["project"].inventory
    for h in placed["hosts"]:
        if h.address and (everywhere or h.address.lower() in bound):
            yield h.address, lst.port, (f"host {h.name} of {inventory} ({h.at()}), where {lst.label} of role "
                                        f"{placed['role']} listens on port {lst.port} ({placed['how']})")
    for value, owner, key, where in placed.get("vips", ()):
        if everywhere or value.lower() in bound:
            whose = f"host {owner[5:]}" if owner.startswith("host:") else f"group {owner}"
            yield value, lst.port, (f"the virtual address {key} of {whose} ({where}), whose hosts all run {lst.label} "
                                    f"of role {placed['role']} on port {lst.port} ({placed['how']})")


def _colocated(g: _Group, lst: _Listener, port: int | None, kinds: tuple[str, ...]):
    """(neighbourhood, listener, evidence) of what a role's file reaches at a loopback address or a
    Unix socket on `port`: the one file of another role that listens there on every inventory host
    the first runs on (advisor.loaders.ansible_inventory); None when none or several do."""
    placed = lst.doc.meta.get("_ansible")
    if port is None or not placed or not placed.get("hosts"):
        return None
    root = placed["project"].root
    common: dict[int, tuple] | None = None
    for h in placed["hosts"]:
        here = {id(other): (tg, other) for tg, other in g.colocated.get((root, h.name), ())
                if other.kind in kinds and other.port == port and other.doc is not lst.doc}
        common = here if common is None else {k: v for k, v in common.items() if k in here}
    if not common or len(common) != 1:
        return None
    tg, other = next(iter(common.values()))
    theirs = other.doc.meta["_ansible"]
    names = ", ".join(h.name for h in placed["hosts"])
    _remember(g, tg)
    return tg, other, (f"its own host: on each host {lst.label} runs on ({names}: {placed['how']}), {other.label} "
                       f"of role {theirs['role']} listens on port {port} ({theirs['how']})")


def _role_said(lst: _Listener) -> str:
    """`<file> of role <role> (<path>) listens on port <port>, on hosts ... (how) | placed on no host: why`."""
    placed = lst.doc.meta["_ansible"]
    where = (f"on hosts {', '.join(h.name for h in placed['hosts'])} ({placed['how']})" if placed.get("hosts") else
             f"placed on no host: {placed['why']}")
    return (f"{lst.label} of role {placed['role']} ({_shown_path(lst.doc.path, placed['project'].root)}) listens on "
            f"port {lst.port}, {where}")


def _shown_path(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    return rel if not rel.startswith("..") else path


def _inventory_note(g: _Group, lst: _Listener, ends: list[tuple[str, int | None]]) -> str:
    """What the Ansible project of a role's file says about a next hop it names and no file was
    found at: the inventory host of that address, and the role files listening on its port with
    the hosts they run on (or why none are known). Empty for a file of no role."""
    placed = lst.doc.meta.get("_ansible")
    if not placed:
        return ""
    project = placed["project"]
    for host, port in ends:
        others = [other for _, other in g.role_files.get(project.root, ())
                  if other.port == port and other.doc is not lst.doc]
        h = project.by_address.get(host.lower()) if project.inventory and host else None
        if h is None and not others:
            continue
        note = ""
        if h is not None:
            note += f"; {host} is host {h.name} of {project.inventory} ({h.at()}, group {', '.join(sorted(h.groups))})"
        elif loopback(host) or not host or host.startswith("/"):
            note += f"; {lst.label} of role {placed['role']} is " + (
                f"on hosts {', '.join(x.name for x in placed['hosts'])}" if placed.get("hosts") else
                f"placed on no host: {placed['why']}")
        for other in others[:3]:
            note += f"; {_role_said(other)}"
        if not others and h is not None:
            note += f"; no file of a role listens on port {port}"
        return note
    if not project.inventory:
        return f"; {lst.label} of role {placed['role']}: {placed.get('why')}"
    return ""


def _role_port_note(g: _Group, host: str, port: int | None) -> str:
    """For a client that reaches nothing: the role files of an Ansible project that listen on its
    port, and what is missing to tie its host to them."""
    if port is None or not host or loopback(host) or host == "unix socket":
        return ""
    found = [other for files in g.role_files.values() for _, other in files if other.port == port]
    if not found:
        return ""
    said = "; ".join(_role_said(other) for other in found[:3])
    return (f"; {said}; but no file says that {host} is an address of a host it runs on: give it "
            "as a virtual address of their inventory group (a `vip` variable, e.g. in group_vars/<group>.yml), or "
            "declare the client hop in pgpath.yaml (`pgpath init` writes the rest of the path)")


def _addresses(groups: list[_Group]) -> dict[tuple[str, int], list]:
    """(host, port) -> what answers there, across the run: listeners at their exact addresses,
    middleboxes at the addresses they listen on (a Service's load balancer IP or external-dns name,
    an RDS Proxy's endpoint, a load balancer's DNS name or a Route53 record naming it). A key with
    more than one answer is ambiguous and links nothing (`_exact_of`)."""
    out: dict[tuple[str, int], list] = {}

    def add(host: str, port: int | None, entry: tuple) -> None:
        if port is not None and exact_host(host):
            found = out.setdefault((host.strip().lower(), port), [])
            if not any(e[1] is entry[1] for e in found):
                found.append(entry)

    by_lb: dict[tuple[str, str], list] = {}  # (folder, load balancer address) -> its middleboxes
    records = []
    for g in groups:
        for lst in g.listeners:
            for host, port, said in _listener_addresses(lst):
                add(host, port, (g, lst, said))
        for doc, box in g.boxes:
            front = box.facts.get("frontend_ip")
            for text in box.listens:
                host, port = _split(text)
                if front is not None and host == front.value and front.span is not None:
                    name = box.facts.get("frontend_name")
                    said = (f"the frontend{f' {name.value}' if name is not None else ''} of {box.label} (private IP "
                            f"{host}, {front.span.file}:{front.span.line})")
                else:
                    said = f"an address of {box.label} ({doc.path})"
                add(host, port, (g, box, doc, said))
            folder = os.path.dirname(os.path.normpath(doc.path))
            lb = box.facts.get("load_balancer")
            for name in {box.name, *box.aliases, lb.value if lb is not None and lb.known else None} - {None}:
                by_lb.setdefault((folder, str(name)), []).append((g, doc, box))
        for doc in g.docs:
            records.extend((doc, r) for r in doc.meta.get("dns_records", ()))
    for doc, record in records:
        folder = os.path.dirname(os.path.normpath(doc.path))
        span = record.get("span") or {}
        for g, box_doc, box in by_lb.get((folder, record["target"]), ()):
            listen, _ = _box_ports(box)
            for port in listen:
                add(record["name"], port, (g, box, box_doc, f"the name {record['address']} "
                                          f"({span.get('file')}:{span.get('line')}) gives {box.label}"))
    return out


def _exact_of(g: _Group, host: str, port: int | None):
    """What a connection to host:port reaches by exact address, when one thing answers there:
    (neighbourhood, listener, evidence) or (neighbourhood, middlebox, its document, evidence)."""
    if port is None or not host or not exact_host(host):
        return None
    found = g.exact.get((host.strip().lower(), port), ())
    if not found:
        from advisor.model.middlebox import rds_identifier

        identifier = rds_identifier(host.strip())
        server = g.rds_named.get(identifier) if identifier else None
        if server:
            tg, lst, inst, group = server
            span = inst.get("span") or {}
            lowered = host.strip().lower()
            # AWS names an Aurora cluster's writer endpoint <cluster>.cluster-<id>... and its reader
            # endpoint <cluster>.cluster-ro-<id>...; both reach instances of the cluster, whose
            # DB cluster parameter group (with the defaults of the instance-level parameters) is read
            what = ("the reader endpoint of DB cluster" if ".cluster-ro-" in lowered else
                    "the cluster endpoint of DB cluster" if ".cluster-" in lowered else
                    "the endpoint of DB cluster" if inst.get("kind") == "cluster" else "the endpoint of DB instance")
            group_kind = "DB cluster parameter group" if inst.get("kind") == "cluster" else "parameter group"
            return tg, lst, (f"{what} {inst.get('identifier')} ({inst.get('id')}, "
                             f"{span.get('file')}:{span.get('line')}), whose {group_kind} {group} is {lst.label}")
        return _elb_named(g, host, port)
    return found[0] if len(found) == 1 else None


def _elb_named(g: _Group, host: str, port: int):
    """(neighbourhood, middlebox, its document, evidence) of the load balancer whose AWS DNS name
    the host is: a Network Load Balancer's `<name>-<id>.elb.<region>.amazonaws.com` names an NLB
    (its listener on the client's port, when the file has listeners), an Application or Classic
    one's `<name>-<id>.<region>.elb.amazonaws.com` a Classic ELB (an ALB carries no PostgreSQL),
    the name being the evidence; None when no load balancer read has that name, or several do."""
    from advisor.model.middlebox import elb_dns_name

    parsed = elb_dns_name(host)
    if parsed is None:
        return None
    name, _, family = parsed
    kind = "aws-nlb" if family == "network" else "aws-elb"
    found = []
    for tg, doc, box in g.elb_named.get(name, ()):
        listen, _ = _box_ports(box)
        if box.kind == kind and (port in listen or not listen):
            found.append((tg, doc, box))
    if len({id(box.facts["lb_name"]) for _, _, box in found}) != 1:
        return None  # no load balancer of that name, or two (another region's, another account's)
    if len(found) > 1:
        return None  # two listeners of it on that port
    tg, doc, box = found[0]
    said = box.facts["lb_name"]
    lb = box.facts.get("load_balancer")
    owner = lb.value if lb is not None and lb.known else box.name
    where = f", {said.span.file}:{said.span.line}" if said.span is not None else ""
    text = f"the DNS name AWS gives load balancer {said.value} ({owner}{where})"
    if box.name != owner:
        text += f", whose listener {box.label} listens on port {port}"
    return tg, box, doc, text


def _exact_listener(g: _Group, host: str, port: int | None, kinds: tuple[str, ...]):
    """(neighbourhood, listener, evidence) of a listener of `kinds` at exactly host:port (a proxy's
    or pooler's next hop): one reached directly, or behind a middlebox that answers there."""
    reached = _exact_of(g, host, port)
    if reached is None:
        return None
    _remember(g, reached[0])
    if len(reached) == 3:
        tg, lst, said = reached
        return (tg, lst, said) if lst.kind in kinds else None
    tg, box, box_doc, said = reached
    bg, lst, target = _behind(tg, box, port)
    if lst is None or lst.kind not in kinds:
        return None
    _remember(g, bg)
    return bg, lst, f"{said}, which forwards to port {target}, where {lst.label} listens"


def _remember(g: _Group, reached: _Group) -> None:
    """Say which neighbourhood the documents of `reached` are in (`_finish` places its middleboxes
    on a path that crosses into it)."""
    if reached.docs and id(reached.docs[0]) not in g.group_of:
        for doc in reached.docs:
            g.group_of[id(doc)] = reached


def _behind(g: _Group, box, port: int) -> tuple[_Group, _Listener | None, int]:
    """(neighbourhood, listener, port) a middlebox of neighbourhood `g` forwards a connection on
    `port` to: the port its targets name when they name one, else the same port (the evidence
    that already puts it in front of that hop in its folder); the listener there in its folder,
    else the one PgBouncer or HAProxy elsewhere whose server is in its folder (`_serving`)."""
    _, targets = _box_ports(box)
    target = next(iter(targets)) if len(targets) == 1 else port
    if box.kind in ("azure-lb", "aws-nlb", "aws-elb", "gcp-lb", "cloud-lb") and box.name in g.services:
        # a Kubernetes Service's load balancer: the cluster, pooler or workload its selector picks
        named = _service_of(g, box.name, None)
        if named is not None:
            return g, named[1], target
    found = g.find(target, "")
    if found is not None:
        return g, found, target
    serving = _serving(g, target)
    return (serving[0], serving[1], target) if serving is not None else (g, None, target)


def _serving(g: _Group, port: int) -> tuple[_Group, _Listener] | None:
    """The one PgBouncer or HAProxy of another folder that listens on `port` and whose next hop is
    a server of the neighbourhood `g` (a PgBouncer on VMs whose [databases] host is the managed
    server the load balancer's Terraform beside it creates): the load balancer of `g` that
    forwards to `port` is in front of it, as `_place_middleboxes` puts it on that PgBouncer's own
    path. None when no single one is."""
    found = []
    for tg, lst in g.on_port.get(port, ()):
        if tg is g:
            continue
        if lst.kind == "pgbouncer":
            entries = lst.doc.model.effective_databases()
            ends = [(str(e.value("host", "") or ""), _int(e.value("port", 5432))) for e in entries]
        else:
            ends = [(_split(str(s.address or ""))[0], s.port) for s in lst.detail.back.servers if isinstance(s.port, int)]
        for host, at in ends:
            reached = _exact_of(tg, host, at) or _service_of(tg, host, at)
            if reached is not None and reached[0] is g:
                found.append((tg, lst))
                break
    return found[0] if len(found) == 1 else None


def _through_exact(g: _Group, reached: tuple, path: DeploymentPath, dbname: str | None) -> DeploymentPath:
    """A client's path to what answers at its exact address (`_exact_of`), in whatever folder."""
    _remember(g, reached[0])
    if len(reached) == 3:
        tg, lst, _ = reached
        path.hops.extend(_follow(tg, lst, path.evidence, dbname=dbname))
        return _finish(tg, path, also=g)
    tg, box, box_doc, _ = reached
    path.hops.append(Hop(box.kind, box.label, box_doc, box.span, box))
    listen, _ = _box_ports(box)
    port = next(iter(listen)) if len(listen) == 1 else None
    bg, lst, target = _behind(tg, box, port) if port is not None else (tg, None, None)
    if lst is None:
        return _finish(tg, path, also=g)
    _remember(g, bg)
    elsewhere = (f", whose server is in the load balancer's folder ({os.path.dirname(box_doc.path)})"
                 if bg is not tg else "")
    path.evidence.append(f"{box.label} forwards to port {target}, where {lst.label} listens{elsewhere}")
    behind = _follow(bg, lst, path.evidence, dbname=dbname)
    path.hops.extend(behind)
    return _finish(bg, path, also=g, through=behind[0])


def _box_ports(box) -> tuple[set[int], set[int]]:
    """(ports a middlebox listens on, ports it forwards to), as far as its file says."""
    listen = {_bind_port(t) for t in box.listens}
    target = {_bind_port(t) for t in box.targets}
    listen.discard(None)
    target.discard(None)
    return listen, target


def _front_of(g: _Group, port: int | None, host: str):
    """(document, middlebox, listener, port) when a client's port is the frontend port of one
    middlebox of the neighbourhood that forwards to a port one hop here listens on: a load balancer
    rule 5433 -> 5432 in front of a PostgreSQL on 5432. None when no single one is."""
    found = []
    for doc, box, targets in g.fronts.get(port, ()) if port is not None else ():
        for target in sorted(targets):
            lst = g.find(target, host)
            if lst is not None:
                found.append((doc, box, lst, target))
    return found[0] if len(found) == 1 else None


def _place_middleboxes(g: _Group, path: DeploymentPath, through: Hop | None = None, local: bool = False) -> None:
    """Put each middlebox of the neighbourhood in front of the hop whose port it targets. In front
    of a path's first hop too: the clients that cross it are then not read (an open leg). On a
    client's path a hop is reached at its own port, so a middlebox that says which ports it listens
    on is in front of it only when it listens on that port: a rule 5433 -> 5432 is not on the path
    of a client connecting to 5432. A hop reached through a middlebox's frontend (`through`) has
    that one in front of it. A client that connects to a loopback address (`local`) reaches its
    first hop on its own host, through no middlebox."""
    if not g.boxes:
        return
    from_client = bool(path.hops) and path.hops[0].kind == "client"
    on_path = {id(h.detail) for h in path.hops if h.detail is not None}
    for doc, box in g.boxes:
        if id(box) in on_path:
            continue
        listen, target = _box_ports(box)
        ports = listen if from_client and listen else listen | target
        for i, hop in enumerate(path.hops):
            if hop.kind not in ("pgbouncer", "haproxy", "postgres") or hop is through or (local and i == 1):
                continue
            if hop_port(hop) in ports:
                path.hops.insert(i, Hop(box.kind, box.label, doc, box.span, box))
                path.evidence.append(f"{box.label} targets port {hop_port(hop)} of {hop.label}")
                break


def hop_port(hop: Hop) -> int | None:
    """The port a hop listens on (a PgBouncer's listen_port, a server's port, an HAProxy route's
    first bind), None when unknown: what a middlebox or a client's port is matched against."""
    if hop.kind == "pgbouncer":
        return _int(hop.doc.model.value("listen_port"))
    if hop.kind == "postgres" and hop.doc is not None:
        return _int(value_or_default(hop.doc, "port", assume_default=True)[0])
    if hop.kind == "haproxy":
        ports = [_bind_port(b.address) for b in hop.detail.front.binds]
        return ports[0] if ports else None
    return None


def _apply_hosts(path: DeploymentPath) -> None:
    """The host facts of each hop's document (advisor.path.hosts: the sysctl files and systemd
    units of its host, or its container's) on the hop."""
    for hop in path.hops:
        if hop.doc is not None and hop.doc.host is not None:
            hop.host = hop.doc.host


def _path(name: str, evidence: list[str], hops: list[Hop], source: str = "discovered") -> DeploymentPath:
    return DeploymentPath(name, source, evidence, hops)


def _carries_postgres(listener) -> bool:
    """An HAProxy listener's backend carries PostgreSQL (its model module is imported only when an
    HAProxy file was loaded: a postgresql.conf check never needs it)."""
    from advisor.model.haproxy import carries_postgres

    return carries_postgres(listener.detail.back, listener.doc.model)
