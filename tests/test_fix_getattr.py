"""The lazy-imports codemod's PEP 562 strategy (``getattr``): the unsafe tier's
fix for names that must stay module attributes. Before/after on findings the
real rule makes, what it refuses, and what the fixed module does when run:
mock.patch strings, ``from m import name``, ``from m import *`` and the
module's own functions all still see the name."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path
from unittest import mock

import pytest

from advisor.findings import Finding, FixInfo, Impact, Span
from advisor.fix import FixOptions
from advisor.rule import Invalid
from advisor.rules.lazy_imports.codemod import fix_source
from advisor.rules.lazy_imports.rule import LazyImports
from advisor.testing import run_example

REEXPORT = """\
    import json
    from decimal import Decimal, localcontext
    import xml.dom.minidom

    __all__ = ["Decimal", "localcontext", "xml", "parse"]


    def parse(text: str) -> Decimal:
        with localcontext() as context:
            context.prec = 4
            return Decimal(json.loads(text)) + 0


    def document() -> object:
        return xml.dom.minidom.parseString("<a/>")
"""


def fix(code: str, strategy: str | None = None, target: str = "3.11", **config: object) -> tuple[str, list]:
    code = textwrap.dedent(code)
    findings = run_example(LazyImports, Invalid(code, why="case", config={
        "target-version": target, "rules": {"lazy-imports": {"cheap-modules": ["json"], "costly-modules": ["decimal", "xml", "fractions"]}},
        **config}))
    assert findings, "the rule must fire on the case"
    return fix_source(code, findings, FixOptions(strategy=strategy, target_version=target, module="pkg.mod"))


def forced(statement: str, names: list[str], functions: list[str]) -> Finding:
    """A finding as refine leaves it for a name some other module reads."""
    return Finding("lazy-imports", "pkg/mod.py", Span(1, 0, 1, 0), "m", Impact("startup"), FixInfo(True, "unsafe"),
                   data={"statement": statement, "names": names, "functions": functions, "usage": "functions",
                         "module": statement.split()[1], "unsafe": "`x` is imported from this module by pkg/other.py"})


def test_reexports_get_a_module_getattr_and_each_function_loads_first():
    text, outcomes = fix(REEXPORT)
    assert [o.strategy for o in outcomes] == ["getattr", "getattr"] and all(o.applied for o in outcomes)
    assert text == textwrap.dedent('''\
        import json
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from decimal import Decimal, localcontext
            import xml.dom.minidom


        def __getattr__(name: str) -> object:
            """Load a deferred import on first access, then keep it (PEP 562)."""
            if name in globals():  # already loaded (or patched)
                return globals()[name]
            if name == "Decimal":
                from decimal import Decimal as value
            elif name == "localcontext":
                from decimal import localcontext as value
            elif name == "xml":
                import xml.dom.minidom
                value = xml
            else:
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
            globals()[name] = value
            return value


        __all__ = ["Decimal", "localcontext", "xml", "parse"]


        def parse(text: str) -> "Decimal":
            __getattr__("Decimal")  # load the deferred import (PEP 562)
            __getattr__("localcontext")  # load the deferred import (PEP 562)

            with localcontext() as context:
                context.prec = 4
                return Decimal(json.loads(text)) + 0


        def document() -> object:
            __getattr__("xml")  # load the deferred import (PEP 562)

            return xml.dom.minidom.parseString("<a/>")
    ''')
    assert "moved `from decimal import Decimal, localcontext` into the module's __getattr__ (PEP 562), called first in parse()" \
        in [o.detail for o in outcomes]


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
        del sys.modules[name]


def test_the_fixed_module_keeps_its_attributes_for_patches_imports_and_star(package: Path,
                                                                           monkeypatch: pytest.MonkeyPatch):
    text, _ = fix(REEXPORT)
    (package / "pkg" / "mod.py").write_text(text)
    for name in ("decimal", "xml.dom.minidom"):
        monkeypatch.delitem(sys.modules, name, raising=False)  # put back after the test
    mod = importlib.import_module("pkg.mod")
    assert "Decimal" not in vars(mod) and "decimal" not in sys.modules, "deferred: not imported with the module"
    with mock.patch("pkg.mod.Decimal", return_value=7) as fake:  # the patch the tests of such a module make
        assert mod.parse("1.5") == 7 and fake.called, "the module's own function sees the patched name"
    import decimal

    assert mod.Decimal is decimal.Decimal, "the patch is undone"
    assert str(mod.parse("1.23456")) == "1.235"
    from pkg.mod import localcontext  # a re-export still imports

    assert localcontext is decimal.localcontext
    namespace: dict[str, object] = {}
    exec("from pkg.mod import *", namespace)
    assert namespace["xml"] is sys.modules["xml"] and namespace["parse"] is mod.parse
    assert mod.document().documentElement.tagName == "a"
    with pytest.raises(AttributeError, match="has no attribute 'missing'"):
        mod.missing  # noqa: B018 - other names still fail as before


def test_from_315_the_unsafe_tier_writes_a_pep_810_lazy_import():
    text, outcomes = fix(REEXPORT, target="3.15")
    assert [o.strategy for o in outcomes] == ["lazy", "lazy"]
    assert "lazy from decimal import Decimal, localcontext\nlazy import xml.dom.minidom\n" in text
    assert "__getattr__" not in text


def test_plain_strategies_are_refused_for_names_that_must_stay():
    text, outcomes = fix(REEXPORT, strategy="inline")
    assert text == textwrap.dedent(REEXPORT)
    assert all(not o.applied and "re-exported through __all__" in o.detail and "--strategy getattr" in o.detail
               for o in outcomes)


def test_a_star_import_in_the_module_is_refused():
    code = "from os.path import *\nimport decimal\n\n__all__ = ['decimal']\n\ndef f():\n    return decimal.Decimal(1)\n"
    text, outcomes = fix(code)
    assert text == code and "import *" in outcomes[0].detail and not outcomes[0].applied


def test_the_modules_own_getattr_is_refused_and_ours_is_extended():
    code = "import decimal\n\ndef __getattr__(name):\n    raise AttributeError(name)\n\ndef f():\n    return decimal.Decimal(1)\n"
    text, outcomes = fix_source(code, [forced("import decimal", ["decimal"], ["f"])], FixOptions(module="pkg.mod"))
    assert text == code and "its own __getattr__" in outcomes[0].detail
    first, _ = fix_source("import decimal\n\ndef f():\n    return decimal.Decimal(1)\n",
                          [forced("import decimal", ["decimal"], ["f"])], FixOptions(module="pkg.mod"))
    again = "import fractions\n" + first + "\n\ndef g():\n    return fractions.Fraction(1)\n"
    text, outcomes = fix_source(again, [forced("import fractions", ["fractions"], ["g"])], FixOptions(module="pkg.mod"))
    assert outcomes[0].applied, outcomes[0].detail
    assert text.count("def __getattr__") == 1
    assert '    if name == "decimal":\n        import decimal as value\n    elif name == "fractions":\n' \
           '        import fractions as value\n' in text
    compile(text, "mod.py", "exec")


def test_a_later_run_reports_new_imports_and_extends_the_getattr_it_wrote():
    fixed, _ = fix(REEXPORT)
    assert not run_example(LazyImports, Invalid(fixed, why="case", config={
        "rules": {"lazy-imports": {"costly-modules": ["decimal", "xml"]}}})), "nothing left to report"
    grown = fixed.replace("import json\n", "import json\nimport fractions\n").replace(
        '"parse"]', '"parse", "fractions", "half"]') + "\n\ndef half() -> object:\n    return fractions.Fraction(1, 2)\n"
    text, outcomes = fix(grown)
    assert [(o.applied, o.strategy) for o in outcomes] == [(True, "getattr")], [o.detail for o in outcomes]
    assert text.count("def __getattr__") == 1
    assert '    elif name == "fractions":\n        import fractions as value\n    else:\n' in text
    assert 'def half() -> object:\n    __getattr__("fractions")  # load the deferred import (PEP 562)\n' in text
    assert "if TYPE_CHECKING:\n    from decimal import Decimal, localcontext\n    import xml.dom.minidom\n    import fractions\n" in text
    compile(text, "mod.py", "exec")


def test_a_name_used_at_module_level_is_not_reported_at_all():
    code = "import decimal\n\n__all__ = ['decimal', 'f']\n\nZERO = decimal.Decimal(0)\n\ndef f():\n    return decimal.Decimal(1)\n"
    assert not run_example(LazyImports, Invalid(code, why="case", config={
        "rules": {"lazy-imports": {"costly-modules": ["decimal"]}}}))


# -- which findings get the unsafe tier, project-wide (refine) ---------------------------------

PROJECT = {
    # The modules a caller imports directly are entry points: the fix only writes what saves startup time.
    "pyproject.toml": "[project]\nname = 'demo'\nversion = '0'\n\n[tool.advisor]\n"
                      "entry-points = ['import pkg.plain', 'import pkg.patched', 'import pkg.safe']\n\n"
                      "[tool.advisor.rules.lazy-imports]\n"
                      "costly-modules = ['decimal', 'fractions', 'xml', 'csv', 'statistics']\n",
    "pkg/__init__.py": "from .starred import *\nfrom .listed import *\n",
    # star-imported by pkg/__init__.py without __all__: `from .starred import *` copies `decimal`
    "pkg/starred.py": "import decimal\n\n\ndef f():\n    return decimal.Decimal(1)\n",
    # star-imported too, but __all__ says what the star takes: the PEP 562 __getattr__ serves it
    "pkg/listed.py": "import fractions\n\n__all__ = ['fractions', 'g']\n\n\ndef g():\n    return fractions.Fraction(1)\n",
    "pkg/plain.py": "import xml.dom.minidom\n\n\ndef h():\n    return xml.dom.minidom.parseString('<a/>')\n",
    "pkg/user.py": "def u():\n    from pkg.plain import xml\n\n    return xml\n",
    "pkg/patched.py": "import statistics\n\n\ndef mean(xs):\n    return statistics.mean(xs)\n",
    "pkg/safe.py": "import csv\n\n\ndef rows(f):\n    return list(csv.reader(f))\n",
    "tests/test_patched.py": "from unittest import mock\n\n\ndef test_mean():\n"
                             "    with mock.patch('pkg.patched.statistics'):\n        pass\n",
}


def test_refine_gives_the_unsafe_tier_and_the_reason(tmp_path: Path):
    import json

    from conftest import run_advisor

    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    result = run_advisor("scan", "--no-measure", "--no-cache", "--format", "json", cwd=tmp_path)
    report = json.loads(result.stdout)
    found = {f["path"]: (f["fix"]["safety"], f["data"].get("unsafe", ""), f["message"]) for f in report["findings"]}
    assert set(found) == {"pkg/listed.py", "pkg/plain.py", "pkg/patched.py", "pkg/safe.py"}, found
    assert found["pkg/safe.py"][:2] == ("safe", "")
    assert found["pkg/listed.py"][:2] == ("unsafe", "`fractions` is re-exported through __all__")
    assert found["pkg/plain.py"][:2] == ("unsafe", "`xml` is imported from this module by pkg/user.py")
    assert found["pkg/patched.py"][:2] == ("unsafe", "`pkg.patched.statistics` is patched by tests/test_patched.py "
                                                     "(mock.patch / monkeypatch)")
    assert "(unsafe fix: `xml` is imported from this module by pkg/user.py)" in found["pkg/plain.py"][2]
    diff = run_advisor("fix", "pkg", "--unsafe", "--diff", "--no-measure", cwd=tmp_path)
    assert "pkg/starred.py" not in diff.stdout and "+def __getattr__(name: str) -> object:" in diff.stdout
    summary = run_advisor("fix", "pkg", "--no-measure", cwd=tmp_path)
    assert "pkg/starred.py:1: left alone: `import decimal`" in summary.stdout, summary.stdout
    assert "star-imports this module, which has no __all__" in summary.stdout
