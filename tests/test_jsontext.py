"""advisor.reporters.jsontext writes the same text as json.dumps(indent=2, ensure_ascii=False)."""

import enum
import json

import pytest
from hypothesis import given, settings, strategies as st

from advisor.reporters import jsontext
from advisor.findings import Severity


class Odd:
    def __str__(self) -> str:
        return "odd \u00e9\n"


class Label(str):
    pass


class Number(enum.IntEnum):
    ONE = 1


scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | st.text() | st.sampled_from([Odd(), Label("x\"y"), Number.ONE, Severity.ERROR, 2 ** 80]))
keys = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(keys, inner, max_size=4), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(values)
def test_same_text_as_json_dumps(value):
    assert jsontext.dumps(value, default=str) == json.dumps(value, indent=2, ensure_ascii=False, default=str)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(), values, max_size=4), st.lists(values, max_size=4), st.lists(values, max_size=3))
def test_chunks_join_to_the_same_text(top, first, second):
    data = {**top, "first": first, "second": second, "after": 1}
    lazy = {**top, "first": jsontext.Items(iter(first)), "second": jsontext.Items(x for x in second), "after": 1}
    expected = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    assert "".join(jsontext.chunks(lazy, default=str)) == expected
    assert "".join(jsontext.chunks({})) == json.dumps({}, indent=2)


def test_refuses_what_json_refuses():
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsontext.dumps({"a": Odd()})
    with pytest.raises(TypeError, match="keys must be str"):
        jsontext.dumps({(1, 2): 1})
