"""Say which collections and Python libraries of a secret_store backend are missing on the controller.

Arguments: the collection search paths as JSON, then ``module:FQCN``, ``lookup:FQCN`` or ``library:NAME`` items.
Prints a JSON object {"missing_plugins": [...], "missing_libraries": [...]} and exits 0.
"""

from __future__ import annotations

import importlib.util
import json
import sys


def main(argv: list[str]) -> int:
    paths = json.loads(argv[0])
    missing_plugins, missing_libraries = [], []
    wanted = [item.split(":", 1) for item in argv[1:]]
    if any(kind in ("module", "lookup") for kind, _name in wanted):
        from ansible.plugins.loader import init_plugin_loader, lookup_loader, module_loader

        init_plugin_loader(paths)
        loaders = {"module": module_loader, "lookup": lookup_loader}
    for kind, name in wanted:
        if kind == "library":
            if importlib.util.find_spec(name) is None:
                missing_libraries.append(name)
        elif not loaders[kind].find_plugin_with_context(name).resolved:
            missing_plugins.append(name)
    print(json.dumps({"missing_plugins": missing_plugins, "missing_libraries": missing_libraries}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
