"""SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

One run; `tool.driver.rules` holds every rule that ran or reported (short and full description,
help text and URI, default level); each result names its rule by id and index, its level
(error/warning/note from the severity), its primary location (an artifact URI relative to the
working directory, `uriBaseId` %SRCROOT%, with a region), the other places that take part as
`relatedLocations`, the fix in its message, and `partialFingerprints` computed from the
finding's content (rule, file, message with line numbers masked), so alerts keep their identity
when lines move. Unreadable inputs are tool execution notifications.
"""

from __future__ import annotations

import os

from advisor import __version__
from advisor.findings import fingerprints
from advisor.model import Span
from advisor.reporters import jsontext
from advisor.reporters import notices
from advisor.reporters._common import first_line, relative

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _artifact(path: str) -> dict:
    rel = relative(path)
    if rel is not None:
        return {"uri": _quote(rel), "uriBaseId": "%SRCROOT%"}
    from pathlib import Path

    return {"uri": Path(os.path.abspath(path)).as_uri()}


def _quote(rel: str) -> str:
    from urllib.parse import quote

    return quote(rel, safe="/")


def _location(span, message: str | None = None) -> dict:
    physical: dict = {"artifactLocation": _artifact(span.file)}
    if span.line:
        region = {"startLine": span.line}
        if span.col:
            region["startColumn"] = span.col
        if span.end_line:
            region["endLine"] = max(span.end_line, span.line)
        if span.end_col and span.end_line == span.line and span.col and span.end_col > span.col:
            region["endColumn"] = span.end_col
        physical["region"] = region
    loc: dict = {"physicalLocation": physical}
    if span.key:
        loc["logicalLocations"] = [{"fullyQualifiedName": span.key, "kind": "member"}]
    if message:
        loc["message"] = {"text": message}
    return loc


def _rule(info) -> dict:
    doc = (info.doc or "").strip()
    title = first_line(doc) or info.summary
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": title},
        "help": {"text": doc or info.summary, "markdown": doc or info.summary},
        **({"helpUri": info.help_uri} if info.help_uri else {}),
        "defaultConfiguration": {"level": LEVELS[str(info.severity)]},
        "properties": {"tags": ["postgresql", "configuration"] + (["security"] if info.security else [])},
    }


def render(report, **_: object) -> str:
    rules = list(report.rules)
    known = {r.code for r in rules}
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for f, fp in zip(report.findings, fingerprints(report.findings)):
        text = f.message + (f"\nfix: {f.fix}" if f.fix else "")
        result: dict = {
            "ruleId": f.code,
            "level": LEVELS[str(f.severity)],
            "message": {"text": text},
            "locations": [_location(f.span)],
            "partialFingerprints": {"pgpathContent/v1": fp},
        }
        if f.code in known:
            result["ruleIndex"] = index[f.code]
        if f.related:
            result["relatedLocations"] = [dict(_location(r, "related place"), id=i + 1)
                                          for i, r in enumerate(f.related)]
        if f.fix:
            result["properties"] = {"fix": f.fix}
        results.append(result)
    notifications = []
    for e in report.input_errors:
        n: dict = {"level": "error", "message": {"text": f"cannot read: {e.message}"},
                   "locations": [_location(Span(e.path, e.line))]}
        notifications.append(n)
    for span, message in notices(report):
        notifications.append({"level": "warning", "message": {"text": f"not read: {message}"},
                              "locations": [_location(span)]})
    cwd = os.getcwd()
    base_uri = __import__("pathlib").Path(cwd).as_uri().rstrip("/") + "/"
    from advisor.redact import shown_roots

    settings = getattr(report, "settings", None)
    if shown_roots(getattr(settings, "paths", None) or ()):
        # paths given outside the working directory are shown relative to what was checked (no
        # absolute path of this machine in any output): the working directory is not their base,
        # and the consumer (a code-scanning upload from the repository's root) supplies its own
        base = {"description": {"text": "the folder above each path given on the command line"}}
    else:
        base = {"uri": base_uri}
    data = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pgpath",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(r) for r in rules],
            }},
            "originalUriBaseIds": {"%SRCROOT%": base},
            "invocations": [{
                "executionSuccessful": not report.input_errors,
                "exitCode": report.exit_code,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return jsontext.dumps(data) + "\n"  # json.dumps(data, indent=2, ensure_ascii=False), faster

