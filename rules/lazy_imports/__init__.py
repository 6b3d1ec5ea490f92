"""The lazy-imports rule, in one folder: ``rule`` (the rule, its docs, options,
examples and decisions), ``facts`` and ``reports`` (its one name-usage
analysis, on CPython's ``ast``), ``usage`` (that analysis' vocabulary),
``costs`` (what an import costs at startup), ``codemod``, ``module_edits``
and ``module_getattr`` (the fix), ``explain`` (why an import was left alone)."""

from advisor.rules.lazy_imports.rule import LazyImports

__all__ = ["LazyImports"]
