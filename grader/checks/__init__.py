"""The lab's checks: importing this package registers every check module in ``REGISTRY``.

Check modules are the ``q<N>_*.py``, ``static.py`` and ``written.py`` files of this folder; they are
found by name so that a new question's module registers without touching this file. Helpers
(``registry``, ``context``, ``compare``, ``points``...) are imported by the modules that use them.
"""

import importlib
import pkgutil
import re

CHECK_MODULE = re.compile(r"^(q\d+_\w+|static|written)$")


def check_modules() -> list[str]:
    """The names of this package's check modules, sorted."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if CHECK_MODULE.match(info.name))


for _name in check_modules():
    importlib.import_module(f"{__name__}.{_name}")
