#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: credential_report
short_description: Report what expires when, before it breaks
version_added: 0.2.0
description:
  - Lists the credentials a controller depends on with their expiry, soonest first, and fails (per O(fail_on)) when
    one needs attention, so a scheduled job alerts before a vendor refuses a request.
  - B(Certificates) (O(certificates)), for example Thredd's transport and signing certificates, which live 350 days.
    Each gets its C(notAfter), and, when O(certificates[].key) is given, whether that private key fits the certificate
    (the same public key). The key is read only to compare its public half; it is never returned.
  - B(Cached tokens) in the token cache directory O(cache_dir). Vendor, token host, client id and expiry come from
    the clear metadata of each entry, so nothing is decrypted and no key is needed, also when entries are encrypted
    per credential or with O(cache_encryption_key). The entries' names (derived from a keyed hash of the secret) are
    not shown. A cached token is never RV(credentials[].status=expiring) and never makes the task fail, since the token
    modules renew it by themselves, and an expired one is only a cache miss.
  - B(Keys with an expiry) given in O(keys), such as THRIVE API keys and the C(valid_until) the role
    C(apiauth.saas.secret_store) keeps beside them, or the rotation dates of ThoughtTrace client secrets and
    ThoughtSpot trusted-authentication keys that your policy sets.
  - B(Recovery files) left behind in O(recovery_dir) or named in O(recovery_files). A module that receives a new
    secret writes it to a recovery file before anything else; a file still there means a delivery that never
    finished, or a secret on disk that nobody deleted. Each is reported as kind C(recovery_file) with
    RV(credentials[].status=expired) from the moment it was written (RV(credentials[].expires_at) is when it was
    written). Only its age, mode, the names of its fields and a few fields known not to be secret (tenant id,
    client id, client name, C(valid_until)) are shown, never a secret in it.
  - Statuses, worst first, C(invalid) (cannot be used whatever the date; a key that does not fit its certificate,
    a certificate or key that cannot be read, a certificate not yet valid, a key not found where it is kept),
    C(expired), C(expiring) (within O(warn_days) days), C(ok) (also a key without expiry).
  - Reads only, and runs on the controller.
requirements:
  - cryptography (Python library, on the controller)
author:
  - apiauth.saas maintainers (@apiauth)
options:
  certificates:
    description:
      - Certificates to report, PEM (a file that also holds the key is fine) or DER.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - The certificate file on the controller. One that cannot be read is reported as C(invalid), with the
            reason, rather than failing the whole report.
        type: path
        required: true
      key:
        description:
          - The private key file that should go with the certificate (PEM, alone or in a bundle, or DER).
          - A key that does not fit makes the certificate C(invalid). A key file open to other users gives a warning.
        type: path
      key_passphrase:
        description:
          - The passphrase of an encrypted O(certificates[].key). Without it, an encrypted key cannot be compared
            and the certificate is C(invalid), saying so.
        type: str
      name:
        description:
          - The name shown in the report. Defaults to the file name.
        type: str
  keys:
    description:
      - Keys or secrets whose expiry you know, for example what M(apiauth.saas.thrive_apikey) returned as
        C(valid_until) and the role C(apiauth.saas.secret_store) keeps. Give the expiry, never the key.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The name shown in the report.
        type: str
        required: true
      valid_until:
        description:
          - When it expires, ISO 8601 (V(2027-01-31T00:00:00Z); a date alone means its midnight UTC; no zone means
            UTC) or epoch seconds. V(null) or empty means it does not expire.
        type: raw
      location:
        description: Where it is kept (the store's name or path), shown in the report.
        type: str
      kind:
        description: The kind shown in the report.
        type: str
        default: api_key
      present:
        description:
          - V(false) when the key was looked for and not found where it is kept (the playbook
            C(apiauth.saas.credential_report) sets it from the store); it is then C(invalid).
        type: bool
        default: true
  recovery_dir:
    description:
      - A directory of recovery files (the O(apiauth.saas.thrive_apikey#module:recovery_file) or
        O(apiauth.saas.thoughttrace_client#module:recovery_file) of your playbooks, or C(recovery) beside O(cache_dir),
        where the modules put one they could not write where asked). Every file in it is reported. A missing
        directory has none.
    type: path
  recovery_files:
    description:
      - Recovery files to report if they exist, for playbooks that keep them beside other files.
    type: list
    elements: path
    default: []
  warn_days:
    description:
      - A certificate or key that expires within this many days is C(expiring).
    type: int
    default: 30
  fail_on:
    description:
      - V(expiring) fails the task when something is C(expiring), C(expired) or C(invalid), or a recovery file is
        left behind, so a scheduled job alerts while there is still time to renew.
      - V(expired) fails it only for what is already C(expired) or C(invalid).
      - V(never) only reports.
      - The report is returned either way, and the failure message lists what needs attention (names, places and
        dates, never a secret). Cached tokens never make the task fail.
    type: str
    choices: [expiring, expired, never]
    default: expiring
extends_documentation_fragment:
  - apiauth.saas.controller_action
  - apiauth.saas.http_options
  - apiauth.saas.cache
notes:
  - Of the cache options only O(cache_dir) (default, as for the token modules, C(apiauth.saas/tokens) under
    C($XDG_CACHE_HOME) or C(~/.cache)) and O(cache) (V(false) leaves the token cache out) are used; the
    others, and the HTTP options, are accepted so that C(module_defaults) set for the whole C(group/apiauth.saas.saas)
    apply here too. Only the file layer is read, not a shared Redis server.
  - The playbook C(apiauth.saas.credential_report) reads keys' C(valid_until) from secrets stores, runs this module
    and writes the report as Markdown and as one HTML page with a timeline.
attributes:
  check_mode:
    description: Reads only, so check mode gives the same report.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
seealso:
  - module: apiauth.saas.thredd_token
    description: Checks its own certificates' expiry before each request.
  - module: apiauth.saas.thrive_apikey
  - module: apiauth.saas.thoughttrace_client
"""

EXAMPLES = r"""
- name: A token over mutual TLS, so the cache holds one
  apiauth.saas.thredd_token:
    environment: uat
    connectivity: mtls
    auth_method: private_key_jwt
    client_id: "{{ thredd_uat_jwt_client_id }}"
    private_key_path: "{{ thredd_signing_key_path }}"
    signing_cert_path: "{{ thredd_signing_cert_path }}"
    key_id: "{{ thredd_key_id }}"
    client_cert: "{{ thredd_transport_cert_path }}"
    client_key: "{{ thredd_transport_key_path }}"
    base_url: "{{ thredd_uat_mtls_url }}"
    token_url: "{{ thredd_uat_mtls_url }}/oauth2/token"
    ca_path: "{{ sim_ca_path }}"

- name: What expires when
  apiauth.saas.credential_report:
    certificates:
      - name: Thredd transport (mTLS)
        path: "{{ thredd_transport_cert_path }}"
        key: "{{ thredd_transport_key_path }}"
      - name: Thredd signing
        path: "{{ thredd_signing_cert_path }}"
        key: "{{ thredd_signing_key_path }}"
    keys:
      - name: THRIVE API key, production
        valid_until: "2030-01-31T00:00:00Z"
        location: vault secret/apps/thrive
    recovery_dir: "{{ app_dir }}"
    warn_days: 60  # Thredd mails 60 days ahead
    fail_on: expired
  register: report

- name: Soonest first
  ansible.builtin.debug:
    msg: "{{ report.credentials | map(attribute='name') | zip(report.credentials | map(attribute='status')) | list }}"
"""

RETURN = r"""
credentials:
  description:
    - Every credential found, sorted by time left, soonest first (already expired first, no expiry last).
    - Besides the keys below, each kind has its own, none of them secret. C(certificate) has C(subject), C(issuer)
      (common names), C(serial_number), C(not_before), C(fingerprint_sha256), C(key_given), C(key_path),
      C(key_matches) (V(null) when not compared). C(token) has C(vendor), C(host), C(client_id), C(obtained_at),
      C(cache_dir) and C(renewal=automatic). C(api_key) (or the O(keys[].kind) given) has C(valid_until).
      C(recovery_file) has C(written_at), C(age_days), C(mode), C(holds) (names of its fields) and C(record_*)
      for its fields known not to be secret (C(record_tenant_id), C(record_client_id), C(record_valid_until)...).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The name given, or the file name, or the vendor and client id of a token.
      type: str
    kind:
      description: V(certificate), V(token), V(api_key) (or O(keys[].kind)) or V(recovery_file).
      type: str
    location:
      description: Where it is, the file path, the store given in O(keys[].location), or the token's host.
      type: str
    expires_at:
      description: When it expires, ISO 8601 UTC; V(null) for no expiry. For a recovery file, when it was written.
      type: str
    days_left:
      description: Days until RV(credentials[].expires_at), one decimal, negative once past; V(null) for no expiry.
      type: float
    status:
      description: V(ok), V(expiring), V(expired) or V(invalid).
      type: str
    problems:
      description: What makes it C(invalid), or what to do about a recovery file.
      type: list
      elements: str
      returned: always, except for tokens
  sample:
    - name: thrive-apikey.json
      kind: recovery_file
      location: /etc/apiauth/recovery/thrive-apikey.json
      expires_at: "2026-12-01T08:00:00Z"
      days_left: -5.0
      status: expired
      written_at: "2026-12-01T08:00:00Z"
      age_days: 5.0
      mode: "0600"
      holds: [api_key, correlation_id, environment, tenant_id, valid_until, written_at]
      record_tenant_id: eu-west-2_AbCdEf123
      record_valid_until: "2027-12-01T08:00:00Z"
      problems: ["left behind: it holds a secret that was not delivered, or was delivered and not deleted; ..."]
    - name: Thredd transport (mTLS)
      kind: certificate
      location: /etc/apiauth/thredd-transport.pem
      expires_at: "2026-12-16T09:00:00Z"
      days_left: 10.0
      status: expiring
      subject: client.uat.example
      issuer: Thredd UAT CA
      key_given: true
      key_matches: true
counts:
  description: How many credentials have each status.
  returned: always
  type: dict
  sample: {"invalid": 0, "expired": 1, "expiring": 1, "ok": 9}
alerts:
  description: One line per credential that makes the task fail under O(fail_on) (empty with O(fail_on=never)).
  returned: always
  type: list
  elements: str
  sample: ["expiring: certificate Thredd transport (mTLS) at /etc/apiauth/thredd-transport.pem, expires 2026-12-16T09:00:00Z"]
generated_at:
  description: When the report was made, ISO 8601 UTC.
  returned: always
  type: str
  sample: "2026-12-06T08:00:00Z"
warn_days:
  description: O(warn_days), for templates of the report.
  returned: always
  type: int
  sample: 30
fail_on:
  description: O(fail_on), for templates of the report.
  returned: always
  type: str
  sample: expiring
msg:
  description: A summary, or, when the task fails, what needs attention.
  returned: always
  type: str
  sample: "11 credential(s): 0 invalid, 1 expired, 1 expiring, 9 ok"
"""

from ansible_collections.apiauth.saas.plugins.module_utils._argspec import CACHE, HTTP, merge
from ansible_collections.apiauth.saas.plugins.module_utils._credential_report import ARGUMENT_SPEC, report_task
from ansible_collections.apiauth.saas.plugins.module_utils._module_adapter import run_task_module


def main():
    run_task_module(report_task, argument_spec=merge(ARGUMENT_SPEC, HTTP, CACHE))


if __name__ == "__main__":
    main()
