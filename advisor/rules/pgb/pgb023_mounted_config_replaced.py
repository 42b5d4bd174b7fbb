"""A file mounted where bitnami/pgbouncer deletes it at every start: the container exits, or the file never runs.

## What it checks
A bitnami/pgbouncer container (a compose service, a Kubernetes container) that runs the image's
setup (its entrypoint and command, `/opt/bitnami/scripts/pgbouncer/run.sh`, left as they are) and
mounts a file at `/opt/bitnami/pgbouncer/conf/pgbouncer.ini` or `.../userlist.txt`, or a folder
holding them at `/opt/bitnami/pgbouncer/conf`. The image's setup (libpgbouncer.sh
`pgbouncer_initialize`) starts with `rm -f "$PGBOUNCER_PID_FILE" "$PGBOUNCER_LOG_FILE"
"$PGBOUNCER_AUTH_FILE" "$PGBOUNCER_CONF_FILE"` (those two files in that folder), then copies the
files of `/bitnami/pgbouncer/conf/` over them and writes the ones not found there from its
variables (`PGBOUNCER_*`, `POSTGRESQL_USERNAME`, `POSTGRESQL_PASSWORD`):

- a file bind-mounted at that path is a mount point, which cannot be deleted (`rm: cannot remove
  ...: Device or resource busy`), and a read-only folder or a Kubernetes ConfigMap volume (always
  read-only, with or without `subPath`) refuses it (`Read-only file system`): the setup script
  runs under `set -o errexit`, so it stops there and the container exits before PgBouncer starts
  -> error;
- a writable folder loses the file, which is written again from the variables: PgBouncer runs
  the image's defaults and the variables, not the file (and the file is gone from the host
  folder) -> warning.

Either way the mounted file is no configuration a PgBouncer runs: the connection path leaves it
out, and where the container cannot start its settings are all unknown, so no path rule judges
the image's defaults as if they ran.

## Why it matters
The mounted file looks like the configuration, and is read as one in review: `pool_mode =
transaction`, `max_client_conn`, the `[databases]` entries. Mounted there, it either keeps the
pooler from starting at all (every client fails to connect) or is silently replaced by a file
made from the variables (session pooling, the image's pool sizes, a `[databases]` entry made
from `POSTGRESQL_HOST`), which behaves differently from what was written.

## Fix
Mount the file at `/bitnami/pgbouncer/conf/pgbouncer.ini` (and the auth file at
`/bitnami/pgbouncer/conf/userlist.txt`), the image's mounted configuration folder: its files
are copied to `/opt/bitnami/pgbouncer/conf` at every start and used as written, without the
variables (`pgbouncer_is_file_external`). A file the ini names by its `/opt/...` path
(`auth_file = /opt/bitnami/pgbouncer/conf/userlist.txt`) is then where the copy puts it.

## References
- bitnami/containers: bitnami/pgbouncer/1/debian-12/rootfs/opt/bitnami/scripts/libpgbouncer.sh
  (pgbouncer_initialize, pgbouncer_copy_mounted_config, pgbouncer_is_file_external),
  pgbouncer-env.sh (PGBOUNCER_CONF_FILE, PGBOUNCER_AUTH_FILE, PGBOUNCER_MOUNTED_CONF_DIR),
  pgbouncer/setup.sh and pgbouncer/entrypoint.sh (`set -o errexit`; setup only for run.sh)
  — https://github.com/bitnami/containers/tree/main/bitnami/pgbouncer
- Bitnami PgBouncer README, "Configuration file": https://github.com/bitnami/containers/blob/main/bitnami/pgbouncer/README.md
- unlink(2): EBUSY, "pathname cannot be unlinked because it is being used by the system or
  another process; for example, it is a mount point"; EROFS on a read-only file system
- Kubernetes: ConfigMap volumes are mounted read-only (since 1.9.4, CVE-2017-1002102)
"""

from advisor.findings import Severity
from advisor.rules.pgb import report
from advisor.rules.rule import Rule


def check(ctx):
    return report(RULE, ctx, "pgbouncer-config-replaced")


RULE = Rule(
    code="PGB023",
    name="pgbouncer-mounted-config-replaced",
    severity=Severity.ERROR,
    summary="A file mounted where bitnami/pgbouncer's setup deletes it at each start: the container exits, or the file never runs",
    needs=("pgbouncer",),
    check=check,
    doc=__doc__,
)
