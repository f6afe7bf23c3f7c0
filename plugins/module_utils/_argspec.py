# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs of the token modules, in groups that mirror the doc fragments.

Internal to the collection: no stability promise to code outside it.

The module files and their action plugins both validate with these, so a task
is checked the same way wherever it runs. Options fall back to the same
environment variables the lookup of the same name reads, so one setting on
the controller (a CI job's or an AWX credential's environment) serves both.
Each group matches one fragment in plugins/doc_fragments; ansible-test's
validate-modules keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.validation import check_type_dict
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError
from ansible_collections.apiauth.saas.plugins.module_utils._urls import url_problem
from ansible_collections.apiauth.saas.plugins.module_utils._jws import SUPPORTED_ALGORITHMS
from ansible_collections.apiauth.saas.plugins.module_utils._oauth2 import AUTH_METHODS, BASIC_ENCODINGS
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import DEFAULT_MIN_TTL


def _env(group: dict, prefix: str, names=None) -> dict:
    """The group with an environment fallback ``<prefix><NAME>`` on the named options."""
    for name in names or group:
        group[name]["fallback"] = (env_fallback, [prefix + name.upper()])
    return group


HTTP = {
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "client_cert": {"type": "path"},
    "client_key": {"type": "path", "no_log": False},
    "proxy": {"type": "str"},
    "timeout": {"type": "float", "default": 30},
    "retries": {"type": "int", "default": 3},
    "allow_http": {"type": "bool", "default": False},
}

CACHE = {
    "cache": {"type": "bool", "default": True},
    "cache_dir": {"type": "path"},
    "cache_encryption_key": {"type": "str", "no_log": True},
    "cache_backend": {"type": "str", "choices": ["file", "redis"], "default": "file"},
    "cache_redis_url": {"type": "str", "no_log": True},
    "cache_redis_password": {"type": "str", "no_log": True},
    "min_ttl": {"type": "int", "default": DEFAULT_MIN_TTL},
    "force_refresh": {"type": "bool", "default": False},
}

TOKEN_MODULE = {
    "censor_result": {"type": "bool", "default": True},
}

OAUTH2 = {
    "token_url": {"type": "str", "required": True, "no_log": False},
    "client_id": {"type": "str", "required": True},
    "client_secret": {"type": "str", "no_log": True},
    "auth_method": {"type": "str", "choices": list(AUTH_METHODS), "default": "client_secret_basic"},
    "basic_auth_encoding": {"type": "str", "choices": list(BASIC_ENCODINGS), "default": "form"},
    "scope": {"type": "list", "elements": "str"},
    "extra_params": {"type": "dict"},
}


def private_key_jwt(env_prefix: str) -> dict:
    """The signing-key options, with environment fallbacks named for one vendor."""
    return _env({
        "private_key_path": {"type": "path", "no_log": False},
        "private_key_content": {"type": "str", "no_log": True},
        "private_key_passphrase": {"type": "str", "no_log": True},
        "key_id": {"type": "str", "no_log": False},
        "signing_algorithm": {"type": "str", "choices": list(SUPPORTED_ALGORITHMS)},
        "assertion_audience": {"type": "str"},
        "assertion_lifetime": {"type": "int", "default": 60},
    }, env_prefix, ("private_key_path", "private_key_content", "private_key_passphrase", "key_id"))


PRIVATE_KEY_MUTUALLY_EXCLUSIVE = [("private_key_path", "private_key_content")]

THROUGHLINE = {
    "token_url": {"type": "str", "default": "https://api.findahelpline.com/oauth/token", "no_log": False},
    "client_id": {"type": "str", "required": True},
    "client_secret": {"type": "str", "required": True, "no_log": True},
}

THREDD = {
    "environment": {"type": "str", "required": True, "choices": ["uat", "production"]},
    "connectivity": {"type": "str", "default": "tls", "choices": ["tls", "mtls"]},
    "region": {"type": "str", "default": "default", "choices": ["default", "emea", "apac", "0", "1", "2"]},
    "base_url": {"type": "str"},
    "token_url": {"type": "str", "no_log": False},
    "client_id": {"type": "str", "required": True},
    "client_secret": {"type": "str", "no_log": True},
    "auth_method": {"type": "str", "default": "client_secret", "choices": ["client_secret", "private_key_jwt"]},
    "signing_cert_path": {"type": "path"},
    "certificate_warn_days": {"type": "int", "default": 30},
    "content_type": {"type": "str", "default": "application/json"},
    "jwks_preflight": {"type": "bool", "default": False},
    "organisation_id": {"type": "str"},
    "jwks_url": {"type": "str"},
}

THOUGHTTRACE = {
    "identity_url": {"type": "str", "default": "https://identity.thoughttrace.com"},
    "token_url": {"type": "str", "no_log": False},
    "client_id": {"type": "str", "required": True},
    "client_secret": {"type": "str", "required": True, "no_log": True},
}

THRIVE = {
    "environment": {"type": "str", "required": True, "choices": ["staging", "production"]},
    "tenant_id": {"type": "str", "required": True},
    "base_url": {"type": "str"},
    "token_url": {"type": "str", "no_log": False},
    "client_id": {"type": "str", "required": True},
    "client_secret": {"type": "str", "required": True, "no_log": True},
    "auth_method": {"type": "str", "default": "client_secret_basic",
                    "choices": ["client_secret_basic", "client_secret_post"]},
    "scope": {"type": "list", "elements": "str", "choices": ["api/all", "api/read", "api/write", "api/webhooks"]},
}

THOUGHTSPOT = {
    "host": {"type": "str", "required": True},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "secret_key": {"type": "str", "no_log": True},
    "admin_token": {"type": "str", "no_log": True},
    "token_type": {"type": "str", "default": "full", "choices": ["full", "object", "custom"], "no_log": False},
    "object_id": {"type": "str"},
    "org": {"type": "str", "aliases": ["org_id", "org_identifier"]},
    "validity_time_in_sec": {"type": "int", "default": 3600},
    "auto_create": {"type": "bool"},
    "groups": {"type": "list", "elements": "str", "aliases": ["group_identifiers"]},
    "email": {"type": "str"},
    "display_name": {"type": "str"},
    "persist_option": {"type": "str", "choices": ["NONE", "APPEND", "REPLACE", "RESET"]},
    "filter_rules": {"type": "list", "elements": "dict"},
    "parameter_values": {"type": "list", "elements": "dict"},
    "variable_values": {"type": "list", "elements": "dict"},
    "objects": {"type": "list", "elements": "dict"},
    "revoke_at_end": {"type": "bool", "default": False},
}

# Options of the thoughtspot_token module that its lookup does not have.
THOUGHTSPOT_MODULE = {
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "token": {"type": "str", "no_log": True},
    "revoke_all": {"type": "bool", "default": False},
}


_env(HTTP, "APIAUTH_SAAS_")
_env(CACHE, "APIAUTH_SAAS_")
_env(OAUTH2, "APIAUTH_OAUTH2_", ("token_url", "client_id", "client_secret", "auth_method", "scope"))
_env(THROUGHLINE, "APIAUTH_THROUGHLINE_")
_env(THREDD, "APIAUTH_THREDD_", ("environment", "connectivity", "region", "base_url", "token_url", "client_id",
                                 "client_secret", "auth_method", "signing_cert_path", "organisation_id"))
_env(THOUGHTTRACE, "APIAUTH_THOUGHTTRACE_", ("identity_url", "token_url", "client_id", "client_secret"))
_env(THOUGHTSPOT, "APIAUTH_THOUGHTSPOT_", ("host", "username", "password", "secret_key", "admin_token", "org"))
_env(THRIVE, "APIAUTH_THRIVE_", ("environment", "tenant_id", "base_url", "token_url", "client_id",
                                 "client_secret", "scope"))


# Options that hold the URL of a vendor endpoint: checked, by name, before anything is sent.
URL_OPTIONS = ("token_url", "base_url", "identity_url", "jwks_url", "url", "host")
_WANTED = {"str": "a string", "path": "a path", "int": "a whole number", "float": "a number",
           "bool": "true or false"}


def _shape(value) -> str | None:
    if isinstance(value, Mapping):
        return "a dictionary"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    return None


def _is_dict(item) -> bool:
    """Whether Ansible turns ``item`` into a dictionary (a mapping, or JSON or key=value text)."""
    if isinstance(item, Mapping):
        return True
    if not isinstance(item, str):
        return False
    try:
        check_type_dict(item)
    except TypeError:
        return False
    return True


def _type_problem(option: dict, value) -> str | None:
    """What Ansible would turn into a wrong value (a dict into its text, 'maybe' into false) or describe poorly."""
    kind = option.get("type") or "str"
    shape = _shape(value)
    if kind in _WANTED:
        if shape:
            return f"must be {_WANTED[kind]}, not {shape}"
        if kind == "bool" and not isinstance(value, bool):
            try:
                boolean(value, strict=True)
            except TypeError:
                return "must be true or false (or yes/no, on/off, 1/0)"
        if kind == "float" and isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return "must be a number"
    elif kind == "list":
        if shape == "a dictionary":
            return "must be a list, not a dictionary"
        if option.get("elements") in ("str", "path") and shape == "a list":
            inner = next((_shape(item) for item in value if _shape(item)), None)
            if inner:
                return f"must be a list of strings, not of items that are each {inner}"
        if option.get("elements") == "dict" and shape == "a list" and not all(_is_dict(item) for item in value):
            # Ansible's own message for such an item names neither the option nor the item.
            return "must be a list of dictionaries (one per entry, each with its own keys)"
    elif kind == "dict" and shape == "a list":
        return "must be a dictionary, not a list"
    return None


def _empty_problem(name: str, option: dict, value) -> str | None:
    if not isinstance(value, str) or value.strip():
        return None
    if option.get("type") == "path":
        return "must not be empty: give a path, or leave the option out"
    if name in URL_OPTIONS or name == "proxy":
        return "must not be empty: give a URL, or leave the option out"
    if option.get("required"):
        return "must not be empty"
    return None


def check_raw(spec: dict, args: dict, *, where: dict | None = None) -> None:
    """Refuse a value as given (before Ansible converts it) that no conversion makes right, naming the option.

    ``spec`` is an argument spec or a plugin's option definitions (the same
    keys); ``args`` maps option names or aliases to values; ``where`` says
    where a value came from when that is not the task itself. Values are
    never shown: any of them may be a secret.
    """
    names = {}
    for name, option in spec.items():
        names[name] = name
        for alias in option.get("aliases") or ():
            names[alias] = name
    for key, value in args.items():
        name = names.get(key)
        if name is None or value is None:
            continue
        problem = _type_problem(spec[name], value) or _empty_problem(name, spec[name], value)
        if problem:
            source = f" (from {where[key]})" if where and key in where else ""
            raise OptionError(f"{key}{source} {problem}.")


def check_urls(params: dict) -> None:
    """Refuse an endpoint URL option that is not an https:// URL (or http:// with allow_http), naming it."""
    for name in URL_OPTIONS:
        if params.get(name) is not None:
            problem = url_problem(params[name], allow_http=bool(params.get("allow_http")))
            if problem:
                raise OptionError(f"{name} {problem}")


def connection_options(params: dict) -> dict:
    """The HTTP and cache options of a task, to fetch a token of its own with the same settings."""
    return {name: params.get(name) for name in tuple(HTTP) + tuple(CACHE)}


def merge(*groups: dict) -> dict:
    spec: dict = {}
    for group in groups:
        for name, option in group.items():
            spec[name] = dict(option)
    return spec


# The options of each token plugin, shared by its module, action plugin and
# lookup; modules add TOKEN_MODULE.
TOKEN_PLUGINS = {
    "oauth2": merge(OAUTH2, private_key_jwt("APIAUTH_OAUTH2_"), HTTP, CACHE),
    "throughline": merge(THROUGHLINE, HTTP, CACHE),
    "thredd": merge(THREDD, private_key_jwt("APIAUTH_THREDD_"), HTTP, CACHE),
    "thoughttrace": merge(THOUGHTTRACE, HTTP, CACHE),
    "thrive": merge(THRIVE, HTTP, CACHE),
    "thoughtspot": merge(THOUGHTSPOT, HTTP, CACHE),
}

# Options a token module has beyond its lookup's.
MODULE_ONLY = {
    "thoughtspot": THOUGHTSPOT_MODULE,
}

MUTUALLY_EXCLUSIVE = {
    "oauth2": PRIVATE_KEY_MUTUALLY_EXCLUSIVE,
    "thredd": PRIVATE_KEY_MUTUALLY_EXCLUSIVE,
    "thoughtspot": [("password", "secret_key")],
}


def module_spec(name: str) -> dict:
    return merge(TOKEN_PLUGINS[name], MODULE_ONLY.get(name, {}), TOKEN_MODULE)


THRIVE_APIKEY = _env({
    "environment": {"type": "str", "required": True, "choices": ["staging", "production"]},
    "url": {"type": "str"},
    "admin_token": {"type": "str", "required": True, "no_log": True},
    "correlation_id": {"type": "str"},
    "tenant_id": {"type": "str", "required": True},
    "token_type": {"type": "str", "default": "permanent", "no_log": False},
    "services": {"type": "list", "elements": "str", "default": ["api-service"]},
    "current_api_key": {"type": "str", "no_log": True},
    "current_valid_until": {"type": "str"},
    "renew_before": {"type": "int", "default": 2592000},
    "rotate": {"type": "str", "default": "when_needed", "choices": ["when_needed", "always"]},
    "recovery_file": {"type": "path"},
    "censor_result": {"type": "bool", "default": True},
}, "APIAUTH_THRIVE_", ("admin_token", "tenant_id"))
