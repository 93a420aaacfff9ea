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
    payback not yet computed). The arithmetic is :func:`project_arrays`'s,
    for one case.
    """
    spec = spec or scenario.finance
    gens = scenario.generators
    table = {name: np.zeros((1, len(gens))) for name in GENERATOR_COLUMNS}
    if any(g.status != "existing" for g in gens):
        pos = {gid: k for k, gid in enumerate(_labels(ledger, "generator"))}
        order = [pos[g.id] for g in gens]
        table = {name: _coord(ledger, name)[order][None, :] for name in GENERATOR_COLUMNS}
    flows = np.zeros((1, len(scenario.storage), 2))
    for i, b in enumerate(scenario.storage):
        if b.status == "existing":
            continue  # not a project: its flows are not needed
        if b.site == "community":
            flows[0, i] = (float(ledger.attrs.get("community_discharge_kwh", 0.0)),
                           float(ledger.attrs.get("community_charge_kwh", 0.0)))
        elif battery_flows is not None:
            flows[0, i] = battery_flows(b.site)
        else:
            flows[0, i] = (float(annual.loc[b.site, "discharge"]),
                           float(annual.loc[b.site, "charge"]))
    supply = counted_supply or {}
    arr = project_arrays(
        scenario, spec, table=table,
        capacity_kw=np.array([[float(g.capacity_kw) for g in gens]]).reshape(1, -1),
        storage_kwh=np.array([[float(b.capacity_kwh) for b in scenario.storage]]
                             ).reshape(1, -1),
        storage_flows=flows,
        counted_supply=np.array([[supply.get(g.id, 0.0) for g in gens]]).reshape(1, -1),
        co2_t_per_kwh=co2_t_per_kwh)
    cols = {k: (v.tolist() if isinstance(v, np.ndarray) and v.ndim == 1
                else v[0].tolist() if isinstance(v, np.ndarray) else list(v))
            for k, v in arr.items()}
    return {k: cols[k] for k in _PROJECT_FIELDS}


#: per-generator columns of the ledger that the generator projects read [kWh/yr]
GENERATOR_COLUMNS = ("generated", "direct", "pooled", "community", "to_storage", "spilled",
                     "unshared_export")


def project_arrays(scenario: Scenario, spec: FinanceSpec, *, table: dict,
                   capacity_kw: np.ndarray, storage_kwh: np.ndarray,
                   storage_flows: np.ndarray, counted_supply: np.ndarray,
                   co2_t_per_kwh: float) -> dict:
    """The projects of C cases at once (a sweep's chunk; one case for :func:`projects`).

    The cases share the scenario's rows (kinds, statuses, costs, sites); only
    the sizes and the flows differ.

    Parameters
    ----------
    scenario : Scenario
        Its generators (G) and storage rows (S), in order.
    spec : FinanceSpec
    table : dict of (C, G) arrays [kWh/yr]
        The ledger's generator columns :data:`GENERATOR_COLUMNS`.
    capacity_kw : (C, G) [kW], each generator's capacity in each case (0: absent)
    storage_kwh : (C, S) [kWh], each battery's capacity in each case (0: absent)
    storage_flows : (C, S, 2) [kWh/yr]
        (discharge, charge) of each battery's site (of the community battery
        for ``site = "community"``).
    counted_supply : (C, G) [kWh/yr], each generator's counted supply (its CO2)
    co2_t_per_kwh : float [t-CO2/kWh]

    Returns
    -------
    dict
        Per project (P, in :func:`projects`'s order): ``project, type, kind,
        status, unit, cost_source`` (lists), ``grant_rate, useful_life_years``
        (P,) and ``capacity, capex_jpy, opex_jpy_per_year, benefit_jpy_per_year,
        co2_t_per_year`` (C, P).
    """
    cost = _unit_costs(scenario)
    buy, sell = spec.purchase_price_jpy_per_kwh, spec.sale_price_jpy_per_kwh
    n_c = capacity_kw.shape[0]
    rows: list[dict] = []
    for k, g in enumerate(scenario.generators):
        if g.status == "existing":
            continue
        where = f"generators[{k}]"
        cap = capacity_kw[:, k]
        sold_direct = table["direct"][:, k] + table["pooled"][:, k] + table["community"][:, k]
        sold_cheap = (table["to_storage"][:, k] + table["spilled"][:, k]
                      + table["unshared_export"][:, k])
        # fuel is paid for every kWh generated (biomass, waste: issue 11); not for
        # the routes, which count energy passing through a battery twice
        fuel_jpy = getattr(g, "fuel_jpy_per_kwh", 0.0) * table["generated"][:, k]
        rows.append(dict(
            project=g.id, type="generator", kind=g.kind, status=g.status, unit="kW",
            grant_rate=0.0 if g.grant_funded is False
            else spec.grant_rates.get(g.id, spec.grant_rate),
            useful_life_years=cost(g.kind, "useful_life_years", where, g.useful_life_years),
            cost_source="scenario" if g.capex_jpy_per_kw is not None
            else "default (profiles/finance)",
            capacity=cap,
            capex_jpy=cost(g.kind, "capex_jpy_per_unit", where, g.capex_jpy_per_kw) * cap,
            opex_jpy_per_year=cost(g.kind, "opex_jpy_per_unit_year", where,
                                   g.opex_jpy_per_kw_year) * cap + fuel_jpy,
            benefit_jpy_per_year=sold_direct * buy + sold_cheap * sell,
            co2_t_per_year=counted_supply[:, k] * co2_t_per_kwh))
    rows += _battery_rows(scenario, spec, cost, storage_kwh, storage_flows)
    out: dict = {k: [r[k] for r in rows] for k in _STATIC_FIELDS}
    out["grant_rate"] = np.array([r["grant_rate"] for r in rows], dtype=float)
    out["useful_life_years"] = np.array([r["useful_life_years"] for r in rows], dtype=float)
    for k in _CASE_FIELDS:
        out[k] = (np.stack([np.broadcast_to(r[k], (n_c,)) for r in rows], axis=1) if rows
                  else np.zeros((n_c, 0)))
    return out


_STATIC_FIELDS = ("project", "type", "kind", "status", "unit", "cost_source")
_CASE_FIELDS = ("capacity", "capex_jpy", "opex_jpy_per_year", "benefit_jpy_per_year",
                "co2_t_per_year")


def _battery_rows(scenario, spec, cost, storage_kwh, storage_flows) -> list[dict]:
    """Rows of the new batteries: the margin between purchase and sale prices."""
    buy, sell = spec.purchase_price_jpy_per_kwh, spec.sale_price_jpy_per_kwh
    by_site: dict[str, np.ndarray] = {}
    for i, b in enumerate(scenario.storage):
        by_site[b.site] = by_site.get(b.site, 0.0) + storage_kwh[:, i]
    rows = []
    for i, b in enumerate(scenario.storage):
        if b.status == "existing":
            continue
        where = f"storage[{i}]"
        kind = "battery_community" if b.site == "community" else "battery_onsite"
        cap, total = storage_kwh[:, i], by_site[b.site]
        # a battery absent from a case (capacity 0) earns nothing
        share = np.divide(cap, total, out=np.zeros_like(cap), where=total > 0)
        out, into = storage_flows[:, i, 0], storage_flows[:, i, 1]
        rows.append(dict(
            project=b.id, type="battery", kind=kind, status=b.status, unit="kWh",
            grant_rate=spec.grant_rates.get(b.id, spec.grant_rate),
            useful_life_years=cost(kind, "useful_life_years", where, b.useful_life_years),
            cost_source="scenario" if b.capex_jpy_per_kwh is not None
            else "default (profiles/finance)",
            capacity=cap,
            capex_jpy=cost(kind, "capex_jpy_per_unit", where, b.capex_jpy_per_kwh) * cap,
            opex_jpy_per_year=cost(kind, "opex_jpy_per_unit_year", where,
                                   b.opex_jpy_per_kwh_year) * cap,
            benefit_jpy_per_year=share * (out * buy - into * sell),
            co2_t_per_year=0.0))
    return rows


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


def totals_of_arrays(arr: dict, co2_reduction_t: np.ndarray, spec: FinanceSpec) -> dict:
    """:func:`totals_of_columns` of C cases at once, from :func:`project_arrays`.

    Returns
    -------
    dict of (C,) arrays, keyed as :func:`totals`.
    """
    capex_p = arr["capex_jpy"]
    capex = np.nansum(capex_p, axis=1)
    grant = np.nansum(arr["grant_rate"] * capex_p, axis=1)
    opex = np.nansum(arr["opex_jpy_per_year"], axis=1)
    benefit = np.nansum(arr["benefit_jpy_per_year"], axis=1)
    life = _div(np.nansum(capex_p * arr["useful_life_years"], axis=1), capex, capex > 0)
    projects_t = np.nansum(arr["co2_t_per_year"], axis=1)
    return _totals_arrays(capex, grant, opex, benefit, life,
                          np.asarray(co2_reduction_t, float), spec, projects_t)


def _div(x, y, where, fill=math.nan):
    """x / y where ``where``, else ``fill`` (no warning for the others)."""
    return np.divide(x, y, out=np.full(np.shape(where), fill), where=where)


def _totals(capex, grant, opex, benefit, life, co2_reduction_t, spec, projects_t) -> dict:
    """:func:`_totals_arrays` of one case, as floats (and a bool)."""
    one = [np.array([v], dtype=float) for v in (capex, grant, opex, benefit, life,
                                                co2_reduction_t)]
    out = _totals_arrays(*one, spec, np.array([projects_t], dtype=float))
    return {k: bool(v[0]) if v.dtype == bool else float(v[0]) for k, v in out.items()}


def _totals_arrays(capex, grant, opex, benefit, life, co2_reduction_t, spec,
                   projects_t) -> dict:
    """Totals of C cases; the cost per t-CO2 both ways (scoring (3)): over the whole
    plan's reduction and over the projects' own (``projects_t``, Σ co2_t_per_year).
    Per case: payback (capex − grant, or capex) / (benefit − opex), 0 when nothing
    is to be paid back, infinite when benefit ≤ opex, NaN without capex."""
    period = (np.full_like(capex, spec.period_years) if spec.period_years is not None
              else life)
    built = capex > 0

    def per_t(x, annual_t):
        lifetime_t = annual_t * period  # NaN when the period is
        ok = built & (annual_t == annual_t)
        pos = ok & (lifetime_t > 0)
        return np.where(pos, _div(x, lifetime_t, pos), np.where(ok, math.inf, math.nan))

    cost = capex - grant if spec.payback_basis == "net_of_grant" else capex
    net = benefit - opex
    payback = np.where(cost <= 0, 0.0, np.where(net > 0, _div(cost, net, net > 0), math.inf))
    payback = np.where(built, payback, math.nan)
    rate = _div(grant, capex, built)
    return {
        "capex_jpy": capex,
        "grant_jpy": grant,
        "grant_rate": rate,
        "opex_jpy_per_year": opex,
        "benefit_jpy_per_year": benefit,
        "payback_years": payback,
        "useful_life_years": life,
        "payback_to_life_ratio": _div(payback, life, (life != 0) & (life == life)),
        "period_years": np.asarray(period, float),
        "cost_per_t_co2_total_jpy": per_t(capex, co2_reduction_t),
        "cost_per_t_co2_grant_jpy": per_t(grant, co2_reduction_t),
        "co2_reduction_projects_t": projects_t,
        "cost_per_t_co2_total_projects_jpy": per_t(capex, projects_t),
        "cost_per_t_co2_grant_projects_jpy": per_t(grant, projects_t),
        "lower_grant_rate": built & (rate < spec.standard_grant_rate - 1e-12),
    }
