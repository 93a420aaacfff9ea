"""``gxsim optimize``: the least-cost equipment mix that meets the targets."""

from __future__ import annotations

from pathlib import Path

from sim.cli import add_output_options
from sim.errors import InputError
from sim.inputs.scenario import load_scenario
from sim.io import check_output_target
from sim.report.optimize import summary_text, write_outputs
from sim.studies.optimize import optimize


def configure_parser(parser) -> None:
    """Arguments of ``gxsim optimize``."""
    parser.add_argument("scenario", help="scenario file (TOML) with an [optimize] section")
    add_output_options(parser, "results/<scenario name>-optimize")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (default: [optimize] seed)")
    parser.add_argument("--generations", type=int, default=None,
                        help="maximum generations (default: [optimize] generations)")
    parser.add_argument("--no-marginal", action="store_true",
                        help="skip the re-solves at each target ±1 point")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="run candidates on a Dask scheduler (tcp://host:8786) or 'local'")


def command(args) -> int:
    """Optimise, write the outputs, print the summary.

    An infeasible problem writes its outputs (status ``infeasible``, the
    closest candidate) and ends with one line naming the constraints not met
    (exit status 2).
    """
    out = Path(args.output or Path("results") / f"{Path(args.scenario).stem}-optimize")
    check_output_target(out, overwrite=args.overwrite)  # refused before any work
    scenario = load_scenario(args.scenario)
    if not scenario.optimize.variables:
        raise InputError("no [optimize] section with variables", source=args.scenario,
                         field="optimize")
    over = {}
    for name in ("seed", "generations"):
        value = getattr(args, name)
        if value is not None:
            if value < (0 if name == "seed" else 1):
                raise InputError(f"expected {name} >= {0 if name == 'seed' else 1}, "
                                 f"got {value}", field=f"--{name}")
            over[name] = value
    result = optimize(scenario, dask=args.dask,
                      marginal=False if args.no_marginal else None, **over)
    files = write_outputs(result, out, overwrite=args.overwrite)
    print(summary_text(result))
    print(f"Wrote {', '.join(files)} to {out}/")
    if not result.feasible:
        raise InputError(result.infeasible_message() + f" (see {out}/optimum.json)",
                         source=args.scenario, field="optimize.constraints")
    return 0
