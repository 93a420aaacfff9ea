"""``sim.match``: the array interface to the matching kernel (docs/design.md §3–4).

This is the one place that checks arrays and allocates the outputs before the
compiled kernel (:mod:`sim.core.kernel`) runs; everything that matches energy
(``simulate``, sweeps, the 2030–2050 study, verification) goes through it.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from sim.core import kernel
from sim.errors import InputError

#: per consumer and hour, shape (R, T) [kWh]; ``soc`` is the end-of-hour state
CONSUMER_OUTPUTS = ("demand", "onsite", "direct", "charge", "discharge", "export",
                    "pooled", "community", "grid", "soc")
#: per hour, shape (T,) [kWh]
HOURLY_OUTPUTS = ("offsite", "must_run", "pool", "spill", "community_charge",
                  "community_discharge", "community_soc")


#: consumer-hours from which ``match`` uses all threads by default
PARALLEL_MIN_CELLS = 2_000_000


def _as_array(name, value, shape, dtype, check=True):
    """``value`` as a C-contiguous array of ``shape`` and ``dtype``; with
    ``check``, also that its values are finite and >= 0."""
    if np.ndim(value) == 0:
        arr = np.full(shape, value, dtype=dtype)
    else:
        # No copy when the caller's array already has the dtype and C order.
        arr = np.ascontiguousarray(value, dtype=dtype)
    if arr.shape != shape:
        raise InputError(f"expected shape {shape}, got {arr.shape}", field=name)
    if check:
        _check_values(name, arr)
    return arr


def _check_values(name, arr):
    """Raise an InputError naming the first value of ``arr`` that is not
    finite and >= 0."""
    if arr.ndim == 2 and arr.size and kernel.rows_valid(arr).all():
        return  # the common case for large arrays: one compiled pass
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InputError(f"expected finite values, found {arr[tuple(bad)]} at index "
                         f"{tuple(int(i) for i in bad)}", field=name)
    if arr.size and arr.min() < 0:
        bad = np.argwhere(arr < 0)[0]
        raise InputError(f"expected values >= 0, found {arr[tuple(bad)]} at index "
                         f"{tuple(int(i) for i in bad)}", field=name)


#: outputs that are zero for the whole row of a consumer without a battery:
#: allocated with zeros (untouched pages of them cost no memory traffic) and
#: left unwritten for such consumers when ``match`` allocates them
ZERO_WITHOUT_BATTERY = ("charge", "discharge", "soc")


def _buffer(given, name, shape, dtype):
    """The caller's output array for ``name`` if given (checked), else a new one."""
    arr = given.get(name)
    if arr is None:
        if name in ZERO_WITHOUT_BATTERY:
            return np.zeros(shape, dtype=dtype)
        return np.empty(shape, dtype=dtype)
    if (not isinstance(arr, np.ndarray) or arr.shape != shape or arr.dtype != dtype
            or not arr.flags.c_contiguous or not arr.flags.writeable):
        raise InputError(f"expected a writeable C-contiguous {dtype} array of shape "
                         f"{shape}, got {getattr(arr, 'dtype', type(arr).__name__)} "
                         f"{getattr(arr, 'shape', '')}", field=f"out[{name!r}]")
    return arr


#: the per-consumer (R, T) outputs the kernel computes, in the kernel's order
KERNEL_OUTPUTS = ("direct", "charge", "discharge", "export", "pooled", "community",
                  "grid", "soc")
#: per hour, shape (T,): the shares of each consumer's residual met by the
#: pool and by the community battery (``pooled = residual * pool_factor``) [-]
FACTORS = ("pool_factor", "community_factor")
#: columns of ``match(...)["annual"]``: per-consumer annual totals [kWh]
ANNUAL_TOTALS = kernel.TOTALS
#: record type of ``match(...)["annual"]``: one float64 field per total [kWh]
ANNUAL_DTYPE = np.dtype([(name, np.float64) for name in ANNUAL_TOTALS])


def match(demand, onsite, offsite, *, battery_kwh=None, battery_kw=None,
          efficiency=0.9, soc_initial=0.0, community_kwh=0.0, community_kw=0.0,
          share_onsite_surplus=True, must_run=0.0, dtype=np.float64, out=None,
          parallel=None, outputs="hourly", annual=True):
    """Match renewable supply to demand hour by hour (docs/design.md section 4).

    Parameters
    ----------
    demand : array_like (R, T)
        Demand of each consumer after savings in each hour. [kWh]
    onsite : array_like (R, T)
        On-site renewable generation of each consumer. [kWh]
    offsite : array_like (T,)
        Off-site renewable generation feeding the regional pool. [kWh]
    battery_kwh, battery_kw : array_like (R,) or scalar, optional
        On-site battery energy capacity [kWh] and power limit [kW] of each
        consumer; none by default.
    efficiency : float, default 0.9
        Round-trip efficiency of every battery; charge and discharge each
        lose ``sqrt(efficiency)``. [-]
    soc_initial : float, default 0.0
        State of charge at the start of the first hour, as a share of each
        battery's capacity. [-]
    community_kwh, community_kw : float, default 0.0
        Community battery energy capacity [kWh] and power limit [kW].
    share_onsite_surplus : bool, default True
        Whether consumers' exports join the regional pool.
    must_run : float or array_like (T,), default 0.0
        Minimum output of the island's thermal units in each hour; the grid
        takes at most ``sum residual - must_run`` of renewable energy. [kWh]
    dtype : numpy dtype, default float64
        Storage type of the (R, T) arrays; float32 halves memory for large
        regions at about 7 significant digits.
    out : dict of numpy.ndarray, optional
        Arrays to write the outputs into instead of allocating new ones
        (sweeps and benchmarks that call ``match`` many times on the same
        shapes): any of the kept ``direct, charge, discharge, export,
        pooled, community, grid, soc`` as C-contiguous (R, T) arrays of
        ``dtype`` and ``pool, spill, community_charge, community_discharge,
        community_soc, pool_factor, community_factor`` as (T,) float64;
        missing names are allocated. The returned dict holds the same array
        objects. If ``demand`` or ``onsite`` hold a negative or non-finite
        value, the InputError comes after the kernel has run: these arrays
        are then overwritten with meaningless values.
    parallel : bool or None, default None
        Run the kernel on all numba threads (True) or on the calling thread
        only (False). None: all threads from ``PARALLEL_MIN_CELLS``
        consumer-hours on; below that, thread start-up and waiting for a busy
        core cost more than they save. Results are the same bits either way.
    outputs : "hourly", "annual", "compact" or list of str, default "hourly"
        Which per-consumer (R, T) outputs to allocate and return: all of
        them, none (annual totals and hourly series only: no (R, T) array is
        allocated, the kernel runs phase 1 twice instead), or the names
        listed (any of ``direct, charge, discharge, export, pooled,
        community, grid, soc``). "compact" is "annual" plus
        ``out["battery"]``: the rows of the consumers with a battery and
        their ``charge, discharge, export, residual, soc`` (B, T), from which
        :mod:`sim.core.flows` rebuilds every hourly flow. Every value
        returned is the same bits whatever the choice.
    annual : bool, default True
        Whether the kernel adds up each consumer's annual totals (returned as
        ``out["annual"]``). False saves callers that keep the hourly
        outputs and do not need the totals (e.g. with reused ``out``
        buffers) the pass over each finished row; not with
        ``outputs="annual"``.

    Returns
    -------
    dict of numpy.ndarray
        ``demand, onsite`` and the kept outputs of shape (R, T); ``offsite,
        must_run, pool, spill, community_charge, community_discharge,
        community_soc`` and the factors ``pool_factor, community_factor`` of
        shape (T,); ``annual`` (unless ``annual=False``): a record array (R,) of the annual totals of
        each consumer (fields :data:`ANNUAL_TOTALS`, e.g. ``out["annual"]["grid"]``). All in kWh
        (``soc`` is the state at the end of the hour; factors [-]). A
        consumer's ``pooled`` is its residual (``demand - direct -
        discharge``) times ``pool_factor``, its ``community`` the residual
        times ``community_factor``, and ``grid`` the rest.

    Raises
    ------
    sim.InputError
        For wrong shapes, negative or non-finite inputs, an efficiency or
        initial state of charge outside (0, 1] and [0, 1], or an unknown
        output name.
    """
    dtype = np.dtype(dtype)
    arrays = _checked_inputs(demand, onsite, offsite, must_run, battery_kwh, battery_kw,
                             dtype)
    _check_scalars(efficiency, soc_initial, community_kwh, community_kw)
    keep = _kept_outputs(outputs)
    if not annual and not keep:
        raise InputError("expected annual=True when no hourly output is kept "
                         "(the annual totals are then the only result)", field="annual")
    n_r, n_t = arrays["demand"].shape
    given = {} if out is None else out
    outs, hourly, zeroed = _allocate(given, keep, n_r, n_t, dtype)
    row_ok = np.empty(n_r, dtype=np.bool_)
    totals = np.zeros((n_r, len(ANNUAL_TOTALS) if annual else 0))
    with _threads(parallel, n_r * n_t):
        _run_kernel(arrays, efficiency, soc_initial, community_kwh, community_kw,
                    share_onsite_surplus, outs, hourly, row_ok, zeroed, totals)
    if not row_ok.all():
        # The outputs (and any ``out`` buffers) now hold meaningless values.
        _check_values("demand", arrays["demand"])
        _check_values("onsite", arrays["onsite"])
    kept = {name: outs[name] for name in KERNEL_OUTPUTS if name in keep}
    result = {"demand": arrays["demand"], "onsite": arrays["onsite"], **kept,
              "offsite": arrays["offsite"], "must_run": arrays["must_run"], **hourly}
    if annual:
        result["annual"] = totals.view(ANNUAL_DTYPE)[:, 0]
    if outputs == "compact":
        result["battery"] = _battery_state(arrays, efficiency, soc_initial)
    return result


#: per-consumer flows of the consumers with a battery, kept by ``outputs="compact"``
BATTERY_STATE = ("charge", "discharge", "export", "residual", "soc")


def _battery_state(arrays, efficiency, soc_initial) -> dict:
    """``match(outputs="compact")["battery"]``: ``rows`` (B,) int, the
    consumers with a battery, and their ``charge, discharge, export,
    residual, soc`` (B, T) [kWh] (:func:`sim.core.kernel.battery_rows`);
    in float64 ``export`` and ``residual`` have no rows (they follow from
    the others exactly, :func:`sim.core.kernel.derive_rows`)."""
    demand = arrays["demand"]
    n_t = demand.shape[1]
    rows = np.flatnonzero(arrays["battery_kwh"] > 0.0)
    # In float64, surplus - charge and deficit - discharge give export and
    # residual again to the bit (the kernel's own float64 operations on these
    # very values): they are not kept (no rows).
    derivable = ("export", "residual") if demand.dtype == np.float64 else ()
    state = {name: np.empty((0 if name in derivable else len(rows), n_t), dtype=demand.dtype)
             for name in BATTERY_STATE}
    if len(rows):
        kernel.battery_rows(demand, arrays["onsite"], rows, arrays["battery_kwh"],
                            arrays["battery_kw"], kernel.sqrt_efficiency(efficiency),
                            float(soc_initial), *(state[n] for n in BATTERY_STATE))
    return {"rows": rows, **state}


def _checked_inputs(demand, onsite, offsite, must_run, battery_kwh, battery_kw, dtype):
    """The array inputs as contiguous arrays of the kernel's types (shapes and
    the (T,)/(R,) values checked; the (R, T) values are checked by the kernel)."""
    demand_arr = np.asarray(demand)
    if demand_arr.ndim != 2:
        raise InputError(f"expected a 2-d array (consumer, time), got {demand_arr.ndim}-d",
                         field="demand")
    n_r, n_t = demand_arr.shape
    # The kernel checks the values of the two (R, T) inputs while it reads
    # them (one pass over memory instead of two); ``_check_values`` runs on
    # them only if it finds a bad row, to raise the error.
    return {
        "demand": _as_array("demand", demand_arr, (n_r, n_t), dtype, check=False),
        "onsite": _as_array("onsite", onsite, (n_r, n_t), dtype, check=False),
        "offsite": _as_array("offsite", offsite, (n_t,), np.float64),
        "must_run": _as_array("must_run", must_run, (n_t,), np.float64),
        "battery_kwh": _as_array("battery_kwh", 0.0 if battery_kwh is None else battery_kwh,
                                 (n_r,), np.float64),
        "battery_kw": _as_array("battery_kw", 0.0 if battery_kw is None else battery_kw,
                                (n_r,), np.float64),
    }


def _check_scalars(efficiency, soc_initial, community_kwh, community_kw):
    if not 0.0 < efficiency <= 1.0:
        raise InputError(f"expected a round-trip efficiency in (0, 1], got {efficiency}",
                         field="efficiency")
    if not 0.0 <= soc_initial <= 1.0:
        raise InputError(f"expected a share in [0, 1], got {soc_initial}",
                         field="soc_initial")
    for name, value in (("community_kwh", community_kwh), ("community_kw", community_kw)):
        if not (np.isfinite(value) and value >= 0):
            raise InputError(f"expected a number >= 0, got {value}", field=name)


def _kept_outputs(outputs) -> frozenset:
    """The (R, T) outputs to keep for ``match(outputs=...)``."""
    if isinstance(outputs, str):
        if outputs == "hourly":
            return frozenset(KERNEL_OUTPUTS)
        if outputs in ("annual", "compact"):
            return frozenset()
        raise InputError(f"expected 'hourly', 'annual', 'compact' or a list of output names, "
                         f"got {outputs!r}", field="outputs")
    names = list(outputs)
    unknown = [n for n in names if n not in KERNEL_OUTPUTS + ("demand", "onsite")]
    if unknown:
        raise InputError(f"expected names among {', '.join(KERNEL_OUTPUTS)}, got "
                         f"{unknown[0]!r}", field="outputs")
    return frozenset(n for n in names if n in KERNEL_OUTPUTS)


def _allocate(given, keep, n_r, n_t, dtype):
    """Output arrays for the kernel: kept (R, T) outputs (the caller's buffers
    or new), arrays without rows for the others, the residual holder, and the
    (T,) series. Returns ``(outs, hourly, zeroed)``."""
    extra = [n for n in given if n in KERNEL_OUTPUTS and n not in keep]
    if extra:
        raise InputError(f"an out buffer was given for {extra[0]!r}, which `outputs` "
                         f"does not keep", field=f"out[{extra[0]!r}]")
    none = np.empty((0, n_t), dtype=dtype)
    outs = {name: _buffer(given, name, (n_r, n_t), dtype) if name in keep else none
            for name in KERNEL_OUTPUTS}
    # Phase 3 reads the residual from the first kept of pooled, community and
    # grid and overwrites it; with none kept, it runs phase 1 again instead.
    holders = [outs[n] for n in ("pooled", "community", "grid") if n in keep]
    outs["residual"] = holders[0] if holders else none
    hourly = {name: _buffer(given, name, (n_t,), np.dtype(np.float64))
              for name in HOURLY_OUTPUTS + FACTORS if name not in ("offsite", "must_run")}
    zeroed = not any(name in given for name in ZERO_WITHOUT_BATTERY)
    return outs, hourly, zeroed


class _threads:
    """Context: run the kernel on all numba threads or on one (see ``match``)."""

    def __init__(self, parallel, cells):
        self.all = nb.get_num_threads()
        want = parallel or (parallel is None and cells >= PARALLEL_MIN_CELLS)
        self.use = self.all if want else 1

    def __enter__(self):
        if self.use != self.all:
            nb.set_num_threads(self.use)  # per calling thread in numba: safe when concurrent

    def __exit__(self, *exc):
        if self.use != self.all:
            nb.set_num_threads(self.all)


def _run_kernel(arrays, efficiency, soc_initial, community_kwh, community_kw,
                share_onsite_surplus, outs, hourly, row_ok, zeroed, totals):
    """The compiled kernel; an exception from bad inputs (a division by zero)
    is reported as the InputError naming them."""
    order = ("direct", "charge", "discharge", "export", "residual", "soc", "pooled",
             "community", "grid")
    try:
        kernel.match_kernel(
            arrays["demand"], arrays["onsite"], arrays["offsite"], arrays["must_run"],
            arrays["battery_kwh"], arrays["battery_kw"], kernel.sqrt_efficiency(efficiency),
            float(soc_initial), float(community_kwh), float(community_kw),
            bool(share_onsite_surplus), tuple(outs[n] for n in order), hourly, row_ok,
            bool(zeroed), totals)
    except Exception:
        _check_values("demand", arrays["demand"])
        _check_values("onsite", arrays["onsite"])
        raise
