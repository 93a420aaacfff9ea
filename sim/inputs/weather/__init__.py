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

from pathlib import Path

from sim.errors import InputError
from sim.inputs.weather.frame import (COLUMNS, DEFAULT_WIND_HEIGHT, _check_site, validate_weather,
                                      year_index)
from sim.inputs.weather.files import _read_epw, _read_tmy3, read_plain_csv
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
