"""lazy-imports' one name-usage analysis (rules/lazy_imports/reports.py on
CPython's ``ast``): its facts and reports on every rule example and on the
corners below, against a snapshot (tests/data/lazy_imports_usage.json).

The snapshot was written while the analysis still had a libcst twin and the
two agreed on every case here (the parity tests this file replaces), so it
holds the behaviour that was checked twice. Regenerate it deliberately,
reading the diff: ``python tests/test_lazy_usage.py --write``.
"""

from __future__ import annotations

import ast
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from advisor.config import Config, config_from_table
from advisor.engine import analyse as analysis
from advisor.registry import all_rules
from advisor.rule import build_options
from advisor.rules.lazy_imports.reports import lazy_reports
from advisor.rules.lazy_imports.rule import LazyImports
from advisor.source import is_test_path
from advisor.testing import example_config

SNAPSHOT = Path(__file__).parent / "data" / "lazy_imports_usage.json"
CONFIG = config_from_table({"measure-imports": False, "rules": {"lazy-imports": {"include-tests": True}}},
                           root=Path("/nonexistent-advisor-example"))

#: (id, path, code): what the rules' own examples do not cover.
SNIPPETS = [
    ("relative", "pkg/sub/mod.py", "from . import x\nfrom .. import y\nfrom .a.b import c\nfrom .x import q as r\n"
     "def f():\n    return x, y, c, r.attr\n"),
    ("relative-beyond-top", "pkg/mod.py", "from ... import z\nfrom .... import w\n\ndef f():\n    return z, w\n"),
    ("relative-in-top-level-module", "mod.py", "from . import x\nfrom .y import z\n\ndef f():\n    return x, z\n"),
    ("relative-in-package-init", "pkg/__init__.py", "from .x import y\nfrom . import z\nimport numpy\n\n"
     "def f():\n    return y, z, numpy.zeros\n"),
    ("star", "m.py", "from os.path import *\nfrom .rel import *\n\ndef f():\n    return join('a')\n"),
    ("dotted-as", "m.py", "import a.b.c as d\nimport e.f.g\nimport h.i as h\n\ndef f():\n    return d.x, e.f.g.y, h.z\n"),
    ("import-reads-attribute", "m.py", "import a\nimport a.b\nimport a.c.d\nfrom a.e import f\nfrom x import a as q\n"
     "import q.r\n\ndef g():\n    import a.z\n    from q.s import t\n    return a.b, t\n"),
    ("try-if-class-function", "m.py", "try:\n    import numpy as np\nexcept ImportError:\n    np = None\n"
     "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas as pd\n"
     "class C:\n    import json\n    def m(self):\n        import csv\n        from re import sub\n        return csv, sub, json\n"
     "def f(x: 'pd.DataFrame'):\n    from collections import OrderedDict as OD\n    return np.zeros(1), OD\n"),
    ("mock-patch", "tests/test_m.py", "from unittest import mock\nfrom unittest.mock import patch\nimport numpy as np\n"
     "import os.path as osp\nfrom pkg import mod\n\n@mock.patch('pkg.mod.helper')\ndef test_a(h):\n"
     "    with patch('pkg.other.fn'), patch(target='pkg.kw.target'):\n        pass\n"
     "    with mock.patch.object(np.linalg, 'norm'):\n        pass\n    with mock.patch.object(mod, 'x'), patch.object(osp, 'join'):\n"
     "        pass\n    patch('nodot')\n    patch('pkg.' 'concat')\n    patch(b'pkg.bytes')\n    patch(f'pkg.{x}')\n"),
    ("monkeypatch", "tests/test_m.py", "import numpy as np\nfrom pkg import mod\n\ndef test_a(monkeypatch):\n"
     "    monkeypatch.setattr('pkg.mod.value', 1)\n    monkeypatch.setattr(np, 'zeros', None)\n"
     "    monkeypatch.setattr(mod.sub, 'thing', None)\n    monkeypatch.delattr('pkg.mod.gone')\n"
     "    monkeypatch.setattr(target=mod, name='kw', value=1)\n    monkeypatch.setattr(*args)\n"
     "    monkeypatch.setattr(mod, 'a' 'b', 1)\n    setattr(mod, 'plain', 1)\n    monkeypatch.setattr(unknown, 'x', 1)\n"),
    ("dunder-all", "m.py", "import numpy as np\nimport pandas as pd\n__all__ = ['np']\n__all__ += ['x']\n\n"
     "def f():\n    return pd.DataFrame, np.zeros\n"),
    ("computed-dunder-all", "m.py", "import numpy as np\nfrom x import names\n__all__ = names + []\n\ndef f():\n    return np.zeros\n"),
    ("globals", "m.py", "import numpy as np\n\ndef f():\n    return globals()['np']\n"),
    ("module-getattr", "m.py", "import numpy as np\n\ndef __getattr__(name):\n    return np\n"),
    ("read-before-import", "m.py", "def f():\n    return np.zeros\n\nimport numpy as np\n\ndef g():\n    return np.ones\n"),
    ("match-except-lambda", "m.py", "import numpy as np\nimport json\nimport re\n\nmatch x:\n    case np.X(attr=json):\n        pass\n"
     "    case {'k': re, **rest}:\n        pass\ntry:\n    pass\nexcept ValueError as json:\n    pass\n"
     "F = lambda: re.compile\n\ndef f():\n    return np.zeros, json, re\n"),
    ("annotations", "m.py", "from __future__ import annotations\nimport numpy as np\nimport pandas as pd\nimport a\nx: a.T = 1\n"
     "class C:\n    y: np.ndarray\n    def m(self, z: pd.DataFrame = None) -> np.ndarray:\n        return z\n"),
    ("annotations-no-future", "m.py", "import numpy as np\nimport pandas as pd\nx: np.ndarray = 1\n\n"
     "def m(z: pd.DataFrame) -> 'np.ndarray':\n    return z\n"),
    ("nested-and-async", "m.py", "import numpy as np\nimport httpx\n\nasync def f():\n    async with httpx.AsyncClient() as c:\n"
     "        def inner():\n            import numpy.linalg\n            return np.linalg\n        return c\n\n"
     "class Outer:\n    class Inner:\n        import os\n        def m(self):\n            return os.sep\n"),
    ("string-annotation-only", "m.py", "import pandas as pd\n\ndef f(x: 'pd.DataFrame'):\n    return x\n"),
    ("class-decorator-before-body", "m.py", "@foo.bar\nclass C(foo.Base):\n    import foo\n    x = foo.y\n"),
    ("bindings", "m.py", "import numpy as np\nimport json\n\ndef json():\n    return np.zeros\n\nclass np:\n    pass\n"),
    ("global-statement", "m.py", "import numpy as np\n\ndef f():\n    global np\n    return np.zeros\n"),
    ("future-only", "m.py", "from __future__ import annotations, division\n\ndef f() -> int:\n    return 1\n"),
    ("dynamic-calls", "m.py", "import numpy as np\n\ndef f():\n    return eval('np')\n"),
    ("keyword-first-arg", "m.py", "import numpy as np\nfrom unittest import mock\nmock.patch(new=1, target='a.b')\n"
     "\ndef f():\n    return np.zeros\n"),
]


_ROOT = Path("/nonexistent-advisor-example")
#: Config variants every case runs under: the rule's defaults, include-tests, the top-level lists.
REPORT_CONFIGS = {
    "defaults": config_from_table({"measure-imports": False}, root=_ROOT),
    "include-tests": CONFIG,
    "lists": config_from_table({"measure-imports": False, "side-effect-modules": ["pandas", "numpy.linalg"],
                                "cheap-modules": ["requests", "os.path.join"], "costly-modules": ["numpy", "httpx"],
                                "rules": {"lazy-imports": {"include-tests": True}}}, root=_ROOT),
}

#: Spans, options and usage corners the examples and SNIPPETS leave out.
REPORT_SNIPPETS = [
    ("semicolons", "m.py", "x = 1; import numpy as np ; y = 2\nimport json;import csv\n\ndef f():\n    return np, json, csv\n"),
    ("parenthesised", "m.py", "from numpy import (\n    zeros,\n    ones as o,\n)  # c\n\ndef f():\n    return zeros, o\n"),
    ("backslash-multi-alias", "m.py", "x = 1;\timport os, \\\n   numpy.linalg as nl, json as j, numpy.linalg\n\n"
     "def f():\n    return nl, j, numpy\n"),
    ("non-ascii-before", "m.py", "s = 'héllo→'; import numpy as   np  # ü\nt = '日本'; from a.b import (c,\n    d)\n\n"
     "def f():\n    return np.zeros, c, d\n"),
    ("same-module-twice", "m.py", "import numpy, numpy as np2\n\ndef f():\n    return numpy, np2\n"),
    ("string-annotations", "m.py", "import numpy as np\nimport pandas as pd\nimport json\nimport csv\nfrom x import T, U\n"
     "def f(a: 'np.ndarray', b: 'pd' \"json\", c: rb'csv') -> f'{T}' 'U':\n    return a\n"),
    ("module-string-annotation", "m.py", "import numpy as np\nx: 'np.ndarray' = 1\n\ndef f():\n    return np\n"),
    ("runtime-annotations", "m.py", "from __future__ import annotations\nimport numpy as np\nimport pandas as pd\nimport json\n"
     "import csv\n\n@dec\ndef f(a: np.ndarray):\n    pass\n\ndef g(b: pd.DataFrame = Depends(x)):\n    pass\n"
     "\nclass C(Base[int]):\n    c: json.X\n\nclass D(object, metaclass=M):\n    d: csv.Y\n\n"
     "class E(typing.Protocol):\n    @property\n    def p(self) -> csv.Z:\n        pass\n"),
    ("value-ref-annotation", "m.py", "from __future__ import annotations\nimport numpy as np\n\ndef f(a: np.ndarray):\n"
     "    return a\n\nHANDLERS = [f]\n"),
    ("called-in-loop", "m.py", "import numpy as np\nimport json\nimport csv\n\ndef a():\n    return np\n\ndef b():\n"
     "    return json\n\ndef c():\n    return csv\n\nwhile x:\n    obj.a()\nfor i in it():\n    pass\nelse:\n    b()\n"
     "y = {k: c() for k in z}\n"),
    ("parameters", "m.py", "import numpy as np\nimport json\nimport csv\nimport re\n\ndef f(*, json=1):\n    return np\n\n"
     "def g(x=lambda csv: csv):\n    return json, csv\n\ndef h(*args, **re):\n    return lambda np: np\n\nL = lambda re: re\n"),
    ("methods-and-nesting", "m.py", "import numpy as np\nimport json\n\nclass A:\n    class B:\n        def m(self):\n"
     "            def inner(np):\n                return np\n            return np.zeros\n\n"
     "    def n(self) -> json.T:\n        pass\n"),
    ("dunder-all-forms", "m.py", "import numpy as np\nimport json\nimport csv\n__all__ = ('js' 'on',)\n__all__ += ['np']\n"
     "__all__: list = ['csv']\n\ndef f():\n    return np, json, csv\n"),
    ("get-type-hints", "m.py", "from __future__ import annotations\nimport numpy as np\n\ndef f(a: np.ndarray):\n    pass\n\n"
     "def g():\n    return typing.get_type_hints(f)\n"),
    ("side-effect-and-cheap", "m.py", "import numpy.linalg\nimport pandas.io as pio\nfrom os.path import join\n"
     "import requests.adapters\nimport httpx\nfrom numpy import linalg\n\ndef f():\n"
     "    return numpy.linalg, pio, join, requests, httpx, linalg\n"),
    ("global-in-function", "m.py", "import numpy as np\nimport json\n\ndef f():\n    global json\n    return np\n"),
    ("except-match-names", "m.py", "import numpy as np\nimport json\n\ndef f():\n    try:\n        pass\n"
     "    except E as np:\n        pass\n    match x:\n        case {**json}:\n            pass\n"),
    ("test-file", "tests/test_x.py", "import numpy as np\n\ndef test_f():\n    return np.zeros\n"),
    ("package-init", "pkg/__init__.py", "from .mod import thing\nfrom pkg.other import x\nimport numpy\n\n"
     "def f():\n    return thing, x, numpy\n"),
    ("crlf", "m.py", "import numpy as np\r\n\r\ndef f():\r\n    return np\r\n"),
    # libcst drops the whitespace opening a module-level line; node_spans counts lines by "\n" only
    ("form-feeds", "m.py", "\x0cimport json\nx=1\n \x0cimport os, numpy as np\n\x0c\nimport csv;\x0cimport re\n"
     "\x0cfrom a import (b,\n  c)\n\ndef f():\n    return np, os, json, csv, re, b, c\n"),
    ("bare-cr", "m.py", "x = 'é'\rimport os, numpy as np\r\n\rimport json\r\ndef f():\r    return np, os, json\r"),
]


def _report_cases() -> list[Any]:
    cases = [pytest.param(example.path, textwrap.dedent(example.code), example_config(LazyImports, example),
                          id=f"example/{kind}/{example.why}")
             for kind, examples in (("valid", LazyImports.VALID), ("invalid", LazyImports.INVALID)) for example in examples]
    for name, path, code in [*((n, p, c) for n, p, c in SNIPPETS), *REPORT_SNIPPETS]:
        cases += [pytest.param(path, code, config, id=f"own/{name}/{key}") for key, config in REPORT_CONFIGS.items()]
    return cases




def _module(path: str) -> str:
    return Path(path).with_suffix("").as_posix().replace("/", ".").removesuffix(".__init__")


def _fact_cases() -> list[tuple[str, str, str]]:
    """(id, path, code): every rule's examples and SNIPPETS, for the facts."""
    rules = all_rules(Config(root=Path(".")), include_entry_points=False).values()
    cases = [(f"{rule.id}/{kind}/{example.why}", example.path, textwrap.dedent(example.code))
             for rule in rules for kind, examples in (("valid", rule.VALID), ("invalid", rule.INVALID))
             for example in examples]
    return cases + [(f"own/{name}", path, code) for name, path, code in SNIPPETS]


def _report_cases() -> list[tuple[str, str, str, Config]]:
    """(id, path, code, config): lazy-imports' examples and every snippet under each config."""
    cases = [(f"example/{kind}/{example.why}", example.path, textwrap.dedent(example.code), example_config(LazyImports, example))
             for kind, examples in (("valid", LazyImports.VALID), ("invalid", LazyImports.INVALID)) for example in examples]
    for name, path, code in [*SNIPPETS, *REPORT_SNIPPETS]:
        cases += [(f"own/{name}/{key}", path, code, config) for key, config in REPORT_CONFIGS.items()]
    return cases


def _analysed(path: str, code: str, config: Config) -> dict[str, Any] | None:
    """What the analysis gives for one case, as the snapshot stores it (None: ast cannot parse it)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    options = build_options(LazyImports, config.rule_options.get("lazy-imports", {}))
    facts, reports = lazy_reports(tree, _module(path), path.endswith("__init__.py"), code, is_test_path(Path(path)),
                                  options, config)
    return {"facts": facts, "reports": [[r.span.line, r.span.column, r.span.end_line, r.span.end_column, r.message, r.data]
                                        for r in reports]}


def _snapshot() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for case_id, path, code in _fact_cases():
        got = _analysed(path, code, CONFIG)
        if got is not None:
            facts = dict(got["facts"])
            facts.pop("deferrable", None)
            found[f"facts/{case_id}"] = facts
    for case_id, path, code, config in _report_cases():
        got = _analysed(path, code, config)
        if got is not None:
            found[f"reports/{case_id}"] = got
    return json.loads(json.dumps(found))  # tuples -> lists, as stored


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Any]:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    return _snapshot()


def test_every_case_is_in_the_snapshot(snapshot: dict[str, Any], current: dict[str, Any]) -> None:
    assert sorted(current) == sorted(snapshot), "cases added or gone: regenerate the snapshot deliberately"
    assert len(current) > 300


@pytest.mark.parametrize("case_id", [f"reports/{c[0]}" for c in _report_cases()] + [f"facts/{c[0]}" for c in _fact_cases()])
def test_analysis_equals_the_snapshot(case_id: str, snapshot: dict[str, Any], current: dict[str, Any]) -> None:
    if case_id not in current:
        pytest.skip("syntax this interpreter cannot parse")
    assert current[case_id] == snapshot[case_id]


def test_the_walked_rule_gives_the_same_findings_as_the_first_pass() -> None:
    """The libcst walk (no first pass) runs the same analysis and puts its
    reports on the libcst nodes: same spans, messages, data and facts."""
    for case_id, path, code, config in _report_cases():
        try:
            ast.parse(code)
        except SyntaxError:
            continue
        results = []
        for first_pass in (True, False):
            saved, analysis.FIRST_PASS = analysis.FIRST_PASS, first_pass
            try:
                result = analysis.analyse_text(code, path, _module(path), [LazyImports], config)
            finally:
                analysis.FIRST_PASS = saved
            assert not result.errors, (case_id, result.errors)
            results.append(([(f.span, f.message, f.data, f.fix) for f in result.findings], result.facts))
        assert results[0] == results[1], case_id


def test_reports_cover_spans_of_aliases_and_non_ascii_text() -> None:
    """The spans a reader expects, whatever a snapshot says."""
    code = "s = 'é'; import os, numpy as np\n\ndef f():\n    return np, os\n"
    options = build_options(LazyImports, {})
    _, reports = lazy_reports(ast.parse(code), "m", False, code, False, options, REPORT_CONFIGS["defaults"])
    spans = sorted((r.span.column, r.span.end_column, r.data["module"]) for r in reports)
    assert spans == [(16, 18, "os"), (20, 31, "numpy")]


def test_concatenated_patch_strings_are_not_patch_targets() -> None:
    code = "from unittest import mock\nmock.patch('a.' 'b')\nmock.patch('c.d')\n"
    options = build_options(LazyImports, {})
    facts, _ = lazy_reports(ast.parse(code), "m", False, code, False, options, REPORT_CONFIGS["defaults"])
    assert facts["patch_targets"] == ["c.d"]


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    cases = sorted(_snapshot().items())  # one case per line: a change shows as the lines of its cases
    SNAPSHOT.write_text("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v, sort_keys=True, ensure_ascii=False)}"
                                            for k, v in cases) + "\n}\n", encoding="utf-8")
