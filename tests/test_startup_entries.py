"""Entry points found statically (advisor/evidence/entries.py) and each
module's import-time statements (advisor/evidence/startup_imports.py).

Nothing here imports the project: the sources are plain strings.
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from advisor.config import config_from_table
from advisor.errors import ConfigError
from advisor.evidence.entries import (
    django_entries, main_entries, package_entries, parse_entry, script_entries,
)
from advisor.evidence.startup import Entry, StartupGraph, load, saving
from advisor.evidence.startup_imports import module_statements, project_statements


def test_console_and_gui_scripts() -> None:
    pyproject = {"project": {"scripts": {"tool": "pkg.cli:main", "bad": "not a module!:x"},
                             "gui-scripts": {"tool-gui": "pkg.gui:run"}}}
    assert script_entries(pyproject) == [Entry("console script `tool`", ("pkg.cli",)),
                                         Entry("GUI script `tool-gui`", ("pkg.gui",))]
    assert script_entries({}) == []


def test_main_modules_and_package_imports() -> None:
    modules = ["pkg", "pkg.__main__", "pkg.cli", "tests", "tests.test_cli", "setup", "other.sub"]
    assert main_entries(modules) == [Entry("`python -m pkg`", ("pkg.__main__",))]
    # "other" has no __init__ module of its own (namespace): importing it loads nothing to save;
    # "setup" is a lone script and "tests" is not startup
    assert package_entries(modules) == [Entry("`import pkg`", ("pkg",))]


@pytest.mark.parametrize(("text", "roots"), [
    ("import pkg.cli", ("pkg.cli",)),
    ("import a, b.c as d", ("a", "b.c")),
    ("pkg.cli:main", ("pkg.cli",)),
    ("pkg.cli", ("pkg.cli",)),
    ("python -m pkg", ("pkg.__main__",)),
    ("-m tool", ("tool",)),
])
def test_user_named_entries(text: str, roots: tuple[str, ...]) -> None:
    assert parse_entry(text, modules=["pkg", "pkg.__main__"]).roots == roots


def test_a_malformed_entry_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'import 1pkg'"):
        parse_entry("import 1pkg")
    with pytest.raises(ConfigError, match="entry-points"):
        config_from_table({"entry-points": ["pkg.cli:main", "rm -rf /"]}, root=__import__("pathlib").Path("."))
    config = config_from_table({"entry-points": ["import pkg.cli"]}, root=__import__("pathlib").Path("."))
    assert config.entry_points == ("import pkg.cli",)


SETTINGS = dedent("""\
    import os
    INSTALLED_APPS = [
        "django.contrib.admin",
        "shop.apps.ShopConfig",
        "blog",
    ]
    ROOT_URLCONF = "site_conf.urls"
    DEBUG: bool = os.environ.get("DEBUG") == "1"
""")
MANAGE = dedent("""\
    import os, sys
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_conf.settings")
""")


def test_django_startup_is_settings_apps_models_and_urlconf() -> None:
    sources = {"site_conf.settings": SETTINGS, "manage": MANAGE, "shop": "", "shop.apps": "", "shop.models": "",
               "shop.migrations.0001_initial": "", "blog": "", "blog.models": "", "site_conf.urls": "",
               "site_conf.test_settings": SETTINGS}  # not the one manage.py names
    assert django_entries(sources) == [Entry("Django settings `site_conf.settings`", (
        "site_conf.settings", "django.contrib.admin", "shop", "shop.apps", "shop.models", "blog", "blog.models",
        "site_conf.urls"))]


def test_without_a_named_settings_module_every_settings_module_is_an_entry() -> None:
    sources = {"a.settings": "INSTALLED_APPS = ['x']\n", "b.conf": "INSTALLED_APPS = ()\n",
               "c.notes": "# INSTALLED_APPS is documented elsewhere\n"}
    assert [e.name for e in django_entries(sources)] == ["Django settings `a.settings`", "Django settings `b.conf`"]


def test_import_time_statements() -> None:
    source = dedent("""\
        from __future__ import annotations
        import json
        from typing import TYPE_CHECKING
        from . import views, helpers
        from .models import Thing
        if TYPE_CHECKING:
            import numpy
        else:
            import csv
        try:
            import ujson
        except ImportError:
            ujson = None

        class Config:
            import decimal

        def main():
            import pandas

        class ShopConfig(AppConfig):
            def ready(self):
                from . import signals

            def other(self):
                import yaml
    """)
    project = {"shop", "shop.apps", "shop.views", "shop.models", "shop.signals"}
    found = {s.id: s.targets for s in module_statements("shop.apps", source, False, project)}
    assert found == {
        "shop.apps:1": ("__future__",), "shop.apps:2": ("json",), "shop.apps:3": ("typing",),
        "shop.apps:4": ("shop", "shop.views"),  # helpers is not a module: it is a name in shop
        "shop.apps:5": ("shop.models",), "shop.apps:9": ("csv",), "shop.apps:11": ("ujson",),
        "shop.apps:16": ("decimal",), "shop.apps:23": ("shop", "shop.signals"),  # ready() runs at startup
    }


def test_relative_imports_in_a_package_and_above_the_top() -> None:
    assert module_statements("pkg", "from . import sub\n", True, {"pkg", "pkg.sub"})[0].targets == ("pkg", "pkg.sub")
    assert module_statements("pkg.a.b", "from ..c import d\n", False, set())[0].targets == ("pkg.c",)
    assert module_statements("top", "from .. import x\n", False, set()) == ()
    assert module_statements("broken", "def (:\n", False, set()) == ()


def test_statements_and_closures_make_a_startup_graph() -> None:
    sources = {"app": ("from app import cli\n", True),
               "app.cli": ("import json\nfrom app.heavy import run\n", False),
               "app.heavy": ("import decimal\n", False)}
    graph = StartupGraph(project_statements(sources),
                         {"json": {"json": 2.0}, "decimal": {"decimal": 8.0, "numbers": 1.0}})
    entry = Entry("console script `app`", ("app.cli",))
    assert load(graph, entry).total_ms == pytest.approx(11.0)
    assert saving(graph, [entry], ["app.cli:2"]).removed == {"app.heavy", "decimal", "numbers"}


def test_console_scripts_declared_outside_project_scripts() -> None:
    """setup.cfg, setup.py (dict literal or the ini string) and poetry: read, never run."""
    from advisor.evidence.entries import setup_entries

    setup_cfg = "[options.entry_points]\nconsole_scripts =\n    tool = pkg.cli:main\n"
    assert setup_entries(setup_cfg) == [Entry("console script `tool`", ("pkg.cli",))]
    setup_py = dedent('''\
        from setuptools import setup
        setup(name="x", entry_points={"console_scripts": ["a = pkg.a:main", "bad = not valid!"]})
        ''')
    assert setup_entries("", setup_py) == [Entry("console script `a`", ("pkg.a",))]
    ini = 'from setuptools import setup\nsetup(entry_points="""\n    [console_scripts]\n    ds=pkg.cli:cli\n""")\n'
    assert setup_entries("", ini) == [Entry("console script `ds`", ("pkg.cli",))]
    poetry = {"tool": {"poetry": {"scripts": {"p": "pkg.p:run"}}}}
    assert setup_entries(pyproject=poetry) == [Entry("console script `p`", ("pkg.p",))]
    assert setup_entries("not ini [", "def broken(:") == []
