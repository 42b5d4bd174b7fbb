#!/usr/bin/env python3
"""Write docs/rules/<CODE>.md for every rule and docs/rules/README.md (the index).

Run after adding or changing a rule or its fixtures; tests/test_docs.py fails when the committed
pages differ from what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.docs import rule_index, rule_page  # noqa: E402
from advisor.rules import all_rules  # noqa: E402


def pages() -> dict[str, str]:
    rules = all_rules()
    out = {f"{r.code}.md": rule_page(r) for r in rules}
    out["README.md"] = rule_index(rules)
    return out


def main() -> int:
    folder = ROOT / "docs" / "rules"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = pages()
    for old in folder.glob("*.md"):
        if old.name not in wanted:
            old.unlink()
    for name, text in wanted.items():
        (folder / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(wanted)} pages to {folder.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
