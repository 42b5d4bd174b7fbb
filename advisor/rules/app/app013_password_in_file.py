"""A database password written literally in a client's connection settings.

## What it checks
Every client endpoint pgpath reads (advisor.loaders.clients) whose password is literal text in
the file: the user-info of a URL (`postgres://user:PASSWORD@host`, SQLAlchemy URLs), `password=`
in a libpq keyword string or a pg_service.conf entry, a JDBC URL's `password` parameter, Spring's
`<prefix>.datasource.password`, hikari.properties `password`, a Django `DATABASES` entry's
`PASSWORD`, `PGPASSWORD` beside the other `PG*` variables, node-postgres option objects, in any
file the client loaders read (`.env`, compose `environment:`, Kubernetes `env:`, properties, YAML,
JSON, TOML, ini, settings modules, service files).

A placeholder's default is written in the file too: `${DB_PASSWORD:s3cret}` (Spring),
`${DB_PASSWORD:-s3cret}` (compose), `os.environ.get("DB_PASSWORD", "s3cret")` (Django) are reported
like a literal password (the finding says it is the default of the variable), with the same
exemptions below; a host that is a placeholder's default counts as a host set at deploy.

Not reported, because the file does not hold a credential anyone would act on:
- a value the deploy fills: `${VAR}`, `$VAR`, `{{ }}`, `<%= %>`, `%(x)s`, Kubernetes `$(VAR)` and
  `valueFrom`/`secretKeyRef` (the loaders read these as unknown, or read no password), an empty
  password, and
  references a resolver replaces at start: `env:`, `file:`, `vault:`, `secret:`, `ssm:`, `sm://`,
  `op://`, jasypt `ENC(...)`, Spring Cloud Config `{cipher}`;
- a client whose every host is local: a Unix socket, `localhost`, `127.0.0.0/8`, `::1`,
  `0.0.0.0`, `*.localhost`, `host.docker.internal` (the developer's own machine), or no host
  (libpq, pgx and node-postgres then use the local socket or localhost; pgjdbc localhost);
- documentation hosts that resolve nowhere (RFC 2606 / RFC 6761): `example.com`, `example.net`,
  `example.org` and their subdomains, and the `.example`, `.test`, `.invalid` top-level names;
- an obvious local development credential: the password equals the user name or the database
  name (any case), or is one of the well-known defaults pgpath treats as development everywhere
  (`advisor.model.DEVELOPMENT_PASSWORDS`: `postgres`, `password`, `secret`, `changeme`, `example`,
  `test`, `pass`, `admin`, `root`, `dev`, `demo`, `docker`, `local`, `tiger` of `scott:tiger`,
  `mysecretpassword` of the postgres image's documentation, ...); or a placeholder: it contains
  `password`, `passwd`, `changeme`, `change_me`, `change-me`, `your`, `replace`, `placeholder` or
  `redacted` (a value scrubbed from a published copy), is written in `<angle>` or `[square]` brackets, or is one character repeated (`xxxxxx`);
- a file that git ignores (`git check-ignore`, asked only inside a work tree and only for a file
  holding a literal password): a `.env` kept out of the repository is where a password belongs.

Code that reads its URL from a variable the one container here sets is one client with that
container's value (advisor.loaders.clients.env_join; docs/clients.md): a password in that value
is reported at the variable, named with its container and the code that reads it, with the
container's remedy; one in the code's default URL (`os.environ.get("DATABASE_URL",
"postgresql://app:s3cret@db/app")`) is reported too, as the variable's default, although it runs
only where the variable is unset.

A file pgpath reads outside any git work tree (a downloaded copy, a corpus) is reported: nothing
shows it is kept out of a repository. A file whose name says it is an example to copy (`example`
or `sample` in it: `.env.example`) is reported with its own fix: whether the password is real or
made up, a placeholder belongs there, so that no copy runs with a published password. Like every
`info` finding, one on a file for development or tests (`docker-compose.dev.yml`,
`src/test/...`) is held back unless `--include-development` (advisor/development.py).

It is `info` by pgpath's severity contract (nothing fails: the credential works, which is the
problem) and tagged `security` in SARIF; `severity: {APP013: warning}` in pgpath.yaml makes it
fail a CI job. The password itself is never printed, in any output format: the finding names the
variable or key, the user and the host, and points at the place in the file.

## Why it matters
A password in a file the repository keeps is readable by everyone who can read the repository,
every clone, fork, CI log and backup of it, and it stays in the history after the line is
removed. Whoever has it can connect as that user wherever the server accepts connections from
(a managed database such as Neon, RDS or Cloud SQL often accepts them from the internet).
Removing the line does not help by itself: the password must be changed.

## Fix
Move the password out of the file, into what the file's format offers for values given at deploy:
- `.env`: keep the file out of the repository (`.gitignore`, `git rm --cached`) and have the
  platform set the variable (its secret or environment settings);
- docker-compose: `DATABASE_URL: ${DATABASE_URL}` with the value in an `env_file`/`.env` that is
  not committed, or a compose `secrets:` file;
- Kubernetes: a Secret, read with `valueFrom.secretKeyRef`;
- Spring: `spring.datasource.password=${DB_PASSWORD}` (the value from the environment or a secret
  store), and no `password` in the JDBC URL;
- Django: `"PASSWORD": os.environ["DB_PASSWORD"]`;
- libpq (pg_service.conf, keyword strings, URLs of libpq-based drivers): no password in the file;
  libpq reads `~/.pgpass` (mode 0600) or `PGPASSWORD` (so do pgx, node-postgres and asyncpg).

Then rotate the password (`ALTER ROLE <user> PASSWORD ...`, or the managed service's reset): the
old one stays in the repository's history.

## References
- PostgreSQL: The Password File — https://www.postgresql.org/docs/current/libpq-pgpass.html
- PostgreSQL: Environment Variables (PGPASSWORD) — https://www.postgresql.org/docs/current/libpq-envars.html
- Docker Compose: secrets — https://docs.docker.com/compose/how-tos/use-secrets/
- Kubernetes: Using Secrets as environment variables — https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables
- Spring Boot: Externalized Configuration — https://docs.spring.io/spring-boot/reference/features/external-config.html
- git check-ignore — https://git-scm.com/docs/git-check-ignore
- RFC 2606 / RFC 6761: reserved domain names — https://www.rfc-editor.org/rfc/rfc6761
"""

from __future__ import annotations

import os

from advisor import lazy_re
from advisor.findings import Severity
from advisor.model import is_development_password
from advisor.rules.app.common import endpoints, fallbacks
from advisor.rules.rule import Rule

PLACEHOLDER_WORDS = ("password", "passwd", "changeme", "change_me", "change-me", "your", "replace", "placeholder",
                     "redacted")
# references that a resolver replaces when the program starts (they are not the password)
REFERENCE_PREFIXES = ("env:", "file:", "vault:", "secret:", "ssm:", "sm://", "op://", "enc(", "{cipher}")
# what compose, shells, Jinja/Helm, ERB and configparser replace (a `$` before a digit or a
# second `$` is text: `$$` is compose's escape of one `$`)
INTERPOLATION = lazy_re.compile(r"\$\{|\$[A-Za-z_]|\$\([A-Za-z_]\w*\)|\{\{|\{%|<%|%\(\w+\)s")
LOCAL_NAMES = frozenset({"localhost", "::1", "0.0.0.0", "host.docker.internal", "ip6-localhost", "ip6-loopback"})
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
EXAMPLE_TLDS = ("example", "test", "invalid")
LIBPQ_READERS = ("libpq", "psycopg_pool", "pgx", "node-postgres")  # drivers that read PGPASSWORD and ~/.pgpass


def check(ctx):
    for doc, ep in [*endpoints(ctx), *fallbacks(ctx)]:
        pw = ep.password
        home = doc.meta.get("_runs_in", {}).get(id(ep))  # code that reads its URL from a container's variable
        read = doc.meta.get("_env_reads", {}).get(id(ep)) if home is not None else None
        if not _literal(pw) or (home or doc).meta.get("_git_ignored") is True:
            continue
        text = pw.value.strip()
        if _development(text, ep) or _not_a_password(text):
            continue
        kinds = [_host_kind(h) for h in ep.hosts]
        if not kinds or not any(k in ("remote", "deploy") for k in kinds):
            continue  # every host local or a documentation name
        user = ep.user.display if ep.user is not None and ep.user.known and ep.user.value else None
        place = _place(doc, ep, pw)
        if pw.assumed:  # `${DB_PASSWORD:s3cret}`: written here as the default, used wherever the variable is unset
            place += f", as the default of {pw.assumed}"
        who = f"{ep.who()} ({ep.driver_said()})"
        if read is not None:  # the password is in the container's value, where the message points
            code = os.path.normpath(doc.path)
            who = f"{read['variable']} of {read.get('set_by', 'its container')} (read by {ep.name} in {code}; {ep.driver})"
        message = (f"{who} to {_hosts(ep)}: the password of "
                   f"{'user ' + user if user else 'its user'} is written in this file ({place}): everyone who can "
                   f"read the repository, a clone or its history has it")
        rotate = (f"(ALTER ROLE {user or '<user>'} PASSWORD ..., or the managed service's reset), since the one "
                  f"written here stays in the repository's history")
        if _example_file((home or doc).path):
            message += "; an example file hands it to everyone who copies the file"
            fix = (f"write a placeholder instead (<password>), so that no copy runs with a published password; "
                   f"if it is a real password, rotate it {rotate}")
        else:
            fix = (f"move it out of the file: {_mechanism(home, ep, pw, read['variable'])}" if read is not None
                   else f"move it out of the file: {_mechanism(doc, ep, pw)}") + f"; then rotate it {rotate}"
        yield RULE.finding(pw.span or ep.span, message, fix)


def _example_file(path: str) -> bool:
    """`.env.example`, `config.sample.yml`, `configuration_example.py`: a file published to be copied."""
    name = os.path.basename(path).lower()
    return "example" in name or "sample" in name


def _literal(pw) -> bool:
    return (pw is not None and pw.origin in ("set", "env") and pw.known and isinstance(pw.value, str)
            and pw.value.strip() != "")


def _development(text: str, ep) -> bool:
    """The user's name, the database's name, or a well-known default (advisor.model)."""
    names = [v.value for v in (ep.user, ep.dbname) if v is not None and v.known and isinstance(v.value, str)]
    return is_development_password(text, None) or any(is_development_password(text, name) for name in names)


def _not_a_password(text: str) -> bool:
    """A placeholder or a reference that something replaces before the password is used."""
    low = text.lower()
    if any(w in low for w in PLACEHOLDER_WORDS) or low.startswith(REFERENCE_PREFIXES):
        return True
    if INTERPOLATION.search(text):
        return True
    if (low[0], low[-1]) in (("<", ">"), ("[", "]")):
        return True
    return len(set(low)) == 1


def _host_kind(h) -> str:
    """local | example | deploy (not known before deploy) | remote. A placeholder's default
    (`${DB_HOST:localhost}`) is a host set at deploy: its default is what a developer runs with."""
    if not h.known or h.assumed:
        return "deploy"
    if h.origin in ("default", "os-default"):
        return "local"
    name = str(h.value).strip().lower()
    if not name or name.startswith(("/", "@")):
        return "local"
    name = name.strip("[]").rstrip(".")
    if name in LOCAL_NAMES or name.startswith("127.") or name.endswith(".localhost"):
        return "local"
    if name in EXAMPLE_DOMAINS or name.endswith(tuple("." + d for d in EXAMPLE_DOMAINS)) \
            or name.rsplit(".", 1)[-1] in EXAMPLE_TLDS or "<" in name:
        return "example"
    return "remote"


def _hosts(ep) -> str:
    shown = []
    for h in ep.hosts:
        kind = _host_kind(h)
        if kind == "remote":
            shown.append(h.display)
        elif kind == "deploy" and h.assumed:
            shown.append(f"a host set at deploy ({h.assumed}, default {h.display})")
        elif kind == "deploy":
            shown.append(f"a host set at deploy ({h.display})")
    db = f"/{ep.dbname.display}" if ep.dbname is not None and ep.dbname.known and ep.dbname.value else ""
    return ",".join(shown) + db


def _inside(inner, outer) -> bool:
    if inner is None or outer is None or inner.line is None or outer.line is None:
        return False
    end_line = outer.end_line or outer.line
    return outer.line <= inner.line <= end_line and (inner.line != outer.line or (inner.col or 0) >= (outer.col or 0))


def _place(doc, ep, pw) -> str:
    """Where in the file the password is, by the names the file uses (never its text)."""
    if pw.key == "PGPASSWORD":
        return "PGPASSWORD"
    if ep.driver == "django":
        return "its PASSWORD entry"
    if ep.form == "service":
        return "the password line of the service"
    if ep.driver == "pgjdbc" and not _inside(pw.span, ep.span):
        return f"{ep.name}.password" if ep.name != "hikari" else "the password property"
    if ep.driver == "pgjdbc":
        return "the password parameter of its JDBC URL"
    if ep.form in ("uri", "sqlalchemy"):
        return "the user-info of its URL"
    if ep.form == "keyword":
        return "the password keyword of its connection string"
    return "its password setting"


def _section(doc, line) -> str:
    """The environment block of the variable on `line` (`services.web.environment`,
    `spec.template.spec.containers.0.env`), else ""."""
    for s in doc.settings:
        if s.section and s.span is not None and s.span.line == line:
            return s.section
    for s in doc.settings:
        if s.section and s.value_span is not None and s.value_span.line == line:
            return s.section
    return ""


def _mechanism(doc, ep, pw, variable: str | None = None) -> str:
    """How the file gives the password at deploy instead; `variable` when `ep` is code reading its URL
    from a container's variable, and `doc` the container's file, where the password is."""
    if pw.assumed and pw.assumed.startswith("${"):
        return f"write {pw.assumed} with no default, and give the value at deploy (the environment or a secret store)"
    if pw.assumed and ep.driver == "rails":
        return f'read {pw.assumed} with no default (<%= ENV["{pw.assumed}"] %>), and give the value at deploy'
    if pw.assumed:
        return f'read {pw.assumed} with no default (os.environ["{pw.assumed}"]), and give the value at deploy'
    fmt = doc.meta.get("format")
    var = pw.key if pw.key == "PGPASSWORD" else variable or ep.name
    line = pw.span.line if variable and pw.span is not None else ep.span.line
    section = _section(doc, line) if ep.service else ""
    if fmt == "env":
        return (f"keep {os.path.basename(doc.path)} out of the repository (list it in .gitignore, "
                f"git rm --cached it) and have the deploy set {var} (the hosting platform's protected "
                f"environment variables)")
    if ep.service and section.startswith("services."):
        return (f"set {var} to ${{{var}}} in the compose file and give the value from an env_file or .env that is "
                f"not committed, or from a file mounted through Compose Secrets")
    if ep.service:
        return f"take {var} from a Kubernetes Secret, referenced from the container's env (valueFrom)"
    if ep.driver == "rails":
        return (f'write <%= ENV["DATABASE_PASSWORD"] %> as the password under {ep.name} of database.yml instead of the '
                f'password written there (or leave it out: libpq then reads ~/.pgpass or PGPASSWORD)')
    if ep.driver == "django":
        return ('write "PASSWORD": os.environ["DB_PASSWORD"] (or leave it out: libpq then reads ~/.pgpass or '
                'PGPASSWORD)')
    if ep.form == "service":
        return ("remove the password line; libpq reads the password from ~/.pgpass (mode 0600) or PGPASSWORD, "
                "kept outside the repository")
    if ep.driver == "pgjdbc" and "datasource" in ep.name.lower():
        in_url = _inside(pw.span, ep.span)
        return (f"set {ep.name}.password to ${{DB_PASSWORD}} (given by the environment, a Kubernetes Secret "
                f"or Spring Cloud Vault)" + (", and remove the password parameter from the JDBC URL"
                                                    if in_url else ""))
    if ep.driver == "pgjdbc":
        return "give the password at start from the environment or a vault (HikariConfig.setPassword)"
    if ep.driver in LIBPQ_READERS or (ep.driver == "sqlalchemy" and ep.dbapi in (
            "psycopg", "psycopg2", "psycopg_async", "psycopg2cffi", "asyncpg")):
        return (f"remove the password from {var}; the driver reads it from PGPASSWORD or ~/.pgpass (mode 0600), "
                f"kept outside the repository")
    return f"build {var} at start from an environment variable or a vault"


RULE = Rule(
    code="APP013",
    name="password-in-file",
    severity=Severity.INFO,
    summary="A database password written literally in a client's connection settings",
    needs=("client",),
    check=check,
    doc=__doc__,
    security=True,
)
