"""The fast half of a campaign: random mutations of the seeds (and of what atheris added to the
corpus), without coverage instrumentation, through the same one-input function as the atheris
harnesses (fuzz/common.py). Any exception is saved under fuzz/artifacts/<kind>-mutate-<n>
with its traceback; a hang is caught by an alarm (SIGALRM after 20 s).

    python fuzz/mutate.py KIND SECONDS [MAX_LEN]
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fuzz.common import setup  # noqa: E402

TOKENS = [b"{", b"}", b"{{", b"}}", b"${", b"'", b'"', b"\\", b"=", b"#", b";", b"[", b"]", b"\n", b"\r\n", b" ",
          b"\t", b"%", b"<%", b"%>", b"include ", b"[databases]", b"[pgbouncer]", b"global\n", b"defaults\n",
          b"listen x\n", b"  server a 1.2.3.4:5432 ", b"timeout client ", b"postgres://u:p@h:5/d?", b"host=",
          b"password=", b"jdbc:postgresql://", b"DATABASES = {", b"&a ", b"*a", b"- ", b": ", b"9" * 40, b"-",
          b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf", b"1e999", b"0x", b"kB", b"MB", b"ms", b"s", b"min"]


class Hang(Exception):
    pass


def _alarm(*_):
    raise Hang()


def mutate(rnd: random.Random, data: bytes, max_len: int) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        op = rnd.randrange(6)
        i = rnd.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rnd.randrange(256)
        elif op == 1:
            b[i:i] = rnd.choice(TOKENS)
        elif op == 2 and b:
            del b[i:i + rnd.randint(1, 32)]
        elif op == 3 and b:  # duplicate a slice (repetition finds super-linear paths)
            j = rnd.randrange(len(b))
            piece = bytes(b[j:j + rnd.randint(1, 16)])
            b[i:i] = piece * rnd.randint(1, 64)
        elif op == 4:
            b[i:i] = rnd.choice(TOKENS) * rnd.randint(2, 200)
        else:
            j = rnd.randrange(len(b) + 1)
            b[i:i], b[j:j] = b"\n", rnd.choice(TOKENS)
    return bytes(b[:max_len])


def main() -> None:
    kind, seconds = sys.argv[1], float(sys.argv[2])
    max_len = int(sys.argv[3]) if len(sys.argv) > 3 else 2048
    one = setup(kind)
    corpus = HERE / "corpus" / kind
    seeds = [p.read_bytes()[:max_len] for p in sorted(corpus.iterdir())] if corpus.is_dir() else []
    seeds = [s for s in seeds if s] or [b"\x00"]
    artifacts = HERE / "artifacts"
    artifacts.mkdir(exist_ok=True)
    rnd = random.Random(int(os.environ.get("SEED", "12")))
    signal.signal(signal.SIGALRM, _alarm)
    start = time.time()
    runs = crashes = 0
    while time.time() - start < seconds:
        data = mutate(rnd, rnd.choice(seeds), max_len)
        signal.alarm(20)
        try:
            one(data)
        except BaseException as exc:  # noqa: BLE001 - every escape is a finding
            if isinstance(exc, KeyboardInterrupt):
                raise
            crashes += 1
            name = artifacts / f"{kind}-mutate-{crashes}"
            name.write_bytes(data)
            name.with_suffix(".txt").write_text(("HANG\n" if isinstance(exc, Hang) else "") + traceback.format_exc())
        finally:
            signal.alarm(0)
        runs += 1
    print(f"{kind}: {runs} inputs, {crashes} crashes, {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
