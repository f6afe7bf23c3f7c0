# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the C(*_token) lookups.

Internal to the collection: no stability promise to code outside it.

Options come from keyword arguments, then variables, the environment and
ansible.cfg, as each lookup's documentation declares; then only ``get_option``
is used, so a lookup and the module of the same name hand the engine the same
dictionary of options.

A lookup runs for no host in particular: its progress notes (retries, waits
for another process, at -vv the cache layer that served the token) are
prefixed with ``lookup <name>`` instead.
"""

from __future__ import annotations

import os

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.apiauth.saas.plugins.module_utils._argspec import check_raw, check_urls
from ansible_collections.apiauth.saas.plugins.module_utils._certs import key_file_warnings
from ansible_collections.apiauth.saas.plugins.module_utils._errors import ApiAuthError, OptionError
from ansible_collections.apiauth.saas.plugins.module_utils._token_service import GENERIC, get_token, redactor_for
from ansible_collections.apiauth.saas.plugins.plugin_utils._controller_action import (
    display,
    progress_to_display,
    unexpected_error_message,
)


class TokenLookup(LookupBase):
    """Return a token, its Authorization header value, the whole record, or API headers.

    ``headers`` exists for vendors whose record carries them (Thredd); the
    lookup's documented choices decide which outputs a lookup offers.
    """

    PROFILE = GENERIC
    OPTION_NAMES: tuple = ()

    def fetch(self, params: dict, progress=None):
        """The engine call: a TokenOutcome for these options; ``progress`` gets its notes."""
        return get_token(params, self.PROFILE, progress=progress)

    def redactor(self, params: dict):
        """Masks this lookup's secret options in an unexpected error's text."""
        return redactor_for(params)

    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError(
                f"lookup {self._load_name} takes no positional terms; "
                "give its options as keywords, for example client_id=..."
            )
        var_options = self._templated_var_options(variables)
        try:
            self._check_given(var_options, kwargs)
        except OptionError as exc:
            raise AnsibleLookupError(str(exc)) from None
        self.set_options(var_options=var_options, direct=kwargs)
        params = {name: self.get_option(name) for name in self.OPTION_NAMES}
        output = self.get_option("output")
        for warning in key_file_warnings(params):
            display.warning(warning)
        try:
            check_urls(params)
            # ansible_name is the name the user wrote (apiauth.saas.oauth2_token), _load_name a Python path.
            name = getattr(self, "ansible_name", None) or self._load_name
            outcome = self.fetch(params, progress_to_display(f"lookup {name}"))
        except ApiAuthError as exc:
            raise AnsibleLookupError(str(exc)) from None
        except Exception as exc:  # pylint: disable=broad-except
            raise AnsibleLookupError(unexpected_error_message(exc, self.redactor(params))) from None
        if outcome.warnings:
            # A warning may quote a vendor or a path: masked like an error.
            redactor = self.redactor(params)
            for warning in outcome.warnings:
                display.warning(redactor.redact(str(warning)))
        record = outcome.record
        if output == "authorization":
            return [record["authorization"]]
        if output == "record":
            return [dict(record, source=outcome.source)]
        if output == "headers":
            return [record["headers"]]
        return [record["access_token"]]

    def _check_given(self, var_options, direct: dict) -> None:
        """Check keywords, variables and environment variables as given, before Ansible's configuration does.

        It would show a dictionary given for a secret in its message, read any
        text that is not a boolean (validate_certs=maybe) as false and an empty
        path as the current directory.
        """
        definitions = C.config.get_configuration_definitions("lookup", self._load_name)
        check_raw(definitions, direct)
        given, where = {}, {}
        for name, definition in definitions.items():
            if direct.keys() & {name, *(definition.get("aliases") or ())}:
                continue  # a keyword wins over the variables and the environment
            # In the order Ansible looks: variables, then the environment, the last entry of each first.
            sources = [(var.get("name"), var_options or {}, "the variable")
                       for var in reversed(definition.get("vars") or ())]
            sources += [(env.get("name"), os.environ, "the environment variable")
                        for env in reversed(definition.get("env") or ())]
            for source, values, what in sources:
                if source in values:
                    given[name], where[name] = values[source], f"{what} {source}"
                    break
        check_raw(definitions, given, where=where)

    def _templated_var_options(self, variables):
        """The variables this lookup reads options from, templated.

        A lookup receives the task's variables raw: ``apiauth_saas_ca_path:
        "{{ ca_dir }}/ca.pem"`` would arrive as that literal text, and typed
        options would fail their conversion before they could be templated.
        Only the variables the options name are templated, so nothing else is
        evaluated for nothing.
        """
        if not variables:
            return variables
        names = C.config.get_plugin_vars("lookup", self._load_name)
        return {name: self._templar.template(variables[name]) for name in names if name in variables}
