"""advisor.rules.memory: MEM001's floor, and the least RAM SYS005 solves for under a strict
overcommit limit (swap + ratio % × RAM) when shared_buffers is a share of that RAM."""

from __future__ import annotations

from hypothesis import given, strategies as st

from advisor.rules.memory import Floor

MB = 1024**2


def _floor(share, shared, wal, connections, work_mem_mb, av_workers=3, av_mb=64, workers=8):
    return Floor(shared=shared, share=share, wal=wal, av_workers=av_workers, av_each=av_mb * MB,
                 av_name="maintenance_work_mem", connections=connections, workers=workers, workers_set=workers,
                 capped=False, work_mem=work_mem_mb * MB, settings={})


@given(share=st.sampled_from([None, 0.05, 0.125, 0.25, 0.4]), wal=st.sampled_from([-1, 512, 4096]),
       connections=st.integers(1, 3000), work_mem_mb=st.integers(1, 256), swap_mb=st.integers(0, 65536),
       ratio=st.integers(10, 100), shared_mb=st.integers(16, 65536))
def test_the_least_ram_is_where_the_floor_starts_to_fit(share, wal, connections, work_mem_mb, swap_mb, ratio,
                                                        shared_mb):
    """At the least RAM the floor fits under the limit, and 1 % below it, it does not: whether
    wal_buffers follows shared_buffers (-1: / 32, at most 16MB) or is set."""
    floor = _floor(share, None if share else shared_mb * MB, wal, connections, work_mem_mb)
    swap = swap_mb * MB

    def fits(ram):
        shared = share * ram if share else floor.shared
        return floor.total(shared) <= swap + ratio / 100 * ram + 1  # (a byte of float rounding)

    least = floor.least_ram(swap, ratio)
    if least is None:  # shared_buffers' share is not below the ratio, and the swap does not cover the rest
        assert share and share >= ratio / 100 and not fits(1024**5)
        return
    assert fits(least)
    if least > 0:
        assert not fits(least * 0.99)


def test_autobase_figures():
    """0.25 × RAM + 32 MB + 5 × 512 MB + 1000 × 64 MB ≤ 4 GB + 0.5 × RAM from (65.03 − 4) / 0.25 GB."""
    floor = _floor(0.25, None, 4096, 1000, 64, av_workers=5, av_mb=512, workers=0)
    assert round(floor.least_ram(4096 * MB, 50) / 1024**3, 1) == 244.1
