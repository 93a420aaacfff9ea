"""The batch kernel's pool ledger skips sources and consumers with nothing to share,
or (dense pairs, session 3) is one matrix product.

``sim.studies.batch._pool_deliveries`` used to loop hours x consumers x
generators (about a minute per case with a thousand rooftop PV systems). It
now visits, each hour, only the consumers drawing on the pool and the sources
with a non-zero pool or community-battery share; the skipped terms are exact
zeros, so the ledger must be the same bits. ``_old_pool_deliveries`` is a
verbatim (plain Python) copy of the old loop, the oracle.
"""

import numpy as np
import pytest

from sim.studies.batch import _COMMUNITY, _POOLED, _SPILLED, _pool_deliveries


def _old_pool_deliveries(residual, pool_factor, community_factor, spill, share, comp,
                         ledger, table):
    """sim.studies.batch._pool_deliveries before the sparse loop (plain Python copy)."""
    n_r, n_t = residual.shape
    n_g = share.shape[1]
    for t in range(n_t):
        f = pool_factor[t]
        cf = community_factor[t]
        pl_t = 0.0
        cm_t = 0.0
        for r in range(n_r):
            res = residual[r, t]
            pl = res * f
            cm = res * cf
            pl_t += pl
            cm_t += cm
            if pl > 0.0 or cm > 0.0:
                for g in range(n_g):
                    ledger[g, r] += pl * share[t, g] + cm * comp[t, g]
        sp = spill[t]
        for g in range(n_g):
            table[g, _POOLED] += pl_t * share[t, g]
            table[g, _COMMUNITY] += cm_t * comp[t, g]
            table[g, _SPILLED] += sp * share[t, g]


def _sparse(rng, shape, p_zero):
    a = rng.random(shape) * 10.0
    a[rng.random(shape) < p_zero] = 0.0
    return a


def _pool_inputs(seed, comp_extra_column):
    """Random hours with zero rows, zero sources, hours without pool or battery."""
    rng = np.random.default_rng(seed)
    n_r, n_g, n_t = rng.integers(1, 9), rng.integers(1, 9), rng.integers(1, 60)
    residual = _sparse(rng, (n_r, n_t), 0.4)
    pool_factor = _sparse(rng, n_t, 0.3) / 10.0
    community_factor = np.minimum(_sparse(rng, n_t, 0.5) / 10.0, 1.0 - pool_factor)
    spill = _sparse(rng, n_t, 0.5)
    src = _sparse(rng, (n_t, n_g), 0.6)
    tot = src.sum(axis=1, keepdims=True)
    share = np.divide(src, tot, out=np.zeros_like(src), where=tot > 0)
    comp = _sparse(rng, (n_t, n_g + comp_extra_column), 0.6)
    comp /= np.maximum(comp.sum(axis=1, keepdims=True), 1e-300)
    comp[rng.random(n_t) < 0.3] = 0.0  # hours when the community battery is idle
    ledger0 = _sparse(rng, (n_g, n_r), 0.5)  # on-site deliveries already in the ledger
    table0 = rng.random((n_g, 11))
    return (residual, pool_factor, community_factor, spill, share, comp), ledger0, table0


@pytest.mark.parametrize("comp_extra_column", [0, 1])
@pytest.mark.parametrize("seed", range(12))
def test_pool_deliveries_equal_the_old_dense_loop(seed, comp_extra_column):
    args, ledger0, table0 = _pool_inputs(seed, comp_extra_column)
    led_old, tab_old = ledger0.copy(), table0.copy()
    _old_pool_deliveries(*args, led_old, tab_old)
    led_new, tab_new = ledger0.copy(), table0.copy()
    _pool_deliveries(*args, led_new, tab_new)
    assert np.any(led_new != ledger0)  # the case did deliver something
    np.testing.assert_array_equal(led_new, led_old)
    np.testing.assert_array_equal(tab_new, tab_old)


def test_pool_deliveries_with_nothing_pooled_leave_the_ledger_alone():
    args, ledger0, table0 = _pool_inputs(3, 1)
    residual = np.zeros_like(args[0])
    led, tab = ledger0.copy(), table0.copy()
    _pool_deliveries(residual, *args[1:], led, tab)
    np.testing.assert_array_equal(led, ledger0)


# -- the matrix-product path (session 3) against the sparse loop --------------

def _dense_inputs(seed, with_comp):
    """Larger random hours, every source sharing in most hours (the case of a
    community battery charged by many rooftop systems)."""
    rng = np.random.default_rng(100 + seed)
    n_r, n_g, n_t = 40, 30, 300
    residual = _sparse(rng, (n_r, n_t), 0.3)
    pool_factor = _sparse(rng, n_t, 0.2) / 10.0
    community_factor = np.minimum(_sparse(rng, n_t, 0.4) / 10.0, 1.0 - pool_factor)
    spill = _sparse(rng, n_t, 0.5)
    src = _sparse(rng, (n_t, n_g), 0.2)
    tot = src.sum(axis=1, keepdims=True)
    share = np.divide(src, tot, out=np.zeros_like(src), where=tot > 0)
    if with_comp:
        comp = _sparse(rng, (n_t, n_g + 1), 0.1)
        comp /= comp.sum(axis=1, keepdims=True)
        comp[rng.random(n_t) < 0.3] = 0.0
    else:
        comp = np.zeros((0, 0))
    ledger0 = _sparse(rng, (n_g, n_r), 0.5)
    table0 = rng.random((n_g, 11))
    return (residual, pool_factor, community_factor, spill, share, comp), ledger0, table0


@pytest.mark.parametrize("with_comp", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_matrix_product_equals_the_sparse_loop(seed, with_comp):
    from sim.studies.batch import _pool_and_sums_dense, _pool_and_sums_sparse

    args, ledger0, table0 = _dense_inputs(seed, with_comp)
    n_r = args[0].shape[0]
    out = {}
    for name, fn in (("sparse", _pool_and_sums_sparse), ("dense", _pool_and_sums_dense)):
        a = list(args)
        a[4] = a[4].copy()  # the dense path overwrites share (a work buffer)
        led, tab, sums = ledger0.copy(), table0.copy(), np.zeros((3, n_r))
        fn(*a, led, tab, sums)
        out[name] = led, tab, sums
    led_s, tab_s, sums_s = out["sparse"]
    led_d, tab_d, sums_d = out["dense"]
    assert np.abs(led_s - ledger0).max() > 1.0  # the pool delivered something
    np.testing.assert_allclose(led_d, led_s, rtol=1e-12, atol=1e-300)
    # consumer sums (pooled, community, grid) and the table columns: same order, same bits
    np.testing.assert_array_equal(sums_d, sums_s)
    np.testing.assert_array_equal(tab_d, tab_s)
    # the consumer sums are the residual split by the hour's factors
    f, cf = args[1], args[2]
    np.testing.assert_allclose(sums_d[0], (args[0] * f).sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(sums_d[1], (args[0] * cf).sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(sums_d.sum(axis=0), args[0].sum(axis=1), rtol=1e-12)


def test_the_rule_keeps_small_regions_on_the_sparse_loop():
    from sim.studies import batch

    args, _, _ = _dense_inputs(0, True)
    residual, f, cf, _, share, comp = args
    # 40 x 300 x 30 terms: under the size floor, whatever the density
    assert residual.size * share.shape[1] < batch._DENSE_MIN
    assert not batch._use_dense(residual, f, cf, share, comp)
    # the same density at a thousand consumers' size: the product
    big = np.tile(residual, (60, 1))
    wide = np.tile(share, (1, 40)) / 40.0
    assert big.size * wide.shape[1] >= batch._DENSE_MIN
    assert batch._use_dense(big, f, cf, wide, np.zeros((0, 0)))
    # nothing drawing on the pool: the sparse loop (no work for it)
    assert not batch._use_dense(np.zeros_like(big), f, cf, wide, np.zeros((0, 0)))


# -- the small-ledger path (issue 17) against the sparse loop --------------------

@pytest.mark.parametrize("with_comp", [True, False])
@pytest.mark.parametrize("seed", range(8))
def test_small_ledger_path_equals_the_sparse_loop_to_the_bit(seed, with_comp):
    """``_pool_and_sums_small`` visits every consumer and adds exact zeros where
    the sparse loop skips: the ledger, the consumer sums and the table are the
    same bits, also with residuals a hair below zero (not drawing) and hours
    with nothing pooled."""
    from sim.studies.batch import _pool_and_sums_small, _pool_and_sums_sparse

    args, ledger0, table0 = _pool_inputs(50 + seed, 1)
    args = list(args)
    rng = np.random.default_rng(seed)
    residual = args[0]
    residual[rng.random(residual.shape) < 0.1] = -1e-13  # rounding below zero
    if not with_comp:
        args[5] = np.zeros((0, 0))
    n_r = residual.shape[0]
    out = {}
    for name, fn in (("sparse", _pool_and_sums_sparse), ("small", _pool_and_sums_small)):
        led, tab, sums = ledger0.copy(), table0.copy(), rng.random((3, n_r))
        sums[:] = 0.25  # a start that is not zero: both add to it
        fn(*args, led, tab, sums)
        out[name] = led, tab, sums
    for a, b in zip(out["small"], out["sparse"]):
        np.testing.assert_array_equal(a, b)
    assert np.any(out["small"][0] != ledger0)  # the pool did deliver something


def test_the_rule_sends_small_regions_to_the_small_path_only_below_its_limits():
    from sim.studies import batch

    assert batch._SMALL_GENERATORS * batch._SMALL_CONSUMERS * 8 <= 32 * 1024
    # the largest small ledger stays under the dense product's size floor at
    # 8784 h only when sparse: the dense rule is asked first (its figures differ
    # from the sparse loop's in the last bits, and it keeps them)
    assert batch._SMALL_GENERATORS * batch._SMALL_CONSUMERS * 8784 > batch._DENSE_MIN
