# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The retry decision of the HTTP client, as a table: attempt, failure or status, Retry-After, idempotency."""

from __future__ import annotations

import email.utils

import pytest

from ansible_collections.apiauth.saas.plugins.module_utils._http_failures import Failure
from ansible_collections.apiauth.saas.plugins.module_utils._http_options import HttpOptions
from ansible_collections.apiauth.saas.plugins.module_utils._http_retry import RETRY_STATUSES, decide_retry

OPTIONS = HttpOptions(retries=2, backoff_base=0.5, backoff_max=3.0, retry_after_max=60.0)
NOT_SENT = Failure("could not connect (connection refused)", sent=False, retryable=True)
MAYBE_SENT = Failure("the connection was reset", sent=True, retryable=True)
FINAL = Failure("TLS certificate verification failed (x)", sent=False, retryable=False)
NOW = 1_700_000_000.0
DATE_IN_30_S = email.utils.formatdate(NOW + 30, usegmt=True)

# (id, attempt, idempotent, failure, status, retry_after, expected (retry, delay, reason, refused retry_after))
TABLE = [
    ("refused-first-try", 1, True, NOT_SENT, None, None, (True, 0.5, "backoff", None)),
    ("refused-second-try-doubles", 2, True, NOT_SENT, None, None, (True, 1.0, "backoff", None)),
    ("refused-out-of-retries", 3, True, NOT_SENT, None, None, (False, 0.0, "", None)),
    ("never-sent-post-is-retried", 1, False, NOT_SENT, None, None, (True, 0.5, "backoff", None)),
    ("maybe-sent-post-is-not", 1, False, MAYBE_SENT, None, None, (False, 0.0, "", None)),
    ("maybe-sent-get-is", 1, True, MAYBE_SENT, None, None, (True, 0.5, "backoff", None)),
    ("not-retryable-failure", 1, True, FINAL, None, None, (False, 0.0, "", None)),
    ("503-no-retry-after", 1, True, None, 503, None, (True, 0.5, "backoff", None)),
    ("503-retry-after-seconds", 1, True, None, 503, "7", (True, 7.0, "Retry-After: 7", None)),
    ("429-retry-after-date", 2, True, None, 429, DATE_IN_30_S, (True, 30.0, "Retry-After: 30", None)),
    ("503-retry-after-too-long", 1, True, None, 503, "3600", (False, 0.0, "", 3600.0)),
    ("503-retry-after-garbage-backs-off", 1, True, None, 503, "soon", (True, 0.5, "backoff", None)),
    ("503-post-never-repeated", 1, False, None, 503, "1", (False, 0.0, "", None)),
    ("503-out-of-retries", 3, True, None, 503, "1", (False, 0.0, "", None)),
    ("401-never-retried", 1, True, None, 401, None, (False, 0.0, "", None)),
    ("500-out-of-retries", 3, True, None, 500, None, (False, 0.0, "", None)),
]


@pytest.mark.parametrize("case", TABLE, ids=[row[0] for row in TABLE])
def test_retry_decision_table(case):
    _name, attempt, idempotent, failure, status, retry_after, expected = case
    draws = []

    def rand():
        draws.append(1)
        return 1.0  # the top of the jitter range: the ceiling itself

    decision = decide_retry(attempt, options=OPTIONS, idempotent=idempotent, failure=failure, status=status,
                            status_text=f"HTTP {status}", retry_after=retry_after, rand=rand, now=NOW)
    assert (decision.retry, decision.delay, decision.reason, decision.retry_after) == expected
    # The jitter is drawn only for a backoff, so injected sequences stay in step with the waits.
    assert len(draws) == (1 if decision.reason == "backoff" else 0)
    if decision.retry:
        assert decision.why == (failure.detail if failure is not None else f"HTTP {status}")


def test_backoff_is_full_jitter_under_the_cap():
    options = HttpOptions(retries=10, backoff_base=0.5, backoff_max=3.0)
    ceilings = [decide_retry(n, options=options, idempotent=True, failure=NOT_SENT, rand=lambda: 1.0).delay
                for n in range(1, 8)]
    assert ceilings == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0]
    half = decide_retry(3, options=options, idempotent=True, failure=NOT_SENT, rand=lambda: 0.5)
    assert half.delay == 1.0


def test_every_retry_status_is_retried_and_no_other():
    for status in range(100, 600):
        decision = decide_retry(1, options=OPTIONS, idempotent=True, status=status, rand=lambda: 0.0)
        assert decision.retry is (status in RETRY_STATUSES), status


def test_no_retries_configured_means_one_attempt():
    options = HttpOptions(retries=0)
    assert not decide_retry(1, options=options, idempotent=True, failure=NOT_SENT, rand=lambda: 0.0).retry
    assert not decide_retry(1, options=options, idempotent=True, status=503, retry_after="1").retry
