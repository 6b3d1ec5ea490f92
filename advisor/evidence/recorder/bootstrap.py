"""How ``advisor profile`` starts the recorder in the profiled interpreter:
``python [opts] -c BOOTSTRAP <this folder> <recorder args> -- <target>``. The
package is loaded from its folder under a private name, so the interpreter
needs neither advisor installed nor this folder on ``sys.path`` (where its
module names could shadow the program's)."""

from __future__ import annotations

import os

NAME = "_advisor_recorder"

BOOTSTRAP = (
    "import importlib.util as u, sys\n"
    "d = sys.argv[1]\n"
    f"s = u.spec_from_file_location({NAME!r}, d + '/__init__.py', submodule_search_locations=[d])\n"
    "m = u.module_from_spec(s)\n"
    f"sys.modules[{NAME!r}] = m\n"
    "s.loader.exec_module(m)\n"
    f"from {NAME}.main import main\n"
    "del u, d, s, m\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def command(python: str, options: list[str], recorder_args: list[str], target: list[str]) -> list[str]:
    """The argv that runs ``target`` under the recorder."""
    folder = os.path.dirname(os.path.abspath(__file__))
    return [python, *options, "-c", BOOTSTRAP, folder, *recorder_args, "--", *target]
