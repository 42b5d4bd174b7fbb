"""atheris harness for the keepalived loader: `python fuzz/fuzz_keepalived.py fuzz/corpus/keepalived -max_total_time=600`
(see docs/robustness.md; seeds: `python fuzz/seeds.py`)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz.common import main  # noqa: E402

if __name__ == "__main__":
    main("keepalived")
