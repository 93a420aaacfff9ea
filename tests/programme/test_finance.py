"""sim.programme.finance: projects, payback, cost per t-CO2 (hand-computed in docstrings)."""

import math

import numpy as np
import pytest

import sim
from sim.core import accounting
from sim.programme import finance
from sim.errors import InputError
from core.test_accounting import make_result, pad
from programme.helpers import scenario


def battery_case(**fin):
    """A: PV p (10 kW, capex 100,000 JPY/kW, opex 0, life 20) and a new battery
    (10 kWh, capex 50,000 JPY/kWh, opex 0, life 6), η = 1; an existing
    off-site PV e. h0: demand 0, p 6 → charge 6. h1: demand 6 → discharge 6.
    e gives 1 kWh at h2 to a demand of 1.
    Prices: purchase 30, sale 10 JPY/kWh.
    p benefit: to storage 6 × 10 = 60; battery: 6 × 30 − 6 × 10 = 120;
    together 180 = the 6 kWh delivered at 30. e is existing: not a project."""
    sc = scenario([{"id": "A"}],
                  [{"id": "p", "site": "A", "capacity_kw": 10, "capex_jpy_per_kw": 100_000,
                    "opex_jpy_per_kw_year": 0, "useful_life_years": 20},
                   {"id": "e", "status": "existing"}],
                  [{"id": "b", "site": "A", "capacity_kwh": 10, "power_kw": 10,
                    "capex_jpy_per_kwh": 50_000, "opex_jpy_per_kwh_year": 0}],
                  options={"battery_efficiency": 1.0},
                  finance=dict({"purchase_price_jpy_per_kwh": 30,
                                "sale_price_jpy_per_kwh": 10}, **fin))
    return make_result(sc, pad([[0, 6, 1]]), pad([[6, 0, 0], [0, 0, 1]]))


def test_projects_share_the_benefit_without_double_counting():
    """See battery_case. Grant 2/3: p (1,000,000 − 666,667) / 60 = 5,555.6 yr
    (> 20: not within life); battery 6 yr default life (building-attached)."""
    res = battery_case()
    df = finance.projects(res.scenario, accounting.ledger(res), res.annual)
    assert list(df.index) == ["p", "b"]
    assert df.loc["p", "benefit_jpy_per_year"] == pytest.approx(60)
    assert df.loc["b", "benefit_jpy_per_year"] == pytest.approx(120)
    assert df.loc["b", "useful_life_years"] == 6
    assert df.loc["p", "payback_years"] == pytest.approx(1_000_000 / 3 / 60)
    assert not df.loc["p", "payback_within_life"]


def test_per_project_grant_rate_and_totals():
    """grant_rates: b 0.5, p default 2/3. capex 1,000,000 + 500,000 = 1,500,000;
    grant 666,667 + 250,000 = 916,667 (rate 0.611 < 2/3: lower); capex-weighted
    life (1,000,000 × 20 + 500,000 × 6) / 1,500,000 = 15.33 yr."""
    res = battery_case(grant_rates={"b": 0.5})
    ev = sim.evaluate(res)
    assert ev.capex_jpy == pytest.approx(1_500_000)
    assert ev.grant_jpy == pytest.approx(2 / 3 * 1_000_000 + 250_000)
    assert ev.lower_grant_rate
    assert ev.useful_life_years == pytest.approx((20e6 + 3e6) / 1.5e6)
    assert ev.benefit_jpy_per_year == pytest.approx(180)


def test_payback_formula():
    """(capex − grant) / (benefit − opex); total basis ignores the grant; never → inf."""
    assert finance.payback_years(1000, 400, 150, 50) == pytest.approx(6)
    assert finance.payback_years(1000, 400, 150, 50, "total") == pytest.approx(10)
    assert math.isinf(finance.payback_years(1000, 0, 50, 50))


def test_cost_per_t_co2_formula():
    """capex 1,000,000, grant 500,000, 2 t/yr over period 10 → 50,000 and 25,000 JPY/t."""
    import pandas as pd

    df = pd.DataFrame({"capex_jpy": [1e6], "grant_jpy": [5e5], "opex_jpy_per_year": [0.0],
                       "benefit_jpy_per_year": [1e5], "useful_life_years": [17.0]})
    spec = scenario([{"id": "A"}], finance={"period_years": 10}).finance
    t = finance.totals(df, 2.0, spec)
    assert t["cost_per_t_co2_total_jpy"] == pytest.approx(50_000)
    assert t["cost_per_t_co2_grant_jpy"] == pytest.approx(25_000)
    t = finance.totals(df, 2.0, scenario([{"id": "A"}]).finance)
    assert t["period_years"] == 17 and t["cost_per_t_co2_total_jpy"] == pytest.approx(1e6 / 34)
    assert math.isnan(t["cost_per_t_co2_total_projects_jpy"])  # no projects' CO2 given


def test_cost_per_t_co2_both_ways():
    """scoring (3) 「総事業費…に係るCO2削減量」 read two ways, both shown: capex
    1,000,000, grant 500,000, period 10 yr. The whole plan cuts 2 t/yr (existing
    plants, certificates and savings included): 1e6 / (2 × 10) = 50,000 JPY/t. The
    projects' own CO2 (Σ co2_t_per_year) is 0.5 t/yr: 1e6 / (0.5 × 10) = 200,000;
    grant 5e5 / 5 = 100,000 JPY/t."""
    import pandas as pd

    df = pd.DataFrame({"capex_jpy": [1e6], "grant_jpy": [5e5], "opex_jpy_per_year": [0.0],
                       "benefit_jpy_per_year": [1e5], "useful_life_years": [17.0],
                       "co2_t_per_year": [0.5]})
    spec = scenario([{"id": "A"}], finance={"period_years": 10}).finance
    t = finance.totals(df, 2.0, spec)
    assert t["cost_per_t_co2_total_jpy"] == pytest.approx(50_000)
    assert t["co2_reduction_projects_t"] == pytest.approx(0.5)
    assert t["cost_per_t_co2_total_projects_jpy"] == pytest.approx(200_000)
    assert t["cost_per_t_co2_grant_projects_jpy"] == pytest.approx(100_000)


def test_default_cost_table_has_every_kind_with_a_life():
    """Lives from docs/rules.md: PV/wind 17, steam 15, waste 15, battery 6/17."""
    t = finance.cost_table()
    assert t.loc[["pv", "wind", "biomass", "waste", "battery_onsite", "battery_community"],
                 "useful_life_years"].tolist() == [17, 17, 15, 15, 6, 17]


def test_missing_cost_table_is_an_input_error(tmp_path):
    sc = scenario([{"id": "A"}], finance={"costs": str(tmp_path / "nope.csv")})
    with pytest.raises(InputError, match="cost table not found"):
        finance.cost_table(sc)


def test_demo_projects(demo_result):
    """Demo: existing old_fit_pv is no project; repowered wind costs its whole
    2,400 kW; home and community batteries are projects."""
    df = finance.projects(demo_result.scenario, accounting.ledger(demo_result),
                          demo_result.annual)
    assert "old_fit_pv" not in df.index
    assert df.loc["wind", "capex_jpy"] == pytest.approx(2400 * 354_000)
    assert {"home_batteries", "community_battery"} <= set(df.index)
    assert np.isfinite(df["capex_jpy"]).all()
