"""landcarbon — how much carbon the land takes up: the science package of the compendium.

Science modules live at the top level (``flux``, ``upscaling``, ``trends``, ``atmosphere``, ``budget``,
``world``, ``data``, ``units``, ``plotting``, ``errors``); everything that runs notebooks and builds the
report lives in :mod:`landcarbon.publish`.

The publishing modules were once top-level modules (``landcarbon.pipeline``, ``landcarbon.report``,
``landcarbon.reporting``, ``landcarbon.notebook``, ``landcarbon.cli``, ``landcarbon.paths``,
``landcarbon.atomic``). Those import paths keep working (with a ``DeprecationWarning``) through the small
alias finder below, so notebooks and user scripts written against them do not break.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__version__ = "0.1.0"

_MOVED = {f"{__name__}.{old}": f"{__name__}.publish.{old}"
          for old in ("pipeline", "report", "reporting", "notebook", "cli", "paths", "atomic")}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolve ``landcarbon.<old>`` to ``landcarbon.publish.<old>`` (the very same module object)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in _MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        warnings.warn(f"{spec.name} moved to {_MOVED[spec.name]}; import it from there",
                      DeprecationWarning, stacklevel=3)
        return importlib.import_module(_MOVED[spec.name])

    def exec_module(self, module):  # the target module was executed by its own import
        pass


if not any(isinstance(f, _MovedModuleFinder) for f in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())
