"""Time and peak memory of ``sim.simulate`` (in memory, all hourly flows or
annual totals only) and of ``simulate_blocks`` (Dask LocalCluster, 2 GiB per
worker) from 1,000 to 1,000,000 consumers; each run in a fresh process, one
after the other (never in parallel), appended as a JSON line to
``results/scaling.jsonl``; ``--plot`` draws ``results/scaling.png``.

    python benchmarks/run_scaling.py memory:hourly:1000 memory:annual:10000 blocks:100000
    python benchmarks/run_scaling.py --plot
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "scaling.jsonl"


def run(spec: str, dtype: str) -> dict:
    """One measurement: ``memory:hourly:N``, ``memory:annual:N`` or ``blocks:N``."""
    kind, *rest = spec.split(":")
    n = int(rest[-1])
    if kind == "memory":
        cmd = [sys.executable, str(HERE / "run_simulate.py"), "--consumers", str(n),
               "--dtype", dtype, "--outputs", rest[0]]
    else:
        cmd = [sys.executable, str(HERE / "run_blocks.py"), "--consumers", str(n),
               "--dtype", dtype]
    load_start = os.getloadavg()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return {"spec": spec, "consumers": n, "dtype": dtype, "failed": out.stderr[-500:]}
    fig = json.loads(out.stdout.strip().splitlines()[-1])
    fig["spec"] = spec
    fig["date"] = datetime.datetime.now().isoformat(timespec="minutes")
    fig["load_average_start"], fig["load_average_end"] = load_start, os.getloadavg()
    return fig


def plot() -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in OUT.read_text().splitlines() if line.strip()]
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.3))
    series = {"memory:hourly": ("sim.simulate, hourly flows kept", "o"),
              "memory:annual": ("sim.simulate(outputs='annual')", "s"),
              "blocks": ("simulate_blocks on Dask (2 workers, 2 GiB each)", "^")}
    for key, (label, marker) in series.items():
        pts = sorted((r["consumers"], r) for r in rows
                     if r["spec"].rsplit(":", 1)[0] == key and "failed" not in r)
        if not pts:
            continue
        xs = [n for n, _ in pts]
        secs = [r.get("simulate_s", r.get("simulate_blocks_s")) for _, r in pts]
        mem = [r.get("peak_rss_gib", r.get("worker_peak_gib")) for _, r in pts]
        ax_t.plot(xs, secs, marker=marker, label=label)
        ax_m.plot(xs, mem, marker=marker, label=label + (" (per worker)" if key == "blocks"
                                                         else ""))
        if key == "blocks":
            ax_m.plot(xs, [r["client_peak_gib"] for _, r in pts], marker=marker, ls=":",
                      label="simulate_blocks, client process (scenario)")
    for ax, ylabel in ((ax_t, "seconds (after compilation)"), (ax_m, "peak resident GiB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("consumers (x 8760 h)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    ax_m.axhline(2.0, color="grey", ls="--", lw=0.8)
    ax_m.legend(fontsize=7)
    ax_t.legend(fontsize=7)
    loads = [max(r["load_average_start"][0], r["load_average_end"][0]) for r in rows
             if "load_average_start" in r]
    load = f"1-min load average up to {max(loads):.1f}" if loads else "load not recorded"
    fig.suptitle("gxsim: time and peak memory against region size (float64; 2-core VM, "
                 f"one process per point; {load})", fontsize=9)
    path = HERE / "results" / "scaling.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("specs", nargs="*")
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--plot", action="store_true")
    a = ap.parse_args()
    for spec in a.specs:
        fig = run(spec, a.dtype)
        with OUT.open("a") as f:
            f.write(json.dumps(fig) + "\n")
        print(json.dumps({k: fig.get(k) for k in ("spec", "simulate_s", "simulate_blocks_s",
                                                   "peak_rss_gib", "worker_peak_gib",
                                                   "failed")}), flush=True)
    if a.plot:
        print(plot())


if __name__ == "__main__":
    main()
