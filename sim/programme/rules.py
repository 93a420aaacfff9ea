"""The programme's accounting rules, one small function per rule.

Each function reads the scenario's rows and says how a row counts; the
figures themselves are added up in :mod:`sim.programme.evaluate`. The emission
factor (問28) comes from ``profiles/emission_factors`` (README there) or the
scenario, never from a number without a source. Sources: the FAQ of
2025-01-30 (問N) and the scoring table, digested in ``docs/rules.md``; the full
list of figures is in ``docs/figures.md``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.paths import PROFILES
from sim.inputs.scenario import AccountingSpec, Consumer, FinanceSpec, Region, Scenario

#: owners that are local governments (地方公共団体): municipal 市区町村, prefecture
#: 都道府県, association 一部事務組合・広域連合 (問25 applies to any of them)
LOCAL_GOVERNMENTS = frozenset({"municipal", "prefecture", "association"})
#: owners of public facilities (公共施設, 問24): local governments and other public bodies
PUBLIC_OWNERS = LOCAL_GOVERNMENTS | {"public"}

#: the emission-factor table and the prefecture → supply area map (README beside them)
EMISSION_FACTORS = PROFILES / "emission_factors" / "factors.csv"
EMISSION_AREAS = PROFILES / "emission_factors" / "areas.csv"


def demand_weight(consumer: Consumer) -> float:
    """Weight of a consumer's demand in the *evaluated* demand (scale criterion).

    問24: a facility added outside the main area counts ×0.5 if public
    (:data:`PUBLIC_OWNERS`) and ×0.75 if private, unless accepted as a model
    case (``model_case``: ×1.0; the FAQ's exception is for private facilities,
    so a public one stays ×0.5). 問25: the self-consumption of a waste plant
    owned by a local government (:data:`LOCAL_GOVERNMENTS`: municipality,
    prefecture or 一部事務組合) counts ×0 wherever it is; a private plant ×1.0.

    Returns
    -------
    float
        The weight [-]; 0 for consumers outside the civil sector.
    """
    if is_local_government_waste_plant(consumer):
        return 0.0
    return area_weight(consumer)


def is_local_government_waste_plant(consumer: Consumer) -> bool:
    """A civil waste plant owned by any 地方公共団体 (問25)."""
    return (consumer.is_civil and consumer.sector == "waste_plant"
            and consumer.owner in LOCAL_GOVERNMENTS)


def area_weight(consumer: Consumer) -> float:
    """The 問24 weight alone (no 問25 waste-plant rule): used for the part of a
    local government's waste plant demand that is not self-consumed."""
    if not consumer.is_civil:
        return 0.0
    if consumer.area == "main":
        return 1.0
    if consumer.owner in PUBLIC_OWNERS:
        return 0.5
    return 1.0 if consumer.model_case else 0.75


@dataclass(frozen=True)
class Counting:
    """How a generator's energy counts (fractions of each kWh) [-].

    Attributes
    ----------
    renewable : share counted as renewable (再エネ)
    equivalent : share counted as renewable-equivalent (再エネ等 only: the
        plastic share of waste power, 問31)
    not_counted : share that does not count (FIT/FIP without the
        environmental value, 問27)
    """

    renewable: float
    equivalent: float
    not_counted: float


def counting(generator) -> Counting:
    """How a generator's kWh count (問27 FIT/FIP, 問31 waste).

    * FIT or FIP without ``environmental_value``: nothing counts (問27); the
      energy is reported as not counted, never dropped.
    * Waste power: ``biomass_ratio`` is renewable, the rest (plastic) is
      renewable-equivalent (問31).
    * Everything else: renewable.
    """
    if generator.support in ("fit", "fip") and not generator.environmental_value:
        return Counting(0.0, 0.0, 1.0)
    if generator.kind == "waste":
        r = float(generator.biomass_ratio)
        return Counting(r, 1.0 - r, 0.0)
    return Counting(1.0, 0.0, 0.0)


def additional_capacity(generator, capacity_kw=None):
    """(additional, existing) capacity of a generator [kW] (問42).

    ``new``: all additional; ``existing``: none; ``repowered``: the increase
    over ``existing_kw`` is additional (設備能力は既存設備からの増加分のみ), the rest
    (up to the installed capacity) existing. ``capacity_kw`` (a float or an
    array of cases, e.g. a sweep's) replaces the row's ``capacity_kw``; floats
    in, floats out.
    """
    cap = np.asarray(generator.capacity_kw if capacity_kw is None else capacity_kw, float)
    if generator.status == "new":
        return _plain(cap), _plain(np.zeros_like(cap))
    if generator.status == "existing":
        return _plain(np.zeros_like(cap)), _plain(cap)
    add = np.maximum(cap - float(generator.existing_kw), 0.0)
    return _plain(add), _plain(cap - add)


def additional_energy(generator, generated_kwh):
    """(additional, existing) annual output of a generator [kWh/yr] (問42).

    問42: 「発電量が維持・縮小するものは評価せず、追加性がある部分のみ評価」 and the
    output column takes 「既存設備からの増加分のみ」. A repowered plant's additional
    output is ``max(generated − existing_output_kwh_per_year, 0)``; the rest is
    existing (既存). E.g. 200 kW kept, output 1,226,400 → 1,664,400 kWh/yr:
    438,000 additional, 1,226,400 existing. ``generated_kwh`` may be an array
    of cases (floats in, floats out).
    """
    gen = np.asarray(generated_kwh, float)
    if generator.status == "new":
        return _plain(gen), _plain(np.zeros_like(gen))
    if generator.status == "existing":
        return _plain(np.zeros_like(gen)), _plain(gen)
    add = np.maximum(gen - float(generator.existing_output_kwh_per_year), 0.0)
    return _plain(add), _plain(gen - add)


def _plain(x: np.ndarray):
    """A 0-d array as a float (the per-scenario path), else the array (cases)."""
    return float(x) if x.ndim == 0 else x


def is_grant_funded(generator, finance: FinanceSpec) -> bool:
    """Whether a generator is built with the 地域脱炭素推進交付金 (問26 ※1).

    The row's ``grant_funded`` when given; otherwise a project (status ``new``
    or ``repowered``) whose grant rate in ``[finance]`` (``grant_rates[id]``,
    else ``grant_rate``) is above 0: the same projects
    :mod:`sim.programme.finance` credits a grant to (:func:`grant_rate`).
    """
    if generator.status == "existing":
        return False
    return grant_rate(generator, finance) > 0


def grant_rate(row, finance: FinanceSpec) -> float:
    """The grant share of a project's capital cost [-]: 0 for a generator with
    ``grant_funded = false``, else ``grant_rates[id]`` or ``grant_rate``."""
    if getattr(row, "grant_funded", None) is False:
        return 0.0
    return finance.grant_rates.get(row.id, finance.grant_rate)


def grant_supply_allowed(generator, consumer: Consumer, region: Region) -> bool:
    """問26 ※1: may a grant-funded plant's energy reach this consumer over the grid?

    Only consumers of the area in the plant's own municipality (for a
    prefecture-led plan, in the same prefecture; consumers are in the region's
    prefecture). A generator or consumer without ``municipality`` is in the
    region's. Of the consumer only ``municipality`` is read (callers may ask
    once per municipality).
    """
    g_town = generator.municipality or region.municipality
    if region.prefecture_led:
        return (generator.prefecture or region.prefecture) == region.prefecture
    return (consumer.municipality or region.municipality) == g_town


def is_local(generator, region: Region) -> bool:
    """Whether a generator is in the local scope of 地産地消 (問26).

    Local: sited in the proposing municipality or a co-proposer (①②; this
    includes prefecture-installed plants sited there); for a prefecture-led
    plan (③), anywhere in the prefecture. A generator without
    ``municipality``/``prefecture`` is taken to be in the region's.
    """
    municipality = generator.municipality or region.municipality
    prefecture = generator.prefecture or region.prefecture
    if region.prefecture_led and prefecture == region.prefecture:
        return True
    return municipality in {region.municipality, *region.co_proposers}


@functools.lru_cache(maxsize=4)
def _factor_table(path: str) -> pd.DataFrame:
    return pd.read_csv(path)


@functools.lru_cache(maxsize=4)
def _area_table(path: str) -> pd.DataFrame:
    return pd.read_csv(path)


def emission_area(scenario: Scenario, spec: AccountingSpec | None = None) -> str | None:
    """Supply area of the factor table: ``[accounting] emission_factor_area``, or
    the one ``areas.csv`` gives for the region's prefecture and ``grid.isolated``."""
    spec = spec or scenario.accounting
    if spec.emission_factor_area:
        return spec.emission_factor_area
    return _area_of(str(EMISSION_AREAS), scenario.region.prefecture,
                    bool(scenario.grid.isolated))


@functools.lru_cache(maxsize=64)
def _area_of(path: str, prefecture: str, isolated: bool) -> str | None:
    """The row of ``areas.csv`` for a prefecture, looked up once (a sweep asks
    once per chunk)."""
    areas = _area_table(path)
    hit = areas[(areas["prefecture"] == prefecture) & (areas["isolated"] == isolated)]
    return str(hit["area"].iloc[0]) if len(hit) else None


@functools.lru_cache(maxsize=64)
def _factor_row(path: str, area: str | None, fiscal_year: int | None, region_year: int,
                kind: str) -> tuple[float, str] | None:
    """The factor of ``factors.csv`` and its source label, or None when no row
    fits; looked up once per distinct question (a sweep asks once per chunk)."""
    table = _factor_table(path)
    rows = table[table["area"] == area]
    rows = rows[rows["fiscal_year"] == fiscal_year] if fiscal_year is not None else \
        rows[rows["fiscal_year"] <= region_year]
    if area is None or rows.empty:
        return None
    row = rows.sort_values("fiscal_year").iloc[-1]
    value = float(row[f"{kind}_kg_per_kwh"])
    label = "基礎排出係数 (basic)" if kind == "basic" else \
        f"調整後排出係数 (adjusted, {row['adjusted_menu']})"
    return value, (f"{row['supplier']} FY{int(row['fiscal_year'])} {label}, "
                   f"{row['status']}; {row['source']}")


def emission_factor(scenario: Scenario, spec: AccountingSpec | None = None
                    ) -> tuple[float, str]:
    """The CO2 factor of the grid power displaced [kg-CO2/kWh], and its source (問28).

    ``[accounting] emission_factor_kg_per_kwh`` with its ``emission_factor_source``
    when given; otherwise a row of ``profiles/emission_factors/factors.csv``
    (the suppliers' notices of the Ministry's 電気事業者別排出係数): area
    ``emission_factor_area`` (default from the prefecture and ``grid.isolated``),
    fiscal year ``emission_factor_fiscal_year`` (default the latest not after
    ``region.year``), ``emission_factor_kind`` basic or adjusted. Never an
    unsourced number.

    Raises
    ------
    sim.InputError
        No row fits: the scenario must state the factor and its source.
    """
    spec = spec or scenario.accounting
    if spec.emission_factor_kg_per_kwh is not None:
        return spec.emission_factor_kg_per_kwh, f"scenario: {spec.emission_factor_source}"
    area = emission_area(scenario, spec)
    year = spec.emission_factor_fiscal_year
    found = _factor_row(str(EMISSION_FACTORS), area, year, scenario.region.year,
                        spec.emission_factor_kind)
    if found is None:
        what = (f"area {area!r}" if area else f"{scenario.region.prefecture} "
                f"({'isolated' if scenario.grid.isolated else 'not isolated'})")
        when = f"FY{year}" if year is not None else f"a fiscal year <= {scenario.region.year}"
        raise InputError(f"no sourced emission factor for {what}, {when} in "
                         f"profiles/emission_factors/factors.csv; give "
                         f"emission_factor_kg_per_kwh and emission_factor_source (問28)",
                         source=scenario.path, field="accounting.emission_factor_kg_per_kwh")
    return found


def supply_basis(scenario: Scenario) -> str:
    """Basis of the balance (確認事項, scoring (4)①) and 自家消費率: ``hourly`` on an
    isolated grid (問46: the grid operator ties renewable output to civil demand
    hour by hour), ``annual`` (netting over the year) elsewhere."""
    return "hourly" if scenario.grid.isolated else "annual"


def local_production_basis(scenario: Scenario, spec: AccountingSpec | None = None) -> str:
    """Basis of 地産地消率 (問26): hourly on an isolated grid (問46); elsewhere
    ``[accounting] local_production_basis`` (default hourly, the stricter reading)."""
    spec = spec or scenario.accounting
    return "hourly" if scenario.grid.isolated else spec.local_production_basis


def co2_basis(scenario: Scenario, spec: AccountingSpec | None = None) -> str:
    """Which supply displaces grid power: ``hourly`` (isolated grid) or ``annual``."""
    spec = spec or scenario.accounting
    if spec.co2_basis is not None:
        return spec.co2_basis
    return "hourly" if scenario.grid.isolated else "annual"
