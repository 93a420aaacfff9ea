"""The programme's accounting rules, one small function per rule.

Each function reads the scenario's rows and says how a row counts; the
figures themselves are added up in :mod:`sim.evaluate`. Sources: the FAQ of
2025-01-30 (問N) and the scoring table, digested in ``rules.md``; the full
list of figures is in ``docs/figures.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.inputs.scenario import AccountingSpec, Consumer, Region, Scenario

#: default emission factors [kg-CO2/kWh] and their sources (docs/figures.md)
EMISSION_FACTOR_ISLAND = 0.496
EMISSION_FACTOR_MAINLAND = 0.438
EMISSION_FACTOR_SOURCES = {
    EMISSION_FACTOR_ISLAND: "Kyushu Electric (一般送配電事業者) island supply (離島供給約款: "
                            "islands of Fukuoka, Nagasaki, Kagoshima), FY2017, 0.000496 "
                            "t-CO2/kWh (kyuden.co.jp/environment_notice)",
    EMISSION_FACTOR_MAINLAND: "Kyushu Electric retail basic factor FY2017, 0.000438 "
                              "t-CO2/kWh (kyuden.co.jp/environment_notice)",
}


def demand_weight(consumer: Consumer) -> float:
    """Weight of a consumer's demand in the *evaluated* demand (scale criterion).

    问24: a facility added outside the main area counts ×0.5 if public
    (owner ``public`` or ``municipal``) and ×0.75 if private, unless accepted
    as a model case (``model_case``: ×1.0; the FAQ's exception is for private
    facilities, so a public one stays ×0.5). 問25: the self-consumption of a
    waste plant owned by a local government (owner ``municipal``) counts ×0
    wherever it is; a private (or other public body's) plant ×1.0.

    Returns
    -------
    float
        The weight [-]; 0 for consumers outside the civil sector.
    """
    if consumer.sector == "waste_plant" and consumer.owner == "municipal":
        return 0.0
    return area_weight(consumer)


def area_weight(consumer: Consumer) -> float:
    """The 問24 weight alone (no 問25 waste-plant rule): used for the part of a
    municipal waste plant's demand that is not self-consumed."""
    if not consumer.is_civil:
        return 0.0
    if consumer.area == "main":
        return 1.0
    if consumer.owner in ("public", "municipal"):
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


def additional_share(generator) -> float:
    """Share of a generator's capacity and output that is new (追加的, 問42) [-].

    ``new`` 1; ``existing`` 0; ``repowered`` ``(capacity_kw - existing_kw) /
    capacity_kw`` (only the increase counts; the schema refuses a repowered
    plant that is not larger than before).
    """
    if generator.status == "new":
        return 1.0
    if generator.status == "existing":
        return 0.0
    return (generator.capacity_kw - generator.existing_kw) / generator.capacity_kw


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


def emission_factor(scenario: Scenario, spec: AccountingSpec | None = None
                    ) -> tuple[float, str]:
    """The CO2 factor of the grid power displaced [kg-CO2/kWh], and its source.

    ``[accounting] emission_factor_kg_per_kwh`` when given; otherwise
    0.496 on an isolated grid (Kyushu Electric's island supply) and 0.438
    elsewhere (Kyushu Electric retail), both FY2017. Set your own utility's
    figure (the Ministry's yearly 電気事業者別排出係数).
    """
    spec = spec or scenario.accounting
    if spec.emission_factor_kg_per_kwh is not None:
        return spec.emission_factor_kg_per_kwh, "scenario [accounting]"
    value = EMISSION_FACTOR_ISLAND if scenario.grid.isolated else EMISSION_FACTOR_MAINLAND
    return value, "default: " + EMISSION_FACTOR_SOURCES[value]


def co2_basis(scenario: Scenario, spec: AccountingSpec | None = None) -> str:
    """Which supply displaces grid power: ``hourly`` (isolated grid) or ``annual``."""
    spec = spec or scenario.accounting
    if spec.co2_basis is not None:
        return spec.co2_basis
    return "hourly" if scenario.grid.isolated else "annual"
