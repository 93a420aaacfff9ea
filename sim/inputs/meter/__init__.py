"""Meter data ingestion: hourly kWh per meter from CSV or Parquet exports.

:func:`read_meter` reads one or several meter files (a grid operator's or a
utility's export), in *long* layout (``timestamp, meter, kwh``) or *wide*
layout (a timestamp column and one column per meter), with 30- or 60-minute
intervals, and returns :class:`MeterData`: an hourly kWh table covering the
whole calendar year (8760 h, 8784 h in a leap year) plus every problem found
in the data and every repair made to it.

Pipeline
--------
:func:`read_meter` runs named steps, each a function testable alone:
read (:func:`.files.read_files`), parse time stamps
(:func:`.timestamps.parse_timestamps`), detect the interval per file segment
(:func:`.timestamps.detect_interval`), align to the year
(:func:`.align.align_to_year`), check (:func:`.checks.check_cells`), the hourly
matrix (:func:`.hourly.to_hourly`) and fill (:func:`.hourly.fill_gaps`).
These steps hold every cell in memory; :func:`read_meter` runs their streamed
form (:mod:`.stream`: record batches into the (meter, slot) matrix, only the
cells with a problem kept aside), which lists the same problems with the same
rows through the same reporting functions, in memory bounded by the result.

Rules
-----
* Nothing is filled, clipped or dropped silently.  A value that cannot be used
  (negative, above the meter's capacity, non-numeric, empty, out of the year,
  of an unknown meter, of a conflicting duplicate) becomes NaN in ``kwh`` *and*
  is listed in :attr:`MeterData.problems` with the file rows it comes from.
* Missing data stays NaN (never 0) unless gap filling is asked for
  (``fill="interpolate"`` or ``fill="profile"``); filled hours are listed as
  ``gap_filled`` problems, in :attr:`MeterData.repairs`, and their energy is
  given by :meth:`MeterData.filled_kwh`.
* Every conversion (time zone, interval-end labels, "24:00", kW to kWh,
  30-minute to hourly sums) is recorded in :attr:`MeterData.repairs`.
* A file whose interval changes (hourly rows, then 30-minute rows) is refused,
  never read as one interval; day/month-order stamps need ``date_format``.
* The index is tz-aware (``Asia/Tokyo`` by default) and labels the interval
  START.  30-minute kWh are summed to hours; an hour needs both halves.

Row numbers
-----------
``MeterProblem.rows`` holds 1-based *data* row numbers: row 1 is the first row
after the header (line 2 of a CSV file; blank lines are not counted).  For the
``missing`` and ``gap_filled`` kinds it holds the start timestamps of the
affected intervals instead (a tz-aware :class:`pandas.DatetimeIndex`, which is
list-like and far smaller than a list of Timestamps for 10,000 meters).

Problem kinds
-------------
``missing``          intervals of a meter without a usable value (absent
                     from the files, or excluded by another problem)
``incomplete_hour``  30-minute data: hours with only one usable half; the
                     present half is not used (rows = its file rows)
``duplicate``        a (meter, interval) given more than once with identical
                     values: the first row is used, the others ignored.  In
                     a wide file the meters sharing the same repeated rows
                     make one problem (``meter`` None, ``meters`` listed)
``duplicate_conflict``  given more than once with different values: all
                     rows excluded
``negative``         values below zero, excluded
``over_capacity``    values above ``capacity_kw x interval hours``, excluded
``looks_like_kw``    ``unit="kWh"`` but 30-minute values exceed
                     ``capacity x 0.5 h`` while never exceeding
                     ``capacity x 1 h``: the column looks like kW means
``non_numeric``      cells that are not numbers (or beyond float range, e.g.
                     ``1e400``), excluded
``empty``            empty / NA cells
``out_of_year``      interval starts outside the requested year, excluded
``off_grid``         timestamps not on the 30/60-minute grid, excluded
``bad_timestamp``    timestamps that cannot be parsed, excluded
``unknown_meter``    meter ids not in ``meters`` (or an empty id), excluded
``gap_filled``       hours filled by ``fill=...`` (rows = hour starts); never
                     output where ``dark_hours`` says the meter cannot produce
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from sim.errors import InputError

from .align import align_to_year, year_grid
from .checks import check_cells
from .files import _first_line, read_files
from .hourly import fill_gaps, to_hourly
from .model import PROBLEM_KINDS, MeterData, MeterProblem
from .stream import BATCH_ROWS, CSV_BLOCK, read_cells
from .text import rows_text
from .timestamps import detect_interval, parse_timestamps

__all__ = ["MeterProblem", "MeterData", "read_meter", "PROBLEM_KINDS", "rows_text"]


def _check_args(unit, label, fill, interval, year, timezone, fill_max_hours):
    """Validated (unit lower-case, interval, year) or InputError."""
    unit_n = str(unit).strip().lower()
    if unit_n not in ("kwh", "kw"):
        raise InputError(f"unit must be 'kWh' or 'kW', not {unit!r}", field="unit")
    if label not in ("start", "end"):
        raise InputError(f"label must be 'start' or 'end', not {label!r}", field="label")
    if fill not in (None, "interpolate", "profile"):
        raise InputError(f"fill must be None, 'interpolate' or 'profile', not {fill!r}",
                         field="fill")
    if interval != "auto":
        try:
            interval = int(interval)
        except (TypeError, ValueError):
            interval = -1
        if interval not in (30, 60):
            raise InputError("interval must be 'auto', 30 or 60 (minutes)", field="interval")
    try:
        year = int(year)
        pd.Timestamp(year=year, month=1, day=1, tz=timezone)
    except Exception as e:  # noqa: BLE001 - turned into one line
        raise InputError(f"bad year or timezone: {_first_line(e)}", field="year") from None
    if fill_max_hours is not None and int(fill_max_hours) < 1:
        raise InputError("fill_max_hours must be >= 1 or None", field="fill_max_hours")
    return unit_n, interval, year


def _dark_mask(dark_hours, known: list[str], H: int) -> np.ndarray | None:
    if not dark_hours:
        return None
    zero = np.zeros((H, len(known)), bool)
    col = {m: j for j, m in enumerate(known)}
    for m, hrs in dark_hours.items():
        hrs = np.asarray(hrs, dtype=bool)
        if hrs.shape != (H,):
            raise InputError(f"dark_hours[{m!r}] must have one flag per hour ({H})",
                             field="dark_hours")
        if m in col:
            zero[:, col[m]] = hrs
    return zero


def read_meter(paths, *, year: int, layout: str = "auto", interval="auto",
               label: str = "start", timezone: str = "Asia/Tokyo",
               meters: Iterable[str] | None = None,
               capacities_kw: Mapping[str, float] | pd.Series | float | None = None,
               unit: str = "kWh", fill: str | None = None,
               fill_max_hours: int | None = 6, profile_days: int = 7,
               timestamp_column: str | None = None, meter_column: str | None = None,
               value_column: str | None = None, encoding: str = "utf-8",
               date_format: str | None = None,
               dark_hours: Mapping[str, np.ndarray] | None = None,
               dtype=np.float64) -> MeterData:
    """Read meter files into hourly kWh per meter, listing every problem.

    Parameters
    ----------
    paths : str, Path or list of them
        CSV (``.csv``, ``.tsv``, ``.txt``, optionally compressed ``.gz``) or
        Parquet (``.parquet``, ``.pq``) files; several files are concatenated.
    year : int
        Calendar year to build (8760 h, or 8784 h in a leap year).
    layout : {"auto", "long", "wide"}
        Long: columns timestamp, meter (or meter_id), kwh (or value).  Wide: a
        timestamp column and one column per meter.  "auto" picks long when a
        meter and a value column are found.
    interval : {"auto", 30, 60}
        Minutes per interval; "auto" detects it from the timestamps.
    label : {"start", "end"}
        Whether a timestamp marks the START or the END of its interval
        (Japanese exports often label the end, 00:30 = 00:00–00:30, with
        "24:00").  End labels are shifted to starts, and that is recorded.
    timezone : str
        Zone of naive timestamps and of the result; offsets are converted.
    meters : iterable of str, optional
        The expected meter ids: others are ``unknown_meter``; the result has
        exactly these columns (all-NaN and ``missing`` for absent ones).
    capacities_kw : mapping meter -> kW, Series, or a single kW for all
        Capacity per meter [kW]; values above ``capacity x interval hours``
        are ``over_capacity``.
    unit : {"kWh", "kW"}
        Unit of the values: kWh per interval, or mean kW over the interval
        (converted to kWh by x interval hours, recorded in ``repairs``).
    fill : {None, "interpolate", "profile"}
        None keeps gaps NaN.  "interpolate": linear between the values around
        a gap.  "profile": mean of the same hour on the neighbouring
        ``profile_days`` days either side.  Only gaps of at most
        ``fill_max_hours`` hours (None: any length) are filled.
    timestamp_column, meter_column, value_column : str, optional
        Column names when they cannot be recognised.
    encoding : str
        Text encoding of CSV files (e.g. "cp932" for Shift-JIS exports).
    date_format : str, optional
        strftime format of the time stamps (e.g. ``"%d/%m/%Y %H:%M"``).
        Without it, day/month-order stamps (``05/03/2023``) are refused as
        ambiguous; stamps that do not match it are ``bad_timestamp``.
    dark_hours : mapping meter -> bool array (hours of the year), optional
        Hours in which the meter cannot produce (a PV meter with the sun
        down): gap filling puts 0 kWh there, never an interpolated value.
    dtype : numpy dtype
        float64 (default) or float32 for ``kwh``.

    Returns
    -------
    MeterData

    Raises
    ------
    InputError
        Unreadable file, no timestamp column, unknown unit/interval/label,
        timestamps not 30 or 60 minutes apart, interval differing from the
        stated one or changing within a file, ambiguous day/month order, an
        unknown encoding, no parseable timestamp at all.
    """
    return _read(paths, dict(
        year=year, layout=layout, interval=interval, label=label, timezone=timezone,
        meters=meters, capacities_kw=capacities_kw, unit=unit, fill=fill,
        fill_max_hours=fill_max_hours, profile_days=profile_days,
        timestamp_column=timestamp_column, meter_column=meter_column,
        value_column=value_column, encoding=encoding, date_format=date_format,
        dark_hours=dark_hours, dtype=dtype), streamed=True)


def _read(paths, kw: dict, *, streamed: bool, batch_rows: int = BATCH_ROWS,
          csv_block: int = CSV_BLOCK) -> MeterData:
    """:func:`read_meter`: streamed in record batches (``streamed``), or with every
    row in memory at once (the flat steps, kept as the reference the streamed
    path is tested against)."""
    unit_n, interval, year = _check_args(kw["unit"], kw["label"], kw["fill"], kw["interval"],
                                         kw["year"], kw["timezone"], kw["fill_max_hours"])
    args = dict(layout=kw["layout"], encoding=kw["encoding"],
                timestamp_column=kw["timestamp_column"], meter_column=kw["meter_column"],
                value_column=kw["value_column"])
    if streamed:
        cells, hourly, probs, repairs, parts = read_cells(
            paths, year=year, interval=interval, label=kw["label"], timezone=kw["timezone"],
            meters=kw["meters"], capacities_kw=kw["capacities_kw"], unit=unit_n,
            date_format=kw["date_format"], batch_rows=batch_rows, csv_block=csv_block,
            dtype=kw["dtype"], **args)
    else:
        cells, hourly, probs, repairs, parts = _flat_cells(paths, year, interval, unit_n,
                                                           kw, args)
    filled_mask = fill_gaps(hourly, cells, probs, kw["fill"], kw["fill_max_hours"],
                            kw["profile_days"],
                            _dark_mask(kw["dark_hours"], cells.known, cells.grid.H))
    return _meter_data(cells, hourly, filled_mask, list(probs), repairs + cells.repairs,
                       [p.path for p in parts], kw["dtype"])


def _flat_cells(paths, year, interval, unit_n, kw, args):
    """The flat steps: every cell of every file in memory (the reference path)."""
    parts = read_files(paths, unit=unit_n, **args)
    parsed, repairs = parse_timestamps(parts, kw["timezone"], kw["date_format"])
    imin = detect_interval(parts, parsed, interval, kw["timezone"])
    grid = year_grid(year, kw["timezone"], imin)
    cells = align_to_year(parts, parsed, grid, label=kw["label"], meters=kw["meters"],
                          capacities_kw=kw["capacities_kw"], unit=unit_n)
    del parsed
    keep, probs = check_cells(cells, unit_n)
    hourly = to_hourly(cells, keep, probs)
    return cells, hourly, probs, repairs, parts


def _meter_data(cells, hourly, filled_mask, problems, repairs, paths, dtype) -> MeterData:
    """The result: labelled frames, problems in a stable order."""
    g = cells.grid
    cols = pd.Index(cells.known, name="meter")
    values = hourly.astype(dtype, copy=False)
    kwh = pd.DataFrame(values, index=g.hours, columns=cols, copy=False)
    kwh.attrs.update({"unit": "kWh", "label": "interval start", "timezone": g.tz})
    filled = None
    if filled_mask is not None:
        filled = pd.DataFrame(filled_mask, index=g.hours, columns=cols, copy=False)
    order = {k: i for i, k in enumerate(PROBLEM_KINDS)}
    problems.sort(key=lambda p: (order.get(p.kind, 99), p.meter or "", p.file or ""))
    return MeterData(kwh=kwh, problems=problems, source=", ".join(str(p) for p in paths),
                     interval_minutes=g.imin, repairs=repairs, filled=filled,
                     capacities_kw=pd.Series(cells.cap, index=cols, name="capacity_kw"),
                     year=g.year, unknown_kwh=cells.unknown_kwh, _array=values)
