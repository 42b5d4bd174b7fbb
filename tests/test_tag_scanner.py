"""advisor.tags finds exactly the matches of the regular expressions it replaces (which are
quadratic on inputs like 50,000 `{`)."""

from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from advisor.tags import BareVar, DollarVar, Pair, scan

TEMPLATE = (re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<%.*?%>|\$\{[^}\n]*\}|%\{[^}\n]*\}"),
            (Pair("{{", "}}"), Pair("{%", "%}"), Pair("{#", "#}"), Pair("<%", "%>"), Pair("${", "}"), Pair("%{", "}")))
HINT = (re.compile(r"\{\{.*?\}\}|\{%.*?%\}|<%=?.*?%>"), (Pair("{{", "}}"), Pair("{%", "%}"), Pair("<%", "%>")))
MULTILINE = (re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<%.*?%>", re.DOTALL),
             tuple(Pair(o, c, multiline=True) for o, c in (("{{", "}}"), ("{%", "%}"), ("{#", "#}"), ("<%", "%>"))))
PLACEHOLDER = (re.compile(r"\$\{(?P<var>[^}:\-\s]*)(?:(?P<sep>:-|:|-)(?P<default>[^}]*))?\}"
                          r"|\{\{.*?\}\}|<%=?.*?%>|\{%.*?%\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"),
               (DollarVar(), Pair("{{", "}}"), Pair("<%", "%>"), Pair("{%", "%}"), BareVar()))

texts = st.text(alphabet="{}%#<>=$:- \n\taZ_9", max_size=40)


def _regex(pattern, text, with_default=False):
    out = []
    for m in pattern.finditer(text):
        extra = (m.group("default") if m.group("sep") else None) if with_default else None
        out.append((m.start(), m.end(), extra))
    return out


def _scanner(forms, text, with_default=False):
    return [(a, b, extra if with_default else None) for a, b, _, extra in scan(text, forms)]


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_scanner_finds_what_the_regexes_find(text):
    for pattern, forms in (TEMPLATE, HINT, MULTILINE):
        assert _scanner(forms, text) == _regex(pattern, text), (pattern.pattern, text)
    assert _scanner(PLACEHOLDER[1], text, True) == _regex(PLACEHOLDER[0], text, True), text


def test_the_loaders_use_these_forms():
    from advisor.loaders.template import _TAG_FORMS

    assert [(f.opener, f.closer) for f in _TAG_FORMS] == [(f.opener, f.closer) for f in TEMPLATE[1]]


def test_known_cases():
    assert _scanner(TEMPLATE[1], "a {{ x }} b ${Y} {% if %}") == [(2, 9, None), (12, 16, None), (17, 25, None)]
    assert _scanner(PLACEHOLDER[1], "${A:-x}${B}$C", True) == [(0, 7, "x"), (7, 11, None), (11, 13, None)]
    assert _scanner(TEMPLATE[1], "{" * 1000 + "}}") == [(0, 1002, None)]


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="'\\\na b\r", max_size=30))
def test_postgresql_string_scanner_matches_the_lexer_pattern(text):
    from advisor.loaders.postgresql_conf import _STRING, _string_end

    line = "'" + text
    m = _STRING.match(line)
    assert _string_end(line, 0) == (m.end() if m else None), line


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="aZ_09-._:/ ,;=é\x7f", max_size=20))
def test_unquoted_string_class_is_the_flex_rule(text):
    from advisor.loaders.postgresql_conf import _L, _LD, _UNQUOTED_STRING

    reference = re.compile(rf"[{_L}](?:[{_LD}]|[-._:/])*")
    m, r = _UNQUOTED_STRING.match(text), reference.match(text)
    assert (m and m.end()) == (r and r.end()), text
