"""``sim.evaluate``: the programme's figures from a simulated year.

:func:`evaluate` takes a :class:`sim.Result`; the work is done by
:func:`evaluate_totals` on **annual totals only** (the attribution ledger and
the per-consumer annual table), so a batch sweep that never builds an hourly
Dataset calls the same function::

    from sim.core.accounting import attribute, ledger_dataarray
    from sim.programme.evaluate import evaluate_totals      # (``sim.evaluate`` is the function)

    att = attribute(generation, site_index, flows, efficiency=...)
    ev = evaluate_totals(scenario, ledger_dataarray(scenario, att), annual)

:func:`evaluate_totals` is :func:`evaluate_cases` for one case; a sweep calls
:func:`evaluate_cases` on a whole chunk of cases (arrays with a leading case
axis, :class:`CaseTotals`), so the rules are written once.

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
        "kWh/yr", "評価対象の電力需要量", "問24, 問25, scoring (4) 評価事項",
        "civil demand weighted: added public ×0.5, added private ×0.75 (model case ×1.0), "
        "waste plant of a local government (municipal, prefecture, 一部事務組合) ×0")
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
    supply_basis: str = field(default="", metadata=dict(
        unit="-", ja="供給量の基準", source="問46, scoring (4)①",
        definition="basis of the balance check and 自家消費率: 'hourly' on an isolated grid "
                   "(問46), 'annual' netting elsewhere"))
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
        "counted on-site energy used at civil sites (direct + own battery) / renewable "
        "supply on the supply basis (hourly on an isolated grid, annual elsewhere)")
    local_production_rate: float = _f(
        "-", "地産地消率", "scoring (4)①, 問26",
        "the 地産地消率 on local_production_basis (hourly or annual, below)")
    local_production_basis: str = field(default="", metadata=dict(
        unit="-", ja="地産地消率の基準", source="問26, 問46",
        definition="'hourly' on an isolated grid; elsewhere [accounting] "
                   "local_production_basis (default hourly, the stricter reading)"))
    local_production_rate_hourly: float = _f(
        "-", "地産地消率（時間同時同量）", "scoring (4)①, 問26",
        "renewable from the local scope delivered to civil consumers hour by hour / "
        "civil demand")
    local_production_rate_annual: float = _f(
        "-", "地産地消率（年間積み上げ）", "問26",
        "min(1, local counted renewable not used by non-civil consumers / civil demand)")
    grant_rule_breach_kwh: float = _f(
        "kWh/yr", "交付金設備の他市区町村への供給", "問26 ※1",
        "energy of grant-funded plants delivered over the grid to consumers outside the "
        "plant's municipality (same prefecture for a prefecture-led plan)")
    grant_rule_excluded_kwh: float = _f(
        "kWh/yr", "問26 ※1 により供給量から除いた量", "問26 ※1",
        "the part of grant_rule_breach_kwh removed from supply (0 with "
        "grant_municipality_rule = 'list')")
    grant_rule_ok: bool = field(default=True, metadata=dict(
        unit="bool", ja="交付金設備の供給先（同一市区町村）", source="問26 ※1",
        definition="no grant-funded plant supplies another municipality over the grid"))
    grant_rule_breaches: str = field(default="", metadata=dict(
        unit="-", ja="問26 ※1 違反の一覧", source="問26 ※1",
        definition="'generator → consumer (municipality): kWh' for each breach"))
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
        "new capacity inside the area (repowered: capacity_kw − existing_kw, at least 0; "
        "waste: × biomass ratio)")
    additional_energy_kwh: float = _f(
        "kWh/yr", "追加的な再エネ導入量（発電量）", "scoring (5), 問42",
        "renewable output of new plants inside the area; repowered: output − "
        "existing_output_kwh_per_year, at least 0 (問42 counts the output increase)")
    additional_energy_share: float = _f("-", "追加再エネ比率", "scoring (5)",
                                        "additional_energy / civil demand")
    existing_capacity_kw: float = _f("kW", "既存の再エネ発電設備", "問42",
                                     "counted renewable capacity that is not additional")
    existing_energy_kwh: float = _f("kWh/yr", "既存再エネ発電量", "問42",
                                    "renewable output that is not additional (existing "
                                    "plants; a repowered plant's output up to its "
                                    "output before repowering)")
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
    emission_factor_kg_per_kwh: float = _f("kg-CO2/kWh", "排出係数", "問28",
                                           "CO2 factor of the grid power displaced "
                                           "(profiles/emission_factors or the scenario's)")
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
    cost_per_t_co2_total_jpy: float = _f("JPY/t-CO2", "CO2削減量1トン当たりの費用（総事業費・計画全体）",
                                         "scoring (3)", "capex / (co2_reduction × period): "
                                         "the whole plan's reduction (existing plants, "
                                         "certificates and savings included)")
    cost_per_t_co2_grant_jpy: float = _f("JPY/t-CO2", "CO2削減量1トン当たりの費用（交付金・計画全体）",
                                         "scoring (3)", "grant / (co2_reduction × period): "
                                         "the whole plan's reduction")
    co2_reduction_projects_t: float = _f(
        "t-CO2/yr", "事業（新規・リパワリング設備）によるCO2削減量", "scoring (3)",
        "Σ projects' own reduction: counted supply of new plants and the additional "
        "share (問42) of repowered ones × emission factor (no savings, existing plants "
        "or certificates)")
    cost_per_t_co2_total_projects_jpy: float = _f(
        "JPY/t-CO2", "CO2削減量1トン当たりの費用（総事業費・事業分）", "scoring (3)",
        "capex / (co2_reduction_projects × period): 総事業費に係るCO2削減量 read as the "
        "projects' own reduction")
    cost_per_t_co2_grant_projects_jpy: float = _f(
        "JPY/t-CO2", "CO2削減量1トン当たりの費用（交付金・事業分）", "scoring (3)",
        "grant / (co2_reduction_projects × period)")
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
    if acc.get("emission_factor_kg_per_kwh") is not None and "emission_factor_source" not in acc:
        # a factor passed to evaluate() (a keyword, a sweep value): labelled as such (問28)
        acc["emission_factor_source"] = "given to evaluate() as an override"
    try:
        a = AccountingSpec(**{**scenario.accounting.model_dump(), **acc})
        f = FinanceSpec(**{**scenario.finance.model_dump(), **fin})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(err["msg"].removeprefix("Value error, "),
                         field=".".join(str(x) for x in err["loc"])) from None
    return a, f


@dataclass
class CaseTotals:
    """Annual totals of C cases that share one scenario's rows, in scenario order.

    A sweep's chunk (C cases, :mod:`sim.studies.sweep`) or one simulated year
    (C = 1, :func:`evaluate_totals`). Cases differ in sizes and flows only:
    a generator or battery absent from a case has capacity 0 there.

    Attributes
    ----------
    ledger : (C, G, R) [kWh/yr], renewable energy by generator and consumer
    table : dict of (C, G) [kWh/yr]
        The ledger's generator columns: ``generated``, ``self_consumed``,
        ``not_delivered`` and :data:`sim.programme.finance.GENERATOR_COLUMNS`.
    gross, net : (C, R) [kWh/yr], demand before and after savings
    charge, discharge : (C, R) [kWh/yr], on-site battery flows
    community_charge, community_discharge, unattributed : (C,) [kWh/yr]
    capacity_kw : (C, G) [kW], each generator's capacity
    storage_kwh : (C, S) [kWh], each storage row's capacity
    """

    ledger: np.ndarray
    table: dict
    gross: np.ndarray
    net: np.ndarray
    charge: np.ndarray
    discharge: np.ndarray
    community_charge: np.ndarray
    community_discharge: np.ndarray
    unattributed: np.ndarray
    capacity_kw: np.ndarray
    storage_kwh: np.ndarray


@dataclass
class _Totals:
    """Arrays shared by the steps of :func:`evaluate_cases` (C cases, scenario order).

    ``L`` (C, G, R) is the ledger [kWh/yr]; ``ren``/``eq``/``nc`` (G,) the
    counted shares of each generator (問27, 問31); ``to_civil``/``to_non_civil``
    (C, G) what each generator delivered to civil / other consumers after the
    問26 ※1 exclusion; ``avail`` (C, G) its output not used by non-civil consumers.
    ``notes`` collects the notes of each case when asked (``None`` otherwise).
    """

    scenario: Scenario
    acc: AccountingSpec
    fin: FinanceSpec
    ct: CaseTotals
    civil: np.ndarray
    ren: np.ndarray
    eq: np.ndarray
    nc: np.ndarray
    notes: list[list[str]] | None
    to_civil: np.ndarray | None = None
    to_non_civil: np.ndarray | None = None
    avail: np.ndarray | None = None

    @property
    def gens(self):
        return self.scenario.generators

    @property
    def cons(self):
        return self.scenario.consumers

    @property
    def L(self):
        return self.ct.ledger

    @property
    def generated(self):
        return self.ct.table["generated"]

    def note(self, text: str, cases=None) -> None:
        """Add a note to every case, or to the cases ``cases`` (bool (C,))."""
        if self.notes is None:
            return
        for c, n in enumerate(self.notes):
            if cases is None or cases[c]:
                n.append(text)


def case_totals(scenario: Scenario, ledger, annual: pd.DataFrame) -> CaseTotals:
    """One simulated year's :class:`CaseTotals` (C = 1) from the labelled ledger
    (:func:`sim.core.accounting.ledger`) and ``Result.annual``."""
    cons, gens = scenario.consumers, scenario.generators
    ids = [c.id for c in cons]
    a = annual if annual.index.tolist() == ids else annual.reindex(ids)
    if gens:
        if tuple(ledger.dims) == ("generator", "consumer"):
            L = np.asarray(ledger.values, float)
        else:
            L = np.asarray(ledger.transpose("generator", "consumer").values, float)
        if finance._labels(ledger, "consumer") != ids:
            L = np.asarray(ledger.sel(consumer=ids).transpose("generator", "consumer").values)
        table = {name: finance._coord(ledger, name)[None, :] for name in
                 ("self_consumed", "not_delivered") + finance.GENERATOR_COLUMNS}
    else:
        L = np.zeros((0, len(cons)))
        table = {name: np.zeros((1, 0)) for name in
                 ("self_consumed", "not_delivered") + finance.GENERATOR_COLUMNS}
    col = lambda name: a[name].to_numpy(float)[None, :]  # noqa: E731
    attr = lambda name: np.array([float(ledger.attrs.get(name, 0.0))])  # noqa: E731
    return CaseTotals(
        ledger=L[None], table=table, gross=col("demand_gross"), net=col("demand"),
        charge=col("charge"), discharge=col("discharge"),
        community_charge=attr("community_charge_kwh"),
        community_discharge=attr("community_discharge_kwh"),
        unattributed=attr("unattributed_kwh"),
        capacity_kw=np.array([[float(g.capacity_kw) for g in gens]]).reshape(1, -1),
        storage_kwh=np.array([[float(b.capacity_kwh) for b in scenario.storage]]
                             ).reshape(1, -1))


def _grant_rule(t: _Totals) -> dict:
    """Step 2, 問26 ※1: grant-funded plants deliver over the grid only to consumers
    of their own municipality. Breaches are listed; with ``grant_municipality_rule
    = "exclude"`` (default) they are also taken out of the deliveries used below."""
    row = {c.id: i for i, c in enumerate(t.cons)}
    barred = np.zeros(t.L.shape[1:], dtype=bool)  # (G, R): pairs the rule forbids
    # the rule reads the consumer's municipality only: asked once per municipality
    towns: dict = {}
    for i, c in enumerate(t.cons):
        towns.setdefault(c.municipality, (c, []))[1].append(i)
    for j, g in enumerate(t.gens):
        if not rules.is_grant_funded(g, t.fin):
            continue
        for c, rows in towns.values():
            if not rules.grant_supply_allowed(g, c, t.scenario.region):
                barred[j, rows] = True
        if g.site is not None:  # direct use is not "over the grid"
            barred[j, row[g.site]] = False
    hit = barred & (t.L > 0)
    excluded = np.where(hit, t.L, 0.0)
    breach = excluded.reshape(len(t.L), -1).sum(axis=1)
    any_hit = hit.reshape(len(t.L), -1).any(axis=1)
    lines = [[] for _ in range(len(t.L))]
    if t.notes is not None:
        for c, j, i in zip(*np.nonzero(hit)):
            g, cn = t.gens[j], t.cons[i]
            lines[c].append(f"{g.id} ({g.municipality or t.scenario.region.municipality}) → "
                            f"{cn.id} ({cn.municipality or t.scenario.region.municipality}): "
                            f"{t.L[c, j, i]:,.1f} kWh")
    if t.acc.grant_municipality_rule == "list":
        excluded[:] = 0.0
    L = t.L - excluded
    t.to_civil = L[:, :, t.civil].sum(axis=2)
    t.to_non_civil = L[:, :, ~t.civil].sum(axis=2)
    # annual netting: output not used by non-civil consumers, less what went
    # to the wrong municipality (it cannot be credited to the area either)
    t.avail = np.maximum(t.generated - t.L[:, :, ~t.civil].sum(axis=2)
                         - excluded[:, :, t.civil].sum(axis=2), 0.0)
    how = ("excluded from supply" if t.acc.grant_municipality_rule == "exclude"
           else "listed only ([accounting] grant_municipality_rule = 'list')")
    if t.notes is not None:
        for c in np.flatnonzero(any_hit):
            t.notes[c].append(f"問26 ※1: {breach[c]:,.1f} kWh of grant-funded plants "
                              f"reached consumers of another municipality, {how}")
    return {"grant_rule_breach_kwh": breach,
            "grant_rule_excluded_kwh": excluded.reshape(len(t.L), -1).sum(axis=1),
            "grant_rule_ok": ~any_hit,
            "grant_rule_breaches": ["; ".join(x) for x in lines]}


def _evaluated_demand(t: _Totals) -> np.ndarray:
    """Step 3, 問24/問25: the civil demand weighted for the scale criterion [kWh/yr]."""
    row = {c.id: i for i, c in enumerate(t.cons)}
    gross = t.ct.gross
    own_sc = np.zeros_like(gross)
    for j, g in enumerate(t.gens):
        if g.site is not None:
            own_sc[:, row[g.site]] += t.ct.table["self_consumed"][:, j]
    evaluated = np.zeros(len(gross))
    for i, c in enumerate(t.cons):  # summed consumer by consumer, as the rule reads
        if (rules.is_local_government_waste_plant(c)
                and t.acc.waste_plant_discount == "self_consumption"):
            evaluated = evaluated + rules.area_weight(c) * np.maximum(
                gross[:, i] - own_sc[:, i], 0.0)
        else:
            evaluated = evaluated + rules.demand_weight(c) * gross[:, i]
        if c.area == "added" and c.model_case and c.owner in rules.PUBLIC_OWNERS:
            t.note(f"{c.id}: model_case applies to private facilities (問24); "
                   "counted ×0.5 as public")
        if c.sector == "waste_plant" and c.owner == "public":
            t.note(f"{c.id}: owner 'public' is not a local government; a plant of "
                   "a prefecture or 一部事務組合 is owner 'prefecture' or "
                   "'association' (問25 ×0)")
    return evaluated


def _supply(t: _Totals, civil_demand: np.ndarray) -> dict:
    """Step 4: supply on both bases, 自家消費率 and 地産地消率 (scoring (4)①, 問26, 問46)."""
    gens, ren, eq = t.gens, t.ren, t.eq
    certs = t.acc.certificates_kwh
    row = {c.id: i for i, c in enumerate(t.cons)}
    renewable = t.to_civil @ ren
    plastic_h = t.to_civil @ eq
    supply_h = renewable + plastic_h + certs
    supply_a = t.avail @ (ren + eq) + certs
    basis = rules.supply_basis(t.scenario)
    onsite_civil = np.array([g.site is not None and t.cons[row[g.site]].is_civil
                             for g in gens], dtype=bool).reshape(-1)
    sc_counted = ((ren + eq) * t.ct.table["self_consumed"])[:, onsite_civil].sum(axis=1)
    local = np.array([rules.is_local(g, t.scenario.region) for g in gens],
                     dtype=bool).reshape(-1)
    local_h = ratio_of((ren * t.to_civil)[:, local].sum(axis=1), civil_demand)
    local_a = np.minimum(1.0, ratio_of((ren * t.avail)[:, local].sum(axis=1), civil_demand))
    lp_basis = rules.local_production_basis(t.scenario, t.acc)
    if certs and t.scenario.grid.isolated:
        t.note("certificates counted on an isolated grid: 問46 ties supply to "
               "metered hourly output; check they are accepted")
    return dict(
        renewable_supply_annual_kwh=supply_a, renewable_supply_hourly_kwh=supply_h,
        netting_gap_kwh=supply_a - supply_h, supply_basis=basis,
        self_consumption_rate=ratio_of(sc_counted, supply_h if basis == "hourly"
                                       else supply_a),
        local_production_basis=lp_basis, local_production_rate_hourly=local_h,
        local_production_rate_annual=local_a,
        local_production_rate=local_h if lp_basis == "hourly" else local_a,
        renewable_kwh=renewable, renewable_equivalent_kwh=plastic_h + certs,
        certificates_kwh=np.full(len(civil_demand), float(certs)),
        not_counted_kwh=t.to_civil @ t.nc,
        not_counted_generation_kwh=t.generated @ t.nc,
        non_civil_supply_kwh=t.to_non_civil @ (ren + eq))


def _additionality(t: _Totals) -> tuple[dict, np.ndarray]:
    """Step 5, 問42 and 問31: additional and existing capacity and output inside the
    area, and each generator's additional share of its output [-] (for the
    projects' own CO2)."""
    gen = t.generated
    add_kw, ex_kw, add_kwh, ex_kwh = (np.zeros_like(gen) for _ in range(4))
    for j, g in enumerate(t.gens):
        add_kw[:, j], ex_kw[:, j] = rules.additional_capacity(g, t.ct.capacity_kw[:, j])
        add_kwh[:, j], ex_kwh[:, j] = rules.additional_energy(g, gen[:, j])
        if g.status == "repowered" and t.notes is not None:
            for c in np.flatnonzero((add_kwh[:, j] == 0) & (t.ct.capacity_kw[:, j] > 0)):
                t.notes[c].append(
                    f"{g.id}: output {gen[c, j]:,.0f} kWh not above its output before "
                    f"repowering {g.existing_output_kwh_per_year:,.0f} kWh: nothing "
                    "additional (問42)")
    new = np.array([float(g.status == "new") for g in t.gens])
    share = np.divide(add_kwh, gen, out=np.broadcast_to(new, gen.shape).copy(),
                      where=gen > 0)
    inside = np.array([g.inside_area for g in t.gens], dtype=bool).reshape(-1)
    out = {name: (x * t.ren)[:, inside].sum(axis=1) for name, x in (
        ("additional_capacity_kw", add_kw), ("additional_energy_kwh", add_kwh),
        ("existing_capacity_kw", ex_kw), ("existing_energy_kwh", ex_kwh))}
    waste = np.array([g.kind == "waste" for g in t.gens], dtype=bool).reshape(-1)
    ratio = np.array([getattr(g, "biomass_ratio", 1.0) for g in t.gens])
    out["waste_biomass_kwh"] = (gen * ratio)[:, waste].sum(axis=1)
    out["waste_plastic_kwh"] = (gen * (1 - ratio))[:, waste].sum(axis=1)
    return out, share


def _co2(t: _Totals, supply: dict, savings: np.ndarray) -> tuple[dict, np.ndarray]:
    """Step 6: CO2 of the plan on the co2 basis (問28 factor, 問31 plastic), and each
    generator's counted supply on that basis [kWh/yr]."""
    ef, ef_source = rules.emission_factor(t.scenario, t.acc)
    basis = rules.co2_basis(t.scenario, t.acc)
    ren, eq = t.ren, t.eq
    if basis == "hourly":
        supply_basis = supply["renewable_supply_hourly_kwh"]
        plastic_basis = t.to_civil @ eq
        per_gen = (ren + eq) * t.to_civil
    else:
        supply_basis = supply["renewable_supply_annual_kwh"]
        plastic_basis = t.avail @ eq
        per_gen = (ren + eq) * t.avail
    plastic_ef = (t.acc.plastic_co2_kg_per_kwh if t.acc.plastic_co2_kg_per_kwh is not None
                  else ef)
    co2 = (supply_basis + savings) * ef / 1000.0
    plastic_co2 = plastic_basis * plastic_ef / 1000.0
    return dict(plastic_supplied_kwh=plastic_basis, plastic_co2_t=plastic_co2,
                emission_factor_kg_per_kwh=np.full(len(savings), float(ef)),
                emission_factor_source=ef_source,
                co2_basis=basis, co2_reduction_t=co2, co2_reduction_net_t=co2 - plastic_co2,
                co2_reduction_non_civil_t=supply["non_civil_supply_kwh"] * ef / 1000.0
                ), per_gen


def _finance(t: _Totals, project_supply: np.ndarray, ef: float, co2: np.ndarray):
    """Step 7, scoring (3): projects and their totals (:mod:`sim.programme.finance`)."""
    row = {c.id: i for i, c in enumerate(t.cons)}
    ct = t.ct
    flows = np.zeros((len(ct.gross), len(t.scenario.storage), 2))
    for i, b in enumerate(t.scenario.storage):
        if b.site == "community":
            flows[:, i, 0], flows[:, i, 1] = ct.community_discharge, ct.community_charge
        else:
            flows[:, i, 0], flows[:, i, 1] = ct.discharge[:, row[b.site]], \
                ct.charge[:, row[b.site]]
    arr = finance.project_arrays(t.scenario, t.fin, table=ct.table,
                                 capacity_kw=ct.capacity_kw, storage_kwh=ct.storage_kwh,
                                 storage_flows=flows, counted_supply=project_supply,
                                 co2_t_per_kwh=ef / 1000.0)
    return arr, finance.totals_of_arrays(arr, co2, t.fin)


def ratio_of(x, y):
    """x / y, NaN when y is not positive (floats or arrays of cases)."""
    if np.ndim(x) == 0 and np.ndim(y) == 0:
        return x / y if y > 0 else math.nan
    y = np.asarray(y, float)
    return np.divide(x, y, out=np.full(np.broadcast(x, y).shape, math.nan), where=y > 0)


def evaluate_cases(scenario: Scenario, ct: CaseTotals, *, accounting: AccountingSpec,
                   finance_spec: FinanceSpec, notes: bool = False) -> tuple[dict, list, dict]:
    """The programme's figures of C cases at once (the rules of :func:`evaluate_totals`).

    Parameters
    ----------
    scenario : Scenario
        The rows the cases share (sizes come from ``ct``).
    ct : CaseTotals
    accounting, finance_spec : AccountingSpec, FinanceSpec
    notes : bool
        Also write each case's notes (the per-scenario path).

    Returns
    -------
    (figures, notes, projects)
        ``figures``: each :class:`Evaluation` field except ``region``, ``year``
        and ``notes``, a (C,) array (or a label shared by all cases);
        ``notes``: a list of C lists of str (empty lists unless ``notes``);
        ``projects``: :func:`sim.programme.finance.project_arrays`.
    """
    cnt = [rules.counting(g) for g in scenario.generators]
    civil = np.array([c.is_civil for c in scenario.consumers], dtype=bool)
    n_c = len(ct.gross)
    t = _Totals(scenario=scenario, acc=accounting, fin=finance_spec, ct=ct, civil=civil,
                ren=np.array([c.renewable for c in cnt], dtype=float),
                eq=np.array([c.equivalent for c in cnt], dtype=float),
                nc=np.array([c.not_counted for c in cnt], dtype=float),
                notes=[[] for _ in range(n_c)] if notes else None)
    gross, net = ct.gross, ct.net
    civil_demand = gross[:, civil].sum(axis=1)
    savings = (gross - net)[:, civil].sum(axis=1)
    grant = _grant_rule(t)
    evaluated = _evaluated_demand(t)
    supply = _supply(t, civil_demand)
    additional, add_share = _additionality(t)
    co2, per_gen_supply = _co2(t, supply, savings)
    ef = float(co2["emission_factor_kg_per_kwh"][0]) if n_c else 0.0
    projects, fin_tot = _finance(t, per_gen_supply * add_share, ef, co2["co2_reduction_t"])
    if t.notes is not None:
        for c in np.flatnonzero(ct.unattributed > 0):
            t.notes[c].append(f"{ct.unattributed[c]:.1f} kWh of initial battery energy "
                              "has no generator and is not counted")
    supply_a, supply_h = supply["renewable_supply_annual_kwh"], \
        supply["renewable_supply_hourly_kwh"]
    figures = dict(
        civil_demand_kwh=civil_demand,
        civil_demand_after_savings_kwh=net[:, civil].sum(axis=1),
        evaluated_demand_kwh=evaluated, savings_kwh=savings,
        non_civil_demand_kwh=gross[:, ~civil].sum(axis=1),
        coverage_annual=ratio_of(supply_a + savings, civil_demand),
        coverage_hourly=ratio_of(supply_h + savings, civil_demand),
        balance_annual_ok=supply_a + savings >= civil_demand * (1 - BALANCE_RTOL),
        balance_hourly_ok=supply_h + savings >= civil_demand * (1 - BALANCE_RTOL),
        generation_kwh=t.generated.sum(axis=1),
        spilled_kwh=ct.table["not_delivered"].sum(axis=1),
        additional_energy_share=ratio_of(additional["additional_energy_kwh"], civil_demand),
        **supply, **grant, **additional, **co2, **fin_tot)
    return figures, t.notes or [[] for _ in range(n_c)], projects


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

    Notes
    -----
    The arithmetic is :func:`evaluate_cases` for one case, the function a
    sweep calls on a chunk of cases.
    """
    acc, fin = _with_overrides(scenario, overrides)
    fin = finance_spec or fin
    figures, notes, projects = evaluate_cases(
        scenario, case_totals(scenario, ledger, annual), accounting=accounting or acc,
        finance_spec=fin, notes=True)
    one = {k: (v[0] if isinstance(v, list) else v if isinstance(v, str)
               else bool(v[0]) if v.dtype == bool else float(v[0]))
           for k, v in figures.items()}
    ev = Evaluation(region=scenario.region.name, year=scenario.region.year,
                    notes="; ".join(notes[0]), **one)
    if not with_projects:
        return ev
    cols = {k: (v if isinstance(v, list) else v.tolist() if v.ndim == 1 else v[0].tolist())
            for k, v in projects.items()}
    return ev, finance.projects_frame(cols, fin)


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
