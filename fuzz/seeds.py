"""Seed corpora for the fuzz harnesses: fuzz/corpus/<kind>/ from samples/, the tests' rule
fixtures and ../shared/corpus (when present), each file given to the kind pgpath detects for it.

    python fuzz/seeds.py            # writes fuzz/corpus/<kind>/<n> (git-ignored)

A seed is the harness's input format: one byte choosing the file name (see fuzz/common.py
NAMES), then the file's bytes.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.engine import _kind_of  # noqa: E402
from fuzz.common import NAMES  # noqa: E402

SOURCES = [ROOT / "samples", ROOT / "tests" / "rules", ROOT / "tests" / "fixtures", ROOT / "tests" / "node_clients",
           ROOT / "tests" / "python_clients", ROOT.parent / "shared" / "corpus"]
# what no detector claims but may quote a connection string: the `text` kind's seeds
_TEXT_SUFFIXES = ("", ".txt", ".md", ".log", ".rst", ".cfg", ".conf", ".ini")


def _pick(kind: str, filename: str) -> int:
    names = [n.lower() for n in NAMES[kind]]
    lower = filename.lower()
    return next((i for i, n in enumerate(names) if lower.endswith(n) or n.endswith(lower)), 0)


def certificates():
    """PEM and DER certificates made here with the tests' generator (tests/certgen.py, cryptography):
    a self-signed server certificate, a CA and a leaf it signed, a bundle, an expired one, one
    without basicConstraints, and a throwaway key made for the seed (no key of anyone)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from datetime import datetime, timezone

    from cryptography.hazmat.primitives import serialization

    import certgen

    ca, ca_key = certgen.cert("fuzz root CA", ca=True)
    leaf, leaf_key = certgen.cert("db.example.test", issuer=ca, issuer_key=ca_key, names=("db.example.test", "10.0.0.5"))
    own, own_key = certgen.cert("localhost", names=("localhost", "127.0.0.1"))
    old, _ = certgen.cert("old.example.test", not_before=datetime(2019, 1, 1, tzinfo=timezone.utc),
                          not_after=datetime(2020, 1, 1, tzinfo=timezone.utc))
    bare, _ = certgen.cert("bare", ca=None)
    yield 0, certgen.pem(own).encode()
    yield 1, certgen.pem(ca).encode()
    yield 3, (certgen.pem(leaf) + certgen.pem(ca) + certgen.pem(leaf_key)).encode()  # HAProxy .pem bundle
    yield 0, certgen.pem(old).encode()
    yield 0, certgen.pem(bare).encode()
    yield 2, certgen.pem(own_key).encode()
    yield 0, leaf.public_bytes(serialization.Encoding.DER)
    yield 0, certgen.pem(leaf).replace("BEGIN CERTIFICATE", "BEGIN TRUSTED CERTIFICATE").replace(
        "END CERTIFICATE", "END TRUSTED CERTIFICATE").encode()


def seeds():
    for base in SOURCES:
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if not path.is_file() or path.suffix == ".expected" or path.stat().st_size > 1_000_000:
                continue
            kind = _kind_of(str(path), sniff=True) if path.suffix != ".md" else None
            data = path.read_bytes()
            if kind in NAMES:
                yield kind, bytes([_pick(kind, path.name)]) + data
            if kind in (None, "client") and path.suffix.lower() in _TEXT_SUFFIXES + (".env", ".py", ".properties") \
                    and len(data) <= 65_536:
                yield "text", b"\x00" + data
    for pick, data in certificates():
        yield "certificate", bytes([pick]) + data


def main() -> None:
    counts: dict[str, int] = {}
    for kind, data in seeds():
        out = ROOT / "fuzz" / "corpus" / kind
        out.mkdir(parents=True, exist_ok=True)
        (out / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)
        counts[kind] = counts.get(kind, 0) + 1
    for kind in NAMES:
        print(f"{kind}: {counts.get(kind, 0)} seeds")


if __name__ == "__main__":
    main()
