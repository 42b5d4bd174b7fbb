"""The summary line of the PostgreSQL majors: its counts and reasons agree, whatever the mix.

Scenario audit 17, D11: s04 with its topology said "PostgreSQL 15 for 2 files: 2 by the topology:
declared in pgpath.yaml:6 ...; and 1 other reason", read as 2 + 1 files for 2. Each source's part
now says how many files and, when they differ, how many distinct reasons, with one example."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from advisor.engine import make_settings, run
from advisor.model import ConfigDoc
from advisor.pgversion import summary_lines
from advisor.reporters import render

AUDIT = Path(__file__).resolve().parent / "scenarios" / "audit17"


def docs_of(files: list[tuple[int, str, str]]) -> list[ConfigDoc]:
    """A document per (major, source, reason), each its own file."""
    return [ConfigDoc(f"f{i}.conf", "postgresql", meta={"pg_version": major, "pg_version_source": source,
                                                       "pg_version_reason": reason})
            for i, (major, source, reason) in enumerate(files)]


TOPO = "declared in pgpath.yaml:{}: version: 15 of the postgres hop of deployment {}"
MIXES = {
    "one reason": [(15, "topology", TOPO.format(6, "a"))] * 2,
    "s04: two declarations": [(15, "topology", TOPO.format(6, "a")), (15, "topology", TOPO.format(11, "b"))],
    "three sources": [(16, "file", "image postgres:16 in a.yml:3"), (16, "file", "image postgres:16.4 in b.yml:3"),
                      (16, "file", "image postgres:16 in a.yml:3"), (16, "neighbourhood", "image postgres:16 in a.yml:3, beside it"),
                      (16, "default", "the newest supported")],
    "two majors": [(18, "default", "the newest supported"), (18, "default", "the newest supported"),
                   (14, "file", "the files are for PostgreSQL 13, per x; 14 is the oldest catalog pgpath has"),
                   (14, "file", "/etc/postgresql/14 in y:1"), (14, "run", "/etc/postgresql/14 in y:1, the only major read")],
}


@pytest.mark.parametrize("mix", list(MIXES))
def test_each_lines_counts_add_up_and_say_how_many_reasons(mix):
    files = MIXES[mix]
    lines = summary_lines(docs_of(files))
    majors = sorted({m for m, _, _ in files})
    assert len(lines) == len(majors) or (len(lines) == 1 and len({(m, r) for m, _, r in files}) == 1), lines
    for line in lines:
        m = re.match(r"PostgreSQL (\d+)(?: assumed)? (?:for (\d+) files?: )?", line)
        major = int(m.group(1))
        mine = [(s, r) for n, s, r in files if n == major]
        if not m.group(2):
            assert len({r for _, r in mine}) == 1 and line.endswith(f"({mine[0][1]})"), line
            continue
        assert int(m.group(2)) == len(mine), line
        rest = line[m.end():]
        if len({r for _, r in mine}) == 1:
            assert rest == f"({mine[0][1]})", line
            continue
        # "<n> <source words> (<reason>)" or "<n> <source words> (<k> different reasons, e.g. <reason>)"
        parts = re.findall(r"(?:^|; )(\d+) (by [^(]+|as the others say|given) \((?:(\d+) different reasons, e\.g\. )?",
                           rest)
        assert sum(int(n) for n, _, _ in parts) == len(mine), (line, parts)
        for n, words, k in parts:
            source = next(s for s, w in _WORDS.items() if w == words.strip())
            distinct = {r for s, r in mine if s == source}
            assert int(n) == sum(1 for s, _ in mine if s == source), line
            assert (int(k) if k else 1) == len(distinct), line
        assert "other reason" not in line


_WORDS = {"option": "given", "topology": "by the topology", "file": "by their own evidence",
          "deployment": "by the file that mounts them", "neighbourhood": "by the files beside them",
          "run": "as the others say", "default": "by default"}


def test_the_s04_line_says_two_files_for_two_declarations(tmp_path):
    """s04's files (pgpath.yaml declares version 15 for postgresql.conf in warehouse-api, first,
    and for the migration in finance-reports)."""
    shutil.copytree(AUDIT / "s04", tmp_path / "s04")
    cwd = os.getcwd()
    os.chdir(tmp_path / "s04")
    try:
        text = render(run(make_settings({"paths": ["."]}, config_path="pgpath.yaml")), "text")
    finally:
        os.chdir(cwd)
    assert ("PostgreSQL 15 for 2 files: 2 by the topology (2 different reasons, e.g. declared in pgpath.yaml:6: "
            "version: 15 of the postgres hop of deployment warehouse-api)") in text, text
