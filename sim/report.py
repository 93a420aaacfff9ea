"""Terminal summaries and result files of a simulated year."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.engine import Result
from sim.io import write_json

#: region KPIs shown in the summary: key -> (label, kind)
KPI_ROWS = {
    "demand": ("civil + other demand after savings", "kWh"),
    "savings": ("savings", "kWh"),
    "generation": ("renewable generation", "kWh"),
    "renewable_delivered": ("renewable delivered (hourly matched)", "kWh"),
    "self_consumed": ("  self-consumed on site (direct + battery)", "kWh"),
    "pooled": ("  from the regional pool", "kWh"),
    "community": ("  from the community battery", "kWh"),
    "grid": ("grid (non-renewable) supply", "kWh"),
    "spill": ("spill (exported or curtailed)", "kWh"),
    "hourly_matched_share": ("hourly-matched share", "share"),
    "annual_netting_share": ("annual-netting share (generation / demand)", "share"),
}


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
    if result.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in result.notes]
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items())
    lines += ["", f"Time: {stages}"]
    return "\n".join(lines)


def write_result(result: Result, folder: Path) -> list[str]:
    """Write a result's files into ``folder`` (which must exist).

    Files: ``hourly.nc`` (the Dataset, NetCDF4), ``annual.csv`` and
    ``annual.parquet`` (per consumer, kWh), ``kpis.json`` and
    ``summary.txt``. Returns the file names written.
    """
    folder = Path(folder)
    result.hourly.to_netcdf(folder / "hourly.nc", engine="h5netcdf")
    result.annual.to_csv(folder / "annual.csv", float_format="%.6f")
    result.annual.to_parquet(folder / "annual.parquet")
    write_json(folder / "kpis.json", result.kpis)
    (folder / "summary.txt").write_text(summary_text(result) + "\n", encoding="utf-8")
    return ["hourly.nc", "annual.csv", "annual.parquet", "kpis.json", "summary.txt"]


def per_sector(result: Result) -> pd.DataFrame:
    """Annual totals by sector [kWh]."""
    cols = ["demand", "direct", "discharge", "pooled", "community", "grid", "renewable"]
    return result.annual.groupby("sector")[cols].sum()
