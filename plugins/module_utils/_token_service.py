# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One call that turns plugin options into a token: cache first, network if needed.

Internal to the collection: no stability promise to code outside it.

Modules, action plugins and lookups all call ``get_token`` with a plain dict of
their options, so every adapter behaves the same. Nothing here imports Ansible.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    ApiAuthError,
    HTTPStatusError,
    KeyMaterialError,
    Progress,
    Redactor,
)
from ansible_collections.apiauth.saas.plugins.module_utils._oauth2 import (
    ClientCredentials,
    build_token_request,
    normalize_scope,
    parse_oauth_error,
    parse_token_response,
    present_record,
    token_endpoint_error,
)
from ansible_collections.apiauth.saas.plugins.module_utils._pem import MAX_MATERIAL_BYTES, read_material
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import (
    TokenCache,
    credential_label,
    entry_metadata,
)
from ansible_collections.apiauth.saas.plugins.module_utils._urls import url_for_messages

# The HTTP client and the shared cache are imported where a token is fetched or a shared layer is asked
# for, not with this module: a token served from the file cache needs neither, and every new Ansible worker
# process that serves one would pay for loading them (docs/benchmarks.md).
if TYPE_CHECKING:  # pragma: no cover
    from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient, HttpOptions

from ansible_collections.apiauth.saas.plugins.module_utils._option_groups import (  # noqa: F401 (re-exported)
    CACHE_SECRET_OPTIONS,
    DEFAULT_MIN_TTL,
    HTTP_OPTIONS,
)

# The secret options the engine itself reads from a token plugin's options (the client secret, the
# signing key) and the cache's: every token plugin's spec marks them no_log, which _catalogue checks.
SECRET_OPTIONS = ("client_secret", "private_key_content", "private_key_passphrase") + CACHE_SECRET_OPTIONS


class VendorProfile:
    """What sets one vendor's token endpoint apart from plain OAuth 2.0.

    The defaults are plain OAuth 2.0; a vendor module sets attributes or
    overrides the hooks (token_url, client_auth_method, identity_extra, check,
    preflight, decorate), so get_token stays one path for every vendor.
    """

    def __init__(
        self,
        *,
        name: str,
        display_name: str,
        default_token_url: str | None = None,
        auth_method: str | None = None,
        error_hints: dict | None = None,
        expected_token_type: str = "bearer",
        authorization_scheme: str | None = None,
    ) -> None:
        self.name = name  # short and stable: part of every cache key
        self.display_name = display_name  # shown in messages
        self.default_token_url = default_token_url
        # A vendor that documents one client authentication method gets it fixed.
        self.auth_method = auth_method
        self.error_hints = error_hints or {}
        self.expected_token_type = expected_token_type
        # The Authorization scheme as the vendor documents it; None: as RFC 6750 spells it.
        self.authorization_scheme = authorization_scheme

    def token_url(self, params: dict) -> str:
        return params.get("token_url") or self.default_token_url or ""

    def client_auth_method(self, params: dict) -> str:
        return self.auth_method or params.get("auth_method") or "client_secret_basic"

    def identity_extra(self, params: dict) -> dict:
        """Further fields that must separate cached tokens (environment, tenant...)."""
        return {}

    def check(self, params: dict, warnings: list) -> None:
        """Checks made on every call, before the cache or any request (certificates...)."""

    def preflight(self, params: dict, creds: ClientCredentials, client: HttpClient) -> None:
        """Checks made only before a token request goes out (a published key...)."""

    def decorate(self, record: dict, params: dict) -> dict:
        """Vendor fields added to the record returned to the user (base URL, headers...)."""
        return record


GENERIC = VendorProfile(name="oauth2", display_name="OAuth 2.0 provider")


def progress_fields(attempts: int, waited: float) -> dict:
    """``attempts`` and ``waited`` as a module result returns them: a task's HTTP tries, its waits to 0.1 s."""
    return {"attempts": attempts, "waited": round(waited, 1)}


@dataclass
class TokenOutcome:
    record: dict  # as returned to the user (see present_record)
    source: str  # "memory", "file", "shared" or "network"
    warnings: list
    attempts: int = 0  # HTTP requests tried for this token, retries included; 0 when a cache served it
    waited: float = 0.0  # seconds spent before retries and waiting for another process's fetch

    def progress_fields(self) -> dict:
        """``attempts`` and ``waited`` as a module result returns them."""
        return progress_fields(self.attempts, self.waited)


# How a note names the layer that served a token (see TokenCache.get_or_fetch).
_SERVED_BY = {
    "memory": "the memory cache of this process",
    "file": "the file cache",
    "shared": "the shared cache",
    "network": "the vendor",
}


def report_served(progress: Progress, source: str, identity: dict, cache: TokenCache) -> None:
    """At -vv: which layer served the token, so an operator sees why a run did or did not call the vendor."""
    if not progress.wants(2):
        return
    where = _SERVED_BY.get(source, source)
    if source == "file":
        where += f" ({cache.directory})"
    elif source == "network":
        where += f" ({progress.attempts} HTTP {'request' if progress.attempts == 1 else 'requests'})"
    progress.note(2, f"{credential_label(entry_metadata(identity, None, None))} served by {where}")


def http_options(params: dict) -> HttpOptions:
    from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpOptions  # pylint: disable=import-outside-toplevel

    kwargs = {name: params[name] for name in HTTP_OPTIONS if params.get(name) is not None}
    return HttpOptions(**kwargs)


def _read_key_material(path: str, what: str) -> bytes:
    # Bounded like every key and certificate read. A file over the bound is refused rather than
    # keyed by its first part: a change past the bound must not keep serving the old token.
    try:
        data = read_material(path)
    except OSError as exc:
        raise KeyMaterialError(f"Cannot read {what} {path}: {exc.strerror or exc}.") from None
    if len(data) > MAX_MATERIAL_BYTES:
        raise KeyMaterialError(f"{what} {path} is larger than {MAX_MATERIAL_BYTES // 1024 // 1024} MiB: "
                               "not a key or certificate file.")
    return data


def credentials_from(params: dict, profile: VendorProfile) -> ClientCredentials:
    return ClientCredentials(
        token_url=profile.token_url(params),
        client_id=params.get("client_id") or "",
        client_secret=params.get("client_secret"),
        auth_method=profile.client_auth_method(params),
        basic_auth_encoding=params.get("basic_auth_encoding") or "form",
        scope=normalize_scope(params.get("scope")),
        extra_params=dict(params.get("extra_params") or {}),
        private_key_path=params.get("private_key_path"),
        private_key_content=params.get("private_key_content"),
        private_key_passphrase=params.get("private_key_passphrase"),
        key_id=params.get("key_id"),
        signing_algorithm=params.get("signing_algorithm"),
        assertion_audience=params.get("assertion_audience"),
        assertion_lifetime=params.get("assertion_lifetime") or 60,
        has_client_cert=bool(params.get("client_cert")),
    )


def cache_identity(creds: ClientCredentials, profile: VendorProfile, params: dict) -> tuple[dict, list]:
    """What makes two requests ask for the same token, and the secrets that key it.

    The secrets enter the cache key only through a keyed hash (see _token_cache),
    so a rotated secret or key never gets an old token and is never stored.
    """
    identity = {
        "vendor": profile.name,
        "token_url": creds.token_url,
        "client_id": creds.client_id,
        "auth_method": creds.auth_method,
        "basic_auth_encoding": creds.basic_auth_encoding if creds.auth_method == "client_secret_basic" else None,
        "scope": creds.scope,
        "extra_params": sorted((str(k), str(v)) for k, v in creds.extra_params.items()),
        "key_id": creds.key_id,
        "signing_algorithm": creds.signing_algorithm,
        "assertion_audience": creds.assertion_audience,
    }
    identity.update(profile.identity_extra(params))
    secrets = [creds.client_secret]
    if creds.auth_method == "private_key_jwt":
        if creds.private_key_content:
            secrets.append(creds.private_key_content)
        else:
            secrets.append(_read_key_material(creds.private_key_path, "private_key_path").decode("latin-1"))
    return identity, secrets


def _client_cert_material(params: dict) -> list:
    """The client certificate and its private key, as secret material of the cache key.

    A certificate-bound token (RFC 8705) is only usable with its certificate.
    The key is what a client without a secret (tls_client_auth) proves itself
    with: it keys the cache entry's encryption, which a public certificate
    alone could not protect.
    """
    path = params.get("client_cert")
    if not path:
        return []
    material = [_read_key_material(path, "client_cert").decode("latin-1")]
    if params.get("client_key"):
        material.append(_read_key_material(params["client_key"], "client_key").decode("latin-1"))
    return material


def fetch_token(creds: ClientCredentials, profile: VendorProfile, client: HttpClient) -> tuple[dict, float | None]:
    """One request to the token endpoint, checked. Returns (record, expires_at)."""
    request = build_token_request(creds)
    requested_at = time.time()
    try:
        response = client.request("POST", request.url, data=request.data, headers=request.headers,
                                  expected=(200,), error_parser=parse_oauth_error)
    except HTTPStatusError as exc:
        if 400 <= exc.status < 500 and exc.status not in (408, 429):
            raise token_endpoint_error(profile.display_name, url_for_messages(request.url), exc.status,
                                       exc.vendor_error, profile.error_hints) from None
        raise
    return parse_token_response(
        response.json(),
        vendor=profile.display_name,
        requested_at=requested_at,
        requested_scope=creds.scope,
        expected_token_type=profile.expected_token_type,
    )


def redactor_for(params: dict, names=SECRET_OPTIONS) -> Redactor:
    """A redactor of the values of the secret options ``names`` (by default the token plugins')."""
    return Redactor(params.get(name) for name in names)


def token_cache(params: dict, cache_dir: str | None = None) -> TokenCache:
    """The token cache the task's options ask for.

    ``cache_dir`` is a directory of the caller's own (the revoke_at_end spool of
    a run), whose tokens must never reach the shared layer.
    """
    shared = None
    if not cache_dir and (params.get("cache_backend") or "file") != "file":
        from ansible_collections.apiauth.saas.plugins.module_utils._shared_cache import shared_layer  # pylint: disable=import-outside-toplevel

        shared = shared_layer(params)
    return TokenCache(cache_dir=cache_dir or params.get("cache_dir"), enabled=params.get("cache", True),
                      encryption_key=params.get("cache_encryption_key"), shared=shared)


def serve_cached(cache: TokenCache, identity: dict, secrets: list, fetch, params: dict, *, vendor: str,
                 redactor: Redactor, short_lived_advice: str = "lower min_ttl to cache it",
                 progress: Progress | None = None) -> tuple:
    """``cache.get_or_fetch`` with the task's min_ttl and force_refresh; returns (CacheResult, warnings).

    The token joins ``redactor``, and a token that cannot be reused is said so.
    ``progress`` gets the waits for other processes and, at -vv, a note naming
    the layer that served the token.
    """
    min_ttl = DEFAULT_MIN_TTL if params.get("min_ttl") is None else int(params["min_ttl"])
    if progress is None:
        progress = Progress()
    result = cache.get_or_fetch(identity, secrets, fetch, min_ttl=min_ttl,
                                force_refresh=bool(params.get("force_refresh")), progress=progress)
    redactor.add(result.record.get("access_token"))
    report_served(progress, result.source, identity, cache)
    warnings = list(result.warnings)
    if result.record.get("expires_at") is None:
        warnings.append(
            f"{vendor} did not say when the token expires, "
            "so it is not cached and every call asks for a new one."
        )
    elif result.short_lived:
        warnings.append(
            f"{vendor} issued a token that lives {result.record.get('lifetime')} s, less than "
            f"min_ttl ({min_ttl} s), so it will not be reused: {short_lived_advice}."
        )
    return result, warnings


def get_token(params: dict, profile: VendorProfile = GENERIC, progress: Progress | None = None) -> TokenOutcome:
    """Options in, token out: memory, then the file cache (and the shared one), then one request.

    ``progress`` (see ``_errors.Progress``) counts the tries and waits of this
    call and gets its notes, masked with this call's redactor.
    """
    redactor = redactor_for(params)
    if progress is None:
        progress = Progress()
    progress.mask_with(redactor)
    warnings: list = []
    client = None
    try:
        creds = credentials_from(params, profile)
        creds.validate()
        profile.check(params, warnings)
        identity, secrets = cache_identity(creds, profile, params)
        secrets.extend(_client_cert_material(params))
        cache = token_cache(params)

        def fetch():
            nonlocal client
            from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient  # pylint: disable=import-outside-toplevel

            client = HttpClient(http_options(params), vendor=profile.display_name, redactor=redactor, progress=progress)
            profile.preflight(params, creds, client)
            return fetch_token(creds, profile, client)

        result, served_warnings = serve_cached(cache, identity, secrets, fetch, params,
                                               vendor=profile.display_name, redactor=redactor, progress=progress)
        warnings.extend(served_warnings)
        shown = present_record(result.record, scheme=profile.authorization_scheme)
        return TokenOutcome(record=profile.decorate(shown, params), source=result.source,
                            warnings=[redactor.redact(str(warning)) for warning in warnings],
                            attempts=progress.attempts, waited=progress.waited)
    except ApiAuthError as exc:
        raise exc.redacted(redactor) from None
    finally:
        if client is not None:
            client.close()
