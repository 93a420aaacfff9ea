"""Step 5, check: every cell that cannot be used is excluded and listed with its rows.

Each check takes the aligned :class:`~.align.Cells`, appends
:class:`~.model.MeterProblem` entries to a :class:`Problems` list and returns
the cells it excludes; :func:`check_cells` runs them all and returns the mask
of cells kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .align import BAD_TS, OFF_GRID, OUT_OF_YEAR, Cells
from .files import _short_list
from .model import MeterProblem
from .text import _compress, _fmt_ts, _rows_detail

_KW_FLAG_FRACTION = 0.01   # share of a meter's intervals above cap x 0.5 h


class Problems(list):
    """The problem list, with grouping of cell positions into (file, meter) problems."""

    def __init__(self, cells: Cells):
        super().__init__()
        self.cells = cells

    def add_rows(self, kind, pos, detail_fn, by_meter=True, wide_detail_fn=None):
        """Group cell positions by (file, meter) into problems.

        With ``wide_detail_fn(pos, rows, meters, file_meters)``, the meters of a
        wide file that have exactly the same rows make one problem (meter None,
        ``meters`` listed), so a bad row is reported once, not once per column.
        """
        if not len(pos):
            return
        c = self.cells
        pos = np.asarray(pos)
        f, row = c.loc.locate(pos)
        mc = c.code[pos] if by_meter else np.zeros(len(pos), np.int32)
        order = np.lexsort((row, mc, f))
        pos, f, row, mc = pos[order], f[order], row[order], mc[order]
        brk = np.flatnonzero((np.diff(f) != 0) | (np.diff(mc) != 0)) + 1
        same_rows: dict[tuple, list] = {}   # (file, rows) -> [(meter, cell positions)]
        for a, b in zip(np.r_[0, brk], np.r_[brk, len(pos)]):
            rws = np.unique(row[a:b]) if not by_meter else row[a:b]
            m = (c.ext[mc[a]] if mc[a] >= 0 else None) if by_meter else None
            if wide_detail_fn is not None and m is not None and \
                    c.loc.layouts[f[a]] == "wide":
                same_rows.setdefault((int(f[a]), tuple(rws.tolist())), []).append(
                    (m, pos[a:b]))
                continue
            self.append(MeterProblem(kind, m, rws.tolist(), detail_fn(pos[a:b], m),
                                     c.loc.paths[f[a]]))
        for (fi, rws), group in same_rows.items():
            if len(group) == 1:
                m, p = group[0]
                self.append(MeterProblem(kind, m, list(rws), detail_fn(p, m),
                                         c.loc.paths[fi]))
                continue
            ms = [m for m, _ in group]
            p = np.concatenate([p for _, p in group])
            self.append(MeterProblem(kind, None, list(rws),
                                     wide_detail_fn(p, rws, ms, c.file_meters[fi]),
                                     c.loc.paths[fi], meters=ms))


def check_timestamps(cells: Cells, probs: Problems) -> np.ndarray:
    """Rows with a bad, off-grid or out-of-year stamp; returns the valid-key mask."""
    slot = cells.slot
    report_timestamps(cells, probs, lambda status: np.flatnonzero(slot == status))
    return slot >= 0


def report_timestamps(cells: Cells, probs: Problems, positions) -> None:
    """List the cells of each timestamp status; ``positions(status)`` gives them."""
    loc = cells.loc
    for status, kind, text in (
            (BAD_TS, "bad_timestamp", "with a timestamp that cannot be read"),
            (OFF_GRID, "off_grid", f"with a timestamp not on the {cells.grid.imin}-minute "
             "grid"),
            (OUT_OF_YEAR, "out_of_year", f"with an interval start outside {cells.grid.year}")):
        probs.add_rows(kind, positions(status), lambda p, m, text=text: _rows_detail(
            len(np.unique(loc.locate(p)[1])), f"rows {text}; excluded"), by_meter=False)


def unknown_totals(cells: Cells, unknown: np.ndarray) -> pd.Series:
    """Energy of each meter not expected, over the year [kWh] (first of repeated
    intervals, usable values only): what leaving them out of a claim leaves out."""
    pos = np.flatnonzero(unknown & (cells.code >= cells.M))
    return unknown_totals_of(cells, cells.code[pos], cells.slot[pos], cells.value[pos])


def unknown_totals_of(cells: Cells, code: np.ndarray, slot: np.ndarray, v: np.ndarray
                      ) -> pd.Series:
    """:func:`unknown_totals` from the unknown meters' cells (in file order)."""
    ok = np.isfinite(v) & (v >= 0)
    code, slot, v = code[ok], slot[ok], v[ok]
    key = code.astype(np.int64) * cells.grid.S + slot
    _, first = np.unique(key, return_index=True)
    tot = np.bincount(code[first] - cells.M, weights=v[first],
                      minlength=len(cells.ext) - cells.M)
    return pd.Series(tot, index=pd.Index(cells.ext[cells.M:], name="meter"),
                     name="kwh")


def check_meters(cells: Cells, probs: Problems, valid_key: np.ndarray) -> None:
    """Cells of meters not expected (or without an id): excluded (in place)."""
    code, M = cells.code, cells.M
    unknown = valid_key & ((code >= M) | (code < 0))
    cells.unknown_kwh = unknown_totals(cells, unknown)
    report_unknown(probs, np.flatnonzero(unknown))
    valid_key &= ~unknown


def report_unknown(probs: Problems, pos: np.ndarray) -> None:
    """List the cells of meters not expected (or without an id)."""
    probs.add_rows("unknown_meter", pos, lambda p, m: (
        f"{len(p)} rows of meter id {m!r} not in the given meters; excluded"
        if m is not None else f"{len(p)} rows without a meter id; excluded"))


def check_duplicates(cells: Cells, probs: Problems, valid_key: np.ndarray) -> np.ndarray:
    """Repeated (meter, slot): identical -> first kept; conflicting -> all excluded.

    Returns the kept mask and sets ``cells.present`` (M, S): the slots given at all.
    """
    slot, code, value, M, S = cells.slot, cells.code, cells.value, cells.M, cells.grid.S
    kdt = np.int32 if M * S < 2**31 else np.int64
    kidx = None if valid_key.all() else np.flatnonzero(valid_key)
    key = (code.astype(kdt) * kdt(S) + slot if kidx is None
           else code[kidx].astype(kdt) * kdt(S) + slot[kidx])
    counts = np.bincount(key, minlength=M * S)
    cells.present = (counts > 0).reshape(M, S)
    dup_local = counts[key] > 1
    del counts
    keep = valid_key.copy()
    if not dup_local.any():
        return keep
    dpos = kidx[dup_local] if kidx is not None else np.flatnonzero(dup_local)
    conflict, first = judge_duplicates(cells, probs, dpos, key[dup_local], value[dpos])
    keep[dpos[conflict]] = False
    keep[dpos[~conflict & ~first]] = False
    return keep


def judge_duplicates(cells: Cells, probs: Problems, dpos: np.ndarray, key: np.ndarray,
                     v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cells of repeated (meter, slot) keys (``dpos`` ascending, their keys and
    values): list them; returns (conflicting, first of its key) masks over ``dpos``."""
    slot, value = cells.slot, cells.value
    df = pd.DataFrame({"key": key, "v": v, "pos": dpos})
    g = df.groupby("key", sort=False)["v"]
    vmin, vmax = g.transform("min"), g.transform("max")
    n_num, n_all = g.transform("count"), g.transform("size")
    first = (~df.duplicated("key", keep="first")).to_numpy()
    conflict = ((vmin != vmax) | ((n_num > 0) & (n_num < n_all))).to_numpy()
    ident_pos = dpos[~conflict]
    if len(ident_pos):
        cells.repairs.append(f"ignored {int((~conflict & ~first).sum())} identical duplicate "
                             "values (the first of each kept); listed as 'duplicate'")

    def _dup_rows_detail(p, rws, ms, all_ms):
        who = (f"all {len(ms)} meters" if set(ms) >= set(all_ms) else
               f"{len(ms)} meters: {_short_list(ms)}")
        return (f"rows {_compress(rws)} repeat a timestamp with identical values "
                f"({who}); the first of each is used, "
                f"{len(rws) - len(np.unique(slot[p]))} ignored")
    probs.add_rows("duplicate", ident_pos, lambda p, m: (
        f"{len(p)} rows repeat a timestamp with identical values; the first of "
        f"each is used, {len(p) - len(np.unique(slot[p]))} ignored"),
        wide_detail_fn=_dup_rows_detail)
    grid = cells.grid

    def _conf_detail(p, m):
        ex = p[slot[p] == slot[p[0]]]
        vals = ", ".join(f"{value[i]:g}" for i in ex[:4])
        return (f"{len(np.unique(slot[p]))} intervals given more than once with "
                f"different values (e.g. {_fmt_ts(grid.y0 + int(slot[p[0]]) * grid.step, grid.tz)}"
                f": {vals}); all {len(p)} rows excluded")
    probs.add_rows("duplicate_conflict", dpos[conflict], _conf_detail)
    return conflict, first


def check_values(cells: Cells, probs: Problems, valid_key: np.ndarray, unit: str
                 ) -> np.ndarray:
    """Non-numeric, empty, negative and over-capacity values; returns the bad mask."""
    value = cells.value
    if len(cells.nonnum):
        nn = np.zeros(len(value), bool)
        nn[cells.nonnum] = True
        nn_pos = np.flatnonzero(nn & valid_key)
        text_of = dict(zip(cells.nonnum.tolist(), cells.nonnum_text))
    else:
        nn, nn_pos, text_of = None, np.zeros(0, np.int64), {}
    isnan = np.isnan(value)
    empty = isnan & valid_key
    if nn is not None:
        empty &= ~nn
    empty_pos = np.flatnonzero(empty)
    del empty, nn
    neg = valid_key & (value < 0)
    report_values(cells, probs, nn_pos, text_of, empty_pos, np.flatnonzero(neg))
    bad_val = neg | isnan
    if np.isfinite(cells.cap).any():
        code, M = cells.code, cells.M
        limit = np.append(cells.cap * cells.grid.ih, np.nan)  # code -1 -> nan
        lim = limit[np.where((code >= 0) & (code < M), code, M)]
        over = valid_key & (value > lim * (1 + 1e-9))
        vk = valid_key & ~isnan
        report_capacity(cells, probs, np.flatnonzero(over), unit,
                        lambda: np.bincount(code[vk], minlength=M))
        bad_val |= over
    return bad_val


def report_values(cells: Cells, probs: Problems, nn_pos, text_of: dict, empty_pos,
                  neg_pos) -> None:
    """List non-numeric (``text_of``: position -> text), empty and negative cells."""
    value = cells.value
    if len(nn_pos):
        probs.add_rows("non_numeric", nn_pos, lambda p, m: (
            f"{len(p)} non-numeric values (e.g. {text_of.get(int(p[0]))!r}); excluded"))
    probs.add_rows("empty", empty_pos, lambda p, m: f"{len(p)} empty/NA values")
    probs.add_rows("negative", neg_pos, lambda p, m: (
        f"{len(p)} negative values (min {value[p].min():g} kWh); excluded"))


def report_capacity(cells: Cells, probs: Problems, over_pos: np.ndarray, unit: str,
                    n_valid) -> None:
    """List values above capacity x interval, and kWh columns that look like kW
    means; ``n_valid()`` gives each known meter's number of numeric cells."""
    code, value, cap, M = cells.code, cells.value, cells.cap, cells.M
    ih, imin = cells.grid.ih, cells.grid.imin
    probs.add_rows("over_capacity", over_pos, lambda p, m: (
        f"{len(p)} values above capacity {cap[code[p[0]]]:g} kW x {ih:g} h = "
        f"{cap[code[p[0]]] * ih:g} kWh (max {value[p].max():g}); excluded"))
    # looks like kW: 30-min kWh values above cap x 0.5 h but never above cap x 1 h
    if unit == "kwh" and imin == 30 and len(over_pos):
        mc = code[over_pos]
        n_over = np.bincount(mc, minlength=M)
        vmax = np.full(M, -np.inf)
        np.maximum.at(vmax, mc, value[over_pos])
        sus = (n_over >= np.maximum(2, _KW_FLAG_FRACTION * n_valid())) & \
              (vmax <= cap * (1 + 1e-9))
        if sus.any():
            probs.add_rows("looks_like_kw", over_pos[sus[mc]], lambda p, m: (
                f"{len(p)} values exceed capacity x 0.5 h but none exceeds capacity "
                "x 1 h: the values look like kW means, not kWh per 30 min; "
                "pass unit='kW' if so"))


def check_cells(cells: Cells, unit: str) -> tuple[np.ndarray, Problems]:
    """Step "check": the mask of usable cells and every problem found."""
    probs = Problems(cells)
    valid_key = check_timestamps(cells, probs)
    check_meters(cells, probs, valid_key)
    keep = check_duplicates(cells, probs, valid_key)
    keep &= ~check_values(cells, probs, valid_key, unit)
    return keep, probs
