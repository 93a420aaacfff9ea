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
(float, [m]), ``repairs`` (list of str: every change made to the file's
data, e.g. mapping a typical year onto the requested year, filling 29 Feb),
``site`` (the file header's station: name, latitude, longitude, altitude,
utc_offset; ``None`` if the source states none) and, after
:func:`load_weather`, ``checks`` (notes of the site and clock checks,
:mod:`sim.inputs.weather.checks`).

Package layout: ``frame`` (columns, index, value checks), ``sunpos`` (solar
position per hour), ``yearmap`` (typical year onto a calendar year and time
zone), ``files`` (EPW, TMY3, TMY2, plain CSV), ``jma`` (JMA past-data CSV),
``metpv`` (NEDO METPV-11 / METPV-20), ``synthetic`` (the default year), ``checks``
(site distance and clock).

Sources
-------
* ``None`` / ``"default"``: a synthetic year for a humid subtropical Japanese
  remote island, computed for the requested site and year
  (:func:`synthetic_year`).  No real Japanese hourly year can be shipped
  offline; the synthetic year says so in ``attrs``.
* ``*.epw``: EnergyPlus weather, read with :func:`pvlib.iotools.read_epw`.
* ``*.csv`` whose second line starts with ``Date (MM/DD/YYYY)``: NREL TMY3,
  read with :func:`pvlib.iotools.read_tmy3`.
* ``*.tm2``: NREL TMY2, read with :func:`pvlib.iotools.read_tmy2`.
* ``*.csv`` starting ``ダウンロードした時刻``: the Japan Meteorological
  Agency's past-data download (Shift-JIS), :mod:`sim.inputs.weather.jma`.
* ``*.txt`` / ``*.met``: NEDO METPV-11 or METPV-20 hourly file, :mod:`sim.inputs.weather.metpv`.
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

from pathlib import Path

from sim.errors import InputError
from sim.io import check_input_file
from sim.inputs.weather.frame import (COLUMNS, DEFAULT_WIND_HEIGHT, _check_site, validate_weather,
                                      year_index)
from sim.inputs.weather import jma, metpv
from sim.inputs.weather.checks import (DEFAULT_CLOCK_TOLERANCE_H, DEFAULT_MAX_DISTANCE_KM,
                                       check_clock, check_site)
from sim.inputs.weather.files import _read_epw, _read_tmy2, _read_tmy3, read_plain_csv
from sim.inputs.weather.sunpos import solar_position_hourly
from sim.inputs.weather.synthetic import DEFAULT_SEED, synthetic_year

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


def load_weather(source=None, *, latitude, longitude, altitude=0.0, year,
                 timezone="Asia/Tokyo", wind_height=None, seed=DEFAULT_SEED,
                 max_distance_km=DEFAULT_MAX_DISTANCE_KM, distant_ok=False,
                 clock_tolerance_h=DEFAULT_CLOCK_TOLERANCE_H, min_quality=5):
    """Load an hourly weather year and check it against the site.

    Parameters
    ----------
    source : str, Path or None
        ``None`` or ``"default"`` for the synthetic default year
        (:func:`synthetic_year`); a path ending ``.epw`` (EnergyPlus),
        ``.tm2`` (NREL TMY2), ``.csv`` (NREL TMY3 if its second line starts
        with ``Date (MM/DD/YYYY)``; a JMA past-data download if it starts
        with ``ダウンロードした時刻`` (:mod:`sim.inputs.weather.jma`); else a
        plain CSV, see :func:`read_plain_csv`), or a NEDO METPV-11 / METPV-20 file
        (``.txt`` / ``.met``, :mod:`sim.inputs.weather.metpv`).
    latitude, longitude : float
        Site position, north and east positive. [°]  The synthetic year is
        computed there; a file's header site is compared with it.
    altitude : float, default 0
        Site altitude. [m]
    year : int
        Calendar year to return (8760 h, 8784 h if leap).
    timezone : str, default "Asia/Tokyo"
        Time zone of the returned index.
    wind_height : float, optional
        Override the wind measurement height. [m]  Default: 10 m.
    seed : int, default :data:`DEFAULT_SEED`
        Seed of the synthetic year.
    max_distance_km : float, default 50
        Largest distance between the file's station and the site. [km]
    distant_ok : bool, default False
        Use a file from further away on purpose (reported, not refused).
    clock_tolerance_h : float, default 0.75
        Largest shift of the daily irradiance centroid from solar noon. [h]
        0.75 h rather than the issue's 1 h: hour-ending labels read as
        hour-starting measure +1.0 h, on a 1 h limit's boundary; correct
        files measure within 0.1 h (``[weather] clock_tolerance_h``).
    min_quality : int, default 5
        Lowest JMA quality flag (品質情報) accepted as usable.

    Returns
    -------
    pandas.DataFrame
        ``len == 8760`` (8784), tz-aware index in ``timezone`` labelling
        interval starts, columns ``ghi, dni, dhi`` [W/m2], ``temp_air``
        [°C], ``wind_speed`` [m/s], ``pressure`` [Pa]; ``attrs``
        ``source, synthetic, wind_height, repairs, site`` and ``checks``
        (notes of the site and clock checks).

    Raises
    ------
    InputError
        Unknown source, unreadable file, missing column or value, missing
        hours, bad site, year or time zone; a file station too far from the
        site; a clock shifted from solar noon.
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
    else:
        df = _read_file(Path(source), year, timezone, wind_height, min_quality,
                        (latitude, longitude, altitude))
    checks = check_site(df, latitude=latitude, longitude=longitude,
                        altitude=altitude, max_distance_km=max_distance_km,
                        distant_ok=distant_ok, source=source)
    checks += check_clock(df, latitude=latitude, longitude=longitude,
                          tolerance_h=clock_tolerance_h,
                          source=None if source in (None, "default") else source)
    df.attrs["checks"] = checks
    return df


def _read_file(path, year, timezone, wind_height, min_quality, site):
    """Pick the reader of a weather file by its suffix and first lines."""
    if path.exists():  # a FIFO, device, folder or huge file: refused unread
        check_input_file(path, "weather file", "weather")
    if not path.is_file():
        raise InputError("weather file not found; expected an existing .epw, "
                         ".tm2, .csv or METPV file, or 'default'", source=path)
    suffix = path.suffix.lower()
    if suffix == ".epw":
        return _read_epw(path, year, timezone, wind_height)
    if suffix == ".tm2":
        return _read_tmy2(path, year, timezone, wind_height)
    if suffix == ".csv":
        if jma.is_jma_csv(path):
            return jma.read_jma_csv(path, year=year, timezone=timezone,
                                    wind_height=wind_height,
                                    min_quality=min_quality, site=site)
        with open(path, encoding="utf-8", errors="replace") as fh:
            fh.readline()
            second = fh.readline()
        if second.startswith("Date (MM/DD/YYYY)"):
            return _read_tmy3(path, year, timezone, wind_height)
        return read_plain_csv(path, year=year, timezone=timezone,
                              wind_height=wind_height)
    if suffix in (".txt", ".met"):
        return metpv.read_metpv(path, year=year, timezone=timezone,
                                wind_height=wind_height)
    raise InputError(f"unknown weather file type {suffix!r}; expected .epw, "
                     f".tm2, .csv (TMY3, JMA or plain) or a METPV .txt",
                     source=path)
