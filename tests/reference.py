"""Pure-numpy reference of the matching kernel, written straight from
docs/design.md section 4: an hour loop, vectorised over consumers. It is the
oracle that the compiled kernel is tested against (and the baseline the
benchmarks compare with); it is deliberately not optimised.
"""

import numpy as np


def reference_match(demand, onsite, offsite, *, battery_kwh=None, battery_kw=None,
                    efficiency=0.9, soc_initial=0.0, community_kwh=0.0,
                    community_kw=0.0, share_onsite_surplus=True, must_run=0.0):
    demand = np.asarray(demand, float)
    onsite = np.asarray(onsite, float)
    n_r, n_t = demand.shape
    offsite = np.broadcast_to(np.asarray(offsite, float), (n_t,))
    must_run = np.broadcast_to(np.asarray(must_run, float), (n_t,))
    e = np.zeros(n_r) if battery_kwh is None else np.broadcast_to(np.asarray(battery_kwh, float), (n_r,))
    p = np.zeros(n_r) if battery_kw is None else np.broadcast_to(np.asarray(battery_kw, float), (n_r,))
    k = np.sqrt(efficiency)
    names2 = ["direct", "charge", "discharge", "export", "pooled", "community", "grid", "soc"]
    names1 = ["pool", "spill", "community_charge", "community_discharge", "community_soc"]
    out = {n: np.zeros((n_r, n_t)) for n in names2}
    out.update({n: np.zeros(n_t) for n in names1})
    soc = soc_initial * e
    soc_c = soc_initial * community_kwh
    for t in range(n_t):
        d, g = demand[:, t], onsite[:, t]
        direct = np.minimum(d, g)
        surplus = g - direct
        deficit = d - direct
        charge = np.where(e > 0, np.minimum(np.minimum(surplus, p), (e - soc) / k), 0.0)
        soc = soc + charge * k
        discharge = np.where(e > 0, np.minimum(np.minimum(deficit, p), soc * k), 0.0)
        soc = soc - discharge / k
        export = surplus - charge
        residual = deficit - discharge
        pool = offsite[t] + (export.sum() if share_onsite_surplus else 0.0)
        res_sum = residual.sum()
        cap = max(0.0, res_sum - must_run[t])
        deliver = min(pool, cap)
        if deliver >= res_sum:
            pooled = residual.copy()
        else:
            pooled = deliver * residual / res_sum
        leftover = pool - pooled.sum()
        c_charge = 0.0
        c_dis = 0.0
        community = np.zeros(n_r)
        if community_kwh > 0:
            c_charge = min(leftover, community_kw, (community_kwh - soc_c) / k)
            soc_c += c_charge * k
            remaining = residual - pooled
            c_dis = max(0.0, min(remaining.sum(), community_kw, soc_c * k, cap - pooled.sum()))
            soc_c -= c_dis / k
            if remaining.sum() > 0:
                community = c_dis * remaining / remaining.sum()
        grid = residual - pooled - community
        for n, v in zip(names2, [direct, charge, discharge, export, pooled, community, grid, soc]):
            out[n][:, t] = v
        out["pool"][t] = pool
        out["spill"][t] = leftover - c_charge
        out["community_charge"][t] = c_charge
        out["community_discharge"][t] = c_dis
        out["community_soc"][t] = soc_c
    return out
