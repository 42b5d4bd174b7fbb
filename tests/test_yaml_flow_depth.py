"""advisor.loaders.yaml_nodes.flow_too_deep: the pre-check that refuses `[[[[...` before PyYAML's
scanner spends the square of the depth on it. It must never refuse what it should not: a bracket
in a comment, a quoted scalar or a plain scalar is not a collection."""

from __future__ import annotations

import time

import yaml
from hypothesis import given, settings, strategies as st

from advisor.loaders.yaml_nodes import MAX_FLOW_DEPTH, YamlError, compose, flow_too_deep

_scalars = st.one_of(st.integers(), st.text(alphabet="ab[]{}#'\": ,-?", max_size=12), st.booleans(), st.none())


def _nested(depth: int, leaf):
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_FLOW_DEPTH), _scalars, st.booleans())
def test_what_pyyaml_reads_at_the_limit_is_never_refused(depth, leaf, flow):
    """Documents of every depth up to the limit (flow or block style, with brackets, quotes and
    `#` inside their scalars): the pre-check lets them through, and PyYAML reads them back."""
    value = _nested(depth, leaf)
    body = ("items: " + yaml.safe_dump(value, default_flow_style=True, width=10**9) if flow
            else yaml.safe_dump({"items": value}, default_flow_style=False, width=10**9))
    text = "# [[[[ {{{{\n" + body.replace("\n...\n", "\n")  # (a scalar's dump ends its document)
    text += "note: 'a [[[[ b'  # ]]] [[[\nplain: a[[[[ - [[[[\n"
    assert flow_too_deep(text) is None
    assert yaml.safe_load(text)["plain"] == "a[[[[ - [[[["


def test_deeper_collections_are_refused_at_the_bracket_in_linear_time():
    text = "a: 1\nb: " + "[" * (MAX_FLOW_DEPTH + 1) + "]" * (MAX_FLOW_DEPTH + 1) + "\n"
    assert flow_too_deep(text) == (2, 4 + MAX_FLOW_DEPTH)
    try:
        compose(text)
        raise AssertionError("composed")
    except YamlError as exc:
        assert (exc.line, exc.col) == (2, 4 + MAX_FLOW_DEPTH) and "nested more than 200 deep" in exc.message
    # 2,000,000 brackets in each shape the scan skips or counts: a fraction of a second each
    for shape in ("x: " + "[" * 2_000_000, "- " + "[] " * 700_000, "a: b" + "[" * 2_000_000,
                  "# " + "{" * 2_000_000, "a: '" + "[" * 2_000_000 + "'", ("- [a, {b: c}]\n" * 150_000)):
        start = time.process_time()
        flow_too_deep(shape)
        assert time.process_time() - start < 1.5, shape[:20]
