# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of X.509 certificates before they are used: validity dates and key match.

Internal to the collection: no stability promise to code outside it.

Vendors such as Thredd issue transport (mTLS) and signing certificates that live
350 days. An expired one fails every request, usually with an unhelpful TLS or
invalid_client error, so it is caught here first, and one about to expire is
reported while there is still time to renew it.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import stat

from ansible_collections.apiauth.saas.plugins.module_utils._errors import KeyMaterialError, MissingLibraryError
from ansible_collections.apiauth.saas.plugins.module_utils._pem import first_pem_block, read_material

# cryptography is imported where a certificate is read, not with this module: the token lookups import
# this module for key_file_warnings on every call, and loading X.509 support would cost each new worker
# process more than the rest of a cached token's path (docs/benchmarks.md).
HAS_CRYPTOGRAPHY = importlib.util.find_spec("cryptography") is not None


def load_certificate(path: str, *, what: str):
    """The first certificate in a PEM file (which may also hold a key), or a DER file."""
    if not HAS_CRYPTOGRAPHY:
        raise MissingLibraryError("cryptography", f"to check the {what}")
    try:
        data = read_material(path)
    except OSError as exc:
        raise KeyMaterialError(f"Cannot read the {what} {path}: {exc.strerror or exc}.") from None
    from cryptography import x509  # pylint: disable=import-outside-toplevel

    block = first_pem_block(data, "CERTIFICATE")
    try:
        if block:
            return x509.load_pem_x509_certificate(block)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise KeyMaterialError(
            f"The {what} {path} holds no readable X.509 certificate (PEM or DER expected)."
        ) from None


def _not_after(cert) -> datetime.datetime:
    value = getattr(cert, "not_valid_after_utc", None)
    if value is None:  # cryptography < 42
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def _not_before(cert) -> datetime.datetime:
    value = getattr(cert, "not_valid_before_utc", None)
    if value is None:  # cryptography < 42
        value = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    return value


def certificate_validity(cert) -> tuple:
    """``(not_before, not_after)`` of a certificate, as aware UTC datetimes."""
    return _not_before(cert), _not_after(cert)


def check_validity(path: str, *, what: str, warn_days: int = 30, now: datetime.datetime | None = None) -> str | None:
    """Fail if the certificate is expired or not yet valid; a warning if it expires soon.

    Returns the warning text, or None when the certificate has more than
    ``warn_days`` left.
    """
    cert = load_certificate(path, what=what)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    not_after, not_before = _not_after(cert), _not_before(cert)
    stamp = not_after.strftime("%Y-%m-%d %H:%M UTC")
    if not_after <= now:
        raise KeyMaterialError(
            f"The {what} {path} expired on {stamp}; every request with it would be refused.",
            hint="Request a new certificate from the vendor and point the option at it.",
        )
    if not_before > now:
        raise KeyMaterialError(
            f"The {what} {path} is not valid before {not_before.strftime('%Y-%m-%d %H:%M UTC')}; "
            "check the controller's clock or wait for it to become valid."
        )
    left = not_after - now
    if left <= datetime.timedelta(days=warn_days):
        days = left.days
        when = f"in {days} days" if days >= 1 else "within a day"
        return f"The {what} {path} expires {when}, on {stamp}: request a new one from the vendor now."
    return None


def certificate_matches_key(path: str, signing_key, *, what: str) -> bool:
    """Whether the certificate at ``path`` holds the public half of ``signing_key`` (a _jws.SigningKey)."""
    cert = load_certificate(path, what=what)
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    ours = signing_key.public_key().public_bytes(serialization.Encoding.DER, fmt)
    theirs = cert.public_key().public_bytes(serialization.Encoding.DER, fmt)
    return ours == theirs


# Options whose value is a file that holds (or, for client_cert without
# client_key, also holds) a private key.
KEY_FILE_OPTIONS = ("private_key_path", "client_key")


def key_file_warning(path, option: str) -> str | None:
    """A warning when the private key file ``path`` is open to other users, as ssh gives one; else None.

    Not a refusal: Kubernetes mounts secrets 0644 by default, and the file may
    be meant to be shared. Only the option, the path, the mode and the owner
    are named, never the content. Files that cannot be examined are left to
    the code that reads them, which says why.
    """
    if not isinstance(path, str) or not path:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    problems = []
    if info.st_mode & 0o077:
        others = [who for who, bits in (("its group", 0o070), ("every user", 0o007)) if info.st_mode & bits]
        problems.append(f"has mode {stat.S_IMODE(info.st_mode):04o}, open to {' and '.join(others)}")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        problems.append(f"is owned by another user (uid {info.st_uid})")
    if not problems:
        return None
    return (f"{option} {path} {' and '.join(problems)}: a private key should be readable only by the user "
            f"running Ansible (chmod 600, owned by that user), as ssh requires of its keys.")


def key_file_warnings(params: dict) -> list:
    """Warnings for every private key file the options name (see key_file_warning)."""
    wanted = [(name, params.get(name)) for name in KEY_FILE_OPTIONS]
    if params.get("client_cert") and not params.get("client_key"):
        # Without client_key the certificate file holds the key as well.
        wanted.append(("client_cert", params.get("client_cert")))
    warnings = []
    for option, path in wanted:
        warning = key_file_warning(path, option)
        if warning:
            warnings.append(warning)
    return warnings
