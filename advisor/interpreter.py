"""Which interpreter measures import costs, how it was chosen, and what to
tell the user about it.

Why: costs measured in advisor's own interpreter miss every module only the
project's environment has, silently. Without ``--python``, the project's
environment is looked for (``advisor.env_locations``) and used when the trust
rules allow (docs/security.md):

- ``--python`` on the command line, then a ``python`` in the project's
  config that ``advisor.trust`` accepted, are used as they are;
- the active virtualenv (``VIRTUAL_ENV``) is the user's own choice in their
  shell: used (not under pre-commit, which activates the hook's own);
- an environment inside the checkout (``.venv/``, ``venv/``) is never run
  unasked: the user is told it was found and how to use it;
- one outside it (uv, poetry, hatch, pdm) is used only when
  ``advisor.trust`` accepts it and it does not put the checkout on
  ``sys.path`` (an editable install of the project), else the user is told why not.

The choice is said on stderr when it is not advisor's own interpreter, and
carried in ``Config.python_source`` (the JSON summary's ``interpreter``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.env_locations import Found


@dataclass(frozen=True)
class Choice:
    """The measuring interpreter and why it is that one."""

    python: str
    #: "--python", "config", "VIRTUAL_ENV", "uv", "poetry", "hatch", "pdm" or
    #: "advisor" (advisor's own interpreter: nothing else found or allowed).
    source: str
    #: Lines for the user (stderr), each complete.
    notices: tuple[str, ...] = ()


def choose_interpreter(config: "Config", paths: Iterable[Path], *, python_given: bool, isolated: bool,
                       environ: Mapping[str, str] | None = None, home: Path | None = None) -> Choice:
    """The interpreter ``config`` should measure with (see the module docstring)."""
    from advisor.env_locations import in_tree, outside_tree
    from advisor.trust import tree_roots

    environ = os.environ if environ is None else environ
    if python_given:
        return Choice(config.python, "--python")
    if config.python != sys.executable:
        return Choice(config.python, "config")
    active = _active(environ)
    if active is not None:
        return active
    notices = [_in_tree_notice(found) for found in in_tree(config.root)]
    if isolated:
        return Choice(sys.executable, "advisor", tuple(notices))
    roots = tree_roots(config, list(paths))
    for found in outside_tree(config.root, project_name(config.root), environ, home or Path.home()):
        problem = _problem(found, config.root, roots)
        if not problem:
            return Choice(str(found.python), found.tool,
                          (f"measuring import costs with {found.python} (the project's {found.tool} environment)",))
        notices.append(f"found the project's {found.tool} environment {found.prefix}, not used: {problem}; "
                       f"pass --python {found.python} to measure import costs in it")
    return Choice(sys.executable, "advisor", tuple(notices))


def source_of(config: "Config") -> str:
    """How ``config.python`` was chosen, also for a Config no command built."""
    if config.python_source:
        return config.python_source
    return "advisor" if config.python == sys.executable else "config"


def _active(environ: Mapping[str, str]) -> Choice | None:
    """The active virtualenv's interpreter (None: none active, or no interpreter in it)."""
    from advisor.env_locations import env_python

    active = environ.get("VIRTUAL_ENV")
    if not active or environ.get("PRE_COMMIT"):  # pre-commit activates the hook's own environment
        return None
    python = env_python(Path(active))
    if python is None:
        return None
    if os.path.realpath(active) == os.path.realpath(sys.prefix):  # advisor runs in it: nothing to say
        return Choice(sys.executable, "VIRTUAL_ENV")
    return Choice(str(python), "VIRTUAL_ENV", (f"measuring import costs with {python} (the active virtualenv)",))


def _in_tree_notice(found: "Found") -> str:
    python = _shown(found.python)
    return (f"found the project's environment {_shown(found.prefix)}{os.sep} inside the checkout: it is not run "
            f"unasked (docs/security.md); to measure import costs in it, pass --python {python}")


def _problem(found: "Found", root: Path, roots: list[str]) -> str:
    """Why an environment found outside the tree must not run unasked ("" when it may)."""
    from advisor.trust import interpreter_problem, tree_on_sys_path

    return interpreter_problem(str(found.python), root, roots) or tree_on_sys_path(found.prefix, roots)


def project_name(root: Path) -> str:
    """``[project].name``, else ``[tool.poetry].name``, of the root's pyproject.toml ("" if none)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with (root / "pyproject.toml").open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, ValueError):
        return ""
    tool = document.get("tool")
    for table in (document.get("project"), tool.get("poetry") if isinstance(tool, dict) else None):
        if isinstance(table, dict) and isinstance(table.get("name"), str):
            return str(table["name"])
    return ""


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when below it (what a user types)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


__all__ = ["Choice", "choose_interpreter", "project_name", "source_of"]
