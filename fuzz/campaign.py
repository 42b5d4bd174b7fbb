"""A coverage-guided fuzz campaign: each atheris harness in turn, one process at a time, every
kind of advisor.loaders.LOADERS with a share of the inputs and of the time (weighted to the
complex formats).

    nice -n 19 python fuzz/campaign.py [total_inputs] [seconds] [kind ...]   (defaults: 1,000,000 inputs, no time limit, every kind)

A kind stops at its share of the inputs or of the time, whichever comes first; the time a fast
kind leaves goes to the kinds after it. A crash, hang or memory blow-up stops libFuzzer: the input
is saved under fuzz/artifacts/<kind>-crash-…/timeout-…/oom-… and the harness is started again for
the inputs left (one bug does not end the campaign). libFuzzer's output goes to
fuzz/artifacts/<kind>.log; one line per kind (inputs, exec/s, coverage, crashes) is appended to
fuzz/artifacts/campaign.log and, as JSON, to fuzz/artifacts/campaign.jsonl.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fuzz.common import NAMES  # noqa: E402

SHARE = {"postgresql": 0.12, "pgbouncer": 0.11, "haproxy": 0.11, "client": 0.12, "kubernetes": 0.11, "cloud": 0.09,
         "terraform": 0.09, "sql": 0.08, "text": 0.03, "systemd": 0.04, "sysctl": 0.04, "certificate": 0.04,
         "keepalived": 0.02}
assert set(SHARE) == set(NAMES), "every harness has a share"
# touch it to end the campaign after the running harness (SIGINT to that harness ends it at once)
STOP = HERE / "artifacts" / "STOP"


def run_kind(kind: str, runs: int, seconds: float | None, log, jlog) -> None:
    done = 0
    found = {"crash": 0, "timeout": 0, "oom": 0, "other": 0}
    cov = ft = corp = "?"
    start = time.time()
    artifacts = HERE / "artifacts"
    corpus = HERE / "corpus" / kind
    corpus.mkdir(parents=True, exist_ok=True)
    out_path = artifacts / f"{kind}.log"
    restarts = 0
    while done < runs and (seconds is None or time.time() - start < seconds - 5) and not STOP.exists():
        cmd = [sys.executable, str(HERE / f"fuzz_{kind}.py"), str(corpus), f"-runs={runs - done}", "-max_len=4096",
               "-timeout=20", "-rss_limit_mb=2048", "-print_final_stats=1", "-print_pcs=0",
               f"-artifact_prefix={artifacts}/{kind}-"]
        if seconds is not None:
            cmd.append(f"-max_total_time={max(1, int(seconds - (time.time() - start)))}")
        with open(out_path, "a") as out:
            out.write(f"\n=== {' '.join(cmd)}\n")
            out.flush()
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
        text = out_path.read_text(errors="replace").rsplit("\n=== ", 1)[-1]
        m = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
        if m:
            ran = int(m[-1])
        else:  # a crash ends the run before the final stats: the last status line counts
            n = re.findall(r"^#(\d+)\s", text, re.M)
            ran = int(n[-1]) if n else 0
        s = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", text)
        if s:
            cov, ft, corp = s[-1]
        done += ran
        if proc.returncode != 0 and STOP.exists():  # interrupted on purpose (SIGINT to the harness), not a finding
            break
        if proc.returncode != 0:
            what = ("timeout" if "libFuzzer: timeout" in text else "oom" if "out-of-memory" in text
                    else "crash" if "Uncaught Python exception" in text or "deadly signal" in text else "other")
            found[what] += 1
            restarts += 1
            tail = "\n".join(text.splitlines()[-30:])
            log.write(f"{kind}: {what} after {done} inputs (exit {proc.returncode}):\n{tail}\n")
            log.flush()
            if ran == 0 and restarts > 20:
                break
    elapsed = time.time() - start
    rate = done / elapsed if elapsed else 0
    log.write(f"{kind}: {done} inputs in {elapsed:.0f} s ({rate:.0f}/s), coverage {cov} edges {ft} features, "
              f"corpus {corp}, crashes {found['crash']} hangs {found['timeout']} oom {found['oom']} "
              f"other {found['other']}\n")
    log.flush()
    jlog.write(json.dumps({"kind": kind, "inputs": done, "seconds": round(elapsed), "exec_s": round(rate),
                           "edges": cov, "features": ft, "corpus": corp, **found,
                           "finished": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
    jlog.flush()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    nums = [a for a in args if a.replace(".", "").isdigit()]
    kinds = [a for a in args if a not in nums] or list(SHARE)
    total = int(nums[0]) if nums else 1_000_000
    seconds = float(nums[1]) if len(nums) > 1 else None
    (HERE / "artifacts").mkdir(exist_ok=True)
    STOP.unlink(missing_ok=True)
    begin = time.time()
    with open(HERE / "artifacts" / "campaign.log", "a") as log, open(HERE / "artifacts" / "campaign.jsonl", "a") as jlog:
        log.write(f"campaign of {total} inputs, {seconds} s, kinds {' '.join(kinds)}, "
                  f"started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        log.flush()
        left_share = sum(SHARE[k] for k in kinds)
        for kind in kinds:
            if STOP.exists():
                break
            share = SHARE[kind] / left_share
            budget = None if seconds is None else max(30.0, (seconds - (time.time() - begin)) * share)
            run_kind(kind, int(total * SHARE[kind] / sum(SHARE[k] for k in kinds)), budget, log, jlog)
            left_share -= SHARE[kind]
        log.write(f"campaign ended {time.strftime('%Y-%m-%d %H:%M:%S')}\n")


if __name__ == "__main__":
    main()
