"""THRIVE API key planning, admin token checks, the request built, and the response read."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _thrive_apikey as tk
from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError, ResponseFormatError

NOW = 1_800_000_000.0
DAY = 86400


def jwt_with(claims: dict) -> str:
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


class TestPlan:
    def test_no_key_generates(self):
        assert tk.plan(current_api_key=None, current_valid_until=None, renew_before=30 * DAY,
                       rotate="when_needed", now=NOW).generate

    def test_valid_key_kept(self):
        result = tk.plan(current_api_key="k" * 40, current_valid_until=NOW + 90 * DAY, renew_before=30 * DAY,
                         rotate="when_needed", now=NOW)
        assert not result.generate and "past renew_before" in result.reason

    def test_expiring_key_renewed(self):
        assert tk.plan(current_api_key="k" * 40, current_valid_until=NOW + 10 * DAY, renew_before=30 * DAY,
                       rotate="when_needed", now=NOW).generate

    def test_expired_key_renewed(self):
        assert "expired" in tk.plan(current_api_key="k" * 40, current_valid_until=NOW - 1, renew_before=0,
                                    rotate="when_needed", now=NOW).reason

    def test_unknown_validity_kept(self):
        result = tk.plan(current_api_key="k" * 40, current_valid_until=None, renew_before=30 * DAY,
                         rotate="when_needed", now=NOW)
        assert not result.generate and "current_valid_until" in result.reason

    def test_rotate_always(self):
        assert tk.plan(current_api_key="k" * 40, current_valid_until=NOW + 300 * DAY, renew_before=0,
                       rotate="always", now=NOW).generate

    @pytest.mark.parametrize("value, expected", [
        ("2027-01-15T10:00:00Z", 1800007200.0), ("2027-01-15T10:00:00+00:00", 1800007200.0),
        ("2027-01-15T10:00:00", 1800007200.0), ("1800007200", 1800007200.0), (1800007200, 1800007200.0),
        (None, None), ("", None),
    ])
    def test_valid_until_forms(self, value, expected):
        assert tk.parse_valid_until(value) == expected

    def test_bad_valid_until(self):
        with pytest.raises(OptionError, match="ISO 8601"):
            tk.parse_valid_until("next tuesday")


class TestAdminToken:
    def test_fresh_token_passes(self):
        tk.check_admin_token(jwt_with({"exp": NOW + 3000}), now=NOW)
        tk.check_admin_token("Bearer " + jwt_with({"exp": NOW + 3000}), now=NOW)

    @pytest.mark.parametrize("exp", [NOW - 10, NOW + 5])
    def test_expired_or_nearly_fails_with_help(self, exp):
        with pytest.raises(OptionError) as info:
            tk.check_admin_token(jwt_with({"exp": exp}), now=NOW)
        assert "expired at" in str(info.value)
        assert "nothing was sent" in str(info.value) and "Authorization header" in str(info.value)

    @pytest.mark.parametrize("token", ["not-a-jwt", "a.b", "a.!!!.c", jwt_with({"sub": "x"}),
                                       jwt_with({"exp": "soon"}), jwt_with({"exp": True})])
    def test_not_a_jwt(self, token):
        with pytest.raises(OptionError, match="not a JWT with an expiry"):
            tk.check_admin_token(token, now=NOW)


class TestRequest:
    PARAMS = {"environment": "staging", "admin_token": "abc.def.ghi", "tenant_id": "eu-west-2_X"}

    def test_document_is_fixed_and_values_are_variables(self):
        hostile = 'api-service"]) { apiKey } } mutation { deleteEverything(x: "'
        url, body, headers = tk.build_request(dict(self.PARAMS, services=[hostile], token_type='perm"anent'),
                                              "cid-1")
        assert url == "https://tenant.api.learnstaging.link/tenants"
        assert body["query"] == tk.MUTATION
        assert body["variables"] == {"tokenType": 'perm"anent', "services": [hostile]}
        assert headers == {"Authorization": "Bearer abc.def.ghi", "correlation-id": "cid-1",
                           "Content-Type": "application/json"}

    def test_production_and_override(self):
        assert tk.build_request(dict(self.PARAMS, environment="production"), "c")[0] == \
            "https://tenant.api.link/tenants"
        assert tk.build_request(dict(self.PARAMS, url="https://sim/tenants"), "c")[0] == "https://sim/tenants"

    def test_bearer_prefix_not_doubled(self):
        headers = tk.build_request(dict(self.PARAMS, admin_token="Bearer abc.def.ghi"), "c")[2]
        assert headers["Authorization"] == "Bearer abc.def.ghi"


class TestResponse:
    def test_good(self):
        body = {"data": {"generateApiKey": {"apiKey": "K" * 40, "validUntil": "2027-01-01T00:00:00Z"}}}
        assert tk.parse_response(body) == ("K" * 40, "2027-01-01T00:00:00Z")

    def test_graphql_errors_are_failures(self):
        with pytest.raises(tk.GraphQLError, match="refused generateApiKey: bad service; second"):
            tk.parse_response({"data": None, "errors": [{"message": "bad service"}, {"message": "second"}]})

    @pytest.mark.parametrize("body", [[], {}, {"data": {}}, {"data": {"generateApiKey": {"apiKey": ""}}},
                                      {"data": {"generateApiKey": {"apiKey": "k", "validUntil": 5}}}])
    def test_malformed(self, body):
        with pytest.raises(ResponseFormatError):
            tk.parse_response(body)


def test_basic_authorization():
    value = tk.basic_authorization("eu-west-2_X", "key:with/odd")
    assert base64.b64decode(value.split()[1]).decode() == "eu-west-2_X:key:with/odd"


def test_recovery_file_mode_and_fallback(tmp_path, monkeypatch):
    from ansible_collections.apiauth.saas.plugins.module_utils._recovery import RecoveryFileError

    record = {"tenant_id": "t1", "api_key": "K" * 40}
    path = tk.save_key({"recovery_file": str(tmp_path / "key.json")}, record)
    assert oct((tmp_path / "key.json").stat().st_mode & 0o777) == "0o600"
    assert json.loads((tmp_path / "key.json").read_text())["api_key"] == "K" * 40
    assert path == str(tmp_path / "key.json")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(RecoveryFileError, match="was saved to .*recovery") as info:
        tk.save_key({"recovery_file": str(tmp_path / "missing-dir" / "key.json")}, record)
    assert "K" * 40 not in str(info.value)
    saved = list((tmp_path / "cache" / "apiauth.saas" / "recovery").iterdir())
    assert len(saved) == 1 and json.loads(saved[0].read_text())["api_key"] == "K" * 40
    assert oct(saved[0].stat().st_mode & 0o777) == "0o600"


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.thrive_apikey,
]
