"""advisor: a performance advisor for Python code.

Importing this package is cheap on purpose: heavy dependencies (libcst,
networkx, jinja2, radon, pyinstrument) load only inside the commands that
need them, so ``advisor --help`` and the pre-commit hook start fast.
"""

__version__ = "0.1.0"
