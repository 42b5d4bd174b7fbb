"""What the PostgreSQL rules share: where to point and how to say a value.

The value of a parameter (written, or the major's default) is `advisor.catalog.value_or_default`;
it returns the setting that gave it, or None for a default, so messages can tell
"set on line 12" from "not set: default".
"""

from __future__ import annotations

from advisor.model import ConfigDoc, Setting, Span


def where(doc: ConfigDoc, setting: Setting | None) -> Span:
    """The span to report: the setting's value, or the top of the file for a default."""
    if setting is not None:
        return setting.value_span or setting.span
    return Span(doc.path, 1, 1)


def assignments(doc: ConfigDoc, pairs, join=None) -> str:
    """Several assignments (advisor.model.pg_parameters.assignment), with a shared ` in <where>`
    said once (rules.rule.listed_once)."""
    from advisor.model.pg_parameters import assignment
    from advisor.rules.rule import listed, listed_once

    return listed_once([assignment(doc, name, value) for name, value in pairs], join or listed)


def read_later_unread(doc: ConfigDoc, setting: Setting) -> dict | None:
    """The first include PostgreSQL reads after `setting` that pgpath did not read (made at deploy
    time, in a template), or None: a later line wins, so what it holds may set the parameter again.
    An include in another file than the setting's cannot be ordered with it and counts too. A
    server's command line (`postgres -c name=value` in a compose file or manifest) overrides every
    configuration file, so a mounted file pgpath did not read never sets its values again."""
    if doc.meta.get("overrides_file"):
        return None  # the settings read are the command line's
    for inc in doc.meta.get("unresolved_includes", ()):
        if inc.get("file") != setting.span.file or (inc.get("line") or 0) > (setting.span.line or 0):
            return inc
    return None


def describe(setting: Setting | None, name: str, shown: str) -> str:
    """`tcp_keepalives_idle = 0` or `tcp_keepalives_idle not set (default 0)`."""
    if setting is None:
        return f"{name} not set (default {shown})"
    return f"{name} = {setting.raw}"


def said(name: str, setting: Setting | None, figure: str, operator: tuple | list = (),
         refused: dict | None = None, by: str = "the operator") -> str:
    """A term of a sum with its value as the file writes it, the figure after it when they differ:
    `shared_buffers 8GB`, `shared_buffers 1048576 (8 GB)`; `name figure` for a default; `(the
    operator's default)` after a value an operator or its image sets when the file does not
    (`operator`: the document's meta["operator_settings"]); Patroni's default in place of a value
    it refused (`refused`: advisor.model.patroni.refused_values, name -> the value written); `by`
    names whose default it is (meta["defaults_by"]: Spilo, the Zalando operator's image)."""
    raw = getattr(setting, "raw", None)
    if not isinstance(raw, str) or not raw:
        return f"{name} {figure}"
    if refused and name in refused:  # Patroni refused the value written: it runs its default
        return f"{name} {raw} (Patroni's default: it refuses the {refused[name]} written)"
    if name in operator:
        return f"{name} {raw} ({by}'s default)"

    def norm(text: str) -> str:
        return text.strip().strip("'\"").replace(" ", "").lower()

    return f"{name} {raw}" if norm(raw) == norm(figure) else f"{name} {raw} ({figure})"


def patroni_judged(rule, doc, d, consequence: str):
    """A loader diagnostic about a value Patroni checks before it writes postgresql.conf (a server
    it manages): a warning that says what Patroni does with it (`consequence`), since PostgreSQL
    never sees the value; the diagnostic as it is otherwise (PG002, PG003)."""
    from advisor.findings import Severity
    from advisor.model.patroni import patroni_checks_value

    if patroni_checks_value(doc, d.span):
        return rule.finding(d.span, f"{d.message.rstrip('.')}; {consequence}", d.fix, d.related,
                            severity=Severity.WARNING)
    return rule.from_diagnostic(d)
