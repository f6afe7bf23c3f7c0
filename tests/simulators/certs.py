"""X.509 helpers with chosen validity, built with ``cryptography`` only.

trustme issues the server certificate and the default client certificates;
these helpers cover what it does not promise on every supported version:

* :func:`issue_leaf` -- a client (transport) certificate signed by a CA key,
  valid for N days or already expired;
* :func:`self_signed` -- a signing certificate for an existing private key
  (Thredd's "signing certificate" for private_key_jwt), likewise.

No trustme, no server state: the pytest side imports this module too.
"""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORGANIZATION = "apiauth.saas simulator"
# How long before "now" a fresh certificate starts (tolerates small clock differences).
BACKDATE = datetime.timedelta(hours=1)
# Default lifetime of an already-expired certificate when no days_valid is given.
EXPIRED_LIFETIME_DAYS = 30


def validity(days_valid: int | float | None, expired: bool = False,
             now: datetime.datetime | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """(not_before, not_after) in UTC.

    ``expired=False``: from an hour ago until ``days_valid`` days from now.
    ``expired=True``: ended a day ago, after ``days_valid`` (default 30) days.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if expired:
        not_after = now - datetime.timedelta(days=1)
        lifetime = days_valid if days_valid is not None else EXPIRED_LIFETIME_DAYS
        return not_after - datetime.timedelta(days=max(float(lifetime), 1.0)), not_after
    if days_valid is None or days_valid <= 0:
        raise ValueError("days_valid must be a positive number (or pass expired=True)")
    return now - BACKDATE, now + datetime.timedelta(days=float(days_valid))


def _signature_hash(private_key: Any) -> hashes.HashAlgorithm | None:
    # Ed25519/Ed448 sign without a separate digest.
    if isinstance(private_key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return None
    return hashes.SHA256()


def load_private_key(pem: str | bytes) -> Any:
    if isinstance(pem, str):
        pem = pem.encode("ascii")
    return serialization.load_pem_private_key(pem, password=None)


def private_key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def issue_leaf(ca_cert_pem: bytes, ca_key_pem: bytes, common_name: str, dns_name: str,
               not_before: datetime.datetime, not_after: datetime.datetime) -> tuple[bytes, bytes]:
    """A TLS client certificate (EC P-256 key) signed by the CA: (cert PEM, key PEM)."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = load_private_key(ca_key_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    try:
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        authority = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    except x509.ExtensionNotFound:
        authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(authority, critical=False)
        .sign(ca_key, _signature_hash(ca_key))
    )
    return cert.public_bytes(serialization.Encoding.PEM), private_key_pem(key)


def self_signed(private_key_pem_text: str | bytes, common_name: str, not_before: datetime.datetime,
                not_after: datetime.datetime) -> str:
    """Self-signed certificate (PEM text) for the public half of an existing private key."""
    key = load_private_key(private_key_pem_text)
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, _signature_hash(key))
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def cert_validity(cert_pem: str | bytes) -> tuple[str, str]:
    """(not_before, not_after) of a PEM certificate as ISO-8601 UTC strings ending in Z."""
    if isinstance(cert_pem, str):
        cert_pem = cert_pem.encode("ascii")
    cert = x509.load_pem_x509_certificate(cert_pem)
    # The *_utc properties only exist from cryptography 42; the naive ones are UTC.
    start = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    end = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return (start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z"))
