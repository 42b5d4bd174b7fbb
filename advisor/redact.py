"""The one layer every output goes through: secrets out, file names printable.

`pgpath check` (every reporter, through `advisor.reporters.render`) and `pgpath dump` pass what
they print through a `Redactor` made from the loaded documents:

- every string (finding messages and fixes, setting values, document data) has its passwords
  replaced by `***` wherever a pattern shows them: libpq keyword/value `password=`, URL
  user-info `scheme://user:password@` (JDBC, SQLAlchemy, libpq URIs), `password=` query
  parameters, `PGPASSWORD=...`-style variables, `--password x`/`pass:x` options in commands and
  SQL's `PASSWORD 'x'` (a role's, quoted by a parser error that runs on past its statement);
- every secret value the loaders read (a setting marked secret, a client's password, a bare
  value of a connection variable that no reader could parse (`DATABASE_URL=<a token>`), the
  password inside `primary_conninfo` and any other connection-string setting, the whole of
  `ssl_passphrase_command`, secret-looking words of `archive_command` and the other shell
  commands) is replaced wherever it appears verbatim as a whole word (not inside a longer word:
  `Secret` in `Secrets` or `x_Secret` is left), so a message that quotes it leaks nothing. Two
  kinds of value are not replaced wherever they appear, only in their own places (the patterns
  above, a secret setting, a secret-named key of JSON data): a development password
  (`advisor.model.is_development_password`: the user name or a well-known default such as
  `postgres`; nothing it protects is secret) and a value that is also an ordinary word of the
  inputs (a user, a database, a host, a HAProxy `listen` name, an image, a folder, a kind of
  document or hop: `ledger` as the password and the database). Masking such a word everywhere
  rewrites the output (`listen ***_pg`, image `***:16.4`) and, compared with the inputs, reveals
  the password; left as a word, nothing says it is one. A value a reader rejected (`_opaque`) is
  always replaced;
- file names that are not UTF-8 (bytes kept by Python as lone surrogates) are shown with
  backslash escapes (`\\xff`), so every output is valid UTF-8 (JSON included).

Finding secrets is linear in the text: the secret values are indexed by their first four
characters, and a text is looked up once per position that holds one of those prefixes (each
candidate there is compared with the text and its two neighbouring characters). Telling the
ordinary words is linear in the documents' settings, and done only when some document holds a
literal secret that is neither a development password nor a rejected value.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from advisor import lazy_re

# settings that hold a libpq connection string (every catalog: tests/test_secrets.py checks it)
CONNINFO_SETTINGS = frozenset({"primary_conninfo"})
# shell commands the server runs: a password or key may be written into them
COMMAND_SETTINGS = frozenset({"archive_command", "restore_command", "archive_cleanup_command", "recovery_end_command",
                              "ssl_passphrase_command"})
# commands whose whole text is secret: its output is the passphrase (`echo s3cret`)
WHOLLY_SECRET_SETTINGS = frozenset({"ssl_passphrase_command"})

MIN_SECRET = 4  # shorter values are replaced only where a pattern shows them (`password=abc`)

_SECRET_WORD = r"[A-Za-z0-9_]*(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_KEY|PRIVATE_KEY)[A-Za-z0-9_]*"
_ENV_SECRET = lazy_re.compile(rf"\b({_SECRET_WORD})(\s*[=:]\s*)('[^']*'?|\"[^\"]*\"?|[^\s;&|'\"]+)", re.IGNORECASE)
# a quoted key with a quoted value: `"password": "x"` in JSON, `'PASSWORD': 'x'` in a Django dict
# (not `"PASSWORD": os.environ[...]`, which is no password)
_QUOTED_SECRET = lazy_re.compile(rf"\b({_SECRET_WORD})(['\"]\s*:\s*)('[^']*'|\"[^\"]*\")", re.IGNORECASE)
_OPTION_SECRET = lazy_re.compile(r"(--?(?:password|passwd|passphrase|secret(?:-?(?:access-?)?key)?|token|api-?key|access-?key)"
                                 r"(?:[= ]|\s+))"
                                 r"('[^']*'?|\"[^\"]*\"?|[^\s;&|'\"]+)", re.IGNORECASE)
_PASS_PREFIX = lazy_re.compile(r"\b(pass:)(\S+)")  # openssl -passin pass:secret
# SQL: CREATE/ALTER ROLE|USER ... [ENCRYPTED] PASSWORD 'secret' (a quoted literal, '' inside it; an
# E'' string; up to the end of the text when it does not close, as a parser error quotes it); not
# a placeholder of a fix (`PASSWORD '<new>'`)
_SQL_PASSWORD = lazy_re.compile(r"\b(PASSWORD\s+[EeUu&]{0,2})(?!'<[^'<>]*>')('(?:[^']|'')*'?)", re.IGNORECASE)
_SECRET_KEY = lazy_re.compile(_SECRET_WORD, re.IGNORECASE)  # a JSON key whose value is a secret (fullmatch)
# `user:password@host` without a scheme (pgjdbc reads `jdbc:postgresql://user:pw@db` as a host
# name, and messages print it); `[^...]+` runs cannot overlap, so the search stays linear
_USERINFO = lazy_re.compile(r"(?<![^\s'\"(=/,;])([^\s:/@'\"]+):([^\s/@'\"]+)@(?=[\w\[])")
_SURROGATE = lazy_re.compile("[\udc80-\udcff]")


def escape_surrogates(text: str) -> str:
    """Bytes of a non-UTF-8 file name (kept as lone surrogates) as `\\xNN`."""
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def redact_patterns(text: str) -> str:
    """Passwords that the text itself shows as such (see the module docstring)."""
    if not text:
        return text
    out = text
    if "://" in text or "jdbc:" in text or "assword" in text or "PASSWORD" in text:
        from advisor.loaders.clients.strings import redact_any  # (imported only when a text may need it)

        out = redact_any(text)
    if "@" in out:
        out = _USERINFO.sub(lambda m: m.group(1) + ":***@", out)
    low = out.lower()
    if any(w in low for w in ("pass", "secret", "token", "key")):
        out = _ENV_SECRET.sub(lambda m: m.group(1) + m.group(2) + "***", out)
        out = _QUOTED_SECRET.sub(lambda m: m.group(1) + m.group(2) + "***", out)
        out = _OPTION_SECRET.sub(lambda m: m.group(1) + "***", out)
        out = _PASS_PREFIX.sub(lambda m: m.group(1) + "***", out)
        out = _SQL_PASSWORD.sub(lambda m: m.group(1) + "'***'", out)
    return out


def _conninfo_passwords(text: str) -> list[str]:
    from advisor.loaders.clients.libpq import parse_conninfo

    out = []
    try:
        params = parse_conninfo(text).as_dict()
    except Exception:  # noqa: BLE001 - an unparsable string still goes through the patterns
        params = None
    if isinstance(params, dict):
        for key in ("password", "sslpassword"):
            if params.get(key):
                out.append(str(params[key]))
    for m in re.finditer(r"(?:password|sslpassword)\s*=\s*('(?:[^'\\]|\\.)*'?|\S+)", text, re.IGNORECASE):
        out.append(m.group(1).strip("'"))
    out += [m.group(1) for m in _URL_USERINFO.finditer(text)]
    return out


_URL_USERINFO = lazy_re.compile(r"://[^/@\s:]*:([^@/\s]+)@")


def _command_secrets(text: str) -> list[str]:
    out = [m.group(3).strip("'\"") for m in _ENV_SECRET.finditer(text)]
    out += [m.group(2).strip("'\"") for m in _OPTION_SECRET.finditer(text)]
    out += [m.group(2) for m in _PASS_PREFIX.finditer(text)]
    return out + _conninfo_passwords(text)


def shown_roots(given_paths) -> list[tuple[str, str]]:
    """(absolute prefix, what to show instead) for each path given on the command line that is
    absolute and outside the working directory, so that no output carries an absolute path of the
    machine running pgpath (paths are relative to what was checked): a folder `/srv/app/conf` is
    shown as `conf` (`conf/postgresql.conf`), a file `/srv/app/conf/postgresql.conf` as
    `postgresql.conf` (and a file it includes beside it, `/srv/app/conf/b.conf`, as `b.conf`: the
    prefix of a file is its folder, ending with a separator). Paths inside the working directory
    are already relative (advisor.engine)."""
    import os

    out: list[tuple[str, str]] = []
    for given in given_paths or ():
        if not isinstance(given, str) or not os.path.isabs(given):
            continue
        prefix = os.path.normpath(given)
        try:
            rel = os.path.relpath(prefix)
        except ValueError:  # another drive
            rel = prefix
        if not (rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel)):
            continue  # inside the working directory: the engine shows it relative already
        if os.path.isdir(prefix):
            if prefix != os.sep:
                out.append((prefix, os.path.basename(prefix)))
        else:
            folder = os.path.dirname(prefix)
            if folder != os.sep:
                out.append((folder + os.sep, ""))
    out.sort(key=lambda r: len(r[0]), reverse=True)  # the longest (most specific) prefix first
    return out


_UNCHANGED: Any = object()  # Redactor._cleaned's mark of a text that cleaning leaves as it is


class Redactor:
    """Made from the loaded documents; cleans every string an output prints. `roots`: the paths
    given on the command line (absolute ones outside the working directory are shown relative)."""

    def __init__(self, docs=(), roots=(), plain: Any = None) -> None:
        """`plain`: JSON-like data the run read whose strings are ordinary words (the topology of
        pgpath.yaml: deployment names, files, proxies), as the documents' non-secret values are."""
        from advisor.model import is_development_password

        self._index: dict[str, list[str]] = {}
        # each distinct string cleaned once per report (a fleet repeats `5432`, `on`, `*`
        # thousands of times); made again with every Redactor, so nothing outlives a run
        self._cleaned: dict[str, Any] = {}
        # every secret value read, those left as words too: masked under a secret-named key of data
        self._known: set[str] = set()
        docs = list(docs)
        rejected: set[str] = set()  # values a reader rejected: always replaced
        development: dict[str, bool] = {}  # value -> a development password wherever it was read
        for doc in docs:
            for secret, user, opaque in _secrets_of(doc):
                if not isinstance(secret, str):
                    continue
                secret = secret.strip()
                if not secret or secret == "***":
                    continue
                self._known.add(secret)
                if opaque:
                    rejected.add(secret)
                else:
                    development[secret] = development.get(secret, True) and is_development_password(secret, user)
        words = {v for v, dev in development.items() if not dev and v not in rejected and len(v) >= MIN_SECRET}
        ordinary = _ordinary_words(docs, words, plain) if words else set()
        for secret in self._known:
            if secret in rejected or not (development.get(secret) or secret in ordinary):
                self.add(secret)
        self._roots = shown_roots(roots)
        self._root_re = None
        if self._roots:
            # a folder's prefix ends where a path component ends (`/srv/conf` is not a prefix of
            # `/srv/conf2`); a file's prefix (its folder) ends with the separator
            alternatives = "|".join(re.escape(prefix) + ("" if prefix.endswith(("/", "\\")) else
                                                         r"(?![^/\s\"'`:),;\]])")
                                    for prefix, _ in self._roots)
            self._root_re = re.compile(rf"(?:file://)?(?P<root>{alternatives})")
            self._root_shown = dict(self._roots)

    def relative(self, text: str) -> str:
        """`text` with each absolute root given outside the working directory shown relative."""
        if self._root_re is None or not isinstance(text, str) or "/" not in text:
            return text
        return self._root_re.sub(lambda m: self._root_shown[m.group("root")], text)


    def add(self, secret: Any) -> None:
        """Replace `secret` wherever it appears as a whole word (a value shorter than MIN_SECRET
        only where a pattern shows it)."""
        if not isinstance(secret, str):
            return
        secret = secret.strip()
        if len(secret) < MIN_SECRET or secret == "***":
            return
        bucket = self._index.setdefault(secret[:MIN_SECRET], [])
        if secret not in bucket:
            bucket.append(secret)
            bucket.sort(key=len, reverse=True)
            self._cleaned.clear()  # (secrets are all added before any text is cleaned, but be safe)

    def text(self, text: Any) -> Any:
        """A string as it may be printed (anything else is returned as it is)."""
        if not isinstance(text, str) or not text:
            return text
        cleaned = self._cleaned.get(text)
        if cleaned is not None:
            return text if cleaned is _UNCHANGED else cleaned  # (the same object back when unchanged)
        out = redact_patterns(text)
        if self._index:
            out = self._replace_known(out)
        if self._root_re is not None:
            out = self.relative(out)
        out = escape_surrogates(out)
        self._cleaned[text] = _UNCHANGED if out == text else out
        return text if out == text else out

    def _replace_known(self, text: str) -> str:
        parts = []
        last = 0
        for start, end in _word_matches(text, self._index):
            parts.append(text[last:start])
            parts.append("***")
            last = end
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)

    def data(self, obj: Any) -> Any:
        """JSON-like data with every string (keys too) cleaned."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            known = self._known
            return {self.text(k) if isinstance(k, str) else k:
                    "***" if (isinstance(v, str) and isinstance(k, str) and v.strip() in known
                              and _SECRET_KEY.fullmatch(k)) else self.data(v)
                    for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.data(v) for v in obj]
        return obj

    def span(self, span):
        if span is None:
            return None
        if span.key is None and self._root_re is None and span.file.__class__ is str and span.file.isascii():
            return span  # (the usual case: nothing to clean)
        file = escape_surrogates(self.relative(span.file)) if isinstance(span.file, str) else span.file
        key = self.text(span.key) if span.key else span.key
        return span if (file is span.file and key is span.key) else span._replace(file=file, key=key)

    def finding(self, f):
        out = copy.copy(f)
        out.message = self.text(f.message)
        out.fix = self.text(f.fix)
        out.span = self.span(f.span)
        out.related = tuple(self.span(r) for r in f.related)
        return out

    def setting(self, s):
        """The setting as it may be printed: the setting itself when nothing in it changes (the
        usual case; reporters only read), else a cleaned copy."""
        secret = True if s.name in WHOLLY_SECRET_SETTINGS and s.raw not in (None, "", "''") else s.secret
        raw, value = self.text(s.raw), self.text(s.value)
        position = s._span  # noqa: SLF001 - a position tuple not yet made into spans (see Setting)
        if (position.__class__ is tuple and self._root_re is None and position[0].__class__ is str
                and position[0].isascii()
                and (s._value_span is None or self.span(s._value_span) is s._value_span)):  # noqa: SLF001
            # nothing to clean in spans still to be made: leave them unmade (two Span objects a
            # line on a large postgresql.conf, made only to be compared)
            if secret is s.secret and raw is s.raw and value is s.value:
                return s
        span, value_span = s.span, s.value_span
        clean_span, clean_value_span = self.span(span), self.span(value_span)
        if (secret is s.secret and raw is s.raw and value is s.value and clean_span is span
                and clean_value_span is value_span):
            return s
        out = copy.copy(s)
        out.secret = secret
        out.raw = raw
        out.value = value
        out.span = clean_span
        out.value_span = clean_value_span
        return out

    def document(self, d, with_settings: bool = True):
        out = copy.copy(d)
        out.path = escape_surrogates(self.relative(d.path))
        out.files = [escape_surrogates(self.relative(f)) for f in d.files]
        setting = self.setting
        # a format that prints no settings gets none: nothing to clean, nothing to leak
        out.settings = [setting(s) for s in d.settings] if with_settings else []
        for kind in ("unresolved_includes", "unread_keys"):
            unread = d.meta.get(kind)
            if unread:  # the warnings of what was not read quote the include line, or the key's setting
                out.meta = dict(out.meta, **{kind: [
                    dict(n, file=escape_surrogates(n["file"]), message=self.text(n.get("message") or ""))
                    for n in unread]})
        return out

    def report(self, report, with_settings: bool = True):
        """A copy of the report whose every printable string is clean. `with_settings=False` for
        a format that prints no document settings: its documents come without them (cleaning
        every setting of a large tree costs as much as reading it)."""
        out = copy.copy(report)
        out.findings = [self.finding(f) for f in report.findings]
        out.docs = [self.document(d, with_settings) for d in report.docs]
        errors = []
        for e in report.input_errors:
            errors.append(type(e)(escape_surrogates(self.relative(e.path)), self.text(e.message), e.line))
        out.input_errors = errors
        return out


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _word_matches(text: str, index: dict[str, list[str]]):
    """(start, end) of each secret of `index` (by their first MIN_SECRET characters, each bucket
    longest first) found in `text` as a whole word: no letter, digit or `_` of the text joins
    the secret's first or last character when that character is itself one. Left to right,
    without overlaps; one look-up per position."""
    pos = 0
    size = len(text)
    n = size - MIN_SECRET + 1
    while pos < n:
        bucket = index.get(text[pos:pos + MIN_SECRET])
        if bucket:
            before = pos > 0 and _is_word(text[pos - 1])
            for secret in bucket:  # longest first
                if not text.startswith(secret, pos) or (before and _is_word(secret[0])):
                    continue
                end = pos + len(secret)
                if end < size and _is_word(secret[-1]) and _is_word(text[end]):
                    continue
                yield pos, end
                pos = end
                break
            else:
                pos += 1
            continue
        pos += 1


def _setting_secrets(s) -> list[str]:
    """The secrets a loader kept in one setting's text."""
    out: list[str] = []
    raw = s.raw if isinstance(s.raw, str) else ""
    text = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == "'" else raw
    if s.secret:
        out += [text, s.value if isinstance(s.value, str) else ""]
    elif s.name in WHOLLY_SECRET_SETTINGS:
        out.append(text)
        out += text.split()[1:]  # its arguments (`echo s3cret`)
    elif s.name in CONNINFO_SETTINGS:
        out += _conninfo_passwords(text)
    elif s.name in COMMAND_SETTINGS:
        out += _command_secrets(text)
    if "@" in text and "://" in text:  # user-info of any URL (pgjdbc reads `user:pw@db` as host and port)
        out += [m.group(1) for m in _URL_USERINFO.finditer(text)]
    return out


def _value_text(v) -> str | None:
    value = getattr(v, "value", None)
    return value if isinstance(value, str) else None


def _secrets_of(doc) -> list[tuple[str, str | None, bool]]:
    """(secret, the user it is the password of when known, whether a reader rejected it) for
    every secret a loader kept in the document."""
    out: list[tuple[str, str | None, bool]] = []
    for s in doc.settings:
        out += [(v, None, False) for v in _setting_secrets(s)]
    # values a reader rejected that may be secrets (a token in DATABASE_URL): advisor.loaders.client
    out += [(v, None, True) for v in (getattr(doc, "meta", None) or {}).get("_opaque", ()) if isinstance(v, str)]
    model = getattr(doc, "model", None)
    for ep in getattr(model, "endpoints", None) or ():
        user = _value_text(getattr(ep, "user", None))
        pw = getattr(ep, "password", None)
        if pw is not None and _value_text(pw) is not None:
            out.append((pw.value, user, False))
        for v in (getattr(ep, "params", None) or {}).values():
            if getattr(v, "secret", False) and _value_text(v) is not None:
                out.append((v.value, user, False))
    for entry_list in ("databases", "users"):
        for entry in getattr(model, entry_list, None) or ():
            params = getattr(entry, "params", None) or {}
            user = _value_text(params.get("user")) if entry_list == "databases" else getattr(entry, "name", None)
            for p in params.values():
                if getattr(p, "secret", False) and _value_text(p) is not None:
                    out.append((p.value, user if isinstance(user, str) else None, False))
    return out


def _vocabulary() -> set[str]:
    """Words pgpath prints of its own (lower case): kinds of document, hop and middlebox."""
    from advisor.loaders import KINDS as DOC_KINDS
    from advisor.model.middlebox import KINDS as MIDDLEBOX_KINDS
    from advisor.path.model import ENDPOINT_KINDS

    return {w.lower() for w in (*DOC_KINDS, *ENDPOINT_KINDS, *MIDDLEBOX_KINDS, "postgres", "postgresql",
                                "pgbouncer", "haproxy", "client")}


def _ordinary_words(docs, candidates: set[str], plain: Any = None) -> set[str]:
    """The candidates (secret values) that the documents also use as ordinary words, outside any
    secret's place: in a setting's name, section or value that is not itself secret (after the
    patterns have hidden the passwords it shows, and leaving out the secrets kept in that very
    setting), in a document's path, kind or metadata. Shell commands do not count (a password
    hides in them where no pattern shows it), nor do values a reader rejected."""
    vocabulary = _vocabulary()
    found = {c for c in candidates if c.lower() in vocabulary}
    rest = set(candidates) - found
    if not rest:
        return found
    index: dict[str, list[str]] = {}
    for c in rest:
        index.setdefault(c[:MIN_SECRET], []).append(c)
    for bucket in index.values():
        bucket.sort(key=len, reverse=True)

    def look(text: Any, own: Any = ()) -> None:
        if not rest or not isinstance(text, str) or len(text) < MIN_SECRET:
            return
        if len(rest) <= 16:  # (few candidates, the usual case: a substring search each, in C)
            if not any(c in text for c in rest):
                return
        clean = redact_patterns(text)
        hits = {clean[a:b] for a, b in _word_matches(clean, index)}
        hits -= {o.strip() for o in own if isinstance(o, str)}
        if hits:
            found.update(hits)
            rest.difference_update(hits)
            for h in hits:
                index[h[:MIN_SECRET]].remove(h)

    def look_meta(obj: Any, depth: int = 0) -> None:
        if depth > 6 or not rest:
            return
        if isinstance(obj, str):
            look(obj)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                if isinstance(k, str) and not k.startswith("_") and not _SECRET_KEY.fullmatch(k):
                    look(k)
                    look_meta(v, depth + 1)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                look_meta(v, depth + 1)

    look_meta(plain)
    for doc in docs:
        rejected = [v for v in (getattr(doc, "meta", None) or {}).get("_opaque", ()) if isinstance(v, str)]
        look(getattr(doc, "path", None))
        for f in getattr(doc, "files", None) or ():
            look(f)
        for s in doc.settings:
            if not rest:
                return found
            if s.secret or s.name in WHOLLY_SECRET_SETTINGS or s.name in COMMAND_SETTINGS:
                continue
            own = _setting_secrets(s) + rejected
            look(s.name)
            look(s.section)
            look(s.raw, own)
            if s.value is not s.raw:
                look(s.value, own)
        meta = getattr(doc, "meta", None)
        if meta:
            look_meta(meta)
    return found
