"""Layout options of ``sim.match``: reused output buffers, float32 storage,
thread count and block size do not change the answer."""

import numba
import numpy as np
import pytest
from reference import reference_match

from sim import InputError, match
from sim.core import kernel


def _system(n_r=70, n_t=200, seed=3):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 2, (n_r, n_t))
    onsite = rng.uniform(0, 3, (n_r, n_t)) * (rng.random((n_r, n_t)) < 0.5)
    battery = np.where(np.arange(n_r) % 3 == 0, 4.0, 0.0)
    return dict(demand=demand, onsite=onsite, offsite=rng.uniform(0, 20, n_t),
                battery_kwh=battery, battery_kw=1.5, community_kwh=30.0,
                community_kw=8.0, must_run=rng.uniform(0, 10, n_t), soc_initial=0.3)


def test_reused_buffers_give_the_same_result_and_are_returned():
    kw = _system()
    fresh = match(**kw)
    bufs = {name: np.full_like(fresh[name], np.nan) for name in
            ("direct", "charge", "discharge", "export", "pooled", "community", "grid",
             "soc", "pool", "spill", "community_charge", "community_discharge",
             "community_soc")}
    again = match(**kw, out=bufs)
    for name, arr in bufs.items():
        assert again[name] is arr
        np.testing.assert_array_equal(arr, fresh[name], err_msg=name)


def test_wrong_buffer_is_a_one_line_error():
    kw = _system()
    with pytest.raises(InputError, match="out\\['grid'\\]"):
        match(**kw, out={"grid": np.empty((3, 3))})


def test_more_rows_than_one_block_and_one_thread_agree_with_reference():
    kw = _system(n_r=3 * kernel.ROWS_PER_BLOCK + 5)
    ref = reference_match(**kw)
    old = numba.get_num_threads()
    try:
        results = []
        for threads in sorted({1, old}):
            numba.set_num_threads(threads)
            results.append(match(**kw))
    finally:
        numba.set_num_threads(old)
    for name, value in ref.items():
        np.testing.assert_allclose(results[0][name], value, rtol=1e-9, atol=1e-9,
                                   err_msg=name)
        # fixed blocks: the same bits whatever the thread count
        np.testing.assert_array_equal(results[-1][name], results[0][name], err_msg=name)


def test_float32_storage_close_to_float64():
    kw = _system()
    a = match(**kw)
    b = match(**kw, dtype=np.float32)
    assert b["grid"].dtype == np.float32 and b["pool"].dtype == np.float64
    for name in ("direct", "pooled", "grid", "soc"):
        np.testing.assert_allclose(b[name], a[name], rtol=1e-5, atol=1e-5, err_msg=name)


def test_parallel_switch_gives_the_same_bits():
    kw = _system(n_r=2 * kernel.ROWS_PER_BLOCK + 7)
    a = match(**kw, parallel=True)
    b = match(**kw, parallel=False)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("field", ["demand", "onsite"])
@pytest.mark.parametrize("value", [np.nan, -1.0, np.inf])
def test_bad_value_found_by_the_kernel_is_a_one_line_error(field, value):
    """The kernel checks demand and on-site values while it reads them; a bad
    one (in a row with or without a battery, with reused buffers or not) is
    the same InputError naming the field and the index as before."""
    kw = _system(n_r=2 * kernel.ROWS_PER_BLOCK + 7)
    for row in (0, 1):  # row 0 has a battery, row 1 has none
        bad = dict(kw)
        bad[field] = kw[field].copy()
        bad[field][row, 5] = value
        bufs = {"grid": np.empty_like(kw["demand"])}
        for out in (None, bufs):
            with pytest.raises(InputError, match=rf"at index \({row}, 5\)") as info:
                match(**bad, out=out)
            assert info.value.field == field


def test_negative_onsite_that_breaks_the_pool_arithmetic_is_an_input_error():
    # Negative exports can make the pool negative in an hour without residual
    # (a division by zero inside the kernel): still reported as bad input.
    demand = np.zeros((2, 3))
    onsite = np.zeros((2, 3))
    onsite[1, 1] = -5.0
    with pytest.raises(InputError, match=r"at index \(1, 1\)") as info:
        match(demand, onsite, np.zeros(3))
    assert info.value.field == "onsite"


def test_fresh_outputs_of_rows_without_battery_are_zero():
    kw = _system()
    got = match(**kw)
    none = kw["battery_kwh"] == 0
    for name in ("charge", "discharge", "soc"):
        assert not got[name][none].any(), name


def _one_row_at_a_time(kw, dtype):
    """``match_kernel`` rebuilt from the one-consumer building blocks: each
    row alone through ``onsite_row`` (in block order, into per-block partial
    sums), the partials added in block order, ``pool_hours``, then phase 3."""
    demand = kw["demand"].astype(dtype)
    onsite = kw["onsite"].astype(dtype)
    n_r, n_t = demand.shape
    e_cap = kw["battery_kwh"]
    p_cap = np.broadcast_to(np.asarray(kw["battery_kw"], float), (n_r,))
    k = kernel.sqrt_efficiency(0.9)
    s0 = kw["soc_initial"]
    out = {name: np.zeros((n_r, n_t), dtype) for name in
           ("direct", "charge", "discharge", "export", "pooled", "community", "grid",
            "soc")}
    n_blocks = (n_r + kernel.ROWS_PER_BLOCK - 1) // kernel.ROWS_PER_BLOCK
    part_ex = np.zeros((n_blocks, n_t))
    part_re = np.zeros((n_blocks, n_t))
    for b in range(n_blocks):
        for r in range(b, n_r, n_blocks):
            kernel.onsite_row(demand[r], onsite[r], e_cap[r], p_cap[r], k, s0 * e_cap[r],
                              out["direct"][r], out["charge"][r], out["discharge"][r],
                              out["export"][r], out["pooled"][r], out["soc"][r],
                              part_ex[b], part_re[b])
    sum_ex = np.zeros(n_t)
    sum_re = np.zeros(n_t)
    for b in range(n_blocks):
        sum_ex += part_ex[b]
        sum_re += part_re[b]
    hourly = {name: np.empty(n_t) for name in ("pool", "community_charge",
                                               "community_discharge", "community_soc",
                                               "spill")}
    pf = np.empty(n_t)
    cf = np.empty(n_t)
    kernel.pool_hours(sum_ex, sum_re, kw["offsite"], kw["must_run"], True,
                      kw["community_kwh"], kw["community_kw"], k,
                      s0 * kw["community_kwh"], hourly["pool"], pf, cf,
                      hourly["community_charge"], hourly["community_discharge"],
                      hourly["community_soc"], hourly["spill"])
    res = out["pooled"]
    pl = res * pf
    cm = res * cf
    out["grid"][:] = np.maximum(res - pl - cm, 0.0)
    out["pooled"][:] = pl
    out["community"][:] = cm
    return {**out, **hourly}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_battery_rows_two_at_a_time_give_the_bits_of_one_row_at_a_time(dtype):
    """Phase 1 runs two battery consumers together in one hour loop; each
    consumer's outputs and the hourly sums (added in the same row order) are
    the same bits as running the consumers one at a time. The battery
    pattern gives pairs that are next to each other in a block, pairs with
    rows without a battery between them, and an unpaired last battery row."""
    kw = _system(n_r=3 * kernel.ROWS_PER_BLOCK + 5, n_t=300, seed=11)
    rng = np.random.default_rng(5)
    n_r = kw["demand"].shape[0]
    kw["battery_kwh"] = np.where(rng.random(n_r) < 0.45, rng.uniform(1, 8, n_r), 0.0)
    kw["battery_kw"] = rng.uniform(0.5, 3, n_r)
    want = _one_row_at_a_time(kw, dtype)
    old = numba.get_num_threads()
    try:
        for threads in sorted({1, old}):
            numba.set_num_threads(threads)
            got = match(**kw, dtype=dtype, parallel=True)
            for name, value in want.items():
                np.testing.assert_array_equal(got[name], value, err_msg=name)
    finally:
        numba.set_num_threads(old)
