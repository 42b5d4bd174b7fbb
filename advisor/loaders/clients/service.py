"""pg_service.conf: libpq connection service file (`[service]` sections of keyword=value lines).

Read as libpq's parseServiceFile reads it: leading and trailing white space of each line is
dropped, empty lines and lines starting with `#` are skipped, `[name]` starts a service, every
other line must be `keyword=value` (split at the first `=`, no quoting); an unknown keyword or a
line without `=` is an error libpq reports when a client uses that service.
"""

from __future__ import annotations

from advisor.loaders.clients.build import Builder, libpq_endpoint, param_value
from advisor.model.client import ClientEndpoint, Value
from advisor.loaders.clients.extract import record
from advisor.model import ConfigDoc, Diagnostic, Span


def service_endpoints(doc: ConfigDoc, b: Builder, path: str, text: str) -> list[ClientEndpoint]:
    from advisor.loaders.clients.libpq import KNOWN_KEYWORDS, SECRET_KEYWORDS

    out: list[ClientEndpoint] = []
    current: tuple[str, Span, dict[str, Value]] | None = None

    def close() -> None:
        if current is not None and current[2]:
            name, span, params = current
            out.append(libpq_endpoint(b, f"service {name}", span, "service", params))

    for lineno, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        lead = len(line) - len(line.lstrip())
        if stripped.startswith("["):
            close()
            name = stripped[1:].split("]", 1)[0]
            current = (name, Span(path, lineno, lead + 1, lineno, lead + 1 + len(stripped)), {})
            continue
        if "=" not in stripped:
            doc.diagnostics.append(Diagnostic("syntax-error", Span(path, lineno, lead + 1),
                                              f'syntax error in service file "{path}", line {lineno}',
                                              "write keyword=value, or comment the line out with #"))
            continue
        key, _, value = stripped.partition("=")
        vcol = lead + len(key) + 2
        key = key.strip()
        if current is None:
            doc.diagnostics.append(Diagnostic("syntax-error", Span(path, lineno, lead + 1),
                                              f'syntax error in service file "{path}", line {lineno}: '
                                              "keyword outside any [service] section",
                                              "put the line under a [service] header"))
            continue
        if key not in KNOWN_KEYWORDS:
            doc.diagnostics.append(Diagnostic("syntax-error", Span(path, lineno, lead + 1, lineno, lead + 1 + len(key)),
                                              f'invalid connection option "{key}" in service file "{path}", line {lineno}',
                                              "use a libpq keyword (host, port, dbname, user, sslmode, keepalives_idle...)"))
            continue
        secret = key in SECRET_KEYWORDS
        vspan = Span(path, lineno, vcol, lineno, vcol + len(value))
        v = param_value(key, value, vspan, secret=secret)
        current[2][key] = v
        record(doc, key, v, section=current[0])
        doc.settings[-1].span = Span(path, lineno, lead + 1, lineno, lead + 1 + len(key))
    close()
    return out
