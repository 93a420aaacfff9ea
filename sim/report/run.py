"""Terminal summaries and result files of a simulated year."""

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


def format_value(value: float, kind: str) -> str:
    """A figure for people: MWh with thousands separators, or a percentage."""
    if kind == "share":
        return f"{value:8.1%}"
    return f"{value / 1000:14,.1f} MWh"


def summary_text(result: Result) -> str:
    """A readable summary of a simulated year (KPI table, notes, timings)."""
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
    lines += notes_and_timings(result.notes, result.timings)
    return "\n".join(lines)


def notes_and_timings(notes, timings) -> list[str]:
    """The closing lines of every command's summary: notes, then seconds per stage."""
    lines = ["", "Notes:"] + [f"  - {n}" for n in notes] if notes else []
    return lines + ["", "Time: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())]


def write_result(result: Result, folder: Path) -> list[str]:
    """Write a result's files into ``folder`` (which must exist).

    Files: ``hourly.nc`` (the Dataset, NetCDF4), ``annual.csv`` and
    ``annual.parquet`` (per consumer, kWh), ``kpis.json``, ``summary.txt``
    and ``supply.png`` (monthly supply by route, a summer and a winter
    week). Returns the file names written.
    """
    folder = Path(folder)
    result.hourly.to_netcdf(folder / "hourly.nc", engine="h5netcdf")
    result.annual.to_csv(folder / "annual.csv", float_format="%.6f")
    result.annual.to_parquet(folder / "annual.parquet")
    write_json(folder / "kpis.json", result.kpis)
    (folder / "summary.txt").write_text(summary_text(result) + "\n", encoding="utf-8")
    plot_supply(result, folder / "supply.png")
    return ["hourly.nc", "annual.csv", "annual.parquet", "kpis.json", "summary.txt",
            "supply.png"]


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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds = result.hourly
    routes = _supply_by_hour(ds)
    time = pd.DatetimeIndex(ds["time"].values)
    colors = {"on site": "#e69f00", "pool": "#56b4e9", "community battery": "#009e73",
              "grid": "#999999"}
    fig, axes = plt.subplots(3, 1, figsize=(10, 10), constrained_layout=True)
    monthly = pd.DataFrame(routes, index=time).resample("MS").sum() / 1000
    monthly.index = monthly.index.strftime("%b")
    monthly.plot.bar(stacked=True, ax=axes[0], color=[colors[c] for c in monthly.columns],
                     width=0.8, rot=0)
    axes[0].set(ylabel="MWh", title="Supply by route, per month")
    axes[0].legend(ncol=4, loc="lower center", fontsize="small", framealpha=0.9)
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
        ax.legend(loc="upper left", ncol=6, fontsize="small")
    fig.suptitle(f"{result.scenario.region.name} {result.scenario.region.year}")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)
