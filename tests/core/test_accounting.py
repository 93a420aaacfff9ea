"""Source attribution (sim.core.accounting) on hand-worked cases, random cases and the demo.

``make_result`` builds a :class:`sim.Result` from given demand and generation
arrays (no weather, no generation models): the first hours carry the hand
case, the rest of the year is zero. Other test modules of issue 3 import it.
"""

import numpy as np
import pandas as pd
import pytest

from sim.core import accounting
from sim.core.engine import Inputs, build_inputs, calendar_index, equipment, run_inputs
from sim.inputs.scenario import scenario_from_dict

YEAR = 2023
T = 8760

REGION = {"name": "test", "municipality": "A町", "prefecture": "P県", "latitude": 30.0,
          "longitude": 130.0, "year": YEAR}


def scenario(consumers, generators=(), storage=(), **sections):
    """A small validated scenario (annual_kwh is a placeholder: demand is given)."""
    cons = [dict({"sector": "household", "annual_kwh": 1.0}, **c) for c in consumers]
    gens = [dict({"kind": "pv", "capacity_kw": 1.0}, **g) for g in generators]
    data = {"region": dict(REGION, **sections.pop("region", {})), "consumers": cons,
            "generators": gens, "storage": list(storage), **sections}
    return scenario_from_dict(data)


def pad(rows, n_t=T):
    """Hand-case hours (list of lists) padded with zeros to a whole year."""
    arr = np.zeros((len(rows), n_t))
    for i, r in enumerate(rows):
        arr[i, :len(r)] = r
    return arr


def make_result(sc, demand, generation, *, demand_gross=None):
    """Run the kernel on given arrays (R, T) and (G, T) for scenario ``sc``."""
    index = calendar_index(sc.region.year, sc.region.timezone)
    demand = np.asarray(demand, float)
    generation = np.asarray(generation, float).reshape(len(sc.generators), len(index))
    if demand_gross is None:
        savings = np.array([c.savings for c in sc.consumers])
        demand_gross = demand / (1 - savings)[:, None]
    weather = pd.DataFrame(index=index)
    inputs = Inputs(index=index, weather=weather, demand_gross=demand_gross, demand=demand,
                    generation=generation, must_run=np.full(len(index), sc.grid.must_run_kw),
                    **equipment(sc))
    return run_inputs(sc, inputs)


def check_ledger(res, atol=1e-6):
    """Ledger rows sum to each consumer's renewable; every generator balances."""
    led = accounting.ledger(res)
    np.testing.assert_allclose(led.sum("generator").values, res.annual["renewable"].values,
                               rtol=1e-9, atol=atol)
    tab = accounting.ledger_table(led)
    np.testing.assert_allclose(tab["generated"], tab["delivered"] + tab["not_delivered"],
                               rtol=1e-9, atol=atol)
    np.testing.assert_allclose(tab["generated"],
                               res.hourly["generation"].sum("time").values, rtol=1e-12)
    # not_delivered may be negative when a battery starts charged
    assert (tab.drop(columns=["kind", "site", "not_delivered"]) >= -atol).all().all()
    return led, tab


def test_direct_and_pool_hand_case():
    """Two consumers, A with PV a1 (on-site), off-site wind w.

    h0: A demand 2, a1 3 → direct 2, export 1; w 1. Pool 2 = a1 1 + w 1
        (share 1/2 each); B demand 1 gets 1 pooled → 0.5 a1 + 0.5 w; spill 1
        (0.5 a1 + 0.5 w).
    h1: A demand 1, a1 0; B demand 1; w 4 → pool 4 (all w); 1 each; spill 2.
    Ledger: a1→A 2, a1→B 0.5, w→A 1, w→B 1.5. Generated a1 3 = 2.5 + 0.5 spill;
    w 5 = 2.5 + 2.5 spill.
    """
    sc = scenario([{"id": "A"}, {"id": "B"}],
                  [{"id": "a1", "site": "A"}, {"id": "w", "kind": "wind", "hub_height_m": 50}])
    res = make_result(sc, pad([[2, 1], [1, 1]]), pad([[3, 0], [1, 4]]))
    led, tab = check_ledger(res)
    np.testing.assert_allclose(led.sel(generator="a1").values, [2, 0.5])
    np.testing.assert_allclose(led.sel(generator="w").values, [1, 1.5])
    np.testing.assert_allclose(tab["spilled"], [0.5, 2.5])
    np.testing.assert_allclose(tab["self_consumed"], [2, 0])


def test_two_onsite_generators_and_battery_running_composition():
    """Consumer A with PV p (3 kWh at h0) and wind w (1 kWh at h0, 2 at h1), battery
    E = 10, P = 10, η = 1 (so no losses). Demand A: 0 at h0, 0 at h1, 3 at h2, 3 at h3.

    h0: charge 4 (mix p 3/4, w 1/4); h1: charge 2 (all w) → content p 3, w 3.
    h2: discharge 3 at mix 1/2:1/2 → p 1.5, w 1.5; h3: again → p 1.5, w 1.5.
    Ledger p→A 3, w→A 3; nothing stored at the end.
    """
    sc = scenario([{"id": "A"}], [{"id": "p", "site": "A"},
                                  {"id": "w", "site": "A", "kind": "wind", "hub_height_m": 50}],
                  [{"id": "b", "site": "A", "capacity_kwh": 10, "power_kw": 10}],
                  options={"battery_efficiency": 1.0})
    res = make_result(sc, pad([[0, 0, 3, 3]]), pad([[3, 0], [1, 2]]))
    led, tab = check_ledger(res)
    np.testing.assert_allclose(led.values[:, 0], [3, 3])
    np.testing.assert_allclose(tab["battery"], [3, 3])
    np.testing.assert_allclose(tab["stored_end"], [0, 0], atol=1e-12)


def test_battery_losses_and_stored_energy():
    """One PV p at A, battery E = 10, P = 10, η = 0.81 (√η = 0.9).

    h0: demand 0, p 10 → charge 10, stored 9. h1: demand 4.5 → discharge 4.5,
    taking 5 out; stored 4 at the end. Losses 1 + 0.5 = 1.5.
    p: generated 10 = delivered 4.5 + losses 1.5 + stored 4.
    """
    sc = scenario([{"id": "A"}], [{"id": "p", "site": "A"}],
                  [{"id": "b", "site": "A", "capacity_kwh": 10, "power_kw": 10}],
                  options={"battery_efficiency": 0.81})
    res = make_result(sc, pad([[0, 4.5]]), pad([[10, 0]]))
    led, tab = check_ledger(res)
    np.testing.assert_allclose(led.values, [[4.5]])
    np.testing.assert_allclose(tab.loc["p", ["storage_losses", "stored_end"]], [1.5, 4.0])


def test_community_battery_running_composition():
    """Off-site f (PV) and w (wind); consumer A; community battery 10/10, η = 1.

    h0: A demand 0; f 2, w 2 → pool 4, all charged (mix 1/2, 1/2).
    h1: A demand 0; w 4 → charged (content f 2, w 6).
    h2: A demand 4 → community discharge 4 at mix 1/4 : 3/4 → f 1, w 3.
    """
    sc = scenario([{"id": "A"}], [{"id": "f"}, {"id": "w", "kind": "wind", "hub_height_m": 50}],
                  [{"id": "c", "site": "community", "capacity_kwh": 10, "power_kw": 10}],
                  options={"battery_efficiency": 1.0})
    res = make_result(sc, pad([[0, 0, 4]]), pad([[2, 0, 0], [2, 4, 0]]))
    led, tab = check_ledger(res)
    np.testing.assert_allclose(led.values[:, 0], [1, 3])
    np.testing.assert_allclose(tab["community"], [1, 3])
    np.testing.assert_allclose(tab["stored_end"], [1, 3])


def test_unshared_exports_are_reported():
    """share_onsite_surplus = false: A's surplus 2 never reaches B; it is unshared_export."""
    sc = scenario([{"id": "A"}, {"id": "B"}], [{"id": "p", "site": "A"}],
                  options={"share_onsite_surplus": False})
    res = make_result(sc, pad([[1], [5]]), pad([[3]]))
    led, tab = check_ledger(res)
    np.testing.assert_allclose(led.values, [[1, 0]])
    assert tab.loc["p", "unshared_export"] == pytest.approx(2)


def test_initial_state_of_charge_is_spread_over_chargers():
    """soc_initial 0.5 of a 10 kWh battery (η = 1): 5 kWh at the start, charged
    later by p only → attributed to p; the ledger still sums to renewable."""
    sc = scenario([{"id": "A"}], [{"id": "p", "site": "A"}],
                  [{"id": "b", "site": "A", "capacity_kwh": 10, "power_kw": 10}],
                  options={"battery_efficiency": 1.0, "soc_initial": 0.5})
    res = make_result(sc, pad([[3, 0, 0]]), pad([[0, 2, 0]]))
    led, tab = check_ledger(res)
    assert tab.loc["p", "from_initial_storage"] == pytest.approx(5)
    assert led.values[0, 0] == pytest.approx(3)


def test_random_cases_balance():
    """Random demand/generation with on-site and community batteries, must-run and
    several generators per site: the ledger sums hold hour-free, to 1e-6."""
    rng = np.random.default_rng(7)
    cons = [{"id": f"c{i}"} for i in range(6)]
    gens = [{"id": f"g{j}", "site": (f"c{j % 4}" if j < 6 else None)} for j in range(9)]
    stor = [{"id": "b0", "site": "c0", "capacity_kwh": 5, "power_kw": 2},
            {"id": "b1", "site": "c1", "capacity_kwh": 3, "power_kw": 3},
            {"id": "cb", "site": "community", "capacity_kwh": 20, "power_kw": 5}]
    sc = scenario(cons, gens, stor, grid={"must_run_kw": 0.5},
                  options={"soc_initial": 0.3})
    demand = rng.gamma(2.0, 1.0, (6, T))
    gen = rng.gamma(1.0, 1.0, (9, T)) * (rng.random((9, T)) < 0.6)
    res = make_result(sc, demand, gen)
    led, tab = check_ledger(res)
    assert led.attrs["unattributed_kwh"] == 0


def test_initial_energy_of_a_battery_nobody_charges_is_unattributed():
    """A battery at B (no generator) starts with 0.5 x 4 = 2 kWh, η = 1: it
    delivers 2 kWh that no generator made → ledger.attrs["unattributed_kwh"] = 2."""
    sc = scenario([{"id": "A"}, {"id": "B"}], [{"id": "p", "site": "A"}],
                  [{"id": "b", "site": "B", "capacity_kwh": 4, "power_kw": 4}],
                  options={"battery_efficiency": 1.0, "soc_initial": 0.5})
    res = make_result(sc, pad([[1], [3]]), pad([[1]]))
    led = accounting.ledger(res)
    assert led.attrs["unattributed_kwh"] == pytest.approx(2)
    np.testing.assert_allclose(led.sum("generator").values + [0, 2],
                               res.annual["renewable"].values)


def test_demo_ledger(demo_result):
    """The island demo: rows sum to renewable (its time is measured in benchmarks/)."""
    led, tab = check_ledger(demo_result)
    assert led.attrs["unattributed_kwh"] == 0
    # the municipal waste plant's own turbine feeds its site first
    assert tab.loc["waste_power", "self_consumed"] > 0


def test_scales_to_ten_thousand_consumers():
    """10,000 consumer rows, 50 generators (20 on-site), a quarter year (to keep the
    kernel's share of the test short): rows sum to each consumer's renewable
    (the time is measured by benchmarks/bench_verify.py, whose evaluation
    attributes 10,000 consumers)."""
    rng = np.random.default_rng(1)
    n_r, n_g, T = 10_000, 50, 2190
    site = np.full(n_g, -1)
    site[:20] = rng.choice(n_r, 20, replace=False)
    from sim import match
    demand = rng.random((n_r, T), dtype=np.float32)
    gen = rng.random((n_g, T)) * 50
    onsite = np.zeros((n_r, T))
    for g in range(20):
        onsite[site[g]] += gen[g]
    flows = match(demand, onsite, gen[20:].sum(0), community_kwh=500, community_kw=100,
                  dtype=np.float32)
    att = accounting.attribute(gen, site, flows)
    renewable = (flows["direct"].astype(float) + flows["discharge"] + flows["pooled"]
                 + flows["community"]).sum(1)
    np.testing.assert_allclose(att.ledger.sum(0), renewable, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ledger_in_chunks_is_the_same_from_derived_and_stored_flows(demo_scenario, dtype,
                                                                    monkeypatch):
    """Chunks of 5 consumer rows (several, the last one shorter), read into the
    reused buffers: derived flows (computed into a buffer, cast into another)
    give the ledger of stored ones (views, or cast), to the bit."""
    from sim.core.dispatch import KERNEL_OUTPUTS

    monkeypatch.setattr(accounting, "_CHUNK", 5)
    sc = demo_scenario.model_copy(deep=True)
    sc.options.dtype = dtype
    inputs = build_inputs(sc)
    n_r = len(sc.consumers)
    assert n_r > 10 and n_r % 5
    derived = accounting.ledger(run_inputs(sc, inputs))
    stored = accounting.ledger(run_inputs(sc, inputs, outputs=list(KERNEL_OUTPUTS)))
    np.testing.assert_array_equal(derived.values, stored.values)
    for name in accounting.TABLE_COLUMNS:
        np.testing.assert_array_equal(derived[name].values, stored[name].values, err_msg=name)
    # and the ledger of one chunk, to rounding (the sums' order differs)
    monkeypatch.setattr(accounting, "_CHUNK", 2048)
    whole = accounting.ledger(run_inputs(sc, inputs))
    np.testing.assert_allclose(derived.values, whole.values, rtol=1e-12, atol=1e-9)
