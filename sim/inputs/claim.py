"""The island supply claim an evaluator checks (``gxsim verify``): its schema.

A claim is a TOML file validated by a strict pydantic schema (:class:`Claim`):
the declared figures, the plants and consumers with the same fields as a
scenario plus a ``meter`` id each, tolerances, data-quality limits and the
meter data convention (interval label, unit, layout). The format is described
in ``examples/island_claim/README.md``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, Field, PrivateAttr, model_validator

from sim.inputs.scenario import (AccountingSpec, Battery, BiomassGenerator, Consumer,
                                 GridSpec, NonNeg, Options, Pos, PvGenerator, Region,
                                 Scenario, Share, WasteGenerator, WeatherSpec, WindGenerator,
                                 _describe,
                                 _FieldError, _Model, check_references, read_toml, validate)


#: claimed figure -> (label, kind "kWh" or "share", key in the evaluation's dict)
FIGURES = {
    "civil_demand_kwh": ("civil demand (民生電力需要)", "kWh", "civil_demand_kwh"),
    "renewable_supply_kwh": ("renewable supply (再エネ供給量)", "kWh",
                             "renewable_supply_hourly_kwh"),
    "savings_kwh": ("savings (省エネ量)", "kWh", "savings_kwh"),
    "self_consumption_rate": ("self-consumption rate (自家消費率)", "share",
                              "self_consumption_rate"),
    "local_production_rate": ("local production rate (地産地消率)", "share",
                              "local_production_rate"),
    "hourly_matched_share": ("hourly-matched share (時間帯別一致率)", "share",
                             "hourly_matched_share"),
}


class ClaimedFigures(_Model):
    """The figures the municipality declares (annual, kWh and shares in [0, 1])."""

    civil_demand_kwh: NonNeg = Field(description="civil demand before savings [kWh]")
    renewable_supply_kwh: NonNeg = Field(description="renewable supply to civil demand [kWh]")
    savings_kwh: NonNeg | None = Field(None, description="savings [kWh]")
    self_consumption_rate: Share | None = Field(None, description="自家消費率 [-]")
    local_production_rate: NonNeg | None = Field(None, description="地産地消率 [-]")
    hourly_matched_share: NonNeg | None = Field(
        None, description="renewable matched hour by hour / civil demand after savings [-]")
    balance: bool = Field(True, description="the claim asserts renewable supply + savings "
                          ">= civil demand (実質ゼロ)")


class FigureTolerance(_Model):
    """Tolerance of one figure; unset parts fall back to ``[tolerance]``."""

    relative: Share | None = Field(None, description="share of the claimed value [-]")
    absolute: NonNeg | None = Field(None, description="in the figure's unit (kWh, or "
                                    "share points for rates)")


class Tolerances(_Model):
    """A figure is within tolerance when |recomputed - claimed| <= max(absolute,
    relative x |claimed|)."""

    relative: Share = Field(0.02, description="for kWh figures [-]")
    absolute_kwh: NonNeg = Field(0.0, description="for kWh figures [kWh]")
    absolute_share: Share = Field(0.01, description="for rates: share points [-]")
    figures: dict[Literal[tuple(FIGURES)], FigureTolerance] = Field(  # type: ignore[misc]
        default_factory=dict)


class DataQuality(_Model):
    """Limits beyond which the data cannot support a verdict (→ inconclusive)."""

    max_missing_share: Share = Field(0.01, description="meter-hours without a value, of "
                                     "all meter-hours [-]")
    max_meter_missing_share: Share = Field(0.05, description="hours without a value of "
                                           "any one meter [-]")
    max_filled_share: Share = Field(0.02, description="energy added by gap filling, of "
                                    "the metered energy [-]")
    capacity_margin: Annotated[float, Field(ge=0, le=1)] = Field(
        0.05, description="a plant meter's value is impossible above capacity_kw x (1 + "
        "margin) x interval: power curves and inverters can exceed the nameplate a little "
        "(e.g. Enercon E-53/800 peaks at 810 kW) [-]")
    pv_yield_tolerance: Annotated[float, Field(ge=0, le=5)] = Field(
        0.10, description="a PV meter's month above the claim's weather model by more "
        "than this share (or above the clear-sky bound) is an outlier; the outliers' "
        "energy above it must not decide the verdict [-]")


class MeterConvention(_Model):
    """How the meter data are written (stated by the claim, checked by the reader)."""

    files: list[str] = Field(default_factory=list, description="meter files relative to "
                             "the claim; --meter on the command line replaces them")
    label: Literal["start", "end"] = Field(description="timestamps mark the START or the "
                                           "END of their interval")
    unit: Literal["kWh", "kW"] = "kWh"
    interval: Literal["auto", 30, 60] = "auto"
    layout: Literal["auto", "long", "wide"] = "auto"
    timezone: str | None = Field(None, description="default: the region's")
    fill: Literal["none", "interpolate", "profile"] = "none"
    fill_max_hours: Annotated[int, Field(ge=1)] | None = 6
    timestamp_column: str | None = None
    meter_column: str | None = None
    value_column: str | None = None
    encoding: str = "utf-8"
    date_format: str | None = Field(None, description="strftime format of the time "
                                    "stamps, e.g. \"%d/%m/%Y %H:%M\"; required when "
                                    "day and month could be read either way")


class Rules(_Model):
    """Which view the claimed supply is checked against (問46: hourly)."""

    supply_basis: Literal["hourly", "annual"] = "hourly"


class ClaimConsumer(Consumer):
    """A consumer row of the claim: the scenario fields plus its ``meter`` id."""

    meter: str = Field(min_length=1, description="meter id of its consumption")
    meter_capacity_kw: Pos | None = Field(None, description="contract / connection "
                                          "capacity [kW]: values above it are flagged")

    @model_validator(mode="after")
    def _one_demand_source(self):  # replaces Consumer's rule: demand comes from the meter
        if self.meter_file is not None:
            raise ValueError("meter data of a claim come from [meter_data].files or "
                             "--meter, not meter_file")
        return self


_PLANT_METER = "meter id of the plant's output (metered output replaces the model)"


class ClaimPv(PvGenerator):
    """A PV plant of the claim (its output is metered, not modelled)."""

    meter: str = Field(min_length=1, description=_PLANT_METER)


class ClaimWind(WindGenerator):
    """A wind plant of the claim."""

    meter: str = Field(min_length=1, description=_PLANT_METER)


class ClaimBiomass(BiomassGenerator):
    """A biomass plant of the claim."""

    meter: str = Field(min_length=1, description=_PLANT_METER)


class ClaimWaste(WasteGenerator):
    """A waste-to-energy plant of the claim."""

    meter: str = Field(min_length=1, description=_PLANT_METER)


_BASE_OF = {ClaimPv: PvGenerator, ClaimWind: WindGenerator, ClaimBiomass: BiomassGenerator,
            ClaimWaste: WasteGenerator}


class Claim(_Model):
    """A whole claim file. Build with :func:`load_claim`."""

    region: Region
    grid: GridSpec = Field(default_factory=lambda: GridSpec(isolated=True))
    options: Options = Field(default_factory=Options)
    claimed: ClaimedFigures
    tolerance: Tolerances = Field(default_factory=Tolerances)
    data_quality: DataQuality = Field(default_factory=DataQuality)
    meter_data: MeterConvention
    rules: Rules = Field(default_factory=Rules)
    consumers: list[ClaimConsumer] = Field(min_length=1)
    generators: list[ClaimGenerator] = Field(default_factory=list)
    storage: list[Battery] = Field(default_factory=list)
    accounting: AccountingSpec = Field(default_factory=AccountingSpec)
    weather: WeatherSpec = Field(default_factory=WeatherSpec)
    excluded_meters: dict[str, Annotated[str, Field(min_length=3)]] = Field(
        default_factory=dict, description="meter id -> why a meter in the data is not "
        "a civil consumer of the claim (問35: all civil consumers are covered)")

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_references(self):
        check_references(self.consumers, self.generators, self.storage)
        seen: dict[str, str] = {}
        rows = [("consumers", i, c.meter) for i, c in enumerate(self.consumers)]
        rows += [("generators", i, g.meter) for i, g in enumerate(self.generators)]
        for section, i, m in rows:
            if m in seen:
                raise _FieldError(f"{section}[{i}].meter", f"expected one row per meter, "
                                  f"{m!r} is already the meter of {seen[m]}")
            seen[m] = f"{section}[{i}]"
        for m in self.excluded_meters:
            if m in seen:
                raise _FieldError(f"excluded_meters.{m}", f"expected a meter that is not "
                                  f"in the claim, {m!r} is the meter of {seen[m]}")
        return self

    @property
    def path(self) -> Path | None:
        """The file the claim was read from, if any."""
        return self._path

    def resolve(self, relative: str | Path) -> Path:
        """A path named in the claim, resolved against the claim's folder."""
        p = Path(relative)
        base = self._path.parent if self._path is not None else Path.cwd()
        return p if p.is_absolute() else base / p

    @property
    def meters(self) -> list[str]:
        """Every meter id of the claim: consumers first, then plants."""
        return [c.meter for c in self.consumers] + [g.meter for g in self.generators]


_CLAIM_LISTS = {"consumers": ClaimConsumer, "storage": Battery}


_CLAIM_KINDS = {"pv": ClaimPv, "wind": ClaimWind, "biomass": ClaimBiomass,
                "waste": ClaimWaste}


def _claim_model_at(loc: tuple):
    """The claim model whose field list applies at an error location."""
    model = Claim
    for part in loc[:-1]:
        if isinstance(part, int) or part == "generators":
            continue
        if part in _CLAIM_KINDS:
            model = _CLAIM_KINDS[part]
        elif part in _CLAIM_LISTS:
            model = _CLAIM_LISTS[part]
        else:
            ann = getattr(model.model_fields.get(part), "annotation", None)
            if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
                return None
            model = ann
    return model


def _claim_describe(err: dict) -> str:
    """scenario's one-line description, with field suggestions from the claim schema."""
    msg = _describe(err)
    if err["type"] == "extra_forbidden" and "did you mean" not in msg:
        model = _claim_model_at(err["loc"])
        known = list(getattr(model, "model_fields", {})) if model else []
        msg = msg.split("; expected one of")[0]
        close = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
        elif known:
            msg += f"; expected one of: {', '.join(known)}"
    return msg


def claim_from_dict(data: dict, *, source: str | Path | None = None) -> Claim:
    """Validate a claim given as a mapping (as read from TOML).

    Raises
    ------
    sim.InputError
        Every problem (up to 20), one line each naming the file and field,
        formatted as scenario errors are.
    """
    claim = validate(Claim, data, source=source, describe=_claim_describe)
    if source is not None:
        claim._path = Path(source)
    return claim


def load_claim(path: str | Path) -> Claim:
    """Read and validate a claim file (TOML); relative paths resolve against it."""
    path = Path(path)
    return claim_from_dict(read_toml(path), source=path)


def claim_scenario(claim: Claim, annual_kwh: np.ndarray | None = None) -> Scenario:
    """The scenario the claim describes (meter ids dropped; ``annual_kwh`` of each
    consumer row set to its metered demand before savings, for the record)."""
    consumers = []
    for i, c in enumerate(claim.consumers):
        d = c.model_dump(exclude={"meter", "meter_capacity_kw", "meter_file", "meter_id",
                                  "meter_label", "annual_kwh"})
        d["annual_kwh"] = float(annual_kwh[i]) if annual_kwh is not None else (
            c.annual_kwh or 0.0)
        consumers.append(Consumer(**d))
    generators = _scenario_generators(claim)
    sc = Scenario(region=claim.region, grid=claim.grid, options=claim.options,
                  consumers=consumers, generators=generators, storage=claim.storage,
                  accounting=claim.accounting, weather=claim.weather)
    sc._path = claim.path
    return sc


def _scenario_generators(claim: Claim) -> list:
    """The claim's generators as scenario generators (meter ids dropped)."""
    return [_BASE_OF[type(g)](**g.model_dump(exclude={"meter"})) for g in claim.generators]


def claim_plants(claim: Claim) -> Scenario:
    """The claim's plants only: a scenario with its region, options, weather and
    generators and no consumers or storage, to model the plants' output
    (:func:`sim.studies.meter_checks.modelled_output`) without building
    thousands of consumer rows. Not validated as a whole (a scenario needs
    consumers); its parts are the claim's, validated already."""
    generators = _scenario_generators(claim)
    sc = Scenario.model_construct(region=claim.region, grid=claim.grid, options=claim.options,
                                  consumers=[], generators=generators, storage=[],
                                  accounting=claim.accounting, weather=claim.weather)
    sc._path = claim.path
    return sc


ClaimGenerator = Annotated[Union[ClaimPv, ClaimWind, ClaimBiomass, ClaimWaste],
                           Field(discriminator="kind")]
