"""The numba matching kernels (docs/design.md section 4), and nothing else.

Arrays in, arrays out: no Python objects inside, so that sweeps can call the
same compiled code many times, in parallel.

Why the kernel is split in three phases
---------------------------------------
The on-site steps of one consumer (direct use, own battery) do not depend on
any other consumer. Only the pool and the community battery couple consumers,
and they do so hour by hour through two sums (exports and residuals). The
pro-rata rules then make every consumer's pooled and community energy its
residual times an hourly factor:

* ``pooled[r, t]    = residual[r, t] * pool_factor[t]``
* ``community[r, t] = residual[r, t] * community_factor[t]``

So the kernel runs

1. per consumer (parallel, ``prange``), along its own contiguous row of hours:
   direct use, battery, export, residual, and the check that the inputs are
   finite and >= 0 (while they are read anyway);
2. per hour (sequential, scalar): the pool, the must-run cap, the allocation
   factor, the community battery;
3. per consumer (parallel): pooled, community and grid from the factors.

Every phase streams rows of ``(consumer, time)`` arrays in memory order.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_JIT = dict(nogil=True, cache=True)


#: Consumers per block in phase 1. Fixed (not tied to the thread count) so that
#: the hourly sums, added block by block, are the same bits on any machine.
ROWS_PER_BLOCK = 32
#: Hours per task when the per-block partial sums are reduced.
HOURS_PER_TASK = 512


@nb.njit(**_JIT)
def _battery_step(d, g, s, e_cap, p_cap, sqrt_eta, inv):
    """One hour of steps 1–3 with a battery: (direct, charge, discharge,
    export, residual, state of charge at the end of the hour)."""
    dr = d if d < g else g
    surplus = g - dr
    deficit = d - dr
    ch = min(surplus, p_cap, (e_cap - s) * inv)
    if ch < 0.0:
        ch = 0.0
    s += ch * sqrt_eta
    dis = min(deficit, p_cap, s * sqrt_eta)
    if dis < 0.0:
        dis = 0.0
    s -= dis * inv
    # Rounding can leave s a hair outside [0, E]; the energy flows
    # above are already exact, so only the state is snapped.
    if s < 0.0:
        s = 0.0
    elif s > e_cap:
        s = e_cap
    return dr, ch, dis, surplus - ch, deficit - dis, s


@nb.njit(**_JIT)
def _valid_pair(demand, onsite):
    """Both values finite and >= 0 (False for NaN, negatives and +inf alike)."""
    return (demand >= 0.0) & (demand < np.inf) & (onsite >= 0.0) & (onsite < np.inf)


@nb.njit(**_JIT)
def onsite_row(demand, onsite, e_cap, p_cap, sqrt_eta, soc0,
               direct, charge, discharge, export, residual, soc,
               sum_export, sum_residual):
    """Steps 1–3 for one consumer over all hours (writes into the out arrays).

    Parameters
    ----------
    demand, onsite : 1-d arrays (T,) [kWh]
    e_cap : float, battery energy capacity [kWh]
    p_cap : float, battery power limit [kW] (= kWh per hour)
    sqrt_eta : float, square root of the round-trip efficiency [-]
    soc0 : float, state of charge at the start of the first hour [kWh]
    direct, charge, discharge, export, residual, soc : 1-d arrays (T,), out
        ``soc`` is the state of charge at the end of each hour [kWh].
    sum_export, sum_residual : 1-d float64 arrays (T,), in/out
        This consumer's export and residual are added to them (the hourly
        sums of phase 2, accumulated while the row is still in cache).
    """
    # The same code as the kernel's own row loop (one copy of the rules); the
    # input check it also does is cheap and its answer is not needed here.
    _onsite_row_checked(demand, onsite, e_cap, p_cap, sqrt_eta, soc0, direct, charge,
                        discharge, export, residual, soc, sum_export, sum_residual, False)


@nb.njit(**_JIT)
def _onsite_row_checked(demand, onsite, e_cap, p_cap, sqrt_eta, soc0,
                        direct, charge, discharge, export, residual, soc,
                        sum_export, sum_residual, zeroed):
    """``onsite_row`` for ``match_kernel`` (the same values), returning
    whether every demand and on-site value of the row is finite and >= 0:
    checking them here, while they are read anyway, saves ``sim.match`` a
    separate pass over both inputs (about 7 % of the kernel's time at 10,000
    consumers). With ``zeroed`` (the
    caller has allocated ``charge``, ``discharge`` and ``soc`` with zeros), a
    row without a battery leaves them untouched: pages of fresh zeroed memory
    that are never written cost nothing.
    """
    n_t = demand.shape[0]
    good = True
    if e_cap > 0.0:
        # Multiplying by 1/sqrt(eta) instead of dividing shortens the chain
        # of dependent operations through ``s`` (a division is ~3x slower);
        # it changes results by at most an ulp.
        inv = 1.0 / sqrt_eta
        s = soc0
        for t in range(n_t):
            d = demand[t]
            g = onsite[t]
            good &= _valid_pair(d, g)
            dr, ch, dis, ex, re, s = _battery_step(d, g, s, e_cap, p_cap, sqrt_eta, inv)
            direct[t] = dr
            charge[t] = ch
            discharge[t] = dis
            export[t] = ex
            residual[t] = re
            soc[t] = s
            sum_export[t] += ex
            sum_residual[t] += re
    else:
        if not zeroed:
            for t in range(n_t):
                charge[t] = 0.0
                discharge[t] = 0.0
                soc[t] = 0.0
        for t in range(n_t):
            d = demand[t]
            g = onsite[t]
            good &= _valid_pair(d, g)
            dr = d if d < g else g
            ex = g - dr
            re = d - dr
            direct[t] = dr
            export[t] = ex
            residual[t] = re
            sum_export[t] += ex
            sum_residual[t] += re
    return good


@nb.njit(**_JIT)
def _onsite_pair_checked(d1, g1, e1, p1, s1, d2, g2, e2, p2, s2, sqrt_eta,
                         direct1, charge1, discharge1, export1, residual1, soc1,
                         direct2, charge2, discharge2, export2, residual2, soc2,
                         sum_export, sum_residual, held_export, held_residual):
    """``_onsite_row_checked`` for two consumers with a battery at once.

    Each hour advances both state-of-charge chains: they are independent, so
    the CPU overlaps their latencies (one battery row alone is bound by the
    chain of dependent operations through its state of charge). Each consumer
    goes through the same floating-point operations in the same order as in
    ``_onsite_row_checked``, so its outputs are the same bits. The first
    consumer's export and residual are added to the hourly sums; the second's
    are held in ``held_export``/``held_residual`` (float64) for the caller to
    add after any rows between the two, so that the sums are added in the same
    row order as one row at a time. Returns whether each row's inputs are
    finite and >= 0.
    """
    n_t = d1.shape[0]
    ok1 = True
    ok2 = True
    inv1 = 1.0 / sqrt_eta
    inv2 = 1.0 / sqrt_eta
    for t in range(n_t):
        a = d1[t]
        b = g1[t]
        c = d2[t]
        e = g2[t]
        ok1 &= _valid_pair(a, b)
        ok2 &= _valid_pair(c, e)
        dr1, ch1, dis1, ex1, re1, s1 = _battery_step(a, b, s1, e1, p1, sqrt_eta, inv1)
        dr2, ch2, dis2, ex2, re2, s2 = _battery_step(c, e, s2, e2, p2, sqrt_eta, inv2)
        direct1[t] = dr1
        charge1[t] = ch1
        discharge1[t] = dis1
        export1[t] = ex1
        residual1[t] = re1
        soc1[t] = s1
        direct2[t] = dr2
        charge2[t] = ch2
        discharge2[t] = dis2
        export2[t] = ex2
        residual2[t] = re2
        soc2[t] = s2
        sum_export[t] += ex1
        sum_residual[t] += re1
        held_export[t] = ex2
        held_residual[t] = re2
    return ok1, ok2


@nb.njit(**_JIT)
def _add_held(held_export, held_residual, sum_export, sum_residual):
    for t in range(sum_export.shape[0]):
        sum_export[t] += held_export[t]
        sum_residual[t] += held_residual[t]


#: columns of the per-consumer annual totals the kernel accumulates [kWh]
TOTALS = ("demand", "onsite", "direct", "charge", "discharge", "export", "pooled",
          "community", "grid")
#: index of each output in a block's scratch rows (one set per row of a pair)
_DIRECT, _CHARGE, _DISCHARGE, _EXPORT, _RESIDUAL, _SOC = range(6)
_N_SCRATCH = 6


@nb.njit(**_JIT)
def _total(x):
    """Sum of a row [kWh] in float64, eight running sums (rounding error
    ~T/8 ulp, like numpy's pairwise sum, instead of ~T ulp; vectorisable)."""
    n = x.shape[0]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    m = n - n % 8
    for t in range(0, m, 8):
        a0 += x[t]
        a1 += x[t + 1]
        a2 += x[t + 2]
        a3 += x[t + 3]
        a4 += x[t + 4]
        a5 += x[t + 5]
        a6 += x[t + 6]
        a7 += x[t + 7]
    s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    for t in range(m, n):
        s += x[t]
    return s


@nb.njit(**_JIT)
def _view(arr, scratch, k, r):
    """Row ``r`` of a kept (R, T) output, or scratch row ``k`` when the caller
    did not ask for that output (``arr`` then has no rows)."""
    if arr.shape[0] > 0:
        return arr[r]
    return scratch[k]


@nb.njit(**_JIT)
def _finish_row(r, slot, battery, demand, onsite, outs, scratch, pool_factor,
                community_factor, split, totals):
    """Annual totals of row ``r`` (its outputs still in cache) and, with
    ``split``, phase 3 for it: pooled, community and grid from its residual
    and the hourly factors (:func:`split_residual`)."""
    direct, charge, discharge, export, resid, _soc, pooled, community, grid = outs
    k = slot * _N_SCRATCH
    if totals.shape[1] > 0:  # no columns: the caller does not want the totals
        totals[r, 0] = _total(demand[r])
        totals[r, 1] = _total(onsite[r])
        totals[r, 2] = _total(_view(direct, scratch, k + _DIRECT, r))
        # Rows without a battery may leave scratch charge/discharge unwritten.
        totals[r, 3] = _total(_view(charge, scratch, k + _CHARGE, r)) if battery else 0.0
        totals[r, 4] = (_total(_view(discharge, scratch, k + _DISCHARGE, r)) if battery
                        else 0.0)
        totals[r, 5] = _total(_view(export, scratch, k + _EXPORT, r))
    if split:
        res = _view(resid, scratch, k + _RESIDUAL, r)
        # The residual row may be the pooled, community or grid row itself:
        # each hour reads it before writing the three.
        _split_row(res, pool_factor, community_factor,
                   _view(pooled, scratch, k + _DIRECT, r),
                   _view(community, scratch, k + _CHARGE, r),
                   _view(grid, scratch, k + _EXPORT, r), totals[r])


@nb.njit(**_JIT)
def _split_row(res, pool_factor, community_factor, pooled, community, grid, tot):
    """Phase 3 for one row; its pooled, community and grid sums into ``tot[6:9]``.
    ``pooled``, ``community``, ``grid`` may be scratch rows already read."""
    for t in range(res.shape[0]):
        pl, cm, g = split_residual(res[t], pool_factor[t], community_factor[t])
        pooled[t] = pl
        community[t] = cm
        grid[t] = g
    if tot.shape[0] > 0:
        tot[6] = _total(pooled)
        tot[7] = _total(community)
        tot[8] = _total(grid)


@nb.njit(**_JIT)
def _run_row(r, slot, demand, onsite, battery_kwh, battery_kw, sqrt_eta, soc_initial,
             outs, scratch, sum_export, sum_residual, zeroed):
    """``_onsite_row_checked`` for row ``r`` into its kept rows or scratch slot."""
    direct, charge, discharge, export, resid, soc = outs[:6]
    k = slot * _N_SCRATCH
    return _onsite_row_checked(
        demand[r], onsite[r], battery_kwh[r], battery_kw[r], sqrt_eta,
        soc_initial * battery_kwh[r], _view(direct, scratch, k + _DIRECT, r),
        _view(charge, scratch, k + _CHARGE, r), _view(discharge, scratch, k + _DISCHARGE, r),
        _view(export, scratch, k + _EXPORT, r), _view(resid, scratch, k + _RESIDUAL, r),
        _view(soc, scratch, k + _SOC, r), sum_export, sum_residual, zeroed)


@nb.njit(**_JIT)
def _run_pair(r, r2, demand, onsite, battery_kwh, battery_kw, sqrt_eta, soc_initial,
              outs, scratch, sum_export, sum_residual, held_export, held_residual):
    """``_onsite_pair_checked`` for rows ``r`` (scratch slot 0) and ``r2`` (slot 1)."""
    direct, charge, discharge, export, resid, soc = outs[:6]
    j = _N_SCRATCH
    return _onsite_pair_checked(
        demand[r], onsite[r], battery_kwh[r], battery_kw[r], soc_initial * battery_kwh[r],
        demand[r2], onsite[r2], battery_kwh[r2], battery_kw[r2],
        soc_initial * battery_kwh[r2], sqrt_eta,
        _view(direct, scratch, _DIRECT, r), _view(charge, scratch, _CHARGE, r),
        _view(discharge, scratch, _DISCHARGE, r), _view(export, scratch, _EXPORT, r),
        _view(resid, scratch, _RESIDUAL, r), _view(soc, scratch, _SOC, r),
        _view(direct, scratch, j + _DIRECT, r2), _view(charge, scratch, j + _CHARGE, r2),
        _view(discharge, scratch, j + _DISCHARGE, r2),
        _view(export, scratch, j + _EXPORT, r2), _view(resid, scratch, j + _RESIDUAL, r2),
        _view(soc, scratch, j + _SOC, r2),
        sum_export, sum_residual, held_export, held_residual)


@nb.njit(**_JIT)
def _onsite_block(b, n_blocks, demand, onsite, battery_kwh, battery_kw, sqrt_eta,
                  soc_initial, outs, sum_export, sum_residual, row_ok, zeroed,
                  pool_factor, community_factor, split, totals):
    """Phase 1 for the rows b, b + n_blocks, b + 2 n_blocks, ... of one block,
    their exports and residuals added to the block's partial sums in that row
    order; each row's annual totals and, with ``split``, its phase 3
    (:func:`_finish_row`). A row with a battery is paired with the block's
    next one (``_onsite_pair_checked``); the rows between them run alone,
    then the second row's held sums are added: the same order of additions,
    so the same bits, as one row at a time. Outputs the caller did not ask
    for go to this block's scratch rows (two sets, one per row of a pair)."""
    n_r, n_t = demand.shape
    held_export = np.empty(n_t)
    held_residual = np.empty(n_t)
    scratch = np.empty((2 * _N_SCRATCH, n_t), dtype=demand.dtype)
    r = np.int64(b)  # prange may pass an unsigned index
    while r < n_r:
        r2 = r
        if battery_kwh[r] > 0.0:
            r2 = r + n_blocks
            while r2 < n_r and not battery_kwh[r2] > 0.0:
                r2 += n_blocks
        if r2 == r or r2 >= n_r:
            row_ok[r] = _run_row(r, 0, demand, onsite, battery_kwh, battery_kw, sqrt_eta,
                                 soc_initial, outs, scratch, sum_export, sum_residual,
                                 zeroed)
            _finish_row(r, 0, battery_kwh[r] > 0.0, demand, onsite, outs, scratch,
                        pool_factor, community_factor, split, totals)
            r += n_blocks
            continue
        ok1, ok2 = _run_pair(r, r2, demand, onsite, battery_kwh, battery_kw, sqrt_eta,
                             soc_initial, outs, scratch, sum_export, sum_residual,
                             held_export, held_residual)
        row_ok[r] = ok1
        row_ok[r2] = ok2
        _finish_row(r, 0, True, demand, onsite, outs, scratch, pool_factor,
                    community_factor, split, totals)
        _finish_row(r2, 1, True, demand, onsite, outs, scratch, pool_factor,
                    community_factor, split, totals)
        for m in range(r + n_blocks, r2, n_blocks):
            row_ok[m] = _run_row(m, 0, demand, onsite, battery_kwh, battery_kw, sqrt_eta,
                                 soc_initial, outs, scratch, sum_export, sum_residual,
                                 zeroed)
            _finish_row(m, 0, battery_kwh[m] > 0.0, demand, onsite, outs, scratch,
                        pool_factor, community_factor, split, totals)
        _add_held(held_export, held_residual, sum_export, sum_residual)
        r = r2 + n_blocks


@nb.njit(**_JIT)
def pool_hours(sum_export, sum_residual, offsite, must_run, share_onsite_surplus,
               e_c, p_c, sqrt_eta, soc_c0,
               pool, pool_factor, community_factor, community_charge,
               community_discharge, community_soc, spill):
    """Steps 4–7 for every hour: pool, must-run cap, allocation, community battery.

    Parameters
    ----------
    sum_export, sum_residual, offsite, must_run : 1-d arrays (T,) [kWh]
    share_onsite_surplus : bool, whether consumers' exports join the pool
    e_c, p_c : float, community battery capacity [kWh] and power [kW]
    sqrt_eta : float, square root of the round-trip efficiency [-]
    soc_c0 : float, community state of charge at the start [kWh]
    pool, pool_factor, community_factor, community_charge,
    community_discharge, community_soc, spill : 1-d arrays (T,), out
        ``pool_factor[t]`` and ``community_factor[t]`` are the shares of each
        consumer's residual met by the pool and by the community battery.
    """
    s = soc_c0
    for t in range(offsite.shape[0]):
        res = sum_residual[t]
        p = offsite[t] + (sum_export[t] if share_onsite_surplus else 0.0)
        cap = res - must_run[t]
        if cap < 0.0:
            cap = 0.0
        deliver = p if p < cap else cap
        if deliver >= res:
            f = 1.0
            pooled = res
        else:
            f = deliver / res  # res > deliver >= 0 here
            pooled = deliver
        leftover = p - pooled
        ch = 0.0
        dis = 0.0
        if e_c > 0.0:
            room = (e_c - s) / sqrt_eta
            ch = min(leftover, p_c, room)
            if ch < 0.0:
                ch = 0.0
            s += ch * sqrt_eta
            remaining = res - pooled
            dis = min(remaining, p_c, s * sqrt_eta, cap - pooled)
            if dis < 0.0:
                dis = 0.0
            s -= dis / sqrt_eta
            if s < 0.0:
                s = 0.0
            elif s > e_c:
                s = e_c
        pool[t] = p
        pool_factor[t] = f
        community_factor[t] = dis / res if res > 0.0 else 0.0
        community_charge[t] = ch
        community_discharge[t] = dis
        community_soc[t] = s
        spill[t] = leftover - ch


@nb.njit(**_JIT)
def split_residual(residual, pool_factor, community_factor):
    """Steps 5–7 for one consumer-hour: its residual split pro rata [kWh].

    Returns ``pooled, community, grid``: the residual times the hour's pool
    and community factors (from :func:`pool_hours`), and what is left.
    """
    pooled = residual * pool_factor
    community = residual * community_factor
    grid = residual - pooled - community
    if grid < 0.0:  # only ever -1 ulp from rounding
        grid = 0.0
    return pooled, community, grid


@nb.njit(parallel=True, **_JIT)
def onsite_phase(demand, onsite, battery_kwh, battery_kw, sqrt_eta, soc_initial,
                 outs, row_ok, zeroed, pool_factor, community_factor, split, totals):
    """Phase 1 (and with ``split``, phase 3) for R consumers, parallel over blocks.

    Parameters
    ----------
    demand, onsite : 2-d arrays (R, T) [kWh], C-contiguous
    battery_kwh, battery_kw : 1-d arrays (R,) [kWh], [kW]
    sqrt_eta : float, square root of round-trip efficiency [-]
    soc_initial : float, initial state of charge as a share of capacity [-]
    outs : tuple of nine 2-d arrays, out
        ``direct, charge, discharge, export, residual, soc, pooled, community,
        grid``, each (R, T) [kWh] if kept, or with no rows if not (then the
        values live only in per-block scratch rows, for the totals).
        ``residual`` may be the same array as one of the last three.
    row_ok : 1-d bool array (R,), out
        Whether each consumer's demand and on-site values are all finite and >= 0.
    zeroed : bool
        Whether kept ``charge``, ``discharge`` and ``soc`` hold zeros on entry
        (then the rows of consumers without a battery are not written).
    pool_factor, community_factor : 1-d arrays (T,)
        The hourly factors of phase 2; used only with ``split``.
    split : bool
        Also run phase 3 on each row (the factors are known: a second pass
        that recomputes phase 1 instead of storing the residuals).
    totals : 2-d float64 array (R, len(TOTALS)) or (R, 0), out
        Annual totals of each consumer [kWh] (columns :data:`TOTALS`; the last
        three only with ``split``); with no columns, none are computed.

    Returns
    -------
    sum_export, sum_residual : 1-d float64 arrays (T,) [kWh]
        The hourly sums over consumers (the same bits on any thread count).
    """
    n_r, n_t = demand.shape
    # Block b holds rows b, b + n_blocks, b + 2 n_blocks, ...: rows with
    # batteries (dearer) are often listed together, and prange hands each
    # thread an equal span of blocks, so interleaving keeps the threads even.
    # Each block adds its exports and residuals to its own row of partial sums
    # while the consumer's row is still in cache, so that the (R, T) arrays
    # are not read a second time for the hourly sums.
    n_blocks = (n_r + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    part_export = np.zeros((n_blocks, n_t))
    part_residual = np.zeros((n_blocks, n_t))
    for b in nb.prange(n_blocks):
        _onsite_block(b, n_blocks, demand, onsite, battery_kwh, battery_kw, sqrt_eta,
                      soc_initial, outs, part_export[b], part_residual[b], row_ok, zeroed,
                      pool_factor, community_factor, split, totals)
    # Hourly sums: the block partials added in block order (deterministic),
    # parallel over spans of hours.
    sum_export = np.zeros(n_t)
    sum_residual = np.zeros(n_t)
    n_tasks = (n_t + HOURS_PER_TASK - 1) // HOURS_PER_TASK
    for k in nb.prange(n_tasks):
        t0 = k * HOURS_PER_TASK
        t1 = min(n_t, t0 + HOURS_PER_TASK)
        for b in range(n_blocks):
            for t in range(t0, t1):
                sum_export[t] += part_export[b, t]
                sum_residual[t] += part_residual[b, t]
    return sum_export, sum_residual


@nb.njit(parallel=True, **_JIT)
def split_phase(residual, pool_factor, community_factor, pooled, community, grid, totals):
    """Phase 3 from stored residuals: pooled, community and grid per consumer.

    ``residual`` (R, T) [kWh] may be the same array as ``pooled``,
    ``community`` or ``grid`` (each hour is read before it is written); an
    output with no rows is not kept (scratch). Their annual totals go to
    ``totals[:, 6:9]`` [kWh].
    """
    n_r, n_t = residual.shape
    n_chunks = (n_r + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    for c in nb.prange(n_chunks):
        scratch = np.empty((3, n_t), dtype=residual.dtype)
        for r in range(c * ROWS_PER_BLOCK, min(n_r, (c + 1) * ROWS_PER_BLOCK)):
            _split_row(residual[r], pool_factor, community_factor,
                       _view(pooled, scratch, 0, r), _view(community, scratch, 1, r),
                       _view(grid, scratch, 2, r), totals[r])


def match_kernel(demand, onsite, offsite, must_run, battery_kwh, battery_kw,
                 sqrt_eta, soc_initial, community_kwh, community_kw,
                 share_onsite_surplus, outs, hourly, row_ok, zeroed, totals):
    """The full hourly matching for R consumers and T hours (outputs preallocated).

    Phase 1 (:func:`onsite_phase`), phase 2 (:func:`pool_hours`), phase 3:
    from the stored residuals (:func:`split_phase`) when ``outs`` keeps a
    residual array, else by running phase 1 again with the factors (no
    (R, T) array at all: the annual totals only).

    Parameters
    ----------
    demand, onsite, offsite, must_run, battery_kwh, battery_kw, sqrt_eta,
    soc_initial, outs, row_ok, zeroed, totals :
        As in :func:`onsite_phase`.
    community_kwh, community_kw : float [kWh], [kW]
    share_onsite_surplus : bool
    hourly : dict of 1-d float64 arrays (T,), out
        ``pool, pool_factor, community_factor, community_charge,
        community_discharge, community_soc, spill`` [kWh; factors -].
    """
    pf = hourly["pool_factor"]
    cf = hourly["community_factor"]
    sum_export, sum_residual = onsite_phase(demand, onsite, battery_kwh, battery_kw,
                                            sqrt_eta, soc_initial, outs, row_ok, zeroed,
                                            pf, cf, False, totals)
    pool_hours(sum_export, sum_residual, offsite, must_run, share_onsite_surplus,
               community_kwh, community_kw, sqrt_eta, soc_initial * community_kwh,
               hourly["pool"], pf, cf, hourly["community_charge"],
               hourly["community_discharge"], hourly["community_soc"], hourly["spill"])
    residual = outs[4]
    if residual.shape[0] > 0:
        split_phase(residual, pf, cf, outs[6], outs[7], outs[8], totals)
    else:
        # Kept outputs of phase 1 get the same values again; ``zeroed`` since
        # phase 1 has written the zero rows already.
        onsite_phase(demand, onsite, battery_kwh, battery_kw, sqrt_eta, soc_initial,
                     outs, row_ok, True, pf, cf, True, totals)
    return sum_export, sum_residual


@nb.njit(parallel=True, **_JIT)
def battery_rows(demand, onsite, rows, battery_kwh, battery_kw, sqrt_eta, soc_initial,
                 charge, discharge, export, residual, soc):
    """Phase 1 for the consumers with a battery only, into compact arrays.

    Everything else a consumer's hourly flows need follows from its demand,
    on-site generation and the hourly factors (:func:`derive_rows`); only a
    battery carries state from hour to hour. Row ``i`` of each output is
    consumer ``rows[i]``; values are the same bits as :func:`onsite_phase`'s
    (the same row function), whatever the pairing there.

    Parameters
    ----------
    demand, onsite : 2-d arrays (R, T) [kWh]
    rows : 1-d int array (B,), the consumers with a battery
    battery_kwh, battery_kw : 1-d arrays (R,) [kWh], [kW]
    sqrt_eta : float [-]
    soc_initial : float, share of capacity [-]
    charge, discharge, export, residual, soc : 2-d arrays (B, T), out [kWh]
        In the dtype of ``demand`` (the kernel's stored values); ``export``
        and ``residual`` may have no rows (not kept).
    """
    n_b = rows.shape[0]
    n_t = demand.shape[1]
    n_chunks = (n_b + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    for c in nb.prange(n_chunks):
        # direct, and export and residual when not kept (no rows)
        scratch = np.empty((3, n_t), dtype=demand.dtype)
        sums = np.zeros((2, n_t))  # hourly sums this pass does not need
        for i in range(c * ROWS_PER_BLOCK, min(n_b, (c + 1) * ROWS_PER_BLOCK)):
            r = rows[i]
            _onsite_row_checked(demand[r], onsite[r], battery_kwh[r], battery_kw[r],
                                sqrt_eta, soc_initial * battery_kwh[r], scratch[0],
                                charge[i], discharge[i], _view(export, scratch, 1, i),
                                _view(residual, scratch, 2, i), soc[i], sums[0], sums[1],
                                False)


#: flows :func:`derive_rows` can rebuild, by code
DERIVED = ("direct", "charge", "discharge", "export", "pooled", "community", "grid", "soc")


@nb.njit(parallel=True, **_JIT)
def derive_rows(code, demand, onsite, slot, charge, discharge, export, residual, soc,
                pool_factor, community_factor, out):
    """One per-consumer flow for a block of consumers, rebuilt from the inputs.

    The same operations, in the same types, as the kernel (``_onsite_row_checked``
    for a row without a battery, :func:`split_residual`), so the same bits:
    ``direct = min(d, g)``; without a battery ``export = g - direct``,
    ``residual = d - direct`` and no charge, discharge or state; with one,
    those of :func:`battery_rows`; ``pooled, community, grid`` from the
    residual and the hourly factors.

    Parameters
    ----------
    code : int, index of the flow in :data:`DERIVED`
    demand, onsite : 2-d arrays (n, T) [kWh], the block's rows
    slot : 1-d int array (n,), each row's row in the compact arrays, -1 if none
    charge, discharge, export, residual, soc : 2-d arrays (B, T) [kWh]
        From :func:`battery_rows`; ``export`` and ``residual`` may have no
        rows when the arrays are float64 (then rebuilt from charge and
        discharge).
    pool_factor, community_factor : 1-d arrays (T,) [-]
    out : 2-d array (n, T), out [kWh]
    """
    for r in nb.prange(demand.shape[0]):
        _derive_one(code, r, demand, onsite, slot, charge, discharge, export, residual, soc,
                    pool_factor, community_factor, out[r])


@nb.njit(**_JIT)
def derive_rows_serial(code, demand, onsite, slot, charge, discharge, export, residual, soc,
                       pool_factor, community_factor, out):
    """:func:`derive_rows` in the calling thread only, for a few rows: a
    parallel region costs far more than one row (measured 8 ms a call on a
    busy 2-core machine against 10 µs serial), and an attribution reads rows
    one by one. A function of its own: numba's cache keys a compiled
    function by its Python function, not by ``parallel``."""
    for r in range(demand.shape[0]):
        _derive_one(code, r, demand, onsite, slot, charge, discharge, export, residual, soc,
                    pool_factor, community_factor, out[r])


@nb.njit(parallel=True, **_JIT)
def derive_rows_float64(code, demand, onsite, slot, charge, discharge, export, residual,
                        soc, pool_factor, community_factor, out):
    """:func:`derive_rows` into a float64 ``out`` whatever the inputs' dtype.

    Each row is computed in the inputs' dtype (so the same bits) and widened
    as it is written: a float32 flow read as float64 (for a matrix product)
    without a float32 block in between (one pass over memory instead of
    three; 72 MB less for a block of 2,048 consumers).
    """
    n_t = demand.shape[1]
    for r in nb.prange(demand.shape[0]):
        row = np.empty(n_t, dtype=demand.dtype)
        _derive_one(code, r, demand, onsite, slot, charge, discharge, export, residual, soc,
                    pool_factor, community_factor, row)
        for t in range(n_t):
            out[r, t] = row[t]


@nb.njit(**_JIT)
def _derive_one(code, r, demand, onsite, slot, charge, discharge, export, residual, soc,
                pool_factor, community_factor, out_row):
    """Row ``r`` of :func:`derive_rows`, into ``out_row``."""
    i = slot[r]
    if code == 1 or code == 2 or code == 7:
        _state_row(i, charge if code == 1 else (discharge if code == 2 else soc), out_row)
    else:
        _derive_row(code, demand[r], onsite[r], i, charge, discharge, export, residual,
                    pool_factor, community_factor, out_row)


@nb.njit(**_JIT)
def _state_row(i, src, out):
    """A battery flow's row: the compact row ``i``, or zeros without a battery."""
    if i < 0:
        out[:] = 0.0
    else:
        out[:] = src[i]


@nb.njit(**_JIT)
def _derive_row(code, d_row, g_row, i, charge, discharge, export, residual, pool_factor,
                community_factor, out):
    """``derive_rows`` for one consumer and a flow other than the battery's.
    Without kept ``export``/``residual`` rows (no rows: float64 runs), a
    battery row's are ``surplus - charge`` and ``deficit - discharge``, the
    kernel's own float64 operations (in float32 the kernel rounds its float64
    charge when storing it, so there they are kept)."""
    for t in range(d_row.shape[0]):
        d = d_row[t]
        g = g_row[t]
        dr = d if d < g else g
        if code == 0:
            out[t] = dr
        elif code == 3:
            if i < 0:
                out[t] = g - dr
            elif export.shape[0] > 0:
                out[t] = export[i, t]
            else:  # float64: the kernel's own subtraction, exactly
                out[t] = (g - dr) - charge[i, t]
        else:
            if i < 0:
                res = d - dr
            elif residual.shape[0] > 0:
                res = residual[i, t]
            else:
                res = (d - dr) - discharge[i, t]
            pl, cm, gr = split_residual(res, pool_factor[t], community_factor[t])
            out[t] = pl if code == 4 else (cm if code == 5 else gr)


@nb.njit(parallel=True, **_JIT)
def rows_valid(arr):
    """Whether every value of each row of a 2-d array is finite and >= 0.

    One parallel pass without temporaries (numpy's ``isfinite`` and ``min``
    would allocate an (R, T) mask and read the array twice); ``sim.match``
    only looks for the offending value when a row fails.
    """
    n_r, n_t = arr.shape
    ok = np.empty(n_r, dtype=np.bool_)
    for r in nb.prange(n_r):
        good = True
        for t in range(n_t):
            x = arr[r, t]
            # False for NaN, negative values and +inf alike.
            good &= (x >= 0.0) & (x < np.inf)
        ok[r] = good
    return ok


def sqrt_efficiency(efficiency: float) -> float:
    """One-way efficiency of charge and of discharge: sqrt(round-trip) [-]."""
    return math.sqrt(efficiency)
