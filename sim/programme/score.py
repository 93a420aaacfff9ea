"""The score sheet: the programme's figures turned into points (``gxsim score``).

The sheet lists the scoring table's seven requirements and the committee's
points (155 in all). Criteria gxsim can compute are scored from the
:class:`sim.Evaluation` figures against a rubric; judgement criteria take the
points declared in the scenario's ``[score] declared`` table and are marked
*declared*. The rubric (``profiles/rubric/default.toml``) is the project's own
illustration: the programme publishes no formula from figures to points.

The 確認事項 that gxsim can check — criterion (4)①'s balance, the island's
hourly tying (問46) and 問26 ※1's grant rule — are pass/fail requirements of
the first review stage (問7), not points: :func:`requirements` returns them
apart from the sheet.

Criterion (7) (future vision, 問37) is partly computed: rubric items with
``metric = "future.<variable>"`` take a figure of the 2030–2050 study
(:func:`sim.future`) for a projection ``variant`` and the worst of some study
``years``. The study is passed in (:func:`sim.studies.future.future_study`
runs it for exactly those years and variants); without a study (``gxsim score
--no-future``) the items score 0 and are shown as *not computed*.
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
from sim.programme.study_figures import VARIABLES, VARIANTS

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


@dataclass
class Requirement:
    """A 確認事項: a pass/fail requirement of the first review stage (問7), not points.

    ``verdict`` is ``PASS``, ``FAIL``, ``n/a`` (does not apply to this scenario)
    or ``cannot tell`` (the figures cannot support a verdict).
    """

    criterion: str
    item: str
    label: str
    source: str
    metric: str
    value: float | bool | None
    verdict: str
    basis: str


def requirements(evaluation, scenario) -> list[Requirement]:
    """The computable 確認事項, apart from the points.

    * (4)① balance: renewable supply (再エネ等) + savings equal to civil demand,
      on annual netting (scoring table (4)① 確認事項; 問7: checked in the first
      stage, pass/fail).
    * (4)① island hourly tying (問46): on an isolated grid the grid operator ties
      renewable output to civil demand hour by hour, so the balance must hold on
      hourly matched supply; ``n/a`` on a grid that is not isolated.
    * 問26 ※1: grant-funded plants supply, over the grid, only consumers of their
      own municipality.
    """
    ev = evaluation

    def verdict(ok, value) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "cannot tell"
        return "PASS" if ok else "FAIL"

    demand_ok = ev.civil_demand_kwh == ev.civil_demand_kwh and ev.civil_demand_kwh > 0
    cov_a = ev.coverage_annual if demand_ok else None
    cov_h = ev.coverage_hourly if demand_ok else None
    out = [Requirement("4", "4.balance", "(renewable supply + savings) / civil demand ≥ 1, "
                       "annual netting (実質ゼロ)", "scoring (4)① 確認事項, 問7",
                       "coverage_annual", cov_a, verdict(ev.balance_annual_ok, cov_a),
                       "annual: (再エネ等 supply + savings) / 民生部門電力需要量")]
    if scenario.grid.isolated:
        out.append(Requirement("4", "4.island_hourly", "island: renewable supply tied to "
                               "civil demand hour by hour ≥ 1", "問46", "coverage_hourly",
                               cov_h, verdict(ev.balance_hourly_ok, cov_h),
                               "hourly: (再エネ等 supply matched hour by hour + savings) / "
                               "民生部門電力需要量"))
    else:
        out.append(Requirement("4", "4.island_hourly", "island: renewable supply tied to "
                               "civil demand hour by hour", "問46", "coverage_hourly", cov_h,
                               "n/a", "grid not isolated: annual netting applies"))
    out.append(Requirement("4", "26.grant_municipality", "grant-funded plants supply only "
                           "consumers of their own municipality over the grid", "問26 ※1",
                           "grant_rule_breach_kwh", ev.grant_rule_breach_kwh,
                           verdict(ev.grant_rule_ok, ev.grant_rule_breach_kwh),
                           "kWh delivered to another municipality: "
                           f"{ev.grant_rule_breach_kwh:,.1f}"))
    return out


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
        The 2030–2050 study (:func:`sim.studies.future.future_study`) for the ``future.*`` items
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


