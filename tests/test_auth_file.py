"""PgBouncer's auth_file as PgBouncer reads it (advisor.loaders.auth_file), and PGB022's promise
that no secret of it is ever printed: every output format of check, path, report and dump is
scanned for each secret of a seeded userlist.txt."""

from __future__ import annotations

import pytest

from advisor.loaders.auth_file import locate, parse, secret_kind
from tests.test_secrets import OUTPUT_FORMATS, run

SCRAM = ("SCRAM-SHA-256$4096:cGdwYXRoLWZpeHR1cmUhIQ==$rcECrmnWId4dqRpAqlGEfgKcSDHLN6lDEvNhx3onwcc="
         ":uYIODDK41dNzJ6RUoaIreQQF777kJx/BmwqXzAMwXnE=")
MD5 = "md5" + "7c4a8d09ca3762af61e59520943dc264"


@pytest.mark.parametrize("secret,kind", [
    (MD5, "md5"),
    ("md5" + "7C4A8D09CA3762AF61E59520943DC264", "plain"),  # upper-case hex: not an md5 hash to PgBouncer
    ("md5" + "7c4a8d09ca3762af61e59520943dc26", "plain"),  # 31 digits
    (SCRAM, "scram"),
    ("SCRAM-SHA-256$4096:c2FsdA==$c2hvcnQ=:c2hvcnQ=", "plain"),  # keys that are not 32 bytes
    ("SCRAM-SHA-256$x:cGdw$" + SCRAM.split("$", 2)[2], "plain"),  # iterations not a number
    ("", "empty"),
    ("s3cret", "plain"),
])
def test_secret_kind_as_pgbouncer_classifies_it(secret, kind):
    assert secret_kind(secret) == kind


def test_parse_reads_as_load_auth_file_does():
    text = ('; a comment\n'
            '\n'
            '"app" "s3cret" trailing words\n'
            '  "we""ird" junk "' + MD5 + '"\n'
            '"app" ""\n'  # a later line for the same user wins
            '"rep" "' + SCRAM + '"\n')
    users, broken = parse(text, "userlist.txt")
    assert [(u.name, u.kind, u.span.line, u.span.col) for u in users] == [
        ('we"ird', "md5", 4, 3), ("app", "empty", 5, 1), ("rep", "scram", 6, 1)]
    assert broken is None


def test_parse_stops_where_pgbouncer_does():
    users, broken = parse('"a" "x"\n# not a comment to PgBouncer\n"b" "y"\n', "userlist.txt")
    assert [u.name for u in users] == ["a"] and (broken.line, broken.col) == (2, 1)
    users, broken = parse('"a" "x"\n"b" "unterminated\n', "userlist.txt")
    assert [u.name for u in users] == ["a"] and broken.line == 2


def test_the_users_pgbouncer_does_not_load_after_a_broken_line(tmp_path):
    from advisor.loaders.auth_file import read

    ini = tmp_path / "pgbouncer.ini"
    ini.write_text("")
    (tmp_path / "userlist.txt").write_text('"a" "x"\n# users\n"b" "y"\n  "c""d" ""\n"a" "z"\n')
    got = read("userlist.txt", str(ini), None, {"check_roots": [str(tmp_path)]})
    assert [u.name for u in got.users] == ["a"] and got.broken.line == 2 and got.lost == ["b", 'c"d']


def test_locate_reads_only_files_given_to_check(tmp_path):
    ini = tmp_path / "pgbouncer" / "pgbouncer.ini"
    ini.parent.mkdir()
    ini.write_text("")
    (ini.parent / "userlist.txt").write_text('"a" "x"\n')
    options = {"check_roots": [str(tmp_path)]}
    # an absolute path outside the checked tree: the file of that name beside the ini, said so
    assert locate("/etc/pgbouncer/userlist.txt", str(ini), None, options) == (
        str(ini.parent / "userlist.txt"), "taken as /etc/pgbouncer/userlist.txt")
    assert locate("/etc/pgbouncer/users.txt", str(ini), None, options)[0] is None
    assert locate("userlist.txt", str(ini), None, options) == (str(ini.parent / "userlist.txt"), "")
    # relative to PgBouncer's working directory when given
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "users.txt").write_text('"a" "x"\n')
    assert locate("conf/users.txt", str(ini), str(tmp_path), options)[0] == str(tmp_path / "conf" / "users.txt")
    # never a file outside what was given to check
    assert locate("../userlist.txt", str(ini), None, {"check_roots": [str(ini.parent)]})[0] is None


PLAIN = "PwAuthPlain61xQ"
SECRETS = [MD5, MD5[3:], PLAIN, SCRAM, SCRAM.split("$")[2].split(":")[0], SCRAM.split(":")[-1],
           "cGdwYXRoLWZpeHR1cmUhIQ=="]


@pytest.fixture(scope="module")
def bouncer(tmp_path_factory):
    root = tmp_path_factory.mktemp("authfile")
    (root / "pgbouncer.ini").write_text(
        "[databases]\nshop = host=db.internal port=5432 dbname=shop\n\n[pgbouncer]\nlisten_addr = 0.0.0.0\n"
        "listen_port = 6432\nauth_type = scram-sha-256\nauth_file = /etc/pgbouncer/userlist.txt\n")
    (root / "userlist.txt").write_text(f'"shop_api" "{MD5}"\n"batch" ""\n"ops" "{PLAIN}"\n"rep" "{SCRAM}"\n')
    (root / ".env").write_text("DATABASE_URL=postgresql://shop_api@db.internal:6432/shop?sslmode=require\n")
    return root


def _leaks(out: str) -> list[str]:
    return [s for s in SECRETS if s in out]


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_check_never_prints_an_auth_file_secret(bouncer, fmt):
    out = run("check", ".", "--format", fmt, "--no-config", cwd=bouncer)
    assert "PGB022" in out and "shop_api" in out  # the file was read and reported on
    assert not _leaks(out), f"auth_file secrets printed by check --format {fmt}: {_leaks(out)}"


@pytest.mark.parametrize("args", [("path", "."), ("path", ".", "--format", "json"), ("report", "."),
                                  ("dump", "pgbouncer.ini"), ("dump", "userlist.txt"), ("check", "-v", ".")])
def test_other_commands_never_print_an_auth_file_secret(bouncer, args):
    out = run(*args, cwd=bouncer)
    assert not _leaks(out), f"auth_file secrets printed by {' '.join(args)}: {_leaks(out)}"


def test_the_scan_would_see_a_leak(bouncer):
    """The secrets are in the file the loader reads, and findings name its users."""
    text = (bouncer / "userlist.txt").read_text()
    assert all(s in text for s in SECRETS)
    out = run("check", ".", "--no-config", "--select", "PGB022", cwd=bouncer)
    assert 'userlist.txt:1:1: PGB022 error auth_type = scram-sha-256 and the secret of "shop_api"' in out, out
    assert 'userlist.txt:2:1: PGB022 error the secret of "batch"' in out, out
    assert '"ops"' not in out and '"rep"' not in out, out
