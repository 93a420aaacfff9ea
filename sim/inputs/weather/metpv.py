"""NEDO METPV-11 and METPV-20 hourly typical-year files (fixed-width text).

Both databases of NEDO (日射量データベース) come as one text file per station
and year type (平均年 ``mea``, 多照年 ``max``, 寡照年 ``min``, e.g.
``mea47827.txt``), in the same fixed-width layout:

* line 1, the station: columns 1-5 station number, 7-26 name, 27-31
  latitude degrees, 32-36 latitude minutes (one decimal), 37-41 longitude
  degrees, 42-46 longitude minutes, 47-54 elevation [m];
* then one line of 160 characters per element and day: columns 1-5
  element code, 7-8 month, 9-10 day, 11-15 the anemometer height [m, with a
  decimal point] in METPV-11 or the representative year the day was taken
  from in METPV-20, then 24 hourly fields of 5 characters (4-character value
  + 1 remark character) for the hours 1-24 JST, each labelling the END of
  its hour, then five 5-character fields without remark: the day's maximum,
  minimum, total, mean (``8888`` where not given) and the day number
  (1-365).  ``8888`` in an hourly value marks a missing value.

Elements (METPV-11: 00001-00009; METPV-20 adds 00010): 00001 global
horizontal, 00002 direct (beam) on the horizontal, 00003 diffuse horizontal
(all 0.01 MJ/m2 per hour), 00004 sunshine duration (0.1 h), 00005 air
temperature (0.1 °C), 00006 wind direction (16 points), 00007 wind speed
(0.1 m/s), 00008 precipitation, 00009 snow depth, 00010 (METPV-20) the
possible sunshine duration.  gxsim uses 00001, 00003, 00005 and 00007 (the
scales in :data:`ELEMENTS`); the others are checked for layout only.  DNI is
derived as ``(GHI - DHI) / cos(zenith)`` at the hour's representative sun
position.  The files have no pressure: the pressure of the station's
elevation is used (recorded).  Wind is at the anemometer height the METPV-11
lines state; METPV-20 states none, so 10 m is assumed and said so (set
``[weather] wind_height_m`` for the station's real height).

Sources of this layout (no NEDO specification could be consulted here):

* ``stoneream/metpv-20-donwloader`` (GitHub), ``metpv/max/max11001.txt``, a
  METPV-20 file as served by NEDO's 日射量データベース閲覧システム: checked by
  hand against the layout above -- station line, 160-character day lines,
  10 elements, representative years 2011 ..., hourly sums equal to the
  day's total field to rounding, hour labels ending their hour (the possible
  sunshine duration, element 00010, is 0.8 h in hour 8 and 0 in hour 17 at
  Cape Soya on 1 January: sunrise about 07:05 and sunset about 16:05 JST);
* ``1sh1k4w4-r/metpv11-parser`` (GitHub, Scala), whose tests hold METPV-11
  header and day lines (anemometer height ``8.0`` in columns 11-15, nine
  elements, daily statistics and day number);
* the blog post https://smectic-g.hatenablog.jp/entry/2012/12/09/140445
  (METPV-11 fields and element list; it reads the remark character as a
  tenth digit, hence its units ten times finer than those used here, which
  the day totals in its own sample line confirm: 0.01 MJ/m2).

The file is a typical year (no calendar year of its own): it is mapped onto
the requested year like a TMY file (29 Feb filled from 28 Feb in a leap year).
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

__all__ = ["ELEMENTS", "LAYOUTS", "parse_metpv", "read_metpv"]

_MJ = 0.01e6 / 3600.0  # 0.01 MJ/m2 in an hour -> W/m2

#: element code -> (column, factor to SI: W/m2, °C, m/s): the elements used
ELEMENTS = {"00001": ("ghi", _MJ),
            "00003": ("dhi", _MJ),
            "00005": ("temp_air", 0.1),
            "00007": ("wind_speed", 0.1)}

#: layout -> element codes a file of that layout holds (one line each per day)
LAYOUTS = {"METPV-11": tuple(f"{k:05d}" for k in range(1, 10)),
           "METPV-20": tuple(f"{k:05d}" for k in range(1, 11))}

_MISSING = 8888
_LINE = 160  # 5 + 1 + 2 + 2 + 5 + 24 x 5 + 5 x 5 characters
_SUMMED = ("00001", "00002", "00003")  # hourly values add up to the day's total
_DAYS = pd.date_range("2001-01-01", "2001-12-31", freq="D")  # a common year
_DAY_NO = {(d.month, d.day): i + 1 for i, d in enumerate(_DAYS)}


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


def _layout_of(field, path, lineno):
    """METPV-11 (anemometer height, with a point) or METPV-20 (a year)."""
    text = field.strip()
    try:
        if "." in text:
            return "METPV-11", float(text)
        year = int(text)
    except ValueError:
        year = None
    if year is None or not 1900 <= year <= 2100:
        raise InputError(f"columns 11-15 hold {field!r}; expected the anemometer "
                         f"height (METPV-11, e.g. '  6.5') or a representative "
                         f"year (METPV-20, e.g. ' 2011')", source=path,
                         field=f"line {lineno}")
    return "METPV-20", float(year)


def _day_line(line, path, lineno):
    """(code, month, day, columns 11-15, 24 hourly values, day total)."""
    body = line.rstrip("\r\n")
    if len(body.rstrip()) < _LINE:
        raise InputError(f"{len(body.rstrip())} characters; a METPV day line has "
                         f"{_LINE} (element, month, day, 24 hourly fields, daily "
                         f"max/min/total/mean, day number): the file looks "
                         f"truncated", source=path, field=f"line {lineno}")
    try:
        month, day = int(line[6:8]), int(line[8:10])
        vals = [int(line[15 + 5 * h: 19 + 5 * h]) for h in range(24)]
        total, day_no = int(line[145:150]), int(line[155:160])
    except ValueError:
        raise InputError(f"not in the METPV layout (element, month, day, 24 "
                         f"fields of 5 characters, daily statistics): "
                         f"{line[:40]!r}...", source=path,
                         field=f"line {lineno}") from None
    if _DAY_NO.get((month, day)) != day_no:
        raise InputError(f"month {month}, day {day} with day number {day_no}; "
                         f"expected a day of a common year and its number 1-365",
                         source=path, field=f"line {lineno}")
    return line[0:5], month, day, line[10:15], np.array(vals, dtype=float), total


def _check_total(code, vals, total, path, lineno):
    # a wrong column split (remark read as a digit) is off by ~10x
    if code in _SUMMED and total != _MISSING and not (vals == _MISSING).any():
        if abs(vals.sum() - total) > 12:  # 24 values rounded to 0.5 each
            raise InputError(f"element {code}: the 24 hourly values add up to "
                             f"{vals.sum():g} but the day's total field says "
                             f"{total} (0.01 MJ/m2); the columns are not in the "
                             f"METPV layout", source=path, field=f"line {lineno}")


def _read_lines(lines, path):
    """Element tables from the day lines, the layout and columns 11-15."""
    layout, table, extra = None, {}, {}
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        code, month, day, field, vals, total = _day_line(line, path, lineno)
        kind, value = _layout_of(field, path, lineno)
        if layout is None:
            layout = kind
        elif kind != layout:
            raise InputError(f"columns 11-15 hold {field!r} ({kind}) but earlier "
                             f"lines are {layout}", source=path, field=f"line {lineno}")
        if code not in LAYOUTS[layout]:
            raise InputError(f"element code {code!r}; a {layout} file has "
                             f"{LAYOUTS[layout][0]}-{LAYOUTS[layout][-1]}",
                             source=path, field=f"line {lineno}")
        if (code, month, day) in table:
            raise InputError(f"element {code} for {month:02d}-{day:02d} a second "
                             f"time", source=path, field=f"line {lineno}")
        _check_total(code, vals, total, path, lineno)
        table[(code, month, day)] = vals
        extra[(code, month, day)] = value
    if layout is None:
        raise InputError("no day lines after the station line; the file looks "
                         "truncated", source=path, field=f"line {len(lines) + 1}")
    return layout, table, extra


def parse_metpv(path):
    """Parse a METPV-11 or METPV-20 file into the station and hourly values.

    Returns
    -------
    site : dict
        ``name, latitude, longitude, altitude, utc_offset`` and ``layout``
        (``"METPV-11"`` or ``"METPV-20"``), ``anemometer_m`` (METPV-11: the
        wind lines' heights, one per day [m]; METPV-20: None) and ``years``
        (METPV-20: the representative years; METPV-11: None).
    data : pandas.DataFrame
        8760 rows, naive interval-start index in a common year (2001), the
        columns of :data:`ELEMENTS` in SI units, NaN where ``8888``.

    Raises
    ------
    InputError
        A short or malformed line, an unknown element code, a day number or
        day total that does not fit, a day of an element missing (naming the
        line where the file ends).
    """
    path = Path(path)
    try:
        lines = path.read_bytes().decode("cp932").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"not Shift-JIS text at byte {exc.start}", source=path) from None
    if not lines:
        raise InputError("empty file; expected a METPV station line", source=path)
    site = _station(lines[0], path)
    layout, table, extra = _read_lines(lines, path)
    for code in LAYOUTS[layout]:
        missing = [d for d in _DAYS if (code, d.month, d.day) not in table]
        if missing:
            name = ELEMENTS.get(code, ("",))[0]
            raise InputError(f"element {code}{f' ({name})' if name else ''} has "
                             f"{len(missing)} of 365 days missing, first "
                             f"{missing[0]:%m-%d}; the file ends at line "
                             f"{len(lines)} and looks truncated", source=path,
                             field=f"line {len(lines)}")
    cols = {}
    for code, (name, factor) in ELEMENTS.items():
        v = np.concatenate([table[(code, d.month, d.day)] for d in _DAYS])
        cols[name] = np.where(v == _MISSING, np.nan, v * factor)
    col_11 = np.array([extra[("00007", d.month, d.day)] for d in _DAYS])
    site.update(layout=layout,
                anemometer_m=col_11 if layout == "METPV-11" else None,
                years=sorted({int(y) for y in col_11}) if layout == "METPV-20" else None)
    index = pd.date_range("2001-01-01", periods=8760, freq="h")
    return site, pd.DataFrame(cols, index=index)


def _wind_height(site, wind_height, repairs):
    """Height of the wind values: given, the METPV-11 anemometer, else 10 m."""
    if wind_height is not None:
        repairs.append(f"wind height {wind_height:g} m as given")
        return wind_height
    h = site["anemometer_m"]
    if h is None:
        repairs.append(f"{site['layout']} states no anemometer height: "
                       f"{DEFAULT_WIND_HEIGHT:g} m assumed (set [weather] "
                       f"wind_height_m to the station's)")
        return DEFAULT_WIND_HEIGHT
    med = float(np.median(h))
    if h.min() == h.max():
        repairs.append(f"wind at the file's anemometer height {med:g} m")
    else:
        repairs.append(f"anemometer height varies {h.min():g}-{h.max():g} m over "
                       f"the typical year; its median {med:g} m used for all hours")
    return med


def read_metpv(path, *, year, timezone="Asia/Tokyo", wind_height=None):
    """A weather year from a NEDO METPV-11 or METPV-20 file.

    Parameters
    ----------
    path : str or Path
    year : int
        Calendar year to return.
    timezone : str, default "Asia/Tokyo"
    wind_height : float, optional
        Height of the wind values [m]; default the anemometer height a
        METPV-11 file states, 10 m for METPV-20 (recorded).

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
    layout = site["layout"]
    repairs = [f"relabelled {layout} hour-ending records (hours 1-24 JST) to "
               f"interval start",
               f"{layout} has no pressure: pressure of the station elevation "
               f"{site['altitude']:g} m used"]
    if site["years"]:
        repairs.append(f"{layout} typical year built from the years "
                       f"{', '.join(map(str, site['years']))}")
    wh = _wind_height(site, wind_height, repairs)
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
    site_out = {k: site[k] for k in ("name", "latitude", "longitude", "altitude",
                                     "utc_offset")}
    return _finish(out, f"{layout} {path.name}: {site['name']}", False, wh,
                   repairs, site_out)
