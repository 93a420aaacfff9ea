"""Least-cost optimisation (sim.studies.optimize, gxsim optimize): optimum against an
analytic answer and a brute-force grid, seeds, constraints, bounds, one-line errors."""

import copy
import importlib
import json

import numpy as np
import pytest

import sim
from sim.errors import InputError
from sim.inputs.scenario import scenario_from_dict

op = importlib.import_module("sim.studies.optimize")

BASE = {
    "region": {"name": "Optimize test", "municipality": "和泊町", "prefecture": "鹿児島県",
               "latitude": 27.37, "longitude": 128.57, "year": 2023},
    "grid": {"isolated": True, "must_run_kw": 0},
    "consumers": [{"id": "town", "sector": "household", "count": 400,
                   "annual_kwh": 2_000_000}],
    "generators": [
        {"id": "farm", "kind": "pv", "capacity_kw": 500, "tilt": 15},
        {"id": "wind", "kind": "wind", "capacity_kw": 800, "turbine_type": "E-53/800",
         "hub_height_m": 60},
    ],
    "storage": [{"id": "hub", "site": "community", "capacity_kwh": 1000, "power_kw": 250}],
}
SMALL = {"popsize": 6, "generations": 12, "seed": 3, "marginal": False}


def scenario(optimize):
    data = copy.deepcopy(BASE)
    data["optimize"] = {**SMALL, **optimize}
    return scenario_from_dict(data)


@pytest.fixture(scope="module")
def weather():
    from sim.core.engine import build_inputs

    return build_inputs(scenario_from_dict(copy.deepcopy(BASE))).weather


@pytest.fixture(scope="module")
def yields(weather):
    """Annual output per kW of the farm and of one turbine [kWh/kW], demand [kWh]."""
    from sim.core.engine import build_inputs

    inp = build_inputs(scenario_from_dict(copy.deepcopy(BASE)), weather=weather)
    per_kw = inp.generation.sum(axis=1) / np.array([500.0, 800.0])
    return per_kw, float(inp.demand.sum())


FARM = {"name": "farm_kw", "target": "generators[farm].capacity_kw", "lower": 0,
        "upper": 6000}
TURBINES = {"name": "turbines", "target": "generators[wind].capacity_kw", "lower": 0,
            "upper": 4800, "step": 800}


# -- the optimum is right ----------------------------------------------------------

def test_one_variable_optimum_equals_the_analytic_answer(weather, yields):
    """Annual netting share is linear in the farm's size: the least-cost farm that
    nets half the demand is 0.5 × demand / yield; cost rises with size."""
    per_kw, demand = yields
    sc = scenario({"variables": [FARM, {**TURBINES, "upper": 0}],
                   "constraints": ["annual_netting_share >= 0.5"], "generations": 25})
    # the turbine variable pinned at 0 (upper 0): only the farm moves
    res = op.optimize(sc, weather=weather)
    expected = 0.5 * demand / per_kw[0]
    assert res.feasible
    assert res.x["farm_kw"] == pytest.approx(expected, rel=5e-3)
    assert res.figures["annual_netting_share"] >= 0.5
    row = res.constraints.iloc[0]
    assert row["binding"] and row["met"]


def test_integer_optimum_equals_the_brute_force_grid(weather):
    """Turbines in whole units and the farm in 250 kW steps: every combination is
    simulated (sim.sweep, product) and the cheapest feasible one is the optimum."""
    farm = {**FARM, "upper": 3000, "step": 250}
    opt = {"variables": [farm, TURBINES], "constraints": ["hourly_matched_share >= 0.45"],
           "generations": 30, "popsize": 10}
    res = op.optimize(scenario(opt), weather=weather)
    data = copy.deepcopy(BASE)
    data["sweep"] = {"parameters": [
        {"name": "farm_kw", "target": "generators[farm].capacity_kw",
         "values": list(np.arange(0, 3001, 250.0))},
        {"name": "turbines", "target": "generators[wind].capacity_kw",
         "values": list(np.arange(0, 4801, 800.0))}]}
    ds = sim.sweep(scenario_from_dict(data), weather=weather, progress=False)
    share = ds["hourly_matched_share"].values
    farm_kw, wind_kw = np.meshgrid(ds["farm_kw"].values, ds["turbines"].values, indexing="ij")
    crf = op.capital_recovery_factor(0.03, 17)  # PV and wind: 17 years (defaults.csv)
    hub = (100_000 * crf + 1_500) * 1000  # the community battery, fixed in this problem
    cost = (250_000 * crf + 5_000) * farm_kw + (354_000 * crf + 10_000) * wind_kw + hub
    cost = np.where(share >= 0.45, cost, np.inf)
    i, j = np.unravel_index(np.argmin(cost), cost.shape)
    assert res.feasible
    assert (res.x["farm_kw"], res.x["turbines"]) == (farm_kw[i, j], wind_kw[i, j])
    assert res.objective_value == pytest.approx(cost[i, j], rel=1e-9)
    # the candidate log is a sweep's cases table: same figure for the same mix
    cand = res.candidates
    hit = cand[(cand["farm_kw"] == farm_kw[i, j]) & (cand["turbines"] == wind_kw[i, j])]
    assert hit["hourly_matched_share"].iloc[0] == pytest.approx(share[i, j], rel=1e-12)


def test_annualised_cost_is_capital_recovery_plus_opex(weather):
    sc = scenario({"variables": [FARM]})
    # rate 0: capex / life, with the cost table's figures (17 years each here)
    assert op.capital_recovery(sc, 0.0) == pytest.approx(
        (250_000 * 500 + 354_000 * 800 + 100_000 * 1000) / 17)
    assert op.capital_recovery_factor(0.05, 20) == pytest.approx(0.0802426, rel=1e-6)
    res = op.optimize(sc, weather=weather, generations=1)
    row = res.candidates.iloc[0]
    assert row["annualised_cost_jpy"] == pytest.approx(
        op.capital_recovery(op.apply_case(sc, [v.param for v in res.variables],
                                          [row["farm_kw"]]), 0.03)
        + row["opex_jpy_per_year"], rel=1e-12)


def test_capital_recovery_without_building_each_scenario_matches_apply_case():
    """The per-row linear path (no scenario per candidate) gives what building the
    candidate's scenario gives, with existing rows, own costs and rows dropped at 0."""
    data = copy.deepcopy(BASE)
    data["consumers"].append({"id": "shop", "sector": "commercial", "annual_kwh": 80_000})
    for row in data["generators"] + data["storage"]:
        row["owner"] = "municipal"
    data["generators"] += [
        {"id": "roof", "kind": "pv", "site": "shop", "capacity_kw": 40, "owner": "private",
         "capex_jpy_per_kw": 300_000, "useful_life_years": 20},
        {"id": "roof2", "kind": "pv", "site": "town", "capacity_kw": 60, "owner": "private"},
        {"id": "old", "kind": "pv", "capacity_kw": 300, "status": "existing",
         "owner": "municipal"}]
    data["storage"] += [
        {"id": "home", "site": "shop", "capacity_kwh": 30, "power_kw": 10,
         "owner": "private", "capex_jpy_per_kwh": 150_000},
        {"id": "hub2", "site": "community", "capacity_kwh": 500, "power_kw": 100,
         "owner": "municipal"}]
    data["optimize"] = {**SMALL, "variables": [
        {"name": "roof_scale", "target": "generators[owner=private].scale", "lower": 0,
         "upper": 3},
        {**FARM}, {"name": "home_scale", "target": "storage[owner=private].scale",
                   "lower": 0, "upper": 2},
        {"name": "hub_kwh", "target": "community.capacity_kwh", "lower": 0, "upper": 9000},
        TURBINES]}
    prob = op.problem(scenario_from_dict(data))
    cap = op.CapitalRecovery(prob, op.cost_lookup(prob.scenario))
    assert not cap.fallback
    rng = np.random.default_rng(0)
    cases = np.column_stack([rng.uniform(0, 3, 12), rng.uniform(0, 6000, 12),
                             rng.uniform(0, 2, 12), rng.uniform(0, 9000, 12),
                             800.0 * rng.integers(0, 7, 12)])
    cases[0] = 0.0  # every plant dropped
    cases[1, [0, 2]] = 0.0
    for v in cases:
        slow = op.capital_recovery(op.apply_case(prob.scenario, prob.params, v), 0.03)
        assert cap(v) == pytest.approx(slow, rel=1e-12, abs=1e-6)
    # a consumer's battery totals are not a plain scaling: built the slow way
    data["optimize"]["variables"] = [{"target": "consumers[shop].battery_kwh", "lower": 0,
                                      "upper": 100}]
    prob = op.problem(scenario_from_dict(data))
    cap = op.CapitalRecovery(prob, op.cost_lookup(prob.scenario))
    assert cap.fallback
    assert cap(np.array([55.0])) == pytest.approx(op.capital_recovery(
        op.apply_case(prob.scenario, prob.params, [55.0]), 0.03), rel=1e-12)


# -- seeds, constraints, marginal costs, bounds --------------------------------------

def test_same_seed_same_search(weather):
    opt = {"variables": [FARM, TURBINES], "constraints": ["hourly_matched_share >= 0.4"],
           "generations": 4}
    a = op.optimize(scenario(opt), weather=weather)
    b = op.optimize(scenario(opt), weather=weather)
    c = op.optimize(scenario({**opt, "seed": 4}), weather=weather)
    assert a.x == b.x and a.objective_value == b.objective_value
    assert a.candidates.equals(b.candidates)
    assert not a.candidates[["farm_kw", "turbines"]].equals(c.candidates[["farm_kw",
                                                                           "turbines"]])


def test_stall_rule():
    nan = float("nan")
    assert not op.stalled([nan, nan, 10.0], 2, 1e-3)        # nothing feasible 2 back
    assert op.stalled([10.0, 10.0, 9.995], 2, 1e-3)         # 0.05 % in 2 generations
    assert not op.stalled([10.0, 10.0, 9.9], 2, 1e-3)       # 1 %
    assert not op.stalled([10.0, 10.0], 2, 1e-3)            # not 2 generations yet
    assert not op.stalled([10.0, 10.0, 10.0], 0, 1e-3)      # off


def test_search_stops_when_the_objective_stalls(weather):
    opt = {"variables": [FARM, TURBINES], "constraints": ["hourly_matched_share >= 0.4"],
           "generations": 200, "tol": 0, "stall_generations": 3, "stall_tol": 1e-3,
           "popsize": 4}
    res = op.optimize(scenario(opt), weather=weather)
    assert res.stop == "stall" and res.generations < 200
    best = res.history["best_objective"].to_numpy()
    # the last 3 generations improved the best by no more than 0.1 %; not so earlier
    assert best[-4] - best[-1] <= 1e-3 * best[-4]
    assert res.feasible and res.objective_value == best[-1]
    budget = op.optimize(scenario({**opt, "stall_generations": 0, "generations": 3}),
                         weather=weather)
    assert budget.stop == "generations" and budget.generations == 3
    assert res.simulations == len({tuple(r) for r in
                                   res.candidates[["farm_kw", "turbines"]].to_numpy()})


def test_dask_run_gives_the_same_search_as_the_local_run(weather):
    """Seeded: the same candidates, figures and optimum on a Dask cluster (in-process
    workers here, to stay fast) as in this process."""
    distributed = pytest.importorskip("distributed")
    opt = {"variables": [FARM, TURBINES], "constraints": ["hourly_matched_share >= 0.4"],
           "generations": 2, "popsize": 3}
    local = op.optimize(scenario(opt), weather=weather, chunk_size=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = op.optimize(scenario(opt), weather=weather, chunk_size=2,
                              dask=cluster.scheduler_address)
        assert "compute_chunk" in cluster.scheduler.task_prefixes  # ran on the workers
    assert len(local.candidates) > 2 * 2  # several chunks per generation
    assert on_dask.x == local.x and on_dask.objective_value == local.objective_value
    pd_testing = pytest.importorskip("pandas.testing")
    pd_testing.assert_frame_equal(on_dask.candidates, local.candidates, check_exact=True)


def test_constraints_hold_bind_and_cost_at_the_margin(weather):
    opt = {"variables": [FARM, {**TURBINES, "upper": 0},
                         {"target": "community.capacity_kwh", "lower": 0, "upper": 8000}],
           "constraints": ["hourly_matched_share >= 0.3", "grant_jpy <= 1e12",
                           "spill_share <= 0.9"],
           "marginal": True, "generations": 15, "marginal_generations": 8}
    res = op.optimize(scenario(opt), weather=weather)
    t = res.constraints.set_index("figure")
    assert res.feasible and t["met"].all()
    assert res.figures["hourly_matched_share"] >= 0.3
    assert t.loc["hourly_matched_share", "binding"]
    assert not t.loc["grant_jpy", "binding"]
    m = res.marginal.set_index("figure")
    # one more point of hourly share costs more; the far grant ceiling costs nothing
    assert m.loc["hourly_matched_share", "resolved"]
    assert m.loc["hourly_matched_share", "objective_up"] > res.objective_value
    assert m.loc["hourly_matched_share", "objective_down"] <= res.objective_value
    assert m.loc["hourly_matched_share", "per_point"] > 0
    assert m.loc["grant_jpy", "per_point"] == 0 and not m.loc["grant_jpy", "resolved"]
    assert set(res.candidates["stage"]) >= {"optimum", "marginal hourly_matched_share up"}


def test_island_hourly_tying_as_a_boolean_constraint(weather):
    opt = {"variables": [{**FARM, "upper": 20_000}, {**TURBINES, "upper": 16_000},
                         {"target": "community.capacity_kwh", "lower": 0, "upper": 20_000}],
           "constraints": ["balance_hourly_ok == true"], "generations": 6}
    res = op.optimize(scenario(opt), weather=weather)
    # whatever the search reached, the verdict matches the figures it reports
    assert res.feasible == bool(res.figures["balance_hourly_ok"])
    assert res.feasible == (res.figures["coverage_hourly"] >= 1 - 1e-9)


def test_optimum_on_a_bound_is_warned(weather):
    opt = {"variables": [{**FARM, "lower": 100, "upper": 800}],
           "objective": "hourly_matched_share", "sense": "max", "generations": 5}
    res = op.optimize(scenario(opt), weather=weather)
    assert res.x["farm_kw"] == pytest.approx(800, rel=0.01)
    assert len(res.on_bound) == 1 and "upper bound" in res.on_bound[0]
    # a lower bound of 0 (the plant not built) is not a modelling bound
    res0 = op.optimize(scenario({"variables": [FARM], "constraints": [],
                                 "generations": 3}), weather=weather)
    assert res0.x["farm_kw"] < 0.05 * 6000
    assert res0.on_bound == []


def test_infeasible_target_reports_the_closest_candidate(weather):
    opt = {"variables": [{**FARM, "upper": 300}], "generations": 6,
           "constraints": ["hourly_matched_share >= 0.95"]}
    res = op.optimize(scenario(opt), weather=weather)
    assert not res.feasible
    assert res.unmet == ["hourly_matched_share >= 0.95"]
    assert res.x["farm_kw"] == pytest.approx(300, rel=0.03)  # the closest: all the PV
    msg = res.infeasible_message()
    assert "\n" not in msg and "hourly_matched_share >= 0.95" in msg and "farm_kw" in msg


# -- bad input: one line ---------------------------------------------------------------

@pytest.mark.parametrize("optimize, expected", [
    ({"variables": [FARM], "constraints": ["hourly_matchd_share >= 0.9"]},
     "did you mean 'hourly_matched_share'"),
    ({"variables": [FARM], "objective": "capx"}, "unknown objective 'capx'"),
    ({"variables": []}, "no decision variables"),
    ({"variables": [{**FARM, "target": "generators[farmm].capacity_kw"}]},
     "optimize.variables[0]"),
    ({"variables": [FARM], "constraints": ["balance_hourly_ok >= 1"]}, "takes == or !="),
    ({"variables": [{"target": "finance.grant_rate", "lower": 0.3, "upper": 0.6}]},
     "clashes with a figure"),
])
def test_bad_sections_end_in_one_line(optimize, expected):
    with pytest.raises(InputError) as err:
        op.problem(scenario(optimize))
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_empty_bounds_are_refused_when_read():
    with pytest.raises(InputError, match="empty bounds") as err:
        scenario({"variables": [{**FARM, "lower": 10, "upper": 5}]})
    assert "optimize.variables[0]" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="no multiple of step") as err:
        scenario({"variables": [{**TURBINES, "lower": 100, "upper": 700}]})
    assert "\n" not in str(err.value)


# -- the command -------------------------------------------------------------------------

def _write(tmp_path, optimize):
    import tomli_w

    data = copy.deepcopy(BASE)
    data["optimize"] = {**SMALL, **optimize}
    path = tmp_path / "opt.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


def test_cli_writes_the_optimum_and_exits_0(tmp_path, capsys):
    from sim.cli import main

    path = _write(tmp_path, {"variables": [FARM], "generations": 3,
                             "constraints": ["annual_netting_share >= 0.2"]})
    out = tmp_path / "out"
    assert main(["optimize", str(path), "-o", str(out)]) == 0
    doc = json.loads((out / "optimum.json").read_text())
    assert doc["status"] == "optimal" and doc["figures"]["annual_netting_share"] >= 0.2
    assert doc["run"]["stop"] == "generations" and doc["run"]["generations"] == 3
    assert 0 < doc["run"]["simulations"] <= doc["run"]["evaluations"]
    assert {"candidates.csv", "convergence.png", "convergence.csv", "summary.txt",
            "optimum_scenario.json"} <= {p.name for p in out.iterdir()}
    assert "optimum" in capsys.readouterr().out


def test_cli_exit_2_on_bad_input_and_on_an_infeasible_target(tmp_path, capsys):
    from sim.cli import main

    bad = _write(tmp_path, {"variables": [FARM], "constraints": ["spil_share <= 0.1"]})
    assert main(["optimize", str(bad), "-o", str(tmp_path / "o1")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "did you mean 'spill_share'" in err
    assert not (tmp_path / "o1").exists()
    inf = _write(tmp_path, {"variables": [{**FARM, "upper": 200}], "generations": 2,
                            "constraints": ["hourly_matched_share >= 0.9"]})
    assert main(["optimize", str(inf), "-o", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not met: hourly_matched_share >= 0.9" in err
    assert json.loads((tmp_path / "o2" / "optimum.json").read_text())["status"] == \
        "infeasible"
