# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A vendor's HTTP answer as the engine hands it on: the response, its status phrase, its error fields.

Internal to the collection: no stability promise to code outside it.

Why a module of its own: what a response is and how a vendor's error body is
read do not depend on how it was fetched; vendor code and tests use these
without the transport's retry and TLS machinery.
"""

from __future__ import annotations

import json as _json
from collections.abc import Mapping
from http import HTTPStatus

from ansible_collections.apiauth.saas.plugins.module_utils._errors import Redactor, ResponseFormatError
from ansible_collections.apiauth.saas.plugins.module_utils._urls import clean_text

# RFC 9110 renamed four statuses; Python 3.13 took the new names, older Pythons keep RFC 7231's.
# The collection says the RFC 9110 name on every Python, so an error reads the same whichever
# Python the controller runs (people grep logs and match messages in `failed_when`).
_RFC9110_PHRASES = {
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
}


def status_phrase(status: int) -> str:
    """The reason phrase of an HTTP status (RFC 9110 wording), or "" for a status with none."""
    if status in _RFC9110_PHRASES:
        return _RFC9110_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class Headers(Mapping):
    """A read-only, case-insensitive view of response headers."""

    def __init__(self, items=()) -> None:
        self._store: dict = {}
        pairs = items.items() if hasattr(items, "items") else items
        for name, value in pairs:
            self._store[str(name).lower()] = (str(name), str(value))

    def __getitem__(self, name):
        return self._store[str(name).lower()][1]

    def __iter__(self):
        return (original for original, _value in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, name) -> bool:
        return str(name).lower() in self._store

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


class HttpResponse:
    """A complete response, independent of requests.

    ``url`` is the requested URL without user info, query or fragment, so the
    object may be logged or shown.
    """

    def __init__(
        self,
        status: int,
        headers=None,
        body: bytes = b"",
        url: str = "",
        *,
        vendor: str = "",
        method: str = "",
        redactor: Redactor | None = None,
    ) -> None:
        self.status = int(status)
        self.headers = Headers(headers or {})
        self.body = body
        self.url = url
        self._vendor = vendor
        self._method = method
        self._redactor = redactor

    def json(self) -> object:
        """The body decoded as JSON. Raises ResponseFormatError, naming no content."""
        try:
            return _json.loads(self.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            where = ""
            if isinstance(exc, _json.JSONDecodeError):
                where = f" (at line {exc.lineno}, column {exc.colno})"
            elif isinstance(exc, UnicodeDecodeError):
                where = " (not UTF-8)"
            prefix = f"{self._vendor}: " if self._vendor else ""
            request = f"{self._method} {self.url}".strip()
            error = ResponseFormatError(
                f"{prefix}the response to {request} is not valid JSON{where}: "
                f"HTTP {self.status}, {len(self.body)} bytes."
            )
        if self._redactor is not None:
            error.redacted(self._redactor)
        raise error

    def __repr__(self) -> str:
        return f"HttpResponse(status={self.status}, url={self.url!r}, {len(self.body)} bytes)"


def default_error_parser(response: HttpResponse) -> dict:
    """Vendor error fields of a JSON body, or ``{}``.

    Understands RFC 6749 section 5.2 (``error``, ``error_description``), a plain
    ``message``, and the nested ``{"error": {"code": ..., "message": ...}}``
    shape. Only these fields are kept; a caller's own parser should return the
    same keys (``error``, ``error_description``, ``message``) to be shown.
    """
    try:
        data = _json.loads(response.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    result = {}
    error = data.get("error")
    if isinstance(error, dict):
        code = error.get("code") or error.get("status")
        if isinstance(code, (str, int)) and not isinstance(code, bool):
            result["error"] = str(code)
        if isinstance(error.get("message"), str):
            result["error_description"] = error["message"]
    elif isinstance(error, str):
        result["error"] = error
        if isinstance(data.get("error_description"), str):
            result["error_description"] = data["error_description"]
    if "error_description" not in result and isinstance(data.get("message"), str):
        result["message"] = data["message"]
    return result


def describe_vendor_error(vendor_error: dict) -> str:
    """``code: text`` from a parsed vendor error, or ``""``."""
    if not isinstance(vendor_error, dict):
        return ""
    code = vendor_error.get("error") or vendor_error.get("code")
    text = vendor_error.get("error_description") or vendor_error.get("message")
    parts = [clean_text(part) for part in (code, text) if isinstance(part, (str, int)) and not isinstance(part, bool)]
    return ": ".join(part for part in parts if part)
