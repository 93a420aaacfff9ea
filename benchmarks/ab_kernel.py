"""A/B in one process: an older kernel.py (its ``match_kernel`` + the nine
numpy row sums ``run_inputs`` did) against this tree's ``sim.match`` (totals
inside; ``outputs="annual"``; ``annual=False``: no totals), same inputs and reused buffers,
alternating; all outputs checked identical, totals to 1e-12.

    python benchmarks/ab_kernel.py OLD/sim/core/kernel.py 3000 5
"""
import importlib.util, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np
import sim
from sim.core import kernel as newk
from regions import kernel_inputs
spec = importlib.util.spec_from_file_location("oldkernel", sys.argv[1])
old = importlib.util.module_from_spec(spec); spec.loader.exec_module(old)
n = int(sys.argv[2]); reps = int(sys.argv[3])
kw = kernel_inputs(n)
names = ("direct","charge","discharge","export","pooled","community","grid","soc")
A = {k: np.zeros((n, 8760)) for k in names}
B = {k: np.zeros((n, 8760)) for k in names}
h = {k: np.zeros(8760) for k in ("pool","community_charge","community_discharge","community_soc","spill")}
e = kw["battery_kwh"]; p = kw["battery_kw"]
def run_old(sums=True):
    row_ok = np.empty(n, dtype=np.bool_)
    old.match_kernel(kw["demand"], kw["onsite"], kw["offsite"], kw["must_run"], e, p, newk.sqrt_efficiency(0.9), 0.0,
        float(kw["community_kwh"]), float(kw["community_kw"]), True, A["direct"], A["charge"], A["discharge"], A["export"],
        A["pooled"], A["community"], A["grid"], A["soc"], h["pool"], h["community_charge"], h["community_discharge"],
        h["community_soc"], h["spill"], row_ok, False)
    if sums:
        d = {"demand": kw["demand"], "onsite": kw["onsite"], **A}
        return [d[k].sum(axis=1, dtype=np.float64) for k in ("demand","onsite","direct","charge","discharge","export","pooled","community","grid")]
def run_new():
    return sim.match(**kw, out=B, parallel=True)
def run_bare():
    return sim.match(**kw, out=B, parallel=True, annual=False)
def run_annual():
    return sim.match(**kw, outputs="annual", parallel=True)
run_old(); run_bare()
for k in names:
    assert np.array_equal(A[k], B[k]), k
r = run_new(); run_annual()
for k in names:
    assert np.array_equal(A[k], B[k]), k
tot = run_old()
for i, k in enumerate(("demand","onsite","direct","charge","discharge","export","pooled","community","grid")):
    np.testing.assert_allclose(r["annual"][k], tot[i], rtol=1e-12)
t = {"old kernel": [], "old kernel + numpy totals": [], "new match (hourly, totals inside)": [], "new match annual-only": [], "new match (hourly, annual=False)": []}
for _ in range(reps):
    s = time.perf_counter(); run_old(False); t["old kernel"].append(time.perf_counter() - s)
    s = time.perf_counter(); run_new(); t["new match (hourly, totals inside)"].append(time.perf_counter() - s)
    s = time.perf_counter(); run_old(True); t["old kernel + numpy totals"].append(time.perf_counter() - s)
    s = time.perf_counter(); run_annual(); t["new match annual-only"].append(time.perf_counter() - s)
    s = time.perf_counter(); run_bare(); t["new match (hourly, annual=False)"].append(time.perf_counter() - s)
print(n, {k: round(min(v) * 1e3, 1) for k, v in t.items()}, "ms (min of", reps, ")")
