"""A fuzz campaign: each harness in turn, one process at a time, until its share of inputs ran
or of the time passed; then, with --mutate, the uninstrumented mutation runner (fuzz/mutate.py)
for the rest of the kind's time.

    python fuzz/campaign.py [total_inputs] [seconds] [--mutate]   (defaults: 1,000,000, no limit)

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
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    total = int(args[0]) if args else 1_000_000
    seconds = float(args[1]) if len(args) > 1 else None
    mutate = "--mutate" in sys.argv
    (HERE / "artifacts").mkdir(exist_ok=True)
    with open(HERE / "artifacts" / "campaign.log", "a") as log:
        log.write(f"campaign of {total} inputs, {seconds} s started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        for kind, share in SHARE.items():
            budget = seconds * share if seconds else None
            run_kind(kind, int(total * share), budget / 3 if (budget and mutate) else budget, log)
            if mutate and budget:
                proc = subprocess.run([sys.executable, str(HERE / "mutate.py"), kind, str(budget * 2 / 3)],
                                      capture_output=True, text=True)
                log.write(f"mutate {proc.stdout.strip() or proc.stderr[-2000:]}\n")
                log.flush()


if __name__ == "__main__":
    main()
