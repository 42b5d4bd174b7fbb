import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PGPATH_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"


# pgpath remembers validated pgpath.yaml files (advisor.config_cache) under the user's cache
# folder; the tests, and the pgpath processes they start, keep theirs in a folder of this run
if "PGPATH_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["PGPATH_CACHE_DIR"] = tempfile.mkdtemp(prefix="pgpath-test-cache-")


def corpus_files(folder: str, pattern: str = "*") -> list[Path]:
    """Files of ../shared/corpus/<folder>; empty when the corpus is absent."""
    base = CORPUS / folder
    if not base.is_dir():
        return []
    return sorted(p for p in base.glob(pattern) if p.is_file())


def require_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"../shared/corpus is absent here ({CORPUS}); corpus tests need the shared checkout")


# CI runs the property tests with a fixed derandomized sequence, so a submission's result does
# not depend on luck; locally they explore new examples on every run (and keep failures in
# .hypothesis/ for replay).
try:
    from hypothesis import settings as _hypothesis_settings

    # database=None: no example database is read or written in CI, so an example that failed in
    # some earlier run (kept in a local .hypothesis/, which git ignores) never fails a clean run
    _hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True, database=None)
    if os.environ.get("CI"):
        _hypothesis_settings.load_profile("ci")
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    pass


# The lab (tests/lab) writes its scenario table (predicted by pgpath vs observed) to the file
# given here: `python -m pytest -m lab --lab-report docs/lab.md`.
def pytest_addoption(parser):
    parser.addoption("--lab-report", default=None, metavar="PATH",
                     help="write the lab's scenario table (docs/lab.md) from this run")


def pytest_sessionfinish(session, exitstatus):
    import sys

    path = session.config.getoption("--lab-report", None)
    lab = sys.modules.get("scenarios")
    if path and lab is not None and lab.REPORT:
        refused = lab.write_report(Path(path))
        if refused:
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(refused, yellow=True)
            else:
                print(refused, file=sys.stderr)
    elif path:
        print(f"--lab-report: {path} not written: this run had no lab table (tests/lab/test_lab_loopback.py and "
              "test_lab_middlebox.py make it; run the whole lab)", file=sys.stderr)
