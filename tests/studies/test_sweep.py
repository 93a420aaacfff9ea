"""Batch sweeps (sim.studies.sweep, sim.studies.batch): cases equal sim.simulate, shapes and labels,
resumption, Dask, one-line errors."""

import copy
import importlib
import re
import textwrap

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sim
from sim.errors import InputError
from sim.inputs.scenario import scenario_from_dict

sw = importlib.import_module("sim.studies.sweep")  # the module (sim.sweep is the function)
from sim.cli.sweep import sweep_to_folder  # noqa: E402

BASE = {
    "region": {"name": "Sweep test", "municipality": "和泊町", "prefecture": "鹿児島県",
               "co_proposers": ["知名町"], "latitude": 27.37, "longitude": 128.57,
               "year": 2023},
    "grid": {"isolated": True, "must_run_kw": 150},
    "consumers": [
        {"id": "homes", "sector": "household", "count": 300, "annual_kwh": 1_350_000,
         "savings": 0.05},
        {"id": "shops", "sector": "commercial", "archetype": "commerce",
         "annual_kwh": 900_000},
        {"id": "hall", "sector": "public", "owner": "municipal", "archetype": "public_hall",
         "annual_kwh": 400_000},
        {"id": "factory", "sector": "industry", "archetype": "flat", "annual_kwh": 300_000},
    ],
    "generators": [
        {"id": "roof", "kind": "pv", "site": "homes", "capacity_kw": 600},
        {"id": "roof_east", "kind": "pv", "site": "homes", "capacity_kw": 200,
         "azimuth": 90},
        {"id": "hall_pv", "kind": "pv", "site": "hall", "capacity_kw": 150, "tilt": 10},
        {"id": "farm", "kind": "pv", "capacity_kw": 900, "municipality": "知名町"},
        {"id": "wind", "kind": "wind", "capacity_kw": 800, "hub_height_m": 60},
    ],
    "storage": [
        {"id": "home_bat", "site": "homes", "capacity_kwh": 800, "power_kw": 300},
        {"id": "hub", "site": "community", "capacity_kwh": 1500, "power_kw": 400},
    ],
}


def scenario(sweep=None, **over):
    data = copy.deepcopy(BASE)
    data.update(over)
    if sweep is not None:
        data["sweep"] = sweep
    return scenario_from_dict(data)


PRODUCT = {
    "chunk_size": 5,
    "parameters": [
        {"name": "pv", "target": "generators[kind=pv].scale", "values": [0.0, 1.0, 2.5]},
        {"target": "community.capacity_kwh", "values": [0, 3000]},
        {"target": "consumers[homes].battery_kwh", "start": 0, "stop": 1600, "num": 2},
        {"target": "finance.grant_rate", "values": [0.5]},
    ],
}


@pytest.fixture(scope="module")
def weather():
    from sim.core.engine import build_inputs

    return build_inputs(scenario()).weather


@pytest.fixture(scope="module")
def product_run(weather):
    return sw.run(scenario(PRODUCT), weather=weather, progress=False)


# -- equality with sim.simulate ------------------------------------------------

def _by_hand(pv, community_kwh, homes_kwh, grant_rate):
    data = copy.deepcopy(BASE)
    data["generators"] = [dict(g, capacity_kw=g["capacity_kw"] * pv) if g["kind"] == "pv"
                          else g for g in data["generators"]]
    data["generators"] = [g for g in data["generators"] if g["capacity_kw"] > 0]
    data["storage"] = [dict(b, capacity_kwh=community_kwh) if b["site"] == "community"
                       else dict(b, capacity_kwh=homes_kwh) for b in data["storage"]]
    data["storage"] = [b for b in data["storage"] if b["capacity_kwh"] > 0]
    data["finance"] = {"grant_rate": grant_rate}
    return scenario_from_dict(data)


def test_every_case_equals_simulate_by_hand(product_run, weather):
    """Each product case = sim.simulate of the scenario edited by hand (1e-9):
    per-consumer flows, the ledger, and the evaluation's figures."""
    ds = product_run.dataset
    for pv, ck, hk in [(1.0, 3000, 1600), (0.0, 0, 0), (2.5, 3000, 0), (1.0, 0, 1600)]:
        case = ds.sel(pv=pv, community_capacity_kwh=ck, homes_battery_kwh=hk,
                      grant_rate=0.5)
        res = sim.simulate(_by_hand(pv, ck, hk, 0.5), weather=weather)
        a = res.annual
        for f in ("demand", "onsite", "direct", "charge", "discharge", "export", "pooled",
                  "community", "grid", "renewable"):
            np.testing.assert_allclose(case[f"consumer_{f}"].values, a[f].values,
                                       rtol=1e-9, atol=1e-6, err_msg=f)
        kp = res.kpis
        for k in ("demand", "generation", "renewable_delivered", "hourly_matched_share",
                  "spill", "grid", "pooled", "community", "self_consumed"):
            np.testing.assert_allclose(float(case[k]), kp[k], rtol=1e-9, atol=1e-6,
                                       err_msg=k)
        led = sim.accounting.ledger(res)
        np.testing.assert_allclose(case["ledger"].sel(generator=led["generator"].values),
                                   led.values, rtol=1e-9, atol=1e-6)
        ev = sim.evaluate(res).to_dict()
        for k in ("renewable_supply_hourly_kwh", "self_consumption_rate",
                  "local_production_rate", "co2_reduction_t", "cost_per_t_co2_total_jpy",
                  "payback_years", "spilled_kwh"):
            if ev[k] is None:
                assert np.isnan(float(case[k]))
            else:
                np.testing.assert_allclose(float(case[k]), ev[k], rtol=1e-9, atol=1e-6,
                                           err_msg=k)
        for k in ("balance_annual_ok", "balance_hourly_ok"):
            assert bool(case[k]) == ev[k]


def test_batch_attribution_equals_accounting_with_initial_charge(weather):
    """The in-kernel ledger and per-generator balance equal sim.core.accounting's,
    also with batteries charged at the start (soc_initial) and unshared exports."""
    sc = scenario({"parameters": [{"target": "options.battery_efficiency",
                                   "values": [0.81]}]},
                  options={"soc_initial": 0.5, "share_onsite_surplus": False})
    ds = sw.run(sc, weather=weather, progress=False).dataset.isel(battery_efficiency=0)
    sc2 = scenario(options={"soc_initial": 0.5, "share_onsite_surplus": False,
                            "battery_efficiency": 0.81})
    res = sim.simulate(sc2, weather=weather)
    led = sim.accounting.ledger(res)
    np.testing.assert_allclose(ds["ledger"].values, led.values, rtol=1e-9, atol=1e-6)
    for name in ("generated", "direct", "battery", "pooled", "community", "to_storage",
                 "spilled", "unshared_export", "storage_losses", "stored_end",
                 "from_initial_storage"):
        np.testing.assert_allclose(ds[f"generator_{name}"].values, led[name].values,
                                   rtol=1e-9, atol=1e-6, err_msg=name)


# -- shapes and labels ------------------------------------------------------------

def test_product_shape_and_labels(product_run):
    ds = product_run.dataset
    assert dict(ds["hourly_matched_share"].sizes) == {
        "pv": 3, "community_capacity_kwh": 2, "homes_battery_kwh": 2, "grant_rate": 1}
    assert list(ds["pv"].values) == [0.0, 1.0, 2.5]
    assert list(ds["homes_battery_kwh"].values) == [0.0, 1600.0]
    assert ds["pv"].attrs["target"] == "generators[kind=pv].scale"
    assert ds["ledger"].dims == ("pv", "community_capacity_kwh", "homes_battery_kwh",
                                 "grant_rate", "generator", "consumer")
    assert ds.attrs["n_cases"] == 12
    # more PV never lowers the hourly-matched share here
    share = ds["hourly_matched_share"].isel(grant_rate=0)
    assert (share.diff("pv") >= -1e-12).all()


def test_table_and_lhs_cases(tmp_path, weather):
    table = tmp_path / "cases.csv"
    table.write_text("case,pv_scale,generators[wind].scale\nlow,0.5,0\nhigh,2,2\n")
    sc = scenario({"table": str(table), "chunk_size": 1, "parameters": [
        {"name": "pv_scale", "target": "generators[farm].scale"}]})
    ds = sw.run(sc, weather=weather, progress=False).dataset
    assert ds.sizes["case"] == 2
    assert list(ds["label"].values) == ["low", "high"]
    assert list(ds["wind_scale"].values) == [0.0, 2.0]
    assert float(ds["wind_kw"][1]) == pytest.approx(1600)

    spec = {"samples": 7, "seed": 3, "parameters": [
        {"target": "generators[farm].capacity_kw", "start": 100, "stop": 2000},
        {"target": "consumers[sector=household].savings", "values": [0, 0.1, 0.2]}]}
    c1 = sw.make_cases(scenario(spec))
    c2 = sw.make_cases(scenario(spec))
    assert c1.mode == "lhs" and c1.values.shape == (7, 2)
    np.testing.assert_array_equal(c1.values, c2.values)
    assert ((c1.values[:, 0] >= 100) & (c1.values[:, 0] <= 2000)).all()
    # one sample per stratum of the range
    strata = np.floor((c1.values[:, 0] - 100) / 1900 * 7).astype(int)
    assert sorted(strata) == list(range(7))
    assert set(c1.values[:, 1]) <= {0, 0.1, 0.2}


# -- resumption ---------------------------------------------------------------------

def _strip(ds):
    ds = ds.copy()
    ds.attrs.pop("sweep_seconds", None)
    return ds


def test_resume_after_interruption_gives_the_same_dataset(tmp_path, product_run, weather,
                                                          monkeypatch):
    sc = scenario(PRODUCT)
    out = tmp_path / "out"
    first = sw.run(sc, output=out, weather=weather, progress=False, max_chunks=1)
    assert not first.complete and first.dataset is None
    assert not out.exists()  # nothing presented as whole
    # a second run is killed (Ctrl-C) after one more chunk
    real = sw.compute_chunk
    calls = []

    def dying(*args, **kwargs):
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sw, "compute_chunk", dying)
    monkeypatch.setattr(sw, "_warm_up", lambda plan, evaluate: 0.0)  # counted in chunks
    with pytest.raises(KeyboardInterrupt):
        sw.run(sc, output=out, weather=weather, progress=False, resume=True)
    monkeypatch.setattr(sw, "compute_chunk", real)
    assert len(list(sw.work_folder(out).glob("chunk-*.npz"))) == 2
    final, _ = sweep_to_folder(sc, out, weather=weather, progress=False, resume=True)
    assert (final.reused, final.computed) == (2, 1)
    xr.testing.assert_identical(_strip(final.dataset), _strip(product_run.dataset))
    stored = xr.open_zarr(out / "sweep.zarr", consolidated=False).load()
    xr.testing.assert_allclose(stored.drop_attrs(), _strip(product_run.dataset).drop_attrs())
    assert not sw.work_folder(out).exists()
    for name in ("best.csv", "cases.csv", "pareto.png", "report.html", "summary.txt"):
        assert (out / name).exists(), name


def test_resume_refuses_a_changed_sweep(tmp_path, weather):
    out = tmp_path / "out"
    sw.run(scenario(PRODUCT), output=out, weather=weather, progress=False, max_chunks=1)
    changed = copy.deepcopy(PRODUCT)
    changed["parameters"][0]["values"] = [0.0, 1.0, 3.0]
    for resume in (True, False):  # a store of another sweep is never mixed or lost
        with pytest.raises(InputError, match="another sweep"):
            sw.run(scenario(changed), output=out, weather=weather, progress=False,
                   resume=resume)
    assert len(list(sw.work_folder(out).glob("chunk-*.npz"))) == 1


# -- Dask -----------------------------------------------------------------------------

def test_dask_local_cluster_equals_local_run(weather):
    """Kept small: 2 chunks of 2 cases on a LocalCluster of 2 processes."""
    spec = {"chunk_size": 2, "parameters": [
        {"target": "generators[farm].scale", "values": [0.5, 1, 1.5, 2]}]}
    sc = scenario(spec)
    local = sw.run(sc, weather=weather, progress=False).dataset
    dask = sw.run(sc, weather=weather, progress=False, dask="local").dataset
    xr.testing.assert_identical(_strip(dask), _strip(local))


# -- command line and outputs ------------------------------------------------------------

def _write_scenario(tmp_path, sweep_toml):
    import tomllib  # noqa: F401  (the file must be valid TOML)

    base = textwrap.dedent("""
        [region]
        name = "CLI sweep"
        municipality = "和泊町"
        prefecture = "鹿児島県"
        latitude = 27.37
        longitude = 128.57
        year = 2023

        [[consumers]]
        id = "homes"
        sector = "household"
        annual_kwh = 1_000_000

        [[generators]]
        id = "farm"
        kind = "pv"
        capacity_kw = 500

        [[storage]]
        id = "hub"
        site = "community"
        capacity_kwh = 1000
        power_kw = 250
        """)
    path = tmp_path / "sc.toml"
    path.write_text(base + textwrap.dedent(sweep_toml), encoding="utf-8")
    return path


def test_cli_sweep_writes_outputs(tmp_path, capsys):
    from sim.cli import main

    path = _write_scenario(tmp_path, """
        [sweep]
        format = "netcdf"
        constraints = ["hourly_matched_share >= 0.2"]
        hourly_cases = [1]
        [[sweep.parameters]]
        target = "generators[farm].capacity_kw"
        values = [250, 500, 1000]
        """)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "-o", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "3 cases (product)" in text
    ds = xr.open_dataset(out / "sweep.nc", engine="h5netcdf")
    assert list(ds["farm_capacity_kw"].values) == [250, 500, 1000]
    best = pd.read_csv(out / "best.csv")
    assert (best["hourly_matched_share"] >= 0.2).all()
    assert (out / "hourly" / "case-000001.nc").exists()
    assert "pareto.png" in (out / "report.html").read_text(encoding="utf-8")
    # loading the kernels is timed apart from the cases (a fixed cost of the run)
    assert re.search(r"scenario-years/s; kernels loaded in \d+\.\d s before\)", text)
    assert re.search(r"Time: kernels loaded \d+\.\d+ s, chunks \d+\.\d+ s",
                     (out / "run.log").read_text(encoding="utf-8"))


# -- bad definitions: one line naming file, field or row -----------------------------------

@pytest.mark.parametrize("sweep_toml, expected", [
    ("""
     [[sweep.parameters]]
     target = "generators[farm].size"
     values = [1]
     """, "sweep.parameters[0].target: unknown parameter 'size'"),
    ("""
     [[sweep.parameters]]
     target = "generators[frm].scale"
     values = [1]
     """, "unknown generator id 'frm' (did you mean 'farm'?)"),
    ("""
     [[sweep.parameters]]
     target = "weather.foo"
     values = [1]
     """, "sweep.parameters[0].target: expected a target like"),
    ("""
     [[sweep.parameters]]
     target = "generators[farm].scale"
     start = 2
     stop = 1
     step = 0.5
     """, "empty range"),
    ("""
     [[sweep.parameters]]
     target = "generators[farm].scale"
     values = []
     """, "empty list of values"),
    ("""
     [[sweep.parameters]]
     target = "community.capacity_kwh"
     values = [1000, -5]
     """, "expected a size >= 0"),
    ("""
     [[sweep.parameters]]
     target = "consumers[homes].savings"
     values = [1.5]
     """, "expected a share saved in [0, 1)"),
    ("""
     [sweep]
     table = "missing.csv"
     """, "case table not found"),
    ("""
     [sweep]
     constraints = ["share is high"]
     [[sweep.parameters]]
     target = "generators[farm].scale"
     values = [1]
     """, "sweep.constraints: expected a constraint like"),
])
def test_bad_definitions_give_one_line_errors(tmp_path, capsys, sweep_toml, expected):
    from sim.cli import main

    if "[sweep]" not in sweep_toml:
        sweep_toml = "[sweep]\n" + textwrap.dedent(sweep_toml)
    path = _write_scenario(tmp_path, sweep_toml)
    assert main(["sweep", str(path), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert str(path) in err
    assert expected in err


@pytest.mark.parametrize("csv, expected", [
    ("farm_scale\n1\n", "missing column 'hub_capacity_kwh'"),
    ("farm_scale,hub_capacity_kwh\n1,10\n2,-3\n", "row 3: hub_capacity_kwh: expected a size"),
    ("farm_scale,hub_capacity_kwh\n1,ten\n", "row 2: column 'hub_capacity_kwh': expected a "
                                            "number, got 'ten'"),
    ("farm_scale,hub_capacity_kwh,colour\n1,1,red\n", "unknown parameter column 'colour'"),
])
def test_bad_case_tables(tmp_path, csv, expected):
    (tmp_path / "cases.csv").write_text(csv)
    path = _write_scenario(tmp_path, """
        [sweep]
        table = "cases.csv"
        [[sweep.parameters]]
        name = "farm_scale"
        target = "generators[farm].scale"
        [[sweep.parameters]]
        name = "hub_capacity_kwh"
        target = "community.capacity_kwh"
        """)
    sc = sim.load_scenario(path)
    with pytest.raises(InputError) as info:
        sw.make_cases(sc)
    msg = str(info.value)
    assert "\n" not in msg and "cases.csv" in msg
    assert expected in msg


def test_two_parameters_on_the_same_quantity_are_refused():
    spec = {"parameters": [{"target": "generators[kind=pv].scale", "values": [1]},
                           {"target": "generators[farm].scale", "values": [2]}]}
    with pytest.raises(InputError, match="both set the same quantity"):
        sw.make_cases(scenario(spec))


def test_chunk_figures_equal_the_per_case_path(weather):
    """Every case of a chunk: the figures computed for all cases at once
    (evaluate_cases) equal, to 1e-12 relative, evaluate_totals of the case's own
    scenario (generators and batteries sized 0 removed, the home battery
    replaced) on its labelled ledger, which equals the plain paths (reindexed
    annual rows, transposed ledger, pandas project table) exactly."""
    from sim.core.engine import build_inputs
    from programme.test_evaluate import plain_figures
    from studies.sweep_oracle import assert_same_figures, kernel_totals, per_case_figures

    sc = scenario(PRODUCT)
    base = sw.Base.build(sc, build_inputs(sc, weather=weather))
    cases = sw.make_cases(sc)
    chunk = sw.compute_chunk(base, cases.params, cases.values)
    totals = kernel_totals(base, cases.params, cases.values)
    assert cases.n == 12
    for c in range(cases.n):
        oracle = per_case_figures(base, cases.params, cases.values, chunk, c, totals)
        assert assert_same_figures(chunk, oracle, c) >= 50
    # the per-case path itself against the plain paths, on one case with everything
    case_sc = sw.apply_case(sc, cases.params, cases.values[-1])
    res = sim.simulate(case_sc, weather=weather)
    from sim.core.accounting import ledger
    from sim.programme.evaluate import evaluate_totals
    led = ledger(res)
    assert evaluate_totals(case_sc, led, res.annual).to_dict() == \
        plain_figures(case_sc, led, res.annual)


def test_sweep_shares_leave_out_the_plastic_share_like_run(weather):
    """問31: a waste plant (biomass ratio 0.55) on the hall: the sweep's
    hourly_matched_share and annual_netting_share leave its plastic share out,
    exactly as sim.simulate's kpis do (issue 12)."""
    gens = BASE["generators"] + [{"id": "waste", "kind": "waste", "site": "hall",
                                  "capacity_kw": 300, "biomass_ratio": 0.55}]
    sweep = {"chunk_size": 2, "parameters": [
        {"name": "wind_scale", "target": "generators[wind].scale", "values": [1.0, 2.0]}]}
    ds = sw.run(scenario(sweep, generators=gens), weather=weather, progress=False).dataset
    for scale in (1.0, 2.0):  # whole turbines (issue 11)
        by_hand = [dict(g, capacity_kw=g["capacity_kw"] * scale) if g["id"] == "wind"
                   else g for g in gens]
        kp = sim.simulate(scenario(generators=by_hand), weather=weather).kpis
        case = ds.sel(wind_scale=scale)
        assert kp["waste_plastic_delivered"] > 0
        for k in ("waste_plastic_generated", "waste_plastic_delivered",
                  "hourly_matched_share", "annual_netting_share"):
            np.testing.assert_allclose(float(case[k]), kp[k], rtol=1e-9, err_msg=k)
        assert kp["hourly_matched_share"] == pytest.approx(
            (kp["renewable_delivered"] - kp["waste_plastic_delivered"]) / kp["demand"])
