"""PgBouncer's client_tls_protocols / server_tls_protocols as libusual's tls_config_parse_protocols
reads them (lib/usual/tls/tls_config.c): the TLS versions each value allows (ranks 0-3 = TLS
1.0-1.3), or None for a value PgBouncer refuses. tests/lab/test_lab_tls_pgbouncer.py checks the
same words against a real PgBouncer."""

from __future__ import annotations

import pytest

from advisor.model.pgbouncer import tls_protocol_versions

ALL = {0, 1, 2, 3}


@pytest.mark.parametrize("value, allowed", [
    ("tlsv1.2", {2}),
    ("TLSv1.3", {3}),  # case-blind
    ("secure", {2, 3}),
    ("default", {2, 3}),
    ("all", ALL),
    ("tlsv1", ALL),  # libtls' TLSv1 is every TLS 1.x, unlike PostgreSQL's TLSv1 (= TLS 1.0)
    ("tlsv1.0,tlsv1.3", {0, 3}),  # a set with a hole
    ("tlsv1.2:tlsv1.3", {2, 3}),  # ':' separates too
    ("tlsv1.2, tlsv1.3", {2, 3}),  # blanks before a word are skipped
    ("!tlsv1.0,!tlsv1.1", {2, 3}),  # a removal first starts from every version
    ("tlsv1.2,!tlsv1.2,!tlsv1.0", {1, 2, 3}),  # ... and so does one from an emptied set
    ("", {2, 3}),  # empty: libtls' default
])
def test_versions_allowed(value, allowed):
    assert tls_protocol_versions(value, (1, 24)) == allowed


@pytest.mark.parametrize("value", ["tlsv1.2 ,tlsv1.3", "tlsv1.2 tlsv1.3", "tls1.2", "sslv3", "tlsv1.2,"])
def test_values_pgbouncer_refuses(value):
    """A blank after a word, blanks as separators, an empty word: `invalid client_tls_protocols`."""
    assert tls_protocol_versions(value, (1, 24)) is None


def test_legacy_is_all_up_to_1_20_and_refused_from_1_21():
    """libusual dropped `legacy` (libusual#40), which PgBouncer 1.21 took in (its commit fc1784ca)."""
    assert tls_protocol_versions("legacy", (1, 18)) == ALL
    assert tls_protocol_versions("legacy", (1, 20)) == ALL
    assert tls_protocol_versions("legacy", (1, 21)) is None
