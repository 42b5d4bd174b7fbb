"""TLS certificates and keys found in the tree, and the checks a connection's TLS handshake makes.

`CertFile` is the model of a PEM file (kind `certificate`): its certificates (`CertInfo`, in file
order: a server file holds the leaf first, then intermediates) and its private keys (`KeyInfo`:
only the SHA-256 of the public key is kept; a private key is never stored or printed). X.509 is
parsed by `cryptography` in the loader; the functions here that check signatures use the parsed
object kept on `CertInfo` (imported lazily).

`verify_server(server, roots, host, mode)` is what libpq's `sslmode=verify-ca` / `verify-full`
does with a server certificate: the path calls it for a client and the server it reaches.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from advisor.model import Record, Span


class CertInfo(Record):
    """One X.509 certificate: names, validity, CA flag, public key id; `_x509` the parsed object."""

    __slots__ = ("subject", "issuer", "common_name", "dns_names", "ip_addresses", "not_before", "not_after", "is_ca",
                 "key_id", "self_signed", "span", "_x509")

    def __init__(self, subject: str, issuer: str, common_name: str | None, dns_names: list[str],
                 ip_addresses: list[str], not_before: datetime, not_after: datetime, is_ca: bool | None,
                 key_id: str, self_signed: bool, span: Span, x509: Any = None) -> None:
        self.subject = subject
        self.issuer = issuer
        self.common_name = common_name
        self.dns_names = dns_names
        self.ip_addresses = ip_addresses
        self.not_before = not_before
        self.not_after = not_after
        self.is_ca = is_ca  # basicConstraints CA flag; None when the extension is absent (v1 certificates)
        self.key_id = key_id  # sha256 of the SubjectPublicKeyInfo
        self.self_signed = self_signed
        self.span = span
        self._x509 = x509

    def names(self) -> list[str]:
        return self.dns_names + self.ip_addresses or ([self.common_name] if self.common_name else [])

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "issuer": self.issuer, "dns_names": self.dns_names,
                "ip_addresses": self.ip_addresses, "not_before": self.not_before.isoformat(),
                "not_after": self.not_after.isoformat(), "is_ca": self.is_ca, "self_signed": self.self_signed,
                "span": self.span.to_dict()}


class KeyInfo(Record):
    """A private key in the tree: where, and the id of its public key (None when it is encrypted)."""

    __slots__ = ("key_id", "span", "encrypted")

    def __init__(self, key_id: str | None, span: Span, encrypted: bool = False) -> None:
        self.key_id = key_id
        self.span = span
        self.encrypted = encrypted

    def to_dict(self) -> dict[str, Any]:
        return {"span": self.span.to_dict(), "encrypted": self.encrypted}


class CertFile(Record):
    __slots__ = ("path", "certs", "keys")

    def __init__(self, path: str, certs: list[CertInfo] | None = None, keys: list[KeyInfo] | None = None) -> None:
        self.path = path
        self.certs = [] if certs is None else certs
        self.keys = [] if keys is None else keys

    def to_dict(self) -> dict[str, Any]:
        return {"certs": [c.to_dict() for c in self.certs], "keys": [k.to_dict() for k in self.keys]}


# ------------------------------------------------------------------------------------------------
# checks


def signs(issuer: CertInfo, cert: CertInfo) -> bool:
    """True when `issuer`'s key signed `cert` and the names chain (cryptography's own check)."""
    if issuer._x509 is None or cert._x509 is None:
        return False
    try:
        cert._x509.verify_directly_issued_by(issuer._x509)
        return True
    except Exception:  # noqa: BLE001 - ValueError, InvalidSignature, TypeError (unsupported key types)
        return False


def covers(cert: CertInfo, host: str) -> bool:
    """Does the certificate name `host` as libpq checks it (verify-full)? SAN dNSName (one leftmost
    `*` label) or iPAddress entries; the CN only when the certificate has no SAN names."""
    host = host.strip().rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return any(ipaddress.ip_address(a) == ip for a in cert.ip_addresses) or (
            not cert.dns_names and not cert.ip_addresses and cert.common_name == host)
    names = cert.dns_names or ([] if cert.ip_addresses else [cert.common_name] if cert.common_name else [])
    for name in names:
        name = name.rstrip(".").lower()
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            first, rest = host.split(".", 1)
            if rest == name[2:] and first:
                return True
    return False


def verify_server(server: CertFile, roots: CertFile, host: str | None, mode: str) -> list[str]:
    """What libpq reports for this server certificate file and root file with sslmode `mode`
    (`verify-ca` or `verify-full`): an empty list when the handshake's checks pass."""
    if not server.certs:
        return []
    leaf = server.certs[0]
    chain = server.certs[1:]
    problems = []
    current = leaf
    trusted = False
    for _ in range(len(chain) + 1):
        if any(signs(root, current) for root in roots.certs):
            trusted = True
            break
        parent = next((c for c in chain if signs(c, current)), None)
        if parent is None:
            break
        current = parent
    if not trusted:
        problems.append(f"the server certificate ({leaf.subject}, issued by {leaf.issuer}) is not signed by any "
                        f"certificate in the root file ({', '.join(r.subject for r in roots.certs) or 'empty'})")
    if mode == "verify-full" and host and not covers(leaf, host):
        problems.append(f"the server certificate names {', '.join(leaf.names()) or 'no host'}, not {host}")
    return problems
