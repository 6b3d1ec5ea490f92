"""Where advisor's caches live, and how a cache file is read and written.

Caches live in the user's cache directory, one folder per project keyed by
the real path of its root (``$ADVISOR_CACHE_DIR``, else
``$XDG_CACHE_HOME/advisor``, else ``~/.cache/advisor``), never in the
scanned tree: a checkout can then neither ship a cache that runs code nor
one that hides or invents findings (a content hash is easy to forge).

A cache file is one JSON document with a ``kind`` and a ``format`` version.
Reading never trusts it: a file of another kind or version is a routine miss
(a notice only with ``--verbose``); a truncated, corrupt or oddly shaped one
is a miss with a one-line notice on stderr. Either way it is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

#: Environment variable naming the directory that holds every project's cache folder.
CACHE_ENV = "ADVISOR_CACHE_DIR"

_state = {"verbose": False}
_shown: set[str] = set()


def set_verbose(flag: bool) -> None:
    """Show routine cache notices too (first run, another advisor version)."""
    _state["verbose"] = flag


def notice(message: str, *, routine: bool = False) -> None:
    """One line on stderr, once per process; routine ones only when verbose."""
    if (routine and not _state["verbose"]) or message in _shown:
        return
    _shown.add(message)
    print(f"advisor: {message}", file=sys.stderr)


def user_cache_root() -> Path:
    """The directory holding every project's cache folder."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(os.path.expanduser(override))
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "advisor"
    local = os.environ.get("LOCALAPPDATA")
    if os.name == "nt" and local:
        return Path(local) / "advisor" / "Cache"
    return Path.home() / ".cache" / "advisor"


def project_cache_dir(root: Path) -> Path:
    """This project's cache folder: named after the root, keyed by its real path."""
    real = os.path.realpath(root)
    digest = hashlib.sha256(real.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(real))[:40] or "root"
    return user_cache_root() / f"{name}-{digest}"


def read_document(path: Path, kind: str, version: int) -> dict[str, Any] | None:
    """The JSON object in ``path`` if advisor wrote it with this kind and
    version; None (and a notice, see the module docstring) otherwise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        notice(f"cannot read the cache file {path} ({exc.strerror or exc}); working without it")
        return None
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        notice(f"ignored a damaged cache file {path} ({type(exc).__name__}); it will be rebuilt")
        return None
    if not isinstance(document, dict) or document.get("kind") != kind:
        notice(f"ignored {path}: not an advisor {kind} cache; it will be rebuilt")
        return None
    if document.get("format") != version:
        notice(f"cache {path} was written by another advisor version; rebuilding it", routine=True)
        return None
    return document


def write_document(path: Path, kind: str, version: int, body: dict[str, Any]) -> None:
    """Write ``body`` with its kind and version, atomically; a cache that
    cannot be written only costs time."""
    from advisor.atomic import atomic_write_bytes

    document = {"kind": kind, "format": version, **body}
    try:
        atomic_write_bytes(path, json.dumps(document, separators=(",", ":")).encode("utf-8"))
    except (OSError, TypeError, ValueError):
        pass


def damaged(path: Path | None, detail: str) -> None:
    """The notice for a cache entry of the wrong shape."""
    notice(f"ignored a damaged entry in the cache file {path} ({detail}); it will be rebuilt")
