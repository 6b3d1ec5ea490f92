"""Code a scan leaves out by default: vendored copies of other projects and
Django migrations.

Why: neither is the project's own code to optimise. A vendored package is
someone else's code, updated by copying a new release over it; an edit there
is lost at the next update. Django migrations run only under ``migrate``
(never at a program's startup) and are generated: a finding there cannot
pay. Both are scanned when configured (``include-vendored``,
``include-migrations``) or when named on the command line.
"""

from __future__ import annotations

from pathlib import Path

#: Directory names that hold vendored code (pip and setuptools use ``_vendor``).
VENDORED_DIRS: tuple[str, ...] = ("vendor", "_vendor", "vendored", "third_party")


def is_django_migrations(directory: Path) -> bool:
    """A ``migrations`` package inside a directory that looks like a Django
    app: it has ``apps.py`` or ``models.py`` (or a ``models`` package), or
    the package holds a numbered migration (``0001_initial.py``)."""
    if directory.name != "migrations" or not (directory / "__init__.py").is_file():
        return False
    app = directory.parent
    if (app / "apps.py").is_file() or (app / "models.py").is_file() or (app / "models" / "__init__.py").is_file():
        return True
    try:
        return any(p.name[:4].isdigit() and p.name[4:5] == "_" and p.suffix == ".py" for p in directory.iterdir())
    except OSError:
        return False


__all__ = ["VENDORED_DIRS", "is_django_migrations"]
