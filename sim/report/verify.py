"""Reports of a claim verification: terminal summary, HTML, PNG plots, tables.

Files written by :func:`write_report` (``gxsim verify -o FOLDER``):

``verdict.json``     verdict, reasons, the table, figures, data quality, problems
``comparison.csv``   claimed / recomputed / difference / tolerance / within
``problems.csv``     every data problem with its (abridged) rows
``hourly.csv``       civil demand, renewable delivered, grid, generation, spill per hour [kWh]
``summary.txt``      the terminal summary
``report.html``      all of it, with the plots
``heatmap.png``      hourly-matched share, day x hour
``monthly.png``      civil demand vs renewable delivered (and generated), per month
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.io import write_json
from sim.inputs.meter import rows_text
from sim.report.plotting import MONTHS
from sim.report.run import notes_and_timings, write_log
from sim.studies.verify import format_figure

_MARK = {True: "yes", False: "NO"}


def _ljust(text: str, width: int) -> str:
    """Pad to a terminal width, counting East Asian wide characters as two columns."""
    import unicodedata
    cols = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - cols)


def summary_text(v, *, timings: bool = True) -> str:
    """Verdict, reasons, the side-by-side table and the data problems, for a terminal
    (``summary.txt`` without the timings)."""
    c = v.claim
    q = v.quality
    lines = [f"{c.region.name} ({c.region.municipality}, {c.region.prefecture}) — claim "
             f"for {c.region.year}, {len(c.consumers)} consumer and {len(c.generators)} "
             f"plant meters",
             f"Meter data: {v.meter.source} ({v.meter.interval_minutes}-minute, label "
             f"{c.meter_data.label}, {c.meter_data.unit})", "",
             f"VERDICT: {v.verdict.upper()}"]
    lines += [f"  - {r}" for r in v.reasons]
    lines += ["", f"{'figure':<40} {'claimed':>16} {'recomputed':>16} {'difference':>16} "
              f"{'tolerance':>14}  within"]
    for _, row in v.table.iterrows():
        k = row["unit"]
        lines.append(f"{_ljust(row['label'], 40)} {format_figure(row['claimed'], k):>16} "
                     f"{format_figure(row['recomputed'], k):>16} {format_figure(row['difference'], k):>16} "
                     f"{'±' + format_figure(row['tolerance'], k):>14}  {_MARK[bool(row['within'])]}")
    f = v.figures
    lines += ["", "Recomputed (" + v.evaluation_source + "):"]
    for key, kind in (("renewable_supply_annual_kwh", "kWh"),
                      ("renewable_supply_hourly_kwh", "kWh"), ("netting_gap_kwh", "kWh"),
                      ("balance_annual_ok", "bool"), ("balance_hourly_ok", "bool")):
        if key in f:
            val = str(bool(f[key])) if kind == "bool" else format_figure(float(f[key]), kind)
            lines.append(f"  {key:<32} {val}")
    lines += ["", f"Data: {q['meters']} meters x {q['hours']} h; "
              f"{q['missing_share']:.2%} of meter-hours without a metered value "
              f"({sum(q.get('filled_hours', {}).values()):,} filled hours included); "
              f"filled {sum(q['filled_kwh'].values()):,.0f} kWh; estimated demand "
              f"{q.get('estimated_demand_kwh', 0):,.0f} kWh; unmetered plant hours "
              f"{q.get('unmetered_plant_hours', 0)}"]
    lines += check_lines(v.checks)
    probs = v.meter.problems
    if probs:
        lines.append(f"Data problems ({len(probs)}):")
        for p in probs[:25]:
            where = ", ".join(x for x in (p.file and Path(p.file).name,
                                          p.meter and f"meter {p.meter}") if x)
            rows = rows_text(p.rows, limit=6)
            lines.append(f"  - {p.kind}: {where}: {p.detail}" + (
                f" [{'hours' if p.kind in ('missing', 'gap_filled') else 'rows'} {rows}]"
                if rows and p.kind not in ('missing', 'gap_filled') else ""))
        if len(probs) > 25:
            lines.append(f"  ... {len(probs) - 25} more in problems.csv")
    else:
        lines.append("Data problems: none")
    lines += notes_and_timings(v.notes, v.timings if timings else None)
    return "\n".join(lines)


def _h(x) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:+.1f} h"


def check_lines(checks: dict) -> list[str]:
    """Clock, plausibility and meters left out of the claim, a few lines each."""
    if not checks:
        return []
    c, p, x = checks.get("clock", {}), checks.get("plausibility", {}), checks.get("excluded", {})
    lines = []
    if c:
        lines.append(f"Clock (positive = time stamps late; limit ±{c['limit_h']:.2f} h): "
                     f"PV vs the sun {_h(c['plants_shift_h'])}, consumers vs their "
                     f"archetypes {_h(c['consumers_shift_h'])} (correlation "
                     f"{c['consumers_corr']:.2f}), plants vs consumers best aligned at "
                     f"{_h(c['plants_vs_consumers_lag_h'])} ("
                     f"{_h(c['plants_vs_consumers_lag_expected_h'])} expected)")
        for r in c.get("pv", []):
            lines.append(f"  {r['meter']}: output centre {_h(r['shift_h'])} from the "
                         f"clear-sky centre, daily peak {_h(r['peak_minus_noon_h'])} from "
                         f"solar noon (~{r['solar_noon']}); {r['night_hours']} h with the "
                         f"sun down carry {r['night_kwh']:,.0f} kWh")
    if p:
        out = p.get("outliers", [])
        lines.append(f"Plausibility: {len(out)} plant meter-month(s) above the limit "
                     f"(PV: claim's weather +{p['tolerance']:.0%} or the clear-sky bound; "
                     f"wind: capacity factor band), {p['excess_kwh']:,.0f} kWh above it")
        for o in out[:12]:
            when = "year" if o["month"] == 0 else f"month {o['month']:2d}"
            lines.append(f"  {o['meter']} {when}: {o['kwh_per_kw']:,.2f} vs at most "
                         f"{o['allowed_per_kw']:,.2f} kWh/kW ({o['basis']}), "
                         f"{o['excess_kwh']:,.0f} kWh above")
        if len(out) > 12:
            lines.append(f"  ... {len(out) - 12} more in verdict.json")
    if x and x.get("meters"):
        lines.append("Meters in the data but not in the claim: " + ", ".join(
            f"{m} {kwh:,.0f} kWh ({x['explained'].get(m, 'no reason given')})"
            for m, kwh in x["meters"].items()))
    return lines


def checks_table(checks: dict) -> pd.DataFrame:
    """The plausibility outliers by meter and month (one row each)."""
    cols = ["meter", "month", "kwh_per_kw", "allowed_per_kw", "basis", "excess_kwh"]
    return pd.DataFrame.from_records(checks.get("plausibility", {}).get("outliers", []),
                                     columns=cols)


def heatmap_matrix(hourly: pd.DataFrame) -> pd.DataFrame:
    """Hourly-matched share (renewable delivered / civil demand), day x hour of day."""
    share = hourly["renewable_delivered"] / hourly["civil_demand"].where(
        hourly["civil_demand"] > 0)
    idx = hourly.index
    return pd.DataFrame({"day": idx.normalize().tz_localize(None), "hour": idx.hour,
                         "share": share.to_numpy()}).pivot(index="day", columns="hour",
                                                           values="share")


def monthly_table(hourly: pd.DataFrame) -> pd.DataFrame:
    """Civil demand, renewable delivered and generated per month [kWh]."""
    m = hourly.groupby(hourly.index.month)[["civil_demand", "renewable_delivered",
                                            "generation", "grid"]].sum()
    m.index.name = "month"
    return m


def plot_heatmap(v, path: Path) -> None:
    """PNG: hourly-matched share of civil demand, day of the year x hour of the day."""
    from sim.report.plotting import MONTHS, pyplot

    plt = pyplot()
    mat = heatmap_matrix(v.hourly)
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=100)
    im = ax.imshow(mat.to_numpy().T, aspect="auto", origin="lower", cmap="viridis",
                   vmin=0, vmax=1, interpolation="nearest")
    starts = [i for i, d in enumerate(mat.index) if d.day == 1]
    ax.set_xticks(starts, [MONTHS[mat.index[i].month - 1] for i in starts])
    ax.set_ylabel("hour of day (start)")
    ax.set_yticks(range(0, 24, 3))
    ax.set_title(f"Hourly-matched share of civil demand — {v.claim.region.name} "
                 f"{v.claim.region.year}")
    cbar = fig.colorbar(im, ax=ax, label="renewable delivered / demand [%]")
    cbar.set_ticks([0, 0.25, 0.5, 0.75, 1.0], labels=["0", "25", "50", "75", "100"])
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def plot_monthly(v, path: Path) -> None:
    """PNG: civil demand, renewable delivered and generated per month [MWh]."""
    from sim.report.plotting import legend_below, month_names, pyplot

    plt = pyplot()
    m = monthly_table(v.hourly) / 1000
    x = np.arange(len(m))
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=100)
    ax.bar(x - 0.27, m["civil_demand"], 0.27, label="civil demand (after savings)",
           color="#7f7f7f")
    ax.bar(x, m["renewable_delivered"], 0.27, label="renewable delivered (hourly matched)",
           color="#2ca02c")
    ax.bar(x + 0.27, m["generation"], 0.27, label="renewable generated (annual netting view)",
           color="#98df8a")
    ax.set_xticks(x, month_names(m.index))
    ax.set_ylabel("MWh per month")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    legend_below(ax)
    ax.set_title("Monthly civil demand vs renewable delivered")
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def figure_units(v) -> dict[str, str]:
    """Unit of every recomputed figure in verdict.json (as in docs/figures.md)."""
    from sim.programme.evaluate import FIGURES

    return {k: FIGURES[k][0] if k in FIGURES else "-" for k in v.figures}


def comparison_html(v) -> str:
    """Claimed vs recomputed, each figure in its unit, failing rows highlighted."""
    from sim.report import html

    rows = [{"figure": r["label"], "claimed": format_figure(r["claimed"], r["unit"]),
             "recomputed": format_figure(r["recomputed"], r["unit"]),
             "difference": format_figure(r["difference"], r["unit"]),
             "tolerance": "±" + format_figure(r["tolerance"], r["unit"]),
             "within": _MARK[bool(r["within"])]} for _, r in v.table.iterrows()]
    cols = ["claimed", "recomputed", "difference", "tolerance"]
    return html.table(pd.DataFrame(rows), formats={c: str for c in cols},
                      bad_rows=[not bool(w) for w in v.table["within"]])


def figures_html(v) -> str:
    """The recomputed figures, each with its unit."""
    from sim.report import html

    from sim.programme.evaluate import FIGURES

    unit_of = {k: u[0] for k, u in FIGURES.items()}
    unit_of.setdefault("hourly_matched_share", "-")
    rows = [(key, html.fmt_figure(key, val, unit_of.get(key, ""))) for key, val in
            v.figures.items()]
    return html.key_values(rows)


def quality_html(v) -> str:
    """Data quality in one paragraph."""
    from sim.report import html

    q = v.quality
    return html.paragraph(
        f"{q['meters']:,} meters × {q['hours']:,} h; {q['missing_share']:.2%} of meter-hours "
        f"without a usable value; energy added by gap filling "
        f"{html.fmt_energy(sum(q['filled_kwh'].values()))} ({q['filled_share']:.2%}); "
        f"consumer meter-hours estimated for the recomputation "
        f"{q.get('estimated_demand_hours', 0):,} "
        f"({html.fmt_energy(q.get('estimated_demand_kwh', 0))}); plant meter-hours counted "
        f"as 0 kWh {q.get('unmetered_plant_hours', 0):,}.")


def html_report(v, plots: dict[str, str], folder: Path | None = None) -> str:
    """The HTML report in the shared style (plots: title -> PNG file in ``folder``)."""
    from sim.report import html

    c = v.claim
    probs = v.problems_table()
    month = monthly_table(v.hourly).rename(columns=lambda n: f"{n}_kwh").reset_index()
    month["month"] = [MONTHS[int(m) - 1] for m in month["month"]]
    lead = (f"Meter data: {v.meter.source} ({v.meter.interval_minutes}-minute, timestamps "
            f"label the interval {c.meter_data.label}, unit {c.meter_data.unit}). "
            f"Recomputed through the gxsim kernel with metered demand and output; figures "
            f"by {v.evaluation_source}; renewable supply checked on {c.rules.supply_basis} "
            f"matching (FAQ 問46).")
    sections = [
        html.Section("Verdict", f'<p><span class="badge {html.escape(v.verdict)}">'
                     f"{html.escape(v.verdict.upper())}</span></p>"
                     + html.bullets(v.reasons, cls="findings")),
        html.Section("Claimed vs recomputed", comparison_html(v)),
        html.Section("Recomputed figures", figures_html(v)),
        html.Section("Data quality", quality_html(v)),
        html.Section("Clock, plausibility and meters left out",
                     html.bullets(check_lines(v.checks), empty="not checked")
                     + (html.table(checks_table(v.checks)) if len(checks_table(v.checks))
                        else "")),
        html.Section(f"Data problems ({len(probs):,})",
                     html.table(probs) if len(probs) else html.paragraph("None found.")),
        *[html.Section(title, html.figure(Path(folder) / name, title))
          for title, name in plots.items() if folder is not None],
        html.Section("Monthly totals", html.table(month)),
    ]
    return html.render_page(
        command="verify", title=f"Claim verification: {c.region.name} ({c.region.municipality}, "
                                f"{c.region.prefecture}), {c.region.year}",
        lead=lead, source=str(c.path) if c.path else "(given in code)", sections=sections,
        notes=list(v.notes) + list(v.meter.repairs))


def write_report(v, folder: Path, *, plots: bool = True) -> list[str]:
    """Write the verification's files into ``folder`` (which must exist)."""
    folder = Path(folder)
    write_json(folder / "verdict.json", {**v.to_dict(), "units": figure_units(v)})
    v.table.rename_axis("figure").to_csv(folder / "comparison.csv")
    v.problems_table().to_csv(folder / "problems.csv", index=False)
    v.hourly.rename(columns=lambda n: n if str(n).endswith("_kwh") else f"{n}_kwh").to_csv(
        folder / "hourly.csv", float_format="%.6f")  # every column is kWh in the hour
    (folder / "summary.txt").write_text(summary_text(v, timings=False) + "\n",
                                        encoding="utf-8")
    write_log(folder, "verify", v.timings)
    files = ["verdict.json", "comparison.csv", "problems.csv", "hourly.csv", "summary.txt",
             "run.log"]
    images = {}
    if plots:
        plot_heatmap(v, folder / "heatmap.png")
        plot_monthly(v, folder / "monthly.png")
        images = {"Hourly-matched share (day x hour)": "heatmap.png",
                  "Monthly civil demand vs renewable delivered": "monthly.png"}
        files += ["heatmap.png", "monthly.png"]
    (folder / "report.html").write_text(html_report(v, images, folder), encoding="utf-8")
    files.append("report.html")
    return files
