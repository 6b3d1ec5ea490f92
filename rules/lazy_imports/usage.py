"""The vocabulary of lazy-imports' name-usage analysis (``reports.py``): what
one read of a module-level name is (``Use``), and the decorators, base
classes and calls that do or do not read annotations at run time."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Decorators that never read their function's annotations.
PASSIVE_DECORATORS = frozenset({
    "staticmethod", "classmethod", "property", "abstractmethod", "abc.abstractmethod",
    "overload", "typing.overload", "override", "typing.override", "typing_extensions.override",
    "cached_property", "functools.cached_property", "cache", "functools.cache",
    "lru_cache", "functools.lru_cache", "contextmanager", "contextlib.contextmanager",
    "asynccontextmanager", "contextlib.asynccontextmanager", "wraps", "functools.wraps",
    "final", "typing.final",
})
#: Base classes whose subclasses' annotations nothing reads at run time.
PASSIVE_BASES = frozenset({
    "object", "Protocol", "typing.Protocol", "typing_extensions.Protocol", "Generic",
    "typing.Generic", "ABC", "abc.ABC", "Exception", "BaseException", "ValueError",
    "TypeError", "RuntimeError", "KeyError",
})
#: Calls in a default value that mean a framework reads the signature (FastAPI, typer).
SIGNATURE_READERS = frozenset({
    "Depends", "Query", "Body", "Header", "Path", "File", "Form", "Cookie", "Security",
    "Option", "Argument", "Field", "Annotated",
})
#: Calls that read annotations or the module namespace dynamically.
ANNOTATION_READERS = frozenset({
    "get_type_hints", "typing.get_type_hints", "inspect.signature", "signature",
    "inspect.get_annotations", "get_annotations", "typing_extensions.get_type_hints",
})
#: The docstring of the module ``__getattr__`` lazy-imports' fix writes (module_getattr.py):
#: how the analysis and a later fix recognise it.
GETATTR_MARKER = "Load a deferred import on first access, then keep it (PEP 562)."
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Use:
    """One read of a module-level name."""

    #: "module" (runs at import), "function" (runs when called) or "annotation".
    where: str
    #: The outermost function whose body holds the use ("main", "Cli.run").
    function: str = ""
    #: For annotations: something may read it at run time (pydantic, FastAPI, ...).
    runtime: bool = False
