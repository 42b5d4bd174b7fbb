"""Both halves of the lab (loopback daemons, namespace middlebox) run at once, once per session:
most of their time is spent waiting for idle timers, so overlapping them halves the wall time."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import scenarios as sc


@pytest.fixture(scope="session")
def lab_run():
    """{"loopback": results | reason to skip | exception, "middlebox": the same}."""
    started = time.monotonic()
    out = {}
    with ThreadPoolExecutor(2) as ex:
        futures = {"loopback": ex.submit(sc.run_loopback_lab), "middlebox": ex.submit(sc.run_middlebox_lab)}
        for name, f in futures.items():
            try:
                out[name] = f.result()
            except Exception as exc:  # noqa: BLE001 - raised again by the part's fixture
                out[name] = exc
    sc.DURATIONS["whole lab"] = time.monotonic() - started
    return out
