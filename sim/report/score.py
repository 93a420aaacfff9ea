"""The score sheet rendered as text (what ``gxsim score`` prints)."""

from __future__ import annotations

from sim.programme.score import FUTURE, ScoreItem, future_request, requirements


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
    out = [f"{head}: variant {used}, years {', '.join(map(str, years))}, base year "
           f"{ds.attrs.get('base_year')} ({len(years) * len(variants)} simulations)"]
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
    pct = (lambda x: "—" if x is None or x != x else f"{x:6.1%}")
    lines = [f"Score sheet — {scenario.region.name} ({scenario.region.municipality}), "
             f"{scenario.region.year}",
             f"Rubric: {rubric.get('title', '')} — {rubric.get('label', '')}", "",
             "Figures (names and definitions: docs/figures.md):",
             f"  civil demand (民生部門電力需要量)                 {mwh(ev.civil_demand_kwh)}",
             f"  evaluated demand (評価対象, 問24/25)              {mwh(ev.evaluated_demand_kwh)}",
             f"  savings (省エネ)                                  {mwh(ev.savings_kwh)}",
             f"  再エネ等 supply to civil demand, annual netting   "
             f"{mwh(ev.renewable_supply_annual_kwh)}",
             f"  再エネ等 supply to civil demand, hourly matched   "
             f"{mwh(ev.renewable_supply_hourly_kwh)}",
             f"  netting gap (annual − hourly)                     {mwh(ev.netting_gap_kwh)}",
             f"  not counted (FIT/FIP without value, 問27)         {mwh(ev.not_counted_kwh)}",
             f"  coverage (supply + savings) / civil demand: annual {pct(ev.coverage_annual)}, "
             f"hourly {pct(ev.coverage_hourly)}",
             f"  自家消費率 ({ev.supply_basis}) {pct(ev.self_consumption_rate)}   地産地消率 "
             f"({ev.local_production_basis}) {pct(ev.local_production_rate)} "
             f"[hourly {pct(ev.local_production_rate_hourly)}, annual "
             f"{pct(ev.local_production_rate_annual)}]",
             f"  additional capacity {ev.additional_capacity_kw:,.0f} kW, energy "
             f"{ev.additional_energy_kwh / 1000:,.1f} MWh (問42: output increase only)",
             f"  waste power: biomass {ev.waste_biomass_kwh / 1000:,.1f} MWh, plastic "
             f"{ev.waste_plastic_kwh / 1000:,.1f} MWh, plastic CO2 to offset "
             f"{ev.plastic_co2_t:,.1f} t (問31)",
             f"  CO2 reduction, whole plan {ev.co2_reduction_t:,.1f} t/yr ({ev.co2_basis} "
             f"supply + savings × {ev.emission_factor_kg_per_kwh} kg/kWh); projects' own "
             f"{ev.co2_reduction_projects_t:,.1f} t/yr",
             f"  emission factor (問28): {ev.emission_factor_source}",
             f"  capex {_fmt(ev.capex_jpy)} JPY, grant {_fmt(ev.grant_jpy)} JPY, payback "
             f"{_fmt(ev.payback_years)} yr vs life {_fmt(ev.useful_life_years)} yr",
             f"  cost per t-CO2 over {_fmt(ev.period_years)} yr — of the projects' own "
             f"reduction: total {_fmt(ev.cost_per_t_co2_total_projects_jpy)} JPY, grant "
             f"{_fmt(ev.cost_per_t_co2_grant_projects_jpy)} JPY; of the whole plan's: total "
             f"{_fmt(ev.cost_per_t_co2_total_jpy)} JPY, grant "
             f"{_fmt(ev.cost_per_t_co2_grant_jpy)} JPY",
             *future_lines(rubric, future, future_note),
             "", "Requirements (確認事項: pass/fail, not points; 問7):"]
    for r in requirements(ev, scenario):
        lines.append(f"  {r.verdict:<11} {r.item:<22} {r.label} ({r.source}); {r.basis}"
                     + (f" = {_fmt(r.value)}" if r.metric.startswith("coverage") else ""))
    if ev.grant_rule_breaches:
        lines += [f"    問26 ※1 breach: {b}" for b in ev.grant_rule_breaches.split("; ")]
    lines += ["", f"  {'item':<20} {'kind':<9} {'value':>12} {'points':>7}  basis"]
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


def _value_text(item: ScoreItem) -> str:
    """An item's value with its unit, by the metric's name."""
    from sim.report import html

    v = item.value
    if v is None or isinstance(v, bool):
        return _fmt(v)
    m = str(item.metric)
    if m.endswith("_kwh"):
        return html.fmt_energy(v)
    if m.endswith(("_rate", "_share")) or m in ("coverage", "future.utilisation"):
        return html.fmt_share(v)
    if m.endswith("_jpy"):
        return html.fmt_number(v, 0, "JPY")
    if m.endswith("_kw"):
        return html.fmt_number(v, 0, "kW")
    if m.endswith("_years"):
        return html.fmt_number(v, 1, "yr")
    if m.endswith("_t"):
        return html.fmt_number(v, 1, "t-CO2")
    return html.fmt_number(v, 2)


def key_figures(ev) -> list[tuple[str, str]]:
    """The sheet's key figures, label → value with unit (docs/figures.md)."""
    from sim.report import html

    e, s, n = html.fmt_energy, html.fmt_share, html.fmt_number
    ok = {True: "met", False: "NOT met"}
    return [
        ("civil demand (民生部門電力需要量)", e(ev.civil_demand_kwh)),
        ("evaluated demand (問24/25)", e(ev.evaluated_demand_kwh)),
        ("savings", e(ev.savings_kwh)),
        ("renewable supply, annual netting", f"{e(ev.renewable_supply_annual_kwh)} — "
                                             f"balance {ok[bool(ev.balance_annual_ok)]}"),
        ("renewable supply, hourly matched (問46)", f"{e(ev.renewable_supply_hourly_kwh)} — "
                                                  f"balance {ok[bool(ev.balance_hourly_ok)]}"),
        ("netting gap", e(ev.netting_gap_kwh)),
        ("not counted (FIT without value, 問27)", e(ev.not_counted_kwh)),
        ("自家消費率 (self-consumption rate)", s(ev.self_consumption_rate)),
        ("地産地消率 (local production rate), hourly / annual",
         f"{s(ev.local_production_rate)} / {s(ev.local_production_rate_annual)}"),
        ("additional capacity / energy (問42)", f"{n(ev.additional_capacity_kw, 0, 'kW')} / "
                                                 f"{e(ev.additional_energy_kwh)}"),
        ("waste power: biomass / plastic (問31)", f"{e(ev.waste_biomass_kwh)} / "
                                                 f"{e(ev.waste_plastic_kwh)}"),
        ("plastic CO2 to offset (問31)", n(ev.plastic_co2_t, 1, "t-CO2")),
        ("CO2 reduction", f"{n(ev.co2_reduction_t, 1, 't-CO2/yr')} ({ev.co2_basis} supply × "
                          f"{ev.emission_factor_kg_per_kwh} kg-CO2/kWh)"),
        ("capex / grant", f"{n(ev.capex_jpy, 0, 'JPY')} / {n(ev.grant_jpy, 0, 'JPY')}"),
        ("payback vs useful life", f"{n(ev.payback_years, 1, 'yr')} vs "
                                   f"{n(ev.useful_life_years, 1, 'yr')}"),
        ("cost per t-CO2: total / grant", f"{n(ev.cost_per_t_co2_total_jpy, 0, 'JPY')} / "
                                          f"{n(ev.cost_per_t_co2_grant_jpy, 0, 'JPY')}"),
    ]


def requirements_html(evaluation, scenario) -> str:
    """The 確認事項 as a table, failing ones highlighted."""
    import pandas as pd

    from sim.report import html

    reqs = requirements(evaluation, scenario)
    rows = pd.DataFrame([{"verdict": r.verdict, "item": r.item, "requirement": r.label,
                          "source": r.source, "basis": r.basis} for r in reqs])
    if rows.empty:
        return html.paragraph("none")
    return html.table(rows, bad_rows=[r.verdict == "FAIL" for r in reqs])


def html_report(folder, evaluation, scenario, items: list[ScoreItem], rubric: dict, *,
                future=None, future_note: str | None = None) -> str:
    """``report.html`` of ``gxsim score``: key figures, the sheet, the study used."""
    import pandas as pd

    from sim.report import html

    names = {c["id"]: c for c in rubric["criteria"]}
    rows = [{"criterion": f"({i.criterion}) {names[i.criterion].get('ja', '')}",
             "item": i.item, "kind": i.kind, "value": _value_text(i),
             "points": f"{i.points:g} / {i.max_points:g}", "basis": i.basis} for i in items]
    total = sum(i.points for i in items)
    total_max = sum(i.max_points for i in items)
    sections = [
        html.Section("Total", f'<p><span class="badge ok">{total:g} / {total_max:g}</span> '
                     f"points — {html.escape(rubric.get('label', ''))}</p>"),
        html.Section("Key figures", html.key_values(key_figures(evaluation))),
        html.Section("Requirements (確認事項: pass/fail, not points; 問7)",
                     requirements_html(evaluation, scenario)),
        html.Section("Score sheet", html.table(pd.DataFrame(rows),
                                               formats={"points": str, "value": str})),
    ]
    study = [ln.strip() for ln in future_lines(rubric, future, future_note)]
    if study:
        sections.append(html.Section("2030–2050 study (criterion 7)", html.bullets(study)))
    sc = scenario
    return html.write_page(
        folder, command="score", title=f"Score sheet — {sc.region.name}, {sc.region.year}",
        lead=f"Rubric: {rubric.get('title', '')}. Computed items by the illustrative rubric; "
             "declared items as declared in [score] declared.",
        source=str(sc.path) if sc.path else None, sections=sections,
        notes=[evaluation.notes] if evaluation.notes else [])
