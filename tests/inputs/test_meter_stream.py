"""The streamed meter reader against the flat one (every row in memory at once).

Both paths must give the same hourly kWh, the same problems (kinds, meters,
rows, texts), repairs and unknown-meter energy, or the same one-line error.
Small batches put batch boundaries everywhere, so that repeats split across
batches, an interval changing partway and the first-seen order of unknown
meters are exercised.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.inputs.meter as meter_mod
import sim.inputs.meter.stream as stream
from sim.errors import InputError
from sim.inputs.claim import claim_from_dict
from sim.studies.meter_checks import sun_reference
from sim.studies.verify import read_claim_meters

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "studies"))
import faults

YEAR = 2023


def _problems(md):
    return [(p.kind, p.meter, [str(r) for r in p.rows], p.detail, p.file, p.meters)
            for p in md.problems]


def assert_same(flat, streamed):
    pd.testing.assert_frame_equal(flat.kwh, streamed.kwh)
    assert _problems(flat) == _problems(streamed)
    assert flat.repairs == streamed.repairs
    pd.testing.assert_series_equal(flat.unknown_kwh, streamed.unknown_kwh)
    pd.testing.assert_series_equal(flat.capacities_kw, streamed.capacities_kw)
    assert flat.interval_minutes == streamed.interval_minutes
    assert flat.source == streamed.source
    if flat.filled is None:
        assert streamed.filled is None
    else:
        pd.testing.assert_frame_equal(flat.filled, streamed.filled)


def both(paths, kw, batch_rows=997, csv_block=1 << 15):
    """(flat result or error text, streamed result or error text)."""
    out = []
    for streamed in (False, True):
        try:
            out.append(meter_mod._read(paths, dict(kw), streamed=streamed,
                                       batch_rows=batch_rows, csv_block=csv_block))
        except InputError as e:
            out.append(f"InputError: {e}")
    return out


def check(paths, kw, **batches):
    flat, streamed = both(paths, kw, **batches)
    if isinstance(flat, str) or isinstance(streamed, str):
        assert flat == streamed
    else:
        assert_same(flat, streamed)
    return flat


def _read_args(claim, files, monkeypatch) -> dict:
    """The keyword arguments ``verify`` gives ``read_meter`` for this claim."""
    seen = {}

    class Captured(Exception):
        pass

    def spy(paths, **kw):
        seen.update(kw)
        raise Captured
    monkeypatch.setattr(meter_mod, "read_meter", spy)
    with pytest.raises(Captured):
        read_claim_meters(claim, files, claim.meter_data.fill, sun_reference(claim))
    monkeypatch.undo()
    return seen


@pytest.fixture(scope="module")
def base():
    return faults.load_base()


@pytest.fixture(scope="module")
def claims():
    return faults.load_claims()


@pytest.mark.parametrize("fault", faults.FAULTS, ids=lambda f: f.__name__)
def test_fault_corpus_streamed_equals_flat(fault, base, claims, tmp_path, monkeypatch):
    case = fault(base, tmp_path)
    claim = claim_from_dict(faults.apply(claims["claim"], case.claim, case.files),
                            source=tmp_path / "claim.toml")
    kw = dict(KW, **_read_args(claim, case.files, monkeypatch))
    check(case.files, kw)


def _long(n_meters=4, minutes=60, seed=0):
    idx = pd.date_range(f"{YEAR}-01-01", periods=8760 * 60 // minutes,
                        freq=f"{minutes}min", tz="Asia/Tokyo")
    rng = np.random.default_rng(seed)
    ids = [f"M{i}" for i in range(n_meters)]
    df = pd.DataFrame({"timestamp": np.tile(idx.strftime("%Y-%m-%d %H:%M"), n_meters),
                       "meter": np.repeat(ids, len(idx)),
                       "kwh": np.round(rng.uniform(0, 2, len(idx) * n_meters), 3)})
    return df, ids


KW = dict(year=YEAR, layout="auto", interval="auto", label="start", timezone="Asia/Tokyo",
          meters=None, capacities_kw=None, unit="kWh", fill=None, fill_max_hours=6,
          profile_days=7, timestamp_column=None, meter_column=None, value_column=None,
          encoding="utf-8", date_format=None, dark_hours=None, dtype=np.float64)


def _faulty_long(minutes=60):
    """A long file with every row-level problem, repeats far apart (other batches)."""
    df, ids = _long(minutes=minutes)
    n = len(df)
    df = df.sample(frac=1.0, random_state=3).reset_index(drop=True)  # rows in any order
    extra = df.iloc[[5, 17, 2000, 30000]].copy()            # identical repeats
    conflict = df.iloc[[40, 41]].copy()
    conflict["kwh"] += 0.5                                   # conflicting repeats
    df.loc[[100, 101], "kwh"] = -1.0
    df.loc[[200], "kwh"] = 9.0                               # over 5 kW x 1 h
    df.loc[[300, 301], "kwh"] = np.nan
    df.loc[[400], "timestamp"] = "not a time"
    df.loc[[401], "timestamp"] = "2022-12-31 23:00"
    df.loc[[402], "timestamp"] = "2023-03-01 10:17"
    df.loc[[500, 9000], "meter"] = "X-unknown"
    df.loc[[501], "meter"] = "Y-unknown"
    df = pd.concat([df, extra, conflict, df.iloc[[7]]], ignore_index=True)
    df.loc[len(df) - 1, "kwh"] = np.nan                      # a value and an empty repeat
    assert len(df) > n
    return df, ids


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("batch_rows", [257, 5000])
def test_generated_multi_batch_long(tmp_path, fmt, batch_rows):
    df, ids = _faulty_long()
    p = tmp_path / f"m.{fmt}"
    df.to_csv(p, index=False) if fmt == "csv" else df.to_parquet(p, index=False)
    kw = dict(KW, meters=ids, capacities_kw=5.0)
    flat = check([p], kw, batch_rows=batch_rows, csv_block=max(64, batch_rows * 8))
    kinds = {pr.kind for pr in flat.problems}
    assert {"duplicate", "duplicate_conflict", "negative", "over_capacity", "empty",
            "bad_timestamp", "out_of_year", "off_grid", "unknown_meter",
            "missing"} <= kinds
    assert flat.unknown_kwh.index.tolist() == ["X-unknown", "Y-unknown"]


def test_repeat_split_across_batches_is_found(tmp_path):
    df, ids = _long(n_meters=2)
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)   # first and last row
    p = tmp_path / "m.parquet"
    df.to_parquet(p, index=False)
    flat, streamed = both([p], dict(KW, meters=ids), batch_rows=100)
    assert_same(flat, streamed)
    dup = [pr for pr in streamed.problems if pr.kind == "duplicate"]
    assert len(dup) == 1 and dup[0].rows == [1, len(df)]


def test_repeats_in_and_across_batches_equal_flat(tmp_path):
    # positions are not stored per cell: a first cell in an earlier batch is
    # found by reading again; a key repeated inside its first batch and again
    # later, one repeated in two later batches (same or another value), and a
    # repeat inside a later batch only, all listed as the flat path lists them
    df, ids = _long(n_meters=3)
    extra = df.iloc[[0, 0, 5, 5, 9]].copy()
    extra.iloc[3, extra.columns.get_loc("kwh")] += 1.0       # a conflict on row 5's key
    parts = [df.iloc[:50], extra.iloc[[0]], df.iloc[50:300], extra.iloc[[1, 2]],
             df.iloc[300:], extra.iloc[[3, 4]], df.iloc[[400]]]
    df2 = pd.concat(parts, ignore_index=True)
    p = tmp_path / "m.parquet"
    df2.to_parquet(p, index=False)
    for rows in (40, 100, 10_000):
        flat, streamed = both([p], dict(KW, meters=ids), batch_rows=rows)
        assert_same(flat, streamed)
    kinds = {pr.kind for pr in streamed.problems}
    assert {"duplicate", "duplicate_conflict"} <= kinds


def test_half_hourly_incomplete_and_kw(tmp_path):
    df, _ = _faulty_long(minutes=30)
    df.loc[[600], "kwh"] = np.nan          # one half of an hour
    p = tmp_path / "h.csv"
    df.to_csv(p, index=False)
    for unit, col in (("kWh", "kwh"), ("kW", "kw")):
        q = tmp_path / f"h_{col}.csv"
        df.rename(columns={"kwh": col}).to_csv(q, index=False)
        flat = check([q], dict(KW, unit=unit, capacities_kw=5.0, fill="interpolate"),
                     batch_rows=3000, csv_block=50_000)
        assert any(pr.kind == "incomplete_hour" for pr in flat.problems)


def test_interval_changing_partway_refused(tmp_path):
    df, ids = _long(n_meters=2)
    ts = pd.to_datetime(df["timestamp"])
    half = pd.date_range(f"{YEAR}-10-01", f"{YEAR}-12-31 23:30", freq="30min")
    tail = pd.DataFrame({"timestamp": np.tile(half.strftime("%Y-%m-%d %H:%M"), 2),
                         "meter": np.repeat(ids, len(half)), "kwh": 0.5})
    df = pd.concat([df[ts < f"{YEAR}-10-01"], tail], ignore_index=True)
    p = tmp_path / "m.csv"
    df.to_csv(p, index=False)
    flat, streamed = both([p], dict(KW), batch_rows=50, csv_block=512)
    assert flat == streamed and "interval changes" in streamed


def test_wide_and_several_files(tmp_path):
    df, ids = _faulty_long()
    df = df.drop_duplicates(["timestamp", "meter"]).loc[lambda d: d.meter.isin(ids)]
    wide = df.pivot(index="timestamp", columns="meter", values="kwh").reset_index()
    wide = wide.astype({ids[1]: object})
    wide.iloc[3, 2] = "n/a"
    wide = pd.concat([wide, wide.iloc[[10, 4000]]], ignore_index=True)  # whole-row repeats
    a, b = tmp_path / "w.csv", tmp_path / "l.parquet"
    wide.to_csv(a, index=False)
    extra, _ = _long(n_meters=2, seed=5)
    extra["meter"] = extra["meter"].replace({"M0": "Z0", "M1": "M1"})
    extra.to_parquet(b, index=False)
    for meters in (None, ids):
        check([a, b], dict(KW, meters=meters, capacities_kw=5.0), batch_rows=37,
              csv_block=700)


def _instants(df):
    """The file's stamps as a zone-aware timestamp column (read in one pass)."""
    ts = pd.to_datetime(df["timestamp"], errors="coerce", format="%Y-%m-%d %H:%M")
    return df.assign(timestamp=ts.dt.tz_localize("Asia/Tokyo"))


def test_one_pass_instants(tmp_path, monkeypatch):
    df, ids = _faulty_long()
    p = tmp_path / "i.parquet"
    _instants(df).to_parquet(p, index=False)
    kw = dict(KW, meters=ids, capacities_kw=5.0, interval=60)
    calls = []
    real = stream.first_pass
    monkeypatch.setattr(stream, "first_pass", lambda *a, **k: (calls.append(1),
                                                                real(*a, **k))[1])
    flat = check([p], kw, batch_rows=1000)
    assert not calls                                      # read in one pass
    assert {"duplicate", "duplicate_conflict", "bad_timestamp", "off_grid",
            "out_of_year"} <= {pr.kind for pr in flat.problems}
    for bad in (dict(meters=ids + ids[:1]), dict(capacities_kw=-1.0)):
        check([p], dict(kw, **bad), batch_rows=1000)      # the same error


def test_one_pass_interval_changing_refused(tmp_path):
    df, ids = _long(n_meters=2)
    ts = pd.to_datetime(df["timestamp"])
    half = pd.date_range(f"{YEAR}-10-01", f"{YEAR}-12-31 23:30", freq="30min")
    tail = pd.DataFrame({"timestamp": np.tile(half.strftime("%Y-%m-%d %H:%M"), 2),
                         "meter": np.repeat(ids, len(half)), "kwh": 0.5})
    p = tmp_path / "m.parquet"
    _instants(pd.concat([df[ts < f"{YEAR}-10-01"], tail])).to_parquet(p, index=False)
    flat, streamed = both([p], dict(KW, meters=ids, interval=60), batch_rows=500)
    assert flat == streamed and "interval changes" in streamed


def test_instant_slots_follow_previous_row_exactly():
    """The shortcuts from the previous row (same stamp, one step on) give the
    slots a division gives, in any order, with stamps off the grid, out of the
    year and missing among them."""
    rng = np.random.default_rng(7)
    scale, step, y0, shift, S = 10**3, 3600 * 10**9, 5 * 10**15, 3600 * 10**9, 48
    base = (y0 + shift) // scale
    on = base + np.arange(-3, S + 3) * (step // scale)           # some out of the year
    pool = np.concatenate([on, on[:5] + 17, [stream._NAT]])        # off the grid, NaT
    for order in ("time", "meter", "random"):
        if order == "time":
            raw = np.repeat(on, 3)
        elif order == "meter":
            raw = np.tile(on, 3)
        else:
            raw = rng.choice(pool, 2000)
        raw = raw.astype(np.int64)
        out = np.empty(len(raw), np.int32)
        seen = np.zeros(S, np.bool_)
        n_bad = stream._instant_slots(raw, scale, shift, y0, step, S, out, seen)
        rel = raw * scale - shift - y0
        want = np.where(rel % step != 0, stream.OFF_GRID,
                        np.where((rel // step < 0) | (rel // step >= S), stream.OUT_OF_YEAR,
                                 rel // step))
        want = np.where(raw == stream._NAT, stream.BAD_TS, want)
        assert out.tolist() == want.tolist(), order
        assert n_bad == int(((want == stream.OFF_GRID) | (want == stream.OUT_OF_YEAR)).sum())
        assert seen.tolist() == [s in set(want[want >= 0].tolist()) for s in range(S)]


def test_prefetched_keeps_order_raises_where_the_reader_failed_and_stops_early():
    import threading

    assert list(stream.prefetched(iter(range(50)), depth=3)) == list(range(50))

    def failing():
        yield from range(5)
        raise InputError("broken batch", source="m.parquet")
    got = []
    with pytest.raises(InputError, match="broken batch"):
        for x in stream.prefetched(failing()):
            got.append(x)  # noqa: PERF402 - keeps the items before the error
    assert got == list(range(5))              # every batch before the error

    closed = []

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)               # the reader's files are closed
    it = stream.prefetched(endless(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()                                # the loop left early
    assert closed == [True]
    assert not any(t.name == "gxsim-meter-reader" for t in threading.enumerate())


@pytest.mark.parametrize("fill", [None, "interpolate", "profile"])
@pytest.mark.parametrize("unit", ["kWh", "kW"])
def test_float32_result_equals_flat_and_repeats_are_compared_as_read(tmp_path, fill, unit):
    # hourly data read for a float32 result is stored in float32 as it is
    # read (stream.value_dtype); a repeat differing from its first cell by
    # less than float32 can tell (in another batch) is still a conflict, and
    # gaps are filled in float64 from the stored values
    df, ids = _faulty_long()
    tiny = df.iloc[[60, 61]].copy()
    tiny["kwh"] = tiny["kwh"] * (1 + 1e-12) + 1e-12        # equal in float32
    assert (tiny["kwh"].astype(np.float32).values
            == df.loc[[60, 61], "kwh"].astype(np.float32).values).all()
    df = pd.concat([df, tiny], ignore_index=True)
    df.loc[np.arange(1000, 1400, 7), "kwh"] = np.nan         # gaps to fill
    p = tmp_path / "m.parquet"
    df.rename(columns={"kwh": unit.lower()}).to_parquet(p, index=False)
    kw = dict(KW, meters=ids, capacities_kw=5.0, dtype=np.float32, fill=fill,
              fill_max_hours=None, unit=unit)
    assert stream.value_dtype(stream.year_grid(YEAR, "Asia/Tokyo", 60), np.float32) \
        == np.float32
    flat, streamed = both([p], kw, batch_rows=997)
    assert not isinstance(flat, str), flat
    assert streamed.kwh.dtypes.eq(np.float32).all()
    assert_same(flat, streamed)
    conflicts = [pr for pr in streamed.problems if pr.kind == "duplicate_conflict"]
    rows = {r for pr in conflicts for r in pr.rows}
    assert {len(df) - 1, len(df)} <= rows      # the two tiny repeats (1-based rows)
