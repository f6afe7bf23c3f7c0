"""Find a secret in text in any encoding it may travel in: the tests' oracle for redaction.

Written independently of the collection's Redactor: instead of building the
encoded forms and looking for them, it mostly decodes the text every way a
vendor may have encoded it (percent, JSON, HTML, base64 at every alignment)
and looks for the secret in the result, so a form the Redactor forgot is found.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import urllib.parse

_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_JSON_U = re.compile(r"(?:\\u[0-9a-fA-F]{4})+")


def _json_unescape(text: str) -> str:
    def units(match: re.Match) -> str:
        raw = bytes.fromhex("".join(chunk for chunk in match.group(0).split("\\u") if chunk))
        return raw.decode("utf-16-be", "replace")

    text = _JSON_U.sub(units, text)
    for escaped, char in (("\\/", "/"), ('\\"', '"'), ("\\n", "\n"), ("\\t", "\t"), ("\\\\", "\\")):
        text = text.replace(escaped, char)
    return text


def decodings(text: str) -> dict[str, str]:
    """``text`` decoded each way a quoting vendor may have encoded it (and twice for percent)."""
    found = {"raw": text}
    found["percent"] = urllib.parse.unquote(text)
    found["percent-plus"] = urllib.parse.unquote_plus(text)
    found["percent-twice"] = urllib.parse.unquote(found["percent"])
    found["percent-plus-twice"] = urllib.parse.unquote_plus(urllib.parse.unquote_plus(text))
    found["json"] = _json_unescape(text)
    found["json-percent"] = urllib.parse.unquote_plus(found["json"])
    found["html"] = html.unescape(text)
    found["html-percent"] = urllib.parse.unquote_plus(found["html"])
    found["html-json"] = _json_unescape(found["html"])
    return found


def _base64_decodings(text: str) -> list[bytes]:
    """Every base64-looking run of ``text``, decoded at each of its four alignments, both alphabets."""
    out = []
    for match in _B64_RUN.finditer(text):
        run = match.group(0).rstrip("=")
        for shift in range(4):
            part = run[shift:]
            if len(part) % 4 == 1:  # a lone last character encodes no whole byte
                part = part[:-1]
            if not part:
                continue
            part += "=" * (-len(part) % 4)
            for altchars in (b"+/", b"-_"):
                try:
                    out.append(base64.b64decode(part, altchars=altchars, validate=False))
                except (binascii.Error, ValueError):
                    pass
    return out


def secret_forms_in(secret: str, text: str, *, _depth: int = 0) -> list[str]:
    """The names of the encodings in which ``secret`` appears in ``text`` ([] when none)."""
    names = [name for name, decoded in decodings(text).items() if secret in decoded]
    if _depth:
        return names
    raw = secret.encode("utf-8")
    for decoded in _base64_decodings(text):
        if raw in decoded:
            names.append("base64")
            break
        inner = secret_forms_in(secret, decoded.decode("utf-8", "replace"), _depth=1)
        if inner:
            names.append("base64")
            names.extend(f"base64-{name}" for name in inner)
            break
    return names


def assert_no_secret_form(secrets, text: str, where: str = "output") -> None:
    for secret in secrets:
        found = secret_forms_in(secret, text)
        assert not found, f"a secret appears in the {where}, encoded as {found}"


def json_escaped(secret: str) -> str:
    """The secret as a JSON encoder with ensure_ascii and escaped slashes writes it (no quotes)."""
    return json.dumps(secret, ensure_ascii=True)[1:-1].replace("/", "\\/")
