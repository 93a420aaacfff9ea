"""The embedded synthetic default year (humid subtropical Japanese island)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pvlib
from scipy import optimize, special

from sim.inputs.weather.frame import _check_site, year_index
from sim.inputs.weather.sunpos import sample_times, solar_position_hourly

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

# Shape parameters calibrated (issue 11) against real years measured from
# pvlib's TMY3 files; the table is in profiles/weather/README.md and
# tests/inputs/test_weather.py::test_synthetic_statistics_near_real prints it.
_KC_MIN, _KC_MAX = 0.20, 1.06  # bounds of the clear-sky index model [-]
_KC_SPREAD = 0.8         # spread of the latent cloud variable [-]
_KC_DAILY = (0.6, 0.8)   # day-to-day AR(1) phi and weight of the cloud variable
_KC_HOURLY = (0.8, 0.6)  # hour-to-hour AR(1) phi and weight
_WEIBULL_K = 3.0         # Weibull shape of the non-calm hourly wind speed [-]
_WIND_DAILY = (0.7, 0.5)   # day-to-day AR(1) phi and weight of the wind variable
_WIND_HOURLY = (0.72, math.sqrt(1 - 0.5 ** 2))  # hour-to-hour phi and weight
_CALM_SHARE = 0.13       # share of hours reported calm (< 0.5 m/s: 0) [-]
_SPA_TEMPERATURE = 12.0  # air temperature for the sun's refraction [°C]


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
    # x[t] = eps[t] + phi x[t-1]: the operations of scipy.signal.lfilter([1],
    # [1, -phi], eps), the same bits, without importing scipy.signal (0.5 s
    # of every start-up) for 8,760 steps
    out = np.empty(n)
    prev = 0.0
    for t in range(n):
        prev = eps[t] + phi * prev
        out[t] = prev
    return out


def synthetic_year(*, latitude, longitude, altitude=0.0, year,
                   timezone="Asia/Tokyo", seed=DEFAULT_SEED):
    """Synthetic hourly weather year for a humid subtropical Japanese island.

    The model, deterministic for a given ``seed``:

    * **Irradiance**: pvlib Ineichen clear-sky GHI for the site (monthly Linke
      turbidity :data:`MONTHLY_LINKE_TURBIDITY`), averaged over each hour by
      Simpson's rule on the start, middle and end of the hour
      (:func:`_clear_sky_hourly`), times a clear-sky index
      ``kc = 0.20 + 0.86 * Phi(m(doy) + 0.8 x)`` (:func:`_clearsky_index`),
      where ``x`` mixes a daily Gaussian AR(1) process (phi 0.6 day to day,
      weight 0.8) and an hourly one (phi 0.8, weight 0.6).  ``m(doy)`` comes
      from :data:`MONTHLY_CLEARSKY_INDEX` (cloudy winter monsoon, June rainy
      season) and is shifted per month (root finding) so that every month's
      energy-weighted clear-sky index equals its target exactly: the seed
      changes the hour-to-hour pattern, not the monthly totals.  GHI is split
      into DNI and DHI with :func:`pvlib.irradiance.erbs` at the
      representative solar position of the hour (:func:`_split_irradiance`).
    * **Typhoons** (:func:`_typhoons`): a Poisson number (mean 3) of events
      between mid July and mid October, each a Gaussian bump (sigma 15 h)
      that raises wind speed by 12-25 m/s at its peak and dims ``kc`` by up
      to 80 %.
    * **Air temperature** (:func:`_temperature`): annual mean 22.5 °C,
      seasonal half-range 6.5 °C (minimum on 1 Feb), a daily AR(1) anomaly
      (phi 0.7, sd 1.2 °C) and a diurnal cycle peaking at 14:00 with
      half-range ``2.5 * (0.5 + 0.6 * kc_day)`` °C.
    * **Wind speed** at 10 m (:func:`_wind`): a Gaussian process (daily AR(1)
      phi 0.7, weight 0.5, plus hourly AR(1) phi 0.72) mapped through the
      normal CDF: its lowest 13 % are calm (reported 0), the rest follow a
      Weibull distribution (shape 3.0 within a month; about 2.0 over the
      year once months of different means are mixed), with a +-8 %
      afternoon sea-breeze cycle, scaled so that each month's mean equals
      :data:`MONTHLY_WIND_SPEED` exactly; typhoons come on top (annual mean
      about 5.1 m/s).
    * **Pressure**: :func:`pvlib.atmosphere.alt2pres` of ``altitude``
      (101325 Pa at sea level), constant.

    The shape parameters are calibrated (issue 11) so that the clear-sky
    index below 0.2, Weibull k, hour-to-hour wind autocorrelation and calm
    share lie within 25 % of a real year's (pvlib's TMY3 files; table in
    profiles/weather/README.md, :mod:`sim.inputs.weather.stats`).

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
    rng = np.random.default_rng(seed)
    pressure = float(pvlib.atmosphere.alt2pres(altitude))
    # one SPA evaluation serves the clear sky and the hourly sun position:
    # the same times, pressure and temperature (12 °C, pvlib's default)
    positions = pvlib.solarposition.get_solarposition(
        sample_times(index), latitude, longitude, altitude, pressure=pressure,
        temperature=_SPA_TEMPERATURE)
    ghi_cs = _clear_sky_hourly(index, positions, altitude, pressure)
    bump, wind_boost = _typhoons(rng, len(index))
    kc = _clearsky_index(rng, index, ghi_cs, bump)
    ghi = ghi_cs * kc
    dni, dhi = _split_irradiance(index, ghi, latitude, longitude, altitude,
                                 pressure, positions)
    temp_air = _temperature(rng, index, kc)
    wind = _wind(rng, index) + wind_boost
    df = pd.DataFrame({"ghi": ghi, "dni": dni, "dhi": dhi,
                       "temp_air": temp_air, "wind_speed": wind,
                       "pressure": np.full(len(index), pressure)}, index=index)
    df.attrs = {
        "source": (f"synthetic: pvlib Ineichen clear-sky x seeded AR(1) cloud "
                   f"model, humid subtropical Japanese island climatology, "
                   f"seed {seed}"),
        "synthetic": True,
        "wind_height": 10.0,
        "repairs": [],
        "site": None,
    }
    return df


def _days(index):
    """Day of year (float), local hour (float), day number (int) per hour."""
    doy = np.asarray(index.day_of_year, dtype=float)
    return doy, np.asarray(index.hour, dtype=float), \
        np.asarray(index.day_of_year) - 1


def _clear_sky_hourly(index, sp, altitude, pressure):
    """Ineichen clear-sky GHI, hour means by Simpson's rule. [W/m2]

    ``sp`` is the sun's position at :func:`sample_times` of ``index``: the
    starts, the last end and the middles of the hours.
    """
    n, ndays = len(index), len(index) // 24
    times = sp.index
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
    return (g[:n] + g[1:n + 1] + 4.0 * g[n + 1:]) / 6.0


def _typhoons(rng, n):
    """Poisson(3) typhoons mid Jul-Oct: cloud dimming bump, wind boost [m/s]."""
    t_hours = np.arange(n, dtype=float)
    n_typhoon = rng.poisson(3.0)
    centres = rng.uniform(196 * 24, 288 * 24, size=n_typhoon)
    peaks = rng.uniform(12.0, 25.0, size=n_typhoon)
    bump = np.zeros(n)
    wind_boost = np.zeros(n)
    for c, p in zip(centres, peaks):
        b = np.exp(-0.5 * ((t_hours - c) / 15.0) ** 2)
        bump = np.maximum(bump, b)
        wind_boost += p * b
    return bump, wind_boost


def _kc_of(latent, dim):
    return (_KC_MIN + (_KC_MAX - _KC_MIN) * special.ndtr(latent)) * dim


def _clearsky_index(rng, index, ghi_cs, bump):
    """Hourly clear-sky index, each month's energy-weighted mean on target."""
    doy, _, day = _days(index)
    n, ndays = len(index), len(index) // 24
    kc_mean = _periodic_daily(MONTHLY_CLEARSKY_INDEX, doy, ndays)
    q = np.clip((kc_mean - _KC_MIN) / (_KC_MAX - _KC_MIN), 1e-6, 1 - 1e-6)
    m = special.ndtri(q) * math.sqrt(1.0 + _KC_SPREAD ** 2)
    x = _KC_DAILY[1] * _ar1(rng, ndays + 1, _KC_DAILY[0])[day] + \
        _KC_HOURLY[1] * _ar1(rng, n, _KC_HOURLY[0])
    latent = m + _KC_SPREAD * x
    dim = 1.0 - 0.8 * bump
    # per-month latent offset so that the energy-weighted clear-sky index of
    # every month equals its target exactly (the seed changes the pattern,
    # not the monthly totals)
    month = np.asarray(index.month) - 1
    offset = np.zeros(12)
    for k in range(12):
        sel = month == k
        w = ghi_cs[sel]
        if w.sum() <= 0:  # polar night: nothing to match
            continue

        def excess(d, lat_k=latent[sel], dim_k=dim[sel], w=w, k=k):
            return np.dot(w, _kc_of(lat_k + d, dim_k)) / w.sum() - \
                MONTHLY_CLEARSKY_INDEX[k]

        if excess(-8.0) < 0 < excess(8.0):
            offset[k] = optimize.brentq(excess, -8.0, 8.0, xtol=1e-6)
    return _kc_of(latent + offset[month], dim)


def _split_irradiance(index, ghi, latitude, longitude, altitude, pressure,
                      positions):
    """DNI and DHI from GHI with Erbs at the hour's sun position. [W/m2]"""
    doy, _, _ = _days(index)
    pos = solar_position_hourly(index, latitude, longitude, altitude,
                                pressure=pressure, temperature=_SPA_TEMPERATURE,
                                positions=positions)
    zen = pos["zenith"].to_numpy()
    parts = pvlib.irradiance.erbs(ghi, zen, doy)
    dni = np.nan_to_num(np.asarray(parts["dni"], dtype=float), nan=0.0)
    dni = np.where(ghi > 0, dni, 0.0)
    cosz = np.cos(np.radians(zen))
    dhi = np.where(ghi > 0, ghi - dni * np.maximum(cosz, 0.0), 0.0)
    return dni, dhi


def _temperature(rng, index, kc):
    """Seasonal + daily AR(1) anomaly + diurnal cycle (larger when clear). [°C]"""
    doy, hour, day = _days(index)
    ndays = len(index) // 24
    daily_kc = np.bincount(day, weights=kc, minlength=ndays) / 24.0
    seasonal = _TEMP_MEAN - _TEMP_AMPLITUDE * np.cos(
        2 * np.pi * (doy - _TEMP_COLDEST_DOY) / ndays)
    anomaly = 1.2 * _ar1(rng, ndays + 1, 0.7)[day]
    diurnal = _TEMP_DIURNAL * (0.5 + 0.6 * daily_kc[day]) * np.cos(
        2 * np.pi * (hour - 14.0) / 24.0)
    return seasonal + anomaly + diurnal


def _wind(rng, index):
    """Wind at 10 m before typhoons: calms, Weibull, sea breeze, monthly means."""
    doy, hour, day = _days(index)
    n, ndays = len(index), len(index) // 24
    z = _WIND_DAILY[1] * _ar1(rng, ndays + 1, _WIND_DAILY[0])[day] + \
        _WIND_HOURLY[1] * _ar1(rng, n, _WIND_HOURLY[0])
    u = special.ndtr(z)
    # the lowest quantiles are calm (an anemometer reports 0 below its
    # threshold); the rest follow the Weibull distribution
    calm = u < _CALM_SHARE
    uw = np.clip((u - _CALM_SHARE) / (1.0 - _CALM_SHARE), 0.0, 1.0 - 1e-12)
    wind = np.where(calm, 0.0, (-np.log1p(-uw)) ** (1.0 / _WEIBULL_K))
    wind = wind * (1.0 + 0.08 * np.cos(2 * np.pi * (hour - 14.0) / 24.0))
    # match each month's mean (before typhoons) to its target exactly
    month = np.asarray(index.month) - 1
    got = np.bincount(month, weights=wind, minlength=12) / \
        np.bincount(month, minlength=12)
    return wind * (MONTHLY_WIND_SPEED / got)[month]
