"""Per-role and per-database settings (`ALTER ROLE/DATABASE ... SET`), and which one a session gets.

The SQL loader reads migration files and scripts into documents of kind `sql`; each setting's
`section` says what it applies to:

- `system`: `ALTER SYSTEM SET` (postgresql.auto.conf);
- `database:<db>`: `ALTER DATABASE db SET` (and `ALTER ROLE ALL IN DATABASE db SET`, which
  PostgreSQL stores the same way);
- `role:<name>`: `ALTER ROLE/USER name SET`; `role:ALL` is `ALTER ROLE ALL SET` (every role);
- `role:<name>@database:<db>`: `ALTER ROLE name IN DATABASE db SET`.

A session of role R in database D starts with, from strongest to weakest (PostgreSQL's
`process_settings`, src/backend/utils/init/postinit.c): R in D, R, D, ALL roles, then the
configuration files (with ALTER SYSTEM's postgresql.auto.conf last among them). `RoleSettings`
answers that question for the path: `effective(name, role, database)` gives the SQL setting that
wins, or None when the session gets the configuration files' value.
"""

from __future__ import annotations

from typing import Iterable

from advisor.model import ConfigDoc, Record, Setting

SYSTEM = "system"
ALL_ROLES = "ALL"
RESET_RAW = "DEFAULT"  # the raw text of a RESET / SET ... TO DEFAULT occurrence


def role_section(role: str, database: str | None = None) -> str:
    return f"role:{role}" + (f"@database:{database}" if database is not None else "")


def database_section(database: str) -> str:
    return f"database:{database}"


def set_statement(section: str, name: str, value: str) -> str | None:
    """The statement that sets `name` to `value` (as SQL writes it: `'290s'`, `0`) for a section:
    `ALTER ROLE shop_app SET statement_timeout = '290s'`, `ALTER ROLE r IN DATABASE d SET ...`,
    `ALTER DATABASE d SET ...`, `ALTER SYSTEM SET ...`; None for anything else."""
    if section == SYSTEM:
        return f"ALTER SYSTEM SET {name} = {value}"
    if section.startswith("role:"):
        role, _, database = section[len("role:"):].partition("@database:")
        return f"ALTER ROLE {role}{f' IN DATABASE {database}' if database else ''} SET {name} = {value}"
    if section.startswith("database:"):
        return f"ALTER DATABASE {section[len('database:'):]} SET {name} = {value}"
    return None


class RoleSettings(Record):
    """The SQL settings of one deployment (every `sql` document given), by section and name.

    Documents are taken in the order given (as migrations run: sorted file names); within a file,
    in statement order. A later statement replaces an earlier one of the same section and name;
    `RESET name` / `SET name TO DEFAULT` / `RESET ALL` remove them (the loader marks those
    occurrences not effective, which is all this reads).
    """

    __slots__ = ("by_section",)

    def __init__(self, by_section: dict[str, dict[str, Setting]] | None = None) -> None:
        self.by_section = {} if by_section is None else by_section

    @classmethod
    def from_docs(cls, docs: Iterable[ConfigDoc]) -> "RoleSettings":
        out = cls()
        for doc in docs:
            if doc.kind != "sql":
                continue
            # RESET ALL: {"section": ..., "before": index of the next setting} in doc.meta
            resets: dict[int, list[str]] = {}
            for item in doc.meta.get("reset_all", ()):
                resets.setdefault(item["before"], []).append(item["section"])
            for index, setting in enumerate(doc.settings + [None]):
                for section in resets.get(index, ()):
                    out.by_section[section] = {}
                if setting is None or setting.section is None:
                    continue
                bucket = out.by_section.setdefault(setting.section, {})
                if setting.effective:
                    bucket[setting.name] = setting
                elif setting.raw == RESET_RAW:  # RESET name / SET name TO DEFAULT
                    bucket.pop(setting.name, None)
        return out

    def sections(self) -> list[str]:
        return sorted(self.by_section)

    def effective(self, name: str, role: str | None = None, database: str | None = None,
                  include_system: bool = False) -> Setting | None:
        """The setting a session of `role` in `database` gets for `name` from SQL, strongest first;
        None: the configuration files decide (`include_system` also looks at ALTER SYSTEM)."""
        order: list[str] = []
        if role is not None and database is not None:
            order.append(role_section(role, database))
        if role is not None:
            order.append(role_section(role))
        if database is not None:
            order.append(database_section(database))
        order.append(role_section(ALL_ROLES))
        if include_system:
            order.append(SYSTEM)
        for section in order:
            found = self.by_section.get(section, {}).get(name)
            if found is not None:
                return found
        return None

    def roles_setting(self, name: str) -> list[Setting]:
        """Every effective role or database setting of `name` (for rules that look at all of them)."""
        return [s[name] for section, s in sorted(self.by_section.items()) if section != SYSTEM and name in s]
