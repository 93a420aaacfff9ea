"""A/B in one process: an older sim/studies/batch.py against this tree's, on
the island demo's profiles (64 cases), and plain ``sim.match`` of the same
arrays; results checked identical; minor page faults per case.

    python benchmarks/ab_batch.py OLD/sim/studies/batch.py 2   # 2 numba threads
"""
import sys, time, importlib.util
import numpy as np
import numba
import sim
from sim.core.engine import build_inputs
from sim.studies import batch
sc = sim.load_scenario("scenarios/island_demo.toml")
inp = build_inputs(sc)
n_r, n_t = inp.demand.shape; n_g = inp.generation.shape[0]
print("R", n_r, "G", n_g)
C = 64
kin = dict(demand_factor=np.tile(1 - np.array([c.savings for c in sc.consumers]), (C, 1)),
           gen_scale=np.ones((C, n_g)) * np.linspace(0.5, 1.5, C)[:, None],
           battery_kwh=np.tile(inp.battery_kwh, (C, 1)), battery_kw=np.tile(inp.battery_kw, (C, 1)),
           community_kwh=np.full(C, inp.community_kwh), community_kw=np.full(C, inp.community_kw),
           must_run_kw=np.full(C, inp.must_run[0]), efficiency=np.full(C, 0.9))
mods = {"new": batch}
if len(sys.argv) > 1 and sys.argv[1] != "-":
    spec = importlib.util.spec_from_file_location("oldbatch", sys.argv[1])
    old = importlib.util.module_from_spec(spec); spec.loader.exec_module(old); mods["old"] = old
numba.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
res = {}
for name, m in mods.items():
    res[name] = m.run_batch(inp.demand_gross, inp.generation, inp.site_index, **kin)
if "old" in res:
    for k in res["new"]:
        assert np.array_equal(res["new"][k], res["old"][k]), k
    print("identical")
onsite = inp.onsite(); offsite = inp.offsite()
def plain():
    sim.match(inp.demand, onsite, offsite, battery_kwh=inp.battery_kwh, battery_kw=inp.battery_kw,
              community_kwh=inp.community_kwh, community_kw=inp.community_kw, must_run=inp.must_run, parallel=False)
plain()
t = {k: [] for k in list(mods) + ["plain match"]}
for _ in range(5):
    for name, m in mods.items():
        s = time.perf_counter(); m.run_batch(inp.demand_gross, inp.generation, inp.site_index, **kin); t[name].append((time.perf_counter() - s) / C)
    s = time.perf_counter()
    for _ in range(8): plain()
    t["plain match"].append((time.perf_counter() - s) / 8)
print({k: f"{min(v)*1e3:.2f} ms/case" for k, v in t.items()})
import resource
for name, m in mods.items():
    for _ in range(2):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        m.run_batch(inp.demand_gross, inp.generation, inp.site_index, **kin)
        f1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    print(name, "minor page faults per case", (f1 - f0) / C)
