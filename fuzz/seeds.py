"""Seed corpora for the fuzz harnesses: fuzz/corpus/<kind>/ from samples/, the tests' rule
fixtures and ../shared/corpus (when present), each file given to the kind pgpath detects for it.

    python fuzz/seeds.py            # writes fuzz/corpus/<kind>/<n> (git-ignored)

A seed is the harness's input format: one byte choosing the file name (see fuzz/common.py
NAMES), then the file's bytes.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.engine import _kind_of  # noqa: E402
from fuzz.common import NAMES  # noqa: E402

SOURCES = [ROOT / "samples", ROOT / "tests" / "rules", ROOT / "tests" / "fixtures", ROOT.parent / "shared" / "corpus"]


def seeds():
    for base in SOURCES:
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if not path.is_file() or path.suffix in (".expected", ".md") or path.stat().st_size > 1_000_000:
                continue
            kind = _kind_of(str(path), sniff=True)
            if kind not in NAMES:
                continue
            names = [n.lower() for n in NAMES[kind]]
            lower = path.name.lower()
            pick = next((i for i, n in enumerate(names) if lower.endswith(n) or n.endswith(lower)), 0)
            yield kind, bytes([pick]) + path.read_bytes()


def main() -> None:
    counts: dict[str, int] = {}
    for kind, data in seeds():
        out = ROOT / "fuzz" / "corpus" / kind
        out.mkdir(parents=True, exist_ok=True)
        (out / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)
        counts[kind] = counts.get(kind, 0) + 1
    for kind in NAMES:
        print(f"{kind}: {counts.get(kind, 0)} seeds")


if __name__ == "__main__":
    main()
