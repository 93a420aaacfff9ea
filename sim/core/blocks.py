"""Regions larger than memory: the kernel's three phases on blocks of consumers.

The kernel (docs/design.md section 4, :mod:`sim.core.kernel`) couples consumers
only through two hourly sums (exports and residuals) and, back, through two
hourly factors (pool and community shares of each residual). So a region of
any size runs as

1. per block of consumers (a Dask task): build the block's demand and on-site
   generation, run phase 1, return the block's hourly sums (2 × T floats);
2. on the client: add the sums in block order, run phase 2
   (:func:`sim.core.kernel.pool_hours`): the hourly factors (small);
3. per block again: rebuild the inputs, run phases 1 and 3 with the factors,
   return the block's annual totals per consumer and its hourly sums of each
   flow; write the hourly flows of the consumers asked for to Zarr.

No task ever holds more than one block's (block, T) arrays, and no (R, T)
matrix exists anywhere: each task builds its block's demand from the
archetype shapes and its generation from the shared unit profiles (computed
once from the weather on the client and sent to each worker once).

The results equal the in-memory :func:`sim.simulate` to rounding (the hourly
sums are added in another order; tests check 1e-12 relative).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd
import xarray as xr

from sim.core import kernel
from sim.core.dispatch import ANNUAL_DTYPE, CONSUMER_OUTPUTS, KERNEL_OUTPUTS
from sim.core.engine import (
    DESCRIPTIONS,
    annual_frame,
    demand_shapes,
    equipment,
    generator_profiles,
    scenario_weather,
)
from sim.errors import InputError
from sim.inputs.scenario import Scenario

#: consumers per task: ten (block, T) float64 arrays of 1,000 × 8760 h are
#: 0.7 GB, well inside a 2 GiB worker
DEFAULT_BLOCK = 1_000
#: the region's hourly series of per-consumer flows (sums over consumers)
FLOWS = ("demand", "onsite", "direct", "charge", "discharge", "export", "pooled",
         "community", "grid")
#: block results added on a worker before they reach the client
_REDUCE_GROUP = 16
#: blocks submitted at a time (their results are gathered before the next)
_WAVE = 64


@dataclass
class RegionResult:
    """A region simulated block by block.

    Attributes
    ----------
    scenario : Scenario
    annual : pandas.DataFrame
        One row per consumer, the columns of :attr:`sim.Result.annual` [kWh].
    hourly : xarray.Dataset
        The region's hourly series (dim ``time``): the sums over consumers of
        :data:`FLOWS` and the pool series of ``sim.match`` [kWh].
    store : pathlib.Path or None
        Zarr store holding the hourly flows of the consumers asked for
        (open with :meth:`consumer_hourly`).
    notes : list of str
    timings : dict, seconds per stage
    """

    scenario: Scenario
    annual: pd.DataFrame
    hourly: xr.Dataset
    store: Path | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def consumer_hourly(self) -> xr.Dataset:
        """The per-consumer hourly flows written to :attr:`store` (lazy, Zarr)."""
        if self.store is None:
            raise InputError("no consumers were asked for hourly flows "
                             "(simulate_blocks(hourly_consumers=...))", field="hourly_consumers")
        return xr.open_zarr(self.store)

    @property
    def kpis(self) -> dict[str, float]:
        """Region totals [kWh] and shares [-], as :attr:`sim.Result.kpis`.

        ``waste_plastic_delivered`` needs the hourly ledger of every consumer
        (:mod:`sim.core.accounting`), which block runs do not keep: it is 0
        when no waste plant has a plastic share, else NaN (and so is
        ``hourly_matched_share``).
        """
        a = self.annual
        h = self.hourly
        demand = float(a["demand"].sum())
        generation = float(h["onsite"].sum() + h["offsite"].sum())
        delivered = float(a["renewable"].sum())
        plastic_gen = float(self.hourly.attrs.get("waste_plastic_generated_kwh", 0.0))
        plastic_del = 0.0 if plastic_gen == 0.0 else float("nan")
        share = self.scenario.options.share_onsite_surplus
        ok = demand > 0
        return {
            "demand": demand, "savings": float(a["savings"].sum()),
            "generation": generation, "renewable_delivered": delivered,
            "waste_plastic_generated": plastic_gen, "waste_plastic_delivered": plastic_del,
            "hourly_matched_share": (delivered - plastic_del) / demand if ok else float("nan"),
            "annual_netting_share": (generation - plastic_gen) / demand if ok
            else float("nan"),
            "self_consumed": float(a["direct"].sum() + a["discharge"].sum()),
            "pooled": float(a["pooled"].sum()), "community": float(a["community"].sum()),
            "grid": float(a["grid"].sum()), "spill": float(h["spill"].sum()),
            "unshared_export": 0.0 if share else float(a["export"].sum()),
        }


def simulate_blocks(scenario: Scenario, *, client=None, block_size: int = DEFAULT_BLOCK,
                    hourly_consumers=(), store: str | Path | None = None,
                    weather: pd.DataFrame | None = None,
                    memory_limit: str = "2GiB") -> RegionResult:
    """Simulate a region of any size on Dask, one block of consumers per task.

    Parameters
    ----------
    scenario : Scenario
        Consumers with ``annual_kwh`` (archetype shapes); metered consumers
        need the in-memory :func:`sim.simulate`.
    client : distributed.Client, optional
        Where to run. Default: a LocalCluster of one single-threaded worker
        process per core with ``memory_limit`` each, closed afterwards.
    block_size : int, default 1,000
        Consumers per task.
    hourly_consumers : sequence of str, optional
        Ids of the consumers whose hourly flows are written to ``store``.
    store : path, optional
        A new Zarr store (required with ``hourly_consumers``; never overwritten).
    weather : pandas.DataFrame, optional
        Hourly weather instead of the scenario's source.
    memory_limit : str, default "2GiB"
        Per-worker limit of the default LocalCluster.

    Returns
    -------
    RegionResult
    """
    t0 = time.perf_counter()
    tables = region_tables(scenario, weather)
    select = _selection(scenario, hourly_consumers, store)
    timings = {"inputs": time.perf_counter() - t0}
    with _client(client, memory_limit) as cl:
        shared = cl.scatter(tables.shared(), broadcast=True)
        parts = tables.parts(block_size, select)
        t0 = time.perf_counter()
        sums = _in_waves(cl, _phase_onsite, parts, shared)
        timings["phase1"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        series = _pool(tables, sums[0], sums[1])
        timings["phase2"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if select:
            _zarr_template(scenario, tables, select, store)
        factors = cl.scatter((series["pool_factor"], series["community_factor"]),
                             broadcast=True)
        totals, gross = [], []
        flows = _in_waves(cl, _phase_allocate, parts, shared, factors,
                          str(store) if select else None, keep=(totals, gross))
        totals = np.concatenate(totals)
        gross = np.concatenate(gross)
        timings["phase3"] = time.perf_counter() - t0
    annual = annual_frame(scenario, gross[:, None], totals.view(ANNUAL_DTYPE)[:, 0])
    hourly = _region_dataset(scenario, tables, flows, series)
    return RegionResult(scenario=scenario, annual=annual, hourly=hourly,
                        store=Path(store) if select else None, notes=list(tables.notes),
                        timings=timings)


@dataclass
class RegionTables:
    """A scenario as small tables: per-consumer numbers and shared profiles.

    ``shapes`` (S, T) and ``profiles`` (P, T) are the distinct demand shapes
    and generator profiles (:func:`sim.core.engine.demand_shapes`,
    :func:`sim.core.engine.generator_profiles`); every block builds its
    demand and generation from them, with the same operations (so the same
    bits) as :func:`sim.core.engine.build_inputs`.
    """

    index: pd.DatetimeIndex
    dtype: np.dtype
    shapes: np.ndarray
    shape_of: np.ndarray
    annual_kwh: np.ndarray
    savings: np.ndarray
    battery_kwh: np.ndarray
    battery_kw: np.ndarray
    profiles: np.ndarray
    gen_profile: np.ndarray
    gen_scale: np.ndarray
    gen_site: np.ndarray
    offsite: np.ndarray
    must_run: np.ndarray
    options: dict
    notes: list[str]
    plastic_kwh: float = 0.0

    def shared(self) -> dict:
        """What every task needs: the profiles and the options (sent once)."""
        return {"shapes": self.shapes, "profiles": self.profiles, "dtype": self.dtype,
                "n_t": len(self.index), **self.options}

    def parts(self, block_size: int, select: dict) -> list[dict]:
        """One small dict per block of consumers: its rows of the tables and
        its on-site generators (in generator order, as ``Inputs.onsite``)."""
        n_r = len(self.annual_kwh)
        if block_size < 1:
            raise InputError(f"expected a block size >= 1, got {block_size}",
                             field="block_size")
        onsite_gens = np.flatnonzero(self.gen_site >= 0)
        by_site = onsite_gens[np.argsort(self.gen_site[onsite_gens], kind="stable")]
        sites = self.gen_site[by_site]
        out = []
        for i0 in range(0, n_r, block_size):
            i1 = min(n_r, i0 + block_size)
            g = np.sort(by_site[np.searchsorted(sites, i0):np.searchsorted(sites, i1)])
            rows = {r - i0: j for r, j in select.items() if i0 <= r < i1}
            out.append({"i0": i0, "shape_of": self.shape_of[i0:i1],
                        "annual_kwh": self.annual_kwh[i0:i1], "savings": self.savings[i0:i1],
                        "battery_kwh": self.battery_kwh[i0:i1],
                        "battery_kw": self.battery_kw[i0:i1],
                        "gen_profile": self.gen_profile[g], "gen_scale": self.gen_scale[g],
                        "gen_row": self.gen_site[g] - i0, "write": rows})
        return out


def region_tables(scenario: Scenario, weather: pd.DataFrame | None = None) -> RegionTables:
    """The tables of :class:`RegionTables` for a scenario (weather, shapes and
    generator profiles computed here, once)."""
    index, weather, notes = scenario_weather(scenario, weather)
    for i, c in enumerate(scenario.consumers):
        if c.annual_kwh is None:
            raise InputError("block simulation builds demand from archetypes: use "
                             "sim.simulate for metered consumers", source=scenario.path,
                             field=f"consumers[{i}].meter_file")
    dtype = np.dtype(scenario.options.dtype)
    shapes, shape_of = demand_shapes(scenario, index, weather)
    gen_notes: list[str] = []
    profiles, gen_profile, gen_scale = generator_profiles(scenario, weather, notes=gen_notes)
    notes = notes + list(dict.fromkeys(gen_notes))
    # the plastic share of waste power (問31), generated [kWh/yr]
    plastic = sum((1.0 - g.biomass_ratio) * float((profiles[gen_profile[i]] * gen_scale[i])
                                                  .astype(dtype).sum(dtype=np.float64))
                  for i, g in enumerate(scenario.generators) if g.kind == "waste")
    eq = equipment(scenario)
    site = eq["site_index"]
    # Off-site output as in ``Inputs.offsite``: generator rows in the storage
    # type, summed over generators.
    off = np.flatnonzero(site < 0)
    gen_off = np.zeros((len(off), len(index)), dtype=dtype)
    for k, g in enumerate(off):
        gen_off[k] = profiles[gen_profile[g]] * gen_scale[g]
    offsite = gen_off.sum(axis=0) if len(off) else np.zeros(len(index))
    opt = scenario.options
    options = {"sqrt_eta": kernel.sqrt_efficiency(opt.battery_efficiency),
               "soc_initial": float(opt.soc_initial)}
    return RegionTables(
        index=index, dtype=dtype, shapes=shapes, shape_of=shape_of,
        annual_kwh=np.array([float(c.annual_kwh) for c in scenario.consumers]),
        savings=np.array([c.savings for c in scenario.consumers], dtype=float),
        battery_kwh=eq["battery_kwh"], battery_kw=eq["battery_kw"], profiles=profiles,
        gen_profile=gen_profile, gen_scale=gen_scale, gen_site=site,
        offsite=np.asarray(offsite, dtype=np.float64),
        must_run=np.full(len(index), scenario.grid.must_run_kw),
        options=dict(options, community_kwh=eq["community_kwh"],
                     community_kw=eq["community_kw"],
                     share=bool(opt.share_onsite_surplus)),
        notes=notes + ["simulated in blocks of consumers on Dask"], plastic_kwh=plastic)


def block_inputs(shared: dict, part: dict):
    """A block's demand after savings and on-site generation, (n, T) each,
    and its annual gross demand (n,) [kWh] (as ``build_inputs`` computes them).

    The (n, T) arrays are this worker thread's reused buffers (see
    :func:`_buffers`): valid until its next task.
    """
    dtype = shared["dtype"]
    n = len(part["annual_kwh"])
    n_t = shared["n_t"]
    gross, demand, onsite = _buffers(n, n_t, dtype, ("gross", "demand", "onsite"))
    for j in range(n):
        gross[j] = float(part["annual_kwh"][j]) * shared["shapes"][part["shape_of"][j]]
    gross_total = gross.sum(axis=1)
    np.multiply(gross, (1.0 - part["savings"]).astype(dtype)[:, None], out=demand)
    onsite[...] = 0.0
    for p, s, r in zip(part["gen_profile"], part["gen_scale"], part["gen_row"]):
        onsite[r] += (shared["profiles"][p] * s).astype(dtype)
    return demand, onsite, gross_total


_LOCAL = threading.local()


def _buffers(n, n_t, dtype, names):
    """(n, T) arrays of ``dtype``, kept per worker thread and reused by its
    next tasks: fresh pages cost a page fault each on first touch (on this
    project's virtual machine ~5 s per GB), more than the kernel's work on
    them. The first ``n`` rows of arrays sized for the largest block seen."""
    pool = getattr(_LOCAL, "pool", None)
    if pool is None or pool["key"] != (n_t, dtype) or pool["rows"] < n:
        pool = _LOCAL.pool = {"key": (n_t, dtype), "rows": n, "arrays": {}}
    arrays = pool["arrays"]
    for name in names:
        if name not in arrays:
            arrays[name] = np.empty((pool["rows"], n_t), dtype=dtype)
    return [arrays[name][:n] for name in names]


def _phase_onsite(part: dict, shared: dict) -> tuple:
    """Task of phase 1: the block's hourly sums of exports and residuals (2, T),
    as a 1-tuple."""
    demand, onsite, _ = block_inputs(shared, part)
    n, n_t = demand.shape
    none = np.empty((0, n_t), dtype=demand.dtype)
    row_ok = np.empty(n, dtype=np.bool_)
    totals = np.zeros((n, len(ANNUAL_DTYPE.names)))
    unused = np.zeros(n_t)
    with _one_thread():
        sums = kernel.onsite_phase(demand, onsite, part["battery_kwh"], part["battery_kw"],
                                   shared["sqrt_eta"], shared["soc_initial"], (none,) * 9,
                                   row_ok, True, unused, unused, False, totals)
    _check_rows(row_ok, part)
    return (np.stack(sums),)


def _phase_allocate(part, shared, factors, store):
    """Task of phase 3: the block's per-consumer flows with the region's
    factors ``(pool_factor, community_factor)``. Returns the hourly sums of
    :data:`FLOWS` over its consumers (9, T), its annual totals (n, 9) and
    its gross demand (n,)."""
    pool_factor, community_factor = factors
    demand, onsite, gross = block_inputs(shared, part)
    n, n_t = demand.shape
    outs = dict(zip(KERNEL_OUTPUTS, _buffers(n, n_t, demand.dtype, KERNEL_OUTPUTS)))
    order = (outs["direct"], outs["charge"], outs["discharge"], outs["export"],
             outs["pooled"], outs["soc"], outs["pooled"], outs["community"], outs["grid"])
    row_ok = np.empty(n, dtype=np.bool_)
    totals = np.zeros((n, len(ANNUAL_DTYPE.names)))
    with _one_thread():
        # Reused buffers: rows without a battery get their zeros written.
        kernel.onsite_phase(demand, onsite, part["battery_kwh"], part["battery_kw"],
                            shared["sqrt_eta"], shared["soc_initial"], order, row_ok, False,
                            pool_factor, community_factor, False, totals)
        kernel.split_phase(outs["pooled"], pool_factor, community_factor, outs["pooled"],
                           outs["community"], outs["grid"], totals)
    _check_rows(row_ok, part)
    outs.update(demand=demand, onsite=onsite)
    flows = np.stack([outs[name].sum(axis=0, dtype=np.float64) for name in FLOWS])
    if store is not None and part["write"]:
        _write_rows(store, part["write"], outs)
    return flows, totals, gross


def _check_rows(row_ok, part):
    if not row_ok.all():
        r = part["i0"] + int(np.flatnonzero(~row_ok)[0])
        raise InputError("expected finite demand and generation >= 0",
                         field=f"consumers[{r}]")


class _one_thread(contextlib.AbstractContextManager):
    """Numba on the task's own thread: Dask runs one task per worker thread."""

    def __enter__(self):
        self.threads = nb.get_num_threads()
        nb.set_num_threads(1)

    def __exit__(self, *exc):
        nb.set_num_threads(self.threads)


@contextlib.contextmanager
def _client(client, memory_limit):
    """The given Dask client, or a LocalCluster (one single-threaded worker
    per core, ``memory_limit`` each) for the duration of the run."""
    if client is not None:
        yield client
        return
    import os

    from distributed import Client, LocalCluster

    n = max(1, len(os.sched_getaffinity(0)))
    with LocalCluster(n_workers=n, threads_per_worker=1, memory_limit=memory_limit,
                      processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as cl:
        yield cl


def _add_in_order(*arrays):
    """Sum of block results in the order given (deterministic rounding)."""
    out = np.array(arrays[0], dtype=np.float64, copy=True)
    for a in arrays[1:]:
        out += a
    return out


def _sum_of(*results):
    """The hourly sums of a group of blocks (first item of each result), in order."""
    return _add_in_order(*(r[0] for r in results))


def _in_waves(client, task, parts, *args, keep=None):
    """Run ``task(part, *args)`` for every part, a wave of blocks at a time so
    that finished results never pile up on the workers; return the sum of
    the results' first items (hourly sums), added in block order (groups on
    the workers, the group sums here). With ``keep`` (two lists), the
    results' second and third items are appended to them in block order."""
    total = None
    for w in range(0, len(parts), _WAVE):
        futures = [client.submit(task, part, *args, pure=False)
                   for part in parts[w:w + _WAVE]]
        groups = [client.submit(_sum_of, *futures[i:i + _REDUCE_GROUP], pure=False)
                  for i in range(0, len(futures), _REDUCE_GROUP)]
        wave = _add_in_order(*client.gather(groups))
        total = wave if total is None else total + wave
        if keep is not None:
            for r in client.gather(futures):
                keep[0].append(r[1])
                keep[1].append(r[2])
    return total


def _pool(tables: RegionTables, sum_export, sum_residual) -> dict:
    """Phase 2 on the client: the pool series and the hourly factors (T,)."""
    o = tables.options
    n_t = len(tables.index)
    names = ("pool", "pool_factor", "community_factor", "community_charge",
             "community_discharge", "community_soc", "spill")
    s = {name: np.empty(n_t) for name in names}
    kernel.pool_hours(sum_export, sum_residual, tables.offsite, tables.must_run,
                      o["share"], o["community_kwh"], o["community_kw"], o["sqrt_eta"],
                      o["soc_initial"] * o["community_kwh"], *(s[n] for n in names))
    return s


def _selection(scenario: Scenario, ids, store) -> dict:
    """Row of each consumer asked for -> its position in the Zarr arrays."""
    ids = list(ids)
    if not ids:
        return {}
    if store is None:
        raise InputError("expected a Zarr store path for the hourly flows asked for",
                         field="store")
    if Path(store).exists():
        raise InputError(f"{store} exists; gxsim writes hourly flows to a new store only",
                         field="store")
    row = {c.id: i for i, c in enumerate(scenario.consumers)}
    missing = [i for i in ids if i not in row]
    if missing:
        raise InputError(f"expected consumer ids of the scenario, got {missing[0]!r}",
                         field="hourly_consumers")
    return {row[c]: j for j, c in enumerate(ids)}


def _zarr_template(scenario, tables, select, store):
    """Create the Zarr store of the selected consumers' flows (metadata only:
    each (1, T) chunk is written by the task of its consumer's block)."""
    import dask.array as da

    ids = [None] * len(select)
    for r, j in select.items():
        ids[j] = scenario.consumers[r].id
    shape = (len(ids), len(tables.index))
    ds = xr.Dataset(
        {name: (("consumer", "time"), da.zeros(shape, chunks=(1, shape[1]),
                                                dtype=tables.dtype))
         for name in CONSUMER_OUTPUTS},
        coords={"consumer": ids, "time": tables.index.tz_localize(None)})
    for name in ds.data_vars:
        ds[name].attrs.update(units="kWh", description=DESCRIPTIONS.get(name, name))
    ds.attrs.update(timezone=scenario.region.timezone, region=scenario.region.name)
    # Zarr format 2: the consumer ids (fixed-length unicode) have no v3 spec yet.
    ds.to_zarr(store, mode="w-", compute=False, zarr_format=2, consolidated=True)


def _write_rows(store, rows: dict, outs: dict) -> None:
    """Write the block's selected rows (block row -> Zarr row) of every flow."""
    import zarr

    group = zarr.open_group(store, mode="r+")
    for name in CONSUMER_OUTPUTS:
        arr = group[name]
        for r, j in rows.items():
            arr[j] = outs[name][r]


def _region_dataset(scenario, tables, flows, series) -> xr.Dataset:
    """The region's hourly series as a labelled Dataset [kWh; factors -]."""
    data = {name: (("time",), flows[k]) for k, name in enumerate(FLOWS)}
    data["offsite"] = (("time",), tables.offsite)
    data["must_run"] = (("time",), tables.must_run)
    data.update({name: (("time",), v) for name, v in series.items()})
    ds = xr.Dataset(data, coords={"time": tables.index.tz_localize(None)})
    for name in ds.data_vars:
        units = "-" if name.endswith("_factor") else "kWh"
        desc = DESCRIPTIONS.get(name, name)
        if name in FLOWS:
            desc = f"{desc}, sum over consumers"
        ds[name].attrs.update(units=units, description=desc)
    ds["time"].attrs.update(timezone=scenario.region.timezone,
                            description="start of the hour (local time)")
    ds.attrs.update(region=scenario.region.name, year=scenario.region.year,
                    timezone=scenario.region.timezone,
                    waste_plastic_generated_kwh=float(tables.plastic_kwh))
    return ds
