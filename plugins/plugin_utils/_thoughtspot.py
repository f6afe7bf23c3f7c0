# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ThoughtSpot token module and lookup share on the controller.

Internal to the collection: no stability promise to code outside it.
"""

from __future__ import annotations

from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughtspot import CACHE_VENDOR, normalise_host
from ansible_collections.apiauth.saas.plugins.plugin_utils import _revoke_spool as spool


def revoke_at_end_hooks(params: dict) -> tuple:
    """(cache_dir, on_new_token) for a token task: the run's spool when revoke_at_end is set, else (None, None)."""
    if not params.get("revoke_at_end") or params.get("state", "present") != "present":
        return None, None
    directory = spool.current()

    def on_new_token(record: dict) -> None:
        spool.remember(directory, CACHE_VENDOR, normalise_host(params["host"]), record["access_token"], params,
                       expires_at=record.get("expires_at"), obtained_at=record.get("obtained_at"))

    return spool.cache_dir(directory), on_new_token
