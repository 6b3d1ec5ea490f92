"""The main process's work after the pool: one reachability traversal, answers
worked out once per scan (never carried into the next scan), the entry points
found once, and the result cache written straight to its file."""

from __future__ import annotations

import os
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from advisor.engine import scan as engine
from advisor.rank import callgraph as graph
from advisor.config import load_config
from advisor.rank.callgraph import EntryPoint, ProjectGraph, build_call_graph
from advisor.rank.outline import FileIndex, index_text

LOOP = "def run(items):\n    out = ''\n    for item in items:\n        out += str(item)\n    return out\n"


def _project(root: Path, cli_body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n[project.scripts]\ndemo = "demo.cli:main"\n[tool.advisor]\nmeasure-imports = false\n')
    (root / "demo").mkdir()
    (root / "demo" / "__init__.py").write_text("")
    (root / "demo" / "work.py").write_text(LOOP)
    (root / "demo" / "cli.py").write_text(f"from demo import work\n\n\ndef main():\n    {cli_body}\n")
    return root


def _reason(root: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(root)
    report = engine.scan([root / "demo"], load_config(root), jobs=1, use_cache=False)
    return next(f.reason for f in report.findings if f.rule == "concat-in-loop")


def test_two_scans_in_one_process_each_get_their_own_reachability(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reached = _project(tmp_path / "one", "return work.run([1])")
    unreached = _project(tmp_path / "two", "return 0")
    assert "reachable from console script `demo`" in _reason(reached, monkeypatch)
    assert "not reachable from an entry point" in _reason(unreached, monkeypatch)
    assert "reachable from console script `demo`" in _reason(reached, monkeypatch)


def test_a_cold_scan_reads_each_file_once_for_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path, "return work.run([1])")
    reads: Counter[Path] = Counter()
    real = graph._has_main_block

    def counting(path: Path) -> bool:
        reads[path] += 1
        return real(path)

    monkeypatch.setattr(graph, "_has_main_block", counting)
    assert "reachable from console script" in _reason(root, monkeypatch)
    assert reads and max(reads.values()) == 1, reads


def test_one_traversal_labels_like_a_search_per_entry_point(tmp_path: Path) -> None:
    """The first entry point (in order) that reaches a node names it, as
    networkx.descendants per entry point would."""
    import networkx as nx

    sources = {
        "m": "def a():\n    b()\n\n\ndef b():\n    c()\n\n\ndef c():\n    b()\n\n\ndef d():\n    c()\n    e()\n\n\n"
             "def e():\n    return 1\n\n\ndef lone():\n    return 2\n",
        "n": "from m import d\n\n\ndef f():\n    d()\n",
    }
    paths = [tmp_path / f"{name}.py" for name in sources]
    indexes = [index_text(text, str(path), name) for (name, text), path in zip(sources.items(), paths)]
    entries = [EntryPoint("m:b", "first"), EntryPoint("n:f", "second"), EntryPoint("m:c", "third"),
               EntryPoint("gone:x", "missing")]
    outlines = {os.path.realpath(path): index for path, index in zip(paths, indexes) if index is not None}
    reach = ProjectGraph(paths, entries, outlines)._reachability()
    network = build_call_graph([i for i in indexes if i is not None])
    expected: dict[str, str] = {}
    for entry in entries:
        if entry.node in network:
            for node in nx.descendants(network, entry.node) | {entry.node}:
                expected.setdefault(node, entry.label)
    assert reach == expected
    assert reach["m:c"] == "first" and reach["m:e"] == "second" and "m:lone" not in reach


def test_two_projects_with_the_same_module_names_keep_their_own_startup_path() -> None:
    """The same eager import leads through the project in one scan and out of it in the next
    (the startup model's statements are per project: nothing cached by module name leaks)."""
    from advisor.evidence.startup import Entry, StartupGraph, load
    from advisor.evidence.startup_imports import project_statements

    app = ("from pkg import util\nimport csv\n", False)
    with_util = project_statements({"pkg": ("", True), "pkg.app": app, "pkg.util": ("import json\n", False)})
    without = project_statements({"pkg": ("", True), "pkg.app": app})
    closures = {"json": {"json": 1.0}, "csv": {"csv": 2.0}}
    entry = Entry("`import pkg.app`", ("pkg.app",))
    assert load(StartupGraph(with_util, closures), entry).modules == {"pkg", "pkg.app", "pkg.util", "json", "csv"}
    assert load(StartupGraph(without, closures), entry).modules == {"pkg", "pkg.app", "csv"}
    again = load(StartupGraph(with_util, closures), entry, ["pkg.app:2"])  # `import csv` deferred
    assert again.modules == {"pkg", "pkg.app", "pkg.util", "json"} and again.total_ms == 1.0


TRICKY = textwrap.dedent('''\
    import functools
    x = [i for i in range(3)]; y = {k: 1 for k in x}


    @functools.lru_cache(maxsize=len([n for n in range(2)]))
    def outer(rows):
        class Inner:
            def method(self, v):
                return [w for w in v if w] if v else None

        def closure(a):
            for b in a:
                if b and a or b:
                    yield (c for c in b)
        for row in rows:
            total = sum(r for r in row)
        return Inner, closure, total


    class Top:
        class Nested:
            def deep(self):
                return 1 if self else 2

        def shallow(self, items):
            while items:
                items = [i for i in items if i][1:]
            return items


    pair = (1,
            2); later = [i for i in pair]; last = {j for j in pair}
''')


def _whole_file_answers(source: str, index: FileIndex) -> tuple[dict[str, int | None], dict[int, int]]:
    """What a whole-file radon visit and comprehension walk give (the old way)."""
    import ast

    from radon.complexity import cc_visit

    found: dict[int, int] = {}
    todo = list(cc_visit(source))
    while todo:
        block = todo.pop()
        todo.extend(getattr(block, "methods", None) or [])
        todo.extend(getattr(block, "closures", None) or [])
        if not hasattr(block, "methods"):
            found[int(block.lineno)] = int(block.complexity)
    complexities = {fn.qualname: found.get(fn.def_line) for fn in index.functions}
    comprehensions = [(n.lineno, n.end_lineno, index.enclosing(n.lineno)) for n in ast.walk(ast.parse(source))
                      if isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))]
    depths = {}
    for line in range(1, source.count("\n") + 2):
        fn = index.enclosing(line)
        owner = fn.qualname if fn else ""
        depths[line] = sum(1 for s, e, o in index.loops if o == owner and s <= line <= e) + sum(
            1 for s, e, f in comprehensions if (f.qualname if f else "") == owner and s <= line <= (e or s))
    return complexities, depths


def test_complexity_and_loops_per_statement_match_the_whole_file() -> None:
    index = index_text(TRICKY, "tricky.py", "tricky")
    assert index is not None
    complexities, depths = _whole_file_answers(TRICKY, index)
    assert complexities["outer.Inner.method"] is None  # radon skips a class's methods inside a function
    assert {fn.qualname: index.complexity(fn) for fn in index.functions} == complexities
    for line, depth in depths.items():
        fn = index.enclosing(line)
        assert index.loop_depth(line, fn.qualname if fn else "") == depth, line
        index.release()  # answers worked out before stay; the tree is parsed again when needed
    assert index._tree is None


def test_a_file_changed_since_its_outline_is_worked_out_from_its_new_text(tmp_path: Path) -> None:
    path = tmp_path / "tricky.py"
    path.write_text(TRICKY)
    index = index_text(TRICKY, str(path), "tricky")
    assert index is not None
    outline = index.outline()  # what the workers hand over: no text
    changed = "import os\n\n\n" + TRICKY.replace("range(3)", "range(\n3)")
    path.write_text(changed)
    _, depths = _whole_file_answers(changed, outline)
    for line, depth in depths.items():
        fn = outline.enclosing(line)
        assert outline.loop_depth(line, fn.qualname if fn else "") == depth, line
    assert outline._tree is not None  # the statements no longer fit: the whole file was parsed


def test_the_result_cache_is_written_as_json_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import advisor.atomic
    from advisor.engine.cache import ResultCache
    from advisor.findings import FileResult

    cache = ResultCache(tmp_path / "cache", "key")
    source = tmp_path / "a.py"
    source.write_bytes(b"x = 1\n")
    cache.store(source, 6, 1, b"x = 1\n", FileResult(str(source)))
    cache.save()
    assert cache.file is not None
    saved = cache.file.read_bytes()
    assert json.loads(saved)["entries"] == cache.entries  # data only: the entries as stored
    os.chmod(cache.file, 0o600)
    cache.dirty = True

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(advisor.atomic.os, "fsync", disk_full)
    cache.save()  # an unwritable cache only costs time
    assert cache.file.read_bytes() == saved  # a failed write leaves the old cache whole
    assert sorted(p.name for p in cache.file.parent.iterdir()) == [cache.file.name]  # and no temp file
    monkeypatch.undo()
    cache.save()
    assert cache.file.stat().st_mode & 0o777 == 0o600
    assert ResultCache(tmp_path / "cache", "key").entries[str(source)][2] == cache.entries[str(source)][2]


def test_directory_facts_are_remembered_only_for_the_length_of_a_scan(tmp_path: Path) -> None:
    from advisor.source import DirectoryFacts, module_name, real_path, source_root

    (tmp_path / "pkg").mkdir()
    module = tmp_path / "pkg" / "mod.py"
    module.write_text("x = 1\n")
    linked = tmp_path / "link"
    linked.symlink_to(tmp_path / "pkg", target_is_directory=True)
    with DirectoryFacts():
        assert module_name(module) == "mod"
        assert real_path(linked / "mod.py") == module.resolve()  # a link in a directory above is still resolved
        (tmp_path / "pkg" / "__init__.py").write_text("")
        assert module_name(module) == "mod"  # remembered: the tree holds still during a scan
    assert module_name(module) == "pkg.mod" and source_root(module) == tmp_path.resolve()
    with DirectoryFacts():
        assert module_name(linked / "mod.py") == "pkg.mod"


def test_excluder_name_patterns_match_like_fnmatch(tmp_path: Path) -> None:
    import fnmatch

    from advisor.config import DEFAULT_EXCLUDES
    from advisor.engine.discover import Excluder

    excluder = Excluder(tmp_path, ("generated_*", "legacy/"), use_gitignore=False)
    patterns = [*DEFAULT_EXCLUDES, "generated_*", "legacy"]
    for name in ("build", "dist2", "x.egg-info", "generated_pb2.py", "legacy", "src", ".venv", "venvs", "node_modules"):
        expected = any(fnmatch.fnmatch(name, p) for p in patterns)
        assert excluder.excluded(tmp_path / name, True) is expected, name
