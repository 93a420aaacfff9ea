"""Steps 1-6 streamed: meter files in record batches into the (slot, meter) matrix.

Memory stays bounded by the result, not by the number of rows: the files are
read twice in record batches (Parquet ``iter_batches``, CSV ``open_csv``):

1. the time stamp column only: each file's unique stamps (parsed once, so
   the interval, the "24:00" and time-zone repairs and the day/month check
   see the whole file, as in the flat path);
2. every column: per batch, each cell's slot and meter code (through the
   unique stamps and meter ids, never a per-row parse), values scattered
   into a preallocated (meter, slot) matrix (float32 for a float32 result
   of hourly data, :func:`value_dtype`), and a byte per (meter, slot) that
   says it was met, so that a repeat is found even when its two rows fall
   in different batches.

Only the cells with a problem (and the repeats) are kept aside with their
positions; the problem lists are then made by the same functions as the
flat path (:mod:`.checks`, :mod:`.hourly`), so kinds, rows and texts are the
same.  ``tests/inputs/test_meter_stream.py`` compares both paths.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

import numba as nb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sim.errors import InputError

from .align import (
    BAD_TS,
    OFF_GRID,
    OUT_OF_YEAR,
    Cells,
    Grid,
    Locator,
    _capacities,
    _meter_codes,
    _slots,
    year_grid,
)
from .checks import (
    Problems,
    judge_duplicates,
    report_capacity,
    report_timestamps,
    report_unknown,
    report_values,
    unknown_totals_of,
)
from .files import (
    _as_paths,
    _file_kind,
    _first_line,
    _header,
    _numeric,
    check_units,
)
from .hourly import finish_hourly
from .timestamps import detect_interval, parse_timestamps

#: rows per record batch (Parquet); CSV batches are blocks of this many bytes
BATCH_ROWS = 1 << 20
CSV_BLOCK = 1 << 24
_DICT_STR = pa.dictionary(pa.int32(), pa.string())
_NAT = np.iinfo(np.int64).min
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}  # ns per time-stamp unit


class _Retry(Exception):
    """A CSV value column holds text: read that file's values as text."""


@dataclass
class Source:
    """One file: its recognised columns and, after the first pass, its stamps."""

    path: str
    kind: str
    layout: str
    ts_col: str
    meter_col: str | None
    value_col: str | None
    mcols: list = field(default_factory=list)     # wide: meter columns (raw names)
    value_str: bool = False                         # CSV values read as text
    rows: int = 0
    ts_values: object = None                        # unique stamps (pyarrow)
    meter_names: list = field(default_factory=list)  # ids in first-seen order

    @property
    def ncols(self) -> int:
        return len(self.mcols) if self.layout == "wide" else 1

    @property
    def n(self) -> int:
        return self.rows * self.ncols


def open_sources(paths, *, layout, encoding, timestamp_column, meter_column,
                 value_column) -> list[Source]:
    """Every file's columns recognised (no data read yet)."""
    out = []
    for path in _as_paths(paths):
        kind = _file_kind(path)
        cols, ts, meter, value, lay = _header(path, kind, encoding, timestamp_column,
                                              layout, meter_column, value_column)
        src = Source(str(path), kind, lay, ts, meter, value)
        if lay == "wide":
            src.mcols = [c for c in cols if c != ts]
            src.meter_names = [str(c).strip() for c in src.mcols]
        out.append(src)
    return out


def _raw_names(src: Source, encoding: str) -> list[str]:
    """The file's column names as the reader gives them (BOM and all)."""
    if src.kind == "parquet":
        return list(pq.read_schema(src.path).names)
    ro = pacsv.ReadOptions(encoding=encoding, block_size=CSV_BLOCK)  # a wide header is long
    po = pacsv.ParseOptions(delimiter="\t" if src.kind == "tsv" else ",")
    with pacsv.open_csv(src.path, read_options=ro, parse_options=po) as rd:
        return list(rd.schema.names)


def _batches(src: Source, wanted: list[str], encoding: str, batch_rows: int,
             csv_block: int):
    """Record batches of the ``wanted`` (clean) columns, in that order."""
    raw = _raw_names(src, encoding)
    clean = [r[1:] if i == 0 and r.startswith("\ufeff") else r for i, r in enumerate(raw)]
    pick = [raw[clean.index(c)] for c in wanted]
    try:
        if src.kind == "parquet":
            # pre_buffer off: the reader then holds pages, not whole column
            # chunks (peak of the Arrow pool ~65 instead of ~315 MB on the
            # 10,000-meter benchmark file, same speed)
            yield from pq.ParquetFile(src.path, pre_buffer=False).iter_batches(
                batch_size=max(1, batch_rows), columns=pick)
            return
        vt = pa.string() if src.value_str else pa.float64()
        types = {pick[0]: _DICT_STR}
        for c in pick[1:]:
            types[c] = _DICT_STR if c == src.meter_col else vt
        ro = pacsv.ReadOptions(encoding=encoding, block_size=csv_block)
        po = pacsv.ParseOptions(delimiter="\t" if src.kind == "tsv" else ",")
        co = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                  include_columns=pick)
        with pacsv.open_csv(src.path, read_options=ro, parse_options=po,
                            convert_options=co) as rd:
            yield from rd
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, ValueError) as e:
        if (src.kind != "parquet" and not src.value_str and len(wanted) > 1
                and "conversion error to double" in str(e)):
            raise _Retry(src.path) from None
        raise InputError(f"cannot read the file: {_first_line(e)}",
                         source=src.path) from None


def _dict(arr: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(codes int32, -1 for null; dictionary values) of one batch column."""
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    idx = arr.indices
    codes = (idx.fill_null(-1) if idx.null_count else idx).to_numpy(zero_copy_only=False)
    return codes.astype(np.int32, copy=False), arr.dictionary


def _meter_strings(arr: pa.Array) -> pa.Array:
    """A long file's meter column as (dictionary of) strings (as the flat path)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return arr if pa.types.is_string(t.value_type) else arr.cast(pa.string())
    return arr if (pa.types.is_string(t) or pa.types.is_large_string(t)) \
        else arr.cast(pa.string())


def first_pass(src: Source, *, encoding: str, need_meters: bool, batch_rows: int,
               csv_block: int) -> None:
    """Rows, unique stamps (first-seen order) and, if asked, meter ids of a file."""
    wanted = [src.ts_col] + ([src.meter_col] if need_meters and src.layout == "long"
                             else [])
    uniq, seen = [], {}
    for b in _batches(src, wanted, encoding, batch_rows, csv_block):
        src.rows += b.num_rows
        uniq.append(_dict(b.column(0))[1])
        if len(wanted) > 1:
            names = _dict(_meter_strings(b.column(1)))[1].cast(pa.string())
            for nm in names.to_pylist():
                seen.setdefault(str(nm), None)
    if src.rows == 0:
        raise InputError("the file has no data rows", source=src.path)
    if src.layout == "long":
        src.meter_names = list(seen)
    u = pa.chunked_array(uniq).combine_chunks() if len(uniq) > 1 else uniq[0]
    src.ts_values = pc.unique(u).drop_null()


# per-cell flags of a batch (a cell is either a status, unknown, or good with bits)
_ST, _UNK, _NAN, _NEG, _OVER, _DUP = 1, 2, 4, 8, 16, 32


@nb.njit(cache=True, nogil=True)
def _absorb(slot, code, value, M, S, limit, has_limit, seen, mat, n_valid, flags):
    """One pass over a batch's cells: flag the problems, count the numeric values
    per meter, put each (slot, meter)'s first value in ``mat`` and mark it in
    ``seen`` (1 byte per cell); a repeat is flagged (its first cell is found
    by :meth:`Accumulator.add`, or by :func:`_locate` if in an earlier batch)."""
    for i in range(len(slot)):
        s = slot[i]
        if s < 0:
            flags[i] = _ST
            continue
        c = code[i]
        if c < 0 or c >= M:
            flags[i] = _UNK
            continue
        v = value[i]
        f = 0
        if np.isnan(v):
            f |= _NAN
        else:
            n_valid[c] += 1
            if v < 0:
                f |= _NEG
            if has_limit and v > limit[c] * (1 + 1e-9):
                f |= _OVER
        k = np.int64(c) * S + s
        if seen[k] == 0:
            seen[k] = 1
            mat[k] = v
        else:
            f |= _DUP
        flags[i] |= f


@nb.njit(cache=True, nogil=True)
def _instant_slots(raw, scale, shift, y0, step, S, out, seen):
    """:func:`.align._slots` of instants given in ``scale`` ns units (NaT: iNaT);
    marks the slots met in ``seen`` (S,) and returns how many stamps are off
    the grid or out of the year.

    A file sorted by time repeats a stamp, one sorted by meter steps it by the
    grid's step: both follow from the previous row without a division."""
    n_bad = 0
    prev_r, prev = _NAT, BAD_TS
    for i in range(len(raw)):
        r = raw[i]
        if r == _NAT:
            out[i] = BAD_TS
            continue
        if prev_r != _NAT and prev >= 0:
            d = r - prev_r
            if d == 0:
                out[i] = prev
                continue
            if d * scale == step and prev + 1 < S:
                prev_r, prev = r, prev + 1
                out[i] = prev
                seen[prev] = True
                continue
        rel = r * scale - shift - y0
        sl = rel // step
        if rel - sl * step != 0:
            sl = OFF_GRID
            n_bad += 1
        elif sl < 0 or sl >= S:
            sl = OUT_OF_YEAR
            n_bad += 1
        else:
            seen[sl] = True
        out[i] = sl
        prev_r, prev = r, sl
    return n_bad


@nb.njit(parallel=True, cache=True)
def _unmet_to_nan(seen, mat):
    """NaN in ``mat`` where no (meter, slot) cell was met."""
    for k in nb.prange(seen.shape[0]):
        if seen[k] == 0:
            mat[k] = np.nan


class _Lookup:
    """Per-cell values of the cells kept aside, indexed by global cell position."""

    def __init__(self, pos: np.ndarray, vals: np.ndarray):
        self.pos, self.vals = pos, vals

    def __getitem__(self, p):
        return self.vals[np.searchsorted(self.pos, p)]

    def __len__(self) -> int:
        return len(self.pos)


def _cat(parts, dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


class Accumulator:
    """The (slot, meter) matrix filled batch by batch, and the cells kept aside.

    ``mat`` (M*S,) float64, or float32 (see :func:`value_dtype`): the first
    value of each (meter, slot); ``seen`` (M*S,) uint8: 1 where a cell was
    met.  Meter-major, so that a file sorted by meter writes memory in order;
    the result is its (slot, meter) transpose, a view (which is also a
    DataFrame's own layout).  Cells with a problem are kept aside (position,
    slot, code, value) for the problem list.

    A cell's position is not kept (4 bytes a cell: 0.35 GB at 10,000 meters,
    memory that a virtual machine may take seconds to provide): the problem
    list needs it only for the first cell of a key repeated in a later batch and
    for the half kept of an incomplete hour, and ``locate`` (:func:`_locate`)
    finds those by reading the files again, which only a faulty file pays.
    The same reading gives the first cell's value as read (float64), so that
    repeats are compared exactly even when ``mat`` is float32.
    """

    def __init__(self, grid: Grid, known: list[str], cap: np.ndarray, locate=None,
                 dtype=np.float64):
        self.grid, self.M = grid, len(known)
        # Neither array is filled here: zeros come from the system as pages are
        # first written (during the reading, which they then overlap; filling
        # 1 GB for 10,000 meters took 0.3-1.6 s up front), and ``mat`` is only
        # read where ``seen`` says a cell was met (:func:`_hourly` sets NaN elsewhere).
        self.mat = np.empty(grid.S * self.M, dtype)
        self.seen = np.zeros(grid.S * self.M, np.uint8)
        self.locate = locate
        self.limit = np.append(cap * grid.ih, np.nan) if np.isfinite(cap).any() else None
        self.n_valid = np.zeros(self.M, np.int64)
        self.side = {k: [] for k in ("pos", "slot", "code", "value")}
        self.lists = {k: [] for k in ("st", "unk", "nn", "empty", "neg", "over", "bad_key",
                                      "dup_pos", "dup_key", "dup_val", "dup_earlier",
                                      "dup_here", "u_code", "u_slot", "u_val")}
        self.text_of: dict[int, str] = {}

    def _aside(self, pos, slot, code, value):
        for k, v in zip(("pos", "slot", "code", "value"), (pos, slot, code, value)):
            self.side[k].append(v)

    def add(self, off: int, slot, code, value, nn_local, nn_texts) -> None:
        """Absorb one batch of cells (first cell at global position ``off``)."""
        L, M = self.lists, self.M
        flags = np.zeros(len(slot), np.uint8)
        lim = self.limit if self.limit is not None else np.zeros(1)
        _absorb(slot, code, value, M, self.grid.S, lim, self.limit is not None, self.seen,
                self.mat, self.n_valid, flags)
        i = np.flatnonzero(flags)
        if not len(i):
            return
        if (flags[i] & _DUP).any():
            self._first_of_repeats(slot, code, flags)
            i = np.flatnonzero(flags)
        f = flags[i]
        s_i, c_i, v_i = slot[i], code[i], value[i]
        self._aside(i + off, s_i, c_i, v_i)
        L["st"].append(i[f == _ST] + off)
        u = f == _UNK
        L["unk"].append(i[u] + off)
        u &= c_i >= M
        L["u_code"].append(c_i[u])
        L["u_slot"].append(s_i[u])
        L["u_val"].append(v_i[u])
        nn = nn_local[(flags[nn_local] & (_ST | _UNK)) == 0] if len(nn_local) else nn_local
        L["nn"].append(nn + off)
        L["empty"].append(i[((f & _NAN) != 0) & ~np.isin(i, nn)] + off)
        L["neg"].append(i[(f & _NEG) != 0] + off)
        L["over"].append(i[(f & _OVER) != 0] + off)
        b = (f & (_NEG | _OVER)) != 0
        L["bad_key"].append(c_i[b].astype(np.int64) * self.grid.S + s_i[b])
        d = (f & _DUP) != 0
        L["dup_pos"].append(i[d] + off)
        L["dup_key"].append(c_i[d].astype(np.int64) * self.grid.S + s_i[d])
        L["dup_val"].append(v_i[d])
        good_nn = set(nn.tolist())
        for q, t in zip(nn_local.tolist(), nn_texts):
            if q in good_nn:
                self.text_of[q + off] = t

    def _first_of_repeats(self, slot, code, flags) -> None:
        """Flag the first cell of each key repeated in this batch when it is in
        this batch too; note the keys whose first cell came in an earlier one."""
        d = np.flatnonzero(flags & _DUP)
        keys = _cell_keys(slot, code, self.grid.S, self.M)
        j = np.flatnonzero(np.isin(keys, np.unique(keys[d])))
        uk, at = np.unique(keys[j], return_index=True)  # first of each key in the batch
        fi = j[at]
        earlier = (flags[fi] & _DUP) != 0   # _absorb had met the key already
        self.lists["dup_earlier"].append(uk[earlier])
        self.lists["dup_here"].append(uk[~earlier])
        flags[fi[~earlier]] |= _DUP

    def pos_list(self, name) -> np.ndarray:
        return _cat(self.lists[name], np.int64).astype(np.int64, copy=False)

    def lookups(self, cells: Cells) -> None:
        """(Re)build the cells' per-position lookups from the cells kept aside."""
        pos = _cat(self.side["pos"], np.int64).astype(np.int64, copy=False)
        u, i = np.unique(pos, return_index=True)
        for k, dt in (("slot", np.int32), ("code", np.int32), ("value", np.float64)):
            vals = _cat(self.side[k], dt)[i]
            setattr(cells, k, _Lookup(u, vals))
        self.side = {"pos": [u], "slot": [cells.slot.vals], "code": [cells.code.vals],
                     "value": [cells.value.vals]}

    def duplicates(self):
        """(positions ascending, keys, values) of every cell of a repeated key."""
        dpos = self.pos_list("dup_pos")
        if not len(dpos):
            return None
        key = _cat(self.lists["dup_key"], np.int64)
        val = _cat(self.lists["dup_val"], np.float64)
        # first cells from an earlier batch (a third cell may come after a
        # repeat found within the first cell's batch: that one is listed)
        K = np.setdiff1d(_cat(self.lists["dup_earlier"], np.int64),
                         _cat(self.lists["dup_here"], np.int64))
        wpos, wval = self.locate(K)
        S = self.grid.S
        self._aside(wpos, (K % S).astype(np.int32), (K // S).astype(np.int32),
                    wval)
        dpos = np.concatenate([dpos, wpos])
        key = np.concatenate([key, K])
        val = np.concatenate([val, wval])
        o = np.argsort(dpos, kind="stable")
        return dpos[o], key[o], val[o]


def _row_slots(col: pa.Array, src: Source, s_u: np.ndarray, cache: dict) -> np.ndarray:
    """Slot (or status) of each row: through the file's unique stamps, whose
    slots are computed once; zone-aware time stamps directly from their value."""
    t = col.type
    if pa.types.is_timestamp(t) and t.tz is not None:    # absolute instants
        # the int64 instants as a view of the column (a cast copies: ~0.6 s a
        # 10,000-meter year); a null becomes NaT
        ints = col.view(pa.int64())
        raw = (ints.fill_null(_NAT) if ints.null_count else ints).to_numpy(
            zero_copy_only=False)
        g = cache["grid"]
        out = np.empty(len(raw), np.int32)
        st = cache.setdefault("stamps", {"type": t, "seen": np.zeros(g.S, np.bool_),
                                         "bad": [], "scale": _NS_PER[t.unit],
                                         "shift": g.step if cache["label"] == "end" else 0})
        if _instant_slots(raw, st["scale"], st["shift"], g.y0, g.step, g.S, out, st["seen"]):
            st["bad"].append(np.unique(raw[(out == OFF_GRID) | (out == OUT_OF_YEAR)]))
        return out
    codes, dv = _dict(col)
    where = pc.index_in(dv, value_set=src.ts_values).fill_null(-1)
    s_d = np.append(s_u, BAD_TS)[where.to_numpy(zero_copy_only=False)]
    return np.where(codes >= 0, s_d[np.maximum(codes, 0)], BAD_TS).astype(np.int32)


def _stamps_met(cache: dict) -> pa.Array | None:
    """A file's unique instants, from what :func:`_row_slots` saw: the grid's
    stamp of each slot met and every stamp off the grid or out of the year
    (no per-batch unique of the column). None: the file's stamps are not
    instants."""
    st = cache.get("stamps")
    if st is None:
        return None
    g = cache["grid"]
    on_grid = (np.flatnonzero(st["seen"]) * g.step + g.y0 + st["shift"]) // st["scale"]
    vals = np.unique(np.concatenate([on_grid, *st["bad"]]))
    return pa.array(vals, type=st["type"])


def _batch_cells(src: Source, b: pa.RecordBatch, s_u: np.ndarray, code_of: dict,
                 ext: list, names_seen: dict, cache: dict, kw_ih: float | None):
    """(slot, code, value, non-numeric positions, their texts) of a batch's cells."""
    row_slot = _row_slots(b.column(0), src, s_u, cache)

    def code_lut(names):
        out = []
        for nm in names:
            if nm not in code_of:           # a meter not expected: coded after the known
                code_of[nm] = len(ext)
                ext.append(nm)
            names_seen.setdefault(nm, None)
            out.append(code_of[nm])
        return np.array(out + [-1], np.int32)
    if src.layout == "long":
        mc, md = _dict(_meter_strings(b.column(1)))
        if cache.get("dict") is None or not cache["dict"].equals(md):
            cache["dict"] = md
            cache["lut"] = code_lut([str(x) for x in md.cast(pa.string()).to_pylist()])
        lut = cache["lut"]
        code = lut[mc]          # a null meter (-1) takes the lut's last entry, -1
        value, bad, texts = _numeric(b.column(2), src.path, src.value_col)
        nn = np.flatnonzero(bad) if bad is not None else np.zeros(0, np.int64)
        slot = row_slot
    else:
        if "lut" not in cache:
            cache["lut"] = code_lut(src.meter_names)[:-1]
        R, C = b.num_rows, src.ncols
        mat = np.empty((R, C))
        nn_parts, texts = [], []
        for j in range(C):
            v, bad, tx = _numeric(b.column(j + 1), src.path, src.mcols[j])
            mat[:, j] = v
            if bad is not None and bad.any():
                nn_parts.append(np.flatnonzero(bad) * C + j)
                texts.extend(tx)
        nn = _cat(nn_parts, np.int64)
        if len(nn):
            o = np.argsort(nn, kind="stable")
            nn, texts = nn[o], [texts[i] for i in o]
        value = mat.reshape(-1)
        slot = np.repeat(row_slot, C)
        code = np.tile(cache["lut"], R)
    if kw_ih is not None:
        value = value * kw_ih
    return slot, code, value, nn, texts


def second_pass(sources: list[Source], grid: Grid, parsed: list | None, *, label: str,
                known: list[str], ext: list, code_of: dict, cap: np.ndarray,
                unit: str, encoding: str, batch_rows: int, csv_block: int,
                dtype=np.float64) -> tuple[Accumulator, list[dict]]:
    """Every file's cells into an :class:`Accumulator` (one pass, in batches).

    ``parsed`` None: the files' stamps are instants (see :func:`_one_pass_ok`)
    and their unique values are collected here, for the checks of the stamps.
    ``dtype``: of the result (:func:`value_dtype`).
    """
    parsed = parsed if parsed is not None else [None] * len(sources)
    offs = np.cumsum([0] + [s.n for s in sources])

    def locate(keys):
        return _locate(keys, sources, grid, parsed, offs, label=label, known=known,
                       ext=ext, code_of=code_of, unit=unit, encoding=encoding,
                       batch_rows=batch_rows, csv_block=csv_block)
    acc = Accumulator(grid, known, cap, locate, value_dtype(grid, dtype))
    seen_per_file = []
    for src, ts_ns, off in zip(sources, parsed, offs[:-1]):
        s_u = _slots(ts_ns, grid, label) if ts_ns is not None else None
        uniq = []
        wanted, rows = _wanted(src, batch_rows)
        names_seen, at = {}, int(off)
        cache = {"grid": grid, "label": label}
        # a batch's cells are made in the reading thread (in file order: the
        # meter codes, names seen and stamps it records stay in order) while
        # this one absorbs the previous batch
        kw_ih = grid.ih if unit == "kw" else None
        for b, cells in prefetched(
                (b, _batch_cells(src, b, s_u, code_of, ext, names_seen, cache, kw_ih))
                for b in _batches(src, wanted, encoding, rows, csv_block)):
            acc.add(at, *cells)
            at += len(cells[0])
            if ts_ns is None and "stamps" not in cache:
                uniq.append(pc.unique(b.column(0)))
        if ts_ns is None:
            met = _stamps_met(cache)
            src.ts_values = met if met is not None else pc.unique(
                pa.chunked_array(uniq).combine_chunks()).drop_null()
        if src.layout == "wide":
            names_seen = dict.fromkeys(src.meter_names)
        seen_per_file.append(names_seen)
    return acc, seen_per_file


def value_dtype(grid: Grid, dtype) -> np.dtype:
    """The accumulator's dtype for a result in ``dtype``.

    float32 when the result is float32 and the values go into it as they are
    (hourly data: a value is rounded once, as ``astype`` would round it at
    the end), which halves the largest array of a reading (0.35 instead of
    0.7 GB at 10,000 meters) and spares the final cast, another 0.35 GB.
    30-minute halves are summed first, so they are kept in float64 and the
    sum rounded once. Repeated cells are still compared as read (float64,
    see :class:`Accumulator`).
    """
    if np.dtype(dtype) == np.float32 and grid.imin == 60:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _cell_keys(slot, code, S: int, M: int) -> np.ndarray:
    """Each cell's (meter, slot) key ``code * S + slot``, as :func:`_absorb`
    forms it; -1 for a cell with a status or an unknown meter (no key)."""
    keyed = (slot >= 0) & (code >= 0) & (code < M)
    return np.where(keyed, code.astype(np.int64) * S + slot, -1)


def _wanted(src: Source, batch_rows: int) -> tuple[list[str], int]:
    """The columns read from a file and the rows per batch."""
    wanted = [src.ts_col] + ([src.meter_col, src.value_col] if src.layout == "long"
                             else [_clean(c) for c in src.mcols])
    return wanted, batch_rows if src.layout == "long" else max(1, batch_rows // src.ncols)


def _locate(keys, sources, grid, parsed, offs, *, label, known, ext, code_of, unit,
            encoding, batch_rows, csv_block) -> tuple[np.ndarray, np.ndarray]:
    """Position and value (kWh, float64, as read) of the first cell of each
    (meter, slot) key (``code * S + slot``, ascending, each met), by reading
    the files again as :func:`second_pass` did."""
    keys = np.asarray(keys, np.int64)
    out = np.full(len(keys), -1, np.int64)
    vals = np.full(len(keys), np.nan)
    if not len(keys):
        return out, vals
    S, M, left = grid.S, len(known), len(keys)
    code_of, ext = dict(code_of), list(ext)   # the same codes, the reader's state untouched
    for src, ts_ns, off in zip(sources, parsed, offs[:-1]):
        s_u = _slots(ts_ns, grid, label) if ts_ns is not None else None
        wanted, rows = _wanted(src, batch_rows)
        cache, at = {"grid": grid, "label": label}, int(off)
        batches = _batches(src, wanted, encoding, rows, csv_block)
        kw_ih = grid.ih if unit == "kw" else None
        for b in batches:
            slot, code, value = _batch_cells(src, b, s_u, code_of, ext, {}, cache, kw_ih)[:3]
            k = _cell_keys(slot, code, S, M)
            j = np.minimum(np.searchsorted(keys, k), len(keys) - 1)
            hit = np.flatnonzero((k >= 0) & (keys[j] == k))
            uk, first = np.unique(j[hit], return_index=True)
            new = out[uk] < 0
            out[uk[new]] = at + hit[first[new]]
            vals[uk[new]] = value[hit[first[new]]]
            left -= int(new.sum())
            at += len(slot)
            if not left:
                batches.close()
                return out, vals
    raise AssertionError("a met (meter, slot) cell was not found on reading again")


def prefetched(batches, depth: int = 2):
    """Iterate ``batches`` with up to ``depth`` next ones read ahead in a thread.

    Decoding (pyarrow) and absorbing (numba, numpy) both release the GIL, so
    on two cores reading the next batch overlaps the work on this one. An
    error of the reader is raised here, at the batch it stopped at; leaving
    the loop early stops the thread.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for b in batches:
                if not put(b):
                    return
        except BaseException as e:  # noqa: BLE001 - re-raised in the consumer
            put(_Raised(e))
            return
        finally:
            close = getattr(batches, "close", None)
            if close is not None:   # a generator left early: its files closed here
                close()
        put(done)

    th = threading.Thread(target=work, name="gxsim-meter-reader", daemon=True)
    th.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:
        stop.set()
        th.join()


class _Raised:
    """An exception of the reading thread, carried to the consumer."""

    def __init__(self, error: BaseException):
        self.error = error


def _clean(c: str) -> str:
    return c.removeprefix("\ufeff")


def _codes_for(sources: list[Source], meters):
    """(known ids, ext list, code of each id); unknown ids are added while reading."""
    if meters is None:
        return _meter_codes(sources, None)
    known = [str(m) for m in meters]
    if len(set(known)) != len(known):
        raise InputError("meters has duplicate ids", field="meters")
    return known, list(known), {m: i for i, m in enumerate(known)}


def read_cells(paths, *, year: int, layout: str, interval, label: str, timezone: str,
               meters, capacities_kw, unit: str, encoding: str, timestamp_column,
               meter_column, value_column, date_format, batch_rows: int = BATCH_ROWS,
               csv_block: int = CSV_BLOCK, dtype=np.float64):
    """Steps read to matrix, streamed: (cells, (H, M) hourly kWh, problems, repairs
    of the time stamps, sources).  Same results as the flat steps, once in
    ``dtype`` (the result's, :func:`value_dtype`)."""
    sources = open_sources(paths, layout=layout, encoding=encoding,
                           timestamp_column=timestamp_column, meter_column=meter_column,
                           value_column=value_column)
    one = _one_pass_ok(sources, meters, interval)
    if one:
        one = _one_pass(sources, meters=meters, year=year, interval=interval, label=label,
                        timezone=timezone, capacities_kw=capacities_kw, unit=unit,
                        encoding=encoding, date_format=date_format, batch_rows=batch_rows,
                        csv_block=csv_block, dtype=dtype)
    if one:
        grid, known, ext, code_of, cap, acc, seen, repairs = one
    else:
        for s in sources:
            first_pass(s, encoding=encoding, need_meters=meters is None,
                       batch_rows=batch_rows, csv_block=csv_block)
        check_units(sources, unit)
        parsed, repairs = parse_timestamps(sources, timezone, date_format)
        grid = year_grid(year, timezone, detect_interval(sources, parsed, interval, timezone))
        while True:
            known, ext, code_of = _codes_for(sources, meters)
            cap = _capacities(capacities_kw, known, code_of)
            try:
                acc, seen = second_pass(sources, grid, parsed, label=label, known=known,
                                        ext=ext, code_of=code_of, cap=cap, unit=unit,
                                        encoding=encoding, batch_rows=batch_rows,
                                        csv_block=csv_block, dtype=dtype)
                break
            except _Retry as r:    # non-numeric cells: that file's values as text
                for s in sources:
                    s.value_str = s.value_str or s.path == str(r)
    M = len(known)
    notes = []
    if label == "end":
        notes.append(f"timestamps label the interval END: shifted back {grid.imin} min "
                     "to interval starts")
    if unit == "kw":
        notes.append(f"converted kW means to kWh: x {grid.ih:g} h per {grid.imin}-minute "
                     "interval (unit='kW')")
    cells = Cells(grid=grid, slot=None, code=None, value=None, nonnum=np.zeros(0, np.int64),
                  nonnum_text=[], known=known, ext=ext, cap=cap, loc=Locator(sources),
                  file_meters=[[nm for nm in f if code_of[nm] < M] for f in seen],
                  repairs=notes)
    probs = _problems(cells, acc, unit)
    return cells, _hourly(cells, acc, probs), probs, repairs, sources


def _one_pass_ok(sources: list[Source], meters, interval) -> bool:
    """Whether one pass suffices: Parquet files whose stamps are instants (a
    zone-aware timestamp type: slots need no parse) with the interval and the
    meters given, so that the grid and the meter codes are known before
    reading.  The stamps are still checked, as a whole, after the pass."""
    if meters is None or interval == "auto":
        return False
    for s in sources:
        if s.kind != "parquet":
            return False
        names = pq.read_schema(s.path).names
        t = pq.read_schema(s.path).field(names[[_clean(n) for n in names].index(s.ts_col)]).type
        if not (pa.types.is_timestamp(t) and t.tz is not None):
            return False
    return True


def _one_pass(sources, *, meters, year, interval, label, timezone, capacities_kw, unit,
              encoding, date_format, batch_rows, csv_block, dtype):
    """Read in one pass (see :func:`_one_pass_ok`); None: read in two passes
    instead (a bad argument, whose error must come after those of the stamps)."""
    for s in sources:
        s.rows = pq.ParquetFile(s.path).metadata.num_rows
        if s.rows == 0:
            raise InputError("the file has no data rows", source=s.path)
    check_units(sources, unit)
    grid = year_grid(year, timezone, int(interval))
    try:
        known, ext, code_of = _codes_for(sources, meters)
        cap = _capacities(capacities_kw, known, code_of)
    except InputError:
        for s in sources:
            s.rows = 0
        return None
    acc, seen = second_pass(sources, grid, None, label=label, known=known, ext=ext,
                            code_of=code_of, cap=cap, unit=unit, encoding=encoding,
                            batch_rows=batch_rows, csv_block=csv_block, dtype=dtype)
    parsed, repairs = parse_timestamps(sources, timezone, date_format)
    imin = detect_interval(sources, parsed, interval, timezone)
    assert imin == grid.imin   # a stated interval is the grid unless refused above
    return grid, known, ext, code_of, cap, acc, seen, repairs


def _problems(cells: Cells, acc: Accumulator, unit: str) -> Problems:
    """The checks of :func:`.checks.check_cells`, on the cells kept aside."""
    probs = Problems(cells)
    dups = acc.duplicates()
    acc.lookups(cells)
    st = acc.pos_list("st")
    st_slot = cells.slot[st]
    report_timestamps(cells, probs, lambda status: st[st_slot == status])
    L = acc.lists
    cells.unknown_kwh = unknown_totals_of(cells, _cat(L["u_code"], np.int32),
                                          _cat(L["u_slot"], np.int32),
                                          _cat(L["u_val"], np.float64))
    report_unknown(probs, acc.pos_list("unk"))
    mat = acc.mat
    if dups is not None:
        dpos, key, val = dups
        conflict, first = judge_duplicates(cells, probs, dpos, key, val)
        mat[np.unique(key[conflict])] = np.nan
        ok = first & ~conflict          # identical repeats: the first cell is kept
        mat[key[ok]] = val[ok]
    mat[_cat(L["bad_key"], np.int64)] = np.nan
    report_values(cells, probs, acc.pos_list("nn"), acc.text_of, acc.pos_list("empty"),
                  acc.pos_list("neg"))
    if np.isfinite(cells.cap).any():
        report_capacity(cells, probs, acc.pos_list("over"), unit, lambda: acc.n_valid)
    return probs


def _hourly(cells: Cells, acc: Accumulator, probs: Problems) -> np.ndarray:
    """Missing and incomplete hours listed; (H, M) hourly kWh."""
    g, M = cells.grid, cells.M
    nat = acc.mat.reshape(M, g.S).T        # (slot, meter) view of the (meter, slot) matrix
    _unmet_to_nan(acc.seen, acc.mat)
    cells.present = acc.seen.view(np.bool_).reshape(M, g.S)   # 0/1 bytes: no copy

    def kept_pos(inc):
        h, m = np.nonzero(inc)
        s = 2 * h
        s = np.where(np.isnan(nat[s, m]), s + 1, s)
        k = m.astype(np.int64) * g.S + s
        o = np.argsort(k)
        lp = np.empty(len(k), np.int64)
        lp[o] = acc.locate(k[o])[0]
        o = np.argsort(lp)
        lp, s, m = lp[o], s[o], m[o]
        acc._aside(lp, s.astype(np.int32), m.astype(np.int32), nat[s, m])
        acc.lookups(cells)
        return lp
    out = finish_hourly(cells, probs, nat, kept_pos)
    acc.seen = acc.mat = None
    return out
