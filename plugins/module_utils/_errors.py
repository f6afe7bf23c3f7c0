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

``Progress`` carries the engine's other texts for the user, the notes on a
slow request (retries, waits for another process), through the same redaction.
It lives here, beside the Redactor, so that no module is added to the imports
of a cached token's path.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import urllib.parse
from collections.abc import Sequence

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


class SharedUnavailable(Exception):
    """Raised by a shared layer whose server cannot be reached now; the cache goes on without it.

    Not an ApiAuthError on purpose: it never reaches the user, the cache catches it and warns.
    """


class UnsafePathError(ApiAuthError):
    """A directory or file that must not hold a secret: a link, another user's, open to others."""


class LockTimeout(Exception):
    """The lock stayed held by another process for longer than the caller would wait."""


class FormatRefused(ApiAuthError):
    """Values or names that a format cannot carry. ``problems`` name each one, never a value."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


class ReportError(ApiAuthError):
    """Something the report was told to read cannot be listed at all."""


class HandOffUnreadable(ApiAuthError):
    """A recent hand-off record exists but cannot be read: another run may just have made the secret."""


class RecoveryFileError(ApiAuthError):
    """The recovery file could not be written; the message says where the secret is safe, if anywhere."""


class GraphQLError(ApiAuthError):
    """THRIVE answered HTTP 200 with a GraphQL ``errors`` array."""


class CheckModeSkip(ApiAuthError):
    """Check mode: a request that could change server state was not sent."""


def fingerprint(value: str | bytes, length: int = 12) -> str:
    """A short, stable, one-way tag for a secret: safe for logs, diffs and audit lines."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return "sha256:" + hashlib.sha256(value).hexdigest()[:length]


class Redactor:
    """Masks known secret values in text, in every form a secret travels in.

    Collect every secret a call handles (client secret, passphrase, key content,
    access token, client assertion) and pass any text that leaves the engine
    through ``redact``. A vendor that quotes the request in its error text quotes
    it as it was sent, so a secret is found and masked:

    * raw, and with any of its characters percent-encoded (``quote`` or
      ``quote_plus``, ``+`` or ``%20`` for a space, upper or lower case hex,
      even encoded twice), JSON-escaped (``\\uXXXX``, ``\\/``, ``\\"``) or
      HTML-escaped (``&amp;``, ``&#43;``), in any mix;
    * base64-encoded (standard and URL-safe alphabets, with or without
      padding), alone or inside a longer base64 text such as an HTTP Basic
      header ``client_id:secret``, also when the secret was form-encoded first
      (RFC 6749 section 2.3.1).

    Minimum lengths: a value shorter than ``_MIN_REDACT_LEN`` (6) characters is
    not masked inside text (masking ``ab`` would shred every message while
    protecting nothing), and its base64 forms are masked from
    ``_MIN_BASE64_BYTES`` (8) bytes: a base64 fragment of fewer bytes is too
    short to tell from unrelated text. Inside a longer base64 text the few
    characters that mix a secret's first or last bytes with its neighbours'
    stay visible; they give away at most two bytes at either end.
    """

    def __init__(self, secrets=()) -> None:
        self._secrets: set[str] = set()
        self._lines: set[str] = set()
        self._pattern = None  # compiled on first use after a change
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
        if len(secret) < _MIN_REDACT_LEN or secret in self._secrets:
            return
        self._secrets.add(secret)
        # A PEM key or multi-line value may be reflowed; mask its lines too
        # (as they are and escaped: nothing base64-encodes a line of a key).
        for line in secret.splitlines():
            line = line.strip()
            if len(line) >= 16 and not line.startswith("-----") and line != secret:
                self._secrets.add(line)
                self._lines.add(line)
        self._pattern = None

    def _compiled(self) -> list:
        """(literal that every match holds, regex) per encoded form, longest form first."""
        if self._pattern is None:
            forms: set[str] = set()
            for secret in self._secrets:
                forms.update({secret} if secret in self._lines else _encoded_forms(secret))
            # Longest first: a whole Basic header or a padded tail is masked
            # before a shorter form inside it.
            self._pattern = [(_anchor(form), _flexible(form))
                             for form in sorted(forms, key=lambda form: (-len(form), form))]
        return self._pattern

    def redact(self, text: str) -> str:
        if not text or not self._secrets:
            return text
        text = str(text)
        # Literal replacement first, longest first, so a secret that contains
        # another is masked whole; then every encoded form.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
        for anchor, pattern in self._compiled():
            # Letters and digits are never escaped, so a form's longest run of
            # them is in every quoting of it: a cheap test before the regex.
            if anchor in text:
                text = _regex(pattern).sub(REDACTED, text)
        return text

    def __contains__(self, text: str) -> bool:
        return self.redact(text) != text


# A secret longer than this (a PEM key) is masked raw and by its lines only:
# nothing sends a whole key in base64 or a form field.
_MAX_ENCODED_SECRET = 1024
_MIN_BASE64_BYTES = 8


def _encoded_forms(secret: str) -> set[str]:
    """The texts, besides the raw secret, in which ``secret`` may be quoted.

    Percent-, JSON- and HTML-escaping are per character and are matched by
    ``_flexible``; base64 is not, so its forms are listed here.
    """
    forms = {secret}
    if len(secret) > _MAX_ENCODED_SECRET:
        return forms
    raw = secret.encode("utf-8", "surrogatepass")
    byte_forms = {raw}
    # As a JSON encoder writes it (a JSON body, a JSON error quoting the request).
    for ascii_only in (True, False):
        escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        byte_forms.update({escaped.encode("utf-8"), escaped.replace("/", "\\/").encode("utf-8")})
    for quote in (urllib.parse.quote_plus, urllib.parse.quote):
        encoded = quote(secret, safe="")
        byte_forms.add(encoded.encode("ascii"))
        byte_forms.add(re.sub(r"%[0-9A-F]{2}", lambda match: match.group(0).lower(), encoded).encode("ascii"))
    if len(raw) >= _MIN_BASE64_BYTES:
        for data in byte_forms:
            forms.update(_base64_forms(data))
    return forms


def _base64_forms(data: bytes) -> set[str]:
    """Every base64 text that ``data`` alone determines, at each of the three alignments.

    Inside a longer text (``client_id:secret``) ``data`` starts at any offset
    modulo 3: for each, the groups made only of ``data``'s bytes (the core),
    and the core with the padded tail (for ``data`` at the end of the text).
    """
    found: set[str] = set()
    for offset in range(3):
        padded = b"\0" * offset + data
        encoded = base64.b64encode(padded).decode("ascii")
        start = 4 if offset else 0  # the first group mixes in the bytes before
        whole = len(padded) // 3 * 4
        for text in (encoded[start:whole], encoded[start:], encoded[start:].rstrip("=")):
            if len(text) >= 8:
                found.add(text)
                found.add(text.translate(_URLSAFE))
    return found


_URLSAFE = str.maketrans("+/", "-_")


def _hex_class(value: int, width: int) -> str:
    """A regex for ``value`` in hex of ``width`` digits, either case."""
    digits = f"{value:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


_JSON_CONTROL = {"\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}
_HTML_NAMED = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos"}


def _char_alternatives(char: str) -> str:
    """A regex matching ``char`` as itself or in any escaped form a quoting vendor may use.

    Escapes nest (a JSON body quoted in an HTML page, a form encoded twice), so
    the JSON backslash may be doubled and the percent sign encoded again.
    """
    code = ord(char)
    # As itself or HTML-escaped, after any number of JSON backslashes (\" \/ \\ and their doubles).
    literal = [re.escape(char), f"&#0*{code};", f"&#[xX]0*{_hex_class(code, len(f'{code:x}'))};"]
    if char in _HTML_NAMED:
        literal.append(f"&{_HTML_NAMED[char]};")
    options = [r"\\*(?:" + "|".join(literal) + ")"]
    # Percent-encoded UTF-8, either case, encoded any number of times (%25XX).
    options.append("".join("%(?:25)*" + _hex_class(byte, 2) for byte in char.encode("utf-8", "surrogatepass")))
    if char == " ":
        options.append(r"\+")
    if code > 0xFFFF:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        options.append(rf"\\+u{_hex_class(high, 4)}\\+u{_hex_class(low, 4)}")
    else:
        options.append(rf"\\+u{_hex_class(code, 4)}")
    if char in _JSON_CONTROL:
        options.append(rf"\\+{_JSON_CONTROL[char]}")
    return "(?:" + "|".join(options) + ")"


def _flexible(form: str) -> str:
    return "".join(char if char.isascii() and char.isalnum() else _char_alternatives(char) for char in form)


def _anchor(form: str) -> str:
    """The longest run of ASCII letters and digits in ``form`` ("" when it has none)."""
    return max(re.findall(r"[A-Za-z0-9]+", form) or [""], key=len)


@functools.lru_cache(maxsize=512)
def _regex(pattern: str):
    return re.compile(pattern)


class Progress:
    """What one credential request did that an operator may want to see while it runs.

    The engine reports here: each HTTP try (``attempts``), each pause before a
    retry or while another process fetches the same credential (``waited``, in
    seconds), and notes for the operator (``note``). Without ``show`` it only
    counts, so code that makes its own ``Progress`` or passes none behaves as
    before. ``show(level, text)`` is the caller's display (Ansible's -v is
    level 1, -vv level 2); ``verbosity`` is the highest level it shows, so a
    note nobody sees costs no redaction. Every text passes through each
    redactor given to ``mask_with``: the engine hands over the redactor that
    knows a call's secrets (see ``_token_service.get_token``) before the call
    can make a note.
    """

    __slots__ = ("attempts", "waited", "_redactors", "_show", "_verbosity")

    def __init__(self, show=None, *, verbosity: int = 0, redactor: Redactor | None = None) -> None:
        self.attempts = 0
        self.waited = 0.0
        self._redactors: list = []
        self._show = show
        self._verbosity = verbosity if show is not None else -1
        if redactor is not None:
            self.mask_with(redactor)

    def mask_with(self, redactor: Redactor) -> None:
        """Mask the secrets ``redactor`` knows (now and later) in every note."""
        if not any(held is redactor for held in self._redactors):
            self._redactors.append(redactor)

    def wants(self, level: int) -> bool:
        """Whether a note of ``level`` would be shown: build costly texts only then."""
        return level <= self._verbosity

    def note(self, level: int, text: str) -> None:
        if level <= self._verbosity:
            for redactor in self._redactors:
                text = redactor.redact(text)
            self._show(level, text)

    def tried(self) -> None:
        """One HTTP request was sent, or tried and refused before it left."""
        self.attempts += 1

    def paused(self, seconds: float) -> None:
        self.waited += max(0.0, float(seconds))
