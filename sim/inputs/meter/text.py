"""Row lists and time ranges as short text for problem details."""

from __future__ import annotations

import numpy as np
import pandas as pd

_MAX_RANGES_SHOWN = 4


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


def _rows_detail(n: int, text: str) -> str:
    return f"{n} {text}"


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
