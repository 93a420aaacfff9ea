"""``gxsim score``: the programme's figures and a score sheet for a scenario.

The sheet lists the scoring table's seven requirements and the committee's
points (155 in all). Criteria gxsim can compute are scored from the
:class:`sim.Evaluation` figures against a rubric; judgement criteria take the
points declared in the scenario's ``[score] declared`` table and are marked
*declared*. The rubric (``profiles/rubric/default.toml``) is the project's own
illustration: the programme publishes no formula from figures to points.

Criterion (7) (future vision, 問37) is partly computed: rubric items with
``metric = "future.<variable>"`` take a figure of the 2030–2050 study
(:func:`sim.future`) for a projection ``variant`` and the worst of some study
``years``. :func:`future_study` runs the study for exactly those years and
variants; without a study (``gxsim score --no-future``) the items score 0 and
are shown as *not computed*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.inputs.paths import PROFILES
from sim.inputs.scenario import read_toml

RUBRIC = PROFILES / "rubric" / "default.toml"
#: prefix of rubric metrics taken from the 2030–2050 study (sim.studies.future)
FUTURE = "future."


@dataclass
class ScoreItem:
    """One line of the sheet."""

    criterion: str
    item: str
    kind: str            # "computed" or "declared"
    label: str
    metric: str
    value: float | bool | None
    points: float
    max_points: float
    basis: str


def load_rubric(path: str | Path | None = None) -> dict:
    """Read and check a rubric file (see ``profiles/rubric/default.toml``)."""
    path = Path(path) if path else RUBRIC
    data = read_toml(path)
    for i, c in enumerate(data.get("criteria", [])):
        total = 0.0
        for j, it in enumerate(c.get("items", [])):
            where = f"criteria[{i}].items[{j}]"
            if it.get("kind") not in ("computed", "declared"):
                raise InputError("expected kind 'computed' or 'declared'", source=path,
                                 field=where)
            if it["kind"] == "computed" and (not it.get("metric") or not it.get("steps")
                                             or it.get("better") not in ("higher", "lower")):
                raise InputError("a computed item needs metric, steps and better = "
                                 "'higher' or 'lower'", source=path, field=where)
            if it["kind"] == "computed" and str(it["metric"]).startswith(FUTURE):
                _check_future_item(it, path, where)
            total += float(it.get("points", 0))
        if abs(total - float(c.get("points", total))) > 1e-9:
            raise InputError(f"items add up to {total:g} points, the criterion has "
                             f"{c.get('points')}", source=path, field=f"criteria[{i}]")
    if not data.get("criteria"):
        raise InputError("expected [[criteria]]", source=path)
    return data


def _check_future_item(it: dict, path, where: str) -> None:
    """``metric = "future.X"``: X a study variable, ``variant`` and ``years`` valid."""
    from sim.studies.future import VARIABLES, VARIANTS

    name = it["metric"][len(FUTURE):]
    if name not in VARIABLES:
        raise InputError(f"expected future.<variable> with a variable of the 2030–2050 "
                         f"study ({', '.join(VARIABLES)}); got {it['metric']!r}",
                         source=path, field=f"{where}.metric")
    it.setdefault("variant", "harsher")
    it.setdefault("years", [2050])
    if it["variant"] not in VARIANTS:
        raise InputError(f"expected variant among {', '.join(VARIANTS)}, got "
                         f"{it['variant']!r}", source=path, field=f"{where}.variant")
    years = it["years"]
    if (not isinstance(years, list) or not years
            or not all(isinstance(y, int) and not isinstance(y, bool) for y in years)):
        raise InputError(f"expected years as a list of study years, e.g. [2040, 2050]; "
                         f"got {years!r}", source=path, field=f"{where}.years")


def future_request(rubric: dict) -> tuple[list[int], list[str]]:
    """Study years and variants the rubric's ``future.*`` items need (empty if none)."""
    years: set[int] = set()
    variants: list[str] = []
    for c in rubric["criteria"]:
        for it in c["items"]:
            if it["kind"] == "computed" and str(it["metric"]).startswith(FUTURE):
                years.update(int(y) for y in it.get("years", [2050]))
                variants.append(it.get("variant", "harsher"))
    return sorted(years), list(dict.fromkeys(variants))


def future_study(scenario, rubric: dict | None = None, *, weather=None):
    """Run the 2030–2050 study (:func:`sim.future`) for what the rubric's items need.

    Only the study years and variants named by ``future.*`` items are simulated
    (hour by hour, as ``gxsim future`` does); ``None`` if the rubric has none.
    """
    from sim.studies.future import future

    if rubric is None:
        path = scenario.resolve(scenario.score.rubric) if scenario.score.rubric else None
        rubric = load_rubric(path)
    years, variants = future_request(rubric)
    if not years:
        return None
    return future(scenario, years=years, variants=variants, weather=weather)


def _future_value(study, it: dict):
    """The worst of the item's study years for its variant (NaN anywhere → NaN)."""
    ds = study.dataset
    name = it["metric"][len(FUTURE):]
    years = [int(y) for y in it.get("years", [2050])]
    variant = it.get("variant", "harsher")
    missing = [y for y in years if y not in ds["year"].values]
    if missing or variant not in ds["variant"].values:
        raise InputError(f"the 2030–2050 study given has years "
                         f"{', '.join(map(str, ds['year'].values))} and variants "
                         f"{', '.join(map(str, ds['variant'].values))}; the item needs "
                         f"{variant} in {', '.join(map(str, years))}",
                         field=f"rubric item {it['id']}")
    da = ds[name].sel(variant=variant, year=years)
    values = da.values.astype(float)
    if np.isnan(values).any():
        return math.nan
    worst = float(values.min() if it["better"] == "higher" else values.max())
    return bool(worst) if da.dtype == bool else worst


def _future_where(it: dict) -> str:
    years = [str(y) for y in it.get("years", [2050])]
    when = years[0] if len(years) == 1 else "worst of " + ", ".join(years)
    return f"{it.get('variant', 'harsher')}, {when}"


def _step_points(value, steps, better) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    v = float(value)
    got = 0.0
    for threshold, pts in steps:
        ok = v >= threshold if better == "higher" else v <= threshold
        if ok:
            got = max(got, float(pts))
    return got


def score_sheet(evaluation, scenario, rubric: dict | None = None, *, future=None,
                future_note: str | None = None) -> list[ScoreItem]:
    """Score an evaluation against a rubric and the scenario's declared points.

    Parameters
    ----------
    evaluation : sim.Evaluation
    scenario : sim.Scenario
        ``[score] declared`` (item id → points) and ``grid.isolated`` (the
        ``coverage`` metric is hourly on an isolated grid, 問46, else annual).
    rubric : dict, optional
        From :func:`load_rubric`; default ``[score] rubric`` or the shipped one.
    future : sim.FutureStudy, optional
        The 2030–2050 study (:func:`future_study`) for the ``future.*`` items
        (criterion (7)); without it they score 0 and are shown as not computed.
    future_note : str, optional
        Why there is no study (shown in those items' basis), e.g. "--no-future".

    Returns
    -------
    list of ScoreItem
    """
    if rubric is None:
        path = scenario.resolve(scenario.score.rubric) if scenario.score.rubric else None
        rubric = load_rubric(path)
    figures = evaluation.to_dict()
    figures["coverage"] = (figures["coverage_hourly"] if scenario.grid.isolated
                           else figures["coverage_annual"])
    declared = dict(scenario.score.declared)
    items = {it["id"]: (c, it) for c in rubric["criteria"] for it in c["items"]}
    for key, value in declared.items():
        if key not in items or items[key][1]["kind"] != "declared":
            ids = [k for k, (_, it) in items.items() if it["kind"] == "declared"]
            raise InputError(f"expected a judgement item id, one of {', '.join(ids)}; "
                             f"got {key!r}", source=scenario.path, field=f"score.declared.{key}")
        if value > items[key][1]["points"]:
            raise InputError(f"declared {value:g} points, the item has at most "
                             f"{items[key][1]['points']:g}", source=scenario.path,
                             field=f"score.declared.{key}")
    out = []
    for c in rubric["criteria"]:
        for it in c["items"]:
            if it["kind"] == "declared":
                pts = declared.get(it["id"])
                out.append(ScoreItem(c["id"], it["id"], "declared", it.get("label", ""), "",
                                     None, float(pts or 0.0), float(it["points"]),
                                     "declared in [score]" if pts is not None
                                     else "not declared (0)"))
                continue
            metric = it["metric"]
            sign = ">=" if it["better"] == "higher" else "<="
            basis = ", ".join(f"{sign} {t:g}: {p:g}" for t, p in it["steps"])
            if metric.startswith(FUTURE):
                where = _future_where(it)
                if future is None:
                    why = future_note or "no 2030–2050 study given"
                    out.append(ScoreItem(c["id"], it["id"], "computed", it.get("label", ""),
                                         metric, None, 0.0, float(it["points"]),
                                         f"not computed ({why}) → 0; {where}: {basis}"))
                    continue
                value = _future_value(future, it)
                pts = _step_points(value, it["steps"], it["better"])
                if isinstance(value, float) and math.isnan(value):
                    where = "no value (e.g. nothing generated) → 0; " + where
                out.append(ScoreItem(c["id"], it["id"], "computed", it.get("label", ""),
                                     metric, value, pts, float(it["points"]),
                                     f"{where}: {basis}"))
                continue
            if metric not in figures:
                raise InputError(f"unknown metric {metric!r}", field=f"rubric item {it['id']}")
            value = figures[metric]
            pts = _step_points(value, it["steps"], it["better"])
            if value is None:
                basis = "no value (e.g. nothing to cost) → 0; " + basis
            out.append(ScoreItem(c["id"], it["id"], "computed", it.get("label", ""), metric,
                                 value, pts, float(it["points"]), basis))
    return out


def sheet_frame(items: list[ScoreItem]) -> pd.DataFrame:
    """The sheet as a table (one row per item)."""
    return pd.DataFrame([vars(i) for i in items])


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def future_lines(rubric: dict, future=None, future_note: str | None = None) -> list[str]:
    """The sheet's lines on the 2030–2050 study: years and variants used, the figures
    the ``future.*`` items read, or why it was not run (empty if the rubric has none)."""
    years, variants = future_request(rubric)
    if not years:
        return []
    head = "  2030–2050 study (問37, sim.studies.future, hourly)"
    if future is None:
        why = future_note or "no study given"
        return [f"{head}: not computed ({why}); would use variant "
                f"{', '.join(variants)}, years {', '.join(map(str, years))}"]
    ds = future.dataset
    factors = dict(zip(map(str, ds["variant"].values), ds["variant"].attrs.get("factor", [])))
    used = ", ".join(f"{v} (factor {factors[v]:g} on the projected change)"
                     if v in factors else v for v in variants)
    seconds = sum(future.timings.values())
    out = [f"{head}: variant {used}, years {', '.join(map(str, years))}, base year "
           f"{ds.attrs.get('base_year')} ({len(years) * len(variants)} simulations, "
           f"{seconds:.1f} s)"]
    names = [n[len(FUTURE):] for n in dict.fromkeys(
        it["metric"] for c in rubric["criteria"] for it in c["items"]
        if it["kind"] == "computed" and str(it["metric"]).startswith(FUTURE))]
    for v in variants:
        for y in years:
            vals = ", ".join(f"{n} {_fmt(_plain(ds[n].sel(variant=v, year=y).values))}"
                             for n in names)
            out.append(f"    [{v}] {y}: {vals}")
    return out


def _plain(value):
    value = value.item() if hasattr(value, "item") else value
    return value if isinstance(value, bool) else float(value)


def sheet_text(evaluation, scenario, items: list[ScoreItem], rubric: dict, *,
               future=None, future_note: str | None = None) -> str:
    """The printed score sheet: key figures, then criteria and points.

    ``future`` / ``future_note``: the 2030–2050 study used for criterion (7), or
    why there is none (see :func:`score_sheet`)."""
    ev = evaluation
    mwh = (lambda x: f"{x / 1000:12,.1f} MWh")
    lines = [f"Score sheet — {scenario.region.name} ({scenario.region.municipality}), "
             f"{scenario.region.year}",
             f"Rubric: {rubric.get('title', '')} — {rubric.get('label', '')}", "",
             "Figures (docs/figures.md):",
             f"  civil demand (民生部門電力需要量)        {mwh(ev.civil_demand_kwh)}",
             f"  evaluated demand (問24/25)              {mwh(ev.evaluated_demand_kwh)}",
             f"  savings                                 {mwh(ev.savings_kwh)}",
             f"  renewable supply, annual netting        {mwh(ev.renewable_supply_annual_kwh)}"
             f"   balance {'OK' if ev.balance_annual_ok else 'NOT met'}",
             f"  renewable supply, hourly matched (問46) {mwh(ev.renewable_supply_hourly_kwh)}"
             f"   balance {'OK' if ev.balance_hourly_ok else 'NOT met'}",
             f"  netting gap                             {mwh(ev.netting_gap_kwh)}",
             f"  not counted (FIT without value, 問27)   {mwh(ev.not_counted_kwh)}",
             f"  自家消費率 {ev.self_consumption_rate:6.1%}   地産地消率 "
             f"{ev.local_production_rate:6.1%} (annual netting "
             f"{ev.local_production_rate_annual:.1%})",
             f"  additional capacity {ev.additional_capacity_kw:,.0f} kW, energy "
             f"{ev.additional_energy_kwh / 1000:,.1f} MWh (問42)",
             f"  waste power: biomass {ev.waste_biomass_kwh / 1000:,.1f} MWh, plastic "
             f"{ev.waste_plastic_kwh / 1000:,.1f} MWh, plastic CO2 to offset "
             f"{ev.plastic_co2_t:,.1f} t (問31)",
             f"  CO2 reduction {ev.co2_reduction_t:,.1f} t/yr ({ev.co2_basis} supply × "
             f"{ev.emission_factor_kg_per_kwh} kg/kWh)",
             f"  capex {_fmt(ev.capex_jpy)} JPY, grant {_fmt(ev.grant_jpy)} JPY, payback "
             f"{_fmt(ev.payback_years)} yr vs life {_fmt(ev.useful_life_years)} yr",
             f"  cost per t-CO2: total {_fmt(ev.cost_per_t_co2_total_jpy)} JPY, grant "
             f"{_fmt(ev.cost_per_t_co2_grant_jpy)} JPY (over {_fmt(ev.period_years)} yr)",
             *future_lines(rubric, future, future_note),
             "", f"  {'item':<20} {'kind':<9} {'value':>12} {'points':>7}  basis"]
    names = {c["id"]: c for c in rubric["criteria"]}
    total = total_max = 0.0
    for cid in dict.fromkeys(i.criterion for i in items):
        rows = [i for i in items if i.criterion == cid]
        got = sum(i.points for i in rows)
        mx = sum(i.max_points for i in rows)
        total += got
        total_max += mx
        c = names[cid]
        lines.append(f"({cid}) {c.get('ja', '')} — {c.get('en', '')}: {got:g} / {mx:g}")
        for i in rows:
            lines.append(f"  {i.item:<20} {i.kind:<9} {_fmt(i.value):>12} "
                         f"{i.points:>3g}/{i.max_points:<3g}  {i.basis}")
    lines += ["", f"Total: {total:g} / {total_max:g} (computed items by the illustrative "
              f"rubric; declared items as declared)"]
    if ev.notes:
        lines += ["", "Notes: " + ev.notes]
    return "\n".join(lines)


def configure_parser(parser) -> None:
    """Arguments of ``gxsim score``."""
    parser.add_argument("scenario", help="scenario file (TOML)")
    parser.add_argument("-o", "--output", default=None,
                        help="output folder (default: results/<scenario name>_score)")
    parser.add_argument("--no-future", action="store_true",
                        help="skip the 2030–2050 study (a few seconds); the computed "
                             "items of criterion (7) then score 0, shown as not computed")


def command(args) -> int:
    """Simulate, evaluate, score; print the sheet and write it atomically.

    Files: ``score.txt`` (the sheet), ``score.json`` (items and totals),
    ``score.csv``, ``evaluation.json`` (every figure), ``projects.csv``
    (finance per project), ``ledger.csv`` (generator × consumer kWh) and
    ``generators.csv`` (per-generator balance). Criterion (7)'s computed items
    run the 2030–2050 study (:func:`future_study`) unless ``--no-future``; a study
    that cannot run (e.g. no population projection for the municipality) leaves
    them not computed, with the reason on the sheet.
    """
    from sim.core.accounting import ledger, ledger_table
    from sim.core.engine import simulate
    from sim.programme.evaluate import evaluate_totals
    from sim.io import atomic_output_dir, write_json
    from sim.inputs.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    path = scenario.resolve(scenario.score.rubric) if scenario.score.rubric else None
    rubric = load_rubric(path)
    result = simulate(scenario)
    led = ledger(result)
    ev, proj = evaluate_totals(scenario, led, result.annual, with_projects=True)
    study, note = None, None
    if future_request(rubric)[0]:
        if getattr(args, "no_future", False):
            note = "skipped: --no-future"
        else:
            try:
                study = future_study(scenario, rubric)
            except InputError as exc:
                note = f"the study could not run: {exc}"
    items = score_sheet(ev, scenario, rubric, future=study, future_note=note)
    text = sheet_text(ev, scenario, items, rubric, future=study, future_note=note)
    years, variants = future_request(rubric)
    out = Path(args.output or Path("results") / f"{Path(args.scenario).stem}_score")
    with atomic_output_dir(out) as tmp:
        (tmp / "score.txt").write_text(text + "\n", encoding="utf-8")
        frame = sheet_frame(items)
        frame.to_csv(tmp / "score.csv", index=False)
        write_json(tmp / "score.json", {
            "rubric": {k: rubric.get(k) for k in ("title", "label", "source")},
            "total_points": float(frame["points"].sum()),
            "max_points": float(frame["max_points"].sum()),
            "future": {"computed": study is not None, "years": years,
                       "variants": variants, "note": note},
            "items": frame.to_dict(orient="records")})
        write_json(tmp / "evaluation.json", ev.to_dict())
        proj.to_csv(tmp / "projects.csv")
        led.to_pandas().to_csv(tmp / "ledger.csv", float_format="%.3f")
        ledger_table(led).to_csv(tmp / "generators.csv", float_format="%.3f")
    print(text)
    print(f"\nWrote score.txt, score.json, score.csv, evaluation.json, projects.csv, "
          f"ledger.csv, generators.csv to {out}/")
    return 0
