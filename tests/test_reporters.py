"""Every output format from one report: SARIF (against the official 2.1.0 schema), GitHub
workflow commands, JUnit XML, GitLab Code Quality, GitHub-flavoured Markdown (rendered by
cmark-gfm, GitHub's own renderer) and HTML; several formats in one run with --output F=PATH."""

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = ROOT.parent / "shared" / "reference" / "sarif-schema-2.1.0.json"
FORMATS = ["text", "json", "sarif", "github", "junit", "gitlab", "markdown", "html"]


def pgpath(*args, cwd, env=None):
    run_env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    run_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=cwd,
                          env=run_env, timeout=120)


@pytest.fixture
def risky(tmp_path):
    """samples/risky copied (so lines can be moved), run from its parent as from a repo root."""
    shutil.copytree(ROOT / "samples" / "risky", tmp_path / "risky")
    return tmp_path


def check(cwd, fmt, *extra):
    r = pgpath("check", "risky", "--no-config", "--format", fmt, *extra, cwd=cwd)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stderr == ""
    return r.stdout


def _count(folder) -> int:
    """The number of findings pgpath reports on the folder (every format must show them all)."""
    return len(json.loads(check(folder, "json"))["findings"])


# ---------------------------------------------------------------------------------------- SARIF


def test_sarif_validates_against_the_official_schema(risky):
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"../shared/reference/sarif-schema-2.1.0.json is absent ({SARIF_SCHEMA})")
    import jsonschema

    data = json.loads(check(risky, "sarif"))
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(data))
    assert not errors, [e.message for e in errors[:5]]
    # and it is not a trivially valid document
    assert len(data["runs"][0]["results"]) == len(json.loads(check(risky, "json"))["findings"]) > 15


def test_sarif_rules_levels_locations_and_related(risky):
    data = json.loads(check(risky, "sarif"))
    run = data["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    results = run["results"]
    assert {r["ruleId"] for r in results} <= set(ids)
    for r in rules:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert "## What it checks" in r["help"]["text"] or r["id"].startswith("ADV"), r["id"]
        assert "helpUri" not in r  # pgpath has no site of its own: no link unless rule-docs-url says where
    assert "informationUri" not in run["tool"]["driver"]
    mem = next(r for r in results if r["ruleId"] == "MEM001")
    assert ids[mem["ruleIndex"]] == "MEM001"
    assert mem["level"] == "note"  # estimates that need every connection busy: info (a SARIF note)
    loc = mem["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "risky/conf.d/10-memory.conf", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 3 and loc["region"]["startColumn"] == 12
    assert len(mem["relatedLocations"]) == 4
    assert {r["physicalLocation"]["artifactLocation"]["uri"] for r in mem["relatedLocations"]} == {
        "risky/conf.d/10-memory.conf", "risky/postgresql.conf"}
    assert "fix: work_mem = 36MB" in mem["message"]["text"]
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["PGB014"] == "note" and levels["TLS001"] == "note"  # an exposure: info, tagged security
    tags = {r["id"]: r["properties"]["tags"] for r in rules}
    assert "security" in tags["TLS001"] and "security" in tags["PGB017"] and "security" not in tags["MEM001"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == risky.as_uri() + "/"


def _fingerprints(data):
    return sorted((r["ruleId"], r["partialFingerprints"]["pgpathContent/v1"]) for r in data["runs"][0]["results"])


def test_sarif_fingerprints_survive_moved_lines_and_change_with_content(risky):
    before = json.loads(check(risky, "sarif"))
    fps = _fingerprints(before)
    assert len({fp for _, fp in fps}) == len(fps)  # distinct
    for name in ("postgresql.conf", "pgbouncer.ini", "haproxy.cfg", "conf.d/10-memory.conf"):
        path = risky / "risky" / name
        path.write_text("# moved down\n\n\n" + path.read_text())
    after = json.loads(check(risky, "sarif"))
    assert _fingerprints(after) == fps
    starts = {r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
              for r in after["runs"][0]["results"]}
    assert starts["MEM001"] == 3 + 3  # the lines did move
    conf = risky / "risky" / "postgresql.conf"
    conf.write_text(conf.read_text().replace("idle_session_timeout = 0.5 ", "idle_session_timeout = 0.4 "))
    assert "= 0.4 " in conf.read_text()
    changed = dict(_fingerprints(json.loads(check(risky, "sarif"))))
    assert changed["PG012"] != dict(fps)["PG012"]


# --------------------------------------------------------------------------------------- GitHub


def test_github_escaping():
    from advisor.reporters.github import escape_data, escape_property

    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_github_workflow_commands(risky):
    out = check(risky, "github").splitlines()
    pattern = re.compile(r"^::(error|warning|notice) file=[^,:]+,line=\d+,col=\d+(,endLine=\d+)?(,endColumn=\d+)?,"
                         r"title=[A-Z]+\d{3} [a-z-]+::[^\r\n]+$")
    annotations = [ln for ln in out if ln.startswith("::")]
    assert len(annotations) == _count(risky)
    assert all(pattern.match(ln) for ln in annotations), [ln for ln in annotations if not pattern.match(ln)][:2]
    mem = next(ln for ln in annotations if "MEM001" in ln)
    assert mem.startswith("::notice file=risky/conf.d/10-memory.conf,line=3,col=12,")
    assert "%0Afix: work_mem = 36MB" in mem and "%0Asee: risky/postgresql.conf:6:19" in mem
    infos = sum(f["severity"] == "info" for f in json.loads(check(risky, "json"))["findings"])
    assert sum(ln.startswith("::notice") for ln in annotations) == infos > 0
    assert out[-1].startswith(f"pgpath: {_count(risky)} findings")


def test_github_is_the_default_under_github_actions(risky):
    r = pgpath("check", "risky", "--no-config", cwd=risky, env={"GITHUB_ACTIONS": "true"})
    assert r.stdout.startswith("::"), r.stdout[:200]
    r = pgpath("check", "risky", "--no-config", "--format", "text", cwd=risky, env={"GITHUB_ACTIONS": "true"})
    assert r.stdout.startswith("risky/")
    r = pgpath("check", "risky", "--no-config", cwd=risky)
    assert r.stdout.startswith("risky/")


# ---------------------------------------------------------------------------------------- JUnit


def test_junit_one_case_per_rule_and_file(risky):
    root = ET.fromstring(check(risky, "junit"))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    names = [c.get("name") for c in cases]
    assert len(names) == len(set(names))
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    # findings at or above --fail-on (warning) fail their case; info findings do not
    assert "PGB003 pgbouncer-unit-suffix: risky/pgbouncer.ini" in failed
    assert not any(n.startswith(("PGB014", "MEM001")) for n in failed)
    pgb014 = next(c for c in cases if c.get("name") == "PGB014 pgbouncer-idle-transaction-timeout: risky/pgbouncer.ini")
    assert "idle_transaction_timeout = 0" in pgb014.find("system-out").text
    # passing cases: rules that ran on a file and found nothing there
    assert "TLS003 tls-range-empty: risky/postgresql.conf" in names
    assert "TLS003 tls-range-empty: risky/pgbouncer.ini" not in names  # a postgresql rule, not run on PgBouncer
    findings = json.loads(check(risky, "json"))["findings"]
    expected = {(f["code"], f["span"]["file"]) for f in findings if f["severity"] in ("error", "warning")}
    assert int(root.get("failures")) == len(failed) == len(expected) > 5
    assert int(root.get("tests")) == len(cases)
    mem = next(c for c in cases if c.get("name") == "MEM001 worst-case-memory: risky/conf.d/10-memory.conf")
    assert mem.find("failure") is None and "fix: work_mem = 36MB" in mem.find("system-out").text  # an info


def test_junit_unreadable_input_is_an_error_case(tmp_path):
    (tmp_path / "postgresql.conf").write_bytes(b"\x00\x01binary")
    r = pgpath("check", "postgresql.conf", "missing.conf", "--no-config", "--format", "junit", cwd=tmp_path)
    assert r.returncode == 2
    root = ET.fromstring(r.stdout)
    assert int(root.get("errors")) == 2


# --------------------------------------------------------------------------------------- GitLab


def test_gitlab_code_quality(risky):
    issues = json.loads(check(risky, "gitlab"))
    assert len(issues) == _count(risky)
    for i in issues:
        assert set(i) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert i["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert not i["location"]["path"].startswith("/")
        assert isinstance(i["location"]["lines"]["begin"], int)
    assert len({i["fingerprint"] for i in issues}) == _count(risky)
    sev = {i["check_name"]: i["severity"] for i in issues}
    assert sev["PGB003"] == "critical" and sev["MEM001"] == "info" and sev["PGB014"] == "info"
    mem = next(i for i in issues if i["check_name"] == "MEM001")
    assert mem["location"] == {"path": "risky/conf.d/10-memory.conf", "lines": {"begin": 3, "end": 3}}


# ------------------------------------------------------------------------------------- Markdown


def test_markdown_renders_as_github_flavoured_markdown(risky):
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm (GitHub's cmark-gfm) is a test extra")
    # a client whose APP001 message names ~/.postgresql/root.crt: a tilde GFM must not strike through
    (risky / "risky" / "app" / "report.py").write_text(
        'import psycopg\n\nconn = psycopg.connect("postgresql://report@db.internal/app?sslmode=require")\n')
    md = check(risky, "markdown")
    html = cmarkgfm.github_flavored_markdown_to_html(md)
    assert html.count("<table>") == 2
    findings = json.loads(check(risky, "json"))["findings"]
    assert re.search(rf"<h2>pgpath: {len(findings)} findings", html)
    files = {f["span"]["file"] for f in findings}
    assert len(re.findall(r"<h3><code>risky/", html)) == len(files) > 4  # one heading per file with findings
    assert "MEM001" in html and "<a href" not in html  # no rule-docs-url: no link to a page that may not exist
    assert "Each rule's documentation: <code>pgpath explain CODE</code>" in html
    # text from the files renders literally: underscores, tildes and angle brackets survive
    assert "idle_session_timeout = 0.5 rounds to 0ms" in html
    assert "(~/.postgresql/root.crt)" in html
    assert "sslrootcert=&lt;CA file&gt;" in html


def test_markdown_escapes_what_would_break_a_table_or_inject_html():
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm (GitHub's cmark-gfm) is a test extra")
    from advisor.reporters.markdown import code, md

    nasty = "a | b *c* <img src=x> `d` _e_ [f](g) $x$ & ~~s~~"
    out = cmarkgfm.github_flavored_markdown_to_html(f"| h |\n|---|\n| {md(nasty)} |\n")
    cell = re.search(r"<td>(.*)</td>", out).group(1)
    assert cell == "a | b *c* &lt;img src=x&gt; `d` _e_ [f](g) $x$ &amp; ~~s~~"
    out = cmarkgfm.github_flavored_markdown_to_html(code("x `y` z"))
    assert "<code>x `y` z</code>" in out


# ----------------------------------------------------------------------------------------- HTML


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.ids, self.stack, self.attrs = [], set(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        self.ids.update(v for k, v in attrs if k == "id")
        if tag not in ("meta", "br", "img", "link", "input", "hr"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def test_html_is_self_contained_and_well_formed(risky):
    page = check(risky, "html")
    p = _Collect()
    p.feed(page)
    assert p.stack == []
    assert "script" not in p.tags and "link" not in p.tags and "img" not in p.tags
    assert not any(k in ("src", "srcset") for k, _ in p.attrs)
    assert "@import" not in page and not re.search(r"url\((?!#)", page)  # only in-page references (SVG markers)
    assert {"summary", "rules", "inputs", "assumptions"} <= p.ids
    assert page.count('<tr class="finding') == _count(risky)
    assert "work_mem = 36MB" in page


# ------------------------------------------------------------------------ several formats at once


def test_several_formats_in_one_run(risky):
    r = pgpath("check", "risky", "--no-config", "--output", "sarif=out/pgpath.sarif", "--output", "github=-",
               "--output", "junit=junit.xml", cwd=risky)
    (risky / "out").mkdir(exist_ok=True)
    r = pgpath("check", "risky", "--no-config", "--output", "sarif=out/pgpath.sarif", "--output", "github=-",
               "--output", "junit=junit.xml", cwd=risky)
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("::")  # github on stdout, no text report besides
    assert json.loads((risky / "out" / "pgpath.sarif").read_text())["version"] == "2.1.0"
    ET.fromstring((risky / "junit.xml").read_text())
    # --format still prints its report; a plain --output FILE keeps its meaning (the --format report)
    r = pgpath("check", "risky", "--no-config", "-f", "json", "-o", "report.json", "-o", "gitlab=gl.json", cwd=risky)
    assert r.stdout == ""
    assert json.loads((risky / "report.json").read_text())["tool"] == "pgpath"
    assert isinstance(json.loads((risky / "gl.json").read_text()), list)


def test_output_errors(risky):
    r = pgpath("check", "risky", "--no-config", "-o", "nosuch=x.txt", cwd=risky)
    assert r.returncode == 2 and "unknown format 'nosuch'" in r.stderr
    r = pgpath("check", "risky", "--no-config", "-o", "sarif=-", "-o", "github=-", cwd=risky)
    assert r.returncode == 2 and "only one report can go to stdout" in r.stderr
    r = pgpath("check", "risky", "--no-config", "-o", "sarif=nodir/x.sarif", cwd=risky)
    assert r.returncode == 2 and "cannot write nodir/x.sarif" in r.stderr


def test_reporters_are_imported_only_when_chosen(tmp_path):
    (tmp_path / "postgresql.conf").write_text("ssl = on\n")
    code = ("import sys, runpy; sys.argv=['pgpath','check','postgresql.conf','--no-config'];\n"
            "from advisor.cli import run_app; run_app();\n"
            "print(sorted(m for m in sys.modules if m.startswith('advisor.reporters')), file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.stderr.strip().splitlines()[-1] == "['advisor.reporters', 'advisor.reporters.text']"


def test_rule_docs_url_links_each_rule_in_sarif_markdown_and_html(risky):
    """A team that publishes the rule pages (rule-docs-url in pgpath.yaml) gets each rule linked there;
    a URL without {code} is refused with the key's name, exit 2."""
    (risky / "pgpath.yaml").write_text("rule-docs-url: https://wiki.example.org/pgpath/{code}.html\n")
    r = pgpath("check", "risky", "--format", "sarif", cwd=risky)
    rules = json.loads(r.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert rules and all(x["helpUri"] == f"https://wiki.example.org/pgpath/{x['id']}.html" for x in rules)
    for fmt, link in (("markdown", "[MEM001](https://wiki.example.org/pgpath/MEM001.html)"),
                      ("html", '<a href="https://wiki.example.org/pgpath/MEM001.html">MEM001</a>')):
        out = pgpath("check", "risky", "--format", fmt, cwd=risky).stdout
        assert link in out and "pgpath explain CODE" not in out, fmt
    (risky / "pgpath.yaml").write_text("rule-docs-url: https://wiki.example.org/pgpath/\n")
    r = pgpath("check", "risky", cwd=risky)
    assert r.returncode == 2 and "rule-docs-url" in r.stderr and "Traceback" not in r.stderr, r.stderr
