"""Waste-to-energy: throughput schedules, shutdown weeks, biomass share.

An incinerator's steam turbine follows the furnace: plants run continuously
on weekdays and often bank the fire or run at reduced throughput at
weekends.  The output is ``capacity_kw * load_factor * schedule`` where
``schedule`` is a throughput fraction per weekday (7 values Mon..Sun) or per
weekday and hour (a 7 x 24 array), and exactly 0 in maintenance shutdown weeks
(whole ISO weeks).

Defaults are an ESTIMATE, not a measured national figure.  What could be
found and cited (offline copies of public pages; the Ministry of the
Environment's survey 一般廃棄物処理実態調査 itself was not at hand):

* national generation of municipal waste incinerators: 8,762 GWh (FY2016),
  9,207 (FY2017), 9,553 (FY2018), 9,981 (FY2019), 10,452 GWh (FY2021) --
  the Ministry's annual releases 一般廃棄物の排出及び処理状況等, as summarised
  by eeel.go.jp (news 6185), econavi.eic.or.jp (news 42053, 43721),
  nef.or.jp (keyword/a/articles_i_03) and iru-miru.com (article 59163,
  citing https://www.env.go.jp/content/000123409.pdf);
* national generating capacity: 1,765 MW at the end of FY2012 (ecotimes.jp
  news 655, 2013-12-27, from the same survey).  No capacity figure of a
  later year was found, so no national capacity factor can be computed
  from one year's pair: 10,452 GWh on 1,765 MW would be 68 %, an upper
  bound for FY2021 since capacity has grown since 2012;
* two large continuous plants: Utsunomiya's Clean Park Mobara, 7,500 kW,
  48.75 GWh a year (Tochigi prefecture's new-energy case page) -- 74 %;
  Funabashi's Nambu plant, 8,400 kW, about 53 GWh a year (its operator's
  outline as quoted by warming-stop.com) -- 72 %.

So a large modern plant runs at about 70-75 %, and the fleet average is
below 68 %; the issue's "40-60 % in practice" is not confirmed by these
sources.  It is kept as the default band on our reasoning, not on a
source: smaller plants (many below 5 MW, batch or semi-continuous furnaces,
banked at weekends) should pull the average below the large plants'.  Why
a plant stops: each furnace is stopped for the statutory inspection and
repairs (定期点検・補修) for weeks a year, furnaces run below rating on
low-calorie waste, and throughput follows collection.  The
defaults, :data:`DEFAULT_LOAD_FACTOR` 0.6 and four weeks of shutdown
(:data:`DEFAULT_SHUTDOWN_WEEKS`, late May-early June and October, outside
the summer and winter peaks), give 0.6 x 48/52 = 55 %; for a large
continuous plant a load factor near 0.8 (x 48/52 = 74 %) matches the two
plants above.  Give the plant's own schedule when known.

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
