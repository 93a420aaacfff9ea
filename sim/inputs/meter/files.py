"""Step 1, read: meter files (CSV, TSV, Parquet; long or wide) into flat arrays.

Each file becomes a :class:`Part`: per data row a code into the file's unique
time stamps, per cell a meter code and a float64 value (NaN where empty or
non-numeric; the non-numeric cells' positions and texts are kept for the
problem list).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sim.errors import InputError
from sim.io import check_input_file

_TS_NAMES = ("timestamp", "datetime", "date_time", "time", "date", "interval_start",
             "interval_end", "日時", "時刻", "計測日時")
_METER_NAMES = ("meter", "meter_id", "meterid", "meter id", "meter_no", "id",
                "メーター", "メーターid", "計器", "計器番号")
_VALUE_NAMES = ("kwh", "value", "energy", "energy_kwh", "kw", "power_kw",
                "kw_mean", "使用量", "電力量")
_KW_VALUE_NAMES = ("kw", "power_kw", "kw_mean")
_KWH_VALUE_NAMES = ("kwh", "energy_kwh", "電力量")

_NUMERIC_RE = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


@dataclass
class Part:
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
    for p in out:
        if p.exists():  # a FIFO, device, folder or huge file: refused unread
            check_input_file(p, "meter file", "meter")
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
        vals = np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False),
                          dtype=np.float64)
        return _finite(vals, None, [])
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
    return _finite(vals, bad_np, texts)


def _finite(vals: np.ndarray, bad: np.ndarray | None, texts: list):
    """Infinite values (a cell of 1e400 overflows to inf) count as non-numeric."""
    inf = np.isinf(vals)
    if not inf.any():
        return vals, bad, texts
    bad = np.zeros(len(vals), bool) if bad is None else bad.copy()
    old_pos = np.flatnonzero(bad)
    bad |= inf
    text_of = dict(zip(old_pos.tolist(), texts))
    texts = [text_of.get(i, "a number beyond float range") for i in np.flatnonzero(bad)]
    vals = np.where(inf, np.nan, vals)
    return vals, bad, texts


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


def _header(path: Path, kind: str, encoding: str, ts_col_hint, layout, meter_hint,
            value_hint):
    """The file's columns recognised: (columns, ts, meter, value, layout)."""
    if not path.exists():
        raise InputError("file not found", source=path)
    if kind != "parquet":
        check_encoding(encoding)
        _check_compression(path)
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
    return columns, ts_col, meter_col, value_col, layout


def _read_table(path: Path, kind: str, encoding: str, ts_col_hint, layout, meter_hint,
                value_hint):
    """Read a file into a pyarrow Table; returns (table, ts, meter, value, layout)."""
    columns, ts_col, meter_col, value_col, layout = _header(
        path, kind, encoding, ts_col_hint, layout, meter_hint, value_hint)
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
    """The error's first line, printable and short (a parse error can quote bytes)."""
    s = str(e).strip().splitlines()
    line = s[0] if s else type(e).__name__
    line = "".join(ch if ch.isprintable() else "?" for ch in line)
    return line if len(line) <= 160 else line[:157] + "..."


_MAGIC = {b"\x1f\x8b": ".gz", b"BZh": ".bz2", b"\x28\xb5\x2f\xfd": ".zst",
          b"PAR1": ".parquet"}


def _check_compression(path: Path) -> None:
    """A compressed (or Parquet) file under a plain text name is refused, not parsed."""
    with open(path, "rb") as f:
        head = f.read(4)
    for magic, ext in _MAGIC.items():
        if head.startswith(magic) and not path.name.lower().endswith(ext):
            what = ("Parquet data; name it .parquet" if ext == ".parquet" else
                    f"{ext[1:]}-compressed; name it {path.name}{ext}")
            raise InputError(f"the file is {what}", source=path)


def _load_part(path: Path, *, layout, encoding, timestamp_column, meter_column,
               value_column) -> Part:
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
        return Part(str(path), "long", 1, len(value), ts_codes, ts_values,
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
    return Part(str(path), "wide", C, R * C, ts_codes, ts_values, meter_codes, names,
                 mat.reshape(-1), nonnum_pos, texts, None)


def check_encoding(encoding: str) -> None:
    """An unknown text encoding is bad input (one line), not a LookupError."""
    try:
        codecs.lookup(str(encoding))
    except LookupError:
        raise InputError(f"unknown text encoding {encoding!r}; expected e.g. 'utf-8', "
                         "'utf-8-sig' or 'cp932' (Shift-JIS)", field="encoding") from None


def read_files(paths, *, layout: str, encoding: str, unit: str,
               timestamp_column: str | None = None, meter_column: str | None = None,
               value_column: str | None = None) -> list[Part]:
    """Step "read": every file into a :class:`Part` (columns recognised, cells parsed).

    Parameters
    ----------
    paths : str, Path or list of them
    layout : {"auto", "long", "wide"}
    encoding : str
        Text encoding of CSV files.
    unit : {"kwh", "kw"}
        Lower-case unit, checked against a long file's value column name.

    Raises
    ------
    InputError
        Unreadable file, unknown encoding, no timestamp column, a value column
        named in the other unit.
    """
    parts = [_load_part(p, layout=layout, encoding=encoding,
                        timestamp_column=timestamp_column, meter_column=meter_column,
                        value_column=value_column) for p in _as_paths(paths)]
    check_units(parts, unit)
    return parts


def check_units(parts, unit: str) -> None:
    """A long file's value column named in the other unit is refused.

    ``parts``: objects with ``layout``, ``value_col`` and ``path`` (the read
    parts here, the streamed sources of :mod:`.stream`); ``unit``: "kwh" or "kw".
    """
    for part in parts:
        vc = (part.value_col or "").strip().lower()
        if part.layout == "long" and unit == "kwh" and vc in _KW_VALUE_NAMES:
            raise InputError(f"value column {part.value_col!r} is named as kW but unit='kWh' "
                             "was given; pass unit='kW' to convert kW means to kWh",
                             source=part.path, field=part.value_col)
        if part.layout == "long" and unit == "kw" and vc in _KWH_VALUE_NAMES:
            raise InputError(f"value column {part.value_col!r} is named as kWh but unit='kW' "
                             "was given", source=part.path, field=part.value_col)
