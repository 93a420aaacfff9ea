"""Statistics that tell a real weather year from a poor synthetic one.

Used to calibrate the synthetic default year against real years (pvlib's
TMY3 files) and printed by the tests; see profiles/weather/README.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
from scipy import stats as sps

from sim.inputs.weather.sunpos import solar_position_hourly

__all__ = ["weather_statistics", "CALM_M_S", "MIN_ELEVATION_DEG"]

#: Wind speeds below this count as calm (anemometer threshold). [m/s]
CALM_M_S = 0.5

#: Clear-sky index statistics use hours with the sun above this. [°]
MIN_ELEVATION_DEG = 10.0


def weather_statistics(weather, *, latitude, longitude, altitude=0.0):
    """Clear-sky index and wind statistics of a weather year.

    Parameters
    ----------
    weather : pandas.DataFrame
        Weather year (``ghi`` [W/m2], ``wind_speed`` [m/s]).
    latitude, longitude : float
        Site. [°]
    altitude : float, default 0
        Site altitude. [m]

    Returns
    -------
    dict
        ``kc_below_0.2`` (share of daylight hours with a clear-sky index
        below 0.2; daylight = sun above :data:`MIN_ELEVATION_DEG`, clear sky
        = pvlib Ineichen with pvlib's Linke turbidity climatology),
        ``kc_p10``, ``kc_p50``, ``kc_p90`` (quantiles), ``kc_mean``
        (energy-weighted), ``wind_mean`` [m/s], ``weibull_k`` (shape fitted
        to the non-calm hours, location 0), ``wind_autocorr`` (lag 1 h),
        ``calm_share`` (hours below :data:`CALM_M_S`).
    """
    pos = solar_position_hourly(weather.index, latitude, longitude, altitude)
    day = 90.0 - pos["apparent_zenith"].to_numpy() > MIN_ELEVATION_DEG
    loc = pvlib.location.Location(latitude, longitude, altitude=altitude)
    cs = loc.get_clearsky(weather.index + pd.Timedelta(minutes=30),
                          model="ineichen")["ghi"].to_numpy()
    ghi = weather["ghi"].to_numpy(dtype=float)
    kc = ghi[day] / cs[day]
    v = weather["wind_speed"].to_numpy(dtype=float)
    k, _, _ = sps.weibull_min.fit(v[v >= CALM_M_S], floc=0)
    return {
        "kc_below_0.2": float((kc < 0.2).mean()),
        "kc_p10": float(np.quantile(kc, 0.1)),
        "kc_p50": float(np.quantile(kc, 0.5)),
        "kc_p90": float(np.quantile(kc, 0.9)),
        "kc_mean": float(ghi[day].sum() / cs[day].sum()),
        "wind_mean": float(v.mean()),
        "weibull_k": float(k),
        "wind_autocorr": float(np.corrcoef(v[:-1], v[1:])[0, 1]),
        "calm_share": float((v < CALM_M_S).mean()),
    }
