"""``gxsim verify``: check an island supply claim against the grid operator's meters.

On an island grid the operator records every hour's renewable output and
demand and ties renewable supply to civil demand hour by hour (FAQ 問46). An
evaluator receives a municipality's *claim* (annual figures, its plants and
consumers) and the operator's meter data, and must decide whether the claim
holds. :func:`verify` does that in named steps:

1. **claim** — a TOML file validated by a strict pydantic schema
   (:class:`Claim`): the declared figures, the plants and consumers with the
   same fields as a scenario plus a ``meter`` id each, tolerances, data-quality
   limits and the meter data convention (interval label, unit, layout, date
   format);
2. **read** (:func:`read_claim_meters`) — :func:`sim.inputs.meter.read_meter`
   reads the files and lists every problem with its rows (nothing is filled
   or dropped unlisted; gap filling never puts PV output where the sun is
   down); a file whose interval changes, an ambiguous day/month order or an
   unknown encoding is bad input;
3. **check** (:func:`meter_sums`, :func:`_quality`, :func:`physics_checks`) — completeness
   (filled hours count as missing), the clocks (PV meters against the sun at
   the claim's site, consumers against their demand archetypes), physical
   plausibility (monthly PV kWh/kWp against the claim's weather and a
   clear-sky bound, wind capacity factor), meters in the data that the claim
   leaves out (問35);
4. **recompute** (:func:`recompute`) — metered demand per consumer and metered
   output per plant (replacing the generation models) go through the *same*
   kernel (:func:`sim.core.engine.run_inputs` → :func:`sim.match`) and
5. **evaluate** (:func:`evaluate_claim`) — the *same* evaluation
   (``sim.evaluate``) as a simulated scenario, a side-by-side table (claimed,
   recomputed, difference, tolerance, within);
6. **verdict** (:func:`_verdict`) — ``pass`` / ``fail`` / ``inconclusive``
   with reasons. Inconclusive when the data cannot decide: limits exceeded, a
   clock shifted by an hour or more, a metered meter left out without a
   reason, or a verdict whose margin is smaller than the energy that is not
   metered evidence (filled, estimated, above plausible output).

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
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.claim import (FIGURES, Claim, FigureTolerance, claim_plants, claim_scenario,
                              load_claim)
from sim.inputs.meter import rows_text
from sim.studies.meter_checks import (clock_checks, dark_hours, modelled_output,
                                      plausibility, sun_reference)
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
    gross = demand_kwh
    if savings.any():
        # only the row totals reach the Result (as in sim.simulate): an (R, 1)
        # column, each row's metered total grossed up once (no (R, T) array)
        gross = (demand_kwh.sum(axis=1, dtype=np.float64) / (1.0 - savings))[:, None]
    inputs = Inputs(index=index, weather=pd.DataFrame(index=index), demand_gross=gross,
                    demand=demand_kwh, generation=generation_kwh,
                    must_run=np.full(n_t, scenario.grid.must_run_kw),
                    notes=list(notes or []), **equipment(scenario))
    return run_inputs(scenario, inputs)


def _civil_hourly(result) -> pd.DataFrame:
    """Per hour: civil demand (after savings), renewable delivered to civil consumers,
    grid supply to them, and the region's renewable generation and spill [kWh].

    Renewable delivered is civil demand minus civil grid supply: every
    consumer-hour's demand is direct + discharge + pooled + community + grid
    (the kernel's balance, to rounding), so only ``grid`` is read, by blocks
    of consumers (a derived flow is never held whole).
    """
    from sim.core.accounting import ConsumerRows

    ds = result.hourly
    civil = np.asarray(ds["civil"].values, dtype=bool)
    names = ("demand", "grid")
    sums = {n: np.zeros(ds.sizes["time"]) for n in names}
    n_r, block = len(civil), 2048
    flows = {n: ConsumerRows(ds[n].variable) for n in names}
    # a derived flow is computed into one buffer per flow, reused block after
    # block (an untouched buffer, for a stored flow, costs no memory)
    bufs = {n: np.empty((min(block, n_r), ds.sizes["time"]), flows[n].dtype) for n in names}
    for a in range(0, n_r, block):
        w = civil[a:a + block]
        if w.any():
            for n in names:
                b = min(a + block, n_r)
                rows = flows[n].rows_into(a, b, bufs[n][:b - a])
                # added in float64 whatever the storage type (a float32 product
                # would round each hour's sum to ~1e-6 of it)
                sums[n] += (rows if w.all() else rows[w]).sum(axis=0, dtype=np.float64)
    ren = sums["demand"] - sums["grid"]
    idx = pd.DatetimeIndex(ds["time"].values).tz_localize(ds.attrs.get("timezone",
                                                                        "Asia/Tokyo"))
    return pd.DataFrame({"civil_demand": sums["demand"],
                         "renewable_delivered": ren,
                         "grid": sums["grid"],
                         "generation": ds["generation"].values.sum(axis=0, dtype=float),
                         "spill": ds["spill"].values.astype(float)}, index=idx)


def _evaluation(result) -> tuple[dict, str]:
    """(figures, what computed them): the programme's evaluation of the Result."""
    from sim.programme.evaluate import evaluate

    figures = {k: (float("nan") if v is None else v)
               for k, v in evaluate(result).to_dict().items()}
    return figures, "sim.evaluate"


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
    checks : dict
        ``clock`` (shifts, night output; :func:`sim.studies.meter_checks.clock_checks`),
        ``plausibility`` (outliers by meter and month), ``excluded`` (meters in
        the data but not in the claim, their energy and the claim's reasons),
        ``reasons`` (those that make the verdict inconclusive).
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
    checks: dict = field(default_factory=dict)

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
            "checks": _plain_tree({k: v for k, v in self.checks.items() if k != "reasons"}),
        }


def _plain_tree(v):
    if isinstance(v, dict):
        return {str(k): _plain_tree(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain_tree(x) for x in v]
    return _plain(v)


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


def _quality(claim: Claim, md, sums: dict) -> tuple[dict, list[str]]:
    """Completeness figures and the reasons the data cannot support a verdict.

    ``sums``: :func:`meter_sums` of the claim's meters. Filled hours are not
    evidence: they count as missing against the limits.
    """
    dq = claim.data_quality
    meters = claim.meters
    n_t = len(md.kwh.index)
    nan = pd.Series(sums["missing"], index=meters)
    filled_h = (md.filled.sum(axis=0) if md.filled is not None
                else pd.Series(0, index=md.kwh.columns)).reindex(meters).fillna(0).astype(int)
    missing = nan + filled_h
    filled = md.filled_kwh().reindex(meters).fillna(0.0)
    total_cells = n_t * len(meters)
    missing_share = float(missing.sum() / total_cells) if total_cells else 0.0
    metered_energy = float(sums["energy"].sum()) - float(filled.sum())
    filled_share = float(filled.sum() / metered_energy) if metered_energy > 0 else 0.0
    reasons = []
    none = [m for m in meters if nan[m] == n_t]
    if none:
        reasons.append(f"{len(none)} meter(s) of the claim have no usable data at all: "
                       f"{_names(none)}")
    fill_s = " (filled hours count as missing)" if filled_h.any() else ""
    if missing_share > dq.max_missing_share:
        reasons.append(f"{missing_share:.1%} of meter-hours have no metered value{fill_s} "
                       f"(limit {dq.max_missing_share:.1%}, [data_quality] max_missing_share)")
    worst = missing[missing > dq.max_meter_missing_share * n_t].sort_values(ascending=False)
    worst = worst.drop(none, errors="ignore")
    if len(worst):
        reasons.append(f"{len(worst)} meter(s) miss more than "
                       f"{dq.max_meter_missing_share:.1%} of their hours{fill_s} "
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
    quality = {"unknown_meters": _unknown_meters(md), "hours": n_t, "meters": len(meters),
               "missing_share": missing_share, "missing_hours": missing.to_dict(),
               "filled_hours": filled_h.to_dict(), "filled_kwh": filled.to_dict(),
               "filled_share": filled_share, "metered_kwh": metered_energy}
    return quality, reasons


def _unknown_meters(md) -> list[str]:
    return sorted({p.meter for p in md.problems
                   if p.kind == "unknown_meter" and p.meter is not None})


def _excluded_consumers(claim: Claim, md, figures: dict) -> tuple[dict, list[str]]:
    """Meters in the data but not in the claim: their energy, and a reason unless the
    claim says why each is left out (問35: all civil consumers are covered)."""
    extra = md.unknown_kwh if md.unknown_kwh is not None else pd.Series(dtype=float)
    extra = extra[extra.index.isin(_unknown_meters(md))]
    unexplained = [m for m in extra.index if m not in claim.excluded_meters]
    civil = float(figures.get("civil_demand_kwh", float("nan")))
    add = float(extra[unexplained].sum())
    info = {"meters": {m: float(v) for m, v in extra.items()},
            "unexplained": unexplained, "civil_demand_if_included_kwh": civil + add,
            "explained": {m: claim.excluded_meters[m] for m in extra.index
                          if m in claim.excluded_meters}}
    if not unexplained:
        return info, []
    rel = add / civil if civil > 0 else float("nan")
    return info, [
        f"{len(unexplained)} metered meter(s) in the data are not in the claim "
        f"({_names([f'{m} {extra[m] / 1000:,.1f} MWh' for m in unexplained])}): if they are "
        f"civil consumers of the area, civil demand is {format_figure(civil + add, 'kWh')} "
        f"instead of {format_figure(civil, 'kWh')} ({rel:+.1%}) and every figure changes "
        "(問35: all civil consumers are covered); give a reason for each in "
        "[excluded_meters]"]


def _names(items, n: int = 6) -> str:
    items = [str(i) for i in items]
    return ", ".join(items[:n]) + (f", ... ({len(items)} in all)" if len(items) > n else "")


def _bridge_gaps(demand: np.ndarray, generation: np.ndarray, quality: dict,
                 demand_gaps: bool = True) -> list[str]:
    """Fill the remaining NaN of the (consumer, hour) demand and (plant, hour)
    generation in place, conservatively, and say how (see module doc).
    ``demand_gaps`` False: demand is known to have none (not searched)."""
    notes = []
    n_cons, n_t = demand.shape
    nan_c = np.isnan(demand) if demand_gaps else None
    n_est = int(nan_c.sum()) if demand_gaps else 0
    est_kwh = 0.0
    if n_est:
        by_hour = demand.reshape(n_cons, n_t // 24, 24)
        with np.errstate(invalid="ignore"), _quiet():
            mean = np.nanmean(by_hour, axis=1)           # (R, 24)
        mean = np.nan_to_num(mean, nan=0.0)
        est = np.broadcast_to(mean[:, None, :], by_hour.shape).reshape(n_cons, n_t)
        est_kwh = float(est[nan_c].sum(dtype=np.float64))
        demand[nan_c] = est[nan_c]
        notes.append(f"{n_est} consumer meter-hours without a value were "
                     f"estimated by the meter's mean of the same hour of day "
                     f"({est_kwh:,.0f} kWh, not metered)")
    nan_p = np.isnan(generation)
    n_zero = int(nan_p.sum())
    if n_zero:
        generation[nan_p] = 0.0
        notes.append(f"{n_zero} plant meter-hours without a value counted as "
                     "0 kWh (no renewable credit for unmetered output)")
    quality["estimated_demand_kwh"] = est_kwh
    quality["estimated_demand_hours"] = n_est
    quality["unmetered_plant_hours"] = n_zero
    return notes


class _quiet:
    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def _figure_reasons(claim: Claim, table: pd.DataFrame, figures: dict) -> list[str]:
    """Why the figures fail: each figure out of tolerance, and a balance not met."""
    c = claim.claimed
    fig_reasons = []
    for key, row in table.iterrows():
        if row["within"]:
            continue
        kind = row["unit"]
        fig_reasons.append(
            f"{row['label']}: claimed {format_figure(row['claimed'], kind)}, recomputed "
            f"{format_figure(row['recomputed'], kind)} (difference "
            f"{format_figure(row['difference'], kind)}, tolerance "
            f"±{format_figure(row['tolerance'], kind)})")
        if key == "renewable_supply_kwh" and claim.rules.supply_basis == "hourly":
            annual = float(figures.get("renewable_supply_annual_kwh", float("nan")))
            if math.isfinite(annual) and abs(c.renewable_supply_kwh - annual) <= \
                    _tolerance(claim, key, c.renewable_supply_kwh):
                gap = figures.get("netting_gap_kwh", annual - row["recomputed"])
                fig_reasons.append(
                    f"the claimed renewable supply matches annual netting "
                    f"({format_figure(annual, 'kWh')}) but only "
                    f"{format_figure(row['recomputed'], 'kWh')} is matched hour by hour: on "
                    f"an island grid the operator ties supply to demand hourly (FAQ 問46); "
                    f"netting gap {format_figure(gap, 'kWh')}")
    short = _balance_short(claim, figures)
    if short is not None:
        fig_reasons.append(
            f"the claim asserts renewable supply + savings >= civil demand (実質ゼロ), but "
            f"on {claim.rules.supply_basis} matching the metered year falls "
            f"{format_figure(short, 'kWh')} short")
    return fig_reasons


def _balance_short(claim: Claim, figures: dict) -> float | None:
    """kWh by which a claimed balance (実質ゼロ) is not met, or None."""
    hourly = claim.rules.supply_basis == "hourly"
    balance = figures.get("balance_hourly_ok" if hourly else "balance_annual_ok")
    if not claim.claimed.balance or balance is None or bool(balance):
        return None
    sup = figures.get("renewable_supply_hourly_kwh" if hourly else
                      "renewable_supply_annual_kwh", 0.0)
    return figures.get("civil_demand_kwh", 0.0) - sup - figures.get("savings_kwh", 0.0)


def _margins_kwh(claim: Claim, table: pd.DataFrame, figures: dict) -> pd.Series:
    """Each figure's distance from its tolerance edge, as the metered energy [kWh]
    that would have to change to cross it (negative: outside).

    E kWh of metered consumption or output move renewable supply by at most
    E, civil demand (before savings) by E / (1 - s) and savings by
    E x s / (1 - s) with the largest savings share s of the claim, and a rate
    by E / its denominator (renewable supply for the self-consumption rate,
    civil demand otherwise).
    """
    s = max([c.savings for c in claim.consumers] + [0.0])
    per_kwh = {"civil_demand_kwh": 1 / (1 - s), "renewable_supply_kwh": 1.0,
               "savings_kwh": s / (1 - s)}
    out = {}
    for key, row in table.iterrows():
        m = float(row["tolerance"]) - abs(float(row["difference"]))
        if row["unit"] == "share":
            den = figures.get("renewable_supply_hourly_kwh" if key == "self_consumption_rate"
                              else "civil_demand_kwh", float("nan"))
            out[key] = m * float(den)
        else:
            sens = per_kwh.get(key, 1.0)
            out[key] = m / sens if sens > 0 else float("inf")
    return pd.Series(out, dtype=float)


def _not_evidence(quality: dict, checks: dict) -> dict:
    """Energy in the recomputation that is not metered evidence [kWh]."""
    return {"filled": float(sum(quality["filled_kwh"].values())),
            "estimated demand": float(quality.get("estimated_demand_kwh", 0.0)),
            "above plausible output": float(checks["plausibility"]["excess_kwh"])}


def _undecided(claim: Claim, table: pd.DataFrame, figures: dict, verdict: str,
               unsure: dict) -> str | None:
    """A reason when the energy that is not evidence could turn the verdict."""
    total = sum(unsure.values())
    if total <= 0 or verdict not in ("pass", "fail"):
        return None
    margins = _margins_kwh(claim, table, figures)
    what = ", ".join(f"{k} {v / 1000:,.1f} MWh" for k, v in unsure.items() if v > 0)
    if verdict == "pass":
        key = margins.idxmin() if len(margins) else None
        margin = float(margins.min()) if len(margins) else float("inf")
        if margin >= total:
            return None
        return (f"the verdict's margin ({table.loc[key, 'label']}: within tolerance "
                f"unless {margin / 1000:,.1f} MWh of metered energy change) is smaller than "
                f"the energy "
                f"that is not metered evidence ({what}; {total / 1000:,.1f} MWh in all)")
    excess = -margins[margins < 0]
    short = _balance_short(claim, figures) or 0.0
    decisive = max([float(excess.max()) if len(excess) else 0.0, short])
    if decisive > total:
        return None
    return (f"the claim fails, but {decisive / 1000:,.1f} MWh of metered energy would "
            f"bring it within tolerance, not more than the energy that is not metered "
            f"evidence ({what}; "
            f"{total / 1000:,.1f} MWh in all)")


def _verdict(claim: Claim, table: pd.DataFrame, figures: dict, data_reasons: list[str],
             quality: dict, checks: dict) -> tuple[str, list[str]]:
    """pass / fail / inconclusive with its reasons (the data's reasons first)."""
    fig_reasons = _figure_reasons(claim, table, figures)
    verdict = "fail" if fig_reasons else "pass"
    data_reasons = data_reasons + checks["reasons"]
    undecided = _undecided(claim, table, figures, verdict, _not_evidence(quality, checks))
    if undecided:
        data_reasons.append(undecided)
    notes = [f"excluded by the claim: {m} ({why})"
             for m, why in checks["excluded"]["explained"].items()]
    if data_reasons:
        reasons = ["the meter data cannot support a verdict: " + r for r in data_reasons]
        return "inconclusive", reasons + ["(with the data as it is) " + r
                                          for r in fig_reasons] + notes
    if fig_reasons:
        return "fail", fig_reasons + notes
    reasons = [f"all {len(table)} claimed figures are within tolerance of the figures "
               f"recomputed from the meter data"]
    if claim.claimed.balance:
        reasons.append(f"renewable supply + savings covers civil demand on "
                       f"{claim.rules.supply_basis} matching (問46)")
    if quality.get("estimated_demand_hours") or quality.get("unmetered_plant_hours"):
        reasons.append(f"within the data-quality limits: "
                       f"{quality['estimated_demand_hours']} consumer meter-hours estimated, "
                       f"{quality['unmetered_plant_hours']} plant meter-hours counted as 0")
    return "pass", reasons + notes


class _Timer:
    """``with _Timer(timings, "step"):`` records the step's seconds."""

    def __init__(self, timings: dict, name: str):
        self.timings, self.name = timings, name

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        self.timings[self.name] = time.perf_counter() - self.t0


def _meter_files(claim: Claim, meter_files) -> list:
    """The files to read: given, or the claim's ``[meter_data] files``."""
    if meter_files is None or (not isinstance(meter_files, (str, Path))
                               and len(meter_files) == 0):
        if not claim.meter_data.files:
            raise InputError("no meter data: give --meter FILE or [meter_data] files",
                             source=claim.path, field="meter_data.files")
        return [claim.resolve(f) for f in claim.meter_data.files]
    return [meter_files] if isinstance(meter_files, (str, Path)) else list(meter_files)


def read_claim_meters(claim: Claim, files: list, fill: str, sun: dict):
    """Step "read": the meter files with the claim's convention and limits.

    Plant values above capacity x (1 + margin) are impossible; gap filling
    (if the claim asks for it) never puts PV output where the sun is down.
    """
    from sim.inputs.meter import read_meter

    if fill not in ("none", "interpolate", "profile"):
        raise InputError(f"fill must be 'none', 'interpolate' or 'profile', not {fill!r}",
                         field="fill")
    conv = claim.meter_data
    margin = 1.0 + claim.data_quality.capacity_margin
    caps = {g.meter: g.capacity_kw * margin for g in claim.generators}
    caps.update({c.meter: c.meter_capacity_kw for c in claim.consumers
                 if c.meter_capacity_kw is not None})
    return read_meter(files, year=claim.region.year, layout=conv.layout,
                      interval=conv.interval, label=conv.label,
                      timezone=conv.timezone or claim.region.timezone, meters=claim.meters,
                      capacities_kw=caps or None, unit=conv.unit,
                      fill=None if fill == "none" else fill,
                      fill_max_hours=conv.fill_max_hours,
                      timestamp_column=conv.timestamp_column,
                      meter_column=conv.meter_column, value_column=conv.value_column,
                      encoding=conv.encoding, date_format=conv.date_format,
                      dark_hours=dark_hours(claim, sun),
                      dtype=np.float32 if claim.options.dtype == "float32" else np.float64)


def physics_checks(claim: Claim, md, sun: dict, sums: dict | None = None) -> dict:
    """Step "check": clock and plausibility of the metered values (not the fills).

    ``sums``: :func:`meter_sums` of the claim's meters, if already computed.
    """
    # plant columns only (a region has thousands of consumers and a few plants)
    plants = md.kwh.reindex(columns=[g.meter for g in claim.generators]).astype(float)
    if md.filled is not None:
        plants = plants.mask(md.filled.reindex(columns=plants.columns, fill_value=False))
    sums = sums if sums is not None else meter_sums(claim, claim_matrix(claim, md))
    n_cons = len(claim.consumers)
    total = pd.Series(sums["consumer_total"], index=md.kwh.index)
    energy = pd.Series(sums["energy"][:n_cons], index=claim.meters[:n_cons])
    clock = clock_checks(claim, plants, total, energy, sun)
    modelled = modelled_output(claim, claim_plants(claim))
    plaus = plausibility(claim, plants, modelled, sun,
                         claim.data_quality.pv_yield_tolerance)
    return {"clock": clock, "plausibility": plaus, "reasons": list(clock["reasons"])}


def claim_matrix(claim: Claim, md) -> np.ndarray:
    """The claim's meters' hourly kWh, (meter, hour) in ``claim.meters`` order
    (consumers, then plants; a meter without data is all NaN): ``md.kwh``'s
    own memory (:meth:`MeterData.meter_matrix`) when it holds exactly those
    meters in that order (as :func:`read_claim_meters` returns them), else a
    copy. Never write to it."""
    if list(md.kwh.columns) == list(claim.meters):
        return md.meter_matrix()
    return md.kwh.reindex(columns=claim.meters).to_numpy().T


def meter_sums(claim: Claim, mt: np.ndarray) -> dict:
    """One parallel pass over the (meter, hour) matrix (:func:`claim_matrix`).

    Returns
    -------
    dict
        ``missing`` (M,) hours without a value per meter; ``energy`` (M,)
        [kWh] each meter's metered kWh over the year (values only);
        ``consumer_total`` (H,) [kWh] all consumer meters' kWh per hour (NaN
        where none has a value).
    """
    missing, energy, total, count = _meter_sums(mt, len(claim.consumers), 64)
    total[count == 0] = np.nan
    return {"missing": missing, "energy": energy, "consumer_total": total}


@nb.njit(parallel=True, cache=True, nogil=True)
def _meter_sums(mt, n_cons, block):
    """:func:`meter_sums` by blocks of ``block`` meters, each block's hourly
    consumer sums apart (no race), added at the end; sums in float64."""
    n_m, n_h = mt.shape
    missing = np.zeros(n_m, np.int64)
    energy = np.zeros(n_m)
    n_b = (n_m + block - 1) // block
    part = np.zeros((n_b, n_h))
    count = np.zeros((n_b, n_h), np.int64)
    for b in nb.prange(n_b):
        for m in range(b * block, min(n_m, (b + 1) * block)):
            e = 0.0
            miss = 0
            consumer = m < n_cons
            for h in range(n_h):
                x = mt[m, h]
                if np.isnan(x):
                    miss += 1
                else:
                    e += x
                    if consumer:
                        part[b, h] += x
                        count[b, h] += 1
            missing[m] = miss
            energy[m] = e
    return missing, energy, part.sum(axis=0), count.sum(axis=0)


def _plausibility_reason(plaus: dict) -> list[str]:
    """The outliers, by meter and month, for the notes (the verdict weighs their energy)."""
    if not plaus["outliers"]:
        return []
    shown = [f"{o['meter']} {'year' if o['month'] == 0 else 'month ' + str(o['month'])}: "
             f"{o['kwh_per_kw']:,.1f} kWh/kW vs at most {o['allowed_per_kw']:,.1f} "
             f"({o['basis']})" for o in plaus["outliers"]]
    return [f"{len(shown)} plant meter-month(s) above what the site's sun and weather "
            f"allow ({plaus['excess_kwh'] / 1000:,.1f} MWh above the limits): "
            + _names(shown, 8)]


def recompute(claim: Claim, mt: np.ndarray, quality: dict, notes: list[str],
              sums: dict | None = None):
    """Step "recompute": gaps bridged, metered arrays through the scenario kernel.

    ``mt``: :func:`claim_matrix`, never written to. ``sums``: its
    :func:`meter_sums`, if computed: when no consumer meter has a gap and
    ``mt`` already is a writeable C-ordered array of the claim's dtype, its
    consumer rows are the kernel's demand as they are (no copy of the
    (consumer, hour) matrix; ``result.hourly["demand"]`` then shares
    ``meter.kwh``'s memory); otherwise demand is a copy with its gaps bridged.
    Generation (a few plant rows) is always a copy.
    """
    n_cons = len(claim.consumers)
    dtype = np.float32 if claim.options.dtype == "float32" else np.float64
    demand = mt[:n_cons]
    gaps = sums is None or bool(sums["missing"][:n_cons].any())
    if gaps or not (demand.dtype == dtype and demand.flags.c_contiguous
                    and demand.flags.writeable):
        demand = np.array(demand, dtype=dtype, order="C")
    generation = np.array(mt[n_cons:], dtype=np.float64, order="C")
    notes += _bridge_gaps(demand, generation, quality, demand_gaps=gaps)
    savings = np.array([c.savings for c in claim.consumers])
    scenario = claim_scenario(claim, demand.sum(axis=1, dtype=np.float64) / (1 - savings))
    return metered_result(scenario, demand, generation, notes=notes)


def evaluate_claim(claim: Claim, result) -> tuple[dict, str, pd.DataFrame, pd.DataFrame]:
    """Step "evaluate": figures, their source, civil hourly flows and the comparison."""
    figures, source = _evaluation(result)
    hourly = _civil_hourly(result)
    net = float(hourly["civil_demand"].sum())
    figures.setdefault("hourly_matched_share",
                       float(hourly["renewable_delivered"].sum()) / net if net > 0
                       else float("nan"))
    return figures, source, hourly, _compare(claim, figures)


def _prepare_models(claim: Claim) -> None:
    """What later steps need from the claim alone, made while the meter files
    are read (that reading leaves a core idle part of the time: 0.4-0.6 s
    less in all at 10,000 meters): the plants' modelled output
    (:func:`modelled_output`, cached), the calendar and holidays the
    consumers' archetype shapes are made on (cached; the shapes themselves
    are cheap and are made again by the clock check) and ``dask.array``,
    which xarray imports to make its first Dataset when dask is installed
    (0.2-0.35 s)."""
    from sim.core.engine import calendar_index
    from sim.physics.demand import demand_kwh

    modelled_output(claim, claim_plants(claim))
    index = calendar_index(claim.region.year, claim.region.timezone)
    for shape in dict.fromkeys(c.shape for c in claim.consumers):
        demand_kwh(1.0, shape, index)
    import dask.array  # noqa: F401


class _Ahead:
    """Run ``fn(*args)`` in a thread for the duration of a ``with`` block.

    Only for work whose results land in caches that a later step reads (or
    makes again): an error in the thread is dropped here and raised, with its
    usual message, by the step that meets it again.
    """

    def __init__(self, fn, *args):
        self._thread = threading.Thread(target=self._run, args=(fn, *args),
                                        name="gxsim-prepare", daemon=True)

    @staticmethod
    def _run(fn, *args):
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - met again, and reported, by the later step
            pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._thread.join()


def verify(claim, meter_files=None, *, fill: str | None = None,
           meter_data=None) -> Verification:
    """Check a claim against meter data.

    Parameters
    ----------
    claim : str, Path or Claim
        The claim file (TOML) or a validated :class:`Claim`.
    meter_files : str, Path or list of them, optional
        Meter files (CSV or Parquet); default: the claim's ``[meter_data] files``.
    fill : {"none", "interpolate", "profile"}, optional
        Override of the claim's gap filling (always reported separately).
    meter_data : sim.inputs.meter.MeterData, optional
        The data as already read (by :func:`read_claim_meters` with a claim of
        the same ``[meter_data]`` convention and meters): judge another claim
        on the same data without reading it again.

    Returns
    -------
    Verification

    Raises
    ------
    sim.InputError
        A bad claim or unreadable meter files (one line naming file and field).
    """
    timings: dict[str, float] = {}
    with _Timer(timings, "read"):
        claim = claim if isinstance(claim, Claim) else load_claim(claim)
        sun = sun_reference(claim)
        if meter_data is None:
            files = _meter_files(claim, meter_files)
            with _Ahead(_prepare_models, claim):
                md = read_claim_meters(claim, files, claim.meter_data.fill if fill is None
                                       else fill, sun)
        else:
            md = meter_data
    with _Timer(timings, "check"):
        mt = claim_matrix(claim, md)
        sums = meter_sums(claim, mt)
        quality, data_reasons = _quality(claim, md, sums)
        checks = physics_checks(claim, md, sun, sums)
    with _Timer(timings, "kernel"):
        notes = [f"meter data: {r}" for r in md.repairs]
        notes += _plausibility_reason(checks["plausibility"])
        result = recompute(claim, mt, quality, notes, sums)
        del mt
    with _Timer(timings, "evaluate"):
        figures, source, hourly, table = evaluate_claim(claim, result)
        checks["excluded"], excl_reasons = _excluded_consumers(claim, md, figures)
        checks["reasons"] += excl_reasons
        verdict, reasons = _verdict(claim, table, figures, data_reasons, quality, checks)
    return Verification(claim=claim, meter=md, result=result, figures=figures, table=table,
                        verdict=verdict, reasons=reasons, quality=quality, hourly=hourly,
                        evaluation_source=source, notes=notes, timings=timings,
                        checks=checks)


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------


