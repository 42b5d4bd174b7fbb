"""libpq connection strings (keyword/value and URI), parsed exactly as libpq 18 parses them.

Follows `src/interfaces/libpq/fe-connect.c` of libpq 18: `conninfo_parse` (keyword/value),
`conninfo_uri_parse_options`, `conninfo_uri_parse_params`, `conninfo_uri_decode` and
`conninfo_storeval` (URI), as reached through `PQconninfoParse`. The parity test
(`tests/test_libpq_parity.py`) compares this parser with the real `PQconninfoParse` of the
libpq 18 that psycopg-binary bundles, on a table of tricky strings and on generated ones.

Behaviour worth knowing (all checked against real libpq 18.6):

- keyword/value: `k = v` pairs separated by C white space (space, \\t, \\n, \\v, \\f, \\r only);
  single-quoted values with `\\'` and `\\\\` escapes (a backslash escapes any character); there is
  no `''` escape (`password='a''b'` fails with `missing "=" after "'b'"`); an unquoted value ends
  at white space, a backslash escapes the next character; unknown keywords are errors;
  `requiressl=1...` is stored as `sslmode=require`, any other `requiressl` value as
  `sslmode=prefer`.
- URI: `postgresql://` or `postgres://` (case-sensitive; no leading blanks), then
  `[user[:password]@][netloc][:port][,netloc[:port]...][/dbname][?k=v&...]`. The `@` is looked
  for before the first `/` only (so `postgresql://h?user=a@b` has user `h?user=a`!). Hosts and
  ports are joined with commas exactly as libpq stores them (`h1,h2:5` gives host `h1,h2` and
  port `,5`). IPv6 addresses in brackets. Every part is percent-decoded; invalid `%` escapes
  and `%00` are errors. `ssl=true` (exactly, after decoding) becomes `sslmode=require`; any
  other `ssl` value and every unknown query keyword fails with `invalid URI query parameter`.
- Raw spaces in a URI: libpq 18 trims leading and trailing spaces of every part and rejects
  inner ones (`unexpected spaces found in "a b", use percent-encoded spaces (%20) instead`);
  libpq 15 kept them. This module follows libpq 18, the one psycopg-binary bundles and the
  current release. Of the 198 strings of the parity table, 39 parse differently with libpq
  15.20 (Debian libpq5): 37 URIs with raw spaces, and two using keywords libpq 15 does not
  know (`load_balance_hosts`, libpq 16; `sslkeylogfile`, `oauth_*`, `scram_*_key`, libpq 18);
  `lab-observations.md` saw 98 of 462 strings differ between the two.
- Values are not validated while parsing: `PQconninfoParse` accepts `connect_timeout=5s`; libpq
  rejects it only when connecting. `validate_values()` returns those connect-time errors.
- A NUL character ends the string, as it does for the C library.

Own parser or psycopg at run time? An own, pure-stdlib parser, for four reasons.
(1) Import cost: `import psycopg` took 140-200 ms here (psycopg 3.3.9, loaded machine, bytecode
cached), this module about 3 ms (11 ms with `dataclasses` itself); pgpath runs in pre-commit
hooks. (2) Install weight: psycopg + psycopg-binary occupy 13 MB in site-packages (2.2 MB
psycopg, 1.2 MB psycopg_binary, 9.2 MB of bundled libpq, OpenSSL, Kerberos, LDAP and SASL
libraries), and without the binary wheel psycopg needs a system libpq; this module is 30 KB.
(3) What a linter needs and psycopg does not give: offsets for spans and for byte-exact
redaction, a scan that goes on past the first error (to hide every password), messages that do
not repeat secrets, and the same answer whichever libpq is installed (libpq 15 and 18 differ on
URIs with spaces). (4) Parity is not given up: the test suite compares this parser with the real
PQconninfoParse of libpq 18.6 on 198 hand-written strings and on generated ones (1,200 per run;
104,000 in the development campaign), same keys, values and error messages; the mismatches
found (non-UTF-8 bytes inside libpq's error messages) are fixed.
psycopg stays a test dependency only.
"""

from __future__ import annotations

from advisor.model import Record
from advisor.units import decimal

__all__ = [
    "KNOWN_KEYWORDS",
    "KEYWORD_NOTES",
    "SECRET_KEYWORDS",
    "Conninfo",
    "ConninfoParam",
    "parse_conninfo",
    "parse_int_param",
    "redact",
    "validate_values",
]

# Every keyword of libpq 18 (PQconndefaults() of libpq 18.6), in libpq's order.
KNOWN_KEYWORDS: frozenset[str] = frozenset((
    "service", "user", "password", "passfile", "channel_binding", "connect_timeout", "dbname",
    "host", "hostaddr", "port", "client_encoding", "options", "application_name",
    "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "tcp_user_timeout", "sslmode", "sslnegotiation", "sslcompression",
    "sslcert", "sslkey", "sslcertmode", "sslpassword", "sslrootcert", "sslcrl", "sslcrldir",
    "sslsni", "requirepeer", "require_auth", "min_protocol_version", "max_protocol_version",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode", "krbsrvname", "gsslib",
    "gssdelegation", "replication", "target_session_attrs", "load_balance_hosts",
    "scram_client_key", "scram_server_key", "oauth_issuer", "oauth_client_id",
    "oauth_client_secret", "oauth_scope", "sslkeylogfile",
))

# Accepted by the parser but stored under another keyword (conninfo_storeval).
_ALIASES = {"requiressl": "sslmode"}

# Values that are secrets: libpq marks password, sslpassword and oauth_client_secret as
# password fields ("*"); the SCRAM keys are password-equivalent.
SECRET_KEYWORDS: frozenset[str] = frozenset((
    "password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key",
))

KEYWORD_NOTES: dict[str, str] = {
    "host": "comma-separated list; a value starting with / (or @ on Linux) is a Unix-socket directory",
    "hostaddr": "comma-separated list of numeric addresses; when given, its count sets the number of hosts",
    "port": "comma-separated list; one port for all hosts or one per host; empty element = 5432",
    "password": "secret",
    "sslpassword": "secret",
    "oauth_client_secret": "secret (libpq 18)",
    "scram_client_key": "secret; libpq 18, debug option",
    "scram_server_key": "secret; libpq 18, debug option",
    "connect_timeout": "integer seconds, no unit suffix; values 1 are raised to 2; 0 or negative = wait forever",
    "keepalives": "integer; 0 turns TCP keepalives off, any other integer on (default on); TCP only",
    "keepalives_idle": "integer seconds (TCP_KEEPIDLE); unset = OS default (Linux 7200 s); "
                       "0 or less fails on Linux (setsockopt EINVAL); ignored when keepalives=0",
    "keepalives_interval": "integer seconds (TCP_KEEPINTVL); unset = OS default (Linux 75 s); "
                           "0 or less fails on Linux; ignored when keepalives=0",
    "keepalives_count": "integer (TCP_KEEPCNT); unset = OS default (Linux 9); 0 or less fails on Linux; "
                        "ignored when keepalives=0",
    "tcp_user_timeout": "integer milliseconds (TCP_USER_TIMEOUT); 0 or less = OS default; "
                        "not set at all (not even parsed) when keepalives=0",
    "sslmode": "disable, allow, prefer (default), require, verify-ca, verify-full",
    "sslnegotiation": "postgres (default) or direct (libpq 17+)",
    "sslrootcert": "file, or 'system' (libpq 16+; then the default sslmode is verify-full)",
    "ssl_min_protocol_version": "TLSv1, TLSv1.1, TLSv1.2 (default), TLSv1.3",
    "ssl_max_protocol_version": "TLSv1 .. TLSv1.3; unset = no upper bound",
    "min_protocol_version": "protocol 3.0, 3.2 or latest (= 3.2) (libpq 18)",
    "max_protocol_version": "protocol 3.0, 3.2 or latest (= 3.2) (libpq 18)",
    "target_session_attrs": "any, read-write, read-only, primary, standby, prefer-standby",
    "load_balance_hosts": "disable (default) or random (libpq 16+)",
    "channel_binding": "disable, prefer (default with SSL), require",
    "gssencmode": "disable, prefer, require",
    "require_auth": "comma list of password, md5, gss, sspi, scram-sha-256, oauth, none; all negated (!x) or none",
    "sslcertmode": "disable, allow, require",
    "requiressl": "removed keyword, still accepted: 1... = sslmode=require, else sslmode=prefer",
    "sslkeylogfile": "libpq 18, debug option",
}

_URI_PREFIXES = ("postgresql://", "postgres://")
_C_SPACE = frozenset(" \t\n\v\f\r")  # isspace() in the C locale
_HEX = frozenset("0123456789abcdefABCDEF")


class ConninfoParam(Record):
    """One stored option.

    `key` is the keyword as libpq stores it (aliases resolved: URI `ssl=true` and
    `requiressl=...` give `sslmode`; URI user, password, hosts, ports and dbname give
    `user`/`password`/`host`/`port`/`dbname`). `value` is decoded (quotes, escapes,
    percent-decoding; bytes that are not UTF-8 are kept as surrogate escapes). `start`/`end`
    delimit the raw value text in the input, quotes included (for URI hosts/ports: from the
    first to the last element of the list); -1 if synthesised.
    """

    __slots__ = ("key", "value", "start", "end")

    def __init__(self, key: str, value: str, start: int, end: int) -> None:
        self.key = key
        self.value = value
        self.start = start
        self.end = end

    def __hash__(self) -> int:
        return hash(self._field_values())

    def __repr__(self) -> str:  # never print a secret by accident
        value = "***" if self.key in SECRET_KEYWORDS else self.value
        return f"ConninfoParam(key={self.key!r}, value={value!r}, start={self.start}, end={self.end})"


class Conninfo(Record):
    __slots__ = ("form", "params", "error", "error_offset")

    def __init__(self, form: str, params: tuple[ConninfoParam, ...], error: str | None,
                 error_offset: int | None) -> None:
        self.form = form  # "keyword" or "uri"
        self.params = params  # in order of appearance; up to the first error
        self.error = error  # libpq's message when it rejects the string
        self.error_offset = error_offset

    def __hash__(self) -> int:
        return hash(self._field_values())

    def as_dict(self) -> dict[str, str]:
        """What PQconninfoParse returns for the keys that are set (later occurrences win).

        When `error` is set libpq returns nothing; this then holds what was read before the error.
        """
        return {p.key: p.value for p in self.params}


class _Error(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def parse_conninfo(text: str) -> Conninfo:
    """Parse a libpq connection string (keyword/value or URI) as PQconninfoParse does.

    `error` is libpq's message with secrets masked: libpq quotes the offending text back, which
    can be a password (`unexpected spaces found in "my secret"`, a whole URI with its
    `user:password@`, or `missing "=" after "secret"` for `password=my secret`); such parts read
    `***` here. Otherwise the message is libpq's, word for word.
    """
    params, errors, form = _scan(text)
    if errors:
        message, offset, count = errors[0]
        message = _mask_secrets(message, text, params)
        # percent-decoded bytes that are not UTF-8 (kept as surrogate escapes in values) read as
        # U+FFFD in a message, as psycopg shows libpq's bytes; never a lone surrogate in output
        message = message.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return Conninfo(form, tuple(params[:count]), message, offset)
    return Conninfo(form, tuple(params), None, None)


def _mask_secrets(message: str, text: str, params: list[ConninfoParam]) -> str:
    secrets = [p for p in params if p.key in SECRET_KEYWORDS and p.start >= 0]
    if not secrets and not text.startswith(_URI_PREFIXES):
        return message
    if text and text in message:
        message = message.replace(text, redact(text))
    for p in secrets:
        for candidate in (text[p.start:p.end], p.value):
            if candidate:
                message = message.replace(f'"{candidate}"', '"***"')
    return message


def redact(text: str) -> str:
    """`text` with every secret value (password, sslpassword, ...) replaced by `***`.

    Everything else stays byte-identical. The scan goes on past errors, so a password after an
    unknown keyword or a bad escape is still hidden; an unterminated quoted secret is hidden up
    to the end of the string.
    """
    nul = text.find("\0")
    if nul >= 0:  # libpq stops reading at NUL, but the text after it is still shown: hide there too
        return redact(text[:nul]) + "\0" + redact(text[nul + 1:])
    params, _errors, form = _scan(text)
    spans = {(p.start, p.end) for p in params if p.key in SECRET_KEYWORDS and p.start >= 0 and p.end > p.start}
    if form == "uri":
        # A raw '@' in a URI password ("u:p@ss@h") makes libpq cut the password at the first '@';
        # hide everything from the first ':' of the user part to the last '@' before the path.
        prefix = next(len(p) for p in _URI_PREFIXES if text.startswith(p))
        stop = len(text)
        for ch in "/?":
            found = text.find(ch, prefix)
            if found >= 0:
                stop = min(stop, found)
        at = text.rfind("@", prefix, stop)
        colon = text.find(":", prefix, at) if at >= 0 else -1
        if colon >= 0 and at > colon + 1:
            spans.add((colon + 1, at))
    spans = sorted(spans)
    if not spans:
        return text
    out, pos = [], 0
    for start, end in spans:
        if end <= pos:
            continue
        if start < pos:  # overlapping spans: extend the hidden part
            pos = end
            continue
        out.append(text[pos:start])
        out.append("***")
        if text[end - 1:end] == "'" and end < len(text) and not text[end].isspace():
            # a quoted value ends where its quote does (password=''application_name=x is two
            # keywords): the bare *** must not swallow what follows
            out.append(" ")
        pos = end
    out.append(text[pos:])
    return "".join(out)


# --------------------------------------------------------------------------- scanning
# The scanners go on after an error (for `redact`); `errors` holds (message, offset, number of
# params stored before the error). libpq stops at the first one.

def _scan(text: str) -> tuple[list[ConninfoParam], list[tuple[str, int, int]], str]:
    nul = text.find("\0")
    if nul >= 0:
        text = text[:nul]
    params: list[ConninfoParam] = []
    errors: list[tuple[str, int, int]] = []
    for prefix in _URI_PREFIXES:
        if text.startswith(prefix):
            _scan_uri(text, len(prefix), params, errors)
            return params, errors, "uri"
    _scan_keywords(text, params, errors)
    return params, errors, "keyword"


def _store(params: list[ConninfoParam], key: str, value: str, start: int, end: int) -> None:
    if key == "requiressl":
        key, value = "sslmode", ("require" if value.startswith("1") else "prefer")
    params.append(ConninfoParam(key, value, start, end))


def _scan_keywords(text: str, params: list[ConninfoParam], errors: list[tuple[str, int, int]]) -> None:
    n = len(text)
    i = 0
    while i < n:
        if text[i] in _C_SPACE:
            i += 1
            continue
        kstart = i
        while i < n and text[i] != "=" and text[i] not in _C_SPACE:
            i += 1
        name = text[kstart:i]
        while i < n and text[i] in _C_SPACE:
            i += 1
        if i >= n or text[i] != "=":
            # `password=my secret`: the word after an unquoted secret is most likely part of it
            after_secret = bool(params) and params[-1].key in SECRET_KEYWORDS and params[-1].end >= 0 \
                and all(c in _C_SPACE for c in text[params[-1].end:kstart])
            shown = "***" if after_secret else name
            errors.append((f'missing "=" after "{shown}" in connection info string', kstart, len(params)))
            if after_secret:  # for redact(): hide the word as part of the secret
                params.append(ConninfoParam(params[-1].key, name, kstart, kstart + len(name)))
            continue  # libpq stops; the lenient scan resumes at the next word
        i += 1
        while i < n and text[i] in _C_SPACE:
            i += 1
        vstart = i
        chars: list[str] = []
        if i < n and text[i] == "'":
            i += 1
            while True:
                if i >= n:
                    errors.append(("unterminated quoted string in connection info string", vstart, len(params)))
                    break
                c = text[i]
                if c == "\\":
                    i += 1
                    if i < n:
                        chars.append(text[i])
                        i += 1
                    continue
                if c == "'":
                    i += 1
                    break
                chars.append(c)
                i += 1
            vend = i
        else:
            while i < n:
                c = text[i]
                if c in _C_SPACE:
                    break
                if c == "\\":
                    i += 1
                    if i < n:
                        chars.append(text[i])
                        i += 1
                    continue
                chars.append(c)
                i += 1
            vend = i
        value = "".join(chars)
        if name not in KNOWN_KEYWORDS and name not in _ALIASES:
            errors.append((f'invalid connection option "{name}"', kstart, len(params)))
            # kept for redact() only when it is a secret's name (it cannot be: unknown)
            continue
        _store(params, name, value, vstart, vend)


def _uri_decode(raw: str, offset: int) -> str:
    """conninfo_uri_decode of libpq 18: percent-decoding; spaces trimmed, inner ones rejected."""
    if "%" not in raw and " " not in raw and raw.isascii():
        return raw  # nothing to decode or trim: the loop below would give back the same text
    n = len(raw)
    i = 0
    while i < n and raw[i] == " ":
        i += 1
    out = bytearray()
    while i < n:
        c = raw[i]
        if c == " ":
            break
        if c == "%":
            h = raw[i + 1:i + 3]
            if len(h) < 2 or h[0] not in _HEX or h[1] not in _HEX:
                raise _Error(f'invalid percent-encoded token: "{raw}"', offset + i)
            b = int(h, 16)
            if b == 0:
                raise _Error(f'forbidden value %00 in percent-encoded value: "{raw}"', offset + i)
            out.append(b)
            i += 3
        else:
            out += c.encode("utf-8", "surrogateescape")
            i += 1
    space = i
    while i < n and raw[i] == " ":
        i += 1
    if i < n:
        raise _Error(f'unexpected spaces found in "{raw}", use percent-encoded spaces (%20) instead', offset + space)
    return out.decode("utf-8", "surrogateescape")


def _byte_pos(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogateescape"))


def _scan_uri(text: str, p: int, params: list[ConninfoParam], errors: list[tuple[str, int, int]]) -> None:
    n = len(text)

    def store_decoded(key: str, raw: str, start: int, end: int) -> None:
        try:
            value = _uri_decode(raw, start)
        except _Error as err:
            errors.append((err.message, err.offset, len(params)))
            if key in SECRET_KEYWORDS:  # undecodable, but still hidden by redact()
                params.append(ConninfoParam(key, raw, start, end))
            return
        params.append(ConninfoParam(key, value, start, end))

    # user[:password]@ -- the '@' is looked for before the first '/' only
    j = p
    while j < n and text[j] not in "@/":
        j += 1
    if j < n and text[j] == "@":
        k = p
        while text[k] not in ":@":
            k += 1
        if k > p:
            store_decoded("user", text[p:k], p, k)
        if text[k] == ":":
            m = k + 1
            while text[m] != "@":
                m += 1
            if m > k + 1:
                store_decoded("password", text[k + 1:m], k + 1, m)
            k = m
        p = k + 1

    # netloc[:port][,netloc[:port]...]
    hosts: list[str] = []
    ports: list[str] = []
    host_span = [-1, -1]
    port_span = [-1, -1]
    prevchar = ""
    failed = False
    while True:
        netloc_start = p
        if p < n and text[p] == "[":
            p += 1
            hs = p
            while p < n and text[p] != "]":
                p += 1
            if p >= n:
                errors.append((f'end of string reached when looking for matching "]" in IPv6 host address in URI: "{text}"', hs - 1, len(params)))
                failed = True
                break
            if p == hs:
                errors.append((f'IPv6 host address may not be empty in URI: "{text}"', hs - 1, len(params)))
                failed = True
                break
            he = p
            p += 1
            if p < n and text[p] not in ":/?,":
                # libpq prints one byte (%c): the first byte of a multi-byte character is not text
                shown = text[p] if text[p] < "\x80" else "\ufffd"
                errors.append((
                    f'unexpected character "{shown}" at position {_byte_pos(text, p) + 1} in URI (expected ":" or "/"): "{text}"',
                    p, len(params)))
                failed = True
                break
        else:
            hs = p
            while p < n and text[p] not in ":/?,":
                p += 1
            he = p
        hosts.append(text[hs:he])
        if host_span[0] < 0:
            host_span[0] = hs
        host_span[1] = he
        prevchar = text[p] if p < n else ""
        if prevchar == ":":
            p += 1
            ps = p
            while p < n and text[p] not in "/?,":
                p += 1
            ports.append(text[ps:p])
            if port_span[0] < 0:
                port_span[0] = ps
            port_span[1] = p
            prevchar = text[p] if p < n else ""
        else:
            ports.append("")
        if prevchar != ",":
            break
        p += 1

    if failed:
        # libpq stops here; go on with the query (if any) for redact()
        q = text.find("?", netloc_start)
        if q >= 0:
            _scan_params(text, q + 1, params, errors)
        return

    hostbuf = ",".join(hosts)
    portbuf = ",".join(ports)
    if hostbuf:
        store_decoded("host", hostbuf, host_span[0], host_span[1])
    if portbuf:
        if port_span[0] < 0:  # only commas: no port text at all
            port_span = [host_span[1], host_span[1]]
        store_decoded("port", portbuf, port_span[0], port_span[1])

    if prevchar and prevchar != "?":
        p += 1
        ds = p
        while p < n and text[p] != "?":
            p += 1
        prevchar = text[p] if p < n else ""
        if p > ds:
            store_decoded("dbname", text[ds:p], ds, p)
    if prevchar:
        _scan_params(text, p + 1, params, errors)


def _scan_params(text: str, p: int, params: list[ConninfoParam], errors: list[tuple[str, int, int]]) -> None:
    n = len(text)
    while p < n:
        ks = p
        ke = vs = -1
        while True:
            if p < n and text[p] == "=":
                if vs >= 0:
                    errors.append((f'extra key/value separator "=" in URI query parameter: "{text[ks:ke]}"', p, len(params)))
                    # lenient: the rest up to '&' belongs to the value
                    while p < n and text[p] != "&":
                        p += 1
                    continue
                ke = p
                p += 1
                vs = p
            elif p >= n or text[p] == "&":
                end = p
                if p < n:
                    p += 1
                break
            else:
                p += 1
        if vs < 0:
            errors.append((f'missing key/value separator "=" in URI query parameter: "{text[ks:end]}"', ks, len(params)))
            continue
        raw_key, raw_value = text[ks:ke], text[vs:end]
        try:
            key = _uri_decode(raw_key, ks)
        except _Error as err:
            errors.append((err.message, err.offset, len(params)))
            continue
        try:
            value = _uri_decode(raw_value, vs)
        except _Error as err:
            errors.append((err.message, err.offset, len(params)))
            if key in SECRET_KEYWORDS:
                params.append(ConninfoParam(key, raw_value, vs, end))
            continue
        if key == "ssl" and value == "true":
            key, value = "sslmode", "require"
        if key not in KNOWN_KEYWORDS and key not in _ALIASES:
            errors.append((f'invalid URI query parameter: "{key}"', ks, len(params)))
            continue
        _store(params, key, value, vs, end)


# --------------------------------------------------------------------------- connect-time checks
# What libpq 18 checks after parsing, when it connects (pqConnectOptions2, PQconnectPoll,
# pqConnectDBComplete, pqParseIntParam). The messages are libpq's own, checked one by one against
# libpq 18.6 in tests/test_libpq_parity.py.

_ENUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("channel_binding", ("disable", "prefer", "require")),
    ("sslmode", ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")),
    ("sslnegotiation", ("postgres", "direct")),
)
_ENUMS_LATE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sslcertmode", ("disable", "allow", "require")),
    ("gssencmode", ("disable", "prefer", "require")),
    ("target_session_attrs", ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")),
    ("load_balance_hosts", ("disable", "random")),
    ("min_protocol_version", ("3.0", "3.2", "latest")),
    ("max_protocol_version", ("3.0", "3.2", "latest")),
)
_TLS_VERSIONS = {"tlsv1": 0, "tlsv1.1": 1, "tlsv1.2": 2, "tlsv1.3": 3}  # compared case-insensitively
_PROTOCOLS = {"3.0": 0, "3.2": 2, "latest": 2}
_AUTH_BITS = {  # require_auth methods; "none" is handled apart
    "password": {"password"}, "md5": {"md5"}, "gss": {"gss", "gss_cont"}, "sspi": {"sspi", "gss_cont"},
    "scram-sha-256": {"scram-sha-256"}, "oauth": {"oauth"},
}
_ALL_AUTH_BITS = frozenset().union(*_AUTH_BITS.values())
_KEEPALIVE_INTS = ("keepalives_idle", "keepalives_interval", "keepalives_count")
_SOCKOPT = {"keepalives_idle": "TCP_KEEPIDLE", "keepalives_interval": "TCP_KEEPINTVL", "keepalives_count": "TCP_KEEPCNT"}
_INT_MIN, _INT_MAX = -(2 ** 31), 2 ** 31 - 1


def parse_int_param(value: str) -> int | None:
    """pqParseIntParam: strtol base 10 (leading blanks, sign), trailing blanks only, fits an int."""
    s = value.lstrip("".join(_C_SPACE))
    digits_start = 1 if s[:1] in ("+", "-") else 0
    j = digits_start
    while j < len(s) and "0" <= s[j] <= "9":
        j += 1
    if j == digits_start:
        return None
    if s[j:].strip("".join(_C_SPACE)):
        return None
    number = decimal(s[:j])
    if not _INT_MIN <= number <= _INT_MAX:
        return None
    return number


def _int_error(value: str, key: str) -> str:
    return f'invalid integer value "{value}" for connection option "{key}"'


def _check_require_auth(value: str) -> str | None:
    allowed: set[str] = set()
    auth_required = True
    negated = False
    for index, part in enumerate(value.split(",")):
        first = index == 0
        method = part
        if method.startswith("!"):
            if first:
                auth_required = False
                allowed = set(_ALL_AUTH_BITS)
            elif not negated:
                return f'negative require_auth method "{method}" cannot be mixed with non-negative methods'
            negated = True
            method = method[1:]
        elif negated:
            return f'require_auth method "{method}" cannot be mixed with negative methods'
        if method == "none":
            if negated:
                if auth_required:
                    return f'require_auth method "{part}" is specified more than once'
                auth_required = True
            else:
                if not auth_required:
                    return f'require_auth method "{part}" is specified more than once'
                auth_required = False
            continue
        bits = _AUTH_BITS.get(method)
        if bits is None:
            return f'invalid require_auth value: "{method}"'
        if negated:
            if not allowed & bits:
                return f'require_auth method "{part}" is specified more than once'
            allowed -= bits
        else:
            if bits <= allowed:
                return f'require_auth method "{part}" is specified more than once'
            allowed |= bits
    return None


def _is_unix_socket(host: str) -> bool:
    return host.startswith("/") or host.startswith("@")


def validate_values(conninfo: Conninfo) -> list[tuple[ConninfoParam, str]]:
    """Errors libpq 18 gives at connect time for the values of a parsed string.

    Each entry is (the occurrence that wins, libpq's message). libpq stops at the first error;
    this lists every one, in the order libpq checks them (so the first entry is the error libpq
    reports). Returns [] for a string libpq rejects while parsing (`conninfo.error`).

    Checked: host/hostaddr/port list lengths; require_auth, channel_binding, sslmode,
    sslnegotiation (and `direct` with a weak sslmode), sslrootcert=system with a weak sslmode,
    ssl_min/max_protocol_version and their range (min defaults to TLSv1.2), sslcertmode,
    gssencmode, target_session_attrs, load_balance_hosts, min/max_protocol_version; then, as
    PQconnectPoll does, every port (integer, 1..65535), keepalives and - unless keepalives=0 -
    keepalives_idle/interval/count (integers; 0 or less is refused by Linux setsockopt) and
    tcp_user_timeout; last connect_timeout (integer).

    Where libpq's check depends on the target, this reports it unless the string makes it
    impossible: the TCP options are not checked when every host is a Unix-socket path (libpq
    skips them there); with no host at all the target comes from PGHOST or the default socket,
    unknown here, so they are checked. libpq 18 does not parse connect_timeout when every
    address fails at once (a missing socket file); it does otherwise, so it is always checked.
    """
    if conninfo.error is not None:
        return []
    last: dict[str, ConninfoParam] = {}
    for param in conninfo.params:
        last[param.key] = param
    out: list[tuple[ConninfoParam, str]] = []

    def val(key: str) -> str | None:
        p = last.get(key)
        return None if p is None else p.value

    host, hostaddr, port = val("host"), val("hostaddr"), val("port")
    if hostaddr:
        nhosts = hostaddr.count(",") + 1
    elif host:
        nhosts = host.count(",") + 1
    else:
        nhosts = 1
    if hostaddr and host and host.count(",") + 1 != nhosts:
        out.append((last["host"], f"could not match {host.count(',') + 1} host names to {nhosts} hostaddr values"))
    ports_ok = True
    if port and port.count(",") + 1 not in (1, nhosts):
        out.append((last["port"], f"could not match {port.count(',') + 1} port numbers to {nhosts} hosts"))
        ports_ok = False

    require_auth = val("require_auth")
    if require_auth:
        message = _check_require_auth(require_auth)
        if message:
            out.append((last["require_auth"], message))

    def check_enum(key: str, allowed: tuple[str, ...]) -> None:
        value = val(key)
        if value is not None and value not in allowed:
            out.append((last[key], f'invalid {key} value: "{value}"'))

    for key, allowed in _ENUMS:
        check_enum(key, allowed)
    sslmode = val("sslmode")
    effective_sslmode = sslmode if sslmode is not None else "prefer"
    if val("sslnegotiation") == "direct" and effective_sslmode in ("disable", "allow", "prefer"):
        out.append((last.get("sslmode", last["sslnegotiation"]),
                    f'weak sslmode "{effective_sslmode}" may not be used with sslnegotiation=direct '
                    '(use "require", "verify-ca", or "verify-full")'))
    if val("sslrootcert") == "system" and sslmode is not None and sslmode != "verify-full":
        out.append((last["sslmode"], f'weak sslmode "{sslmode}" may not be used with sslrootcert=system (use "verify-full")'))

    tls_ok = True
    for key in ("ssl_min_protocol_version", "ssl_max_protocol_version"):
        value = val(key)
        if value and value.lower() not in _TLS_VERSIONS:
            out.append((last[key], f'invalid "{key}" value: "{value}"'))
            tls_ok = False
    if tls_ok:
        low = val("ssl_min_protocol_version")
        high = val("ssl_max_protocol_version")
        low = "TLSv1.2" if low is None else low  # libpq's compiled-in default
        if low and high and _TLS_VERSIONS[low.lower()] > _TLS_VERSIONS[high.lower()]:
            out.append((last.get("ssl_max_protocol_version") or last["ssl_min_protocol_version"],
                        "invalid SSL protocol version range"))

    for key, allowed in _ENUMS_LATE:
        check_enum(key, allowed)
    pmin, pmax = val("min_protocol_version"), val("max_protocol_version")
    if pmin in _PROTOCOLS and pmax in _PROTOCOLS and _PROTOCOLS[pmin] > _PROTOCOLS[pmax]:
        out.append((last["min_protocol_version"], '"min_protocol_version" is greater than "max_protocol_version"'))

    # PQconnectPoll: per host, the port; then for TCP sockets the keepalive options
    if port and ports_ok:
        for element in port.split(","):
            if element == "":
                continue
            number = parse_int_param(element)
            if number is None:
                out.append((last["port"], _int_error(element, "port")))
            elif not 1 <= number <= 65535:
                out.append((last["port"], f'invalid port number: "{element}"'))

    if hostaddr:
        tcp = True
    elif host is not None:  # empty elements mean the default socket directory
        tcp = any(h and not _is_unix_socket(h) for h in host.split(","))
    else:
        tcp = True  # PGHOST or the default socket: unknown here
    if tcp:
        keepalives = val("keepalives")
        use = 1
        if keepalives is not None:
            number = parse_int_param(keepalives)
            if number is None:
                out.append((last["keepalives"], _int_error(keepalives, "keepalives")))
                use = -1
            else:
                use = 1 if number != 0 else 0
        if use == 1:
            for key in (*_KEEPALIVE_INTS, "tcp_user_timeout"):
                value = val(key)
                if value is None:
                    continue
                number = parse_int_param(value)
                if number is None:
                    out.append((last[key], _int_error(value, key)))
                elif key in _SOCKOPT and number <= 0:
                    out.append((last[key], f"setsockopt({_SOCKOPT[key]}) failed: Invalid argument"))

    timeout = val("connect_timeout")
    if timeout is not None and parse_int_param(timeout) is None:
        out.append((last["connect_timeout"], _int_error(timeout, "connect_timeout")))
    return out
