"""What the certificate rules (TLS010-TLS014) share: which files the configurations name as
certificates, keys and CA files, resolved to the certificate documents read in the same run.

Paths are resolved as written when absolute; a relative path is taken relative to the directory
of the file that names it (PostgreSQL resolves it against the data directory, which is where
postgresql.conf usually lives; PgBouncer against its working directory). A file that is not in
the tree is not judged.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from advisor.model import Span, is_known

DEFAULT_WARN_DAYS = 30
VERIFYING = ("verify-ca", "verify-full")

# (document kind, setting) -> role of the file
ROLES = {
    ("postgresql", "ssl_cert_file"): "server-cert", ("postgresql", "ssl_key_file"): "server-key",
    ("postgresql", "ssl_ca_file"): "ca", ("pgbouncer", "client_tls_cert_file"): "server-cert",
    ("pgbouncer", "client_tls_key_file"): "server-key", ("pgbouncer", "client_tls_ca_file"): "ca",
    ("pgbouncer", "server_tls_ca_file"): "root", ("pgbouncer", "server_tls_cert_file"): "client-cert",
    ("pgbouncer", "server_tls_key_file"): "client-key",
}


class Ref:
    """One file a configuration names. `endpoint` is the client endpoint (a URL, a DSN) whose
    sslrootcert it is, for a client file; None for a server's or PgBouncer's setting."""

    __slots__ = ("role", "doc", "name", "span", "target", "cert_doc", "sslmode", "host", "endpoint")

    def __init__(self, role, doc, name, span, target, cert_doc, sslmode=None, host=None, endpoint=None):
        self.role = role
        self.doc = doc
        self.name = name
        self.span = span
        self.target = target
        self.cert_doc = cert_doc
        self.sslmode = sslmode
        self.host = host
        self.endpoint = endpoint

    @property
    def connector(self) -> int:
        """Who connects with this file, as tls_legs keys it: the client endpoint, else the file."""
        return id(self.endpoint) if self.endpoint is not None else id(self.doc)


def now(ctx) -> datetime:
    """The run's clock: options["now"] (ISO text or datetime; tests inject it), else the real time."""
    value = ctx.options.get("now")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)


def warn_days(ctx) -> int:
    try:
        return int(ctx.options.get("cert_warn_days", DEFAULT_WARN_DAYS))
    except (TypeError, ValueError):
        return DEFAULT_WARN_DAYS


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def cert_docs(ctx) -> dict[str, object]:
    return {os.path.realpath(d.path): d for d in ctx.of_kind("certificate") if d.model is not None}


def _resolve(base_file: str, value: str) -> str:
    value = value.strip().strip("'\"")
    path = value if os.path.isabs(value) else os.path.join(os.path.dirname(base_file) or ".", value)
    return os.path.realpath(path)


def references(ctx) -> list[Ref]:
    """Every certificate, key or CA file a configuration names, with the certificate document read
    for it (None when the file is not in the tree)."""
    docs = cert_docs(ctx)
    out: list[Ref] = []
    for doc in ctx.docs:
        if doc.kind in ("postgresql", "pgbouncer"):
            for setting in doc.settings:
                role = ROLES.get((doc.kind, setting.name))
                if role is None or not setting.effective or not is_known(setting.value) or not setting.value:
                    continue
                target = _resolve(setting.span.file, str(setting.value))
                sslmode = None
                if doc.kind == "pgbouncer" and role == "root" and doc.model is not None:
                    sslmode = doc.model.value("server_tls_sslmode")
                out.append(Ref(role, doc, setting.name, setting.value_span or setting.span, target, docs.get(target),
                               sslmode))
        elif doc.kind == "haproxy" and doc.model is not None:
            # `bind ... ssl crt FILE ca-file FILE`: the certificate (and key) HAProxy presents, and the CA
            # it checks client certificates with (relative paths: HAProxy's crt-base or working directory;
            # taken here relative to the file, as for the others)
            for proxy in doc.model.proxies:
                for bind in proxy.binds:
                    for word, role in (("crt", "server-cert"), ("ca-file", "ca")):
                        val = bind.files.get(word)
                        if val is not None and is_known(val.value):
                            target = _resolve(val.span.file, str(val.value))
                            out.append(Ref(role, doc, word, val.span, target, docs.get(target)))
        elif doc.kind == "client" and doc.model is not None:
            for ep in doc.model.endpoints:
                root = ep.sslrootcert
                if root is None or not root.known or not root.value or root.value == "system":
                    continue
                target = _resolve(doc.path, str(root.value))
                mode = ep.sslmode.value if ep.sslmode is not None and ep.sslmode.known else None
                host = ep.hosts[0].value if ep.hosts and ep.hosts[0].known else None
                out.append(Ref("root", doc, "sslrootcert", root.span or ep.span, target, docs.get(target), mode,
                               host, ep))
    return out



def connector(hop) -> int:
    """The key of the connecting end of a TLS leg: a client hop's endpoint (one file may hold
    several URLs, each to its own server), a PgBouncer's file (its server_tls_* settings are
    global)."""
    return id(hop.detail) if hop.kind == "client" and hop.detail is not None else id(hop.doc)


def tls_legs(ctx) -> set[tuple[int, int]]:
    """(connector key, id of the accepting document) of each TLS leg on the assembled paths: a
    client endpoint and the first PgBouncer or PostgreSQL after it (an HAProxy in TCP mode passes
    TLS through), a PgBouncer and the PostgreSQL after it. Only what one path joins is paired: a
    `.env` with one URL to PgBouncer and one to PostgreSQL pairs each URL with its own server."""
    out: set[tuple[int, int]] = set()
    for path in getattr(ctx, "paths", ()):
        for i, hop in enumerate(path.hops):
            if hop.kind not in ("client", "pgbouncer") or hop.doc is None:
                continue
            peer = next((h for h in path.hops[i + 1:] if h.kind in ("pgbouncer", "postgres")), None)
            if peer is not None and peer.doc is not None:
                out.add((connector(hop), id(peer.doc)))
    return out


def pgbouncer_server_hosts(ctx) -> dict[tuple[int, int], list[str]]:
    """(id of a PgBouncer file, id of the PostgreSQL file after it) -> the host names its
    `[databases]` entries on the assembled paths connect to (each name of a `host=a,b` list; Unix
    sockets and unknown hosts left out): with `server_tls_sslmode = verify-full` PgBouncer checks
    the server certificate against that name (src/sbuf.c sbuf_tls_connect passes db->host)."""
    out: dict[tuple[int, int], list[str]] = {}
    for path in getattr(ctx, "paths", ()):
        for i, hop in enumerate(path.hops):
            if hop.kind != "pgbouncer" or hop.doc is None or hop.detail is None:
                continue
            peer = next((h for h in path.hops[i + 1:] if h.kind in ("pgbouncer", "postgres")), None)
            if peer is None or peer.doc is None or peer.kind != "postgres":
                continue
            host = hop.detail.value("host")
            if host is None or not is_known(host):
                continue
            names = out.setdefault((id(hop.doc), id(peer.doc)), [])
            for name in str(host).split(","):
                name = name.strip()
                if name and not name.startswith("/") and name not in names:
                    names.append(name)
    return out


def verified_on_a_path(ctx, cert_doc) -> bool:
    """Whether a client or PgBouncer that verifies certificates meets this certificate file on its
    path: as the server certificate of the PgBouncer or PostgreSQL it connects to, or as its own
    root (sslrootcert, server_tls_ca_file)."""
    refs = [r for r in references(ctx) if r.cert_doc is cert_doc]
    if any(r.role == "root" and r.sslmode in VERIFYING for r in refs):
        return True
    legs = tls_legs(ctx)
    servers = {id(r.doc) for r in refs if r.role in ("server-cert", "ca")}
    for path in getattr(ctx, "paths", ()):
        for hop in path.hops:
            if hop.doc is None or not _verifies(hop):
                continue
            if any((connector(hop), s) in legs for s in servers):
                return True
    return False


def _verifies(hop) -> bool:
    if hop.kind == "client":
        mode = hop.detail.sslmode
        return mode is not None and mode.known and mode.value in VERIFYING
    if hop.kind == "pgbouncer":
        return hop.doc.model.value("server_tls_sslmode") in VERIFYING
    return False




def days_text(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:.0f} day{'s' if round(days) != 1 else ''}"


def first_span(doc) -> Span:
    return Span(doc.path, 1, 1)
