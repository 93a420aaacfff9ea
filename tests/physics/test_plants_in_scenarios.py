"""Issue 11 plant and demand options as a scenario uses them (schema -> engine -> finance)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import sim
from sim.programme.evaluate import evaluate_totals
from sim.errors import InputError
from sim.inputs.scenario import scenario_from_dict
from sim.inputs.weather import synthetic_year

BASE = {
    "region": {"name": "t", "municipality": "A", "prefecture": "B", "latitude": 27.37,
               "longitude": 128.57, "year": 2023},
    "consumers": [{"id": "c", "sector": "household", "annual_kwh": 4_000_000}],
    "generators": [],
    # a made-up region has no supplier row in profiles/emission_factors: state one (問28)
    "accounting": {"emission_factor_kg_per_kwh": 0.45,
                   "emission_factor_source": "test value, not a supplier's figure"},
}


@pytest.fixture(scope="module")
def weather():
    return synthetic_year(latitude=27.37, longitude=128.57, year=2023)


def with_gen(**gen):
    data = copy.deepcopy(BASE)
    data["generators"] = [gen]
    return scenario_from_dict(data)


def test_wind_capacity_must_be_whole_turbines(weather):
    sc = with_gen(id="w", kind="wind", capacity_kw=2000, hub_height_m=60)
    with pytest.raises(InputError, match=r"2.5 turbines of E-53/800") as e:
        sim.simulate(sc, weather=weather)
    assert e.value.field == "generators[0].capacity_kw"
    three = sim.simulate(with_gen(id="w", kind="wind", capacity_kw=2000, hub_height_m=60,
                                  turbines=3), weather=weather)
    free = sim.simulate(with_gen(id="w", kind="wind", capacity_kw=2400, hub_height_m=60),
                        weather=weather)
    g3 = three.hourly["generation"].values[0]
    g_free = free.hourly["generation"].values[0]
    # three turbines, output capped at the 2,000 kW connection
    assert g3.max() <= 2000 + 1e-9 and np.allclose(g3, np.minimum(g_free, 2000))
    assert any("density" in n for n in free.notes)


def test_fuel_cost_lowers_payback(weather):
    gen = dict(id="b", kind="biomass", capacity_kw=500, availability=0.9)
    free = sim.evaluate(sim.simulate(with_gen(**gen, fuel_cost_jpy_per_kwh=0),
                                     weather=weather))
    paid = sim.evaluate(sim.simulate(with_gen(**gen), weather=weather))  # default fuel
    per_t = sim.evaluate(sim.simulate(with_gen(**gen, fuel_cost_jpy_per_t=12_000,
                                               fuel_heating_value_mj_per_kg=10,
                                               net_efficiency=0.2), weather=weather))
    gen_kwh = paid.generation_kwh
    assert paid.opex_jpy_per_year - free.opex_jpy_per_year == pytest.approx(21.6 * gen_kwh)
    assert per_t.opex_jpy_per_year == pytest.approx(paid.opex_jpy_per_year)
    assert (paid.payback_years is None or paid.payback_years == float("inf")
            or paid.payback_years > free.payback_years)
    with pytest.raises(InputError, match="heating_value"):
        with_gen(**gen, fuel_cost_jpy_per_t=12_000)


def test_fuel_is_paid_on_generation_not_on_routes(weather):
    """Energy that passes through a battery is counted twice by the routes
    (to_storage, then community); fuel is paid once per kWh generated."""
    data = copy.deepcopy(BASE)
    data["generators"] = [dict(id="b", kind="biomass", capacity_kw=2_000, availability=0.9,
                               fuel_cost_jpy_per_kwh=10.0, opex_jpy_per_kw_year=0.0)]
    data["storage"] = [dict(id="cb", site="community", capacity_kwh=4_000, power_kw=1_000)]
    sc = scenario_from_dict(data)
    res = sim.simulate(sc, weather=weather)
    led = sim.accounting.ledger(res)
    _, projects = evaluate_totals(sc, led, res.annual, with_projects=True)
    generated = float(led.coords["generated"].values[0])
    routes = sum(float(led.coords[c].values[0]) for c in (
        "direct", "pooled", "community", "to_storage", "spilled", "unshared_export"))
    assert routes > generated * 1.001  # the battery's share counted twice by the routes
    assert projects.loc["b", "opex_jpy_per_year"] == pytest.approx(10.0 * generated,
                                                                   rel=1e-12)


def test_biomass_outages_seeded_by_row(weather):
    gen = dict(id="b", kind="biomass", capacity_kw=500, availability=0.85)
    a = sim.simulate(with_gen(**gen), weather=weather)
    b = sim.simulate(with_gen(**gen), weather=weather)
    c = sim.simulate(with_gen(**gen, outage_seed=99), weather=weather)
    ga, gb, gc = (r.hourly["generation"].values[0] for r in (a, b, c))
    np.testing.assert_array_equal(ga, gb)
    assert not np.array_equal(ga, gc)
    assert any("seeded forced outage" in n for n in a.notes)


def test_consumer_own_shape_table_and_file(weather, tmp_path):
    data = copy.deepcopy(BASE)
    work = [0.3] * 4 + [1.0] * 8 + [0.5] * 6 + [0.3] * 6
    data["consumers"] = [
        {"id": "fish", "sector": "industry", "annual_kwh": 1_000_000,
         "shape_table": {"workday": work, "holiday": [0.3] * 24}},
        {"id": "file", "sector": "commercial", "annual_kwh": 8760,
         "shape_file": str(tmp_path / "flat.csv")},
    ]
    (tmp_path / "flat.csv").write_text("\n".join(["1"] * 8760))
    res = sim.simulate(scenario_from_dict(data), weather=weather)
    d = res.hourly["demand"].values
    assert d[0].sum() == pytest.approx(1_000_000) and np.allclose(d[1], 1.0)
    data["consumers"][0]["archetype"] = "factory"
    with pytest.raises(InputError, match="one of archetype, shape_table or shape_file"):
        scenario_from_dict(data)
