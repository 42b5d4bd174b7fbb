"""The explicit rule list is complete and consistent, and each rule documents itself."""

import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import advisor.rules
from advisor.loaders import LOADERS
from advisor.model import ConfigDoc, Diagnostic, Span
from advisor.path import assemble
from advisor.rules import RULE_ENTRIES, Context, all_rules, find_entry, find_rule, load_rule
from rule_cases import run_case

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = Path(__file__).resolve().parent / "rules"
SECTIONS = ("## What it checks", "## Why it matters", "## Fix", "## References")
# (PgBouncer's go through advisor.rules.pgb.report, which words their fixes where the settings live)
REPORT_CALL = re.compile(r'\b(?:report_diagnostics|report)\(RULE, ctx, "([^"]+)"')


def rule_modules():
    for family in pkgutil.iter_modules(advisor.rules.__path__):
        if not family.ispkg:
            continue
        package = importlib.import_module(f"advisor.rules.{family.name}")
        for mod in pkgutil.iter_modules(package.__path__):
            if not re.match(r"[a-z]{2,4}\d{3}_", mod.name):
                continue  # shared helpers of a family (common.py), not rules
            yield importlib.import_module(f"advisor.rules.{family.name}.{mod.name}")


def test_every_rule_module_is_listed_and_agrees_with_its_entry():
    by_module = {e.module: e for e in RULE_ENTRIES}
    listed = set()
    for module in rule_modules():
        assert hasattr(module, "RULE"), f"{module.__name__} defines no RULE"
        relative = module.__name__[len("advisor.rules."):]
        entry = by_module.get(relative)
        assert entry is not None, f"{module.__name__} is not in RULE_ENTRIES"
        listed.add(relative)
        rule = module.RULE
        code = module.__name__.rsplit(".", 1)[1].split("_")[0].upper()
        assert rule.code == code, f"{module.__name__}: file name and code {rule.code} disagree"
        assert (entry.code, entry.name, entry.needs, entry.opt_in) == (rule.code, rule.name, rule.needs, rule.opt_in), \
            f"{module.__name__}: its entry says {(entry.code, entry.name, entry.needs, entry.opt_in)}"
        assert load_rule(entry) is rule
        # `reports` names exactly the kinds the module hands to report_diagnostics
        reported = tuple(REPORT_CALL.findall(Path(module.__file__).read_text(encoding="utf-8")))
        assert entry.reports == reported, f"{entry.code}: reports={entry.reports}, its check reports {reported}"
    assert listed == set(by_module), f"listed without a module: {set(by_module) - listed}"


def _context(needs: tuple[str, ...], diagnostic_kinds) -> Context:
    """Documents of the kinds a rule reads, each with one diagnostic of every given kind."""
    docs = []
    for kind in needs or tuple(LOADERS):
        path = f"/nowhere/{kind}.conf"
        diagnostics = [Diagnostic(d, Span(path, i + 1, 1), f"{d} in {kind}") for i, d in enumerate(diagnostic_kinds)]
        docs.append(ConfigDoc(path=path, kind=kind, diagnostics=diagnostics))
    return Context(docs=docs)


def test_a_rule_that_reports_diagnostics_finds_only_those():
    """The engine skips such a rule, unimported, when no document has a diagnostic it reports."""
    every_kind = {k for e in RULE_ENTRIES for k in e.reports} | {"some-other-kind"}
    reporting = [e for e in RULE_ENTRIES if e.reports]
    assert {"ADV001", "PG001", "PGB001", "HAP006", "APP009"} <= {e.code for e in reporting}
    for entry in reporting:
        rule = load_rule(entry)
        others = sorted(every_kind - set(entry.reports))
        assert list(rule.check(_context(entry.needs, others))) == [], entry.code
        found = list(rule.check(_context(entry.needs, entry.reports)))
        expected = [f"{d} in {k}" for k in (entry.needs or LOADERS) for d in entry.reports]
        assert sorted(f.message for f in found) == sorted(expected), entry.code


def test_a_rule_that_needs_several_kinds_finds_nothing_without_one_of_them():
    """The engine runs a rule only when every kind it needs was loaded."""
    several = [e for e in RULE_ENTRIES if len(e.needs) > 1]
    assert {"PGB012", "PGB013"} <= {e.code for e in several}
    for entry in several:
        rule = load_rule(entry)
        for case in sorted((RULES_DIR / entry.code).glob("bad*")):
            if case.name.endswith((".expected", ".options.yaml")):
                continue
            report = run_case(entry.code, case)[0]
            assert list(rule.check(Context(docs=report.docs, paths=report.paths))), \
                f"{entry.code}: {case.name} finds nothing"
            for missing in entry.needs:
                docs = [d for d in report.docs if d.kind != missing]
                ctx = Context(docs=docs, paths=assemble(docs)[0])
                assert list(rule.check(ctx)) == [], f"{entry.code} finds something without a {missing} document"


def test_codes_and_names_are_unique_and_well_formed():
    rules = all_rules()
    assert [r.code for r in rules] == [e.code for e in RULE_ENTRIES]
    codes = [r.code for r in rules]
    names = [r.name for r in rules]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))
    for r in rules:
        assert re.fullmatch(r"[A-Z]{2,4}\d{3}", r.code), r.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name), r.name
        assert find_rule(r.code) is r and find_rule(r.name) is r and find_rule(f" {r.code.lower()} ") is r
        assert find_entry(r.code).code == r.code and find_entry(r.name).code == r.code
    assert find_rule("NOPE999") is None and find_entry("no-such-rule") is None


def test_every_rule_documents_itself():
    for r in all_rules():
        for section in SECTIONS:
            assert section in r.doc, f"{r.code} lacks {section!r}"


def test_every_rule_has_bad_and_good_cases():
    for r in all_rules():
        folder = RULES_DIR / r.code
        assert folder.is_dir(), f"no fixture folder tests/rules/{r.code}"
        names = [p.name for p in folder.iterdir()]
        assert any(n.startswith("bad") and not n.endswith(".expected") for n in names), f"{r.code}: no bad case"
        assert any(n.startswith("good") and not n.endswith(".expected") for n in names), f"{r.code}: no good case"


RULE_MODULES_AFTER_CHECK = """
import contextlib, io, json, sys
from advisor.cli import run_app
sys.argv = ["pgpath", "check", "--no-config", "--ignore", "PGB001,haproxy-check,APP", sys.argv[1]]
with contextlib.redirect_stdout(io.StringIO()):
    code = run_app()
print(json.dumps([code, sorted(m for m in sys.modules if m.startswith("advisor.rules."))]))
"""


def test_checking_a_postgresql_conf_imports_only_rules_for_it():
    out = subprocess.run([sys.executable, "-c", RULE_MODULES_AFTER_CHECK, "samples/healthy/postgresql.conf"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    code, modules = json.loads(out.stdout)
    assert code == 0, out.stderr
    assert "advisor.rules.pg.pg011_idle_session_timeout_global" in modules
    assert "advisor.rules.pg.pg010_statement_timeout_in_config" not in modules  # opt-in, not selected
    assert not [m for m in modules if m.startswith(("advisor.rules.pgb", "advisor.rules.hap", "advisor.rules.app"))]
    # a healthy file has no loader diagnostics: the rules that only report them stay unimported
    assert "advisor.rules.pg.pg001_unknown_parameter" not in modules
    assert "advisor.rules.adv.adv001_syntax_error" not in modules


def test_an_opt_in_rule_runs_only_when_named(tmp_path):
    """PG010 is opt-in: ALL and its family do not run it; its code or name does; ignore still wins."""
    from advisor.engine import make_settings, selected_rules

    def codes(select, ignore=()):
        settings = make_settings({"paths": [str(tmp_path)], "select": list(select), "ignore": list(ignore)},
                                 use_config=False)
        return {e.code for e in selected_rules(settings)}

    assert "PG010" not in codes(["ALL"]) and "PG001" in codes(["ALL"])
    assert "PG010" not in codes(["PG"]) and "PG011" in codes(["PG"])
    assert "PG010" in codes(["PG010"]) and "PG010" in codes(["statement-timeout-in-config"])
    assert "PG010" in codes(["ALL", "PG010"]) and "PG001" in codes(["ALL", "PG010"])
    assert "PG010" not in codes(["PG010"], ignore=["PG010"])
    assert all(e.opt_in is False for e in RULE_ENTRIES if e.code != "PG010")
    # `pgpath rules` says how to run it
    out = subprocess.run([sys.executable, "-m", "advisor", "rules"], capture_output=True, text=True, check=True).stdout
    assert next(ln for ln in out.splitlines() if ln.startswith("PG010")).endswith("(opt-in: --select PG010)")
    assert "opt-in" not in next(ln for ln in out.splitlines() if ln.startswith("PG011"))
