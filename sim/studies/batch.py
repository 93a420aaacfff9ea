"""The compiled batch kernel of sweeps: many cases in one call, parallel over cases.

Profiles are computed once (:func:`sim.core.engine.build_inputs`); each case only
scales them: generator outputs by a factor per generator, demand by a factor
per consumer (savings), and sets batteries, the community battery, the
must-run level and the round-trip efficiency. For each case the kernel runs
the same njit building blocks as :func:`sim.match` (:func:`sim.core.kernel.onsite_row`
and :func:`sim.core.kernel.pool_hours`) on buffers private to that case, then
reduces the hours to annual figures and the generator × consumer ledger
before the buffers are dropped. Memory is therefore a few (consumer, time)
arrays per *thread*, never per case.

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
def _attribute(gen_s, site_index, site_gens, site_ptr, onsite, direct, charge,
               discharge, export, residual, pool_factor, community_factor, spill,
               community_charge, community_discharge, sqrt_eta, soc0_r, soc0_c,
               share_onsite_surplus, ledger, table, totals, src, share):
    """In-kernel equivalent of :func:`sim.core.accounting.attribute` for one case.

    Writes ``ledger`` (G, R), ``table`` (G, len(TABLE_FIELDS)) and ``totals``
    (len(TOTAL_FIELDS),) [kWh/yr]; ``src`` (G, T) and ``share`` (T, G) are
    work buffers (overwritten).
    """
    ledger[:, :] = 0.0
    table[:, :] = 0.0
    totals[:] = 0.0
    for g in range(gen_s.shape[0]):
        acc = 0.0
        for t in range(gen_s.shape[1]):
            acc += gen_s[g, t]
        table[g, _GENERATED] = acc
    _offsite_inflow(gen_s, site_index, src)
    for r in range(direct.shape[0]):
        gens = site_gens[site_ptr[r]:site_ptr[r + 1]]
        frac, in_g = _onsite_split(gen_s, gens, onsite[r], direct[r], charge[r], export[r],
                                   share_onsite_surplus, src, table)
        _onsite_battery(gens, frac, in_g, charge[r], discharge[r], sqrt_eta, soc0_r[r],
                        table, totals)
        for j in range(gens.shape[0]):
            g = gens[j]
            ledger[g, r] += table[g, _DIRECT] + table[g, _BATTERY]
    _pool_share(src, share)
    comp = _community_battery(community_charge, community_discharge, share, sqrt_eta,
                              soc0_c, table, totals)
    _pool_deliveries(residual, pool_factor, community_factor, spill, share, comp, ledger,
                     table)


@nb.njit(**_JIT)
def _offsite_inflow(gen_s, site_index, src):
    """``src`` (G, T): pool inflow by source with the off-site generators'
    output filled in, zeros elsewhere [kWh]."""
    n_g, n_t = gen_s.shape
    for g in range(n_g):
        off = site_index[g] < 0
        for t in range(n_t):
            src[g, t] = gen_s[g, t] if off else 0.0


@nb.njit(**_JIT)
def _onsite_split(gen_s, gens, onsite, direct, charge, export, share_onsite_surplus,
                  src, table):
    """One consumer's direct use, charge and export split by its generators ``gens``
    pro rata to their output in each hour; exports go to ``src`` (the pool) or to
    ``unshared_export``. Returns the (T, K) shares and the (K,) charge by generator."""
    n_t = onsite.shape[0]
    k = gens.shape[0]
    frac = np.zeros((n_t, k))
    in_g = np.zeros(k)
    for t in range(n_t):
        o = onsite[t]
        if o > 0.0:
            for j in range(k):
                w = gen_s[gens[j], t] / o
                frac[t, j] = w
                table[gens[j], _DIRECT] += direct[t] * w
                in_g[j] += charge[t] * w
                if share_onsite_surplus:
                    src[gens[j], t] = export[t] * w
                else:
                    table[gens[j], _UNSHARED] += export[t] * w
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
def _pool_share(src, share):
    """``share`` (T, G): each source's share of the pool in each hour [-] from
    ``src`` (G, T) [kWh]."""
    n_g, n_t = src.shape
    for t in range(n_t):
        p = 0.0
        for g in range(n_g):
            p += src[g, t]
        for g in range(n_g):
            share[t, g] = src[g, t] / p if p > 0.0 else 0.0


@nb.njit(**_JIT)
def _community_battery(community_charge, community_discharge, share, sqrt_eta, soc0_c,
                       table, totals):
    """The community battery charged at the pool's mix; returns the (T, G + 1) mix
    of its discharge (zeros (T, G) when it is unused)."""
    n_t, n_g = share.shape
    c_ch = 0.0
    c_dis = 0.0
    for t in range(n_t):
        c_ch += community_charge[t]
        c_dis += community_discharge[t]
    totals[_C_CHARGE] = c_ch
    totals[_C_DISCHARGE] = c_dis
    if not (c_ch > 0.0 or c_dis > 0.0):
        return np.zeros((n_t, n_g))
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
    ``pooled``, ``community``, ``spilled`` columns.

    Each hour touches only the consumers that draw on the pool and the sources
    with a non-zero share of it (most rooftop PV exports nothing in most hours):
    the skipped terms are exact zeros, so the ledger is the same to the bit as
    the full hours x consumers x generators loop, in a fraction of the time.
    """
    n_r, n_t = residual.shape
    n_g = share.shape[1]
    rows = np.empty(n_r, dtype=np.int64)
    pls = np.empty(n_r)
    cms = np.empty(n_r)
    gens = np.empty(n_g, dtype=np.int64)
    for t in range(n_t):
        f = pool_factor[t]
        cf = community_factor[t]
        pl_t = 0.0
        cm_t = 0.0
        n_rows = 0
        for r in range(n_r):
            res = residual[r, t]
            pl = res * f
            cm = res * cf
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
                if share[t, g] != 0.0 or comp[t, g] != 0.0:
                    gens[n_gens] = g
                    n_gens += 1
        # g outer, consumers inner: one ledger row (R,) stays in cache
        for j in range(n_gens):
            g = gens[j]
            s = share[t, g]
            c = comp[t, g]
            for i in range(n_rows):
                ledger[g, rows[i]] += pls[i] * s + cms[i] * c
        sp = spill[t]
        for g in range(n_g):
            table[g, _POOLED] += pl_t * share[t, g]
            table[g, _COMMUNITY] += cm_t * comp[t, g]
            table[g, _SPILLED] += sp * share[t, g]


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
    ws = _workspace(demand_gross.shape[0], n_g, n_t)
    _run_case_in(ws, demand_gross, generation, site_index, site_gens, site_ptr,
                 demand_factor, gen_scale, battery_kwh, battery_kw, community_kwh,
                 community_kw, must_run_kw, sqrt_eta, soc_initial, share_onsite_surplus,
                 consumer_out, region_out, ledger, table, totals)


@nb.njit(**_JIT)
def _workspace(n_r, n_g, n_t):
    """Work buffers of one case, reused by the next cases of the same thread:
    (R, T) ``demand, onsite, direct, charge, discharge, export, residual``,
    (G, T) ``gen_s, src``, (T, G) ``share``, twelve (T,) hourly series and (R,)
    initial states. Allocating them for every case cost page faults
    (~1,800 per demo case) that took as long as the matching itself."""
    rt = np.empty((7, n_r, n_t))
    gt = np.empty((2, n_g, n_t))
    share = np.empty((n_t, n_g))
    hours = np.empty((12, n_t))
    soc0 = np.empty(n_r)
    return rt, gt, share, hours, soc0


@nb.njit(**_JIT)
def _run_case_in(ws, demand_gross, generation, site_index, site_gens, site_ptr,
                 demand_factor, gen_scale, battery_kwh, battery_kw, community_kwh,
                 community_kw, must_run_kw, sqrt_eta, soc_initial, share_onsite_surplus,
                 consumer_out, region_out, ledger, table, totals):
    """:func:`run_case` in the work buffers ``ws`` (from :func:`_workspace`)."""
    rt, gt, share, hours, soc0_r = ws
    demand, onsite, direct, charge, discharge, export, residual = (
        rt[0], rt[1], rt[2], rt[3], rt[4], rt[5], rt[6])
    gen_s, src = gt[0], gt[1]
    (offsite, must_run, soc, sum_export, sum_residual, pool, pool_factor,
     community_factor, community_charge, community_discharge, community_soc, spill) = (
        hours[0], hours[1], hours[2], hours[3], hours[4], hours[5], hours[6], hours[7],
        hours[8], hours[9], hours[10], hours[11])
    _scaled_supply(generation, gen_scale, site_index, gen_s, onsite, offsite)
    n_r, n_t = demand_gross.shape
    for r in range(n_r):
        f = demand_factor[r]
        for t in range(n_t):
            demand[r, t] = demand_gross[r, t] * f
        soc0_r[r] = soc_initial * battery_kwh[r]
    _onsite_rows(demand, onsite, battery_kwh, battery_kw, sqrt_eta, soc0_r, direct,
                 charge, discharge, export, residual, soc, sum_export, sum_residual)
    must_run[:] = must_run_kw
    pool_hours(sum_export, sum_residual, offsite, must_run, share_onsite_surplus,
               community_kwh, community_kw, sqrt_eta, soc_initial * community_kwh,
               pool, pool_factor, community_factor, community_charge,
               community_discharge, community_soc, spill)
    _consumer_sums(demand, onsite, direct, charge, discharge, export, residual,
                   pool_factor, community_factor, consumer_out)
    _region_sums(offsite, pool, spill, community_charge, community_discharge, must_run,
                 region_out)
    _attribute(gen_s, site_index, site_gens, site_ptr, onsite, direct, charge, discharge,
               export, residual, pool_factor, community_factor, spill, community_charge,
               community_discharge, sqrt_eta, soc0_r, soc_initial * community_kwh,
               share_onsite_surplus, ledger, table, totals, src, share)


@nb.njit(**_JIT)
def _scaled_supply(generation, gen_scale, site_index, gen_s, onsite, offsite):
    """Generator outputs times their scale into ``gen_s`` (G, T), summed on site
    into ``onsite`` (R, T) and off site into ``offsite`` (T,) [kWh]."""
    n_g, n_t = generation.shape
    onsite[:, :] = 0.0
    offsite[:] = 0.0
    for g in range(n_g):
        s = gen_scale[g]
        r = site_index[g]
        for t in range(n_t):
            gen_s[g, t] = generation[g, t] * s
        if r >= 0:
            for t in range(n_t):
                onsite[r, t] += gen_s[g, t]
        else:
            for t in range(n_t):
                offsite[t] += gen_s[g, t]


@nb.njit(**_JIT)
def _onsite_rows(demand, onsite, battery_kwh, battery_kw, sqrt_eta, soc0, direct, charge,
                 discharge, export, residual, soc, sum_export, sum_residual):
    """Phase 1 of the kernel for every consumer (:func:`sim.core.kernel.onsite_row`)
    into (R, T) ``direct, charge, discharge, export, residual`` and the (T,) sums
    of export and residual [kWh] (``soc`` (T,) is scratch)."""
    sum_export[:] = 0.0
    sum_residual[:] = 0.0
    for r in range(demand.shape[0]):
        _onsite(demand[r], onsite[r], battery_kwh[r], battery_kw[r], sqrt_eta, soc0[r],
                direct[r], charge[r], discharge[r], export[r], residual[r], soc,
                sum_export, sum_residual)


@nb.njit(**_JIT)
def _consumer_sums(demand, onsite, direct, charge, discharge, export, residual,
                   pool_factor, community_factor, consumer_out):
    """Annual sums per consumer (:data:`CONSUMER_FIELDS`), with pooled, community and
    grid split as in phase 3 of the kernel."""
    n_r, n_t = demand.shape
    for r in range(n_r):
        a = np.zeros(9)
        for t in range(n_t):
            pl, cm, gr = split_residual(residual[r, t], pool_factor[t], community_factor[t])
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
                 consumer_out, region_out, ledger, table, totals, n_spans):
    """:func:`run_case` for C cases, parallel over ``n_spans`` spans of cases
    (``prange``; one per thread).

    Per-case arguments carry a leading case axis: ``demand_factor, battery_kwh,
    battery_kw`` (C, R), ``gen_scale`` (C, G), ``community_kwh, community_kw,
    must_run_kw, sqrt_eta`` (C,); outputs ``consumer_out`` (C, 9, R),
    ``region_out`` (C, 6), ``ledger`` (C, G, R), ``table`` (C, G, 11),
    ``totals`` (C, 5).
    """
    # One contiguous span of cases per thread, each with its own work buffers
    # reused from case to case (cases cost the same, so spans stay even).
    n_c = demand_factor.shape[0]
    n_g, n_t = generation.shape
    for k in nb.prange(n_spans):
        ws = _workspace(demand_gross.shape[0], n_g, n_t)
        for c in range(k * n_c // n_spans, (k + 1) * n_c // n_spans):
            _run_case_in(ws, demand_gross, generation, site_index, site_gens, site_ptr,
                         demand_factor[c], gen_scale[c], battery_kwh[c], battery_kw[c],
                         community_kwh[c], community_kw[c], must_run_kw[c], sqrt_eta[c],
                         soc_initial, share_onsite_surplus, consumer_out[c],
                         region_out[c], ledger[c], table[c], totals[c])


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
        batch_kernel(demand_gross, generation, site_index, site_gens, site_ptr,
                     demand_factor, gen_scale, f8(battery_kwh), f8(battery_kw),
                     f8(community_kwh), f8(community_kw), f8(must_run_kw),
                     np.sqrt(f8(efficiency)), float(soc_initial),
                     bool(share_onsite_surplus), consumer, region, ledger, table, totals,
                     min(n_c, nb.get_num_threads()))
    return {"consumer": consumer, "region": region, "ledger": ledger, "table": table,
            "totals": totals}
