"""Parity of advisor.loaders.clients.libpq with the real libpq 18 (psycopg-binary's bundled libpq).

- `PQconninfoParse` is reached through `psycopg.pq.Conninfo.parse` (raw bytes) and
  `psycopg.conninfo.conninfo_to_dict` (str). conninfo_to_dict keeps keys whose value is the empty
  string (`host=` gives {"host": ""}); it drops only unset options (None). So the comparison is
  direct: same keys and values, or both reject - and when both reject, the same message. It
  decodes values as strict UTF-8, so for percent-decoded bytes that are not UTF-8 (`%ff`) the
  comparison uses the raw bytes of pq.Conninfo.parse (our values keep such bytes as surrogate
  escapes).
- Connect-time value checks (`validate_values`) are compared with the error text of a real
  `PQconnectdb` (psycopg.pq.PGconn.connect): to a Unix socket path that does not exist for the
  checks libpq makes before connecting, and to a closed port on 127.0.0.1 for the integer options
  libpq parses only while connecting over TCP (libpq 18 never parses connect_timeout when every
  address fails at once, as a missing socket file does; a refused TCP connect is asynchronous,
  so it does). Nothing leaves the machine.

Results when this was written (psycopg 3.3.9, psycopg-binary 3.3.9 with libpq 18.6, Python 3.11):
all 198 table strings and every generated string agree with libpq - keys, values, and error
messages word for word (except where parse_conninfo masks a secret that libpq quotes back; the
comparison then matches the rest of the message). Each run draws 4 x 300 generated strings; a
development campaign of 104,000 generated strings (25-35 % accepted by libpq, the rest
spread over every error path) found two kinds of mismatch, both fixed, both about bytes that
are not UTF-8 inside libpq's error messages (psycopg shows them as U+FFFD): libpq's
`unexpected character "%c"` prints one byte of a multi-byte character, and a percent-decoded
keyword such as `%bf` is quoted back as a raw byte.
The connect-time checks: 61 faulty option sets give libpq's exact message as the first entry
of validate_values(), 20 accepted ones give none.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

from advisor.loaders.clients.libpq import (
    KNOWN_KEYWORDS,
    SECRET_KEYWORDS,
    parse_conninfo,
    parse_int_param,
    redact,
    validate_values,
)

psycopg = pytest.importorskip("psycopg", reason="psycopg (with psycopg-binary) is the test dependency that brings real libpq")
from psycopg import pq  # noqa: E402
from psycopg.conninfo import conninfo_to_dict  # noqa: E402

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

LIBPQ_MAJOR = pq.version() // 10000


def real_libpq(text: str) -> tuple[dict[str, bytes] | None, str | None]:
    try:
        options = pq.Conninfo.parse(text.encode("utf-8"))
    except psycopg.OperationalError as exc:
        return None, str(exc).removesuffix("\n")
    return {o.keyword.decode(): o.val for o in options if o.val is not None}, None


def ours(text: str) -> tuple[dict[str, bytes] | None, str | None]:
    info = parse_conninfo(text)
    if info.error is not None:
        return None, info.error
    return {k: v.encode("utf-8", "surrogateescape") for k, v in info.as_dict().items()}, None


def same_message(ours_message: str | None, libpq_message: str | None) -> bool:
    """Equal, or equal but for the secrets that parse_conninfo masks as *** in its message."""
    if ours_message == libpq_message or ours_message is None or libpq_message is None:
        return ours_message == libpq_message
    if "***" not in ours_message:
        return False
    pattern = ".*?".join(re.escape(part) for part in ours_message.split("***"))
    return re.fullmatch(pattern, libpq_message, re.S) is not None


def assert_parity(text: str) -> None:
    expected = real_libpq(text)
    got = ours(text)
    assert got[0] == expected[0] and same_message(got[1], expected[1]), f"{text!r}: libpq {expected}, ours {got}"
    if expected[0] is not None:
        try:
            as_str = {k: v.decode("utf-8") for k, v in expected[0].items()}
        except UnicodeDecodeError:
            return  # conninfo_to_dict itself cannot decode it; bytes compared above
        assert conninfo_to_dict(text) == as_str == parse_conninfo(text).as_dict()
    else:
        with pytest.raises(psycopg.ProgrammingError):
            conninfo_to_dict(text)


def test_libpq_is_18():
    # The module follows libpq 18 (raw spaces in URIs). With another libpq the table differs.
    if LIBPQ_MAJOR != 18:
        pytest.skip(f"psycopg loads libpq {pq.version()}, these tests pin libpq 18 behaviour")


# --------------------------------------------------------------------------- (a) table

TRICKY = [
    # keyword/value: quoting, escapes, white space
    "", "   ", "host=h", "host = h  port =5432", "\thost=a\t", "host=a\n", "host=a\rb c=d",
    "host='a b' port='5432'", "host='' port=''", "host=", "host= port=5", "dbname = ",
    "password='a''b'", "host='a''b'", "password='it\\'s'", "password='back\\\\slash'",
    "password=a\\ b", "password=a\\'b", "host=a\\", "host='abc", "host='x\\", "host=\\'",
    "host=x'y", "host=x=y", "options='-c search_path=a,b'", "options=-c\\ geqo=off",
    "application_name='naïve ☃'", "application_name=日本", "hóst=x", "'host'=x", "host\\=x",
    "a", "host", "=x", " = x", "host=a b=c", "host=a\x0bb", "host=a\x0cb", "host=a\x1cb",
    "host=a\xa0b", "host=x\x00port=5", "requiressl=1", "requiressl=0", "requiressl=x",
    "requiressl=1 sslmode=disable", "sslmode=disable requiressl=1", "ssl=true", "sslmode=require",
    "connect_timeout=5s", "port=5432x", "keepalives_idle=1h", "host=a host=b", "dbname=postgresql://x",
    "service=foo", "POSTGRESQL://h", " postgresql://h", "postgresql:x", "postgresql:/x",
    "host=h password=\"double\"", "user=u password=", "tcp_user_timeout=10000 keepalives=1",
    "sslkeylogfile=/tmp/k scram_client_key=x oauth_issuer=i min_protocol_version=3.2",
    "host=a junk", "host=a 'quoted'", "host=a ;", "host=a # comment", "password=my secret host=h",
    # URI forms
    "postgresql://", "postgres://", "postgresql://?", "postgresql:///", "postgresql:///db",
    "postgresql:///db?host=/var/run", "postgresql://h", "postgres://h:5432/db",
    "postgresql://user@h", "postgresql://user:pw@h/db", "postgresql://u:p:q@h", "postgresql://@h",
    "postgresql://:@h", "postgresql://u@h@i", "postgresql://u:p%40ss@h", "postgresql://u:p@ss@h",
    "postgresql://%68@h", "postgresql://u:%zz@h", "postgresql://u:%00@h", "postgresql://%zz@h",
    "postgresql://host?user=a@b", "postgresql://u@", "postgresql://u@/d",
    "postgresql://[::1]", "postgresql://[::1]:5432/db", "postgresql://[::1]:5432,[fe80::1]/db",
    "postgresql://[2001:db8::1234]/", "postgresql://[::1", "postgresql://[]", "postgresql://[::1]x",
    "postgresql://[ ::1]/d", "postgresql://[::1 ]/d", "postgresql://é:ü@[::1]x",
    "postgresql://h1,h2/db", "postgresql://h1,h2:5433/db", "postgresql://h1:1,h2:2,h3:3/db",
    "postgresql://h,?", "postgresql://h:,:5/d", "postgresql://,", "postgresql://h:5432:6/d",
    "postgresql://h%2Cx:5432", "postgresql://h%3A5", "postgresql://h/%2", "postgresql://h/%00",
    "postgresql://h/%ff", "postgresql://h/%C3%A9", "postgresql://%", "postgresql://%1",
    "postgresql://a%00b", "postgresql://h/db/x", "postgresql://h/db#frag", "postgresql://h/db\n",
    "postgresql://h/db?", "postgresql://h/d?b", "postgresql://h?a", "postgresql://h?a=b=c",
    "postgresql://h?&", "postgresql://h?host=x&", "postgresql://h?&host=x", "postgresql://h?host",
    "postgresql://h?=", "postgresql://h?==", "postgresql://h?x=1", "postgresql://h?ssl=true",
    "postgresql://h?ssl=false", "postgresql://h?ssl=TRUE", "postgresql://h?ssl=tru%65",
    "postgresql://h?ssl=true&sslmode=disable", "postgresql://h?sslmode=disable&ssl=true",
    "postgresql://h?requiressl=1", "postgresql://h?requiressl=x", "postgresql://h?requiressl=%zz",
    "postgresql://h?%68ost=x", "postgresql://h?port=%35", "postgresql://h?host=%41%4a%4A%6a",
    "postgresql://h?dbname=a+b", "postgresql://h?host=%2", "postgresql://h?host=x%",
    "postgresql://h?application_name=a%20b", "postgresql://h?options=-c%20geqo%3Doff",
    "postgresql://h/db?connect_timeout=5s&keepalives_idle=30",
    "postgresql://h/db?target_session_attrs=read-write&load_balance_hosts=random",
    "postgresql://h/db?sslmode=require#x", "postgresql://h/db?application_name=x#frag",
    "postgresql://h/db?sslmode=require&", "postgresql://h/db?sslmode=require&&", "postgresql://h/db?;",
    "postgresql://h?%bf=0", "postgresql://h?%C3=1", "postgresql://h?%e2%98%83=1",
    # raw spaces: libpq 18 trims them at the ends of each part and rejects inner ones
    "postgresql://a b/db", "postgresql://host/d b", "postgresql://h/db?application_name=a b",
    "postgresql://h/db?application_name=a\tb", "postgresql://a /db", "postgresql:// a/db",
    "postgresql://a ,b/db", "postgresql://a, b/db", "postgresql://h/ db ", "postgresql://h/db ?host=x",
    "postgresql://u @h", "postgresql:// u:p @h", "postgresql://u:p p@h", "postgresql:// @h",
    "postgresql://u: @h", "postgresql:/// ", "postgresql://h/ ", "postgresql:// ",
    "postgresql://  ?host=x", "postgresql://h?host= x %20", "postgresql://h?host=%20x",
    "postgresql://h?host=x%20 ", "postgresql://h?host=%20 x", "postgresql://h?host=x %zz",
    "postgresql://h?host=%zz x", "postgresql://h?host= ", "postgresql://h?  =x",
    "postgresql://h?host=x  &port=5", "postgresql://h?host=x&port= 5 6", "postgresql://h?ssl= true ",
    "postgresql://h?requiressl= 1", "postgresql://h? requiressl=1", "postgresql://h? host =x",
    "postgresql://h:5 /d", "postgresql://h: 5/d", "postgresql://h/db?sslmode=require ",
    "postgresql://host?  user = uri-user & port  = 12345 ",
    "postgresql://host?  user user  =  uri  & port = 12345 12 ",
    "postgresql://h\x0c/d", "postgresql://h\x1c /d", "postgresql://h?host=\x0bx",
]


@pytest.mark.parametrize("text", TRICKY)
def test_table_matches_libpq(text):
    assert_parity(text)


# --------------------------------------------------------------------------- (b) generated

_VALUE_CHARS = "ab1 '\\=\t\n,@:/%é☃\x00"
_KEYS = sorted(KNOWN_KEYWORDS) * 3 + ["requiressl", "ssl", "bogus", "Host", ""]  # mostly valid keys


def _escape(draw, body):
    # escape quotes and backslashes most of the time, so that most strings are valid
    if draw(st.integers(0, 3)) == 0:
        return body
    return body.replace("\\", "\\\\").replace("'", "\\'")


@st.composite
def keyword_strings(draw):
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.sampled_from(_KEYS))
        before, after = draw(st.sampled_from(["", "", " ", "\t"])), draw(st.sampled_from(["", "", " ", "  "]))
        body = draw(st.text(alphabet=_VALUE_CHARS, max_size=8))
        if draw(st.booleans()):
            value = "'" + _escape(draw, body) + draw(st.sampled_from(["'", "'", "'", "", "\\'"]))
        else:
            value = _escape(draw, body).replace(" ", "\\ ") if draw(st.booleans()) else body
        parts.append(f"{key}{before}={after}{value}")
    sep = draw(st.sampled_from([" ", " ", "  ", "\t", "\n", ""]))
    return draw(st.sampled_from(["", " "])) + sep.join(parts)


_URI_CHARS = "ab1:@/?&=[],% 0fzé"


def _pct(draw, text):
    # percent-encode some characters
    out = []
    for ch in text:
        out.append("".join(f"%{b:02X}" for b in ch.encode()) if draw(st.booleans()) and ch != "%" else ch)
    return "".join(out)


_URI_KEYS = ["host", "port", "sslmode", "ssl", "requiressl", "application_name", "connect_timeout",
             "password", "user", "dbname", "options", "keepalives_idle", "target_session_attrs"]


@st.composite
def uri_strings(draw):
    uri = draw(st.sampled_from(["postgresql://", "postgres://"]))
    if draw(st.booleans()):
        uri += _pct(draw, draw(st.text(alphabet="ab:é2 ", max_size=6))) + draw(st.sampled_from(["", "", "%", " "])) + "@"
    hosts = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.integers(0, 3)) == 0:
            host = "[" + draw(st.text(alphabet="f0:1 ", max_size=6)) + draw(st.sampled_from(["]", "]", "]", "", "]x"]))
        else:
            host = _pct(draw, draw(st.text(alphabet="ab.1 é", max_size=6)))
        if draw(st.booleans()):
            host += ":" + draw(st.text(alphabet="54x %", max_size=4))
        hosts.append(host)
    uri += ",".join(hosts)
    if draw(st.booleans()):
        uri += "/" + _pct(draw, draw(st.text(alphabet="db/ é#2", max_size=6)))
    if draw(st.booleans()):
        params = []
        for _ in range(draw(st.integers(0, 3))):
            key = draw(st.sampled_from(_URI_KEYS * 3 + ["x", ""]))
            key = _pct(draw, key) if draw(st.integers(0, 4)) == 0 else key
            value = draw(st.one_of(st.sampled_from(["true", "1", "require", "a b", " 5 ", "%zz", "%00", "%ff", "%C3%A9"]),
                                   st.text(alphabet="a1 +é", max_size=6).map(lambda v: v),
                                   st.text(alphabet="a1 %=&+é2F0", max_size=6)))
            sep = draw(st.sampled_from(["=", "=", "=", "=", "", "=="]))
            params.append(draw(st.sampled_from(["", "", " "])) + key + sep + value)
        uri += "?" + "&".join(params)
    return uri


@st.composite
def raw_uri_strings(draw):
    return draw(st.sampled_from(["postgresql://", "postgres://"])) + draw(st.text(alphabet=_URI_CHARS, max_size=24))


_HYP = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_HYP
@given(keyword_strings())
def test_generated_keyword_strings_match_libpq(text):
    assert_parity(text)


@_HYP
@given(st.text(alphabet="hostdbname=' \\\t\n\x0bxé", max_size=30))
def test_random_keyword_text_matches_libpq(text):
    assert_parity(text)


@_HYP
@given(uri_strings())
def test_generated_uris_match_libpq(text):
    assert_parity(text)


@_HYP
@given(raw_uri_strings())
def test_random_uri_text_matches_libpq(text):
    assert_parity(text)


# --------------------------------------------------------------------------- spans and API

def test_spans_point_at_the_raw_value():
    text = "host = 'db 1' port=5432 password=s\\ 3 sslmode=require"
    info = parse_conninfo(text)
    assert info.form == "keyword" and info.error is None
    raw = {p.key: text[p.start:p.end] for p in info.params}
    assert raw == {"host": "'db 1'", "port": "5432", "password": "s\\ 3", "sslmode": "require"}
    assert info.as_dict()["password"] == "s 3"

    uri = "postgresql://u:p%40w@h1:5432,[::1]:6/db?ssl=true&application_name=a%20b"
    info = parse_conninfo(uri)
    assert info.form == "uri" and info.error is None
    raw = {p.key: uri[p.start:p.end] for p in info.params}
    assert raw["user"] == "u" and raw["password"] == "p%40w" and raw["dbname"] == "db"
    assert raw["host"] == "h1:5432,[::1" and raw["port"] == "5432,[::1]:6"  # first..last element
    assert raw["sslmode"] == "true" and raw["application_name"] == "a%20b"
    assert info.as_dict() == {"user": "u", "password": "p@w", "host": "h1,::1", "port": "5432,6",
                              "dbname": "db", "sslmode": "require", "application_name": "a b"}


def test_errors_carry_an_offset():
    info = parse_conninfo("host=a bogus=1 password=x")
    assert info.error == 'invalid connection option "bogus"' and info.error_offset == 7
    assert info.as_dict() == {"host": "a"}  # what was read before the error
    info = parse_conninfo("postgresql://h/db?connect_timeout=5&ssl=1")
    assert info.error == 'invalid URI query parameter: "ssl"' and info.error_offset == 36
    info = parse_conninfo("host='abc")
    assert info.error_offset == 5


def test_known_keywords_are_libpq_18s():
    real = {o.keyword.decode() for o in pq.Conninfo.get_defaults()}
    if LIBPQ_MAJOR != 18:
        pytest.skip(f"libpq {pq.version()} loaded")
    assert KNOWN_KEYWORDS == real
    secret = {o.keyword.decode() for o in pq.Conninfo.get_defaults() if o.dispchar == b"*"}
    assert secret <= SECRET_KEYWORDS


def test_module_is_stdlib_only_and_fast_to_import():
    code = "import sys, advisor.loaders.clients.libpq; bad = [m for m in ('psycopg', 'yaml', 'jsonschema') if m in sys.modules]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- redact

REDACT_CASES = [
    # a quoted value ends at its quote: what follows it is the next keyword, kept one (hypothesis)
    ("password=''application_name=x", "password=*** application_name=x"),
    ("password='s3cret'application_name=x", "password=*** application_name=x"),
    ("host=h password=secret port=5", "host=h password=*** port=5"),
    ("password='a b\\'c' host=x", "password=*** host=x"),
    ("password = 'two words'  user=u", "password = ***  user=u"),
    ("password=a\\ b\\\\c dbname=d", "password=*** dbname=d"),
    ("bogus=1 password=s3 sslpassword='k k'", "bogus=1 password=*** sslpassword=***"),
    ("password='unterminated", "password=***"),
    ("password=my very secret host=h", "password=*** *** *** host=h"),  # unquoted spaces: libpq rejects it
    ("password=", "password="),
    ("host=h\tpassword=p1\npassword=p2", "host=h\tpassword=***\npassword=***"),
    ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:s3cr3t@h1:5432,h2/db?sslmode=require", "postgresql://u:***@h1:5432,h2/db?sslmode=require"),
    ("postgres://u:p@ss@h/db", "postgres://u:***@h/db"),  # raw '@' in the password: hidden up to the last '@'
    ("postgresql://h/db?password=zz&sslpassword=q%20q&user=u", "postgresql://h/db?password=***&sslpassword=***&user=u"),
    ("postgresql://h/db?pass%77ord=zz", "postgresql://h/db?pass%77ord=***"),
    ("postgresql://u:%zz@h/db", "postgresql://u:***@h/db"),
    ("postgresql://[::1/db?password=x", "postgresql://[::1/db?password=***"),
    ("postgresql://u@h/db?oauth_client_secret=abc", "postgresql://u@h/db?oauth_client_secret=***"),
    ("postgresql://u:pw@h", "postgresql://u:***@h"),
    ("postgresql://h?user=a@b", "postgresql://h?user=a@b"),
]


@pytest.mark.parametrize(("text", "secret"), [
    ("password=my secret host=h", "secret"),
    ("postgresql://u:p p@h", "p p"),
    ("postgresql://u:s3cret@[::1", "s3cret"),
    ("postgresql://u:s3cret@[::1]x/db", "s3cret"),
    ("postgresql://u:%zzsecret@h", "%zzsecret"),
    ("postgresql://h?password=a b", "a b"),
    ("postgresql://h?sslpassword=%00kk", "%00kk"),
])
def test_error_messages_do_not_repeat_secrets(text, secret):
    # libpq quotes the offending text back, which can be a password: parse_conninfo masks it
    libpq_message = real_libpq(text)[1]
    assert libpq_message is not None and secret in libpq_message
    info = parse_conninfo(text)
    assert info.error is not None and secret not in info.error and "***" in info.error
    assert same_message(info.error, libpq_message)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(keyword_strings(), uri_strings(), raw_uri_strings()))
def test_redact_changes_only_secrets(text):
    out = redact(text)
    if "***" not in out:
        assert out == text
    # what libpq reads from the redacted text: the same, but for the secrets
    before, after = parse_conninfo(text), parse_conninfo(out)
    authority = text.split("://", 1)[1].split("/", 1)[0] if "://" in text else ""
    # an authority with several '@' is masked up to the last one on purpose (a raw '@' in a
    # password), which also hides what libpq would read as the start of the host
    if before.error is None and after.error is None and authority.count("@") <= 1:
        keep = lambda d: {k: v for k, v in d.items() if k not in SECRET_KEYWORDS}  # noqa: E731
        assert keep(after.as_dict()) == keep(before.as_dict())
    secrets = sorted(p.start for p in before.params if p.key in SECRET_KEYWORDS and p.end > p.start)
    if secrets:  # the first secret's text is gone from its place (later ones shift)
        assert out[secrets[0]:secrets[0] + 3] == "***"


def test_redact_after_nul():
    assert redact("host=h\0password=s3cret") == "host=h\0password=***"


@pytest.mark.parametrize(("text", "expected"), REDACT_CASES)
def test_redact(text, expected):
    assert redact(text) == expected


SECRETS = ["S3cr3tPW", "two words", "p@ss:w/rd?&=", "x'y\\z", "é☃%20", "100%"]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("form", ["keyword", "uri-userinfo", "uri-query", "uri-raw-at"])
def test_redact_hides_every_seeded_password(secret, form):
    from urllib.parse import quote
    if form == "keyword":
        quoted = "'" + secret.replace("\\", "\\\\").replace("'", "\\'") + "'"
        text = f"host=db.example password={quoted} user=app"
    elif form == "uri-userinfo":
        text = f"postgresql://app:{quote(secret, safe='')}@db.example:5432/app"
    elif form == "uri-query":
        text = f"postgresql://db.example/app?user=app&password={quote(secret, safe='')}&sslmode=require"
    else:  # written without percent-encoding, as people do; libpq may even misread it
        if "/" in secret or "?" in secret or " " in secret or "%" in secret:
            pytest.skip("libpq cannot read this secret unencoded in a URI")
        text = f"postgresql://app:{secret}@db.example/app"
    if form != "uri-raw-at":
        assert parse_conninfo(text).as_dict()["password"] == secret
    out = redact(text)
    assert secret not in out and quote(secret, safe="") not in out
    assert "***" in out and "db.example" in out


# --------------------------------------------------------------------------- connect-time checks

@pytest.fixture(scope="module")
def closed_port():
    # bound but not listening: connects are refused at once, and no other test can take the port
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    try:
        yield s.getsockname()[1]
    finally:
        s.close()


def real_connect_error(conninfo: str) -> str:
    conn = pq.PGconn.connect(conninfo.encode())
    try:
        return conn.get_error_message().strip()
    finally:
        conn.finish()


# (options, where) -> libpq's message; "unix" = host=/nonexistent, "tcp" = 127.0.0.1:<closed>
VALIDATE_CASES = [
    ("connect_timeout=5s", "tcp"), ("connect_timeout=''", "tcp"), ("connect_timeout=99999999999", "tcp"),
    ("connect_timeout=0x10", "tcp"), ("connect_timeout=5.0", "tcp"),
    ("port=5432x", "unix"), ("port=0", "unix"), ("port=65536", "unix"), ("port=-1", "unix"),
    ("port=99999999999", "unix"),
    ("keepalives=x", "tcp"), ("keepalives=''", "tcp"), ("keepalives_idle=5s", "tcp"),
    ("keepalives_interval=x", "tcp"), ("keepalives_count=x", "tcp"), ("tcp_user_timeout=1s", "tcp"),
    ("keepalives_idle=0", "tcp"), ("keepalives_interval=0", "tcp"), ("keepalives_count=-1", "tcp"),
    ("keepalives_count=0", "tcp"), ("keepalives=2 keepalives_idle=x", "tcp"), ("keepalives=-1 keepalives_idle=x", "tcp"),
    ("keepalives_idle=99999999999", "tcp"), ("tcp_user_timeout=x keepalives_idle=x", "tcp"),
    ("sslmode=on", "unix"), ("sslmode=Require", "unix"), ("sslmode=''", "unix"),
    ("target_session_attrs=master", "unix"), ("gssencmode=x", "unix"), ("sslnegotiation=x", "unix"),
    ("sslnegotiation=direct", "unix"), ("sslnegotiation=direct sslmode=allow", "unix"),
    ("load_balance_hosts=x", "unix"), ("channel_binding=x", "unix"), ("channel_binding=''", "unix"),
    ("ssl_min_protocol_version=TLSv1.4", "unix"), ("ssl_max_protocol_version=x", "unix"),
    ("ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2", "unix"),
    ("ssl_max_protocol_version=TLSv1", "unix"), ("sslcertmode=x", "unix"),
    ("require_auth=x", "unix"), ("require_auth=password,!md5", "unix"), ("require_auth=!password,md5", "unix"),
    ("require_auth=password,password", "unix"), ("require_auth=!none,!none", "unix"), ("require_auth=none,none", "unix"),
    ("require_auth='password,'", "unix"), ("require_auth=!x", "unix"), ("require_auth=oauth,oauth", "unix"),
    ("min_protocol_version=3.1", "unix"), ("max_protocol_version=x", "unix"),
    ("min_protocol_version=latest max_protocol_version=3.0", "unix"),
    ("sslrootcert=system sslmode=require", "unix"), ("sslrootcert=system sslmode=disable", "unix"),
    ("port=1,2", "unix"),
    # two faults: the first reported is libpq's
    ("channel_binding=x sslmode=x", "unix"), ("sslnegotiation=x sslmode=x", "unix"),
    ("sslcertmode=x ssl_min_protocol_version=x", "unix"), ("min_protocol_version=x gssencmode=x", "unix"),
    ("keepalives_idle=x keepalives_interval=y", "tcp"), ("connect_timeout=x sslmode=x", "unix"),
]

VALID_CASES = [
    ("connect_timeout=' 5 '", "tcp"), ("connect_timeout=+5", "tcp"), ("connect_timeout=-1", "tcp"),
    ("port=' 5432 '", "unix"), ("keepalives=0 keepalives_idle=5s", "tcp"), ("keepalives=0 tcp_user_timeout=x", "tcp"),
    ("tcp_user_timeout=-1", "tcp"), ("keepalives=' 1 '", "tcp"), ("ssl_max_protocol_version=tlsv1.2", "unix"),
    ("ssl_min_protocol_version='' ssl_max_protocol_version=TLSv1", "unix"), ("require_auth=''", "unix"),
    ("require_auth='gss,sspi'", "unix"), ("require_auth='!gss,!sspi'", "unix"), ("require_auth=!none", "unix"),
    ("require_auth='scram-sha-256,none'", "unix"), ("min_protocol_version=latest max_protocol_version=3.2", "unix"),
    ("sslnegotiation=direct sslmode=verify-ca", "unix"), ("sslrootcert=system", "unix"),
    ("channel_binding=require sslmode=disable", "unix"), ("sslcompression=x sslsni=x gssdelegation=x", "unix"),
]


def _target(where: str, port: int) -> str:
    return "host=/nonexistent " if where == "unix" else f"host=127.0.0.1 port={port} "


@pytest.mark.parametrize(("options", "where"), VALIDATE_CASES)
def test_validate_values_matches_libpq_connect_errors(options, where, closed_port):
    conninfo = _target(where, closed_port) + options
    real = real_connect_error(conninfo)
    problems = validate_values(parse_conninfo(conninfo))
    assert problems, f"libpq refuses {options!r}: {real}"
    param, message = problems[0]
    if where == "tcp":
        # libpq prefixes errors raised while connecting with the server it tried
        assert real == f'connection to server at "127.0.0.1", port {closed_port} failed: {message}'
    else:
        assert real == message
    assert conninfo[param.start:param.end] in options


@pytest.mark.parametrize(("options", "where"), VALID_CASES)
def test_validate_values_accepts_what_libpq_accepts(options, where, closed_port):
    conninfo = _target(where, closed_port) + options
    real = real_connect_error(conninfo)
    # only the plain "nothing there" failure: the options themselves were fine
    assert "No such file or directory" in real or "Connection refused" in real, real
    assert validate_values(parse_conninfo(conninfo)) == []


def test_tcp_options_are_not_checked_for_unix_sockets():
    # libpq sets keepalives only on TCP sockets; with a socket path it never parses them
    real = real_connect_error("host=/nonexistent keepalives_idle=5s")
    assert "No such file or directory" in real
    assert validate_values(parse_conninfo("host=/nonexistent keepalives_idle=5s")) == []
    assert validate_values(parse_conninfo("host=db.example keepalives_idle=5s"))[0][1] == \
        'invalid integer value "5s" for connection option "keepalives_idle"'


def test_libpq_15_differs_only_on_uri_spaces_and_newer_keywords():
    """The same table through libpq 15 (system libpq5, psycopg's ctypes implementation)."""
    code = (
        "import sys; sys.path.insert(0, 'tests'); import test_libpq_parity as T; from psycopg import pq\n"
        "print(pq.version(), ' '.join(o.keyword.decode() for o in pq.Conninfo.get_defaults()))\n"
        "for s in T.TRICKY:\n"
        "    r, o = T.real_libpq(s), T.ours(s)\n"
        "    if r[0] != o[0] or not T.same_message(o[1], r[1]): print(repr(s))\n"
    )
    import os
    from pathlib import Path
    env = dict(os.environ, PSYCOPG_IMPL="python")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=str(Path(__file__).resolve().parent.parent))
    if run.returncode != 0 or not run.stdout.startswith("15"):
        pytest.skip(f"no libpq 15 for psycopg's python implementation here ({run.stdout[:20]!r} {run.stderr[-200:]!r})")
    lines = run.stdout.splitlines()
    newer_keywords = KNOWN_KEYWORDS - set(lines[0].split()[1:])  # libpq 16-18 additions
    differing = [eval(line) for line in lines[1:]]  # noqa: S307 - our own repr() output
    spaces = [t for t in differing if t.startswith(("postgresql://", "postgres://")) and " " in t]
    assert spaces, "libpq 15 and 18 are known to differ on raw spaces in URIs"
    for text in differing:
        assert text in spaces or any(k in text for k in newer_keywords), text


def test_socket_options_libpq_sets():
    """What libpq 18 really sets on its TCP socket (read back with getsockopt): keepalives=0
    turns off SO_KEEPALIVE *and* drops tcp_user_timeout; keepalives_idle applies when on."""
    tcp_user_timeout = getattr(socket, "TCP_USER_TIMEOUT", None)
    if tcp_user_timeout is None or not hasattr(socket, "TCP_KEEPIDLE"):
        pytest.skip("needs Linux TCP_USER_TIMEOUT / TCP_KEEPIDLE")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def sockopts(options: str) -> tuple[int, int, int]:
        conn = pq.PGconn.connect_start(f"host=127.0.0.1 port={port} sslmode=disable gssencmode=disable {options}".encode())
        try:
            sock = socket.socket(fileno=conn.socket)
            try:
                return (sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                        sock.getsockopt(socket.IPPROTO_TCP, tcp_user_timeout))
            finally:
                sock.detach()
        finally:
            conn.finish()

    try:
        keepalive_on, _, user_timeout = sockopts("tcp_user_timeout=12345")
        assert keepalive_on and user_timeout == 12345
        assert sockopts("keepalives=1 keepalives_idle=77 tcp_user_timeout=12345")[1:] == (77, 12345)
        keepalive_on, _, user_timeout = sockopts("keepalives=0 tcp_user_timeout=12345")
        assert not keepalive_on and user_timeout == 0  # tcp_user_timeout silently dropped
    finally:
        listener.close()


def test_psycopg_checks_connect_timeout_itself():
    # psycopg.connect() reads connect_timeout in Python before libpq sees it, with its own text
    with pytest.raises(psycopg.ProgrammingError, match="bad value for connect_timeout: '5s'"):
        psycopg.connect("host=/nonexistent connect_timeout=5s")


@pytest.mark.parametrize(("text", "expected"), [
    ("5", 5), (" 5 ", 5), ("+5", 5), ("-1", -1), ("5\n", 5), ("5s", None), ("", None), (" ", None),
    ("0x10", None), ("5.0", None), ("2147483647", 2147483647), ("2147483648", None), ("-2147483648", -2147483648),
])
def test_parse_int_param(text, expected):
    assert parse_int_param(text) == expected


# ------------------------------------------------------------------------------------------------
# The value of an explicit connection variable (DATABASE_URL, *_DSN) in a .env file: pgpath reports
# a syntax error exactly when the real PQconninfoParse refuses the string (URIs with keys that are
# no libpq option stay unreported: an ORM reading DATABASE_URL strips its own, e.g. Prisma's schema=)

ENV_VALUES = [
    "postgresql://app@db.internal:5432/app?sslmode=require=x",
    "postgresql://app@db.internal/app?&connect_timeout=5",
    "postgresql://app@db.internal/app?sslmode=require&&connect_timeout=5",
    "postgresql://app@db.internal/app?sslmode=require&",
    "postgresql://app@db.internal/app?sslmode",
    "postgresql://app@db.internal/app?application_name=a%3Db",
    "postgresql://app@db.internal/app?",
    "host=db.internal bogus=1",
    "host=db.internal sslmode=require",
    "db",
    "x=",
    "host=db.internal port=5432 dbname=app",
    "dbname=app",
    "host='db internal",
]


@pytest.mark.parametrize("value", ENV_VALUES)
def test_connection_variable_value_as_libpq_reads_it(tmp_path, value):
    from advisor.engine import make_settings, run

    env = tmp_path / ".env"
    env.write_text(f"APP_DSN={value}\n")
    _, libpq_error = real_libpq(value)
    settings = make_settings({"paths": [str(env)], "select": ["ADV001"]}, use_config=False)
    errors = [f for f in run(settings).findings if f.code == "ADV001"]
    assert bool(errors) == (libpq_error is not None), (libpq_error, [f.message for f in errors])
    if libpq_error is not None:
        assert errors[0].message.endswith(libpq_error)


@pytest.mark.parametrize("variable,value", [("PGSSLMODE", "requier"), ("PGCONNECT_TIMEOUT", "5s"),
                                            ("PGSSLMODE", "require"), ("PGCONNECT_TIMEOUT", "5")])
def test_pg_environment_values_checked_beside_a_url(tmp_path, variable, value, closed_port):
    """PG* variables fill what DATABASE_URL leaves unset; libpq checks their values at connect."""
    from advisor.engine import make_settings, run

    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL=postgresql://app@db.internal/app\n{variable}={value}\n")
    settings = make_settings({"paths": [str(env)], "select": ["APP009"]}, use_config=False)
    errors = [f for f in run(settings).findings if f.code == "APP009"]
    real = real_connect_error(f"host=127.0.0.1 port={closed_port} {PG_ENV_KEY[variable]}={value}")
    value_refused = "Connection refused" not in real
    assert bool(errors) == value_refused, (real, [f.message for f in errors])
    if errors:
        assert errors[0].span.line == 2
        assert errors[0].message in real


PG_ENV_KEY = {"PGSSLMODE": "sslmode", "PGCONNECT_TIMEOUT": "connect_timeout"}


# ------------------------------------------------------------------------------------------------
# primary_conninfo: a string only libpq reads (the WAL receiver of a standby), checked as libpq
# checks it (issue 12: an unknown option there was silent)

PRIMARY_CONNINFO_CASES = [
    # (value, refused by libpq)
    ("host=127.0.0.1 port=1 keepalive_idle=5", True),
    ("host=127.0.0.1 port=1 sslmode=requir", True),
    ("host=127.0.0.1 port=abc", True),
    ("host=127.0.0.1 port=1 keepalives_idle=5s", True),
    ("host=127.0.0.1 port=1 application_name='x", True),
    ("host=127.0.0.1 port=1 target_session_attrs=master", True),
    ("postgresql://127.0.0.1:1/db?sslmode=disable&foo=1", True),
    ("host=127.0.0.1 port=1 user=rep application_name=s1 sslmode=disable keepalives_idle=30", False),
    ("postgresql://rep@127.0.0.1:1/db?sslmode=disable&keepalives=1", False),
]


def _libpq_verdict(conninfo: str) -> str | None:
    """libpq's own refusal of the string (parsing, then connecting to a closed loopback port), or
    None when it got as far as the connection attempt."""
    try:
        conninfo_to_dict(conninfo)
    except psycopg.Error as exc:
        return str(exc).strip()
    try:
        psycopg.connect(conninfo, connect_timeout=2).close()
    except psycopg.OperationalError as exc:
        text = str(exc).strip()
        if "Connection refused" in text or "could not connect" in text or "connection refused" in text:
            return None
        text = text.split("connection is bad: ", 1)[-1].strip()
        return re.sub(r'^connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: ', "", text)
    return None


@pytest.mark.parametrize("value, refused", PRIMARY_CONNINFO_CASES)
def test_primary_conninfo_is_checked_as_libpq_checks_it(tmp_path, value, refused):
    from advisor.loaders.postgresql_conf import load

    said = _libpq_verdict(value)
    assert (said is not None) == refused, said
    path = tmp_path / "postgresql.conf"
    path.write_text("primary_conninfo = '" + value.replace("'", "''") + "'\n")
    errors = [d for d in load(str(path)).diagnostics if d.kind == "syntax-error"]
    if not refused:
        assert errors == []
        return
    (d,) = errors
    assert d.span.line == 1 and d.span.col == 20
    # libpq's own words (its first complaint; libpq ends some with a period or a newline)
    first = said.splitlines()[0].rstrip(".")
    assert first in d.message, (first, d.message)


def test_primary_conninfo_of_a_sed_template_keeps_its_targets(tmp_path):
    """A postgresql.conf a deploy script fills in with sed (two CAPITALISED_TARGET values make it a
    sed template): `port=PRIMARY_PORT` in primary_conninfo is a value made there, not the invalid
    integer libpq would refuse; a real bad value beside it is still reported."""
    from advisor.loaders.postgresql_conf import load

    path = tmp_path / "postgresql.conf"
    path.write_text("max_connections = MAX_CONNECTIONS\nshared_buffers = SHARED_BUFFERS\n"
                    "primary_conninfo = 'host=PRIMARY_HOST port=PRIMARY_PORT user=replicator'\n")
    assert [d for d in load(str(path)).diagnostics if d.kind == "syntax-error"] == []
    path.write_text(path.read_text().replace("user=replicator", "sslmode=requir"))
    [d] = [d for d in load(str(path)).diagnostics if d.kind == "syntax-error"]
    assert "sslmode" in d.message
