"""``sim.simulate``: from a scenario to hourly per-consumer results.

The one orchestrator (like pvlib's ModelChain): weather → generation and
demand arrays → the matching kernel → an hourly :class:`xarray.Dataset` and
annual totals. The building blocks are public so that sweeps and the
2030–2050 study can compute profiles once and call the kernel many times:

* :func:`calendar_index` — the simulated year's hours;
* :func:`build_inputs` — weather, demand (R, T) and generation (G, T) arrays;
* :func:`run_inputs` — the kernel on those arrays, wrapped in a :class:`Result`.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import xarray as xr

from sim.core.dispatch import ANNUAL_TOTALS, CONSUMER_OUTPUTS, HOURLY_OUTPUTS, match
from sim.core.flows import lazy_flows
from sim.errors import InputError
from sim.io import check_memory
from sim.inputs.scenario import Scenario
from sim.physics import demand as demand_mod

UNITS = {name: "kWh" for name in CONSUMER_OUTPUTS + HOURLY_OUTPUTS}
#: per-consumer hourly flows the ledger (sim.core.accounting) needs
LEDGER_FLOWS = ("direct", "charge", "discharge", "export", "pooled", "community", "soc")
DESCRIPTIONS = {
    "demand": "demand after savings",
    "onsite": "on-site renewable generation",
    "direct": "on-site generation used directly",
    "charge": "on-site battery charge (energy taken in)",
    "discharge": "on-site battery discharge (energy delivered)",
    "export": "on-site surplus exported to the regional pool",
    "pooled": "renewable energy delivered from the regional pool",
    "community": "renewable energy delivered from the community battery",
    "grid": "non-renewable grid supply",
    "soc": "on-site battery state of charge at the end of the hour",
    "offsite": "off-site renewable generation into the pool",
    "must_run": "minimum output of thermal units (caps renewable intake)",
    "pool": "energy in the regional pool (off-site + shared exports)",
    "spill": "pool energy not used in the area (exported or curtailed)",
    "community_charge": "community battery charge (energy taken in)",
    "community_discharge": "community battery discharge (energy delivered)",
    "community_soc": "community battery state of charge at the end of the hour",
    "generation": "hourly output of each generator",
    "renewable": "renewable energy delivered: direct + discharge + pooled + community",
}


def calendar_index(year: int, timezone: str = "Asia/Tokyo") -> pd.DatetimeIndex:
    """The hours of a calendar year, labelled by the start of each hour.

    Parameters
    ----------
    year : int
    timezone : str, default "Asia/Tokyo"

    Returns
    -------
    pandas.DatetimeIndex
        8760 hours, or 8784 in a leap year (the real calendar, never trimmed).
    """
    return pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", tz=timezone,
                         inclusive="left", name="time")


@dataclass
class Inputs:
    """Arrays the kernel needs, built once from a scenario.

    Attributes
    ----------
    index : pandas.DatetimeIndex (T,)
    weather : pandas.DataFrame
    demand_gross : ndarray (R, T) [kWh], demand before savings
    demand : ndarray (R, T) [kWh], demand after savings
    generation : ndarray (G, T) [kWh], output of each generator
    site_index : ndarray (G,) int, row of the consumer a generator is on, -1 off-site
    battery_kwh, battery_kw : ndarray (R,) [kWh], [kW]
    community_kwh, community_kw : float [kWh], [kW]
    must_run : ndarray (T,) [kWh]
    notes : list of str, what the run assumed or repaired (shown in summaries)
    timings : dict, seconds per stage
    """

    index: pd.DatetimeIndex
    weather: pd.DataFrame
    demand_gross: np.ndarray
    demand: np.ndarray
    generation: np.ndarray
    site_index: np.ndarray
    battery_kwh: np.ndarray
    battery_kw: np.ndarray
    community_kwh: float
    community_kw: float
    must_run: np.ndarray
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def onsite(self) -> np.ndarray:
        """On-site generation of each consumer, (R, T) [kWh]."""
        n_r = self.demand.shape[0]
        out = np.zeros((n_r, self.generation.shape[1]), dtype=self.demand.dtype)
        for g, r in enumerate(self.site_index):
            if r >= 0:
                out[r] += self.generation[g]
        return out

    def offsite(self) -> np.ndarray:
        """Off-site generation feeding the pool, (T,) [kWh]."""
        mask = self.site_index < 0
        return self.generation[mask].sum(axis=0) if mask.any() else np.zeros(len(self.index))


def consumer_demand(scenario: Scenario, index: pd.DatetimeIndex,
                    weather: pd.DataFrame, *,
                    dtype=np.float64) -> tuple[np.ndarray, list[str]]:
    """Hourly demand of every consumer row before savings, (R, T) [kWh].

    Rows with ``annual_kwh`` take their archetype shape; rows with a
    ``meter_file`` take the metered kWh (30-minute data summed to hours, which
    is reported in the returned notes). A meter with gaps is an error: gxsim
    does not fill demand silently.
    """
    out = np.empty((len(scenario.consumers), len(index)), dtype=dtype)
    notes: list[str] = []
    shapes, shape_of = demand_shapes(scenario, index, weather)
    for i, c in enumerate(scenario.consumers):
        if c.annual_kwh is not None:
            out[i] = float(c.annual_kwh) * shapes[shape_of[i]]
        else:
            out[i], meter_notes = _metered_demand(scenario, i, index)
            notes += meter_notes
    return out, notes


def demand_shapes(scenario: Scenario, index: pd.DatetimeIndex, weather: pd.DataFrame):
    """The distinct demand shapes of a scenario's consumers (annual total 1).

    Demand is linear in ``annual_kwh``: each distinct shape is computed once
    per (archetype, temperature sensitivity, obon, own table or file) and
    scaled (same bits as computing it per row; thousands of rows share a
    handful of shapes).

    Returns
    -------
    shapes : ndarray (S, T) float64 [kWh per kWh of annual demand]
    shape_of : ndarray (R,) int
        The row of ``shapes`` of each consumer, -1 for metered consumers.
    """
    temp_air = weather["temp_air"].to_numpy()
    rows: list[np.ndarray] = []
    keys: dict[tuple, int] = {}
    shape_of = np.full(len(scenario.consumers), -1, dtype=np.int64)
    for i, c in enumerate(scenario.consumers):
        if c.annual_kwh is None:
            continue
        key = (c.shape, c.temperature_sensitivity, c.obon, repr(c.shape_table), c.shape_file)
        if key not in keys:
            keys[key] = len(rows)
            rows.append(np.asarray(_shape_of(scenario, i, index, temp_air), dtype=np.float64))
        shape_of[i] = keys[key]
    shapes = np.array(rows, dtype=np.float64).reshape(len(rows), len(index))
    return shapes, shape_of


def _shape_of(scenario: Scenario, i: int, index: pd.DatetimeIndex, temp_air) -> np.ndarray:
    """Hourly share of a row's energy: archetype, own table or own file."""
    c = scenario.consumers[i]
    try:
        if c.shape_file is not None:
            return demand_mod.read_shape_file(scenario.resolve(c.shape_file), index)
        if c.shape_table is not None:
            return demand_mod.custom_shape(
                c.shape_table, index, obon=bool(c.obon), temp_air=temp_air,
                temperature_sensitivity=c.temperature_sensitivity)
        return demand_mod.demand_kwh(1.0, c.shape, index, temp_air=temp_air,
                                     temperature_sensitivity=c.temperature_sensitivity,
                                     obon=c.obon)
    except InputError as exc:
        if exc.source is not None:
            raise
        raise InputError(exc.reason, source=scenario.path,
                         field=f"consumers[{i}].{exc.field or 'shape'}") from None


def _metered_demand(scenario: Scenario, i: int, index: pd.DatetimeIndex):
    from sim.inputs import meter  # only scenarios with meter files need it

    c = scenario.consumers[i]
    path = scenario.resolve(c.meter_file)
    field_name = f"consumers[{i}].meter_file"
    data = meter.read_meter(path, year=scenario.region.year, label=c.meter_label,
                            timezone=scenario.region.timezone)
    columns = list(data.kwh.columns)
    meter_id = c.meter_id or (columns[0] if len(columns) == 1 else None)
    if meter_id is None or meter_id not in columns:
        raise InputError(f"expected meter_id to name one of the file's meters "
                         f"{columns[:5]}, got {c.meter_id!r}", source=scenario.path,
                         field=f"consumers[{i}].meter_id")
    series = data.kwh[meter_id].reindex(index)
    missing = int(series.isna().sum())
    if missing:
        raise InputError(f"{path.name}: meter {meter_id!r} has {missing} missing or invalid "
                         f"hours; repair the data first (see `gxsim verify`)",
                         source=scenario.path, field=field_name)
    notes = [f"{c.id}: {r}" for r in data.repairs]
    return series.to_numpy(dtype=float), notes


#: wind model argument -> scenario field, for error messages
_WIND_FIELDS = {"hub_height": "hub_height_m", "roughness_length": "roughness_length_m",
                "turbine_type": "turbine_type", "losses_percent": "losses_percent",
                "capacity_kw": "capacity_kw", "turbines": "turbines"}


def generator_output(scenario: Scenario, weather: pd.DataFrame, *,
                     dtype=np.float64, notes: list[str] | None = None) -> np.ndarray:
    """Hourly output of every generator row, (G, T) [kWh].

    PV profiles are computed once per distinct orientation and scaled by
    capacity, wind once per turbine set-up (:func:`generator_profiles`).
    ``notes``, if given, receives what the physics assumed or repaired (e.g.
    the isotropic sky in hours where Perez gives no finite result).
    """
    profiles, profile_of, scale = generator_profiles(scenario, weather, notes=notes)
    out = np.zeros((len(scenario.generators), len(weather.index)), dtype=dtype)
    for i in range(len(scenario.generators)):
        out[i] = profiles[profile_of[i]] * scale[i]
    return out


def generator_profiles(scenario: Scenario, weather: pd.DataFrame, *,
                       notes: list[str] | None = None):
    """The distinct hourly profiles of a scenario's generators.

    Returns
    -------
    profiles : ndarray (P, T) float64
        kWh per kW for PV (one row per distinct orientation), kWh for wind,
        biomass and waste (one row per generator: wind is capped at each
        row's capacity, so it does not scale).
    profile_of : ndarray (G,) int
        The row of ``profiles`` of each generator.
    scale : ndarray (G,) float64
        What each generator multiplies its profile by: its capacity [kW] for
        PV, 1 otherwise. Generator ``i`` puts out
        ``profiles[profile_of[i]] * scale[i]`` [kWh].
    """
    # pvlib and windpowerlib are imported here, not at start-up: array users
    # of ``sim.match`` need neither.
    from sim.physics import biomass, solar, waste

    reg = scenario.region
    index = weather.index
    rows: list[np.ndarray] = []
    keys: dict[tuple, int] = {}
    per_kw: dict[tuple, np.ndarray] = {}  # wind kWh per kW by turbine set-up
    profile_of = np.zeros(len(scenario.generators), dtype=np.int64)
    scale = np.ones(len(scenario.generators))
    site = dict(latitude=reg.latitude, longitude=reg.longitude, altitude=reg.altitude_m)
    geometry = None  # the sun's position, once for every PV orientation
    for i, g in enumerate(scenario.generators):
        if g.kind == "pv":
            key = ("pv", g.tilt, g.azimuth, g.losses_percent, g.dc_ac_ratio)
            if key not in keys:
                if geometry is None:
                    geometry = solar.site_geometry(weather, **site)
                keys[key] = len(rows)
                rows.append(np.asarray(solar.pv_kwh_per_kwp(
                    weather, **site, tilt=g.tilt, azimuth=g.azimuth,
                    losses_percent=g.losses_percent, dc_ac_ratio=g.dc_ac_ratio,
                    notes=notes, geometry=geometry), dtype=np.float64))
            profile_of[i], scale[i] = keys[key], g.capacity_kw
            continue
        profile_of[i] = len(rows)
        if g.kind == "wind":
            rows.append(_wind_output(scenario, i, weather, per_kw, notes))
        elif g.kind == "biomass":
            seed = g.outage_seed if g.outage_seed is not None else zlib.crc32(g.id.encode())
            bio_notes: list[str] = []
            rows.append(np.asarray(biomass.biomass_kwh(
                index, capacity_kw=g.capacity_kw, availability=g.availability,
                outage_weeks=g.outage_weeks, load_factor=g.load_factor,
                forced_outages=g.forced_outages, seed=seed, notes=bio_notes),
                dtype=np.float64))
            if notes is not None:
                notes += [f"{g.id}: {n.removeprefix('biomass: ')}" for n in bio_notes]
        else:  # waste
            rows.append(np.asarray(waste.waste_kwh(
                index, capacity_kw=g.capacity_kw, weekly_schedule=g.weekly_schedule,
                shutdown_weeks=g.shutdown_weeks, load_factor=g.load_factor),
                dtype=np.float64))
    profiles = np.array(rows, dtype=np.float64).reshape(len(rows), len(index))
    return profiles, profile_of, scale


def _wind_output(scenario: Scenario, i: int, weather: pd.DataFrame, per_kw: dict,
                 notes) -> np.ndarray:
    """Output of wind row ``i`` [kWh]: n turbines, capped at the row's capacity
    (connection limit); model errors name its scenario field."""
    from sim.physics import wind

    g = scenario.generators[i]
    key = ("wind", g.hub_height_m, g.turbine_type, g.roughness_length_m,
           g.losses_percent, g.density_correction)
    try:
        n = wind.turbine_count(g.capacity_kw, g.turbine_type, g.turbines)
        if key not in per_kw:
            per_kw[key] = wind.wind_kwh_per_kw(
                weather, hub_height=g.hub_height_m, turbine_type=g.turbine_type,
                roughness_length=g.roughness_length_m, losses_percent=g.losses_percent,
                density_correction=g.density_correction, notes=notes)
    except InputError as exc:
        name = _WIND_FIELDS.get(exc.field, "turbine_type")
        raise InputError(exc.reason, source=scenario.path,
                         field=f"generators[{i}].{name}") from None
    rating = wind.turbine_power_curve(g.turbine_type)[2]
    return np.asarray(np.minimum(per_kw[key] * n * rating, g.capacity_kw), dtype=np.float64)


#: hourly arrays per consumer a simulation holds at once, and per generator:
#: demand and on-site generation, a battery's charge, discharge and state
#: (float64; five arrays in float32, of half the size), one flow being read
#: (sim.core.flows), so at most 6 when every consumer has a battery
#: (measured 2026-12-01: 10,000 consumers, a battery on every fourth, float64,
#: peak 2.50 GiB = 3.8 arrays of R × T × 8 bytes, 3.15 GiB reading each flow)
HOURLY_ARRAYS_PER_CONSUMER, HOURLY_ARRAYS_PER_GENERATOR = 6, 4


def hourly_bytes(scenario: Scenario, hours: int = 8784) -> int:
    """Memory a simulation of ``scenario`` needs [bytes]: R × T × 8 × arrays (+ G × T)."""
    return 8 * hours * (len(scenario.consumers) * HOURLY_ARRAYS_PER_CONSUMER
                        + len(scenario.generators) * HOURLY_ARRAYS_PER_GENERATOR)


def build_inputs(scenario: Scenario, *, weather: pd.DataFrame | None = None) -> Inputs:
    """Weather, demand and generation arrays for a scenario (computed once).

    Parameters
    ----------
    scenario : Scenario
    weather : pandas.DataFrame, optional
        Hourly weather to use instead of the scenario's source (as returned
        by :func:`sim.inputs.weather.load_weather`).

    Returns
    -------
    Inputs
    """
    timings: dict[str, float] = {}
    # The in-memory path holds (R, T) arrays: refuse before reading anything.
    # (Consumer blocks, sim.core.blocks, share scenario_weather but never hold
    # them, so the check lives here and not there.)
    n_hours = len(calendar_index(scenario.region.year, scenario.region.timezone))
    check_memory(hourly_bytes(scenario, n_hours), f"{len(scenario.consumers):,} consumers "
                 f"× {n_hours:,} h", source=scenario.path, field="consumers")
    t0 = time.perf_counter()
    index, weather, notes = scenario_weather(scenario, weather)
    timings["weather"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # The (R, T) arrays are built in the storage type of ``[options] dtype``
    # so that ``sim.match`` needs no converted copies (float32 halves memory).
    dtype = np.dtype(scenario.options.dtype)
    gross, demand_notes = consumer_demand(scenario, index, weather, dtype=dtype)
    savings = np.array([c.savings for c in scenario.consumers])
    net = gross * (1.0 - savings).astype(dtype)[:, None]
    notes += demand_notes
    timings["demand"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    gen_notes: list[str] = []
    generation = generator_output(scenario, weather, dtype=dtype, notes=gen_notes)
    notes += list(dict.fromkeys(gen_notes))  # one note per distinct repair
    timings["generation"] = time.perf_counter() - t0

    must_run = np.full(len(index), scenario.grid.must_run_kw)
    return Inputs(index=index, weather=weather, demand_gross=gross, demand=net,
                  generation=generation, must_run=must_run, notes=notes, timings=timings,
                  **equipment(scenario))


def scenario_weather(scenario: Scenario, weather: pd.DataFrame | None = None):
    """The year's hours, the weather (the scenario's source unless given) and
    the notes saying where it came from, what was checked and repaired.

    Returns
    -------
    index : pandas.DatetimeIndex (T,)
    weather : pandas.DataFrame
    notes : list of str
    """
    reg = scenario.region
    index = calendar_index(reg.year, reg.timezone)
    if weather is None:
        from sim.inputs import weather as weather_mod

        spec = scenario.weather
        src = spec.source
        try:
            weather = weather_mod.load_weather(
                None if src == "default" else scenario.resolve(src),
                latitude=reg.latitude, longitude=reg.longitude, altitude=reg.altitude_m,
                year=reg.year, timezone=reg.timezone, wind_height=spec.wind_height_m,
                max_distance_km=spec.max_distance_km, distant_ok=spec.distant_ok,
                clock_tolerance_h=spec.clock_tolerance_h, min_quality=spec.min_quality)
        except InputError as exc:
            if exc.source is not None:
                raise
            raise InputError(exc.reason, source=scenario.path,
                             field=f"weather.{exc.field or 'source'}") from None
    if len(weather) != len(index) or not weather.index.equals(index):
        raise InputError(f"weather must cover the hours of {reg.year} in {reg.timezone} "
                         f"({len(index)} h), got {len(weather)} rows",
                         source=scenario.path, field="weather.source")
    notes = [f"weather: {weather.attrs.get('source', 'given')}"]
    notes += [f"weather: {r}" for r in weather.attrs.get("repairs", [])]
    notes += [f"weather: {r}" for r in weather.attrs.get("checks", [])]
    return index, weather, notes


def equipment(scenario: Scenario) -> dict:
    """Where generators sit and the batteries each consumer row has.

    Returns
    -------
    dict
        ``site_index`` (G,) int, the row of the consumer a generator is on
        (-1 off-site); ``battery_kwh``, ``battery_kw`` (R,) [kWh], [kW], the
        sums of each row's batteries; ``community_kwh``, ``community_kw``
        [kWh], [kW], the sums of the community batteries.
    """
    row = {c.id: i for i, c in enumerate(scenario.consumers)}
    site_index = np.array([row[g.site] if g.site is not None else -1
                           for g in scenario.generators], dtype=np.int64)
    e = np.zeros(len(row))
    p = np.zeros(len(row))
    e_c = p_c = 0.0
    for b in scenario.storage:
        if b.site == "community":
            e_c += b.capacity_kwh
            p_c += b.power_kw
        else:
            e[row[b.site]] += b.capacity_kwh
            p[row[b.site]] += b.power_kw
    return {"site_index": site_index, "battery_kwh": e, "battery_kw": p,
            "community_kwh": e_c, "community_kw": p_c}


@dataclass
class Result:
    """A simulated year.

    Attributes
    ----------
    scenario : Scenario
    hourly : xarray.Dataset
        Flows per consumer and hour (dims ``consumer, time``), per hour
        (``time``) and generator output (``generator, time``), all [kWh].
        With ``outputs="hourly"`` the per-consumer flows other than
        ``demand`` and ``onsite`` are computed when read
        (:mod:`sim.core.flows`).
    annual : pandas.DataFrame
        One row per consumer: annual sums of the hourly flows [kWh], plus
        ``demand_gross``, ``savings`` and ``renewable`` (delivered).
    notes : list of str
        What the run assumed or repaired (e.g. synthetic weather).
    timings : dict
        Seconds per stage.
    """

    scenario: Scenario
    hourly: xr.Dataset
    annual: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def kpis(self) -> dict[str, float]:
        """Region totals and shares (see :func:`region_kpis`)."""
        return region_kpis(self)


def _consumer_coords(scenario: Scenario) -> dict:
    cs = scenario.consumers
    return {
        "consumer": [c.id for c in cs],
        "sector": ("consumer", [c.sector for c in cs]),
        "civil": ("consumer", [c.is_civil for c in cs]),
        "owner": ("consumer", [c.owner for c in cs]),
        "area": ("consumer", [c.area for c in cs]),
        "count": ("consumer", [c.count for c in cs]),
    }


def _generator_coords(scenario: Scenario) -> dict:
    gs = scenario.generators
    return {
        "generator": [g.id for g in gs],
        "kind": ("generator", [g.kind for g in gs]),
        "site": ("generator", [g.site or "" for g in gs]),
        "capacity_kw": ("generator", [g.capacity_kw for g in gs]),
    }


def run_inputs(scenario: Scenario, inputs: Inputs, *, outputs="hourly") -> Result:
    """Run the matching kernel on prepared inputs and wrap the result.

    Parameters
    ----------
    scenario : Scenario
    inputs : Inputs
        From :func:`build_inputs` (possibly modified: scaled demand or
        generation, other batteries).
    outputs : "hourly", "annual" or list of str, default "hourly"
        Which per-consumer hourly flows ``Result.hourly`` holds (see
        :func:`sim.match`); ``demand`` and ``onsite`` are always there.
        "hourly": all of them, the battery rows' state kept and the rest
        lazily indexed arrays computed, for the consumers selected, when
        read (:mod:`sim.core.flows`; the same values as a list of every name,
        which holds them all as numpy arrays). ``Result.annual`` is
        complete whatever the choice.

    Returns
    -------
    Result
    """
    opt = scenario.options
    t0 = time.perf_counter()
    # "hourly": the kernel keeps the battery rows' state only; the other
    # flows are rebuilt, for the consumers selected, when read (sim.core.flows).
    lazy = isinstance(outputs, str) and outputs == "hourly"
    out = match(inputs.demand, inputs.onsite(), inputs.offsite(),
                battery_kwh=inputs.battery_kwh, battery_kw=inputs.battery_kw,
                efficiency=opt.battery_efficiency, soc_initial=opt.soc_initial,
                community_kwh=inputs.community_kwh, community_kw=inputs.community_kw,
                share_onsite_surplus=opt.share_onsite_surplus,
                must_run=inputs.must_run, dtype=opt.dtype,
                outputs="compact" if lazy else outputs)
    if lazy:
        out.update(lazy_flows(out["demand"], out["onsite"], out.pop("battery"),
                              out["pool_factor"], out["community_factor"]))
    timings = dict(inputs.timings, kernel=time.perf_counter() - t0)

    t0 = time.perf_counter()
    ds = hourly_dataset(scenario, inputs, out)
    annual = annual_frame(scenario, inputs.demand_gross, out["annual"])
    timings["wrap"] = time.perf_counter() - t0
    return Result(scenario=scenario, hourly=ds, annual=annual, notes=list(inputs.notes),
                  timings=timings)


def hourly_dataset(scenario: Scenario, inputs: Inputs, out: dict) -> xr.Dataset:
    """The labelled hourly Dataset of a ``match`` result: the (R, T) flows it
    kept, the (T,) series and the generators' output [kWh]."""
    data_vars = {name: (("consumer", "time"), out[name]) for name in CONSUMER_OUTPUTS
                 if name in out}
    data_vars.update({name: (("time",), out[name]) for name in HOURLY_OUTPUTS})
    data_vars["generation"] = (("generator", "time"), inputs.generation)
    # xarray and NetCDF want tz-naive times: keep the zone in an attribute.
    coords = {"time": inputs.index.tz_localize(None), **_consumer_coords(scenario),
              **_generator_coords(scenario)}
    ds = xr.Dataset(data_vars, coords=coords)
    for name in ds.data_vars:
        ds[name].attrs.update(units="kWh", description=DESCRIPTIONS.get(name, name))
    ds["time"].attrs.update(timezone=scenario.region.timezone,
                            description="start of the hour (local time)")
    opt = scenario.options
    ds.attrs.update(region=scenario.region.name, year=scenario.region.year,
                    timezone=scenario.region.timezone,
                    battery_efficiency=opt.battery_efficiency,
                    notes="; ".join(inputs.notes))
    return ds


def annual_frame(scenario: Scenario, demand_gross: np.ndarray,
                 totals: np.ndarray) -> pd.DataFrame:
    """``Result.annual``: one row per consumer [kWh].

    Parameters
    ----------
    scenario : Scenario
    demand_gross : ndarray (R, T) or (R, 1) [kWh], demand before savings
    totals : record array (R,) [kWh]
        The kernel's annual totals (``match(...)["annual"]``).
    """
    ids = [c.id for c in scenario.consumers]
    sums = {name: totals[name] for name in ANNUAL_TOTALS}
    annual = pd.DataFrame(sums, index=pd.Index(ids, name="consumer"))
    annual.insert(0, "demand_gross", demand_gross.sum(axis=1))
    annual.insert(1, "savings", annual["demand_gross"] - annual["demand"])
    annual["renewable"] = (annual["direct"] + annual["discharge"] + annual["pooled"]
                           + annual["community"])
    coords = _consumer_coords(scenario)
    for key in ("sector", "civil", "owner", "area", "count"):
        annual[key] = coords[key][1]
    # units travel with the table (pandas attrs), as they do in the Dataset's attrs
    annual.attrs["units"] = {c: "kWh" for c in annual.columns
                             if c not in ("sector", "civil", "owner", "area", "count")}
    annual.attrs["units"]["count"] = "consumers"
    return annual


def simulate(scenario: Scenario, *, weather: pd.DataFrame | None = None,
             outputs="hourly") -> Result:
    """Simulate a scenario's year hour by hour for every consumer.

    Parameters
    ----------
    scenario : Scenario
        From :func:`sim.load_scenario`.
    weather : pandas.DataFrame, optional
        Hourly weather to use instead of the scenario's source.
    outputs : "hourly", "annual" or list of str, default "hourly"
        Per-consumer hourly flows in ``Result.hourly`` (see
        :func:`run_inputs`): "hourly" all of them, held as the battery
        rows' state and computed, for the consumers selected, when read
        (:mod:`sim.core.flows`; 2.5 instead of 7.2 GiB peak at 10,000
        consumers in float64); "annual" none (only ``demand`` and
        ``onsite``), for studies that need the annual totals only; a list:
        those flows, stored as numpy arrays.

    Returns
    -------
    Result
        ``hourly`` (xarray.Dataset), ``annual`` (DataFrame per consumer),
        ``kpis`` (region totals), ``notes`` and ``timings``.
    """
    inputs = build_inputs(scenario, weather=weather)
    if inputs.demand_gross is not inputs.demand:
        # Only the row totals of the gross demand reach the Result (annual
        # ``demand_gross``): keep them as an (R, 1) column and let the (R, T)
        # array go before the kernel allocates its outputs (one (R, T) array
        # less at the peak; same sums, to the bit).
        inputs = replace(inputs, demand_gross=inputs.demand_gross.sum(axis=1, keepdims=True))
    return run_inputs(scenario, inputs, outputs=outputs)


def region_kpis(result: Result) -> dict[str, float]:
    """Region totals [kWh] and shares [-] of a simulated year (all consumers).

    Returns
    -------
    dict
        ``demand`` (after savings), ``savings``, ``generation`` (output of all
        generators, on-site + off-site), ``renewable_delivered`` (energy of the
        generators delivered hour by hour: direct + discharge + pooled +
        community), ``waste_plastic_generated`` / ``waste_plastic_delivered``
        (the plastic share of waste power, 問31: 再エネ等, not 再エネ),
        ``hourly_matched_share`` ((delivered − plastic delivered) / demand),
        ``annual_netting_share`` ((generation − plastic generated) / demand),
        ``self_consumed`` (direct + on-site discharge), ``pooled``,
        ``community``, ``grid``, ``spill`` and ``unshared_export`` (exports
        kept out of the pool).
    """
    a = result.annual
    ds = result.hourly
    demand = float(a["demand"].sum())
    generation = float(ds["generation"].sum())
    delivered = float(a["renewable"].sum())
    plastic_gen, plastic_del = waste_plastic(result)
    unshared = 0.0 if result.scenario.options.share_onsite_surplus else float(a["export"].sum())
    return {
        "demand": demand,
        "savings": float(a["savings"].sum()),
        "generation": generation,
        "renewable_delivered": delivered,
        "waste_plastic_generated": plastic_gen,
        "waste_plastic_delivered": plastic_del,
        "hourly_matched_share": (delivered - plastic_del) / demand if demand > 0
        else float("nan"),
        "annual_netting_share": (generation - plastic_gen) / demand if demand > 0
        else float("nan"),
        "self_consumed": float(a["direct"].sum() + a["discharge"].sum()),
        "pooled": float(a["pooled"].sum()),
        "community": float(a["community"].sum()),
        "grid": float(a["grid"].sum()),
        "spill": float(ds["spill"].sum()),
        "unshared_export": unshared,
    }


def waste_plastic(result: Result) -> tuple[float, float]:
    """The plastic share of waste power, generated and delivered [kWh/yr] (問31).

    問31 counts only ``generation × biomass_ratio`` of a waste plant as renewable
    (再エネ); the plastic rest is 再エネ等 and is left out of the renewable shares.
    Delivered energy is traced to the waste plants by the ledger
    (:mod:`sim.core.accounting`), computed only when a plant has plastic. A
    result without the hourly flows the ledger needs (``simulate(outputs=
    "annual")``) cannot trace it: delivered is then NaN.
    """
    gens = result.scenario.generators
    plastic = np.array([1.0 - g.biomass_ratio if g.kind == "waste" else 0.0 for g in gens])
    if not gens or not plastic.any():
        return 0.0, 0.0
    if not all(name in result.hourly for name in LEDGER_FLOWS):
        generated = result.hourly["generation"].values.sum(axis=1, dtype=np.float64)
        return float(plastic @ generated), float("nan")
    cached = result.__dict__.get("_waste_plastic")
    if cached is not None and cached[0] is result.hourly:  # kpis are read more than once
        return cached[1]
    from sim.core import accounting  # the ledger only when there is plastic to trace

    att = accounting._attribution(result)
    out = (float(plastic @ np.asarray(att.table["generated"], float)),
           float(plastic @ np.asarray(att.table["delivered"], float)))
    result.__dict__["_waste_plastic"] = (result.hourly, out)
    return out
