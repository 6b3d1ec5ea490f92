"""``advisor fix --diff``: show exactly what ``advisor fix`` would write.

Why a private copy: ``fix`` works in rounds (deferring one import can make
another worth deferring), and each round scans the tree the previous round
wrote. A preview that stops after one round shows less than ``fix`` writes
(a user saw 17 changes previewed where 20 were written). So the preview runs
the real ``fix``, all rounds, in a temporary copy of the project, and reports
the copy's changes against the real files. Nothing in the project is
written: the copy holds real copies of the Python sources and configuration
files, and symbolic links to everything else (which ``fix`` never writes,
and never writes through).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.fix.runner import FixReport, FixRequest

#: Copied for real: what fix may write, and what decides how the tree is read.
_COPIED_SUFFIXES = (".py", ".pyi", ".toml", ".cfg", ".ini")
_COPIED_NAMES = (".gitignore",)


def preview_fix(request: "FixRequest", config: "Config", progress: Callable[[str], None] | None = None) -> "FixReport":
    """Run ``fix`` (every round) on a copy of the project; report it as a preview
    of the real tree. Paths outside the project root get a one-round preview."""
    from advisor.fix.runner import run_fix

    root = config.root.resolve()
    if not all(_inside(_real(p), root) for p in request.paths):
        report = run_fix(replace(request, write=False), config, progress)
        report.notices.append("the diff shows the first round of fixes only: a PATH lies outside the project root")
        return report
    with tempfile.TemporaryDirectory(prefix="advisor-preview-") as temp:
        shadow = Path(temp).resolve() / root.name
        copy_tree(root, shadow, config)
        shadow_request = replace(request, write=True, paths=[shadow / _relative(p, root) for p in request.paths],
                                 hot={str(shadow / _relative(k, root)): v for k, v in request.hot.items()
                                      if _inside(_real(k), root)})
        report = run_fix(shadow_request, _shadow_config(config, root, shadow), progress)
        return _as_preview(report, root, shadow)


def copy_tree(root: Path, shadow: Path, config: "Config") -> None:
    """Copy sources and config files, link everything else; skip what a scan
    never reads (VCS, environments, caches, build output)."""
    from advisor.engine.discover import Excluder

    excluder = Excluder(root, (), use_gitignore=False)  # default excludes only: fix may read the rest
    cache = config.cache_path().resolve()
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        target = shadow / here.relative_to(root)
        target.mkdir(parents=True, exist_ok=True)
        for name in list(dirnames):
            path = here / name
            if excluder.excluded(path, True) or path.resolve() == cache:
                dirnames.remove(name)
            elif path.is_symlink():
                dirnames.remove(name)
                os.symlink(os.readlink(path), target / name)
        for name in filenames:
            _copy_file(here / name, target / name)


def _copy_file(source: Path, destination: Path) -> None:
    if source.is_symlink():
        os.symlink(os.readlink(source), destination)
    elif source.suffix in _COPIED_SUFFIXES or source.name in _COPIED_NAMES:
        shutil.copy2(source, destination)
    else:
        os.symlink(source, destination)


def _shadow_config(config: "Config", root: Path, shadow: Path) -> "Config":
    """The configuration, re-rooted in the copy; import-time measurements
    already made are copied over (keyed by interpreter and module version)."""
    python = config.python
    if os.sep in python and not os.path.isabs(python):
        python = str(root / python)  # an environment inside the project is not copied
    cache = shadow.parent / "cache"
    measured = config.cache_path() / "importtime.json"
    if measured.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copy2(measured, cache / measured.name)
    source = shadow / _relative(config.source, root) if config.source and _inside(_real(config.source), root) else config.source
    return replace(config, root=shadow, source=source, python=python, cache_dir=str(cache))


def _as_preview(report: "FixReport", root: Path, shadow: Path) -> "FixReport":
    """The copy's report, told about the real files: paths and messages map
    back to the project, and nothing counts as written."""
    from advisor.engine.scan import display_path

    def real(path: Path) -> Path:
        return root / path.relative_to(shadow) if _inside(path, shadow) else path

    def shown(display: str) -> str:
        absolute = Path(os.path.abspath(display))
        return display_path(real(absolute)) if _inside(absolute, shadow) else display

    def text(message: str) -> str:
        return _mapped(message, shadow, display_path(root))

    files = {}
    for path, entry in report.files.items():
        outcomes = [replace(o, finding=_moved(o.finding, shown, text), detail=text(o.detail)) for o in entry.outcomes]
        applied = [_moved(f, shown, text) for f in entry.applied]
        files[real(path)] = replace(entry, path=real(path), display=shown(entry.display), outcomes=outcomes,
                                    applied=applied, skipped=text(entry.skipped))
    report.files = files
    report.errors = [replace(e, path=shown(e.path), message=text(e.message)) for e in report.errors]
    report.notices = [text(n) for n in report.notices]
    report.left_alone = [replace(k, path=shown(k.path), reason=text(k.reason)) for k in report.left_alone]
    report.written = False
    return report


def _mapped(message: str, shadow: Path, shown_root: str) -> str:
    """``message`` with the copy's paths written as the project's. The
    relative form goes first: it contains the absolute one after its
    ``../``, and replacing that first left ``../../..tests/x.py``."""
    for prefix in sorted({str(shadow), os.path.relpath(shadow)}, key=len, reverse=True):
        message = message.replace(prefix + os.sep, "" if shown_root == "." else shown_root + os.sep)
        message = message.replace(prefix, shown_root)
    return message


def _moved(finding: Any, shown: Callable[[str], str], text: Callable[[str], str] = lambda t: t) -> Any:
    return finding.with_(path=shown(finding.path), message=text(finding.message))


def _real(path: Path | str) -> Path:
    """The real location of a path; a symlink itself counts as where it sits."""
    path = Path(os.path.abspath(path))
    return path.parent.resolve() / path.name if path.is_symlink() else path.resolve()


def _relative(path: Path | str, root: Path) -> Path:
    return _real(path).relative_to(root)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


__all__ = ["copy_tree", "preview_fix"]
