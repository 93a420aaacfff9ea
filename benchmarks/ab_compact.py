"""A/B in one process: what ``sim.simulate`` runs for its hourly flows, before
(``match(outputs="hourly")``: eight fresh (R, T) outputs) and now
(``match(outputs="compact")``: the battery rows' state only, phase 1 twice and
once more for battery rows), and reading every flow rebuilt from the compact
result (``sim.core.flows``) against the stored arrays (checked the same bits).
Alternating, fresh outputs each call, minimum of ``reps`` calls.

    python benchmarks/ab_compact.py 3000 5
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from regions import kernel_inputs  # noqa: E402

import sim  # noqa: E402
from sim.core.dispatch import KERNEL_OUTPUTS  # noqa: E402
from sim.core.flows import lazy_flows  # noqa: E402

n, reps = int(sys.argv[1]), int(sys.argv[2])
kw = kernel_inputs(n)


def rebuilt(out):
    return lazy_flows(out["demand"], out["onsite"], out["battery"], out["pool_factor"],
                      out["community_factor"])


full = sim.match(**kw, parallel=True)
compact = sim.match(**kw, parallel=True, outputs="compact")
for name, lazy in rebuilt(compact).items():
    assert np.array_equal(np.asarray(lazy), full[name]), name
del full
t = {"match hourly (stored)": [], "match compact": [], "read all 8 rebuilt flows": []}
for _ in range(reps):
    s = time.perf_counter()
    out = sim.match(**kw, parallel=True)
    t["match hourly (stored)"].append(time.perf_counter() - s)
    del out
    s = time.perf_counter()
    out = sim.match(**kw, parallel=True, outputs="compact")
    t["match compact"].append(time.perf_counter() - s)
    lazy = rebuilt(out)
    s = time.perf_counter()
    for name in KERNEL_OUTPUTS:
        np.asarray(lazy[name])
    t["read all 8 rebuilt flows"].append(time.perf_counter() - s)
print(n, {k: round(min(v) * 1e3, 1) for k, v in t.items()}, "ms (min of", reps, ")")
