"""Finance per project and in total: capital cost, grant, opex, benefit, payback,
cost per t-CO2 (scoring table (3) 事業性).

A *project* is a generator with ``status`` ``new`` or ``repowered`` (a
repowered plant is built whole, so its whole capacity is costed) and a
battery with ``status = "new"``. Existing equipment is sunk: not a project.

Formulas (per project *p*; totals add capex, grant, opex and benefit over
projects)::

    capex_p   = capacity_p × capex per kW (or kWh)           [JPY]
    grant_p   = grant_rate_p × capex_p                        [JPY]
    opex_p    = capacity_p × opex per kW (or kWh) and year    [JPY/yr]
    benefit_p (generator) = (direct + pooled + community) × purchase price
                            + (to_storage + spilled + unshared_export) × sale price
    benefit_p (battery)   = discharge × purchase price − charge × sale price
    payback_p = (capex_p − grant_p) / (benefit_p − opex_p)    [yr]   (net_of_grant)
              = capex_p / (benefit_p − opex_p)                       (total)
              (infinite when benefit ≤ opex)

so that generators and batteries share the benefit without counting it twice
(the battery earns the margin between the purchase price it avoids and the
sale price its charge would have fetched). Cost per t-CO2 — the usual form of
the programme's 費用効率性 (cost over lifetime reduction)::

    cost_per_t_co2_total = Σ capex / (co2_reduction_t × period)
    cost_per_t_co2_grant = Σ grant / (co2_reduction_t × period)

with ``period = [finance] period_years``, by default the capex-weighted mean
statutory useful life of the projects.

Default costs and lives per kind: ``profiles/finance/defaults.csv`` (see its
README for sources).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.paths import PROFILES
from sim.scenario import FinanceSpec, Scenario

DEFAULTS = PROFILES / "finance" / "defaults.csv"
_COLUMNS = ("kind", "unit", "capex_jpy_per_unit", "opex_jpy_per_unit_year",
            "useful_life_years")


@functools.lru_cache(maxsize=8)
def _read_costs(path: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError("cost table not found", source=path) from None
    missing = [c for c in _COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"expected columns {', '.join(_COLUMNS)}; missing {missing}",
                         source=path)
    return df.set_index("kind")


def cost_table(scenario: Scenario | None = None) -> pd.DataFrame:
    """Default costs and useful lives per kind (``profiles/finance/defaults.csv``
    or ``[finance] costs``), indexed by kind."""
    path = DEFAULTS
    if scenario is not None and scenario.finance.costs:
        path = scenario.resolve(scenario.finance.costs)
    return _read_costs(str(path))


def _default(table, kind, column, where):
    if kind not in table.index:
        raise InputError(f"no default {column} for kind {kind!r} in the cost table; "
                         f"give it on the row", field=where)
    return float(table.loc[kind, column])


def projects(scenario: Scenario, ledger, annual: pd.DataFrame, *,
             spec: FinanceSpec | None = None, co2_t_per_kwh: float = 0.0,
             counted_supply: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per project with its costs, benefit and payback.

    Parameters
    ----------
    scenario : Scenario
    ledger : xarray.DataArray (generator, consumer)
        From :func:`sim.accounting.ledger` (per-generator coordinates used:
        ``direct, pooled, community, to_storage, spilled, unshared_export``).
    annual : pandas.DataFrame
        Per consumer (``charge``, ``discharge`` for on-site batteries).
    spec : FinanceSpec, optional
        Defaults to ``scenario.finance``.
    co2_t_per_kwh : float
        Emission factor [t-CO2/kWh] for each generator's CO2 reduction.
    counted_supply : dict, optional
        Counted supply of each generator [kWh/yr] (from :mod:`sim.evaluate`).

    Returns
    -------
    pandas.DataFrame
        Index ``project``; columns ``type`` (generator/battery), ``kind``,
        ``status``, ``capacity``, ``unit``, ``capex_jpy``, ``grant_rate``,
        ``grant_jpy``, ``opex_jpy_per_year``, ``benefit_jpy_per_year``,
        ``payback_years``, ``useful_life_years``, ``payback_within_life``,
        ``co2_t_per_year``, ``cost_source``.
    """
    spec = spec or scenario.finance
    table = cost_table(scenario)
    buy, sell = spec.purchase_price_jpy_per_kwh, spec.sale_price_jpy_per_kwh
    rows = []
    gen_ids = list(ledger["generator"].values) if "generator" in ledger.dims else []
    col = {name: dict(zip(gen_ids, np.asarray(ledger[name].values, float)))
           for name in ("direct", "pooled", "community", "to_storage", "spilled",
                        "unshared_export")}
    for i, g in enumerate(scenario.generators):
        if g.status == "existing":
            continue
        where = f"generators[{i}]"
        capex_u = g.capex_jpy_per_kw
        opex_u = g.opex_jpy_per_kw_year
        life = g.useful_life_years
        source = "scenario" if capex_u is not None else "default (profiles/finance)"
        capex_u = capex_u if capex_u is not None else _default(
            table, g.kind, "capex_jpy_per_unit", where)
        opex_u = opex_u if opex_u is not None else _default(
            table, g.kind, "opex_jpy_per_unit_year", where)
        life = life if life is not None else _default(table, g.kind, "useful_life_years", where)
        sold_direct = col["direct"][g.id] + col["pooled"][g.id] + col["community"][g.id]
        sold_cheap = col["to_storage"][g.id] + col["spilled"][g.id] + col["unshared_export"][g.id]
        supply = (counted_supply or {}).get(g.id, 0.0)
        rows.append(dict(project=g.id, type="generator", kind=g.kind, status=g.status,
                         capacity=g.capacity_kw, unit="kW", capex_jpy=capex_u * g.capacity_kw,
                         opex_jpy_per_year=opex_u * g.capacity_kw,
                         benefit_jpy_per_year=sold_direct * buy + sold_cheap * sell,
                         useful_life_years=life, co2_t_per_year=supply * co2_t_per_kwh,
                         cost_source=source))
    by_site: dict[str, float] = {}
    for b in scenario.storage:
        by_site[b.site] = by_site.get(b.site, 0.0) + b.capacity_kwh
    for i, b in enumerate(scenario.storage):
        if b.status == "existing":
            continue
        where = f"storage[{i}]"
        kind = "battery_community" if b.site == "community" else "battery_onsite"
        if b.site == "community":
            out = float(ledger.attrs.get("community_discharge_kwh", 0.0))
            into = float(ledger.attrs.get("community_charge_kwh", 0.0))
        else:
            out = float(annual.loc[b.site, "discharge"])
            into = float(annual.loc[b.site, "charge"])
        share = b.capacity_kwh / by_site[b.site]
        capex_u = b.capex_jpy_per_kwh
        source = "scenario" if capex_u is not None else "default (profiles/finance)"
        capex_u = capex_u if capex_u is not None else _default(
            table, kind, "capex_jpy_per_unit", where)
        opex_u = b.opex_jpy_per_kwh_year if b.opex_jpy_per_kwh_year is not None else _default(
            table, kind, "opex_jpy_per_unit_year", where)
        life = b.useful_life_years if b.useful_life_years is not None else _default(
            table, kind, "useful_life_years", where)
        rows.append(dict(project=b.id, type="battery", kind=kind, status=b.status,
                         capacity=b.capacity_kwh, unit="kWh", capex_jpy=capex_u * b.capacity_kwh,
                         opex_jpy_per_year=opex_u * b.capacity_kwh,
                         benefit_jpy_per_year=share * (out * buy - into * sell),
                         useful_life_years=life, co2_t_per_year=0.0, cost_source=source))
    cols = ["type", "kind", "status", "capacity", "unit", "capex_jpy", "grant_rate",
            "grant_jpy", "opex_jpy_per_year", "benefit_jpy_per_year", "payback_years",
            "useful_life_years", "payback_within_life", "co2_t_per_year", "cost_source"]
    if not rows:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="project"))
    df = pd.DataFrame(rows).set_index("project")
    df["grant_rate"] = [spec.grant_rates.get(p, spec.grant_rate) for p in df.index]
    df["grant_jpy"] = df["grant_rate"] * df["capex_jpy"]
    df["payback_years"] = [
        payback_years(c, gr, b, o, spec.payback_basis)
        for c, gr, b, o in zip(df["capex_jpy"], df["grant_jpy"], df["benefit_jpy_per_year"],
                               df["opex_jpy_per_year"])]
    df["payback_within_life"] = df["payback_years"] <= df["useful_life_years"]
    return df[cols]


def payback_years(capex: float, grant: float, benefit: float, opex: float,
                  basis: str = "net_of_grant") -> float:
    """Simple payback [yr]: (capex − grant, or capex) / (benefit − opex); inf if never."""
    cost = capex - grant if basis == "net_of_grant" else capex
    net = benefit - opex
    if cost <= 0:
        return 0.0
    return cost / net if net > 0 else math.inf


def totals(df: pd.DataFrame, co2_reduction_t: float, spec: FinanceSpec) -> dict:
    """Total finance figures over projects (see the module docstring for formulas).

    Returns
    -------
    dict
        ``capex_jpy``, ``grant_jpy``, ``grant_rate`` (grant / capex),
        ``opex_jpy_per_year``, ``benefit_jpy_per_year``, ``payback_years``,
        ``useful_life_years`` (capex-weighted), ``payback_to_life_ratio``,
        ``period_years``, ``cost_per_t_co2_total_jpy``,
        ``cost_per_t_co2_grant_jpy``, ``lower_grant_rate``.
    """
    capex = float(df["capex_jpy"].sum())
    grant = float(df["grant_jpy"].sum())
    opex = float(df["opex_jpy_per_year"].sum())
    benefit = float(df["benefit_jpy_per_year"].sum())
    life = float((df["capex_jpy"] * df["useful_life_years"]).sum() / capex) if capex > 0 \
        else math.nan
    period = spec.period_years if spec.period_years is not None else life
    payback = payback_years(capex, grant, benefit, opex, spec.payback_basis) if capex > 0 \
        else math.nan
    lifetime_t = co2_reduction_t * period if period == period else math.nan
    per_t = (lambda x: x / lifetime_t if lifetime_t and lifetime_t > 0 else math.inf)
    rate = grant / capex if capex > 0 else math.nan
    return {
        "capex_jpy": capex,
        "grant_jpy": grant,
        "grant_rate": rate,
        "opex_jpy_per_year": opex,
        "benefit_jpy_per_year": benefit,
        "payback_years": payback,
        "useful_life_years": life,
        "payback_to_life_ratio": payback / life if life and life == life else math.nan,
        "period_years": period,
        "cost_per_t_co2_total_jpy": per_t(capex) if capex > 0 else math.nan,
        "cost_per_t_co2_grant_jpy": per_t(grant) if capex > 0 else math.nan,
        "lower_grant_rate": bool(rate < spec.standard_grant_rate - 1e-12) if capex > 0
        else False,
    }
