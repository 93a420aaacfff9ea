"""The batch kernel's pool ledger skips sources and consumers with nothing to share.

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
