"""Writers of MADE-UP weather files in the JMA download and METPV-11/-20 layouts.

Every value these write is made up (taken from gxsim's synthetic year); the
files only follow the published layouts so that the readers can be tested.
They are not JMA or NEDO data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

JMA_HEADER = [
    "ダウンロードした時刻：2030/01/01 00:00:00 (MADE-UP SAMPLE, not JMA data)",
    "",
]


def write_jma_csv(weather, path, *, station="架空島", radiation=True,
                  sunshine=False, ghi_flag=8, pressure=True):
    """Write ``weather`` (a JST year) as a JMA download CSV (Shift-JIS).

    ``ghi_flag`` is the quality flag written for every radiation value (an
    int, or an array per hour).
    """
    w = weather.tz_convert("Asia/Tokyo")
    end = w.index.tz_localize(None) + pd.Timedelta(hours=1)
    items, subs1, subs2, cols = ["年月日時"], [""], [""], []
    n = len(w)

    def add(item, values, fmt, flag=8, extra=()):
        items.extend([item] * (3 + len(extra)))
        subs1.extend([""] * 3 + [""] * len(extra))
        subs2.extend(["", "品質情報", "均質番号"] + [""] * len(extra))
        flags = np.broadcast_to(np.asarray(flag), (n,))
        cols.append([fmt(v) for v in values])
        cols.append([str(int(f)) for f in flags])
        cols.append(["1"] * n)

    add("気温(℃)", w["temp_air"], "{:.1f}".format)
    if radiation:
        mj = w["ghi"].to_numpy() * 3600 / 1e6
        add("日射量(MJ/㎡)", mj, lambda v: "" if v == 0 else f"{v:.2f}",
            flag=ghi_flag)
    if sunshine:
        kt = np.clip(w["ghi"].to_numpy() / 900.0, 0, 1)
        add("日照時間(時間)", kt, "{:.1f}".format)
    # wind: speed, its flag, direction, its flag, homogeneity
    items.extend(["風速(m/s)"] * 5)
    subs1.extend(["", "", "風向", "風向", ""])
    subs2.extend(["", "品質情報", "", "品質情報", "均質番号"])
    cols += [[f"{v:.1f}" for v in w["wind_speed"]], ["8"] * n, ["北"] * n,
             ["8"] * n, ["1"] * n]
    if pressure:
        add("現地気圧(hPa)", w["pressure"].to_numpy() / 100.0, "{:.1f}".format)
    lines = JMA_HEADER + [",".join([""] + [station] * (len(items) - 1)),
                          ",".join(items), ",".join(subs1), ",".join(subs2)]
    times = [f"{t.year}/{t.month}/{t.day} {t.hour}:00:00" for t in end]
    rows = zip(times, *cols)
    lines += [",".join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return path


def _metpv_day_line(code, d, col11, vals, summed):
    """One 160-character METPV day line (made-up values, published layout)."""
    hourly = "".join(f"{x:4d}{1 if x == 0 else 8}" for x in vals)
    total = int(vals.sum()) if summed else 8888
    mean = 8888 if summed else int(round(vals.mean()))
    stats = (f"{vals.max():5d}{8888 if summed else vals.min():5d}{total:5d}"
             f"{mean:5d}{d.day_of_year:5d}")
    return f"{code} {d.month:2d}{d.day:2d}{col11}{hourly}{stats}"


def write_metpv(weather, path, *, site=("99999", "MADEUP ISLAND", 27.37,
                                        128.57, 20.0), drop_days=0,
                layout="METPV-11", anemometer=6.5, codes=None):
    """Write a common-year JST ``weather`` as a METPV-11/-20 file (made up).

    The station line and 160-character day lines follow the published
    layout (``sim.inputs.weather.metpv``): a 4-character value and a remark
    character per hour, the day's max/min/total/mean and day number.
    ``layout="METPV-20"`` writes a representative year (2011..2018 by month)
    in columns 11-15 and ten elements; METPV-11 the ``anemometer`` height
    [m] and nine.  Elements gxsim does not use are written as zeros.
    ``drop_days`` leaves out the last days of every element (a truncated
    file); ``codes`` overrides the element codes written.
    """
    w = weather.tz_convert("Asia/Tokyo")
    num, name, lat, lon, elev = site
    head = (f"{num:>5} {name:<20}{int(lat):5d}{(lat - int(lat)) * 60:5.1f}"
            f"{int(lon):5d}{(lon - int(lon)) * 60:5.1f}{elev:8.1f}")
    lines = [head]
    scale = {"00001": ("ghi", 3600 / 0.01e6), "00003": ("dhi", 3600 / 0.01e6),
             "00005": ("temp_air", 10.0), "00007": ("wind_speed", 10.0)}
    n_codes = 10 if layout == "METPV-20" else 9
    codes = codes or [f"{k:05d}" for k in range(1, n_codes + 1)]
    arr = {}
    for code in codes:
        if code in scale:
            col, f = scale[code]
            arr[code] = np.rint(w[col].to_numpy()[:8760] * f).astype(int)
        else:
            arr[code] = np.zeros(8760, dtype=int)
    days = pd.date_range("2001-01-01", periods=365 - drop_days, freq="D")
    for d in days:
        col11 = (f"{2011 + d.month % 8:5d}" if layout == "METPV-20"
                 else f"{anemometer:5.1f}")
        for code in codes:
            vals = arr[code].reshape(365, 24)[d.day_of_year - 1]
            lines.append(_metpv_day_line(code, d, col11, vals,
                                         code in ("00001", "00002", "00003")))
    path.write_bytes(("\n".join(lines) + "\n").encode("cp932"))
    return path
