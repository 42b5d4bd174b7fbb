"""`exclude:` patterns are matched as fnmatch.fnmatch matches them (the engine skips fnmatch's
regular expression for a literal or a literal followed by one `*`)."""

from __future__ import annotations

import fnmatch

from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.engine import _fnmatch

names = st.text(alphabet=st.sampled_from(list("ab./*?[]!-\\")), max_size=12)


@settings(max_examples=500, deadline=None)
@given(names, names)
def test_exclude_patterns_match_as_fnmatch_does(name, pattern):
    assert _fnmatch(name, pattern) == fnmatch.fnmatch(name, pattern)


def test_the_repository_patterns():
    for pattern in ("./tests/*", "./samples/risky/*", "pgpath.yaml", "*.j2"):
        for name in ("./tests/rules/x.conf", "./tests", "./samples/risky/a/b", "./samples/riskyx", "pgpath.yaml",
                     "a/pgpath.yaml", "x.conf.j2", "./tests/*"):
            assert _fnmatch(name, pattern) == fnmatch.fnmatch(name, pattern), (name, pattern)
