"""Where a project's virtual environment is, by the conventions of the tools
that make them: in the tree (``.venv/``, ``venv/``: uv, poetry's and pdm's
in-project setting, ``python -m venv``), or in the user's own directories,
keyed by the project's path (poetry, hatch, pdm) or named by the user
(``UV_PROJECT_ENVIRONMENT``).

Why here and without running anything: ``--python`` is easy to forget, and
import costs measured in advisor's own interpreter miss every module the
project's environment has and it lacks. Finding the environment is reading
directory names; whether one may run is ``advisor.interpreter``'s decision
(the trust rules of ``advisor.trust``). Nothing the checkout contains can
point to an interpreter here: in-tree pointers (``.pdm-python``,
``poetry.toml``) are not read.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

#: In-tree environment folders looked for at the project root, in order.
IN_TREE = (".venv", "venv")


@dataclass(frozen=True)
class Found:
    """One environment a tool made for this project."""

    #: "in-tree", "uv", "poetry", "hatch" or "pdm".
    tool: str
    #: The environment's folder (the one holding ``pyvenv.cfg``).
    prefix: Path
    #: Its interpreter.
    python: Path


def env_python(prefix: Path) -> Path | None:
    """The interpreter of a virtualenv folder (``bin/python``,
    ``Scripts/python.exe``), or None when ``prefix`` is not one."""
    if not (prefix / "pyvenv.cfg").is_file():
        return None
    for candidate in (prefix / "bin" / "python", prefix / "Scripts" / "python.exe"):
        if candidate.is_file():
            return candidate
    return None


def in_tree(root: Path) -> list[Found]:
    """Virtualenvs at the project root (``.venv/``, ``venv/``)."""
    found = []
    for name in IN_TREE:
        python = env_python(root / name)
        if python is not None:
            found.append(Found("in-tree", root / name, python))
    return found


def outside_tree(root: Path, project_name: str, environ: Mapping[str, str], home: Path) -> list[Found]:
    """Environments uv, poetry, hatch and pdm keep for this project outside
    it, in that order (each tool's own default locations and variables)."""
    found: list[Found] = []
    uv = environ.get("UV_PROJECT_ENVIRONMENT")
    if uv:
        prefix = Path(uv) if os.path.isabs(uv) else root / uv
        found += _existing("uv", [prefix])
    if project_name:
        found += _existing("poetry", _poetry(root, project_name, environ, home))
    found += _existing("hatch", _hatch(root, project_name, environ, home))
    found += _existing("pdm", _pdm(root, environ, home))
    return found


def _existing(tool: str, prefixes: list[Path]) -> list[Found]:
    found = []
    for prefix in prefixes:
        python = env_python(prefix)
        if python is not None:
            found.append(Found(tool, prefix, python))
    return found


def _poetry(root: Path, name: str, environ: Mapping[str, str], home: Path) -> list[Path]:
    """``{cache-dir}/virtualenvs/{name}-{sha256 of the root, 8}-py{X.Y}``,
    newest Python first (poetry's ``EnvManager.generate_env_name``)."""
    cache = environ.get("POETRY_CACHE_DIR") or str(_user_dir("cache", "pypoetry", environ, home))
    venvs = Path(environ.get("POETRY_VIRTUALENVS_PATH") or os.path.join(cache, "virtualenvs"))
    sanitized = re.sub(r'[ $`!*@"\\\r\n\t]', "_", name.lower())[:42]
    digest = hashlib.sha256(os.path.normcase(os.path.realpath(root)).encode("utf-8", "surrogatepass")).digest()
    stem = f"{sanitized}-{base64.urlsafe_b64encode(digest).decode()[:8]}-py"
    return sorted(_children(venvs, stem), key=lambda p: _version(p.name[len(stem):]), reverse=True)


def _hatch(root: Path, name: str, environ: Mapping[str, str], home: Path) -> list[Path]:
    """``{data-dir}/env/virtual/{project}/{sha256 of the root, 8}/{env}``:
    the default environment (named after the project) first."""
    data = Path(environ.get("HATCH_DATA_DIR") or _user_dir("data", "hatch", environ, home))
    storage = data / "env" / "virtual"
    found: list[Path] = []
    for path in dict.fromkeys([str(root), os.path.realpath(root)]):
        digest = base64.urlsafe_b64encode(hashlib.sha256(path.encode("utf-8", "surrogatepass")).digest()).decode()[:8]
        for project in _children(storage, ""):
            found += sorted(_children(project / digest, ""), key=lambda p: (p.name != project.name, p.name))
    return [p for p in dict.fromkeys(found) if not p.name.endswith("-build")]


def _pdm(root: Path, environ: Mapping[str, str], home: Path) -> list[Path]:
    """``{data-dir}/venvs/{root name}-{md5 of the root, 8}-{id}`` (pdm's
    ``get_venv_prefix``)."""
    venvs = _user_dir("data", "pdm", environ, home) / "venvs"
    real = Path(os.path.realpath(root))
    digest = hashlib.md5(real.as_posix().encode("utf-8", "surrogatepass"), usedforsecurity=False).digest()
    return sorted(_children(venvs, f"{real.name}-{base64.urlsafe_b64encode(digest).decode()[:8]}-"))


def _children(folder: Path, prefix: str) -> list[Path]:
    try:
        return [folder / n for n in os.listdir(folder) if n.startswith(prefix) and (folder / n).is_dir()]
    except OSError:
        return []


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def _user_dir(kind: str, app: str, environ: Mapping[str, str], home: Path) -> Path:
    """platformdirs' user cache/data directory of ``app``, without platformdirs."""
    if sys.platform == "win32":
        local = environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(local) / app / ("Cache" if kind == "cache" and app == "pypoetry" else "")
    if sys.platform == "darwin":
        return home / "Library" / ("Caches" if kind == "cache" else "Application Support") / app
    if kind == "cache":
        return Path(environ.get("XDG_CACHE_HOME") or home / ".cache") / app
    return Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share") / app


__all__ = ["IN_TREE", "Found", "env_python", "in_tree", "outside_tree"]
