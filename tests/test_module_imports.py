"""What a module imports when it is imported (the project's import graph):
one reading, shared with the startup model."""

from __future__ import annotations

import ast
import textwrap

from advisor.engine.module_imports import module_imports


def imports_of(code: str, module: str = "pkg.mod", is_package: bool = False) -> tuple[str, ...]:
    return module_imports(ast.parse(textwrap.dedent(code)), module, is_package)


def test_import_time_blocks_count_and_function_bodies_do_not() -> None:
    assert imports_of("""\
        import a
        if TYPE_CHECKING:
            import hidden
        else:
            import shown
        try:
            import b
        except ImportError:
            import c
        for _ in range(1):
            import d
        class K:
            import e
        def f():
            import never
        """) == ("a", "shown", "b", "c", "d", "e")


def test_relative_imports_resolve_from_the_package() -> None:
    assert imports_of("from . import x\nfrom ..y import z\n", "pkg.sub.mod") == ("pkg.sub", "pkg.sub.x", "pkg.y", "pkg.y.z")
    assert imports_of("from . import x\n", "pkg", is_package=True) == ("pkg", "pkg.x")
    assert imports_of("from ... import x\n", "pkg.mod") == ()  # above the top-level package


def test_app_config_ready_runs_at_startup() -> None:
    assert imports_of("""\
        from django.apps import AppConfig
        class ShopConfig(AppConfig):
            def ready(self):
                import shop.signals
        """) == ("django.apps", "django.apps.AppConfig", "shop.signals")
