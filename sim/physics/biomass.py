"""Steam-cycle biomass power: planned outages and expected availability.

A biomass steam plant runs base-load at ``capacity_kw * load_factor`` except
during planned maintenance, given as whole ISO weeks, and during forced
outages.  Forced outages (boiler tube leaks, fuel-feed jams, turbine trips)
are drawn as *events* by default: an alternating renewal process with
exponentially distributed times to failure and repair, mean repair time
:data:`MEAN_OUTAGE_HOURS` (3 days) and a mean time to failure set so that
the long-run share of forced-out hours is ``1 - availability``.  The draw is
seeded (``seed``), so a run is reproducible; the plant is then either at
full output or at zero in each hour, as a real plant is, and the
hour-by-hour matching sees whole days without it.  ``forced_outages =
"derate"`` keeps the former deterministic expectation (every running hour
times ``availability``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.errors import InputError

__all__ = ["biomass_kwh", "hourly_index", "iso_week_mask", "forced_outage_mask",
           "MEAN_OUTAGE_HOURS"]

#: Mean duration of a forced outage of a small steam plant (engineering
#: estimate: a boiler tube leak needs cooling, repair and restart, 2-4 days). [h]
MEAN_OUTAGE_HOURS = 72.0


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


def forced_outage_mask(n, availability, *, seed,
                       mean_outage_hours=MEAN_OUTAGE_HOURS):
    """Hours of seeded forced-outage events.

    Parameters
    ----------
    n : int
        Number of hours.
    availability : float
        Long-run share of hours not forced out, 0 < a <= 1. [-]
    seed : int
        Seed of the draw (same seed, same events).
    mean_outage_hours : float, default :data:`MEAN_OUTAGE_HOURS`
        Mean event duration. [h]

    Returns
    -------
    numpy.ndarray of bool
        True in forced-out hours.
    """
    out = np.zeros(n, dtype=bool)
    if availability >= 1.0:
        return out
    rng = np.random.default_rng(seed)
    mttf = mean_outage_hours * availability / (1.0 - availability)
    # start up with probability ``availability`` (exponential times are
    # memoryless, so this is the stationary state), then alternate
    up = rng.random() < availability
    t = 0.0
    while t < n:
        if up:
            t += rng.exponential(mttf)
        else:
            d = rng.exponential(mean_outage_hours)
            out[int(round(t)):int(round(min(t + d, n)))] = True
            t += d
        up = not up
    return out


def biomass_kwh(index, *, capacity_kw, availability=0.85, outage_weeks=(),
                load_factor=1.0, forced_outages="events", seed=0, notes=None):
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
    if forced_outages == "derate":
        out = np.full(len(index), cap * lf * avail, dtype=np.float64)
    elif forced_outages == "events":
        out = np.full(len(index), cap * lf, dtype=np.float64)
        forced = forced_outage_mask(len(index), avail, seed=seed)
        out[forced] = 0.0
        if notes is not None:
            events = int(np.count_nonzero(np.diff(forced.astype(int)) == 1) + forced[0])
            notes.append(f"biomass: {events} seeded forced outage(s), {int(forced.sum())} h "
                         f"({forced.mean():.1%} of the year; availability {avail:g}, mean "
                         f"{MEAN_OUTAGE_HOURS:g} h per event, seed {seed})")
    else:
        raise InputError(f"expected forced_outages 'events' or 'derate', got "
                         f"{forced_outages!r}", field="forced_outages")
    out[iso_week_mask(index, outage_weeks)] = 0.0
    return out
