"""Code that runs inside the profiled process (``advisor profile -- CMD``).

Standard library only, and importable without the rest of advisor: the
profiled interpreter may not have advisor installed, so ``advisor profile``
loads this package by file path under the private name ``_advisor_recorder``
(see ``bootstrap``). Nothing here writes an argument value, SQL parameter,
request body or header to disk: only shapes, counts and times.
"""
