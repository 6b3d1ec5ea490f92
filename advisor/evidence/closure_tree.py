"""Measure many closures in one interpreter: a fork tree along package
lines and import chains.

Why this is exact: ``import a.b.c`` always imports ``a`` first, then
``a.b``, then ``a.b.c``. So a process that has imported ``a`` (and nothing
else since startup) is the same state a fresh ``import a.b.c`` passes
through; a child forked from it that imports ``a.b.c`` logs only what is
new, and the closure of ``a.b.c`` is the closure of ``a`` plus that log.
Every package prefix is one node: ``django`` is imported once, and its
hundred submodules are each measured from a fork of that process instead of
from a fresh interpreter that imports Django again. Top-level nodes fork
from the server right after interpreter startup, so they are measured as
``python -I -X importtime -c "import x"`` measures them.

Across packages a module may fork from its anchor, a module its import is
sure to load (``advisor.evidence.import_chains``). The server uses only
what interpreter startup already loaded (``os``, ``sys``, ``_signal``; it
takes ``gc`` for ``freeze`` and removes it from ``sys.modules`` again)
until every measurement is done: anything it imported itself would be
missing from the closures. Each child's ``-X importtime`` lines go through
the inherited stderr pipe between markers, and it has an alarm for its own
import. A node whose import fails stops there; its descendants fail with
the same error, as they would in a fresh interpreter. A node that dies any
other way leaves no status, and the caller measures it the old way, one
fresh interpreter. The tree says which modules a closure holds; their self
times come from ``advisor.evidence.self_times``.

``benchmarks/closure_tree_check.py`` compares these closures with one fresh
interpreter per module on real packages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from advisor.evidence.importtime import first_self_us
from advisor.evidence.startup import package_prefixes

#: Runs in the measured interpreter (any Python 3): argv = out dir, alarm
#: seconds, the log marker, then the nodes as ``parent:flags:module``,
#: parents before children (parent -1: the server; flag ``?``: optional).
_SERVER = r"""
import os, sys, _signal
out, alarm, mark, nodes = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
nodes = [node.split(':', 2) for node in nodes]
optional = set(i for i, node in enumerate(nodes) if '?' in node[1])
parents = [int(node[0]) for node in nodes]
nodes = [node[2] for node in nodes]
log = os.dup(2)
quiet = os.open(os.devnull, os.O_WRONLY)
# gc.freeze() before each fork: a child's collections then skip what its
# parents made instead of copying every page of it. The module leaves
# sys.modules, so a measured import of gc still loads (and logs) it.
import gc
del sys.modules['gc']
children = {}
for index, parent in enumerate(parents):
    children.setdefault(parent, []).append(index)

def put(name, text):
    fd = os.open(os.path.join(out, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, text.encode('utf-8', 'replace'))
    os.close(fd)

def failure(exc):
    kind = type(exc)
    where = getattr(kind, '__module__', 'builtins')
    name = kind.__qualname__ if where == 'builtins' else where + '.' + kind.__qualname__
    try:
        message = str(exc).strip().splitlines()
    except BaseException:
        message = []
    return name + (': ' + message[-1] if message else '')

def measure(index):
    # The import's -X importtime lines go to the inherited stderr (a pipe),
    # between markers; a failed warm-up import first touches (and so copies)
    # the import system's shared pages.
    try:
        __import__('__advisor_warm_up__')
    except ImportError:
        pass
    os.dup2(log, 2)
    os.write(2, ('\n%s %d\n' % (mark, index)).encode())
    _signal.alarm(alarm)
    try:
        __import__(nodes[index])
        error = None
    except BaseException as exc:
        error = failure(exc)[:200]
    _signal.alarm(0)
    os.write(2, ('\n%s end\n' % mark).encode())
    os.dup2(quiet, 2)
    put('%d.status' % index, 'error\n' + error if error else 'ok\n')
    return error is None

def child(work):
    gc.freeze()
    pid = os.fork()
    if pid == 0:
        try:
            work()
        finally:
            os._exit(0)
    return os.waitpid(pid, 0)[1]

def fan_out(index):
    subs = listing(index) if index >= 0 else None
    for node in children.get(index, ()):
        if node in optional and (subs is None or nodes[node].rpartition('.')[2] not in subs):
            continue
        code = child(lambda: measure(node) and fan_out(node))
        if os.WIFSIGNALED(code) and os.WTERMSIG(code) == _signal.SIGALRM:
            put('%d.status' % node, 'error\ntimed out after %d s' % alarm)

external = sys.modules.get('_frozen_importlib_external') or sys.modules.get('importlib._bootstrap_external')
suffixes = sorted(getattr(external, 'SOURCE_SUFFIXES', ['.py']) + getattr(external, 'BYTECODE_SUFFIXES', ['.pyc'])
                  + getattr(external, 'EXTENSION_SUFFIXES', ['.so']), key=len, reverse=True)

def module_name(filename):
    for suffix in suffixes:
        if filename.endswith(suffix):
            return filename[:-len(suffix)]
    return None

def listing(index):
    # pkgutil.iter_modules' answer for a package's directories, with os only
    # (importing pkgutil would load modules into every later measurement).
    path = getattr(sys.modules.get(nodes[index]), '__path__', None)
    if path is None:
        return None
    found = set()
    for entry in list(path):
        try:
            names = os.listdir(entry)
        except (OSError, TypeError, ValueError):
            continue
        for filename in names:
            name = module_name(filename)
            if name is None and '.' not in filename and os.path.isdir(os.path.join(entry, filename)):
                try:
                    inner = os.listdir(os.path.join(entry, filename))
                except OSError:
                    continue
                name = filename if any(module_name(x) == '__init__' for x in inner) else None
            if name and name != '__init__' and '.' not in name:
                found.add(name)
    put('%d.subs' % index, '\n'.join(sorted(found)))
    return found

fan_out(-1)
"""


@dataclass(frozen=True)
class TreeResult:
    """One node's outcome: ``modules`` (self time in us, the node's whole
    closure) when ``ok``; ``error`` when its import failed; ``absent`` for
    an optional node its package does not have. A node that left no status
    is missing from the results (measure it alone)."""

    ok: bool
    modules: Mapping[str, int]
    submodules: tuple[str, ...] = ()
    error: str | None = None
    absent: bool = False


def tree_nodes(modules: Iterable[str]) -> list[str]:
    """Every package prefix of ``modules`` and the modules themselves,
    parents before children."""
    nodes = {prefix for module in modules for prefix in package_prefixes(module)}
    return sorted(nodes, key=lambda name: (name.count("."), name))


def measure_tree(python: str, modules: Iterable[str], timeout: float, optional: Iterable[str] = (),
                 chains: Mapping[str, Sequence[str]] | None = None) -> dict[str, TreeResult]:
    """Closures of ``modules`` (and of their package prefixes) from one
    fork-tree run of ``python``; a module missing from the result must be
    measured alone. ``chains``: what each module's import is sure to load
    first, in order (``advisor.evidence.import_chains``; by default its
    package prefixes). ``optional``: names that are measured only when their
    package lists them as submodules (``from pkg import name``), else absent.
    The self times are one forked run's: the store replaces them with
    ``advisor.evidence.self_times`` (a forked child pays for copying the
    pages of its parents it touches)."""
    import tempfile

    from advisor.evidence.importtime import isolated_stderr

    trie = _Trie()
    for module in tree_nodes(modules):
        trie.add(module, (chains or {}).get(module) or package_prefixes(module))
    maybe = sorted({m for m in optional if m not in trie.end and "." in m and m.rpartition(".")[0] in trie.end})
    for module in maybe:
        trie.add(module, [*trie.chains[module.rpartition(".")[0]], module])
    argv = [f"{parent}:{'?' if name in maybe else ''}:{name}" for parent, name in trie.nodes]
    alarm = max(1, int(timeout))
    mark = f"@@advisor-node-{os.urandom(8).hex()}@@"
    with tempfile.TemporaryDirectory(prefix="advisor-closures-") as out:
        stderr = isolated_stderr([python, "-X", "importtime", "-c", _SERVER, out, str(alarm), mark, *argv],
                                 timeout + 2.0 * len(trie.nodes))
        found = _collect(Path(out), trie.nodes, set(maybe), _logs(stderr, mark))
    return {module: found[index] for module, index in trie.end.items() if index in found}


class _Trie:
    """Chains of imports sharing their common beginnings: one node per step
    ``(parent index, module)``; ``end[module]``: where its own chain ends."""

    def __init__(self) -> None:
        self.nodes: list[tuple[int, str]] = []
        self.index: dict[tuple[int, str], int] = {}
        self.end: dict[str, int] = {}
        self.chains: dict[str, list[str]] = {}

    def add(self, module: str, chain: Sequence[str]) -> None:
        parent = -1
        for step in chain:
            key = (parent, step)
            if key not in self.index:
                self.index[key] = len(self.nodes)
                self.nodes.append(key)
            parent = self.index[key]
        self.end[module] = parent
        self.chains[module] = list(chain)


def _logs(stderr: str, mark: str) -> dict[int, str]:
    """Each node's log, ``{index: text}``; a log whose end marker is
    missing (the process died in it) is left out."""
    logs: dict[int, str] = {}
    current: tuple[int, list[str]] | None = None
    for line in stderr.splitlines():
        if line.startswith(mark):
            words = line.split()
            if words[1:] == ["end"] and current is not None:
                logs[current[0]] = "\n".join(current[1])
                current = None
            elif len(words) == 2 and words[1].isdigit():
                current = (int(words[1]), [])
        elif current is not None:
            current[1].append(line)
    return logs


def _collect(out: Path, nodes: list[tuple[int, str]], optional: set[str],
             logs: Mapping[int, str]) -> dict[int, TreeResult]:
    """Each node's closure is its parent's plus its own log."""
    results: dict[int, TreeResult] = {}
    for index, (at, name) in enumerate(nodes):
        parent = results.get(at) if at >= 0 else TreeResult(True, {})
        if parent is not None and not parent.ok:
            results[index] = TreeResult(False, {}, error=parent.error)
            continue
        status = _read(out / f"{index}.status")
        if parent is None or status is None:
            if parent is not None and name in optional and name.rpartition(".")[2] not in parent.submodules:
                results[index] = TreeResult(False, {}, absent=True)
            continue
        kind, _, detail = status.partition("\n")
        if kind != "ok":
            results[index] = TreeResult(False, {}, error=detail.strip() or "import failed")
            continue
        own = first_self_us(logs.get(index, ""))
        subs = (_read(out / f"{index}.subs") or "").split()
        results[index] = TreeResult(True, {**parent.modules, **own}, tuple(subs))
    return results


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def can_fork() -> bool:
    """Fork trees need ``os.fork`` (the measured interpreter runs on this
    machine, so this platform's answer is its answer)."""
    return hasattr(os, "fork") and os.name == "posix"


__all__ = ["TreeResult", "can_fork", "measure_tree", "tree_nodes"]
