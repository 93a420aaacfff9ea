"""The scenario schema (pydantic), TOML loading and one-line validation errors.

A scenario file describes one region for one calendar year: where it is, the
weather, its consumers, its generators and storage, and options. Conventions
that hold for every row:

* every quantity on a row is the row's **total**: a group of 2,000 identical
  households with ``count = 2000`` has ``annual_kwh`` of all 2,000 together,
  and a generator ``capacity_kw`` is the whole installed capacity;
* units are in the field names (``_kw``, ``_kwh``, ``_m``, ``_jpy``); shares
  are fractions in [0, 1], never percent, except ``losses_percent``;
* file paths are relative to the scenario file.

Sections other modules extend (accounting, finance, score, future, sweep,
optimize) are
declared here so that one schema validates the whole file.
"""

from __future__ import annotations

import csv
import difflib
import functools
import math
import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError,
                      field_validator, model_validator)

from sim.errors import InputError
from sim.inputs.paths import PROFILES
from sim.io import check_input_file

SECTORS = ("household", "commercial", "public", "waste_plant", "water_works",
           "industry", "transport")
#: sectors of the civil sector (民生 = 家庭 + 業務その他) unless a row says otherwise
CIVIL_SECTORS = frozenset({"household", "commercial", "public", "waste_plant",
                           "water_works"})
#: archetype used when a consumer names none
DEFAULT_ARCHETYPE = {"household": "household", "commercial": "commerce",
                     "public": "public_hall", "waste_plant": "waste_plant",
                     "water_works": "water_works", "industry": "flat",
                     "transport": "flat"}

NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Pos = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Week = Annotated[int, Field(ge=1, le=53)]


@functools.lru_cache(maxsize=1)
def known_archetypes() -> tuple[str, ...]:
    """Archetype names with a shipped shape (``profiles/demand/daily_shapes.csv``).

    Read here, not from :mod:`sim.physics.demand`, because inputs sit below
    physics; empty if the table cannot be read (physics then reports it).
    """
    try:
        with open(PROFILES / "demand" / "daily_shapes.csv", encoding="utf-8") as f:
            rows = csv.DictReader(line for line in f if not line.startswith("#"))
            return tuple(dict.fromkeys(r["archetype"].strip() for r in rows))
    except (OSError, KeyError):
        return ()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True,
                              str_strip_whitespace=True)


def _standard_offset_h(zone: str, year: int) -> float:
    """Standard (winter or summer, the smaller) UTC offset of a zone. [h]"""
    tz = ZoneInfo(zone)
    offs = [datetime(year, m, 1, tzinfo=tz).utcoffset().total_seconds() / 3600
            for m in (1, 7)]
    return min(offs)


def _lon_gap(a: float, b: float) -> float:
    """Angle between two longitudes. [°]"""
    return abs((a - b + 180.0) % 360.0 - 180.0)


class Region(_Model):
    """Where and when: the proposing municipality and the simulated year."""

    name: str
    municipality: str = Field(description="the proposing municipality (提案団体)")
    prefecture: str
    co_proposers: list[str] = Field(default_factory=list,
                                    description="co-proposing municipalities (共同提案者)")
    prefecture_led: bool = Field(False, description="a prefecture-led plan (問26)")
    latitude: float = Field(ge=-90, le=90, description="[°], north positive")
    longitude: float = Field(ge=-180, le=180, description="[°], east positive")
    altitude_m: float = Field(0.0, ge=-10, le=4000)
    timezone: str = "Asia/Tokyo"
    year: int = Field(ge=1990, le=2100, description="calendar year simulated")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone such as 'Asia/Tokyo', got {value!r}")
        return value

    @model_validator(mode="after")
    def _longitude_fits_zone(self):
        # Guard against swapped latitude/longitude and a wrong zone: a site's
        # longitude lies near its zone's meridian (15° per hour of standard
        # offset; China's single zone spans ~47°, so 50° is the limit).
        off = _standard_offset_h(self.timezone, self.year)
        gap = _lon_gap(self.longitude, 15.0 * off)
        if gap > 50.0:
            hint = (" (latitude and longitude look swapped)"
                    if abs(self.longitude) <= 90 and _lon_gap(self.latitude, 15.0 * off) <= 50.0
                    else "")
            raise ValueError(f"longitude {self.longitude:g}° is {gap:.0f}° from the meridian "
                             f"of time zone {self.timezone} (UTC{off:+g}, {15 * off:g}°); "
                             f"expected within 50°{hint}")
        return self


class WeatherSpec(_Model):
    """Weather source: ``"default"`` (the embedded synthetic island year) or a file."""

    source: str = "default"
    max_distance_km: Pos = Field(50.0, description="largest distance from the file's "
                                 "station to the site [km]")
    distant_ok: bool = Field(False, description="use a file from further than "
                             "max_distance_km on purpose (reported)")
    clock_tolerance_h: Pos = Field(0.75, le=6, description="largest shift of the daily "
                                   "irradiance centroid from solar noon; 0.75 h, not 1 h: "
                                   "hour-ending labels read as hour-starting measure +1.0 h, "
                                   "which a 1 h limit would sit on (correct files: within "
                                   "0.1 h) [h]")
    min_quality: int = Field(5, ge=0, le=8, description="lowest usable JMA quality flag "
                             "(品質情報: 8 normal, 5 quasi-normal, 4 insufficient...)")
    wind_height_m: Pos | None = Field(None, le=300, description="height of the file's "
                                      "wind speed; default the anemometer height a METPV-11 "
                                      "file states, else 10 m [m]")


class GridSpec(_Model):
    """The grid the area sits on."""

    isolated: bool = Field(False, description="an island grid (問46: hourly matching)")
    must_run_kw: NonNeg = Field(0.0, description="minimum output of the island's thermal "
                                "units (下げ代 limit) [kW]")


class Consumer(_Model):
    """One consumer, or a group of ``count`` identical ones (totals on the row)."""

    id: str = Field(min_length=1)
    sector: Literal[SECTORS]  # type: ignore[valid-type]
    civil: bool | None = Field(None, description="civil sector (民生); default from sector")
    owner: Literal["public", "private", "municipal", "prefecture", "association"] = Field(
        "private", description="private; a local government (地方公共団体: 'municipal' "
        "市区町村, 'prefecture' 都道府県, 'association' 一部事務組合・広域連合); or "
        "'public': another public body, not a local government (問24, 問25)")
    area: Literal["main", "added"] = Field("main", description="inside the main area, or "
                                           "a facility added outside it (問24)")
    model_case: bool = Field(False, description="accepted as a model case: counts 100 % (問24)")
    municipality: str | None = Field(None, description="where it is; default: the region's")
    count: int = Field(1, ge=1)
    annual_kwh: NonNeg | None = Field(None, description="annual demand of the row before "
                                      "savings [kWh]")
    meter_file: str | None = Field(None, description="hourly or 30-minute kWh of this consumer")
    meter_id: str | None = None
    meter_label: Literal["start", "end"] = "start"
    archetype: str | None = None
    savings: float = Field(0.0, ge=0, lt=1, description="share of demand saved [-]")
    temperature_sensitivity: float = Field(0.0, ge=0, le=0.2,
                                           description="demand change per °C beyond comfort [1/°C]")
    shape_table: dict[str, list[NonNeg]] | None = Field(
        None, description="own daily shape: {workday = [24], holiday = [24]} or {all = [24]}, "
        "relative load per local hour (instead of an archetype)")
    shape_file: str | None = Field(None, description="own hourly shape: CSV of 8760/8784 "
                                   "relative values (instead of an archetype)")
    obon: bool | None = Field(None, description="read Obon (13-16 Aug) as holidays; "
                              "default: office and factory archetypes do")

    @field_validator("archetype")
    @classmethod
    def _known_archetype(cls, value: str | None) -> str | None:
        names = known_archetypes()
        if value is not None and names and value not in names:
            raise ValueError(f"unknown demand archetype {value!r}{_hint(value, names)}; "
                             f"expected one of {', '.join(names)} (docs/scenario.md#archetypes)")
        return value

    @model_validator(mode="after")
    def _one_demand_source(self):
        if (self.annual_kwh is None) == (self.meter_file is None):
            raise ValueError("expected exactly one of annual_kwh or meter_file")
        given = [n for n in ("archetype", "shape_table", "shape_file")
                 if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"expected one of archetype, shape_table or shape_file, "
                             f"got {' and '.join(given)}")
        if self.meter_file is not None and (self.shape_table or self.shape_file):
            raise ValueError("a metered consumer has its own shape: drop shape_table / "
                             "shape_file")
        return self

    @property
    def is_civil(self) -> bool:
        """Whether the row belongs to the civil sector (民生部門)."""
        return self.sector in CIVIL_SECTORS if self.civil is None else self.civil

    @property
    def shape(self) -> str:
        """The demand archetype used for the row."""
        return self.archetype or DEFAULT_ARCHETYPE[self.sector]


class _GeneratorBase(_Model):
    id: str = Field(min_length=1)
    capacity_kw: Pos = Field(description="installed capacity of the row [kW] (kWp DC for PV)")
    site: str | None = Field(None, description="id of the consumer it is on-site at; "
                             "none = off-site, feeding the regional pool")
    municipality: str | None = Field(None, description="where it is; default: the region's")
    prefecture: str | None = Field(None, description="where it is; default: the region's")
    inside_area: bool = Field(True, description="sited inside the target area")
    owner: Literal["public", "private", "municipal", "prefecture", "association"] = "private"
    status: Literal["new", "existing", "repowered"] = "new"
    existing_kw: NonNeg = Field(0.0, description="capacity before repowering (問42) [kW]")
    existing_output_kwh_per_year: NonNeg | None = Field(
        None, allow_inf_nan=False, description="annual output of the plant before "
        "repowering (問42: only the output increase counts) [kWh/yr]")
    existing_output_source: str | None = Field(
        None, description="where existing_output_kwh_per_year comes from (plant records, "
        "FIT reports, …)")
    grant_funded: bool | None = Field(
        None, description="built with the 地域脱炭素推進交付金 (問26 ※1: then it may supply "
        "over the grid only consumers of its own municipality); default: a new or "
        "repowered plant with a grant rate > 0 in [finance]; false also sets its grant to 0")
    support: Literal["non_fit", "fit", "fip"] = "non_fit"
    environmental_value: bool | None = Field(
        None, description="environmental value bought back and attached (問27); "
        "required for FIT and FIP plants")
    capex_jpy_per_kw: NonNeg | None = None
    opex_jpy_per_kw_year: NonNeg | None = None
    useful_life_years: Pos | None = None

    @model_validator(mode="after")
    def _status_and_support(self):
        if self.status == "repowered":
            # 問42 counts the output increase (発電量 kWh/年), so the plant's output
            # before repowering is needed, with where the figure comes from
            if self.existing_kw <= 0:
                raise ValueError("a repowered plant needs existing_kw > 0 (問42)")
            if not self.existing_output_kwh_per_year:
                raise ValueError("a repowered plant needs existing_output_kwh_per_year > 0, "
                                 "the annual output before repowering (問42 counts the "
                                 "output increase)")
            if not self.existing_output_source:
                raise ValueError("a repowered plant needs existing_output_source: where "
                                 "existing_output_kwh_per_year comes from (問42)")
        elif self.existing_kw or self.existing_output_kwh_per_year is not None:
            raise ValueError(f"existing_kw and existing_output_kwh_per_year apply to "
                             f"repowered plants only; status is {self.status!r}")
        if self.support in ("fit", "fip") and self.environmental_value is None:
            raise ValueError(f"a {self.support.upper()} plant needs environmental_value = "
                             "true or false (問27)")
        return self


class PvGenerator(_GeneratorBase):
    """Photovoltaics, modelled with pvlib (PVWatts)."""

    kind: Literal["pv"]
    tilt: float = Field(20.0, ge=0, le=90, description="[°] from horizontal")
    azimuth: float = Field(180.0, ge=0, lt=360, description="[°] clockwise from north")
    losses_percent: float = Field(14.0, ge=0, lt=100, description="system losses [%]")
    dc_ac_ratio: float = Field(1.15, gt=0.5, le=2.0)


class WindGenerator(_GeneratorBase):
    """Wind turbines: hub-height extrapolation and a real power curve."""

    kind: Literal["wind"]
    hub_height_m: Pos = Field(le=200)
    turbine_type: str = Field("E-53/800", description="a power curve in windpowerlib's "
                              "turbine library")
    roughness_length_m: Pos = Field(0.15, le=3)
    losses_percent: float = Field(
        12.0, ge=0, lt=100, description="availability, wake, electrical and other losses "
        "after the power curve [%]; 12 % is a typical pre-construction P50 total for a "
        "small onshore farm (availability ~3, wake ~5, electrical ~2, other ~2)")
    turbines: int | None = Field(None, ge=1, description="number of turbines; needed when "
                                 "capacity_kw is not a whole number of the rating (the "
                                 "capacity then caps the output)")
    density_correction: bool = Field(True, description="correct the power curve for the "
                                     "air density of the weather (IEC 61400-12-1)")


class _Fuel(_Model):
    """Fuel cost of a thermal plant: per kWh, or per tonne with a heating value."""

    fuel_cost_jpy_per_kwh: NonNeg | None = Field(None, description="fuel cost per kWh "
                                                 "generated [JPY/kWh]")
    fuel_cost_jpy_per_t: NonNeg | None = Field(None, description="fuel price as received "
                                               "[JPY/t]")
    fuel_heating_value_mj_per_kg: Pos | None = Field(None, le=50, description="lower "
                                                     "heating value as received [MJ/kg]")
    net_efficiency: float | None = Field(None, gt=0, le=0.6, description="net electrical "
                                         "efficiency [-]")

    @model_validator(mode="after")
    def _one_fuel_basis(self):
        per_t = (self.fuel_cost_jpy_per_t, self.fuel_heating_value_mj_per_kg,
                 self.net_efficiency)
        if self.fuel_cost_jpy_per_kwh is not None and self.fuel_cost_jpy_per_t is not None:
            raise ValueError("give fuel_cost_jpy_per_kwh or fuel_cost_jpy_per_t, not both")
        if self.fuel_cost_jpy_per_t is not None and None in per_t:
            raise ValueError("fuel_cost_jpy_per_t needs fuel_heating_value_mj_per_kg and "
                             "net_efficiency")
        return self

    _DEFAULT_FUEL_JPY_PER_KWH = 0.0

    @property
    def fuel_jpy_per_kwh(self) -> float:
        """Fuel cost per kWh generated [JPY/kWh]: price / (LHV x efficiency / 3.6)."""
        if self.fuel_cost_jpy_per_kwh is not None:
            return float(self.fuel_cost_jpy_per_kwh)
        if self.fuel_cost_jpy_per_t is not None:
            kwh_per_t = self.fuel_heating_value_mj_per_kg * 1000.0 / 3.6 * self.net_efficiency
            return float(self.fuel_cost_jpy_per_t) / kwh_per_t
        return self._DEFAULT_FUEL_JPY_PER_KWH


#: Default biomass fuel cost [JPY/kWh]: an engineering estimate, wood chips at
#: 12,000 JPY/t as received (about 40 % moisture, LHV about 10 MJ/kg) burnt at 20 %
#: net efficiency in a small steam plant: 12,000 / (10,000 / 3.6 x 0.2) = 21.6.
DEFAULT_BIOMASS_FUEL_JPY_PER_KWH = 12_000 / (10_000 / 3.6 * 0.2)


class BiomassGenerator(_GeneratorBase, _Fuel):
    """Steam-cycle biomass: availability, planned outage weeks and fuel cost."""

    kind: Literal["biomass"]
    availability: float = Field(0.85, gt=0, le=1)
    load_factor: float = Field(1.0, gt=0, le=1)
    outage_weeks: list[Week] = Field(default_factory=list)
    forced_outages: Literal["events", "derate"] = Field(
        "events", description="seeded forced-outage events, or a uniform derate")
    outage_seed: int | None = Field(None, ge=0, description="seed of the outage events; "
                                    "default from the row id")
    _DEFAULT_FUEL_JPY_PER_KWH = DEFAULT_BIOMASS_FUEL_JPY_PER_KWH


class WasteGenerator(_GeneratorBase, _Fuel):
    """Waste-to-energy: weekly throughput, shutdown weeks and the biomass ratio (問31).

    Defaults (load factor 0.6, four shutdown weeks) give an annual capacity
    factor of 55 %, an estimate for an average plant; two large continuous
    plants found run at 72-74 % (load factor about 0.8; figures and sources in
    ``sim.physics.waste``). Fuel cost defaults to 0: the plant is paid to take
    the waste.
    """

    kind: Literal["waste"]
    biomass_ratio: Share = Field(description="1 - plastic share, from the waste "
                                 "composition survey (問31) [-]")
    load_factor: float = Field(0.6, gt=0, le=1)
    weekly_schedule: list[Share] | None = Field(None, description="throughput Mon..Sun [-]")
    shutdown_weeks: list[Week] = Field(default_factory=lambda: [22, 23, 42, 43],
                                       description="ISO weeks of planned shutdown")

    @field_validator("weekly_schedule")
    @classmethod
    def _seven_days(cls, value):
        if value is not None and len(value) != 7:
            raise ValueError(f"expected 7 daily shares Mon..Sun, got {len(value)}")
        return value


Generator = Annotated[Union[PvGenerator, WindGenerator, BiomassGenerator, WasteGenerator],
                      Field(discriminator="kind")]


class Battery(_Model):
    """A battery on-site at a consumer, or the community battery (``site = "community"``)."""

    id: str = Field(min_length=1)
    site: str = Field(description="a consumer id, or 'community'")
    capacity_kwh: Pos
    power_kw: Pos
    status: Literal["new", "existing"] = "new"
    owner: Literal["public", "private", "municipal", "prefecture", "association"] = "private"
    capex_jpy_per_kwh: NonNeg | None = None
    opex_jpy_per_kwh_year: NonNeg | None = None
    useful_life_years: Pos | None = None


class Options(_Model):
    """Dispatch options (docs/design.md section 4)."""

    share_onsite_surplus: bool = True
    battery_efficiency: float = Field(0.9, gt=0, le=1, description="round trip [-]")
    soc_initial: Share = 0.0
    dtype: Literal["float64", "float32"] = "float64"


class _Open(_Model):
    """A section owned by a module that extends it (accounting, finance, …)."""

    model_config = ConfigDict(extra="allow")


# -- [future]: the 2030-2050 sensitivity study (sim/future.py) ------------------
# Defaults and the reason for each are documented in sim/future.py and README.md.

Year = Annotated[int, Field(ge=1990, le=2100)]


class FutureSeriesRow(_Model):
    """One municipality-year of a projection given in the scenario itself."""

    municipality: str = Field(min_length=1)
    year: Year
    population: Pos
    households: Pos | None = Field(None, description="default: population / the "
                                   "shipped projection's household size path")
    share_65plus: Share | None = None


class FutureDemandResponse(_Model):
    """How each sector's demand follows the projection (exponents on ratios)."""

    household_elasticity: float = Field(1.0, ge=0, le=3, description="on households")
    household_size_elasticity: float = Field(0.0, ge=0, le=3, description="on persons "
                                             "per household")
    commercial_elasticity: float = Field(1.0, ge=0, le=3, description="on population")
    public_elasticity: float = Field(0.5, ge=0, le=3, description="on population")
    water_works_elasticity: float = Field(1.0, ge=0, le=3, description="on population")
    waste_plant_elasticity: float = Field(1.0, ge=0, le=3, description="on population")
    ageing_coefficient: float = Field(1.0, ge=0, le=5, description="daytime_shift per "
                                      "unit rise of the 65+ share")


class FutureConsumer(_Model):
    """Override of one consumer row's driver and elasticity."""

    driver: Literal["households", "population", "none"] | None = None
    elasticity: float | None = Field(None, ge=0, le=3)
    ageing: bool | None = Field(None, description="shift a household shape to daytime")


class FutureClosure(_Model):
    """A facility that closes, or merges into another, from ``year`` on."""

    consumer: str = Field(min_length=1)
    year: Year
    share: float = Field(1.0, gt=0, le=1, description="share of the row that closes "
                         "(1 of 6 schools: 1/6)")
    into: str | None = Field(None, description="consumer that takes the users over (merger)")
    transfer: Share = Field(0.0, description="share of the closed demand moved to `into`")

    @model_validator(mode="after")
    def _transfer_needs_target(self):
        if self.transfer > 0 and self.into is None:
            raise ValueError("transfer > 0 needs `into`, the consumer that takes it over")
        return self


class FutureDegradation(_Model):
    """Output lost per year of age, compounding [1/yr]."""

    pv: float = Field(0.005, ge=0, lt=0.2)
    wind: float = Field(0.0, ge=0, lt=0.2)
    biomass: float = Field(0.0, ge=0, lt=0.2)
    waste: float = Field(0.0, ge=0, lt=0.2)
    battery: float = Field(0.02, ge=0, lt=0.5, description="capacity fade [1/yr]")


class FutureLives(_Model):
    """Useful lives [years] used for retirements (statutory, docs/rules.md)."""

    pv: Pos = 17
    wind: Pos = 17
    biomass: Pos = 15
    waste: Pos = 15
    battery_onsite: Pos = 6
    battery_community: Pos = 17


class FuturePlant(_Model):
    """Age and life of one generator or battery (keyed by its id)."""

    commissioned: Year | None = Field(None, description="default: the base year")
    life_years: Pos | None = None
    replace: bool | None = Field(None, description="renewed like for like at end of life")
    degradation_per_year: float | None = Field(None, ge=0, lt=0.5)


class FutureAddition(_Model):
    """Generators and batteries commissioned in a later year."""

    year: Year
    generators: list[Generator] = Field(default_factory=list)
    storage: list[Battery] = Field(default_factory=list)


class FutureThresholds(_Model):
    """Thresholds of the findings."""

    utilisation_min: Share = Field(0.8, description="delivered / generated")
    spill_share_max: Share = Field(0.2, description="spill / generated")


class FutureSpec(_Model):
    """The ``[future]`` section: the 2030-2050 sensitivity study (問37)."""

    years: list[Year] | None = Field(None, description="default: the base year, then every "
                                   "fifth year after it (2025, 2030, …) up to 2050")
    base_year: Year | None = Field(None, description="year the scenario's demand "
                                   "describes; default region.year")
    projection: str = Field("default", description="'default' (profiles/population) "
                            "or a CSV file in the same format")
    series: list[FutureSeriesRow] = Field(default_factory=list)
    variants: list[Literal["reference", "harsher", "milder"]] = Field(
        default_factory=lambda: ["reference", "harsher", "milder"], min_length=1)
    harsher_factor: float = Field(1.5, ge=1, le=5, description="x the projected decline")
    milder_factor: float = Field(0.5, ge=0, le=1, description="x the projected decline")
    demand: FutureDemandResponse = Field(default_factory=FutureDemandResponse)
    consumers: dict[str, FutureConsumer] = Field(default_factory=dict)
    closures: list[FutureClosure] = Field(default_factory=list)
    degradation: FutureDegradation = Field(default_factory=FutureDegradation)
    lives: FutureLives = Field(default_factory=FutureLives)
    replace: bool = Field(False, description="renew every plant at end of life")
    plants: dict[str, FuturePlant] = Field(default_factory=dict)
    additions: list[FutureAddition] = Field(default_factory=list)
    waste_throughput_elasticity: float = Field(1.0, ge=0, le=3, description="waste "
                                               "power output on population")
    thresholds: FutureThresholds = Field(default_factory=FutureThresholds)


_SWEEP_TARGET = re.compile(r"^(?:(?:generators|consumers|storage)\[[^\[\]]+\]\.\w+"
                           r"|(?:community|grid|options)\.\w+"
                           r"|(?:finance|accounting|score)(?:\.\w+)+)$")
_SWEEP_CONSTRAINT = re.compile(r"^\s*(\w+)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$")


class SweepParameter(_Model):
    """One swept parameter of ``[sweep]``: a target and its values (docs/sweep.md)."""

    target: str = Field(description="e.g. 'generators[solar_farm].scale', "
                        "'generators[kind=pv].scale', 'consumers[households_pv].battery_kwh', "
                        "'community.capacity_kwh', 'finance.grant_rate'")
    name: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                             description="dimension name; default from the target")
    values: list[Annotated[float, Field(allow_inf_nan=False)]] | None = None
    start: float | None = Field(None, allow_inf_nan=False)
    stop: float | None = Field(None, allow_inf_nan=False)
    step: float | None = Field(None, gt=0, allow_inf_nan=False)
    num: int | None = Field(None, ge=1)

    @field_validator("target")
    @classmethod
    def _target_syntax(cls, value: str) -> str:
        if not _SWEEP_TARGET.match(value):
            raise ValueError(f"expected a target like 'generators[ID].scale', "
                             f"'consumers[ID].battery_kwh', 'community.capacity_kwh' or "
                             f"'finance.KEY', got {value!r}")
        return value

    @model_validator(mode="after")
    def _values_or_range(self):
        ranged = self.start is not None or self.stop is not None
        if self.values is not None and (ranged or self.step or self.num):
            raise ValueError("expected either values or start/stop, not both")
        if self.values is not None and not self.values:
            raise ValueError("empty list of values")
        if (self.step or self.num) and not ranged:
            raise ValueError("step and num need start and stop")
        if ranged and (self.start is None or self.stop is None):
            raise ValueError("expected both start and stop")
        if self.step is not None and self.num is not None:
            raise ValueError("expected step or num, not both")
        if ranged and self.start > self.stop:
            raise ValueError(f"empty range: start {self.start} > stop {self.stop}")
        return self


class SweepSpec(_Model):
    """The ``[sweep]`` section: what to vary and how to pick cases (docs/sweep.md)."""

    mode: Literal["product", "table", "lhs"] | None = Field(
        None, description="default: 'table' with a table, 'lhs' with samples, else 'product'")
    parameters: list[SweepParameter] = Field(default_factory=list)
    table: str | None = Field(None, description="CSV of cases, one column per parameter")
    samples: int | None = Field(None, ge=1, description="Latin hypercube sample size")
    seed: int = Field(0, ge=0)
    chunk_size: int = Field(32, ge=1, le=100_000, description="cases per stored chunk")
    objective: str | None = Field(None, description="figure ranked in best.csv; default: "
                                  "total cost per t-CO2 if evaluated, else hourly share")
    sense: Literal["min", "max"] | None = None
    constraints: list[str] = Field(default_factory=list,
                                   description="e.g. 'hourly_matched_share >= 0.9'")
    best: int = Field(20, ge=1, description="rows in best.csv")
    hourly_cases: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list, description="cases whose hourly results are written")
    format: Literal["zarr", "netcdf"] = "zarr"
    retries: int = Field(2, ge=0, le=20, description="Dask retries of a failed chunk")

    @field_validator("constraints")
    @classmethod
    def _constraint_syntax(cls, value: list[str]) -> list[str]:
        for c in value:
            if not _SWEEP_CONSTRAINT.match(c):
                raise ValueError(f"expected a constraint like 'hourly_matched_share >= 0.9', "
                                 f"got {c!r}")
        return value

    @model_validator(mode="after")
    def _mode_needs(self):
        mode = self.resolved_mode
        if mode == "table" and self.table is None:
            raise ValueError("mode 'table' needs table = 'FILE.csv'")
        if mode == "lhs" and self.samples is None:
            raise ValueError("mode 'lhs' needs samples = N")
        for i, p in enumerate(self.parameters):
            has = p.values is not None or p.start is not None
            if mode == "table" and has:
                raise ValueError(f"parameters[{i}] ({p.target}): values come from the table "
                                 f"in mode 'table'")
            if mode != "table" and not has:
                raise ValueError(f"parameters[{i}] ({p.target}): expected values or "
                                 f"start/stop")
            if mode == "lhs" and (p.step is not None or p.num is not None):
                raise ValueError(f"parameters[{i}] ({p.target}): mode 'lhs' samples "
                                 f"start..stop; step and num do not apply")
        return self

    @property
    def resolved_mode(self) -> str:
        """The mode, inferred from ``table``/``samples`` when not given."""
        if self.mode is not None:
            return self.mode
        return "table" if self.table else "lhs" if self.samples else "product"


# -- [optimize]: the least-cost mix meeting targets (sim/studies/optimize.py) ---

class OptimizeVariable(_Model):
    """One decision variable of ``[optimize]``: a sweep target and its bounds.

    Bounds are in the target's own unit (kW, kWh, a scale factor …). With
    ``step`` (or ``integer = true``, step 1) the value is a whole number of
    steps: ``step = 800`` on a wind farm's ``capacity_kw`` counts 800 kW turbines.
    """

    target: str = Field(description="as in [[sweep.parameters]], e.g. "
                        "'generators[solar_farm].capacity_kw', 'community.capacity_kwh'")
    name: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                             description="column name; default from the target")
    lower: float = Field(allow_inf_nan=False, description="lower bound, target unit")
    upper: float = Field(allow_inf_nan=False, description="upper bound, target unit")
    integer: bool = Field(False, description="whole numbers of step (default step 1)")
    step: float | None = Field(None, gt=0, allow_inf_nan=False,
                               description="size of one unit, e.g. one turbine's kW")

    _target = field_validator("target")(classmethod(
        lambda cls, v: SweepParameter._target_syntax(v)))

    @model_validator(mode="after")
    def _bounds(self):
        if self.lower > self.upper:
            raise ValueError(f"empty bounds: lower {self.lower:g} > upper {self.upper:g}")
        if self.step is not None or self.integer:
            step = self.step or 1.0
            n_lo = math.ceil(self.lower / step - 1e-9)
            n_hi = math.floor(self.upper / step + 1e-9)
            if n_lo > n_hi:
                raise ValueError(f"empty bounds: no multiple of step {step:g} in "
                                 f"[{self.lower:g}, {self.upper:g}]")
        return self


class OptimizeSpec(_Model):
    """The ``[optimize]`` section: least-cost sizing under targets (docs/optimize.md)."""

    variables: list[OptimizeVariable] = Field(default_factory=list)
    objective: str = Field("annualised_cost", description="'annualised_cost', 'capex', "
                           "'cost_per_t_co2' or any figure of the evaluation")
    sense: Literal["min", "max"] = "min"
    constraints: list[str] = Field(default_factory=list, description="e.g. "
                                   "'hourly_matched_share >= 0.9', 'balance_hourly_ok == true'")
    discount_rate: float = Field(0.03, ge=0, le=1, allow_inf_nan=False,
                                 description="for the annualised cost (capital recovery) [-]")
    seed: int = Field(0, ge=0)
    popsize: int = Field(10, ge=2, le=1000, description="population = popsize x variables")
    generations: int = Field(60, ge=1, le=100_000, description="maximum generations")
    tol: float = Field(1e-3, ge=0, allow_inf_nan=False,
                       description="relative spread of the population's objective to stop")
    stall_generations: int = Field(0, ge=0, le=100_000,
                                   description="stop when the best feasible objective has "
                                   "improved by no more than stall_tol over this many "
                                   "generations (0: off)")
    stall_tol: float = Field(1e-3, ge=0, allow_inf_nan=False,
                             description="relative improvement that counts for "
                             "stall_generations [-]")
    marginal: bool = Field(True, description="re-solve each target at ±1 point")
    marginal_generations: int = Field(20, ge=1, le=100_000,
                                      description="generations of each warm-started re-solve")
    bound_tol: float = Field(0.01, ge=0, le=0.5, allow_inf_nan=False,
                             description="share of a variable's range that counts as "
                             "'on the bound'")

    @field_validator("constraints")
    @classmethod
    def _constraint_syntax(cls, value: list[str]) -> list[str]:
        return SweepSpec._constraint_syntax(value)


def _kg_per_kwh(value: float | None) -> float | None:
    """An emission factor in kg-CO2/kWh, with a hint when the unit is wrong."""
    if value is None:
        return value
    if value >= 2:
        raise ValueError(f"expected kg-CO2/kWh (0 < x < 2), got {value:g}: that looks like "
                         f"g-CO2/kWh; write {value / 1000:g}")
    if value <= 0:
        raise ValueError(f"expected kg-CO2/kWh (0 < x < 2), got {value:g}")
    if value < 0.001:
        raise ValueError(f"expected kg-CO2/kWh (0 < x < 2), got {value:g}: that looks like "
                         f"t-CO2/kWh; write {value * 1000:g}")
    return value


class AccountingSpec(_Model):
    """The ``[accounting]`` section: how the programme's figures are counted.

    See docs/figures.md (sim.programme.rules, sim.programme.evaluate) for every figure and rule.
    """

    emission_factor_kg_per_kwh: float | None = Field(
        None, allow_inf_nan=False, description="CO2 factor of the grid power displaced "
        "[kg-CO2/kWh], stated by the scenario with emission_factor_source (問28); "
        "default: a row of profiles/emission_factors/factors.csv")
    emission_factor_source: str | None = Field(
        None, description="where emission_factor_kg_per_kwh comes from (required with it, "
        "問28: 排出係数の出典)")
    emission_factor_area: str | None = Field(
        None, description="supply area of the table profiles/emission_factors/factors.csv "
        "(e.g. 'kyushu', 'kyushu_island'); default from region.prefecture and "
        "grid.isolated")
    emission_factor_fiscal_year: int | None = Field(
        None, ge=2000, le=2100, description="fiscal year of the table row; default the "
        "latest fiscal year in the table not after region.year")
    emission_factor_kind: Literal["basic", "adjusted"] = Field(
        "adjusted", description="the table's basic (基礎排出係数) or adjusted (調整後排出係数) "
        "factor")
    plastic_co2_kg_per_kwh: float | None = Field(
        None, allow_inf_nan=False, description="CO2 to offset per kWh of the waste plastic "
        "share supplied (問31) [kg-CO2/kWh]; default: the emission factor")
    certificates_kwh: NonNeg = Field(0.0, description="renewable certificates bought and "
                                     "attached to civil supply (再エネ等) [kWh/yr]")
    co2_basis: Literal["hourly", "annual"] | None = Field(
        None, description="supply that displaces grid power: 'hourly' (delivered) or "
        "'annual' (netted); default hourly on an isolated grid, else annual")
    waste_plant_discount: Literal["demand", "self_consumption"] = Field(
        "demand", description="what a local government's waste plant's ×0 applies to "
        "(問25's 自家消費量): its whole demand (default, the stricter reading), or only "
        "the part met by its own generation")
    local_production_basis: Literal["hourly", "annual"] = Field(
        "hourly", description="basis of 地産地消率 on a grid that is not isolated (問26): "
        "'hourly' (delivered hour by hour, the stricter reading, default) or 'annual' "
        "(netted); always hourly on an isolated grid (問46)")
    grant_municipality_rule: Literal["exclude", "list"] = Field(
        "exclude", description="問26 ※1: energy of a grant-funded plant delivered over the "
        "grid to consumers of another municipality is excluded from supply and listed "
        "('exclude', default) or only listed ('list')")

    _ef = field_validator("emission_factor_kg_per_kwh", "plastic_co2_kg_per_kwh")(
        classmethod(lambda cls, v: _kg_per_kwh(v)))

    @model_validator(mode="after")
    def _factor_has_source(self):
        if self.emission_factor_kg_per_kwh is not None and not self.emission_factor_source:
            raise ValueError("emission_factor_kg_per_kwh needs emission_factor_source: the "
                             "published list and fiscal year it comes from (問28)")
        return self


class FinanceSpec(_Model):
    """The ``[finance]`` section: grant, prices and periods (sim.programme.finance)."""

    grant_rate: Share = Field(2 / 3, description="grant (交付金) share of capital cost [-]")
    grant_rates: dict[str, Share] = Field(default_factory=dict,
                                          description="per-project grant share [-]")
    standard_grant_rate: Share = Field(2 / 3, description="the programme's rate, to tell "
                                       "a lower rate (scoring (3)) [-]")
    purchase_price_jpy_per_kwh: NonNeg = Field(30.0, description="grid purchase avoided "
                                               "[JPY/kWh]")
    sale_price_jpy_per_kwh: NonNeg = Field(8.0, description="price of spilled energy sold "
                                           "[JPY/kWh]")
    period_years: Pos | None = Field(None, description="period of the cost per t-CO2 "
                                     "[yr]; default: capital-weighted useful life")
    payback_basis: Literal["net_of_grant", "total"] = "net_of_grant"
    costs: str | None = Field(None, description="CSV of default costs and lives per kind "
                              "(default profiles/finance/defaults.csv)")


class ScoreSpec(_Model):
    """The ``[score]`` section: the rubric and the judgement points declared."""

    rubric: str | None = Field(None, description="rubric TOML (default "
                               "profiles/rubric/default.toml)")
    declared: dict[str, NonNeg] = Field(default_factory=dict,
                                        description="points declared per judgement item id")


class Scenario(_Model):
    """A whole scenario file. Build with :func:`load_scenario`."""

    region: Region
    weather: WeatherSpec = Field(default_factory=WeatherSpec)
    grid: GridSpec = Field(default_factory=GridSpec)
    options: Options = Field(default_factory=Options)
    consumers: list[Consumer] = Field(min_length=1)
    generators: list[Generator] = Field(default_factory=list)
    storage: list[Battery] = Field(default_factory=list)
    accounting: AccountingSpec = Field(default_factory=AccountingSpec)
    finance: FinanceSpec = Field(default_factory=FinanceSpec)
    score: ScoreSpec = Field(default_factory=ScoreSpec)
    future: FutureSpec = Field(default_factory=FutureSpec)
    sweep: SweepSpec = Field(default_factory=SweepSpec)
    optimize: OptimizeSpec = Field(default_factory=OptimizeSpec)

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_references(self):
        check_references(self.consumers, self.generators, self.storage)
        return self

    @property
    def path(self) -> Path | None:
        """The file the scenario was read from, if any."""
        return self._path

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the scenario are resolved against."""
        return self._path.parent if self._path is not None else Path.cwd()

    def resolve(self, relative: str) -> Path:
        """A path named in the scenario, resolved against the scenario's folder."""
        p = Path(relative)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def local_municipalities(self) -> set[str]:
        """The proposing municipality and its co-proposers (問26)."""
        return {self.region.municipality, *self.region.co_proposers}


class _FieldError(ValueError):
    """A cross-reference error that knows its field path."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def check_references(consumers, generators, storage) -> None:
    """Cross-references of a scenario (or claim): ids unique per section, generator
    sites naming a consumer, storage sites naming a consumer or ``"community"``.

    Raises :class:`_FieldError` (field path + message) at the first error.
    """
    _unique("consumers", [c.id for c in consumers])
    _unique("generators", [g.id for g in generators])
    _unique("storage", [b.id for b in storage])
    ids = {c.id for c in consumers}
    for i, g in enumerate(generators):
        if g.site is not None and g.site not in ids:
            raise _FieldError(f"generators[{i}].site",
                              f"expected a consumer id, got {g.site!r}{_hint(g.site, ids)}")
    for i, b in enumerate(storage):
        if b.site != "community" and b.site not in ids:
            raise _FieldError(f"storage[{i}].site", f"expected a consumer id or "
                              f"'community', got {b.site!r}{_hint(b.site, ids)}")


def _unique(section: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise _FieldError(f"{section}[{i}].id", f"expected unique ids, {x!r} appears twice")
        seen.add(x)


def _hint(value: str, choices) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- loading -----------------------------------------------------------------

_UNIT_HINTS = {"_mw": "kW (…_kw)", "_w": "kW (…_kw)", "_mwh": "kWh (…_kwh)",
               "_gwh": "kWh (…_kwh)", "_wh": "kWh (…_kwh)", "_percent": "a share in [0, 1]",
               "_pct": "a share in [0, 1]", "_ft": "metres (…_m)", "_yen": "JPY (…_jpy)"}


def _loc_to_field(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("pv", "wind", "biomass", "waste") and out.startswith("generators"):
            continue  # the discriminator tag pydantic puts in the path
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_at(loc: tuple):
    """The model class whose field list applies at an error location."""
    kinds = {"pv": PvGenerator, "wind": WindGenerator, "biomass": BiomassGenerator,
             "waste": WasteGenerator}
    lists = {"consumers": Consumer, "storage": Battery}
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int) or part == "generators":
            continue  # the generator's class comes from its kind tag, next
        if part in kinds:
            model = kinds[part]
        elif part in lists:
            model = lists[part]
        else:
            ann = getattr(model, "model_fields", {}).get(part)
            ann = getattr(ann, "annotation", None)
            if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
                return None
            model = ann
    return model


def _describe(err: dict) -> str:
    kind = err["type"]
    loc = err["loc"]
    got = err.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1])
        model = _model_at(loc)
        known = list(getattr(model, "model_fields", {})) if model else []
        unit = next((hint for suffix, hint in _UNIT_HINTS.items() if name.endswith(suffix)), None)
        msg = f"unknown field {name!r}"
        if unit:
            msg += f"; gxsim expects {unit}"
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
        elif known:
            msg += f"; expected one of: {', '.join(known)}"
        return msg
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        return (f"expected kind one of 'pv', 'wind', 'biomass', 'waste', "
                f"got {got.get('kind') if isinstance(got, dict) else got!r}")
    if kind == "union_tag_not_found":
        return "expected a field 'kind': one of 'pv', 'wind', 'biomass', 'waste'"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    if kind in {"float_parsing", "float_type", "int_parsing", "int_type"} and isinstance(got, str):
        msg += " (write a plain number; units are in the field name)"
    if kind not in ("value_error",) and got is not None and not isinstance(got, (dict, list)):
        msg += f", got {got!r}"
    return msg


#: problems listed by one validation error, at most
MAX_PROBLEMS = 20


def validation_problems(errors: list[dict], describe=None) -> list[tuple[str, str]]:
    """``(field, reason)`` of every pydantic error, in file order, duplicates dropped."""
    out: list[tuple[str, str]] = []
    for err in errors:
        ctx_err = err.get("ctx", {}).get("error")
        if isinstance(ctx_err, _FieldError):
            item = (ctx_err.field, str(ctx_err))
        else:
            item = (_loc_to_field(err["loc"]), (describe or _describe)(err))
        if item not in out:
            out.append(item)
    return out


# -- guards against hostile input (before the schema sees it) ------------------

#: no quantity in any field is larger (world electricity is ~3e13 kWh a year,
#: Japan's GDP ~6e14 JPY); a larger number is a typo or an attack (1e308 → inf)
MAX_ABS_NUMBER = 1e15
#: deepest nesting of tables and arrays a scenario or claim may have
MAX_DEPTH = 32
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # in free text
_CONTROL_ID = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # in ids and keys: none at all
_UNBOUNDED = {"seed"}  # integers that are labels, not quantities


def _is_id(key) -> bool:
    return isinstance(key, str) and (key in ("id", "site", "name") or key.endswith("_id"))


def _guard_clean(node, depth: int, key) -> bool:
    """Whether :func:`guard_values` finds nothing in ``node`` (reached by ``key``
    at ``depth``): the same tests without keeping each node's location, about
    4× faster on a region of 100,000 consumers. The dict and list loops are
    written out twice on purpose: one loop over ``zip(repeat(None), node)``
    for lists measured 20 % slower."""
    if isinstance(node, dict):
        if depth >= MAX_DEPTH:
            return not node
        search = _CONTROL_ID.search
        for k, v in node.items():
            if isinstance(k, str) and search(k):
                return False
            if isinstance(v, (dict, list, tuple)):
                if not _guard_clean(v, depth + 1, k):
                    return False
            elif not _guard_leaf(v, k):
                return False
        return True
    if isinstance(node, (list, tuple)):
        if depth >= MAX_DEPTH:
            return not node
        for v in node:  # an item's key is its index: never an id nor unbounded
            if isinstance(v, (dict, list, tuple)):
                if not _guard_clean(v, depth + 1, None):
                    return False
            elif not _guard_leaf(v, None):
                return False
        return True
    return _guard_leaf(node, key)


def _guard_leaf(v, key) -> bool:
    if isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool)):
        return key in _UNBOUNDED or (math.isfinite(v) and abs(v) <= MAX_ABS_NUMBER)
    if isinstance(v, str):
        return not (_CONTROL_ID if _is_id(key) else _CONTROL).search(v)
    return True


def guard_values(data, *, source: str | Path | None = None) -> None:
    """Refuse numbers that would overflow, control characters in ids, deep nesting.

    Walks the raw mapping (as read from TOML) before validation, so the
    message names the field even where the schema would accept anything.

    Raises
    ------
    sim.InputError
        A number not finite or larger than :data:`MAX_ABS_NUMBER` in size; an
        id or key with a NUL or control character (free text: no NUL or
        control character but tab and newline); nesting deeper than
        :data:`MAX_DEPTH`.
    """
    if not _guard_clean(data, 0, None):
        # something is wrong: walk again with each node's location, for the message
        _guard_walk(data, source)


def _guard_walk(data, source) -> None:
    """:func:`guard_values`' tests node by node, raising at the first problem
    with its location."""
    def where(loc):  # built only for an error: a per-node format is a hot cost
        return dict(source=source, field=_loc_to_field(loc) or None)

    stack = [(data, ())]
    while stack:
        node, loc = stack.pop()
        if len(loc) > MAX_DEPTH:
            raise InputError(f"nested more than {MAX_DEPTH} levels deep", **where(loc))
        if isinstance(node, dict):
            for k in node:
                if isinstance(k, str) and _CONTROL_ID.search(k):
                    raise InputError(f"a key contains the control character "
                                     f"{_CONTROL_ID.search(k).group()!r}", **where(loc))
            stack += [(v, loc + (k,)) for k, v in reversed(node.items())]
        elif isinstance(node, (list, tuple)):
            stack += [(v, loc + (i,)) for i, v in reversed(list(enumerate(node)))]
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            if loc and loc[-1] in _UNBOUNDED:
                continue
            if not math.isfinite(node) or abs(node) > MAX_ABS_NUMBER:
                raise InputError(f"expected a finite number no larger than "
                                 f"{MAX_ABS_NUMBER:g} in size, got {node:g}", **where(loc))
        elif isinstance(node, str):
            bad = (_CONTROL_ID if loc and _is_id(loc[-1]) else _CONTROL).search(node)
            if bad:
                raise InputError(f"contains the control character {bad.group()!r} at "
                                 f"position {bad.start()}; expected printable text",
                                 **where(loc))


def validate(model: type[BaseModel], data: dict, *, source: str | Path | None = None,
             describe=None):
    """Validate ``data`` against a schema, turning errors into one line each.

    Parameters
    ----------
    model : pydantic model class
        The schema (:class:`Scenario`, or the claim of :mod:`sim.inputs.claim`).
    data : dict
        The mapping read from TOML.
    source : str or Path, optional
        The file, for the message.
    describe : callable, optional
        Turns one pydantic error dict into a reason; default :func:`_describe`.

    Raises
    ------
    sim.InputError
        Every problem (up to :data:`MAX_PROBLEMS`), one line each naming the file
        and the field; ``.problems`` holds them as ``(field, reason)`` pairs.
    """
    guard_values(data, source=source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc.errors(), describe)
        raise InputError.listing(problems, source=source, limit=MAX_PROBLEMS) from None


def scenario_from_dict(data: dict, *, source: str | Path | None = None) -> Scenario:
    """Validate a scenario given as a mapping (as read from TOML).

    Parameters
    ----------
    data : dict
        The scenario's sections.
    source : str or Path, optional
        Where it came from, for error messages and relative paths.

    Returns
    -------
    Scenario

    Raises
    ------
    sim.InputError
        Every problem (up to 20), one line each naming the file and field; a
        claim file given instead says to use ``gxsim verify``.
    """
    if isinstance(data, dict) and {"claimed", "meter_data"} & set(data):
        raise InputError("this is a claim file (it has a [claimed] or [meter_data] "
                         "section), not a scenario: check it with `gxsim verify "
                         f"{source or 'CLAIM.toml'}`", source=source)
    scenario = validate(Scenario, data, source=source)
    if source is not None:
        scenario._path = Path(source)
    return scenario


def scenario_hints(scenario) -> list[str]:
    """Likely mistakes that are valid input: printed as warnings and kept in notes.

    An island whose ``[grid] isolated`` is left at its default ``false`` is judged
    on annual netting, not hour by hour (問46): the verdict changes silently.
    """
    hints = []
    g = scenario.grid
    words = f"{scenario.region.name} {scenario.region.municipality}"
    if not g.isolated and (g.must_run_kw > 0 or "離島" in words
                           or "island" in words.lower()):
        why = (f"must_run_kw = {g.must_run_kw:g} (an island's thermal minimum)"
               if g.must_run_kw > 0 else "the region's name says it is an island")
        hints.append(f"grid.isolated is false although {why}: an island grid needs "
                     "[grid] isolated = true, or the balance is judged on annual "
                     "netting instead of hour by hour (問46)")
    return hints


def read_toml(path: Path) -> dict:
    """The table of a TOML file; a missing, unreadable or invalid file is an InputError."""
    if Path(path).exists():  # a FIFO, device, folder or huge file: refused unread
        check_input_file(path, "TOML file", "toml")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file ({exc.__class__.__name__}: {exc})",
                         source=path) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", source=path) from None
    except RecursionError:
        raise InputError("not valid TOML: tables or arrays nested too deeply",
                         source=path) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (TOML).

    Parameters
    ----------
    path : str or Path
        The scenario file.

    Returns
    -------
    Scenario
        The validated scenario; relative paths in it resolve against the
        file's folder.

    Raises
    ------
    sim.InputError
        If the file is missing, is not TOML, or fails validation; the message
        names the file and the field.
    """
    path = Path(path)
    scenario = scenario_from_dict(read_toml(path), source=path)
    for i, c in enumerate(scenario.consumers):
        if c.meter_file is not None and not scenario.resolve(c.meter_file).exists():
            raise InputError(f"meter file not found: {c.meter_file}", source=path,
                             field=f"consumers[{i}].meter_file")
    src = scenario.weather.source
    if src != "default" and not scenario.resolve(src).exists():
        raise InputError(f"weather file not found: {src}", source=path, field="weather.source")
    return scenario
