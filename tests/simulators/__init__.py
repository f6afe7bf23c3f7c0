"""HTTPS simulator of SaaS token endpoints, for tests and ``make demo``.

The package lives at ``tests/simulators`` and is imported as ``simulators``
(``tests/`` is put on ``sys.path`` by ``tests/conftest.py`` and by
``__main__.py``). Nothing here ever talks to a real vendor: the server only
listens on 127.0.0.1.

Adding a vendor = one new module in this package exposing ``register(app)``
(and optionally ``seed_demo(app)``), plus one line in ``VENDOR_MODULES``.
"""

from __future__ import annotations

# Vendor modules mounted by the server, in this order. Each is a module of this
# package with ``register(app: core.SimApp) -> None`` and, optionally,
# ``seed_demo(app: core.SimApp) -> dict[str, str]`` (demo clients + Ansible vars).
VENDOR_MODULES: tuple[str, ...] = (
    "oauth2",
    "throughline",
    "thredd",
    "thoughttrace",
    "thrive",
    "thoughtspot",
)
