"""The weather frame: columns, hourly calendar index, value checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.errors import InputError

#: Columns of every weather DataFrame, in order.
COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed", "pressure")

#: Seed of the synthetic default year.

#: Wind measurement height assumed when a file does not state it. [m]
#: EPW and TMY3 specify wind speed at 10 m (WMO standard anemometer height).
DEFAULT_WIND_HEIGHT = 10.0


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


def _finish(df, source, synthetic, wind_height, repairs, site=None):
    """The weather frame in column order with its ``attrs``.

    ``site`` is the file's own site from its header, when it has one:
    ``{"name", "latitude", "longitude", "altitude", "utc_offset"}``
    [°, °, m, h]; the site checks (:mod:`sim.inputs.weather.checks`) compare
    it with the scenario's.
    """
    out = df.loc[:, list(COLUMNS)].astype("float64")
    out.index.name = "time"
    out.attrs = {"source": str(source), "synthetic": bool(synthetic),
                 "wind_height": float(wind_height), "repairs": list(repairs),
                 "site": dict(site) if site else None}
    return out
