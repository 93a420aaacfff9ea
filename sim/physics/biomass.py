"""Steam-cycle biomass power: planned outages and expected availability.

A biomass steam plant runs base-load at ``capacity_kw * load_factor`` except
during planned maintenance, given as whole ISO weeks.  Unplanned outages
(forced trips) are represented by their *deterministic expected value*: every
running hour is derated by ``availability``.  No random trips are drawn, so
results are reproducible and an annual total equals its expectation; the
hour-by-hour matching is therefore slightly optimistic compared with a plant
that trips for whole days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.errors import InputError

__all__ = ["biomass_kwh", "hourly_index", "iso_week_mask"]


def hourly_index(index):
    """The tz-aware hourly DatetimeIndex of ``index`` or of a DataFrame.

    Parameters
    ----------
    index : pandas.DatetimeIndex or pandas.DataFrame
        tz-aware hourly labels (interval starts), or a weather DataFrame.

    Returns
    -------
    pandas.DatetimeIndex

    Raises
    ------
    InputError
        If it is not a tz-aware DatetimeIndex.
    """
    if isinstance(index, (pd.DataFrame, pd.Series)):
        index = index.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InputError("expected a tz-aware DatetimeIndex of hourly interval "
                         "starts (or a weather DataFrame)", field="index")
    return index


def _number(name, value, lo, hi, *, lo_open=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    ok = np.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi
    if not ok:
        lb = "(" if lo_open else "["
        raise InputError(f"expected {name} in {lb}{lo:g}, {hi:g}], got "
                         f"{value!r}", field=name)
    return v


def _capacity(capacity_kw):
    try:
        v = float(capacity_kw)
    except (TypeError, ValueError):
        v = float("nan")
    if not (np.isfinite(v) and v >= 0):
        raise InputError(f"expected capacity_kw >= 0 kW, got {capacity_kw!r}",
                         field="capacity_kw")
    return v


def iso_week_mask(index, weeks, *, field="outage_weeks"):
    """Hours whose local date falls in one of the given ISO weeks.

    Weeks are matched by ISO week number of each hour's date in the index's
    own time zone, whatever the ISO year: in a year starting on a Friday,
    1-3 January belong to week 53 (or 52) of the previous ISO year and are
    matched by that number; the last days of December may be week 1.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware hourly labels.
    weeks : iterable of int
        ISO week numbers 1..53.
    field : str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray of bool
        True in hours of the given weeks.

    Raises
    ------
    InputError
        A week outside 1..53, not an integer, or a week that does not occur
        in ``index`` (e.g. week 53 in a year without it): it would silently
        schedule nothing.
    """
    index = hourly_index(index)
    if isinstance(weeks, (str, bytes)) or not hasattr(weeks, "__iter__"):
        raise InputError(f"expected a list of ISO week numbers 1..53, got "
                         f"{weeks!r}", field=field)
    wk = []
    for w in weeks:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) \
                or not 1 <= int(w) <= 53:
            raise InputError(f"expected ISO week numbers 1..53, got {w!r}",
                             field=field)
        wk.append(int(w))
    iso = np.asarray(index.isocalendar().week, dtype=int)
    absent = sorted(set(wk) - set(iso.tolist()))
    if absent:
        raise InputError(f"ISO week(s) {absent} do not occur in the simulated "
                         f"period {index[0].date()}..{index[-1].date()}",
                         field=field)
    return np.isin(iso, wk)


def biomass_kwh(index, *, capacity_kw, availability=0.85, outage_weeks=(),
                load_factor=1.0):
    """Hourly output of a steam-cycle biomass plant.

    Parameters
    ----------
    index : pandas.DatetimeIndex or pandas.DataFrame
        tz-aware hourly labels (interval starts), or a weather DataFrame.
    capacity_kw : float
        Net electrical capacity. [kW]
    availability : float, default 0.85
        Expected fraction of running hours not lost to unplanned outages,
        0 < availability <= 1; applied as a uniform derate. [-]
    outage_weeks : iterable of int, default ()
        ISO weeks (1..53) of planned maintenance; output is exactly 0 in
        every hour of those weeks (see :func:`iso_week_mask`).
    load_factor : float, default 1.0
        Output when running as a fraction of capacity, 0 < lf <= 1. [-]

    Returns
    -------
    numpy.ndarray
        float64, shape ``(len(index),)``: energy in each hour. [kWh]
        ``capacity_kw * load_factor * availability`` when running, 0 in
        outage weeks.

    Raises
    ------
    InputError
        On an out-of-range parameter or an outage week absent from ``index``.
    """
    index = hourly_index(index)
    cap = _capacity(capacity_kw)
    avail = _number("availability", availability, 0, 1, lo_open=True)
    lf = _number("load_factor", load_factor, 0, 1, lo_open=True)
    out = np.full(len(index), cap * lf * avail, dtype=np.float64)
    out[iso_week_mask(index, outage_weeks)] = 0.0
    return out
