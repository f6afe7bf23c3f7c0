"""``python tests/simulators serve|run ...`` (see cli.py)."""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
# Python put this directory first on sys.path; import the package by its name
# from tests/ instead, so its modules are not also importable as top-level ones.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

from simulators.cli import main  # noqa: E402  pylint: disable=wrong-import-position

if __name__ == "__main__":
    sys.exit(main())
