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

Where the parts live (each split off so that it can be read and tested alone):

* ``_http_options``: ``HttpOptions`` and the checks of options, PEM files,
  proxy and CA bundle made before anything is sent.
* ``_http_retry``: the retry decision, one pure function of the attempt, the
  failure or status, Retry-After, idempotency and the options.
* ``_http_failures``: an exception chain turned into what the user reads
  (kind, sent or not, TLS hints), and the urllib3 adapter that makes a
  connection closed while connecting recognisable as "not sent".
* ``_http_response``: ``HttpResponse`` and the reading of vendor error bodies.

This module keeps the client: the session, the secrets a call carries (taught
to the redactor), one attempt, and the loop that acts on the retry decision
and builds the error messages.
"""

from __future__ import annotations

import base64
import importlib.util
import random
import re
import time
import warnings
from urllib.parse import urlsplit

# requests (with urllib3) is imported by the first HttpClient, not with this module: a token served
# from the cache makes no request, and importing requests costs each Ansible worker process that
# loads one of the collection's lookups or actions more CPU than the rest of a cached lookup.
HAS_REQUESTS = importlib.util.find_spec("requests") is not None
requests = None
_u3ex = None
_ADAPTER = None  # _http_failures.adapter_class(), once requests is imported

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    HTTPStatusError,
    MissingLibraryError,
    OptionError,
    Progress,
    Redactor,
    ResponseFormatError,
    TransportError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._http_failures import Failure, adapter_class, classify
from ansible_collections.apiauth.saas.plugins.module_utils._http_options import (
    HttpOptions,
    check_client_cert,
    validate_options,
)
from ansible_collections.apiauth.saas.plugins.module_utils._http_response import (
    HttpResponse,
    default_error_parser,
    describe_vendor_error,
    status_phrase,
)
from ansible_collections.apiauth.saas.plugins.module_utils._http_retry import RETRY_STATUSES, decide_retry, fmt_seconds
from ansible_collections.apiauth.saas.plugins.module_utils._http_retry import (  # noqa: F401 pylint: disable=unused-import
    parse_retry_after,  # importable from here, as before the split
)
from ansible_collections.apiauth.saas.plugins.module_utils._urls import url_for_messages, url_problem

# A token or key response is a few kilobytes; anything far larger is a fault.
MAX_BODY_BYTES = 1024 * 1024

_CHUNK = 64 * 1024
# Names of headers, form fields and query parameters whose values are secrets.
_SECRET_NAME = re.compile(r"(authorization|secret|passw(or)?d|token|assertion|key|credentials?|cookie|signature)$",
                          re.I)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _no_netrc_auth(request):
    return request


def _import_requests() -> bool:
    """Import requests and urllib3 into this module's globals, once; False if they cannot be imported."""
    global requests, _u3ex, _ADAPTER
    if requests is not None:
        return True
    try:
        import requests as requests_module
        from requests.adapters import HTTPAdapter
        from urllib3 import exceptions as urllib3_exceptions
    except ImportError:
        return False
    _u3ex = urllib3_exceptions
    _ADAPTER = adapter_class(HTTPAdapter)
    requests = requests_module
    return True


def learn_request_secrets(redactor: Redactor, url, headers, auth, data, json=None) -> None:
    """Teach ``redactor`` the secrets a call carries, in case one is echoed.

    The redactor masks each in every encoding; a Basic header that requests
    builds from ``auth`` is learned whole, as is the signature of a JWT
    (a client assertion), which alone would let a replay be forged.
    """
    _add_url_password(redactor, url)
    try:
        for pair in urlsplit(url).query.split("&"):
            name, _sep, value = pair.partition("=")
            if _SECRET_NAME.search(name):
                _learn(redactor, value)
    except ValueError:
        pass
    if auth and len(auth) > 1:
        _learn(redactor, auth[1])
        try:
            pair = f"{auth[0]}:{auth[1]}".encode("latin-1")
        except (UnicodeEncodeError, TypeError):
            pair = None
        if pair is not None:
            redactor.add("Basic " + base64.b64encode(pair).decode("ascii"))
    for name, value in (headers or {}).items():
        if value is not None and _SECRET_NAME.search(str(name)):
            _learn(redactor, value)
            _learn(redactor, str(value).rpartition(" ")[2])
    for fields in (data, json):
        if isinstance(fields, dict):
            for name, value in fields.items():
                if isinstance(value, (str, bytes)) and _SECRET_NAME.search(str(name)):
                    _learn(redactor, value)


def _add_url_password(redactor: Redactor, url: str) -> None:
    try:
        parts = urlsplit(url)
        redactor.add(parts.password)
    except ValueError:
        pass


def _learn(redactor: Redactor, value) -> None:
    redactor.add(value)
    if isinstance(value, str) and value.count(".") == 2:
        signature = value.rpartition(".")[2]
        if len(signature) >= 16:
            redactor.add(signature)


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
            validate_options(options)
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
            _add_url_password(self.redactor, options.proxy)
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
                check_client_cert(cert, key, "client_cert", "client_key")
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
        """One attempt: (HttpResponse, body_too_large) or a Failure."""
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
        except Exception as exc:  # noqa: BLE001 - classified, never shown raw
            url = kwargs["url"]
            return classify(exc, timeout=self.options.timeout, proxy_shown=lambda: self._proxy_for_message(url)), False

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
        learn_request_secrets(self.redactor, url, headers, auth, data, json)
        shown = self._validate_url(url)
        cert = self._request_cert(client_cert)
        parser = error_parser or default_error_parser

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
            if isinstance(result, Failure):
                decision = decide_retry(attempt, options=self.options, idempotent=idempotent, failure=result,
                                        rand=self._rand)
            elif result.status in expected:
                if too_large:
                    self._raise(ResponseFormatError(
                        f"{self.vendor}: the response to {method} {shown} is larger than "
                        f"{self.max_body} bytes; refusing to read it."
                    ))
                return result
            else:
                status = f"HTTP {result.status} {status_phrase(result.status)}".rstrip()
                decision = decide_retry(attempt, options=self.options, idempotent=idempotent, status=result.status,
                                        status_text=status, retry_after=result.headers.get("Retry-After"),
                                        rand=self._rand)
            if decision.retry:
                self._pause(decision.delay, attempt=attempt, request=f"{method} {shown}", why=decision.why,
                            reason=decision.reason)
                continue
            after = f" after {attempt} attempts" if attempt > 1 else ""
            prefix = f"{self.vendor}: {method} {shown} failed{after}: "
            if isinstance(result, Failure):
                self._raise(transport_error(result, prefix, idempotent, self.options))
            self._raise(status_error(result, too_large, parser, prefix, decision.retry_after, idempotent, self.options,
                                     self.redactor))


def transport_error(failure: Failure, prefix: str, idempotent: bool, options: HttpOptions) -> TransportError:
    """The error of an attempt without an HTTP answer that is not retried."""
    hint = failure.hint
    if failure.retryable and failure.sent and not idempotent and options.retries:
        notice = (
            "The request may have reached the vendor, so it was not sent again: "
            "check the vendor's state before running the task again."
        )
        hint = f"{hint} {notice}" if hint else notice
    return TransportError(_sentence(prefix + failure.detail), hint=hint, sent=failure.sent)


def status_error(response: HttpResponse, too_large: bool, parser, prefix: str, retry_after, idempotent: bool,
                 options: HttpOptions, redactor: Redactor) -> HTTPStatusError:
    """The error of an unexpected status that is not retried; ``retry_after`` is a refused Retry-After."""
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
            key: redactor.redact(value) if isinstance(value, str) else value
            for key, value in vendor_error.items()
        }
    described = describe_vendor_error(vendor_error)
    if not described:
        described = status_phrase(response.status)
    message = prefix + f"HTTP {response.status}" + (f" {described}" if described else "")
    hint = None
    if retry_after is not None:
        message += (
            f"; the vendor asked to wait {fmt_seconds(retry_after)} s before retrying, "
            f"longer than the {fmt_seconds(options.retry_after_max)} s this collection waits"
        )
        hint = "Try again later."
    elif response.status in RETRY_STATUSES and not idempotent and options.retries:
        hint = "The request is not idempotent, so it was not sent again."
    return HTTPStatusError(_sentence(message), status=response.status, vendor_error=vendor_error, hint=hint)
