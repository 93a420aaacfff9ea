"""Solar position representative of each hourly interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib


def sample_times(index):
    """The times :func:`solar_position_hourly` evaluates the sun at.

    The start of every hour, the end of the last one, then the middle of every
    hour: ``2 n + 1`` times for ``n`` hourly labels.
    """
    hour = pd.Timedelta(hours=1)
    return index.append(index[-1:] + hour).append(index + hour / 2)


def solar_position_hourly(index, latitude, longitude, altitude=0.0,
                          pressure=None, temperature=12.0, positions=None):
    """Solar position representative of each hourly interval.

    Labels of ``index`` are interval starts.  For daylight hours the position
    is computed at the middle of the interval; for the sunrise (sunset) hour
    it is computed at the middle of the sunlit part of the hour, the method
    of NREL SAM, so that the first and last hours of the day get a sun above
    the horizon.  Sunrise/sunset are located by piecewise-linear
    interpolation of the apparent elevation at the start, middle and end of
    the hour.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware hourly labels (interval starts).
    latitude, longitude : float
        Site position, north and east positive. [°]
    altitude : float, default 0
        Site altitude. [m]
    pressure : float or array-like, optional
        Air pressure for refraction; default from ``altitude``. [Pa]
    temperature : float or array-like, default 12
        Air temperature for refraction. [°C]
    positions : pandas.DataFrame, optional
        :func:`pvlib.solarposition.get_solarposition` at
        :func:`sample_times` of ``index`` with the same site, ``pressure`` and
        ``temperature``, when the caller has it already (one SPA evaluation
        of a year costs about 0.08 s).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``index``, columns ``apparent_zenith``, ``zenith``,
        ``apparent_elevation``, ``azimuth`` [°] at the representative time,
        and ``sunlit_fraction`` [-], the fraction of the hour with the sun
        above the (refracted) horizon.
    """
    if pressure is None:
        pressure = pvlib.atmosphere.alt2pres(altitude)
    n = len(index)
    hour = pd.Timedelta(hours=1)
    if positions is None:
        # positions at starts (n), the last end (1) and middles (n) in one call
        times = sample_times(index)

        def _per_time(x, extra):
            x = np.asarray(x, dtype=float)
            if x.ndim == 0:
                return x
            return np.concatenate([x, x[-1:], x])[: len(extra)]

        positions = pvlib.solarposition.get_solarposition(
            times, latitude, longitude, altitude,
            pressure=_per_time(pressure, times),
            temperature=_per_time(temperature, times))
    elif len(positions) != 2 * n + 1:
        raise ValueError(f"positions has {len(positions)} rows; expected "
                         f"{2 * n + 1} (sample_times of {n} hours)")
    sp = positions
    elev = sp["apparent_elevation"].to_numpy()
    e0, e1, em = elev[:n], elev[1:n + 1], elev[n + 1:]

    frac_start = np.zeros(n)  # start of the sunlit part, fraction of hour
    frac_end = np.zeros(n)    # end of the sunlit part
    day = (e0 > 0) & (e1 > 0)
    frac_end[day] = 1.0
    rise = (e0 <= 0) & (e1 > 0)
    sets = (e0 > 0) & (e1 <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_rise = np.where(em > 0, 0.5 * (-e0) / (em - e0),
                          0.5 + 0.5 * (-em) / (e1 - em))
        s_set = np.where(em > 0, 0.5 + 0.5 * em / (em - e1),
                         0.5 * e0 / (e0 - em))
    frac_start[rise] = s_rise[rise]
    frac_end[rise] = 1.0
    frac_end[sets] = s_set[sets]
    # both ends below the horizon but the middle above (polar edge case)
    peak = (e0 <= 0) & (e1 <= 0) & (em > 0)
    frac_start[peak] = 0.5 * (-e0[peak]) / (em[peak] - e0[peak])
    frac_end[peak] = 0.5 + 0.5 * em[peak] / (em[peak] - e1[peak])

    out = pd.DataFrame(
        {"apparent_zenith": sp["apparent_zenith"].to_numpy()[n + 1:],
         "zenith": sp["zenith"].to_numpy()[n + 1:],
         "apparent_elevation": em,
         "azimuth": sp["azimuth"].to_numpy()[n + 1:],
         "sunlit_fraction": np.clip(frac_end - frac_start, 0.0, 1.0)},
        index=index)
    edge = rise | sets | peak
    if edge.any():
        eff = index[edge] + hour * (0.5 * (frac_start[edge] + frac_end[edge]))
        p = np.asarray(pressure, dtype=float)
        t = np.asarray(temperature, dtype=float)
        sp2 = pvlib.solarposition.get_solarposition(
            eff, latitude, longitude, altitude,
            pressure=p if p.ndim == 0 else p[edge],
            temperature=t if t.ndim == 0 else t[edge])
        for col in ("apparent_zenith", "zenith", "apparent_elevation",
                    "azimuth"):
            out.loc[edge, col] = sp2[col].to_numpy()
    return out
