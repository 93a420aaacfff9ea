"""Weather years: file readers and an embedded synthetic default year.

Every weather year used by gxsim is a :class:`pandas.DataFrame` with one row
per hour of the *calendar* year (8760 rows, 8784 in a leap year), a tz-aware
index whose labels are the START of each hourly interval, and the columns

==============  ==========================================================
``ghi``         Global horizontal irradiance, mean over the hour. [W/m2]
``dni``         Direct normal irradiance, mean over the hour. [W/m2]
``dhi``         Diffuse horizontal irradiance, mean over the hour. [W/m2]
``temp_air``    Air temperature. [°C]
``wind_speed``  Wind speed at ``attrs["wind_height"]``. [m/s]
``pressure``    Air pressure. [Pa]
==============  ==========================================================

``df.attrs`` holds ``source`` (str), ``synthetic`` (bool), ``wind_height``
(float, [m]) and ``repairs`` (list of str: every change made to the file's
data, e.g. mapping a typical year onto the requested year, filling 29 Feb).

Sources
-------
* ``None`` / ``"default"``: a synthetic year for a humid subtropical Japanese
  remote island, computed for the requested site and year
  (:func:`synthetic_year`).  No real Japanese hourly year can be shipped
  offline; the synthetic year says so in ``attrs``.
* ``*.epw``: EnergyPlus weather, read with :func:`pvlib.iotools.read_epw`.
* ``*.csv`` whose second line starts with ``Date (MM/DD/YYYY)``: NREL TMY3,
  read with :func:`pvlib.iotools.read_tmy3`.
* any other ``*.csv``: a plain CSV, see :func:`read_plain_csv`.

Time conventions (all explicit)
-------------------------------
* EPW and TMY3 files label each record with the END of its hour (EPW hour 1,
  TMY3 ``01:00`` = 00:00–01:00 local standard time).  They are relabelled to
  the interval start.  Irradiance in both formats is the mean (energy) over
  that hour; temperature and wind are taken as representative of the hour.
* EPW/TMY3 times are local standard time of the file's fixed UTC offset; they
  are converted to ``timezone``.  A typical year only covers the calendar year
  of its own offset, so after conversion the hours that fall outside the
  calendar year in ``timezone`` are wrapped round to the other end of the year
  (a typical year is cyclic); this is recorded in ``repairs``.
* Typical-year files mix source years; records are mapped by (month, day,
  hour) onto ``year`` and the mapping is recorded.  If ``year`` is a leap year
  and the file has no 29 February, 29 February is filled with a copy of
  28 February (recorded); if the file has 29 February and ``year`` is not a
  leap year, those 24 hours are dropped (recorded).
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from scipy import optimize, signal, special

from sim.errors import InputError

__all__ = [
    "COLUMNS",
    "DEFAULT_SEED",
    "DEFAULT_WIND_HEIGHT",
    "load_weather",
    "synthetic_year",
    "read_plain_csv",
    "year_index",
    "solar_position_hourly",
    "validate_weather",
]

#: Columns of every weather DataFrame, in order.
COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed", "pressure")

#: Seed of the synthetic default year.
DEFAULT_SEED = 2030

#: Wind measurement height assumed when a file does not state it. [m]
#: EPW and TMY3 specify wind speed at 10 m (WMO standard anemometer height).
DEFAULT_WIND_HEIGHT = 10.0

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


def year_index(year, timezone="Asia/Tokyo"):
    """Hourly index of one calendar year, labels at interval starts.

    Parameters
    ----------
    year : int
        Calendar year.
    timezone : str, default "Asia/Tokyo"
        IANA time zone of the labels.

    Returns
    -------
    pandas.DatetimeIndex
        8760 (8784 in a leap year) tz-aware hourly labels from
        ``year-01-01 00:00`` up to, not including, ``year+1-01-01 00:00``.

    Raises
    ------
    InputError
        If ``year`` is not an integer in 1901..2199 or ``timezone`` unknown.
    """
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)) \
            or not 1901 <= int(year) <= 2199:
        raise InputError(f"expected an integer year in 1901..2199, got {year!r}",
                         field="year")
    year = int(year)
    try:
        start = pd.Timestamp(year=year, month=1, day=1).tz_localize(timezone)
        end = pd.Timestamp(year=year + 1, month=1, day=1).tz_localize(timezone)
    except Exception as exc:  # unknown zone names raise several types
        raise InputError(f"expected an IANA time zone such as 'Asia/Tokyo', "
                         f"got {timezone!r}", field="timezone") from exc
    return pd.date_range(start, end, freq="h", inclusive="left", name="time")


def _check_site(latitude, longitude, altitude):
    for name, value, lo, hi in (("latitude", latitude, -90, 90),
                                ("longitude", longitude, -180, 180),
                                ("altitude", altitude, -500, 9000)):
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = float("nan")
        if not (lo <= v <= hi):
            raise InputError(f"expected {name} in [{lo}, {hi}], got {value!r}",
                             field=name)


def solar_position_hourly(index, latitude, longitude, altitude=0.0,
                          pressure=None, temperature=12.0):
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
    # positions at starts (n), the last end (1) and middles (n) in one call
    times = index.append(index[-1:] + hour).append(index + hour / 2)

    def _per_time(x, extra):
        x = np.asarray(x, dtype=float)
        if x.ndim == 0:
            return x
        return np.concatenate([x, x[-1:], x])[: len(extra)]

    sp = pvlib.solarposition.get_solarposition(
        times, latitude, longitude, altitude,
        pressure=_per_time(pressure, times),
        temperature=_per_time(temperature, times))
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


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------

# plausible physical ranges; EPW/TMY3 missing-value codes (9999, 999, 99.9,
# 999999, -9900) fall outside them
_RANGES = {"ghi": (0.0, 1500.0), "dni": (0.0, 1500.0), "dhi": (0.0, 1000.0),
           "temp_air": (-90.0, 70.0), "wind_speed": (0.0, 90.0),
           "pressure": (30000.0, 120000.0)}


def _check_values(df, source):
    for col in COLUMNS:
        if col not in df.columns:
            raise InputError(f"missing column {col!r}; expected columns "
                             f"{', '.join(COLUMNS)}", source=source, field=col)
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            raise InputError(
                f"{bad.size} missing or non-numeric value(s), first at "
                f"{df.index[bad[0]]}; expected a number in every hour",
                source=source, field=col)
        lo, hi = _RANGES[col]
        bad = np.flatnonzero((v < lo) | (v > hi))
        if bad.size:
            raise InputError(
                f"{bad.size} value(s) outside [{lo:g}, {hi:g}] (missing-value "
                f"code?), first {v[bad[0]]:g} at {df.index[bad[0]]}",
                source=source, field=col)


def validate_weather(weather, *, source=None, columns=COLUMNS):
    """Check a weather DataFrame and return it unchanged.

    Parameters
    ----------
    weather : pandas.DataFrame
        Hourly weather with a tz-aware, hourly, gap-free index.
    source : str, optional
        Name used in error messages.
    columns : sequence of str
        Columns that must be present and finite.

    Raises
    ------
    InputError
        If ``weather`` is not a DataFrame, its index is not tz-aware hourly
        without gaps, or a required column is missing or not finite.
    """
    if source is None and isinstance(weather, pd.DataFrame):
        source = weather.attrs.get("source")
    if not isinstance(weather, pd.DataFrame):
        raise InputError(f"expected a weather DataFrame, got "
                         f"{type(weather).__name__}", source=source)
    idx = weather.index
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
        raise InputError("expected a tz-aware DatetimeIndex (interval starts)",
                         source=source, field="index")
    if len(idx) < 1:
        raise InputError("expected at least one hour of weather",
                         source=source, field="index")
    if len(idx) > 1:
        d = np.diff(idx.asi8)
        if not np.all(d == 3600 * _unit_per_s(idx)):
            raise InputError("expected an hourly index without gaps or "
                             "duplicates", source=source, field="index")
    for col in columns:
        if col not in weather.columns:
            raise InputError(f"missing column {col!r}", source=source,
                             field=col)
        v = weather[col].to_numpy(dtype=float)
        if not np.all(np.isfinite(v)):
            raise InputError(f"non-finite value(s) in column {col!r}",
                             source=source, field=col)
    return weather


def _unit_per_s(idx):
    """Ticks per second of a DatetimeIndex's resolution (pandas >= 2)."""
    unit = getattr(idx, "unit", "ns")
    return {"s": 1, "ms": 10 ** 3, "us": 10 ** 6, "ns": 10 ** 9}[unit]


def _map_onto_year(df, local_start, source, year, repairs, label):
    """Map records keyed by local (month, day, hour) onto ``year``.

    Parameters
    ----------
    df : DataFrame
        The data columns, one row per record, in file order.
    local_start : DatetimeIndex
        Naive interval-start time of each record in the file's local clock.
    label : str
        Description of the file's clock, e.g. ``"UTC+09:00"`` for messages.
    """
    src_years = sorted(set(local_start.year.tolist()))
    key = (local_start.month * 10000 + local_start.day * 100
           + local_start.hour).to_numpy()
    if (local_start.minute != 0).any():
        raise InputError("expected hourly records on the hour",
                         source=source, field="time")
    uniq, counts = np.unique(key, return_counts=True)
    if (counts > 1).any():
        k = uniq[counts > 1][0]
        raise InputError(f"duplicate record for month {k // 10000} day "
                         f"{k // 100 % 100} hour {k % 100}; expected one "
                         f"record per hour", source=source, field="time")
    leap_target = pd.Timestamp(year=year, month=1, day=1).is_leap_year
    has_feb29 = bool(((local_start.month == 2) & (local_start.day == 29)).any())
    base_year = 2000 if has_feb29 else 2001  # a leap / non-leap template
    tmpl = pd.date_range(pd.Timestamp(year=base_year, month=1, day=1),
                         periods=8784 if has_feb29 else 8760, freq="h")
    tkey = (tmpl.month * 10000 + tmpl.day * 100 + tmpl.hour).to_numpy()
    missing = np.setdiff1d(tkey, uniq)
    if missing.size:
        k = missing[0]
        raise InputError(f"{missing.size} hour(s) missing, first month "
                         f"{k // 10000} day {k // 100 % 100} hour {k % 100}; "
                         f"expected a full year of hourly records",
                         source=source, field="time")
    extra = np.setdiff1d(uniq, tkey)
    if extra.size:  # cannot happen for valid dates, kept as a guard
        raise InputError("unexpected records outside a calendar year",
                         source=source, field="time")
    order = pd.Series(np.arange(len(key)), index=key)

    if src_years != [year]:
        repairs.append(f"mapped records of year(s) "
                       f"{', '.join(map(str, src_years))} onto {year} by "
                       f"(month, day, hour) in {label}")
    if leap_target and not has_feb29:
        repairs.append(f"filled 29 Feb {year} (24 h) with a copy of 28 Feb: "
                       f"the file has no 29 Feb")
    if has_feb29 and not leap_target:
        repairs.append(f"dropped the file's 24 hours of 29 Feb: {year} is "
                       f"not a leap year")

    # naive target clock in the file's frame
    target_local = pd.date_range(pd.Timestamp(year=year, month=1, day=1),
                                 pd.Timestamp(year=year + 1, month=1, day=1),
                                 freq="h", inclusive="left")
    src_key = (target_local.month * 10000 + target_local.day * 100
               + target_local.hour).to_numpy()
    feb29 = (target_local.month == 2) & (target_local.day == 29)
    src_key = np.where(feb29 & (not has_feb29),
                       src_key - 100,  # 29 Feb -> 28 Feb, same hour
                       src_key)
    rows = order.loc[src_key].to_numpy()
    return df.iloc[rows].set_axis(target_local)


def _to_timezone(df_local, offset_or_tz, year, timezone, repairs, source):
    """Localise a full local year and roll it onto ``timezone``'s year."""
    target = year_index(year, timezone)
    try:
        src = df_local.index.tz_localize(offset_or_tz)
    except Exception as exc:
        raise InputError(f"local times do not exist or are ambiguous in "
                         f"{offset_or_tz} (DST); give UTC offsets",
                         source=source, field="time") from exc
    n = len(target)
    delta_h, rem = divmod(int(src[0].timestamp()) - int(target[0].timestamp()),
                          3600)
    if rem:
        raise InputError(f"file time zone offset differs from {timezone} by a "
                         f"fraction of an hour; expected whole-hour offsets",
                         source=source, field="time")
    # target hour i corresponds to source hour (i - delta_h) mod n
    rows = (np.arange(n) - delta_h) % n
    if delta_h:
        k = abs(delta_h)
        if delta_h > 0:
            how = (f"the first {k} hour(s) of {year} in {timezone} were taken "
                   f"from the last {k} hour(s) of the file's year")
        else:
            how = (f"the last {k} hour(s) of {year} in {timezone} were taken "
                   f"from the first {k} hour(s) of the file's year")
        repairs.append(f"converted from {src.tz} to {timezone}; {how} "
                       f"(year treated as cyclic)")
    out = df_local.iloc[rows].set_axis(target)
    return out


def _fixed_offset(hours):
    return datetime.timezone(datetime.timedelta(hours=float(hours)))


def _finish(df, source, synthetic, wind_height, repairs):
    out = df.loc[:, list(COLUMNS)].astype("float64")
    out.index.name = "time"
    out.attrs = {"source": str(source), "synthetic": bool(synthetic),
                 "wind_height": float(wind_height), "repairs": list(repairs)}
    return out


def _read_epw(path, year, timezone, wind_height):
    try:
        data, meta = pvlib.iotools.read_epw(str(path))
    except Exception as exc:
        raise InputError(f"could not read as EPW ({exc.__class__.__name__}: "
                         f"{exc}); expected an EnergyPlus weather file",
                         source=path) from exc
    data = data.rename(columns={"atmospheric_pressure": "pressure"})
    repairs = []
    # EPW hour h (1..24) covers (h-1):00..h:00 local standard time; build the
    # interval start from the raw fields, not from the parsed index.
    try:
        local = pd.to_datetime(pd.DataFrame(
            {"year": data["year"].astype(int), "month": data["month"].astype(int),
             "day": data["day"].astype(int)})) + pd.to_timedelta(
            data["hour"].astype(int) - 1, unit="h")
    except Exception as exc:
        raise InputError("invalid date/hour fields; expected EPW year, month, "
                         "day, hour 1..24", source=path, field="time") from exc
    data = data.set_axis(pd.DatetimeIndex(local))
    _check_values(data, path)
    repairs.append("relabelled EPW hour-ending records to interval start")
    off = _fixed_offset(meta["TZ"])
    mapped = _map_onto_year(data, pd.DatetimeIndex(local), path, year,
                            repairs,
                            f"file local standard time (UTC{meta['TZ']:+g})")
    out = _to_timezone(mapped, off, year, timezone, repairs, path)
    wh = DEFAULT_WIND_HEIGHT if wind_height is None else wind_height
    return _finish(out, f"EPW {Path(path).name}: "
                   f"{str(meta.get('city', '')).strip(chr(34) + ' ')}",
                   False, wh, repairs)


def _read_tmy3(path, year, timezone, wind_height):
    try:
        data, meta = pvlib.iotools.read_tmy3(str(path), map_variables=True)
    except Exception as exc:
        raise InputError(f"could not read as TMY3 ({exc.__class__.__name__}: "
                         f"{exc}); expected an NREL TMY3 CSV", source=path) \
            from exc
    repairs = []
    # TMY3 'HH:MM' = end of the hour, 01:00..24:00 local standard time.
    try:
        date = pd.to_datetime(data["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
        hh = data["Time (HH:MM)"].str.split(":").str[0].astype(int)
    except Exception as exc:
        raise InputError("invalid Date/Time fields; expected MM/DD/YYYY and "
                         "HH:MM 01:00..24:00", source=path, field="time") \
            from exc
    if ((hh < 1) | (hh > 24)).any():
        raise InputError("expected hour-ending times 01:00..24:00",
                         source=path, field="Time (HH:MM)")
    local = pd.DatetimeIndex(date + pd.to_timedelta(hh - 1, unit="h"))
    data = data.set_axis(local)
    # TMY3 pressure is in mbar
    data["pressure"] = pd.to_numeric(data["pressure"], errors="coerce") * 100.0
    _check_values(data, path)
    repairs.append("relabelled TMY3 hour-ending records to interval start")
    repairs.append("converted TMY3 pressure from mbar to Pa")
    off = _fixed_offset(meta["TZ"])
    mapped = _map_onto_year(data, local, path, year, repairs,
                            f"file local standard time (UTC{meta['TZ']:+g})")
    out = _to_timezone(mapped, off, year, timezone, repairs, path)
    wh = DEFAULT_WIND_HEIGHT if wind_height is None else wind_height
    return _finish(out, f"TMY3 {Path(path).name}: "
                   f"{str(meta.get('Name', '')).strip(chr(34) + ' ')}",
                   False, wh, repairs)


def read_plain_csv(path, *, year, timezone="Asia/Tokyo", wind_height=None,
                   label="start"):
    """Read a plain hourly weather CSV.

    Format: a header row, then one row per hour with the columns ``time``,
    ``ghi``, ``dni``, ``dhi`` [W/m2, mean over the hour], ``temp_air`` [°C],
    ``wind_speed`` [m/s], ``pressure`` [Pa]; extra columns are ignored.
    ``time`` is an ISO 8601 timestamp.  With a UTC offset
    (``2030-01-01T00:00+09:00``) it is used as is; without one it is read as
    local time in ``timezone`` (recorded in ``repairs``).  By default each
    ``time`` is the START of its hour; pass ``label="end"`` for hour-ending
    files.  A full year of records is required; if the year differs from
    ``year`` the records are mapped onto ``year`` like a typical year.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    year : int
        Calendar year to return.
    timezone : str, default "Asia/Tokyo"
        Time zone of the result (and of naive timestamps).
    wind_height : float, optional
        Height of the wind measurement; default 10. [m]
    label : {"start", "end"}
        Whether ``time`` labels the start or the end of the hour.

    Returns
    -------
    pandas.DataFrame
        See the module docstring.

    Raises
    ------
    InputError
        On a missing column, a missing or implausible value, an unparseable
        time, duplicate or missing hours.
    """
    path = Path(path)
    if label not in ("start", "end"):
        raise InputError(f"expected label 'start' or 'end', got {label!r}",
                         field="label")
    try:
        raw = pd.read_csv(path)
    except Exception as exc:
        raise InputError(f"could not read CSV ({exc.__class__.__name__}); "
                         f"expected a header row with columns time, "
                         f"{', '.join(COLUMNS)}", source=path) from exc
    if "time" not in raw.columns:
        raise InputError(f"missing column 'time'; expected columns time, "
                         f"{', '.join(COLUMNS)}", source=path, field="time")
    repairs = []
    try:
        try:
            t = pd.DatetimeIndex(pd.to_datetime(raw["time"], format="ISO8601"))
            mixed = False
        except ValueError as exc:  # mixed UTC offsets (e.g. across DST)
            if "utc=True" not in str(exc):
                raise
            t = pd.DatetimeIndex(pd.to_datetime(raw["time"], format="ISO8601",
                                                utc=True))
            mixed = True
    except Exception as exc:
        raise InputError("could not parse times; expected ISO 8601 such as "
                         "2030-01-01T00:00+09:00", source=path,
                         field="time") from exc
    if t.tz is None:
        frame = timezone
        repairs.append(f"read naive times as local time in {timezone}")
        local = t
    elif mixed:
        frame = "UTC"
        local = t.tz_localize(None)
    else:
        frame = t.tz
        local = t.tz_localize(None)
    if label == "end":
        local = local - pd.Timedelta(hours=1)
        repairs.append("relabelled hour-ending records to interval start")
    data = raw.set_axis(local)
    _check_values(data, path)
    # the file already holds exactly the requested calendar year: no mapping
    target = year_index(year, timezone)
    try:
        instants = local.tz_localize(frame).tz_convert(timezone)
    except Exception:  # naive times in a DST gap/overlap: mapped below
        instants = None
    if instants is not None and len(instants) == len(target) \
            and instants.is_unique and instants.sort_values().equals(target):
        order = np.argsort(instants.asi8, kind="stable")
        out = data.iloc[order].set_axis(target)
        wh = DEFAULT_WIND_HEIGHT if wind_height is None else wind_height
        return _finish(out, f"CSV {path.name}", False, wh, repairs)
    mapped = _map_onto_year(data, local, path, year, repairs, f"{frame}")
    out = _to_timezone(mapped, frame, year, timezone, repairs, path)
    wh = DEFAULT_WIND_HEIGHT if wind_height is None else wind_height
    return _finish(out, f"CSV {path.name}", False, wh, repairs)


def load_weather(source=None, *, latitude, longitude, altitude=0.0, year,
                 timezone="Asia/Tokyo", wind_height=None, seed=DEFAULT_SEED):
    """Load an hourly weather year.

    Parameters
    ----------
    source : str, Path or None
        ``None`` or ``"default"`` for the synthetic default year
        (:func:`synthetic_year`); a path ending ``.epw`` (EnergyPlus), or
        ``.csv`` (NREL TMY3 if its second line starts with
        ``Date (MM/DD/YYYY)``, else a plain CSV, see :func:`read_plain_csv`).
    latitude, longitude : float
        Site position, north and east positive. [°]  Used by the synthetic
        year; for files the file's own data are used as they are.
    altitude : float, default 0
        Site altitude. [m]
    year : int
        Calendar year to return (8760 h, 8784 h if leap).
    timezone : str, default "Asia/Tokyo"
        Time zone of the returned index.
    wind_height : float, optional
        Override the wind measurement height. [m]  Default: 10 m for EPW and
        TMY3 (their specification) and plain CSV, 10 m for the synthetic year.
    seed : int, default :data:`DEFAULT_SEED`
        Seed of the synthetic year.

    Returns
    -------
    pandas.DataFrame
        ``len == 8760`` (8784), tz-aware index in ``timezone`` labelling
        interval starts, columns ``ghi, dni, dhi`` [W/m2], ``temp_air``
        [°C], ``wind_speed`` [m/s], ``pressure`` [Pa]; ``attrs``
        ``source, synthetic, wind_height, repairs``.

    Raises
    ------
    InputError
        Unknown source, unreadable file, missing column or value, missing
        hours, bad site, year or time zone.
    """
    _check_site(latitude, longitude, altitude)
    year_index(year, timezone)  # validates year and timezone early
    if wind_height is not None:
        try:
            ok = float(wind_height) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(f"expected a positive wind height in m, got "
                             f"{wind_height!r}", field="wind_height")
    if source is None or (isinstance(source, str) and source == "default"):
        df = synthetic_year(latitude=latitude, longitude=longitude,
                            altitude=altitude, year=year, timezone=timezone,
                            seed=seed)
        if wind_height is not None:
            df.attrs["wind_height"] = float(wind_height)
        return df
    path = Path(source)
    if not path.is_file():
        raise InputError("weather file not found; expected an existing .epw "
                         "or .csv file, or 'default'", source=path)
    suffix = path.suffix.lower()
    if suffix == ".epw":
        return _read_epw(path, year, timezone, wind_height)
    if suffix == ".csv":
        with open(path, encoding="utf-8", errors="replace") as fh:
            fh.readline()
            second = fh.readline()
        if second.startswith("Date (MM/DD/YYYY)"):
            return _read_tmy3(path, year, timezone, wind_height)
        return read_plain_csv(path, year=year, timezone=timezone,
                              wind_height=wind_height)
    raise InputError(f"unknown weather file type {suffix!r}; expected .epw or "
                     f".csv", source=path)
