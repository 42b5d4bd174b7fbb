#!/usr/bin/env python3
"""pgpath benchmark: cold start of `pgpath check` and postgresql.conf parse throughput.

A script, not a test: timings depend on the machine and on whatever else runs on it.

1. Cold start. `pgpath check samples/healthy` (the console script of this environment, and
   `python -m advisor`) against the floor `python -c "import typer"` with the same interpreter.
   The commands run interleaved (one of each per round, the order rotating every round) so
   that a change in machine load hits all of them alike; the median, p10 and p90 of the wall
   time of each are reported, with two ratios to the floor: paired (the median over rounds of
   the ratio within a round: the target is judged on it, as it cancels the drift of the
   machine's speed between rounds) and the ratio of medians. Child CPU time (user + sys) is
   reported too.
   Bytecode: the children run without PYTHONDONTWRITEBYTECODE and after warm-up runs, so
   they import from `__pycache__` as after a normal `pip install` (pass --no-bytecode-cache to
   measure the other case).
2. Parse throughput. A large generated postgresql.conf (real parameter names of the newest
   catalog, units, quoted strings with escapes, `name value` lines, trailing and full-line
   comments, commented-out settings, blank lines) is read by pgpath's loader
   (`advisor.loaders.postgresql_conf.load`: read, lex, one Setting per occurrence with its
   position, every occurrence PostgreSQL applies typed and validated against the catalog, no
   rules) and by pgtoolkit's parser (`pgtoolkit.conf.parse`), alternately, several times each
   in this process; lines/s from the best and the median run of each, and the ratios (paired:
   the median of pgtoolkit/pgpath over each alternating pair, on which the target is judged;
   and of medians).

Measure from a regular install (`python -m venv v && v/bin/pip install . pgtoolkit`, then
`v/bin/python benchmarks/bench.py`) to time what users run; an editable install works too.

    python3 benchmarks/bench.py                 # print the Markdown tables
    python3 benchmarks/bench.py --write docs/performance.md

`--write` replaces the part of the file between `<!-- bench:begin -->` and
`<!-- bench:end -->` (the rest of the page is written by hand) or creates the file.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
TARGET_COLD = 1.3  # cold start <= 1.3 x the typer-import floor
TARGET_PARSE = 3.0  # throughput >= 3 x pgtoolkit
# modules that must not be imported by a plain `pgpath check` run
HEAVY = ("rich", "pydantic", "yaml", "jsonschema", "pglast", "psycopg", "pgtoolkit",
         "tree_sitter", "tree_sitter_javascript", "tree_sitter_typescript")  # (the last three: only with .js/.ts using pg)


# ------------------------------------------------------------------------------------------------
# helpers


def percentile(data: list[float], p: int) -> float:
    """The p-th percentile (inclusive method, as statistics.quantiles computes it)."""
    if len(data) < 2:
        return data[0]
    return statistics.quantiles(data, n=100, method="inclusive")[p - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def resolve_script(name: str) -> tuple[str | None, str]:
    """The real path of this environment's console script `name`, and how it was found.

    The scripts directory of the running interpreter comes first (a venv, a pyenv version);
    then PATH, following a pyenv shim to the script it would run.
    """
    candidate = Path(sysconfig.get_path("scripts")) / name
    if candidate.is_file():
        return str(candidate), "scripts directory of this interpreter"
    found = shutil.which(name)
    if not found:
        return None, "not found"
    if _is_pyenv_shim(found) and shutil.which("pyenv"):
        try:
            real = subprocess.run(["pyenv", "which", name], capture_output=True, text=True, check=True).stdout.strip()
            return real, f"pyenv shim {found} -> `pyenv which {name}`"
        except (OSError, subprocess.CalledProcessError):
            pass
    return found, "PATH"


def _is_pyenv_shim(path: str) -> bool:
    if "/shims/" in path:
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return head.startswith(b"#!") and b"pyenv" in head


def shebang_interpreter(script: str) -> str | None:
    try:
        with open(script, "rb") as f:
            first = f.readline().decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        return shutil.which(parts[1])
    return parts[0]


def child_env(bytecode_cache: bool) -> dict[str, str]:
    env = dict(os.environ)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["NO_COLOR"] = "1"
    return env


def timed_run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, child CPU seconds, exit code) of one run of cmd."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    rc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, rc


def version_of(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "typer": version_of("typer"),
        "pgtoolkit": version_of("pgtoolkit"),
        "pgpath": version_of("pgpath"),
        "load": load,
    }


# ------------------------------------------------------------------------------------------------
# 1. cold start


def cold_start(runs: int, sample: str, bytecode_cache: bool) -> dict:
    py = sys.executable
    script, how = resolve_script("pgpath")
    commands: dict[str, list[str]] = {"floor": [py, "-c", "import typer"]}
    notes = []
    if script:
        commands["script"] = [script, "check", sample]
        interp = shebang_interpreter(script)
        if interp and os.path.realpath(interp) != os.path.realpath(py):
            notes.append(f"the console script runs {interp}, not {py}")
    else:
        notes.append("no `pgpath` console script found (pip install -e .); only `python -m advisor` measured")
    commands["module"] = [py, "-m", "advisor", "check", sample]
    one_file = one_postgresql_conf(sample)
    if script and one_file:  # what a pre-commit hook usually passes: the one file that changed
        commands["script_one"] = [script, "check", one_file]
        # the pre-commit hook's own command (`entry: pgpath check --hook`), run at the repository
        # root as pre-commit runs it: the changed file's deployment and the files elsewhere that
        # may share its path (names, mounts, includes) are read
        commands["script_hook"] = [script, "check", "--hook", one_file]
    env = child_env(bytecode_cache)
    for cmd in commands.values():  # warm-up: page cache, and __pycache__ written
        for _ in range(2):
            timed_run(cmd, env)
    walls: dict[str, list[float]] = {k: [] for k in commands}
    cpus: dict[str, list[float]] = {k: [] for k in commands}
    codes: dict[str, set[int]] = {k: set() for k in commands}
    names = list(commands)
    for i in range(runs):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            wall, cpu, rc = timed_run(commands[name], env)
            walls[name].append(wall)
            cpus[name].append(cpu)
            codes[name].add(rc)
    heavy = heavy_imports(py, sample, env)
    return {"commands": commands, "walls": walls, "cpus": cpus, "codes": codes, "script_found_by": how,
            "notes": notes, "heavy": heavy, "runs": runs, "bytecode_cache": bytecode_cache}


def one_postgresql_conf(sample: str) -> str | None:
    path = Path(sample) / "postgresql.conf" if Path(sample).is_dir() else None
    return str(path) if path is not None and (ROOT / path).is_file() else None


def heavy_imports(py: str, sample: str, env: dict[str, str]) -> list[str]:
    """Top-level packages from HEAVY that a `check` run imports."""
    proc = subprocess.run([py, "-X", "importtime", "-m", "advisor", "check", sample], env=env, cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip()
            top = module.split(".")[0]
            if top in HEAVY:
                seen.add(top)
    return sorted(seen)


def cold_table(res: dict) -> str:
    labels = {
        "floor": '`python -c "import typer"` (floor)',
        "script": "`pgpath check {s}` (console script)",
        "module": "`python -m advisor check {s}`",
        "script_one": "`pgpath check {s}/postgresql.conf` (one file, as a pre-commit hook passes it)",
        "script_hook": "`pgpath check --hook {s}/postgresql.conf` (the pre-commit hook's command, at the "
                       "repository root)",
    }
    sample = res["commands"]["module"][-1]
    floor_wall = statistics.median(res["walls"]["floor"])
    floor_cpu = statistics.median(res["cpus"]["floor"])
    rows = ["| command | median ms | p10 ms | p90 ms | CPU median ms | ratio to floor, paired (wall) | "
            "ratio of medians (wall) | ratio of medians (CPU) | exit |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, walls in res["walls"].items():
        med = statistics.median(walls)
        cpu = statistics.median(res["cpus"][name])
        paired = "1.00" if name == "floor" else f"**{paired_ratio(res, name):.2f}**"
        rows.append(f"| {labels[name].format(s=sample)} | {ms(med)} | {ms(percentile(walls, 10))} | "
                    f"{ms(percentile(walls, 90))} | {ms(cpu)} | {paired} | {med / floor_wall:.2f} | "
                    f"{cpu / floor_cpu:.2f} | {','.join(map(str, sorted(res['codes'][name])))} |")
    return "\n".join(rows)


def paired_ratio(res: dict, name: str) -> float:
    """Median over rounds of (this command's time / the floor's time in the same round).

    The machine's speed drifts (on this 2-core VM it switches between two levels ~1.5x apart
    for seconds at a time); one round takes well under a second, so the ratio within a round
    cancels the drift that a ratio of medians over the whole run keeps.
    """
    return statistics.median(w / f for w, f in zip(res["walls"][name], res["walls"]["floor"]))


# ------------------------------------------------------------------------------------------------
# 2. parse throughput


def generate_conf(path: Path, lines: int, seed: int = 2026) -> int:
    """Write a postgresql.conf of about `lines` lines; returns the number of lines written."""
    rnd = random.Random(seed)
    catalog = json.loads((ROOT / "advisor" / "catalogs" / "pg18.json").read_text())
    params = [s for s in catalog["settings"]
              if s["context"] != "internal" and s["name"].isascii() and s["name"].replace("_", "").isalpha()
              and s["name"].islower() and s["name"] not in ("include", "include_dir", "include_if_exists")]
    mem_units = {"8kB": ("kB", "MB", "GB"), "kB": ("kB", "MB", "GB"), "MB": ("MB", "GB"), "B": ("kB", "MB")}
    time_units = {"ms": ("ms", "s", "min"), "s": ("s", "min", "h"), "min": ("min", "h", "d")}

    def value(p: dict) -> str:
        vt, unit = p["vartype"], p.get("unit")
        if vt == "bool":
            return rnd.choice(("on", "off", "true", "false", "yes", "no", "1", "0"))
        if vt == "enum":
            choice = rnd.choice(p["enumvals"])
            return choice if choice.replace("_", "").isalnum() else f"'{choice}'"
        if vt == "integer":
            if unit in mem_units and rnd.random() < 0.7:
                return f"{rnd.randint(1, 512)}{rnd.choice(mem_units[unit])}"
            if unit in time_units and rnd.random() < 0.7:
                return f"{rnd.randint(1, 120)}{rnd.choice(time_units[unit])}"
            lo = max(int(p["min_val"] or 0), 0)
            hi = min(int(p["max_val"] or 1000), lo + 10000)
            return str(rnd.randint(lo, hi)) if rnd.random() < 0.8 else f"'{rnd.randint(lo, hi)}'"
        if vt == "real":
            lo = max(float(p["min_val"] or 0), 0.0)
            hi = min(float(p["max_val"] or 10), lo + 100)
            return f"{rnd.uniform(lo, hi):.3f}"
        return rnd.choice((
            "'/var/lib/postgresql/18/main'", "'%m [%p] %q%u@%d '", "'UTF8'", "'it''s quoted'",
            "'line\\nbreak \\'esc\\''", "'en_US.UTF-8'", "''", "'$libdir/pg_stat_statements'",
            "'*'", "'public, \"$user\"'", "'HIGH:MEDIUM:+3DES:!aNULL'",
        ))

    comments = ("# -----------------------------", "#------------------------------------------------------------------------------",
                "# CONNECTIONS AND AUTHENTICATION", "# (change requires restart)",
                "# Note: Increasing max_connections costs ~400 bytes of shared memory per", "#")
    out: list[str] = ["# generated by benchmarks/bench.py for the parse-throughput benchmark"]
    while len(out) < lines:
        r = rnd.random()
        p = rnd.choice(params)
        if r < 0.15:
            out.append("")
        elif r < 0.30:
            out.append(rnd.choice(comments))
        elif r < 0.50:
            out.append(f"#{p['name']} = {value(p)}\t\t# {p['short_desc'][:40]}")
        elif r < 0.60:
            out.append(f"{p['name']} {value(p)}")
        elif r < 0.80:
            out.append(f"{p['name']} = {value(p)}\t\t# {p['short_desc'][:50]}")
        else:
            out.append(f"{p['name']} = {value(p)}")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out)


def throughput(lines: int, repeats: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from advisor.catalog import load_catalog
    from advisor.loaders import postgresql_conf

    try:
        import pgtoolkit.conf as pgtk
    except ImportError:
        pgtk = None
    catalog = load_catalog(18)
    with tempfile.TemporaryDirectory(prefix="pgpath-bench-") as tmp:
        path = Path(tmp) / "postgresql.conf"
        n = generate_conf(path, lines)
        size = path.stat().st_size
        options = {"catalog": catalog, "no_auto_conf": True}

        def run_pgpath():
            doc = postgresql_conf.load(str(path), options)
            return len(doc.settings), len(doc.diagnostics)

        def run_pgtoolkit():
            conf = pgtk.parse(str(path))
            return len(conf.entries), 0

        parsers = {"pgpath": run_pgpath}
        if pgtk is not None:
            parsers["pgtoolkit"] = run_pgtoolkit
        times: dict[str, list[float]] = {k: [] for k in parsers}
        cpu: dict[str, list[float]] = {k: [] for k in parsers}
        counts: dict[str, tuple[int, int]] = {}
        for name, fn in parsers.items():  # warm-up (imports, regex compilation, page cache)
            counts[name] = fn()
        for _ in range(repeats):
            for name, fn in parsers.items():
                gc.collect()
                start, start_cpu = time.perf_counter(), time.process_time()
                fn()
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
    return {"lines": n, "bytes": size, "times": times, "cpu": cpu, "counts": counts, "repeats": repeats}


def parse_table(res: dict) -> str:
    n = res["lines"]
    rows = ["| parser | best s | median s | lines/s (best) | lines/s (median) | ratio, paired | ratio of medians | "
            "CPU best s | ratio (CPU best) | read |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    base_cpu = min(res["cpu"].get("pgtoolkit") or [0]) or None
    base = statistics.median(res["times"].get("pgtoolkit") or [0]) or None
    what = {"pgpath": "`advisor.loaders.postgresql_conf.load` (lex + parse + type, no rules)",
            "pgtoolkit": f"`pgtoolkit.conf.parse` (pgtoolkit {version_of('pgtoolkit')})"}
    for name, times in res["times"].items():
        best, med = min(times), statistics.median(times)
        if base and name != "pgtoolkit":
            ratio = f"**{parse_paired_ratio(res):.2f}** | {base / med:.2f}"
        else:
            ratio = "1.00 | 1.00" if base else "n/a | n/a"
        count, diags = res["counts"][name]
        read = f"{count} settings" + (f", {diags} diagnostics" if name == "pgpath" else " (entries, last wins)")
        cpu_best = min(res["cpu"][name])
        cpu_ratio = f"{base_cpu / cpu_best:.2f}" if base_cpu else "n/a"
        rows.append(f"| {what[name]} | {best:.3f} | {med:.3f} | {n / best:,.0f} | {n / med:,.0f} | {ratio} | "
                    f"{cpu_best:.3f} | {cpu_ratio} | {read} |")
    return "\n".join(rows)


def parse_paired_ratio(res: dict) -> float:
    """Median over the alternating runs of pgtoolkit's time / pgpath's time in the same pair."""
    return statistics.median(t / p for p, t in zip(res["times"]["pgpath"], res["times"]["pgtoolkit"]))


# ------------------------------------------------------------------------------------------------
# report


def render(info: dict, cold: dict | None, parse: dict | None) -> str:
    out = [f"Measured {info['date']} on {info['cpu']}, {info['cores']} cores, {info['os']}; "
           f"{info['python']}; typer {info['typer']}; load average before the run {info['load']}.", ""]
    if cold:
        ratio = paired_ratio(cold, "script" if "script" in cold["walls"] else "module")
        verdict = "met" if ratio <= TARGET_COLD else "NOT met"
        out += [f"### Cold start ({cold['runs']} interleaved runs each, "
                f"{'with' if cold['bytecode_cache'] else 'without'} bytecode cache)", "",
                cold_table(cold), "",
                f"Target: ≤ {TARGET_COLD}× the floor (console script, paired): **{verdict}** ({ratio:.2f}×). "
                f"Console script: `{cold['commands'].get('script', ['(none)'])[0]}` ({cold['script_found_by']}).",
                f"Heavy packages imported by a `check` run: {', '.join(cold['heavy']) or 'none'} "
                f"(watched: {', '.join(HEAVY)})."]
        out += [f"Note: {n}." for n in cold["notes"]]
        out.append("")
    if parse:
        times = parse["times"]
        out += [f"### Parse throughput ({parse['lines']:,} lines, {parse['bytes'] / 1e6:.1f} MB, "
                f"{parse['repeats']} runs each, alternating)", "", parse_table(parse), ""]
        if "pgtoolkit" in times:
            ratio = parse_paired_ratio(parse)
            out.append(f"Target: ≥ {TARGET_PARSE}× pgtoolkit (paired): "
                       f"**{'met' if ratio >= TARGET_PARSE else 'NOT met'}** ({ratio:.2f}×).")
        else:
            out.append("pgtoolkit is not installed (pip install pgtoolkit): no comparison.")
        out.append("")
    return "\n".join(out)


def write_doc(path: Path, block: str) -> None:
    section = f"{BEGIN}\n{block.rstrip()}\n{END}"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            path.write_text(head + section + tail, encoding="utf-8")
            return
        path.write_text(text.rstrip() + "\n\n" + section + "\n", encoding="utf-8")
        return
    path.write_text("# Performance\n\nFigures written by `python3 benchmarks/bench.py --write docs/performance.md`.\n\n"
                    + section + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=21, help="cold-start runs of each command (default 21, at least 15)")
    ap.add_argument("--sample", default="samples/healthy", help="what `pgpath check` reads (default samples/healthy)")
    ap.add_argument("--lines", type=int, default=200_000, help="lines of the generated postgresql.conf")
    ap.add_argument("--repeats", type=int, default=5, help="parse runs of each parser (default 5)")
    ap.add_argument("--no-bytecode-cache", action="store_true", help="keep PYTHONDONTWRITEBYTECODE for the children")
    ap.add_argument("--skip-cold", action="store_true")
    ap.add_argument("--skip-parse", action="store_true")
    ap.add_argument("--write", metavar="FILE", help="write the figures into FILE (docs/performance.md)")
    args = ap.parse_args()
    if args.runs < 15 and not args.skip_cold:
        ap.error("--runs must be at least 15")
    info = machine_info()
    cold = None if args.skip_cold else cold_start(args.runs, args.sample, not args.no_bytecode_cache)
    parse = None if args.skip_parse else throughput(args.lines, args.repeats)
    text = render(info, cold, parse)
    print(text)
    if args.write:
        write_doc(Path(args.write), text)
        print(f"written to {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
