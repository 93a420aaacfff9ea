"""EPW, TMY3, TMY2 and plain CSV weather files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from sim.errors import InputError
from sim.inputs.weather.frame import (DEFAULT_WIND_HEIGHT, COLUMNS, _check_values, _finish,
                                      year_index)
from sim.inputs.weather.yearmap import _fixed_offset, _map_onto_year, _to_timezone


def _site(name, latitude, longitude, altitude, utc_offset):
    return {"name": str(name).strip('" '), "latitude": float(latitude),
            "longitude": float(longitude), "altitude": float(altitude),
            "utc_offset": float(utc_offset)}


def _local_file_year(data, local, path, year, timezone, wind_height, repairs,
                     utc_offset):
    """Map a typical year in local standard time onto ``year`` in ``timezone``."""
    data = data.set_axis(pd.DatetimeIndex(local))
    _check_values(data, path)
    mapped = _map_onto_year(data, pd.DatetimeIndex(local), path, year, repairs,
                            f"file local standard time (UTC{utc_offset:+g})")
    out = _to_timezone(mapped, _fixed_offset(utc_offset), year, timezone,
                       repairs, path)
    return out, DEFAULT_WIND_HEIGHT if wind_height is None else wind_height


def _hour_ending_local(data, path, what):
    """Interval starts from year/month/day and hour-ending 1..24 fields."""
    try:
        hour = data["hour"].astype(int)
        if ((hour < 1) | (hour > 24)).any():
            raise ValueError("hour outside 1..24")
        return pd.DatetimeIndex(pd.to_datetime(pd.DataFrame(
            {"year": data["year"].astype(int), "month": data["month"].astype(int),
             "day": data["day"].astype(int)})) + pd.to_timedelta(hour - 1, unit="h"))
    except Exception as exc:
        raise InputError(f"invalid date/hour fields; expected {what} year, "
                         f"month, day, hour 1..24", source=path,
                         field="time") from exc


def _read_epw(path, year, timezone, wind_height):
    try:
        data, meta = pvlib.iotools.read_epw(str(path))
    except Exception as exc:
        raise InputError(f"could not read as EPW ({exc.__class__.__name__}: "
                         f"{exc}); expected an EnergyPlus weather file",
                         source=path) from exc
    data = data.rename(columns={"atmospheric_pressure": "pressure"})
    # EPW hour h (1..24) covers (h-1):00..h:00 local standard time; build the
    # interval start from the raw fields, not from the parsed index.
    local = _hour_ending_local(data, path, "EPW")
    repairs = ["relabelled EPW hour-ending records to interval start"]
    out, wh = _local_file_year(data, local, path, year, timezone, wind_height,
                               repairs, meta["TZ"])
    city = str(meta.get("city", "")).strip(chr(34) + " ")
    site = _site(city, meta["latitude"], meta["longitude"], meta["altitude"],
                 meta["TZ"])
    return _finish(out, f"EPW {Path(path).name}: {city}", False, wh, repairs,
                   site)


def _read_tmy3(path, year, timezone, wind_height):
    try:
        data, meta = pvlib.iotools.read_tmy3(str(path), map_variables=True)
    except Exception as exc:
        raise InputError(f"could not read as TMY3 ({exc.__class__.__name__}: "
                         f"{exc}); expected an NREL TMY3 CSV", source=path) \
            from exc
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
    # TMY3 pressure is in mbar
    data["pressure"] = pd.to_numeric(data["pressure"], errors="coerce") * 100.0
    repairs = ["relabelled TMY3 hour-ending records to interval start",
               "converted TMY3 pressure from mbar to Pa"]
    out, wh = _local_file_year(data, local, path, year, timezone, wind_height,
                               repairs, meta["TZ"])
    name = str(meta.get("Name", "")).strip(chr(34) + " ")
    site = _site(name, meta["latitude"], meta["longitude"], meta["altitude"],
                 meta["TZ"])
    return _finish(out, f"TMY3 {Path(path).name}: {name}", False, wh, repairs,
                   site)


def _read_tmy2(path, year, timezone, wind_height):
    """NREL TMY2 (``.tm2``): fixed-width, hour-ending 1..24, local standard time.

    Units in the file: irradiance W/m2 (hour mean), dry-bulb 0.1 °C, wind
    0.1 m/s, pressure mbar; converted here (listed in ``repairs``).
    """
    try:
        data, meta = pvlib.iotools.read_tmy2(str(path))
    except Exception as exc:
        raise InputError(f"could not read as TMY2 ({exc.__class__.__name__}: "
                         f"{exc}); expected an NREL TMY2 .tm2 file",
                         source=path) from exc
    data = data.rename(columns={"GHI": "ghi", "DNI": "dni", "DHI": "dhi"})
    yy = data["year"].astype(int)
    data["year"] = np.where(yy < 100, 1900 + yy, yy)
    data["temp_air"] = pd.to_numeric(data["DryBulb"], errors="coerce") / 10.0
    data["wind_speed"] = pd.to_numeric(data["Wspd"], errors="coerce") / 10.0
    data["pressure"] = pd.to_numeric(data["Pressure"], errors="coerce") * 100.0
    local = _hour_ending_local(data, path, "TMY2")
    repairs = ["relabelled TMY2 hour-ending records to interval start",
               "converted TMY2 dry-bulb from 0.1 °C, wind from 0.1 m/s and "
               "pressure from mbar"]
    out, wh = _local_file_year(data, local, path, year, timezone, wind_height,
                               repairs, meta["TZ"])
    name = f"{meta.get('City', '')} {meta.get('State', '')}".strip()
    site = _site(name, meta["latitude"], meta["longitude"], meta["altitude"],
                 meta["TZ"])
    return _finish(out, f"TMY2 {Path(path).name}: {name}", False, wh, repairs,
                   site)


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
