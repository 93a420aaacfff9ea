"""Layout options of ``sim.match``: reused output buffers, float32 storage,
thread count and block size do not change the answer."""

import numba
import numpy as np
import pytest
from reference import reference_match

from sim import InputError, match
from sim import kernel


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
