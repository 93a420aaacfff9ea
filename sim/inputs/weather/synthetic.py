"""The embedded synthetic default year (humid subtropical Japanese island)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pvlib
from scipy import optimize, signal, special

from sim.inputs.weather.frame import _check_site, year_index
from sim.inputs.weather.sunpos import solar_position_hourly

#: Seed of the synthetic default year.
DEFAULT_SEED = 2030

# ---------------------------------------------------------------------------
# Climatology of the synthetic default year (humid subtropical Japanese
# remote island, ~27-34 °N: Amami, Okinawa, Tokara, Goto, Tsushima...).
# Month-centre values, interpolated periodically by day of year.  These are
# rounded, plausible values (see profiles/weather/README.md), not measurements.
# ---------------------------------------------------------------------------

#: Clear-sky index per month (sum GHI / sum clear-sky GHI), Jan..Dec. [-]
#: Cloudy winter monsoon, rainy season (tsuyu) in June, clear July/August.
MONTHLY_CLEARSKY_INDEX = np.array(
    [0.52, 0.54, 0.58, 0.61, 0.60, 0.50, 0.72, 0.70, 0.65, 0.64, 0.58, 0.53])

#: Linke turbidity per month for a humid maritime site, Jan..Dec. [-]
MONTHLY_LINKE_TURBIDITY = np.array(
    [3.0, 3.2, 3.6, 3.9, 4.1, 4.3, 4.2, 4.1, 3.8, 3.4, 3.1, 3.0])

#: Mean wind speed at 10 m per month before typhoons, Jan..Dec (winter
#: monsoon windier). [m/s]
MONTHLY_WIND_SPEED = np.array(
    [5.7, 5.5, 5.0, 4.4, 4.0, 4.0, 4.0, 4.1, 4.6, 5.1, 5.4, 5.7])

_TEMP_MEAN = 22.5        # annual mean air temperature [°C]
_TEMP_AMPLITUDE = 6.5    # half the seasonal range [°C]
_TEMP_COLDEST_DOY = 32   # day of year of the seasonal minimum (1 Feb)
_TEMP_DIURNAL = 2.5      # half the diurnal range on a clear day [°C]
_WEIBULL_K = 2.0         # Weibull shape of hourly wind speed [-]
_KC_MIN, _KC_MAX = 0.05, 1.05  # bounds of the clear-sky index model [-]
_KC_SPREAD = 1.6         # spread of the latent cloud variable [-]


def _periodic_daily(monthly, doy, ndays):
    """Interpolate 12 month-centre values to day of year, periodically."""
    centres = (np.arange(12) + 0.5) * ndays / 12.0
    x = np.concatenate([centres - ndays, centres, centres + ndays])
    y = np.concatenate([monthly, monthly, monthly])
    return np.interp(doy - 0.5, x, y)


def _ar1(rng, n, phi):
    """Unit-variance Gaussian AR(1) series of length ``n``."""
    eps = rng.standard_normal(n) * math.sqrt(1.0 - phi * phi)
    eps[0] = rng.standard_normal()
    return signal.lfilter([1.0], [1.0, -phi], eps)


def synthetic_year(*, latitude, longitude, altitude=0.0, year,
                   timezone="Asia/Tokyo", seed=DEFAULT_SEED):
    """Synthetic hourly weather year for a humid subtropical Japanese island.

    The model, deterministic for a given ``seed``:

    * **Irradiance**: pvlib Ineichen clear-sky GHI for the site (monthly Linke
      turbidity :data:`MONTHLY_LINKE_TURBIDITY`), averaged over each hour by
      Simpson's rule on the start, middle and end of the hour, times a
      clear-sky index ``kc``.  ``kc = 0.05 + 1.0 * Phi(m(doy) + 1.6 x)``,
      where ``x`` mixes a daily Gaussian AR(1) process (phi 0.6 day to day,
      weight 0.8) and an hourly one (phi 0.8, weight 0.6).  ``m(doy)`` is
      set in closed form from :data:`MONTHLY_CLEARSKY_INDEX` (cloudy winter
      monsoon, June rainy season) and then shifted per month (root finding)
      so that every month's energy-weighted clear-sky index,
      ``sum(ghi) / sum(ghi_clear)``, equals its target exactly: the seed
      changes the hour-to-hour pattern, not the monthly totals.  GHI is split into DNI and DHI with
      :func:`pvlib.irradiance.erbs` at the representative solar position of
      the hour (:func:`solar_position_hourly`).
    * **Typhoons**: a Poisson number (mean 3) of events between mid July and
      mid October, each a Gaussian bump (sigma 15 h) that raises wind speed by
      12-25 m/s at its peak and dims ``kc`` by up to 80 %.
    * **Air temperature**: annual mean 22.5 °C, seasonal half-range 6.5 °C
      (minimum on 1 Feb: about 16 °C in January, 29 °C in August), a daily
      AR(1) anomaly (phi 0.7, sd 1.2 °C) and a diurnal cycle peaking at 14:00
      with half-range ``2.5 * (0.5 + 0.6 * kc_day)`` °C (larger on clear
      days).
    * **Wind speed** at 10 m: a Gaussian AR(1) process (hourly phi 0.9 mixed
      with a daily phi 0.7) mapped through the normal CDF onto a Weibull
      distribution (shape 2), with a +-8 % afternoon sea-breeze cycle, scaled
      so that each month's mean equals :data:`MONTHLY_WIND_SPEED` exactly
      (windier winter monsoon); typhoons come on top (annual mean about
      5.1 m/s).
    * **Pressure**: :func:`pvlib.atmosphere.alt2pres` of ``altitude``
      (101325 Pa at sea level), constant.

    Parameters
    ----------
    latitude, longitude : float
        Site position, north and east positive. [°]
    altitude : float, default 0
        Site altitude. [m]
    year : int
        Calendar year to generate (8784 hours if leap).
    timezone : str, default "Asia/Tokyo"
        Time zone of the index.
    seed : int, default :data:`DEFAULT_SEED`
        Seed of the random generator.

    Returns
    -------
    pandas.DataFrame
        Weather year with the columns :data:`COLUMNS` and ``attrs``
        ``synthetic=True``, ``wind_height=10.0``, ``repairs=[]``.
    """
    _check_site(latitude, longitude, altitude)
    index = year_index(year, timezone)
    n = len(index)
    ndays = n // 24
    rng = np.random.default_rng(seed)

    # local calendar; a tz index always has whole local days here
    doy = np.asarray(index.day_of_year, dtype=float)
    hour = np.asarray(index.hour, dtype=float)
    day = (np.asarray(index.day_of_year) - 1)
    t_hours = np.arange(n, dtype=float)

    # --- clear sky, hourly means by Simpson's rule ------------------------
    pressure = float(pvlib.atmosphere.alt2pres(altitude))
    step = pd.Timedelta(minutes=30)
    times = index.append(index[-1:] + 2 * step).append(index + step)
    sp = pvlib.solarposition.get_solarposition(times, latitude, longitude,
                                               altitude, pressure=pressure)
    am_rel = pvlib.atmosphere.get_relative_airmass(sp["apparent_zenith"])
    am_abs = pvlib.atmosphere.get_absolute_airmass(am_rel, pressure)
    linke = _periodic_daily(MONTHLY_LINKE_TURBIDITY,
                            np.asarray(times.day_of_year, dtype=float), ndays)
    cs = pvlib.clearsky.ineichen(sp["apparent_zenith"], am_abs, linke,
                                 altitude=altitude,
                                 dni_extra=pvlib.irradiance.get_extra_radiation(
                                     np.asarray(times.day_of_year)))
    g = np.nan_to_num(cs["ghi"].to_numpy(), nan=0.0)  # night: NaN airmass
    g = np.maximum(g, 0.0)
    ghi_cs = (g[:n] + g[1:n + 1] + 4.0 * g[n + 1:]) / 6.0

    # --- typhoons ---------------------------------------------------------
    n_typhoon = rng.poisson(3.0)
    centres = rng.uniform(196 * 24, 288 * 24, size=n_typhoon)  # mid Jul-Oct
    peaks = rng.uniform(12.0, 25.0, size=n_typhoon)
    bump = np.zeros(n)
    wind_boost = np.zeros(n)
    for c, p in zip(centres, peaks):
        b = np.exp(-0.5 * ((t_hours - c) / 15.0) ** 2)
        bump = np.maximum(bump, b)
        wind_boost += p * b

    # --- clear-sky index --------------------------------------------------
    kc_mean = _periodic_daily(MONTHLY_CLEARSKY_INDEX, doy, ndays)
    q = (kc_mean - _KC_MIN) / (_KC_MAX - _KC_MIN)
    m = special.ndtri(q) * math.sqrt(1.0 + _KC_SPREAD ** 2)
    x_day = _ar1(rng, ndays + 1, 0.6)[day]
    x = 0.8 * x_day + 0.6 * _ar1(rng, n, 0.8)
    # per-month latent offset so that the energy-weighted clear-sky index of
    # every month equals its target exactly (seed changes the pattern, not
    # the monthly totals)
    month = np.asarray(index.month) - 1
    target = MONTHLY_CLEARSKY_INDEX
    latent = m + _KC_SPREAD * x
    offset = np.zeros(12)
    for k in range(12):
        sel = month == k
        w = ghi_cs[sel]
        if w.sum() <= 0:  # polar night: nothing to match
            continue
        lat_k, dim_k = latent[sel], 1.0 - 0.8 * bump[sel]

        def excess(d, lat_k=lat_k, dim_k=dim_k, w=w, k=k):
            kc_k = (_KC_MIN + (_KC_MAX - _KC_MIN) * special.ndtr(lat_k + d)) \
                * dim_k
            return np.dot(w, kc_k) / w.sum() - target[k]

        lo, hi = excess(-8.0), excess(8.0)
        if lo < 0 < hi:
            offset[k] = optimize.brentq(excess, -8.0, 8.0, xtol=1e-6)
    kc = _KC_MIN + (_KC_MAX - _KC_MIN) * special.ndtr(latent + offset[month])
    kc = kc * (1.0 - 0.8 * bump)
    ghi = ghi_cs * kc

    # --- decomposition at the representative sun position -----------------
    pos = solar_position_hourly(index, latitude, longitude, altitude,
                                pressure=pressure)
    zen = pos["zenith"].to_numpy()
    parts = pvlib.irradiance.erbs(ghi, zen, doy)
    dni = np.nan_to_num(np.asarray(parts["dni"], dtype=float), nan=0.0)
    dni = np.where(ghi > 0, dni, 0.0)
    cosz = np.cos(np.radians(zen))
    dhi = np.where(ghi > 0, ghi - dni * np.maximum(cosz, 0.0), 0.0)

    # --- temperature ------------------------------------------------------
    daily_kc = np.bincount(day, weights=kc, minlength=ndays) / 24.0
    seasonal = _TEMP_MEAN - _TEMP_AMPLITUDE * np.cos(
        2 * np.pi * (doy - _TEMP_COLDEST_DOY) / ndays)
    anomaly = 1.2 * _ar1(rng, ndays + 1, 0.7)[day]
    diurnal = _TEMP_DIURNAL * (0.5 + 0.6 * daily_kc[day]) * np.cos(
        2 * np.pi * (hour - 14.0) / 24.0)
    temp_air = seasonal + anomaly + diurnal

    # --- wind -------------------------------------------------------------
    z = 0.75 * _ar1(rng, ndays + 1, 0.7)[day] + \
        math.sqrt(1 - 0.75 ** 2) * _ar1(rng, n, 0.9)
    u = special.ndtr(z)
    scale = _periodic_daily(MONTHLY_WIND_SPEED, doy, ndays) / \
        special.gamma(1.0 + 1.0 / _WEIBULL_K)
    wind = scale * (-np.log1p(-u)) ** (1.0 / _WEIBULL_K)
    wind = wind * (1.0 + 0.08 * np.cos(2 * np.pi * (hour - 14.0) / 24.0))
    # match each month's mean (before typhoons) to its target exactly
    got = np.bincount(month, weights=wind, minlength=12) / \
        np.bincount(month, minlength=12)
    wind = wind * (MONTHLY_WIND_SPEED / got)[month]
    wind = wind + wind_boost

    df = pd.DataFrame({"ghi": ghi, "dni": dni, "dhi": dhi,
                       "temp_air": temp_air, "wind_speed": wind,
                       "pressure": np.full(n, pressure)}, index=index)
    df.attrs = {
        "source": (f"synthetic: pvlib Ineichen clear-sky x seeded AR(1) cloud "
                   f"model, humid subtropical Japanese island climatology, "
                   f"seed {seed}"),
        "synthetic": True,
        "wind_height": 10.0,
        "repairs": [],
    }
    return df
