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
        #: every problem found as ``(field, reason)``; the first is ``field``/``reason``
        self.problems: list[tuple[str | None, str]] = [(field, self.reason)]
        super().__init__(self._line(field, self.reason))

    def _line(self, field: str | None, reason: str) -> str:
        prefix = ": ".join(p for p in (self.source, field) if p)
        return f"{prefix}: {reason}" if prefix else reason

    @classmethod
    def listing(cls, problems: list[tuple[str | None, str]], *,
                source: str | Path | None = None, limit: int = 20) -> "InputError":
        """One error for several problems of one file: one line per problem.

        Parameters
        ----------
        problems : list of (field, reason)
            In the order found; at least one.
        source : str or Path, optional
            The file.
        limit : int
            Problems shown; the rest are counted on a last line.

        Returns
        -------
        InputError
            ``str()`` is the first problem's line, then one line per further
            problem (each naming file and field), so a user fixes them all at once.
        """
        first_field, first_reason = problems[0]
        err = cls(first_reason, source=source, field=first_field or None)
        err.problems = [(f or None, " ".join(str(r).split())) for f, r in problems]
        lines = [err._line(f, r) for f, r in err.problems[:limit]]
        if len(problems) > limit:
            lines.append(err._line(None, f"... and {len(problems) - limit} more problems "
                                         "(fix these first)"))
        err.args = ("\n".join(lines),)
        return err


class RunStopped(RuntimeError):
    """A run stopped by its environment (e.g. every Dask worker lost), in one line.

    The message says what happened and how to continue (``--resume``); the
    command line prints it and exits with status 4.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
