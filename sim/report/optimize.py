"""An optimisation rendered: the optimum, binding targets, marginal costs, convergence."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from sim.io import atomic_output_dir, write_json
from sim.studies.optimize import OptimizeResult, known_figures


def result_dict(result: OptimizeResult) -> dict:
    """Everything of the optimum as a JSON-ready dict (``optimum.json``)."""
    units = known_figures()
    return {
        "status": "optimal" if result.feasible else "infeasible",
        "objective": {"figure": result.objective, "sense": result.sense,
                      "value": result.objective_value, "unit": units.get(result.objective)},
        "variables": [{"name": v.name, "target": v.param.target, "value": result.x[v.name],
                       "lower": v.lower, "upper": v.upper, "step": v.step}
                      for v in result.variables],
        "constraints": result.constraints.to_dict(orient="records"),
        "unmet": result.unmet,
        "marginal": result.marginal.to_dict(orient="records"),
        "warnings": result.on_bound,
        "figures": {k: result.figures[k] for k in sorted(result.figures)},
        "units": {k: units.get(k, "") for k in sorted(result.figures)},
        "run": {"evaluations": result.evaluations, "generations": result.generations,
                "candidates_logged": len(result.candidates), "seconds": result.seconds,
                "search_seconds": result.search_seconds, "stop": result.stop,
                "simulations": result.simulations,
                "simulation_seconds": result.simulation_seconds,
                "message": result.message, "notes": result.notes},
    }


def convergence_plot(history: pd.DataFrame, objective: str, path: Path) -> str:
    """Best feasible objective and smallest violation per generation (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 5.5), dpi=110, sharex=True)
    ax1.plot(history["evaluations"], history["best_objective"], "o-", ms=3)
    ax1.set_ylabel(f"best feasible\n{objective}")
    ax1.grid(alpha=0.3)
    ax2.plot(history["evaluations"], history["feasible_share"], "s-", ms=3, color="C2",
             label="feasible share of the generation")
    ax2.plot(history["evaluations"], history["best_violation"], "x-", ms=3, color="C3",
             label="smallest relative violation")
    ax2.set_xlabel("candidates evaluated (full hourly simulation each)")
    ax2.set_ylabel("[-]")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path.name


def _num(v: float, unit: str = "", name: str = "") -> str:
    if isinstance(v, bool) or v is None or not math.isfinite(v):
        return str(v)
    if unit in ("-", "1") and any(w in name for w in ("share", "rate", "coverage")):
        return f"{v:.2%}"
    return f"{v:,.6g}" + (f" {unit}" if unit not in ("", "-", "1") else "")


def summary_text(result: OptimizeResult) -> str:
    """A readable summary: the optimum, constraints, marginal costs, warnings."""
    units = known_figures()
    sc = result.scenario
    status = "optimum" if result.feasible else "INFEASIBLE — closest candidate"
    lines = [f"{sc.region.name} — {sc.region.year}: {status} "
             f"({result.sense} {result.objective} = "
             f"{_num(result.objective_value, units.get(result.objective, ''))})"]
    for v in result.variables:
        lines.append(f"  {v.name:<28} {_num(result.x[v.name]):>14}   "
                     f"[{v.lower:,.6g} .. {v.upper:,.6g}]"
                     + (f" step {v.step:g}" if v.step else "") + f"  {v.param.target}")
    if len(result.constraints):
        lines.append("constraints:")
        for r in result.constraints.itertuples():
            state = "binds" if r.binding else "met" if r.met else "NOT MET"
            lines.append(f"  {r.constraint:<40} value {_num(r.value, r.unit, r.figure):>14}  "
                         f"{state}")
    if len(result.marginal):
        lines.append("marginal cost of each target (objective per +1 point of the target):")
        for r in result.marginal.itertuples():
            how = "re-solved at ±1 point" if r.resolved else "slack > 1 point: 0"
            lines.append(f"  {r.constraint:<40} {_num(r.per_point)} per {r.point:g} ({how})")
    for w in result.on_bound:
        lines.append(f"warning: {w}")
    f = result.figures
    for k in ("hourly_matched_share", "coverage_hourly", "annualised_cost_jpy", "capex_jpy",
              "grant_jpy", "payback_years", "cost_per_t_co2_total_jpy", "spill_share"):
        if k in f:
            lines.append(f"  {k:<28} {_num(f[k], units.get(k, ''), k)}")
    lines.append(f"{result.evaluations:,} candidates in {result.generations} generations "
                 f"(+ {len(result.candidates) - result.evaluations:,} in re-solves), "
                 f"{result.seconds:.1f} s; stopped by {_STOP[result.stop]}")
    return "\n".join(lines)


_STOP = {"tol": "convergence (tol)", "stall": "no improvement (stall_generations)",
         "generations": "the generation budget (not converged)"}


def write_outputs(result: OptimizeResult, output: str | Path, *,
                  overwrite: bool = False) -> list[str]:
    """Write ``optimum.json``, ``candidates.csv``, ``convergence.csv/.png``,
    ``optimum_scenario.json`` and ``summary.txt`` atomically into ``output``."""
    files = []
    with atomic_output_dir(Path(output), overwrite=overwrite) as tmp:
        write_json(tmp / "optimum.json", result_dict(result))
        result.candidates.to_csv(tmp / "candidates.csv", index=False, float_format="%.9g")
        result.history.to_csv(tmp / "convergence.csv", index=False, float_format="%.9g")
        files += ["optimum.json", "candidates.csv", "convergence.csv"]
        files.append(convergence_plot(result.history, result.objective,
                                      tmp / "convergence.png"))
        write_json(tmp / "optimum_scenario.json",
                   result.scenario.model_dump(mode="json", exclude={"sweep", "optimize"}))
        files.append("optimum_scenario.json")
        (tmp / "summary.txt").write_text(summary_text(result) + "\n", encoding="utf-8")
        files.append("summary.txt")
    return files

