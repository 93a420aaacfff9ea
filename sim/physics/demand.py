"""Consumers' hourly electricity demand from archetype load shapes.

A consumer's hourly demand is its annual energy [kWh] spread over the hours of
the year by a *shape*: a non-negative array that sums to 1 over the index.
Shapes come from small tables shipped in ``profiles/demand/`` (see the
README there for where each one comes from):

* ``daily_shapes.csv``: relative load for the 24 hours of a day, per
  archetype, season (summer Jul-Sep, winter Dec-Mar, mid otherwise) and day
  type (``workday`` or ``holiday``);
* ``monthly_factors.csv``: a level factor per archetype and month;
* ``closures.csv``: periods in which an archetype uses another day type
  (school holidays).

The relative load of an hour is ``daily[season, day type, hour] *
monthly[month]``; the shape is that divided by its sum over the index.
Optional modifiers (each keeps the total over the index unchanged):

* ``daytime_shift`` blends the ``household`` shape towards the daytime-heavier
  ``household_elderly`` shape (ageing, 2030-2050 study);
* ``temperature_sensitivity`` multiplies each hour by a degree-hour factor
  ``1 + s * (max(0, T - 24) + max(0, 14 - T))`` (cooling and heating).

Calendar: hours are read in the index's own local time (Asia/Tokyo for a
Japanese site; a site elsewhere keeps its own day); a UTC index is read in
Asia/Tokyo.  The holiday calendar is always Japan's (the programme's). Day type ``holiday`` is Saturday,
Sunday, a national holiday (``holidays.Japan``) or the year-end break
12/29-1/3; every other day is a ``workday``. Leap years have 8784 hours; no
day is dropped.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.io import check_input_file
from sim.inputs.paths import PROFILES

__all__ = [
    "ARCHETYPES",
    "PROFILE_DIR",
    "SEASON_OF_MONTH",
    "japanese_holidays",
    "archetype_shape",
    "custom_shape",
    "read_shape_file",
    "OBON",
    "demand_kwh",
    "apply_savings",
]

#: Demand archetypes with a shipped shape.
ARCHETYPES: tuple[str, ...] = (
    "household",          # 家庭 (average household)
    "household_elderly",  # 高齢者世帯: more use at home 9-17 h
    "office",             # 事務所
    "commerce",           # 物販店舗 (shops, supermarkets)
    "school",             # 学校 (elementary/junior high)
    "hospital",           # 病院 (with inpatients)
    "hotel",              # ホテル・旅館
    "public_hall",        # 庁舎・公民館 (town hall, community hall)
    "water_works",        # 上下水道施設 (water supply and sewage)
    "waste_plant",        # ごみ処理施設 (own consumption)
    "factory",            # 工場 (day-shift manufacturing, food processing)
    "flat",               # constant load
)

#: Obon (お盆), local dates 13-16 August (MMDD): a reduced-activity period
#: (closures.csv gives it to office and factory; ``obon`` per row overrides).
OBON = (813, 816)

#: Folder holding the shape tables.
PROFILE_DIR: Path = PROFILES / "demand"

#: Season of each month 1..12 used to pick rows of ``daily_shapes.csv``.
SEASON_OF_MONTH: dict[int, str] = {
    1: "winter", 2: "winter", 3: "winter", 4: "mid", 5: "mid", 6: "mid",
    7: "summer", 8: "summer", 9: "summer", 10: "mid", 11: "mid", 12: "winter",
}

_SEASONS = ("summer", "mid", "winter")
_DAY_TYPES = ("workday", "holiday")
_HOUR_NS = 3_600_000_000_000
_TZ = "Asia/Tokyo"
_HOUSEHOLD = "household"
_ELDERLY = "household_elderly"
#: Degree-hour thresholds [°C] of the temperature response.
COOLING_THRESHOLD = 24.0
HEATING_THRESHOLD = 14.0


# --------------------------------------------------------------------------
# shape tables
# --------------------------------------------------------------------------

def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, comment="#", skipinitialspace=True, dtype=str)
    except FileNotFoundError:
        raise InputError("demand profile table not found", source=path) from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read demand profile table ({exc})",
                         source=path) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"expected columns {', '.join(columns)}; missing "
                         f"{', '.join(missing)}", source=path)
    return df


def _numbers(df: pd.DataFrame, columns: list[str], path: Path) -> np.ndarray:
    values = df[columns].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(f"column {columns[col]} must be a finite number >= 0, "
                         f"got {df[columns[col]].iloc[row]!r}",
                         source=path, field=f"row {row + 1}")
    return values


def _check_archetype_column(df: pd.DataFrame, path: Path) -> None:
    for row, name in enumerate(df["archetype"]):
        if name not in ARCHETYPES:
            raise InputError(f"unknown archetype {name!r}; expected one of "
                             f"{', '.join(ARCHETYPES)}",
                             source=path, field=f"row {row + 1}")


def _expand(value: str, allowed: tuple[str, ...], what: str, path: Path,
            row: int) -> tuple[str, ...]:
    if value == "all":
        return allowed
    if value not in allowed:
        raise InputError(f"{what} must be one of {', '.join(allowed)} or all, "
                         f"got {value!r}", source=path, field=f"row {row + 1}")
    return (value,)


@functools.lru_cache(maxsize=4)
def _tables(profile_dir: Path = PROFILE_DIR) -> dict[str, tuple]:
    """Load and check the shape tables once.

    Returns
    -------
    dict
        archetype -> (daily (3, 2, 24), monthly (12,), closures list of
        (start_mmdd, end_mmdd, day_type_index)); arrays are read-only.
    """
    hours = [str(h) for h in range(24)]
    path = profile_dir / "daily_shapes.csv"
    df = _read_csv(path, ("archetype", "season", "day_type", *hours))
    _check_archetype_column(df, path)
    values = _numbers(df, hours, path)
    daily = {a: np.full((len(_SEASONS), len(_DAY_TYPES), 24), np.nan)
             for a in ARCHETYPES}
    for row, (name, season, day_type) in enumerate(
            zip(df["archetype"], df["season"], df["day_type"])):
        for s in _expand(str(season), _SEASONS, "season", path, row):
            for d in _expand(str(day_type), _DAY_TYPES, "day_type", path, row):
                table = daily[name][_SEASONS.index(s), _DAY_TYPES.index(d)]
                if not np.isnan(table[0]):
                    raise InputError(f"{name} {s} {d} is given twice",
                                     source=path, field=f"row {row + 1}")
                table[:] = values[row]
    for name, table in daily.items():
        if np.isnan(table).any():
            raise InputError(f"archetype {name} needs a row for every season "
                             f"({', '.join(_SEASONS)}) and day type "
                             f"({', '.join(_DAY_TYPES)})", source=path)
        if not (table.sum(axis=2) > 0).all():
            raise InputError(f"archetype {name} has a day with zero load",
                             source=path)

    months = [str(m) for m in range(1, 13)]
    path = profile_dir / "monthly_factors.csv"
    df = _read_csv(path, ("archetype", *months))
    _check_archetype_column(df, path)
    factors = _numbers(df, months, path)
    duplicated = df["archetype"].duplicated().to_numpy()
    if duplicated.any():
        row = int(np.argmax(duplicated))
        raise InputError(f"archetype {df['archetype'].iloc[row]} is given twice",
                         source=path, field=f"row {row + 1}")
    monthly = dict(zip(df["archetype"], factors))
    for name in ARCHETYPES:
        if name not in monthly:
            raise InputError(f"no monthly factors for archetype {name}",
                             source=path)
        if not (monthly[name] > 0).all():
            raise InputError(f"monthly factors of {name} must be > 0",
                             source=path)

    path = profile_dir / "closures.csv"
    df = _read_csv(path, ("archetype", "start", "end", "day_type"))
    _check_archetype_column(df, path)
    closures: dict[str, list] = {a: [] for a in ARCHETYPES}
    for row, (name, start, end, day_type) in enumerate(
            zip(df["archetype"], df["start"], df["end"], df["day_type"])):
        try:
            bounds = [pd.Timestamp(f"2000-{v}") for v in (start, end)]
        except ValueError:
            raise InputError(f"start and end must be MM-DD dates, got "
                             f"{start!r}, {end!r}", source=path,
                             field=f"row {row + 1}") from None
        mmdd = [b.month * 100 + b.day for b in bounds]
        if day_type not in _DAY_TYPES:
            raise InputError(f"day_type must be one of {', '.join(_DAY_TYPES)}, "
                             f"got {day_type!r}", source=path,
                             field=f"row {row + 1}")
        closures[name].append((mmdd[0], mmdd[1], _DAY_TYPES.index(day_type)))

    out = {}
    for name in ARCHETYPES:
        daily[name].setflags(write=False)
        monthly[name].setflags(write=False)
        out[name] = (daily[name], monthly[name], tuple(closures[name]))
    return out


# --------------------------------------------------------------------------
# calendar
# --------------------------------------------------------------------------

def _check_index(index, *, hourly: bool = True) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex):
        raise InputError(f"index must be a pandas DatetimeIndex, got "
                         f"{type(index).__name__}", field="index")
    if index.tz is None:
        raise InputError("index must be time-zone aware (e.g. Asia/Tokyo), "
                         "got a naive DatetimeIndex", field="index")
    if len(index) == 0:
        raise InputError("index must not be empty", field="index")
    if hourly:
        ns = index.as_unit("ns").asi8
        if len(ns) > 1 and not (np.diff(ns) == _HOUR_NS).all():
            raise InputError("index must be hourly: consecutive labels exactly "
                             "1 h apart, sorted, without gaps", field="index")
        first = index[0].tz_convert(_TZ)
        if first.minute or first.second or first.microsecond or first.nanosecond:
            raise InputError(f"index labels must be the start of a clock hour, "
                             f"got {first}", field="index")
    return index


@functools.lru_cache(maxsize=64)
def _holiday_dates(first_year: int, last_year: int) -> np.ndarray:
    import holidays

    lo, hi = holidays.Japan.start_year, holidays.Japan.end_year
    if first_year < lo or last_year > hi:
        raise InputError(f"Japanese holidays are known for {lo}-{hi} only, "
                         f"index spans {first_year}-{last_year}", field="index")
    dates = holidays.Japan(years=range(first_year, last_year + 1))
    out = np.array(sorted(dates), dtype="datetime64[D]")
    out.setflags(write=False)
    return out


def _local_days(local: pd.DatetimeIndex) -> np.ndarray:
    """Local calendar date of each label as datetime64[D]."""
    return local.tz_localize(None).to_numpy().astype("datetime64[D]")


def japanese_holidays(index, *, year_end: bool = True) -> np.ndarray:
    """Flag the non-working days of the Japanese calendar.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Time-zone aware labels (any frequency). Dates are taken in Japan
        local time (Asia/Tokyo); other time zones are converted.
    year_end : bool, default True
        Also flag the customary year-end/new-year break 12/29-1/3
        (年末年始), when offices and public facilities close.

    Returns
    -------
    numpy.ndarray of bool, shape (len(index),)
        True on Saturdays, Sundays, national holidays and substitute holidays
        (``holidays.Japan``) and, if `year_end`, 12/29-1/3.

    Raises
    ------
    sim.errors.InputError
        If `index` is not a tz-aware DatetimeIndex or lies outside the years
        ``holidays.Japan`` knows.
    """
    index = _check_index(index, hourly=False)
    return _holiday_mask(index.tz_convert(_TZ), year_end=year_end)


def _holiday_mask(local: pd.DatetimeIndex, *, year_end: bool) -> np.ndarray:
    days = _local_days(local)
    years = local.year
    mask = local.day_of_week.to_numpy() >= 5
    mask |= np.isin(days, _holiday_dates(int(years.min()), int(years.max())))
    if year_end:
        mmdd = local.month.to_numpy() * 100 + local.day.to_numpy()
        mask |= (mmdd >= 1229) | (mmdd <= 103)
    return mask


def _calendar_of(index: pd.DatetimeIndex) -> tuple[np.ndarray, ...]:
    """Calendar arrays of a checked hourly index (cached by start and length)."""
    return _calendar(int(index[:1].as_unit("ns").asi8[0]), len(index),
                     _local_zone(index))


def _local_zone(index: pd.DatetimeIndex) -> str:
    """The clock the shapes are read in: the index's own zone (a site outside
    Japan keeps its local day), Asia/Tokyo for UTC indexes."""
    name = str(index.tz)
    return _TZ if name in ("UTC", "utc") else name


@functools.lru_cache(maxsize=32)
def _calendar(first_ns: int, n: int, zone: str = _TZ) -> tuple[np.ndarray, ...]:
    """Hour, month - 1, MMDD, holiday flag and season of ``n`` hours (read-only)."""
    index = pd.to_datetime(first_ns + _HOUR_NS * np.arange(n, dtype=np.int64),
                           unit="ns", utc=True)
    return _compute_calendar(index, zone)


def _compute_calendar(index: pd.DatetimeIndex, zone: str = _TZ) -> tuple[np.ndarray, ...]:
    local = index.tz_convert(zone)
    hour = local.hour.to_numpy().astype(np.intp)
    month = local.month.to_numpy().astype(np.intp)
    mmdd = month * 100 + local.day.to_numpy()
    holiday = _holiday_mask(local, year_end=True)
    season_of = np.array([0] + [_SEASONS.index(SEASON_OF_MONTH[m])
                                for m in range(1, 13)], dtype=np.intp)
    out = (hour, month - 1, mmdd, holiday, season_of[month])
    for a in out:
        a.setflags(write=False)
    return out


# --------------------------------------------------------------------------
# shapes and demand
# --------------------------------------------------------------------------

def _check_archetype(archetype) -> str:
    if archetype not in ARCHETYPES:
        raise InputError(f"unknown demand archetype {archetype!r}; expected one "
                         f"of {', '.join(ARCHETYPES)}", field="archetype")
    return archetype


def _check_fraction(value, name: str, *, upper_open: bool) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}",
                         field=name) from None
    ok = 0.0 <= value < 1.0 if upper_open else 0.0 <= value <= 1.0
    if not ok:
        interval = "[0, 1)" if upper_open else "[0, 1]"
        raise InputError(f"{name} must be in {interval}, got {value}",
                         field=name)
    return value


def _with_obon(closures, obon):
    """The archetype's closures with Obon added (True) or removed (False)."""
    if obon is None:
        return closures
    rest = tuple(c for c in closures if (c[0], c[1]) != OBON)
    return rest + ((OBON[0], OBON[1], _DAY_TYPES.index("holiday")),) if obon else rest


def _day_types(calendar, closures) -> np.ndarray:
    """0 workday / 1 holiday per hour, closures applied."""
    _, _, mmdd, holiday, _ = calendar
    day_type = holiday.astype(np.intp)
    for start, end, kind in closures:
        inside = ((mmdd >= start) & (mmdd <= end)) if start <= end else \
            ((mmdd >= start) | (mmdd <= end))
        day_type = np.where(inside, kind, day_type)
    return day_type


def _relative_load(archetype: str, calendar: tuple[np.ndarray, ...],
                   obon: bool | None = None) -> np.ndarray:
    hour, month0, _, _, season = calendar
    daily, monthly, closures = _tables()[archetype]
    day_type = _day_types(calendar, _with_obon(closures, obon))
    return daily[season, day_type, hour] * monthly[month0]


def _normalise(load: np.ndarray) -> np.ndarray:
    total = load.sum()
    if not total > 0:
        raise InputError("load shape sums to zero over the index")
    return load / total


def _temperature_factor(temp_air, index: pd.DatetimeIndex,
                        sensitivity: float) -> np.ndarray:
    if isinstance(temp_air, pd.Series) and isinstance(temp_air.index,
                                                      pd.DatetimeIndex):
        if not temp_air.index.equals(index):
            raise InputError("temp_air must have the same time index as the "
                             "demand index", field="temp_air")
    try:
        t = np.asarray(temp_air, dtype=float)
    except (TypeError, ValueError):
        raise InputError("temp_air must be an array of numbers [°C]",
                         field="temp_air") from None
    if t.shape != (len(index),):
        raise InputError(f"temp_air must have one value per hour, shape "
                         f"({len(index)},), got {t.shape}", field="temp_air")
    missing = int((~np.isfinite(t)).sum())
    if missing:
        raise InputError(f"temp_air has {missing} missing or non-finite values; "
                         f"repair them explicitly first", field="temp_air")
    degree = (np.maximum(0.0, t - COOLING_THRESHOLD)
              + np.maximum(0.0, HEATING_THRESHOLD - t))
    return 1.0 + sensitivity * degree


def archetype_shape(archetype, index, *, temp_air=None,
                    temperature_sensitivity=0.0, daytime_shift=0.0,
                    obon=None) -> np.ndarray:
    """Hourly share of an archetype's energy over an index.

    Parameters
    ----------
    archetype : str
        One of :data:`ARCHETYPES`.
    index : pandas.DatetimeIndex
        Tz-aware hourly labels, each the start of its hour; normally a full
        calendar year (8760 or 8784 h) but any hourly span works. Hours and
        dates are read in the index's own time zone (Asia/Tokyo for UTC).
    temp_air : array-like of float, shape (T,), optional
        Air temperature for each hour. [°C] Required when
        `temperature_sensitivity` > 0.
    temperature_sensitivity : float, default 0.0
        Load response to temperature. [fraction/°C] Each hour is multiplied
        by ``1 + s * (max(0, temp_air - 24) + max(0, 14 - temp_air))``
        before renormalising, so hot and cold hours take a larger share of
        an unchanged total.
    daytime_shift : float, default 0.0
        Only for ``household``: fraction in [0, 1] by which the shape is
        blended towards ``household_elderly`` (ageing: more people at home
        9-17 h). [-] 0 is today's average household, 1 the elderly shape.
    obon : bool, optional
        Read Obon (13-16 Aug, :data:`OBON`) as holidays (True) or as
        ordinary days (False); default: as ``closures.csv`` says (office
        and factory close).

    Returns
    -------
    numpy.ndarray of float, shape (T,)
        Non-negative share of the total energy in each hour; sums to 1. [-]

    Raises
    ------
    sim.errors.InputError
        Unknown archetype, bad index, modifiers out of range, or `temp_air`
        missing, misaligned or with non-finite values.
    """
    archetype = _check_archetype(archetype)
    index = _check_index(index)
    shift = _check_fraction(daytime_shift, "daytime_shift", upper_open=False)
    try:
        sensitivity = float(temperature_sensitivity)
    except (TypeError, ValueError):
        sensitivity = math.nan
    if not (math.isfinite(sensitivity) and sensitivity >= 0):
        raise InputError(f"temperature_sensitivity must be a finite number "
                         f">= 0 [fraction/°C], got {temperature_sensitivity!r}",
                         field="temperature_sensitivity")
    if shift and archetype != _HOUSEHOLD:
        raise InputError(f"daytime_shift applies to archetype household only, "
                         f"got {archetype!r} with daytime_shift={shift}",
                         field="daytime_shift")
    if sensitivity and temp_air is None:
        raise InputError("temperature_sensitivity > 0 needs temp_air [°C]",
                         field="temp_air")

    calendar = _calendar_of(index)
    shape = _normalise(_relative_load(archetype, calendar, obon))
    if shift:
        elderly = _normalise(_relative_load(_ELDERLY, calendar))
        shape = (1.0 - shift) * shape + shift * elderly
    if temp_air is not None:
        factor = _temperature_factor(temp_air, index, sensitivity)
        if sensitivity:
            shape = _normalise(shape * factor)
    return shape


def apply_savings(kwh, savings) -> np.ndarray:
    """Reduce demand by an energy-saving fraction.

    Parameters
    ----------
    kwh : array-like of float
        Demand in each hour. [kWh]
    savings : float or array-like of float
        Fraction of demand saved, in [0, 1); an array must broadcast against
        `kwh` (e.g. one value per hour). [-]

    Returns
    -------
    numpy.ndarray of float
        ``kwh * (1 - savings)``, a new array. [kWh]

    Raises
    ------
    sim.errors.InputError
        If `savings` is outside [0, 1) or not finite, or `kwh` has negative
        or non-finite values.
    """
    try:
        s = np.asarray(savings, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"savings must be a fraction in [0, 1), got "
                         f"{savings!r}", field="savings") from None
    if not ((s >= 0) & (s < 1)).all():  # also rejects NaN
        bad = s[~((s >= 0) & (s < 1))].flat[0] if s.ndim else float(s)
        raise InputError(f"savings must be a fraction in [0, 1), got {bad}",
                         field="savings")
    try:
        e = np.asarray(kwh, dtype=float)
    except (TypeError, ValueError):
        raise InputError("kwh must be an array of numbers [kWh]",
                         field="kwh") from None
    if not (np.isfinite(e) & (e >= 0)).all():
        raise InputError("kwh must be finite and >= 0 in every hour",
                         field="kwh")
    try:
        return e * (1.0 - s)
    except ValueError:
        raise InputError(f"savings of shape {s.shape} does not match kwh of "
                         f"shape {e.shape}", field="savings") from None


def demand_kwh(annual_kwh, archetype, index, *, savings=0.0, temp_air=None,
               temperature_sensitivity=0.0, daytime_shift=0.0,
               obon=None) -> np.ndarray:
    """Hourly demand of one consumer from its annual energy and archetype.

    Parameters
    ----------
    annual_kwh : float
        Energy over the whole `index` before savings (a calendar year's
        consumption for a full-year index). [kWh]
    archetype : str
        One of :data:`ARCHETYPES`.
    index : pandas.DatetimeIndex
        Tz-aware hourly labels, start of each hour (see
        :func:`archetype_shape`).
    savings : float, default 0.0
        Fraction of demand saved, in [0, 1). [-]
    temp_air : array-like of float, shape (T,), optional
        Air temperature for each hour. [°C]
    temperature_sensitivity : float, default 0.0
        Load response to temperature. [fraction/°C]
    daytime_shift : float, default 0.0
        Household blend towards the elderly-household shape, in [0, 1]. [-]

    Returns
    -------
    numpy.ndarray of float, shape (T,)
        Demand in each hour [kWh]; sums to ``annual_kwh * (1 - savings)``.

    Raises
    ------
    sim.errors.InputError
        Negative or non-finite `annual_kwh`, and everything
        :func:`archetype_shape` and :func:`apply_savings` reject.
    """
    try:
        annual = float(annual_kwh)
    except (TypeError, ValueError):
        annual = math.nan
    if not (math.isfinite(annual) and annual >= 0):
        raise InputError(f"annual_kwh must be a finite number >= 0 [kWh], got "
                         f"{annual_kwh!r}", field="annual_kwh")
    shape = archetype_shape(archetype, index, temp_air=temp_air,
                            temperature_sensitivity=temperature_sensitivity,
                            daytime_shift=daytime_shift, obon=obon)
    return apply_savings(annual * shape, savings)


def custom_shape(table, index, *, obon=False, temp_air=None,
                 temperature_sensitivity=0.0) -> np.ndarray:
    """Hourly share of energy from a consumer's own 24-hour day-type table.

    Parameters
    ----------
    table : mapping
        ``{"workday": [24 values], "holiday": [24 values]}`` or
        ``{"all": [24 values]}``: relative load per local hour (column N =
        the hour starting at N:00); only ratios matter. [-]
    index : pandas.DatetimeIndex
        Tz-aware hourly labels (see :func:`archetype_shape`).
    obon : bool, default False
        Treat Obon (13-16 Aug) as holidays.
    temp_air, temperature_sensitivity
        As in :func:`archetype_shape`.

    Returns
    -------
    numpy.ndarray of float, shape (T,)
        Share of the total energy in each hour; sums to 1. [-]

    Raises
    ------
    sim.errors.InputError
        Unknown day type, not 24 non-negative numbers, a day type missing.
    """
    index = _check_index(index)
    rows = {}
    for key, values in dict(table).items():
        if key not in ("workday", "holiday", "all"):
            raise InputError(f"shape_table keys must be workday, holiday or all, "
                             f"got {key!r}", field="shape_table")
        v = np.asarray(values, dtype=float)
        if v.shape != (24,) or not np.all(np.isfinite(v)) or (v < 0).any() \
                or v.sum() <= 0:
            raise InputError(f"shape_table.{key} must be 24 numbers >= 0 (hours "
                             f"0-23) with a positive sum", field="shape_table")
        rows[key] = v
    both = {d: rows.get(d, rows.get("all")) for d in _DAY_TYPES}
    missing = [d for d, v in both.items() if v is None]
    if missing:
        raise InputError(f"shape_table needs {', '.join(missing)} (or all)",
                         field="shape_table")
    calendar = _calendar_of(index)
    day_type = _day_types(calendar, _with_obon((), obon))
    daily = np.stack([both["workday"], both["holiday"]])
    shape = _normalise(daily[day_type, calendar[0]])
    if temperature_sensitivity:
        if temp_air is None:
            raise InputError("temperature_sensitivity > 0 needs temp_air [°C]",
                             field="temp_air")
        shape = _normalise(shape * _temperature_factor(
            temp_air, index, float(temperature_sensitivity)))
    return shape


def read_shape_file(path, index) -> np.ndarray:
    """Hourly share of energy from a CSV of one value per hour of the year.

    The file holds 8760 (8784 in a leap year) non-negative numbers, one per
    line in time order from 1 January 00:00 local time, either as a single
    column or as the last column after a ``time`` column; a header line is
    allowed.  Only ratios matter: the values are normalised.

    Returns
    -------
    numpy.ndarray of float, shape (T,)
        Share of the total energy in each hour; sums to 1. [-]

    Raises
    ------
    sim.errors.InputError
        Missing file, a row that is not a number >= 0, a wrong row count.
    """
    index = _check_index(index)
    check_input_file(path, "shape file")  # a regular file of a sane size (FIFO: refused)
    try:
        df = pd.read_csv(path, header=None, dtype=str, comment="#")
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read shape CSV ({exc})", source=path) from None
    col = df.iloc[:, -1]
    v = pd.to_numeric(col, errors="coerce").to_numpy(float)
    if len(v) and not np.isfinite(v[0]):  # a header line
        v, col = v[1:], col.iloc[1:]
    bad = np.flatnonzero(~np.isfinite(v) | (v < 0))
    if bad.size:
        raise InputError(f"row {bad[0] + 1} is {col.iloc[bad[0]]!r}; expected a "
                         f"number >= 0 per hour", source=path)
    if len(v) != len(index):
        raise InputError(f"{len(v)} hourly values; expected {len(index)} for "
                         f"the simulated year", source=path)
    return _normalise(v)
