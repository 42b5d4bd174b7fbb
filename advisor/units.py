"""Numbers and units, converted the way each piece of software converts them.

PostgreSQL, PgBouncer and HAProxy disagree on units: PostgreSQL's are case-sensitive with a
per-parameter base unit (`statement_timeout = 90` is 90 ms, `tcp_keepalives_idle = 90` is
90 s, `shared_buffers = 16` is 16 blocks of 8 kB), PgBouncer takes plain seconds and no
suffix at all, HAProxy defaults to milliseconds and knows `m` for minutes. Each format has its
own section here; loaders call these and never convert units themselves.
"""

from __future__ import annotations

import math
import re

from advisor import lazy_re

INT_MAX = 2147483647
INT_MIN = -2147483648
_LONG_MAX, _LONG_MIN = 2**63 - 1, -(2**63)  # C's long on 64-bit Linux
_MAX_DIGITS = 4000  # Python refuses to convert longer decimal strings (sys.get_int_max_str_digits())


def decimal(text: str) -> int:
    """int(text) for a decimal integer of any length (an optional sign, digits, `_` allowed).

    A number too long for Python's conversion limit is far beyond every range pgpath checks
    (C's long, PostgreSQL's int), so it becomes +/-10**4000 and fails those checks as it should.
    """
    body = text.lstrip("+-")
    if len(body) > _MAX_DIGITS:
        body = body.lstrip("0_")
        if len(body) > _MAX_DIGITS:
            return -(10**_MAX_DIGITS) if text.startswith("-") else 10**_MAX_DIGITS
        text = text[: len(text) - len(text.lstrip("+-"))] + (body or "0")
    return int(text)

def digits(text: str) -> int | None:
    """A whole number written in ASCII digits only (`16`, `0042`), of any length; else None.

    `str.isdigit()` also takes ², ① and other digits that int() refuses (a ValueError), and
    Unicode decimal digits (٣) that no Go, C or Ruby reader takes; Python converts at most 4300
    digits, decimal() any number."""
    return decimal(text) if text.isascii() and text.isdigit() else None


def scaled(number: str, factor: int = 1, divisor: int = 1) -> int:
    """`int(float(number) * factor / divisor)` for a non-negative `123` or `1.5`, exactly and for
    any length: float() of 400 digits is infinity (an OverflowError in int()) and rounds a
    20-digit count. Digits past the 40th after the point are dropped (no byte count or timer
    pgpath compares moves); a number too long for Python is 10**4000 (decimal())."""
    whole, _, frac = number.partition(".")
    frac = frac[:40]
    total = decimal(whole or "0") * 10 ** len(frac) + (int(frac) if frac else 0)
    return total * factor // (divisor * 10 ** len(frac))


# ---------------------------------------------------------------------------------------------
# C library number prefixes (strtol with base 0, strtod), as PostgreSQL and PgBouncer use them.

_STRTOL = lazy_re.compile(r"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_STRTOD = lazy_re.compile(
    r"[ \t\n\v\f\r]*([+-]?)("
    r"0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    r"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?"
    r"|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?"
    r")"
)


def c_strtol(text: str) -> tuple[int | None, int, bool]:
    """strtol(text, &end, 0): (value, index after the number, overflowed).

    The value is None when no digits were read (end is then 0). Overflow clamps like C's
    `long` on a 64-bit system and is reported with the flag (errno == ERANGE).
    """
    if text.isdigit() and text.isascii() and (text[0] != "0" or text == "0"):  # plain decimal: no regex
        value = decimal(text)
        return (value, len(text), False) if value <= _LONG_MAX else (_LONG_MAX, len(text), True)
    m = _STRTOL.match(text)
    if not m:
        return None, 0, False
    sign, digits = m.group(1), m.group(2)
    if digits[:2] in ("0x", "0X"):
        value = int(digits[2:], 16)
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = decimal(digits)
    if sign == "-":
        value = -value
    if value > _LONG_MAX:
        return _LONG_MAX, m.end(), True
    if value < _LONG_MIN:
        return _LONG_MIN, m.end(), True
    return value, m.end(), False


def c_strtod(text: str) -> tuple[float | None, int, bool]:
    """strtod(text, &end): (value, index after the number, out of range)."""
    if text.isdigit() and text.isascii():  # plain decimal digits (most values): no regex
        value = float(text)
        return value, len(text), math.isinf(value)
    m = _STRTOD.match(text)
    if not m:
        return None, 0, False
    sign, body = m.group(1), m.group(2)
    low = body.lower()
    if low.startswith("inf"):
        value = math.inf
    elif low.startswith("nan"):
        value = math.nan
    elif low.startswith("0x"):
        value = _hex_float(low[2:])
    else:
        try:
            value = float(body)
        except OverflowError:  # pragma: no cover - float() returns inf instead
            value = math.inf
    if sign == "-":
        value = -value
    erange = math.isinf(value) and not low.startswith("inf")
    if not erange and value == 0.0 and any(c in "123456789" for c in body.split("e")[0].split("p")[0]):
        erange = True  # underflow to zero
    return value, m.end(), erange


def _hex_float(body: str) -> float:
    mantissa, _, exponent = body.partition("p")
    whole, _, frac = mantissa.partition(".")
    value = float(int(whole or "0", 16))
    for i, digit in enumerate(frac, start=1):
        value += int(digit, 16) / (16**i)
    try:
        return math.ldexp(value, int(exponent or "0"))
    except OverflowError:
        return math.inf


def c_isspace(ch: str) -> bool:
    return ch in " \t\n\v\f\r"


def c_rint(value: float) -> float:
    """rint() in the default rounding mode: halves go to the even neighbour."""
    if math.isinf(value) or math.isnan(value):
        return value
    return float(round(value))


# ---------------------------------------------------------------------------------------------
# PostgreSQL (guc.c: parse_int, parse_real, convert_to_base_unit)

PG_MEMORY_UNITS = ("TB", "GB", "MB", "kB", "B")
PG_TIME_UNITS = ("d", "h", "min", "s", "ms", "us")
PG_MEMORY_HINT = 'Valid units for this parameter are "B", "kB", "MB", "GB", and "TB".'
PG_TIME_HINT = 'Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".'

_KB = 1024.0
# size of each unit in bytes, and of each base unit as pg_settings names it
_PG_MEMORY_BYTES = {"TB": _KB**4, "GB": _KB**3, "MB": _KB**2, "kB": _KB, "B": 1.0}
_PG_MEMORY_BASE = {"B": 1.0, "kB": _KB, "MB": _KB**2, "8kB": 8 * _KB}
# size of each unit in microseconds
_PG_TIME_US = {"d": 86400e6, "h": 3600e6, "min": 60e6, "s": 1e6, "ms": 1e3, "us": 1.0}
_PG_TIME_BASE = {"ms": 1e3, "s": 1e6, "min": 60e6}


def pg_unit_kind(base_unit: str | None) -> str | None:
    """'memory', 'time' or None for a pg_settings unit."""
    if base_unit in _PG_MEMORY_BASE:
        return "memory"
    if base_unit in _PG_TIME_BASE:
        return "time"
    return None


def pg_convert_to_base_unit(value: float, unit_text: str, base_unit: str) -> float | None:
    """Convert `value unit_text` into `base_unit` exactly as PostgreSQL does, or None.

    The unit is case-sensitive and at most three characters, optionally followed by
    whitespace. A fractional result is rounded to a multiple of the next smaller unit.
    """
    unit = unit_text[:3]
    rest = unit_text[len(unit):]
    # PostgreSQL copies characters up to whitespace, at most three of them
    for i, ch in enumerate(unit):
        if c_isspace(ch):
            unit, rest = unit[:i], unit_text[i:]
            break
    if rest.strip(" \t\n\v\f\r"):
        return None
    if base_unit in _PG_MEMORY_BASE:
        table, base = _PG_MEMORY_BYTES, _PG_MEMORY_BASE[base_unit]
        order = PG_MEMORY_UNITS
    elif base_unit in _PG_TIME_BASE:
        table, base = _PG_TIME_US, _PG_TIME_BASE[base_unit]
        order = PG_TIME_UNITS
    else:
        return None
    if unit not in table:
        return None
    converted = value * (table[unit] / base)
    index = order.index(unit)
    if index + 1 < len(order):
        smaller = table[order[index + 1]] / base
        converted = c_rint(converted / smaller) * smaller
    return converted


def _pg_apply_unit(value: float, rest: str, base_unit: str | None) -> tuple[float | None, str | None]:
    """The number converted by the unit text after it (whitespace allowed), or None and a hint."""
    rest = rest.lstrip(" \t\n\v\f\r")
    if not rest:
        return value, None
    kind = pg_unit_kind(base_unit)
    if kind is None:
        return None, None  # this parameter takes no unit
    converted = pg_convert_to_base_unit(value, rest, base_unit)  # type: ignore[arg-type]
    if converted is None:
        return None, PG_MEMORY_HINT if kind == "memory" else PG_TIME_HINT
    return converted, None


def pg_parse_int(text: str, base_unit: str | None) -> tuple[int | None, str | None]:
    """PostgreSQL's parse_int: (value in base unit, hint) — value None when invalid."""
    number, end, overflow = c_strtol(text)
    # strtol leaves `end` at 0 when it read nothing; PostgreSQL re-parses as a float only
    # when it stopped at a decimal point or an exponent, or overflowed
    value = float(number) if number is not None else 0.0
    if overflow or text[end:end + 1] in (".", "e", "E"):
        real, end, erange = c_strtod(text)
        if real is None or erange:
            return None, None
        value = real
    elif number is None:
        return None, None
    if math.isnan(value):
        return None, None
    value, hint = _pg_apply_unit(value, text[end:], base_unit)
    if value is None:
        return None, hint
    value = c_rint(value)
    if math.isinf(value) or value > INT_MAX or value < INT_MIN:
        return None, "Value exceeds integer range."
    return int(value), None


def pg_parse_real(text: str, base_unit: str | None) -> tuple[float | None, str | None]:
    """PostgreSQL's parse_real: (value in base unit, hint) — value None when invalid."""
    value, end, erange = c_strtod(text)
    if value is None or erange or math.isnan(value):
        return None, None
    return _pg_apply_unit(value, text[end:], base_unit)


def pg_parse_bool(text: str) -> bool | None:
    """PostgreSQL's parse_bool: on/off/true/false/yes/no/1/0 and unambiguous prefixes."""
    low = text.lower()
    n = len(low)
    if n == 0:
        return None
    first = low[0]
    if first == "t" and "true".startswith(low):
        return True
    if first == "f" and "false".startswith(low):
        return False
    if first == "y" and "yes".startswith(low):
        return True
    if first == "n" and "no".startswith(low):
        return False
    if first == "o":
        if low == "on":
            return True
        if n >= 2 and "off".startswith(low):
            return False
    if low == "1":
        return True
    if low == "0":
        return False
    return None


def pg_to_bytes(value: float, base_unit: str | None) -> float:
    """A memory value in its base unit, as bytes."""
    return value * _PG_MEMORY_BASE.get(base_unit or "B", 1.0)


def pg_to_seconds(value: float, base_unit: str | None) -> float:
    """A time value in its base unit, as seconds."""
    return value * _PG_TIME_BASE.get(base_unit or "s", 1e6) / 1e6


# ---------------------------------------------------------------------------------------------
# Human-readable output and input shared by every format.

_SIZE_RE = lazy_re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B?|B|kB)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """A size given on the command line or in pgpath.yaml: `64GB`, `64GiB`, `512M`, `1024`."""
    m = _SIZE_RE.match(text)
    if not m:
        return None
    if len(m.group(1)) > 40:  # no machine has 10^40 bytes; float() of 300+ digits is infinity
        return None
    number = float(m.group(1))
    unit = (m.group(2) or "B").upper().rstrip("B").rstrip("I")
    factor = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}[unit]
    size = number * factor
    if not size < MAX_RAM_BYTES:  # (NaN and infinity too)
        return None
    return int(size)


MAX_RAM_BYTES = 2**60  # 1 EiB: larger sizes are refused as RAM sizes


def shorten(value: str, limit: int = 40) -> str:
    """A value as a message echoes it: whole up to `limit` characters, else its start and its
    length (a 400-digit number or a 70,000-character line is not printed whole)."""
    return value if len(value) <= limit else value[:limit] + f"... ({len(value)} characters)"


def format_bytes(n: float) -> str:
    """`12 GB`, `1.5 MB`: binary multiples, written the way PostgreSQL spells them."""
    for unit, size in (("TB", _KB**4), ("GB", _KB**3), ("MB", _KB**2), ("kB", _KB)):
        if abs(n) >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n:.0f} B"


def format_seconds(s: float) -> str:
    """`7200 s`, `0.5 s`."""
    return f"{s:g} s"


def pg_memory_literal(n_bytes: float) -> str:
    """The largest PostgreSQL unit that represents `n_bytes` (rounded down to kB) exactly."""
    kb = int(n_bytes // 1024)
    for unit, size in (("TB", 1024**3), ("GB", 1024**2), ("MB", 1024)):
        if kb >= size and kb % size == 0:
            return f"{kb // size}{unit}"
    return f"{kb}kB"


# ---------------------------------------------------------------------------------------------
# Client drivers and pools (libpq, pgjdbc, HikariCP, SQLAlchemy, Django, psycopg_pool, pgx,
# node-postgres). Each library has its own number syntax: libpq and pgx take plain integers
# (`connect_timeout=5s` is rejected), HikariCP takes Java longs in milliseconds, pgx pool settings
# are Go durations (`1h30m`), node-postgres takes JavaScript numbers in milliseconds.

_GO_DURATION_UNITS = {
    "ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
}
_GO_DURATION_PART = lazy_re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


_DURATION_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "ms": 0.001, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration_seconds(text: str) -> float | None:
    """A duration a person writes in pgpath's own files: `350`, `350s`, `4min`, `4m`, `2h`, `500ms`
    (seconds without a unit); None when it is not one."""
    text = text.strip()
    i = 0
    while i < len(text) and (text[i].isdigit() or text[i] == "."):
        i += 1
    if i == 0 or i > 30:
        return None
    factor = _DURATION_UNITS.get(text[i:].strip())
    try:
        return None if factor is None else float(text[:i]) * factor
    except ValueError:
        return None


def go_parse_duration(text: str) -> float | None:
    """Go's time.ParseDuration, in seconds, or None when Go would reject the text.

    A duration is an optional sign and a sequence of decimal numbers, each with an optional
    fraction and a required unit (`ns us µs ms s m h`): `1h30m`, `1.5s`, `-300ms`. A bare `0` is
    the only number allowed without a unit; there is no `d`.
    """
    s = text
    if not s:
        return None
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        return None
    total, pos = 0.0, 0
    while pos < len(s):
        m = _GO_DURATION_PART.match(s, pos)
        if not m or m.group(1) in ("", "."):
            return None
        total += float(m.group(1)) * _GO_DURATION_UNITS[m.group(2)]
        pos = m.end()
    if total * 1e9 > 2**63 - 1:
        return None  # overflows time.Duration
    return sign * total


def go_format_duration(seconds: float) -> str:
    """A Go duration literal for a number of seconds: `5m0s` style shortened to `5m`, `90s`."""
    whole = int(round(seconds))
    if whole == seconds and whole % 3600 == 0 and whole:
        return f"{whole // 3600}h"
    if whole == seconds and whole % 60 == 0 and whole:
        return f"{whole // 60}m"
    return f"{seconds:g}s"


_DEC_INT = lazy_re.compile(r"^[ \t\n\v\f\r]*([+-]?[0-9]+)[ \t\n\v\f\r]*$")


def libpq_parse_int(text: str) -> int | None:
    """libpq's parse_int_param: a decimal integer with optional surrounding white space."""
    if text.isdigit() and text.isascii():  # (the common case, without the regex)
        value = decimal(text)
        return value if value <= INT_MAX else None
    m = _DEC_INT.match(text)
    if not m:
        return None
    value = decimal(m.group(1))
    return value if INT_MIN <= value <= INT_MAX else None


def java_parse_long(text: str) -> int | None:
    """Long.parseLong after Spring/Hikari trim it: an optional sign and decimal digits only."""
    text = text.strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit()):  # [+-]?[0-9]+
        return None
    value = decimal(text)
    return value if -(2**63) <= value <= 2**63 - 1 else None


def java_parse_int(text: str) -> int | None:
    """Integer.parseInt (pgjdbc's integer properties): decimal digits, no unit."""
    value = java_parse_long(text)
    return value if value is not None and INT_MIN <= value <= INT_MAX else None


def js_parse_number(text: str) -> float | None:
    """A JSON/YAML number as node-postgres would receive it (no unit suffixes)."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def client_bool(text: str) -> bool | None:
    """A boolean as drivers read it from configuration text: true/false/yes/no/on/off/1/0."""
    low = text.strip().lower()
    if low in ("true", "yes", "on", "1"):
        return True
    if low in ("false", "no", "off", "0"):
        return False
    return None


def ms_to_seconds(ms: float) -> float:
    return ms / 1000.0


# ---------------------------------------------------------------------------------------------
# PgBouncer (lib/usual/cfparser.c: cf_set_int, cf_set_uint, cf_set_time_usec; src/loader.c atoi)
#
# Integers are read with strtol(base 0) and stored in a C int; times with strtod as plain,
# fractional seconds (no unit suffix at all), stored as whole microseconds and shown by
# SHOW CONFIG with "%g". Any text after the number makes the value invalid.

PGB_UNIT_SECONDS = {
    "us": 1e-6, "ms": 1e-3, "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0, "d": 86400.0, "day": 86400.0, "days": 86400.0,
}
PGB_UNIT_BYTES = {"b": 1, "kb": 1024, "k": 1024, "kib": 1024, "mb": 1024**2, "m": 1024**2, "mib": 1024**2,
                  "gb": 1024**3, "g": 1024**3, "gib": 1024**3}
_ATOI_PREFIX = lazy_re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")  # what atoi() reads
_PGB_WITH_UNIT = lazy_re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([A-Za-z]+)\s*$")


def _c_int(value: int) -> int:
    """A C `long` stored into an `int`: the low 32 bits, two's complement."""
    value &= 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def pgb_parse_int(text: str) -> int | None:
    """cf_set_int: the int PgBouncer stores, or None when it rejects the text."""
    value, end, _overflow = c_strtol(text)
    if value is None or end != len(text):
        return None
    value = max(min(value, 2**63 - 1), -(2**63))  # strtol clamps to LONG_MIN/LONG_MAX
    return _c_int(value)


def pgb_parse_uint(text: str) -> int | None:
    """cf_set_uint: strtoul (a leading '-' negates modulo 2**64) stored into an unsigned int."""
    value, end, overflow = c_strtol(text)
    if value is None or end != len(text):
        return None
    if overflow:
        value = 2**64 - 1
    return value % 2**64 & 0xFFFFFFFF


def pgb_parse_time(text: str) -> float | None:
    """cf_set_time_usec: seconds as PgBouncer keeps them (whole microseconds), or None if invalid.

    Rejected: empty text, anything after the number (`30s`), negative values, out of range.
    `inf` and `nan` are accepted by strtod but give garbage in PgBouncer; they are rejected here.
    """
    value, end, erange = c_strtod(text)
    if value is None or end != len(text) or erange or value < 0 or math.isnan(value) or math.isinf(value):
        return None
    usec = math.floor(value * 1e6)
    if usec >= 2**64:
        return None
    return usec / 1e6


def pgb_format_time(seconds: float) -> str:
    """A time as SHOW CONFIG prints it (`%g`: `3600`, `1.5`, `1.23457e+06`)."""
    return "%g" % seconds


def pgb_atoi(text: str) -> int:
    """atoi() as src/loader.c uses it for connection-string numbers: a prefix, else 0."""
    m = _ATOI_PREFIX.match(text)
    return _c_int(decimal(m.group(1))) if m else 0


def pgb_unit_suffix(text: str, unit: str | None) -> tuple[float, str] | None:
    """(value in `unit`, the suffix) for `30s`, `5min`, `4kB`: text PgBouncer rejects, read as meant."""
    m = _PGB_WITH_UNIT.match(text)
    if not m:
        return None
    number, suffix = float(m.group(1)), m.group(2)
    low = suffix.lower()
    if unit in ("s", "ms") and (suffix in PGB_UNIT_SECONDS or low in PGB_UNIT_SECONDS):
        seconds = number * PGB_UNIT_SECONDS.get(suffix, PGB_UNIT_SECONDS.get(low, 1.0))
        return (seconds if unit == "s" else seconds * 1000.0), suffix
    if unit == "B" and low in PGB_UNIT_BYTES:
        return number * PGB_UNIT_BYTES[low], suffix
    return None


# ---------------------------------------------------------------------------------------------
# HAProxy (tools.c parse_time_err, as HAProxy 2.6 .. 3.x parse time values)

HAP_TIME_UNITS = ("us", "ms", "s", "m", "h", "d")
# size of each unit in microseconds
_HAP_TIME_US = {"us": 1, "ms": 1000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
HAP_TIMER_MAX_MS = 2147483647  # timeouts are stored as int milliseconds (~24.8 days)


def hap_parse_time(text: str, default_unit: str = "ms") -> tuple[int | None, str | None, str | None]:
    """(value in `default_unit`, error, warning) of an HAProxy time value such as `30s` or `5000`.

    Digits only (no sign, no fraction, no space), then an optional case-sensitive unit among
    us, ms, s, m, h, d; a bare number is in the keyword's default unit (ms for timeouts, s for
    `*tcpka-idle/intvl`). Conversions round up, as HAProxy does (`1us` is 1 ms). Text after a
    valid unit is only a warning in HAProxy 2.6 (`10ms1`). The value is None when HAProxy
    rejects the text; `error` then says what HAProxy says.
    """
    i = 0
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    if i == 0:
        if not text:
            return None, "expects an integer value", None
        return None, f"unexpected character '{text[0]}'", None
    value = decimal(text[:i])
    rest = text[i:]
    if not rest:
        return value, None, None
    unit = None
    for candidate in ("us", "ms", "s", "m", "h", "d"):
        if rest.startswith(candidate):
            unit = candidate
            break
    if unit is None:
        return None, f"unexpected character '{rest[0]}'", None
    warning = None
    if len(rest) > len(unit):
        warning = (f"unexpected character '{rest[len(unit)]}' after the timer value '{text}' "
                   "(HAProxy 2.6 ignores it with a warning; later versions reject it)")
    out_us = _HAP_TIME_US[default_unit]
    in_us = _HAP_TIME_US[unit]
    result = -(-value * in_us // out_us)  # ceiling division
    if result >= 2**32:
        return None, "timer overflow", warning
    return result, None, warning


def hap_parse_timer(text: str, default_unit: str = "ms") -> tuple[int | None, str | None, str | None]:
    """hap_parse_time for a keyword HAProxy stores in an int (timeouts, `inter`, `slowstart`,
    `*tcpka-idle`...): above HAP_TIMER_MAX_MS in its unit, HAProxy 2.6 refuses it with "timer
    overflow" (the value is still returned, for the message)."""
    value, error, warning = hap_parse_time(text, default_unit)
    if error is None and value is not None and value > HAP_TIMER_MAX_MS:
        error = "timer overflow"
    return value, error, warning


def hap_format_ms(ms: float) -> str:
    """`30m`, `90s`, `1500ms`: the shortest exact HAProxy spelling of a time in milliseconds."""
    ms = int(ms)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
