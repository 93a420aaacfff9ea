"""Errors raised by gxsim for bad input.

Every problem with user input (a scenario file, a weather file, meter data, a
sweep definition) is raised as :class:`InputError` with a one-line message that
names the file, the field or row, and what was expected.  The command line
prints that line and exits with status 2; it never shows a traceback for it.
"""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad user input, described in one line.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    source : str or Path, optional
        The file the input came from.
    field : str, optional
        The field (dotted path such as ``generators[2].capacity_kw``) or the
        row (``row 17``) the problem is in.
    """

    def __init__(self, message: str, *, source: str | Path | None = None,
                 field: str | None = None):
        self.source = None if source is None else str(source)
        self.field = field
        self.reason = " ".join(str(message).split())  # always one line
        parts = [p for p in (self.source, self.field) if p]
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {self.reason}" if prefix else self.reason)
