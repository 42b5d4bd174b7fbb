"""Strict overcommit on the database host with the kernel's default ratio: only half the RAM (plus swap) can be committed.

## What it checks
The host of a PostgreSQL server — a sysctl file of its host (beside its configuration, or in the
same copy of the host's file system: `db-host/etc/sysctl.d/` for `db-host/etc/postgresql/16/main/`;
with or without a topology, whose `hosts:` facts are laid over it), Kubernetes/compose `sysctls`, or the database hosts' `sysctl_conf` of the same
Ansible variables (autobase) — sets `vm.overcommit_memory = 2` (strict overcommit) and leaves
`vm.overcommit_ratio` at the kernel's default of 50 (or sets it to 50 or less), with no
`vm.overcommit_kbytes`. In this mode the kernel refuses any allocation that would take the
memory committed by all processes together (`Committed_AS` in /proc/meminfo) past
`CommitLimit = swap + (RAM − huge pages) × overcommit_ratio / 100`.

What the server needs is MEM001's floor, counted the same way by both rules (advisor/rules/memory.py):

    shared_buffers + wal_buffers + autovacuum_max_workers × (autovacuum_work_mem or maintenance_work_mem)
    + (max_connections + max_parallel_workers) × work_mem

one `work_mem` per connection and parallel worker (each running one sort or hash; each backend's
own overhead comes on top). A term written as a template placeholder (autobase's
`max_parallel_workers` over the host's vCPUs) is counted as 0 and named, so the sum stays a floor.

When the host's RAM is known (`--ram`, `ram:` of the server's host in pgpath.yaml, or a fact read
with the server), the limit is computed in bytes, with the swap that the same files create (an
Ansible `swap_file_size_mb`; none known is taken as 0), and compared with the floor. Nothing is
reported when that fits.

When the RAM is not known but the settings are, it solves for the RAM: the least RAM at which
`swap + ratio % × RAM` covers the floor. `shared_buffers` written as a share of the RAM (autobase's
`{{ (ansible_memtotal_mb * 0.25) | int }}MB`, which the Ansible loader types as
`advisor.model.RamShare`) enters both sides: `0.25 × RAM + rest ≤ swap + 0.5 × RAM` from
`RAM ≥ (rest − swap) / (50% − 25%)`. autobase's defaults (max_connections 1000, work_mem 64MB,
autovacuum_max_workers 5 × maintenance_work_mem 512MB, 4 GB of swap, ratio 50) need 244 GB.
The settings are those of the server on that host (the same pairing as above). A sysctl on no
server's host is not reported; a ratio or limit written as a template expression is unknown and
not judged.

## Why it matters
Strict overcommit is what the PostgreSQL documentation recommends against the OOM killer, but
the ratio decides how much memory the host may use at all. With the default 50 and little swap,
half the RAM can never be committed: the page cache can use it, PostgreSQL cannot. When the
committed memory reaches the limit, a query fails with `out of memory`, a new connection with
`could not fork new process for connection: Cannot allocate memory`, autovacuum with `could not
fork autovacuum worker process: Cannot allocate memory` — long before the RAM is used up. If
`shared_buffers` alone does not fit, the server cannot map its shared memory and does not start
(`could not map anonymous shared memory: Cannot allocate memory`), unless huge pages are
reserved for it (huge pages are not counted in the commit, and not in the RAM of the formula).

Severity: **error** when the RAM is known, `huge_pages = off` and `shared_buffers` alone reaches
the limit (the server refuses to start); **warning** when the RAM is known and the server's
floor does not fit under the limit (connections and queries fail under ordinary load
of the configured server); **info** when the RAM is not known — the limit is stated in percent,
with the least RAM the settings need when they are known, and the finding says what to declare to
have it checked, as for other risks that depend on a fact no file shows.

## Fix
Set `vm.overcommit_ratio` beside `vm.overcommit_memory = 2` so that swap + ratio % of the RAM
covers the server and the other processes of the host: with the RAM known, pgpath proposes the
ratio that fits the floor with 10 points to spare; without it, 90 on a host without much swap,
with the least RAM the settings then need (below it, lower `work_mem` or `max_connections` too). `vm.overcommit_kbytes` sets the same limit in absolute terms.

## References
- Linux: overcommit accounting ("2 - Don't overcommit. The total address space commit for the
  system is not permitted to exceed swap + a configurable amount (default is 50%) of physical
  RAM"; the amount is set via `vm.overcommit_ratio` or `vm.overcommit_kbytes`) — https://www.kernel.org/doc/html/latest/mm/overcommit-accounting.html
- proc(5), /proc/sys/vm/overcommit_memory: CommitLimit = (total_RAM − total_huge_TLB) × overcommit_ratio / 100 + total_swap — https://man7.org/linux/man-pages/man5/proc.5.html
- PostgreSQL: Linux Memory Overcommit ("You might also wish to modify the related setting
  vm.overcommit_ratio") — https://www.postgresql.org/docs/current/kernel-resources.html#LINUX-MEMORY-OVERCOMMIT
- autobase issue #671 (8 GB host, strict overcommit from the role's defaults: `could not fork autovacuum worker process: Cannot allocate memory`) — https://github.com/autobase-tech/autobase/issues/671
"""

from __future__ import annotations

import math

from advisor.catalog import value_or_default
from advisor.findings import Severity
from advisor.model import Span
from advisor.model.host import LINUX_OVERCOMMIT_RATIO
from advisor.rules.memory import floor_of
from advisor.rules.pg.common import said
from advisor.rules.rule import Rule, listed
from advisor.units import format_bytes

RATIO_WITHOUT_RAM = 90  # proposed when the RAM is not known (a host without much swap)
SPARE_POINTS = 10  # percent of RAM left for the OS and the host's other processes
FLOOR = "shared_buffers + wal_buffers + autovacuum + max_connections × work_mem"
WITHOUT_RAM = (f"CommitLimit = swap + {RATIO_WITHOUT_RAM}% of RAM, on a host without much swap; with the RAM known, "
               f"pgpath computes the ratio that fits {FLOOR}")
WITHOUT_SETTINGS = (f"CommitLimit = swap + {RATIO_WITHOUT_RAM}% of RAM, on a host without much swap; pgpath computes "
                    f"the ratio that fits {FLOOR} when they are known values")


def check(ctx):
    by_mode: dict[int, list] = {}  # id of the vm.overcommit_memory fact -> [(server, verdict)]
    for pg in ctx.of_kind("postgresql"):
        host = pg.host
        mode = host.get("overcommit_memory") if host is not None else None
        if mode is None or not mode.known or mode.value != 2 or mode.span is None:
            continue
        kbytes = host.get("overcommit_kbytes")
        if kbytes is not None and (not kbytes.known or kbytes.value):
            continue  # an absolute limit is set (or unknown): not the ratio's business
        ratio = host.get("overcommit_ratio")
        if ratio is not None and not ratio.known:
            continue
        verdict = _judge(ctx, pg, host, ratio)
        if verdict is not None:
            by_mode.setdefault(id(mode), []).append((pg, mode, verdict))
    for found in by_mode.values():
        servers = list(dict.fromkeys(pg.path for pg, _, _ in found))  # (two servers of one file: once)
        pg, mode, (severity, body, proposed, why, related) = max(found, key=lambda item: item[2][0])
        ratio = pg.host.get("overcommit_ratio")
        ratio_said = (f"vm.overcommit_ratio = {ratio.raw}" if ratio is not None
                      else f"vm.overcommit_ratio not set (kernel default {LINUX_OVERCOMMIT_RATIO})")
        message = (f"vm.overcommit_memory = 2 (strict overcommit) with {ratio_said} and no vm.overcommit_kbytes "
                   f"on the host of {listed(servers)}: {body}")
        shown = {span.file for span in related} | {mode.span.file}
        spans = list(related) + [Span(name, 1, 1) for name in servers if name not in shown]
        if mode.origin == "declared":
            fix = (f"vm.overcommit_ratio = {proposed} on the host (and overcommit_ratio: {proposed} in its hosts: "
                   "entry)")
        elif mode.span.file.endswith((".yml", ".yaml")):
            fix = f"- {{ name: \"vm.overcommit_ratio\", value: \"{proposed}\" }} beside vm.overcommit_memory"
        else:
            fix = f"vm.overcommit_ratio = {proposed}"
        yield RULE.finding(mode.span, message, f"{fix}  ({why})", spans, severity=severity)


def _judge(ctx, pg, host, ratio_fact):
    """(severity, message body, proposed ratio, why that ratio, related spans), or None when it fits."""
    ratio = ratio_fact.value if ratio_fact is not None else LINUX_OVERCOMMIT_RATIO
    related = [ratio_fact.span] if ratio_fact is not None and ratio_fact.span is not None else []
    swap_fact = host.get("swap")
    if swap_fact is not None and swap_fact.span is not None:
        related.append(swap_fact.span)
    if swap_fact is None:
        swap, swap_said = 0, "swap (none known, taken as 0)"
    elif swap_fact.known:
        swap, swap_said = swap_fact.value, f"swap {format_bytes(swap_fact.value)} ({swap_fact.key} {swap_fact.raw})"
    else:
        swap, swap_said = None, f"swap ({swap_fact.key} {swap_fact.raw}, not known here)"
    ram, ram_span = _ram(ctx, pg, host)
    share = "half the RAM" if ratio == 50 else f"{ratio}% of the RAM"
    fails = ("past the limit every allocation fails: a query gets `out of memory`, a new connection `could not fork new "
             "process for connection: Cannot allocate memory`")
    if not ram or swap is None:
        if ratio > LINUX_OVERCOMMIT_RATIO:
            return None
        body = (f"CommitLimit = {swap_said} + {ratio}% of RAM: at most {share} plus the swap can be committed, by all "
                "processes together (shared_buffers, every backend, every other process of the host)")
        why = WITHOUT_RAM
        floor = floor_of(pg, lower_bound=True) if not ram and swap is not None else None
        huge = value_or_default(pg, "huge_pages")[0] if floor is not None else None
        needs = _least_ram(floor, swap, ratio, huge) if floor is not None else None
        body += "; " + (needs if needs is not None else fails)  # the least RAM's text says how it fails
        if floor is not None:
            if needs is not None:
                related += _spans(floor)
                at_proposed = floor.least_ram(swap, RATIO_WITHOUT_RAM)
                if at_proposed is not None and at_proposed > 0:
                    why = (f"CommitLimit = swap + {RATIO_WITHOUT_RAM}% of RAM, on a host without much swap: the "
                           f"worst case of these settings then fits from {format_bytes(at_proposed)} of RAM; on a "
                           "smaller host lower work_mem or max_connections too")
        if not ram:
            body += ("; the host's RAM is not known: declare it (--ram, or ram: of the server's host under hosts: in "
                     "pgpath.yaml) to have the limit checked against the server's memory settings")
        return Severity.INFO, body, RATIO_WITHOUT_RAM, why, related
    if ram_span is not None:
        related.append(ram_span)
    limit = swap + ram * ratio / 100
    arithmetic = (f"CommitLimit = {swap_said} + {ratio}% × RAM {format_bytes(ram)} = {format_bytes(limit)}")
    floor = floor_of(pg, lower_bound=True)
    if floor is None:
        if ratio > LINUX_OVERCOMMIT_RATIO:
            return None
        return (Severity.INFO, f"{arithmetic}: at most {share} plus the swap can be committed, by all processes "
                "together; " + fails, RATIO_WITHOUT_RAM, WITHOUT_SETTINGS, related)
    shared_bytes = floor.shared if floor.shared is not None else floor.share * ram
    need = floor.total(shared_bytes)
    if need <= limit:
        return None
    related += _spans(floor)
    s_shared = floor.settings.get("shared_buffers")
    spent = f"{_terms(floor, shared_bytes)} = {format_bytes(need)}"
    needed = (need - swap) / ram * 100  # the ratio at which the limit just covers it
    proposed = min(100, math.ceil((needed + SPARE_POINTS) / 5) * 5)
    if needed > 100:
        why = (f"and lower work_mem or max_connections: {format_bytes(need)} does not fit in swap + RAM "
               f"{format_bytes(swap + ram)} (MEM001)")
    else:
        why = (f"CommitLimit = {format_bytes(swap) + ' + ' if swap else ''}{proposed}% × {format_bytes(ram)} = "
               f"{format_bytes(swap + ram * proposed / 100)} ≥ {format_bytes(need)}")
        why += (f" + {SPARE_POINTS}% of the RAM for the rest of the host" if proposed >= needed + SPARE_POINTS else
                f", with less than {SPARE_POINTS}% of the RAM left for the rest of the host: lower work_mem or "
                "max_connections too (MEM001)")
    huge, _ = value_or_default(pg, "huge_pages")
    if shared_bytes >= limit:
        body = (f"{arithmetic} ≤ {said('shared_buffers', s_shared, format_bytes(shared_bytes))}: PostgreSQL cannot map its shared memory "
                "and does not start (could not map anonymous shared memory: Cannot allocate memory)")
        if huge == "off":
            return Severity.ERROR, body, proposed, why, related
        return (Severity.WARNING, body + ", unless huge pages are reserved for it (vm.nr_hugepages; huge_pages = "
                f"{huge})", proposed, why, related)
    body = f"{arithmetic} < {spent}: the server cannot commit the memory it is configured to use; " + fails
    return Severity.WARNING, body, proposed, why, related


def _shared_said(floor, shared_bytes: float | None) -> str:
    setting = floor.settings.get("shared_buffers")
    if floor.share is not None:
        figure = f"{floor.share:.0%} of RAM" + (f" = {format_bytes(shared_bytes)}" if shared_bytes is not None else "")
        return f"shared_buffers {setting.raw} ({figure})"
    return said("shared_buffers", setting, format_bytes(shared_bytes))


def _terms(floor, shared_bytes: float | None) -> str:
    """MEM001's floor, term by term: `shared_buffers 2GB + wal_buffers 16 MB + autovacuum_max_workers
    3 × maintenance_work_mem 64 MB = 192 MB + (max_connections 100 + max_parallel_workers 8) ×
    work_mem 32MB = 3.4 GB (one work_mem each, as MEM001 counts)`; shared_buffers as a share of
    the RAM when `shared_bytes` is None; terms not known here named as not counted."""
    st = floor.settings
    wal = floor.wal_bytes(shared_bytes if shared_bytes is not None else 0)
    wal_said = said("wal_buffers", st.get("wal_buffers"), format_bytes(wal))
    if shared_bytes is None and floor.wal == -1:
        wal_said = "wal_buffers (shared_buffers / 32, at most 16 MB)"
    parts = [_shared_said(floor, shared_bytes), wal_said]
    if "autovacuum_max_workers" not in floor.not_counted:
        av_setting = st.get(floor.av_name)
        parts.append(f"{said('autovacuum_max_workers', st.get('autovacuum_max_workers'), str(floor.av_workers))} × "
                     f"{said(floor.av_name, av_setting, format_bytes(floor.av_each))} = {format_bytes(floor.autovacuum)}")
    conn = said("max_connections", st.get("max_connections"), str(floor.connections))
    if floor.workers:
        conn = f"({conn} + max_parallel_workers {floor.workers})"
    parts.append(f"{conn} × {said('work_mem', st.get('work_mem'), format_bytes(floor.work_mem))} = "
                 f"{format_bytes(floor.queries)}")
    text = " + ".join(parts) + " (one work_mem per connection, as MEM001 counts"
    if floor.not_counted:
        text += f"; {', '.join(floor.not_counted)} not known here, not counted"
    return text + ")"


def _least_ram(floor, swap: float, ratio: int, huge_pages=None) -> str | None:
    """The RAM below which the floor — the worst case of the settings, every connection holding one
    work_mem at once — does not fit under swap + ratio % × RAM, with its arithmetic (the swap as a
    figure: where it is set is said before); None when the swap alone covers it (any RAM does).
    Unless huge_pages is off, also the RAM it needs with shared_buffers in huge pages, which the
    commit does not count and the ratio does not apply to."""
    swap_said = f"swap {format_bytes(swap)}" if swap else "swap 0"
    least = floor.least_ram(swap, ratio)
    if least == 0:
        return None
    worst = "the worst case of these settings (every connection holding one work_mem at once)"
    if floor.share is None:
        need = floor.total(floor.shared)
        if least is None:
            return None
        huge = _huge_pages_ram(need - floor.shared, swap, ratio, floor.shared, None, huge_pages)
        return (f"{worst} fits under this host's overcommit limit only from {format_bytes(least)} of RAM: "
                f"{_terms(floor, floor.shared)} = {format_bytes(need)} ≤ {swap_said} + {ratio}% × RAM from RAM ≥ "
                f"{_less_swap(need, swap)} / {ratio}% = {format_bytes(least)}{huge}; on a host with less, " + _FAILS_SHORT)
    if least is None:
        return (f"{worst} fits under this host's overcommit limit at no RAM: shared_buffers alone takes "
                f"{floor.share:.0%} of it, the ratio's {ratio}% or more, and the rest is more than the swap: "
                f"{_terms(floor, None)}")
    rest = floor.total(floor.share * least) - floor.share * least  # every term but shared_buffers, at that RAM
    huge = _huge_pages_ram(rest, swap, ratio, None, floor.share, huge_pages)
    return (f"{worst} fits under this host's overcommit limit only from {format_bytes(least)} of RAM: "
            f"{_terms(floor, None)} = {floor.share:.0%} × RAM + {format_bytes(rest)} ≤ {swap_said} + {ratio}% × RAM "
            f"from RAM ≥ {_less_swap(rest, swap)} / ({ratio}% − {floor.share:.0%}) = "
            f"{format_bytes(least)}{huge}; on a host with less, " + _FAILS_SHORT)


def _huge_pages_ram(rest: float, swap: float, ratio: int, shared: float | None, share: float | None,
                    huge_pages) -> str:
    """` (with shared_buffers in huge pages ...: from 162.7 GB)`: the least RAM when shared_buffers
    sits in huge pages reserved for it (vm.nr_hugepages): CommitLimit = swap + ratio % × (RAM −
    huge pages) must cover every other term; "" when huge_pages is off or no RAM fits."""
    if huge_pages == "off":
        return ""
    r = ratio / 100
    if share is not None:
        slope = r * (1 - share)
        ram = (rest - swap) / slope if slope > 0 else None
    else:
        ram = max(rest - swap, 0) / r + shared
    if ram is None or ram <= 0:
        return ""
    return (f" (with shared_buffers in huge pages reserved for it — vm.nr_hugepages, huge_pages = "
            f"{huge_pages or 'try'} — it is out of the commit and of the RAM the ratio applies to: from "
            f"{format_bytes(ram)})")


def _less_swap(need: float, swap: float) -> str:
    return f"({format_bytes(need)} − {format_bytes(swap)})" if swap else format_bytes(need)


_FAILS_SHORT = ("connections and queries fail with `out of memory` or `could not fork` once that much is committed, "
                "before the RAM is used up")


def _spans(floor) -> list:
    """Where each term counted was set (max_worker_processes only when it caps the workers)."""
    skip = set(floor.not_counted) | (set() if floor.capped else {"max_worker_processes"})
    return [s.value_span or s.span for name, s in floor.settings.items() if s is not None and name not in skip]


def _ram(ctx, pg, host):
    """(bytes, span) of the host's RAM: a fact of the server's host (read with it, or its host in
    the topology), else --ram. A container's memory limit is not the RAM of the kernel's formula."""
    fact = host.get("ram")
    if fact is not None and fact.known and fact.value:
        return fact.value, fact.span
    return ctx.declared_ram(pg), None


RULE = Rule(
    code="SYS005",
    name="overcommit-ratio-default",
    severity=Severity.WARNING,
    summary="Strict overcommit with vm.overcommit_ratio at the default 50: no more than swap + half the RAM can be committed",
    needs=("postgresql",),
    check=check,
    doc=__doc__,
)
