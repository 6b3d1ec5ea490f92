"""One exception hierarchy: the CLI prints ``error: <message>`` and exits 2."""

from __future__ import annotations


class AdvisorError(Exception):
    """Base class for errors that are reported to the user in one clear line."""


class ConfigError(AdvisorError):
    """``[tool.advisor]`` or a command-line option is invalid."""


class UsageError(AdvisorError):
    """The command line asks for something that cannot be done."""


class RuleDefinitionError(AdvisorError):
    """A rule class is incomplete: missing id, docs sections or examples."""
