"""The per-case evaluation path sweeps used before issue 17 (a Scenario, a labelled
ledger and an annual table per case), kept as the oracle of the chunk's
vectorised figures (:func:`sim.studies.sweep.compute_chunk`)."""

import importlib
import math

import numpy as np
import pandas as pd

from sim.core import accounting
from sim.programme.evaluate import evaluate_totals
from sim.studies import batch

sw = importlib.import_module("sim.studies.sweep")

#: a difference of two figures, compared against the size of its terms
DIFFERENCES = {"netting_gap_kwh": "renewable_supply_annual_kwh"}


def kernel_totals(base, params, values) -> np.ndarray:
    """The batch kernel's attribution totals (:data:`batch.TOTAL_FIELDS`) of the
    cases ``values`` (not stored in a chunk)."""
    sc = base.scenario
    kin = sw.kernel_arrays(base, params, np.asarray(values, dtype=float))
    return batch.run_batch(base.demand_gross, base.generation, base.site_index,
                           soc_initial=sc.options.soc_initial,
                           share_onsite_surplus=sc.options.share_onsite_surplus,
                           **kin)["totals"]


def per_case_figures(base, params, values, chunk, c, totals) -> dict:
    """``sim.evaluate``'s figures of case ``c`` of ``chunk`` by the per-case path:
    :func:`sim.studies.sweep.apply_case` (generators and batteries sized 0
    removed), the kernel's sums of the kept generators as a labelled ledger, the
    annual table as a DataFrame, then ``evaluate_totals`` (its ``to_dict()``);
    ``totals`` from :func:`kernel_totals`."""
    case_sc = sw.apply_case(base.scenario, params, values[c])
    kin = sw.kernel_arrays(base, params, np.asarray(values[c:c + 1], dtype=float))
    keep = np.flatnonzero(kin["gen_scale"][0] > 0)
    table = {f: chunk[f"generator__{f}"][c][keep] for f in batch.TABLE_FIELDS}
    table["delivered"] = table["direct"] + table["battery"] + table["pooled"] + \
        table["community"]
    table["self_consumed"] = table["direct"] + table["battery"]
    table["not_delivered"] = (table["spilled"] + table["unshared_export"]
                              + table["storage_losses"] + table["stored_end"]
                              - table["from_initial_storage"])
    totals = {f: float(totals[c, k]) for k, f in enumerate(batch.TOTAL_FIELDS)}
    att = accounting.Attribution(ledger=chunk["ledger"][c][keep],
                                 table={k: table[k] for k in accounting.TABLE_COLUMNS},
                                 totals=totals)
    cons = {f: chunk[f"consumer__{f}"][c] for f in batch.CONSUMER_FIELDS}
    annual = pd.DataFrame({"demand_gross": base.gross_annual,
                           "savings": base.gross_annual - cons["demand"], **cons},
                          index=pd.Index([x.id for x in case_sc.consumers], name="consumer"))
    return evaluate_totals(case_sc, accounting.ledger_dataarray(case_sc, att),
                           annual).to_dict()


def assert_same_figures(chunk, oracle: dict, c: int, rtol: float = 1e-12) -> int:
    """Case ``c`` of ``chunk`` against the oracle's figures: relative ``rtol``
    (bit-identical where both are exact), NaN where the oracle has none.
    Returns the number of figures compared."""
    n = 0
    for k, want in oracle.items():
        if k not in chunk or chunk[k].ndim != 1:
            continue
        got = chunk[k][c]
        if isinstance(want, bool):
            assert bool(got) == want, (c, k, got, want)
        elif want is None:
            assert math.isnan(got), (c, k, got)
        else:
            scale = max(abs(want), abs(oracle.get(DIFFERENCES.get(k, k)) or 0.0))
            assert abs(got - want) <= rtol * scale, (c, k, got, want)
        n += 1
    return n
