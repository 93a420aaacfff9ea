"""A sweep rendered: its files, the Pareto plot, the HTML report and summary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr

from sim.io import atomic_output_dir
from sim.studies.sweep import (COST_FIGURES, Cases, SweepRun, best_cases, flat_cases,
                               pareto_front)


def write_outputs(result: SweepRun, output: str | Path) -> list[str]:
    """Write a finished sweep's files atomically into ``output``; returns their names.

    The Dataset (``sweep.zarr`` or ``sweep.nc``), ``cases.csv``, ``best.csv``,
    ``pareto.png``, ``report.html``, ``hourly/case-N.nc`` for ``[sweep]
    hourly_cases`` and ``summary.txt``. The chunk work folder is removed once
    the files are in place.
    """
    ds, base, cases = result.dataset, result.base, result.cases
    spec = base.scenario.sweep
    df = flat_cases(ds, cases)
    best, objective, sense = best_cases(df, spec)
    files = []
    with atomic_output_dir(Path(output)) as tmp:
        if spec.format == "zarr":
            # variable-length strings: fixed-width unicode has no Zarr v3 spec
            z = ds.assign_coords({k: ds[k].astype(object) for k in ds.coords
                                  if ds[k].dtype.kind == "U"})
            z.to_zarr(tmp / "sweep.zarr", mode="w", consolidated=False)
            files.append("sweep.zarr")
        else:
            ds.to_netcdf(tmp / "sweep.nc", engine="h5netcdf")
            files.append("sweep.nc")
        df.to_csv(tmp / "cases.csv", index=False, float_format="%.9g")
        best.to_csv(tmp / "best.csv", index=False, float_format="%.9g")
        files += ["cases.csv", "best.csv"]
        x_name = next((c for c in COST_FIGURES if c in df.columns and df[c].notna().any()),
                      None)
        files.append(_pareto_plot(df, x_name, tmp / "pareto.png"))
        (tmp / "report.html").write_text(
            _report_html(base, cases, df, best, objective, sense, x_name),
            encoding="utf-8")
        files.append("report.html")
        if result.hourly:
            (tmp / "hourly").mkdir()
            for c, hourly in result.hourly.items():
                hourly.to_netcdf(tmp / "hourly" / f"case-{c:06d}.nc", engine="h5netcdf")
            files.append("hourly/")
        (tmp / "summary.txt").write_text(summary_text(ds, cases, best, objective, sense)
                                         + "\n", encoding="utf-8")
        files.append("summary.txt")
    result.discard_chunks()
    return files


def _pareto_plot(df: pd.DataFrame, x_name: str | None, path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if x_name is None:  # no cost figure yet: installed capacity as the effort
        x = df[["pv_kw", "wind_kw", "biomass_kw", "waste_kw"]].sum(axis=1).to_numpy()
        x_label = "installed renewable capacity [kW] (no cost figure evaluated)"
    else:
        x = df[x_name].to_numpy(dtype=float)
        x_label = x_name
    y = df["hourly_matched_share"].to_numpy(dtype=float)
    front = pareto_front(x, y)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.scatter(x, y, s=8, alpha=0.4, label="cases")
    if front.size:
        ax.plot(x[front], y[front], "o-", color="C3", ms=4, label="Pareto front")
    ax.set_xlabel(x_label)
    ax.set_ylabel("hourly-matched share [-]")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path.name


def _report_html(base, cases, df, best, objective, sense, x_name) -> str:
    import html

    sc = base.scenario
    params = "".join(f"<li><code>{html.escape(p.name)}</code> = "
                     f"<code>{html.escape(p.target)}</code></li>" for p in cases.params)
    cons = "".join(f"<li><code>{html.escape(c)}</code></li>"
                   for c in sc.sweep.constraints) or "<li>none</li>"
    show = [c for c in ["case"] + [p.name for p in cases.params] +
            [objective, "hourly_matched_share", "annual_netting_share", "spill"]
            if c in best.columns]
    show = list(dict.fromkeys(show))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>gxsim sweep — {html.escape(sc.region.name)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;
text-align:right}}</style></head><body>
<h1>Sweep: {html.escape(sc.region.name)} ({sc.region.year})</h1>
<p>{cases.n} cases, mode <b>{cases.mode}</b>.</p>
<h2>Parameters</h2><ul>{params}</ul>
<h2>Best cases</h2>
<p>Objective: {sense} <code>{html.escape(objective)}</code>; constraints:</p><ul>{cons}</ul>
{best[show].to_html(index=False, float_format=lambda v: f"{v:.6g}") if len(best)
 else "<p><b>No case meets the constraints.</b></p>"}
<h2>Cost against hourly-matched share</h2>
<p>x axis: {html.escape(x_name or "installed capacity (no cost figure evaluated)")}.</p>
<img src="pareto.png" alt="Pareto front">
<p>Notes: {html.escape("; ".join(base.notes))}</p>
</body></html>
"""


def summary_text(ds: xr.Dataset, cases: Cases, best: pd.DataFrame, objective: str,
                 sense: str) -> str:
    """A readable summary of a sweep."""
    lines = [f"{ds.attrs['region']} — {ds.attrs['year']}: {cases.n} cases ({cases.mode})",
             "parameters: " + ", ".join(f"{p.name} ({p.target})" for p in cases.params),
             f"hourly-matched share: {float(ds['hourly_matched_share'].min()):.1%} .. "
             f"{float(ds['hourly_matched_share'].max()):.1%}",
             f"best by {sense} {objective}: {len(best)} case(s) meet the constraints"]
    if len(best):
        row = best.iloc[0]
        vals = ", ".join(f"{p.name}={row[p.name]:g}" for p in cases.params)
        lines.append(f"  best: case {int(row['case'])}: {vals}; {objective} = "
                     f"{row[objective]:.6g}")
    return "\n".join(lines)
