"""A module proxy that imports on first attribute access.

Rule modules bind ``cst = lazy_module("libcst")`` so that listing, explaining
and refining rules (and a scan whose every file is a cache hit) never pays
libcst's 100-400 ms import. Type checkers see the real module through an
``if TYPE_CHECKING:`` import. On Python 3.15 this is ``lazy import libcst``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        # Only called for attributes not yet copied here: after the first
        # access, ``cst.Name`` is a plain instance-dict hit (rules do this in
        # their hottest loops).
        module = self._module
        if module is None:
            module = importlib.import_module(self._name)
            self._module = module
        value = getattr(module, attr)
        self.__dict__[attr] = value
        return value

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``import name`` that defers the import until first use."""
    return _LazyModule(name)
