"""sim.programme.evaluate on scenarios worked by hand (each test's docstring shows the sums)."""

import json

import numpy as np
import pandas as pd
import pytest

import sim
from sim.core import accounting
from sim.errors import InputError
from sim.programme.evaluate import FIGURES, Evaluation, evaluate_totals
from core.test_accounting import T, make_result, pad
from programme.helpers import scenario

REQUIRED = ["civil_demand_kwh", "evaluated_demand_kwh", "savings_kwh",
            "renewable_supply_annual_kwh", "renewable_supply_hourly_kwh", "netting_gap_kwh",
            "balance_annual_ok", "balance_hourly_ok", "self_consumption_rate",
            "local_production_rate", "additional_capacity_kw", "additional_energy_kwh",
            "waste_biomass_kwh", "waste_plastic_kwh", "plastic_co2_t",
            "renewable_equivalent_kwh", "not_counted_kwh", "co2_reduction_t",
            "emission_factor_kg_per_kwh", "capex_jpy", "grant_jpy", "opex_jpy_per_year",
            "benefit_jpy_per_year", "payback_years", "cost_per_t_co2_total_jpy",
            "cost_per_t_co2_grant_jpy"]


def test_evaluated_demand_discounts():
    """Civil rows (kWh/yr): main household 100; added public 40 (×0.5 = 20);
    added private 40 (×0.75 = 30); added private model case 20 (×1.0 = 20);
    municipal waste plant 30 (×0); private waste plant 10 (×1.0); industry 50
    (not civil). civil = 240, evaluated = 100 + 20 + 30 + 20 + 0 + 10 = 180."""
    rows = [{"id": "h"}, {"id": "pub", "sector": "public", "owner": "public", "area": "added"},
            {"id": "priv", "sector": "commercial", "area": "added"},
            {"id": "model", "sector": "commercial", "area": "added", "model_case": True},
            {"id": "wm", "sector": "waste_plant", "owner": "municipal"},
            {"id": "wp", "sector": "waste_plant", "owner": "private"},
            {"id": "ind", "sector": "industry"}]
    sc = scenario(rows)
    demand = pad([[100], [40], [40], [20], [30], [10], [50]])
    ev = sim.evaluate(make_result(sc, demand, np.zeros((0, T))))
    assert ev.civil_demand_kwh == pytest.approx(240)
    assert ev.evaluated_demand_kwh == pytest.approx(180)
    assert ev.non_civil_demand_kwh == pytest.approx(50)
    assert ev.renewable_supply_hourly_kwh == 0 and not ev.balance_hourly_ok


def small_case(f_grant=0.0, rule="exclude", **region):
    """H (household) with PV p (5 kWh at h0); S (shop); I (industry); off-site
    PV f (1 kWh, in B村, built without the grant unless ``f_grant``); existing FIT
    plant fit without the value (2 kWh).

    h0: H 2 of 5 direct, exports 3. Pool 3 + 1 + 2 = 6 (p 1/2, f 1/6, fit 1/3);
        S 3 and I 3 take it all: each p 1.5, f 0.5, fit 1.
    h1: H 1, S 1, nothing generated.
    Civil demand H 3 + S 4 = 7.
    """
    sc = scenario([{"id": "H"}, {"id": "S", "sector": "commercial"},
                   {"id": "I", "sector": "industry"}],
                  [{"id": "p", "site": "H"}, {"id": "f", "municipality": "B村"},
                   {"id": "fit", "status": "existing", "support": "fit",
                    "environmental_value": False}], region=region,
                  finance={"grant_rates": {"f": f_grant}},
                  accounting={"grant_municipality_rule": rule})
    return make_result(sc, pad([[2, 1], [3, 1], [3, 0]]), pad([[5], [1], [2]]))


def test_self_consumption_local_production_fit_by_hand():
    """small_case: counted to civil = p (2 + 1.5) + f 0.5 = 4 (fit's 1 to S is
    not counted, reported). 自家消費率 = 2 / 4 = 0.5. 地産地消率 = local
    renewable to civil / civil demand = p 3.5 / 7 = 0.5 (f is in B村, not local).
    Annual: p 5 − 1.5 (to I) + f 1 − 0.5 = 4, so the gap is 0."""
    ev = sim.evaluate(small_case())
    assert ev.civil_demand_kwh == pytest.approx(7)
    assert ev.renewable_supply_hourly_kwh == pytest.approx(4)
    assert ev.renewable_supply_annual_kwh == pytest.approx(4)
    assert ev.netting_gap_kwh == pytest.approx(0, abs=1e-9)
    assert ev.not_counted_kwh == pytest.approx(1)
    assert ev.not_counted_generation_kwh == pytest.approx(2)
    assert ev.self_consumption_rate == pytest.approx(0.5)
    assert ev.local_production_rate == pytest.approx(0.5)
    assert ev.non_civil_supply_kwh == pytest.approx(2)
    # additional: p and f are new (1 kW each), fit is existing and not counted
    assert ev.additional_capacity_kw == pytest.approx(2)
    assert ev.existing_capacity_kw == pytest.approx(0)


def test_local_scope_with_co_proposer_and_prefecture_led():
    """B村 as co-proposer: f counts, 4 / 7. A prefecture-led plan: f (same
    prefecture) counts too, 4 / 7."""
    assert sim.evaluate(small_case(co_proposers=["B村"])).local_production_rate == \
        pytest.approx(4 / 7)
    assert sim.evaluate(small_case(prefecture_led=True)).local_production_rate == \
        pytest.approx(4 / 7)


def waste_case(owner="municipal", **acc):
    """Waste plant W (owner as given) with its own turbine w (biomass ratio 0.6):
    h0 w 5, W demand 1 → direct 1, export 4 → H (demand 4). h1: W 1 from the grid.
    Emission factor 0.5."""
    sc = scenario([{"id": "W", "sector": "waste_plant", "owner": owner}, {"id": "H"}],
                  [{"id": "w", "kind": "waste", "site": "W", "biomass_ratio": 0.6}],
                  accounting=dict({"emission_factor_kg_per_kwh": 0.5}, **acc),
                  grid={"isolated": True})
    return sim.evaluate(make_result(sc, pad([[1, 1], [4, 0]]), pad([[5]])))


def test_waste_split_and_plastic_co2():
    """5 kWh of waste power: biomass 3 (renewable), plastic 2 (再エネ等).
    Delivered to civil: 5 (W 1 + H 4) → renewable 3, equivalent 2.
    plastic_co2 = 2 kWh × 0.5 kg/kWh = 0.001 t. Evaluated demand: W (municipal)
    ×0 → 4 (H); with waste_plant_discount = 'self_consumption' only W's 1 kWh
    from its own turbine is ×0 → 4 + 1 = 5. Private plant ×1 → 6. New capacity
    1 kW × 0.6 (biomass share) = 0.6 kW."""
    ev = waste_case()
    assert ev.waste_biomass_kwh == pytest.approx(3)
    assert ev.waste_plastic_kwh == pytest.approx(2)
    assert ev.renewable_kwh == pytest.approx(3)
    assert ev.renewable_equivalent_kwh == pytest.approx(2)
    assert ev.plastic_co2_t == pytest.approx(0.001)
    assert ev.evaluated_demand_kwh == pytest.approx(4)
    assert ev.additional_capacity_kw == pytest.approx(0.6)
    assert ev.additional_energy_kwh == pytest.approx(3)
    assert waste_case(waste_plant_discount="self_consumption").evaluated_demand_kwh == \
        pytest.approx(5)
    assert waste_case(owner="private").evaluated_demand_kwh == pytest.approx(6)


def test_repowering_counts_only_the_output_increase():
    """問42 「発電量が維持・縮小するものは評価せず、追加性がある部分のみ評価」: wind
    repowered 200 → 300 kW whose output was 1,226,400 kWh/yr and is now 2,496,600
    (hour 0). Additional: 300 − 200 = 100 kW and 2,496,600 − 1,226,400 =
    1,270,200 kWh (not the capacity share 2,496,600 × 100/300 = 832,200);
    existing 200 kW and 1,226,400 kWh. A new PV outside the area (inside_area =
    false) adds nothing. The projects' own CO2 takes only the additional share:
    the wind's counted supply (all 2,496,600 delivered to H, hourly = annual)
    × 1,270,200 / 2,496,600 × 0.5 kg/kWh = 635.1 t; the plan's counts all of it
    (2,496,600 + PV x 2 → 1,249.3 t)."""
    sc = scenario([{"id": "H"}],
                  [{"id": "w", "kind": "wind", "hub_height_m": 60, "capacity_kw": 300,
                    "status": "repowered", "existing_kw": 200,
                    "existing_output_kwh_per_year": 1_226_400,
                    "existing_output_source": "FIT periodic reports 2019–2023"},
                   {"id": "x", "inside_area": False}])
    ev = sim.evaluate(make_result(sc, pad([[3_000_000]]), pad([[2_496_600], [2]])))
    assert ev.additional_capacity_kw == pytest.approx(100)
    assert ev.additional_energy_kwh == pytest.approx(1_270_200)
    assert ev.existing_capacity_kw == pytest.approx(200)
    assert ev.existing_energy_kwh == pytest.approx(1_226_400)
    assert ev.co2_reduction_t == pytest.approx((2_496_600 + 2) * 0.5 / 1000)
    assert ev.co2_reduction_projects_t == pytest.approx((1_270_200 + 2) * 0.5 / 1000)


def test_repowering_that_keeps_the_output_earns_nothing():
    """問42: 200 kW kept, output 1,200,000 kWh/yr ≤ 1,226,400 before: nothing
    additional, all existing, and a note says why. The same plant giving
    1,664,400 earns 1,664,400 − 1,226,400 = 438,000 kWh and 0 kW."""
    def case(output):
        sc = scenario([{"id": "H"}],
                      [{"id": "w", "kind": "wind", "hub_height_m": 60, "capacity_kw": 200,
                        "status": "repowered", "existing_kw": 200,
                        "existing_output_kwh_per_year": 1_226_400,
                        "existing_output_source": "plant records"}])
        return sim.evaluate(make_result(sc, pad([[3_000_000]]), pad([[output]])))
    ev = case(1_200_000)
    assert ev.additional_energy_kwh == 0 and ev.additional_capacity_kw == 0
    assert ev.existing_energy_kwh == pytest.approx(1_200_000)
    assert "問42" in ev.notes
    ev = case(1_664_400)
    assert ev.additional_energy_kwh == pytest.approx(438_000)
    assert ev.additional_capacity_kw == 0


def test_grant_funded_plant_of_another_town_is_excluded_and_listed():
    """問26 ※1 on small_case with f (B村, co-proposer) grant-funded: f's 0.5 kWh to
    S (A町) is over the grid to another municipality, and its 0.5 to I (industry,
    A町) too: breach 1.0 kWh, listed. Excluded from supply: hourly 4 − 0.5 = 3.5;
    annual: f's avail 1 − 0.5 (to I) − 0.5 (excluded) = 0 → 4 − 0.5 = 3.5;
    地産地消率 (f local as co-proposer) 3.5 / 7 = 0.5 instead of 4 / 7. With
    grant_municipality_rule = 'list' only listed: supply 4, 地産地消率 4 / 7."""
    ev = sim.evaluate(small_case(f_grant=0.5, co_proposers=["B村"]))
    assert not ev.grant_rule_ok
    assert ev.grant_rule_breach_kwh == pytest.approx(1.0)
    assert ev.grant_rule_excluded_kwh == pytest.approx(1.0)
    assert "f (B村) → S (A町)" in ev.grant_rule_breaches
    assert "f (B村) → I (A町)" in ev.grant_rule_breaches
    assert ev.renewable_supply_hourly_kwh == pytest.approx(3.5)
    assert ev.renewable_supply_annual_kwh == pytest.approx(3.5)
    assert ev.local_production_rate == pytest.approx(0.5)
    assert "問26 ※1" in ev.notes
    listed = sim.evaluate(small_case(f_grant=0.5, rule="list", co_proposers=["B村"]))
    assert listed.grant_rule_breach_kwh == pytest.approx(1.0)
    assert listed.grant_rule_excluded_kwh == 0 and not listed.grant_rule_ok
    assert listed.renewable_supply_hourly_kwh == pytest.approx(4)
    assert listed.local_production_rate == pytest.approx(4 / 7)
    # p is grant-funded too (default rate 2/3) but sits in A町 like S: no breach
    assert "p (" not in ev.grant_rule_breaches


def test_prefecture_and_association_waste_plants_count_zero():
    """問25 「地方公共団体が所有する廃棄物処理施設」: a plant of a prefecture or of a
    一部事務組合 is discounted like a municipal one (W 1 + 1 = 2 kWh → ×0): evaluated
    demand 4 (H only); 'public' is not a local government: ×1.0 → 6, with a note."""
    assert waste_case(owner="prefecture").evaluated_demand_kwh == pytest.approx(4)
    assert waste_case(owner="association").evaluated_demand_kwh == pytest.approx(4)
    ev = waste_case(owner="public")
    assert ev.evaluated_demand_kwh == pytest.approx(6)
    assert "not a local government" in ev.notes


def pv_island(**acc):
    """PV-only island, no storage: H uses 1 kWh every hour (8,760 kWh); an off-site
    PV gives 3.5 kWh in hours 10–17 (8 h × 3.5 × 365 = 10,220 kWh).
    Annual netting 10,220 ≥ 8,760 passes; hourly only 8 h × 1 × 365 = 2,920
    is delivered: fails; gap 7,300."""
    sc = scenario([{"id": "H"}], [{"id": "pv", "capacity_kw": 10,
                                   "capex_jpy_per_kw": 200_000}],
                  grid={"isolated": True},
                  accounting=dict({"emission_factor_kg_per_kwh": 0.7}, **acc),
                  finance={"grant_rate": 0.5, "purchase_price_jpy_per_kwh": 30,
                           "sale_price_jpy_per_kwh": 10})
    gen = np.zeros((1, T))
    hour = np.arange(T) % 24
    gen[0, (hour >= 10) & (hour < 18)] = 3.5
    return make_result(sc, np.ones((1, T)), gen)


def test_pv_island_annual_passes_hourly_fails():
    """See pv_island. CO2 (hourly basis, isolated): 2,920 × 0.7 / 1000 = 2.044 t;
    annual basis: 10,220 × 0.7 / 1000 = 7.154 t."""
    res = pv_island()
    ev = sim.evaluate(res)
    assert ev.balance_annual_ok and not ev.balance_hourly_ok
    assert ev.renewable_supply_annual_kwh == pytest.approx(10_220)
    assert ev.renewable_supply_hourly_kwh == pytest.approx(2_920)
    assert ev.netting_gap_kwh == pytest.approx(7_300)
    assert ev.co2_basis == "hourly"
    assert ev.co2_reduction_t == pytest.approx(2.044)
    assert sim.evaluate(res, co2_basis="annual").co2_reduction_t == pytest.approx(7.154)


def test_pv_island_finance_by_hand():
    """capex 10 kW × 200,000 = 2,000,000 JPY; grant 50 % = 1,000,000; opex default
    5,000 JPY/kW/yr = 50,000; benefit 2,920 × 30 + 7,300 spilled × 10 = 160,600;
    payback (2,000,000 − 1,000,000) / (160,600 − 50,000) = 9.042 yr < 17 (PV life).
    Cost per t-CO2 over 17 years: 2,000,000 / (2.044 × 17) = 57,556 JPY/t;
    grant: 28,778 JPY/t."""
    ev = sim.evaluate(pv_island())
    assert ev.capex_jpy == pytest.approx(2_000_000)
    assert ev.grant_jpy == pytest.approx(1_000_000)
    assert ev.opex_jpy_per_year == pytest.approx(50_000)
    assert ev.benefit_jpy_per_year == pytest.approx(160_600)
    assert ev.payback_years == pytest.approx(1_000_000 / 110_600)
    assert ev.useful_life_years == 17
    assert ev.cost_per_t_co2_total_jpy == pytest.approx(2_000_000 / (2.044 * 17))
    assert ev.cost_per_t_co2_grant_jpy == pytest.approx(1_000_000 / (2.044 * 17))
    assert ev.lower_grant_rate  # 0.5 < 2/3
    ev10 = sim.evaluate(pv_island(), period_years=10)
    assert ev10.cost_per_t_co2_total_jpy == pytest.approx(2_000_000 / 20.44)


def test_savings_count_toward_the_balance():
    """H: 100 kWh gross, savings 0.2 → 80 demand; off-site PV 80 in hour 0.
    supply 80 + savings 20 = 100 = civil demand: both balances pass."""
    sc = scenario([{"id": "H", "savings": 0.2}], [{"id": "pv"}])
    ev = sim.evaluate(make_result(sc, pad([[80]]), pad([[80]])))
    assert ev.civil_demand_kwh == pytest.approx(100)
    assert ev.savings_kwh == pytest.approx(20)
    assert ev.balance_annual_ok and ev.balance_hourly_ok


def test_to_dict_is_flat_json_and_documented(demo_result):
    """Every figure has a unit and a definition; to_dict is strict JSON."""
    ev = sim.evaluate(demo_result)
    d = ev.to_dict()
    json.dumps(d, allow_nan=False)
    assert all(isinstance(v, (float, int, bool, str, type(None))) for v in d.values())
    for key in REQUIRED:
        assert key in d and key in FIGURES
    assert all(FIGURES[k][0] and FIGURES[k][3] for k in FIGURES)


def test_demo_figures(demo_result):
    """Island demo. Evaluated demand: civil 27.5 GWh − municipal waste plant 0.7
    (×0) − airport 0.6 × 0.5 = 26.5 GWh. Additional capacity: PV 2,250 + 600 +
    300 + 8,500, wind 2,400 − 1,000 = 1,400, biomass 800, waste 400 × 0.55 = 220 →
    14,070 kW; existing: old FIT PV 1,000 + the wind's old 1,000 = 2,000 kW."""
    ev = sim.evaluate(demo_result)
    assert ev.civil_demand_kwh == pytest.approx(27.5e6)
    assert ev.evaluated_demand_kwh == pytest.approx(26.5e6)
    assert ev.additional_capacity_kw == pytest.approx(14070)
    assert ev.existing_capacity_kw == pytest.approx(2000)
    # 問28: Kyushu Electric island supply FY2018 (the demo's [accounting] row)
    assert ev.emission_factor_kg_per_kwh == 0.462 and ev.co2_basis == "hourly"
    assert "FY2018" in ev.emission_factor_source
    # 問26 ※1: the demo's grant-funded plants all supply their own town
    assert ev.grant_rule_ok and ev.grant_rule_breach_kwh == 0
    assert ev.renewable_supply_hourly_kwh <= ev.renewable_supply_annual_kwh
    # the demo is built to balance on annual netting but not hour by hour (問46)
    assert ev.balance_annual_ok and not ev.balance_hourly_ok and ev.netting_gap_kwh > 0
    assert 0 < ev.self_consumption_rate < 1 and 0 < ev.local_production_rate < 1


def test_evaluate_totals_without_hourly_dataset():
    """The sweep path: attribute() on the kernel's arrays + an annual table gives
    the same figures as evaluate(result)."""
    res = small_case()
    sc = res.scenario
    flows = {n: res.hourly[n].values for n in res.hourly.data_vars}
    att = accounting.attribute(res.hourly["generation"].values, np.array([0, -1, -1]), flows)
    led = accounting.ledger_dataarray(sc, att)
    annual = res.annual[["demand_gross", "demand", "savings", "charge", "discharge"]]
    ev = evaluate_totals(sc, led, annual)
    assert isinstance(ev, Evaluation)
    assert ev.to_dict() == sim.evaluate(res).to_dict()


def test_bad_override_is_an_input_error():
    """A wrong-unit emission factor passed as an override: one-line InputError."""
    with pytest.raises(InputError, match="g-CO2/kWh"):
        sim.evaluate(small_case(), emission_factor_kg_per_kwh=700)
    with pytest.raises(InputError, match="unknown override"):
        sim.evaluate(small_case(), emision_factor=0.5)


def plain_figures(sc, led, annual):
    """The figures through the general paths, for comparison with the fast one:
    annual rows out of order (reindexed), the ledger transposed (consumer,
    generator), and the finance totals from the pandas project table
    (``finance.projects`` + ``finance.totals``)."""
    from sim.programme import finance

    ev, proj = evaluate_totals(sc, led.transpose(), annual.iloc[::-1], with_projects=True)
    d = ev.to_dict()
    df = finance.projects(sc, led, annual)
    df["co2_t_per_year"] = proj["co2_t_per_year"]  # the projects' own CO2 comes from evaluate
    t = finance.totals(df, ev.co2_reduction_t, sc.finance)
    for k, v in t.items():
        d[k] = Evaluation(**{k: v}).to_dict()[k]
    return d


def test_fast_path_equals_plain_path_on_the_demo(demo_result):
    """evaluate_totals (numpy, no DataFrame per case) gives exactly the
    to_dict() of the plain paths, and its project table equals finance.projects."""
    from sim.programme import finance

    sc = demo_result.scenario
    led = accounting.ledger(demo_result)
    for over in ({}, {"grant_rates": {"wind": 0.3}, "payback_basis": "total"},
                 {"co2_basis": "annual", "waste_plant_discount": "self_consumption"}):
        fin = {k: v for k, v in over.items() if k in type(sc.finance).model_fields}
        acc = {k: v for k, v in over.items() if k in type(sc.accounting).model_fields}
        sc_o = sc.model_copy(update={"finance": sc.finance.model_copy(update=fin),
                                     "accounting": sc.accounting.model_copy(update=acc)})
        ev, proj = evaluate_totals(sc_o, led, demo_result.annual, with_projects=True)
        assert ev.to_dict() == plain_figures(sc_o, led, demo_result.annual)
        assert ev.to_dict() == sim.evaluate(demo_result, **over).to_dict()
        pd.testing.assert_frame_equal(
            proj.drop(columns="co2_t_per_year"),
            finance.projects(sc_o, led, demo_result.annual).drop(columns="co2_t_per_year"),
            check_exact=True)


def test_hourly_matched_share_counts_only_the_biomass_share():
    """問31 「バイオマス発電に相当する分」 only is renewable: waste_case's plant makes 5 kWh
    (ratio 0.6: plastic 2), all delivered (W 1 + H 4). Demand of all consumers
    1 + 1 + 4 = 6. run's shares: hourly (5 − 2) / 6 = 0.5, annual (5 − 2) / 6 =
    0.5 (not 5 / 6); plastic delivered 5 × 0.4 = 2 is reported apart."""
    sc = scenario([{"id": "W", "sector": "waste_plant", "owner": "municipal"}, {"id": "H"}],
                  [{"id": "w", "kind": "waste", "site": "W", "biomass_ratio": 0.6}],
                  grid={"isolated": True})
    kpis = make_result(sc, pad([[1, 1], [4, 0]]), pad([[5]])).kpis
    assert kpis["renewable_delivered"] == pytest.approx(5)
    assert kpis["waste_plastic_generated"] == pytest.approx(2)
    assert kpis["waste_plastic_delivered"] == pytest.approx(2)
    assert kpis["hourly_matched_share"] == pytest.approx(0.5)
    assert kpis["annual_netting_share"] == pytest.approx(0.5)


def test_local_production_basis_on_the_mainland():
    """問26 地産地消率 on a grid that is not isolated: the FAQ does not say hourly or
    annual. pv_island's plant (local) on the mainland: hourly 2,920 / 8,760 = 1/3
    (default, the stricter reading); local_production_basis = 'annual':
    min(1, 10,220 / 8,760) = 1. On an isolated grid it stays hourly (問46)."""
    res = pv_island()
    mainland = res.scenario.model_copy(update={"grid": res.scenario.grid.model_copy(
        update={"isolated": False})})
    led = accounting.ledger(res)
    ev = evaluate_totals(mainland, led, res.annual)
    assert ev.local_production_basis == "hourly"
    assert ev.local_production_rate == pytest.approx(1 / 3)
    ev = evaluate_totals(mainland, led, res.annual, local_production_basis="annual")
    assert ev.local_production_basis == "annual" and ev.local_production_rate == 1.0
    assert ev.local_production_rate_hourly == pytest.approx(1 / 3)
    ev = sim.evaluate(res, local_production_basis="annual")
    assert ev.local_production_basis == "hourly"
    assert ev.local_production_rate == pytest.approx(1 / 3)


def test_self_consumption_rate_on_the_supply_basis():
    """自家消費率 = on-site energy used at civil sites / supply on the supply basis.
    H uses 1 kWh every hour; its own PV p gives 2 kWh in hour 0 of each day (1 used
    directly, 1 exported and spilled): self-consumed 365, hourly supply 365, annual
    supply 730. Island (hourly basis): 365 / 365 = 1; mainland (annual netting):
    365 / 730 = 0.5."""
    gen = np.zeros((1, T))
    gen[0, ::24] = 2.0
    for isolated, expected in ((True, 1.0), (False, 0.5)):
        sc = scenario([{"id": "H"}], [{"id": "p", "site": "H"}], grid={"isolated": isolated})
        ev = sim.evaluate(make_result(sc, np.ones((1, T)), gen))
        assert ev.supply_basis == ("hourly" if isolated else "annual")
        assert ev.self_consumption_rate == pytest.approx(expected)


def test_every_figure_is_in_docs_figures_md():
    """docs/figures.md §3.1 lists every Evaluation figure with its source."""
    from conftest import ROOT

    doc = (ROOT / "docs" / "figures.md").read_text(encoding="utf-8")
    missing = [k for k in FIGURES if f"| `{k}` |" not in doc]
    assert not missing, missing


def test_evaluate_cases_without_civil_demand_gives_nan_rates(demo_scenario):
    """A case without civil demand has no coverage or 地産地消率 (NaN, never
    capped to 1), and two cases at once give two answers."""
    from sim.programme.evaluate import CaseTotals, evaluate_cases
    from sim.programme.finance import GENERATOR_COLUMNS

    sc = demo_scenario
    n_g, n_r, n_s = len(sc.generators), len(sc.consumers), len(sc.storage)
    gross = np.zeros((2, n_r))
    gross[1] = 1000.0
    table = {k: np.zeros((2, n_g)) for k in ("self_consumed", "not_delivered")
             + GENERATOR_COLUMNS}
    ct = CaseTotals(ledger=np.zeros((2, n_g, n_r)), table=table, gross=gross,
                    net=gross.copy(), charge=np.zeros((2, n_r)),
                    discharge=np.zeros((2, n_r)), community_charge=np.zeros(2),
                    community_discharge=np.zeros(2), unattributed=np.zeros(2),
                    capacity_kw=np.array([[g.capacity_kw for g in sc.generators]] * 2),
                    storage_kwh=np.array([[b.capacity_kwh for b in sc.storage]] * 2
                                         ).reshape(2, n_s))
    figs, notes, _ = evaluate_cases(sc, ct, accounting=sc.accounting,
                                    finance_spec=sc.finance, notes=True)
    for k in ("coverage_annual", "coverage_hourly", "local_production_rate_annual",
              "local_production_rate_hourly", "additional_energy_share"):
        assert np.isnan(figs[k][0]) and not np.isnan(figs[k][1]), k
    assert figs["local_production_rate_annual"][1] == 0.0
    assert len(notes) == 2
