"""Steps 2 and 3: parse time stamps, detect the interval (per file segment)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.errors import InputError

_OFFSET_RE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_H24_RE = re.compile(r"(?<!\d)24:00(?::00(?:\.0+)?)?")
#: day and month in either order before a year: 05/03/2023, 5.3.23, 05-03-2023
_DMY_RE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?!\d)")
#: consecutive equal steps that make a segment of one interval (12 h of 30-min rows)
_MIN_RUN = 24


def _parse_unique_ts(values: pa.Array, tz: str, path,
                     date_format: str | None = None) -> tuple[np.ndarray, list[str]]:
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
    if date_format is None:
        _refuse_ambiguous_dates(s, path)
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
        dt = _to_datetime(sub, utc=aware, date_format=date_format)
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


def _to_datetime(sub: pd.Series, utc: bool, date_format: str | None = None
                 ) -> pd.DatetimeIndex:
    arr = sub.to_numpy()
    if date_format is not None:   # stated: unreadable stamps become bad_timestamp rows
        try:
            return pd.DatetimeIndex(pd.to_datetime(arr, format=date_format,
                                                   errors="coerce", utc=utc))
        except ValueError as e:
            raise InputError(f"date_format {date_format!r} is not a strftime format: {e}",
                             field="date_format") from None
    for fmt in ("ISO8601", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S"):
        try:
            return pd.DatetimeIndex(pd.to_datetime(arr, format=fmt, utc=utc))
        except (ValueError, TypeError):
            continue
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return pd.DatetimeIndex(pd.to_datetime(arr, format="mixed", errors="coerce",
                                               utc=utc))


def _segments(u: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs of at least ``_MIN_RUN`` equal steps in sorted unique stamps ``u`` [ns]:
    (minutes, first stamp, last stamp) each."""
    d = np.diff(u) // (60 * 10**9)
    if not len(d):
        return []
    brk = np.flatnonzero(np.diff(d) != 0) + 1
    out = []
    for a, b in zip(np.r_[0, brk], np.r_[brk, len(d)]):
        if b - a >= _MIN_RUN and d[a] > 0:
            out.append((int(d[a]), int(u[a]), int(u[b])))
    return out


def _detect_interval(ts_ns: np.ndarray, path, tz: str = "UTC") -> int | None:
    """The file's interval [min]: the most common step between its unique stamps.

    A file whose interval changes (e.g. hourly rows January-September and
    30-minute rows from October) is refused: read as one interval, one of the
    parts would be halved or dropped as off-grid.
    """
    nat = np.iinfo(np.int64).min
    u = np.unique(ts_ns[ts_ns != nat])
    if len(u) < 2:
        return None
    segs = _segments(u)
    if len({m for m, _, _ in segs}) > 1:
        def fmt(ns):
            return pd.Timestamp(ns, tz="UTC").tz_convert(tz).strftime("%Y-%m-%d %H:%M")
        shown = "; ".join(f"{m} min {fmt(a)}–{fmt(b)}" for m, a, b in segs[:6])
        more = f" (+{len(segs) - 6} more)" if len(segs) > 6 else ""
        raise InputError(f"the interval changes within the file: {shown}{more}; split the "
                         "file where the interval changes and give each part with its own "
                         "interval", source=path, field="interval")
    d = np.diff(u) // (60 * 10**9)
    vals, cnt = np.unique(d[d > 0], return_counts=True)
    if not len(vals):
        return None
    return int(vals[np.argmax(cnt)])


def _refuse_ambiguous_dates(s: pd.Series, path) -> None:
    """DD/MM/YYYY or MM/DD/YYYY without a stated format: refused, never guessed."""
    head = s.str.extract(_DMY_RE)
    hit = head[0].notna().to_numpy()
    if not hit.any():
        return
    a = head[0][hit].astype(int)
    b = head[1][hit].astype(int)
    hint = ("the file has first fields above 12, which suggests day first"
            if (a > 12).any() and not (b > 12).any() else
            "the file has second fields above 12, which suggests month first"
            if (b > 12).any() and not (a > 12).any() else "the file does not decide it")
    raise InputError(f"ambiguous date format (e.g. {s[hit].iloc[0]!r}: day/month or "
                     f"month/day?; {hint}); state it, e.g. date_format = "
                     "\"%d/%m/%Y %H:%M\" or \"%m/%d/%Y %H:%M\" in [meter_data]",
                     source=path, field="timestamp")


def parse_timestamps(parts, tz: str, date_format: str | None = None
                     ) -> tuple[list[np.ndarray], list[str]]:
    """Step "parse time stamps": each file's unique stamps as int64 ns in ``tz``.

    Returns
    -------
    list of ndarray
        Per file, per unique stamp: ns since the epoch (NaT as iNaT).
    list of str
        Repairs (time zone taken or converted, "24:00" read as next day).

    Raises
    ------
    InputError
        A file without any readable stamp; an ambiguous day/month order
        without ``date_format``.
    """
    nat = np.iinfo(np.int64).min
    parsed, repairs = [], []
    for part in parts:
        ts_ns, notes = _parse_unique_ts(part.ts_values, tz, part.path, date_format)
        if not (ts_ns != nat).any():
            raise InputError("no timestamp could be read (e.g. "
                             f"{_example_ts(part)!r})", source=part.path, field="timestamp")
        repairs += [f"{part.path}: {note}" for note in dict.fromkeys(notes)]
        parsed.append(ts_ns)
    return parsed, repairs


def detect_interval(parts, parsed: list[np.ndarray], interval, tz: str) -> int:
    """Step "detect interval": the one interval [min] of all files, per segment.

    ``interval`` is "auto" or the stated 30 / 60; a stated interval the stamps
    contradict, files of different intervals, or a file whose interval changes
    are refused (InputError).
    """
    intervals = {}
    for part, ts_ns in zip(parts, parsed):
        det = _detect_interval(ts_ns, part.path, tz)
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
    ivals = set(intervals.values())
    if len(ivals) > 1:
        raise InputError("the files have different intervals: "
                         + ", ".join(f"{k}: {v} min" for k, v in intervals.items())
                         + "; read them separately", field="interval")
    return ivals.pop()


def _example_ts(part) -> str:
    try:
        vals = [v for v in part.ts_values.to_pylist() if v is not None]
        return str(vals[0]) if vals else ""
    except Exception:  # noqa: BLE001
        return ""
