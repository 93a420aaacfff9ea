"""The 2030–2050 study rendered: text summary, plots and the HTML report.

:func:`summary_text` is what ``gxsim future`` prints; :func:`write_study`
writes ``future.nc``, ``future.csv``, ``findings.json``, ``summary.txt``, the
PNG plots and ``report.html`` into an existing folder.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np

from sim.report.run import notes_and_timings
from sim.studies.future import FutureStudy


def summary_text(study: FutureStudy) -> str:
    """A readable summary: figures per year and variant, then the findings."""
    ds = study.dataset
    sc = study.scenario
    lines = [f"{sc.region.name} ({sc.region.municipality}) — 2030–2050 sensitivity, base "
             f"year {ds.attrs['base_year']}, years {', '.join(map(str, ds['year'].values))}",
             ""]
    head = (f"  {'year':>4}  {'civil MWh':>10}  {'gen MWh':>9}  {'deliv MWh':>9}  "
            f"{'util':>6}  {'spill':>6}  {'bal.ann':>7}  {'bal.hr':>7}  {'自家消費':>6}  "
            f"{'地産地消':>6}  {'CO2 t':>7}")
    for v in ds["variant"].values:
        d = ds.sel(variant=v)
        lines.append(f"[{v}] (factor {_factor(ds, v):g} on the projected change)")
        lines.append(head)
        for i, y in enumerate(d["year"].values):
            def g(name):
                return float(d[name].values[i])

            def pct(name, width):
                value = g(name)
                return f"{value:>{width}.1%}" if np.isfinite(value) else f"{'—':>{width}}"
            lines.append(
                f"  {y:>4}  {g('civil_demand_kwh') / 1e3:>10,.0f}  "
                f"{g('generated_kwh') / 1e3:>9,.0f}  {g('delivered_kwh') / 1e3:>9,.0f}  "
                f"{pct('utilisation', 6)}  {pct('spill_share', 6)}  "
                f"{g('balance_annual_ratio'):>6.2f}{'✓' if d['balance_annual_ok'].values[i] else '✗'}  "
                f"{g('balance_hourly_ratio'):>6.2f}{'✓' if d['balance_hourly_ok'].values[i] else '✗'}  "
                f"{pct('self_consumption_rate', 8)}  {pct('local_production_rate', 8)}  "
                f"{g('co2_reduction_t'):>7,.0f}")
        pb = float(ds["payback_cumulative_years"].sel(variant=v))
        if np.isfinite(pb):
            lines.append(f"  payback under the declining demand: {pb:.0f} years from "
                         f"{ds.attrs['base_year']} (cumulative net benefit of the study years)")
        elif pb == np.inf:
            lines.append("  payback under the declining demand: not reached within 100 years")
        lines.append("")
    lines.append("Findings:")
    if study.findings:
        lines += [f"  - [{f['variant']}] {f['message']}" for f in study.findings]
    else:
        lines.append("  - none: utilisation, spill and balance stay within the thresholds")
    lines += notes_and_timings(study.notes, study.timings)
    return "\n".join(lines)


def _factor(ds, v) -> float:
    variants = list(ds["variant"].values)
    return ds["variant"].attrs["factor"][variants.index(v)]


def _plots(study: FutureStudy) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds = study.dataset
    years = ds["year"].values
    out = {}
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = {"reference": "C0", "harsher": "C3", "milder": "C2"}
    for v in ds["variant"].values:
        d = ds.sel(variant=v)
        c = colours.get(str(v), None)
        ax.plot(years, d["civil_demand_kwh"] / 1e6, "-o", color=c, label=f"civil demand ({v})")
        ax.plot(years, d["delivered_kwh"] / 1e6, "--s", color=c, alpha=0.7,
                label=f"renewable delivered ({v})")
    ref = ds.isel(variant=0)
    ax.plot(years, ref["generated_kwh"] / 1e6, "-^", color="k", label="renewable generated")
    ax.set_xlabel("year")
    ax.set_ylabel("GWh per year")
    ax.set_title("Demand and supply by year")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    out["demand_supply.png"] = _png(fig)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for v in ds["variant"].values:
        d = ds.sel(variant=v)
        ax.plot(years, d["utilisation"] * 100, "-o", color=colours.get(str(v)),
                label=f"utilisation ({v})")
        ax.plot(years, d["spill_share"] * 100, ":", color=colours.get(str(v)),
                label=f"spill share ({v})")
    th = study.scenario.future.thresholds
    ax.axhline(th.utilisation_min * 100, color="grey", ls="--", lw=0.8,
               label="utilisation threshold")
    ax.set_xlabel("year")
    ax.set_ylabel("% of renewable generation")
    ax.set_ylim(0, 105)
    ax.set_title("Utilisation of the renewable plants by year")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    out["utilisation.png"] = _png(fig)
    plt.close("all")
    return out


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _html(study: FutureStudy, images: dict[str, bytes]) -> str:
    import html

    ds = study.dataset
    table = study.dataset[["civil_demand_kwh", "generated_kwh", "delivered_kwh",
                           "utilisation", "spill_share", "balance_annual_ratio",
                           "balance_hourly_ratio", "self_consumption_rate",
                           "local_production_rate", "co2_reduction_t"]].to_dataframe()
    imgs = "".join(f'<figure><img alt="{n}" src="data:image/png;base64,'
                   f'{base64.b64encode(b).decode()}"><figcaption>{n}</figcaption></figure>'
                   for n, b in images.items())
    finds = "".join(f"<li>[{html.escape(f['variant'])}] {html.escape(f['message'])}</li>"
                    for f in study.findings) or "<li>none</li>"
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in study.notes)
    title = html.escape(f"{study.scenario.region.name}: 2030–2050 sensitivity")
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
            "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
            "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;"
            "padding:2px 6px;text-align:right}img{max-width:100%}</style>"
            f"<h1>{title}</h1><p>Base year {ds.attrs['base_year']}; {html.escape(ds.attrs['method'])}."
            f"</p><h2>Findings</h2><ul>{finds}</ul>{imgs}<h2>Figures</h2>"
            f"{table.to_html(float_format=lambda x: f'{x:,.3f}')}"
            f"<h2>Notes</h2><ul>{notes}</ul></html>\n")


def write_study(study: FutureStudy, folder: Path, *, plots: bool = True) -> list[str]:
    """Write the study's files into an existing ``folder``; returns their names."""
    from sim.io import write_json

    ds = study.dataset
    ds.to_netcdf(folder / "future.nc", engine="h5netcdf")
    flat = ds.drop_vars("civil_demand_by_sector_kwh").drop_dims("sector", errors="ignore")
    flat.to_dataframe().to_csv(folder / "future.csv", float_format="%.6f")
    write_json(folder / "findings.json", {"findings": study.findings, "notes": study.notes})
    (folder / "summary.txt").write_text(summary_text(study) + "\n", encoding="utf-8")
    files = ["future.nc", "future.csv", "findings.json", "summary.txt"]
    if plots:
        images = _plots(study)
        for name, data in images.items():
            (folder / name).write_bytes(data)
        (folder / "report.html").write_text(_html(study, images), encoding="utf-8")
        files += [*images, "report.html"]
    return files
