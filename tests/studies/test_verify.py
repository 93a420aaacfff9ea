"""Tests for sim.studies.verify: an island claim checked against generated meter data.

The meter data are generated here with known true values (30-minute kWh with
three decimals, so that CSV round trips are exact); the true figures come from
the kernel run on the true arrays, independently of the file reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

import sim
from sim.errors import InputError
from sim.inputs.claim import claim_from_dict, claim_scenario, load_claim
from sim.studies.verify import metered_result, verify

YEAR = 2023
TZ = "Asia/Tokyo"
CONSUMERS = [  # id, sector, meter, mean kW, shape, savings
    ("homes", "household", "C-001", 40.0, "evening", 0.05),
    ("shops", "commercial", "C-002", 25.0, "day", 0.0),
    ("school", "public", "C-003", 10.0, "day", 0.10),
    ("factory", "industry", "C-004", 15.0, "flat", 0.0),
]
PLANTS = [  # id, kind, meter, capacity kW, site, municipality
    ("roof_pv", "pv", "G-001", 30.0, "homes", None),
    ("farm_pv", "pv", "G-002", 220.0, None, None),
    ("biomass", "biomass", "G-003", 12.0, None, "隣町"),
]


# --------------------------------------------------------------------------
# generated data with known truth
# --------------------------------------------------------------------------
def half_hours(year=YEAR) -> pd.DatetimeIndex:
    return pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="30min",
                         inclusive="left")


def true_half_hourly(seed=0, pv_scale=1.0) -> pd.DataFrame:
    """True 30-minute kWh per meter (naive Japan-time interval starts).

    Consumers follow their archetypes (sim.physics.demand) with noise; PV
    follows pvlib's model on the default weather of the site (as a real PV
    meter follows the sun), x 0.9 and a random daily factor; the biomass
    plant runs flat with two weeks of outage.
    """
    from sim.core.engine import calendar_index
    from sim.physics.demand import demand_kwh
    from sim.physics.solar import pv_kwh_per_kwp
    from sim.inputs.weather import load_weather

    idx = half_hours()
    hours = calendar_index(YEAR, TZ)
    rng = np.random.default_rng(seed)
    from sim.inputs.scenario import DEFAULT_ARCHETYPE as arche
    hourly = {}
    for _, sector, meter, kw, _, _ in CONSUMERS:
        shape = demand_kwh(kw * len(hours), arche[sector], hours)
        hourly[meter] = shape * rng.uniform(0.85, 1.15, len(hours))
    weather = load_weather(None, latitude=27.4, longitude=128.6, year=YEAR, timezone=TZ)
    per_kwp = pv_kwh_per_kwp(weather, latitude=27.4, longitude=128.6)
    day = np.repeat(rng.uniform(0.8, 1.0, len(hours) // 24), 24)
    doy = hours.day_of_year.to_numpy()
    for _, kind, meter, cap, _, _ in PLANTS:
        if kind == "pv":
            hourly[meter] = np.minimum(per_kwp * cap * 0.9 * pv_scale * day, cap)
        else:
            on = np.where((doy >= 140) & (doy < 154), 0.0, 1.0)
            hourly[meter] = cap * 0.85 * on
    cols = {}
    for meter, h in hourly.items():
        first = np.round(h * 0.5, 3)
        cols[meter] = np.empty(2 * len(h))
        cols[meter][0::2], cols[meter][1::2] = first, np.round(h - first, 3)
    return pd.DataFrame(cols, index=idx)


def to_hourly(hh: pd.DataFrame) -> pd.DataFrame:
    return hh.groupby(np.arange(len(hh)) // 2).sum().set_index(hh.index[::2])


def write_long(df: pd.DataFrame, path: Path, *, minutes=30, label="start") -> Path:
    ts = df.index + pd.Timedelta(minutes=minutes) if label == "end" else df.index
    n, m = df.shape
    out = pd.DataFrame({"timestamp": np.repeat(ts.strftime("%Y-%m-%d %H:%M").to_numpy(), m),
                        "meter_id": np.tile(df.columns.to_numpy(dtype=object), n),
                        "kwh": df.to_numpy().reshape(-1)})
    out.to_csv(path, index=False)
    return path


def write_wide(df: pd.DataFrame, path: Path) -> Path:
    out = df.copy()
    out.index = pd.Index(df.index.strftime("%Y-%m-%d %H:%M"), name="timestamp")
    if str(path).endswith(".parquet"):
        out.reset_index().to_parquet(path)
    else:
        out.to_csv(path)
    return path


def claim_dict(figures: dict, **over) -> dict:
    d = {
        "region": {"name": "Test island", "municipality": "本町", "prefecture": "鹿児島県",
                   "latitude": 27.4, "longitude": 128.6, "year": YEAR},
        "grid": {"isolated": True, "must_run_kw": 5.0},
        "claimed": figures,
        "tolerance": {"relative": 0.01, "absolute_share": 0.005},
        "meter_data": {"label": "start", "unit": "kWh"},
        "consumers": [{"id": i, "sector": s, "meter": m, "savings": sv}
                      for i, s, m, _, _, sv in CONSUMERS],
        "generators": [dict({"id": i, "kind": k, "meter": m, "capacity_kw": cap},
                            **({"site": site} if site else {}),
                            # a plant of another town is not grant-funded (問26 ※1)
                            **({"municipality": mu, "grant_funded": False} if mu else {}))
                       for i, k, m, cap, site, mu in PLANTS],
        "storage": [{"id": "home_batt", "site": "homes", "capacity_kwh": 40.0,
                     "power_kw": 10.0}],
    }
    for k, v in over.items():
        d[k] = dict(d[k], **v) if isinstance(v, dict) and isinstance(d.get(k), dict) else v
    return d


def write_claim(tmp: Path, figures: dict, name="claim.toml", **over) -> Path:
    p = tmp / name
    p.write_text(tomli_w.dumps(claim_dict(figures, **over)), encoding="utf-8")
    return p


PLACEHOLDER = {"civil_demand_kwh": 1.0, "renewable_supply_kwh": 1.0}


@pytest.fixture(scope="module")
def truth():
    """True half-hourly data and the true figures from the kernel on true arrays."""
    hh = true_half_hourly()
    h = to_hourly(hh)
    claim = claim_from_dict(claim_dict(PLACEHOLDER))
    n_c = len(CONSUMERS)
    arr = h[claim.meters].to_numpy().T
    sc = claim_scenario(claim)
    res = metered_result(sc, np.ascontiguousarray(arr[:n_c]), np.ascontiguousarray(arr[n_c:]))
    from sim.studies.verify import _evaluation
    figs, _ = _evaluation(res)
    civil = np.array([s not in ("industry",) for _, s, *_ in CONSUMERS])
    figs["hourly_matched_share"] = float(res.annual["renewable"][civil].sum()
                                         / res.annual["demand"][civil].sum())
    return {"hh": hh, "h": h, "figures": figs, "result": res}


def consistent(truth) -> dict:
    f = truth["figures"]
    return {"civil_demand_kwh": round(f["civil_demand_kwh"]),
            "renewable_supply_kwh": round(f["renewable_supply_hourly_kwh"]),
            "savings_kwh": round(f["savings_kwh"]),
            "self_consumption_rate": round(f["self_consumption_rate"], 3),
            "local_production_rate": round(f["local_production_rate"], 3),
            "hourly_matched_share": round(f["hourly_matched_share"], 3),
            "balance": bool(f["balance_hourly_ok"])}


@pytest.fixture(scope="module")
def files(truth, tmp_path_factory):
    d = tmp_path_factory.mktemp("meters")
    return {"long30": write_long(truth["hh"], d / "long30.csv"),
            "wide60": write_wide(truth["h"], d / "wide60.csv"),
            "dir": d}


# --------------------------------------------------------------------------
# the truth is independent of the reader: civil delivered equals sim.match
# --------------------------------------------------------------------------
def test_truth_is_the_kernel(truth):
    h = truth["h"]
    n_c = len(CONSUMERS)
    meters = [c[2] for c in CONSUMERS] + [p[2] for p in PLANTS]
    arr = h[meters].to_numpy().T
    dem, gen = arr[:n_c], arr[n_c:]
    onsite = np.zeros_like(dem)
    onsite[0] = gen[0]
    out = sim.match(dem, onsite, gen[1:].sum(axis=0), battery_kwh=[40, 0, 0, 0],
                    battery_kw=[10, 0, 0, 0], must_run=5.0)
    delivered = out["direct"] + out["discharge"] + out["pooled"] + out["community"]
    assert truth["figures"]["renewable_supply_hourly_kwh"] == pytest.approx(
        delivered[:3].sum(), rel=1e-9)
    gross = (dem[:3] / (1 - np.array([0.05, 0.0, 0.10]))[:, None]).sum()
    assert truth["figures"]["civil_demand_kwh"] == pytest.approx(gross, rel=1e-9)
    # the scenario of the inflated test really has an hourly shortfall
    assert truth["figures"]["renewable_supply_annual_kwh"] > \
        truth["figures"]["renewable_supply_hourly_kwh"] * 1.1


# --------------------------------------------------------------------------
# verdicts
# --------------------------------------------------------------------------
def test_consistent_claim_passes(truth, files, tmp_path):
    claim = write_claim(tmp_path, consistent(truth))
    v = verify(claim, [files["long30"]])
    assert v.verdict == "pass", v.reasons
    assert v.table["within"].all()
    assert len(v.table) == 6
    assert v.meter.interval_minutes == 30
    assert not v.meter.problems
    for key, ev_key in (("civil_demand_kwh", "civil_demand_kwh"),
                        ("renewable_supply_kwh", "renewable_supply_hourly_kwh")):
        assert v.table.loc[key, "recomputed"] == pytest.approx(truth["figures"][ev_key],
                                                               rel=1e-9)


def test_inflated_claim_fails_with_reason(truth, files, tmp_path):
    figs = dict(consistent(truth))
    annual = truth["figures"]["renewable_supply_annual_kwh"]
    figs["renewable_supply_kwh"] = round(annual)
    v = verify(write_claim(tmp_path, figs), [files["long30"]])
    assert v.verdict == "fail"
    assert not v.table.loc["renewable_supply_kwh", "within"]
    text = " ".join(v.reasons)
    assert "annual netting" in text and "hour by hour" in text and "問46" in text
    # the same figure on the annual basis (configurable) is within tolerance
    v2 = verify(write_claim(tmp_path, figs, name="annual.toml",
                            rules={"supply_basis": "annual"}), [files["long30"]])
    assert v2.table.loc["renewable_supply_kwh", "within"]


def test_balance_claimed_but_not_met_hourly(truth, files, tmp_path):
    assert not truth["figures"]["balance_hourly_ok"]
    figs = dict(consistent(truth), balance=True)   # right figures, wrong assertion
    v = verify(write_claim(tmp_path, figs), [files["long30"]])
    assert v.verdict == "fail"
    assert v.table["within"].all()
    assert any("実質ゼロ" in r and "short" in r for r in v.reasons)


def test_half_hourly_equals_hourly(truth, files, tmp_path):
    claim = write_claim(tmp_path, consistent(truth))
    v30 = verify(claim, [files["long30"]])
    v60 = verify(claim, [files["wide60"]])
    assert v60.meter.interval_minutes == 60
    pd.testing.assert_series_equal(v30.table["recomputed"], v60.table["recomputed"],
                                   rtol=1e-12)
    np.testing.assert_allclose(v30.hourly.to_numpy(), v60.hourly.to_numpy(), rtol=1e-12,
                               atol=1e-9)
    assert v30.verdict == v60.verdict == "pass"


def test_end_label_and_parquet(truth, files, tmp_path):
    claim = write_claim(tmp_path, consistent(truth), meter_data={"label": "end"})
    p = write_long(truth["hh"], tmp_path / "end.csv", label="end")
    v = verify(claim, p)
    assert v.verdict == "pass", v.reasons
    assert any("end" in r for r in v.meter.repairs)
    claim_s = write_claim(tmp_path, consistent(truth), name="s.toml")
    vp = verify(claim_s, write_wide(truth["h"], tmp_path / "w.parquet"))
    assert vp.verdict == "pass"
    np.testing.assert_allclose(v.table["recomputed"], vp.table["recomputed"], rtol=1e-12)


# --------------------------------------------------------------------------
# data problems, at the verify level
# --------------------------------------------------------------------------
def _long_rows(truth) -> pd.DataFrame:
    hh = truth["hh"]
    n, m = hh.shape
    return pd.DataFrame({
        "timestamp": np.repeat(hh.index.strftime("%Y-%m-%d %H:%M").to_numpy(), m),
        "meter_id": np.tile(hh.columns.to_numpy(dtype=object), n),
        "kwh": hh.to_numpy().reshape(-1).astype(object)})


def test_each_problem_named_with_rows(truth, tmp_path):
    df = _long_rows(truth)
    m = len(truth["hh"].columns)
    cols = list(truth["hh"].columns)
    r = lambda t, meter: t * m + cols.index(meter)  # noqa: E731 - row of (interval, meter)
    df.loc[r(100, "C-001"), "kwh"] = -3.0                       # negative
    df.loc[r(200, "G-002"), "kwh"] = 500.0                      # above 220 kW x 0.5 h
    df.loc[r(300, "C-002"), "kwh"] = "1,2x"                    # non-numeric
    df = df.drop(index=[r(t, "C-003") for t in range(400, 404)])  # missing intervals
    extra = pd.DataFrame([
        {"timestamp": df.loc[r(500, "C-002"), "timestamp"], "meter_id": "C-002",
         "kwh": df.loc[r(500, "C-002"), "kwh"]},                 # identical duplicate
        {"timestamp": df.loc[r(600, "C-004"), "timestamp"], "meter_id": "C-004",
         "kwh": 99.0},                                           # conflicting duplicate
        {"timestamp": "2024-01-01 00:00", "meter_id": "C-001", "kwh": 1.0},  # out of year
        {"timestamp": "2023-03-01 10:00", "meter_id": "X-999", "kwh": 1.0},  # unknown
    ])
    df = pd.concat([df, extra], ignore_index=True)
    path = tmp_path / "problems.csv"
    df.to_csv(path, index=False)
    n_rows = len(df)
    v = verify(write_claim(tmp_path, consistent(truth)), path)
    by_kind = {}
    for p in v.meter.problems:
        by_kind.setdefault(p.kind, []).append(p)
    expect = {"negative": "C-001", "over_capacity": "G-002", "non_numeric": "C-002",
              "missing": "C-003", "duplicate": "C-002", "duplicate_conflict": "C-004",
              "unknown_meter": "X-999", "out_of_year": None}
    for kind, meter in expect.items():
        assert kind in by_kind, kind
        assert any(p.meter == meter for p in by_kind[kind]), (kind, by_kind[kind])
    # row numbers: data rows, 1-based (after the header)
    neg = by_kind["negative"][0]
    assert neg.rows == [r(100, "C-001") + 1]
    assert by_kind["unknown_meter"][0].rows == [n_rows]
    assert by_kind["out_of_year"][0].rows == [n_rows - 1]
    # named in the report table and in the JSON, never silently dropped
    probs = v.problems_table()
    assert set(expect) <= set(probs["kind"])
    d = json.loads(json.dumps(v.to_dict(), default=str))
    assert {p["kind"] for p in d["problems"]} >= set(expect)
    assert v.quality["missing_hours"]["C-003"] >= 2
    assert v.quality["unknown_meters"] == ["X-999"]
    # a meter in the data but not in the claim, without a reason: inconclusive (問35)
    assert v.verdict == "inconclusive"
    assert any("X-999" in r and "問35" in r and "civil demand" in r for r in v.reasons)
    assert v.checks["excluded"]["meters"] == {"X-999": 1.0}
    # with the claim's reason for leaving it out, the few problems are within limits
    v = verify(write_claim(tmp_path, consistent(truth), name="x.toml",
                           excluded_meters={"X-999": "the lighthouse, not in the area"}), path)
    assert v.verdict in ("pass", "fail"), v.reasons
    assert any("X-999" in r and "lighthouse" in r for r in v.reasons)
    assert any("estimated" in n for n in v.notes)
    assert any("0 kWh" in n for n in v.notes)   # the over-capacity plant half-hour


def test_kw_data_where_kwh_expected(truth, tmp_path):
    # a plant meter exported as mean kW per half-hour (2 x the kWh values)
    hh = truth["hh"].copy()
    hh["G-002"] = np.round(hh["G-002"] * 2, 3)
    v = verify(write_claim(tmp_path, consistent(truth)), write_long(hh, tmp_path / "kw.csv"))
    assert any(p.kind == "looks_like_kw" and p.meter == "G-002" for p in v.meter.problems)
    assert v.verdict == "inconclusive"
    assert any("look like kW" in r for r in v.reasons)


def test_ten_percent_missing_not_accepted(truth, tmp_path):
    hh = truth["hh"].copy()
    rng = np.random.default_rng(1)
    drop = rng.choice(len(hh) // 2, size=len(hh) // 20, replace=False)   # 10 % of hours
    keep = np.ones(len(hh), bool)
    keep[np.concatenate([2 * drop, 2 * drop + 1])] = False
    path = write_long(hh[keep], tmp_path / "gappy.csv")
    v = verify(write_claim(tmp_path, consistent(truth)), path)
    assert v.verdict == "inconclusive"
    assert any("without a usable value" in r or "miss more than" in r for r in v.reasons)
    assert v.quality["missing_share"] == pytest.approx(0.10, abs=0.001)
    # gap filling does not launder it: filled energy is counted against its own limit
    v2 = verify(write_claim(tmp_path, consistent(truth), name="f.toml"), path,
                fill="profile")
    assert v2.verdict == "inconclusive"
    assert v2.quality["filled_share"] > 0.05


def test_meter_without_data_is_inconclusive(truth, tmp_path):
    hh = truth["hh"].drop(columns=["G-003"])
    v = verify(write_claim(tmp_path, consistent(truth)), write_long(hh, tmp_path / "x.csv"))
    assert v.verdict == "inconclusive"
    assert any("no usable data" in r and "G-003" in r for r in v.reasons)


# --------------------------------------------------------------------------
# the claim file
# --------------------------------------------------------------------------
@pytest.mark.parametrize("mutate, field, words", [
    (lambda d: d["claimed"].pop("civil_demand_kwh"), "claimed.civil_demand_kwh", "missing"),
    (lambda d: d["claimed"].update(renewable_supply_mwh=1), "claimed.renewable_supply_mwh",
     "kWh"),
    (lambda d: d["meter_data"].pop("label"), "meter_data.label", "missing"),
    (lambda d: d["meter_data"].update(label="middle"), "meter_data.label", "start"),
    (lambda d: d["consumers"][1].update(meter="C-001"), "consumers[1].meter", "C-001"),
    (lambda d: d["generators"][0].pop("meter"), "generators[0].meter", "missing"),
    (lambda d: d["generators"][0].update(site="home"), "generators[0].site", "homes"),
    (lambda d: d["tolerance"].update(relativ=0.1), "tolerance.relativ", "relative"),
    (lambda d: d["claimed"].update(self_consumption_rate=45), "claimed.self_consumption_rate",
     "1"),
    (lambda d: d["consumers"][0].update(meter_file="x.csv"), "consumers[0]", "--meter"),
])
def test_claim_errors_one_line(tmp_path, mutate, field, words):
    d = claim_dict(dict(PLACEHOLDER))
    mutate(d)
    p = tmp_path / "bad.toml"
    p.write_text(tomli_w.dumps(d), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_claim(p)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"{p}: {field}"), msg
    assert words in msg


def test_no_meter_files(tmp_path):
    with pytest.raises(InputError, match="meter_data.files"):
        verify(write_claim(tmp_path, dict(PLACEHOLDER)))


# --------------------------------------------------------------------------
# command line and report
# --------------------------------------------------------------------------
def test_cli_writes_report(truth, files, tmp_path, capsys):
    from sim.cli import main

    figs = dict(consistent(truth))
    figs["renewable_supply_kwh"] = round(truth["figures"]["renewable_supply_annual_kwh"])
    claim = write_claim(tmp_path, figs)
    out = tmp_path / "out"
    rc = main(["verify", str(claim), "--meter", str(files["long30"]), "-o", str(out)])
    assert rc == 1
    text = capsys.readouterr().out
    assert "VERDICT: FAIL" in text and "renewable supply" in text
    for f in ("verdict.json", "comparison.csv", "problems.csv", "hourly.csv", "summary.txt",
              "report.html", "heatmap.png", "monthly.png"):
        assert (out / f).stat().st_size > 0, f
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "heatmap.png" in html and "FAIL" in html and "Data problems" in html
    d = json.loads((out / "verdict.json").read_text(encoding="utf-8"))
    assert d["verdict"] == "fail"
    assert len(pd.read_csv(out / "hourly.csv")) == 8760
    # bad input: exit 2 and one line
    rc = main(["verify", str(tmp_path / "nope.toml"), "--meter", str(files["long30"])])
    assert rc == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_shipped_example(tmp_path):
    root = Path(__file__).resolve().parents[2] / "examples" / "island_claim"
    v = verify(root / "claim.toml")
    assert v.verdict == "pass", v.reasons
    assert v.meter.interval_minutes == 30
    kinds = {p.kind for p in v.meter.problems}
    assert {"missing", "duplicate", "gap_filled"} <= kinds
    # its one repeated row of the wide file is one problem naming all 20 meters
    [dup] = [p for p in v.meter.problems if p.kind == "duplicate"]
    assert dup.meter is None and dup.meters == v.claim.meters and dup.rows == [9000, 9001]
    bad = verify(root / "claim_inflated.toml")
    assert bad.verdict == "fail"
    assert any("annual netting" in r for r in bad.reasons)


def test_margin_smaller_than_filled_energy_is_inconclusive(truth, tmp_path):
    """Filled energy is not evidence: a pass closer to the edge than it is undecided."""
    hh = truth["hh"].copy()
    hh.iloc[4000:4010, hh.columns.get_loc("C-002")] = np.nan      # 5 h of the shops
    path = write_long(hh, tmp_path / "gap.csv")
    base = write_claim(tmp_path, consistent(truth), meter_data={"fill": "interpolate"})
    v0 = verify(base, path)
    assert v0.verdict == "pass", v0.reasons
    filled = sum(v0.quality["filled_kwh"].values())
    assert filled > 0
    row = v0.table.loc["civil_demand_kwh"]
    s = max(c[5] for c in CONSUMERS)
    # claimed civil demand: inside tolerance by a tenth of the filled energy
    edge = row["recomputed"] + row["tolerance"] - 0.1 * filled / (1 - s)
    figs = dict(consistent(truth), civil_demand_kwh=edge)
    v = verify(write_claim(tmp_path, figs, name="edge.toml",
                           meter_data={"fill": "interpolate"}), path)
    assert v.table["within"].all()
    assert v.verdict == "inconclusive"
    text = " ".join(v.reasons)
    assert "not metered evidence" in text and f"filled {filled / 1000:,.1f} MWh" in text


def test_meter_sums_equal_a_plain_numpy_reference():
    from sim.studies.verify import meter_sums

    claim = claim_from_dict(claim_dict(PLACEHOLDER))
    n_c, n_h = len(claim.consumers), 8760
    rng = np.random.default_rng(3)
    mt = rng.random((len(claim.meters), n_h)).astype(np.float32)
    mt[rng.random(mt.shape) < 0.05] = np.nan
    mt[1] = np.nan                                  # a consumer meter without data
    mt[:n_c, 100] = np.nan                          # an hour no consumer meter has
    got = meter_sums(claim, mt)
    ok = ~np.isnan(mt)
    vals = np.where(ok, mt, 0).astype(np.float64)
    np.testing.assert_array_equal(got["missing"], n_h - ok.sum(axis=1))
    np.testing.assert_allclose(got["energy"], vals.sum(axis=1), rtol=1e-12)
    want = np.where(ok[:n_c].any(axis=0), vals[:n_c].sum(axis=0), np.nan)
    np.testing.assert_allclose(got["consumer_total"], want, rtol=1e-12)
    assert got["missing"][1] == n_h and np.isnan(got["consumer_total"][100])


def test_plants_modelled_alone_as_in_the_whole_scenario():
    # the physics checks model the plants without building the consumer rows
    from sim.core.engine import generator_output
    from sim.inputs.claim import claim_plants
    from sim.inputs.weather import load_weather
    from sim.studies.meter_checks import modelled_output

    claim = claim_from_dict(claim_dict(PLACEHOLDER))
    plants = claim_plants(claim)
    assert plants.consumers == [] and [g.id for g in plants.generators] == [
        g.id for g in claim.generators]
    whole = claim_scenario(claim)
    r = whole.region
    weather = load_weather(None, latitude=r.latitude, longitude=r.longitude,
                           altitude=r.altitude_m, year=r.year, timezone=r.timezone)
    np.testing.assert_array_equal(modelled_output(claim, plants),
                                  generator_output(whole, weather))
    assert modelled_output(claim, plants) is modelled_output(claim, whole)   # cached


def test_civil_hourly_sums_in_float64_for_float32_storage(truth, files, tmp_path):
    # the hourly civil table adds float32 flows in float64: each hour equals
    # the float64 sum of the civil consumers' rows, not a float32 product's
    v = verify(write_claim(tmp_path, consistent(truth), options={"dtype": "float32"}),
               [files["long30"]])
    ds = v.result.hourly
    assert ds["demand"].dtype == np.float32
    civil = np.asarray(ds["civil"].values, bool)
    assert civil.any() and not civil.all()   # the factory is not civil
    for col, flow in (("civil_demand", "demand"), ("grid", "grid")):
        want = np.asarray(ds[flow].values, np.float64)[civil].sum(axis=0)
        np.testing.assert_allclose(v.hourly[col].to_numpy(), want, rtol=1e-12, atol=0)


def test_demand_is_the_meter_matrix_without_gaps_and_a_copy_with_them(truth, files,
                                                                      tmp_path):
    # hourly data read for a float32 claim: without gaps the kernel takes the
    # meter matrix's consumer rows as they are (no copy); with a gap, a copy
    # whose gap is bridged, the meter data untouched; same figures as the
    # copying path either way
    from sim.studies import verify as vmod

    claim = load_claim(write_claim(tmp_path, consistent(truth),
                                   options={"dtype": "float32"}))
    v = verify(claim, [files["wide60"]])
    demand = v.result.hourly["demand"].values
    assert demand.dtype == np.float32
    assert np.shares_memory(demand, v.meter.kwh.to_numpy())
    copied = vmod.recompute(claim, np.array(vmod.claim_matrix(claim, v.meter)),
                            dict(v.quality), [])
    assert not np.shares_memory(copied.hourly["demand"].values, v.meter.kwh.to_numpy())
    pd.testing.assert_frame_equal(v.result.annual, copied.annual)
    assert v.result.kpis == copied.kpis
    # the shared meter data come out of the verification as they went in
    md_in = vmod.read_claim_meters(claim, [files["wide60"]], "none",
                                   vmod.sun_reference(claim))
    kept = md_in.kwh.copy()
    again = verify(claim, meter_data=md_in)
    assert np.shares_memory(again.result.hourly["demand"].values, md_in.kwh.to_numpy())
    pd.testing.assert_frame_equal(md_in.kwh, kept)

    md = v.meter
    arr = np.array(md.kwh.to_numpy())
    arr[100, 0] = np.nan                       # a consumer meter's gap
    kwh = pd.DataFrame(arr, index=md.kwh.index, columns=md.kwh.columns, copy=False)
    md_gap = type(md)(**{**md.__dict__, "kwh": kwh, "_array": arr})
    assert np.shares_memory(vmod.claim_matrix(claim, md_gap), arr)
    before = md_gap.kwh.copy()
    g = verify(claim, meter_data=md_gap)
    assert not np.shares_memory(g.result.hourly["demand"].values, md_gap.kwh.to_numpy())
    assert g.quality["estimated_demand_hours"] == 1
    assert np.isfinite(g.result.hourly["demand"].values).all()
    pd.testing.assert_frame_equal(md_gap.kwh, before)


def test_work_prepared_while_reading_changes_nothing(truth, files, tmp_path, monkeypatch):
    # the claim-only work done in a thread while the meter files are read
    # (verify._prepare_models) only fills caches: without it, or when it
    # fails, the verification is the same
    from sim.studies import verify as vmod

    claim = write_claim(tmp_path, consistent(truth))
    ahead = verify(claim, [files["long30"]])

    def fail(claim):
        raise RuntimeError("prepared work failed")
    for stand_in in (lambda claim: None, fail):
        from sim.studies import meter_checks
        meter_checks._MODELLED.clear()
        monkeypatch.setattr(vmod, "_prepare_models", stand_in)
        v = verify(claim, [files["long30"]])
        assert (v.verdict, v.reasons) == (ahead.verdict, ahead.reasons)
        assert v.figures == ahead.figures
        pd.testing.assert_frame_equal(v.table, ahead.table)
        assert v.checks["plausibility"].keys() == ahead.checks["plausibility"].keys()


def test_ahead_runs_its_work_in_a_thread_joined_at_the_end_of_the_block():
    import threading

    from sim.studies.verify import _Ahead

    seen = []

    def work(x):
        seen.append((x, threading.current_thread().name))
        raise ValueError("dropped: met again by a later step")
    with _Ahead(work, 7):
        pass
    assert seen == [(7, "gxsim-prepare")]
