"""JUnit XML, as CI servers (GitLab, Jenkins, Azure Pipelines, CircleCI) show test results.

One test suite per file checked; in it one test case per rule that ran on that file (classname
`pgpath.<CODE>`, name `<CODE> <rule-name>: <file>`). A case fails when the rule has a finding at
or above --fail-on in that file (all of them in the failure's text, each with file:line:col,
message, fix and related places); findings below --fail-on are listed in the case's
system-out and leave it passing. Unreadable inputs are errored cases.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from advisor.reporters._common import rules_by_code


def _describe(f) -> str:
    out = [f"{f.span}: {f.code} {f.severity} {f.message}"]
    if f.fix:
        out.append(f"    fix: {f.fix}")
    out.extend(f"    see: {r}" for r in f.related)
    return "\n".join(out)


def _clean(text: str) -> str:
    """XML 1.0 forbids most control characters, even escaped."""
    return "".join(c if c in "\t\n\r" or c >= " " else f"\\x{ord(c):02x}" for c in text)


def render(report, **_: object) -> str:
    fail_on = report.settings.fail_on
    rules = rules_by_code(report)
    kinds = {}  # every file read, in read order, with the kind of its first document
    for d in report.docs:
        for name in d.files or [d.path]:
            kinds.setdefault(name, d.kind)
    files = list(kinds)
    for f in report.findings:
        if f.span.file not in kinds:
            files.append(f.span.file)
            kinds[f.span.file] = None
    suites = []
    total = failures = errors = 0
    for file in files:
        found: dict[str, list] = {}
        for f in report.findings:
            if f.span.file == file:
                found.setdefault(f.code, []).append(f)
        codes = [r.code for r in rules.values()
                 if not r.needs or any(kinds.get(file) in need.split("|") for need in r.needs)] + list(found)
        cases = []
        suite_failures = 0
        for code in dict.fromkeys(codes):
            info = rules.get(code)
            name = f"{code} {info.name if info else ''}".strip()
            hits = found.get(code, [])
            failing = [f for f in hits if f.severity >= fail_on]
            head = f'    <testcase classname={quoteattr("pgpath." + code)} name={quoteattr(f"{name}: {file}")}' \
                   f' file={quoteattr(file)}'
            if failing:
                suite_failures += 1
                first = failing[0]
                msg = f"{len(failing)} finding{'s' if len(failing) != 1 else ''}: {first.message}"
                text = "\n".join(_describe(f) for f in failing)
                body = (f'      <failure message={quoteattr(_clean(msg))} type={quoteattr(str(first.severity))}>'
                        f'{escape(_clean(text))}</failure>\n')
            else:
                body = ""
            quiet = [f for f in hits if f.severity < fail_on]
            if quiet:
                body += f'      <system-out>{escape(_clean(chr(10).join(_describe(f) for f in quiet)))}</system-out>\n'
            cases.append(f"{head}>\n{body}    </testcase>" if body else f"{head}/>")
        total += len(cases)
        failures += suite_failures
        suites.append(f'  <testsuite name={quoteattr(file)} tests="{len(cases)}" failures="{suite_failures}" '
                      f'errors="0" skipped="0">\n' + "\n".join(cases) + ("\n" if cases else "") + "  </testsuite>")
    if report.input_errors:
        cases = []
        for e in report.input_errors:
            where = f"{e.path}:{e.line}" if e.line else e.path
            cases.append(f'    <testcase classname="pgpath.input" name={quoteattr(e.path)}>\n'
                         f'      <error message={quoteattr(_clean("cannot read: " + e.message))} type="input">'
                         f'{escape(_clean(where + ": " + e.message))}</error>\n    </testcase>')
        errors += len(cases)
        total += len(cases)
        suites.append(f'  <testsuite name="unreadable inputs" tests="{len(cases)}" failures="0" errors="{len(cases)}"'
                      f' skipped="0">\n' + "\n".join(cases) + "\n  </testsuite>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="pgpath" tests="{total}" failures="{failures}" errors="{errors}">\n'
            + "\n".join(suites) + ("\n" if suites else "") + "</testsuites>\n")
