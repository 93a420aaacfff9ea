"""simulate(): from a scenario to hourly per-consumer results, end to end."""

import copy
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sim
from sim.cli import main
from sim.core.engine import calendar_index
from sim.inputs.scenario import scenario_from_dict

SMALL = {
    "region": {"name": "small", "municipality": "A町", "prefecture": "P県",
               "latitude": 33.0, "longitude": 130.0, "year": 2023},
    "grid": {"must_run_kw": 1.0},
    "consumers": [
        {"id": "homes", "sector": "household", "count": 10, "annual_kwh": 40_000.0,
         "savings": 0.1},
        {"id": "office", "sector": "commercial", "archetype": "office", "annual_kwh": 30_000.0},
    ],
    "generators": [
        {"id": "pv", "kind": "pv", "capacity_kw": 30.0, "site": "homes"},
        {"id": "bio", "kind": "biomass", "capacity_kw": 2.0, "outage_weeks": [10]},
    ],
    "storage": [{"id": "b", "site": "homes", "capacity_kwh": 40.0, "power_kw": 20.0},
                {"id": "c", "site": "community", "capacity_kwh": 30.0, "power_kw": 10.0}],
}


def flat_weather(year, ghi=400.0):
    """A deterministic weather frame: sun 8–16 h, constant wind and temperature."""
    index = calendar_index(year)
    sun = ((index.hour >= 8) & (index.hour < 16)).astype(float)
    df = pd.DataFrame({"ghi": ghi * sun, "dni": 0.6 * ghi * sun, "dhi": 0.4 * ghi * sun,
                       "temp_air": 20.0, "wind_speed": 5.0, "pressure": 101325.0},
                      index=index)
    df.attrs.update(source="test: flat weather", synthetic=True, wind_height=10.0, repairs=[])
    return df


def assert_balanced(ds, atol=1e-6):
    supplied = ds.direct + ds.discharge + ds.pooled + ds.community + ds.grid
    assert float(abs(ds.demand - supplied).max()) < atol
    assert float(abs(ds.onsite - (ds.direct + ds.charge + ds.export)).max()) < atol
    assert float(abs(ds.pool - (ds.pooled.sum("consumer") + ds.community_charge
                                + ds.spill)).max()) < atol


def test_demo_balances_hold_every_hour(demo_result):
    ds = demo_result.hourly
    assert ds.sizes["time"] == 8760
    assert ds.sizes["consumer"] == len(demo_result.scenario.consumers)
    assert_balanced(ds)
    assert ds["grid"].attrs["units"] == "kWh"
    k = demo_result.kpis
    assert 0 < k["hourly_matched_share"] <= k["annual_netting_share"]
    annual = demo_result.annual
    np.testing.assert_allclose(annual["renewable"] + annual["grid"], annual["demand"])
    np.testing.assert_allclose(annual["demand"], annual["demand_gross"] - annual["savings"])


def test_demo_figures_are_plausible(demo_result):
    """Generation per kind in ranges an island engineer would accept."""
    gen = demo_result.hourly["generation"].sum("time").to_series()
    cap = demo_result.hourly["capacity_kw"].to_series()
    kwh_per_kw = gen / cap
    assert 900 < kwh_per_kw["rooftop_pv"] < 1700          # PV yield at 27 °N [kWh/kWp]
    assert 0.1 * 8760 < kwh_per_kw["wind"] < 0.45 * 8760   # wind capacity factor
    assert kwh_per_kw["biomass"] < 0.85 * 8760 * 50 / 52 + 1
    assert demo_result.hourly["generation"].sel(generator="biomass")[
        demo_result.hourly.time.dt.isocalendar().week == 20].sum() == 0


def test_leap_year_has_8784_hours():
    data = copy.deepcopy(SMALL)
    data["region"]["year"] = 2024
    res = sim.simulate(scenario_from_dict(data), weather=flat_weather(2024))
    assert res.hourly.sizes["time"] == 8784
    assert_balanced(res.hourly)


def test_group_of_n_equals_n_times_one():
    """A row with count N behaves as N identical consumers: everything scales."""
    one = copy.deepcopy(SMALL)
    one["consumers"] = [dict(SMALL["consumers"][0], count=1, annual_kwh=4000.0)]
    one["generators"] = [dict(SMALL["generators"][0], capacity_kw=3.0)]
    one["storage"] = [dict(SMALL["storage"][0], capacity_kwh=4.0, power_kw=2.0)]
    one["grid"] = {"must_run_kw": 0.1}
    ten = copy.deepcopy(one)
    ten["consumers"][0].update(count=10, annual_kwh=40000.0)
    ten["generators"][0]["capacity_kw"] = 30.0
    ten["storage"][0].update(capacity_kwh=40.0, power_kw=20.0)
    ten["grid"] = {"must_run_kw": 1.0}
    w = flat_weather(2023)
    a = sim.simulate(scenario_from_dict(one), weather=w).hourly
    b = sim.simulate(scenario_from_dict(ten), weather=w).hourly
    for name in ("direct", "charge", "discharge", "export", "pooled", "grid", "soc"):
        np.testing.assert_allclose(b[name].values, 10 * a[name].values, rtol=1e-9, atol=1e-9)


def test_weather_of_the_wrong_year_is_refused():
    with pytest.raises(sim.InputError, match="weather must cover the hours of 2023"):
        sim.simulate(scenario_from_dict(SMALL), weather=flat_weather(2022))


def test_small_scenario_savings_and_outage():
    res = sim.simulate(scenario_from_dict(SMALL), weather=flat_weather(2023))
    a = res.annual
    assert a.loc["homes", "savings"] == pytest.approx(4000.0)
    bio = res.hourly["generation"].sel(generator="bio").to_series()
    week = res.hourly.time.dt.isocalendar().week.values
    assert bio[week == 10].sum() == 0 and bio[week == 11].sum() > 0
    assert_balanced(res.hourly)
    # must-run: the area never takes more than residual - 1 kWh from the pool
    ds = res.hourly
    residual = (ds.demand - ds.direct - ds.discharge).sum("consumer")
    taken = (ds.pooled + ds.community).sum("consumer")
    assert float((taken - np.maximum(residual - 1.0, 0)).max()) < 1e-9


def test_run_command_writes_results(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "scenarios/island_demo.toml", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "renewable share, hourly matched" in printed and "synthetic" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["hourly.nc", "annual.csv", "annual.parquet", "kpis.json", "summary.txt",
         "run.log", "supply.png", "report.html",
         ".gxsim-output.json"])  # the marker: gxsim wrote this folder
    assert "Time:" not in (out / "summary.txt").read_text() and "Time:" in printed
    assert "Time: weather" in (out / "run.log").read_text()
    ds = xr.open_dataset(out / "hourly.nc", engine="h5netcdf")
    assert_balanced(ds)
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["demand"] == pytest.approx(float(ds.demand.sum()), rel=1e-9)
    ds.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_run_command_bad_input_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[region]\nname = "x"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    lines = err.splitlines()  # every problem at once, one line each naming file and field
    assert len(lines) == 6 and all("bad.toml: " in line for line in lines), lines
    assert "region.municipality" in lines[0] and "Traceback" not in err
    assert not out.exists()


def test_consumer_from_30_minute_meter_file(tmp_path):
    """Metered demand replaces the archetype; 30-min kWh are summed to hours and
    the resampling is reported in the run's notes."""
    index = pd.date_range("2023-01-01", "2024-01-01", freq="30min", tz="Asia/Tokyo",
                          inclusive="left")
    kwh = 0.5 + 0.25 * (index.hour >= 18)
    pd.DataFrame({"timestamp": index.strftime("%Y-%m-%d %H:%M"), "meter": "M1",
                  "kwh": kwh}).to_csv(tmp_path / "m.csv", index=False)
    data = copy.deepcopy(SMALL)
    data["consumers"][1] = {"id": "office", "sector": "commercial", "meter_file": "m.csv",
                            "meter_id": "M1", "savings": 0.2}
    sc = scenario_from_dict(data, source=tmp_path / "s.toml")
    res = sim.simulate(sc, weather=flat_weather(2023))
    assert res.annual.loc["office", "demand_gross"] == pytest.approx(kwh.sum())
    assert res.annual.loc["office", "demand"] == pytest.approx(0.8 * kwh.sum())
    assert float(res.hourly.demand.sel(consumer="office")[19]) == pytest.approx(0.8 * 1.5)
    assert any("30" in n and "office" in n for n in res.notes), res.notes


def test_meter_file_with_gaps_is_refused(tmp_path):
    index = pd.date_range("2023-01-01", "2024-01-01", freq="h", tz="Asia/Tokyo",
                          inclusive="left")[:-5]
    pd.DataFrame({"timestamp": index.strftime("%Y-%m-%d %H:%M"), "meter": "M1",
                  "kwh": 1.0}).to_csv(tmp_path / "m.csv", index=False)
    data = copy.deepcopy(SMALL)
    data["consumers"][1] = {"id": "office", "sector": "commercial", "meter_file": "m.csv"}
    sc = scenario_from_dict(data, source=tmp_path / "s.toml")
    with pytest.raises(sim.InputError, match=r"consumers\[1\].meter_file: .*5 missing"):
        sim.simulate(sc, weather=flat_weather(2023))


def test_wind_model_errors_name_the_scenario_field():
    data = copy.deepcopy(SMALL)
    data["generators"].append({"id": "wt", "kind": "wind", "capacity_kw": 800.0,
                               "hub_height_m": 60.0, "turbine_type": "E-53/801"})
    with pytest.raises(sim.InputError, match=r"generators\[2\]\.turbine_type: unknown turbine"):
        sim.simulate(scenario_from_dict(data), weather=flat_weather(2023))


def test_annual_only_simulate_gives_the_annual_totals_of_the_hourly_run(demo_result):
    """``simulate(outputs="annual")``: no per-consumer flows kept beyond demand
    and on-site, the same annual frame and KPIs as the hourly run (bit for
    bit), which are the sums of the hourly flows (to 1e-12)."""
    sc = demo_result.scenario
    light = sim.simulate(sc, outputs="annual")
    assert "grid" not in light.hourly and "demand" in light.hourly
    pd.testing.assert_frame_equal(light.annual, demo_result.annual, check_exact=True)
    # Without hourly flows the plastic share of waste power (問31) cannot be
    # traced to consumers: the figures that need it are NaN, the rest equal.
    traced = ("waste_plastic_delivered", "hourly_matched_share")
    want = demo_result.kpis
    got = light.kpis
    assert want["waste_plastic_generated"] > 0
    for key, value in want.items():
        if key in traced:
            assert np.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(value, rel=1e-12), key
    ds = demo_result.hourly
    for name in ("demand", "onsite", "direct", "charge", "discharge", "export", "pooled",
                 "community", "grid"):
        np.testing.assert_allclose(demo_result.annual[name].to_numpy(),
                                   ds[name].values.sum(axis=1, dtype=float), rtol=1e-12,
                                   atol=0, err_msg=name)


def test_listed_outputs_are_the_hourly_flows_kept():
    sc = scenario_from_dict(SMALL)
    w = flat_weather(2023)
    full = sim.simulate(sc, weather=w)
    part = sim.simulate(sc, weather=w, outputs=["grid", "soc"])
    kept = {n for n in part.hourly.data_vars if "consumer" in part.hourly[n].dims}
    assert kept == {"demand", "onsite", "grid", "soc"}
    for name in kept:
        np.testing.assert_array_equal(part.hourly[name].values, full.hourly[name].values)
    pd.testing.assert_frame_equal(part.annual, full.annual, check_exact=True)
