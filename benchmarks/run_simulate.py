"""Run ``sim.simulate`` on a synthetic region in this process and print JSON:
seconds per stage (after compilation), total, and peak resident memory.

    python benchmarks/run_simulate.py --consumers 10000 --dtype float32
    python benchmarks/run_simulate.py --consumers 10000 --dtype float64 --outputs annual
    python benchmarks/run_simulate.py --consumers 10000 --dtype float64 --read
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from regions import region_scenario  # noqa: E402

import numpy as np  # noqa: E402

import sim  # noqa: E402
from sim.core.dispatch import KERNEL_OUTPUTS  # noqa: E402


def _vm_hwm_gib() -> float:
    """Peak resident memory of this process [GiB]: VmHWM, not ru_maxrss, which
    Linux carries over from the parent through fork + exec (a benchmark run
    under a pytest process holding large arrays would report the parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--consumers", type=int, default=10_000)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--outputs", default="hourly",
                    help="'hourly', 'annual' or comma-separated names (sim.simulate outputs=)")
    ap.add_argument("--read", action="store_true",
                    help="then read every per-consumer flow once (.values): seconds each, "
                         "and the peak memory after")
    a = ap.parse_args()
    outputs = a.outputs if a.outputs in ("hourly", "annual") else a.outputs.split(",")
    t0 = time.perf_counter()
    sim.simulate(region_scenario(8, dtype=a.dtype))  # compile / load the cache
    warm = time.perf_counter() - t0
    scenario = region_scenario(a.consumers, dtype=a.dtype)
    rss_before = _vm_hwm_gib()
    t0 = time.perf_counter()
    res = sim.simulate(scenario, outputs=outputs)
    total = time.perf_counter() - t0
    peak = _vm_hwm_gib()
    n_gen = len(scenario.generators)
    # Flows rebuilt on access (sim.core.flows) count in ``hourly_gib`` (what
    # xarray reports) but are not held: ``held_gib`` counts numpy data only.
    held = sum(v.nbytes for v in res.hourly.variables.values()
               if isinstance(v._data, np.ndarray))
    record = {"consumers": a.consumers, "generators": n_gen, "dtype": a.dtype,
              "outputs": a.outputs, "first_small_run_s": warm, "simulate_s": total,
              "stages": res.timings, "peak_rss_gib": peak, "rss_before_gib": rss_before,
              "hourly_gib": res.hourly.nbytes / 2**30, "held_gib": held / 2**30}
    if a.read:
        read = {}
        for name in KERNEL_OUTPUTS:
            if name in res.hourly:
                t0 = time.perf_counter()
                values = res.hourly[name].values
                read[name] = time.perf_counter() - t0
                del values
        record.update(read_s=read, peak_after_read_gib=_vm_hwm_gib())
    print(json.dumps(record))


if __name__ == "__main__":
    main()
