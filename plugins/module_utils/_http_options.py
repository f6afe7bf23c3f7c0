# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transport options of the engine and their checks, made before anything is sent.

Internal to the collection: no stability promise to code outside it.

Why a module of its own: every message here names the user-facing option
(validate_certs, ca_path, client_cert, client_key, proxy, timeout, retries,
allow_http) and says what to fix; none of it needs requests, so a bad option
is refused the same way whichever transport sends the request.
"""

from __future__ import annotations

import math
import os
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    KeyMaterialError,
    MissingLibraryError,
    OptionError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._fileio import open_regular
from ansible_collections.apiauth.saas.plugins.module_utils._pem import MAX_MATERIAL_BYTES, read_material
from ansible_collections.apiauth.saas.plugins.module_utils._urls import SPACE_OR_CONTROL, url_for_messages

# A PEM file this large is no certificate or key: read no further.
MAX_PEM_BYTES = MAX_MATERIAL_BYTES
PROXY_SCHEMES = ("http", "https", "socks4", "socks4a", "socks5", "socks5h")


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
        return read_material(path, MAX_PEM_BYTES)[:MAX_PEM_BYTES]
    except OSError as exc:
        raise KeyMaterialError(f"Cannot read {option} {path}: {exc.strerror or type(exc).__name__}.") from None


def _no_passphrase(*_args) -> bytes:
    # Given to OpenSSL so that an encrypted key fails instead of prompting on a tty.
    return b""


def check_client_cert(cert_path: str, key_path: str | None, cert_option: str, key_option: str) -> None:
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


def validate_options(options: HttpOptions) -> None:
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
        check_client_cert(options.client_cert, options.client_key, "client_cert", "client_key")
    if options.proxy is not None:
        _validate_proxy(options.proxy)


def _check_ca_file(path: str) -> None:
    # requests reads the bundle only when it connects; a file without a CA
    # would then fail as a TLS error that does not name the option. OpenSSL
    # would wait forever on a FIFO: only a regular file is handed to it.
    try:
        os.close(open_regular(path))
    except OSError as exc:
        raise OptionError(f"ca_path {path} cannot be read: {exc.strerror or type(exc).__name__}.") from None
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
    if scheme not in PROXY_SCHEMES or not parts.hostname:
        raise OptionError(
            f"proxy {shown} must be a URL such as http://proxy.example.com:3128 "
            f"(scheme one of {', '.join(PROXY_SCHEMES)})."
        )
    if scheme.startswith("socks"):
        try:
            import urllib3.contrib.socks  # noqa: F401
        except ImportError:
            raise MissingLibraryError("PySocks", "to use a SOCKS proxy") from None
