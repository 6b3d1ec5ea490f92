"""Rule lazy-imports: defer costly imports that only functions use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from advisor.findings import Finding, FixInfo, Impact
from advisor.rule import FileContext, Invalid, Rule, TreeFreeReport, Valid, WithoutTree
from advisor.rules.lazy_imports.usage import Use

if TYPE_CHECKING:
    from advisor.evidence.profile import Evidence
    from advisor.first_pass import FirstPass
    from advisor.project import Project
    from typing import AbstractSet, Mapping, Protocol

    from advisor.rules.lazy_imports.graph import StartupGraph
    from advisor.rules.support.imports import ImportTarget

    class ImportUsage(Protocol):
        """What ``decide`` reads about how a module uses its names (reports.py's walker)."""

        @property
        def uses(self) -> Mapping[str, list[Use]]: ...
        @property
        def bindings(self) -> Mapping[str, int]: ...
        @property
        def dunder_all(self) -> AbstractSet[str]: ...
        @property
        def reads_annotations(self) -> bool: ...
        @property
        def value_refs(self) -> AbstractSet[str]: ...
        @property
        def called_in_loop(self) -> AbstractSet[str]: ...
        @property
        def decorators_at_import(self) -> AbstractSet[str]: ...

#: Modules whose import does something: they must stay where they are.
BUILTIN_SIDE_EFFECT_MODULES = frozenset({
    "readline", "rlcompleter", "antigravity", "this", "pyximport", "gevent.monkey",
    "eventlet", "pkg_resources", "setuptools", "sitecustomize", "usercustomize",
    "ddtrace.auto", "newrelic.agent", "django_stubs_ext", "matplotlib",
    "multiprocessing.popen_spawn_posix", "encodings", "__main__",
})


#: An external module imported eagerly by this many other (non-test) modules
#: of the project counts as loaded anyway: deferring one import of it buys nothing.
COMMON_IMPORTERS = 2


@dataclass(frozen=True)
class LazyImportsOptions:
    #: Report an import only if deferring it saves at least this many ms.
    threshold_ms: float = 5.0
    #: Also report imports in test files (tests rarely care about startup).
    include_tests: bool = False
    #: Modules that must stay eager: importing them registers or patches something.
    side_effect_modules: tuple[str, ...] = ()
    #: Modules always reported, whatever their saving (the figure stays the model's).
    costly_modules: tuple[str, ...] = ()
    #: Modules never treated as costly.
    cheap_modules: tuple[str, ...] = ()


class LazyImports(Rule):
    """Defer imports of costly modules that only functions (or annotations) use.

    ## What it does
    Finds a module-level import of a module that takes milliseconds to import
    when every name it binds is read only inside function bodies, or only in
    annotations that nothing evaluates at run time. The saving is computed
    on the project's startup model (docs/startup-model.md): the entry points
    (console scripts, `__main__`, the package import, Django settings, and
    `--entry`/`entry-points`), the project's own import-time imports, read
    statically, and each installed or stdlib module's closure, measured one
    module at a time with `python -I -X importtime` in the project's own
    interpreter, outside the scanned tree. It is the self time of the
    modules the named entry no longer loads when this one statement is
    deferred, everything else unchanged: an import that a line above
    already loads saves nothing. The project's own modules are never run:
    their own top-level time is not counted ("at least",
    `impact.source = "derived"`).

    ## Why it matters
    Everything imported at module level is paid for by every run of the
    program, including `--help` and the runs that never call the function
    that needs it. `import pandas` alone costs hundreds of milliseconds.

    ## Example
    ```python
    import pandas as pd

    def export(rows, path):
        pd.DataFrame(rows).to_csv(path)
    ```

    ## Use instead
    ```python
    def export(rows, path):
        import pandas as pd

        pd.DataFrame(rows).to_csv(path)
    ```
    For names used only in annotations, import them under
    `if TYPE_CHECKING:`; on Python 3.15+, `lazy import pandas as pd`.

    ## Fix safety
    Safe: `advisor fix --rule lazy-imports` moves the import only when no
    name is read at import time, by the project's other modules, by
    `mock.patch` targets in its tests, or by a framework that evaluates
    annotations (pydantic, FastAPI, dataclasses, attrs, typer,
    singledispatch, cattrs, beartype).
    Unsafe (reported with the reason, applied only with `--unsafe`): a name
    that must stay an attribute of the module because another module
    takes it from there inside a function, `__all__` re-exports it, or a
    test patches it by its dotted name (a module that imports it from there
    at import time loads it anyway: the import stays). The fix then keeps the attribute: a module-level
    `__getattr__` (PEP 562) imports it on first access, or `lazy import`
    from Python 3.15. A name used at import time is never reported.

    ## Known limits
    Files are analysed with this interpreter's `ast`: a file whose syntax it
    rejects (code for a newer Python than the one running advisor) gets no
    lazy-imports analysis, nor does one that reads its own namespace
    dynamically (`globals()`, `eval`/`exec` without a fresh dict of their
    own, a module `__getattr__`). Usage is tracked by name, without scope analysis: a local variable that
    shadows an import counts as a use (the rule stays silent rather than
    wrong). Imports inside `try`/`if` blocks are never reported (they are
    usually optional-dependency probes). Code outside the scanned paths
    that imports a name from the module is not seen: keep public
    re-exports in `__all__`. Each saving assumes every other import stays
    where it is: two lines that load the same module each save nothing
    alone, so they are reported as a group, with the group's figure and
    the others named (the fix's later rounds catch chains); a group that
    `advisor fix` cannot write whole (a member in the unsafe tier, or one
    left alone) gives its other members that tier, since they save nothing
    on their own. A module
    that two or more other (non-test) modules of the project import eagerly
    is taken as loaded anyway, and a project module that any other module
    imports eagerly likewise. A module no entry point loads at startup is
    reported with its cost when it is imported, and is not fixed. Deferring
    into a function that always runs at an entry's startup saves nothing
    for that entry: the console script's function (click and typer
    commands too), the `__main__` block, functions called at module level,
    `AppConfig.ready()`, the module's own functions applied as decorators
    at module level, and what those call unconditionally, followed
    across the project's modules, into `__init__` of the classes they
    build, methods called on those objects, and `self.method()` resolved on
    the instance's class (csvkit's base `run()` calling the subclass's
    `main()`). Such a finding is reported only for the entries where the
    function does not run, naming the others, and is dropped when none is
    left. Into a property, a per-item dunder or a request handler it is
    reported but not fixed.
    A derived cost leaves out a project module's own top-level work (a
    table built at import): `--measure-project` imports the project's
    modules to time it. Measured costs are wall-clock times: on a busy
    machine a module near the threshold can be reported on one run and not
    the next; each module's closure is timed up to three times (the fastest
    kept) and cached per interpreter and module version, so
    findings do not change between scans of unchanged code.

    ## Options
    `threshold-ms` (default 5.0): the smallest saving worth a report.
    `include-tests` (default false): report imports in test files too.
    `side-effect-modules`: imports that do something when imported (register
    plugins, patch): never deferred, on top of a built-in list (`readline`,
    `gevent.monkey`, `pkg_resources`, ...). `costly-modules`: always reported,
    whatever their saving (with the model's figure, `impact.source = "config"`). `cheap-modules`: never reported.
    (Directly under `[tool.advisor]` these three still work, with a
    deprecation warning.)
    """

    id = "lazy-imports"
    message = "`{module}` is imported at startup but only used in {where}"
    kind = "startup"
    fix = "safe"
    Options = LazyImportsOptions
    codemod = "advisor.rules.lazy_imports.codemod:fix_source"

    VALID = [
        Valid("""\
            import numpy as np
            ZEROS = np.zeros(3)
        """, why="used-at-module-level"),
        Valid("""\
            import numpy as np

            @np.vectorize
            def f(x):
                return np.abs(x)
        """, why="used-by-a-decorator"),
        Valid("""\
            import pandas as pd

            class Frame(pd.DataFrame):
                def f(self):
                    return pd.Series()
        """, why="used-as-a-base-class"),
        Valid("""\
            import numpy as np

            def f(x=np.float64(0)):
                return np.abs(x)
        """, why="used-in-a-default-value"),
        Valid("""\
            import numpy as np

            class C:
                dtype = np.float64

                def f(self):
                    return np.zeros(1)
        """, why="used-in-a-class-body"),
        Valid("""\
            import requests

            requests.packages.urllib3.disable_warnings()

            def get(u):
                return requests.get(u)
        """, why="module-level-call"),
        Valid("""\
            import numpy as np

            __all__ = ['np', 'f']

            ZEROS = np.zeros(3)

            def f():
                return np.zeros(1)
        """, why="re-exported-and-used-at-module-level"),
        Valid("""\
            import myapp.plugins

            def run():
                return myapp.plugins.registry
        """, why="side-effect-module-from-config",
              config={"side-effect-modules": ["myapp.plugins"], "costly-modules": ["myapp.plugins"]}),
        Valid("""\
            try:
                import numpy as np
            except ImportError:
                np = None

            def f():
                return np.zeros(1)
        """, why="optional-dependency-probe"),
        Valid("""\
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                import pandas as pd

            def f(df: 'pd.DataFrame') -> int:
                return len(df)
        """, why="already-under-type-checking"),
        Valid("""\
            from __future__ import annotations

            import pandas as pd
            from pydantic import BaseModel

            class Row(BaseModel):
                frame: pd.DataFrame
        """, why="pydantic-model-reads-annotations"),
        Valid("""\
            from __future__ import annotations

            import pandas as pd
            from fastapi import Depends

            def handler(df: pd.DataFrame = Depends(load)):
                return df
        """, why="fastapi-depends-reads-signature"),
        Valid("""\
            from __future__ import annotations

            import pandas as pd
            from dataclasses import dataclass
            from typing import ClassVar

            @dataclass
            class C:
                table: ClassVar[pd.DataFrame]
        """, why="dataclass-classvar"),
        Valid("""\
            from __future__ import annotations

            import pandas as pd
            from functools import singledispatch

            @singledispatch
            def show(x):
                return x

            @show.register
            def _(x: pd.DataFrame):
                return x.head()
        """, why="singledispatch-register-reads-annotation"),
        Valid("""\
            from __future__ import annotations

            import pandas as pd
            import typer

            def main(df: pd.DataFrame) -> None:
                print(df)

            typer.run(main)
        """, why="typer-run-reads-signature"),
        Valid("""\
            from __future__ import annotations

            import attr
            import pandas as pd

            @attr.s(auto_attribs=True)
            class C:
                frame: pd.DataFrame
        """, why="attrs-class"),
        Valid("""\
            from __future__ import annotations

            import typing
            import pandas as pd

            def f(df: pd.DataFrame) -> int:
                return 1

            HINTS = typing.get_type_hints(f)
        """, why="get-type-hints-user"),
        Valid("""\
            import numpy as np

            def norm(x):
                return np.sqrt(x)

            def run(xs):
                return [norm(x) for x in xs]
        """, why="deferral-into-a-loop-callee"),
        Valid("""\
            import numpy as np

            def build():
                return np.zeros(3)

            TABLE = build()
        """, why="deferral-into-a-function-called-at-import-time"),
        Valid("""\
            import numpy as np

            class Engine:
                def __init__(self):
                    self.zeros = np.zeros(3)

            ENGINE = Engine()
        """, why="deferral-into-init-of-an-object-built-at-import-time"),
        Valid("""\
            import numpy as np

            class Utility:
                def run(self):
                    try:
                        self.main()
                    finally:
                        print("done")

            class Tool(Utility):
                def main(self):
                    print(np.zeros(3))

            def launch():
                Tool().run()

            if __name__ == "__main__":
                launch()
        """, why="deferral-into-a-subclass-main-that-the-base-run-always-calls"),
        Valid("""\
            import numpy as np
            from numpy import ones

            ONES = ones(3)

            def f():
                return np.zeros(1)
        """, why="module-already-loaded-by-another-startup-import"),
        Valid("""\
            import json

            def dump(x):
                return json.dumps(x)
        """, why="cheap-module"),
        Valid("""\
            import numpy as np

            def f():
                return np.zeros(1)
        """, why="test-files-are-skipped", path="tests/test_numbers.py"),
        Valid("""\
            import numpy as np

            def f():
                return globals()['np']

            NAMES = globals()
        """, why="dynamic-namespace-access"),
        Valid("""\
            import numpy as np
            import numpy.linalg as np

            def f():
                return np.norm(1)
        """, why="name-bound-twice"),
        Valid("""\
            import numpy as np
        """, why="unused-import-is-another-tools-job"),
        Valid("""\
            import numpy as np

            def f():
                global np
                np = None
        """, why="rebound-via-global"),
        Valid("""\
            lazy import pandas as pd

            def f():
                return pd.DataFrame()
        """, why="already-a-lazy-import",
              config={"target-version": "3.15"}),
        Valid("""\
            import numpy as np

            def f(np=None):
                return np
        """, why="a-parameter-shadows-the-import"),
        Valid("""\
            import numpy as np

            def f():
                return globals()['np']

            def g():
                return np.ones(1)
        """,
              why="globals-read-in-a-function"),
        Valid("""\
            import numpy as np

            if __name__ == '__main__':
                print(np.zeros(1))

            def f():
                return np.ones(1)
        """, why="used-in-main-block"),
    ]
    INVALID = [
        Invalid("""\
            import numpy as np

            def mean(xs):
                return np.mean(xs)
        """,
                fixed="""\
            def mean(xs):
                import numpy as np

                return np.mean(xs)
        """, why="used-only-in-a-function", line=1, message="`numpy` costs ~"),
        Invalid("""\
            import os
            from pandas import DataFrame

            def load(path):
                return DataFrame({'p': [os.sep]})
        """,
                fixed="""\
            import os

            def load(path):
                from pandas import DataFrame

                return DataFrame({'p': [os.sep]})
        """, why="from-import-used-only-in-a-function", line=2, message="only load() uses it"),
        Invalid("""\
            import requests

            class Client:
                def fetch(self, url):
                    return requests.get(url)
        """,
                fixed="""\
            class Client:
                def fetch(self, url):
                    import requests

                    return requests.get(url)
        """, why="used-only-in-a-method", line=1, message="Client.fetch()"),
        Invalid("""\
            import sys

            import numpy as np

            class Tool:
                def run(self):
                    if "--export" in sys.argv:
                        self.export()

                def export(self):
                    print(np.zeros(3))

            if __name__ == "__main__":
                Tool().run()
        """,
                fixed="""\
            import sys

            class Tool:
                def run(self):
                    if "--export" in sys.argv:
                        self.export()

                def export(self):
                    import numpy as np

                    print(np.zeros(3))

            if __name__ == "__main__":
                Tool().run()
        """, why="used-only-in-a-method-some-runs-call", line=3, message="Tool.export()"),
        Invalid("""\
            from __future__ import annotations

            import pandas as pd

            def size(df: pd.DataFrame) -> int:
                return len(df)
        """,
                fixed="""\
            from __future__ import annotations

            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                import pandas as pd

            def size(df: pd.DataFrame) -> int:
                return len(df)
        """, why="used-only-in-annotations", line=3, message="only annotations use it"),
        Invalid("""\
            import numpy as np

            def a():
                return np.zeros(1)

            def b():
                return np.ones(1)
        """,
                fixed="""\
            def a():
                import numpy as np

                return np.zeros(1)

            def b():
                import numpy as np

                return np.ones(1)
        """, why="used-in-two-functions", line=1, message="a(), b()"),
        Invalid("""\
            import os, numpy

            def f():
                return numpy.zeros(len(os.sep))
        """,
                fixed="""\
            import os

            def f():
                import numpy

                return numpy.zeros(len(os.sep))
        """, why="one-alias-of-a-multi-import", line=1, message="`numpy`"),
        Invalid("""\
            import numpy as np

            class Stats:
                def mean(self, xs: np.ndarray) -> float:
                    return 0.0
        """,
                fixed="""\
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                import numpy as np

            class Stats:
                def mean(self, xs: "np.ndarray") -> float:
                    return 0.0
        """,
                why="annotation-only-without-future-import-is-quoted", line=1, message="only annotations use it"),
        Invalid("""\
            import numpy as np

            def mean(xs):
                return np.mean(xs)
        """, config={"target-version": "3.15"},
                fixed="""\
            lazy import numpy as np

            def mean(xs):
                return np.mean(xs)
        """,
                why="target-3-15-uses-pep-810-lazy-import", line=1),
        Invalid("""\
            import pandas as pd

            handler = None

            def f(df: 'pd.DataFrame'):
                return pd.concat([df])
        """,
                fixed="""\
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                import pandas as pd

            handler = None

            def f(df: 'pd.DataFrame'):
                import pandas as pd

                return pd.concat([df])
        """, why="string-annotation-and-body-use", line=1),
        Invalid("""\
            import numpy as np

            __all__ = ['np', 'f']

            def f():
                return np.zeros(1)
        """,
                fixed='''\
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                import numpy as np


            def __getattr__(name: str) -> object:
                """Load a deferred import on first access, then keep it (PEP 562)."""
                if name in globals():  # already loaded (or patched)
                    return globals()[name]
                if name == "np":
                    import numpy as value
                else:
                    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
                globals()[name] = value
                return value


            __all__ = ['np', 'f']

            def f():
                __getattr__("np")  # load the deferred import (PEP 562)

                return np.zeros(1)
        ''', why="re-exported-in-dunder-all-is-an-unsafe-fix-by-pep-562-getattr", line=1,
                message="unsafe fix: `np` is re-exported through __all__"),
    ]

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: LazyImportsOptions) -> bool:
        """Never walked when the ``ast`` tree is there: ``without_tree`` makes
        the reports and facts from it (reports.py, the rule's one analysis)."""
        return False

    @classmethod
    def without_tree(cls, first_pass: "FirstPass", context: FileContext, options: LazyImportsOptions) -> WithoutTree:
        """The reports and project facts, from the ``ast`` tree."""
        from advisor.rules.lazy_imports.reports import lazy_reports

        is_package = context.path.endswith("__init__.py")
        assert first_pass.tree is not None, "the engine makes a first pass only over a parsed ast tree"
        from advisor.rules.lazy_imports.startup_facts import startup_facts

        facts, reports = lazy_reports(first_pass.tree, context.module, is_package, first_pass.text,
                                      context.is_test, options, context.config)
        startup = startup_facts(first_pass.tree, context.module, is_package, first_pass.text)
        return WithoutTree(facts={"imports": facts, "startup": startup},
                           reports=[TreeFreeReport(r.span, r.message, r.data, fix="unsafe" if r.data.get("unsafe") else None)
                                    for r in reports])

    def visit_Module(self, node: Any) -> None:
        """Walked only without a first pass (``ADVISOR_FIRST_PASS=0``, or code
        this interpreter's parser rejects): keep the module for ``finish``."""
        self._module = node

    def finish(self) -> None:
        """The same analysis as ``without_tree``, on this file's text, its reports
        put on the libcst import nodes (both trees list the module's statements
        in the same order). Code CPython cannot parse gets no analysis."""
        import ast

        from advisor.rules.lazy_imports.reports import lazy_reports

        try:
            tree = ast.parse("\n".join(self.context.lines))
        except (SyntaxError, ValueError, RecursionError):
            return
        is_package = self.context.path.endswith("__init__.py")
        facts, reports = lazy_reports(tree, self.context.module, is_package, "\n".join(self.context.lines),
                                      self.context.is_test, self.options, self.context.config)
        self.facts["imports"] = facts
        from advisor.rules.lazy_imports.startup_facts import startup_facts

        self.facts["startup"] = startup_facts(tree, self.context.module, is_package, "\n".join(self.context.lines))
        statements = _flat_statements(self._module)
        if len(statements) != len(tree.body):
            return  # the trees disagree about the statements: no node to report on
        index = {id(statement): i for i, statement in enumerate(tree.body)}
        for report in reports:
            node = statements[index[id(report.statement)]]
            if report.node is not report.statement:
                node = node.names[report.statement.names.index(report.node)]
            self.report(node, report.message, fix="unsafe" if report.data.get("unsafe") else None, **report.data)

    @classmethod
    def refine(cls, findings: list[Finding], project: "Project", options: "LazyImportsOptions",
               evidence: "Evidence | None") -> Iterable[Finding]:
        """Drop what the project needs eagerly or what saves nothing at startup;
        attach each saving computed on the startup model (``savings.py``)."""
        from advisor.rules.lazy_imports.savings import refine_findings

        return refine_findings(findings, project, options, evidence)


def unsafe_reason(finding: Finding, graph: "StartupGraph", module: str) -> str:
    """Why the name must stay an attribute of the module ("" when nothing
    reads it there): another module imports it from here, or a test patches
    it by its dotted name. Only the unsafe tier's PEP 562 / PEP 810 strategy
    keeps that working, so the finding is reported with that tier."""
    if not module:
        return ""
    for name in finding.data["names"]:
        users = graph.external_importers(module, name)
        if users:
            return f"`{name}` is imported from this module by {_few(users)}"
        patchers = graph.patchers(module, name)
        if patchers:
            return f"`{module}.{name}` is patched by {_few(patchers)} (mock.patch / monkeypatch)"
    return ""


def eager_reason(finding: Finding, graph: "StartupGraph", module: str) -> str:
    """Why deferring this import buys nothing, in words ("" when it may
    move): the one decision ``refine`` and the fix summary share."""
    for name in finding.data["names"]:
        users = _eager_name_importers(graph).get((module, name), []) if module else []
        if users:
            return f"`{name}` is imported from this module at import time by {_few(users)}: it is loaded anyway"
    starred = graph.external_importers(module, "*") if module else []
    if starred and not finding.data.get("has_all"):
        return (f"{_few(starred)} star-import{'s' if len(starred) == 1 else ''} this module, which has no __all__: "
                f"`from {module} import *` takes `{finding.data['names'][0]}` as it is at import")
    statement = finding.data["statement"]
    imported = statement.split()[1]
    own = graph.deepest_project_modules(imported, _from_names(finding))
    if own:
        users = graph.eager_importers(own, module)
        if users:
            return f"{', '.join(sorted(own))} is imported eagerly by {_few(users)}: it is loaded at startup anyway"
        return ""
    users = graph.common_external_importers(imported, module)
    if len(users) >= COMMON_IMPORTERS:
        return f"{imported} is imported eagerly by {_few(users)}: it is loaded anyway"
    return ""


def _eager_name_importers(graph: "StartupGraph") -> dict[tuple[str, str], list[str]]:
    """(module, name) -> non-test project files that import the name from that
    module at import time and keep doing so: built once per project."""

    def build(project: "Project") -> dict[tuple[str, str], list[str]]:
        from pathlib import Path

        from advisor.source import is_test_path

        index: dict[tuple[str, str], set[str]] = {}
        for facts in graph.files:
            if is_test_path(Path(facts.path)):
                continue
            for target in facts.eager:
                if target["statement"] not in facts.deferrable:
                    for name in target["names"]:
                        if target["module"] != facts.module:
                            index.setdefault((target["module"], name), set()).add(facts.path)
        return {key: sorted(paths) for key, paths in index.items()}

    found: dict[tuple[str, str], list[str]] = graph.project.derived("lazy-imports/eager-name-importers", build)
    return found


def _few(paths: list[str]) -> str:
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _from_names(finding: Finding) -> list[str]:
    statement = finding.data["statement"]
    return [n.strip(",") for n in statement.split()[3:]] if statement.startswith("from ") else []


@dataclass(frozen=True)
class Decision:
    """Whether one import may move: the report's data, or why it stays ("" when
    nothing is worth saying: cheap, unused, or a package's re-export)."""

    data: dict[str, Any] | None = None
    reason: str = ""


def decide(target: "ImportTarget", usage: "ImportUsage", parameters: dict[str, set[str]], options: LazyImportsOptions,
           package_relative: bool) -> Decision:
    """The one per-file decision, shared by the reports (``reports.lazy_reports``)
    and the fix summary (``explain.py``): ``usage`` is reports.py's walker
    (``uses``, ``bindings``, ``dunder_all``, ``reads_annotations``,
    ``value_refs``, ``called_in_loop``); ``package_relative``: a relative
    import in ``__init__.py``. A name re-exported through ``__all__`` is
    reported with ``data["unsafe"]``: only the unsafe tier may move it."""
    module = target.module
    if _listed(module, target.names, options.side_effect_modules) or _listed(module, target.names, BUILTIN_SIDE_EFFECT_MODULES):
        return Decision(reason="importing it has side effects (side-effect-modules)")
    if package_relative or _listed(module, target.names, options.cheap_modules):
        return Decision()  # `from .x import y` in __init__.py is a re-export by convention
    uses: list[Use] = []
    reads: dict[str, list[str]] = {}  # function -> the bound names it reads (the codemod splits `from x import a, b`)
    unsafe = ""  # a reason the module attribute must stay: then only the unsafe tier may fix it
    for bound in target.bound:
        found = usage.uses.get(bound, [])
        if not found:
            return Decision()  # unused: another tool's business
        if usage.bindings.get(bound, 0) > 1:
            return Decision(reason=f"`{bound}` is bound more than once at module level")
        if bound in usage.dunder_all:
            unsafe = unsafe or f"`{bound}` is re-exported through __all__"
        uses.extend(found)
        for function in sorted({u.function for u in found if u.where == "function"}):
            reads.setdefault(function, []).append(bound)
    if any(u.where == "module" for u in uses):
        return Decision(reason="used while the module is imported (module-level code, a decorator, "
                               "base class, default value or class body)")
    if any(set(target.bound) & parameters.get(u.function, set()) for u in uses if u.where == "function"):
        return Decision()  # a parameter of that name shadows the import there
    for use in uses:
        if use.where == "annotation" and (use.runtime or usage.reads_annotations or _leaf(use.function) in usage.value_refs):
            if usage.reads_annotations:
                return Decision(reason="this module reads annotations at run time (typing.get_type_hints / inspect.signature)")
            return Decision(reason=f"the annotations of {use.function or 'a class'} are read at run time "
                                   "(a model base class, dataclass, decorator or registry)")
    functions = sorted({u.function for u in uses if u.where == "function"})
    decorators = [f for f in functions if f in usage.decorators_at_import]
    if decorators:
        return Decision(reason=f"used by {', '.join(decorators)}(), a decorator that runs while the module is imported")
    loop = [f for f in functions if _leaf(f) in usage.called_in_loop]
    if loop:  # deferring into a tight loop's callee trades startup for run time
        return Decision(reason=f"{', '.join(loop)}() runs in a loop in this module: an import there would run on every call")
    usage_kind = "functions" if all(u.where == "function" for u in uses) else (
        "annotations" if not functions else "mixed")
    return Decision(data={
        "module": module,
        "where": _describe(functions, usage_kind),
        "statement": target.statement,
        "names": list(target.bound),
        "functions": functions,
        "usage": usage_kind,
        "key": target.statement,
        "costly": _listed(module, target.names, options.costly_modules),
        **({"reads": reads} if len(target.bound) > 1 else {}),
        **({"has_all": True} if usage.dunder_all else {}),
        **({"unsafe": unsafe} if unsafe else {}),
    })


def _describe(functions: list[str], usage: str) -> str:
    if usage == "annotations":
        return "annotations"
    return ", ".join(f"{f}()" for f in functions)


def _listed(module: str, names: Iterable[str], listed: Iterable[str]) -> bool:
    listed = set(listed)
    if any(module == m or module.startswith(m + ".") for m in listed):
        return True
    return any(f"{module}.{n}" in listed for n in names)


def _leaf(qualname: str) -> str:
    return qualname.rsplit(".", 1)[-1]


def _flat_statements(module: Any) -> list[Any]:
    """The module's statements as ``ast`` lists them: one per small statement of a line."""
    import libcst as cst

    flat: list[Any] = []
    for statement in module.body:
        flat.extend(statement.body if isinstance(statement, cst.SimpleStatementLine) else [statement])
    return flat
