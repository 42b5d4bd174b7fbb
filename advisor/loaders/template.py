"""Template files (Jinja, ERB, Go/Helm, confd): where their placeholders are.

pgpath lints templates as they are written: a placeholder's value is unknown until deploy, so
the loaders read it as `Unknown`, never as an error; control statements (`{% if %}`,
`<% end %>`) and template comments are read as blank.
"""

from __future__ import annotations

import re
import sys

from advisor import lazy_re
from advisor.tags import Pair, scan, search

TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".erb", ".tmpl", ".tpl", ".template", ".ctmpl", ".mustache", ".hbs",
                     ".handlebars", ".tftpl")

# the tag forms: `\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<%.*?%>|\$\{[^}\n]*\}|%\{[^}\n]*\}`, found by advisor.tags in
# linear time (the regex restarted at every brace: 50,000 `{` took 11 s)
_TAG_FORMS = (Pair("{{", "}}"), Pair("{%", "%}"), Pair("{#", "#}"), Pair("<%", "%>"), Pair("${", "}"), Pair("%{", "}"))
_HINT_FORMS = _TAG_FORMS[:2] + _TAG_FORMS[3:4]  # `{{ }}`, `{% %}`, `<% %>` (`<%=?.*?%>` finds the same)


def strip_template_suffix(name: str) -> str:
    """`postgresql.conf.j2` -> `postgresql.conf`; `pgbouncer.ini.erb` -> `pgbouncer.ini`."""
    lower = name.lower()
    if lower.endswith(".j2"):  # `postgresql.conf-17.j2` (one template per major) -> `postgresql.conf`
        m = re.match(r"^(.*\.conf)-[\w.]+\.j2$", name, re.IGNORECASE)
        if m:
            return m.group(1)
    for suffix in TEMPLATE_SUFFIXES:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def is_template(path: str, text: str) -> bool:
    """True for a file with a template suffix, or with template tags in its text."""
    if path.lower().endswith(TEMPLATE_SUFFIXES):  # (`postgresql.conf-17.j2` too)
        return True
    if "{" not in text and "<" not in text:  # one-character searches are memchr: ~10x faster than "{{"
        return False
    if "{{" not in text and "{%" not in text and "<%" not in text:
        return False  # no opening tag at all: skip the regex scan (large files)
    return search(text, _HINT_FORMS)


def placeholders(line: str) -> list[tuple[int, int, bool]]:
    """(start, end, is_expression) of each template tag on a line.

    Expressions (`{{ x }}`, `<%= x %>`, `${X}`) stand for a value; statements and comments
    (`{% if %}`, `{# #}`, `<% end %>`) stand for nothing.
    """
    if "{" not in line and "<" not in line:
        return []
    out = []
    for start, end, opener, _ in scan(line, _TAG_FORMS):
        expression = ((opener == "{{" and not _is_block_tag(line[start:end])) or opener == "${"
                      or line.startswith("<%=", start))
        out.append((start, end, expression))
    return out


# Handlebars/Mustache sections, comments and partials (`{{#if x}}`, `{{/if}}`, `{{^x}}`, `{{!c}}`,
# `{{> p}}`, `{{else}}`) and Go/Helm actions (`{{ if }}`, `{{- end }}`, `{{ range }}`...) stand for
# no value; Terraform's `%{ if }`/`%{ endfor }` directives are matched as statements above
_BLOCK_WORDS = ("if", "else", "end", "range", "with", "define", "block", "unless", "each")


def _is_block_tag(tag: str) -> bool:
    body = tag[2:-2].strip("-~ \t")
    if not body:
        return False
    if body[0] in "#/^!>":
        return True
    words = body.split(None, 1)  # empty when the body is only other white space (`{{\x1f}}`)
    if not words:
        return False
    word = words[0]
    return word in _BLOCK_WORDS and (word in ("else", "end") or len(body.split()) > 1)


_CAPS_PLACEHOLDER = lazy_re.compile(r"^[A-Z][A-Z0-9]*_[A-Z0-9_]+$|^[A-Z]{3,}$")


def looks_like_caps_placeholder(value: str) -> bool:
    """A bare `MAX_CONNECTIONS`-style token that a deploy script substitutes (sed/envsubst)."""
    return bool(_CAPS_PLACEHOLDER.match(value))


# `= DEFAULT_POOL_SIZE`, `port=PG_PORT`, `= 'WORK_MEM'`: a value that is one capitalised sed/envsubst
# target with an underscore
# (Python 3.11+: the blanks and the quote possessive, which finds the same matches, since what follows
# them can never be a blank or a quote; the scan of a whole file is then a third faster: a 9 MB
# postgresql.conf 9.5 ms -> 6.6 ms, most of it one failed attempt at each '=')
_SED_TARGET_VALUE_PLAIN = r"=[ \t]*'?[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]'?(?=[ \t;#]|$)"
_SED_TARGET_VALUE_POSSESSIVE = r"=[ \t]*+'?+[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]'?(?=[ \t;#]|$)"
_SED_TARGET_VALUE = lazy_re.compile(
    _SED_TARGET_VALUE_POSSESSIVE if sys.version_info >= (3, 11) else _SED_TARGET_VALUE_PLAIN, re.MULTILINE)
_SED_TARGET = lazy_re.compile(r"^[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]$")
SED_TEMPLATE_MIN_TARGETS = 2


def is_sed_template(text: str) -> bool:
    """A file whose values include at least two capitalised sed/envsubst targets (`DEFAULT_POOL_SIZE`,
    `PG_PORT`): a template a deploy script fills in, whatever its name."""
    if "_" not in text:
        return False
    count = 0
    for _ in _SED_TARGET_VALUE.finditer(text):
        count += 1
        if count >= SED_TEMPLATE_MIN_TARGETS:
            return True
    return False


def looks_like_sed_target(value: str) -> bool:
    """`DEFAULT_POOL_SIZE`: a capitalised token with an underscore (never a valid PgBouncer or
    PostgreSQL value, unlike `REQUIRE` or `ON`)."""
    return bool(_SED_TARGET.match(value))

