"""A fuzz campaign: each harness in turn, one process at a time, until its share of inputs ran.

    python fuzz/campaign.py [total_inputs] [seconds_per_kind]   (defaults: 1,000,000 and no limit)

A crash or hang stops libFuzzer: the input is saved under fuzz/artifacts/ and the harness is
started again for the inputs left (so one bug does not end the campaign). Counts per kind are
appended to fuzz/artifacts/campaign.log (executed units, crashes, final coverage).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARE = {"postgresql": 0.25, "pgbouncer": 0.2, "haproxy": 0.2, "client": 0.25, "sql": 0.05, "sysctl": 0.05}


def run_kind(kind: str, runs: int, seconds: float | None, log) -> None:
    done = crashes = 0
    cov = "?"
    start = time.time()
    artifacts = HERE / "artifacts"
    artifacts.mkdir(exist_ok=True)
    corpus = HERE / "corpus" / kind
    corpus.mkdir(parents=True, exist_ok=True)
    while done < runs and (seconds is None or time.time() - start < seconds):
        left = runs - done
        cmd = [sys.executable, str(HERE / f"fuzz_{kind}.py"), str(corpus), f"-runs={left}", "-max_len=4096",
               "-timeout=20", "-rss_limit_mb=2048", "-print_final_stats=1",
               f"-artifact_prefix={artifacts}/{kind}-"]
        if seconds is not None:
            cmd.append(f"-max_total_time={max(1, int(seconds - (time.time() - start)))}")
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        out = proc.stdout + proc.stderr
        m = re.findall(r"stat::number_of_executed_units:\s*(\d+)", out)
        ran = int(m[-1]) if m else 0
        c = re.findall(r"cov: (\d+)", out)
        cov = c[-1] if c else cov
        done += ran
        if proc.returncode != 0:
            crashes += 1
            tail = "\n".join(out.splitlines()[-25:])
            log.write(f"{kind}: crash after {done} inputs (exit {proc.returncode}):\n{tail}\n")
            log.flush()
            if ran == 0 and crashes > 50:
                break
    log.write(f"{kind}: {done} inputs, {crashes} crash/hang runs, coverage {cov} edges, "
              f"{time.time() - start:.0f} s\n")
    log.flush()


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else None
    with open(HERE / "artifacts" / "campaign.log", "a") as log:
        log.write(f"campaign of {total} inputs started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        for kind, share in SHARE.items():
            run_kind(kind, int(total * share), seconds * share if seconds else None, log)


if __name__ == "__main__":
    main()
