# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions of the apiauth.saas engine.

Internal to the collection: no stability promise to code outside it.

Every message here is meant to be shown to a user as it is. The engine never puts
a request body, a header or an unparsed response body into a message, and the
adapters pass every message through a Redactor that knows the secrets of the
call before it leaves the engine, so a secret that slipped in by accident (a
vendor echoing a client id and secret in its error text, say) is masked anyway.
"""

from __future__ import annotations

import hashlib

REDACTED = "********"

# Values shorter than this are not masked inside longer text: masking "ab" would
# shred every message while protecting nothing. Real secrets are far longer.
_MIN_REDACT_LEN = 6


class ApiAuthError(Exception):
    """Base class. ``str(err)`` is safe to show to a user."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message

    def redacted(self, redactor: "Redactor") -> "ApiAuthError":
        """Mask known secrets in this error's text, in place, and return it."""
        self.message = redactor.redact(self.message)
        if self.hint:
            self.hint = redactor.redact(self.hint)
        self.args = (self.message,)
        return self


class OptionError(ApiAuthError):
    """An option is missing, has the wrong type, or conflicts with another."""


class KeyMaterialError(OptionError):
    """A private key, certificate or passphrase cannot be used."""


class TransportError(ApiAuthError):
    """The request did not get an HTTP answer: DNS, connect, TLS, reset, timeout."""

    def __init__(self, message: str, *, hint: str | None = None, sent: bool = True) -> None:
        super().__init__(message, hint=hint)
        # False only when the request certainly never left this machine
        # (connection refused, TLS handshake failed): the one case in which a
        # non-idempotent write may be sent again.
        self.sent = sent


class HTTPStatusError(ApiAuthError):
    """The server answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        vendor_error: dict | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.vendor_error = vendor_error or {}


class TokenEndpointError(HTTPStatusError):
    """A token endpoint refused the request (RFC 6749 section 5.2)."""

    @property
    def error_code(self) -> str | None:
        return self.vendor_error.get("error")


class ResponseFormatError(ApiAuthError):
    """A success response lacks a field, has a field of the wrong type, or is not JSON."""


class CacheError(ApiAuthError):
    """The token cache cannot be read or written."""


class MissingLibraryError(ApiAuthError):
    """A Python library the engine needs is not installed on the controller."""

    def __init__(self, library: str, purpose: str) -> None:
        super().__init__(
            f"The Python library '{library}' is required on the Ansible controller {purpose}.",
            hint="Install the collection's requirements.txt into the Python that runs Ansible.",
        )
        self.library = library


def fingerprint(value: str | bytes, length: int = 12) -> str:
    """A short, stable, one-way tag for a secret: safe for logs, diffs and audit lines."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return "sha256:" + hashlib.sha256(value).hexdigest()[:length]


class Redactor:
    """Masks known secret values in text.

    Collect every secret a call handles (client secret, passphrase, key content,
    access token) and pass any text that leaves the engine through ``redact``.
    """

    def __init__(self, secrets=()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret) -> None:
        if secret is None:
            return
        if isinstance(secret, bytes):
            try:
                secret = secret.decode("utf-8")
            except UnicodeDecodeError:
                return
        secret = str(secret)
        if len(secret) < _MIN_REDACT_LEN:
            return
        self._secrets.add(secret)
        # A PEM key or multi-line value may be reflowed; mask its lines too.
        for line in secret.splitlines():
            line = line.strip()
            if len(line) >= 16 and not line.startswith("-----"):
                self._secrets.add(line)

    def redact(self, text: str) -> str:
        if not text:
            return text
        # Longest first, so a secret that contains another is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __contains__(self, text: str) -> bool:
        return any(secret in text for secret in self._secrets)
