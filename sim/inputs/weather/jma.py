"""Japan Meteorological Agency past-data download CSV (過去の気象データ・ダウンロード).

Layout, as described on the download page's help for the CSV file:

* Shift-JIS (cp932) text; line 1 ``ダウンロードした時刻：...``, then a blank
  line, a station line (the station name over every data column), an item
  line (``気温(℃)``, ``日射量(MJ/㎡)``, ``日照時間(時間)``, ``風速(m/s)``,
  ``現地気圧(hPa)``...) and one or two sub-header lines naming the helper
  columns of each item: ``品質情報`` (quality flag), ``均質番号``
  (homogeneity number), ``現象なし情報`` (phenomenon-absent flag) and, for
  wind, ``風向`` (direction, skipped here).
* One row per hour: ``2023/1/1 1:00:00`` ... ``2023/1/2 0:00:00``: the JMA
  hours 1-24 label the END of the hour in JST (UTC+9); hour 24 is written as
  0:00 of the next day.  They are relabelled to interval starts.
* Quality flags: 8 normal, 5 quasi-normal, 4 insufficient data, 2 doubtful,
  1 missing, 0 not observed.  A value whose flag is below ``min_quality``
  (default 5) is treated as missing and listed in ``repairs``; gaps of at
  most :data:`MAX_GAP_HOURS` hours are interpolated linearly (listed),
  longer gaps refuse the file.

Units: 日射量 is the hour's energy in MJ/m2 (``x 1e6 / 3600`` = mean W/m2),
気温 °C, 風速 m/s (10-minute mean at the anemometer's height, taken as
10 m), 現地気圧 hPa.  GHI is split into DNI and DHI with the Erbs model
(:func:`pvlib.irradiance.erbs`).  A station without radiation (most AMeDAS
stations) gets GHI from sunshine duration by the Angstrom-Prescott relation
``G = G0 (a + b n/N)`` with FAO-56's default a = 0.25, b = 0.50 (Allen et
al. 1998, FAO Irrigation and Drainage Paper 56, eq. 35), applied to each
hour with ``G0`` the extraterrestrial horizontal irradiance and ``N`` the
sunlit part of the hour; a file with neither radiation nor sunshine is
refused.  Without 現地気圧 the pressure of the site's altitude is used.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from sim.errors import InputError
from sim.inputs.weather.frame import DEFAULT_WIND_HEIGHT, _check_values, _finish
from sim.inputs.weather.sunpos import solar_position_hourly
from sim.inputs.weather.yearmap import _fixed_offset, _map_onto_year, _to_timezone

__all__ = ["is_jma_csv", "parse_jma_csv", "read_jma_csv", "MAX_GAP_HOURS",
           "ANGSTROM_A", "ANGSTROM_B"]

#: Longest run of missing hours that is interpolated. [h]
MAX_GAP_HOURS = 3

#: Angstrom-Prescott coefficients, FAO-56 defaults (eq. 35). [-]
ANGSTROM_A, ANGSTROM_B = 0.25, 0.50

_MARK = "ダウンロードした時刻"
_ITEMS = {"気温": "temp_air", "風速": "wind_speed", "全天日射量": "ghi",
          "日射量": "ghi", "日照時間": "sunshine", "現地気圧": "pressure"}
_SCALE = {"temp_air": 1.0, "wind_speed": 1.0, "ghi": 1e6 / 3600.0,
          "sunshine": 1.0, "pressure": 100.0}
_UNIT_TEXT = {"ghi": "MJ/m2", "sunshine": "h", "temp_air": "°C",
              "wind_speed": "m/s", "pressure": "hPa"}


def is_jma_csv(path):
    """Whether ``path`` starts like a JMA download CSV (Shift-JIS)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    return head.decode("cp932", errors="replace").lstrip("\ufeff").startswith(_MARK)


def _lines(path):
    try:
        text = Path(path).read_bytes().decode("cp932")
    except UnicodeDecodeError as exc:
        raise InputError(f"not Shift-JIS text at byte {exc.start}; expected "
                         f"the JMA download CSV as saved", source=path) from None
    return text.splitlines()


def _header_rows(lines, path):
    """Index of the first data row; the header rows lie between 2 and it."""
    for i, line in enumerate(lines[2:], start=2):
        first = line.split(",", 1)[0]
        if first and first[0].isdigit():
            if i < 5:
                break
            return i
    raise InputError("expected a station line, an item line, sub-header "
                     "lines and then hourly rows 'YYYY/M/D H:00:00'",
                     source=path)


def _columns(lines, start):
    """(item name, column) of every value column and its quality column."""
    rows = [ln.split(",") for ln in lines[2:start]]
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    items, subs = rows[1], [" ".join(x for x in col if x) for col in
                            zip(*rows[2:])]
    out = {}
    for j in range(1, width):
        name = items[j].split("(")[0]
        key = _ITEMS.get(name)
        if key is None or subs[j] or key in out:
            continue  # helper columns, wind direction, unknown items
        qual = next((k for k in range(j + 1, width) if items[k] == items[j]
                     and subs[k] == "品質情報"), None)
        out[key] = (items[j], j, qual)
    return out, rows[0][1] if rows and len(rows[0]) > 1 else ""


def parse_jma_csv(path, *, min_quality=5):
    """Read a JMA download CSV as it is (no year mapping, no repairs).

    Parameters
    ----------
    path : str or Path
    min_quality : int, default 5
        Lowest quality flag taken as usable; lower flags become NaN.

    Returns
    -------
    data : pandas.DataFrame
        Naive JST interval-start index; columns among ``ghi`` [W/m2],
        ``sunshine`` [h], ``temp_air`` [°C], ``wind_speed`` [m/s],
        ``pressure`` [Pa]; NaN where missing or flagged.
    flagged : dict
        Item -> list of interval starts whose value was flagged or empty.
    station : str
        The station name.
    """
    path = Path(path)
    lines = [ln for ln in _lines(path)]
    start = _header_rows(lines, path)
    cols, station = _columns(lines, start)
    if not cols:
        raise InputError("no known item (気温, 風速, 日射量, 日照時間, 現地気圧) "
                         "in the item line", source=path, field="line 4")
    raw = pd.read_csv(io.StringIO("\n".join(lines[start:])), header=None,
                      dtype=str, keep_default_na=False)
    # hour 24 may be written as 24:00 of the day or 0:00 of the next day
    stamp = raw[0].str.strip()
    h24 = stamp.str.contains(r" 24:00(?::00)?$", regex=True)
    stamp = stamp.str.replace(r" 24:00(?::00)?$", " 0:00:00", regex=True)
    try:
        end = pd.DatetimeIndex(pd.to_datetime(stamp, format="%Y/%m/%d %H:%M:%S")) + \
            pd.to_timedelta(h24.to_numpy().astype(int), unit="D")
    except (ValueError, TypeError) as exc:
        raise InputError(f"could not parse times ({exc}); expected "
                         f"'YYYY/M/D H:00:00'", source=path, field="年月日時") from None
    data, flagged = {}, {}
    for key, (item, j, q) in cols.items():
        v = pd.to_numeric(raw[j], errors="coerce").to_numpy(float) * _SCALE[key]
        usable = np.ones(len(v), bool) if q is None else \
            pd.to_numeric(raw[q], errors="coerce").fillna(0).to_numpy() >= min_quality
        if key in ("ghi", "sunshine"):
            # radiation and sunshine are left blank at night with a normal
            # flag: nothing to measure, i.e. zero
            v = np.where(usable & (raw[j].str.strip() == ""), 0.0, v)
        ok = np.isfinite(v) & usable
        v[~ok] = np.nan
        data[key] = v
        flagged[item] = list(end[~ok] - pd.Timedelta(hours=1))
    df = pd.DataFrame(data, index=end - pd.Timedelta(hours=1))
    return df, flagged, station


def _fill_gaps(df, flagged, path, repairs):
    """List flagged values; interpolate short gaps, refuse long ones."""
    for item, when in flagged.items():
        if when:
            shown = ", ".join(t.strftime("%m-%d %H:00") for t in when[:5])
            repairs.append(f"JMA {item}: {len(when)} value(s) missing or below "
                           f"the usable quality level, treated as missing "
                           f"(first: {shown})")
    for col in df.columns:
        miss = df[col].isna().to_numpy()
        if miss.all():
            raise InputError(f"all {len(miss)} values of {col} are missing or "
                             f"flagged below the usable quality level",
                             source=path, field=col)
        runs = np.diff(np.concatenate([[0], miss.astype(int), [0]]))
        starts, stops = np.flatnonzero(runs == 1), np.flatnonzero(runs == -1)
        longest = (stops - starts).max() if starts.size else 0
        if longest > MAX_GAP_HOURS:
            k = int(np.argmax(stops - starts))
            raise InputError(f"{col}: {longest} missing hours from "
                             f"{df.index[starts[k]]}; expected gaps of at most "
                             f"{MAX_GAP_HOURS} h (repair the data first)",
                             source=path, field=col)
        if starts.size:
            df[col] = df[col].interpolate(limit_direction="both")
            repairs.append(f"JMA {col}: {int(miss.sum())} missing hour(s) in "
                           f"gaps of at most {MAX_GAP_HOURS} h interpolated "
                           f"linearly")
    return df


def _ghi_from_sunshine(df, pos, repairs):
    """Angstrom-Prescott per hour: G = G0 (a + b n / N)."""
    doy = np.asarray((df.index + pd.Timedelta(minutes=30)).day_of_year)
    g0 = np.asarray(pvlib.irradiance.get_extra_radiation(doy), float) * \
        np.maximum(np.cos(np.radians(pos["zenith"].to_numpy())), 0.0)
    sunlit = pos["sunlit_fraction"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(sunlit > 0, np.clip(df["sunshine"].to_numpy() / sunlit,
                                             0, 1), 0.0)
    repairs.append(f"GHI estimated from sunshine duration by the "
                   f"Angstrom-Prescott relation per hour (a={ANGSTROM_A}, "
                   f"b={ANGSTROM_B}, FAO-56 eq. 35): the station has no "
                   f"radiation record")
    return g0 * sunlit * (ANGSTROM_A + ANGSTROM_B * ratio)


def _irradiance(df, pos, repairs):
    """Fill ``ghi`` (measured or from sunshine) and split it (Erbs)."""
    if "ghi" not in df.columns:
        df["ghi"] = _ghi_from_sunshine(df, pos, repairs)
    ghi = np.where(pos["sunlit_fraction"].to_numpy() > 0,
                   np.maximum(df["ghi"].to_numpy(), 0.0), 0.0)
    zen = pos["zenith"].to_numpy()
    doy = np.asarray((df.index + pd.Timedelta(minutes=30)).day_of_year)
    parts = pvlib.irradiance.erbs(ghi, zen, doy)
    dni = np.where(ghi > 0, np.nan_to_num(np.asarray(parts["dni"], float)), 0.0)
    cosz = np.maximum(np.cos(np.radians(zen)), 0.0)
    df["ghi"], df["dni"] = ghi, dni
    df["dhi"] = np.where(ghi > 0, np.maximum(ghi - dni * cosz, 0.0), 0.0)
    repairs.append("GHI split into DNI and DHI with the Erbs model "
                   "(pvlib.irradiance.erbs)")
    return df


def read_jma_csv(path, *, year, timezone="Asia/Tokyo", wind_height=None,
                 min_quality=5, site):
    """A weather year from a JMA past-data download CSV.

    Parameters
    ----------
    path : str or Path
    year : int
        Calendar year to return; a file of another year is mapped onto it.
    timezone : str, default "Asia/Tokyo"
    wind_height : float, optional
        Anemometer height; default 10 m. [m]
    min_quality : int, default 5
        Lowest usable quality flag (品質情報).
    site : tuple
        ``(latitude, longitude, altitude)`` of the scenario [°, °, m]: the
        solar geometry of the decomposition and of the sunshine method.

    Returns
    -------
    pandas.DataFrame
        The weather frame (see :mod:`sim.inputs.weather`).

    Raises
    ------
    InputError
        Unreadable file, an item missing or all flagged, a gap longer than
        :data:`MAX_GAP_HOURS`, neither radiation nor sunshine, not a full year.
    """
    path = Path(path)
    df, flagged, station = parse_jma_csv(path, min_quality=min_quality)
    repairs = ["relabelled JMA hour-ending records (hours 1-24 JST) to "
               "interval start"]
    for need in ("temp_air", "wind_speed"):
        if need not in df.columns:
            raise InputError(f"no {need} column (気温 / 風速) in the file",
                             source=path, field=need)
    if "ghi" not in df.columns and "sunshine" not in df.columns:
        raise InputError("neither 日射量 (radiation) nor 日照時間 (sunshine) in "
                         "the file: GHI cannot be estimated", source=path,
                         field="日射量")
    df = _fill_gaps(df, flagged, path, repairs)
    lat, lon, alt = site
    if "pressure" not in df.columns:
        df["pressure"] = float(pvlib.atmosphere.alt2pres(alt))
        repairs.append(f"no 現地気圧 in the file: pressure of the site's "
                       f"altitude {alt:g} m used")
    idx = df.index.tz_localize(_fixed_offset(9))
    pos = solar_position_hourly(idx, lat, lon, alt).set_axis(df.index)
    df = _irradiance(df, pos, repairs)
    _check_values(df, path)
    mapped = _map_onto_year(df, df.index, path, year, repairs, "JST (UTC+9)")
    out = _to_timezone(mapped, _fixed_offset(9), year, timezone, repairs, path)
    wh = DEFAULT_WIND_HEIGHT if wind_height is None else wind_height
    return _finish(out, f"JMA {path.name}: {station}", False, wh, repairs)
