"""THRIVE (learning platform) OAuth 2.0 client credentials, per tenant, under ``/thrive``.

Real token URLs: ``https://public.api.learnstaging.link/oauth2/token/<tenant_id>``
(staging) and ``https://public.api.learn.link/oauth2/token/<tenant_id>``
(production). Here:

    POST /thrive/staging/oauth2/token/<tenant_id>
    POST /thrive/production/oauth2/token/<tenant_id>
    GET  /thrive/staging/api/v1/users        (sample API)
    GET  /thrive/production/api/v1/users

Clients are registered with ``tenant_id`` and ``environment`` and are only
known for that tenant in that environment (401 ``invalid_client`` elsewhere).
``client_secret_basic`` (form-encoded per RFC 6749 §2.3.1, or ``raw`` per
client) and ``client_secret_post``. Scopes: each client has an allowed set,
a subset of ``api/all api/read api/write api/webhooks`` (default ``api/all``);
a request asks for a subset of it (``invalid_scope`` otherwise) and gets what
it asked for, or the client's whole set. Tokens: ``Bearer``, 3600 s, with
``scope``. The sample API needs a token of the same environment with
``api/read`` or ``api/all`` (403 ``insufficient_scope`` otherwise).

Tenant API keys (GraphQL ``generateApiKey`` at ``/thrive/<env>/tenants``, HTTP
Basic at ``/thrive/<env>/api/v1/me``) live in :mod:`thrive_tenants`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from . import thrive_tenants
from .core import AdminError, Client, IssuedToken, Request, Response, SimApp, json_response, oauth_error, partition_of
from .oauth2 import (
    ClientCredentialsEndpoint,
    Presented,
    TokenPolicy,
    add_token_endpoint,
    bearer_challenge,
    bearer_protected,
    demo_secret,
    invalid_client,
)

VENDOR = "thrive"
PREFIX = "/thrive"
ENVIRONMENTS: tuple[str, ...] = ("staging", "production")
SCOPES: tuple[str, ...] = ("api/all", "api/read", "api/write", "api/webhooks")
DEFAULT_SCOPE = "api/all"
READ_SCOPES = frozenset({"api/read", "api/all"})
METHODS: tuple[str, ...] = ("client_secret_basic", "client_secret_post")

POLICY = TokenPolicy(
    vendor=VENDOR,
    token_path=PREFIX + "/{environment}/oauth2/token/{tenant_id}",  # documentation only; see register()
    methods=METHODS,
    token_type="Bearer",
    default_lifetime=3600,
    realm="thrive",
)

_USERS = [
    {"id": "usr-sim-001", "display_name": "Example Learner", "status": "active"},
    {"id": "usr-sim-002", "display_name": "Sample Manager", "status": "active"},
]


def token_path(environment: str) -> str:
    return f"{PREFIX}/{environment}/oauth2/token/{{tenant_id}}"


class ThriveTokenEndpoint(ClientCredentialsEndpoint):
    """The generic endpoint for one environment; the tenant comes from the path."""

    def __init__(self, environment: str) -> None:
        super().__init__(replace(POLICY, token_path=token_path(environment)))
        self.environment = environment

    def _note(self, req: Request, form: dict[str, str], pres: Presented) -> None:
        super()._note(req, form, pres)
        req.audit["environment"] = self.environment
        req.audit["tenant_id"] = req.path_params.get("tenant_id")

    def _client(self, req: Request, client_id: str | None) -> Client | None:
        tenant_id = req.path_params.get("tenant_id")
        client = req.app.get_client(VENDOR, client_id, partition_of(self.environment, tenant_id))
        if client is None and client_id is not None and req.app.client_partitions(VENDOR, client_id):
            raise invalid_client(f"unknown client for tenant {tenant_id} in {self.environment}: a client is only "
                                 "valid for the tenant and environment it was created in",
                                 challenge=req.header("Authorization") is not None)
        return client

    def _token_binding(self, req: Request, client: Client) -> dict[str, Any]:
        return {"environment": self.environment, "tenant_id": client.tenant_id}


def _users(environment: str) -> Callable[[Request, IssuedToken], Response]:
    def handler(req: Request, token: IssuedToken) -> Response:
        req.audit["environment"] = environment
        req.audit["tenant_id"] = token.tenant_id
        if token.environment != environment:
            return oauth_error(401, "invalid_token", "token was not issued for this environment", bearer_challenge())
        granted = set((token.scope or "").split())
        if not granted & READ_SCOPES:
            return oauth_error(403, "insufficient_scope", "this API needs scope api/read or api/all",
                               bearer_challenge("insufficient_scope", scope="api/read"))
        return json_response(200, {"environment": environment, "tenant_id": token.tenant_id,
                                   "client_id": token.client_id, "scope": token.scope, "users": _USERS})

    return handler


def admit_client(_app: SimApp, client: Client) -> None:
    """Validate a THRIVE client: environment, tenant_id, methods and scopes."""
    if client.environment not in ENVIRONMENTS:
        raise AdminError(f"thrive clients need environment {' or '.join(ENVIRONMENTS)}")
    if not client.tenant_id or "/" in client.tenant_id:
        raise AdminError("thrive clients need tenant_id (e.g. eu-west-2_AbCdEf123)")
    if client.organisation_id is not None:
        raise AdminError("thrive clients have no organisation_id")
    if client.auth_methods is not None and not set(client.auth_methods) <= set(METHODS):
        raise AdminError(f"thrive supports only {', '.join(METHODS)}")
    if client.client_secret is None:
        raise AdminError("thrive clients need client_secret")
    scopes = (client.scope or DEFAULT_SCOPE).split()
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise AdminError(f"thrive scopes must be drawn from {' '.join(SCOPES)} (got {' '.join(unknown)})")
    client.scope = " ".join(scopes)


def register(app: SimApp) -> None:
    for environment in ENVIRONMENTS:
        add_token_endpoint(app, POLICY, ThriveTokenEndpoint(environment))
        app.add_route("GET", f"{PREFIX}/{environment}/api/v1/users", bearer_protected(VENDOR, _users(environment)),
                      vendor=VENDOR)
    thrive_tenants.register(app, ENVIRONMENTS)


def seed_demo(app: SimApp) -> dict[str, str]:
    secret = demo_secret()
    client = Client(VENDOR, "demo-thrive", client_secret=secret, environment="staging",
                    tenant_id="eu-west-2_DemoTenant1", scope="api/read api/write")
    admit_client(app, client)
    app.put_client(client)
    return thrive_tenants.seed_demo(app, "eu-west-2_DemoTenant1") | {
        "thrive_staging_base_url": f"{app.base_url}{PREFIX}/staging",
        "thrive_production_base_url": f"{app.base_url}{PREFIX}/production",
        "thrive_tenant_id": "eu-west-2_DemoTenant1",
        "thrive_client_id": "demo-thrive",
        "thrive_client_secret": secret,
    }
