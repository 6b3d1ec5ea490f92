"""Find the Python files to scan: honour .gitignore files, default and
configured excludes; never follow a symlink out of the scanned tree."""

from __future__ import annotations

import errno
import fnmatch
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from advisor.config import DEFAULT_EXCLUDES

if TYPE_CHECKING:
    import pathspec

    from advisor.config import Config


def _gitignore_spec(directory: Path) -> "pathspec.PathSpec[pathspec.Pattern] | None":
    ignore = directory / ".gitignore"
    if not ignore.is_file():
        return None
    import pathspec

    try:
        lines = ignore.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.PathSpec.from_lines("gitwildmatch", lines)


class Excluder:
    """Decides whether a path is excluded, by name patterns and .gitignore files."""

    def __init__(self, root: Path, patterns: tuple[str, ...], use_gitignore: bool = True,
                 gitignore_top: Path | None = None, skip_migrations: bool = False) -> None:
        self.root = root
        #: Leave out Django migrations packages (advisor.engine.skipped).
        self.skip_migrations = skip_migrations
        #: .gitignore files above this directory do not count (a directory named on the command line).
        self.gitignore_top = gitignore_top
        self.name_patterns = [p for p in (*DEFAULT_EXCLUDES, *patterns) if "/" not in p.strip("/")]
        self.path_patterns = [p.strip("/") for p in patterns if "/" in p.strip("/")]
        self.use_gitignore = use_gitignore
        self._specs: dict[Path, pathspec.PathSpec[pathspec.Pattern] | None] = {}
        # One regular expression for all name patterns: fnmatch per pattern per
        # path was most of discovery's time on a large tree.
        self._names = re.compile("|".join(f"(?:{fnmatch.translate(os.path.normcase(p.rstrip('/')))})"
                                          for p in self.name_patterns) or "(?!)")
        #: directory -> the (directory, .gitignore spec) pairs that apply to its entries.
        self._gitignores: dict[Path, list[tuple[Path, pathspec.PathSpec[pathspec.Pattern]]]] = {}

    def excluded(self, path: Path, is_dir: bool) -> bool:
        if self._names.match(os.path.normcase(path.name)):
            return True
        if is_dir and self.skip_migrations and path.name == "migrations":
            from advisor.engine.skipped import is_django_migrations

            if is_django_migrations(path):
                return True
        if self.path_patterns:
            try:
                relative = path.resolve().relative_to(self.root).as_posix()
            except (ValueError, OSError, RuntimeError):  # outside the root, or a symlink loop
                relative = path.as_posix()
            if any(fnmatch.fnmatch(relative, p) or relative.startswith(p + "/") for p in self.path_patterns):
                return True
        return self.use_gitignore and self._gitignored(path, is_dir)

    def _gitignored(self, path: Path, is_dir: bool) -> bool:
        for directory, spec in self._applying(path.parent):
            relative = path.relative_to(directory).as_posix() + ("/" if is_dir else "")
            if spec.match_file(relative):
                return True
        return False

    def _applying(self, parent: Path) -> list[tuple[Path, pathspec.PathSpec[pathspec.Pattern]]]:
        """The .gitignore files of ``parent`` and the directories above it, up to
        the project root, a repository's top (``.git``) or ``gitignore_top``:
        looked up once per directory, not once per file."""
        found = self._gitignores.get(parent)
        if found is None:
            found = []
            for directory in (parent, *parent.parents):
                spec = self._spec(directory)
                if spec is not None:
                    found.append((directory, spec))
                if directory in (self.root, self.gitignore_top) or (directory / ".git").exists():
                    break
            self._gitignores[parent] = found
        return found

    def _spec(self, directory: Path) -> pathspec.PathSpec[pathspec.Pattern] | None:
        if directory not in self._specs:
            self._specs[directory] = _gitignore_spec(directory)
        return self._specs[directory]


def discover(paths: list[Path], root: Path, exclude: tuple[str, ...], force_exclude: bool = False,
             *, skip_migrations: bool = False) -> Iterator[Path]:
    """Yield Python files under ``paths``.

    Files named explicitly are kept even when excluded, unless
    ``force_exclude`` (for pre-commit, which names every staged file).
    """
    excluder = Excluder(root.resolve(), exclude, skip_migrations=skip_migrations)
    seen: set[Path] = set()
    for given in paths:
        if given.is_file() or (given.suffix in (".py", ".pyi") and not given.is_dir()):
            if force_exclude and _excluded_anywhere(given, excluder):
                continue
            if given not in seen:
                seen.add(given)
                yield given
            continue
        if not given.is_dir():
            yield given  # missing: analysis reports it as an error
            continue
        walker = excluder
        if not force_exclude and _excluded_anywhere(given, excluder):
            # Named on the command line inside an ignored or excluded directory (a vendored
            # tree, a download area): scan it, with only the ignore rules found inside it.
            walker = Excluder(excluder.root, exclude, gitignore_top=given, skip_migrations=skip_migrations)
        yield from _walk(given, walker, seen)


def discover_for(paths: list[Path], config: "Config", force_exclude: bool | None = None) -> Iterator[Path]:
    """``discover`` with the project's settings: its excludes, plus vendored
    trees and Django migrations unless configured in (advisor.engine.skipped)."""
    force = config.force_exclude if force_exclude is None else force_exclude
    return discover(paths, config.root, scan_excludes(config), force, skip_migrations=not config.include_migrations)


def scan_excludes(config: "Config") -> tuple[str, ...]:
    """The configured exclude patterns, plus vendored directories unless included."""
    from advisor.engine.skipped import VENDORED_DIRS

    return config.exclude if config.include_vendored else (*config.exclude, *VENDORED_DIRS)


def _walk(top: Path, excluder: Excluder, seen: set[Path]) -> Iterator[Path]:
    visited_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False, onerror=None):
        directory = Path(dirpath)
        try:
            stat = directory.stat()
            visited_dirs.add((stat.st_dev, stat.st_ino))
        except OSError:
            continue
        dirnames[:] = sorted(
            d for d in dirnames
            if not excluder.excluded(directory / d, True) and not (directory / d / "pyvenv.cfg").is_file()
        )  # a directory with pyvenv.cfg is a virtual environment, whatever its name
        for name in sorted(filenames):
            if not name.endswith((".py", ".pyi")):
                continue
            path = directory / name
            if path.is_symlink() and not _link_loop(path):
                if not _inside(path, top):
                    continue  # a link leading out of the scanned tree (a loop is kept: the scan reports it)
                if _walked_anyway(path, excluder):
                    continue  # an alias of a file the walk reaches itself: analysed and reported once
            if excluder.excluded(path, False) or path in seen:
                continue
            seen.add(path)
            yield path
        # Directories named like x.py are skipped: os.walk lists them in dirnames.


def _excluded_anywhere(path: Path, excluder: Excluder) -> bool:
    """True if the file or any directory above it (up to the root) is excluded."""
    absolute = path.resolve()
    if excluder.excluded(absolute, False):
        return True
    for parent in absolute.parents:
        if parent == excluder.root or excluder.root not in parent.parents:
            break
        if excluder.excluded(parent, True):
            return True
    return False


def _walked_anyway(link: Path, excluder: Excluder) -> bool:
    """Whether the file a link inside the tree leads to is scanned under its
    own name: its real path is inside the walked tree (checked by the
    caller) and not excluded. os.walk does not follow directory links, so
    only file links can make a second name for a file."""
    target = link.resolve()
    return target.is_file() and target.suffix in (".py", ".pyi") and not _excluded_anywhere(target, excluder)


def _link_loop(path: Path) -> bool:
    """A symbolic link that never resolves (a loop): unreadable, so reported, not skipped."""
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 says "Symlink loop"
        return True
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _inside(path: Path, top: Path) -> bool:
    try:
        path.resolve().relative_to(top.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False
