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
from ansible_collections.apiauth.saas.plugins.module_utils._option_groups import CACHE, HTTP


def with_env_fallback(group: dict, prefix: str, names=None, renamed: dict | None = None) -> dict:
    """The group with an environment fallback ``<prefix><NAME>`` on the named options.

    ``renamed`` maps an option to its old name (kept as an alias): the old
    name's variable stays a second fallback, so an environment set for it
    still serves.
    """
    for name in names or group:
        variables = [prefix + name.upper()]
        if renamed and name in renamed:
            variables.append(prefix + renamed[name].upper())
        group[name]["fallback"] = (env_fallback, variables)
    return group


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
    return with_env_fallback({
        "private_key_path": {"type": "path", "no_log": False},
        "private_key_content": {"type": "str", "no_log": True},
        "private_key_passphrase": {"type": "str", "no_log": True},
        "key_id": {"type": "str", "no_log": False},
        "signing_algorithm": {"type": "str", "choices": list(SUPPORTED_ALGORITHMS)},
        "assertion_audience": {"type": "str"},
        "assertion_lifetime": {"type": "int", "default": 60},
    }, env_prefix, ("private_key_path", "private_key_content", "private_key_passphrase", "key_id"))


PRIVATE_KEY_MUTUALLY_EXCLUSIVE = [("private_key_path", "private_key_content")]

with_env_fallback(HTTP, "APIAUTH_SAAS_")
with_env_fallback(CACHE, "APIAUTH_SAAS_")
with_env_fallback(OAUTH2, "APIAUTH_OAUTH2_", ("token_url", "client_id", "client_secret", "auth_method", "scope"))

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


def _check_one_name_each(spec: dict, names: dict, args: dict) -> None:
    """Refuse an option given under two of its names: Ansible would only warn, and keep one of them silently."""
    given: dict = {}
    for key in args:
        if key in names:
            given.setdefault(names[key], []).append(key)
    for name, keys in given.items():
        if len(keys) > 1:
            older = [key for key in keys if key != name]
            raise OptionError(
                f"{' and '.join(keys)} are names of one option, {name} "
                f"({', '.join(older)} {'is its older name' if len(older) == 1 else 'are its other names'}): "
                "give it once."
            )


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
    _check_one_name_each(spec, names, args)
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


# Names that lived here before each vendor's options moved to its _vendor_<name> file.
_MOVED = {
    "TOKEN_PLUGINS": "_catalogue", "MODULE_ONLY": "_catalogue", "MUTUALLY_EXCLUSIVE": "_catalogue",
    "module_spec": "_catalogue",
}


def __getattr__(name: str):
    """The names that moved, for code that still imports them from here."""
    if name in _MOVED:
        from ansible_collections.apiauth.saas.plugins.module_utils import _catalogue  # pylint: disable=import-outside-toplevel

        return getattr(_catalogue, name)
    if name == "THRIVE_APIKEY":
        from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thrive import APIKEY_OPTIONS  # pylint: disable=import-outside-toplevel

        return APIKEY_OPTIONS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
