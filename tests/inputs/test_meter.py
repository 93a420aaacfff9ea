"""Tests for sim.inputs.meter: meter data ingestion (generated data only)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import InputError
from sim.inputs.meter import MeterData, read_meter

YEAR = 2025
TZ = "Asia/Tokyo"
METERS = ["m01", "m02", "m03"]


# --------------------------------------------------------------------------
# generated data
# --------------------------------------------------------------------------
def half_hourly(meters=METERS, year=YEAR, seed=0) -> pd.DataFrame:
    """True 30-minute kWh, index = naive interval starts (Japan time)."""
    idx = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="30min",
                        inclusive="left")
    rng = np.random.default_rng(seed)
    # values with 3 decimals so CSV round trips are exact sums up to rounding
    vals = np.round(rng.uniform(0.05, 0.45, (len(idx), len(meters))), 3)
    return pd.DataFrame(vals, index=idx, columns=meters)


def hourly(meters=METERS, year=YEAR, seed=0) -> pd.DataFrame:
    hh = half_hourly(meters, year, seed)
    return hh.groupby(np.arange(len(hh)) // 2).sum().set_index(hh.index[::2])


def stamps(idx: pd.DatetimeIndex, *, label="start", minutes=60, h24=False,
           fmt="%Y-%m-%d %H:%M") -> np.ndarray:
    t = idx + pd.Timedelta(minutes=minutes) if label == "end" else idx
    s = t.strftime(fmt).to_numpy(dtype=object)
    if h24:  # write midnight as "24:00" of the previous day
        mid = (t.hour == 0) & (t.minute == 0)
        prev = (t[mid] - pd.Timedelta(days=1)).strftime(fmt.replace("%H:%M", "24:00"))
        s[mid] = prev.to_numpy(dtype=object)
    return s


def to_long(wide: pd.DataFrame, ts) -> pd.DataFrame:
    n, m = wide.shape
    return pd.DataFrame({"timestamp": np.repeat(ts, m),
                         "meter": np.tile(np.asarray(wide.columns, dtype=object), n),
                         "kwh": wide.to_numpy().reshape(-1)})


def to_wide(wide: pd.DataFrame, ts) -> pd.DataFrame:
    out = wide.copy()
    out.index = pd.Index(ts, name="timestamp")
    return out.reset_index()


def write(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def h60() -> pd.DataFrame:
    return hourly()


@pytest.fixture(scope="module")
def expected(h60) -> pd.DataFrame:
    e = h60.copy()
    e.index = e.index.tz_localize(TZ)
    return e


def assert_kwh(md: MeterData, expected: pd.DataFrame):
    got = md.kwh
    assert got.index.tz is not None and str(got.index.tz) == TZ
    assert got.index.freqstr in ("h", "H")
    pd.testing.assert_frame_equal(got, expected, check_names=False, check_freq=False,
                                  rtol=1e-9, atol=1e-9)


def kinds(md: MeterData) -> set[str]:
    return {p.kind for p in md.problems}


def one(md: MeterData, kind: str, meter=None):
    ps = [p for p in md.problems if p.kind == kind and (meter is None or p.meter == meter)]
    assert len(ps) == 1, (kind, meter, md.summary())
    return ps[0]


# --------------------------------------------------------------------------
# clean data, layouts, formats
# --------------------------------------------------------------------------
def test_clean_long_csv(tmp_path, h60, expected):
    p = write(to_long(h60, stamps(h60.index)), tmp_path / "m.csv")
    md = read_meter(p, year=YEAR)
    assert_kwh(md, expected)
    assert md.problems == [] and md.ok
    assert md.interval_minutes == 60
    assert len(md.kwh) == 8760
    assert md.summary().empty
    assert (md.filled_kwh() == 0).all()


def test_long_and_wide_identical(tmp_path, h60, expected):
    ts = stamps(h60.index)
    long = read_meter(write(to_long(h60, ts), tmp_path / "l.csv"), year=YEAR)
    wide = read_meter(write(to_wide(h60, ts), tmp_path / "w.csv"), year=YEAR)
    assert_kwh(long, expected)
    pd.testing.assert_frame_equal(long.kwh, wide.kwh)
    forced = read_meter(tmp_path / "w.csv", year=YEAR, layout="wide")
    pd.testing.assert_frame_equal(forced.kwh, wide.kwh)


def test_parquet_equals_csv(tmp_path, h60):
    ts = stamps(h60.index)
    for lay, fn in (("long", to_long), ("wide", to_wide)):
        df = fn(h60, ts)
        c = read_meter(write(df, tmp_path / f"{lay}.csv"), year=YEAR)
        q = read_meter(write(df, tmp_path / f"{lay}.parquet"), year=YEAR)
        pd.testing.assert_frame_equal(c.kwh, q.kwh)
        assert c.problems == q.problems == []


def test_parquet_with_datetime_column(tmp_path, h60, expected):
    df = to_long(h60, h60.index.tz_localize(TZ).tz_convert("UTC"))
    md = read_meter(write(df, tmp_path / "t.parquet"), year=YEAR)
    assert_kwh(md, expected)
    assert any("converted to Asia/Tokyo" in r for r in md.repairs)


def test_half_hour_summed_equals_hourly(tmp_path, expected):
    hh = half_hourly()
    md = read_meter(write(to_long(hh, stamps(hh.index, minutes=30)), tmp_path / "h.csv"),
                    year=YEAR)
    assert md.interval_minutes == 30
    assert_kwh(md, expected)
    assert any("summed 30-minute" in r for r in md.repairs)
    assert md.problems == []


@pytest.mark.parametrize("minutes", [30, 60])
def test_end_label_equals_start_label(tmp_path, minutes, expected):
    data = half_hourly() if minutes == 30 else hourly()
    start = read_meter(write(to_wide(data, stamps(data.index, minutes=minutes)),
                             tmp_path / "s.csv"), year=YEAR, label="start")
    end_df = to_wide(data, stamps(data.index, label="end", minutes=minutes, h24=True))
    assert end_df["timestamp"].iloc[-1] == f"{YEAR}-12-31 24:00"
    end = read_meter(write(end_df, tmp_path / "e.csv"), year=YEAR, label="end")
    pd.testing.assert_frame_equal(start.kwh, end.kwh)
    assert_kwh(end, expected)
    assert end.problems == []
    assert any("END" in r for r in end.repairs)
    assert any("24:00" in r for r in end.repairs)
    # the same end-labelled file read as start labels is shifted by one interval
    wrong = read_meter(tmp_path / "e.csv", year=YEAR, label="start")
    assert {"out_of_year", "missing"} <= kinds(wrong)
    shifted = wrong.kwh.shift(-1) if minutes == 60 else None
    if shifted is not None:
        pd.testing.assert_frame_equal(shifted.iloc[:-1], end.kwh.iloc[:-1],
                                      check_freq=False)


def test_offsets_and_slash_format(tmp_path, h60, expected):
    ts = (h60.index.tz_localize(TZ).tz_convert("UTC")
          .strftime("%Y-%m-%dT%H:%M:%S+00:00").to_numpy(dtype=object))
    md = read_meter(write(to_long(h60, ts), tmp_path / "o.csv"), year=YEAR)
    assert_kwh(md, expected)
    ts2 = stamps(h60.index, fmt="%Y/%m/%d %H:%M")
    md2 = read_meter(write(to_wide(h60, ts2), tmp_path / "s.csv"), year=YEAR)
    assert_kwh(md2, expected)


def test_several_files_concatenated(tmp_path, h60, expected):
    ts = stamps(h60.index)
    a = write(to_long(h60.iloc[:4000], ts[:4000]), tmp_path / "a.csv")
    b = write(to_long(h60.iloc[4000:], ts[4000:]), tmp_path / "b.csv")
    md = read_meter([a, b], year=YEAR)
    assert_kwh(md, expected)
    assert str(a) in md.source and str(b) in md.source
    # a negative value in the second file is reported with that file's row
    df = to_long(h60.iloc[4000:], ts[4000:])
    df.loc[5, "kwh"] = -2.0
    write(df, b)
    md = read_meter([a, b], year=YEAR)
    p = one(md, "negative")
    assert p.file == str(b) and p.rows == [6] and p.meter == df.loc[5, "meter"]


def test_leap_year_has_8784_hours(tmp_path):
    h = hourly(year=2024)
    md = read_meter(write(to_wide(h, stamps(h.index)), tmp_path / "l.csv"), year=2024)
    assert len(md.kwh) == 8784 and md.problems == []


def test_unit_kw_converted(tmp_path, expected):
    hh = half_hourly()
    kw = hh * 2.0                       # mean kW over each half hour
    df = to_long(kw, stamps(hh.index, minutes=30))
    # a value column named kwh contradicts unit="kW"
    with pytest.raises(InputError, match="named as kWh"):
        read_meter(write(df, tmp_path / "kwh.csv"), year=YEAR, unit="kW")
    df = df.rename(columns={"kwh": "kw"})
    md = read_meter(write(df, tmp_path / "kw.csv"), year=YEAR, unit="kW")
    assert_kwh(md, expected)
    assert any("converted kW means to kWh" in r for r in md.repairs)
    # wide files carry no unit in their header
    md = read_meter(write(to_wide(kw, stamps(hh.index, minutes=30)), tmp_path / "w.csv"),
                    year=YEAR, unit="kW")
    assert_kwh(md, expected)


# --------------------------------------------------------------------------
# problems
# --------------------------------------------------------------------------
def test_each_problem_kind_with_rows(tmp_path, h60):
    df = to_long(h60, stamps(h60.index)).astype({"kwh": object})
    # data row r (1-based) is df.iloc[r - 1]
    df.loc[3, "kwh"] = -0.5                  # row 4: negative (meter m01, hour 1)
    df.loc[7, "kwh"] = 9.0                   # row 8: over capacity (m02, hour 2)
    df.loc[11, "kwh"] = "n/a?"               # row 12: non-numeric (m03, hour 3)
    df.loc[12, "kwh"] = None                 # row 13: empty (m01, hour 4)
    extra = pd.DataFrame({
        "timestamp": ["2026-01-01 00:00", "2025-01-02 00:00", "2025-01-03 00:00",
                      "2025-01-03 00:00", "2025-01-04 00:15", "not a time",
                      df.loc[30, "timestamp"], df.loc[33, "timestamp"]],
        "meter": ["m01", "m01", "m09", "m09", "m02", "m02", df.loc[30, "meter"],
                  df.loc[34, "meter"]],
        "kwh": [0.1, 0.2, 0.3, 0.3, 0.1, 0.1, df.loc[30, "kwh"], 0.999]})
    df = pd.concat([df, extra], ignore_index=True)
    n = len(h60) * 3
    p = write(df, tmp_path / "bad.csv")
    md = read_meter(p, year=YEAR, meters=METERS, capacities_kw={m: 2.0 for m in METERS})

    assert one(md, "negative").rows == [4] and one(md, "negative").meter == "m01"
    assert one(md, "over_capacity").rows == [8] and one(md, "over_capacity").meter == "m02"
    nn = one(md, "non_numeric")
    assert nn.rows == [12] and nn.meter == "m03" and "n/a?" in nn.detail
    assert one(md, "empty").rows == [13]
    assert one(md, "out_of_year").rows == [n + 1]
    assert one(md, "out_of_year").meter is None
    # 2025-01-02 00:00 for m01 exists already with another value: conflict
    conf = one(md, "duplicate_conflict", "m01")
    assert conf.rows == [24 * 3 + 1, n + 2]
    unk = one(md, "unknown_meter")
    assert unk.meter == "m09" and unk.rows == [n + 3, n + 4]
    assert one(md, "off_grid").rows == [n + 5]
    assert one(md, "bad_timestamp").rows == [n + 6]
    assert one(md, "duplicate").rows == [31, n + 7]
    assert one(md, "duplicate_conflict", "m02").rows == [35, n + 8]
    assert all(q.file == str(p) for q in md.problems if q.kind != "missing")

    # excluded values are NaN in kwh; the identical duplicate is kept
    k = md.kwh
    assert np.isnan(k.iloc[1]["m01"]) and np.isnan(k.iloc[2]["m02"])
    assert np.isnan(k.iloc[3]["m03"]) and np.isnan(k.iloc[4]["m01"])
    assert np.isnan(k.iloc[24]["m01"])
    assert k.iloc[10][df.loc[30, "meter"]] == pytest.approx(h60.iloc[10][df.loc[30, "meter"]])
    # each excluded value makes the interval missing, listed with its timestamp
    miss = {p.meter: list(p.rows) for p in md.problems_of("missing")}
    t = h60.index.tz_localize(TZ)
    assert miss["m01"] == [t[1], t[4], t[24]]
    assert miss["m02"] == [t[2], t[11]]
    assert miss["m03"] == [t[3]]
    s = md.summary()
    assert set(s.columns) >= {"kind", "meter", "file", "count", "detail"}
    assert len(s) == len(md.problems)
    assert all("\n" not in p.detail for p in md.problems)


def test_wide_problems_name_rows_and_meters(tmp_path, h60):
    df = to_wide(h60, stamps(h60.index)).astype({"m02": object})
    df.loc[9, "m02"] = "abc"
    df.loc[19, "m03"] = -1
    df = pd.concat([df, df.iloc[[40]]], ignore_index=True)   # duplicated row
    md = read_meter(write(df, tmp_path / "w.csv"), year=YEAR)
    assert one(md, "non_numeric").rows == [10] and one(md, "non_numeric").meter == "m02"
    assert one(md, "negative").rows == [20] and one(md, "negative").meter == "m03"
    # the repeated row is one problem for the file, not one per meter column
    dup = one(md, "duplicate")
    assert dup.meter is None and dup.meters == METERS and dup.rows == [41, len(df)]
    assert f"rows 41, {len(df)} repeat a timestamp" in dup.detail
    assert "(all 3 meters)" in dup.detail
    for m in METERS:
        assert md.problems_of("duplicate", m) == [dup]


def test_wide_duplicates_grouped_by_rows(tmp_path, h60):
    df = to_wide(h60, stamps(h60.index))
    changed = df.iloc[[40]].copy()
    changed["m03"] += 1.0                      # m03 conflicts, m01/m02 repeat identically
    df = pd.concat([df, changed, df.iloc[[100]]], ignore_index=True)
    n = len(df)
    md = read_meter(write(df, tmp_path / "w.csv"), year=YEAR)
    dups = md.problems_of("duplicate")
    assert len(dups) == 2
    [both] = [p for p in dups if p.meter is None]
    assert both.meters == ["m01", "m02"] and both.rows == [41, 101, n - 1, n]
    assert "(2 meters: m01, m02)" in both.detail and "2 ignored" in both.detail
    alone = one(md, "duplicate", "m03")        # a meter with rows of its own keeps its problem
    assert alone.rows == [101, n] and alone.meters is None
    assert one(md, "duplicate_conflict", "m03").rows == [41, n - 1]
    assert {m for p in dups for m in (p.meters or [p.meter])} == set(METERS)
    # the same data in long layout: one problem per meter, as before
    ts = df["timestamp"].to_numpy()
    long = to_long(df.set_index("timestamp"), ts)
    ml = read_meter(write(long, tmp_path / "l.csv"), year=YEAR)
    assert sorted(p.meter for p in ml.problems_of("duplicate")) == METERS
    assert all(p.meters is None for p in ml.problems)


def test_missing_ten_percent_not_zeros(tmp_path, h60):
    rng = np.random.default_rng(3)
    drop = np.sort(rng.choice(len(h60), size=len(h60) // 10, replace=False))
    kept = h60.drop(index=h60.index[drop])
    md = read_meter(write(to_wide(kept, stamps(kept.index)), tmp_path / "g.csv"),
                    year=YEAR)
    hours = h60.index.tz_localize(TZ)[drop]
    for m in METERS:
        p = one(md, "missing", m)
        assert list(p.rows) == list(hours)
        assert "876 of 8760 hours" in p.detail
    assert md.kwh.loc[hours].isna().all().all()
    assert not (md.kwh == 0).any().any()
    assert md.missing_hours().tolist() == [876] * 3
    assert md.kwh.notna().sum().sum() == 3 * (8760 - 876)


def test_meter_absent_entirely(tmp_path, h60):
    md = read_meter(write(to_wide(h60, stamps(h60.index)), tmp_path / "w.csv"),
                    year=YEAR, meters=METERS + ["m99"])
    assert list(md.kwh.columns) == METERS + ["m99"]
    assert md.kwh["m99"].isna().all()
    p = one(md, "missing", "m99")
    assert len(p.rows) == 8760 and "no data at all" in p.detail


def test_half_hour_one_half_missing(tmp_path):
    hh = half_hourly()
    df = to_long(hh, stamps(hh.index, minutes=30))
    # drop the second half of hour 5 for m01: data row of (slot 11, m01)
    r = 11 * 3
    assert df.loc[r, "meter"] == "m01"
    df = df.drop(index=r)
    md = read_meter(write(df, tmp_path / "h.csv"), year=YEAR)
    t = hh.index.tz_localize(TZ)
    assert list(one(md, "missing", "m01").rows) == [t[11]]
    inc = one(md, "incomplete_hour", "m01")
    assert inc.rows == [10 * 3 + 1]          # the first half, which is not used
    assert np.isnan(md.kwh["m01"].iloc[5])
    assert md.kwh["m01"].notna().sum() == 8759


def test_looks_like_kw(tmp_path):
    hh = half_hourly()
    kw = hh * 2.0                             # kW means written as if kWh
    cap = {m: 1.0 for m in METERS}            # true kWh per 30 min <= 0.45 < 0.5
    md = read_meter(write(to_wide(kw, stamps(hh.index, minutes=30)), tmp_path / "k.csv"),
                    year=YEAR, capacities_kw=cap)
    for m in METERS:
        lk = one(md, "looks_like_kw", m)
        ov = one(md, "over_capacity", m)
        assert lk.rows == ov.rows and len(lk.rows) > 1000
        assert "unit='kW'" in lk.detail
    # read as kW: no problem left
    ok = read_meter(tmp_path / "k.csv", year=YEAR, capacities_kw=cap, unit="kW")
    assert ok.problems == []
    # genuine kWh above capacity x 1 h is not called kW
    kw.iloc[100, 0] = 5.0
    md2 = read_meter(write(to_wide(kw, stamps(hh.index, minutes=30)), tmp_path / "k2.csv"),
                     year=YEAR, capacities_kw=cap)
    assert not md2.problems_of("looks_like_kw", "m01")
    assert md2.problems_of("looks_like_kw", "m02")


# --------------------------------------------------------------------------
# gap filling
# --------------------------------------------------------------------------
def test_fill_interpolate_reports_energy(tmp_path, h60):
    drop = [100, 101, 102, 500, 2000, 2001, 2002, 2003, 2004, 2005, 2006, 2007]
    kept = h60.drop(index=h60.index[drop])
    p = write(to_wide(kept, stamps(kept.index)), tmp_path / "g.csv")
    raw = read_meter(p, year=YEAR)
    md = read_meter(p, year=YEAR, fill="interpolate", fill_max_hours=6)
    # 2000..2007 (8 h) is longer than 6 h: stays NaN
    assert md.kwh.iloc[2000:2008].isna().all().all()
    assert md.kwh.iloc[[100, 101, 102, 500]].notna().all().all()
    v = h60["m01"].to_numpy()
    exp = v[99] + (v[103] - v[99]) * np.array([1, 2, 3]) / 4
    np.testing.assert_allclose(md.kwh["m01"].iloc[100:103], exp)
    fk = md.filled_kwh()
    for m in METERS:
        vv = h60[m].to_numpy()
        e = (vv[99] + (vv[103] - vv[99]) * np.array([1, 2, 3]) / 4).sum() \
            + (vv[499] + vv[501]) / 2
        assert fk[m] == pytest.approx(e)
        gf = one(md, "gap_filled", m)
        assert len(gf.rows) == 4
        # the original gaps are still listed as missing
        assert len(one(md, "missing", m).rows) == 12
    assert sum("filled" in r for r in md.repairs) == 3
    # unfilled data untouched
    pd.testing.assert_frame_equal(md.kwh.where(~md.filled), raw.kwh)


def test_fill_profile(tmp_path, h60):
    kept = h60.drop(index=h60.index[[48 + 5]])
    md = read_meter(write(to_wide(kept, stamps(kept.index)), tmp_path / "g.csv"),
                    year=YEAR, fill="profile", profile_days=2)
    v = h60["m02"].to_numpy()
    exp = np.mean([v[5], v[24 + 5], v[72 + 5], v[96 + 5]])
    assert md.kwh["m02"].iloc[53] == pytest.approx(exp)
    assert md.filled_kwh()["m02"] == pytest.approx(exp)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------
def test_errors(tmp_path, h60):
    ts = stamps(h60.index)
    good = write(to_long(h60, ts), tmp_path / "g.csv")
    with pytest.raises(InputError, match="unit"):
        read_meter(good, year=YEAR, unit="MWh")
    with pytest.raises(InputError, match="file not found"):
        read_meter(tmp_path / "nope.csv", year=YEAR)
    with pytest.raises(InputError, match="unknown file type"):
        read_meter(tmp_path / "x.xlsx", year=YEAR)
    nots = write(pd.DataFrame({"when": ts, "m01": 1.0}), tmp_path / "n.csv")
    with pytest.raises(InputError, match="no timestamp column") as ei:
        read_meter(nots, year=YEAR)
    assert ei.value.source == str(nots)
    with pytest.raises(InputError, match="interval=30 was given"):
        read_meter(good, year=YEAR, interval=30)
    q = h60.iloc[:100].copy()
    q.index = pd.date_range("2025-01-01", periods=100, freq="15min")
    with pytest.raises(InputError, match="15 minutes apart"):
        read_meter(write(to_wide(q, stamps(q.index)), tmp_path / "q.csv"), year=YEAR)
    with pytest.raises(InputError, match="no timestamp could be read"):
        read_meter(write(pd.DataFrame({"timestamp": ["x", "y"], "a": [1, 2]}),
                         tmp_path / "t.csv"), year=YEAR)
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(InputError, match="cannot read|no data"):
        read_meter(tmp_path / "e.csv", year=YEAR)
    (tmp_path / "r.csv").write_text("timestamp,meter,kwh\n2025-01-01 00:00,a,1,9\n")
    with pytest.raises(InputError, match="cannot read") as ei:
        read_meter(tmp_path / "r.csv", year=YEAR)
    assert "\n" not in str(ei.value)
    kwcol = write(pd.DataFrame({"timestamp": ts, "meter": "a", "kw": 1.0}),
                  tmp_path / "kw.csv")
    with pytest.raises(InputError, match="kW"):
        read_meter(kwcol, year=YEAR)
    with pytest.raises(InputError, match="capacit"):
        read_meter(good, year=YEAR, capacities_kw={"m01": -1})
    with pytest.raises(InputError, match="label"):
        read_meter(good, year=YEAR, label="middle")


# --------------------------------------------------------------------------
# property: dropped intervals are reported exactly
# --------------------------------------------------------------------------
_H = hourly(meters=["a", "b"], seed=7)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.tuples(st.integers(0, 8759), st.integers(0, 1)), max_size=200),
       st.booleans())
def test_dropped_intervals_reported_exactly(dropped, wide):
    long = to_long(_H, stamps(_H.index))
    rows = sorted(h * 2 + m for h, m in dropped)
    df = long.drop(index=rows)
    with tempfile.TemporaryDirectory() as d:
        if wide:
            df = df.pivot(index="timestamp", columns="meter", values="kwh").reset_index()
        md = read_meter(write(df, Path(d) / "p.csv"), year=YEAR, meters=["a", "b"])
    t = _H.index.tz_localize(TZ)
    for j, m in enumerate(["a", "b"]):
        hrs = sorted(h for h, mm in dropped if mm == j)
        ps = md.problems_of("missing", m)
        got = list(ps[0].rows) if ps else []
        assert got == list(t[hrs])
        assert md.kwh[m].isna().to_numpy().nonzero()[0].tolist() == hrs
    # nothing else is reported (wide pivots of fully dropped hours are absent rows)
    assert kinds(md) <= {"missing", "empty"}
    if not wide:
        assert kinds(md) <= {"missing"}


# --------------------------------------------------------------------------
# the pipeline's steps, each alone (issue 10)
# --------------------------------------------------------------------------
def test_pipeline_steps_alone(tmp_path, h60):
    from sim.inputs.meter.align import BAD_TS, align_to_year, year_grid
    from sim.inputs.meter.checks import check_cells
    from sim.inputs.meter.files import read_files
    from sim.inputs.meter.hourly import fill_gaps, to_hourly
    from sim.inputs.meter.timestamps import detect_interval, parse_timestamps

    ts = stamps(h60.index).copy()
    ts[10] = "not a time"
    df = to_long(h60, ts)
    df.loc[5, "kwh"] = -1.0
    parts = read_files(write(df, tmp_path / "s.csv"), layout="auto", encoding="utf-8",
                       unit="kwh")
    assert [p.layout for p in parts] == ["long"] and parts[0].n == len(df)
    parsed, repairs = parse_timestamps(parts, TZ)
    assert (parsed[0] == np.iinfo(np.int64).min).sum() == 1       # "not a time"
    assert any("naive timestamps" in r for r in repairs)
    assert detect_interval(parts, parsed, "auto", TZ) == 60
    grid = year_grid(YEAR, TZ, 60)
    cells = align_to_year(parts, parsed, grid, label="start", meters=METERS,
                          capacities_kw=None, unit="kwh")
    assert cells.M == 3 and (cells.slot == BAD_TS).sum() == 3       # 3 meters' cells
    keep, probs = check_cells(cells, "kwh")
    assert {p.kind for p in probs} == {"bad_timestamp", "negative"}
    assert keep.sum() == len(df) - 4
    hourly = to_hourly(cells, keep, probs)
    assert hourly.shape == (8760, 3) and np.isnan(hourly).sum() == 4
    mask = fill_gaps(hourly, cells, probs, "interpolate", 6, 7)
    assert mask.sum() == 4 and not np.isnan(hourly).any()


def test_interval_change_within_a_file_is_refused(tmp_path):
    hh = half_hourly()
    cut = hh.index.get_loc(pd.Timestamp(f"{YEAR}-10-01"))
    h = hh.iloc[:cut].groupby(np.arange(cut) // 2).sum()
    h.index = hh.index[:cut:2]
    ts = np.r_[stamps(h.index), stamps(hh.index[cut:], minutes=30)]
    p = write(to_wide(pd.concat([h, hh.iloc[cut:]]), ts), tmp_path / "mixed.csv")
    for interval in ("auto", 30, 60):
        with pytest.raises(InputError, match="interval changes within the file") as e:
            read_meter(p, year=YEAR, interval=interval)
        assert "60 min" in str(e.value) and "30 min" in str(e.value)
    # a 30-minute file with a missing afternoon is not an interval change
    gappy = hh.drop(index=hh.index[1000:1010])
    md = read_meter(write(to_wide(gappy, stamps(gappy.index)), tmp_path / "g.csv"),
                    year=YEAR)
    assert md.interval_minutes == 30


def test_day_month_order_needs_a_format(tmp_path, h60, expected):
    ts = stamps(h60.index, fmt="%d/%m/%Y %H:%M")
    p = write(to_wide(h60, ts), tmp_path / "dmy.csv")
    with pytest.raises(InputError, match="ambiguous date format") as e:
        read_meter(p, year=YEAR)
    assert "day first" in str(e.value)
    md = read_meter(p, year=YEAR, date_format="%d/%m/%Y %H:%M")
    assert_kwh(md, expected)
    wrong = read_meter(p, year=YEAR, date_format="%m/%d/%Y %H:%M")
    assert "bad_timestamp" in kinds(wrong)          # days above 12 do not parse
    with pytest.raises(InputError, match="date_format '%Q' is not a strftime format"):
        read_meter(p, year=YEAR, date_format="%Q")


def test_overflowing_cells_are_non_numeric(tmp_path, h60):
    df = to_wide(h60, stamps(h60.index)).astype({"m01": object})
    df.loc[7, "m01"] = "1e400"
    md = read_meter(write(df, tmp_path / "w.csv"), year=YEAR)
    p = one(md, "non_numeric", "m01")
    assert p.rows == [8] and np.isnan(md.kwh["m01"].iloc[7])
    long = to_long(h60, stamps(h60.index)).astype({"kwh": object})
    long.loc[3, "kwh"] = "-1e400"
    md = read_meter(write(long, tmp_path / "l.csv"), year=YEAR)
    assert one(md, "non_numeric").rows == [4]


def test_bad_encoding_and_misnamed_gzip(tmp_path, h60):
    import gzip

    p = write(to_wide(h60, stamps(h60.index)), tmp_path / "w.csv")
    with pytest.raises(InputError, match="unknown text encoding 'nope'"):
        read_meter(p, year=YEAR, encoding="nope")
    (tmp_path / "z.csv").write_bytes(gzip.compress(p.read_bytes()))
    with pytest.raises(InputError, match="gz-compressed; name it z.csv.gz"):
        read_meter(tmp_path / "z.csv", year=YEAR)
    (tmp_path / "z.csv.gz").write_bytes(gzip.compress(p.read_bytes()))
    assert read_meter(tmp_path / "z.csv.gz", year=YEAR).ok


def test_fill_never_where_the_meter_cannot_produce(tmp_path, h60):
    kept = h60.drop(index=h60.index[[100, 101, 102]])
    p = write(to_wide(kept, stamps(kept.index)), tmp_path / "g.csv")
    dark = np.zeros(8760, bool)
    dark[101] = True
    md = read_meter(p, year=YEAR, fill="interpolate", dark_hours={"m01": dark})
    assert md.kwh["m01"].iloc[101] == 0 and md.kwh["m02"].iloc[101] > 0
    assert md.filled["m01"].iloc[100:103].all()
    assert "1 of them with the sun down set to 0 kWh" in one(md, "gap_filled", "m01").detail


def test_unknown_meters_energy(tmp_path, h60):
    p = write(to_long(h60, stamps(h60.index)), tmp_path / "l.csv")
    md = read_meter(p, year=YEAR, meters=["m01", "m02"])
    assert md.unknown_kwh.to_dict() == pytest.approx({"m03": h60["m03"].sum()})
    assert one(md, "unknown_meter", "m03")


@pytest.mark.parametrize("how", ["interpolate", "profile"])
def test_gaps_of_a_float32_matrix_are_filled_in_float64(how):
    # a float32 matrix (meters read for a float32 result) is filled from the
    # same values as its float64 copy, and rounded once: the same fills
    from sim.inputs.meter.hourly import _fill

    rng = np.random.default_rng(5)
    h32 = (rng.lognormal(0, 3, (24 * 30, 7))).astype(np.float32)   # wide dynamic range
    h32[rng.random(h32.shape) < 0.2] = np.nan
    h64 = h32.astype(np.float64)
    m32 = _fill(h32, how, None, 7)
    m64 = _fill(h64, how, None, 7)
    np.testing.assert_array_equal(m32, m64)
    assert m32.sum() > 100
    np.testing.assert_array_equal(h32, h64.astype(np.float32))


def test_meter_matrix_is_the_frames_memory_until_the_frame_is_replaced(tmp_path):
    idx = pd.date_range("2023-01-01", periods=8760, freq="h")
    df = pd.DataFrame({"timestamp": idx.strftime("%Y-%m-%d %H:%M"),
                       "A": np.arange(8760) % 7 * 0.5, "B": np.arange(8760) % 5 * 0.25})
    p = tmp_path / "w.csv"
    df.to_csv(p, index=False)
    md = read_meter(p, year=2023)
    m = md.meter_matrix()
    assert m.shape == (2, 8760) and m.flags.writeable
    assert np.shares_memory(m, md.kwh.to_numpy())
    np.testing.assert_array_equal(m, md.kwh.to_numpy().T)
    md.kwh = md.kwh * 2                       # another frame: a copy of its values
    m2 = md.meter_matrix()
    assert not np.shares_memory(m2, m)
    np.testing.assert_array_equal(m2, md.kwh.to_numpy().T)


@pytest.mark.parametrize("layout", ["C", "F"])
def test_nan_cells_are_nonzero_of_isnan(layout):
    from sim.inputs.meter.hourly import _nan_cells

    rng = np.random.default_rng(2)
    for share in (0.0, 0.01, 0.5, 1.0):
        mat = rng.random((17, 300))
        mat[rng.random(mat.shape) < share] = np.nan
        mat = np.asarray(mat, order=layout)
        got = _nan_cells(mat)
        want = np.nonzero(np.isnan(mat))
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
