"""The 2030–2050 study rendered: text summary, plots and the HTML report.

:func:`summary_text` is what ``gxsim future`` prints; :func:`write_study`
writes ``future.nc``, ``future.csv``, ``findings.json``, ``summary.txt``, the
PNG plots and ``report.html`` into an existing folder.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from sim.report.run import notes_and_timings, write_log
from sim.studies.future import FutureStudy


def summary_text(study: FutureStudy, *, timings: bool = True) -> str:
    """A readable summary: figures per year and variant, then the findings
    (timings only on a terminal; ``summary.txt`` holds figures only)."""
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
    lines += notes_and_timings(study.notes, study.timings if timings else None)
    return "\n".join(lines)


def _factor(ds, v) -> float:
    variants = list(ds["variant"].values)
    return ds["variant"].attrs["factor"][variants.index(v)]


def _plots(study: FutureStudy) -> dict[str, bytes]:
    from sim.report.plotting import legend_outside, pyplot

    plt = pyplot()
    ds = study.dataset
    years = ds["year"].values
    out = {}
    fig, ax = plt.subplots(figsize=(9, 4.5))
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
    ax.set_xticks(years)
    ax.set_title("Demand and supply by year")
    ax.grid(alpha=0.3)
    legend_outside(ax)
    out["demand_supply.png"] = _png(fig)
    fig, ax = plt.subplots(figsize=(9, 4.5))
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
    ax.set_xticks(years)
    ax.set_title("Utilisation of the renewable plants by year")
    ax.grid(alpha=0.3)
    legend_outside(ax)
    out["utilisation.png"] = _png(fig)
    plt.close("all")
    return out


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


#: columns of the report's table: variable -> header
_TABLE = {"civil_demand_kwh": "civil demand", "generated_kwh": "generated",
          "delivered_kwh": "delivered", "utilisation": "utilisation",
          "spill_share": "spill share", "balance_annual_ratio": "balance, annual",
          "balance_hourly_ratio": "balance, hourly",
          "self_consumption_rate": "自家消費率", "local_production_rate": "地産地消率",
          "co2_reduction_t": "CO2 reduction"}


def figures_table(study: FutureStudy):
    """The study's figures, one row per variant and year, with units in the headers."""
    from sim.report import html

    ds = study.dataset
    frame = ds[list(_TABLE)].to_dataframe().reset_index()
    frame = frame[["variant", "year", *_TABLE]]
    formats, units = {}, {}
    for name, label in _TABLE.items():
        unit, fmt = html.column_rule(name) or ("", html.fmt_number)
        if name.endswith("_ratio"):
            unit, fmt = "supply / demand", (lambda v: html.fmt_number(v, 2))
        if name.endswith("_t"):
            unit = "t-CO2/yr"
        formats[label], units[label] = fmt, unit
    return html.table(frame.rename(columns=_TABLE), formats=formats, units=units)


def html_report(study: FutureStudy, folder: Path, images: list[str]) -> str:
    """``report.html`` of the study: findings, plots, the figures table, notes."""
    from sim.report import html

    ds = study.dataset
    sc = study.scenario
    finds = [f"[{f['variant']}] {f['message']}" for f in study.findings]
    sections = [
        html.Section("Findings", html.bullets(finds, cls="findings", empty="none: "
                     "utilisation, spill and balance stay within the thresholds")),
        *[html.Section("", html.figure(Path(folder) / n, c)) for n, c in zip(images, (
            "Civil demand and renewable supply by year [GWh per year]",
            "Utilisation of the renewable plants and spill share by year [%]"))],
        html.Section("Figures by year and variant", figures_table(study)),
    ]
    return html.write_page(
        folder, command="future", title=f"{sc.region.name}: 2030–2050 sensitivity",
        lead=f"Base year {ds.attrs['base_year']}; years "
             f"{', '.join(map(str, ds['year'].values))}. {ds.attrs['method']}.",
        source=str(sc.path) if sc.path else None, sections=sections, notes=study.notes)


def write_study(study: FutureStudy, folder: Path, *, plots: bool = True) -> list[str]:
    """Write the study's files into an existing ``folder``; returns their names."""
    from sim.io import write_json

    ds = study.dataset
    ds.to_netcdf(folder / "future.nc", engine="h5netcdf")
    flat = ds.drop_vars("civil_demand_by_sector_kwh").drop_dims("sector", errors="ignore")
    flat.to_dataframe().rename(columns=lambda c: _with_unit(flat, c)).to_csv(
        folder / "future.csv", float_format="%.6f")
    write_json(folder / "findings.json", {"findings": study.findings, "notes": study.notes})
    (folder / "summary.txt").write_text(summary_text(study, timings=False) + "\n",
                                        encoding="utf-8")
    write_log(folder, "future", study.timings)
    files = ["future.nc", "future.csv", "findings.json", "summary.txt", "run.log"]
    if plots:
        images = _plots(study)
        for name, data in images.items():
            (folder / name).write_bytes(data)
        files += [*images, html_report(study, folder, list(images))]
    return files


def _with_unit(ds, name: str) -> str:
    """``name [unit]`` for a CSV header when the name does not say its unit already."""
    unit = ds[name].attrs.get("units", "") if name in ds else ""
    if not unit or unit in ("bool", "-") or name.endswith(("_kwh", "_t", "_years")):
        return name
    return f"{name} [{unit}]"
