# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX credential types in extensions/awx/credential_types inject only names the plugins read.

For every injected environment variable or extra variable: the option it is meant for (the
input field it renders; the field ids are the options' names) reads it, in every module and
lookup of that vendor that has the option; or, for the admin types, the playbook it is meant
for declares and uses the variable. Secrets are secret fields, keys and certificates multiline,
choices and defaults those of the plugins, and a field left empty (AWX then injects an empty
string) only ever reaches a text option.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _argspec, _thoughtspot_tasks, _thoughttrace_clients
from backends.awx_injectors import check_definition, load_credential_types, referenced_field

ROOT = Path(__file__).resolve().parents[3]
TYPES = load_credential_types()
ALL_TOKEN_PLUGINS = sorted(_argspec.TOKEN_PLUGINS)


def _lookup_options(name: str) -> dict:
    from ansible.plugins.loader import fragment_loader
    from ansible.utils.plugin_docs import get_docstring

    return get_docstring(str(ROOT / "plugins" / "lookup" / f"{name}.py"), fragment_loader)[0]["options"]


MODULE_SPECS = {f"{name}_token": _argspec.module_spec(name) for name in ALL_TOKEN_PLUGINS}
MODULE_SPECS.update({
    "thrive_apikey": _argspec.merge(_argspec.THRIVE_APIKEY, _argspec.HTTP, _argspec.CACHE),
    "thoughttrace_client": _thoughttrace_clients.argument_spec(),
    "thoughtspot_token_info": _thoughtspot_tasks.info_argument_spec(),
    "thoughtspot_trusted_auth": _thoughtspot_tasks.trusted_auth_argument_spec(),
})
LOOKUPS = {f"{name}_token": _lookup_options(f"{name}_token") for name in ALL_TOKEN_PLUGINS}

# The plugins each credential type is for (modules by name; lookups of the same name where they exist).
TYPE_PLUGINS = {
    "oauth2": ["oauth2_token"],
    "throughline": ["throughline_token"],
    "thoughttrace": ["thoughttrace_token", "thoughttrace_client"],
    "thrive": ["thrive_token"],
    "thrive_admin": ["thrive_apikey"],
    "thredd": ["thredd_token"],
    "thoughtspot": ["thoughtspot_token", "thoughtspot_token_info", "thoughtspot_trusted_auth"],
    "tls_client_certificate": sorted(MODULE_SPECS),
    "token_cache": sorted(MODULE_SPECS),
    "thoughttrace_admin": [],
    "thoughtspot_admin": [],
}
# Extra variables of the admin types are the variables of these playbooks, handed to these modules.
TYPE_PLAYBOOKS = {
    "thoughttrace_admin": ("rotate_thoughttrace_client.yml", "thoughttrace_client"),
    "thoughtspot_admin": ("provision_thoughtspot_trusted_auth.yml", "thoughtspot_trusted_auth"),
    "thrive_admin": ("rotate_thrive_apikey.yml", "thrive_apikey"),
}
# Options that deliberately read no environment variable, so a credential's default never reaches them.
NOT_FROM_CREDENTIALS = {
    # The org whose trusted authentication is turned on or off is always named by the task.
    ("thoughtspot_trusted_auth", "org"),
}
SECRET_FIELDS = {"client_secret", "private_key_content", "private_key_passphrase", "secret_key", "password",
                 "admin_token", "admin_client_secret", "client_key", "cache_encryption_key", "cache_redis_url",
                 "cache_redis_password"}
PEM_FIELDS = {"private_key_content", "client_cert", "client_key"}


def _sources(plugin: str, option: str) -> dict:
    """{"module": [env names], "lookup_env": [...], "lookup_vars": [...]} of one option, where it exists."""
    found = {}
    spec = MODULE_SPECS.get(plugin, {})
    # A credential field keeps the name it was created with: an option's older name (an alias) serves it.
    option = next((name for name, entry in spec.items() if option in (entry.get("aliases") or ())), option)
    if option in spec:
        fallback = spec[option].get("fallback")
        found["module"] = list(fallback[1]) if fallback else []
    lookup = LOOKUPS.get(plugin, {})
    if option in lookup:
        found["lookup_env"] = [entry["name"] for entry in lookup[option].get("env", [])]
        found["lookup_vars"] = [entry["name"] for entry in lookup[option].get("vars", [])]
    return found


def _option_doc(plugin: str, option: str) -> dict:
    spec = MODULE_SPECS.get(plugin, {})
    option = next((name for name, entry in spec.items() if option in (entry.get("aliases") or ())), option)
    if option in LOOKUPS.get(plugin, {}):
        return LOOKUPS[plugin][option]
    return MODULE_SPECS[plugin][option]


def _injections():
    for stem, definition in TYPES.items():
        for kind in ("env", "extra_vars"):
            for name, template in (definition["injectors"].get(kind) or {}).items():
                yield pytest.param(stem, kind, name, template, id=f"{stem}-{name}")


def test_every_type_is_known_here():
    assert set(TYPES) == set(TYPE_PLUGINS), "add the new credential type to TYPE_PLUGINS"


@pytest.mark.parametrize("stem", sorted(TYPES))
def test_awx_would_accept_the_definition(stem):
    assert check_definition(TYPES[stem]) == []
    assert TYPES[stem]["name"].startswith("apiauth.saas ")


@pytest.mark.parametrize("stem, kind, name, template", list(_injections()))
def test_injected_name_is_a_source_of_its_option(stem, kind, name, template):
    option = referenced_field(template)
    assert option, f"{name} renders no input field"
    plugins = [p for p in TYPE_PLUGINS[stem] if _sources(p, option) and (p, option) not in NOT_FROM_CREDENTIALS]
    lookup_vars = {n for p in plugins for n in _sources(p, option).get("lookup_vars", [])}
    if kind == "extra_vars" and name not in lookup_vars:
        assert stem in TYPE_PLAYBOOKS, f"{name} is neither a lookup variable nor a playbook's"
        playbook = (ROOT / "playbooks" / TYPE_PLAYBOOKS[stem][0]).read_text()
        header = "\n".join(line for line in playbook.splitlines() if line.startswith("#"))
        body = "\n".join(line for line in playbook.splitlines() if not line.startswith("#"))
        assert name in header, f"{TYPE_PLAYBOOKS[stem][0]} does not document {name}"
        assert re.search(rf"\b{name}\b", body), f"{TYPE_PLAYBOOKS[stem][0]} does not use {name}"
        return
    assert plugins, f"no plugin of {stem} has the option {option}"
    for plugin in plugins:
        sources = _sources(plugin, option)
        if kind == "env":
            for where in ("module", "lookup_env"):
                if where in sources:
                    assert name in sources[where], f"{plugin} ({where}) does not read {name} for {option}"
        else:
            assert name in sources.get("lookup_vars", []), f"the {plugin} lookup does not read {name}"


@pytest.mark.parametrize("stem", sorted(TYPES))
def test_fields_secrets_choices_and_empty_values(stem):
    definition = TYPES[stem]
    injectors = definition["injectors"]
    templates = {**(injectors.get("env") or {}), **(injectors.get("extra_vars") or {}), **(injectors.get("file") or {})}
    used = {referenced_field(t) for t in templates.values()}
    required = set(definition["inputs"].get("required") or [])
    for field in definition["inputs"]["fields"]:
        fid = field["id"]
        assert fid in used, f"field {fid} is injected nowhere"
        assert field.get("secret", False) is (fid in SECRET_FIELDS), f"field {fid}: secret"
        assert field.get("multiline", False) is (fid in PEM_FIELDS), f"field {fid}: multiline"
        plugins = [p for p in TYPE_PLUGINS[stem] if _sources(p, fid) and (p, fid) not in NOT_FROM_CREDENTIALS]
        for plugin in plugins:
            doc = _option_doc(plugin, fid)
            if "choices" in field:
                assert set(field["choices"]) <= set(doc["choices"]), f"{plugin} {fid}: choices"
            if "default" in field:
                assert field["default"] == doc.get("default"), f"{plugin} {fid}: default"
        for name, template in templates.items():
            if referenced_field(template) != fid:
                continue
            jinja_default = re.search(r"default\('([^']*)', true\)", template)
            if jinja_default:
                # An empty field renders the plugin's own default (or the field's).
                expected = field.get("default")
                if expected is None:
                    module = plugins[0] if plugins else TYPE_PLAYBOOKS[stem][1]
                    expected = _option_doc(module, fid).get("default")
                if fid == "cache_dir":
                    expected = "~/.cache/apiauth.saas/tokens"  # default_cache_dir() without XDG_CACHE_HOME
                assert jinja_default.group(1) == expected, f"{name}: default"
            elif fid not in required and name in (injectors.get("env") or {}):
                # AWX injects '' for an empty field: only a text option without choices takes that as unset.
                for plugin in plugins:
                    doc = _option_doc(plugin, fid)
                    assert doc.get("type", "str") in ("str", "list") and "choices" not in doc, \
                        f"{name}: an empty {fid} would reach a {doc.get('type')} option of {plugin}"


def test_cache_dir_default_matches_the_plugins():
    from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import default_cache_dir
    import os

    saved = os.environ.pop("XDG_CACHE_HOME", None)
    try:
        assert default_cache_dir() == os.path.expanduser("~/.cache/apiauth.saas/tokens")
    finally:
        if saved is not None:
            os.environ["XDG_CACHE_HOME"] = saved


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.playbook_provision_thoughtspot_trusted_auth,
    pytest.mark.playbook_rotate_thoughttrace_client,
    pytest.mark.playbook_rotate_thrive_apikey,
    pytest.mark.thoughttrace_client,
    pytest.mark.thrive_apikey,
]
