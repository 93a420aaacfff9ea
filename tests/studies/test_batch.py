"""The sweep's batch kernel traces its batteries with accounting's one loop.

``sim.studies.batch._store_composition`` used to carry its own copy of the
running-composition loop (with initial energy spread by weights up front and
an extra slot for initial energy no generator made). Since issue 10 it calls
:func:`sim.core.accounting.running_composition`; ``_old_store_composition``
is a verbatim copy of the old loop, the oracle: results must be the same bits.
The sweep as a whole is compared with the plain path in test_sweep.py.
"""

import numpy as np
import pytest

from sim.studies.batch import _store_composition


def _old_store_composition(inflow, inflow_mix, outflow, sqrt_eta, s0, weights, n_k,
                           out_mix_sum, end, lost):
    """sim.studies.batch._store_composition before issue 10 (plain Python copy)."""
    n_t = inflow.shape[0]
    c = np.zeros(n_k + 1)
    wsum = weights.sum()
    if s0 > 0.0:
        if wsum > 0.0:
            for k in range(n_k):
                c[k] = s0 * weights[k] / wsum
        else:
            c[n_k] = s0
    mix = np.zeros((n_t, n_k))
    last = np.zeros(n_k + 1)
    have_last = False
    for t in range(n_t):
        a = inflow[t] * sqrt_eta
        if a > 0.0:
            for k in range(n_k):
                c[k] += a * inflow_mix[t, k]
        o = outflow[t]
        if o > 0.0:
            tot = 0.0
            for k in range(n_k + 1):
                tot += c[k]
            if tot > 0.0:
                f = o / sqrt_eta / tot
                if f > 1.0:
                    f = 1.0
                for k in range(n_k + 1):
                    last[k] = c[k] / tot
                    c[k] -= c[k] * f
                have_last = True
            if have_last:
                for k in range(n_k):
                    mix[t, k] = last[k]
                    out_mix_sum[k] += o * last[k]
                lost[0] += o * last[n_k]
    for k in range(n_k):
        end[k] = c[k]
    return mix


@pytest.mark.parametrize("seed", range(8))
def test_store_composition_equals_the_old_batch_loop(seed):
    """Initial energy none / spread by weights / with no weights (lost): same bits."""
    rng = np.random.default_rng(100 + seed)
    n_t, n_k = 300, int(rng.integers(1, 6))
    inflow = rng.gamma(0.8, 2.0, n_t) * (rng.random(n_t) < 0.4)
    outflow = rng.gamma(0.8, 3.0, n_t) * (rng.random(n_t) < 0.5)
    mix = rng.random((n_t, n_k))
    mix /= mix.sum(axis=1, keepdims=True)
    sqrt_eta = float(np.sqrt(rng.uniform(0.6, 1.0)))
    s0 = [0.0, rng.uniform(1, 20), rng.uniform(1, 20), 5.0][seed % 4]
    weights = rng.uniform(0, 5, n_k) if seed % 4 != 2 else np.zeros(n_k)
    got = [np.zeros(n_k), np.zeros(n_k), np.zeros(1)]
    want = [np.zeros(n_k), np.zeros(n_k), np.zeros(1)]
    mix_new = _store_composition(inflow, mix, outflow, sqrt_eta, s0, weights, *got)
    mix_old = _old_store_composition(inflow, mix, outflow, sqrt_eta, s0, weights, n_k, *want)
    assert mix_new.shape == (n_t, n_k + 1)  # last column: the unattributed initial content
    assert np.ascontiguousarray(mix_new[:, :n_k]).tobytes() == mix_old.tobytes()
    for g, w in zip(got, want):
        assert g.tobytes() == w.tobytes()
    if seed % 4 == 2:  # initial energy with no weights comes out as 'lost'
        assert got[2][0] > 0
    else:
        assert got[2][0] == 0.0


def _random_batch(seed, n_c, n_r, n_g, n_t=96):
    """Inputs of ``run_batch``: a few consumers and generators, on- and off-site."""
    rng = np.random.default_rng(seed)
    site = rng.integers(-1, n_r, n_g)
    return (rng.random((n_r, n_t)) * 5, rng.random((n_g, n_t)) * 4, site), dict(
        demand_factor=1 - rng.random((n_c, n_r)) * 0.1, gen_scale=rng.random((n_c, n_g)) * 2,
        battery_kwh=rng.random((n_c, n_r)) * 6 * (rng.random(n_r) < 0.5),
        battery_kw=rng.random((n_c, n_r)) * 3 + 0.5, community_kwh=rng.random(n_c) * 20,
        community_kw=rng.random(n_c) * 5 + 1, must_run_kw=rng.random(n_c),
        efficiency=0.8 + rng.random(n_c) * 0.2)


def test_work_buffers_reused_across_calls_and_shapes():
    """The kernel's work buffers outlive a call (per thread, the last shape):
    a batch after batches of other shapes gives the same bits as the first time,
    the buffers of a shape are reused, and release_buffers frees them."""
    from sim.studies import batch

    batch.release_buffers()
    args_a, kin_a = _random_batch(1, 5, 4, 6)
    args_b, kin_b = _random_batch(2, 3, 7, 2)
    first = batch.run_batch(*args_a, **kin_a)
    held = batch._BUFFERS.arrays
    assert held[0].shape[1:] == (4, 96) and held[1].shape[1:] == (96, 6)
    again = batch.run_batch(*args_a, **kin_a)
    assert batch._BUFFERS.arrays is held  # reused, not reallocated
    batch.run_batch(*args_b, **kin_b)
    assert batch._BUFFERS.arrays is not held and batch._BUFFERS.arrays[0].shape[1] == 7
    last = batch.run_batch(*args_a, **kin_a)
    for k in first:
        np.testing.assert_array_equal(again[k], first[k])
        np.testing.assert_array_equal(last[k], first[k])
    assert np.any(first["ledger"] > 0)
    batch.release_buffers()
    assert batch._BUFFERS.arrays is None


# -- on-site groups (issue 17): phase 1 once per group of cases ------------------

def _grouped_batch(seed, n_c=9, n_r=5, n_g=6):
    """A batch whose cases fall in three on-site groups (interleaved), the cases
    of a group differing in off-site scales, the community battery, the
    must-run level: what a sweep over off-site plants looks like."""
    (demand, gen, site), kin = _random_batch(seed, n_c, n_r, n_g)
    site[:3] = [0, 1, 1]  # on-site generators at consumers 0 and 1
    site[3:] = -1
    proto = {k: v[:3].copy() for k, v in kin.items()}
    for k in ("demand_factor", "battery_kwh", "battery_kw", "efficiency"):
        kin[k] = proto[k][np.arange(n_c) % 3]
    kin["gen_scale"][:, :3] = proto["gen_scale"][np.arange(n_c) % 3, :3]
    return (demand, gen, site), kin


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("options", [dict(), dict(soc_initial=0.5),
                                     dict(share_onsite_surplus=False)])
def test_cases_sharing_the_onsite_phase_equal_cases_run_alone(threads, options):
    """A case taking its on-site phase from its group gives the same bits as the
    case run alone (a batch of one: no group to share)."""
    import numba

    from sim.studies import batch

    args, kin = _grouped_batch(7)
    group, order, n_groups = batch.onsite_groups(
        args[2], kin["demand_factor"], kin["gen_scale"], kin["battery_kwh"],
        kin["battery_kw"], np.sqrt(kin["efficiency"]))
    assert n_groups == 3 and list(group) == [0, 1, 2] * 3
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        together = batch.run_batch(*args, **kin, **options)
        for c in range(len(kin["efficiency"])):
            alone = batch.run_batch(*args, **{k: v[c:c + 1] for k, v in kin.items()},
                                    **options)
            for k in together:
                np.testing.assert_array_equal(together[k][c], alone[k][0], err_msg=k)
    finally:
        numba.set_num_threads(before)
        batch.release_buffers()
    assert np.any(together["ledger"][:, :3] > 0)  # on-site generators delivered


def test_onsite_groups_compare_the_onsite_inputs_bit_for_bit():
    from sim.studies import batch

    site = np.array([0, -1, 1])
    df = np.ones((6, 2))
    scale = np.ones((6, 3))
    scale[1, 1] = 2.0  # off-site: same group as case 0
    scale[2, 0] = 2.0  # on-site: a group of its own
    df[3, 1] = 0.9  # demand factor differs
    e = np.zeros((6, 2))
    e[4, 0] = -0.0  # -0.0 is not 0.0 (bits differ; kept apart)
    p = np.zeros((6, 2))
    eta = np.full(6, 0.9)
    eta[5] = 0.8
    group, order, n = batch.onsite_groups(site, df, scale, e, p, eta)
    assert list(group) == [0, 0, 1, 2, 3, 4] and n == 5
    assert list(order) == [0, 1, 2, 3, 4, 5]
    group, order, n = batch.onsite_groups(site, df[[2, 0, 2, 1]], scale[[2, 0, 2, 1]],
                                          e[[2, 0, 2, 1]], p[[2, 0, 2, 1]],
                                          eta[[2, 0, 2, 1]])
    assert list(group) == [0, 1, 0, 1] and list(order) == [0, 2, 1, 3] and n == 2
