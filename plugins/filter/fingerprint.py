# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fingerprint
short_description: A short SHA-256 fingerprint of a secret, safe to show in diffs and logs
version_added: 0.1.0
description:
  - Returns C(sha256:) and the first 12 hex digits of the SHA-256 of the value's UTF-8 text, the fingerprint the
    collection's modules return and the roles show in diff mode. Two different values get different fingerprints
    (a collision needs about 2^24 values); the value cannot be read from it, but a short or guessable value can be
    guessed by trying candidates, as for any hash.
options:
  _input:
    description: The value; not a string is turned into one first (C(5) and C("5") share a fingerprint).
    type: raw
    required: true
author:
  - apiauth.saas maintainers (@apiauth)
"""

EXAMPLES = r"""
- name: Show which token a host holds without showing it
  ansible.builtin.debug:
    msg: "{{ app_token | apiauth.saas.fingerprint }}"
"""

RETURN = r"""
_value:
  description: The fingerprint.
  type: str
  sample: "sha256:4f2a9c0d81be"
"""

from ansible_collections.apiauth.saas.plugins.module_utils._errors import fingerprint as _fingerprint


def fingerprint(value):
    text = value if isinstance(value, str) else str(value)
    # surrogatepass: a lone surrogate (not valid text, but a possible Python string) still gets a fingerprint.
    return _fingerprint(text.encode("utf-8", "surrogatepass"))


class FilterModule:
    def filters(self):
        return {"fingerprint": fingerprint}
