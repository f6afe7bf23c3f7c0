#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: thoughttrace_client
short_description: Create, deactivate, rotate or delete a ThoughtTrace API client
version_added: 0.1.0
description:
  - Manages an API client of ThoughtTrace (the admin menu's Access > API Clients) through the ThoughtTrace IdP API,
    authenticated as an administrator with O(admin_token) or with an admin API client (O(admin_client_id) and
    O(admin_client_secret)), whose token is fetched and cached as M(apiauth.saas.thoughttrace_token) does.
  - Looks the client up by O(name) first, compared without surrounding spaces and ignoring case, and changes only
    what differs, so a second run reports no change.
  - ThoughtTrace shows a client secret once, when the client is created or given a new secret; this module returns
    it then in RV(client_secret) and never again. Save it at once, or set O(recovery_file).
  - The create and new-secret requests are sent at most once. If one fails after it may have reached ThoughtTrace
    (a connection reset, a timeout, a server error), the task fails and says that the client may have been created
    or its secret replaced; check ThoughtTrace before running the task again.
  - A secret found in ThoughtTrace's answer is written to O(recovery_file) before anything else about the answer is
    judged; if the rest of the answer is wrong, the task fails with the secret still in RV(client_secret).
  - B(Single flight.) Runs that overlap for one client name make one client, or one new secret, between them. The
    run that creates or rotates holds an exclusive lock in O(cache_dir) (and, with O(cache_backend=redis), one on
    the shared server for other controllers); the others wait, then look the client up again. The run that made
    the secret leaves a hand-off record for them (mode C(0600) in O(cache_dir), encrypted with
    O(cache_encryption_key) when one is set; on the Redis server, always encrypted; used for at most 10 minutes). A
    run that started before that record was written returns that secret in RV(client_secret), with a RV(reason),
    instead of creating the client again or rotating its secret a second time; only what else differs (O(active))
    is changed. A record that cannot be read (written with another O(cache_encryption_key)) fails the task before
    anything is sent.
  - ThoughtTrace does not document the paths of its client administration API; they can be changed with
    O(api_paths).
  - Runs on the controller only; when the result holds a secret, it is hidden from the task output unless
    O(censor_result=false), while the registered variable keeps it.
requirements:
  - requests (Python library, on the controller)
  - cryptography (Python library, on the controller)
  - redis (Python library, on the controller), only for O(cache_backend=redis)
author:
  - apiauth.saas maintainers (@apiauth)
options:
  name:
    description:
      - The client's name, shown in ThoughtTrace as the "who" of everything the client does.
      - Compared with the names in ThoughtTrace without leading and trailing spaces and ignoring case. Two clients
        of the same name make the task fail, as it could not tell which one to manage.
    type: str
    required: true
  state:
    description:
      - V(present) creates the client when it does not exist; V(absent) deletes it when it does.
    type: str
    choices: [present, absent]
    default: present
  active:
    description:
      - When given, deactivate (V(false)) or reactivate (V(true)) the client if it is not already so. A deactivated
        client's secret gets no tokens.
      - A client created with V(false) is deactivated right after it is created.
      - When not given, the client's status is left as it is; a new client is active.
    type: bool
  rotate:
    description:
      - V(always) gives an existing client a new secret, returned in RV(client_secret). The old secret stops
        working at once. It reports a change on every run, so set it only when a rotation is wanted.
      - V(when_needed), the default when omitted, makes a secret only with a new client.
      - Ignored when the client is created (it comes with a new secret) and with O(state=absent).
      - The same option, with the same values, as M(apiauth.saas.thrive_apikey)'s.
    type: str
    choices: [when_needed, always]
  new_secret:
    description:
      - The older form of O(rotate=always), still accepted; give one of O(rotate) and O(new_secret), not both.
    type: bool
  admin_token:
    description:
      - A bearer token of a ThoughtTrace administrator, for example from M(apiauth.saas.thoughttrace_token).
      - Give either this or O(admin_client_id) and O(admin_client_secret).
    type: str
  admin_client_id:
    description:
      - The client id of an API client with administrator rights; its token is fetched from
        C(<base_url>/connect/token) and cached (see O(cache)).
    type: str
  admin_client_secret:
    description:
      - The secret of O(admin_client_id).
    type: str
  base_url:
    description:
      - The base URL of the ThoughtTrace IdP API, for the admin token and the client administration calls.
      - Falls back to the environment variable C(APIAUTH_THOUGHTTRACE_BASE_URL), then
        C(APIAUTH_THOUGHTTRACE_IDENTITY_URL).
      - O(identity_url) is its older name, still accepted.
    type: str
    aliases: [identity_url]
    default: https://identity.thoughttrace.com
  api_paths:
    description:
      - Paths of the client administration API relative to O(base_url), replacing the built-in ones.
      - Keys C(list) and C(create) (default C(/api/clients)), C(activate) (C(/api/clients/{id}/activate)),
        C(deactivate) (C(/api/clients/{id}/deactivate)), C(new_secret) (C(/api/clients/{id}/secret)) and
        C(delete) (C(/api/clients/{id})). All but C(list) and C(create) must hold the placeholder C({id}).
    type: dict
  recovery_file:
    description:
      - When a secret is received, write it here before the module returns, as JSON with C(client_id),
        C(client_secret), C(name), C(id) and C(created), C(rotated_at) or C(received_at) (a secret taken over from
        another run); mode C(0600), replaced atomically. The directory must exist, belong to you and have mode
        C(0700), and the file may not be a symbolic link; this is checked before a client is created or rotated,
        and nothing is made when it fails.
      - If the file cannot be written all the same (a full disk), the task fails, saying that the client was
        created or rotated, and still returns the secret in RV(client_secret) of the registered variable, so it is
        not lost.
    type: path
  censor_result:
    description:
      - Hide the result from the task output, at every verbosity, when it holds a secret, as C(no_log) would; the
        registered variable keeps the real values. Results without a secret are shown as usual, diff included.
      - Set to V(false) only while debugging, because the output then shows the secret.
    type: bool
    default: true
extends_documentation_fragment:
  - apiauth.saas.controller_action
  - apiauth.saas.http_options
  - apiauth.saas.cache
attributes:
  check_mode:
    description: Lists the clients and reports what would change, sending no change to ThoughtTrace.
    support: full
  diff_mode:
    description: Shows the client before and after; secrets appear only as fingerprints.
    support: full
notes:
  - The module file itself only validates its arguments and fails; the action plugin of the same name does the
    work. Run on a managed host, a secret shown once would have to be either printed or masked in the registered
    variable too, and so lost.
  - Only the admin token is cached, never a client secret. O(cache_dir) also holds the lock and the short-lived
    hand-off record of the single flight above (also with O(cache=false)).
seealso:
  - module: apiauth.saas.thoughttrace_token
    description: Get a token with the client's id and secret.
"""

EXAMPLES = r"""
# The variables below come from your inventory and vault. `make demo` defines
# them for the bundled simulator, where these tasks run; app_dir stands for a
# private directory. Against ThoughtTrace, leave base_url and ca_path out.

- name: Create the API client of the document loader, keeping its secret in a recovery file
  apiauth.saas.thoughttrace_client:
    name: Example Document Loader
    admin_client_id: "{{ thoughttrace_admin_client_id }}"
    admin_client_secret: "{{ thoughttrace_admin_client_secret }}"
    base_url: "{{ thoughttrace_identity_url }}"
    ca_path: "{{ sim_ca_path }}"
    recovery_file: "{{ app_dir }}/thoughttrace-loader.json"
  register: loader

- name: Get a token with the new client, if it was just created
  apiauth.saas.thoughttrace_token:
    client_id: "{{ loader.client_id }}"
    client_secret: "{{ loader.client_secret }}"
    base_url: "{{ thoughttrace_identity_url }}"
    ca_path: "{{ sim_ca_path }}"
  when: loader.client_secret is defined

- name: Deactivate it
  apiauth.saas.thoughttrace_client:
    name: Example Document Loader
    active: false
    admin_client_id: "{{ thoughttrace_admin_client_id }}"
    admin_client_secret: "{{ thoughttrace_admin_client_secret }}"
    base_url: "{{ thoughttrace_identity_url }}"
    ca_path: "{{ sim_ca_path }}"

- name: Reactivate it with a new secret
  apiauth.saas.thoughttrace_client:
    name: Example Document Loader
    active: true
    rotate: always
    admin_client_id: "{{ thoughttrace_admin_client_id }}"
    admin_client_secret: "{{ thoughttrace_admin_client_secret }}"
    base_url: "{{ thoughttrace_identity_url }}"
    ca_path: "{{ sim_ca_path }}"
    recovery_file: "{{ app_dir }}/thoughttrace-loader.json"
  register: rotated

- name: Delete it
  apiauth.saas.thoughttrace_client:
    name: Example Document Loader
    state: absent
    admin_client_id: "{{ thoughttrace_admin_client_id }}"
    admin_client_secret: "{{ thoughttrace_admin_client_secret }}"
    base_url: "{{ thoughttrace_identity_url }}"
    ca_path: "{{ sim_ca_path }}"
"""

RETURN = r"""
changed:
  description: Whether the client was (or in check mode would be) created, changed or deleted.
  returned: always
  type: bool
  sample: true
actions:
  description:
    - The operations carried out, or in check mode those that would be, in order.
    - Each one of V(create), V(activate), V(deactivate), V(new_secret) and V(delete).
  returned: always
  type: list
  elements: str
  sample: [create, deactivate]
existing:
  description: The client as it was before the task, without a secret; empty when there was none.
  returned: success
  type: dict
  sample:
    id: "7f3c1b9e-2a44-4c1e-9d0b-5e8a6f1d2c30"
    name: Example Document Loader
    client_id: example-document-loader
    active: true
    created: "2026-11-23T19:20:00Z"
end_state:
  description:
    - The client after the task, or in check mode as it would be, without a secret; empty when there is none.
    - Has C(secret_fingerprint), a one-way tag of the new secret (or a placeholder in check mode), when the task
      made a secret.
  returned: success
  type: dict
  sample:
    id: "7f3c1b9e-2a44-4c1e-9d0b-5e8a6f1d2c30"
    name: Example Document Loader
    client_id: example-document-loader
    active: false
    created: "2026-11-23T19:20:00Z"
    secret_fingerprint: "sha256:4f2a9c0d81be"
diff:
  description: RV(existing) and RV(end_state) as C(before) and C(after).
  returned: in diff mode
  type: dict
  sample:
    before: {}
    after:
      id: "7f3c1b9e-2a44-4c1e-9d0b-5e8a6f1d2c30"
      name: Example Document Loader
      client_id: example-document-loader
      active: true
      created: "2026-11-23T19:20:00Z"
      secret_fingerprint: "sha256:4f2a9c0d81be"
reason:
  description: Present when the secret returned was made by another run moments ago, while this one was on its way.
  returned: when the secret came from another run
  type: str
  sample: another run created this client or gave it a new secret moments ago, while this one was on its way
client_id:
  description: The client id to request tokens with.
  returned: when a secret was received (created or rotated), also on a failure after that
  type: str
  sample: example-document-loader
client_secret:
  description:
    - The client's new secret. ThoughtTrace shows it only this once (and to runs that overlapped with this one,
      see the single flight above).
    - Also returned when the task fails after the secret was received (a recovery file that cannot be written,
      a deactivation refused), so the registered variable still has it.
  returned: when the client was created or given a new secret, also on a failure after that
  type: str
  sample: Vq3u0mN6dQe1JxR8sTzY2wLk5pHc9aFb
recovery_file:
  description: The absolute path of the recovery file the secret was written to.
  returned: when a secret was received and O(recovery_file) is set
  type: str
  sample: /etc/apiauth/thoughttrace-loader.json
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.apiauth.saas.plugins.module_utils._thoughttrace_clients import (
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    REQUIRED_TOGETHER,
    argument_spec,
)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        required_together=REQUIRED_TOGETHER,
        supports_check_mode=True,
    )
    module.fail_json(
        msg="apiauth.saas.thoughttrace_client runs on the controller through its action plugin; it cannot run "
            "as a module on a managed host, where a client secret shown once would be printed or lost. "
            "Call it as a task (the action plugin is used automatically), not with the module file alone."
    )


if __name__ == "__main__":
    main()
