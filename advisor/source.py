"""Read and decode one source file, and name the module it defines.

Decoding follows Python's own rules (PEP 263 coding cookie, UTF-8 BOM,
UTF-8 default), so a file is read exactly as the interpreter would read it.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Callable, TypeVar

#: Files larger than this are reported, not parsed (a generated blob, not code).
MAX_FILE_BYTES = 20 * 1024 * 1024


class SourceError(Exception):
    """The file cannot be read or decoded; ``kind`` is read, decode or binary."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Source:
    """A decoded file: its text, the encoding it declared, and its raw bytes."""

    text: str
    encoding: str
    data: bytes


def read_source(path: Path) -> Source:
    """Read ``path`` and decode it like the interpreter; raise SourceError."""
    try:
        if path.is_dir():
            raise SourceError("read", "is a directory, not a file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError("read", f"file is too large to analyse ({size / 1e6:.1f} MB > {MAX_FILE_BYTES / 1e6:.0f} MB)")
        data = path.read_bytes()
    except SourceError:
        raise
    except FileNotFoundError:
        raise SourceError("read", "file disappeared before it could be read") from None
    except PermissionError:
        raise SourceError("read", "permission denied") from None
    except OSError as exc:
        raise SourceError("read", f"cannot read file: {exc.strerror or exc}") from None
    return decode_source(data)


def decode_source(data: bytes) -> Source:
    """Decode bytes as Python source, honouring a BOM and a coding cookie."""
    if b"\0" in data:
        raise SourceError("binary", "file contains NUL bytes: not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if "encoding problem" in str(exc.msg) or "unknown encoding" in str(exc.msg):
            raise SourceError("decode", f"bad coding declaration: {exc.msg}") from None
        encoding = "utf-8"  # undecodable first lines: say which byte, below
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(
            "decode", f"not valid {encoding} (byte {data[exc.start]:#04x} at line {line}); "
            "save it as UTF-8 or declare its encoding with a coding comment"
        ) from None
    except LookupError:
        raise SourceError("decode", f"unknown encoding {encoding!r} in coding declaration") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return Source(text=text, encoding=encoding, data=data)


def source_lines(text: str) -> list[str]:
    """The file's lines as finding positions number them: split at "\\n" only
    (``str.splitlines`` also splits at form feeds and other characters a
    Python line may hold), without the "\\r" of CRLF endings."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def module_name(path: Path) -> str:
    """Dotted module name, walking up through packages (dirs with __init__.py)."""
    path = real_path(path)
    parts = [] if path.stem == "__init__" else [path.stem]
    parts.extend(_cached("package", path.parent, _package_names))
    name = ".".join(reversed(parts))
    return name if all(p.isidentifier() for p in parts) else ""


def _package_names(directory: Path) -> tuple[str, ...]:
    """The package names from ``directory`` up (innermost first)."""
    names = []
    parent = directory
    while (parent / "__init__.py").is_file() and parent.name.isidentifier():
        names.append(parent.name)
        if parent.parent == parent:
            break
        parent = parent.parent
    return tuple(names)


def source_root(path: Path) -> Path:
    """The directory that must be on sys.path for ``module_name(path)`` to import."""
    return _cached("root", real_path(path).parent, _source_root_of)


def _source_root_of(directory: Path) -> Path:
    parent = directory
    while (parent / "__init__.py").is_file() and parent.parent != parent:
        parent = parent.parent
    return parent


def real_path(path: Path) -> Path:
    """The real path; for a symlink loop (which an errors entry reports), the link itself."""
    if _SCAN_CACHE is not None and path.name not in ("", ".", ".."):
        try:
            if not path.is_symlink():  # then only its directory can hide a link: resolved once per directory
                return _cached("real", path.parent, _resolve) / path.name
        except OSError:
            pass
    return _resolve(path)


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: "Symlink loop" before Python 3.13
        return path.absolute()


#: Directory facts (real path, package, source root) during one scan, or None.
_SCAN_CACHE: dict[tuple[str, Path], Any] | None = None


_T = TypeVar("_T")


def _cached(kind: str, directory: Path, compute: Callable[[Path], _T]) -> _T:
    cache = _SCAN_CACHE
    if cache is None:
        return compute(directory)
    key = (kind, directory)
    if key not in cache:
        cache[key] = compute(directory)
    value: _T = cache[key]  # ``kind`` fixes the value's type: one compute per kind
    return value


class DirectoryFacts:
    """``with DirectoryFacts():`` looks each directory's real path, package and
    source root up once. Only for the length of one scan, while the tree holds
    still: on a 2,800-file tree these lookups were seconds of ``stat()`` and
    ``realpath`` before the first file reached a worker."""

    def __enter__(self) -> "DirectoryFacts":
        global _SCAN_CACHE
        self._outer = _SCAN_CACHE
        _SCAN_CACHE = {}
        return self

    def __exit__(self, *exc: object) -> None:
        global _SCAN_CACHE
        _SCAN_CACHE = self._outer


def is_test_path(path: PurePath) -> bool:
    """Test modules and conftest files, by the usual naming conventions
    (pytest's ``test_*.py`` / ``*_test.py``; Django's ``tests.py``, and its
    ``tests_*.py`` / ``*_tests.py`` variants)."""
    name = path.name
    if name in ("conftest.py", "tests.py") or name.startswith(("test_", "tests_")) or name.endswith(("_test.py", "_tests.py")):
        return True
    return any(part in ("tests", "test", "testing") for part in path.parts[:-1])
