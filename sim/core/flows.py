"""Per-consumer hourly flows rebuilt on access from what the kernel kept.

Only a battery carries state from one hour to the next; every other flow of
a consumer follows from its demand, its on-site generation and two hourly
factors (docs/design.md section 4, :mod:`sim.core.kernel`):

* ``direct = min(demand, onsite)``; without a battery ``export = onsite -
  direct`` and ``residual = demand - direct``;
* ``pooled = residual * pool_factor``, ``community = residual *
  community_factor``, ``grid`` the rest.

So ``sim.simulate`` keeps ``demand``, ``onsite``, the factors and, for the
consumers with a battery only, their ``charge, discharge, export, residual,
soc`` (``sim.match(outputs="compact")``). :func:`lazy_flows` turns them into
dask arrays that compute each flow per block of consumers when read (the
same compiled operations as the kernel, so the same bits):
``result.hourly["grid"].values`` is a numpy array as before, and the eight
(R, T) flows are never held at once unless asked for.
"""

from __future__ import annotations

import functools
import uuid

import dask.array as da
import numpy as np

from sim.core import kernel

#: consumers per dask chunk of a derived flow (70 MB of float64 at 8760 h)
BLOCK_ROWS = 1_000


def lazy_flows(demand: np.ndarray, onsite: np.ndarray, battery: dict,
               pool_factor: np.ndarray, community_factor: np.ndarray,
               block_rows: int = BLOCK_ROWS) -> dict:
    """Dask arrays (R, T) of every flow in :data:`sim.core.kernel.DERIVED`.

    Parameters
    ----------
    demand, onsite : ndarray (R, T) [kWh], as given to ``sim.match``
    battery : dict
        ``sim.match(outputs="compact")["battery"]``: ``rows`` and the
        compact ``charge, discharge, export, residual, soc`` (B, T) [kWh].
    pool_factor, community_factor : ndarray (T,) [-]
    block_rows : int
        Consumers per chunk.

    Returns
    -------
    dict of dask.array.Array
        ``direct, charge, discharge, export, pooled, community, grid, soc``,
        each (R, T) in the dtype of ``demand`` [kWh]. Computing them reads
        the arrays above (held by reference, not copied).
    """
    n_r, n_t = demand.shape
    slot = np.full(n_r, -1, dtype=np.int64)
    slot[battery["rows"]] = np.arange(len(battery["rows"]))
    state = tuple(battery[n] for n in ("charge", "discharge", "export", "residual", "soc"))
    chunks = (tuple(_spans(n_r, block_rows)), (n_t,))
    return {name: _flow(code, demand, onsite, slot, state, pool_factor, community_factor,
                        chunks)
            for code, name in enumerate(kernel.DERIVED)}


def _spans(n, size):
    """Chunk sizes covering ``n`` rows, ``size`` at a time (at least one chunk)."""
    if n == 0:
        return [0]
    return [min(size, n - i) for i in range(0, n, size)]


def _flow(code, demand, onsite, slot, state, pool_factor, community_factor, chunks):
    """One flow as a dask array: a task per chunk of rows, no hashing of the
    (R, T) inputs (the graph is keyed by a fresh name)."""
    name = f"{kernel.DERIVED[code]}-{uuid.uuid4().hex}"
    # The arrays ride in a partial, so that dask never walks or hashes them.
    task = functools.partial(_block, code, demand, onsite, slot, state, pool_factor,
                             community_factor)
    dsk = {}
    r0 = 0
    for k, n in enumerate(chunks[0]):
        dsk[(name, k, 0)] = (task, r0, r0 + n)
        r0 += n
    return da.Array(dsk, name, chunks=chunks, dtype=demand.dtype)


def _block(code, demand, onsite, slot, state, pool_factor, community_factor, r0, r1):
    """Rows ``r0:r1`` of flow ``code`` (:func:`sim.core.kernel.derive_rows`)."""
    out = np.empty((r1 - r0, demand.shape[1]), dtype=demand.dtype)
    kernel.derive_rows(code, demand[r0:r1], onsite[r0:r1], slot[r0:r1], *state,
                       pool_factor, community_factor, out)
    return out
