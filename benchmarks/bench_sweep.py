"""Speed of batch sweeps (issue 17): a sweep case against plain matching of the
same arrays, and demo cases per second.

* ``sweep_case_vs_match``: :func:`sim.studies.sweep.compute_chunk` on chunks of
  100 cases of ``scenarios/island_demo.toml`` (the batch kernel, the sweep's
  figures and the programme's figures for all cases at once), per case,
  against ``sim.match`` of one case's arrays, measured alternately in this
  process (ratio target: at most 2).
* ``sweep_demo_end_to_end``: ``sim.studies.sweep.run`` of the demo's 1,000
  cases in memory (profiles once, chunks, the Dataset): cases per second
  (target: at least 1,000).
* ``sweep_demo_floor``: where the demo's end-to-end time goes, each part as
  a ratio against ``sim.match`` of one case's arrays measured alternately
  in this process: the batch kernel alone (CPU time per case, the floor of a
  case; its on-site phase shared by the chunk's cases), the chunk phase per
  case, and the fixed cost of a run (cases, profiles, the Dataset) in
  ``sim.match`` calls; cases per second end to end.
* ``sweep_1000_consumers``: one chunk of 2 cases of a 1,000-consumer region
  (rooftop PV and a battery at many consumers) against ``sim.match`` of its
  arrays (what ``gxsim optimize`` pays per candidate).
* ``sweep_vs_one_by_one``: the same cases one by one through ``sim.simulate``
  + ``sim.evaluate`` (a sample, extrapolated).

Run with::

    python -m pytest benchmarks/bench_sweep.py --benchmark-only -s

numba compilation happens once in the fixtures. Timings are not asserted.
"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

import numba
import numpy as np
import pytest
from conftest import best_of, record

import sim
from sim.core.engine import build_inputs

sw = importlib.import_module("sim.studies.sweep")  # the module; sim.studies.sweep is the function

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "island_demo.toml"
CHUNK = 100
SAMPLE = 8  # cases run one by one through sim.simulate (extrapolated to all)


def _plain(inputs, **kw):
    """``sim.match`` of a case's arrays (the scenario's own sizes)."""
    onsite, offsite = inputs.onsite(), inputs.offsite()

    def run():
        sim.match(inputs.demand, onsite, offsite, battery_kwh=inputs.battery_kwh,
                  battery_kw=inputs.battery_kw, community_kwh=inputs.community_kwh,
                  community_kw=inputs.community_kw, must_run=inputs.must_run, **kw)

    run()
    return run


@pytest.fixture(scope="module")
def demo():
    scenario = sim.load_scenario(DEMO)
    cases = sw.make_cases(scenario)
    assert cases.n == 1000
    inputs = build_inputs(scenario)
    base = sw.Base.build(scenario, inputs)
    sw.compute_chunk(base, cases.params, cases.values[:4])  # compile, warm up
    return scenario, cases, inputs, base


def test_sweep_case_vs_plain_match(benchmark, demo):
    """A sweep case (chunks of 100) against sim.match of the same arrays, alternately."""
    _, cases, inputs, base = demo
    plain = _plain(inputs)
    plain_serial = _plain(inputs, parallel=False)
    chunks = [cases.values[a:a + CHUNK] for a in range(0, cases.n, CHUNK)]
    per_case, kernel_only, t_plain, t_serial = [], [], [], []
    for values in chunks[:5]:  # alternate: the same load for both
        t0 = time.perf_counter()
        sw.compute_chunk(base, cases.params, values)
        per_case.append((time.perf_counter() - t0) / len(values))
        t0 = time.perf_counter()
        sw.compute_chunk(base, cases.params, values, evaluate=False)
        kernel_only.append((time.perf_counter() - t0) / len(values))
        t_plain.append(best_of(plain, 10))
        t_serial.append(best_of(plain_serial, 10))
    benchmark.pedantic(sw.compute_chunk, args=(base, cases.params, chunks[5]),
                       rounds=3, iterations=1)
    case = min(min(per_case), benchmark.stats.stats.min / CHUNK)
    record(benchmark, "sweep_case_vs_match", sweep_case_ms=case * 1e3,
           sweep_case_without_evaluation_ms=min(kernel_only) * 1e3,
           match_ms=min(t_plain) * 1e3, match_serial_ms=min(t_serial) * 1e3,
           ratio_vs_match=case / min(t_plain),
           ratio_vs_match_serial=case / min(t_serial),
           evaluation_share=1 - min(kernel_only) / case,
           numba_threads=numba.get_num_threads(),
           load_average=os.getloadavg()[0])


def test_sweep_demo_end_to_end(benchmark, demo):
    """sim.studies.sweep.run in memory: build_inputs once, 1,000 cases, the Dataset."""
    scenario, cases, inputs, _ = demo
    plain = _plain(inputs)
    t_plain = best_of(plain, 10)
    result = benchmark.pedantic(sw.run, args=(scenario,), kwargs={"progress": False},
                                rounds=2, iterations=1)
    t_plain = min(t_plain, best_of(plain, 10))
    assert result.dataset.attrs["n_cases"] == 1000
    seconds = benchmark.stats.stats.min
    record(benchmark, "sweep_demo_end_to_end", cases_per_s=cases.n / seconds,
           chunk_phase_cases_per_s=cases.n / result.seconds,
           ratio_case_vs_match=seconds / cases.n / t_plain,
           load_average=os.getloadavg()[0])


def test_sweep_demo_floor(benchmark, demo):
    """The demo's 1,000 cases end to end, split into the fixed cost of a run and
    the cost per case, and the kernel's floor per case, all against sim.match
    of the same arrays in this run (alternated: the same load for both)."""
    from sim.studies import batch

    scenario, cases, inputs, base = demo
    plain = _plain(inputs)
    kin = sw.kernel_arrays(base, cases.params, cases.values[:CHUNK])
    sc = base.scenario

    def kernel():
        batch.run_batch(base.demand_gross, base.generation, base.site_index,
                        soc_initial=sc.options.soc_initial,
                        share_onsite_surplus=sc.options.share_onsite_surplus, **kin)

    kernel()
    n_groups = batch.onsite_groups(base.site_index, kin["demand_factor"], kin["gen_scale"],
                                   kin["battery_kwh"], kin["battery_kw"],
                                   np.sqrt(kin["efficiency"]))[2]
    t_plain, cpu_kernel, wall_kernel, fixed, chunk_phase = [], [], [], [], []
    for _ in range(3):
        t_plain.append(best_of(plain, 10))
        for _ in range(3):
            c0, t0 = time.process_time(), time.perf_counter()
            kernel()
            cpu_kernel.append((time.process_time() - c0) / CHUNK)
            wall_kernel.append((time.perf_counter() - t0) / CHUNK)
        t0 = time.perf_counter()
        result = sw.run(scenario, progress=False)
        total = time.perf_counter() - t0
        chunk_phase.append(result.seconds / cases.n)
        fixed.append(total - result.seconds)
    benchmark.pedantic(sw.run, args=(scenario,), kwargs={"progress": False}, rounds=2,
                       iterations=1)
    t_plain.append(best_of(plain, 10))
    match = min(t_plain)
    seconds = min(benchmark.stats.stats.min, min(f + c * cases.n
                                                 for f, c in zip(fixed, chunk_phase)))
    t0 = time.perf_counter()
    build_inputs(scenario)
    t_build = time.perf_counter() - t0
    record(benchmark, "sweep_demo_floor", cases_per_s=cases.n / seconds,
           chunk_phase_cases_per_s=1 / min(chunk_phase),
           case_ms=min(chunk_phase) * 1e3, match_ms=match * 1e3,
           ratio_case_vs_match=min(chunk_phase) / match,
           kernel_cpu_ms_per_case=min(cpu_kernel) * 1e3,
           kernel_wall_ms_per_case=min(wall_kernel) * 1e3,
           ratio_kernel_cpu_vs_match=min(cpu_kernel) / match,
           fixed_s=min(fixed), fixed_in_match_calls=min(fixed) / match,
           build_inputs_s=t_build, onsite_groups_per_chunk=n_groups,
           numba_threads=numba.get_num_threads(), load_average=os.getloadavg()[0])


def test_one_case_of_1000_consumers(benchmark):
    """What gxsim optimize pays per candidate on a 1,000-consumer region."""
    from regions import region_scenario

    scenario = region_scenario(1000, dtype="float64")
    inputs = build_inputs(scenario)
    base = sw.Base.build(scenario, inputs)
    values = np.zeros((2, 0))
    sw.compute_chunk(base, [], values)  # compile, buffers
    plain = _plain(inputs)
    annual = _plain(inputs, outputs="annual")
    t_plain, t_annual = best_of(plain, 3), best_of(annual, 3)
    benchmark.pedantic(sw.compute_chunk, args=(base, [], values), rounds=3, iterations=1)
    per_case = benchmark.stats.stats.min / len(values)
    record(benchmark, "sweep_1000_consumers", consumers=1000,
           generators=len(scenario.generators), sweep_case_s=per_case,
           match_s=t_plain, match_annual_s=t_annual, ratio_vs_match=per_case / t_plain,
           ratio_vs_match_annual=per_case / t_annual, load_average=os.getloadavg()[0])


def test_one_by_one_through_simulate(benchmark, demo):
    """A sample of the same cases through sim.simulate + sim.evaluate, each
    scenario rebuilt as a user would (weather, pvlib, demand every time)."""
    scenario, cases, _, base = demo
    rng = np.random.default_rng(0)
    pick = rng.choice(cases.n, SAMPLE, replace=False)
    scenarios = [sw.apply_case(scenario, cases.params, cases.values[i]) for i in pick]

    def one_by_one():
        for sc in scenarios:
            sim.evaluate(sim.simulate(sc))

    benchmark.pedantic(one_by_one, rounds=2, iterations=1)
    t0 = time.perf_counter()
    sw.compute_chunk(base, cases.params, cases.values[:CHUNK])
    sweep_case = (time.perf_counter() - t0) / CHUNK
    one = benchmark.stats.stats.min / SAMPLE
    record(benchmark, "sweep_vs_one_by_one", one_by_one_case_s=one,
           sweep_case_s=sweep_case, speed_up=one / sweep_case,
           extrapolated_1000_cases_s=1000 * one, load_average=os.getloadavg()[0])


if __name__ == "__main__":  # pragma: no cover - quick manual run
    t = time.perf_counter()
    sw.run(sim.load_scenario(DEMO), progress=True)
    print(f"{1000 / (time.perf_counter() - t):.1f} cases/s (incl. compile)")
