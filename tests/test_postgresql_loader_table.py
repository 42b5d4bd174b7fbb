"""postgresql.conf loading, as tables of input -> value/span, and a property that nothing raises.

Facts from ../shared/reference/connection-timeouts.md 1.2 and lab-observations.md, observed on
real PostgreSQL; tests/test_postgresql_parity.py checks the same against a running server.
"""

import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.catalog import load_catalog
from advisor.loaders.postgresql_conf import deescape, lex_line, load

CAT15 = load_catalog(15)


def load_text(tmp_path, text, name="postgresql.conf", major=15, **options):
    path = tmp_path / name
    path.write_text(text)
    return load(str(path), {"catalog": load_catalog(major), **options})


@pytest.mark.parametrize(
    "line,name,value",
    [
        ("statement_timeout = 90", "statement_timeout", 90),  # bare number: base unit ms
        ("tcp_keepalives_idle = 90", "tcp_keepalives_idle", 90),  # base unit s
        ("shared_buffers = 16", "shared_buffers", 16),  # 8 kB blocks
        ("shared_buffers = 128MB", "shared_buffers", 16384),
        ("work_mem = '1.5MB'", "work_mem", 1536),
        ("statement_timeout = '1500us'", "statement_timeout", 2),  # rounded half to even
        ("statement_timeout = '1.5min'", "statement_timeout", 90000),
        ("idle_session_timeout = 0.5", "idle_session_timeout", 0),
        ("work_mem = '8 MB'", "work_mem", 8192),  # space allowed inside quotes
        ("max_connections = '0x64'", "max_connections", 100),
        ("max_connections = '0144'", "max_connections", 100),  # octal
        ("Work_Mem 12MB", "work_mem", 12288),  # '=' optional, names case-insensitive
        ("ssl = of", "ssl", False),  # unambiguous prefix
        ("ssl = TRUE", "ssl", True),
        ("huge_pages = yes", "huge_pages", "on"),  # hidden enum spelling, shown as PostgreSQL shows it
        ("wal_level = REPLICA", "wal_level", "replica"),
        ("cluster_name = 'it''s'", "cluster_name", "it's"),
        ("cluster_name = 'a\\'b'", "cluster_name", "a'b"),
        ("log_line_prefix = '\\101\\t'", "log_line_prefix", "A\t"),  # (cluster_name would clean the tab)
        ("cluster_name = '\\x41'", "cluster_name", "x41"),
        ("cluster_name = a.b-c", "cluster_name", "a.b-c"),  # unquoted string with '-' is one token
        ("my.custom = 'x'", "my.custom", "x"),
    ],
)
def test_values(tmp_path, line, name, value):
    doc = load_text(tmp_path, line + "\n")
    assert not doc.diagnostics, doc.diagnostics
    assert doc.get(name).value == value


@pytest.mark.parametrize(
    "line,kind,col",
    [
        ("work_mem = 8 MB", "syntax-error", 14),
        ("work_mem = 1.5GB", "syntax-error", 15),  # unquoted fraction with unit
        ("cluster_name = a.b", "syntax-error", 16),
        ("include x.conf", "syntax-error", 9),
        ("listen_addresses = 'x", "syntax-error", 20),
        ("= 5", "syntax-error", 1),
        ("work_mem =", "syntax-error", 11),
        ("work_mem = 8mb", "invalid-value", 12),
        ("tcp_keepalives_idle = 1m", "invalid-value", 23),
        ("work_mem = '10 mb'", "invalid-value", 12),
        ("ssl = o", "invalid-value", 7),
        ("ssl_min_protocol_version = 'TLSv1.0'", "invalid-value", 28),
        ("shared_buffers = 100kB", "out-of-range", 18),
        ("shared_bufers = 1GB", "unknown-parameter", 1),
    ],
)
def test_errors_at_line_and_column(tmp_path, line, kind, col):
    doc = load_text(tmp_path, "# first line\n" + line + "\n")
    kinds = [(d.kind, d.span.line, d.span.col) for d in doc.diagnostics]
    assert (kind, 2, col) in kinds, kinds


def test_last_occurrence_wins_and_all_are_kept(tmp_path):
    doc = load_text(tmp_path, "work_mem = 4MB\nwork_mem = 8MB\n")
    occ = [(s.raw, s.value, s.effective, s.span.line) for s in doc.settings if s.name == "work_mem"]
    # PostgreSQL skips the first line unread (same spelling later): kept, not typed
    assert occ == [("4MB", None, False, 1), ("8MB", 8192, True, 2)]
    doc = load_text(tmp_path, "work_mem = 4MB\nwork_mem = 8MB\n", type_skipped=True)  # what `pgpath dump` asks
    occ = [(s.raw, s.value, s.effective, s.span.line) for s in doc.settings if s.name == "work_mem"]
    assert occ == [("4MB", 4096, False, 1), ("8MB", 8192, True, 2)]


def test_skipped_occurrence_is_not_validated_but_other_spellings_are(tmp_path):
    doc = load_text(tmp_path, "work_mem = 'lots'\nWork_Mem = 'more'\nwork_mem = 8MB\n")
    assert [(d.kind, d.span.line) for d in doc.diagnostics] == [("invalid-value", 2)]
    assert [(s.name, s.value, s.effective) for s in doc.settings] == [
        ("work_mem", None, False), ("work_mem", None, False), ("work_mem", 8192, True)]


def test_rest_of_file_is_read_after_a_syntax_error(tmp_path):
    doc = load_text(tmp_path, "work_mem = 8 MB\nmax_connections = 50\n")
    assert doc.get("max_connections").value == 50


def test_auto_conf_beside_the_file_is_applied_last(tmp_path):
    (tmp_path / "postgresql.auto.conf").write_text("work_mem = '64MB'\n")
    doc = load_text(tmp_path, "work_mem = 4MB\n")
    assert doc.get("work_mem").value == 65536
    assert doc.get("work_mem").span.file.endswith("postgresql.auto.conf")


def test_include_dir_reads_only_conf_files_in_byte_order(tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    (d / "b.conf").write_text("work_mem = 2MB\n")
    (d / "a.conf").write_text("work_mem = 1MB\n")
    (d / ".hidden.conf").write_text("work_mem = 3MB\n")
    (d / "c.conf.bak").write_text("work_mem = 4MB\n")
    (d / "B.conf").write_text("work_mem = 5MB\n")  # 'B' < 'a' in byte order: read first
    doc = load_text(tmp_path, "include_dir 'conf.d'\n")
    assert [s.raw for s in doc.settings] == ["5MB", "1MB", "2MB"]
    assert [os.path.basename(f) for f in doc.files[1:]] == ["B.conf", "a.conf", "b.conf"]


def test_include_is_relative_to_the_including_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.conf").write_text("include 'b.conf'\n")
    (tmp_path / "sub" / "b.conf").write_text("work_mem = 2MB\n")
    doc = load_text(tmp_path, "include 'sub/a.conf'\n")
    assert doc.get("work_mem").value == 2048 and not doc.diagnostics


def test_template_placeholders_are_unknown_not_errors(tmp_path):
    text = (
        "max_connections = {{ pg_max_connections }}\n"
        "shared_buffers = '{{ sb }}MB'\n"
        "{% if ssl %}\nssl = on\n{% endif %}\n"
        "{{ item.key }} = {{ item.value }}\n"
        "work_mem = {{ wm }}MB\n"
    )
    doc = load_text(tmp_path, text, name="postgresql.conf.j2")
    assert doc.template
    assert not doc.diagnostics, doc.diagnostics
    assert doc.get("ssl").value is True
    assert type(doc.get("max_connections").value).__name__ == "Unknown"
    assert type(doc.get("work_mem").value).__name__ == "Unknown"


def test_deescape_matches_postgresql():
    assert deescape("'a''b'") == "a'b"
    assert deescape(r"'\n\101\q'") == "\nAq"
    assert deescape(r"'ab\000cd'") == "ab"  # a C string ends at NUL


lines = st.text(alphabet=st.sampled_from(list("ab_.=#'\\ \t0123456789xXeE+-MBkmsinhd{}%<>$\u00e9\r")), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(lines, max_size=8))
def test_no_input_makes_the_loader_raise(tmp_path_factory, body):
    tmp = tmp_path_factory.mktemp("h")
    path = tmp / "postgresql.conf"
    path.write_text("\n".join(body), encoding="utf-8")
    doc = load(str(path), {"catalog": CAT15})
    for d in doc.diagnostics:
        assert d.span.line is not None and d.span.line >= 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_lexer_never_raises(line):
    lex_line(line.replace("\n", " "))


fast_lines = st.lists(
    st.one_of(
        lines,
        st.builds(
            lambda n, sep, v, c: f"{n}{sep}{v}{c}",
            st.sampled_from(["work_mem", "Work_Mem", "ssl", "a.b", "x1", "include", "statement_timeout", "_x"]),
            st.sampled_from([" = ", "=", " ", "\t=\t", "", " =", "  "]),
            st.sampled_from(["8MB", "8", "-1", "0x10", "1.5", ".5", "5.", "1e3", "on", "'a''b'", "'x\\'y'", "'8 MB'",
                             "a.b", "a-b", "'unterminated", "8 MB", "'v'#c", "1.5e", "x1y", "\u00e9t\u00e9"]),
            st.sampled_from(["", " # c", "# pgpath: ignore[PG002] r", "\r", " x"]),
        ),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(fast_lines)
def test_fast_path_reads_lines_exactly_as_the_lexer(tmp_path_factory, body):
    """The one-regex fast path for ordinary lines gives what lex_line + the parser give."""
    import re

    import advisor.loaders.postgresql_conf as pc

    tmp = tmp_path_factory.mktemp("f")
    path = tmp / "postgresql.conf"
    path.write_text("\n".join(body), encoding="utf-8")
    options = {"catalog": CAT15, "no_auto_conf": True}
    fast_doc = pc.load(str(path), options)
    saved = pc._FAST_LINE
    pc._FAST_LINE = re.compile(r"(?!)")  # never matches: every line takes the lexer
    try:
        slow_doc = pc.load(str(path), options)
    finally:
        pc._FAST_LINE = saved
    assert fast_doc.settings == slow_doc.settings  # names, spellings, values, spans
    assert [(d.kind, d.span, d.message) for d in fast_doc.diagnostics] == [
        (d.kind, d.span, d.message) for d in slow_doc.diagnostics]
    assert fast_doc.suppressions == slow_doc.suppressions


@pytest.mark.skipif(sys.version_info < (3, 11), reason="possessive repeats need Python 3.11; 3.10 runs the plain pattern")
@settings(max_examples=400, deadline=None)
@given(st.one_of(lines, fast_lines.map(lambda body: body[0] if body else "")))
def test_possessive_fast_line_matches_exactly_as_the_plain_one(line):
    """Python 3.11+ runs the possessive pattern, 3.10 the plain one: they must match the same way."""
    import re

    import advisor.loaders.postgresql_conf as pc

    line = line.replace("\n", " ")
    plain = re.fullmatch(pc._FAST_LINE_PLAIN, line)
    possessive = re.fullmatch(pc._FAST_LINE_POSSESSIVE, line)
    assert (plain and plain.regs) == (possessive and possessive.regs)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["", "a", "bc = 1", "#", "d\r", "  e"]), max_size=30), st.integers(1, 12))
def test_line_blocks_give_the_lines_of_split(body, size):
    """The loader reads a file's lines in blocks cut at newlines: chained, exactly text.split("\\n")."""
    from itertools import chain

    from advisor.loaders.postgresql_conf import _line_blocks

    text = "\n".join(body)
    assert list(chain.from_iterable(_line_blocks(text, size))) == text.split("\n")


def test_a_file_of_many_blocks_reads_as_one_block(tmp_path, monkeypatch):
    """Block boundaries change nothing: line numbers, spans, values and diagnostics are those of
    reading the whole text at once."""
    import advisor.loaders.postgresql_conf as pc

    lines = []
    for i in range(400):
        lines += [f"work_mem = {i + 1}MB  # c{i}", "", "# comment", f"  port {5000 + i}",
                  f"statement_timeout = '{i}s'", "max_connections = MAX_CONNECTIONS", "shared_buffers = SHARED_BUFFERS"]
        if i % 100 == 99:
            lines.append("bad line here")
    path = tmp_path / "postgresql.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = {"catalog": CAT15, "no_auto_conf": True, "type_skipped": True}
    default = pc.load(str(path), options)  # 56 kB: one block of the default size
    line_blocks = pc._line_blocks
    monkeypatch.setattr(pc, "_line_blocks", lambda text: line_blocks(text, 97))  # ~600 blocks
    blocks = pc.load(str(path), options)
    monkeypatch.setattr(pc, "_line_blocks", lambda text: line_blocks(text, len(text) + 1))  # one block
    one = pc.load(str(path), options)
    assert len(blocks.settings) == 400 * 5
    assert default.settings == one.settings and default.diagnostics == one.diagnostics
    assert blocks.settings == one.settings
    assert [s.effective for s in blocks.settings] == [s.effective for s in one.settings]
    assert [(d.kind, d.span, d.message) for d in blocks.diagnostics] == [
        (d.kind, d.span, d.message) for d in one.diagnostics]
    assert blocks.diagnostics and blocks.meta == one.meta and blocks.meta.get("sed_template")


sed_texts = st.text(alphabet=st.sampled_from(list("= \t'AB_9a#;\n")), max_size=40)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="possessive repeats need Python 3.11; 3.10 runs the plain pattern")
@settings(max_examples=400, deadline=None)
@given(sed_texts)
def test_possessive_sed_target_pattern_matches_exactly_as_the_plain_one(text):
    """Python 3.11+ scans for sed targets with the possessive pattern, 3.10 with the plain one."""
    import re

    from advisor.loaders import template

    plain = [m.span() for m in re.finditer(template._SED_TARGET_VALUE_PLAIN, text, re.MULTILINE)]
    possessive = [m.span() for m in re.finditer(template._SED_TARGET_VALUE_POSSESSIVE, text, re.MULTILINE)]
    assert plain == possessive


def test_directives_are_read_in_any_case_on_comment_lines_and_after_values(tmp_path):
    doc = load_text(tmp_path, "# PGPATH: ignore[PG010] batch role\nstatement_timeout = 0\n"
                              "work_mem = 8MB  # PgPath: ignore[MEM001] analytics\n"
                              "# a comment: without the word\n\t# pgpath: ram=64GB\n")
    assert [(s.codes, s.applies_to_line) for s in doc.suppressions] == [(("PG010",), 2), (("MEM001",), 3)]
    assert doc.meta["ram_bytes"] == 64 * 1024**3
