"""The memory a PostgreSQL server needs at one work_mem per connection: MEM001's floor, which
SYS005 compares with a strict overcommit limit, so the two rules count the same thing.

    shared_buffers + wal_buffers
    + autovacuum_max_workers × (autovacuum_work_mem, or maintenance_work_mem when it is -1)
    + (max_connections + max_parallel_workers (at most max_worker_processes)) × work_mem

`shared_buffers` may be a share of the host's RAM (`advisor.model.RamShare`: autobase's
`{{ (ansible_memtotal_mb * 0.25) | int }}MB`); then the floor is a function of the RAM, and
`least_ram` solves `floor(RAM) <= swap + ratio × RAM` for it.
"""

from __future__ import annotations

from advisor.catalog import catalog_of, value_or_default
from advisor.model import RamShare, Record
from advisor.units import pg_to_bytes

AUTOVACUUM_CAP = 1024**3  # bytes; dead-tuple memory limit before PostgreSQL 17
WAL_AUTO_MAX = 16 * 1024**2  # wal_buffers = -1: shared_buffers / 32, at least 64kB, at most 16MB


class Floor(Record):
    """The floor's terms: `shared` in bytes (None when written as a `share` of the RAM), `wal`
    as set (8kB pages, -1: derived from shared_buffers), autovacuum's `av_workers` × `av_each`
    bytes (from `av_name`), `connections`, the parallel `workers` that can run at once (at most
    max_worker_processes: `capped`; `workers_set` as written), `work_mem` in bytes, the
    `settings` that gave each name (None: its default) and the names `not_counted` (not known
    here, counted as 0 for a lower bound)."""

    __slots__ = ("shared", "share", "wal", "av_workers", "av_each", "av_name", "connections", "workers",
                 "workers_set", "capped", "work_mem", "settings", "not_counted")

    def __init__(self, shared, share, wal, av_workers, av_each, av_name, connections, workers, workers_set,
                 capped, work_mem, settings, not_counted=()) -> None:
        self.shared, self.share, self.wal = shared, share, wal
        self.av_workers, self.av_each, self.av_name = av_workers, av_each, av_name
        self.connections, self.workers, self.workers_set, self.capped = connections, workers, workers_set, capped
        self.work_mem, self.settings, self.not_counted = work_mem, settings, tuple(not_counted)

    def wal_bytes(self, shared: float) -> float:
        if self.wal == -1:
            return min(max(shared / 32, 64 * 1024), WAL_AUTO_MAX)
        return max(self.wal * 8192, 32 * 1024)

    @property
    def autovacuum(self) -> float:
        return self.av_workers * self.av_each

    @property
    def queries(self) -> float:
        """(max_connections + parallel workers) × one work_mem."""
        return (self.connections + self.workers) * self.work_mem

    def fixed(self, shared: float) -> float:
        return shared + self.wal_bytes(shared) + self.autovacuum

    def total(self, shared: float) -> float:
        return self.fixed(shared) + self.queries

    def least_ram(self, swap: float, ratio: float) -> float | None:
        """The least RAM at which swap + ratio % × RAM covers the floor, shared_buffers being
        `share` × RAM (huge pages none); None when no RAM does (the share is not below the
        ratio and the swap does not cover the rest)."""
        r = ratio / 100
        if self.share is None:
            return _solve(self.total(self.shared) - swap, r)
        s = self.share
        rest = self.autovacuum + self.queries - swap
        if self.wal == -1:
            # at most 16MB, which shared / 32 reaches from shared = 512MB: try that first
            ram = _solve(rest + WAL_AUTO_MAX, r - s)
            if ram is not None and s * ram / 32 < WAL_AUTO_MAX:
                ram = _solve(rest, r - s - s / 32)
                ram = None if ram is None else max(ram, _solve(rest + 64 * 1024, r - s) or 0.0)
        else:
            ram = _solve(rest + self.wal_bytes(0), r - s)
        return ram


def _solve(need: float, slope: float) -> float | None:
    """The least x >= 0 with need <= slope × x, None when there is none."""
    if need <= 0:
        return 0.0
    if slope <= 0:
        return None
    return need / slope


def floor_of(doc, lower_bound: bool = False) -> Floor | None:
    """The floor's terms for a PostgreSQL document, None when shared_buffers (in bytes or as a
    share of the RAM), max_connections or work_mem is not known. Any other term not known (a
    template placeholder: autobase's max_parallel_workers over the host's vCPUs) makes it None,
    unless `lower_bound`: it then counts as 0 and is named in `not_counted` — what the floor
    states stays a floor."""
    settings = {}

    def get(name):
        value, setting = value_or_default(doc, name)
        settings[name] = setting
        return value

    shared_setting = doc.get("shared_buffers")
    share = shared_setting.value.share if shared_setting is not None and isinstance(shared_setting.value,
                                                                                    RamShare) else None
    shared = get("shared_buffers")
    work_mem, connections = get("work_mem"), get("max_connections")
    if (shared is None and share is None) or work_mem is None or connections is None:
        return None
    missing = []

    def optional(name, zero):
        value = get(name)
        if value is None:
            missing.append(name)
            return zero
        return value

    wal = optional("wal_buffers", -1)
    maint = optional("maintenance_work_mem", 0)
    av_mem = optional("autovacuum_work_mem", -1)
    av_workers = optional("autovacuum_max_workers", 0)
    workers = optional("max_parallel_workers", 0)
    processes = get("max_worker_processes")
    if missing and not lower_bound:
        return None
    workers_set = workers
    capped = isinstance(processes, int) and processes < workers
    if capped:
        workers = processes
    av_each = maint * 1024 if av_mem == -1 else av_mem * 1024
    if catalog_of(doc).major < 17:
        av_each = min(av_each, AUTOVACUUM_CAP)
    return Floor(shared=None if shared is None else pg_to_bytes(shared, "8kB"), share=share, wal=wal,
                 av_workers=av_workers, av_each=av_each,
                 av_name="maintenance_work_mem" if av_mem == -1 else "autovacuum_work_mem",
                 connections=connections, workers=workers, workers_set=workers_set, capped=capped, work_mem=pg_to_bytes(work_mem, "kB"),
                 settings=settings, not_counted=tuple(missing))
