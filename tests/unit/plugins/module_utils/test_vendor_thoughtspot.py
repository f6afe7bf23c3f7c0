"""ThoughtSpot request shapes, response parsing and errors, without a server."""

from __future__ import annotations

import json

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError, ResponseFormatError
from ansible_collections.apiauth.saas.plugins.module_utils._token_cache import TokenCache
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughtspot import (
    cache_identity,
    changes_state,
    normalise_host,
    org_id_of,
    parse_error,
    parse_token,
    token_request,
)

BASE = {"username": "tsUserA", "secret_key": "69fb6d98-1696-42c0-9841-22b078c04060"}


def test_full_maps_org_to_an_integer_org_id_and_groups_to_identifiers():
    kind, body = token_request(dict(BASE, org="2", groups=["DataAdmin", "Analyst"], auto_create=True))
    assert kind == "full"
    assert body["org_id"] == 2 and isinstance(body["org_id"], int)
    assert body["group_identifiers"] == ["DataAdmin", "Analyst"]
    assert "org_identifier" not in body and "groups" not in body
    assert body["auto_create"] is True and body["validity_time_in_sec"] == 3600


def test_custom_maps_org_to_a_string_identifier_and_groups_to_objects():
    kind, body = token_request(dict(BASE, token_kind="custom", org=2, groups=["Analyst"],
                                    filter_rules=[{"column_name": "Region", "operator": "IN", "values": ["EMEA"]}]))
    assert kind == "custom"
    assert body["org_identifier"] == "2" and "org_id" not in body
    assert body["groups"] == [{"identifier": "Analyst"}] and "group_identifiers" not in body
    # The API's defaults differ by type: always sent explicitly.
    assert body["auto_create"] is True and body["persist_option"] == "NONE"
    assert body["filter_rules"][0]["column_name"] == "Region"


def test_object_needs_object_id_and_others_refuse_it():
    with pytest.raises(OptionError, match="needs object_id"):
        token_request(dict(BASE, token_kind="object"))
    with pytest.raises(OptionError, match="only used with token_kind=object"):
        token_request(dict(BASE, object_id="abc"))
    assert token_request(dict(BASE, token_kind="object", object_id="abc"))[1]["object_id"] == "abc"


def test_org_name_is_refused_for_full_and_object():
    with pytest.raises(OptionError, match="numeric id"):
        token_request(dict(BASE, org="Sales"))
    assert token_request(dict(BASE, token_kind="custom", org="Sales"))[1]["org_identifier"] == "Sales"
    assert org_id_of(" 7 ") == 7
    with pytest.raises(OptionError):
        org_id_of(True)


@pytest.mark.parametrize("params, message", [
    ({"username": "u"}, "exactly one"),
    ({"username": "u", "password": "p" * 8, "secret_key": "k" * 8}, "exactly one"),
    ({"secret_key": "k" * 8}, "username"),
    (dict(BASE, validity_time_in_sec=0), "above 0"),
    (dict(BASE, filter_rules=[{}]), "only apply to token_kind=custom"),
    (dict(BASE, token_kind="custom", filter_rules=["x"]), "list of dictionaries"),
    (dict(BASE, token_kind="custom", persist_option="KEEP"), "persist_option"),
])
def test_bad_options_are_clear_errors(params, message):
    with pytest.raises(OptionError, match=message):
        token_request(params)


def test_secret_key_or_password_is_sent_never_both():
    assert "password" not in token_request(BASE)[1]
    body = token_request({"username": "u", "password": "pw-123456"})[1]
    assert body["password"] == "pw-123456" and "secret_key" not in body


def test_changes_state():
    assert not changes_state(*token_request(BASE))
    assert changes_state(*token_request(dict(BASE, auto_create=True)))
    assert changes_state(*token_request(dict(BASE, token_kind="custom", auto_create=False, persist_option="APPEND")))
    assert not changes_state(*token_request(dict(BASE, token_kind="custom", auto_create=False)))


def test_cache_identity_keeps_the_secret_out_and_separates_requests():
    identity, secrets = cache_identity("https://ts", *token_request(BASE))
    assert BASE["secret_key"] not in json.dumps(identity)
    assert BASE["secret_key"] in secrets
    other, _secrets = cache_identity("https://ts", *token_request(dict(BASE, org="1")))
    cache = TokenCache(enabled=False)
    assert cache.key_for(identity, secrets) != cache.key_for(other, secrets)
    rotated = cache_identity("https://ts", *token_request(dict(BASE, secret_key="another-key-123")))
    assert cache.key_for(*rotated) != cache.key_for(identity, secrets)


def test_parse_full_token_counts_lifetime_from_the_request():
    data = {"token": "abc", "creation_time_in_millis": 1_675_129_264_089,
            "expiration_time_in_millis": 1_675_129_564_089,
            "scope": {"access_type": "FULL", "org_id": 1, "metadata_id": None},
            "valid_for_user_id": "59481331", "valid_for_username": "tsUserA"}
    record, expires_at = parse_token(data, "full", 1000.0)
    assert expires_at == 1300.0 and record["lifetime"] == 300
    assert record["user_id"] == "59481331" and record["username"] == "tsUserA" and record["org_id"] == 1
    assert record["scope"]["access_type"] == "FULL" and record["token_type"] == "Bearer"


def test_parse_custom_token():
    data = {"id": "t1", "token": "abc", "org": {"id": 2, "name": "Sales"}, "user": {"id": "u1", "name": "x"},
            "creation_time_in_millis": 0, "expiration_time_in_millis": 60_000}
    record, _expires = parse_token(data, "custom", 10.0)
    assert (record["org_id"], record["org_name"], record["user_id"], record["token_id"]) == (2, "Sales", "u1", "t1")


@pytest.mark.parametrize("data", [[], {}, {"token": ""}, {"token": "x", "expiration_time_in_millis": "soon"},
                                  {"token": "x", "creation_time_in_millis": 5, "expiration_time_in_millis": 5}])
def test_malformed_token_responses(data):
    with pytest.raises(ResponseFormatError):
        parse_token(data, "full", 0.0)


class _Response:
    def __init__(self, payload):
        self.body = json.dumps(payload).encode()


def test_error_envelope():
    parsed = parse_error(_Response({"error": {"message": {"code": 10097, "incident_id_guid": "x",
                                                          "debug": "Authentication failed"}}}))
    assert parsed == {"error": "10097", "error_description": "Authentication failed"}
    assert parse_error(_Response({"error": "invalid_request"}))["error"] == "invalid_request"


def test_host_normalised():
    assert normalise_host("https://ts.example/api/rest/2.0/") == "https://ts.example"
    with pytest.raises(OptionError):
        normalise_host("  ")


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.thoughtspot_token,
    pytest.mark.thoughtspot_token_info,
    pytest.mark.thoughtspot_trusted_auth,
]
