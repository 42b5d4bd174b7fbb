"""A whole `pgpath check` of a folder of several files, for the inputs that only exist between
files: a postgresql.conf `include` and its target (and loops of them), a pgbouncer.ini `%include`
and its `auth_file`, a compose file beside its override and the configuration it mounts, a
Helm chart's values, node-postgres code beside its package.json, a Go client beside its go.mod,
a Java client beside its pom.xml, Rails' config/database.yml, and a pgpath.yaml topology naming
them. The per-kind harnesses (fuzz/common.py) see one file alone and never reach these.

An input is a folder: records separated by RS (see `unpack`), each a relative file name, a
newline and the file's bytes. Names are cleaned to stay inside the scratch folder (at most four
parts of `[A-Za-z0-9_.+-]`, no `..`). The folder is checked as `pgpath check FOLDER` does (its
pgpath.yaml read when there is one) and the report rendered in one format.

What counts as a bug: any exception out of settings (other than UsageError, the CLI's exit 2
with a message), the check or a reporter; a hang or memory blow-up (libFuzzer's limits, or the
alarm of fuzz/mutate.py).

    python fuzz/fuzz_folder.py fuzz/corpus/folder -max_len=16384 -timeout=20 -rss_limit_mb=2048
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RS = b"\n\x1e\x1e\n"  # between records: a newline, two ASCII record separators, a newline
_PART = re.compile(rb"^[A-Za-z0-9_.+-]{1,60}$")


def pack(files: list[tuple[str, bytes]]) -> bytes:
    return RS.join(name.encode() + b"\n" + data for name, data in files)


def unpack(data: bytes) -> list[tuple[str, bytes]]:
    files: dict[str, bytes] = {}
    for i, record in enumerate(data.split(RS)[:40]):
        name, _, body = record.partition(b"\n")
        parts = [p for p in name.strip().split(b"/") if _PART.match(p) and p not in (b".", b"..")][:4]
        clean = "/".join(p.decode() for p in parts) or f"f{i}"
        files.setdefault(clean, body)
    # a name that is both a file and a folder of another name: the folder wins
    folders = {"/".join(n.split("/")[:k]) for n in files for k in range(1, n.count("/") + 1)}
    return [(n, b) for n, b in files.items() if n not in folders]


def setup():
    from advisor.engine import UsageError, make_settings, run
    from advisor.reporters import FORMATS, render
    from fuzz.common import scratch

    formats = sorted(FORMATS)
    counter = [0]
    top = scratch("pgpath-fuzz-folder-")

    def one(data: bytes) -> None:
        files = unpack(data)
        if not files:
            return
        counter[0] += 1
        folder = os.path.join(top, "t")
        shutil.rmtree(folder, ignore_errors=True)
        for name, body in files:
            path = os.path.join(folder, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(body)
        config = os.path.join(folder, "pgpath.yaml")
        try:
            settings = make_settings({"paths": [folder]}, config_path=config if os.path.isfile(config) else None,
                                     use_config=os.path.isfile(config))
        except UsageError:
            return
        report = run(settings)
        assert report.exit_code in (0, 1, 2), report.exit_code
        render(report, formats[counter[0] % len(formats)])

    return one


def seeds():
    """Every folder of the tests' rule cases, samples/ and ../shared/corpus that holds two files or
    more (at most 64 KiB each), with its sub-folders."""
    from fuzz.seeds import SOURCES as bases
    for base in bases:
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.rglob("*") if p.is_dir()):
            files = [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()
                     and p.suffix != ".expected" and p.stat().st_size <= 65_536]
            if 2 <= len(files) <= 40:
                yield pack([(str(p.relative_to(folder)), p.read_bytes()) for p in files])


def main() -> None:
    import atheris

    sys.path.insert(0, str(ROOT))
    from fuzz.common import import_advisor

    with atheris.instrument_imports(include=["advisor"]):
        import_advisor()
    one = setup()
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


# ------------------------------------------------------------------------------------------------
# structured mutation (uninstrumented): `python fuzz/folder.py --mutate SECONDS [SEED]`, and the
# number sweep: `python fuzz/folder.py --sweep`

NUMBERS = [b"1e400", b"-1e400", b"99999999999999999999", b"-99999999999999999999", b"0", b"-0", b"-1", b"-5s",
           b"0ms", b"1e-400", b"nan", b"inf", b"-inf", b"0x7fffffffffffffff", b"9" * 400, b"1.5", b"1_000",
           b"\xd9\xa3", b"\xef\xbc\x95", b"5\x00", b"2147483648", b"4294967296ms", b"18446744073709551616kB"]
_NUMBER = re.compile(rb"(?<![\w.])-?\d+(?:\.\d+)?(?:[a-zA-Z]{0,3})(?![\w.])")
_KEY_LINE = re.compile(rb"^[ \t]*[\w.\-\"']+[ \t]*[=:]", re.M)


def _mutate_text(rnd, name: str, body: bytes, names: list[str]) -> bytes:
    op = rnd.randrange(16)
    if op == 0 and body:  # truncated
        return body[:rnd.randrange(len(body))]
    if op in (1, 2, 3):  # a number replaced by a huge, negative, zero, non-ASCII or non-finite one
        found = list(_NUMBER.finditer(body))
        if found:
            m = rnd.choice(found)
            return body[:m.start()] + rnd.choice(NUMBERS) + body[m.end():]
    if op == 4:
        return body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if op == 5:
        i = rnd.randrange(len(body) + 1)
        return body[:i] + rnd.choice([b"\x00", "\u00e9\u202e\u200b\U0001f418".encode(), b"\xff\xfe", b"\xef\xbb\xbf",
                                      b"\r", b"\x0b\x0c", "\u2028".encode()]) + body[i:]
    if op == 6:  # a key line repeated (duplicate keys) or one line made very long
        lines = body.split(b"\n")
        j = rnd.randrange(len(lines))
        if rnd.random() < 0.5:
            lines[j:j] = [lines[j]] * rnd.randint(2, 3)
        else:
            lines[j] = lines[j] + b"x" * rnd.choice([1000, 70_000])
        return b"\n".join(lines)
    if op == 7:  # an include of itself or of another file of the folder
        other = rnd.choice(names + [name]).rsplit("/", 1)[-1]
        line = rnd.choice([b"include '%s'", b"include_if_exists '%s'", b"include_dir '.'", b"%%include %s",
                           b"auth_file = %s", b"include %s", b"<<: *a"])
        line = line % other.encode() if b"%s" in line else line
        i = rnd.randrange(len(body) + 1)
        return body[:i] + b"\n" + line + b"\n" + body[i:]
    if op == 8:  # deep nesting
        depth = rnd.choice([100, 1000, 20_000])
        piece = rnd.choice([(b"[" * depth, b"]" * depth), (b"{" * depth, b"}" * depth),
                            (b"".join(b"  " * k + b"k:\n" for k in range(min(depth, 300))), b"")])
        i = rnd.randrange(len(body) + 1)
        return body[:i] + piece[0] + piece[1] + body[i:]
    if op == 9:  # a YAML alias bomb
        bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
            b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((98 + k, 98 + k) + (97 + k,) * 9) for k in range(8))
        return bomb + body if rnd.random() < 0.5 else body + b"\n" + bomb
    if op == 10:  # wrong types: a scalar where a map is, a list where a scalar is
        m = list(re.finditer(rb":[ \t]*([^\n]*)", body))
        if m:
            x = rnd.choice(m)
            return body[:x.start(1)] + rnd.choice([b"[1, 2]", b"{a: 1}", b"", b"null", b"~", b"true", b"!!binary AA==",
                                                   b"!!python/object:x {}", b"[", b"'", b"&x", b"*x"]) + body[x.end(1):]
    if op == 11:
        return b""
    if op == 12:  # a key's value emptied or quoted oddly
        found = list(_KEY_LINE.finditer(body))
        if found:
            x = rnd.choice(found)
            end = body.find(b"\n", x.end())
            end = len(body) if end < 0 else end
            return body[:x.end()] + rnd.choice([b"", b" ''", b" '", b' "', b" \\", b" ${X", b" {{ x }}", b" %(x)s"]) + body[end:]
    if op == 13 and body:  # lines shuffled
        lines = body.split(b"\n")
        rnd.shuffle(lines)
        return b"\n".join(lines)
    # random bytes
    b = bytearray(body)
    for _ in range(rnd.randint(1, 4)):
        i = rnd.randrange(len(b) + 1)
        if rnd.random() < 0.5 and b:
            b[min(i, len(b) - 1)] = rnd.randrange(256)
        else:
            b[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 4)))
    return bytes(b)


def mutate_folder(rnd, data: bytes) -> bytes:
    files = unpack(data)
    names = [n for n, _ in files]
    for _ in range(rnd.randint(1, 3)):
        k = rnd.randrange(len(files))
        name, body = files[k]
        if rnd.random() < 0.05:  # a file renamed to another one's name
            name = rnd.choice(names)
        files[k] = (name, _mutate_text(rnd, name, body, names))
    return pack(files)


def mutate_main(seconds: float, seed: int) -> None:
    import random
    import signal
    import time
    import traceback

    one = setup()
    corpus = ROOT / "fuzz" / "corpus" / "folder"
    pool = [p.read_bytes() for p in sorted(corpus.iterdir())] if corpus.is_dir() else []
    pool = pool or list(seeds())
    artifacts = ROOT / "fuzz" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    rnd = random.Random(seed)

    class Hang(Exception):
        pass

    def alarm(*_):
        raise Hang()

    signal.signal(signal.SIGALRM, alarm)
    start = time.time()
    runs = crashes = 0
    kinds: dict[str, int] = {}
    while time.time() - start < seconds:
        data = mutate_folder(rnd, rnd.choice(pool))
        signal.alarm(20)
        try:
            one(data)
        except BaseException as exc:  # noqa: BLE001 - every escape is a finding
            if isinstance(exc, KeyboardInterrupt):
                raise
            crashes += 1
            tb = traceback.format_exc()
            where = tb.strip().splitlines()[-3].strip() if isinstance(exc, Hang) else tb.strip().splitlines()[-1]
            kinds[where] = kinds.get(where, 0) + 1
            if kinds[where] <= 3:
                name = artifacts / f"folder-mutate-{seed}-{crashes}"
                name.write_bytes(data)
                name.with_suffix(".txt").write_text(("HANG\n" if isinstance(exc, Hang) else "") + tb)
        finally:
            signal.alarm(0)
        runs += 1
    print(f"folder: {runs} inputs, {crashes} crashes ({len(kinds)} distinct), {time.time() - start:.0f} s", flush=True)
    for where, n in sorted(kinds.items(), key=lambda x: -x[1]):
        print(f"  {n:5d}  {where[:200]}", flush=True)


def sweep_main() -> None:
    """Every folder seed with all its numbers replaced at once by one special value, for each of
    NUMBERS and SWEEP_EXTRA; then with every value of its YAML/JSON files replaced by each of
    YAML_VALUES (wrong types) and every `= value` of its other files by each of INI_VALUES:
    deterministic, about 4 minutes (the numbers found a hang and three crashes that random mutation
    had not). Failures are saved under fuzz/artifacts/folder-sweep-<n>, one per distinct one."""
    import signal
    import time
    import traceback

    one = setup()
    pool = list(seeds())
    artifacts = ROOT / "fuzz" / "artifacts"
    artifacts.mkdir(exist_ok=True)

    class Hang(Exception):
        pass

    def alarm(*_):
        raise Hang()

    def variants():
        for value in NUMBERS + SWEEP_EXTRA:  # every number of the folder replaced
            for data in pool:
                yield value, pack([(n, _NUMBER.sub(lambda m: value, b)) for n, b in unpack(data)])
        for data in pool:  # every value of its YAML/JSON files, or of its other files' `key = value` lines
            files = unpack(data)
            for value in YAML_VALUES:
                yield value, pack([(n, _YAML_VALUE.sub(lambda m: m.group(1) + value, b) if n.endswith(_YAML) else b)
                                   for n, b in files])
            for value in INI_VALUES:
                yield value, pack([(n, b if n.endswith(_YAML) else _INI_VALUE.sub(lambda m: m.group(1) + value, b))
                                   for n, b in files])

    signal.signal(signal.SIGALRM, alarm)
    start, runs, found = time.time(), 0, {}
    for value, mutated in variants():
        signal.alarm(30)
        try:
            one(mutated)
        except BaseException as exc:  # noqa: BLE001 - every escape is a finding
            if isinstance(exc, KeyboardInterrupt):
                raise
            lines = traceback.format_exc().strip().splitlines()
            key = ("HANG " + lines[-3]) if isinstance(exc, Hang) else lines[-1]
            if key not in found:
                found[key] = value
                name = artifacts / f"folder-sweep-{len(found)}"
                name.write_bytes(mutated)
                name.with_suffix(".txt").write_text("\n".join(lines))
                print(f"{len(found)} {value[:20]!r} {key[:200]}", flush=True)
        finally:
            signal.alarm(0)
        runs += 1
    print(f"folder sweep: {runs} checks in {time.time() - start:.0f} s, {len(found)} distinct failures", flush=True)


_YAML = (".yml", ".yaml", ".json")
_YAML_VALUE = re.compile(rb"(:[ \t]+)([^\n#]*)")
_INI_VALUE = re.compile(rb"(=[ \t]*)([^\n]*)")
# wrong types and broken values
YAML_VALUES = [b"[1, 2]", b"{a: 1}", b"null", b"", b"~", b"true", b"[]", b"{}", b"- x", b"'", b"0", b"-1", b"[[[[", b"1e400"]
INI_VALUES = [b"", b"''", b"'", b'"', b"-1", b"0", b"${X}", b"{{ x }}", b"%(x)s", b"\\"]
SWEEP_EXTRA = [b"-1.5", b"0.0001", b"00000000000000000000000000001", b"1e9999", b".5", b"5.", b"+5", b"0x10", b"1_0",
               b"\xd9\xa5"]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["--seeds"]:
        out = ROOT / "fuzz" / "corpus" / "folder"
        out.mkdir(parents=True, exist_ok=True)
        import hashlib

        n = 0
        for data in seeds():
            (out / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)
            n += 1
        print(f"folder: {n} seeds")
    elif sys.argv[1:2] == ["--sweep"]:
        sweep_main()
    elif sys.argv[1:2] == ["--mutate"]:
        mutate_main(float(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    else:
        main()
