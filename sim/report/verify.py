"""Reports of a claim verification: terminal summary, HTML, PNG plots, tables.

Files written by :func:`write_report` (``gxsim verify -o FOLDER``):

``verdict.json``     verdict, reasons, the table, figures, data quality, problems
``comparison.csv``   claimed / recomputed / difference / tolerance / within
``problems.csv``     every data problem with its (abridged) rows
``hourly.csv``       civil demand, renewable delivered, grid, generation, spill per hour
``summary.txt``      the terminal summary
``report.html``      all of it, with the plots
``heatmap.png``      hourly-matched share, day x hour
``monthly.png``      civil demand vs renewable delivered (and generated), per month
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from sim.io import write_json
from sim.inputs.meter import rows_text
from sim.report.run import notes_and_timings
from sim.studies.verify import format_figure

_MARK = {True: "yes", False: "NO"}


def _ljust(text: str, width: int) -> str:
    """Pad to a terminal width, counting East Asian wide characters as two columns."""
    import unicodedata
    cols = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - cols)


def summary_text(v) -> str:
    """Verdict, reasons, the side-by-side table and the data problems, for a terminal."""
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
    lines += notes_and_timings(v.notes, v.timings)
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
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mat = heatmap_matrix(v.hourly)
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=100)
    im = ax.imshow(mat.to_numpy().T, aspect="auto", origin="lower", cmap="viridis",
                   vmin=0, vmax=1, interpolation="nearest")
    ax.set_xlabel("day of year")
    ax.set_ylabel("hour of day (start)")
    ax.set_yticks(range(0, 24, 3))
    ax.set_title(f"Hourly-matched share of civil demand — {v.claim.region.name} "
                 f"{v.claim.region.year}")
    fig.colorbar(im, ax=ax, label="renewable delivered / demand")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_monthly(v, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = monthly_table(v.hourly) / 1000
    x = np.arange(len(m))
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=100)
    ax.bar(x - 0.27, m["civil_demand"], 0.27, label="civil demand (after savings)",
           color="#7f7f7f")
    ax.bar(x, m["renewable_delivered"], 0.27, label="renewable delivered (hourly matched)",
           color="#2ca02c")
    ax.bar(x + 0.27, m["generation"], 0.27, label="renewable generated (annual netting view)",
           color="#98df8a")
    ax.set_xticks(x, [str(i) for i in m.index])
    ax.set_xlabel("month")
    ax.set_ylabel("MWh")
    ax.legend(fontsize=8)
    ax.set_title("Monthly civil demand vs renewable delivered")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _table_html(df: pd.DataFrame) -> str:
    return df.to_html(index=False, escape=True, border=0, classes="t", na_rep="")


def html_report(v, plots: dict[str, str]) -> str:
    """The HTML report (images referenced by relative file name)."""
    e = html.escape
    c = v.claim
    colour = {"pass": "#2ca02c", "fail": "#d62728", "inconclusive": "#ff7f0e"}[v.verdict]
    t = v.table.copy()
    rows = []
    for _, r in t.iterrows():
        k = r["unit"]
        cls = "" if r["within"] else " class='bad'"
        rows.append(f"<tr{cls}><td>{e(r['label'])}</td><td>{e(format_figure(r['claimed'], k))}</td>"
                    f"<td>{e(format_figure(r['recomputed'], k))}</td>"
                    f"<td>{e(format_figure(r['difference'], k))}</td>"
                    f"<td>±{e(format_figure(r['tolerance'], k))}</td>"
                    f"<td>{_MARK[bool(r['within'])]}</td></tr>")
    comp = ("<table class='t'><tr><th>figure</th><th>claimed</th><th>recomputed</th>"
            "<th>difference</th><th>tolerance</th><th>within</th></tr>" + "".join(rows)
            + "</table>")
    figs = "".join(f"<tr><td>{e(k)}</td><td>{e(str(val))}</td></tr>"
                   for k, val in v.figures.items())
    probs = v.problems_table()
    prob_html = _table_html(probs) if len(probs) else "<p>None found.</p>"
    month = monthly_table(v.hourly).round(0).reset_index()
    q = v.quality
    imgs = "".join(f"<h2>{e(title)}</h2><img src='{e(name)}' alt='{e(title)}'>"
                   for title, name in plots.items())
    notes = "".join(f"<li>{e(n)}</li>" for n in v.notes + list(v.meter.repairs))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>gxsim verify — {e(c.region.name)}</title>
<style>
body {{ font-family: sans-serif; max-width: 1100px; margin: 2em auto; }}
.verdict {{ font-size: 1.6em; color: white; background: {colour}; padding: .3em .6em;
           display: inline-block; }}
table.t {{ border-collapse: collapse; font-size: .9em; }}
table.t td, table.t th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
tr.bad td {{ background: #fde0e0; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Claim verification: {e(c.region.name)} ({e(c.region.municipality)}, {e(c.region.prefecture)}), {c.region.year}</h1>
<p>Claim: {e(str(c.path) if c.path else "(given in code)")}<br>
Meter data: {e(v.meter.source)} ({v.meter.interval_minutes}-minute, timestamps label the
interval {e(c.meter_data.label)}, unit {e(c.meter_data.unit)})<br>
Recomputed through the gxsim kernel with metered demand and output; figures by
{e(v.evaluation_source)}; renewable supply checked on <b>{e(c.rules.supply_basis)}</b>
matching (FAQ 問46).</p>
<p class="verdict">{e(v.verdict.upper())}</p>
<ul>{"".join(f"<li>{e(r)}</li>" for r in v.reasons)}</ul>
<h2>Claimed vs recomputed</h2>{comp}
<h2>Recomputed figures</h2><table class="t">{figs}</table>
<h2>Data quality</h2>
<p>{q['meters']} meters x {q['hours']} h; {q['missing_share']:.2%} of meter-hours without a
usable value; energy added by gap filling {sum(q['filled_kwh'].values()):,.0f} kWh
({q['filled_share']:.2%}); consumer meter-hours estimated for the recomputation
{q.get('estimated_demand_hours', 0)} ({q.get('estimated_demand_kwh', 0):,.0f} kWh);
plant meter-hours counted as 0 kWh {q.get('unmetered_plant_hours', 0)}.</p>
<h2>Clock, plausibility and meters left out</h2>
<pre>{e(chr(10).join(check_lines(v.checks)))}</pre>
{_table_html(checks_table(v.checks)) if len(checks_table(v.checks)) else ""}
<h2>Data problems ({len(probs)})</h2>{prob_html}
{imgs}
<h2>Monthly totals [kWh]</h2>{_table_html(month)}
<h2>Repairs and notes</h2><ul>{notes}</ul>
</body></html>
"""


def write_report(v, folder: Path, *, plots: bool = True) -> list[str]:
    """Write the verification's files into ``folder`` (which must exist)."""
    folder = Path(folder)
    write_json(folder / "verdict.json", v.to_dict())
    v.table.rename_axis("figure").to_csv(folder / "comparison.csv")
    v.problems_table().to_csv(folder / "problems.csv", index=False)
    v.hourly.to_csv(folder / "hourly.csv", float_format="%.6f")
    (folder / "summary.txt").write_text(summary_text(v) + "\n", encoding="utf-8")
    files = ["verdict.json", "comparison.csv", "problems.csv", "hourly.csv", "summary.txt"]
    images = {}
    if plots:
        plot_heatmap(v, folder / "heatmap.png")
        plot_monthly(v, folder / "monthly.png")
        images = {"Hourly-matched share (day x hour)": "heatmap.png",
                  "Monthly civil demand vs renewable delivered": "monthly.png"}
        files += ["heatmap.png", "monthly.png"]
    (folder / "report.html").write_text(html_report(v, images), encoding="utf-8")
    files.append("report.html")
    return files
