"""A user of PgBouncer's auth_file whose secret auth_type cannot log in with: every login of that user fails.

## What it checks
The auth_file a pgbouncer.ini names (userlist.txt: `"user" "secret"` lines), when it is among the
files given to check: a relative path from PgBouncer's working directory (`pgbouncer_cwd`) or
the ini's folder; an absolute one inside the checked tree, else the file of that name beside the
ini (the repository's copy that the deploy installs there, said so). Only the kind of each
user's secret is read, as PgBouncer classifies it (src/scram.c get_password_type): an md5 hash
(`md5` and 32 lower-case hex digits), a SCRAM-SHA-256 secret, a plain password, or empty. The
secret itself is never kept or shown. For each user, against `auth_type`:

- `scram-sha-256` and an md5 hash: PgBouncer cannot run SCRAM from an md5 hash; it logs `SCRAM
  authentication failed: user has MD5 secret` and the client gets `FATAL: SASL authentication
  failed` -> error;
- `md5`, `scram-sha-256` or `plain` and an empty secret: PgBouncer refuses every password login
  of a user whose stored password is empty (check_client_passwd: "disallow empty passwords") ->
  error.

- a line PgBouncer cannot read (a `#` comment: only `;` starts one; an entry without its
  quotes): it logs `broken auth file` and loads nothing after it, so the users named below it
  cannot log in -> error at that line, when no `auth_user` could look them up instead.

Not reported, because PgBouncer logs these users in: `md5` with a SCRAM secret (PgBouncer asks
the client for SCRAM instead), plain passwords with either. An md5 hash computed with another
user name (md5 of password + user name) is refused too, but cannot be told from the hash
without the password. `auth_type = hba` (a method per rule) is not checked here.

## Why it matters
The error is per user, on every login: the applications that connect as that user cannot
connect at all through this PgBouncer, and its admin console refuses a listed admin the same
way. PgBouncer starts normally and says nothing until a client tries.

Lab (tests/lab/test_lab_auth_file.py), PgBouncer 1.18, libpq with the right password: auth_type
scram-sha-256 with an md5 secret is refused (`SASL authentication failed`; PgBouncer's log:
`SCRAM authentication failed: user has MD5 secret`), an empty secret with md5 or scram-sha-256
is refused; md5 with a SCRAM secret, md5 with an md5 secret, plain secrets with either, and
scram-sha-256 with a SCRAM secret log in. An md5 secret of another user name is refused
(`password authentication failed`). A `# ...` line above a user's entry: `broken auth file` in
PgBouncer's log (read again on SIGHUP), and that user is refused.

## Fix
Put the user's SCRAM secret in the auth_file (`"app" "SCRAM-SHA-256$4096:..."`, what `SELECT
rolpassword FROM pg_authid WHERE rolname = 'app'` shows once the role's password was set with
`password_encryption = scram-sha-256`), or its plain password, or let `auth_query` look it up
(with `auth_user`); or `auth_type = md5`, which logs md5 users in with md5 and SCRAM users with
SCRAM. An empty secret: write the password, or remove the line. A broken line: `;` for a comment.

## References
- PgBouncer auth_file format and auth_type: https://www.pgbouncer.org/config.html#authentication-file-format
- PgBouncer source: src/loader.c load_auth_file, src/scram.c get_password_type, src/client.c
  (check_client_passwd, scram_client_first)
"""

from advisor.findings import Severity
from advisor.model import is_known
from advisor.rules.pgb import assignment, bouncers, where
from advisor.rules.rule import Rule

REFUSED_BY = {"scram-sha-256": "SASL authentication failed", "md5": "password authentication failed",
              "plain": "password authentication failed"}


def check(ctx):
    for doc, model in bouncers(ctx):
        auth, users = model.value("auth_type"), model.auth_file
        if users is None or not is_known(auth) or str(auth).lower() not in REFUSED_BY:
            continue
        auth = str(auth).lower()
        shown = users.path + (f" ({users.how})" if users.how else "")
        related = [where(doc, model, "auth_type"), where(doc, model, "auth_file")]
        if users.broken is not None and users.lost and not model.value("auth_user"):
            names = ", ".join(users.lost)
            yield RULE.finding(
                users.broken,
                f"PgBouncer stops reading {shown} at this line (it logs \"broken auth file\": an entry starts with "
                f"a double quote, and only a line starting with ; is a comment), so the users after it are not "
                f"loaded ({names}) and every login as them fails (FATAL: {REFUSED_BY[auth]})",
                "start a comment with ; (not #), or fix the line: \"user\" \"secret\"",
                related)
        for user in users.users:
            if auth == "scram-sha-256" and user.kind == "md5":
                yield RULE.finding(
                    user.span,
                    f'auth_type = scram-sha-256 and the secret of "{user.name}" in {shown} is an md5 hash: PgBouncer '
                    f"cannot run SCRAM from an md5 hash (it logs \"SCRAM authentication failed: user has MD5 "
                    f"secret\"), so every login as {user.name} fails (FATAL: {REFUSED_BY[auth]})",
                    f'the SCRAM secret of {user.name} in the auth_file ("{user.name}" "SCRAM-SHA-256$4096:...", as '
                    f"SELECT rolpassword FROM pg_authid WHERE rolname = '{user.name}' shows once the role's password "
                    f"is stored as SCRAM, PostgreSQL's default from 14), or its plain password; or "
                    f"{assignment(doc, model, 'auth_type', 'md5')} (md5 users then log in with md5, SCRAM users "
                    "with SCRAM)",
                    related)
            elif user.kind == "empty":
                yield RULE.finding(
                    user.span,
                    f'the secret of "{user.name}" in {shown} is empty: with auth_type = {auth} PgBouncer refuses '
                    f"every login of a user whose stored password is empty, so every login as {user.name} fails "
                    f"(FATAL: {REFUSED_BY[auth]})",
                    f"write {user.name}'s password or SCRAM secret between the second pair of quotes, or remove the "
                    "line",
                    related)


RULE = Rule(
    code="PGB022",
    name="pgbouncer-auth-file-secret-refused",
    severity=Severity.ERROR,
    summary="An auth_file user whose secret auth_type cannot log in with (md5 hash under scram-sha-256, empty)",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
