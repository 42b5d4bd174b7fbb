"""`pgpath report`: the review report as HTML (rendered in a real headless Chromium through
Playwright: no console errors, nothing fetched, the expected sections, a non-empty screenshot)
and as Markdown (rendered by cmark-gfm, GitHub's renderer)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("PGPATH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def pgpath(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


@pytest.fixture
def risky(tmp_path):
    shutil.copytree(ROOT / "samples" / "risky", tmp_path / "risky")
    (tmp_path / "risky" / "notes.txt").write_text("not a configuration file\n")
    return tmp_path


def _browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set PGPATH_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is a test extra "
                                                                 "(pip install playwright; no browser download)")
    return sync_api


def _expected(folder):
    """What `pgpath check` finds in the folder: every report must show the same."""
    import json

    findings = json.loads(pgpath("check", "risky", "--no-config", "--format", "json", cwd=folder).stdout)["findings"]
    return {"total": len(findings), "error": sum(f["severity"] == "error" for f in findings),
            "warning": sum(f["severity"] == "warning" for f in findings),
            "files": len({f["span"]["file"] for f in findings}), "codes": len({f["code"] for f in findings}),
            "documents": len(json.loads(pgpath("check", "risky", "--no-config", "--format", "json",
                                               cwd=folder).stdout)["documents"])}


def test_report_html_in_a_real_browser(risky):
    want = _expected(risky)
    r = pgpath("report", "risky", "--no-config", "-o", "report.html", cwd=risky)
    assert r.returncode == 0, r.stderr
    assert f"wrote report.html: {want['total']} findings" in r.stderr
    page_file = risky / "report.html"
    sync_api = _browser()
    requests, console = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: console.append((m.type, m.text)))
            page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
            page.on("request", lambda req: requests.append(req.url))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            assert page.title() == "pgpath report"
            assert page.locator("h1").inner_text() == "pgpath report"
            assert page.locator("#count-error b").inner_text() == str(want["error"])
            assert page.locator("#count-warning b").inner_text() == str(want["warning"])
            assert page.locator("tr.finding").count() == want["total"] > 15
            assert page.locator("tr.finding.error").count() == want["error"]
            assert page.locator("section.file").count() == want["files"]
            assert page.locator("#rules tbody tr").count() >= want["codes"]
            # each assembled path drawn: one box per hop, the first hop to close an idle connection marked
            figures = page.locator("#paths figure.path")
            paths = [p for p in json.loads(pgpath("path", "risky", "--no-config", "--format", "json",
                                                  cwd=risky).stdout)["paths"] if len(p["hops"]) > 1]
            assert figures.count() == len(paths) == 2
            for i, path in enumerate(paths):
                assert figures.nth(i).locator("svg g.hop").count() == len(path["hops"])
            first = paths[0]["idle"]["closed_by"]
            assert page.locator("#path-1 svg g.hop.closes-first").count() == 1
            assert page.locator("#path-1 svg g.hop.closes-first").get_attribute("data-kind") == \
                paths[0]["hops"][first["hop"]]["kind"]
            assert page.locator("#path-1 svg g.timer.first").count() == 1
            assert page.locator("#path-1 svg g.keepalive").count() == len(paths[0]["legs"])  # one bar per leg
            svg_box = page.locator("#path-1 svg").bounding_box()
            assert svg_box and svg_box["width"] > 600 and svg_box["height"] > 100
            assert "work_mem = 36MB" in page.locator("tr.finding.info", has_text="MEM001").inner_text()
            assert page.locator("#inputs li").count() == want["documents"]
            assert "risky/notes.txt" in page.locator("#skipped").inner_text()
            assert "64 GiB" in page.locator("#assumptions").inner_text()
            # the page is laid out: the findings table is visible and wider than half the viewport
            box = page.locator("section.file table").first.bounding_box()
            assert box and box["width"] > 640 and box["height"] > 50
            shot = page.screenshot(full_page=True)
        finally:
            browser.close()
    assert not [c for c in console if c[0] in ("error", "pageerror", "warning")], console
    assert all(u.startswith("file://") for u in requests), requests  # nothing from the network
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000


def test_report_markdown_renders_as_gfm(risky):
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm (GitHub's cmark-gfm) is a test extra")
    r = pgpath("report", "risky", "--no-config", "-o", "report.md", cwd=risky)
    assert r.returncode == 0, r.stderr
    html = cmarkgfm.github_flavored_markdown_to_html((risky / "report.md").read_text())
    assert html.count("<table>") == 2
    for heading in ("Inputs read", "Inputs skipped", "Assumptions"):
        assert f"<h3>{heading}</h3>" in html
    assert "<code>risky/notes.txt</code>: not a configuration file pgpath reads" in html
    assert "<code>risky/conf.d/20-logging.conf</code>: not" not in html  # read as an include, not skipped
    assert re.search(r"<li>risky/app/\.env: placeholders such as \$\{VAR\} are unknown values", html)
    # stdout when no file is named
    r = pgpath("report", "risky", "--no-config", cwd=risky)
    assert r.stdout.startswith(f"## pgpath report: {_expected(risky)['total']} findings")


def test_report_usage_errors(risky):
    r = pgpath("report", "risky", "--no-config", "-o", "report.pdf", cwd=risky)
    assert r.returncode == 2 and "name it .html or .md" in r.stderr
    r = pgpath("report", "nowhere", "--no-config", "-o", "r.html", cwd=risky)
    assert r.returncode == 0 and "no such file or directory" in (risky / "r.html").read_text()


def test_paths_are_drawn_by_the_given_function():
    """The seam for the assembled connection path: one figure per path, its SVG from `draw`."""
    from advisor.reporters.review import paths_html

    class P:
        def __init__(self, name):
            self.name = name

    out = paths_html([P("app -> pgbouncer -> postgres"), P("worker -> haproxy -> postgres")],
                     draw=lambda p: f'<svg class="hops" data-n="{len(p.name.split("->"))}"></svg>')
    assert out.count("<figure") == 2 and out.count('<svg class="hops" data-n="3">') == 2
    assert "app -&gt; pgbouncer -&gt; postgres" in out
    assert paths_html([]) == ""
