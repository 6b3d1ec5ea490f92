"""The lazy-imports rule, in one folder: ``rule`` (the rule, its docs, options
and examples), ``usage`` (where each module-level name is used), ``facts`` and
``reports`` (the same from CPython's ``ast``, for files libcst never parses),
``costs`` (what an import costs at startup), ``codemod`` and ``module_edits``
(the fix), ``explain`` (why an import was left alone)."""

from advisor.rules.lazy_imports.rule import LazyImports

__all__ = ["LazyImports"]
