"""Steps 6 and 7: the (hour, meter) matrix from the kept cells, and gap filling.

30-minute kWh are summed to hours (both halves required); every interval
without a usable value is listed as ``missing``; filling (only when asked
for) is listed as ``gap_filled`` with its energy.
"""

from __future__ import annotations

import numba as nb
import numpy as np
import pandas as pd

from .align import Cells
from .checks import Problems
from .model import MeterProblem
from .text import _ranges


@nb.njit(cache=True, nogil=True)
def _nan_cells(mat):
    """(meter, slot) indices of the NaN cells of a (meter, slot) matrix, meter
    by meter (``np.nonzero(np.isnan(mat))`` without its two (M, S) masks)."""
    n_m, n_s = mat.shape
    per = np.zeros(n_m, np.int64)
    for m in range(n_m):
        for s in range(n_s):
            if np.isnan(mat[m, s]):
                per[m] += 1
    m_idx = np.empty(per.sum(), np.int64)
    s_idx = np.empty(per.sum(), np.int64)
    k = 0
    for m in range(n_m):
        if per[m]:
            for s in range(n_s):
                if np.isnan(mat[m, s]):
                    m_idx[k] = m
                    s_idx[k] = s
                    k += 1
    return m_idx, s_idx


def _missing(cells: Cells, probs: Problems, nat_mat: np.ndarray) -> None:
    """One ``missing`` problem per meter with native intervals without a value
    (NaN in the (slot, meter) matrix ``nat_mat``)."""
    g = cells.grid
    S = g.S
    m_idx, s_idx = _nan_cells(nat_mat.T)
    if not len(m_idx):
        return
    brk = np.flatnonzero(np.diff(m_idx)) + 1
    unit_word = "hours" if g.imin == 60 else "half-hours"
    native_idx = pd.date_range(g.hours[0], periods=S, freq=f"{g.imin}min", name="time")
    for a, b in zip(np.r_[0, brk], np.r_[brk, len(m_idx)]):
        mi = int(m_idx[a])
        sl = s_idx[a:b]
        n_abs = int((~cells.present[mi, sl]).sum())
        why = ("no data at all" if n_abs == S else
               f"{n_abs} absent from the file(s), {len(sl) - n_abs} excluded "
               "(see other problems)")
        probs.append(MeterProblem(
            "missing", cells.known[mi], native_idx[sl],
            f"{len(sl)} of {S} {unit_word} without a usable value ({why}): "
            f"{_ranges(sl, g.y0, g.step, g.tz)}"))


def _incomplete_hours(cells: Cells, probs: Problems, nat_mat: np.ndarray,
                      usable: np.ndarray, kept_pos) -> int:
    """30-minute data: hours with one usable half are listed; returns how many.

    ``kept_pos(inc)`` gives the positions of the kept cells in the hours
    flagged by the (H, M) mask ``inc``.
    """
    inc = usable[0::2] ^ usable[1::2]          # one usable half of two
    n_inc = int(inc.sum())
    if not n_inc:
        return 0
    lpos = kept_pos(inc)
    slot, code = cells.slot, cells.code

    def _inc_detail(p, m):
        e = nat_mat[slot[p], code[p]].sum(dtype=np.float64)
        return (f"{len(p)} hours have only one usable half-hour; each hour is left "
                f"missing and the present halves ({e:.6g} kWh) are not used")
    probs.add_rows("incomplete_hour", lpos, _inc_detail)
    return n_inc


def to_hourly(cells: Cells, keep: np.ndarray, probs: Problems) -> np.ndarray:
    """Step "matrix": (H, M) hourly kWh from the kept cells, NaN where missing."""
    g, M = cells.grid, cells.M
    nat_mat = np.full(g.S * M, np.nan, dtype=np.float64)
    kpos = None if keep.all() else np.flatnonzero(keep)   # usually no position array
    if kpos is None:
        nat_mat[cells.slot.astype(np.int64) * M + cells.code] = cells.value
    else:
        nat_mat[cells.slot[kpos].astype(np.int64) * M + cells.code[kpos]] = \
            cells.value[kpos]

    def kept_pos(inc):
        kp = np.arange(len(cells.slot)) if kpos is None else kpos
        return kp[inc[cells.slot[kp] // 2, cells.code[kp]]]
    return finish_hourly(cells, probs, nat_mat.reshape(g.S, M), kept_pos)


def finish_hourly(cells: Cells, probs: Problems, nat_mat: np.ndarray, kept_pos
                  ) -> np.ndarray:
    """From the (slot, meter) matrix of kept values: list ``missing`` and
    ``incomplete_hour`` problems, sum 30-minute values to hours; (H, M) kWh."""
    g = cells.grid
    _missing(cells, probs, nat_mat)
    cells.present = None
    if g.imin == 60:
        return nat_mat
    usable = ~np.isnan(nat_mat)
    n_inc = _incomplete_hours(cells, probs, nat_mat, usable, kept_pos)
    del usable
    cells.repairs.append(f"summed 30-minute kWh into hours (both halves required; {n_inc} "
                         "meter-hours with a single half left missing)")
    return nat_mat[0::2] + nat_mat[1::2]   # NaN if any half NaN (any memory layout)


def fill_gaps(hourly: np.ndarray, cells: Cells, probs: Problems, fill: str | None,
              max_hours: int | None, profile_days: int,
              zero: np.ndarray | None = None) -> np.ndarray | None:
    """Step "fill": fill gaps in place (only when asked for); the mask of filled hours.

    ``zero`` (H, M), optional: hours whose fill must be 0 kWh (a PV meter's
    hours with the sun below the horizon), so that filling never invents
    output where none is possible.
    """
    if fill is None:
        return None
    mask = _fill(hourly, fill, max_hours, profile_days)
    if zero is not None:  # reported per meter below ("with the sun down set to 0")
        hourly[mask & zero] = 0.0
    if not mask.any():
        cells.repairs.append(f"fill={fill!r}: nothing to fill")
        return mask
    g = cells.grid
    m_i, h_i = np.nonzero(mask.T)
    brk = np.flatnonzero(np.diff(m_i)) + 1
    how = ("linear interpolation" if fill == "interpolate" else
           f"mean of the same hour on up to {profile_days} days either side")
    lim_s = f"gaps up to {max_hours} h" if max_hours is not None else "gaps of any length"
    for a, b in zip(np.r_[0, brk], np.r_[brk, len(m_i)]):
        mi, hh = int(m_i[a]), h_i[a:b]
        e = float(hourly[hh, mi].sum(dtype=np.float64))
        ngaps = 1 + int((np.diff(hh) != 1).sum())
        nz = int(zero[hh, mi].sum()) if zero is not None else 0
        dark_s = f"; {nz} of them with the sun down set to 0 kWh" if nz else ""
        probs.append(MeterProblem(
            "gap_filled", cells.known[mi], g.hours[hh],
            f"{len(hh)} hours in {ngaps} gaps filled by {how} ({e:.6g} kWh{dark_s}): "
            f"{_ranges(hh, g.y0, 3600 * 10**9, g.tz)}"))
        cells.repairs.append(f"meter {cells.known[mi]}: filled {len(hh)} h in {ngaps} gaps "
                             f"({lim_s}) by {how}, {e:.6g} kWh added{dark_s}")
    return mask


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
    ok = nan.copy()
    if max_hours is not None:
        ok &= (nxt - prev - 1) <= max_hours
    if how == "interpolate":
        ok &= (prev >= 0) & (nxt < H)
        r, c = np.nonzero(ok)
        p, n = prev[r, c], nxt[r, c]
        # in float64 whatever ``h`` is (a float32 ``h`` rounds only the result)
        vp, vn = h[p, c].astype(np.float64), h[n, c].astype(np.float64)
        h[r, c] = vp + (vn - vp) * (r - p) / (n - p)
        return ok
    # profile: same hour on neighbouring days (original values only)
    D = H // 24
    orig = h.reshape(D, 24, M)
    tot = np.zeros(orig.shape)   # float64 whatever ``h`` is
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
