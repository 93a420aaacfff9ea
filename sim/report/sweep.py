"""A sweep rendered: its files, the Pareto plot, the HTML report and summary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr

from sim.io import atomic_output_dir
from sim.report.run import write_log
from sim.studies.sweep import (COST_FIGURES, Cases, SweepRun, best_cases, flat_cases,
                               pareto_front)


def write_outputs(result: SweepRun, output: str | Path, *, overwrite: bool = False
                  ) -> list[str]:
    """Write a finished sweep's files atomically into ``output``; returns their names.

    The Dataset (``sweep.zarr`` or ``sweep.nc``), ``cases.csv``, ``best.csv``,
    ``pareto.png``, ``report.html``, ``hourly/case-N.nc`` for ``[sweep]
    hourly_cases`` and ``summary.txt``. The chunk work folder is removed once
    the files are in place. ``overwrite`` replaces the results of an earlier
    run in ``output`` (see :func:`sim.io.atomic_output_dir`).
    """
    ds, base, cases = result.dataset, result.base, result.cases
    spec = base.scenario.sweep
    df = flat_cases(ds, cases)
    best, objective, sense = best_cases(df, spec)
    files = []
    with atomic_output_dir(Path(output), overwrite=overwrite,
                           info={"sweep_identity": result.identity}) as tmp:
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
        files.append(html_report(tmp, base, cases, df, best, objective, sense, x_name))
        if result.hourly:
            (tmp / "hourly").mkdir()
            for c, hourly in result.hourly.items():
                hourly.to_netcdf(tmp / "hourly" / f"case-{c:06d}.nc", engine="h5netcdf")
            files.append("hourly/")
        (tmp / "summary.txt").write_text(summary_text(ds, cases, best, objective, sense)
                                         + "\n", encoding="utf-8")
        files.append("summary.txt")
        files.append(write_log(tmp, "sweep", {"kernels loaded": result.warm_up_seconds,
                                              "chunks": result.seconds}, [
            f"{result.computed} chunk(s) computed, {result.reused} reused; "
            f"{result.computed_cases:,} cases computed in this run"]))
    result.discard_chunks()
    return files


def _pareto_plot(df: pd.DataFrame, x_name: str | None, path: Path) -> str:
    from sim.report.plotting import legend_outside, pyplot

    plt = pyplot()
    if x_name is None:  # no cost figure yet: installed capacity as the effort
        x = df[["pv_kw", "wind_kw", "biomass_kw", "waste_kw"]].sum(axis=1).to_numpy()
        x_label = "installed renewable capacity [kW] (no cost figure evaluated)"
    else:
        x = df[x_name].to_numpy(dtype=float)
        unit = {"_jpy": "JPY", "_kw": "kW", "_kwh": "kWh", "_t": "t-CO2"}
        x_label = x_name + next((f" [{u}]" for s, u in unit.items() if x_name.endswith(s)), "")
    y = df["hourly_matched_share"].to_numpy(dtype=float) * 100
    front = pareto_front(x, y)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.scatter(x, y, s=8, alpha=0.4, label="cases")
    if front.size:
        ax.plot(x[front], y[front], "o-", color="C3", ms=4, label="Pareto front")
    ax.set_xlabel(x_label)
    ax.set_ylabel("hourly-matched share [%]")
    ax.xaxis.set_major_formatter("{x:,.0f}")
    ax.grid(alpha=0.3)
    legend_outside(ax)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path.name


def html_report(folder: Path, base, cases, df, best, objective, sense, x_name) -> str:
    """``report.html`` of a sweep: parameters, best cases, the Pareto plot."""
    from sim.report import html

    sc = base.scenario
    params = html.bullets(f"{p.name} = {p.target}" for p in cases.params)
    cons = html.bullets(sc.sweep.constraints, empty="none")
    show = [c for c in ["case"] + [p.name for p in cases.params] +
            [objective, "hourly_matched_share", "annual_netting_share", "spill"]
            if c in best.columns]
    show = list(dict.fromkeys(show))
    units = {"spill": "MWh"} if "spill" in show else {}
    formats = {"spill": lambda v: html.fmt_number(v / 1e3, 1)} if "spill" in show else {}
    formats.update({c: (lambda v: html.fmt_share(v)) for c in show if c.endswith("_share")})
    units.update({c: "%" for c in show if c.endswith("_share")})
    best_html = (html.table(best[show], formats=formats, units=units) if len(best)
                 else "<p><b>No case meets the constraints.</b></p>")
    sections = [
        html.Section("Parameters", params),
        html.Section("Best cases", f"<p>Objective: {html.escape(sense)} "
                     f"<code>{html.escape(objective)}</code>; constraints:</p>{cons}"
                     f"{best_html}"),
        html.Section("Cost against hourly-matched share", html.paragraph(
            "x axis: " + (x_name or "installed capacity (no cost figure evaluated)"))
            + html.figure(Path(folder) / "pareto.png", "Cases and their Pareto front")),
    ]
    return html.write_page(
        folder, command="sweep", title=f"Sweep: {sc.region.name} ({sc.region.year})",
        lead=f"{cases.n:,} cases, mode {cases.mode}.",
        source=str(sc.path) if sc.path else None, sections=sections, notes=base.notes)


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
