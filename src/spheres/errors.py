"""One family of exceptions, each with the exit code the ``spheres`` command gives for it.

Every error a user can cause by what they ask for (a setting, a file, a directory) is a
:class:`SpheresError`: the command prints its message on one line and exits with its code,
without a traceback. Errors of the program itself are not in this family.
"""

from __future__ import annotations

EXIT_FAILED = 1  # a run or a sweep failed while running
EXIT_USAGE = 2  # bad input, refused before anything ran
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C


class SpheresError(Exception):
    """An error the user can fix; its message names what is wrong and what is allowed."""

    exit_code = EXIT_USAGE


class ConfigError(SpheresError, ValueError):
    """A configuration value is not allowed; the message names the setting and what is allowed."""


class NetworkError(SpheresError, ValueError):
    """A network cannot be built or loaded as asked (a bad edge list, an impossible graph)."""


class RunDirError(SpheresError, OSError):
    """A run directory cannot be written (not writable, or too little disk space)."""


class DataError(SpheresError, ValueError):
    """Stored results cannot be read as asked (a sweep store, a report's input, a Sobol design)."""


class CollectError(DataError):
    """A sweep directory cannot be collected into a store."""


class ReportError(DataError):
    """A report cannot be written from the sweeps given."""


class SensitivityError(DataError):
    """A Sobol design or analysis is not possible with the settings given."""


class LedgerError(RuntimeError):
    """A movement would break the ledger's rules (negative amount or balance): a bug."""
