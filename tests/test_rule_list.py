"""The explicit rule list is complete and consistent, and each rule documents itself."""

import importlib
import pkgutil
import re
from pathlib import Path

import advisor.rules
from advisor.rules import ALL_RULES, find_rule

RULES_DIR = Path(__file__).resolve().parent / "rules"
SECTIONS = ("## What it checks", "## Why it matters", "## Fix", "## References")


def rule_modules():
    for family in pkgutil.iter_modules(advisor.rules.__path__):
        if not family.ispkg:
            continue
        package = importlib.import_module(f"advisor.rules.{family.name}")
        for mod in pkgutil.iter_modules(package.__path__):
            if not re.match(r"[a-z]{2,4}\d{3}_", mod.name):
                continue  # shared helpers of a family (common.py), not rules
            yield importlib.import_module(f"advisor.rules.{family.name}.{mod.name}")


def test_every_rule_module_is_listed():
    listed = {id(r) for r in ALL_RULES}
    for module in rule_modules():
        assert hasattr(module, "RULE"), f"{module.__name__} defines no RULE"
        assert id(module.RULE) in listed, f"{module.__name__} is not in ALL_RULES"
        code = module.__name__.rsplit(".", 1)[1].split("_")[0].upper()
        assert module.RULE.code == code, f"{module.__name__}: file name and code {module.RULE.code} disagree"


def test_codes_and_names_are_unique_and_well_formed():
    codes = [r.code for r in ALL_RULES]
    names = [r.name for r in ALL_RULES]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))
    for r in ALL_RULES:
        assert re.fullmatch(r"[A-Z]{2,4}\d{3}", r.code), r.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name), r.name
        assert find_rule(r.code) is r and find_rule(r.name) is r


def test_every_rule_documents_itself():
    for r in ALL_RULES:
        for section in SECTIONS:
            assert section in r.doc, f"{r.code} lacks {section!r}"


def test_every_rule_has_bad_and_good_cases():
    for r in ALL_RULES:
        folder = RULES_DIR / r.code
        assert folder.is_dir(), f"no fixture folder tests/rules/{r.code}"
        names = [p.name for p in folder.iterdir()]
        assert any(n.startswith("bad") and not n.endswith(".expected") for n in names), f"{r.code}: no bad case"
        assert any(n.startswith("good") and not n.endswith(".expected") for n in names), f"{r.code}: no good case"
