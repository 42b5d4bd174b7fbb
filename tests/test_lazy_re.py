"""advisor.lazy_re: patterns compiled on first use, made from a remembered compilation when a
run before compiled them (the same Pattern object re.compile makes)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import advisor
from advisor import lazy_re

ROOT = Path(__file__).resolve().parent.parent
needs_311 = pytest.mark.skipif(sys.version_info < (3, 11) or sys.implementation.name != "cpython",
                               reason="compilations are remembered on CPython 3.11+ only")


def every_lazy_pattern() -> list[tuple[str, int]]:
    found = set()
    for info in pkgutil.walk_packages(advisor.__path__, "advisor."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, lazy_re.LazyPattern):
                found.add(value._source)
    return sorted(found, key=repr)


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("PGPATH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(lazy_re, "_remembered", None)
    monkeypatch.setattr(lazy_re, "_compiled_here", {})
    return tmp_path


@needs_311
def test_every_pattern_is_made_as_re_compile_makes_it_and_again_from_the_file(fresh, monkeypatch):
    patterns = every_lazy_pattern()
    assert len(patterns) > 50
    for pattern, flags in patterns:
        assert lazy_re._compile(pattern, flags) == re.compile(pattern, flags), pattern  # == compares the code
    lazy_re.save()
    [entry] = [p for p in fresh.iterdir() if p.name.startswith("regex-")]
    monkeypatch.setattr(lazy_re, "_remembered", None)

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(lazy_re, "_compilation", no_parsing)
    for pattern, flags in patterns:
        made = lazy_re._compile(pattern, flags)
        expected = re.compile(pattern, flags)
        assert made == expected and made.groupindex == expected.groupindex and made.groups == expected.groups
    assert entry.stat().st_size > 0


@needs_311
def test_a_damaged_file_or_entry_only_means_compiling_again(fresh, monkeypatch):
    lazy_re._compile(r"(?P<a>x+)y", 0)
    lazy_re.save()
    [entry] = [p for p in fresh.iterdir() if p.name.startswith("regex-")]
    import marshal

    entry.write_bytes(marshal.dumps({(r"(?P<a>x+)y", 0): (32, [1, 2, 3], 0, {"a": 1}, (None, "a"))}))  # bad code
    monkeypatch.setattr(lazy_re, "_remembered", None)
    assert lazy_re._compile(r"(?P<a>x+)y", 0).match("xxy").group("a") == "xx"
    entry.write_bytes(b"\x00not marshal")
    monkeypatch.setattr(lazy_re, "_remembered", None)
    assert lazy_re._compile(r"(?P<a>x+)y", 0) == re.compile(r"(?P<a>x+)y")


def test_an_empty_cache_folder_turns_it_off(monkeypatch, tmp_path):
    monkeypatch.setenv("PGPATH_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(lazy_re, "_remembered", None)
    monkeypatch.setattr(lazy_re, "_compiled_here", {})
    assert lazy_re._compile(r"a+b", 0).match("aab")
    lazy_re.save()
    assert not any(tmp_path.iterdir())


@needs_311
def test_a_second_run_compiles_nothing_it_remembered(tmp_path):
    """The CLI writes what a run compiled; the next run of the same check parses no pattern."""
    env = {**os.environ, "PGPATH_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    code = ("import sys, re._parser as p\n"
            "seen = []\n"
            "parse = p.parse\n"
            "def counting(source, *a, **k):\n"
            "    seen.append(source)\n"
            "    return parse(source, *a, **k)\n"
            "p.parse = counting\n"
            "from advisor import lazy_re\n"
            "from advisor.cli import run_app\n"
            "sys.argv = ['pgpath', 'check', 'samples/healthy']\n"
            "code = run_app()\n"
            "lazy_re.save()\n"
            "print(code, sum(1 for s in seen if lazy_re._remembered and (s, 0) in lazy_re._remembered),"
            " len(lazy_re._remembered or ()), file=sys.stderr)\n")
    first = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    again = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.stdout == again.stdout and first.stdout
    code1, _, remembered1 = first.stderr.split()[-3:]
    code2, parsed_again, remembered2 = again.stderr.split()[-3:]
    assert code1 == code2 == "0" and remembered1 == "0" and int(remembered2) > 10 and parsed_again == "0"
