"""The checks every adapter makes on option values besides Ansible's: _argspec.check_raw and check_urls."""

from __future__ import annotations

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _argspec
from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError
from ansible_collections.apiauth.saas.plugins.module_utils._urls import url_for_messages, url_problem

SECRET = "s3cr:t+/ %&-not-to-be-shown-0123456789"
SPEC = _argspec.module_spec("thoughtspot")


@pytest.mark.parametrize("args, words", [
    ({"password": {"value": SECRET}}, ["password must be a string, not a dictionary"]),
    ({"secret_key": [SECRET]}, ["secret_key must be a string, not a list"]),
    ({"cache_dir": {"a": 1}}, ["cache_dir must be a path"]),
    ({"cache_dir": " "}, ["cache_dir must not be empty"]),
    ({"host": ""}, ["host must not be empty"]),
    ({"proxy": ""}, ["proxy must not be empty"]),
    ({"validate_certs": "maybe"}, ["validate_certs must be true or false"]),
    ({"revoke_all": {"b": True}}, ["revoke_all must be true or false, not a dictionary"]),
    ({"timeout": "soon"}, ["timeout must be a number"]),
    ({"retries": [1]}, ["retries must be a whole number, not a list"]),
    ({"groups": {"a": "b"}}, ["groups must be a list, not a dictionary"]),
    ({"group_identifiers": [{"a": SECRET}]}, ["group_identifiers must be a list of strings"]),
])
def test_check_raw_refuses_and_names_the_option(args, words):
    with pytest.raises(OptionError) as caught:
        _argspec.check_raw(SPEC, args)
    for word in words:
        assert word in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("args", [
    {"validate_certs": "yes", "revoke_all": 0, "cache": "False"},
    {"timeout": "2.5", "retries": "3", "min_ttl": 60},
    {"username": 12345, "groups": "a,b", "org": 7},
    {"password": None, "unknown_option": {"left": "to Ansible"}},
    {"display_name": ""},  # optional, not a path, a URL or a name: empty is a value
])
def test_check_raw_leaves_what_ansible_converts_on_purpose(args):
    _argspec.check_raw(SPEC, args)


def test_check_raw_says_where_a_value_came_from():
    with pytest.raises(OptionError, match=r"^timeout \(from the variable apiauth_saas_timeout\) must be a number\.$"):
        _argspec.check_raw(SPEC, {"timeout": "soon"}, where={"timeout": "the variable apiauth_saas_timeout"})


@pytest.mark.parametrize("url, words", [
    ("idp.example.com/token", ["token_url", "is not an https:// URL"]),
    ("ftp://idp.example.com/token", ["token_url", "ftp://idp.example.com/token"]),
    ("https://idp example.com/token", ["token_url", "space"]),
    ("http://idp.example.com/token", ["token_url", "allow_http"]),
    ("https://idp.example.com:99999/token", ["token_url", "not a valid URL"]),
    (f"https://user:{SECRET}@idp.example.com/token", ["token_url", "user name or password"]),
])
def test_check_urls_names_the_option(url, words):
    with pytest.raises(OptionError) as caught:
        _argspec.check_urls({"token_url": url, "allow_http": False})
    for word in words:
        assert word in str(caught.value)
    assert SECRET not in str(caught.value) and "not-to-be-shown" not in str(caught.value)


def test_check_urls_takes_https_and_http_with_allow_http():
    _argspec.check_urls({"token_url": "https://idp.example.com/token", "host": None})
    _argspec.check_urls({"base_url": "http://127.0.0.1:8080", "allow_http": True})


def test_url_problem_may_allow_user_info():
    assert url_problem("https://u:p@idp.example.com/x", allow_http=False, allow_userinfo=True) is None


def test_messages_never_show_a_password_with_a_slash():
    shown = url_for_messages(f"https://user:{SECRET}@idp.example.com/token?q=1")
    assert shown == "https://idp.example.com/token"
