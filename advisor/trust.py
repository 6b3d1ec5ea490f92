"""What a scanned project's configuration may make advisor run or trust.

A checkout's ``pyproject.toml`` is read as data. Two of its settings would
let it do more: ``python`` (an executable advisor runs to measure import
costs) and ``cache-dir`` (files advisor reads back as results). Both are
honoured only when they lead outside the scanned tree; anything else is
refused with one line on stderr, and the defaults apply. A ``--python``
given on the command line is the user's own choice and is not checked.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from advisor.config import Config


def tree_roots(config: "Config", paths: Iterable[Path]) -> list[str]:
    """Real paths of everything that came with the checkout: the project
    root, the scanned paths, and the repository holding the root (a
    ``pyproject.toml`` in a sub-folder can name ``../evil``)."""
    roots = {os.path.realpath(config.root)}
    roots.update(os.path.realpath(p if p.is_dir() else p.parent) for p in paths)
    for candidate in (Path(os.path.realpath(config.root)), *Path(os.path.realpath(config.root)).parents):
        if (candidate / ".git").exists() or (candidate / ".hg").exists():
            roots.add(str(candidate))
            break
    return sorted(roots)


def inside(path: str, roots: Iterable[str]) -> bool:
    """Whether the real path ``path`` is one of ``roots`` or below one."""
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def interpreter_problem(python: str, root: Path, roots: list[str]) -> str:
    """Why the configured interpreter must not run ("" when it may).

    Its real path must lie outside the tree (a virtualenv's ``bin/python``
    links to the base interpreter), and so must its environment: a
    virtualenv committed in a checkout runs code from the ``.pth`` files in
    its site-packages even when its ``bin/python`` is a link to /usr/bin."""
    written = os.path.expanduser(python)
    if os.sep in written or (os.altsep and os.altsep in written):
        given = os.path.abspath(os.path.join(root, written))
    else:
        found = shutil.which(written)
        if found is None:
            return "it is not on PATH"
        given = os.path.abspath(found)
    if not os.path.isfile(given):
        return "it is not a file"
    if inside(os.path.realpath(given), roots):
        return "it is inside the scanned tree"
    for environment in _environments(given):
        if inside(os.path.realpath(environment), roots):
            return f"its environment {environment} is inside the scanned tree"
    return ""


def tree_on_sys_path(prefix: Path, roots: list[str]) -> str:
    """Why an environment would put the scanned tree on ``sys.path`` ("" when
    it does not): a ``.pth`` file in its site-packages naming a directory of
    the tree, as an editable install of the project writes. Measuring there
    could import the project's own modules, which only the user may ask for."""
    for site in _site_packages(prefix):
        for pth in sorted(site.glob("*.pth")):
            try:
                lines = pth.read_text("utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for line in lines:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if line.startswith(("import ", "import\t")):
                    named = any(root in line for root in roots)
                else:
                    named = inside(os.path.realpath(os.path.join(site, line)), roots)
                if named:
                    return f"its {pth.name} puts the scanned tree on sys.path (an editable install of the project)"
    return ""


def _site_packages(prefix: Path) -> list[Path]:
    return [*prefix.glob("lib*/python*/site-packages"), prefix / "Lib" / "site-packages"]


def _environments(executable: str) -> list[str]:
    """Directories whose pyvenv.cfg (or layout) make them the interpreter's
    environment: checked on the path as written, without running it."""
    found = []
    current = os.path.dirname(executable)
    for _ in range(3):  # bin/python, Scripts/python.exe, a pyvenv.cfg beside the executable
        if os.path.isfile(os.path.join(current, "pyvenv.cfg")):
            found.append(current)
        current = os.path.dirname(current)
    found.append(os.path.dirname(os.path.dirname(executable)))  # the prefix of a bin/ layout
    return found


def checked_config(config: "Config", paths: Iterable[Path], *, python_given: bool) -> "Config":
    """``config`` with the settings the checkout may not use replaced by the
    defaults (a notice on stderr says which and why)."""
    roots = tree_roots(config, list(paths))
    where = config.source or "the project's configuration"
    if not python_given and config.python != sys.executable:
        problem = interpreter_problem(config.python, config.root, roots)
        if problem:
            _notice(f"not running the interpreter {config.python!r} named in {where}: {problem}; "
                    f"pass --python PATH to use it")
            config = replace(config, python=sys.executable)
    if config.cache_dir:
        directory = os.path.realpath(config.cache_path())
        if inside(directory, roots):
            _notice(f"not using cache-dir {config.cache_dir!r} from {where}: it is inside the scanned tree; "
                    "using the user's cache directory")
            config = replace(config, cache_dir="")
    return config


def _notice(message: str) -> None:
    print(f"advisor: {message}", file=sys.stderr)
