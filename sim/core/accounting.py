"""Source attribution: which generator delivered each kWh to each consumer.

Every renewable kWh delivered by the kernel (docs/design.md section 4) is traced
back to the generators that produced it, pro rata:

* **direct use** at consumer *r* → *r*'s on-site generators, pro rata to their
  output in that hour (the surplus, the battery charge and the export of *r*
  have the same mix);
* **on-site battery discharge** → the generators that charged it, through a
  *running composition* of the battery's content (charge adds the hour's
  on-site mix, discharge takes from the content pro rata). With one on-site
  generator this is trivially that generator;
* **pooled** energy → each pool source's share of the pool in that hour: the
  off-site generators, and each consumer's export attributed to its on-site
  generators (when ``share_onsite_surplus`` is false, exports stay out of the
  pool and are reported as ``unshared_export``);
* **community battery discharge** → the running composition of what charged it
  (the hour's pool mix).

Battery losses and the energy still stored at the end of the year are traced
the same way, so that for every generator::

    generated + from_initial_storage
        = delivered + spilled + unshared_export + storage_losses + stored_end

Energy stored at the start of the year (``soc_initial > 0``) has no generator;
gxsim attributes it to the battery's chargers pro rata to their annual charge
(a cyclic-year assumption) and reports it as ``from_initial_storage``. A
battery that starts charged but is never charged has no generator to carry
its initial energy: that energy is left out of the ledger and reported in the
ledger's ``unattributed_kwh`` attribute.

Cost: the pooled and community parts are two matrix products
``(R, T) @ (T, G)`` done in consumer chunks, so time grows as R·T·G and the
result holds R·G numbers (10,000 consumer rows × 100 generators: ~1 s, 8 MB).

Public functions: :func:`ledger` (DataArray ``(generator, consumer)``),
:func:`ledger_table` (per-generator balance), :func:`attribute` (the same from
plain arrays, for sweeps that never build an hourly Dataset).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np
import pandas as pd
import xarray as xr

from sim.core.flows import rows_into as _rows_into

#: per-generator columns of :func:`ledger_table` [kWh/yr]
TABLE_COLUMNS = {
    "generated": "annual output of the generator",
    "direct": "used directly by the consumer it is on-site at",
    "battery": "delivered by its site's on-site battery",
    "pooled": "delivered through the regional pool",
    "community": "delivered by the community battery",
    "delivered": "direct + battery + pooled + community (all consumers)",
    "self_consumed": "direct + battery: consumed on site (自家消費)",
    "to_storage": "taken into batteries (on-site and community)",
    "spilled": "pool energy not used in the area (exported or curtailed)",
    "unshared_export": "on-site exports kept out of the pool (share_onsite_surplus = false)",
    "storage_losses": "battery charge and discharge losses",
    "stored_end": "still in a battery at the end of the year",
    "from_initial_storage": "energy stored at the start of the year, attributed to it",
    "not_delivered": "spilled + unshared_export + storage_losses + stored_end "
                     "- from_initial_storage",
}

_CHUNK = 2048  # consumer rows per matrix-product chunk


@nb.njit(cache=True, nogil=True)
def running_composition(inflow, inflow_share, outflow, sqrt_eta, content0):
    """Composition of a store's outflow when its content mixes pro rata.

    Each hour the store first takes in ``inflow[t]`` (of mix
    ``inflow_share[t]``, ``sqrt_eta`` of it stored) and then gives out
    ``outflow[t]`` (drawing ``outflow[t] / sqrt_eta`` from the content, pro
    rata to its composition) — the kernel's order. This one loop serves both
    :func:`attribute` and the sweep's batch kernel
    (``sim.studies.batch._store_composition``).

    Parameters
    ----------
    inflow : ndarray (T,) [kWh], energy taken in
    inflow_share : ndarray (T, J) [-], its mix over the first J <= K slots
        (rows sum to 1 where inflow > 0); slots J..K-1 take no inflow (they
        hold, e.g., energy stored at the start that no generator made)
    outflow : ndarray (T,) [kWh], energy given out
    sqrt_eta : float, one-way efficiency [-]
    content0 : ndarray (K,) [kWh], content at the start

    Returns
    -------
    comp : ndarray (T, K) [-], mix of the outflow in each hour (rows sum to 1
        where outflow > 0)
    content : ndarray (K,) [kWh], content at the end
    out_sum : ndarray (K,) [kWh], the outflow by slot, ``outflow @ comp``
        summed hour by hour in time order (the batch kernel's sums)
    """
    n_t, n_in = inflow_share.shape
    n_k = content0.shape[0]
    c = content0.copy()
    comp = np.zeros((n_t, n_k))
    out_sum = np.zeros(n_k)
    last = np.zeros(n_k)
    have_last = False
    for t in range(n_t):
        a = inflow[t] * sqrt_eta
        if a > 0.0:
            for k in range(n_in):
                c[k] += a * inflow_share[t, k]
        if outflow[t] > 0.0:
            tot = 0.0
            for k in range(n_k):
                tot += c[k]
            if tot > 0.0:
                f = outflow[t] / sqrt_eta / tot
                if f > 1.0:
                    f = 1.0  # rounding: the kernel snaps its state the same way
                for k in range(n_k):
                    comp[t, k] = c[k] / tot
                    last[k] = comp[t, k]
                    c[k] -= c[k] * f
                have_last = True
            elif have_last:  # rounding drift on an empty store: keep the last mix
                for k in range(n_k):
                    comp[t, k] = last[k]
            if have_last:
                for k in range(n_k):
                    out_sum[k] += outflow[t] * last[k]
    return comp, c, out_sum


@dataclass
class Attribution:
    """Result of :func:`attribute`.

    Attributes
    ----------
    ledger : ndarray (G, R) [kWh/yr], energy from each generator delivered to
        each consumer
    table : dict of ndarray (G,) [kWh/yr], the columns of :data:`TABLE_COLUMNS`
    totals : dict of float [kWh/yr], ``community_charge``, ``community_discharge``,
        ``onsite_charge``, ``onsite_discharge``, ``unattributed``
    """

    ledger: np.ndarray
    table: dict[str, np.ndarray]
    totals: dict[str, float] = field(default_factory=dict)


def _f64(x):
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64))


def _initial_state(soc_end0, charge0, discharge0, sqrt_eta):
    """State of charge before the first hour, recovered from the first hour's flows."""
    s0 = soc_end0 - charge0 * sqrt_eta + discharge0 / sqrt_eta
    return np.maximum(s0, 0.0)


def attribute(generation, site_index, flows, *, efficiency=0.9,
              share_onsite_surplus=True) -> Attribution:
    """Trace every delivered kWh to its generator (module docstring).

    Parameters
    ----------
    generation : array (G, T) [kWh], output of each generator
    site_index : array (G,) int, row of the consumer a generator is on, -1 off-site
    flows : mapping
        The kernel's outputs (:func:`sim.match`): ``direct, charge, discharge,
        export, pooled, community, soc`` (R, T) and ``spill,
        community_charge, community_discharge, community_soc`` (T,) [kWh].
    efficiency : float, round-trip efficiency of the batteries [-]
    share_onsite_surplus : bool, whether exports joined the pool

    Returns
    -------
    Attribution
    """
    gen = _f64(generation)
    site = np.asarray(site_index, dtype=np.int64)
    n_g = gen.shape[0]
    n_r = flows["direct"].shape[0]
    k = float(np.sqrt(efficiency))
    tab = {name: np.zeros(n_g) for name in TABLE_COLUMNS}
    tab["generated"] = gen.sum(axis=1)
    frac, pool_in = _onsite_split(gen, site, flows, tab, share_onsite_surplus)
    onsite_charge, onsite_discharge, lost_onsite = _onsite_batteries(site, frac, flows, k,
                                                                      tab)
    led = np.zeros((n_g, n_r))
    for g in np.flatnonzero(site >= 0):
        led[g, site[g]] += tab["direct"][g] + tab["battery"][g]
    share = _pool_mix(pool_in)
    comp_c, lost_community = _community_battery(flows, share, k, tab)
    _pool_deliveries(led, tab, flows, share, comp_c)
    _closing_columns(tab)
    totals = {"community_charge": float(_f64(flows["community_charge"]).sum()),
              "community_discharge": float(_f64(flows["community_discharge"]).sum()),
              "onsite_charge": float(onsite_charge),
              "onsite_discharge": float(onsite_discharge),
              "unattributed": float(lost_onsite + lost_community)}
    return Attribution(ledger=led, table=tab, totals=totals)


def _onsite_split(gen, site, flows, tab, share_onsite_surplus):
    """Split each site's direct use, battery charge and export by its generators'
    shares of the hour's on-site output (fills ``direct``, ``to_storage``,
    ``unshared_export``).

    Returns
    -------
    frac : ndarray (G, T) [-], each on-site generator's share of its site's output
    pool_in : ndarray (G, T) [kWh], what each generator put into the pool
    """
    n_g, n_t = gen.shape
    on = np.flatnonzero(site >= 0)
    off = np.flatnonzero(site < 0)
    pool_in = np.zeros((n_g, n_t))
    pool_in[off] = gen[off]
    sites = np.unique(site[on])
    onsite_sum = np.zeros((len(sites), n_t))
    row_of = {int(r): i for i, r in enumerate(sites)}
    for g in on:
        onsite_sum[row_of[int(site[g])]] += gen[g]
    frac = np.zeros((n_g, n_t))
    for g in on:
        tot = onsite_sum[row_of[int(site[g])]]
        np.divide(gen[g], tot, out=frac[g], where=tot > 0)
    for g in on:
        r = site[g]
        tab["direct"][g] = np.dot(_f64(flows["direct"][r]), frac[g])
        tab["to_storage"][g] = np.dot(_f64(flows["charge"][r]), frac[g])
        exp_g = _f64(flows["export"][r]) * frac[g]
        if share_onsite_surplus:
            pool_in[g] = exp_g
        else:
            tab["unshared_export"][g] = exp_g.sum()
    return frac, pool_in


def _onsite_batteries(site, frac, flows, sqrt_eta, tab):
    """Trace every on-site battery that is used (fills ``battery``, ``stored_end``,
    ``from_initial_storage``, ``storage_losses``).

    Returns
    -------
    charge, discharge : float [kWh/yr], all on-site batteries
    unattributed : float [kWh/yr], discharged energy with no generator (a
        battery at a site without generators, or initial energy nobody charged)
    """
    charge, discharge, soc = flows["charge"], flows["discharge"], flows["soc"]
    on = np.flatnonzero(site >= 0)
    gens_at = {int(r): on[site[on] == r] for r in np.unique(site[on])}
    dis_tot = discharge.sum(axis=1, dtype=np.float64)
    ch_tot = charge.sum(axis=1, dtype=np.float64)
    onsite_charge = onsite_discharge = unattributed = 0.0
    for r in np.flatnonzero((dis_tot > 0) | (ch_tot > 0)):
        ch_r, dis_r = _f64(charge[r]), _f64(discharge[r])
        onsite_charge += ch_r.sum()
        onsite_discharge += dis_r.sum()
        gs = gens_at.get(int(r), np.zeros(0, dtype=np.int64))
        if len(gs) == 0:
            unattributed += dis_r.sum()
            continue
        s0 = float(_initial_state(float(soc[r, 0]), ch_r[0], dis_r[0], sqrt_eta))
        unattributed += _onsite_battery(ch_r, dis_r, frac, gs, s0, sqrt_eta, tab)
    return onsite_charge, onsite_discharge, unattributed


def _onsite_battery(ch_r, dis_r, frac, gs, s0, sqrt_eta, tab):
    """One on-site battery charged by generators ``gs``: its running composition,
    initial content spread over the chargers. Returns the unattributed kWh."""
    content0 = np.zeros(len(gs) + 1)  # last slot: the initial content
    content0[-1] = s0
    comp, end, _ = running_composition(ch_r, np.ascontiguousarray(frac[gs].T), dis_r,
                                       sqrt_eta, content0)
    out_g = dis_r @ comp  # (K+1,)
    in_g = np.array([np.dot(ch_r, frac[g]) for g in gs])
    out_g, end, init_g, lost = _spread_initial(out_g, end, in_g, s0)
    tab["battery"][gs] += out_g
    tab["stored_end"][gs] += end
    tab["from_initial_storage"][gs] += init_g
    tab["storage_losses"][gs] += in_g + init_g - out_g - end
    return lost


def _pool_mix(pool_in):
    """Each source's share of the pool in each hour: (T, G) [-] from (G, T) [kWh]."""
    n_g, n_t = pool_in.shape
    pool_tot = pool_in.sum(axis=0)
    share = np.zeros((n_t, n_g))
    np.divide(pool_in.T, pool_tot[:, None], out=share, where=pool_tot[:, None] > 0)
    return share


def _community_battery(flows, share, sqrt_eta, tab):
    """The community battery, charged at the pool's mix (adds to ``to_storage``,
    ``stored_end``, ``from_initial_storage``, ``storage_losses``).

    Returns
    -------
    comp : ndarray (T, G) [-] or None, the mix of its discharge (None: unused)
    unattributed : float [kWh/yr], initial energy delivered with no charger
    """
    c_ch = _f64(flows["community_charge"])
    c_dis = _f64(flows["community_discharge"])
    if not (c_ch.sum() > 0 or c_dis.sum() > 0):
        return None, 0.0
    n_g = share.shape[1]
    sc0 = float(_initial_state(float(flows["community_soc"][0]), c_ch[0], c_dis[0],
                               sqrt_eta))
    content0 = np.zeros(n_g + 1)  # last slot: the initial content
    content0[-1] = sc0
    comp_full, end, _ = running_composition(c_ch, share, c_dis, sqrt_eta, content0)
    in_g = c_ch @ share
    init_col = comp_full[:, -1]
    comp_c = np.ascontiguousarray(comp_full[:, :-1])
    init_g = np.zeros(n_g)
    end_g = end[:-1]
    lost = 0.0
    if sc0 > 0:
        if in_g.sum() > 0:  # spread over the chargers, pro rata to their charge
            spread = in_g / in_g.sum()
            comp_c += init_col[:, None] * spread[None, :]
            init_g = sc0 * spread
            end_g = end[:-1] + end[-1] * spread
        else:
            lost = float(c_dis @ init_col)
    out_g = c_dis @ comp_c
    tab["to_storage"] += in_g
    tab["stored_end"] += end_g
    tab["from_initial_storage"] += init_g
    tab["storage_losses"] += in_g + init_g - out_g - end_g
    return comp_c, lost


def _pool_deliveries(led, tab, flows, share, comp_c):
    """Pooled and community energy by source: ledger (R, T) @ (T, G) in consumer
    chunks; fills ``pooled``, ``community``, ``spilled``. Each chunk is read
    once (a derived flow is computed once), its hourly totals kept for the
    table. The chunks are computed (or cast) into one buffer made once and
    reused (fresh memory can be slow to come by, see :class:`_Blocks`)."""
    pooled = flows["pooled"]
    community = flows["community"]
    n_r, n_t = pooled.shape
    pooled_t, community_t = np.zeros(n_t), np.zeros(n_t)
    blocks = _Blocks(pooled, min(_CHUNK, n_r))
    for start in range(0, n_r, _CHUNK):
        stop = min(start + _CHUNK, n_r)
        block = blocks.f64(pooled, start, stop)
        pooled_t += block.sum(axis=0)
        part = block @ share
        if comp_c is not None:
            block = blocks.f64(community, start, stop)
            community_t += block.sum(axis=0)
            part += block @ comp_c
        led[:, start:stop] += part.T
    tab["pooled"] = pooled_t @ share
    if comp_c is not None:
        tab["community"] = community_t @ comp_c
    tab["spilled"] = _f64(flows["spill"]) @ share


class _Blocks:
    """One reused buffer to read (R, T) flows a block of consumer rows at a
    time as C-ordered float64, whatever they are (numpy arrays, derived flows
    in float32 or float64: :class:`ConsumerRows`).

    A new (2,048 × 8,760) float64 block is 144 MB: allocated for every block,
    as before, it was memory the system had to provide afresh each time (on a
    virtual machine up to 2.7 s per GiB). A derived flow is computed straight
    into the buffer (widened from float32 as it is written); a stored one is
    used as it is if float64, else cast into the buffer. Same values as
    ``astype(float64)``.
    """

    def __init__(self, flow, rows: int):
        self.rows, self.n_t = rows, flow.shape[1]
        self._buf = None

    def f64(self, flow, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a C-ordered float64 array."""
        if self._buf is None:
            self._buf = np.empty((self.rows, self.n_t))
        out = self._buf[:stop - start]
        block = (flow.rows_into(start, stop, out) if isinstance(flow, ConsumerRows)
                 else np.asarray(flow[start:stop]))
        if block is out or (block.dtype == np.float64 and block.flags.c_contiguous):
            return block
        np.copyto(out, block)
        return out


def _closing_columns(tab):
    """``delivered``, ``self_consumed`` and ``not_delivered`` from the others."""
    tab["delivered"] = tab["direct"] + tab["battery"] + tab["pooled"] + tab["community"]
    tab["self_consumed"] = tab["direct"] + tab["battery"]
    tab["not_delivered"] = (tab["spilled"] + tab["unshared_export"] + tab["storage_losses"]
                            + tab["stored_end"] - tab["from_initial_storage"])


def _spread_initial(out_g, end, in_g, s0):
    """Fold the 'initial content' slot (last) into the chargers, pro rata to their charge."""
    out_init, end_init = out_g[-1], end[-1]
    out_g, end = out_g[:-1].copy(), end[:-1].copy()
    init_g = np.zeros_like(out_g)
    lost = 0.0
    if s0 > 0:
        if in_g.sum() > 0:
            w = in_g / in_g.sum()
        elif len(out_g) == 1:
            w = np.ones(1)
        else:
            return out_g, end, init_g, float(out_init)
        out_g += out_init * w
        end += end_init * w
        init_g = s0 * w
    return out_g, end, init_g, lost


class ConsumerRows:
    """An (R, T) variable read by consumer rows: ``[r]``, ``[a:b]``, ``[r, t]``
    and ``sum`` computed block by block, never as one (R, T) array.

    Parameters
    ----------
    variable : xarray.Variable (consumer, time)
        Numpy-backed, or lazily indexed (:mod:`sim.core.flows`).
    block : int, rows per block of :meth:`sum`
    row_totals : ndarray (R,), optional
        The variable's row sums if already known (the kernel's annual
        totals): ``sum(axis=1)`` then returns them without reading the rows.
    """

    def __init__(self, variable: xr.Variable, block: int = _CHUNK,
                 row_totals: np.ndarray | None = None):
        self.variable, self.block, self.row_totals = variable, block, row_totals
        self.shape, self.dtype = variable.shape, variable.dtype

    def __getitem__(self, key) -> np.ndarray:
        return np.asarray(self.variable[key].values)

    def rows_into(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        """Rows ``start:stop``, computed into ``out`` ((stop - start, T), this
        dtype or float64) if the variable is a derived flow
        (:func:`sim.core.flows.rows_into`)."""
        return _rows_into(self.variable, start, stop, out)

    def sum(self, axis: int, dtype=None) -> np.ndarray:
        """Row sums (``axis=1``, (R,)) or hourly sums (``axis=0``, (T,))."""
        n_r = self.shape[0]
        if axis == 1 and self.row_totals is not None:
            return np.asarray(self.row_totals, dtype=dtype or self.dtype)
        if axis == 1:
            out = np.empty(n_r, dtype=dtype or self.dtype)
            for a in range(0, n_r, self.block):
                out[a:a + self.block] = self[a:a + self.block].sum(axis=1, dtype=dtype)
            return out
        if axis != 0:
            raise ValueError(f"axis must be 0 or 1, not {axis!r}")
        out = np.zeros(self.shape[1], dtype=dtype or self.dtype)
        for a in range(0, n_r, self.block):
            out += self[a:a + self.block].sum(axis=0, dtype=dtype)
        return out


def _attribution(result) -> Attribution:
    ds = result.hourly
    sc = result.scenario
    row = {c.id: i for i, c in enumerate(sc.consumers)}
    site_index = np.array([row[g.site] if g.site is not None else -1
                           for g in sc.generators], dtype=np.int64)
    names = ("direct", "charge", "discharge", "export", "pooled", "community", "soc",
             "spill", "community_charge", "community_discharge", "community_soc")
    # (R, T) flows by blocks of consumers: a derived flow (sim.core.flows) is
    # then computed a block at a time instead of whole (one (R, T) array each)
    # the annual totals of charge and discharge say which batteries are used
    totals = {n: result.annual[n].to_numpy() for n in ("charge", "discharge")
              if n in result.annual}
    flows = {n: ConsumerRows(ds[n].variable, row_totals=totals.get(n))
             if ds[n].ndim == 2 else ds[n].values for n in names}
    eff = float(ds.attrs.get("battery_efficiency", sc.options.battery_efficiency))
    return attribute(ds["generation"].values, site_index, flows, efficiency=eff,
                     share_onsite_surplus=sc.options.share_onsite_surplus)


def ledger_dataarray(scenario, att: Attribution) -> xr.DataArray:
    """Wrap an :class:`Attribution` as the labelled ledger (see :func:`ledger`)."""
    gs, cs = scenario.generators, scenario.consumers
    coords = {
        "generator": [g.id for g in gs],
        "consumer": [c.id for c in cs],
        "kind": ("generator", [g.kind for g in gs]),
        "site": ("generator", [g.site or "" for g in gs]),
        "civil": ("consumer", [c.is_civil for c in cs]),
        "sector": ("consumer", [c.sector for c in cs]),
    }
    for name in TABLE_COLUMNS:
        coords[name] = ("generator", att.table[name])
    da = xr.DataArray(att.ledger, dims=("generator", "consumer"), coords=coords,
                      name="ledger")
    da.attrs.update(units="kWh", description="renewable energy from each generator "
                    "delivered to each consumer over the year (pro-rata attribution, "
                    "sim.core.accounting)",
                    **{f"{k}_kwh": v for k, v in att.totals.items()})
    return da


def ledger(result) -> xr.DataArray:
    """Energy from each generator delivered to each consumer over the year.

    Parameters
    ----------
    result : sim.Result

    Returns
    -------
    xarray.DataArray (generator, consumer) [kWh/yr]
        Sums over generators equal ``result.annual["renewable"]`` (the
        delivered renewable energy of each consumer). Per-generator balance
        figures (:data:`TABLE_COLUMNS`: ``generated``, ``delivered``,
        ``self_consumed``, ``spilled``, …) are coordinates on ``generator``;
        attrs hold ``community_charge_kwh``, ``community_discharge_kwh``,
        ``onsite_charge_kwh``, ``onsite_discharge_kwh`` and
        ``unattributed_kwh`` (initial battery energy with no generator).
    """
    return ledger_dataarray(result.scenario, _attribution(result))


def ledger_table(result_or_ledger) -> pd.DataFrame:
    """Per-generator balance [kWh/yr]: ``generated = delivered + not_delivered``.

    Parameters
    ----------
    result_or_ledger : sim.Result or the DataArray from :func:`ledger`

    Returns
    -------
    pandas.DataFrame
        One row per generator: ``kind``, ``site`` and the columns of
        :data:`TABLE_COLUMNS`, plus ``delivered_civil`` (to civil consumers).
    """
    da = result_or_ledger if isinstance(result_or_ledger, xr.DataArray) else ledger(
        result_or_ledger)
    df = pd.DataFrame({"kind": da["kind"].values, "site": da["site"].values},
                      index=pd.Index(da["generator"].values, name="generator"))
    for name in TABLE_COLUMNS:
        df[name] = da[name].values
    df["delivered_civil"] = da.where(da["civil"], 0.0).sum("consumer").values
    return df
