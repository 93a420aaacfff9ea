"""Terminal summaries, result files and the HTML report of a simulated year."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.core.engine import Result
from sim.io import write_json

#: region KPIs shown in the summary: key -> (label, kind)
KPI_ROWS = {
    "demand": ("demand after savings, all consumers (civil + other)", "kWh"),
    "savings": ("savings", "kWh"),
    "generation": ("generation, all generators", "kWh"),
    "renewable_delivered": ("delivered from the generators, hourly matched", "kWh"),
    "waste_plastic_delivered": ("  of which waste plastic share (再エネ等, 問31)", "kWh"),
    "self_consumed": ("  self-consumed on site (direct + battery)", "kWh"),
    "pooled": ("  from the regional pool", "kWh"),
    "community": ("  from the community battery", "kWh"),
    "grid": ("grid (non-renewable) supply", "kWh"),
    "spill": ("spill (exported or curtailed)", "kWh"),
    "hourly_matched_share": ("renewable share, hourly matched (all consumers)", "share"),
    "annual_netting_share": ("renewable share, annual netting (all consumers)", "share"),
}
#: printed under the table: what the shares are, and where the programme's figures are
KPI_NOTE = ("Shares: renewable (再エネ, the biomass share of waste power only, 問31) / demand "
            "after savings of all consumers; `gxsim score` gives the programme's civil-sector "
            "figures (docs/figures.md §3.2: the names differ because the definitions do).")


#: units of the KPIs written to kpis.json
KPI_UNITS = {"hourly_matched_share": "share [0-1]", "annual_netting_share": "share [0-1]"}


def format_value(value: float, kind: str) -> str:
    """A figure for people: MWh with thousands separators, or a percentage."""
    if kind == "share":
        return f"{value:8.1%}"
    return f"{value / 1000:14,.1f} MWh"


def summary_text(result: Result, *, timings: bool = True) -> str:
    """A readable summary of a simulated year (KPI table, notes and, on a terminal,
    timings; ``summary.txt`` has none so that two runs compare clean)."""
    sc = result.scenario
    kpis = result.kpis
    width = max(len(label) for label, _ in KPI_ROWS.values())
    lines = [f"{sc.region.name} ({sc.region.municipality}, {sc.region.prefecture}) — "
             f"{sc.region.year}, {result.hourly.sizes['time']} h, "
             f"{result.hourly.sizes['consumer']} consumer rows, "
             f"{result.hourly.sizes['generator']} generators", ""]
    for key, (label, kind) in KPI_ROWS.items():
        lines.append(f"  {label:<{width}}  {format_value(kpis[key], kind)}")
    lines += ["", KPI_NOTE]
    lines += notes_and_timings(result.notes, result.timings if timings else None)
    return "\n".join(lines)


def notes_and_timings(notes, timings=None) -> list[str]:
    """The closing lines of every command's summary: notes, then seconds per stage
    (``timings=None``: no time line, as in ``summary.txt``)."""
    lines = ["", "Notes:"] + [f"  - {n}" for n in notes] if notes else []
    return lines + ([] if timings is None else ["", timing_line(timings)])


def timing_line(timings) -> str:
    """``Time: weather 0.12 s, …`` (what ``run.log`` records)."""
    return "Time: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())


def write_log(folder: Path, command: str, timings, lines=()) -> str:
    """``run.log``: when and how long each stage took (kept out of summary.txt)."""
    import datetime
    import platform

    from sim._version import __version__

    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    text = [f"gxsim {__version__} {command}, {stamp}, Python {platform.python_version()} "
            f"on {platform.machine()}", timing_line(timings), *lines]
    (Path(folder) / "run.log").write_text("\n".join(text) + "\n", encoding="utf-8")
    return "run.log"


def annual_with_units(annual: pd.DataFrame) -> pd.DataFrame:
    """The annual table with units in the column names (``demand`` → ``demand_kwh``)."""
    units = annual.attrs.get("units", {})
    return annual.rename(columns={c: f"{c}_kwh" for c in annual.columns
                                  if units.get(c) == "kWh"})


def html_report(result: Result, folder: Path, *, timings=None) -> str:
    """``report.html`` of a run: KPIs, totals by sector, the supply plot, notes."""
    from sim.report import html

    sc = result.scenario
    kpi_rows = [(label.strip(), html.fmt_share(result.kpis[key]) if kind == "share"
                 else html.fmt_energy(result.kpis[key])) for key, (label, kind) in KPI_ROWS.items()]
    sectors = per_sector(result).rename(columns=lambda c: f"{c}_kwh")
    sections = [html.Section("Region totals", html.key_values(kpi_rows)),
                html.Section("Supply by route", html.figure(
                    Path(folder) / "supply.png", "Monthly supply by route and a summer and "
                    "a winter week, hour by hour")),
                html.Section("Totals by sector", html.table(sectors, index=True))]
    return html.write_page(
        folder, command="run", title=f"{sc.region.name} — {sc.region.year}",
        lead=f"{sc.region.municipality}, {sc.region.prefecture}: "
             f"{result.hourly.sizes['time']:,} hours, {result.hourly.sizes['consumer']:,} "
             f"consumer rows, {result.hourly.sizes['generator']:,} generators.",
        source=str(sc.path) if sc.path else None, sections=sections, notes=result.notes)


def write_result(result: Result, folder: Path) -> list[str]:
    """Write a result's files into ``folder`` (which must exist).

    Files: ``hourly.nc`` (the Dataset, NetCDF4, units in attributes),
    ``annual.csv`` and ``annual.parquet`` (per consumer, ``*_kwh`` columns),
    ``kpis.json`` (with their ``units``), ``summary.txt`` (figures only),
    ``run.log`` (timings), ``supply.png`` (monthly supply by route, a summer
    and a winter week) and ``report.html``. Returns the file names written.
    """
    folder = Path(folder)
    result.hourly.to_netcdf(folder / "hourly.nc", engine="h5netcdf")
    annual = annual_with_units(result.annual)
    annual.to_csv(folder / "annual.csv", float_format="%.6f")
    annual.to_parquet(folder / "annual.parquet")
    kpis = result.kpis
    write_json(folder / "kpis.json", {**kpis, "units": {
        k: KPI_UNITS.get(k, "kWh") for k in kpis}})
    (folder / "summary.txt").write_text(summary_text(result, timings=False) + "\n",
                                        encoding="utf-8")
    write_log(folder, "run", result.timings)
    plot_supply(result, folder / "supply.png")
    html_report(result, folder)
    return ["hourly.nc", "annual.csv", "annual.parquet", "kpis.json", "summary.txt",
            "run.log", "supply.png", "report.html"]


def per_sector(result: Result) -> pd.DataFrame:
    """Annual totals by sector [kWh]."""
    cols = ["demand", "direct", "discharge", "pooled", "community", "grid", "renewable"]
    return result.annual.groupby("sector")[cols].sum()


def _supply_by_hour(ds):
    """Region supply by route per hour [kWh] (civil and non-civil together)."""
    import numpy as np

    routes = {"on site": ds["direct"] + ds["discharge"], "pool": ds["pooled"],
              "community battery": ds["community"], "grid": ds["grid"]}
    return {k: np.asarray(v.sum("consumer")) for k, v in routes.items()}


def plot_supply(result: Result, path: Path) -> Path:
    """PNG: monthly supply by route, and the summer and winter weeks hour by hour.

    Parameters
    ----------
    result : Result
    path : Path
        The PNG file to write.
    """
    from sim.report.plotting import legend_outside, pyplot

    import matplotlib.dates as mdates

    plt = pyplot()
    ds = result.hourly
    routes = _supply_by_hour(ds)
    time = pd.DatetimeIndex(ds["time"].values)
    colors = {"on site": "#e69f00", "pool": "#56b4e9", "community battery": "#009e73",
              "grid": "#999999"}
    fig, axes = plt.subplots(3, 1, figsize=(11, 10), constrained_layout=True)
    monthly = pd.DataFrame(routes, index=time).resample("MS").sum() / 1000
    monthly.index = monthly.index.strftime("%b")
    monthly.plot.bar(stacked=True, ax=axes[0], color=[colors[c] for c in monthly.columns],
                     width=0.8, rot=0)
    axes[0].set(ylabel="MWh per month", xlabel="", title="Supply by route, per month")
    axes[0].yaxis.set_major_formatter("{x:,.0f}")
    legend_outside(axes[0])
    demand = ds["demand"].sum("consumer").values
    for ax, (label, start) in zip(axes[1:], (("summer week", "08-07"),
                                              ("winter week", "01-09"))):
        first = pd.Timestamp(f"{result.scenario.region.year}-{start}")
        sel = (time >= first) & (time < first + pd.Timedelta(days=7))
        ax.stackplot(time[sel], *[routes[k][sel] for k in routes], labels=list(routes),
                     colors=[colors[k] for k in routes], step="post")
        ax.step(time[sel], demand[sel], where="post", color="k", lw=1, label="demand")
        ax.step(time[sel], ds["spill"].values[sel], where="post", color="#d55e00", lw=1,
                ls="--", label="spill")
        ax.set(ylabel="kWh per hour", title=f"A {label}, hour by hour")
        ax.yaxis.set_major_formatter("{x:,.0f}")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %-d %b"))
        legend_outside(ax)
    fig.suptitle(f"{result.scenario.region.name} {result.scenario.region.year}")
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return Path(path)
