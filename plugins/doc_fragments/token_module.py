# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """What every C(*_token) module shares besides apiauth.saas.controller_action: output censoring, check mode."""

    DOCUMENTATION = r"""
options:
  censor_result:
    description:
      - Hide the result in the task output, at every verbosity, as C(no_log) would, while the registered
        variable keeps the real values for later tasks.
      - Set to V(false) only while debugging, because the output then shows the token.
    type: bool
    default: true
attributes:
  check_mode:
    description: Fetching a token changes nothing at the vendor, so it runs in check mode too.
    support: full
  diff_mode:
    description: A token request has no state to compare.
    support: none
notes:
  - Options that the lookup of the same name reads from an environment variable fall back to that variable
    here too, for example C(APIAUTH_SAAS_CACHE_DIR) or C(APIAUTH_SAAS_CA_PATH), so a setting made once in the
    controller's environment serves modules and lookups alike.
  - The token cache lives on the controller (see O(cache_dir)). It is shared by all hosts, forks and runs
    of one user, and many forks asking at once cause one request.
"""
