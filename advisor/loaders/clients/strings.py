"""Connection strings found inside configuration values: which kind, and their parameters.

Recognised forms, wherever a value holds them:
- libpq URIs (`postgresql://`, `postgres://`) and keyword/value strings (`host=db port=5432`),
  parsed with `advisor.loaders.clients.libpq` (libpq's own grammar);
- pgjdbc URLs `jdbc:postgresql://host:port,host2/db?prop=value&...` (pgjdbc's Driver.parseURL:
  query properties are percent-decoded, several hosts separated by commas);
- SQLAlchemy URLs `postgresql+<dbapi>://user:pw@host:port/db?k=v` (the query goes to the DBAPI;
  for the psycopg family that is libpq).

Template placeholders (`${VAR}`, `$VAR`, `$(VAR)`, `{{ x }}`, `<%= x %>`) are masked before parsing, with a
same-length run of letters, so offsets stay exact; a value that overlaps one is `Unknown`. A
placeholder with a default (`${VAR:default}` of Spring, `${VAR:-default}` and `${VAR-default}` of
compose and shells) is replaced by its default before parsing, so the string is read as it is
when the variable is unset (`jdbc:postgresql://${DB_HOST:db}:5432/app?socketTimeout=60` has the
host `db` and its socketTimeout); a value made from such a default is *assumed* (`RawParam.assumed`
names the variable) and its offsets point at the default's text inside the placeholder.
An empty default (`${VAR:-}`), `${VAR:?error}`, `${VAR:+alternative}` and a default holding another
placeholder are no defaults: those stay masked (the default text kept as a hint).

Every parameter is returned as a `RawParam` with offsets into the original text, so spans point
at the value itself; the caller maps offsets to file positions (`Locator`).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from advisor import lazy_re
from advisor.model import Record, Span

_PLACEHOLDER = lazy_re.compile(  # (fullmatch only; finding them is advisor.tags' linear scan of the same forms)
    r"\$\{(?P<var>[^}:\-\s]*)(?:(?P<sep>:-|:|-)(?P<default>[^}]*))?\}"
    r"|\{\{.*?\}\}|<%=?.*?%>|\{%.*?%\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def _placeholder_forms():
    from advisor.tags import BareVar, DollarVar, Pair

    # `$(NAME)`: Kubernetes' reference to another variable of the container's env (a shell's
    # command substitution in a dotenv file): known only where it runs
    return (DollarVar(), Pair("{{", "}}"), Pair("<%", "%>"), Pair("{%", "%}"), Pair("$(", ")"), BareVar())

URI_PREFIXES = ("postgresql://", "postgres://")
_SQLA = lazy_re.compile(r"^(postgres(?:ql)?)\+([A-Za-z0-9_]+)://")
_JDBC = "jdbc:postgresql:"
# a URL anywhere inside a longer text (a line of Ruby, a comment, a command line)
FIND_URL = lazy_re.compile(r"(?:jdbc:postgresql:|postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?://)[^\s'\"`<>]*")

PSYCOPG_DBAPIS = ("psycopg", "psycopg2", "psycopg_async", "psycopg2cffi")


class Placeholder(Record):
    """One placeholder at [start, end) of a text; `hint` its default as written (None without one);
    `default` the default pgpath reads the value as (None: masked, unknown), `var` the variable
    (`${DB_HOST}`); `wstart`/`wend` where it sits in the text with defaults substituted."""

    __slots__ = ("start", "end", "hint", "default", "var", "wstart", "wend", "at")

    def __init__(self, start: int, end: int, hint: str | None, default: str | None = None, var: str = "",
                 at: int | None = None) -> None:
        self.start = start
        self.end = end
        self.hint = hint
        self.default = default
        self.var = var
        self.wstart = start
        self.wend = end
        # offset in the text of the default's first character: by default it ends at the closing
        # brace (`${VAR:-default}`); an ERB tag's default sits inside it (`ENV.fetch("X") { 5 }`)
        self.at = at if at is not None or default is None else end - 1 - len(default)

    def __hash__(self) -> int:
        return hash(self._field_values())


class RawParam(Record):
    """One parameter of a connection string: key as the driver reads it, decoded value."""

    __slots__ = ("key", "value", "start", "end", "unknown", "hint", "assumed")

    def __init__(self, key: str, value: str, start: int, end: int, unknown: bool = False,
                 hint: str | None = None) -> None:
        self.key = key
        self.value = value
        self.start = start  # offsets of the raw value in the original text; -1 when synthesised
        self.end = end
        self.unknown = unknown
        self.hint = hint
        self.assumed: str | None = None  # the variables whose defaults make the value (`${DB_HOST}`)


class ParsedString(Record):
    __slots__ = ("form", "params", "unknown_keys", "error", "error_offset", "dbapi")

    def __init__(self, form: str, params: list[RawParam], unknown_keys: list[RawParam], error: str | None = None,
                 error_offset: int | None = None, dbapi: str | None = None) -> None:
        self.form = form  # uri | keyword | jdbc | sqlalchemy
        self.params = params
        self.unknown_keys = unknown_keys  # keys the libpq grammar does not know (pgx pool_*, app params)
        self.error = error
        self.error_offset = error_offset
        self.dbapi = dbapi


def _may_hold_placeholder(text: str) -> bool:
    """Every placeholder form has a `$`, `{` or `<`: most values have none (no regex needed)."""
    return "$" in text or "{" in text or "<" in text


def find_placeholders(text: str) -> list[Placeholder]:
    out = []
    if not _may_hold_placeholder(text):
        return out
    from advisor.tags import scan

    for start, end, _, default in scan(text, _placeholder_forms()):
        usable, var = None, ""
        if default is None and text.startswith("<%=", start):
            found = erb_default(text[start:end])
            if found is not None:
                var, usable, at = found
                out.append(Placeholder(start, end, usable, usable, var, start + at))
                continue
        if default is not None:
            m = _PLACEHOLDER.fullmatch(text[start:end])
            var = "${" + m.group("var") + "}" if m and m.group("var") is not None else ""
            usable = default if var and usable_default(default) else None
        out.append(Placeholder(start, end, default, usable, var))
    return out


def usable_default(default: str) -> bool:
    """Whether the text after a placeholder's separator is a default pgpath reads the value as:
    not empty, not `${VAR:?error}` / `${VAR:+alternative}` (no default), no placeholder inside."""
    # `${A:${B:x}}`: the scan ends the outer placeholder at the inner one's brace, leaving `${B:x` as
    # its "default", an unterminated placeholder: any `${` in a default makes it nested, not usable
    return (bool(default.strip()) and not default.startswith(("?", "+")) and "${" not in default
            and not has_placeholder(default))


def substitute(text: str) -> tuple[str, list[Placeholder], list[int] | None]:
    """`text` with each placeholder that has a usable default replaced by it, and every other
    one masked (`mask`); the placeholders (their `wstart`/`wend` set), and for each offset of the
    result the offset in `text` it comes from (None when there is no placeholder): a default's
    characters map to where they are written inside the placeholder."""
    holders = find_placeholders(text)
    if not holders:
        return text, [], None
    out: list[str] = []
    omap: list[int] = []
    pos = 0
    for h in holders:
        out.append(text[pos:h.start])
        omap.extend(range(pos, h.start))
        h.wstart = len(omap)
        if h.default is not None:
            d0 = h.at  # where the default is written inside the placeholder
            out.append(h.default)
            omap.extend(range(d0, d0 + len(h.default)))
        else:
            out.append("Z" * (h.end - h.start))
            omap.extend(range(h.start, h.end))
        h.wend = len(omap)
        pos = h.end
    out.append(text[pos:])
    omap.extend(range(pos, len(text)))
    omap.append(len(text))
    return "".join(out), holders, omap


def has_placeholder(text: str) -> bool:
    if not _may_hold_placeholder(text):
        return False
    from advisor.tags import search

    return search(text, _placeholder_forms())


def placeholder_hint(text: str) -> str | None:
    """The default of a value that is exactly one `${VAR:default}` placeholder."""
    m = _PLACEHOLDER.fullmatch(text.strip()) if _may_hold_placeholder(text) else None
    if m and m.group("sep"):
        return m.group("default")
    return None


# an ERB tag that reads an environment variable with a literal default (Rails' config/database.yml):
# `<%= ENV.fetch("X") { 5 } %>`, `<%= ENV.fetch("X", "d") %>`, `<%= ENV["X"] || "d" %>`, also
# inside Integer()/Float()/String() or followed by .to_i/.to_f/.to_s. Never run: read as its default
_ERB_LITERAL = r"""-?\d+(?:\.\d+)?|"[^"\\#]*"|'[^'\\]*'|true|false"""
_ERB_DEFAULT = lazy_re.compile(
    r"<%=\s*(?:(?:Integer|Float|String)\(\s*)?ENV(?:"
    r"\.fetch\(\s*(?P<q1>[\"'])(?P<v1>[A-Za-z_][A-Za-z0-9_]*)(?P=q1)\s*"
    rf"(?:,\s*(?P<d1>{_ERB_LITERAL})\s*\)|\)\s*\{{\s*(?P<d2>{_ERB_LITERAL})\s*\}})"
    r"|\[\s*(?P<q2>[\"'])(?P<v2>[A-Za-z_][A-Za-z0-9_]*)(?P=q2)\s*\]\s*\|\|\s*"
    rf"(?P<d3>{_ERB_LITERAL}))"
    r"\s*\)?\s*(?:\.to_[ifs]\s*)?\)?\s*-?%>")


def erb_default(tag: str) -> tuple[str, str, int] | None:
    """(`RAILS_MAX_THREADS`, "5", the default's offset in `tag`) for an ERB tag that reads an
    environment variable with a literal default (`<%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>`);
    None for any other tag (`<%= ENV["DATABASE_URL"] %>`, a computed default, code)."""
    if "ENV" not in tag:
        return None
    m = _ERB_DEFAULT.fullmatch(tag)
    if m is None:
        return None
    group = next(g for g in ("d1", "d2", "d3") if m.group(g) is not None)
    var = m.group("v1") or m.group("v2")
    text, at = m.group(group), m.start(group)
    if text[0] in "\"'":
        text, at = text[1:-1], at + 1
    if not usable_default(text):
        return None
    return var, text, at


def whole_default(text: str) -> tuple[str, str, int] | None:
    """(`${VAR}`, its default, the default's offset in `text`) when `text` is one placeholder
    with a usable default (blanks around it allowed), else None."""
    if "${" not in text and "<%=" not in text:
        return None
    lead = len(text) - len(text.lstrip())
    body = text.strip()
    holders = find_placeholders(body)
    if len(holders) != 1 or holders[0].start != 0 or holders[0].end != len(body) or holders[0].default is None:
        return None
    h = holders[0]
    return h.var, h.default, lead + h.at


def mask(text: str) -> tuple[str, list[Placeholder]]:
    """`text` with each placeholder replaced by as many `Z` letters (offsets unchanged)."""
    holders = find_placeholders(text)
    if not holders:
        return text, []
    out, pos = [], 0
    for h in holders:
        out.append(text[pos:h.start])
        out.append("Z" * (h.end - h.start))
        pos = h.end
    out.append(text[pos:])
    return "".join(out), holders


def kind_of(text: str) -> str | None:
    """Which connection-string form a value is, or None when it is none of them (a value that
    starts with a placeholder is judged with its default: `${DATABASE_URL:-postgres://db/app}`)."""
    s = text.strip()
    if s.startswith("${"):
        s = substitute(s)[0]
    if s.startswith(URI_PREFIXES):
        return "uri"
    if s.startswith(_JDBC):
        return "jdbc"
    if _SQLA.match(s):
        return "sqlalchemy"
    if looks_like_keyword_string(s):
        return "keyword"
    return None


_KV_KEY = lazy_re.compile(r"(?:^|\s)([a-z_]+)\s*=")
_KV_ANCHORS = {"host", "hostaddr", "dbname", "service", "port", "user", "sslmode"}


def looks_like_keyword_string(text: str) -> bool:
    """`host=db port=5432 ...`: a keyword/value string (at least two libpq keywords, one of them
    naming a target), as opposed to any `a=b` text."""
    from advisor.loaders.clients.libpq import KNOWN_KEYWORDS

    masked, _ = mask(text)
    keys = _KV_KEY.findall(masked)
    known = [k for k in keys if k in KNOWN_KEYWORDS]
    if not keys or keys[0] not in KNOWN_KEYWORDS:
        return False
    return len(known) >= 2 and bool(_KV_ANCHORS.intersection(known))


def parse(text: str, explicit: bool = False) -> ParsedString | None:
    """Parse a connection string of any recognised form (leading/trailing blanks allowed).

    `explicit`: the text is the value of a connection variable (`DATABASE_URL`, `*_DSN`), so a
    value of no other form (`db`, `x=`, `host=db`) is read as a libpq keyword/value string, as
    libpq would read it; a URL of another scheme (`mysql://`, `https://`) is still none.
    """
    lead = len(text) - len(text.lstrip())
    body = text.strip()
    form = kind_of(body)
    if form is None and explicit and body and "://" not in body and not body.lower().startswith("jdbc:"):
        form = "keyword"
    if form is None:
        return None
    work, holders, omap = substitute(body)
    if form == "jdbc":
        parsed = _parse_jdbc(work)
    elif form == "sqlalchemy":
        parsed = _parse_sqlalchemy(work)
    elif form == "uri":
        parsed = _parse_uri(work)
    else:
        parsed = _parse_keyword(work)
    if omap is not None:
        for group in (parsed.params, parsed.unknown_keys):
            for p in group:
                _from_work(p, holders, omap, body)
        if parsed.error_offset is not None:
            parsed.error_offset = omap[min(max(parsed.error_offset, 0), len(omap) - 1)]
    for group in (parsed.params, parsed.unknown_keys):
        for p in group:
            if p.start >= 0:
                p.start += lead
                p.end += lead
    if parsed.error_offset is not None:
        parsed.error_offset += lead
    if holders and parsed.error is not None:
        # an error caused by a placeholder (a templated port, a templated key) is not an error
        if any(h.start <= (parsed.error_offset or 0) - lead < h.end + 1 for h in holders):
            parsed.error = None
    return parsed


def _from_work(p: RawParam, holders: list[Placeholder], omap: list[int], body: str) -> None:
    """A parameter parsed from `substitute`'s text, back in the text as written: its offsets; an
    overlapped placeholder without a default makes it unknown (its value the text as written,
    the default kept as a hint when one placeholder holds it all); one with a default makes it
    assumed, its offsets those of the default's text."""
    if p.start < 0:
        return
    s, e = p.start, p.end
    over = [h for h in holders if h.wstart < max(e, s + 1) and s < h.wend]
    bs = omap[min(s, len(omap) - 1)]
    be = omap[e - 1] + 1 if e > s else bs
    if not over:
        p.start, p.end = bs, be
        return
    if any(h.default is None for h in over):
        p.unknown = True
        p.start, p.end = bs, be
        for h in over:
            if h.default is None and h.start <= bs and be <= h.end and h.hint is not None:
                p.hint = h.hint
        p.value = body[bs:be]
        return
    p.start, p.end = bs, be
    p.assumed = ", ".join(dict.fromkeys(h.var for h in over))


def _query_pieces(text: str, q: int):
    """(offset, raw key, "=" or "", raw value) of each `k=v` after the `?` at `q`; an empty piece
    (`?&a=b`, `a=b&&c=d`) is yielded as ("", "", "") except after the last `&`, which libpq allows."""
    pos = q + 1
    pieces = text[q + 1:].split("&")
    for i, piece in enumerate(pieces):
        start = pos
        pos += len(piece) + 1
        if piece or (i < len(pieces) - 1 and len(pieces) > 1):
            key, eq, value = piece.partition("=")
            yield start, key, eq, value


def _parse_uri(text: str, offset: int = 0, libpq_ssl: bool = True) -> ParsedString:
    """A libpq URI; the query part is read here too so unknown keys are kept (pgx, apps).
    `libpq_ssl`: read `ssl=true` as libpq does (sslmode=require); off for a URL that another
    driver reads (SQLAlchemy with asyncpg: `ssl` is that driver's own argument)."""
    from advisor.loaders.clients.libpq import KNOWN_KEYWORDS, parse_conninfo

    q = text.find("?")
    head = text if q < 0 else text[:q]
    info = parse_conninfo(head)
    params = [RawParam(p.key, p.value, p.start, p.end) for p in info.params]
    unknown: list[RawParam] = []
    error, error_offset = info.error, info.error_offset
    if q >= 0:
        for start, key_raw, eq, value_raw in _query_pieces(text, q):
            vstart = start + len(key_raw) + 1
            key, value = unquote(key_raw), unquote(value_raw)
            if not eq:
                if error is None:
                    error, error_offset = f'missing key/value separator "=" in URI query parameter: "{key_raw}"', start
                continue
            if "=" in value_raw and error is None:
                # conninfo_uri_parse_params: a second `=` before the next `&`
                error, error_offset = f'extra key/value separator "=" in URI query parameter: "{key_raw}"', start
            if key == "ssl" and libpq_ssl:
                if value == "true":
                    params.append(RawParam("sslmode", "require", vstart, vstart + len(value_raw)))
                    continue
            if key in KNOWN_KEYWORDS:
                params.append(RawParam(key, value, vstart, vstart + len(value_raw)))
            else:
                unknown.append(RawParam(key, value, vstart, vstart + len(value_raw)))
                if error is None:
                    error, error_offset = f'invalid URI query parameter: "{key}"', start
    return ParsedString("uri", _shift(params, offset), _shift(unknown, offset), error,
                        None if error_offset is None else error_offset + offset)


def _shift(params: list[RawParam], offset: int) -> list[RawParam]:
    if offset:
        for p in params:
            if p.start >= 0:
                p.start += offset
                p.end += offset
    return params


def _parse_keyword(text: str) -> ParsedString:
    """A keyword/value string; keys libpq does not know are set aside (and blanked) so the rest
    still parses with libpq's grammar."""
    from advisor.loaders.clients.libpq import parse_conninfo

    unknown: list[RawParam] = []
    first_error: tuple[str, int] | None = None
    work = text
    for _ in range(64):
        info = parse_conninfo(work)
        if info.error is None:
            break
        if first_error is None:
            first_error = (info.error, info.error_offset or 0)
        m = re.match(r'invalid connection option "(.*)"$', info.error)
        if not m or info.error_offset is None:
            break
        k0 = info.error_offset
        k1 = _pair_end(work, k0)
        key = m.group(1)
        eq = work.find("=", k0, k1)
        vstart = eq + 1 if eq >= 0 else k1
        while vstart < k1 and work[vstart] in " \t\n\v\f\r":
            vstart += 1
        value = work[vstart:k1]
        if value.startswith("'") and value.endswith("'") and len(value) >= 2:
            value = value[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        unknown.append(RawParam(key, value, vstart, k1))
        work = work[:k0] + " " * (k1 - k0) + work[k1:]
    params = [RawParam(p.key, p.value, p.start, p.end) for p in info.params]
    error, offset = (info.error, info.error_offset) if info.error else (first_error if first_error else (None, None))
    return ParsedString("keyword", params, unknown, error, offset)


def _pair_end(text: str, i: int) -> int:
    """End of the `key = value` pair starting at i (libpq's keyword/value grammar)."""
    n = len(text)
    while i < n and text[i] != "=" and text[i] not in " \t\n\v\f\r":
        i += 1
    while i < n and text[i] in " \t\n\v\f\r":
        i += 1
    if i >= n or text[i] != "=":
        return i
    i += 1
    while i < n and text[i] in " \t\n\v\f\r":
        i += 1
    if i < n and text[i] == "'":
        i += 1
        while i < n and text[i] != "'":
            i += 2 if text[i] == "\\" else 1
        return min(i + 1, n)
    while i < n and text[i] not in " \t\n\v\f\r":
        i += 2 if text[i] == "\\" else 1
    return min(i, n)


def _parse_sqlalchemy(text: str) -> ParsedString:
    """`postgresql+psycopg2://...`: the URL grammar is libpq's URI (user, password, host, port,
    database, query); the scheme names the DBAPI."""
    m = _SQLA.match(text)
    assert m is not None
    scheme_len = m.end()
    rewritten = "postgresql://" + text[scheme_len:]
    parsed = _parse_uri(rewritten, 0, libpq_ssl=m.group(2) is None or m.group(2) in PSYCOPG_DBAPIS)
    delta = scheme_len - len("postgresql://")
    for group in (parsed.params, parsed.unknown_keys):
        _shift(group, delta)
    if parsed.error_offset is not None:
        parsed.error_offset += delta
    parsed.form = "sqlalchemy"
    parsed.dbapi = m.group(2)
    if parsed.dbapi not in PSYCOPG_DBAPIS:
        # asyncpg, pg8000...: the query goes to a driver with its own names; nothing is an error
        parsed.error = None
    return parsed


def _parse_jdbc(text: str) -> ParsedString:
    """pgjdbc's URL grammar: `jdbc:postgresql:` then `//hosts/db`, `/db`, `db` or nothing, then
    `?k=v&...` (keys case-sensitive, values percent-decoded)."""
    params: list[RawParam] = []
    error = None
    error_offset = None
    pos = len(_JDBC)
    q = text.find("?", pos)
    main_end = len(text) if q < 0 else q
    if text.startswith("//", pos):
        pos += 2
        slash = text.find("/", pos, main_end)
        if slash < 0:
            error, error_offset = "pgjdbc needs a / after the host list (jdbc:postgresql://host:port/database)", main_end
            slash = main_end
        hosts_start = pos
        for piece in text[hosts_start:slash].split(","):
            start = pos
            pos += len(piece) + 1
            host, port_text = piece, None
            if piece.startswith("["):
                close = piece.find("]")
                host = piece[: close + 1] if close >= 0 else piece
                rest = piece[close + 1:] if close >= 0 else ""
                if rest.startswith(":"):
                    port_text = rest[1:]
            elif ":" in piece:
                host, _, port_text = piece.rpartition(":")
            params.append(RawParam("host", host or "localhost", start if host else -1, start + len(host) if host else -1))
            if port_text is not None:
                pstart = start + len(piece) - len(port_text)
                value = port_text
                if "@" in port_text:  # `user:password@db`: pgjdbc has no user-info, the password is read as the port
                    value = "***" + port_text[port_text.find("@"):]
                params.append(RawParam("port", value, pstart, pstart + len(port_text)))
        pos = slash + 1
    elif text.startswith("/", pos):
        pos += 1
    db = text[pos:main_end]
    if db:
        params.append(RawParam("dbname", unquote(db), pos, main_end))
    if q >= 0:
        for start, key, _eq, value in _query_pieces(text, q):
            vstart = start + len(key) + 1
            params.append(RawParam(key, unquote(value), vstart, vstart + len(value)))
    return ParsedString("jdbc", params, [], error, error_offset)


# ------------------------------------------------------------------------------------------------
# redaction of any connection string (libpq's redact plus the JDBC / SQLAlchemy forms)

_URL_PASSWORD = lazy_re.compile(r"(://[^:/@\s?#]*:)([^\s/?#]*)(@)")  # greedy: up to the last @ of the authority
_QUERY_PASSWORD = lazy_re.compile(r"([?&;](?:password|sslpassword)=)([^&\s]*)", re.IGNORECASE)
_KV_PASSWORD_TAIL = lazy_re.compile(r"(\b(?:password|sslpassword)\s*=\s*\*\*\*)(?:[ \t]+[^\s=]+)+(?=\s|$)", re.IGNORECASE)
_KV_PASSWORD = lazy_re.compile(r"(\b(?:password|sslpassword)\s*=\s*)('(?:[^'\\]|\\.)*'?|\S+)", re.IGNORECASE)


def redact_any(text: str) -> str:
    """`text` with every password in any connection-string form replaced by `***`: libpq's own
    redaction for libpq strings, then the `user:password@` part and `password=` parameters of
    every URL inside the text, then `password=` pairs of keyword/value text."""
    from advisor.loaders.clients.libpq import redact

    out = text
    try:
        if text.strip().startswith(URI_PREFIXES) or looks_like_keyword_string(text):
            out = redact(text)
    except Exception:  # noqa: BLE001 - redaction must never fail; the regexes below still run
        out = text

    def url(m: re.Match) -> str:
        u = _URL_PASSWORD.sub(lambda n: n.group(1) + "***" + n.group(3), m.group())
        return _QUERY_PASSWORD.sub(lambda n: n.group(1) + "***", u)

    # (the checks before each regex are what it needs to match: most texts skip all four)
    has_url = False
    if ":" in out:
        out = FIND_URL.sub(url, out)
        has_url = FIND_URL.search(out) is not None
    if not has_url and "password" in out.lower():
        out = _KV_PASSWORD.sub(lambda m: m.group(1) + "***", out)
        # words after a password that are no `key=value` pair (an unquoted password with a space)
        out = _KV_PASSWORD_TAIL.sub(lambda m: m.group(1), out)
    return out


# ------------------------------------------------------------------------------------------------
# offsets inside a value -> file spans


class Locator(Record):
    """Where a value's text sits in its file. `exact` when the value is written verbatim on one
    line (no escapes, no folding), so an offset in the value is an offset on that line."""

    __slots__ = ("file", "line", "col", "exact", "whole")

    def __init__(self, file: str, line: int, col: int, exact: bool, whole: Span) -> None:
        self.file = file
        self.line = line
        self.col = col  # 1-based column of the value's first character
        self.exact = exact
        self.whole = whole

    def __hash__(self) -> int:
        return hash(self._field_values())

    def span(self, start: int, end: int) -> Span:
        if self.exact and start >= 0:
            return Span(self.file, self.line, self.col + start, self.line, self.col + max(end, start))
        return self.whole

    @classmethod
    def verbatim(cls, file: str, line: int, col: int, text: str) -> "Locator":
        whole = Span(file, line, col, line, col + len(text))
        return cls(file, line, col, "\n" not in text, whole)

    @classmethod
    def approximate(cls, whole: Span) -> "Locator":
        return cls(whole.file, whole.line or 1, whole.col or 1, False, whole)


# ------------------------------------------------------------------------------------------------
# quoting what a reader could not make sense of

SHORT_QUOTE = 12  # longer quoted values are shown by their first characters only
_QUOTED = lazy_re.compile(r'"([^"\n]*)"')
# a quoted name that is a key (libpq's `invalid connection option "x"`): shown whole when it is
# written like one
_KEY_CONTEXTS = ('connection option ', 'query parameter: ', 'for parameter ', 'connection option "')
_KEY_LIKE = lazy_re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


def short_value(value: str) -> str:
    """A value as a message may quote it: whole when short, else its first four characters and
    its length (`sk_l…` (32 characters)); the span still points at the whole value."""
    if len(value) <= SHORT_QUOTE:
        return value
    return f"{value[:4]}… ({len(value)} characters)"


def short_quotes(message: str, hidden: list[str] | None = None) -> str:
    """`message` with every quoted fragment longer than a few characters shortened (a value that
    does not parse may be a secret pasted into the wrong variable: `DATABASE_URL=<a token>`).
    Names of connection options, quoted after `connection option`, stay whole when they look like
    names; libpq keywords stay whole. Each fragment shortened is appended to `hidden`."""
    if '"' not in message:
        return message
    from advisor.loaders.clients.libpq import KNOWN_KEYWORDS

    def one(m: re.Match) -> str:
        inner = m.group(1)
        if len(inner) <= SHORT_QUOTE or inner in KNOWN_KEYWORDS:
            return m.group(0)
        before = message[max(0, m.start() - 20):m.start()]
        if before.endswith(_KEY_CONTEXTS) and _KEY_LIKE.fullmatch(inner):
            return m.group(0)
        if hidden is not None:
            hidden.append(inner)
        return f'"{inner[:4]}…" ({len(inner)} characters)'

    return _QUOTED.sub(one, message)
