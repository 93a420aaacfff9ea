"""``gxsim verify``: check an island supply claim against the grid operator's meters.

On an island grid the operator records every hour's renewable output and
demand and ties renewable supply to civil demand hour by hour (FAQ 問46). An
evaluator receives a municipality's *claim* (annual figures, its plants and
consumers) and the operator's meter data, and must decide whether the claim
holds. :func:`verify` does that in four steps:

1. **claim** — a TOML file validated by a strict pydantic schema
   (:class:`Claim`): the declared figures, the plants and consumers with the
   same fields as a scenario plus a ``meter`` id each, tolerances, data-quality
   limits and the meter data convention (interval label, unit, layout);
2. **meters** — :func:`sim.inputs.meter.read_meter` reads the files and lists every
   problem with its rows (nothing is filled or dropped unlisted);
3. **recomputation** — metered demand per consumer and metered output per plant
   (replacing the generation models) go through the *same* kernel
   (:func:`sim.core.engine.run_inputs` → :func:`sim.match`) and the *same*
   evaluation (``sim.evaluate``) as a simulated scenario;
4. **verdict** — a side-by-side table (claimed, recomputed, difference,
   tolerance, within) and ``pass`` / ``fail`` / ``inconclusive`` with reasons.

Conventions (documented choices, each configurable where it matters)
--------------------------------------------------------------------
* Consumer meters measure the consumer's **consumption** (after savings: it is
  what was used); plant meters measure the plant's **gross output**. Demand
  before savings is ``metered / (1 - savings)`` with the row's ``savings``
  share, as in a scenario.
* ``renewable_supply_kwh`` is compared with the supply matched **hour by hour**
  (``renewable_supply_hourly_kwh``) because 問46 ties supply to demand hourly
  on islands; ``[rules] supply_basis = "annual"`` compares with annual netting
  instead (the official spreadsheet's view).
* ``hourly_matched_share`` = renewable delivered to civil consumers hour by
  hour / civil demand after savings (both from the kernel's flows).
* Data quality: hours still without a value after the (optional, explicit)
  gap filling are **not** silently accepted. Up to the limits in
  ``[data_quality]`` they are bridged conservatively — a plant's missing hours
  count 0 kWh (no renewable credit), a consumer's missing hours take that
  meter's mean of the same hour of the day (an estimate, its energy reported
  separately); beyond the limits the verdict is ``inconclusive``.
* Exit status of the command: 0 pass, 1 fail, 3 inconclusive, 2 bad input.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.claim import FIGURES, Claim, FigureTolerance, claim_scenario, load_claim
from sim.inputs.meter import rows_text
from sim.inputs.scenario import Scenario

__all__ = ["Verification", "verify", "metered_result", "EXIT_STATUS", "VERDICTS"]

VERDICTS = ("pass", "fail", "inconclusive")
EXIT_STATUS = {"pass": 0, "fail": 1, "inconclusive": 3}


# --------------------------------------------------------------------------
# the claim schema
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# recomputation
# --------------------------------------------------------------------------


def metered_result(scenario: Scenario, demand_kwh: np.ndarray, generation_kwh: np.ndarray,
                   *, notes: list[str] | None = None):
    """A :class:`sim.Result` from metered arrays through the scenario kernel.

    Parameters
    ----------
    scenario : Scenario
        Consumers, generators (their models are not run), storage, grid, options.
    demand_kwh : ndarray (R, T)
        Metered consumption of each consumer row (after savings) [kWh].
    generation_kwh : ndarray (G, T)
        Metered output of each generator row [kWh].

    Returns
    -------
    sim.Result
        Exactly what :func:`sim.simulate` returns for a scenario whose demand
        and generation are these arrays.
    """
    from sim.core.engine import Inputs, calendar_index, equipment, run_inputs

    reg = scenario.region
    index = calendar_index(reg.year, reg.timezone)
    n_t = len(index)
    if demand_kwh.shape != (len(scenario.consumers), n_t):
        raise InputError(f"expected demand of shape {(len(scenario.consumers), n_t)}, got "
                         f"{demand_kwh.shape}", field="demand_kwh")
    if generation_kwh.shape != (len(scenario.generators), n_t):
        raise InputError(f"expected generation of shape {(len(scenario.generators), n_t)}, "
                         f"got {generation_kwh.shape}", field="generation_kwh")
    savings = np.array([c.savings for c in scenario.consumers])
    gross = demand_kwh / (1.0 - savings)[:, None] if savings.any() else demand_kwh
    inputs = Inputs(index=index, weather=pd.DataFrame(index=index), demand_gross=gross,
                    demand=demand_kwh, generation=generation_kwh,
                    must_run=np.full(n_t, scenario.grid.must_run_kw),
                    notes=list(notes or []), **equipment(scenario))
    return run_inputs(scenario, inputs)


def _civil_hourly(result) -> pd.DataFrame:
    """Per hour: civil demand (after savings), renewable delivered to civil consumers,
    grid supply to them, and the region's renewable generation and spill [kWh]."""
    ds = result.hourly
    civil = np.asarray(ds["civil"].values, dtype=bool)
    w = civil.astype(ds["demand"].dtype)

    def csum(name):
        return w @ ds[name].values

    ren = csum("direct") + csum("discharge") + csum("pooled") + csum("community")
    idx = pd.DatetimeIndex(ds["time"].values).tz_localize(ds.attrs.get("timezone",
                                                                        "Asia/Tokyo"))
    return pd.DataFrame({"civil_demand": csum("demand").astype(float),
                         "renewable_delivered": ren.astype(float),
                         "grid": csum("grid").astype(float),
                         "generation": ds["generation"].values.sum(axis=0, dtype=float),
                         "spill": ds["spill"].values.astype(float)}, index=idx)


def _fallback_figures(result) -> dict:
    """The programme's figures from the Result alone (used until sim.programme.evaluate exists)."""
    a = result.annual
    civil = a["civil"].astype(bool)
    demand_gross = float(a.loc[civil, "demand_gross"].sum())
    hourly = float(a.loc[civil, "renewable"].sum())
    gen = result.hourly["generation"].values.sum(axis=1, dtype=float)
    total_gen = float(gen.sum())
    sc = result.scenario
    local = {sc.region.municipality, *sc.region.co_proposers}
    is_local = np.array([(g.municipality or sc.region.municipality) in local
                         for g in sc.generators], dtype=bool)
    local_share = float(gen[is_local].sum() / total_gen) if total_gen > 0 else 0.0
    self_cons = float(a.loc[civil, "direct"].sum() + a.loc[civil, "discharge"].sum())
    savings = float(a.loc[civil, "savings"].sum())
    annual = min(total_gen, demand_gross - savings)
    return {
        "civil_demand_kwh": demand_gross,
        "savings_kwh": savings,
        "renewable_supply_annual_kwh": annual,
        "renewable_supply_hourly_kwh": hourly,
        "netting_gap_kwh": annual - hourly,
        "self_consumption_rate": self_cons / hourly if hourly > 0 else float("nan"),
        "local_production_rate": (hourly * local_share / demand_gross
                                  if demand_gross > 0 else float("nan")),
        "balance_annual_ok": bool(annual + savings >= demand_gross * (1 - 1e-9)),
        "balance_hourly_ok": bool(hourly + savings >= demand_gross * (1 - 1e-9)),
    }


def _evaluation(result) -> tuple[dict, str]:
    """(figures, what computed them): sim.programme.evaluate when available, else the fallback."""
    try:
        from sim.programme.evaluate import evaluate
    except ModuleNotFoundError as exc:
        if exc.name not in ("sim.programme.evaluate", "sim.core.accounting"):
            raise
        return _fallback_figures(result), "sim.studies.verify fallback on Result (sim.programme.evaluate " \
            "not available)"
    figures = {k: (float("nan") if v is None else v)
               for k, v in evaluate(result).to_dict().items()}
    return figures, "sim.programme.evaluate"


# --------------------------------------------------------------------------
# the verification
# --------------------------------------------------------------------------
@dataclass
class Verification:
    """The outcome of checking a claim against meter data.

    Attributes
    ----------
    claim : Claim
    meter : sim.inputs.meter.MeterData
        The data as read, with every problem and repair.
    result : sim.Result
        The kernel's year on the metered arrays.
    figures : dict
        The evaluation's figures (plus ``hourly_matched_share``).
    table : pandas.DataFrame
        One row per compared figure: ``label, unit, claimed, recomputed,
        difference, relative_difference, tolerance, within``.
    verdict : str
        ``pass``, ``fail`` or ``inconclusive``.
    reasons : list of str
        Why, one line each (always at least one).
    quality : dict
        Data completeness: ``missing_share``, ``missing_hours`` per meter,
        ``filled_kwh``, ``estimated_demand_kwh``, ``unmetered_plant_hours``…
    hourly : pandas.DataFrame
        Civil demand, renewable delivered, grid, generation and spill per hour.
    evaluation_source : str
    notes : list of str
    timings : dict
    """

    claim: Claim
    meter: object
    result: object
    figures: dict
    table: pd.DataFrame
    verdict: str
    reasons: list[str]
    quality: dict
    hourly: pd.DataFrame
    evaluation_source: str
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def problems_table(self) -> pd.DataFrame:
        """Data problems: ``kind, meter, file, count, rows, detail`` (rows abridged)."""
        return problems_table(self.meter)

    def to_dict(self) -> dict:
        """Plain, JSON-serialisable summary (verdict, reasons, table, figures, data)."""
        q = dict(self.quality)
        q["missing_hours"] = {k: int(v) for k, v in q["missing_hours"].items() if v}
        q["filled_kwh"] = {k: float(v) for k, v in q["filled_kwh"].items() if v}
        return {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "claim": str(self.claim.path) if self.claim.path else None,
            "meter_files": self.meter.source,
            "evaluation": self.evaluation_source,
            "supply_basis": self.claim.rules.supply_basis,
            "table": [{"figure": k, **{c: _plain(v) for c, v in row.items()}}
                      for k, row in self.table.to_dict(orient="index").items()],
            "figures": {k: _plain(v) for k, v in self.figures.items()},
            "data_quality": q,
            "problems": [{"kind": p.kind, "meter": p.meter, "meters": p.meters,
                          "file": p.file, "count": len(p.rows), "rows": rows_text(p.rows),
                          "detail": p.detail} for p in self.meter.problems],
            "repairs": list(self.meter.repairs),
            "notes": list(self.notes),
            "timings": dict(self.timings),
        }


def _plain(v):
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def problems_table(meter) -> pd.DataFrame:
    """The meter problems as a table with abridged row lists."""
    recs = [{"kind": p.kind, "meter": p.meter, "file": p.file, "count": len(p.rows),
             "rows": rows_text(p.rows), "detail": p.detail} for p in meter.problems]
    return pd.DataFrame.from_records(recs, columns=["kind", "meter", "file", "count", "rows",
                                                    "detail"])


def _tolerance(claim: Claim, key: str, claimed: float) -> float:
    tol = claim.tolerance
    kind = FIGURES[key][1]
    ft = tol.figures.get(key, FigureTolerance())
    if kind == "kWh":
        rel = tol.relative if ft.relative is None else ft.relative
        ab = tol.absolute_kwh if ft.absolute is None else ft.absolute
    else:
        rel = 0.0 if ft.relative is None else ft.relative
        ab = tol.absolute_share if ft.absolute is None else ft.absolute
    return max(ab, rel * abs(claimed))


def format_figure(v: float, kind: str) -> str:
    """A figure for reasons and reports: ``12,345.6 MWh``, ``71.2%`` or ``n/a``."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.1%}" if kind == "share" else f"{v / 1000:,.1f} MWh"


def _compare(claim: Claim, figures: dict) -> pd.DataFrame:
    recs = {}
    for key, (label, kind, ev_key) in FIGURES.items():
        claimed = getattr(claim.claimed, key)
        if claimed is None:
            continue
        if key == "renewable_supply_kwh" and claim.rules.supply_basis == "annual":
            ev_key = "renewable_supply_annual_kwh"
        rec = float(figures.get(ev_key, float("nan")))
        diff = rec - claimed
        tol = _tolerance(claim, key, claimed)
        recs[key] = {"label": label, "unit": kind, "claimed": float(claimed),
                     "recomputed": rec, "difference": diff,
                     "relative_difference": diff / claimed if claimed else float("nan"),
                     "tolerance": tol,
                     "within": bool(math.isfinite(rec) and abs(diff) <= tol * (1 + 1e-12))}
    return pd.DataFrame.from_dict(recs, orient="index")


def _quality(claim: Claim, md, kwh_tm: np.ndarray) -> tuple[dict, list[str]]:
    """Completeness figures and the reasons the data cannot support a verdict."""
    dq = claim.data_quality
    meters = claim.meters
    n_t = kwh_tm.shape[0]
    missing = md.missing_hours().reindex(meters).fillna(n_t).astype(int)
    filled = md.filled_kwh().reindex(meters).fillna(0.0)
    total_cells = n_t * len(meters)
    missing_share = float(missing.sum() / total_cells) if total_cells else 0.0
    metered_energy = float(np.nansum(kwh_tm, dtype=np.float64))
    filled_share = float(filled.sum() / metered_energy) if metered_energy > 0 else 0.0
    reasons = []
    none = [m for m in meters if missing[m] == n_t]
    if none:
        reasons.append(f"{len(none)} meter(s) of the claim have no usable data at all: "
                       f"{_names(none)}")
    if missing_share > dq.max_missing_share:
        reasons.append(f"{missing_share:.1%} of meter-hours have no usable value "
                       f"(limit {dq.max_missing_share:.1%}, [data_quality] max_missing_share)")
    worst = missing[missing > dq.max_meter_missing_share * n_t].sort_values(ascending=False)
    worst = worst.drop(none, errors="ignore")
    if len(worst):
        reasons.append(f"{len(worst)} meter(s) miss more than "
                       f"{dq.max_meter_missing_share:.1%} of their hours "
                       f"([data_quality] max_meter_missing_share): " + _names(
                           [f"{m} ({v / n_t:.1%})" for m, v in worst.items()]))
    if filled_share > dq.max_filled_share:
        reasons.append(f"gap filling added {filled_share:.1%} of the metered energy "
                       f"(limit {dq.max_filled_share:.1%}, [data_quality] max_filled_share)")
    kw = sorted({p.meter for p in md.problems if p.kind == "looks_like_kw"})
    if kw:
        reasons.append(f"the values of {len(kw)} meter(s) look like kW means, not kWh per "
                       f"interval (the claim states unit = {claim.meter_data.unit!r}): "
                       f"{_names(kw)}")
    unknown = sorted({p.meter for p in md.problems
                      if p.kind == "unknown_meter" and p.meter is not None})
    quality = {"unknown_meters": unknown, "hours": n_t, "meters": len(meters), "missing_share": missing_share,
               "missing_hours": missing.to_dict(), "filled_kwh": filled.to_dict(),
               "filled_share": filled_share, "metered_kwh": metered_energy}
    return quality, reasons


def _names(items, n: int = 6) -> str:
    items = [str(i) for i in items]
    return ", ".join(items[:n]) + (f", ... ({len(items)} in all)" if len(items) > n else "")


def _bridge_gaps(claim: Claim, kwh_tm: np.ndarray, n_cons: int, quality: dict) -> list[str]:
    """Fill the remaining NaN in place, conservatively, and say how (see module doc)."""
    notes = []
    n_t = kwh_tm.shape[0]
    cons = kwh_tm[:, :n_cons]
    nan_c = np.isnan(cons)
    est_kwh = 0.0
    if nan_c.any():
        days = n_t // 24
        by_hour = cons.reshape(days, 24, n_cons)
        with np.errstate(invalid="ignore"), _quiet():
            mean = np.nanmean(by_hour, axis=0)           # (24, R)
        mean = np.nan_to_num(mean, nan=0.0)
        est = np.broadcast_to(mean[None], by_hour.shape).reshape(n_t, n_cons)
        est_kwh = float(est[nan_c].sum(dtype=np.float64))
        cons[nan_c] = est[nan_c]
        notes.append(f"{int(nan_c.sum())} consumer meter-hours without a value were "
                     f"estimated by the meter's mean of the same hour of day "
                     f"({est_kwh:,.0f} kWh, not metered)")
    plants = kwh_tm[:, n_cons:]
    nan_p = np.isnan(plants)
    if nan_p.any():
        plants[nan_p] = 0.0
        notes.append(f"{int(nan_p.sum())} plant meter-hours without a value counted as "
                     "0 kWh (no renewable credit for unmetered output)")
    quality["estimated_demand_kwh"] = est_kwh
    quality["estimated_demand_hours"] = int(nan_c.sum())
    quality["unmetered_plant_hours"] = int(nan_p.sum())
    return notes


class _quiet:
    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def _verdict(claim: Claim, table: pd.DataFrame, figures: dict, data_reasons: list[str],
             quality: dict) -> tuple[str, list[str]]:
    c = claim.claimed
    fig_reasons = []
    for key, row in table.iterrows():
        if row["within"]:
            continue
        kind = row["unit"]
        fig_reasons.append(
            f"{row['label']}: claimed {format_figure(row['claimed'], kind)}, recomputed "
            f"{format_figure(row['recomputed'], kind)} (difference {format_figure(row['difference'], kind)}, "
            f"tolerance ±{format_figure(row['tolerance'], kind)})")
        if key == "renewable_supply_kwh" and claim.rules.supply_basis == "hourly":
            annual = float(figures.get("renewable_supply_annual_kwh", float("nan")))
            if math.isfinite(annual) and abs(c.renewable_supply_kwh - annual) <= \
                    _tolerance(claim, key, c.renewable_supply_kwh):
                fig_reasons.append(
                    f"the claimed renewable supply matches annual netting "
                    f"({format_figure(annual, 'kWh')}) but only {format_figure(row['recomputed'], 'kWh')} is "
                    f"matched hour by hour: on an island grid the operator ties supply "
                    f"to demand hourly (FAQ 問46); netting gap "
                    f"{format_figure(figures.get('netting_gap_kwh', annual - row['recomputed']), 'kWh')}")
    ok_key = "balance_hourly_ok" if claim.rules.supply_basis == "hourly" else \
        "balance_annual_ok"
    balance = figures.get(ok_key)
    if c.balance and balance is not None and not bool(balance):
        sup_key = ("renewable_supply_hourly_kwh" if claim.rules.supply_basis == "hourly"
                   else "renewable_supply_annual_kwh")
        short = (figures.get("civil_demand_kwh", 0.0) - figures.get(sup_key, 0.0)
                 - figures.get("savings_kwh", 0.0))
        fig_reasons.append(
            f"the claim asserts renewable supply + savings >= civil demand (実質ゼロ), but "
            f"on {claim.rules.supply_basis} matching the metered year falls "
            f"{format_figure(short, 'kWh')} short")
    unknown = quality.get("unknown_meters", [])
    note = ([f"note: {len(unknown)} meter id(s) in the data are not in the claim "
             f"({_names(unknown)}); if they are civil consumers of the area the claim leaves "
             "them out (問35: all civil consumers are covered)"] if unknown else [])
    if data_reasons:
        reasons = ["the meter data cannot support a verdict: " + r for r in data_reasons]
        if fig_reasons:
            reasons += ["(with the data as it is) " + r for r in fig_reasons]
        return "inconclusive", reasons + note
    if fig_reasons:
        return "fail", fig_reasons + note
    reasons = [f"all {len(table)} claimed figures are within tolerance of the figures "
               f"recomputed from the meter data"]
    if c.balance:
        reasons.append(f"renewable supply + savings covers civil demand on "
                       f"{claim.rules.supply_basis} matching (問46)")
    if quality.get("estimated_demand_hours") or quality.get("unmetered_plant_hours"):
        reasons.append(f"within the data-quality limits: "
                       f"{quality['estimated_demand_hours']} consumer meter-hours estimated, "
                       f"{quality['unmetered_plant_hours']} plant meter-hours counted as 0")
    return "pass", reasons + note


def verify(claim, meter_files=None, *, fill: str | None = None) -> Verification:
    """Check a claim against meter data.

    Parameters
    ----------
    claim : str, Path or Claim
        The claim file (TOML) or a validated :class:`Claim`.
    meter_files : str, Path or list of them, optional
        Meter files (CSV or Parquet); default: the claim's ``[meter_data] files``.
    fill : {"none", "interpolate", "profile"}, optional
        Override of the claim's gap filling (always reported separately).

    Returns
    -------
    Verification

    Raises
    ------
    sim.InputError
        A bad claim or unreadable meter files (one line naming file and field).
    """
    from sim.inputs.meter import read_meter

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if not isinstance(claim, Claim):
        claim = load_claim(claim)
    conv = claim.meter_data
    if meter_files is None or (not isinstance(meter_files, (str, Path))
                               and len(meter_files) == 0):
        if not conv.files:
            raise InputError("no meter data: give --meter FILE or [meter_data] files",
                             source=claim.path, field="meter_data.files")
        meter_files = [claim.resolve(f) for f in conv.files]
    elif isinstance(meter_files, (str, Path)):
        meter_files = [meter_files]
    fill = conv.fill if fill is None else fill
    if fill not in ("none", "interpolate", "profile"):
        raise InputError(f"fill must be 'none', 'interpolate' or 'profile', not {fill!r}",
                         field="fill")
    margin = 1.0 + claim.data_quality.capacity_margin
    caps = {g.meter: g.capacity_kw * margin for g in claim.generators}
    caps.update({c.meter: c.meter_capacity_kw for c in claim.consumers
                 if c.meter_capacity_kw is not None})
    dtype = np.float32 if claim.options.dtype == "float32" else np.float64
    md = read_meter(meter_files, year=claim.region.year, layout=conv.layout,
                    interval=conv.interval, label=conv.label,
                    timezone=conv.timezone or claim.region.timezone, meters=claim.meters,
                    capacities_kw=caps or None, unit=conv.unit,
                    fill=None if fill == "none" else fill,
                    fill_max_hours=conv.fill_max_hours,
                    timestamp_column=conv.timestamp_column, meter_column=conv.meter_column,
                    value_column=conv.value_column, encoding=conv.encoding, dtype=dtype)
    timings["read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    kwh_tm = md.kwh.reindex(columns=claim.meters).to_numpy(dtype=dtype, copy=True)
    quality, data_reasons = _quality(claim, md, kwh_tm)
    n_cons = len(claim.consumers)
    notes = [f"meter data: {r}" for r in md.repairs]
    notes += _bridge_gaps(claim, kwh_tm, n_cons, quality)
    demand = np.ascontiguousarray(kwh_tm[:, :n_cons].T)
    generation = np.ascontiguousarray(kwh_tm[:, n_cons:].T, dtype=np.float64)
    del kwh_tm
    savings = np.array([c.savings for c in claim.consumers])
    scenario = claim_scenario(claim, demand.sum(axis=1, dtype=np.float64) / (1 - savings))
    timings["prepare"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    result = metered_result(scenario, demand, generation, notes=notes)
    del demand, generation
    timings["kernel"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    figures, source = _evaluation(result)
    hourly = _civil_hourly(result)
    net = float(hourly["civil_demand"].sum())
    figures.setdefault("hourly_matched_share",
                       float(hourly["renewable_delivered"].sum()) / net if net > 0
                       else float("nan"))
    table = _compare(claim, figures)
    verdict, reasons = _verdict(claim, table, figures, data_reasons, quality)
    timings["evaluate"] = time.perf_counter() - t0
    return Verification(claim=claim, meter=md, result=result, figures=figures, table=table,
                        verdict=verdict, reasons=reasons, quality=quality, hourly=hourly,
                        evaluation_source=source, notes=notes, timings=timings)


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------


