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
                + fuel cost per kWh × kWh generated (biomass, waste)
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

    cost_per_t_co2_total = Σ capex / (co2_reduction_t × period)        (whole plan)
    cost_per_t_co2_grant = Σ grant / (co2_reduction_t × period)
    cost_per_t_co2_total_projects = Σ capex / (Σ co2_t_per_year_p × period)
    cost_per_t_co2_grant_projects = Σ grant / (Σ co2_t_per_year_p × period)

The table's 「総事業費…に係るCO2削減量」 reads as the projects' own reduction
(``co2_t_per_year_p``: a generator's counted supply × factor; of a repowered
plant only the additional share, 問42; batteries 0); the whole plan's
reduction also counts existing plants, certificates and savings. Both are
reported, labelled.

with ``period = [finance] period_years``, by default the capex-weighted mean
statutory useful life of the projects.

Default costs and lives per kind: ``profiles/finance/defaults.csv`` (see its
README for sources).

:func:`projects` returns the per-project table; :func:`project_columns` and
:func:`totals_of_columns` give the same projects and totals without a
DataFrame (the per-case path of :mod:`sim.evaluate` and of sweeps), equal to
the last bit.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.paths import PROFILES
from sim.inputs.scenario import FinanceSpec, Scenario

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


_COST_FIELDS = ("capex_jpy_per_unit", "opex_jpy_per_unit_year", "useful_life_years")
_LOOKUPS: dict[int, tuple] = {}


def _lookup(table: pd.DataFrame) -> dict | None:
    """``{kind: {column: float}}`` of a cost table (``None`` if a kind repeats):
    the values of :func:`_default` without a pandas look-up per row. Built once
    per table object (the tables are cached by :func:`_read_costs`)."""
    hit = _LOOKUPS.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    out = None
    if table.index.is_unique:
        out = {}
        for kind in table.index:
            try:
                out[kind] = {c: float(table.loc[kind, c]) for c in _COST_FIELDS}
            except (TypeError, ValueError):
                pass  # left to _default, which fails only if the kind is used
    if len(_LOOKUPS) > 16:
        _LOOKUPS.clear()
    _LOOKUPS[id(table)] = (table, out)
    return out


def _coord(ledger, name: str) -> np.ndarray:
    """A coordinate's values as floats, without building a DataArray per access."""
    var = ledger.coords.variables.get(name)
    return np.asarray((var if var is not None else ledger[name]).values, float)


def _labels(ledger, dim: str) -> list:
    """The labels along ``dim`` of a DataArray, as a list."""
    var = ledger.coords.variables.get(dim)
    return (var if var is not None else ledger[dim]).values.tolist()


#: per-project columns of :func:`project_columns`, in :func:`projects`'s order
_PROJECT_FIELDS = ("project", "type", "kind", "status", "capacity", "unit", "capex_jpy",
                   "grant_rate", "opex_jpy_per_year", "benefit_jpy_per_year",
                   "useful_life_years", "co2_t_per_year", "cost_source")


def project_columns(scenario: Scenario, ledger, annual: pd.DataFrame | None, *,
                    spec: FinanceSpec | None = None, co2_t_per_kwh: float = 0.0,
                    counted_supply: dict[str, float] | None = None,
                    battery_flows=None) -> dict[str, list]:
    """The projects of :func:`projects` as plain columns (lists), no DataFrame.

    Same arguments as :func:`projects`; ``battery_flows``, optional, is a
    function ``site -> (discharge, charge)`` [kWh/yr] replacing the look-up
    in ``annual``. Returns a dict of equal-length lists keyed by
    :data:`_PROJECT_FIELDS` (``grant_rate`` included, ``grant_jpy`` and the
    payback not yet computed). Used by :func:`projects` and, for totals only,
    by :mod:`sim.evaluate`.
    """
    spec = spec or scenario.finance
    cols: dict[str, list] = {k: [] for k in _PROJECT_FIELDS}
    unit_cost = _unit_costs(scenario)
    for row in _generator_projects(scenario, ledger, spec, unit_cost, co2_t_per_kwh,
                                   counted_supply or {}):
        _append(cols, row)
    for row in _battery_projects(scenario, ledger, annual, spec, unit_cost, battery_flows):
        _append(cols, row)
    return cols


def _append(cols: dict[str, list], row: dict) -> None:
    for k, v in row.items():
        cols[k].append(v)


def _unit_costs(scenario: Scenario):
    """``cost(kind, column, where, given)``: the row's own figure when given, else the
    cost table's default (a missing kind is :func:`_default`'s one-line error)."""
    table = cost_table(scenario)
    lookup = _lookup(table)

    def cost(kind, column, where, given=None):
        if given is not None:
            return given
        if lookup is None or kind not in lookup:
            return _default(table, kind, column, where)
        return lookup[kind][column]

    return cost


def _generator_projects(scenario, ledger, spec, cost, co2_t_per_kwh, supply_of):
    """Rows of the new and repowered generators (a repowered plant is costed whole)."""
    gens = scenario.generators
    if all(g.status == "existing" for g in gens):
        return
    gen_ids = _labels(ledger, "generator") if "generator" in ledger.dims else []
    pos = {gid: k for k, gid in enumerate(gen_ids)}
    col = {name: _coord(ledger, name) for name in
           ("generated", "direct", "pooled", "community", "to_storage", "spilled",
            "unshared_export")}
    buy, sell = spec.purchase_price_jpy_per_kwh, spec.sale_price_jpy_per_kwh
    for i, g in enumerate(gens):
        if g.status == "existing":
            continue
        where = f"generators[{i}]"
        capex_u = cost(g.kind, "capex_jpy_per_unit", where, g.capex_jpy_per_kw)
        opex_u = cost(g.kind, "opex_jpy_per_unit_year", where, g.opex_jpy_per_kw_year)
        life = cost(g.kind, "useful_life_years", where, g.useful_life_years)
        k = pos[g.id]
        sold_direct = col["direct"][k] + col["pooled"][k] + col["community"][k]
        sold_cheap = col["to_storage"][k] + col["spilled"][k] + col["unshared_export"][k]
        # fuel is paid for every kWh generated (biomass, waste: issue 11); not for
        # the routes, which count energy passing through a battery twice
        fuel_jpy = getattr(g, "fuel_jpy_per_kwh", 0.0) * col["generated"][k]
        yield dict(project=g.id, type="generator", kind=g.kind, status=g.status,
                   capacity=g.capacity_kw, unit="kW", capex_jpy=capex_u * g.capacity_kw,
                   grant_rate=0.0 if g.grant_funded is False
                   else spec.grant_rates.get(g.id, spec.grant_rate),
                   opex_jpy_per_year=opex_u * g.capacity_kw + fuel_jpy,
                   benefit_jpy_per_year=sold_direct * buy + sold_cheap * sell,
                   useful_life_years=life,
                   co2_t_per_year=supply_of.get(g.id, 0.0) * co2_t_per_kwh,
                   cost_source="scenario" if g.capex_jpy_per_kw is not None
                   else "default (profiles/finance)")


def _battery_projects(scenario, ledger, annual, spec, cost, battery_flows):
    """Rows of the new batteries: the margin between purchase and sale prices."""
    buy, sell = spec.purchase_price_jpy_per_kwh, spec.sale_price_jpy_per_kwh
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
        elif battery_flows is not None:
            out, into = battery_flows(b.site)
        else:
            out = float(annual.loc[b.site, "discharge"])
            into = float(annual.loc[b.site, "charge"])
        share = b.capacity_kwh / by_site[b.site]
        capex_u = cost(kind, "capex_jpy_per_unit", where, b.capex_jpy_per_kwh)
        opex_u = cost(kind, "opex_jpy_per_unit_year", where, b.opex_jpy_per_kwh_year)
        life = cost(kind, "useful_life_years", where, b.useful_life_years)
        yield dict(project=b.id, type="battery", kind=kind, status=b.status,
                   capacity=b.capacity_kwh, unit="kWh", capex_jpy=capex_u * b.capacity_kwh,
                   grant_rate=spec.grant_rates.get(b.id, spec.grant_rate),
                   opex_jpy_per_year=opex_u * b.capacity_kwh,
                   benefit_jpy_per_year=share * (out * buy - into * sell),
                   useful_life_years=life, co2_t_per_year=0.0,
                   cost_source="scenario" if b.capex_jpy_per_kwh is not None
                   else "default (profiles/finance)")


def projects(scenario: Scenario, ledger, annual: pd.DataFrame, *,
             spec: FinanceSpec | None = None, co2_t_per_kwh: float = 0.0,
             counted_supply: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per project with its costs, benefit and payback.

    Parameters
    ----------
    scenario : Scenario
    ledger : xarray.DataArray (generator, consumer)
        From :func:`sim.core.accounting.ledger` (per-generator coordinates used:
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
    cols = project_columns(scenario, ledger, annual, spec=spec, co2_t_per_kwh=co2_t_per_kwh,
                           counted_supply=counted_supply)
    return projects_frame(cols, spec)


def projects_frame(cols: dict[str, list], spec: FinanceSpec) -> pd.DataFrame:
    """The DataFrame of :func:`projects` from :func:`project_columns`."""
    out = ["type", "kind", "status", "capacity", "unit", "capex_jpy", "grant_rate",
           "grant_jpy", "opex_jpy_per_year", "benefit_jpy_per_year", "payback_years",
           "useful_life_years", "payback_within_life", "co2_t_per_year", "cost_source"]
    if not cols["project"]:
        return pd.DataFrame(columns=out, index=pd.Index([], name="project"))
    rows = [dict(project=p, type=t, kind=k, status=s, capacity=c, unit=u, capex_jpy=x,
                 opex_jpy_per_year=o, benefit_jpy_per_year=b, useful_life_years=lf,
                 co2_t_per_year=co2, cost_source=src)
            for p, t, k, s, c, u, x, o, b, lf, co2, src in zip(
                cols["project"], cols["type"], cols["kind"], cols["status"],
                cols["capacity"], cols["unit"], cols["capex_jpy"], cols["opex_jpy_per_year"],
                cols["benefit_jpy_per_year"], cols["useful_life_years"],
                cols["co2_t_per_year"], cols["cost_source"])]
    df = pd.DataFrame(rows).set_index("project")
    df["grant_rate"] = cols["grant_rate"]
    df["grant_jpy"] = df["grant_rate"] * df["capex_jpy"]
    df["payback_years"] = [
        payback_years(c, gr, b, o, spec.payback_basis)
        for c, gr, b, o in zip(df["capex_jpy"], df["grant_jpy"], df["benefit_jpy_per_year"],
                               df["opex_jpy_per_year"])]
    df["payback_within_life"] = df["payback_years"] <= df["useful_life_years"]
    return df[out]


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
    # a table without the projects' CO2 cannot give their cost per t-CO2
    projects_t = float(df["co2_t_per_year"].sum()) if "co2_t_per_year" in df else math.nan
    return _totals(capex, grant, opex, benefit, life, co2_reduction_t, spec, projects_t)


def totals_of_columns(cols: dict[str, list], co2_reduction_t: float,
                      spec: FinanceSpec) -> dict:
    """:func:`totals` of ``projects_frame(cols, spec)``, without the DataFrame.

    The same numpy operations as the pandas sums (NaN skipped, summed in the
    same order), so the figures are equal to the last bit.
    """
    capex_p = np.asarray(cols["capex_jpy"], dtype=float)
    grant_p = np.asarray(cols["grant_rate"], dtype=float) * capex_p
    life_p = np.asarray(cols["useful_life_years"], dtype=float)
    capex = float(np.nansum(capex_p))
    grant = float(np.nansum(grant_p))
    opex = float(np.nansum(np.asarray(cols["opex_jpy_per_year"], dtype=float)))
    benefit = float(np.nansum(np.asarray(cols["benefit_jpy_per_year"], dtype=float)))
    life = float(np.nansum(capex_p * life_p) / capex) if capex > 0 else math.nan
    projects_t = float(np.nansum(np.asarray(cols["co2_t_per_year"], dtype=float)))
    return _totals(capex, grant, opex, benefit, life, co2_reduction_t, spec, projects_t)


def _totals(capex, grant, opex, benefit, life, co2_reduction_t, spec, projects_t) -> dict:
    """Totals; the cost per t-CO2 both ways (scoring (3)): over the whole plan's
    reduction and over the projects' own (``projects_t``, Σ co2_t_per_year)."""
    period = spec.period_years if spec.period_years is not None else life

    def per_t(x, annual_t):
        lifetime_t = annual_t * period if period == period else math.nan
        if capex <= 0 or annual_t != annual_t:
            return math.nan
        return x / lifetime_t if lifetime_t and lifetime_t > 0 else math.inf

    payback = payback_years(capex, grant, benefit, opex, spec.payback_basis) if capex > 0 \
        else math.nan
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
        "cost_per_t_co2_total_jpy": per_t(capex, co2_reduction_t),
        "cost_per_t_co2_grant_jpy": per_t(grant, co2_reduction_t),
        "co2_reduction_projects_t": projects_t,
        "cost_per_t_co2_total_projects_jpy": per_t(capex, projects_t),
        "cost_per_t_co2_grant_projects_jpy": per_t(grant, projects_t),
        "lower_grant_rate": bool(rate < spec.standard_grant_rate - 1e-12) if capex > 0
        else False,
    }
