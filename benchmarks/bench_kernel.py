"""Kernel throughput against the machine's streaming bound and the baselines.

Consumer-hours per second (R consumers x 8760 h) of ``sim.match`` with
reused output buffers (the kernel: checks + the three phases), at 100, 1,000
and 10,000 consumers, against

* the streaming bound: numpy reading the two (R, T) inputs and writing arrays
  of the same size, ``r2w2`` (two outputs, the issue's definition) and
  ``r2w8`` (the eight (R, T) outputs the kernel really writes);
* the per-hour numpy reference (tests/reference.py) and a plain-pandas loop.

Ratios are computed here, between figures of the same run.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest
from baselines import pandas_match
from conftest import RESULTS, best_of, record
from reference import reference_match
from regions import kernel_inputs

import sim

T = 8760
SIZES = (100, 1_000, 10_000)
ROUNDS = {100: 30, 1_000: 8, 10_000: 3}
OUT2 = ("direct", "charge", "discharge", "export", "pooled", "community", "grid", "soc")
OUT1 = ("pool", "spill", "community_charge", "community_discharge", "community_soc")


class _Arrays:
    """Inputs and output buffers per size, built once (10,000 x 8760 float64 is
    0.7 GB an array) and dropped when the size changes."""

    def __init__(self):
        self.key = None
        self.kw = self.bufs = None

    def get(self, n, dtype=np.float64):
        if self.key != (n, dtype):
            self.kw = self.bufs = None
            kw = kernel_inputs(n)
            kw["demand"] = kw["demand"].astype(dtype)
            kw["onsite"] = kw["onsite"].astype(dtype)
            self.kw = kw
            self.bufs = {name: np.zeros((n, T), dtype) for name in OUT2}
            self.bufs.update({name: np.zeros(T) for name in OUT1})
            self.key = (n, dtype)
        return self.kw, self.bufs


@pytest.fixture(scope="module")
def arrays(warm_memory):
    a = _Arrays()
    yield a
    a.kw = a.bufs = None


def _rate(n, seconds):
    return n * T / seconds


def _kernel_call(kw, bufs, dtype=np.float64):
    return lambda: sim.match(**kw, out=bufs, dtype=dtype)


@pytest.mark.parametrize("n", SIZES)
def test_kernel(benchmark, arrays, n):
    kw, bufs = arrays.get(n)
    f = _kernel_call(kw, bufs)
    f()  # compile (or load from cache) outside the timing
    benchmark.pedantic(f, rounds=ROUNDS[n], iterations=1, warmup_rounds=1)
    t = benchmark.stats.stats.min
    record(benchmark, f"kernel_{n}", consumers=n, seconds=t, rate=_rate(n, t),
           threads=numba.get_num_threads(), dtype="float64")


@pytest.mark.parametrize("n", SIZES)
def test_streaming_bound(benchmark, arrays, n):
    """numpy: read demand and onsite, write two (r2w2) or eight (r2w8) arrays."""
    kw, bufs = arrays.get(n)
    d, g = kw["demand"], kw["onsite"]
    o = [bufs[name] for name in OUT2]

    def r2w2():
        np.add(d, g, out=o[0])
        np.subtract(d, g, out=o[1])

    def r2w8():
        for i in range(4):
            np.add(d, g, out=o[2 * i])
            np.subtract(d, g, out=o[2 * i + 1])

    benchmark.pedantic(r2w2, rounds=ROUNDS[n], iterations=1, warmup_rounds=1)
    t2 = benchmark.stats.stats.min
    t8 = best_of(r2w8, max(3, ROUNDS[n] // 2))
    fig = record(benchmark, f"stream_{n}", consumers=n, rate_r2w2=_rate(n, t2),
                 rate_r2w8=_rate(n, t8))
    k = RESULTS.get(f"kernel_{n}")
    if k:  # kernel time / streaming time: 1 = at the bound
        fig.update(kernel_vs_r2w2=t2 and k["seconds"] / t2, kernel_vs_r2w8=k["seconds"] / t8)
        benchmark.extra_info.update(kernel_vs_r2w2=fig["kernel_vs_r2w2"],
                                    kernel_vs_r2w8=fig["kernel_vs_r2w8"])


def test_kernel_one_thread(benchmark, arrays):
    """The same kernel at 10,000 consumers on one core (scaling over threads)."""
    n = 10_000
    kw, bufs = arrays.get(n)
    f = _kernel_call(kw, bufs)
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        benchmark.pedantic(f, rounds=ROUNDS[n], iterations=1, warmup_rounds=1)
    finally:
        numba.set_num_threads(old)
    t = benchmark.stats.stats.min
    fig = record(benchmark, "kernel_10000_1thread", consumers=n, seconds=t,
                 rate=_rate(n, t), threads=1)
    k = RESULTS.get(f"kernel_{n}")
    if k:
        fig["speedup_all_threads"] = t / k["seconds"]
        benchmark.extra_info["speedup_all_threads"] = fig["speedup_all_threads"]


@pytest.mark.parametrize("n", (1_000, 10_000))
def test_kernel_float32(benchmark, arrays, n):
    kw, bufs = arrays.get(n, np.float32)
    f = _kernel_call(kw, bufs, np.float32)
    f()
    benchmark.pedantic(f, rounds=ROUNDS[n], iterations=1, warmup_rounds=1)
    t = benchmark.stats.stats.min
    fig = record(benchmark, f"kernel_{n}_float32", consumers=n, seconds=t,
                 rate=_rate(n, t), dtype="float32")
    k = RESULTS.get(f"kernel_{n}")
    if k:
        fig["speedup_vs_float64"] = k["seconds"] / t


@pytest.mark.parametrize("n", (1_000, 10_000))
def test_match_fresh_outputs(benchmark, arrays, n):
    """``sim.match`` as simulate calls it: new output arrays every call (the
    first write to fresh pages costs the operating system's page zeroing)."""
    kw, _ = arrays.get(n)
    benchmark.pedantic(lambda: sim.match(**kw), rounds=ROUNDS[n], iterations=1,
                       warmup_rounds=1)
    t = benchmark.stats.stats.min
    record(benchmark, f"match_fresh_{n}", consumers=n, seconds=t, rate=_rate(n, t))


@pytest.mark.parametrize("n", (100, 1_000))
def test_numpy_reference(benchmark, arrays, n):
    """tests/reference.py: an hour loop vectorised over consumers."""
    kw, _ = arrays.get(n)
    benchmark.pedantic(lambda: reference_match(**kw), rounds=1 if n > 100 else 3,
                       iterations=1)
    t = benchmark.stats.stats.min
    fig = record(benchmark, f"reference_{n}", consumers=n, seconds=t, rate=_rate(n, t))
    k = RESULTS.get(f"kernel_{n}")
    if k:
        fig["kernel_speedup"] = t / k["seconds"]
        benchmark.extra_info["kernel_speedup"] = fig["kernel_speedup"]


def test_pandas_baseline(benchmark, arrays):
    """A plain-pandas hour loop at 100 consumers (checked against the oracle)."""
    n = 100
    kw, _ = arrays.get(n)
    index = pd.RangeIndex(T, name="hour")
    cols = pd.RangeIndex(n, name="consumer")
    args = dict(demand=pd.DataFrame(kw["demand"].T, index=index, columns=cols),
                onsite=pd.DataFrame(kw["onsite"].T, index=index, columns=cols),
                offsite=pd.Series(kw["offsite"], index=index),
                battery_kwh=pd.Series(kw["battery_kwh"], index=cols),
                battery_kw=pd.Series(kw["battery_kw"], index=cols),
                community_kwh=kw["community_kwh"], community_kw=kw["community_kw"],
                must_run=pd.Series(kw["must_run"], index=index))
    got = benchmark.pedantic(lambda: pandas_match(**args), rounds=1, iterations=1)
    ref = sim.match(**kw)
    np.testing.assert_allclose(got["grid"].to_numpy().T, ref["grid"], rtol=1e-9, atol=1e-9)
    t = benchmark.stats.stats.min
    fig = record(benchmark, f"pandas_{n}", consumers=n, seconds=t, rate=_rate(n, t))
    k = RESULTS.get(f"kernel_{n}")
    if k:
        fig["kernel_speedup"] = t / k["seconds"]
        benchmark.extra_info["kernel_speedup"] = fig["kernel_speedup"]


@pytest.mark.parametrize("n", (1_000, 10_000))
def test_match_annual_only(benchmark, arrays, n):
    """``sim.match(outputs="annual")``: no (R, T) output at all (phase 1 runs
    twice), against the kernel with reused outputs and against ``sim.match``
    with fresh outputs of the same run; totals checked against the hourly
    path's (same bits)."""
    kw, bufs = arrays.get(n)
    f = lambda: sim.match(**kw, outputs="annual")  # noqa: E731
    got = f()
    want = sim.match(**kw, out=bufs)
    np.testing.assert_array_equal(got["annual"], want["annual"])
    benchmark.pedantic(f, rounds=ROUNDS[n], iterations=1, warmup_rounds=1)
    t = benchmark.stats.stats.min
    fig = record(benchmark, f"match_annual_{n}", consumers=n, seconds=t, rate=_rate(n, t))
    for peer in (f"kernel_{n}", f"match_fresh_{n}"):
        k = RESULTS.get(peer)
        if k:
            fig[f"vs_{peer.rsplit('_', 1)[0]}"] = t / k["seconds"]
            benchmark.extra_info[f"vs_{peer.rsplit('_', 1)[0]}"] = t / k["seconds"]


@pytest.mark.parametrize("n", (1_000, 10_000))
def test_totals_by_numpy(benchmark, arrays, n):
    """What ``run_inputs`` did before the kernel added the annual totals:
    nine numpy row sums over the (R, T) arrays (now inside the kernel)."""
    kw, bufs = arrays.get(n)
    out = sim.match(**kw, out=bufs)
    names = ("demand", "onsite", "direct", "charge", "discharge", "export", "pooled",
             "community", "grid")
    f = lambda: [out[k].sum(axis=1, dtype=np.float64) for k in names]  # noqa: E731
    benchmark.pedantic(f, rounds=ROUNDS[n], iterations=1, warmup_rounds=1)
    t = benchmark.stats.stats.min
    fig = record(benchmark, f"numpy_totals_{n}", consumers=n, seconds=t)
    k = RESULTS.get(f"kernel_{n}")
    if k:
        fig["vs_kernel"] = t / k["seconds"]
