"""NEDO METPV-11 hourly typical-year files (fixed-width text).

Layout as this project reads NEDO's METPV-11 documentation (check a real
file against it: the element codes and scales are in :data:`ELEMENTS`, one
place to correct):

* line 1, the station: columns 1-5 station number, 7-26 name, 27-31 latitude
  degrees, 32-36 latitude minutes, 37-41 longitude degrees, 42-46 longitude
  minutes, 47-54 elevation [m];
* then one line per element and day: columns 1-5 element code, 7-8 month,
  9-10 day, and from column 16 twenty-four 5-character fields (4-digit
  value + 1 remark character) for the hours 1-24 JST, each labelling the END
  of its hour; ``8888`` marks a missing value.

Elements used: 00001 global horizontal, 00003 diffuse horizontal (both
0.01 MJ/m2 per hour), 00005 air temperature (0.1 °C), 00007 wind speed
(0.1 m/s).  DNI is derived as ``(GHI - DHI) / cos(zenith)`` at the hour's
representative sun position, so the beam element's convention (normal or
horizontal) does not matter.  METPV-11 has no pressure: the pressure of the
station's elevation is used (recorded).  METPV-20 (other units and widths)
is not read yet: its layout could not be checked here.

The file is a typical year (no calendar year in it): it is mapped onto the
requested year like a TMY file (29 Feb filled from 28 Feb in a leap year).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from sim.errors import InputError
from sim.inputs.weather.frame import DEFAULT_WIND_HEIGHT, _check_values, _finish
from sim.inputs.weather.sunpos import solar_position_hourly
from sim.inputs.weather.yearmap import _fixed_offset, _map_onto_year, _to_timezone

__all__ = ["ELEMENTS", "parse_metpv", "read_metpv"]

#: element code -> (column, factor to SI: W/m2, °C, m/s)
ELEMENTS = {"00001": ("ghi", 0.01e6 / 3600.0),
            "00003": ("dhi", 0.01e6 / 3600.0),
            "00005": ("temp_air", 0.1),
            "00007": ("wind_speed", 0.1)}

_MISSING = 8888
_DAYS = pd.date_range("2001-01-01", "2001-12-31", freq="D")  # a common year


def _station(line, path):
    try:
        lat = float(line[26:31]) + float(line[31:36]) / 60.0
        lon = float(line[36:41]) + float(line[41:46]) / 60.0
        elev = float(line[46:54])
    except ValueError:
        raise InputError(f"station line not in the METPV layout: {line[:54]!r}; "
                         f"expected latitude/longitude degrees and minutes in "
                         f"columns 27-46 and elevation in 47-54",
                         source=path, field="line 1") from None
    return {"name": line[6:26].strip() or line[0:5].strip(), "latitude": lat,
            "longitude": lon, "altitude": elev, "utc_offset": 9.0}


def _day_values(line, path, lineno):
    try:
        month, day = int(line[6:8]), int(line[8:10])
        vals = [int(line[15 + 5 * h: 19 + 5 * h]) for h in range(24)]
    except ValueError:
        raise InputError(f"line not in the METPV layout (element, month, day, "
                         f"24 fields of 5 characters): {line[:40]!r}...",
                         source=path, field=f"line {lineno}") from None
    return month, day, np.array(vals, dtype=float)


def parse_metpv(path):
    """Parse a METPV-11 file into the station and hourly element values.

    Returns
    -------
    site : dict
        ``name, latitude, longitude, altitude, utc_offset``.
    data : pandas.DataFrame
        8760 rows, naive interval-start index in a common year (2001), the
        columns of :data:`ELEMENTS` in SI units, NaN where ``8888``.

    Raises
    ------
    InputError
        A malformed line, or a day of an element missing (truncated file).
    """
    path = Path(path)
    try:
        lines = path.read_bytes().decode("cp932").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"not Shift-JIS text at byte {exc.start}", source=path) from None
    if not lines:
        raise InputError("empty file; expected a METPV-11 station line", source=path)
    site = _station(lines[0], path)
    table = {code: {} for code in ELEMENTS}
    for lineno, line in enumerate(lines[1:], start=2):
        code = line[0:5]
        if code in table and line.strip():
            month, day, vals = _day_values(line, path, lineno)
            table[code][(month, day)] = vals
    cols = {}
    for code, (name, factor) in ELEMENTS.items():
        got = table[code]
        missing = [d for d in _DAYS if (d.month, d.day) not in got]
        if missing:
            raise InputError(f"element {code} ({name}) has {len(missing)} of 365 "
                             f"days missing, first {missing[0]:%m-%d}; the file "
                             f"looks truncated", source=path, field=code)
        v = np.concatenate([got[(d.month, d.day)] for d in _DAYS])
        cols[name] = np.where(v == _MISSING, np.nan, v * factor)
    index = pd.date_range("2001-01-01", periods=8760, freq="h")
    return site, pd.DataFrame(cols, index=index)


def read_metpv(path, *, year, timezone="Asia/Tokyo", wind_height=None):
    """A weather year from a NEDO METPV-11 file.

    Parameters
    ----------
    path : str or Path
    year : int
        Calendar year to return.
    timezone : str, default "Asia/Tokyo"
    wind_height : float, optional
        Height of the wind values; default 10 m. [m]

    Returns
    -------
    pandas.DataFrame
        The weather frame, ``attrs["site"]`` from the station line.

    Raises
    ------
    InputError
        Malformed or truncated file, missing (8888) values.
    """
    path = Path(path)
    site, df = parse_metpv(path)
    for col in df.columns:
        bad = np.flatnonzero(df[col].isna().to_numpy())
        if bad.size:
            raise InputError(f"{bad.size} missing value(s) (8888) in {col}, "
                             f"first at {df.index[bad[0]]:%m-%d %H:00}",
                             source=path, field=col)
    repairs = ["relabelled METPV hour-ending records (hours 1-24 JST) to "
               "interval start",
               f"METPV has no pressure: pressure of the station elevation "
               f"{site['altitude']:g} m used"]
    df["pressure"] = float(pvlib.atmosphere.alt2pres(site["altitude"]))
    idx = df.index.tz_localize(_fixed_offset(9))
    pos = solar_position_hourly(idx, site["latitude"], site["longitude"],
                                site["altitude"])
    cosz = np.cos(np.radians(pos["zenith"].to_numpy()))
    up = (pos["sunlit_fraction"].to_numpy() > 0) & (cosz > 0.0)
    beam_h = np.maximum(df["ghi"].to_numpy() - df["dhi"].to_numpy(), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        df["dni"] = np.where(up, np.minimum(beam_h / np.maximum(cosz, 0.0), 1400.0), 0.0)
    repairs.append("DNI derived as (GHI - DHI) / cos(zenith), capped at 1400 W/m2")
    _check_values(df, path)
    mapped = _map_onto_year(df, df.index, path, year, repairs,
                            "JST (UTC+9), typical year")
    out = _to_timezone(mapped, _fixed_offset(9), year, timezone, repairs, path)
    wh = DEFAULT_WIND_HEIGHT if wind_height is None else wind_height
    return _finish(out, f"METPV {path.name}: {site['name']}", False, wh,
                   repairs, site)
