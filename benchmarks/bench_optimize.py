"""``sim.optimize`` against an exact optimiser, and at 1,000 consumers.

1. A single-bus island: all demand in one consumer, off-site PV, wind and
   biomass and one (community) battery, no must-run. The same sizing problem
   — least annualised cost (capex × capital recovery factor + opex, the same
   cost table and discount rate) with at least ``TARGET`` of the demand matched
   hour by hour — is solved as a linear programme (linopy + HiGHS, ``pip
   install -e .[peers]``): sizes and the whole year's dispatch are variables,
   with perfect foresight. The LP relaxes gxsim's rule-based dispatch (charge
   from surplus, discharge into deficit: docs/design.md §4), so its cost is a lower
   bound of gxsim's; for one bus and one battery without grid charging the
   greedy rule is close to optimal, so gxsim's optimum must come within 2 %.
   Both wall times are recorded.
2. 1,000 consumers, each with its own rooftop PV and battery (plus a solar
   farm, wind and a community battery): too large for the LP of (1) in
   reasonable time; gxsim's time per candidate and for the (small) budget of
   generations set in :func:`many_consumers` are recorded.

Timings are recorded, never asserted; the 2 % gap is a correctness check and
is asserted.
"""

from __future__ import annotations

import copy
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import record

import sim
from sim.core.engine import build_inputs
from sim.inputs.scenario import scenario_from_dict
from sim.studies import optimize as op

TARGET = 0.8
#: the single-bus island of (1); sizes on the rows only set the per-kW profiles
SINGLE_BUS = {
    "region": {"name": "single-bus island", "municipality": "和泊町", "prefecture": "鹿児島県",
               "latitude": 27.37, "longitude": 128.57, "altitude_m": 20, "year": 2023},
    "weather": {"source": "default"},
    "grid": {"isolated": True, "must_run_kw": 0},
    "options": {"battery_efficiency": 0.9, "soc_initial": 0.0},
    "consumers": [{"id": "island", "sector": "household", "count": 2000,
                   "annual_kwh": 9_000_000}],
    "generators": [
        {"id": "pv", "kind": "pv", "capacity_kw": 1000, "tilt": 15},
        {"id": "wind", "kind": "wind", "capacity_kw": 800, "turbine_type": "E-53/800",
         "hub_height_m": 60},
        # fuel left out (0): the LP's cost must be the same linear function of the
        # sizes, and the evaluation charges fuel on energy passing a battery twice
        {"id": "biomass", "kind": "biomass", "capacity_kw": 1000, "availability": 0.85,
         "outage_weeks": [20, 21], "fuel_cost_jpy_per_kwh": 0.0},
    ],
    "storage": [{"id": "battery", "site": "community", "capacity_kwh": 1000,
                 "power_kw": 1000}],
    "optimize": {
        "objective": "annualised_cost", "discount_rate": 0.03,
        "constraints": [f"hourly_matched_share >= {TARGET}"],
        "seed": 0, "popsize": 12, "generations": 80, "tol": 1e-5, "marginal": False,
        "variables": [
            {"name": "pv_size", "target": "generators[pv].capacity_kw", "lower": 0,
             "upper": 12_000},
            {"name": "wind_size", "target": "generators[wind].capacity_kw", "lower": 0,
             "upper": 12_000},
            # wood-chip supply caps the biomass plant (else, with no fuel cost in
            # the cost table, the cheapest mix is biomass alone)
            {"name": "biomass_size", "target": "generators[biomass].capacity_kw",
             "lower": 0, "upper": 500},
            {"name": "battery_size", "target": "community.capacity_kwh", "lower": 0,
             "upper": 40_000},
            {"name": "battery_power", "target": "community.power_kw", "lower": 0,
             "upper": 8_000},
        ],
    },
}
BOUNDS = {v["name"]: (v["lower"], v["upper"]) for v in SINGLE_BUS["optimize"]["variables"]}


def unit_costs(sc) -> dict[str, float]:
    """Annualised cost per kW (generators) or kWh (battery) [JPY/yr]."""
    costs = op.cost_lookup(sc)
    rate = sc.optimize.discount_rate
    out = {}
    for kind in ("pv", "wind", "biomass", "battery_community"):
        c = costs[kind]
        out[kind] = (c["capex_jpy_per_unit"]
                     * op.capital_recovery_factor(rate, c["useful_life_years"])
                     + c["opex_jpy_per_unit_year"])
    return out


def lp_optimum(sc, target: float, inp=None) -> dict:
    """The least-cost sizes and dispatch as an LP (linopy + HiGHS), build + solve.

    ``inp``: :func:`sim.core.engine.build_inputs` of ``sc`` (the profiles
    both tools share; built here when not given).
    """
    import linopy

    inp = inp if inp is not None else build_inputs(sc)
    cap = np.array([g.capacity_kw for g in sc.generators])
    per_kw = inp.generation / cap[:, None]          # (G, T) [kWh/kW]
    demand = inp.demand[0]                          # (T,) [kWh]
    n_t = demand.size
    k = float(np.sqrt(sc.options.battery_efficiency))
    c = unit_costs(sc)
    time_ = pd.RangeIndex(n_t, name="time")
    m = linopy.Model()
    size = {g.id: m.add_variables(lower=0, upper=BOUNDS[f"{g.id}_size"][1], name=g.id)
            for g in sc.generators}
    e = m.add_variables(lower=0, upper=BOUNDS["battery_size"][1], name="e")
    p = m.add_variables(lower=0, upper=BOUNDS["battery_power"][1], name="p")
    used = m.add_variables(lower=0, coords=[time_], name="used")
    ch = m.add_variables(lower=0, coords=[time_], name="charge")
    dis = m.add_variables(lower=0, coords=[time_], name="discharge")
    soc = m.add_variables(lower=0, coords=[time_], name="soc")
    spill = m.add_variables(lower=0, coords=[time_], name="spill")
    prof = {g.id: pd.Series(per_kw[j], index=time_).to_xarray()
            for j, g in enumerate(sc.generators)}
    d = pd.Series(demand, index=time_).to_xarray()
    gen = sum(prof[gid] * size[gid] for gid in size)
    m.add_constraints(used + ch + spill - gen == 0, name="supply")
    m.add_constraints(used + dis <= d, name="demand")
    m.add_constraints(soc - e <= 0, name="soc_max")
    m.add_constraints(ch - p <= 0, name="charge_max")
    m.add_constraints(dis - p <= 0, name="discharge_max")
    with warnings.catch_warnings():  # the shifted first hour is absent = empty start
        warnings.simplefilter("ignore")
        m.add_constraints(soc - soc.shift(time=1) - k * ch + (1 / k) * dis == 0, name="soc")
    m.add_constraints((used + dis).sum() >= target * float(demand.sum()), name="target")
    m.add_objective(c["pv"] * size["pv"] + c["wind"] * size["wind"]
                    + c["biomass"] * size["biomass"] + c["battery_community"] * e)
    status, cond = m.solve(solver_name="highs", io_api="direct", output_flag=False)
    assert status == "ok", (status, cond)
    return {"cost": float(m.objective.value),
            "sizes": {**{gid: float(v.solution) for gid, v in size.items()},
                      "battery_kwh": float(e.solution), "battery_kw": float(p.solution)}}


def test_single_bus_within_2_percent_of_the_lp(benchmark):
    pytest.importorskip("linopy", reason="optional peer: pip install -e .[peers]")
    pytest.importorskip("highspy", reason="optional peer: pip install -e .[peers]")
    sc = scenario_from_dict(copy.deepcopy(SINGLE_BUS))
    inp = build_inputs(sc)
    t0 = time.perf_counter()
    lp = lp_optimum(sc, TARGET, inp)
    t_lp = time.perf_counter() - t0
    op.optimize(sc, generations=1, popsize=2)  # compile the batch kernel first
    res = benchmark.pedantic(lambda: op.optimize(sc), rounds=1, iterations=1)
    gap = res.objective_value / lp["cost"] - 1
    record(benchmark, "optimize_vs_lp", lp_seconds=t_lp, gxsim_seconds=res.seconds,
           lp_cost_jpy_per_year=lp["cost"], gxsim_cost_jpy_per_year=res.objective_value,
           gap=gap, lp_sizes=lp["sizes"], gxsim_sizes=res.x,
           gxsim_evaluations=res.evaluations, gxsim_generations=res.generations,
           gxsim_hourly_matched_share=res.figures["hourly_matched_share"])
    assert res.feasible
    assert -1e-6 <= gap <= 0.02, (res.x, lp["sizes"], gap)


def many_consumers(n: int) -> dict:
    """``n`` consumers, each with rooftop PV and a battery, + farm, wind, community battery."""
    from regions import region_dict

    data = region_dict(n, dtype="float64")
    total = sum(c["annual_kwh"] for c in data["consumers"])
    data["generators"] = [g for g in data["generators"] if g.get("site") is None]
    data["storage"] = [b for b in data["storage"] if b["site"] == "community"]
    for i, c in enumerate(data["consumers"]):
        kwh = c["annual_kwh"]
        data["generators"].append({"id": f"pv{i:05d}", "kind": "pv", "site": c["id"],
                                   "capacity_kw": round(kwh / 1_100, 2), "owner": "private",
                                   "tilt": 20, "azimuth": 180})
        data["storage"].append({"id": f"b{i:05d}", "site": c["id"], "owner": "private",
                                "capacity_kwh": kwh / 700, "power_kw": kwh / 1_500})
    for g in data["generators"]:
        g.setdefault("owner", "municipal")
    data["grid"]["must_run_kw"] = total / 8760 * 0.15
    data["optimize"] = {
        "objective": "annualised_cost", "constraints": ["hourly_matched_share >= 0.6"],
        # a budget of 12 candidates, measured under heavy load at ~1 min each
        # before the sparse pool-ledger loop (now ~1 s per case single-threaded
        # on the same region); the time to optimum with a larger budget is not
        # measured yet
        "seed": 0, "popsize": 2, "generations": 1, "marginal": False,
        "variables": [
            {"name": "rooftop_scale", "target": "generators[owner=private].scale",
             "lower": 0, "upper": 2},
            {"name": "home_battery_scale", "target": "storage[owner=private].scale",
             "lower": 0, "upper": 2},
            {"name": "farm_size", "target": "generators[solar_farm].capacity_kw",
             "lower": 0, "upper": total / 1_200},
        ],
    }
    return data


@pytest.mark.parametrize("n", [1_000])
def test_time_to_optimum_with_rooftop_pv_and_batteries(benchmark, n):
    sc = scenario_from_dict(many_consumers(n))
    res = benchmark.pedantic(lambda: sim.optimize(sc), rounds=1, iterations=1)
    per_gen = res.history["evaluations"].diff().dropna()
    record(benchmark, f"optimize_{n}_consumers", seconds=res.seconds,
           evaluations=res.evaluations, generations=res.generations,
           seconds_per_candidate=res.seconds / max(1, len(res.candidates)),
           candidates_per_generation=float(per_gen.mean()) if len(per_gen) else None,
           feasible=res.feasible, x=res.x, objective=res.objective_value)
