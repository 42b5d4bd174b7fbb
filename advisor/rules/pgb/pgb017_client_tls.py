"""PgBouncer accepts clients without TLS on a network-facing listener.

## What it checks
`client_tls_sslmode` weaker than `require` (`disable`, the default, `allow` or `prefer`)
while `listen_addr` is not loopback-only (`*`, `0.0.0.0`, `::` or any non-loopback address).
With `listen_addr` empty PgBouncer listens on its Unix socket only and nothing is reported.

A PgBouncer container of a compose file (edoburu/pgbouncer, bitnami/pgbouncer) listens on
`0.0.0.0` inside its container: network clients reach it only through the ports the service
publishes on the host. With none published (or all on `127.0.0.1`), its clients are containers
of the same host and nothing is reported; with a port published on every interface (`6432:6432`,
no host IP) the finding names the `ports:` entry, since Docker's published ports are reachable
from the network even past a host firewall such as ufw.

A PgBouncer in a Kubernetes container (an image configured by its environment, or a
pgbouncer.ini mounted into one), and a pgbouncer.ini written for a container (`logfile =
/dev/stdout` or `/dev/stderr`: its log goes to the container runtime), listens on `*` inside its
container too: who reaches it is decided by how the container is published, which the file does
not say. Where every login is a challenge-response (`md5`, `scram-sha-256`) it is then reported
only when a Service of type LoadBalancer (or a cloud load balancer) on its path takes clients
from outside the cluster: unencrypted pod-to-pod traffic with md5 or SCRAM logins is the common
in-cluster setup, not a finding without that evidence. A method that asks no password or sends
it in clear text (`trust`, `any`, `plain`, `pam`, `ldap`), or an `auth_hba_file` pgpath does not
read, is reported all the same: any pod of the cluster then connects without a password, or
shows it to whoever watches the pod network.

A CloudNativePG `Pooler` listens on `*` inside its pods: clients outside the cluster reach it only
when its `serviceTemplate` makes the Service a `LoadBalancer` or `NodePort`, and only then is it
reported. The operator's defaults are `client_tls_sslmode = prefer` and `auth_type = hba` with a
pg_hba.conf that ends in `host all all 0.0.0.0/0 md5` (its config.go); the fix is the one
parameter, since the operator provides the certificate and key.

Not reported: `allow` or `prefer` (the two are one mode in PgBouncer, whose documentation
says prefer is "same as allow": TLS for every client that asks) when PgBouncer has its
certificate (`client_tls_key_file` and `client_tls_cert_file` set: without them it does not
start) and every method a network client can be given is a challenge-response — `auth_type` =
`md5` or `scram-sha-256`, or `auth_type = hba` with the operator's pg_hba.conf, all of whose lines
are md5 or scram-sha-256 (CloudNativePG's default Pooler). TLS is then offered; libpq and pgJDBC
ask for it by default (their `sslmode` default, `prefer`); and no login sends a password, so what
is left is a client that turns TLS off, which APP001 reports where that client is configured.
`disable` is reported whatever the method, and so is any of `disable`/`allow`/`prefer` with a
method that sends the password in clear text or asks none (`plain`, `pam`, `ldap`, `trust`,
`any`), with an `auth_hba_file` pgpath does not read (its lines may be `password` or `trust`),
or without a certificate.

## Why it matters
What crosses the network follows the effective `auth_type` (PgBouncer's documentation of
auth_type; the message says which applies):

- `trust`: no password is asked at all — anyone who reaches the port connects as any user that
  `auth_file` (or `auth_query`) knows, to any database `[databases]` serves. This is the bigger
  hole, said first, and its fix comes first; queries and results also cross unencrypted.
- `any`: no password and the user name is ignored — anyone connects as the user each database
  forces, and to the admin console as admin.
- `plain`, `pam`, `ldap`: PgBouncer asks the client for its password in clear text (PAM and LDAP
  need the password itself), so passwords cross the network readable, with queries and results.
- `md5`: queries and results cross unencrypted, and each login's md5 challenge-response can be
  captured and the password guessed from it offline (a user whose password is stored
  SCRAM-hashed logs in with SCRAM instead).
- `scram-sha-256`: queries and results cross unencrypted; passwords are not exposed.
- `hba`: each client gets the method of its `auth_hba_file` line (not read by pgpath): queries and
  results cross unencrypted for clients of `host` (not `hostssl`) lines, with the consequences
  above for their method.
- `cert` is not reported: a client certificate needs TLS, and PgBouncer refuses to start with
  `auth_type = cert` unless `client_tls_sslmode = verify-full` (reported on its own).

With `allow`/`prefer` a client that asks for TLS gets it, but nothing forces clients (or an
attacker in the middle) to ask. (Against an attacker in the middle only the client's own
`sslmode=verify-full` protects: the attacker answers in PgBouncer's place, whatever PgBouncer
requires; the server side decides what a client that asks no TLS sends to a passive listener.)

## Fix
`client_tls_sslmode = require` (or `verify-ca`/`verify-full` to demand client certificates),
with `client_tls_key_file` and `client_tls_cert_file`; or listen on loopback only (in compose:
publish the port on loopback, `127.0.0.1:6432:6432`). With `trust` or `any`, first
`auth_type = scram-sha-256` (with the users' SCRAM-hashed or plain passwords in `auth_file`): TLS
alone does not make anyone authenticate; with `plain`, `scram-sha-256` as well. A file that names
an `auth_hba_file` under another auth_type gets `auth_type = hba` instead: PgBouncer reads that
file only with `hba`, so its author's per-client rules are not in force.

Each fix is written where this PgBouncer's settings live (advisor.rules.pgb.assignment): ini
lines for a pgbouncer.ini; the image's variables for a container configured by its environment
(`CLIENT_TLS_SSLMODE=require, CLIENT_TLS_KEY_FILE=<key file>, CLIENT_TLS_CERT_FILE=<certificate
file> in its environment` for edoburu/pgbouncer, `PGBOUNCER_CLIENT_TLS_SSLMODE=...` for bitnami);
an operator's parameters for a Pooler.

## Example
```yaml
services:
  pgbouncer:
    image: edoburu/pgbouncer:v1.25.1-p0
    environment:
      - DATABASE_URL=postgres://app@postgres:5432/app
      - LISTEN_PORT=6432
    ports:
      - "6432:6432"        # published on every interface of the host, no TLS
```

## References
- PgBouncer: client_tls_sslmode — https://www.pgbouncer.org/config.html#client_tls_sslmode
- PgBouncer: auth_type — https://www.pgbouncer.org/config.html#auth_type
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.compose import (CLEAR_PASSWORDS, MD5_CAPTURED, UNENCRYPTED, exposure_message,
                                   publish_on_loopback, published_said, published_to_network)
from advisor.rules.pgb import CLIENT_TLS, assignment, assignments, bouncers, clients_over_network, source, where
from advisor.rules.rule import Rule

WEAK = ("disable", "allow", "prefer")
OFFERING = ("allow", "prefer")  # PgBouncer: prefer is "same as allow": TLS for every client that asks
CHALLENGE_RESPONSE = ("md5", "scram-sha-256")


def _login(model, operator_hba: str | None = None) -> tuple[str | None, str]:
    """What a network client's login exposes under the effective auth_type (PgBouncer's
    auth_type documentation, and client.c: plain, pam and ldap ask the client for its password in
    clear text): ("open", what anyone may do) when no password is asked, ("exposed", the
    consequence) otherwise, (None, "") when no client without TLS can log in."""
    auth = model.value("auth_type")
    said = source(model, "auth_type")
    if not is_known(auth):
        return "exposed", f"{UNENCRYPTED}; what a login exposes depends on auth_type, not known here"
    if auth == "trust":
        return "open", (f"{said} asks no password at all: anyone who reaches PgBouncer connects as any user "
                        "auth_file (or auth_query) knows, to any database [databases] serves")
    if auth == "any":
        return "open", (f"{said} asks no password and ignores the user name given: anyone who reaches PgBouncer "
                        "connects as the user each [databases] entry forces, and to the admin console as admin")
    if auth == "plain":
        return "exposed", f"with {said} {CLEAR_PASSWORDS}, and so do queries and results"
    if auth in ("pam", "ldap"):
        return "exposed", (f"with {said} {CLEAR_PASSWORDS} (PgBouncer asks for the password "
                           f"itself, to give it to {auth.upper()}), and so do queries and results")
    if auth == "md5":
        return "exposed", (f"{UNENCRYPTED}, and with {said} {MD5_CAPTURED} (a user whose password is stored "
                           "SCRAM-hashed logs in with SCRAM instead)")
    if auth == "scram-sha-256":
        return "exposed", f"{UNENCRYPTED} ({said} exposes no password)"
    if auth == "hba" and operator_hba:
        return "exposed", (f"{UNENCRYPTED}, and with {said} and the operator's pg_hba.conf ({operator_hba}) "
                           f"{MD5_CAPTURED} (a user whose password is stored SCRAM-hashed logs in with SCRAM instead)")
    if auth == "hba":
        hba = model.value("auth_hba_file")
        named = f" ({hba}, not read here)" if is_known(hba) and hba else ""
        return "exposed", (f"{UNENCRYPTED} for every client a host (not hostssl) line of auth_hba_file{named} "
                           f"accepts: with {said}, passwords too where its method is password, and no password "
                           "is asked where it is trust")
    if auth == "cert":
        # a client certificate needs TLS: no plaintext login; and PgBouncer refuses to start unless
        # client_tls_sslmode = verify-full, which the loader reports (auth_type=cert requires ...)
        return None, ""
    return "exposed", f"{UNENCRYPTED} ({said})"


def _authenticate(doc, model) -> str:
    """The auth_type that makes clients authenticate, in the syntax of the file that configures this
    PgBouncer (assignment): `hba` when the file already names an auth_hba_file (PgBouncer reads it
    only with auth_type = hba), else scram-sha-256."""
    hba = None if model.is_default("auth_hba_file") else model.value("auth_hba_file")
    if is_known(hba) and hba:
        return (f"{assignment(doc, model, 'auth_type', 'hba')}, so that the auth_hba_file it already names ({hba}, "
                "read only under hba) decides per client (scram-sha-256 or cert lines, hostssl for network clients)")
    return (f"{assignment(doc, model, 'auth_type', 'scram-sha-256')} (with the users' SCRAM-hashed or plain "
            "passwords in auth_file)")


def _offers_tls(model) -> bool:
    """PgBouncer has a certificate to offer: client_tls_key_file and client_tls_cert_file are
    known and set (without them PgBouncer 1.18 does not start with allow or prefer: "To allow TLS
    connections from clients, client_tls_key_file and client_tls_cert_file must be set.")."""
    return all(is_known(model.value(name)) and model.value(name)
               for name in ("client_tls_key_file", "client_tls_cert_file"))


def _hba_methods(hba: str) -> list[str]:
    """The method of each line of an operator's pg_hba text (`host all all 0.0.0.0/0 md5, ...`)."""
    return [line.split()[-1] for line in hba.split(",") if line.split()]


def _challenge_response(model, operator_hba: str | None) -> bool:
    """Every auth method a network client can get is a challenge-response (md5, scram-sha-256):
    auth_type itself, or with auth_type = hba every line of an hba text pgpath knows (the
    operator's); an auth_hba_file it does not read may hold anything."""
    auth = model.value("auth_type")
    if not is_known(auth):
        return False
    if auth in CHALLENGE_RESPONSE:
        return True
    if auth == "hba" and operator_hba:
        methods = _hba_methods(operator_hba)
        return bool(methods) and all(m in CHALLENGE_RESPONSE for m in methods)
    return False


def _unless_asked(mode: str) -> str:
    return "" if mode == "disable" else " for every client that does not ask for TLS"


def check(ctx):
    for doc, model in bouncers(ctx):
        mode, addr = model.value("client_tls_sslmode"), model.value("listen_addr")
        if not is_known(mode) or mode not in WEAK or not clients_over_network(model):
            continue
        operated = doc.meta.get("generated_by") == "cloudnative-pg"
        if operated and doc.meta.get("service_type") not in ("LoadBalancer", "NodePort"):
            continue  # the operator's ClusterIP Service: only the cluster's pods reach it
        operator_hba = doc.meta.get("operator_hba") if operated else None
        if mode in OFFERING and _offers_tls(model) and _challenge_response(model, operator_hba):
            # TLS offered to every client that asks (libpq's and pgJDBC's default, prefer, does),
            # and no login sends a password: what is left is a client that refuses TLS (corpus
            # audit 12, finding 8: CloudNativePG's default Pooler)
            continue
        kind, login = _login(model, operator_hba)
        if kind is None:
            continue
        if mode != "disable" and kind == "exposed":
            login = f"for every client that does not ask for TLS ({mode} offers it, requires nothing), {login}"
        auth_span = [] if model.is_default("auth_type") else [where(doc, model, "auth_type")]
        exposure = doc.meta.get("compose_exposure")
        if exposure is not None and exposure["network_mode"] != "host":
            finding = _published(doc, model, exposure, kind, login, auth_span)
            if finding is not None:
                yield finding
            continue
        if operated:
            yield _operated(doc, model, kind, login)
            continue
        container = _in_a_container(doc, model)
        balancer = _behind_a_load_balancer(ctx, doc) if container else None
        if container and balancer is None and _challenge_response(model, None):
            continue  # md5/SCRAM inside a container network, no evidence it is reached from outside
        reached = f"listen_addr = {addr} accepts network clients"
        if balancer is not None:
            reached = f"listen_addr = {addr} in its container takes the clients of {balancer.label}"
        tls = assignments(doc, model, CLIENT_TLS)
        spans = [where(doc, model, "client_tls_sslmode"), where(doc, model, "listen_addr")]
        if kind == "open":
            message = exposure_message(kind, reached, source(model, "client_tls_sslmode"), login, _unless_asked(mode))
            fix = f"{_authenticate(doc, model)}; and {tls}"
            spans = auth_span + spans
        else:
            message = exposure_message(kind, reached, source(model, "client_tls_sslmode"), login)
            fix = f"{tls}; and {_authenticate(doc, model)}" if model.value("auth_type") == "plain" else tls
            spans = spans + auth_span
        if balancer is not None and balancer.span is not None:
            spans.append(balancer.span)
        spans = list(dict.fromkeys(spans))
        yield RULE.finding(spans[0], message, fix, spans[1:])


# where a PgBouncer that runs in a container writes its log: the container runtime's
LOG_TO_RUNTIME = ("/dev/stdout", "/dev/stderr", "/proc/self/fd/1", "/proc/self/fd/2")


def _in_a_container(doc, model) -> bool:
    """This PgBouncer runs in a container whose publishing the file does not show: a Kubernetes
    container (its image known, no compose service: those have compose_exposure), or a pgbouncer.ini
    written for a container (its log goes to the runtime)."""
    if doc.meta.get("compose_exposure") is not None:
        return False
    if doc.meta.get("image"):
        return True
    logfile = model.value("logfile")
    return is_known(logfile) and str(logfile) in LOG_TO_RUNTIME


def _behind_a_load_balancer(ctx, doc):
    """The middlebox hop (a Service of type LoadBalancer, a cloud load balancer) through which a path
    reaches this PgBouncer, else None: clients from outside the cluster or host reach it."""
    from advisor.path.model import ENDPOINT_KINDS

    for path in ctx.paths:
        for i, hop in enumerate(path.hops):
            if hop.doc is doc and hop.kind == "pgbouncer":
                before = [h for h in path.hops[:i] if h.kind not in ENDPOINT_KINDS]
                if before:
                    return before[-1]
    return None


def _operated(doc, model, kind, login):
    """A CloudNativePG Pooler whose Service takes clients from outside the cluster: the operator
    writes the certificate and key, so the fix is the one parameter."""
    reached = f"the Pooler's Service of type {doc.meta['service_type']} takes clients from outside the cluster"
    weak = source(model, "client_tls_sslmode")
    if "client_tls_sslmode" in doc.meta.get("operator_settings", ()):
        weak += " (the operator's default)"
    message = exposure_message(kind, reached, weak, login, _unless_asked(model.value("client_tls_sslmode")))
    fix = assignment(doc, model, "client_tls_sslmode", "require") + " (the operator provides the certificate and key)"
    if kind == "open":
        fix = f"{_authenticate(doc, model)}; and {fix}"
    span = doc.meta.get("service_span") or where(doc, model, "client_tls_sslmode")
    return RULE.finding(span, message, fix, [where(doc, model, "client_tls_sslmode")])


def _published(doc, model, exposure, kind, login, auth_span):
    """A compose PgBouncer is reached from the network only through a port published on a
    non-loopback host address."""
    port = str(model.value("listen_port"))
    p = published_to_network(exposure, port)
    if p is None:
        return None
    tls = assignments(doc, model, CLIENT_TLS)
    publish = publish_on_loopback(p)
    published = published_said("PgBouncer's", port, p)
    message = exposure_message(kind, published, source(model, "client_tls_sslmode"), login,
                               _unless_asked(model.value("client_tls_sslmode")))
    if kind == "open":
        # no password at all is the bigger hole: its fix comes first, whoever the clients are
        fix = (f"{_authenticate(doc, model)}; and {publish} if only this host's clients connect, otherwise "
               f"{tls} too")
    else:
        also = f"; and {_authenticate(doc, model)}" if model.value("auth_type") == "plain" else ""
        fix = f"{publish} if only this host's clients connect; otherwise {tls}{also}"
    related = (where(doc, model, "client_tls_sslmode"), where(doc, model, "listen_addr"), *auth_span)
    return RULE.finding(p["span"], message, fix, tuple(dict.fromkeys(s for s in related if s != p["span"])))


RULE = Rule(
    code="PGB017",
    name="pgbouncer-client-tls-not-required",
    severity=Severity.INFO,
    summary="client_tls_sslmode weaker than require on a non-loopback listen_addr (prefer with a certificate and md5/SCRAM logins excepted)",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
    security=True,
)
