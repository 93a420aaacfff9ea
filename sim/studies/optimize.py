"""The least-cost equipment mix that meets the programme's targets (``gxsim optimize``).

A scenario's ``[optimize]`` section names decision variables (the targets of
``[sweep]``: a generator's ``capacity_kw``, a group's ``scale``, batteries,
the community battery …), each with bounds and optionally a step (whole
turbines); an objective (the annualised cost, the capital cost, the cost per
t-CO2 or any figure of the evaluation) and constraints on any figure the
evaluation computes (``hourly_matched_share >= 0.9``, ``balance_hourly_ok ==
true``, ``spill_share <= 0.2``, ``payback_to_life_ratio <= 1``, ``grant_jpy <=
2e9`` …).

Every candidate is simulated in full, per consumer and hour, by the compiled
batch kernel of sweeps (:func:`sim.studies.sweep.compute_chunk`): a whole
generation of candidates per call, no surrogate. The search is scipy's
differential evolution (``vectorized=True``, ``integrality`` for stepped
variables, a fixed seed: the same input gives the same optimum). Constraints
are handled by ranking (Deb's rule): a feasible candidate beats an infeasible
one; two infeasible ones compare by their total relative violation, so the
search is led towards the feasible region and, when there is none, ends on
the closest candidate. The search stops at scipy's convergence test
(``tol``), when the best feasible objective has improved by no more than
``stall_tol`` over ``stall_generations`` generations, or at the budget of
``generations`` (not converged); ``OptimizeResult.stop`` says which.

The marginal cost of a target is found by re-solving with the target one
point higher and one point lower (warm-started from the final population);
a target with more slack than one point costs nothing at the margin and is
not re-solved.

Figures added to those of a sweep (:data:`DERIVED`):

* ``annualised_cost_jpy`` — Σ over projects (new or repowered generators, new
  batteries; :mod:`sim.programme.finance`) of capex × capital recovery factor
  (``[optimize] discount_rate``, the project's statutory life), + the
  evaluation's ``opex_jpy_per_year`` (operation and fuel) [JPY/yr];
* ``net_annualised_cost_jpy`` — the same minus the projects' annual benefit
  (avoided purchase and sales, scoring (3)) [JPY/yr];
* ``spill_share`` — generation not delivered in the area / generation [-].

>>> import sim
>>> sc = sim.load_scenario("scenarios/island_optimize.toml")   # doctest: +SKIP
>>> res = sim.optimize(sc)                                       # doctest: +SKIP
>>> res.x, res.objective_value, res.feasible                     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.engine import build_inputs
from sim.errors import InputError
from sim.inputs.scenario import (
    _SWEEP_CONSTRAINT,
    OptimizeSpec,
    Scenario,
    SweepParameter,
    SweepSpec,
    validate,
)
from sim.programme import finance
from sim.programme.evaluate import FIGURES
from sim.studies.sweep import (
    KPI_UNITS,
    Base,
    Param,
    _hint,  # the sweep's close-match hint, same wording
    apply_case,
    compute_chunk,
    resolve_parameters,
)

#: objective short names -> figure
ALIASES = {"annualised_cost": "annualised_cost_jpy", "annualized_cost": "annualised_cost_jpy",
           "net_annualised_cost": "net_annualised_cost_jpy", "capex": "capex_jpy",
           "cost_per_t_co2": "cost_per_t_co2_total_jpy"}
#: figures computed here, on top of the sweep's and the evaluation's: name -> unit
DERIVED = {"annualised_cost_jpy": "JPY/yr", "net_annualised_cost_jpy": "JPY/yr",
           "spill_share": "-"}
#: boolean figures and the continuous figure (>= 1 when true) that measures them
BOOL_MEASURES = {"balance_hourly_ok": "coverage_hourly", "balance_annual_ok": "coverage_annual"}
#: energy of an infeasible candidate: above every feasible objective
_INFEASIBLE = 1e30


def known_figures() -> dict[str, str]:
    """Every figure a constraint or the objective may name -> its unit."""
    out = {k: u for k, u in KPI_UNITS.items()}
    out.update({k: v[0] for k, v in FIGURES.items()
                if k not in ("region", "year", "notes", "emission_factor_source",
                             "co2_basis")})
    out.update(DERIVED)
    return out


# -- the problem ----------------------------------------------------------------

@dataclass
class Variable:
    """One decision variable.

    Attributes
    ----------
    param : Param, the sweep parameter it sets
    lower, upper : float, bounds in the target's unit
    step : float or None, size of one unit of an integer variable
    """

    param: Param
    lower: float
    upper: float
    step: float | None = None

    @property
    def name(self) -> str:
        """Column name."""
        return self.param.name

    def de_bounds(self) -> tuple[float, float]:
        """Bounds in the optimiser's space (number of steps for stepped variables)."""
        if self.step is None:
            return self.lower, self.upper
        return (math.ceil(self.lower / self.step - 1e-9),
                math.floor(self.upper / self.step + 1e-9))

    def value(self, z: np.ndarray) -> np.ndarray:
        """Target values from optimiser values (whole steps × step)."""
        return z if self.step is None else np.round(z) * self.step


@dataclass
class Constraint:
    """``figure op value`` parsed from a constraint string."""

    text: str
    figure: str
    op: str
    value: float | bool
    field: str

    @property
    def is_bool(self) -> bool:
        """A true/false requirement (no marginal cost)."""
        return isinstance(self.value, bool)

    def met(self, v: np.ndarray) -> np.ndarray:
        """Whether each candidate meets it (NaN never does)."""
        v = np.asarray(v, dtype=float)
        t = float(self.value)
        with np.errstate(invalid="ignore"):
            out = {">=": v >= t, "<=": v <= t, ">": v > t, "<": v < t, "==": v == t,
                   "!=": v != t}[self.op]
        return out & np.isfinite(v)

    def violation(self, figs: dict[str, np.ndarray]) -> np.ndarray:
        """Relative shortfall of each candidate (0 when met)."""
        v = np.asarray(figs[self.figure], dtype=float)
        met = self.met(v)
        if self.is_bool:
            measure = BOOL_MEASURES.get(self.figure)
            if measure is not None and self.value is True and self.op == "==":
                gap = np.clip(1.0 - np.asarray(figs[measure], dtype=float), 1e-6, None)
            else:
                gap = np.ones_like(v)
        else:
            scale = max(abs(float(self.value)), 1e-12)
            gap = np.abs(v - float(self.value)) / scale + 1e-9
        gap = np.where(np.isfinite(gap), gap, 1e6)
        return np.where(met, 0.0, gap)

    def slack(self, v: float) -> float:
        """Signed distance to the target in the constraint's direction (≥ 0 when met)."""
        if self.is_bool:
            return math.nan
        t = float(self.value)
        return v - t if self.op in (">=", ">") else t - v if self.op in ("<=", "<") else \
            -abs(v - t)

    def point(self, unit: str) -> float:
        """One point of the target: 0.01 for a share, else 1 % of the target."""
        t = float(self.value)
        return 0.01 if unit in ("-", "1") and abs(t) <= 1.5 else max(abs(t), 1e-12) * 0.01

    def shifted(self, delta: float) -> Constraint:
        """The constraint with its target moved by ``delta``."""
        return dataclasses.replace(self, value=float(self.value) + delta,
                                   text=f"{self.figure} {self.op} {float(self.value) + delta:g}")


@dataclass
class Problem:
    """An ``[optimize]`` section resolved against a scenario (see :func:`problem`)."""

    scenario: Scenario
    spec: OptimizeSpec
    variables: list[Variable]
    objective: str
    sense: str
    constraints: list[Constraint]

    @property
    def params(self) -> list[Param]:
        """The sweep parameters the variables set."""
        return [v.param for v in self.variables]


def _parse_constraint(text: str, i: int, figures: dict, src) -> Constraint:
    fld = f"optimize.constraints[{i}]"
    name, op, raw = _SWEEP_CONSTRAINT.match(text).groups()
    if name not in figures:
        raise InputError(f"unknown figure {name!r} in constraint {text!r}"
                         f"{_hint(name, figures)}", source=src, field=fld)
    value: Any = {"true": True, "false": False}.get(raw.lower())
    if figures[name] == "bool" and (value is None or op not in ("==", "!=")):
        raise InputError(f"a true/false figure takes == or != true/false, got {text!r}",
                         source=src, field=fld)
    if value is None:
        try:
            value = float(raw)
        except ValueError:
            raise InputError(f"expected a number or true/false in constraint {text!r}",
                             source=src, field=fld) from None
        if not math.isfinite(value):
            raise InputError(f"expected a finite target in constraint {text!r}",
                             source=src, field=fld)
    elif op not in ("==", "!="):
        raise InputError(f"a true/false figure takes == or !=, got {text!r}",
                         source=src, field=fld)
    return Constraint(text=text, figure=name, op=op, value=value, field=fld)


def problem(scenario: Scenario, spec: OptimizeSpec | None = None) -> Problem:
    """Resolve ``[optimize]``: variables against the scenario's rows, figures by name.

    Raises
    ------
    sim.InputError
        No variables, unknown targets or figures (with a close-match hint),
        bounds a quantity cannot take.
    """
    spec = spec or scenario.optimize
    src = scenario.path
    if not spec.variables:
        raise InputError("no decision variables; add [[optimize.variables]] with a target, "
                         "lower and upper", source=src, field="optimize.variables")
    sweep_spec = SweepSpec(mode="lhs", samples=1, parameters=[
        SweepParameter(target=v.target, name=v.name, start=v.lower, stop=v.upper)
        for v in spec.variables])
    tmp = scenario.model_copy(update={"sweep": sweep_spec})
    try:
        params = resolve_parameters(tmp)
    except InputError as exc:  # speak of [optimize], not of the sweep used underneath
        fld = (exc.field or "").replace("sweep.parameters", "optimize.variables")
        reason = exc.reason.replace("start", "lower").replace("stop", "upper")
        raise InputError(reason, source=exc.source, field=fld) from None
    variables = [Variable(p, v.lower, v.upper, v.step or (1.0 if v.integer else None))
                 for p, v in zip(params, spec.variables)]
    figures = known_figures()
    for i, v in enumerate(variables):
        if v.name in figures or v.name in ("case", "stage", "call"):
            raise InputError(f"variable name {v.name!r} clashes with a figure; set "
                             f"name = '...'", source=src, field=f"optimize.variables[{i}]")
    objective = ALIASES.get(spec.objective, spec.objective)
    if objective not in figures:
        raise InputError(f"unknown objective {spec.objective!r}; expected "
                         f"{', '.join(ALIASES)} or a figure{_hint(objective, figures)}",
                         source=src, field="optimize.objective")
    constraints = [_parse_constraint(c, i, figures, src) for i, c in enumerate(spec.constraints)]
    return Problem(scenario, spec, variables, objective, spec.sense, constraints)


# -- costs ----------------------------------------------------------------------

def capital_recovery_factor(rate: float, life_years: float) -> float:
    """Annuity of 1 JPY over ``life_years`` at ``rate`` [1/yr] (1/life at rate 0)."""
    if rate <= 0:
        return 1.0 / life_years
    g = (1.0 + rate) ** life_years
    return rate * g / (g - 1.0)


def cost_lookup(scenario: Scenario) -> dict[str, dict[str, float]]:
    """The cost table (:func:`sim.programme.finance.cost_table`) as ``{kind: {column: value}}``."""
    table = finance.cost_table(scenario)
    cols = ("capex_jpy_per_unit", "opex_jpy_per_unit_year", "useful_life_years")
    return {str(k): {c: float(row[c]) for c in cols} for k, row in table[list(cols)].iterrows()}


def capital_recovery(scenario: Scenario, rate: float,
                     costs: dict[str, dict[str, float]] | None = None) -> float:
    """Σ projects capex × CRF(rate, life) [JPY/yr]: the capital part of the annualised cost.

    Projects, unit costs and lives as in :func:`sim.programme.finance.projects`:
    new and repowered generators, new batteries; a row's own cost fields,
    else the cost table's default for its kind (``costs``: :func:`cost_lookup`).
    The running part (opex and fuel) is the evaluation's ``opex_jpy_per_year``.
    """
    costs = costs if costs is not None else cost_lookup(scenario)
    total = 0.0
    for g in scenario.generators:
        total += _generator_coef(g, rate, costs) * g.capacity_kw
    for b in scenario.storage:
        total += _battery_coef(b, rate, costs) * b.capacity_kwh
    return total


def _unit(costs, kind: str, own, column: str) -> float:
    if own is not None:
        return float(own)
    if kind not in costs:
        raise InputError(f"no default {column} for kind {kind!r} in the cost table",
                         field="finance.costs")
    return costs[kind][column]


def _generator_coef(g, rate: float, costs) -> float:
    """Capital recovery of one kW of generator ``g`` [JPY/yr/kW] (0: existing)."""
    if g.status == "existing":
        return 0.0
    life = _unit(costs, g.kind, g.useful_life_years, "useful_life_years")
    return (_unit(costs, g.kind, g.capex_jpy_per_kw, "capex_jpy_per_unit")
            * capital_recovery_factor(rate, life))


def _battery_coef(b, rate: float, costs) -> float:
    """Capital recovery of one kWh of battery ``b`` [JPY/yr/kWh] (0: existing)."""
    if b.status == "existing":
        return 0.0
    kind = "battery_community" if b.site == "community" else "battery_onsite"
    life = _unit(costs, kind, b.useful_life_years, "useful_life_years")
    return (_unit(costs, kind, b.capex_jpy_per_kwh, "capex_jpy_per_unit")
            * capital_recovery_factor(rate, life))


class CapitalRecovery:
    """:func:`capital_recovery` of candidates without building each one's scenario.

    The capital part is linear in the rows' capacities, each row at its own
    cost per kW or kWh; :func:`sim.studies.sweep.apply_case` (a full scenario
    validation, ~0.25 s at 1,000 consumers) is needed only for the variables
    whose effect on the rows is not a plain scaling: a consumer's battery
    totals, the community battery's power, ``section`` parameters (which may
    change the cost table). Those fall back to it.
    """

    #: kinds computed here; any other kind falls back to apply_case
    FAST = ("gen_scale", "gen_capacity", "storage_scale", "community_kwh", "savings",
            "must_run", "efficiency")

    def __init__(self, prob: Problem, costs: dict[str, dict[str, float]]):
        sc, rate = prob.scenario, prob.spec.discount_rate
        self.prob, self.costs, self.rate = prob, costs, rate
        self.fallback = any(p.kind not in self.FAST for p in prob.params)
        community = [i for i, b in enumerate(sc.storage) if b.site == "community"]
        if any(p.kind == "community_kwh" for p in prob.params) and not community:
            self.fallback = True  # apply_case makes a new battery row
        if self.fallback:
            return
        try:
            g_kw = np.array([_generator_coef(g, rate, costs) for g in sc.generators])
            b_kwh = np.array([_battery_coef(b, rate, costs) for b in sc.storage])
        except InputError:
            self.fallback = True  # capital_recovery raises where it would
            return
        self.g_cap = g_kw * np.array([g.capacity_kw for g in sc.generators])
        self.b_cap = b_kwh * np.array([b.capacity_kwh for b in sc.storage])
        self.g_kw = g_kw
        # the community battery's rows are replaced by one like the first
        self.community_kwh = b_kwh[community[0]] if community else 0.0
        self.community_kw = sum(sc.storage[i].power_kw for i in community)
        touched_g, touched_b = set(), set()
        for p in prob.params:
            if p.kind in ("gen_scale", "gen_capacity"):
                touched_g.update(p.index)
            elif p.kind == "storage_scale":
                touched_b.update(p.index)
            elif p.kind == "community_kwh":
                touched_b.update(community)
        self.const = (sum(v for i, v in enumerate(self.g_cap) if i not in touched_g)
                      + sum(v for i, v in enumerate(self.b_cap) if i not in touched_b))

    def __call__(self, values: np.ndarray) -> float:
        """Σ projects capex × CRF of the candidate ``values`` (P,) [JPY/yr]."""
        prob = self.prob
        if self.fallback:
            case = apply_case(prob.scenario, prob.params, values)
            return capital_recovery(case, self.rate, self.costs)
        total = self.const
        for p, v in zip(prob.params, values):
            v = float(v)
            if p.kind == "gen_scale":
                total += sum(self.g_cap[i] for i in p.index) * v
            elif p.kind == "gen_capacity":
                total += self.g_kw[p.index[0]] * v
            elif p.kind == "storage_scale":
                total += sum(self.b_cap[i] for i in p.index) * v
            elif p.kind == "community_kwh" and v > 0 and self.community_kw > 0:
                total += self.community_kwh * v
        return total


# -- evaluating candidates ------------------------------------------------------

class Evaluator:
    """Candidates -> figures, through the sweep's batch kernel, with a log of all.

    Parameters
    ----------
    prob : Problem
    base : Base, the profiles every candidate scales (computed once)
    chunk_size : int, candidates per compiled call (memory: a ledger of
        generators × consumers per candidate)
    dask : str, optional, a scheduler address or ``"local"``: chunks of each
        generation run on a Dask cluster, as a sweep's chunks do
    """

    def __init__(self, prob: Problem, base: Base, *, chunk_size: int | None = None,
                 dask: str | None = None):
        self.prob, self.base = prob, base
        n_g, n_r = base.generation.shape[0], base.demand_gross.shape[0]
        self.chunk_size = chunk_size or int(max(1, min(256, 2e8 // (8 * max(1, n_g * n_r)))))
        self.cache: dict[bytes, dict[str, float]] = {}
        self.rows: list[dict[str, float]] = []   # every candidate evaluated, in order
        self.calls = 0
        self.compute_seconds = 0.0  # in the kernel and the evaluation (not the cache)
        self.costs = cost_lookup(prob.scenario)
        self.capital = CapitalRecovery(prob, self.costs)
        self.dask = _DaskMap(dask, base, prob.params) if dask else None

    def close(self) -> None:
        """Shut the Dask client (if any)."""
        if self.dask is not None:
            self.dask.close()

    def figures(self, values: np.ndarray, *, stage: str = "") -> dict[str, np.ndarray]:
        """Figures of candidates ``values`` (S, P) in target units, as arrays (S,)."""
        values = np.ascontiguousarray(values, dtype=float)
        keys = [v.tobytes() for v in values]
        todo = [i for i, k in enumerate(keys) if k not in self.cache]
        todo = list(dict.fromkeys(keys[i] for i in todo))  # unique, in order
        pos = {k: i for i, k in reversed(list(enumerate(keys)))}
        if todo:
            new = values[[pos[k] for k in todo]]
            t0 = time.perf_counter()
            for k, row in zip(todo, self._compute(new)):
                self.cache[k] = row
            self.compute_seconds += time.perf_counter() - t0
        rows = [self.cache[k] for k in keys]
        self.calls += 1
        for k, v, r in zip(keys, values, rows):
            self.rows.append({"stage": stage, "call": self.calls,
                              **{p.name: float(x) for p, x in zip(self.prob.params, v)}, **r})
        names = list(rows[0])
        return {n: np.array([r[n] for r in rows], dtype=float) for n in names}

    def _compute(self, values: np.ndarray) -> list[dict[str, float]]:
        chunks = [values[a:a + self.chunk_size]
                  for a in range(0, values.shape[0], self.chunk_size)]
        if self.dask is not None:
            results = self.dask.map(chunks)
        else:
            results = [compute_chunk(self.base, self.prob.params, c, evaluate=True)
                       for c in chunks]
        out = []
        for c, res in zip(chunks, results):
            scal = {k: np.asarray(a, dtype=float) for k, a in res.items()
                    if np.ndim(a) == 1 and not k.startswith(("consumer__", "generator__"))}
            for j in range(c.shape[0]):
                row = {k: float(a[j]) for k, a in scal.items()}
                row.update(self._derived(c[j], row))
                out.append(row)
        return out

    def _derived(self, values: np.ndarray, row: dict[str, float]) -> dict[str, float]:
        ann = self.capital(values) + row.get("opex_jpy_per_year", math.nan)
        gen = row.get("generation_kwh", math.nan)
        return {"annualised_cost_jpy": ann,
                "net_annualised_cost_jpy": ann - row.get("benefit_jpy_per_year", math.nan),
                "spill_share": row.get("spilled_kwh", math.nan) / gen if gen > 0 else math.nan}


class _DaskMap:
    """Chunks of candidates on a Dask cluster (the profiles are sent once)."""

    def __init__(self, address: str, base: Base, params: list[Param]):
        from distributed import Client, LocalCluster

        self.cluster = None
        if address == "local":
            self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client, self.threads = Client(self.cluster), 1
        else:
            try:
                self.client = Client(address, timeout="20s")
            except OSError as exc:
                raise InputError(f"cannot reach the Dask scheduler at {address!r}: {exc}",
                                 field="--dask") from None
            self.threads = None
        self.base_f = self.client.scatter(base, broadcast=True)
        self.params_f = self.client.scatter(params, broadcast=True)

    def map(self, chunks: list[np.ndarray]) -> list[dict]:
        futs = [self.client.submit(compute_chunk, self.base_f, self.params_f, c, evaluate=True,
                                   threads=self.threads, pure=False, retries=2)
                for c in chunks]
        return self.client.gather(futs)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# -- the search -----------------------------------------------------------------

@dataclass
class Solve:
    """One differential-evolution run.

    Attributes
    ----------
    values : ndarray (P,), best candidate in target units
    figures : dict, its figures
    feasible : bool
    violation : float, its total relative violation (0 when feasible)
    population : ndarray (S, P), final population in the optimiser's space
    history : DataFrame, per generation: ``generation``, ``evaluations``,
        ``best_objective`` (best feasible so far, NaN before any),
        ``best_violation`` (smallest violation so far), ``feasible_share``
    evaluations : int
    generations : int
    seconds : float
    message : str, scipy's
    stop : str, why the search ended: ``"tol"`` (scipy's convergence test:
        the population's energies within ``tol`` of their mean), ``"stall"``
        (the best feasible objective improved by no more than ``stall_tol``
        over ``stall_generations`` generations) or ``"generations"`` (the
        budget ran out: not converged)
    """

    values: np.ndarray
    figures: dict[str, float]
    feasible: bool
    violation: float
    population: np.ndarray
    history: pd.DataFrame
    evaluations: int
    generations: int
    seconds: float
    message: str
    stop: str = "generations"


def _energy(prob: Problem, constraints: list[Constraint], figs: dict) -> tuple:
    """(energy, objective, violation) arrays: Deb's ranking as one number."""
    obj = figs[prob.objective]
    signed = obj if prob.sense == "min" else -obj
    viol = np.zeros_like(obj)
    for c in constraints:
        viol = viol + c.violation(figs)
    finite = np.where(np.isfinite(signed), signed, _INFEASIBLE / 10)
    energy = np.where(viol > 0, _INFEASIBLE * (1.0 + viol), finite)
    return energy, obj, viol


def _de_kwargs(seed: int) -> dict:
    from scipy.optimize import differential_evolution

    # scipy >= 1.15 names the generator ``rng``; older releases ``seed``
    sig = inspect.signature(differential_evolution).parameters
    return {"rng": seed} if "rng" in sig else {"seed": seed}


def stalled(best: list[float], generations: int, tol: float) -> bool:
    """Whether the best feasible objective moved by no more than ``tol`` (relative)
    over the last ``generations`` generations (``best``: one value per
    generation, NaN before the first feasible candidate; 0 generations: never)."""
    if generations <= 0 or len(best) <= generations:
        return False
    new, old = best[-1], best[-1 - generations]
    if not (math.isfinite(new) and math.isfinite(old)):
        return False
    return abs(old - new) <= tol * max(abs(old), 1e-300)


def solve(prob: Problem, ev: Evaluator, *, constraints: list[Constraint] | None = None,
          init: np.ndarray | None = None, generations: int | None = None,
          stage: str = "optimum") -> Solve:
    """Run differential evolution on ``prob`` (see the module docstring).

    Parameters
    ----------
    prob : Problem
    ev : Evaluator
    constraints : list of Constraint, optional
        Instead of ``prob.constraints`` (the marginal re-solves).
    init : ndarray (S, P), optional
        Initial population in the optimiser's space (warm start).
    generations : int, optional
        Instead of ``[optimize] generations``.
    stage : str
        Label of the candidates in the log.
    """
    from scipy.optimize import differential_evolution

    spec = prob.spec
    constraints = prob.constraints if constraints is None else constraints
    bounds = [v.de_bounds() for v in prob.variables]
    integrality = np.array([v.step is not None for v in prob.variables])
    hist: list[dict] = []
    best = {"energy": math.inf, "values": None, "figs": None, "viol": math.inf,
            "obj": math.nan, "n": 0}

    def func(z):  # z (P, S): one generation per call
        z = np.atleast_2d(z)
        vals = np.stack([v.value(z[j]) for j, v in enumerate(prob.variables)], axis=1)
        figs = ev.figures(vals, stage=stage)
        energy, obj, viol = _energy(prob, constraints, figs)
        k = int(np.argmin(energy))
        best["n"] += len(energy)
        if energy[k] < best["energy"]:
            best.update(energy=float(energy[k]), values=vals[k].copy(), viol=float(viol[k]),
                        figs={n: float(a[k]) for n, a in figs.items()})
            if viol[k] == 0:
                best["obj"] = float(obj[k])
        hist.append({"generation": len(hist), "evaluations": best["n"],
                     "best_objective": best["obj"], "best_violation": best["viol"],
                     "feasible_share": float(np.mean(viol == 0))})
        return energy

    def callback(xk, convergence=None):  # after each generation; True stops
        return stalled([h["best_objective"] for h in hist], spec.stall_generations,
                       spec.stall_tol)

    t0 = time.perf_counter()
    if init is not None:
        lo, hi = np.array(bounds, dtype=float).T
        init = np.clip(np.asarray(init, dtype=float), lo, hi)
    res = differential_evolution(
        func, bounds, maxiter=generations or spec.generations, popsize=spec.popsize,
        tol=spec.tol, polish=False, vectorized=True, updating="deferred",
        integrality=integrality if integrality.any() else None,
        init="latinhypercube" if init is None else init, callback=callback,
        **_de_kwargs(spec.seed))
    seconds = time.perf_counter() - t0
    stop = ("stall" if "callback" in str(res.message) else
            "tol" if res.success else "generations")
    return Solve(values=best["values"], figures=best["figs"], feasible=best["viol"] == 0,
                 violation=best["viol"], population=np.asarray(res.population),
                 history=pd.DataFrame(hist), evaluations=best["n"],
                 generations=int(res.nit), seconds=seconds, message=str(res.message),
                 stop=stop)


# -- the whole study -----------------------------------------------------------

@dataclass
class OptimizeResult:
    """Outcome of :func:`optimize`.

    Attributes
    ----------
    x : dict, variable name -> value at the optimum (target units)
    figures : dict, every figure at the optimum (the sweep's, the evaluation's
        and :data:`DERIVED`)
    objective : str, the figure optimised; sense : str
    objective_value : float
    feasible : bool, False: ``x`` is the closest candidate found
    unmet : list of str, constraints the returned candidate does not meet
    constraints : DataFrame, one row per constraint: ``figure, op, target,
        value, slack, met, binding``
    marginal : DataFrame, one row per numeric constraint: ``point`` (one point
        of the target), ``objective_down`` / ``objective_up`` (re-solved with
        the target one point lower / higher), ``per_point`` (change of the
        objective per point raised), ``resolved``
    on_bound : list of str, warnings for variables at a bound
    candidates : DataFrame, every candidate evaluated (one row each, as a
        sweep's ``cases.csv``, with ``stage`` and ``call``)
    history : DataFrame, convergence of the main run (:class:`Solve`)
    scenario : Scenario, the scenario with the optimum set
    variables : list of Variable
    seconds, evaluations, generations, message : run statistics (``seconds``:
        the whole study, profiles included)
    stop : str, why the main search ended (:class:`Solve`)
    search_seconds : float, the main search alone [s]
    simulations : int, distinct candidates simulated (all stages; repeats
        come from the cache)
    simulation_seconds : float, time spent simulating and evaluating them [s]
    """

    x: dict[str, float]
    figures: dict[str, float]
    objective: str
    sense: str
    objective_value: float
    feasible: bool
    unmet: list[str]
    constraints: pd.DataFrame
    marginal: pd.DataFrame
    on_bound: list[str]
    candidates: pd.DataFrame
    history: pd.DataFrame
    scenario: Scenario
    variables: list[Variable]
    seconds: float
    evaluations: int
    generations: int
    message: str
    stop: str = "generations"
    search_seconds: float = math.nan
    simulations: int = 0
    simulation_seconds: float = math.nan
    notes: list[str] = field(default_factory=list)

    def infeasible_message(self) -> str:
        """One line: which constraints could not be met and the closest candidate."""
        xs = ", ".join(f"{k} = {v:,.6g}" for k, v in self.x.items())
        got = "; ".join(f"{c} (closest: {self.figures.get(_figure_of(c), math.nan):.4g})"
                        for c in self.unmet)
        return (f"no candidate meets every constraint after {self.evaluations} "
                f"evaluations; not met: {got}; closest candidate: {xs}")


def _figure_of(text: str) -> str:
    return _SWEEP_CONSTRAINT.match(text).group(1)


def constraint_table(prob: Problem, figs: dict[str, float]) -> pd.DataFrame:
    """Each constraint at a candidate: value, slack, met and whether it binds."""
    units = known_figures()
    rows = []
    for c in prob.constraints:
        v = figs.get(c.figure, math.nan)
        met = bool(c.violation({k: np.array([x]) for k, x in figs.items()})[0] == 0)
        slack = c.slack(v)
        if c.is_bool:
            measure = BOOL_MEASURES.get(c.figure)
            m = figs.get(measure, math.nan) if measure else math.nan
            binding = bool(met and measure and m - 1.0 <= 0.01)
        else:  # within one point of its target (the step of the marginal re-solves)
            binding = bool(met and slack <= c.point(units.get(c.figure, "")))
        rows.append({"constraint": c.text, "figure": c.figure, "op": c.op,
                     "target": c.value, "value": v, "unit": units.get(c.figure, ""),
                     "slack": slack, "met": met, "binding": binding})
    return pd.DataFrame(rows, columns=["constraint", "figure", "op", "target", "value",
                                       "unit", "slack", "met", "binding"])


def bound_warnings(prob: Problem, x: dict[str, float]) -> list[str]:
    """A warning for each variable at (within ``bound_tol`` of) a bound.

    A lower bound of 0 is the physical limit (the plant is not built) and
    is not warned about; any other bound is the modeller's, and an optimum
    on it may be cut off by it.
    """
    out = []
    for v in prob.variables:
        width = v.upper - v.lower
        tol = max(prob.spec.bound_tol * width, v.step or 0.0, 1e-12) if width > 0 else 0.0
        val = x[v.name]
        if val >= v.upper - tol if v.step is None else val + v.step > v.upper + 1e-9:
            out.append(f"{v.name} = {val:,.6g} sits on its upper bound {v.upper:,.6g} "
                       f"({v.param.target}): the optimum may lie beyond; widen the bound")
        elif v.lower != 0 and (val <= v.lower + tol if v.step is None
                               else val - v.step < v.lower - 1e-9):
            out.append(f"{v.name} = {val:,.6g} sits on its lower bound {v.lower:,.6g} "
                       f"({v.param.target}): the optimum may lie below; widen the bound")
    return out


def marginal_costs(prob: Problem, ev: Evaluator, main: Solve,
                   table: pd.DataFrame) -> pd.DataFrame:
    """The objective re-solved at each numeric target ±1 point (warm-started).

    A constraint whose slack exceeds one point keeps the optimum feasible and
    optimal when moved by a point either way: its marginal cost is 0 without a
    re-solve.
    """
    units = known_figures()
    rows = []
    for i, c in enumerate(prob.constraints):
        if c.is_bool or c.op in ("==", "!="):
            continue
        point = c.point(units.get(c.figure, ""))
        slack = table["slack"].iloc[i]
        row = {"constraint": c.text, "figure": c.figure, "target": float(c.value),
               "point": point, "objective_down": main.figures[prob.objective],
               "objective_up": main.figures[prob.objective], "per_point": 0.0,
               "resolved": False, "feasible_down": True, "feasible_up": True}
        if main.feasible and prob.spec.marginal and not (slack > point):
            for side, d in (("down", -point), ("up", point)):
                cons = [k.shifted(d) if j == i else k for j, k in enumerate(prob.constraints)]
                s = solve(prob, ev, constraints=cons, init=main.population,
                          generations=prob.spec.marginal_generations,
                          stage=f"marginal {c.figure} {side}")
                if s.feasible:
                    # the original optimum stays feasible when the target relaxes
                    obj = s.figures[prob.objective]
                    ok = main.feasible and _energy(prob, cons, {
                        k: np.array([v]) for k, v in main.figures.items()})[2][0] == 0
                    if ok:
                        better = obj < main.figures[prob.objective] if prob.sense == "min" \
                            else obj > main.figures[prob.objective]
                        obj = obj if better else main.figures[prob.objective]
                else:
                    obj = math.nan
                row[f"objective_{side}"] = obj
                row[f"feasible_{side}"] = s.feasible
            row["per_point"] = (row["objective_up"] - row["objective_down"]) / 2
            row["resolved"] = True
        rows.append(row)
    return pd.DataFrame(rows, columns=["constraint", "figure", "target", "point",
                                       "objective_down", "objective_up", "per_point",
                                       "resolved", "feasible_down", "feasible_up"])


def optimize(scenario: Scenario | str | Path, *, weather: pd.DataFrame | None = None,
             dask: str | None = None, chunk_size: int | None = None,
             marginal: bool | None = None, **spec_overrides) -> OptimizeResult:
    """The least-cost mix of ``scenario.optimize`` (``sim.optimize``).

    Parameters
    ----------
    scenario : Scenario, or a path to a scenario file
        With an ``[optimize]`` section.
    weather : pandas.DataFrame, optional
        Hourly weather instead of the scenario's source.
    dask : str, optional
        A Dask scheduler address or ``"local"``: each generation's chunks of
        candidates run on the cluster.
    chunk_size : int, optional
        Candidates per compiled call (default: by memory, up to 256).
    marginal : bool, optional
        Override ``[optimize] marginal``.
    **spec_overrides
        Other fields of ``[optimize]`` (``seed``, ``generations``, …).

    Returns
    -------
    OptimizeResult

    Raises
    ------
    sim.InputError
        A bad ``[optimize]`` section (one line). An infeasible problem is not
        an error here: ``feasible`` is False and ``unmet`` names the
        constraints; ``gxsim optimize`` turns it into one line.
    """
    if not isinstance(scenario, Scenario):
        from sim.inputs.scenario import load_scenario

        scenario = load_scenario(scenario)
    spec = scenario.optimize
    if marginal is not None:
        spec_overrides["marginal"] = marginal
    if spec_overrides:
        unknown = sorted(set(spec_overrides) - set(OptimizeSpec.model_fields))
        if unknown:
            raise InputError(f"unknown [optimize] field(s) {unknown}", field="optimize")
        try:
            spec = validate(OptimizeSpec, {**spec.model_dump(), **spec_overrides})
        except InputError as exc:
            raise InputError(exc.reason, source=scenario.path,
                             field=f"optimize.{exc.field}" if exc.field else "optimize") from None
    prob = problem(scenario, spec)
    t0 = time.perf_counter()
    inputs = build_inputs(scenario, weather=weather)
    base = Base.build(scenario, inputs)
    ev = Evaluator(prob, base, chunk_size=chunk_size, dask=dask)
    try:
        main = solve(prob, ev)
        table = constraint_table(prob, main.figures)
        marg = marginal_costs(prob, ev, main, table)
    finally:
        ev.close()
    x = {v.name: float(val) for v, val in zip(prob.variables, main.values)}
    unmet = [c for c, ok in zip(table["constraint"], table["met"]) if not ok]
    return OptimizeResult(
        x=x, figures=main.figures, objective=prob.objective, sense=prob.sense,
        objective_value=main.figures[prob.objective], feasible=main.feasible, unmet=unmet,
        constraints=table, marginal=marg, on_bound=bound_warnings(prob, x),
        candidates=_candidates(ev), history=main.history,
        scenario=apply_case(scenario, prob.params, main.values), variables=prob.variables,
        seconds=time.perf_counter() - t0, evaluations=main.evaluations,
        generations=main.generations, message=main.message, stop=main.stop,
        search_seconds=main.seconds, simulations=len(ev.cache),
        simulation_seconds=ev.compute_seconds, notes=list(base.notes))


def _candidates(ev: Evaluator) -> pd.DataFrame:
    df = pd.DataFrame(ev.rows)
    df.insert(0, "case", np.arange(len(df)))
    return df
