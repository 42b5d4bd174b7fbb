"""The `pgpath` command line: parses arguments, calls the engine, prints a reporter's output.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad usage or unreadable input,
3 an internal error (a bug in pgpath: please report it).
"""

import gc
import sys  # (no `from __future__ import annotations`: typer would eval every annotation string, 2 ms a run)

# No cyclic garbage collection while typer and the modules below are imported: they make no
# garbage, and the collector would rescan what they make about twenty times (~2.5 ms of a run).
# Then what the imports made goes straight to the oldest generation (freeze and unfreeze: as if
# it had survived the young collections it skipped), so that turning the collector back on does
# not start one collection of all of it; main() then sets how often it runs for the check.
_collecting = gc.isenabled()
gc.disable()
try:
    from advisor import import_cache

    import_cache.install()  # before typer and pgpath's modules are imported (advisor/import_cache.py)

    from typing import List, Optional

    import typer
finally:
    if _collecting:
        gc.freeze()
        gc.unfreeze()
        gc.enable()

app = typer.Typer(
    name="pgpath",
    help="Lint the connection path to PostgreSQL: postgresql.conf, PgBouncer, HAProxy, clients.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

EXIT_INTERNAL = 3


def _fail(message: str, code: int = 2) -> None:
    from advisor.redact import escape_surrogates

    typer.echo(f"pgpath: error: {escape_surrogates(message)}", err=True)
    raise typer.Exit(code)


def _version_callback(value: bool) -> None:
    if value:
        from advisor import __version__

        typer.echo(f"pgpath {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Show the version."),
) -> None:
    """Lint the connection path to PostgreSQL."""


@app.command()
def check(
    paths: List[str] = typer.Argument(None, help="Files or directories (default: the current directory)."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="Output format: text, json, sarif, github, junit, "
                                      "gitlab, markdown or html (default: text; github when GITHUB_ACTIONS=true)."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Rules to run: codes, names or families (PG, TLS)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Rules to skip: codes, names or families."),
    pg_version: Optional[str] = typer.Option(None, "--pg-version", help="PostgreSQL major (14-18) for every file; default: per file, its deployment's declared version or its nearest evidence, else 18."),
    pgbouncer_version: Optional[str] = typer.Option(None, "--pgbouncer-version", help="PgBouncer version (default: newest)."),
    ram: Optional[str] = typer.Option(None, "--ram", help="Server memory for the memory rules, e.g. 64GB."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", help="Lowest severity that fails the run: error, warning (default), info."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Read the named files as this kind (postgresql, ...)."),
    config: Optional[str] = typer.Option(None, "--config", help="Settings file (default: pgpath.yaml here or above)."),
    no_config: bool = typer.Option(False, "--no-config", help="Ignore pgpath.yaml."),
    haproxy_binary: Optional[str] = typer.Option(None, "--haproxy-binary", help="Also run `haproxy -c` with this binary."),
    cert_warn_days: Optional[int] = typer.Option(None, "--cert-warn-days", help="Warn about certificates that expire "
                                                 "within this many days (default 30)."),
    cloud: Optional[str] = typer.Option(None, "--cloud", help="aws, azure or gcp: the cloud whose load balancer a "
                                        "Kubernetes Service of type LoadBalancer gets when no annotation says."),
    color: str = typer.Option("auto", "--color", help="auto, always or never."),
    output: Optional[List[str]] = typer.Option(
        None, "--output", "-o", help="Write the report to this file; or FORMAT=PATH (repeatable, PATH - is stdout) "
                                     "to write several formats in one run."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Report only findings this baseline file "
                                                                    "does not record."),
    write_baseline: Optional[str] = typer.Option(None, "--write-baseline", help="Record the findings of this run "
                                                                                "in a baseline file and exit 0."),
    baseline_stale: bool = typer.Option(False, "--baseline-stale", help="Fail when baselined findings are gone "
                                                                        "(the baseline needs rewriting)."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even with findings (2 and 3 still mean "
                                                              "unreadable input and internal error)."),
    no_inline_ignores: bool = typer.Option(False, "--no-inline-ignores", help="Ignore `pgpath: ignore[...]` "
                                                                              "comments: report everything."),
    hook: bool = typer.Option(False, "--hook", help="PATHS are changed files (pre-commit): check their "
                                                    "deployments, report only findings that touch them, skip "
                                                    "unrecognised files quietly."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also say, on stderr, which files in the folders "
                                                                "walked were skipped and why."),
    include_development: bool = typer.Option(False, "--include-development", help="Also report info findings on "
                                             "files for development or tests (held back by default; the summary "
                                             "says which files and why)."),
) -> None:
    """Check configuration files and report problems along the connection path."""
    from advisor.engine import UsageError, make_settings, run

    outputs = _outputs(fmt, output)
    if color not in ("auto", "always", "never"):
        _fail("--color takes auto, always or never")
    cli = {
        "paths": paths or None,
        "select": select,
        "ignore": ignore,
        "pg_version": pg_version,
        "pgbouncer_version": pgbouncer_version,
        "ram": ram,
        "fail_on": fail_on,
        "kind": kind,
        "haproxy_binary": haproxy_binary,
        "cert_warn_days": cert_warn_days,
        "cloud": cloud,
        "include_development": include_development or None,
    }
    if baseline_stale and not baseline:
        _fail("--baseline-stale needs --baseline FILE")
    try:
        settings = make_settings(cli, config_path=config, use_config=not no_config)
        settings.inline_ignores = not no_inline_ignores
        if hook:
            settings.changed = list(paths or [])
            settings.paths = []
        if write_baseline:
            report = run(settings)
            from advisor import baseline as bl

            try:
                n = bl.write(write_baseline, report.findings)
            except bl.BaselineError as exc:
                _fail(str(exc))
            typer.echo(f"pgpath: wrote {write_baseline}: {len(report.findings)} finding"
                       f"{'s' if len(report.findings) != 1 else ''} ({n} entries)", err=True)
            raise typer.Exit(2 if report.input_errors else 0)
        settings.baseline = baseline
        settings.baseline_stale = baseline_stale
        report = run(settings, progress=_progress_hook(outputs, color))
    except UsageError as exc:
        _fail(str(exc))
    _write_outputs(report, outputs, color)
    _tell_inputs(report, verbose, quiet=hook)
    code = report.exit_code
    raise typer.Exit(0 if exit_zero and code == 1 else code)


def _tell_inputs(report, verbose: bool, quiet: bool) -> None:
    """On stderr: the skipped files with the reason (--verbose), and a warning when nothing was read."""
    from advisor.loaders import skip_reason
    from advisor.redact import Redactor, escape_surrogates

    shown = Redactor(roots=report.settings.paths).relative  # no absolute path of this machine
    skipped = list(getattr(report, "skipped", None) or [])
    if verbose:
        for path in skipped:
            typer.echo(f"pgpath: skipped {escape_surrogates(shown(path))}: {skip_reason(path)}", err=True)
    if not report.docs and not report.input_errors and not quiet:
        where = escape_surrogates(shown(", ".join(report.settings.paths) or "."))
        typer.echo(f"pgpath: warning: no configuration file read in {where}"
                   + (f" ({len(skipped)} file{'s' if len(skipped) != 1 else ''} skipped; --verbose lists them)"
                      if skipped else "") + "; name a file's kind with --kind", err=True)


def _outputs(fmt: Optional[str], output: Optional[List[str]]) -> "list[tuple[str, str]]":
    """(format, destination) pairs; destination "-" is stdout.

    `--format F` (default text; github when GITHUB_ACTIONS=true) goes to stdout, or to the file
    of a plain `--output FILE`. `--output F=PATH` adds a format; when one of those writes to
    stdout (`F=-`) and no --format was given, the default format is not printed.
    """
    import os

    from advisor.reporters import FORMATS

    if fmt is not None and fmt not in FORMATS:
        _fail(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    extra: list[tuple[str, str]] = []
    plain: list[str] = []
    for item in output or []:
        name, sep, dest = item.partition("=")
        if sep and name in FORMATS:
            if not dest:
                _fail(f"--output {item}: no path after '=' (use - for stdout)")
            extra.append((name, dest))
        elif sep and name.isalnum() and not os.path.sep in name and not os.path.exists(item):
            _fail(f"--output {item}: unknown format {name!r} (choose {', '.join(FORMATS)})")
        else:
            plain.append(item)
    if len(plain) > 1:
        _fail("--output FILE can be given once; use --output FORMAT=PATH for more reports")
    main_fmt = fmt or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    pairs = list(extra)
    if plain or fmt is not None or not any(dest == "-" for _, dest in extra):
        pairs.insert(0, (main_fmt, plain[0] if plain else "-"))
    if sum(dest == "-" for _, dest in pairs) > 1:
        _fail("only one report can go to stdout (-)")
    return pairs


def _progress_hook(outputs: "list[tuple[str, str]]", color: str):
    """A progress callback for the engine, or None: only when stderr is a terminal, only text
    goes to the terminal (no machine format on stdout), and colour is not turned off. The bar
    appears once the run has lasted PGPATH_PROGRESS_DELAY seconds (default 1); until then
    advisor.progress is not even imported, so small runs pay nothing."""
    import os

    if color == "never" or not any(name == "text" for name, _ in outputs):
        return None
    if any(dest == "-" and name != "text" for name, dest in outputs):
        return None
    try:
        if not sys.stderr.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    import time

    try:
        delay = float(os.environ.get("PGPATH_PROGRESS_DELAY", "1"))
    except ValueError:
        delay = 1.0
    start = time.monotonic()
    state = {"bar": None}

    def hook(done: int, total: int, label: Optional[str]) -> None:
        bar = state["bar"]
        if label is None:
            if bar is not None:
                bar.close()
            return
        if bar is None:
            if time.monotonic() - start < delay:
                return
            from advisor.progress import Bar

            bar = state["bar"] = Bar(sys.stderr)
        bar.update(done, total, label)

    return hook


def _write_outputs(report, outputs: "list[tuple[str, str]]", color: str) -> None:
    from advisor.reporters import render_chunks

    # written piece by piece (render_chunks): a JSON report of 10,000 files is tens of MB, and
    # holding it whole (with the list of its pieces) doubled the run's peak memory
    for name, dest in outputs:
        if name == "text":
            colour = color == "always" or (color == "auto" and dest == "-" and sys.stdout.isatty())
            pieces = render_chunks(report, name, colour=colour)
        else:
            pieces = render_chunks(report, name)
        if dest == "-":
            for piece in pieces:
                sys.stdout.write(piece)
            continue
        try:
            with open(dest, "w", encoding="utf-8") as f:
                for piece in pieces:
                    f.write(piece)
        except OSError as exc:
            _fail(f"cannot write {dest}: {exc.strerror}")


@app.command()
def report(
    paths: List[str] = typer.Argument(None, help="Files or directories (default: the current directory)."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report here: .html or .md "
                                                                      "(default: Markdown on stdout)."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="html or markdown (default: from the "
                                                                   "--output suffix)."),
    title: str = typer.Option("pgpath report", "--title", help="The report's title."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Rules to run: codes, names or families."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Rules to skip: codes, names or families."),
    pg_version: Optional[str] = typer.Option(None, "--pg-version", help="PostgreSQL major (14-18) for every file; default: per file, its deployment's declared version or its nearest evidence, else 18."),
    pgbouncer_version: Optional[str] = typer.Option(None, "--pgbouncer-version", help="PgBouncer version."),
    ram: Optional[str] = typer.Option(None, "--ram", help="Server memory for the memory rules, e.g. 64GB."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", help="Severity the verdict fails on (the report "
                                                                  "itself exits 0)."),
    config: Optional[str] = typer.Option(None, "--config", help="Settings file (default: the nearest one)."),
    no_config: bool = typer.Option(False, "--no-config", help="Ignore settings files."),
    include_development: bool = typer.Option(False, "--include-development", help="Also report info findings on "
                                             "files for development or tests (held back by default; the "
                                             "assumptions say which files and why)."),
) -> None:
    """Write a review report: verdict, findings by file (and path), inputs read and skipped, assumptions."""
    from advisor.engine import UsageError, make_settings, run

    if fmt is None:
        suffix = (output or "").lower().rsplit(".", 1)[-1] if output and "." in output else ""
        fmt = {"html": "html", "htm": "html", "md": "markdown", "markdown": "markdown"}.get(suffix)
        if fmt is None:
            if output and output != "-":
                _fail(f"--output {output}: name it .html or .md, or give --format html|markdown")
            fmt = "markdown"
    if fmt not in ("html", "markdown"):
        _fail("--format takes html or markdown")
    cli = {"paths": paths or None, "select": select, "ignore": ignore, "pg_version": pg_version,
           "pgbouncer_version": pgbouncer_version, "ram": ram, "fail_on": fail_on,
           "include_development": include_development or None}
    try:
        settings = make_settings(cli, config_path=config, use_config=not no_config)
        result = run(settings)
    except UsageError as exc:
        _fail(str(exc))
    from advisor.reporters import files_read, render

    text = render(result, fmt, review=True, title=title)
    if output and output != "-":
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror}")
        typer.echo(f"pgpath: wrote {output}: {len(result.findings)} findings in "
                   f"{len(files_read(result))} files", err=True)
    else:
        sys.stdout.write(text)
    raise typer.Exit(0)


@app.command()
def path(
    paths: List[str] = typer.Argument(None, help="Files or directories (default: the current directory)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    config: Optional[str] = typer.Option(None, "--config", help="Settings file (default: pgpath.yaml here or above)."),
    no_config: bool = typer.Option(False, "--no-config", help="Ignore pgpath.yaml."),
    pg_version: Optional[str] = typer.Option(None, "--pg-version", help="PostgreSQL major (14-18) for every file; default: per file, its deployment's declared version or its nearest evidence, else 18."),
    cloud: Optional[str] = typer.Option(None, "--cloud", help="aws, azure or gcp: the cloud whose load balancer a "
                                        "Kubernetes Service of type LoadBalancer gets when no annotation says."),
) -> None:
    """Print each assembled connection path and when each hop closes an idle connection."""
    from advisor.engine import UsageError, make_settings, run
    from advisor.reporters.paths import render, render_json

    if fmt not in ("text", "json"):
        _fail("--format takes text or json")
    try:
        settings = make_settings({"paths": paths or None, "pg_version": pg_version, "select": ["ADV004"],
                                  "cloud": cloud}, config_path=config, use_config=not no_config)
        report = run(settings)
    except UsageError as exc:
        _fail(str(exc))
    from advisor.redact import Redactor

    # the one redaction layer: no secret, no absolute path of this machine (advisor.redact)
    clean = Redactor(report.docs, roots=settings.paths, plain=settings.topology).text
    sys.stdout.write(clean(render_json(report) if fmt == "json" else render(report)))
    for f in report.findings:  # the topology's own problems
        typer.echo(clean(f"{f.span}: {f.code} {f.severity} {f.message}"), err=True)
    raise typer.Exit(2 if report.input_errors or report.findings else 0)


@app.command()
def init(
    paths: List[str] = typer.Argument(None, help="Files or directories (default: the current directory)."),
    output: str = typer.Option("pgpath.yaml", "--output", "-o", help="Where to write the topology."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write the paths pgpath assumed as a `deployments:` topology to edit (pgpath.yaml)."""
    import os

    from advisor.engine import UsageError, make_settings, run
    from advisor.reporters.paths import render_topology

    if os.path.exists(output) and not force:
        _fail(f"{output} exists; edit it, or write elsewhere with --output (or overwrite with --force)")
    try:
        settings = make_settings({"paths": paths or None, "select": ["ADV004"]}, use_config=False)
        report = run(settings)
    except UsageError as exc:
        _fail(str(exc))
    text = render_topology(report, base=os.path.dirname(os.path.abspath(output)))
    try:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror}")
    count = text.count("\n  - name:")
    typer.echo(f"wrote {output}: {count} deployment{'s' if count != 1 else ''} to review")


@app.command()
def rules(fmt: str = typer.Option("text", "--format", "-f", help="text or json.")) -> None:
    """List every rule with its code, name, default severity and summary."""
    from advisor.rules import all_rules

    rules = all_rules()
    if fmt == "json":
        import json

        data = [{"code": r.code, "name": r.name, "severity": str(r.severity), "summary": r.summary,
                 "opt_in": r.opt_in} for r in rules]
        typer.echo(json.dumps(data, indent=2))
        return
    if fmt != "text":
        _fail("--format takes text or json")
    width = max(len(r.name) for r in rules)
    for r in rules:
        opt_in = f" (opt-in: --select {r.code})" if r.opt_in else ""
        typer.echo(f"{r.code:<7} {r.name:<{width}}  {str(r.severity):<7}  {r.summary}{opt_in}")


@app.command()
def explain(rule: str = typer.Argument(..., help="A rule code (PG001) or name (unknown-parameter).")) -> None:
    """Print a rule's documentation: what it checks, why, an example and the fix."""
    from advisor.docs import rule_page
    from advisor.rules import find_rule

    from advisor.rules import REDIRECTS

    found = find_rule(rule)
    if found is None:
        _fail(f"unknown rule {rule!r} (see `pgpath rules`)")
    if rule.strip().upper() in REDIRECTS:
        typer.echo(f"{rule.strip().upper()} was retired; its risk is {found.code}'s now:\n")
    typer.echo(rule_page(found), nl=False)


@app.command()
def dump(
    file: str = typer.Argument(..., help="The configuration file to load."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Read it as this kind instead of guessing."),
    pg_version: Optional[str] = typer.Option(None, "--pg-version", help="PostgreSQL major (14-18)."),
    pgbouncer_version: Optional[str] = typer.Option(None, "--pgbouncer-version", help="PgBouncer version."),
) -> None:
    """Print the loaded document as JSON: every setting with its raw text, value, unit and span (a
    file of several configurations: the others under more_documents)."""
    import json

    from advisor.engine import UsageError, load_documents, make_settings, _kind_of
    from advisor.loaders import InputError

    try:
        settings = make_settings({"pg_version": pg_version, "pgbouncer_version": pgbouncer_version, "kind": kind},
                                 use_config=False)
        settings.extra["type_skipped"] = True  # every occurrence typed, also those PostgreSQL skips
        found_kind = settings.kind or _kind_of(file, sniff=True, explicit=True) or "text"
        docs, errors = load_documents(settings, [(file, found_kind)])
    except UsageError as exc:
        _fail(str(exc))
    if errors:
        e: InputError = errors[0]
        _fail(f"{e.path}{':' + str(e.line) if e.line else ''}: {e.message}")
    if not docs:  # a manifest of a Service, an autoscaler, a workload that runs no server...
        _fail(f"{file}: nothing in it that pgpath reads as a configuration (read as {found_kind})")
    from advisor.redact import Redactor

    first = docs[0].to_dict()
    if len(docs) > 1:
        # a file of several configurations (a compose file's PostgreSQL, PgBouncer and clients)
        first["more_documents"] = [d.to_dict() for d in docs[1:]]
    data = Redactor(docs, roots=[file]).data(json.loads(json.dumps(first, ensure_ascii=False, default=str)))
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _invoked_only(argv: list[str]):
    """The registered commands, and the one command `argv` invokes (`pgpath check ...`) or None.

    typer builds every command's options from its function's signature on each run (about 1 ms
    for the seven commands, of which a run invokes one). When the first argument is a command's
    name, the others are left out of the group for the run: nothing of theirs is shown or
    parsed then (the group's own help, which lists them, and its "no such command" are only
    reached by other first arguments, which keep every command)."""
    registered = list(app.registered_commands)
    if len(argv) < 2:
        return registered, None
    for info in registered:
        name = info.name or typer.main.get_command_name(info.callback.__name__)
        if name == argv[1]:
            return registered, info
    return registered, None


def run_app() -> int:
    """Run the command line and return its exit code; no traceback ever reaches the user."""
    registered, invoked = _invoked_only(sys.argv)
    if invoked is not None:
        app.registered_commands[:] = [invoked]
    try:
        return _run_app()
    finally:
        app.registered_commands[:] = registered


def _run_app() -> int:
    try:
        app()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        typer.echo(str(exc.code), err=True)
        return 1
    except KeyboardInterrupt:
        typer.echo("pgpath: interrupted", err=True)
        return 130
    except BaseException as exc:  # noqa: BLE001 - no traceback ever reaches the user
        from advisor.redact import escape_surrogates, redact_patterns

        detail = escape_surrogates(redact_patterns(str(exc)))
        typer.echo(f"pgpath: internal error: {type(exc).__name__}: {detail} (please report this)", err=True)
        return EXIT_INTERNAL
    return 0


def main() -> None:
    """The `pgpath` console script and `python -m advisor`: run, flush the output, and leave.

    It leaves with os._exit, skipping the interpreter's teardown (freeing every module and
    object one by one): about 20 ms on every run, 15 % of a pre-commit hook's cold start. Nothing
    is lost: the report file is closed when written, and stdout/stderr are flushed here; pgpath
    registers no atexit handlers and leaves no child process running.
    """
    import os

    # The cyclic garbage collector rescans every object that survived its young generation:
    # in the middle generation every 10 young collections, in the oldest each time the heap grows
    # by a quarter. Those objects are the loaded documents, which live until the report is
    # written; on a tree of 10,000 files the rescans were about a fifth of the CPU time (1.2 s
    # of 5.5 s; the middle generation alone 0.5 s once the oldest was left alone), for garbage
    # the loaders do not make (no reference cycles; the postgresql.conf loader pauses the
    # collector for the same reason). So: what is imported by now (typer, the CLI) is kept out
    # of every collection, a young collection runs after 20,000 new container objects instead of
    # 700 (cycles that die young, if any, are still collected), and the older generations only
    # after 1,000 young collections (20 million objects: never, on that tree).
    gc.freeze()
    gc.set_threshold(20_000, 1_000, 10)
    code = run_app()
    from advisor import lazy_re

    lazy_re.save()  # the patterns this run compiled, for the next run (advisor/lazy_re.py)
    import_cache.save()  # the modules this run imported the usual way (advisor/import_cache.py)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`pgpath check | head -1`): nothing to save
            pass
    os._exit(code)
