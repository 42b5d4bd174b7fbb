"""HAProxy's effective configuration: every proxy after `defaults` inheritance, with where each
value was set, and the effective idle timeout of a frontend/backend pair. Filled by
`advisor.loaders.haproxy_cfg`; read by rules and the path.
"""

from __future__ import annotations

import re
from typing import Any

from advisor import lazy_re
from advisor.model import PG_PORTS, Record, Span, Unknown, is_known
from advisor.units import decimal, hap_format_ms


class Val(Record):
    """A value and where it was set (`origin` names the section: `listen pg`, `defaults d1`)."""

    __slots__ = ("value", "span", "origin", "raw")

    def __init__(self, value: Any, span: Span | None, origin: str, raw: str | None = None) -> None:
        self.value = value
        self.span = span
        self.origin = origin
        self.raw = raw  # the value as written (`300s`), for messages; None when not kept

    def shown(self, unit: str = "ms") -> str:
        """The value as the file wrote it (`300s`), else formatted (`5m`)."""
        if self.raw:
            return self.raw
        if isinstance(self.value, Unknown):
            return self.value.text or "?"
        return hap_format_ms(self.value) if unit == "ms" else str(self.value)

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, Unknown):
            value = {"unknown": value.text}
        out: dict[str, Any] = {"value": value, "set_in": self.origin}
        if self.span is not None:
            out["span"] = self.span.to_dict()
        return out


class Server(Record):
    __slots__ = ("name", "address", "port", "span", "check", "inter_ms", "check_port", "ssl", "ssl_min_ver",
                 "ssl_max_ver", "backup", "tls_flags", "tls_range", "resolvers", "init_addr", "maxconn", "alpn")

    def __init__(self, name: str, address: str, port: int | None | Unknown, span: Span, check: Val | None = None,
                 inter_ms: Val | None = None, check_port: Val | None = None, ssl: bool = False,
                 ssl_min_ver: str | None = None, ssl_max_ver: str | None = None, backup: bool = False,
                 tls_flags: list[str] | None = None, tls_range: dict[str, Val] | None = None,
                 resolvers: Val | None = None, init_addr: Val | None = None, maxconn: Val | None = None) -> None:
        self.name = name
        self.address = address
        self.port = port
        self.span = span
        self.check = check
        self.inter_ms = inter_ms
        self.check_port = check_port
        self.ssl = ssl
        self.ssl_min_ver = ssl_min_ver
        self.ssl_max_ver = ssl_max_ver
        self.backup = backup
        self.tls_flags = [] if tls_flags is None else tls_flags
        self.tls_range = {} if tls_range is None else tls_range
        self.resolvers = resolvers  # `resolvers <section>`: the name is re-resolved at run time
        self.init_addr = init_addr  # `init-addr last,libc,none`: how the address is found at start
        # `maxconn N`: connections sent to it at once; more wait in the backend's queue (`timeout
        # queue`, else `timeout connect`) and are then dropped; 0 or None: unlimited
        self.maxconn = maxconn
        # `alpn <list>`: the protocols HAProxy offers in its TLS ClientHello to this server (a `Val`
        # of the list as written); None when not set: no ALPN extension is sent
        self.alpn: Val | None = None

    def to_dict(self) -> dict[str, Any]:
        port = {"unknown": self.port.text} if isinstance(self.port, Unknown) else self.port
        out: dict[str, Any] = {"name": self.name, "address": self.address, "port": port, "span": self.span.to_dict(),
                               "backup": self.backup, "ssl": self.ssl}
        for key in ("check", "inter_ms", "check_port"):
            v = getattr(self, key)
            if v is not None:
                out[key] = v.to_dict()
        if self.ssl_min_ver:
            out["ssl_min_ver"] = self.ssl_min_ver
        if self.ssl_max_ver:
            out["ssl_max_ver"] = self.ssl_max_ver
        if self.ssl:
            out["tls_range"] = {k: v.to_dict() for k, v in self.tls_range.items()}
        return out


class Bind(Record):
    __slots__ = ("address", "span", "ssl", "ssl_min_ver", "ssl_max_ver", "tls_flags", "tls_range", "files",
                 "transparent", "alpn")

    def __init__(self, address: str, span: Span, ssl: bool = False, ssl_min_ver: str | None = None,
                 ssl_max_ver: str | None = None, tls_flags: list[str] | None = None,
                 tls_range: dict[str, Val] | None = None) -> None:
        self.address = address
        self.span = span
        self.ssl = ssl
        self.ssl_min_ver = ssl_min_ver
        self.ssl_max_ver = ssl_max_ver
        self.tls_flags = [] if tls_flags is None else tls_flags  # no-tlsv10, force-tlsv12, ...
        self.tls_range = {} if tls_range is None else tls_range  # effective "min"/"max" with where they come from
        self.files: dict[str, Val] = {}  # crt / ca-file as written, with the word's span
        # `transparent`: the socket may bind an address the host does not hold (IP_TRANSPARENT /
        # IP_FREEBIND; HAProxy 2.6 has no `freebind` keyword); needs root or CAP_NET_ADMIN
        self.transparent = False
        # `alpn <list>`: the protocols HAProxy accepts in a client's ALPN extension on an `ssl` bind
        # (a `Val` of the list as written); None when not set: HAProxy selects no protocol
        self.alpn: Val | None = None

    @property
    def port(self) -> int | None:
        m = re.search(r":(\d+)(?:-\d+)?$", self.address)
        return decimal(m.group(1)) if m else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"address": self.address, "span": self.span.to_dict(), "ssl": self.ssl}
        if self.ssl_min_ver:
            out["ssl_min_ver"] = self.ssl_min_ver
        if self.ssl_max_ver:
            out["ssl_max_ver"] = self.ssl_max_ver
        if self.ssl:
            out["tls_range"] = {k: v.to_dict() for k, v in self.tls_range.items()}
        return out


_KA_OPTIONS = ("clitcpka", "srvtcpka", "tcpka")
KA_PARAMS = ("clitcpka-idle", "clitcpka-intvl", "clitcpka-cnt", "srvtcpka-idle", "srvtcpka-intvl", "srvtcpka-cnt")
def offers_alpn(val: Val | None, protocol: str = "postgresql") -> bool | None:
    """Whether an `alpn` list (of a bind or a server line) has `protocol`: True or False, None
    when the list is a placeholder pgpath cannot read."""
    if val is None:
        return False
    if not is_known(val.value):
        return None
    return protocol in [p.strip() for p in str(val.value).split(",")]


def binds_used(front: "Proxy", port: Any = None) -> list[Bind]:
    """The binds of a frontend (or listen) a client connecting to `port` reaches: those on that
    port when one is, else every bind (the port is not known, or no bind is on it)."""
    if isinstance(port, int):
        on_port = [b for b in front.binds if b.port == port]
        if on_port:
            return on_port
    return list(front.binds)


class Proxy(Record):
    """One `defaults`, `frontend`, `backend` or `listen` section after inheritance."""

    __slots__ = ("kind", "name", "span", "defaults", "defaults_span", "conditional", "mode", "timeouts", "options",
                 "ka_params", "default_server", "servers", "binds", "default_backend", "use_backends", "check_user",
                 "maxconn")

    def __init__(self, kind: str, name: str | None, span: Span, defaults: str | None = None,
                 defaults_span: Span | None = None, conditional: bool = False, mode: Val | None = None,
                 timeouts: dict[str, Val] | None = None, options: dict[str, Val] | None = None,
                 ka_params: dict[str, Val] | None = None, default_server: dict[str, Val] | None = None,
                 servers: list[Server] | None = None, binds: list[Bind] | None = None,
                 default_backend: Val | None = None, use_backends: list[Val] | None = None,
                 check_user: Val | None = None, maxconn: Val | None = None) -> None:
        self.kind = kind
        self.name = name
        self.span = span
        self.defaults = defaults  # label of the defaults section it inherited from
        self.defaults_span = defaults_span
        self.conditional = conditional
        self.mode = mode
        self.timeouts = {} if timeouts is None else timeouts
        self.options = {} if options is None else options  # option name -> Val(True/False/Unknown)
        self.ka_params = {} if ka_params is None else ka_params  # clitcpka-idle (s), ... -cnt
        self.default_server = {} if default_server is None else default_server
        self.servers = [] if servers is None else servers
        self.binds = [] if binds is None else binds
        self.default_backend = default_backend
        self.use_backends = [] if use_backends is None else use_backends
        self.check_user = check_user  # option pgsql-check user <u>
        # `maxconn N` of a frontend or listen (or its defaults): connections it accepts at once;
        # more wait unanswered in the kernel's listen queue; 0 or None: the global maxconn
        self.maxconn = maxconn

    @property
    def label(self) -> str:
        return self.kind if self.name is None else f"{self.kind} {self.name}"

    def effective_mode(self) -> str | Unknown:
        if self.mode is None:
            return "tcp"
        return self.mode.value

    def timeout(self, name: str) -> Val | None:
        return self.timeouts.get(name)

    def option(self, name: str) -> Val | None:
        return self.options.get(name)

    def keepalive(self, side: str) -> dict[str, Any]:
        """{"enabled": Val|None, "idle": Val|None, "intvl": Val|None, "cnt": Val|None} of one side.

        `option tcpka` sets both sides; `option clitcpka`/`srvtcpka` (and `no option ...`) one
        side; the last line read wins (the loader keeps that in `options`).
        """
        prefix = "clitcpka" if side == "client" else "srvtcpka"
        return {
            "enabled": self.options.get(prefix),
            "idle": self.ka_params.get(f"{prefix}-idle"),
            "intvl": self.ka_params.get(f"{prefix}-intvl"),
            "cnt": self.ka_params.get(f"{prefix}-cnt"),
        }

    def has_client_side(self) -> bool:
        return self.kind in ("frontend", "listen")

    def has_server_side(self) -> bool:
        return self.kind in ("backend", "listen")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "span": self.span.to_dict()}
        if self.defaults:
            out["defaults"] = self.defaults
        if self.conditional:
            out["conditional"] = True
        mode = self.effective_mode()
        out["mode"] = self.mode.to_dict() if self.mode else {"value": "tcp", "set_in": "(HAProxy default)"}
        out["timeouts"] = {k: v.to_dict() for k, v in sorted(self.timeouts.items())}
        sides = []
        if self.kind in ("frontend", "listen", "defaults"):
            sides.append("client")
        if self.kind in ("backend", "listen", "defaults"):
            sides.append("server")
        out["keepalive"] = {
            side: {k: (v.to_dict() if v is not None else None) for k, v in self.keepalive(side).items()} for side in sides
        }
        out["options"] = {k: v.to_dict() for k, v in sorted(self.options.items()) if k not in _KA_OPTIONS}
        if self.check_user is not None:
            out["pgsql_check_user"] = self.check_user.to_dict()
        if self.default_server:
            out["default_server"] = {k: v.to_dict() for k, v in self.default_server.items()}
        if self.servers:
            out["servers"] = [s.to_dict() for s in self.servers]
        if self.binds:
            out["binds"] = [b.to_dict() for b in self.binds]
        if self.default_backend is not None:
            out["default_backend"] = self.default_backend.to_dict()
        if self.use_backends:
            out["use_backend"] = [v.to_dict() for v in self.use_backends]
        if self.kind != "defaults" and mode == "tcp":
            idle = idle_timeout(self, self) if self.kind == "listen" else None
            if idle is not None:
                out["idle_timeout"] = idle.to_dict()
        return out


class IdleTimeout(Record):
    """How long an idle TCP session lives through a frontend/backend pair (or a listen)."""

    __slots__ = ("ms", "reason", "spans", "via_tunnel")

    def __init__(self, ms: int | None | Unknown, reason: str, spans: tuple[Span, ...], via_tunnel: bool) -> None:
        self.ms = ms  # None = never closed for idleness
        self.reason = reason  # the arithmetic
        self.spans = spans
        self.via_tunnel = via_tunnel

    def to_dict(self) -> dict[str, Any]:
        ms = {"unknown": self.ms.text} if isinstance(self.ms, Unknown) else self.ms
        return {"ms": ms, "reason": self.reason, "via_tunnel": self.via_tunnel,
                "spans": [s.to_dict() for s in self.spans]}


def idle_timeout(front: Proxy, back: Proxy) -> IdleTimeout:
    """The effective idle timeout of a plain TCP session through `front` then `back`.

    In `mode tcp` the stream becomes a tunnel as soon as no analyzer remains (at once for a
    plain pg proxy), and from then on `timeout tunnel` (from the backend), when set, replaces
    both `timeout client` (frontend) and `timeout server` (backend). Without it, the session
    ends when either side has been idle for its timeout: min(client, server), 0 = never.
    TCP keepalive probes carry no data and never reset these timers.
    """
    tunnel = back.timeout("tunnel")
    if tunnel is not None and tunnel.value != 0:
        if isinstance(tunnel.value, Unknown):
            return IdleTimeout(tunnel.value, f"timeout tunnel {tunnel.value.text or '?'} (unknown)", _spans(tunnel), True)
        return IdleTimeout(tunnel.value, f"timeout tunnel {tunnel.shown()} (set in {tunnel.origin})",
                           _spans(tunnel), True)
    client = front.timeout("client")
    server = back.timeout("server")
    parts = []
    values = []
    for side, v in (("client", client), ("server", server)):
        if v is None or v.value == 0:
            parts.append(f"timeout {side} not set (infinite)")
            continue
        if isinstance(v.value, Unknown):
            return IdleTimeout(v.value, f"timeout {side} is unknown ({v.origin})", _spans(client, server), False)
        parts.append(f"timeout {side} {v.shown()} (set in {v.origin})")
        values.append(v.value)
    ms = min(values) if values else None
    return IdleTimeout(ms, ", ".join(parts) + ", no timeout tunnel", _spans(client, server), False)


def _spans(*vals: Val | None) -> tuple[Span, ...]:
    return tuple(v.span for v in vals if v is not None and v.span is not None)


class Route(Record):
    """Where a client connection goes: a listen, or a frontend and one backend it uses."""

    __slots__ = ("front", "back")

    def __init__(self, front: Proxy, back: Proxy) -> None:
        self.front = front
        self.back = back

    @property
    def label(self) -> str:
        if self.front is self.back:
            return self.front.label
        return f"{self.front.label} -> {self.back.label}"


class HaproxyModel(Record):
    """The effective configuration of every proxy, plus the global TLS defaults."""

    __slots__ = ("proxies", "defaults", "global_settings")

    def __init__(self, proxies: list[Proxy] | None = None, defaults: list[Proxy] | None = None,
                 global_settings: dict[str, Val] | None = None) -> None:
        self.proxies = [] if proxies is None else proxies
        self.defaults = [] if defaults is None else defaults
        self.global_settings = {} if global_settings is None else global_settings

    def by_name(self, kind: str, name: str) -> Proxy | None:
        found = None
        for p in self.proxies:
            if p.name == name and (p.kind == kind or p.kind == "listen"):
                found = p
        return found

    def backend(self, name: str) -> Proxy | None:
        for p in self.proxies:
            if p.name == name and p.kind in ("backend", "listen"):
                return p
        return None

    def routes(self) -> list[Route]:
        out: list[Route] = []
        for p in self.proxies:
            if p.kind == "listen":
                out.append(Route(p, p))
            elif p.kind == "frontend":
                seen = set()
                for v in ([p.default_backend] if p.default_backend else []) + p.use_backends:
                    if not is_known(v.value) or v.value in seen:
                        continue
                    seen.add(v.value)
                    back = self.backend(v.value)
                    if back is not None:
                        out.append(Route(p, back))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "global": {k: v.to_dict() for k, v in self.global_settings.items()},
            "defaults": [d.to_dict() for d in self.defaults],
            "proxies": [p.to_dict() for p in self.proxies],
            "routes": [
                {"route": r.label, "mode": _mode_text(r.back.effective_mode()),
                 "idle_timeout": idle_timeout(r.front, r.back).to_dict()}
                for r in self.routes()
            ],
        }


_PG_NAME = lazy_re.compile(r"postgres|pgsql|pgbouncer|patroni|(^|[-_.])pg([-_.0-9]|$)", re.IGNORECASE)
# Patroni's REST health checks, which only a PostgreSQL node answers (patroni.readthedocs.io,
# rest_api.html: "Health check endpoints"); `/` and `/health` are any web server's as well
PATRONI_CHECKS = frozenset(("/primary", "/master", "/leader", "/standby-leader", "/standby_leader", "/replica",
                            "/read-write", "/read-only", "/read-only-sync", "/read-only-quorum", "/synchronous",
                            "/sync", "/quorum", "/asynchronous", "/async"))


def carries_postgres(proxy: Proxy, model: "HaproxyModel") -> bool:
    """Whether a backend (or listen) leads to PostgreSQL or PgBouncer, as far as the file tells: the
    one decision the HAProxy rules and the path share.

    Evidence: a server port 5432/6432, or a server port written as a template placeholder named
    for PostgreSQL or PgBouncer (`{{ postgresql_port }}`); `option pgsql-check`; `option httpchk`
    on a Patroni health check (`OPTIONS /primary`, `/replica?lag=...`); a name with
    postgres/pg/pgbouncer/patroni in it; a frontend/listen bound to 5432/6432 that routes to it.
    A proxy with none of these (an MQTT or gRPC listener in mode tcp) carries something else.
    """
    for s in proxy.servers:
        if isinstance(s.port, int) and s.port in PG_PORTS:
            return True
        if isinstance(s.port, Unknown) and _PG_NAME.search((s.port.text or "").rsplit(":", 1)[-1]):
            return True
    check = proxy.option("pgsql-check")
    if check is not None and check.value is True:
        return True
    if _patroni_check(proxy.option("httpchk")):
        return True
    if proxy.name and _PG_NAME.search(proxy.name):
        return True
    for route in model.routes():
        if route.back is proxy and any(b.port in PG_PORTS for b in route.front.binds):
            return True
    return False


def _patroni_check(val: Val | None) -> bool:
    if val is None or val.value is False:
        return False
    text = val.value.text if isinstance(val.value, Unknown) else (val.raw or "")
    return any(word.split("?", 1)[0].rstrip("/") in PATRONI_CHECKS for word in text.split() if word.startswith("/"))


def _mode_text(mode) -> Any:
    return {"unknown": mode.text} if isinstance(mode, Unknown) else mode
