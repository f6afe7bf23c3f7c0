"""The fault matrix: each fault the simulator injects, for each vendor, and what must follow.

test_fault_matrix.py runs every case through real playbooks (retries: 3,
timeout: 3 s, so that a loaded test machine's normal answer never times out)
and checks the outcome, the number of calls that reached the
simulator and that no injected fault was left unconsumed. docs/reliability.md
carries the same table, rendered from here; the test checks that it is
current, and ``python tests/integration/fault_matrix.py`` rewrites it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

RETRIES = 3
TIMEOUT = 3
ATTEMPTS = RETRIES + 1
DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
BEGIN, END = "<!-- fault-matrix:begin -->", "<!-- fault-matrix:end -->"


@dataclass(frozen=True)
class Vendor:
    name: str  # the playbooks/fault_tasks/<name>.yml file
    title: str
    queue: str  # the simulator's fault queue
    endpoint: str  # audit entries of the call under test
    method: str = ""  # ... of this method only, when given
    token_field: str = "access_token"
    expiry_field: str = "expires_in"
    # Faults that let the calls before the one under test through.
    prefix: tuple = ()


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    faults: tuple
    recovers: bool
    calls: int
    # For a failure: a pattern the message must match.
    message: str = ""
    # Key management only: keys or clients the vendor made (never more than one).
    created: int = 0
    only: tuple = field(default=())  # limited to these vendors

    @property
    def settle(self) -> float:
        """Seconds a delayed answer may still run after the client gave up (counted once done)."""
        return max([f["seconds"] for f in self.faults if f["kind"] == "delay"] or [0])

    def fault_list(self, vendor: Vendor) -> list:
        """The faults for this vendor: field names filled in, the vendor's prefix first."""
        names = {"token": vendor.token_field, "expiry": vendor.expiry_field}
        faults = [dict(f, field=names.get(f["field"], f["field"])) if "field" in f else dict(f) for f in self.faults]
        return [dict(f) for f in vendor.prefix] + faults


TOKEN_VENDORS = (
    Vendor("oauth2", "OAuth 2.0", "oauth2", "token"),
    Vendor("throughline", "ThroughLine", "throughline", "token"),
    Vendor("thredd", "Thredd", "thredd", "token"),
    Vendor("thoughttrace", "ThoughtTrace", "thoughttrace", "token"),
    Vendor("thrive", "THRIVE", "thrive", "token"),
    Vendor("thoughtspot", "ThoughtSpot", "thoughtspot", "token", token_field="token",
           expiry_field="expiration_time_in_millis"),
)

# Token requests change nothing at the vendor, so every transient fault is
# retried; an answer that cannot be a token fails at once.
TOKEN_CASES = (
    Case("429", "429 with Retry-After: 1", ({"kind": "status", "status": 429, "retry_after": 1},), True, 2),
    Case("5xx-burst", "500, 502, 503 in a row", tuple({"kind": "status", "status": s} for s in (500, 502, 503)),
         True, 4),
    Case("504-always", "504 on every attempt", ({"kind": "status", "status": 504, "count": ATTEMPTS},), False,
         ATTEMPTS, r"HTTP 504.*after 4 attempts|after 4 attempts.*504"),
    # The reset comes before the request is read, so only the retry reaches the handler.
    Case("reset-before", "connection reset before the request is sent", ({"kind": "reset_before"},), True, 1),
    Case("reset-after", "connection reset after the request is sent", ({"kind": "reset_after"},), True, 2),
    Case("slow", "one answer slower than the timeout", ({"kind": "delay", "seconds": TIMEOUT + 2},), True, 2),
    Case("slow-always", "every answer slower than the timeout", ({"kind": "delay", "seconds": TIMEOUT + 0.5,
                                                                  "count": ATTEMPTS},),
         False, ATTEMPTS, r"timed out|timeout"),
    Case("html-502", "HTML error page, 502", ({"kind": "html", "status": 502},), True, 2),
    Case("html-404", "HTML error page, 404", ({"kind": "html", "status": 404},), False, 1, r"HTTP 404"),
    Case("not-json", "200 with a body that is not JSON", ({"kind": "not_json"},), False, 1, r"JSON"),
    Case("truncated", "truncated JSON", ({"kind": "truncated_json"},), False, 1, r"JSON"),
    Case("no-token", "token field missing", ({"kind": "missing_field", "field": "token"},), False, 1,
         r"no (access_)?token"),
    Case("token-number", "token field is a number", ({"kind": "field_value", "field": "token", "value": 12345},),
         False, 1, r"no (access_)?token|token"),
    Case("expiry-text", "expiry is not a number", ({"kind": "field_value", "field": "expiry", "value": "soon"},),
         False, 1, r"not a number|numeric"),
    Case("expiry-zero", "expiry is zero", ({"kind": "field_value", "field": "expiry", "value": 0},), False, 1,
         r"already expired"),
    Case("expiry-negative", "expiry is negative", ({"kind": "field_value", "field": "expiry", "value": -5},), False,
         1, r"already expired"),
    Case("no-expiry", "expiry missing (used, not cached)", ({"kind": "missing_field", "field": "expiry"},), True, 1),
    Case("skew-ahead", "server clock 1 h ahead", ({"kind": "clock_skew", "seconds": 3600},), True, 1),
    Case("skew-behind", "server clock 1 h behind", ({"kind": "clock_skew", "seconds": -3600},), True, 1),
)

KEY_VENDORS = (
    # Without a current key, generateApiKey is the module's only call.
    Vendor("thrive_apikey", "THRIVE API key", "thrive-tenants", "graphql",
           token_field="data", expiry_field="data"),
    # The module lists the clients (GET) first: let that call through.
    Vendor("thoughttrace_client", "ThoughtTrace client", "thoughttrace-admin", "admin", "POST",
           token_field="clientSecret", prefix=({"kind": "delay", "seconds": 0},)),
)

# A write that makes a key or a client is sent at most once: only a failure
# before the request left may be retried, anything later fails and says so.
KEY_CASES = (
    Case("429", "429 with Retry-After: 1", ({"kind": "status", "status": 429, "retry_after": 1},), False, 1,
         r"429"),
    Case("503", "503", ({"kind": "status", "status": 503},), False, 1, r"503"),
    Case("reset-before", "connection reset before the request is sent", ({"kind": "reset_before"},), True, 1,
         created=1, only=("thrive_apikey",)),
    # After the list call the connection is kept alive: a drop after the request
    # went out cannot be told from one after the vendor acted, so no retry.
    Case("reset-before-reused", "kept-alive connection dropped before the request is read",
         ({"kind": "reset_before"},), False, 1, r"may have|not sent again", only=("thoughttrace_client",)),
    Case("reset-after", "connection reset after the request is sent", ({"kind": "reset_after"},), False, 1,
         r"may have|not sent again"),
    Case("reset-after-processing", "vendor acts, then the connection drops", ({"kind": "reset_after_processing"},),
         False, 1, r"may have|not sent again", created=1),
    Case("slow", "answer slower than the timeout", ({"kind": "delay", "seconds": TIMEOUT + 0.5},), False, 1,
         r"may have|not sent again|timed out", created=1),
    Case("html-502", "HTML error page, 502", ({"kind": "html", "status": 502},), False, 1, r"502"),
    # The vendor acted but the secret cannot be read: said so, and not asked again.
    Case("truncated", "truncated JSON", ({"kind": "truncated_json"},), False, 1, r"JSON.*may have",
         created=1),
    Case("no-secret", "secret field missing", ({"kind": "missing_field", "field": "token"},), False, 1,
         r"(?i)(apikey|clientsecret).*may have", created=1),
    Case("graphql-error", "GraphQL error", ({"kind": "graphql_error", "message": "tenant is suspended"},), False, 1,
         r"tenant is suspended", only=("thrive_apikey",)),
)


def cases_for(vendor: Vendor, cases) -> list:
    return [case for case in cases if not case.only or vendor.name in case.only]


def _cell(case: Case) -> str:
    calls = f"{case.calls} call{'s' if case.calls != 1 else ''}"
    if case.recovers:
        return f"recovers, {calls}"
    return f"clean error, {calls}"


def render() -> str:
    """The Markdown tables of docs/reliability.md's fault matrix."""
    lines = [BEGIN, "", f"**Token requests** (retries: {RETRIES}, timeout: {TIMEOUT} s):", ""]
    lines.append("| fault | " + " | ".join(v.title for v in TOKEN_VENDORS) + " |")
    lines.append("|---|" + "---|" * len(TOKEN_VENDORS))
    for case in TOKEN_CASES:
        cells = [_cell(case) if case in cases_for(v, TOKEN_CASES) else "n/a" for v in TOKEN_VENDORS]
        lines.append(f"| {case.title} | " + " | ".join(cells) + " |")
    lines += ["", "**Writes that make a key or a client** (sent at most once):", ""]
    lines.append("| fault | " + " | ".join(v.title for v in KEY_VENDORS) + " | made by the vendor |")
    lines.append("|---|" + "---|" * (len(KEY_VENDORS) + 1))
    for case in KEY_CASES:
        cells = [_cell(case) if case in cases_for(v, KEY_CASES) else "n/a" for v in KEY_VENDORS]
        lines.append(f"| {case.title} | " + " | ".join(cells) + f" | {case.created} |")
    lines += ["", END]
    return "\n".join(lines)


def current_block(text: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    return text[start:end + len(END)] if 0 <= start < end else ""


def write_doc(path: Path = DOC) -> None:
    text = path.read_text()
    block = current_block(text)
    if not block:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} block to replace")
    path.write_text(text.replace(block, render()))


if __name__ == "__main__":
    write_doc(Path(sys.argv[1]) if len(sys.argv) > 1 else DOC)
