"""The argument specs agree with the engine and with the lookups' documentation."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from ansible_collections.apiauth.saas.plugins.module_utils import _argspec
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import HTTP_OPTIONS, SECRET_OPTIONS

ROOT = Path(__file__).resolve().parents[4]


def test_http_group_matches_engine():
    assert tuple(_argspec.HTTP) == HTTP_OPTIONS


def test_secret_options_are_no_log():
    for group in (_argspec.OAUTH2, _argspec.CACHE, _argspec.THROUGHLINE):
        for name, spec in group.items():
            if name in SECRET_OPTIONS:
                assert spec.get("no_log") is True, name


def _fragment(name: str, attr: str) -> dict:
    tree = ast.parse((ROOT / "plugins" / "doc_fragments" / f"{name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == attr for t in node.targets):
            return yaml.safe_load(node.value.value)["options"]
    raise AssertionError(f"{name}.{attr} not found")


def test_env_fallbacks_match_lookup_env_names():
    """A module option falls back to exactly the variable its lookup twin reads."""
    pairs = [(_argspec.HTTP, "http_options"), (_argspec.CACHE, "cache"), (_argspec.OAUTH2, "oauth2"),
             (_argspec.THROUGHLINE, "throughline")]
    for group, fragment in pairs:
        plugins = _fragment(fragment, "PLUGINS")
        for name, spec in group.items():
            fallback = spec.get("fallback")
            lookup_env = [e["name"] for e in plugins.get(name, {}).get("env", [])]
            if fallback:
                assert fallback[1] == lookup_env, name
            else:
                assert not lookup_env, f"{name} has env for lookups but no fallback for modules"


def test_secrets_never_from_ini():
    for fragment in ("http_options", "cache", "oauth2", "throughline"):
        for name, spec in _fragment(fragment, "PLUGINS").items():
            if name in SECRET_OPTIONS:
                assert "ini" not in spec, name
