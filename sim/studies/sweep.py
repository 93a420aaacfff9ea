"""Batch sweeps over equipment mixes, locally and on Dask (``gxsim sweep``).

A scenario's ``[sweep]`` section names parameters to vary and how to pick the
cases (docs/sweep.md):

* ``product`` — the Cartesian product of every parameter's values (one
  dimension per parameter in the result);
* ``table`` — an explicit CSV of cases, one column per parameter;
* ``lhs`` — a Latin hypercube sample (``scipy.stats.qmc``) of ``samples``
  cases with a ``seed``.

Speed by design: weather, demand and generation profiles are computed once
(:func:`sim.core.engine.build_inputs`); cases only scale them. The compiled batch
kernel (:mod:`sim.studies.batch`) runs a chunk of cases in one call, parallel over
cases, and returns annual figures per case (per consumer flows and the
generator × consumer ledger of :mod:`sim.core.accounting`), never hourly arrays.
The programme's figures of a chunk are computed for all its cases at once
(:func:`sim.programme.evaluate.evaluate_cases`, the arithmetic ``sim.evaluate``
itself runs for one case) from those annual totals and each case's sizes: no
Scenario, labelled ledger or DataFrame per case.

Chunks are stored as they finish (one ``.npz`` each, written atomically) in a
work folder beside the output (:mod:`sim.studies.store`: the sweep's identity,
a checksum per chunk, one writer at a time); ``resume=True`` keeps every sound
stored chunk and computes only the rest, so an interrupted sweep loses nothing
and the final Dataset is the same as an uninterrupted run's. With
``dask=ADDRESS`` (or ``"local"``) the chunks run on a Dask distributed cluster
(:mod:`sim.studies.sweep_dask`), surviving lost workers.

>>> import sim
>>> sc = sim.load_scenario("scenarios/island_demo.toml")       # doctest: +SKIP
>>> ds = sim.sweep(sc)                                          # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sim.studies import batch, sweep_dask
from sim.studies.store import ChunkStore, MemoryStore, store_lock, work_folder
from sim.core.engine import Inputs, build_inputs, run_inputs
from sim.errors import InputError
from sim.physics import wind
from sim.io import check_input_file
from sim.inputs.scenario import Scenario, SweepSpec, scenario_from_dict

#: figures computed from the kernel's annual totals for every case
KPI_UNITS = {
    "demand": "kWh", "savings": "kWh", "generation": "kWh", "renewable_delivered": "kWh",
    "waste_plastic_generated": "kWh", "waste_plastic_delivered": "kWh",
    "hourly_matched_share": "1", "annual_netting_share": "1", "self_consumed": "kWh",
    "self_consumption_share": "1", "pooled": "kWh", "community": "kWh", "grid": "kWh",
    "spill": "kWh", "unshared_export": "kWh", "pv_kw": "kW", "wind_kw": "kW",
    "biomass_kw": "kW", "waste_kw": "kW", "battery_kwh": "kWh", "battery_kw": "kW",
    "community_kwh": "kWh", "community_kw": "kW",
}
#: objectives tried, in order, when ``[sweep] objective`` is not given
DEFAULT_OBJECTIVES = (("cost_per_t_co2_total_jpy", "min"), ("hourly_matched_share", "max"))
#: x axis of the Pareto plot: the first cost figure present
COST_FIGURES = ("cost_per_t_co2_total_jpy", "total_cost_jpy", "annual_cost_jpy",
                "capex_jpy")

_PHYSICAL_ATTRS = {
    "generators": {"scale": "factor on capacity_kw [-]", "capacity_kw": "[kW]"},
    "consumers": {"savings": "share of demand saved [-]",
                  "battery_kwh": "on-site battery energy, total of the row [kWh]",
                  "battery_kw": "on-site battery power, total of the row [kW]"},
    "storage": {"scale": "factor on capacity_kwh and power_kw [-]"},
    "community": {"capacity_kwh": "[kWh]", "power_kw": "[kW]"},
    "grid": {"must_run_kw": "[kW]"},
    "options": {"battery_efficiency": "round trip [-]"},
}
_EVAL_SECTIONS = ("finance", "accounting", "score")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ITEM = re.compile(r"^(generators|consumers|storage)\[([^\[\]]+)\]\.(\w+)$")


# -- parameters ---------------------------------------------------------------

@dataclass
class Param:
    """One resolved sweep parameter.

    Attributes
    ----------
    name : str, dimension / column name
    target : str, as written in the scenario
    kind : str, what it sets: ``gen_scale``, ``gen_capacity``, ``savings``,
        ``battery_kwh``, ``battery_kw``, ``storage_scale``, ``community_kwh``,
        ``community_kw``, ``must_run``, ``efficiency`` or ``section``
    index : tuple of int, rows it applies to (generators, consumers or storage)
    path : tuple of str, the key path for ``section`` parameters
    values : ndarray or None, the grid (product) or choices (lhs)
    field : str, where it was defined (for error messages)
    """

    name: str
    target: str
    kind: str
    index: tuple[int, ...] = ()
    path: tuple[str, ...] = ()
    values: np.ndarray | None = None
    start: float | None = None
    stop: float | None = None
    field: str = ""

    @property
    def physical(self) -> bool:
        """Whether it changes the kernel's inputs (else only the evaluation)."""
        return self.kind != "section"

    def quantities(self, scenario: Scenario) -> set[tuple]:
        """What it sets, to detect two parameters setting the same thing."""
        k = self.kind
        if k in ("gen_scale", "gen_capacity"):
            return {("gen", i) for i in self.index}
        if k == "savings":
            return {("savings", i) for i in self.index}
        if k in ("battery_kwh", "battery_kw"):
            return {(k, i) for i in self.index}
        if k == "storage_scale":
            out = set()
            for i in self.index:
                site = scenario.storage[i].site
                out |= ({("community_kwh",), ("community_kw",)} if site == "community" else
                        {("battery_kwh", _row(scenario, site)), ("battery_kw", _row(scenario, site))})
            return out
        if k == "section":
            return {("section",) + self.path}
        return {(k,)}


def _row(scenario: Scenario, consumer_id: str) -> int:
    return next(i for i, c in enumerate(scenario.consumers) if c.id == consumer_id)


def _default_name(target: str) -> str:
    m = _ITEM.match(target)
    if m:
        sel = m.group(2).split("=", 1)[-1].strip()
        sel = "all" if sel == "*" else sel
        base = f"{sel}_{m.group(3)}"
    else:
        section, rest = target.split(".", 1)
        base = f"community_{rest}" if section == "community" else rest.replace(".", "_")
    return re.sub(r"\W", "_", base)


def _select(rows, selector: str, what: str, field_name: str, source) -> tuple[int, ...]:
    """Rows picked by ``ID``, ``*`` or ``FIELD=VALUE`` (``site=offsite`` for none)."""
    selector = selector.strip()
    if selector == "*":
        idx = tuple(range(len(rows)))
    elif "=" in selector:
        key, value = (s.strip() for s in selector.split("=", 1))
        known = sorted({f for r in rows for f in type(r).model_fields})
        if key not in known:
            raise InputError(f"unknown {what} field {key!r} in selector "
                             f"{selector!r}{_hint(key, known)}", source=source,
                             field=field_name)

        def match(r):
            v = getattr(r, key, None)
            if key == "site" and v is None:
                return value in ("offsite", "")
            return str(v).lower() == value.lower()

        idx = tuple(i for i, r in enumerate(rows) if match(r))
    else:
        idx = tuple(i for i, r in enumerate(rows) if r.id == selector)
        if not idx:
            raise InputError(f"unknown {what} id {selector!r}"
                             f"{_hint(selector, [r.id for r in rows])}", source=source,
                             field=field_name)
    if not idx:
        raise InputError(f"selector {selector!r} matches no {what}", source=source,
                         field=field_name)
    return idx


def _hint(value: str, choices) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _resolve_target(scenario: Scenario, target: str, field_name: str) -> dict:
    src = scenario.path
    m = _ITEM.match(target)
    if m:
        coll, sel, attr = m.groups()
        known = _PHYSICAL_ATTRS[coll]
        if attr not in known:
            raise InputError(f"unknown parameter {attr!r} of {coll}; expected one of: "
                             f"{', '.join(known)}{_hint(attr, known)}", source=src,
                             field=field_name)
        rows = getattr(scenario, coll)
        what = coll[:-1] if coll != "storage" else "battery"
        if not rows:
            raise InputError(f"the scenario has no {coll}", source=src, field=field_name)
        idx = _select(rows, sel, what, field_name, src)
        if coll == "generators":
            if attr == "capacity_kw" and len(idx) != 1:
                raise InputError(f"capacity_kw sets one generator; {sel!r} selects "
                                 f"{len(idx)} (use .scale for a group)", source=src,
                                 field=field_name)
            return dict(kind="gen_scale" if attr == "scale" else "gen_capacity", index=idx)
        if coll == "consumers":
            return dict(kind=attr, index=idx)
        return dict(kind="storage_scale", index=idx)
    section, rest = target.split(".", 1)
    if section in _EVAL_SECTIONS:
        return dict(kind="section", path=(section,) + tuple(rest.split(".")))
    known = _PHYSICAL_ATTRS[section]
    if rest not in known:
        raise InputError(f"unknown parameter {target!r}; expected one of: "
                         f"{', '.join(f'{section}.{a}' for a in known)}"
                         f"{_hint(rest, known)}", source=src, field=field_name)
    kind = {"capacity_kwh": "community_kwh", "power_kw": "community_kw",
            "must_run_kw": "must_run", "battery_efficiency": "efficiency"}[rest]
    return dict(kind=kind)


def _grid(p, field_name: str, src) -> np.ndarray | None:
    if p.values is not None:
        return np.asarray(p.values, dtype=float)
    if p.start is None:
        return None
    if p.num is not None:
        return np.linspace(p.start, p.stop, p.num)
    if p.step is not None:
        n = int(math.floor((p.stop - p.start) / p.step + 1e-9)) + 1
        return p.start + p.step * np.arange(n)
    return None  # start/stop only: a continuous range (lhs)


def resolve_parameters(scenario: Scenario) -> list[Param]:
    """The ``[sweep]`` parameters resolved against the scenario's rows.

    Raises
    ------
    sim.InputError
        Unknown target or id, a selector matching nothing, two parameters
        setting the same quantity, duplicate names, bad values.
    """
    spec = scenario.sweep
    src = scenario.path
    mode = spec.resolved_mode
    out: list[Param] = []
    for i, p in enumerate(spec.parameters):
        fld = f"sweep.parameters[{i}]"
        info = _resolve_target(scenario, p.target, f"{fld}.target")
        values = _grid(p, fld, src)
        if mode == "product" and values is None:
            raise InputError("mode 'product' needs values, or start/stop with step or num",
                             source=src, field=fld)
        if values is not None and values.size == 0:
            raise InputError(f"empty range: start {p.start}, stop {p.stop}, step {p.step}",
                             source=src, field=fld)
        out.append(Param(name=p.name or _default_name(p.target), target=p.target,
                         values=values, start=p.start, stop=p.stop, field=fld, **info))
    if not out and mode != "table":
        raise InputError("no parameters to sweep; add [[sweep.parameters]] with a target "
                         "and values", source=src, field="sweep.parameters")
    names: dict[str, Param] = {}
    taken: dict[tuple, Param] = {}
    for p in out:
        if p.name in names:
            raise InputError(f"two parameters named {p.name!r}; set name = '...' on one",
                             source=src, field=p.field)
        if p.name in KPI_UNITS or p.name in ("case", "consumer", "generator"):
            raise InputError(f"parameter name {p.name!r} clashes with a result variable; "
                             f"set name = '...'", source=src, field=p.field)
        names[p.name] = p
        for q in p.quantities(scenario):
            if q in taken:
                raise InputError(f"{p.target!r} and {taken[q].target!r} both set the same "
                                 f"quantity; use disjoint selections", source=src,
                                 field=p.field)
            taken[q] = p
        if p.values is not None:
            check_values(scenario, p, p.values, where=p.field)
        else:
            if p.start is not None:
                # a continuous range: its samples are checked when drawn (make_cases)
                check_values(scenario, p, np.array([p.start, p.stop]), where=p.field,
                             whole_turbines=False)
    return out


def check_values(scenario: Scenario, p: Param, values: np.ndarray, *, where: str,
                 source=None, rows=None, whole_turbines: bool = True) -> None:
    """One-line error for a value a parameter cannot take (negative size, part of a
    wind turbine unless ``whole_turbines`` is False, …)."""
    source = source or scenario.path
    values = np.asarray(values, dtype=float)

    def fail(j, expected):
        loc = where if rows is None else f"{where} row {rows[j]}"
        raise InputError(f"{p.name}: expected {expected}, got {values[j]:g}",
                         source=source, field=loc)

    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        fail(bad[0], "a finite number")
    if p.kind == "savings":
        bad = np.flatnonzero((values < 0) | (values >= 1))
        if bad.size:
            fail(bad[0], "a share saved in [0, 1)")
    elif p.kind == "efficiency":
        bad = np.flatnonzero((values <= 0) | (values > 1))
        if bad.size:
            fail(bad[0], "a round-trip efficiency in (0, 1]")
    elif p.kind != "section":
        bad = np.flatnonzero(values < 0)
        if bad.size:
            fail(bad[0], "a size >= 0 (negative sizes are not allowed)")
    for i in p.index if whole_turbines and p.kind in ("gen_scale", "gen_capacity") else ():
        g = scenario.generators[i]  # wind scales linearly: only whole turbines (issue 11)
        if g.kind == "wind":
            f = values if p.kind == "gen_scale" else values / g.capacity_kw
            n, bad, kw = wind.scaled_turbines(f, capacity_kw=g.capacity_kw,
                                              turbine_type=g.turbine_type, turbines=g.turbines)
            if bad.size:
                j = bad[0]
                loc = where if rows is None else f"{where} row {rows[j]}"
                raise InputError(f"{p.name} = {values[j]:g} gives wind generator {g.id!r} "
                                 f"{n[j]:.4g} turbines of {g.turbine_type} ({kw:g} kW each); "
                                 f"expected whole turbines (values or a step of them)",
                                 source=source, field=loc)
    # what the scenario's own rules say (e.g. a repowered plant must grow, 問42;
    # finance and accounting fields): each distinct value once, or the extremes
    distinct = np.unique(values)
    if distinct.size > 32:
        distinct = distinct[[0, -1]]
    for v in distinct:
        try:
            apply_case(scenario, [p], [v])
        except InputError as exc:
            k = int(np.flatnonzero(values == v)[0])
            loc = where if rows is None else f"{where} row {rows[k]}"
            reason = exc.reason if not exc.field else f"{exc.field}: {exc.reason}"
            raise InputError(f"{p.name} = {v:g}: {reason}", source=source,
                             field=loc) from None


# -- cases --------------------------------------------------------------------

@dataclass
class Cases:
    """The cases of a sweep.

    Attributes
    ----------
    params : list of Param
    values : ndarray (N, P), one row per case
    mode : str
    shape : tuple, the product's shape (mode 'product'), else (N,)
    labels : list of str, case labels (tables with a ``case`` column)
    """

    params: list[Param]
    values: np.ndarray
    mode: str
    shape: tuple[int, ...]
    labels: list[str] | None = None

    @property
    def n(self) -> int:
        """Number of cases."""
        return self.values.shape[0]


def make_cases(scenario: Scenario) -> Cases:
    """Resolve the ``[sweep]`` section into a table of cases.

    Returns
    -------
    Cases

    Raises
    ------
    sim.InputError
        For a bad definition (one line naming the file, field or row).
    """
    spec: SweepSpec = scenario.sweep
    mode = spec.resolved_mode
    params = resolve_parameters(scenario)
    if mode == "product":
        grids = [p.values for p in params]
        mesh = np.meshgrid(*grids, indexing="ij")
        values = np.stack([m.reshape(-1) for m in mesh], axis=1)
        return Cases(params, values, mode, tuple(len(g) for g in grids))
    if mode == "lhs":
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(params), rng=np.random.default_rng(spec.seed)).random(
            spec.samples)
        cols = []
        for j, p in enumerate(params):
            if p.values is not None:  # a discrete set: pick by stratum
                k = np.minimum((u[:, j] * len(p.values)).astype(int), len(p.values) - 1)
                cols.append(p.values[k])
            else:
                cols.append(p.start + u[:, j] * (p.stop - p.start))
                check_values(scenario, p, cols[-1], where=p.field)  # e.g. whole turbines
        values = np.stack(cols, axis=1)
        return Cases(params, values, mode, (spec.samples,))
    return _table_cases(scenario, params)


def _table_cases(scenario: Scenario, params: list[Param]) -> Cases:
    spec = scenario.sweep
    path = scenario.resolve(spec.table)
    if path.exists():  # a FIFO, device, folder or huge file: refused unread
        check_input_file(path, "case table", "table", source=scenario.path,
                         field="sweep.table")
    try:
        df = pd.read_csv(path, dtype=str, skipinitialspace=True, comment="#")
    except FileNotFoundError:
        raise InputError(f"case table not found: {path}", source=scenario.path,
                         field="sweep.table") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV table: {str(exc).splitlines()[0]}",
                         source=path) from None
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty:
        raise InputError("the case table has no rows", source=path)
    labels = None
    if "case" in df.columns:
        labels = df.pop("case").fillna("").astype(str).tolist()
        bad = [j for j, t in enumerate(labels) if _CONTROL.search(t)]
        if bad:
            raise InputError(f"column 'case': a label contains a control character "
                             f"({labels[bad[0]]!r}); expected printable text", source=path,
                             field=f"row {bad[0] + 2}")
    declared = {p.name: p for p in params}
    for p in params:
        if p.name not in df.columns and p.target not in df.columns:
            raise InputError(f"missing column {p.name!r} (parameter {p.target!r}); columns: "
                             f"{', '.join(df.columns)}", source=path)
    by_column: dict[str, Param] = {}
    for p in params:
        by_column[p.name if p.name in df.columns else p.target] = p
    for j, col in enumerate(df.columns):
        if col in by_column:
            continue
        if not re.match(r"^[\w\[\]=.*\- ]+$", col) or ("." not in col):
            raise InputError(f"unknown parameter column {col!r}; declare it in "
                             f"[[sweep.parameters]] or name a target such as "
                             f"'generators[ID].scale'{_hint(col, declared)}", source=path)
        info = _resolve_target(scenario, col, f"column {col!r}")
        p = Param(name=_default_name(col), target=col, field=f"column {col!r}", **info)
        params.append(p)
        by_column[col] = p
    # re-check clashes with the columns added
    taken: dict[tuple, Param] = {}
    names: set[str] = set()
    for p in params:
        if p.name in names:
            raise InputError(f"two parameters named {p.name!r}", source=path)
        names.add(p.name)
        for q in p.quantities(scenario):
            if q in taken:
                raise InputError(f"{p.target!r} and {taken[q].target!r} both set the same "
                                 f"quantity", source=path)
            taken[q] = p
    rows = list(range(2, len(df) + 2))  # file line numbers (header is line 1)
    cols = []
    for col, p in by_column.items():
        raw = df[col]
        num = pd.to_numeric(raw, errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy())
        if bad.size:
            j = bad[0]
            raise InputError(f"column {col!r}: expected a number, got {raw.iloc[j]!r}",
                             source=path, field=f"row {rows[j]}")
        vals = num.to_numpy(dtype=float)
        check_values(scenario, p, vals, where=f"column {col!r}", source=path, rows=rows)
        cols.append(vals)
    order = list(by_column.values())
    values = np.stack(cols, axis=1)
    return Cases(order, values, "table", (len(df),), labels)


# -- one case as a scenario (for the evaluation, hourly output, tests) --------

def apply_case(scenario: Scenario, params: list[Param], values) -> Scenario:
    """The scenario with one case's parameter values set, as a user would by hand.

    Generators or batteries scaled to 0 are removed (capacities must be > 0 in
    a scenario file); a consumer's ``battery_kwh``/``battery_kw`` replaces its
    on-site batteries by one battery with those totals.
    """
    data = scenario.model_dump(mode="python", exclude={"sweep"})
    gens = data["generators"]
    store = data["storage"]
    drop_gen: set[int] = set()
    drop_store: set[int] = set()
    site_set: dict[str, dict[str, float]] = {}
    for p, v in zip(params, values):
        v = float(v)
        if p.kind == "gen_scale":
            for i in p.index:
                gens[i]["capacity_kw"] = scenario.generators[i].capacity_kw * v
                if v == 0:
                    drop_gen.add(i)
        elif p.kind == "gen_capacity":
            gens[p.index[0]]["capacity_kw"] = v
            if v == 0:
                drop_gen.add(p.index[0])
        elif p.kind == "savings":
            for i in p.index:
                data["consumers"][i]["savings"] = v
        elif p.kind in ("battery_kwh", "battery_kw"):
            for i in p.index:
                site_set.setdefault(scenario.consumers[i].id, {})[p.kind] = v
        elif p.kind == "storage_scale":
            for i in p.index:
                store[i]["capacity_kwh"] = scenario.storage[i].capacity_kwh * v
                store[i]["power_kw"] = scenario.storage[i].power_kw * v
                if v == 0:
                    drop_store.add(i)
        elif p.kind in ("community_kwh", "community_kw"):
            key = "battery_kwh" if p.kind == "community_kwh" else "battery_kw"
            site_set.setdefault("community", {})[key] = v
        elif p.kind == "must_run":
            data["grid"]["must_run_kw"] = v
        elif p.kind == "efficiency":
            data["options"]["battery_efficiency"] = v
        else:  # section
            node = data.setdefault(p.path[0], {})
            for key in p.path[1:-1]:
                node = node.setdefault(key, {})
            node[p.path[-1]] = v
    for site, sizes in site_set.items():
        at = [i for i, b in enumerate(scenario.storage) if b.site == site]
        e = sizes.get("battery_kwh", sum(scenario.storage[i].capacity_kwh for i in at))
        pw = sizes.get("battery_kw", sum(scenario.storage[i].power_kw for i in at))
        drop_store.update(at)
        if e > 0 and pw > 0:
            proto = dict(store[at[0]]) if at else {"id": f"{site}_battery", "site": site}
            proto.update(capacity_kwh=e, power_kw=pw)
            store.append(proto)
    data["generators"] = [g for i, g in enumerate(gens) if i not in drop_gen]
    data["storage"] = [b for i, b in enumerate(store) if i not in drop_store]
    out = scenario_from_dict(data, source=scenario.path)
    return out


# -- the profiles, computed once ------------------------------------------------

@dataclass
class Base:
    """Profiles and rows shared by every case (sent once to each Dask worker)."""

    scenario: Scenario
    demand_gross: np.ndarray
    generation: np.ndarray
    site_index: np.ndarray
    savings: np.ndarray
    battery_kwh: np.ndarray
    battery_kw: np.ndarray
    community_kwh: float
    community_kw: float
    gross_annual: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        # Annual sums computed once, here: numpy's sums can differ in the last
        # bit with memory alignment, which differs between processes (Dask).
        if self.gross_annual is None:
            self.gross_annual = self.demand_gross.sum(axis=1)

    @classmethod
    def build(cls, scenario: Scenario, inputs: Inputs) -> "Base":
        """From :func:`sim.core.engine.build_inputs`."""
        return cls(scenario=scenario, demand_gross=np.ascontiguousarray(inputs.demand_gross),
                   generation=np.ascontiguousarray(inputs.generation),
                   site_index=np.asarray(inputs.site_index, dtype=np.int64),
                   savings=np.array([c.savings for c in scenario.consumers]),
                   battery_kwh=inputs.battery_kwh.copy(), battery_kw=inputs.battery_kw.copy(),
                   community_kwh=float(inputs.community_kwh),
                   community_kw=float(inputs.community_kw), notes=list(inputs.notes))

    def fingerprint(self) -> str:
        """Hash of everything the results depend on (for safe resumption)."""
        h = hashlib.sha256()
        h.update(self.scenario.model_dump_json(exclude={"sweep"}).encode())
        for a in (self.demand_gross, self.generation, self.site_index):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()


def kernel_arrays(base: Base, params: list[Param], values: np.ndarray) -> dict:
    """Per-case kernel inputs for a block of cases (rows of ``values``)."""
    sc = base.scenario
    n = values.shape[0]
    n_r = base.demand_gross.shape[0]
    n_g = base.generation.shape[0]
    gen_scale = np.ones((n, n_g))
    savings = np.tile(base.savings, (n, 1))
    st = sc.storage
    b_scale = np.ones((n, len(st)))
    must_run = np.full(n, sc.grid.must_run_kw)
    eff = np.full(n, sc.options.battery_efficiency)
    overrides: list[tuple[str, tuple, np.ndarray]] = []
    for j, p in enumerate(params):
        v = values[:, j]
        if p.kind == "gen_scale":
            gen_scale[:, list(p.index)] = v[:, None]
        elif p.kind == "gen_capacity":
            g = p.index[0]
            gen_scale[:, g] = v / sc.generators[g].capacity_kw
        elif p.kind == "savings":
            savings[:, list(p.index)] = v[:, None]
        elif p.kind == "storage_scale":
            b_scale[:, list(p.index)] = v[:, None]
        elif p.kind == "must_run":
            must_run = v.copy()
        elif p.kind == "efficiency":
            eff = v.copy()
        elif p.kind != "section":
            overrides.append((p.kind, p.index, v))
    e = np.zeros((n, n_r))
    pw = np.zeros((n, n_r))
    e_c = np.zeros(n)
    p_c = np.zeros(n)
    row = {c.id: i for i, c in enumerate(sc.consumers)}
    for b, bat in enumerate(st):
        if bat.site == "community":
            e_c += bat.capacity_kwh * b_scale[:, b]
            p_c += bat.power_kw * b_scale[:, b]
        else:
            e[:, row[bat.site]] += bat.capacity_kwh * b_scale[:, b]
            pw[:, row[bat.site]] += bat.power_kw * b_scale[:, b]
    for kind, index, v in overrides:
        if kind == "battery_kwh":
            e[:, list(index)] = v[:, None]
        elif kind == "battery_kw":
            pw[:, list(index)] = v[:, None]
        elif kind == "community_kwh":
            e_c = v.copy()
        elif kind == "community_kw":
            p_c = v.copy()
    return dict(demand_factor=1.0 - savings, gen_scale=gen_scale, battery_kwh=e,
                battery_kw=pw, community_kwh=e_c, community_kw=p_c, must_run_kw=must_run,
                efficiency=eff)


def case_inputs(base: Base, params: list[Param], values, inputs: Inputs) -> tuple:
    """(scenario, Inputs) of one case, for :func:`sim.core.engine.run_inputs`."""
    values = np.asarray(values, dtype=float)[None, :]
    k = kernel_arrays(base, params, values)
    sc = apply_case(base.scenario, params, values[0])
    keep = np.flatnonzero(k["gen_scale"][0] > 0)
    gen = base.generation[keep] * k["gen_scale"][0, keep][:, None]
    demand = base.demand_gross * k["demand_factor"][0][:, None]
    inp = Inputs(index=inputs.index, weather=inputs.weather, demand_gross=base.demand_gross,
                 demand=demand, generation=gen, site_index=base.site_index[keep],
                 battery_kwh=k["battery_kwh"][0], battery_kw=k["battery_kw"][0],
                 community_kwh=float(k["community_kwh"][0]),
                 community_kw=float(k["community_kw"][0]),
                 must_run=np.full(len(inputs.index), float(k["must_run_kw"][0])),
                 notes=list(inputs.notes))
    return sc, inp


# -- one chunk ------------------------------------------------------------------

def _row_fsum(a: np.ndarray) -> np.ndarray:
    """Exact sum of each row (``math.fsum``): the same bits in every process
    (local or Dask), whatever numpy's alignment-dependent summation does."""
    a = np.asarray(a, dtype=float)
    return np.array([math.fsum(r) for r in a.reshape(len(a), -1)])


def _kpi_arrays(base: Base, kin: dict, cons, region, table) -> dict[str, np.ndarray]:
    """The sweep's own figures (:data:`KPI_UNITS`) of every case of a chunk, (n,) each."""
    sc = base.scenario
    i = {f: k for k, f in enumerate(batch.CONSUMER_FIELDS)}
    t = {f: k for k, f in enumerate(batch.TABLE_FIELDS)}
    demand = _row_fsum(cons[:, i["demand"]])
    delivered = _row_fsum(cons[:, i["direct"]] + cons[:, i["discharge"]]
                          + cons[:, i["pooled"]] + cons[:, i["community"]])
    generation = _row_fsum(table[:, :, t["generated"]])
    self_consumed = _row_fsum(cons[:, i["direct"]]) + _row_fsum(cons[:, i["discharge"]])
    # 問31: the plastic share of waste power is not renewable (as region_kpis)
    plastic = np.array([1.0 - g.biomass_ratio if g.kind == "waste" else 0.0
                        for g in sc.generators])
    plastic_gen = _row_fsum(plastic * table[:, :, t["generated"]])
    plastic_del = _row_fsum(plastic * (table[:, :, t["direct"]] + table[:, :, t["battery"]]
                                       + table[:, :, t["pooled"]]
                                       + table[:, :, t["community"]]))
    n = len(demand)
    out = {
        "demand": demand,
        "savings": _row_fsum(base.gross_annual * (1 - kin["demand_factor"])),
        "generation": generation,
        "renewable_delivered": delivered,
        "waste_plastic_generated": plastic_gen,
        "waste_plastic_delivered": plastic_del,
        "hourly_matched_share": _ratio(delivered - plastic_del, demand),
        "annual_netting_share": _ratio(generation - plastic_gen, demand),
        "self_consumed": self_consumed,
        "self_consumption_share": _ratio(self_consumed, delivered),
        "pooled": _row_fsum(cons[:, i["pooled"]]),
        "community": _row_fsum(cons[:, i["community"]]),
        "grid": _row_fsum(cons[:, i["grid"]]),
        "spill": region[:, batch.REGION_FIELDS.index("spill")].copy(),
        "unshared_export": (np.zeros(n) if sc.options.share_onsite_surplus
                            else _row_fsum(cons[:, i["export"]])),
        "battery_kwh": _row_fsum(kin["battery_kwh"]),
        "battery_kw": _row_fsum(kin["battery_kw"]),
        "community_kwh": np.asarray(kin["community_kwh"], float),
        "community_kw": np.asarray(kin["community_kw"], float),
    }
    for kind in ("pv", "wind", "biomass", "waste"):
        acc: Any = 0
        for j, g in enumerate(sc.generators):
            if g.kind == kind:
                acc = acc + g.capacity_kw * kin["gen_scale"][:, j]
        out[f"{kind}_kw"] = np.broadcast_to(np.asarray(acc, float), (n,)).copy()
    return out


def _ratio(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.divide(x, y, out=np.full(len(y), np.nan), where=y > 0)


def compute_chunk(base: Base, params: list[Param], values: np.ndarray, *,
                  evaluate: bool = True, threads: int | None = None) -> dict[str, np.ndarray]:
    """Run one chunk of cases: the batch kernel, then figures for all cases at once.

    Parameters
    ----------
    base : Base
    params : list of Param
    values : ndarray (n, P)
    evaluate : bool, default True
        Add the programme's figures (:func:`sim.programme.evaluate.evaluate_cases`,
        the arithmetic of ``sim.evaluate``, over the chunk's cases at once).
    threads : int, optional
        numba threads for this call (Dask workers: their share of the cores).

    Returns
    -------
    dict of ndarray
        Scalar figures (n,), ``consumer__FIELD`` (n, R), ``generator__FIELD``
        (n, G) and ``ledger`` (n, G, R).
    """
    import numba

    if threads:
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    phys = [j for j, p in enumerate(params) if p.physical]
    # cases that differ only in evaluation parameters share one kernel run
    key = values[:, phys] if phys else np.zeros((n, 1))
    uniq, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    kin_u = kernel_arrays(base, params, values[first])
    sc = base.scenario
    out = batch.run_batch(base.demand_gross, base.generation, base.site_index,
                          soc_initial=sc.options.soc_initial,
                          share_onsite_surplus=sc.options.share_onsite_surplus, **kin_u)
    kin = kernel_arrays(base, params, values)
    same = len(first) == n and np.array_equal(inverse, np.arange(n))
    pick = (lambda a: a) if same else (lambda a: a[inverse])  # noqa: E731
    cons, region, led, table, totals = (pick(out[k]) for k in
                                        ("consumer", "region", "ledger", "table", "totals"))
    res: dict[str, np.ndarray] = dict(_kpi_arrays(base, kin, cons, region, table))
    if evaluate:
        res.update(_evaluate_chunk(base, params, values, kin, cons, led, table, totals))
    for i, fname in enumerate(batch.CONSUMER_FIELDS):
        res[f"consumer__{fname}"] = cons[:, i, :]
    res["consumer__renewable"] = (cons[:, 2] + cons[:, 4] + cons[:, 6] + cons[:, 7])
    for i, fname in enumerate(batch.TABLE_FIELDS):
        res[f"generator__{fname}"] = table[:, :, i]
    res["ledger"] = led
    return res


#: Evaluation fields that label the run rather than measure a case
_NOT_FIGURES = {"region", "year", "notes"}


def _evaluate_chunk(base: Base, params: list[Param], values: np.ndarray, kin: dict, cons,
                    led, table, totals) -> dict[str, np.ndarray]:
    """The programme's figures of every case of a chunk, as ``sim.evaluate`` of the
    case's scenario would give them (:func:`sim.programme.evaluate.evaluate_cases`).

    No Scenario per case: the cases share the base scenario's rows and differ
    in sizes (generator capacities, battery sizes, savings), passed as arrays.
    A Scenario is built only per distinct set of ``finance``/``accounting``
    values (section parameters), for its validated sections.
    """
    from sim.programme.evaluate import FIGURES, CaseTotals, evaluate_cases

    rows, cap, store_kwh = case_sizes(base, params, values)
    ct = _case_totals(base, cons, led, table, totals, cap, store_kwh)
    sect = [j for j, p in enumerate(params) if not p.physical]
    groups = (np.unique(values[:, sect], axis=0, return_inverse=True) if sect
              else (np.zeros((1, 0)), np.zeros(len(values), dtype=int)))
    res: dict[str, np.ndarray] = {}
    for k, sv in enumerate(groups[0]):
        idx = np.flatnonzero(groups[1].reshape(-1) == k)
        spec_sc = apply_case(base.scenario, [params[j] for j in sect], sv) if sect \
            else base.scenario
        sub = ct if len(idx) == len(values) else CaseTotals(**{
            f: ({n: a[idx] for n, a in v.items()} if isinstance(v, dict) else v[idx])
            for f, v in vars(ct).items()})
        figs, _, _ = evaluate_cases(rows, sub, accounting=spec_sc.accounting,
                                    finance_spec=spec_sc.finance)
        for name in FIGURES:
            v = figs.get(name)
            if name in _NOT_FIGURES or not isinstance(v, np.ndarray):
                continue
            if v.dtype != bool:  # infinite figures are stored as NaN (as to_dict's None)
                v = np.where(np.isfinite(v), v, np.nan)
            res.setdefault(name, np.zeros(len(values), dtype=v.dtype))[idx] = v
    return res


def _case_totals(base: Base, cons, led, table, totals, cap, store_kwh):
    """:class:`sim.programme.evaluate.CaseTotals` from the batch kernel's outputs."""
    from sim.programme.evaluate import CaseTotals

    tf = {f: table[:, :, k] for k, f in enumerate(batch.TABLE_FIELDS)}
    tab = {name: tf[name] for name in
           ("generated", "direct", "pooled", "community", "to_storage", "spilled",
            "unshared_export")}
    tab["self_consumed"] = tf["direct"] + tf["battery"]
    tab["not_delivered"] = (tf["spilled"] + tf["unshared_export"] + tf["storage_losses"]
                            + tf["stored_end"] - tf["from_initial_storage"])
    ci = {f: k for k, f in enumerate(batch.CONSUMER_FIELDS)}
    tot = {f: totals[:, k] for k, f in enumerate(batch.TOTAL_FIELDS)}
    return CaseTotals(
        ledger=led, table=tab, gross=np.broadcast_to(base.gross_annual, cons[:, 0].shape),
        net=cons[:, ci["demand"]], charge=cons[:, ci["charge"]],
        discharge=cons[:, ci["discharge"]], community_charge=tot["community_charge"],
        community_discharge=tot["community_discharge"], unattributed=tot["unattributed"],
        capacity_kw=cap, storage_kwh=store_kwh)


def case_sizes(base: Base, params: list[Param], values: np.ndarray
               ) -> tuple[Scenario, np.ndarray, np.ndarray]:
    """The rows and sizes :func:`apply_case` gives each case, without a Scenario per case.

    Returns
    -------
    (Scenario, ndarray (n, G), ndarray (n, S))
        The base scenario with, after its own storage rows, one battery per site
        whose batteries a parameter replaces (as :func:`apply_case` does); each
        generator's capacity [kW] and each storage row's capacity [kWh] per case
        (0 where the case has none).
    """
    from sim.inputs.scenario import Battery

    sc = base.scenario
    n = values.shape[0]
    cap = np.tile(np.array([float(g.capacity_kw) for g in sc.generators]), (n, 1))
    store = np.tile(np.array([float(b.capacity_kwh) for b in sc.storage]), (n, 1))
    power = np.tile(np.array([float(b.power_kw) for b in sc.storage]), (n, 1))
    site_set: dict[str, dict[str, np.ndarray]] = {}
    for j, p in enumerate(params):
        v = values[:, j]
        if p.kind == "gen_scale":
            for i in p.index:
                cap[:, i] = sc.generators[i].capacity_kw * v
        elif p.kind == "gen_capacity":
            cap[:, p.index[0]] = v
        elif p.kind == "storage_scale":
            for i in p.index:
                store[:, i] = sc.storage[i].capacity_kwh * v
                power[:, i] = sc.storage[i].power_kw * v
        elif p.kind in ("battery_kwh", "battery_kw"):
            for i in p.index:
                site_set.setdefault(sc.consumers[i].id, {})[p.kind] = v
        elif p.kind in ("community_kwh", "community_kw"):
            key = "battery_kwh" if p.kind == "community_kwh" else "battery_kw"
            site_set.setdefault("community", {})[key] = v
    extra, extra_kwh = [], []
    for site, sizes in site_set.items():
        at = [i for i, b in enumerate(sc.storage) if b.site == site]
        e = sizes.get("battery_kwh", sum(sc.storage[i].capacity_kwh for i in at))
        pw = sizes.get("battery_kw", sum(sc.storage[i].power_kw for i in at))
        store[:, at] = 0.0
        proto = (sc.storage[at[0]].model_dump() if at
                 else {"id": f"{site}_battery", "site": site})
        extra.append(Battery(**{**proto, "capacity_kwh": 1.0, "power_kw": 1.0}))
        extra_kwh.append(np.where((np.asarray(e) > 0) & (np.asarray(pw) > 0),
                                  np.broadcast_to(np.asarray(e, float), (n,)), 0.0))
    store = np.where(power > 0, store, 0.0)
    if extra:
        store = np.concatenate([store, np.stack(extra_kwh, axis=1)], axis=1)
        sc = sc.model_copy(update={"storage": list(sc.storage) + extra})
    return sc, cap, store


# -- running ----------------------------------------------------------------------

@dataclass
class SweepRun:
    """Outcome of :func:`run`.

    Attributes
    ----------
    dataset : xarray.Dataset or None, None when stopped early (``max_chunks``)
    cases : Cases
    complete : bool
    computed : int, chunks computed in this run
    reused : int, chunks found stored (``resume``)
    seconds : float, wall time of the chunk phase
    warm_up_seconds : float, wall time of loading (or compiling) the kernels
        and the evaluation before it, on one case (:func:`_warm_up`)
    computed_cases : int, cases computed in this run
    base : Base, the profiles every case scales
    hourly : dict, case number -> hourly ``xarray.Dataset`` of ``[sweep] hourly_cases``
    store_folder : Path or None, the chunk work folder (``output`` given)
    identity : str, the sweep's identity (see :func:`sweep_identity`)
    notes : list of str, what the run repaired or took over (chunks recomputed,
        a stale lock), to be shown to the user
    """

    dataset: xr.Dataset | None
    cases: Cases
    complete: bool
    computed: int
    reused: int
    seconds: float
    computed_cases: int = 0
    warm_up_seconds: float = 0.0
    base: Base | None = None
    hourly: dict = field(default_factory=dict)
    store_folder: Path | None = None
    identity: str = ""
    notes: list[str] = field(default_factory=list)

    def discard_chunks(self) -> None:
        """Remove the stored chunks (once the final files are written)."""
        if self.store_folder is not None:
            ChunkStore(self.store_folder, self.identity).discard()


@dataclass
class _Plan:
    """What a run computes: cases, profiles, chunk bounds and the sweep's identity."""

    cases: Cases
    inputs: Inputs
    base: Base
    bounds: list[tuple[int, int]]
    identity: str


def sweep_identity(base: Base, cases: Cases, size: int, evaluate: bool) -> str:
    """Hash of the scenario, the sweep definition, the profiles and the gxsim version.

    Two runs share a chunk store only when their identities are equal.
    """
    from sim._version import __version__

    h = hashlib.sha256(f"gxsim {__version__}\n".encode())
    h.update(base.fingerprint().encode())
    h.update(base.scenario.sweep.model_dump_json().encode())
    h.update(np.ascontiguousarray(cases.values).tobytes())
    h.update(json.dumps([(p.name, p.target) for p in cases.params] + [size, evaluate,
                        True]).encode())  # True: the evaluation is always present
    return h.hexdigest()


def _plan(scenario: Scenario, weather, chunk_size: int | None, evaluate: bool) -> _Plan:
    cases = make_cases(scenario)
    _check_sweep_memory(scenario, cases.n)
    inputs = build_inputs(scenario, weather=weather)
    base = Base.build(scenario, inputs)
    size = chunk_size or scenario.sweep.chunk_size
    n_chunks = max(1, math.ceil(cases.n / size))
    bounds = [(i * size, min(cases.n, (i + 1) * size)) for i in range(n_chunks)]
    return _Plan(cases, inputs, base, bounds, sweep_identity(base, cases, size, evaluate))


def _check_sweep_memory(scenario: Scenario, n_cases: int) -> None:
    """Refuse a sweep whose results cannot fit in memory, before computing any."""
    from sim.io import check_memory

    n_r, n_g = len(scenario.consumers), len(scenario.generators)
    per_case = 8 * (n_g * n_r + n_r * (len(batch.CONSUMER_FIELDS) + 1)
                    + n_g * len(batch.TABLE_FIELDS) + 128)
    # chunks read back, joined, and labelled: about three copies at the end
    check_memory(3.0 * per_case * n_cases, f"a sweep of {n_cases:,} cases × {n_r:,} "
                 f"consumers × {n_g:,} generators", source=scenario.path, field="sweep")


def _warm_up(plan: _Plan, evaluate: bool) -> float:
    """Compute the first cases once, for nothing, before the chunk phase [s].

    A process's first chunk loads the compiled kernels from numba's cache (or
    compiles them), imports the evaluation and touches the kernel's work
    buffers for the first time: ~0.3 s on the demo, a third of its chunk
    phase. That is a fixed cost of the run, not of its cases, and is reported
    apart (``SweepRun.warm_up_seconds``) so that the chunk phase measures
    cases. One case per numba thread, so that the buffers have the chunks'
    shape.
    """
    import numba

    t0 = time.perf_counter()
    compute_chunk(plan.base, plan.cases.params,
                  plan.cases.values[:max(1, numba.get_num_threads())], evaluate=evaluate)
    return time.perf_counter() - t0


def _compute_chunks(plan: _Plan, todo: list[int], store: ChunkStore, done: set, *,
                    dask: str | None, progress: bool | None, evaluate: bool) -> float:
    """Compute and store chunks ``todo``, locally or on Dask; returns the seconds."""
    from tqdm import tqdm

    cases, bounds = plan.cases, plan.bounds
    if progress is None:
        progress = sys.stderr.isatty()
    bar = tqdm(total=cases.n, initial=sum(bounds[i][1] - bounds[i][0] for i in done),
               unit="case", desc="sweep", disable=not progress, dynamic_ncols=True)
    t0 = time.perf_counter()
    try:
        if dask:
            sweep_dask.run_chunks(dask, compute_chunk, plan.base, cases, bounds, todo, store,
                                  bar, retries=plan.base.scenario.sweep.retries,
                                  evaluate=evaluate)
        else:
            for i in todo:
                a, b = bounds[i]
                store.write(i, compute_chunk(plan.base, cases.params, cases.values[a:b],
                                             evaluate=evaluate))
                bar.update(b - a)
    finally:
        bar.close()
        batch.release_buffers()  # the kernel's work buffers, kept between chunks
    return time.perf_counter() - t0


def _read_chunks(store: ChunkStore, n_chunks: int) -> list[dict[str, np.ndarray]]:
    """Every chunk, checked once more (a chunk spoilt since it was written is named)."""
    try:
        return [store.read(i) for i in range(n_chunks)]
    except InputError as exc:
        raise InputError(f"{exc.reason}; run again with --resume to recompute it",
                         source=exc.source) from None


def run(scenario: Scenario, *, output: str | Path | None = None, resume: bool = False,
        dask: str | None = None, weather: pd.DataFrame | None = None,
        progress: bool | None = None, max_chunks: int | None = None,
        chunk_size: int | None = None, evaluate: bool = True) -> SweepRun:
    """Run the sweep of ``scenario.sweep`` (see the module docstring).

    Parameters
    ----------
    scenario : Scenario
        With a ``[sweep]`` section.
    output : str or Path, optional
        The output folder the sweep is for: chunks are kept in
        :func:`work_folder` beside it until the final files are written
        (:func:`sim.report.sweep.write_outputs`, which ``gxsim sweep`` calls),
        locked against a second writer (:func:`sim.studies.store.store_lock`).
        Without it, the sweep runs in memory and nothing is written.
    resume : bool, default False
        Keep the sound chunks stored by an interrupted run of the same sweep
        and compute the rest (corrupt or foreign chunks are recomputed, named
        in ``notes``). A store of another sweep is refused either way.
    dask : str, optional
        A scheduler address (``tcp://host:8786``) or ``"local"`` for a
        LocalCluster of 2 worker processes (:mod:`sim.studies.sweep_dask`).
    weather : pandas.DataFrame, optional
        Hourly weather instead of the scenario's source.
    progress : bool, optional
        Show a tqdm progress bar (default: when stderr is a terminal).
    max_chunks : int, optional
        Stop after computing this many chunks (a time-boxed or test run);
        the result is then incomplete (``dataset`` is None).
    chunk_size : int, optional
        Cases per chunk; default ``[sweep] chunk_size``.
    evaluate : bool, default True
        Add the evaluation's figures per case when available.

    Returns
    -------
    SweepRun

    Raises
    ------
    sim.InputError
        Bad definition; another sweep writing into, or stored in, ``output``.
    sim.errors.RunStopped
        Every Dask worker lost (the stored chunks are kept for ``resume``).
    """
    plan = _plan(scenario, weather, chunk_size, evaluate)
    n_chunks = len(plan.bounds)
    with store_lock(output) as lock_note:
        store = (ChunkStore(work_folder(output), plan.identity) if output
                 else MemoryStore())
        stored, notes = store.open(n_chunks, resume=resume)
        notes = ([lock_note] if lock_note else []) + notes
        done = set(stored)
        todo = [i for i in range(n_chunks) if i not in done][:max_chunks]
        # the workers of a Dask cluster load their own kernels
        warm = _warm_up(plan, evaluate) if todo and not dask else 0.0
        seconds = _compute_chunks(plan, todo, store, done, dask=dask, progress=progress,
                                  evaluate=evaluate)
        counts = dict(computed=len(todo), reused=len(done), seconds=seconds,
                      warm_up_seconds=warm,
                      computed_cases=sum(plan.bounds[i][1] - plan.bounds[i][0]
                                         for i in todo), identity=plan.identity, notes=notes)
        if len(done) + len(todo) < n_chunks:
            return SweepRun(None, plan.cases, False, **counts)
        ds = assemble(plan.base, plan.cases, _read_chunks(store, n_chunks))
    ds.attrs["sweep_seconds"] = seconds  # not part of the comparison in tests
    return SweepRun(ds, plan.cases, True, base=plan.base,
                    hourly=hourly_results(plan.base, plan.cases, plan.inputs),
                    store_folder=store.folder if output else None, **counts)


def hourly_results(base: Base, cases: Cases, inputs: Inputs) -> dict:
    """Hourly Datasets of the cases listed in ``[sweep] hourly_cases``."""
    out = {}
    for c in base.scenario.sweep.hourly_cases:
        if c >= cases.n:
            raise InputError(f"case {c} does not exist ({cases.n} cases)",
                             source=base.scenario.path, field="sweep.hourly_cases")
        sc, inp = case_inputs(base, cases.params, cases.values[c], inputs)
        out[c] = run_inputs(sc, inp).hourly
    return out


def sweep(scenario: Scenario | str | Path, **kwargs) -> xr.Dataset:
    """Run a sweep and return its Dataset (``sim.sweep(...)``); see :func:`run`.

    Parameters
    ----------
    scenario : Scenario, or a path to a scenario file
    **kwargs : passed to :func:`run`
    """
    if not isinstance(scenario, Scenario):
        from sim.inputs.scenario import load_scenario

        scenario = load_scenario(scenario)
    result = run(scenario, **kwargs)
    if result.dataset is None:
        raise InputError(f"the sweep stopped after {result.computed} chunks "
                         f"(max_chunks); resume it to finish")
    return result.dataset


# -- the Dataset --------------------------------------------------------------------

def assemble(base: Base, cases: Cases, chunks: list[dict[str, np.ndarray]]) -> xr.Dataset:
    """Join chunks into the Dataset: one dim per parameter (product) or ``case``."""
    sc = base.scenario
    names: list[str] = []
    for ch in chunks:
        names += [k for k in ch if k not in names]
    data: dict[str, np.ndarray] = {}
    for k in names:
        parts = []
        for ch in chunks:
            if k in ch:
                parts.append(ch[k])
            else:  # a figure missing in a chunk (an evaluation gave none): NaN
                n = len(next(iter(ch.values())))
                parts.append(np.full(n, np.nan))
        data[k] = np.concatenate(parts, axis=0)
    if cases.mode == "product":
        case_dims = tuple(p.name for p in cases.params)
        coords: dict[str, Any] = {p.name: p.values for p in cases.params}
        shape = cases.shape
    else:
        case_dims = ("case",)
        coords = {"case": np.arange(cases.n)}
        for j, p in enumerate(cases.params):
            coords[p.name] = ("case", cases.values[:, j])
        if cases.labels is not None:
            coords["label"] = ("case", cases.labels)
        shape = (cases.n,)
    coords["consumer"] = [c.id for c in sc.consumers]
    coords["generator"] = [g.id for g in sc.generators]
    coords["kind"] = ("generator", [g.kind for g in sc.generators])
    coords["sector"] = ("consumer", [c.sector for c in sc.consumers])
    coords["civil"] = ("consumer", [c.is_civil for c in sc.consumers])
    data_vars = {}
    for k, arr in data.items():
        if k == "ledger":
            data_vars[k] = (case_dims + ("generator", "consumer"),
                            arr.reshape(shape + arr.shape[1:]))
        elif k.startswith("consumer__"):
            data_vars[k.replace("consumer__", "consumer_")] = (
                case_dims + ("consumer",), arr.reshape(shape + arr.shape[1:]))
        elif k.startswith("generator__"):
            data_vars[k.replace("generator__", "generator_")] = (
                case_dims + ("generator",), arr.reshape(shape + arr.shape[1:]))
        else:
            # a figure named like a swept parameter (e.g. grant_rate) keeps both
            name = f"{k}_evaluated" if k in coords else k
            data_vars[name] = (case_dims, arr.reshape(shape))
    ds = xr.Dataset(data_vars, coords=coords)
    for k in ds.data_vars:
        unit = KPI_UNITS.get(k)
        if unit is None and (k.startswith(("consumer_", "generator_")) or k == "ledger"):
            unit = "kWh"
        if unit is None:
            unit = ("JPY" if k.endswith("_jpy") else "kWh" if k.endswith("_kwh")
                    else "t" if k.endswith("_t") else "years" if k.endswith("_years")
                    else "")
        if unit:
            ds[k].attrs["units"] = unit
    ds["ledger"].attrs["description"] = ("renewable energy from each generator delivered "
                                         "to each consumer (sim.core.accounting rules)")
    for p in cases.params:
        ds[p.name].attrs.update(target=p.target, description=f"swept: {p.target}")
    ds.attrs.update(region=sc.region.name, year=sc.region.year, mode=cases.mode,
                    n_cases=cases.n, parameters=json.dumps(
                        {p.name: p.target for p in cases.params}, ensure_ascii=False),
                    notes="; ".join(base.notes))
    return ds


def flat_cases(ds: xr.Dataset, cases: Cases) -> pd.DataFrame:
    """One row per case: parameter values and scalar figures."""
    scalars = [k for k, v in ds.data_vars.items()
               if set(v.dims) <= set(p.name for p in cases.params) | {"case"}]
    if cases.mode == "product":
        df = ds[scalars].to_dataframe().reset_index()
        df.insert(0, "case", np.arange(len(df)))
    else:
        df = ds[scalars].reset_coords().to_dataframe().reset_index()
        keep = ["case"] + (["label"] if "label" in df.columns else []) + \
            [p.name for p in cases.params] + scalars
        df = df[[c for c in keep if c in df.columns]]
    return df


def best_cases(df: pd.DataFrame, spec: SweepSpec, n: int | None = None) -> tuple:
    """Cases meeting the constraints, best first by the objective.

    Returns
    -------
    (DataFrame, objective, sense)
    """
    from sim.inputs.scenario import _SWEEP_CONSTRAINT

    objective, sense = spec.objective, spec.sense
    if objective is None:
        objective, default_sense = next(((o, s) for o, s in DEFAULT_OBJECTIVES
                                        if o in df.columns and df[o].notna().any()),
                                        DEFAULT_OBJECTIVES[-1])
        sense = sense or default_sense
    sense = sense or "min"
    if objective not in df.columns:
        raise InputError(f"unknown objective {objective!r}; expected a figure such as "
                         f"{', '.join(c for c in df.columns[:12])}{_hint(objective, df.columns)}",
                         field="sweep.objective")
    mask = pd.Series(True, index=df.index)
    for c in spec.constraints:
        name, op, value = _SWEEP_CONSTRAINT.match(c).groups()
        if name not in df.columns:
            raise InputError(f"unknown figure {name!r} in constraint {c!r}"
                             f"{_hint(name, df.columns)}", field="sweep.constraints")
        col = df[name]
        v: Any = {"true": True, "false": False}.get(value.lower())
        if v is None:
            try:
                v = float(value)
            except ValueError:
                raise InputError(f"expected a number or true/false in constraint {c!r}",
                                 field="sweep.constraints") from None
        ops = {">=": col >= v, "<=": col <= v, ">": col > v, "<": col < v,
               "==": col == v, "!=": col != v}
        mask &= ops[op].fillna(False).astype(bool)
    ok = df[mask & df[objective].notna()]
    ok = ok.sort_values(objective, ascending=(sense == "min"), kind="stable")
    return ok.head(n or spec.best), objective, sense


def pareto_front(cost: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Indices of cases not dominated (lower cost, higher share), by cost."""
    order = np.lexsort((-share, cost))
    front = []
    best = -np.inf
    for i in order:
        if np.isfinite(cost[i]) and np.isfinite(share[i]) and share[i] > best:
            front.append(i)
            best = share[i]
    return np.array(front, dtype=int)


