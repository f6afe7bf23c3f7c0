"""The credential report's engine at a fixed time: statuses at their boundaries, time forms, sorting, counts,
fail_on, and cached tokens read from real cache entries without any key."""

from __future__ import annotations

import datetime
import json
import os

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils import _token_cache as tc
from ansible_collections.apiauth.saas.plugins.module_utils._credential_report import (
    build_report,
    judge,
    parse_time,
)
from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError

NOW = datetime.datetime(2026, 12, 6, 12, 0, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _params(**more) -> dict:
    return {"certificates": [], "keys": [], "recovery_dir": None, "recovery_files": [], "warn_days": 30,
            "fail_on": "expiring", "cache": False, **more}


@pytest.mark.parametrize("offset, expected", [
    (-DAY, "expired"), (datetime.timedelta(0), "expired"), (datetime.timedelta(seconds=1), "expiring"),
    (30 * DAY, "expiring"), (30 * DAY + datetime.timedelta(seconds=1), "ok"), (None, "ok"),
])
def test_status_at_the_boundaries(offset, expected):
    assert judge(None if offset is None else NOW + offset, NOW, 30) == expected


@pytest.mark.parametrize("value, expected", [
    ("2027-01-31T00:00:00Z", datetime.datetime(2027, 1, 31, tzinfo=datetime.timezone.utc)),
    ("2027-01-31T02:00:00+02:00", datetime.datetime(2027, 1, 31, tzinfo=datetime.timezone.utc)),
    ("2027-01-31", datetime.datetime(2027, 1, 31, tzinfo=datetime.timezone.utc)),
    ("2027-01-31T00:00:00.000Z", datetime.datetime(2027, 1, 31, tzinfo=datetime.timezone.utc)),
    (1801353600, datetime.datetime(2027, 1, 31, tzinfo=datetime.timezone.utc)),
    (None, None), ("", None),
])
def test_time_forms(value, expected):
    assert parse_time(value, "keys[0].valid_until") == expected


@pytest.mark.parametrize("value", ["next tuesday", True, float("inf")])
def test_bad_times_name_the_option(value):
    with pytest.raises(OptionError, match=r"keys\[0\]\.valid_until"):
        parse_time(value, "keys[0].valid_until")


def test_sorted_soonest_first_counted_and_failing_per_fail_on():
    keys = [{"name": "never", "valid_until": None}, {"name": "in 400 days", "valid_until": (NOW + 400 * DAY).isoformat()},
            {"name": "in 20 days", "valid_until": (NOW + 20 * DAY).isoformat()},
            {"name": "gone", "valid_until": (NOW - 2 * DAY).isoformat()},
            {"name": "missing", "valid_until": (NOW + 90 * DAY).isoformat(), "present": False}]
    result, warnings = build_report(_params(keys=keys), now=NOW)
    assert warnings == []
    assert [c["name"] for c in result["credentials"]] == ["gone", "in 20 days", "missing", "in 400 days", "never"]
    assert [c["status"] for c in result["credentials"]] == ["expired", "expiring", "invalid", "ok", "ok"]
    assert [c["days_left"] for c in result["credentials"]] == [-2.0, 20.0, 90.0, 400.0, None]
    assert result["counts"] == {"invalid": 1, "expired": 1, "expiring": 1, "ok": 2}
    assert result["failed"] and len(result["alerts"]) == 3 and result["msg"].startswith("3 credential(s) need")

    expired_only = build_report(_params(keys=keys, fail_on="expired"), now=NOW)[0]
    assert [line.split(":")[0] for line in expired_only["alerts"]] == ["expired", "invalid"]
    never = build_report(_params(keys=keys, fail_on="never"), now=NOW)[0]
    assert never["alerts"] == [] and "failed" not in never and never["counts"] == result["counts"]


def test_warn_days_below_zero_is_refused():
    with pytest.raises(OptionError, match="warn_days must be 0 or more"):
        build_report(_params(warn_days=-1), now=NOW)


def test_cached_tokens_come_from_clear_metadata_without_any_key(tmp_path):
    """Entries written by the real cache, encrypted per credential with an encryption key the report never gets."""
    cache_dir = str(tmp_path / "tokens")
    token = "eyJ.report-test-token.sig"
    identity = {"vendor": "thredd", "token_url": "https://uat-api.example.test:8443/oauth2/token",
                "client_id": "svc-cards", "auth_method": "client_secret"}
    cache = tc.TokenCache(cache_dir=cache_dir, encryption_key="a passphrase that is not given to the report")
    expires = NOW.timestamp() + 3600
    cache.get_or_fetch(identity, ["client-secret-value", None], lambda: ({"access_token": token}, expires))
    tc.clear_memory()
    entry = next(name for name in os.listdir(cache_dir) if name.endswith(".entry"))
    raw = open(os.path.join(cache_dir, entry), encoding="utf-8").read()
    assert token not in raw and json.loads(raw)["meta"]["client_id"] == "svc-cards"  # encrypted, metadata clear

    result = build_report(_params(cache=True, cache_dir=cache_dir), now=NOW)[0]
    (found,) = result["credentials"]
    assert found["kind"] == "token" and found["status"] == "ok" and found["renewal"] == "automatic"
    assert (found["vendor"], found["client_id"], found["host"], found["location"]) == (
        "thredd", "svc-cards", "uat-api.example.test:8443", "uat-api.example.test:8443")
    assert found["expires_at"] == "2026-12-06T13:00:00Z"
    assert entry[:-len(".entry")] not in json.dumps(result)  # the entry's name is derived from the secret
    later = build_report(_params(cache=True, cache_dir=cache_dir), now=NOW + DAY)[0]
    assert later["credentials"][0]["status"] == "expired" and later["alerts"] == []  # a token never alerts


# What this file tests, for `pytest -m <marker>` (tests/README.md).
pytestmark = [
    pytest.mark.credential_report,
]
