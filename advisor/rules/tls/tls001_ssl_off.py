"""The PostgreSQL server does not offer TLS.

## What it checks
`ssl = off` written in postgresql.conf, unless `listen_addresses` is set to loopback addresses
only, or an include that PostgreSQL reads after that line was not read (made at deploy time, or
in a template): a later line wins, and that file may turn ssl on again. A file that leaves `ssl` unset (off by default) is not reported on its own: most published
configurations leave TLS to the image or the platform. Where a client on the same path requires
TLS from this server, the connection certainly fails, and PATH004 reports that as an error.

A PostgreSQL service of a compose file is judged by who can reach it, as PGB017 judges a
PgBouncer one: it listens inside its container, so network clients reach it only through the
ports the service publishes on the host. A port published on every interface (`5432:5432`, no
host IP: reachable even past a host firewall such as ufw) is reported when ssl is known to be
off: `-c ssl=off`, or ssl left unset on the official `postgres` image (and images built from it
that keep its configuration: `postgis/postgis`, `pgvector/pgvector`), whose configuration leaves
ssl off. A server whose settings pgpath did not all read is not judged: a mounted configuration
file (`-c config_file=`, `$PGDATA/postgresql.conf`), init scripts mounted into
`/docker-entrypoint-initdb.d` (they may `ALTER SYSTEM SET ssl = on`), or another image with its
own configuration. A port not published, or published on `127.0.0.1` only, is not reported.

A PostgreSQL container of a Kubernetes workload (Deployment, StatefulSet, ...) is judged the same
way by what exposes it: only a Service of type LoadBalancer in front of it on an assembled path
(an AWS NLB or ELB, an Azure or GCP load balancer, or one whose cloud is not named) takes clients
from outside the cluster, and the finding points at that Service. A ClusterIP Service is reached
by the cluster's pods only, and is not reported.

## Why it matters
Without TLS, passwords hashed with md5, queries and results cross the network in clear text, and
clients asking for `sslmode=require` or stricter cannot connect at all. Clients left at libpq's
default `sslmode=prefer` silently fall back to plain text.

For a compose service the message says what the image's `pg_hba.conf` line for network clients
(`host all all all <method>`: `POSTGRES_HOST_AUTH_METHOD`, else `password_encryption`,
scram-sha-256 since PostgreSQL 14) lets through: with `trust` no password is asked at all, and
anyone who reaches the port connects as any role, superusers included (said first: the bigger
hole); with `password` passwords cross in clear text; with `md5` the exchange can be captured and
the password guessed offline; with `scram-sha-256` queries and results cross unencrypted but no
password is exposed. A `POSTGRES_PASSWORD` written in the file as the user name or a well-known
default (`postgres`, `password`, `changeme`, ...: `advisor.model.DEVELOPMENT_PASSWORDS`) is said
first, like `trust`: anyone who reaches the port logs in as the image's superuser, whatever the
method. (In a compose file such a password marks a development setup, whose info findings are
held back: advisor/development.py; in a Kubernetes manifest it does not.)

## Fix
`ssl = on` with `ssl_cert_file` and `ssl_key_file` pointing at a certificate and a key readable
only by the server (mode 0600), and `ssl_min_protocol_version = 'TLSv1.2'`.

In compose: publish the port on loopback only (`127.0.0.1:5432:5432`) when only the host's own
clients connect; otherwise `-c ssl=on -c ssl_cert_file=... -c ssl_key_file=...` in the service's
command, with the files mounted into the container. With `POSTGRES_HOST_AUTH_METHOD=trust`,
remove it first (with `POSTGRES_PASSWORD` set the image asks a password). With a guessable
password, set a new random one with `ALTER ROLE ... PASSWORD` (the image reads
`POSTGRES_PASSWORD` only when it creates the data directory) and give the variable from a secret.

## References
- PostgreSQL: Secure TCP/IP Connections with SSL — https://www.postgresql.org/docs/current/ssl-tcp.html
- Docker Official Image `postgres`: POSTGRES_HOST_AUTH_METHOD, initialization scripts — https://hub.docker.com/_/postgres
"""

import os

from advisor.catalog import value_or_default
from advisor.findings import Severity
from advisor.model import KUBERNETES_WORKLOADS
from advisor.model.pg_parameters import assignment, in_command
from advisor.rules.compose import (CLEAR_PASSWORDS, MD5_CAPTURED, UNENCRYPTED, exposure_message,
                                   publish_on_loopback, published_said, published_to_network)
from advisor.rules.pg.common import read_later_unread, where
from advisor.rules.rule import Rule, any_network_address


def _listens(doc) -> bool | None:
    """True when listen_addresses names a network address (or '*'), False when only loopback,
    None when the file does not say (or a template placeholder)."""
    listen = doc.get("listen_addresses")
    if listen is None or not isinstance(listen.value, str):
        return None
    return any_network_address(listen.value)


def check(ctx):
    fronts = None  # id(document) -> the middlebox hop in front of its server, built once when needed
    for doc in ctx.of_kind("postgresql"):
        network = _listens(doc)
        if network is False:
            continue  # local connections only
        exposure = doc.meta.get("compose_exposure")
        if exposure is not None and exposure["network_mode"] != "host":
            finding = _published(doc, exposure)
            if finding is not None:
                yield finding
            continue  # not published: only containers of its host reach it
        if doc.meta.get("source") in KUBERNETES_WORKLOADS:
            if fronts is None:
                fronts = _load_balancers_in_front(ctx)
            finding = _behind_load_balancer(doc, fronts.get(id(doc)))
            if finding is not None:
                yield finding
            continue  # a container: only what a Service of type LoadBalancer exposes leaves the cluster
        setting = doc.get("ssl")
        if setting is not None and setting.value is False:
            if read_later_unread(doc, setting) is not None:
                continue  # an include read after it, not read here, may turn ssl on again
            yield RULE.finding(
                where(doc, setting),
                f"ssl = {setting.raw}: connections are not encrypted, and clients with sslmode=require cannot connect",
                f"{assignment(doc, 'ssl', 'on')}  (with ssl_cert_file and ssl_key_file)",
            )


def _ssl_off(doc) -> str | None:
    """How ssl is known to be off for a compose service (`ssl = off`, or the official image's
    default), or None when it is on or not known: a configuration file or init scripts pgpath did
    not read may turn it on, and other images bring their own configuration."""
    setting = doc.get("ssl")
    if setting is not None:
        return f"ssl = {setting.raw}" if setting.value is False else None
    if doc.get("config_file") and not doc.meta.get("mounted_in") or doc.meta.get("initdb_scripts"):
        return None  # (a configuration file read with the container, advisor.loaders.mounts, is known)
    # (None when the loader knows the configuration not all read: another image's, an entrypoint
    # script's, a mounted file)
    value, _ = value_or_default(doc, "ssl")
    return "ssl not set (default off in the postgres image)" if value is False else None


def _login(doc) -> tuple[str, str]:
    """What the image's pg_hba.conf line for network clients (`host all all all <method>`, the
    method POSTGRES_HOST_AUTH_METHOD or else password_encryption) lets through: ("open", ...)
    when it asks no password, ("exposed", ...) otherwise."""
    env = doc.meta.get("env") or {}
    method = env.get("POSTGRES_HOST_AUTH_METHOD")
    if not method and doc.meta.get("env_file"):
        # an env_file (envFrom) not read may set it: what a login exposes is not known
        return "exposed", (f"{UNENCRYPTED}; what a login exposes depends on POSTGRES_HOST_AUTH_METHOD, which its "
                           "env_file (or envFrom) may set (not read here)")
    if method:
        origin = f"POSTGRES_HOST_AUTH_METHOD={method}"
    else:
        method, setting = value_or_default(doc, "password_encryption")
        # (never `password_encryption = ...`: output redaction hides what follows a password word)
        origin = ("the default password_encryption" if setting is None else "its command's password_encryption"
                  if in_command(doc, "password_encryption", setting) or not doc.meta.get("mounted_in")
                  else f"the password_encryption of {os.path.basename(doc.path)}")
    line = f"the image's pg_hba.conf: host all all all {method}, after {origin}"
    if method == "trust":
        return "open", (f"{origin} makes the image's pg_hba.conf ask no password (host all all all trust): anyone "
                        "who reaches it connects as any role, superusers included")
    user = doc.meta.get("guessable_password")
    if user and method in ("scram-sha-256", "md5", "password"):
        return "open", (f"the file writes POSTGRES_PASSWORD as the user name or a well-known default: anyone who "
                        f"reaches it logs in as {user}, the image's superuser ({line})")
    if method == "password":
        return "exposed", f"{CLEAR_PASSWORDS} ({line}), and so do queries and results"
    if method == "md5":
        return "exposed", f"{UNENCRYPTED}, and {MD5_CAPTURED} ({line})"
    if method == "scram-sha-256":
        return "exposed", f"{UNENCRYPTED} ({line}; SCRAM exposes no password)"
    return "exposed", UNENCRYPTED


def _open_fix(doc) -> str:
    """How to make the server ask a password nobody can guess."""
    user = doc.meta.get("guessable_password")
    if user:
        return (f"set a new random password with ALTER ROLE {user} PASSWORD '<new>' (the image reads "
                "POSTGRES_PASSWORD only when it creates the data directory), and give POSTGRES_PASSWORD from a secret, "
                "not the file")
    return "remove POSTGRES_HOST_AUTH_METHOD=trust (with POSTGRES_PASSWORD set the image asks a password)"


def _published(doc, exposure):
    """A compose PostgreSQL without TLS whose port is published beyond the host: the same risk as
    PGB017's PgBouncer, worded and fixed the same way."""
    off = _ssl_off(doc)
    if off is None:
        return None
    port, _ = value_or_default(doc, "port")
    if port is None:
        return None
    p = published_to_network(exposure, str(port))
    if p is None:
        return None
    kind, login = _login(doc)
    published = published_said("PostgreSQL's", str(port), p)
    publish = publish_on_loopback(p)
    tls = ("-c ssl=on -c ssl_cert_file=<mounted certificate> -c ssl_key_file=<mounted key, mode 0600> in its "
           "command")
    if doc.meta.get("mounted_in") and not in_command(doc, "ssl"):
        # (the configuration file it mounts, advisor.loaders.mounts, where the server reads the rest)
        tls = (f"ssl = on, ssl_cert_file = '<mounted certificate>', ssl_key_file = '<mounted key, mode 0600>' "
               f"in {_file_said(doc)}")
    message = exposure_message(kind, published, off, login)
    if kind == "open":
        fix = f"{_open_fix(doc)}; and {publish} if only this host's clients connect, otherwise {tls} too"
    else:
        fix = f"{publish} if only this host's clients connect; otherwise {tls}"
    setting = doc.get("ssl")
    related = [where(doc, setting)] if setting is not None else []
    return RULE.finding(p["span"], message, fix, related)


def _file_said(doc) -> str:
    """The configuration file a container mounts, as a fix names it: its path, and the ConfigMap key
    it is read from when a ConfigMap embeds it."""
    key = doc.meta.get("key") if doc.meta.get("_configmap") else None
    return f"{doc.path} (ConfigMap {doc.meta['_configmap'][1]}, key {key})" if key else doc.path


# the cloud load balancers a Service of type LoadBalancer makes (a ClusterIP Service, a NAT or a
# firewall in front of the server takes no clients from outside)
LOAD_BALANCERS = ("cloud-lb", "aws-nlb", "aws-elb", "aws-alb", "azure-lb", "gcp-lb")


def _load_balancers_in_front(ctx) -> dict:
    """id(PostgreSQL document) -> the first middlebox hop right in front of its server on an
    assembled path (a Service of type LoadBalancer's cloud load balancer)."""
    out: dict = {}
    for path in ctx.paths:
        for i, hop in enumerate(path.hops[1:], start=1):
            front = path.hops[i - 1]
            if hop.kind == "postgres" and hop.doc is not None and front.span is not None and \
                    front.kind in LOAD_BALANCERS:
                out.setdefault(id(hop.doc), front)
    return out


def _behind_load_balancer(doc, front):
    """A PostgreSQL container without TLS whose Service of type LoadBalancer (a middlebox in front
    of it on an assembled path) takes clients from outside the cluster: the same risk as a compose
    port published on every interface, worded and fixed the same way."""
    off = _ssl_off(doc) if front is not None else None
    if off is None:
        return None
    kind, login = _login(doc)
    reached = f"{front.label} takes clients from outside the cluster"
    tls = "ssl=on with ssl_cert_file and ssl_key_file (-c flags in the container's args, files mounted)"
    if doc.meta.get("mounted_in") and not in_command(doc, "ssl"):
        # (the configuration file it mounts, advisor.loaders.mounts: a ConfigMap's postgresql.conf)
        tls = (f"ssl = on, ssl_cert_file = '<mounted certificate>', ssl_key_file = '<mounted key, mode 0600>' "
               f"in {_file_said(doc)}")
    message = exposure_message(kind, reached, off, login)
    fix = f"{_open_fix(doc)}; and {tls}" if kind == "open" else tls
    setting = doc.get("ssl")
    return RULE.finding(front.span, message, fix, [where(doc, setting)] if setting is not None else [])


RULE = Rule(
    code="TLS001",
    name="ssl-off",
    severity=Severity.INFO,
    summary="The server does not offer TLS",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
    security=True,
)
