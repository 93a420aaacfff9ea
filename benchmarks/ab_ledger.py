"""A/B in one process of the batch kernel's pool ledger (session 3): an older
sim/studies/batch.py (the sparse hour-by-hour ledger) against this tree's
(a BLAS matrix product when the consumer-source pairs are dense), alternating,
min of several calls, the same inputs; and plain ``sim.match`` of the same
arrays. Checks: every output identical except the ledger, the ledger equal to
rtol 1e-12 (atol 1e-300: subnormal entries only).

    python benchmarks/ab_ledger.py OLD/sim/studies/batch.py [demo|1000|200 ...]

``demo``: a chunk of 100 cases of scenarios/island_demo.toml (12 consumers);
``N``: a chunk of 2 cases of benchmarks/regions.py's N-consumer region
(rooftop PV at every second consumer, home batteries, a community battery),
what bench_sweep.py ``sweep_1000_consumers`` runs. Prints per-case times.
"""
import importlib.util
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np

import sim
from sim.core.engine import build_inputs
from sim.studies import batch

sys.path.insert(0, str(Path(__file__).resolve().parent))


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def case_inputs(which):
    if which == "demo":
        sc = sim.load_scenario(Path(__file__).resolve().parents[1] / "scenarios/island_demo.toml")
        n_c = 100
    else:
        from regions import region_scenario
        sc = region_scenario(int(which), dtype="float64")
        n_c = 2
    inp = build_inputs(sc)
    n_g = inp.generation.shape[0]
    kin = {"demand_factor": np.tile(1 - np.array([c.savings for c in sc.consumers]), (n_c, 1)),
           "gen_scale": np.ones((n_c, n_g)) * np.linspace(0.5, 1.5, n_c)[:, None],
           "battery_kwh": np.tile(inp.battery_kwh, (n_c, 1)),
           "battery_kw": np.tile(inp.battery_kw, (n_c, 1)),
           "community_kwh": np.full(n_c, inp.community_kwh),
           "community_kw": np.full(n_c, inp.community_kw),
           "must_run_kw": np.full(n_c, float(np.asarray(inp.must_run).ravel()[0])),
           "efficiency": np.full(n_c, 0.9)}
    return inp, kin, n_c


def main():
    mods = {"old": load(sys.argv[1], "oldbatch"), "new": batch}
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for which in sys.argv[2:] or ["demo", "1000"]:
        inp, kin, n_c = case_inputs(which)
        args = (inp.demand_gross, inp.generation, inp.site_index)
        res = {k: m.run_batch(*args, **kin) for k, m in mods.items()}  # compile, warm
        for k in res["new"]:
            if k == "ledger":
                np.testing.assert_allclose(res["new"][k], res["old"][k], rtol=1e-12, atol=1e-300)
            else:
                assert np.array_equal(res["new"][k], res["old"][k]), k
        onsite, offsite = inp.onsite(), inp.offsite()

        def plain(inp=inp, onsite=onsite, offsite=offsite):
            sim.match(inp.demand, onsite, offsite, battery_kwh=inp.battery_kwh,
                      battery_kw=inp.battery_kw, community_kwh=inp.community_kwh,
                      community_kw=inp.community_kw, must_run=inp.must_run)
        plain()
        t = {"old": [], "new": [], "match": []}
        for _ in range(5 if which == "demo" else 4):
            for k, m in mods.items():
                s = time.perf_counter()
                m.run_batch(*args, **kin)
                t[k].append((time.perf_counter() - s) / n_c)
            s = time.perf_counter()
            plain()
            t["match"].append(time.perf_counter() - s)
        best = {k: min(v) for k, v in t.items()}
        print(f"{which}: R={inp.demand.shape[0]} G={inp.generation.shape[0]} cases={n_c} "
              f"threads={numba.get_num_threads()} | old {best['old']*1e3:.2f} ms/case, "
              f"new {best['new']*1e3:.2f} ms/case ({best['old']/best['new']:.2f}x), "
              f"match {best['match']*1e3:.2f} ms; case/match old "
              f"{best['old']/best['match']:.2f} new {best['new']/best['match']:.2f}; "
              f"outputs equal (ledger rtol 1e-12); load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
