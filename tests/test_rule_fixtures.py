"""Each rule's bad and good cases, run with only that rule on, diffed against `<case>.expected`.

Set PGPATH_UPDATE_FIXTURES=1 to write the expected files from the current output (then read the
diff before committing it).
"""

import os

import pytest

from rule_cases import cases, run_case

CASES = cases()


@pytest.mark.parametrize("code,case", CASES, ids=[f"{c}/{p.name}" for c, p in CASES])
def test_rule_case(code, case):
    report, text = run_case(code, case)
    own = [f for f in report.findings if f.code == code]
    if case.name.startswith("bad"):
        assert own, f"{code}: the bad case {case.name} gave no finding of this rule"
    else:
        assert not own, f"{code}: the good case {case.name} gave findings:\n{text}"
    assert not report.input_errors, [str(e) for e in report.input_errors]
    expected = case.parent / f"{case.name}.expected"
    if os.environ.get("PGPATH_UPDATE_FIXTURES"):
        expected.write_text(text)
    assert expected.is_file(), f"missing {expected.name}; run with PGPATH_UPDATE_FIXTURES=1 to create it"
    assert text == expected.read_text()
