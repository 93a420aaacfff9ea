"""Waste-to-energy: throughput schedules, shutdown weeks, biomass share.

An incinerator's steam turbine follows the furnace: plants run continuously
on weekdays and often bank the fire or run at reduced throughput at
weekends.  The output is ``capacity_kw * load_factor * schedule`` where
``schedule`` is a throughput fraction per weekday (7 values Mon..Sun) or per
weekday and hour (a 7 x 24 array), and exactly 0 in maintenance shutdown weeks
(whole ISO weeks).

Defaults follow practice.  Japan's municipal waste-to-energy plants
generate at an annual capacity factor of roughly 40-60 %: the Ministry of
the Environment's annual survey 日本の廃棄物処理 (一般廃棄物処理実態調査)
reports, for FY2021, about 2,100 MW of waste power capacity and about
10,500 GWh generated (a mean near 55 %; check the current edition).  The
reasons are planned shutdowns (each furnace is stopped about a month a year
for the statutory inspection and repairs, 定期点検・補修), furnaces run below
rating on low-calorie waste, and throughput follows collection.  The
defaults here, :data:`DEFAULT_LOAD_FACTOR` 0.6 and four weeks of shutdown
(:data:`DEFAULT_SHUTDOWN_WEEKS`, late May-early June and October, outside
the summer and winter peaks), give 0.6 x 48/52 = 55 %; give the plant's own
schedule when known.

Waste power is split by :func:`split_waste` (FAQ 問31): the biomass share of
the waste is renewable; the plastic share is *renewable-equivalent*
(再エネ等) and is reported separately.
"""

from __future__ import annotations

import numpy as np

from sim.errors import InputError
from sim.physics.biomass import (_capacity, _number, hourly_index,
                                    iso_week_mask)

__all__ = ["waste_kwh", "split_waste", "DEFAULT_LOAD_FACTOR",
           "DEFAULT_SHUTDOWN_WEEKS"]

#: Output at full throughput as a fraction of the turbine rating (low-
#: calorie waste, banked furnaces); see the module docstring. [-]
DEFAULT_LOAD_FACTOR = 0.6

#: Planned shutdown ISO weeks (statutory inspection and repair, 4 weeks).
DEFAULT_SHUTDOWN_WEEKS = (22, 23, 42, 43)


def _schedule(weekly_schedule):
    if weekly_schedule is None:
        return np.ones((7, 24))
    try:
        s = np.asarray(weekly_schedule, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError("expected weekly_schedule of 7 daily fractions "
                         "(Mon..Sun) or a 7x24 array of numbers",
                         field="weekly_schedule") from exc
    if s.shape == (7,):
        s = np.repeat(s[:, None], 24, axis=1)
    elif s.shape != (7, 24):
        raise InputError(f"expected weekly_schedule of shape (7,) Mon..Sun or "
                         f"(7, 24), got shape {s.shape}",
                         field="weekly_schedule")
    if not np.all(np.isfinite(s)) or (s < 0).any() or (s > 1).any():
        raise InputError("expected weekly_schedule fractions in [0, 1]",
                         field="weekly_schedule")
    return s


def waste_kwh(index, *, capacity_kw, weekly_schedule=None,
              shutdown_weeks=DEFAULT_SHUTDOWN_WEEKS,
              load_factor=DEFAULT_LOAD_FACTOR):
    """Hourly output of a waste-to-energy plant.

    Parameters
    ----------
    index : pandas.DatetimeIndex or pandas.DataFrame
        tz-aware hourly labels (interval starts), or a weather DataFrame.
        Weekday and hour are taken in the index's own time zone.
    capacity_kw : float
        Net electrical capacity of the turbine. [kW]
    weekly_schedule : array-like, optional
        Throughput fraction in [0, 1]: 7 values Mon..Sun applied to every
        hour of the day, or a 7 x 24 array (weekday Mon..Sun, local hour
        0..23).  Default: 1.0 every hour (continuous operation).
    shutdown_weeks : iterable of int, default :data:`DEFAULT_SHUTDOWN_WEEKS`
        ISO weeks (1..53) of maintenance shutdown; output is exactly 0 then
        (see :func:`sim.physics.biomass.iso_week_mask`).  ``()`` for none.
    load_factor : float, default :data:`DEFAULT_LOAD_FACTOR` (0.6)
        Output at full throughput as a fraction of capacity, 0 < lf <= 1
        (incinerator turbines rarely run at nameplate). [-]

    Returns
    -------
    numpy.ndarray
        float64, shape ``(len(index),)``: energy in each hour. [kWh]

    Raises
    ------
    InputError
        On a bad schedule shape or value, capacity, load factor, or a
        shutdown week absent from ``index``.
    """
    index = hourly_index(index)
    cap = _capacity(capacity_kw)
    lf = _number("load_factor", load_factor, 0, 1, lo_open=True)
    sched = _schedule(weekly_schedule)
    frac = sched[np.asarray(index.day_of_week), np.asarray(index.hour)]
    out = cap * lf * frac.astype(np.float64)
    out[iso_week_mask(index, shutdown_weeks, field="shutdown_weeks")] = 0.0
    return out


def split_waste(kwh, biomass_ratio):
    """Split waste power into its biomass and plastic shares (FAQ 問31).

    Parameters
    ----------
    kwh : array-like
        Waste plant output in each hour. [kWh]
    biomass_ratio : float or array-like
        Biomass share of the waste's energy, 0..1, scalar or one value per
        hour. [-]

    Returns
    -------
    biomass : numpy.ndarray
        ``kwh * biomass_ratio``: renewable. [kWh]
    plastic : numpy.ndarray
        ``kwh * (1 - biomass_ratio)``: renewable-equivalent (再エネ等). [kWh]

    Raises
    ------
    InputError
        If a ratio is outside [0, 1] or not finite, or ``kwh`` is not finite.
    """
    try:
        e = np.asarray(kwh, dtype=np.float64)
        r = np.asarray(biomass_ratio, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("expected numeric kwh and biomass_ratio",
                         field="biomass_ratio") from exc
    if not np.all(np.isfinite(r)) or (r < 0).any() or (r > 1).any():
        raise InputError(f"expected biomass_ratio in [0, 1], got "
                         f"{biomass_ratio!r}" if r.ndim == 0 else
                         "expected every biomass_ratio in [0, 1]",
                         field="biomass_ratio")
    if not np.all(np.isfinite(e)):
        raise InputError("expected finite kwh values", field="kwh")
    try:
        bio = e * r
    except ValueError as exc:
        raise InputError(f"biomass_ratio shape {r.shape} does not match kwh "
                         f"shape {e.shape}", field="biomass_ratio") from exc
    return bio, e - bio
