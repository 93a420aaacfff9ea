"""The figures the 2030–2050 study reports per year and variant (問37).

:func:`sim.future` computes them (``sim.studies.future``); the score sheet's
rubric refers to them by name (``metric = "future.<variable>"``), so the
catalogue lives here, below both.
"""

from __future__ import annotations


VARIANTS = ("reference", "harsher", "milder")


# variable -> (units, description)
VARIABLES = {
    "population": ("persons", "population of the proposing municipality (projection)"),
    "households": ("households", "households of the proposing municipality (projection)"),
    "share_65plus": ("1", "share of the population aged 65+ (projection)"),
    "daytime_shift": ("1", "blend of the household shape towards elderly households"),
    "civil_demand_kwh": ("kWh", "civil-sector demand (民生: 家庭 + 業務その他)"),
    "civil_demand_net_kwh": ("kWh", "civil demand after savings"),
    "savings_kwh": ("kWh", "civil savings"),
    "generated_kwh": ("kWh", "renewable generated (all plants in service)"),
    "delivered_kwh": ("kWh", "renewable delivered to consumers, hourly matched"),
    "delivered_civil_kwh": ("kWh", "renewable delivered to civil consumers"),
    "spill_kwh": ("kWh", "renewable not used in the area (exported or curtailed)"),
    "grid_kwh": ("kWh", "non-renewable grid supply"),
    "utilisation": ("1", "delivered / generated: how much of the plants' output is used"),
    "spill_share": ("1", "spill / generated"),
    "renewable_supply_annual_kwh": ("kWh", "renewable supply, annual netting basis"),
    "renewable_supply_hourly_kwh": ("kWh", "renewable supply to civil demand, hourly basis"),
    "balance_annual_ratio": ("1", "(annual renewable supply + savings) / civil demand"),
    "balance_hourly_ratio": ("1", "(hourly-matched renewable supply + savings) / civil demand"),
    "balance_annual_ok": ("bool", "balance (実質ゼロ) holds on annual netting"),
    "balance_hourly_ok": ("bool", "balance (実質ゼロ) holds on hourly matching (問46)"),
    "self_consumption_rate": ("1", "自家消費率: on-site renewable consumed / renewable "
                              "supply to civil demand (hourly on an isolated grid, annual "
                              "elsewhere)"),
    "local_production_rate": ("1", "地産地消率: renewable supply generated in the local "
                              "scope / civil demand (on the evaluation's "
                              "local_production_basis; hourly on an isolated grid)"),
    "co2_reduction_t": ("t-CO2/yr", "CO2 reduction (sim.evaluate)"),
    "capex_jpy": ("JPY", "capital cost (sim.evaluate)"),
    "grant_jpy": ("JPY", "grant (交付金) (sim.evaluate)"),
    "opex_jpy_per_year": ("JPY/yr", "operating cost (sim.evaluate)"),
    "benefit_jpy_per_year": ("JPY/yr", "annual benefit (sim.evaluate)"),
    "payback_years": ("yr", "simple payback with this year's benefit (sim.evaluate)"),
    "capacity_in_service_kw": ("kW", "generating capacity in service (not retired)"),
    "battery_capacity_kwh": ("kWh", "battery energy capacity after fade"),
}
