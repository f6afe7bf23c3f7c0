# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP transport of the apiauth.saas engine: one requests.Session per engine.

Internal to the collection: no stability promise to code outside it.

What this module promises its callers:

* Options are checked before anything is sent, with messages that use the
  user-facing option names (validate_certs, ca_path, client_cert, client_key,
  proxy, timeout, retries, allow_http).
* TLS settings are passed to requests on every call (``verify=``, ``cert=`` and,
  when the ``proxy`` option is set, ``proxies=``). requests lets
  REQUESTS_CA_BUNDLE override a Session's own ``verify``; an explicit argument
  is the only thing that beats it. ``trust_env`` stays on, so HTTPS_PROXY,
  NO_PROXY and, with no ``ca_path``, REQUESTS_CA_BUNDLE keep working.
* urllib3 never retries (``max_retries=0``); the loop here does, with capped
  exponential backoff and full jitter, or the server's Retry-After.
* A non-idempotent request is sent at most once: it is repeated only when it
  certainly never reached the server.
* Redirects are not followed: a 3xx is an unexpected status unless listed in
  ``expected``. A token request must not wander to another host.
* Every error message names vendor, method and the URL without user info, query
  or fragment, never a request body, a header or an unparsed response body, and
  passes through the Redactor before it is raised.
"""

from __future__ import annotations

import base64
import email.utils
import importlib.util
import json as _json
import math
import os
import random
import re
import socket
import ssl
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.client import HTTPException, IncompleteRead, RemoteDisconnected
from urllib.parse import urlsplit

# requests (with urllib3) is imported by the first HttpClient, not with this module: a token served
# from the cache makes no request, and importing requests costs each Ansible worker process that
# loads one of the collection's lookups or actions more CPU than the rest of a cached lookup.
HAS_REQUESTS = importlib.util.find_spec("requests") is not None
requests = None
_rex = None
HTTPAdapter = None
_u3ex = None
_ADAPTER = None  # _adapter_class(), once requests is imported

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    HTTPStatusError,
    KeyMaterialError,
    MissingLibraryError,
    OptionError,
    Progress,
    Redactor,
    ResponseFormatError,
    TransportError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._urls import (
    SPACE_OR_CONTROL,
    clean_text,
    url_for_messages,
    url_problem,
)

# A token or key response is a few kilobytes; anything far larger is a fault.
MAX_BODY_BYTES = 1024 * 1024
# Statuses that mean "try again later"; retried for idempotent requests only.
RETRY_STATUSES = frozenset((408, 429, 500, 502, 503, 504))

_CHUNK = 64 * 1024
# Names of headers, form fields and query parameters whose values are secrets.
_SECRET_NAME = re.compile(r"(authorization|secret|passw(or)?d|token|assertion|key|credentials?|cookie|signature)$",
                          re.I)
_PROXY_SCHEMES = ("http", "https", "socks4", "socks4a", "socks5", "socks5h")


def _tls_eof(error) -> bool:
    """A TLS error that only says the peer closed the connection."""
    reason = str(getattr(error, "reason", None) or "")
    return isinstance(error, (ssl.SSLEOFError, ssl.SSLZeroReturnError)) or "EOF" in reason.upper()


# OpenSSL reasons of a handshake the peer refused: the request was never read.
_HANDSHAKE_REASONS = (
    "ALERT",
    "HANDSHAKE",
    "CERTIFICATE",
    "WRONG_VERSION_NUMBER",
    "UNKNOWN_PROTOCOL",
    "UNSUPPORTED_PROTOCOL",
    "NO_PROTOCOLS_AVAILABLE",
    "NO_SHARED_CIPHER",
    "NO_CIPHERS_AVAILABLE",
    "VERSION_TOO_LOW",
    "VERSION_TOO_HIGH",
    "RECORD_LAYER_FAILURE",
)
_CLIENT_CERT_HINT = (
    "The server may require a client certificate, or refused the one sent: "
    "check client_cert and client_key."
)
_TLS_VERIFY_HINT = (
    "Set ca_path to the CA bundle that signed the vendor's certificate, "
    "or set validate_certs: false only for testing."
)
# TLS 1.3 servers check the client certificate after the handshake, and some
# then just close the connection.
_TLS_CLOSED_HINT = "If the server requires a client certificate, check client_cert and client_key."


def _verify_hint(reason: str) -> str:
    """What to do about a certificate the client refused, by the reason OpenSSL gave."""
    lowered = reason.lower()
    if "expired" in lowered or "not yet valid" in lowered:
        return ("The server's certificate is outside its validity dates, or this machine's clock is wrong: "
                "check the clock, then ask the vendor.")
    if "mismatch" in lowered or "hostname" in lowered:
        return "The server's certificate is not for the host in the URL: check the URL's host name."
    return _TLS_VERIFY_HINT


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


@dataclass
class HttpOptions:
    """Transport settings: the user-facing options of every adapter."""

    validate_certs: bool = True
    ca_path: str | None = None  # CA bundle file, or a c_rehash'ed directory
    client_cert: str | None = None  # PEM certificate, may include the key
    client_key: str | None = None  # PEM key, unencrypted (requests takes no passphrase)
    proxy: str | None = None  # one proxy URL for http and https
    timeout: float = 30  # seconds, for connect and for each read
    retries: int = 3  # extra attempts after the first
    allow_http: bool = False  # plain http:// refused unless True
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 60.0  # longest Retry-After honoured
    user_agent: str = "apiauth.saas"


class _Headers(Mapping):
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
        return f"_Headers({dict(self.items())!r})"


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
        self.headers = _Headers(headers or {})
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


def parse_retry_after(value, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date), or None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # Python < 3.10 returns None for garbage
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT
        from datetime import timezone

        when = when.replace(tzinfo=timezone.utc)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _fmt_seconds(value: float) -> str:
    return f"{value:g}" if value < 1000 else str(int(round(value)))


def _check_readable(path: str, option: str, error_class) -> None:
    if not os.path.exists(path):
        raise error_class(f"{option} {path} does not exist.")
    if os.path.isdir(path):
        raise error_class(f"{option} {path} is a directory, not a PEM file.")
    if not os.access(path, os.R_OK):
        raise error_class(f"{option} {path} is not readable by the user running Ansible.")


def _read_pem(path: str, option: str) -> bytes:
    _check_readable(path, option, KeyMaterialError)
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BODY_BYTES)
    except OSError as exc:
        raise KeyMaterialError(f"Cannot read {option} {path}: {exc.strerror or type(exc).__name__}.") from None


def _no_passphrase(*_args) -> bytes:
    # Given to OpenSSL so that an encrypted key fails instead of prompting on a tty.
    return b""


def _check_client_cert(cert_path: str, key_path: str | None, cert_option: str, key_option: str) -> None:
    cert_pem = _read_pem(cert_path, cert_option)
    if b"-----BEGIN" not in cert_pem or b"CERTIFICATE-----" not in cert_pem:
        raise KeyMaterialError(f"{cert_option} {cert_path} holds no PEM certificate.")
    if key_path is None:
        key_pem, key_where = cert_pem, f"{cert_option} {cert_path}"
        if b"PRIVATE KEY-----" not in key_pem:
            raise KeyMaterialError(
                f"{cert_option} {cert_path} holds no private key: set {key_option} to the key file."
            )
    else:
        key_pem, key_where = _read_pem(key_path, key_option), f"{key_option} {key_path}"
        if b"PRIVATE KEY-----" not in key_pem:
            raise KeyMaterialError(f"{key_where} holds no PEM private key.")
    if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in key_pem or b"Proc-Type: 4,ENCRYPTED" in key_pem:
        raise KeyMaterialError(
            f"The private key in {key_where} is encrypted; a TLS client key must be unencrypted "
            "(requests cannot take a passphrase). Protect the file with its permissions instead."
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_cert_chain(cert_path, key_path, password=_no_passphrase)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise KeyMaterialError(f"The private key in {key_where} does not match {cert_option} {cert_path}.") from None
        reason = (exc.reason or "not a usable PEM certificate and private key").lower().replace("_", " ")
        raise KeyMaterialError(f"Cannot load {cert_option} {cert_path} with {key_where}: {reason}.") from None
    except OSError as exc:
        raise KeyMaterialError(
            f"Cannot load {cert_option} {cert_path}: {exc.strerror or type(exc).__name__}."
        ) from None


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _validate_options(options: HttpOptions) -> None:
    if not isinstance(options.validate_certs, bool):
        raise OptionError("validate_certs must be true or false.")
    if not isinstance(options.allow_http, bool):
        raise OptionError("allow_http must be true or false.")
    if not _is_number(options.timeout) or options.timeout <= 0:
        raise OptionError(f"timeout must be a number of seconds greater than 0, got {options.timeout!r}.")
    if isinstance(options.retries, bool) or not isinstance(options.retries, int) or options.retries < 0:
        raise OptionError(f"retries must be a whole number, 0 or more, got {options.retries!r}.")
    for name in ("backoff_base", "backoff_max", "retry_after_max"):
        value = getattr(options, name)
        if not _is_number(value) or value < 0:
            raise OptionError(f"{name} must be a number of seconds, 0 or more, got {value!r}.")
    if options.ca_path is not None:
        if not os.path.exists(options.ca_path):
            raise OptionError(f"ca_path {options.ca_path} does not exist.")
        if not os.access(options.ca_path, os.R_OK):
            raise OptionError(f"ca_path {options.ca_path} is not readable by the user running Ansible.")
        if not os.path.isdir(options.ca_path):
            _check_ca_file(options.ca_path)
    if options.client_key is not None and options.client_cert is None:
        raise OptionError("client_key is set but client_cert is not: set client_cert to the certificate file.")
    if options.client_cert is not None:
        _check_client_cert(options.client_cert, options.client_key, "client_cert", "client_key")
    if options.proxy is not None:
        _validate_proxy(options.proxy)


def _check_ca_file(path: str) -> None:
    # requests reads the bundle only when it connects; a file without a CA
    # would then fail as a TLS error that does not name the option.
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except (ssl.SSLError, OSError):
        raise OptionError(f"ca_path {path} holds no PEM CA certificate it can use.") from None


def _validate_proxy(proxy: str) -> None:
    shown = url_for_messages(proxy)
    if SPACE_OR_CONTROL.search(proxy):
        raise OptionError(f"proxy {shown} holds a space or a control character.")
    try:
        parts = urlsplit(proxy)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise OptionError(f"proxy {shown} is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in _PROXY_SCHEMES or not parts.hostname:
        raise OptionError(
            f"proxy {shown} must be a URL such as http://proxy.example.com:3128 "
            f"(scheme one of {', '.join(_PROXY_SCHEMES)})."
        )
    if scheme.startswith("socks"):
        try:
            import urllib3.contrib.socks  # noqa: F401
        except ImportError:
            raise MissingLibraryError("PySocks", "to use a SOCKS proxy") from None


def _exception_chain(exc: BaseException) -> list:
    """``exc`` and every exception it wraps (args, reason, cause, context)."""
    found, queue, seen = [], [exc], set()
    while queue:
        current = queue.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        queue.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        for attr in ("reason", "original_error", "__cause__", "__context__"):
            value = getattr(current, attr, None)
            if isinstance(value, BaseException):
                queue.append(value)
    return found


def _first(chain: list, classes):
    for item in chain:
        if isinstance(item, classes):
            return item
    return None


@dataclass
class _Failure:
    """One attempt that got no usable HTTP answer."""

    detail: str
    sent: bool  # False only when the request certainly never left
    retryable: bool
    hint: str | None = None


def _no_netrc_auth(request):
    return request


def _import_requests() -> bool:
    """Import requests and urllib3 into this module's globals, once; False if they cannot be imported."""
    global requests, _rex, HTTPAdapter, _u3ex, _ADAPTER
    if requests is not None:
        return True
    try:
        import requests as requests_module
        import requests.exceptions as requests_exceptions
        from requests.adapters import HTTPAdapter as adapter_class
        from urllib3 import exceptions as urllib3_exceptions
    except ImportError:
        return False
    _rex, HTTPAdapter, _u3ex = requests_exceptions, adapter_class, urllib3_exceptions
    _ADAPTER = _adapter_class()
    requests = requests_module
    return True


def _adapter_class():
    """requests' HTTPAdapter with connections whose failures while connecting say that nothing was sent.

    urllib3 reports a reset during the TCP or TLS set-up exactly like one
    after the request went out, and a write that must go out at most once
    could then never be retried. Raised as NewConnectionError instead, it is
    classified as "not sent". A reused kept-alive connection never gets there:
    a drop on it stays "may have been sent". Built on first use, after
    _import_requests().
    """
    # pylint: disable=import-outside-toplevel
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class ConnectPhase:
        def connect(self):
            try:
                super().connect()
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as exc:
                # Of TLS errors only an end of stream: a refused handshake or an
                # untrusted certificate keeps its own, more useful message.
                if isinstance(exc, ssl.SSLError) and not _tls_eof(exc):
                    raise
                raise _u3ex.NewConnectionError(self, f"closed while connecting: {type(exc).__name__}") from exc

    class Connection(ConnectPhase, HTTPConnection):
        pass

    class SConnection(ConnectPhase, HTTPSConnection):
        pass

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class SPool(HTTPSConnectionPool):
        ConnectionCls = SConnection

    class Adapter(HTTPAdapter):
        """Direct connections and connections through an HTTP proxy use the pools above."""

        pools = {"http": Pool, "https": SPool}

        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = self.pools

        def proxy_manager_for(self, proxy, **proxy_kwargs):
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if not proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = self.pools
            return manager

    return Adapter


class HttpClient:
    """Calls one vendor's API over one requests.Session.

    ``sleep`` and ``rand`` are injectable so tests neither wait nor guess.
    ``progress`` (an ``_errors.Progress``) counts every try and every pause
    before a retry, and gets one note per retry saying why and for how long.

    Backoff before retry ``n`` (0 for the first retry) is "full jitter":
    ``rand() * min(backoff_max, backoff_base * 2 ** n)``, so clients that fail
    together do not come back together. A Retry-After from the server replaces
    it exactly; one above ``retry_after_max`` ends the retries.
    """

    max_body = MAX_BODY_BYTES

    def __init__(
        self,
        options: HttpOptions,
        *,
        vendor: str,
        redactor: Redactor | None = None,
        sleep=time.sleep,
        rand=random.random,
        progress: Progress | None = None,
    ) -> None:
        if not HAS_REQUESTS or not _import_requests():
            raise MissingLibraryError("requests", "to call vendor APIs")
        self.vendor = vendor
        self.redactor = redactor if redactor is not None else Redactor()
        self.options = options
        self._sleep = sleep
        self._rand = rand
        self.progress = progress if progress is not None else Progress()
        # The secrets this client learns from its requests are masked in its notes too.
        self.progress.mask_with(self.redactor)
        try:
            _validate_options(options)
        except OptionError as exc:  # KeyMaterialError included
            raise exc.redacted(self.redactor) from None

        if not options.validate_certs:
            self._verify = False
        elif options.ca_path:
            self._verify = options.ca_path
        else:
            self._verify = True
        self._cert = self._cert_tuple(options.client_cert, options.client_key)
        self._proxies = None
        if options.proxy:
            self._proxies = {"http": options.proxy, "https": options.proxy}
            self._add_url_password(options.proxy)
        self._checked_certs: set = set()

        session = requests.Session()
        adapter = _ADAPTER(max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = options.user_agent
        session.headers["Accept"] = "application/json"
        # Set for completeness only: every call passes these explicitly.
        session.verify = self._verify
        session.cert = self._cert
        if self._proxies:
            session.proxies.update(self._proxies)
        # With trust_env on, requests adds ~/.netrc credentials to any request
        # without auth: a second client authentication on a client_secret_post
        # token request, which RFC 6749 forbids. A session-level auth that
        # changes nothing turns that lookup off; a call's own auth still wins.
        session.auth = _no_netrc_auth
        self._session = session

    # -- lifecycle -------------------------------------------------------

    def close(self) -> None:
        session, self._session = getattr(self, "_session", None), None
        if session is not None:
            session.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- helpers ---------------------------------------------------------

    @staticmethod
    def _cert_tuple(cert: str | None, key: str | None):
        if cert is None:
            return None
        return (cert, key) if key else cert

    def _add_url_password(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            self.redactor.add(parts.password)
        except ValueError:
            pass

    def _learn_secrets(self, url, headers, auth, data, json=None) -> None:
        """Teach the redactor the secrets this call carries, in case one is echoed.

        The redactor masks each in every encoding; a Basic header that requests
        builds from ``auth`` is learned whole, as is the signature of a JWT
        (a client assertion), which alone would let a replay be forged.
        """
        self._add_url_password(url)
        try:
            for pair in urlsplit(url).query.split("&"):
                name, _sep, value = pair.partition("=")
                if _SECRET_NAME.search(name):
                    self._learn(value)
        except ValueError:
            pass
        if auth and len(auth) > 1:
            self._learn(auth[1])
            try:
                pair = f"{auth[0]}:{auth[1]}".encode("latin-1")
            except (UnicodeEncodeError, TypeError):
                pair = None
            if pair is not None:
                self.redactor.add("Basic " + base64.b64encode(pair).decode("ascii"))
        for name, value in (headers or {}).items():
            if value is not None and _SECRET_NAME.search(str(name)):
                self._learn(value)
                self._learn(str(value).rpartition(" ")[2])
        for fields in (data, json):
            if isinstance(fields, dict):
                for name, value in fields.items():
                    if isinstance(value, (str, bytes)) and _SECRET_NAME.search(str(name)):
                        self._learn(value)

    def _learn(self, value) -> None:
        self.redactor.add(value)
        if isinstance(value, str) and value.count(".") == 2:
            signature = value.rpartition(".")[2]
            if len(signature) >= 16:
                self.redactor.add(signature)

    def _raise(self, error):
        raise error.redacted(self.redactor)

    def _validate_url(self, url: str) -> str:
        problem = url_problem(url, allow_http=self.options.allow_http, allow_userinfo=True)
        if problem:
            self._raise(OptionError(f"{self.vendor}: the URL {problem}"))
        return url_for_messages(url)

    def _request_cert(self, client_cert):
        if client_cert is None:
            return self._cert
        if isinstance(client_cert, str):
            client_cert = (client_cert,)
        client_cert = tuple(client_cert)
        if not client_cert or len(client_cert) > 2:
            raise ValueError("client_cert must be (cert_path,) or (cert_path, key_path)")
        cert, key = client_cert[0], (client_cert[1] if len(client_cert) > 1 else None)
        if (cert, key) not in self._checked_certs:
            try:
                _check_client_cert(cert, key, "client_cert", "client_key")
            except OptionError as exc:
                self._raise(exc)
            self._checked_certs.add((cert, key))
        return self._cert_tuple(cert, key)

    def _pause(self, seconds: float, *, attempt: int, request: str, why: str, reason: str) -> None:
        """Wait ``seconds`` before the next try, and say so: what failed, which try, how long and why."""
        progress = self.progress
        if progress.wants(1):
            shown = f"{seconds:.1f}" if seconds >= 1 else f"{seconds:.2f}"
            progress.note(1, f"{self.vendor}: {request}: {why}, attempt {attempt} of {self.options.retries + 1}; "
                             f"retrying in {shown} s ({reason})")
        self._sleep(seconds)
        progress.paused(seconds)

    def _backoff(self, retry_number: int) -> float:
        ceiling = min(self.options.backoff_max, self.options.backoff_base * (2 ** min(retry_number, 62)))
        return max(0.0, ceiling * float(self._rand()))

    def _proxy_for_message(self, url: str) -> str:
        if self.options.proxy:
            return url_for_messages(self.options.proxy)
        try:
            proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
        except Exception:  # pragma: no cover - best effort for a message
            proxy = None
        return f"{url_for_messages(proxy)} (from the environment)" if proxy else "the proxy"

    # -- one attempt -----------------------------------------------------

    def _read_body(self, response) -> tuple:
        length = response.headers.get("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_body:
            return b"", True
        chunks, size = [], 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > self.max_body:
                return b"", True
            chunks.append(chunk)
        return b"".join(chunks), False

    def _send_once(self, kwargs: dict, shown: str, method: str):
        """One attempt: (HttpResponse, body_too_large) or a _Failure."""
        try:
            with warnings.catch_warnings():
                if kwargs["verify"] is False:
                    warnings.simplefilter("ignore", _u3ex.InsecureRequestWarning)
                response = self._session.request(**kwargs)
            try:
                body, too_large = self._read_body(response)
                result = HttpResponse(
                    response.status_code,
                    response.headers,
                    body,
                    shown,
                    vendor=self.vendor,
                    method=method,
                    redactor=self.redactor,
                )
            finally:
                response.close()
            return result, too_large
        except Exception as exc:  # noqa: BLE001 - classified below, never shown raw
            return self._classify(exc, kwargs["url"]), False

    def _classify(self, exc: Exception, url: str) -> _Failure:
        chain = _exception_chain(exc)
        timeout = _fmt_seconds(self.options.timeout)

        if isinstance(exc, _rex.ProxyError) or _first(chain, _u3ex.ProxyError):
            tunnel = _first(chain, OSError)
            detail = "connection refused" if _first(chain, ConnectionRefusedError) else None
            if detail is None and tunnel is not None and str(tunnel).startswith("Tunnel connection failed"):
                detail = clean_text(str(tunnel), 100).lower()
            if detail is None and _first(chain, (_u3ex.ConnectTimeoutError, TimeoutError)):
                detail = f"no connection within the {timeout} s timeout"
            return _Failure(
                f"could not connect through proxy {self._proxy_for_message(url)}"
                + (f" ({detail})" if detail else ""),
                sent=False,
                retryable=True,
                hint="Check the proxy option, or HTTPS_PROXY and NO_PROXY in the environment.",
            )

        verify_error = _first(chain, (ssl.SSLCertVerificationError, ssl.CertificateError))
        if verify_error is not None:
            reason = getattr(verify_error, "verify_message", None) or getattr(verify_error, "reason", None)
            reason = clean_text(reason or "certificate verify failed", 200)
            return _Failure(
                f"TLS certificate verification failed ({reason})",
                sent=False,
                retryable=False,
                hint=_verify_hint(reason),
            )

        # Before the TLS branch: a connection closed while connecting (see
        # _ConnectPhase) sent nothing, whatever TLS error came with it.
        new_conn = _first(chain, _u3ex.NewConnectionError)
        if new_conn is not None:
            if _first(chain, ConnectionRefusedError):
                detail = "connection refused"
            elif _first(chain, (ConnectionResetError, BrokenPipeError)):
                detail = "the connection was reset while connecting"
            elif _first(chain, ssl.SSLError):
                detail = "the server closed the connection during the TLS handshake"
            elif _first(chain, getattr(_u3ex, "NameResolutionError", ())) or _first(chain, socket.gaierror):
                detail = "cannot resolve the host name"
            else:
                os_error = _first(chain, OSError)
                strerror = getattr(os_error, "strerror", None)
                detail = clean_text(strerror, 100).lower() if strerror else "connection failed"
            return _Failure(f"could not connect ({detail})", sent=False, retryable=True)

        ssl_error = _first(chain, ssl.SSLError)
        read_timeout = _first(chain, (_u3ex.ReadTimeoutError,))
        if ssl_error is not None and read_timeout is None:
            reason = str(getattr(ssl_error, "reason", None) or type(ssl_error).__name__)
            text = reason.lower().replace("_", " ")
            if any(marker in reason.upper() for marker in _HANDSHAKE_REASONS):
                hint = _CLIENT_CERT_HINT if "CERTIFICATE" in reason.upper() or "HANDSHAKE" in reason.upper() else None
                if "WRONG_VERSION_NUMBER" in reason.upper() or "RECORD_LAYER" in reason.upper():
                    hint = "Does the server speak HTTPS on this port?"
                # The peer refused the handshake: the request was never read.
                return _Failure(f"the TLS handshake failed ({text})", sent=False, retryable=False, hint=hint)
            # Some other TLS failure (EOF, bad record): it may have come after sending.
            if _tls_eof(ssl_error):
                return _Failure("the server closed the TLS connection unexpectedly", sent=True, retryable=True,
                                hint=_TLS_CLOSED_HINT)
            return _Failure(f"TLS error ({text})", sent=True, retryable=True)

        if isinstance(exc, _rex.ConnectTimeout):
            return _Failure(f"could not connect within the {timeout} s timeout", sent=False, retryable=True,
                            hint="Raise timeout if the vendor is slow to accept connections.")

        if isinstance(exc, _rex.ReadTimeout) or read_timeout is not None:
            return _Failure(f"no response within the {timeout} s timeout", sent=True, retryable=True,
                            hint="Raise timeout if the vendor is slow to answer.")

        if isinstance(exc, _rex.ContentDecodingError):
            return _Failure("the response body could not be decoded (bad Content-Encoding)", sent=True,
                            retryable=False)

        # RemoteDisconnected is a ConnectionResetError: test it first.
        if _first(chain, RemoteDisconnected):
            return _Failure("the server closed the connection without answering", sent=True, retryable=True)
        if _first(chain, ConnectionResetError):
            return _Failure("the connection was reset", sent=True, retryable=True)
        if _first(chain, BrokenPipeError):
            return _Failure("the server closed the connection while the request was sent", sent=True,
                            retryable=True)
        if _first(chain, (IncompleteRead, _u3ex.ProtocolError)) or isinstance(exc, _rex.ChunkedEncodingError):
            return _Failure("the connection broke before the whole response arrived", sent=True, retryable=True)
        if isinstance(exc, (_rex.InvalidURL, _rex.InvalidSchema, _rex.MissingSchema, _rex.InvalidHeader,
                            ValueError, TypeError)):
            # A URL or header requests refuses; its own text may quote the value.
            return _Failure(f"the request could not be built ({type(exc).__name__})", sent=False,
                            retryable=False)
        if isinstance(exc, _rex.ConnectionError) or _first(chain, (HTTPException, OSError)):
            return _Failure(f"connection error ({type(exc).__name__})", sent=True, retryable=True)
        return _Failure(f"unexpected error ({type(exc).__name__})", sent=True, retryable=False)

    # -- the public call -------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        data: dict | None = None,
        json: object = None,
        headers: dict | None = None,
        auth: tuple | None = None,
        idempotent: bool = True,
        client_cert: tuple | None = None,
        expected: tuple = (200,),
        error_parser=None,
    ) -> HttpResponse:
        """Send one request, retrying what may be retried; return the response.

        Raises OptionError/KeyMaterialError (bad URL or certificate),
        TransportError (no HTTP answer), HTTPStatusError (status not in
        ``expected``) or ResponseFormatError (body over ``max_body``).
        """
        if self._session is None:
            raise RuntimeError("HttpClient is closed")
        if data is not None and json is not None:
            raise ValueError("pass data or json, not both")
        method = str(method).upper()
        self._learn_secrets(url, headers, auth, data, json)
        shown = self._validate_url(url)
        cert = self._request_cert(client_cert)
        parser = error_parser or default_error_parser
        retries = self.options.retries

        kwargs = {
            "method": method,
            "url": url,
            "headers": headers,
            "auth": auth,
            "timeout": (self.options.timeout, self.options.timeout),
            # Explicit on every call: REQUESTS_CA_BUNDLE would beat session.verify.
            "verify": self._verify,
            "cert": cert,
            "allow_redirects": False,
            "stream": True,
        }
        if data is not None:
            kwargs["data"] = data
        if json is not None:
            kwargs["json"] = json
        if self._proxies:
            kwargs["proxies"] = dict(self._proxies)

        attempt = 0
        while True:
            attempt += 1
            result, too_large = self._send_once(kwargs, shown, method)
            self.progress.tried()
            may_retry = attempt <= retries
            after = f" after {attempt} attempts" if attempt > 1 else ""
            prefix = f"{self.vendor}: {method} {shown} failed{after}: "

            if isinstance(result, _Failure):
                if result.retryable and may_retry and (idempotent or not result.sent):
                    self._pause(self._backoff(attempt - 1), attempt=attempt, request=f"{method} {shown}",
                                why=result.detail, reason="backoff")
                    continue
                hint = result.hint
                if result.retryable and result.sent and not idempotent and retries:
                    notice = (
                        "The request may have reached the vendor, so it was not sent again: "
                        "check the vendor's state before running the task again."
                    )
                    hint = f"{hint} {notice}" if hint else notice
                self._raise(TransportError(_sentence(prefix + result.detail), hint=hint, sent=result.sent))

            response = result
            if response.status in expected:
                if too_large:
                    self._raise(ResponseFormatError(
                        f"{self.vendor}: the response to {method} {shown} is larger than "
                        f"{self.max_body} bytes; refusing to read it."
                    ))
                return response

            retry_after = None
            if response.status in RETRY_STATUSES and idempotent and may_retry:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                status = f"HTTP {response.status} {status_phrase(response.status)}".rstrip()
                if retry_after is None:
                    self._pause(self._backoff(attempt - 1), attempt=attempt, request=f"{method} {shown}",
                                why=status, reason="backoff")
                    continue
                if retry_after <= self.options.retry_after_max:
                    self._pause(retry_after, attempt=attempt, request=f"{method} {shown}", why=status,
                                reason=f"Retry-After: {_fmt_seconds(round(retry_after, 1))}")
                    continue

            vendor_error = {}
            if not too_large:
                try:
                    vendor_error = parser(response)
                except Exception:  # noqa: BLE001 - a parser bug must not hide the status
                    vendor_error = {}
                if not isinstance(vendor_error, dict):
                    vendor_error = {}
                # Callers may build their own messages from these fields.
                vendor_error = {
                    key: self.redactor.redact(value) if isinstance(value, str) else value
                    for key, value in vendor_error.items()
                }
            described = describe_vendor_error(vendor_error)
            if not described:
                described = status_phrase(response.status)
            message = prefix + f"HTTP {response.status}" + (f" {described}" if described else "")
            hint = None
            if retry_after is not None:
                message += (
                    f"; the vendor asked to wait {_fmt_seconds(retry_after)} s before retrying, "
                    f"longer than the {_fmt_seconds(self.options.retry_after_max)} s this collection waits"
                )
                hint = "Try again later."
            elif response.status in RETRY_STATUSES and not idempotent and retries:
                hint = "The request is not idempotent, so it was not sent again."
            self._raise(HTTPStatusError(_sentence(message), status=response.status, vendor_error=vendor_error,
                                        hint=hint))
