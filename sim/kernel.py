"""The numba matching kernels (design.md section 4), and nothing else.

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
   direct use, battery, export, residual;
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


@nb.njit(**_JIT)
def onsite_row(demand, onsite, e_cap, p_cap, sqrt_eta, soc0,
               direct, charge, discharge, export, residual, soc):
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
    """
    s = soc0
    for t in range(demand.shape[0]):
        d = demand[t]
        g = onsite[t]
        dr = d if d < g else g
        surplus = g - dr
        deficit = d - dr
        ch = 0.0
        dis = 0.0
        if e_cap > 0.0:
            room = (e_cap - s) / sqrt_eta
            ch = min(surplus, p_cap, room)
            if ch < 0.0:
                ch = 0.0
            s += ch * sqrt_eta
            dis = min(deficit, p_cap, s * sqrt_eta)
            if dis < 0.0:
                dis = 0.0
            s -= dis / sqrt_eta
            # Rounding can leave s a hair outside [0, E]; the energy flows
            # above are already exact, so only the state is snapped.
            if s < 0.0:
                s = 0.0
            elif s > e_cap:
                s = e_cap
        direct[t] = dr
        charge[t] = ch
        discharge[t] = dis
        export[t] = surplus - ch
        residual[t] = deficit - dis
        soc[t] = s


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


@nb.njit(parallel=True, **_JIT)
def match_kernel(demand, onsite, offsite, must_run, battery_kwh, battery_kw,
                 sqrt_eta, soc_initial, community_kwh, community_kw,
                 share_onsite_surplus,
                 direct, charge, discharge, export, pooled, community, grid, soc,
                 pool, community_charge, community_discharge, community_soc, spill):
    """The full hourly matching for R consumers and T hours (all outputs preallocated).

    Parameters
    ----------
    demand, onsite : 2-d arrays (R, T) [kWh], C-contiguous
    offsite, must_run : 1-d arrays (T,) [kWh]
    battery_kwh, battery_kw : 1-d arrays (R,) [kWh], [kW]
    sqrt_eta : float, square root of round-trip efficiency [-]
    soc_initial : float, initial state of charge as a share of capacity [-]
    community_kwh, community_kw : float [kWh], [kW]
    share_onsite_surplus : bool
    direct, charge, discharge, export, pooled, community, grid, soc :
        2-d arrays (R, T), out [kWh]
    pool, community_charge, community_discharge, community_soc, spill :
        1-d arrays (T,), out [kWh]
    """
    n_r, n_t = demand.shape
    # Phase 1: on-site, parallel over consumers. ``pooled`` holds the residual
    # until phase 3 turns it into the pooled energy, saving one (R, T) array.
    residual = pooled
    for r in nb.prange(n_r):
        onsite_row(demand[r], onsite[r], battery_kwh[r], battery_kw[r], sqrt_eta,
                   soc_initial * battery_kwh[r], direct[r], charge[r],
                   discharge[r], export[r], residual[r], soc[r])
    # Hourly sums, row by row so that memory is read in order.
    sum_export = np.zeros(n_t)
    sum_residual = np.zeros(n_t)
    for r in range(n_r):
        for t in range(n_t):
            sum_export[t] += export[r, t]
            sum_residual[t] += residual[r, t]
    # Phase 2: the pool and the community battery, hour by hour.
    pool_factor = np.empty(n_t)
    community_factor = np.empty(n_t)
    pool_hours(sum_export, sum_residual, offsite, must_run, share_onsite_surplus,
               community_kwh, community_kw, sqrt_eta, soc_initial * community_kwh,
               pool, pool_factor, community_factor, community_charge,
               community_discharge, community_soc, spill)
    # Phase 3: pooled, community and grid per consumer.
    for r in nb.prange(n_r):
        for t in range(n_t):
            res = residual[r, t]
            pl = res * pool_factor[t]
            cm = res * community_factor[t]
            g = res - pl - cm
            if g < 0.0:  # only ever -1 ulp from rounding
                g = 0.0
            pooled[r, t] = pl
            community[r, t] = cm
            grid[r, t] = g


def sqrt_efficiency(efficiency: float) -> float:
    """One-way efficiency of charge and of discharge: sqrt(round-trip) [-]."""
    return math.sqrt(efficiency)
