"""Write advisor/catalogs/pgNN.py from the dumped advisor/catalogs/pgNN.json.

The JSON files (written by scripts/dump_pg_catalog.py) are the record of what each server
said; pgpath reads the generated Python modules instead: importing one is a single
unmarshal of a constant tuple from its cached bytecode, where reading the JSON costs the json
package's import and a parse on every run (pgpath runs in pre-commit hooks). A test checks
that the modules match the JSON.

    python scripts/build_catalogs.py            # all majors
    python scripts/build_catalogs.py --check    # exit 1 when a module is missing or stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CATALOG_DIR = Path(__file__).resolve().parent.parent / "advisor" / "catalogs"
FIELDS = ("name", "vartype", "unit", "min_val", "max_val", "enumvals", "hidden_enumvals", "boot_val", "context",
          "short_desc")


def row(setting: dict) -> tuple:
    """One setting as the loader needs it: the fields in FIELDS, lists as tuples, text as dumped."""
    return tuple(tuple(setting[f]) if isinstance(setting[f], list) else setting[f] for f in FIELDS)


def render(data: dict, source_name: str) -> str:
    lines = [
        f'"""PostgreSQL {data["major"]} settings ({data["server_version"].split(" on ")[0]}), '
        f'generated from {source_name} by scripts/build_catalogs.py: do not edit."""',
        "",
        f"SERVER_VERSION = {data['server_version']!r}",
        f"FIELDS = {FIELDS!r}",
        "SETTINGS = (",
    ]
    lines += [f"    {row(s)!r}," for s in data["settings"]]
    lines.append(")")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that the modules are current")
    args = ap.parse_args()
    stale = []
    for source in sorted(CATALOG_DIR.glob("pg*.json")):
        target = source.with_suffix(".py")
        text = render(json.loads(source.read_text(encoding="utf-8")), source.name)
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(target.name)
        elif not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    if stale:
        print(f"stale: {', '.join(stale)} (run python scripts/build_catalogs.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
