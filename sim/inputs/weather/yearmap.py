"""Map a file's records onto the requested calendar year and time zone."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.weather.frame import year_index


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
