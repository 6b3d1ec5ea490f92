"""A bad-input corpus, generated on demand (never checked in): every kind of
file a scan meets in the wild, with what the scan must say about each.

``build_corpus(root)`` writes the tree and returns a ``Corpus`` listing the
files that must become one ``errors`` entry (with kind and a reason
fragment), the odd-but-valid files that must be scanned (each carries one
``lazy-imports`` finding), and the plain good files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: A module-level import of a costly module used only inside a function:
#: ``lazy-imports`` reports it with ``--no-measure`` (bundled cost table).
COSTLY = "import asyncio\n\n\ndef run(coro):\n    return asyncio.run(coro)\n"

#: Files the hook in ``hooked_cli`` deletes after discovery / after stat().
VANISH_AFTER_DISCOVERY = "vanish_after_discovery.py"
VANISH_AFTER_STAT = "vanish_after_stat.py"


@dataclass
class Corpus:
    root: Path
    #: relative path -> (error kind, fragment of the reason)
    bad: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: valid files with an odd shape; each has exactly one finding
    odd: list[str] = field(default_factory=list)
    #: ordinary files with exactly one finding
    good: list[str] = field(default_factory=list)
    #: valid files with no finding (empty file, a deep but legal expression)
    clean: list[str] = field(default_factory=list)
    #: odd files with a finding that ``fix`` must leave byte for byte as they are
    unfixable: list[str] = field(default_factory=list)
    #: files deleted while the scan runs (by the hook)
    vanishing: list[str] = field(default_factory=list)
    #: relative path -> the bytes written
    data: dict[str, bytes] = field(default_factory=dict)

    def write(self, name: str, data: bytes | str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.data[name] = data.encode("utf-8") if isinstance(data, str) else data
        path.write_bytes(self.data[name])
        return path


def _huge_module(target_bytes: int) -> str:
    """A generated module of about ``target_bytes``: many small functions."""
    parts = [COSTLY]
    size = len(COSTLY)
    index = 0
    while size < target_bytes:
        chunk = (
            f"\n\ndef generated_{index}(a, b={index}):\n"
            f"    '''Generated function {index}.'''\n"
            f"    total = a + b * {index}\n"
            f"    values = [total, {index}, 'text {index}']\n"
            f"    return values\n"
        )
        parts.append(chunk)
        size += len(chunk)
        index += 1
    return "".join(parts)


def _nested_ifs(depth: int) -> str:
    lines = []
    for level in range(depth):
        lines.append(" " * level + f"if x{level}:")
    lines.append(" " * depth + "pass")
    return "\n".join(lines) + "\n"


def _add_bad_files(c: Corpus) -> None:
    def bad(name: str, data: bytes | str, kind: str, reason: str) -> None:
        c.write(name, data)
        c.bad[name] = (kind, reason)

    bad("syntax_error.py", "def broken(:\n    pass\n", "parse", "syntax error at line 1")
    bad("py2_print.py", 'print "hello"\n', "parse", "syntax error at line 1")
    # (`except X, e:` is not here: libcst accepts it; see test_code_python_rejects_is_reported)
    bad("py2_raise.py", "raise ValueError, 'no'\n", "parse", "syntax error at line 1")
    bad("py2_exec.py", 'exec "x = 1"\n', "parse", "syntax error at line 1")
    bad("py2_backticks.py", "x = `1`\n", "parse", "syntax error at line 1")
    bad("py2_ne.py", "x = 1 <> 2\n", "parse", "syntax error at line 1")
    bad("py2_octal.py", "x = 0777\n", "parse", "syntax error at line 1")
    bad("non_utf8.py", b"name = 'caf\xe9'\n", "decode", "not valid utf-8 (byte 0xe9 at line 1)")
    bad("latin1_late_cookie.py", b"x = 1\ny = 2\n# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n",
        "decode", "not valid utf-8")  # a cookie on line 3 does not count
    bad("unknown_cookie.py", "# -*- coding: klingon -*-\nx = 1\n", "decode", "klingon")
    bad("bom_and_cookie_disagree.py", b"\xef\xbb\xbf# -*- coding: latin-1 -*-\nx = 1\n", "decode", "coding")
    bad("binary.py", b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)), "binary", "NUL bytes")
    bad("nul_in_text.py", b"x = 1\n\x00\ny = 2\n", "binary", "NUL bytes")
    bad("deep_parens.py", "x = " + "(" * 2000 + "1" + ")" * 2000 + "\n", "parse", "")
    bad("deep_brackets.py", "x = " + "[" * 2000 + "]" * 2000 + "\n", "parse", "")
    bad("deep_ifs.py", _nested_ifs(150), "parse", "")
    # CPython compiles the first but not the second (RecursionError during compilation).
    bad("long_attribute_chain.py", "import os\nx = os" + ".path" * 2000 + "\n", "parse", "too deeply nested")
    bad("long_chain.py", "x = " + " + ".join(["1"] * 3000) + "\n", "parse", "too deeply nested")
    bad("unterminated.py", 'x = """never closed\n', "parse", "syntax error")
    bad("bad_dedent.py", "if x:\n        a = 1\n    b = 2\n", "parse", "syntax error at line 3")
    bad("tab_space_mix.py", "if x:\n\ta = 1\n        b = 2\n", "parse", "syntax error at line 3")
    # A file that cannot be read (only enforceable for a non-root user).
    path = c.write("unreadable.py", COSTLY)
    path.chmod(0)
    c.bad["unreadable.py"] = ("read", "permission denied")
    # Symbolic links: a loop, a link to itself, a dangling link.
    os.symlink("loop_b.py", c.root / "loop_a.py")
    os.symlink("loop_a.py", c.root / "loop_b.py")
    os.symlink("self_loop.py", c.root / "self_loop.py")
    os.symlink("nowhere/missing.py", c.root / "dangling.py")
    c.bad["loop_a.py"] = ("read", "symbolic links")
    c.bad["loop_b.py"] = ("read", "symbolic links")
    c.bad["self_loop.py"] = ("read", "symbolic links")
    c.bad["dangling.py"] = ("read", "broken symbolic link")
    # Deleted by the hook between discovery and reading.
    for name in (VANISH_AFTER_DISCOVERY, VANISH_AFTER_STAT):
        c.write(name, COSTLY)
        c.vanishing.append(name)
    c.bad[VANISH_AFTER_DISCOVERY] = ("read", "no such file")
    c.bad[VANISH_AFTER_STAT] = ("read", "disappeared")


def _add_odd_files(c: Corpus, huge_bytes: int) -> None:
    def odd(name: str, data: bytes | str) -> None:
        c.write(name, data)
        c.odd.append(name)

    odd("latin1_cookie.py", b"# -*- coding: latin-1 -*-\n" + COSTLY.encode() + b"NAME = 'caf\xe9 \xa9'\n")
    odd("cp1252_cookie.py", b"# vim: set fileencoding=cp1252 :\n" + COSTLY.encode() + b"QUOTE = '\x93hi\x94'\n")
    odd("bom.py", b"\xef\xbb\xbf" + COSTLY.encode() + "NAME = 'café'\n".encode())
    odd("bom_utf8_cookie.py", b"\xef\xbb\xbf# coding: utf-8\n" + COSTLY.encode())
    odd("crlf.py", COSTLY.replace("\n", "\r\n"))
    odd("crlf_no_final_newline.py", COSTLY.replace("\n", "\r\n").rstrip("\r\n"))
    odd("mixed_newlines.py", "import asyncio\r\n\n\ndef run(coro):\r\n    return asyncio.run(coro)\n\nX = 1\r\n")
    odd("cr_only.py", COSTLY.replace("\n", "\r"))  # libcst 1.x drops the final "\r"
    c.unfixable.append("cr_only.py")
    odd("tabs.py", "import asyncio\n\n\ndef run(coro):\n\tif coro:\n\t\treturn asyncio.run(coro)\n")
    odd("form_feed.py", "import asyncio\n\x0c\n\ndef run(coro):\n    return asyncio.run(coro)\n\x0c\n\nX = 1\n")
    # libcst 1.x drops a form feed that starts a statement line: scanned, but fix must not touch it.
    odd("form_feed_before_statement.py", "import asyncio\n\n\ndef run(coro):\n    return asyncio.run(coro)\n\x0cX = 1\n")
    c.unfixable.append("form_feed_before_statement.py")
    odd("no_final_newline.py", COSTLY.rstrip("\n"))
    odd("unicode_names.py", "import asyncio\n\n\ndef ränne(coro):\n    return asyncio.run(coro)\n\nπ = 3.14\n")
    odd("huge.py", _huge_module(huge_bytes))
    odd("dir.py/inner.py", COSTLY)  # a directory named like a module holds a real one


def _add_clean_files(c: Corpus) -> None:
    def clean(name: str, data: bytes | str) -> None:
        c.write(name, data)
        c.clean.append(name)

    clean("empty.py", b"")
    clean("only_bom.py", b"\xef\xbb\xbf")
    clean("only_newlines.py", "\n\r\n\n")
    clean("only_comment.py", "# nothing here\n")
    clean("pkg/__init__.py", "")
    # Deep but legal for CPython (its parser limit is 200 nested brackets).
    clean("deep_legal_parens.py", "x = " + "(" * 150 + "1" + ")" * 150 + "\n")
    clean("deep_legal_ifs.py", _nested_ifs(95))  # CPython allows 100 levels of indentation


def build_corpus(root: Path, huge_bytes: int = 5 * 1024 * 1024) -> Corpus:
    """Write the whole corpus under ``root`` and describe it."""
    c = Corpus(root)
    _add_bad_files(c)
    _add_odd_files(c, huge_bytes)
    _add_clean_files(c)
    for index in range(3):
        c.write(f"pkg/good{index}.py", COSTLY)
        c.good.append(f"pkg/good{index}.py")
    return c


HOOK = f"""
import sys
from pathlib import Path

import advisor.engine.discover
import advisor.engine.scan

_discover = advisor.engine.discover.discover
_read_bytes = advisor.engine.scan._read_bytes


def discover(*args, **kwargs):
    # Everything is discovered first; then one file goes away before the
    # engine looks at it.
    files = list(_discover(*args, **kwargs))
    for path in files:
        if path.name == {VANISH_AFTER_DISCOVERY!r} and path.exists():
            path.unlink()
    yield from files


def read_bytes(path):
    # The engine has stat()ed this file; it disappears before being read.
    if path.name == {VANISH_AFTER_STAT!r} and path.exists():
        path.unlink()
    return _read_bytes(path)


advisor.engine.discover.discover = discover
advisor.engine.scan._read_bytes = read_bytes

from advisor.cli import main

sys.exit(main(sys.argv[1:]))
"""
