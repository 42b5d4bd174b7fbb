"""PEM files (kind `certificate`): certificates and private keys in the tree, parsed with
`cryptography` (imported only here, only when such a file is read).

Every `-----BEGIN CERTIFICATE-----` block becomes a `CertInfo` (subject, issuer, SAN names,
validity, basicConstraints CA flag, public key id) spanned at its BEGIN line; every private key
block a `KeyInfo` holding only the SHA-256 of its public key. Private key material is never kept
in the document, and never printed. A block cryptography cannot read is a `certificate-invalid`
diagnostic (TLS014) at its BEGIN line: the server or client that loads it refuses to start or to
connect.
"""

from __future__ import annotations

import re

from advisor.loaders.source import read_text
from advisor.model import ConfigDoc, Diagnostic, Span
from advisor.model.certs import CertFile, CertInfo, KeyInfo

_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n")


def blocks(text: str):
    """(label, start, end) of each `-----BEGIN label-----` line and the first `-----END label-----`
    after it (what `-----BEGIN ([A-Z0-9 ]+)-----\\r?\\n.*?-----END \\1-----` finds), in linear
    time: that regex scanned to the end of the text from every BEGIN that has no END (2,000 such
    lines took 5 s, 8,000 took 51 s); here each label's next END is searched for once, and a label
    with no END after one BEGIN has none after the later ones."""
    ends: dict[str, int] = {}  # label -> where its next END marker starts, -1 when there is none
    pos = 0
    while True:
        m = _BEGIN.search(text, pos)
        if m is None:
            return
        label = m.group(1)
        marker = f"-----END {label}-----"
        end = ends.get(label)
        if end is None or -1 < end < m.end():
            end = ends[label] = text.find(marker, m.end())
        if end < 0:
            pos = m.start() + 1
            continue
        yield label, m.start(), end + len(marker)
        pos = end + len(marker)


def load(path: str, options: dict | None = None) -> ConfigDoc:
    text = read_text(path)
    doc = ConfigDoc(path=path, kind="certificate", files=[path])
    model = CertFile(path)
    line, counted = 1, 0
    for label, start, end in blocks(text):
        line += text.count("\n", counted, start)  # (counted on from the last block: linear)
        counted = start
        span = Span(path, line, 1, line, len(label) + 17)
        data = text[start:end].encode("ascii", "replace")
        if label in ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"):
            cert = _certificate(doc, data.replace(b"TRUSTED CERTIFICATE", b"CERTIFICATE"), span)
            if cert is not None:
                model.certs.append(cert)
        elif label.endswith("PRIVATE KEY"):
            key = _private_key(doc, data, span, label)
            if key is not None:
                model.keys.append(key)
    doc.model = model
    doc.meta["certificates"] = len(model.certs)
    doc.meta["private_keys"] = len(model.keys)
    return doc


def key_id(public_key) -> str:
    import hashlib

    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _certificate(doc: ConfigDoc, data: bytes, span: Span) -> CertInfo | None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_pem_x509_certificate(data)
        public = cert.public_key()
        # parsed on first use: a duplicate extension, or names cryptography refuses, raise here
        # (OpenSSL refuses such a file when it loads it)
        cert.extensions
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        not_before = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before
        not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after
    except Exception as exc:  # noqa: BLE001 - ValueError and unsupported algorithms alike
        doc.diagnostics.append(Diagnostic("certificate-invalid", span,
                                          f"certificate cannot be read ({type(exc).__name__}): TLS software that "
                                          "loads this file refuses it", "replace it with a valid PEM certificate"))
        return None
    dns: list[str] = []
    ips: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        ips = [str(n) for n in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    except ValueError:
        pass
    is_ca = None
    try:
        is_ca = bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        pass
    info = CertInfo(subject, issuer, str(cns[0].value) if cns else None, dns, ips, not_before, not_after, is_ca,
                    key_id(public), cert.subject == cert.issuer, span, cert)
    if info.self_signed:
        from advisor.model.certs import signs

        info.self_signed = signs(info, info)
    return info


def _private_key(doc: ConfigDoc, data: bytes, span: Span, label: str) -> KeyInfo | None:
    from cryptography.hazmat.primitives import serialization

    if label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in data:
        return KeyInfo(None, span, encrypted=True)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # a password is needed
        return KeyInfo(None, span, encrypted=True)
    except Exception:  # noqa: BLE001
        # never the exception text: it could quote key material
        doc.diagnostics.append(Diagnostic("certificate-invalid", span,
                                          "private key cannot be read: TLS software that loads this file refuses it",
                                          "replace it with a valid PEM private key"))
        return None
    return KeyInfo(key_id(key.public_key()), span)
