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
soc`` (``sim.match(outputs="compact")``). :func:`lazy_flows` wraps each other
flow as a lazily indexed array (xarray's backend-array interface, as for a
variable of a file opened with ``xarray.open_dataset``): reading
``result.hourly["grid"].values``, or a selection of consumers, computes just
those rows with the same compiled operations as the kernel (so the same
bits), in the calling thread, and keeps nothing. Why not dask arrays: a dask
collection is computed on whatever distributed client the process has open
(e.g. :func:`sim.core.blocks.simulate_blocks`'s), which would ship the (R, T)
inputs to its workers; ``Result.hourly.chunk()`` still gives dask arrays.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

from sim.core import kernel

#: below this many rows a flow is derived in the calling thread only
#: (:data:`sim.core.kernel.derive_rows_serial`)
SERIAL_ROWS = 64


def lazy_flows(demand: np.ndarray, onsite: np.ndarray, battery: dict,
               pool_factor: np.ndarray, community_factor: np.ndarray) -> dict:
    """Lazy (R, T) arrays of every flow in :data:`sim.core.kernel.DERIVED`.

    Parameters
    ----------
    demand, onsite : ndarray (R, T) [kWh], as given to ``sim.match``
    battery : dict
        ``sim.match(outputs="compact")["battery"]``: ``rows`` and the
        compact ``charge, discharge, export, residual, soc`` (B, T) [kWh].
    pool_factor, community_factor : ndarray (T,) [-]

    Returns
    -------
    dict of xarray.core.indexing.LazilyIndexedArray
        ``direct, charge, discharge, export, pooled, community, grid, soc``,
        each (R, T) in the dtype of ``demand`` [kWh], to wrap in an
        ``xarray.Variable``; they hold the arrays above by reference.
    """
    slot = np.full(demand.shape[0], -1, dtype=np.int64)
    slot[battery["rows"]] = np.arange(len(battery["rows"]))
    state = tuple(battery[n] for n in ("charge", "discharge", "export", "residual", "soc"))
    return {name: indexing.LazilyIndexedArray(
                DerivedFlow(code, demand, onsite, slot, state, pool_factor, community_factor))
            for code, name in enumerate(kernel.DERIVED)}


class DerivedFlow(BackendArray):
    """One per-consumer flow, computed for the rows indexed (see module doc)."""

    def __init__(self, code, demand, onsite, slot, state, pool_factor, community_factor):
        self.code = code
        self.shape = demand.shape
        self.dtype = demand.dtype
        self._args = (demand, onsite, slot, state, pool_factor, community_factor)

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(key, self.shape,
                                                  indexing.IndexingSupport.BASIC,
                                                  self._rows)

    def _rows(self, key: tuple) -> np.ndarray:
        """The flow for a basic index (slices or integers) of (consumer, time)."""
        rows, hours = (tuple(key) + (slice(None),) * 2)[:2]
        one = isinstance(rows, (int, np.integer))
        sel = slice(int(rows), int(rows) + 1) if one else rows
        start, stop, step = sel.indices(self.shape[0])
        if step == 1:
            out = self._span(start, max(start, stop))
        else:  # the covering span of rows, then every step-th of them
            idx = np.arange(start, stop, step)
            lo = int(idx.min()) if len(idx) else 0
            out = self._span(lo, int(idx.max()) + 1 if len(idx) else 0)[idx - lo]
        out = out[:, hours]
        return out[0] if one else out

    def _span(self, r0: int, r1: int, out: np.ndarray | None = None) -> np.ndarray:
        """Rows ``r0:r1`` of the flow, all hours (:func:`sim.core.kernel.derive_rows`),
        into ``out`` ((r1 - r0, T), the flow's dtype or float64) if given."""
        demand, onsite, slot, state, pf, cf = self._args
        if out is None:
            out = np.empty((max(0, r1 - r0), self.shape[1]), dtype=self.dtype)
        if out.dtype not in (self.dtype, np.float64):
            raise ValueError(f"out must be {self.dtype} or float64, not {out.dtype}")
        if r1 > r0:
            if out.dtype != self.dtype:   # float64 from float32: widened as written
                derive = kernel.derive_rows_float64
            elif r1 - r0 >= SERIAL_ROWS:
                derive = kernel.derive_rows
            else:
                derive = kernel.derive_rows_serial
            derive(self.code, demand[r0:r1], onsite[r0:r1], slot[r0:r1], *state, pf, cf, out)
        return out


def rows_into(variable: xr.Variable, start: int, stop: int, out: np.ndarray) -> np.ndarray:
    """Rows ``start:stop`` of an (R, T) variable, computed into ``out`` when derived.

    A derived flow read block after block into one reused buffer never asks
    the system for fresh memory (a new (2048, 8760) float32 block is 72 MB,
    which a virtual machine may take a quarter of a second to provide).

    Parameters
    ----------
    variable : xarray.Variable (consumer, time)
        A flow of :func:`lazy_flows` as wrapped by ``sim.simulate``, or any
        other (R, T) variable.
    start, stop : int, the consumer rows
    out : ndarray (stop - start, T), C-ordered
        In the variable's dtype, or float64 (a float32 flow is then computed
        in float32 and widened as written: the same values as ``astype``);
        written only for a derived flow.

    Returns
    -------
    ndarray (stop - start, T) [kWh]
        ``out`` for a derived flow; otherwise the variable's own rows
        (a view of a numpy-backed variable, nothing copied).
    """
    backend = _derived_backend(variable)
    if backend is None:
        return np.asarray(variable[start:stop].values)
    return backend._span(start, stop, out)


def _derived_backend(variable: xr.Variable) -> DerivedFlow | None:
    """The :class:`DerivedFlow` behind a variable not indexed since it was made."""
    data = getattr(variable, "_data", None)  # xarray keeps the lazy array there
    if not (isinstance(data, indexing.LazilyIndexedArray)
            and isinstance(data.array, DerivedFlow)):
        return None
    whole = all(isinstance(k, slice) and k.indices(n) == (0, n, 1)
                for k, n in zip(data.key.tuple, data.array.shape))
    return data.array if whole else None
