"""sim.core.accounting.running_composition, the one running-mix loop of attribution.

Since issue 10 the loop takes an inflow mix over the first J of its K slots
(the slots after J, e.g. energy stored at the start that no generator made,
take no inflow). ``attribute`` used to pass a (T, K) mix whose last column
was all zeros; ``_old_running_composition`` is a verbatim copy of that loop
(before issue 10), the oracle: the new call must give the same bits.
"""

import numpy as np
import pytest

from sim.core.accounting import running_composition


def _old_running_composition(inflow, inflow_share, outflow, sqrt_eta, content0):
    """The loop of sim.core.accounting before issue 10 (plain Python copy)."""
    n_t, n_k = inflow_share.shape
    c = content0.copy()
    comp = np.zeros((n_t, n_k))
    last = np.zeros(n_k)
    have_last = False
    for t in range(n_t):
        a = inflow[t] * sqrt_eta
        if a > 0.0:
            for k in range(n_k):
                c[k] += a * inflow_share[t, k]
        if outflow[t] > 0.0:
            tot = 0.0
            for k in range(n_k):
                tot += c[k]
            if tot > 0.0:
                f = outflow[t] / sqrt_eta / tot
                if f > 1.0:
                    f = 1.0
                for k in range(n_k):
                    comp[t, k] = c[k] / tot
                    last[k] = comp[t, k]
                    c[k] -= c[k] * f
                have_last = True
            elif have_last:
                for k in range(n_k):
                    comp[t, k] = last[k]
    return comp, c


def random_store(seed, n_t=300):
    """Random hourly inflow/outflow of a store with K sources: many idle hours,
    discharges that sometimes empty it (the f > 1 snap) or find it empty."""
    rng = np.random.default_rng(seed)
    n_k = int(rng.integers(1, 6))
    inflow = rng.gamma(0.8, 2.0, n_t) * (rng.random(n_t) < 0.4)
    outflow = rng.gamma(0.8, 3.0, n_t) * (rng.random(n_t) < 0.5)
    mix = rng.random((n_t, n_k)) * (rng.random((n_t, n_k)) < 0.7)
    rows = mix.sum(axis=1, keepdims=True)
    mix = np.divide(mix, rows, out=np.zeros_like(mix), where=rows > 0)
    sqrt_eta = float(np.sqrt(rng.uniform(0.6, 1.0)))
    return inflow, mix, outflow, sqrt_eta, rng


@pytest.mark.parametrize("seed", range(8))
def test_inflow_over_the_first_slots_equals_the_old_zero_column_call(seed):
    """attribute's call (initial content in an extra slot) is bit-identical to the old loop."""
    inflow, mix, outflow, sqrt_eta, rng = random_store(seed)
    n_k = mix.shape[1]
    content0 = np.zeros(n_k + 1)
    content0[-1] = [0.0, 3.0, rng.uniform(0, 20)][seed % 3]
    old_share = np.zeros((len(inflow), n_k + 1))
    old_share[:, :-1] = mix
    comp_old, end_old = _old_running_composition(inflow, old_share, outflow, sqrt_eta, content0)
    comp, end, out_sum = running_composition(inflow, mix, outflow, sqrt_eta, content0)
    assert comp.shape == comp_old.shape
    assert comp.tobytes() == comp_old.tobytes()
    assert end.tobytes() == end_old.tobytes()
    # out_sum: the outflow by slot, summed hour by hour in time order
    want = np.zeros(n_k + 1)
    for t in range(len(outflow)):
        if outflow[t] > 0.0:
            for k in range(n_k + 1):
                want[k] += outflow[t] * comp_old[t, k]
    assert out_sum.tobytes() == want.tobytes()
    # the old call itself, with every slot taking inflow, is unchanged too
    comp2, end2, _ = running_composition(inflow, old_share, outflow, sqrt_eta, content0)
    assert comp2.tobytes() == comp_old.tobytes() and end2.tobytes() == end_old.tobytes()
    # and the mix is a mix: rows sum to 1 wherever something came out of a non-empty store
    assert np.all(comp >= 0)
    assert (outflow > 0).any() and (comp.sum(axis=1) > 0).any()
    np.testing.assert_allclose(comp.sum(axis=1)[comp.sum(axis=1) > 0], 1.0, rtol=1e-12)
