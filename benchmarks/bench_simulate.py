"""``sim.simulate`` of a 10,000-consumer region end to end, by stage, with
peak memory: each run in a fresh process (benchmarks/run_simulate.py) so that
``ru_maxrss`` is this run's peak. The region: 10,000 consumer rows, PV on every
second at four orientations, a battery on every fourth (regions.py).
Targets: < 10 s after compilation, < 4 GiB peak; float64 < 3.5 GiB (issue 17).
Each dtype with all hourly flows (``outputs="hourly"``, the default: rebuilt
when read, so the run then reads each once, ``--read``) and with the annual
totals only (``outputs="annual"``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import record

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize("dtype,outputs", [("float32", "hourly"), ("float64", "hourly"),
                                           ("float64", "annual"), ("float32", "annual")])
def test_simulate_10000_consumers(benchmark, warm_memory, dtype, outputs):
    n = 10_000

    def run():
        out = subprocess.run([sys.executable, str(HERE / "run_simulate.py"),
                              "--consumers", str(n), "--dtype", dtype,
                              "--outputs", outputs]
                             + (["--read"] if outputs == "hourly" else []),
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    fig = benchmark.pedantic(run, rounds=1, iterations=1)
    key = f"simulate_{n}_{dtype}" + ("" if outputs == "hourly" else f"_{outputs}")
    record(benchmark, key, consumers=n, dtype=dtype, outputs=outputs,
           process_s=benchmark.stats.stats.min, simulate_s=fig["simulate_s"],
           **{f"stage_{k}_s": v for k, v in fig["stages"].items()},
           peak_rss_gib=fig["peak_rss_gib"], hourly_gib=fig["hourly_gib"],
           held_gib=fig["held_gib"], generators=fig["generators"],
           # hourly runs then read each flow once (rebuilt on access, sim.core.flows)
           **({"read_all_flows_s": sum(fig["read_s"].values()),
               "peak_after_read_gib": fig["peak_after_read_gib"]} if "read_s" in fig else {}),
           meets_time=fig["simulate_s"] < 10, meets_memory=fig["peak_rss_gib"] < 4,
           meets_memory_float64_target=fig["peak_rss_gib"] < 3.5)
