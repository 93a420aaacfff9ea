"""``sim.evaluate``: the programme's figures from a simulated year.

:func:`evaluate` takes a :class:`sim.Result`; the work is done by
:func:`evaluate_totals` on **annual totals only** (the attribution ledger and
the per-consumer annual table), so a batch sweep that never builds an hourly
Dataset calls the same function::

    from sim.core.accounting import attribute, ledger_dataarray
    from sim.programme.evaluate import evaluate_totals      # (``sim.evaluate`` is the function)

    att = attribute(generation, site_index, flows, efficiency=...)
    ev = evaluate_totals(scenario, ledger_dataarray(scenario, att), annual)

Every figure (unit, definition, Japanese term, FAQ source) is listed in
:data:`FIGURES` and in ``docs/figures.md``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.programme import finance, rules
from sim.errors import InputError
from sim.inputs.scenario import AccountingSpec, FinanceSpec, Scenario

#: relative tolerance of the balance tests (rounding of float sums)
BALANCE_RTOL = 1e-9


def _f(unit: str, ja: str, source: str, definition: str):
    return field(default=math.nan, metadata=dict(unit=unit, ja=ja, source=source,
                                                 definition=definition))


@dataclass
class Evaluation:
    """The programme's figures for one simulated year (civil sector = 民生部門).

    Every field has a unit and a one-line definition in its metadata (see
    :data:`FIGURES`, ``docs/figures.md``). "Counted" means renewable or
    renewable-equivalent energy that the rules let count (問27, 問31);
    "delivered" means hourly matched by the kernel and traced through the
    ledger (:mod:`sim.core.accounting`).
    """

    region: str = field(default="", metadata=dict(unit="-", ja="地域", source="",
                                                  definition="region name"))
    year: int = field(default=0, metadata=dict(unit="-", ja="年", source="",
                                               definition="simulated calendar year"))
    # demand
    civil_demand_kwh: float = _f("kWh/yr", "民生部門電力需要量", "scoring (4)①, 問1",
                                 "demand of civil consumers before savings")
    civil_demand_after_savings_kwh: float = _f("kWh/yr", "省エネ後需要量", "scoring (4)①",
                                               "civil demand after savings")
    evaluated_demand_kwh: float = _f(
        "kWh/yr", "評価対象の電力需要量", "問24, 問25",
        "civil demand weighted: added public ×0.5, added private ×0.75 (model case ×1.0), "
        "municipal waste plant ×0")
    savings_kwh: float = _f("kWh/yr", "省エネによる削減量", "scoring (4)①",
                            "civil demand saved (gross − after savings)")
    non_civil_demand_kwh: float = _f("kWh/yr", "民生部門以外の電力需要量", "問1",
                                     "demand of non-civil consumers (industry, transport)")
    # supply and balance
    renewable_supply_annual_kwh: float = _f(
        "kWh/yr", "再エネ等の電力供給量（年間積み上げ）", "scoring (4)①, 問27, 問31",
        "counted generation not consumed by non-civil consumers, + certificates (annual netting)")
    renewable_supply_hourly_kwh: float = _f(
        "kWh/yr", "再エネ等の電力供給量（時間同時同量）", "問46",
        "counted energy delivered to civil consumers hour by hour, + certificates")
    netting_gap_kwh: float = _f("kWh/yr", "年間積み上げと時間同量の差", "問46",
                                "renewable_supply_annual − renewable_supply_hourly")
    coverage_annual: float = _f("-", "実質ゼロ充足率（年間）", "scoring (4)①",
                                "(annual supply + savings) / civil demand")
    coverage_hourly: float = _f("-", "実質ゼロ充足率（時間）", "問46",
                                "(hourly supply + savings) / civil demand")
    balance_annual_ok: bool = field(default=False, metadata=dict(
        unit="bool", ja="実質ゼロ（年間）", source="scoring (4)①",
        definition="annual supply + savings ≥ civil demand"))
    balance_hourly_ok: bool = field(default=False, metadata=dict(
        unit="bool", ja="実質ゼロ（時間）", source="問46",
        definition="hourly supply + savings ≥ civil demand"))
    self_consumption_rate: float = _f(
        "-", "自家消費率", "scoring (4)①",
        "counted on-site energy used at civil sites (direct + own battery) / hourly supply")
    local_production_rate: float = _f(
        "-", "地産地消率", "scoring (4)①, 問26",
        "renewable from the local scope delivered to civil consumers / civil demand")
    local_production_rate_annual: float = _f(
        "-", "地産地消率（年間積み上げ）", "問26",
        "min(1, local counted renewable not used by non-civil consumers / civil demand)")
    # renewable categories
    renewable_kwh: float = _f("kWh/yr", "再エネ電力量", "問27, 問31",
                              "renewable part (excl. plastic) delivered to civil consumers")
    renewable_equivalent_kwh: float = _f(
        "kWh/yr", "再エネ等（再エネ以外）", "問31",
        "plastic share of waste power delivered to civil consumers + certificates")
    certificates_kwh: float = _f("kWh/yr", "証書", "問31",
                                 "certificates attached to civil supply (scenario input)")
    not_counted_kwh: float = _f("kWh/yr", "算入不可（環境価値なし）", "問27",
                                "energy from FIT/FIP plants without the environmental value "
                                "delivered to civil consumers (reported, not counted)")
    not_counted_generation_kwh: float = _f("kWh/yr", "算入不可の発電量", "問27",
                                           "generation of FIT/FIP plants without the value")
    non_civil_supply_kwh: float = _f("kWh/yr", "民生部門以外への再エネ等供給", "scoring (4)②",
                                     "counted energy delivered to non-civil consumers")
    generation_kwh: float = _f("kWh/yr", "発電量", "", "output of all generators")
    spilled_kwh: float = _f("kWh/yr", "余剰（域外・抑制）", "問46",
                            "generation not delivered in the area (spill, unshared "
                            "exports, battery losses and end-of-year storage)")
    # additionality
    additional_capacity_kw: float = _f(
        "kW", "追加的な再エネ導入量（設備容量）", "scoring (5), 問42",
        "new capacity inside the area (repowered: increase only; waste: × biomass ratio)")
    additional_energy_kwh: float = _f(
        "kWh/yr", "追加的な再エネ導入量（発電量）", "scoring (5), 問42",
        "renewable output of that new capacity inside the area")
    additional_energy_share: float = _f("-", "追加再エネ比率", "scoring (5)",
                                        "additional_energy / civil demand")
    existing_capacity_kw: float = _f("kW", "既存の再エネ発電設備", "問42",
                                     "counted renewable capacity that is not additional")
    existing_energy_kwh: float = _f("kWh/yr", "既存再エネ発電量", "問42",
                                    "renewable output of existing capacity")
    # waste
    waste_biomass_kwh: float = _f("kWh/yr", "廃棄物発電（バイオマス相当）", "問31",
                                  "waste power × biomass ratio")
    waste_plastic_kwh: float = _f("kWh/yr", "廃棄物発電（プラスチック相当）", "問31",
                                  "waste power × (1 − biomass ratio)")
    plastic_supplied_kwh: float = _f("kWh/yr", "プラスチック相当の供給量", "問31",
                                     "counted plastic share supplied to civil demand (co2 basis)")
    plastic_co2_t: float = _f("t-CO2/yr", "非エネルギー起源CO2（削減推奨量）", "問31",
                              "plastic_supplied × plastic factor: the cut 問31 recommends "
                              "elsewhere")
    # CO2
    emission_factor_kg_per_kwh: float = _f("kg-CO2/kWh", "排出係数", "rules.md",
                                           "CO2 factor of the grid power displaced")
    emission_factor_source: str = field(default="", metadata=dict(
        unit="-", ja="排出係数の出典", source="", definition="where the factor comes from"))
    co2_basis: str = field(default="", metadata=dict(
        unit="-", ja="CO2算定の基準", source="", definition="'hourly' or 'annual' supply"))
    co2_reduction_t: float = _f("t-CO2/yr", "CO2削減量", "scoring (3)",
                                "(civil supply on the co2 basis + savings) × emission factor")
    co2_reduction_net_t: float = _f("t-CO2/yr", "CO2削減量（非エネ起源控除後）", "問31",
                                    "co2_reduction − plastic_co2")
    co2_reduction_non_civil_t: float = _f("t-CO2/yr", "民生部門以外のCO2削減量",
                                          "scoring (4)②",
                                          "non_civil_supply × emission factor")
    # finance
    capex_jpy: float = _f("JPY", "総事業費（設備費）", "scoring (3)",
                          "capital cost of new/repowered generators and new batteries")
    grant_jpy: float = _f("JPY", "交付金", "scoring (3)", "Σ grant_rate × capex")
    grant_rate: float = _f("-", "交付率", "scoring (3)", "grant / capex")
    lower_grant_rate: bool = field(default=False, metadata=dict(
        unit="bool", ja="国の交付率より低い交付率", source="scoring (3)",
        definition="grant rate below [finance] standard_grant_rate"))
    opex_jpy_per_year: float = _f("JPY/yr", "運転維持費", "scoring (3)",
                                  "operating cost of the projects")
    benefit_jpy_per_year: float = _f("JPY/yr", "年間便益", "scoring (3)",
                                     "avoided purchase + sales of the projects")
    payback_years: float = _f("yr", "投資回収年数", "scoring (3)",
                              "(capex − grant) / (benefit − opex); inf (null) if never")
    useful_life_years: float = _f("yr", "法定耐用年数（加重平均）", "scoring (3)",
                                  "capex-weighted statutory useful life of the projects")
    payback_to_life_ratio: float = _f("-", "回収年数／耐用年数", "scoring (3)",
                                      "payback_years / useful_life_years")
    period_years: float = _f("yr", "費用効率性の算定期間", "scoring (3)",
                             "period of the cost per t-CO2 (default: useful life)")
    cost_per_t_co2_total_jpy: float = _f("JPY/t-CO2", "CO2削減量1トン当たりの費用（総事業費）",
                                         "scoring (3)", "capex / (co2_reduction × period)")
    cost_per_t_co2_grant_jpy: float = _f("JPY/t-CO2", "CO2削減量1トン当たりの費用（交付金）",
                                         "scoring (3)", "grant / (co2_reduction × period)")
    notes: str = field(default="", metadata=dict(unit="-", ja="注記", source="",
                                                 definition="assumptions and warnings"))

    def to_dict(self) -> dict:
        """A flat, JSON-serialisable dict (NaN and infinity become ``None``)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, (bool, np.bool_)):
                v = bool(v)
            elif isinstance(v, (int, np.integer)):
                v = int(v)
            elif isinstance(v, (float, np.floating)):
                v = float(v) if math.isfinite(v) else None
            out[f.name] = v
        return out


#: key -> (unit, Japanese term, source, definition) of every Evaluation figure
FIGURES = {f.name: (f.metadata["unit"], f.metadata["ja"], f.metadata["source"],
                    f.metadata["definition"]) for f in dataclasses.fields(Evaluation)}

_ACC = set(AccountingSpec.model_fields)
_FIN = set(FinanceSpec.model_fields)


def _with_overrides(scenario: Scenario, overrides: dict) -> tuple[AccountingSpec, FinanceSpec]:
    acc = {k: v for k, v in overrides.items() if k in _ACC}
    fin = {k: v for k, v in overrides.items() if k in _FIN}
    unknown = set(overrides) - _ACC - _FIN
    if unknown:
        raise InputError(f"unknown override(s) {sorted(unknown)}; expected fields of "
                         f"[accounting] or [finance]", field="evaluate")
    try:
        a = AccountingSpec(**{**scenario.accounting.model_dump(), **acc})
        f = FinanceSpec(**{**scenario.finance.model_dump(), **fin})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(err["msg"].removeprefix("Value error, "),
                         field=".".join(str(x) for x in err["loc"])) from None
    return a, f


def evaluate_totals(scenario: Scenario, ledger, annual: pd.DataFrame, *,
                    accounting=None, finance_spec=None, with_projects=False, **overrides):
    """The programme's figures from annual totals (no hourly data needed).

    Parameters
    ----------
    scenario : Scenario
    ledger : xarray.DataArray (generator, consumer) [kWh/yr]
        From :func:`sim.core.accounting.ledger` or :func:`sim.core.accounting.ledger_dataarray`
        (with its per-generator coordinates ``generated``, ``self_consumed`` …).
    annual : pandas.DataFrame
        Per consumer, indexed by consumer id: ``demand_gross``, ``demand``,
        ``savings``, ``charge``, ``discharge`` [kWh/yr] (``Result.annual``).
    accounting, finance_spec : AccountingSpec, FinanceSpec, optional
        Replace the scenario's sections.
    with_projects : bool
        Also return the per-project finance table.
    **overrides
        Fields of ``[accounting]`` or ``[finance]`` (e.g.
        ``emission_factor_kg_per_kwh=0.7``, ``grant_rate=0.5``).

    Returns
    -------
    Evaluation, or (Evaluation, pandas.DataFrame) with ``with_projects``
    """
    acc, fin = _with_overrides(scenario, overrides)
    acc = accounting or acc
    fin = finance_spec or fin
    notes: list[str] = []
    cons = scenario.consumers
    gens = scenario.generators
    ids = [c.id for c in cons]
    # annual rows in scenario order (no reindexing when they already are)
    same_rows = annual.index.tolist() == ids
    a = annual if same_rows else annual.reindex(ids)
    civil = np.array([c.is_civil for c in cons])
    gross = a["demand_gross"].to_numpy(float)
    net = a["demand"].to_numpy(float)
    civil_demand = float(gross[civil].sum())
    savings = float((gross - net)[civil].sum())

    # per-generator arrays in scenario order (plain numpy: no xarray per access)
    if gens:
        if tuple(ledger.dims) == ("generator", "consumer"):
            L = np.asarray(ledger.values, float)
        else:
            L = np.asarray(ledger.transpose("generator", "consumer").values, float)
        if finance._labels(ledger, "consumer") != ids:
            L = np.asarray(ledger.sel(consumer=ids).transpose("generator", "consumer").values)
    else:
        L = np.zeros((0, len(cons)))

    def gcol(name):
        return finance._coord(ledger, name) if gens else np.zeros(0)

    generated = gcol("generated")
    self_consumed = gcol("self_consumed")
    cnt = [rules.counting(g) for g in gens]
    ren = np.array([c.renewable for c in cnt])
    eq = np.array([c.equivalent for c in cnt])
    nc = np.array([c.not_counted for c in cnt])
    to_civil = L[:, civil].sum(axis=1) if gens else np.zeros(0)
    to_non_civil = L[:, ~civil].sum(axis=1) if gens else np.zeros(0)
    avail = np.maximum(generated - to_non_civil, 0.0)
    certs = acc.certificates_kwh

    # evaluated demand (問24, 問25)
    row = {c.id: i for i, c in enumerate(cons)}
    own_sc = np.zeros(len(cons))
    for j, g in enumerate(gens):
        if g.site is not None:
            own_sc[row[g.site]] += self_consumed[j]
    evaluated = 0.0
    for i, c in enumerate(cons):
        w = rules.demand_weight(c)
        if (c.is_civil and c.sector == "waste_plant" and c.owner == "municipal"
                and acc.waste_plant_discount == "self_consumption"):
            evaluated += rules.area_weight(c) * max(gross[i] - own_sc[i], 0.0)
        else:
            evaluated += w * gross[i]
        if c.area == "added" and c.model_case and c.owner in ("public", "municipal"):
            notes.append(f"{c.id}: model_case applies to private facilities (問24); "
                         "counted ×0.5 as public")

    renewable = float(ren @ to_civil) if gens else 0.0
    plastic_h = float(eq @ to_civil) if gens else 0.0
    supply_h = renewable + plastic_h + certs
    supply_a = float((ren + eq) @ avail) + certs if gens else certs
    onsite_civil = np.array([g.site is not None and cons[row[g.site]].is_civil for g in gens])
    sc_counted = float(((ren + eq) * self_consumed)[onsite_civil].sum()) if gens else 0.0
    local = np.array([rules.is_local(g, scenario.region) for g in gens])
    local_h = float((ren * to_civil)[local].sum()) if gens else 0.0
    local_a = float((ren * avail)[local].sum()) if gens else 0.0

    add_share = np.array([rules.additional_share(g) for g in gens])
    inside = np.array([g.inside_area for g in gens])
    cap = np.array([g.capacity_kw for g in gens])
    add_kw = float((cap * add_share * ren)[inside].sum()) if gens else 0.0
    add_kwh = float((generated * add_share * ren)[inside].sum()) if gens else 0.0
    ex_kw = float((cap * (1 - add_share) * ren)[inside].sum()) if gens else 0.0
    ex_kwh = float((generated * (1 - add_share) * ren)[inside].sum()) if gens else 0.0
    waste = np.array([g.kind == "waste" for g in gens])
    ratio = np.array([getattr(g, "biomass_ratio", 1.0) for g in gens])
    waste_bio = float((generated * ratio)[waste].sum()) if gens else 0.0
    waste_pl = float((generated * (1 - ratio))[waste].sum()) if gens else 0.0

    ef, ef_source = rules.emission_factor(scenario, acc)
    basis = rules.co2_basis(scenario, acc)
    if basis == "hourly":
        supply_basis, plastic_basis = supply_h, plastic_h
        per_gen_supply = (ren + eq) * to_civil
    else:
        supply_basis, plastic_basis = supply_a, float(eq @ avail) if gens else 0.0
        per_gen_supply = (ren + eq) * avail
    plastic_ef = acc.plastic_co2_kg_per_kwh if acc.plastic_co2_kg_per_kwh is not None else ef
    co2 = (supply_basis + savings) * ef / 1000.0
    plastic_co2 = plastic_basis * plastic_ef / 1000.0
    non_civil_supply = float((ren + eq) @ to_non_civil) if gens else 0.0
    if certs and scenario.grid.isolated:
        notes.append("certificates counted on an isolated grid: 問46 ties supply to "
                     "metered hourly output; check they are accepted")
    if float(ledger.attrs.get("unattributed_kwh", 0.0)) > 0:
        notes.append(f"{ledger.attrs['unattributed_kwh']:.1f} kWh of initial battery "
                     "energy has no generator and is not counted")

    flows = None
    if same_rows:  # on-site battery flows by position, not by a pandas look-up
        def flows(site):
            i = row[site]
            return (float(annual["discharge"].to_numpy(float)[i]),
                    float(annual["charge"].to_numpy(float)[i]))

    cols = finance.project_columns(
        scenario, ledger, annual, spec=fin, co2_t_per_kwh=ef / 1000.0,
        counted_supply=dict(zip([g.id for g in gens], per_gen_supply)), battery_flows=flows)
    fin_tot = finance.totals_of_columns(cols, co2, fin)

    def ratio_of(x, y):
        return x / y if y > 0 else math.nan

    ev = Evaluation(
        region=scenario.region.name, year=scenario.region.year,
        civil_demand_kwh=civil_demand, civil_demand_after_savings_kwh=float(net[civil].sum()),
        evaluated_demand_kwh=evaluated, savings_kwh=savings,
        non_civil_demand_kwh=float(gross[~civil].sum()),
        renewable_supply_annual_kwh=supply_a, renewable_supply_hourly_kwh=supply_h,
        netting_gap_kwh=supply_a - supply_h,
        coverage_annual=ratio_of(supply_a + savings, civil_demand),
        coverage_hourly=ratio_of(supply_h + savings, civil_demand),
        balance_annual_ok=bool(supply_a + savings >= civil_demand * (1 - BALANCE_RTOL)),
        balance_hourly_ok=bool(supply_h + savings >= civil_demand * (1 - BALANCE_RTOL)),
        self_consumption_rate=ratio_of(sc_counted, supply_h),
        local_production_rate=ratio_of(local_h, civil_demand),
        local_production_rate_annual=min(1.0, ratio_of(local_a, civil_demand))
        if civil_demand > 0 else math.nan,
        renewable_kwh=renewable, renewable_equivalent_kwh=plastic_h + certs,
        certificates_kwh=certs,
        not_counted_kwh=float(nc @ to_civil) if gens else 0.0,
        not_counted_generation_kwh=float(nc @ generated) if gens else 0.0,
        non_civil_supply_kwh=non_civil_supply,
        generation_kwh=float(generated.sum()),
        spilled_kwh=float(gcol("not_delivered").sum()),
        additional_capacity_kw=add_kw, additional_energy_kwh=add_kwh,
        additional_energy_share=ratio_of(add_kwh, civil_demand),
        existing_capacity_kw=ex_kw, existing_energy_kwh=ex_kwh,
        waste_biomass_kwh=waste_bio, waste_plastic_kwh=waste_pl,
        plastic_supplied_kwh=plastic_basis, plastic_co2_t=plastic_co2,
        emission_factor_kg_per_kwh=ef, emission_factor_source=ef_source, co2_basis=basis,
        co2_reduction_t=co2, co2_reduction_net_t=co2 - plastic_co2,
        co2_reduction_non_civil_t=non_civil_supply * ef / 1000.0,
        notes="; ".join(notes), **fin_tot)
    return (ev, finance.projects_frame(cols, fin)) if with_projects else ev


def evaluate(result, **overrides) -> Evaluation:
    """The programme's figures for a simulated year.

    Parameters
    ----------
    result : sim.Result
    **overrides
        Fields of ``[accounting]`` or ``[finance]`` to use instead of the
        scenario's (e.g. ``emission_factor_kg_per_kwh=0.7``).

    Returns
    -------
    Evaluation
        See :data:`FIGURES` and ``docs/figures.md``.
    """
    from sim.core.accounting import ledger

    return evaluate_totals(result.scenario, ledger(result), result.annual, **overrides)
