"""Shortcuts taken for speed give what the general code gives (see benchmarks/fleet.py)."""

import os

from hypothesis import given, settings, strategies as st

from advisor.engine import real_paths
from advisor.loaders.clients import libpq
from advisor.loaders.haproxy_cfg import tokenize
from advisor.loaders.pgbouncer_ini import _typed_default, _typed_defaults
from advisor.catalogs.pgbouncer import NEWEST, OLDEST, PARAMS


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" \t\r#ab:$x{}=.-_é", max_size=30))
def test_haproxy_plain_lines_cut_as_the_general_tokenizer_cuts_them(line):
    # a mask at the end of the line forces the general loop and changes nothing else
    general = tokenize(line, [(len(line), len(line), False)])
    assert tokenize(line) == general
    assert tokenize(line, []) == general


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab%20é \udcc3\udca9", max_size=12))
def test_uri_decode_gives_plain_ascii_back_and_decodes_the_rest(raw):
    # the shortcut (plain ASCII without '%' or ' ' comes back as it is) agrees with decoding
    # byte by byte, which every other text still goes through
    expected = bytearray()
    body = raw.strip(" ")
    try:
        got = libpq._uri_decode(raw, 0)
    except libpq._Error:
        assert "%" in raw or " " in body
        return
    if "%" not in body and " " not in body:
        for c in body:
            expected += c.encode("utf-8", "surrogateescape")
        assert got == expected.decode("utf-8", "surrogateescape")


def test_typed_defaults_per_version_equal_typing_each_default():
    for version in (OLDEST, (1, 21), NEWEST):
        expected = {p.name: _typed_default(p, p.default(version)) for p in PARAMS if p.known_in(version)}
        assert _typed_defaults(version) == expected
        assert list(_typed_defaults(version)) == list(expected)


def test_real_paths_equal_realpath(tmp_path, monkeypatch):
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "sub" / "a.conf").write_text("x")
    (real / "b.conf").write_text("x")
    os.symlink(real, tmp_path / "linkdir")
    os.symlink(real / "b.conf", real / "sub" / "link.conf")
    os.symlink("../b.conf", real / "sub" / "rel.conf")
    os.symlink(tmp_path / "loop1", tmp_path / "loop2")
    os.symlink(tmp_path / "loop2", tmp_path / "loop1")
    monkeypatch.chdir(tmp_path)
    paths = ["real/sub/a.conf", "linkdir/sub/a.conf", "linkdir/sub/link.conf", "linkdir/sub/rel.conf",
             "linkdir/sub/../b.conf", "./linkdir//b.conf", str(real / "b.conf"), "missing/x.conf",
             "linkdir/missing.conf", "loop1/x", "real/sub/", "."]
    assert real_paths(paths) == [os.path.realpath(p) for p in paths]


def test_read_head_reads_what_a_buffered_read_reads(tmp_path):
    """advisor.loaders.source.read_head (plain system calls, sized from the file) gives the
    bytes `open(path, "rb").read(limit)` gives, whatever the size it is told or finds."""
    from advisor.loaders.source import read_head

    for size in (0, 1, 5, 4095, 4096, 4097, 70000):
        path = tmp_path / f"f{size}"
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        path.write_bytes(data)
        for limit in (1, 10, 4096, 100000):
            expected = open(path, "rb").read(limit)
            assert read_head(str(path), None, limit) == expected
            for want in (1, size, size + 1, limit):
                # told a size smaller than the file has (it grew since): it reads on up to the limit
                assert read_head(str(path), want, limit) == expected, (size, want, limit)


def test_version_inference_reads_each_file_as_before(tmp_path):
    from advisor import pgversion

    for size in (0, 10, pgversion.READ_LIMIT - 1, pgversion.READ_LIMIT, pgversion.READ_LIMIT + 5):
        path = tmp_path / f"g{size}"
        path.write_bytes(b"a" * size)
        assert pgversion._read_head(str(path)) == open(path, "rb").read(pgversion.READ_LIMIT)


def test_postgresql_conf_sees_a_bom_without_reading_the_file_twice(tmp_path, monkeypatch):
    """The loader learns of the byte order mark from the one read (read_text_bom), and PostgreSQL's
    view of it (the mark glued to the first name) is kept."""
    from advisor.loaders import postgresql_conf, source

    path = tmp_path / "postgresql.conf"
    path.write_bytes(b"\xef\xbb\xbfport = 5432\nwork_mem = 4MB\n")
    import builtins

    opened = []
    real_os_open, real_open = os.open, builtins.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: (opened.append(str(p)), real_os_open(p, *a, **k))[1])
    monkeypatch.setattr(builtins, "open", lambda p, *a, **k: (opened.append(str(p)), real_open(p, *a, **k))[1])
    doc = postgresql_conf.load(str(path), {"no_auto_conf": True})
    assert opened.count(str(path)) == 1
    assert [s.name for s in doc.settings] == ["\ufeffport", "work_mem"]
    assert source.read_text_bom(str(path)) == ("port = 5432\nwork_mem = 4MB\n", True)


def test_real_paths_resolve_each_folder_once_and_as_realpath_does(tmp_path, monkeypatch):
    """Many folders under one parent, links at several depths (a folder linking to a sibling, to
    its parent, to a missing target): each parent is resolved once, the answers are realpath's."""
    base = tmp_path / "fleet"
    for i in range(5):
        (base / f"dep{i}" / "conf").mkdir(parents=True)
        (base / f"dep{i}" / "conf" / "a.conf").write_text("x")
    os.symlink("dep0", base / "alias")
    os.symlink("..", base / "dep1" / "up")
    os.symlink(base / "dep2" / "conf", base / "dep3" / "other")
    os.symlink("nowhere", base / "dep4" / "gone")
    monkeypatch.chdir(tmp_path)
    paths = [f"fleet/dep{i}/conf/a.conf" for i in range(5)] + [
        "fleet/alias/conf/a.conf", "fleet/dep1/up/dep0/conf/a.conf", "fleet/dep1/up/alias/conf/a.conf",
        "fleet/dep3/other/a.conf", "fleet/dep4/gone/a.conf", str(base / "dep2" / "conf" / "a.conf")]
    calls = []
    real = os.path.realpath
    monkeypatch.setattr(os.path, "realpath", lambda p, *a, **k: (calls.append(p), real(p, *a, **k))[1])
    got = real_paths(paths)
    monkeypatch.setattr(os.path, "realpath", real)
    assert got == [os.path.realpath(p) for p in paths]
    # the root, the five links met (alias, up, up/alias, other, gone) and the whole path under the
    # missing target: not every folder's every component
    assert len(calls) <= 7, calls
