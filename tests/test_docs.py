"""The rule pages in docs/rules/ are exactly what scripts/gen_docs.py writes today."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_rule_docs_are_current():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = ROOT / "docs" / "rules"
    wanted = module.pages()
    stale = [name for name, text in wanted.items()
             if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text]
    extra = [p.name for p in folder.glob("*.md") if p.name not in wanted]
    assert not stale and not extra, f"run scripts/gen_docs.py (stale: {stale}, extra: {extra})"
