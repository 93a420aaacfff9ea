"""Meter data ingestion: hourly kWh per meter from CSV or Parquet exports.

:func:`read_meter` reads one or several meter files (a grid operator's or a
utility's export), in *long* layout (``timestamp, meter, kwh``) or *wide*
layout (a timestamp column and one column per meter), with 30- or 60-minute
intervals, and returns :class:`MeterData`: an hourly kWh table covering the
whole calendar year (8760 h, 8784 h in a leap year) plus every problem found
in the data and every repair made to it.

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
``non_numeric``      cells that are not numbers, excluded
``empty``            empty / NA cells
``out_of_year``      interval starts outside the requested year, excluded
``off_grid``         timestamps not on the 30/60-minute grid, excluded
``bad_timestamp``    timestamps that cannot be parsed, excluded
``unknown_meter``    meter ids not in ``meters`` (or an empty id), excluded
``gap_filled``       hours filled by ``fill=...`` (rows = hour starts)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sim.errors import InputError

__all__ = ["MeterProblem", "MeterData", "read_meter", "PROBLEM_KINDS"]

PROBLEM_KINDS = (
    "missing", "incomplete_hour", "duplicate", "duplicate_conflict",
    "negative", "over_capacity", "looks_like_kw", "non_numeric", "empty",
    "out_of_year", "off_grid", "bad_timestamp", "unknown_meter", "gap_filled",
)

_TS_NAMES = ("timestamp", "datetime", "date_time", "time", "date", "interval_start",
             "interval_end", "日時", "時刻", "計測日時")
_METER_NAMES = ("meter", "meter_id", "meterid", "meter id", "meter_no", "id",
                "メーター", "メーターid", "計器", "計器番号")
_VALUE_NAMES = ("kwh", "value", "energy", "energy_kwh", "kw", "power_kw",
                "kw_mean", "使用量", "電力量")
_KW_VALUE_NAMES = ("kw", "power_kw", "kw_mean")
_KWH_VALUE_NAMES = ("kwh", "energy_kwh", "電力量")

_NUMERIC_RE = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
_OFFSET_RE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_H24_RE = re.compile(r"(?<!\d)24:00(?::00(?:\.0+)?)?")

# statuses of a row's timestamp (stored as negative slot numbers)
_BAD_TS, _OFF_GRID, _OUT_OF_YEAR = -1, -2, -3
_KW_FLAG_FRACTION = 0.01   # share of a meter's intervals above cap x 0.5 h
_MAX_RANGES_SHOWN = 4


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------
@dataclass
class MeterProblem:
    """One kind of problem of one meter (or of a whole file), with its rows.

    Parameters
    ----------
    kind : str
        One of :data:`PROBLEM_KINDS`.
    meter : str or None
        The meter id, or None when the problem concerns whole rows (a bad
        timestamp, a row out of the year).
    rows : list of int, or DatetimeIndex
        1-based data row numbers in ``file``; for ``missing`` and
        ``gap_filled`` the interval start timestamps.
    detail : str
        One human-readable line.
    file : str or None
        The file the rows are in (None for ``missing`` / ``gap_filled``).
    meters : list of str or None
        For a ``duplicate`` reported once for several meter columns of a wide
        file (``meter`` is None then): the meters those rows affect.
    """

    kind: str
    meter: str | None
    rows: list
    detail: str
    file: str | None = None
    meters: list[str] | None = None

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.file, self.meter and f"meter {self.meter}") if p)
        return f"{self.kind}: {where + ': ' if where else ''}{self.detail}"


@dataclass
class MeterData:
    """Hourly metered energy with its problems and repairs.

    Attributes
    ----------
    kwh : pandas.DataFrame
        Energy per hour and meter [kWh]; index: tz-aware hourly
        DatetimeIndex of interval starts covering the whole calendar year;
        columns: meter ids.  NaN where no usable value exists.
    problems : list of MeterProblem
    source : str
        The file(s) read, comma-separated.
    interval_minutes : int
        The interval of the files as read (30 or 60).
    repairs : list of str
        Every conversion and repair applied, one line each.
    filled : pandas.DataFrame or None
        Boolean mask (same shape as ``kwh``) of hours filled by ``fill``.
    capacities_kw : pandas.Series
        Capacity per meter [kW] used for the checks (NaN where unknown).
    """

    kwh: pd.DataFrame
    problems: list[MeterProblem]
    source: str
    interval_minutes: int
    repairs: list[str] = field(default_factory=list)
    filled: pd.DataFrame | None = None
    capacities_kw: pd.Series | None = None
    year: int | None = None

    def summary(self) -> pd.DataFrame:
        """The problems as a table, one row per problem.

        Returns
        -------
        pandas.DataFrame
            Columns ``kind, meter, file, count, first, last, detail``.
        """
        recs = []
        for p in self.problems:
            n = len(p.rows)
            recs.append({"kind": p.kind, "meter": p.meter, "file": p.file,
                         "count": n, "first": p.rows[0] if n else None,
                         "last": p.rows[-1] if n else None, "detail": p.detail})
        cols = ["kind", "meter", "file", "count", "first", "last", "detail"]
        return pd.DataFrame.from_records(recs, columns=cols)

    def filled_kwh(self) -> pd.Series:
        """Energy added by gap filling, per meter [kWh] (zeros without fill)."""
        if self.filled is None:
            return pd.Series(0.0, index=self.kwh.columns, name="filled_kwh")
        out = self.kwh.where(self.filled, 0.0).sum(axis=0)
        out.name = "filled_kwh"
        return out

    def missing_hours(self) -> pd.Series:
        """Hours per meter still without a value in ``kwh``."""
        out = self.kwh.isna().sum(axis=0)
        out.name = "missing_hours"
        return out

    def problems_of(self, kind: str, meter: str | None = None) -> list[MeterProblem]:
        """The problems of one kind (and meter, if given, also as one of ``p.meters``)."""
        return [p for p in self.problems if p.kind == kind and (
            meter is None or p.meter == meter or meter in (p.meters or ()))]

    @property
    def ok(self) -> bool:
        """True when no problem at all was found."""
        return not self.problems


# --------------------------------------------------------------------------
# reading files into flat (long) arrays
# --------------------------------------------------------------------------
@dataclass
class _Part:
    path: str
    layout: str
    ncols: int                 # number of meter columns (1 for long)
    n: int                     # number of cells (rows x ncols)
    ts_codes: np.ndarray       # per data row: index into ts_values
    ts_values: object          # pyarrow array of unique timestamps (str or timestamp)
    meter_codes: np.ndarray    # per cell: index into meter_names (-1 = null)
    meter_names: list
    value: np.ndarray          # per cell, float64, NaN if empty / non-numeric
    nonnum_pos: np.ndarray     # cell positions of non-numeric cells
    nonnum_text: list          # their text
    value_col: str | None = None


def _as_paths(paths) -> list[Path]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out = [Path(p) for p in paths]
    if not out:
        raise InputError("no meter file given", field="paths")
    return out


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    for suf in (".gz", ".bz2", ".zst", ".lz4"):
        if name.endswith(suf):
            name = name[: -len(suf)]
    if name.endswith((".csv", ".txt")):
        return "csv"
    if name.endswith(".tsv"):
        return "tsv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise InputError("unknown file type; expected .csv, .tsv or .parquet",
                     source=path)


def _pick(columns: list[str], wanted: str | None, candidates: tuple, path, what: str,
          required: bool):
    if wanted is not None:
        if wanted not in columns:
            raise InputError(f"no column {wanted!r} ({what}); columns are "
                             f"{_short_list(columns)}", source=path, field=wanted)
        return wanted
    low = {c.strip().lower(): c for c in reversed(columns)}
    for cand in candidates:
        if cand in low:
            return low[cand]
    if required:
        raise InputError(f"no {what} column; expected one of {', '.join(candidates[:5])} "
                         f"(or pass {what}_column=...); columns are "
                         f"{_short_list(columns)}", source=path, field="header")
    return None


def _short_list(items, n=8) -> str:
    items = [str(i) for i in items]
    s = ", ".join(items[:n])
    return s + (f", ... ({len(items)} in all)" if len(items) > n else "")


def _numeric(arr: pa.ChunkedArray | pa.Array, path, column):
    """float64 numpy array from an arrow column; non-numeric cells -> NaN.

    Returns (values, nonnumeric mask or None, texts of the non-numeric cells).
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    if pa.types.is_null(t):
        return np.full(len(arr), np.nan), None, []
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        vals = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return np.asarray(vals, dtype=np.float64), None, []
    if pa.types.is_boolean(t) or pa.types.is_temporal(t):
        arr = arr.cast(pa.string())
    elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise InputError(f"column {column!r} has type {t}; expected numbers",
                         source=path, field=column)
    s = pc.utf8_trim_whitespace(arr)
    s = pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)
    ok = pc.match_substring_regex(s, _NUMERIC_RE)
    bad = pc.and_(pc.invert(ok), pc.is_valid(s))
    bad_np = np.asarray(pc.fill_null(bad, False).to_numpy(zero_copy_only=False), dtype=bool)
    clean = pc.if_else(pc.fill_null(ok, False), s, pa.scalar(None, pa.string()))
    vals = np.asarray(clean.cast(pa.float64()).to_numpy(zero_copy_only=False),
                      dtype=np.float64)
    texts = []
    if bad_np.any():
        texts = arr.filter(pa.array(bad_np)).to_pylist()
    return vals, bad_np, texts


def _dict_encode(col: pa.ChunkedArray):
    """(codes int32 numpy with -1 for null, unique values as pyarrow Array)."""
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    col = col.unify_dictionaries() if isinstance(col, pa.ChunkedArray) else col
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    if not chunks:
        return np.zeros(0, np.int32), pa.array([], pa.string())
    dictionary = chunks[0].dictionary
    parts = [np.asarray(c.indices.fill_null(-1).to_numpy(zero_copy_only=False))
             for c in chunks]
    codes = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return codes.astype(np.int32, copy=False), dictionary


def _read_table(path: Path, kind: str, encoding: str, ts_col_hint, layout, meter_hint,
                value_hint):
    """Read a file into a pyarrow Table; returns (table, ts, meter, value, layout)."""
    if not path.exists():
        raise InputError("file not found", source=path)
    try:
        if kind == "parquet":
            columns = pq.read_schema(path).names
        else:
            ro = pacsv.ReadOptions(encoding=encoding, block_size=1 << 24)
            po = pacsv.ParseOptions(delimiter="\t" if kind == "tsv" else ",")
            with pacsv.open_csv(path, read_options=ro, parse_options=po) as rd:
                columns = rd.schema.names
    except InputError:
        raise
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"cannot read the file: {_first_line(e)}", source=path) from None
    columns = [str(c) for c in columns]
    if columns and columns[0].startswith("\ufeff"):
        columns[0] = columns[0][1:]
    ts_col = _pick(columns, ts_col_hint, _TS_NAMES, path, "timestamp", True)
    meter_col = _pick(columns, meter_hint, _METER_NAMES, path, "meter", False)
    value_col = _pick(columns, value_hint, _VALUE_NAMES, path, "value", False)
    if layout == "auto":
        layout = "long" if (meter_col is not None and value_col is not None) else "wide"
    if layout == "long":
        if meter_col is None:
            _pick(columns, meter_hint, _METER_NAMES, path, "meter", True)
        if value_col is None:
            _pick(columns, value_hint, _VALUE_NAMES, path, "value", True)
    elif layout != "wide":
        raise InputError(f"layout must be 'auto', 'long' or 'wide', not {layout!r}",
                         field="layout")
    try:
        if kind == "parquet":
            table = pq.read_table(path)
            if table.schema.names and table.schema.names[0].startswith("\ufeff"):
                table = table.rename_columns(columns)
        else:
            dict_str = pa.dictionary(pa.int32(), pa.string())
            types = {ts_col: dict_str if layout == "long" else pa.string()}
            if layout == "long":
                types[meter_col] = dict_str
                types[value_col] = pa.float64()
            ro = pacsv.ReadOptions(encoding=encoding, block_size=1 << 24)
            po = pacsv.ParseOptions(delimiter="\t" if kind == "tsv" else ",")

            def _read(types):
                co = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
                return pacsv.read_csv(path, read_options=ro, parse_options=po,
                                      convert_options=co)
            try:
                table = _read(types)
            except pa.ArrowInvalid as e:
                if layout == "long" and "conversion error to double" in str(e):
                    types[value_col] = pa.string()   # non-numeric cells: parse below
                    table = _read(types)
                else:
                    raise
            if table.column_names and table.column_names[0].startswith("\ufeff"):
                table = table.rename_columns(columns)
    except InputError:
        raise
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"cannot read the file: {_first_line(e)}", source=path) from None
    return table, ts_col, meter_col, value_col, layout


def _first_line(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return s[0] if s else type(e).__name__


def _load_part(path: Path, *, layout, encoding, timestamp_column, meter_column,
               value_column) -> _Part:
    kind = _file_kind(path)
    table, ts_col, meter_col, value_col, layout = _read_table(
        path, kind, encoding, timestamp_column, layout, meter_column, value_column)
    if table.num_rows == 0:
        raise InputError("the file has no data rows", source=path)
    ts_codes, ts_values = _dict_encode(table.column(ts_col))
    if layout == "long":
        meter = table.column(meter_col)
        if not (pa.types.is_dictionary(meter.type) or pa.types.is_string(meter.type)
                or pa.types.is_large_string(meter.type)):
            meter = meter.cast(pa.string())
        elif pa.types.is_dictionary(meter.type) and not pa.types.is_string(meter.type.value_type):
            meter = meter.cast(pa.string())
        meter_codes, names = _dict_encode(meter)
        names = [str(x) for x in names.cast(pa.string()).to_pylist()]
        value, bad, texts = _numeric(table.column(value_col), path, value_col)
        del table
        nonnum = np.flatnonzero(bad) if bad is not None else np.zeros(0, np.int64)
        return _Part(str(path), "long", 1, len(value), ts_codes, ts_values,
                     meter_codes, names, value, nonnum, texts, value_col)
    # wide
    mcols = [c for c in table.column_names if c != ts_col]
    if not mcols:
        raise InputError("no meter columns beside the timestamp column", source=path,
                         field="header")
    R, C = table.num_rows, len(mcols)
    mat = np.empty((R, C), dtype=np.float64)
    nonnum, texts = [], []
    for j, c in enumerate(mcols):
        v, bad, tx = _numeric(table.column(c), path, c)
        mat[:, j] = v
        if bad is not None and bad.any():
            nonnum.append(np.flatnonzero(bad) * C + j)
            texts.extend(tx)
    del table
    nonnum_pos = np.concatenate(nonnum) if nonnum else np.zeros(0, np.int64)
    if len(nonnum_pos):
        order = np.argsort(nonnum_pos, kind="stable")
        nonnum_pos = nonnum_pos[order]
        texts = [texts[i] for i in order]
    names = [str(c).strip() for c in mcols]
    meter_codes = np.tile(np.arange(C, dtype=np.int32), R)
    return _Part(str(path), "wide", C, R * C, ts_codes, ts_values, meter_codes, names,
                 mat.reshape(-1), nonnum_pos, texts, None)


# --------------------------------------------------------------------------
# timestamps
# --------------------------------------------------------------------------
def _parse_unique_ts(values: pa.Array, tz: str, path) -> tuple[np.ndarray, list[str]]:
    """Parse unique timestamps -> int64 ns (NaT as iNaT) in ``tz``; notes."""
    notes: list[str] = []
    t = values.type
    n = len(values)
    nat = np.iinfo(np.int64).min
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        idx = pd.DatetimeIndex(values.to_pandas())
        if idx.tz is None:
            idx = idx.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            notes.append(f"naive timestamps taken as {tz} time")
        else:
            idx = idx.tz_convert(tz)
            notes.append(f"timestamps with time zone converted to {tz}")
        return idx.as_unit("ns").asi8.copy(), notes
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise InputError(f"timestamp column has type {t}; expected date-times",
                         source=path, field="timestamp")
    s = pd.Series(values.to_pylist(), dtype=object)
    out = np.full(n, nat, dtype=np.int64)
    ok = s.notna().to_numpy()
    s = s[ok].astype(str).str.strip()
    h24 = s.str.contains(_H24_RE).to_numpy()
    if h24.any():
        s = s.str.replace(_H24_RE, "00:00", regex=True)
        notes.append('"24:00" read as 00:00 of the next day')
    has_off = s.str.contains(_OFFSET_RE).to_numpy()
    res = np.full(len(s), nat, dtype=np.int64)
    for mask, aware in ((~has_off, False), (has_off, True)):
        if not mask.any():
            continue
        sub = s[mask]
        dt = _to_datetime(sub, utc=aware)
        if aware:
            dt = dt.tz_convert(tz)
            notes.append(f"timestamps with UTC offset converted to {tz}")
        else:
            dt = dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            notes.append(f"naive timestamps taken as {tz} time")
        res[mask] = dt.as_unit("ns").asi8
    if h24.any():
        day = 86_400 * 10**9
        res[h24 & (res != nat)] += day
    out[ok] = res
    return out, notes


def _to_datetime(sub: pd.Series, utc: bool) -> pd.DatetimeIndex:
    arr = sub.to_numpy()
    for fmt in ("ISO8601", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S"):
        try:
            return pd.DatetimeIndex(pd.to_datetime(arr, format=fmt, utc=utc))
        except (ValueError, TypeError):
            continue
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return pd.DatetimeIndex(pd.to_datetime(arr, format="mixed", errors="coerce",
                                               utc=utc))


def _detect_interval(ts_ns: np.ndarray, path) -> int | None:
    nat = np.iinfo(np.int64).min
    u = np.unique(ts_ns[ts_ns != nat])
    if len(u) < 2:
        return None
    d = np.diff(u) // (60 * 10**9)
    vals, cnt = np.unique(d[d > 0], return_counts=True)
    if not len(vals):
        return None
    return int(vals[np.argmax(cnt)])


# --------------------------------------------------------------------------
# helpers for problems
# --------------------------------------------------------------------------
def _fmt_ts(ns: int, tz: str) -> str:
    return pd.Timestamp(ns, tz=tz).strftime("%Y-%m-%d %H:%M")


def _ranges(slots: np.ndarray, start_ns: int, step_ns: int, tz: str) -> str:
    """Compress sorted slot numbers into 'a–b' time ranges for a detail line."""
    return _compress(slots, lambda s: _fmt_ts(start_ns + int(s) * step_ns, tz))


def _compress(values, fmt=str) -> str:
    """Compress sorted integers into 'a–b' ranges (each end shown by ``fmt``)."""
    values = np.asarray(values)
    if not len(values):
        return ""
    brk = np.flatnonzero(np.diff(values) != 1)
    starts = np.r_[values[0], values[brk + 1]]
    ends = np.r_[values[brk], values[-1]]
    parts = [fmt(a) if a == b else f"{fmt(a)}–{fmt(b)}"
             for a, b in zip(starts[:_MAX_RANGES_SHOWN], ends[:_MAX_RANGES_SHOWN])]
    more = len(starts) - _MAX_RANGES_SHOWN
    s = ", ".join(parts)
    if more > 0:
        s += f" (+{more} more ranges)"
    return s


class _Locator:
    """Maps global cell positions to (file, row, meter code)."""

    def __init__(self, parts: list[_Part]):
        self.offsets = np.cumsum([0] + [p.n for p in parts])
        self.ncols = np.array([p.ncols for p in parts])
        self.paths = [p.path for p in parts]

    def locate(self, pos: np.ndarray):
        f = np.searchsorted(self.offsets, pos, side="right") - 1
        local = pos - self.offsets[f]
        row = local // self.ncols[f] + 1
        return f, row


# --------------------------------------------------------------------------
# main entry point
# --------------------------------------------------------------------------
def read_meter(paths, *, year: int, layout: str = "auto", interval="auto",
               label: str = "start", timezone: str = "Asia/Tokyo",
               meters: Iterable[str] | None = None,
               capacities_kw: Mapping[str, float] | pd.Series | float | None = None,
               unit: str = "kWh", fill: str | None = None,
               fill_max_hours: int | None = 6, profile_days: int = 7,
               timestamp_column: str | None = None, meter_column: str | None = None,
               value_column: str | None = None, encoding: str = "utf-8",
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
        stated one, no parseable timestamp at all.
    """
    # ---- arguments ---------------------------------------------------------
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
    path_list = _as_paths(paths)
    tz = timezone

    # ---- read -------------------------------------------------------------
    parts = [_load_part(p, layout=layout, encoding=encoding,
                        timestamp_column=timestamp_column, meter_column=meter_column,
                        value_column=value_column) for p in path_list]
    for part in parts:
        vc = (part.value_col or "").strip().lower()
        if part.layout == "long" and unit_n == "kwh" and vc in _KW_VALUE_NAMES:
            raise InputError(f"value column {part.value_col!r} is named as kW but unit='kWh' "
                             "was given; pass unit='kW' to convert kW means to kWh",
                             source=part.path, field=part.value_col)
        if part.layout == "long" and unit_n == "kw" and vc in _KWH_VALUE_NAMES:
            raise InputError(f"value column {part.value_col!r} is named as kWh but unit='kW' "
                             "was given", source=part.path, field=part.value_col)

    repairs: list[str] = []
    year_start = pd.Timestamp(year=year, month=1, day=1, tz=tz)
    year_end = pd.Timestamp(year=year + 1, month=1, day=1, tz=tz)
    hours = pd.date_range(year_start, year_end, freq="h", inclusive="left", name="time")
    H = len(hours)
    y0 = year_start.value

    # ---- timestamps: parse the unique values per file, detect interval -------
    parsed = []
    intervals = {}
    nat = np.iinfo(np.int64).min
    for part in parts:
        # (the dictionary holds only values present in the file)
        ts_ns, notes = _parse_unique_ts(part.ts_values, tz, part.path)
        if not (ts_ns != nat).any():
            raise InputError("no timestamp could be read (e.g. "
                             f"{_example_ts(part)!r})", source=part.path, field="timestamp")
        for note in dict.fromkeys(notes):
            repairs.append(f"{part.path}: {note}")
        det = _detect_interval(ts_ns, part.path)
        if interval == "auto":
            if det is None:
                raise InputError("cannot detect the interval from a single timestamp; "
                                 "pass interval=30 or 60", source=part.path, field="interval")
            if det not in (30, 60):
                raise InputError(f"timestamps are {det} minutes apart; expected 30 or 60 "
                                 "(or pass interval=)", source=part.path, field="timestamp")
        elif det is not None and det != interval and det in (30, 60, 15, 5, 10):
            raise InputError(f"interval={interval} was given but the timestamps are {det} "
                             "minutes apart", source=part.path, field="timestamp")
        intervals[part.path] = interval if interval != "auto" else det
        parsed.append(ts_ns)
    ivals = set(intervals.values())
    if len(ivals) > 1:
        raise InputError("the files have different intervals: "
                         + ", ".join(f"{k}: {v} min" for k, v in intervals.items())
                         + "; read them separately", field="interval")
    imin = ivals.pop()
    step = imin * 60 * 10**9
    S = H * 60 // imin
    ih = imin / 60.0
    if label == "end":
        repairs.append(f"timestamps label the interval END: shifted back {imin} min "
                       "to interval starts")

    # per-file: slot (or negative status) per unique timestamp, then per cell
    slot_parts = []
    for part, ts_ns in zip(parts, parsed):
        ok = ts_ns != nat
        start = np.where(ok, ts_ns - (step if label == "end" else 0), 0)
        rel = start - y0
        s_u = np.full(len(ts_ns), _BAD_TS, dtype=np.int32)
        on_grid = ok & (rel % step == 0)
        s_u[ok & ~on_grid] = _OFF_GRID
        sl = rel // step
        in_year = on_grid & (sl >= 0) & (sl < S)
        s_u[on_grid & ~in_year] = _OUT_OF_YEAR
        s_u[in_year] = sl[in_year]
        row_slot = np.where(part.ts_codes >= 0, s_u[np.maximum(part.ts_codes, 0)], _BAD_TS)
        row_slot = row_slot.astype(np.int32, copy=False)
        if part.layout == "wide":
            row_slot = np.repeat(row_slot, part.ncols)
        slot_parts.append(row_slot)
        part.ts_codes = None

    # ---- meters: global codes ---------------------------------------------
    seen: dict[str, None] = {}
    for part in parts:
        for nm in part.meter_names:
            seen.setdefault(nm, None)
    if meters is not None:
        known = [str(m) for m in meters]
        if len(set(known)) != len(known):
            raise InputError("meters has duplicate ids", field="meters")
    else:
        known = sorted(seen)
    M = len(known)
    ext = list(known) + [m for m in seen if m not in set(known)]  # unknown after known
    code_of = {m: i for i, m in enumerate(ext)}
    code_parts = []
    for part in parts:
        lut = np.array([code_of[nm] for nm in part.meter_names] + [-1], dtype=np.int32)
        c = part.meter_codes
        code_parts.append(lut[np.where(c >= 0, c, len(lut) - 1)])
        part.meter_codes = None

    # ---- capacities ---------------------------------------------------------
    cap = np.full(M, np.nan)
    if capacities_kw is not None:
        if isinstance(capacities_kw, (int, float, np.floating, np.integer)):
            if not (np.isfinite(capacities_kw) and capacities_kw > 0):
                raise InputError(f"capacity must be a positive number of kW, not "
                                 f"{capacities_kw!r}", field="capacities_kw")
            cap[:] = float(capacities_kw)
        else:
            for k, v in dict(capacities_kw).items():
                try:
                    v = float(v)
                except (TypeError, ValueError):
                    v = np.nan
                if not np.isfinite(v) or v <= 0:
                    raise InputError(f"capacity must be a positive number of kW, not {v!r}",
                                     field=f"capacities_kw[{k}]")
                if str(k) in code_of and code_of[str(k)] < M:
                    cap[code_of[str(k)]] = v

    # ---- flat arrays ----------------------------------------------------------
    def _cat(arrs):
        return arrs[0] if len(arrs) == 1 else np.concatenate(arrs)

    slot = _cat(slot_parts)
    del slot_parts
    code = _cat(code_parts)
    del code_parts
    value = _cat([p.value for p in parts])
    for p in parts:
        p.value = None
    offsets = np.cumsum([0] + [p.n for p in parts])
    nonnum = _cat([p.nonnum_pos + off for p, off in zip(parts, offsets[:-1])]
                  ) if parts else np.zeros(0, np.int64)
    nonnum_text = [t for p in parts for t in p.nonnum_text]
    loc = _Locator(parts)

    if unit_n == "kw":
        value = value * ih
        repairs.append(f"converted kW means to kWh: x {ih:g} h per {imin}-minute interval "
                       "(unit='kW')")

    problems: list[MeterProblem] = []
    file_meters = [[nm for nm in p.meter_names if code_of[nm] < M] for p in parts]

    def add_rows(kind, pos, detail_fn, by_meter=True, wide_detail_fn=None):
        """Group cell positions by (file, meter) into problems.

        With ``wide_detail_fn(pos, rows, meters, file_meters)``, the meters of a
        wide file that have exactly the same rows make one problem (meter None,
        ``meters`` listed), so a bad row is reported once, not once per column.
        """
        if not len(pos):
            return
        pos = np.asarray(pos)
        f, row = loc.locate(pos)
        mc = code[pos] if by_meter else np.zeros(len(pos), np.int32)
        order = np.lexsort((row, mc, f))
        pos, f, row, mc = pos[order], f[order], row[order], mc[order]
        brk = np.flatnonzero((np.diff(f) != 0) | (np.diff(mc) != 0)) + 1
        same_rows: dict[tuple, list] = {}   # (file, rows) -> [(meter, cell positions)]
        for a, b in zip(np.r_[0, brk], np.r_[brk, len(pos)]):
            rws = np.unique(row[a:b]) if not by_meter else row[a:b]
            m = None
            if by_meter:
                m = ext[mc[a]] if mc[a] >= 0 else None
            if wide_detail_fn is not None and m is not None and parts[f[a]].layout == "wide":
                same_rows.setdefault((int(f[a]), tuple(rws.tolist())), []).append(
                    (m, pos[a:b]))
                continue
            problems.append(MeterProblem(kind, m, rws.tolist(),
                                         detail_fn(pos[a:b], m), loc.paths[f[a]]))
        for (fi, rws), group in same_rows.items():
            if len(group) == 1:
                m, p = group[0]
                problems.append(MeterProblem(kind, m, list(rws), detail_fn(p, m),
                                             loc.paths[fi]))
                continue
            ms = [m for m, _ in group]
            p = np.concatenate([p for _, p in group])
            problems.append(MeterProblem(kind, None, list(rws),
                                         wide_detail_fn(p, rws, ms, file_meters[fi]),
                                         loc.paths[fi], meters=ms))

    # ---- timestamp problems (whole rows) --------------------------------------
    for status, kind, text in (
            (_BAD_TS, "bad_timestamp", "with a timestamp that cannot be read"),
            (_OFF_GRID, "off_grid", f"with a timestamp not on the {imin}-minute grid"),
            (_OUT_OF_YEAR, "out_of_year", f"with an interval start outside {year}")):
        pos = np.flatnonzero(slot == status)
        add_rows(kind, pos, lambda p, m, text=text: _rows_detail(
            len(np.unique(loc.locate(p)[1])), f"rows {text}; excluded"), by_meter=False)
    valid_key = slot >= 0

    # ---- unknown meters ---------------------------------------------------------
    unknown = valid_key & ((code >= M) | (code < 0))
    pos = np.flatnonzero(unknown)
    add_rows("unknown_meter", pos, lambda p, m: (
        f"{len(p)} rows of meter id {m!r} not in the given meters; excluded"
        if m is not None else f"{len(p)} rows without a meter id; excluded"))
    valid_key &= ~unknown
    del unknown

    # ---- duplicates -----------------------------------------------------------
    kdt = np.int32 if M * S < 2**31 else np.int64
    if valid_key.all():        # the usual case: no index array needed
        kidx = None
        key = code.astype(kdt) * kdt(S) + slot
    else:
        kidx = np.flatnonzero(valid_key)
        key = code[kidx].astype(kdt) * kdt(S) + slot[kidx]
    counts = np.bincount(key, minlength=M * S)
    present = (counts > 0).reshape(M, S)
    dup_local = counts[key] > 1
    del counts
    keep = valid_key.copy()
    if dup_local.any():
        dpos = kidx[dup_local] if kidx is not None else np.flatnonzero(dup_local)
        df = pd.DataFrame({"key": key[dup_local], "v": value[dpos], "pos": dpos})
        g = df.groupby("key", sort=False)["v"]
        vmin, vmax = g.transform("min"), g.transform("max")
        n_num, n_all = g.transform("count"), g.transform("size")
        first = ~df.duplicated("key", keep="first")
        conflict = ((vmin != vmax) | ((n_num > 0) & (n_num < n_all))).to_numpy()
        ident_pos = dpos[~conflict]
        keep[dpos[conflict]] = False
        keep[dpos[~conflict & ~first.to_numpy()]] = False
        if len(ident_pos):
            n_extra = int((~conflict & ~first.to_numpy()).sum())
            repairs.append(f"ignored {n_extra} identical duplicate values (the first of each "
                           "kept); listed as 'duplicate'")
        def _dup_rows_detail(p, rws, ms, all_ms):
            who = (f"all {len(ms)} meters" if set(ms) >= set(all_ms) else
                   f"{len(ms)} meters: {_short_list(ms)}")
            return (f"rows {_compress(rws)} repeat a timestamp with identical values "
                    f"({who}); the first of each is used, "
                    f"{len(rws) - len(np.unique(slot[p]))} ignored")
        add_rows("duplicate", ident_pos, lambda p, m: (
            f"{len(p)} rows repeat a timestamp with identical values; the first of "
            f"each is used, {len(p) - len(np.unique(slot[p]))} ignored"),
            wide_detail_fn=_dup_rows_detail)
        cpos = dpos[conflict]

        def _conf_detail(p, m):
            ex = p[slot[p] == slot[p[0]]]
            vals = ", ".join(f"{value[i]:g}" for i in ex[:4])
            return (f"{len(np.unique(slot[p]))} intervals given more than once with "
                    f"different values (e.g. {_fmt_ts(y0 + int(slot[p[0]]) * step, tz)}: "
                    f"{vals}); all {len(p)} rows excluded")
        add_rows("duplicate_conflict", cpos, _conf_detail)
    del key, kidx, dup_local

    # ---- values -----------------------------------------------------------------
    unit_s = "kWh"
    if len(nonnum):
        nn = np.zeros(len(value), bool)
        nn[nonnum] = True
        text_of = dict(zip(nonnum.tolist(), nonnum_text))
        pos = np.flatnonzero(nn & valid_key)
        add_rows("non_numeric", pos, lambda p, m: (
            f"{len(p)} non-numeric values (e.g. {text_of.get(int(p[0]))!r}); excluded"))
    else:
        nn = None
    isnan = np.isnan(value)
    empty = isnan & valid_key
    if nn is not None:
        empty &= ~nn
    add_rows("empty", np.flatnonzero(empty), lambda p, m: f"{len(p)} empty/NA values")
    del empty, nn
    neg = valid_key & (value < 0)
    add_rows("negative", np.flatnonzero(neg), lambda p, m: (
        f"{len(p)} negative values (min {value[p].min():g} {unit_s}); excluded"))
    bad_val = neg | isnan
    del neg, isnan
    over_pos = np.zeros(0, np.int64)
    if np.isfinite(cap).any():
        limit = np.append(cap * ih, np.nan)  # code -1 -> nan
        lim = limit[np.where((code >= 0) & (code < M), code, M)]
        over = valid_key & (value > lim * (1 + 1e-9))
        over_pos = np.flatnonzero(over)
        add_rows("over_capacity", over_pos, lambda p, m: (
            f"{len(p)} values above capacity {cap[code[p[0]]]:g} kW x {ih:g} h = "
            f"{cap[code[p[0]]] * ih:g} kWh (max {value[p].max():g}); excluded"))
        bad_val |= over
        # looks like kW: 30-min kWh values above cap x 0.5 h but never above cap x 1 h
        if unit_n == "kwh" and imin == 30 and len(over_pos):
            mc = code[over_pos]
            n_over = np.bincount(mc, minlength=M)
            vk = valid_key & ~np.isnan(value)
            n_valid = np.bincount(code[vk], minlength=M)
            vmax = np.full(M, -np.inf)
            np.maximum.at(vmax, mc, value[over_pos])
            sus = (n_over >= np.maximum(2, _KW_FLAG_FRACTION * n_valid)) & \
                  (vmax <= cap * (1 + 1e-9))
            if sus.any():
                lk = over_pos[sus[mc]]
                add_rows("looks_like_kw", lk, lambda p, m: (
                    f"{len(p)} values exceed capacity x 0.5 h but none exceeds capacity "
                    "x 1 h: the values look like kW means, not kWh per 30 min; "
                    "pass unit='kW' if so"))
        del over, lim
    keep &= ~bad_val
    del bad_val

    # ---- matrix -----------------------------------------------------------------
    nat_mat = np.full(S * M, np.nan, dtype=np.float64)
    if keep.all():               # the usual case: no position array needed
        kpos = None
        nat_mat[slot.astype(np.int64) * M + code] = value
    else:
        kpos = np.flatnonzero(keep)
        nat_mat[slot[kpos].astype(np.int64) * M + code[kpos]] = value[kpos]
    del keep
    nat_mat = nat_mat.reshape(S, M)
    del value

    # missing intervals (native) per meter
    usable = ~np.isnan(nat_mat)
    miss_t = (~usable).T    # (M, S) view
    m_idx, s_idx = np.nonzero(miss_t)
    if len(m_idx):
        brk = np.flatnonzero(np.diff(m_idx)) + 1
        unit_word = "hours" if imin == 60 else "half-hours"
        native_idx = pd.date_range(year_start, periods=S, freq=f"{imin}min", name="time")
        for a, b in zip(np.r_[0, brk], np.r_[brk, len(m_idx)]):
            mi = int(m_idx[a])
            sl = s_idx[a:b]
            n_abs = int((~present[mi, sl]).sum())
            n_exc = len(sl) - n_abs
            if n_abs == S:
                why = "no data at all"
            else:
                why = f"{n_abs} absent from the file(s), {n_exc} excluded (see other problems)"
            problems.append(MeterProblem(
                "missing", known[mi], native_idx[sl],
                f"{len(sl)} of {S} {unit_word} without a usable value ({why}): "
                f"{_ranges(sl, y0, step, tz)}"))
    del present, miss_t, m_idx, s_idx

    # 30 -> 60 minutes
    if imin == 30:
        pair = usable.reshape(H, 2, M).sum(axis=1)   # 0, 1, 2 usable halves
        inc = pair == 1
        n_inc = int(inc.sum())
        if n_inc:
            # the present halves that are not used: their rows and energy
            if kpos is None:
                kpos = np.arange(len(slot))
            ks = slot[kpos]
            kc = code[kpos]
            lpos = kpos[inc[ks // 2, kc]]
            flat = nat_mat.reshape(-1)

            def _inc_detail(p, m):
                e = flat[slot[p].astype(np.int64) * M + code[p]].sum()
                return (f"{len(p)} hours have only one usable half-hour; each hour is left "
                        f"missing and the present halves ({e:.6g} kWh) are not used")
            add_rows("incomplete_hour", lpos, _inc_detail)
            del flat, ks, kc
        hourly = nat_mat.reshape(H, 2, M).sum(axis=1)   # NaN if any half NaN
        del nat_mat
        repairs.append(f"summed 30-minute kWh into hours (both halves required; {n_inc} "
                       "meter-hours with a single half left missing)")
        del inc, pair
    else:
        hourly = nat_mat
        del nat_mat
    del usable, slot, code, kpos

    # ---- fill -----------------------------------------------------------------
    filled_mask = None
    if fill is not None:
        filled_mask = _fill(hourly, fill, fill_max_hours, profile_days)
        if filled_mask.any():
            fm_t = filled_mask.T
            m_i, h_i = np.nonzero(fm_t)
            brk = np.flatnonzero(np.diff(m_i)) + 1
            how = ("linear interpolation" if fill == "interpolate" else
                   f"mean of the same hour on up to {profile_days} days either side")
            lim_s = (f"gaps up to {fill_max_hours} h" if fill_max_hours is not None
                     else "gaps of any length")
            for a, b in zip(np.r_[0, brk], np.r_[brk, len(m_i)]):
                mi = int(m_i[a])
                hh = h_i[a:b]
                e = float(hourly[hh, mi].sum())
                ngaps = 1 + int((np.diff(hh) != 1).sum())
                problems.append(MeterProblem(
                    "gap_filled", known[mi], hours[hh],
                    f"{len(hh)} hours in {ngaps} gaps filled by {how} ({e:.6g} kWh): "
                    f"{_ranges(hh, y0, 3600 * 10**9, tz)}"))
                repairs.append(f"meter {known[mi]}: filled {len(hh)} h in {ngaps} gaps "
                               f"({lim_s}) by {how}, {e:.6g} kWh added")
        else:
            repairs.append(f"fill={fill!r}: nothing to fill")

    kwh = pd.DataFrame(hourly.astype(dtype, copy=False), index=hours,
                       columns=pd.Index(known, name="meter"), copy=False)
    kwh.attrs.update({"unit": "kWh", "label": "interval start", "timezone": tz})
    filled = None
    if filled_mask is not None:
        filled = pd.DataFrame(filled_mask, index=hours,
                              columns=pd.Index(known, name="meter"), copy=False)
    order = {k: i for i, k in enumerate(PROBLEM_KINDS)}
    problems.sort(key=lambda p: (order.get(p.kind, 99), p.meter or "", p.file or ""))
    return MeterData(kwh=kwh, problems=problems,
                     source=", ".join(str(p) for p in path_list),
                     interval_minutes=imin, repairs=repairs, filled=filled,
                     capacities_kw=pd.Series(cap, index=pd.Index(known, name="meter"),
                                             name="capacity_kw"),
                     year=year)


def _rows_detail(n: int, text: str) -> str:
    return f"{n} {text}"


def _example_ts(part: _Part) -> str:
    try:
        vals = [v for v in part.ts_values.to_pylist() if v is not None]
        return str(vals[0]) if vals else ""
    except Exception:  # noqa: BLE001
        return ""


def _fill(h: np.ndarray, how: str, max_hours: int | None, days: int) -> np.ndarray:
    """Fill NaN gaps of ``h`` (H, M) in place; returns the mask of filled cells."""
    H, M = h.shape
    nan = np.isnan(h)
    if not nan.any():
        return np.zeros_like(nan)
    ar = np.arange(H, dtype=np.int32)[:, None]
    prev = np.where(~nan, ar, -1)
    np.maximum.accumulate(prev, axis=0, out=prev)
    nxt = np.where(~nan, ar, H)
    nxt = np.minimum.accumulate(nxt[::-1], axis=0)[::-1]
    gap_len = nxt - prev - 1
    ok = nan.copy()
    if max_hours is not None:
        ok &= gap_len <= max_hours
    if how == "interpolate":
        ok &= (prev >= 0) & (nxt < H)
        r, c = np.nonzero(ok)
        p, n = prev[r, c], nxt[r, c]
        vp, vn = h[p, c], h[n, c]
        h[r, c] = vp + (vn - vp) * (r - p) / (n - p)
        return ok
    # profile: same hour on neighbouring days (original values only)
    D = H // 24
    orig = h.reshape(D, 24, M)
    tot = np.zeros_like(orig)
    cnt = np.zeros(orig.shape, dtype=np.int32)
    for k in range(1, days + 1):
        for sgn in (1, -1):
            src = np.roll(orig, -sgn * k, axis=0)
            valid = ~np.isnan(src)
            if sgn == 1:
                valid[D - k:] = False
            else:
                valid[:k] = False
            tot += np.where(valid, src, 0.0)
            cnt += valid
    est = np.divide(tot, cnt, out=np.full_like(tot, np.nan), where=cnt > 0).reshape(H, M)
    ok &= cnt.reshape(H, M) > 0
    h[ok] = est[ok]
    return ok


def rows_text(rows, limit: int = 12) -> str:
    """Rows (ints) or timestamps as compact ranges: ``2-5, 9, 12-14``."""
    n = len(rows)
    if n == 0:
        return ""
    if isinstance(rows, pd.DatetimeIndex):
        ns = rows.asi8
        step = int(np.median(np.diff(ns))) if n > 1 else 3600 * 10**9
        brk = np.flatnonzero(np.diff(ns) != step) + 1
        parts = []
        for a, b in zip(np.r_[0, brk], np.r_[brk, n]):
            s = rows[a].strftime("%Y-%m-%d %H:%M")
            parts.append(s if b - a == 1 else f"{s}..{rows[b - 1].strftime('%m-%d %H:%M')}")
    else:
        r = np.asarray(rows, dtype=np.int64)
        brk = np.flatnonzero(np.diff(r) != 1) + 1
        parts = [str(r[a]) if b - a == 1 else f"{r[a]}-{r[b - 1]}"
                 for a, b in zip(np.r_[0, brk], np.r_[brk, len(r)])]
    more = len(parts) - limit
    return ", ".join(parts[:limit]) + (f", ... ({more} more ranges)" if more > 0 else "")
