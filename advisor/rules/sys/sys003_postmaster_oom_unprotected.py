"""The systemd unit of PostgreSQL leaves the postmaster to the OOM killer, or protects every backend.

## What it checks
For each PostgreSQL systemd unit read (`postgresql*.service`, `patroni.service`, together with
its drop-ins `<unit>.service.d/*.conf` found in the same run, later files winning as systemd
merges them):

- no `OOMScoreAdjust=` of -1000 (or close to it, <= -900): the postmaster can be chosen by the
  OOM killer;
- `OOMScoreAdjust=-1000` without `Environment=PG_OOM_ADJUST_FILE=/proc/self/oom_score_adj`: every
  backend inherits -1000, so under memory pressure the kernel kills anything else on the host
  first, or nothing at all (the PostgreSQL documentation pairs the two settings).

## Why it matters
When the OOM killer takes a backend, the postmaster resets all sessions and recovers in seconds.
When it takes the postmaster, the server is down until something restarts it, and every
connection on the path fails. The PostgreSQL packages of the PGDG repositories ship the
protection in their unit; many hand-written and distribution units do not.

It is **info**: nothing fails until the host runs out of memory; then it decides how badly.

## Fix
A drop-in, e.g. `/etc/systemd/system/postgresql@.service.d/oom.conf`:

    [Service]
    OOMScoreAdjust=-1000
    Environment=PG_OOM_ADJUST_FILE=/proc/self/oom_score_adj
    Environment=PG_OOM_ADJUST_VALUE=0

## References
- PostgreSQL: Linux Memory Overcommit (OOM score of the postmaster) — https://www.postgresql.org/docs/current/kernel-resources.html#LINUX-MEMORY-OVERCOMMIT
- systemd.exec(5): OOMScoreAdjust= — https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html
"""

import os
import re

from advisor.findings import Severity
from advisor.model import Span, is_known
from advisor.rules.rule import Rule

PROTECTED = -900
_POSTGRES_UNIT = re.compile(r"^(postgres|postgresql|pgsql|patroni|postgresql-\d+|postgresql@)", re.IGNORECASE)
DROP_IN = ("[Service]\nOOMScoreAdjust=-1000\nEnvironment=PG_OOM_ADJUST_FILE=/proc/self/oom_score_adj\n"
           "Environment=PG_OOM_ADJUST_VALUE=0")


def _units(ctx):
    """unit name -> (the .service doc, [its drop-ins in path order])."""
    units: dict[str, list] = {}
    for doc in ctx.of_kind("systemd"):
        unit = doc.meta.get("unit", "")
        entry = units.setdefault(unit, [None, []])
        if doc.meta.get("drop_in"):
            entry[1].append(doc)
        else:
            entry[0] = doc
    for unit, (main, drop_ins) in units.items():
        # drop-ins of a template unit (postgresql@.service.d) apply to its instances too
        if main is not None:
            yield unit, main, sorted(drop_ins, key=lambda d: os.path.basename(d.path))


def _merged(main, drop_ins, name):
    value = main.model.get(name) if main.model else None
    for d in drop_ins:
        found = d.model.get(name) if d.model else None
        if found is not None:
            value = found
    return value


def _runs_postgres(doc) -> bool:
    if _POSTGRES_UNIT.match(doc.meta.get("unit", "")):
        return True
    start = doc.get("ExecStart")
    return start is not None and re.search(r"\b(postgres|pg_ctl|pg_ctlcluster|patroni)\b", start.raw or "") is not None


def check(ctx):
    for unit, main, drop_ins in _units(ctx):
        if not _runs_postgres(main):
            continue
        score = _merged(main, drop_ins, "oom_score_adj")
        children = _merged(main, drop_ins, "oom_adjust_children")
        if score is not None and not is_known(score.value):
            continue
        where = Span(main.path, 1, 1)
        service = next((s for s in main.settings if s.section == "Service"), None)
        if service is not None:
            where = Span(main.path, max(1, service.span.line - 1), 1)
        if score is None or score.value > PROTECTED:
            shown = "no OOMScoreAdjust (0)" if score is None else f"OOMScoreAdjust={score.value}"
            yield RULE.finding(
                score.span if score is not None else where,
                f"{unit}: {shown}: the OOM killer may choose the postmaster; if it does, the server is gone and "
                "every connection fails until it is restarted (a killed backend only resets the sessions)",
                f"a drop-in {unit}.d/oom.conf: " + DROP_IN.replace("\n", "  "),
                [d.path and Span(d.path, 1, 1) for d in drop_ins])
        elif not (children is not None and children.value):
            yield RULE.finding(
                score.span,
                f"{unit}: OOMScoreAdjust={score.value} without Environment=PG_OOM_ADJUST_FILE: every backend inherits "
                f"{score.value}, so under memory pressure the OOM killer takes other processes on the host (or "
                "none) instead of the backend that overran",
                "add Environment=PG_OOM_ADJUST_FILE=/proc/self/oom_score_adj and Environment=PG_OOM_ADJUST_VALUE=0 "
                "(backends killable again, the postmaster still protected)")


RULE = Rule(
    code="SYS003",
    name="postmaster-oom-unprotected",
    severity=Severity.INFO,
    summary="A PostgreSQL systemd unit without OOM protection for the postmaster (or with it for every backend)",
    needs=("systemd",),
    check=check,
    doc=__doc__,
)
