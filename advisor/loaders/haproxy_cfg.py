"""haproxy.cfg, read as HAProxy reads it (cfgparse.c, tools.c parse_line, cfgcond.c).

- Lines are cut into words as HAProxy's `parse_line` cuts them: blanks separate words; `#`
  outside quotes starts a comment anywhere (even inside a word: `2s#x` is `2s`); a backslash
  outside single quotes escapes ` `, `#`, `\\`, `'`, `"`, `$` and gives `\\n \\r \\t \\xNN`
  (before any other character it stays a backslash); double quotes group and expand
  environment variables (`"${VAR}"`, `"$VAR"`: an `Unknown` value, never guessed); single
  quotes group and keep everything literally. An unmatched quote is a syntax error.
- Sections: `global`, `defaults [name] [from <defaults>]`, `frontend|backend|listen <name>
  [from <defaults>]`. A proxy takes its presets from `from <name>` or else from the last
  `defaults` section read before it (named or not); a `defaults` section starts empty (or from
  its own `from`), so each one resets what the previous ones set. `userlist`, `peers`,
  `resolvers`, `mailers`, `program`, `http-errors`, `ring`, `cache`, `crt-store`, `traces`,
  `log-forward`, `fcgi-app` and `acme` are recognised and their contents are not checked.
- Keywords are checked against HAProxy's own lists (`haproxy_keywords.py`, generated from the
  HAProxy documentation and the binary); misspelled keywords, options and timeout names get a
  did-you-mean. Time values follow `advisor.units.hap_parse_timer` (ms by default, seconds for
  `clitcpka-idle/intvl` and `srvtcpka-idle/intvl`).
- `server`, `server-template` and `default-server` options are read as HAProxy 2.6's
  _srv_parse_kw reads them: each takes the number of words `KW.SERVER` gives it (the binary's
  list), an unknown option or a refused argument stops the line with HAProxy's message
  (`_server_argument`); `resolvers`, `agent-check` and `ssl` without a CA file are checked once
  every section is read (`_Builder._check_servers`), on the options a server takes from its
  default-server.
- `.if/.elif/.else/.endif` are evaluated when the condition can be decided without the running
  process: integers, `streq/strneq` of known strings, `version_atleast/version_before` (against
  option `haproxy_version`; without it only versions up to 2.4, the first release with
  conditional blocks, are decided), `defined(X)` and `feature(X)` only when the option
  `haproxy_env` (a dict) or `haproxy_features` (a list) is given. A block that cannot be decided
  is reported (`haproxy-undecided-condition`) and everything set inside it reads as `Unknown`.
- Several files are one configuration when HAProxy is started with several `-f`: the loader reads
  `load_many([...])` in order, the end of each file ending its section. In a directory, files
  named `NN-*.cfg` (a number, then `-` or `_`) are read, in name order, before any other
  HAProxy file of that directory, as `haproxy -f 10-global.cfg -f postgres.cfg` would read them
  (HariSekhon's layout). `doc.files` lists the checked file first and the files read with it
  after; `doc.meta["read_order"]` is the order HAProxy reads them in (option
  `haproxy_single_file` reads the file alone). Each other file is its own configuration, also
  when several are named on the command line (a `pgpath.yaml` topology will name groups
  explicitly).
- Lines that carry credentials (`stats auth`, `password`, `insecure-password`) are marked secret
  and shown as `***`; `userlist` contents are not recorded at all.

The effective configuration of every proxy (`doc.model`, printed by `pgpath dump`) is built by
`HaproxyModel`: mode, timeouts after inheritance with where each was set, keepalive per side,
health checks, TLS versions, and the frontend -> backend routes.
"""

from __future__ import annotations

import os
import re
from typing import Any

from advisor import lazy_re
from advisor.loaders import haproxy_keywords as KW
from advisor.loaders.directives import read_comment
from advisor.loaders.source import InputError, lines_of, read_text
from advisor.loaders.ansible_vars import rendered_text
from advisor.loaders.template import is_template, placeholders
from advisor.model import ConfigDoc, Diagnostic, Record, Setting, Span, Unknown, is_known
from advisor.model.haproxy import KA_PARAMS, Bind, HaproxyModel, Proxy, Server, Val
from advisor.units import HAP_TIMER_MAX_MS, c_strtol, decimal, digits, hap_format_ms, hap_parse_timer

PROXY_SECTIONS = ("defaults", "frontend", "backend", "listen")
OTHER_SECTIONS = (
    "userlist", "peers", "resolvers", "mailers", "program", "http-errors", "ring", "cache", "crt-store",
    "traces", "log-forward", "fcgi-app", "acme", "dynamic-update",
)
SECTIONS = ("global",) + PROXY_SECTIONS + OTHER_SECTIONS
_LETTER = {"defaults": "d", "frontend": "f", "listen": "l", "backend": "b"}
# timeouts HAProxy's `timeout` keyword applies per side
CLIENT_SIDE_TIMEOUTS = ("client", "client-fin", "client-hs", "http-request", "http-keep-alive")
NUMBERED = lazy_re.compile(r"^\d+[-_].*\.cfg$")
MAX_ERRORS = 200
# HAProxy 2.4 introduced conditional blocks: any version able to read `.if` is at least 2.4
FIRST_COND_VERSION = (2, 4)


# ------------------------------------------------------------------------------------------------
# words


class Word(Record):
    __slots__ = ("text", "start", "end", "unknown", "quoted")

    def __init__(self, text: str, start: int, end: int, unknown: bool = False, quoted: bool = False) -> None:
        self.text = text  # after quotes, escapes and (known) variables are resolved
        self.start = start  # 0-based column of the first character
        self.end = end  # column after the last character
        self.unknown = unknown  # holds an environment variable or a template placeholder
        self.quoted = quoted


_GO_CONTROL = lazy_re.compile(r"^\{\{-?\s*(range|end|if|else|with|define|block|template|\$\w+\s*:?=)")
_ENV = lazy_re.compile(r"\$(?:\{(\.?[A-Za-z_][A-Za-z0-9_]*)(\[\*\])?(?:-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


_WORD = lazy_re.compile(r"[^ \t\r\n]+")


def tokenize(line: str, masks=None, env: dict | None = None):
    """(words, comment, error) of one line, cut as HAProxy's parse_line cuts it.

    `comment` is (column, text after '#') or None; `error` is (column, message) or None.
    `masks` are template tags (start, end, is_expression): expressions are unknown text inside
    the current word, statements are blanks.
    """
    if not masks and "'" not in line and '"' not in line and "\\" not in line:
        # the common line (no quote, no backslash, no template tag): the loop below would only
        # cut words at blanks (space, tab, CR, LF) and stop at the first '#'; a regex does the
        # same, several times faster
        hash_at = line.find("#")
        head = line if hash_at < 0 else line[:hash_at]
        words = [Word(m.group(), m.start(), m.end()) for m in _WORD.finditer(head)]
        return words, (None if hash_at < 0 else (hash_at, line[hash_at + 1:])), None
    words: list[Word] = []
    buf: list[str] = []
    start = -1
    unknown = quoted = False
    squote = dquote = False
    quote_at = -1
    mask_at = {}
    for a, b, expr in masks or ():
        if expr and _GO_CONTROL.match(line[a:b]):
            expr = False
        mask_at[a] = (b, expr)
    i, n = 0, len(line)

    def flush(end: int) -> None:
        nonlocal buf, start, unknown, quoted
        if start >= 0:
            words.append(Word("".join(buf), start, end, unknown, quoted))
        buf, start, unknown, quoted = [], -1, False, False

    while i < n:
        if i in mask_at:
            end, expr = mask_at[i]
            if expr:
                if start < 0:
                    start = i
                buf.append(line[i:end])
                unknown = True
            elif not (squote or dquote):
                flush(i)
            i = end
            continue
        c = line[i]
        if squote:
            if c == "'":
                squote = False
            else:
                buf.append(c)
            i += 1
            continue
        if c == "\\":
            if start < 0:
                start = i
            nxt = line[i + 1] if i + 1 < n else ""
            if nxt in (" ", "\t", "#", "\\", "'", '"', "$"):
                buf.append(nxt)
                i += 2
            elif nxt in ("n", "r", "t"):
                buf.append({"n": "\n", "r": "\r", "t": "\t"}[nxt])
                i += 2
            elif nxt == "x" and re.match(r"[0-9a-fA-F]{2}", line[i + 2:i + 4]):
                buf.append(chr(int(line[i + 2:i + 4], 16)))
                i += 4
            else:
                buf.append("\\")
                i += 1
            continue
        if dquote:
            if c == '"':
                dquote = False
                i += 1
                continue
            if c == "$":
                m = _ENV.match(line, i)
                if m:
                    name = m.group(1) or m.group(4)
                    if env is not None and name in env:
                        buf.append(str(env[name]))
                    elif env is not None and not name.startswith("."):
                        buf.append(m.group(3) or "")  # known environment without it: default or empty
                    else:
                        buf.append(m.group(0))
                        unknown = True
                    i = m.end()
                    continue
            buf.append(c)
            i += 1
            continue
        if c in " \t\r\n":
            flush(i)
            i += 1
            continue
        if c == "#":
            flush(i)
            return words, (i, line[i + 1:]), None
        if c == '"' or c == "'":
            if start < 0:
                start = i
            quoted = True
            quote_at = i
            if c == '"':
                dquote = True
            else:
                squote = True
            i += 1
            continue
        if start < 0:
            start = i
        buf.append(c)
        i += 1
    if squote or dquote:
        return words, None, (quote_at, f"unmatched quote at position {quote_at + 1}")
    flush(n)
    return words, None, None


# ------------------------------------------------------------------------------------------------
# conditions (.if / .elif)


class _CondError(Exception):
    pass


def _version_tuple(text: str) -> tuple[int, ...] | None:
    m = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    if not m:
        return None
    return tuple(decimal(g) for g in m.groups() if g is not None)


def _cmp_version(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = max(len(a), len(b))
    a = a + (0,) * (n - len(a))
    b = b + (0,) * (n - len(b))
    return (a > b) - (a < b)


class CondEvaluator:
    """Evaluates `.if` expressions to True, False or None (cannot be decided statically)."""

    PREDICATES = ("defined", "feature", "streq", "strneq", "version_atleast", "version_before",
                  "openssl_version_atleast", "openssl_version_before", "ssllib_name_startswith", "enabled")

    def __init__(self, options: dict) -> None:
        self.version = _version_tuple(str(options["haproxy_version"])) if options.get("haproxy_version") else None
        self.env = options.get("haproxy_env")
        features = options.get("haproxy_features")
        self.features = None if features is None else {str(f).upper() for f in features}
        self.reasons: list[str] = []

    def evaluate(self, words: list[Word]):
        if any(w.unknown for w in words):
            self.reasons.append("it uses an environment variable or template value")
            return None
        text = " ".join(w.text for w in words)
        self.text, self.pos = text, 0
        if not text.strip():
            return False
        value = self._or()
        self._skip()
        if self.pos < len(self.text):
            raise _CondError(f"unparsable conditional expression '{text}' at position {self.pos + 1}")
        return value

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def _or(self):
        values = [self._and()]
        while True:
            self._skip()
            if self.text.startswith("||", self.pos):
                self.pos += 2
                values.append(self._and())
            else:
                break
        if any(v is True for v in values):
            return True
        return False if all(v is False for v in values) else None

    def _and(self):
        values = [self._term()]
        while True:
            self._skip()
            if self.text.startswith("&&", self.pos):
                self.pos += 2
                values.append(self._term())
            else:
                break
        if any(v is False for v in values):
            return False
        return True if all(v is True for v in values) else None

    def _term(self):
        self._skip()
        t = self.text
        if t.startswith("!", self.pos):
            self.pos += 1
            v = self._term()
            return None if v is None else not v
        if t.startswith("(", self.pos):
            self.pos += 1
            v = self._or()
            self._skip()
            if not t.startswith(")", self.pos):
                raise _CondError(f"unparsable conditional expression '{t}' at position {self.pos + 1}")
            self.pos += 1
            return v
        m = re.compile(r"-?\d+").match(t, self.pos)
        if m:
            self.pos = m.end()
            return decimal(m.group()) != 0
        m = re.compile(r"[a-z_]+").match(t, self.pos)
        if not m or m.group() not in self.PREDICATES:
            raise _CondError(f"unparsable conditional expression '{t}' at position {self.pos + 1}")
        name = m.group()
        self.pos = m.end()
        args: list[str] = []
        if t.startswith("(", self.pos):
            close = t.find(")", self.pos)
            if close < 0:
                raise _CondError(f"unparsable conditional expression '{t}' at position {self.pos + 1}")
            inner = t[self.pos + 1:close]
            args = [a.strip() for a in inner.split(",")] if inner.strip() else []
            self.pos = close + 1
        return self._predicate(name, args)

    def _predicate(self, name: str, args: list[str]):
        arg = args[0] if args else ""
        if name in ("streq", "strneq"):
            if len(args) != 2:
                raise _CondError(f"'{name}' expects 2 arguments")
            equal = args[0] == args[1]
            return equal if name == "streq" else not equal
        if name in ("version_atleast", "version_before"):
            wanted = _version_tuple(arg)
            if wanted is None:
                raise _CondError(f"'{name}' expects a version")
            if self.version is not None:
                at_least = _cmp_version(self.version, wanted) >= 0
                return at_least if name == "version_atleast" else not at_least
            if _cmp_version(wanted, FIRST_COND_VERSION) <= 0:
                return name == "version_atleast"
            self.reasons.append(f"{name}({arg}) depends on the HAProxy version (give haproxy_version)")
            return None
        if name == "defined":
            if self.env is not None:
                return arg in self.env
            self.reasons.append(f"defined({arg}) depends on the environment HAProxy starts with")
            return None
        if name == "feature":
            if self.features is not None:
                return arg.upper() in self.features
            self.reasons.append(f"feature({arg}) depends on how HAProxy was built (haproxy -vv)")
            return None
        self.reasons.append(f"{name}({', '.join(args)}) depends on the HAProxy build")
        return None


# ------------------------------------------------------------------------------------------------
# raw sections


class Line(Record):
    """One line of a section, cut into words. A large file's lines are held until its sections
    are built, so a line keeps its words as a tuple, where its text ends, and its text only when
    a word differs from what is written (quotes, escapes, variables, template tags)."""

    __slots__ = ("file", "lineno", "_text", "end", "words", "conditional")

    def __init__(self, file: str, lineno: int, text: str, words: list[Word] | tuple[Word, ...],
                 conditional: bool = False) -> None:
        self.file = file
        self.lineno = lineno
        self.words = tuple(words)
        self._text = None if all(text[w.start:w.end] == w.text for w in self.words) else text
        self.end = len(text.rstrip())  # the column after the last non-blank character
        self.conditional = conditional  # inside a block whose condition cannot be decided

    def written(self, i: int) -> str:
        """Word `i` as the line writes it (before quotes, escapes and variables are resolved)."""
        w = self.words[i]
        return w.text if self._text is None else self._text[w.start:w.end]

    def span(self, first: int = 0, last: int | None = None) -> Span:
        if not self.words:
            return Span(self.file, self.lineno, 1)
        a = self.words[min(first, len(self.words) - 1)]
        b = self.words[-1] if last is None else self.words[min(last, len(self.words) - 1)]
        return Span(self.file, self.lineno, a.start + 1, self.lineno, b.end + 1)

    def word_span(self, i: int) -> Span:
        if i >= len(self.words):
            end = self.end + 1
            return Span(self.file, self.lineno, end, self.lineno, end)
        w = self.words[i]
        return Span(self.file, self.lineno, w.start + 1, self.lineno, w.end + 1)


def _drain(section: "Section"):
    """The lines of a section, each let go once the caller has read it (a section is built once:
    a large file's lines are not all held beside the settings made from them)."""
    lines, section.lines = section.lines, []
    for i, line in enumerate(lines):
        lines[i] = None
        yield line


class Section(Record):
    __slots__ = ("kind", "name", "from_name", "header", "lines")

    def __init__(self, kind: str, name: str | None, from_name: str | None, header: Line,
                 lines: list[Line] | None = None) -> None:
        self.kind = kind
        self.name = name
        self.from_name = from_name
        self.header = header
        self.lines = [] if lines is None else lines

    @property
    def label(self) -> str:
        return self.kind if self.name is None else f"{self.kind} {self.name}"


# ------------------------------------------------------------------------------------------------
# the effective model


# lines that carry credentials: shown as *** (`stats auth admin:pw`, `user x password ...`)
_SECRET_WORDS = frozenset({"auth", "password", "insecure-password", "ca-sign-pass"})
_SECRET_KEYWORDS = frozenset({"cluster-secret", "51degrees-data-file", "ssl-engine"})
_CHECK_OPTIONS = ("pgsql-check", "httpchk", "tcp-check", "mysql-check", "ssl-hello-chk", "ldap-check", "redis-check",
                  "smtpchk", "spop-check", "external-check")



# ------------------------------------------------------------------------------------------------
# reading


def _count_value(text: str, unknown: bool):
    """A connection count as HAProxy reads it (maxconn): a decimal number; a template value or
    anything else is unknown (haproxy -c judges the syntax: HAP008)."""
    text = text.strip()
    if unknown or not text.isascii() or not text.isdigit():
        return Unknown(text)
    return decimal(text)  # (5000 digits: past int()'s limit, far past any maxconn)


def _closest(word: str, known, cutoff: float, problems_so_far: int) -> list[str]:
    """[the closest known word] or [] (bounded work: advisor.suggest)."""
    from advisor.suggest import closest

    found = closest(word, known, cutoff, problems_so_far)
    return [found] if found else []


class _Reader:
    def __init__(self, doc: ConfigDoc, options: dict) -> None:
        self.doc = doc
        self.options = options
        self.env = options.get("haproxy_env")
        self.sections: list[Section] = []
        self.errors = 0
        # one string object for each distinct word of the files read (a keyword or value written
        # on many lines is held once, by its lines and then by their settings)
        self.strings: dict[str, str] = {}

    def error(self, kind: str, span: Span, message: str, fix: str | None = None, related=()) -> None:
        if self.errors >= MAX_ERRORS:
            return
        self.errors += 1
        self.doc.diagnostics.append(Diagnostic(kind, span, message, fix, tuple(related)))

    # -- files and lines ---------------------------------------------------------------------

    def read_file(self, path: str, text: str) -> None:
        template = self.doc.template or is_template(path, text)
        cond = CondEvaluator(self.options)
        # stack of [state, seen_else, undecided, line]: state "take", "skip" (a later branch may
        # still be taken), "done" (a branch was taken), "unknown" (undecided)
        stack: list[list[Any]] = []
        current: Section | None = None
        strings = self.strings
        for lineno, raw in enumerate(lines_of(text), start=1):
            masks = placeholders(raw) if template else None
            words, comment, error = tokenize(raw, masks, self.env)
            for w in words:
                w.text = strings.setdefault(w.text, w.text)
            if comment is not None:
                col, body = comment
                read_comment(self.doc, body, Span(path, lineno, col + 1, lineno, len(raw) + 1), trailing=bool(words))
            active = all(frame[0] in ("take", "unknown") for frame in stack)
            if error is not None:  # HAProxy cuts every line into words, even inside a skipped .if block
                self.error("syntax-error", Span(path, lineno, error[0] + 1), error[1],
                           "close the quote on the same line (a quote inside a value is written \\\" or \\')")
                continue
            if not words:
                continue
            first = words[0].text
            if first.startswith(".") and not words[0].unknown:
                if self._directive(path, lineno, raw, words, stack, cond, active):
                    continue
            if not active:
                continue
            line = Line(path, lineno, raw, words, any(frame[0] == "unknown" for frame in stack))
            if words[0].unknown:
                continue  # a generated keyword (`{{ key }} {{ value }}`): cannot be checked
            if first in SECTIONS:
                current = self._open_section(line)
                continue
            if current is None:
                self.error("syntax-error", line.word_span(0), f"unknown keyword '{first}' out of section",
                           "start the file with a section (global, defaults, frontend, backend, listen): each file "
                           "given with -f starts outside any section")
                continue
            current.lines.append(line)
        for frame in stack:
            self.error("syntax-error", Span(path, frame[3], 1), "non-terminated '.if' block",
                       "close the block with .endif in the same file")

    def _directive(self, path, lineno, raw, words, stack, cond: CondEvaluator, active: bool) -> bool:
        name = words[0].text
        span = Span(path, lineno, words[0].start + 1, lineno, words[-1].end + 1)
        parent_active = all(frame[0] in ("take", "unknown") for frame in stack[:-1]) if stack else True
        if name == ".if":
            if not active:
                stack.append(["done", False, False, lineno])  # nested inside a skipped block
                return True
            value = self._evaluate(cond, words[1:], span)
            stack.append([{True: "take", False: "skip", None: "unknown"}[value], False, value is None, lineno])
            return True
        if name == ".elif":
            if not stack or stack[-1][1]:
                self.error("syntax-error", span, "'.elif' after '.else' is not allowed" if stack else
                           "lone '.elif' with no matching '.if'")
                return True
            frame = stack[-1]
            if not parent_active:
                return True
            if frame[0] == "take" or frame[0] == "done":
                frame[0] = "done"
                return True
            value = self._evaluate(cond, words[1:], span)
            if frame[0] == "unknown" or frame[2]:
                frame[0] = "unknown" if value is not False else "skip"
                frame[2] = True
            else:
                frame[0] = {True: "take", False: "skip", None: "unknown"}[value]
                frame[2] = value is None
            return True
        if name == ".else":
            if not stack or stack[-1][1]:
                self.error("syntax-error", span, "'.else' after '.else' is not allowed" if stack else
                           "lone '.else' with no matching '.if'")
                return True
            frame = stack[-1]
            frame[1] = True
            if frame[0] in ("take", "done"):
                frame[0] = "done"
            elif frame[0] == "skip" and not frame[2]:
                frame[0] = "take"
            else:
                frame[0] = "unknown"
            return True
        if name == ".endif":
            if not stack:
                self.error("syntax-error", span, "lone '.endif' with no matching '.if'")
            else:
                stack.pop()
            return True
        if name in (".diag", ".notice", ".warning", ".alert"):
            if active and name == ".alert":
                message = " ".join(w.text for w in words[1:])
                undecided = any(frame[0] == "unknown" for frame in stack)
                if not undecided:
                    self.error("haproxy-config-error", span, f".alert: {message} (HAProxy stops here)",
                               "fix what the alert asks for, or remove the .alert line")
            return True
        return False

    def _evaluate(self, cond: CondEvaluator, words: list[Word], span: Span):
        cond.reasons = []
        try:
            value = cond.evaluate(words)
        except _CondError as exc:
            self.error("syntax-error", span, str(exc), "use integers, !, &&, ||, parentheses and the predicates "
                       "defined, feature, streq, strneq, version_atleast, version_before")
            return False
        if value is None:
            text = " ".join(w.text for w in words)
            why = "; ".join(dict.fromkeys(cond.reasons)) or "it depends on the running process"
            self.error("haproxy-undecided-condition", span,
                       f"cannot decide `.if {text}` statically: {why}; settings inside this block are read as unknown",
                       "nothing to fix; pass haproxy_version / haproxy_env / haproxy_features in pgpath.yaml `extra` "
                       "to decide it")
        return value

    def _open_section(self, line: Line) -> Section:
        kind = line.words[0].text
        args = line.words[1:]
        name = None
        from_name = None
        if kind in PROXY_SECTIONS:
            rest = [w.text for w in args]
            if kind != "defaults" and (not rest or rest[0] == "from"):
                self.error("haproxy-config-error", line.span(), f"'{kind}' expects an <id> argument",
                           f"name the section: {kind} <name>")
                rest = rest if not rest or rest[0] == "from" else rest
            if rest and rest[0] != "from":
                name = rest.pop(0)
            if rest and rest[0] == "from":
                if len(rest) < 2 or not rest[1]:
                    self.error("haproxy-config-error", line.span(), f"'{kind}': 'from' expects the name of a defaults "
                               "section", "write `from <name>` with the name of a named defaults section")
                else:
                    from_name = rest[1]
                rest = rest[2:]
            if rest:
                self.error("haproxy-config-error", line.word_span(len(line.words) - len(rest)),
                           f"'{kind} {name or ''}': unexpected argument '{rest[0]}' (addresses go on a 'bind' line)",
                           f"{kind} {name or '<name>'}" + (f" from {from_name}" if from_name else ""))
        elif kind != "global":
            name = args[0].text if args else None
        section = Section(kind, name, from_name, line)
        self.sections.append(section)
        return section


# ------------------------------------------------------------------------------------------------
# building the model


class _Builder:
    def __init__(self, reader: _Reader) -> None:
        self.r = reader
        self.doc = reader.doc
        self.model = HaproxyModel()
        self.named: dict[str, list[tuple[Proxy, Section]]] = {}
        self.names: dict[str, list[tuple[str, Span]]] = {}
        # (proxy, server name, line, effective options) of each server line, for _check_servers
        self.servers_read: list[tuple[Proxy, str, Line, dict[str, Val]]] = []

    def build(self) -> HaproxyModel:
        last: Proxy | None = None
        for section in self.r.sections:
            if section.kind == "global":
                self._global(section)
                continue
            if section.kind not in PROXY_SECTIONS:
                continue
            base = last
            if section.from_name is not None:
                base = self._lookup_defaults(section)
            elif section.kind == "defaults":
                base = None
            proxy = Proxy(section.kind, section.name, section.header.span(), conditional=section.header.conditional)
            if base is not None:
                self._inherit(proxy, base)
            self._apply(proxy, section)
            if section.kind == "defaults":
                self.model.defaults.append(proxy)
                if section.name:
                    self.named.setdefault(section.name, []).append((proxy, section))
                last = proxy
            else:
                self._check_name(proxy, section)
                self.model.proxies.append(proxy)
        self._check_links()
        self._check_servers()
        self._tls()
        return self.model

    def _check_servers(self) -> None:
        """What HAProxy 2.6 checks on each server once every section is read (the options come
        from the line and its default-server): the `resolvers` section named exists, an agent
        check has a port, and a TLS connection that verifies the server has a CA file."""
        if self.doc.template:
            return
        resolvers = {s.name for s in self.r.sections if s.kind == "resolvers"}
        ssl_verify = self.model.global_settings.get("ssl-server-verify")
        verify_default = "none" if ssl_verify is not None and ssl_verify.value == "none" else "required"
        for proxy, name, line, opts in self.servers_read:
            where = f"'server {proxy.name}/{name}' : "
            r = opts.get("resolvers")
            if r is not None and is_known(r.value) and r.value not in resolvers:
                self.r.error("haproxy-config-error", line.span(),
                             f"proxy '{proxy.name}', server '{name}': unable to find required resolvers '{r.value}'",
                             f"declare `resolvers {r.value}` with a nameserver, or correct the name" if r.value else
                             "resolvers <name of a resolvers section>")
                continue
            agent = opts.get("agent-check")
            if agent is not None and agent.value is True and "agent-port" not in opts:
                self.r.error("haproxy-config-error", line.span(),
                             f"{where}server {name} does not have agent port. Agent check has been disabled.",
                             "agent-port <port of the agent> (or remove agent-check)")
                continue
            ssl, check_ssl = opts.get("ssl"), opts.get("check-ssl")
            uses_tls = (ssl is not None and ssl.value is True) or (check_ssl is not None and check_ssl.value is True)
            verify = opts.get("verify")
            verify_value = verify.value if verify is not None else verify_default
            if uses_tls and verify_value == "required" and "ca-file" not in opts:
                self.r.error("haproxy-config-error", line.span(),
                             f"{where}verify is enabled by default but no CA file specified (HAProxy verifies the "
                             "server's certificate and has nothing to verify it against)",
                             "ca-file <the CA that signed the PostgreSQL server certificate> (or `verify none` on a "
                             "network you trust)")

    def _tls(self) -> None:
        """The TLS version range of each `ssl` bind and server line, with where each end comes from."""
        for p in self.model.proxies:
            for b in p.binds:
                if b.ssl:
                    b.tls_range = tls_range(b.ssl_min_ver, b.ssl_max_ver, b.tls_flags, b.span, p.label,
                                            self.model.global_settings.get("ssl-default-bind-options"), bind=True)
            for sv in p.servers:
                if sv.ssl:
                    sv.tls_range = tls_range(sv.ssl_min_ver, sv.ssl_max_ver, sv.tls_flags, sv.span, p.label,
                                             self.model.global_settings.get("ssl-default-server-options"), bind=False)

    def _lookup_defaults(self, section: Section) -> Proxy | None:
        found = self.named.get(section.from_name or "", [])
        who = f"proxy '{section.name}'" if section.kind != "defaults" else f"defaults '{section.name or ''}'"
        if not found:
            self.r.error("haproxy-config-error", section.header.span(),
                         f"defaults section '{section.from_name}' not found for {who}",
                         "declare `defaults <name>` before the sections that use `from <name>`")
            return None
        if len(found) > 1:
            first, second = found[0][1].header, found[1][1].header
            self.r.error("haproxy-config-error", section.header.span(),
                         f"ambiguous defaults section name '{section.from_name}' referenced by {who} exists at least at "
                         f"{first.file}:{first.lineno} and {second.file}:{second.lineno}",
                         "give each named defaults section a unique name",
                         related=(first.span(), second.span()))
            return found[-1][0]
        return found[0][0]

    def _check_name(self, proxy: Proxy, section: Section) -> None:
        if proxy.name is None or self.doc.template:
            return
        # as cfgparse-listen.c: a section with a frontend side clashes with an earlier proxy that
        # has a frontend side, a backend with an earlier one that has a backend side
        want = "f" if proxy.kind in ("frontend", "listen") else "b"
        for kind, span in self.names.get(proxy.name, []):
            other = {"frontend": {"f"}, "backend": {"b"}, "listen": {"f", "b"}}[kind]
            if want in other:
                self.r.error("haproxy-config-error", proxy.span,
                             f"{proxy.kind} '{proxy.name}' has the same name as {kind} '{proxy.name}' declared at "
                             f"{span.file}:{span.line}", "rename one of them", related=(span,))
                return
        self.names.setdefault(proxy.name, []).append((proxy.kind, proxy.span))

    def _check_links(self) -> None:
        if self.doc.template:
            return
        for p in self.model.proxies:
            if not p.has_client_side():
                continue
            for v, what in ([(p.default_backend, "default_backend")] if p.default_backend else []) + [
                (u, "use_backend") for u in p.use_backends
            ]:
                if not is_known(v.value) or "%[" in v.value:
                    continue
                if self.model.backend(v.value) is None:
                    self.r.error("haproxy-config-error", v.span or p.span,
                                 f"Proxy '{p.name}': unable to find required {what}: '{v.value}'",
                                 f"declare `backend {v.value}` or correct the name")

    @staticmethod
    def _inherit(proxy: Proxy, base: Proxy) -> None:
        proxy.defaults = base.label
        proxy.defaults_span = base.span
        proxy.mode = base.mode
        proxy.timeouts = dict(base.timeouts)
        proxy.options = dict(base.options)
        proxy.ka_params = dict(base.ka_params)
        proxy.default_server = dict(base.default_server)
        if proxy.has_client_side() or proxy.kind == "defaults":
            proxy.default_backend = base.default_backend
        proxy.check_user = base.check_user
        if proxy.kind != "backend":
            proxy.maxconn = base.maxconn

    # -- global --------------------------------------------------------------------------------

    def _global(self, section: Section) -> None:
        for line in _drain(section):
            keyword = line.words[0].text
            if keyword in ("no", "default") and len(line.words) > 1:
                keyword = line.words[1].text
            if keyword not in KW.GLOBAL:
                self._unknown(line, 0, keyword, KW.GLOBAL, "global")
                continue
            raw = " ".join(w.text for w in line.words[1:])
            value: Any = raw
            if any(w.unknown for w in line.words[1:]) or line.conditional:
                value = Unknown(raw)
            if keyword in ("ssl-default-bind-options", "ssl-default-server-options"):
                if is_known(value):
                    value = _ssl_options([w.text for w in line.words[1:]])
                self.model.global_settings[keyword] = Val(value, line.span(), "global")
            elif keyword == "maxconn":
                self.model.global_settings[keyword] = Val(
                    _count_value(raw, not is_known(value)) if line.words[1:] else Unknown(""),
                    line.word_span(1) if line.words[1:] else line.span(), "global", raw=raw)
            elif keyword == "ssl-server-verify":
                self.model.global_settings[keyword] = Val(value, line.span(), "global")
            elif keyword in ("zero-warning", "strict-limits"):
                self.model.global_settings[keyword] = Val(value if line.words[1:] else True, line.span(), "global")
            self._setting(line, keyword, raw, value, None, "global")

    # -- proxies -------------------------------------------------------------------------------

    def _setting(self, line: Line, name: str, raw: str, value: Any, unit: str | None, section: str,
                 value_index: int | None = None) -> None:
        texts = {w.text for w in line.words}
        secret = bool(texts & _SECRET_WORDS) or name in _SECRET_KEYWORDS
        strings = self.r.strings
        name, raw = strings.setdefault(name, name), strings.setdefault(raw, raw)
        if value.__class__ is str:
            value = strings.setdefault(value, value)
        self.doc.settings.append(Setting(
            name=name, raw=raw, value=value, span=line.span(), unit=unit, section=section,
            value_span=line.word_span(value_index) if value_index is not None else None, secret=secret,
        ))

    def _apply(self, proxy: Proxy, section: Section) -> None:
        letter = _LETTER[proxy.kind]
        origin = proxy.label
        if proxy.kind == "defaults":
            origin = f"{proxy.label} at {os.path.basename(section.header.file)}:{section.header.lineno}"
        for line in _drain(section):
            words = line.words
            texts = [w.text for w in words]
            keyword = texts[0]
            negate = keyword == "no"
            if keyword in ("no", "default"):
                if len(texts) < 2 or texts[1] not in ("option", "log"):
                    self.r.error("haproxy-config-error", line.word_span(0),
                                 "negation/default currently supported only for options and log",
                                 "remove the `no`/`default` prefix")
                    continue
                words, texts = words[1:], texts[1:]
                keyword = texts[0]
                shift = 1
            else:
                shift = 0
            if keyword not in KW.PROXY:
                self._unknown(line, shift, keyword, KW.PROXY, proxy.kind)
                continue
            unknown = line.conditional or any(w.unknown for w in words[1:])
            raw = " ".join(texts[1:])
            if keyword == "option":
                self._option(proxy, line, words, texts, negate, shift, unknown, origin)
            elif keyword == "timeout":
                self._timeout(proxy, line, texts, shift, unknown, origin)
            elif keyword in KA_PARAMS:
                self._ka_param(proxy, line, keyword, texts, shift, unknown, origin)
            elif keyword == "mode":
                value = Unknown(raw) if unknown else (texts[1] if len(texts) > 1 else "")
                if is_known(value) and value not in ("tcp", "http", "health", "log", "spop"):
                    self.r.error("haproxy-config-error", line.word_span(shift + 1), f"unknown proxy mode '{value}'",
                                 "mode tcp (PostgreSQL) or mode http")
                    continue
                proxy.mode = Val(value, line.span(), origin)
                self._setting(line, "mode", raw, value, None, origin, shift + 1)
            elif keyword in ("server", "server-template"):
                if letter in "df":
                    self.r.error("haproxy-config-error", line.word_span(shift),
                                 f"'{keyword}' not allowed in '{proxy.kind}' section" if letter == "d" else
                                 f"'{keyword}' not allowed because frontend '{proxy.name}' has no backend capability",
                                 "put servers in a backend or listen section")
                    continue
                self._server(proxy, line, texts, shift, unknown, origin, template=keyword == "server-template")
            elif keyword == "default-server":
                if letter == "f":
                    continue  # ignored by HAProxy with a warning
                self._default_server(proxy, line, texts[1:], unknown, origin)
                self._setting(line, "default-server", raw, Unknown(raw) if unknown else raw, None, origin)
            elif keyword == "bind":
                if letter == "d":
                    self.r.error("haproxy-config-error", line.word_span(shift), "'bind' not allowed in 'defaults' section",
                                 "put bind lines in a frontend or listen section")
                    continue
                if letter == "b":
                    continue  # ignored with a warning
                self._bind(proxy, line, texts, unknown)
                self._setting(line, "bind", raw, Unknown(raw) if unknown else raw, None, origin)
            elif keyword in ("default_backend", "use_backend"):
                if len(texts) < 2:
                    self.r.error("haproxy-config-error", line.span(), f"'{keyword}' expects a backend name",
                                 f"{keyword} <backend>")
                    continue
                target = Unknown(texts[1]) if (unknown or words[1].unknown) else texts[1]
                val = Val(target, line.word_span(shift + 1), origin)
                if keyword == "default_backend":
                    proxy.default_backend = val
                else:
                    proxy.use_backends.append(val)
                self._setting(line, keyword, raw, target, None, origin, shift + 1)
            elif keyword == "maxconn" and letter != "b":
                value = _count_value(texts[1] if len(texts) > 1 else "", unknown)
                proxy.maxconn = Val(value, line.word_span(shift + 1) if len(texts) > 1 else line.span(), origin,
                                    raw=texts[1] if len(texts) > 1 else None)
                self._setting(line, keyword, raw, value, None, origin, shift + 1 if len(texts) > 1 else None)
            elif keyword in ("clitimeout", "srvtimeout", "contimeout"):
                new = {"clitimeout": "client", "srvtimeout": "server", "contimeout": "connect"}[keyword]
                self.r.error("haproxy-config-error", line.word_span(shift),
                             f"the '{keyword}' directive is not supported anymore since HAProxy 2.1. Use 'timeout {new}'.",
                             f"timeout {new} {texts[1] if len(texts) > 1 else '<time>'}")
            else:
                self._setting(line, keyword, raw, Unknown(raw) if unknown else raw, None, origin)

    def _unknown(self, line: Line, index: int, keyword: str, known, section_kind: str) -> None:
        match = _closest(keyword, known, 0.75, self.r.errors)
        where = "users" if section_kind == "userlist" else section_kind
        message = f"unknown keyword '{keyword}' in '{where}' section"
        fix = None
        if match:
            message += f"; did you mean '{match[0]}'?"
            fix = f"{match[0]} ..."
        self.r.error("haproxy-unknown-keyword", line.word_span(index), message,
                     fix or "check the spelling against the HAProxy configuration manual")

    def _option(self, proxy, line, words, texts, negate, shift, unknown, origin) -> None:
        if len(texts) < 2 or not texts[1]:
            self.r.error("haproxy-config-error", line.span(), "'option' expects an option name", "option <name>")
            return
        name = texts[1]
        if words[1].unknown:
            return
        if name not in KW.OPTIONS:
            match = _closest(name, KW.OPTIONS, 0.7, self.r.errors)
            self.r.error("haproxy-unknown-keyword", line.word_span(shift + 1),
                         f"unknown option '{name}'" + (f"; did you mean '{match[0]}'?" if match else ""),
                         f"option {match[0]}" if match else "check the option name in the HAProxy manual")
            return
        if texts[0] == "option" and shift and line.words[0].text in ("no", "default") and name not in KW.NEGATABLE_OPTIONS:
            self.r.error("haproxy-config-error", line.span(), f"negation/default is not supported for option '{name}'",
                         f"remove `option {name}` from the defaults instead" if name == "tcpka" else
                         f"remove the `{line.words[0].text}` prefix")
            return
        value: Any = not negate
        if unknown:
            value = Unknown(" ".join(texts))
        if name == "pgsql-check":
            if len(texts) < 4 or texts[2] != "user":
                self.r.error("haproxy-config-error", line.span(), "'option pgsql-check' expects 'user <username>' as argument",
                             "option pgsql-check user <a role that exists, e.g. haproxy_check>")
                return
            proxy.check_user = Val(Unknown(texts[3]) if (unknown or words[3].unknown) else texts[3], line.span(), origin)
        if name in _CHECK_OPTIONS and not negate:
            # the check options replace one another: the last one wins
            for other in _CHECK_OPTIONS:
                proxy.options.pop(other, None)
        # httpchk keeps its request (`OPTIONS /primary`): a Patroni health check says PostgreSQL
        proxy.options[name] = Val(value, line.span(), origin, raw=" ".join(texts[2:]) if name == "httpchk" else None)
        if name == "tcpka":
            proxy.options["clitcpka"] = proxy.options["srvtcpka"] = Val(value, line.span(), origin)
        self._setting(line, ("no option " if negate else "option ") + name, " ".join(texts[2:]), value, None, origin,
                      shift + 1)

    def _timeout(self, proxy, line, texts, shift, unknown, origin) -> None:
        name = texts[1] if len(texts) > 1 else ""
        if line.words[shift + 1:shift + 2] and line.words[shift + 1].unknown:
            return
        if name not in KW.TIMEOUTS:
            names = sorted(KW.TIMEOUTS)
            match = _closest(name, names, 0.6, self.r.errors)
            message = (f"unknown timeout '{name}'" if name else "'timeout' expects a timeout name")
            message += f"; did you mean 'timeout {match[0]}'?" if match else ""
            message += f" (HAProxy knows: {', '.join(names)})"
            self.r.error("haproxy-unknown-timeout", line.word_span(shift + 1), message,
                         f"timeout {match[0]} {texts[2] if len(texts) > 2 else '<time>'}" if match else
                         "use one of the timeout names listed")
            return
        keyword = f"timeout {name}"
        if len(texts) < 3:
            self.r.error("haproxy-config-error", line.span(), f"'{keyword}' expects an integer value (in milliseconds)",
                         f"{keyword} 30s")
            return
        if len(texts) > 3:
            self.r.error("haproxy-config-error", line.word_span(shift + 3),
                         f"'{keyword}' : unexpected extra argument '{texts[3]}' after value '{texts[2]}'",
                         f"{keyword} {texts[2]}{texts[3]}" if re.fullmatch(r"\d+", texts[2]) else f"{keyword} {texts[2]}")
            return
        raw = texts[2]
        value_word = line.words[shift + 2]
        if unknown or value_word.unknown:
            value: Any = Unknown(raw)
        else:
            value, error, _warning = hap_parse_timer(raw, "ms")
            if error is not None:
                if error == "timer overflow":
                    message = (f"timer overflow in argument '{raw}' to '{keyword}' (maximum value is "
                               f"{HAP_TIMER_MAX_MS} ms or ~24.8 days)")
                    fix = f"{keyword} 24d"
                else:
                    message = f"{error} in '{keyword}' (time values are digits and one of us, ms, s, m, h, d)"
                    fix = _time_fix(keyword, raw)
                self.r.error("haproxy-config-error", line.word_span(shift + 2), message, fix)
                # written, but HAProxy refuses the value (and the file): what it will be is unknown,
                # never missing (HAP001 would then propose a second, different value for it)
                value = Unknown(f"{raw} (refused by HAProxy)")
        letter = _LETTER[proxy.kind]
        proxy_ok = letter in KW.TIMEOUTS[name] or proxy.kind == "listen"
        if proxy_ok:
            proxy.timeouts[name] = Val(value, line.span(), origin, raw)
        elif proxy.kind in ("frontend", "backend"):
            # HAProxy parses it and ignores it, with a warning (`haproxy -c`: "'timeout tunnel' will be
            # ignored because frontend 'pg_in' has no backend capability"): the value written is not applied
            side = "backend" if proxy.kind == "frontend" else "frontend"
            where = "a backend or listen section" if side == "backend" else "a frontend or listen section"
            self.doc.diagnostics.append(Diagnostic(
                "haproxy-config-error", line.span(),
                f"'{keyword}' will be ignored because {proxy.kind} '{proxy.name}' has no {side} capability (HAProxy's "
                f"warning): the {raw} written here is not applied", f"move {keyword} {raw} to {where} (or defaults)",
                severity="warning"))
        self._setting(line, keyword, raw, value, "ms", origin, shift + 2)

    def _ka_param(self, proxy, line, keyword, texts, shift, unknown, origin) -> None:
        if len(texts) < 2:
            self.r.error("haproxy-config-error", line.span(), f"'{keyword}' expects an integer value", f"{keyword} 60")
            return
        raw = texts[1]
        if unknown or line.words[shift + 1].unknown:
            value: Any = Unknown(raw)
            unit = "s" if not keyword.endswith("cnt") else None
        elif keyword.endswith("-cnt"):
            unit = None
            # HAProxy reads it with strtol(base 0) and rejects trailing characters (2.6: `-1`, `+3`
            # and `0x10` are accepted, `3x` and `-` are not)
            number, end, _overflow = c_strtol(raw)
            if number is None or end != len(raw) or raw[:1].isspace():
                bad = raw[end] if number is not None and end < len(raw) else raw[:1]
                self.r.error("haproxy-config-error", line.word_span(shift + 1),
                             f"'{keyword}' : unexpected character '{bad}' in integer value '{raw}'", f"{keyword} 3")
                return
            value = number
        else:
            unit = "s"
            # HAProxy 2.6 checks the seconds against the same INT_MAX as a timeout's ms
            # (`clitcpka-idle 2147483648` and `24856d` are refused by haproxy -c)
            value, error, _warning = hap_parse_timer(raw, "s")
            if error == "timer overflow":
                self.r.error("haproxy-config-error", line.word_span(shift + 1),
                             f"timer overflow in argument '{raw}' to '{keyword}' (maximum value is {HAP_TIMER_MAX_MS} "
                             "in its unit, seconds: HAProxy refuses to start)", f"{keyword} 60")
                return
            if error is not None:
                self.r.error("haproxy-config-error", line.word_span(shift + 1),
                             f"{error} in argument to <{keyword}> (a number of seconds, or a number and one of us, ms, "
                             "s, m, h, d)", _time_fix(keyword, raw, default="60"))
                return
        proxy.ka_params[keyword] = Val(value, line.span(), origin, raw)
        self._setting(line, keyword, raw, value, unit, origin, shift + 1)

    def _server_options(self, line: Line, first: int, origin: str, target: dict, who: str | None) -> bool:
        """Read the keywords of a `server` line (from word `first`, after the address) or of a
        `default-server` line into `target`, as HAProxy 2.6 reads them (server.c _srv_parse_kw):
        each keyword takes the number of words KW.SERVER gives it, whatever they are; an unknown
        keyword, a missing or refused argument stops the line with HAProxy's error (the first one
        only, as HAProxy). `who` is the server (`pg/a`) or None for default-server. False when
        the line is refused."""
        words = line.words
        span = line.span()
        conditional = line.conditional
        label = "default-server" if who is None else who.partition("/")[2]
        i = first
        while i < len(words):
            word = words[i]
            w = word.text
            if word.unknown:
                return True  # a generated keyword: how many words it takes is unknown
            count = KW.SERVER.get(w)
            if count is None:
                if not conditional:
                    self._server_unknown(line, i, who)
                return conditional
            if who is None and w in KW.SERVER_NOT_DEFAULT and not conditional:
                # HAProxy says so and goes on (a non-fatal alert: haproxy -c still passes)
                self.doc.diagnostics.append(Diagnostic(
                    "haproxy-config-error", line.word_span(i),
                    f"'{w}' option is not accepted in default-server sections (HAProxy ignores it)",
                    f"write {w} on each server line instead", severity="warning"))
                i += 1 + max(count, 0)  # skipped, its argument is not read
                continue
            if count < 0:  # `source <addr>[:<port>] [usesrc <addr>] [interface <name>]`
                if i + 1 >= len(words) or not words[i + 1].text:
                    if not conditional:
                        self.r.error("haproxy-config-error", line.word_span(i), _srv_message(
                            who, "'source' expects <addr>[:<port>[-<port>]], and optionally 'usesrc' <addr>, and "
                            "'interface' <name> as argument."), "source <address> (or remove the keyword)")
                    return conditional
                i += 2
                while i < len(words) and words[i].text in ("usesrc", "interface"):
                    i += 2
                continue
            arg = words[i + 1] if count and i + 1 < len(words) else None
            if not conditional and w in _SRV_CHECKED:
                problem = _server_argument(w, arg, label, target)
                if problem is not None:
                    message, fix, at_value, severity = problem
                    where = line.word_span(i + 1 if at_value and arg is not None else i)
                    if severity == "warning":
                        self.doc.diagnostics.append(Diagnostic("haproxy-config-error", where, _srv_message(who, message),
                                                               fix, severity="warning"))
                    else:
                        self.r.error("haproxy-config-error", where, _srv_message(who, message), fix)
                        return False
            self._server_value(w, arg, conditional, span, origin, target)
            i += 1 + count
        return True

    @staticmethod
    def _server_value(w: str, arg: Word | None, unknown: bool, span: Span, origin: str, target: dict) -> None:
        """Record what pgpath models of one keyword of a server or default-server line."""
        nxt = arg.text if arg is not None else None
        if arg is not None and arg.unknown:
            unknown = True
        if w in ("check", "no-check"):
            target["check"] = Val(Unknown(w) if unknown else w == "check", span, origin)
        elif w == "inter" and nxt is not None:
            ms, error, _ = hap_parse_timer(nxt, "ms")
            if error is not None:
                ms = None
            target["inter_ms"] = Val(Unknown(nxt) if unknown or ms is None else ms, span, origin)
        elif w == "port" and nxt is not None:
            target["check_port"] = Val(Unknown(nxt) if unknown or digits(nxt) is None else digits(nxt), span, origin)
        elif w in ("ssl-min-ver", "ssl-max-ver") and nxt is not None:
            target[w] = Val(nxt, span, origin)
        elif w == "resolvers" or (w == "init-addr" and nxt is not None):
            # (`resolvers` alone names the section "", which does not exist)
            target[w] = Val(Unknown(nxt) if unknown else nxt or "", span, origin)
        elif w in ("ssl", "no-ssl"):
            target["ssl"] = Val(w == "ssl", span, origin)
        elif w == "alpn" and nxt is not None:
            target["alpn"] = Val(Unknown(nxt) if unknown else nxt, span, origin, raw=nxt)
        elif w in ("backup", "no-backup"):
            target["backup"] = Val(w == "backup", span, origin)
        elif w == "maxconn" and nxt is not None:
            target["maxconn"] = Val(_count_value(nxt, unknown), span, origin, raw=nxt)
        elif w in _TLS_FLAGS:
            flags = target.get("tls_flags")
            target["tls_flags"] = Val((flags.value if flags else []) + [w], span, origin)
        # what the checks after the whole file need (HAProxy checks them once every section is read)
        elif w in ("check-ssl", "no-check-ssl"):
            target["check-ssl"] = Val(Unknown(w) if unknown else w == "check-ssl", span, origin)
        elif w in ("agent-check", "no-agent-check"):
            target["agent-check"] = Val(Unknown(w) if unknown else w == "agent-check", span, origin)
        elif w in ("verify", "ca-file", "agent-port") and nxt is not None:
            target[w] = Val(Unknown(nxt) if unknown else nxt, span, origin)

    def _server_unknown(self, line: Line, index: int, who: str | None) -> None:
        keyword = line.words[index].text
        match = _closest(keyword, KW.SERVER, 0.75, self.r.errors)
        message = f"unknown keyword '{keyword}'" + (f"; did you mean '{match[0]}'?" if match else "")
        if match:
            written = line.written(index)
            text = " ".join(line.written(j) if j != index else match[0] for j in range(len(line.words))
                            if j != index or written)
            fix = text
        else:
            fix = ("remove it, or check the spelling against the server options of the HAProxy manual (5.2); "
                   "each option takes a fixed number of arguments")
        self.r.error("haproxy-unknown-keyword", line.word_span(index), _srv_message(who, message), fix)

    def _default_server(self, proxy, line, texts, unknown, origin) -> None:
        self._server_options(line, len(line.words) - len(texts), origin, proxy.default_server, None)

    def _server(self, proxy, line, texts, shift, unknown, origin, template: bool) -> None:
        base = 1 + (1 if template else 0)  # server-template <prefix> <num> <addr>
        if len(texts) < base + 2:
            self.r.error("haproxy-config-error", line.span(), f"'{texts[0]}' expects <name> and <addr>[:<port>] as arguments",
                         f"{texts[0]} pg1 10.0.0.1:5432 check")
            return
        name = texts[1]
        addr_i = base + 1
        addr = texts[addr_i]
        addr_word = line.words[shift + addr_i]
        _, colon, digits = addr.rpartition(":")
        has_port = bool(colon) and digits.isascii() and digits.isdigit()
        port: Any = decimal(digits) if has_port else None
        if line.conditional or (addr_word.unknown and not has_port):
            port = Unknown(addr)
        opts: dict[str, Val] = dict(proxy.default_server)
        accepted = self._server_options(line, shift + addr_i + 1, proxy.label, opts, f"{proxy.name}/{name}")
        if accepted and not line.conditional:  # (a line HAProxy refuses makes no server to check)
            self.servers_read.append((proxy, name, line, opts))
        if not accepted and "check" not in opts:
            # what the rest of a refused line meant is unknown (`chekc`: HAP006 says it, not HAP003)
            opts["check"] = Val(Unknown("the line is refused"), line.span(), proxy.label)
        server = Server(name=name, address=addr, port=port, span=line.span(), check=opts.get("check"),
                        inter_ms=opts.get("inter_ms"), check_port=opts.get("check_port"),
                        ssl=bool(opts.get("ssl").value) if opts.get("ssl") else False,
                        ssl_min_ver=opts["ssl-min-ver"].value if "ssl-min-ver" in opts else None,
                        ssl_max_ver=opts["ssl-max-ver"].value if "ssl-max-ver" in opts else None,
                        backup=bool(opts.get("backup").value) if opts.get("backup") else False,
                        tls_flags=list(opts["tls_flags"].value) if "tls_flags" in opts else [],
                        resolvers=opts.get("resolvers"), init_addr=opts.get("init-addr"), maxconn=opts.get("maxconn"))
        server.alpn = opts.get("alpn")
        proxy.servers.append(server)
        self._setting(line, texts[0], " ".join(texts[1:]), Unknown(addr) if unknown else addr, None, origin, shift + addr_i)

    def _bind(self, proxy, line, texts, unknown) -> None:
        bind = Bind(address=texts[1] if len(texts) > 1 else "", span=line.span())
        rest = texts[2:]
        shift = len(line.words) - len(texts)  # words before the keyword (none for a plain bind line)
        if len(texts) < 2:
            self.r.error("haproxy-config-error", line.word_span(shift),
                         "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
                         "bind <address>:<port>, e.g. bind *:5432")
        elif not line.words[shift + 1].unknown and not _ENV.search(
                line.written(shift + 1)):
            # (HAProxy 2.6 also expands `${VAR}` outside quotes: `bind *:${PORT}` is not judged)
            problem = bind_address_error(texts[1])
            if problem is not None:
                message, host = problem
                where = host if host and "@" not in host and _ip_literal_ok(host) else "*"
                self.r.error("haproxy-config-error", line.word_span(shift + 1), f"'bind' : {message}",
                             f"bind {where}:5432 (a port from 1 to 65535; a range is <first>-<last> with "
                             "first <= last)")
        for i, w in enumerate(rest):
            if w in ("crt", "ca-file") and i + 1 < len(rest) and not line.words[shift + 3 + i].unknown:
                bind.files[w] = Val(rest[i + 1], line.word_span(shift + 3 + i), proxy.label)
            if w == "ssl":
                bind.ssl = True
            elif w == "transparent":
                bind.transparent = True
            elif w == "alpn" and i + 1 < len(rest):
                word = line.words[shift + 3 + i]
                bind.alpn = Val(Unknown(rest[i + 1]) if word.unknown else rest[i + 1], line.word_span(shift + 2 + i),
                                proxy.label, raw=rest[i + 1])
            elif w in ("ssl-min-ver", "ssl-max-ver") and i + 1 < len(rest):
                setattr(bind, w.replace("-", "_"), rest[i + 1])
            elif w in _TLS_FLAGS:
                bind.tls_flags.append(w)
        proxy.binds.append(bind)


# ------------------------------------------------------------------------------------------------
# server and default-server keywords: the arguments HAProxy 2.6 refuses (server.c, check.c,
# cfgparse-ssl.c, cfgparse-tcp.c), each message in HAProxy's words; measured with `haproxy -c`
# (tests/test_haproxy_parity.py SERVER_CASES)

_SRV_DELAYS = ("inter", "fastinter", "downinter", "agent-inter")
# keyword -> what HAProxy says when its argument is missing (empty)
_SRV_MISSING = {
    "addr": "'addr' expects <ipv4|ipv6> as argument.",
    "agent-addr": "'agent-addr' expects an address as argument.",
    "agent-port": "'agent-port' expects a port number as argument.",
    "agent-send": "'agent-send' expects a string as argument.",
    "alpn": "'alpn' : missing the comma-delimited ALPN protocol suite.",
    "check-alpn": "'check-alpn' : missing the comma-delimited ALPN protocol suite.",
    "npn": "'npn' : missing the comma-delimited NPN protocol suite.",
    "ca-file": "'ca-file' : missing CAfile path.",
    "crl-file": "'crl-file' : missing CRLfile path.",
    "crt": "'crt' : missing certificate file path.",
    "check-proto": "'check-proto' : missing value.",
    "proto": "'proto' : missing value.",
    "check-sni": "'check-sni' : missing SNI.",
    "ciphers": "'ciphers' : missing cipher suite.",
    "ciphersuites": "'ciphersuites' : missing cipher suite.",
    "cookie": "'cookie' expects <value> as argument.",
    "error-limit": "'error-limit' expects an integer argument.",
    "fall": "'fall' expects an integer argument.",
    "rise": "'rise' expects an integer argument.",
    "id": "'id' : expects an integer argument.",
    "max-reuse": "'max-reuse' expects <value> as argument.",
    "pool-low-conn": "'pool-low-conn' expects <value> as argument.",
    "pool-max-conn": "'pool-max-conn' expects <value> as argument.",
    "pool-purge-delay": "'pool-purge-delay' expects <value> as argument.",
    "namespace": "'namespace' : expects <name> as argument.",
    "port": "'port' expects a port number as argument.",
    "redir": "'redir' expects <prefix> as argument.",
    "resolve-net": "'resolve-net' expects a list of networks.",
    "slowstart": "'slowstart' expects a delay as argument (HAProxy 2.6 says: unexpected character '')",
    "sni": "'sni' : missing sni expression.",
    "socks4": "'socks4' expects <addr>:<port> as argument.",
    "ssl-max-ver": "'ssl-max-ver' : missing the ssl/tls version.",
    "ssl-min-ver": "'ssl-min-ver' : missing the ssl/tls version.",
    "tcp-ut": "'tcp-ut' : missing TCP User Timeout value.",
    "track": "'track' expects [<proxy>/]<server> as argument.",
    "verify": "'verify' : missing verify method.",
    "verifyhost": "'verifyhost' : missing hostname to verify against.",
}
_SRV_MISSING.update({k: f"'{k}' expects a delay as argument." for k in _SRV_DELAYS})
# keyword -> (the words it takes, HAProxy's message with {} for the word given)
_SRV_CHOICES = {
    "observe": (("none", "layer4", "layer7"), "'observe' expects one of 'none', 'layer4', 'layer7' but got '{}'."),
    "on-error": (("fastinter", "fail-check", "sudden-death", "mark-down"),
                 "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{}'."),
    "on-marked-down": (("shutdown-sessions",), "'on-marked-down' expects 'shutdown-sessions' but got '{}'."),
    "on-marked-up": (("shutdown-backup-sessions",), "'on-marked-up' expects 'shutdown-backup-sessions' but got '{}'."),
    "resolve-prefer": (("ipv4", "ipv6"), "'resolve-prefer' expects either ipv4 or ipv6 as argument."),
    "verify": (("none", "required"), "'verify' : unknown verify method '{}', only 'none' and 'required' are supported."),
    "log-proto": (("legacy", "octet-count"), "'log-proto' expects one of 'legacy' or 'octet-count' but got '{}'."),
    "ws": (("auto", "h1", "h2"), "'ws' has to be 'auto', 'h1' or 'h2'."),
    # (the versions: TLS_VERSIONS, below)
    "ssl-min-ver": ((), "'{}' : unknown ssl/tls version."),
    "ssl-max-ver": ((), "'{}' : unknown ssl/tls version."),
}
# keyword -> (the items of its comma-separated list, HAProxy's message with {} for the item refused)
_SRV_LISTS = {
    "init-addr": (("libc", "last", "none"),
                  "'init-addr' : unknown init-addr method '{}', supported methods are 'libc', 'last', 'none'."),
    "resolve-opts": (("allow-dup-ip", "ignore-weight", "prevent-dup-ip"),
                     "'resolve-opts' : unknown resolve-opts option '{}', supported methods are 'allow-dup-ip', "
                     "'ignore-weight', and 'prevent-dup-ip'."),
    "proxy-v2-options": (("ssl", "cert-cn", "ssl-cipher", "cert-sig", "cert-key", "authority", "crc32c", "unique-id"),
                         "'{}' : proxy v2 option not implemented."),
}
_SRV_CHECKED = frozenset(_SRV_MISSING) | frozenset(_SRV_CHOICES) | frozenset(_SRV_LISTS) | frozenset(
    ("weight", "slowstart", "usesrc", "pool-max-conn"))


def _srv_message(who: str | None, message: str) -> str:
    """HAProxy's message, prefixed as HAProxy prefixes it for a server line (`'server pg/a' : `)."""
    return message if who is None else f"'server {who}' : {message}"


_ATOL = lazy_re.compile(r"[ \t\n\r\f\v]*([+-]?)([0-9]*)")
_TIME_PREFIX = lazy_re.compile(r"\d+(?:us|ms|s|m|h|d)")


def _c_atol_int(text: str) -> int:
    """atol() stored in a C int, as HAProxy 2.6 reads `weight`, `rise` and `fall`: leading blanks,
    a sign, digits (`3x` is 3, `x` and `0x10` are 0), cut to 32 bits (4294967297 is 1)."""
    m = _ATOL.match(text)
    value = min(decimal(m.group(2) or "0"), 2**63 - 1) * (-1 if m.group(1) == "-" else 1)
    return (value + 2**31) % 2**32 - 2**31


def _ip_item(text: str) -> bool:
    """An IPv4 or IPv6 address, as `init-addr` takes one in its list."""
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _server_argument(w: str, arg: Word | None, label: str, target: dict):
    """What HAProxy 2.6 says about keyword `w` of a server line given `arg` (None: the line ends):
    None when it takes it, else (message, fix, at the value, "error" or "warning")."""
    if w == "usesrc":
        return ("'usesrc' only allowed after a 'source' statement.", "source <address> usesrc <address>", False,
                "error")
    text = arg.text if arg is not None else ""
    if arg is not None and arg.unknown:
        return None  # an environment variable or template value: HAProxy judges what it becomes
    if w in _SRV_CHOICES:
        allowed, message = _SRV_CHOICES[w]
        if w in ("ssl-min-ver", "ssl-max-ver"):
            allowed = TLS_VERSIONS[3:] + TLS_VERSIONS[:3]  # (the fix proposes TLSv1.2)
        if not text and w in _SRV_MISSING:
            return _SRV_MISSING[w], f"{w} {allowed[0]}", False, "error"
        if text not in allowed:
            return message.format(text), f"{w} {allowed[0]}", True, "error"
        return None
    if w in _SRV_LISTS:
        allowed, message = _SRV_LISTS[w]
        if w == "proxy-v2-options" and not text:
            return message.format(""), "proxy-v2-options ssl", False, "error"
        for item in text.split(","):
            if item and item not in allowed and not (w == "init-addr" and _ip_item(item)):
                return message.format(item), f"{w} {','.join(allowed)}" if w == "init-addr" else f"{w} {allowed[0]}", \
                    True, "error"
        return None
    if not text:
        if w in _SRV_MISSING:
            return _SRV_MISSING[w], f"give {w} its argument, or remove it", False, "error"
        return None  # weight, maxconn...: HAProxy reads an empty argument as 0
    if w in _SRV_DELAYS or w in ("slowstart", "pool-purge-delay", "tcp-ut"):
        ms, error, warning = hap_parse_timer(text, "ms")
        if error == "timer overflow":
            if w == "pool-purge-delay":
                message = (f"timer overflow in argument '{text}' to 'pool-purge-delay' (maximum value is "
                           f"{HAP_TIMER_MAX_MS} ms or ~24.8 days).")
            elif w == "tcp-ut":
                message = "'tcp-ut' : expects a positive delay in milliseconds."
            else:
                message = (f"{'timer ' if w != 'slowstart' else ''}overflow in argument <{text}> to <{w}> of server "
                           f"{label}, maximum value is {HAP_TIMER_MAX_MS} ms (~24.8 days).")
            return message, f"{w} 24d" if w != "tcp-ut" else "tcp-ut 20s", True, "error"
        if error is not None:
            if w == "tcp-ut":
                message = "'tcp-ut' : expects a positive delay in milliseconds."
            elif w == "pool-purge-delay":
                message = f"{error} in argument to <pool-purge-delay>."
            else:
                # (HAProxy 2.6 names every delay 'agent-inter' in this message)
                message = f"{error} in '{w}' argument of server {label} (time values are digits and one of us, ms, " \
                          "s, m, h, d)"
            return message, _time_fix(w, text, default="2s" if w != "slowstart" else "30s"), True, "error"
        if ms == 0 and w in _SRV_DELAYS:
            return f"invalid value 0 for argument '{w}' of server {label}.", f"{w} 2s", True, "error"
        if warning is not None:
            valid = _TIME_PREFIX.match(text)
            return warning, f"{w} {valid.group() if valid else text}", True, "warning"
        return None
    if w in ("rise", "fall", "error-limit", "id"):
        if _c_atol_int(text) <= 0:
            message = {"error-limit": "error-limit has to be > 0.",
                       "id": "'id' : custom id has to be > 0."}.get(w, f"'{w}' has to be > 0.")
            return message, f"{w} {dict(rise=2, fall=3).get(w, 10 if w == 'error-limit' else 1)}", True, "error"
        return None
    if w == "pool-max-conn" and _c_atol_int(text) < -1:
        return "'pool-max-conn' must be >= -1.", "pool-max-conn -1", True, "error"
    if w == "weight":
        value = _c_atol_int(text)
        if not 0 <= value <= 256:
            return (f"weight of server {label} is not within 0 and 256 ({value}).", "weight 256" if value > 0 else
                    "weight 0", True, "error")
        return None
    if w == "addr" and (not _ip_literal_ok(text) or text in KW.SERVER):
        # (a name is resolved by HAProxy at start, pgpath does not resolve it; a server keyword
        # there, `addr check`, is a forgotten address: no such host)
        return f"'addr' : invalid address: '{text}' in '{text}'.", "addr <IP address of the check>", True, "error"
    return None


# address prefixes of str2sa_range (HAProxy 2.6, src/tools.c): the IP ones get the port checks
# below; datagram ones are refused on a bind line; the others (sockets, fds, QUIC, which depends
# on the build) are left to HAProxy
_BIND_IP_PREFIXES = ("ip@", "ipv4@", "ipv6@", "tcp4@", "tcp6@", "tcp@")
_BIND_DGRAM_PREFIXES = ("udp4@", "udp6@", "udp@", "uxdg@")
_BIND_OTHER_PREFIXES = ("unix@", "uxst@", "abns@", "quic4@", "quic6@", "fd@", "sockpair@", "rhttp@")


def _c_atoi(text: str) -> int:
    """C's atoi() as HAProxy 2.6 calls it on a port: the leading digits, read as a long and cut to
    a 32-bit int (4294972296 is port 5000; 2147483648 is negative)."""
    digits = ""
    for ch in text:
        if not ch.isdigit() or not ch.isascii():
            break
        digits += ch
    value = min(decimal(digits or "0"), 2**63 - 1)  # strtol saturates at LONG_MAX
    return (value + 2**31) % 2**32 - 2**31


def bind_address_error(word: str) -> tuple[str, str] | None:
    """What HAProxy 2.6 says when it refuses the address list of a `bind` line at start
    (str2listener, then str2sa_range for each comma-separated element), with the host part of the
    element refused (or ""), or None.

    Checked without the network: an empty element, datagram families, an IP address without a
    port (`127.0.0.1`, `127.0.0.1:`, `[::1]`), a port or range end outside 1..65535 (`:0`,
    `:65536`, `:0-10`, after C's int conversion), a reversed range (`5010-5000`), an offset
    (`+1`, `-1`), a port that does not start with a digit (`:abc`), an unknown `x@` prefix.
    Names are not resolved (pgpath opens no connection), so `nosuchhost:5432` is not checked."""
    elements = word.split(",")
    if len(elements) > 1 and elements[-1] == "":
        elements.pop()  # str2listener stops at the end of the text: one trailing ',' is harmless
    for element in elements:
        addr = element
        if addr == "":
            return "'' resolves to an empty address (environment variable missing?)", ""
        for prefix in ("stream+", "dgram+"):
            if addr.startswith(prefix):
                if prefix == "dgram+":
                    return f"dgram-type address not acceptable in '{element}'", ""
                addr = addr[len(prefix):]
        if addr.startswith(_BIND_DGRAM_PREFIXES):
            return f"dgram-type address not acceptable in '{element}'", ""
        if addr.startswith(_BIND_OTHER_PREFIXES) or addr.startswith("/"):
            continue
        for prefix in _BIND_IP_PREFIXES:
            if addr.startswith(prefix):
                addr = addr[len(prefix):]
                break
        # the port separator: the last ':' unless a ']' comes after it (IPv6 in brackets)
        cut = max(addr.rfind(":"), addr.rfind("]"))
        if cut < 0 or addr[cut] == "]":
            return f"missing port specification in '{element}'", addr
        host, port1 = addr[:cut], addr[cut + 1:]
        if port1 == "":
            return f"missing port specification in '{element}'", host
        if port1[0].isdigit() and port1[0].isascii():
            first, dash, second = port1.partition("-")
            if not dash:
                second = first
            low, high = _c_atoi(first), _c_atoi(second)
            if not 1 <= low <= 65535:
                return f"invalid port '{first}'", host
            if not 1 <= high <= 65535:
                return f"invalid port '{second}'", host
            if low > high:
                return f"invalid port range '{low}-{high}'", host
        elif port1[0] in "+-":
            return f"port offset not permitted here in '{element}'", host
        else:
            return f"invalid character '{port1[0]}' in port number '{port1}' in '{element}'", host
        if "@" in host or not _ip_literal_ok(host):  # an unknown family (`IPV4@`, `foo@`), `::1` unbracketed
            return f"invalid address: '{host}' in '{element}'", host
    return None


def _ip_literal_ok(host: str) -> bool:
    """False for a host that can only be a malformed IP literal (`300.0.0.1`, `:` left of the port
    in `::1`, `[::x]`); names and the wildcard forms are not judged."""
    import ipaddress

    if host in ("", "*", "::"):
        return True
    if host.startswith("["):
        host = host[1:-1] if host.endswith("]") else host[1:]
    if ":" in host:
        if "%" in host:  # HAProxy 2.6 refuses a scope id (`[fe80::1%eth0]`)
            return False
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    parts = host.split(".")
    if len(parts) == 4 and all(p.isdigit() and p.isascii() for p in parts):
        return all(decimal(p) <= 255 for p in parts)
    return True


TLS_VERSIONS = ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_TLS_FLAGS = ("no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13",
              "force-sslv3", "force-tlsv10", "force-tlsv11", "force-tlsv12", "force-tlsv13")
_FLAG_VERSION = {"sslv3": "SSLv3", "tlsv10": "TLSv1.0", "tlsv11": "TLSv1.1", "tlsv12": "TLSv1.2", "tlsv13": "TLSv1.3"}


def tls_range(own_min, own_max, own_flags, span: Span, origin: str, defaults: Val | None, bind: bool) -> dict[str, Val]:
    """Effective {"min", "max"} TLS versions of a bind or server line.

    The line's own `ssl-min-ver`/`ssl-max-ver` win over `ssl-default-bind-options` /
    `ssl-default-server-options` in global; `no-tlsvXX` and `force-tlsvXX` narrow the range.
    Without any of them a bind line accepts TLSv1.2 and up (HAProxy >= 2.2) and a server line
    whatever the SSL library allows (no documented HAProxy default: the value is None).
    """
    gopts = defaults.value if defaults is not None and isinstance(defaults.value, dict) else {}
    gspan = defaults.span if defaults is not None else None
    out: dict[str, Val] = {}
    lo_val = own_min or gopts.get("ssl_min_ver")
    hi_val = own_max or gopts.get("ssl_max_ver")
    where_lo = (span, origin) if own_min else (gspan, "global")
    where_hi = (span, origin) if own_max else (gspan, "global")
    flags = [(f, span, origin) for f in own_flags]
    flags += [(f, gspan, "global") for f in gopts.get("options", []) if f in _TLS_FLAGS]
    allowed = list(TLS_VERSIONS)
    flag_where = None
    for flag, fspan, forigin in flags:
        version = _FLAG_VERSION[flag.split("-", 1)[1]]
        if flag.startswith("force-"):
            allowed = [version]
        elif version in allowed:
            allowed.remove(version)
        flag_where = (fspan, forigin)
    if lo_val is None and flag_where is not None and allowed:
        lo_val, where_lo = allowed[0], flag_where
    if hi_val is None and flag_where is not None and allowed and allowed[-1] != TLS_VERSIONS[-1]:
        hi_val, where_hi = allowed[-1], flag_where
    if lo_val is None and bind:
        out["min"] = Val("TLSv1.2", None, "HAProxy default for bind lines since 2.2")
    else:
        out["min"] = Val(lo_val, where_lo[0], where_lo[1] if lo_val else "SSL library default")
    out["max"] = Val(hi_val, where_hi[0], where_hi[1]) if hi_val else Val(None, None, "no limit")
    return out


def _ssl_options(words: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"options": words}
    for i, w in enumerate(words):
        if w in ("ssl-min-ver", "ssl-max-ver") and i + 1 < len(words):
            out[w.replace("-", "_")] = words[i + 1]
    return out


def _time_fix(keyword: str, raw: str, default: str = "30s") -> str:
    m = re.fullmatch(r"(\d+)\s*([A-Za-z]+)", raw)
    if m:
        unit = m.group(2)
        fixed = {"S": "s", "sec": "s", "secs": "s", "min": "m", "mins": "m", "M": "m", "H": "h", "D": "d",
                 "MS": "ms", "Ms": "ms", "hr": "h", "hour": "h", "hours": "h", "day": "d", "days": "d",
                 "minute": "m", "minutes": "m", "second": "s", "seconds": "s"}.get(unit)
        if fixed:
            return f"{keyword} {m.group(1)}{fixed}"
    m = re.fullmatch(r"(\d+)\.(\d+)([a-z]*)", raw)
    if m and m.group(3) in ("s", "m", "h"):
        ms = float(f"{m.group(1)}.{m.group(2)}") * {"s": 1000, "m": 60000, "h": 3600000}[m.group(3)]
        return f"{keyword} {hap_format_ms(ms)}"
    return f"{keyword} {default}"


# ------------------------------------------------------------------------------------------------
# entry points


def group_for(path: str, listings: dict[str, dict[str, list[str]]] | None = None) -> list[str]:
    """The files HAProxy should read together with `path`, in read order (see module doc).

    Numbered siblings (`10-global.cfg`) are read first. A copy of such a layout whose names carry
    a common prefix (`site_10-global.cfg` beside `site_postgres.cfg`) is grouped the same way,
    by that prefix.

    `listings`, when given (the engine passes one dict per run), keeps each folder's numbered
    files by prefix (_numbered_files) for the next file of that folder: files do not change while
    one run reads them, and a folder of 10,000 files was listed once per HAProxy file in it."""
    folder = os.path.dirname(path) or "."
    name = os.path.basename(path)
    prefix = ""
    if not (name[:1].isdigit() and NUMBERED.match(name)) and "_" in name:
        head = name.split("_", 1)[0] + "_"
        rest = name[len(head):]
        if not (rest[:1].isdigit() and NUMBERED.match(rest)):
            prefix = head
    elif "_" in name and not name[:1].isdigit():
        prefix = name.split("_", 1)[0] + "_"
    by_prefix = listings.get(folder) if listings is not None else None
    if by_prefix is None:
        try:
            by_prefix = _numbered_files(folder)
        except OSError:
            return [path]
        if listings is not None:
            listings[folder] = by_prefix
    siblings = by_prefix.get(prefix, [])
    own = name[len(prefix):] if name.startswith(prefix) else name
    if own[:1].isdigit() and NUMBERED.match(own):
        before = [n for n in siblings if n < name]
    else:
        before = siblings
    return [os.path.join(folder, n) for n in before if _looks_like_haproxy(os.path.join(folder, n))] + [path]


def _numbered_files(folder: str) -> dict[str, list[str]]:
    """prefix -> the sorted names of the folder's files that are numbered after that prefix:
    `""` for `10-global.cfg`, `"site_"` for `site_10-global.cfg`. A name can only match the
    prefix "" or its own text up to its first `_` (a prefix ends at its only `_`), so each name
    is tested twice at most, whichever prefix a file asks for."""
    out: dict[str, list[str]] = {}
    for n in sorted(os.listdir(folder)):
        prefixes = []
        if n[:1].isdigit() and NUMBERED.match(n):
            prefixes.append("")
        if "_" in n:
            head = n.split("_", 1)[0] + "_"
            rest = n[len(head):]
            if rest[:1].isdigit() and NUMBERED.match(rest):
                prefixes.append(head)
        if prefixes and os.path.isfile(os.path.join(folder, n)):
            for prefix in prefixes:
                out.setdefault(prefix, []).append(n)
    return out


_SECTION_LINE = lazy_re.compile(r"^(%s)([ \t#]|\r?$)" % "|".join(re.escape(s) for s in SECTIONS), re.MULTILINE)


def _looks_like_haproxy(path: str) -> bool:
    """A numbered sibling is read with the group only when it has an HAProxy section line."""
    try:
        return bool(_SECTION_LINE.search(read_text(path)[:200_000]))
    except InputError:
        return False


def load(path: str, options: dict | None = None) -> ConfigDoc:
    """Read an HAProxy configuration file, with the `NN-*.cfg` files of its directory before it."""
    options = options or {}
    text = read_text(path)
    # options["folder_listings"]: the engine's per-run dict of folder listings (see group_for)
    order = group_for(path, options.get("folder_listings")) if not options.get("haproxy_single_file") else [path]
    texts = {}
    for other in order:
        if other == path:
            texts[other] = text
            continue
        try:
            texts[other] = read_text(other)
        except InputError:
            continue
    rendered = {}
    unread: list = []  # variable files of the Ansible project that cannot be read (ADV003)
    for other, other_text in texts.items():
        texts[other], done = rendered_text(other, other_text, options, unread)
        if done:
            rendered[other] = done
    doc = _load([p for p in order if p in texts], texts, options, main=path)
    doc.diagnostics.extend(unread)
    if rendered:
        doc.meta["ansible_rendered"] = rendered
    return doc


def load_many(paths: list[str], options: dict | None = None) -> ConfigDoc:
    """Read several files as one configuration, as `haproxy -f a -f b` does."""
    texts = {p: read_text(p) for p in paths}
    return _load(list(paths), texts, options or {}, main=paths[-1])


def _load(order: list[str], texts: dict[str, str], options: dict, main: str) -> ConfigDoc:
    doc = ConfigDoc(path=main, kind="haproxy")
    doc.template = any(is_template(p, texts[p]) for p in order)
    doc.files = [main] + [p for p in order if p != main]
    doc.meta["read_order"] = list(order)
    reader = _Reader(doc, options)
    for p in order:
        reader.read_file(p, texts[p])
    doc.model = _Builder(reader).build()
    binary = options.get("haproxy_binary")
    if binary and not doc.template:  # a template's placeholders are no HAProxy syntax
        from advisor.loaders.haproxy_check import check_with_binary

        check_with_binary(doc, str(binary))
    return doc
