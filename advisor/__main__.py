"""Allow ``python -m advisor``.

``python -m`` puts the current directory first on ``sys.path``; run from
inside a checkout, its ``argparse.py`` or ``json.py`` would then shadow the
standard library in advisor's own process. The entry is dropped before any
other import (advisor itself is already loaded), as ``python -P`` would.
No ``from __future__`` import here: it would be looked up on that path too.
"""

import os
import sys

if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from advisor.cli import main  # noqa: E402  (after the path is made safe)

sys.exit(main())
