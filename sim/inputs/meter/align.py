"""Step 4, align to the year: every cell gets a slot of the year's grid and a meter code.

The result, :class:`Cells`, holds flat per-cell arrays (slot, meter code,
value) for all files together, and a :class:`Locator` back to file rows.
A negative slot is a status: a bad time stamp, off the grid, or out of the
year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.errors import InputError

# statuses of a row's timestamp (stored as negative slot numbers)
BAD_TS, OFF_GRID, OUT_OF_YEAR = -1, -2, -3


@dataclass
class Grid:
    """The year's grid: hours and native intervals in one time zone."""

    year: int
    tz: str
    imin: int                      # native interval [min]
    hours: pd.DatetimeIndex        # hour starts of the year

    @property
    def H(self) -> int:
        return len(self.hours)

    @property
    def S(self) -> int:            # native slots
        return self.H * 60 // self.imin

    @property
    def step(self) -> int:         # native interval [ns]
        return self.imin * 60 * 10**9

    @property
    def ih(self) -> float:         # native interval [h]
        return self.imin / 60.0

    @property
    def y0(self) -> int:           # year start [ns]
        return int(self.hours[0].value)


def year_grid(year: int, tz: str, imin: int) -> Grid:
    """The hourly index of ``year`` in ``tz`` with the native interval ``imin``."""
    start = pd.Timestamp(year=year, month=1, day=1, tz=tz)
    end = pd.Timestamp(year=year + 1, month=1, day=1, tz=tz)
    hours = pd.date_range(start, end, freq="h", inclusive="left", name="time")
    return Grid(year=year, tz=tz, imin=imin, hours=hours)


class Locator:
    """Maps global cell positions to (file, 1-based data row)."""

    def __init__(self, parts):
        self.offsets = np.cumsum([0] + [p.n for p in parts])
        self.ncols = np.array([p.ncols for p in parts])
        self.paths = [p.path for p in parts]
        self.layouts = [p.layout for p in parts]

    def locate(self, pos: np.ndarray):
        f = np.searchsorted(self.offsets, pos, side="right") - 1
        local = pos - self.offsets[f]
        row = local // self.ncols[f] + 1
        return f, row


@dataclass
class Cells:
    """All cells of all files, aligned to the year's grid."""

    grid: Grid
    slot: np.ndarray               # per cell: native slot, or a negative status
    code: np.ndarray               # per cell: meter code (< M known, >= M unknown, -1 none)
    value: np.ndarray              # per cell [kWh per interval]
    nonnum: np.ndarray             # cell positions of non-numeric cells
    nonnum_text: list
    known: list[str]               # the result's meters (codes 0..M-1)
    ext: list[str]                 # known + unknown meter ids (by code)
    cap: np.ndarray                # capacity per known meter [kW] (NaN unknown)
    loc: Locator
    file_meters: list[list[str]]   # known meters of each file
    repairs: list[str] = field(default_factory=list)
    present: np.ndarray | None = None   # (M, S): slots given at all (set by the checks)
    unknown_kwh: pd.Series | None = None  # energy per meter not expected [kWh]

    @property
    def M(self) -> int:
        return len(self.known)


def _slots(ts_ns: np.ndarray, grid: Grid, label: str) -> np.ndarray:
    """Slot (or status) of each unique stamp."""
    nat = np.iinfo(np.int64).min
    ok = ts_ns != nat
    start = np.where(ok, ts_ns - (grid.step if label == "end" else 0), 0)
    rel = start - grid.y0
    s_u = np.full(len(ts_ns), BAD_TS, dtype=np.int32)
    on_grid = ok & (rel % grid.step == 0)
    s_u[ok & ~on_grid] = OFF_GRID
    sl = rel // grid.step
    in_year = on_grid & (sl >= 0) & (sl < grid.S)
    s_u[on_grid & ~in_year] = OUT_OF_YEAR
    s_u[in_year] = sl[in_year]
    return s_u


def _meter_codes(parts, meters: Iterable[str] | None):
    """(known ids, known + unknown ids, code of each id)."""
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
    ext = list(known) + [m for m in seen if m not in set(known)]  # unknown after known
    return known, ext, {m: i for i, m in enumerate(ext)}


def _capacities(capacities_kw, known: list[str], code_of: dict) -> np.ndarray:
    cap = np.full(len(known), np.nan)
    if capacities_kw is None:
        return cap
    if isinstance(capacities_kw, (int, float, np.floating, np.integer)):
        if not (np.isfinite(capacities_kw) and capacities_kw > 0):
            raise InputError(f"capacity must be a positive number of kW, not "
                             f"{capacities_kw!r}", field="capacities_kw")
        cap[:] = float(capacities_kw)
        return cap
    for k, v in dict(capacities_kw).items():
        try:
            v = float(v)
        except (TypeError, ValueError):
            v = np.nan
        if not np.isfinite(v) or v <= 0:
            raise InputError(f"capacity must be a positive number of kW, not {v!r}",
                             field=f"capacities_kw[{k}]")
        if str(k) in code_of and code_of[str(k)] < len(known):
            cap[code_of[str(k)]] = v
    return cap


def _cat(arrs):
    return arrs[0] if len(arrs) == 1 else np.concatenate(arrs)


def align_to_year(parts, parsed: list[np.ndarray], grid: Grid, *, label: str,
                  meters: Iterable[str] | None,
                  capacities_kw: Mapping[str, float] | pd.Series | float | None,
                  unit: str) -> Cells:
    """Step "align to the year": slots, meter codes, capacities, values in kWh.

    The parts' per-row arrays are consumed (set to None) to keep memory flat.
    """
    repairs = []
    if label == "end":
        repairs.append(f"timestamps label the interval END: shifted back {grid.imin} min "
                       "to interval starts")
    slot_parts = []
    for part, ts_ns in zip(parts, parsed):
        s_u = _slots(ts_ns, grid, label)
        row_slot = np.where(part.ts_codes >= 0, s_u[np.maximum(part.ts_codes, 0)], BAD_TS)
        row_slot = row_slot.astype(np.int32, copy=False)
        if part.layout == "wide":
            row_slot = np.repeat(row_slot, part.ncols)
        slot_parts.append(row_slot)
        part.ts_codes = None
    known, ext, code_of = _meter_codes(parts, meters)
    code_parts = []
    for part in parts:
        lut = np.array([code_of[nm] for nm in part.meter_names] + [-1], dtype=np.int32)
        c = part.meter_codes
        code_parts.append(lut[np.where(c >= 0, c, len(lut) - 1)])
        part.meter_codes = None
    cap = _capacities(capacities_kw, known, code_of)
    value = _cat([p.value for p in parts])
    for p in parts:
        p.value = None
    offsets = np.cumsum([0] + [p.n for p in parts])
    nonnum = _cat([p.nonnum_pos + off for p, off in zip(parts, offsets[:-1])])
    if unit == "kw":
        value = value * grid.ih
        repairs.append(f"converted kW means to kWh: x {grid.ih:g} h per {grid.imin}-minute "
                       "interval (unit='kW')")
    M = len(known)
    return Cells(grid=grid, slot=_cat(slot_parts), code=_cat(code_parts), value=value,
                 nonnum=nonnum, nonnum_text=[t for p in parts for t in p.nonnum_text],
                 known=known, ext=ext, cap=cap, loc=Locator(parts),
                 file_meters=[[nm for nm in p.meter_names if code_of[nm] < M]
                              for p in parts], repairs=repairs)
