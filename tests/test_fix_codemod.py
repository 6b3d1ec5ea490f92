"""The lazy-imports codemod, before/after (like LibCST's assertCodemod): the
findings come from the real rule on the same code, as `advisor fix` does."""

from __future__ import annotations

import textwrap

import pytest

from advisor.fix import FixOptions
from advisor.rules.lazy_imports.codemod import fix_source
from advisor.rule import Invalid
from advisor.rules.lazy_imports.rule import LazyImports
from advisor.testing import run_example


def fix(code: str, strategy: str | None = None, target: str = "3.11", hot: frozenset[str] = frozenset(), **config):
    code = textwrap.dedent(code)
    findings = run_example(LazyImports, Invalid(code, why="case", config={"target-version": target, **config}))
    assert findings, "the rule must fire on the case"
    text, outcomes = fix_source(code, findings, FixOptions(strategy=strategy, target_version=target, module="example",
                                                           hot_functions=hot))
    return text, outcomes


CASES = [
    pytest.param(
        "import numpy as np\n\ndef f(x): return np.abs(x)\n",
        "def f(x):\n    import numpy as np\n\n    return np.abs(x)\n",
        id="one-line-body-becomes-a-block"),
    pytest.param(
        "import os\n# numpy is slow to import\nimport numpy as np  # noqa: F401\n# standard library again\nimport sys\n\n"
        "def f():\n    '''Doc.'''\n    return np.zeros(len(sys.argv) + len(os.sep))\n",
        "import os\n# standard library again\nimport sys\n\n"
        "def f():\n    '''Doc.'''\n    # numpy is slow to import\n    import numpy as np  # noqa: F401\n\n    return np.zeros(len(sys.argv) + len(os.sep))\n",
        id="own-comments-travel-after-the-docstring-others-stay"),
    pytest.param(
        "from numpy import zeros as z, ones, eye\n\ndef a():\n    return z(1)\n\ndef b():\n    return ones(1) + eye(1)\n",
        "def a():\n    from numpy import zeros as z\n\n    return z(1)\n\ndef b():\n    from numpy import ones, eye\n\n    return ones(1) + eye(1)\n",
        id="partly-used-from-import-is-split-keeping-as-names"),
    pytest.param(
        "import os; import numpy as np; import sys\n\ndef f():\n    return np.zeros(1), os, sys\n",
        "import os; import sys\n\ndef f():\n    import numpy as np\n\n    return np.zeros(1), os, sys\n",
        id="one-statement-of-a-semicolon-line"),
    pytest.param(
        "import typing\nimport pandas as pd\n\nif typing.TYPE_CHECKING:\n    import json\n\nX = typing.Any\n\ndef size(df: pd.DataFrame) -> int:\n    return len(df)\n",
        "import typing\n\nif typing.TYPE_CHECKING:\n    import json\n    import pandas as pd\n\nX = typing.Any\n\ndef size(df: \"pd.DataFrame\") -> int:\n    return len(df)\n",
        id="existing-type-checking-block-is-reused"),
    pytest.param(
        "import numpy as np\n\nclass A:\n    class B:\n        def m(self, x: np.ndarray) -> int:\n            return np.size(x)\n",
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import numpy as np\n\nclass A:\n    class B:\n        def m(self, x: \"np.ndarray\") -> int:\n            import numpy as np\n\n            return np.size(x)\n",
        id="nested-method-mixed-use-inline-plus-type-checking"),
]


@pytest.mark.parametrize(("before", "after"), CASES)
def test_before_after(before, after):
    text, outcomes = fix(before)
    assert text == after
    assert all(o.applied for o in outcomes), [o.detail for o in outcomes]
    compile(text, "case.py", "exec")


def test_crlf_newlines_are_kept_in_inserted_lines():
    text, _ = fix("import numpy as np\r\n\r\ndef f():\r\n    return np.zeros(1)\r\n")
    assert text == "def f():\r\n    import numpy as np\r\n\r\n    return np.zeros(1)\r\n"


def test_lazy_on_315_keeps_formatting_and_splits_multi_imports():
    text, _ = fix("import os, numpy\nfrom pandas import (\n    DataFrame,  # frames\n)\n\n"
                  "def f():\n    return numpy.zeros(len(os.sep)), DataFrame\n", target="3.15")
    assert text == ("import os\nlazy import numpy\nlazy from pandas import (\n    DataFrame,  # frames\n)\n\n"
                    "def f():\n    return numpy.zeros(len(os.sep)), DataFrame\n")


def test_lazy_modules_creates_then_extends_the_list():
    text, outcomes = fix('"""Doc."""\nimport numpy as np\n\ndef f():\n    return np.zeros(1)\n', strategy="lazy-modules")
    assert text.startswith('"""Doc."""\n\n__lazy_modules__ = ["numpy"]')
    assert "import numpy as np\n" in text and outcomes[0].applied
    text, _ = fix('__lazy_modules__ = ["json"]\nimport numpy as np\n\ndef f():\n    return np.zeros(1)\n', strategy="lazy-modules")
    assert text.startswith('__lazy_modules__ = ["json", "numpy"]\nimport numpy as np\n')


@pytest.mark.parametrize(("code", "strategy", "target", "reason"), [
    ("import numpy as np\n\ndef f():\n    return np.zeros(1)\n", "type-checking", "3.11", "used at run time"),
    ("import numpy as np\n\ndef f():\n    return np.zeros(1)\n", "lazy", "3.11", "needs Python 3.15"),
    ("from __future__ import annotations\nimport numpy as np\n\ndef f(x: np.ndarray) -> int:\n    return 1\n", "inline", "3.11",
     "no function to move it into"),
], ids=["type-checking-for-runtime-use", "lazy-below-315", "inline-for-annotations-only"])
def test_forced_strategy_that_cannot_serve_is_refused(code, strategy, target, reason):
    text, outcomes = fix(code, strategy=strategy, target=target)
    assert text == code
    assert not outcomes[0].applied and reason in outcomes[0].detail


def test_never_defers_into_a_hot_function():
    code = "import numpy as np\n\nclass C:\n    def f(self):\n        return np.zeros(1)\n"
    text, outcomes = fix(code, hot=frozenset({"f"}))
    assert text == code and "hot in the profile" in outcomes[0].detail


def test_annotation_that_cannot_be_quoted_is_refused():
    code = "import numpy as np\nfrom typing import Literal\n\ndef f(x: Literal['a', \"b\"] | np.ndarray) -> int:\n    return 1\n"
    text, outcomes = fix(code)
    assert text == code and "cannot quote" in outcomes[0].detail


def test_applying_twice_changes_nothing():
    code = "import numpy as np\n\ndef f():\n    return np.zeros(1)\n"
    findings = run_example(LazyImports, Invalid(code, why="case"))
    once, _ = fix_source(code, findings, FixOptions(module="example"))
    twice, outcomes = fix_source(once, findings, FixOptions(module="example"))
    assert twice == once and not outcomes[0].applied


def test_hot_functions_come_from_a_profile(tmp_path):
    import cProfile

    from advisor.evidence.hot import hot_functions, is_hot

    module = tmp_path / "work.py"
    module.write_text("def tiny(x):\n    return x + 1\n\ndef once():\n    return sum(tiny(i) for i in range(3000))\n")
    namespace: dict = {}
    exec(compile(module.read_text(), str(module), "exec"), namespace)
    profiler = cProfile.Profile()
    profiler.runcall(namespace["once"])
    profiler.dump_stats(tmp_path / "run.pstats")
    hot = hot_functions(tmp_path / "run.pstats").get(str(module.resolve()), frozenset())
    assert is_hot("tiny", hot) and is_hot("Helper.tiny", hot)
    assert not is_hot("once", hot)
