"""The 2030–2050 sensitivity study (FAQ 問37): does the plan still fit later?

``sim.future(scenario)`` simulates every study year (default: the base year,
then 2025–2050 in 5-year steps) under every projection variant (``reference``, ``harsher``,
``milder``) **hour by hour through the same kernel** as ``sim.simulate``: the
scenario's arrays are built once (:func:`sim.core.engine.build_inputs`), then for
each year and variant the demand, generation and battery arrays are modified
and handed to :func:`sim.core.engine.run_inputs`. There is no annual scaling
shortcut. All years use the base year's weather and calendar, so differences
between years come from the projection and the equipment only.

Demand response (every coefficient is a ``[future.demand]`` parameter):

* households: ``annual × (H_y / H_base) ** household_elasticity`` (default
  1.0: a household's electricity use depends on the household more than on
  the persons in it — Ministry of the Environment household CO2 survey FY2022:
  1 person 0.60, 2 persons 1.02, 3 persons 1.32 of the average — so demand
  follows the number of households, which falls slower than population);
  optionally also ``× (size_y / size_base) ** household_size_elasticity``
  (default 0.0; the survey ratios imply about 0.7 per log-unit of household
  size if smaller households should also use less each);
* ageing: the ``household`` archetype's shape is blended towards the
  elderly-household shape by ``daytime_shift = ageing_coefficient × (S65_y −
  S65_base)`` (default 1.0: IPSS national projections raise the share of
  households headed by someone 65+ by about as many points as the population
  share of 65+, so one point more elderly population moves about one point of
  households to the daytime-heavy shape);
* commerce follows population with ``commercial_elasticity`` (default 1.0:
  shops and services live on local customers; harsh but realistic, 問37);
  public buildings with ``public_elasticity`` (default 0.5: floor area and
  opening hours of a town hall do not shrink with residents; consolidation is
  modelled explicitly as closures, so a lower elasticity avoids counting it
  twice); water works and the waste plant's own use with 1.0 (volumes follow
  the population served); industry and transport are not projected (driver
  ``none``; give an override for industrial change);
* closures and mergers (``[[future.closures]]``): from ``year`` on a share of a
  consumer row closes; ``transfer`` of it may move to another row (``into``)
  and takes that row's shape (two schools into one).

Supply over time (``[future.degradation]``, ``[future.lives]``,
``[future.plants.<id>]``, ``[[future.additions]]``):

* output × ``(1 − d) ** age``, compounding; PV ``d`` = 0.5 %/yr by default
  (typical crystalline-silicon module degradation, and the usual linear
  performance warranty of about 80–85 % after 25 years); wind, biomass and
  waste 0 (give a value if known);
* a plant retires when its age reaches its life (generator's
  ``useful_life_years``, else the statutory life in ``[future.lives]``: PV and
  wind 17, steam-cycle biomass 15, waste treated as steam-cycle 15, a
  building-attached battery 6, a community battery counted as machinery 17 —
  docs/rules.md) unless ``replace = true``, which renews it like for like (age
  restarts at 0); statutory lives are shorter than physical lives, so the
  default is harsh on purpose;
* batteries lose ``degradation.battery`` (default 2 %/yr, compounding) of
  their energy capacity (stationary Li-ion warranties commonly guarantee
  60–70 % after 10–15 years, i.e. 2–3 %/yr); power is kept;
* the waste plant's output follows population with
  ``waste_throughput_elasticity`` (default 1.0: waste per person is roughly
  constant, so throughput follows residents);
* age is counted from ``commissioned`` (default: the base year, and a plant
  without an explicit year is in service in every study year); additions come
  in service in their year.

Results: :class:`FutureStudy` with an ``xarray.Dataset`` (dims ``year`` ×
``variant``), findings (first year of low utilisation, high spill, failed
balance), a text summary, PNG plots and an HTML report (``gxsim future``).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sim.physics import demand as demand_mod
from sim.core.engine import Inputs, Result, build_inputs, generator_output, run_inputs
from sim.errors import InputError
from sim.io import check_input_file
from sim.inputs.paths import PROFILES
from sim.inputs.scenario import Scenario, load_scenario
from sim.programme.evaluate import evaluate
from sim.programme.score import future_request, load_rubric
from sim.programme.study_figures import VARIABLES, VARIANTS

__all__ = ["FutureStudy", "future", "load_projection", "parse_years", "VARIANTS",
           "PROJECTION_FILE"]

#: The shipped projection table (estimates; see profiles/population/README.md).
PROJECTION_FILE = PROFILES / "population" / "projections.csv"
DEFAULT_YEARS = tuple(range(2020, 2051, 5))


def default_years(base_year: int) -> list[int]:
    """The base year, then every fifth year (2025, 2030, …) after it up to 2050."""
    return [base_year] + [y for y in range(2025, 2051, 5) if y > base_year]
#: persons per household relative to 2020, from docs/rules.md's national figures
#: (see profiles/population/README.md); fills households missing in a series.
HOUSEHOLD_SIZE_INDEX = {2020: 1.0, 2030: 0.910, 2050: 0.879}
_DRIVER = {"household": "households", "commercial": "population", "public": "population",
           "water_works": "population", "waste_plant": "population", "industry": "none",
           "transport": "none"}


# --------------------------------------------------------------------------
# projections
# --------------------------------------------------------------------------

def _size_index(year: float) -> float:
    xs = sorted(HOUSEHOLD_SIZE_INDEX)
    year = min(max(year, xs[0]), xs[-1])
    return float(np.interp(year, xs, [HOUSEHOLD_SIZE_INDEX[x] for x in xs]))


def load_projection(scenario: Scenario | None = None, path: str | Path | None = None
                    ) -> pd.DataFrame:
    """The projection table: shipped file (or the scenario's) plus its own rows.

    Parameters
    ----------
    scenario : Scenario, optional
        ``[future] projection`` names another CSV (same columns as
        ``profiles/population/projections.csv``); ``[[future.series]]`` rows
        replace the whole series of the municipalities they name.
    path : str or Path, optional
        A CSV to read instead of the shipped one.

    Returns
    -------
    pandas.DataFrame
        Index (municipality, year); columns population, households,
        share_65plus (NaN where unknown), source.
    """
    spec = scenario.future if scenario is not None else None
    if path is None:
        if spec is not None and spec.projection != "default":
            path = scenario.resolve(spec.projection)
        else:
            path = PROJECTION_FILE
    path = Path(path)
    if path.exists():  # a FIFO, device, folder or huge file: refused unread
        check_input_file(path, "projection file", "table", field="future.projection")
    try:
        df = pd.read_csv(path, comment="#", skipinitialspace=True)
    except FileNotFoundError:
        raise InputError("projection file not found", source=path,
                         field="future.projection") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the projection ({exc})", source=path) from None
    need = ("municipality", "year", "population")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(f"expected columns {', '.join(need)} (and optionally households, "
                         f"share_65plus); missing {', '.join(missing)}", source=path)
    for col in ("households", "share_65plus"):
        if col not in df.columns:
            df[col] = np.nan
    df["source"] = df["status"].astype(str) if "status" in df.columns else "file"
    df["source"] = path.name + ":" + df["source"]
    df = df[["municipality", "year", "population", "households", "share_65plus", "source"]]
    for col in ("year", "population", "households", "share_65plus"):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna() | (values < 0)
        if col in ("year", "population"):
            bad |= values.isna()
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise InputError(f"column {col} must be a number >= 0, got {df[col].iloc[row]!r}",
                             source=path, field=f"row {row + 1}")
        df[col] = values
    if spec is not None and spec.series:
        own = pd.DataFrame([r.model_dump() for r in spec.series])
        own["source"] = "scenario [[future.series]]"
        df = pd.concat([df[~df["municipality"].isin(own["municipality"])], own],
                       ignore_index=True)
    df["year"] = df["year"].astype(int)
    dup = df.duplicated(["municipality", "year"])
    if dup.any():
        r = df[dup].iloc[0]
        raise InputError(f"{r['municipality']} {r['year']} is given twice",
                         source=scenario.path if spec is not None and spec.series else path,
                         field="future.series" if spec is not None and spec.series else None)
    # households missing: population / household-size path relative to the first year
    out = []
    for _, g in df.sort_values("year").groupby("municipality", sort=False):
        g = g.copy()
        if g["households"].isna().any():
            first = g.iloc[0]
            h0 = first["households"] if np.isfinite(first["households"]) else \
                first["population"] / 2.21
            est = [h0 * (p / first["population"]) * _size_index(first["year"]) / _size_index(y)
                   for p, y in zip(g["population"], g["year"])]
            g["households"] = g["households"].fillna(pd.Series(est, index=g.index))
        out.append(g)
    return pd.concat(out).set_index(["municipality", "year"]).sort_index()


class _Series:
    """One municipality's projection, interpolated to any year in its range."""

    def __init__(self, name: str, table: pd.DataFrame):
        self.name = name
        self.years = table.index.to_numpy(dtype=float)
        self.pop = table["population"].to_numpy(float)
        self.hh = table["households"].to_numpy(float)
        s = table["share_65plus"].to_numpy(float)
        self.s65 = s if np.isfinite(s).all() else None

    def check(self, years, where: str, source) -> None:
        lo, hi = self.years.min(), self.years.max()
        bad = [y for y in years if not lo <= y <= hi]
        if bad:
            raise InputError(f"the projection of {self.name} covers {lo:.0f}-{hi:.0f}, "
                             f"year {bad[0]} is outside it", source=source, field=where)

    def at(self, year: float, variant: str, base_year: float, factor: float) -> tuple:
        """(population, households, share 65+) for a variant: ``factor`` × change."""
        p = float(np.interp(year, self.years, self.pop))
        h = float(np.interp(year, self.years, self.hh))
        p0 = float(np.interp(base_year, self.years, self.pop))
        pv = p0 + factor * (p - p0)
        hv = h * pv / p if p > 0 else 0.0
        if self.s65 is None:
            sv = math.nan
        else:
            s = float(np.interp(year, self.years, self.s65))
            s0 = float(np.interp(base_year, self.years, self.s65))
            sv = min(1.0, max(0.0, s0 + factor * (s - s0)))
        return pv, hv, sv


def parse_years(text: str) -> list[int]:
    """``"2020:2050:5"`` (inclusive) or ``"2030,2040,2050"`` → a sorted list of years."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) == 2:
                parts.append(5)
            start, stop, step = parts
            if step <= 0 or stop < start:
                raise ValueError
            years = list(range(start, stop + 1, step))
        else:
            years = sorted({int(p) for p in text.split(",") if p.strip()})
    except ValueError:
        raise InputError(f"expected years as START:STOP:STEP (e.g. 2020:2050:5) or a "
                         f"comma list, got {text!r}", field="--years") from None
    if not years:
        raise InputError(f"no years in {text!r}", field="--years")
    return years


# --------------------------------------------------------------------------
# the study
# --------------------------------------------------------------------------

@dataclass
class _Plant:
    """A generator or battery with its age rules."""

    id: str
    kind: str
    commissioned: int
    strict: bool          # not in service before ``commissioned``
    life: float
    replace: bool
    degradation: float
    municipality: str | None = None

    def factor(self, year: int) -> float:
        """Output (or capacity) factor in ``year``: 0 if not built or retired."""
        age = year - self.commissioned
        if age < 0:
            if self.strict:
                return 0.0
            age = 0
        if age >= self.life:
            if not self.replace:
                return 0.0
            age = age - math.floor(age / self.life) * self.life
        return (1.0 - self.degradation) ** age

    def status(self, year: int) -> str:
        age = year - self.commissioned
        if age < 0 and self.strict:
            return "planned"
        if age >= self.life:
            return "renewed" if self.replace else "retired"
        return "in service"


@dataclass
class FutureStudy:
    """The 2030–2050 study of one scenario.

    Attributes
    ----------
    scenario : Scenario
    dataset : xarray.Dataset
        Dims ``year`` × ``variant`` (and ``sector`` for demand by sector):
        figures per study year and projection variant; units in attributes.
    findings : list of dict
        ``variant``, ``kind`` (``utilisation``, ``spill``, ``balance_annual``,
        ``balance_hourly``, ``retirement``), ``year`` and ``message``.
    notes : list of str
        What the study assumed (estimates, missing data, fallbacks).
    results : dict
        (year, variant) → :class:`sim.Result` when ``keep_results=True``.
    timings : dict
        Seconds per stage.
    """

    scenario: Scenario
    dataset: xr.Dataset
    findings: list[dict]
    notes: list[str] = field(default_factory=list)
    results: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def future(scenario: Scenario | str | Path, *, years=None, variants=None,
           weather: pd.DataFrame | None = None, use_evaluate: bool = True,
           keep_results: bool = False, inputs: Inputs | None = None,
           progress: bool | None = False) -> FutureStudy:
    """Simulate a scenario year by year under population decline and ageing.

    Parameters
    ----------
    scenario : Scenario or path
        Its ``[future]`` section configures the study (all defaults documented
        in this module's docstring and in README.md).
    years : iterable of int or str, optional
        Study years (``"2020:2050:5"`` or a list); default ``[future] years``
        or the base year and every fifth year after it up to 2050.
    variants : iterable of str, optional
        Any of ``reference``, ``harsher``, ``milder``; default ``[future]
        variants``.
    weather : pandas.DataFrame, optional
        Hourly weather of the base year (as for :func:`sim.simulate`).
    use_evaluate : bool, default True
        Take the programme's figures (balance, 自家消費率, 地産地消率, CO2,
        payback) from :func:`sim.evaluate`. False (quicker, for tests and
        exploration) computes the balance and the two rates from the result
        directly and leaves CO2 and payback as NaN.
    keep_results : bool, default False
        Keep every year's :class:`sim.Result` in ``study.results``.
    inputs : sim.core.engine.Inputs, optional
        Pre-built base-year arrays (benchmarks, sweeps).
    progress : bool or None, default False
        A tqdm bar over the simulations (None: when stderr is a terminal).

    Returns
    -------
    FutureStudy
    """
    timings: dict[str, float] = {}
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    spec = scenario.future
    notes: list[str] = []
    base_year = spec.base_year or scenario.region.year
    years, variants = _study_years(spec, years, variants, base_year)
    factors = {"reference": 1.0, "harsher": spec.harsher_factor, "milder": spec.milder_factor}

    t0 = time.perf_counter()
    table = load_projection(scenario)
    if spec.projection == "default":
        notes.append("projection: profiles/population/projections.csv — ESTIMATES from "
                     "national/prefectural IPSS rates, not IPSS municipal figures "
                     "(see profiles/population/README.md)")
    evaluate_fn = evaluate if use_evaluate else None
    consumers = _consumer_rules(scenario, table, years + [base_year])
    timings["projection"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    base = inputs if inputs is not None else build_inputs(scenario, weather=weather)
    timings["base_inputs"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    all_gens, all_bats, gen_profiles, add_site = _additions(scenario, base)
    plants = _plants(scenario, all_gens, all_bats, base_year)
    timings["additions"] = time.perf_counter() - t0
    _check_plants(scenario, plants, table, years, base_year, notes)

    ctx = _YearContext(scenario, spec, base, consumers, plants, all_gens, all_bats,
                       gen_profiles, add_site, table, base_year)
    rows, results = _run_years(ctx, years, variants, factors, evaluate_fn, keep_results,
                               timings, progress)

    t0 = time.perf_counter()
    ds = _dataset(rows, years, variants, scenario, base_year, factors)
    _cumulative_payback(ds, base_year, scenario)
    findings = _findings(ds, spec, plants, years, base_year)
    timings["findings"] = time.perf_counter() - t0
    ds.attrs["notes"] = "; ".join(notes)
    return FutureStudy(scenario=scenario, dataset=ds, findings=findings, notes=notes,
                       results=results, timings=timings)


def _study_years(spec, years, variants, base_year: int) -> tuple[list[int], list[str]]:
    """The sorted study years and the checked variants (arguments, else ``[future]``,
    else the base year and every fifth year after it, :func:`default_years`)."""
    if isinstance(years, str):
        years = parse_years(years)
    years = sorted(set(int(y) for y in (years or spec.years or default_years(base_year))))
    variants = list(dict.fromkeys(variants or spec.variants))
    for v in variants:
        if v not in VARIANTS:
            raise InputError(f"expected variants among {', '.join(VARIANTS)}, got {v!r}",
                             field="variants")
    return years, variants


def _check_plants(scenario, plants, table, years, base_year, notes) -> None:
    """Waste plants following population need a projection; existing plants without
    a commissioning year are noted (they age from the base year)."""
    spec = scenario.future
    for p in plants.values():
        if p.municipality is not None and p.kind == "waste" and \
                spec.waste_throughput_elasticity > 0:
            _series_for(table, p.municipality, years + [base_year], scenario.path,
                        f"generators[{p.id}].municipality")
    if any(g.status == "existing" and g.id not in spec.plants for g in scenario.generators):
        ids = [g.id for g in scenario.generators
               if g.status == "existing" and g.id not in spec.plants]
        notes.append(f"existing plants without [future.plants.<id>] commissioned: "
                     f"{', '.join(ids)} — aged from the base year {base_year}, which "
                     f"delays their retirement")


@dataclass
class _YearContext:
    """What every study year is built from (see :func:`_year_inputs`)."""

    scenario: Scenario
    spec: object
    base: Inputs
    rules: list
    plants: dict
    gens: list
    bats: list
    gen_profiles: np.ndarray
    site: np.ndarray
    table: pd.DataFrame
    base_year: int
    shapes: dict = field(default_factory=dict)  # ageing-shifted demand shapes, reused


def _run_years(ctx: _YearContext, years, variants, factors, evaluate_fn, keep_results,
               timings, progress=False) -> tuple[list[dict], dict]:
    """Simulate every (variant, year); returns the figure rows and the kept results."""
    from tqdm import tqdm

    rows = []
    results = {}
    t_run = t_fig = 0.0
    sc = ctx.scenario
    scen_y = sc.model_copy(update={"generators": ctx.gens, "storage": ctx.bats})
    bar = tqdm(total=len(variants) * len(years), unit="year", desc="future",
               disable=not (sys.stderr.isatty() if progress is None else progress))
    for variant in variants:
        for year in years:
            bar.set_postfix_str(f"{variant} {year}")
            t1 = time.perf_counter()
            inp, info = _year_inputs(ctx, year, variant, factors[variant])
            res = run_inputs(scen_y, inp)
            t2 = time.perf_counter()
            row = _balance_flags(_figures(res, inp, evaluate_fn))
            row.update(info, year=year, variant=variant)
            rows.append(row)
            if keep_results:
                results[(year, variant)] = res
            t_run += t2 - t1
            t_fig += time.perf_counter() - t2
            bar.update(1)
    bar.close()
    timings["simulate"] = t_run
    timings["figures"] = t_fig
    return rows, results


def _series_for(table: pd.DataFrame, municipality: str, years, source, where) -> _Series:
    if municipality not in table.index.get_level_values(0):
        shipped = sorted(set(table.index.get_level_values(0)))
        raise InputError(f"no population projection for {municipality!r} (have: "
                         f"{', '.join(shipped)}); add [[future.series]] rows for it",
                         source=source, field=where)
    s = _Series(municipality, table.loc[municipality])
    s.check(years, where, source)
    return s


@dataclass
class _ConsumerRule:
    driver: str
    elasticity: float
    series: _Series | None
    ageing: bool
    closures: list            # (year, share, into_row, transfer)


def _consumer_rules(scenario: Scenario, table: pd.DataFrame, years) -> list[_ConsumerRule]:
    spec = scenario.future
    src = scenario.path
    resp = spec.demand
    rows = {c.id: i for i, c in enumerate(scenario.consumers)}
    for cid in spec.consumers:
        if cid not in rows:
            raise InputError(f"expected a consumer id, got {cid!r}", source=src,
                             field=f"future.consumers.{cid}")
    elasticity = {"household": resp.household_elasticity,
                  "commercial": resp.commercial_elasticity,
                  "public": resp.public_elasticity,
                  "water_works": resp.water_works_elasticity,
                  "waste_plant": resp.waste_plant_elasticity,
                  "industry": 0.0, "transport": 0.0}
    rules = []
    for i, c in enumerate(scenario.consumers):
        o = spec.consumers.get(c.id)
        driver = (o.driver if o and o.driver else _DRIVER[c.sector])
        e = o.elasticity if o and o.elasticity is not None else elasticity[c.sector]
        if driver == "none":
            e = 0.0
        muni = c.municipality or scenario.region.municipality
        series = None
        if driver != "none" and e > 0:
            series = _series_for(table, muni, years, src,
                                 f"consumers[{i}].municipality" if c.municipality
                                 else "region.municipality")
        household_shape = c.annual_kwh is not None and c.shape == "household"
        ageing = household_shape and driver == "households"
        if o and o.ageing is not None:
            if o.ageing and not household_shape:
                raise InputError("ageing applies to rows with annual_kwh and the household "
                                 "archetype only", source=src,
                                 field=f"future.consumers.{c.id}.ageing")
            ageing = o.ageing
        if ageing and series is None:
            series = _series_for(table, muni, years, src, f"consumers[{i}].municipality")
        rules.append(_ConsumerRule(driver, e, series, ageing, []))
    closed = np.zeros(len(rules))
    for k, cl in enumerate(spec.closures):
        where = f"future.closures[{k}]"
        if cl.consumer not in rows:
            raise InputError(f"expected a consumer id, got {cl.consumer!r}", source=src,
                             field=f"{where}.consumer")
        into = None
        if cl.into is not None:
            if cl.into not in rows or cl.into == cl.consumer:
                raise InputError(f"expected another consumer id, got {cl.into!r}",
                                 source=src, field=f"{where}.into")
            into = rows[cl.into]
            if scenario.consumers[into].annual_kwh == 0:
                raise InputError("a merger target needs demand to carry the moved users",
                                 source=src, field=f"{where}.into")
        r = rows[cl.consumer]
        closed[r] += cl.share
        if closed[r] > 1 + 1e-9:
            raise InputError(f"closures of {cl.consumer!r} add up to more than the whole "
                             f"row ({closed[r]:.3g})", source=src, field=f"{where}.share")
        rules[r].closures.append((cl.year, cl.share, into, cl.transfer))
    return rules


def _additions(scenario: Scenario, base: Inputs):
    """All generators and batteries (scenario + planned additions) and their profiles."""
    spec = scenario.future
    src = scenario.path
    gens = list(scenario.generators)
    bats = list(scenario.storage)
    gen_ids = {g.id for g in gens}
    bat_ids = {b.id for b in bats}
    consumer_rows = {c.id: i for i, c in enumerate(scenario.consumers)}
    added = []
    for k, add in enumerate(spec.additions):
        for j, g in enumerate(add.generators):
            where = f"future.additions[{k}].generators[{j}]"
            if g.id in gen_ids:
                raise InputError(f"expected a new generator id, {g.id!r} exists",
                                 source=src, field=f"{where}.id")
            if g.site is not None and g.site not in consumer_rows:
                raise InputError(f"expected a consumer id, got {g.site!r}", source=src,
                                 field=f"{where}.site")
            gen_ids.add(g.id)
            gens.append(g)
            added.append(g)
        for j, b in enumerate(add.storage):
            where = f"future.additions[{k}].storage[{j}]"
            if b.id in bat_ids:
                raise InputError(f"expected a new battery id, {b.id!r} exists",
                                 source=src, field=f"{where}.id")
            if b.site != "community" and b.site not in consumer_rows:
                raise InputError(f"expected a consumer id or 'community', got {b.site!r}",
                                 source=src, field=f"{where}.site")
            bat_ids.add(b.id)
            bats.append(b)
    profiles = base.generation
    if added:
        extra = generator_output(scenario.model_copy(update={"generators": added}),
                                 base.weather)
        profiles = np.vstack([base.generation, extra])
    site = np.array([consumer_rows[g.site] if g.site is not None else -1 for g in gens],
                    dtype=np.int64)
    return gens, bats, profiles, site


def _plants(scenario: Scenario, gens, bats, base_year: int) -> dict[str, _Plant]:
    spec = scenario.future
    src = scenario.path
    add_year = {}
    for add in spec.additions:
        for x in (*add.generators, *add.storage):
            add_year[x.id] = add.year
    gen_ids = {g.id for g in gens}
    bat_ids = {b.id for b in bats}
    for pid in spec.plants:
        if pid in gen_ids and pid in bat_ids:
            raise InputError(f"{pid!r} names both a generator and a battery; rename one",
                             source=src, field=f"future.plants.{pid}")
        if pid not in gen_ids and pid not in bat_ids:
            raise InputError(f"expected a generator or battery id, got {pid!r}",
                             source=src, field=f"future.plants.{pid}")
    lives = _default_lives(spec)
    out = {}
    for x, is_gen in [(g, True) for g in gens] + [(b, False) for b in bats]:
        o = spec.plants.get(x.id)
        if is_gen:
            kind = x.kind
            life_default = lives[kind]
            deg_default = getattr(spec.degradation, kind)
        else:
            kind = "battery"
            life_default = (lives["battery_community"] if x.site == "community"
                            else lives["battery_onsite"])
            deg_default = spec.degradation.battery
        strict = x.id in add_year or (o is not None and o.commissioned is not None)
        commissioned = (o.commissioned if o and o.commissioned is not None
                        else add_year.get(x.id, base_year))
        life = (o.life_years if o and o.life_years is not None
                else x.useful_life_years or life_default)
        replace = o.replace if o and o.replace is not None else spec.replace
        deg = o.degradation_per_year if o and o.degradation_per_year is not None \
            else deg_default
        muni = (getattr(x, "municipality", None) or scenario.region.municipality) \
            if kind == "waste" else None
        out[x.id] = _Plant(x.id, kind, int(commissioned), strict, float(life), replace,
                           float(deg), muni)
    return out


#: the evaluation's cost and life table (issue 3), used for lives not set in [future.lives]
FINANCE_TABLE = PROJECTION_FILE.parent.parent / "finance" / "defaults.csv"


def _default_lives(spec) -> dict[str, float]:
    """Useful lives by kind: ``[future.lives]`` where set, else the finance table's
    ``useful_life_years`` (profiles/finance/defaults.csv) if present, else the
    statutory defaults of :class:`sim.inputs.scenario.FutureLives`."""
    lives = {k: float(v) for k, v in spec.lives.model_dump().items()}
    if FINANCE_TABLE.exists():
        try:
            df = pd.read_csv(FINANCE_TABLE, comment="#", skipinitialspace=True)
            table = dict(zip(df["kind"], pd.to_numeric(df["useful_life_years"],
                                                       errors="coerce")))
        except (OSError, KeyError, ValueError, pd.errors.ParserError):
            table = {}
        for kind in lives:
            value = table.get(kind)
            if kind not in spec.lives.model_fields_set and value is not None and value > 0:
                lives[kind] = float(value)
    return lives


def _year_inputs(ctx: _YearContext, year, variant, factor):
    """Base-year arrays modified for one study year and variant: ``(inputs, info)``."""
    sc, base = ctx.scenario, ctx.base
    gross, annual, shift_used = _year_demand(ctx, year, variant, factor)
    gross *= _closure_factor(ctx.rules, year, annual)[:, None]
    savings = np.array([c.savings for c in sc.consumers])
    net = gross * (1.0 - savings)[:, None]
    gfac = _supply_factors(ctx, year, variant, factor)
    generation = ctx.gen_profiles * gfac[:, None]
    e, pw_, e_c, p_c, bat_kwh = _year_batteries(sc, ctx.bats, ctx.plants, year)
    inp = dataclasses.replace(base, demand_gross=gross, demand=net, generation=generation,
                              site_index=ctx.site, battery_kwh=e, battery_kw=pw_,
                              community_kwh=e_c, community_kw=p_c,
                              notes=list(base.notes), timings=dict(base.timings))
    # the region's own figures for the dataset
    reg = rules_series_region(ctx.rules, sc)
    pop = hh = s65 = math.nan
    if reg is not None:
        pop, hh, s65 = reg.at(year, variant, ctx.base_year, factor)
    cap = float(sum(g.capacity_kw for g, f in zip(ctx.gens, gfac) if f > 0))
    info = {"population": pop, "households": hh, "share_65plus": s65,
            "daytime_shift": shift_used, "capacity_in_service_kw": cap,
            "battery_capacity_kwh": bat_kwh}
    return inp, info


def _year_demand(ctx: _YearContext, year, variant, factor):
    """Gross demand (R, T) [kWh] of each consumer row for the year, before closures:
    the driver's ratio to the base year to the power of its elasticity, ageing
    blending the shape. Returns ``(gross, annual, largest daytime shift)``."""
    resp = ctx.spec.demand
    base_year = ctx.base_year
    gross = ctx.base.demand_gross.copy()
    annual = gross.sum(axis=1)
    shift_used = 0.0
    temp = ctx.base.weather["temp_air"].to_numpy()
    for r, (c, rule) in enumerate(zip(ctx.scenario.consumers, ctx.rules)):
        mult = 1.0
        if rule.series is not None:
            p, h, s = rule.series.at(year, variant, base_year, factor)
            p0, h0, s0 = rule.series.at(base_year, variant, base_year, factor)
            if rule.driver == "households" and rule.elasticity > 0:
                mult = (h / h0) ** rule.elasticity if h0 > 0 else 0.0
                if resp.household_size_elasticity > 0 and h > 0 and h0 > 0:
                    mult *= ((p / h) / (p0 / h0)) ** resp.household_size_elasticity
            elif rule.driver == "population" and rule.elasticity > 0:
                mult = (p / p0) ** rule.elasticity if p0 > 0 else 0.0
            if rule.ageing and np.isfinite(s) and np.isfinite(s0):
                shift = min(1.0, max(0.0, resp.ageing_coefficient * (s - s0)))
                if shift > 0:
                    key = (r, round(shift, 12))
                    if key not in ctx.shapes:
                        ctx.shapes[key] = demand_mod.demand_kwh(
                            c.annual_kwh, c.shape, ctx.base.index, temp_air=temp,
                            temperature_sensitivity=c.temperature_sensitivity,
                            daytime_shift=shift)
                    gross[r] = ctx.shapes[key]
                    shift_used = max(shift_used, shift)
        gross[r] *= mult
        annual[r] *= mult
    return gross, annual, shift_used


def _closure_factor(rules, year, annual) -> np.ndarray:
    """(R,) factor on each row for closures and mergers by ``year``: the share kept,
    grown by what moved in (a moved share takes the target row's shape)."""
    n_r = len(annual)
    keep = np.ones(n_r)
    moved = np.zeros(n_r)
    for r, rule in enumerate(rules):
        for y0, share, into, transfer in rule.closures:
            if year >= y0:
                keep[r] -= share
                if into is not None and transfer > 0:
                    moved[into] += transfer * share * annual[r]
    keep = np.maximum(keep, 0.0)
    grow = np.divide(moved, annual, out=np.zeros(n_r), where=annual > 0)
    return keep * (1.0 + grow)


def _supply_factors(ctx: _YearContext, year, variant, factor) -> np.ndarray:
    """(G,) factor on each generator's base output: ageing and retirement, and
    waste throughput following the population."""
    spec, plants = ctx.spec, ctx.plants
    gfac = np.array([plants[g.id].factor(year) for g in ctx.gens])
    for k, g in enumerate(ctx.gens):
        p = plants[g.id]
        if p.kind == "waste" and spec.waste_throughput_elasticity > 0 and gfac[k] > 0:
            s = _Series(p.municipality, ctx.table.loc[p.municipality])
            pw, _, _ = s.at(year, variant, ctx.base_year, factor)
            pw0, _, _ = s.at(ctx.base_year, variant, ctx.base_year, factor)
            gfac[k] *= (pw / pw0) ** spec.waste_throughput_elasticity if pw0 > 0 else 0.0
    return gfac


def _year_batteries(scenario, bats, plants, year):
    """Battery energy [kWh] and power [kW] in service: per consumer row (R,), the
    community's, and the total energy capacity."""
    n_r = len(scenario.consumers)
    rows = {c.id: i for i, c in enumerate(scenario.consumers)}
    e = np.zeros(n_r)
    pw_ = np.zeros(n_r)
    e_c = p_c = 0.0
    bat_kwh = 0.0
    for b in bats:
        f = plants[b.id].factor(year)
        alive = 1.0 if f > 0 else 0.0
        bat_kwh += b.capacity_kwh * f
        if b.site == "community":
            e_c += b.capacity_kwh * f
            p_c += b.power_kw * alive
        else:
            e[rows[b.site]] += b.capacity_kwh * f
            pw_[rows[b.site]] += b.power_kw * alive
    return e, pw_, e_c, p_c, bat_kwh


def rules_series_region(rules, scenario):
    """The projection of the proposing municipality, if any row uses it."""
    for rule in rules:
        if rule.series is not None and rule.series.name == scenario.region.municipality:
            return rule.series
    return None


def _figures(res: Result, inp: Inputs, evaluate_fn) -> dict:
    """The year's figures: from ``sim.evaluate`` when available, else from the result."""
    a = res.annual
    civil = a["civil"].to_numpy(bool)
    gen = float(inp.generation.sum())
    delivered = float(a["renewable"].sum())
    spill = float(res.hourly["spill"].sum())
    if not res.scenario.options.share_onsite_surplus:
        spill += float(a["export"].sum())
    demand_civil_gross = float(a.loc[civil, "demand_gross"].sum())
    savings_civil = float(a.loc[civil, "savings"].sum())
    delivered_civil = float(a.loc[civil, "renewable"].sum())
    self_civil = float(a.loc[civil, "direct"].sum() + a.loc[civil, "discharge"].sum())
    sectors = a.loc[civil].groupby("sector")["demand"].sum()
    row = {
        "civil_demand_kwh": demand_civil_gross,
        "civil_demand_net_kwh": float(a.loc[civil, "demand"].sum()),
        "savings_kwh": savings_civil,
        "generated_kwh": gen,
        "delivered_kwh": delivered,
        "delivered_civil_kwh": delivered_civil,
        "spill_kwh": spill,
        "grid_kwh": float(a["grid"].sum()),
        "utilisation": delivered / gen if gen > 0 else math.nan,
        "spill_share": spill / gen if gen > 0 else math.nan,
        "renewable_supply_annual_kwh": gen,
        "renewable_supply_hourly_kwh": delivered_civil,
        "self_consumption_rate": self_civil / delivered_civil if delivered_civil > 0
        else math.nan,
        "local_production_rate": math.nan,
        "co2_reduction_t": math.nan,
        "payback_years": math.nan,
        "capex_jpy": math.nan,
        "benefit_jpy_per_year": math.nan,
        "sector_demand": sectors.to_dict(),
    }
    local = res.scenario.local_municipalities
    if gen > 0 and demand_civil_gross > 0:
        # fallback: delivered energy attributed pro rata to annual generation by place
        reg = res.scenario.region.municipality
        is_local = np.array([(g.municipality or reg) in local for g in res.scenario.generators])
        share_local = float(inp.generation[is_local].sum()) / gen
        row["local_production_rate"] = delivered_civil * share_local / demand_civil_gross
    d = row["civil_demand_kwh"]
    row["balance_annual_ratio"] = ((row["renewable_supply_annual_kwh"] + savings_civil) / d
                                   if d > 0 else math.nan)
    row["balance_hourly_ratio"] = ((row["renewable_supply_hourly_kwh"] + savings_civil) / d
                                   if d > 0 else math.nan)
    row["grant_jpy"] = row["opex_jpy_per_year"] = math.nan
    if evaluate_fn is not None:
        ev = evaluate_fn(res).to_dict()
        for key, ours in _FROM_EVALUATE.items():
            value = ev.get(key)
            if value is not None and not isinstance(value, str):
                row[ours] = value
    return row


#: Evaluation.to_dict() key -> our figure (sim.programme.evaluate, issue 3)
_FROM_EVALUATE = {k: k for k in (
    "civil_demand_kwh", "renewable_supply_annual_kwh", "renewable_supply_hourly_kwh",
    "self_consumption_rate", "local_production_rate", "co2_reduction_t", "payback_years",
    "capex_jpy", "grant_jpy", "opex_jpy_per_year", "benefit_jpy_per_year",
    "balance_annual_ok", "balance_hourly_ok")}
_FROM_EVALUATE.update(coverage_annual="balance_annual_ratio",
                      coverage_hourly="balance_hourly_ratio")


def _balance_flags(row: dict) -> dict:
    row.setdefault("balance_annual_ok", bool(row["balance_annual_ratio"] >= 1 - 1e-9))
    row.setdefault("balance_hourly_ok", bool(row["balance_hourly_ratio"] >= 1 - 1e-9))
    return row


def _dataset(rows, years, variants, scenario, base_year, factors) -> xr.Dataset:
    by_key = {(r["year"], r["variant"]): r for r in rows}
    data = {}
    for name, (units, desc) in VARIABLES.items():
        values = np.array([[by_key[(y, v)][name] for v in variants] for y in years],
                          dtype=bool if units == "bool" else float)
        data[name] = xr.DataArray(values, dims=("year", "variant"),
                                  attrs={"units": units, "description": desc})
    sectors = sorted({s for r in rows for s in r["sector_demand"]})
    sd = np.array([[[by_key[(y, v)]["sector_demand"].get(s, 0.0) for s in sectors]
                    for v in variants] for y in years], dtype=float).reshape(
                        len(years), len(variants), len(sectors))
    data["civil_demand_by_sector_kwh"] = xr.DataArray(
        sd, dims=("year", "variant", "sector"),
        attrs={"units": "kWh", "description": "civil demand after savings by sector"})
    ds = xr.Dataset(data, coords={"year": years, "variant": variants, "sector": sectors})
    ds["variant"].attrs["factor"] = [factors[v] for v in variants]
    ds["variant"].attrs["description"] = ("reference = the projection; harsher/milder = "
                                          "its change from the base year x factor")
    ds.attrs.update(region=scenario.region.name, municipality=scenario.region.municipality,
                    base_year=base_year,
                    method="each year and variant: a full hourly simulation on the base "
                           "year's weather and calendar through the same kernel")
    return ds


def _cumulative_payback(ds: xr.Dataset, base_year: int, scenario: Scenario) -> None:
    """Years until the cumulative net benefit (benefit − opex, interpolated between study
    years) covers the capital cost (net of the grant on the evaluation's default basis);
    inf if never within 100 years. Replacements at end of life are not costed."""
    out = np.full(ds.sizes["variant"], np.nan)
    years = ds["year"].values
    basis = scenario.finance.payback_basis if hasattr(scenario.finance, "payback_basis") \
        else "net_of_grant"
    for j in range(ds.sizes["variant"]):
        capex = ds["capex_jpy"].values[:, j]
        net = ds["benefit_jpy_per_year"].values[:, j] - np.nan_to_num(
            ds["opex_jpy_per_year"].values[:, j])
        ok = np.isfinite(net)
        if not ok.any() or not np.isfinite(capex).any():
            continue
        cost = float(np.nanmax(capex))
        if basis == "net_of_grant" and np.isfinite(ds["grant_jpy"].values[:, j]).any():
            cost -= float(np.nanmax(ds["grant_jpy"].values[:, j]))
        total = 0.0
        for y in range(base_year, base_year + 100):
            total += float(np.interp(y, years[ok], net[ok]))
            if total >= cost:
                out[j] = y - base_year + 1
                break
        else:
            out[j] = np.inf
    ds["payback_cumulative_years"] = xr.DataArray(
        out, dims=("variant",),
        attrs={"units": "yr", "description": "years from the base year until the cumulative "
               "benefit under the declining demand covers the capital cost"})


def _findings(ds: xr.Dataset, spec, plants, years, base_year) -> list[dict]:
    th = spec.thresholds
    out = []
    for v in ds["variant"].values:
        d = ds.sel(variant=v)

        def first(mask, kind, msg):
            idx = np.flatnonzero(mask)
            if idx.size:
                y = int(d["year"].values[idx[0]])
                out.append({"variant": str(v), "kind": kind, "year": y,
                            "message": msg(y, idx[0])})

        u = d["utilisation"].values
        first(u < th.utilisation_min, "utilisation",
              lambda y, i: f"utilisation of the renewable plants falls to {u[i]:.1%} "
                           f"(< {th.utilisation_min:.0%}) in {y}")
        s = d["spill_share"].values
        first(s > th.spill_share_max, "spill",
              lambda y, i: f"spill reaches {s[i]:.1%} of generation (> "
                           f"{th.spill_share_max:.0%}) in {y}")
        for basis, label in (("annual", "annual netting"), ("hourly", "hourly matching")):
            ok = d[f"balance_{basis}_ok"].values
            ratio = d[f"balance_{basis}_ratio"].values

            def msg(y, i, label=label, ratio=ratio, ok=ok):
                text = f"balance fails on {label} in {y} (ratio {ratio[i]:.2f})"
                if i == 0 and y <= base_year:
                    text += " — already in the first study year, before any decline"
                    if ok.any():
                        text += f"; it holds in {int(d['year'].values[np.argmax(ok)])}"
                return text

            first(~ok, f"balance_{basis}", msg)
    for p in plants.values():
        for y in years:
            if p.status(y) == "retired":
                end = p.commissioned + math.ceil(p.life)
                out.append({"variant": "all", "kind": "retirement", "year": y,
                            "message": f"{p.id} ({p.kind}, commissioned {p.commissioned}, "
                                       f"{p.life:g}-year life) is retired from {end}, "
                                       f"missing from the {y} study year on; set "
                                       f"replace = true to renew it"})
                break
    return out


def future_study(scenario, rubric: dict | None = None, *, weather=None):
    """Run the 2030–2050 study (:func:`sim.future`) for what the rubric's items need.

    Only the study years and variants named by ``future.*`` items are simulated
    (hour by hour, as ``gxsim future`` does); ``None`` if the rubric has none.
    """
    if rubric is None:
        path = scenario.resolve(scenario.score.rubric) if scenario.score.rubric else None
        rubric = load_rubric(path)
    years, variants = future_request(rubric)
    if not years:
        return None
    return future(scenario, years=years, variants=variants, weather=weather)
