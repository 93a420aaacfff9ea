"""Results of reading meter data: :class:`MeterProblem` and :class:`MeterData`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["PROBLEM_KINDS", "MeterProblem", "MeterData"]

PROBLEM_KINDS = (
    "missing", "incomplete_hour", "duplicate", "duplicate_conflict",
    "negative", "over_capacity", "looks_like_kw", "non_numeric", "empty",
    "out_of_year", "off_grid", "bad_timestamp", "unknown_meter", "gap_filled",
)


@dataclass
class MeterProblem:
    """One kind of problem of one meter (or of a whole file), with its rows.

    Parameters
    ----------
    kind : str
        One of :data:`PROBLEM_KINDS`.
    meter : str or None
        The meter id, or None when the problem concerns whole rows (a bad
        timestamp, a row out of the year).
    rows : list of int, or DatetimeIndex
        1-based data row numbers in ``file``; for ``missing`` and
        ``gap_filled`` the interval start timestamps.
    detail : str
        One human-readable line.
    file : str or None
        The file the rows are in (None for ``missing`` / ``gap_filled``).
    meters : list of str or None
        For a ``duplicate`` reported once for several meter columns of a wide
        file (``meter`` is None then): the meters those rows affect.
    """

    kind: str
    meter: str | None
    rows: list
    detail: str
    file: str | None = None
    meters: list[str] | None = None

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.file, self.meter and f"meter {self.meter}") if p)
        return f"{self.kind}: {where + ': ' if where else ''}{self.detail}"


@dataclass
class MeterData:
    """Hourly metered energy with its problems and repairs.

    Attributes
    ----------
    kwh : pandas.DataFrame
        Energy per hour and meter [kWh]; index: tz-aware hourly
        DatetimeIndex of interval starts covering the whole calendar year;
        columns: meter ids.  NaN where no usable value exists.
    problems : list of MeterProblem
    source : str
        The file(s) read, comma-separated.
    interval_minutes : int
        The interval of the files as read (30 or 60).
    repairs : list of str
        Every conversion and repair applied, one line each.
    filled : pandas.DataFrame or None
        Boolean mask (same shape as ``kwh``) of hours filled by ``fill``.
    capacities_kw : pandas.Series
        Capacity per meter [kW] used for the checks (NaN where unknown).
    year : int
    unknown_kwh : pandas.Series
        Annual energy of each meter in the files that is not one of the
        expected ``meters`` [kWh] (their rows are ``unknown_meter``).
    """

    kwh: pd.DataFrame
    problems: list[MeterProblem]
    source: str
    interval_minutes: int
    repairs: list[str] = field(default_factory=list)
    filled: pd.DataFrame | None = None
    capacities_kw: pd.Series | None = None
    year: int | None = None
    unknown_kwh: pd.Series | None = None
    #: the (hour, meter) array ``kwh`` was made on (see :meth:`meter_matrix`)
    _array: np.ndarray | None = field(default=None, repr=False, compare=False)

    def meter_matrix(self) -> np.ndarray:
        """``kwh`` as a (meter, hour) array [kWh], without a copy.

        pandas hands out its memory read-only (copy-on-write); this is the
        array the reader made ``kwh`` on, writeable so that compiled code
        (numba types read-only arrays apart) can take it as its input
        without a copy of the whole matrix. Never write to it: it *is*
        ``kwh``. A copy of ``kwh``'s values if the frame no longer holds
        that array (it was changed, or made otherwise).
        """
        values = self.kwh.to_numpy()
        own = self._array
        if (own is not None and own.shape == values.shape and own.dtype == values.dtype
                and own.strides == values.strides and own.ctypes.data == values.ctypes.data):
            return own.T
        return np.array(values.T)

    def summary(self) -> pd.DataFrame:
        """The problems as a table, one row per problem.

        Returns
        -------
        pandas.DataFrame
            Columns ``kind, meter, file, count, first, last, detail``.
        """
        recs = []
        for p in self.problems:
            n = len(p.rows)
            recs.append({"kind": p.kind, "meter": p.meter, "file": p.file,
                         "count": n, "first": p.rows[0] if n else None,
                         "last": p.rows[-1] if n else None, "detail": p.detail})
        cols = ["kind", "meter", "file", "count", "first", "last", "detail"]
        return pd.DataFrame.from_records(recs, columns=cols)

    def filled_kwh(self) -> pd.Series:
        """Energy added by gap filling, per meter [kWh] (zeros without fill)."""
        if self.filled is None:
            return pd.Series(0.0, index=self.kwh.columns, name="filled_kwh")
        out = self.kwh.where(self.filled, 0.0).sum(axis=0)
        out.name = "filled_kwh"
        return out

    def missing_hours(self) -> pd.Series:
        """Hours per meter still without a value in ``kwh``."""
        out = self.kwh.isna().sum(axis=0)
        out.name = "missing_hours"
        return out

    def problems_of(self, kind: str, meter: str | None = None) -> list[MeterProblem]:
        """The problems of one kind (and meter, if given, also as one of ``p.meters``)."""
        return [p for p in self.problems if p.kind == kind and (
            meter is None or p.meter == meter or meter in (p.meters or ()))]

    @property
    def ok(self) -> bool:
        """True when no problem at all was found."""
        return not self.problems
