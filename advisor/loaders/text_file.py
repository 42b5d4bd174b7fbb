"""Kind `text`: a file named on the command line that no detector claims.

pgpath reads it the way it reads client files it cannot parse: line by line, for PostgreSQL
connection strings (libpq URIs `postgres://...`, keyword/value strings with `host=`, pgjdbc
`jdbc:postgresql:` URLs, SQLAlchemy URLs). What it finds is checked by the client rules (APP*);
a file without any connection string gives no finding. The document is a `client` document
whose format is `text` (`pgpath dump` shows it). `--kind text` asks for this reading explicitly.
"""

from __future__ import annotations

from advisor.model import ConfigDoc


def load(path: str, options: dict | None = None) -> ConfigDoc:
    from advisor.loaders import client

    return client.load(path, {**(options or {}), "client_format": "text"})
