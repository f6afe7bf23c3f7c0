# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thredd's REST API tokens: environments, TLS or mTLS, client secret or private key JWT.

Internal to the collection: no stability promise to code outside it.

Thredd runs a UAT and a production environment, each reachable over TLS or
mutual TLS (with a Thredd-issued transport certificate). Production needs its
own credentials and nothing cached for UAT may ever be served for it, so the
environment and the connectivity are part of every cache key, even when the
URLs are overridden. Tokens live one hour. API calls need ``Authorization``,
``Content-Type`` and ``X-Region`` (0 default, 1 EMEA, 2 APAC).
"""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils import _certs
from ansible_collections.apiauth.saas.plugins.module_utils._errors import (
    KeyMaterialError,
    OptionError,
    ResponseFormatError,
)
from ansible_collections.apiauth.saas.plugins.module_utils._urls import path_segment
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import VendorProfile, url_for_messages
from ansible_collections.apiauth.saas.plugins.module_utils._argspec import (
    CACHE,
    HTTP,
    PRIVATE_KEY_MUTUALLY_EXCLUSIVE,
    with_env_fallback,
    merge,
    private_key_jwt,
)

ENVIRONMENTS = ("uat", "production")
CONNECTIVITIES = ("tls", "mtls")
AUTH_METHODS = ("client_secret_post", "private_key_jwt")
# Older names of auth_method values, still accepted: the same vocabulary as oauth2_token's.
AUTH_METHOD_ALIASES = {"client_secret": "client_secret_post"}

# Every Thredd URL in one table. The API hosts are Thredd's documented ones.
# Thredd documents https://threddid.com/oauth2/token as its token endpoint; the
# UAT one is not in its public documents, so it is a best guess here: confirm
# it with Thredd and set token_url when it differs.
API_BASE_URLS = {
    ("uat", "tls"): "https://uat-api.thredd.com",
    ("uat", "mtls"): "https://uat-mtls.thredd.com",
    ("production", "tls"): "https://api.thredd.com",
    ("production", "mtls"): "https://mtls.thredd.com",
}
TOKEN_URLS = {
    "uat": "https://uat.threddid.com/oauth2/token",
    "production": "https://threddid.com/oauth2/token",
}
# Thredd's document shows this address with http://; the public keys it serves
# decide which signatures Thredd trusts, so it is fetched over https here.
JWKS_URL_TEMPLATE = "https://jwks.threddid.com/{organisation_id}/jwks.json"

REGIONS = {"default": 0, "emea": 1, "apac": 2}
CERT_WARN_DAYS = 30
# What certificate messages call them: the option is named, so the message says what to fix.
TRANSPORT_CERT = "transport certificate (client_cert)"
SIGNING_CERT = "signing certificate (signing_cert_path)"
DEFAULT_CONTENT_TYPE = "application/json"


def region_number(value) -> int:
    """The X-Region number for ``default``/``emea``/``apac`` or 0/1/2."""
    if value is None:
        return 0
    text = str(value).strip().lower()
    if text in REGIONS:
        return REGIONS[text]
    if text in ("0", "1", "2"):
        return int(text)
    raise OptionError(f"region must be one of default, emea, apac (or 0, 1, 2); got {value!r}.")


def _choice(params: dict, name: str, choices: tuple, default: str) -> str:
    value = params.get(name) or default
    if value not in choices:
        raise OptionError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value


def organisation_segment(value) -> str:
    """The organisation id as a segment of the JWKS URL path; Thredd documents no form beyond an identifier."""
    return path_segment(value, what="org",
                        form="your Thredd organisation identifier: letters, digits, '.', '_', '~' and '-', "
                             "starting with a letter or digit")


def select_urls(environment: str, connectivity: str, *, base_url: str | None = None,
                token_url: str | None = None) -> tuple:
    """The API base URL and token URL for an environment and connectivity, or the overrides."""
    return (
        (base_url or API_BASE_URLS[(environment, connectivity)]).rstrip("/"),
        token_url or TOKEN_URLS[environment],
    )


def api_headers(authorization: str, region: int, content_type: str = DEFAULT_CONTENT_TYPE) -> dict:
    """The headers Thredd requires on every API call."""
    return {"Authorization": authorization, "X-Region": str(region), "Content-Type": content_type}


def _published_key(jwks, key_id: str, url: str) -> dict:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        raise ResponseFormatError(f"Thredd: the JWKS at {url} has no 'keys' list.")
    for key in keys:
        if isinstance(key, dict) and key.get("kid") == key_id:
            return key
    raise KeyMaterialError(
        f"Thredd: the signing key {key_id!r} is not published in the organisation's JWKS at {url}.",
        hint="Request or re-upload the signing certificate in Thredd Portal, or fix key_id, then try again.",
    )


_PUBLIC_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y")}


class ThreddVendor(VendorProfile):
    """Thredd's token endpoint and what its API calls need."""

    def __init__(self) -> None:
        super().__init__(
            name="thredd",
            display_name="Thredd",
            error_hints={
                "invalid_client": (
                    "Thredd refused the client credentials. Check client_id and the secret or signing key, and "
                    "that they belong to this environment: production needs its own credentials."
                ),
            },
        )

    @staticmethod
    def environment(params: dict) -> str:
        return _choice(params, "environment", ENVIRONMENTS, "uat")

    @staticmethod
    def connectivity(params: dict) -> str:
        return _choice(params, "connectivity", CONNECTIVITIES, "tls")

    def urls(self, params: dict) -> tuple:
        return select_urls(self.environment(params), self.connectivity(params),
                           base_url=params.get("base_url"), token_url=params.get("token_url"))

    def token_url(self, params: dict) -> str:
        return self.urls(params)[1]

    def client_auth_method(self, params: dict) -> str:
        method = params.get("auth_method") or "client_secret_post"
        method = _choice({"auth_method": AUTH_METHOD_ALIASES.get(method, method)}, "auth_method", AUTH_METHODS,
                         "client_secret_post")
        # Thredd takes the client id and secret in the form body: client_secret_post.
        return method

    def identity_extra(self, params: dict) -> dict:
        return {"environment": self.environment(params), "connectivity": self.connectivity(params)}

    def check(self, params: dict, warnings: list) -> None:
        region_number(params.get("region"))
        if self.client_auth_method(params) == "private_key_jwt" and not params.get("key_id"):
            # Thredd refuses an assertion without a kid header: said here, before any request.
            raise OptionError(
                "auth_method=private_key_jwt needs key_id, the KID Thredd gave the signing certificate (Thredd "
                "Portal, signing certificates): Thredd refuses an assertion without it. Nothing was sent."
            )
        warn_days = params.get("certificate_warn_days")
        warn_days = CERT_WARN_DAYS if warn_days is None else int(warn_days)
        if self.connectivity(params) == "mtls" and not params.get("client_cert"):
            raise OptionError(
                "connectivity=mtls needs the Thredd transport certificate in client_cert (and its key in "
                "client_key unless the certificate file holds it): Thredd refuses mTLS requests without it."
            )
        if params.get("client_cert"):
            warning = _certs.check_validity(params["client_cert"], what=TRANSPORT_CERT, warn_days=warn_days)
            if warning:
                warnings.append(warning)
        signing_cert = params.get("signing_cert_path")
        if signing_cert:
            if self.client_auth_method(params) != "private_key_jwt":
                raise OptionError("signing_cert_path is only used with auth_method=private_key_jwt.")
            warning = _certs.check_validity(signing_cert, what=SIGNING_CERT, warn_days=warn_days)
            if warning:
                warnings.append(warning)
            if not _certs.certificate_matches_key(signing_cert, self._signing_key(params), what=SIGNING_CERT):
                raise KeyMaterialError(
                    f"The {SIGNING_CERT} {signing_cert} does not belong to the private key given: "
                    "Thredd would refuse every assertion signed with it.",
                    hint="Use the private key you generated for this signing certificate.",
                )
        if params.get("jwks_preflight"):
            if self.client_auth_method(params) != "private_key_jwt":
                raise OptionError("jwks_preflight checks a signing key: it needs auth_method=private_key_jwt.")
            if not params.get("key_id"):
                raise OptionError("jwks_preflight needs key_id, the KID of the signing certificate.")
            if not params.get("jwks_url") and not params.get("org"):
                raise OptionError("jwks_preflight needs org, the Thredd organisation id (or jwks_url), to find the JWKS.")
            if not params.get("jwks_url"):
                organisation_segment(params["org"])

    @staticmethod
    def _signing_key(params: dict):
        from ansible_collections.apiauth.saas.plugins.module_utils import _jws

        return _jws.load_private_key(path=params.get("private_key_path"), content=params.get("private_key_content"),
                                     passphrase=params.get("private_key_passphrase"))

    def preflight(self, params: dict, creds, client) -> None:
        """Before a token request: is the signing key published where Thredd will look for it?"""
        if not params.get("jwks_preflight"):
            return
        url = params.get("jwks_url") or JWKS_URL_TEMPLATE.format(
            organisation_id=organisation_segment(params["org"]))
        shown = url_for_messages(url)
        response = client.request("GET", url, expected=(200,))
        published = _published_key(response.json(), params["key_id"], shown)
        ours = self._signing_key(params).public_jwk()
        members = _PUBLIC_MEMBERS.get(ours.get("kty"), ())
        if published.get("kty") != ours.get("kty") or any(published.get(m) != ours.get(m) for m in members):
            raise KeyMaterialError(
                f"Thredd: the key published as {params['key_id']!r} at {shown} is not the public half of the "
                "private key given, so Thredd would refuse the assertion.",
                hint="Use the private key of that signing certificate, or the KID of the certificate you hold.",
            )

    def decorate(self, record: dict, params: dict) -> dict:
        base_url = self.urls(params)[0]
        region = region_number(params.get("region"))
        content_type = params.get("content_type") or DEFAULT_CONTENT_TYPE
        record.update(
            base_url=base_url,
            environment=self.environment(params),
            connectivity=self.connectivity(params),
            region=region,
            headers=api_headers(record["authorization"], region, content_type),
        )
        return record


THREDD = ThreddVendor()


# The options of the thredd_token module and lookup (the module adds censor_result).
OPTIONS = with_env_fallback({
    "environment": {"type": "str", "required": True, "choices": list(ENVIRONMENTS)},
    "connectivity": {"type": "str", "default": "tls", "choices": list(CONNECTIVITIES)},
    "region": {"type": "str", "default": "default", "choices": ["default", "emea", "apac", "0", "1", "2"]},
    "base_url": {"type": "str"},
    "token_url": {"type": "str", "no_log": False},
    "client_id": {"type": "str", "required": True},
    "client_secret": {"type": "str", "no_log": True},
    "auth_method": {"type": "str", "default": "client_secret_post",
                    "choices": list(AUTH_METHODS) + list(AUTH_METHOD_ALIASES)},
    "signing_cert_path": {"type": "path"},
    "certificate_warn_days": {"type": "int", "default": CERT_WARN_DAYS},
    "content_type": {"type": "str", "default": DEFAULT_CONTENT_TYPE},
    "jwks_preflight": {"type": "bool", "default": False},
    "org": {"type": "str", "aliases": ["organisation_id"]},
    "jwks_url": {"type": "str"},
}, "APIAUTH_THREDD_", ("environment", "connectivity", "region", "base_url", "token_url", "client_id",
                       "client_secret", "auth_method", "signing_cert_path", "org"), renamed={"org": "organisation_id"})
TOKEN_OPTIONS = merge(OPTIONS, private_key_jwt("APIAUTH_THREDD_"), HTTP, CACHE)
TOKEN_MUTUALLY_EXCLUSIVE = PRIVATE_KEY_MUTUALLY_EXCLUSIVE
