"""Run ``sim.core.blocks.simulate_blocks`` on a synthetic region on a Dask
LocalCluster and print JSON: seconds per stage, the peak resident memory of
each worker and of this (client) process.

    python benchmarks/run_blocks.py --consumers 1000000 --dtype float64
    python benchmarks/run_blocks.py --consumers 10000 --compare   # vs sim.simulate

With ``--compare`` the in-memory ``sim.simulate`` runs too (in this process,
after the cluster has closed) and the largest relative differences of the
annual totals and the region's hourly series are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from regions import region_scenario
from run_simulate import _vm_hwm_gib

import sim
from sim.core.blocks import FLOWS, simulate_blocks


def _worker_peak_gib() -> float:
    return _vm_hwm_gib()


def _max_rel(a, b, series=False) -> float:
    """Largest relative difference: per value (annual totals), or against
    the largest value of the series (hourly series: an hour where a flow is
    ~0 in both runs has no meaningful relative difference of its own)."""
    import numpy as np

    a = np.asarray(a, float)
    b = np.asarray(b, float)
    if series:
        top = np.max(np.abs(b))
        return float(np.max(np.abs(a - b)) / top) if top > 0 else float(np.max(np.abs(a)))
    scale = np.where(b != 0, np.abs(b), 1.0)
    return float(np.max(np.abs(a - b) / scale))


def _compare(res, scenario) -> dict:
    mem = sim.simulate(scenario)
    out = {}
    for name in ("demand_gross", "demand", "direct", "charge", "discharge", "export",
                 "pooled", "community", "grid"):
        out[f"annual_{name}"] = _max_rel(res.annual[name], mem.annual[name])
    for name in FLOWS:
        out[f"hourly_{name}"] = _max_rel(res.hourly[name].values,
                                         mem.hourly[name].values.sum(axis=0, dtype=float),
                                         series=True)
    for name in ("pool", "spill", "community_charge", "community_soc"):
        out[f"hourly_{name}"] = _max_rel(res.hourly[name].values, mem.hourly[name].values,
                                         series=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--consumers", type=int, default=10_000)
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--block", type=int, default=1_000)
    ap.add_argument("--memory-limit", default="2GiB")
    ap.add_argument("--compare", action="store_true")
    a = ap.parse_args()
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    scenario = region_scenario(a.consumers, dtype=a.dtype)
    build = time.perf_counter() - t0
    n = len(os.sched_getaffinity(0))
    with LocalCluster(n_workers=n, threads_per_worker=1, memory_limit=a.memory_limit,
                      processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        simulate_blocks(region_scenario(64, dtype=a.dtype), client=client, block_size=32)
        t0 = time.perf_counter()
        res = simulate_blocks(scenario, client=client, block_size=a.block)
        total = time.perf_counter() - t0
        workers = client.run(_worker_peak_gib)
    fig = {"consumers": a.consumers, "dtype": a.dtype, "block": a.block,
           "workers": len(workers), "memory_limit": a.memory_limit,
           "scenario_build_s": build, "simulate_blocks_s": total, "stages": res.timings,
           "worker_peak_gib": max(workers.values()), "client_peak_gib": _vm_hwm_gib(),
           "kpis": res.kpis}
    if a.compare:
        fig["max_rel_diff"] = _compare(res, scenario)
    print(json.dumps(fig))


if __name__ == "__main__":
    main()
