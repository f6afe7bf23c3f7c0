# Copyright: apiauth.saas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the Sphinx inventory of the Ansible docsite pages the collection's docs link to.

`make docs` builds offline: intersphinx cannot download docs.ansible.com's objects.inv. The
pages antsibull-docs generates refer to a few labels of that site (the action plugin and return
value pages, the modules our docs name); this script writes an inventory with those labels and
their real addresses, which conf.py reads from a local file as intersphinx allows. A reference
to a label not listed here fails the build (warnings are errors): add it below.

    python docs/docsite/offline_inventory.py OUTPUT.inv
"""

from __future__ import annotations

import sys
import zlib

# (name, domain:role, address under https://docs.ansible.com/projects/ansible/devel/, title)
ENTRIES = [
    ("action_plugins", "std:label", "plugins/action.html#action-plugins", "Action plugins"),
    ("callback_plugins", "std:label", "plugins/callback.html#callback-plugins", "Callback plugins"),
    ("common_return_values", "std:label", "reference_appendices/common_return_values.html#common-return-values",
     "Return Values"),
    ("ansible_configuration_settings", "std:label", "reference_appendices/config.html#ansible-configuration-settings",
     "Ansible Configuration Settings"),
    ("ANSIBLE_CALLBACKS_ENABLED", "std:envvar", "reference_appendices/config.html#envvar-ANSIBLE_CALLBACKS_ENABLED",
     "-"),
]
MODULES = [
    ("ansible.builtin", "service"),
    ("ansible.builtin", "template"),
    ("ansible.builtin", "uri"),
    ("community.hashi_vault", "vault_kv2_write"),
]
for collection, module in MODULES:
    namespace, name = collection.split(".")
    ENTRIES.append((
        f"ansible_collections.{collection}.{module}_module", "std:label",
        f"collections/{namespace}/{name}/{module}_module.html#ansible-collections-{namespace}-{name}-{module}-module",
        f"{collection}.{module} module",
    ))


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    body = "".join(f"{name} {role} -1 {address} {title}\n" for name, role, address, title in ENTRIES)
    header = (
        "# Sphinx inventory version 2\n"
        "# Project: Ansible\n"
        "# Version: devel\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    with open(sys.argv[1], "wb") as handle:
        handle.write(header.encode() + zlib.compress(body.encode()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
