"""docs/lab.md is written from one run (`--lab-report`): a run of part of the lab must not drop the
rows of the parts it did not run (no daemon is started here)."""

from __future__ import annotations

import scenarios as sc

OLD = """# The lab

| scenario | config | predicted by pgpath | observed | match |
|---|---|---|---|---|
| H1 (lab row 3) | PgBouncer client_idle_timeout 2 | closed at 2 s | closed at 2.0 s | yes |
| N1-drop | keepalive 7200 s | dropped | hang | yes |

| scenario | rule | config | predicted by pgpath (`pgpath check`) | observed | match |
|---|---|---|---|---|---|
| START8 | PATH007 | pgjdbc 42.7.4 | PATH007 error | FATAL: unsupported startup parameter: extra_float_digits | yes |
"""


def test_row_ids_are_the_first_cells_of_both_tables():
    assert sc.row_ids(OLD) == {"H1", "N1-drop", "START8"}


def test_a_partial_run_leaves_the_report_and_names_the_rows_it_lacks(tmp_path, monkeypatch):
    monkeypatch.setattr(sc, "RULE_ROWS", {"START12": ("PATH007", "pgjdbc 42.5.5", "PATH007 error", "error: FATAL", True)})
    monkeypatch.setattr(sc, "versions", lambda: "test")
    monkeypatch.setattr(sc, "REPORT", {})  # (the lab's own run, earlier in the same session, is not this one)
    monkeypatch.setattr(sc, "DURATIONS", {})
    doc = tmp_path / "lab.md"
    doc.write_text(OLD, encoding="utf-8")
    refused = sc.write_report(doc)
    assert refused is not None and "no row H1, N1-drop, START8" in refused, refused
    assert doc.read_text(encoding="utf-8") == OLD
    # a run with every row the file has (and more) writes it
    doc.write_text(OLD.split("\n\n| scenario | rule")[0].split("| H1")[0], encoding="utf-8")
    assert sc.write_report(doc) is None
    assert "| START12 | PATH007 | pgjdbc 42.5.5 |" in doc.read_text(encoding="utf-8")
