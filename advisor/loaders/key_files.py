"""Private keys that a configuration names beside a certificate in the checked files, but that are
not there: a "not read" notice (`doc.meta["unread_keys"]`), listed with every report.

PostgreSQL with `ssl = on` refuses to start without its `ssl_key_file` (`FATAL: could not access
private key file`), and so does PgBouncer without `client_tls_key_file` when client TLS is on
(`TLS setup failed: failed to load private key file`); PgBouncer starts without its
`server_tls_key_file`, and each TLS login to PostgreSQL then fails (`TLS connect error: failed to
load private key file`) — PgBouncer 1.18 and PostgreSQL 15 on loopback.

It is a notice, not a finding: a repository commonly keeps its keys out (a gitignored `*.key`
beside the committed certificate, installed at deploy time by a secret store), so a key absent
from the checked files is not certainly absent where the software runs, and an error would fail
every such repository's CI. Only keys whose certificate was found are listed: a certificate and
key both outside the tree (`/etc/ssl/...`) are the machine's, and say nothing here. Key files
are only tested for existence, never opened.

Relative paths are taken relative to the file that names them, as the certificate rules do
(advisor/rules/tls/certs.py).
"""

from __future__ import annotations

import os

from advisor.loaders.source import inside_checked_tree
from advisor.model import is_known

# document kind -> (key setting, certificate setting, the sslmode that turns that side on)
PAIRS = {
    "postgresql": (("ssl_key_file", "ssl_cert_file", None),),
    "pgbouncer": (("client_tls_key_file", "client_tls_cert_file", "client_tls_sslmode"),
                  ("server_tls_key_file", "server_tls_cert_file", "server_tls_sslmode")),
}

EFFECT = {
    "ssl_key_file": "PostgreSQL does not start where it is missing (FATAL: could not access private key file)",
    "client_tls_key_file": "PgBouncer does not start where it is missing (TLS setup failed: failed to load private "
                           "key file)",
    "server_tls_key_file": "PgBouncer starts without it, but where it is missing every TLS login to PostgreSQL "
                           "fails (TLS connect error: failed to load private key file) and its clients wait until "
                           "query_wait_timeout",
}


def _resolve(base_file: str, value: str) -> str:
    value = value.strip().strip("'\"")
    path = value if os.path.isabs(value) else os.path.join(os.path.dirname(base_file) or ".", value)
    return os.path.realpath(path)


def _setting(doc, name: str):
    if doc.kind == "pgbouncer":
        setting = doc.model.setting(name)
    else:
        setting = doc.get(name)
    if setting is None or not getattr(setting, "effective", True) or not is_known(setting.value):
        return None
    if not isinstance(setting.value, str) or not setting.value.strip():
        return None
    return setting


def _tls_on(doc, mode_name: str | None) -> bool:
    if doc.kind == "postgresql":
        from advisor.catalog import value_or_default

        return value_or_default(doc, "ssl")[0] is True
    mode = doc.model.value(mode_name)
    return is_known(mode) and str(mode).lower() != "disable"


def mark_unread_keys(docs: list, options: dict) -> None:
    """Add doc.meta["unread_keys"] (span of the key's value, message) to each PostgreSQL or
    PgBouncer document that names a key absent beside a certificate found in the checked files."""
    for doc in docs:
        pairs = PAIRS.get(doc.kind)
        if not pairs or (doc.kind == "pgbouncer" and (doc.model is None or doc.model.fragment)):
            continue
        for key_name, cert_name, mode_name in pairs:
            key, certificate = _setting(doc, key_name), _setting(doc, cert_name)
            if key is None or certificate is None or not _tls_on(doc, mode_name):
                continue
            cert_path = _resolve(certificate.span.file, certificate.value)
            if not os.path.isfile(cert_path) or not inside_checked_tree(cert_path, doc.path, options):
                continue
            key_path = _resolve(key.span.file, key.value)
            if os.path.exists(key_path):
                continue
            if os.path.dirname(key_path) == os.path.dirname(cert_path):
                where = "not in the folder that holds the certificate"
            elif inside_checked_tree(key_path, doc.path, options):
                where = "not in the checked files"
            else:
                where = "outside the files given to check (made at deploy time?)"
            quote = "'" if doc.kind == "postgresql" else ""
            shown, named = (f"{key_name} {quote}{key.value}{quote}", f"{cert_name} {quote}{certificate.value}{quote}")
            span = key.value_span or key.span
            doc.meta.setdefault("unread_keys", []).append(dict(
                span.to_dict(),
                message=f"{shown}: the private key of {named}, which is in the checked files, "
                        f"is {where} (kept out of the repository?); not read, so whether it matches the certificate "
                        f"is unknown; {EFFECT[key_name]}"))
