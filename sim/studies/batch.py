"""The compiled batch kernel of sweeps: many cases in one call, parallel over cases.

Profiles are computed once (:func:`sim.core.engine.build_inputs`); each case only
scales them: generator outputs by a factor per generator, demand by a factor
per consumer (savings), and sets batteries, the community battery, the
must-run level and the round-trip efficiency. For each case the kernel runs
the same njit building blocks as :func:`sim.match` (:func:`sim.core.kernel.onsite_row`
and :func:`sim.core.kernel.pool_hours`) on buffers private to that case, then
reduces the hours to annual figures and the generator × consumer ledger.
Memory is one (consumer, time) and one (time, generator) array per *thread*,
never per case, kept from call to call (:func:`work_buffers`): each
consumer's own hours are matched, summed and attributed while its row is in
hand, and only its residual waits for the pool.

Attribution (the ledger) follows docs/design.md section 4: every delivered kWh is
traced pro rata to its sources in the hour it is delivered.

* direct use at a consumer: its on-site generators' shares of that hour's
  on-site output;
* the regional pool: each source's share of the pool in that hour (off-site
  generators; exports of on-site generators, split like direct use);
* batteries (on-site and community) are well mixed: a charge adds energy of
  the sources it came from, a discharge takes every source pro rata to its
  share of the stored energy. Energy stored at the start (``soc_initial``) is
  split pro rata to the sources' annual charge.

This is :func:`sim.core.accounting.attribute` computed inside the kernel, without
keeping hourly arrays; ``tests/studies/test_sweep.py`` checks that both agree.
Both trace a battery's content with the same loop,
:func:`sim.core.accounting.running_composition`.
"""

from __future__ import annotations

import hashlib
import inspect
import threading
from pathlib import Path

import numba as nb
import numpy as np

from sim.core.accounting import running_composition
from sim.core.kernel import onsite_row, pool_hours, split_residual


def _cache_guard() -> bool:
    """Drop this module's numba cache when a module it calls into has changed.

    numba's on-disk cache keys a function on its own file only: a batch kernel
    compiled against older building blocks (sim/core/kernel.py, the running
    composition of sim/core/accounting.py) would be loaded unchanged. A stamp
    of those files beside the cache files detects that. Returns whether
    on-disk caching can be used.
    """
    here = Path(__file__).resolve()
    cache_dir = here.parent / "__pycache__"
    core = here.parents[1] / "core"
    try:
        stamp = hashlib.sha256((core / "kernel.py").read_bytes()
                               + (core / "accounting.py").read_bytes()
                               + here.read_bytes()).hexdigest()
        cache_dir.mkdir(exist_ok=True)
        stamp_file = cache_dir / "batch.kernel-stamp"
        if not stamp_file.exists() or stamp_file.read_text() != stamp:
            for f in list(cache_dir.glob("batch.*.nbi")) + list(cache_dir.glob("batch.*.nbc")):
                f.unlink(missing_ok=True)
            tmp = cache_dir / f"batch.kernel-stamp.{id(stamp)}"
            tmp.write_text(stamp)
            tmp.replace(stamp_file)
        return True
    except OSError:
        return False


_JIT = dict(nogil=True, cache=_cache_guard())

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
#: per generator columns of ``table`` (as in :data:`sim.core.accounting.TABLE_COLUMNS`) [kWh]
TABLE_FIELDS = ("generated", "direct", "battery", "pooled", "community", "to_storage",
                "spilled", "unshared_export", "storage_losses", "stored_end",
                "from_initial_storage")
#: per case totals of the attribution (``Attribution.totals``) [kWh]
TOTAL_FIELDS = ("community_charge", "community_discharge", "onsite_charge",
                "onsite_discharge", "unattributed")


@nb.njit(**_JIT)
def _store_composition(inflow, inflow_mix, outflow, sqrt_eta, s0, weights, out_mix_sum,
                       end, lost):
    """A well-mixed store (battery) traced by source with
    :func:`sim.core.accounting.running_composition`.

    ``inflow_mix`` (T, K) is the mix of the inflow. Energy stored at the start
    (``s0``) is spread by ``weights`` (K,) or, when they sum to 0, kept in an
    extra slot whose outflow is added to ``lost[0]``. Adds the outflow by
    source to ``out_mix_sum`` (K,); ``end`` (K,) gets the content at the end of
    the year. Returns the (T, K + 1) mix of the outflow (last column: the
    unattributed initial content).
    """
    n_k = weights.shape[0]
    content0 = np.zeros(n_k + 1)
    wsum = weights.sum()
    if s0 > 0.0:
        if wsum > 0.0:
            for k in range(n_k):
                content0[k] = s0 * weights[k] / wsum
        else:
            content0[n_k] = s0
    mix, c, out = running_composition(inflow, inflow_mix, outflow, sqrt_eta, content0)
    for k in range(n_k):
        out_mix_sum[k] += out[k]
        end[k] = c[k]
    lost[0] += out[n_k]
    return mix


# columns of ``table`` (TABLE_FIELDS) and ``totals`` (TOTAL_FIELDS), named for the kernels
(_GENERATED, _DIRECT, _BATTERY, _POOLED, _COMMUNITY, _TO_STORAGE, _SPILLED, _UNSHARED,
 _LOSSES, _STORED_END, _INITIAL) = range(11)
_C_CHARGE, _C_DISCHARGE, _ON_CHARGE, _ON_DISCHARGE, _UNATTRIBUTED = range(5)


@nb.njit(**_JIT)
def _onsite_split(generation, gen_scale, gens, onsite, direct, charge, export,
                  share_onsite_surplus, src, table):
    """One consumer's direct use, charge and export split by its generators ``gens``
    pro rata to their output in each hour; exports go to the pool sources ``src``
    (T, G) or to ``unshared_export``. Returns the (T, K) shares and the (K,)
    charge by generator."""
    n_t = onsite.shape[0]
    k = gens.shape[0]
    frac = np.zeros((n_t, k))
    in_g = np.zeros(k)
    for t in range(n_t):
        o = onsite[t]
        if o > 0.0:
            for j in range(k):
                g = gens[j]
                w = generation[g, t] * gen_scale[g] / o
                frac[t, j] = w
                table[g, _DIRECT] += direct[t] * w
                in_g[j] += charge[t] * w
                if share_onsite_surplus:
                    src[t, g] = export[t] * w
                else:
                    table[g, _UNSHARED] += export[t] * w
    for j in range(k):
        table[gens[j], _TO_STORAGE] += in_g[j]
    return frac, in_g


@nb.njit(**_JIT)
def _onsite_battery(gens, frac, in_g, charge, discharge, sqrt_eta, s0, table, totals):
    """One consumer's battery traced by generator (``battery``, ``stored_end``,
    ``from_initial_storage``, ``storage_losses``); initial energy ``s0`` [kWh] is
    spread pro rata to the annual charge (all to a lone generator)."""
    k = gens.shape[0]
    ch_tot = 0.0
    dis_tot = 0.0
    for t in range(charge.shape[0]):
        ch_tot += charge[t]
        dis_tot += discharge[t]
    if not (ch_tot > 0.0 or dis_tot > 0.0):
        return
    totals[_ON_CHARGE] += ch_tot
    totals[_ON_DISCHARGE] += dis_tot
    if k == 0:  # a battery at a site without generators
        totals[_UNATTRIBUTED] += dis_tot
        return
    weights = in_g.copy()
    if weights.sum() <= 0.0 and k == 1:
        weights[0] = 1.0
    out_g = np.zeros(k)
    end = np.zeros(k)
    lost = np.zeros(1)
    _store_composition(charge, frac, discharge, sqrt_eta, s0, weights, out_g, end, lost)
    totals[_UNATTRIBUTED] += lost[0]
    wsum = weights.sum()
    for j in range(k):
        init = s0 * weights[j] / wsum if (s0 > 0.0 and wsum > 0.0) else 0.0
        g = gens[j]
        table[g, _BATTERY] += out_g[j]
        table[g, _STORED_END] += end[j]
        table[g, _INITIAL] += init
        table[g, _LOSSES] += in_g[j] + init - out_g[j] - end[j]


@nb.njit(**_JIT)
def _pool_share(share):
    """``share`` (T, G): the pool inflow by source [kWh] on entry, each source's
    share of the pool in each hour [-] on return (normalised in place)."""
    n_t, n_g = share.shape
    for t in range(n_t):
        p = 0.0
        for g in range(n_g):
            p += share[t, g]
        for g in range(n_g):
            share[t, g] = share[t, g] / p if p > 0.0 else 0.0


@nb.njit(**_JIT)
def _community_battery(community_charge, community_discharge, share, sqrt_eta, soc0_c,
                       table, totals):
    """The community battery charged at the pool's mix; returns the (T, G + 1) mix
    of its discharge, or a (0, 0) array when it is unused (nothing allocated)."""
    n_t, n_g = share.shape
    c_ch = 0.0
    c_dis = 0.0
    for t in range(n_t):
        c_ch += community_charge[t]
        c_dis += community_discharge[t]
    totals[_C_CHARGE] = c_ch
    totals[_C_DISCHARGE] = c_dis
    if not (c_ch > 0.0 or c_dis > 0.0):
        return np.zeros((0, 0))
    in_g = np.zeros(n_g)
    for t in range(n_t):
        for g in range(n_g):
            in_g[g] += community_charge[t] * share[t, g]
    out_g = np.zeros(n_g)
    end = np.zeros(n_g)
    lost = np.zeros(1)
    comp = _store_composition(community_charge, share, community_discharge, sqrt_eta,
                              soc0_c, in_g, out_g, end, lost)
    totals[_UNATTRIBUTED] += lost[0]
    wsum = in_g.sum()
    for g in range(n_g):
        init = soc0_c * in_g[g] / wsum if (soc0_c > 0.0 and wsum > 0.0) else 0.0
        table[g, _TO_STORAGE] += in_g[g]
        table[g, _STORED_END] += end[g]
        table[g, _INITIAL] += init
        table[g, _LOSSES] += in_g[g] + init - out_g[g] - end[g]
    return comp


@nb.njit(**_JIT)
def _pool_deliveries(residual, pool_factor, community_factor, spill, share, comp, ledger,
                     table):
    """Pooled and community energy of each consumer by source (ledger), and the
    ``pooled``, ``community``, ``spilled`` columns (added to ``ledger`` and
    ``table``); :func:`_pool_and_sums_sparse` without the consumer sums."""
    sums = np.zeros((3, residual.shape[0]))
    _pool_and_sums_sparse(residual, pool_factor, community_factor, spill, share, comp, ledger,
                   table, sums)


#: the sparse loop's work (consumer-source pairs visited) above which the
#: matrix product is used, as a share of the dense product's (consumers x hours
#: x sources); and the dense size under which the sparse loop is always kept
#: (measured in session 3, benchmarks/README.md "Pool ledger as a matrix product")
_DENSE_SHARE = 0.05
_DENSE_MIN = 20_000_000
#: the largest ledger (sources x consumers) :func:`_pool_and_sums_small` takes:
#: it is kept in a local array (16 x 256 x 8 bytes = 32 KiB, the size of L1)
_SMALL_GENERATORS = 16
_SMALL_CONSUMERS = 256


@nb.njit(**_JIT)
def _pool_and_sums(residual, pool_factor, community_factor, spill, share, comp, ledger,
                   table, sums):
    """Pooled and community energy of each consumer by source (ledger), the
    ``pooled``, ``community``, ``spilled`` columns, and each consumer's annual
    pooled, community and grid energy added to ``sums`` (3, R) [kWh]
    (:func:`sim.core.kernel.split_residual`, as phase 3 of the kernel).

    Two ways to the same figures: the sparse hour-by-hour loop
    (:func:`_pool_and_sums_sparse`) when few consumer-source pairs are
    non-zero (a small region, e.g. the demo), one BLAS matrix product
    (:func:`_pool_and_sums_dense`) when the pairs are dense, as with a
    community battery charged by a thousand rooftop systems: every discharge
    hour then touches every source for every consumer drawing. The rule
    (:func:`_use_dense`) compares the sparse loop's work with the product's.
    A small region (at most :data:`_SMALL_GENERATORS` sources and
    :data:`_SMALL_CONSUMERS` consumers, e.g. the demo) that keeps the sparse
    loop's figures takes :func:`_pool_and_sums_small`, the same bits without
    the gathers.
    ``share`` (T, G) is overwritten by the dense path (a work buffer).
    """
    if _use_dense(residual, pool_factor, community_factor, share, comp):
        _pool_and_sums_dense(residual, pool_factor, community_factor, spill, share, comp,
                             ledger, table, sums)
    elif share.shape[1] <= _SMALL_GENERATORS and residual.shape[0] <= _SMALL_CONSUMERS:
        _pool_and_sums_small(residual, pool_factor, community_factor, spill, share, comp,
                             ledger, table, sums)
    else:
        _pool_and_sums_sparse(residual, pool_factor, community_factor, spill, share, comp,
                              ledger, table, sums)


@nb.njit(**_JIT)
def _use_dense(residual, pool_factor, community_factor, share, comp):
    """Whether the matrix product beats the sparse loop: the sparse loop visits,
    each hour, the consumers drawing x the sources with a non-zero share; the
    product does consumers x hours x sources multiply-adds, about
    1 / :data:`_DENSE_SHARE` times faster per term (BLAS against a gather loop).
    Products under :data:`_DENSE_MIN` terms keep the sparse loop (the demo)."""
    n_r, n_t = residual.shape
    n_g = share.shape[1]
    if n_r * n_t * n_g < _DENSE_MIN:
        return False
    has_comp = comp.shape[0] > 0
    drawing = np.zeros(n_t)
    for r in range(n_r):  # row by row (the residual's memory order), branch-free
        for t in range(n_t):
            drawing[t] += 1.0 if residual[r, t] > 0.0 else 0.0
    work = 0.0
    for t in range(n_t):
        if drawing[t] > 0.0 and (pool_factor[t] > 0.0 or community_factor[t] > 0.0):
            k = 0
            for g in range(n_g):
                if share[t, g] != 0.0 or (has_comp and comp[t, g] != 0.0):
                    k += 1
            work += drawing[t] * k
    return work >= _DENSE_SHARE * (n_r * n_t * n_g)


@nb.njit(**_JIT)
def _pool_and_sums_dense(residual, pool_factor, community_factor, spill, share, comp,
                         ledger, table, sums):
    """:func:`_pool_and_sums_sparse` with the ledger as one matrix product:
    ``ledger += Wᵀ @ residualᵀ`` with ``W[t, g] = pool_factor[t] share[t, g]
    + community_factor[t] comp[t, g]`` (built in place of ``share``). The consumer
    sums and the table columns are summed in the sparse loop's order (the same
    bits); the ledger equals it to rounding (the product's summation order, and
    ``residual (f s + cf c)`` for ``(residual f) s + (residual cf) c``)."""
    n_r, n_t = residual.shape
    n_g = share.shape[1]
    has_comp = comp.shape[0] > 0
    pl_t = np.zeros(n_t)
    cm_t = np.zeros(n_t)
    for r in range(n_r):  # r outer: each hour's total still summed in row order
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        for t in range(n_t):
            pl, cm, gr = split_residual(residual[r, t], pool_factor[t], community_factor[t])
            s0 += pl
            s1 += cm
            s2 += gr
            pl_t[t] += pl
            cm_t[t] += cm
        sums[0, r] += s0
        sums[1, r] += s1
        sums[2, r] += s2
    pooled = table[:, _POOLED].copy()
    community = table[:, _COMMUNITY].copy()
    spilled = table[:, _SPILLED].copy()
    for t in range(n_t):
        f = pool_factor[t]
        cf = community_factor[t]
        sp = spill[t]
        for g in range(n_g):
            s = share[t, g]
            w = f * s
            if s != 0.0:
                pooled[g] += pl_t[t] * s
                spilled[g] += sp * s
            if has_comp:
                c = comp[t, g]
                community[g] += cm_t[t] * c
                w += cf * c
            share[t, g] = w
    table[:, _POOLED] = pooled
    table[:, _COMMUNITY] = community
    table[:, _SPILLED] = spilled
    ledger += np.dot(share.T, residual.T)


@nb.njit(**_JIT)
def _pool_and_sums_small(residual, pool_factor, community_factor, spill, share, comp,
                         ledger, table, sums):
    """:func:`_pool_and_sums_sparse` for a small ledger, to the same bits.

    Each hour every consumer is visited, without gathering the ones drawing
    on the pool into a list: a consumer not drawing (pooled and community
    energy both <= 0) gets the exact zero 0 x share, which leaves its ledger
    entry unchanged (entries are never -0), so each entry receives the sparse
    loop's terms in the same order. Sources with no share are skipped, as in
    the sparse loop. The ledger and the consumer sums are kept in local
    contiguous arrays (a few KiB) and written back at the end. ``comp`` of
    shape (0, 0): no community battery.
    """
    n_r, n_t = residual.shape
    n_g = share.shape[1]
    has_comp = comp.shape[0] > 0
    pls = np.empty(n_r)
    cms = np.empty(n_r)
    led = ledger.copy()
    acc = np.empty((3, n_r))
    for i in range(3):
        for r in range(n_r):
            acc[i, r] = sums[i, r]
    pooled = table[:, _POOLED].copy()
    community = table[:, _COMMUNITY].copy()
    spilled = table[:, _SPILLED].copy()
    for t in range(n_t):
        f = pool_factor[t]
        cf = community_factor[t]
        pl_t = 0.0
        cm_t = 0.0
        drawing = False
        for r in range(n_r):
            pl, cm, gr = split_residual(residual[r, t], f, cf)
            acc[0, r] += pl
            acc[1, r] += cm
            acc[2, r] += gr
            pl_t += pl
            cm_t += cm
            if pl > 0.0 or cm > 0.0:
                pls[r] = pl
                cms[r] = cm
                drawing = True
            else:  # not visited by the sparse loop: an exact zero term
                pls[r] = 0.0
                cms[r] = 0.0
        if drawing:
            for g in range(n_g):
                s = share[t, g]
                lg = led[g]
                if has_comp:
                    c = comp[t, g]
                    if s != 0.0 or c != 0.0:
                        for r in range(n_r):
                            lg[r] += pls[r] * s + cms[r] * c
                elif s != 0.0:
                    for r in range(n_r):
                        lg[r] += pls[r] * s
        sp = spill[t]
        for g in range(n_g):
            s = share[t, g]
            if s != 0.0:  # the skipped terms add exact zeros
                pooled[g] += pl_t * s
                spilled[g] += sp * s
            if has_comp:
                community[g] += cm_t * comp[t, g]
    ledger[:, :] = led
    for i in range(3):
        for r in range(n_r):
            sums[i, r] = acc[i, r]
    table[:, _POOLED] = pooled
    table[:, _COMMUNITY] = community
    table[:, _SPILLED] = spilled


@nb.njit(**_JIT)
def _pool_and_sums_sparse(residual, pool_factor, community_factor, spill, share, comp,
                          ledger, table, sums):
    """Pooled and community energy of each consumer by source (ledger), the
    ``pooled``, ``community``, ``spilled`` columns, and each consumer's annual
    pooled, community and grid energy added to ``sums`` (3, R) [kWh]
    (:func:`sim.core.kernel.split_residual`, as phase 3 of the kernel).

    Each hour touches only the consumers that draw on the pool and the sources
    with a non-zero share of it (most rooftop PV exports nothing in most hours):
    the skipped terms are exact zeros, so the ledger is the same to the bit as
    the full hours x consumers x generators loop, in a fraction of the time.
    ``comp`` of shape (0, 0): no community battery (its terms are zeros).
    """
    n_r, n_t = residual.shape
    n_g = share.shape[1]
    has_comp = comp.shape[0] > 0
    rows = np.empty(n_r, dtype=np.int64)
    pls = np.empty(n_r)
    cms = np.empty(n_r)
    gens = np.empty(n_g, dtype=np.int64)
    # the columns summed hour by hour in local arrays (the same order and bits
    # as adding to ``table`` in place, without a store per generator-hour)
    pooled = table[:, _POOLED].copy()
    community = table[:, _COMMUNITY].copy()
    spilled = table[:, _SPILLED].copy()
    for t in range(n_t):
        f = pool_factor[t]
        cf = community_factor[t]
        pl_t = 0.0
        cm_t = 0.0
        n_rows = 0
        for r in range(n_r):
            pl, cm, gr = split_residual(residual[r, t], f, cf)
            sums[0, r] += pl
            sums[1, r] += cm
            sums[2, r] += gr
            pl_t += pl
            cm_t += cm
            if pl > 0.0 or cm > 0.0:
                rows[n_rows] = r
                pls[n_rows] = pl
                cms[n_rows] = cm
                n_rows += 1
        n_gens = 0
        if n_rows > 0:
            for g in range(n_g):
                if share[t, g] != 0.0 or (has_comp and comp[t, g] != 0.0):
                    gens[n_gens] = g
                    n_gens += 1
        # g outer, consumers inner: one ledger row (R,) stays in cache; when every
        # consumer draws, a contiguous loop (rows[i] == i) the compiler vectorises
        dense = n_rows == n_r
        for j in range(n_gens):
            g = gens[j]
            s = share[t, g]
            lg = ledger[g]
            if has_comp:
                c = comp[t, g]
                if dense:
                    for i in range(n_r):
                        lg[i] += pls[i] * s + cms[i] * c
                else:
                    for i in range(n_rows):
                        lg[rows[i]] += pls[i] * s + cms[i] * c
            elif dense:
                for i in range(n_r):
                    lg[i] += pls[i] * s
            else:
                for i in range(n_rows):
                    lg[rows[i]] += pls[i] * s
        sp = spill[t]
        for g in range(n_g):
            s = share[t, g]
            if s != 0.0:  # the skipped terms add exact zeros
                pooled[g] += pl_t * s
                spilled[g] += sp * s
            if has_comp:
                community[g] += cm_t * comp[t, g]
    table[:, _POOLED] = pooled
    table[:, _COMMUNITY] = community
    table[:, _SPILLED] = spilled


@nb.njit(**_JIT)
def run_case(demand_gross, generation, site_index, site_gens, site_ptr,
             demand_factor, gen_scale, battery_kwh, battery_kw, community_kwh,
             community_kw, must_run_kw, sqrt_eta, soc_initial, share_onsite_surplus,
             consumer_out, region_out, ledger, table, totals):
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
    table : (G, 11) out, per generator balance (:data:`TABLE_FIELDS`)
    totals : (5,) out, attribution totals (:data:`TOTAL_FIELDS`)
    """
    n_g, n_t = generation.shape
    rt, share, hours = _workspace(demand_gross.shape[0], n_g, n_t)
    _run_case_in(rt, share, hours, demand_gross, generation, site_index, site_gens,
                 site_ptr, demand_factor, gen_scale, battery_kwh, battery_kw, community_kwh,
                 community_kw, must_run_kw, sqrt_eta, soc_initial, share_onsite_surplus,
                 consumer_out, region_out, ledger, table, totals, False, False,
                 np.empty((0, 0)), np.empty((0, 0)), np.empty((0, 0)), np.empty(0),
                 np.empty((0, 0)))


#: hourly (T,) work series of one case: 12 of the region, 7 of the consumer in hand
_N_HOURS = 19


@nb.njit(**_JIT)
def _workspace(n_r, n_g, n_t):
    """Work buffers of one case: the (R, T) residuals (phase 1 to phase 3), the
    (T, G) pool shares and the (T,) hourly series. Everything else of a
    consumer is computed, used and reduced while its row is in hand."""
    return np.empty((n_r, n_t)), np.empty((n_t, n_g)), np.empty((_N_HOURS, n_t))


@nb.njit(**_JIT)
def _run_case_in(residual, share, hours, demand_gross, generation, site_index, site_gens,
                 site_ptr, demand_factor, gen_scale, battery_kwh, battery_kw, community_kwh,
                 community_kw, must_run_kw, sqrt_eta, soc_initial, share_onsite_surplus,
                 consumer_out, region_out, ledger, table, totals, reuse, save, saved_src,
                 saved_ledger, saved_table, saved_totals, saved_consumer):
    """:func:`run_case` in the work buffers of :func:`_workspace` (overwritten).

    The on-site phase (phase 1) depends only on the case's on-site inputs
    (:func:`onsite_groups`). ``save``: keep its results in the ``saved_*``
    buffers: the pool sources ``saved_src`` (T, G), ``saved_ledger`` (G, R),
    ``saved_table`` (G, 11), ``saved_totals`` (5,), ``saved_consumer`` (6, R).
    ``reuse``: the previous case run in these buffers had the same on-site
    inputs; take phase 1 from the ``saved_*`` buffers, and the residuals and
    the hourly export and residual sums from the work buffers, where it left
    them (phases 2 and 3 only read them).
    """
    (offsite, must_run, sum_export, sum_residual, pool, pool_factor,
     community_factor, community_charge, community_discharge, community_soc, spill) = (
        hours[0], hours[1], hours[2], hours[3], hours[4], hours[5], hours[6], hours[7],
        hours[8], hours[9], hours[10])
    if reuse:
        ledger[:, :] = saved_ledger
        table[:, :] = saved_table
        totals[:] = saved_totals
        consumer_out[0:6] = saved_consumer
        consumer_out[6:9] = 0.0
        share[:, :] = saved_src
        _supply_and_sources(generation, gen_scale, site_index, offsite, share, table, False)
    else:
        ledger[:, :] = 0.0
        table[:, :] = 0.0
        totals[:] = 0.0
        _supply_and_sources(generation, gen_scale, site_index, offsite, share, table, True)
        _onsite_phase(hours, residual, share, demand_gross, generation, site_gens, site_ptr,
                      demand_factor, gen_scale, battery_kwh, battery_kw, sqrt_eta,
                      soc_initial, share_onsite_surplus, consumer_out, ledger, table, totals)
        if save:
            saved_src[:, :] = share
            saved_ledger[:, :] = ledger
            saved_table[:, :] = table
            saved_totals[:] = totals
            saved_consumer[:, :] = consumer_out[0:6]
    must_run[:] = must_run_kw
    pool_hours(sum_export, sum_residual, offsite, must_run, share_onsite_surplus,
               community_kwh, community_kw, sqrt_eta, soc_initial * community_kwh,
               pool, pool_factor, community_factor, community_charge,
               community_discharge, community_soc, spill)
    _region_sums(offsite, pool, spill, community_charge, community_discharge, must_run,
                 region_out)
    _pool_share(share)
    comp = _community_battery(community_charge, community_discharge, share, sqrt_eta,
                              soc_initial * community_kwh, table, totals)
    _pool_and_sums(residual, pool_factor, community_factor, spill, share, comp, ledger,
                   table, consumer_out[6:9])


@nb.njit(**_JIT)
def _supply_and_sources(generation, gen_scale, site_index, offsite, src, table, onsite_cols):
    """Off-site output summed into ``offsite`` (T,), each generator's annual output
    into ``table``, and ``src`` (T, G) the pool inflow by source: the off-site
    generators' output, zeros elsewhere (on-site exports are added per consumer)
    [kWh]. Outputs are the profiles times each generator's scale. With
    ``onsite_cols`` False the on-site columns of ``src`` are left as they are
    (a case reusing its group's on-site phase has its exports there).

    Hour by hour, so that ``src`` is written row by row; each generator's
    annual sum and each hour's off-site sum are added in the same order as
    generator by generator (the same bits).
    """
    n_g, n_t = generation.shape
    acc = np.zeros(n_g)
    for t in range(n_t):
        o = 0.0
        for g in range(n_g):
            x = generation[g, t] * gen_scale[g]
            acc[g] += x
            if site_index[g] < 0:
                o += x
                src[t, g] = x
            elif onsite_cols:
                src[t, g] = 0.0
        offsite[t] = o
    for g in range(n_g):
        table[g, _GENERATED] = acc[g]


@nb.njit(**_JIT)
def _onsite_phase(hours, residual, src, demand_gross, generation, site_gens, site_ptr,
                  demand_factor, gen_scale, battery_kwh, battery_kw, sqrt_eta, soc_initial,
                  share_onsite_surplus, consumer_out, ledger, table, totals):
    """Phase 1 of the kernel (:func:`sim.core.kernel.onsite_row`) consumer by
    consumer, with everything of the consumer done while its row is in hand:
    its annual sums (:data:`CONSUMER_FIELDS` up to ``export``), its on-site
    generators' split of direct use, charge and export (exports into the pool
    sources ``src`` (T, G)), its battery traced by generator, and its residual
    kept in ``residual`` (R, T) for phase 3."""
    sum_export, sum_residual = hours[2], hours[3]
    demand, onsite, direct, charge, discharge, export, soc = (
        hours[12], hours[13], hours[14], hours[15], hours[16], hours[17], hours[18])
    sum_export[:] = 0.0
    sum_residual[:] = 0.0
    n_r, n_t = demand_gross.shape
    for r in range(n_r):
        f = demand_factor[r]
        for t in range(n_t):
            demand[t] = demand_gross[r, t] * f
            onsite[t] = 0.0
        gens = site_gens[site_ptr[r]:site_ptr[r + 1]]
        for j in range(gens.shape[0]):  # in generator order, as the kernel sums
            g = gens[j]
            s = gen_scale[g]
            for t in range(n_t):
                onsite[t] += generation[g, t] * s
        s0 = soc_initial * battery_kwh[r]
        _onsite(demand, onsite, battery_kwh[r], battery_kw[r], sqrt_eta, s0, direct,
                charge, discharge, export, residual[r], soc, sum_export, sum_residual)
        a = np.zeros(6)
        for t in range(n_t):
            a[0] += demand[t]
            a[1] += onsite[t]
            a[2] += direct[t]
            a[3] += charge[t]
            a[4] += discharge[t]
            a[5] += export[t]
        for i in range(6):
            consumer_out[i, r] = a[i]
        for i in range(6, 9):  # pooled, community, grid: summed in phase 3
            consumer_out[i, r] = 0.0
        frac, in_g = _onsite_split(generation, gen_scale, gens, onsite, direct, charge,
                                   export, share_onsite_surplus, src,
                                   table)
        _onsite_battery(gens, frac, in_g, charge, discharge, sqrt_eta, s0, table, totals)
        for j in range(gens.shape[0]):
            g = gens[j]
            ledger[g, r] += table[g, _DIRECT] + table[g, _BATTERY]


@nb.njit(**_JIT)
def _region_sums(offsite, pool, spill, community_charge, community_discharge, must_run,
                 region_out):
    """Annual sums of the region (:data:`REGION_FIELDS`)."""
    tot = np.zeros(6)
    for t in range(offsite.shape[0]):
        tot[0] += offsite[t]
        tot[1] += pool[t]
        tot[2] += spill[t]
        tot[3] += community_charge[t]
        tot[4] += community_discharge[t]
        tot[5] += must_run[t]
    for i in range(6):
        region_out[i] = tot[i]


@nb.njit(parallel=True, **_JIT)
def batch_kernel(demand_gross, generation, site_index, site_gens, site_ptr,
                 demand_factor, gen_scale, battery_kwh, battery_kw, community_kwh,
                 community_kw, must_run_kw, sqrt_eta, soc_initial, share_onsite_surplus,
                 consumer_out, region_out, ledger, table, totals, ws_residual, ws_share,
                 ws_hours, order, group, ws_src):
    """:func:`run_case` for C cases, parallel over spans of cases (``prange``; one
    span per thread, each with its own work buffers).

    Per-case arguments carry a leading case axis: ``demand_factor, battery_kwh,
    battery_kw`` (C, R), ``gen_scale`` (C, G), ``community_kwh, community_kw,
    must_run_kw, sqrt_eta`` (C,); outputs ``consumer_out`` (C, 9, R),
    ``region_out`` (C, 6), ``ledger`` (C, G, R), ``table`` (C, G, 11),
    ``totals`` (C, 5). Work buffers, one per span (their first axis, the
    number of spans): ``ws_residual`` (S, R, T), ``ws_share`` (S, T, G),
    ``ws_hours`` (S, 19, T), reused from case to case and from call to call.

    Cases run in the order ``order`` (C,), which keeps cases of the same
    on-site group ``group`` (C,) (:func:`onsite_groups`) together: within a
    span, a case whose group is the previous case's skips the on-site phase
    and takes its results from the span's copy in ``ws_src`` (S, T, G) and
    small buffers. ``ws_src`` of shape (S, 0, 0): no case shares its group.
    """
    # One contiguous span of cases per thread (cases cost the same, so spans stay even).
    n_c = demand_factor.shape[0]
    n_spans = ws_residual.shape[0]
    n_g, n_r = ledger.shape[1], ledger.shape[2]
    keep = ws_src.shape[1] > 0
    for k in nb.prange(n_spans):
        kg = n_g if keep else 0  # the span's copy of its group's phase 1
        saved_ledger = np.empty((kg, n_r))
        saved_table = np.empty((kg, table.shape[2]))
        saved_totals = np.empty(totals.shape[1])
        saved_consumer = np.empty((6 if keep else 0, n_r))
        start, end = k * n_c // n_spans, (k + 1) * n_c // n_spans
        for i in range(start, end):
            c = order[i]
            reuse = keep and i > start and group[order[i - 1]] == group[c]
            save = keep and not reuse and i + 1 < end and group[order[i + 1]] == group[c]
            _run_case_in(ws_residual[k], ws_share[k], ws_hours[k], demand_gross, generation,
                         site_index, site_gens, site_ptr, demand_factor[c], gen_scale[c],
                         battery_kwh[c], battery_kw[c], community_kwh[c], community_kw[c],
                         must_run_kw[c], sqrt_eta[c], soc_initial, share_onsite_surplus,
                         consumer_out[c], region_out[c], ledger[c], table[c], totals[c],
                         reuse, save, ws_src[k], saved_ledger, saved_table, saved_totals,
                         saved_consumer)


#: work buffers kept between calls of :func:`run_batch`, per Python thread (two
#: threads of a Dask worker must not share them): the last shape only
_BUFFERS = threading.local()


def work_buffers(n_spans: int, n_r: int, n_g: int, n_t: int) -> tuple:
    """The kernel's work buffers for ``n_spans`` threads, kept from call to call.

    Fresh pages cost this kind of machine about a second per GB on first
    touch (a thousand consumers' buffers are ~140 MB per thread), more than
    the matching itself; a caller running many small batches (an optimizer)
    reuses them. Only the last shape is kept; :func:`release_buffers` frees it.
    """
    key = (n_spans, n_r, n_g, n_t)
    if getattr(_BUFFERS, "key", None) != key:
        _BUFFERS.key, _BUFFERS.arrays = None, None  # the old ones freed first
        _BUFFERS.arrays = (np.empty((n_spans, n_r, n_t)), np.empty((n_spans, n_t, n_g)),
                           np.empty((n_spans, _N_HOURS, n_t)))
        _BUFFERS.key = key
    return _BUFFERS.arrays


def source_buffers(n_spans: int, n_g: int, n_t: int) -> np.ndarray:
    """Each span's copy of its on-site group's pool sources after phase 1,
    (S, T, G), kept from call to call like :func:`work_buffers` (only needed
    when cases share on-site groups; :func:`release_buffers` frees it)."""
    key = (n_spans, n_g, n_t)
    if getattr(_BUFFERS, "src_key", None) != key:
        _BUFFERS.src_key, _BUFFERS.src = None, None
        _BUFFERS.src = np.empty((n_spans, n_t, n_g))
        _BUFFERS.src_key = key
    return _BUFFERS.src


def release_buffers() -> None:
    """Free this thread's work buffers kept by :func:`work_buffers` and
    :func:`source_buffers`."""
    _BUFFERS.key, _BUFFERS.arrays = None, None
    _BUFFERS.src_key, _BUFFERS.src = None, None


def onsite_groups(site_index, demand_factor, gen_scale, battery_kwh, battery_kw,
                  sqrt_eta) -> tuple[np.ndarray, np.ndarray, int]:
    """Cases whose on-site phase is the same: one group per distinct set of
    on-site inputs, compared bit for bit.

    Phase 1 of a case (each consumer's own generation, battery, direct use,
    export and residual, and their attribution) depends only on the demand
    factors, the on-site generators' scales, the batteries and the
    efficiency: a sweep over off-site plants, the community battery, the
    must-run level or finance shares it between all its cases.

    Parameters
    ----------
    site_index : array (G,) int
    demand_factor, battery_kwh, battery_kw : arrays (C, R) [-], [kWh], [kW]
    gen_scale : array (C, G) [-]
    sqrt_eta : array (C,) [-]

    Returns
    -------
    group : ndarray (C,) int
        Group of each case (numbered by first appearance).
    order : ndarray (C,) int
        The cases with each group's cases together (stable: in case order
        within a group).
    n_groups : int
    """
    n_c = len(sqrt_eta)
    onsite = np.flatnonzero(np.asarray(site_index) >= 0)
    key = np.ascontiguousarray(np.concatenate(
        [demand_factor, gen_scale[:, onsite], battery_kwh, battery_kw,
         np.asarray(sqrt_eta, dtype=np.float64)[:, None]], axis=1), dtype=np.float64)
    # the bytes of each row: -0.0 and 0.0 (or two NaNs) are not merged
    rows = key.view(np.dtype((np.void, key.shape[1] * 8))).reshape(n_c)
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    group = rank[inverse.reshape(-1)]
    return group, np.argsort(group, kind="stable").astype(np.int64), len(first)


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
        (C, 6) in :data:`REGION_FIELDS` order, ``ledger`` (C, G, R), ``table``
        (C, G, 11) in :data:`TABLE_FIELDS` order, ``totals`` (C, 5) in
        :data:`TOTAL_FIELDS` order, all [kWh].
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
    table = np.empty((n_c, n_g, len(TABLE_FIELDS)))
    totals = np.empty((n_c, len(TOTAL_FIELDS)))
    if n_c:
        battery_kwh, battery_kw = f8(battery_kwh), f8(battery_kw)
        sqrt_eta = np.sqrt(f8(efficiency))
        group, order, n_groups = onsite_groups(site_index, demand_factor, gen_scale,
                                               battery_kwh, battery_kw, sqrt_eta)
        n_spans, n_t = min(n_c, nb.get_num_threads()), generation.shape[1]
        ws_residual, ws_share, ws_hours = work_buffers(n_spans, n_r, n_g, n_t)
        ws_src = (source_buffers(n_spans, n_g, n_t) if n_groups < n_c
                  else np.empty((n_spans, 0, 0)))
        batch_kernel(demand_gross, generation, site_index, site_gens, site_ptr,
                     demand_factor, gen_scale, battery_kwh, battery_kw,
                     f8(community_kwh), f8(community_kw), f8(must_run_kw),
                     sqrt_eta, float(soc_initial),
                     bool(share_onsite_surplus), consumer, region, ledger, table, totals,
                     ws_residual, ws_share, ws_hours, order, group, ws_src)
    return {"consumer": consumer, "region": region, "ledger": ledger, "table": table,
            "totals": totals}
