"""Rule lazy-imports: defer costly imports that only functions use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from advisor.findings import Finding, Impact
from advisor.rule import FileContext, Invalid, Rule, TreeFreeReport, Valid, WithoutTree
from advisor.rules.lazy_imports.usage import NameUsageMixin, TopLevelImport, Use

if TYPE_CHECKING:
    from advisor.first_pass import FirstPass
    from advisor.project import Project

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


class LazyImports(NameUsageMixin, Rule):
    """Defer imports of costly modules that only functions (or annotations) use.

    ## What it does
    Finds a module-level import of a module that takes milliseconds to import
    when every name it binds is read only inside function bodies, or only in
    annotations that nothing evaluates at run time. The cost is measured with
    `python -X importtime` in the project's own interpreter and counts only
    what this import newly loads on the module's startup path.

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

    ## Known limits
    Usage is tracked by name, without scope analysis: a local variable that
    shadows an import counts as a use (the rule stays silent rather than
    wrong). Imports inside `try`/`if` blocks are never reported (they are
    usually optional-dependency probes). Code outside the scanned paths
    that imports a name from the module is not seen: keep public
    re-exports in `__all__`. The saving assumes the other eager imports on
    the module's startup path stay where they are. A module that two or more
    other (non-test) modules of the project import eagerly is taken as
    loaded anyway, and a project module that any other module imports
    eagerly likewise: deferring one of many imports of it buys nothing.
    Measured costs are wall-clock times: on a busy machine a module near
    the threshold can be reported on one run and not the next (each module
    is timed up to three times and its fastest run kept, then cached).

    ## Options
    `threshold-ms` (default 5.0): the smallest saving worth a report.
    `include-tests` (default false): report imports in test files too.
    Top-level settings `costly-modules`, `cheap-modules` and
    `side-effect-modules` override what measuring says.
    """

    id = "lazy-imports"
    message = "`{module}` is imported at startup but only used in {where}"
    kind = "startup"
    fix = "safe"
    Options = LazyImportsOptions

    VALID = [
        Valid("import numpy as np\nZEROS = np.zeros(3)\n", why="used-at-module-level"),
        Valid("import numpy as np\n\n@np.vectorize\ndef f(x):\n    return np.abs(x)\n", why="used-by-a-decorator"),
        Valid("import pandas as pd\n\nclass Frame(pd.DataFrame):\n    def f(self):\n        return pd.Series()\n", why="used-as-a-base-class"),
        Valid("import numpy as np\n\ndef f(x=np.float64(0)):\n    return np.abs(x)\n", why="used-in-a-default-value"),
        Valid("import numpy as np\n\nclass C:\n    dtype = np.float64\n\n    def f(self):\n        return np.zeros(1)\n", why="used-in-a-class-body"),
        Valid("import requests\n\nrequests.packages.urllib3.disable_warnings()\n\ndef get(u):\n    return requests.get(u)\n", why="module-level-call"),
        Valid("import numpy as np\n\n__all__ = ['np', 'f']\n\ndef f():\n    return np.zeros(1)\n", why="re-exported-in-dunder-all"),
        Valid("import myapp.plugins\n\ndef run():\n    return myapp.plugins.registry\n", why="side-effect-module-from-config",
              config={"side-effect-modules": ["myapp.plugins"], "costly-modules": ["myapp.plugins"]}),
        Valid("try:\n    import numpy as np\nexcept ImportError:\n    np = None\n\ndef f():\n    return np.zeros(1)\n", why="optional-dependency-probe"),
        Valid("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import pandas as pd\n\ndef f(df: 'pd.DataFrame') -> int:\n    return len(df)\n", why="already-under-type-checking"),
        Valid("from __future__ import annotations\n\nimport pandas as pd\nfrom pydantic import BaseModel\n\nclass Row(BaseModel):\n    frame: pd.DataFrame\n", why="pydantic-model-reads-annotations"),
        Valid("from __future__ import annotations\n\nimport pandas as pd\nfrom fastapi import Depends\n\ndef handler(df: pd.DataFrame = Depends(load)):\n    return df\n", why="fastapi-depends-reads-signature"),
        Valid("from __future__ import annotations\n\nimport pandas as pd\nfrom dataclasses import dataclass\nfrom typing import ClassVar\n\n@dataclass\nclass C:\n    table: ClassVar[pd.DataFrame]\n", why="dataclass-classvar"),
        Valid("from __future__ import annotations\n\nimport pandas as pd\nfrom functools import singledispatch\n\n@singledispatch\ndef show(x):\n    return x\n\n@show.register\ndef _(x: pd.DataFrame):\n    return x.head()\n", why="singledispatch-register-reads-annotation"),
        Valid("from __future__ import annotations\n\nimport pandas as pd\nimport typer\n\ndef main(df: pd.DataFrame) -> None:\n    print(df)\n\ntyper.run(main)\n", why="typer-run-reads-signature"),
        Valid("from __future__ import annotations\n\nimport attr\nimport pandas as pd\n\n@attr.s(auto_attribs=True)\nclass C:\n    frame: pd.DataFrame\n", why="attrs-class"),
        Valid("from __future__ import annotations\n\nimport typing\nimport pandas as pd\n\ndef f(df: pd.DataFrame) -> int:\n    return 1\n\nHINTS = typing.get_type_hints(f)\n", why="get-type-hints-user"),
        Valid("import numpy as np\n\ndef norm(x):\n    return np.sqrt(x)\n\ndef run(xs):\n    return [norm(x) for x in xs]\n", why="deferral-into-a-loop-callee"),
        Valid("import numpy as np\nfrom numpy import ones\n\nONES = ones(3)\n\ndef f():\n    return np.zeros(1)\n", why="module-already-loaded-by-another-startup-import"),
        Valid("import json\n\ndef dump(x):\n    return json.dumps(x)\n", why="cheap-module"),
        Valid("import numpy as np\n\ndef f():\n    return np.zeros(1)\n", why="test-files-are-skipped", path="tests/test_numbers.py"),
        Valid("import numpy as np\n\ndef f():\n    return globals()['np']\n\nNAMES = globals()\n", why="dynamic-namespace-access"),
        Valid("import numpy as np\nimport numpy.linalg as np\n\ndef f():\n    return np.norm(1)\n", why="name-bound-twice"),
        Valid("import numpy as np\n", why="unused-import-is-another-tools-job"),
        Valid("import numpy as np\n\ndef f():\n    global np\n    np = None\n", why="rebound-via-global"),
        Valid("lazy import pandas as pd\n\ndef f():\n    return pd.DataFrame()\n", why="already-a-lazy-import",
              config={"target-version": "3.15"}),
        Valid("import numpy as np\n\ndef f(np=None):\n    return np\n", why="a-parameter-shadows-the-import"),
        Valid("import numpy as np\n\ndef f():\n    return globals()['np']\n\ndef g():\n    return np.ones(1)\n",
              why="globals-read-in-a-function"),
        Valid("import numpy as np\n\nif __name__ == '__main__':\n    print(np.zeros(1))\n\ndef f():\n    return np.ones(1)\n", why="used-in-main-block"),
    ]
    INVALID = [
        Invalid("import numpy as np\n\ndef mean(xs):\n    return np.mean(xs)\n",
                fixed="def mean(xs):\n    import numpy as np\n\n    return np.mean(xs)\n", why="used-only-in-a-function", line=1, message="`numpy` costs ~"),
        Invalid("import os\nfrom pandas import DataFrame\n\ndef load(path):\n    return DataFrame({'p': [os.sep]})\n",
                fixed="import os\n\ndef load(path):\n    from pandas import DataFrame\n\n    return DataFrame({'p': [os.sep]})\n", why="from-import-used-only-in-a-function", line=2, message="only load() uses it"),
        Invalid("import requests\n\nclass Client:\n    def fetch(self, url):\n        return requests.get(url)\n",
                fixed="class Client:\n    def fetch(self, url):\n        import requests\n\n        return requests.get(url)\n", why="used-only-in-a-method", line=1, message="Client.fetch()"),
        Invalid("from __future__ import annotations\n\nimport pandas as pd\n\ndef size(df: pd.DataFrame) -> int:\n    return len(df)\n",
                fixed="from __future__ import annotations\n\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import pandas as pd\n\ndef size(df: pd.DataFrame) -> int:\n    return len(df)\n", why="used-only-in-annotations", line=3, message="only annotations use it"),
        Invalid("import numpy as np\n\ndef a():\n    return np.zeros(1)\n\ndef b():\n    return np.ones(1)\n",
                fixed="def a():\n    import numpy as np\n\n    return np.zeros(1)\n\ndef b():\n    import numpy as np\n\n    return np.ones(1)\n", why="used-in-two-functions", line=1, message="a(), b()"),
        Invalid("import os, numpy\n\ndef f():\n    return numpy.zeros(len(os.sep))\n",
                fixed="import os\n\ndef f():\n    import numpy\n\n    return numpy.zeros(len(os.sep))\n", why="one-alias-of-a-multi-import", line=1, message="`numpy`"),
        Invalid("import numpy as np\n\nclass Stats:\n    def mean(self, xs: np.ndarray) -> float:\n        return 0.0\n",
                fixed='from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import numpy as np\n\nclass Stats:\n    def mean(self, xs: "np.ndarray") -> float:\n        return 0.0\n',
                why="annotation-only-without-future-import-is-quoted", line=1, message="only annotations use it"),
        Invalid("import numpy as np\n\ndef mean(xs):\n    return np.mean(xs)\n", config={"target-version": "3.15"},
                fixed="lazy import numpy as np\n\ndef mean(xs):\n    return np.mean(xs)\n",
                why="target-3-15-uses-pep-810-lazy-import", line=1),
        Invalid("import pandas as pd\n\nhandler = None\n\ndef f(df: 'pd.DataFrame'):\n    return pd.concat([df])\n",
                fixed="from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import pandas as pd\n\nhandler = None\n\ndef f(df: 'pd.DataFrame'):\n    import pandas as pd\n\n    return pd.concat([df])\n", why="string-annotation-and-body-use", line=1),
    ]

    @classmethod
    def may_report(cls, first_pass: "FirstPass", context: FileContext, options: LazyImportsOptions) -> bool:
        """Never walked when the ``ast`` tree is there: ``without_tree`` makes
        the same reports and facts from it (advisor/import_reports.py, proved
        equal on the corpus by benchmarks/import_facts_parity.py). The walk
        remains for code only libcst parses, and for the codemod."""
        return False

    @classmethod
    def without_tree(cls, first_pass: "FirstPass", context: FileContext, options: LazyImportsOptions) -> WithoutTree:
        """The reports and project facts of the walk, from the ``ast`` tree."""
        from advisor.rules.lazy_imports.reports import lazy_reports

        is_package = context.path.endswith("__init__.py")
        facts, reports = lazy_reports(first_pass.tree, context.module, is_package, first_pass.text,
                                      context.is_test, options, context.config)
        return WithoutTree(facts={"imports": facts},
                           reports=[TreeFreeReport(r.span, r.message, r.data) for r in reports])

    def __init__(self, context: FileContext, options: LazyImportsOptions) -> None:
        super().__init__(context, options)
        is_package = context.path.endswith("__init__.py")
        self.init_usage(context.module, is_package)
        self.is_package = is_package
        #: Outermost function qualname -> parameter names in it (nested defs and lambdas too).
        self.parameters: dict[str, set[str]] = {}

    def visit_Param(self, node: Any) -> None:
        """A parameter named like an import shadows it: the reads are the
        parameter's, and an import moved into that function would overwrite it."""
        scopes = self._scopes
        function = self._outer_function if self._body_depth else (
            scopes[-1][1] if scopes and scopes[-1][0] == "function" else "")
        if function:
            self.parameters.setdefault(function, set()).add(node.name.value)

    def visit_Call(self, node: Any) -> None:
        """``globals()`` in a function reads module names by string (``globals()["np"]``)
        just as at module level: no import of this module can move."""
        super().visit_Call(node)
        if self._body_depth and getattr(node.func, "value", None) == "globals":
            self.usage.dynamic = True

    def finish(self) -> None:
        """After the walk: record project facts, then report the candidates."""
        usage = self.usage
        self.facts["imports"] = {
            "module": self.context.module,
            "is_package": self.is_package,
            "eager": [{"statement": t.statement, "module": t.module, "names": list(t.names)} for t in usage.eager_imports],
            "imported_names": {m: sorted(n) for m, n in usage.imported_names.items()},
            "attribute_reads": {m: sorted(n) for m, n in usage.module_attribute_reads.items()},
            "patch_targets": sorted(usage.patch_targets),
        }
        if usage.dynamic or (self.context.is_test and not self.options.include_tests):
            return
        deferrable: list[str] = []
        for entry in usage.top_level_imports:
            for target in entry.targets:
                if self._consider(entry, target):
                    deferrable.append(target.statement)
        # Imports that could move do not make a module "loaded anyway" for others.
        self.facts["imports"]["deferrable"] = deferrable

    def _consider(self, entry: TopLevelImport, target: Any) -> bool:
        """Report ``target`` if only functions or annotations use it; True if reported."""
        relative = self.is_package and bool(getattr(entry.node, "relative", None))
        data = report_data(target, self.usage, self.parameters, self.context.config, relative)
        if data is None:
            return False
        node = entry.node if len(entry.targets) == 1 else _alias_node(entry.node, target)
        self.report(node, **data)
        return True

    @classmethod
    def refine(cls, findings: list[Finding], project: "Project") -> Iterable[Finding]:
        """Drop what the project needs eagerly; attach the measured saving."""
        from advisor.rank.score import deferral_threshold
        from advisor.rule import build_options

        options = build_options(cls, project.config.rule_options.get(cls.id, {}))
        kept = []
        for finding in findings:
            module = project_module_of(finding, project)
            names = finding.data["names"]
            if module and any(project.external_importers(module, n) or project.patchers(module, n) for n in names):
                continue
            statement, top = _request(finding)
            own = project.deepest_project_modules(statement.split()[1], _from_names(finding))
            if own and project.eager_importers(own, module):
                continue  # another project module loads it at import time anyway
            if not own and len(project.common_external_importers(statement.split()[1], module)) >= COMMON_IMPORTERS:
                continue  # most of the project imports it eagerly: it is loaded anyway
            kept.append((finding, module))
        requests = set()
        startups = {}
        moving: dict[str, set[str]] = {}  # module -> the statements proposed to move out of it
        for finding, module in kept:
            moving.setdefault(module, set()).add(finding.data["statement"])
        module_startup: dict[str, set[tuple[str, str]]] = {}
        for finding, module in kept:
            if module and module not in module_startup:
                module_startup[module] = project.startup_statements(module, moving[module])
            startup = module_startup.get(module, set())
            if module and project.is_project_module(_request(finding)[1]):
                startup = startup | project.shared_statements(module)
            startups[id(finding)] = startup
            requests.add(_request(finding))
            requests.update(startup)
        costs = project.import_costs
        costs.prepare(requests)
        for finding, _ in kept:
            ms, source = costs.incremental_ms(_request(finding), _from_names(finding), startups[id(finding)])
            if finding.data.get("costly") and (ms is None or ms < options.threshold_ms):
                ms, source = max(ms or 0.0, options.threshold_ms), "config"
            # Profile hook (advisor.rank.score): a hot user keeps it eager; the threshold never drops.
            threshold = deferral_threshold(finding, project, options.threshold_ms)
            if ms is None or ms < threshold:
                continue
            confidence = {"importtime": 0.9, "table": 0.6, "config": 0.5}.get(source, 0.5)
            yield finding.with_(
                message=_message(finding, ms),
                impact=Impact(kind="startup", estimate_ms=round(ms, 1), source=source),  # type: ignore[arg-type]
                score=round(ms * confidence, 2),
                reason=f"saves ~{ms:.1f} ms at startup ({source})",
            )


def project_module_of(finding: Finding, project: "Project") -> str:
    """The dotted module of the finding's file ("" if the project does not know it)."""
    index = project.__dict__.get("_module_by_path")
    if index is None:
        index = {}
        for facts in project.files:
            index.setdefault(facts.path, facts.module)
        project.__dict__["_module_by_path"] = index
    return index.get(finding.path, "")


def _request(finding: Finding) -> tuple[str, str]:
    statement = finding.data["statement"]
    return statement, statement.split()[1].split(".")[0]


def _from_names(finding: Finding) -> list[str]:
    statement = finding.data["statement"]
    return [n.strip(",") for n in statement.split()[3:]] if statement.startswith("from ") else []


def _message(finding: Finding, ms: float) -> str:
    statement = finding.data["statement"]
    module = statement if statement.startswith("from ") else finding.data["module"]
    functions = finding.data["functions"]
    if finding.data["usage"] == "annotations":
        return f"`{module}` costs ~{ms:.0f} ms at startup; only annotations use it (import it under `if TYPE_CHECKING:`)"
    where = ", ".join(f"{f}()" for f in functions[:3]) + (f" and {len(functions) - 3} more" if len(functions) > 3 else "")
    verb = "uses" if len(functions) == 1 else "use"
    return f"`{module}` costs ~{ms:.0f} ms at startup; only {where} {verb} it"


def report_data(target: Any, usage: Any, parameters: dict[str, set[str]], config: Any,
                package_relative: bool) -> dict[str, Any] | None:
    """The report's data if only functions or annotations use ``target``, else None.

    Shared by the libcst walk (``_consider``) and advisor/import_reports.py:
    ``usage`` is anything with UsageState's ``uses``, ``bindings``,
    ``dunder_all``, ``reads_annotations``, ``value_refs``, ``called_in_loop``;
    ``package_relative``: a relative import in ``__init__.py``."""
    if package_relative:
        return None  # `from .x import y` in __init__.py is a re-export by convention
    uses: list[Use] = []
    for bound in target.bound:
        found = usage.uses.get(bound, [])
        if not found or usage.bindings.get(bound, 0) > 1 or bound in usage.dunder_all:
            return None
        uses.extend(found)
    if any(u.where == "module" for u in uses):
        return None
    module = target.module
    if _listed(module, target.names, config.side_effect_modules) or _listed(module, target.names, BUILTIN_SIDE_EFFECT_MODULES):
        return None
    if _listed(module, target.names, config.cheap_modules):
        return None
    if any(set(target.bound) & parameters.get(u.function, set()) for u in uses if u.where == "function"):
        return None  # a parameter of that name shadows the import there
    annotation_runtime = usage.reads_annotations
    for use in uses:
        if use.where == "annotation" and (use.runtime or annotation_runtime or _leaf(use.function) in usage.value_refs):
            return None
    functions = sorted({u.function for u in uses if u.where == "function"})
    if any(_leaf(f) in usage.called_in_loop for f in functions):
        return None  # deferring into a tight loop's callee trades startup for run time
    usage_kind = "functions" if all(u.where == "function" for u in uses) else (
        "annotations" if not functions else "mixed")
    return {
        "module": module,
        "where": _describe(functions, usage_kind),
        "statement": target.statement,
        "names": list(target.bound),
        "functions": functions,
        "usage": usage_kind,
        "key": target.statement,
        "costly": _listed(module, target.names, config.costly_modules),
    }


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


def _alias_node(node: Any, target: Any) -> Any:
    from advisor.rules.support.imports import dotted_name

    for alias in node.names:
        if dotted_name(alias.name) == target.module:
            return alias
    return node
