# -*- coding: utf-8 -*-
# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option groups every plugin shares (HTTP, cache), and the lists derived from argument specs.

Internal to the collection: no stability promise to code outside it.

Nothing here imports Ansible, so the token engine can read the option names
without loading Ansible's module code: ``_argspec`` adds the environment
fallbacks to these same dictionaries. The lists the engine and the plugins need
(the HTTP options, the options whose values are secret) are derived from the
specs here and nowhere else, so an option added to a spec is masked and passed
on without a second list to keep in step.
"""

from __future__ import annotations

# Long enough for a long play to finish with a token it got at its start.
DEFAULT_MIN_TTL = 900

HTTP = {
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "client_cert": {"type": "path"},
    "client_key": {"type": "path", "no_log": False},
    "proxy": {"type": "str"},
    "timeout": {"type": "float", "default": 30},
    "retries": {"type": "int", "default": 3},
    "allow_http": {"type": "bool", "default": False},
}

CACHE = {
    "cache": {"type": "bool", "default": True},
    "cache_dir": {"type": "path"},
    "cache_encryption_key": {"type": "str", "no_log": True},
    "cache_backend": {"type": "str", "choices": ["file", "redis"], "default": "file"},
    "cache_redis_url": {"type": "str", "no_log": True},
    "cache_redis_password": {"type": "str", "no_log": True},
    "min_ttl": {"type": "int", "default": DEFAULT_MIN_TTL},
    "force_refresh": {"type": "bool", "default": False},
}


def secret_names(*specs: dict) -> tuple:
    """The options of ``specs`` whose values are secret (``no_log: true``), in order, each once."""
    names: list = []
    for spec in specs:
        for name, option in spec.items():
            if option.get("no_log") is True and name not in names:
                names.append(name)
    return tuple(names)


# The options that configure the HTTP client.
HTTP_OPTIONS = tuple(HTTP)
# The cache options that may hold a secret (a Redis URL may hold a password).
CACHE_SECRET_OPTIONS = secret_names(CACHE)
