# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""URLs the apiauth.saas engine calls and shows: endpoint checks, the form a message may show, path segments.

Internal to the collection: no stability promise to code outside it.

Apart from the HTTP client (``_http``) because the option checks of every token
call need these, and a token served from a cache needs no HTTP client: a new
Ansible worker process then loads neither it nor what it imports.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

from ansible_collections.apiauth.saas.plugins.module_utils._errors import OptionError

# Longest piece of a vendor's or a user's text that a message quotes.
MAX_QUOTED_TEXT = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def clean_text(value, limit: int = MAX_QUOTED_TEXT) -> str:
    """``value`` as text on one line (control characters as spaces), cut to ``limit`` characters."""
    text = _CONTROL.sub(" ", str(value)).strip()
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text


def url_for_messages(url: str) -> str:
    """``url`` without user info, query and fragment: what a message may show.

    Everything up to the last ``@`` before the query goes, even where a ``/``
    in an unencoded password would end the user info for a URL parser.
    """
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "<unparsable URL>"
    text = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if "@" not in text:
        return text
    scheme, sep, rest = text.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else text.rpartition("@")[2]


# A value of one of these forms may be a URL path segment: it starts with a
# letter or digit, so it is never "." or "..", and holds no "/", "?", "#" or "%".
IDENTIFIER_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,127}")


def path_segment(value, *, what: str, pattern: re.Pattern = IDENTIFIER_SEGMENT, form: str,
                 error_class=OptionError) -> str:
    """``value`` checked against its documented ``form`` and percent-encoded, for one URL path segment.

    Every value that becomes part of a URL path goes through here, so none can
    climb out of its place (``..``), add a segment (``/``), start a query or
    fragment, or smuggle an encoding (``%2F``). ``what`` names the option (or
    the vendor field) in the message; the value is shown cut and cleaned.
    """
    if not isinstance(value, str) or not pattern.fullmatch(value) or value in (".", ".."):
        shown = "nothing" if value in (None, "") else repr(clean_text(value, 80))
        raise error_class(f"{what} must be {form}; got {shown}.")
    return quote(value, safe="")


def url_problem(url, *, allow_http: bool, allow_userinfo: bool = False) -> str | None:
    """What is wrong with ``url`` as an endpoint to call, or None: the text after the URL's name.

    The URL is shown only without user info, query and fragment, and not at
    all when user info is refused: its password is known to no redactor.
    """
    if not isinstance(url, str) or not url.strip():
        return "must be an https:// URL with a host name, not empty."
    if not allow_userinfo and "@" in re.split(r"[?#]", url, maxsplit=1)[0]:
        return "holds a user name or password (user:password@host): give credentials in their own options."
    shown = url_for_messages(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return f"{shown} is not a valid URL (check the host name and port)."
    if SPACE_OR_CONTROL.search(url):
        return f"{shown} holds a space or a control character."
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return f"{shown} is not an https:// URL with a host name."
    if scheme == "http" and not allow_http:
        return (f"{shown} uses plain HTTP: use an https:// URL, or set allow_http: true (only for testing; "
                "credentials and tokens would cross the network unencrypted).")
    return None
