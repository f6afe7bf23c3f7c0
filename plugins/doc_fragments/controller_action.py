# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Attributes of every module that runs on the controller through its action plugin and is in the saas group."""

    DOCUMENTATION = r"""
attributes:
  action:
    description: Runs on the controller through an action plugin; nothing is sent to a managed host.
    support: full
  async:
    description: The task is quick and runs on the controller; C(async) is not supported.
    support: none
  action_group:
    description: Use C(group/apiauth.saas.saas) in C(module_defaults) to set options for all of them.
    support: full
    membership:
      - apiauth.saas.saas
"""
