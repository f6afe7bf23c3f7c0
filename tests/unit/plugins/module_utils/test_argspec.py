"""The argument specs agree with the engine and with the lookups' documentation; the token modules' return docs agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _argspec
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import HTTP_OPTIONS, SECRET_OPTIONS

ROOT = Path(__file__).resolve().parents[4]


def test_http_group_matches_engine():
    assert tuple(_argspec.HTTP) == HTTP_OPTIONS


def test_secret_options_are_no_log():
    for spec in _argspec.TOKEN_PLUGINS.values():
        for name, entry in spec.items():
            if name in SECRET_OPTIONS:
                assert entry.get("no_log") is True, name


def _lookup_options(name: str) -> dict:
    """The lookup's options as ansible-doc shows them, fragments merged."""
    from ansible.plugins.loader import fragment_loader
    from ansible.utils.plugin_docs import get_docstring

    doc = get_docstring(str(ROOT / "plugins" / "lookup" / f"{name}_token.py"), fragment_loader)[0]
    return doc["options"]


@pytest.mark.parametrize("name", sorted(_argspec.TOKEN_PLUGINS))
def test_module_and_lookup_share_options_and_env_names(name):
    """Module and lookup of one name take the same options, from the same environment variables."""
    lookup = _lookup_options(name)
    spec = _argspec.TOKEN_PLUGINS[name]
    assert set(lookup) - {"output"} == set(spec)
    for option, entry in spec.items():
        fallback = entry.get("fallback")
        module_env = fallback[1] if fallback else []
        lookup_env = [e["name"] for e in lookup[option].get("env", [])]
        # A renamed option reads its old variable too. The module's fallback takes the first variable set,
        # Ansible's configuration the last: the lookup lists them in the opposite order, so the new name wins in both.
        assert module_env == lookup_env[::-1], option
        if option in SECRET_OPTIONS:
            assert "ini" not in lookup[option], f"{option} must never come from ansible.cfg"


SHARED_CACHE_SOURCES = {
    "cache_backend": ("APIAUTH_SAAS_CACHE_BACKEND", "apiauth_saas_cache_backend"),
    "cache_redis_url": ("APIAUTH_SAAS_CACHE_REDIS_URL", "apiauth_saas_cache_redis_url"),
    "cache_redis_password": ("APIAUTH_SAAS_CACHE_REDIS_PASSWORD", "apiauth_saas_cache_redis_password"),
}


@pytest.mark.parametrize("name", sorted(_argspec.TOKEN_PLUGINS))
def test_shared_cache_options_have_the_same_sources_in_module_and_lookup(name):
    """The shared backend's options: one environment variable for modules and lookups, one variable for lookups."""
    lookup = _lookup_options(name)
    spec = _argspec.TOKEN_PLUGINS[name]
    for option, (env, var) in SHARED_CACHE_SOURCES.items():
        assert spec[option]["fallback"][1] == [env]
        assert [e["name"] for e in lookup[option]["env"]] == [env]
        assert [v["name"] for v in lookup[option]["vars"]] == [var]
        assert lookup[option].get("default") == spec[option].get("default")
    assert spec["cache_redis_url"]["no_log"] and spec["cache_redis_password"]["no_log"]
    assert lookup["cache_backend"]["choices"] == spec["cache_backend"]["choices"] == ["file", "redis"]


def test_every_module_of_the_action_group_takes_every_cache_option():
    """module_defaults for group/apiauth.saas.saas may set the cache options: every member must accept them."""
    import importlib

    import yaml

    group = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["saas"]
    for module in group:
        action = importlib.import_module(f"ansible_collections.apiauth.saas.plugins.action.{module}")
        missing = set(_argspec.CACHE) - set(action.ActionModule.ARGUMENT_SPEC)
        assert not missing, f"{module} lacks {sorted(missing)}"


# The token modules that return an OAuth 2.0 token record (thoughtspot_token returns ThoughtSpot's own, documented
# apart). ansible-core 2.17, the oldest this collection supports, cannot extend RETURN from a doc fragment, so each
# module holds its own copy of the values they share: this keeps the copies together.
OAUTH2_TOKEN_MODULES = ("oauth2_token", "thoughttrace_token", "thredd_token", "thrive_token", "throughline_token")


def _return_docs(module: str) -> dict:
    import ast

    import yaml

    tree = ast.parse((ROOT / "plugins" / "modules" / f"{module}.py").read_text())
    text = next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "RETURN")
    return yaml.safe_load(text)


def _lines(entry: dict) -> list:
    description = entry["description"]
    return [description] if isinstance(description, str) else list(description)


@pytest.mark.parametrize("module", OAUTH2_TOKEN_MODULES[1:])
def test_token_modules_document_the_values_they_share_alike(module):
    """Every value of oauth2_token's record is documented alike: same type and text; a module may add a line."""
    reference, docs = _return_docs(OAUTH2_TOKEN_MODULES[0]), _return_docs(module)
    assert {"access_token", "expires_at", "source", "attempts", "waited"} <= set(reference)  # positive control
    for key, entry in reference.items():
        assert key in docs, f"{module} does not document {key}"
        assert docs[key]["type"] == entry["type"], key
        lines = iter(_lines(docs[key]))
        # The shared lines in order, each present (any line of the module's own may come between them).
        missing = [line for line in _lines(entry) if not any(own == line for own in lines)]
        assert not missing, f"{module}: the documentation of {key} lacks or changed: {missing}"
