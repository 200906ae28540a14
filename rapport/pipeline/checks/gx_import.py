"""Import great-expectations without its optional Spark probe.

At import, GX tries `import pyspark` to offer Spark data sources. rapport validates pandas
frames only. When the optional spark extra is installed, that probe adds seconds to every
check run, and pyspark's Spark Connect module calls sys.exit(0) when it is imported from a
process whose __main__ has no file (pytest-xdist workers, embedded interpreters).
So pyspark is hidden from GX while GX imports, and restored right after.
"""

from __future__ import annotations

import sys
from types import ModuleType


def import_great_expectations() -> ModuleType:
    if "great_expectations" in sys.modules:
        return sys.modules["great_expectations"]
    hidden = "pyspark" not in sys.modules
    if hidden:
        sys.modules["pyspark"] = None  # makes `import pyspark` raise ImportError
    try:
        import great_expectations
    finally:
        if hidden:
            del sys.modules["pyspark"]
    return great_expectations
