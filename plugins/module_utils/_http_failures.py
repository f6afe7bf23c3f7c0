# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed attempt means: the exception chain of requests and urllib3 turned into a kind and a hint.

Internal to the collection: no stability promise to code outside it.

Why a module of its own: whether a request may be sent again depends on one
fact, whether it certainly never left (``Failure.sent``), and the user needs
one sentence and one hint (TLS: which option to fix), never the library's
text, which may quote a URL with its credentials. Reading that out of
requests' and urllib3's nested exceptions is a job on its own, with the
urllib3 adapter that makes "closed while connecting" recognisable.

requests and urllib3 are never imported here at module level: the client
imports them with its first instance, and only then are these functions
called.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from http.client import HTTPException, IncompleteRead, RemoteDisconnected

from ansible_collections.apiauth.saas.plugins.module_utils._http_retry import fmt_seconds
from ansible_collections.apiauth.saas.plugins.module_utils._urls import clean_text


def tls_eof(error) -> bool:
    """A TLS error that only says the peer closed the connection."""
    reason = str(getattr(error, "reason", None) or "")
    return isinstance(error, (ssl.SSLEOFError, ssl.SSLZeroReturnError)) or "EOF" in reason.upper()


# OpenSSL reasons of a handshake the peer refused: the request was never read.
HANDSHAKE_REASONS = (
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
CLIENT_CERT_HINT = (
    "The server may require a client certificate, or refused the one sent: "
    "check client_cert and client_key."
)
TLS_VERIFY_HINT = (
    "Set ca_path to the CA bundle that signed the vendor's certificate, "
    "or set validate_certs: false only for testing."
)
# TLS 1.3 servers check the client certificate after the handshake, and some
# then just close the connection.
TLS_CLOSED_HINT = "If the server requires a client certificate, check client_cert and client_key."


def verify_hint(reason: str) -> str:
    """What to do about a certificate the client refused, by the reason OpenSSL gave."""
    lowered = reason.lower()
    if "expired" in lowered or "not yet valid" in lowered:
        return ("The server's certificate is outside its validity dates, or this machine's clock is wrong: "
                "check the clock, then ask the vendor.")
    if "mismatch" in lowered or "hostname" in lowered:
        return "The server's certificate is not for the host in the URL: check the URL's host name."
    return TLS_VERIFY_HINT


def exception_chain(exc: BaseException) -> list:
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


def first(chain: list, classes):
    for item in chain:
        if isinstance(item, classes):
            return item
    return None


@dataclass
class Failure:
    """One attempt that got no usable HTTP answer."""

    detail: str
    sent: bool  # False only when the request certainly never left
    retryable: bool
    hint: str | None = None


def classify(exc: Exception, *, timeout: float, proxy_shown) -> Failure:
    """The ``Failure`` of an exception raised by requests while sending; ``proxy_shown()`` names the proxy."""
    # pylint: disable=import-outside-toplevel
    import requests.exceptions as _rex
    from urllib3 import exceptions as _u3ex

    chain = exception_chain(exc)
    timeout = fmt_seconds(timeout)

    if isinstance(exc, _rex.ProxyError) or first(chain, _u3ex.ProxyError):
        tunnel = first(chain, OSError)
        detail = "connection refused" if first(chain, ConnectionRefusedError) else None
        if detail is None and tunnel is not None and str(tunnel).startswith("Tunnel connection failed"):
            detail = clean_text(str(tunnel), 100).lower()
        if detail is None and first(chain, (_u3ex.ConnectTimeoutError, TimeoutError)):
            detail = f"no connection within the {timeout} s timeout"
        return Failure(
            f"could not connect through proxy {proxy_shown()}"
            + (f" ({detail})" if detail else ""),
            sent=False,
            retryable=True,
            hint="Check the proxy option, or HTTPS_PROXY and NO_PROXY in the environment.",
        )

    verify_error = first(chain, (ssl.SSLCertVerificationError, ssl.CertificateError))
    if verify_error is not None:
        reason = getattr(verify_error, "verify_message", None) or getattr(verify_error, "reason", None)
        reason = clean_text(reason or "certificate verify failed", 200)
        return Failure(
            f"TLS certificate verification failed ({reason})",
            sent=False,
            retryable=False,
            hint=verify_hint(reason),
        )

    # Before the TLS branch: a connection closed while connecting (see
    # adapter_class) sent nothing, whatever TLS error came with it.
    new_conn = first(chain, _u3ex.NewConnectionError)
    if new_conn is not None:
        if first(chain, ConnectionRefusedError):
            detail = "connection refused"
        elif first(chain, (ConnectionResetError, BrokenPipeError)):
            detail = "the connection was reset while connecting"
        elif first(chain, ssl.SSLError):
            detail = "the server closed the connection during the TLS handshake"
        elif first(chain, getattr(_u3ex, "NameResolutionError", ())) or first(chain, socket.gaierror):
            detail = "cannot resolve the host name"
        else:
            os_error = first(chain, OSError)
            strerror = getattr(os_error, "strerror", None)
            detail = clean_text(strerror, 100).lower() if strerror else "connection failed"
        return Failure(f"could not connect ({detail})", sent=False, retryable=True)

    ssl_error = first(chain, ssl.SSLError)
    read_timeout = first(chain, (_u3ex.ReadTimeoutError,))
    if ssl_error is not None and read_timeout is None:
        reason = str(getattr(ssl_error, "reason", None) or type(ssl_error).__name__)
        text = reason.lower().replace("_", " ")
        if any(marker in reason.upper() for marker in HANDSHAKE_REASONS):
            hint = CLIENT_CERT_HINT if "CERTIFICATE" in reason.upper() or "HANDSHAKE" in reason.upper() else None
            if "WRONG_VERSION_NUMBER" in reason.upper() or "RECORD_LAYER" in reason.upper():
                hint = "Does the server speak HTTPS on this port?"
            # The peer refused the handshake: the request was never read.
            return Failure(f"the TLS handshake failed ({text})", sent=False, retryable=False, hint=hint)
        # Some other TLS failure (EOF, bad record): it may have come after sending.
        if tls_eof(ssl_error):
            return Failure("the server closed the TLS connection unexpectedly", sent=True, retryable=True,
                           hint=TLS_CLOSED_HINT)
        return Failure(f"TLS error ({text})", sent=True, retryable=True)

    if isinstance(exc, _rex.ConnectTimeout):
        return Failure(f"could not connect within the {timeout} s timeout", sent=False, retryable=True,
                       hint="Raise timeout if the vendor is slow to accept connections.")

    if isinstance(exc, _rex.ReadTimeout) or read_timeout is not None:
        return Failure(f"no response within the {timeout} s timeout", sent=True, retryable=True,
                       hint="Raise timeout if the vendor is slow to answer.")

    if isinstance(exc, _rex.ContentDecodingError):
        return Failure("the response body could not be decoded (bad Content-Encoding)", sent=True,
                       retryable=False)

    # RemoteDisconnected is a ConnectionResetError: test it first.
    if first(chain, RemoteDisconnected):
        return Failure("the server closed the connection without answering", sent=True, retryable=True)
    if first(chain, ConnectionResetError):
        return Failure("the connection was reset", sent=True, retryable=True)
    if first(chain, BrokenPipeError):
        return Failure("the server closed the connection while the request was sent", sent=True,
                       retryable=True)
    if first(chain, (IncompleteRead, _u3ex.ProtocolError)) or isinstance(exc, _rex.ChunkedEncodingError):
        return Failure("the connection broke before the whole response arrived", sent=True, retryable=True)
    if isinstance(exc, (_rex.InvalidURL, _rex.InvalidSchema, _rex.MissingSchema, _rex.InvalidHeader,
                        ValueError, TypeError)):
        # A URL or header requests refuses; its own text may quote the value.
        return Failure(f"the request could not be built ({type(exc).__name__})", sent=False,
                       retryable=False)
    if isinstance(exc, _rex.ConnectionError) or first(chain, (HTTPException, OSError)):
        return Failure(f"connection error ({type(exc).__name__})", sent=True, retryable=True)
    return Failure(f"unexpected error ({type(exc).__name__})", sent=True, retryable=False)


def adapter_class(HTTPAdapter):  # pylint: disable=invalid-name
    """requests' HTTPAdapter with connections whose failures while connecting say that nothing was sent.

    urllib3 reports a reset during the TCP or TLS set-up exactly like one
    after the request went out, and a write that must go out at most once
    could then never be retried. Raised as NewConnectionError instead, it is
    classified as "not sent". A reused kept-alive connection never gets there:
    a drop on it stays "may have been sent". Built on first use, once
    requests is imported.
    """
    # pylint: disable=import-outside-toplevel
    from urllib3 import exceptions as _u3ex
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class ConnectPhase:
        def connect(self):
            try:
                super().connect()
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as exc:
                # Of TLS errors only an end of stream: a refused handshake or an
                # untrusted certificate keeps its own, more useful message.
                if isinstance(exc, ssl.SSLError) and not tls_eof(exc):
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
