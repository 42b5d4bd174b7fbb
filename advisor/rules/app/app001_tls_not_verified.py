"""A client that does not use TLS, or uses it without verifying the server.

## What it checks
The effective `sslmode` of every client endpoint (libpq strings and URIs, `PGSSLMODE`, Django
`OPTIONS`, SQLAlchemy URLs, pgx DSNs, pgjdbc URLs, node-postgres `ssl`):
- `disable`, `allow`, `prefer` (libpq's and pgjdbc's default when nothing is set): no TLS, or TLS
  only when the server offers it, never verified; node-postgres without `ssl` uses no TLS at all;
- `require` with no `sslrootcert`: libpq encrypts but does not check the certificate, unless a
  root CA file exists at `~/.postgresql/root.crt`, in which case libpq verifies like `verify-ca`
  (this cannot be seen from the configuration, so the finding says so); pgjdbc's `require` never
  verifies (non-validating factory).

Only clients that name a host reached over a network are checked: an IP address or a name with a
domain (`db.internal`, `x.rds.amazonaws.com`). Unix sockets, loopback and bare names (`postgres`:
a compose service or a Kubernetes service of the same namespace) are skipped — nothing in the file
shows the traffic leaving the machine or cluster. Unknown values (`${PGSSLMODE}`) are not guessed.

SQLAlchemy with asyncpg (`postgresql+asyncpg://`) is told in asyncpg's terms: SQLAlchemy passes
the URL's query to `asyncpg.connect()`, whose argument is `ssl=<mode>` (default `prefer`, or
`PGSSLMODE`); its `require` verifies like `verify-ca` only when `PGSSLROOTCERT` or
`~/.postgresql/root.crt` gives a CA, and it takes no `sslrootcert` argument. A libpq
`sslmode=` in such a URL is no asyncpg argument (the connection fails with a TypeError before
any TLS), so it is not judged here. `asyncpg.connect()` called in code (a plain connection) is
told in the same terms, with what it reads itself: `ssl=` (`True`: a default SSL context, which
verifies; a mode name), else its DSN's `sslmode` and `sslrootcert`, which asyncpg's own DSN parser
takes (a `require` with an `sslrootcert` verifies like `verify-ca`: not reported).
The `PG*` variables of a container whose code is not read (a compose service's `environment:`,
a Kubernetes container's `env:`) name no driver: libpq, node-postgres, pgx and asyncpg all read
them, with their own defaults (node-postgres, pg's `readSSLConfigFromEnvironment`: no TLS without
`PGSSLMODE`, and `prefer` or `require` read as `ssl: true`, which verifies). The finding says
"driver unknown" and what each makes of `PGSSLMODE`, and its fix is the variable; when the code
that runs there is read (node-postgres with the container's environment), the variables are that
client's settings and it is judged as such.
`sslmode=require` where no evidence names the program that reads it — a bare URL in a `.env` file,
a container's environment or a YAML value, or `PGSSLMODE=require` among a container's `PG*`
variables, with no code read that uses them — is not reported: whether `require` verifies is
that program's choice (libpq, pgx, asyncpg and pgjdbc do not verify; node-postgres 8 reads it as
`ssl: true` and verifies against Node's CA store), and the connection is encrypted either way.
Where the code that reads the variable is read and joined with it (advisor.loaders.clients.env_join,
node_env), the client is judged as that driver. A weaker mode (`disable`, `allow`, `prefer`,
unset) is reported whoever reads it: libpq and the drivers that follow it then send plaintext
when the server (or whoever answers in its place) offers no TLS, and node-postgres uses no TLS at
all unless `prefer` is written (which it reads as `ssl: true`).
An explicit weak sslmode and an unset one (which what the file leaves open may still decide where
the program runs: libpq reads `PGSSLMODE`; a service file's entry gives only what the caller's
connection string does not) are the same exposure, reported alike.

Like every exposure (plaintext, no authentication, an unverified server) it is `info` by pgpath's
severity contract: nothing fails. It is tagged `security` in SARIF; `severity: {APP001: warning}`
in pgpath.yaml makes it fail a CI job. When the server on the path does not offer TLS and the
client requires it, the connection fails: that is PATH004, an error.

## Why it matters
Without verification anyone on the path (a proxy, a compromised load balancer, ARP spoofing) can
present any certificate and read the password exchange and the data. With `prefer`, a server
whose TLS configuration fails (lab row S3: no common TLS version) silently gets a plaintext
connection.

## Fix
`sslmode=verify-full` with `sslrootcert=<CA file>` (libpq 16+: `sslrootcert=system` uses the OS
trust store and implies verify-full); pgjdbc `sslmode=verify-full`; node-postgres
`ssl: { rejectUnauthorized: true, ca: ... }`; SQLAlchemy with asyncpg `ssl=verify-full` with the
CA in `PGSSLROOTCERT` or `~/.postgresql/root.crt`, or an `ssl.SSLContext` in `connect_args`.

## References
- libpq SSL support: https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION
- pgjdbc SSL: https://jdbc.postgresql.org/documentation/ssl/
- asyncpg connect(ssl=...): https://magicstack.github.io/asyncpg/current/api/index.html#asyncpg.connection.connect
- reference: connection-timeouts.md §6.1 (sslmode, `require` + root CA), §7 (prefer falls back)
"""

from advisor.findings import Severity
from advisor.rules.app.common import crosses_a_network, endpoints, libpq_keys, unix_only, where
from advisor.rules.rule import Rule


ASYNCPG_FIX = ("ssl=verify-full in the URL, with the CA in PGSSLROOTCERT or ~/.postgresql/root.crt (asyncpg.connect() "
               "takes no sslrootcert), or connect_args={\"ssl\": ssl.create_default_context(cafile=<CA file>)}")


ASYNCPG_CONNECT_FIX = ("ssl=\"verify-full\" in asyncpg.connect() (or create_pool()), with the CA in sslrootcert=<CA file> in its DSN, "
                       "PGSSLROOTCERT or ~/.postgresql/root.crt; or ssl=ssl.create_default_context(cafile=<CA file>)")


def _asyncpg(ep) -> bool:
    return ep.driver == "asyncpg" or (ep.driver == "sqlalchemy" and ep.dbapi == "asyncpg")


def _asyncpg_finding(span, who, mode, unset, plain=False):
    """asyncpg's own terms: its `ssl` argument, its default, where it takes a CA from
    (asyncpg connect_utils._parse_connect_dsn_and_args)."""
    value = str(mode.value)
    if value in ("disable", "allow", "prefer"):
        what = {"disable": "no TLS at all",
                "allow": "plaintext first, TLS only if the server insists, never verified",
                "prefer": "TLS only if the server offers it, certificate never verified, plaintext fallback"}[value]
        head = (f"ssl not set: asyncpg defaults to {value} (PGSSLMODE where it is set)" if unset else f"ssl={value}")
        if plain and mode.key == "sslmode":
            head = f"sslmode={value}"
        return RULE.finding(span, f"{who}: {head} ({what})", ASYNCPG_CONNECT_FIX if plain else ASYNCPG_FIX)
    if value == "require" and plain:
        return RULE.finding(span, f"{who}: {mode.key or 'ssl'}=require encrypts but asyncpg does not verify the server "
                                  "certificate unless sslrootcert, PGSSLROOTCERT or ~/.postgresql/root.crt gives it a "
                                  "CA, in which case it verifies like verify-ca", ASYNCPG_CONNECT_FIX)
    if value == "require":
        return RULE.finding(span, f"{who}: ssl=require encrypts but asyncpg does not verify the server certificate "
                                  "unless PGSSLROOTCERT or ~/.postgresql/root.crt gives it a CA, in which case it "
                                  "verifies like verify-ca (SQLAlchemy passes the URL's query to asyncpg.connect(), "
                                  "which takes no sslrootcert)", ASYNCPG_FIX)
    return None


# PG* variables whose reader is not known (driver "url", form "env"): each driver's reading of PGSSLMODE
PG_ENV_FIX = ("PGSSLMODE=verify-full in its environment (with PGSSLROOTCERT=<CA file> for libpq, pgx and asyncpg; "
              "node-postgres verifies against Node's CA store)")
_PG_ENV_SAID = {
    None: ("PGSSLMODE not set: libpq, pgx and asyncpg then use prefer (TLS only if the server offers it, certificate "
           "never verified, plaintext fallback), node-postgres no TLS at all"),
    "disable": "PGSSLMODE=disable: no TLS at all, whichever driver reads it",
    "allow": ("PGSSLMODE=allow: libpq, pgx and asyncpg send plaintext first (TLS only if the server insists, never "
              "verified), node-postgres uses no TLS at all"),
    "prefer": ("PGSSLMODE=prefer: libpq, pgx and asyncpg use TLS only if the server offers it and never verify the "
               "certificate (node-postgres reads it as ssl: true, which verifies)"),
}


def _pg_env_unknown_driver(ep, mode):
    """PG* variables of a container whose code is not read: libpq, node-postgres, pgx and asyncpg all
    read them, each with its own defaults (node-postgres: pg's readSSLConfigFromEnvironment); the
    finding says what each makes of them rather than assert libpq's."""
    value = None if mode.origin == "default" or not mode.known else str(mode.value)
    said = _PG_ENV_SAID.get(value)
    if said is None:
        return None
    return RULE.finding(where(mode, ep) if mode.span is not None else ep.span,
                        f"{ep.who()} ({ep.driver_said()}) to {ep.target()}: {said}", PG_ENV_FIX)


def check(ctx):
    for doc, ep in endpoints(ctx):
        mode = ep.sslmode
        if mode is not None and ep.driver == "url" and ep.form == "env" and not unix_only(ep) \
                and crosses_a_network(ep):
            finding = _pg_env_unknown_driver(ep, mode)
            if finding is not None:
                yield finding
            continue
        if mode is None or not mode.known or unix_only(ep) or not crosses_a_network(ep):
            continue
        if _asyncpg(ep):
            plain = ep.driver == "asyncpg"
            if mode.key == "sslmode" and not plain:
                continue  # libpq's name, no argument of asyncpg.connect(): the connection fails first (TypeError)
            if plain and ep.sslrootcert is not None and str(mode.value) == "require":
                continue  # a CA given: verified like verify-ca
            label = "asyncpg" if plain else "sqlalchemy+asyncpg"
            finding = _asyncpg_finding(where(mode, ep), f"{ep.who()} ({label}) to {ep.target()}", mode,
                                       mode.origin == "default", plain)
            if finding is not None:
                yield finding
            continue
        value = str(mode.value)
        span = where(mode, ep)
        unset = mode.origin == "default"
        fix = ("sslmode=verify-full and sslrootcert=<CA file> (libpq 16+: sslrootcert=system)"
               if ep.driver != "node-postgres" else "ssl: { rejectUnauthorized: true, ca: <CA certificate> }")
        if ep.driver in ("django", "sqlalchemy", "rails") or (ep.driver == "libpq" and ep.dbapi):  # where its file keeps libpq's keys
            fix = (libpq_keys(ep, (("sslmode", "verify-full"), ("sslrootcert", "<CA file>")))
                   + " (libpq 16+: sslrootcert may be system, the OS's CA store)")
        if ep.driver == "pgjdbc":
            fix = "sslmode=verify-full in the JDBC URL (with sslrootcert=<CA file> unless the default ~/.postgresql/root.crt)"
        who = f"{ep.who()} ({ep.driver_said()}) to {ep.target()}"
        if value in ("disable", "allow", "prefer"):
            what = {
                "disable": "no TLS at all",
                "allow": "plaintext first, TLS only if the server insists, never verified",
                "prefer": "TLS only if the server offers it, certificate never verified, plaintext fallback",
            }[value]
            if ep.driver == "node-postgres" and unset:
                head = "node-postgres without `ssl` uses no TLS"
            elif unset and ep.driver_assumed:
                yield RULE.finding(span, f"{who}: sslmode not set: libpq defaults to {value} ({what}); node-postgres, "
                                         "if it is the program that reads this URL, uses no TLS at all", fix)
                continue
            elif unset:
                lib = "pgjdbc" if ep.driver == "pgjdbc" else "libpq"
                head = f"sslmode not set: {lib} defaults to {value}"
            else:
                head = f"sslmode={value}"
            yield RULE.finding(span, f"{who}: {head} ({what})", fix)
        elif value == "require":
            root = ep.sslrootcert
            if ep.driver == "pgjdbc":
                yield RULE.finding(span, f"{who}: sslmode=require encrypts but pgjdbc never verifies the server "
                                         "certificate in this mode (non-validating factory)", fix)
            elif ep.driver == "node-postgres":
                yield RULE.finding(span, f"{who}: ssl.rejectUnauthorized=false encrypts but accepts any server "
                                         "certificate", fix)
            elif root is None and not ep.driver_assumed:
                yield RULE.finding(span, f"{who}: sslmode=require encrypts but does not verify the server certificate "
                                         "unless a root CA file exists (~/.postgresql/root.crt), in which case libpq "
                                         "verifies like verify-ca; no sslrootcert is set here", fix)


RULE = Rule(
    code="APP001",
    name="client-tls-not-verified",
    severity=Severity.INFO,
    summary="A client connects without TLS or without verifying the server certificate",
    needs=("client",),
    check=check,
    doc=__doc__,
    security=True,
)
