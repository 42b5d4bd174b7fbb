"""The database host lets the kernel overcommit memory (`vm.overcommit_memory` is not 2).

## What it checks
A sysctl file (sysctl.d, tuned profile, saptune note) of a PostgreSQL server's host — beside its
configuration, or in the same copy of the host's file system (`db-host/etc/sysctl.d/` for
`db-host/etc/postgresql/16/main/`), with or without a topology naming the server's host — which sets `vm.overcommit_memory` to 0 (heuristic overcommit, the kernel's
default) or 1 (always overcommit). A sysctl file on no server's host is not reported. The rule only speaks when the file sets the key: an absent key is the
kernel's default, and pgpath cannot tell that the host is dedicated to the database from nothing.

## Why it matters
With overcommit, allocations succeed until memory is really touched; when it runs out, the OOM
killer picks a process and sends SIGKILL. If that is a backend, the postmaster restarts every
session (`server closed the connection unexpectedly` for all clients at once); if it is the
postmaster, the server is gone. With `vm.overcommit_memory = 2` an allocation that does not fit
fails instead: that one query gets `out of memory` and everything else carries on. The
PostgreSQL documentation recommends mode 2 on a dedicated database server.

It is **info**: overcommit only turns a memory shortage into a crash; the shortage itself is
MEM001's business. On a host that also runs other software (or containers: `vm.*` is not
namespaced), mode 2 may make that software fail, which is why this is advice, not a warning.

## Fix
`vm.overcommit_memory = 2` with `vm.overcommit_ratio` set so that swap + ratio% of RAM covers
what the server needs (often 80-90 on a host without swap), or protect the postmaster at least
(`OOMScoreAdjust=-1000`, SYS003).

## References
- PostgreSQL: Linux Memory Overcommit — https://www.postgresql.org/docs/current/kernel-resources.html#LINUX-MEMORY-OVERCOMMIT
- Linux: overcommit accounting — https://www.kernel.org/doc/html/latest/mm/overcommit-accounting.html
"""

from advisor.findings import Severity
from advisor.model import Span, is_known
from advisor.rules.rule import Rule, listed

MODES = {0: "heuristic overcommit, the kernel's default", 1: "always overcommit"}


def check(ctx):
    # the host facts each server ended up with (a later sysctl file beside it wins), grouped by
    # the line that set vm.overcommit_memory: one finding per line, naming its servers
    # (only a fact a sysctl document of the run gave: a server's host is judged with its file)
    read = {id(d.model.get("overcommit_memory")) for d in ctx.of_kind("sysctl") if d.model is not None}
    by_fact: dict[int, tuple] = {}
    for pg in ctx.of_kind("postgresql"):
        fact = pg.host.get("overcommit_memory") if pg.host is not None else None
        if fact is None or id(fact) not in read or not is_known(fact.value) or fact.value == 2 or fact.span is None:
            continue
        _, on = by_fact.setdefault(id(fact), (fact, []))
        if pg.path not in on:
            on.append(pg.path)
    for fact, on in by_fact.values():
        yield RULE.finding(
            fact.span,
            f"vm.overcommit_memory = {fact.value} ({MODES.get(fact.value, 'overcommit')}) on the host of "
            f"{listed(on)}: when memory runs out the OOM killer SIGKILLs a process "
            "(a backend: every session is reset; the postmaster: the server is gone) instead of one allocation "
            "failing",
            "vm.overcommit_memory = 2 and vm.overcommit_ratio = 80 (so that swap + 80% of RAM covers the server; "
            "on a dedicated database host)",
            tuple(Span(name, 1, 1) for name in on))


RULE = Rule(
    code="SYS002",
    name="overcommit-not-strict",
    severity=Severity.INFO,
    summary="vm.overcommit_memory is not 2 on a database host",
    needs=("sysctl", "postgresql"),
    check=check,
    doc=__doc__,
)
