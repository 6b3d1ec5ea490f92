"""advisor.engine.positions places reported nodes by generating only the statements
that hold them; every span must equal the one a whole-module codegen gives."""

from __future__ import annotations

import random
from pathlib import Path

import libcst as cst
import pytest

from advisor.engine.positions import _spans_by_statement, _spans_from_prefix, node_spans
from advisor.cstnodes import children
from test_walk import TRICKY

REPO = Path(__file__).resolve().parent.parent

ODD = [
    ("crlf", "import os\r\n\r\nclass A:\r\n    def f(self):\r\n        return os.sep\r\n"),
    ("tabs", "import os\nclass A:\n\tdef f(self):\n\t\tif 1:\n\t\t\treturn os.sep\n"),
    ("decorated", "# lead\n\n@a\n# between\n@b(\n  1)\nclass C:\n    @property\n    def x(self): return 1\n    y = 2; z = 3\n"),
    ("continuations", "x = (1,\n     2)\ndef f():\n    s = '''\nline\n'''\n    return [i\n  for i in s]\n"),
    ("no-trailing-newline", "import os\ndef f():\n    return os"),
    ("semicolons", "import a; import b\nclass K: pass\nfor i in a: b(i)\n"),
]


def _sources() -> list[tuple[str, str]]:
    files = sorted((REPO / "advisor").rglob("*.py")) + sorted((REPO / "rules").glob("*.py"))
    return [("tricky", TRICKY), *ODD] + [(str(p.relative_to(REPO)), p.read_text(encoding="utf-8")) for p in files[::6]]


def _nodes(tree: cst.Module) -> list[cst.CSTNode]:
    found, stack = [], list(tree.body)
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children(node))
    return found


@pytest.mark.parametrize("name,source", _sources(), ids=[n for n, _ in _sources()])
def test_statement_placement_matches_whole_module_codegen(name: str, source: str):
    tree = cst.parse_module(source)
    nodes = _nodes(tree)
    rng = random.Random(name)
    samples = [nodes] + [rng.sample(nodes, min(5, len(nodes))) for _ in range(5)] + [nodes[-3:], nodes[:3]]
    try:
        compile(source, name, "exec")
        python_parses = True
    except SyntaxError:  # 3.12+ syntax on an older Python: whole-module codegen
        python_parses = False
    for sample in samples:
        expected = node_spans(tree, sample)
        assert len(expected) == len(sample)
        assert node_spans(tree, sample, source) == expected
        placed = _spans_by_statement(tree, sample, source)
        assert placed == expected or (placed is None and not python_parses)
    first = [tree.body[0]]
    assert _spans_from_prefix(tree, first, source) == node_spans(tree, first)


def test_a_node_outside_every_statement_falls_back_to_whole_codegen():
    source = "# header comment\nimport os\n"
    tree = cst.parse_module(source)
    spans = node_spans(tree, [tree], source)
    assert spans[id(tree)].line == 1 and spans[id(tree)].end_line == 3
