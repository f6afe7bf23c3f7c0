"""Make ``ansible_collections.apiauth.saas`` importable for a plain pytest run.

The repository root is the collection; ``make`` links it under
``.tmp/collections/ansible_collections/apiauth/saas``. Under ansible-test a
collection finder is already active and this does nothing.
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".tmp", "collections")
sys.path.insert(0, os.path.join(ROOT, "tests"))


def _link_collection() -> None:
    target = os.path.join(COLLECTIONS, "ansible_collections", "apiauth", "saas")
    if not os.path.lexists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(ROOT, target)


def _init_loader() -> None:
    try:
        from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    except ImportError:  # ansible-test module context
        return
    if any(isinstance(f, _AnsibleCollectionFinder) for f in sys.meta_path):
        return
    _link_collection()
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([COLLECTIONS])


_init_loader()
