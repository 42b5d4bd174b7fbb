"""Test certificates made with cryptography at test time (keys are throwaway, test-only)."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def key():
    return ec.generate_private_key(ec.SECP256R1())


def cert(subject_cn: str, issuer=None, issuer_key=None, own_key=None, ca: bool | None = False,
         names: tuple[str, ...] = (), not_before=datetime(2024, 1, 1, tzinfo=timezone.utc),
         not_after=datetime(2030, 1, 1, tzinfo=timezone.utc)):
    """(certificate, key): self-signed when no issuer is given; `ca` None leaves basicConstraints out."""
    own_key = own_key or key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer.subject if issuer is not None else subject)
               .public_key(own_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if names:
        sans = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    signed = builder.sign(issuer_key or own_key, hashes.SHA256())
    return signed, own_key


def pem(obj) -> str:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
