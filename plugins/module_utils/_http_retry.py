# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether, when and why the engine sends a request again: one pure decision per failed attempt.

Internal to the collection: no stability promise to code outside it.

Why a module of its own: the retry rules (what may be repeated, how long to
wait, when the server's Retry-After ends the retries) were tangled with
building error messages in the request loop. Here they are one function of
its inputs, tested by a table; the client only acts on the answer.

Rules
    * Only attempts that may be retried at all are: a failure the transport
      calls retryable, or a status in ``RETRY_STATUSES``, and no more than
      ``options.retries`` extra attempts.
    * A request that is not idempotent is repeated only when it certainly
      never reached the server (a failure with ``sent`` False); a status
      always means it did, so a non-idempotent request is never repeated
      after one.
    * The wait is "full jitter" backoff, ``rand() * min(backoff_max,
      backoff_base * 2 ** n)`` before retry ``n`` (0 for the first), so
      clients that fail together do not come back together; a status with a
      Retry-After waits exactly that long, and a Retry-After above
      ``retry_after_max`` ends the retries.
"""

from __future__ import annotations

import email.utils
import math
import time
from dataclasses import dataclass

# Statuses that mean "try again later"; retried for idempotent requests only.
RETRY_STATUSES = frozenset((408, 429, 500, 502, 503, 504))


def fmt_seconds(value: float) -> str:
    """Seconds as a message shows them: ``0.5``, ``30``, ``86400``."""
    return f"{value:g}" if value < 1000 else str(int(round(value)))


def parse_retry_after(value, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date), or None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # Python < 3.10 returns None for garbage
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT
        from datetime import timezone

        when = when.replace(tzinfo=timezone.utc)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff(retry_number: int, options, rand) -> float:
    """The full-jitter wait before retry ``retry_number`` (0 for the first)."""
    ceiling = min(options.backoff_max, options.backoff_base * (2 ** min(retry_number, 62)))
    return max(0.0, ceiling * float(rand()))


@dataclass(frozen=True)
class RetryDecision:
    """Retry after ``delay`` seconds because of ``why`` (``reason`` says how the wait was chosen), or stop.

    ``retry_after`` is set when the server's Retry-After was longer than this
    collection waits: the caller says so in its error.
    """

    retry: bool
    delay: float = 0.0
    why: str = ""
    reason: str = ""
    retry_after: float | None = None


STOP = RetryDecision(False)


def decide_retry(
    attempt: int,
    *,
    options,
    idempotent: bool,
    failure=None,
    status: int | None = None,
    status_text: str = "",
    retry_after=None,
    rand=None,
    now: float | None = None,
) -> RetryDecision:
    """What to do after attempt number ``attempt`` (1 for the first) failed.

    ``failure`` is an attempt without an HTTP answer (``detail``, ``sent``,
    ``retryable``, as ``_http_failures.Failure``); otherwise ``status`` is the
    unexpected status received, ``status_text`` how to name it and
    ``retry_after`` the raw Retry-After header. ``rand`` draws the jitter
    (called only when backing off); ``now`` dates a Retry-After HTTP-date.
    """
    may_retry = attempt <= options.retries
    if failure is not None:
        if failure.retryable and may_retry and (idempotent or not failure.sent):
            return RetryDecision(True, backoff(attempt - 1, options, rand), failure.detail, "backoff")
        return STOP
    if status not in RETRY_STATUSES or not idempotent or not may_retry:
        return STOP
    seconds = parse_retry_after(retry_after, now)
    if seconds is None:
        return RetryDecision(True, backoff(attempt - 1, options, rand), status_text, "backoff")
    if seconds <= options.retry_after_max:
        return RetryDecision(True, seconds, status_text, f"Retry-After: {fmt_seconds(round(seconds, 1))}")
    return RetryDecision(False, why=status_text, retry_after=seconds)
