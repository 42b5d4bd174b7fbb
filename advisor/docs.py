"""Rule documentation, generated from each rule's docstring and its fixture folder.

`pgpath explain CODE` prints a rule's page; `scripts/gen_docs.py` writes `docs/rules/*.md`.
The *Example* section shows the rule's own test cases (`tests/rules/<CODE>/bad*` and
`good*`) with the output pgpath gives for them, so the docs are the tests.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "rules"


def _cases(code: str) -> list[Path]:
    folder = FIXTURES / code
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.startswith(("bad", "good")) and not p.name.endswith(".expected"))


def _case_files(case: Path) -> list[Path]:
    if case.is_dir():
        return sorted(p for p in case.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [case]


def rule_page(rule) -> str:
    doc = (rule.doc or "").strip()
    title, _, body = doc.partition("\n")
    out = [f"# {rule.code} {rule.name}", "", f"*{title.strip()}*  ", f"Default severity: **{rule.severity}**", ""]
    body = body.strip()
    fix_at = body.find("## Fix")
    before, after = (body[:fix_at], body[fix_at:]) if fix_at >= 0 else (body, "")
    out.append(before.strip())
    out.append("")
    examples = _examples(rule.code)
    if examples:
        out.append("## Example")
        out.append("")
        out.extend(examples)
    if after:
        out.append(after.strip())
    return "\n".join(out).rstrip() + "\n"


def _examples(code: str) -> list[str]:
    lines: list[str] = []
    for case in _cases(code):
        label = "Problem" if case.name.startswith("bad") else "Fixed"
        lines.append(f"**{label}** (`{case.name}`):")
        lines.append("")
        base = case if case.is_dir() else case.parent
        for f in _case_files(case):
            rel = f.relative_to(base) if case.is_dir() else f.name
            lines.append(f"`{rel}`:")
            lines.append("```")
            lines.append(f.read_text(encoding="utf-8", errors="replace").rstrip("\n"))
            lines.append("```")
        expected = case.parent / (case.name + ".expected")
        if expected.is_file():
            text = expected.read_text(encoding="utf-8").rstrip("\n")
            lines.append("pgpath says:" if text else "pgpath says nothing.")
            if text:
                lines.append("```")
                lines.append(text)
                lines.append("```")
        lines.append("")
    return lines
