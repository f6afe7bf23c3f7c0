# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: preload
type: aggregate
short_description: Load the collection's lookups and filters once, before Ansible forks its workers
version_added: 0.2.0
description:
  - Ansible runs each task of each host in a worker process forked from the main C(ansible-playbook) process.
    It loads a task's own plugin in the main process, so the workers inherit it, but it never loads lookup or
    filter plugins there. For a token lookup in a template, every host's worker parses the lookup's
    documentation and compiles its Python code, and the collection's engine when no task loaded it before
    (Ansible's collection loader keeps no bytecode). That is most of the cost of a token served from the
    cache. The filters that the role C(apiauth.saas.app_config) renders files with cost each host's worker about 25 ms
    more.
  - When the playbook starts, this callback loads every lookup and filter of the collection in the main
    process. The workers forked after that inherit them, and a worker's first call pays only for the call.
  - It also runs the file cache's cipher once there (on a throwaway key), so that OpenSSL's lookups of its
    algorithms are inherited too, which saves each worker about 3 ms on its first cached token. And it reads the
    defaults of the role C(apiauth.saas.app_config) there, which the role's file task would read on every host.
  - It also has Ansible load its own filter and test plugins there. A worker otherwise loads all of them on
    its first filter and its first test (C(is defined), for example), about 25 ms together, in any template
    or condition, the collection's or not.
  - It takes no option and changes no result; at -vvv it says how many plugins it loaded. A plugin that cannot
    be loaded here is left alone, and the template that uses it loads it and reports the problem, as without
    this callback.
  - "Loading them costs the main process about 150 ms of CPU once per run, and saves each worker that calls a
    lookup about 50 ms: worth it from three hosts on. docs/benchmarks.md gives the first call in a worker with
    and without it."
requirements:
  - Enable it in C(ansible.cfg) with C(callbacks_enabled = apiauth.saas.preload) in the C([defaults]) section, or
    with E(ANSIBLE_CALLBACKS_ENABLED). It can be enabled with other callbacks (a comma-separated list).
seealso:
  - plugin: apiauth.saas.oauth2_token
    plugin_type: lookup
    description: One of the lookups it loads.
  - ref: callback_plugins
    description: How callback plugins are enabled.
"""

EXAMPLES = r"""
# ansible.cfg
#   [defaults]
#   callbacks_enabled = apiauth.saas.preload
# or: ANSIBLE_CALLBACKS_ENABLED=apiauth.saas.preload ansible-playbook site.yml
"""

import importlib
import os

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import filter_loader, lookup_loader, test_loader

COLLECTION = "apiauth.saas"
# What a worker's first call would otherwise do itself, done once here and inherited: the file cache's cipher
# (OpenSSL looks an algorithm up on its first use in a process) and the defaults of the role app_config (a YAML
# file that the role's file task reads on every host).
WARM_UPS = (
    ("module_utils._cache_crypto", "warm_up", "the cache's cipher"),
    ("filter.app_config_problems", "role_defaults", "the defaults of the role app_config"),
)
_PLUGINS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def plugin_names(folder: str) -> list:
    """The fully qualified names of the collection's plugins in ``plugins/<folder>``."""
    try:
        files = sorted(os.listdir(os.path.join(_PLUGINS_DIR, folder)))
    except OSError:
        return []
    return [f"{COLLECTION}.{name[:-3]}" for name in files if name.endswith(".py") and not name.startswith("_")]


def preload_plugins(display=None) -> list:
    """Load the collection's lookups and filters through Ansible's loaders; the names loaded.

    A lookup is loaded as a template would load it: its module, every module
    it imports, and its option definitions from its documentation. A filter
    file is found by one of its filters (the files are named after one). All
    stays in the loaders' caches and ``sys.modules``, which the workers forked
    later inherit.
    """
    loaded = []
    for loader, folder, options in ((lookup_loader, "lookup", {"class_only": True}), (filter_loader, "filter", {})):
        for name in plugin_names(folder):
            try:
                plugin = loader.get(name, **options)
            except Exception as exc:  # pylint: disable=broad-except
                # The template that uses it loads it again and reports the problem in its own words.
                if display is not None:
                    display.vvv(f"{COLLECTION}.preload: {name} was not preloaded ({type(exc).__name__}).")
                continue
            if plugin is not None:
                loaded.append(name)
    if loaded:
        for module, function, what in WARM_UPS:
            try:
                getattr(importlib.import_module(f"ansible_collections.apiauth.saas.plugins.{module}"), function)()
            except Exception as exc:  # pylint: disable=broad-except
                if display is not None:
                    display.vvv(f"{COLLECTION}.preload: {what} was not prepared ({type(exc).__name__}).")
    # Any lookup of a test has Ansible load all of its own test plugins; the collection has none. (Looking
    # up the collection's filters above did the same for Ansible's own filters.)
    try:
        test_loader.get("ansible.builtin.truthy")
    except Exception as exc:  # pylint: disable=broad-except
        if display is not None:
            display.vvv(f"{COLLECTION}.preload: Ansible's test plugins were not preloaded ({type(exc).__name__}).")
    return loaded


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "apiauth.saas.preload"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self._done = False

    def v2_playbook_on_start(self, playbook):
        # In the main process, before the first task forks a worker; once per run.
        if self._done:
            return
        self._done = True
        loaded = preload_plugins(self._display)
        self._display.vvv(f"{self.CALLBACK_NAME}: loaded {len(loaded)} plugins before the workers start.")
