# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: revoke_at_end
type: aggregate
short_description: Revoke the tokens a playbook run asked to revoke when it ends
version_added: 0.1.0
description:
  - Tokens that M(apiauth.saas.thoughtspot_token) (module or lookup) got with O(apiauth.saas.thoughtspot_token#module:revoke_at_end=true)
    are revoked at ThoughtSpot when the C(ansible-playbook) run ends, whether it succeeded or failed, so a token
    meant for one run does not outlive it.
  - When the run starts, this callback makes a private directory (mode 0700) and names it in the environment
    variable E(APIAUTH_SAAS_REVOKE_DIR), which the tasks read. Such tasks share one token per set of options for
    the whole run, from a cache in that directory, and note there each token they get. At the end the callback
    revokes each noted token with the token itself (a user may revoke their own token) and deletes the directory.
  - It prints one line with the number of tokens revoked, and a warning with the token's fingerprint, never the
    token, for each one it could not revoke.
  - Without this callback enabled, a task with O(apiauth.saas.thoughtspot_token#module:revoke_at_end=true) fails and says how
    to enable it.
requirements:
  - Enable it in C(ansible.cfg) with C(callbacks_enabled = apiauth.saas.revoke_at_end) in the C([defaults])
    section, or with E(ANSIBLE_CALLBACKS_ENABLED).
options:
  cache_encryption_key:
    description:
      - The O(apiauth.saas.thoughtspot_token#module:cache_encryption_key) the tasks use, so that this run can
        revoke the tokens of an earlier run that was killed before its end (see the notes).
      - Without it, such tokens are deleted from disk once they have expired, but not revoked.
    type: str
    env:
      - name: APIAUTH_SAAS_CACHE_ENCRYPTION_KEY
notes:
  - No token is in clear on disk. Each noted token is encrypted (AES-256-GCM) under a random key that lives only
    in the memory of the run's processes, and, when the task has
    O(apiauth.saas.thoughtspot_token#module:cache_encryption_key), a second time under that key.
  - If the controller is killed before the run ends, its directory stays behind. The next run with this callback
    finds it (no live run holds its lock), revokes each token that is still valid when its second copy opens
    with this callback's O(cache_encryption_key), and deletes the rest once they have expired (after their
    O(apiauth.saas.thoughtspot_token#module:validity_time_in_sec)), then the directory.
    An interrupted run (Ctrl-C) still revokes them when Python exits normally.
  - The alternative without a callback is a task with O(apiauth.saas.thoughtspot_token#module:state=absent) in an
    C(always) section or a handler; see the examples of M(apiauth.saas.thoughtspot_token).
seealso:
  - module: apiauth.saas.thoughtspot_token
    description: The module whose O(apiauth.saas.thoughtspot_token#module:revoke_at_end) option uses this callback.
  - plugin: apiauth.saas.thoughtspot_token
    plugin_type: lookup
    description: The lookup, with the same option.
  - ref: callback_plugins
    description: How callback plugins are enabled.
"""

EXAMPLES = r"""
# ansible.cfg
#   [defaults]
#   callbacks_enabled = apiauth.saas.revoke_at_end
# or: ANSIBLE_CALLBACKS_ENABLED=apiauth.saas.revoke_at_end ansible-playbook site.yml

# In the playbook: one token for every host of the run, revoked when the run ends.
- name: Get a ThoughtSpot token for this run only
  apiauth.saas.thoughtspot_token:
    host: https://example.thoughtspot.cloud
    username: embed-service
    secret_key: "{{ vault_thoughtspot_secret_key }}"
    revoke_at_end: true
  register: ts
"""

import atexit
import os
import shutil

from ansible.plugins.callback import CallbackBase

from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError, Redactor, fingerprint
from ansible_collections.apiauth.saas.plugins.module_utils._http import HttpClient
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import http_options
from ansible_collections.apiauth.saas.plugins.module_utils._vendor_thoughtspot import VENDOR, ThoughtSpotApi
from ansible_collections.apiauth.saas.plugins.plugin_utils import _revoke_spool as spool


def revoke_entry(entry: dict) -> bool:
    """Revoke one noted token with itself as the bearer; False when it was already invalid."""
    token = entry["token"]
    options = dict(entry.get("options") or {})
    with HttpClient(http_options(options), vendor=VENDOR, redactor=Redactor([token])) as http:
        return ThoughtSpotApi(http, entry["host"]).revoke(bearer=token, token=token)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "apiauth.saas.revoke_at_end"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self._owner = os.getpid()
        self._spool, self._lock_fd = spool.start_run()
        self._swept = False
        os.environ[spool.ENV_NAME] = self._spool
        atexit.register(self._finish)

    def v2_playbook_on_start(self, playbook):
        # Options are set by now; once per run, before any task asks for a token.
        if self._swept or os.getpid() != self._owner:
            return
        self._swept = True
        try:
            key = self.get_option("cache_encryption_key") or None
        except KeyError:
            key = None
        report = spool.sweep_stale(os.path.dirname(self._spool), own=self._spool, encryption_key=key,
                                   revoke=revoke_entry)
        for token_fp, host, text in report.failures:
            self._display.warning(f"{self.CALLBACK_NAME}: could not revoke the {VENDOR} token {token_fp} of an "
                                  f"earlier run that did not end, at {host}: {text} It is kept until it expires.")
        if report:
            self._display.display(
                f"{self.CALLBACK_NAME}: earlier runs that did not end: {report.revoked} {VENDOR} token(s) revoked, "
                f"{report.already_invalid} already invalid, {report.expired} expired and deleted, {report.kept} kept "
                f"until they expire; {report.spools_removed} directory(ies) removed.")

    def v2_playbook_on_stats(self, stats):
        self._finish()

    def _finish(self):
        # Forked workers inherit this object; only the process that made the directory cleans it.
        if self._spool is None or os.getpid() != self._owner:
            return
        directory, self._spool = self._spool, None
        revoked = gone = 0
        try:
            for path, entry in spool.pending_entries(directory):
                try:
                    if revoke_entry(entry):
                        revoked += 1
                    else:
                        gone += 1
                    os.unlink(path)
                except (ApiAuthError, OSError) as exc:
                    text = Redactor([entry["token"]]).redact(str(exc))
                    self._display.warning(
                        f"{self.CALLBACK_NAME}: could not revoke the {VENDOR} token "
                        f"{fingerprint(entry['token'])} at {entry['host']}: {text}"
                    )
        finally:
            shutil.rmtree(directory, ignore_errors=True)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
            spool.end_run()
            if os.environ.get(spool.ENV_NAME) == directory:
                del os.environ[spool.ENV_NAME]
        if revoked or gone:
            extra = f" ({gone} already invalid)" if gone else ""
            self._display.display(f"{self.CALLBACK_NAME}: revoked {revoked} {VENDOR} token(s) of this run{extra}.")
