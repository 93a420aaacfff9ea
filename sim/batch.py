"""The compiled batch kernel of sweeps: many cases in one call, parallel over cases.

Profiles are computed once (:func:`sim.engine.build_inputs`); each case only
scales them: generator outputs by a factor per generator, demand by a factor
per consumer (savings), and sets batteries, the community battery, the
must-run level and the round-trip efficiency. For each case the kernel runs
the same njit building blocks as :func:`sim.match` (:func:`sim.kernel.onsite_row`
and :func:`sim.kernel.pool_hours`) on buffers private to that case, then
reduces the hours to annual figures and the generator × consumer ledger
before the buffers are dropped. Memory is therefore a few (consumer, time)
arrays per *thread*, never per case.

Attribution (the ledger) follows design.md section 4: every delivered kWh is
traced pro rata to its sources in the hour it is delivered.

* direct use at a consumer: its on-site generators' shares of that hour's
  on-site output;
* the regional pool: each source's share of the pool in that hour (off-site
  generators; exports of on-site generators, split like direct use);
* batteries (on-site and community) are well mixed: a charge adds energy of
  the sources it came from, a discharge takes every source pro rata to its
  share of the stored energy. Energy stored at the start (``soc_initial``) is
  split pro rata to the sources' annual inflow.
"""

from __future__ import annotations

import numba as nb
import numpy as np

import inspect

from sim.kernel import onsite_row, pool_hours

# Not cached on disk: numba's cache does not notice when the building blocks
# in sim/kernel.py change, and a stale batch kernel would silently differ
# from ``sim.simulate``. Compiling takes a few seconds per process.
_JIT = dict(nogil=True, cache=False)

# ``onsite_row`` may or may not add the row's exports and residuals to the
# hourly sums itself (the kernel's owner may change it); adapt at import time.
if len(inspect.signature(onsite_row.py_func).parameters) >= 14:
    @nb.njit(**_JIT)
    def _onsite(d, o, e, p, k, s0, di, ch, dis, ex, re, soc, sum_ex, sum_re):
        onsite_row(d, o, e, p, k, s0, di, ch, dis, ex, re, soc, sum_ex, sum_re)
else:  # pragma: no cover - the older signature
    @nb.njit(**_JIT)
    def _onsite(d, o, e, p, k, s0, di, ch, dis, ex, re, soc, sum_ex, sum_re):
        onsite_row(d, o, e, p, k, s0, di, ch, dis, ex, re, soc)
        for t in range(d.shape[0]):
            sum_ex[t] += ex[t]
            sum_re[t] += re[t]

#: per consumer annual sums, axis 1 of ``consumer_out`` [kWh]
CONSUMER_FIELDS = ("demand", "onsite", "direct", "charge", "discharge", "export",
                   "pooled", "community", "grid")
#: per case annual sums, axis 1 of ``region_out`` [kWh]
REGION_FIELDS = ("offsite", "pool", "spill", "community_charge", "community_discharge",
                 "must_run")


@nb.njit(**_JIT)
def _onsite_ledger(r, gens, gen_s, onsite, direct, charge, discharge, export, sqrt_eta,
                   soc0, share, ledger, src):
    """Attribute consumer ``r``'s direct use and battery discharge to its on-site
    generators ``gens``; write their exports into ``src`` (pool inflow by source)."""
    n_t = onsite.shape[1]
    k = gens.shape[0]
    if k == 0:
        return
    if k == 1:
        g = gens[0]
        tot = 0.0
        for t in range(n_t):
            tot += direct[r, t] + discharge[r, t]
            if share:
                src[g, t] = export[r, t]
        ledger[g, r] += tot
        return
    comp = np.zeros(k)
    inflow = np.zeros(k)
    for j in range(k):
        for t in range(n_t):
            inflow[j] += gen_s[gens[j], t]
    total_in = inflow.sum()
    if soc0 > 0.0:
        for j in range(k):
            comp[j] = soc0 * (inflow[j] / total_in if total_in > 0.0 else 1.0 / k)
    for t in range(n_t):
        o = onsite[r, t]
        if o > 0.0:
            d = direct[r, t]
            c = charge[r, t] * sqrt_eta
            x = export[r, t]
            for j in range(k):
                w = gen_s[gens[j], t] / o
                ledger[gens[j], r] += d * w
                comp[j] += c * w
                if share:
                    src[gens[j], t] = x * w
        dis = discharge[r, t]
        if dis > 0.0:
            stored = comp.sum()
            if stored > 0.0:
                keep = 1.0 - (dis / sqrt_eta) / stored
                if keep < 0.0:
                    keep = 0.0
                for j in range(k):
                    ledger[gens[j], r] += dis * comp[j] / stored
                    comp[j] *= keep


@nb.njit(**_JIT)
def _pool_ledger(src, pool, residual, pool_factor, community_factor, community_charge,
                 community_discharge, sqrt_eta, soc_c0, ledger):
    """Attribute pooled and community-battery energy to the pool's sources."""
    n_g, n_t = src.shape
    n_r = residual.shape[0]
    comp = np.zeros(n_g)
    if soc_c0 > 0.0:
        inflow = np.zeros(n_g)
        for g in range(n_g):
            for t in range(n_t):
                inflow[g] += src[g, t]
        total_in = inflow.sum()
        for g in range(n_g):
            comp[g] = soc_c0 * (inflow[g] / total_in if total_in > 0.0 else 1.0 / n_g)
    share = np.empty(n_g)
    for t in range(n_t):
        p = pool[t]
        if p > 0.0:
            for g in range(n_g):
                share[g] = src[g, t] / p
            f = pool_factor[t]
            if f > 0.0:
                for r in range(n_r):
                    pl = residual[r, t] * f
                    if pl > 0.0:
                        for g in range(n_g):
                            ledger[g, r] += pl * share[g]
            ch = community_charge[t] * sqrt_eta
            if ch > 0.0:
                for g in range(n_g):
                    comp[g] += ch * share[g]
        dis = community_discharge[t]
        if dis > 0.0:
            stored = comp.sum()
            if stored > 0.0:
                cf = community_factor[t]
                for r in range(n_r):
                    cm = residual[r, t] * cf
                    if cm > 0.0:
                        for g in range(n_g):
                            ledger[g, r] += cm * comp[g] / stored
                keep = 1.0 - (dis / sqrt_eta) / stored
                if keep < 0.0:
                    keep = 0.0
                for g in range(n_g):
                    comp[g] *= keep


@nb.njit(**_JIT)
def run_case(demand_gross, generation, site_index, site_gens, site_ptr,
             demand_factor, gen_scale, battery_kwh, battery_kw, community_kwh,
             community_kw, must_run_kw, sqrt_eta, soc_initial, share_onsite_surplus,
             consumer_out, region_out, ledger):
    """One case: scale the profiles, match, reduce to annual sums and the ledger.

    Parameters
    ----------
    demand_gross : (R, T) [kWh], demand before savings
    generation : (G, T) [kWh], generator outputs at the scenario's capacities
    site_index : (G,) int, consumer row of each generator, -1 off-site
    site_gens, site_ptr : int arrays, on-site generators of consumer r are
        ``site_gens[site_ptr[r]:site_ptr[r + 1]]``
    demand_factor : (R,) [-], ``1 - savings``
    gen_scale : (G,) [-], capacity factor on each generator
    battery_kwh, battery_kw : (R,) [kWh], [kW]
    community_kwh, community_kw, must_run_kw : float [kWh], [kW], [kW]
    sqrt_eta : float [-]
    soc_initial : float [-]
    share_onsite_surplus : bool
    consumer_out : (9, R) out, annual sums of :data:`CONSUMER_FIELDS`
    region_out : (6,) out, annual sums of :data:`REGION_FIELDS`
    ledger : (G, R) out, delivered renewable kWh by generator and consumer
    """
    n_r, n_t = demand_gross.shape
    n_g = generation.shape[0]
    demand = np.empty((n_r, n_t))
    onsite = np.zeros((n_r, n_t))
    offsite = np.zeros(n_t)
    gen_s = np.empty((n_g, n_t))
    for g in range(n_g):
        s = gen_scale[g]
        r = site_index[g]
        for t in range(n_t):
            v = generation[g, t] * s
            gen_s[g, t] = v
        if r >= 0:
            for t in range(n_t):
                onsite[r, t] += gen_s[g, t]
        else:
            for t in range(n_t):
                offsite[t] += gen_s[g, t]
    for r in range(n_r):
        f = demand_factor[r]
        for t in range(n_t):
            demand[r, t] = demand_gross[r, t] * f
    direct = np.empty((n_r, n_t))
    charge = np.empty((n_r, n_t))
    discharge = np.empty((n_r, n_t))
    export = np.empty((n_r, n_t))
    residual = np.empty((n_r, n_t))
    soc = np.empty(n_t)
    sum_export = np.zeros(n_t)
    sum_residual = np.zeros(n_t)
    for r in range(n_r):
        _onsite(demand[r], onsite[r], battery_kwh[r], battery_kw[r], sqrt_eta,
                soc_initial * battery_kwh[r], direct[r], charge[r], discharge[r],
                export[r], residual[r], soc, sum_export, sum_residual)
    must_run = np.full(n_t, must_run_kw)
    pool = np.empty(n_t)
    pool_factor = np.empty(n_t)
    community_factor = np.empty(n_t)
    community_charge = np.empty(n_t)
    community_discharge = np.empty(n_t)
    community_soc = np.empty(n_t)
    spill = np.empty(n_t)
    pool_hours(sum_export, sum_residual, offsite, must_run, share_onsite_surplus,
               community_kwh, community_kw, sqrt_eta, soc_initial * community_kwh,
               pool, pool_factor, community_factor, community_charge,
               community_discharge, community_soc, spill)
    # Annual sums, with pooled, community and grid as in phase 3 of match_kernel.
    for r in range(n_r):
        a = np.zeros(9)
        for t in range(n_t):
            res = residual[r, t]
            pl = res * pool_factor[t]
            cm = res * community_factor[t]
            gr = res - pl - cm
            if gr < 0.0:
                gr = 0.0
            a[0] += demand[r, t]
            a[1] += onsite[r, t]
            a[2] += direct[r, t]
            a[3] += charge[r, t]
            a[4] += discharge[r, t]
            a[5] += export[r, t]
            a[6] += pl
            a[7] += cm
            a[8] += gr
        for i in range(9):
            consumer_out[i, r] = a[i]
    tot = np.zeros(6)
    for t in range(n_t):
        tot[0] += offsite[t]
        tot[1] += pool[t]
        tot[2] += spill[t]
        tot[3] += community_charge[t]
        tot[4] += community_discharge[t]
        tot[5] += must_run[t]
    for i in range(6):
        region_out[i] = tot[i]
    # The ledger: on-site first (it also fills the pool's inflow by source).
    for g in range(n_g):
        for r in range(n_r):
            ledger[g, r] = 0.0
    src = np.zeros((n_g, n_t))
    for g in range(n_g):
        if site_index[g] < 0:
            for t in range(n_t):
                src[g, t] = gen_s[g, t]
    for r in range(n_r):
        _onsite_ledger(r, site_gens[site_ptr[r]:site_ptr[r + 1]], gen_s, onsite, direct,
                       charge, discharge, export, sqrt_eta, soc_initial * battery_kwh[r],
                       share_onsite_surplus, ledger, src)
    _pool_ledger(src, pool, residual, pool_factor, community_factor, community_charge,
                 community_discharge, sqrt_eta, soc_initial * community_kwh, ledger)


@nb.njit(parallel=True, **_JIT)
def batch_kernel(demand_gross, generation, site_index, site_gens, site_ptr,
                 demand_factor, gen_scale, battery_kwh, battery_kw, community_kwh,
                 community_kw, must_run_kw, sqrt_eta, soc_initial, share_onsite_surplus,
                 consumer_out, region_out, ledger):
    """:func:`run_case` for C cases, parallel over cases (``prange``).

    Per-case arguments carry a leading case axis: ``demand_factor, battery_kwh,
    battery_kw`` (C, R), ``gen_scale`` (C, G), ``community_kwh, community_kw,
    must_run_kw, sqrt_eta`` (C,); outputs ``consumer_out`` (C, 9, R),
    ``region_out`` (C, 6), ``ledger`` (C, G, R).
    """
    for c in nb.prange(demand_factor.shape[0]):
        run_case(demand_gross, generation, site_index, site_gens, site_ptr,
                 demand_factor[c], gen_scale[c], battery_kwh[c], battery_kw[c],
                 community_kwh[c], community_kw[c], must_run_kw[c], sqrt_eta[c],
                 soc_initial, share_onsite_surplus, consumer_out[c], region_out[c],
                 ledger[c])


def site_groups(site_index: np.ndarray, n_r: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR layout of on-site generators per consumer: ``(site_gens, site_ptr)``."""
    site_index = np.asarray(site_index, dtype=np.int64)
    order = [g for r in range(n_r) for g in np.flatnonzero(site_index == r)]
    counts = np.bincount(site_index[site_index >= 0], minlength=n_r)
    ptr = np.zeros(n_r + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(counts)
    return np.asarray(order, dtype=np.int64), ptr


def run_batch(demand_gross, generation, site_index, *, demand_factor, gen_scale,
              battery_kwh, battery_kw, community_kwh, community_kw, must_run_kw,
              efficiency, soc_initial=0.0, share_onsite_surplus=True):
    """Run C cases on shared profiles; returns annual sums and ledgers.

    Parameters
    ----------
    demand_gross : array (R, T) [kWh]
    generation : array (G, T) [kWh]
    site_index : array (G,) int
    demand_factor : array (C, R) [-]
    gen_scale : array (C, G) [-]
    battery_kwh, battery_kw : array (C, R) [kWh], [kW]
    community_kwh, community_kw, must_run_kw : array (C,) [kWh], [kW], [kW]
    efficiency : array (C,), round trip [-]
    soc_initial : float [-]
    share_onsite_surplus : bool

    Returns
    -------
    dict
        ``consumer`` (C, 9, R) in :data:`CONSUMER_FIELDS` order, ``region``
        (C, 6) in :data:`REGION_FIELDS` order, ``ledger`` (C, G, R), all [kWh].
    """
    f8 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    demand_gross, generation = f8(demand_gross), f8(generation)
    demand_factor, gen_scale = f8(demand_factor), f8(gen_scale)
    n_c = demand_factor.shape[0]
    n_r = demand_gross.shape[0]
    n_g = generation.shape[0]
    site_index = np.ascontiguousarray(site_index, dtype=np.int64)
    site_gens, site_ptr = site_groups(site_index, n_r)
    consumer = np.empty((n_c, len(CONSUMER_FIELDS), n_r))
    region = np.empty((n_c, len(REGION_FIELDS)))
    ledger = np.empty((n_c, n_g, n_r))
    if n_c:
        batch_kernel(demand_gross, generation, site_index, site_gens, site_ptr,
                     demand_factor, gen_scale, f8(battery_kwh), f8(battery_kw),
                     f8(community_kwh), f8(community_kw), f8(must_run_kw),
                     np.sqrt(f8(efficiency)), float(soc_initial),
                     bool(share_onsite_surplus), consumer, region, ledger)
    return {"consumer": consumer, "region": region, "ledger": ledger}
